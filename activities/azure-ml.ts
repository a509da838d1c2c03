/**
 * Activities on Azure ML managed online endpoints (ARM): read the endpoint, check the candidate's model
 * exists, create or update the candidate, set traffic, delete a deployment.
 *
 * Each is one remote effect and idempotent: it reads first and does nothing when Azure already is in
 * the requested state (so a retry after a crash, or a replay of the same step, makes no second write).
 * Long-running operations are polled here, inside the activity, with a heartbeat at every poll so a
 * dead worker is noticed within the heartbeat timeout and the next attempt picks the operation up.
 */
import type { OnlineDeployment, OnlineEndpoint } from '@azure/arm-machinelearning';
import { createPipelineRequest } from '@azure/core-rest-pipeline';
import { ErrorType } from '../domain/errors.js';
import type { EndpointRef } from '../domain/ids.js';
import { deletionViolation, normalizeTraffic, sameTraffic, trafficViolations, type TrafficMap, type TrafficState } from '../domain/traffic.js';
import { DEPLOYMENT_PROPERTIES_HEADER, MIRROR_TRAFFIC_HEADER, type AzureClientFactory, type AzureClients } from './azure-clients.js';
import { deploymentBody, deploymentDifferences, extraDeploymentProperties, UnregisteredAssetError } from './deployment-body.js';
import { azureErrorDetails, failure, genericAzureFailure, statusOf } from './failures.js';
import { currentContext, heartbeat } from './heartbeat.js';
import type {
  CheckModelExistsInput,
  CheckModelExistsResult,
  DeleteDeploymentInput,
  DeleteDeploymentResult,
  DeploymentInfo,
  EnsureDeploymentInput,
  EnsureDeploymentResult,
  GetEndpointInput,
  GetEndpointResult,
  SetEndpointTrafficInput,
  LegacySetEndpointTrafficInput,
  SetEndpointTrafficResult,
} from './types.js';
import { trafficChangeOf } from './types.js';

/** Options shared by the ARM activities. */
export interface AzureMlOptions {
  /** Interval between polls of a long-running operation (core-lro's `updateIntervalInMs`). */
  pollIntervalMs: number;
}

const TERMINAL = new Set(['succeeded', 'failed', 'canceled', 'cancelled']);
const isTerminal = (state: string | undefined) => state === undefined || TERMINAL.has(state.toLowerCase());

function abortSignal(): AbortSignal | undefined {
  return currentContext()?.cancellationSignal;
}

/** Sleeps; inside an activity the sleep rejects as soon as the activity is cancelled. */
async function sleep(ms: number): Promise<void> {
  const ctx = currentContext();
  if (ctx) await ctx.sleep(ms);
  else await new Promise((r) => setTimeout(r, ms));
}

/** Live and mirror traffic as the endpoint reports them (mirrorTraffic is an extra property the 2.1.1 models keep). */
export function endpointTraffic(endpoint: OnlineEndpoint): TrafficState {
  const props = endpoint.properties as OnlineEndpoint['properties'] & { mirrorTraffic?: TrafficMap };
  return normalizeTraffic({ live: { ...(props.traffic ?? {}) }, mirror: { ...(props.mirrorTraffic ?? {}) } });
}

function deploymentInfo(d: OnlineDeployment): DeploymentInfo {
  const props = d.properties as OnlineDeployment['properties'] & { model?: string; instanceType?: string };
  return {
    name: d.name ?? '',
    provisioningState: props.provisioningState ?? 'Succeeded',
    ...(props.instanceType ? { instanceType: props.instanceType } : {}),
    ...(d.sku?.capacity !== undefined ? { instanceCount: d.sku.capacity } : {}),
    ...(props.model ? { model: props.model } : {}),
  };
}

