// Prediction gates end to end: the real safeRollout workflow (Temporal dev server) with the real activities
// and the unmodified Azure SDK against the emulator, whose deployments write Azure ML data-collector JSONL
// into Azurite; the traffic generator sends transactions while each rollout mirrors 50% to its candidate.
// The baseline collects model_inputs/model_outputs (sent raw: SDK 2.1.1 drops dataCollector); the candidate's
// spec has no collector, so the workflow adds it. Three rollouts, one endpoint each:
//   fraud-detector:5 (badly fit) vs :2 → rolled back in the mirror on prediction disagreement, no live traffic;
//   fraud-detector:2 vs :1 (agree on ~99.7%) → promoted with the prediction gates on;
//   fraud-detector:2 vs an identical :2 → passes (0 disagreements).
// And preflight refuses a baseline that collects nothing, saying what to add.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import type { PlanDocument } from '../../domain/plan.js';
import type { SafeRolloutResult } from '../../domain/rollout.js';
import { generateTraffic } from '../../emulator/index.js';
import { aRawDeployment, anEndpointWith, RG, setTraffic, SUB, WS } from '../emulator/support.js';
import { startRollout } from '../support/builders.js';
import { useEmulatorWithBlobs } from '../support/emulator-with-blobs.js';
import { uniqueName } from '../support/temporal.js';

const rig = useEmulatorWithBlobs({ provisionTimeMs: 300 });

const COLLECTOR = {
  collections: { model_inputs: { dataCollectionMode: 'Enabled' }, model_outputs: { dataCollectionMode: 'Enabled' } },
  requestLogging: { captureHeaders: ['x-ms-client-request-id'] },
};

/** An endpoint whose `blue` (model `baseline`) serves 100%, collecting its inputs and outputs when `collect`. */
async function endpointWithBaseline(endpoint: string, baseline: string, collect: boolean): Promise<string> {
  const key = await anEndpointWith(rig.arm, endpoint, {});
  await aRawDeployment(rig.emu, endpoint, 'blue', {
    model: baseline,
    requestSettings: { maxConcurrentRequestsPerInstance: 16, requestTimeout: 'PT5S' },
    ...(collect ? { dataCollector: COLLECTOR } : {}),
  });
  await setTraffic(rig.arm, endpoint, { blue: 100 });
  return key;
}

function plan(endpoint: string, candidateModel: string): PlanDocument {
  return {
    apiVersion: 'glidepath/v1',
    kind: 'Rollout',
    target: { subscriptionId: SUB, resourceGroup: RG, workspace: WS, endpoint },
    baseline: 'blue',
    candidate: { name: 'green', deployment: { model: candidateModel, instance_type: 'Standard_DS3_v2', instance_count: 1, request_settings: { max_concurrent_requests_per_instance: 16 } } },
    strategy: [{ mirror: { percent: 50, bake: '12s' } }, { promote: { rollbackWindow: '1s' } }],
    analysis: { interval: '3s', failureLimit: 2, minRequests: 5, onInconclusive: 'extend', maxExtensions: 8 },
    // Fixed guardrails only (no judged gate): the disagreement test has the whole budget α = 0.01.
    gates: {
      errorRate: { max: 0.05 },
      modelErrorRate: { max: 0.05 },
      predictions: { label: 'isFraud', score: 'fraudProbability', maxDisagreement: 0.02, slices: ['merchantCategory'] },
    },
  } as PlanDocument;
}

