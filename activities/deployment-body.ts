/**
 * Translation of a plan's candidate deployment (Azure ML CLI v2 keys, snake_case, as users write them in
 * `az ml online-deployment` YAML) into the ARM request body of a managed online deployment, and the
 * comparison that lets `ensureDeployment` skip a write when the deployment already is what the plan says.
 */
import type { ManagedOnlineDeployment, OnlineDeployment, ProbeSettings } from '@azure/arm-machinelearning';
import { modelReference, pendingAssets } from '../domain/deployment-spec.js';
import type { DeploymentSpec } from '../domain/plan.js';

/**
 * Milliseconds as an ISO 8601 duration, the way ARM writes them: 3000 → `PT3S`, 500 → `PT0.5S`,
 * 90000 → `PT1M30S`, 3_600_000 → `PT1H`.
 */
export function isoDuration(ms: number): string {
  if (ms === 0) return 'PT0S';
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  return `PT${h ? `${h}H` : ''}${m ? `${m}M` : ''}${s ? `${s}S` : ''}`;
}

type ProbeSpec = NonNullable<DeploymentSpec['liveness_probe']>;

function probeSettings(p: ProbeSpec | undefined): ProbeSettings | undefined {
  if (!p) return undefined;
  const out: ProbeSettings = {};
  if (p.initial_delay !== undefined) out.initialDelay = isoDuration(p.initial_delay * 1000);
  if (p.period !== undefined) out.period = isoDuration(p.period * 1000);
  if (p.timeout !== undefined) out.timeout = isoDuration(p.timeout * 1000);
  if (p.success_threshold !== undefined) out.successThreshold = p.success_threshold;
  if (p.failure_threshold !== undefined) out.failureThreshold = p.failure_threshold;
  return out;
}

/** Thrown when a spec still holds an inline or local asset: ARM takes asset ids, never a path on the CLI's machine. */
export class UnregisteredAssetError extends Error {
  constructor(readonly assets: string[]) {
    super(`the deployment has assets that must be uploaded and registered first: ${assets.join(', ')}`);
    this.name = 'UnregisteredAssetError';
  }
}

/**
 * The ARM id of a data asset version, as the CLI sends `dataId`: `azureml:<name>:<version>` and
 * `{ name, version }` become `<workspace id>/data/<name>/versions/<version>`; an ARM id passes through.
 */
function dataAssetId(data: string | { name?: string; version?: string }, workspaceId: string | undefined): string | undefined {
  if (typeof data === 'string') {
    const m = /^azureml:([^:@/]+):(.+)$/.exec(data);
    return m && workspaceId ? `${workspaceId}/data/${m[1]}/versions/${m[2]}` : data;
  }
  if (!data.name || !data.version) return undefined; // the service's default data asset for the collection
  return workspaceId ? `${workspaceId}/data/${data.name}/versions/${data.version}` : `azureml:${data.name}:${data.version}`;
}

/**
 * `data_collector` → `properties.dataCollector` (reference azure-monitor-logs-and-data-collection.md §4.1).
 * `workspaceId` (the workspace's ARM id) turns data asset references into the ARM ids the CLI sends.
 */
export function dataCollectorBody(dc: NonNullable<DeploymentSpec['data_collector']>, workspaceId?: string): Record<string, unknown> {
  const collections: Record<string, unknown> = {};
  for (const [name, c] of Object.entries(dc.collections)) {
    const dataId = c.data === undefined ? undefined : dataAssetId(c.data, workspaceId);
    collections[name] = {
      dataCollectionMode: c.enabled ? 'Enabled' : 'Disabled',
      ...(dc.sampling_rate !== undefined ? { samplingRate: dc.sampling_rate } : {}),
      ...(c.client_id ? { clientId: c.client_id } : {}),
      ...(dataId ? { dataId } : {}),
    };
  }
  return {
    collections,
    ...(dc.rolling_rate ? { rollingRate: dc.rolling_rate[0]!.toUpperCase() + dc.rolling_rate.slice(1) } : {}),
    ...(dc.request_logging ? { requestLogging: { captureHeaders: [...dc.request_logging.capture_headers] } } : {}),
  };
}

/**
 * Properties of the ARM body that the 2022-10-01 models of `@azure/arm-machinelearning` 2.1.1 do not
 * know and would drop when serialising (`dataCollector`, `privateNetworkConnection`): the activity sends
 * them through the `x-glidepath-deployment-properties` header, which a pipeline policy merges back
 * into the PUT body (activities/azure-clients.ts).
 */
export function extraDeploymentProperties(spec: DeploymentSpec, workspaceId?: string): Record<string, unknown> | undefined {
  const extra: Record<string, unknown> = {};
  if (spec.data_collector) extra.dataCollector = dataCollectorBody(spec.data_collector, workspaceId);
  if (spec.private_network_connection !== undefined) extra.privateNetworkConnection = spec.private_network_connection;
  return Object.keys(extra).length > 0 ? extra : undefined;
}

