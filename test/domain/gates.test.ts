import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateCost, evaluateGates, formatVerdict, withWebhook, type DeploymentMetrics, type MetricsSnapshot, type VerdictStatus } from '../../domain/gates.js';
import { LEGACY_DEFAULT_GATES, type Gates } from '../../domain/plan.js';
import { aPlan, healthy, healthyMetrics } from '../support/builders.js';

const gates = aPlan().gates; // the example plan's gates
const opts = { minRequests: 100 };
const snap = (baseline: Partial<DeploymentMetrics> | null, candidate: Partial<DeploymentMetrics> | null): MetricsSnapshot =>
  healthyMetrics({ baseline, candidate });

/** [what, gates, snapshot, expected status, a reason that must appear (quoting the numbers)] */
const table: [string, Gates, MetricsSnapshot, VerdictStatus, RegExp][] = [
  ['healthy candidate and baseline pass every gate', gates, snap({}, {}), 'pass', /p99 latency 150ms ≤ max 250ms/],
  ['p99 above the absolute max fails', gates, snap({}, { latencyP99Ms: 312 }), 'fail', /p99 latency 312ms > max 250ms/],
  ['p99 above 1.2× the baseline fails', gates, snap({ latencyP99Ms: 100 }, { latencyP99Ms: 130 }), 'fail', /p99 latency 130ms is 1\.3× baseline 100ms > max 1\.2×/],
  ['p99 exactly 1.2× the baseline passes', gates, snap({ latencyP99Ms: 100 }, { latencyP99Ms: 120 }), 'pass', /1\.2× baseline 100ms ≤ 1\.2×/],
  ['p50 above max fails', gates, snap({}, { latencyP50Ms: 95 }), 'fail', /p50 latency 95ms > max 80ms/],
  ['a 5xx rate above 1% fails', gates, snap({ errorRate: 0.012 }, { errorRate: 0.015 }), 'fail', /5xx rate 1\.5% > max 1%/],
  ['a 5xx rate 0.6 points over the baseline fails', gates, snap({ errorRate: 0.001 }, { errorRate: 0.007 }), 'fail', /5xx rate 0\.7% is \+0\.6% over baseline 0\.1% > max \+0\.5%/],
  ['a 424 rate above 1% fails', gates, snap({}, { modelErrorRate: 0.02 }), 'fail', /424 rate 2% > max 1%/],
  ['CPU above 85% fails', gates, snap({}, { cpuPercent: 91.25 }), 'fail', /CPU 91\.3% > max 85%/],
  ['memory above 85% fails', gates, snap({}, { memoryPercent: 86 }), 'fail', /memory 86% > max 85%/],
  ['too few candidate requests is inconclusive', gates, snap({}, { requests: 42 }), 'inconclusive', /candidate had 42 requests in the window, fewer than minRequests 100/],
  ['no candidate data is inconclusive', gates, snap({}, null), 'inconclusive', /no metrics for the candidate in the window/],
  ['a missing baseline makes relative gates inconclusive', gates, snap(null, {}), 'inconclusive', /p99 latency ratio: no metrics for the baseline to compare with/],
  ['a quiet baseline makes relative gates inconclusive', gates, snap({ requests: 10 }, {}), 'inconclusive', /baseline had 10 requests in the window, fewer than minRequests 100/],
  ['a missing metric is inconclusive, not a pass', gates, snap({}, { latencyP50Ms: null }), 'inconclusive', /p50 latency: no candidate data/],
  ['a failure wins over an inconclusive gate', gates, snap(null, { latencyP99Ms: 400 }), 'fail', /p99 latency 400ms > max 250ms/],
  ['a missing baseline still lets absolute-only gates pass', { latencyP99Ms: { max: 250 } }, snap(null, {}), 'pass', /p99 latency 150ms ≤ max 250ms/],
  ['the pre-judge default gates pass a healthy pair', structuredClone(LEGACY_DEFAULT_GATES) as Gates, snap({}, {}), 'pass', /424 rate 0% ≤ max 1%/],
  ['the pre-judge default gates fail a slower candidate', structuredClone(LEGACY_DEFAULT_GATES) as Gates, snap({ latencyP99Ms: 100 }, { latencyP99Ms: 150 }), 'fail', /1\.5× baseline 100ms > max 1\.2×/],
  ['no gates and no traffic is inconclusive', {}, snap({}, { requests: 0 }), 'inconclusive', /candidate had 0 requests/],
];

