/**
 * Prediction gates as people see them: the `predictions` line in `rollout status` and `watch`, the report's
 * Predictions section (disagreement over time, flip matrix, worst slices, score distributions), and the
 * line in Slack's approval message.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { approvalBlocks } from '../../activities/slack-notifier.js';
import { buildReport, renderHtml, renderMarkdown } from '../../client/report.js';
import { formatProgress, formatStatus, finalEvidenceLines } from '../../client/progress.js';
import { approvalNotice } from '../../domain/approvals.js';
import { predictionLook } from '../../domain/prediction-analysis.js';
import { parsePlan } from '../../domain/plan.js';
import { parsePredictionGate, type PairingSummary } from '../../domain/predictions/index.js';
import type { VerdictRecord } from '../../domain/rollout.js';
import { aPlanDocument } from '../support/builders.js';
import { statusFor } from './fake-gateway.js';
import { aResult, aVerdict } from './result-builder.js';

const parsed = parsePlan(aPlanDocument());
const plan = parsed.ok ? parsed.plan : (undefined as never);
const NOW = Date.parse('2026-11-25T08:10:00.000Z');
const GATE = parsePredictionGate({ label: 'isFraud', score: 'fraudProbability', maxDisagreement: 0.02, slices: ['merchantCategory'] });

/** A window of 8,410 pairs, 412 disagreeing (398 false→true, 14 true→false), 11.2% in `online`; scores in 4 bins. */
function summary(): PairingSummary {
  const edges = [0, 0.25, 0.5, 0.75, 1];
  return {
    outputs: { baseline: 8410, candidate: 8410 },
    pairs: { joined: 8410, byClientRequestId: 8410, byCorrelationId: 0, byPayloadHash: 0, unjoined: { baseline: 3, candidate: 1 }, idConflicts: 0, unconfirmedRows: 0, duplicates: { baseline: 0, candidate: 0 }, withoutInput: { baseline: 0, candidate: 0 } },
    labels: {
      path: 'isFraud',
      compared: 8410,
      disagreements: 412,
      flips: [{ baseline: 'false', candidate: 'true', count: 398 }, { baseline: 'true', candidate: 'false', count: 14 }],
      classes: { baseline: { false: 8000, true: 410 }, candidate: { false: 7616, true: 794 } },
      missing: { baseline: 0, candidate: 0 },
      wrongType: { baseline: 0, candidate: 0 },
    },
    scores: { path: 'fraudProbability', compared: 8410, tolerance: 0.1, overTolerance: 500, meanAbsDifference: 0.04, edges, bins: { baseline: [0, 7000, 1000, 300, 110, 0], candidate: [0, 6000, 1500, 600, 310, 0] }, psi: 0.1, jensenShannon: 0.1, ks: 0.1, ksBinned: 0.1, missing: { baseline: 0, candidate: 0 }, wrongType: { baseline: 0, candidate: 0 } },
    slices: [{ field: 'merchantCategory', values: [{ value: 'online', pairs: 2000, disagreements: 224 }, { value: 'grocery', pairs: 6410, disagreements: 188 }], unsliced: 0 }],
    pathProblems: [],
  };
}

const evidence = predictionLook(GATE, undefined, { ok: true, window: { start: '2026-11-25T08:09:50.000Z', end: '2026-11-25T08:09:55.000Z' }, summary: summary(), skippedLines: 2, missingFolders: 0 }, { alpha: 0.01, judgedGates: 3 }).evidence;
const verdict: VerdictRecord = { ...aVerdict(0, 1, [40, 0], [41, 0], 'fail'), predictions: evidence };
const LINE = 'disagreement 4.9% (412/8,410 pairs) > 2% · isFraud false→true 398, true→false 14 · worst slice merchantCategory=online 11.2%';

