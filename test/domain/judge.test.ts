import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_GRID,
  InvalidJudgeSettings,
  addWindow,
  countAboveInHistogram,
  detectableRatio,
  evidenceLine,
  exceedanceWindow,
  fmtCount,
  fmtE,
  judgeLook,
  logEValues,
  pairedExceedanceWindow,
  parseJudgeSettings,
  quantileThreshold,
  quantileThresholdFromHistogram,
  startCountTest,
  startJudge,
  type CountWindow,
  type GateObservation,
  type JudgeSettingsInput,
  type Tolerance,
} from '../../domain/judge/index.js';

const ratio = (r: number): Tolerance => ({ ratio: r, additive: 0 });
const counts = (nC: number, xC: number, nB: number, xB: number): CountWindow => ({ candidateRequests: nC, candidateEvents: xC, baselineRequests: nB, baselineEvents: xB });
const win = (nC: number, xC: number, nB: number, xB: number): GateObservation => ({ kind: 'window', ...counts(nC, xC, nB, xB) });
function eAfter(tol: Tolerance, windows: CountWindow[], pass?: Tolerance) {
  let s = startCountTest({ fail: tol, pass: pass ?? tol, grid: DEFAULT_GRID });
  for (const w of windows) s = addWindow(s, w, 0.01);
  const e = logEValues(s);
  return { fail: Math.exp(e.fail), pass: Math.exp(e.pass), state: s };
}
const close = (actual: number, expected: number, rel: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected), `${what}: ${actual} is not within ${rel * 100}% of ${expected}`);

/** A one-gate judge on the reference's 20% canary, tolerance 1.2×. */
const oneGate = (patch: Partial<JudgeSettingsInput> = {}) => parseJudgeSettings({ gates: [{ name: '5xx', tolerance: '1.2x' }], ...patch });

describe('count test: the reference vectors (sequential-analysis.md §2.3–2.5, computed independently)', () => {
  test('20% canary, 1.2×: 15/1,000 vs 20/4,000 gives E = 8.07, the same window again E = 161.7', () => {
    const w = counts(1000, 15, 4000, 20);
    close(eAfter(ratio(1.2), [w]).fail, 8.07, 0.001, 'after 5 min');
    close(eAfter(ratio(1.2), [w, w]).fail, 161.66, 0.0005, 'after 10 min');
  });

  test('the grid ignores batch order: one window of 2,000/8,000 equals two of 1,000/4,000', () => {
    const one = eAfter(ratio(1.2), [counts(2000, 30, 8000, 40)]).fail;
    const two = eAfter(ratio(1.2), [counts(1000, 15, 4000, 20), counts(1000, 15, 4000, 20)]).fail;
    close(one, two, 1e-12, 'single vs split');
  });

  test('an exposure ratio that changes between windows (θ0 = 0.643 in the second) gives E = 12.76', () => {
    close(eAfter(ratio(1.2), [counts(1000, 15, 4000, 20), counts(3000, 30, 2000, 10)]).fail, 12.76, 0.001, 'changing exposure');
  });

  test('early pass at equal rates: pass tolerance 2× reaches E = 120 after 150 events; 1.2× is still at 0.64 after 800', () => {
    close(eAfter(ratio(2), [counts(6000, 30, 24000, 120)]).pass, 120.2, 0.001, 'τ_pass = 1.0');
    close(eAfter(ratio(1.2), [counts(32000, 160, 128000, 640)]).pass, 0.643, 0.001, 'τ_pass = 0.2');
  });

  test('smallest detectable ratio for a 30-minute bake at 0.5% errors: 1.63× (10 pairs/s), 3.27× (1 pair/s), 1.92× (10 pairs/s, 1.2×)', () => {
    const mde = (n: number, r: number) => detectableRatio(eAfter(ratio(r), [counts(n, 0, n, n * 0.005)]).state, 100);
    close(mde(18000, 1)!, 1.63, 0.005, '18,000 per arm, 1×');
    close(mde(1800, 1)!, 3.27, 0.005, '1,800 per arm, 1×');
    close(mde(18000, 1.2)!, 1.92, 0.005, '18,000 per arm, 1.2×');
  });
});

