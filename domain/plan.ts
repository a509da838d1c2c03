/**
 * The rollout plan: the YAML file a user writes (`apiVersion: glidepath/v1`, `kind: Rollout`), its zod
 * schema, its defaults, and the normalised plan the workflow runs.
 *
 * Two shapes, one schema:
 * - `PlanDocument` (`z.input`) is what the user writes: durations as strings (`30m`), each strategy step
 *   an object with exactly one key (`- canary: { percent: 10, bake: 15m }`), most sections optional.
 *   It is what travels in the workflow input, so the history shows the plan as written.
 * - `RolloutPlan` (`z.output`) is what code reads: durations in milliseconds (`bakeMs`), steps a
 *   discriminated union on `kind`, every default filled in.
 *
 * Errors name the path of the bad field as the user wrote it: `strategy[2].canary.percent: must be 1..100`.
 */
import { z } from 'zod';
import { DURATION_PATTERN, formatDuration, parseDuration } from './duration.js';
import { FalseAlarmBudgetSchema, ToleranceSchema, describeTolerance } from './judge/judge.js';
import { secretFindings, webhookUrlSecretReason } from './secrets.js';
import { MAX_MIRROR_PERCENT } from './traffic.js';

// ───────────────────────────── building blocks ─────────────────────────────

/** Azure's naming rule for endpoints and deployments: a letter first, 3–32 letters, digits and single dashes. */
const AZURE_NAME = /^[A-Za-z](?:[A-Za-z0-9]|-(?!-)){1,30}[A-Za-z0-9]$/;

const azureName = z
  .string({ error: 'must be a string' })
  .regex(AZURE_NAME, { error: 'must be 3-32 letters, digits and single dashes, starting with a letter' });

const nonEmpty = z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' });

/** A duration string (`45s`, `30m`, `24h`, `2d`) → milliseconds. */
/**
 * The longest any duration in a plan may be: a year. Every timer the workflow sets is then far inside what
 * a JavaScript Date and Temporal's timers can represent (a `200000000d` approval timeout made the workflow
 * throw `RangeError: Invalid time value` on every task), and the deadline — itself at most a year —
 * caps how long a whole rollout can run.
 */
export const MAX_DURATION_MS = 365 * 86_400_000;

const duration = (min = 0) =>
  z
    .string({ error: 'must be a duration like 45s, 30m or 24h' })
    .regex(DURATION_PATTERN, { error: 'must be a duration like 45s, 30m or 24h' })
    .transform((s) => parseDuration(s) ?? Number.POSITIVE_INFINITY)
    .refine((ms) => ms >= min, { error: `must be at least ${min / 1000}s` })
    .refine((ms) => ms <= MAX_DURATION_MS, { error: 'must be at most 365d' });

/** An integer percentage within lo..hi. */
const percent = (lo: number, hi: number) =>
  z
    .number({ error: `must be an integer ${lo}..${hi}` })
    .int({ error: `must be an integer ${lo}..${hi}` })
    .min(lo, { error: `must be ${lo}..${hi}` })
    .max(hi, { error: `must be ${lo}..${hi}` });

const positiveNumber = z.number({ error: 'must be a number' }).positive({ error: 'must be greater than 0' });
const ratio = z.number({ error: 'must be a number' }).min(0, { error: 'must be 0..1' }).max(1, { error: 'must be 0..1' });

/** Refuses entries that look like credentials (domain/secrets.ts): the plan travels in the workflow history (invariant 9). */
function refuseSecrets(entries: Record<string, string>, ctx: z.RefinementCtx): void {
  for (const f of secretFindings(entries)) ctx.addIssue({ code: 'custom', path: [f.key], message: f.reason });
}

// ───────────────────────────── candidate deployment ─────────────────────────────

const probe = z.strictObject({
  initial_delay: z.int().min(0).optional(),
  period: z.int().min(1).optional(),
  timeout: z.int().min(1).optional(),
  success_threshold: z.int().min(1).optional(),
  failure_threshold: z.int().min(1).optional(),
});

/**
 * The Azure ML CLI v2 managed online deployment keys, snake_case as users write them in
 * `az ml online-deployment` YAML. The activity that creates the deployment maps them to the ARM body.
 */
