/**
 * The rollout report an auditor reads: the plan, the timeline, traffic at each step, every analysis
 * with baseline and candidate figures and the verdict, cost, every approval (who, when, comment), the
 * outcome and its reason. Built once as plain data (`RolloutReport`, also the `json` format) from the
 * workflow's result (finished) or its `status` query (running), then rendered as Markdown (pull
 * requests) or one self-contained HTML file with an inline SVG chart of latency and error rate of
 * baseline vs candidate across the rollout. Rollouts judged by the judge (domain/judge) also get, per
 * judged gate, a chart of its evidence over time (e-values to fail and to pass on a log scale against
 * their thresholds, analysis by analysis, each step starting again at 1) and the final evidence table.
 */
import { describeSender } from '../domain/approvals.js';
import { isJudged } from '../domain/evidence.js';
import { explain } from '../domain/explain.js';
import { describeTolerance, fmtCount, fmtE, fmtRatio, type EvidenceLevel, type GateJudgement } from '../domain/judge/judge.js';
import type { DeploymentMetrics } from '../domain/gates.js';
import { parsePlan, type PlanDocument } from '../domain/plan.js';
import type { ApprovalRecord, RefusalRecord, RollbackReport, RolloutStatus, SafeRolloutInput, SafeRolloutResult, TimelineEvent, VerdictRecord } from '../domain/rollout.js';
import { formatTraffic } from '../domain/traffic.js';
import type { RolloutSummary } from './temporal.js';
import { htmlText, markdownText, terminalText } from './sanitize.js';

/** How a decision reached the rollout, for auditors: the channel and client identity (self-asserted), or the timeout. */
function channelOf(a: ApprovalRecord): string {
  return a.via === 'timeout' ? 'timeout' : describeSender(a);
}

/** The report as data (the `json` format). */
export interface RolloutReport {
  reportVersion: 1;
  generatedAt: string;
  workflowId: string;
  runId: string;
  execution: string;
  finished: boolean;
  endpoint: string;
  candidate: string;
  baseline: string | null;
  startedBy: string;
  startedAt: string;
  finishedAt: string | null;
  outcome: string | null;
  reason: string | null;
  errorType: string | null;
  plan: { document: PlanDocument | null; steps: string[]; explanation: string | null };
  timeline: TimelineEvent[];
  traffic: { at: string; stepIndex: number | null; traffic: string }[];
  analyses: VerdictRecord[];
  cost: VerdictRecord[];
  approvals: ApprovalRecord[];
  refusals: RefusalRecord[];
  rollback: RollbackReport | null;
  /** One point per analysis with data: what the chart draws. */
  chart: ChartPoint[];
  /** Per judged gate, its evidence at each judged analysis (empty for fixed-threshold plans). */
  evidence: EvidenceSeries[];
  /** The evidence each judged step ended with (its last judged analysis), one row per gate. */
  finalEvidence: FinalEvidenceRow[];
  notes: string[];
}

/** One judged gate's evidence across the analyses, in order. */
export interface EvidenceSeries {
  gate: string;
  points: EvidencePoint[];
}

/** A gate's evidence after one analysis. The e-values are the current ones; a verdict is sticky once a running maximum crossed. */
export interface EvidencePoint {
  at: string;
  stepIndex: number;
  step: string;
  analysis: number;
  status: GateJudgement['status'];
  cause: GateJudgement['cause'] | null;
  toFail: number;
  failThreshold: number;
  /** Null when early pass is off. */
  toPass: number | null;
  passThreshold: number | null;
}

/** The evidence a judged step ended with, for one gate. */
export interface FinalEvidenceRow {
  stepIndex: number;
  step: string;
  analysis: number;
  at: string;
  gate: string;
  status: GateJudgement['status'];
  cause: GateJudgement['cause'] | null;
  tolerance: string;
  totals: GateJudgement['totals'];
  estimate: GateJudgement['estimate'];
  toFail: EvidenceLevel;
  toPass: EvidenceLevel | null;
  detectableRatio: number | null;
}

/** One analysis on the chart. Null where a deployment had no data. */
export interface ChartPoint {
  at: string;
  stepIndex: number;
  analysis: number;
  step: string;
  status: string;
  baselineP99Ms: number | null;
  candidateP99Ms: number | null;
  baselineErrorRate: number | null;
  candidateErrorRate: number | null;
}

/** What the report is built from. */
export interface ReportSources {
  summary: RolloutSummary;
  input: SafeRolloutInput | null;
  result: SafeRolloutResult | null;
  status: RolloutStatus | null;
  failure: { errorType: string | null; message: string } | null;
  now: Date;
}

const num = (m: DeploymentMetrics | null | undefined, k: 'latencyP99Ms' | 'errorRate'): number | null => {
  const v = m?.[k];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
};

