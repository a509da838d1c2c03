/**
 * Local assets of a candidate deployment, uploaded and registered the way the Azure ML CLI does it
 * (reference azure-ml-cli-assets.md §1, §3.1, §3.2, §3.4), so the workflow gets ARM ids and never a path:
 *
 * - `code_configuration.code: ./src` → content hash (hash_version 202208); an existing code version with
 *   that hash (`GET …/codes/<uuid>/versions?hash=…&hashVersion=202208`, any name) is reused; otherwise, like
 *   the CLI, the files go to a temporary container from `POST …/codes/<uuid>/versions/1/startPendingUpload`
 *   (a SAS URL) as `<folder>/<relpath>`, and an anonymous code version `<uuid v4>:1` is registered with
 *   `codeUri` `<blobUri>/<folder>` and `hash_sha256`/`hash_version`.
 * - `model: { path: ./model }` (file or folder) → object hash; the model is the YAML's `name`:`version`
 *   when both are given, else anonymous `sha256hex(objectHash):1`; when it exists nothing is uploaded;
 *   otherwise the files go to the default datastore under `LocalUpload/<object hash>/<basename>` and the
 *   model version is registered.
 * - `environment: { build: { path: ./ctx } }` → object hash of the context, uploaded like a model, registered
 *   as `CliV2AnonymousEnvironment:<version>` with `build.contextUri` (+ `dockerfilePath`).
 *
 * Registration happens only after every asset's blobs are uploaded, so nothing half-uploaded is ever
 * registered or referenced; an interrupted upload registers nothing and the next start uploads again.
 *
 * Ignore files: `.amlignore` at the root of a folder wins over `.gitignore`; nested ignore files are not
 * read. Glidepath's globs are simple: `#` comments, `*` (not `/`), `**` (anything), `?`; a trailing `/`
 * matches folders only; a pattern with no other `/` matches a name at any depth, one with a `/` is
 * anchored at the root; a path under an ignored folder is ignored. `!` negation is not supported (such
 * lines are refused by name rather than silently misread).
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve } from 'node:path';
import type { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import type { ContainerClient as StorageContainerClient } from '@azure/storage-blob';
import { isCodeReference, isLocalPath, type DeploymentSpec } from '../domain/deployment-spec.js';
import { CliError, ExitCode, InvalidInputError } from './errors.js';
import type { UploadProgress } from './upload-bar.js';

/** The largest single file uploaded (Azure's CLI warns above 100 MB for a whole upload; Glidepath refuses a file above this). */
export const MAX_ASSET_FILE_BYTES = 1024 * 1024 * 1024;
/** The most files an asset folder may hold. */
export const MAX_ASSET_FILES = 20_000;
const DATASTORE = 'workspaceblobstore';

/** The per-file limit: `GLIDEPATH_ASSET_MAX_FILE_BYTES` (a positive integer), else {@link MAX_ASSET_FILE_BYTES}. */
export function maxAssetFileBytes(env: NodeJS.ProcessEnv): number {
  const v = env.GLIDEPATH_ASSET_MAX_FILE_BYTES;
  if (v === undefined || v === '') return MAX_ASSET_FILE_BYTES;
  if (!/^[1-9]\d*$/.test(v)) throw new InvalidInputError(`GLIDEPATH_ASSET_MAX_FILE_BYTES: must be a positive whole number of bytes, not '${v}'`);
  return Number(v);
}
const HASH_VERSION = '202208';
const OBJECT_HASH_SEED = 'Initialize for october 2021 AML CLI version';

/** Thrown when the datastore refuses Glidepath's credential or cannot be reached (exit 3). */
export class AssetUploadError extends CliError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.unreachable, options);
    this.name = 'AssetUploadError';
  }
}

/** One file of an asset: its POSIX path relative to the asset root (the file name for a single file). */
export interface AssetFile {
  rel: string;
  abs: string;
  size: number;
}

/** A local asset read from disk: its files (ignored ones left out), and the hashes the CLI computes. */
export interface LocalAsset {
  what: 'code' | 'model' | 'environment';
  /** Where in the deployment spec. */
  path: string;
  /** The path as written, and resolved. */
  written: string;
  root: string;
  isFile: boolean;
  files: AssetFile[];
  bytes: number;
  /** Code: the content hash (202208); model: the object hash. */
  hash: string;
  /** The model's name when it is known before Azure is asked: the inline model's `name` (with its `version`), else the anonymous sha256hex(objectHash). */
  name?: string;
  /** Models: the version registered (`1` for anonymous models). */
  version?: string;
  /** Models: true when the YAML names the model (`name` and `version`), so it is registered under that name, not anonymously. */
  named?: boolean;
  /** Models: custom_model, mlflow_model or triton_model. */
  modelType?: string;
  /** Environment build contexts: the Dockerfile's path in the context (`Dockerfile` unless `dockerfile_path` says). */
  dockerfilePath?: string;
}

// ───────────────────────────── ignore files ─────────────────────────────

interface IgnoreRule {
  re: RegExp;
  dirOnly: boolean;
}

