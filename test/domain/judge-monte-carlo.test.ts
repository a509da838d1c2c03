/**
 * Seeded Monte Carlo of the count test: the false-alarm rate stays within α when the judge looks after
 * every interval, the naive rule on the same streams does not, and real regressions are caught quickly.
 * Sized to run in a few seconds; every figure is printed as a test diagnostic.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { exceedanceWindow, pairedExceedanceWindow, judgeLook, parseJudgeSettings, quantileThreshold, startJudge, type CountWindow, type GateObservation, type Tolerance } from '../../domain/judge/index.js';
import { binomial, countStream, normal, quantile, runCountTest, seeded, type CountScenario } from '../support/judge-streams.js';

/** Requests per minute at 10 req/s and 40 req/s: the candidate of a 20% canary at 50 req/s. */
const perMinute = (rps: number) => rps * 60;
const hourOfMinutes: Omit<CountScenario, 'candidateRate'> = { candidateRequests: perMinute(10), baselineRequests: perMinute(40), baselineRate: 0.005, windows: 60 };

/** The largest count of false alarms in n runs still consistent with a rate ≤ α (mean + 3 sd). */
const allowed = (alpha: number, n: number) => alpha * n + 3 * Math.sqrt(alpha * (1 - alpha) * n);

/**
 * Runs seeded bakes; counts fails, early passes, and bakes whose running interval ever excluded `trueRatio`
 * (the interval only narrows, so the final one tells). A bound g means "r > g" / "r < g".
 */
function falseAlarms(streams: (seed: number) => Iterable<CountWindow>, tolerance: Tolerance, alpha: number, runs: number, seed0: number, trueRatio = tolerance.ratio) {
  let fails = 0;
  let passes = 0;
  let missedRatio = 0;
  for (let i = 0; i < runs; i++) {
    const r = runCountTest(streams(seed0 + i), tolerance, alpha);
    if (r.failAt !== null) fails++;
    if (r.passAt !== null) passes++;
    if (!(r.final.lower < trueRatio && (r.final.upper === null || r.final.upper > trueRatio))) missedRatio++;
  }
  return { fails, passes, missedRatio };
}

describe('false alarms stay within the budget with a look after every interval (1-hour bake, 60 looks)', () => {
  test('a candidate exactly as good as the baseline (0.5% errors, 10 vs 40 req/s, tolerance 1×, α = 0.01) fails ≤ 1% of 1,000 bakes', (t) => {
    const runs = 1000;
    const { fails, missedRatio } = falseAlarms((seed) => countStream({ ...hourOfMinutes, candidateRate: 0.005 }, seed), { ratio: 1, additive: 0 }, 0.01, runs, 1);
    t.diagnostic(`false alarms: ${fails}/${runs} = ${((100 * fails) / runs).toFixed(2)}% (budget 1%, allowed ≤ ${allowed(0.01, runs).toFixed(1)} by chance)`);
    t.diagnostic(`99% intervals that ever excluded the true ratio 1×: ${missedRatio}/${runs}`);
    assert.ok(fails <= allowed(0.01, runs), `${fails} false alarms in ${runs} bakes`);
    assert.ok(missedRatio <= allowed(0.01, runs), `${missedRatio} intervals missed the true ratio`);
  });

  test('the naive rule on the same streams — a one-sided z-test at 1% after every interval — breaks the budget', (t) => {
    // Control: shows that this harness can see peeking inflation (Armitage et al. 1969).
    const runs = 1000;
    let fails = 0;
    for (let i = 0; i < runs; i++) {
      let xC = 0, nC = 0, xB = 0, nB = 0;
      for (const w of countStream({ ...hourOfMinutes, candidateRate: 0.005 }, 1 + i)) {
        xC += w.candidateEvents; nC += w.candidateRequests; xB += w.baselineEvents; nB += w.baselineRequests;
        const p = (xC + xB) / (nC + nB);
        const se = Math.sqrt(p * (1 - p) * (1 / nC + 1 / nB));
        if (se > 0 && (xC / nC - xB / nB) / se > 2.326) { fails++; break; }
      }
    }
    t.diagnostic(`naive z-test false alarms: ${fails}/${runs} = ${((100 * fails) / runs).toFixed(1)}% (nominal 1%)`);
    assert.ok(fails > 3 * allowed(0.01, runs), `the naive rule stayed at ${fails}/${runs}`);
  });

  test('at the tolerance boundary (candidate 1.5× the baseline, tolerance 1.5×, α = 0.05) with a canary share that changes every interval, ≤ 5% of 600 bakes fail', (t) => {
    const runs = 600;
    const streams = (seed: number) => {
      const rng = seeded(seed);
      const out: CountWindow[] = [];
      for (let i = 0; i < 60; i++) {
        const total = 3000;
        const share = 0.05 + 0.45 * rng(); // 5%..50% of the traffic to the candidate, different every minute
        const nC = Math.round(total * share);
        const nB = total - nC;
        out.push({ candidateRequests: nC, candidateEvents: binomial(rng, nC, 0.0075), baselineRequests: nB, baselineEvents: binomial(rng, nB, 0.005) });
      }
      return out;
    };
    const { fails, missedRatio } = falseAlarms(streams, { ratio: 1.5, additive: 0 }, 0.05, runs, 10_000);
    t.diagnostic(`false alarms at the boundary: ${fails}/${runs} = ${((100 * fails) / runs).toFixed(2)}% (budget 5%)`);
    t.diagnostic(`95% intervals that ever excluded the true ratio 1.5×: ${missedRatio}/${runs}`);
    assert.ok(fails <= allowed(0.05, runs), `${fails} false alarms in ${runs} bakes`);
    assert.ok(missedRatio <= allowed(0.05, runs), `${missedRatio} intervals missed the true ratio`);
  });

  test('at an additive boundary (candidate 1.0% vs baseline 0.5%, tolerance +0.5%, α = 0.05), ≤ 5% of 600 bakes fail', (t) => {
    const runs = 600;
    const { fails } = falseAlarms((seed) => countStream({ ...hourOfMinutes, candidateRate: 0.01 }, seed), { ratio: 1, additive: 0.005 }, 0.05, runs, 20_000);
    t.diagnostic(`false alarms at the additive boundary: ${fails}/${runs} = ${((100 * fails) / runs).toFixed(2)}% (budget 5%)`);
    assert.ok(fails <= allowed(0.05, runs), `${fails} false alarms in ${runs} bakes`);
  });

  test('a candidate exactly at the pass tolerance (2× the baseline, tolerance 2×, α = 0.05) passes early in ≤ 5% of 600 bakes', (t) => {
    const runs = 600;
    const { passes } = falseAlarms((seed) => countStream({ ...hourOfMinutes, candidateRate: 0.01 }, seed), { ratio: 2, additive: 0 }, 0.05, runs, 30_000);
    t.diagnostic(`false early passes: ${passes}/${runs} = ${((100 * passes) / runs).toFixed(2)}% (budget 5%)`);
    assert.ok(passes <= allowed(0.05, runs), `${passes} false early passes in ${runs} bakes`);
  });
});

