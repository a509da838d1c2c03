// Table tests of the emulator's pure pieces: name rules, ISO-8601 durations, model references, metric
// filters and timespans, the OData price filter, and the models' arithmetic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nameProblem, parseIsoDuration } from '../../emulator/validation.js';
import { parseModelRef, resolveModel } from '../../emulator/models/registry.js';
import { latencyPercentile, parseMetricFilter, parseTimespan } from '../../emulator/metrics.js';
import { parsePriceFilter } from '../../emulator/prices.js';
import { features, fraudDetectorVersions } from '../../emulator/models/fraud-detector.js';
import { isLoopbackHost, randomTransaction } from '../../emulator/traffic.js';
import { seededRandom } from '../../emulator/core.js';
import { FaultState } from '../../emulator/faults.js';
import { TX } from './support.js';

test('endpoint and deployment names follow reference §3.3', () => {
  const table: [string, boolean][] = [
    ['blue', true],
    ['fraud-ep-01', true],
    ['a1b', true],
    ['A'.repeat(32), true],
    ['ab', false],
    ['A'.repeat(33), false],
    ['1abc', false],
    ['-abc', false],
    ['abc-', false],
    ['ab--c', false],
    ['ab_c', false],
    ['ab c', false],
    ['ab.c', false],
  ];
  for (const [name, ok] of table) assert.equal(nameProblem('endpoint', name) === undefined, ok, name);
});

test('ISO-8601 durations', () => {
  const table: [string, number | undefined][] = [
    ['PT5S', 5000],
    ['PT0.5S', 500],
    ['PT1M30S', 90_000],
    ['PT1H', 3_600_000],
    ['P1D', 86_400_000],
    ['P1DT1H', 90_000_000],
    ['5s', undefined],
    ['P', undefined],
    ['PT', undefined],
    ['', undefined],
  ];
  for (const [text, ms] of table) assert.equal(parseIsoDuration(text), ms, text);
});

test('model references resolve to shipped versions', () => {
  assert.deepEqual(parseModelRef('azureml:fraud-detector:2'), { name: 'fraud-detector', version: '2' });
  assert.deepEqual(parseModelRef('azureml://registries/shared/models/fraud-detector/versions/3'), { name: 'fraud-detector', version: '3' });
  assert.deepEqual(parseModelRef('/subscriptions/s/resourceGroups/r/providers/Microsoft.MachineLearningServices/workspaces/w/models/fraud-detector/versions/1'), { name: 'fraud-detector', version: '1' });
  assert.equal(parseModelRef('fraud-detector:1'), undefined);
  assert.equal(resolveModel('azureml:fraud-detector:7'), undefined);
  assert.equal(resolveModel('azureml:fraud-detector:6')?.version, '6');
});

test('metric filters: eq, or within one dimension, and, star', () => {
  assert.deepEqual(parseMetricFilter("deployment eq '*'"), [{ dimension: 'deployment', values: '*' }]);
  assert.deepEqual(parseMetricFilter("deployment eq 'Blue' or deployment eq 'green' and statusCode eq '*'"), [
    { dimension: 'deployment', values: ['blue', 'green'] },
    { dimension: 'statuscode', values: '*' },
  ]);
  assert.throws(() => parseMetricFilter("deployment eq 'a' or statusCode eq '200'"), /same dimension/);
  assert.throws(() => parseMetricFilter('deployment = blue'), /expected/);
  assert.deepEqual(parseMetricFilter(null), []);
});

test('metric timespans in every form the SDK sends', () => {
  const now = Date.parse('2024-01-01T02:00:00Z');
  assert.deepEqual(parseTimespan('PT1H', now), { start: now - 3_600_000, end: now });
  assert.deepEqual(parseTimespan('2024-01-01T00:00:00.000Z/2024-01-01T01:00:00.000Z', now), { start: Date.parse('2024-01-01T00:00:00Z'), end: Date.parse('2024-01-01T01:00:00Z') });
  assert.deepEqual(parseTimespan('2024-01-01T00:00:00Z/PT30M', now), { start: Date.parse('2024-01-01T00:00:00Z'), end: Date.parse('2024-01-01T00:30:00Z') });
  assert.deepEqual(parseTimespan('PT30M/2024-01-01T01:00:00Z', now), { start: Date.parse('2024-01-01T00:30:00Z'), end: Date.parse('2024-01-01T01:00:00Z') });
  assert.deepEqual(parseTimespan(null, now), { start: now - 3_600_000, end: now });
  assert.throws(() => parseTimespan('yesterday', now));
});

test('nearest-rank percentiles', () => {
  const xs = Array.from({ length: 100 }, (_, i) => 100 - i);
  assert.equal(latencyPercentile(xs, 50), 50);
  assert.equal(latencyPercentile(xs, 99), 99);
  assert.equal(latencyPercentile([7], 99), 7);
  assert.equal(latencyPercentile([], 50), 0);
});