/** Builds the report from whatever the rollout can tell (result when finished, status while running). */
export function buildReport(src: ReportSources): RolloutReport {
  const { summary, input, result, status } = src;
  const parsed = input ? parsePlan(input.plan) : null;
  const plan = parsed?.ok ? parsed.plan : null;
  const steps = status?.steps.length ? status.steps : plan ? explain(plan).entries.map((e) => e.title) : [];
  const timeline = result?.timeline ?? status?.events ?? [];
  const verdicts = result?.verdicts ?? status?.lastVerdicts ?? [];
  const notes: string[] = [];
  if (!result && status && summary.execution === 'RUNNING') {
    notes.push('The rollout is still running: this report shows it as of the time it was generated; the running status keeps only the last 5 analyses (all of them appear in the timeline).');
  }
  if (!result && src.failure) notes.push(`The workflow ended ${summary.execution.toLowerCase()} without a result: ${src.failure.message}`);
  if (!input) notes.push('The plan could not be read from the workflow history.');
  const analyses = verdicts.filter((v) => v.snapshot !== null);
  const cost = verdicts.filter((v) => v.snapshot === null);
  const chart: ChartPoint[] = analyses.map((v) => ({
    at: v.at,
    stepIndex: v.stepIndex,
    analysis: v.analysis,
    step: steps[v.stepIndex] ?? `step ${v.stepIndex + 1}`,
    status: v.status,
    baselineP99Ms: num(v.snapshot?.baseline, 'latencyP99Ms'),
    candidateP99Ms: num(v.snapshot?.candidate, 'latencyP99Ms'),
    baselineErrorRate: num(v.snapshot?.baseline, 'errorRate'),
    candidateErrorRate: num(v.snapshot?.candidate, 'errorRate'),
  }));
  const { evidence, finalEvidence } = evidenceOf(analyses, steps);
  const traffic = timeline.filter((e) => e.kind === 'traffic').map((e) => ({ at: e.at, stepIndex: e.stepIndex ?? null, traffic: e.text }));
  if (result?.rollback?.traffic) traffic.push({ at: result.finishedAt, stepIndex: null, traffic: `${formatTraffic(result.rollback.traffic)} (rollback, read back)` });
  return {
    reportVersion: 1,
    generatedAt: src.now.toISOString(),
    workflowId: summary.workflowId,
    runId: summary.runId,
    execution: summary.execution,
    finished: summary.execution !== 'RUNNING',
    endpoint: result?.endpoint ?? status?.endpoint ?? summary.endpoint ?? plan?.target.endpoint ?? '?',
    candidate: result?.candidate ?? status?.candidate ?? summary.candidate ?? plan?.candidate.name ?? '?',
    baseline: result?.baseline ?? status?.baseline ?? plan?.baseline ?? null,
    startedBy: result?.startedBy ?? status?.startedBy ?? input?.startedBy ?? '?',
    startedAt: result?.startedAt ?? status?.startedAt ?? summary.startedAt,
    finishedAt: result?.finishedAt ?? summary.closedAt,
    outcome: result?.outcome ?? status?.outcome ?? (src.failure ? 'failed' : null),
    reason: result?.reason ?? src.failure?.message ?? status?.stopping ?? null,
    errorType: result?.errorType ?? src.failure?.errorType ?? null,
    plan: { document: input?.plan ?? null, steps, explanation: plan ? explain(plan, result?.baseline ? { baseline: result.baseline } : {}).text : null },
    timeline,
    traffic,
    analyses,
    cost,
    approvals: result?.approvals ?? status?.approvals ?? [],
    refusals: status?.refusals ?? [],
    rollback: result?.rollback ?? null,
    chart,
    evidence,
    finalEvidence,
    notes,
  };
}

/** The judged analyses as per-gate series, and the last judged analysis of each step as the final evidence. */
function evidenceOf(analyses: VerdictRecord[], steps: string[]): { evidence: EvidenceSeries[]; finalEvidence: FinalEvidenceRow[] } {
  const series = new Map<string, EvidencePoint[]>();
  const lastOfStep = new Map<number, VerdictRecord>();
  const stepName = (i: number) => steps[i] ?? `step ${i + 1}`;
  for (const v of analyses) {
    if (!isJudged(v)) continue;
    lastOfStep.set(v.stepIndex, v);
    for (const g of v.judgement.gates) {
      const points = series.get(g.gate) ?? [];
      series.set(g.gate, points);
      points.push({
        at: v.at,
        stepIndex: v.stepIndex,
        step: stepName(v.stepIndex),
        analysis: v.analysis,
        status: g.status,
        cause: g.cause ?? null,
        toFail: g.toFail.eValue,
        failThreshold: g.toFail.threshold,
        toPass: g.toPass?.eValue ?? null,
        passThreshold: g.toPass?.threshold ?? null,
      });
    }
  }
  const finalEvidence: FinalEvidenceRow[] = [];
  for (const v of [...lastOfStep.values()].sort((a, b) => a.stepIndex - b.stepIndex)) {
    for (const g of v.judgement!.gates) {
      finalEvidence.push({
        stepIndex: v.stepIndex,
        step: stepName(v.stepIndex),
        analysis: v.analysis,
        at: v.at,
        gate: g.gate,
        status: g.status,
        cause: g.cause ?? null,
        tolerance: describeTolerance(g.tolerance),
        totals: g.totals,
        estimate: g.estimate,
        toFail: g.toFail,
        toPass: g.toPass,
        detectableRatio: g.detectableRatio,
      });
    }
  }
  return { evidence: [...series].map(([gate, points]) => ({ gate, points })), finalEvidence };
}

