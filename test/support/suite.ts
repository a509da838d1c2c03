// Per-file test environments, registered as node:test hooks (kept apart from temporal.ts, which benches import too).
import { after, before } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createTimeSkippingEnv, workflowBundle } from './temporal.js';

/**
 * Gives a test file its one time-skipping environment and the rollout workflow bundle: made before the
 * file's tests (handed to `use`), torn down after them.
 */
export function useTimeSkippingEnv(use: (env: TestWorkflowEnvironment, bundle: WorkflowBundleWithSourceMap) => void): void {
  let env: TestWorkflowEnvironment | undefined;
  before(async () => {
    env = await createTimeSkippingEnv();
    use(env, await workflowBundle());
  });
  after(async () => {
    await env?.teardown();
  });
}
