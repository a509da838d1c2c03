// Request validation for the management plane: zod schemas of the bodies Azure ML accepts, name rules
// (reference §3.3), ISO-8601 durations, and the mapping of the domain's traffic rules to ARM errors.
import { z } from 'zod';
import { trafficViolations, deletionViolation, type TrafficState, type TrafficViolation } from '../domain/traffic.js';
import { ArmError } from './http.js';

/** Endpoint and deployment names: a letter first, 3 to 32 letters, digits and single dashes, no dash at the end. */
export function nameProblem(kind: 'endpoint' | 'deployment', name: string): string | undefined {
  if (name.length < 3 || name.length > 32) return `The ${kind} name '${name}' must be 3 to 32 characters long.`;
  if (!/^[a-zA-Z]/.test(name)) return `The ${kind} name '${name}' must start with a letter.`;
  if (!/^[a-zA-Z0-9-]+$/.test(name)) return `The ${kind} name '${name}' may contain only letters, digits and dashes.`;
  if (name.includes('--') || name.endsWith('-')) return `The ${kind} name '${name}' may contain only single dashes between letters or digits.`;
  return undefined;
}

export function checkName(kind: 'endpoint' | 'deployment', name: string): void {
  const problem = nameProblem(kind, name);
  if (problem) throw new ArmError(400, 'BadArgument', problem, `${kind}Name`);
}

/** Workspace names (spec pattern `^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$`). */
export function checkWorkspaceName(name: string): void {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$/.test(name)) {
    throw new ArmError(400, 'BadArgument', `The workspace name '${name}' does not match ^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$.`, 'workspaceName');
  }
}

/** Milliseconds in an ISO-8601 duration such as `PT5S`, `PT0.5S`, `PT1M30S`, `P1D`; undefined if it is not one. */
export function parseIsoDuration(text: string): number | undefined {
  const m = /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(text);
  if (!m || text === 'P' || text.endsWith('T')) return undefined;
  const [, d, h, min, s] = m;
  return Math.round((Number(d ?? 0) * 86400 + Number(h ?? 0) * 3600 + Number(min ?? 0) * 60 + Number(s ?? 0)) * 1000);
}

const isoDuration = z.string().refine((s) => parseIsoDuration(s) !== undefined, { message: 'must be an ISO-8601 duration such as PT5S' });
const stringMap = z.record(z.string(), z.string());
/**
 * A traffic map as the caller sent it. Not a zod record: a record's output drops a `__proto__` key
 * silently (assigning it to `{}` sets the prototype), so `{"blue":100,"__proto__":0}` would pass as
 * `{blue:100}`. Every own key is kept (in a null-prototype object) and judged by the traffic rules, so
 * `__proto__`, `constructor` or any other name that is not a deployment is refused like an unknown
 * deployment, as Azure refuses it.
 */
const trafficMap = z
  .custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), { error: 'Invalid input: expected record, received something else' })
  .superRefine((map, ctx) => {
    for (const [k, v] of Object.entries(map)) if (typeof v !== 'number') ctx.addIssue({ code: 'custom', path: [k], message: `Invalid input: expected number, received ${v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v}` });
  })
  .transform((map) => {
    const out = Object.create(null) as Record<string, number>;
    for (const [k, v] of Object.entries(map)) out[k] = v as number;
    return out;
  });
const identity = z.looseObject({
  type: z.enum(['None', 'SystemAssigned', 'UserAssigned', 'SystemAssigned,UserAssigned']),
  userAssignedIdentities: z.record(z.string(), z.unknown()).nullish(),
});
const sku = z.looseObject({
  name: z.string().nullish(),
  tier: z.enum(['Free', 'Basic', 'Standard', 'Premium']).nullish(),
  size: z.string().nullish(),
  family: z.string().nullish(),
  capacity: z.number().int().min(1, 'must be at least 1 instance').max(50, 'must be at most 50 instances (per-deployment limit)').nullish(),
});

