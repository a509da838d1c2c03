/**
 * The safe-rollout workflow's state and its one owner. `RolloutState` keeps one plain-JSON record (what
 * the `status` query returns, plus a few internal fields) and its methods are the only writers of it:
 * the timeline, the verdicts, the stage, pauses, approvals, the stop reason, the undo data, and what the
 * Temporal UI shows (current details and search attributes). Everything else reads it through readonly
 * views, so the compiler refuses a write anywhere else, and ESLint refuses assignments through it
 * outside this file (test/lint/rollout-state-owner.test.ts).
 *
 * Not exported from workflows/index.ts (only workflow functions are).
 */
import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { describeSender, type DecisionSender } from '../domain/approvals.js';
import type { DecisionTrust } from '../domain/decision-signature.js';
import { formatVerdict } from '../domain/gates.js';
import type { PauseKind, Stage } from '../domain/messages.js';
import type { RolloutPlan } from '../domain/plan.js';
import type {
  ApprovalRecord,
  ContinuedRollout,
  PendingApproval,
  ResumePoint,
  RefusalRecord,
  RolloutOutcome,
  RolloutStatus,
  TimelineEvent,
  VerdictRecord,
} from '../domain/rollout.js';
import { formatTraffic, normalizeTraffic, type TrafficState } from '../domain/traffic.js';
import { countRolloutFinished, countVerdict } from './metrics.js';
import { GlidepathOutcome, GlidepathStage } from './search-attributes.js';

/** A decision on the awaited approval, set by approve/reject (or by a timeout that proceeds). */
export type Decision = {
  decision: 'approved' | 'rejected';
  by: string;
  comment?: string;
  via: ApprovalRecord['via'];
} & DecisionSender;

/** Undo data: what rollback must restore or remove. */
export interface UndoData {
  baseline: string | null;
  candidateCreated: boolean;
  changedTraffic: boolean;
}

/** Everything the workflow keeps. Plain JSON: records and arrays, ISO strings, no Dates or Maps. */
export interface RolloutData {
  status: RolloutStatus;
  plan: RolloutPlan;
  decision: Decision | null;
  /** Why the rollout is stopping, set once (abort, deadline, rejection, gate failure …). */
  stop: { outcome: RolloutOutcome; reason: string } | null;
  /** The traffic the rollout last read or set: drift is any difference from this before a change. */
  expectedTraffic: TrafficState | null;
  undo: UndoData;
  /** All verdicts, for the result (status keeps only the last few). */
  verdicts: VerdictRecord[];
  /** The worker's trusted signers and person mapping, loaded at start when the plan requires signed decisions (issue 13). */
  trust?: DecisionTrust | null;
}

/** Bounds that keep the state (carried to the next run) and the result small however long a rollout runs. */
const MAX_EVENTS = 500;
const KEPT_FIRST_EVENTS = 50;
const MAX_VERDICTS = 200;
const MAX_REFUSALS = 20;

type DeepReadonly<T> = T extends (infer U)[] ? readonly DeepReadonly<U>[] : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

/** Workflow time as ISO text (deterministic inside the workflow sandbox). */
export function nowIso(): string {
  return new Date(Date.now()).toISOString();
}

/** The rollout's state and the only way to change it. */
export class RolloutState {
  private readonly d: RolloutData;

  /** Where the rollout stands, for a new run to carry on from (continue.ts). */
  private at: ResumePoint = { stepIndex: 0, phase: 'start' };
  private verdictsDropped = 0;

