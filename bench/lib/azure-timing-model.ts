// A discrete-time model of one canary bake under Azure Monitor's timing, for bench/azure-timing.ts.
//
// Real code, called as the workflow and the emulator call it:
// - domain/analysis.ts `firstWait` / `afterAnalysis` (the bake loop's decisions) and domain/gates.ts
//   `evaluateGates` (the verdict of each analysis);
// - domain/telemetry-timing.ts `analysisDelayMs` (the metrics activity's window ends that long before now);
// - emulator/telemetry-timing.ts `TelemetryTiming` under Azure timing (a metrics minute visible one minute
//   after it closes; each traffic-log row visible after a seeded 3–10 min draw).
// Modelled (not run): the requests themselves (seeded Poisson arrivals, lognormal latencies, a fault that
// makes a share of the candidate's requests answer 424), the workflow's timers (simulated time, no Temporal),
// how long an analysis's queries take and how long the rollback's endpoint read + traffic write take on Azure
// (constants given by the caller), and the metrics figures the activity builds from the visible requests
// (counts, 5xx and 424 shares, nearest-rank latency percentiles over the window; CPU and memory fixed).
import { afterAnalysis, firstWait, startBake } from '../../domain/analysis.js';
import { evaluateGates, type DeploymentLogEvidence, type DeploymentMetrics, type MetricsSnapshot, type VerdictStatus } from '../../domain/gates.js';
import type { AnalysisSettings, Gates } from '../../domain/plan.js';
import { analysisDelayMs, type IngestionDelays } from '../../domain/telemetry-timing.js';
import { seededRandom } from '../../emulator/core.js';
import type { TelemetryTiming } from '../../emulator/telemetry-timing.js';

/** One deployment's requests, sorted by time (parallel arrays: a run holds ~10⁵ requests). */
export interface RequestLog {
  t: number[];
  status: number[];
  latencyMs: number[];
  /** When the request's traffic-log row becomes visible (its time + the emulator's seeded draw). */
  logVisibleAt: number[];
}

export interface Traffic {
  baseline: RequestLog;
  candidate: RequestLog;
}

/** One bake of the model: the plan's analysis and gates, Azure's delays, and the assumed durations. */
export interface BakeModel {
  analysis: AnalysisSettings;
  gates: Gates;
  /** The activities' ingestion delays (domain/telemetry-timing.ts; Azure's: metrics 3 min, logs 10 min). */
  delays: IngestionDelays;
  /** The plan names a Log Analytics workspace: the window ends the later delay before now. */
  withLogs: boolean;
  bakeMs: number;
  /** Epoch ms the step's traffic write completed: its first analysis timer starts here. */
  stepStartMs: number;
  /** How long one analysis's queries take (the next timer starts when it ends). */
  analysisMs: number;
  /** How long the rollback takes from the decision until the endpoint reads back the baseline at 100%. */
  rollbackMs: number;
  /** The emulator's visibility rules (Azure timing); a fresh one per run, seeded. */
  timing: TelemetryTiming;
}

export interface AnalysisRecord {
  /** When the analysis read its window (the timer fired). */
  atMs: number;
  windowStartMs: number;
  windowEndMs: number;
  status: VerdictStatus;
  candidateRequests: number;
  /** Candidate requests in the window answered 424 (what the fault makes). */
  candidate424: number;
  /** Candidate requests in the window not visible yet in the metrics / the traffic log. */
  candidateHiddenMetrics: number;
  candidateHiddenLogs: number;
}

export interface BakeResult {
  outcome: 'rolled_back' | 'passed' | 'paused';
  /** When the decision was taken (the deciding analysis finished). */
  decisionMs: number;
  /** When the endpoint reads back the baseline at 100% (rolled back only). */
  baselineBackMs?: number;
  analyses: AnalysisRecord[];
  reason: string;
}

