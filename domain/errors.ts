/**
 * Glidepath's error taxonomy: the `type` of every ApplicationFailure that activities throw and the
 * workflow fails with on purpose. A type here is a contract between rooms — the workflow decides what
 * to do by type (retry, roll back, pause), the CLI maps types to exit codes and friendly text — so
 * names never change once shipped. A bug is not in this list: it throws a plain Error so the workflow
 * task retries until a fix ships.
 */

export const ErrorType = {
  /** Thrown when a plan file or a workflow input does not satisfy the plan schema. */
  InvalidPlan: 'InvalidPlan',
  /** Thrown when the candidate spec breaks a preflight policy of the plan (egress, App Insights, instance type). */
  PolicyViolation: 'PolicyViolation',
  /** Thrown when the target endpoint does not exist. */
  EndpointNotFound: 'EndpointNotFound',
  /** Thrown when a deployment named by the plan does not exist on the endpoint. */
  DeploymentNotFound: 'DeploymentNotFound',
  /** Thrown when the model (or environment, code asset) the candidate names does not exist in the workspace. */
  ModelNotFound: 'ModelNotFound',
  /** Thrown when no baseline can be found: no deployment holds 100% live traffic, or the named one does not. */
  NoBaseline: 'NoBaseline',
  /** Thrown when the endpoint is not in a state to be changed (provisioning, failed, being deleted). */
  EndpointNotReady: 'EndpointNotReady',
  /** Thrown when Azure refuses to create the candidate for lack of quota (OutOfQuota). */
  QuotaExceeded: 'QuotaExceeded',
  /** Thrown when Azure has no capacity for the instance type in the region (OutOfCapacity). */
  CapacityExceeded: 'CapacityExceeded',
  /** Thrown when the candidate deployment failed to become healthy (crash loop, probes, image build). */
  DeploymentFailed: 'DeploymentFailed',
  /** Thrown when Azure refuses a traffic state (one of the rules in domain/traffic.ts). */
  InvalidTraffic: 'InvalidTraffic',
  /** Thrown by setEndpointTraffic when the endpoint's traffic is not what the caller expected (someone changed it). */
  TrafficDrift: 'TrafficDrift',
  /** Thrown when a write was accepted but reading the endpoint back shows another state. */
  TrafficNotApplied: 'TrafficNotApplied',
  /** Thrown when Azure answers a call with an error no other type names (network trouble and 5xx are retryable, 4xx not). */
  AzureRequestFailed: 'AzureRequestFailed',
  /** Thrown when another operation holds the endpoint (409 Conflict); retryable. */
  EndpointBusy: 'EndpointBusy',
  /** Thrown when Azure throttles a call (429); retryable after its Retry-After. */
  Throttled: 'Throttled',
  /** Thrown when the metrics backend cannot be queried. */
  MetricsUnavailable: 'MetricsUnavailable',
  /**
   * Thrown when the blob store holding Azure ML's collected model inputs and outputs cannot be read
   * (unreachable, forbidden, no such container): the prediction gates are inconclusive for that analysis,
   * never passed. Details: `{ reason, statusCode?, azureCode? }`.
   */
  CollectedDataUnavailable: 'CollectedDataUnavailable',
  /** Thrown when no price is known for the instance type (and no fallback applies). */
  PriceUnavailable: 'PriceUnavailable',
  /** Thrown when the external webhook gate cannot be reached or answers garbage. */
  WebhookGateFailed: 'WebhookGateFailed',
  /** Thrown when a second rollout is started on an endpoint that already has one running. */
  RolloutAlreadyRunning: 'RolloutAlreadyRunning',
  /** The workflow's own failure when rolling back did not restore the baseline (read back from the endpoint). */
  RollbackFailed: 'RollbackFailed',
  /** The workflow's own failure when preflight failed for a reason without a type of its own (e.g. an activity timed out); the cause is kept. */
  RolloutFailed: 'RolloutFailed',
  /** Thrown by an update validator or signal check: the message cannot apply now (the reason says why). */
  MessageRefused: 'MessageRefused',
} as const;

/** One of Glidepath's error-type names. */
export type ErrorType = (typeof ErrorType)[keyof typeof ErrorType];

/** Failures a retry cannot fix: activities mark them nonRetryable and the retry policy lists them. */
export const NON_RETRYABLE_ERROR_TYPES: readonly ErrorType[] = [
  ErrorType.InvalidPlan,
  ErrorType.PolicyViolation,
  ErrorType.EndpointNotFound,
  ErrorType.DeploymentNotFound,
  ErrorType.ModelNotFound,
  ErrorType.NoBaseline,
  ErrorType.QuotaExceeded,
  ErrorType.CapacityExceeded,
  ErrorType.DeploymentFailed,
  ErrorType.InvalidTraffic,
  ErrorType.TrafficDrift,
  ErrorType.PriceUnavailable,
];

/** True when `type` is one of Glidepath's error-type names. */
export function isErrorType(type: string | undefined | null): type is ErrorType {
  return typeof type === 'string' && Object.hasOwn(ErrorType, type);
}
