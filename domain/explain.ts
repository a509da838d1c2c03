/**
 * `explain(plan)`: what a plan will do, before it runs — the timeline of steps with the traffic each
 * sets, the bake times, the approvals, and the worst-case duration (every bake extended as far as the
 * analysis settings allow, every approval waiting out its timeout). Shown by `glidepath plan explain`
 * and in the workflow's static details.
 */
import { worstCaseBakeMs } from './analysis.js';
import { formatDuration, formatSpan } from './duration.js';
import type { CostEstimate } from './gates.js';
import { describeStep, type RolloutPlan, type Step } from './plan.js';
import { formatTraffic, type TrafficState } from './traffic.js';
import { baselineTraffic, trafficForStep, type RolloutPair } from './transitions.js';

/** One line of the timeline. */
export interface TimelineEntry {
  index: number;
  kind: Step['kind'];
  title: string;
  /** The traffic in force during the step. */
  traffic: string;
  /** The expected duration when all goes well (bake, rollback window), ms. */
  expectedMs: number;
  /** The longest the step can take without a person stepping in, ms; null when it can wait for a person forever. */
  worstCaseMs: number | null;
  notes: string[];
}

/** The explanation of a plan. */
export interface Explanation {
  endpoint: string;
  baseline: string;
  candidate: string;
  entries: TimelineEntry[];
  expectedMs: number;
  /** Sum of the steps' worst cases; null when some step can wait for a person without limit (then the deadline caps it). */
  worstCaseMs: number | null;
  deadlineMs: number;
  /** The worst case the rollout can really take: min(worstCaseMs, deadline). */
  boundedWorstCaseMs: number;
  text: string;
}

/**
 * Explains a plan. `baseline` names the baseline when the plan leaves it to preflight (default: the
 * plan's, else `<baseline>`). An optional cost estimate is shown on the cost-check step.
 */
export function explain(plan: RolloutPlan, opts: { baseline?: string; cost?: { candidate: CostEstimate; baseline?: CostEstimate } } = {}): Explanation {
  const pair: RolloutPair = { baseline: opts.baseline ?? plan.baseline ?? '<baseline>', candidate: plan.candidate.name };
  const entries: TimelineEntry[] = [];
  let current: TrafficState = baselineTraffic(pair);
  const a = plan.analysis;
  const analysisNote = `analysis every ${formatDuration(a.intervalMs)}; ${a.failureLimit} failed in a row roll back; < ${a.minRequests} requests is inconclusive → ${a.onInconclusive}${a.onInconclusive === 'extend' ? ` (up to ${a.maxExtensions}×)` : ''}`;

  const approvalEntry = (policy: { timeoutMs: number; onTimeout: string }, notes: string[]) => {
    const signed = plan.approvals.verified === true ? ', signed by a trusted signer' : plan.approvals.approvers.length ? ', unverified (typed names)' : '';
    notes.push(`waits up to ${formatDuration(policy.timeoutMs)} for ${plan.approvals.approvers.length ? plan.approvals.approvers.join(' or ') : 'anyone'}${plan.approvals.fourEyes ? ' (not the starter)' : ''}${signed}; on timeout: ${policy.onTimeout}`);
    return policy.onTimeout === 'pause' ? null : policy.timeoutMs;
  };

  plan.strategy.forEach((step, index) => {
    const next = trafficForStep(step, pair);
    if (next) current = next;
    const notes: string[] = [];
    let expectedMs = 0;
    let worstCaseMs: number | null = 0;
    switch (step.kind) {
      case 'mirror':
      case 'canary': {
        if (step.kind === 'canary' && step.approval) {
          const w = approvalEntry(step.approval, notes);
          worstCaseMs = w;
        }
        expectedMs = step.bakeMs;
        const bake = a.onInconclusive === 'pause' ? null : worstCaseBakeMs(step.bakeMs, a);
        worstCaseMs = worstCaseMs === null || bake === null ? null : worstCaseMs + bake;
        notes.push(`bake ${formatDuration(step.bakeMs)}${step.bakeMinMs !== undefined ? ` (may end after ${formatDuration(step.bakeMinMs)} once the judge passes it)` : ''}; ${analysisNote}`);
        break;
      }
      case 'costCheck': {
        const limits = [
          step.maxMonthlyUsd !== undefined ? `≤ $${step.maxMonthlyUsd}/month` : '',
          step.maxHourlyUsd !== undefined ? `≤ $${step.maxHourlyUsd}/hour` : '',
          step.maxIncreasePercent !== undefined ? `≤ +${step.maxIncreasePercent}% vs baseline` : '',
        ].filter(Boolean);
        notes.push(`budget ${limits.join(', ')}`);
        if (opts.cost) {
          notes.push(`estimate $${opts.cost.candidate.hourlyUsd.toFixed(2)}/hour, $${opts.cost.candidate.monthlyUsd.toFixed(2)}/month${opts.cost.candidate.fallback ? ' (fallback price)' : ''}`);
        }
        break;
      }
      case 'approval':
        worstCaseMs = approvalEntry(step, notes);
        break;
      case 'promote':
        expectedMs = step.rollbackWindowMs;
        worstCaseMs = step.rollbackWindowMs;
        notes.push(`keeps ${pair.baseline} deployed for a ${formatDuration(step.rollbackWindowMs)} rollback window`);
        break;
      case 'retire':
        notes.push(`deletes ${pair.baseline} (already at 0%)`);
        break;
      default: {
        const never: never = step;
        throw new Error(`unknown step ${JSON.stringify(never)}`);
      }
    }
    entries.push({ index, kind: step.kind, title: describeStep(step), traffic: formatTraffic(current), expectedMs, worstCaseMs, notes });
  });

  const expectedMs = entries.reduce((s, e) => s + e.expectedMs, 0);
  const worstCaseMs = entries.some((e) => e.worstCaseMs === null) ? null : entries.reduce((s, e) => s + (e.worstCaseMs ?? 0), 0);
  const boundedWorstCaseMs = worstCaseMs === null ? plan.deadlineMs : Math.min(worstCaseMs, plan.deadlineMs);
  const endpoint = plan.target.endpoint;

  const lines = [
    `Rollout of ${pair.candidate} on ${endpoint} (baseline ${pair.baseline}), ${entries.length} steps:`,
    ...entries.map(
      (e) =>
        `  ${e.index + 1}. ${e.title.padEnd(28)} ${e.traffic.padEnd(34)} ${e.expectedMs ? formatSpan(e.expectedMs) : '-'}` +
        ` (worst ${e.worstCaseMs === null ? 'waits for a person' : formatSpan(e.worstCaseMs)})\n` +
        e.notes.map((n) => `       ${n}`).join('\n'),
    ),
    `Expected duration: ${formatSpan(expectedMs)} plus deployment and approval time.`,
    `Worst case: ${worstCaseMs === null ? 'unbounded (waits for a person)' : formatSpan(worstCaseMs)}; the deadline ${formatDuration(plan.deadlineMs)} caps it at ${formatSpan(boundedWorstCaseMs)} (then it rolls back).`,
    `On any failed gate, rejection, abort, timeout or deadline: traffic back to ${pair.baseline} 100%, mirror off, read back from the endpoint; candidate ${plan.rollback.deleteCandidate ? 'deleted' : 'kept'}.`,
  ];
  return { endpoint, baseline: pair.baseline, candidate: pair.candidate, entries, expectedMs, worstCaseMs, deadlineMs: plan.deadlineMs, boundedWorstCaseMs, text: lines.join('\n') };
}