export const DeploymentSpecSchema = z.strictObject({
  model: nonEmpty,
  environment: nonEmpty.optional(),
  code_configuration: z
    .strictObject({ code: nonEmpty, scoring_script: nonEmpty })
    .optional(),
  instance_type: nonEmpty,
  instance_count: z
    .number({ error: 'must be an integer 1..50' })
    .int({ error: 'must be an integer 1..50' })
    .min(1, { error: 'must be 1..50' })
    .max(50, { error: 'must be 1..50' }),
  app_insights_enabled: z.boolean({ error: 'must be true or false' }).optional(),
  egress_public_network_access: z.enum(['enabled', 'disabled'], { error: 'must be enabled or disabled' }).optional(),
  request_settings: z
    .strictObject({
      request_timeout_ms: z.int({ error: 'must be an integer' }).min(1).max(180_000, { error: 'must be 1..180000 (Azure caps managed endpoints at 180 s)' }).optional(),
      max_concurrent_requests_per_instance: z.int({ error: 'must be an integer' }).min(1, { error: 'must be at least 1' }).optional(),
      max_queue_wait_ms: z.int({ error: 'must be an integer' }).min(0).optional(),
    })
    .optional(),
  environment_variables: z.record(z.string(), z.string({ error: 'must be a string' })).superRefine(refuseSecrets).optional(),
  liveness_probe: probe.optional(),
  readiness_probe: probe.optional(),
  description: z.string().optional(),
  tags: z.record(z.string(), z.string({ error: 'must be a string' })).superRefine(refuseSecrets).optional(),
});

/** The candidate deployment, as the plan describes it. */
export type DeploymentSpec = z.output<typeof DeploymentSpecSchema>;

// ───────────────────────────── strategy steps ─────────────────────────────

const onTimeout = z.enum(['rollback', 'pause', 'proceed'], { error: 'must be rollback, pause or proceed' });

const approvalFields = z.strictObject({
  timeout: duration(1000).prefault('24h'),
  onTimeout: onTimeout.prefault('rollback'),
});

/**
 * A step's bake: a duration (`15m`: bake exactly that long, no early pass), or `{ min, max }`: bake at
 * most `max`, and end the step after `min` once the judge has passed it early (every judged gate's pass
 * evidence reached 1/α and the guardrails pass). `min` must be at most `max`.
 */
const bakeSchema = z
  .union([duration(1000), z.strictObject({ min: duration(1000), max: duration(1000) })], {
    error: 'must be a duration like 45s, 30m or 24h, or { min: 5m, max: 30m }',
  })
  .superRefine((b, ctx) => {
    if (typeof b === 'object' && b.min > b.max) {
      ctx.addIssue({ code: 'custom', path: ['min'], message: `must be at most bake.max (${formatDuration(b.max)}): allowed 1s..${formatDuration(b.max)} (got ${formatDuration(b.min)})` });
    }
  })
  .transform((b) => (typeof b === 'number' ? { bakeMs: b } : { bakeMs: b.max, bakeMinMs: b.min }));

const mirrorStep = z.strictObject({
  percent: percent(1, MAX_MIRROR_PERCENT),
  bake: bakeSchema,
});
const costCheckStep = z
  .strictObject({
    maxMonthlyUsd: positiveNumber.optional(),
    maxHourlyUsd: positiveNumber.optional(),
    maxIncreasePercent: z.number({ error: 'must be a number' }).min(0, { error: 'must be at least 0' }).optional(),
  })
  .refine((c) => c.maxMonthlyUsd !== undefined || c.maxHourlyUsd !== undefined || c.maxIncreasePercent !== undefined, {
    error: 'needs at least one of maxMonthlyUsd, maxHourlyUsd, maxIncreasePercent',
  });
const canaryStep = z.strictObject({
  percent: percent(1, 100),
  bake: bakeSchema,
  approval: z.union([z.boolean({ error: 'must be true, false or { timeout, onTimeout }' }), approvalFields]).optional(),
});
const promoteStep = z.strictObject({ rollbackWindow: duration(0).prefault('1h') });
const retireStep = z.strictObject({});

const stepShapes = {
  mirror: mirrorStep,
  costCheck: costCheckStep,
  approval: approvalFields,
  canary: canaryStep,
  promote: promoteStep,
  retire: retireStep,
} as const;
const STEP_KINDS = Object.keys(stepShapes) as StepKind[];

/** The approval settings of an approval step or of a canary step with `approval`. */
export interface ApprovalPolicy {
  timeoutMs: number;
  onTimeout: 'rollback' | 'pause' | 'proceed';
}

