// The metrics activity reading the Log Analytics traffic log: the unmodified LogsQueryClient and
// MetricsClient (through the activities' client factory and the emulator's credential) against a live
// emulator with real scoring traffic; what the snapshot says per deployment, what a filter changes, what
// a failed or partial log read makes of the analysis, and that under Azure's timing the activity never
// reads a window Azure has not filled yet.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import { MockActivityEnvironment } from '@temporalio/testing';
import { AzureClientFactory } from '../../activities/azure-clients.js';
import { createMetricsActivities } from '../../activities/metrics.js';
import type { GetMetricsSnapshotInput, MetricsSnapshot } from '../../activities/types.js';
import { evaluateGates } from '../../domain/gates.js';
import type { EndpointRef } from '../../domain/ids.js';
import { AZURE_INGESTION_DELAYS, INSTANT_INGESTION_DELAYS, type IngestionDelays } from '../../domain/telemetry-timing.js';
import { emulatorCredential, generateTraffic, type Emulator, type EmulatorOptions, type ScoreRecord } from '../../emulator/index.js';
import { armClient, anEndpointWith, RG, setTraffic, startTestEmulator, SUB, WS } from '../emulator/support.js';

const WORKSPACE = '7f1c0a43-5d2e-4b8e-9a51-3c2d1e0f9a77';
const ref = (endpoint: string): EndpointRef => ({ subscriptionId: SUB, resourceGroup: RG, workspace: WS, endpoint });

interface Bed {
  emu: Emulator;
  arm: AzureMachineLearningWorkspaces;
  key: string;
  factory: AzureClientFactory;
  calls: string[];
}

async function bed(endpoint: string, options: EmulatorOptions = {}): Promise<Bed> {
  const emu = await startTestEmulator({ provisionTimeMs: 100, ...options });
  const arm = armClient(emu);
  const calls: string[] = [];
  const factory = new AzureClientFactory(
    { cloud: 'emulator', url: emu.url, caCertPem: emu.caCertPem, credential: emulatorCredential() },
    { retryBaseDelayMs: 20, maxRetries: 0, onCall: (c) => calls.push(c.service) },
  );
  const key = await anEndpointWith(arm, endpoint, { blue: 'azureml:fraud-detector:1', green: 'azureml:fraud-detector:3' });
  await setTraffic(arm, endpoint, { blue: 100 }, { green: 40 });
  return { emu, arm, key, factory, calls };
}

async function snapshot(b: Bed, input: GetMetricsSnapshotInput, delays: IngestionDelays = INSTANT_INGESTION_DELAYS, now?: () => number): Promise<MetricsSnapshot> {
  const acts = createMetricsActivities(b.factory, { delays, ...(now ? { now } : {}) });
  return (await new MockActivityEnvironment().run(acts.getMetricsSnapshot, input)) as MetricsSnapshot;
}

/** Kusto's nearest-rank percentile of whole milliseconds (the traffic log rounds TotalDurationMs). */
function nearestRank(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? null;
}

