/**
 * The judge: per-gate anytime-valid count tests (./count-test.ts) turned into verdicts with reasons and
 * evidence, for one bake step at a time.
 *
 * What the budget α (`falseAlarmBudget`, default 0.01) promises, per step:
 * - fail: each of the G gates fails when its fail e-value reaches G/α, so the chance that a candidate
 *   within every tolerance is rolled back during the step is at most α, however many analyses run
 *   (Ville's inequality per gate, a union bound across gates);
 * - early pass: the step passes early only when every gate's pass e-value has reached 1/α (each gate
 *   rejects "worse than its tolerance"); a candidate worse than some tolerance passes early with
 *   probability at most α (intersection–union: a bad gate would have to reject a true null).
 * - inconclusive: neither yet — bake on. Missing data, a partial window, a window in which either side
 *   served no requests, or counts that make no sense are never counted and never pass: the verdict for
 *   that analysis is inconclusive with the reason (evidence already gathered still fails).
 *
 * Rejection is sticky: once an e-value has crossed its threshold the gate keeps that verdict (the running
 * maximum is in the state), so a verdict never flips back when more data arrive.
 */
import { z } from 'zod';
import {
  DEFAULT_GRID,
  addWindow,
  assertStateMatches,
  detectableRatio,
  logEValues,
  ratioEstimate,
  startCountTest,
  windowProblem,
  type CountTestConfig,
  type CountTestState,
  type CountTotals,
  type CountWindow,
  type Tolerance,
} from './count-test.js';

// ───────────────────────────── settings ─────────────────────────────

/** The per-step false-alarm budget when a plan names none. */
export const DEFAULT_FALSE_ALARM_BUDGET = 0.01;

/** α per step: a number in (0, 0.5]. */
export const FalseAlarmBudgetSchema = z
  .number({ error: 'must be a number in (0, 0.5], e.g. 0.01' })
  .gt(0, { error: 'must be greater than 0 and at most 0.5 (e.g. 0.01)' })
  .max(0.5, { error: 'must be at most 0.5 (a budget above one false alarm in two is no test); e.g. 0.01' });

const RATIO_TEXT = /^\s*(\d+(?:\.\d+)?)\s*[x×]\s*$/;
const ADDITIVE_TEXT = /^\s*\+\s*(\d+(?:\.\d+)?)\s*%\s*$/;
const BOTH_TEXT = /^\s*(\d+(?:\.\d+)?)\s*[x×]\s*\+\s*(\d+(?:\.\d+)?)\s*%\s*$/;

/**
 * A gate's tolerance: how much worse than the baseline still counts as fine. Written `1.5` or `1.5x`
 * (rate at most 1.5 × the baseline's), `+0.5%` (at most 0.5 percentage points above), or `1.2x + 0.1%`.
 * A ratio below 1 or an additive part of 100% or more is refused.
 */
export const ToleranceSchema = z
  .union([
    z.number(),
    z.string(),
    z.strictObject({ ratio: z.number().prefault(1), additive: z.number().prefault(0) }),
  ], { error: 'must be a ratio like 1.5 or "1.5x", an increase like "+0.5%", or both like "1.2x + 0.1%"' })
  .transform((v, ctx): Tolerance => {
    let t: Tolerance | null = null;
    if (typeof v === 'number') t = { ratio: v, additive: 0 };
    else if (typeof v === 'object') t = v;
    else {
      const both = BOTH_TEXT.exec(v);
      const r = RATIO_TEXT.exec(v);
      const a = ADDITIVE_TEXT.exec(v);
      if (both) t = { ratio: Number(both[1]), additive: Number(both[2]) / 100 };
      else if (r) t = { ratio: Number(r[1]), additive: 0 };
      else if (a) t = { ratio: 1, additive: Number(a[1]) / 100 };
    }
    if (!t) {
      ctx.addIssue({ code: 'custom', message: `must be a ratio like "1.5x", an increase like "+0.5%", or both like "1.2x + 0.1%" (got "${String(v)}")` });
      return z.NEVER;
    }
    if (!(Number.isFinite(t.ratio) && t.ratio >= 1)) {
      ctx.addIssue({ code: 'custom', message: `ratio must be at least 1× (1 = no worse than the baseline; got ${t.ratio})` });
      return z.NEVER;
    }
    if (!(Number.isFinite(t.additive) && t.additive >= 0 && t.additive < 1)) {
      ctx.addIssue({ code: 'custom', message: `increase must be at least +0% and below +100% (got +${round(t.additive * 100, 4)}%)` });
      return z.NEVER;
    }
    return { ratio: t.ratio, additive: t.additive };
  });

