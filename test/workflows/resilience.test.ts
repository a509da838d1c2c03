/**
 * Rollouts that outlive their worker, refuse a twin, survive cancellation, and refuse bad input before
 * touching anything.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { rolloutWorkflowId } from '../../domain/ids.js';
import type { RolloutStatus } from '../../domain/rollout.js';
import { normalizeTraffic } from '../../domain/traffic.js';
import * as messages from '../../workflows/messages.js';
import {
  FakeAzure,
  RolloutAlreadyRunningError,
  aPlan,
  aPlanDocument,
  anEndpoint,
  people,
  runRollout,
  startRollout,
  uniqueEndpointName,
} from '../support/builders.js';
import { useTimeSkippingEnv } from '../support/suite.js';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
useTimeSkippingEnv((e, b) => ([env, bundle] = [e, b]));

/** The failure a failed workflow ended with (its cause). */
async function failureOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${String(err)}`);
    return err.cause as Error;
  }
  assert.fail('the workflow did not fail');
}

/** Polls the status query until `ok` (time does not skip meanwhile: nobody awaits a result). */
async function untilStatus(handle: { query: (q: typeof messages.status) => Promise<RolloutStatus> }, ok: (s: RolloutStatus) => boolean): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (ok(await handle.query(messages.status))) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('status never matched');
}

describe('one rollout per endpoint', () => {
  test('a second rollout on the same endpoint is refused with an error that names the running one', async () => {
    const endpoint = uniqueEndpointName('twin');
    const plan = aPlanDocument((d) => (d.target.endpoint = endpoint));
    const taskQueue = `tq-${endpoint}`;
    // A worker runs the first rollout into its mirror bake (time does not skip while we do not await a result).
    // (Without a worker the Java test server keeps time skipping locked on the unstarted workflow task,
    // even after termination, and every later test in the file would wait in real time.)
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: new FakeAzure().activities() });
    await worker.runUntil(async () => {
      const first = await startRollout(env.client, { plan, startedBy: people.starter, taskQueue });
      assert.equal(first.workflowId, rolloutWorkflowId({ ...aPlan(plan).target }));
      const firstRun = (await first.describe()).runId;
      await assert.rejects(
        startRollout(env.client, { plan: aPlanDocument((d) => ((d.target.endpoint = endpoint), (d.candidate.name = 'red'))), startedBy: 'bob@contoso.com', taskQueue }),
        (err: unknown) => {
          assert.ok(err instanceof RolloutAlreadyRunningError);
          assert.equal(err.workflowId, first.workflowId);
          assert.equal(err.runId, firstRun);
          assert.equal(
            err.message,
            `a rollout is already running on endpoint ${endpoint}: workflow ${first.workflowId} (run ${firstRun}) — Roll out green (azureml:fraud-detector:2) to ${endpoint}, started by ci@contoso.com; wait for it to finish, or abort it first`,
          );
          return true;
        },
      );
      // The same endpoint written with another case is the same resource, so the same rollout.
      await assert.rejects(
        startRollout(env.client, { plan: aPlanDocument((d) => ((d.target.endpoint = endpoint), (d.target.resourceGroup = 'ML-PROD'))), startedBy: 'bob@contoso.com', taskQueue }),
        RolloutAlreadyRunningError,
      );
      // Terminate only once it sleeps in its bake: terminating while an activity runs leaves the Java
      // test server's time skipping locked for the rest of the file.
      await untilStatus(first, (st) => st.stage === 'mirror' && st.traffic?.mirror.green === 20);
      await first.terminate('test over');
    });
  });
});

describe('durability', () => {
  test('a worker stopped mid-bake and a new one started finishes the rollout without repeating completed activities', async () => {
    const fake = new FakeAzure();
    fake.client = env.client;
    fake.hooks.onNotify = async (n, { handle }) => {
      if (n.kind === 'approval_requested') await handle.executeUpdate(messages.approve, { args: [{ by: people.approver, stepIndex: n.approval!.stepIndex }] });
    };
    const plan = aPlanDocument((d) => (d.target.endpoint = uniqueEndpointName('restart')));
    const taskQueue = `tq-restart-${process.pid}`;
    const handle = await startRollout(env.client, { plan, startedBy: people.starter, taskQueue });

    // Worker 1 runs until the rollout is baking the mirror (time is not skipped while we only query).
    // No sticky cache: the Java test server does not time out a dead worker's sticky queue, so a
    // cached workflow would wait for worker 1 forever. Worker 2 must rebuild it from the history anyway.
    const w1 = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: fake.activities(), maxCachedWorkflows: 0 });
    await w1.runUntil(untilStatus(handle, (st) => st.stage === 'mirror' && st.traffic?.mirror.green === 20));
    const before = fake.calls.length;
    assert.equal(fake.count('ensureDeployment'), 1);
    assert.equal(fake.count('setEndpointTraffic'), 1);

    // Worker 2 (a new process in real life: same code, no memory of worker 1) finishes it.
    const w2 = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: fake.activities() });
    const result = await w2.runUntil(handle.result());
    assert.equal(result.outcome, 'promoted', result.reason);
    assert.ok(fake.calls.length > before);
    for (const name of ['checkModelExists', 'ensureDeployment'] as const) assert.equal(fake.count(name), 1, `${name} ran once`);
    assert.equal(fake.count('setEndpointTraffic'), 4, 'mirror, 10%, 50%, 100%: each once');
    assert.ok(fake.calls.every((c) => c.attempt === 1), 'no activity was retried');
    assert.equal(fake.notifications.filter((n) => n.kind === 'started').length, 1);
  });
});

describe('cancellation and bad input', () => {
  test('cancelling the workflow during a canary still rolls back (non-cancellable), then ends cancelled', async () => {
    const fake = new FakeAzure();
    fake.client = env.client;
    fake.hooks.onNotify = async (n, { handle }) => {
      if (n.kind === 'approval_requested') await handle.executeUpdate(messages.approve, { args: [{ by: people.approver, stepIndex: n.approval!.stepIndex }] });
    };
    fake.hooks.onMetrics = async (_, { handle, n }) => {
      if (n === 35) await handle.cancel();
    };
    const plan = aPlanDocument((d) => (d.target.endpoint = uniqueEndpointName('cancel')));
    const taskQueue = `tq-${plan.target.endpoint}`;
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: fake.activities() });
    const err = await worker.runUntil(async () => {
      const handle = await startRollout(env.client, { plan, startedBy: people.starter, taskQueue });
      return failureOf(handle.result());
    });
    assert.ok(err instanceof CancelledFailure, `ended cancelled, got ${String(err)}`);
    assert.deepEqual(normalizeTraffic(fake.endpoint.traffic), { live: { blue: 100 }, mirror: {} }, 'rolled back before ending');
    assert.ok(fake.lastChangeWasRollbackTo('blue'), 'the last traffic change was the rollback, confirmed by its read-back');
    assert.ok(fake.notifications.some((n) => n.kind === 'rolled_back'));
  });

  test('an invalid plan fails the workflow with InvalidPlan and the paths of the bad fields, touching nothing', async () => {
    const fake = new FakeAzure();
    const bad = aPlanDocument((d) => (d.strategy[3].canary.percent = 0));
    const { ApplicationFailure: AF } = await import('@temporalio/common');
    // The client helper refuses it too; start the workflow directly to prove the workflow does not trust its input.
    const taskQueue = `tq-${uniqueEndpointName('invalid')}`;
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: fake.activities() });
    const err = await worker.runUntil(
      failureOf(env.client.workflow.execute('safeRollout', { taskQueue, workflowId: taskQueue, args: [{ plan: bad, startedBy: people.starter }] })),
    );
    assert.ok(err instanceof AF);
    assert.equal(err.type, 'InvalidPlan');
    assert.match(err.message, /strategy\[3\]\.canary\.percent: must be 1\.\.100/);
    assert.equal(fake.calls.length, 0);
  });

  const preflight: [string, (f: FakeAzure) => void, string, RegExp][] = [
    ['a model that does not exist', (f) => (f.modelExists = false), 'ModelNotFound', /model azureml:fraud-detector:2 does not exist in workspace fraud-prod/],
    ['a baseline that does not hold 100%', (f) => (f.endpoint = anEndpoint({ traffic: { live: { blue: 90, red: 10 }, mirror: {} } })), 'NoBaseline', /baseline blue does not hold 100% of live traffic \(blue 90% \| red 10% \| mirror 0%\)/],
    ['an endpoint still provisioning', (f) => (f.endpoint = anEndpoint({ provisioningState: 'Updating' })), 'EndpointNotReady', /is Updating, not Succeeded/],
  ];
  for (const [what, arrange, type, message] of preflight) {
    test(`preflight refuses ${what} with ${type}, before creating anything`, async () => {
      const fake = new FakeAzure();
      arrange(fake);
      const err = await failureOf(runRollout(env, { fake, workflowBundle: bundle }));
      assert.ok(err instanceof ApplicationFailure, String(err));
      assert.equal(err.type, type);
      assert.match(err.message, message);
      assert.equal(fake.count('ensureDeployment'), 0);
      assert.equal(fake.count('setEndpointTraffic'), 0);
    });
  }

  test('preflight refuses a candidate that breaks the plan policies', async () => {
    const fake = new FakeAzure();
    const err = await failureOf(runRollout(env, { fake, workflowBundle: bundle, plan: aPlanDocument((d) => (d.candidate.deployment.egress_public_network_access = 'enabled')) }));
    assert.ok(err instanceof ApplicationFailure);
    assert.equal(err.type, 'PolicyViolation');
    assert.match(err.message, /candidate\.deployment\.egress_public_network_access: must be disabled/);
    assert.equal(fake.calls.filter((c) => c.name !== 'notify').length, 0);
  });

  test('preflight refuses a candidate with a local model folder (started without the CLI), before any Azure call', async () => {
    const fake = new FakeAzure();
    const plan = aPlanDocument((d) => (d.candidate.deployment.model = { path: './model', type: 'mlflow_model' }));
    const err = await failureOf(runRollout(env, { fake, workflowBundle: bundle, plan }));
    assert.ok(err instanceof ApplicationFailure);
    assert.equal(err.type, 'InvalidPlan');
    assert.match(err.message, /must be uploaded and registered first: candidate\.deployment\.model\.path: \.\/model/);
    assert.equal(fake.calls.filter((c) => c.name !== 'notify').length, 0);
  });
});
