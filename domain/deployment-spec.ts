/**
 * The candidate deployment of a plan: Azure ML's managed online deployment YAML, key for key, as users
 * write it for `az ml online-deployment create -f blue-deployment.yml` (schema
 * `https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json`; reference
 * azure-ml-cli-assets.md §2), so a file from Azure's samples can be used as written.
 *
 * - `model`, `environment` and `code_configuration.code` are references to registered assets
 *   (`azureml:<name>:<version>`, `azureml:<name>@latest`, `azureml://registries/<r>/models/<n>/versions/<v>`,
 *   an ARM id) or inline/local assets (`model: { path: ./model, type: mlflow_model }`,
 *   `environment: { image: …, conda_file: ./conda.yml }`, `code: ./onlinescoring`), which the Azure ML CLI
 *   uploads and registers first; {@link pendingAssets} lists the latter.
 * - `model` may be absent: custom containers and packaged models serve without one.
 * - Keys of Kubernetes online deployments (`type: kubernetes`, `resources`, `scale_settings.type:
 *   target_utilization`, a cluster instance type) are refused by name: Glidepath rolls out to managed
 *   online endpoints.
 * - `environment_variables` and `tags` are guarded against literal secrets (domain/secrets.ts); Key Vault
 *   and workspace-connection references are accepted.
 *
 * Pure: no I/O. The ARM body is built from this in activities/deployment-body.ts.
 */
import { z } from 'zod';
import { secretFindings } from './secrets.js';

const nonEmpty = z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' });

/** YAML writes `WORKERS: 4` or `DEBUG: true`; Azure's environment variables and tags are strings. */
const scalarText = z
  .union([z.string(), z.number(), z.boolean()], { error: 'must be a string (or a number or true/false)' })
  .transform((v) => String(v));

/** Refuses entries that look like credentials (domain/secrets.ts): the plan travels in the workflow history (invariant 9). */
function refuseSecrets(entries: Record<string, string>, ctx: z.RefinementCtx): void {
  for (const f of secretFindings(entries)) ctx.addIssue({ code: 'custom', path: [f.key], message: f.reason });
}

const stringMap = z.record(z.string(), scalarText, { error: 'must be a map of names to strings' });
const guardedMap = stringMap.superRefine(refuseSecrets);

/** The message every Kubernetes-only key is refused with. */
export function kubernetesOnly(what: string): string {
  return `managed online endpoints do not take ${what} (Kubernetes online deployments only)`;
}

// ───────────────────────────── asset references ─────────────────────────────

const ARM_VERSION_ID = /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.MachineLearningServices\/(?:workspaces|registries)\/[^/]+\/(models|environments|codes)\/[^/]+\/versions\/[^/]+$/i;
const REGISTRY_URI = /^azureml:\/\/registries\/([^/]+)\/(models|environments)\/([^/]+)\/(versions|labels)\/([^/]+)$/;
const WORKSPACE_VERSION = /^azureml:([A-Za-z0-9_][A-Za-z0-9_.-]{0,254}):(.+)$/;
const WORKSPACE_LABEL = /^azureml:([A-Za-z0-9_][A-Za-z0-9_.-]{0,254})@([^@/:]+)$/;
const WORKSPACE_NAME_ONLY = /^azureml:([A-Za-z0-9_][A-Za-z0-9_.-]{0,254})$/;

/** A parsed asset reference. */
export type AssetRef =
  | { form: 'version'; name: string; version: string }
  | { form: 'latest'; name: string }
  | { form: 'curated'; name: string }
  | { form: 'registry'; registry: string; name: string; version: string }
  | { form: 'registryLabel'; registry: string; name: string; label: string }
  | { form: 'armId'; id: string };

/**
 * Reads `azureml:<name>:<version>`, `azureml:<name>@latest`, a registry URI or an ARM id the way the Azure
 * ML CLI does (§4: the version is everything after the first `:`; `@` labels other than `latest` fail; a
 * curated `azureml:AzureML-…` environment passes through for the service to resolve). Returns the
 * reference or why it is not one.
 */
