/**
 * The judge (domain/judge/) wired into a plan's bake: which gates it judges, what it sees in a metrics
 * snapshot, and what a bake step does after each analysis of a judged plan. Pure, like domain/analysis.ts
 * (which keeps the rules for plans that use only fixed thresholds).
 *
 * A gate with a `tolerance` is judged; its `max` / `maxRatioToBaseline` / `maxIncrease` stay guardrails,
 * evaluated per window as before (domain/gates.ts; `failureLimit` failed windows in a row roll back).
 *
 * What the judge sees per analysis (GateObservation):
 * - 5xx / 424: the two deployments' request and error counts over the window (Azure Monitor's
 *   `RequestsPerMinute` split by deployment and status code).
 * - latency with `analysis.logs`: requests above the baseline's quantile (`p50`, `p95`, `p99` of the
 *   traffic log) frozen at the step's first analysis — the baseline's above q, the candidate's above
 *   q × slowdown tolerance (domain/judge/exceedance.ts). The first analysis only sets the thresholds.
 * - latency without logs: a paired per-interval sign test on the percentile metric. Each analysis is one
 *   pair: the candidate's event is "its pXX > slowdown × the baseline's pXX", the baseline's event the
 *   reverse. With equal exposures and ratio tolerance 1 the count test is valid for "the candidate's
 *   percentile exceeds slowdown × the baseline's no more often than the reverse" (the paired argument of
 *   exceedance.ts, one pair per window). It needs many analyses (a run of about 10 intervals at α = 0.01),
 *   and with very unequal traffic a high percentile of the smaller side is estimated lower (nearest rank
 *   over fewer requests), which makes failing harder and passing easier: docs/judge.md lists it.
 * Missing data, a partial window, a side with no traffic: the observation says so and the judge calls
 * the analysis inconclusive with the reason (never a pass).
 */
import { formatDuration } from './duration.js';
import type { GateResult, MetricsSnapshot, Verdict } from './gates.js';
import type { AnalysisSettings, Gates } from './plan.js';
import { DEFAULT_FALSE_ALARM_BUDGET, fmtRatio, judgeLook, startJudge, type GateObservation, type JudgeSettings, type JudgeState, type StepJudgement } from './judge/judge.js';
import type { Tolerance } from './judge/count-test.js';
import { atEndInconclusive, type BakeDecision, type BakeProgress } from './analysis.js';

/** The plan gates the judge can take over. */
export type JudgedGateKey = 'errorRate' | 'modelErrorRate' | 'latencyP50Ms' | 'latencyP95Ms' | 'latencyP99Ms';

/** One judged gate: its plan key, its name in the judge (`5xx`, `latency p99`) and how it is observed. */
export type JudgedGate =
  | { key: 'errorRate' | 'modelErrorRate'; name: '5xx' | '424'; kind: 'count'; tolerance: Tolerance; passTolerance: Tolerance }
  | { key: 'latencyP50Ms' | 'latencyP95Ms' | 'latencyP99Ms'; name: string; kind: 'latency'; quantile: 'p50' | 'p95' | 'p99'; slowdown: number };

const EXACT: Tolerance = { ratio: 1, additive: 0 };
const LATENCY_KEYS = [
  ['latencyP50Ms', 'p50'],
  ['latencyP95Ms', 'p95'],
  ['latencyP99Ms', 'p99'],
] as const;

/** The plan's judged gates, in a fixed order (5xx, 424, latency p50, p95, p99). */
export function judgedGatesOf(gates: Gates): JudgedGate[] {
  const out: JudgedGate[] = [];
  const e = gates.errorRate;
  if (e?.tolerance) out.push({ key: 'errorRate', name: '5xx', kind: 'count', tolerance: e.tolerance, passTolerance: e.passTolerance ?? e.tolerance });
  const m = gates.modelErrorRate;
  if (m?.tolerance) out.push({ key: 'modelErrorRate', name: '424', kind: 'count', tolerance: m.tolerance, passTolerance: m.passTolerance ?? m.tolerance });
  for (const [key, quantile] of LATENCY_KEYS) {
    const g = gates[key];
    if (g?.tolerance !== undefined) out.push({ key, name: `latency ${quantile}`, kind: 'latency', quantile, slowdown: g.tolerance });
  }
  return out;
}