/** The ARM activities, bound to one client factory. */
export function createAzureMlActivities(factory: AzureClientFactory, opts: AzureMlOptions) {
  const clients = (ref: EndpointRef): AzureClients => factory.forSubscription(ref.subscriptionId);

  async function readEndpoint(ref: EndpointRef): Promise<OnlineEndpoint> {
    try {
      return await clients(ref).ml.onlineEndpoints.get(ref.resourceGroup, ref.workspace, ref.endpoint, { abortSignal: abortSignal() });
    } catch (err) {
      if (statusOf(err) === 404) {
        throw failure(ErrorType.EndpointNotFound, `endpoint '${ref.endpoint}' not found in workspace '${ref.workspace}' (resource group '${ref.resourceGroup}')`, {
          cause: err,
          details: [azureErrorDetails(err)],
        });
      }
      throw genericAzureFailure(`reading endpoint '${ref.endpoint}'`, err);
    }
  }

  async function listDeployments(ref: EndpointRef): Promise<OnlineDeployment[]> {
    const out: OnlineDeployment[] = [];
    try {
      for await (const d of clients(ref).ml.onlineDeployments.list(ref.resourceGroup, ref.workspace, ref.endpoint, { abortSignal: abortSignal() })) {
        out.push(d);
      }
    } catch (err) {
      throw genericAzureFailure(`listing deployments of '${ref.endpoint}'`, err);
    }
    return out;
  }

  async function readDeployment(ref: EndpointRef, name: string): Promise<OnlineDeployment | undefined> {
    try {
      return await clients(ref).ml.onlineDeployments.get(ref.resourceGroup, ref.workspace, ref.endpoint, name, { abortSignal: abortSignal() });
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw genericAzureFailure(`reading deployment '${name}'`, err);
    }
  }

  /** Waits (polling GET, heartbeating) until an operation someone else started on the deployment ends. */
  async function settleDeployment(ref: EndpointRef, name: string, current: OnlineDeployment | undefined): Promise<OnlineDeployment | undefined> {
    let d = current;
    while (d && !isTerminal(d.properties.provisioningState)) {
      heartbeat({ deployment: name, provisioningState: d.properties.provisioningState, waitingFor: 'a running operation' });
      await sleep(opts.pollIntervalMs);
      d = await readDeployment(ref, name);
    }
    return d;
  }

  /** Waits until the endpoint has no operation running (a write now would get 409). */
  async function settleEndpoint(ref: EndpointRef): Promise<OnlineEndpoint> {
    let e = await readEndpoint(ref);
    while (!isTerminal(e.properties.provisioningState)) {
      heartbeat({ endpoint: ref.endpoint, provisioningState: e.properties.provisioningState, waitingFor: 'a running operation' });
      await sleep(opts.pollIntervalMs);
      e = await readEndpoint(ref);
    }
    return e;
  }

  /**
   * `azureml:<name>@latest` → the most recently created version, as the Azure ML CLI resolves it
   * (`$orderBy=createdtime desc`, `$top=1`: "latest" is the newest created, not the highest version).
   */
  async function resolveLatestModel(ref: EndpointRef, name: string): Promise<CheckModelExistsResult> {
    const c = clients(ref);
    try {
      const pages = c.ml.modelVersions.list(ref.resourceGroup, ref.workspace, name, { orderBy: 'createdtime desc', top: 1, abortSignal: abortSignal() }).byPage();
      const first = await pages.next();
      const item = first.done ? undefined : first.value[0];
      if (!item?.name) return { exists: false };
      return { exists: true, resolvedId: item.id ?? `azureml:${name}:${item.name}`, resolvedModel: `azureml:${name}:${item.name}` };
    } catch (err) {
      if (statusOf(err) === 404) return { exists: false };
      throw genericAzureFailure(`listing the versions of model '${name}'`, err);
    }
  }

  function deploymentFailure(name: string, err: unknown) {
    const d = azureErrorDetails(err);
    const said = `${d.azureCode ?? 'Failed'}: ${d.azureMessage ?? ''}`.trim();
    const type =
      d.azureCode === 'OutOfQuota' ? ErrorType.QuotaExceeded : d.azureCode === 'OutOfCapacity' ? ErrorType.CapacityExceeded : ErrorType.DeploymentFailed;
    return failure(type, `deployment '${name}' failed: ${said}`, { cause: err, details: [d] });
  }

  return {
    async getEndpoint({ endpoint: ref }: GetEndpointInput): Promise<GetEndpointResult> {
      const endpoint = await readEndpoint(ref);
      const deployments = await listDeployments(ref);
      return {
        name: endpoint.name ?? ref.endpoint,
        provisioningState: endpoint.properties.provisioningState ?? 'Succeeded',
        traffic: endpointTraffic(endpoint),
        deployments: deployments.map(deploymentInfo).sort((a, b) => a.name.localeCompare(b.name)),
        ...(endpoint.location ? { location: endpoint.location } : {}),
      };
    },

    async checkModelExists({ endpoint: ref, model }: CheckModelExistsInput): Promise<CheckModelExistsResult> {
      const c = clients(ref);
      const latest = /^azureml:([^:/@]+)@latest$/.exec(model);
      if (latest) return resolveLatestModel(ref, latest[1]!);
      const workspaceModel = /^azureml:([^:/@]+):([^:/@]+)$/.exec(model);
      const registryModel = /^azureml:\/\/registries\/([^/]+)\/models\/([^/]+)\/versions\/([^/]+)$/.exec(model);
      let path: string;
      if (workspaceModel) {
        path = `/subscriptions/${ref.subscriptionId}/resourceGroups/${ref.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${ref.workspace}/models/${workspaceModel[1]}/versions/${workspaceModel[2]}`;
      } else if (registryModel) {
        // Registries live in their own resource group; Glidepath looks in the endpoint's (see README: known limits).
        path = `/subscriptions/${ref.subscriptionId}/resourceGroups/${ref.resourceGroup}/providers/Microsoft.MachineLearningServices/registries/${registryModel[1]}/models/${registryModel[2]}/versions/${registryModel[3]}`;
      } else if (/^\/subscriptions\/.+\/models\/[^/]+\/versions\/[^/]+$/i.test(model)) {
        path = model;
      } else {
        throw failure(ErrorType.ModelNotFound, `model reference '${model}' is not azureml:<name>:<version>, azureml://registries/<registry>/models/<name>/versions/<version> or an ARM id`);
      }
      const base = c.target.cloud === 'emulator' ? c.target.url : 'https://management.azure.com';
      const request = createPipelineRequest({ url: `${base}${path}?api-version=2024-04-01`, method: 'GET', abortSignal: abortSignal() });
      let response;
      try {
        response = await c.ml.sendRequest(request);
      } catch (err) {
        throw genericAzureFailure(`checking model '${model}'`, err);
      }
      if (response.status === 200) {
        const body = JSON.parse(response.bodyAsText ?? '{}') as { id?: string };
        return { exists: true, resolvedId: body.id ?? path };
      }
      if (response.status === 404) return { exists: false };
      throw genericAzureFailure(`checking model '${model}'`, Object.assign(new Error(`HTTP ${response.status}: ${response.bodyAsText ?? ''}`), {}));
    },

    async ensureDeployment({ endpoint: ref, name, spec }: EnsureDeploymentInput): Promise<EnsureDeploymentResult> {
      const c = clients(ref);
      const endpoint = await readEndpoint(ref);
      const location = endpoint.location;
      let desired: OnlineDeployment;
      try {
        desired = deploymentBody(spec, location);
      } catch (err) {
        if (err instanceof UnregisteredAssetError) throw failure(ErrorType.InvalidPlan, `deployment '${name}': ${err.message} (glidepath rollout start refuses such plans; no local path is sent to Azure)`, { cause: err });
        throw err;
      }
      const extra = extraDeploymentProperties(
        spec,
        `/subscriptions/${ref.subscriptionId}/resourceGroups/${ref.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${ref.workspace}`,
      );
      // A crashed earlier attempt may have left an operation running: wait for it instead of colliding (409).
      const existing = await settleDeployment(ref, name, await readDeployment(ref, name));
      const result = (d: OnlineDeployment, created: boolean): EnsureDeploymentResult => ({
        name,
        provisioningState: d.properties.provisioningState ?? 'Succeeded',
        created,
        instanceType: spec.instance_type,
        instanceCount: spec.instance_count,
      });
      if (existing && existing.properties.provisioningState === 'Succeeded' && deploymentDifferences(existing, desired).length === 0) {
        return result(existing, false); // already what the plan says: no write
      }
      heartbeat({ deployment: name, phase: existing ? 'updating' : 'creating' });
      try {
        const poller = await c.ml.onlineDeployments.beginCreateOrUpdate(ref.resourceGroup, ref.workspace, ref.endpoint, name, desired, {
          updateIntervalInMs: opts.pollIntervalMs,
          ...(extra ? { requestOptions: { customHeaders: { [DEPLOYMENT_PROPERTIES_HEADER]: JSON.stringify(extra) } } } : {}),
          abortSignal: abortSignal(),
        });
        poller.onProgress((state) => heartbeat({ deployment: name, done: state.isCompleted ?? false }));
        const done = await poller.pollUntilDone({ abortSignal: abortSignal() });
        return result(done, existing === undefined);
      } catch (err) {
        const status = statusOf(err);
        if (status === 409 || status === 429 || (status !== undefined && status >= 500)) throw genericAzureFailure(`creating deployment '${name}'`, err);
        if (status === undefined && !/long-running operation has failed/i.test(String((err as Error)?.message))) {
          throw genericAzureFailure(`creating deployment '${name}'`, err); // network trouble: retry
        }
        throw deploymentFailure(name, err);
      }
    },

    async setEndpointTraffic(input: SetEndpointTrafficInput | LegacySetEndpointTrafficInput): Promise<SetEndpointTrafficResult> {
      const ref = input.endpoint;
      const { expected: expectedCurrent, target } = trafficChangeOf(input);
      const c = clients(ref);
      const desired = normalizeTraffic(target);
      // The read of read-compare-write: every traffic change starts from the endpoint as it is now (invariant 7).
      const endpoint = await settleEndpoint(ref);
      const current = endpointTraffic(endpoint);
      if (sameTraffic(current, desired)) return { traffic: current }; // applied already (maybe by an earlier attempt): no write
      if (expectedCurrent !== null && !sameTraffic(current, expectedCurrent)) {
        throw failure(
          ErrorType.TrafficDrift,
          `traffic on '${ref.endpoint}' is not what the rollout last set: expected ${JSON.stringify(normalizeTraffic(expectedCurrent))}, found ${JSON.stringify(current)}`,
          { details: [{ expected: normalizeTraffic(expectedCurrent), actual: current }] },
        );
      }
      const deployments = (await listDeployments(ref)).map((d) => d.name ?? '');
      const violations = trafficViolations(desired, deployments);
      if (violations.length > 0) {
        throw failure(ErrorType.InvalidTraffic, `refusing traffic ${JSON.stringify(desired)}: ${violations.map((v) => v.message).join('; ')}`, {
          details: [{ violations }],
        });
      }
      // Name every deployment that had a share so it is explicitly set to 0 (what the Azure CLI does).
      const liveBody: TrafficMap = {};
      for (const name of Object.keys(current.live)) liveBody[name] = 0;
      Object.assign(liveBody, desired.live);
      const mirrorBody: TrafficMap = {};
      for (const name of Object.keys(current.mirror)) mirrorBody[name] = 0;
      Object.assign(mirrorBody, desired.mirror);
      const body: OnlineEndpoint = {
        ...endpoint,
        properties: { ...endpoint.properties, traffic: liveBody },
      };
      try {
        const poller = await c.ml.onlineEndpoints.beginCreateOrUpdate(ref.resourceGroup, ref.workspace, ref.endpoint, body, {
          updateIntervalInMs: opts.pollIntervalMs,
          abortSignal: abortSignal(),
          requestOptions: { customHeaders: { [MIRROR_TRAFFIC_HEADER]: JSON.stringify(mirrorBody) } },
        });
        poller.onProgress((state) => heartbeat({ endpoint: ref.endpoint, done: state.isCompleted ?? false }));
        await poller.pollUntilDone({ abortSignal: abortSignal() });
      } catch (err) {
        const status = statusOf(err);
        if (status === 400) {
          throw failure(ErrorType.InvalidTraffic, `Azure refused traffic ${JSON.stringify(desired)}: ${azureErrorDetails(err).azureMessage ?? ''}`, {
            cause: err,
            details: [azureErrorDetails(err)],
          });
        }
        throw genericAzureFailure(`setting traffic on '${ref.endpoint}'`, err);
      }
      const readBack = endpointTraffic(await readEndpoint(ref));
      if (!sameTraffic(readBack, desired)) {
        throw failure(ErrorType.TrafficNotApplied, `traffic on '${ref.endpoint}' reads back ${JSON.stringify(readBack)} after setting ${JSON.stringify(desired)}`, {
          details: [{ expected: desired, actual: readBack }],
        });
      }
      return { traffic: readBack };
    },

    async deleteDeployment({ endpoint: ref, name }: DeleteDeploymentInput): Promise<DeleteDeploymentResult> {
      const c = clients(ref);
      const existing = await settleDeployment(ref, name, await readDeployment(ref, name));
      if (!existing) return { deleted: false };
      const traffic = endpointTraffic(await readEndpoint(ref));
      const violation = deletionViolation(name, traffic);
      if (violation) throw failure(ErrorType.InvalidTraffic, violation.message, { details: [{ violation }] });
      try {
        const poller = await c.ml.onlineDeployments.beginDelete(ref.resourceGroup, ref.workspace, ref.endpoint, name, {
          updateIntervalInMs: opts.pollIntervalMs,
          abortSignal: abortSignal(),
        });
        poller.onProgress((state) => heartbeat({ deployment: name, done: state.isCompleted ?? false }));
        await poller.pollUntilDone({ abortSignal: abortSignal() });
      } catch (err) {
        if (statusOf(err) === 404) return { deleted: false };
        throw genericAzureFailure(`deleting deployment '${name}'`, err);
      }
      return { deleted: true };
    },
  };
}
