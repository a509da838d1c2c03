/**
 * Reading a plan the way the CLI does: from a file or stdin (`-`), YAML or JSON, with `--set key=value`
 * overrides applied before validation, so an override is checked exactly like the file
 * (`--set candidate.deployment.instance_count=0` → `candidate.deployment.instance_count: must be 1..50`).
 */
import { dirname, isAbsolute, join } from 'node:path';
import { parseDocument } from 'yaml';
import { isLocalPath, parseAssetRef, pendingAssets } from '../domain/deployment-spec.js';
import { approverIssues, formatPlanIssue, parsePlan, type PlanDocument, type RolloutPlan } from '../domain/plan.js';
import { formatPolicyViolation, policyViolations } from '../domain/policies.js';
import { InvalidInputError } from './errors.js';

/** Where the CLI reads files and stdin from (injected so tests need no disk). */
export interface PlanSource {
  readFile(path: string): Promise<string>;
  readStdin(): Promise<string>;
}

/** A plan read, overridden and validated: the document as it travels in the workflow input, and the parsed plan. */
export interface LoadedPlan {
  source: string;
  /** The folder local asset paths are relative to: the deployment file's, else the plan file's (the working directory for stdin). */
  baseDir: string;
  document: PlanDocument;
  plan: RolloutPlan;
}

/** One `--set` override: a path like `candidate.deployment.model` or `strategy[0].mirror.percent`, and a YAML scalar value. */
export interface PlanOverride {
  path: (string | number)[];
  value: unknown;
  text: string;
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'prototype', 'constructor']);

/** The largest plan file read: real plans are a few KiB; a larger file is refused before it is parsed. */
export const MAX_PLAN_BYTES = 256 * 1024;

/**
 * How much YAML alias expansion a plan may use (the `yaml` package's `maxAliasCount`): enough for a
 * plan that reuses a gate block, far too little for a "billion laughs" document, which is refused.
 */
export const MAX_ALIAS_COUNT = 100;

/** `strategy[2].gates` for a path of keys and indices. */
function formatPath(path: readonly (string | number)[]): string {
  return path.map((seg, i) => (typeof seg === 'number' ? `[${seg}]` : i === 0 ? seg : `.${seg}`)).join('');
}

/** Parses `key=value` (value read as YAML, so `5` is a number and `true` a boolean); throws InvalidInputError. */
export function parseOverride(text: string): PlanOverride {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new InvalidInputError(`bad --set '${text}': expected key=value, e.g. --set candidate.deployment.model=azureml:fraud-detector:7`);
  const key = text.slice(0, eq).trim();
  const raw = text.slice(eq + 1);
  const path: (string | number)[] = [];
  for (const part of key.split('.')) {
    const m = /^([A-Za-z_][\w-]*)((?:\[\d+\])*)$/.exec(part) ?? /^()((?:\[\d+\])+)$/.exec(part);
    if (!m || (m[1] === '' && path.length === 0)) throw new InvalidInputError(`bad --set '${text}': '${key}' is not a path like candidate.deployment.model or strategy[0].mirror.percent`);
    if (m[1]) {
      if (FORBIDDEN_KEYS.has(m[1])) throw new InvalidInputError(`bad --set '${text}': '${m[1]}' is not a plan key`);
      path.push(m[1]);
    }
    for (const idx of m[2]!.matchAll(/\[(\d+)\]/g)) {
      // Canonical indices only (`[1]`, not `[01]`); the upper bound is the list's length (applyOverrides).
      if (!/^(0|[1-9]\d{0,8})$/.test(idx[1]!)) {
        throw new InvalidInputError(`bad --set '${text.slice(0, 200)}': ${formatPath([...path, Number(idx[1])])} is not a list index (write indices as 0, 1, 2 …, at most the list's length)`);
      }
      path.push(Number(idx[1]));
    }
  }
  let value: unknown;
  const doc = parseDocument(raw === '' ? '""' : raw);
  if (doc.errors.length > 0) value = raw;
  else {
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
    } catch (err) {
      throw new InvalidInputError(`bad --set '${key}': its value expands YAML aliases beyond ${MAX_ALIAS_COUNT}`, [], { cause: err });
    }
  }
  return { path, value, text };
}

/**
 * Applies overrides to a copy of the document. A path through a scalar, a list index on a section (or a
 * key on a list), and an index past the end of a list (`strategy[7]` on three steps: 0..3 may be set,
 * 3 appends) are InvalidInputErrors naming the path.
 */
