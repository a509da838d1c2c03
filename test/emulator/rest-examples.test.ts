// Conformance with the shapes of Azure's published REST examples for Azure ML, api-version 2025-12-01
// (Azure/azure-rest-api-specs, specification/machinelearningservices/resource-manager/
// Microsoft.MachineLearningServices/stable/2025-12-01/examples/; listKeys from stable/2025-06-01, the
// newest version whose example we read). The examples themselves are NOT copied into this repository:
// each case below is written by us in an example's shape — the operation, its method and path template,
// its api-version, a request body with the same keys and structure and the API's enum values
// (endpointComputeType Managed, authMode Key, pendingUploadType TemporaryBlobReference, …) but our own
// names, descriptions, tags, URIs and image names — together with the status codes the operation
// documents and the key names its example response has at the top level and under `properties` (key names
// are facts of the API, not text).
//
// Each case is sent raw over HTTPS (trusting the emulator's CA) to the emulator's workspace. The answer
// must carry a documented status; long-running operations must say where to poll (Azure-AsyncOperation, or
// Location for a 202) and are followed to the end as the SDK follows them; the body must have the
// expected keys (the shape, not the values). REFUSALS are what the emulator deliberately does not do: for
// each the test asserts a 400 naming the field; emulator/README.md ("Azure's REST examples") lists them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Emulator } from '../../emulator/index.js';
import { raw, startTestEmulator, WS_PATH, type RawResponse } from './support.js';

/** The keys every tracked ARM resource of these operations has at the top level. */
const TRACKED = ['id', 'name', 'type', 'properties', 'systemData', 'tags', 'location', 'kind', 'identity', 'sku'];
/** The keys of a workspace asset version or datastore (a proxy resource: no location, identity or sku). */
const PROXY = ['id', 'name', 'type', 'properties', 'systemData'];
const ENDPOINT_PROPERTIES = ['description', 'properties', 'scoringUri', 'swaggerUri', 'authMode', 'provisioningState', 'compute', 'traffic'];
const DEPLOYMENT_PROPERTIES = ['description', 'properties', 'codeConfiguration', 'environmentId', 'environmentVariables', 'scaleSettings', 'requestSettings', 'appInsightsEnabled', 'livenessProbe', 'provisioningState', 'instanceType', 'model', 'endpointComputeType', 'modelMountPath', 'readinessProbe'];
const CODE_PROPERTIES = ['description', 'tags', 'properties', 'isAnonymous', 'codeUri'];
const MODEL_PROPERTIES = ['description', 'tags', 'properties', 'isAnonymous', 'flavors', 'modelType', 'modelUri'];
const ENVIRONMENT_PROPERTIES = ['description', 'tags', 'properties', 'isAnonymous', 'environmentType', 'image', 'condaFile', 'build', 'inferenceConfig'];
const DATASTORE_PROPERTIES = ['description', 'tags', 'isDefault', 'properties', 'credentials', 'datastoreType', 'accountName', 'containerName', 'endpoint', 'protocol'];

interface Keys {
  top: string[];
  properties?: string[];
}

/** One operation in the shape of its published example. `path` is relative to the workspace; {x} are filled per call. */
interface Case {
  /** The operation id; a suffix in parentheses tells two examples of one operation apart. */
  op: string;
  method: 'GET' | 'PUT' | 'PATCH' | 'POST' | 'DELETE';
  path: string;
  api: string;
  body?: Record<string, unknown>;
  /** The status codes the example documents. */
  statuses: number[];
  /** The expected response keys (for a list: `value` and `nextLink` at the top, `item` for value[0]). */
  keys?: Keys;
  item?: Keys;
}

const API = '2025-12-01';

const endpointBody = (authMode: 'Key' | 'AMLToken' = 'AMLToken'): Record<string, unknown> => ({
  identity: { type: 'SystemAssigned', userAssignedIdentities: {} },
  kind: 'glidepath-shapes',
  location: 'westeurope',
  properties: {
    description: 'Shape check of an online endpoint written for Glidepath',
    authMode,
    compute: 'glidepath-managed-pool',
    properties: { owner: 'rollout-team' },
    traffic: {},
  },
  sku: { name: 'Default', capacity: 1, family: 'DSv2', size: 'Standard_DS3_v2', tier: 'Standard' },
  tags: { purpose: 'rest-shapes' },
});

const probe = (failureThreshold: number, period: string, initialDelay: string) => ({ failureThreshold, successThreshold: 1, timeout: 'PT3S', period, initialDelay });

