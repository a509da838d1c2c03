// Fault knobs: what tests (and `/_emulator/faults/*`) can make the emulator do wrong on purpose.
import { z } from 'zod';
import { seededRandom } from './random.js';

/** Which calls a `failNext` fault applies to. */
export type FaultTarget = 'management' | 'metrics' | 'logs' | 'scoring' | 'any';

export interface FailNextOptions {
  /** How many calls fail (default 1). */
  count?: number;
  /** 429, 500, 503 or 409 (default 500). */
  status?: number;
  /** Sent as `Retry-After` (seconds); default 1 for 429/503, none otherwise. */
  retryAfterSeconds?: number;
  /** Error code in the envelope (default by status: TooManyRequests, InternalServerError, ServiceUnavailable, Conflict). */
  code?: string;
  /** Only calls whose method matches (e.g. 'PUT'). */
  method?: string;
  /** Only calls whose path contains this text (case-insensitive). */
  pathIncludes?: string;
  /** Default 'management' (ARM calls, long-running-operation polls included). */
  target?: FaultTarget;
}

export interface DeploymentBehaviour {
  /** Extra latency added before the model runs (ms, waits without using CPU). */
  addedLatencyMs?: number;
  /**
   * A service time drawn per request, lognormal with this median and σ of log-latency (seeded), waited
   * before the model runs: a deployment whose latency spreads like a real model server's (e.g. median
   * 100 ms, σ 0.5: p99 ≈ 320 ms) rather than the sub-millisecond answers of the in-process model.
   */
  latency?: { medianMs: number; sigma: number };
  /** Multiplies the drawn service time (`latency`): 1.25 = every request 25% slower. Default 1. */
  latencyFactor?: number;
  /** A latency tail: each request, with probability `share` (seeded draw), waits `addMs` more. */
  tail?: { share: number; addMs: number };
  /**
   * Fraction (0..1) of requests answered 500 InternalServerError by the serving infrastructure (not the
   * model: no model status), each request an independent seeded draw — a background 5xx rate that
   * varies like real traffic, unlike `errorRate`'s exact share.
   */
  serverErrorRate?: number;
  /** Fraction (0..1) of requests whose model call fails (model status 500 → 424), spread evenly, deterministic. */
  errorRate?: number;
  /** The container crashes now and on every restart until set back to false (answers 502). */
  crash?: boolean;
}

export const failNextSchema = z.strictObject({
  count: z.number().int().min(1).max(1000).optional(),
  status: z.union([z.literal(409), z.literal(429), z.literal(500), z.literal(503)]).optional(),
  retryAfterSeconds: z.number().int().min(0).max(600).optional(),
  code: z.string().min(1).optional(),
  method: z.string().optional(),
  pathIncludes: z.string().optional(),
  target: z.enum(['management', 'metrics', 'logs', 'scoring', 'any']).optional(),
});

export const failProvisioningSchema = z.strictObject({
  deployment: z.string().min(1),
  endpoint: z.string().optional(),
  code: z.string().min(1).optional(),
  message: z.string().optional(),
});

export const behaviourSchema = z.strictObject({
  deployment: z.string().min(1),
  endpoint: z.string().optional(),
  addedLatencyMs: z.number().min(0).max(600_000).optional(),
  errorRate: z.number().min(0).max(1).optional(),
  crash: z.boolean().optional(),
  latency: z.strictObject({ medianMs: z.number().min(0).max(60_000), sigma: z.number().min(0).max(3) }).optional(),
  latencyFactor: z.number().min(0).max(100).optional(),
  tail: z.strictObject({ share: z.number().min(0).max(1), addMs: z.number().min(0).max(600_000) }).optional(),
  serverErrorRate: z.number().min(0).max(1).optional(),
});

interface PendingFailure extends Required<Pick<FailNextOptions, 'status' | 'code' | 'target'>> {
  remaining: number;
  retryAfterSeconds?: number;
  method?: string;
  pathIncludes?: string;
}

const DEFAULT_CODES: Record<number, string> = { 409: 'Conflict', 429: 'TooManyRequests', 500: 'InternalServerError', 503: 'ServiceUnavailable' };

/** The armed faults. Pure state; the server consults it. */
export class FaultState {
  /** Seeded draws for `latency`, `tail` and `serverErrorRate` (a stream apart from traffic splitting). */
  private readonly random: () => number;
  private failures: PendingFailure[] = [];
  private provisioning: { deployment: string; endpoint?: string; code: string; message: string }[] = [];
  private behaviours = new Map<string, DeploymentBehaviour & { endpoint?: string; deployment: string }>();
  private errorAccumulators = new Map<string, number>();
  /** Overrides the operation duration (ms) when set. */
  operationDurationMs: number | undefined;

  constructor(random: () => number = seededRandom(0x5eed)) {
    this.random = random;
  }

  failNext(opts: FailNextOptions = {}): void {
    const status = opts.status ?? 500;
    this.failures.push({
      remaining: opts.count ?? 1,
      status,
      code: opts.code ?? DEFAULT_CODES[status] ?? 'InternalServerError',
      target: opts.target ?? 'management',
      ...(opts.retryAfterSeconds !== undefined ? { retryAfterSeconds: opts.retryAfterSeconds } : status === 429 || status === 503 ? { retryAfterSeconds: 1 } : {}),
      ...(opts.method ? { method: opts.method.toUpperCase() } : {}),
      ...(opts.pathIncludes ? { pathIncludes: opts.pathIncludes.toLowerCase() } : {}),
    });
  }

