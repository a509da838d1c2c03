/**
 * The Glidepath worker (`glidepath worker`): wiring only. It installs the Temporal runtime (JSON logs,
 * Prometheus `/metrics` with the SDK's metrics and Glidepath's own), connects to Temporal with the
 * envconfig settings, builds the activities for Azure or the emulator, and polls the task queue until
 * SIGTERM/SIGINT — then it stops polling, lets running activities finish (or heartbeat out) within the
 * grace time, and exits 0.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MetricCounter } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime, Worker, makeTelemetryFilterString, type LogEntry } from '@temporalio/worker';
import { armBudgetShare } from '../activities/azure-clients.js';
import { createActivities } from '../activities/create-activities.js';
import type { RolloutActivities } from '../activities/types.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../domain/errors.js';
import { emulatorCredential } from '../emulator/sdk.js';
import { loadWorkerConfig, type WorkerConfig } from './config.js';

/** Glidepath's own counters, on the runtime's meter (so they share the SDK's Prometheus endpoint). */
export interface GlidepathMetrics {
  rollouts: MetricCounter;
  verdicts: MetricCounter;
  azureCalls: MetricCounter;
}

function installRuntime(config: WorkerConfig): GlidepathMetrics {
  Runtime.install({
    logger: new DefaultLogger(config.logLevel, (entry: LogEntry) => {
      const line = { time: new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString(), level: entry.level, message: entry.message, ...entry.meta };
      process.stderr.write(`${JSON.stringify(line, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
    }),
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} },
      ...(config.metrics ? { metrics: { prometheus: { bindAddress: `${config.metrics.host}:${config.metrics.port}` } } } : {}),
    },
  });
  const meter = Runtime.instance().metricMeter;
  return {
    rollouts: meter.createCounter('glidepath_rollouts', 'rollouts', 'Rollout events by kind: started, promoted, rolled_back, rejected, aborted, failed'),
    verdicts: meter.createCounter('glidepath_gate_verdicts', 'verdicts', 'Analysis verdicts by status: pass, fail, inconclusive'),
    azureCalls: meter.createCounter('glidepath_azure_calls', 'calls', 'Azure management-plane HTTP attempts by service, kind and status'),
  };
}

const ROLLOUT_EVENTS: Record<string, string> = {
  started: 'started',
  promoted: 'promoted',
  rolled_back: 'rolled_back',
  rollback_failed: 'rollback_failed',
};

/** Wraps the `notify` activity so that the notifications a rollout sends feed Glidepath's counters. */
function instrument(activities: RolloutActivities, metrics: GlidepathMetrics): RolloutActivities {
  return {
    ...activities,
    async notify(input) {
      const event = ROLLOUT_EVENTS[input.kind];
      if (event) metrics.rollouts.add(1, { event });
      if (input.kind === 'verdict' && typeof input.fields?.status === 'string') metrics.verdicts.add(1, { status: input.fields.status });
      if (input.kind === 'finished' && typeof input.fields?.outcome === 'string') metrics.rollouts.add(1, { event: `finished_${input.fields.outcome}` });
      return activities.notify(input);
    },
  };
}

/** Runs a worker until a shutdown signal; resolves when it has shut down cleanly. */
export async function runWorker(config: WorkerConfig = loadWorkerConfig()): Promise<void> {
  const metrics = installRuntime(config);
  const connection = await NativeConnection.connect(config.temporal.connectionOptions);
  const activities = createActivities({
    azure: config.cloud.cloud === 'emulator' ? { cloud: 'emulator', url: config.cloud.url, caCertPem: config.cloud.caCertPem, credential: emulatorCredential() } : { cloud: 'azure', ...(config.cloud.pricesUrl ? { pricesUrl: config.cloud.pricesUrl } : {}) },
    clientOptions: {
      budgetLimits: armBudgetShare(config.armBudgetPercent),
      onCall: ({ service, kind, status }) => metrics.azureCalls.add(1, { service, kind, status: String(status) }),
    },
    slack: config.slack,
    ...(config.webhookSecret ? { webhookSecret: config.webhookSecret } : {}),
    ...(config.cloud.cloud === 'emulator' ? { pollIntervalMs: 500 } : {}),
  });
  const bundlePath = config.workflowBundlePath;
  if (bundlePath && !existsSync(bundlePath)) throw new Error(`GLIDEPATH_WORKFLOW_BUNDLE: ${bundlePath} does not exist (build it with npm run build:bundle)`);
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.taskQueue,
    ...(bundlePath
      ? { workflowBundle: { code: readFileSync(bundlePath, 'utf8') } }
      : { workflowsPath: fileURLToPath(new URL('../workflows/index.ts', import.meta.url)) }),
    activities: instrument(activities, metrics),
    maxConcurrentActivityTaskExecutions: config.maxConcurrentActivities,
    shutdownGraceTime: config.shutdownGraceMs,
  });
  Runtime.instance().logger.info('glidepath worker started', {
    taskQueue: config.taskQueue,
    namespace: config.temporal.namespace,
    cloud: config.cloud.cloud,
    metrics: config.metrics ? `http://${config.metrics.host}:${config.metrics.port}/metrics` : 'off',
    nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES.length,
  });
  try {
    await worker.run(); // returns after SIGINT/SIGTERM (the runtime's shutdown signals) once in-flight work is done
  } finally {
    await connection.close();
  }
  Runtime.instance().logger.info('glidepath worker stopped');
}
