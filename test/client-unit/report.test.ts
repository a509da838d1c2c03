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