test('the OData price filter', () => {
  const item = { armSkuName: 'Standard_DS3_v2', armRegionName: 'eastus', meterName: 'DS3 v2 Spot', retailPrice: 0.05, type: 'Consumption', isPrimaryMeterRegion: true };
  const ok = (f: string): boolean => parsePriceFilter(f)(item);
  assert.equal(ok("armSkuName eq 'Standard_DS3_v2' and armRegionName eq 'eastus'"), true);
  assert.equal(ok("armSkuName eq 'standard_ds3_v2'"), false);
  assert.equal(ok("contains(meterName, 'Spot')"), true);
  assert.equal(ok("not contains(meterName, 'Spot') or retailPrice lt 0.1"), true);
  assert.equal(ok("priceType eq 'Consumption' and meterRegion eq 'primary'"), true);
  assert.throws(() => parsePriceFilter("armSkuName eq"), /value is missing/);
});

test('the fraud models score with real arithmetic, and the versions differ as described', () => {
  const x = features(TX);
  assert.equal(x.length, 13);
  assert.ok(Math.abs((x[0] ?? 0) - Math.log1p(42.5)) < 1e-12);
  const rand = seededRandom(1);
  const txs = Array.from({ length: 400 }, () => randomTransaction(rand));
  const flagged = (version: string): number => {
    const m = fraudDetectorVersions.find((v) => v.version === version)?.load();
    const out = m?.score({ transactions: txs.slice(0, 100) }) as { predictions: { isFraud: boolean }[] };
    let n = out.predictions.filter((p) => p.isFraud).length;
    for (let i = 100; i < 400; i += 100) n += (m?.score({ transactions: txs.slice(i, i + 100) }) as { predictions: { isFraud: boolean }[] }).predictions.filter((p) => p.isFraud).length;
    return n;
  };
  const base = flagged('1');
  const candidate = flagged('2');
  const wrong = flagged('5');
  assert.ok(base > 0 && base < 40, `baseline flags ${base} of 400`);
  assert.ok(Math.abs(candidate - base) <= 8, `candidate flags ${candidate} vs ${base}`);
  assert.ok(wrong > 80, `the wrong version flags ${wrong} of 400`);
  const brittle = fraudDetectorVersions.find((v) => v.version === '4')?.load();
  const failures = txs.filter((t) => {
    try {
      brittle?.score({ transactions: [t] });
      return false;
    } catch {
      return true;
    }
  }).length;
  assert.ok(failures > 5 && failures < 60, `brittle fails on ${failures} of 400 generated transactions`);
});

test('loopback hosts', () => {
  for (const h of ['127.0.0.1', '127.3.2.1', 'localhost', '::1', '[::1]']) assert.equal(isLoopbackHost(h), true, h);
  for (const h of ['10.0.0.1', '192.168.1.1', 'example.com', '128.0.0.1', '0.0.0.0']) assert.equal(isLoopbackHost(h), false, h);
});

test('fault draws: lognormal service time (median, p99), ×latencyFactor, a 2% tail and a random 5xx share', () => {
  const draws = (b: Parameters<FaultState['delayMs']>[0], n: number, seed = 7): number[] => {
    const f = new FaultState(seededRandom(seed));
    return Array.from({ length: n }, () => f.delayMs(b));
  };
  const q = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.ceil(p * xs.length) - 1]!;
  const base = draws({ latency: { medianMs: 100, sigma: 0.5 } }, 20_000);
  // Lognormal(ln 100, 0.5): median 100 ms, p99 = 100·e^(0.5·2.326) ≈ 320 ms.
  assert.ok(Math.abs(q(base, 0.5) - 100) < 3, `median ${q(base, 0.5)}`);
  assert.ok(Math.abs(q(base, 0.99) - 320) < 20, `p99 ${q(base, 0.99)}`);
  // The same draws, 25% slower: the factor multiplies each drawn service time.
  const slow = draws({ latency: { medianMs: 100, sigma: 0.5 }, latencyFactor: 1.25 }, 20_000);
  slow.forEach((x, i) => assert.ok(Math.abs(x - 1.25 * base[i]!) < 1e-9));
  // addedLatencyMs still adds on top; no latency set → no wait.
  assert.deepEqual(draws({ addedLatencyMs: 40 }, 3), [40, 40, 40]);
  assert.deepEqual(draws({}, 2), [0, 0]);
  // The tail: about 2% of requests wait 300 ms more (binomial bounds for n = 20,000: 400 ± ~60).
  const tailed = draws({ tail: { share: 0.02, addMs: 300 } }, 20_000);
  const inTail = tailed.filter((x) => x === 300).length;
  assert.equal(tailed.filter((x) => x !== 0 && x !== 300).length, 0);
  assert.ok(inTail > 330 && inTail < 470, `${inTail} of 20000 in the tail`);
  // serverErrorRate: independent draws — about the share, not exactly it, and different per seed.
  const errors = (seed: number): number => {
    const f = new FaultState(seededRandom(seed));
    return Array.from({ length: 20_000 }, () => f.drawServerError(0.005)).filter(Boolean).length;
  };
  const counts = [1, 2, 3, 4, 5].map(errors);
  for (const c of counts) assert.ok(c > 65 && c < 135, `${c} 5xx of 20000 at 0.5%`);
  assert.ok(new Set(counts).size > 1, 'the counts vary between seeds');
  assert.equal(new FaultState(seededRandom(1)).drawServerError(undefined), false);
  assert.equal(new FaultState(seededRandom(1)).drawServerError(0), false);
});
