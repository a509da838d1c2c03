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
 * The sender of a decision as the rollout records it. `channel` and `clientIdentity` are put in the
 * input by the sender and are self-asserted. `verified` says whether a trusted signer vouched for the
 * decision (domain/decision-signature.ts): true with the `signer`'s name when its signature checked,
 * false when the decision was unsigned (or not checked) and its author is only what the sender typed.
 * Records from before signed decisions have no `verified`.
 */
export interface DecisionSender {
  channel: DecisionChannel;
  /** The Temporal client identity of the sender (e.g. `4711@ci-runner-3`), when it gave one. */
  clientIdentity?: string;
  verified?: boolean;
  /** The trusted signer whose signature checked (with `verified: true`). */
  signer?: string;
}

/** The sender recorded for a parsed decision input: no channel means a raw Temporal update or signal. */
export function decisionSender(
  input: { channel?: DecisionChannel | undefined; clientIdentity?: string | undefined },
  author?: { verified: true; signer: string } | { verified: false },
): DecisionSender {
  return {
    channel: input.channel ?? 'temporal',
    ...(input.clientIdentity ? { clientIdentity: input.clientIdentity } : {}),
    ...(author ? (author.verified ? { verified: true, signer: author.signer } : { verified: false }) : {}),
  };
}

/**
 * How records and messages show a sender: `slack, verified (signed by slack-bridge), client 4711@bridge-1`,
 * `cli, unverified (typed, not signed)`, or `cli, client 12@ci` for records from before signed decisions.
 */
export function describeSender(sender: { channel?: DecisionChannel | undefined; clientIdentity?: string | undefined; via?: string; verified?: boolean | undefined; signer?: string | undefined }): string {
  const channel = sender.channel ?? sender.via ?? 'temporal';
  const proof = sender.verified === true ? `, verified (signed by ${sender.signer ?? 'a trusted signer'})` : sender.verified === false ? ', unverified (typed, not signed)' : '';
  return `${channel}${proof}${sender.clientIdentity ? `, client ${sender.clientIdentity}` : ''}`;
}

/** Two identities name the same person: case and surrounding spaces do not matter (`Alice@Contoso.com` = `alice@contoso.com`). */
export function sameIdentity(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

/**
 * Who is who across channels: person (an e-mail) → the person's other identities (`github:alice`,
 * `slack:U024BE7LH`, `oidc:<subject>`, `ado:alice@contoso.com`). From the plan (`approvals.people`) and
 * the worker's `GLIDEPATH_PEOPLE`, merged.
 */
export type PeopleMap = Readonly<Record<string, readonly string[]>>;

/**
 * The person an identity stands for: the mapping's key when the identity is that key or one of its
 * aliases, else the identity itself; lower-cased and trimmed.
 *
 *   personOf('github:Alice', { 'alice@contoso.com': ['github:alice'] }) → 'alice@contoso.com'
 *   personOf('Bob@Contoso.com', {}) → 'bob@contoso.com'
 */
export function personOf(identity: string, people: PeopleMap = {}): string {
  const id = identity.trim().toLowerCase();
  for (const [person, aliases] of Object.entries(people)) {
    if (sameIdentity(person, id) || aliases.some((a) => sameIdentity(a, id))) return person.trim().toLowerCase();
  }
  return id;
}

/** Two identities are the same person (through the mapping, or spelled alike). */
export function samePerson(a: string, b: string, people: PeopleMap = {}): boolean {
  return personOf(a, people) === personOf(b, people);
}

/** Merges mappings (the plan's and the worker's): a person's aliases are the union. */
export function mergePeople(...maps: (PeopleMap | undefined)[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of maps) {
    for (const [person, aliases] of Object.entries(m ?? {})) {
      const key = person.trim().toLowerCase();
      out[key] = [...new Set([...(out[key] ?? []), ...aliases.map((a) => a.trim().toLowerCase())])];
    }
  }
  return out;
}

/**
 * Parses a person mapping given as JSON text (the worker's `GLIDEPATH_PEOPLE`): an object from e-mail
 * to a list of identities. Throws an Error naming what is wrong.
 */
export function parsePeople(text: string | undefined): Record<string, string[]> {
  if (!text || !text.trim()) return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error('must be JSON: {"alice@contoso.com": ["github:alice", "slack:U024BE7LH"]}');
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('must be a JSON object from e-mail to a list of identities');
  const out: Record<string, string[]> = {};
  for (const [person, aliases] of Object.entries(v as Record<string, unknown>)) {
    if (!/^[^\s@:]+@[^\s@]+\.[^\s@]+$/.test(person)) throw new Error(`${person}: must be an e-mail address (the person)`);
    if (!Array.isArray(aliases) || !aliases.every((a) => typeof a === 'string' && a.trim().length > 0 && a.length <= 200)) {
      throw new Error(`${person}: must map to a list of identities (strings)`);
    }
    out[person.trim().toLowerCase()] = (aliases as string[]).map((a) => a.trim().toLowerCase());
  }
  return out;
}

/** True when `who` is one of the plan's approvers: the same person as a listed identity ({@link samePerson}). */
export function isListedApprover(approvers: readonly string[], who: string, people: PeopleMap = {}): boolean {
  return approvers.some((a) => samePerson(a, who, people));
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
 * Who a Slack user decides as. A person is their profile e-mail: when Slack gives one (`users.info`, scope
 * users:read.email) the decision is made as that e-mail, so four-eyes and the approver list compare the
 * same person whatever channel they use (issue 13: a Slack user whose e-mail is the starter's used to
 * approve as `slack:<id>` and pass four-eyes). Without an e-mail, `slack:<user id>` only when the plan
 * lists that id or lists nobody; else the user cannot be named.
 *
 *   slackApprover('U0ALICE', 'alice@contoso.com', [])         → { by: 'alice@contoso.com' }
 *   slackApprover('U024BE7LH', null, ['slack:U024BE7LH'])       → { by: 'slack:U024BE7LH' }
 *   slackApprover('U0NOBODY', null, ['alice@contoso.com'])      → { unknown: true }
 */
export function slackApprover(userId: string, email: string | null, approvers: readonly string[]): { by: string } | { unknown: true } {
  if (email) return { by: email.trim().toLowerCase() };
  const slackId = `slack:${userId}`;
  if (approvers.length === 0 || isListedApprover(approvers, slackId)) return { by: slackId };
  return { unknown: true };
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
    /** The prediction gates' line (plans with gates.predictions): `disagreement 0.4% (3/812 pairs) < 2% · …`. */
    predictions?: string;
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
          ...(last.predictions ? { predictions: last.predictions.reason.replace(/^predictions: /, '') } : {}),
        }
      : null,
  };
}
