/**
 * Gate evaluation: a metrics snapshot of the baseline and the candidate → a verdict.
 *
 * A verdict is `pass`, `fail` or `inconclusive`, each with reasons that quote the numbers, so a person
 * reading the rollout report sees why (`p99 latency 312ms > max 250ms`). Inconclusive is not fail:
 * too little traffic, no data, or no baseline to compare with means "cannot judge yet", and the plan's
 * `analysis.onInconclusive` decides what happens.
 */
import type { StepJudgement } from './judge/judge.js';
import type { Gates } from './plan.js';

/** Metrics of one deployment over one analysis window. A null value means "no data" for that metric. */
export interface DeploymentMetrics {
  /** Requests the deployment answered (or, when mirrored, received) in the window. */
  requests: number;
  /** Share of requests that ended in 5xx (0..1). */
  errorRate: number | null;
  /** Share of requests that ended in 424 (the model container failed) (0..1). */
  modelErrorRate: number | null;
  /** Requests that ended in 5xx, counted (the judge needs counts, not rates). Absent in snapshots from before the judge. */
  errors5xx?: number;
  /** Requests that ended in 424, counted. Absent in snapshots from before the judge. */
  errors424?: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  latencyP99Ms: number | null;
  /** Average CPU utilisation, percent. */
  cpuPercent: number | null;
  /** Average memory utilisation, percent. */
  memoryPercent: number | null;
  /** Per-request evidence from the Log Analytics traffic log, when the plan names a workspace. */
  log?: DeploymentLogEvidence;
}

/**
 * One deployment's requests in `AmlOnlineEndpointTrafficLog` over the window: aggregates only (counts,
 * percentiles), never a request id or a payload (invariant 9).
 */
export interface DeploymentLogEvidence {
  requests: number;
  /** Requests per `ResponseCode`, e.g. `{ "200": 950, "424": 50 }`. */
  byStatus: Record<string, number>;
  /** Requests per `ModelStatusCode` (what the model container answered); `none` when no model ran. */
  byModelStatus: Record<string, number>;
  /** Requests with `TotalDurationMs` strictly above each of the plan's `analysis.logs.exceedanceMs`. */
  exceedances: { aboveMs: number; count: number }[];
  /** Requests strictly above each latency the judge asked for (its frozen thresholds); absent when it asked for none. */
  judgeExceedances?: { aboveMs: number; count: number }[];
  /** Nearest-rank percentiles of `TotalDurationMs` (Kusto's `percentiles()`); null without requests. */
  latencyMs: { p50: number | null; p95: number | null; p99: number | null };
}

/** Metrics of the baseline and the candidate over the same window. A missing deployment is null. */
export interface MetricsSnapshot {
  windowMs: number;
  /** Epoch ms of the window's end, from the metrics source. */
  endMs?: number;
  baseline: DeploymentMetrics | null;
  candidate: DeploymentMetrics | null;
  /**
   * Set when the plan asked for the traffic log and it could not be read whole (a query error, or a
   * partial result): the analysis is then inconclusive with this reason, whatever the metrics say.
   */
  logsProblem?: string;
}

/** What a gate says. */
export type VerdictStatus = 'pass' | 'fail' | 'inconclusive';

/** One gate's finding. */
export interface GateResult {
  gate: string;
  status: VerdictStatus;
  reason: string;
}

/** The verdict of one analysis: the worst status among the gates, every gate's finding, and the numbers. */
export interface Verdict {
  status: VerdictStatus;
  /** The reasons behind the status (failing gates for fail, unjudgeable ones for inconclusive, a summary for pass). */
  reasons: string[];
  gates: GateResult[];
  snapshot: MetricsSnapshot;
  /**
   * The sequential judge's verdict for the step so far (domain/judge/), when the plan's gates have
   * tolerances: every judged gate's evidence as data (status/watch print one line per gate, the report
   * charts it). Absent for plans that use only the fixed-threshold rules.
   */
  judgement?: StepJudgement;
}

