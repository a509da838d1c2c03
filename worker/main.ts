/**
 * The Glidepath worker (`glidepath worker`, and the worker inside `glidepath demo`): wiring only. It
 * installs the Temporal runtime (JSON logs, Prometheus `/metrics` with the SDK's metrics and Glidepath's
 * own), connects to Temporal with the envconfig settings, builds the activities for Azure or the emulator,
 * and polls the task queue until SIGTERM/SIGINT (or `shutdown()`) — then it stops polling, lets running
 * activities finish (or heartbeat out) within the grace time, and exits 0.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { IllegalStateError, type MetricCounter } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime, Worker, makeTelemetryFilterString, type LogEntry, type Logger, type WorkflowBundle } from '@temporalio/worker';
import { armBudgetShare } from '../activities/azure-clients.js';
import { createActivities } from '../activities/create-activities.js';
import { AZURE_INGESTION_DELAYS, INSTANT_INGESTION_DELAYS } from '../domain/telemetry-timing.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../domain/errors.js';
import { emulatorCredential } from '../emulator/sdk.js';
import { prebuiltWorkflowBundlePath } from './bundle.js';
import { loadWorkerConfig, type WorkerConfig } from './config.js';

/**
 * The worker's own counter, on the runtime's meter (so it shares the SDK's Prometheus endpoint). The rollout
 * and verdict counters (`glidepath_rollouts_total`, `glidepath_gate_verdicts_total`) are counted by the
 * workflow itself: workflows/metrics.ts.
 */
interface WorkerMetrics {
  azureCalls: MetricCounter;
}