test('status and watch print the predictions line under the analysis, quoting the numbers', () => {
  const s = statusFor(plan, 'ci@contoso.com', { stage: 'mirror', stepIndex: 0, stepText: 'mirror 20%', lastVerdicts: [verdict] });
  assert.ok(evidence.reason.startsWith(`predictions: ${LINE}`), evidence.reason);
  assert.match(formatProgress(s, plan, NOW), new RegExp(`\\n {11}predictions {2}${LINE.replace(/[.()]/g, '\\$&')}.* \\(fail\\)$`));
  assert.match(formatStatus(s, plan, NOW), /\n {2}evidence {3}predictions {2}disagreement 4\.9% \(412\/8,410 pairs\) > 2%/);
  assert.match(finalEvidenceLines([verdict]).join('\n'), /evidence {3}step 1 \(analysis 1, fail\)\n {13}predictions {2}disagreement 4\.9%/);
  const plain = statusFor(plan, 'ci@contoso.com', { stage: 'mirror', stepIndex: 0, stepText: 'mirror 20%', lastVerdicts: [aVerdict(0, 1, [40, 0], [41, 0])] });
  assert.ok(!formatStatus(plain, plan, NOW).includes('predictions'), 'a plan without prediction gates prints as before');
});

test('the report shows disagreement over time, the flip matrix, the worst slices and both score distributions, and no single prediction', () => {
  const result = aResult({ outcome: 'rolled_back', verdicts: [verdict] });
  const r = buildReport({
    summary: { workflowId: result.workflowId, runId: 'run-1', execution: 'COMPLETED', endpoint: 'fraud-detection', candidate: 'green', stage: 'done', outcome: 'rolled_back', startedAt: result.startedAt, closedAt: result.finishedAt },
    input: { plan: aPlanDocument(), startedBy: 'ci@contoso.com' },
    result,
    status: null,
    failure: null,
    now: new Date('2026-11-25T09:00:00.000Z'),
  });
  assert.equal(r.predictions.length, 1);
  const md = renderMarkdown(r);
  assert.match(md, /## Predictions/);
  assert.match(md, /\| 2025-11-25T08:00:10\.000Z \| 1 \| 8,410 \| 412 \(4\.9%\) \| 412\/8,410 \(4\.9%\) \| fail \||\| 1 \| 8,410 \| 412 \(4\.9%\) \| 412\/8,410 \(4\.9%\) \| fail \|/);
  assert.match(md, /\| false \| · \| 398 \|\n\| true \| 14 \| · \|/, 'flip matrix: rows baseline, columns candidate');
  assert.match(md, /\| merchantCategory=online \| 2,000 \| 224 \| 11\.2% \|/);
  assert.match(md, /\| 0–0\.25 \| 7,000 \| 6,000 \|/);
  const html = renderHtml(r);
  assert.match(html, /<h2>Predictions<\/h2>/);
  assert.match(html, /class="flips"/);
  assert.match(html, /class="scores"/);
});

test("Slack's approval message carries the predictions line so a reviewer sees it before approving", () => {
  const s = statusFor(plan, 'ci@contoso.com', {
    stage: 'approval',
    stepIndex: 2,
    stepText: 'approval',
    lastVerdicts: [{ ...verdict, status: 'pass' }],
    pendingApproval: { stepIndex: 2, stepText: 'approval', requestedAt: '2026-11-25T08:02:00.000Z', timeoutAt: null, onTimeout: 'rollback', approvers: ['alice@contoso.com'] },
  });
  const notice = approvalNotice(s, plan)!;
  assert.ok(notice.lastAnalysis?.predictions?.startsWith(LINE));
  const text = JSON.stringify(approvalBlocks({ kind: 'approval_requested', text: 'approve?', workflowId: 'wf', endpoint: 'fraud-detection', candidate: 'green' } as never, notice));
  assert.ok(text.includes(`*Predictions* (mirrored pairs): ${LINE.replace('>', '&gt;')}`), text); // mrkdwn-escaped
});