/**
 * One step of a rollout strategy, as the workflow runs it. A bake step's `bakeMinMs`, when set, lets the
 * judge end the bake early (after at least that long); without it the bake lasts `bakeMs`.
 */
export type Step =
  | { kind: 'mirror'; percent: number; bakeMs: number; bakeMinMs?: number }
  | { kind: 'costCheck'; maxMonthlyUsd?: number; maxHourlyUsd?: number; maxIncreasePercent?: number }
  | ({ kind: 'approval' } & ApprovalPolicy)
  | { kind: 'canary'; percent: number; bakeMs: number; bakeMinMs?: number; approval?: ApprovalPolicy }
  | { kind: 'promote'; rollbackWindowMs: number }
  | { kind: 'retire' };

/** The kind of a strategy step. */
export type StepKind = Step['kind'];

const DEFAULT_APPROVAL: ApprovalPolicy = { timeoutMs: 24 * 3_600_000, onTimeout: 'rollback' };

/** A step is written as an object with exactly one key, the step kind: `- canary: { percent: 10, bake: 15m }`. */
const stepSchema = z
  .strictObject({
    mirror: mirrorStep.optional(),
    costCheck: costCheckStep.optional(),
    approval: approvalFields.optional(),
    canary: canaryStep.optional(),
    promote: promoteStep.optional(),
    retire: retireStep.optional(),
  })
  .superRefine((s, ctx) => {
    const kinds = Object.keys(s).filter((k) => (s as Record<string, unknown>)[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message:
          kinds.length === 0
            ? `must be one of ${STEP_KINDS.join(', ')}`
            : `must have exactly one step kind, got ${kinds.join(' and ')}`,
      });
    }
  })
  .transform((s): Step => {
    if (s.mirror) return { kind: 'mirror', percent: s.mirror.percent, ...s.mirror.bake };
    if (s.costCheck) return { kind: 'costCheck', ...s.costCheck };
    if (s.approval) return { kind: 'approval', timeoutMs: s.approval.timeout, onTimeout: s.approval.onTimeout };
    if (s.canary) {
      const a = s.canary.approval;
      const approval = a === true ? DEFAULT_APPROVAL : a && typeof a === 'object' ? { timeoutMs: a.timeout, onTimeout: a.onTimeout } : undefined;
      return { kind: 'canary', percent: s.canary.percent, ...s.canary.bake, ...(approval ? { approval } : {}) };
    }
    if (s.promote) return { kind: 'promote', rollbackWindowMs: s.promote.rollbackWindow };
    return { kind: 'retire' };
  });

/** The strategy a plan gets when its `strategy` is empty or missing: mirror 20% → approval → canary 10% → 50% → promote → retire. */
export const DEFAULT_STRATEGY: readonly Step[] = [
  { kind: 'mirror', percent: 20, bakeMs: 30 * 60_000 },
  { kind: 'approval', ...DEFAULT_APPROVAL },
  { kind: 'canary', percent: 10, bakeMs: 15 * 60_000 },
  { kind: 'canary', percent: 50, bakeMs: 30 * 60_000 },
  { kind: 'promote', rollbackWindowMs: 3_600_000 },
  { kind: 'retire' },
];

// ───────────────────────────── analysis and gates ─────────────────────────────

/** The longest custom KQL filter a plan may carry (it travels in the workflow history with the plan). */
export const MAX_LOGS_WHERE_LENGTH = 1000;

/**
 * `analysis.logs.where`: one KQL predicate, put into the activity's query as `| where (<predicate>)`.
 * It may not leave that place: no `|` (a further operator), no `;` (a further statement), no `//` (a
 * comment that would swallow the rest of the query), no line breaks or control characters, and its
 * quotes and parentheses must balance. Checked here, so a bad filter is a plan error, not a failed query.
 */
const kqlPredicate = z
  .string({ error: 'must be a KQL predicate such as UserAgent !has "probe"' })
  .min(1, { error: 'must not be empty' })
  .max(MAX_LOGS_WHERE_LENGTH, { error: `must be at most ${MAX_LOGS_WHERE_LENGTH} characters` })
  .refine((s) => [...s].every((ch) => ch.charCodeAt(0) >= 0x20 && ch.charCodeAt(0) !== 0x7f), { error: 'must be one line without control characters' })
  .refine((s) => !/[|;]|\/\//.test(s), { error: "must be one predicate: no '|', ';' or '//' (the activity adds it as '| where (…)')" })
  .refine(balancedKql, { error: 'must have balanced quotes and parentheses' });

/** True when the text's string literals are closed and its parentheses, outside strings, balance. */
function balancedKql(text: string): boolean {
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')' && --depth < 0) return false;
  }
  return quote === undefined && depth === 0;
}