// ───────────────────────────── evidence wording ─────────────────────────────

const fmtSide = (events: number, requests: number) => `${fmtCount(events)}/${fmtCount(requests)}`;
const fmtInterval = (e: GateJudgement['estimate']) => `${e.lower > 0 ? fmtRatio(e.lower) : '0'}–${e.upper === null ? '∞' : fmtRatio(e.upper)}`;
/** The cells of a final-evidence row, as text: gate, verdict, counts, ratio and interval, to fail, to pass, could detect. */
function evidenceCells(f: FinalEvidenceRow): string[] {
  const verdict = f.status === 'inconclusive' && f.cause ? `inconclusive (${f.cause})` : f.status;
  const level = (l: EvidenceLevel) => `${fmtE(l.eValue)} of ${fmtE(l.threshold)}${l.maxEValue >= l.threshold ? ` (reached ${fmtE(l.maxEValue)})` : ''}`;
  return [
    `${f.gate} (≤ ${f.tolerance})`,
    verdict,
    `${fmtSide(f.totals.candidateEvents, f.totals.candidateRequests)} vs ${fmtSide(f.totals.baselineEvents, f.totals.baselineRequests)}`,
    `${f.estimate.ratio === null ? '–' : fmtRatio(f.estimate.ratio)} (${Math.round(f.estimate.level * 1000) / 10}%: ${fmtInterval(f.estimate)})`,
    level(f.toFail),
    f.toPass ? level(f.toPass) : 'off',
    f.detectableRatio === null ? '–' : `≥ ${fmtRatio(f.detectableRatio)}`,
  ];
}
const EVIDENCE_HEADERS = ['Gate (tolerance)', 'Verdict', 'Candidate vs baseline (events/requests)', 'Ratio (interval)', 'Evidence to fail', 'Evidence to pass', 'Could detect'];

// ───────────────────────────── formatting helpers ─────────────────────────────

const fmtMs = (v: number | null) => (v === null ? '–' : `${Math.round(v * 10) / 10} ms`);
const fmtRate = (v: number | null) => (v === null ? '–' : `${Math.round(v * 100_000) / 1000}%`);
const fmtReq = (m: DeploymentMetrics | null | undefined) => (m ? String(m.requests) : '–');
/** Free text in the Markdown report: one line, HTML escaped, images dropped, pipes escaped (client/sanitize.ts). */
const mdCell = (s: string) => markdownText(s);

function outcomeLine(r: RolloutReport): string {
  if (!r.finished) return `running (${r.plan.steps.length} steps)`;
  return `${r.outcome ?? r.execution.toLowerCase()}${r.reason ? ` — ${r.reason}` : ''}`;
}

// ───────────────────────────── Markdown ─────────────────────────────

