// Workspace assets registered by clients (reference azure-ml-cli-assets.md §1 steps 4–9): code versions
// (`…/codes/{name}/versions/{v}`; anonymous environments `…/environments/{name}/versions/{v}`; with the CLI's `?hash=&hashVersion=` lookup that matches regardless of
// name) and model versions created with PUT (`…/models/{name}/versions/{v}`). Shipped models stay in
// emulator/models/registry.ts; model GETs that miss here fall through to it (handleArm).
import { randomUUID } from 'node:crypto';
import type { RequestContext } from './arm.js';
import type { EmulatorCore } from './core.js';
import { ArmError, badArgument, isoNow, notFound, parseJson, type Reply } from './http.js';

const PROVIDER = 'Microsoft.MachineLearningServices';
const eq = (a: string | undefined, b: string): boolean => a !== undefined && a.toLowerCase() === b.toLowerCase();

interface AssetVersion {
  kind: 'codes' | 'models' | 'environments';
  prefix: string;
  name: string;
  version: string;
  properties: Record<string, unknown>;
  createdAt: string;
}

const stores = new WeakMap<EmulatorCore, Map<string, AssetVersion>>();
function storeOf(core: EmulatorCore): Map<string, AssetVersion> {
  let s = stores.get(core);
  if (!s) stores.set(core, (s = new Map()));
  return s;
}
const keyOf = (prefix: string, kind: string, name: string, version: string): string => `${prefix}/${kind}/${name}/versions/${version}`.toLowerCase();

/** True for `…/workspaces/{ws}/codes[/…]` (every method) and `…/workspaces/{ws}/models/{n}/versions/{v}` PUTs and registered GETs. */
export function isAssetPath(core: EmulatorCore, method: string, segments: string[]): boolean {
  if (!(segments.length >= 9 && eq(segments[0], 'subscriptions') && eq(segments[2], 'resourceGroups') && eq(segments[6], 'workspaces'))) return false;
  if (eq(segments[8], 'codes') || eq(segments[8], 'environments')) return true;
  if (!eq(segments[8], 'models') || segments.length !== 12 || !eq(segments[10], 'versions')) return false;
  if (method === 'PUT') return true;
  return storeOf(core).has(keyOf(segments.slice(0, 8).join('/'), 'models', segments[9] ?? '', segments[11] ?? ''));
}

function resource(a: AssetVersion): Record<string, unknown> {
  const created = { createdAt: a.createdAt, createdBy: 'glidepath-emulator@example.com', createdByType: 'User', lastModifiedAt: a.createdAt, lastModifiedBy: 'glidepath-emulator@example.com', lastModifiedByType: 'User' };
  return {
    id: `/${a.prefix}/${a.kind}/${a.name}/versions/${a.version}`,
    name: a.version,
    type: `${PROVIDER}/workspaces/${a.kind}/versions`,
    // environmentType is read-only: Azure answers UserCreated for environments registered in a workspace (Curated for Azure's own).
    properties: { ...a.properties, ...(a.kind === 'environments' ? { environmentType: 'UserCreated' } : {}), provisioningState: 'Succeeded' },
    systemData: created,
  };
}

const LABEL = { codes: 'code', models: 'model', environments: 'environment' } as const;
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/;

const PENDING_UPLOAD_TYPES = ['TemporaryBlobReference', 'None'];
/** How long a pending upload's SAS is valid. */
const PENDING_UPLOAD_SAS_MS = 60 * 60_000;

/**
 * `POST …/codes/{name}/versions/{version}/startPendingUpload` (2024-04-01 `PendingUploadRequestDto`): a
 * temporary container in the workspace's blob store and a container SAS (read/add/create/write/list, one
 * hour) the client uploads the code through, as the Azure ML CLI does (reference §1 step 5). The body must
 * be `{pendingUploadType: "TemporaryBlobReference"}` (an optional `pendingUploadId`); anything else is a 400
 * naming the field.
 */
