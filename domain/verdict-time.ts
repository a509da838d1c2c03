/**
 * Time to a verdict, before a rollout runs (`glidepath plan explain --rps N`): for each judged gate and
 * each bake step, how long the judge needs at N requests/s to fail a clearly worse candidate, and to pass
 * one that is no different from the baseline, and a warning when a bake is too short to decide.
 *
 * Method (computed, not simulated): the expected counts after t seconds — the candidate serves its
 * share of N (the mirror or canary percent), the baseline the rest (all of N during a mirror), events at
 * the assumed rates — are put through the count test's own e-value (`expectedLogEValues`), and t is the
 * first analysis at which that reaches the threshold (G/α to fail, 1/α to pass). This is the plug-in
 * the judge uses for "could detect": roughly the median. In 200 seeded bakes of the worked example below
 * (test/domain/verdict-time.test.ts) 58% failed by the predicted time (median 5m, as predicted) and 62%
 * passed early by it (median 25m against 29m predicted).
 *
 * Worked example: one gate `5xx`, tolerance 1.5×, α 0.01 (fail needs 100), a 10% canary at 50 req/s
 * (5 req/s candidate, 45 baseline), baseline 1% errors, analyses every minute. A candidate at
 * 2 × 1.5 = 3× (3% errors) is expected to show 9 of each minute's 36 errors, where a candidate at the
 * tolerance would show 300·1.5/(300·1.5 + 2,700) = 14% of them (5.1); the expected e-value passes 100 at
 * the 5th analysis: "fail ~5m". A candidate no different from the baseline passes early at ~29m.
 */
import { formatSpan } from './duration.js';
import { DEFAULT_GRID, expectedLogEValues, type CountTestConfig, type Tolerance } from './judge/count-test.js';
import { describeTolerance, fmtRatio, type JudgeGate, type JudgeSettings } from './judge/judge.js';
import { judgedGatesOf, judgeSettingsOf as judgeSettingsOfPlan } from './judged-analysis.js';
import type { RolloutPlan } from './plan.js';

/** A bake step as the predictor needs it: where the candidate's requests come from and how long it bakes. */
export interface JudgedStep {
  index: number;
  title: string;
  kind: 'mirror' | 'canary';
  /** Mirror percent (copies of live traffic to the candidate) or canary percent (live traffic to it). */
  percent: number;
  /** The longest the step bakes, ms. */
  bakeMs: number;
}

/** What the prediction assumes. */
export interface VerdictTimeOptions {
  /** Requests per second to the endpoint. */
  rps: number;
  /** Analysis interval, ms: a verdict comes at an analysis. */
  intervalMs: number;
  /** The baseline's per-request event rate per gate (a fraction), or one rate for every gate. */
  baselineRate: number | Readonly<Record<string, number>>;
  /** Every judged gate of the step, when more than `settings.gates` (the fail threshold is gateCount/α). */
  gateCount?: number;
  /** The "clearly worse" candidate: this many times the tolerance's boundary rate (default 2). */
  failEffect?: number;
}

/** The baseline event rate assumed when none is given: 1% (a p99 exceedance gate's rate by construction). */
export const DEFAULT_BASELINE_RATE = 0.01;
/** Predictions stop here: a verdict later than this is "never" for a rollout. */
const HORIZON_MS = 30 * 24 * 3600_000;

/** One gate in one step. Times are ms from the start of the bake, at an analysis; null = not within 30 days. */
export interface GateVerdictTime {
  step: number;
  stepTitle: string;
  gate: string;
  candidateRps: number;
  baselineRps: number;
  baselineRate: number;
  /** The worse candidate's rate, and its ratio to the baseline's (Infinity when the baseline's rate is 0; null in JSON). */
  failRate: number;
  failRatio: number;
  timeToFailMs: number | null;
  /** When a candidate equal to the baseline passes early; null when it cannot (see passNote) or early pass is off. */
  timeToPassMs: number | null;
  passNote: string | null;
  bakeMs: number;
  /** True when the worse candidate is not expected to be caught within the bake. */
  tooShort: boolean;
}

/** The prediction for a plan. */
export interface VerdictTimePrediction {
  rps: number;
  method: string;
  failThreshold: number;
  passThreshold: number | null;
  rows: GateVerdictTime[];
  warnings: string[];
  text: string;
}

