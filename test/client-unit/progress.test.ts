/**
 * What people see while a rollout runs: one progress line with the step, traffic, last verdict with its
 * numbers, time left in the bake and who is awaited; and the multi-line `rollout status`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatProgress, formatStatus, progressKey } from '../../client/progress.js';
import { parsePlan } from '../../domain/plan.js';
import { aPlanDocument } from '../support/builders.js';
import { statusFor } from './fake-gateway.js';
import { judgedVerdicts } from '../support/judged-verdicts.js';
import { aVerdict } from './result-builder.js';

const parsed = parsePlan(aPlanDocument());
const plan = parsed.ok ? parsed.plan : (undefined as never);
const NOW = Date.parse('2026-11-25T08:10:00.000Z');

describe('progress', () => {
  test('a baking canary shows step, traffic, the last verdict with numbers and the time left in the bake', () => {
    const s = statusFor(plan, 'ci@contoso.com', {
      stage: 'canary',
      stepIndex: 3,
      stepText: 'canary 10%',
      traffic: { live: { blue: 90, green: 10 }, mirror: {} },
      lastVerdicts: [aVerdict(3, 1, [98, 0.002], [120, 0.004])],
      events: [{ at: '2026-11-25T08:05:00.000Z', kind: 'traffic', text: 'blue 90% | green 10% | mirror 0%', stepIndex: 3 }],
    });
    // canary 10% bakes 15m from 08:05:00 → 10m left at 08:10:00.
    assert.equal(
      formatProgress(s, plan, NOW),
      '08:10:00 canary 10% (step 4/7) · blue 90% | green 10% | mirror 0% · last analysis pass: all gates pass · bake ~10m left',
    );
  });

  test('an awaited approval names who may approve and until when; a pause says who paused and why', () => {
    const s = statusFor(plan, 'ci@contoso.com', {
      stage: 'approval',
      stepIndex: 2,
      stepText: 'approval',
      pendingApproval: { stepIndex: 2, stepText: 'approval', requestedAt: '2026-11-25T08:02:00.000Z', timeoutAt: '2026-11-26T08:02:00.000Z', onTimeout: 'rollback', approvers: ['alice@contoso.com', 'slack:U024BE7LH'] },
      paused: { reason: 'change freeze', by: 'ops@contoso.com', at: '2026-11-25T08:03:00.000Z' },
    });
    const line = formatProgress(s, plan, NOW);
    assert.match(line, /awaiting approval of step 3 \(approval\) from alice@contoso.com or slack:U024BE7LH until 2026-11-26T08:02:00.000Z \(then rollback\)/);
    assert.match(line, /PAUSED by ops@contoso.com: change freeze/);
    const text = formatStatus(s, plan, NOW);
    assert.match(text, /approval {3}awaited for step 3 \(approval\) from alice@contoso.com or slack:U024BE7LH/);
    assert.match(text, /approve: glidepath rollout approve glidepath-rollout:\S+ --step 3 --as <who>/, 'the command that approves it');
    assert.match(text, /▶ 3\. approval/);
  });

  test('the progress key changes only when something a person would see changes', () => {
    const a = statusFor(plan, 'ci@contoso.com', { stage: 'mirror', stepIndex: 0, stepText: 'mirror 20%' });
    assert.equal(progressKey(a), progressKey(structuredClone(a)));
    assert.notEqual(progressKey(a), progressKey({ ...a, lastVerdicts: [aVerdict(0, 1, [1, 0], [1, 0])] }));
  });
  describe('judged gates', () => {
    const settings = { gates: [{ name: '5xx', tolerance: '1.5x' }, { name: 'latency p99', tolerance: '1.2x' }] };
    // A 10% canary, 1 min analyses: 300 requests to the candidate and 2,700 to the baseline each minute; 5xx 0.5% on both sides.
    const healthy = judgedVerdicts(settings, [
      { stepIndex: 3, analyses: 3, candidateRequests: 300, baselineRequests: 2700, rates: { '5xx': { baseline: 0.005, candidate: 0.005 }, 'latency p99': { baseline: 0.01, candidate: 0.01 } } },
    ], { seed: 11, startIso: '2026-11-25T08:05:00.000Z', intervalMs: 60_000 });
    const canary = (lastVerdicts: typeof healthy) =>
      statusFor(plan, 'ci@contoso.com', {
        stage: 'canary',
        stepIndex: 3,
        stepText: 'canary 10%',
        traffic: { live: { blue: 90, green: 10 }, mirror: {} },
        lastVerdicts,
        events: [{ at: '2026-11-25T08:05:00.000Z', kind: 'traffic', text: 'blue 90% | green 10% | mirror 0%', stepIndex: 3 }],
      });

    test('status prints one evidence line per judged gate of the step’s latest analysis, with counts, evidence against its threshold and the detectable effect', () => {
      const last = healthy[healthy.length - 1]!;
      const [fivexx, p99] = last.judgement!.gates;
      const text = formatStatus(canary(healthy), plan, NOW);
      const lines = text.split('\n');
      const at = lines.findIndex((l) => l.startsWith('  evidence   '));
      assert.ok(at > 0, text);
      assert.equal(lines[at - 1], '  analysis   inconclusive (undecided), analysis 3', 'the head names the status and the analysis, not the long reasons');
      // Totals over 3 analyses: 900 candidate and 8,100 baseline requests; two gates at α 0.01 → 200 to fail, 100 to pass.
      assert.match(lines[at]!, new RegExp(`^  evidence   5xx {10}candidate ${fivexx!.totals.candidateEvents}/900 vs baseline ${fivexx!.totals.baselineEvents}/8,100 · evidence \\S+ of 200 to fail, \\S+ of 100 to pass · could detect ≥ \\d+\\.\\d\\d×$`));
      assert.match(lines[at + 1]!, new RegExp(`^ {13}latency p99  candidate ${p99!.totals.candidateEvents}/900 vs baseline ${p99!.totals.baselineEvents}/8,100 · evidence `));
      assert.ok(!text.includes('ratio'), 'the long reasons are not repeated');
    });

    test('watch prints the progress line and then the judged gates, one a line; a failed gate says what it showed', () => {
      const bad = judgedVerdicts(settings, [
        { stepIndex: 3, analyses: 10, candidateRequests: 300, baselineRequests: 2700, rates: { '5xx': { baseline: 0.005, candidate: 0.04 }, 'latency p99': { baseline: 0.01, candidate: 0.01 } } },
      ], { seed: 3, startIso: '2026-11-25T08:05:00.000Z', intervalMs: 60_000 });
      const last = bad[bad.length - 1]!;
      assert.equal(last.status, 'fail', 'an 8× error rate fails within 10 analyses');
      const out = formatProgress(canary(bad), plan, NOW).split('\n');
      assert.equal(out.length, 3);
      assert.match(out[0]!, /^08:10:00 canary 10% \(step 4\/7\) · blue 90% \| green 10% \| mirror 0% · last analysis fail, analysis \d+ · bake ~10m left$/);
      assert.match(out[1]!, /^ {11}5xx {10}candidate \d+\/[\d,]+ vs baseline \d+\/[\d,]+ · evidence \S+ ≥ 200: worse than 1\.5×$/);
      assert.match(out[2]!, /^ {11}latency p99 {2}candidate /);
    });

    test('a gate name cannot move the terminal: control characters are dropped from the evidence lines', () => {
      const evil = judgedVerdicts({ gates: [{ name: '5xx\u001b[2J\nfake', tolerance: 2 }] }, [
        { stepIndex: 3, analyses: 1, candidateRequests: 300, baselineRequests: 2700, rates: { '5xx\u001b[2J\nfake': { baseline: 0.005, candidate: 0.005 } } },
      ], { seed: 1, startIso: '2026-11-25T08:05:00.000Z', intervalMs: 60_000 });
      const text = formatStatus(canary(evil), plan, NOW) + formatProgress(canary(evil), plan, NOW);
      assert.ok(!text.includes('\u001b'), 'no escape sequence');
      assert.ok(!/\nfake/.test(text), 'no line break from the name');
    });

    test('when a guardrail fails while the judge is undecided, the head says the guardrail decided, quoting it', () => {
      const last = healthy[healthy.length - 1]!;
      const guarded = {
        ...last,
        status: 'fail' as const,
        gates: [...last.gates, { gate: 'modelErrorRate', status: 'fail' as const, reason: '424 rate 4.48% > max 1%' }],
      };
      const out = formatProgress(canary([...healthy.slice(0, -1), guarded]), plan, NOW).split('\n');
      assert.match(out[0]!, / · last analysis fail \(guardrail: 424 rate 4\.48% > max 1%\), analysis 3 · /);
    });

    test('after the step moved on, the previous step’s judged verdict is one short head naming its step, not every gate’s reasons', () => {
      const next = { ...canary(healthy), stepIndex: 4, stepText: 'canary 50%' };
      const line = formatProgress(next, plan, NOW);
      assert.match(line, / · last analysis inconclusive \(undecided\), analysis 3 of step 4/);
      assert.ok(!line.includes('ratio'), line);
    });

    test('a step whose latest analysis has no judgement, or a judgement of an earlier step, prints as before', () => {
      const plain = canary([...healthy, aVerdict(3, 4, [98, 0.002], [120, 0.004])]);
      assert.equal(formatProgress(plain, plan, NOW), '08:10:00 canary 10% (step 4/7) · blue 90% | green 10% | mirror 0% · last analysis pass: all gates pass · bake ~10m left');
      assert.ok(!formatStatus(plain, plan, NOW).includes('evidence'));
      const earlier = { ...canary(healthy), stepIndex: 4, stepText: 'canary 50%' };
      assert.ok(!formatStatus(earlier, plan, NOW).includes('  evidence'), 'evidence of step 4 is not shown as step 5’s');
    });
  });
});
