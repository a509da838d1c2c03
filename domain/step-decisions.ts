/**
 * What follows a cost check, an approval timeout, and a stopped rollout: the decisions the workflow used
 * to make inline, as pure functions with table tests (test/domain/step-decisions.test.ts). The bake
 * loop's decisions live in analysis.ts.
 */
import { formatDuration } from './duration.js';
import type { VerdictStatus } from './gates.js';
import type { AnalysisSettings, ApprovalPolicy } from './plan.js';
import type { RolloutOutcome } from './rollout.js';

// ───────────────────────────── cost check ─────────────────────────────

/** What happens after a cost check. */
export type CostCheckDecision = { action: 'continue' } | { action: 'rollback'; reason: string } | { action: 'pause'; reason: string };

/**
 * The cost check's verdict → what happens next. `fail` rolls back. `inconclusive` (no price known, not even
 * a fallback) follows `analysis.onInconclusive`, with one deliberate difference: `extend` pauses for a
 * person, like `pause`. Extending means "look again after an interval"; a price that is unknown now is
 * still unknown an interval later (the price list changes monthly, not per minute), so extending would
 * only postpone the same answer and then roll back a candidate nobody judged. A person can check the
 * price and resume (accepting the cost) or abort.
 */
export function afterCostCheck(
  verdict: { status: VerdictStatus; reasons: readonly string[] },
  stepNumber: number,
  onInconclusive: AnalysisSettings['onInconclusive'],
): CostCheckDecision {
  const why = verdict.reasons.join('; ');
  switch (verdict.status) {
    case 'pass':
      return { action: 'continue' };
    case 'fail':
      return { action: 'rollback', reason: `step ${stepNumber} (cost check): ${why}` };
    case 'inconclusive':
      switch (onInconclusive) {
        case 'rollback':
          return { action: 'rollback', reason: `step ${stepNumber} (cost check) inconclusive: ${why}` };
        case 'pause':
        case 'extend': // decided on purpose: see the TSDoc above
          return { action: 'pause', reason: `cost check inconclusive: ${why}; resume accepts the cost` };
        default: {
          const never: never = onInconclusive;
          throw new Error(`unknown onInconclusive ${String(never)}`);
        }
      }
    default: {
      const never: never = verdict.status;
      throw new Error(`unknown verdict ${String(never)}`);
    }
  }
}

// ───────────────────────────── approval timeout ─────────────────────────────

/** What happens when nobody decided an approval in time. */
export type ApprovalTimeoutDecision =
  /** Roll back; `reason` is the rollout's reason, `notice` what people are told. */
  | { action: 'rollback'; why: string; reason: string; notice: string }
  /** Carry on as if approved; recorded as a `timed_out_proceed` decision by glidepath. */
  | { action: 'proceed'; why: string; notice: string }
  /** Keep waiting without a timeout: approve or reject end it, abort or the deadline roll back. */
  | { action: 'wait'; why: string; notice: string; pausedReason: string };

/** The approval policy's `onTimeout` → the decision, with the texts the timeline and people get. */
export function afterApprovalTimeout(policy: ApprovalPolicy, stepText: string): ApprovalTimeoutDecision {
  const why = `no decision on ${stepText} within ${formatDuration(policy.timeoutMs)} (onTimeout: ${policy.onTimeout})`;
  switch (policy.onTimeout) {
    case 'rollback':
      return { action: 'rollback', why, reason: `approval timed out: ${why}`, notice: `Approval timed out: ${why}; rolling back` };
    case 'proceed':
      return { action: 'proceed', why, notice: `Approval timed out: ${why}; proceeding` };
    case 'pause':
      return { action: 'wait', why, notice: `Approval timed out: ${why}; still waiting for approve or reject`, pausedReason: 'approval timed out; waiting for approve or reject' };
    default: {
      const never: never = policy.onTimeout;
      throw new Error(`unknown onTimeout ${String(never)}`);
    }
  }
}

// ───────────────────────────── how a stopped rollout ends ─────────────────────────────

/** Why the steps stopped, as the workflow's `catch` sees it. */
export interface StopFacts {
  /** A stop requested before the steps ended (abort, deadline, rejection recorded by a handler), first one wins. */
  requested: { outcome: RolloutOutcome; reason: string } | null;
  /** A stop the steps decided (a failed gate, a rejection, an approval timeout). */
  decided: { outcome: RolloutOutcome; reason: string } | null;
  /** The workflow itself was cancelled (from outside: `temporal workflow cancel`, the UI). */
  cancelledFromOutside: boolean;
  /** The rollout created the candidate or changed traffic, so there may be something to undo. */
  touchedEndpoint: boolean;
  /** An activity or Temporal failure that ended the steps: its error type (if any) and description. */
  failure: { type: string | null; description: string } | null;
}

/** How the rollout ends. */
export type StopPlan =
  /** Preflight failed before anything changed: fail the execution with the cause; nothing to undo. */
  | { action: 'fail' }
  /** Roll back, then end with `outcome`; `endCancelled` when the execution must end Cancelled after the rollback. */
  | { action: 'rollback'; outcome: RolloutOutcome; reason: string; errorType: string | null; endCancelled: boolean };

/**
 * Sorts a stopped rollout into its ending. The first stop wins: one requested earlier (an abort, the
 * deadline) over one the steps decided, over the cancellation itself. An unrequested failure before the
 * endpoint was touched fails the execution; after it, it rolls back as `failed` with the failure's type.
 *
 * | requested | decided      | cancelled | touched | failure          | → |
 * |-----------|--------------|-----------|---------|------------------|---|
 * | —         | rolled_back  | no        | yes     | —                | rollback rolled_back |
 * | aborted   | —            | no        | yes     | (cancellation)   | rollback aborted |
 * | —         | —            | no        | no      | EndpointNotFound | fail |
 * | —         | —            | no        | yes     | DeploymentFailed | rollback failed (DeploymentFailed) |
 * | —         | —            | yes       | no      | (cancellation)   | rollback aborted, end cancelled |
 */
export function planStop(f: StopFacts): StopPlan {
  const stop = f.requested ?? f.decided ?? (f.cancelledFromOutside ? { outcome: 'aborted' as const, reason: 'the workflow was cancelled' } : null);
  if (stop) return { action: 'rollback', outcome: stop.outcome, reason: stop.reason, errorType: null, endCancelled: f.cancelledFromOutside };
  if (!f.touchedEndpoint) return { action: 'fail' };
  return { action: 'rollback', outcome: 'failed', reason: f.failure?.description ?? 'the rollout failed', errorType: f.failure?.type ?? null, endCancelled: false };
}
