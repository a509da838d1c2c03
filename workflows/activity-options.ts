/**
 * How the safe-rollout workflow calls its activities: one proxy per kind of call, each with the timeouts
 * and retry policy chosen for it. Not exported from workflows/index.ts (only workflow functions are).
 */
import { proxyActivities, type RetryPolicy } from '@temporalio/workflow';
import type { RolloutActivities } from '../activities/types.js';
import { ErrorType, NON_RETRYABLE_ERROR_TYPES } from '../domain/errors.js';

const retry: RetryPolicy = {
  initialInterval: '2s',
  backoffCoefficient: 2,
  maximumInterval: '1m',
  maximumAttempts: 5,
  nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
};

/**
 * Every Azure activity heartbeats while it runs (at each poll of a long operation, and every 5 s while it
 * waits on anything else: activities/heartbeat.ts), so a worker that dies mid-call is noticed within
 * 30 s and the call is retried elsewhere, instead of after its start-to-close timeout.
 */
const AZURE_HEARTBEAT = '30s';

/**
 * Reads (endpoint, model, metrics, prices): quick calls with a bounded retry. A read has no effect to
 * wait for, so when the rollout stops (abort, deadline, cancel) it is abandoned and rollback starts at once.
 */
export const azure = proxyActivities<RolloutActivities>({ startToCloseTimeout: '2m', scheduleToCloseTimeout: '15m', heartbeatTimeout: AZURE_HEARTBEAT, retry, cancellationType: 'ABANDON' });

/** Writes (traffic, deletion): traffic writes run in non-cancellable scopes; a deletion is waited for. */
export const writes = proxyActivities<RolloutActivities>({ startToCloseTimeout: '2m', scheduleToCloseTimeout: '15m', heartbeatTimeout: AZURE_HEARTBEAT, retry });

/** Creating the candidate takes minutes: the activity polls Azure and heartbeats. */
export const deploy = proxyActivities<RolloutActivities>({
  startToCloseTimeout: '90m',
  heartbeatTimeout: AZURE_HEARTBEAT,
  retry: { ...retry, maximumAttempts: 3 },
});

/** Rollback calls retry longer: giving up on a rollback leaves traffic on a bad candidate. */
export const undo = proxyActivities<RolloutActivities>({
  startToCloseTimeout: '2m',
  scheduleToCloseTimeout: '30m',
  heartbeatTimeout: AZURE_HEARTBEAT,
  retry: { ...retry, maximumAttempts: 20, nonRetryableErrorTypes: [ErrorType.TrafficDrift, ErrorType.InvalidTraffic, ErrorType.EndpointNotFound] },
});

/** The external webhook gate: its timeout comes from the plan (set per call). */
export const webhook = proxyActivities<RolloutActivities>({ startToCloseTimeout: '1m', retry: { initialInterval: '1s', maximumAttempts: 2 }, cancellationType: 'ABANDON' });

/** Notifications are best effort: a few attempts, and the workflow swallows the failure. */
export const notifier = proxyActivities<RolloutActivities>({ startToCloseTimeout: '30s', retry: { initialInterval: '1s', maximumAttempts: 3 }, cancellationType: 'ABANDON' });
