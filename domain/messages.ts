/**
 * The rules for the messages people send a running rollout (approve, reject, abort, pause, resume):
 * their inputs (zod, parsed by the update validators and signal handlers) and, for each, whether it can
 * apply right now. A refusal is a sentence that names why ("no approval is awaited: the rollout is in
 * canary 10%"), returned to the caller of an update or recorded and notified for a signal.
 *
 * Invariant 6: an approval is accepted only while one is awaited, only from an allowed approver, and
 * (with four-eyes on) not from the person who started the rollout.
 */
import { z } from 'zod';

/** The stages a rollout goes through, in order; `rollback` and `done` end it. Also the GlidepathStage search attribute. */
export type Stage = 'preflight' | 'deploy' | 'mirror' | 'cost-check' | 'approval' | 'canary' | 'promote' | 'retire' | 'rollback' | 'done';

const who = z
  .string({ error: 'must name who sends this (e-mail or slack:<user id>)' })
  .trim()
  .min(1, { error: 'must name who sends this (e-mail or slack:<user id>)' })
  .max(200, { error: 'must be at most 200 characters' });
const text = (max: number) => z.string().trim().max(max, { error: `must be at most ${max} characters` });

/** Input of the `approve` update and signal. */
export const ApproveInputSchema = z.strictObject({ by: who, comment: text(500).optional() });
/** Input of the `reject` update and signal. */
export const RejectInputSchema = z.strictObject({ by: who, reason: text(500).optional() });
/** Input of the `abort` update. */
export const AbortInputSchema = z.strictObject({ by: who, reason: text(500).optional() });
/** Input of the `pause` update. */
export const PauseInputSchema = z.strictObject({ by: who, reason: text(500).optional() });
/** Input of the `resume` update. */
export const ResumeInputSchema = z.strictObject({ by: who, comment: text(500).optional() });

export type ApproveInput = z.input<typeof ApproveInputSchema>;
export type RejectInput = z.input<typeof RejectInputSchema>;
export type AbortInput = z.input<typeof AbortInputSchema>;
export type PauseInput = z.input<typeof PauseInputSchema>;
export type ResumeInput = z.input<typeof ResumeInputSchema>;

/** What the message rules need to know about a running rollout. */
export interface MessageContext {
  stage: Stage;
  /** Human text of the current step, e.g. `canary 10%`. */
  stepText: string;
  /** Set while a rollback or the end is underway (abort, reject, gate failure, deadline …). */
  stopping: string | null;
  paused: { reason: string; by: string } | null;
  pendingApproval: { stepIndex: number; stepText: string } | null;
  startedBy: string;
  approvers: readonly string[];
  fourEyes: boolean;
}

const same = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

function ended(ctx: MessageContext): string | undefined {
  if (ctx.stage === 'done') return 'the rollout has finished';
  if (ctx.stage === 'rollback' || ctx.stopping) return `the rollout is already stopping (${ctx.stopping ?? 'rolling back'})`;
  return undefined;
}

function parseError(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

/** Why `approve` cannot apply now, or undefined when it can. */
export function approveRefusal(ctx: MessageContext, input: unknown): string | undefined {
  const r = ApproveInputSchema.safeParse(input);
  if (!r.success) return `invalid approve input: ${parseError(r.error)}`;
  const by = r.data.by;
  const end = ended(ctx);
  if (end) return `cannot approve: ${end}`;
  if (!ctx.pendingApproval) return `cannot approve: no approval is awaited (the rollout is at ${ctx.stage}: ${ctx.stepText})`;
  if (ctx.approvers.length > 0 && !ctx.approvers.some((a) => same(a, by))) {
    return `cannot approve: ${by} is not an allowed approver (allowed: ${ctx.approvers.join(', ')})`;
  }
  if (ctx.fourEyes && same(by, ctx.startedBy)) {
    return `cannot approve: ${by} started this rollout and four-eyes is on, so someone else must approve`;
  }
  return undefined;
}

/** Why `reject` cannot apply now, or undefined when it can. The starter may always reject their own rollout. */
export function rejectRefusal(ctx: MessageContext, input: unknown): string | undefined {
  const r = RejectInputSchema.safeParse(input);
  if (!r.success) return `invalid reject input: ${parseError(r.error)}`;
  const by = r.data.by;
  const end = ended(ctx);
  if (end) return `cannot reject: ${end}`;
  if (!ctx.pendingApproval) return `cannot reject: no approval is awaited (the rollout is at ${ctx.stage}: ${ctx.stepText}); use abort to stop it`;
  if (ctx.approvers.length > 0 && !ctx.approvers.some((a) => same(a, by)) && !same(by, ctx.startedBy)) {
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
  return undefined;
}