function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      out += '.*';
      i++;
      if (glob[i + 1] === '/') i++;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

/** Parses an ignore file's text (simple glob semantics; see the module comment). Throws on `!` lines. */
export function parseIgnore(text: string, file: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const [n, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('!')) throw new InvalidInputError(`${file}, line ${n + 1}: '${line}': negated patterns (!) are not supported by glidepath's ignore files; list what to leave out instead`);
    const dirOnly = line.endsWith('/');
    let pat = dirOnly ? line.slice(0, -1) : line;
    const anchored = pat.includes('/');
    pat = pat.replace(/^\//, '');
    rules.push({ re: globToRegExp(anchored ? pat : `**/${pat}`), dirOnly });
  }
  return rules;
}

/** True when `rel` (POSIX, relative to the root) or one of its folders matches a rule. */
export function isIgnored(rules: readonly IgnoreRule[], rel: string, isDir: boolean): boolean {
  const parts = rel.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const prefix = parts.slice(0, i).join('/');
    const dir = i < parts.length || isDir;
    if (rules.some((r) => (!r.dirOnly || dir) && r.re.test(prefix))) return true;
  }
  return false;
}

// ───────────────────────────── reading ─────────────────────────────

function unreadable(what: string, path: string, err: unknown): InvalidInputError {
  const code = (err as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'no such file or folder' : code === 'EACCES' ? 'permission denied' : code === 'ENOTDIR' ? 'not a folder' : (err as Error).message;
  return new InvalidInputError(`${what}: cannot read ${path}: ${why}`, [], { cause: err });
}

/**
 * The files of an asset (ignored ones left out) in the CLI's upload order, and its folders that the CLI's
 * object hash names (`dirs`): every folder it walks into and is not excluded when matched as a path
 * (azure-ai-ml's `IgnoreFile.is_file_excluded` cannot tell a folder from a file, so `__pycache__/` leaves out
 * what is inside the folder but the folder's own name is still hashed), empty folders included.
 */
async function listFiles(what: string, root: string, maxFileBytes: number): Promise<{ files: AssetFile[]; dirs: string[]; isFile: boolean }> {
  let st;
  try {
    st = await stat(root);
  } catch (err) {
    throw unreadable(what, root, err);
  }
  const check = (abs: string, size: number) => {
    if (size > maxFileBytes) throw new InvalidInputError(`${what}: ${abs} is ${size} bytes; glidepath uploads files of at most ${maxFileBytes} bytes (register larger models with az ml model create and reference them as azureml:<name>:<version>)`);
  };
  if (st.isFile()) {
    check(root, st.size);
    return { files: [{ rel: basename(root), abs: root, size: st.size }], dirs: [], isFile: true };
  }
  if (!st.isDirectory()) throw new InvalidInputError(`${what}: ${root} is neither a file nor a folder`);
  let rules: IgnoreRule[] = [];
  for (const name of ['.amlignore', '.gitignore']) {
    const text = await readFile(join(root, name), 'utf8').catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(unreadable(what, join(root, name), err))));
    if (text !== undefined) {
      rules = parseIgnore(text, join(root, name));
      break;
    }
  }
  const files: AssetFile[] = [];
  const dirs: string[] = [];
  const walk = async (dir: string, relDir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      throw unreadable(what, dir, err);
    }
    for (const e of entries) {
      const rel = relDir ? `${relDir}/${e.name}` : e.name;
      const abs = join(dir, e.name);
      let s;
      try {
        s = await stat(abs); // follows symlinks, as the CLI does
      } catch (err) {
        throw unreadable(what, abs, err);
      }
      if (s.isDirectory() && !isIgnored(rules, rel, false)) dirs.push(rel);
      if (isIgnored(rules, rel, s.isDirectory())) continue;
      if (s.isDirectory()) await walk(abs, rel);
      else if (s.isFile()) {
        check(abs, s.size);
        files.push({ rel, abs, size: s.size });
        if (files.length > MAX_ASSET_FILES) throw new InvalidInputError(`${what}: ${root} holds more than ${MAX_ASSET_FILES} files; add an .amlignore`);
      }
    }
  };
  await walk(root, '');
  files.sort((a, b) => (a.rel.toLowerCase() < b.rel.toLowerCase() ? -1 : a.rel.toLowerCase() > b.rel.toLowerCase() ? 1 : 0));
  return { files, dirs, isFile: false };
}

async function hashFileInto(h: ReturnType<typeof createHash>, what: string, f: AssetFile): Promise<void> {
  try {
    for await (const chunk of createReadStream(f.abs)) h.update(chunk as Buffer);
  } catch (err) {
    throw unreadable(what, f.abs, err);
  }
}

/** The code content hash (hash_version 202208): count; `#rel#` and size per file; then every file's bytes. */
export async function contentHash(what: string, files: readonly AssetFile[]): Promise<string> {
  const h = createHash('sha256');
  h.update(String(files.length));
  for (const f of files) h.update(`#${f.rel}#${f.size}`);
  for (const f of files) await hashFileInto(h, what, f);
  return h.digest('hex');
}

