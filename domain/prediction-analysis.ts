/**
 * Prediction gates (`gates.predictions`) wired into a bake: what each analysis feeds the disagreement
 * test and the score-shift check, the evidence recorded with the verdict, and how the step's decision
 * changes. Pure, like domain/judged-analysis.ts; the workflow calls `readPredictionPairs` and hands the
 * aggregates here.
 *
 * ## The false-alarm budget
 * A step's budget α is shared by the judge's G gates and the disagreement test (Bonferroni): each fails at
 * evidence (G+1)/α (judgeSettingsOf gives the judge α·G/(G+1) when the plan has prediction gates), so a
 * candidate within every tolerance fails the step with probability ≤ α. A plan with no judged gate gives
 * the test the whole α (threshold 1/α). `maxScoreShift` is a threshold on a descriptive statistic (PSI,
 * Jensen-Shannon, KS, over the step's pairs), with no false-alarm claim; it is judged only once the step
 * has at least as many scored pairs as the disagreement test needs to pass.
 *
 * ## Never a pass without data
 * Too few pairs, collected data that cannot be read (CollectedDataUnavailable), or a label path missing in
 * the responses → inconclusive with the reason. At the end of the bake that is handled by `onInconclusive`
 * (extend / pause / rollback), never by a pass; a judge's or a guardrail's early pass waits for the
 * predictions too.
 */
import { atEndInconclusive, type BakeDecision, type BakeProgress } from './analysis.js';
import type { AnalysisSettings } from './plan.js';
import {
  addDisagreementWindow,
  disagreementVerdict,
  startDisagreementTest,
  type DisagreementTestState,
} from './predictions/disagreement-test.js';
import { scoreShiftVerdict, type PredictionGate } from './predictions/gate.js';
import type { PairingSummary } from './predictions/pairing.js';

/** Slices kept in the step's state (the worst by disagreements), and label flips (bounded by MAX_CLASSES² anyway). */
const MAX_STEP_SLICES = 100;
/** Below this many pairs a slice is not called "worst" (its rate is noise). */
export const MIN_SLICE_PAIRS = 20;
/** How far behind now a window ends: the collector flushes its lines about every second. */
export const COLLECTION_LAG_MS = 2000;

/** One step's prediction evidence so far. Plain JSON, in the bake progress (carried across continue-as-new). */
export interface PredictionStepState {
  test: DisagreementTestState;
  /** Label flips baseline→candidate over the step: `"false→true"` → count. */
  flips: Record<string, number>;
  /** Per `field=value`: pairs and disagreements over the step. */
  slices: Record<string, { pairs: number; disagreements: number }>;
  /** Score bins over the step (edges as the activity returned them). */
  scores: { edges: number[]; baseline: number[]; candidate: number[] } | null;
  /** Joined/unjoined pairs and skipped lines over the step. */
  joined: number;
  unjoined: { baseline: number; candidate: number };
  skippedLines: number;
  missingFolders: number;
}

/** What one analysis of the predictions found, recorded with the verdict (VerdictRecord.predictions). */
export interface PredictionEvidence {
  status: 'pass' | 'fail' | 'inconclusive';
  /** Why inconclusive: no data (unreadable store, label path missing), too few pairs, or undecided. */
  cause?: 'data' | 'too-few-pairs' | 'undecided';
  /** `predictions: disagreement 4.9% (412/8,410 pairs) > 2% · isFraud false→true 398, true→false 14 · worst slice merchantCategory=online 11.2%` */
  reason: string;
  /** The window's counts (null when nothing could be read). */
  window: { start: string; end: string; pairs: number; disagreements: number; joined: number } | null;
  /** The step so far. */
  step: {
    pairs: number;
    disagreements: number;
    maxDisagreement: number;
    flips: { baseline: string; candidate: string; count: number }[];
    worstSlices: { field: string; value: string; pairs: number; disagreements: number }[];
    scores: { edges: number[]; baseline: number[]; candidate: number[] } | null;
    joined: number;
    unjoined: { baseline: number; candidate: number };
    skippedLines: number;
    missingFolders: number;
  };
  test: { eFail: number; failThreshold: number; ePass: number; passThreshold: number; pairsToPass: number };
  scoreShift?: { statistic: string; value: number | null; max: number; status: 'pass' | 'fail' | 'inconclusive' };
}

