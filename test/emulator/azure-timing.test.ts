// Azure Monitor's timing on a switch (`startEmulator({ azureTiming })`, `--azure-timing`): metrics in a
// 1-minute grain, each minute visible a minute after it closes; every traffic-log row visible 3–10 minutes
// after its request, the delays drawn from a seeded source. The clock runs ahead instead of the test
// waiting minutes; the clients are the unmodified MetricsClient and LogsQueryClient.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogsQueryClient } from '@azure/monitor-query-logs';
import { MetricsClient } from '@azure/monitor-query-metrics';
import { emulatorCredential, emulatorLogsClientOptions } from '../../emulator/index.js';
import { AZURE_LOG_DELAY_MS, TelemetryTiming } from '../../emulator/telemetry-timing.js';
import { anEndpointWith, armClient, score, setTraffic, startTestEmulator, WS_PATH } from './support.js';

const EP_NS = 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints';
const MINUTE = 60_000;

test('metrics cutoff: a minute shows one minute after it closes, never before', () => {
  const t = new TelemetryTiming(0, { seed: 1 });
  const at = (iso: string) => Date.parse(`2026-01-01T${iso}Z`);
  // At 10:05:30 the minute 10:03–10:04 closed at 10:04 and shows from 10:05: the last visible minute.
  assert.equal(t.metricsCutoff(at('10:05:30')), at('10:04:00') - 1);
  assert.equal(t.metricsCutoff(at('10:05:00')), at('10:04:00') - 1);
  assert.equal(t.metricsCutoff(at('10:04:59.999')), at('10:03:00') - 1);
  assert.equal(new TelemetryTiming(0, undefined).metricsCutoff(at('10:05:30')), at('10:05:30'), 'instant by default');
  assert.equal(new TelemetryTiming(2000, undefined).metricsCutoff(at('10:05:30')), at('10:05:28'), '--metrics-delay alone is a fixed delay');
});

test('log delays are drawn from 3–10 minutes, the same for the same seed, different for another', () => {
  const draws = (seed: number) => {
    const t = new TelemetryTiming(0, { seed });
    return Array.from({ length: 500 }, () => t.nextLogDelayMs());
  };
  const a = draws(7);
  assert.deepEqual(draws(7), a);
  assert.notDeepEqual(draws(8), a);
  assert.ok(a.every((d) => d >= AZURE_LOG_DELAY_MS.min && d <= AZURE_LOG_DELAY_MS.max), 'every delay within 3–10 minutes');
  assert.ok(Math.min(...a) < 3.5 * MINUTE && Math.max(...a) > 9.5 * MINUTE, 'the whole range is used');
  assert.equal(new TelemetryTiming(0, undefined).nextLogDelayMs(), 0, 'instant by default');
});

test('under Azure timing, metrics and log rows are invisible right after the requests, and visible once Azure would show them', async () => {
  let aheadMs = 0;
  const emu = await startTestEmulator({ provisionTimeMs: 20, azureTiming: { seed: 3, now: () => Date.now() + aheadMs } });
  try {
    const arm = armClient(emu);
    const key = await anEndpointWith(arm, 'late-ep', { blue: 'azureml:fraud-detector:1' });
    await setTraffic(arm, 'late-ep', { blue: 100 });
    const first = Date.now();
    for (let i = 0; i < 30; i++) await score(emu, 'late-ep', key);
    const last = Date.now();
    const metrics = new MetricsClient(emu.url, emulatorCredential(), { tlsOptions: { ca: emu.caCertPem } });
    const logs = new LogsQueryClient(emulatorCredential(), emulatorLogsClientOptions(emu));
    const window = { startTime: new Date(first - 2 * MINUTE), endTime: new Date(last + 2 * MINUTE) };
    const metricCount = async () => {
      const [r] = await metrics.queryResources([`${WS_PATH}/onlineEndpoints/late-ep`], ['RequestsPerMinute'], EP_NS, { ...window, aggregation: 'Total', interval: 'FULL' });
      return (r?.metrics[0]?.timeseries ?? []).flatMap((t) => t.data ?? []).reduce((a, p) => a + (p.total ?? 0), 0);
    };
    const logCount = async () => {
      const r = await logs.queryWorkspace(emu.logsWorkspaceId, 'AmlOnlineEndpointTrafficLog | where EndpointName == "late-ep" | summarize n = count()', window);
      assert.equal(r.status, 'Success');
      return Number(r.tables[0]?.rows[0]?.[0]);
    };

    assert.equal(await metricCount(), 0, 'no metrics while the minute is open');
    assert.equal(await logCount(), 0, 'no log rows right away');

    // Just before the minute after the last request's minute ends: still no metric for that minute.
    const lastMinuteEnd = Math.floor(last / MINUTE) * MINUTE + MINUTE;
    aheadMs = lastMinuteEnd + MINUTE - 50 - Date.now();
    assert.ok((await metricCount()) < 30, 'the last minute is not shown before a minute has passed since it closed');
    aheadMs = lastMinuteEnd + MINUTE + 10 - Date.now();
    assert.equal(await metricCount(), 30, 'every minute shows a minute after it closes');

    aheadMs = first + AZURE_LOG_DELAY_MS.min - 100 - Date.now();
    assert.equal(await logCount(), 0, 'no row before 3 minutes');
    aheadMs = last + AZURE_LOG_DELAY_MS.max + 100 - Date.now();
    assert.equal(await logCount(), 30, 'every row by 10 minutes');
    aheadMs = first + 6.5 * MINUTE - Date.now();
    const midway = await logCount();
    assert.ok(midway > 0 && midway < 30, `some rows but not all after 6.5 minutes (${midway})`);
  } finally {
    await emu.close();
  }
});