/**
 * The model/build-context object hash, as azure-ai-ml's `get_object_hash`: SHA-256 seeded with a fixed
 * string; a single file adds its bytes (not its name); a folder adds, folder by folder in lower-cased name
 * order (not whole-path order: a folder `a/` comes before a file `a-b.txt`), each entry's name, then a file's
 * bytes or the folder's entries, empty folders and folders whose files are all ignored included (`dirs`
 * from listFiles). Two names in one folder that differ only in case have no defined order (the CLI takes
 * them in the order the file system lists them, so its hash of such a folder can vary between machines).
 */
export async function objectHash(what: string, files: readonly AssetFile[], dirs: readonly string[] = [], isFile = false): Promise<string> {
  const h = createHash('sha256');
  h.update(OBJECT_HASH_SEED);
  if (isFile) {
    for (const f of files) await hashFileInto(h, what, f);
    return h.digest('hex');
  }
  interface Node {
    name: string;
    file?: AssetFile;
    children: Map<string, Node>;
  }
  const top: Node = { name: '', children: new Map() };
  const at = (rel: string): Node => {
    let n = top;
    for (const part of rel.split('/')) {
      let c = n.children.get(part);
      if (!c) n.children.set(part, (c = { name: part, children: new Map() }));
      n = c;
    }
    return n;
  };
  for (const d of dirs) at(d);
  for (const f of files) at(f.rel).file = f;
  const walk = async (n: Node): Promise<void> => {
    const lower = (c: Node) => c.name.toLowerCase();
    const entries = [...n.children.values()].sort((a, b) => (lower(a) < lower(b) ? -1 : lower(a) > lower(b) ? 1 : 0));
    for (const c of entries) {
      h.update(c.name);
      if (c.file) await hashFileInto(h, what, c.file);
      else await walk(c);
    }
  };
  await walk(top);
  return h.digest('hex');
}

const sha256hex = (s: string): string => createHash('sha256').update(s).digest('hex');

/**
 * Reads the spec's local assets (code folder, inline model path) relative to `baseDir`: their files, sizes
 * and hashes. Bad paths, unreadable folders and files over `maxFileBytes` are InvalidInputErrors naming the file.
 */
export async function readLocalAssets(spec: DeploymentSpec, baseDir: string, maxFileBytes = MAX_ASSET_FILE_BYTES): Promise<LocalAsset[]> {
  const out: LocalAsset[] = [];
  const at = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const code = spec.code_configuration?.code;
  if (code !== undefined && !isCodeReference(code)) {
    const what = 'candidate.deployment.code_configuration.code';
    const root = at(code);
    const { files, isFile } = await listFiles(what, root, maxFileBytes);
    if (isFile) throw new InvalidInputError(`${what}: ${root} is a file; code_configuration.code names the folder that holds ${spec.code_configuration!.scoring_script}`);
    out.push({ what: 'code', path: 'code_configuration.code', written: code, root, isFile, files, bytes: files.reduce((n, f) => n + f.size, 0), hash: await contentHash(what, files) });
  }
  const m = spec.model;
  if (m !== undefined && typeof m !== 'string' && isLocalPath(m.path)) {
    const what = 'candidate.deployment.model.path';
    const root = at(m.path);
    const { files, dirs, isFile } = await listFiles(what, root, maxFileBytes);
    const hash = await objectHash(what, files, dirs, isFile);
    // Named like the CLI names it: `name` + `version` from the YAML when both are given, else anonymous.
    const named = m.name !== undefined && m.version !== undefined;
    out.push({ what: 'model', path: 'model.path', written: m.path, root, isFile, files, bytes: files.reduce((n, f) => n + f.size, 0), hash, name: named ? m.name! : sha256hex(hash), version: named ? m.version! : '1', named, modelType: m.type ?? 'custom_model' });
  }
  const env = spec.environment;
  if (env !== undefined && typeof env !== 'string' && env.build && isLocalPath(env.build.path)) out.push(await readBuildContext(env.build, at(env.build.path), maxFileBytes));
  return out;
}

/**
 * A Docker build context (`environment: { build: { path, dockerfile_path? } }`): its files (ignore files
 * honoured), its object hash, and the anonymous environment version the CLI derives from it (reference
 * §3.3): H = sha256hex(objectHash), joined (Python's str.join) with sha256hex(dockerfile_path) when the YAML
 * sets it; version = sha256hex(H). The Dockerfile must be in the context: a missing one is refused naming the
 * file before anything is uploaded (Azure would only fail the image build, minutes into the deployment).
 */