  /** Consumes one armed failure matching this call, if any. */
  takeFailure(target: Exclude<FaultTarget, 'any'>, method: string, path: string): { status: number; code: string; retryAfterSeconds?: number } | undefined {
    const f = this.failures.find(
      (x) =>
        x.remaining > 0 &&
        (x.target === 'any' || x.target === target) &&
        (!x.method || x.method === method) &&
        (!x.pathIncludes || path.toLowerCase().includes(x.pathIncludes)),
    );
    if (!f) return undefined;
    f.remaining -= 1;
    this.failures = this.failures.filter((x) => x.remaining > 0);
    return { status: f.status, code: f.code, ...(f.retryAfterSeconds !== undefined ? { retryAfterSeconds: f.retryAfterSeconds } : {}) };
  }

  /** The next provisioning (create or update) of `deployment` ends Failed with `code`. */
  failProvisioning(deployment: string, code = 'ResourceNotReady', message?: string, endpoint?: string): void {
    this.provisioning.push({
      deployment: deployment.toLowerCase(),
      code,
      message: message ?? defaultProvisioningMessage(code, deployment),
      ...(endpoint ? { endpoint: endpoint.toLowerCase() } : {}),
    });
  }

  takeProvisioningFailure(endpoint: string, deployment: string): { code: string; message: string } | undefined {
    const i = this.provisioning.findIndex((p) => p.deployment === deployment.toLowerCase() && (!p.endpoint || p.endpoint === endpoint.toLowerCase()));
    if (i < 0) return undefined;
    const [p] = this.provisioning.splice(i, 1);
    return p ? { code: p.code, message: p.message } : undefined;
  }

  /**
   * Sets how `deployment` behaves, on `endpoint` only when given (else on every endpoint). Behaviours are
   * kept per (endpoint, deployment): setting one on another endpoint neither moves nor merges into this
   * one. Setting again on the same key merges (a later `{ addedLatencyMs }` keeps an earlier error rate).
   */
  setBehaviour(deployment: string, behaviour: DeploymentBehaviour, endpoint?: string): void {
    const key = behaviourKey(endpoint, deployment);
    const merged = { ...(this.behaviours.get(key) ?? {}), ...behaviour, deployment: deployment.toLowerCase(), ...(endpoint ? { endpoint: endpoint.toLowerCase() } : {}) };
    this.behaviours.set(key, merged);
  }

  /** The behaviour of `deployment` on `endpoint`: what was set for every endpoint, overridden field by field by the endpoint's own. */
  behaviour(endpoint: string, deployment: string): DeploymentBehaviour {
    const every = this.behaviours.get(behaviourKey(undefined, deployment));
    const own = this.behaviours.get(behaviourKey(endpoint, deployment));
    return every && own ? { ...every, ...own } : (own ?? every ?? {});
  }

  /** Deterministic error injection: true on exactly `rate` of the calls, spread evenly. */
  injectError(key: string, rate: number | undefined): boolean {
    if (!rate) return false;
    const acc = (this.errorAccumulators.get(key) ?? 0) + rate;
    if (acc >= 1 - 1e-9) {
      this.errorAccumulators.set(key, acc - 1);
      return true;
    }
    this.errorAccumulators.set(key, acc);
    return false;
  }

  /**
   * How long a request waits before the model runs under `b`: `addedLatencyMs`, plus the drawn service
   * time × `latencyFactor`, plus `tail.addMs` on a `tail.share` of requests. 0 when none is set.
   */
  delayMs(b: DeploymentBehaviour): number {
    let ms = b.addedLatencyMs ?? 0;
    if (b.latency && b.latency.medianMs > 0) ms += lognormal(this.random, b.latency.medianMs, b.latency.sigma) * (b.latencyFactor ?? 1);
    if (b.tail && b.tail.share > 0 && this.random() < b.tail.share) ms += b.tail.addMs;
    return ms;
  }

  /** True on a seeded draw with probability `rate` (the infrastructure answers 500). */
  drawServerError(rate: number | undefined): boolean {
    return !!rate && this.random() < rate;
  }

  clear(): void {
    this.failures = [];
    this.provisioning = [];
    this.behaviours.clear();
    this.errorAccumulators.clear();
    this.operationDurationMs = undefined;
  }

  describe(): unknown {
    return {
      failNext: this.failures,
      failProvisioning: this.provisioning,
      behaviours: [...this.behaviours.values()],
      operationDurationMs: this.operationDurationMs ?? null,
    };
  }
}


/** A lognormal draw with this median and σ (Box–Muller on two uniform draws). */
function lognormal(random: () => number, medianMs: number, sigma: number): number {
  const u = Math.max(random(), Number.MIN_VALUE);
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  return medianMs * Math.exp(sigma * z);
}

function defaultProvisioningMessage(code: string, deployment: string): string {
  switch (code) {
    case 'OutOfQuota':
      return `Not enough quota available for deployment '${deployment}': the subscription's cores quota for the VM family is exhausted (20% extra is reserved for upgrades).`;
    case 'OutOfCapacity':
      return `The specified VM type for deployment '${deployment}' is currently out of capacity in this region. Retry later or use another instance type.`;
    case 'ResourceNotReady':
      return `User container for deployment '${deployment}' has crashed or terminated: the liveness probe failed.`;
    case 'ImageBuildFailure':
      return `The environment image for deployment '${deployment}' failed to build.`;
    default:
      return `Deployment '${deployment}' failed to provision (${code}).`;
  }
}

/** The key of a behaviour: the endpoint (or `*`, every endpoint) and the deployment, lower-cased. */
function behaviourKey(endpoint: string | undefined, deployment: string): string {
  return `${endpoint ? endpoint.toLowerCase() : '*'}/${deployment.toLowerCase()}`;
}