/** JSON lines on stderr, one per log entry. */
function jsonLogger(level: WorkerConfig['logLevel']): Logger {
  return new DefaultLogger(level, (entry: LogEntry) => {
    const line = { time: new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString(), level: entry.level, message: entry.message, ...entry.meta };
    process.stderr.write(`${JSON.stringify(line, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
  });
}

/** Installs the Temporal runtime, or keeps the one the process already has (a test, a second worker), and makes the counters. */
function installRuntime(config: WorkerConfig, logger: Logger): WorkerMetrics {
  try {
    Runtime.install({
      logger,
      telemetryOptions: {
        logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} },
        ...(config.metrics ? { metrics: { prometheus: { bindAddress: `${config.metrics.host}:${config.metrics.port}` } } } : {}),
      },
    });
  } catch (err) {
    if (!(err instanceof IllegalStateError)) throw err;
    // The process has a runtime already: keep it, with its logger and metrics.
  }
  const meter = Runtime.instance().metricMeter;
  return {
    azureCalls: meter.createCounter('glidepath_azure_calls_total', 'calls', 'Azure management-plane HTTP attempts by service, kind and status'),
  };
}

/** What a process that embeds a worker (the demo) may choose beyond the configuration. */
export interface StartWorkerOptions {
  /**
   * The workflow code, already bundled (worker/bundle.ts). Default: the file at `config.workflowBundlePath`,
   * else workflows/index.ts bundled when the worker starts.
   */
  workflowBundle?: WorkflowBundle;
  /** How often activities poll Azure's long-running operations (default 500 ms on the emulator, 2 s on Azure). */
  azurePollIntervalMs?: number;
  /** How long after the grace time a shutdown waits for activities to give up before it stops anyway (default: no limit). */
  shutdownForceMs?: number;
  /**
   * How the runtime logs at `config.logLevel`, when this call installs it: `json` lines on stderr (default,
   * for log collectors) or the SDK's one-line `text` (for a person at a terminal: the demo).
   */
  logFormat?: 'json' | 'text';
}

/** A worker that polls its task queue until `shutdown()` or a shutdown signal (SIGINT, SIGTERM). */
export interface RunningWorker {
  readonly taskQueue: string;
  /** Settles once the worker has stopped and its connection is closed; rejects when it stopped on an error. */
  readonly stopped: Promise<void>;
  /** Stops polling, lets running activities finish (or heartbeat out) within the grace time; resolves once stopped. */
  shutdown(): Promise<void>;
}

/**
 * Starts a worker from its configuration: installs the Temporal runtime (logs, Prometheus `/metrics`)
 * unless the process has one, connects to Temporal, builds the activities for Azure or the emulator
 * (`config.cloud`), and polls `config.taskQueue`. Resolves once the worker polls.
 */
export async function startWorker(config: WorkerConfig, options: StartWorkerOptions = {}): Promise<RunningWorker> {
  const metrics = installRuntime(config, options.logFormat === 'text' ? new DefaultLogger(config.logLevel) : jsonLogger(config.logLevel));
  const bundlePath = config.workflowBundlePath ?? prebuiltWorkflowBundlePath() ?? undefined;
  if (!options.workflowBundle && bundlePath && !existsSync(bundlePath)) throw new Error(`GLIDEPATH_WORKFLOW_BUNDLE: ${bundlePath} does not exist (build it with npm run build:bundle)`);
  const connection = await NativeConnection.connect(config.temporal.connectionOptions);
  const pollIntervalMs = options.azurePollIntervalMs ?? (config.cloud.cloud === 'emulator' ? 500 : undefined);
  const activities = createActivities({
    azure: config.cloud.cloud === 'emulator' ? { cloud: 'emulator', url: config.cloud.url, caCertPem: config.cloud.caCertPem, credential: emulatorCredential() } : { cloud: 'azure', ...(config.cloud.pricesUrl ? { pricesUrl: config.cloud.pricesUrl } : {}) },
    clientOptions: {
      budgetLimits: armBudgetShare(config.armBudgetPercent),
      onCall: ({ service, kind, status }) => metrics.azureCalls.add(1, { service, kind, status: String(status) }),
    },
    slack: config.slack,
    ...(config.decisionTrust ? { decisionTrust: config.decisionTrust } : {}),
    ...(config.webhookSecret ? { webhookSecret: config.webhookSecret } : {}),
    ...(pollIntervalMs !== undefined ? { pollIntervalMs } : {}),
    ...(config.ingestionDelay ? { ingestionDelays: config.ingestionDelay === 'azure' ? AZURE_INGESTION_DELAYS : INSTANT_INGESTION_DELAYS } : {}),
  });
  let worker: Worker;
  try {
    worker = await Worker.create({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.taskQueue,
      ...(options.workflowBundle
        ? { workflowBundle: options.workflowBundle }
        : bundlePath
          ? { workflowBundle: { code: readFileSync(bundlePath, 'utf8') } }
          : { workflowsPath: fileURLToPath(new URL('../workflows/index.ts', import.meta.url)) }),
      activities,
      maxConcurrentActivityTaskExecutions: config.maxConcurrentActivities,
      shutdownGraceTime: config.shutdownGraceMs,
      ...(options.shutdownForceMs !== undefined ? { shutdownForceTime: options.shutdownForceMs } : {}),
    });
  } catch (err) {
    await connection.close().catch(() => undefined);
    throw err;
  }
  Runtime.instance().logger.info('glidepath worker started', {
    taskQueue: config.taskQueue,
    namespace: config.temporal.namespace,
    cloud: config.cloud.cloud,
    metrics: config.metrics ? `http://${config.metrics.host}:${config.metrics.port}/metrics` : 'off',
    nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES.length,
  });
  // run() returns after shutdown() or SIGINT/SIGTERM (the runtime's shutdown signals) once in-flight work is done.
  const stopped = worker.run().finally(() => connection.close());
  stopped.catch(() => undefined); // a caller that never awaits `stopped` must not see an unhandled rejection
  return {
    taskQueue: config.taskQueue,
    stopped,
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await stopped;
    },
  };
}

/** Runs a worker until a shutdown signal; resolves when it has shut down cleanly (`glidepath worker`). */
export async function runWorker(config: WorkerConfig = loadWorkerConfig()): Promise<void> {
  const worker = await startWorker(config);
  await worker.stopped;
  Runtime.instance().logger.info('glidepath worker stopped');
}
