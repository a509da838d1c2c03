// Workspace assets registered by clients (reference azure-ml-cli-assets.md §1 steps 4–9): code versions
// (`…/codes/{name}/versions/{v}`; anonymous environments `…/environments/{name}/versions/{v}`; with the CLI's `?hash=&hashVersion=` lookup that matches regardless of
// name) and model versions created with PUT (`…/models/{name}/versions/{v}`). Shipped models stay in
// emulator/models/registry.ts; model GETs that miss here fall through to it (handleArm).
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
    properties: { ...a.properties, provisioningState: 'Succeeded' },
    systemData: created,
  };
}

const LABEL = { codes: 'code', models: 'model', environments: 'environment' } as const;
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/;

/** Code versions (GET list with `hash`, GET, PUT) and model version PUT/GET of registered models. */
export function handleAssets(core: EmulatorCore, ctx: RequestContext): Reply {
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
  const uriKey = kind === 'codes' ? 'codeUri' : kind === 'environments' ? 'image' : 'modelUri';
  if (typeof props[uriKey] !== 'string' || props[uriKey] === '') throw badArgument(`properties.${uriKey} is required.`, `properties.${uriKey}`);
  const existing = store.get(key);
  if (existing) {
    // Asset versions are immutable: Azure refuses a changed URI on an existing version.
    if (existing.properties[uriKey] !== props[uriKey]) throw new ArmError(409, 'UserError', `${LABEL[kind]} version ${name}:${version} already exists with a different ${uriKey}.`);
    return { status: 200, body: resource(existing) };
  }
  const a: AssetVersion = { kind, prefix, name, version, properties: { ...props }, createdAt: isoNow() };
  store.set(key, a);
  return { status: 201, body: resource(a) };
}