export function startPredictionStep(gate: PredictionGate): PredictionStepState {
  return {
    test: startDisagreementTest({ maxDisagreement: gate.maxDisagreement }),
    flips: {},
    slices: {},
    scores: null,
    joined: 0,
    unjoined: { baseline: 0, candidate: 0 },
    skippedLines: 0,
    missingFolders: 0,
  };
}

/** What the workflow got from `readPredictionPairs` for the window: aggregates, or why none. */
export type PredictionRead =
  | { ok: true; window: { start: string; end: string }; summary: PairingSummary; skippedLines: number; missingFolders: number }
  | { ok: false; window: { start: string; end: string }; problem: string };

/** The judge's gate count G for the budget split ((G+1)/α for the test), and α. */
export interface PredictionBudget {
  alpha: number;
  judgedGates: number;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const maxPct = (x: number) => `${Number((100 * x).toFixed(2))}%`;
const fmt = (n: number) => n.toLocaleString('en-US');
const bare = (path: string) => path.replace(/^\$\./, '');

function addCounts(into: number[] | undefined, add: readonly number[]): number[] {
  return add.map((v, i) => (into?.[i] ?? 0) + v);
}

/** The step's flips, most frequent first. */
function flipList(s: PredictionStepState): { baseline: string; candidate: string; count: number }[] {
  return Object.entries(s.flips)
    .map(([k, count]) => {
      const [baseline, candidate] = k.split('→') as [string, string];
      return { baseline, candidate, count };
    })
    .sort((a, b) => b.count - a.count || (a.baseline + a.candidate < b.baseline + b.candidate ? -1 : 1));
}

/** The slices with the highest disagreement rate (at least MIN_SLICE_PAIRS pairs), worst first. */
function worstSlices(s: PredictionStepState, n = 5): { field: string; value: string; pairs: number; disagreements: number }[] {
  return Object.entries(s.slices)
    .filter(([, v]) => v.pairs >= MIN_SLICE_PAIRS && v.disagreements > 0)
    .map(([k, v]) => {
      const at = k.indexOf('=');
      return { field: k.slice(0, at), value: k.slice(at + 1), ...v };
    })
    .sort((a, b) => b.disagreements / b.pairs - a.disagreements / a.pairs || b.pairs - a.pairs)
    .slice(0, n);
}

/**
 * The status line of the step's predictions: `disagreement 4.9% (412/8,410 pairs) > 2% · isFraud
 * false→true 398, true→false 14 · worst slice merchantCategory=online 11.2%`.
 */
export function predictionLine(gate: PredictionGate, s: PredictionStepState, comparison: '>' | '<' | 'vs'): string {
  const n = s.test.pairs;
  const x = s.test.disagreements;
  if (n === 0) return `no pairs compared yet (${fmt(s.joined)} joined, ${fmt(s.unjoined.baseline)}/${fmt(s.unjoined.candidate)} unjoined)`;
  const parts = [`disagreement ${pct(x / n)} (${fmt(x)}/${fmt(n)} pairs) ${comparison} ${maxPct(gate.maxDisagreement)}`];
  const flips = flipList(s);
  if (flips.length) parts.push(`${bare(gate.label.text)} ${flips.slice(0, 3).map((f) => `${f.baseline}→${f.candidate} ${fmt(f.count)}`).join(', ')}`);
  const worst = worstSlices(s, 1)[0];
  if (worst) parts.push(`worst slice ${bare(worst.field)}=${worst.value} ${pct(worst.disagreements / worst.pairs)}`);
  return parts.join(' · ');
}

/** The step's state after one window's summary. */
export function addPredictionWindow(state: PredictionStepState, read: Extract<PredictionRead, { ok: true }>): PredictionStepState {
  const s = read.summary;
  const flips = { ...state.flips };
  for (const f of s.labels.flips) flips[`${f.baseline}→${f.candidate}`] = (flips[`${f.baseline}→${f.candidate}`] ?? 0) + f.count;
  const slices = { ...state.slices };
  for (const sl of s.slices) {
    for (const v of sl.values) {
      const k = `${sl.field}=${v.value}`;
      const cur = slices[k] ?? { pairs: 0, disagreements: 0 };
      slices[k] = { pairs: cur.pairs + v.pairs, disagreements: cur.disagreements + v.disagreements };
    }
  }
  const keys = Object.keys(slices);
  if (keys.length > MAX_STEP_SLICES) {
    // Keep the slices with the most disagreements: the ones a reader is looking for.
    keys.sort((a, b) => slices[b]!.disagreements - slices[a]!.disagreements || slices[b]!.pairs - slices[a]!.pairs);
    for (const k of keys.slice(MAX_STEP_SLICES)) delete slices[k];
  }
  let scores = state.scores;
  if (s.scores && s.scores.compared > 0) {
    const sameEdges = scores !== null && scores.edges.length === s.scores.edges.length && scores.edges.every((e, i) => e === s.scores!.edges[i]);
    scores = {
      edges: [...s.scores.edges],
      baseline: addCounts(sameEdges ? scores!.baseline : undefined, s.scores.bins.baseline),
      candidate: addCounts(sameEdges ? scores!.candidate : undefined, s.scores.bins.candidate),
    };
  }
  return {
    test: addDisagreementWindow(state.test, { pairs: s.labels.compared, disagreements: s.labels.disagreements }),
    flips,
    slices,
    scores,
    joined: state.joined + s.pairs.joined,
    unjoined: { baseline: state.unjoined.baseline + s.pairs.unjoined.baseline, candidate: state.unjoined.candidate + s.pairs.unjoined.candidate },
    skippedLines: state.skippedLines + read.skippedLines,
    missingFolders: state.missingFolders + read.missingFolders,
  };
}

/** A label path that resolved in no response of the window, as a reason (path and the responses' shape, never values). */
function pathProblemReason(s: PairingSummary): string | null {
  if (s.labels.compared > 0 || s.pathProblems.length === 0) return null;
  const p = s.pathProblems.find((x) => x.field === 'label') ?? s.pathProblems[0]!;
  return `field path ${p.path} ${p.problem === 'missing' ? 'not found' : 'of the wrong type'} in the ${p.side}'s responses (${fmt(p.count)}; e.g. ${p.exampleShape})`;
}

/**
 * One analysis of the predictions: the new state and the evidence. `budget` says how the step's α is
 * shared (see the module comment).
 */
export function predictionLook(gate: PredictionGate, state: PredictionStepState | undefined, read: PredictionRead, budget: PredictionBudget): { state: PredictionStepState; evidence: PredictionEvidence } {
  const before = state ?? startPredictionStep(gate);
  const problem = read.ok ? pathProblemReason(read.summary) : read.problem;
  const after = read.ok && problem === null ? addPredictionWindow(before, read) : read.ok ? { ...before, skippedLines: before.skippedLines + read.skippedLines, missingFolders: before.missingFolders + read.missingFolders } : before;
  const failThreshold = (budget.judgedGates + 1) / budget.alpha;
  const v = disagreementVerdict(after.test, { alpha: budget.alpha, failThreshold });
  const shift = gate.maxScoreShift && after.scores ? scoreShiftVerdict(gate.maxScoreShift, after.scores, v.pairsToPass) : null;
  const shiftMissing = gate.maxScoreShift && !after.scores;

  let status: PredictionEvidence['status'];
  let cause: PredictionEvidence['cause'];
  if (v.decision === 'fail' || shift?.decision === 'fail') status = 'fail';
  else if (problem !== null) {
    status = 'inconclusive';
    cause = 'data';
  } else if (v.decision === 'pass' && (!gate.maxScoreShift || shift?.decision === 'pass')) status = 'pass';
  else {
    status = 'inconclusive';
    cause = v.decision === 'inconclusive' ? v.cause : shift?.decision === 'inconclusive' || shiftMissing ? 'too-few-pairs' : 'undecided';
  }
  const comparison = v.decision === 'fail' ? '>' : v.decision === 'pass' ? '<' : 'vs';
  const parts = [predictionLine(gate, after, comparison)];
  if (v.decision === 'fail') parts.push(`evidence ${fmtE(v.eFail)} ≥ ${fmtE(failThreshold)}`);
  else if (v.decision === 'inconclusive') parts.push(v.cause === 'too-few-pairs' ? `too few pairs to pass (${fmt(v.pairsToPass)} needed)` : `not decided yet (evidence ${fmtE(v.eFail)} of ${fmtE(failThreshold)} to fail, ${fmtE(v.ePass)} of ${fmtE(v.passThreshold)} to pass)`);
  // A failing reason names what failed; the score check's "too few pairs" would only distract there.
  if (shift && (status !== 'fail' || shift.decision === 'fail')) parts.push(shift.reason);
  else if (shiftMissing && status !== 'fail') parts.push('no scores compared yet');
  if (problem !== null) parts.push(`inconclusive: ${problem}`);
  const reason = `predictions: ${parts.join(' · ')}`;
  const summary = read.ok ? read.summary : null;
  return {
    state: after,
    evidence: {
      status,
      ...(cause ? { cause } : {}),
      reason,
      window: summary ? { ...read.window, pairs: summary.labels.compared, disagreements: summary.labels.disagreements, joined: summary.pairs.joined } : null,
      step: {
        pairs: after.test.pairs,
        disagreements: after.test.disagreements,
        maxDisagreement: gate.maxDisagreement,
        flips: flipList(after).slice(0, 10),
        worstSlices: worstSlices(after),
        scores: after.scores,
        joined: after.joined,
        unjoined: after.unjoined,
        skippedLines: after.skippedLines,
        missingFolders: after.missingFolders,
      },
      test: { eFail: v.eFail, failThreshold, ePass: v.ePass, passThreshold: v.passThreshold, pairsToPass: v.pairsToPass },
      ...(shift ? { scoreShift: { statistic: shift.statistic, value: shift.value, max: shift.max, status: shift.decision } } : {}),
    },
  };
}

function fmtE(x: number): string {
  if (x >= 1e6) return x.toExponential(1);
  if (x >= 100) return x.toFixed(0);
  return x.toFixed(x >= 10 ? 1 : 2);
}

/**
 * The bake's decision once the predictions have been looked at (first match wins):
 * 1. the predictions failed → roll back at once, the reason quoting the numbers;
 * 2. the decision is a roll back, a pause or a continue → unchanged;
 * 3. passed, and the predictions passed → passed (the reason says so);
 * 4. passed before the bake time is over, predictions not passed → continue to the next interval;
 * 5. over, predictions undecided with enough pairs → passed: no evidence of disagreement above max;
 * 6. over, predictions inconclusive for lack of data or pairs → `onInconclusive` (extend / pause / rollback).
 */
export function withPredictions(
  next: { progress: BakeProgress; decision: BakeDecision },
  evidence: PredictionEvidence,
  bake: { bakeMs: number },
  analysis: AnalysisSettings,
): { progress: BakeProgress; decision: BakeDecision } {
  const { progress: p, decision: d } = next;
  if (evidence.status === 'fail') return { progress: p, decision: { action: 'rollback', reason: evidence.reason } };
  if (d.action !== 'passed') return next;
  if (evidence.status === 'pass') return { progress: p, decision: { action: 'passed', reason: `${d.reason}; ${evidence.reason}` } };
  if (p.elapsedMs < bake.bakeMs) return { progress: p, decision: { action: 'continue', waitMs: Math.max(1000, Math.min(analysis.intervalMs, bake.bakeMs - p.elapsedMs)) } };
  if (evidence.cause === 'undecided') return { progress: p, decision: { action: 'passed', reason: `${d.reason}; no evidence of prediction disagreement above max: ${evidence.reason}` } };
  return atEndInconclusive(p, evidence.reason, analysis);
}

/** The collections a plan's prediction gates read, chosen from what the baseline collects. */
export interface PredictionCollections {
  inputs: string;
  outputs: string;
}

/**
 * Which collections the gates read from a deployment that collects `enabled`: custom logging
 * (`model_inputs`/`model_outputs`, rows as the model saw them) when the outputs are collected, else payload
 * logging (`request`/`response`). Null when neither outputs collection is on, or the slices need inputs that
 * are not collected.
 */
export function predictionCollections(gate: PredictionGate, enabled: Record<string, boolean>): PredictionCollections | null {
  const needInputs = gate.slices.length > 0;
  if (enabled.model_outputs && (!needInputs || enabled.model_inputs)) return { inputs: 'model_inputs', outputs: 'model_outputs' };
  if (enabled.response && (!needInputs || enabled.request)) return { inputs: 'request', outputs: 'response' };
  return null;
}

/** The YAML a baseline deployment needs for the gates, for the preflight's refusal. */
export function dataCollectorSnippet(gate: PredictionGate): string {
  return [
    'data_collector:',
    '  collections:',
    ...(gate.slices.length ? ['    model_inputs:', "      enabled: 'True'"] : []),
    '    model_outputs:',
    "      enabled: 'True'",
    '  request_logging:',
    '    capture_headers: [x-ms-client-request-id]',
  ].join('\n');
}

/** What preflight makes of the baseline's data collection: the collections to read, or a refusal. */
export function preflightPredictions(
  gate: PredictionGate,
  baseline: string,
  collected: { collections: Record<string, boolean>; store: unknown; storeProblem?: string },
): { ok: true; collections: PredictionCollections } | { ok: false; message: string } {
  const c = predictionCollections(gate, collected.collections);
  if (!c) {
    const on = Object.entries(collected.collections).filter(([, v]) => v).map(([k]) => k);
    return {
      ok: false,
      message:
        `gates.predictions needs the baseline's predictions, but deployment ${baseline} collects ${on.length ? on.join(', ') : 'nothing'}` +
        ` (${gate.slices.length ? 'model_inputs and model_outputs, or request and response' : 'model_outputs or response'} needed). Add to ${baseline}'s deployment YAML and update it (az ml online-deployment update -f …), then start again:\n${dataCollectorSnippet(gate)}`,
    };
  }
  if (!collected.store) return { ok: false, message: `gates.predictions: the workspace's blob store cannot be found: ${collected.storeProblem ?? 'no store'}` };
  return { ok: true, collections: c };
}

/** Minimal structural type of a deployment spec's data_collector (domain/deployment-spec.ts). */
interface SpecWithCollector {
  data_collector?: {
    collections: Record<string, { enabled: boolean; data?: unknown; client_id?: string }>;
    sampling_rate?: number;
    rolling_rate?: 'minute' | 'hour' | 'day';
    request_logging?: { capture_headers: string[] };
  };
}

/**
 * The candidate's spec with the collector the gates need added (the same collections as the baseline's,
 * and `x-ms-client-request-id` captured, the first join key), and what was added in words; the spec
 * unchanged (and null) when it already has them.
 */
export function withPredictionCollector<S extends object>(spec: S, collections: PredictionCollections, needInputs: boolean): { spec: S; added: string | null } {
  const dc = (spec as SpecWithCollector).data_collector;
  const have = dc?.collections ?? {};
  const want = [collections.outputs, ...(needInputs || collections.outputs === 'model_outputs' ? [collections.inputs] : [])];
  const missing = want.filter((n) => !have[n]?.enabled);
  const headers = dc?.request_logging?.capture_headers ?? [];
  const missingHeader = !headers.some((h) => h.toLowerCase() === 'x-ms-client-request-id');
  if (missing.length === 0 && !missingHeader) return { spec, added: null };
  const next: S = {
    ...spec,
    data_collector: {
      ...(dc ?? {}),
      collections: { ...have, ...Object.fromEntries(missing.map((n) => [n, { ...(have[n] ?? {}), enabled: true }])) },
      request_logging: { capture_headers: [...headers, ...(missingHeader ? ['x-ms-client-request-id'] : [])] },
    },
  };
  const what = [...(missing.length ? [`collections ${missing.join(', ')}`] : []), ...(missingHeader ? ['capture_headers x-ms-client-request-id'] : [])];
  return { spec: next, added: `added data collection to the candidate for gates.predictions: ${what.join(' and ')}` };
}
