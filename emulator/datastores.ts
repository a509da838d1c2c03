// The workspace's default datastore, `workspaceblobstore`, as Azure ML's datastores API shows it
// (api-version 2024-04-01 examples Datastore/get.json and listSecrets.json): an AzureBlob datastore with
// account-key credentials, backed by the emulator's blob store. Reading it starts the blob store (Azurite)
// when it is not running yet, so these handlers are async.
import type { RequestContext } from './arm.js';
import type { EmulatorCore } from './core.js';
import { workspaceContainer } from './data-collection.js';
import { ArmError, isoNow, notFound, type Reply } from './http.js';
import { workspaceGuid } from './log-tables.js';

export const DEFAULT_DATASTORE = 'workspaceblobstore';

const eq = (a: string | undefined, b: string): boolean => a !== undefined && a.toLowerCase() === b.toLowerCase();

/** True for `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}/datastores[/…]`. */
export function isDatastorePath(segments: string[]): boolean {
  return segments.length >= 9 && eq(segments[0], 'subscriptions') && eq(segments[2], 'resourceGroups') && eq(segments[6], 'workspaces') && eq(segments[8], 'datastores');
}

const created = isoNow();

async function datastoreResource(core: EmulatorCore, s: string[]): Promise<Record<string, unknown>> {
  const [, sub = '', , rg = '', , , , ws = ''] = s;
  const info = await core.blobStore.ensure();
  const url = new URL(info.url);
  return {
    id: `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.MachineLearningServices/workspaces/${ws}/datastores/${DEFAULT_DATASTORE}`,
    name: DEFAULT_DATASTORE,
    type: 'Microsoft.MachineLearningServices/workspaces/datastores',
    properties: {
      description: 'The workspace blob store (the emulator\'s Azurite, or the blob service given with --blob-endpoint).',
      tags: {},
      // Azure gives a DNS suffix in `endpoint` (core.windows.net) and clients build https://{account}.blob.{endpoint};
      // Azurite is addressed by IP and path, so the emulator gives host:port there and the whole service URL here.
      properties: { 'glidepath.blobServiceUrl': info.url },
      isDefault: true,
      credentials: { credentialsType: 'AccountKey', secrets: { secretsType: 'AccountKey' } },
      datastoreType: 'AzureBlob',
      accountName: info.accountName,
      containerName: workspaceContainer(workspaceGuid(sub, rg, ws)),
      endpoint: url.host,
      protocol: url.protocol.replace(':', ''),
      serviceDataAccessAuthIdentity: 'None',
    },
    systemData: { createdAt: created, createdBy: 'glidepath-emulator@example.com', createdByType: 'User', lastModifiedAt: created, lastModifiedBy: 'glidepath-emulator@example.com', lastModifiedByType: 'User' },
  };
}

/** `GET …/datastores`, `GET …/datastores/workspaceblobstore`, `POST …/datastores/workspaceblobstore/listSecrets`. */
export async function handleDatastores(core: EmulatorCore, ctx: RequestContext): Promise<Reply> {
  const s = ctx.segments;
  if (!ctx.query.get('api-version')) throw new ArmError(400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
  const name = s[9];
  const unavailable = (e: unknown): ArmError => new ArmError(503, 'ServiceUnavailable', `The workspace blob store is not available: ${(e as Error).message}`);
  if (s.length === 9) {
    if (ctx.method !== 'GET') throw new ArmError(405, 'MethodNotAllowed', `The requested resource does not support http method '${ctx.method}'.`);
    if (!core.blobStore.enabled) return { status: 200, body: { value: [] } };
    return { status: 200, body: { value: [await datastoreResource(core, s).catch((e: unknown) => Promise.reject(unavailable(e)))] } };
  }
  if (!eq(name, DEFAULT_DATASTORE) || !core.blobStore.enabled) throw notFound(`datastore '${name ?? ''}' (the emulator has only ${DEFAULT_DATASTORE})`);
  if (s.length === 10) {
    if (ctx.method !== 'GET') throw new ArmError(405, 'MethodNotAllowed', `The emulator's ${DEFAULT_DATASTORE} is read-only (${ctx.method} is not allowed).`);
    return { status: 200, body: await datastoreResource(core, s).catch((e: unknown) => Promise.reject(unavailable(e))) };
  }
  if (s.length === 11 && eq(s[10], 'listSecrets')) {
    if (ctx.method !== 'POST') throw new ArmError(405, 'MethodNotAllowed', `The requested resource does not support http method '${ctx.method}'.`);
    const info = await core.blobStore.ensure().catch((e: unknown) => Promise.reject(unavailable(e)));
    return { status: 200, body: { secretsType: 'AccountKey', key: info.accountKey } };
  }
  throw notFound(ctx.path);
}
