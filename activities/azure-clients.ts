/**
 * The one place that builds Glidepath's Azure clients: Azure ML management (ARM), Azure Monitor
 * metrics (`MetricsClient`, the regional batch API `POST https://{region}.metrics.monitor.azure.com/
 * subscriptions/{sub}/metrics:getBatch`, which is not ARM and so not under ARM's read limits), Log
 * Analytics (`LogsQueryClient`), and a plain HTTP pipeline for the Retail Prices API — for real Azure (DefaultAzureCredential)
 * or for the local emulator (its URL, the credential the caller brings — the emulator's own, from
 * emulator/sdk.ts — and its CA certificate, passed to the SDK's TLS options; certificate verification
 * is never turned off).
 *
 * Every management-plane call goes through three policies of ours:
 *  - `mirrorTrafficPolicy`: the stable ML SDK (2.1.1, api-version 2022-10-01) has no `mirrorTraffic` and
 *    drops it from request bodies. We talk api-version 2024-04-01 (which has it, and returns it on GET)
 *    and put the desired mirror map back into endpoint PUT bodies from a private request header.
 *  - `armBudgetPolicy`: a token bucket per subscription for reads, writes and deletes, shared by every
 *    rollout on this worker, so many concurrent rollouts stay under Azure Resource Manager's limits.
 *  - a retry policy with `armRetryStrategy`: retries 408, 409 (operation in progress), 429, 5xx and
 *    transport errors, honouring `Retry-After`, a bounded number of times; after that the activity
 *    fails and Temporal's retry policy takes over.
 */
import { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import type { TokenCredential } from '@azure/core-auth';
import {
  createDefaultHttpClient,
  createPipelineRequest,
  retryPolicy,
  type HttpClient,
  type PipelinePolicy,
  type PipelineRequest,
  type PipelineResponse,
  type RetryStrategy,
} from '@azure/core-rest-pipeline';
import { DefaultAzureCredential } from '@azure/identity';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { LogsQueryClient } from '@azure/monitor-query-logs';
import { MetricsClient } from '@azure/monitor-query-metrics';
import { DEFAULT_PRICES_URL } from '../domain/prices.js';

/** Azurite's development account: Microsoft's published, well-known name and key (not a secret). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** The api-version Glidepath speaks to Azure ML: the first stable one with `mirrorTraffic` is 2023-04-01. */
export const ML_API_VERSION = '2024-04-01';

/** Where the clients point. For the emulator, the caller brings its credential (`emulatorCredential()` of emulator/sdk.ts). */
export type AzureTarget =
  | { cloud: 'azure'; credential?: TokenCredential; pricesUrl?: string }
  | { cloud: 'emulator'; url: string; caCertPem: string; credential: TokenCredential };

/** Requests per second and burst per kind of management call; ARM's own are reads 25/250, writes 10/200, deletes 10/200. */
export interface ArmBudgetLimits {
  reads: { perSecond: number; burst: number };
  writes: { perSecond: number; burst: number };
  deletes: { perSecond: number; burst: number };
}

/** ARM's per-principal token buckets (reference/azure-ml-online-endpoints.md §3, throttling): requests per second and burst. */
const ARM_LIMITS: ArmBudgetLimits = {
  reads: { perSecond: 25, burst: 250 },
  writes: { perSecond: 10, burst: 200 },
  deletes: { perSecond: 10, burst: 200 },
};

/** `percent` % of ARM's per-principal limits, e.g. 50 → reads 12.5/s (burst 125), writes and deletes 5/s (burst 100). */
export function armBudgetShare(percent: number): ArmBudgetLimits {
  const share = (l: { perSecond: number; burst: number }) => ({ perSecond: (l.perSecond * percent) / 100, burst: Math.max(1, Math.floor((l.burst * percent) / 100)) });
  return { reads: share(ARM_LIMITS.reads), writes: share(ARM_LIMITS.writes), deletes: share(ARM_LIMITS.deletes) };
}

/** Half of ARM's per-principal limits: room for other tools using the same identity. */
export const defaultArmBudget: ArmBudgetLimits = armBudgetShare(50);

/** What a management call costs, by HTTP method (metrics queries count as reads, as they do in ARM). */
export type ArmCallKind = 'reads' | 'writes' | 'deletes';

export function callKind(method: string): ArmCallKind {
  if (method === 'GET' || method === 'HEAD') return 'reads';
  if (method === 'DELETE') return 'deletes';
  return 'writes';
}

/**
 * A token bucket with virtual scheduling: each call takes a token at once and, when the bucket is
 * overdrawn, waits until its token would have been refilled. Waiters are served in arrival order.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.updatedAt = now();
  }

  /** Milliseconds the caller must wait before its call (0 when the bucket has a token). */
  reserve(): number {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.updatedAt) / 1000) * this.perSecond);
    this.updatedAt = t;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.perSecond) * 1000);
  }
}