export const endpointPutSchema = z.looseObject({
  location: z.string().min(1),
  tags: stringMap.nullish(),
  kind: z.string().nullish(),
  identity: identity.nullish(),
  sku: sku.nullish(),
  properties: z.looseObject({
    authMode: z.enum(['Key', 'AMLToken', 'AADToken']),
    description: z.string().nullish(),
    properties: stringMap.nullish(),
    keys: z.looseObject({ primaryKey: z.string().min(1).nullish(), secondaryKey: z.string().min(1).nullish() }).nullish(),
    compute: z.string().nullish(),
    publicNetworkAccess: z.enum(['Enabled', 'Disabled']).nullish(),
    traffic: trafficMap.nullish(),
    mirrorTraffic: trafficMap.nullish(),
  }),
});
export type EndpointPut = z.infer<typeof endpointPutSchema>;

export const endpointPatchSchema = z.strictObject({
  tags: stringMap.nullish(),
  identity: z.looseObject({ type: identity.shape.type.nullish(), userAssignedIdentities: z.record(z.string(), z.unknown()).nullish() }).nullish(),
});

const probe = z.looseObject({
  failureThreshold: z.number().int().min(1).nullish(),
  successThreshold: z.number().int().min(1).nullish(),
  timeout: isoDuration.nullish(),
  period: isoDuration.nullish(),
  initialDelay: isoDuration.nullish(),
});

/** An ARM enum: any casing accepted (Azure's enums are case-insensitive), Azure's casing kept. */
function caseInsensitiveEnum<T extends string>(values: readonly T[]) {
  return z.string().transform((s, ctx) => {
    const hit = values.find((v) => v.toLowerCase() === s.toLowerCase());
    if (hit) return hit;
    ctx.addIssue({ code: 'custom', message: `must be one of ${values.join(', ')} (any casing), got '${s}'` });
    return z.NEVER;
  });
}

/**
 * `properties.dataCollector` (api-version 2023-04-01-preview and later; azure-ai-ml's DataCollector /
 * Collection / RequestLogging models): `collections` is required, each with `dataCollectionMode`
 * Enabled|Disabled, `samplingRate` 0..1, `dataId`, `clientId`; `rollingRate` Year|Month|Day|Hour|Minute;
 * `requestLogging.captureHeaders` a list of header names.
 */
export const dataCollectorSchema = z.strictObject({
  collections: z
    .record(
      z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]{0,63}$/, 'collection names are letters, digits, _ and -, at most 64 characters'),
      z.strictObject({
        dataCollectionMode: caseInsensitiveEnum(['Enabled', 'Disabled'] as const).nullish(),
        samplingRate: z.number().min(0, 'must be from 0.0 to 1.0').max(1, 'must be from 0.0 to 1.0').nullish(),
        dataId: z.string().min(1).nullish(),
        clientId: z.string().min(1).nullish(),
      }),
    )
    .refine((c) => Object.keys(c).length > 0, { message: 'must name at least one collection (model_inputs, model_outputs, request, response, …)' }),
  rollingRate: caseInsensitiveEnum(['Year', 'Month', 'Day', 'Hour', 'Minute'] as const).nullish(),
  requestLogging: z
    .strictObject({ captureHeaders: z.array(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'must be an HTTP header name')).max(32).nullish() })
    .nullish(),
});