/** A Log Analytics workspace id: the workspace's GUID (Azure portal: workspace → Overview → Workspace ID). */
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

const logsSchema = z
  .strictObject({
    workspaceId: z.string({ error: 'must be the Log Analytics workspace id (a GUID)' }).regex(GUID, { error: 'must be the Log Analytics workspace id (a GUID)' }),
    where: kqlPredicate.optional(),
    exceedanceMs: z
      .array(z.int({ error: 'must be whole milliseconds' }).min(1, { error: 'must be at least 1 ms' }).max(600_000, { error: 'must be at most 600000 ms' }), {
        error: 'must be a list of latencies in ms',
      })
      .max(5, { error: 'must list at most 5 latencies' })
      .default([]),
  })
  .transform(({ exceedanceMs, ...rest }) => ({ ...rest, exceedanceMs: [...new Set(exceedanceMs)].sort((a, b) => a - b) }));

/** Where the activity reads per-request evidence: a workspace, an optional filter, and the latencies to count exceedances above. */
export type LogsSettings = z.output<typeof logsSchema>;

const analysisSchema = z.strictObject({
  interval: duration(1000).prefault('1m'),
  logs: logsSchema.optional(),
  failureLimit: z.int({ error: 'must be an integer 1..100' }).min(1, { error: 'must be 1..100' }).max(100, { error: 'must be 1..100' }).default(2),
  minRequests: z.int({ error: 'must be an integer' }).min(0, { error: 'must be at least 0' }).default(100),
  onInconclusive: z.enum(['extend', 'pause', 'rollback'], { error: 'must be extend, pause or rollback' }).default('extend'),
  maxExtensions: z.int({ error: 'must be an integer 0..100' }).min(0, { error: 'must be 0..100' }).max(100, { error: 'must be 0..100' }).default(3),
  /** α per step for the judged gates (those with a `tolerance`; default 0.01): the chance a candidate within every tolerance is rolled back by the judge during a step. */
  falseAlarmBudget: FalseAlarmBudgetSchema.optional(),
}).transform(({ interval, ...rest }) => ({ intervalMs: interval, ...rest }));

/**
 * A latency gate's tolerance: how much slower than the baseline is fine, as a ratio ≥ 1 (`1.10` or
 * `"1.1x"` = 10% slower is fine). Judged by the judge (docs/judge.md): exceedances above the baseline's
 * quantile when the plan reads the traffic log, else a paired per-interval test on the percentile metric.
 */
const slowdownTolerance = ToleranceSchema.superRefine((t, ctx) => {
  if (t.additive !== 0) ctx.addIssue({ code: 'custom', message: `must be a slowdown ratio ≥ 1 such as 1.10 (10% slower is fine), not an increase (got ${describeTolerance(t)})` });
}).transform((t) => t.ratio);

const latencyGate = z
  .strictObject({ max: positiveNumber.optional(), maxRatioToBaseline: positiveNumber.optional(), tolerance: slowdownTolerance.optional() })
  .refine((g) => g.max !== undefined || g.maxRatioToBaseline !== undefined || g.tolerance !== undefined, { error: 'needs max, maxRatioToBaseline or tolerance' });

/**
 * An error-rate gate. `max` / `maxIncrease` are guardrails judged per window (`failureLimit` in a row
 * roll back); `tolerance` (`1.5x`, `+0.5%`, `1.2x + 0.1%`) hands the gate to the judge, and
 * `passTolerance` (at most the tolerance) is what an early pass must show.
 */