describe('count test: hand-checked arithmetic', () => {
  test('one alternative by hand: r = 1.2·√20 = 5.367, θ1 = 0.5729, factor (θ1/θ0)^15·((1−θ1)/(1−θ0))^20 = 6.494', () => {
    // θ0 = 1200/5200 = 0.230769; θ1 = 5366.56/9366.56 = 0.572949; (2.48278)^15 = 839,597; (0.555146)^20 = 7.7350e-6.
    const one = startCountTest({ fail: ratio(1.2), pass: ratio(1.2), grid: { points: 2, span: 20 } });
    const s = addWindow(one, counts(1000, 15, 4000, 20), 0.01);
    close(Math.exp(s.failLog[0]!), 6.4943, 1e-4, 'alternative k=1 of 2 (r = 1.2·20^(1/2))');
  });

  test('no events on either side with a pure ratio tolerance is no evidence at all: every e-value stays 1', () => {
    const r = eAfter(ratio(1.5), [counts(5000, 0, 5000, 0), counts(5000, 0, 5000, 0)]);
    assert.equal(r.fail, 1);
    assert.equal(r.pass, 1);
  });

  test('with an additive tolerance, silence counts: 0/5,000 on both sides against +0.5% passes early', () => {
    // Each pass alternative r_k < 1 has λ = ln(r_k) and factor exp(−0.005·5,000·(r_k − 1)) = exp(25·(1 − r_k)).
    const r = eAfter({ ratio: 1, additive: 0.005 }, [counts(5000, 0, 5000, 0)]);
    assert.ok(r.pass > 1e6, `pass e-value ${r.pass}`);
    assert.ok(r.fail < 1, `fail e-value ${r.fail}`);
  });

  test('the interval narrows around the true ratio and never widens', () => {
    let s = startCountTest({ fail: ratio(1.2), pass: ratio(1.2), grid: DEFAULT_GRID });
    const seen: [number, number | null][] = [];
    for (let i = 0; i < 6; i++) {
      s = addWindow(s, counts(1000, 15, 4000, 20), 0.01);
      seen.push([s.lower, s.upper]);
    }
    for (let i = 1; i < seen.length; i++) {
      assert.ok(seen[i]![0] >= seen[i - 1]![0], 'lower bound never falls');
      assert.ok(seen[i]![1]! <= (seen[i - 1]![1] ?? Infinity), 'upper bound never rises');
    }
    const [lo, hi] = seen.at(-1)!;
    assert.ok(lo > 1.2 && lo < 3 && hi !== null && hi > 3 && hi < 8, `interval ${lo}–${hi} around the observed 3.0×`);
  });

  test('the state is plain JSON: a round trip through JSON gives the same next state', () => {
    const a = eAfter(ratio(1.5), [counts(600, 3, 2400, 12)]).state;
    const b = JSON.parse(JSON.stringify(a)) as typeof a;
    assert.deepEqual(addWindow(b, counts(600, 9, 2400, 10), 0.01), addWindow(a, counts(600, 9, 2400, 10), 0.01));
  });
});