export const deploymentPutSchema = z.looseObject({
  location: z.string().min(1),
  tags: stringMap.nullish(),
  kind: z.string().nullish(),
  identity: identity.nullish(),
  sku: sku.nullish(),
  properties: z.looseObject({
    endpointComputeType: z.enum(['Managed', 'Kubernetes', 'AzureMLCompute']),
    model: z.string().min(1),
    modelMountPath: z.string().nullish(),
    codeConfiguration: z.looseObject({ codeId: z.string().nullish(), scoringScript: z.string().min(1) }).nullish(),
    environmentId: z.string().nullish(),
    environmentVariables: stringMap.nullish(),
    description: z.string().nullish(),
    properties: stringMap.nullish(),
    instanceType: z.string().min(1).nullish(),
    scaleSettings: z
      .looseObject({
        scaleType: z.enum(['Default', 'TargetUtilization']),
        minInstances: z.number().int().min(0).nullish(),
        maxInstances: z.number().int().min(1).nullish(),
        pollingInterval: isoDuration.nullish(),
        targetUtilizationPercentage: z.number().int().min(1).max(100).nullish(),
      })
      .nullish(),
    requestSettings: z
      .looseObject({
        maxConcurrentRequestsPerInstance: z.number().int().min(1).max(1000).nullish(),
        maxQueueWait: isoDuration.nullish(),
        requestTimeout: isoDuration
          .refine((s) => (parseIsoDuration(s) ?? 0) <= 180_000, { message: 'must be at most PT180S for managed endpoints' })
          .nullish(),
      })
      .nullish(),
    livenessProbe: probe.nullish(),
    readinessProbe: probe.nullish(),
    appInsightsEnabled: z.boolean().nullish(),
    egressPublicNetworkAccess: z.enum(['Enabled', 'Disabled']).nullish(),
    dataCollector: dataCollectorSchema.nullish(),
  }),
});
export type DeploymentPut = z.infer<typeof deploymentPutSchema>;
export type DataCollectorPut = z.infer<typeof dataCollectorSchema>;

export const deploymentPatchSchema = z.strictObject({
  tags: stringMap.nullish(),
  sku: sku.nullish(),
});

export const regenerateKeysSchema = z.looseObject({
  keyType: z.enum(['Primary', 'Secondary']),
  keyValue: z.string().min(1).nullish(),
});

export const getLogsSchema = z
  .looseObject({
    containerType: z.enum(['StorageInitializer', 'InferenceServer']).nullish(),
    tail: z.number().int().min(0).max(10_000).nullish(),
  })
  .nullish();

/** Parses `body` with `schema`, or throws 400 BadArgument naming every offending path. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues.slice(0, 20).map((i) => {
    const target = i.path.map(String).join('.') || '(body)';
    return { code: 'BadArgument', target, message: `${target}: ${i.message}` };
  });
  const first = details[0];
  throw new ArmError(400, 'BadArgument', `Invalid ${what} request body. ${first ? first.message : ''}`.trim(), first?.target, details);
}

const trafficMessages: Record<TrafficViolation['code'], string> = {
  NotAnInteger: 'Traffic values must be integer percentages.',
  OutOfRange: 'Traffic values must be between 0 and 100.',
  LiveSum: 'Total traffic must be 0 or 100.',
  UnknownDeployment: 'Traffic can only be set for deployments that exist under the endpoint.',
  MirrorTooHigh: 'Mirror traffic must be at most 50%.',
  MultipleMirrorTargets: 'Mirror traffic can target only one deployment.',
  LiveAndMirror: 'A deployment cannot receive both live traffic and mirror traffic.',
  DeleteWithTraffic: 'A deployment with traffic cannot be deleted; set its traffic to 0 first.',
};

/** Refuses a traffic state Azure refuses: 400 BadArgument, the first rule's wording, every violation in details. */
export function checkTraffic(state: TrafficState, deployments: readonly string[]): void {
  const violations = trafficViolations(state, deployments);
  const first = violations[0];
  if (!first) return;
  throw new ArmError(
    400,
    'BadArgument',
    `${trafficMessages[first.code]} (${first.message})`,
    'properties.traffic',
    violations.map((v) => ({ code: v.code, message: v.message, ...(v.deployment ? { target: v.deployment } : {}) })),
  );
}

/** Refuses deleting a deployment that still has live or mirror traffic. */
export function checkDeletion(deployment: string, state: TrafficState): void {
  const v = deletionViolation(deployment, state);
  if (v) throw new ArmError(400, 'BadArgument', `${trafficMessages[v.code]} (${v.message})`, deployment, [{ code: v.code, message: v.message }]);
}
