/**
 * What `--wait` and `watch` print: one line per change a person can follow in a CI log —
 * the step, the traffic, the last verdict with its numbers, the time left in the bake, and who is
 * awaited for an approval.
 *
 *   12:00:41 canary 10% (step 4/7) · blue 90% | green 10% | mirror 0% · pass: p99 latency 101ms ≤ … · bake ~2m10s left
 */
import { decisionCommand, describeSender, describeStep } from '../domain/approvals.js';
import { formatSpan } from '../domain/duration.js';
import { gateEvidenceLines, latestJudged, type JudgedVerdict } from '../domain/evidence.js';
import type { RolloutPlan } from '../domain/plan.js';
import type { ApprovalRecord, PendingApproval, RolloutStatus, VerdictRecord } from '../domain/rollout.js';
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

/**
 * The judged verdict to show for the current step: its newest analysis, when that carries the judge's
 * evidence (null otherwise: fixed-threshold plans print as before).
 */
export function currentJudgement(status: RolloutStatus): JudgedVerdict | null {
  const last = status.lastVerdicts[status.lastVerdicts.length - 1];
  if (!last || last.stepIndex !== status.stepIndex) return null;
  return latestJudged(status.lastVerdicts, status.stepIndex);
}

/**
 * `inconclusive (undecided), analysis 3`: the head of a judged verdict; the gates follow one a line. When
 * the guardrails (fixed limits judged per window) decided otherwise than the judge, the head says so:
 * `fail (guardrail: 424 rate 6% > max 1%), analysis 1`.
 */
function judgedHead(v: JudgedVerdict): string {
  const judged = new Set(v.judgement.gates.map((g) => g.gate));
  const guardrails = v.gates.filter((g) => !judged.has(g.gate) && g.status === v.status);
  const cause =
    v.status !== v.judgement.status && guardrails.length > 0
      ? ` (guardrail: ${guardrails.map((g) => oneLine(g.reason)).join('; ')})`
      : v.judgement.cause
        ? ` (${v.judgement.cause})`
        : '';
  return `${v.status}${cause}, analysis ${v.analysis}`;
}

/** One line per judged gate of a verdict (terminal-safe), each prefixed with `indent`. */
export function judgementLines(v: JudgedVerdict, indent: string): string[] {
  return gateEvidenceLines(v.judgement.gates).map((l) => `${indent}${oneLine(l)}`);
}

/**
 * How a verdict reads after `last analysis`: a judged one names its status only (its gates follow when it
 * is the current step's; an earlier step's is named by its step), others keep their reasons.
 */
function verdictText(v: VerdictRecord, current: boolean): string {
  if (!v.judgement) return `${v.status}: ${oneLine(v.reasons.join('; '))}`;
  return current ? judgedHead(v as JudgedVerdict) : `${judgedHead(v as JudgedVerdict)} of step ${v.stepIndex + 1}`;
}

/** One line describing where the rollout is (plus one indented line per judged gate when the step's last analysis was judged). */
export function formatProgress(status: RolloutStatus, plan: RolloutPlan | null, nowMs: number): string {
  const time = new Date(nowMs).toISOString().slice(11, 19);
  const parts: string[] = [];
  parts.push(status.stepIndex >= 0 ? `${oneLine(status.stepText)} (step ${status.stepIndex + 1}/${status.steps.length})` : oneLine(status.stepText || status.stage));
  parts.push(status.traffic ? oneLine(formatTraffic(status.traffic)) : 'traffic not read yet');
  const last = status.lastVerdicts[status.lastVerdicts.length - 1];
  const judged = currentJudgement(status);
  if (last) parts.push(`${last.snapshot === null ? 'cost check' : 'last analysis'} ${verdictText(last, judged === last)}`);
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
  const line = `${time} ${parts.join(' · ')}`;
  return judged ? [line, ...judgementLines(judged, '           ')].join('\n') : line;
}

/**
 * For a finished rollout: the evidence of the last analysed step, when the judge decided it
 * (`  evidence   step 4 (analysis 3, fail)` then one line per gate); nothing for fixed-threshold plans.
 */
export function finalEvidenceLines(verdicts: readonly VerdictRecord[]): string[] {
  const last = [...verdicts].reverse().find((v) => v.snapshot !== null);
  const judged = last ? latestJudged(verdicts, last.stepIndex) : null;
  if (!judged) return [];
  return [`  evidence   step ${judged.stepIndex + 1} (${judgedHead(judged)})`, ...judgementLines(judged, '             ')];
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
  const judged = currentJudgement(status);
  if (last) lines.push(`  ${last.snapshot === null ? 'cost check' : 'analysis  '} ${verdictText(last, judged === last)}`);
  if (judged) judgementLines(judged, '             ').forEach((l, i) => lines.push(i === 0 ? `  evidence   ${l.trimStart()}` : l));
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