describe('count test: every alternative is a supermartingale under its null (exact expectation, no simulation)', () => {
  /** Binomial pmf table for n, p. */
  const pmf = (n: number, p: number) => {
    const out: number[] = [];
    for (let k = 0; k <= n; k++) {
      let lnC = 0;
      for (let i = 1; i <= k; i++) lnC += Math.log((n - k + i) / i);
      out.push(Math.exp(lnC + (k ? k * Math.log(p) : 0) + (n - k ? (n - k) * Math.log1p(-p) : 0)));
    }
    return out;
  };
  /** E[factor_k] for every fail and pass alternative k, over all outcomes of one window with the given rates. */
  function expectedFactors(tol: Tolerance, nC: number, nB: number, pC: number, pB: number) {
    const fC = pmf(nC, pC);
    const fB = pmf(nB, pB);
    const fail = new Array<number>(DEFAULT_GRID.points).fill(0);
    const pass = new Array<number>(DEFAULT_GRID.points).fill(0);
    const start = startCountTest({ fail: tol, pass: tol, grid: DEFAULT_GRID });
    for (let xC = 0; xC <= nC; xC++) {
      for (let xB = 0; xB <= nB; xB++) {
        const s = addWindow(start, counts(nC, xC, nB, xB), 0.01);
        const w = fC[xC]! * fB[xB]!;
        s.failLog.forEach((l, k) => (fail[k] = fail[k]! + w * Math.exp(l)));
        s.passLog.forEach((l, k) => (pass[k] = pass[k]! + w * Math.exp(l)));
      }
    }
    return { fail: Math.max(...fail), pass: Math.max(...pass) };
  }
  // Null boundaries (the hardest case) for several tolerances, exposures and baseline rates, Bernoulli errors.
  const cases: [string, Tolerance, number, number, number][] = [
    ['1×, equal exposure, 5%', ratio(1), 20, 20, 0.05],
    ['1.5×, 1:4 exposure, 2%', ratio(1.5), 12, 48, 0.02],
    ['2×, 3:1 exposure, 30% (latency p70-like)', ratio(2), 30, 10, 0.3],
    ['+0.5%, 1:2 exposure, 1%', { ratio: 1, additive: 0.005 }, 25, 50, 0.01],
    ['1.2× + 10%, equal exposure, 20%', { ratio: 1.2, additive: 0.1 }, 20, 20, 0.2],
  ];
  for (const [what, tol, nC, nB, pB] of cases) {
    test(`${what}: at the boundary rate, E[factor] ≤ 1 for all 40 fail and all 40 pass alternatives`, () => {
      const pC = tol.ratio * pB + tol.additive;
      const e = expectedFactors(tol, nC, nB, pC, pB);
      assert.ok(e.fail <= 1 + 1e-9, `largest E[fail factor] ${e.fail}`);
      assert.ok(e.pass <= 1 + 1e-9, `largest E[pass factor] ${e.pass}`);
    });
  }

  test('the check can fail: a candidate 30% past the tolerance gives some fail alternative E[factor] > 1', () => {
    const e = expectedFactors(ratio(1.5), 12, 48, 1.5 * 1.3 * 0.02, 0.02);
    assert.ok(e.fail > 1.01, `largest E[fail factor] ${e.fail}`);
  });
});

