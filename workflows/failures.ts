/**
 * Reading the failures activities and Temporal hand the workflow: the error type (domain/errors.ts) at
 * any depth of the cause chain, a one-line description, and the drifted traffic a TrafficDrift carries.
 * Not exported from workflows/index.ts (only workflow functions are).
 */
import { ActivityFailure, ApplicationFailure, type TemporalFailure } from '@temporalio/workflow';
import { ErrorType } from '../domain/errors.js';
import type { PreflightRefusal } from '../domain/preflight.js';
import type { TrafficState } from '../domain/traffic.js';

/** The first `type` of an ApplicationFailure in the cause chain, or null. */
export function failureType(err: unknown): string | null {
  let e: unknown = err;
  for (let i = 0; i < 5 && e; i++) {
    if (e instanceof ApplicationFailure && e.type) return e.type;
    e = (e as { cause?: unknown }).cause;
  }
  return null;
}

/** `activity setEndpointTraffic failed: InvalidTraffic: endpoint is locked` */
export function describeFailure(err: unknown): string {
  if (err instanceof ActivityFailure) {
    const cause = err.cause;
    return `activity ${err.activityType} failed: ${cause instanceof ApplicationFailure && cause.type ? `${cause.type}: ` : ''}${cause?.message ?? err.message}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** An ApplicationFailure that keeps the original failure as its cause (never flattened into a string). */
export function wrapFailure(err: TemporalFailure, what: string): ApplicationFailure {
  return ApplicationFailure.create({ type: failureType(err) ?? ErrorType.RolloutFailed, message: `${what}: ${describeFailure(err)}`, nonRetryable: true, cause: err });
}

/** A preflight refusal as the failure the execution ends with. */
export function refusalFailure(r: PreflightRefusal): ApplicationFailure {
  return ApplicationFailure.create({ type: r.type, message: r.message, nonRetryable: true, ...(r.details !== undefined ? { details: [r.details] } : {}) });
}

/** The traffic the endpoint really has, when `err` is the activity's TrafficDrift failure (details: `{ expected, actual }`). */
export function driftedTraffic(err: unknown): TrafficState | null {
  if (!(err instanceof ActivityFailure) || failureType(err) !== ErrorType.TrafficDrift) return null;
  const details = err.cause instanceof ApplicationFailure ? (err.cause.details?.[0] as { actual?: TrafficState } | undefined) : undefined;
  return details?.actual ?? null;
}