export function parseAssetRef(text: string, kind: 'models' | 'environments' | 'codes'): AssetRef | { problem: string } {
  const forms = `azureml:<name>:<version>${kind === 'codes' ? '' : ', azureml:<name>@latest'}${kind === 'codes' ? '' : `, azureml://registries/<registry>/${kind}/<name>/versions/<version>`} or an ARM id`;
  const arm = ARM_VERSION_ID.exec(text);
  if (arm) return arm[1]!.toLowerCase() === kind ? { form: 'armId', id: text } : { problem: `is an ARM id of ${arm[1]}, not of ${kind}` };
  const reg = REGISTRY_URI.exec(text);
  if (reg) {
    if (kind === 'codes') return { problem: `must be ${forms} (code is not taken from a registry)` };
    if (reg[2] !== kind) return { problem: `names registry ${reg[2]}, not ${kind}` };
    // `…/labels/latest` is in Azure's samples (a curated environment); the registry resolves it.
    return reg[4] === 'labels' ? { form: 'registryLabel', registry: reg[1]!, name: reg[3]!, label: reg[5]! } : { form: 'registry', registry: reg[1]!, name: reg[3]!, version: reg[5]! };
  }
  if (kind === 'environments' && /^azureml:AzureML-[^/]+$/.test(text)) return { form: 'curated', name: text.slice('azureml:'.length) };
  const label = WORKSPACE_LABEL.exec(text);
  if (label) {
    if (kind === 'codes') return { problem: `must be ${forms} (a label such as @latest is not resolved for code)` };
    if (label[2] !== 'latest') return { problem: `names the label @${label[2]}; the only label Azure ML resolves is @latest` };
    return { form: 'latest', name: label[1]! };
  }
  const ver = WORKSPACE_VERSION.exec(text);
  if (ver) return { form: 'version', name: ver[1]!, version: ver[2]! };
  if (WORKSPACE_NAME_ONLY.test(text)) return { problem: `needs a version: ${text}:<version>${kind === 'codes' ? '' : ` or ${text}@latest`}` };
  return { problem: `must be ${forms}` };
}

const assetRef = (kind: 'models' | 'environments' | 'codes') =>
  nonEmpty.superRefine((text, ctx) => {
    const r = parseAssetRef(text, kind);
    if ('problem' in r) ctx.addIssue({ code: 'custom', message: r.problem });
  });

/**
 * True when a path names files on this machine rather than a place Azure can read (`azureml://datastores/…`,
 * `https://…`, `wasbs://…`, `runs:/…`). A Windows drive path (`C:\models`) is local.
 */
export function isLocalPath(path: string): boolean {
  if (/^[A-Za-z]:[\\/]/.test(path)) return true;
  return !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(path);
}

/** True when `code_configuration.code` names a registered code asset (not a local folder). */
export function isCodeReference(code: string): boolean {
  return code.startsWith('azureml:') || /^\/subscriptions\//i.test(code);
}

// ───────────────────────────── inline assets ─────────────────────────────

const version = z.union([nonEmpty, z.number().transform(String)], { error: 'must be a version (string or number)' });

/** `model: { path: ./model, type: mlflow_model }`: a model the CLI uploads (local path) and registers. */
const inlineModel = z.strictObject({
  $schema: z.string().optional(),
  name: nonEmpty.optional(),
  version: version.optional(),
  path: nonEmpty,
  type: z.enum(['custom_model', 'mlflow_model', 'triton_model'], { error: 'must be custom_model, mlflow_model or triton_model' }).optional(),
  description: z.string().optional(),
  tags: guardedMap.optional(),
  properties: stringMap.optional(),
  stage: z.string().optional(),
});

const route = z.strictObject({
  port: z.int({ error: 'must be a port number' }).min(1).max(65535),
  path: nonEmpty,
});