describe('the traffic log in the metrics snapshot (instant telemetry)', () => {
  let b: Bed;
  let started = 0;
  let served: ScoreRecord[] = [];
  before(async () => {
    b = await bed('logs-ep');
    b.emu.faults.setBehaviour('green', { errorRate: 0.2 }, 'logs-ep');
    started = Date.now();
    const t = await generateTraffic({ url: b.emu.url, endpoint: 'logs-ep', key: b.key, rps: 80, durationMs: 3000, seed: 11, caCertPem: b.emu.caCertPem });
    assert.ok(t.completed > 150, JSON.stringify(t));
    await new Promise((r) => setTimeout(r, 300)); // mirrored copies finish after the primary answers
    served = b.emu.requestLog().filter((r) => r.endpoint === 'logs-ep' && r.time >= started);
  });
  after(async () => {
    await b?.emu.close();
  });

  const windowMs = () => Date.now() - started + 60_000;

  test('per deployment: requests, counts by status and model status, exceedances and percentiles equal the requests served', async () => {
    const s = await snapshot(b, { endpoint: ref('logs-ep'), baseline: 'blue', candidate: 'green', windowMs: windowMs(), logs: { workspaceId: WORKSPACE, exceedanceMs: [1, 5, 50] } });
    assert.equal(s.logsProblem, undefined);
    for (const [name, m] of [['blue', s.baseline], ['green', s.candidate]] as const) {
      const mine = served.filter((r) => r.deployment === name);
      const ms = mine.map((r) => Math.max(0, Math.round(r.latencyMs)));
      const log = m?.log;
      assert.ok(log, `${name} has a log block`);
      assert.equal(log.requests, mine.length, `${name} requests`);
      const byStatus: Record<string, number> = {};
      for (const r of mine) byStatus[String(r.statusCode)] = (byStatus[String(r.statusCode)] ?? 0) + 1;
      assert.deepEqual(log.byStatus, byStatus, `${name} counts by status`);
      const byModel: Record<string, number> = {};
      for (const r of mine) {
        const k = r.modelStatusCode === undefined ? 'none' : String(r.modelStatusCode);
        byModel[k] = (byModel[k] ?? 0) + 1;
      }
      assert.deepEqual(log.byModelStatus, byModel, `${name} counts by model status`);
      assert.deepEqual(
        log.exceedances,
        [1, 5, 50].map((aboveMs) => ({ aboveMs, count: ms.filter((x) => x > aboveMs).length })),
        `${name} exceedances`,
      );
      assert.deepEqual(log.latencyMs, { p50: nearestRank(ms, 50), p95: nearestRank(ms, 95), p99: nearestRank(ms, 99) }, `${name} percentiles`);
      assert.equal(log.requests, m.requests, `${name}: the log and the metrics count the same requests`);
    }
    assert.ok((s.candidate?.log?.byStatus['424'] ?? 0) > 0, 'the faulty candidate has 424s in its log');
    assert.equal(s.baseline?.log?.byStatus['424'], undefined, 'the healthy baseline has none');
    const text = JSON.stringify(s);
    for (const r of served.slice(0, 20)) assert.ok(!text.includes(r.requestId), 'no request id reaches the snapshot');
  });

  test('the judge’s frozen thresholds (fractional ms) are counted in the same query as the plan’s, and the metrics carry 5xx and 424 counts', async () => {
    // TotalDurationMs is whole ms: above 1.5 is above 1, above 4.25 is above 4. Compared within one answer,
    // so requests still arriving on a busy machine cannot make the two differ.
    const s = await snapshot(b, { endpoint: ref('logs-ep'), baseline: 'blue', candidate: 'green', windowMs: windowMs(), logs: { workspaceId: WORKSPACE, exceedanceMs: [1, 4] }, judgeExceedanceMs: [1.5, 4.25] });
    assert.equal(s.logsProblem, undefined);
    for (const [name, m] of [['blue', s.baseline], ['green', s.candidate]] as const) {
      const log = m?.log;
      assert.ok(log && log.requests > 0, `${name} has logged requests`);
      assert.deepEqual(log.judgeExceedances?.map((e) => e.aboveMs), [1.5, 4.25]);
      assert.deepEqual(log.judgeExceedances?.map((e) => e.count), log.exceedances.map((e) => e.count), `${name}: above 1.5/4.25 ms equals above 1/4 ms`);
      assert.equal(m!.errors424, Math.round(m!.modelErrorRate! * m!.requests), `${name} 424 count`);
      assert.equal(m!.errors5xx, Math.round(m!.errorRate! * m!.requests), `${name} 5xx count`);
    }
    assert.ok(s.baseline!.log!.judgeExceedances![0]!.count > 0 || s.candidate!.log!.judgeExceedances![0]!.count > 0, 'some requests took 2 ms or more (the counts are not all zero)');
    assert.ok((s.candidate?.errors424 ?? 0) > 0, 'the faulty candidate’s 424s are counted');
    assert.equal(s.baseline?.errors424, 0, 'the healthy baseline has none');
  });

  test('the plan’s where filter narrows the evidence, and only the evidence', async () => {
    const s = await snapshot(b, { endpoint: ref('logs-ep'), baseline: 'blue', candidate: 'green', windowMs: windowMs(), logs: { workspaceId: WORKSPACE, where: 'ResponseCode == 200', exceedanceMs: [] } });
    const ok = served.filter((r) => r.deployment === 'green' && r.statusCode === 200).length;
    assert.equal(s.candidate?.log?.requests, ok);
    assert.deepEqual(s.candidate?.log?.byStatus, { 200: ok });
    assert.equal(s.candidate?.requests, served.filter((r) => r.deployment === 'green').length, 'the metrics are not filtered');
  });

  test('metrics and logs are each read through their own client: three batch-metrics calls, one Logs batch request', async () => {
    b.calls.length = 0;
    b.emu.resetCallLog();
    await snapshot(b, { endpoint: ref('logs-ep'), baseline: 'blue', candidate: 'green', windowMs: windowMs(), logs: { workspaceId: WORKSPACE, exceedanceMs: [] } });
    const calls = b.emu.callLog();
    assert.deepEqual(calls.filter((c) => c.kind === 'metrics').map((c) => c.method + ' ' + c.path.replace(/^\/subscriptions\/[^/]+/, '')), Array(3).fill('POST /metrics:getBatch'));
    assert.ok(calls.filter((c) => c.kind === 'metrics').every((c) => /api%2Dversion=2024-02-01/i.test(c.query) || /api-version=2024-02-01/.test(c.query)), 'the batch API is called with its api-version');
    assert.deepEqual(calls.filter((c) => c.kind === 'logs').map((c) => `${c.method} ${c.path}`), ['POST /v1/$batch']);
    assert.deepEqual(b.calls.filter((s) => s !== 'ml').sort(), ['logs', 'metrics', 'metrics', 'metrics']);
  });

  test('a failed log query makes the analysis inconclusive with the reason, though the metrics alone would pass', async () => {
    b.emu.faults.failNext({ target: 'logs', status: 500, count: 5 });
    const s = await snapshot(b, { endpoint: ref('logs-ep'), baseline: 'blue', candidate: 'blue', windowMs: windowMs(), logs: { workspaceId: WORKSPACE, exceedanceMs: [] } });
    b.emu.faults.clear();
    assert.match(s.logsProblem ?? '', new RegExp(`could not query workspace ${WORKSPACE} \\(HTTP 500`));
    assert.ok(s.baseline && s.baseline.requests > 0, 'the metrics were still read');
    const gates = { errorRate: { max: 0.5 } };
    assert.equal(evaluateGates(gates, { ...s, logsProblem: undefined }, { minRequests: 1 }).status, 'pass', 'without the log problem the gates pass');
    const v = evaluateGates(gates, s, { minRequests: 1 });
    assert.equal(v.status, 'inconclusive');
    assert.ok(v.reasons.some((r) => r.startsWith('traffic log: could not query workspace')), v.reasons.join('; '));
  });
});

