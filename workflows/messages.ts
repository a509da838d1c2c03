/**
 * Every message of the safe-rollout workflow, defined once. The CLI, the Slack bridge and the tests
 * import these handles; nobody types a wire name by hand.
 *
 * Updates (the caller gets an answer; each has a validator that refuses what cannot apply now, naming
 * why — a refused update leaves no trace in the history): `approve`, `reject`, `abort`, `pause`, `resume`.
 * Signals `approve` and `reject` (same wire names as the updates) exist for the Temporal UI's and CLI's
 * signal buttons and simple bots; they go through the same checks, and a refused signal is recorded in
 * the status and notified, never applied. Query: `status`.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AbortInput, ApproveInput, PauseInput, RejectInput, ResumeInput } from '../domain/messages.js';
import type { MessageAccepted, RolloutStatus } from '../domain/rollout.js';

export type { AbortInput, ApproveInput, PauseInput, RejectInput, ResumeInput, MessageAccepted, RolloutStatus };

/** Approve the awaited approval (an allowed approver; with four-eyes, not the starter). */
export const approve = defineUpdate<MessageAccepted, [ApproveInput], 'approve'>('approve');
/** Reject the awaited approval: the rollout rolls back and ends `rejected`. */
export const reject = defineUpdate<MessageAccepted, [RejectInput], 'reject'>('reject');
/** Stop the rollout now and roll back; it ends `aborted`. */
export const abort = defineUpdate<MessageAccepted, [AbortInput], 'abort'>('abort');
/** Hold the rollout at its next checkpoint (before the next analysis or traffic change). */
export const pause = defineUpdate<MessageAccepted, [PauseInput], 'pause'>('pause');
/** Continue a paused rollout (also after a pause for drift or an inconclusive analysis). */
export const resume = defineUpdate<MessageAccepted, [ResumeInput], 'resume'>('resume');

/** Signal form of `approve` (wire name `approve`), for the UI's signal button and bots that cannot send updates. */
export const approveSignal = defineSignal<[ApproveInput], 'approve'>('approve');
/** Signal form of `reject` (wire name `reject`). */
export const rejectSignal = defineSignal<[RejectInput], 'reject'>('reject');

/** Where the rollout is: stage, step, traffic, verdicts, pending approval, approvals, events. */
export const status = defineQuery<RolloutStatus, [], 'status'>('status');