/** The reads/writes/deletes buckets of one subscription, and how many calls waited for them. */
export class ArmBudget {
  readonly buckets: Record<ArmCallKind, TokenBucket>;
  readonly waited: Record<ArmCallKind, number> = { reads: 0, writes: 0, deletes: 0 };

  constructor(limits: ArmBudgetLimits = defaultArmBudget, now: () => number = Date.now) {
    this.buckets = {
      reads: new TokenBucket(limits.reads.perSecond, limits.reads.burst, now),
      writes: new TokenBucket(limits.writes.perSecond, limits.writes.burst, now),
      deletes: new TokenBucket(limits.deletes.perSecond, limits.deletes.burst, now),
    };
  }

  async take(kind: ArmCallKind, signal?: AbortSignal): Promise<void> {
    const waitMs = this.buckets[kind].reserve();
    if (waitMs === 0) return;
    this.waited[kind] += 1;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, waitMs);
      signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted while waiting for the ARM budget'));
      }, { once: true });
    });
  }
}

/** Takes a token of the right kind from the subscription's budget before each management call (and each retry). */
export function armBudgetPolicy(budget: ArmBudget): PipelinePolicy {
  return {
    name: 'glidepathArmBudget',
    async sendRequest(request, next) {
      await budget.take(callKind(request.method), request.abortSignal as AbortSignal | undefined);
      return next(request);
    },
  };
}

/** Private header carrying the desired `mirrorTraffic` of an endpoint PUT; never sent to Azure. */
export const MIRROR_TRAFFIC_HEADER = 'x-glidepath-mirror-traffic';

/**
 * Puts `mirrorTraffic` (from {@link MIRROR_TRAFFIC_HEADER}) into the JSON body of an endpoint PUT, which
 * the 2.1.1 serializer would otherwise have dropped. Any client can use it:
 *
 *   client.pipeline.addPolicy(mirrorTrafficPolicy());
 *   await client.onlineEndpoints.beginCreateOrUpdateAndWait(rg, ws, name, endpoint, {
 *     requestOptions: { customHeaders: { [MIRROR_TRAFFIC_HEADER]: JSON.stringify({ green: 20 }) } },
 *   });
 */
export function mirrorTrafficPolicy(): PipelinePolicy {
  return {
    name: 'glidepathMirrorTraffic',
    async sendRequest(request, next) {
      const mirror = request.headers.get(MIRROR_TRAFFIC_HEADER);
      if (mirror !== undefined) {
        request.headers.delete(MIRROR_TRAFFIC_HEADER);
        if (request.method === 'PUT' && typeof request.body === 'string' && /\/onlineEndpoints\/[^/?]+(\?|$)/i.test(request.url)) {
          const body = JSON.parse(request.body) as { properties?: Record<string, unknown> };
          body.properties = { ...(body.properties ?? {}), mirrorTraffic: JSON.parse(mirror) as unknown };
          request.body = JSON.stringify(body);
        }
      }
      return next(request);
    },
  };
}

const RETRYABLE = new Set([408, 409, 429, 500, 502, 503, 504]);

