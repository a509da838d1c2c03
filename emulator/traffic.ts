// A bounded traffic generator: sends realistic card transactions to an emulator endpoint at a steady rate
// (open loop), loopback only, and reports the achieved rate, status counts and which deployments answered.
import { Agent, request } from 'node:https';
import { seededRandom } from './random.js';
import { MERCHANT_CATEGORIES, type Transaction } from './models/fraud-detector.js';

export interface TrafficOptions {
  /** Emulator base URL (`https://127.0.0.1:<port>`); only loopback hosts are accepted. */
  url: string;
  endpoint: string;
  /** Endpoint key (or AML token). */
  key: string;
  /** Requests per second, 1..500 (Azure's per-endpoint default limit). */
  rps: number;
  /** Duration in ms, at most 10 minutes. */
  durationMs: number;
  seed?: number;
  /** PEM of the emulator's certificate (trusted as CA for these requests). */
  caCertPem: string;
  /** Pin every request to this deployment (`azureml-model-deployment`). */
  deployment?: string;
  /** Transactions per request (default 1). */
  batchSize?: number;
  /** Requests allowed in flight before the generator skips sends (default 256). */
  maxInFlight?: number;
  /** Stops sending early when aborted (requests in flight still finish and are counted). */
  signal?: AbortSignal;
}

export interface TrafficResult {
  sent: number;
  completed: number;
  /** Sends skipped because maxInFlight requests were still open. */
  skipped: number;
  durationMs: number;
  achievedRps: number;
  statusCounts: Record<string, number>;
  /** Answers per deployment (from the response header naming it). */
  deploymentCounts: Record<string, number>;
  latencyMs: { p50: number; p99: number; max: number };
  networkErrors: number;
}

export const MAX_RPS = 500;
export const MAX_DURATION_MS = 10 * 60_000;

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/** A realistic card transaction: mostly ordinary purchases, a few risky patterns, some far-from-home travel. */
export function randomTransaction(rand: () => number): Transaction {
  const normal = (): number => Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand());
  const risky = rand() < 0.04;
  const avgAmount30d = Math.round(Math.exp(3.6 + 0.6 * normal()) * 100) / 100;
  const amount = Math.round(avgAmount30d * Math.exp((risky ? 1.4 : 0) + 0.7 * normal()) * 100) / 100;
  const travel = rand() < 0.05;
  const category = risky
    ? (['electronics', 'jewelry', 'online', 'atm'] as const)[Math.floor(rand() * 4)]
    : MERCHANT_CATEGORIES[Math.floor(rand() * MERCHANT_CATEGORIES.length)];
  return {
    amount: Math.max(0.5, amount),
    hour: risky && rand() < 0.5 ? Math.floor(rand() * 6) : 6 + Math.floor(rand() * 18),
    merchantCategory: category ?? 'grocery',
    distanceFromHomeKm: Math.round((travel ? 300 + rand() * 3000 : Math.exp(1.5 + 1.2 * normal())) * 10) / 10,
    cardPresent: risky ? rand() < 0.3 : rand() < 0.8,
    transactionsLast24h: Math.floor(risky ? 5 + rand() * 20 : rand() * 6),
    avgAmount30d,
    foreignCountry: travel || (risky && rand() < 0.3),
    accountAgeDays: Math.floor(risky && rand() < 0.4 ? rand() * 30 : 30 + rand() * 3000),
  };
}

function percentileOf(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1] as number;
}

/** Sends traffic for `durationMs` at `rps` and waits for the last answers. */
export async function generateTraffic(opts: TrafficOptions): Promise<TrafficResult> {
  const target = new URL(opts.url);
  if (target.protocol !== 'https:') throw new Error(`traffic: --url must be https://, got ${opts.url}`);
  if (!isLoopbackHost(target.hostname)) throw new Error(`traffic: only loopback hosts (127.0.0.1, ::1, localhost) may be targeted, not ${target.hostname}`);
  if (!Number.isFinite(opts.rps) || opts.rps <= 0 || opts.rps > MAX_RPS) throw new Error(`traffic: rps must be between 1 and ${MAX_RPS}, got ${opts.rps}`);
  if (!Number.isFinite(opts.durationMs) || opts.durationMs <= 0 || opts.durationMs > MAX_DURATION_MS) {
    throw new Error(`traffic: duration must be between 1 ms and ${MAX_DURATION_MS / 60_000} minutes`);
  }
  const batch = opts.batchSize ?? 1;
  if (!Number.isInteger(batch) || batch < 1 || batch > 100) throw new Error('traffic: batchSize must be 1..100');
  const maxInFlight = opts.maxInFlight ?? 256;
  const rand = seededRandom(opts.seed ?? 42);
  const agent = new Agent({ ca: opts.caCertPem, keepAlive: true, maxSockets: Math.min(maxInFlight, 64) });
  const path = `/endpoints/${encodeURIComponent(opts.endpoint)}/score`;
  const statusCounts: Record<string, number> = {};
  const deploymentCounts: Record<string, number> = {};
  const latencies: number[] = [];
  let sent = 0;
  let completed = 0;
  let skipped = 0;
  let inFlight = 0;
  let networkErrors = 0;
  const total = Math.floor((opts.rps * opts.durationMs) / 1000);
  const start = performance.now();

  const sendOne = (): Promise<void> =>
    new Promise((resolve) => {
      const body = JSON.stringify({ transactions: Array.from({ length: batch }, () => randomTransaction(rand)) });
      const t0 = performance.now();
      inFlight++;
      sent++;
      const req = request(
        {
          host: target.hostname.replace(/^\[|\]$/g, ''),
          port: target.port || 443,
          method: 'POST',
          path,
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            authorization: `Bearer ${opts.key}`,
            ...(opts.deployment ? { 'azureml-model-deployment': opts.deployment } : {}),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            inFlight--;
            completed++;
            latencies.push(performance.now() - t0);
            const code = String(res.statusCode ?? 0);
            statusCounts[code] = (statusCounts[code] ?? 0) + 1;
            const dep = res.headers['azureml-model-deployment'];
            if (typeof dep === 'string') deploymentCounts[dep] = (deploymentCounts[dep] ?? 0) + 1;
            resolve();
          });
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        inFlight--;
        networkErrors++;
        resolve();
      });
      req.end(body);
    });

  const pending: Promise<void>[] = [];
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const elapsed = performance.now() - start;
      const due = Math.min(total, Math.floor((elapsed * opts.rps) / 1000));
      while (sent + skipped < due) {
        if (inFlight >= maxInFlight) skipped++;
        else pending.push(sendOne());
      }
      if (sent + skipped >= total || elapsed >= opts.durationMs || opts.signal?.aborted) {
        resolve();
        return;
      }
      setTimeout(tick, Math.max(1, Math.min(20, 1000 / opts.rps)));
    };
    tick();
  });
  await Promise.all(pending);
  agent.destroy();
  const durationMs = performance.now() - start;
  latencies.sort((a, b) => a - b);
  return {
    sent,
    completed,
    skipped,
    durationMs,
    achievedRps: completed / (durationMs / 1000),
    statusCounts,
    deploymentCounts,
    latencyMs: { p50: percentileOf(latencies, 50), p99: percentileOf(latencies, 99), max: latencies[latencies.length - 1] ?? 0 },
    networkErrors,
  };
}
