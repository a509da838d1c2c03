/**
 * One analysis of a bake: the metrics snapshot of baseline and candidate over the last interval, the
 * plan's gates on it (domain/gates.ts), the webhook gate when the plan has one, and the verdict recorded.
 * Not exported from workflows/index.ts (only workflow functions are).
 */
import { isCancellation } from '@temporalio/workflow';
import { formatDuration } from '../domain/duration.js';
import { withLastVerdict } from '../domain/evidence.js';
import { evaluateGates, formatVerdict, withWebhook, type Verdict } from '../domain/gates.js';
import { guardrailsOf, judgeAnalysis, judgeExceedanceMs, judgedVerdict, startStepJudge, type StepJudgeState } from '../domain/judged-analysis.js';
import type { JudgeSettings, StepJudgement } from '../domain/judge/judge.js';
import { candidateLivePercent, type RolloutPair } from '../domain/transitions.js';
import { COLLECTION_LAG_MS, predictionLook, type PredictionBudget, type PredictionCollections, type PredictionEvidence, type PredictionRead, type PredictionStepState } from '../domain/prediction-analysis.js';
import type { PredictionGate } from '../domain/predictions/gate.js';
import { azure, predictionReads, webhook } from './activity-options.js';
import type { RolloutContext } from './context.js';
import { describeFailure } from './failures.js';
import { nowIso } from './rollout-state.js';

/** What an analysis needs beyond the shared context: the two deployments it compares. */
export interface AnalysisContext extends RolloutContext {
  pair: RolloutPair;
}

/** The judge's part of an analysis of a judged plan: its settings and the step's state so far. */
export interface JudgeInput {
  settings: JudgeSettings;
  state: StepJudgeState | undefined;
}

/** Where the prediction gates read from (found at preflight), and the step's evidence so far. */
export interface PredictionInput {
  gate: PredictionGate;
  state: PredictionStepState | undefined;
  source: PredictionSource;
  budget: PredictionBudget;
  /** How long the bake waited before this analysis: the window's length. */
  windowMs: number;
}

/** The blob store, the collections and the rolling rate the gates read (no secret: a URL and names). */
export interface PredictionSource {
  store: { blobEndpoint: string; container: string } | null;
  storeProblem?: string;
  collections: PredictionCollections;
  rollingRate: 'Hour' | 'Day';
}

/** What an analysis found: the verdict, and for a judged plan the guardrails' verdict, the judge's and its new state. */
export interface Analysed {
  verdict: Verdict;
  judged?: { guardrails: Verdict; judgement: StepJudgement; state: StepJudgeState };
  predictions?: { state: PredictionStepState; evidence: PredictionEvidence };
}

/**
 * Reads the window's prediction pairs (aggregates only) and looks at them. A store that cannot be read,
 * or any failure of the read, is an inconclusive look with the reason, never a pass.
 */
async function analysePredictions(ctx: AnalysisContext, p: PredictionInput): Promise<{ state: PredictionStepState; evidence: PredictionEvidence }> {
  const endMs = Date.now() - COLLECTION_LAG_MS;
  const window = { start: new Date(endMs - Math.max(1000, p.windowMs)).toISOString(), end: new Date(endMs).toISOString() };
  let read: PredictionRead;
  if (!p.source.store) {
    read = { ok: false, window, problem: `collected data unavailable: ${p.source.storeProblem ?? 'no blob store'}` };
  } else {
    try {
      const r = await predictionReads.readPredictionPairs.executeWithOptions({ summary: `prediction pairs ${ctx.pair.baseline} vs ${ctx.pair.candidate} (${p.source.collections.outputs})` }, [
        {
          endpoint: ctx.endpoint,
          baseline: ctx.pair.baseline,
          candidate: ctx.pair.candidate,
          store: { ...p.source.store, rollingRate: p.source.rollingRate },
          window,
          collections: p.source.collections,
          label: p.gate.label.text,
          ...(p.gate.score ? { score: p.gate.score.text } : {}),
          scoreTolerance: p.gate.scoreTolerance,
          slices: p.gate.slices.map((s) => s.text),
        },
      ]);
      const skipped = Object.values(r.read.skipped).reduce((a, b) => a + b, 0);
      read = { ok: true, window, summary: r.summary, skippedLines: skipped, missingFolders: r.read.missingFolders };
    } catch (err) {
      if (isCancellation(err)) throw err;
      read = { ok: false, window, problem: `collected data unavailable (${describeFailure(err)})` };
    }
  }
  return predictionLook(p.gate, p.state, read, p.budget);
}