const rateGate = z
  .strictObject({ max: ratio.optional(), maxIncrease: ratio.optional(), tolerance: ToleranceSchema.optional(), passTolerance: ToleranceSchema.optional() })
  .superRefine((g, ctx) => {
    if (g.max === undefined && g.maxIncrease === undefined && g.tolerance === undefined) ctx.addIssue({ code: 'custom', message: 'needs max, maxIncrease or tolerance' });
    if (g.passTolerance !== undefined && g.tolerance === undefined) ctx.addIssue({ code: 'custom', path: ['passTolerance'], message: 'needs a tolerance on the same gate (passTolerance is what an early pass must show, at most the tolerance)' });
    if (g.passTolerance && g.tolerance && (g.passTolerance.ratio > g.tolerance.ratio || g.passTolerance.additive > g.tolerance.additive)) {
      ctx.addIssue({ code: 'custom', path: ['passTolerance'], message: `must be at most the tolerance ${describeTolerance(g.tolerance)} (got ${describeTolerance(g.passTolerance)})` });
    }
  });

const webhookUrl = z
  .string({ error: 'must be an https URL' })
  .refine((u) => /^https:\/\/[^\s/@]+(\/[^\s]*)?$/.test(u), { error: 'must be an https URL without credentials in it' })
  .superRefine((u, ctx) => {
    const why = webhookUrlSecretReason(u);
    if (why) ctx.addIssue({ code: 'custom', message: `must not carry a secret (${why}): plans travel in the workflow history; the worker signs webhook calls with a secret from its environment (GLIDEPATH_WEBHOOK_SECRET, which can come from Key Vault)` });
  });

const gatesSchema = z.strictObject({
  latencyP99Ms: latencyGate.optional(),
  latencyP95Ms: latencyGate.optional(),
  latencyP50Ms: latencyGate.optional(),
  errorRate: rateGate.optional(),
  modelErrorRate: rateGate.optional(),
  cpuPercent: z.strictObject({ max: percent(1, 100) }).optional(),
  memoryPercent: z.strictObject({ max: percent(1, 100) }).optional(),
  webhook: z
    .strictObject({ url: webhookUrl, timeout: duration(1000).prefault('30s') })
    .transform(({ url, timeout }) => ({ url, timeoutMs: timeout }))
    .optional(),
});

/**
 * The gates a plan gets when it names none, all judged (docs/judge.md): 5xx and 424 rates within
 * 1.25× the baseline's plus 0.1 point (the additive part lets silence count, so a step with no errors on
 * either side can pass early); p50 latency at most 10% slower and p99 at most 25% slower than the
 * baseline's. A +25% slowdown everywhere fails p50; a slow tail (2% of requests +300 ms) fails p99; a
 * crash fails 5xx or 424 at once; 4× the baseline's errors fails 5xx.
 */
export const DEFAULT_GATES = {
  latencyP50Ms: { tolerance: 1.1 },
  latencyP99Ms: { tolerance: 1.25 },
  errorRate: { tolerance: '1.25x + 0.1%' },
  modelErrorRate: { tolerance: '1.25x + 0.1%' },
} as const;

/**
 * The defaults before the judge (p99 within 1.2× the baseline, 5xx ≤ 1% and ≤ +0.5 points, 424s ≤ 1%):
 * what a rollout started without `normalized` in its input (an older client) and without gates ran with,
 * so its history still replays (workflows/plan-input.ts).
 */
export const LEGACY_DEFAULT_GATES = {
  latencyP99Ms: { maxRatioToBaseline: 1.2 },
  errorRate: { max: 0.01, maxIncrease: 0.005 },
  modelErrorRate: { max: 0.01 },
} as const;

// ───────────────────────────── the plan ─────────────────────────────

const targetSchema = z.strictObject({
  subscriptionId: z
    .string({ error: 'must be a subscription GUID' })
    .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, { error: 'must be a subscription GUID' }),
  resourceGroup: z
    .string({ error: 'must be a string' })
    .regex(/^[-\w.()]{1,89}[-\w()]$/, { error: 'must be a resource group name (1-90 letters, digits, -_.())' }),
  workspace: z
    .string({ error: 'must be a string' })
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$/, { error: 'must be a workspace name (3-33 letters, digits, - and _)' }),
  endpoint: azureName,
});

const EMAIL = /^[^\s@:]+@[^\s@]+\.[^\s@]+$/;
const IDENTITY = /^(slack:[A-Z0-9]+|github:[A-Za-z0-9][A-Za-z0-9-]{0,38}|ado:[^\s@]+@[^\s@]+\.[^\s@]+|oidc:\S{1,200}|[^\s@:]+@[^\s@]+\.[^\s@]+)$/;
const IDENTITY_TEXT = 'an e-mail address, slack:<user id>, github:<login>, ado:<e-mail> or oidc:<subject>';

