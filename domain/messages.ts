/**
 * The rules for the messages people send a running rollout (approve, reject, abort, pause, resume):
 * their inputs (zod, parsed by the update validators and signal handlers) and, for each, whether it can
 * apply right now. A refusal is a sentence that names why ("no approval is awaited: the rollout is in
 * canary 10%"), returned to the caller of an update or recorded and notified for a signal.
 *
 * Invariant 6: an approval is accepted only while one is awaited, only from an allowed approver, and
 * (with four-eyes on) not from the person who started the rollout. Invariant 10: a decision names the
 * step it answers (`stepIndex`, 0-based) and is refused for any other step (domain/approvals.ts).
 */
import { z } from 'zod';
import { DECISION_CHANNELS, isListedApprover, samePerson, stepRefusal, type DecisionChannel, type PeopleMap } from './approvals.js';
import { verifySignedDecision, type DecisionSignature, type VerificationContext } from './decision-signature.js';

/** The stages a rollout goes through, in order; `rollback` and `done` end it. Also the GlidepathStage search attribute. */
export type Stage = 'preflight' | 'deploy' | 'mirror' | 'cost-check' | 'approval' | 'canary' | 'promote' | 'retire' | 'rollback' | 'done';

const who = z
  .string({ error: 'must name who sends this (e-mail or slack:<user id>)' })
  .trim()
  .min(1, { error: 'must name who sends this (e-mail or slack:<user id>)' })
  .max(200, { error: 'must be at most 200 characters' });
const text = (max: number) => z.string().trim().max(max, { error: `must be at most ${max} characters` });

/**
 * What every decision (approve, reject) carries besides its author: the step it answers and who sent
 * it. `stepIndex` is optional in the schema only because histories recorded before it existed must
 * still parse in the handlers on replay; the refusal rules below refuse a decision without it.
 * `channel` and `clientIdentity` are self-asserted by the sender (see DecisionSender).
 */
const decision = {
  stepIndex: z.number({ error: 'must be the 0-based index of the step awaiting approval' }).int({ error: 'must be a whole number' }).min(0, { error: 'must be 0 or more' }).max(10_000, { error: 'must be at most 10000' }).optional(),
  channel: z.enum(DECISION_CHANNELS, { error: `must be one of ${DECISION_CHANNELS.join(', ')}` }).optional(),
  clientIdentity: z.string().trim().max(200, { error: 'must be at most 200 characters' }).optional(),
  /** A trusted signer's signature over this decision (domain/decision-signature.ts); required when the plan says `approvals.verified`. */
  signature: z
    .strictObject({
      signer: z.string().min(1).max(64),
      runId: z.string().min(1).max(100),
      time: z.string().min(1).max(40),
      nonce: z.string().min(8, { error: 'must be at least 8 characters' }).max(100),
      signature: z.string().min(1).max(200),
    })
    .optional(),
};

/** Input of the `approve` update and signal. */
export const ApproveInputSchema = z.strictObject({ by: who, comment: text(500).optional(), ...decision });
/** Input of the `reject` update and signal. */
export const RejectInputSchema = z.strictObject({ by: who, reason: text(500).optional(), ...decision });
/** Input of the `abort` update. */
export const AbortInputSchema = z.strictObject({ by: who, reason: text(500).optional() });
/** Input of the `pause` update. */
export const PauseInputSchema = z.strictObject({ by: who, reason: text(500).optional() });
/** Input of the `resume` update. Resuming a gate's pause is a decision, so it names its sender like one. */
export const ResumeInputSchema = z.strictObject({ by: who, comment: text(500).optional(), ...decision });

export type ApproveInput = z.input<typeof ApproveInputSchema>;
export type RejectInput = z.input<typeof RejectInputSchema>;
export type AbortInput = z.input<typeof AbortInputSchema>;
export type PauseInput = z.input<typeof PauseInputSchema>;
export type ResumeInput = z.input<typeof ResumeInputSchema>;

/**
 * Why a rollout holds. `manual`: a person paused it (anyone may resume). The others hold a gate a person
 * must accept before traffic may grow, so resuming them is a decision (an allowed approver, four-eyes):
 * `gate` (an analysis inconclusive at the end of a bake, or a cost check with no price), `drift` (traffic
 * changed outside Glidepath; resuming accepts the endpoint as it is), `approval-timeout` (the approval
 * timed out with `onTimeout: pause`; resuming approves the step).
 */
export type PauseKind = 'manual' | 'gate' | 'drift' | 'approval-timeout';