test('a partial answer from Log Analytics is inconclusive, naming the partial error', async () => {
  const b = await bed('partial-ep', { logsResultRowLimit: 1 });
  try {
    const started = Date.now();
    await generateTraffic({ url: b.emu.url, endpoint: 'partial-ep', key: b.key, rps: 40, durationMs: 1000, seed: 3, caCertPem: b.emu.caCertPem });
    await new Promise((r) => setTimeout(r, 200));
    const s = await snapshot(b, { endpoint: ref('partial-ep'), baseline: 'blue', candidate: 'green', windowMs: Date.now() - started + 60_000, logs: { workspaceId: WORKSPACE, exceedanceMs: [] } });
    assert.match(s.logsProblem ?? '', /partial result for .*PartialError/);
    const v = evaluateGates({}, s, { minRequests: 1 });
    assert.equal(v.status, 'inconclusive');
    assert.ok(v.reasons.some((r) => /^traffic log: partial result/.test(r)), v.reasons.join('; '));
  } finally {
    await b.emu.close();
  }
});

test('under Azure timing the activity reads only what Azure has filled: nothing right after the traffic, all of it once the delays have passed', async () => {
  let aheadMs = 0;
  const clock = () => Date.now() + aheadMs;
  const b = await bed('timing-ep', { azureTiming: { seed: 5, now: clock } });
  try {
    const started = Date.now();
    await generateTraffic({ url: b.emu.url, endpoint: 'timing-ep', key: b.key, rps: 40, durationMs: 1500, seed: 4, caCertPem: b.emu.caCertPem });
    await new Promise((r) => setTimeout(r, 200));
    const served = b.emu.requestLog().filter((r) => r.endpoint === 'timing-ep' && r.time >= started);
    const input = { endpoint: ref('timing-ep'), baseline: 'blue', candidate: 'green', windowMs: 5 * 60_000, logs: { workspaceId: WORKSPACE, exceedanceMs: [] } };

    // Right away, the window ends 10 minutes ago: Azure shows nothing of this traffic, and the activity asks for none of it.
    const now = await snapshot(b, input, AZURE_INGESTION_DELAYS, clock);
    assert.ok(now.endMs !== undefined && now.endMs < started && now.endMs <= Date.now() - 600_000, `the window ends the logs' delay before now, before this traffic (${now.endMs} vs ${started})`);
    assert.equal(now.baseline, null);
    assert.equal(now.candidate, null);

    // Were the activity to ignore the delay, it would see a partly filled window: no metrics yet, at most some log rows.
    const eager = await snapshot(b, input, INSTANT_INGESTION_DELAYS, clock);
    assert.equal(eager.baseline, null, 'metrics of the current minute are not visible yet');

    // Eleven minutes later (the clock runs ahead), the same window Azure has filled holds every request.
    aheadMs = 11 * 60_000;
    const later = await snapshot(b, input, AZURE_INGESTION_DELAYS, clock);
    for (const [name, m] of [['blue', later.baseline], ['green', later.candidate]] as const) {
      const n = served.filter((r) => r.deployment === name).length;
      assert.equal(m?.requests, n, `${name}: metrics count every request`);
      assert.equal(m?.log?.requests, n, `${name}: the log has every row`);
    }
  } finally {
    await b.emu.close();
  }
});

test('an analysis cancelled while its metrics and log queries are in flight fails cleanly: the aborted log read is never an unhandled rejection (it crashed the worker)', async () => {
  const b = await bed('cancel-ep');
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown): void => {
    unhandled.push(e);
  };
  process.on('unhandledRejection', onUnhandled);
  try {
    const acts = createMetricsActivities(b.factory, { delays: INSTANT_INGESTION_DELAYS });
    const input = { endpoint: ref('cancel-ep'), baseline: 'blue', candidate: 'green', windowMs: 60_000, logs: { workspaceId: WORKSPACE, exceedanceMs: [] } };
    // Warm the region cache, then cancel at several moments so that some cancellations land while both reads are open.
    await new MockActivityEnvironment().run(acts.getMetricsSnapshot, input);
    for (const delayMs of [0, 1, 2, 3, 5, 8, 12, 20]) {
      const env = new MockActivityEnvironment();
      const run = env.run(acts.getMetricsSnapshot, input);
      setTimeout(() => env.cancel(), delayMs);
      await run.catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(unhandled.map((e) => (e as Error).message), []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    await b.emu.close();
  }
});
