/**
 * The rollout report an auditor reads: the plan, the timeline, traffic at each step, every analysis
 * with baseline and candidate figures and the verdict, cost, every approval (who, when, comment), the
 * outcome and its reason. Built once as plain data (`RolloutReport`, also the `json` format) from the
 * workflow's result (finished) or its `status` query (running), then rendered as Markdown (pull
 * requests) or one self-contained HTML file with an inline SVG chart of latency and error rate of
 * baseline vs candidate across the rollout.
 */
import { describeSender } from '../domain/approvals.js';
import { explain } from '../domain/explain.js';
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
  /** The version `azureml:<name>@latest` resolved to at preflight, when the plan said @latest. */
  resolvedModel?: string;
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
  notes: string[];
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
    ...((result?.resolvedModel ?? status?.resolvedModel) ? { resolvedModel: (result?.resolvedModel ?? status?.resolvedModel)! } : {}),
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
    notes,
  };
}

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
  if (r.resolvedModel) out.push(`| Model (@latest resolved at start) | ${mdCell(r.resolvedModel)} |`);
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
svg{background:#fff;border:1px solid #e5e7eb}
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
  if (r.resolvedModel) parts.push(row(['Model (@latest resolved at start)', `<code>${esc(r.resolvedModel)}</code>`]));
  parts.push(row(['Started', `${esc(r.startedAt)} by ${esc(r.startedBy)}`]));
  parts.push(row(['Finished', esc(r.finishedAt ?? 'still running')]));
  if (r.errorType) parts.push(row(['Error type', esc(r.errorType)]));
  parts.push(row(['Report generated', esc(r.generatedAt)]));
  parts.push('</table>');

  parts.push('<h2>Baseline vs candidate</h2>');
  parts.push(renderChart(r.chart, r.baseline ?? 'baseline', r.candidate));

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