const managedDeploymentBody = (): Record<string, unknown> => ({
  properties: {
    description: 'A managed deployment of the shipped fraud model, for the shape check',
    properties: { rollout: 'shapes' },
    codeConfiguration: { codeId: 'azureml:glidepath-scorer:4', scoringScript: 'serve.py' },
    environmentId: 'azureml:glidepath-serving:2',
    environmentVariables: { SCORER_WORKERS: '2' },
    scaleSettings: { scaleType: 'Default' },
    requestSettings: { maxQueueWait: 'PT2S', requestTimeout: 'PT90S', maxConcurrentRequestsPerInstance: 2 },
    appInsightsEnabled: true,
    livenessProbe: probe(4, 'PT15S', 'PT20S'),
    instanceType: 'Standard_DS3_v2',
    model: 'azureml:fraud-detector:1',
    endpointComputeType: 'Managed',
    modelMountPath: '/var/glidepath/model',
    readinessProbe: probe(20, 'PT5S', 'PT2S'),
    startupProbe: probe(6, 'PT5S', 'PT10S'),
  },
  tags: { color: 'blue' },
  location: 'westeurope',
  kind: 'glidepath-shapes',
  identity: { type: 'SystemAssigned', userAssignedIdentities: {} },
  sku: { name: 'Default', tier: 'Standard', size: 'Standard_DS3_v2', family: 'DSv2', capacity: 1 },
});

const kubernetesDeploymentBody = (): Record<string, unknown> => {
  const body = managedDeploymentBody() as { properties: Record<string, unknown> };
  delete body.properties.readinessProbe;
  delete body.properties.startupProbe;
  body.properties.endpointComputeType = 'Kubernetes';
  body.properties.containerResourceRequirements = {
    containerResourceRequests: { cpu: '500m', memory: '1Gi', gpu: '0' },
    containerResourceLimits: { cpu: '2', memory: '4Gi', gpu: '0' },
  };
  return body;
};

const environmentBody = (): Record<string, unknown> => ({
  properties: {
    description: 'Scoring image for the Glidepath shape check',
    tags: { stack: 'python-3.11' },
    properties: { builtBy: 'glidepath-tests' },
    isAnonymous: false,
    image: 'glidepathshapes.azurecr.io/scoring/tabular:2026.11',
    condaFile: 'name: shapes-scoring\ndependencies:\n  - python=3.11\n  - pip:\n      - scikit-learn==1.5.2\n',
    inferenceConfig: {
      livenessRoute: { path: '/alive', port: 5001 },
      readinessRoute: { path: '/ready', port: 5001 },
      scoringRoute: { path: '/predict', port: 5001 },
    },
  },
});

