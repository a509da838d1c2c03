// Foundation smoke test: a workflow runs on a real `temporal server start-dev` process started from the
// binary scripts/ensure-temporal.sh provides, with an update, a query and a Glidepath search attribute.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createDevEnv, repoRoot, temporalCliVersion, uniqueName, workflowBundle } from '../support/temporal.js';
import { finishUpdate, stageQuery, waitsForFinish } from '../fixtures/smoke/workflows.js';
import { GlidepathStage } from '../../workflows/search-attributes.js';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await createDevEnv();
});
after(async () => {
  await env?.teardown();
});

test('the dev server binary is the Temporal CLI v1.5.1', () => {
  assert.match(temporalCliVersion(), /^temporal version 1\.5\.1 /);
});

test('a workflow on the dev server takes an update, answers a query and carries a Glidepath search attribute', async () => {
  const taskQueue = uniqueName('smoke');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(join(repoRoot, 'test/fixtures/smoke/workflows.ts')),
  });
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.start(waitsForFinish, { taskQueue, workflowId: uniqueName('smoke-wf') });
    assert.equal(await handle.query(stageQuery), 'waiting');
    await assert.rejects(handle.executeUpdate(finishUpdate, { args: [''] }), (err: Error) => {
      assert.match(String((err.cause as Error | undefined)?.message), /who is required/); // the validator's refusal
      return true;
    });
    assert.equal(await handle.executeUpdate(finishUpdate, { args: ['alice'] }), 'finished by alice');
    assert.equal(await handle.result(), 'done: alice');
    const description = await handle.describe();
    assert.equal(description.typedSearchAttributes.get(GlidepathStage), 'smoke-waiting');
  });
});
