// The Azure Resource Manager surface of Azure ML online endpoints: endpoints, deployments, keys, tokens,
// logs, SKUs, model versions, and the long-running-operation status/result URLs (reference §1–§3).
import { createHash } from 'node:crypto';
import type { TrafficMap } from '../domain/traffic.js';
import { newKey, type EmulatorCore } from './core.js';
import { enabledCollections, workspaceContainer, type CollectionSpec, type DataCollectorSpec } from './data-collection.js';
import { workspaceGuid } from './log-tables.js';
import { ArmError, badArgument, isoNow, notFound, parseJson, type Reply } from './http.js';
import { buildEnvironmentImage, isRegisteredModel, registeredModelVersions } from './assets.js';
import { CONTAINER_STAND_IN, findModel, modelCreatedAt, parseModelRef, resolveModel, shippedModels } from './models/registry.js';
import { INSTANCE_TYPES } from './prices.js';
import { deploymentKey, endpointKey, type DeploymentRecord, type EndpointRecord, type OperationRecord, type SystemData } from './state.js';
import {
  type DataCollectorPut,
  checkDeletion,
  checkName,
  checkTraffic,
  checkWorkspaceName,
  deploymentPatchSchema,
  deploymentPutSchema,
  endpointPatchSchema,
  endpointPutSchema,
  getLogsSchema,
  parseBody,
  parseIsoDuration,
  regenerateKeysSchema,
} from './validation.js';

/** A parsed request as the handlers see it. */
export interface RequestContext {
  method: string;
  /** Path with repeated slashes collapsed, without the query. */
  path: string;
  segments: string[];
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  receivedAt: number;
}

const PROVIDER = 'Microsoft.MachineLearningServices';
const AML_TOKEN_LIFETIME_MS = 3600_000;
export const LIMITS = { endpointsPerSubscription: 100, deploymentsPerSubscription: 500, deploymentsPerEndpoint: 20 };
const PROBE_DEFAULTS = { failureThreshold: 30, successThreshold: 1, timeout: 'PT2S', period: 'PT10S', initialDelay: 'PT10S' };
const REQUEST_DEFAULTS = { maxConcurrentRequestsPerInstance: 1, maxQueueWait: 'PT0.5S', requestTimeout: 'PT5S' };

interface WorkspacePath {
  subscriptionId: string;
  resourceGroup: string;
  workspace: string;
}

const eq = (a: string | undefined, b: string): boolean => a !== undefined && a.toLowerCase() === b.toLowerCase();

function wsPrefix(w: WorkspacePath): string {
  return `/subscriptions/${w.subscriptionId}/resourceGroups/${w.resourceGroup}/providers/${PROVIDER}/workspaces/${w.workspace}`;
}

function systemData(prev?: SystemData): SystemData {
  const now = isoNow();
  return {
    createdBy: prev?.createdBy ?? 'glidepath-emulator@example.com',
    createdByType: prev?.createdByType ?? 'User',
    createdAt: prev?.createdAt ?? now,
    lastModifiedBy: 'glidepath-emulator@example.com',
    lastModifiedByType: 'User',
    lastModifiedAt: now,
  };
}

function clean<T extends Record<string, unknown>>(o: T | null | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!o) return out;
  for (const [k, v] of Object.entries(o)) if (v !== null && v !== undefined) out[k] = v;
  return out;
}

// ---- resource rendering ----

/** The emulator's Microsoft Entra tenant: the tenantId of every managed identity it reports. */
export const EMULATOR_TENANT_ID = '5f2a1c3e-7d4b-4e6a-9c1f-0e1d2c3b4a59';

