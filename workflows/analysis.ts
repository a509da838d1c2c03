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
import { azure, webhook } from './activity-options.js';
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

/** What an analysis found: the verdict, and for a judged plan the guardrails' verdict, the judge's and its new state. */
export interface Analysed {
  verdict: Verdict;
  judged?: { guardrails: Verdict; judgement: StepJudgement; state: StepJudgeState };
}

/**
 * Analyses step `stepIndex` (analysis `n` of its bake) and records the verdict. With `judge` (a plan
 * whose gates have tolerances) the judge looks too (domain/judged-analysis.ts); its verdict goes into
 * the record, and the gates' fixed thresholds are the guardrails. Without it, exactly as before the judge.
 */
export async function analyse(ctx: AnalysisContext, stepIndex: number, n: number, judge?: JudgeInput): Promise<Analysed> {
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
  if (!judge || !judgeState) {
    const { status, reasons, gates } = verdict;
    state.recordVerdict({ at: nowIso(), stepIndex, analysis: n, status, reasons, gates, snapshot }, 'verdict', `analysis ${n}: ${formatVerdict(verdict)}`);
    return { verdict };
  }
  const guardrails = verdict;
  const looked = judgeAnalysis(plan, judge.settings, judgeState, snapshot);
  const combined = judgedVerdict(guardrails, looked.judgement);
  const { status, reasons, gates, judgement } = combined;
  state.recordVerdict({ at: nowIso(), stepIndex, analysis: n, status, reasons, gates, snapshot, ...(judgement ? { judgement } : {}) }, 'verdict', `analysis ${n}: ${formatVerdict(combined)}`);
  return { verdict: combined, judged: { guardrails, judgement: looked.judgement, state: looked.state } };
}

