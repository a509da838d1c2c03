/**
 * The approval contract, in one place: what a decision must say (the step it answers, the channel it
 * came through, the client that sent it), the rule that matches a person to the plan's approvers, the
 * Slack buttons' action ids and value format (written by activities/slack-notifier.ts, read by
 * client/slack/bridge.ts), and the aggregates an approval request carries to the notifier.
 *
 * Invariant 10: one decision per approval step, and a decision names the step it answers. A stale Slack
 * button or a CLI approve typed a moment late names an older step and is refused, instead of approving
 * whatever approval happens to be awaited now. Steps are 0-based here and in every record
 * (`stepIndex`); people see them 1-based ("step 3").
 */
import type { GateResult, VerdictStatus } from './gates.js';
import type { PendingApproval, RolloutStatus } from './rollout.js';
import type { TrafficState } from './traffic.js';

// ───────────────────────────── who decides ─────────────────────────────

/**
 * How a decision reached the rollout: `cli` (glidepath rollout approve|reject), `slack` (a button through
 * the bridge), or `temporal` (a raw update or signal, e.g. `temporal workflow update` or the Temporal UI,
 * which name no channel).
 */
export type DecisionChannel = 'cli' | 'slack' | 'temporal';
export const DECISION_CHANNELS = ['cli', 'slack', 'temporal'] as const satisfies readonly DecisionChannel[];

/**
 * The sender of a decision as the rollout records it. Both fields are put in the input by the sender
 * and are self-asserted: anyone who can send an update can claim any channel and identity. Issue 13
 * adds signatures from trusted signers (the CLI's and the bridge's keys); until then these are an
 * auditor's hint, not proof.
 */
export interface DecisionSender {
  channel: DecisionChannel;
  /** The Temporal client identity of the sender (e.g. `4711@ci-runner-3`), when it gave one. */
  clientIdentity?: string;
}

/** The sender recorded for a parsed decision input: no channel means a raw Temporal update or signal. */
export function decisionSender(input: { channel?: DecisionChannel | undefined; clientIdentity?: string | undefined }): DecisionSender {
  return { channel: input.channel ?? 'temporal', ...(input.clientIdentity ? { clientIdentity: input.clientIdentity } : {}) };
}

/** `slack, client 4711@bridge-1` — how records and messages show a sender. */
export function describeSender(sender: { channel?: DecisionChannel | undefined; clientIdentity?: string | undefined; via?: string }): string {
  const channel = sender.channel ?? sender.via ?? 'temporal';
  return sender.clientIdentity ? `${channel}, client ${sender.clientIdentity}` : channel;
}

/** Two identities name the same person: case and surrounding spaces do not matter (`Alice@Contoso.com` = `alice@contoso.com`). */
export function sameIdentity(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

/** True when `who` is one of the plan's approvers (by {@link sameIdentity}). */
export function isListedApprover(approvers: readonly string[], who: string): boolean {
  return approvers.some((a) => sameIdentity(a, who));
}

// ───────────────────────────── the step a decision answers ─────────────────────────────

/** `step 4 (canary 50%)`: a 0-based step as people see it. */
export function describeStep(stepIndex: number, stepText: string | undefined): string {
  return `step ${stepIndex + 1}${stepText ? ` (${stepText})` : ''}`;
}

/** The CLI command that decides the awaited approval (the step 1-based, as people type it). */
export function decisionCommand(verb: 'approve' | 'reject', pending: Pick<PendingApproval, 'stepIndex'>, rollout = '<rollout>'): string {
  return `glidepath rollout ${verb} ${rollout} --step ${pending.stepIndex + 1} --as <who>`;
}

/**
 * Why a decision cannot apply to the awaited approval because of the step it names, or undefined when
 * it names the awaited step. `steps` are the texts of the plan's steps (to name the step the decision
 * was meant for).
 *
 *   stepRefusal('approve', { stepIndex: 3, stepText: 'canary 50%' }, 1, steps)
 *   → 'cannot approve step 2 (approval): the rollout awaits step 4 (canary 50%)'
 */
export function stepRefusal(
  verb: 'approve' | 'reject',
  pending: { stepIndex: number; stepText: string },
  stepIndex: number | undefined,
  steps: readonly string[] = [],
): string | undefined {
  const awaited = describeStep(pending.stepIndex, pending.stepText);
  if (stepIndex === undefined) {
    return (
      `cannot ${verb}: the decision names no step, and a decision must name the step it answers; ` +
      `the rollout awaits ${awaited}: send stepIndex ${pending.stepIndex} (${decisionCommand(verb, pending)})`
    );
  }
  if (stepIndex !== pending.stepIndex) return `cannot ${verb} ${describeStep(stepIndex, steps[stepIndex])}: the rollout awaits ${awaited}`;
  return undefined;
}

// ───────────────────────────── Slack ─────────────────────────────

/** Action id of the Approve button on an approval message. */
export const SLACK_APPROVE_ACTION_ID = 'glidepath_approve';
/** Action id of the Reject button on an approval message. */
export const SLACK_REJECT_ACTION_ID = 'glidepath_reject';

/** The decision a Slack action id stands for; undefined for any other action. */
export function slackActionDecision(actionId: unknown): 'approve' | 'reject' | undefined {
  return actionId === SLACK_APPROVE_ACTION_ID ? 'approve' : actionId === SLACK_REJECT_ACTION_ID ? 'reject' : undefined;
}

/** What an approval button decides: which rollout, and which step's approval. */
export interface SlackButtonValue {
  workflowId: string;
  stepIndex: number;
}

/** The value of an approval button: compact JSON `{"w":<workflow id>,"s":<step index>}` (Slack allows 2000 characters). */
export function slackButtonValue(workflowId: string, stepIndex: number): string {
  return JSON.stringify({ w: workflowId, s: stepIndex });
}

/** Parses a button value written by {@link slackButtonValue}; undefined when it is not one. */
export function parseSlackButtonValue(value: unknown): SlackButtonValue | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const v = JSON.parse(value) as { w?: unknown; s?: unknown } | null;
    if (v && typeof v.w === 'string' && v.w.length > 0 && Number.isInteger(v.s) && (v.s as number) >= 0) return { workflowId: v.w, stepIndex: v.s as number };
  } catch {
    // not ours
  }
  return undefined;
}