/** The report as GitHub-flavoured Markdown (for pull requests and pipeline summaries). */
export function renderMarkdown(r: RolloutReport): string {
  const out: string[] = [];
  out.push(`# Rollout report: ${mdCell(r.candidate)} on ${mdCell(r.endpoint)}`, '');
  out.push(`**Outcome:** ${mdCell(outcomeLine(r))}`, '');
  out.push('| | |', '|---|---|');
  out.push(`| Workflow | \`${mdCell(r.workflowId).replace(/`/g, '')}\` (run \`${mdCell(r.runId).replace(/`/g, '')}\`) |`);
  out.push(`| Baseline → candidate | ${mdCell(r.baseline ?? '?')} → ${mdCell(r.candidate)} |`);
  out.push(`| Started | ${mdCell(r.startedAt)} by ${mdCell(r.startedBy)} |`);
  out.push(`| Finished | ${mdCell(r.finishedAt ?? 'still running')} |`);
  if (r.errorType) out.push(`| Error type | ${mdCell(r.errorType)} |`);
  out.push(`| Report generated | ${r.generatedAt} |`, '');
  for (const n of r.notes) out.push(`> ${mdCell(n)}`, '');

  out.push('## Plan', '');
  // In a fence nothing is markup; a line of backticks inside it cannot close the fence early.
  if (r.plan.explanation) out.push('```', terminalText(r.plan.explanation).replace(/`{3,}/g, (m) => m.replace(/`/g, "'")), '```', '');
  else out.push(r.plan.steps.map((s, i) => `${i + 1}. ${mdCell(s)}`).join('\n'), '');

  out.push('## Traffic', '');
  if (r.traffic.length === 0) out.push('No traffic change was made.', '');
  else out.push('| When | Step | Traffic |', '|---|---|---|', ...r.traffic.map((t) => `| ${mdCell(t.at)} | ${t.stepIndex === null ? '–' : `${t.stepIndex + 1}. ${mdCell(r.plan.steps[t.stepIndex] ?? '')}`} | ${mdCell(t.traffic)} |`), '');

  if (r.finalEvidence.length) {
    out.push('## Evidence', '', 'What each judged step ended with (its last analysis): counts so far, the rate ratio with an interval valid at every look, each e-value against the threshold it needs, and the smallest effect the step could detect.', '');
    out.push(`| Step | ${EVIDENCE_HEADERS.join(' | ')} |`, `|${'---|'.repeat(EVIDENCE_HEADERS.length + 1)}`);
    for (const f of r.finalEvidence) out.push(`| ${f.stepIndex + 1}. ${mdCell(f.step)} (analysis ${f.analysis}) | ${evidenceCells(f).map(mdCell).join(' | ')} |`);
    out.push('');
  }

  out.push('## Analyses', '');
  if (r.analyses.length === 0) out.push('No analysis ran.', '');
  else {
    out.push('| When | Step | # | Verdict | Requests (base / cand) | p99 (base / cand) | 5xx rate (base / cand) | Reasons |', '|---|---|---|---|---|---|---|---|');
    for (const v of r.analyses) {
      const b = v.snapshot?.baseline;
      const c = v.snapshot?.candidate;
      out.push(
        `| ${mdCell(v.at)} | ${v.stepIndex + 1}. ${mdCell(r.plan.steps[v.stepIndex] ?? '')} | ${v.analysis} | **${mdCell(v.status)}** | ${fmtReq(b)} / ${fmtReq(c)} | ${fmtMs(num(b, 'latencyP99Ms'))} / ${fmtMs(num(c, 'latencyP99Ms'))} | ${fmtRate(num(b, 'errorRate'))} / ${fmtRate(num(c, 'errorRate'))} | ${mdCell(v.reasons.join('; '))} |`,
      );
    }
    out.push('');
  }

  out.push('## Cost', '');
  if (r.cost.length === 0) out.push('No cost check ran.', '');
  else for (const v of r.cost) out.push(`- ${mdCell(v.at)} step ${v.stepIndex + 1}: **${mdCell(v.status)}** — ${mdCell(v.gates.map((g) => g.reason).join('; ') || v.reasons.join('; '))}`);
  if (r.cost.length) out.push('');

  out.push('## Approvals', '');
  if (r.approvals.length === 0) out.push('No approval decision was recorded.', '');
  else out.push('| When | Step | Decision | By | Channel | Comment |', '|---|---|---|---|---|---|', ...r.approvals.map((a) => `| ${mdCell(a.at)} | ${a.stepIndex + 1} | ${mdCell(a.decision)} | ${mdCell(a.by)} | ${mdCell(channelOf(a))} | ${mdCell(a.comment ?? '')} |`), '');
  if (r.refusals.length) out.push('Refused messages:', '', ...r.refusals.map((x) => `- ${mdCell(`${x.at} ${x.message} (${x.via})`)} from ${mdCell(x.by)}: ${mdCell(x.reason)}`), '');

  if (r.rollback) {
    out.push('## Rollback', '');
    out.push(`- confirmed: **${r.rollback.confirmed ? 'yes' : 'NO'}**${r.rollback.traffic ? ` (read back: ${mdCell(formatTraffic(r.rollback.traffic))})` : ''}`);
    out.push(`- candidate deleted: ${r.rollback.candidateDeleted ? 'yes' : 'no'}`);
    for (const e of r.rollback.errors) out.push(`- error: ${mdCell(e)}`);
    out.push('');
  }

  out.push('## Timeline', '', '| When | Event | Detail |', '|---|---|---|', ...r.timeline.map((e) => `| ${mdCell(e.at)} | ${mdCell(e.kind)} | ${mdCell(e.text)} |`), '');
  return out.join('\n');
}

// ───────────────────────────── HTML ─────────────────────────────

/** Escapes text for HTML content and attribute values, control characters removed (client/sanitize.ts). */
export const esc = htmlText;

interface Series {
  id: string;
  label: string;
  color: string;
  values: (number | null)[];
  format: (v: number) => string;
}

