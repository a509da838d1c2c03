// Azure Monitor metrics — the batch API through the unmodified MetricsClient of @azure/monitor-query-metrics,
// the ARM route through raw requests of the shape Azure's tools send — with figures computed from the
// traffic the emulator really served (counts exact, percentiles equal to the request log's), resource
// metrics from measured busy time and heap, dimensions, filters, intervals and the ingestion delay.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import { MetricsClient } from '@azure/monitor-query-metrics';
import { emulatorCredential, type Emulator } from '../../emulator/index.js';
import { latencyPercentile } from '../../emulator/metrics.js';
import { anEndpointWith, armClient, metricsClient, raw, score, setTraffic, startTestEmulator, SUB, TX, WS_PATH, type ArmMetric } from './support.js';

const EP_NS = 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints';
const DEP_NS = 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments';

function series(result: { metrics: ArmMetric[] }, metric: string): Map<string, { total: number; average?: number; maximum?: number }> {
  const out = new Map<string, { total: number; average?: number; maximum?: number }>();
  const m = result.metrics.find((x) => x.name === metric);
  assert.ok(m, `metric ${metric} missing`);
  for (const ts of m.timeseries) {
    const key = (ts.metadataValues ?? []).map((v) => v.value).join('|');
    let total = 0;
    let average: number | undefined;
    let maximum: number | undefined;
    for (const p of ts.data ?? []) {
      total += p.total ?? 0;
      if (p.average !== undefined) average = p.average;
      if (p.maximum !== undefined) maximum = Math.max(maximum ?? 0, p.maximum);
    }
    out.set(key, { total, ...(average !== undefined ? { average } : {}), ...(maximum !== undefined ? { maximum } : {}) });
  }
  return out;
}