/** One judged gate: a name (`5xx`, `latency p99`) and its tolerances. */
export const JudgeGateSchema = z
  .strictObject({
    name: z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }),
    tolerance: ToleranceSchema,
    /** Early pass needs evidence that the candidate is within this (default: the tolerance). At most the tolerance. */
    passTolerance: ToleranceSchema.optional(),
  })
  .transform((g, ctx) => {
    const pass = g.passTolerance ?? g.tolerance;
    if (pass.ratio > g.tolerance.ratio || pass.additive > g.tolerance.additive) {
      ctx.addIssue({
        code: 'custom',
        path: ['passTolerance'],
        message: `must be at most the tolerance ${describeTolerance(g.tolerance)} (got ${describeTolerance(pass)}): otherwise a candidate between them could both pass and fail`,
      });
      return z.NEVER;
    }
    return { name: g.name, tolerance: g.tolerance, passTolerance: pass };
  });

/** The judge's settings for a step. */
export const JudgeSettingsSchema = z
  .strictObject({
    falseAlarmBudget: FalseAlarmBudgetSchema.prefault(DEFAULT_FALSE_ALARM_BUDGET),
    earlyPass: z.boolean({ error: 'must be true or false' }).prefault(true),
    gates: z.array(JudgeGateSchema, { error: 'must be a list of gates' }).min(1, { error: 'must name at least one gate' }),
  })
  .superRefine((s, ctx) => {
    const seen = new Set<string>();
    for (const [i, g] of s.gates.entries()) {
      if (seen.has(g.name)) ctx.addIssue({ code: 'custom', path: ['gates', i, 'name'], message: `'${g.name}' is named twice` });
      seen.add(g.name);
    }
  });

/** Settings as written (before defaults). */
export type JudgeSettingsInput = z.input<typeof JudgeSettingsSchema>;
/** Settings with defaults filled in and tolerances normalised. */
export type JudgeSettings = z.output<typeof JudgeSettingsSchema>;
/** One gate's normalised settings. */
export type JudgeGate = JudgeSettings['gates'][number];