/**
 * Who a Slack user decides as: `slack:<user id>` when the plan lists that id, or when the plan names
 * nobody by e-mail (the workflow then judges `slack:<id>` against the list). When the plan names
 * approvers by e-mail and not this user's id, the decision is made as the user's e-mail, which the
 * bridge must look up (`needsEmail`).
 */
export function slackApprover(userId: string, approvers: readonly string[]): { by: string } | { needsEmail: true } {
  const slackId = `slack:${userId}`;
  if (isListedApprover(approvers, slackId) || !approvers.some((a) => a.includes('@'))) return { by: slackId };
  return { needsEmail: true };
}

// ───────────────────────────── the approval request ─────────────────────────────

/** The figures of one deployment the approval message shows. */
export interface NoticeFigures {
  requests: number;
  latencyP99Ms: number | null;
  errorRate: number | null;
  modelErrorRate: number | null;
}

/**
 * What the notifier needs to render an approval request: aggregates only (invariant 9), so the notify
 * activity gets it in its input instead of querying the workflow back.
 */
export interface ApprovalNotice {
  stepIndex: number;
  stepText: string;
  /** Plan approvers; empty means anyone. */
  approvers: string[];
  /** ISO time the timeout fires, or null when none is running. */
  timeoutAt: string | null;
  onTimeout: PendingApproval['onTimeout'];
  fourEyes: boolean;
  startedBy: string;
  traffic: TrafficState | null;
  /** The last analysis that had metrics, with its gate rows; null before any. */
  lastAnalysis: {
    at: string;
    stepIndex: number;
    analysis: number;
    status: VerdictStatus;
    gates: GateResult[];
    baseline: NoticeFigures | null;
    candidate: NoticeFigures | null;
  } | null;
}

function figures(m: { requests: number; latencyP99Ms: number | null; errorRate: number | null; modelErrorRate: number | null } | null): NoticeFigures | null {
  return m ? { requests: m.requests, latencyP99Ms: m.latencyP99Ms, errorRate: m.errorRate, modelErrorRate: m.modelErrorRate } : null;
}

/** The notice for the approval `status` awaits, or undefined when none is awaited. */
export function approvalNotice(status: RolloutStatus, plan: { approvals: { fourEyes: boolean } }): ApprovalNotice | undefined {
  const p = status.pendingApproval;
  if (!p) return undefined;
  const last = [...status.lastVerdicts].reverse().find((v) => v.snapshot !== null);
  return {
    stepIndex: p.stepIndex,
    stepText: p.stepText,
    approvers: [...p.approvers],
    timeoutAt: p.timeoutAt,
    onTimeout: p.onTimeout,
    fourEyes: plan.approvals.fourEyes,
    startedBy: status.startedBy,
    traffic: status.traffic,
    lastAnalysis: last
      ? {
          at: last.at,
          stepIndex: last.stepIndex,
          analysis: last.analysis,
          status: last.status,
          gates: last.gates.map((g) => ({ gate: g.gate, status: g.status, reason: g.reason })),
          baseline: figures(last.snapshot!.baseline),
          candidate: figures(last.snapshot!.candidate),
        }
      : null,
  };
}
