/**
 * The safe-rollout workflow's message handlers. They only validate (through the pure rules in
 * domain/messages.ts) and record decisions through the state's methods — the workflow body acts on them
 * at its checkpoints. Not exported from workflows/index.ts (only workflow functions are).
 */
import { ApplicationFailure, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import { decisionSender, describeSender, mergePeople } from '../domain/approvals.js';
import { ErrorType } from '../domain/errors.js';
import {
  AbortInputSchema,
  ApproveInputSchema,
  PauseInputSchema,
  RejectInputSchema,
  ResumeInputSchema,
  abortRefusal,
  approveRefusal,
  authorship,
  pauseRefusal,
  rejectRefusal,
  resumeRefusal,
  type Authorship,
  type MessageContext,
  RESUME_ACCEPTS,
} from '../domain/messages.js';
import type { MessageAccepted } from '../domain/rollout.js';
import type { NotificationKind } from '../activities/types.js';
import * as messages from './messages.js';
import { nowIso, type RolloutState } from './rollout-state.js';

/** The view of the state the message rules judge. */
export function messageContext(state: RolloutState): MessageContext {
  const s = state.status;
  return {
    stage: s.stage,
    stepText: s.stepText,
    stepIndex: s.stepIndex,
    stopping: s.stopping,
    paused: s.paused ? { reason: s.paused.reason, by: s.paused.by, ...(s.paused.kind ? { kind: s.paused.kind } : {}) } : null,
    decided: s.pendingApproval && state.decision ? { decision: state.decision.decision, by: state.decision.by } : null,
    pendingApproval: s.pendingApproval ? { stepIndex: s.pendingApproval.stepIndex, stepText: s.pendingApproval.stepText } : null,
    steps: s.steps,
    startedBy: s.startedBy,
    approvers: state.plan.approvals.approvers,
    fourEyes: state.plan.approvals.fourEyes,
    people: mergePeople(state.plan.approvals.people, state.trust?.people),
    ...verification(state),
  };
}

/**
 * Where signatures are checked (issue 13): only once the rollout holds the worker's trusted signers,
 * which it loads at start when the plan requires signed decisions (workflows/decision-trust.ts). The
 * nonces already used are those of the recorded decisions; the runs a statement may name are this run
 * and the rollout's first (continue-as-new keeps the first).
 */
function verification(state: RolloutState): Pick<MessageContext, 'verification'> {
  const trust = state.trust;
  if (!trust) return {};
  const info = workflowInfo();
  return {
    verification: {
      required: state.plan.approvals.verified === true,
      workflowId: info.workflowId,
      runIds: [info.runId, info.firstExecutionRunId],
      nowMs: Date.now(),
      trust: { signers: trust.signers.map((x) => ({ ...x })), people: {} },
      usedNonces: state.status.approvals.flatMap((a) => (a.nonce ? [a.nonce] : [])),
    },
  };
}

/** What the handlers need from the workflow body. */
export interface HandlerHooks {
  /** Stop now: cancel the running steps so rollback starts (abort). */
  cancelSteps(): void;
  /** Tell people; never throws. */
  notify(kind: NotificationKind, text: string, fields?: Record<string, string | number | boolean | null>): Promise<void>;
}

function refused(reason: string): ApplicationFailure {
  return ApplicationFailure.create({ type: ErrorType.MessageRefused, message: reason, nonRetryable: true });
}

function byOf(input: unknown): string {
  const by = (input as { by?: unknown } | null)?.by;
  return typeof by === 'string' && by.trim() ? by.trim() : '(unknown sender)';
}

/**
 * Signals run again on replay (validators do not): a signal without a step, accepted before decisions
 * had to name their step, must still be accepted when its history replays.
 */
function signalRules(input: unknown): { stepRequired: boolean } {
  const named = typeof (input as { stepIndex?: unknown } | null)?.stepIndex === 'number';
  return { stepRequired: named || patched('decision-names-step') };
}

/**
 * How an accepted decision's author was established, for its record. Run by the handler right after
 * the validator (or the signal's refusal check) accepted it in the same activation, so it sees the
 * same state and reaches the same verdict.
 */
function authorOf(state: RolloutState, verb: 'approve' | 'reject' | 'resume', input: unknown): Authorship {
  const parsed = (verb === 'approve' ? ApproveInputSchema : verb === 'reject' ? RejectInputSchema : ResumeInputSchema).parse(input);
  const a = authorship(messageContext(state), verb, parsed);
  return 'refusal' in a ? { verified: false } : a;
}

/** Registers every update, signal and query handler. Call once, before the first await. */
export function registerHandlers(state: RolloutState, hooks: HandlerHooks): void {
  const applyApprove = (input: unknown, via: 'update' | 'signal'): MessageAccepted => {
    const { by, comment, ...sent } = ApproveInputSchema.parse(input);
    const pending = state.status.pendingApproval!;
    const from = decisionSender(sent, authorOf(state, 'approve', input));
    const nonce = from.verified && sent.signature ? { nonce: sent.signature.nonce } : {};
    state.decide(
      { decision: 'approved', by, via, ...from, ...(comment ? { comment } : {}) },
      { at: nowIso(), stepIndex: pending.stepIndex, decision: 'approved', by, via, ...from, ...nonce, ...(comment ? { comment } : {}) },
    );
    state.record('approved', `approved by ${by} (${describeSender(from)})${comment ? `: ${comment}` : ''}`, pending.stepIndex);
    return { accepted: true, message: `approved by ${by} for step ${pending.stepIndex + 1} (${pending.stepText})` };
  };

  const applyReject = (input: unknown, via: 'update' | 'signal'): MessageAccepted => {
    const { by, reason, ...sent } = RejectInputSchema.parse(input);
    const pending = state.status.pendingApproval!;
    const from = decisionSender(sent, authorOf(state, 'reject', input));
    const nonce = from.verified && sent.signature ? { nonce: sent.signature.nonce } : {};
    state.decide(
      { decision: 'rejected', by, via, ...from, ...(reason ? { comment: reason } : {}) },
      { at: nowIso(), stepIndex: pending.stepIndex, decision: 'rejected', by, via, ...from, ...nonce, ...(reason ? { comment: reason } : {}) },
    );
    state.record('rejected', `rejected by ${by} (${describeSender(from)})${reason ? `: ${reason}` : ''}`, pending.stepIndex);
    return { accepted: true, message: `rejected by ${by}; rolling back` };
  };

  setHandler(messages.approve, (input) => applyApprove(input, 'update'), {
    validator: (input) => {
      const why = approveRefusal(messageContext(state), input);
      if (why) throw refused(why);
    },
    description: 'Approve the awaited approval.',
  });
  setHandler(messages.reject, (input) => applyReject(input, 'update'), {
    validator: (input) => {
      const why = rejectRefusal(messageContext(state), input);
      if (why) throw refused(why);
    },
    description: 'Reject the awaited approval; the rollout rolls back.',
  });

  // Signals cannot answer, so a refusal is recorded in the status and told to people instead.
  setHandler(
    messages.approveSignal,
    async (input) => {
      const why = approveRefusal(messageContext(state), input, signalRules(input));
      if (!why) return void applyApprove(input, 'signal');
      if (state.recordRefusal({ message: 'approve', via: 'signal', by: byOf(input), reason: why })) await hooks.notify('refused', `Refused approve signal from ${byOf(input)}: ${why}`);
    },
    { description: 'Approve (signal form, for UI buttons and bots); refusals are recorded in status.' },
  );
  setHandler(
    messages.rejectSignal,
    async (input) => {
      const why = rejectRefusal(messageContext(state), input, signalRules(input));
      if (!why) return void applyReject(input, 'signal');
      if (state.recordRefusal({ message: 'reject', via: 'signal', by: byOf(input), reason: why })) await hooks.notify('refused', `Refused reject signal from ${byOf(input)}: ${why}`);
    },
    { description: 'Reject (signal form); refusals are recorded in status.' },
  );

  setHandler(
    messages.abort,
    (input) => {
      const { by, reason } = AbortInputSchema.parse(input);
      const why = `aborted by ${by}${reason ? `: ${reason}` : ''}`;
      state.requestStop('aborted', why);
      state.record('abort', why, state.status.stepIndex);
      hooks.cancelSteps();
      state.publish();
      return { accepted: true, message: `${why}; rolling back` };
    },
    {
      validator: (input) => {
        const why = abortRefusal(messageContext(state), input);
        if (why) throw refused(why);
      },
      description: 'Stop the rollout and roll back.',
    },
  );

  setHandler(
    messages.pause,
    (input) => {
      const { by, reason } = PauseInputSchema.parse(input);
      const text = reason ? reason : 'paused by hand';
      state.pause(text, by, 'manual');
      state.record('paused', `paused by ${by}: ${text}`, state.status.stepIndex);
      // People are told when the rollout reaches its checkpoint and holds.
      return { accepted: true, message: `paused at ${state.status.stage} (${state.status.stepText}); it holds before the next analysis or traffic change` };
    },
    {
      validator: (input) => {
        const why = pauseRefusal(messageContext(state), input);
        if (why) throw refused(why);
      },
      description: 'Hold the rollout at its next checkpoint.',
    },
  );

  setHandler(
    messages.resume,
    async (input) => {
      const { by, comment, ...sent } = ResumeInputSchema.parse(input);
      const kind = state.status.paused?.kind ?? 'manual';
      // A gate's resume is a decision: its author as established by the validator (signed where required).
      const from = kind === 'manual' ? decisionSender(sent) : decisionSender(sent, authorOf(state, 'resume', input));
      const nonce = from.verified && sent.signature ? { nonce: sent.signature.nonce } : {};
      const pending = state.status.pendingApproval;
      if (kind === 'approval-timeout' && pending && patched('resume-is-a-decision')) {
        // The approval is still awaited: resuming approves it (the validator applied the approver rules).
        state.decide({ decision: 'approved', by, via: 'update', ...from, ...(comment ? { comment } : {}) }, { at: nowIso(), stepIndex: pending.stepIndex, decision: 'approved', by, via: 'update', ...from, ...nonce, comment: `by resume after the approval timed out${comment ? `: ${comment}` : ''}` });
      } else if (kind !== 'manual') {
        state.recordResumeDecision({ at: nowIso(), stepIndex: state.status.stepIndex, decision: 'resumed', by, via: 'update', ...from, ...nonce, comment: `accepted ${RESUME_ACCEPTS[kind]}${comment ? `: ${comment}` : ''}` });
      }
      const was = state.resume()!;
      state.record('resumed', `resumed by ${by}${kind === 'manual' ? '' : ` (${describeSender(from)})`} (was paused: ${was.reason})${comment ? `: ${comment}` : ''}`, state.status.stepIndex);
      await hooks.notify('resumed', `Resumed by ${by} at ${state.status.stepText}`);
      return { accepted: true, message: `resumed at ${state.status.stage} (${state.status.stepText})` };
    },
    {
      validator: (input) => {
        const why = resumeRefusal(messageContext(state), input);
        if (why) throw refused(why);
      },
      description: 'Continue a paused rollout.',
    },
  );

  setHandler(messages.status, () => state.statusForQuery(), { description: 'Where the rollout is.' });
}