/** A stable GUID derived from `parts` (the same resource always gets the same identity ids). */
function derivedGuid(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('|')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * A managed identity as ARM returns it (ManagedServiceIdentity): `principalId` and `tenantId` for a
 * system-assigned identity, `principalId` and `clientId` for each user-assigned one. The caller sends only
 * `type` (and the user-assigned identities' ids); Azure fills the rest in.
 */
export function identityResource(identity: Record<string, unknown> | undefined, resourceId: string): Record<string, unknown> {
  const type = typeof identity?.type === 'string' ? identity.type : 'None';
  if (type === 'None') return { type: 'None' };
  const out: Record<string, unknown> = { type };
  if (/SystemAssigned/i.test(type)) {
    out.principalId = derivedGuid('system-principal', resourceId.toLowerCase());
    out.tenantId = EMULATOR_TENANT_ID;
  }
  const assigned = identity?.userAssignedIdentities;
  if (/UserAssigned/i.test(type) && assigned && typeof assigned === 'object') {
    out.userAssignedIdentities = Object.fromEntries(
      Object.keys(assigned).map((id) => [id, { principalId: derivedGuid('user-principal', id.toLowerCase()), clientId: derivedGuid('user-client', id.toLowerCase()) }]),
    );
  }
  return out;
}

export function endpointResource(core: EmulatorCore, ep: EndpointRecord): Record<string, unknown> {
  const id = `${wsPrefix(ep)}/onlineEndpoints/${ep.name}`;
  return {
    id,
    name: ep.name,
    type: `${PROVIDER}/workspaces/onlineEndpoints`,
    location: ep.location,
    tags: ep.tags,
    kind: ep.kind,
    identity: identityResource(ep.identity, id),
    ...(ep.sku ? { sku: ep.sku } : {}),
    systemData: ep.systemData,
    properties: {
      authMode: ep.authMode,
      ...(ep.description !== undefined ? { description: ep.description } : {}),
      ...(ep.compute !== undefined ? { compute: ep.compute } : {}),
      properties: { ...ep.properties, 'azureml.onlineendpointid': id.toLowerCase(), createdAt: ep.systemData.createdAt, lastModifiedAt: ep.systemData.lastModifiedAt },
      keys: null,
      scoringUri: `${core.baseUrl}/endpoints/${ep.name}/score`,
      swaggerUri: `${core.baseUrl}/endpoints/${ep.name}/swagger.json`,
      provisioningState: ep.provisioningState,
      publicNetworkAccess: ep.publicNetworkAccess,
      traffic: ep.traffic,
      mirrorTraffic: ep.mirrorTraffic,
    },
  };
}

export function deploymentResource(core: EmulatorCore, dep: DeploymentRecord): Record<string, unknown> {
  const ep = core.endpoint(dep.endpoint);
  const prefix = ep ? wsPrefix(ep) : '';
  const id = `${prefix}/onlineEndpoints/${dep.endpoint}/deployments/${dep.name}`;
  return {
    id,
    name: dep.name,
    type: `${PROVIDER}/workspaces/onlineEndpoints/deployments`,
    location: dep.location,
    tags: dep.tags,
    kind: dep.kind,
    ...(dep.identity ? { identity: identityResource(dep.identity, id) } : {}),
    sku: dep.sku,
    systemData: dep.systemData,
    properties: { ...dep.properties, provisioningState: dep.provisioningState, ...(dep.lastError ? { error: dep.lastError } : {}) },
  };
}

// ---- operation plumbing ----

function operationUrls(core: EmulatorCore, op: OperationRecord, apiVersion: string): { status: string; result: string } {
  const base = `${core.baseUrl}/subscriptions/${op.subscriptionId}/providers/${PROVIDER}/locations/${op.region}`;
  const q = `api-version=${encodeURIComponent(apiVersion)}`;
  return { status: `${base}/mfeOperationsStatus/${op.id}?${q}`, result: `${base}/mfeOperationResults/${op.id}?${q}` };
}

function retryAfterSeconds(core: EmulatorCore): string {
  return String(Math.min(10, Math.max(1, Math.ceil(core.operationDurationMs() / 1000))));
}

/** Headers of a PUT that started an operation: Azure-AsyncOperation. */
function asyncHeaders(core: EmulatorCore, op: OperationRecord, apiVersion: string): Record<string, string> {
  return { 'azure-asyncoperation': operationUrls(core, op, apiVersion).status, 'x-ms-async-operation-timeout': 'PT1H' };
}

/** Headers of a 202 (PATCH, DELETE, POST): Location and Retry-After, plus Azure-AsyncOperation. */
function acceptedHeaders(core: EmulatorCore, op: OperationRecord, apiVersion: string): Record<string, string> {
  const urls = operationUrls(core, op, apiVersion);
  return {
    location: urls.result,
    'azure-asyncoperation': urls.status,
    'retry-after': retryAfterSeconds(core),
    'x-ms-async-operation-timeout': 'PT1H',
  };
}

function conflictIfBusy(core: EmulatorCore, endpoint: string): void {
  const running = core.runningOperation(endpoint);
  if (running) {
    throw new ArmError(
      409,
      'Conflict',
      `An operation (${running.kind}, id ${running.id}) is already in progress on online endpoint '${running.endpoint}'. Wait for it to finish, then retry.`,
    );
  }
}

function operationStatus(op: OperationRecord, path: string): Reply {
  const elapsed = Date.now() - Date.parse(op.startTime);
  const total = Math.max(1, op.dueAt - Date.parse(op.startTime));
  return {
    status: 200,
    body: {
      id: path,
      name: op.id,
      status: op.status,
      startTime: op.startTime,
      ...(op.endTime ? { endTime: op.endTime } : {}),
      ...(op.status === 'InProgress' ? { percentComplete: Math.min(99, Math.floor((elapsed / total) * 100)) } : { percentComplete: 100 }),
      ...(op.error ? { error: op.error } : {}),
    },
  };
}

function operationResult(core: EmulatorCore, op: OperationRecord): Reply {
  if (op.status === 'InProgress') return { status: 202, headers: { 'retry-after': '1' } };
  if (op.status === 'Failed' || op.status === 'Canceled') {
    const err = op.error ?? { code: 'OperationCanceled', message: 'The operation was canceled.' };
    return { status: err.code === 'InternalServerError' ? 500 : 400, body: { error: err } };
  }
  if (op.kind === 'endpoint-patch') {
    const ep = core.endpoint(op.endpoint);
    return ep ? { status: 200, body: endpointResource(core, ep) } : { status: 204 };
  }
  if (op.kind === 'deployment-patch' && op.deployment) {
    const dep = core.deployment(op.endpoint, op.deployment);
    return dep ? { status: 200, body: deploymentResource(core, dep) } : { status: 204 };
  }
  return { status: 204 };
}

// ---- paging ----

/**
 * One page of a list, as Azure ML's list operations page: `$skip` is the continuation token of the
 * nextLink (here an offset), `$top` caps the whole list ("top of list"), and `count` (on the endpoints
 * list: "number of endpoints to be retrieved in a page of results") sets the page size; the nextLink
 * keeps every query parameter, so the next page has the same size and filters.
 */
function page<T>(core: EmulatorCore, ctx: RequestContext, items: T[], render: (t: T) => unknown, opts: { countParam?: boolean } = {}): Reply {
  const skipText = ctx.query.get('$skip');
  const skip = skipText === null ? 0 : Number(skipText);
  if (!Number.isInteger(skip) || skip < 0) throw badArgument(`Invalid $skip '${skipText ?? ''}'.`, '$skip');
  const topText = ctx.query.get('$top');
  const top = topText === null ? Number.POSITIVE_INFINITY : Number(topText);
  if (topText !== null && (!Number.isInteger(top) || top < 1)) throw badArgument(`Invalid $top '${topText}'.`, '$top');
  const limited = items.slice(0, Math.min(items.length, top));
  const countText = opts.countParam ? ctx.query.get('count') : null;
  const count = countText === null ? undefined : Number(countText);
  if (count !== undefined && (!Number.isInteger(count) || count < 1)) throw badArgument(`Invalid count '${countText ?? ''}': it must be a whole number of at least 1.`, 'count');
  const size = count ?? core.options.listPageSize;
  const slice = limited.slice(skip, skip + size);
  const body: Record<string, unknown> = { value: slice.map(render) };
  if (skip + size < limited.length) {
    const q = new URLSearchParams(ctx.query);
    q.set('$skip', String(skip + size));
    body.nextLink = `${core.baseUrl}${ctx.path}?${q.toString()}`;
  }
  return { status: 200, body };
}

// ---- endpoints ----

function putEndpoint(core: EmulatorCore, ctx: RequestContext, w: WorkspacePath, name: string): Reply {
  checkName('endpoint', name);
  const body = parseBody(endpointPutSchema, parseJson(ctx.body), 'online endpoint');
  const existing = core.endpoint(name);
  if (existing && !(eq(existing.subscriptionId, w.subscriptionId) && eq(existing.resourceGroup, w.resourceGroup) && eq(existing.workspace, w.workspace))) {
    throw badArgument(`The online endpoint name '${name}' is already in use in region ${existing.location}; endpoint names must be unique within a region.`, 'name');
  }
  if (existing?.provisioningState === 'Deleting') throw new ArmError(409, 'Conflict', `Online endpoint '${name}' is being deleted.`);
  conflictIfBusy(core, name);
  if (!existing) {
    const count = Object.values(core.state.endpoints).filter((e) => eq(e.subscriptionId, w.subscriptionId)).length;
    if (count >= LIMITS.endpointsPerSubscription) {
      throw new ArmError(400, 'QuotaExceeded', `The subscription already has ${count} online endpoints; the limit is ${LIMITS.endpointsPerSubscription}.`);
    }
  }
  const p = body.properties;
  const traffic: TrafficMap = { ...(p.traffic ?? {}) };
  const mirror: TrafficMap = { ...(p.mirrorTraffic ?? {}) };
  checkTraffic({ live: traffic, mirror }, core.deploymentsOf(name).map((d) => d.name));
  const record: EndpointRecord = {
    subscriptionId: w.subscriptionId,
    resourceGroup: w.resourceGroup,
    workspace: w.workspace,
    name: existing?.name ?? name,
    location: body.location,
    tags: { ...(body.tags ?? {}) },
    kind: body.kind ?? existing?.kind ?? 'Managed',
    identity: body.identity ? clean(body.identity) : (existing?.identity ?? { type: 'None' }),
    ...(body.sku ? { sku: clean(body.sku) } : {}),
    authMode: p.authMode,
    ...(p.description !== undefined && p.description !== null ? { description: p.description } : {}),
    ...(p.compute !== undefined && p.compute !== null ? { compute: p.compute } : {}),
    // Properties can be added but not removed.
    properties: { ...(existing?.properties ?? {}), ...(p.properties ?? {}) },
    publicNetworkAccess: p.publicNetworkAccess ?? 'Enabled',
    traffic,
    mirrorTraffic: mirror,
    applied: existing?.applied ?? { live: {}, mirror: {} },
    keys: {
      primaryKey: p.keys?.primaryKey ?? existing?.keys.primaryKey ?? newKey(),
      secondaryKey: p.keys?.secondaryKey ?? existing?.keys.secondaryKey ?? newKey(),
    },
    provisioningState: existing ? 'Updating' : 'Creating',
    systemData: systemData(existing?.systemData),
  };
  core.state.endpoints[endpointKey(name)] = record;
  const apiVersion = ctx.query.get('api-version') ?? '';
  const op = core.startOperation(
    { kind: existing ? 'endpoint-update' : 'endpoint-create', subscriptionId: w.subscriptionId, region: record.location, endpoint: record.name, resourcePath: ctx.path },
    () =>
      Promise.resolve(() => {
        record.provisioningState = 'Succeeded';
        record.applied = { live: { ...traffic }, mirror: { ...mirror } };
      }),
    () => {
      record.provisioningState = 'Failed';
    },
  );
  return { status: existing ? 200 : 201, body: endpointResource(core, record), headers: asyncHeaders(core, op, apiVersion) };
}

function patchEndpoint(core: EmulatorCore, ctx: RequestContext, name: string): Reply {
  const ep = core.endpoint(name);
  if (!ep) throw notFound(`online endpoint '${name}'`);
  const body = parseBody(endpointPatchSchema, parseJson(ctx.body) ?? {}, 'online endpoint update');
  conflictIfBusy(core, name);
  if (body.tags) ep.tags = { ...body.tags };
  if (body.identity) ep.identity = { ...ep.identity, ...clean(body.identity) };
  ep.provisioningState = 'Updating';
  ep.systemData = systemData(ep.systemData);
  const op = core.startOperation(
    { kind: 'endpoint-patch', subscriptionId: ep.subscriptionId, region: ep.location, endpoint: ep.name, resourcePath: ctx.path },
    () => Promise.resolve(() => void (ep.provisioningState = 'Succeeded')),
    () => void (ep.provisioningState = 'Failed'),
  );
  return { status: 202, headers: acceptedHeaders(core, op, ctx.query.get('api-version') ?? '') };
}

function deleteEndpoint(core: EmulatorCore, ctx: RequestContext, name: string): Reply {
  const ep = core.endpoint(name);
  if (!ep) return { status: 204 };
  conflictIfBusy(core, name);
  ep.provisioningState = 'Deleting';
  const op = core.startOperation(
    { kind: 'endpoint-delete', subscriptionId: ep.subscriptionId, region: ep.location, endpoint: ep.name, resourcePath: ctx.path },
    () =>
      Promise.resolve(() => {
        for (const d of core.deploymentsOf(ep.name)) {
          core.metrics.setCapacity(deploymentKey(d.endpoint, d.name), 0);
          delete core.state.deployments[deploymentKey(d.endpoint, d.name)];
          void core.stopContainer(d.endpoint, d.name);
        }
        delete core.state.endpoints[endpointKey(ep.name)];
      }),
    () => void (ep.provisioningState = 'Failed'),
  );
  return { status: 202, headers: acceptedHeaders(core, op, ctx.query.get('api-version') ?? '') };
}

function endpointAction(core: EmulatorCore, ctx: RequestContext, name: string, action: string): Reply {
  const ep = core.endpoint(name);
  if (!ep) throw notFound(`online endpoint '${name}'`);
  switch (action) {
    case 'listkeys':
      if (ep.authMode !== 'Key') throw badArgument(`Keys are only available for endpoints whose authMode is Key; '${ep.name}' uses ${ep.authMode}.`, 'authMode');
      return { status: 200, body: { primaryKey: ep.keys.primaryKey, secondaryKey: ep.keys.secondaryKey } };
    case 'token': {
      if (ep.authMode !== 'AMLToken') {
        throw badArgument(`Tokens are only issued for endpoints whose authMode is AMLToken; '${ep.name}' uses ${ep.authMode}.`, 'authMode');
      }
      const token = newKey() + newKey();
      const now = Date.now();
      core.state.tokens[token] = { endpoint: ep.name, expiresAt: now + AML_TOKEN_LIFETIME_MS };
      for (const [t, v] of Object.entries(core.state.tokens)) if (v.expiresAt < now) delete core.state.tokens[t];
      core.persist();
      return {
        status: 200,
        body: {
          accessToken: token,
          expiryTimeUtc: Math.floor((now + AML_TOKEN_LIFETIME_MS) / 1000),
          refreshAfterTimeUtc: Math.floor((now + AML_TOKEN_LIFETIME_MS / 2) / 1000),
          tokenType: 'Bearer',
        },
      };
    }
    case 'regeneratekeys': {
      const body = parseBody(regenerateKeysSchema, parseJson(ctx.body), 'regenerate keys');
      conflictIfBusy(core, name);
      const op = core.startOperation(
        { kind: 'regenerate-keys', subscriptionId: ep.subscriptionId, region: ep.location, endpoint: ep.name, resourcePath: ctx.path },
        () =>
          Promise.resolve(() => {
            const value = body.keyValue ?? newKey();
            if (body.keyType === 'Primary') ep.keys.primaryKey = value;
            else ep.keys.secondaryKey = value;
          }),
        () => undefined,
      );
      return { status: 202, headers: acceptedHeaders(core, op, ctx.query.get('api-version') ?? '') };
    }
    default:
      throw notFound(`action '${action}' on online endpoints`);
  }
}

// ---- deployments ----

/** `properties.dataCollector` without nulls, enum values in Azure's casing (what GET returns). */
function normalizeDataCollector(d: DataCollectorPut): DataCollectorSpec {
  const collections: Record<string, CollectionSpec> = {};
  for (const [name, c] of Object.entries(d.collections)) collections[name] = clean(c) as CollectionSpec;
  return {
    collections,
    ...(d.rollingRate ? { rollingRate: d.rollingRate } : {}),
    ...(d.requestLogging ? { requestLogging: clean(d.requestLogging) as DataCollectorSpec['requestLogging'] } : {}),
  };
}

function putDeployment(core: EmulatorCore, ctx: RequestContext, endpoint: string, name: string): Reply {
  checkName('deployment', name);
  const ep = core.endpoint(endpoint);
  if (!ep) throw new ArmError(404, 'ParentResourceNotFound', `Online endpoint '${endpoint}' does not exist; create it before its deployments.`);
  const json = parseJson(ctx.body);
  // The compute type first: a Kubernetes deployment (Azure's KubernetesOnlineDeployment example) is refused
  // for what it is, not for a rule of managed deployments it breaks on the way (requestTimeout ≤ PT180S).
  const computeType = (json as { properties?: { endpointComputeType?: unknown } } | null)?.properties?.endpointComputeType;
  if (typeof computeType === 'string' && ['kubernetes', 'azuremlcompute'].includes(computeType.toLowerCase())) {
    throw badArgument(`properties.endpointComputeType '${computeType}' is not supported: the emulator serves managed online endpoints only; use 'Managed'.`, 'properties.endpointComputeType');
  }
  const body = parseBody(deploymentPutSchema, json, 'online deployment');
  const p = body.properties;
  if (p.endpointComputeType !== 'Managed') {
    throw badArgument(`properties.endpointComputeType '${p.endpointComputeType}' is not supported: the emulator serves managed online endpoints only; use 'Managed'.`, 'properties.endpointComputeType');
  }
  if (p.model !== undefined && p.model !== null && !parseModelRef(p.model)) {
    throw badArgument(`The model reference '${p.model}' is not valid; use azureml:<name>:<version>, an azureml://registries/… URI or a model version ARM id.`, 'properties.model');
  }
  const instanceType = p.instanceType ?? 'Standard_DS3_v2';
  if (!INSTANCE_TYPES.has(instanceType.toLowerCase())) {
    throw badArgument(`The instance type '${instanceType}' is not supported for managed online deployments.`, 'properties.instanceType');
  }
  if (ep.provisioningState === 'Deleting') throw new ArmError(409, 'Conflict', `Online endpoint '${ep.name}' is being deleted.`);
  conflictIfBusy(core, ep.name);
  const existing = core.deployment(ep.name, name);
  if (!existing) {
    const onEndpoint = core.deploymentsOf(ep.name).length;
    if (onEndpoint >= LIMITS.deploymentsPerEndpoint) {
      throw new ArmError(400, 'QuotaExceeded', `Online endpoint '${ep.name}' already has ${onEndpoint} deployments; the limit is ${LIMITS.deploymentsPerEndpoint}.`);
    }
    const inSub = Object.values(core.state.deployments).filter((d) => eq(core.endpoint(d.endpoint)?.subscriptionId, ep.subscriptionId)).length;
    if (inSub >= LIMITS.deploymentsPerSubscription) {
      throw new ArmError(400, 'QuotaExceeded', `The subscription already has ${inSub} online deployments; the limit is ${LIMITS.deploymentsPerSubscription}.`);
    }
  }
  const capacity = body.sku?.capacity ?? 1;
  const record: DeploymentRecord = {
    endpoint: ep.name,
    name: existing?.name ?? name,
    location: body.location,
    tags: { ...(body.tags ?? {}) },
    kind: body.kind ?? 'Managed',
    ...(body.identity ? { identity: clean(body.identity) } : {}),
    // Azure keeps what the caller sent in sku (tier, size, family) and returns it.
    sku: { name: body.sku?.name ?? 'Default', capacity, ...(body.sku?.tier ? { tier: body.sku.tier } : {}), ...(body.sku?.size ? { size: body.sku.size } : {}), ...(body.sku?.family ? { family: body.sku.family } : {}) },
    appliedCapacity: existing?.appliedCapacity ?? capacity,
    properties: {
      ...clean(p),
      endpointComputeType: 'Managed',
      ...(p.model ? { model: p.model } : {}),
      instanceType,
      scaleSettings: p.scaleSettings ? clean(p.scaleSettings) : { scaleType: 'Default' },
      requestSettings: { ...REQUEST_DEFAULTS, ...clean(p.requestSettings) },
      livenessProbe: { ...PROBE_DEFAULTS, ...clean(p.livenessProbe) },
      readinessProbe: { ...PROBE_DEFAULTS, ...clean(p.readinessProbe) },
      appInsightsEnabled: p.appInsightsEnabled ?? false,
      egressPublicNetworkAccess: p.egressPublicNetworkAccess ?? 'Enabled',
      properties: { ...(existing?.properties.properties as Record<string, string> | undefined), ...(p.properties ?? {}) },
    },
    provisioningState: existing ? 'Updating' : 'Creating',
    systemData: systemData(existing?.systemData),
  };
  if (p.dataCollector) record.properties.dataCollector = normalizeDataCollector(p.dataCollector);
  else delete record.properties.dataCollector;
  const collecting = enabledCollections(record.properties.dataCollector as DataCollectorSpec | undefined).length > 0;
  if (collecting && !core.blobStore.enabled) {
    throw badArgument('Data collection needs the workspace blob store, and this emulator runs without one (blob storage off); start it without --no-blob-storage or give --blob-endpoint.', 'properties.dataCollector');
  }
  core.state.deployments[deploymentKey(ep.name, name)] = record;
  const key = deploymentKey(ep.name, name);
  const op = core.startOperation(
    { kind: existing ? 'deployment-update' : 'deployment-create', subscriptionId: ep.subscriptionId, region: ep.location, endpoint: ep.name, deployment: record.name, resourcePath: ctx.path },
    async () => {
      const fault = core.faults.takeProvisioningFailure(ep.name, record.name);
      if (fault) {
        core.log(key, `[InferenceServer] Provisioning failed: ${fault.code}: ${fault.message}`);
        throw fault;
      }
      const model = record.properties.model === undefined ? CONTAINER_STAND_IN : (resolveModel(record.properties.model) ?? (isRegisteredModel(core, record.properties.model) ? CONTAINER_STAND_IN : undefined));
      if (!model) {
        const msg = `Model '${record.properties.model}' was not found in workspace '${ep.workspace}' or the registry it names. Check the model name and version.`;
        core.log(key, `[StorageInitializer] ${msg}`);
        throw { code: 'ResourceNotFound', message: msg };
      }
      if (collecting) {
        // The data collector writes to the workspace's blob store: start it (Azurite, once) with the deployment.
        try {
          await core.blobStore.ensureContainer(workspaceContainer(workspaceGuid(ep.subscriptionId, ep.resourceGroup, ep.workspace)));
        } catch (e) {
          throw { code: 'DataCollectionStorageUnavailable', message: `The workspace blob store for data collection could not be reached: ${(e as Error).message}` };
        }
      }
      // An environment with a Docker build context is built (once) before the container starts.
      await buildEnvironmentImage(core, typeof record.properties.environmentId === 'string' ? record.properties.environmentId : undefined, (line) => core.log(key, line)).catch((e: { code?: string; message?: string }) => {
        core.log(key, `[InferenceServer] Image build: ${e.message ?? String(e)}`);
        throw { code: e.code ?? 'ImageBuildFailure', message: e.message ?? String(e) };
      });
      let container;
      try {
        container = await core.startContainer(record);
      } catch (e) {
        throw { code: 'ResourceNotReady', message: `User container for deployment '${record.name}' crashed while starting: ${(e as Error).message}` };
      }
      return () => {
        core.installContainer(record, container);
        record.provisioningState = 'Succeeded';
        delete record.lastError;
        record.appliedCapacity = record.sku.capacity;
        core.metrics.setCapacity(key, record.sku.capacity);
      };
    },
    (error) => {
      record.provisioningState = 'Failed';
      record.lastError = error;
    },
  );
  return { status: existing ? 200 : 201, body: deploymentResource(core, record), headers: asyncHeaders(core, op, ctx.query.get('api-version') ?? '') };
}

function patchDeployment(core: EmulatorCore, ctx: RequestContext, endpoint: string, name: string): Reply {
  const dep = core.deployment(endpoint, name);
  if (!dep) throw notFound(`online deployment '${name}' of endpoint '${endpoint}'`);
  const body = parseBody(deploymentPatchSchema, parseJson(ctx.body) ?? {}, 'online deployment update');
  conflictIfBusy(core, dep.endpoint);
  const before = { ...dep.sku };
  if (body.tags) dep.tags = { ...body.tags };
  const scaling = body.sku?.capacity !== undefined && body.sku.capacity !== null && body.sku.capacity !== dep.sku.capacity;
  if (body.sku) dep.sku = { ...dep.sku, ...(clean(body.sku) as Partial<DeploymentRecord['sku']>) };
  dep.provisioningState = scaling ? 'Scaling' : 'Updating';
  dep.systemData = systemData(dep.systemData);
  const key = deploymentKey(dep.endpoint, dep.name);
  const op = core.startOperation(
    { kind: 'deployment-patch', subscriptionId: core.endpoint(dep.endpoint)?.subscriptionId ?? '', region: dep.location, endpoint: dep.endpoint, deployment: dep.name, resourcePath: ctx.path },
    () => {
      const fault = core.faults.takeProvisioningFailure(dep.endpoint, dep.name);
      if (fault) return Promise.reject(fault);
      return Promise.resolve(() => {
        dep.provisioningState = 'Succeeded';
        delete dep.lastError;
        dep.appliedCapacity = dep.sku.capacity;
        core.metrics.setCapacity(key, dep.sku.capacity);
      });
    },
    (error) => {
      dep.sku = before;
      dep.provisioningState = 'Failed';
      dep.lastError = error;
    },
  );
  return { status: 202, headers: acceptedHeaders(core, op, ctx.query.get('api-version') ?? '') };
}

function deleteDeployment(core: EmulatorCore, ctx: RequestContext, endpoint: string, name: string): Reply {
  const ep = core.endpoint(endpoint);
  if (!ep) throw notFound(`online endpoint '${endpoint}'`);
  const dep = core.deployment(endpoint, name);
  if (!dep) return { status: 204 };
  checkDeletion(dep.name, { live: ep.traffic, mirror: ep.mirrorTraffic });
  conflictIfBusy(core, ep.name);
  dep.provisioningState = 'Deleting';
  const key = deploymentKey(ep.name, dep.name);
  const op = core.startOperation(
    { kind: 'deployment-delete', subscriptionId: ep.subscriptionId, region: ep.location, endpoint: ep.name, deployment: dep.name, resourcePath: ctx.path },
    () =>
      Promise.resolve(() => {
        delete core.state.deployments[key];
        core.metrics.setCapacity(key, 0);
        void core.stopContainer(ep.name, dep.name);
      }),
    () => void (dep.provisioningState = 'Failed'),
  );
  return { status: 202, headers: acceptedHeaders(core, op, ctx.query.get('api-version') ?? '') };
}

function getLogs(core: EmulatorCore, ctx: RequestContext, endpoint: string, name: string): Reply {
  const dep = core.deployment(endpoint, name);
  if (!dep) throw notFound(`online deployment '${name}' of endpoint '${endpoint}'`);
  const body = parseBody(getLogsSchema, parseJson(ctx.body), 'get logs');
  const container = body?.containerType ?? 'InferenceServer';
  const lines = (core.logs.get(deploymentKey(dep.endpoint, dep.name)) ?? []).filter((l) => l.includes(`[${container}]`));
  const tail = body?.tail ?? lines.length;
  return { status: 200, body: { content: lines.slice(Math.max(0, lines.length - tail)).join('\n') } };
}

// ---- models ----

function modelVersionResource(prefix: string, name: string, version: string): Record<string, unknown> | undefined {
  const m = findModel(name, version);
  if (!m) return undefined;
  return {
    id: `${prefix}/models/${m.name}/versions/${m.version}`,
    name: m.version,
    type: prefix.includes('/registries/') ? `${PROVIDER}/registries/models/versions` : `${PROVIDER}/workspaces/models/versions`,
    properties: {
      description: m.description,
      tags: m.tags,
      properties: {},
      isArchived: false,
      isAnonymous: false,
      modelType: 'custom_model',
      modelUri: `azureml://emulator/models/${m.name}/versions/${m.version}`,
      jobName: null,
      flavors: { python_function: { data: { loader_module: 'glidepath_emulator.models' } } },
    },
    systemData: { ...systemData(), createdAt: modelCreatedAt(m), lastModifiedAt: modelCreatedAt(m) },
  };
}

function modelRoutes(core: EmulatorCore, ctx: RequestContext, prefix: string, rest: string[]): Reply {
  if (ctx.method !== 'GET') throw new ArmError(405, 'MethodNotAllowed', `The model registry of the emulator is read-only (${ctx.method} is not allowed).`);
  const [, name, versions, version] = rest;
  if (rest.length === 1) {
    const names = [...new Set(shippedModels.map((m) => m.name))];
    return { status: 200, body: { value: names.map((n) => ({ id: `${prefix}/models/${n}`, name: n, type: `${PROVIDER}/workspaces/models`, properties: {} })) } };
  }
  if (!name) throw notFound('model');
  const mine = shippedModels.filter((m) => m.name === name);
  if (rest.length === 2) {
    if (mine.length === 0) throw notFound(`model '${name}'`);
    return { status: 200, body: { id: `${prefix}/models/${name}`, name, type: `${PROVIDER}/workspaces/models`, properties: { latestVersion: mine[mine.length - 1]?.version } } };
  }
  if (!eq(versions, 'versions')) throw notFound(ctx.path);
  if (rest.length === 3) {
    // `$orderBy=createdtime desc` and `$top=1` are how the Azure ML CLI resolves `azureml:<name>@latest`.
    // Versions registered with PUT (uploaded models) are listed with the shipped ones (a shipped version wins a clash, as GET does).
    const orderBy = (ctx.query.get('$orderBy') ?? '').trim().toLowerCase();
    const rows: { version: string; createdAt: string; render: () => unknown }[] = [
      ...mine.map((x) => ({ version: x.version, createdAt: modelCreatedAt(x), render: () => modelVersionResource(prefix, x.name, x.version) })),
      ...registeredModelVersions(core, prefix, name)
        .filter((r) => !mine.some((x) => x.version === r.version))
        .map((r) => ({ version: r.version, createdAt: r.createdAt, render: () => r.resource })),
    ];
    if (orderBy !== '') {
      const m = /^(createdtime|version)\s*(asc|desc)?$/.exec(orderBy);
      if (!m) throw badArgument(`Invalid $orderBy '${ctx.query.get('$orderBy') ?? ''}': order model versions by createdtime or version, asc or desc.`, '$orderBy');
      const key = (x: (typeof rows)[number]) => (m[1] === 'version' ? Number(x.version) : Date.parse(x.createdAt));
      rows.sort((a, b) => (key(a) - key(b)) * (m[2] === 'desc' ? -1 : 1));
    }
    return page(core, ctx, rows, (r) => r.render());
  }
  if (rest.length === 4 && version) {
    const r = modelVersionResource(prefix, name, version);
    if (!r) throw notFound(`model version '${name}:${version}'`);
    return { status: 200, body: r };
  }
  throw notFound(ctx.path);
}

// ---- routing ----

const methodNotAllowed = (ctx: RequestContext): ArmError =>
  new ArmError(405, 'MethodNotAllowed', `The requested resource does not support http method '${ctx.method}'.`);

/** Handles every ARM path under /subscriptions/… (except metrics). */
export function handleArm(core: EmulatorCore, ctx: RequestContext): Reply {
  const s = ctx.segments;
  if (!ctx.query.get('api-version')) {
    throw new ArmError(400, 'MissingApiVersionParameter', "The api-version query parameter (?api-version=) is required for all requests.");
  }
  // /subscriptions/{sub}/providers/Microsoft.MachineLearningServices/locations/{region}/mfeOperations…/{id}
  if (s.length === 8 && eq(s[0], 'subscriptions') && eq(s[2], 'providers') && eq(s[3], PROVIDER) && eq(s[4], 'locations')) {
    const op = core.state.operations[s[7] ?? ''];
    if (ctx.method !== 'GET') throw methodNotAllowed(ctx);
    if (!op) throw notFound(`operation '${s[7] ?? ''}'`);
    if (eq(s[6], 'mfeOperationsStatus')) return operationStatus(op, ctx.path);
    if (eq(s[6], 'mfeOperationResults')) return operationResult(core, op);
    throw notFound(ctx.path);
  }
  if (!(s.length >= 8 && eq(s[0], 'subscriptions') && eq(s[2], 'resourceGroups') && eq(s[4], 'providers') && eq(s[5], PROVIDER))) {
    throw notFound(ctx.path);
  }
  const subscriptionId = s[1] ?? '';
  const resourceGroup = s[3] ?? '';
  if (!/^[-\w._()]{1,90}$/.test(resourceGroup) || resourceGroup.endsWith('.')) {
    throw badArgument(`The resource group name '${resourceGroup}' is not valid.`, 'resourceGroupName');
  }
  const prefix = `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/${PROVIDER}/${s[6] ?? ''}/${s[7] ?? ''}`;
  const rest = s.slice(8);
  if (eq(s[6], 'registries')) {
    if (eq(rest[0], 'models')) return modelRoutes(core, ctx, prefix, rest);
    throw notFound(ctx.path);
  }
  if (!eq(s[6], 'workspaces')) throw notFound(ctx.path);
  const w: WorkspacePath = { subscriptionId, resourceGroup, workspace: s[7] ?? '' };
  checkWorkspaceName(w.workspace);
  if (rest.length === 0) {
    if (ctx.method !== 'GET') throw methodNotAllowed(ctx);
    return {
      status: 200,
      body: { id: wsPrefix(w), name: w.workspace, type: `${PROVIDER}/workspaces`, location: 'eastus', properties: { provisioningState: 'Succeeded', friendlyName: w.workspace } },
    };
  }
  if (eq(rest[0], 'models')) return modelRoutes(core, ctx, wsPrefix(w), rest);
  if (!eq(rest[0], 'onlineEndpoints')) throw notFound(ctx.path);
  const epName = rest[1];
  const inWorkspace = (ep: EndpointRecord | undefined): EndpointRecord | undefined =>
    ep && eq(ep.subscriptionId, w.subscriptionId) && eq(ep.resourceGroup, w.resourceGroup) && eq(ep.workspace, w.workspace) ? ep : undefined;

  if (rest.length === 1) {
    if (ctx.method !== 'GET') throw methodNotAllowed(ctx);
    let eps = Object.values(core.state.endpoints).filter((e) => inWorkspace(e));
    const nameFilter = ctx.query.get('name');
    if (nameFilter) eps = eps.filter((e) => e.name.toLowerCase().includes(nameFilter.toLowerCase()));
    eps.sort((a, b) => a.systemData.createdAt.localeCompare(b.systemData.createdAt) || a.name.localeCompare(b.name));
    return page(core, ctx, eps, (e) => endpointResource(core, e), { countParam: true });
  }
  if (!epName) throw notFound(ctx.path);
  const existingEp = inWorkspace(core.endpoint(epName));
  if (rest.length === 2) {
    switch (ctx.method) {
      case 'GET':
        if (!existingEp) throw notFound(`online endpoint '${epName}'`);
        return { status: 200, body: endpointResource(core, existingEp) };
      case 'PUT':
        return putEndpoint(core, ctx, w, epName);
      case 'PATCH':
        if (!existingEp) throw notFound(`online endpoint '${epName}'`);
        return patchEndpoint(core, ctx, epName);
      case 'DELETE':
        if (!existingEp) return { status: 204 };
        return deleteEndpoint(core, ctx, epName);
      default:
        throw methodNotAllowed(ctx);
    }
  }
  if (!existingEp) throw notFound(`online endpoint '${epName}'`);
  if (rest.length === 3 && !eq(rest[2], 'deployments')) {
    if (ctx.method !== 'POST') throw methodNotAllowed(ctx);
    return endpointAction(core, ctx, existingEp.name, (rest[2] ?? '').toLowerCase());
  }
  if (!eq(rest[2], 'deployments')) throw notFound(ctx.path);
  if (rest.length === 3) {
    if (ctx.method !== 'GET') throw methodNotAllowed(ctx);
    const deps = core.deploymentsOf(existingEp.name);
    const orderBy = ctx.query.get('$orderBy');
    if (orderBy && /name/i.test(orderBy)) deps.sort((a, b) => (/desc/i.test(orderBy) ? b.name.localeCompare(a.name) : a.name.localeCompare(b.name)));
    return page(core, ctx, deps, (d) => deploymentResource(core, d));
  }
  const depName = rest[3] ?? '';
  if (rest.length === 4) {
    switch (ctx.method) {
      case 'GET': {
        const dep = core.deployment(existingEp.name, depName);
        if (!dep) throw notFound(`online deployment '${depName}' of endpoint '${existingEp.name}'`);
        return { status: 200, body: deploymentResource(core, dep) };
      }
      case 'PUT':
        return putDeployment(core, ctx, existingEp.name, depName);
      case 'PATCH':
        return patchDeployment(core, ctx, existingEp.name, depName);
      case 'DELETE':
        return deleteDeployment(core, ctx, existingEp.name, depName);
      default:
        throw methodNotAllowed(ctx);
    }
  }
  if (rest.length === 5) {
    const dep = core.deployment(existingEp.name, depName);
    if (!dep) throw notFound(`online deployment '${depName}' of endpoint '${existingEp.name}'`);
    if (eq(rest[4], 'getLogs')) {
      if (ctx.method !== 'POST') throw methodNotAllowed(ctx);
      return getLogs(core, ctx, existingEp.name, dep.name);
    }
    if (eq(rest[4], 'skus')) {
      if (ctx.method !== 'GET') throw methodNotAllowed(ctx);
      return page(
        core,
        ctx,
        [
          {
            resourceType: `${PROVIDER}/workspaces/onlineEndpoints/deployments`,
            sku: { name: 'Default', tier: 'Standard' },
            capacity: { minimum: 1, maximum: 50, default: 1, scaleType: 'Manual' },
          },
        ],
        (x) => x,
      );
    }
  }
  throw notFound(ctx.path);
}

/** The request timeout of a deployment in ms (requestSettings.requestTimeout, default 5 s). */
export function requestTimeoutMs(dep: DeploymentRecord): number {
  const rs = dep.properties.requestSettings as { requestTimeout?: string } | undefined;
  return parseIsoDuration(rs?.requestTimeout ?? 'PT5S') ?? 5000;
}

/** Requests a deployment may have in flight before it answers 429: 2 × maxConcurrentRequestsPerInstance × instances. */
export function inflightLimit(dep: DeploymentRecord): number {
  const rs = dep.properties.requestSettings as { maxConcurrentRequestsPerInstance?: number } | undefined;
  return 2 * (rs?.maxConcurrentRequestsPerInstance ?? 1) * dep.appliedCapacity;
}