/** The outcome of the external webhook gate. */
export interface WebhookVerdict {
  status: VerdictStatus;
  reason: string;
}

const pct = (x: number) => `${round(x * 100, 3)}%`;
const ms = (x: number) => `${round(x, 1)}ms`;
function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

type MetricKey = 'latencyP50Ms' | 'latencyP95Ms' | 'latencyP99Ms';
const LATENCY_LABEL: Record<MetricKey, string> = { latencyP50Ms: 'p50 latency', latencyP95Ms: 'p95 latency', latencyP99Ms: 'p99 latency' };

/**
 * Evaluates the plan's gates on one snapshot.
 *
 * Order of judgement: no candidate data or fewer than `minRequests` candidate requests → inconclusive
 * for every gate (nothing can be judged). Absolute limits (`max`) need only the candidate. Relative
 * limits (`maxRatioToBaseline`, `maxIncrease`) need the baseline with at least `minRequests`; without
 * it they are inconclusive. Any fail makes the verdict fail; else any inconclusive makes it inconclusive.
 * A snapshot whose traffic log could not be read whole (`logsProblem`) adds an inconclusive `logs` gate.
 *
 * Worked example: candidate p99 300ms, baseline p99 200ms, gate `{max: 250, maxRatioToBaseline: 1.2}` →
 * fail with `p99 latency 300ms > max 250ms` and `p99 latency 300ms is 1.5× baseline 200ms > max 1.2×`.
 */
