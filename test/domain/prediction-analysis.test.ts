// Prediction gates in a bake (domain/prediction-analysis.ts): what one look makes of a window's aggregates,
// how the step's decision changes, the budget split with the judge, preflight's refusal, and the collector
// added to the candidate. Tables over plain data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BakeProgress } from '../../domain/analysis.js';
import { judgeSettingsOf } from '../../domain/judged-analysis.js';
import { parsePlan } from '../../domain/plan.js';
import {
  dataCollectorSnippet,
  predictionCollections,
  predictionLook,
  preflightPredictions,
  withPredictionCollector,
  withPredictions,
  type PredictionEvidence,
  type PredictionRead,
} from '../../domain/prediction-analysis.js';
import { parsePredictionGate, type PairingSummary } from '../../domain/predictions/index.js';
import { aPlan, aPlanDocument } from '../support/builders.js';

const GATE = parsePredictionGate({ label: 'isFraud', score: 'fraudProbability', maxDisagreement: 0.02, slices: ['merchantCategory'] });
const WINDOW = { start: '2026-11-26T10:00:00.000Z', end: '2026-11-26T10:00:05.000Z' };
const BUDGET = { alpha: 0.01, judgedGates: 3 };

/** A window's summary: n compared pairs, x disagreeing (all false→true), in slice `online` (`onlineShare` of them) and `grocery`. */
function summary(n: number, x: number, opts: { onlineShare?: number; pathMissing?: boolean } = {}): PairingSummary {
  const online = Math.round(n * (opts.onlineShare ?? 0.5));
  const onlineX = Math.min(x, online);
  return {
    outputs: { baseline: n, candidate: n },
    pairs: { joined: n, byClientRequestId: 0, byCorrelationId: n, byPayloadHash: 0, unjoined: { baseline: 0, candidate: 0 }, idConflicts: 0, unconfirmedRows: 0, duplicates: { baseline: 0, candidate: 0 }, withoutInput: { baseline: 0, candidate: 0 } },
    labels: {
      path: 'isFraud',
      compared: opts.pathMissing ? 0 : n,
      disagreements: opts.pathMissing ? 0 : x,
      flips: x && !opts.pathMissing ? [{ baseline: 'false', candidate: 'true', count: x }] : [],
      classes: { baseline: { false: n }, candidate: { false: n - x, true: x } },
      missing: { baseline: 0, candidate: opts.pathMissing ? n : 0 },
      wrongType: { baseline: 0, candidate: 0 },
    },
    scores: null,
    slices: [{ field: 'merchantCategory', values: [{ value: 'online', pairs: online, disagreements: onlineX }, { value: 'grocery', pairs: n - online, disagreements: x - onlineX }], unsliced: 0 }],
    pathProblems: opts.pathMissing ? [{ field: 'label', path: 'isFraud', side: 'candidate', problem: 'missing', count: n, exampleShape: '{label: boolean, score: number}' }] : [],
  };
}
const ok = (s: PairingSummary): PredictionRead => ({ ok: true, window: WINDOW, summary: s, skippedLines: 0, missingFolders: 0 });

