/**
 * Rollouts of judged plans (gates with tolerances) through the real workflow on a dev server with fake
 * activities: a candidate with 50× the errors rolls back on the judge's first look; a healthy candidate
 * with `bake: { min, max }` passes the step early; the judge's evidence survives continue-as-new (the
 * server suggests it past 150 events, and the bake's evidence keeps growing across runs).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPayloadConverter } from '@temporalio/common';
import type { DeploymentMetrics, MetricsSnapshot } from '../../domain/gates.js';
import { FakeAzure, aPlanDocument, runRollout } from '../support/builders.js';
import { CONTINUE_AS_NEW_AT_150, useDevServer } from '../support/temporal.js';

const dev = useDevServer({ extraArgs: CONTINUE_AS_NEW_AT_150 });

function side(requests: number, errors5xx: number, latencyMs = 40): DeploymentMetrics {
  return { requests, errorRate: errors5xx / requests, modelErrorRate: 0, errors5xx, errors424: 0, latencyP50Ms: latencyMs, latencyP95Ms: latencyMs * 2, latencyP99Ms: latencyMs * 3, cpuPercent: 40, memoryPercent: 50 };
}
const snapshot = (baseline: DeploymentMetrics, candidate: DeploymentMetrics): MetricsSnapshot => ({ windowMs: 1000, baseline, candidate });

/** A judged plan: mirror (bake as given), promote, retire; analyses every second. */
function judgedPlan(bake: unknown, gates?: Record<string, unknown>) {
  return aPlanDocument((d) => {
    d.strategy = [{ mirror: { percent: 20, bake } }, { promote: { rollbackWindow: '1s' } }, { retire: {} }];
    d.analysis = { interval: '1s', failureLimit: 2, minRequests: 100, onInconclusive: 'extend', maxExtensions: 1 };
    if (gates) d.gates = gates;
    else delete d.gates; // the defaults: judged 5xx, 424, p50, p99
  });
}

test('the default (judged) gates roll back a candidate with 50× the errors at the first analysis, quoting the judge', async () => {
  const fake = new FakeAzure();
  fake.metrics = () => snapshot(side(4000, 4), side(1000, 50));
  const r = await runRollout(dev.env, { fake, plan: judgedPlan('30s'), workflowBundle: dev.bundle });
  assert.equal(r.result.outcome, 'rolled_back', r.result.reason);
  assert.match(r.result.reason, /step 1 \(mirror 20%\): the judge found the candidate worse than its tolerance after 1s with 1 analysis: 5xx: candidate 50\/1,000 \(5%\) vs baseline 4\/4,000 \(0\.1%\)/);
  const v = r.result.verdicts.at(-1)!;
  assert.equal(v.status, 'fail');
  assert.equal(v.judgement?.status, 'fail');
  assert.deepEqual(v.judgement?.gates.map((g) => [g.gate, g.status]), [['5xx', 'fail'], ['424', 'inconclusive'], ['latency p50', 'inconclusive'], ['latency p99', 'inconclusive']]);
  assert.equal(fake.count('getMetricsSnapshot'), 1, 'no second analysis: the judge is sticky and acts at once');
});

test('a healthy candidate with bake { min: 3s, max: 2m } passes the step early once the judge has passed every gate', async () => {
  const fake = new FakeAzure();
  fake.metrics = () => snapshot(side(4000, 4), side(1000, 1));
  const r = await runRollout(dev.env, { fake, plan: judgedPlan({ min: '3s', max: '2m' }), workflowBundle: dev.bundle });
  assert.equal(r.result.outcome, 'promoted', r.result.reason);
  const passed = r.result.timeline.find((e) => e.kind === 'step' && /step 1 \(mirror 20%\) passed/.test(e.text));
  assert.match(passed?.text ?? '', /passed early after \d+s with (\d+) analyses \(bake min 3s\)/);
  const analyses = r.result.verdicts.filter((v) => v.stepIndex === 0);
  assert.ok(analyses.length < 60, `ended well before the 2m max: ${analyses.length} analyses`);
  assert.equal(analyses.at(-1)?.judgement?.status, 'pass');
  assert.ok(analyses.slice(0, -1).every((v) => v.judgement?.status !== 'pass'), 'it ended at the first pass');
  // The Temporal UI: from the second analysis on, the metrics activity's summary names the previous verdict.
  const first = dev.env.client.workflow.getHandle(r.handle.workflowId, (r.handle as unknown as { firstExecutionRunId: string }).firstExecutionRunId);
  const summaries = ((await first.fetchHistory()).events ?? [])
    .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'getMetricsSnapshot' && e.userMetadata?.summary)
    .map((e) => defaultPayloadConverter.fromPayload<string>(e.userMetadata!.summary!));
  assert.ok(summaries.length >= 2, `metrics activities in the first run: ${summaries.length}`);
  assert.doesNotMatch(summaries[0]!, /last:/, 'the first analysis has no previous verdict');
  assert.match(summaries[1]!, /^metrics \S+ vs \S+ over 1s · last: inconclusive · .*to fail/);
});

test('the judge’s evidence for a step is carried across continue-as-new and starts afresh in the next step', async () => {
  const fake = new FakeAzure();
  // No errors on either side and a pure-ratio tolerance: the judge stays undecided, counting every window.
  fake.metrics = () => snapshot(side(4000, 0), side(1000, 0));
  const plan = aPlanDocument((d) => {
    d.strategy = [{ mirror: { percent: 20, bake: '30s' } }, { canary: { percent: 10, bake: '3s' } }, { promote: { rollbackWindow: '1s' } }, { retire: {} }];
    d.analysis = { interval: '1s', failureLimit: 2, minRequests: 100, onInconclusive: 'extend', maxExtensions: 1 };
    d.gates = { errorRate: { tolerance: '1.5x' } };
  });
  const r = await runRollout(dev.env, { fake, plan, workflowBundle: dev.bundle });
  assert.equal(r.result.outcome, 'promoted', r.result.reason);
  let runs = 0;
  for await (const _ of dev.env.client.workflow.list({ query: `WorkflowId = '${r.handle.workflowId}'` })) runs++;
  assert.ok(runs >= 2, `the rollout continued as new during the bake (runs: ${runs})`);
  const mirror = r.result.verdicts.filter((v) => v.stepIndex === 0);
  assert.ok(mirror.length >= 28, `${mirror.length} analyses`);
  assert.deepEqual(mirror.map((v) => v.judgement?.gates[0]?.windows), mirror.map((_, i) => i + 1), 'every window counted once, across runs');
  assert.equal(mirror.at(-1)!.judgement!.gates[0]!.totals.candidateRequests, mirror.length * 1000);
  assert.match(r.result.timeline.find((e) => /step 1 \(mirror 20%\) passed/.test(e.text))!.text, /no evidence of harm \(could detect 5xx/);
  const canary = r.result.verdicts.filter((v) => v.stepIndex === 1);
  assert.equal(canary[0]?.judgement?.gates[0]?.windows, 1, 'the next step starts with no evidence');
});