  constructor(args: { plan: RolloutPlan; workflowId: string; startedBy: string; steps: string[]; continued?: ContinuedRollout }) {
    const { plan, continued } = args;
    if (continued) {
      const { at, deadlineAt: _deadlineAt, runs, ...data } = continued;
      this.d = { ...data, plan, decision: data.decision as Decision | null };
      this.d.status.runs = runs + 1;
      this.at = at;
      return;
    }
    this.d = {
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
        steps: args.steps,
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

  // ───────────── readers ─────────────

  get plan(): DeepReadonly<RolloutPlan> {
    return this.d.plan;
  }
  get status(): DeepReadonly<RolloutStatus> {
    return this.d.status;
  }
  /** The live status object for the `status` query (Temporal serialises it; nobody else may hold it). */
  statusForQuery(): RolloutStatus {
    return this.d.status;
  }
  get decision(): DeepReadonly<Decision> | null {
    return this.d.decision;
  }
  get stop(): DeepReadonly<RolloutData['stop']> {
    return this.d.stop;
  }
  get expectedTraffic(): TrafficState | null {
    return this.d.expectedTraffic ? normalizeTraffic(this.d.expectedTraffic) : null;
  }
  get undo(): DeepReadonly<UndoData> {
    return this.d.undo;
  }
  get verdicts(): VerdictRecord[] {
    return this.d.verdicts;
  }
  get trust(): DeepReadonly<DecisionTrust> | null {
    return this.d.trust ?? null;
  }

  /** Keeps the worker's trust for signed decisions (public keys and the person mapping). */
  trustDecisions(trust: DecisionTrust): void {
    this.d.trust = trust;
  }
  /** True when the rollout created the candidate or changed traffic: a stop must roll back. */
  touchedEndpoint(): boolean {
    return this.d.undo.candidateCreated || this.d.undo.changedTraffic;
  }

  // ───────────── timeline and verdicts ─────────────

  /** Appends a timeline event; the timeline keeps its first 50 events and the newest, MAX_EVENTS in all. */
  record(kind: TimelineEvent['kind'], text: string, stepIndex?: number): void {
    const events = this.d.status.events;
    events.push({ at: nowIso(), kind, text, ...(stepIndex !== undefined && stepIndex >= 0 ? { stepIndex } : {}) });
    if (events.length > MAX_EVENTS) {
      events.splice(KEPT_FIRST_EVENTS, events.length - MAX_EVENTS);
      this.d.status.eventsDropped = (this.d.status.eventsDropped ?? 0) + 1;
    }
  }

  /** Keeps the last verdicts in the status and all of them for the result, and shows the latest. */
  recordVerdict(v: VerdictRecord, timelineKind: 'verdict' | 'cost', text: string): void {
    this.d.verdicts.push(v);
    if (this.d.verdicts.length > MAX_VERDICTS) {
      this.d.verdicts.shift();
      this.verdictsDropped += 1;
    }
    countVerdict(v.status, timelineKind === 'cost' ? 'cost' : 'analysis');
    this.d.status.lastVerdicts = [...this.d.status.lastVerdicts, v].slice(-5);
    this.record(timelineKind, text, v.stepIndex);
    this.publish();
  }

  /**
   * Records a refused message (signals cannot answer, so the refusal is kept in the status): counted, the
   * newest 20 kept, and only the first 20 in the timeline. Returns true while people should still be told
   * (the first 20), so a flood of refused signals cannot turn into a flood of notifications.
   */
  recordRefusal(r: Omit<RefusalRecord, 'at'>): boolean {
    const s = this.d.status;
    s.refusedCount = (s.refusedCount ?? s.refusals.length) + 1;
    s.refusals.push({ at: nowIso(), ...r });
    if (s.refusals.length > MAX_REFUSALS) s.refusals.shift();
    const first = s.refusedCount <= MAX_REFUSALS;
    if (first) this.record('refused', `refused ${r.message} ${r.via} from ${r.by}: ${r.reason}`, s.stepIndex);
    this.publish();
    return first;
  }

  // ───────────── continue-as-new ─────────────

  /** Where the rollout stands now, for a new run (continue.ts). */
  setPosition(at: ResumePoint): void {
    this.at = at;
  }
  /** Where a continued run starts (the position its predecessor handed over), or step 1 from the start. */
  get position(): ResumePoint {
    return this.at;
  }
  /** Verdicts older than the newest MAX_VERDICTS, counted. */
  get droppedVerdicts(): number {
    return this.verdictsDropped;
  }

  /** The state a new run needs to carry on from `at` (plain JSON; the plan travels as input.normalized). */
  continuation(at: ResumePoint, deadlineAt: number | null): ContinuedRollout {
    const { plan: _plan, ...data } = this.d;
    return { ...data, at, deadlineAt, runs: this.d.status.runs ?? 1 };
  }

  // ───────────── stage and outcome ─────────────

  /** Moves to a stage and step; updates the GlidepathStage search attribute and the UI. */
  setStage(stage: Stage, stepIndex: number, stepText: string): void {
    const s = this.d.status;
    s.stage = stage;
    s.stepIndex = stepIndex;
    s.stepText = stepText;
    upsertSearchAttributes([{ key: GlidepathStage, value: stage }]);
    this.publish();
  }

  /** Marks the rollout as stopping (the first reason wins). Returns true when this call set it. */
  requestStop(outcome: RolloutOutcome, reason: string): boolean {
    if (this.d.stop) return false;
    this.d.stop = { outcome, reason };
    this.d.status.stopping = reason;
    return true;
  }

  /** The end: outcome in the status and search attributes; nothing is pending or paused any more. Called once per rollout. */
  finish(outcome: RolloutOutcome): void {
    countRolloutFinished(outcome);
    const s = this.d.status;
    s.outcome = outcome;
    s.stage = 'done';
    s.pendingApproval = null;
    s.paused = null;
    upsertSearchAttributes([
      { key: GlidepathStage, value: 'done' },
      { key: GlidepathOutcome, value: outcome },
    ]);
    this.publish();
  }

  // ───────────── endpoint and undo data ─────────────

  /** Preflight found the baseline; the endpoint's traffic as read is what the rollout expects from now on. */
  foundBaseline(baseline: string, traffic: TrafficState): void {
    this.d.undo.baseline = baseline;
    this.d.status.baseline = baseline;
    this.expectTraffic(traffic);
  }

  /** Preflight resolved the plan's `azureml:<name>@latest` to this version (`azureml:<name>:<version>`). */
  resolvedModel(model: string): void {
    this.d.status.resolvedModel = model;
  }

  /** Counted before the create call: a half-finished create must be undone too (deletion is idempotent). */
  markCandidateCreated(): void {
    this.d.undo.candidateCreated = true;
  }

  /** Counted before the write is sent: once sent, its effect may have happened. */
  markTrafficChanging(): void {
    this.d.undo.changedTraffic = true;
  }

  /** The endpoint's traffic as just read (shown in the status; not yet what the rollout expects). */
  observedTraffic(traffic: TrafficState): void {
    this.d.status.traffic = normalizeTraffic(traffic);
  }

  /** The traffic the rollout set or accepted: drift is any difference from this before the next change. */
  expectTraffic(traffic: TrafficState): void {
    this.d.expectedTraffic = normalizeTraffic(traffic);
    this.d.status.traffic = normalizeTraffic(traffic);
    this.publish();
  }

  // ───────────── pauses ─────────────

  /** Pauses (by glidepath or a person); the workflow holds at its next checkpoint. */
  pause(reason: string, by: string, kind: PauseKind): void {
    this.d.status.paused = { reason, by, at: nowIso(), kind };
    this.publish();
  }

  /** Ends a pause; returns what it was. */
  resume(): RolloutStatus['paused'] {
    const was = this.d.status.paused;
    this.d.status.paused = null;
    this.publish();
    return was;
  }

  // ───────────── approvals ─────────────

  /** Starts waiting for a decision on `pending`; any earlier decision is forgotten. */
  awaitApproval(pending: PendingApproval): void {
    this.d.decision = null;
    this.d.status.pendingApproval = pending;
    this.publish();
  }

  /** A decision on the awaited approval: kept for the workflow body and recorded for auditors. */
  decide(decision: Decision, record: ApprovalRecord): void {
    this.d.decision = decision;
    this.d.status.approvals.push(record);
    this.publish();
  }

  /** A person accepted a gate by resuming its pause: recorded with the approvals, as the decision it is. */
  recordResumeDecision(record: ApprovalRecord): void {
    this.d.status.approvals.push(record);
  }

  /** Nobody decided in time and the plan says proceed: recorded as glidepath's decision, by the timeout. */
  recordTimedOutProceed(stepIndex: number): void {
    this.d.status.approvals.push({ at: nowIso(), stepIndex, decision: 'timed_out_proceed', by: 'glidepath', via: 'timeout' });
    this.publish();
  }

  /** The approval timed out with `onTimeout: pause`: still awaited, with no timeout now. */
  approvalTimedOutWaiting(pausedReason: string): void {
    const pending = this.d.status.pendingApproval;
    if (pending) this.d.status.pendingApproval = { ...pending, timeoutAt: null };
    this.pause(pausedReason, 'glidepath', 'approval-timeout');
  }

  /** The approval is no longer awaited (decided, timed out, or the rollout is stopping). */
  clearApproval(): void {
    this.d.status.pendingApproval = null;
    this.publish();
  }

  /** Rollback starts: no pause or approval can hold it. */
  clearForRollback(): void {
    this.d.status.paused = null;
    this.d.status.pendingApproval = null;
  }

  // ───────────── the UI ─────────────

  /** The UI's "current details": where the rollout is, in markdown. */
  publish(): void {
    const s = this.d.status;
    const last = s.lastVerdicts[s.lastVerdicts.length - 1];
    const lastDecision = s.approvals[s.approvals.length - 1];
    setCurrentDetails(
      [
        `**${s.stage}** — step ${s.stepIndex + 1}/${s.steps.length}: ${s.stepText}`,
        `**Traffic** ${s.traffic ? formatTraffic(s.traffic) : 'not read yet'}`,
        s.pendingApproval
          ? `**Waiting for approval** of ${s.pendingApproval.stepText} from ${s.pendingApproval.approvers.join(', ') || 'anyone'}` +
            (s.pendingApproval.timeoutAt ? ` until ${s.pendingApproval.timeoutAt} (then ${s.pendingApproval.onTimeout})` : '')
          : '',
        s.paused ? `**Paused** by ${s.paused.by}: ${s.paused.reason}` : '',
        lastDecision ? `**Last decision** ${lastDecision.decision} by ${lastDecision.by} for step ${lastDecision.stepIndex + 1} (${describeSender(lastDecision)})` : '',
        s.stopping ? `**Stopping**: ${s.stopping}` : '',
        last ? `**Last analysis** (${last.at}) ${formatVerdict(last)}` : '',
        s.outcome ? `**Outcome** ${s.outcome}` : '',
      ]
        .filter(Boolean)
        .join('\n\n'),
    );
  }
}