/** Thrown when the predictor is given numbers it cannot use (the CLI checks --rps first). */
export class InvalidPredictionInput extends Error {
  override name = 'InvalidPredictionInput';
}

function rateOf(opts: VerdictTimeOptions, gate: string): number {
  const r = typeof opts.baselineRate === 'number' ? opts.baselineRate : (opts.baselineRate[gate] ?? DEFAULT_BASELINE_RATE);
  if (!(Number.isFinite(r) && r >= 0 && r < 1)) throw new InvalidPredictionInput(`baseline rate of '${gate}' must be a fraction in [0, 1) (got ${String(r)})`);
  return r;
}

/** Requests per second to candidate and baseline during a step. */
export function stepRates(step: JudgedStep, rps: number): { candidate: number; baseline: number } {
  const share = step.percent / 100;
  return step.kind === 'mirror' ? { candidate: rps * share, baseline: rps } : { candidate: rps * share, baseline: rps * (1 - share) };
}

/**
 * The first analysis (ms from the bake's start) at which the expected e-value reaches `threshold`, or
 * null. ln E(t) is convex in t with ln E(0) = 0 (a log-mean-exp of terms linear in t), so once it is
 * above the threshold it stays there, and bisection finds the crossing.
 */
function timeToThreshold(config: CountTestConfig, which: 'fail' | 'pass', rates: { candidate: number; baseline: number }, p: { candidate: number; baseline: number }, threshold: number, intervalMs: number): number | null {
  const need = Math.log(threshold);
  const logE = (seconds: number) =>
    expectedLogEValues(config, {
      candidateRequests: rates.candidate * seconds,
      candidateEvents: rates.candidate * seconds * p.candidate,
      baselineRequests: rates.baseline * seconds,
      baselineEvents: rates.baseline * seconds * p.baseline,
    })[which];
  const horizon = HORIZON_MS / 1000;
  let hi = 1;
  while (hi < horizon && logE(hi) < need) hi *= 2;
  if (logE(Math.min(hi, horizon)) < need) return null;
  let lo = 0;
  for (let i = 0; i < 60 && hi - lo > 0.5; i++) {
    const m = (lo + hi) / 2;
    if (logE(m) >= need) hi = m;
    else lo = m;
  }
  const interval = Math.max(1000, intervalMs);
  return Math.ceil((hi * 1000) / interval) * interval;
}

/** "~4m", "~1h 10m", "~2d 3h" (to the hour past a day, to the minute past 10 minutes, else to the second). */
function approx(ms: number): string {
  const unit = ms >= 86_400_000 ? 3_600_000 : ms >= 600_000 ? 60_000 : 1000;
  const rounded = Math.round(ms / unit) * unit;
  return `~${formatSpan(rounded)}`;
}

function fmtRps(x: number): string {
  return x >= 100 ? String(Math.round(x)) : x >= 10 ? x.toFixed(1).replace(/\.0$/, '') : String(Math.round(x * 100) / 100);
}

function pctText(x: number): string {
  return `${Math.round(x * 100_000) / 1000}%`;
}

/** The boundary rate a tolerance allows at baseline rate p: ρ·p + δ. */
const boundary = (t: Tolerance, p: number) => t.ratio * p + t.additive;

/**
 * Predicts, per bake step and judged gate, the time to a verdict at `opts.rps`. Throws
 * InvalidPredictionInput for a rate that is not a positive number.
 */
