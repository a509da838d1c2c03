/**
 * The judged report renders in headless Chromium: the evidence charts survive HTML parsing as SVG with
 * the judge's e-values on their points, and the page screenshots (a human can look at it).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { buildReport, renderHtml } from '../../client/report.js';
import { aResult } from '../client-unit/result-builder.js';
import { aPlanDocument } from '../support/builders.js';
import { judgedVerdicts } from '../support/judged-verdicts.js';
import { dumpDom, screenshot } from './chromium.js';

describe('judged rollout report in a browser', () => {
  const dir = mkdtempSync(join(tmpdir(), 'glidepath-report-evidence-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('each judged gate gets an SVG evidence chart whose points carry the judge’s e-values', async () => {
    const verdicts = judgedVerdicts({ gates: [{ name: '5xx', tolerance: '1.5x' }, { name: 'latency p99', tolerance: '1.2x' }] }, [
      { stepIndex: 0, analyses: 12, candidateRequests: 600, baselineRequests: 3000, rates: { '5xx': { baseline: 0.005, candidate: 0.005 }, 'latency p99': { baseline: 0.01, candidate: 0.01 } } },
      { stepIndex: 3, analyses: 15, candidateRequests: 300, baselineRequests: 2700, rates: { '5xx': { baseline: 0.005, candidate: 0.03 }, 'latency p99': { baseline: 0.01, candidate: 0.01 } } },
    ], { seed: 7, startIso: '2026-11-25T08:00:00.000Z', intervalMs: 60_000 });
    const result = aResult({ outcome: 'rolled_back', reason: 'step 4 (canary 10%): the judge found the candidate worse than its tolerance after 2m with 2 analyses: 5xx', verdicts });
    const report = buildReport({
      summary: { workflowId: result.workflowId, runId: 'run-1', execution: 'COMPLETED', endpoint: 'fraud-detection', candidate: 'green', stage: 'done', outcome: 'rolled_back', startedAt: result.startedAt, closedAt: result.finishedAt },
      input: { plan: aPlanDocument(), startedBy: 'ci@contoso.com' },
      result,
      status: null,
      failure: null,
      now: new Date('2026-11-25T09:00:00.000Z'),
    });
    const file = join(dir, 'report.html');
    writeFileSync(file, renderHtml(report));
    const dom = await dumpDom(file);
    for (const [i, gate] of ['5xx', 'latency p99'].entries()) {
      const svg = dom.match(new RegExp(`<svg id="evidence-chart-${i}"[\\s\\S]*?</svg>`))?.[0] ?? '';
      assert.ok(svg.includes(`data-gate="${gate}"`), `chart ${i} is ${gate}`);
      const toFail = [...svg.matchAll(/data-series="to-fail" data-value="([^"]+)"/g)].map((m) => Number(m[1]));
      assert.deepEqual(toFail, verdicts.map((v) => v.judgement!.gates[i]!.toFail.eValue));
    }
    assert.match(dom, /<table id="evidence">/);
    const png = join(dir, 'report.png');
    await screenshot(file, png);
    assert.ok(statSync(png).size > 20_000, 'a real screenshot');
    // The committed screenshot (docs/rollout-report-evidence.png, shown in the README) is refreshed on demand only.
    if (process.env.UPDATE_DOCS === '1') copyFileSync(png, join(import.meta.dirname, '..', '..', 'docs', 'rollout-report-evidence.png'));
  });
});