export function evaluateGates(gates: Gates, snapshot: MetricsSnapshot, opts: { minRequests: number }): Verdict {
  const results: GateResult[] = [];
  const c = snapshot.candidate;
  const b = snapshot.baseline;
  const min = opts.minRequests;

  const candidateJudgeable = c !== null && c.requests >= min && c.requests > 0;
  const baselineJudgeable = b !== null && b.requests >= min && b.requests > 0;
  const noCandidate =
    c === null
      ? 'no metrics for the candidate in the window'
      : `candidate had ${c.requests} requests in the window, fewer than minRequests ${min}`;
  const noBaseline =
    b === null ? 'no metrics for the baseline to compare with' : `baseline had ${b.requests} requests in the window, fewer than minRequests ${min}`;

  const latency = (key: MetricKey) => {
    const g = gates[key];
    if (!g) return;
    const label = LATENCY_LABEL[key];
    if (!candidateJudgeable) return void results.push({ gate: key, status: 'inconclusive', reason: `${label}: ${noCandidate}` });
    const v = c![key];
    if (v === null) return void results.push({ gate: key, status: 'inconclusive', reason: `${label}: no candidate data` });
    if (g.max !== undefined) {
      results.push(
        v > g.max
          ? { gate: key, status: 'fail', reason: `${label} ${ms(v)} > max ${ms(g.max)}` }
          : { gate: key, status: 'pass', reason: `${label} ${ms(v)} ≤ max ${ms(g.max)}` },
      );
    }
    if (g.maxRatioToBaseline !== undefined) {
      const bv = baselineJudgeable ? b![key] : null;
      if (!baselineJudgeable || bv === null || bv === 0) {
        results.push({ gate: `${key}.maxRatioToBaseline`, status: 'inconclusive', reason: `${label} ratio: ${baselineJudgeable ? 'no baseline data' : noBaseline}` });
      } else {
        const r = v / bv;
        results.push(
          r > g.maxRatioToBaseline
            ? { gate: `${key}.maxRatioToBaseline`, status: 'fail', reason: `${label} ${ms(v)} is ${round(r, 2)}× baseline ${ms(bv)} > max ${g.maxRatioToBaseline}×` }
            : { gate: `${key}.maxRatioToBaseline`, status: 'pass', reason: `${label} ${ms(v)} is ${round(r, 2)}× baseline ${ms(bv)} ≤ ${g.maxRatioToBaseline}×` },
        );
      }
    }
  };

  const rate = (key: 'errorRate' | 'modelErrorRate', label: string) => {
    const g = gates[key];
    if (!g) return;
    if (!candidateJudgeable) return void results.push({ gate: key, status: 'inconclusive', reason: `${label}: ${noCandidate}` });
    const v = c![key];
    if (v === null) return void results.push({ gate: key, status: 'inconclusive', reason: `${label}: no candidate data` });
    if (g.max !== undefined) {
      results.push(
        v > g.max
          ? { gate: key, status: 'fail', reason: `${label} ${pct(v)} > max ${pct(g.max)}` }
          : { gate: key, status: 'pass', reason: `${label} ${pct(v)} ≤ max ${pct(g.max)}` },
      );
    }
    if (g.maxIncrease !== undefined) {
      const bv = baselineJudgeable ? b![key] : null;
      if (!baselineJudgeable || bv === null) {
        results.push({ gate: `${key}.maxIncrease`, status: 'inconclusive', reason: `${label} increase: ${baselineJudgeable ? 'no baseline data' : noBaseline}` });
      } else {
        const inc = v - bv;
        results.push(
          inc > g.maxIncrease
            ? { gate: `${key}.maxIncrease`, status: 'fail', reason: `${label} ${pct(v)} is +${pct(inc)} over baseline ${pct(bv)} > max +${pct(g.maxIncrease)}` }
            : { gate: `${key}.maxIncrease`, status: 'pass', reason: `${label} ${pct(v)} vs baseline ${pct(bv)} (${inc >= 0 ? '+' : ''}${pct(inc)}) ≤ max +${pct(g.maxIncrease)}` },
        );
      }
    }
  };

  const utilisation = (key: 'cpuPercent' | 'memoryPercent', label: string) => {
    const g = gates[key];
    if (!g) return;
    const v = c?.[key] ?? null;
    // Utilisation is a property of the instances, not of the requests: it is judgeable with any traffic.
    if (v === null) return void results.push({ gate: key, status: 'inconclusive', reason: `${label}: no candidate data` });
    results.push(
      v > g.max
        ? { gate: key, status: 'fail', reason: `${label} ${round(v, 1)}% > max ${g.max}%` }
        : { gate: key, status: 'pass', reason: `${label} ${round(v, 1)}% ≤ max ${g.max}%` },
    );
  };

  latency('latencyP50Ms');
  latency('latencyP95Ms');
  latency('latencyP99Ms');
  rate('errorRate', '5xx rate');
  rate('modelErrorRate', '424 rate');
  utilisation('cpuPercent', 'CPU');
  utilisation('memoryPercent', 'memory');

  if (snapshot.logsProblem !== undefined) {
    // Evidence the plan asked for is missing: judging on the rest could pass what the logs would fail.
    results.push({ gate: 'logs', status: 'inconclusive', reason: `traffic log: ${snapshot.logsProblem}` });
  }
  if (results.length === 0 && !candidateJudgeable) {
    results.push({ gate: 'traffic', status: 'inconclusive', reason: noCandidate });
  }
  return combine(results, snapshot);
}

/** Adds the webhook gate's finding to a verdict (the webhook is one more gate). */
export function withWebhook(verdict: Verdict, webhook: WebhookVerdict): Verdict {
  return combine([...verdict.gates, { gate: 'webhook', status: webhook.status, reason: `webhook: ${webhook.reason}` }], verdict.snapshot);
}

function combine(results: GateResult[], snapshot: MetricsSnapshot): Verdict {
  const fails = results.filter((r) => r.status === 'fail');
  const unknown = results.filter((r) => r.status === 'inconclusive');
  if (fails.length > 0) return { status: 'fail', reasons: fails.map((r) => r.reason), gates: results, snapshot };
  if (unknown.length > 0) return { status: 'inconclusive', reasons: unknown.map((r) => r.reason), gates: results, snapshot };
  return {
    status: 'pass',
    reasons: results.length ? results.map((r) => r.reason) : ['no gates configured'],
    gates: results,
    snapshot,
  };
}