describe('judge: verdicts with reasons', () => {
  test('the reference example fails at the second analysis, quoting counts, ratio and evidence', () => {
    const settings = oneGate();
    let state = startJudge(settings);
    const first = judgeLook(settings, state, { '5xx': win(1000, 15, 4000, 20) });
    assert.equal(first.judgement.status, 'inconclusive');
    assert.equal(first.judgement.cause, 'undecided');
    assert.match(first.judgement.reasons[0]!, /5xx: candidate 15\/1,000 \(1\.5%\) vs baseline 20\/4,000 \(0\.5%\); ratio 3\.00×.*evidence 8\.07 of 100 to fail/);
    state = first.state;
    const second = judgeLook(settings, state, { '5xx': win(1000, 15, 4000, 20) });
    assert.equal(second.judgement.status, 'fail');
    assert.match(second.judgement.reasons[0]!, /candidate 30\/2,000 \(1\.5%\) vs baseline 40\/8,000 \(0\.5%\); ratio 3\.00×, 99% interval [\d.]+×–[\d.]+×; evidence 162 ≥ 100 that the candidate's rate exceeds 1\.2× the baseline's/);
    const g = second.judgement.gates[0]!;
    close(g.toFail.eValue, 161.66, 0.0005, 'evidence as data');
    assert.equal(g.toFail.threshold, 100);
    assert.equal(g.estimate.ratio, 3);
    assert.ok(g.detectableRatio !== null && g.detectableRatio > 1.2 && g.detectableRatio < 3, `detectable ${g.detectableRatio}`);
  });

  test('two gates split the fail budget: each needs G/α = 200, so the same counts no longer fail', () => {
    const settings = parseJudgeSettings({ gates: [{ name: '5xx', tolerance: 1.2 }, { name: '424', tolerance: 1.2 }] });
    const last = judgeLook(settings, startJudge(settings), { '5xx': win(2000, 30, 8000, 40), '424': win(2000, 0, 8000, 0) });
    assert.equal(last.judgement.status, 'inconclusive');
    assert.match(last.judgement.reasons[0]!, /evidence 162 of 200 to fail/);
    assert.equal(last.judgement.gates[0]!.toFail.threshold, 200);
    assert.equal(last.judgement.gates[0]!.toPass!.threshold, 100);
  });

  test('a clearly healthy candidate passes early; the pass is sticky once reached', () => {
    const settings = parseJudgeSettings({ gates: [{ name: '5xx', tolerance: '2x' }] });
    const r = judgeLook(settings, startJudge(settings), { '5xx': win(6000, 30, 24000, 120) });
    assert.equal(r.judgement.status, 'pass');
    assert.match(r.judgement.reasons[0]!, /evidence 120 ≥ 100 that the candidate's rate is within 2× the baseline's/);
    const again = judgeLook(settings, r.state, { '5xx': win(600, 6, 2400, 12) });
    assert.equal(again.judgement.status, 'pass');
  });

  test('early pass is off when the settings say so: the same data is inconclusive', () => {
    const settings = parseJudgeSettings({ earlyPass: false, gates: [{ name: '5xx', tolerance: '2x' }] });
    const r = judgeLook(settings, startJudge(settings), { '5xx': win(6000, 30, 24000, 120) });
    assert.equal(r.judgement.status, 'inconclusive');
    assert.equal(r.judgement.gates[0]!.toPass, null);
  });

  test('a step passes early only when every gate has passed', () => {
    const settings = parseJudgeSettings({ gates: [{ name: '5xx', tolerance: '2x' }, { name: 'timeouts', tolerance: '2x' }] });
    const r = judgeLook(settings, startJudge(settings), { '5xx': win(6000, 30, 24000, 120), timeouts: win(6000, 0, 24000, 0) });
    assert.equal(r.judgement.gates[0]!.status, 'pass');
    assert.equal(r.judgement.status, 'inconclusive');
    assert.match(r.judgement.reasons.join('\n'), /timeouts: .*no events on either side: a ratio cannot be told apart yet/);
  });

  const dataProblems: [string, GateObservation | undefined, string, RegExp][] = [
    ['no observation at all', undefined, 'missing-data', /no data for this window/],
    ['the metrics source says missing', { kind: 'missing', detail: 'Azure Monitor returned no series' }, 'missing-data', /no data for this window \(Azure Monitor returned no series\)/],
    ['a partial window', { kind: 'partial', detail: '40s of 60s reported' }, 'partial-window', /not complete yet \(40s of 60s reported\); not counted/],
    ['a baseline with no traffic', win(6000, 30, 0, 0), 'no-baseline-traffic', /baseline served no requests in this window; nothing to compare with/],
    ['a candidate with no traffic', win(0, 0, 24000, 120), 'no-candidate-traffic', /candidate served no requests/],
    ['more errors than requests', win(10, 11, 24000, 120), 'invalid-data', /counts make no sense \(candidate events 11 exceed its requests 10\); not counted/],
    ['a fractional count', win(6000, 2.5, 24000, 120), 'invalid-data', /candidateEvents must be a whole number ≥ 0 \(got 2\.5\)/],
  ];
  for (const [what, obs, cause, reason] of dataProblems) {
    test(`${what} is inconclusive with the reason, not counted, and never a pass — even after evidence to pass`, () => {
      const settings = parseJudgeSettings({ gates: [{ name: '5xx', tolerance: '2x' }] });
      const alone = judgeLook(settings, startJudge(settings), { '5xx': obs });
      assert.equal(alone.judgement.status, 'inconclusive');
      assert.equal(alone.judgement.cause, cause);
      assert.match(alone.judgement.reasons[0]!, reason);
      assert.deepEqual(alone.state.gates['5xx']!.totals, startJudge(settings).gates['5xx']!.totals, 'nothing counted');
      // Evidence to pass was already there; a look without usable data still does not pass.
      const passed = judgeLook(settings, startJudge(settings), { '5xx': win(6000, 30, 24000, 120) });
      assert.equal(passed.judgement.status, 'pass');
      const after = judgeLook(settings, passed.state, { '5xx': obs });
      assert.equal(after.judgement.status, 'inconclusive');
      assert.equal(after.judgement.cause, cause);
    });
  }

  test('evidence of harm already gathered still fails when this window is missing', () => {
    const settings = oneGate();
    const failed = judgeLook(settings, startJudge(settings), { '5xx': win(2000, 30, 8000, 40) });
    assert.equal(failed.judgement.status, 'fail');
    assert.equal(judgeLook(settings, failed.state, {}).judgement.status, 'fail');
  });

  test('a state built for another tolerance is refused by name', () => {
    const state = startJudge(oneGate());
    assert.throws(() => judgeLook(parseJudgeSettings({ gates: [{ name: '5xx', tolerance: '1.5x' }] }), state, {}), /judge state of gate '5xx' was built for .*"ratio":1\.2.* but the settings now say .*"ratio":1\.5/);
    assert.throws(() => judgeLook(parseJudgeSettings({ gates: [{ name: '429', tolerance: '1.2x' }] }), state, {}), /judge state has no gate '429'/);
  });
});

