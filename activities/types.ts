/**
 * The activities the safe-rollout workflow calls: their names, inputs and results. This is the contract
 * between workflows/ (which imports it with `import type` only) and the Azure implementations built by
 * `createActivities(deps)`. Every activity is one remote effect, idempotent, and fails with an
 * `ApplicationFailure` whose `type` is one of domain/errors.ts (`nonRetryable` for the ones a retry
 * cannot fix). No input or result carries a secret (invariant 9): keys, tokens and webhook secrets live
 * in the worker's environment.
 */
import type { ApprovalNotice } from '../domain/approvals.js';
import type { CostEstimate, MetricsSnapshot, WebhookVerdict } from '../domain/gates.js';
import type { EndpointRef } from '../domain/ids.js';
import type { DeploymentSpec, LogsSettings } from '../domain/plan.js';
import type { Stage } from '../domain/messages.js';
import type { TrafficState } from '../domain/traffic.js';

import type { DecisionTrust } from '../domain/decision-signature.js';
import type { LineSkipReason, PairingSummary, ReadPredictionPairsInputData } from '../domain/predictions/index.js';
export type { DecisionTrust };
export type { PairingSummary };
export type { CostEstimate, DeploymentSpec, EndpointRef, MetricsSnapshot, TrafficState, WebhookVerdict };

/** A deployment under an endpoint, as read from Azure. */
export interface DeploymentInfo {
  name: string;
  /** Azure's provisioningState: Creating | Updating | Scaling | Succeeded | Failed | Deleting | Canceled. */
  provisioningState: string;
  instanceType?: string;
  instanceCount?: number;
  /** The model asset id, e.g. `azureml:fraud-detector:2`, when Azure reports one. */
  model?: string;
}

export interface GetEndpointInput {
  endpoint: EndpointRef;
}
/** The endpoint as Azure sees it now. `traffic.mirror` comes from `mirrorTraffic` (see the Azure reference §0.2). */
export interface GetEndpointResult {
  name: string;
  /** Azure's provisioningState of the endpoint. */
  provisioningState: string;
  traffic: TrafficState;
  deployments: DeploymentInfo[];
  /** Azure region, e.g. `westeurope` (used for prices). */
  location?: string;
}

export interface CheckModelExistsInput {
  endpoint: EndpointRef;
  /** The model reference of the candidate spec, e.g. `azureml:fraud-detector:2`. */
  model: string;
}
export interface CheckModelExistsResult {
  exists: boolean;
  /** The resolved asset id when it exists. */
  resolvedId?: string;
}

export interface EnsureDeploymentInput {
  endpoint: EndpointRef;
  /** The candidate deployment's name. */
  name: string;
  spec: DeploymentSpec;
}
/**
 * Create-or-update of the candidate at 0% traffic; returns once Azure reports Succeeded. Long-running:
 * polls inside the activity with heartbeats; fails with DeploymentFailed / QuotaExceeded / CapacityExceeded.
 */
export interface EnsureDeploymentResult {
  name: string;
  provisioningState: string;
  /** True when this call created it, false when it existed (and was updated to the spec). */
  created: boolean;
  instanceType: string;
  instanceCount: number;
}

/**
 * One traffic change as one read-compare-write: the activity reads the endpoint, and
 * - when it already has `target`, returns it (an earlier attempt of this activity applied it: no write);
 * - when it differs from `expected` (zeros and key order ignored), fails with a non-retryable
 *   `TrafficDrift` whose details are `{ expected, actual }` — someone else changed traffic (invariant 7);
 * - otherwise checks Azure's traffic rules (`InvalidTraffic`), writes, reads back and returns what it read
 *   (`TrafficNotApplied` when that is not `target`).
 * `expected: null` takes over whatever the endpoint has (rollback: the baseline must win).
 */
export interface SetEndpointTrafficInput {
  endpoint: EndpointRef;
  expected: TrafficState | null;
  target: TrafficState;
}
/**
 * The input rollouts sent before the read-compare-write rework (they read and compared in the workflow).
 * Still accepted, because such a rollout may be running when a new worker starts.
 */
export interface LegacySetEndpointTrafficInput {
  endpoint: EndpointRef;
  live: TrafficState['live'];
  mirror: TrafficState['mirror'];
  /** What the caller believed the traffic was. */
  expectedCurrent: TrafficState;
}
/** The two input shapes as one: the change to make and what the caller expects now (null: anything). */
export function trafficChangeOf(input: SetEndpointTrafficInput | LegacySetEndpointTrafficInput): { expected: TrafficState | null; target: TrafficState } {
  return 'target' in input ? { expected: input.expected, target: input.target } : { expected: input.expectedCurrent, target: { live: input.live, mirror: input.mirror } };
}

/** The traffic read back from the endpoint after the write. */
export interface SetEndpointTrafficResult {
  traffic: TrafficState;
}

export interface DeleteDeploymentInput {
  endpoint: EndpointRef;
  name: string;
}
export interface DeleteDeploymentResult {
  /** False when it was already gone (idempotent). */
  deleted: boolean;
}