export function applyOverrides(document: unknown, overrides: readonly PlanOverride[]): unknown {
  if (overrides.length === 0) return document;
  const root = structuredClone(document ?? {}) as Record<string | number, unknown>;
  for (const o of overrides) {
    let node: Record<string | number, unknown> = root;
    o.path.forEach((seg, i) => {
      const here = formatPath(o.path.slice(0, i + 1));
      if (typeof seg === 'number') {
        if (!Array.isArray(node)) throw new InvalidInputError(`bad --set '${o.text}': ${formatPath(o.path.slice(0, i))} is not a list, so ${here} cannot be set`);
        if (seg > node.length) {
          throw new InvalidInputError(`bad --set '${o.text}': ${here} is past the end of ${formatPath(o.path.slice(0, i))}, which has ${node.length} item${node.length === 1 ? '' : 's'} (set an index 0..${node.length}; ${node.length} appends)`);
        }
      } else if (Array.isArray(node)) {
        throw new InvalidInputError(`bad --set '${o.text}': ${formatPath(o.path.slice(0, i))} is a list; set ${formatPath(o.path.slice(0, i))}[0].${seg} and so on`);
      }
      const last = i === o.path.length - 1;
      if (last) {
        node[seg] = o.value;
        return;
      }
      const next = Object.hasOwn(node, seg) ? node[seg] : undefined;
      if (next === undefined || next === null) {
        const created = typeof o.path[i + 1] === 'number' ? [] : {};
        node[seg] = created;
        node = created as Record<string | number, unknown>;
      } else if (typeof next === 'object') {
        node = next as Record<string | number, unknown>;
      } else {
        throw new InvalidInputError(`bad --set '${o.text}': ${here} is a ${typeof next}, not a section`);
      }
    });
  }
  return root;
}

