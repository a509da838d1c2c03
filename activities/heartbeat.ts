/**
 * Heartbeats for the Azure activities. An activity heartbeats at every poll of a long-running operation
 * (with details the Temporal UI shows); `keepAlive` also heartbeats on a timer while the activity waits on
 * anything else — a slow answer, the pipeline sitting out a `Retry-After`, the ARM budget — so the
 * workflow can give every Azure activity a short heartbeat timeout and a worker that dies mid-call is
 * noticed within it, instead of at the end of the start-to-close timeout.
 */
import { Context } from '@temporalio/activity';

const lastDetails = new WeakMap<Context, unknown>();

/** The running activity's context, or undefined outside an activity (plain unit use). */
export function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Heartbeats with `details`, remembered so the keep-alive timer repeats them rather than blanking them. */
export function heartbeat(details: unknown): void {
  const ctx = currentContext();
  if (!ctx) return;
  lastDetails.set(ctx, details);
  ctx.heartbeat(details);
}

/** Interval of the keep-alive heartbeat: well inside the workflow's 30 s heartbeat timeout. */
export const KEEP_ALIVE_MS = 5_000;

/** Wraps an activity so it heartbeats every `everyMs` while it runs, repeating its last details. */
export function keepAlive<A extends unknown[], R>(fn: (...args: A) => Promise<R>, everyMs = KEEP_ALIVE_MS): (...args: A) => Promise<R> {
  return async (...args: A): Promise<R> => {
    const ctx = currentContext();
    if (!ctx) return fn(...args);
    const timer = setInterval(() => ctx.heartbeat(lastDetails.get(ctx)), everyMs);
    try {
      return await fn(...args);
    } finally {
      clearInterval(timer);
    }
  };
}

/** `keepAlive` applied to every function of an activities object. */
export function keepingAlive<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T, everyMs = KEEP_ALIVE_MS): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) wrapped[name] = keepAlive(fn as (...args: unknown[]) => Promise<unknown>, everyMs);
  return wrapped as T;
}