export interface GetMetricsSnapshotInput {
  endpoint: EndpointRef;
  baseline: string;
  candidate: string;
  /** The window to aggregate over, ending the ingestion delay before now. */
  windowMs: number;
  /** The plan's `analysis.logs`: read the traffic log too (per-request counts, exceedances, percentiles). */
  logs?: LogsSettings;
  /**
   * With `logs`: latencies (ms, may be fractional) the judge needs exceedance counts above — its thresholds
   * frozen at the step's first analysis (domain/judged-analysis.ts). Returned per deployment in
   * `log.judgeExceedances`.
   */
  judgeExceedanceMs?: number[];
}
/** Requests, 5xx rate, 424 rate, p50/p95/p99, CPU and memory per deployment; a deployment without data is null. */
export type GetMetricsSnapshotResult = MetricsSnapshot;

export interface EstimateCostInput {
  endpoint: EndpointRef;
  instanceType: string;
  instanceCount: number;
  /** Azure region when known (from getEndpoint); without it the activity prices in eastus. */
  location?: string;
}
/** Hourly and monthly USD (730 h/month); `fallback` when the price list could not be used. */
export type EstimateCostResult = CostEstimate;

export interface CallWebhookGateInput {
  url: string;
  timeoutMs: number;
  /** What the rollout is doing, for the webhook to judge. The worker signs the request with its own secret. */
  rollout: { workflowId: string; endpoint: string; baseline: string; candidate: string; stage: Stage; stepIndex: number; candidateLivePercent: number };
  snapshot: MetricsSnapshot;
}
export type CallWebhookGateResult = WebhookVerdict;

/**
 * Reads both deployments' collected model inputs and outputs (Azure ML data collection, in blob storage)
 * for `window` and pairs them; zod-validated by the activity (domain/predictions/read-input.ts). Paths
 * (`label`, `score`, `slices`) are the plan's texts, e.g. `isFraud` or `$.predictions[0].label`. `store`
 * is a reference (URL, container), never a key or SAS: the worker brings the credential.
 */
export type ReadPredictionPairsInput = ReadPredictionPairsInputData;
/** Aggregates only: what was read (counts), and the pairing summary (no payload, input or prediction value). */
export interface ReadPredictionPairsResult {
  window: { start: string; end: string };
  read: {
    /** Hour (or day) folders listed, and those without any blob (collection off or paused, no traffic). */
    folders: number;
    missingFolders: number;
    missingFolderExamples: string[];
    blobs: number;
    bytes: number;
    /** Blobs left unread past the byte budget of one analysis. */
    blobsNotRead: number;
    lines: number;
    /** Rows whose line time falls outside the window (same folder, other minutes). */
    outsideWindow: number;
    skipped: Record<LineSkipReason, number>;
    units: { baseline: { inputs: number; outputs: number }; candidate: { inputs: number; outputs: number } };
    elapsedMs: number;
    /** Where the time went: listing folders, downloading and parsing blobs (parseMs of it: parsing), pairing. */
    timings: { listMs: number; readMs: number; parseMs: number; pairMs: number };
  };
  summary: PairingSummary;
}

/** What a notification is about. */
export type NotificationKind =
  | 'started'
  | 'step'
  | 'verdict'
  | 'approval_requested'
  | 'approval_recorded'
  | 'approval_timed_out'
  | 'refused'
  | 'paused'
  | 'resumed'
  | 'drift'
  | 'rollback_started'
  | 'rolled_back'
  | 'rollback_failed'
  | 'promoted'
  | 'retired'
  | 'finished';

/** A notification to people (Slack). Plain text plus structured fields for rich rendering. */
export interface NotifyInput {
  kind: NotificationKind;
  workflowId: string;
  endpoint: string;
  candidate: string;
  /** The Slack channel from the plan (`notify.slack.channel`), when set. */
  channel?: string;
  text: string;
  /** Structured context: step index, traffic, verdict reasons, approvers … (no secrets). */
  fields?: Record<string, string | number | boolean | null>;
  /**
   * With `approval_requested`: what the approval message shows (the step, approvers, timeout, the last
   * analysis's gate rows), built by `approvalNotice()` in domain/approvals.ts. Aggregates only.
   */
  approval?: ApprovalNotice;
}
export interface NotifyResult {
  delivered: boolean;
}

/**
 * The activities of a rollout. Implemented by `createActivities(deps)` in activities/; faked in
 * test/support/builders.ts. `notify` must never fail the rollout: the workflow swallows its failures.
 */
export interface RolloutActivities {
  getEndpoint(input: GetEndpointInput): Promise<GetEndpointResult>;
  checkModelExists(input: CheckModelExistsInput): Promise<CheckModelExistsResult>;
  ensureDeployment(input: EnsureDeploymentInput): Promise<EnsureDeploymentResult>;
  setEndpointTraffic(input: SetEndpointTrafficInput | LegacySetEndpointTrafficInput): Promise<SetEndpointTrafficResult>;
  deleteDeployment(input: DeleteDeploymentInput): Promise<DeleteDeploymentResult>;
  getMetricsSnapshot(input: GetMetricsSnapshotInput): Promise<GetMetricsSnapshotResult>;
  estimateCost(input: EstimateCostInput): Promise<EstimateCostResult>;
  callWebhookGate(input: CallWebhookGateInput): Promise<CallWebhookGateResult>;
  /** Pairs of the baseline's and candidate's collected predictions in a window, as aggregates (CollectedDataUnavailable when the store cannot be read). */
  readPredictionPairs(input: ReadPredictionPairsInput): Promise<ReadPredictionPairsResult>;
  notify(input: NotifyInput): Promise<NotifyResult>;
  /** The worker's trusted signers of decisions and its person mapping (public data, kept in the rollout's state). */
  trustedSigners(): Promise<DecisionTrust>;
}
