/**
 * The shapes a rollout shows the world: the workflow's input and result, the `status` query, and the
 * records in its timeline. All plain JSON (ISO strings, no Dates or Maps), so they survive the history,
 * the CLI's `--json` and the exported report unchanged.
 */
import type { BakeProgress } from './analysis.js';
import type { DecisionChannel } from './approvals.js';
import type { DecisionTrust } from './decision-signature.js';
import type { GateResult, MetricsSnapshot, VerdictStatus } from './gates.js';
import type { StepJudgement } from './judge/judge.js';
import type { PauseKind, Stage } from './messages.js';
import type { PlanDocument, RolloutPlan } from './plan.js';
import type { TrafficState } from './traffic.js';

/**
 * The input of the `safeRollout` workflow: the plan as written (for auditors and the report) and the
 * plan as parsed when the rollout started (`normalized`, defaults applied), which the workflow works
 * from, so that changing a default in plan.ts cannot change how a running rollout replays. Inputs
 * without `normalized` (clients from before it existed) are parsed by the workflow.
 */
export interface SafeRolloutInput {
  plan: PlanDocument;
  normalized?: RolloutPlan;
  /** Present in a run that continues a rollout (continue-as-new): its state and where it was. */
  continued?: ContinuedRollout;
  /** Who started the rollout (e-mail or slack:<id>); four-eyes refuses their approval. */
  startedBy: string;
}

/**
 * Where a rollout stands, so that a new run (continue-as-new) carries on from there: the step, and how
 * far into it. `start` runs the step again from its beginning (every step's first effect is idempotent:
 * a traffic write that is already applied writes nothing); `traffic` is a canary step whose approval was
 * given; `bake` is a bake with its progress (the judge's evidence for the step included) and what is left of the wait before the next analysis;
 * `approval` an approval already requested (the status holds it); `window` the promote step's rollback
 * window, until the epoch ms given.
 */
export type ResumePoint =
  | { stepIndex: number; phase: 'start' }
  | { stepIndex: number; phase: 'traffic' }
  | { stepIndex: number; phase: 'bake'; progress: BakeProgress; waitMs: number }
  | { stepIndex: number; phase: 'approval' }
  | { stepIndex: number; phase: 'window'; until: number };

/** What a run hands the next one when its history grows long: the state (plain JSON) and the position. */
export interface ContinuedRollout {
  status: RolloutStatus;
  decision: { decision: 'approved' | 'rejected'; by: string; comment?: string; via: ApprovalRecord['via']; channel?: string; clientIdentity?: string; verified?: boolean; signer?: string } | null;
  stop: { outcome: RolloutOutcome; reason: string } | null;
  expectedTraffic: TrafficState | null;
  undo: { baseline: string | null; candidateCreated: boolean; changedTraffic: boolean };
  verdicts: VerdictRecord[];
  at: ResumePoint;
  /** Epoch ms when the deadline fires, or null once promoted (disarmed). */
  deadlineAt: number | null;
  /** How many runs this rollout has had before this one. */
  runs: number;
  /** The worker's trusted signers and person mapping, loaded by the first run (public keys: not secrets). */
  trust?: DecisionTrust | null;
}

/** How a rollout ended. */
export type RolloutOutcome = 'promoted' | 'rolled_back' | 'rejected' | 'aborted' | 'failed';

/** One entry of the timeline: what happened, when (workflow time), and at which step. */
export interface TimelineEvent {
  at: string;
  kind:
    | 'started'
    | 'preflight'
    | 'deployed'
    | 'step'
    | 'traffic'
    | 'verdict'
    | 'cost'
    | 'approval_requested'
    | 'approved'
    | 'rejected'
    | 'approval_timed_out'
    | 'refused'
    | 'paused'
    | 'resumed'
    | 'drift'
    | 'abort'
    | 'deadline'
    | 'rollback'
    | 'promoted'
    | 'retired'
    | 'notify_failed'
    | 'finished';
  text: string;
  stepIndex?: number;
}

/** One analysis: the verdict, its reasons and the numbers it judged. */
export interface VerdictRecord {
  at: string;
  stepIndex: number;
  analysis: number;
  status: VerdictStatus;
  reasons: string[];
  gates: GateResult[];
  snapshot: MetricsSnapshot | null;
  /** The judge's evidence per gate after this analysis (see Verdict.judgement); absent for fixed-threshold plans. */
  judgement?: StepJudgement;
}