/** Parses `Retry-After` (seconds or an HTTP date) and the millisecond variants, capped at `capMs`. */
export function retryAfterMs(response: PipelineResponse | undefined, capMs: number): number | undefined {
  if (!response) return undefined;
  const ms = response.headers.get('retry-after-ms') ?? response.headers.get('x-ms-retry-after-ms');
  if (ms !== undefined && Number.isFinite(Number(ms))) return Math.min(capMs, Number(ms));
  const value = response.headers.get('retry-after');
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.min(capMs, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.min(capMs, Math.max(0, date - Date.now()));
}

/** Retry 408/409/429/5xx (and transport errors): after `Retry-After` when given, else exponential backoff. */
export function armRetryStrategy(opts: { baseDelayMs: number; maxDelayMs: number }): RetryStrategy {
  return {
    name: 'glidepathArmRetry',
    retry({ retryCount, response, responseError }) {
      const status = response?.status ?? responseError?.statusCode;
      const transportError = responseError !== undefined && status === undefined;
      if (!transportError && (status === undefined || !RETRYABLE.has(status))) return { skipStrategy: true };
      const backoff = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** retryCount);
      const jitter = Math.floor(Math.random() * Math.min(1000, backoff / 4));
      return { retryAfterInMs: retryAfterMs(response ?? responseError?.response, opts.maxDelayMs) ?? backoff + jitter };
    },
  };
}

/** The clients one worker uses for one subscription. */
export interface AzureClients {
  subscriptionId: string;
  ml: AzureMachineLearningWorkspaces;
  /** The batch metrics client for a region (`eastus`); metrics are served by the resources' own region. */
  metricsIn(region: string): MetricsClient;
  /** Log Analytics queries (workspaces are global: `api.loganalytics.io`). */
  logs: LogsQueryClient;
  /** GETs a URL of the Retail Prices API (public, no auth) and returns the parsed JSON. */
  getPrices(url: string): Promise<unknown>;
  pricesBaseUrl: string;
  budget: ArmBudget;
  target: AzureTarget;
}

export interface ClientFactoryOptions {
  budgetLimits?: ArmBudgetLimits;
  /** HTTP retries per call before the activity fails (Temporal then retries the activity). */
  maxRetries?: number;
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  /** Called after every management-plane HTTP attempt (for the worker's metrics); status 0 = no response. */
  onCall?: (call: { kind: ArmCallKind; method: string; status: number; service: 'ml' | 'metrics' | 'logs' }) => void;
}

/** Reports every attempt (retries included) to `onCall`. */
export function callCounterPolicy(service: 'ml' | 'metrics' | 'logs', onCall: NonNullable<ClientFactoryOptions['onCall']>): PipelinePolicy {
  return {
    name: `glidepathCallCounter-${service}`,
    async sendRequest(request, next) {
      try {
        const response = await next(request);
        onCall({ kind: callKind(request.method), method: request.method, status: response.status, service });
        return response;
      } catch (err) {
        const status = (err as { statusCode?: number }).statusCode ?? 0;
        onCall({ kind: callKind(request.method), method: request.method, status, service });
        throw err;
      }
    },
  };
}

/**
 * Builds (and caches per subscription) the Azure clients. One factory per worker process, so the ARM
 * budget of a subscription is shared by every rollout the worker runs.
 */
export class AzureClientFactory {
  private readonly clients = new Map<string, AzureClients>();
  private credential: TokenCredential | undefined;

  constructor(
    readonly target: AzureTarget,
    private readonly options: ClientFactoryOptions = {},
  ) {}

  forSubscription(subscriptionId: string): AzureClients {
    const cached = this.clients.get(subscriptionId);
    if (cached) return cached;
    const clients = this.build(subscriptionId);
    this.clients.set(subscriptionId, clients);
    return clients;
  }