export function predictVerdictTimes(settings: JudgeSettings, steps: readonly JudgedStep[], opts: VerdictTimeOptions): VerdictTimePrediction {
  if (!(Number.isFinite(opts.rps) && opts.rps > 0)) throw new InvalidPredictionInput(`requests per second must be a positive number (got ${String(opts.rps)})`);
  const effect = opts.failEffect ?? 2;
  if (!(Number.isFinite(effect) && effect > 1)) throw new InvalidPredictionInput(`the fail effect must be a number above 1 (got ${String(effect)})`);
  const alpha = settings.falseAlarmBudget;
  const failThreshold = Math.max(opts.gateCount ?? 0, settings.gates.length) / alpha;
  const passThreshold = settings.earlyPass ? 1 / alpha : null;
  const rows: GateVerdictTime[] = [];
  const warnings: string[] = [];
  for (const step of steps) {
    const rates = stepRates(step, opts.rps);
    for (const g of settings.gates) rows.push(predictGate(g, step, rates, rateOf(opts, g.name), effect, failThreshold, passThreshold, opts.intervalMs));
  }
  for (const r of rows.filter((x) => x.tooShort)) {
    const step = steps.find((s) => s.index === r.step)!;
    const needs = r.timeToFailMs === null ? 'cannot be detected within 30 days' : `needs ${approx(r.timeToFailMs)} to detect`;
    const rise = Number.isFinite(r.failRatio) ? `a ${fmtRatio(r.failRatio)} rise in ${r.gate}` : `${r.gate} at ${pctText(r.failRate)} (baseline 0%)`;
    warnings.push(`step ${r.step + 1} (${step.title}): bake ${formatSpan(r.bakeMs)} at ${fmtRps(r.candidateRps)} req/s to the candidate: ${rise} ${needs}`);
  }
  const method = `expected counts through the count test's e-value (a plug-in, not a simulation): roughly the median time; some bakes decide later`;
  const rateText =
    typeof opts.baselineRate === 'number'
      ? `baseline rate ${pctText(opts.baselineRate)} for every gate`
      : `baseline rates ${settings.gates.map((g) => `${g.name} ${pctText(rateOf(opts, g.name))}`).join(', ')}`;
  const lines = [
    `Time to a verdict at ${fmtRps(opts.rps)} req/s (${rateText}; α ${alpha}, ${settings.gates.length} judged gate${settings.gates.length === 1 ? '' : 's'}: fail needs ${failThreshold}${passThreshold === null ? ', early pass off' : `, pass ${passThreshold}`}):`,
  ];
  for (const step of steps) {
    const rates = stepRates(step, opts.rps);
    lines.push(`  ${step.index + 1}. ${step.title}: candidate ${fmtRps(rates.candidate)} req/s, baseline ${fmtRps(rates.baseline)} req/s, bake ${formatSpan(step.bakeMs)}`);
    const mine = rows.filter((r) => r.step === step.index);
    const width = Math.max(...mine.map((r) => r.gate.length));
    for (const r of mine) {
      const fail = r.timeToFailMs === null ? 'not within 30 days' : `${approx(r.timeToFailMs)}${r.tooShort ? ' (longer than the bake)' : ''}`;
      const pass = passThreshold === null ? '' : ` · no difference: ${r.timeToPassMs === null ? (r.passNote ?? 'no early pass within 30 days') : `pass ${approx(r.timeToPassMs)}${r.timeToPassMs > r.bakeMs ? ' (longer than the bake: bakes in full)' : ''}`}`;
      const worse = Number.isFinite(r.failRatio) ? `${fmtRatio(r.failRatio)} the baseline's rate` : `rate ${pctText(r.failRate)} (baseline 0%)`;
      lines.push(`       ${r.gate.padEnd(width)}  ${worse}: fail ${fail}${pass}`);
    }
  }
  lines.push(`  (${method}.)`);
  for (const w of warnings) lines.push(`warning: ${w}`);
  return { rps: opts.rps, method, failThreshold, passThreshold, rows, warnings, text: lines.join('\n') };
}

function predictGate(
  g: JudgeGate,
  step: JudgedStep,
  rates: { candidate: number; baseline: number },
  pB: number,
  effect: number,
  failThreshold: number,
  passThreshold: number | null,
  intervalMs: number,
): GateVerdictTime {
  const config: CountTestConfig = { fail: g.tolerance, pass: g.passTolerance, grid: DEFAULT_GRID };
  const failRate = Math.min(1, effect * boundary(g.tolerance, pB));
  const failRatio = pB > 0 ? failRate / pB : Infinity;
  const judgeable = rates.candidate > 0 && rates.baseline > 0;
  const timeToFailMs = judgeable ? timeToThreshold(config, 'fail', rates, { candidate: failRate, baseline: pB }, failThreshold, intervalMs) : null;
  let timeToPassMs: number | null = null;
  let passNote: string | null = null;
  if (passThreshold !== null) {
    if (!judgeable) passNote = 'cannot pass: one side serves no requests';
    else if (boundary(g.passTolerance, pB) <= pB) passNote = `never passes early: a candidate equal to the baseline sits at the pass tolerance ${describeTolerance(g.passTolerance)}`;
    else {
      timeToPassMs = timeToThreshold(config, 'pass', rates, { candidate: pB, baseline: pB }, passThreshold, intervalMs);
      if (timeToPassMs === null) passNote = pB === 0 ? 'no events expected: a ratio cannot pass without them' : 'no early pass within 30 days';
    }
  }
  return {
    step: step.index,
    stepTitle: step.title,
    gate: g.name,
    candidateRps: rates.candidate,
    baselineRps: rates.baseline,
    baselineRate: pB,
    failRate,
    failRatio,
    timeToFailMs,
    timeToPassMs,
    passNote,
    bakeMs: step.bakeMs,
    tooShort: timeToFailMs === null || timeToFailMs > step.bakeMs,
  };
}