async function startPendingUpload(core: EmulatorCore, ctx: RequestContext): Promise<Reply> {
  if (ctx.method !== 'POST') throw new ArmError(405, 'MethodNotAllowed', `The requested resource does not support http method '${ctx.method}'.`);
  const body = parseJson(ctx.body) as Record<string, unknown> | null;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badArgument('The request body must be a PendingUploadRequestDto: {"pendingUploadType":"TemporaryBlobReference"}.', 'pendingUploadType');
  const type = body.pendingUploadType;
  if (type === undefined || type === null) throw badArgument('pendingUploadType is required: TemporaryBlobReference.', 'pendingUploadType');
  if (typeof type !== 'string' || !PENDING_UPLOAD_TYPES.includes(type)) throw badArgument(`pendingUploadType must be TemporaryBlobReference (or None), not ${JSON.stringify(type)}.`, 'pendingUploadType');
  if (type !== 'TemporaryBlobReference') throw badArgument('pendingUploadType None asks for no upload; the emulator gives TemporaryBlobReference uploads only.', 'pendingUploadType');
  const id = body.pendingUploadId;
  if (id !== undefined && id !== null && (typeof id !== 'string' || !/^[A-Za-z0-9-]{1,36}$/.test(id))) throw badArgument('pendingUploadId must be an id of letters, digits and hyphens (a GUID).', 'pendingUploadId');
  if (!core.blobStore.enabled) throw new ArmError(503, 'ServiceUnavailable', 'The workspace blob store is off in this emulator (--no-blob-storage): no pending uploads.');
  const uploadId = typeof id === 'string' ? id.toLowerCase() : randomUUID();
  const container = `pending-${uploadId}`.slice(0, 63).replace(/-+$/, '');
  let info;
  try {
    info = await core.blobStore.ensure();
    await core.blobStore.ensureContainer(container);
  } catch (e) {
    throw new ArmError(503, 'ServiceUnavailable', `The workspace blob store is not available: ${(e as Error).message}`);
  }
  const { ContainerSASPermissions, generateBlobSASQueryParameters, SASProtocol, StorageSharedKeyCredential } = await import('@azure/storage-blob');
  const sas = generateBlobSASQueryParameters(
    { containerName: container, permissions: ContainerSASPermissions.parse('racwl'), startsOn: new Date(Date.now() - 60_000), expiresOn: new Date(Date.now() + PENDING_UPLOAD_SAS_MS), protocol: SASProtocol.HttpsAndHttp },
    new StorageSharedKeyCredential(info.accountName, info.accountKey),
  ).toString();
  const blobUri = `${info.url}/${container}`;
  const [, sub = '', , rg = ''] = ctx.segments;
  return {
    status: 200,
    body: {
      blobReferenceForConsumption: {
        blobUri,
        storageAccountArmId: `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Storage/storageAccounts/${info.accountName}`,
        credential: { credentialType: 'SAS', sasUri: `${blobUri}?${sas}` },
      },
      pendingUploadId: uploadId,
      pendingUploadType: 'TemporaryBlobReference',
    },
  };
}