describe('metrics computed from served traffic', () => {
  let emu: Emulator;
  let client: AzureMachineLearningWorkspaces;
  let metrics: ReturnType<typeof metricsClient>;
  let key = '';
  const epId = `${WS_PATH}/onlineEndpoints/metrics-ep`;

  before(async () => {
    emu = await startTestEmulator({ provisionTimeMs: 50, seed: 5 });
    client = armClient(emu);
    metrics = metricsClient(emu);
    key = await anEndpointWith(client, 'metrics-ep', { blue: 'azureml:fraud-detector:1', green: 'azureml:fraud-detector:3', shadow: 'azureml:fraud-detector:6' }, { capacity: 2, maxConcurrent: 8 });
  });
  after(async () => {
    await emu.close();
  });

  test('after a known burst, per-deployment request counts equal the requests served and P50/P99 match the request log within 5%', async () => {
    await setTraffic(client, 'metrics-ep', { blue: 70, green: 30 }, { shadow: 40 });
    const start = new Date(Date.now() - 1000);
    for (let i = 0; i < 300; i += 6) await Promise.all(Array.from({ length: 6 }, () => score(emu, 'metrics-ep', key)));
    await new Promise((r) => setTimeout(r, 500));
    const end = new Date(Date.now() + 1000);
    const log = emu.requestLog().filter((r) => r.endpoint === 'metrics-ep');
    const served = (dep: string): number => log.filter((r) => r.deployment === dep).length;

    const result = await metrics.queryResource(epId, ['RequestsPerMinute', 'RequestLatency_P50', 'RequestLatency_P99'], {
      granularity: 'FULL',
      aggregations: ['Total', 'Average'],
      timespan: { startTime: start, endTime: end },
      filter: "deployment eq '*'",
      metricNamespace: EP_NS,
    });
    const counts = series(result, 'RequestsPerMinute');
    assert.equal(counts.get('blue')?.total, served('blue'));
    assert.equal(counts.get('green')?.total, served('green'));
    assert.equal(counts.get('shadow')?.total, served('shadow'), 'mirrored requests count under the mirror target');
    assert.equal((counts.get('blue')?.total ?? 0) + (counts.get('green')?.total ?? 0), 300);
    assert.ok((counts.get('shadow')?.total ?? 0) > 60);

    for (const [metric, p] of [['RequestLatency_P50', 50], ['RequestLatency_P99', 99]] as const) {
      const got = series(result, metric);
      for (const dep of ['blue', 'green']) {
        const expected = latencyPercentile(log.filter((r) => r.deployment === dep).map((r) => r.latencyMs), p);
        const reported = got.get(dep)?.average ?? -1;
        assert.ok(Math.abs(reported - expected) <= expected * 0.05, `${metric} ${dep}: reported ${reported}, request log ${expected}`);
      }
    }
    // The slow version really is slower, as measured.
    assert.ok((series(result, 'RequestLatency_P50').get('green')?.average ?? 0) > (series(result, 'RequestLatency_P50').get('blue')?.average ?? 0) * 3);

    // PT1M bins add up to the same exact counts.
    const perMinute = await metrics.queryResource(epId, ['RequestsPerMinute'], { granularity: 'PT1M', aggregations: ['Total'], timespan: { duration: 'PT10M' }, filter: "deployment eq 'blue' or deployment eq 'green'" });
    const pm = series(perMinute, 'RequestsPerMinute');
    assert.equal(pm.get('blue')?.total, served('blue'));
    assert.equal(pm.has('shadow'), false);
  });

  test('status code dimensions split the counts (statusCode, statusCodeClass, modelStatusCode)', async () => {
    await setTraffic(client, 'metrics-ep', { blue: 100 });
    const before = Date.now();
    await score(emu, 'metrics-ep', 'bad-key');
    await score(emu, 'metrics-ep', key, { body: { nope: true } });
    await score(emu, 'metrics-ep', key, { body: { transactions: [TX] } });
    const result = await metrics.queryResource(epId, ['RequestsPerMinute'], {
      granularity: 'FULL',
      aggregations: ['Total'],
      timespan: { startTime: new Date(before - 10), endTime: new Date(Date.now() + 1000) },
      filter: "statusCode eq '*' and statusCodeClass eq '*' and modelStatusCode eq '*'",
    });
    const s = series(result, 'RequestsPerMinute');
    assert.equal(s.get('401|4xx|None')?.total, 1);
    assert.equal(s.get('424|4xx|400')?.total, 1);
    assert.equal(s.get('200|2xx|200')?.total, 1);
    const m = result.metrics[0];
    assert.deepEqual(m?.timeseries[0]?.metadataValues?.map((v) => v.name), ['statuscode', 'statuscodeclass', 'modelstatuscode']);
  });

  test('deployment metrics: CPU from measured busy time, memory from the worker heap, capacity from the sku', async () => {
    const window = { startTime: new Date(Date.now() - 120_000), endTime: new Date(Date.now() + 60_000) };
    const cpu = async (dep: string): Promise<number> => {
      const r = await metrics.queryResource(`${epId}/deployments/${dep}`, ['CpuUtilizationPercentage', 'DeploymentCapacity'], { granularity: 'FULL', aggregations: ['Maximum'], timespan: window, metricNamespace: DEP_NS });
      assert.equal(series(r, 'DeploymentCapacity').get('')?.maximum, 2);
      return series(r, 'CpuUtilizationPercentage').get('')?.maximum ?? 0;
    };
    const slow = await cpu('green');
    const fast = await cpu('blue');
    assert.ok(slow > fast, `slow model CPU ${slow.toFixed(2)}% vs baseline ${fast.toFixed(2)}%`);
    assert.ok(slow > 1 && slow <= 100);

    const mem = await metrics.queryResource(`${epId}/deployments/shadow`, ['CpuMemoryUtilizationPercentage'], { granularity: 'PT1M', aggregations: ['Maximum', 'Minimum'], timespan: window, metricNamespace: DEP_NS });
    const leaky = series(mem, 'CpuMemoryUtilizationPercentage').get('')?.maximum ?? 0;
    const memBlue = await metrics.queryResource(`${epId}/deployments/blue`, ['CpuMemoryUtilizationPercentage'], { granularity: 'FULL', aggregations: ['Maximum'], timespan: window, metricNamespace: DEP_NS });
    const baseline = series(memBlue, 'CpuMemoryUtilizationPercentage').get('')?.maximum ?? 0;
    assert.ok(leaky > baseline + 5, `leaky model heap ${leaky.toFixed(1)}% vs baseline ${baseline.toFixed(1)}%`);
  });

  test('metric definitions list the Azure ML metrics, and an unknown metric is a 400', async () => {
    const names = await metrics.listMetricDefinitions(epId, { metricNamespace: EP_NS });
    for (const n of ['RequestsPerMinute', 'RequestLatency', 'RequestLatency_P50', 'RequestLatency_P99']) assert.ok(names.includes(n), n);
    await assert.rejects(metrics.queryResource(epId, ['NoSuchMetric']), (e: unknown) => (e as { statusCode?: number }).statusCode === 400);
  });

  test('the batch API (MetricsClient.queryResources) answers for several resources, with the same figures as the ARM route', async () => {
    const batch = new MetricsClient(emu.url, emulatorCredential(), { tlsOptions: { ca: emu.caCertPem } });
    const window = { startTime: new Date(Date.now() - 600_000), endTime: new Date(Date.now() + 1000) };
    const res = await batch.queryResources([epId], ['RequestsPerMinute'], EP_NS, { ...window, aggregation: 'Total', filter: "deployment eq '*'", interval: 'PT1M' });
    assert.equal(res.length, 1);
    assert.equal(res[0]?.resourceId, epId);
    assert.equal(res[0]?.metrics[0]?.name, 'RequestsPerMinute');
    const ts = res[0]?.metrics[0]?.timeseries ?? [];
    assert.ok(ts.length >= 2);
    assert.deepEqual(new Set(ts.map((t) => t.metadatavalues?.[0]?.name)), new Set(['deployment']));
    const total = ts.flatMap((t) => t.data ?? []).reduce((a, p) => a + (p.total ?? 0), 0);
    assert.equal(total, emu.requestLog().filter((r) => r.endpoint === 'metrics-ep').length, 'the batch API counts every served request');
    const arm = series(await metrics.queryResource(epId, ['RequestsPerMinute'], { granularity: 'PT1M', aggregations: ['Total'], timespan: window, filter: "deployment eq '*'" }), 'RequestsPerMinute');
    for (const t of ts) {
      const dep = t.metadatavalues?.[0]?.value ?? '';
      assert.equal((t.data ?? []).reduce((a, p) => a + (p.total ?? 0), 0), arm.get(dep)?.total, `${dep}: batch and ARM route agree`);
    }

    const deps = ['blue', 'green'].map((d) => `${epId}/deployments/${d}`);
    const two = await batch.queryResources(deps, ['DeploymentCapacity'], DEP_NS, { ...window, aggregation: 'Maximum', interval: 'FULL' });
    assert.deepEqual(two.map((r) => r.resourceId), deps, 'one result per resource, in order');
    assert.deepEqual(two.map((r) => r.metrics[0]?.timeseries[0]?.data?.[0]?.maximum), [2, 2]);
  });

  test('the batch API refuses a resource outside the path’s subscription, a missing namespace and a missing api-version', async () => {
    const batch = new MetricsClient(emu.url, emulatorCredential(), { tlsOptions: { ca: emu.caCertPem } });
    const other = epId.replace(SUB, '00000000-0000-4000-8000-000000000999');
    await assert.rejects(batch.queryResources([epId, other], ['RequestsPerMinute'], EP_NS), (e: unknown) => (e as { statusCode?: number }).statusCode === 400 && /not in subscription/.test(String(e)));
    const path = `/subscriptions/${SUB}/metrics:getBatch`;
    const noNs = await raw(emu, 'POST', `${path}?api-version=2024-02-01&metricnames=RequestsPerMinute`, JSON.stringify({ resourceids: [epId] }));
    assert.equal(noNs.status, 400);
    assert.match(noNs.text, /metricnamespace/);
    const noVersion = await raw(emu, 'POST', `${path}?metricnamespace=${encodeURIComponent(EP_NS)}&metricnames=RequestsPerMinute`, JSON.stringify({ resourceids: [epId] }));
    assert.equal(noVersion.status, 400);
    assert.match(noVersion.text, /MissingApiVersionParameter/);
  });
});

test('--metrics-delay hides requests from metrics until the delay has passed', async () => {
  const emu = await startTestEmulator({ provisionTimeMs: 20, metricsDelayMs: 1500 });
  try {
    const client = armClient(emu);
    const key = await anEndpointWith(client, 'delay-ep', { blue: 'azureml:fraud-detector:1' });
    await setTraffic(client, 'delay-ep', { blue: 100 });
    for (let i = 0; i < 10; i++) await score(emu, 'delay-ep', key);
    const q = () =>
      metricsClient(emu).queryResource(`${WS_PATH}/onlineEndpoints/delay-ep`, ['RequestsPerMinute'], { granularity: 'FULL', aggregations: ['Total'], timespan: { duration: 'PT5M' } });
    assert.equal(series(await q(), 'RequestsPerMinute').get('')?.total ?? 0, 0);
    await new Promise((r) => setTimeout(r, 1700));
    assert.equal(series(await q(), 'RequestsPerMinute').get('')?.total, 10);
  } finally {
    await emu.close();
  }
});
