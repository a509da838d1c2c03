/**
 * The rollout report from a finished rollout's result and from a running rollout's status: every
 * section an auditor needs, Markdown that survives a pipe in a reason, HTML that is one self-contained
 * file whose chart carries exactly the result's figures, and JSON that round-trips.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { main } from '../../client/cli.js';
import { buildReport, renderHtml, renderMarkdown, renderReport, type ReportSources } from '../../client/report.js';
import { rolloutWorkflowId } from '../../domain/ids.js';
import { aPlanDocument } from '../support/builders.js';
import { FakeGateway, testRuntime } from './fake-gateway.js';
import { judgedVerdicts } from '../support/judged-verdicts.js';
import { aResult } from './result-builder.js';

const result = aResult();
const sources: ReportSources = {
  summary: { workflowId: result.workflowId, runId: 'run-1', execution: 'COMPLETED', endpoint: 'fraud-detection', candidate: 'green', stage: 'done', outcome: 'promoted', startedAt: result.startedAt, closedAt: result.finishedAt },
  input: { plan: aPlanDocument(), startedBy: 'ci@contoso.com' },
  result,
  status: null,
  failure: null,
  now: new Date('2026-11-25T09:00:00.000Z'),
};

describe('rollout report', () => {
  test('the model holds the plan, timeline, traffic, analyses with figures, cost, approvals and outcome', () => {
    const r = buildReport(sources);
    assert.equal(r.outcome, 'promoted');
    assert.equal(r.analyses.length, 4);
    assert.equal(r.cost.length, 1);
    assert.deepEqual(r.chart.map((p) => [p.baselineP99Ms, p.candidateP99Ms]), [[100, 104], [101, 99], [98, 120], [97, 110]]);
    assert.deepEqual(r.traffic.map((t) => t.traffic), ['blue 100% | mirror 20% → green', 'blue 90% | green 10% | mirror 0%', 'blue 50% | green 50% | mirror 0%', 'green 100% | mirror 0%']);
    assert.equal(r.approvals[0]!.by, 'alice@contoso.com');
    assert.match(r.plan.explanation ?? '', /Rollout of green on fraud-detection \(baseline blue\)/);
  });

  test('Markdown has every section and escapes pipes in table cells', () => {
    const md = renderMarkdown(buildReport({ ...sources, result: aResult({ reason: 'a | b' }) }));
    for (const h of ['## Plan', '## Traffic', '## Analyses', '## Cost', '## Approvals', '## Timeline']) assert.ok(md.includes(h), h);
    assert.match(md, /\*\*Outcome:\*\* promoted — a \\\| b/);
    assert.match(md, /\| \*\*pass\*\* \| 500 \/ 500 \| 98 ms \/ 120 ms \| 0\.2% \/ 0\.4% \|/);
    assert.match(md, /\| alice@contoso.com \| slack, client 4711@bridge-1 \| looks good &lt;b&gt; \|/, 'the report names the channel and client of a decision');
  });

  test('HTML is self-contained, escapes text, and its chart points are the result’s figures', () => {
    const html = renderHtml(buildReport(sources));
    assert.ok(!/<script|<link|src=|href=/i.test(html), 'no scripts or external resources');
    assert.ok(html.includes('looks good &lt;b&gt;'));
    const points = [...html.matchAll(/<circle [^>]*data-series="([^"]+)"[^>]*data-value="([^"]+)"/g)].map((m) => [m[1], Number(m[2])]);
    const series = (id: string) => points.filter((p) => p[0] === id).map((p) => p[1]);
    const v = result.verdicts.filter((x) => x.snapshot);
    assert.deepEqual(series('candidate-p99'), v.map((x) => x.snapshot!.candidate!.latencyP99Ms));
    assert.deepEqual(series('baseline-p99'), v.map((x) => x.snapshot!.baseline!.latencyP99Ms));
    assert.deepEqual(series('candidate-error-rate'), v.map((x) => x.snapshot!.candidate!.errorRate));
    assert.deepEqual(series('baseline-error-rate'), v.map((x) => x.snapshot!.baseline!.errorRate));
  });

  test('a running rollout gets a report from its status, with a note saying so', () => {
    const r = buildReport({
      ...sources,
      result: null,
      summary: { ...sources.summary, execution: 'RUNNING', closedAt: null },
      status: { ...JSON.parse(JSON.stringify({})), workflowId: result.workflowId, endpoint: 'fraud-detection', candidate: 'green', baseline: 'blue', startedBy: 'ci@contoso.com', startedAt: result.startedAt, stage: 'canary', stepIndex: 3, stepText: 'canary 10%', steps: ['mirror 20%', 'cost check', 'approval', 'canary 10%'], traffic: { live: { blue: 90, green: 10 }, mirror: {} }, lastVerdicts: result.verdicts.slice(0, 2), pendingApproval: null, approvals: result.approvals, paused: null, stopping: null, refusals: [], events: result.timeline.slice(0, 4), outcome: null },
    });
    assert.equal(r.finished, false);
    assert.match(r.notes[0]!, /still running/);
    assert.equal(r.chart.length, 2);
    assert.match(renderMarkdown(r), /running \(4 steps\)/);
  });

  test('`rollout report --format json --out` writes JSON that parses back to the same report', async () => {
    const g = new FakeGateway();
    const fake = g.add(aPlanDocument(), 'ci@contoso.com');
    fake.summary.execution = 'COMPLETED';
    fake.result = result;
    const t = testRuntime({ gateway: g });
    const id = rolloutWorkflowId(aPlanDocument().target as Parameters<typeof rolloutWorkflowId>[0]);
    assert.equal(await main(['rollout', 'report', id, '--format', 'json', '--out', 'out/report.json'], t.runtime), 0, t.err.join('\n'));
    const written = JSON.parse(t.files['out/report.json']!) as { outcome: string; analyses: unknown[] };
    assert.equal(written.outcome, 'promoted');
    assert.equal(written.analyses.length, 4);
    assert.equal(renderReport(buildReport(sources), 'json'), JSON.stringify(buildReport(sources), null, 2));
  });
});

describe('rollout report of a judged rollout', () => {
  // A 20% mirror where both sides err at 0.5% (the 5xx gate passes by evidence, one window is missing),
  // then a 10% canary where the candidate errs at 3%: the 5xx gate fails. Two gates at α 0.01: 200 to fail, 100 to pass.
  const settings = { gates: [{ name: '5xx', tolerance: '1.5x' }, { name: 'latency p99', tolerance: '1.2x' }] };
  const verdicts = judgedVerdicts(settings, [
    { stepIndex: 0, analyses: 30, candidateRequests: 600, baselineRequests: 3000, rates: { '5xx': { baseline: 0.005, candidate: 0.005 }, 'latency p99': { baseline: 0.01, candidate: 0.01 } }, missing: [4] },
    { stepIndex: 3, analyses: 15, candidateRequests: 300, baselineRequests: 2700, rates: { '5xx': { baseline: 0.005, candidate: 0.03 }, 'latency p99': { baseline: 0.01, candidate: 0.01 } } },
  ], { seed: 7, startIso: '2026-11-25T08:00:00.000Z', intervalMs: 60_000 });
  const judged = buildReport({ ...sources, result: aResult({ outcome: 'rolled_back', verdicts }) });
  const html = renderHtml(judged);
  const canaryFail = verdicts[verdicts.length - 1]!;

  test('the report model has each judged gate’s evidence at every analysis and the evidence each step ended with', () => {
    assert.equal(canaryFail.status, 'fail');
    assert.deepEqual(judged.evidence.map((e) => [e.gate, e.points.length]), [['5xx', verdicts.length], ['latency p99', verdicts.length]]);
    const fivexx = judged.evidence[0]!.points;
    assert.deepEqual(fivexx.map((p) => p.toFail), verdicts.map((v) => v.judgement!.gates[0]!.toFail.eValue));
    assert.deepEqual([...new Set(fivexx.map((p) => p.failThreshold))], [200]);
    assert.deepEqual([...new Set(fivexx.map((p) => p.passThreshold))], [100]);
    assert.equal(fivexx[3]!.cause, 'missing-data', 'the missing window is marked');
    assert.deepEqual(judged.finalEvidence.map((f) => [f.stepIndex, f.gate, f.status]), [[0, '5xx', 'pass'], [0, 'latency p99', 'inconclusive'], [3, '5xx', 'fail'], [3, 'latency p99', 'inconclusive']]);
  });

  test('HTML: one log-scale chart per judged gate whose points are the judge’s e-values, a decided point drawn beyond its threshold', () => {
    assert.ok(!/<script|<link|src=|href=/i.test(html), 'no scripts or external resources');
    const charts = [...html.matchAll(/<svg id="evidence-chart-(\d+)" class="evidence-chart" data-gate="([^"]+)"[\s\S]*?<\/svg>/g)];
    assert.deepEqual(charts.map((c) => c[2]), ['5xx', 'latency p99']);
    const svg = charts[0]![0];
    const circles = [...svg.matchAll(/<circle cx="[^"]+" cy="([^"]+)" r="[^"]+" fill="[^"]+" stroke="[^"]+" class="([^"]+)" data-series="([^"]+)" data-value="([^"]+)" data-step="(\d+)"/g)].map((m) => ({ cy: Number(m[1]), cls: m[2]!, series: m[3]!, value: Number(m[4]), step: Number(m[5]) }));
    assert.deepEqual(circles.filter((c) => c.series === 'to-fail').map((c) => c.value), verdicts.map((v) => v.judgement!.gates[0]!.toFail.eValue));
    assert.deepEqual(circles.filter((c) => c.series === 'to-pass').map((c) => c.value), verdicts.map((v) => v.judgement!.gates[0]!.toPass!.eValue));
    // Log scale: the failed analysis (e-value ≥ 200) sits at or above the fail threshold's line, the first look (e ≈ 0.1) far below it.
    const thresholdY = (series: string, step: number) => {
      const lines = [...svg.matchAll(new RegExp(`<polyline points="([^"]+)"[^>]*data-series="${series}"`, 'g'))].map((m) => m[1]!.split(' ').map((p) => p.split(',').map(Number)));
      return lines[step]![0]![1]!;
    };
    const failed = circles.find((c) => c.series === 'to-fail' && c.cls.includes('decided'))!;
    assert.ok(failed.value >= 200 && failed.step === 3);
    assert.ok(failed.cy <= thresholdY('fail-threshold', 1), `${failed.cy} vs ${thresholdY('fail-threshold', 1)}`);
    assert.ok(circles[0]!.cy > thresholdY('fail-threshold', 0) + 50);
    assert.equal(circles.filter((c) => c.cls.includes('uncounted')).length, 2, 'the missing window: hollow on both lines');
  });

  test('HTML and Markdown end each judged step with its evidence table: counts, ratio and interval, evidence against thresholds, could detect', () => {
    const g = canaryFail.judgement!.gates[0]!;
    const row = html.match(/<tr><td>4\. canary 10% <small>\(analysis \d+\)<\/small><\/td><td>5xx \(≤ 1\.5×\)<\/td>.*?<\/tr>/)?.[0] ?? '';
    assert.ok(row, 'a row for the canary’s 5xx gate');
    assert.ok(row.includes('<span class="fail">fail</span>'));
    assert.ok(row.includes(`${g.totals.candidateEvents}/300 vs ${g.totals.baselineEvents}/2,700`), row);
    assert.match(row, / of 200 \(reached \d+\)/, 'the fail e-value against 200 and that it reached it');
    assert.match(row, /≥ \d+\.\d\d×/);
    const md = renderMarkdown(judged);
    assert.ok(md.indexOf('## Evidence') < md.indexOf('## Analyses'));
    assert.match(md, /\| 1\. mirror 20% \(analysis 30\) \| 5xx \(≤ 1\.5×\) \| pass \| \d+\/17,400 vs \d+\/87,000 \|/);
  });

  test('a rollout without judgements has no evidence section', () => {
    const plain = buildReport(sources);
    assert.deepEqual([plain.evidence, plain.finalEvidence], [[], []]);
    assert.ok(!renderHtml(plain).includes('<h2>Evidence</h2>'));
    assert.ok(!renderMarkdown(plain).includes('## Evidence'));
  });
});
