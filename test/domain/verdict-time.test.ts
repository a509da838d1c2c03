/**
 * `plan explain --rps`: the predicted time to a verdict per judged gate and bake step — the numbers a
 * person plans a bake with — checked against seeded simulated bakes through the real judge, and the
 * warning for a bake too short to decide.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { judgeLook, parseJudgeSettings, startJudge } from '../../domain/judge/index.js';
import { parsePlan } from '../../domain/plan.js';
import { InvalidPredictionInput, judgedStepsOf, judgeSettingsOf, latencyVerdictNotes, predictVerdictTimes, type JudgedStep } from '../../domain/verdict-time.js';
import { aPlanDocument } from '../support/builders.js';
import { binomial, seeded } from '../support/judge-streams.js';

const MIN = 60_000;
const canary10: JudgedStep = { index: 3, title: 'canary 10%', kind: 'canary', percent: 10, bakeMs: 15 * MIN };
const one = parseJudgeSettings({ gates: [{ name: '5xx', tolerance: '1.5x' }] });

/** The minute at which the real judge first fails (or passes) on seeded per-minute counts; null within `minutes`. */
function simulatedMinute(seed: number, which: 'fail' | 'pass', rates: { candidate: number; baseline: number }, p: { candidate: number; baseline: number }, minutes: number): number | null {
  const rng = seeded(seed);
  let state = startJudge(one);
  for (let m = 1; m <= minutes; m++) {
    const nC = Math.round(rates.candidate * 60);
    const nB = Math.round(rates.baseline * 60);
    const look = judgeLook(one, state, { '5xx': { kind: 'window', candidateRequests: nC, candidateEvents: binomial(rng, nC, p.candidate), baselineRequests: nB, baselineEvents: binomial(rng, nB, p.baseline) } });
    state = look.state;
    if (look.judgement.status === which) return m;
  }
  return null;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('time to a verdict', () => {
  test('a 10% canary at 50 req/s, 1% baseline errors: a 3× candidate fails at ~5m, an equal one passes early at ~29m', () => {
    const p = predictVerdictTimes(one, [canary10], { rps: 50, intervalMs: MIN, baselineRate: 0.01 });
    const r = p.rows[0]!;
    assert.deepEqual([r.candidateRps, r.baselineRps], [5, 45]);
    assert.equal(r.failRatio, 3, 'twice the tolerance 1.5×');
    assert.equal(r.timeToFailMs, 5 * MIN);
    assert.equal(r.timeToPassMs, 29 * MIN);
    assert.equal(r.tooShort, false);
    assert.deepEqual(p.warnings, []);
    assert.match(p.text, /4\. canary 10%: candidate 5 req\/s, baseline 45 req\/s, bake 15m\n {7}5xx {2}3\.00× the baseline's rate: fail ~5m · no difference: pass ~29m \(longer than the bake: bakes in full\)/);
    assert.match(p.text, /a plug-in, not a simulation/, 'says how it was computed');
  });

  test('the prediction is near the median of 200 seeded bakes through the real judge (fail and early pass)', () => {
    const rates = { candidate: 5, baseline: 45 };
    const fails = Array.from({ length: 200 }, (_, s) => simulatedMinute(1000 + s, 'fail', rates, { candidate: 0.03, baseline: 0.01 }, 120));
    const passes = Array.from({ length: 200 }, (_, s) => simulatedMinute(5000 + s, 'pass', rates, { candidate: 0.01, baseline: 0.01 }, 240));
    assert.ok(fails.every((m) => m !== null) && passes.every((m) => m !== null));
    const failMedian = median(fails as number[]);
    const passMedian = median(passes as number[]);
    // Measured (seeds 1000… and 5000…): to fail median 5m (quartiles 3m, 7m; 58% by the predicted 5m);
    // to pass early median 25m (quartiles 16m, 35m; 62% by the predicted 29m).
    assert.ok(Math.abs(failMedian - 5) <= 1, `simulated median to fail ${failMedian}m vs predicted 5m`);
    assert.ok(Math.abs(passMedian - 29) <= 4, `simulated median to pass ${passMedian}m vs predicted 29m`);
  });

  test('a bake too short to decide at the given rate is warned about with the time it would need', () => {
    const mirror: JudgedStep = { index: 0, title: 'mirror 20%', kind: 'mirror', percent: 20, bakeMs: 5 * MIN };
    const two = parseJudgeSettings({ gates: [{ name: '5xx', tolerance: 1 }, { name: 'latency p99', tolerance: '1.2x' }] });
    const p = predictVerdictTimes(two, [mirror], { rps: 1, intervalMs: MIN, baselineRate: 0.01 });
    const r = p.rows.find((x) => x.gate === '5xx')!;
    assert.deepEqual([r.candidateRps, r.baselineRps], [0.2, 1], 'a mirror copies 20% of all traffic to the candidate; the baseline serves all of it');
    assert.equal(r.failRatio, 2);
    assert.ok(r.timeToFailMs! > 3 * 3600_000 && r.timeToFailMs! < 3.5 * 3600_000, `${r.timeToFailMs}`);
    assert.equal(p.warnings[0], 'step 1 (mirror 20%): bake 5m at 0.2 req/s to the candidate: a 2.00× rise in 5xx needs ~3h 17m to detect');
    assert.match(r.passNote ?? '', /never passes early: a candidate equal to the baseline sits at the pass tolerance 1×/);
  });

  test('an additive tolerance is judged even when the baseline never errs: silence counts', () => {
    const additive = parseJudgeSettings({ gates: [{ name: 'timeouts', tolerance: '+0.1%' }] });
    const p = predictVerdictTimes(additive, [canary10], { rps: 50, intervalMs: MIN, baselineRate: 0 });
    const r = p.rows[0]!;
    assert.equal(r.failRate, 0.002, 'twice the +0.1% boundary');
    assert.ok(r.timeToFailMs !== null && r.timeToPassMs !== null, 'both verdicts can come');
    assert.match(p.text, /timeouts {2}rate 0\.2% \(baseline 0%\): fail ~\d/);
  });

  test('half the traffic takes about twice as long', () => {
    const at = (rps: number) => predictVerdictTimes(one, [{ ...canary10, bakeMs: 60 * MIN }], { rps, intervalMs: 10_000, baselineRate: 0.01 }).rows[0]!.timeToFailMs!;
    const ratio = at(25) / at(50);
    assert.ok(ratio > 1.8 && ratio < 2.2, `${ratio}`);
  });

  test('a rate that is not a positive number, or a baseline rate outside [0, 1), is refused with the value', () => {
    for (const rps of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => predictVerdictTimes(one, [canary10], { rps, intervalMs: MIN, baselineRate: 0.01 }), (e: Error) => e instanceof InvalidPredictionInput && e.message.includes(`got ${String(rps)}`));
    }
    assert.throws(() => predictVerdictTimes(one, [canary10], { rps: 5, intervalMs: MIN, baselineRate: 1.5 }), /baseline rate of '5xx' must be a fraction in \[0, 1\) \(got 1.5\)/);
  });

  test('judgeSettingsOf: a plan without tolerances judges nothing; gates with a tolerance are judged under their names', () => {
    const parsed = parsePlan(aPlanDocument());
    assert.ok(parsed.ok);
    assert.equal(judgeSettingsOf(parsed.plan), null);
    assert.deepEqual(judgedStepsOf(parsed.plan).map((s) => [s.index, s.title, s.bakeMs]), [[0, 'mirror 20%', 30 * MIN], [3, 'canary 10%', 15 * MIN], [4, 'canary 50%', 30 * MIN]]);
    // A plan with tolerances, parsed: judged under the workflow's gate names; latency gates without logs are left to latencyVerdictNotes.
    const doc = aPlanDocument() as Record<string, unknown>;
    const judged = parsePlan({ ...doc, gates: { errorRate: { max: 0.01, tolerance: '1.5x' }, latencyP99Ms: { tolerance: 1.2 } }, analysis: { falseAlarmBudget: 0.05 } });
    assert.ok(judged.ok, JSON.stringify(!judged.ok && judged.issues));
    const s = judgeSettingsOf(judged.plan);
    assert.deepEqual(s?.gates.map((g) => [g.name, g.tolerance.ratio]), [['5xx', 1.5]]);
    assert.equal(s?.gateCount, 2, 'the fail threshold counts the latency gate too');
    assert.match(latencyVerdictNotes(judged.plan).join('\n'), /latency p99: judged interval by interval .* at least \d+ analyses/);
    assert.equal(s?.falseAlarmBudget, 0.05);
  });
});