  /**
   * A blob client for the store Azure ML's data collector writes to. On Azure: the worker's token
   * credential (DefaultAzureCredential; the identity needs Storage Blob Data Reader on the container). On
   * the emulator: Azurite's well-known development account (`devstoreaccount1`, a public key, not a secret).
   * Few quick tries: the activity's retry policy does the rest.
   */
  blobService(blobEndpoint: string): BlobServiceClient {
    const key = blobEndpoint.replace(/\/+$/, '');
    let client = this.blobClients.get(key);
    if (!client) {
      const credential = this.target.cloud === 'emulator' ? new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY) : this.getCredential();
      client = new BlobServiceClient(key, credential, { retryOptions: { maxTries: 2, retryDelayInMs: 200, maxRetryDelayInMs: 2000, tryTimeoutInMs: 30_000 } });
      this.blobClients.set(key, client);
    }
    return client;
  }

  private readonly blobClients = new Map<string, BlobServiceClient>();

  private getCredential(): TokenCredential {
    if (this.target.cloud === 'emulator') return this.target.credential;
    this.credential ??= this.target.credential ?? new DefaultAzureCredential();
    return this.credential;
  }

  private build(subscriptionId: string): AzureClients {
    const target = this.target;
    const credential = this.getCredential();
    const endpoint = target.cloud === 'emulator' ? target.url : undefined;
    const tlsOptions = target.cloud === 'emulator' ? { ca: target.caCertPem } : undefined;
    const budget = new ArmBudget(this.options.budgetLimits);
    const retry = retryPolicy(
      [armRetryStrategy({ baseDelayMs: this.options.retryBaseDelayMs ?? 1000, maxDelayMs: this.options.retryMaxDelayMs ?? 30_000 })],
      { maxRetries: this.options.maxRetries ?? 4 },
    );

    const ml = new AzureMachineLearningWorkspaces(credential, subscriptionId, {
      apiVersion: ML_API_VERSION,
      ...(endpoint ? { endpoint } : {}),
      ...(tlsOptions ? { tlsOptions } : {}),
    });
    ml.pipeline.removePolicy({ name: 'defaultRetryPolicy' });
    ml.pipeline.addPolicy(retry, { phase: 'Retry' });
    ml.pipeline.addPolicy(armBudgetPolicy(budget), { afterPhase: 'Retry' });
    ml.pipeline.addPolicy(mirrorTrafficPolicy(), { afterPhase: 'Serialize' });
    if (this.options.onCall) ml.pipeline.addPolicy(callCounterPolicy('ml', this.options.onCall), { afterPhase: 'Retry' });

    // Metrics and logs are data-plane APIs, not ARM: no ARM budget. Their default retry policies already
    // honour Retry-After on 429/503 and back off on other 5xx.
    const counted = (service: 'metrics' | 'logs') =>
      this.options.onCall ? [{ policy: callCounterPolicy(service, this.options.onCall), position: 'perRetry' as const }] : [];
    const common = { ...(tlsOptions ? { tlsOptions } : {}), retryOptions: { maxRetries: this.options.maxRetries ?? 4 } };
    const metricsClients = new Map<string, MetricsClient>();
    const metricsIn = (region: string): MetricsClient => {
      const key = region.toLowerCase().replace(/\s+/g, '');
      let client = metricsClients.get(key);
      if (!client) {
        const url = endpoint ?? `https://${key}.metrics.monitor.azure.com`;
        client = new MetricsClient(url, credential, { ...common, additionalPolicies: counted('metrics') });
        metricsClients.set(key, client);
      }
      return client;
    };
    const logs = new LogsQueryClient(credential, {
      ...common,
      ...(endpoint ? { endpoint: `${endpoint}/v1` } : {}),
      additionalPolicies: counted('logs'),
    });

    const http: HttpClient = createDefaultHttpClient();
    const pricesBaseUrl =
      target.cloud === 'emulator' ? `${target.url}/api/retail/prices` : (target.pricesUrl ?? DEFAULT_PRICES_URL);
    const getPrices = async (url: string): Promise<unknown> => {
      const request: PipelineRequest = createPipelineRequest({ url, method: 'GET', timeout: 15_000 });
      if (tlsOptions) request.tlsSettings = tlsOptions;
      const response = await http.sendRequest(request);
      if (response.status !== 200) throw new Error(`Retail Prices API answered ${response.status} for ${url}`);
      return JSON.parse(response.bodyAsText ?? 'null') as unknown;
    };
    return { subscriptionId, ml, metricsIn, logs, getPrices, pricesBaseUrl, budget, target };
  }
}