/**
 * The judge's settings for a plan, or null when no gate has a tolerance (the plan uses only fixed
 * thresholds and runs as before). Latency gates get tolerance 1 in the judge: the slowdown is in the
 * threshold (exceedances) or in the comparison (the per-interval test).
 */
export function judgeSettingsOf(plan: { gates: Gates; analysis: Pick<AnalysisSettings, 'falseAlarmBudget'> }): JudgeSettings | null {
  const gates = judgedGatesOf(plan.gates);
  if (gates.length === 0) return null;
  const alpha = plan.analysis.falseAlarmBudget ?? DEFAULT_FALSE_ALARM_BUDGET;
  return {
    // With prediction gates the step's budget α is split over G judged gates + the disagreement test
    // (Bonferroni): the judge gets α·G/(G+1), so its fail threshold G/α' is (G+1)/α, the test's too.
    falseAlarmBudget: plan.gates.predictions ? (alpha * gates.length) / (gates.length + 1) : alpha,
    earlyPass: true,
    gates: gates.map((g) => (g.kind === 'count' ? { name: g.name, tolerance: g.tolerance, passTolerance: g.passTolerance } : { name: g.name, tolerance: EXACT, passTolerance: EXACT })),
  };
}

/** The plan's gates without their tolerances: the guardrails, judged per window by domain/gates.ts. Gates left with no rule are dropped. */
export function guardrailsOf(gates: Gates): Gates {
  const out: Gates = {};
  for (const [key, value] of Object.entries(gates) as [keyof Gates, unknown][]) {
    if (value === undefined) continue;
    const { tolerance: _t, passTolerance: _p, ...rest } = value as Record<string, unknown>;
    if (key === 'webhook' || key === 'predictions') continue; // called by the workflow (webhook, pairs), not evaluated here
    if (Object.keys(rest).length === 0) continue;
    (out as Record<string, unknown>)[key] = rest;
  }
  return out;
}

/** The judge's state for one bake step: the e-processes, and the latency thresholds frozen at the step's first analysis (traffic-log plans). Plain JSON. */
export interface StepJudgeState {
  judge: JudgeState;
  /** Per latency gate name: the baseline's quantile in ms, frozen once set. Absent until set. */
  thresholdsMs?: Record<string, number>;
}

/** A step's judge before its first analysis. */
export function startStepJudge(settings: JudgeSettings): StepJudgeState {
  return { judge: startJudge(settings) };
}

/**
 * The latencies the activity must count exceedances above (traffic-log plans, once thresholds are
 * frozen): per latency gate, the baseline's threshold q and the candidate's q × slowdown. Sorted, unique.
 */
export function judgeExceedanceMs(gates: Gates, state: StepJudgeState | undefined): number[] {
  const t = state?.thresholdsMs;
  if (!t) return [];
  const out = new Set<number>();
  for (const g of judgedGatesOf(gates)) {
    if (g.kind !== 'latency' || t[g.name] === undefined) continue;
    out.add(t[g.name]!);
    out.add(candidateThreshold(t[g.name]!, g.slowdown));
  }
  return [...out].sort((a, b) => a - b);
}

/** q × slowdown, rounded to a microsecond so the workflow, the query and the evidence agree on the number. */
export function candidateThreshold(q: number, slowdown: number): number {
  return Math.round(q * slowdown * 1000) / 1000;
}

function countAbove(list: { aboveMs: number; count: number }[] | undefined, ms: number): number | undefined {
  return list?.find((e) => e.aboveMs === ms)?.count;
}

/**
 * What the judge sees in one snapshot, per judged gate, and the thresholds after it (set at the first
 * analysis of a traffic-log plan from the baseline's percentiles in that window).
 */