/** One chart panel: a polyline and a circle per point for each series (circles carry data-* for tools and tests). */
function panel(args: { id: string; title: string; points: ChartPoint[]; series: Series[]; y: number; width: number; height: number; minMax: number }): string {
  const { points, series, width, height } = args;
  const left = 64;
  const right = 120;
  const top = args.y + 28;
  const bottom = args.y + height - 40;
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const max = all.length ? Math.max(...all) : 1;
  // Headroom above the highest point; a flat zero line still gets a readable scale (minMax).
  const yMax = Math.max(max * 1.15, args.minMax);
  const n = points.length;
  const xAt = (i: number) => (n <= 1 ? (left + width - right) / 2 : left + (i * (width - left - right)) / (n - 1));
  const yAt = (v: number) => bottom - (v / yMax) * (bottom - top);
  const parts: string[] = [];
  parts.push(`<g id="${esc(args.id)}" class="panel">`);
  parts.push(`<text x="${left}" y="${args.y + 16}" class="panel-title">${esc(args.title)}</text>`);
  for (let k = 0; k <= 4; k++) {
    const v = (yMax * k) / 4;
    const y = yAt(v);
    parts.push(`<line x1="${left}" x2="${width - right}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" class="grid"/>`);
    parts.push(`<text x="${left - 6}" y="${(y + 4).toFixed(1)}" class="axis" text-anchor="end">${esc(series[0]!.format(v))}</text>`);
  }
  // Step boundaries: a label under the first analysis of each step.
  points.forEach((p, i) => {
    if (i === 0 || points[i - 1]!.stepIndex !== p.stepIndex) {
      parts.push(`<line x1="${xAt(i).toFixed(1)}" x2="${xAt(i).toFixed(1)}" y1="${top}" y2="${bottom}" class="step-line"/>`);
      parts.push(`<text x="${xAt(i).toFixed(1)}" y="${bottom + 16}" class="axis" text-anchor="start">${esc(`${p.stepIndex + 1}. ${p.step}`)}</text>`);
    }
  });
  for (const s of series) {
    const pts = s.values.map((v, i) => (v === null ? null : `${xAt(i).toFixed(1)},${yAt(v).toFixed(1)}`)).filter((x): x is string => x !== null);
    if (pts.length > 1) parts.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2" data-series="${esc(s.id)}"/>`);
    s.values.forEach((v, i) => {
      if (v === null) return;
      const p = points[i]!;
      parts.push(
        `<circle cx="${xAt(i).toFixed(1)}" cy="${yAt(v).toFixed(1)}" r="3.5" fill="${s.color}" class="point" data-series="${esc(s.id)}" data-index="${i}" data-step="${p.stepIndex}" data-analysis="${p.analysis}" data-value="${v}"><title>${esc(`${s.label} ${s.format(v)} — ${p.step}, analysis ${p.analysis} (${p.status}) at ${p.at}`)}</title></circle>`,
      );
    });
  }
  series.forEach((s, k) => {
    const x = left + k * 170;
    parts.push(`<rect x="${x}" y="${bottom + 24}" width="12" height="4" fill="${s.color}"/><text x="${x + 16}" y="${bottom + 30}" class="axis">${esc(s.label)}</text>`);
  });
  parts.push('</g>');
  return parts.join('');
}

/** The inline SVG chart: p99 latency and 5xx error rate of baseline vs candidate across the analyses. */
export function renderChart(points: ChartPoint[], baseline: string, candidate: string): string {
  const width = 880;
  const height = 230;
  if (points.length === 0) {
    return `<svg id="rollout-chart" xmlns="http://www.w3.org/2000/svg" width="${width}" height="60" role="img" aria-label="no analyses"><text x="10" y="30">No analysis ran, so there is nothing to chart.</text></svg>`;
  }
  const ms = (v: number) => (v < 10 ? `${(Math.round(v * 10) / 10).toFixed(1)} ms` : `${Math.round(v)} ms`);
  const pct = (v: number) => `${(Math.round(v * 10_000) / 100).toFixed(2)}%`;
  const latency = panel({
    id: 'chart-latency',
    title: 'p99 latency (ms)',
    points,
    y: 0,
    width,
    height,
    minMax: 1,
    series: [
      { id: 'baseline-p99', label: `${baseline} (baseline)`, color: '#2563eb', values: points.map((p) => p.baselineP99Ms), format: ms },
      { id: 'candidate-p99', label: `${candidate} (candidate)`, color: '#ea580c', values: points.map((p) => p.candidateP99Ms), format: ms },
    ],
  });
  const errors = panel({
    id: 'chart-errors',
    title: '5xx error rate',
    points,
    y: height,
    width,
    height,
    minMax: 0.01,
    series: [
      { id: 'baseline-error-rate', label: `${baseline} (baseline)`, color: '#2563eb', values: points.map((p) => p.baselineErrorRate), format: pct },
      { id: 'candidate-error-rate', label: `${candidate} (candidate)`, color: '#ea580c', values: points.map((p) => p.candidateErrorRate), format: pct },
    ],
  });
  return `<svg id="rollout-chart" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height * 2}" viewBox="0 0 ${width} ${height * 2}" role="img" aria-label="p99 latency and error rate, baseline vs candidate">${latency}${errors}</svg>`;
}

/**
 * One judged gate's evidence chart: the e-values to fail and to pass at each analysis on a log scale,
 * their thresholds as dashed lines (per analysis: they can differ between steps), a line per step (the
 * evidence starts again at 1 in each). Circles carry data-* (series, value, step, analysis) for tools and tests.
 */
