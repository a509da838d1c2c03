/**
 * An approval step: ask, wait for a decision or the timeout, and act on it. The rules for who may decide
 * are in domain/messages.ts (run by the handlers); what a timeout means is domain/step-decisions.ts.
 * Not exported from workflows/index.ts (only workflow functions are).
 */
import { approvalNotice, describeSender } from '../domain/approvals.js';
import { formatDuration } from '../domain/duration.js';
import type { ResumePoint, RolloutStatus } from '../domain/rollout.js';
import type { ApprovalPolicy } from '../domain/plan.js';
import { afterApprovalTimeout } from '../domain/step-decisions.js';
import type { RolloutContext } from './context.js';
import { nowIso } from './rollout-state.js';
import { waitOrContinue } from './continue.js';
import { StopRollout } from './stop.js';

/**
 * Waits for a decision on step `stepIndex`; returns when approved, throws StopRollout when rejected or
 * timed out to rollback. `resumed`: a continued run (continue-as-new) whose predecessor already asked;
 * it keeps waiting for what is left of the timeout (or without one, after a timeout with `pause`).
 */
export async function awaitApproval(ctx: RolloutContext, stepIndex: number, stepText: string, policy: ApprovalPolicy, resumed = false): Promise<void> {
  const { state } = ctx;
  const at = (): ResumePoint => ({ stepIndex, phase: 'approval' });
  const decided = () => state.decision !== null;
  let inTime: boolean;
  if (!resumed) {
    await requestApproval(ctx, stepIndex, stepText, policy);
    state.setPosition(at());
    inTime = await waitOrContinue(decided, policy.timeoutMs, at, `await approval of ${stepText} (${formatDuration(policy.timeoutMs)}, then ${policy.onTimeout})`);
  } else {
    state.setPosition(at());
    const timeoutAt = state.status.pendingApproval?.timeoutAt;
    if (timeoutAt === null) return decideAfterTimedOutWait(ctx, stepIndex, stepText); // already timed out with onTimeout: pause
    inTime = await waitOrContinue(decided, Math.max(0, Date.parse(timeoutAt ?? '') - Date.now() || 0), at, `await approval of ${stepText} (continued)`);
  }
  if (!inTime) {
    const next = afterApprovalTimeout(policy, stepText);
    state.record('approval_timed_out', next.why, stepIndex);
    switch (next.action) {
      case 'rollback':
        state.clearApproval();
        await ctx.notify('approval_timed_out', next.notice);
        throw new StopRollout('rolled_back', next.reason);
      case 'proceed':
        state.clearApproval();
        state.recordTimedOutProceed(stepIndex);
        return ctx.notify('approval_timed_out', next.notice);
      case 'wait':
        state.approvalTimedOutWaiting(next.pausedReason);
        await ctx.notify('approval_timed_out', next.notice);
        return decideAfterTimedOutWait(ctx, stepIndex, stepText);
      default: {
        const never: never = next;
        throw new Error(`unknown decision ${JSON.stringify(never)}`);
      }
    }
  }
  return actOnDecision(ctx, stepIndex, stepText);
}

/** After a timeout with `onTimeout: pause`: approve, reject, or an approver's resume (which approves) end the wait. */
async function decideAfterTimedOutWait(ctx: RolloutContext, stepIndex: number, stepText: string): Promise<void> {
  await waitOrContinue(() => ctx.state.decision !== null, undefined, () => ({ stepIndex, phase: 'approval' }));
  ctx.state.resume();
  return actOnDecision(ctx, stepIndex, stepText);
}

/** Asks for the decision: records it as awaited and notifies the approvers. */
async function requestApproval(ctx: RolloutContext, stepIndex: number, stepText: string, policy: ApprovalPolicy): Promise<void> {
  const { state, plan, endpoint } = ctx;
  const s = state.status;
  const approvers = plan.approvals.approvers;
  const timeoutAt = new Date(Date.now() + policy.timeoutMs).toISOString();
  state.awaitApproval({ stepIndex, stepText, requestedAt: nowIso(), timeoutAt, onTimeout: policy.onTimeout, approvers: [...approvers] });
  state.record('approval_requested', `approval requested for ${stepText} (timeout ${formatDuration(policy.timeoutMs)} → ${policy.onTimeout})`, stepIndex);
  await ctx.notify('approval_requested', `Approval needed for step ${stepIndex + 1} (${stepText}) on ${endpoint.endpoint}`, {
    stepIndex,
    approvers: approvers.join(', ') || 'anyone',
    timeoutAt,
    onTimeout: policy.onTimeout,
    fourEyes: plan.approvals.fourEyes,
    startedBy: s.startedBy,
  }, approvalNotice(s as RolloutStatus, plan));
}

/** The decision is in: a rejection stops the rollout, an approval is announced. */
async function actOnDecision(ctx: RolloutContext, stepIndex: number, stepText: string): Promise<void> {
  const { state } = ctx;
  const d = state.decision!;
  state.clearApproval();
  if (d.decision === 'rejected') {
    throw new StopRollout('rejected', `rejected by ${d.by}${d.comment ? `: ${d.comment}` : ''} at step ${stepIndex + 1} (${stepText})`);
  }
  await ctx.notify('approval_recorded', `Approved by ${d.by} (${describeSender(d)}) for step ${stepIndex + 1} (${stepText})`);
}

