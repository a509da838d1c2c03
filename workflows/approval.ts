/**
 * An approval step: ask, wait for a decision or the timeout, and act on it. The rules for who may decide
 * are in domain/messages.ts (run by the handlers); what a timeout means is domain/step-decisions.ts.
 * Not exported from workflows/index.ts (only workflow functions are).
 */
import { condition } from '@temporalio/workflow';
import { approvalNotice, describeSender } from '../domain/approvals.js';
import { formatDuration } from '../domain/duration.js';
import type { RolloutStatus } from '../domain/rollout.js';
import type { ApprovalPolicy } from '../domain/plan.js';
import { afterApprovalTimeout } from '../domain/step-decisions.js';
import type { RolloutContext } from './context.js';
import { nowIso } from './rollout-state.js';
import { StopRollout } from './stop.js';

/** Waits for a decision on step `stepIndex`; returns when approved, throws StopRollout when rejected or timed out to rollback. */
export async function awaitApproval(ctx: RolloutContext, stepIndex: number, stepText: string, policy: ApprovalPolicy): Promise<void> {
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
  const decided = await condition(() => state.decision !== null, policy.timeoutMs, {
    summary: `await approval of ${stepText} (${formatDuration(policy.timeoutMs)}, then ${policy.onTimeout})`,
  });
  if (!decided) {
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
        await condition(() => state.decision !== null);
        state.resume();
        break;
      default: {
        const never: never = next;
        throw new Error(`unknown decision ${JSON.stringify(never)}`);
      }
    }
  }
  const d = state.decision!;
  state.clearApproval();
  if (d.decision === 'rejected') {
    throw new StopRollout('rejected', `rejected by ${d.by}${d.comment ? `: ${d.comment}` : ''} at step ${stepIndex + 1} (${stepText})`);
  }
  await ctx.notify('approval_recorded', `Approved by ${d.by} (${describeSender(d)}) for step ${stepIndex + 1} (${stepText})`);
}

