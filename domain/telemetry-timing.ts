/**
 * Azure Monitor's timing, and what it means for a plan. Platform metrics have a 1-minute grain and each
 * minute shows about a minute after it closes; resource logs (the traffic log) arrive 3–10 minutes after
 * the request (shared/reference/azure-monitor-logs-and-data-collection.md §0.1). The metrics activity
 * therefore ends its window an ingestion delay before now, and a plan whose analysis interval or bake is
 * shorter than Azure can fill is judged on data from before the step, or on none.
 */
import { formatDuration } from './duration.js';
import type { RolloutPlan } from './plan.js';

/** How far behind now the activity's window ends, per source. */
export interface IngestionDelays {
  metricsMs: number;
  logsMs: number;
}

/** Azure's: metrics 3 minutes (a minute closes, shows about a minute later, with margin), logs 10 minutes (the top of Azure's 3–10). */
export const AZURE_INGESTION_DELAYS: IngestionDelays = { metricsMs: 180_000, logsMs: 600_000 };

/** The emulator's default: telemetry is visible as soon as a request is answered. */
export const INSTANT_INGESTION_DELAYS: IngestionDelays = { metricsMs: 0, logsMs: 0 };

/** Azure Monitor platform metrics' grain. */
export const METRICS_GRAIN_MS = 60_000;

/** The delay that applies to an analysis: with the traffic log, both sources are read over one window, so the later one. */
export function analysisDelayMs(delays: IngestionDelays, withLogs: boolean): number {
  return withLogs ? Math.max(delays.metricsMs, delays.logsMs) : delays.metricsMs;
}

/** A reason a plan cannot be judged well at Azure's timing: the field as written, and why. */
export interface TimingWarning {
  path: string;
  message: string;
}

/**
 * Warnings for a plan at the given delays (Azure's by default). Not errors: the plan runs, but
 * - an `analysis.interval` under the 1-minute grain asks for less than one metrics point;
 * - a bake shorter than the delay plus one interval makes its first analysis read a window that ends
 *   before the step began, so it judges the previous step's traffic.
 *
 * Example: `canary: { bake: 5m }` with logs (delay 10m) and interval 1m → the analysis window at 5m covers
 * −6m…−5m before now, i.e. before the canary's traffic started: a warning naming `strategy[i].canary.bake`.
 */
export function timingWarnings(plan: Pick<RolloutPlan, 'analysis' | 'strategy'>, delays: IngestionDelays = AZURE_INGESTION_DELAYS): TimingWarning[] {
  const out: TimingWarning[] = [];
  const a = plan.analysis;
  const withLogs = a.logs !== undefined;
  const delay = analysisDelayMs(delays, withLogs);
  const source = withLogs ? 'the traffic log arrives up to' : 'metrics arrive about';
  if (a.intervalMs < METRICS_GRAIN_MS) {
    out.push({
      path: 'analysis.interval',
      message: `${formatDuration(a.intervalMs)} is shorter than Azure Monitor's 1-minute metrics grain: each analysis would read less than one metrics point`,
    });
  }
  plan.strategy.forEach((step, i) => {
    if (step.kind !== 'mirror' && step.kind !== 'canary') return;
    const needed = delay + Math.min(a.intervalMs, step.bakeMs);
    if (step.bakeMs < needed) {
      out.push({
        path: `strategy[${i}].${step.kind}.bake`,
        message: `${formatDuration(step.bakeMs)} is shorter than Azure's ingestion delay plus one analysis (${formatDuration(needed)}; ${source} ${formatDuration(delay)} late): the step's analyses would read traffic from before it began`,
      });
    }
  });
  return out;
}
