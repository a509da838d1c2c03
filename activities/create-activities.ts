/**
 * `createActivities(deps)`: the rollout's activities, wired to the clients and settings the worker (or a
 * test) injects. One call per worker process, so caches and the per-subscription ARM budget are shared
 * by every rollout the worker runs.
 */
import { AZURE_INGESTION_DELAYS, INSTANT_INGESTION_DELAYS, type IngestionDelays } from '../domain/telemetry-timing.js';
import { AzureClientFactory, type AzureTarget, type ClientFactoryOptions } from './azure-clients.js';
import { createAzureMlActivities } from './azure-ml.js';
import { createDecisionTrustActivities } from './decision-trust.js';
import { KEEP_ALIVE_MS, keepingAlive } from './heartbeat.js';
import { createMetricsActivities } from './metrics.js';
import { createPredictionActivities } from './predictions.js';
import { createPriceActivities } from './prices.js';
import { createSlackNotifier } from './slack-notifier.js';
import type { DecisionTrust } from '../domain/decision-signature.js';
import type { RolloutActivities } from './types.js';
import { createWebhookActivities } from './webhook.js';

/** What the activities need from their host. Secrets live here, never in workflow inputs. */
export interface ActivityDeps {
  azure: AzureTarget | AzureClientFactory;
  clientOptions?: ClientFactoryOptions;
  /** Interval between polls of Azure long-running operations (default 2 s, as core-lro). */
  pollIntervalMs?: number;
  /** Interval of the heartbeat an Azure activity sends while it waits (default 5 s; the workflow's heartbeat timeout is 30 s). */
  keepAliveMs?: number;
  /**
   * How far behind now the analysis window ends, per source (Azure Monitor's ingestion delay): Azure's
   * (metrics 3 min, logs 10 min) on Azure, none on the emulator by default. An emulator started with
   * `--azure-timing` needs Azure's: pass AZURE_INGESTION_DELAYS (the worker: GLIDEPATH_INGESTION_DELAY=azure).
   */
  ingestionDelays?: IngestionDelays;
  slack?: { token: string | undefined; apiUrl: string };
  webhookSecret?: string;
  /** Public keys of the signers of decisions, and the person mapping (GLIDEPATH_DECISION_SIGNERS, GLIDEPATH_PEOPLE). */
  decisionTrust?: DecisionTrust;
  fetch?: typeof fetch;
}

/** Pass an AzureClientFactory as `azure` to share it (and its ARM budget) with other code, e.g. tests reading the budget. */
export function createActivities(deps: ActivityDeps): RolloutActivities {
  const factory = deps.azure instanceof AzureClientFactory ? deps.azure : new AzureClientFactory(deps.azure, deps.clientOptions);
  const delays = deps.ingestionDelays ?? (factory.target.cloud === 'azure' ? AZURE_INGESTION_DELAYS : INSTANT_INGESTION_DELAYS);
  const everyMs = deps.keepAliveMs ?? KEEP_ALIVE_MS;
  return {
    // Azure calls heartbeat while they run (the workflow gives them a 30 s heartbeat timeout).
    ...keepingAlive(createAzureMlActivities(factory, { pollIntervalMs: deps.pollIntervalMs ?? 2000 }), everyMs),
    ...keepingAlive(createMetricsActivities(factory, { delays }), everyMs),
    ...keepingAlive(createPriceActivities(factory), everyMs),
    ...keepingAlive(createPredictionActivities(factory), everyMs),
    ...createDecisionTrustActivities(deps.decisionTrust),
    ...createWebhookActivities({ secret: deps.webhookSecret, ...(deps.fetch ? { fetch: deps.fetch } : {}) }),
    ...createSlackNotifier({
      token: deps.slack?.token,
      apiUrl: deps.slack?.apiUrl ?? 'https://slack.com/api',
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
    }),
  };
}
