/**
 * Telling people (the notify activity: Slack, or the worker's log). Best effort: a failed notification
 * is recorded in the timeline and never fails the rollout; cancellation still propagates.
 * Not exported from workflows/index.ts (only workflow functions are).
 */
import { isCancellation, log } from '@temporalio/workflow';
import type { NotificationKind } from '../activities/types.js';
import type { ApprovalNotice } from '../domain/approvals.js';
import { notifier } from './activity-options.js';
import { describeFailure } from './failures.js';
import type { RolloutState } from './rollout-state.js';

/** Structured context of a notification: step index, approvers, … (aggregates only, no secrets). */
export type NotifyFields = Record<string, string | number | boolean | null>;

/** Sends one notification about the rollout `state` describes. */
export async function notify(state: RolloutState, kind: NotificationKind, text: string, fields?: NotifyFields, approval?: ApprovalNotice): Promise<void> {
  const plan = state.plan;
  try {
    await notifier.notify.executeWithOptions({ summary: `notify ${kind}` }, [
      {
        kind,
        workflowId: state.status.workflowId,
        endpoint: plan.target.endpoint,
        candidate: plan.candidate.name,
        ...(plan.notify?.slack ? { channel: plan.notify.slack.channel } : {}),
        text,
        ...(fields ? { fields } : {}),
        ...(approval ? { approval } : {}),
      },
    ]);
  } catch (err) {
    if (isCancellation(err)) throw err;
    state.record('notify_failed', `notification '${kind}' failed: ${describeFailure(err)}`, state.status.stepIndex);
    log.warn('notification failed', { kind, error: describeFailure(err) });
  }
}