describe('evidence in one line and number wording', () => {
  test('an undecided gate shows the distance to each threshold and what it could detect; decided gates say so', () => {
    const settings = oneGate();
    const first = judgeLook(settings, startJudge(settings), { '5xx': win(1000, 15, 4000, 20) });
    assert.match(evidenceLine(first.judgement.gates[0]!), /^5xx {2}candidate 15\/1,000 vs baseline 20\/4,000 · evidence 8\.07 of 100 to fail, 0\.\d\d of 100 to pass · could detect ≥ \d\.\d\d×$/);
    const second = judgeLook(settings, first.state, { '5xx': win(1000, 15, 4000, 20) });
    assert.equal(evidenceLine(second.judgement.gates[0]!), '5xx  candidate 30/2,000 vs baseline 40/8,000 · evidence 162 ≥ 100: worse than 1.2×');
    const missing = judgeLook(settings, first.state, {});
    assert.match(evidenceLine(missing.judgement.gates[0]!), / · inconclusive: missing-data$/);
  });

  test('counts get thousands separators without Intl, e-values two significant figures or an exponent', () => {
    assert.deepEqual([0, 999, 1204, 1234567].map(fmtCount), ['0', '999', '1,204', '1,234,567']);
    assert.deepEqual([0.001, 0.4, 8.0716, 12.76, 161.66, 1.25e6, Infinity].map(fmtE), ['<0.01', '0.40', '8.07', '12.8', '162', '1.3e+6', '∞']);
  });
});

