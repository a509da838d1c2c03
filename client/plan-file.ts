/**
 * Reading a plan the way the CLI does: from a file or stdin (`-`), YAML or JSON, with `--set key=value`
 * overrides applied before validation, so an override is checked exactly like the file
 * (`--set candidate.deployment.instance_count=0` → `candidate.deployment.instance_count: must be 1..50`).
 */
import { parseDocument } from 'yaml';
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
    for (const idx of m[2]!.matchAll(/\[(\d+)\]/g)) path.push(Number(idx[1]));
  }
  let value: unknown;
  const doc = parseDocument(raw === '' ? '""' : raw);
  if (doc.errors.length > 0) value = raw;
  else value = doc.toJS() as unknown;
  return { path, value, text };
}

/** Applies overrides to a copy of the document; a path through a scalar is an InvalidInputError. */
export function applyOverrides(document: unknown, overrides: readonly PlanOverride[]): unknown {
  if (overrides.length === 0) return document;
  const root = structuredClone(document ?? {}) as Record<string | number, unknown>;
  for (const o of overrides) {
    let node: Record<string | number, unknown> = root;
    o.path.forEach((seg, i) => {
      const last = i === o.path.length - 1;
      if (last) {
        node[seg] = o.value;
        return;
      }
      const next = node[seg];
      if (next === undefined || next === null) {
        const created = typeof o.path[i + 1] === 'number' ? [] : {};
        node[seg] = created;
        node = created as Record<string | number, unknown>;
      } else if (typeof next === 'object') {
        node = next as Record<string | number, unknown>;
      } else {
        throw new InvalidInputError(`bad --set '${o.text}': ${o.path.slice(0, i + 1).join('.')} is a ${typeof next}, not a section`);
      }
    });
  }
  return root;
}

/** Parses YAML (or JSON) text; a syntax error names its line and column. */
export function parsePlanText(text: string, source: string): unknown {
  if (text.trim() === '') throw new InvalidInputError(`${source} is empty`);
  const doc = parseDocument(text, { prettyErrors: true });
  const err = doc.errors[0];
  if (err) {
    const where = err.linePos?.[0] ? `line ${err.linePos[0].line}, column ${err.linePos[0].col}` : `offset ${err.pos[0]}`;
    throw new InvalidInputError(`${source} is not valid YAML (${where}): ${err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidInputError(`${source} does not hold a plan: expected a YAML mapping with apiVersion: glidepath/v1 and kind: Rollout`);
  }
  return value;
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

/** Reads, overrides and validates a plan. Invalid → InvalidInputError listing every issue with its path. */
export async function loadPlan(path: string, overrides: readonly string[], io: PlanSource): Promise<LoadedPlan> {
  const parsedOverrides = overrides.map(parseOverride);
  const { text, source } = await readPlanText(path, io);
  const document = applyOverrides(parsePlanText(text, source), parsedOverrides) as PlanDocument;
  const parsed = parsePlan(document);
  const result = parsed.ok && approverIssues(parsed.plan).length > 0 ? { ok: false as const, issues: approverIssues(parsed.plan) } : parsed;
  if (!result.ok) {
    const n = result.issues.length;
    throw new InvalidInputError(
      `${source} is not a valid plan (${n} problem${n === 1 ? '' : 's'}${parsedOverrides.length ? ', after --set' : ''}): ${formatPlanIssue(result.issues[0]!)}${n > 1 ? ' …' : ''}`,
      result.issues.map(formatPlanIssue),
    );
  }
  return { source, document, plan: result.plan };
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