/** Runs one rollout of `candidateModel` against a `baselineModel` baseline under traffic; returns its result (or the failure). */
async function rollout(taskQueue: string, name: string, baselineModel: string, candidateModel: string, collect = true): Promise<SafeRolloutResult | WorkflowFailedError> {
  const endpoint = uniqueName(name).toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 30).replace(/-+$/, '');
  const key = await endpointWithBaseline(endpoint, baselineModel, collect);
  const stop = new AbortController();
  const traffic = generateTraffic({ url: rig.emu.url, endpoint, key, rps: 50, durationMs: 120_000, seed: 11, caCertPem: rig.emu.caCertPem, signal: stop.signal });
  try {
    const handle = await startRollout(rig.env.client, { plan: plan(endpoint, candidateModel), startedBy: 'ci@contoso.com', taskQueue });
    return await Promise.race([
      handle.result().catch((err: unknown) => {
        if (err instanceof WorkflowFailedError) return err;
        throw err;
      }),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${name}: no outcome after 120 s`)), 120_000).unref()),
    ]);
  } finally {
    stop.abort();
    await traffic;
  }
}

const predictionVerdicts = (r: SafeRolloutResult) => r.verdicts.filter((v) => v.predictions);

test('prediction gates on the emulator: a badly fit model is rolled back in the mirror, a good one and an identical one are promoted, a baseline without collection is refused', { timeout: 10 * 60_000 }, async () => {
  const taskQueue = uniqueName('predictions');
  const worker = await rig.worker(taskQueue);
  await worker.runUntil(async () => {
    // 1. fraud-detector:5 disagrees with :2 on about a third of the labels.
    const wrong = await rollout(taskQueue, 'pred-wrong', 'azureml:fraud-detector:2', 'azureml:fraud-detector:5');
    assert.ok(!(wrong instanceof Error), String(wrong));
    assert.equal(wrong.outcome, 'rolled_back', wrong.reason);
    assert.match(wrong.reason, /^step 1 \(mirror 50%\): predictions: disagreement \d+\.\d% \([\d,]+\/[\d,]+ pairs\) > 2% · isFraud false→true [\d,]+/);
    assert.equal(wrong.rollback?.confirmed, true);
    assert.deepEqual(wrong.timeline.filter((e) => e.kind === 'traffic' && /green [1-9]\d*%/.test(e.text.replace(/mirror \d+% → green/, ''))), [], 'green never had live traffic');
    assert.ok(wrong.timeline.some((e) => /added data collection to the candidate for gates\.predictions: collections model_outputs, model_inputs/.test(e.text)), 'the status says the collector was added');
    const failed = predictionVerdicts(wrong).at(-1)!.predictions!;
    assert.equal(failed.status, 'fail');
    assert.ok(failed.step.disagreements / failed.step.pairs > 0.15, `disagreement ${failed.step.disagreements}/${failed.step.pairs}`);
    assert.ok(failed.step.flips.some((f) => f.baseline === 'false' && f.candidate === 'true'));

    // 2. fraud-detector:2 vs :1: they agree on ~99.7% of transactions; promoted with the gates on.
    const good = await rollout(taskQueue, 'pred-good', 'azureml:fraud-detector:1', 'azureml:fraud-detector:2');
    assert.ok(!(good instanceof Error), String(good));
    assert.equal(good.outcome, 'promoted', good.reason);
    const goodLast = predictionVerdicts(good).at(-1)!.predictions!;
    assert.notEqual(goodLast.status, 'fail');
    assert.ok(goodLast.step.pairs >= goodLast.test.pairsToPass, `${goodLast.step.pairs} pairs compared (≥ ${goodLast.test.pairsToPass} needed to pass)`);
    assert.ok(good.timeline.some((e) => /step 1 \(mirror 50%\) passed: .*predictions: disagreement/.test(e.text)), 'the step passed with the predictions in its reason');

    // 3. The same model on both sides: no disagreement at all, the test passes.
    const same = await rollout(taskQueue, 'pred-same', 'azureml:fraud-detector:2', 'azureml:fraud-detector:2');
    assert.ok(!(same instanceof Error), String(same));
    assert.equal(same.outcome, 'promoted', same.reason);
    const sameLast = predictionVerdicts(same).at(-1)!.predictions!;
    assert.equal(sameLast.status, 'pass', sameLast.reason);
    assert.equal(sameLast.step.disagreements, 0);
    assert.match(sameLast.reason, /disagreement 0\.0% \(0\/[\d,]+ pairs\) < 2%/);

    // 4. A baseline that collects nothing: refused at preflight with the YAML to add; nothing deployed.
    const refused = await rollout(taskQueue, 'pred-nocollect', 'azureml:fraud-detector:1', 'azureml:fraud-detector:2', false);
    assert.ok(refused instanceof WorkflowFailedError, `expected a refusal, got ${JSON.stringify(refused)}`);
    const message = String((refused.cause as Error | undefined)?.message ?? refused.message);
    assert.match(message, /deployment blue collects nothing/);
    assert.match(message, /data_collector:\n {2}collections:\n {4}model_inputs:\n {6}enabled: 'True'\n {4}model_outputs:/);
  });
});