describe('judge settings: bad parameters are refused with the path and the allowed range', () => {
  test('defaults: budget 0.01, early pass on, pass tolerance = tolerance', () => {
    const s = parseJudgeSettings({ gates: [{ name: '5xx', tolerance: '+0.5%' }] });
    assert.equal(s.falseAlarmBudget, 0.01);
    assert.equal(s.earlyPass, true);
    assert.deepEqual(s.gates[0], { name: '5xx', tolerance: { ratio: 1, additive: 0.005 }, passTolerance: { ratio: 1, additive: 0.005 } });
  });

  test('tolerances read as written: 1.5, "1.5x", "1.5×", "+0.5%", "1.2x + 0.1%"', () => {
    const t = (tolerance: unknown) => parseJudgeSettings({ gates: [{ name: 'g', tolerance }] }).gates[0]!.tolerance;
    assert.deepEqual(t(1.5), { ratio: 1.5, additive: 0 });
    assert.deepEqual(t('1.5x'), { ratio: 1.5, additive: 0 });
    assert.deepEqual(t('1.5×'), { ratio: 1.5, additive: 0 });
    assert.deepEqual(t('+0.5%'), { ratio: 1, additive: 0.005 });
    assert.deepEqual(t('1.2x + 0.1%'), { ratio: 1.2, additive: 0.001 });
  });

  const refused: [string, unknown, RegExp][] = [
    ['a budget of 0', { falseAlarmBudget: 0, gates: [{ name: 'g', tolerance: 1 }] }, /falseAlarmBudget: must be greater than 0 and at most 0\.5/],
    ['a budget above 0.5', { falseAlarmBudget: 0.6, gates: [{ name: 'g', tolerance: 1 }] }, /falseAlarmBudget: must be at most 0\.5/],
    ['a budget that is not a number', { falseAlarmBudget: '1%', gates: [{ name: 'g', tolerance: 1 }] }, /falseAlarmBudget: must be a number in \(0, 0\.5\]/],
    ['a tolerance below 1×', { gates: [{ name: 'g', tolerance: 0.8 }] }, /gates\[0\]\.tolerance: ratio must be at least 1× .*got 0\.8/],
    ['a tolerance in words', { gates: [{ name: 'g', tolerance: 'lenient' }] }, /gates\[0\]\.tolerance: must be a ratio like "1\.5x".*got "lenient"/],
    ['an increase of 100%', { gates: [{ name: 'g', tolerance: '+100%' }] }, /gates\[0\]\.tolerance: increase must be at least \+0% and below \+100%/],
    ['a pass tolerance above the tolerance', { gates: [{ name: 'g', tolerance: '1.2x', passTolerance: '1.5x' }] }, /gates\[0\]\.passTolerance: must be at most the tolerance 1\.2×/],
    ['no gates', { gates: [] }, /gates: must name at least one gate/],
    ['a gate named twice', { gates: [{ name: 'g', tolerance: 1 }, { name: 'g', tolerance: 2 }] }, /gates\[1\]\.name: 'g' is named twice/],
    ['an unknown key', { gates: [{ name: 'g', tolerance: 1 }], alpha: 0.05 }, /Unrecognized key/i],
  ];
  for (const [what, input, message] of refused) {
    test(`${what} is refused`, () => {
      assert.throws(() => parseJudgeSettings(input), (e: unknown) => e instanceof InvalidJudgeSettings && message.test(e.message));
    });
  }
});

describe('latency as exceedance counts', () => {
  test('a quantile threshold is the smallest sample with at least q of the samples at or below it', () => {
    assert.equal(quantileThreshold([5, 1, 3, 2, 4], 0.5), 3);
    assert.equal(quantileThreshold([5, 1, 3, 2, 4], 0.9), 5);
    assert.throws(() => quantileThreshold([], 0.5), /no baseline latencies/);
    assert.throws(() => quantileThreshold([1], 1), /quantile must be between 0 and 1/);
  });

  test('the candidate counts above threshold × slowdown tolerance, the baseline above the threshold', () => {
    assert.deepEqual(exceedanceWindow([100, 105, 111, 200], [90, 101, 150], 100, 1.1), counts(4, 2, 3, 2));
  });

  test('histogram thresholds are bin edges, and a threshold inside a bin is refused', () => {
    const bins = [
      { lowerMs: 0, upperMs: 10, count: 50 },
      { lowerMs: 10, upperMs: 20, count: 40 },
      { lowerMs: 20, upperMs: 50, count: 9 },
      { lowerMs: 50, upperMs: null, count: 1 },
    ];
    assert.equal(quantileThresholdFromHistogram(bins, 0.9), 20);
    assert.equal(countAboveInHistogram(bins, 20), 10);
    assert.throws(() => countAboveInHistogram(bins, 15), /threshold 15ms falls inside bin \(10, 20\]ms; use a bin edge/);
    assert.throws(() => quantileThresholdFromHistogram(bins, 0.995), /falls in the unbounded last bin/);
  });

  test('paired counts: only discordant pairs count — the candidate above threshold × slowdown while its baseline is not, and the reverse', () => {
    // pairs: (100,90) neither · (111,101) both · (111,90) candidate only · (105,150) baseline only · (200,80) candidate only; extra baseline request dropped
    assert.deepEqual(pairedExceedanceWindow([100, 111, 111, 105, 200], [90, 101, 90, 150, 80, 500], 100, 1.1), counts(5, 2, 5, 1));
    assert.throws(() => pairedExceedanceWindow([1], [1], 100, 0.9), /slowdown tolerance must be ≥ 1/);
    assert.throws(() => pairedExceedanceWindow([Number.NaN], [1], 100), /pair 0/);
  });
});