const approverId = z.string({ error: `must be ${IDENTITY_TEXT}` }).regex(IDENTITY, { error: `must be ${IDENTITY_TEXT}` });

/**
 * `approvals`: who may decide, whether decisions must be signed, and who is who across channels.
 * `approvers: anyone` says on purpose that anyone may approve (an empty list is refused by
 * `plan validate` when the strategy has an approval: see {@link approverIssues}). `verified` defaults
 * to true when approvers are listed (a listed name means nothing if anyone can type it) and false for
 * `anyone`. `people` maps a person (e-mail) to their other identities, so four-eyes and the approver
 * list compare people, not spellings.
 */
const approvalsSchema = z
  .strictObject({
    approvers: z
      .union([z.literal('anyone'), z.array(approverId, { error: 'must be a list of approvers or anyone' })], { error: 'must be a list of approvers or anyone' })
      .default([]),
    fourEyes: z.boolean({ error: 'must be true or false' }).default(true),
    verified: z.boolean({ error: 'must be true or false' }).optional(),
    people: z
      .record(
        z.string().regex(EMAIL, { error: 'must be an e-mail address (the person)' }),
        z.array(approverId, { error: `must be a list of identities (${IDENTITY_TEXT})` }).max(50, { error: 'must list at most 50 identities' }),
        { error: 'must map an e-mail to a list of identities' },
      )
      .default({}),
  })
  .prefault({})
  .transform(({ approvers, fourEyes, verified, people }) => ({
    approvers: approvers === 'anyone' ? [] : approvers,
    /** True when the plan says `approvers: anyone` on purpose. */
    anyone: approvers === 'anyone',
    fourEyes,
    /** Decisions count only with a valid signature from a signer the worker trusts. */
    verified: verified ?? (approvers !== 'anyone' && approvers.length > 0),
    people,
  }));

/** The plan schema. Parse plan documents with {@link parsePlan}, which also formats the errors. */
export const PlanSchema = z
  .strictObject({
    apiVersion: z.literal('glidepath/v1', { error: 'must be glidepath/v1' }),
    kind: z.literal('Rollout', { error: 'must be Rollout' }),
    target: targetSchema,
    baseline: azureName.optional(),
    candidate: z.strictObject({ name: azureName, deployment: DeploymentSpecSchema }),
    strategy: z.array(stepSchema, { error: 'must be a list of steps' }).default([]),
    analysis: analysisSchema.prefault({}),
    gates: gatesSchema.optional(),
    approvals: approvalsSchema,
    policies: z
      .strictObject({
        requireEgressDisabled: z.boolean({ error: 'must be true or false' }).default(false),
        requireAppInsights: z.boolean({ error: 'must be true or false' }).default(false),
        allowedInstanceTypes: z.array(nonEmpty, { error: 'must be a list of instance types' }).optional(),
      })
      .prefault({}),
    notify: z
      .strictObject({
        slack: z
          .strictObject({ channel: z.string({ error: 'must be a Slack channel id' }).regex(/^[CGD][A-Z0-9]{6,}$/, { error: 'must be a Slack channel id like C0123456' }) })
          .optional(),
      })
      .optional(),
    rollback: z
      .strictObject({ deleteCandidate: z.boolean({ error: 'must be true or false' }).default(false) })
      .prefault({}),
    deadline: duration(60_000).prefault('72h'),
  })
  .superRefine((p, ctx) => {
    if (p.baseline !== undefined && p.baseline === p.candidate.name) {
      ctx.addIssue({ code: 'custom', path: ['baseline'], message: `must differ from candidate.name ('${p.candidate.name}')` });
    }
    // Order rules only make sense once every step parsed (zod runs refinements even after inner issues).
    if (p.strategy.every((s) => typeof (s as { kind?: unknown }).kind === 'string')) strategyRules(p.strategy, ctx);
  })
  .transform(({ strategy, gates, deadline, ...rest }) => ({
    ...rest,
    strategy: strategy.length === 0 ? [...DEFAULT_STRATEGY] : strategy,
    gates: gates ?? defaultGates(),
    deadlineMs: deadline,
  }));

/** DEFAULT_GATES parsed (tolerances normalised), a fresh copy each time. */
function defaultGates(): z.output<typeof gatesSchema> {
  return gatesSchema.parse(JSON.parse(JSON.stringify(DEFAULT_GATES)));
}