/** The recorded verdict with the predictions' evidence: fail when either fails, pass only when both pass. */
function withPredictionEvidence(v: Verdict, e: PredictionEvidence): Verdict {
  const status = v.status === 'fail' || e.status === 'fail' ? 'fail' : v.status === 'pass' && e.status === 'pass' ? 'pass' : 'inconclusive';
  return { ...v, status, reasons: e.status === 'fail' ? [e.reason, ...(v.status === 'fail' ? v.reasons : [])] : [...v.reasons, e.reason], gates: [...v.gates, { gate: 'predictions', status: e.status, reason: e.reason }] };
}

/**
 * Analyses step `stepIndex` (analysis `n` of its bake) and records the verdict. With `judge` (a plan
 * whose gates have tolerances) the judge looks too (domain/judged-analysis.ts); its verdict goes into
 * the record, and the gates' fixed thresholds are the guardrails. Without it, exactly as before the judge.
 */
export async function analyse(ctx: AnalysisContext, stepIndex: number, n: number, judge?: JudgeInput, predictions?: PredictionInput): Promise<Analysed> {
  const { state, plan, endpoint, pair } = ctx;
  const { baseline, candidate } = pair;
  const a = plan.analysis;
  const judgeState = judge ? (judge.state ?? startStepJudge(judge.settings)) : undefined;
  const thresholds = judge && a.logs ? judgeExceedanceMs(plan.gates, judgeState) : [];
  const snapshot = await azure.getMetricsSnapshot.executeWithOptions({ summary: withLastVerdict(`metrics ${baseline} vs ${candidate} over ${formatDuration(a.intervalMs)}`, state.status.lastVerdicts, stepIndex) }, [
    { endpoint: endpoint, baseline, candidate, windowMs: a.intervalMs, ...(a.logs ? { logs: a.logs } : {}), ...(thresholds.length ? { judgeExceedanceMs: thresholds } : {}) },
  ]);
  const guardrailGates = judge ? guardrailsOf(plan.gates) : plan.gates;
  let verdict =
    judge && Object.keys(guardrailGates).length === 0
      ? ({ status: 'pass', reasons: [], gates: [], snapshot } satisfies Verdict) // only judged gates: nothing to hold per window
      : evaluateGates(guardrailGates, snapshot, { minRequests: a.minRequests });
  const hook = plan.gates.webhook;
  if (hook) {
    const rollout = {
      workflowId: state.status.workflowId,
      endpoint: endpoint.endpoint,
      baseline,
      candidate,
      stage: state.status.stage,
      stepIndex,
      candidateLivePercent: candidateLivePercent(state.expectedTraffic ?? { live: {}, mirror: {} }, pair),
    };
    try {
      const w = await webhook.callWebhookGate.executeWithOptions({ summary: `webhook gate ${hook.url}`, startToCloseTimeout: hook.timeoutMs + 5000 }, [
        { url: hook.url, timeoutMs: hook.timeoutMs, rollout, snapshot },
      ]);
      verdict = withWebhook(verdict, w);
    } catch (err) {
      if (isCancellation(err)) throw err;
      // An unreachable webhook cannot judge: inconclusive, and onInconclusive decides.
      verdict = withWebhook(verdict, { status: 'inconclusive', reason: `unreachable (${describeFailure(err)})` });
    }
  }
  const looked = predictions ? await analysePredictions(ctx, predictions) : undefined;
  if (!judge || !judgeState) {
    const shown = looked ? withPredictionEvidence(verdict, looked.evidence) : verdict;
    const { status, reasons, gates } = shown;
    state.recordVerdict({ at: nowIso(), stepIndex, analysis: n, status, reasons, gates, snapshot, ...(looked ? { predictions: looked.evidence } : {}) }, 'verdict', `analysis ${n}: ${formatVerdict(shown)}`);
    return { verdict, ...(looked ? { predictions: looked } : {}) };
  }
  const guardrails = verdict;
  const judged = judgeAnalysis(plan, judge.settings, judgeState, snapshot);
  const combined = judgedVerdict(guardrails, judged.judgement);
  const shown = looked ? withPredictionEvidence(combined, looked.evidence) : combined;
  const { status, reasons, gates, judgement } = shown;
  state.recordVerdict(
    { at: nowIso(), stepIndex, analysis: n, status, reasons, gates, snapshot, ...(judgement ? { judgement } : {}), ...(looked ? { predictions: looked.evidence } : {}) },
    'verdict',
    `analysis ${n}: ${formatVerdict(shown)}`,
  );
  return { verdict: combined, judged: { guardrails, judgement: judged.judgement, state: judged.state }, ...(looked ? { predictions: looked } : {}) };
}

