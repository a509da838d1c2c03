/**
 * The Azure-timing benchmark's model (bench/lib/azure-timing-model.ts) on hand-worked cases: the real
 * bake loop, gates and window arithmetic in simulated time, against figures worked out on paper.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { generateTraffic, simulateBake, snapshotAt, type BakeModel, type RequestLog, type Traffic } from '../../bench/lib/azure-timing-model.js';
import type { AnalysisSettings } from '../../domain/plan.js';
import { TelemetryTiming } from '../../emulator/telemetry-timing.js';

const MIN = 60_000;
const S = Date.UTC(2026, 10, 25, 12, 0, 0); // the canary's traffic write completed on a minute boundary

/** One request a second per deployment from S − 20 min to S + 30 min; the candidate answers 424 from `faultAt` on. Log rows visible `logDelayMs` after. */
function everySecond(faultAt: number, logDelayMs: number): Traffic {
  const log = (faulty: boolean): RequestLog => {
    const l: RequestLog = { t: [], status: [], latencyMs: [], logVisibleAt: [] };
    for (let t = S - 20 * MIN; t < S + 30 * MIN; t += 1000) {
      l.t.push(t);
      l.status.push(faulty && t >= faultAt ? 424 : 200);
      l.latencyMs.push(40);
      l.logVisibleAt.push(t + logDelayMs);
    }
    return l;
  };
  return { baseline: log(false), candidate: log(true) };
}

const analysis: AnalysisSettings = { intervalMs: MIN, failureLimit: 2, minRequests: 20, onInconclusive: 'extend', maxExtensions: 3 };

function model(over: Partial<BakeModel>): BakeModel {
  return {
    analysis,
    gates: { modelErrorRate: { max: 0.01 } },
    delays: { metricsMs: 3 * MIN, logsMs: 10 * MIN },
    withLogs: false,
    bakeMs: 30 * MIN,
    stepStartMs: S,
    analysisMs: 0,
    rollbackMs: 0,
    timing: new TelemetryTiming(0, { seed: 1 }),
    ...over,
  };
}

describe('azure-timing model: hand-worked cases', () => {
  test('fault at S+5m30s, metrics 3 min late, interval 1m, failureLimit 2: first seen by analysis 9, rolled back at analysis 10, 4m30s after the fault', () => {
    // Analysis k runs at S + k min and reads [S + (k−4) min, S + (k−3) min): analysis 9 reads 5–6 min,
    // whose last 30 s are faulty (50% 424 > 1%); analysis 10 reads 6–7 min (all 424). Two in a row: rollback.
    const faultAt = S + 5.5 * MIN;
    const r = simulateBake(model({ rollbackMs: 30_000 }), everySecond(faultAt, 0));
    assert.equal(r.outcome, 'rolled_back');
    assert.equal(r.analyses.length, 10);
    assert.deepEqual(
      r.analyses.map((a) => a.status),
      ['pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'fail', 'fail'],
    );
    const ninth = r.analyses[8]!;
    assert.equal(ninth.atMs, S + 9 * MIN);
    assert.deepEqual([ninth.windowStartMs, ninth.windowEndMs], [S + 5 * MIN, S + 6 * MIN]);
    assert.deepEqual([ninth.candidateRequests, ninth.candidate424], [60, 30]);
    assert.equal(r.decisionMs - faultAt, 4.5 * MIN);
    assert.equal(r.baselineBackMs! - faultAt, 4.5 * MIN + 30_000);
  });

  test('with logs the window ends 10 min before now, and each analysis\'s query time pushes the later ones back: first seen by analysis 15', () => {
    // Each analysis takes 5 s and the next timer starts after it, so analysis k runs at S + k min + (k−1)·5 s
    // and reads the minute ending 10 min before that. Analysis 14 (S + 15m05s) reads 4m05s–5m05s: clean.
    // Analysis 15 (S + 16m10s) reads 5m10s–6m10s: 40 s of it faulty → fail; analysis 16 fails too → rollback.
    const faultAt = S + 5.5 * MIN;
    const r = simulateBake(model({ withLogs: true, analysisMs: 5000 }), everySecond(faultAt, 3 * MIN));
    assert.equal(r.outcome, 'rolled_back');
    assert.equal(r.analyses.length, 16);
    assert.equal(r.analyses[13]!.status, 'pass');
    assert.equal(r.analyses[14]!.status, 'fail');
    assert.equal(r.analyses[14]!.atMs, S + 15 * MIN + 14 * 5000);
    assert.deepEqual([r.analyses[14]!.windowStartMs, r.analyses[14]!.windowEndMs], [S + 5 * MIN + 10_000, S + 6 * MIN + 10_000]);
    assert.equal(r.analyses[14]!.candidate424, 40);
    assert.equal(r.decisionMs, S + 16 * MIN + 16 * 5000);
  });

  test("the emulator's Azure metrics rule hides the minutes an activity reads too early: a window ending 30 s before now is half visible", () => {
    // At S + 10 min the last visible minute is 8–9 min (a minute shows one minute after it closes). The window
    // [S + 8m30s, S + 9m30s) therefore shows its first 30 requests only; with no delay at all it shows none.
    const traffic = everySecond(Number.POSITIVE_INFINITY, 0);
    const half = snapshotAt(model({ delays: { metricsMs: 30_000, logsMs: 30_000 } }), traffic, S + 10 * MIN);
    assert.equal(half.candidate.total, 30);
    assert.equal(half.candidate.hiddenMetrics, 30);
    const none = snapshotAt(model({ delays: { metricsMs: 0, logsMs: 0 } }), traffic, S + 10 * MIN);
    assert.equal(none.snapshot.candidate, null);
    const r = simulateBake(model({ delays: { metricsMs: 0, logsMs: 0 }, bakeMs: 3 * MIN }), traffic);
    assert.ok(r.analyses.every((a) => a.status === 'inconclusive'), 'no data is never a pass');
    assert.equal(r.outcome, 'rolled_back'); // still unknown after maxExtensions 3
  });

  test('generated traffic is seeded, splits by the canary percent, and draws log delays in 3–10 min', () => {
    const gen = () =>
      generateTraffic(
        { seed: 7, rps: 20, fromMs: S - MIN, toMs: S + 5 * MIN, stepStartMs: S, mirrorPercent: 20, canaryPercent: 10, latency: { medianMs: 40, sigma: 0.25 }, background5xx: 0, fault: { atMs: S + 2 * MIN, share: 1 } },
        new TelemetryTiming(0, { seed: 7 }),
      );
    const a = gen();
    assert.deepEqual(gen(), a);
    const live = a.candidate.t.filter((t) => t >= S).length / a.baseline.t.filter((t) => t >= S).length;
    assert.ok(live > 0.08 && live < 0.14, `candidate/baseline in the canary ≈ 10/90, got ${live}`);
    const delays = a.candidate.t.map((t, i) => a.candidate.logVisibleAt[i]! - t);
    assert.ok(Math.min(...delays) >= 3 * MIN && Math.max(...delays) <= 10 * MIN);
    assert.ok(a.candidate.t.every((t, i) => (a.candidate.status[i] === 424) === t >= S + 2 * MIN));
  });
});
