/**
 * One analysis of a bake: the metrics snapshot of baseline and candidate over the last interval, the
 * plan's gates on it (domain/gates.ts), the webhook gate when the plan has one, and the verdict recorded.
 * Not exported from workflows/index.ts (only workflow functions are).
 */
import { isCancellation } from '@temporalio/workflow';
import { formatDuration } from '../domain/duration.js';
import { withLastVerdict } from '../domain/evidence.js';
import { evaluateGates, formatVerdict, withWebhook, type Verdict } from '../domain/gates.js';
import { candidateLivePercent, type RolloutPair } from '../domain/transitions.js';
import { azure, webhook } from './activity-options.js';
import type { RolloutContext } from './context.js';
import { describeFailure } from './failures.js';
import { nowIso } from './rollout-state.js';

/** What an analysis needs beyond the shared context: the two deployments it compares. */
export interface AnalysisContext extends RolloutContext {
  pair: RolloutPair;
}

/** Analyses step `stepIndex` (analysis `n` of its bake) and records the verdict. */
export async function analyse(ctx: AnalysisContext, stepIndex: number, n: number): Promise<Verdict> {
  const { state, plan, endpoint, pair } = ctx;
  const { baseline, candidate } = pair;
  const a = plan.analysis;
  const snapshot = await azure.getMetricsSnapshot.executeWithOptions({ summary: withLastVerdict(`metrics ${baseline} vs ${candidate} over ${formatDuration(a.intervalMs)}`, state.status.lastVerdicts, stepIndex) }, [
    { endpoint: endpoint, baseline, candidate, windowMs: a.intervalMs, ...(a.logs ? { logs: a.logs } : {}) },
  ]);
  let verdict = evaluateGates(plan.gates, snapshot, { minRequests: a.minRequests });
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
  const { status, reasons, gates } = verdict;
  state.recordVerdict({ at: nowIso(), stepIndex, analysis: n, status, reasons, gates, snapshot }, 'verdict', `analysis ${n}: ${formatVerdict(verdict)}`);
  return verdict;
}