async function readBuildContext(build: { path: string; dockerfile_path?: string | undefined }, root: string, maxFileBytes: number): Promise<LocalAsset> {
  const what = 'candidate.deployment.environment.build.path';
  const { files, dirs, isFile } = await listFiles(what, root, maxFileBytes);
  if (isFile) throw new InvalidInputError(`${what}: ${root} is a file; build.path names the folder (the Docker build context) that holds the Dockerfile`);
  const dockerfile = (build.dockerfile_path ?? 'Dockerfile').replace(/\\/g, '/').replace(/^\.\//, '');
  if (!files.some((f) => f.rel === dockerfile)) {
    const where = build.dockerfile_path !== undefined ? 'candidate.deployment.environment.build.dockerfile_path' : what;
    throw new InvalidInputError(`${where}: the build context ${root} has no ${join(root, dockerfile)} (missing, or left out by its .amlignore/.gitignore)${build.dockerfile_path === undefined ? '; add a Dockerfile or set build.dockerfile_path' : ''}`);
  }
  const hash = await objectHash(what, files, dirs);
  let h = sha256hex(hash);
  if (build.dockerfile_path !== undefined) h = pyJoin(h, sha256hex(build.dockerfile_path));
  return { what: 'environment', path: 'environment.build.path', written: build.path, root, isFile, files, bytes: files.reduce((n, f) => n + f.size, 0), hash, name: ANONYMOUS_ENVIRONMENT, version: sha256hex(h), dockerfilePath: dockerfile };
}

// ───────────────────────────── uploading and registering ─────────────────────────────

/** Where assets are registered: the plan's workspace, through an unmodified ARM client. */
export interface AssetTarget {
  ml: AzureMachineLearningWorkspaces;
  subscriptionId: string;
  resourceGroup: string;
  workspace: string;
  /** The ARM endpoint `ml` talks to (the emulator's URL locally), for the calls the SDK has no method for; default `ml.$host`. */
  endpoint?: string;
  /** A progress line (bytes uploaded so far) for people, at most once a second per asset. */
  progress?: (line: string) => void;
  /**
   * Upload progress as data, for a bar on a terminal: several times a second while an asset's files go
   * up (within a file too), and once with `bytes === total` when the asset is done. When set, `progress`
   * gets no upload lines.
   */
  uploadProgress?: (u: UploadProgress) => void;
}

/** What resolving did for one asset. */
export interface ResolvedAsset {
  what: 'code' | 'model' | 'environment';
  path: string;
  written: string;
  id: string;
  reused: boolean;
  files: number;
  bytesUploaded: number;
}

const CODE_HASH_POLICY = 'glidepathCodeHashQuery';
/** Adds the CLI's `hash`/`hashVersion` query to one code-versions list call (the SDK's list has no such option). */
function codeHashPolicy(): PipelinePolicy & { hash?: string } {
  const policy: PipelinePolicy & { hash?: string } = {
    name: CODE_HASH_POLICY,
    sendRequest(request, next) {
      if (policy.hash && request.method === 'GET' && /\/codes\/[^/]+\/versions\?/i.test(request.url)) {
        const u = new URL(request.url);
        u.searchParams.set('hash', policy.hash);
        u.searchParams.set('hashVersion', HASH_VERSION);
        request.url = u.toString();
      }
      return next(request);
    },
  };
  return policy;
}

const is404 = (err: unknown): boolean => (err as { statusCode?: number }).statusCode === 404;

async function datastoreContainer(t: AssetTarget) {
  const { BlobServiceClient, StorageSharedKeyCredential } = await import('@azure/storage-blob');
  let ds;
  let key: string | undefined;
  try {
    ds = await t.ml.datastores.get(t.resourceGroup, t.workspace, DATASTORE);
    const secrets = (await t.ml.datastores.listSecrets(t.resourceGroup, t.workspace, DATASTORE)) as { secretsType?: string; key?: string };
    key = secrets.key;
  } catch (err) {
    throw new AssetUploadError(`cannot read the workspace's default datastore ${DATASTORE} in ${t.workspace}: ${(err as Error).message}`, { cause: err });
  }
  const p = ds.properties as { accountName?: string; containerName?: string; endpoint?: string; protocol?: string; properties?: Record<string, string> };
  if (!p.accountName || !p.containerName || !key) throw new AssetUploadError(`the datastore ${DATASTORE} in ${t.workspace} has no account key Glidepath can upload with (identity-based datastores are not supported yet)`);
  const serviceUrl = p.properties?.['glidepath.blobServiceUrl'] ?? `${p.protocol ?? 'https'}://${p.accountName}.blob.${p.endpoint ?? 'core.windows.net'}`;
  const service = new BlobServiceClient(serviceUrl, new StorageSharedKeyCredential(p.accountName, key), { retryOptions: { maxTries: 2 } });
  return { container: service.getContainerClient(p.containerName), containerUrl: `${serviceUrl.replace(/\/$/, '')}/${p.containerName}` };
}

type ContainerClient = StorageContainerClient;

/** Uploads the asset's files into `container` under `prefix` (`<prefix>/<folder>/<rel>`, or `<prefix>/<file>`); `where` names the store in errors. */
async function uploadFiles(t: AssetTarget, a: LocalAsset, container: ContainerClient, prefix: string, counter: { bytes: number }, where: string): Promise<void> {
  let lastProgress = 0;
  const root = prefix ? `${prefix}/` : '';
  // Progress: a bar several times a second (within a file too), else a line at most once a second.
  let finished = false;
  const report = (bytes: number): void => {
    const done = bytes === a.bytes;
    if (finished || (!done && Date.now() - lastProgress < (t.uploadProgress ? 100 : 1000))) return;
    finished = done;
    lastProgress = Date.now();
    if (t.uploadProgress) t.uploadProgress({ path: a.path, bytes, total: a.bytes });
    else t.progress?.(`uploading ${a.path}: ${bytes}/${a.bytes} bytes`);
  };
  try {
    for (const f of a.files) {
      const blob = a.isFile ? `${root}${f.rel}` : `${root}${basename(a.root)}/${f.rel}`;
      const before = counter.bytes;
      await container.getBlockBlobClient(blob).uploadFile(f.abs, { onProgress: (e) => report(before + Math.min(e.loadedBytes, f.size)) });
      counter.bytes += f.size;
      report(counter.bytes);
    }
  } catch (err) {
    const status = (err as { statusCode?: number }).statusCode;
    if (status === 403 || status === 401) throw new AssetUploadError(`${where} refused Glidepath's credential while uploading ${a.path} (${a.written}): ${(err as Error).message.split('\n')[0]}`, { cause: err });
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'EACCES') throw unreadable(`candidate.deployment.${a.path}`, (err as { path?: string }).path ?? a.root, err);
    throw new AssetUploadError(`uploading ${a.path} (${a.written}) to ${where} failed: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
}

/** Uploads to the default datastore under `prefix`; returns the URL of the uploaded file or folder. */
async function upload(t: AssetTarget, a: LocalAsset, prefix: string, counter: { bytes: number }): Promise<string> {
  const { container, containerUrl } = await datastoreContainer(t);
  try {
    await container.createIfNotExists();
  } catch (err) {
    const status = (err as { statusCode?: number }).statusCode;
    if (status === 403 || status === 401) throw new AssetUploadError(`the datastore ${DATASTORE} refused Glidepath's credential while uploading ${a.path} (${a.written}): ${(err as Error).message.split('\n')[0]}`, { cause: err });
    throw new AssetUploadError(`uploading ${a.path} (${a.written}) to ${DATASTORE} failed: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  await uploadFiles(t, a, container, prefix, counter, `the datastore ${DATASTORE}`);
  return `${containerUrl}/${prefix}/${basename(a.root)}`;
}

/** What `startPendingUpload` answers (2024-04-01 `PendingUploadResponseDto`). */
interface PendingUpload {
  blobReferenceForConsumption?: { blobUri?: string; storageAccountArmId?: string; credential?: { credentialType?: string; sasUri?: string } };
  pendingUploadId?: string;
  pendingUploadType?: string;
}

/**
 * `POST …/codes/{name}/versions/{version}/startPendingUpload` `{"pendingUploadType":"TemporaryBlobReference"}`
 * through the ARM client's own pipeline (authentication, retries, TLS): the SDK has no method for it. Returns
 * the temporary container's URL and its SAS URL.
 */
async function startPendingUpload(t: AssetTarget, name: string, version: string): Promise<{ blobUri: string; sasUri: string }> {
  const { createPipelineRequest } = await import('@azure/core-rest-pipeline');
  const url = `${(t.endpoint ?? t.ml.$host).replace(/\/$/, '')}/subscriptions/${encodeURIComponent(t.subscriptionId)}/resourceGroups/${encodeURIComponent(t.resourceGroup)}/providers/Microsoft.MachineLearningServices/workspaces/${encodeURIComponent(t.workspace)}/codes/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}/startPendingUpload?api-version=${encodeURIComponent(t.ml.apiVersion)}`;
  const request = createPipelineRequest({ url, method: 'POST', body: JSON.stringify({ pendingUploadType: 'TemporaryBlobReference' }) });
  request.headers.set('Content-Type', 'application/json');
  let res;
  try {
    res = await t.ml.sendRequest(request);
  } catch (err) {
    throw new AssetUploadError(`starting the upload of code ${name}:${version} in workspace ${t.workspace} failed: ${(err as Error).message}`, { cause: err });
  }
  let body: PendingUpload & { error?: { message?: string } } = {};
  try {
    body = JSON.parse(res.bodyAsText ?? '{}') as typeof body;
  } catch {
    // an answer that is not JSON is reported below with its status
  }
  if (res.status !== 200) throw new AssetUploadError(`starting the upload of code ${name}:${version} in workspace ${t.workspace} failed (HTTP ${res.status}): ${body.error?.message ?? res.bodyAsText ?? ''}`);
  const ref = body.blobReferenceForConsumption;
  if (!ref?.blobUri || ref.credential?.credentialType !== 'SAS' || !ref.credential.sasUri) throw new AssetUploadError(`starting the upload of code ${name}:${version} in workspace ${t.workspace}: the answer has no SAS blob reference (blobReferenceForConsumption.credential.sasUri)`);
  return { blobUri: ref.blobUri.replace(/\/$/, ''), sasUri: ref.credential.sasUri };
}

/** A found or uploaded asset, waiting for its registration. */
interface Prepared {
  a: LocalAsset;
  /** Set when an existing version is reused (nothing to upload or register). */
  reusedId?: string;
  bytes: number;
  register?: () => Promise<{ id?: string }>;
  fallbackId?: string;
}

/**
 * Finds or uploads and registers each asset; returns their ARM ids. Every upload finishes before the first
 * registration, so an upload that fails (a refused credential, a file gone half way) registers nothing.
 */
export async function registerAssets(t: AssetTarget, assets: readonly LocalAsset[]): Promise<ResolvedAsset[]> {
  const wsId = `/subscriptions/${t.subscriptionId}/resourceGroups/${t.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${t.workspace}`;
  const arm = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      throw new AssetUploadError(`${what} in workspace ${t.workspace} failed: ${(err as Error).message}`, { cause: err });
    }
  };
  const prepared: Prepared[] = [];
  for (const a of assets) {
    const counter = { bytes: 0 };
    if (a.what === 'code') {
      const policy = codeHashPolicy();
      policy.hash = a.hash;
      t.ml.pipeline.addPolicy(policy);
      const name = randomUUID();
      let found: { id?: string } | undefined;
      try {
        found = await arm('looking up code by content hash', async () => {
          for await (const v of t.ml.codeVersions.list(t.resourceGroup, t.workspace, name)) return v;
          return undefined;
        });
      } finally {
        t.ml.pipeline.removePolicy({ name: CODE_HASH_POLICY });
      }
      if (found?.id) {
        prepared.push({ a, reusedId: found.id, bytes: 0 });
        continue;
      }
      // Like az ml: a temporary container with a SAS from startPendingUpload, files under <folder>/.
      const pending = await startPendingUpload(t, name, '1');
      const { ContainerClient } = await import('@azure/storage-blob');
      await uploadFiles(t, a, new ContainerClient(pending.sasUri, undefined, { retryOptions: { maxTries: 2 } }), '', counter, 'the temporary upload container from startPendingUpload');
      const codeUri = `${pending.blobUri}/${basename(a.root)}`;
      prepared.push({
        a,
        bytes: counter.bytes,
        fallbackId: `${wsId}/codes/${name}/versions/1`,
        register: () => arm(`registering code ${name}:1`, () => t.ml.codeVersions.createOrUpdate(t.resourceGroup, t.workspace, name, '1', { properties: { codeUri, isAnonymous: true, properties: { hash_sha256: a.hash, hash_version: HASH_VERSION } } })),
      });
    } else if (a.what === 'environment') {
      // A Docker build context: uploaded like a model, registered as an anonymous environment with build.contextUri.
      const version = a.version!;
      const existing = await t.ml.environmentVersions.get(t.resourceGroup, t.workspace, ANONYMOUS_ENVIRONMENT, version).catch((err: unknown) => (is404(err) ? undefined : Promise.reject(new AssetUploadError(`looking up environment ${ANONYMOUS_ENVIRONMENT}:${version} in workspace ${t.workspace} failed: ${(err as Error).message}`, { cause: err }))));
      if (existing?.id) {
        prepared.push({ a, reusedId: existing.id, bytes: 0 });
        continue;
      }
      const contextUri = `${await upload(t, a, `LocalUpload/${a.hash}`, counter)}/`;
      prepared.push({
        a,
        bytes: counter.bytes,
        fallbackId: `${wsId}/environments/${ANONYMOUS_ENVIRONMENT}/versions/${version}`,
        register: () => arm(`registering environment ${ANONYMOUS_ENVIRONMENT}:${version}`, () => t.ml.environmentVersions.createOrUpdate(t.resourceGroup, t.workspace, ANONYMOUS_ENVIRONMENT, version, { properties: { build: { contextUri, dockerfilePath: a.dockerfilePath ?? 'Dockerfile' }, isAnonymous: true, isArchived: false } })),
      });
    } else {
      const name = a.name!;
      const version = a.version ?? '1';
      const modelUri = `azureml://subscriptions/${t.subscriptionId}/resourcegroups/${t.resourceGroup}/workspaces/${t.workspace}/datastores/${DATASTORE}/paths/LocalUpload/${a.hash}/${basename(a.root)}`;
      const existing = await t.ml.modelVersions.get(t.resourceGroup, t.workspace, name, version).catch((err: unknown) => (is404(err) ? undefined : Promise.reject(new AssetUploadError(`looking up model ${name}:${version} in workspace ${t.workspace} failed: ${(err as Error).message}`, { cause: err }))));
      if (existing?.id) {
        // A named version is immutable: the same files (same object hash in its URI) are reused; other files are refused.
        if (a.named && existing.properties.modelUri !== modelUri) {
          throw new InvalidInputError(`candidate.deployment.model: model ${name}:${version} is already registered in workspace ${t.workspace} with other files (${existing.properties.modelUri ?? 'no modelUri'}); the files at ${a.written} hash to ${a.hash}. Give the inline model a new version.`);
        }
        prepared.push({ a, reusedId: existing.id, bytes: 0 });
        continue;
      }
      await upload(t, a, `LocalUpload/${a.hash}`, counter);
      prepared.push({
        a,
        bytes: counter.bytes,
        fallbackId: `${wsId}/models/${name}/versions/${version}`,
        register: () => arm(`registering model ${name}:${version}`, () => t.ml.modelVersions.createOrUpdate(t.resourceGroup, t.workspace, name, version, { properties: { modelUri, modelType: a.modelType ?? 'custom_model', isAnonymous: !a.named, isArchived: false } })),
      });
    }
  }
  const out: ResolvedAsset[] = [];
  for (const p of prepared) {
    const base = { what: p.a.what, path: p.a.path, written: p.a.written, files: p.a.files.length };
    if (p.reusedId) out.push({ ...base, id: p.reusedId, reused: true, bytesUploaded: 0 });
    else out.push({ ...base, id: (await p.register!()).id ?? p.fallbackId!, reused: false, bytesUploaded: p.bytes });
  }
  return out;
}

/** The deployment spec with each resolved asset replaced by its ARM id (the model's type is kept by the registration). */
export function withAssetIds(deployment: Record<string, unknown>, resolved: readonly ResolvedAsset[]): Record<string, unknown> {
  const d = structuredClone(deployment);
  for (const r of resolved) {
    if (r.what === 'model') d.model = r.id;
    else if (r.what === 'environment') d.environment = r.id;
    else d.code_configuration = { ...(d.code_configuration as Record<string, unknown>), code: r.id };
  }
  return d;
}

/** One line per asset for people: what was (or would be) uploaded and registered. */
export function describeAsset(a: LocalAsset, r?: ResolvedAsset): string {
  const head = `candidate.deployment.${a.path}: ${a.written} (${a.files.length} file${a.files.length === 1 ? '' : 's'}, ${a.bytes} bytes)`;
  if (!r) {
    if (a.what === 'environment') return `${head}: would upload to ${DATASTORE} LocalUpload/${a.hash}/${basename(a.root)} and register anonymous environment ${ANONYMOUS_ENVIRONMENT}:${a.version} (build context, ${a.dockerfilePath}), unless it is already registered`;
    return a.what === 'model'
      ? `${head}: would upload to ${DATASTORE} LocalUpload/${a.hash}/${basename(a.root)} and register ${a.named ? 'model' : 'anonymous model'} ${a.name}:${a.version ?? '1'} (${a.modelType}), unless it is already registered`
      : `${head}: would upload to ${DATASTORE} LocalUpload/${a.hash}/${basename(a.root)} and register an anonymous code version <uuid>:1 with content hash ${a.hash}, unless one with that hash is already registered`;
  }
  return r.reused ? `${head}: already registered as ${r.id}; uploaded 0 bytes` : `${head}: uploaded ${r.bytesUploaded} bytes, registered ${r.id}`;
}

// ───────────────────────────── inline environments ─────────────────────────────

/** The CLI's name for every anonymous environment (reference §3.3). */
export const ANONYMOUS_ENVIRONMENT = 'CliV2AnonymousEnvironment';

/** An inline `{ image, conda_file?, inference_config?, os_type? }` environment, read and hashed. */
export interface InlineEnvironmentAsset {
  what: 'environment';
  path: 'environment';
  written: string;
  image: string;
  condaFile?: string;
  inferenceConfig?: { livenessRoute: { port: number; path: string }; readinessRoute: { port: number; path: string }; scoringRoute: { port: number; path: string } };
  osType?: 'Linux' | 'Windows';
  version: string;
}

const REST_MODELS = 'azure.ai.ml._restclient.arm_ml_service.models._models';
/**
 * What azure-ai-ml 1.35.2 hashes for an inline environment's `inference_config`: `yaml.dump(…, sort_keys=True)`
 * of the REST model object its YAML schema builds (`InferenceContainerProperties` holding `Route`s), which
 * PyYAML writes as tagged Python objects with their `_data` dicts, camelCase keys sorted. The tags name
 * azure-ai-ml's internal classes, so other azure-ai-ml versions may derive other versions for the same YAML;
 * this is 1.35.2's (checked against the package by test/client-unit/asset-hash-oracle.test.ts).
 */
function inferenceConfigDump(ic: { liveness_route: { port: number; path: string }; readiness_route: { port: number; path: string }; scoring_route: { port: number; path: string } }, scalar: (v: string) => string): string {
  const route = (r: { port: number; path: string }) => `!!python/object:${REST_MODELS}.Route\n    _data:\n      path: ${scalar(r.path)}\n      port: ${r.port}\n`;
  return `!!python/object:${REST_MODELS}.InferenceContainerProperties\n_data:\n  livenessRoute: ${route(ic.liveness_route)}  readinessRoute: ${route(ic.readiness_route)}  scoringRoute: ${route(ic.scoring_route)}`;
}

/** Python's `sep.join(hex)`: `sep` between every character of `hex` (what the CLI's version hash does). */
const pyJoin = (sep: string, hex: string): string => [...hex].join(sep);

/**
 * Reads an inline image environment: its conda file (a path relative to `baseDir`, or the spec itself) as
 * YAML with sorted keys, and its version the CLI's way: H = sha256hex(image), then H.join(sha256hex(yaml of
 * inference_config)), then H.join(sha256hex(conda YAML)); version = sha256hex(H). The YAML text is not
 * always byte-identical to PyYAML's (it is for plain channel/dependency lists), so versions can differ from the CLI's for the same conda file; they are
 * stable for Glidepath (same inputs → same version). Undefined when the spec has no inline image environment.
 */
export async function readInlineEnvironment(spec: DeploymentSpec, baseDir: string): Promise<InlineEnvironmentAsset | undefined> {
  const env = spec.environment;
  if (env === undefined || typeof env === 'string' || env.image === undefined || env.build !== undefined) return undefined;
  const { parse, stringify } = await import('yaml');
  // PyYAML's default block style: sorted keys, list items not indented under their key; YAML 1.1 rules for
  // what needs quotes, single quotes first (PyYAML writes 'yes', 'on', '0123' quoted: unquoted, a YAML 1.1
  // reader such as PyYAML would read them back as a boolean or a number).
  const sorted = (v: unknown) => stringify(v, { sortMapEntries: true, indentSeq: false, version: '1.1', singleQuote: true });
  let condaFile: string | undefined;
  if (typeof env.conda_file === 'string') {
    const file = isAbsolute(env.conda_file) ? env.conda_file : resolve(baseDir, env.conda_file);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw unreadable('candidate.deployment.environment.conda_file', file, err);
    }
    let doc: unknown;
    try {
      doc = parse(text);
    } catch (err) {
      throw new InvalidInputError(`candidate.deployment.environment.conda_file: ${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`, [], { cause: err });
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new InvalidInputError(`candidate.deployment.environment.conda_file: ${file} does not hold a conda environment (a mapping with channels and dependencies)`);
    condaFile = sorted(doc);
  } else if (env.conda_file !== undefined) condaFile = sorted(env.conda_file);
  const ic = env.inference_config;
  const inferenceConfig = ic ? { livenessRoute: ic.liveness_route, readinessRoute: ic.readiness_route, scoringRoute: ic.scoring_route } : undefined;
  let h = sha256hex(env.image);
  if (ic) h = pyJoin(h, sha256hex(inferenceConfigDump(ic, (v) => sorted(v).trimEnd())));
  if (condaFile !== undefined) h = pyJoin(h, sha256hex(condaFile));
  return {
    what: 'environment',
    path: 'environment',
    written: `image ${env.image}${typeof env.conda_file === 'string' ? ` + conda_file ${env.conda_file}` : env.conda_file ? ' + inline conda_file' : ''}`,
    image: env.image,
    ...(condaFile !== undefined ? { condaFile } : {}),
    ...(inferenceConfig ? { inferenceConfig } : {}),
    ...(env.os_type ? { osType: env.os_type === 'windows' ? ('Windows' as const) : ('Linux' as const) } : {}),
    version: sha256hex(h),
  };
}

/** Registers the anonymous environment version (PUT is idempotent: the same inputs give the same version). */
export async function registerEnvironment(t: AssetTarget, e: InlineEnvironmentAsset): Promise<ResolvedAsset> {
  let existing: { id?: string } | undefined;
  try {
    existing = await t.ml.environmentVersions.get(t.resourceGroup, t.workspace, ANONYMOUS_ENVIRONMENT, e.version);
  } catch (err) {
    if (!is404(err)) throw new AssetUploadError(`looking up environment ${ANONYMOUS_ENVIRONMENT}:${e.version} in workspace ${t.workspace} failed: ${(err as Error).message}`, { cause: err });
  }
  if (existing?.id) return { what: 'environment', path: e.path, written: e.written, id: existing.id, reused: true, files: 0, bytesUploaded: 0 };
  try {
    const r = await t.ml.environmentVersions.createOrUpdate(t.resourceGroup, t.workspace, ANONYMOUS_ENVIRONMENT, e.version, {
      properties: { image: e.image, ...(e.condaFile !== undefined ? { condaFile: e.condaFile } : {}), ...(e.inferenceConfig ? { inferenceConfig: e.inferenceConfig } : {}), ...(e.osType ? { osType: e.osType } : {}), isAnonymous: true, isArchived: false },
    });
    return { what: 'environment', path: e.path, written: e.written, id: r.id!, reused: false, files: 0, bytesUploaded: 0 };
  } catch (err) {
    throw new AssetUploadError(`registering environment ${ANONYMOUS_ENVIRONMENT}:${e.version} in workspace ${t.workspace} failed: ${(err as Error).message}`, { cause: err });
  }
}

/** One line for people about an inline environment. */
export function describeEnvironment(e: InlineEnvironmentAsset, r?: ResolvedAsset): string {
  const head = `candidate.deployment.environment: ${e.written}`;
  if (!r) return `${head}: would register anonymous environment ${ANONYMOUS_ENVIRONMENT}:${e.version}, unless it is already registered`;
  return r.reused ? `${head}: already registered as ${r.id}` : `${head}: registered ${r.id}`;
}