test('one look: clear disagreement fails with the numbers quoted; no disagreement over enough pairs passes; few pairs, no data or a missing path are inconclusive', () => {
  const rows: { name: string; read: PredictionRead; status: PredictionEvidence['status']; cause?: PredictionEvidence['cause']; reason: RegExp }[] = [
    {
      name: '412 of 8,410 disagree (4.9%) against max 2%',
      read: ok(summary(8410, 412, { onlineShare: 0.3 })),
      status: 'fail',
      reason: /^predictions: disagreement 4\.9% \(412\/8,410 pairs\) > 2% · isFraud false→true 412 · worst slice merchantCategory=online 16\.3% · evidence .* ≥ 400$/,
    },
    { name: '0 of 1,000', read: ok(summary(1000, 0)), status: 'pass', reason: /^predictions: disagreement 0\.0% \(0\/1,000 pairs\) < 2%/ },
    { name: '0 of 50: too few to pass', read: ok(summary(50, 0)), status: 'inconclusive', cause: 'too-few-pairs', reason: /too few pairs to pass/ },
    { name: 'store unreachable', read: { ok: false, window: WINDOW, problem: 'collected data unavailable (CollectedDataUnavailable: unreachable)' }, status: 'inconclusive', cause: 'data', reason: /inconclusive: collected data unavailable \(CollectedDataUnavailable: unreachable\)/ },
    { name: 'label path missing', read: ok(summary(300, 0, { pathMissing: true })), status: 'inconclusive', cause: 'data', reason: /field path isFraud not found in the candidate's responses \(300; e\.g\. \{label: boolean, score: number\}\)/ },
  ];
  for (const r of rows) {
    const { evidence } = predictionLook(GATE, undefined, r.read, BUDGET);
    assert.equal(evidence.status, r.status, `${r.name}: ${evidence.reason}`);
    assert.equal(evidence.cause, r.cause, r.name);
    assert.match(evidence.reason, r.reason, r.name);
  }
});

test('the fail threshold is (G+1)/α: the judge and the disagreement test share the step budget (judge gets α·G/(G+1))', () => {
  const { evidence } = predictionLook(GATE, undefined, ok(summary(100, 0)), { alpha: 0.01, judgedGates: 3 });
  assert.equal(evidence.test.failThreshold, 400);
  assert.equal(evidence.test.passThreshold, 100);
  const alone = predictionLook(GATE, undefined, ok(summary(100, 0)), { alpha: 0.01, judgedGates: 0 });
  assert.equal(alone.evidence.test.failThreshold, 100);
  const judged = aPlan(aPlanDocument((d) => Object.assign(d, { gates: { errorRate: { tolerance: '1.25x' }, modelErrorRate: { tolerance: '1.25x' }, latencyP99Ms: { tolerance: 1.25 }, predictions: { label: 'isFraud', maxDisagreement: 0.02 } } })));
  const s = judgeSettingsOf(judged)!;
  assert.ok(Math.abs(s.gates.length / s.falseAlarmBudget - 400) < 1e-9, `judge fail threshold ${s.gates.length / s.falseAlarmBudget}`);
  const without = aPlan(aPlanDocument((d) => Object.assign(d, { gates: { errorRate: { tolerance: '1.25x' }, modelErrorRate: { tolerance: '1.25x' }, latencyP99Ms: { tolerance: 1.25 } } })));
  assert.equal(judgeSettingsOf(without)!.falseAlarmBudget, 0.01, 'a plan without prediction gates keeps the whole budget for the judge');
});

test('evidence accumulates over the step: counts, flips and slices add up across windows', () => {
  const a = predictionLook(GATE, undefined, ok(summary(100, 1)), BUDGET);
  const b = predictionLook(GATE, a.state, ok(summary(200, 3)), BUDGET);
  assert.equal(b.evidence.step.pairs, 300);
  assert.equal(b.evidence.step.disagreements, 4);
  assert.deepEqual(b.evidence.step.flips, [{ baseline: 'false', candidate: 'true', count: 4 }]);
  assert.deepEqual(b.evidence.window, { ...WINDOW, pairs: 200, disagreements: 3, joined: 200 });
  // A window that could not be read leaves the counts as they were.
  const c = predictionLook(GATE, b.state, { ok: false, window: WINDOW, problem: 'x' }, BUDGET);
  assert.equal(c.evidence.step.pairs, 300);
  assert.equal(c.evidence.window, null);
});

const ANALYSIS = aPlan().analysis;
const P = (elapsedMs: number, extensions = 0): BakeProgress => ({ elapsedMs, analyses: 3, consecutiveFailures: 0, extensions });
const ev = (status: PredictionEvidence['status'], cause?: PredictionEvidence['cause']): PredictionEvidence =>
  ({ status, ...(cause ? { cause } : {}), reason: `predictions: ${status}${cause ? ` ${cause}` : ''}` }) as PredictionEvidence;

test('the bake decision with predictions: a fail rolls back; a pass before the predictions pass waits; no data at the end goes to onInconclusive, never a pass', () => {
  const bake = { bakeMs: 60_000 };
  const passed = (p: BakeProgress) => ({ progress: p, decision: { action: 'passed' as const, reason: 'metrics fine' } });
  const rows: { name: string; in: ReturnType<typeof passed> | { progress: BakeProgress; decision: { action: 'continue'; waitMs: number } }; e: PredictionEvidence; onInconclusive?: 'extend' | 'pause' | 'rollback'; want: string }[] = [
    { name: 'fail beats a pass', in: passed(P(60_000)), e: ev('fail'), want: 'rollback: predictions: fail' },
    { name: 'fail beats a continue', in: { progress: P(10_000), decision: { action: 'continue', waitMs: 5000 } }, e: ev('fail'), want: 'rollback: predictions: fail' },
    { name: 'both pass', in: passed(P(60_000)), e: ev('pass'), want: 'passed: metrics fine; predictions: pass' },
    { name: 'early pass waits for the predictions', in: passed(P(20_000)), e: ev('inconclusive', 'too-few-pairs'), want: 'continue' },
    { name: 'undecided with enough pairs at the end: no evidence of harm', in: passed(P(60_000)), e: ev('inconclusive', 'undecided'), want: 'passed: metrics fine; no evidence of prediction disagreement above max: predictions: inconclusive undecided' },
    { name: 'too few pairs at the end: extend', in: passed(P(60_000)), e: ev('inconclusive', 'too-few-pairs'), want: 'continue' },
    { name: 'no data at the end, extensions used up: rollback', in: passed(P(60_000, ANALYSIS.maxExtensions)), e: ev('inconclusive', 'data'), want: 'rollback: analysis still inconclusive' },
    { name: 'no data at the end, pause', in: passed(P(60_000)), e: ev('inconclusive', 'data'), onInconclusive: 'pause', want: 'pause: analysis inconclusive at the end of the bake: predictions: inconclusive data' },
    { name: 'no data at the end, rollback', in: passed(P(60_000)), e: ev('inconclusive', 'data'), onInconclusive: 'rollback', want: 'rollback: analysis inconclusive at the end of the bake' },
  ];
  for (const r of rows) {
    const out = withPredictions(r.in, r.e, bake, { ...ANALYSIS, onInconclusive: r.onInconclusive ?? 'extend' });
    const d = out.decision;
    const text = d.action === 'continue' ? 'continue' : `${d.action}: ${d.reason}`;
    assert.ok(text.startsWith(r.want), `${r.name}: got ${text}`);
  }
});

test('preflight: a baseline without the collections the gates need is refused with the YAML to add; with them, the collections to read', () => {
  const none = preflightPredictions(GATE, 'blue', { collections: {}, store: { blobEndpoint: 'x', container: 'c' } });
  assert.equal(none.ok, false);
  assert.match((none as { message: string }).message, /deployment blue collects nothing \(model_inputs and model_outputs, or request and response needed\)/);
  assert.ok((none as { message: string }).message.endsWith(dataCollectorSnippet(GATE)));
  assert.match(dataCollectorSnippet(GATE), /capture_headers: \[x-ms-client-request-id\]/);
  const outputsOnly = preflightPredictions(GATE, 'blue', { collections: { model_outputs: true }, store: {} });
  assert.equal(outputsOnly.ok, false, 'slices need the inputs too');
  assert.deepEqual(preflightPredictions(GATE, 'blue', { collections: { model_outputs: true, model_inputs: true }, store: {} }), { ok: true, collections: { inputs: 'model_inputs', outputs: 'model_outputs' } });
  assert.deepEqual(predictionCollections(GATE, { request: true, response: true }), { inputs: 'request', outputs: 'response' });
  const noSlices = parsePredictionGate({ label: 'isFraud', maxDisagreement: 0.02 });
  assert.deepEqual(predictionCollections(noSlices, { model_outputs: true }), { inputs: 'model_inputs', outputs: 'model_outputs' });
  const noStore = preflightPredictions(GATE, 'blue', { collections: { model_outputs: true, model_inputs: true }, store: null, storeProblem: 'no datastore' });
  assert.match((noStore as { message: string }).message, /blob store cannot be found: no datastore/);
});

test("the candidate's spec gets the collector the gates need, and keeps what it had", () => {
  const c = { inputs: 'model_inputs', outputs: 'model_outputs' };
  const spec0 = { model: 'm' };
  const bare = withPredictionCollector(spec0, c, true);
  assert.deepEqual(bare.spec, { model: 'm', data_collector: { collections: { model_outputs: { enabled: true }, model_inputs: { enabled: true } }, request_logging: { capture_headers: ['x-ms-client-request-id'] } } });
  assert.equal(bare.added, 'added data collection to the candidate for gates.predictions: collections model_outputs, model_inputs and capture_headers x-ms-client-request-id');
  const has = { model: 'm', data_collector: { collections: { model_outputs: { enabled: true }, model_inputs: { enabled: true }, request: { enabled: true } }, sampling_rate: 0.5, request_logging: { capture_headers: ['X-MS-Client-Request-Id'] } } };
  assert.deepEqual(withPredictionCollector(has, c, true), { spec: has, added: null });
  const spec1 = { model: 'm', data_collector: { collections: { model_outputs: { enabled: true } }, sampling_rate: 0.5 } };
  const partial = withPredictionCollector(spec1, c, true);
  assert.equal(partial.spec.data_collector.sampling_rate, 0.5);
  assert.equal(partial.added, 'added data collection to the candidate for gates.predictions: collections model_inputs and capture_headers x-ms-client-request-id');
});

test('a plan with gates.predictions needs a mirror step', () => {
  const r = parsePlan(aPlanDocument((d) => Object.assign(d, { strategy: [{ canary: { percent: 50, bake: '1m' } }, { promote: {} }], gates: { predictions: { label: 'isFraud', maxDisagreement: 0.02 } } })));
  assert.equal(r.ok, false);
  assert.match(JSON.stringify(r), /needs a mirror step in the strategy/);
  const okPlan = parsePlan(aPlanDocument((d) => Object.assign(d, { gates: { predictions: { label: 'isFraud', maxDisagreement: '2%' } } })));
  assert.ok(okPlan.ok, JSON.stringify(okPlan));
  assert.equal(okPlan.ok && okPlan.plan.gates.predictions?.maxDisagreement, 0.02);
});

test('plan explain notes the prediction gate on each mirror step, with the pairs a pass needs', async () => {
  const { explain } = await import('../../domain/explain.js');
  const p = aPlan(aPlanDocument((d) => Object.assign(d, { gates: { predictions: { label: 'isFraud', maxDisagreement: '2%' } } })));
  const text = explain(p).text;
  const mirrors = p.strategy.filter((s) => s.kind === 'mirror').length;
  assert.equal(text.match(/predictions: isFraud may differ from the baseline's on at most 2% of mirrored pairs \(at least 285 pairs to pass; needs the baseline's data collection\)/g)?.length, mirrors);
  assert.ok(!explain(aPlan()).text.includes('predictions:'), 'plans without prediction gates explain as before');
});
