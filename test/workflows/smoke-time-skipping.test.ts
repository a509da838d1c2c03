// Foundation smoke test: the Java time-skipping test server (from Maven Central, see
// scripts/ensure-temporal.sh) skips a 24-hour timer in a few seconds of wall time.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createTimeSkippingEnv, repoRoot, uniqueName, workflowBundle } from '../support/temporal.js';
import { sleepsADay } from '../fixtures/smoke/workflows.js';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await createTimeSkippingEnv();
});
after(async () => {
  await env?.teardown();
});

test('a workflow sleeps 24 hours of workflow time in under 10 seconds of wall time', async () => {
  const taskQueue = uniqueName('smoke-ts');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(join(repoRoot, 'test/fixtures/smoke/workflows.ts')),
  });
  const wallStart = Date.now();
  const workflowMs = await worker.runUntil(
    env.client.workflow.execute(sleepsADay, { taskQueue, workflowId: uniqueName('sleeps-a-day') }),
  );
  const wallMs = Date.now() - wallStart;
  assert.ok(workflowMs >= 24 * 3600_000, `workflow time passed: ${workflowMs} ms`);
  assert.ok(wallMs < 10_000, `wall time: ${wallMs} ms`);
  console.log(`# slept ${workflowMs / 3600_000} h of workflow time in ${wallMs} ms of wall time`);
});