/** Code versions (GET list with `hash`, GET, PUT, startPendingUpload) and model version PUT/GET of registered models. */
export async function handleAssets(core: EmulatorCore, ctx: RequestContext): Promise<Reply> {
  const s = ctx.segments;
  if (!ctx.query.get('api-version')) throw new ArmError(400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
  const prefix = s.slice(0, 8).join('/');
  const kind = eq(s[8], 'codes') ? 'codes' : eq(s[8], 'environments') ? 'environments' : 'models';
  const [name, versions, version] = [s[9], s[10], s[11]];
  const store = storeOf(core);
  if (kind !== 'models' && s.length === 9) {
    if (ctx.method !== 'GET') throw new ArmError(405, 'MethodNotAllowed', `The requested resource does not support http method '${ctx.method}'.`);
    const names = [...new Set([...store.values()].filter((a) => a.kind === kind && eq(a.prefix, prefix)).map((a) => a.name))];
    return { status: 200, body: { value: names.map((n) => ({ id: `/${prefix}/${kind}/${n}`, name: n, type: `${PROVIDER}/workspaces/${kind}`, properties: {} })) } };
  }
  if (!name || !eq(versions, 'versions')) throw notFound(ctx.path);
  if (s.length === 11) {
    if (ctx.method !== 'GET') throw new ArmError(405, 'MethodNotAllowed', `The requested resource does not support http method '${ctx.method}'.`);
    // `hash` matches regardless of name (the CLI asks under a fresh UUID).
    const hash = ctx.query.get('hash');
    const mine = [...store.values()].filter((a) => a.kind === kind && eq(a.prefix, prefix) && (hash ? (a.properties.properties as Record<string, unknown> | undefined)?.hash_sha256 === hash : a.name === name));
    return { status: 200, body: { value: mine.map(resource) } };
  }
  if (kind === 'codes' && s.length === 13 && version && eq(s[12], 'startPendingUpload')) return startPendingUpload(core, ctx);
  if (s.length !== 12 || !version) throw notFound(ctx.path);
  const key = keyOf(prefix, kind, name, version);
  if (ctx.method === 'GET') {
    const a = store.get(key);
    if (!a) throw notFound(`${LABEL[kind]} version '${name}:${version}'`);
    return { status: 200, body: resource(a) };
  }
  if (ctx.method !== 'PUT') throw new ArmError(405, 'MethodNotAllowed', `The requested resource does not support http method '${ctx.method}'.`);
  if (!NAME.test(name)) throw badArgument(`The asset name '${name}' is not valid.`, 'name');
  const body = parseJson(ctx.body) as { properties?: Record<string, unknown> } | null;
  const props = body?.properties;
  if (!props || typeof props !== 'object') throw badArgument('The request body needs properties.', 'properties');
  // An environment is an image, or a Docker build context (build.contextUri) the service builds an image from.
  const build = kind === 'environments' ? (props.build as { contextUri?: unknown; dockerfilePath?: unknown } | undefined | null) : undefined;
  if (build !== undefined && build !== null) {
    if (typeof build !== 'object' || typeof build.contextUri !== 'string' || build.contextUri === '') throw badArgument('properties.build.contextUri is required when properties.build is given.', 'properties.build.contextUri');
    if (build.dockerfilePath !== undefined && build.dockerfilePath !== null && (typeof build.dockerfilePath !== 'string' || build.dockerfilePath === '')) throw badArgument('properties.build.dockerfilePath must be a path in the build context.', 'properties.build.dockerfilePath');
    if (props.image !== undefined && props.image !== null) throw badArgument('An environment takes properties.image or properties.build, not both.', 'properties.build');
    if (props.condaFile !== undefined && props.condaFile !== null) throw badArgument('properties.condaFile goes with properties.image; a build context installs its own packages.', 'properties.condaFile');
  }
  const uriKey = kind === 'codes' ? 'codeUri' : kind === 'environments' ? (build ? 'build' : 'image') : 'modelUri';
  if (uriKey !== 'build' && (typeof props[uriKey] !== 'string' || props[uriKey] === '')) throw badArgument(`properties.${uriKey} is required${kind === 'environments' ? ' (or properties.build with a contextUri)' : ''}.`, `properties.${uriKey}`);
  const existing = store.get(key);
  if (existing) {
    // Asset versions are immutable: Azure refuses a changed URI on an existing version.
    if (JSON.stringify(existing.properties[uriKey]) !== JSON.stringify(props[uriKey])) throw new ArmError(409, 'UserError', `${LABEL[kind]} version ${name}:${version} already exists with a different ${uriKey}.`);
    return { status: 200, body: resource(existing) };
  }
  const a: AssetVersion = { kind, prefix, name, version, properties: { ...props }, createdAt: isoNow() };
  store.set(key, a);
  return { status: 201, body: resource(a) };
}

/**
 * True when `ref` (a deployment's model: an ARM id or `azureml:name:version`) names a model version
 * registered here with PUT (an uploaded local model). The emulator cannot run uploaded files, so such a
 * deployment is served by the stand-in scoring logic, and its log says so (emulator/README.md).
 */
export function isRegisteredModel(core: EmulatorCore, ref: string): boolean {
  const m = /(?:^azureml:([^:/]+):([^:/]+)$)|(?:\/models\/([^/]+)\/versions\/([^/]+)$)/i.exec(ref);
  const name = m?.[1] ?? m?.[3];
  const version = m?.[2] ?? m?.[4];
  if (!name || !version) return false;
  const suffix = `/models/${name}/versions/${version}`.toLowerCase();
  for (const key of storeOf(core).keys()) if (key.endsWith(suffix)) return true;
  return false;
}

/**
 * The model versions of `name` registered here with PUT under `prefix` (`/subscriptions/…/workspaces/{ws}`),
 * as resources, with their creation time; the model-versions list merges them with the shipped ones.
 */
export function registeredModelVersions(core: EmulatorCore, prefix: string, name: string): { version: string; createdAt: string; resource: Record<string, unknown> }[] {
  const p = prefix.replace(/^\//, '');
  return [...storeOf(core).values()]
    .filter((a) => a.kind === 'models' && eq(a.prefix, p) && eq(a.name, name))
    .map((a) => ({ version: a.version, createdAt: a.createdAt, resource: resource(a) }));
}

/** The Docker build context of an environment registered here with `build` (an ARM id or `azureml:name:version`), if it has one. */
export function environmentBuild(core: EmulatorCore, ref: string): { id: string; contextUri: string; dockerfilePath: string } | undefined {
  const m = /(?:^azureml:([^:/]+):([^:/]+)$)|(?:\/environments\/([^/]+)\/versions\/([^/]+)$)/i.exec(ref);
  const name = m?.[1] ?? m?.[3];
  const version = m?.[2] ?? m?.[4];
  if (!name || !version) return undefined;
  const suffix = `/environments/${name}/versions/${version}`.toLowerCase();
  for (const [key, a] of storeOf(core)) {
    const build = a.properties.build as { contextUri?: string; dockerfilePath?: string } | undefined;
    if (key.endsWith(suffix) && build?.contextUri) return { id: key, contextUri: build.contextUri, dockerfilePath: build.dockerfilePath ?? 'Dockerfile' };
  }
  return undefined;
}

const built = new WeakMap<EmulatorCore, Map<string, Promise<void>>>();

/**
 * Builds the image of an environment with a build context, once per environment version (Azure caches the
 * image: a second deployment of the same version does not build again). The build reads the context from the
 * blob store: it fails (ImageBuildFailure) when the Dockerfile is not there, and otherwise takes the
 * emulator's provisioning time (--provision-time), logged as the image build. Resolves with no build for an
 * environment without a build context.
 */
export function buildEnvironmentImage(core: EmulatorCore, ref: string | undefined, log: (line: string) => void): Promise<void> {
  const b = ref ? environmentBuild(core, ref) : undefined;
  if (!b) return Promise.resolve();
  let cache = built.get(core);
  if (!cache) built.set(core, (cache = new Map()));
  const done = cache.get(b.id);
  if (done) {
    log(`[InferenceServer] Image build: Image of ${ref} already built; reusing it`);
    return done;
  }
  const run = (async () => {
    log(`[InferenceServer] Image build: Building the image of ${ref} from ${b.contextUri} (${b.dockerfilePath})`);
    const u = new URL(b.contextUri);
    const info = await core.blobStore.ensure();
    const base = new URL(info.url);
    // contextUri: <blob service URL>/<container>/<path>/ (the account is in the service URL's path on Azurite).
    const rest = decodeURIComponent(u.pathname).slice(base.pathname.replace(/\/$/, '').length).replace(/^\//, '');
    const [container, ...path] = rest.split('/');
    const blob = `${path.join('/').replace(/\/$/, '')}/${b.dockerfilePath}`;
    const svc = await core.blobStore.serviceClient();
    const exists = u.host === base.host && container ? await svc.getContainerClient(container).getBlobClient(blob).exists() : false;
    if (!exists) throw { code: 'ImageBuildFailure', message: `Image build failed for environment ${ref}: ${b.dockerfilePath} was not found in the build context ${b.contextUri}.` };
    await new Promise<void>((resolve) => core.after(core.operationDurationMs(), resolve));
    log(`[InferenceServer] Image build: Image of ${ref} built (${b.dockerfilePath}); the emulator stands in for the container it would run`);
  })();
  cache.set(b.id, run);
  run.catch(() => cache.delete(b.id));
  return run;
}