/**
 * Order rules a strategy must follow so that every rollout it describes is safe:
 * canary percentages rise; promote comes once, after every canary and mirror; retire comes once, after promote;
 * a mirror step comes before any canary (the candidate cannot be mirrored while it serves live traffic).
 */
function strategyRules(steps: Step[], ctx: z.RefinementCtx): void {
  let lastCanary = 0;
  let promoteAt = -1;
  let retireAt = -1;
  steps.forEach((s, i) => {
    const at = (key: string) => ['strategy', i, s.kind, key];
    switch (s.kind) {
      case 'canary':
        if (promoteAt >= 0) ctx.addIssue({ code: 'custom', path: ['strategy', i, 'canary'], message: `must come before promote (strategy[${promoteAt}])` });
        if (s.percent <= lastCanary) {
          ctx.addIssue({ code: 'custom', path: at('percent'), message: `must be greater than the previous canary's ${lastCanary}` });
        }
        if (s.percent === 100) ctx.addIssue({ code: 'custom', path: at('percent'), message: 'must be 1..99; use a promote step for 100%' });
        lastCanary = Math.max(lastCanary, s.percent);
        break;
      case 'mirror':
        if (lastCanary > 0 || promoteAt >= 0) {
          ctx.addIssue({ code: 'custom', path: ['strategy', i, 'mirror'], message: 'must come before every canary and promote step (a deployment cannot have live and mirror traffic)' });
        }
        break;
      case 'promote':
        if (promoteAt >= 0) ctx.addIssue({ code: 'custom', path: ['strategy', i, 'promote'], message: `may appear only once (already at strategy[${promoteAt}])` });
        promoteAt = i;
        break;
      case 'retire':
        if (retireAt >= 0) ctx.addIssue({ code: 'custom', path: ['strategy', i, 'retire'], message: `may appear only once (already at strategy[${retireAt}])` });
        else if (promoteAt < 0) ctx.addIssue({ code: 'custom', path: ['strategy', i, 'retire'], message: 'must come after a promote step' });
        retireAt = i;
        break;
      case 'costCheck':
      case 'approval':
        break;
      default: {
        const never: never = s;
        throw new Error(`unknown step ${JSON.stringify(never)}`);
      }
    }
  });
  if (steps.length > 0 && promoteAt < 0) {
    ctx.addIssue({ code: 'custom', path: ['strategy'], message: 'must end the rollout with a promote step (the candidate must reach 100%)' });
  }
  if (retireAt >= 0 && retireAt < steps.length - 1) {
    ctx.addIssue({ code: 'custom', path: ['strategy', retireAt, 'retire'], message: 'must be the last step' });
  }
}

/** A plan as the user writes it (YAML/JSON), before defaults. */
export type PlanDocument = z.input<typeof PlanSchema>;
/** A valid plan with defaults applied; durations in ms, steps tagged by `kind`. */
export type RolloutPlan = z.output<typeof PlanSchema>;
/** The gates of a plan. */
export type Gates = RolloutPlan['gates'];
/** The analysis settings of a plan. */
export type AnalysisSettings = RolloutPlan['analysis'];

// ───────────────────────────── parsing and errors ─────────────────────────────

/** One problem in a plan: the path as the user wrote it and what is wrong. `toString()` gives `path: message`. */
export interface PlanIssue {
  path: string;
  message: string;
}

/** The outcome of parsing a plan: the plan, or every issue found. */
export type PlanParseResult = { ok: true; plan: RolloutPlan } | { ok: false; issues: PlanIssue[] };