/** Parses YAML (or JSON) text; a syntax error names its line and column. */
export function parsePlanText(text: string, source: string, holds = 'a plan: expected a YAML mapping with apiVersion: glidepath/v1 and kind: Rollout'): unknown {
  if (text.trim() === '') throw new InvalidInputError(`${source} is empty`);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_PLAN_BYTES) {
    throw new InvalidInputError(`${source} is ${bytes} bytes; a plan may be at most ${MAX_PLAN_BYTES} bytes (256 KiB): is this the right file?`);
  }
  const doc = parseDocument(text, { prettyErrors: true });
  const err = doc.errors[0];
  if (err) {
    const where = err.linePos?.[0] ? `line ${err.linePos[0].line}, column ${err.linePos[0].col}` : `offset ${err.pos[0]}`;
    throw new InvalidInputError(`${source} is not valid YAML (${where}): ${err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
  } catch (err) {
    // yaml throws a ReferenceError ("Excessive alias count …") for an alias bomb, before expanding it.
    throw new InvalidInputError(`${source} expands YAML aliases (*name) beyond the limit of ${MAX_ALIAS_COUNT}: refused as a resource-exhaustion attempt`, [], { cause: err });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidInputError(`${source} does not hold ${holds}`);
  }
  const reserved = reservedKeyPaths(value);
  if (reserved.length > 0) {
    throw new InvalidInputError(`${source} uses a reserved key: ${reserved[0]} (__proto__, constructor and prototype are not plan keys or names)`, reserved);
  }
  return value;
}

/**
 * Paths of `__proto__`, `constructor` and `prototype` keys anywhere in a parsed document. A schema would
 * drop a `__proto__` key without a word when it builds a map (`environment_variables: {__proto__: …}`
 * would vanish), so the loader refuses them, naming where they are.
 */
function reservedKeyPaths(value: unknown, path: (string | number)[] = [], out: string[] = []): string[] {
  if (out.length >= 20 || value === null || typeof value !== 'object') return out;
  if (Array.isArray(value)) value.forEach((v, i) => reservedKeyPaths(v, [...path, i], out));
  else {
    for (const [k, v] of Object.entries(value)) {
      if (FORBIDDEN_KEYS.has(k)) out.push(formatPath([...path, k]));
      reservedKeyPaths(v, [...path, k], out);
    }
  }
  return out;
}

/** Reads the plan text of `path` (`-` is stdin); a missing file is an InvalidInputError. */
export async function readPlanText(path: string, io: PlanSource): Promise<{ text: string; source: string }> {
  if (path === '-') return { text: await io.readStdin(), source: '<stdin>' };
  try {
    return { text: await io.readFile(path), source: path };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new InvalidInputError(`cannot read plan ${path}: ${why}`, [], { cause: err });
  }
}

/**
 * `candidate.deploymentFile: ./blue-deployment.yml`: reads the Azure ML deployment YAML (relative to the
 * plan file; to the working directory for a plan on stdin) and puts it, as written, in
 * `candidate.deployment`, so the workflow input carries the spec and never a path. Returns the document
 * unchanged when there is no file to read, and the file's name for error messages.
 */
export async function resolveDeploymentFile(document: unknown, planPath: string, io: PlanSource): Promise<{ document: unknown; file?: string }> {
  const candidate = (document as { candidate?: unknown } | null)?.candidate;
  if (candidate === null || typeof candidate !== 'object' || Array.isArray(candidate)) return { document };
  const { deploymentFile, ...rest } = candidate as Record<string, unknown>;
  // Not a string, or given together with `deployment`: the schema says what is wrong.
  if (typeof deploymentFile !== 'string' || deploymentFile === '' || rest.deployment !== undefined) return { document };
  const file = isAbsolute(deploymentFile) ? deploymentFile : join(planPath === '-' ? '.' : dirname(planPath), deploymentFile);
  let text: string;
  try {
    text = await io.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new InvalidInputError(`candidate.deploymentFile: cannot read ${file}: ${why}`, [], { cause: err });
  }
  const deployment = parsePlanText(text, file, 'an Azure ML deployment: expected a YAML mapping with instance_type, instance_count, model …');
  return { document: { ...(document as Record<string, unknown>), candidate: { ...rest, deployment } }, file };
}

/** Reads, overrides and validates a plan. Invalid → InvalidInputError listing every issue with its path. */
export async function loadPlan(path: string, overrides: readonly string[], io: PlanSource): Promise<LoadedPlan> {
  const parsedOverrides = overrides.map(parseOverride);
  const { text, source } = await readPlanText(path, io);
  // `--set candidate.deploymentFile=…` picks the file; every other override applies to what it holds.
  const fileOverrides = parsedOverrides.filter((o) => o.path[0] === 'candidate' && o.path[1] === 'deploymentFile');
  const otherOverrides = parsedOverrides.filter((o) => !fileOverrides.includes(o));
  const resolved = await resolveDeploymentFile(applyOverrides(parsePlanText(text, source), fileOverrides), path, io);
  const document = applyOverrides(resolved.document, otherOverrides) as PlanDocument;
  const parsed = parsePlan(document);
  const result = parsed.ok && approverIssues(parsed.plan).length > 0 ? { ok: false as const, issues: approverIssues(parsed.plan) } : parsed;
  if (!result.ok) {
    const n = result.issues.length;
    // Problems inside a deployment file name the file and the key as written there.
    const where = (line: string) => (resolved.file && line.startsWith('candidate.deployment.') ? `${resolved.file}: ${line.slice('candidate.deployment.'.length)}` : line);
    const lines = result.issues.map((i) => where(formatPlanIssue(i)));
    throw new InvalidInputError(`${source} is not a valid plan (${n} problem${n === 1 ? '' : 's'}${parsedOverrides.length ? ', after --set' : ''}): ${lines[0]!}${n > 1 ? ' …' : ''}`, lines);
  }
  return { source, baseDir: resolved.file ? dirname(resolved.file) : path === '-' ? '.' : dirname(path), document, plan: result.plan };
}

/**
 * Refuses to start a rollout whose candidate still names local or inline assets (a model folder, a conda
 * file, a code directory, an inline environment): ARM takes registered asset ids, and Glidepath does not
 * upload and register them yet, so nothing would work, and no local path may reach the workflow.
 */
export function checkAssetsRegistered({ plan, source }: Pick<LoadedPlan, 'plan' | 'source'>, opts: { uploadsLocal?: boolean } = {}): void {
  const env = plan.candidate.deployment.environment;
  const envRef = typeof env === 'string' ? parseAssetRef(env, 'environments') : undefined;
  if (typeof env === 'string' && envRef && 'form' in envRef && envRef.form === 'latest') {
    throw new InvalidInputError(
      `${source}: candidate.deployment.environment: ${env} — glidepath resolves @latest for models only (az ml resolves an environment's @latest on the client); name the version, ${env.replace(/@latest$/, ':<version>')}`,
    );
  }
  // Local code folders and local model paths are uploaded and registered by rollout start (client/assets.ts).
  // … and an inline image environment (a local or inline conda file) or a local Docker build context is registered as an anonymous environment.
  const imageEnv = typeof env === 'object' && env.image !== undefined && env.build === undefined && (typeof env.conda_file !== 'string' || isLocalPath(env.conda_file));
  const pending = pendingAssets(plan.candidate.deployment).filter((p) => !(opts.uploadsLocal && ((p.local && (p.what === 'code' || p.what === 'model' || p.path === 'environment.build.path')) || (p.what === 'environment' && imageEnv))));
  if (pending.length === 0) return;
  const lines = pending.map((p) => `candidate.deployment.${p.path}: ${p.value} (${p.local ? `local ${p.what} files to upload and register` : `an inline ${p.what} to register`})`);
  throw new InvalidInputError(
    `${source}: the candidate deployment names ${pending.length} asset${pending.length === 1 ? '' : 's'} that must be uploaded and registered before a rollout, and glidepath does not do that yet for this kind (it uploads local code folders, model paths and Docker build contexts, and registers image environments, only): ${lines[0]!}${pending.length > 1 ? ' …' : ''}. Register ${pending.length === 1 ? 'it' : 'them'} with az ml (model/environment/code create) and reference ${pending.length === 1 ? 'it' : 'them'} as azureml:<name>:<version>; plan validate accepts the plan as written.`,
    lines,
  );
}

/**
 * Refuses a plan whose candidate breaks the plan's own `policies`: the check preflight runs before
 * creating anything, run here so `plan validate` and `rollout start` refuse what the rollout would
 * (InvalidInputError, exit 2, every violation with its path).
 */
export function checkPolicies({ plan, source }: LoadedPlan): void {
  const violations = policyViolations(plan);
  if (violations.length === 0) return;
  const n = violations.length;
  throw new InvalidInputError(
    `${source} breaks its own policies (${n} problem${n === 1 ? '' : 's'}): ${formatPolicyViolation(violations[0]!)}${n > 1 ? ' …' : ''}`,
    violations.map(formatPolicyViolation),
  );
}
