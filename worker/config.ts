/**
 * The worker's configuration: Glidepath's own settings from `GLIDEPATH_*` environment variables
 * (validated with zod; a bad value is an error that names the variable), and the Temporal connection
 * from Temporal's environment configuration (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`,
 * `TEMPORAL_API_KEY`, `TEMPORAL_TLS_*`, or a `temporal.toml` profile) — the same the CLI uses.
 *
 * Secrets are read here and stay in the worker: the Slack bot token and the webhook secret go to the
 * activities, Temporal's API key to the connection; none travels through workflow inputs or histories.
 */
import { readFileSync } from 'node:fs';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { z } from 'zod';
import { parseTrustedSigners, type DecisionTrust } from '../domain/decision-signature.js';
import { parsePeople } from '../domain/approvals.js';
import { DEFAULT_TASK_QUEUE } from '../domain/ids.js';


const port = z.coerce.number().int().min(0).max(65535);

const EnvSchema = z
  .object({
    GLIDEPATH_CLOUD: z.enum(['azure', 'emulator']).default('emulator'),
    GLIDEPATH_EMULATOR_URL: z.url({ protocol: /^https$/ }).optional(),
    GLIDEPATH_EMULATOR_CA: z.string().min(1).optional(),
    GLIDEPATH_TASK_QUEUE: z.string().min(1).default(DEFAULT_TASK_QUEUE),
    /** `host:port` for the Prometheus `/metrics` endpoint; `off` disables it. */
    GLIDEPATH_METRICS_ADDRESS: z.string().default('127.0.0.1:9464'),
    GLIDEPATH_WORKFLOW_BUNDLE: z.string().min(1).optional(),
    GLIDEPATH_LOG_LEVEL: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
    GLIDEPATH_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).default(100),
    GLIDEPATH_ARM_BUDGET_PERCENT: z.coerce.number({ error: 'must be a number' }).min(1, 'must be 1..100').max(100, 'must be 1..100').default(50),
    GLIDEPATH_SHUTDOWN_GRACE: z.coerce.number().int().min(0).default(30_000),
    SLACK_BOT_TOKEN: z.string().min(1).optional(),
    SLACK_API_URL: z.url().default('https://slack.com/api'),
    GLIDEPATH_WEBHOOK_SECRET: z.string().min(1).optional(),
    GLIDEPATH_PRICES_URL: z.url().optional(),
    /** Trusted signers of decisions: `name:base64 Ed25519 public key,…` (public keys, not secrets). */
    GLIDEPATH_DECISION_SIGNERS: z.string().optional(),
    /** Who is who across channels, JSON: `{"alice@contoso.com": ["github:alice", "slack:U024BE7LH"]}`. */
    GLIDEPATH_PEOPLE: z.string().optional(),
    /** How far behind now analyses read: `azure` (metrics 3m, logs 10m), `none`, or the cloud's default when unset. */
    GLIDEPATH_INGESTION_DELAY: z.enum(['azure', 'none'], { error: 'must be azure or none' }).optional(),
  })
  .superRefine((env, ctx) => {
    if (env.GLIDEPATH_CLOUD === 'emulator') {
      if (!env.GLIDEPATH_EMULATOR_URL)
        ctx.addIssue({ code: 'custom', path: ['GLIDEPATH_EMULATOR_URL'], message: 'required when GLIDEPATH_CLOUD=emulator (e.g. https://127.0.0.1:8443)' });
      if (!env.GLIDEPATH_EMULATOR_CA)
        ctx.addIssue({ code: 'custom', path: ['GLIDEPATH_EMULATOR_CA'], message: "required when GLIDEPATH_CLOUD=emulator: the path of the emulator's CA certificate" });
    }
    if (env.GLIDEPATH_METRICS_ADDRESS !== 'off' && !/^[^:]+:\d+$/.test(env.GLIDEPATH_METRICS_ADDRESS))
      ctx.addIssue({ code: 'custom', path: ['GLIDEPATH_METRICS_ADDRESS'], message: 'must be host:port or off' });
  });