export function gateObservations(
  plan: { gates: Gates; analysis: Pick<AnalysisSettings, 'logs'> },
  state: StepJudgeState,
  snapshot: MetricsSnapshot,
): { observations: Record<string, GateObservation>; thresholdsMs?: Record<string, number> } {
  const observations: Record<string, GateObservation> = {};
  const c = snapshot.candidate;
  const b = snapshot.baseline;
  let thresholds = state.thresholdsMs;
  const gates = judgedGatesOf(plan.gates);
  for (const g of gates) {
    if (g.kind === 'count') {
      observations[g.name] = countObservation(g.key === 'errorRate' ? 'errors5xx' : 'errors424', g.name, snapshot);
      continue;
    }
    if (!plan.analysis.logs) {
      observations[g.name] = percentileObservation(g, snapshot);
      continue;
    }
    if (snapshot.logsProblem !== undefined) {
      observations[g.name] = /partial/i.test(snapshot.logsProblem) ? { kind: 'partial', detail: `traffic log: ${snapshot.logsProblem}` } : { kind: 'missing', detail: `traffic log: ${snapshot.logsProblem}` };
      continue;
    }
    const q = thresholds?.[g.name];
    if (q === undefined) {
      const bq = b?.log?.latencyMs[g.quantile] ?? null;
      if (!b?.log || b.log.requests === 0 || bq === null) {
        observations[g.name] = { kind: 'missing', detail: `the baseline has no requests in the traffic log yet to take its ${g.quantile} from` };
      } else {
        thresholds = { ...(thresholds ?? {}), [g.name]: bq };
        observations[g.name] = { kind: 'missing', detail: `threshold frozen at the baseline's ${g.quantile} ${bq}ms (candidate counted above ${candidateThreshold(bq, g.slowdown)}ms); counting starts at the next analysis` };
      }
      continue;
    }
    const cq = candidateThreshold(q, g.slowdown);
    if (!b?.log || !c?.log) {
      observations[g.name] = { kind: 'missing', detail: `no traffic-log evidence for the ${!c?.log ? 'candidate' : 'baseline'}` };
      continue;
    }
    const candidateEvents = countAbove(c.log.judgeExceedances, cq);
    const baselineEvents = countAbove(b.log.judgeExceedances, q);
    if (candidateEvents === undefined || baselineEvents === undefined) {
      observations[g.name] = { kind: 'missing', detail: `the traffic log gave no count above ${candidateEvents === undefined ? cq : q}ms` };
      continue;
    }
    observations[g.name] = { kind: 'window', candidateRequests: c.log.requests, candidateEvents, baselineRequests: b.log.requests, baselineEvents };
  }
  return { observations, ...(thresholds ? { thresholdsMs: thresholds } : {}) };
}

function countObservation(field: 'errors5xx' | 'errors424', name: string, snapshot: MetricsSnapshot): GateObservation {
  const c = snapshot.candidate;
  const b = snapshot.baseline;
  if (!c && !b) return { kind: 'missing', detail: 'no request metrics for either deployment in the window' };
  const side = (d: typeof c, which: string): { requests: number; events: number } | string => {
    if (!d) return { requests: 0, events: 0 }; // the source reports no series for a deployment that served nothing
    const events = d[field];
    if (events === undefined) return `the metrics gave no ${name} count for the ${which}`;
    return { requests: d.requests, events };
  };
  const cs = side(c, 'candidate');
  const bs = side(b, 'baseline');
  if (typeof cs === 'string') return { kind: 'missing', detail: cs };
  if (typeof bs === 'string') return { kind: 'missing', detail: bs };
  return { kind: 'window', candidateRequests: cs.requests, candidateEvents: cs.events, baselineRequests: bs.requests, baselineEvents: bs.events };
}

function percentileObservation(g: Extract<JudgedGate, { kind: 'latency' }>, snapshot: MetricsSnapshot): GateObservation {
  const c = snapshot.candidate;
  const b = snapshot.baseline;
  if (!b || b.requests === 0) return { kind: 'window', candidateRequests: c && c.requests > 0 ? 1 : 0, candidateEvents: 0, baselineRequests: 0, baselineEvents: 0 };
  if (!c || c.requests === 0) return { kind: 'window', candidateRequests: 0, candidateEvents: 0, baselineRequests: 1, baselineEvents: 0 };
  const cv = c[g.key];
  const bv = b[g.key];
  if (cv === null || bv === null) return { kind: 'missing', detail: `no ${g.quantile} latency metric for the ${cv === null ? 'candidate' : 'baseline'}` };
  const limit = bv * g.slowdown;
  return { kind: 'window', candidateRequests: 1, candidateEvents: cv > limit ? 1 : 0, baselineRequests: 1, baselineEvents: cv < limit ? 1 : 0 };
}

