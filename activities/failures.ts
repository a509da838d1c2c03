/**
 * Turning what Azure (and other remote parties) say into Glidepath's typed failures: an
 * `ApplicationFailure` whose `type` is one of domain/errors.ts, `nonRetryable` when a retry cannot
 * help, Azure's code and message kept as details, and the original error kept as `cause`.
 */
import { isRestError } from '@azure/core-rest-pipeline';
import { ApplicationFailure } from '@temporalio/activity';
import { ErrorType, NON_RETRYABLE_ERROR_TYPES } from '../domain/errors.js';
import { retryAfterMs } from './azure-clients.js';

/** What Azure said, as carried in a failure's details. */
export interface AzureErrorDetails {
  azureCode?: string;
  azureMessage?: string;
  statusCode?: number;
}

/** A typed failure; non-retryable exactly when the type is in NON_RETRYABLE_ERROR_TYPES unless told otherwise. */
export function failure(
  type: ErrorType,
  message: string,
  opts: { cause?: unknown; details?: unknown[]; nonRetryable?: boolean; nextRetryDelayMs?: number } = {},
): ApplicationFailure {
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable: opts.nonRetryable ?? NON_RETRYABLE_ERROR_TYPES.includes(type),
    details: opts.details ?? [],
    ...(opts.cause instanceof Error ? { cause: opts.cause } : {}),
    ...(opts.nextRetryDelayMs !== undefined ? { nextRetryDelay: opts.nextRetryDelayMs } : {}),
  });
}

/** HTTP status of an Azure SDK error, if it is one. */
export function statusOf(err: unknown): number | undefined {
  return isRestError(err) ? err.statusCode : undefined;
}

/** Azure's error code and message from a RestError, or from core-lro's "The long-running operation has failed. Code. Message". */
export function azureErrorDetails(err: unknown): AzureErrorDetails {
  if (isRestError(err)) {
    return { azureCode: err.code, azureMessage: err.message, ...(err.statusCode !== undefined ? { statusCode: err.statusCode } : {}) };
  }
  const text = err instanceof Error ? err.message : String(err);
  const m = /The long-running operation has failed\.\s*(?:(\w+)\.\s*)?(.*)$/s.exec(text);
  if (m) return { ...(m[1] ? { azureCode: m[1] } : {}), azureMessage: (m[2] ?? '').trim() || text };
  return { azureMessage: text };
}

/**
 * The failure for an Azure error that no caller-specific rule claimed: throttling and conflicts are
 * retryable (after Azure's Retry-After), 5xx and network errors are retryable, other 4xx are not.
 */
export function genericAzureFailure(what: string, err: unknown): ApplicationFailure {
  const status = statusOf(err);
  const d = azureErrorDetails(err);
  const said = `${d.azureCode ? `${d.azureCode}: ` : ''}${d.azureMessage ?? ''}`;
  const retryAfter = isRestError(err) ? retryAfterMs(err.response, 600_000) : undefined;
  if (status === 429) {
    return failure(ErrorType.Throttled, `${what}: Azure throttled the call (${said})`, {
      cause: err,
      details: [d],
      ...(retryAfter !== undefined ? { nextRetryDelayMs: retryAfter } : {}),
    });
  }
  if (status === 409) {
    return failure(ErrorType.EndpointBusy, `${what}: another operation is running on the endpoint (${said})`, {
      cause: err,
      details: [d],
      ...(retryAfter !== undefined ? { nextRetryDelayMs: retryAfter } : {}),
    });
  }
  // Plain errors (network, 5xx) keep retrying under the activity's retry policy.
  return ApplicationFailure.create({
    type: ErrorType.AzureRequestFailed,
    message: `${what}: ${said || 'request failed'}`,
    nonRetryable: status !== undefined && status >= 400 && status < 500 && status !== 408,
    details: [d],
    ...(err instanceof Error ? { cause: err } : {}),
  });
}