// ───────────────────────────── from a plan ─────────────────────────────

/**
 * The judge's settings a plan asks for, for the predictor, or null when it judges no gate. The gates and
 * their names are the workflow's own (domain/judged-analysis.ts: `5xx`, `424`, `latency p50` …). Count
 * gates are predicted from the baseline rate; a latency gate judged on the traffic log
 * (`analysis.logs`) is a count gate over exceedances of the baseline's frozen quantile (rate 1 − q, see
 * {@link latencyBaselineRates}); a latency gate without logs is judged interval by interval and left to
 * {@link latencyVerdictNotes}. `gateCount` is every judged gate: the fail threshold is gateCount/α.
 */
export function judgeSettingsOf(plan: RolloutPlan): (JudgeSettings & { gateCount: number }) | null {
  const all = judgeSettingsOfPlan(plan);
  if (!all) return null;
  const gates = all.gates.filter((g) => !g.name.startsWith('latency ') || plan.analysis.logs !== undefined);
  if (gates.length === 0) return null;
  return { ...all, gates, gateCount: all.gates.length };
}

/** Per latency gate judged on the traffic log: the baseline's exceedance rate of its frozen quantile (p50 → 50%, p99 → 1%). */
export function latencyBaselineRates(plan: RolloutPlan): Record<string, number> {
  const out: Record<string, number> = {};
  if (!plan.analysis.logs) return out;
  for (const g of judgedGatesOf(plan.gates)) if (g.kind === 'latency') out[g.name] = 1 - Number(g.quantile.slice(1)) / 100;
  return out;
}

/**
 * Latency gates judged without the traffic log, interval by interval (one pair of percentiles per
 * analysis): their time to a verdict does not depend on the request rate. The fewest analyses that can
 * fail (every interval has the candidate's percentile above tolerance × the baseline's) and pass (every
 * interval has the baseline's above the candidate's), from the count test's own e-value.
 */
export function latencyVerdictNotes(plan: RolloutPlan): string[] {
  if (plan.analysis.logs) return [];
  const all = judgeSettingsOfPlan(plan);
  const latency = (all?.gates ?? []).filter((g) => g.name.startsWith('latency '));
  if (!all || latency.length === 0) return [];
  const alpha = all.falseAlarmBudget;
  const config: CountTestConfig = { fail: latency[0]!.tolerance, pass: latency[0]!.passTolerance, grid: DEFAULT_GRID };
  const perInterval = 1000 / plan.analysis.intervalMs;
  const rates = { candidate: perInterval, baseline: perInterval };
  const fail = timeToThreshold(config, 'fail', rates, { candidate: 1, baseline: 0 }, all.gates.length / alpha, plan.analysis.intervalMs);
  const pass = timeToThreshold(config, 'pass', rates, { candidate: 0, baseline: 1 }, 1 / alpha, plan.analysis.intervalMs);
  const n = (ms: number | null) => (ms === null ? 'never' : `${Math.round(ms / plan.analysis.intervalMs)} analyses (${approx(ms)})`);
  return [
    `  ${latency.map((g) => g.name).join(', ')}: judged interval by interval on the percentile metrics (no analysis.logs), whatever the request rate: at least ${n(fail)} in a row to fail, ${n(pass)} to pass early; with analysis.logs the judge counts requests instead and decides sooner.`,
  ];
}

/** The plan's bake steps (mirror and canary), as the predictor takes them. */
export function judgedStepsOf(plan: RolloutPlan): JudgedStep[] {
  const out: JudgedStep[] = [];
  plan.strategy.forEach((s, index) => {
    if (s.kind === 'mirror' || s.kind === 'canary') out.push({ index, title: `${s.kind} ${s.percent}%`, kind: s.kind, percent: s.percent, bakeMs: s.bakeMs });
  });
  return out;
}