/** The operations, in the order the tests use them. */
const CASES: Case[] = [
  { op: 'OnlineEndpoints_CreateOrUpdate', method: 'PUT', path: 'onlineEndpoints/{endpoint}', api: API, body: endpointBody(), statuses: [200, 201], keys: { top: TRACKED, properties: ENDPOINT_PROPERTIES } },
  { op: 'OnlineEndpoints_Get', method: 'GET', path: 'onlineEndpoints/{endpoint}', api: API, statuses: [200], keys: { top: TRACKED, properties: ENDPOINT_PROPERTIES } },
  { op: 'OnlineEndpoints_List', method: 'GET', path: 'onlineEndpoints?count=1&computeType=Managed&orderBy=CreatedAtDesc', api: API, statuses: [200], keys: { top: ['value', 'nextLink'] }, item: { top: TRACKED, properties: ENDPOINT_PROPERTIES } },
  {
    op: 'OnlineEndpoints_Update',
    method: 'PATCH',
    path: 'onlineEndpoints/{endpoint}',
    api: API,
    body: { tags: { stage: 'canary' }, identity: { type: 'SystemAssigned', userAssignedIdentities: {} } },
    statuses: [200, 202],
    keys: { top: TRACKED, properties: ENDPOINT_PROPERTIES },
  },
  { op: 'OnlineEndpoints_GetToken', method: 'POST', path: 'onlineEndpoints/{endpoint}/token', api: API, statuses: [200], keys: { top: ['accessToken', 'tokenType', 'expiryTimeUtc', 'refreshAfterTimeUtc'] } },
  { op: 'OnlineEndpoints_ListKeys', method: 'POST', path: 'onlineEndpoints/{endpoint}/listKeys', api: '2025-06-01', statuses: [200], keys: { top: ['primaryKey', 'secondaryKey'] } },
  { op: 'OnlineEndpoints_RegenerateKeys', method: 'POST', path: 'onlineEndpoints/{endpoint}/regenerateKeys', api: API, body: { keyType: 'Primary', keyValue: 'shapes-rotated-primary-0001' }, statuses: [200, 202] },
  { op: 'OnlineEndpoints_Delete', method: 'DELETE', path: 'onlineEndpoints/{endpoint}', api: API, statuses: [200, 202, 204] },
  {
    op: 'OnlineDeployments_CreateOrUpdate (Managed)',
    method: 'PUT',
    path: 'onlineEndpoints/{endpoint}/deployments/{deployment}',
    api: API,
    body: managedDeploymentBody(),
    statuses: [200, 201],
    keys: { top: TRACKED, properties: [...DEPLOYMENT_PROPERTIES, 'startupProbe'] },
  },
  {
    op: 'OnlineDeployments_CreateOrUpdate (Kubernetes)',
    method: 'PUT',
    path: 'onlineEndpoints/{endpoint}/deployments/{deployment}',
    api: API,
    body: kubernetesDeploymentBody(),
    statuses: [200, 201],
    keys: { top: TRACKED, properties: [...DEPLOYMENT_PROPERTIES.filter((k) => k !== 'readinessProbe'), 'containerResourceRequirements'] },
  },
  { op: 'OnlineDeployments_Get', method: 'GET', path: 'onlineEndpoints/{endpoint}/deployments/{deployment}', api: API, statuses: [200], keys: { top: TRACKED, properties: DEPLOYMENT_PROPERTIES } },
  {
    op: 'OnlineDeployments_Update',
    method: 'PATCH',
    path: 'onlineEndpoints/{endpoint}/deployments/{deployment}',
    api: API,
    body: { tags: { color: 'blue', reviewed: 'yes' }, sku: { name: 'Default', tier: 'Standard', size: 'Standard_DS3_v2', family: 'DSv2', capacity: 1 } },
    statuses: [200, 202],
    keys: { top: TRACKED, properties: [...DEPLOYMENT_PROPERTIES, 'startupProbe'] },
  },
  {
    op: 'OnlineDeployments_List',
    method: 'GET',
    path: 'onlineEndpoints/{endpoint}/deployments?$top=1',
    api: API,
    statuses: [200],
    keys: { top: ['value', 'nextLink'] },
    // The example's item is a Kubernetes deployment (it has containerResourceRequirements, no readinessProbe).
    item: { top: TRACKED, properties: [...DEPLOYMENT_PROPERTIES.filter((k) => k !== 'readinessProbe'), 'containerResourceRequirements'] },
  },
  { op: 'OnlineDeployments_GetLogs', method: 'POST', path: 'onlineEndpoints/{endpoint}/deployments/{deployment}/getLogs', api: API, body: { containerType: 'InferenceServer', tail: 25 }, statuses: [200], keys: { top: ['content'] } },
  {
    op: 'OnlineDeployments_ListSkus',
    method: 'GET',
    path: 'onlineEndpoints/{endpoint}/deployments/{deployment}/skus?count=1',
    api: API,
    statuses: [200],
    keys: { top: ['value', 'nextLink'] },
    item: { top: ['resourceType', 'sku', 'capacity'] },
  },
  { op: 'OnlineDeployments_Delete', method: 'DELETE', path: 'onlineEndpoints/{endpoint}/deployments/{deployment}', api: API, statuses: [200, 202, 204] },
  {
    op: 'CodeVersions_CreateOrUpdate',
    method: 'PUT',
    path: 'codes/{name}/versions/{version}',
    api: API,
    body: { properties: { description: 'Scorer source for the shape check', codeUri: 'https://glidepathshapes.blob.core.windows.net/code/scorer-4/', isAnonymous: false, properties: { commit: 'shapes-0001' }, tags: { language: 'python' } } },
    statuses: [200, 201],
    keys: { top: PROXY, properties: CODE_PROPERTIES },
  },
  { op: 'CodeVersions_Get', method: 'GET', path: 'codes/{name}/versions/{version}', api: API, statuses: [200], keys: { top: PROXY, properties: CODE_PROPERTIES } },
  { op: 'CodeVersions_List', method: 'GET', path: 'codes/{name}/versions?$top=1', api: API, statuses: [200], keys: { top: ['value', 'nextLink'] }, item: { top: PROXY, properties: CODE_PROPERTIES } },
  {
    op: 'CodeVersions_CreateOrGetStartPendingUpload',
    method: 'POST',
    path: 'codes/{name}/versions/{version}/startPendingUpload',
    api: API,
    body: { pendingUploadId: 'shapes-upload-0001', pendingUploadType: 'TemporaryBlobReference' },
    statuses: [200],
    keys: { top: ['blobReferenceForConsumption', 'pendingUploadId', 'pendingUploadType'] },
  },
  {
    op: 'ModelVersions_CreateOrUpdate',
    method: 'PUT',
    path: 'models/{name}/versions/{version}',
    api: API,
    body: {
      properties: {
        description: 'Gradient-boosted scorer registered by the shape check',
        tags: { task: 'classification' },
        properties: { trainedOn: '2026-11' },
        isAnonymous: false,
        flavors: { python_function: { data: { loader_module: 'glidepath_shapes.loader' } } },
        modelType: 'CustomModel',
        modelUri: 'azureml://datastores/workspaceblobstore/paths/shapes/scorer/',
      },
    },
    statuses: [200, 201],
    keys: { top: PROXY, properties: MODEL_PROPERTIES },
  },
  { op: 'ModelVersions_Get', method: 'GET', path: 'models/{name}/versions/{version}', api: API, statuses: [200], keys: { top: PROXY, properties: MODEL_PROPERTIES } },
  { op: 'ModelVersions_List', method: 'GET', path: 'models/{name}/versions?$top=1', api: API, statuses: [200], keys: { top: ['value', 'nextLink'] }, item: { top: PROXY, properties: MODEL_PROPERTIES } },
  { op: 'EnvironmentVersions_CreateOrUpdate', method: 'PUT', path: 'environments/{name}/versions/{version}', api: API, body: environmentBody(), statuses: [200, 201], keys: { top: PROXY, properties: ENVIRONMENT_PROPERTIES } },
  { op: 'EnvironmentVersions_Get', method: 'GET', path: 'environments/{name}/versions/{version}', api: API, statuses: [200], keys: { top: PROXY, properties: ENVIRONMENT_PROPERTIES } },
  { op: 'EnvironmentVersions_List', method: 'GET', path: 'environments/{name}/versions?$top=1', api: API, statuses: [200], keys: { top: ['value', 'nextLink'] }, item: { top: PROXY, properties: ENVIRONMENT_PROPERTIES } },
  { op: 'Datastores_Get', method: 'GET', path: 'datastores/{name}', api: API, statuses: [200], keys: { top: PROXY, properties: DATASTORE_PROPERTIES } },
  { op: 'Datastores_List', method: 'GET', path: 'datastores?count=1&isDefault=true', api: API, statuses: [200], keys: { top: ['value', 'nextLink'] }, item: { top: PROXY, properties: DATASTORE_PROPERTIES } },
  { op: 'Datastores_ListSecrets', method: 'POST', path: 'datastores/{name}/listSecrets', api: API, statuses: [200], keys: { top: ['secretsType', 'key'] } },
];