/** First index with xs[i] >= v (xs sorted ascending). */
function lowerBound(xs: number[], v: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function nearestRank(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** What the metrics activity would read for one deployment over [start, end) at `now`, and what the log shows. */
function deploymentWindow(
  log: RequestLog,
  startMs: number,
  endMs: number,
  nowMs: number,
  cutoffMs: number,
  withLogs: boolean,
): { metrics: DeploymentMetrics | null; total: number; e424: number; hiddenMetrics: number; hiddenLogs: number } {
  const from = lowerBound(log.t, startMs);
  const to = lowerBound(log.t, endMs);
  let total = 0;
  let e5xx = 0;
  let e424 = 0;
  let hiddenLogs = 0;
  const lat: number[] = [];
  const byStatus: Record<string, number> = {};
  let logRequests = 0;
  for (let i = from; i < to; i++) {
    const visibleLog = log.logVisibleAt[i]! <= nowMs;
    if (!visibleLog) hiddenLogs++;
    else if (withLogs) {
      logRequests++;
      byStatus[String(log.status[i])] = (byStatus[String(log.status[i])] ?? 0) + 1;
    }
    if (log.t[i]! > cutoffMs) continue; // the emulator's metrics rule: this minute is not shown yet
    total++;
    const s = log.status[i]!;
    if (s >= 500) e5xx++;
    if (s === 424) e424++;
    lat.push(log.latencyMs[i]!);
  }
  const hiddenMetrics = to - from - total;
  if (total === 0) return { metrics: null, total, e424, hiddenMetrics, hiddenLogs };
  lat.sort((a, b) => a - b);
  const evidence: DeploymentLogEvidence | undefined = withLogs
    ? { requests: logRequests, byStatus, byModelStatus: {}, exceedances: [], latencyMs: { p50: null, p95: null, p99: null } }
    : undefined;
  return {
    metrics: {
      requests: total,
      errorRate: e5xx / total,
      modelErrorRate: e424 / total,
      latencyP50Ms: nearestRank(lat, 50),
      latencyP95Ms: nearestRank(lat, 95),
      latencyP99Ms: nearestRank(lat, 99),
      cpuPercent: 40,
      memoryPercent: 40,
      ...(evidence ? { log: evidence } : {}),
    },
    total,
    e424,
    hiddenMetrics,
    hiddenLogs,
  };
}

/** The snapshot the metrics activity returns for an analysis that starts at `nowMs` (activities/metrics.ts's window). */
export function snapshotAt(model: Pick<BakeModel, 'analysis' | 'delays' | 'withLogs' | 'timing'>, traffic: Traffic, nowMs: number) {
  const endMs = nowMs - analysisDelayMs(model.delays, model.withLogs);
  const startMs = endMs - model.analysis.intervalMs;
  const cutoff = model.timing.metricsCutoff(nowMs);
  const b = deploymentWindow(traffic.baseline, startMs, endMs, nowMs, cutoff, model.withLogs);
  const c = deploymentWindow(traffic.candidate, startMs, endMs, nowMs, cutoff, model.withLogs);
  const snapshot: MetricsSnapshot = { windowMs: model.analysis.intervalMs, endMs, baseline: b.metrics, candidate: c.metrics };
  return { snapshot, startMs, endMs, candidate: c };
}

/** Runs one bake in simulated time: timer → analysis (window, gates) → afterAnalysis, until a decision other than continue. */
export function simulateBake(model: BakeModel, traffic: Traffic): BakeResult {
  let progress = startBake();
  let wait = firstWait(model.bakeMs, model.analysis);
  let t = model.stepStartMs;
  const analyses: AnalysisRecord[] = [];
  for (let guard = 0; guard < 10_000; guard++) {
    t += wait;
    const { snapshot, startMs, endMs, candidate } = snapshotAt(model, traffic, t);
    const verdict = evaluateGates(model.gates, snapshot, { minRequests: model.analysis.minRequests });
    analyses.push({
      atMs: t,
      windowStartMs: startMs,
      windowEndMs: endMs,
      status: verdict.status,
      candidateRequests: candidate.total,
      candidate424: candidate.e424,
      candidateHiddenMetrics: candidate.hiddenMetrics,
      candidateHiddenLogs: candidate.hiddenLogs,
    });
    t += model.analysisMs;
    const next = afterAnalysis(progress, verdict, wait, model.bakeMs, model.analysis);
    progress = next.progress;
    const d = next.decision;
    if (d.action === 'continue') {
      wait = d.waitMs;
      continue;
    }
    if (d.action === 'rollback') return { outcome: 'rolled_back', decisionMs: t, baselineBackMs: t + model.rollbackMs, analyses, reason: d.reason };
    return { outcome: d.action === 'pause' ? 'paused' : 'passed', decisionMs: t, analyses, reason: d.reason };
  }
  throw new Error('the bake did not end within 10000 analyses');
}

/** Seeded traffic around one canary step. */
export interface TrafficModel {
  seed: number;
  /** Requests per second to the endpoint (Poisson). */
  rps: number;
  fromMs: number;
  toMs: number;
  /** Before this, the candidate gets mirrored copies of `mirrorPercent`; from it on, `canaryPercent` live. */
  stepStartMs: number;
  mirrorPercent: number;
  canaryPercent: number;
  /** Lognormal latency per request: median and σ of its log. */
  latency: { medianMs: number; sigma: number };
  /** Background 5xx share of every request. */
  background5xx: number;
  /** From `atMs` on, each candidate request answers 424 with probability `share`. */
  fault: { atMs: number; share: number };
}

function emptyLog(): RequestLog {
  return { t: [], status: [], latencyMs: [], logVisibleAt: [] };
}

/**
 * Generates both deployments' requests. Log delays are drawn from the emulator's `timing`, in request order,
 * as the emulator draws them when it writes each row.
 */
export function generateTraffic(m: TrafficModel, timing: TelemetryTiming): Traffic {
  const rnd = seededRandom(m.seed);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const out: Traffic = { baseline: emptyLog(), candidate: emptyLog() };
  const push = (log: RequestLog, t: number, faulty: boolean): void => {
    const status = faulty && rnd() < m.fault.share ? 424 : rnd() < m.background5xx ? 500 : 200;
    log.t.push(t);
    log.status.push(status);
    log.latencyMs.push(m.latency.medianMs * Math.exp(m.latency.sigma * normal()));
    log.logVisibleAt.push(t + timing.nextLogDelayMs());
  };
  let t = m.fromMs;
  for (;;) {
    t += (-Math.log(1 - rnd()) / m.rps) * 1000;
    if (t >= m.toMs) break;
    const canary = t >= m.stepStartMs;
    const faulty = t >= m.fault.atMs;
    const toCandidate = canary && rnd() * 100 < m.canaryPercent;
    if (toCandidate) push(out.candidate, t, faulty);
    else push(out.baseline, t, false);
    if (!canary && rnd() * 100 < m.mirrorPercent) push(out.candidate, t, faulty); // a mirrored copy
  }
  return out;
}