/** What the message rules need to know about a running rollout. */
export interface MessageContext {
  stage: Stage;
  /** Human text of the current step, e.g. `canary 10%`. */
  stepText: string;
  /** Set while a rollback or the end is underway (abort, reject, gate failure, deadline …). */
  stopping: string | null;
  paused: { reason: string; by: string; kind?: PauseKind } | null;
  pendingApproval: { stepIndex: number; stepText: string } | null;
  /** The step the rollout is at (0-based; -1 before the first): a signed resume names it. */
  stepIndex?: number;
  /**
   * A decision already recorded for the awaited approval that the workflow has not acted on yet (two
   * decisions can arrive in one workflow task, e.g. queued while a worker restarts): the first one stands.
   */
  decided?: { decision: 'approved' | 'rejected'; by: string } | null;
  /** The texts of the plan's steps, to name the step a stale decision was meant for. */
  steps?: readonly string[];
  startedBy: string;
  approvers: readonly string[];
  fourEyes: boolean;
  /** Who is who across channels (plan and worker, merged): approvers and four-eyes compare people. */
  people?: PeopleMap;
  /**
   * Signature checking: `required` when the plan says `approvals.verified` (and the rollout loaded its
   * trusted signers); the rest is where the check runs (see VerificationContext). Absent: not required,
   * and signatures are not checked.
   */
  verification?: { required: boolean } & Omit<VerificationContext, 'stepIndex'>;
}

/** How a decision's author was established: by a trusted signer's signature, or only asserted by the sender. */
export type Authorship = { verified: true; signer: string } | { verified: false };


function ended(ctx: MessageContext): string | undefined {
  if (ctx.stage === 'done') return 'the rollout has finished';
  if (ctx.stage === 'rollback' || ctx.stopping) return `the rollout is already stopping (${ctx.stopping ?? 'rolling back'})`;
  return undefined;
}