export function renderEvidenceChart(e: EvidenceSeries, index: number): string {
  const width = 880;
  const height = 240;
  const left = 64;
  const right = 120;
  const top = 30;
  const bottom = height - 48;
  const pts = e.points;
  const values = pts.flatMap((p) => [p.toFail, p.failThreshold, ...(p.toPass === null ? [] : [p.toPass]), ...(p.passThreshold === null ? [] : [p.passThreshold])]).filter((v) => Number.isFinite(v) && v > 0);
  // Decades from below the smallest value (at least 0.01, at most 1e-4) to above the largest threshold.
  const loExp = Math.max(-4, Math.min(-2, Math.floor(Math.log10(Math.min(...values, 1)))));
  const hiExp = Math.max(3, Math.ceil(Math.log10(Math.max(...values, 1) * 2)));
  const lo = 10 ** loExp;
  const clamp = (v: number) => Math.min(10 ** hiExp, Math.max(lo, v));
  const yAt = (v: number) => bottom - ((Math.log10(clamp(v)) - loExp) / (hiExp - loExp)) * (bottom - top);
  const n = pts.length;
  const xAt = (i: number) => (n <= 1 ? (left + width - right) / 2 : left + (i * (width - left - right)) / (n - 1));
  const out: string[] = [];
  out.push(`<svg id="evidence-chart-${index}" class="evidence-chart" data-gate="${esc(e.gate)}" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(`evidence for gate ${e.gate}`)}">`);
  out.push(`<text x="${left}" y="18" class="panel-title">${esc(`${e.gate}: evidence (log scale)`)}</text>`);
  for (let k = loExp; k <= hiExp; k++) {
    const y = yAt(10 ** k).toFixed(1);
    out.push(`<line x1="${left}" x2="${width - right}" y1="${y}" y2="${y}" class="grid"/><text x="${left - 6}" y="${(Number(y) + 4).toFixed(1)}" class="axis" text-anchor="end">${k >= 5 || k <= -4 ? `1e${k}` : String(10 ** k)}</text>`);
  }
  // Runs of consecutive points of one step: each is drawn as its own line.
  const runs: number[][] = [];
  pts.forEach((p, i) => {
    if (i === 0 || pts[i - 1]!.stepIndex !== p.stepIndex) {
      runs.push([]);
      out.push(`<line x1="${xAt(i).toFixed(1)}" x2="${xAt(i).toFixed(1)}" y1="${top}" y2="${bottom}" class="step-line"/><text x="${xAt(i).toFixed(1)}" y="${bottom + 16}" class="axis">${esc(`${p.stepIndex + 1}. ${p.step}`)}</text>`);
    }
    runs[runs.length - 1]!.push(i);
  });
  const kinds = [
    { id: 'fail-threshold', color: '#991b1b', dashed: true, value: (p: EvidencePoint) => p.failThreshold, label: 'fail threshold' },
    { id: 'pass-threshold', color: '#166534', dashed: true, value: (p: EvidencePoint) => p.passThreshold, label: 'pass threshold' },
    { id: 'to-fail', color: '#dc2626', dashed: false, value: (p: EvidencePoint) => p.toFail, label: 'to fail' },
    { id: 'to-pass', color: '#16a34a', dashed: false, value: (p: EvidencePoint) => p.toPass, label: 'to pass' },
  ];
  for (const k of kinds) {
    for (const run of runs) {
      const line = run.filter((i) => k.value(pts[i]!) !== null).map((i) => `${xAt(i).toFixed(1)},${yAt(k.value(pts[i]!)!).toFixed(1)}`);
      // A threshold of a one-analysis step still shows, as a short dash.
      if (line.length === 1 && k.dashed) line.push(`${(Number(line[0]!.split(',')[0]) + 12).toFixed(1)},${line[0]!.split(',')[1]}`);
      if (line.length > 1) out.push(`<polyline points="${line.join(' ')}" fill="none" stroke="${k.color}" stroke-width="${k.dashed ? 1.5 : 2}"${k.dashed ? ' stroke-dasharray="6 4"' : ''} data-series="${k.id}"/>`);
    }
    if (k.dashed) continue;
    pts.forEach((p, i) => {
      const v = k.value(p);
      if (v === null) return;
      const decided = (k.id === 'to-fail' && p.status === 'fail') || (k.id === 'to-pass' && p.status === 'pass');
      // A window not counted (a data problem) is a hollow circle: the evidence did not move.
      const uncounted = p.cause !== null && p.cause !== 'undecided';
      out.push(
        `<circle cx="${xAt(i).toFixed(1)}" cy="${yAt(v).toFixed(1)}" r="${decided ? 5 : 3.5}" fill="${uncounted ? '#fff' : k.color}" stroke="${k.color}" class="point${decided ? ' decided' : ''}${uncounted ? ' uncounted' : ''}" data-series="${k.id}" data-value="${v}" data-step="${p.stepIndex}" data-analysis="${p.analysis}"><title>${esc(`${e.gate} ${k.label}: ${fmtE(v)} of ${fmtE((k.id === 'to-fail' ? p.failThreshold : p.passThreshold) ?? 0)} — ${p.step}, analysis ${p.analysis} (${p.status}${p.cause && p.cause !== 'undecided' ? `: ${p.cause}` : ''}) at ${p.at}`)}</title></circle>`,
      );
    });
  }
  kinds.forEach((k, i) => {
    const x = left + i * 150;
    out.push(`<line x1="${x}" x2="${x + 18}" y1="${height - 14}" y2="${height - 14}" stroke="${k.color}" stroke-width="2"${k.dashed ? ' stroke-dasharray="6 4"' : ''}/><text x="${x + 24}" y="${height - 10}" class="axis">${esc(k.label)}</text>`);
  });
  out.push('</svg>');
  return out.join('');
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111827;margin:0;background:#f9fafb}
main{max-width:980px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #e5e7eb;padding-bottom:4px}
.outcome{display:inline-block;padding:2px 10px;border-radius:12px;font-weight:600}
.promoted{background:#dcfce7;color:#166534}.rolled_back,.rejected,.aborted,.failed{background:#fee2e2;color:#991b1b}.running{background:#e0e7ff;color:#3730a3}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}
th,td{border:1px solid #e5e7eb;padding:4px 8px;text-align:left;vertical-align:top} th{background:#f3f4f6}
.pass{color:#166534;font-weight:600}.fail{color:#991b1b;font-weight:600}.inconclusive{color:#92400e;font-weight:600}
pre{background:#fff;border:1px solid #e5e7eb;padding:10px;overflow:auto;font-size:12px}
.meta td:first-child{width:180px;color:#4b5563}
.note{background:#fef3c7;border:1px solid #fcd34d;padding:6px 10px;margin:8px 0}
svg{background:#fff;border:1px solid #e5e7eb}.evidence-chart{display:block;margin:0 0 12px}.legend{color:#4b5563;font-size:13px}
.panel-title{font-weight:600;font-size:13px}.axis{font-size:11px;fill:#4b5563}.grid{stroke:#e5e7eb}.step-line{stroke:#9ca3af;stroke-dasharray:3 3}
`;

/** The report as one self-contained HTML file (inline CSS and SVG; no scripts, no external resources). */
export function renderHtml(r: RolloutReport): string {
  const cls = r.finished ? (r.outcome ?? 'failed') : 'running';
  const row = (cells: string[], tag = 'td') => `<tr>${cells.map((c) => `<${tag}>${c}</${tag}>`).join('')}</tr>`;
  const stepName = (i: number | null) => (i === null ? '–' : esc(`${i + 1}. ${r.plan.steps[i] ?? ''}`));
  const parts: string[] = [];
  parts.push(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(`Rollout report: ${r.candidate} on ${r.endpoint}`)}</title><style>${CSS}</style></head><body><main>`);
  parts.push(`<h1>Rollout report: ${esc(r.candidate)} on ${esc(r.endpoint)}</h1>`);
  parts.push(`<p><span class="outcome ${esc(cls)}" id="outcome">${esc(r.finished ? (r.outcome ?? r.execution.toLowerCase()) : 'running')}</span> ${esc(r.reason ?? '')}</p>`);
  for (const n of r.notes) parts.push(`<p class="note">${esc(n)}</p>`);
  parts.push('<table class="meta">');
  parts.push(row(['Workflow', `<code>${esc(r.workflowId)}</code><br>run <code>${esc(r.runId)}</code>`]));
  parts.push(row(['Baseline → candidate', `${esc(r.baseline ?? '?')} → ${esc(r.candidate)}`]));
  parts.push(row(['Started', `${esc(r.startedAt)} by ${esc(r.startedBy)}`]));
  parts.push(row(['Finished', esc(r.finishedAt ?? 'still running')]));
  if (r.errorType) parts.push(row(['Error type', esc(r.errorType)]));
  parts.push(row(['Report generated', esc(r.generatedAt)]));
  parts.push('</table>');

  parts.push('<h2>Baseline vs candidate</h2>');
  parts.push(renderChart(r.chart, r.baseline ?? 'baseline', r.candidate));

  if (r.evidence.length) {
    parts.push('<h2>Evidence</h2>');
    parts.push('<p class="legend">Per judged gate: the evidence that the candidate is worse than its tolerance (<span class="fail">to fail</span>) and that it is within it (<span class="pass">to pass</span>), at each analysis, on a log scale. A dashed line is the threshold that e-value must reach: to fail, the rollout rolls back; to pass, the step may end early. Each step starts again at 1.</p>');
    r.evidence.forEach((e, i) => parts.push(renderEvidenceChart(e, i)));
    parts.push('<table id="evidence">');
    parts.push(row(['Step', ...EVIDENCE_HEADERS], 'th'));
    for (const f of r.finalEvidence) {
      const cells = evidenceCells(f).map((c) => esc(c));
      cells[1] = `<span class="${esc(f.status)}">${cells[1]}</span>`;
      parts.push(row([`${stepName(f.stepIndex)} <small>(analysis ${f.analysis})</small>`, ...cells]));
    }
    parts.push('</table>');
  }

  parts.push('<h2>Analyses</h2>');
  if (r.analyses.length === 0) parts.push('<p>No analysis ran.</p>');
  else {
    parts.push('<table id="analyses">');
    parts.push(row(['When', 'Step', '#', 'Verdict', 'Requests base / cand', 'p99 base / cand', '5xx base / cand', 'Gates'], 'th'));
    for (const v of r.analyses) {
      const b = v.snapshot?.baseline;
      const c = v.snapshot?.candidate;
      parts.push(
        row([
          esc(v.at),
          stepName(v.stepIndex),
          String(v.analysis),
          `<span class="${esc(v.status)}">${esc(v.status)}</span>`,
          `${esc(fmtReq(b))} / ${esc(fmtReq(c))}`,
          `${esc(fmtMs(num(b, 'latencyP99Ms')))} / ${esc(fmtMs(num(c, 'latencyP99Ms')))}`,
          `${esc(fmtRate(num(b, 'errorRate')))} / ${esc(fmtRate(num(c, 'errorRate')))}`,
          v.gates.map((g) => `<span class="${esc(g.status)}">${esc(g.gate)}</span>: ${esc(g.reason)}`).join('<br>'),
        ]),
      );
    }
    parts.push('</table>');
  }

  parts.push('<h2>Traffic</h2>');
  if (r.traffic.length === 0) parts.push('<p>No traffic change was made.</p>');
  else parts.push(`<table id="traffic">${row(['When', 'Step', 'Traffic'], 'th')}${r.traffic.map((t) => row([esc(t.at), stepName(t.stepIndex), esc(t.traffic)])).join('')}</table>`);

  parts.push('<h2>Cost</h2>');
  if (r.cost.length === 0) parts.push('<p>No cost check ran.</p>');
  else parts.push(`<ul>${r.cost.map((v) => `<li>${esc(v.at)} ${stepName(v.stepIndex)}: <span class="${esc(v.status)}">${esc(v.status)}</span> — ${esc(v.gates.map((g) => g.reason).join('; ') || v.reasons.join('; '))}</li>`).join('')}</ul>`);

  parts.push('<h2>Approvals</h2>');
  if (r.approvals.length === 0) parts.push('<p>No approval decision was recorded.</p>');
  else parts.push(`<table id="approvals">${row(['When', 'Step', 'Decision', 'By', 'Channel', 'Comment'], 'th')}${r.approvals.map((a) => row([esc(a.at), stepName(a.stepIndex), esc(a.decision), esc(a.by), esc(channelOf(a)), esc(a.comment ?? '')])).join('')}</table>`);
  if (r.refusals.length) parts.push(`<p>Refused messages:</p><ul>${r.refusals.map((x) => `<li>${esc(`${x.at} ${x.message} (${x.via}) from ${x.by}: ${x.reason}`)}</li>`).join('')}</ul>`);

  if (r.rollback) {
    parts.push('<h2>Rollback</h2><ul>');
    parts.push(`<li>confirmed: <strong>${r.rollback.confirmed ? 'yes' : 'NO'}</strong>${r.rollback.traffic ? ` (read back: ${esc(formatTraffic(r.rollback.traffic))})` : ''}</li>`);
    parts.push(`<li>candidate deleted: ${r.rollback.candidateDeleted ? 'yes' : 'no'}</li>`);
    for (const e of r.rollback.errors) parts.push(`<li>error: ${esc(e)}</li>`);
    parts.push('</ul>');
  }

  parts.push('<h2>Plan</h2>');
  parts.push(`<pre>${esc(r.plan.explanation ?? r.plan.steps.map((s, i) => `${i + 1}. ${s}`).join('\n'))}</pre>`);

  parts.push('<h2>Timeline</h2>');
  parts.push(`<table id="timeline">${row(['When', 'Event', 'Detail'], 'th')}${r.timeline.map((e) => row([esc(e.at), esc(e.kind), esc(e.text)])).join('')}</table>`);
  parts.push('</main></body></html>');
  return parts.join('\n');
}

/** Renders the report in one of the formats. */
export function renderReport(r: RolloutReport, format: 'md' | 'html' | 'json'): string {
  switch (format) {
    case 'md':
      return renderMarkdown(r);
    case 'html':
      return renderHtml(r);
    case 'json':
      return JSON.stringify(r, null, 2);
    default: {
      const never: never = format;
      throw new Error(`unknown format ${String(never)}`);
    }
  }
}
