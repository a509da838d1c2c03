/**
 * Business keys. A rollout's workflow id is derived from the endpoint's ARM resource id, so the Temporal
 * server itself guarantees at most one running rollout per endpoint (invariant 5): a second start with
 * the same id and conflict policy FAIL is refused.
 */

/** Where an online endpoint lives in Azure. */
export interface EndpointRef {
  subscriptionId: string;
  resourceGroup: string;
  workspace: string;
  endpoint: string;
}

/** The endpoint's ARM resource id, e.g. `/subscriptions/…/resourceGroups/ml-prod/providers/Microsoft.MachineLearningServices/workspaces/fraud-prod/onlineEndpoints/fraud-detection`. */
export function endpointResourceId(ref: EndpointRef): string {
  return (
    `/subscriptions/${ref.subscriptionId}/resourceGroups/${ref.resourceGroup}` +
    `/providers/Microsoft.MachineLearningServices/workspaces/${ref.workspace}/onlineEndpoints/${ref.endpoint}`
  );
}

/** The task queue rollouts run on unless `GLIDEPATH_TASK_QUEUE` says otherwise (worker and clients alike). */
export const DEFAULT_TASK_QUEUE = 'glidepath';

/** The prefix of every rollout workflow id. */
export const ROLLOUT_ID_PREFIX = 'glidepath-rollout:';

/**
 * The workflow id of the rollout on an endpoint: the prefix and the resource id, lower-cased because ARM
 * ids are case-insensitive (`ML-Prod` and `ml-prod` are one resource group, so must be one rollout).
 */
export function rolloutWorkflowId(ref: EndpointRef): string {
  return ROLLOUT_ID_PREFIX + endpointResourceId(ref).toLowerCase();
}

/** The endpoint's resource id back from a rollout workflow id, or undefined when the id is not a rollout's. */
export function resourceIdFromWorkflowId(workflowId: string): string | undefined {
  return workflowId.startsWith(ROLLOUT_ID_PREFIX) ? workflowId.slice(ROLLOUT_ID_PREFIX.length) : undefined;
}

/**
 * Where a rollout's endpoint lives, read back from its workflow id (lower-cased, as the id is); undefined
 * when the id is not a rollout's. E.g. `glidepath-rollout:/subscriptions/S/resourcegroups/G/providers/…/workspaces/W/onlineendpoints/E`.
 */
export function endpointRefOf(workflowId: string): EndpointRef | undefined {
  const m = /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/microsoft\.machinelearningservices\/workspaces\/([^/]+)\/onlineendpoints\/([^/]+)$/i.exec(
    resourceIdFromWorkflowId(workflowId) ?? '',
  );
  return m ? { subscriptionId: m[1]!, resourceGroup: m[2]!, workspace: m[3]!, endpoint: m[4]! } : undefined;
}