/**
 * What the emulator deliberately refuses, with the reason; each is asserted as a 400 naming `field`. The
 * same list is in emulator/README.md ("Azure's REST examples").
 */
const REFUSALS = {
  kubernetesDeployment: { op: 'OnlineDeployments_CreateOrUpdate (Kubernetes)', field: 'properties.endpointComputeType', why: 'endpointComputeType Kubernetes — the emulator models managed online endpoints only' },
  requestTimeoutOver180s: { op: 'OnlineDeployments_CreateOrUpdate (Managed)', field: 'properties.requestSettings.requestTimeout', why: 'requestSettings.requestTimeout PT4M (the published example has PT5M) — managed online endpoints allow at most 180 s' },
  environmentImageAndBuild: { op: 'EnvironmentVersions_CreateOrUpdate', field: 'properties.build', why: 'both properties.image and properties.build (as the published example has) — an environment is an image or a build context' },
  pendingUploadNone: { op: 'CodeVersions_CreateOrGetStartPendingUpload', field: 'pendingUploadType', why: 'pendingUploadType None (as the published example has) — the emulator hands out TemporaryBlobReference uploads only (what az ml asks for)' },
} as const;
type Refusal = keyof typeof REFUSALS;

/**
 * Expected keys the emulator's answer may lack, and why. A test names the ones it allows, so nothing is
 * excused silently.
 */
const ALLOWED_MISSING = {
  nextLink: 'ARM leaves nextLink out of the last page; $top caps a list in the emulator, so there is no next page',
  build: 'the environment was registered from an image (image with build is a refusal)',
  containerResourceRequirements: 'Kubernetes deployments only; the emulator lists managed ones',
} as const;
type Allowed = keyof typeof ALLOWED_MISSING;

let emu: Emulator;
before(async () => {
  emu = await startTestEmulator({ provisionTimeMs: 50 });
});
after(async () => {
  await emu?.close();
});

function caseOf(op: string): Case {
  const c = CASES.find((x) => x.op === op);
  assert.ok(c, `no case ${op}`);
  return c;
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** The case's request with its path parameters filled in (and `body` instead of the case's, if given). */
function send(c: Case, params: Record<string, string> = {}, body: unknown = c.body): Promise<RawResponse> {
  const path = c.path.replace(/\{(\w+)\}/g, (_, k: string) => {
    assert.ok(params[k], `${c.op}: path parameter ${k}`);
    return encodeURIComponent(params[k]);
  });
  const url = `${WS_PATH}/${path}${path.includes('?') ? '&' : '?'}api-version=${c.api}`;
  return raw(emu, c.method, url, body === undefined ? undefined : JSON.stringify(body));
}

