/**
 * What `--wait` and `watch` print: one line per change a person can follow in a CI log —
 * the step, the traffic, the last verdict with its numbers, the time left in the bake, and who is
 * awaited for an approval.
 *
 *   12:00:41 canary 10% (step 4/7) · blue 90% | green 10% | mirror 0% · pass: p99 latency 101ms ≤ … · bake ~2m10s left
 */
import { decisionCommand, describeSender, describeStep } from '../domain/approvals.js';
import { formatSpan } from '../domain/duration.js';
import type { RolloutPlan } from '../domain/plan.js';
import type { ApprovalRecord, PendingApproval, RolloutStatus } from '../domain/rollout.js';
import { formatTraffic } from '../domain/traffic.js';
import { oneLine } from './sanitize.js';

/** The bake length of the step at `stepIndex`, when it bakes. */
function bakeMsOf(plan: RolloutPlan | null, stepIndex: number): number | null {
  const step = plan?.strategy[stepIndex];
  return step && (step.kind === 'mirror' || step.kind === 'canary') ? step.bakeMs : null;
}

/** Time left in the current bake, from when the step set its traffic; null when not baking. */
export function bakeLeftMs(status: RolloutStatus, plan: RolloutPlan | null, nowMs: number): number | null {
  if (status.stage !== 'mirror' && status.stage !== 'canary') return null;
  const bakeMs = bakeMsOf(plan, status.stepIndex);
  if (bakeMs === null) return null;
  const set = [...status.events].reverse().find((e) => e.kind === 'traffic' && e.stepIndex === status.stepIndex);
  if (!set) return null;
  return Math.max(0, Date.parse(set.at) + bakeMs - nowMs);
}

/** How a decision reads in status and results: `approved step 3 by bob@contoso.com (slack, client 4711@bridge) at … : comment`. */
export function formatDecision(a: ApprovalRecord): string {
  const how = a.via === 'timeout' ? 'the timeout' : describeSender(a);
  return `${a.decision} ${describeStep(a.stepIndex, undefined)} by ${oneLine(a.by)} (${oneLine(how)}) at ${a.at}${a.comment ? `: ${oneLine(a.comment)}` : ''}`;
}

/** The awaited approval as `status --json` shows it: the step (0-based and as people see it) and the commands that decide it. */
export function pendingApprovalView(workflowId: string, p: PendingApproval): { stepIndex: number; step: number; stepText: string; approve: string; reject: string } {
  return { stepIndex: p.stepIndex, step: p.stepIndex + 1, stepText: p.stepText, approve: decisionCommand('approve', p, workflowId), reject: decisionCommand('reject', p, workflowId) };
}

/** The parts of a progress line that change; two equal keys mean nothing new to print. */
export function progressKey(status: RolloutStatus): string {
  const last = status.lastVerdicts[status.lastVerdicts.length - 1];
  return JSON.stringify([
    status.stage,
    status.stepIndex,
    status.traffic,
    last ? [last.at, last.status] : null,
    status.pendingApproval?.stepIndex ?? null,
    status.paused?.reason ?? null,
    status.stopping,
    status.outcome,
    status.events.length,
  ]);
}

/** One line describing where the rollout is. */
export function formatProgress(status: RolloutStatus, plan: RolloutPlan | null, nowMs: number): string {
  const time = new Date(nowMs).toISOString().slice(11, 19);
  const parts: string[] = [];
  parts.push(status.stepIndex >= 0 ? `${oneLine(status.stepText)} (step ${status.stepIndex + 1}/${status.steps.length})` : oneLine(status.stepText || status.stage));
  parts.push(status.traffic ? oneLine(formatTraffic(status.traffic)) : 'traffic not read yet');
  const last = status.lastVerdicts[status.lastVerdicts.length - 1];
  if (last) parts.push(`${last.snapshot === null ? 'cost check' : 'last analysis'} ${last.status}: ${oneLine(last.reasons.join('; '))}`);
  const left = bakeLeftMs(status, plan, nowMs);
  if (left !== null) parts.push(`bake ~${formatSpan(Math.ceil(left / 1000) * 1000)} left`);
  const pending = status.pendingApproval;
  if (pending) {
    const who = pending.approvers.length ? oneLine(pending.approvers.join(' or ')) : 'any approver';
    const until = pending.timeoutAt ? ` until ${pending.timeoutAt} (then ${pending.onTimeout})` : '';
    parts.push(`awaiting approval of ${oneLine(describeStep(pending.stepIndex, pending.stepText))} from ${who}${until}`);
  }
  if (status.paused) parts.push(`PAUSED by ${oneLine(status.paused.by)}: ${oneLine(status.paused.reason)}`);
  if (status.stopping && !status.outcome) parts.push(`stopping: ${oneLine(status.stopping)}`);
  if (status.outcome) parts.push(`outcome ${status.outcome}`);
  return `${time} ${parts.join(' · ')}`;
}

/** A multi-line status for `rollout status` (human form). */
export function formatStatus(status: RolloutStatus, plan: RolloutPlan | null, nowMs: number): string {
  const lines = [
    `Rollout ${status.workflowId}`,
    `  endpoint   ${oneLine(status.endpoint)} (baseline ${oneLine(status.baseline ?? 'not found yet')}, candidate ${oneLine(status.candidate)})`,
    `  started    ${status.startedAt} by ${oneLine(status.startedBy)}`,
    `  stage      ${status.stage}${status.outcome ? ` — outcome ${status.outcome}` : ''}`,
    `  step       ${status.stepIndex >= 0 ? `${status.stepIndex + 1}/${status.steps.length} ${oneLine(status.stepText)}` : oneLine(status.stepText)}`,
    `  traffic    ${status.traffic ? oneLine(formatTraffic(status.traffic)) : 'not read yet'}`,
  ];
  const left = bakeLeftMs(status, plan, nowMs);
  if (left !== null) lines.push(`  bake       ~${formatSpan(Math.ceil(left / 1000) * 1000)} left`);
  const last = status.lastVerdicts[status.lastVerdicts.length - 1];
  if (last) lines.push(`  ${last.snapshot === null ? 'cost check' : 'analysis  '} ${last.status}: ${oneLine(last.reasons.join('; '))}`);
  if (status.pendingApproval) {
    const p = status.pendingApproval;
    lines.push(`  approval   awaited for ${oneLine(describeStep(p.stepIndex, p.stepText))} from ${oneLine(p.approvers.join(' or ')) || 'any approver'}${p.timeoutAt ? ` until ${p.timeoutAt} (then ${p.onTimeout})` : ''}`);
    lines.push(`             approve: ${oneLine(decisionCommand('approve', p, status.workflowId))}`);
  }
  for (const a of status.approvals) lines.push(`  decision   ${formatDecision(a)}`);
  if (status.paused) lines.push(`  paused     by ${oneLine(status.paused.by)}: ${oneLine(status.paused.reason)}`);
  if (status.stopping) lines.push(`  stopping   ${oneLine(status.stopping)}`);
  lines.push('  steps');
  status.steps.forEach((s, i) => lines.push(`    ${i < status.stepIndex || status.outcome === 'promoted' ? '✓' : i === status.stepIndex ? '▶' : ' '} ${i + 1}. ${oneLine(s)}`));
  return lines.join('\n');
}