describe('real regressions are caught quickly (looks every 10 s, α = 0.01)', () => {
  /** Seconds to the first fail (or pass) over `runs` seeded streams of 10-second windows, up to one hour. */
  function timeTo(kind: 'fail' | 'pass', scenario: Omit<CountScenario, 'windows'>, tolerance: Tolerance, runs: number, seed0: number) {
    const times: number[] = [];
    let missed = 0;
    for (let i = 0; i < runs; i++) {
      const r = runCountTest(countStream({ ...scenario, windows: 360 }, seed0 + i), tolerance, 0.01, { stopAt: kind });
      const at = kind === 'fail' ? r.failAt : r.passAt;
      if (at === null) missed++;
      else times.push(at * 10);
    }
    return { p50: quantile(times, 0.5), p95: quantile(times, 0.95), missed };
  }

  test('4× errors at 10 req/s (2% vs 0.5%, baseline 40 req/s, tolerance 1.5×) are detected in every run, median within 2 minutes', (t) => {
    const r = timeTo('fail', { candidateRequests: 100, baselineRequests: 400, baselineRate: 0.005, candidateRate: 0.02 }, { ratio: 1.5, additive: 0 }, 300, 40_000);
    t.diagnostic(`4× errors: detected p50 ${r.p50}s, p95 ${r.p95}s, missed ${r.missed}/300`);
    assert.equal(r.missed, 0);
    assert.ok(r.p50! <= 120, `median detection ${r.p50}s`);
  });

  test('4× errors at 10 req/s mirrored (baseline also 10 req/s, tolerance 1×) are detected in every run, median within 2 minutes', (t) => {
    const r = timeTo('fail', { candidateRequests: 100, baselineRequests: 100, baselineRate: 0.005, candidateRate: 0.02 }, { ratio: 1, additive: 0 }, 300, 50_000);
    t.diagnostic(`4× errors, equal exposure: detected p50 ${r.p50}s, p95 ${r.p95}s, missed ${r.missed}/300`);
    assert.equal(r.missed, 0);
    assert.ok(r.p50! <= 120, `median detection ${r.p50}s`);
  });

  test('a crash (100% errors) at 10 req/s fails at the first 10-second look', (t) => {
    const r = timeTo('fail', { candidateRequests: 100, baselineRequests: 400, baselineRate: 0.005, candidateRate: 1 }, { ratio: 1.5, additive: 0 }, 50, 60_000);
    t.diagnostic(`crash: detected p50 ${r.p50}s, p95 ${r.p95}s`);
    assert.equal(r.p95, 10);
  });

  test('a healthy candidate (0.5% errors like the baseline, tolerance 2×) passes early in most hour-long bakes', (t) => {
    const r = timeTo('pass', { candidateRequests: 100, baselineRequests: 400, baselineRate: 0.005, candidateRate: 0.005 }, { ratio: 2, additive: 0 }, 200, 70_000);
    t.diagnostic(`early pass: p50 ${r.p50}s, p95 ${r.p95}s, not passed within the hour ${r.missed}/200`);
    assert.ok(r.missed <= 10, `${r.missed} of 200 healthy bakes did not pass early`);
  });
});

