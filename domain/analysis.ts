/**
 * The bake loop's brain: after each analysis, what happens next. A bake step (mirror or canary) waits
 * one analysis interval, evaluates the gates, and asks {@link afterAnalysis} whether to keep baking,
 * pass the step, roll back or pause. The workflow only sleeps and calls activities; every decision is here.
 *
 * Rules for plans with fixed thresholds only (Argo-style; judged plans: domain/judged-analysis.ts):
 * - `failureLimit` consecutive failed analyses roll back at once, bake time or not.
 * - A pass resets the failure count; an inconclusive analysis neither counts as a failure nor resets it.
 * - The step passes when the bake time is over and the latest analysis passed.
 * - When the bake time is over and the latest analysis failed (fewer than failureLimit in a row), the
 *   bake continues one interval at a time: the next analysis either passes or adds to the count.
 * - When the bake time is over and the latest analysis is inconclusive, `onInconclusive` decides:
 *   `extend` bakes one more interval, up to `maxExtensions` times, then rolls back (still unknown after
 *   every extension is not safe to promote); `pause` pauses for a person (resume accepts the step, abort
 *   rolls back); `rollback` rolls back.
 */
import { formatDuration } from './duration.js';
import type { VerdictStatus } from './gates.js';
import type { StepJudgeState } from './judged-analysis.js';
import type { PredictionStepState } from './prediction-analysis.js';
import type { AnalysisSettings } from './plan.js';

/** Where a bake stands. Plain JSON: it lives in workflow state and is carried across continue-as-new. */
export interface BakeProgress {
  elapsedMs: number;
  analyses: number;
  consecutiveFailures: number;
  extensions: number;
  /** The judge's evidence for this step (judged plans only; domain/judged-analysis.ts). Starts empty each step. */
  judge?: StepJudgeState;
  /** The prediction gates' evidence for this step (plans with gates.predictions; domain/prediction-analysis.ts). */
  predictions?: PredictionStepState;
}

/** What to do after an analysis. */
export type BakeDecision =
  | { action: 'continue'; waitMs: number }
  | { action: 'passed'; reason: string }
  | { action: 'rollback'; reason: string }
  | { action: 'pause'; reason: string };

/** A bake that has not started. */
export function startBake(): BakeProgress {
  return { elapsedMs: 0, analyses: 0, consecutiveFailures: 0, extensions: 0 };
}

/** How long to wait before the first analysis of a bake: one interval, or the whole bake when it is shorter. */
export function firstWait(bakeMs: number, analysis: Pick<AnalysisSettings, 'intervalMs'>): number {
  return Math.max(1000, Math.min(analysis.intervalMs, bakeMs));
}

/**
 * The next state of a bake and the decision, after an analysis that came `waitedMs` after the previous one.
 *
 * Example with bake 15m, interval 1m, failureLimit 2: analyses at 1m…15m; a fail at 7m and 8m → rollback
 * ("2 consecutive failed analyses"); all pass → passed at 15m; inconclusive at 15m with maxExtensions 3 →
 * analyses at 16m, 17m, 18m, then rollback if still inconclusive.
 */
export function afterAnalysis(
  progress: BakeProgress,
  verdict: { status: VerdictStatus; reasons: readonly string[] },
  waitedMs: number,
  bakeMs: number,
  analysis: AnalysisSettings,
): { progress: BakeProgress; decision: BakeDecision } {
  const p: BakeProgress = {
    elapsedMs: progress.elapsedMs + waitedMs,
    analyses: progress.analyses + 1,
    consecutiveFailures: verdict.status === 'fail' ? progress.consecutiveFailures + 1 : verdict.status === 'pass' ? 0 : progress.consecutiveFailures,
    extensions: progress.extensions,
  };
  const why = verdict.reasons.join('; ');
  if (verdict.status === 'fail' && p.consecutiveFailures >= analysis.failureLimit) {
    return { progress: p, decision: { action: 'rollback', reason: `${p.consecutiveFailures} consecutive failed analyses (failureLimit ${analysis.failureLimit}): ${why}` } };
  }
  if (p.elapsedMs < bakeMs) {
    return { progress: p, decision: { action: 'continue', waitMs: Math.max(1000, Math.min(analysis.intervalMs, bakeMs - p.elapsedMs)) } };
  }
  switch (verdict.status) {
    case 'pass':
      return { progress: p, decision: { action: 'passed', reason: `baked ${formatDuration(p.elapsedMs)} with ${p.analyses} analyses; last passed: ${why}` } };
    case 'fail':
      return { progress: p, decision: { action: 'continue', waitMs: analysis.intervalMs } };
    case 'inconclusive':
      return atEndInconclusive(p, why, analysis);
    default: {
      const never: never = verdict.status;
      throw new Error(`unknown verdict ${String(never)}`);
    }
  }
}

/**
 * The decision when the bake time is over and the analysis is still inconclusive, by `onInconclusive`:
 * `extend` bakes one more interval, up to `maxExtensions` times, then rolls back; `pause` pauses for a
 * person; `rollback` rolls back. `why` is the reason quoted in the decision. Shared by the fixed-threshold,
 * judged and prediction bakes.
 */
export function atEndInconclusive(
  p: BakeProgress,
  why: string,
  analysis: Pick<AnalysisSettings, 'onInconclusive' | 'maxExtensions' | 'intervalMs'>,
): { progress: BakeProgress; decision: BakeDecision } {
  switch (analysis.onInconclusive) {
    case 'extend':
      if (p.extensions < analysis.maxExtensions) {
        return { progress: { ...p, extensions: p.extensions + 1 }, decision: { action: 'continue', waitMs: analysis.intervalMs } };
      }
      return {
        progress: p,
        decision: { action: 'rollback', reason: `analysis still inconclusive after ${p.extensions} extension(s) of ${formatDuration(analysis.intervalMs)} (maxExtensions ${analysis.maxExtensions}): ${why}` },
      };
    case 'pause':
      return { progress: p, decision: { action: 'pause', reason: `analysis inconclusive at the end of the bake: ${why}` } };
    case 'rollback':
      return { progress: p, decision: { action: 'rollback', reason: `analysis inconclusive at the end of the bake: ${why}` } };
    default: {
      const never: never = analysis.onInconclusive;
      throw new Error(`unknown onInconclusive ${String(never)}`);
    }
  }
}

/**
 * The longest a bake can take without a person stepping in: the bake, plus the intervals a run of
 * failures just under the limit adds, plus every extension.
 */
export function worstCaseBakeMs(bakeMs: number, analysis: AnalysisSettings): number {
  const extensions = analysis.onInconclusive === 'extend' ? analysis.maxExtensions : 0;
  return bakeMs + (analysis.failureLimit - 1 + extensions) * analysis.intervalMs;
}