function parseError(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

/**
 * How strictly the step is checked. `stepRequired: false` only for decisions recorded before decisions
 * named their step (a signal replayed from an old history); a wrong step is refused either way.
 */
export interface DecisionRules {
  stepRequired: boolean;
}

/** One decision per step: `cannot approve: step 3 (approval) was already rejected by bob@contoso.com; one decision per step`. */
function alreadyDecided(verb: 'approve' | 'reject', ctx: MessageContext): string {
  const p = ctx.pendingApproval!;
  return `cannot ${verb}: step ${p.stepIndex + 1} (${p.stepText}) was already ${ctx.decided!.decision} by ${ctx.decided!.by}; one decision per step`;
}

/** Why `approve` cannot apply now, or undefined when it can. */
export function approveRefusal(ctx: MessageContext, input: unknown, rules: DecisionRules = { stepRequired: true }): string | undefined {
  const r = ApproveInputSchema.safeParse(input);
  if (!r.success) return `invalid approve input: ${parseError(r.error)}`;
  const by = r.data.by;
  const end = ended(ctx);
  if (end) return `cannot approve: ${end}`;
  if (!ctx.pendingApproval) return `cannot approve: no approval is awaited (the rollout is at ${ctx.stage}: ${ctx.stepText})`;
  const step = r.data.stepIndex === undefined && !rules.stepRequired ? undefined : stepRefusal('approve', ctx.pendingApproval, r.data.stepIndex, ctx.steps);
  if (step) return step;
  if (ctx.decided) return alreadyDecided('approve', ctx);
  const author = authorship(ctx, 'approve', r.data);
  if ('refusal' in author) return author.refusal;
  if (ctx.approvers.length > 0 && !isListedApprover(ctx.approvers, by, ctx.people)) {
    return `cannot approve: ${by} is not an allowed approver (allowed: ${ctx.approvers.join(', ')})`;
  }
  if (ctx.fourEyes && samePerson(by, ctx.startedBy, ctx.people)) {
    const as = by.trim().toLowerCase() === ctx.startedBy.trim().toLowerCase() ? '' : ` (as ${ctx.startedBy})`;
    return `cannot approve: ${by} started this rollout${as} and four-eyes is on, so someone else must approve`;
  }
  return undefined;
}

/**
 * Whether a decision's author is established, or why it cannot count: a signature is checked whenever
 * the rollout has its trusted signers (a bad one is then refused even where the plan does not require
 * one, so no false claim is recorded as verified); an unsigned decision is refused where the plan
 * requires verification. Without trusted signers and not required, a signature is not checked and the
 * decision is recorded as unverified.
 */
export function authorship(
  ctx: MessageContext,
  verb: 'approve' | 'reject' | 'resume',
  input: { by: string; stepIndex?: number | undefined; channel?: DecisionChannel | undefined; signature?: DecisionSignature | undefined },
): Authorship | { refusal: string } {
  const v = ctx.verification;
  if (!input.signature) {
    if (!v?.required) return { verified: false };
    return {
      refusal:
        `cannot ${verb}: this rollout counts only signed decisions (approvals.verified) and this one is unsigned — a typed name is not proof of who decided; ` +
        (verb === 'resume' ? 'resume with glidepath rollout resume and GLIDEPATH_APPROVALS_URL set to your approvals endpoint' : `decide in Slack, or with glidepath rollout ${verb} and GLIDEPATH_APPROVALS_URL set to your approvals endpoint`),
    };
  }
  // The step a signed statement must name: the awaited approval's, or (resume) the step the rollout holds at.
  const step = verb === 'resume' ? ctx.stepIndex : ctx.pendingApproval?.stepIndex;
  if (!v || step === undefined || input.stepIndex === undefined) return v?.required ? { refusal: `cannot ${verb}: the signature cannot be checked here` } : { verified: false };
  const verdict = verifySignedDecision(
    { decision: verb, person: input.by, stepIndex: input.stepIndex, channel: input.channel ?? 'temporal' },
    input.signature,
    { ...v, stepIndex: step },
  );
  return verdict.ok ? { verified: true, signer: verdict.signer } : { refusal: `cannot ${verb}: ${verdict.reason}` };
}

/** Why `reject` cannot apply now, or undefined when it can. The starter may always reject their own rollout. */
export function rejectRefusal(ctx: MessageContext, input: unknown, rules: DecisionRules = { stepRequired: true }): string | undefined {
  const r = RejectInputSchema.safeParse(input);
  if (!r.success) return `invalid reject input: ${parseError(r.error)}`;
  const by = r.data.by;
  const end = ended(ctx);
  if (end) return `cannot reject: ${end}`;
  if (!ctx.pendingApproval) return `cannot reject: no approval is awaited (the rollout is at ${ctx.stage}: ${ctx.stepText}); use abort to stop it`;
  const step = r.data.stepIndex === undefined && !rules.stepRequired ? undefined : stepRefusal('reject', ctx.pendingApproval, r.data.stepIndex, ctx.steps);
  if (step) return step;
  if (ctx.decided) return alreadyDecided('reject', ctx);
  const author = authorship(ctx, 'reject', r.data);
  if ('refusal' in author) return author.refusal;
  if (ctx.approvers.length > 0 && !isListedApprover(ctx.approvers, by, ctx.people) && !samePerson(by, ctx.startedBy, ctx.people)) {
    return `cannot reject: ${by} is not an allowed approver (allowed: ${ctx.approvers.join(', ')})`;
  }
  return undefined;
}

/** Why `abort` cannot apply now, or undefined when it can. */
export function abortRefusal(ctx: MessageContext, input: unknown): string | undefined {
  const r = AbortInputSchema.safeParse(input);
  if (!r.success) return `invalid abort input: ${parseError(r.error)}`;
  const end = ended(ctx);
  if (end) return `cannot abort: ${end}`;
  if (ctx.stage === 'retire') return 'cannot abort: the candidate has held 100% for the rollback window and the baseline is being retired';
  return undefined;
}

/** Why `pause` cannot apply now, or undefined when it can. */
export function pauseRefusal(ctx: MessageContext, input: unknown): string | undefined {
  const r = PauseInputSchema.safeParse(input);
  if (!r.success) return `invalid pause input: ${parseError(r.error)}`;
  const end = ended(ctx);
  if (end) return `cannot pause: ${end}`;
  if (ctx.paused) return `cannot pause: already paused by ${ctx.paused.by} (${ctx.paused.reason})`;
  if (ctx.stage === 'retire') return 'cannot pause: the baseline is being retired';
  return undefined;
}

/** Why `resume` cannot apply now, or undefined when it can. */
export function resumeRefusal(ctx: MessageContext, input: unknown): string | undefined {
  const r = ResumeInputSchema.safeParse(input);
  if (!r.success) return `invalid resume input: ${parseError(r.error)}`;
  const end = ended(ctx);
  if (end) return `cannot resume: ${end}`;
  if (!ctx.paused) return `cannot resume: the rollout is not paused (it is at ${ctx.stage}: ${ctx.stepText})`;
  const kind = ctx.paused.kind ?? 'manual';
  if (kind === 'manual') return undefined;
  // Resuming accepts a gate: the same people who may approve, under the same four-eyes rule, signed where
  // the plan counts only signed decisions.
  const what = RESUME_ACCEPTS[kind];
  const by = r.data.by;
  const author = authorship(ctx, 'resume', r.data);
  if ('refusal' in author) return `${author.refusal.replace(/^cannot resume: /, `cannot resume: resuming accepts ${what}, a decision; `)}`;
  if (ctx.approvers.length > 0 && !isListedApprover(ctx.approvers, by, ctx.people)) {
    return `cannot resume: resuming accepts ${what}, a decision for an approver; ${by} is not an allowed approver (allowed: ${ctx.approvers.join(', ')})`;
  }
  if (ctx.fourEyes && samePerson(by, ctx.startedBy, ctx.people)) {
    return `cannot resume: resuming accepts ${what}, and ${by} started this rollout (four-eyes is on), so someone else must`;
  }
  return undefined;
}

/** What resuming a pause of each kind accepts, for refusals and the decision record. */
export const RESUME_ACCEPTS: Record<Exclude<PauseKind, 'manual'>, string> = {
  gate: 'a step its analysis could not pass',
  drift: 'traffic changed outside Glidepath',
  'approval-timeout': 'the approval that timed out (it approves the step)',
};