/** One line for a timer/activity summary or a notification: `fail: p99 latency 312ms > max 250ms; …`. */
export function formatVerdict(v: Pick<Verdict, 'status' | 'reasons'>): string {
  return `${v.status}: ${v.reasons.join('; ')}`;
}

// ───────────────────────────── cost ─────────────────────────────

/** A cost estimate for one deployment. `fallback` is true when the price did not come from the live price list. */
export interface CostEstimate {
  hourlyUsd: number;
  monthlyUsd: number;
  fallback: boolean;
  /** Where the price came from, e.g. `retail-prices:westeurope` or `fallback-table`. */
  source: string;
}

/** The cost-check step's limits. */
export interface CostLimits {
  maxMonthlyUsd?: number;
  maxHourlyUsd?: number;
  maxIncreasePercent?: number;
}

const usd = (x: number) => `$${round(x, 2).toFixed(2)}`;

/**
 * Judges the candidate's projected cost against the plan's budget.
 * `maxIncreasePercent` compares candidate with baseline: 2 × $0.50/h against 2 × $0.40/h is +25%.
 * A fallback price is still judged (it is the best estimate), and the reason says it was a fallback.
 */
export function evaluateCost(limits: CostLimits, candidate: CostEstimate, baseline: CostEstimate | null): Omit<Verdict, 'snapshot'> {
  const gates: GateResult[] = [];
  const note = candidate.fallback ? ` (fallback price from ${candidate.source})` : '';
  if (limits.maxMonthlyUsd !== undefined) {
    gates.push(
      candidate.monthlyUsd > limits.maxMonthlyUsd
        ? { gate: 'maxMonthlyUsd', status: 'fail', reason: `projected ${usd(candidate.monthlyUsd)}/month > budget ${usd(limits.maxMonthlyUsd)}/month${note}` }
        : { gate: 'maxMonthlyUsd', status: 'pass', reason: `projected ${usd(candidate.monthlyUsd)}/month ≤ budget ${usd(limits.maxMonthlyUsd)}/month${note}` },
    );
  }
  if (limits.maxHourlyUsd !== undefined) {
    gates.push(
      candidate.hourlyUsd > limits.maxHourlyUsd
        ? { gate: 'maxHourlyUsd', status: 'fail', reason: `projected ${usd(candidate.hourlyUsd)}/hour > budget ${usd(limits.maxHourlyUsd)}/hour${note}` }
        : { gate: 'maxHourlyUsd', status: 'pass', reason: `projected ${usd(candidate.hourlyUsd)}/hour ≤ budget ${usd(limits.maxHourlyUsd)}/hour${note}` },
    );
  }
  if (limits.maxIncreasePercent !== undefined) {
    if (!baseline || baseline.hourlyUsd === 0) {
      gates.push({ gate: 'maxIncreasePercent', status: 'inconclusive', reason: 'no baseline cost to compare with' });
    } else {
      const inc = ((candidate.hourlyUsd - baseline.hourlyUsd) / baseline.hourlyUsd) * 100;
      const text = `${usd(candidate.hourlyUsd)}/hour vs baseline ${usd(baseline.hourlyUsd)}/hour is ${inc >= 0 ? '+' : ''}${round(inc, 1)}%`;
      gates.push(
        inc > limits.maxIncreasePercent
          ? { gate: 'maxIncreasePercent', status: 'fail', reason: `${text} > max +${limits.maxIncreasePercent}%` }
          : { gate: 'maxIncreasePercent', status: 'pass', reason: `${text} ≤ max +${limits.maxIncreasePercent}%` },
      );
    }
  }
  const fails = gates.filter((g) => g.status === 'fail');
  const unknown = gates.filter((g) => g.status === 'inconclusive');
  if (fails.length) return { status: 'fail', reasons: fails.map((g) => g.reason), gates };
  if (unknown.length) return { status: 'inconclusive', reasons: unknown.map((g) => g.reason), gates };
  return { status: 'pass', reasons: gates.map((g) => g.reason), gates };
}