/** One judged analysis: the judge's new state and its verdict for the step so far. */
export function judgeAnalysis(
  plan: { gates: Gates; analysis: Pick<AnalysisSettings, 'logs'> },
  settings: JudgeSettings,
  state: StepJudgeState,
  snapshot: MetricsSnapshot,
): { state: StepJudgeState; judgement: StepJudgement } {
  const { observations, thresholdsMs } = gateObservations(plan, state, snapshot);
  const r = judgeLook(settings, state.judge, observations);
  return { state: { judge: r.state, ...(thresholdsMs ? { thresholdsMs } : {}) }, judgement: explainLatency(plan, thresholdsMs, r.judgement) };
}

/**
 * A latency gate's counts are not requests with errors: its reason says what was counted, e.g.
 * `latency p50 (intervals in which the candidate's p50 was above 1.1× the baseline's, vs below): …`.
 */
function explainLatency(plan: { gates: Gates; analysis: Pick<AnalysisSettings, 'logs'> }, thresholdsMs: Record<string, number> | undefined, j: StepJudgement): StepJudgement {
  const notes = new Map<string, string>();
  for (const g of judgedGatesOf(plan.gates)) {
    if (g.kind !== 'latency') continue;
    const q = thresholdsMs?.[g.name];
    notes.set(
      g.name,
      plan.analysis.logs
        ? q === undefined
          ? ''
          : ` (requests above the baseline's ${g.quantile} ${q}ms, the candidate's counted above ${candidateThreshold(q, g.slowdown)}ms = ${g.slowdown}×)`
        : ` (intervals in which the candidate's ${g.quantile} was above ${g.slowdown}× the baseline's, vs below)`,
    );
  }
  if (notes.size === 0) return j;
  const rewrite = new Map<string, string>();
  const gates = j.gates.map((g) => {
    const note = notes.get(g.gate);
    if (!note || !g.reason.startsWith(`${g.gate}:`)) return g;
    const reason = `${g.gate}${note}:${g.reason.slice(g.gate.length + 1)}`;
    rewrite.set(g.reason, reason);
    return { ...g, reason };
  });
  return { ...j, gates, reasons: j.reasons.map((r) => rewrite.get(r) ?? r) };
}

/**
 * The verdict of a judged analysis: the judge's verdict and the guardrails' (fixed thresholds, webhook)
 * together. Fail when either fails; pass when the judge has passed and the guardrails pass; else
 * inconclusive. The reasons quote the judge's reasons first.
 */
export function judgedVerdict(guardrails: Verdict, judgement: StepJudgement): Verdict {
  const judged: GateResult[] = judgement.gates.map((g) => ({ gate: g.gate, status: g.status, reason: g.reason }));
  const gates = [...judged, ...guardrails.gates];
  const base = { gates, snapshot: guardrails.snapshot, judgement };
  if (judgement.status === 'fail' || guardrails.status === 'fail') {
    return { ...base, status: 'fail', reasons: [...(judgement.status === 'fail' ? judgement.reasons : []), ...(guardrails.status === 'fail' ? guardrails.reasons : [])] };
  }
  if (judgement.status === 'pass' && guardrails.status === 'pass') return { ...base, status: 'pass', reasons: [...judgement.reasons, ...(guardrails.gates.length ? guardrails.reasons : [])] };
  return { ...base, status: 'inconclusive', reasons: [...(judgement.status === 'pass' ? [] : judgement.reasons), ...(guardrails.status === 'inconclusive' ? guardrails.reasons : [])] };
}

/** The smallest effects the judged gates could detect, for a pass without evidence: `5xx ≥ 2.10×, latency p50 ≥ 3.00×`. */
export function detectableSummary(judgement: StepJudgement): string {
  const parts = judgement.gates.map((g) => `${g.gate} ${g.detectableRatio === null ? 'not yet measurable' : `≥ ${fmtRatio(g.detectableRatio)}`}`);
  return parts.join(', ');
}

