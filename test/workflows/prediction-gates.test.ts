/**
 * Prediction gates through the real workflow on a dev server with fake activities: a blob store that
 * cannot be read never passes (inconclusive, then onInconclusive rolls back, the reason saying why); the
 * step's prediction evidence is carried across continue-as-new (the server suggests it past 150 events);
 * canary steps do not read pairs (nothing pairs there).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import type { DeploymentMetrics, MetricsSnapshot } from '../../domain/gates.js';
import { emptySkips, pairPredictions } from '../../domain/predictions/index.js';
import type { ReadPredictionPairsInput, ReadPredictionPairsResult } from '../../activities/types.js';
import { FakeAzure, aPlanDocument, runRollout } from '../support/builders.js';
import { CONTINUE_AS_NEW_AT_150, useDevServer } from '../support/temporal.js';

const dev = useDevServer({ extraArgs: CONTINUE_AS_NEW_AT_150 });

const side = (requests: number): DeploymentMetrics => ({ requests, errorRate: 0, modelErrorRate: 0, errors5xx: 0, errors424: 0, latencyP50Ms: 40, latencyP95Ms: 80, latencyP99Ms: 120, cpuPercent: 40, memoryPercent: 50 });
const healthy = (): MetricsSnapshot => ({ windowMs: 1000, baseline: side(4000), candidate: side(1000) });

/** `compared` pairs per window, none disagreeing. */
function pairs(compared: number) {
  return (_n: number, input: ReadPredictionPairsInput): ReadPredictionPairsResult => {
    const summary = pairPredictions({ inputs: [], outputs: [] }, { inputs: [], outputs: [] }, { label: ['isFraud'] });
    summary.labels.compared = compared;
    summary.labels.classes = { baseline: { false: compared }, candidate: { false: compared } };
    summary.pairs.joined = compared;
    return {
      window: input.window,
      read: { folders: 2, missingFolders: 0, missingFolderExamples: [], blobs: 2, bytes: 1, blobsNotRead: 0, lines: compared, outsideWindow: 0, skipped: emptySkips(), units: { baseline: { inputs: 0, outputs: compared }, candidate: { inputs: 0, outputs: compared } }, elapsedMs: 1, timings: { listMs: 0, readMs: 0, parseMs: 0, pairMs: 0 } },
      summary,
    };
  };
}

function plan(strategy: unknown[], onInconclusive: 'extend' | 'rollback' = 'extend') {
  return aPlanDocument((d) => {
    d.strategy = strategy as never;
    d.analysis = { interval: '1s', failureLimit: 2, minRequests: 100, onInconclusive, maxExtensions: 1 };
    d.gates = { errorRate: { max: 0.05 }, predictions: { label: 'isFraud', maxDisagreement: 0.02 } } as never;
  });
}

test('a blob store that cannot be read makes every analysis inconclusive and the rollout rolls back at the end of the bake: never a pass', async () => {
  const fake = new FakeAzure();
  fake.metrics = () => healthy();
  fake.predictionPairs = () => {
    throw ApplicationFailure.create({ type: 'CollectedDataUnavailable', message: "listing modelDataCollector/… in container 'c' failed (forbidden, HTTP 403)", nonRetryable: true });
  };
  const r = await runRollout(dev.env, { fake, plan: plan([{ mirror: { percent: 20, bake: '3s' } }, { promote: { rollbackWindow: '1s' } }]), workflowBundle: dev.bundle });
  assert.equal(r.result.outcome, 'rolled_back', r.result.reason);
  assert.match(r.result.reason, /analysis still inconclusive after 1 extension\(s\) of 1s \(maxExtensions 1\): predictions: .*inconclusive: collected data unavailable \(.*forbidden, HTTP 403/);
  const mirror = r.result.verdicts.filter((v) => v.stepIndex === 0);
  assert.ok(mirror.length >= 3 && mirror.every((v) => v.status === 'inconclusive' && v.predictions?.status === 'inconclusive'), JSON.stringify(mirror.map((v) => v.status)));
});

test('the step’s prediction evidence is carried across continue-as-new; the continued run reads the store again; the canary reads no pairs', async () => {
  const fake = new FakeAzure();
  fake.metrics = () => healthy();
  fake.predictionPairs = pairs(10); // 10 agreeing pairs per window: the test needs ≥ 285 to pass
  const r = await runRollout(dev.env, { fake, plan: plan([{ mirror: { percent: 20, bake: '30s' } }, { canary: { percent: 10, bake: '3s' } }, { promote: { rollbackWindow: '1s' } }]), workflowBundle: dev.bundle });
  assert.equal(r.result.outcome, 'promoted', r.result.reason);
  let runs = 0;
  for await (const _ of dev.env.client.workflow.list({ query: `WorkflowId = '${r.handle.workflowId}'` })) runs++;
  assert.ok(runs >= 2, `the rollout continued as new during the bake (runs: ${runs})`);
  const mirror = r.result.verdicts.filter((v) => v.stepIndex === 0);
  const last = mirror.at(-1)!.predictions!;
  assert.equal(last.step.pairs, 10 * mirror.length, 'every window counted once, across runs');
  assert.equal(last.status, 'pass', last.reason);
  assert.equal(fake.count('readPredictionPairs'), mirror.length, 'one read per mirror analysis, none in the canary');
  assert.ok(fake.count('readDataCollection') >= 2, 'preflight read the baseline’s collection, and the continued run read it again');
  assert.ok(r.result.verdicts.filter((v) => v.stepIndex === 1).every((v) => !v.predictions), 'no prediction evidence in the canary');
});