/** Thrown when judge settings are invalid; `issues` name each bad field (`gates[1].tolerance: ratio must be at least 1×`). */
export class InvalidJudgeSettings extends Error {
  override name = 'InvalidJudgeSettings';
  constructor(readonly issues: { path: string; message: string }[]) {
    super(`invalid judge settings: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  }
}

/** Validates judge settings and fills in defaults; throws {@link InvalidJudgeSettings} naming every bad field. */
export function parseJudgeSettings(input: unknown): JudgeSettings {
  const r = JudgeSettingsSchema.safeParse(input);
  if (r.success) return r.data;
  throw new InvalidJudgeSettings(
    r.error.issues.map((i) => ({
      path: i.path.reduce<string>((out, seg) => (typeof seg === 'number' ? `${out}[${seg}]` : out ? `${out}.${String(seg)}` : String(seg)), '') || '(settings)',
      message: i.message,
    })),
  );
}

// ───────────────────────────── observations, state, verdicts ─────────────────────────────

/**
 * What an analysis saw for one gate: a complete window of counts, a partial window (the metrics source
 * has not finished the window: not counted, the next analysis reads it whole), or nothing.
 */
export type GateObservation =
  | ({ kind: 'window' } & CountWindow)
  | { kind: 'partial'; detail: string }
  | { kind: 'missing'; detail: string };

/** The judge's state for one step. Plain JSON: workflow state, carried across continue-as-new. */
export interface JudgeState {
  version: 1;
  /** Analyses judged so far in this step. */
  looks: number;
  gates: Record<string, CountTestState>;
}

/** Why a gate could not conclude this time. `undecided` is the only cause under which evidence is still accumulating normally. */
export type InconclusiveCause = 'undecided' | 'missing-data' | 'partial-window' | 'no-baseline-traffic' | 'no-candidate-traffic' | 'invalid-data';

/** An e-value against the threshold it needs. */
export interface EvidenceLevel {
  /** The e-value now. */
  eValue: number;
  /** The largest e-value so far (the test has decided once this reaches the threshold). */
  maxEValue: number;
  threshold: number;
}

/** One gate's verdict and evidence, as data (the report and `status` print it). JSON-safe: unbounded = null. */
export interface GateJudgement {
  gate: string;
  status: 'fail' | 'pass' | 'inconclusive';
  /** Set when status is inconclusive. */
  cause?: InconclusiveCause;
  /** One sentence with the numbers. */
  reason: string;
  tolerance: Tolerance;
  passTolerance: Tolerance;
  totals: CountTotals;
  windows: number;
  /** Evidence that the candidate is worse than the tolerance, against the G/α it needs. */
  toFail: EvidenceLevel;
  /** Evidence that it is within the pass tolerance, against 1/α; null when early pass is off. */
  toPass: EvidenceLevel | null;
  /** Rate ratio candidate/baseline (null: no baseline events yet) and its anytime-valid (1 − α) interval. */
  estimate: { ratio: number | null; lower: number; upper: number | null; level: number };
  /** The smallest ratio the fail test could detect at the current sample size (null: cannot say yet). */
  detectableRatio: number | null;
}

/** The verdict of one analysis for the step: the gates' verdicts combined. */
export interface StepJudgement {
  status: 'fail' | 'pass' | 'inconclusive';
  /** Set when status is inconclusive: `undecided` when every gate had data, else the first data problem. */
  cause?: InconclusiveCause;
  reasons: string[];
  gates: GateJudgement[];
}

function configOf(g: JudgeGate): CountTestConfig {
  return { fail: g.tolerance, pass: g.passTolerance, grid: DEFAULT_GRID };
}

/** The judge's state at the start of a step: no evidence. */
export function startJudge(settings: JudgeSettings): JudgeState {
  const gates: Record<string, CountTestState> = {};
  for (const g of settings.gates) gates[g.name] = startCountTest(configOf(g));
  return { version: 1, looks: 0, gates };
}

/**
 * One analysis: counts every usable window into its gate's evidence and returns the new state and the
 * step's verdict. Observations are keyed by gate name; a gate without one is "missing data".
 *
 * Thrown (plain Error: a bug) when the state belongs to other settings (a gate or tolerance changed).
 */
export function judgeLook(
  settings: JudgeSettings,
  state: JudgeState,
  observations: Readonly<Record<string, GateObservation | undefined>>,
): { state: JudgeState; judgement: StepJudgement } {
  const alpha = settings.falseAlarmBudget;
  const failThreshold = settings.gates.length / alpha;
  const passThreshold = 1 / alpha;
  const gates: Record<string, CountTestState> = {};
  const judged: GateJudgement[] = [];
  for (const g of settings.gates) {
    const before = state.gates[g.name];
    if (!before) throw new Error(`judge state has no gate '${g.name}'; start a new judge state when the gates change`);
    assertStateMatches(before, configOf(g), g.name);
    const obs = observations[g.name];
    const usable = usability(obs);
    const after = usable.ok ? addWindow(before, usable.window, alpha) : before;
    gates[g.name] = after;
    judged.push(judgeGate(g, after, usable.ok ? null : usable, settings.earlyPass, failThreshold, passThreshold, alpha));
  }
  for (const name of Object.keys(state.gates)) {
    if (!(name in gates)) throw new Error(`judge state has gate '${name}' that the settings no longer name; start a new judge state when the gates change`);
  }
  return { state: { version: 1, looks: state.looks + 1, gates }, judgement: combine(judged, settings.earlyPass) };
}

type Usability = { ok: true; window: CountWindow } | { ok: false; cause: Exclude<InconclusiveCause, 'undecided'>; detail: string };

function usability(obs: GateObservation | undefined): Usability {
  if (!obs) return { ok: false, cause: 'missing-data', detail: 'no data for this window' };
  switch (obs.kind) {
    case 'missing':
      return { ok: false, cause: 'missing-data', detail: `no data for this window (${obs.detail})` };
    case 'partial':
      return { ok: false, cause: 'partial-window', detail: `the window is not complete yet (${obs.detail}); not counted` };
    case 'window': {
      const w: CountWindow = {
        candidateRequests: obs.candidateRequests,
        candidateEvents: obs.candidateEvents,
        baselineRequests: obs.baselineRequests,
        baselineEvents: obs.baselineEvents,
      };
      const problem = windowProblem(w);
      if (problem) return { ok: false, cause: 'invalid-data', detail: `counts make no sense (${problem}); not counted` };
      if (w.baselineRequests === 0) return { ok: false, cause: 'no-baseline-traffic', detail: 'the baseline served no requests in this window; nothing to compare with' };
      if (w.candidateRequests === 0) return { ok: false, cause: 'no-candidate-traffic', detail: 'the candidate served no requests in this window' };
      return { ok: true, window: w };
    }
    default: {
      const never: never = obs;
      throw new Error(`unknown observation ${JSON.stringify(never)}`);
    }
  }
}

function judgeGate(
  g: JudgeGate,
  s: CountTestState,
  problem: Extract<Usability, { ok: false }> | null,
  earlyPass: boolean,
  failThreshold: number,
  passThreshold: number,
  alpha: number,
): GateJudgement {
  const e = logEValues(s);
  const toFail: EvidenceLevel = { eValue: Math.exp(e.fail), maxEValue: Math.exp(s.maxFailLog), threshold: failThreshold };
  const toPass: EvidenceLevel | null = earlyPass ? { eValue: Math.exp(e.pass), maxEValue: Math.exp(s.maxPassLog), threshold: passThreshold } : null;
  const ratio = ratioEstimate(s.totals);
  const detectable = detectableRatio(s, failThreshold);
  const base: Omit<GateJudgement, 'status' | 'reason'> = {
    gate: g.name,
    tolerance: g.tolerance,
    passTolerance: g.passTolerance,
    totals: { ...s.totals },
    windows: s.windows,
    toFail,
    toPass,
    estimate: { ratio, lower: s.lower, upper: s.upper, level: 1 - alpha },
    detectableRatio: detectable,
  };
  const counts = describeCounts(s.totals);
  const est = describeEstimate(base.estimate);
  const failed = s.maxFailLog >= Math.log(failThreshold);
  if (failed) {
    return {
      ...base,
      status: 'fail',
      reason: `${g.name}: ${counts}; ${est}; evidence ${fmtE(toFail.maxEValue)} ≥ ${fmtE(failThreshold)} that the candidate's rate exceeds ${describeTolerance(g.tolerance)} the baseline's`,
    };
  }
  const progress = `evidence ${fmtE(toFail.eValue)} of ${fmtE(failThreshold)} to fail` + (toPass ? `, ${fmtE(toPass.eValue)} of ${fmtE(passThreshold)} to pass` : '');
  const detect = detectable === null ? (s.totals.baselineEvents === 0 ? 'no baseline events yet to scale a detectable effect' : 'too few requests to detect any ratio yet') : `could detect ≥ ${fmtRatio(detectable)}`;
  if (problem) {
    return { ...base, status: 'inconclusive', cause: problem.cause, reason: `${g.name}: ${problem.detail}; so far ${counts}; ${progress}` };
  }
  if (toPass && s.maxPassLog >= Math.log(passThreshold)) {
    return {
      ...base,
      status: 'pass',
      reason: `${g.name}: ${counts}; ${est}; evidence ${fmtE(toPass.maxEValue)} ≥ ${fmtE(passThreshold)} that the candidate's rate is within ${describeTolerance(g.passTolerance)} the baseline's`,
    };
  }
  const hint =
    toPass && s.totals.candidateEvents + s.totals.baselineEvents === 0 && g.passTolerance.additive === 0
      ? '; no events on either side: a ratio cannot be told apart yet (an additive tolerance such as +0.1% lets silence count)'
      : '';
  return { ...base, status: 'inconclusive', cause: 'undecided', reason: `${g.name}: ${counts}; ${est}; ${progress}; ${detect}${hint}` };
}

function combine(gates: GateJudgement[], earlyPass: boolean): StepJudgement {
  const failed = gates.filter((g) => g.status === 'fail');
  if (failed.length) return { status: 'fail', reasons: failed.map((g) => g.reason), gates };
  if (earlyPass && gates.every((g) => g.status === 'pass')) return { status: 'pass', reasons: gates.map((g) => g.reason), gates };
  const open = gates.filter((g) => g.status !== 'pass');
  const dataProblem = open.find((g) => g.cause && g.cause !== 'undecided');
  return { status: 'inconclusive', cause: dataProblem?.cause ?? 'undecided', reasons: open.map((g) => g.reason), gates };
}

// ───────────────────────────── wording ─────────────────────────────

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** 12345 → "12,345" (no Intl: the same text in every sandbox and locale). */
export function fmtCount(n: number): string {
  const s = String(Math.round(n));
  return s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** An e-value or threshold: <0.01, 0.43, 8.07, 12.8, 162, 1.2e+6. */
export function fmtE(x: number): string {
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '0';
  if (x < 0.005) return '<0.01';
  if (x >= 1e5) return x.toExponential(1);
  if (x >= 100) return String(Math.round(x));
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/** A ratio: 1.5×, 3.27×. */
export function fmtRatio(x: number): string {
  return `${x >= 10 ? x.toFixed(1) : x.toFixed(2)}×`;
}

function pct(x: number): string {
  return `${round(x * 100, 3)}%`;
}

/** `1.5×`, `+0.5%`, `1.2× + 0.1%`. */
export function describeTolerance(t: Tolerance): string {
  if (t.additive === 0) return `${round(t.ratio, 4)}×`;
  if (t.ratio === 1) return `+${round(t.additive * 100, 4)}%`;
  return `${round(t.ratio, 4)}× + ${round(t.additive * 100, 4)}%`;
}

function describeCounts(t: CountTotals): string {
  const side = (events: number, requests: number) => `${fmtCount(events)}/${fmtCount(requests)}${requests > 0 ? ` (${pct(events / requests)})` : ''}`;
  return `candidate ${side(t.candidateEvents, t.candidateRequests)} vs baseline ${side(t.baselineEvents, t.baselineRequests)}`;
}

function describeEstimate(e: GateJudgement['estimate']): string {
  const level = `${round(e.level * 100, 3)}%`;
  const lo = e.lower > 0 ? fmtRatio(e.lower) : '0';
  const hi = e.upper === null ? '∞' : fmtRatio(e.upper);
  const ratio = e.ratio === null ? 'ratio not defined yet (no baseline events)' : `ratio ${fmtRatio(e.ratio)}`;
  return `${ratio}, ${level} interval ${lo}–${hi}`;
}

/**
 * One gate's evidence in one line, for `rollout status` / `watch`:
 * `5xx  candidate 3/1,204 vs baseline 9/2,410 · evidence 0.40 of 100 to fail · could detect ≥ 2.10×`.
 * A decided gate says so instead of the distance to its threshold.
 */
export function evidenceLine(g: GateJudgement): string {
  const t = g.totals;
  const parts = [`${g.gate}  candidate ${fmtCount(t.candidateEvents)}/${fmtCount(t.candidateRequests)} vs baseline ${fmtCount(t.baselineEvents)}/${fmtCount(t.baselineRequests)}`];
  if (g.status === 'fail') parts.push(`evidence ${fmtE(g.toFail.maxEValue)} ≥ ${fmtE(g.toFail.threshold)}: worse than ${describeTolerance(g.tolerance)}`);
  else if (g.status === 'pass' && g.toPass) parts.push(`evidence ${fmtE(g.toPass.maxEValue)} ≥ ${fmtE(g.toPass.threshold)}: within ${describeTolerance(g.passTolerance)}`);
  else {
    parts.push(`evidence ${fmtE(g.toFail.eValue)} of ${fmtE(g.toFail.threshold)} to fail` + (g.toPass ? `, ${fmtE(g.toPass.eValue)} of ${fmtE(g.toPass.threshold)} to pass` : ''));
    if (g.detectableRatio !== null) parts.push(`could detect ≥ ${fmtRatio(g.detectableRatio)}`);
    if (g.cause && g.cause !== 'undecided') parts.push(`inconclusive: ${g.cause}`);
  }
  return parts.join(' · ');
}