/**
 * The next state of a judged bake and the decision, after an analysis that came `waitedMs` after the
 * previous one. The decision table (first match wins):
 *
 * | # | when | decision |
 * |---|---|---|
 * | 1 | the judge failed (sticky: once, for the rest of the step) | roll back at once |
 * | 2 | the guardrails failed `failureLimit` analyses in a row | roll back |
 * | 3 | the judge passed, the guardrails pass, the bake has a `min` and it has passed | passed early |
 * | 4 | the bake time (`max`) is not over | continue (the next analysis lands on `min` when it is ahead) |
 * | 5 | over, the guardrails failed (fewer than failureLimit in a row) | continue one interval |
 * | 6 | over, the guardrails or the judge inconclusive for a data problem | `onInconclusive` (extend / pause / rollback) |
 * | 7 | over, the judge passed | passed |
 * | 8 | over, the judge undecided, data fine | passed: "no evidence of harm; could detect ≥ X" |
 */
export function afterJudgedAnalysis(
  progress: BakeProgress,
  analysed: { guardrails: Pick<Verdict, 'status' | 'reasons'>; judgement: StepJudgement },
  waitedMs: number,
  bake: { bakeMs: number; bakeMinMs?: number },
  analysis: AnalysisSettings,
): { progress: BakeProgress; decision: BakeDecision } {
  const { guardrails: g, judgement: j } = analysed;
  const p: BakeProgress = {
    ...progress,
    elapsedMs: progress.elapsedMs + waitedMs,
    analyses: progress.analyses + 1,
    consecutiveFailures: g.status === 'fail' ? progress.consecutiveFailures + 1 : g.status === 'pass' ? 0 : progress.consecutiveFailures,
  };
  const judgeWhy = j.reasons.join('; ');
  const guardWhy = g.reasons.join('; ');
  const took = `${formatDuration(p.elapsedMs)} with ${p.analyses} ${p.analyses === 1 ? 'analysis' : 'analyses'}`;
  if (j.status === 'fail') return { progress: p, decision: { action: 'rollback', reason: `the judge found the candidate worse than its tolerance after ${took}: ${judgeWhy}` } };
  if (g.status === 'fail' && p.consecutiveFailures >= analysis.failureLimit) {
    return { progress: p, decision: { action: 'rollback', reason: `${p.consecutiveFailures} consecutive failed analyses (failureLimit ${analysis.failureLimit}): ${guardWhy}` } };
  }
  if (j.status === 'pass' && g.status === 'pass' && bake.bakeMinMs !== undefined && p.elapsedMs >= bake.bakeMinMs) {
    return { progress: p, decision: { action: 'passed', reason: `passed early after ${took} (bake min ${formatDuration(bake.bakeMinMs)}): ${judgeWhy}` } };
  }
  if (p.elapsedMs < bake.bakeMs) {
    const toMin = bake.bakeMinMs !== undefined && p.elapsedMs < bake.bakeMinMs ? bake.bakeMinMs - p.elapsedMs : Infinity;
    return { progress: p, decision: { action: 'continue', waitMs: Math.max(1000, Math.min(analysis.intervalMs, bake.bakeMs - p.elapsedMs, toMin)) } };
  }
  if (g.status === 'fail') return { progress: p, decision: { action: 'continue', waitMs: analysis.intervalMs } };
  const dataProblem = g.status === 'inconclusive' || (j.status === 'inconclusive' && j.cause !== undefined && j.cause !== 'undecided');
  if (dataProblem) {
    const why = [...(j.status === 'inconclusive' && j.cause !== 'undecided' ? [judgeWhy] : []), ...(g.status === 'inconclusive' ? [guardWhy] : [])].join('; ');
    return atEndInconclusive(p, why, analysis);
  }
  if (j.status === 'pass') return { progress: p, decision: { action: 'passed', reason: `baked ${took}; the judge passed: ${judgeWhy}` } };
  return {
    progress: p,
    decision: { action: 'passed', reason: `baked ${took}; no evidence of harm (could detect ${detectableSummary(j)}): ${judgeWhy}` },
  };
}