function header(r: RawResponse, name: string): string | undefined {
  const v = r.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** Follows a long-running answer as the SDK does: Azure-AsyncOperation until terminal, else Location until not 202. */
async function complete(r: RawResponse): Promise<void> {
  const statusUrl = header(r, 'azure-asyncoperation');
  const location = header(r, 'location');
  assert.ok(statusUrl ?? location, 'a long-running answer carries Azure-AsyncOperation or Location');
  const deadline = Date.now() + 20_000;
  for (;;) {
    const s = await raw(emu, 'GET', (statusUrl ?? location)!);
    if (statusUrl) {
      assert.equal(s.status, 200, s.text);
      const state = (s.json as { status: string }).status;
      if (state === 'Succeeded') return;
      assert.ok(!['Failed', 'Canceled'].includes(state), `operation ended ${state}: ${s.text}`);
    } else if (s.status !== 202) {
      assert.ok(s.status < 300, s.text);
      return;
    }
    assert.ok(Date.now() < deadline, 'operation did not finish in 20 s');
    await new Promise((res) => setTimeout(res, 25));
  }
}

function assertStatus(r: RawResponse, c: Case): void {
  assert.ok(c.statuses.includes(r.status), `${c.op}: status ${r.status} is not one the operation documents (${c.statuses.join(', ')}): ${r.text}`);
}

/** `keys.top` are all in `actual`, and `keys.properties` in `actual.properties`, but for `allow`. */
function assertKeys(actual: unknown, keys: Keys | undefined, where: string, allow: Allowed[] = []): void {
  assert.ok(keys, `${where}: the case lists keys`);
  assert.ok(actual && typeof actual === 'object', `${where}: the answer has a JSON body`);
  const a = actual as Record<string, unknown>;
  const allowed = new Set<string>(allow);
  const missing = keys.top.filter((k) => !(k in a) && !allowed.has(k));
  const p = (a.properties ?? {}) as Record<string, unknown>;
  for (const k of keys.properties ?? []) if (!(k in p) && !allowed.has(k)) missing.push(`properties.${k}`);
  assert.deepEqual(missing, [], `${where}: keys of the documented response missing from the emulator's answer`);
}

/** A list answer: documented status, `value`/`nextLink` keys (but `allow`), `value[0]` with the item keys; returns the items. */
async function assertList(c: Case, params: Record<string, string>, allowTop: Allowed[] = [], allowItem: Allowed[] = []): Promise<Record<string, unknown>[]> {
  const r = await send(c, params);
  assertStatus(r, c);
  assertKeys(r.json, c.keys, c.op, allowTop);
  const value = (r.json as { value: Record<string, unknown>[] }).value;
  assert.ok(value.length >= 1, `${c.op}: at least one item: ${r.text}`);
  assertKeys(value[0], c.item, `${c.op} value[0]`, allowItem);
  return value;
}

/** A 400 in the ARM envelope whose message, target or details name `field`. */
function assertRefused(r: RawResponse, refusal: Refusal): void {
  const { field, why } = REFUSALS[refusal];
  assert.equal(r.status, 400, `${why}: ${r.text}`);
  const err = (r.json as { error: { message: string; target?: string; details?: { target?: string; message: string }[] } }).error;
  const text = [err.message, err.target ?? '', ...(err.details ?? []).flatMap((d) => [d.target ?? '', d.message])].join(' | ');
  assert.ok(text.includes(field), `${why}: the refusal names ${field}: ${text}`);
  refused.add(refusal);
}

/** The tally: which cases passed, which refusals were seen. */
const passed = new Set<string>();
const refused = new Set<Refusal>();

async function createEndpoint(endpoint: string, authMode: 'Key' | 'AMLToken' = 'AMLToken'): Promise<void> {
  const c = caseOf('OnlineEndpoints_CreateOrUpdate');
  const r = await send(c, { endpoint }, endpointBody(authMode));
  assert.equal(r.status, 201, r.text);
  await complete(r);
}

async function createDeployment(endpoint: string, deployment: string): Promise<void> {
  const r = await send(caseOf('OnlineDeployments_CreateOrUpdate (Managed)'), { endpoint, deployment });
  assert.equal(r.status, 201, r.text);
  await complete(r);
}

describe('online endpoints in the shape of the published examples', () => {
  test('CreateOrUpdate: 201 with Azure-AsyncOperation, followed to Succeeded; 200 on the second PUT; the documented keys; compute kept', async () => {
    const c = caseOf('OnlineEndpoints_CreateOrUpdate');
    const r = await send(c, { endpoint: 'shapes-create' });
    assertStatus(r, c);
    assert.equal(r.status, 201);
    assert.ok(header(r, 'azure-asyncoperation'), 'Azure-AsyncOperation on the first PUT');
    assertKeys(r.json, c.keys, 'PUT 201');
    await complete(r);
    const again = await send(c, { endpoint: 'shapes-create' });
    assert.equal(again.status, 200, again.text);
    assertKeys(again.json, c.keys, 'PUT 200');
    await complete(again);
    const g = (await send(caseOf('OnlineEndpoints_Get'), { endpoint: 'shapes-create' })).json as { identity: { type: string; principalId?: string }; properties: Record<string, unknown> };
    assert.equal(g.properties.provisioningState, 'Succeeded');
    assert.equal(g.properties.compute, 'glidepath-managed-pool', 'compute returned as sent');
    assert.equal(g.identity.type, 'SystemAssigned');
    assert.ok(g.identity.principalId, 'ARM fills in the system-assigned identity');
    passed.add(c.op);
  });

  test('Get: 200 with the documented keys; description as sent', async () => {
    const c = caseOf('OnlineEndpoints_Get');
    await createEndpoint('shapes-get');
    const r = await send(c, { endpoint: 'shapes-get' });
    assertStatus(r, c);
    assertKeys(r.json, c.keys, c.op);
    assert.equal((r.json as { properties: { description: string } }).properties.description, 'Shape check of an online endpoint written for Glidepath');
    passed.add(c.op);
  });

  test('List (count=1, computeType Managed, orderBy CreatedAtDesc): one item with the documented keys and a nextLink', async () => {
    const c = caseOf('OnlineEndpoints_List');
    await createEndpoint('shapes-list');
    const value = await assertList(c, {});
    assert.equal(value.length, 1, 'count=1 gives one item');
    passed.add(c.op);
  });

  test('Update (PATCH tags and identity): 202 with Location, followed; tags replaced; the documented keys', async () => {
    const c = caseOf('OnlineEndpoints_Update');
    await createEndpoint('shapes-update');
    const r = await send(c, { endpoint: 'shapes-update' });
    assertStatus(r, c);
    assert.equal(r.status, 202, 'the emulator answers PATCH asynchronously');
    assert.ok(header(r, 'location'), 'Location on the 202');
    await complete(r);
    const g = await send(caseOf('OnlineEndpoints_Get'), { endpoint: 'shapes-update' });
    assertKeys(g.json, c.keys, 'GET after PATCH');
    assert.deepEqual((g.json as { tags: unknown }).tags, { stage: 'canary' });
    passed.add(c.op);
  });

  test('GetToken (an AMLToken endpoint): 200 with the documented keys', async () => {
    const c = caseOf('OnlineEndpoints_GetToken');
    await createEndpoint('shapes-token');
    const r = await send(c, { endpoint: 'shapes-token' });
    assertStatus(r, c);
    assertKeys(r.json, c.keys, c.op);
    passed.add(c.op);
  });

  test('ListKeys (a Key endpoint): 200 with primaryKey and secondaryKey', async () => {
    const c = caseOf('OnlineEndpoints_ListKeys');
    await createEndpoint('shapes-keys', 'Key');
    const r = await send(c, { endpoint: 'shapes-keys' });
    assertStatus(r, c);
    assertKeys(r.json, c.keys, c.op);
    passed.add(c.op);
  });

  test('RegenerateKeys: 202 with Azure-AsyncOperation and Location, followed; the primary key becomes keyValue', async () => {
    const c = caseOf('OnlineEndpoints_RegenerateKeys');
    await createEndpoint('shapes-regen', 'Key');
    const r = await send(c, { endpoint: 'shapes-regen' });
    assertStatus(r, c);
    assert.equal(r.status, 202);
    assert.ok(header(r, 'azure-asyncoperation') && header(r, 'location'), 'both Azure-AsyncOperation and Location');
    await complete(r);
    const keys = await send(caseOf('OnlineEndpoints_ListKeys'), { endpoint: 'shapes-regen' });
    assert.equal((keys.json as { primaryKey: string }).primaryKey, 'shapes-rotated-primary-0001');
    passed.add(c.op);
  });

  test('Delete: 202 with Location, followed; then 404', async () => {
    const c = caseOf('OnlineEndpoints_Delete');
    await createEndpoint('shapes-delete');
    const r = await send(c, { endpoint: 'shapes-delete' });
    assertStatus(r, c);
    assert.equal(r.status, 202);
    assert.ok(header(r, 'location'));
    await complete(r);
    assert.equal((await send(caseOf('OnlineEndpoints_Get'), { endpoint: 'shapes-delete' })).status, 404);
    passed.add(c.op);
  });
});

describe('online deployments in the shape of the published examples', () => {
  const endpoint = 'shapes-deployments';
  before(async () => {
    await createEndpoint(endpoint);
  });

  test('CreateOrUpdate (Managed) with requestTimeout PT4M: 400 naming properties.requestSettings.requestTimeout [refusal]; nothing created', async () => {
    const c = caseOf('OnlineDeployments_CreateOrUpdate (Managed)');
    const body = clone(c.body) as { properties: { requestSettings: Record<string, unknown> } };
    body.properties.requestSettings.requestTimeout = 'PT4M';
    assertRefused(await send(c, { endpoint, deployment: 'shapes-slow' }, body), 'requestTimeoutOver180s');
    assert.equal((await send(caseOf('OnlineDeployments_Get'), { endpoint, deployment: 'shapes-slow' })).status, 404, 'nothing was created');
  });

  test('CreateOrUpdate (Managed): 201 with Azure-AsyncOperation, followed to Succeeded; the documented keys; probes kept', async () => {
    const c = caseOf('OnlineDeployments_CreateOrUpdate (Managed)');
    const r = await send(c, { endpoint, deployment: 'blue' });
    assertStatus(r, c);
    assert.equal(r.status, 201);
    assert.ok(header(r, 'azure-asyncoperation'));
    assertKeys(r.json, c.keys, 'PUT 201');
    await complete(r);
    const g = await send(caseOf('OnlineDeployments_Get'), { endpoint, deployment: 'blue' });
    assertKeys(g.json, c.keys, 'GET after PUT');
    const p = (g.json as { properties: Record<string, unknown> }).properties;
    const sent = (c.body as { properties: Record<string, unknown> }).properties;
    assert.equal(p.provisioningState, 'Succeeded');
    assert.deepEqual(p.startupProbe, sent.startupProbe, 'startupProbe kept as sent');
    assert.deepEqual(p.readinessProbe, sent.readinessProbe, 'readinessProbe kept as sent');
    assert.equal(p.modelMountPath, '/var/glidepath/model');
    passed.add(c.op);
  });

  test('Get: 200 with the documented keys', async () => {
    const c = caseOf('OnlineDeployments_Get');
    const r = await send(c, { endpoint, deployment: 'blue' });
    assertStatus(r, c);
    assertKeys(r.json, c.keys, c.op);
    passed.add(c.op);
  });

  test('Update (PATCH tags and sku): 202 with Location, followed; tags and sku as sent', async () => {
    const c = caseOf('OnlineDeployments_Update');
    const r = await send(c, { endpoint, deployment: 'blue' });
    assertStatus(r, c);
    assert.equal(r.status, 202);
    assert.ok(header(r, 'location'));
    await complete(r);
    const g = await send(caseOf('OnlineDeployments_Get'), { endpoint, deployment: 'blue' });
    assertKeys(g.json, c.keys, 'GET after PATCH');
    const got = g.json as { tags: unknown; sku: unknown };
    assert.deepEqual(got.tags, { color: 'blue', reviewed: 'yes' });
    assert.deepEqual(got.sku, (c.body as { sku: unknown }).sku);
    passed.add(c.op);
  });

  test('List ($top=1 of two deployments): one item with the documented keys', async () => {
    const c = caseOf('OnlineDeployments_List');
    await createDeployment(endpoint, 'green');
    const value = await assertList(c, { endpoint }, ['nextLink'], ['containerResourceRequirements']);
    assert.equal(value.length, 1, '$top=1 gives one item');
    passed.add(c.op);
  });

  test('GetLogs (InferenceServer, tail 25): 200 with content, a string', async () => {
    const c = caseOf('OnlineDeployments_GetLogs');
    const r = await send(c, { endpoint, deployment: 'blue' });
    assertStatus(r, c);
    assertKeys(r.json, c.keys, c.op);
    assert.equal(typeof (r.json as { content: unknown }).content, 'string');
    passed.add(c.op);
  });

  test('ListSkus (count=1): items with resourceType, sku {name, tier}, capacity {minimum, maximum, default, scaleType}', async () => {
    const c = caseOf('OnlineDeployments_ListSkus');
    const value = await assertList(c, { endpoint, deployment: 'blue' }, ['nextLink']);
    assert.deepEqual(Object.keys(value[0]!.sku as object).sort(), ['name', 'tier']);
    assert.deepEqual(Object.keys(value[0]!.capacity as object).sort(), ['default', 'maximum', 'minimum', 'scaleType']);
    passed.add(c.op);
  });

  test('CreateOrUpdate (Kubernetes): 400 naming properties.endpointComputeType [refusal]; nothing created', async () => {
    const c = caseOf('OnlineDeployments_CreateOrUpdate (Kubernetes)');
    const r = await send(c, { endpoint, deployment: 'shapes-k8s' });
    assertRefused(r, 'kubernetesDeployment');
    assert.match((r.json as { error: { message: string } }).error.message, /Kubernetes/);
    assert.equal((await send(caseOf('OnlineDeployments_Get'), { endpoint, deployment: 'shapes-k8s' })).status, 404, 'nothing was created');
  });

  test('Delete: 202 with Location, followed; then 404', async () => {
    const c = caseOf('OnlineDeployments_Delete');
    const r = await send(c, { endpoint, deployment: 'green' });
    assertStatus(r, c);
    assert.equal(r.status, 202);
    assert.ok(header(r, 'location'));
    await complete(r);
    assert.equal((await send(caseOf('OnlineDeployments_Get'), { endpoint, deployment: 'green' })).status, 404);
    passed.add(c.op);
  });
});

describe('workspace assets and datastores in the shape of the published examples', () => {
  const code = { name: 'shapes-scorer', version: '1' };
  const model = { name: 'shapes-model', version: '1' };
  const env = { name: 'shapes-env', version: '1' };

  /** PUT twice: 201 then 200, both with the documented keys (but `allow`). */
  async function putTwice(c: Case, params: Record<string, string>, allow: Allowed[] = []): Promise<void> {
    const r = await send(c, params);
    assertStatus(r, c);
    assert.equal(r.status, 201, r.text);
    assertKeys(r.json, c.keys, `${c.op} 201`, allow);
    const again = await send(c, params);
    assert.equal(again.status, 200, again.text);
    assertKeys(again.json, c.keys, `${c.op} 200`, allow);
  }

  async function get(c: Case, params: Record<string, string>, allow: Allowed[] = []): Promise<Record<string, unknown>> {
    const r = await send(c, params);
    assertStatus(r, c);
    assertKeys(r.json, c.keys, c.op, allow);
    return r.json as Record<string, unknown>;
  }

  test('CodeVersions CreateOrUpdate, Get, List: 201 then 200, the documented keys; codeUri as sent', async () => {
    await putTwice(caseOf('CodeVersions_CreateOrUpdate'), code);
    const g = await get(caseOf('CodeVersions_Get'), code);
    assert.equal((g.properties as { codeUri: string }).codeUri, 'https://glidepathshapes.blob.core.windows.net/code/scorer-4/');
    const value = await assertList(caseOf('CodeVersions_List'), code, ['nextLink']);
    assert.equal(value.length, 1);
    for (const op of ['CodeVersions_CreateOrUpdate', 'CodeVersions_Get', 'CodeVersions_List']) passed.add(op);
  });

  test('CodeVersions StartPendingUpload: None is 400 naming pendingUploadType [refusal]; TemporaryBlobReference answers the documented keys', async () => {
    const c = caseOf('CodeVersions_CreateOrGetStartPendingUpload');
    const params = { name: code.name, version: '2' };
    assertRefused(await send(c, params, { ...c.body, pendingUploadType: 'None' }), 'pendingUploadNone');
    const r = await send(c, params);
    assertStatus(r, c);
    assertKeys(r.json, c.keys, c.op);
    const ref = (r.json as { blobReferenceForConsumption: Record<string, unknown> }).blobReferenceForConsumption;
    assert.deepEqual(Object.keys(ref).sort(), ['blobUri', 'credential', 'storageAccountArmId']);
    assert.deepEqual(Object.keys(ref.credential as object).sort(), ['credentialType', 'sasUri']);
    assert.equal((r.json as { pendingUploadId: string }).pendingUploadId, 'shapes-upload-0001');
    passed.add(c.op);
  });

  test('ModelVersions CreateOrUpdate, Get, List: 201 then 200, the documented keys; the new version is listed', async () => {
    await putTwice(caseOf('ModelVersions_CreateOrUpdate'), model);
    const g = await get(caseOf('ModelVersions_Get'), model);
    assert.equal((g.properties as { modelType: string }).modelType, 'CustomModel');
    const value = await assertList(caseOf('ModelVersions_List'), model, ['nextLink']);
    assert.equal(value.length, 1);
    assert.equal(value[0]!.name, '1', 'the version registered with PUT');
    for (const op of ['ModelVersions_CreateOrUpdate', 'ModelVersions_Get', 'ModelVersions_List']) passed.add(op);
  });

  test('EnvironmentVersions: image and build together is 400 naming properties.build [refusal]; an image environment: 201 then 200, Get, List, the documented keys but build', async () => {
    const c = caseOf('EnvironmentVersions_CreateOrUpdate');
    const both = clone(c.body) as { properties: Record<string, unknown> };
    both.properties.build = { contextUri: 'https://glidepathshapes.blob.core.windows.net/builds/scoring-context/', dockerfilePath: 'docker/Dockerfile' };
    assertRefused(await send(c, env, both), 'environmentImageAndBuild');
    await putTwice(c, env, ['build']);
    const g = await get(caseOf('EnvironmentVersions_Get'), env, ['build']);
    assert.equal((g.properties as { environmentType: string }).environmentType, 'UserCreated');
    const value = await assertList(caseOf('EnvironmentVersions_List'), env, ['nextLink'], ['build']);
    assert.equal(value.length, 1);
    for (const op of ['EnvironmentVersions_CreateOrUpdate', 'EnvironmentVersions_Get', 'EnvironmentVersions_List']) passed.add(op);
  });

  test('Datastores Get, List (count=1, isDefault), ListSecrets of workspaceblobstore: 200 with the documented keys', async () => {
    const ds = { name: 'workspaceblobstore' };
    const g = await get(caseOf('Datastores_Get'), ds);
    assert.equal((g.properties as { datastoreType: string }).datastoreType, 'AzureBlob');
    await assertList(caseOf('Datastores_List'), {}, ['nextLink']);
    await get(caseOf('Datastores_ListSecrets'), ds);
    for (const op of ['Datastores_Get', 'Datastores_List', 'Datastores_ListSecrets']) passed.add(op);
  });
});

test('every case passed and every refusal was seen; the tally', () => {
  const refusalOps = new Set<string>(Object.values(REFUSALS).map((r) => r.op));
  // A case only used to be refused (Kubernetes) counts as a refusal, not a pass.
  const expected = CASES.map((c) => c.op).filter((op) => !(refusalOps.has(op) && op.includes('Kubernetes')));
  assert.deepEqual([...passed].sort(), expected.sort(), 'cases passed = cases in the table (but the Kubernetes refusal)');
  assert.deepEqual([...refused].sort(), (Object.keys(REFUSALS) as Refusal[]).sort(), 'every refusal asserted');
  console.log(`# REST shapes (Azure ML ${API}): ${CASES.length} cases; ${passed.size} passed; ${refused.size} refusals (400 naming the field)`);
  for (const [k, r] of Object.entries(REFUSALS)) console.log(`#   refusal ${k} (${r.op}): ${r.field} — ${r.why}`);
  for (const [k, why] of Object.entries(ALLOWED_MISSING)) console.log(`#   key allowed missing where a test says so, ${k}: ${why}`);
});
