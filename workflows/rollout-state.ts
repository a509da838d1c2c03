/**
 * The safe-rollout workflow's state and its message handlers. State is one plain-JSON record (what the
 * `status` query returns, plus a few internal fields); handlers only validate (through the pure rules
 * in domain/messages.ts) and record decisions — the workflow body acts on them at its checkpoints.
 * Not exported from workflows/index.ts (only workflow functions are).
 */
import { ApplicationFailure, patched, setHandler } from '@temporalio/workflow';
import { decisionSender, describeSender, type DecisionSender } from '../domain/approvals.js';
import { ErrorType } from '../domain/errors.js';
import {
  AbortInputSchema,
  ApproveInputSchema,
  PauseInputSchema,
  RejectInputSchema,
  ResumeInputSchema,
  abortRefusal,
  approveRefusal,
  pauseRefusal,
  rejectRefusal,
  resumeRefusal,
  type MessageContext,
  type Stage,
} from '../domain/messages.js';
import type { RolloutPlan } from '../domain/plan.js';
import type {
  ApprovalRecord,
  MessageAccepted,
  RefusalRecord,
  RolloutOutcome,
  RolloutStatus,
  TimelineEvent,
  VerdictRecord,
} from '../domain/rollout.js';
import type { TrafficState } from '../domain/traffic.js';
import type { NotificationKind } from '../activities/types.js';
import * as messages from './messages.js';

/** Everything the workflow keeps. Plain JSON: records and arrays, ISO strings, no Dates or Maps. */
export interface RolloutState {
  status: RolloutStatus;
  plan: RolloutPlan;
  /** The decision on the approval being awaited, set by approve/reject. */
  decision: ({ decision: 'approved' | 'rejected'; by: string; comment?: string; via: 'update' | 'signal' } & DecisionSender) | null;
  /** Why the rollout is stopping, set once (abort, deadline, rejection, gate failure …). */
  stop: { outcome: RolloutOutcome; reason: string } | null;
  /** The traffic the rollout last read or set: drift is any difference from this before a change. */
  expectedTraffic: TrafficState | null;
  /** Undo data: what rollback must restore or remove. */
  undo: { baseline: string | null; candidateCreated: boolean; changedTraffic: boolean };
  /** All verdicts, for the result (status keeps only the last few). */
  verdicts: VerdictRecord[];
}

/** Workflow time as ISO text (deterministic inside the workflow sandbox). */
export function nowIso(): string {
  return new Date(Date.now()).toISOString();
}

/** A fresh state for a validated plan. */
export function initialState(args: { plan: RolloutPlan; workflowId: string; startedBy: string }): RolloutState {
  const { plan } = args;
  return {
    plan,
    decision: null,
    stop: null,
    expectedTraffic: null,
    undo: { baseline: null, candidateCreated: false, changedTraffic: false },
    verdicts: [],
    status: {
      workflowId: args.workflowId,
      endpoint: plan.target.endpoint,
      candidate: plan.candidate.name,
      baseline: plan.baseline ?? null,
      startedBy: args.startedBy,
      startedAt: nowIso(),
      stage: 'preflight',
      stepIndex: -1,
      stepText: 'preflight',
      steps: [],
      traffic: null,
      lastVerdicts: [],
      pendingApproval: null,
      approvals: [],
      paused: null,
      stopping: null,
      refusals: [],
      events: [],
      outcome: null,
    },
  };
}

/** Appends a timeline event. */
export function record(state: RolloutState, kind: TimelineEvent['kind'], text: string, stepIndex?: number): void {
  state.status.events.push({ at: nowIso(), kind, text, ...(stepIndex !== undefined && stepIndex >= 0 ? { stepIndex } : {}) });
}

/** Keeps the last verdicts in the status and all of them for the result. */
export function recordVerdict(state: RolloutState, v: VerdictRecord): void {
  state.verdicts.push(v);
  state.status.lastVerdicts = [...state.status.lastVerdicts, v].slice(-5);
}

/** Marks the rollout as stopping (the first reason wins). Returns true when this call set it. */
export function requestStop(state: RolloutState, outcome: RolloutOutcome, reason: string): boolean {
  if (state.stop) return false;
  state.stop = { outcome, reason };
  state.status.stopping = reason;
  return true;
}

/** The view of the state the message rules judge. */
export function messageContext(state: RolloutState): MessageContext {
  const s = state.status;
  return {
    stage: s.stage as Stage,
    stepText: s.stepText,
    stopping: s.stopping,
    paused: s.paused ? { reason: s.paused.reason, by: s.paused.by } : null,
    pendingApproval: s.pendingApproval ? { stepIndex: s.pendingApproval.stepIndex, stepText: s.pendingApproval.stepText } : null,
    steps: s.steps,
    startedBy: s.startedBy,
    approvers: state.plan.approvals.approvers,
    fourEyes: state.plan.approvals.fourEyes,
  };
}

/** What the handlers need from the workflow body. */
export interface HandlerHooks {
  /** Stop now: cancel the running steps so rollback starts (abort). */
  cancelSteps(): void;
  /** Tell people; never throws. */
  notify(kind: NotificationKind, text: string, fields?: Record<string, string | number | boolean | null>): Promise<void>;
  /** Refresh the UI's current details after a change. */
  publish(): void;
}