/** Where the worker's activities send their Azure calls. */
export type CloudConfig = { cloud: 'azure'; pricesUrl?: string } | { cloud: 'emulator'; url: string; caCertPem: string; caCertPath: string };

/** Everything the worker needs, validated. */
export interface WorkerConfig {
  temporal: { connectionOptions: NativeConnectionOptions; namespace: string };
  taskQueue: string;
  cloud: CloudConfig;
  metrics: { host: string; port: number } | undefined;
  workflowBundlePath: string | undefined;
  logLevel: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  maxConcurrentActivities: number;
  /** Azure Monitor's ingestion delay the activities allow for; undefined = the cloud's default (Azure's on Azure, none on the emulator). */
  ingestionDelay: 'azure' | 'none' | undefined;
  /** Share of ARM's per-principal request limits the worker allows itself per subscription (percent). */
  armBudgetPercent: number;
  shutdownGraceMs: number;
  slack: { token: string | undefined; apiUrl: string };
  webhookSecret: string | undefined;
  /** The signers whose decisions rollouts accept, and the person mapping (given to the `trustedSigners` activity). */
  decisionTrust: DecisionTrust;
}

/** Thrown when the environment does not describe a valid worker configuration. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates the configuration from `env` (default: the process environment). */
export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`);
    throw new ConfigError(`invalid worker configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  let cloud: CloudConfig;
  if (e.GLIDEPATH_CLOUD === 'emulator') {
    const caCertPath = e.GLIDEPATH_EMULATOR_CA as string;
    let caCertPem: string;
    try {
      caCertPem = readFileSync(caCertPath, 'utf8');
    } catch (err) {
      throw new ConfigError(`GLIDEPATH_EMULATOR_CA: cannot read ${caCertPath}: ${(err as Error).message}`, { cause: err });
    }
    cloud = { cloud: 'emulator', url: (e.GLIDEPATH_EMULATOR_URL as string).replace(/\/$/, ''), caCertPem, caCertPath };
  } else {
    cloud = { cloud: 'azure', ...(e.GLIDEPATH_PRICES_URL ? { pricesUrl: e.GLIDEPATH_PRICES_URL } : {}) };
  }
  let decisionTrust: DecisionTrust;
  try {
    decisionTrust = { signers: parseTrustedSigners(e.GLIDEPATH_DECISION_SIGNERS), people: {} };
  } catch (err) {
    throw new ConfigError(`GLIDEPATH_DECISION_SIGNERS: ${(err as Error).message}`, { cause: err });
  }
  try {
    decisionTrust.people = parsePeople(e.GLIDEPATH_PEOPLE);
  } catch (err) {
    throw new ConfigError(`GLIDEPATH_PEOPLE: ${(err as Error).message}`, { cause: err });
  }
  const temporalEnv = Object.fromEntries(Object.entries(env).filter((kv): kv is [string, string] => typeof kv[1] === 'string'));
  const connect = loadClientConnectConfig({ overrideEnvVars: temporalEnv });
  const [host, metricsPort] = e.GLIDEPATH_METRICS_ADDRESS.split(':');
  return {
    temporal: { connectionOptions: connect.connectionOptions, namespace: connect.namespace ?? 'default' },
    taskQueue: e.GLIDEPATH_TASK_QUEUE,
    cloud,
    metrics: e.GLIDEPATH_METRICS_ADDRESS === 'off' ? undefined : { host: host as string, port: port.parse(metricsPort) },
    workflowBundlePath: e.GLIDEPATH_WORKFLOW_BUNDLE,
    logLevel: e.GLIDEPATH_LOG_LEVEL,
    maxConcurrentActivities: e.GLIDEPATH_MAX_CONCURRENT_ACTIVITIES,
    armBudgetPercent: e.GLIDEPATH_ARM_BUDGET_PERCENT,
    shutdownGraceMs: e.GLIDEPATH_SHUTDOWN_GRACE,
    slack: { token: e.SLACK_BOT_TOKEN, apiUrl: e.SLACK_API_URL },
    webhookSecret: e.GLIDEPATH_WEBHOOK_SECRET,
    decisionTrust,
    ingestionDelay: e.GLIDEPATH_INGESTION_DELAY,
  };
}