/** `['strategy', 2, 'canary', 'percent']` → `strategy[2].canary.percent`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out === '' ? '(plan)' : out;
}

/** Edit distance, for "did you mean" hints on unknown keys. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/** The keys an object schema at `path` accepts, for "did you mean" hints (walks the schema by path). */
function knownKeys(path: readonly PropertyKey[]): string[] {
  // Walk the input side of the schema; arrays and records are stepped over by index/key.
  let schema: unknown = PlanSchema;
  for (const seg of path) {
    schema = unwrap(schema);
    const def = (schema as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
    if (!def) return [];
    if (def.type === 'object') schema = (def.shape as Record<string, unknown>)[String(seg)];
    else if (def.type === 'array') schema = def.element;
    else if (def.type === 'record') schema = def.valueType;
    else return [];
  }
  const def = (unwrap(schema) as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
  return def?.type === 'object' ? Object.keys(def.shape as Record<string, unknown>) : [];
}

function unwrap(schema: unknown): unknown {
  for (let i = 0; i < 10; i++) {
    const def = (schema as { _zod?: { def?: Record<string, unknown> } })?._zod?.def;
    if (!def) return schema;
    if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable' || def.type === 'prefault') schema = def.innerType;
    else if (def.type === 'pipe') schema = def.in;
    else return schema;
  }
  return schema;
}

/** Turns zod's issues into plan issues whose paths read like the file (unknown keys get their own path and a hint). */
export function planIssues(error: z.ZodError, document: unknown): PlanIssue[] {
  const out: PlanIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys(issue.path);
      for (const key of issue.keys) {
        const near = known.map((k) => [k, distance(key, k)] as const).sort((a, b) => a[1] - b[1])[0];
        const hint = near && near[1] <= Math.max(2, Math.floor(key.length / 3)) ? ` (did you mean '${near[0]}'?)` : known.length ? ` (known keys: ${known.join(', ')})` : '';
        out.push({ path: formatPath([...issue.path, key]), message: `unknown key${hint}` });
      }
    } else if (issue.code === 'invalid_union' && unionBranch(issue)) {
      // One of the shapes matched the value's type (a string for `bake: 30`): its own message says more.
      for (const inner of unionBranch(issue)!) {
        const path = [...issue.path, ...inner.path];
        out.push({ path: formatPath(path), message: inner.code === 'invalid_type' && valueAt(document, path) === undefined ? 'is required' : inner.message });
      }
    } else if (issue.code === 'invalid_type' && valueAt(document, issue.path) === undefined) {
      out.push({ path: formatPath(issue.path), message: 'is required' });
    } else {
      out.push({ path: formatPath(issue.path), message: issue.message });
    }
  }
  return out;
}

/** The issues of the one union branch whose type matched (no type error at its root), if exactly one did. */
function unionBranch(issue: z.core.$ZodIssue): z.core.$ZodIssue[] | undefined {
  const branches = (issue as { errors?: z.core.$ZodIssue[][] }).errors;
  if (!branches) return undefined;
  const typed = branches.filter((b) => b.length > 0 && !b.some((i) => i.code === 'invalid_type' && i.path.length === 0));
  return typed.length === 1 ? typed[0] : undefined;
}

function valueAt(document: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = document;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg];
  }
  return v;
}

/** `strategy[2].canary.percent: must be 1..100` */
export function formatPlanIssue(issue: PlanIssue): string {
  return `${issue.path}: ${issue.message}`;
}

/** Validates a plan document (already read from YAML/JSON) and applies the defaults. */
export function parsePlan(document: unknown): PlanParseResult {
  const r = PlanSchema.safeParse(document);
  return r.success ? { ok: true, plan: r.data } : { ok: false, issues: planIssues(r.error, document) };
}

/**
 * Issues `plan validate` and `rollout start` raise beyond the schema (kept out of {@link parsePlan},
 * which also reads plans of rollouts already running): an approval step with nobody listed as approver
 * is refused unless the plan says `approvers: anyone` on purpose — an empty list used to mean "anyone"
 * silently (issue 13).
 */
export function approverIssues(plan: RolloutPlan): PlanIssue[] {
  const a = plan.approvals;
  if (a.anyone || a.approvers.length > 0) return [];
  const at = plan.strategy.findIndex((s) => s.kind === 'approval' || (s.kind === 'canary' && s.approval !== undefined));
  if (at < 0) return [];
  return [
    {
      path: 'approvals.approvers',
      message: `must list who may approve (strategy[${at}] asks for an approval), or say 'approvers: anyone' to let anyone with access to the namespace decide`,
    },
  ];
}

/** The candidate's step list with its index, for code that needs "step N of M". */
export function describeStep(step: Step): string {
  switch (step.kind) {
    case 'mirror':
      return `mirror ${step.percent}%`;
    case 'costCheck':
      return 'cost check';
    case 'approval':
      return 'approval';
    case 'canary':
      return `canary ${step.percent}%${step.approval ? ' (approval first)' : ''}`;
    case 'promote':
      return 'promote to 100%';
    case 'retire':
      return 'retire baseline';
    default: {
      const never: never = step;
      return String(never);
    }
  }
}