function refused(reason: string): ApplicationFailure {
  return ApplicationFailure.create({ type: ErrorType.MessageRefused, message: reason, nonRetryable: true });
}

function byOf(input: unknown): string {
  const by = (input as { by?: unknown } | null)?.by;
  return typeof by === 'string' && by.trim() ? by.trim() : '(unknown sender)';
}

function recordRefusal(state: RolloutState, r: Omit<RefusalRecord, 'at'>): void {
  state.status.refusals.push({ at: nowIso(), ...r });
  record(state, 'refused', `refused ${r.message} ${r.via} from ${r.by}: ${r.reason}`, state.status.stepIndex);
}

/**
 * Signals run again on replay (validators do not): a signal without a step, accepted before decisions
 * had to name their step, must still be accepted when its history replays.
 */
function signalRules(input: unknown): { stepRequired: boolean } {
  const named = typeof (input as { stepIndex?: unknown } | null)?.stepIndex === 'number';
  return { stepRequired: named || patched('decision-names-step') };
}

/** Registers every update, signal and query handler. Call once, before the first await. */
export function registerHandlers(state: RolloutState, hooks: HandlerHooks): void {
  const s = state.status;

  const applyApprove = (input: unknown, via: 'update' | 'signal'): MessageAccepted => {
    const { by, comment, ...sent } = ApproveInputSchema.parse(input);
    const pending = s.pendingApproval!;
    const from = decisionSender(sent);
    state.decision = { decision: 'approved', by, via, ...from, ...(comment ? { comment } : {}) };
    const rec: ApprovalRecord = { at: nowIso(), stepIndex: pending.stepIndex, decision: 'approved', by, via, ...from, ...(comment ? { comment } : {}) };
    s.approvals.push(rec);
    record(state, 'approved', `approved by ${by} (${describeSender(from)})${comment ? `: ${comment}` : ''}`, pending.stepIndex);
    hooks.publish();
    return { accepted: true, message: `approved by ${by} for step ${pending.stepIndex + 1} (${pending.stepText})` };
  };

  const applyReject = (input: unknown, via: 'update' | 'signal'): MessageAccepted => {
    const { by, reason, ...sent } = RejectInputSchema.parse(input);
    const pending = s.pendingApproval!;
    const from = decisionSender(sent);
    state.decision = { decision: 'rejected', by, via, ...from, ...(reason ? { comment: reason } : {}) };
    const rec: ApprovalRecord = { at: nowIso(), stepIndex: pending.stepIndex, decision: 'rejected', by, via, ...from, ...(reason ? { comment: reason } : {}) };
    s.approvals.push(rec);
    record(state, 'rejected', `rejected by ${by} (${describeSender(from)})${reason ? `: ${reason}` : ''}`, pending.stepIndex);
    hooks.publish();
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
      recordRefusal(state, { message: 'approve', via: 'signal', by: byOf(input), reason: why });
      hooks.publish();
      await hooks.notify('refused', `Refused approve signal from ${byOf(input)}: ${why}`);
    },
    { description: 'Approve (signal form, for UI buttons and bots); refusals are recorded in status.' },
  );
  setHandler(
    messages.rejectSignal,
    async (input) => {
      const why = rejectRefusal(messageContext(state), input, signalRules(input));
      if (!why) return void applyReject(input, 'signal');
      recordRefusal(state, { message: 'reject', via: 'signal', by: byOf(input), reason: why });
      hooks.publish();
      await hooks.notify('refused', `Refused reject signal from ${byOf(input)}: ${why}`);
    },
    { description: 'Reject (signal form); refusals are recorded in status.' },
  );

  setHandler(
    messages.abort,
    (input) => {
      const { by, reason } = AbortInputSchema.parse(input);
      const why = `aborted by ${by}${reason ? `: ${reason}` : ''}`;
      requestStop(state, 'aborted', why);
      record(state, 'abort', why, s.stepIndex);
      hooks.cancelSteps();
      hooks.publish();
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
      s.paused = { reason: text, by, at: nowIso() };
      record(state, 'paused', `paused by ${by}: ${text}`, s.stepIndex);
      hooks.publish(); // people are told when the rollout reaches its checkpoint and holds
      return { accepted: true, message: `paused at ${s.stage} (${s.stepText}); it holds before the next analysis or traffic change` };
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
      const { by, comment } = ResumeInputSchema.parse(input);
      const was = s.paused!;
      s.paused = null;
      record(state, 'resumed', `resumed by ${by} (was paused: ${was.reason})${comment ? `: ${comment}` : ''}`, s.stepIndex);
      hooks.publish();
      await hooks.notify('resumed', `Resumed by ${by} at ${s.stepText}`);
      return { accepted: true, message: `resumed at ${s.stage} (${s.stepText})` };
    },
    {
      validator: (input) => {
        const why = resumeRefusal(messageContext(state), input);
        if (why) throw refused(why);
      },
      description: 'Continue a paused rollout.',
    },
  );

  setHandler(messages.status, () => s, { description: 'Where the rollout is.' });
}