/** `environment: { image: …, conda_file: ./conda.yml }` or `{ build: { path: ./docker-context } }`. */
const inlineEnvironment = z
  .strictObject({
    $schema: z.string().optional(),
    name: nonEmpty.optional(),
    version: version.optional(),
    description: z.string().optional(),
    tags: guardedMap.optional(),
    image: nonEmpty.optional(),
    conda_file: z.union([nonEmpty, z.record(z.string(), z.unknown())], { error: 'must be the path of a conda YAML file (or the conda spec itself)' }).optional(),
    build: z.strictObject({ path: nonEmpty, dockerfile_path: nonEmpty.optional() }).optional(),
    inference_config: z
      .strictObject({ liveness_route: route, readiness_route: route, scoring_route: route })
      .optional(),
    os_type: z.enum(['linux', 'windows'], { error: 'must be linux or windows' }).optional(),
  })
  .superRefine((e, ctx) => {
    if ((e.image === undefined) === (e.build === undefined)) {
      ctx.addIssue({ code: 'custom', message: e.image ? 'must have image or build, not both' : 'needs image (a Docker image) or build (a Docker build context)' });
    }
    if (e.build && e.conda_file !== undefined) ctx.addIssue({ code: 'custom', path: ['conda_file'], message: 'goes with image; a build context installs its own packages' });
  });

/** An inline model as written. */
export type InlineModel = z.output<typeof inlineModel>;
/** An inline environment as written. */
export type InlineEnvironment = z.output<typeof inlineEnvironment>;

// ───────────────────────────── the deployment ─────────────────────────────

const probe = z.strictObject({
  initial_delay: z.int().min(0).optional(),
  period: z.int().min(1).optional(),
  timeout: z.int().min(1).optional(),
  success_threshold: z.int().min(1).optional(),
  failure_threshold: z.int().min(1).optional(),
});

/** `data_collector` (reference azure-monitor-logs-and-data-collection.md §4.1). */
const dataCollector = z.strictObject({
  collections: z.record(
    z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'must be a collection name (letters, digits, _ and -)' }),
    z.strictObject({
      enabled: z.union([z.boolean(), z.string().regex(/^(true|false)$/i)], { error: "must be 'True' or 'False'" }).transform((v) => v === true || String(v).toLowerCase() === 'true'),
      data: z
        .union([nonEmpty, z.strictObject({ name: nonEmpty.optional(), path: nonEmpty.optional(), version: version.optional() })], {
          error: 'must be a data asset (azureml:<name>:<version>) or { name, path, version }',
        })
        .optional(),
      client_id: z.string().optional(),
    }),
    { error: 'must map collection names (model_inputs, model_outputs, request, response) to { enabled }' },
  ),
  sampling_rate: z.number({ error: 'must be a number 0..1' }).min(0, { error: 'must be 0..1' }).max(1, { error: 'must be 0..1' }).optional(),
  rolling_rate: z
    .string({ error: 'must be minute, hour or day' })
    .transform((s) => s.toLowerCase())
    .pipe(z.enum(['minute', 'hour', 'day'], { error: 'must be minute, hour or day' }))
    .optional(),
  request_logging: z.strictObject({ capture_headers: z.array(nonEmpty, { error: 'must be a list of header names' }) }).optional(),
});

/**
 * The Azure ML CLI v2 managed online deployment keys, snake_case as users write them. `name`,
 * `endpoint_name` and `$schema` are accepted so a deployment file can be used as written; the plan checks
 * that `name` and `endpoint_name` agree with `candidate.name` and `target.endpoint`.
 */