/**
 * The ARM body (`PUT …/onlineEndpoints/{ep}/deployments/{name}`) for a plan's deployment spec. Throws
 * {@link UnregisteredAssetError} when the spec still names a local or inline asset: such a spec is
 * refused by `rollout start` before it reaches a workflow, and this keeps a path from ever reaching ARM.
 */
export function deploymentBody(spec: DeploymentSpec, location: string): OnlineDeployment {
  const pending = pendingAssets(spec);
  if (pending.length > 0) throw new UnregisteredAssetError(pending.map((p) => `${p.path}: ${p.value}`));
  const properties: ManagedOnlineDeployment = {
    endpointComputeType: 'Managed',
    instanceType: spec.instance_type,
    scaleSettings: { scaleType: 'Default' },
  };
  const model = modelReference(spec);
  if (model !== undefined) properties.model = model;
  if (spec.model_mount_path !== undefined) properties.modelMountPath = spec.model_mount_path;
  if (typeof spec.environment === 'string') properties.environmentId = spec.environment;
  if (spec.code_configuration) {
    properties.codeConfiguration = { codeId: spec.code_configuration.code, scoringScript: spec.code_configuration.scoring_script };
  }
  if (spec.app_insights_enabled !== undefined) properties.appInsightsEnabled = spec.app_insights_enabled;
  if (spec.egress_public_network_access !== undefined) {
    properties.egressPublicNetworkAccess = spec.egress_public_network_access === 'enabled' ? 'Enabled' : 'Disabled';
  }
  const rs = spec.request_settings;
  if (rs) {
    properties.requestSettings = {};
    if (rs.request_timeout_ms !== undefined) properties.requestSettings.requestTimeout = isoDuration(rs.request_timeout_ms);
    if (rs.max_concurrent_requests_per_instance !== undefined) {
      properties.requestSettings.maxConcurrentRequestsPerInstance = rs.max_concurrent_requests_per_instance;
    }
    if (rs.max_queue_wait_ms !== undefined) properties.requestSettings.maxQueueWait = isoDuration(rs.max_queue_wait_ms);
  }
  if (spec.environment_variables) properties.environmentVariables = { ...spec.environment_variables };
  const liveness = probeSettings(spec.liveness_probe);
  if (liveness) properties.livenessProbe = liveness;
  const readiness = probeSettings(spec.readiness_probe);
  if (readiness) properties.readinessProbe = readiness;
  if (spec.description !== undefined) properties.description = spec.description;
  if (spec.properties) properties.properties = { ...spec.properties };
  return {
    location,
    properties,
    sku: { name: 'Default', capacity: spec.instance_count },
    ...(spec.tags ? { tags: { ...spec.tags } } : {}),
  };
}

function normalizedDuration(v: string | undefined): string | undefined {
  return v?.toUpperCase();
}

/**
 * The fields of `desired` that `existing` does not match (empty when a PUT would change nothing).
 * Only what the plan sets is compared: Azure fills in defaults the plan did not ask for.
 */
export function deploymentDifferences(existing: OnlineDeployment, desired: OnlineDeployment): string[] {
  const diffs: string[] = [];
  const e = existing.properties as ManagedOnlineDeployment;
  const d = desired.properties as ManagedOnlineDeployment;
  const same = (label: string, a: unknown, b: unknown) => {
    if (b !== undefined && JSON.stringify(a) !== JSON.stringify(b)) diffs.push(label);
  };
  same('model', e.model, d.model);
  same('environment', e.environmentId, d.environmentId);
  same('model_mount_path', e.modelMountPath, d.modelMountPath);
  same('code_configuration', e.codeConfiguration && { codeId: e.codeConfiguration.codeId, scoringScript: e.codeConfiguration.scoringScript }, d.codeConfiguration);
  same('instance_type', e.instanceType, d.instanceType);
  same('instance_count', existing.sku?.capacity, desired.sku?.capacity);
  same('app_insights_enabled', e.appInsightsEnabled ?? false, d.appInsightsEnabled);
  same('egress_public_network_access', e.egressPublicNetworkAccess, d.egressPublicNetworkAccess);
  if (d.requestSettings) {
    same('request_settings.request_timeout_ms', normalizedDuration(e.requestSettings?.requestTimeout), normalizedDuration(d.requestSettings.requestTimeout));
    same('request_settings.max_concurrent_requests_per_instance', e.requestSettings?.maxConcurrentRequestsPerInstance, d.requestSettings.maxConcurrentRequestsPerInstance);
    same('request_settings.max_queue_wait_ms', normalizedDuration(e.requestSettings?.maxQueueWait), normalizedDuration(d.requestSettings.maxQueueWait));
  }
  same('environment_variables', e.environmentVariables ?? {}, d.environmentVariables);
  same('description', e.description, d.description);
  if (desired.tags) same('tags', existing.tags ?? {}, desired.tags);
  return diffs;
}