describe('gate evaluation: pass, fail and inconclusive, with reasons that quote the numbers', () => {
  for (const [what, g, s, status, reason] of table) {
    test(what, () => {
      const v = evaluateGates(g, s, opts);
      assert.equal(v.status, status, formatVerdict(v));
      assert.ok(v.reasons.some((r) => reason.test(r)), `no reason matches ${reason}: ${v.reasons.join(' | ')}`);
      assert.deepEqual(v.snapshot, s, 'the verdict keeps the numbers it judged');
    });
  }

  test('a failing webhook gate fails an otherwise passing verdict', () => {
    const v = withWebhook(evaluateGates(gates, healthyMetrics(), opts), { status: 'fail', reason: 'accuracy 0.91 < 0.95' });
    assert.equal(v.status, 'fail');
    assert.deepEqual(v.reasons, ['webhook: accuracy 0.91 < 0.95']);
  });

  test('an inconclusive webhook makes a passing verdict inconclusive', () => {
    const v = withWebhook(evaluateGates(gates, healthyMetrics(), opts), { status: 'inconclusive', reason: 'unreachable' });
    assert.equal(v.status, 'inconclusive');
  });

  test('utilisation gates judge even with few requests (they measure instances, not requests)', () => {
    const v = evaluateGates({ cpuPercent: { max: 85 } }, healthyMetrics({ candidate: { requests: 1, cpuPercent: 99 } }), opts);
    assert.equal(v.status, 'fail');
  });

  test('formatVerdict gives one line with the status first', () => {
    assert.equal(formatVerdict({ status: 'fail', reasons: ['a', 'b'] }), 'fail: a; b');
  });
  test('healthy() is a passing deployment', () => assert.equal(healthy().requests, 1000));

  test('a traffic log the plan asked for but could not be read whole makes a passing verdict inconclusive, saying why', () => {
    const s = { ...healthyMetrics(), logsProblem: 'partial result for counts by status (PartialError: There were some errors)' };
    const v = evaluateGates(gates, s, opts);
    assert.equal(v.status, 'inconclusive');
    assert.deepEqual(v.reasons, ['traffic log: partial result for counts by status (PartialError: There were some errors)']);
    assert.equal(evaluateGates(gates, healthyMetrics(), opts).status, 'pass', 'the same numbers without the problem pass');
  });

  test('a failing gate still fails when the traffic log could not be read (a fail needs no more evidence)', () => {
    const s = { ...healthyMetrics({ candidate: { errorRate: 0.2 } }), logsProblem: 'could not query workspace w (HTTP 403 InsufficientAccessError): no access' };
    const v = evaluateGates(gates, s, opts);
    assert.equal(v.status, 'fail');
    assert.ok(v.gates.some((g) => g.gate === 'logs' && g.status === 'inconclusive'));
  });

  test('per-deployment log evidence rides along in the snapshot and changes no verdict by itself', () => {
    const log = { requests: 1000, byStatus: { 200: 1000 }, byModelStatus: { 200: 1000 }, exceedances: [{ aboveMs: 250, count: 3 }], latencyMs: { p50: 40, p95: 90, p99: 140 } };
    const s = healthyMetrics({ baseline: { log }, candidate: { log } });
    const v = evaluateGates(gates, s, opts);
    assert.equal(v.status, 'pass');
    assert.deepEqual(v.snapshot.candidate?.log, log);
  });
});

describe('cost check against the budget', () => {
  const price = (hourly: number, fallback = false) => ({ hourlyUsd: hourly, monthlyUsd: hourly * 730, fallback, source: fallback ? 'fallback-table' : 'retail-prices:westeurope' });
  const cases: [string, Parameters<typeof evaluateCost>[0], number, number | null, VerdictStatus, RegExp][] = [
    ['under both budgets', { maxMonthlyUsd: 2000, maxIncreasePercent: 25 }, 1.0, 1.0, 'pass', /\$730\.00\/month ≤ budget \$2000\.00\/month/],
    ['over the monthly budget', { maxMonthlyUsd: 500 }, 1.0, null, 'fail', /projected \$730\.00\/month > budget \$500\.00\/month/],
    ['over the hourly budget', { maxHourlyUsd: 0.8 }, 1.0, null, 'fail', /\$1\.00\/hour > budget \$0\.80\/hour/],
    ['an increase of 50% over the baseline', { maxIncreasePercent: 25 }, 1.5, 1.0, 'fail', /\$1\.50\/hour vs baseline \$1\.00\/hour is \+50% > max \+25%/],
    ['a cheaper candidate', { maxIncreasePercent: 0 }, 0.8, 1.0, 'pass', /is -20% ≤ max \+0%/],
    ['no baseline cost to compare', { maxIncreasePercent: 25 }, 1.0, null, 'inconclusive', /no baseline cost to compare with/],
  ];
  for (const [what, limits, cand, base, status, reason] of cases) {
    test(what, () => {
      const v = evaluateCost(limits, price(cand), base === null ? null : price(base));
      assert.equal(v.status, status, v.reasons.join('; '));
      assert.ok(v.reasons.some((r) => reason.test(r)), v.reasons.join(' | '));
    });
  }
  test('a fallback price is judged and says so', () => {
    const v = evaluateCost({ maxMonthlyUsd: 2000 }, price(1, true), null);
    assert.equal(v.status, 'pass');
    assert.match(v.reasons[0]!, /fallback price from fallback-table/);
  });
});