describe('paired exceedance counts: every alternative is a supermartingale under its null (exact expectation, no simulation)', () => {
  /**
   * E[factor_k] over all outcomes of one window of n independent pairs, where a pair is "only the candidate
   * exceeds" with probability a and "only the baseline exceeds" with probability b (trinomial), fed to a
   * gate with tolerance 1 as pairedExceedanceWindow feeds it.
   */
  function expectedFactors(n: number, a: number, b: number) {
    const start = startCountTest({ fail: ratio(1), pass: ratio(1), grid: DEFAULT_GRID });
    const fail = new Array<number>(DEFAULT_GRID.points).fill(0);
    const pass = new Array<number>(DEFAULT_GRID.points).fill(0);
    const lnFact = (k: number) => { let s = 0; for (let i = 2; i <= k; i++) s += Math.log(i); return s; };
    for (let x = 0; x <= n; x++) {
      for (let y = 0; x + y <= n; y++) {
        const rest = n - x - y;
        const lnP = lnFact(n) - lnFact(x) - lnFact(y) - lnFact(rest) + (x ? x * Math.log(a) : 0) + (y ? y * Math.log(b) : 0) + (rest ? rest * Math.log1p(-a - b) : 0);
        const w = Math.exp(lnP);
        const s = addWindow(start, counts(n, x, n, y), 0.01);
        s.failLog.forEach((l, k) => (fail[k] = fail[k]! + w * Math.exp(l)));
        s.passLog.forEach((l, k) => (pass[k] = pass[k]! + w * Math.exp(l)));
      }
    }
    return { fail: Math.max(...fail), pass: Math.max(...pass) };
  }
  // P(candidate exceeds) = P(baseline exceeds) = p with joint P(both) = p11: a = b = p − p11 (the null boundary).
  const cases: [string, number, number, number][] = [
    ['p50 threshold, independent sides', 20, 0.5, 0.25],
    ['p50 threshold, strongly correlated sides (mirrored requests)', 20, 0.5, 0.45],
    ['p90 threshold, independent sides', 30, 0.1, 0.01],
    ['p99 threshold, slightly correlated', 40, 0.01, 0.002],
  ];
  for (const [what, n, p, p11] of cases) {
    test(`${what}, ${n} pairs: at the boundary E[factor] ≤ 1 for all 40 fail and all 40 pass alternatives`, () => {
      const e = expectedFactors(n, p - p11, p - p11);
      assert.ok(e.fail <= 1 + 1e-9, `largest E[fail factor] ${e.fail}`);
      assert.ok(e.pass <= 1 + 1e-9, `largest E[pass factor] ${e.pass}`);
    });
  }

  test('inside the nulls too: a candidate exceeding less often keeps every fail factor ≤ 1, more often every pass factor ≤ 1', () => {
    assert.ok(expectedFactors(20, 0.2, 0.3).fail <= 1 + 1e-9);
    assert.ok(expectedFactors(20, 0.3, 0.2).pass <= 1 + 1e-9);
  });

  test('the check can fail: a candidate exceeding more often (a = 0.3, b = 0.2) gives some fail alternative E[factor] > 1', () => {
    assert.ok(expectedFactors(20, 0.3, 0.2).fail > 1.01);
  });
});