/** A decision on an approval. */
export interface ApprovalRecord {
  at: string;
  stepIndex: number;
  /** `resumed`: a person accepted a gate by resuming its pause (see PauseKind in messages.ts). */
  decision: 'approved' | 'rejected' | 'timed_out_proceed' | 'resumed';
  by: string;
  comment?: string;
  /** The transport: an update, a signal, or the timeout deciding. */
  via: 'update' | 'signal' | 'timeout';
  /**
   * The channel a person decided through (cli, slack, or temporal for a raw update/signal); absent when
   * the timeout decided. Self-asserted by the sender, like `clientIdentity` (see domain/approvals.ts).
   */
  channel?: DecisionChannel;
  /** The Temporal client identity of the sender, when it gave one. */
  clientIdentity?: string;
  /** True when a trusted signer's signature checked (`signer` names it); false when unsigned. Absent in records from before signed decisions. */
  verified?: boolean;
  signer?: string;
  /** The signed decision's nonce (not secret): a nonce counts once. */
  nonce?: string;
}

/** A message the rollout refused, and why. */
export interface RefusalRecord {
  at: string;
  message: 'approve' | 'reject' | 'abort' | 'pause' | 'resume';
  via: 'update' | 'signal';
  by: string;
  reason: string;
}

/** The approval a rollout is waiting for. */
export interface PendingApproval {
  stepIndex: number;
  stepText: string;
  requestedAt: string;
  /** When the timeout fires (ISO), or null while paused after a timeout with `onTimeout: pause`. */
  timeoutAt: string | null;
  onTimeout: 'rollback' | 'pause' | 'proceed';
  approvers: string[];
}

/** The `status` query: everything a person or the CLI needs to see where a rollout is. */
export interface RolloutStatus {
  workflowId: string;
  endpoint: string;
  candidate: string;
  baseline: string | null;
  startedBy: string;
  startedAt: string;
  stage: Stage;
  /** Index into `steps`, -1 before the first step. */
  stepIndex: number;
  stepText: string;
  steps: string[];
  /** The endpoint's traffic as last read or set by the rollout. */
  traffic: TrafficState | null;
  lastVerdicts: VerdictRecord[];
  pendingApproval: PendingApproval | null;
  approvals: ApprovalRecord[];
  /** Why the rollout holds; `kind` absent means `manual` (rollouts from before kinds existed). */
  paused: { reason: string; by: string; at: string; kind?: PauseKind } | null;
  stopping: string | null;
  /** The latest refused messages (the newest 20); `refusedCount` counts them all. */
  refusals: RefusalRecord[];
  refusedCount?: number;
  /** The timeline, bounded: the first 50 events and the newest ones; `eventsDropped` counts what was left out between. */
  events: TimelineEvent[];
  eventsDropped?: number;
  /** Runs of this rollout so far (it continues as a new run when its history grows long). */
  runs?: number;
  outcome: RolloutOutcome | null;
}

/** What rolling back did, read back from the endpoint. */
export interface RollbackReport {
  /** True when the endpoint was read back with the baseline at 100% live and no mirror. */
  confirmed: boolean;
  traffic: TrafficState | null;
  candidateDeleted: boolean;
  errors: string[];
}

/** The result of the `safeRollout` workflow. */
export interface SafeRolloutResult {
  outcome: RolloutOutcome;
  reason: string;
  workflowId: string;
  endpoint: string;
  baseline: string | null;
  candidate: string;
  startedBy: string;
  startedAt: string;
  finishedAt: string;
  /** Present when the rollout rolled back. */
  rollback: RollbackReport | null;
  /** The error type (domain/errors.ts) when the outcome is `failed`. */
  errorType: string | null;
  approvals: ApprovalRecord[];
  /** The newest 200 verdicts (a long bake keeps only these); `verdictsDropped` counts the older ones. */
  verdicts: VerdictRecord[];
  verdictsDropped?: number;
  timeline: TimelineEvent[];
}

/** The answer of an accepted update. */
export interface MessageAccepted {
  accepted: true;
  message: string;
}