describe('latency exceedances through the judge (lognormal latencies; p50 and p90 thresholds frozen from a pre-rollout baseline window)', () => {
  const latencies = (rng: () => number, n: number, scale: number) => Array.from({ length: n }, () => scale * 50 * Math.exp(0.5 * normal(rng)));
  // Two gates, tolerance "10% slower" applied to the candidate's thresholds, ratio tolerance 1× on the counts.
  const settings = parseJudgeSettings({ gates: [{ name: 'latency p50', tolerance: 1 }, { name: 'latency p90', tolerance: 1 }] });
  /** Seconds to the first failed analysis (10-second windows, 10 vs 40 req/s), or null within `windows`. */
  function run(seed: number, slowdown: number, windows: number, paired = false, baselinePerWindow = 400): number | null {
    const rng = seeded(seed);
    const before = latencies(rng, 5000, 1);
    const thresholds = { 'latency p50': quantileThreshold(before, 0.5), 'latency p90': quantileThreshold(before, 0.9) };
    let state = startJudge(settings);
    for (let i = 0; i < windows; i++) {
      const cand = latencies(rng, 100, slowdown);
      const base = latencies(rng, baselinePerWindow, 1);
      const observations: Record<string, GateObservation> = {};
      for (const [gate, q] of Object.entries(thresholds)) observations[gate] = { kind: 'window', ...(paired ? pairedExceedanceWindow : exceedanceWindow)(cand, base, q, 1.1) };
      const r = judgeLook(settings, state, observations);
      state = r.state;
      if (r.judgement.status === 'fail') return (i + 1) * 10;
    }
    return null;
  }

  test('a candidate 25% slower everywhere (tolerance 10% slower) is detected in every run, median within 2 minutes', (t) => {
    const at = Array.from({ length: 100 }, (_, i) => run(80_000 + i, 1.25, 60));
    const times = at.filter((x): x is number => x !== null);
    t.diagnostic(`+25% latency: detected p50 ${quantile(times, 0.5)}s, p95 ${quantile(times, 0.95)}s, missed ${at.length - times.length}/100`);
    assert.equal(times.length, 100);
    assert.ok(quantile(times, 0.5)! <= 120);
  });

  test('an unchanged candidate (same distribution, tolerance 10% slower) raises no more than 1% false alarms in 100 ten-minute bakes', (t) => {
    let alarms = 0;
    for (let i = 0; i < 100; i++) if (run(90_000 + i, 1, 60) !== null) alarms++;
    t.diagnostic(`latency false alarms: ${alarms}/100`);
    assert.ok(alarms <= allowed(0.01, 100));
  });

  test('paired counts (mirrored 10 vs 10 req/s): an unchanged candidate raises no more than 1% false alarms in 300 ten-minute bakes', (t) => {
    let alarms = 0;
    for (let i = 0; i < 300; i++) if (run(95_000 + i, 1, 60, true, 100) !== null) alarms++;
    t.diagnostic(`paired latency false alarms: ${alarms}/300`);
    assert.ok(alarms <= allowed(0.01, 300));
  });

  test('paired counts detect a candidate 25% slower sooner than unpaired counts on the same 10 vs 10 req/s streams', (t) => {
    const paired = Array.from({ length: 100 }, (_, i) => run(85_000 + i, 1.25, 60, true, 100));
    const unpaired = Array.from({ length: 100 }, (_, i) => run(85_000 + i, 1.25, 60, false, 100));
    const p = paired.filter((x): x is number => x !== null);
    const u = unpaired.filter((x): x is number => x !== null);
    t.diagnostic(`+25% latency, 10 vs 10 req/s: paired p50 ${quantile(p, 0.5)}s p95 ${quantile(p, 0.95)}s (missed ${100 - p.length}); unpaired p50 ${quantile(u, 0.5)}s p95 ${quantile(u, 0.95)}s (missed ${100 - u.length})`);
    assert.equal(p.length, 100);
    assert.ok(quantile(p, 0.5)! < quantile(u, 0.5)!, 'paired counts were not faster');
  });
});
