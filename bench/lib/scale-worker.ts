// The worker of bench/scale.ts, in its own process: real activities (Azure SDK → emulator) except a
// healthy metrics stand-in, SDK metrics on Prometheus. Prints "ready" when polling, and on SIGTERM prints
// "USAGE {maxRssKiB, cpuS, metricsQueries, peak main-thread heap}" and exits. Not a benchmark by itself
// (run-bench lists only bench/*.ts; it is started by scale.ts; running it alone waits for a server).
// SCALE_MAX_CACHED_WORKFLOWS sets the SDK's workflow cache, for experiments on where the memory goes.
import { readFileSync } from 'node:fs';
import { NativeConnection, Runtime, Worker, DefaultLogger } from '@temporalio/worker';
import { createActivities } from '../../activities/create-activities.js';
import { emulatorCredential } from '../../emulator/sdk.js';
import { healthyMetrics } from '../../test/support/builders.js';

const env = (k: string): string => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set (bench/scale-worker.ts is started by bench/scale.ts)`);
  return v;
};

Runtime.install({ logger: new DefaultLogger('WARN'), telemetryOptions: { metrics: { prometheus: { bindAddress: env('SCALE_METRICS') } } } });
let metricsQueries = 0;
const real = createActivities({ azure: { cloud: 'emulator', url: env('SCALE_EMULATOR_URL'), caCertPem: readFileSync(env('SCALE_EMULATOR_CA'), 'utf8'), credential: emulatorCredential() }, pollIntervalMs: 500 });
const connection = await NativeConnection.connect({ address: env('TEMPORAL_ADDRESS') });
const worker = await Worker.create({
  connection,
  taskQueue: env('SCALE_TASK_QUEUE'),
  workflowBundle: { code: readFileSync(env('SCALE_BUNDLE'), 'utf8') },
  ...(process.env.SCALE_MAX_CACHED_WORKFLOWS ? { maxCachedWorkflows: Number(process.env.SCALE_MAX_CACHED_WORKFLOWS) } : {}),
  activities: {
    ...real,
    getMetricsSnapshot: async () => {
      metricsQueries += 1;
      return healthyMetrics();
    },
  },
});
process.on('SIGTERM', () => worker.shutdown());
// What the resident memory is made of, at its peak: the JS heap (workflow state, activities) vs the rest.
const peak = { heapUsedMiB: 0, heapTotalMiB: 0, externalMiB: 0 };
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  peak.heapUsedMiB = Math.max(peak.heapUsedMiB, m.heapUsed / 2 ** 20);
  peak.heapTotalMiB = Math.max(peak.heapTotalMiB, m.heapTotal / 2 ** 20);
  peak.externalMiB = Math.max(peak.externalMiB, m.external / 2 ** 20);
}, 1000);
const running = worker.run();
console.log('ready');
await running;
clearInterval(sampler);
const usage = process.resourceUsage();
console.log(`USAGE ${JSON.stringify({ maxRssKiB: usage.maxRSS, cpuS: (usage.userCPUTime + usage.systemCPUTime) / 1e6, metricsQueries, ...peak })}`);
await connection.close();
