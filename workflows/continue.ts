/**
 * Bounded histories (DESIGN.md invariant 12): a rollout continues as a new run — same workflow id, its
 * state and position carried in the input — before its history grows past what Temporal suggests
 * (`continueAsNewSuggested`, set by the server from `limit.historyCount.suggestContinueAsNew`, 4 Ki events
 * by default; at most MAX_HISTORY_EVENTS here). It does so only where it waits: between analyses (even in
 * the middle of the wait), while an approval is awaited and while paused, so a rollout of any valid length
 * and any number of refused messages ends with its normal outcome.
 *
 * Not exported from workflows/index.ts (only workflow functions are).
 */
import { condition, workflowInfo } from '@temporalio/workflow';
import type { ResumePoint } from '../domain/rollout.js';

/** Our own bound, for servers whose suggestion comes late: well under Temporal's 51,200-event hard limit. */
export const MAX_HISTORY_EVENTS = 10_000;

/** True when this run should hand over to a new one. */
export function shouldContinueAsNew(): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || info.historyLength >= MAX_HISTORY_EVENTS;
}

/** Thrown out of the steps at a wait, to continue as a new run from `at`; never leaves the workflow. */
export class ContinueAsNewNow extends Error {
  constructor(readonly at: ResumePoint) {
    super(`continue as new at step ${at.stepIndex + 1} (${at.phase})`);
    this.name = 'ContinueAsNewNow';
  }
}

/**
 * Waits for `done` (up to `timeoutMs`, or without end when undefined) like `condition`, but hands over to a
 * new run when the history grows long: then it throws ContinueAsNewNow with the position `at` returns
 * (given the ms waited so far). Returns whether `done` became true (false: the timeout passed).
 */
export async function waitOrContinue(done: () => boolean, timeoutMs: number | undefined, at: (waitedMs: number) => ResumePoint, summary?: string): Promise<boolean> {
  // Always through `condition`, as the code before continue-as-new did: it numbers its timers, and a
  // replayed history must see the same timers in the same order.
  if (timeoutMs !== undefined && timeoutMs <= 0) return done(); // only a continued run waits 0
  const startedAt = Date.now();
  const until = () => done() || shouldContinueAsNew();
  const finished = timeoutMs === undefined ? (await condition(until), true) : await condition(until, timeoutMs, summary ? { summary } : {});
  if (done()) return true;
  if (finished && shouldContinueAsNew()) throw new ContinueAsNewNow(at(Date.now() - startedAt));
  return false;
}