/** The managed deployment's keys alone (without the Kubernetes pre-check), for the editor's JSON Schema. */
export const ManagedDeploymentSchema = z
  .strictObject({
    $schema: z.string({ error: 'must be a string' }).optional(),
    name: z.string({ error: 'must be a string' }).optional(),
    endpoint_name: z.string({ error: 'must be a string' }).optional(),
    type: z.string({ error: 'must be managed' }).optional(),
    description: z.string().optional(),
    tags: guardedMap.optional(),
    properties: stringMap.optional(),
    model: z.union([assetRef('models'), inlineModel], { error: 'must be a model reference (azureml:<name>:<version>) or an inline model { path, type }' }).optional(),
    model_mount_path: z.string({ error: 'must be an absolute path' }).regex(/^\/[^\0]*$/, { error: 'must be an absolute path such as /var/tfserving-model-mount' }).optional(),
    code_configuration: z
      .strictObject({
        code: nonEmpty.superRefine((code, ctx) => {
          if (!isCodeReference(code)) return; // a local folder
          const r = parseAssetRef(code, 'codes');
          if ('problem' in r) ctx.addIssue({ code: 'custom', message: r.problem });
        }),
        scoring_script: nonEmpty,
      })
      .optional(),
    environment: z
      .union([assetRef('environments'), inlineEnvironment], { error: 'must be an environment reference (azureml:<name>:<version>) or an inline environment { image, conda_file }' })
      .optional(),
    environment_variables: guardedMap.optional(),
    instance_type: nonEmpty,
    instance_count: z
      .number({ error: 'must be an integer 1..50' })
      .int({ error: 'must be an integer 1..50' })
      .min(1, { error: 'must be 1..50' })
      .max(50, { error: 'must be 1..50' }),
    app_insights_enabled: z.boolean({ error: 'must be true or false' }).optional(),
    scale_settings: z.looseObject({ type: z.string({ error: 'must be default' }) }).optional(),
    request_settings: z
      .strictObject({
        request_timeout_ms: z.int({ error: 'must be an integer' }).min(1).max(180_000, { error: 'must be 1..180000 (Azure caps managed endpoints at 180 s)' }).optional(),
        max_concurrent_requests_per_instance: z.int({ error: 'must be an integer' }).min(1, { error: 'must be at least 1' }).optional(),
        max_queue_wait_ms: z.int({ error: 'must be an integer' }).min(0).optional(),
      })
      .optional(),
    liveness_probe: probe.optional(),
    readiness_probe: probe.optional(),
    data_collector: dataCollector.optional(),
    egress_public_network_access: z.enum(['enabled', 'disabled'], { error: 'must be enabled or disabled' }).optional(),
    private_network_connection: z.boolean({ error: 'must be true or false' }).optional(),
  });

const K8S_SCALE_KEYS = ['polling_interval', 'target_utilization_percentage', 'min_instances', 'max_instances'];

/**
 * Refuses what only Kubernetes online deployments take, by name, before anything else is checked (a
 * Kubernetes deployment lacks keys a managed one needs, and "instance_type: is required" would say the
 * wrong thing): `type: kubernetes`, the Kubernetes schema, `resources`, a cluster instance type,
 * `scale_settings.type: target_utilization` and its settings.
 */
function refuseKubernetesKeys(input: unknown, ctx: z.RefinementCtx): void {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return; // the schema says what it must be
  const d = input as Record<string, unknown>;
  const k8s = (path: PropertyKey[], what: string, extra = '') => ctx.addIssue({ code: 'custom', path, message: kubernetesOnly(what) + extra });
  if (typeof d.type === 'string' && d.type.toLowerCase() === 'kubernetes') k8s(['type'], 'type: kubernetes', '; Glidepath rolls out to managed online endpoints');
  else if (d.type !== undefined && (typeof d.type !== 'string' || d.type.toLowerCase() !== 'managed')) ctx.addIssue({ code: 'custom', path: ['type'], message: 'must be managed' });
  if (typeof d.$schema === 'string' && /kubernetesOnlineDeployment/i.test(d.$schema)) k8s(['$schema'], `the Kubernetes online deployment schema (${d.$schema})`);
  if (d.resources !== undefined) k8s(['resources'], 'resources');
  if (typeof d.instance_type === 'string' && d.instance_type !== '' && !/^standard_/i.test(d.instance_type)) {
    k8s(['instance_type'], `instance_type: ${d.instance_type}`, ' — a managed deployment names an Azure VM size such as Standard_DS3_v2');
  }
  const scale = d.scale_settings;
  if (scale !== null && typeof scale === 'object' && !Array.isArray(scale)) {
    const { type, ...rest } = scale as Record<string, unknown>;
    if (typeof type === 'string' && type.toLowerCase() === 'target_utilization') k8s(['scale_settings', 'type'], 'scale_settings.type: target_utilization');
    else if (typeof type !== 'string' || type.toLowerCase() !== 'default') ctx.addIssue({ code: 'custom', path: ['scale_settings', 'type'], message: 'must be default' });
    for (const key of Object.keys(rest)) {
      if (K8S_SCALE_KEYS.includes(key)) k8s(['scale_settings', key], `scale_settings.${key}`);
      else ctx.addIssue({ code: 'custom', path: ['scale_settings', key], message: 'unknown key (known keys: type)' });
    }
  }
}

/**
 * The Azure ML CLI v2 managed online deployment keys, snake_case as users write them. `name`,
 * `endpoint_name` and `$schema` are accepted so a deployment file can be used as written; the plan checks
 * that `name` and `endpoint_name` agree with `candidate.name` and `target.endpoint`. Kubernetes-only keys
 * are refused first, by name.
 */
export const DeploymentSpecSchema = z.unknown().superRefine(refuseKubernetesKeys).pipe(ManagedDeploymentSchema) as unknown as typeof ManagedDeploymentSchema;

/** The candidate deployment, as the plan describes it. */
export type DeploymentSpec = z.output<typeof DeploymentSpecSchema>;

// ───────────────────────────── reading a spec ─────────────────────────────

/** What the spec's model is, for messages and the timeline: `azureml:fraud-detector:2`, `inline mlflow_model ./model`, `no model`. */
export function modelLabel(spec: Pick<DeploymentSpec, 'model'>): string {
  const m = spec.model;
  if (m === undefined) return 'no model';
  if (typeof m === 'string') return m;
  return `inline ${m.type ?? 'custom_model'} ${m.path}`;
}

/** The model reference the rollout checks and deploys, or undefined (no model, or an inline model). */
export function modelReference(spec: Pick<DeploymentSpec, 'model'>): string | undefined {
  return typeof spec.model === 'string' ? spec.model : undefined;
}

/** The name of an `azureml:<name>@latest` model, which the rollout resolves to a version when it starts. */
export function latestModelName(spec: Pick<DeploymentSpec, 'model'>): string | undefined {
  if (typeof spec.model !== 'string') return undefined;
  const r = parseAssetRef(spec.model, 'models');
  return 'form' in r && r.form === 'latest' ? r.name : undefined;
}

/** One asset of a spec that has to be uploaded or registered before ARM can take the deployment. */
export interface PendingAsset {
  /** Where in the deployment spec (`model.path`, `code_configuration.code`). */
  path: string;
  /** The local path or the inline asset, as written. */
  value: string;
  /** True when files on this machine must be uploaded (not only an asset registered). */
  local: boolean;
  what: 'model' | 'environment' | 'code' | 'data';
}

/**
 * The assets the Azure ML CLI would upload and register before it creates the deployment: an inline model
 * (its files, or a remote path registered as an anonymous model), an inline environment (its conda file
 * or build context; an anonymous environment version), local code, and `data_collector` data given by
 * path. ARM takes none of these as written: it takes asset ids.
 */
export function pendingAssets(spec: DeploymentSpec): PendingAsset[] {
  const out: PendingAsset[] = [];
  if (spec.model !== undefined && typeof spec.model !== 'string') {
    out.push({ path: 'model.path', value: spec.model.path, local: isLocalPath(spec.model.path), what: 'model' });
  }
  const env = spec.environment;
  if (env !== undefined && typeof env !== 'string') {
    if (env.build) out.push({ path: 'environment.build.path', value: env.build.path, local: isLocalPath(env.build.path), what: 'environment' });
    else if (typeof env.conda_file === 'string') out.push({ path: 'environment.conda_file', value: env.conda_file, local: isLocalPath(env.conda_file), what: 'environment' });
    else out.push({ path: 'environment', value: `image ${env.image ?? ''}`, local: false, what: 'environment' });
  }
  const code = spec.code_configuration?.code;
  if (code !== undefined && !isCodeReference(code)) {
    out.push({ path: 'code_configuration.code', value: code, local: true, what: 'code' });
  }
  for (const [name, c] of Object.entries(spec.data_collector?.collections ?? {})) {
    if (c.data && typeof c.data !== 'string' && c.data.path !== undefined) {
      out.push({ path: `data_collector.collections.${name}.data.path`, value: c.data.path, local: isLocalPath(c.data.path), what: 'data' });
    }
  }
  return out;
}
