/**
 * Issue 13, finding 6: histories are bounded. On a dev server that terminates any run past 400 history
 * events (and suggests continue-as-new past 150), a valid plan whose bake alone needs ~500 events, with a
 * flood of refused approve signals on top, ends with its normal outcome: the rollout continues as new
 * runs (same workflow id) carrying its state and step, and no run comes near the limit.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { RolloutStatus } from '../../domain/rollout.js';
import * as messages from '../../workflows/messages.js';
import { FakeAzure, aPlanDocument, people, runRollout } from '../support/builders.js';
import { createDevEnv, workflowBundle } from '../support/temporal.js';

const HISTORY_LIMIT = 400;
let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
before(async () => {
  env = await createDevEnv({
    extraArgs: [
      '--dynamic-config-value', `limit.historyCount.error=${HISTORY_LIMIT}`,
      '--dynamic-config-value', 'limit.historyCount.warn=300',
      '--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=150',
    ],
  });
  bundle = await workflowBundle();
});
after(async () => {
  await env?.teardown();
});

test('a 40-analysis bake and 300 refused signals on a server that ends runs at 400 events: the rollout continues as new runs and is promoted', async () => {
  const fake = new FakeAzure();
  let flooded = 0;
  let flood: Promise<void> | undefined;
  fake.hooks.onMetrics = (_, { handle, n }) => {
    if (n !== 2) return;
    // Anyone with namespace access can send signals; each refused one used to be stored and notified in full.
    // Sent while the rollout bakes (not from inside this activity, which the workflow waits on).
    flood = (async () => {
      const started = Date.now();
      // 300 signals in bursts of 10: a steady flood (a single burst larger than the server's limit would end
      // any run at once, whatever the workflow does — that bound is Temporal's, at 51,200 events by default).
      for (let batch = 0; batch < 30; batch++) {
        await Promise.all(Array.from({ length: 10 }, () => handle.signal(messages.approveSignal, { by: people.stranger, stepIndex: 0 })));
        flooded += 10;
        await new Promise((r) => setTimeout(r, 300));
      }
      console.log(`# 300 signals sent in ${Date.now() - started} ms`);
    })();
  };
  let status: RolloutStatus | undefined;
  fake.hooks.onNotify = async (n, { handle }) => {
    if (n.kind === 'finished') status = await handle.query(messages.status); // while a worker still runs
  };
  const plan = aPlanDocument((d) => {
    d.strategy = [{ mirror: { percent: 20, bake: '40s' } }, { promote: { rollbackWindow: '2s' } }, { retire: {} }];
    d.analysis = { interval: '1s', failureLimit: 2, minRequests: 100, onInconclusive: 'extend', maxExtensions: 1 };
    delete d.gates.webhook;
  });
  const r = await runRollout(env, { fake, plan, workflowBundle: bundle });
  await flood;
  assert.equal(r.result.outcome, 'promoted', r.result.reason);
  assert.equal(flooded, 300);

  // Walk the chain of runs: every run but the last continued as new, and none came near the limit.
  const lengths: number[] = [];
  for await (const run of env.client.workflow.list({ query: `WorkflowId = '${r.handle.workflowId}'` })) {
    const history = await env.client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
    lengths.push(history.events?.length ?? 0);
  }
  assert.ok(lengths.length >= 3, `the rollout continued as new at least twice (runs: ${lengths.length}, events: ${lengths.join(', ')})`);
  assert.ok(Math.max(...lengths) < HISTORY_LIMIT, `every run stays under ${HISTORY_LIMIT} events: ${lengths.join(', ')}`);
  assert.ok(lengths.reduce((a, b) => a + b, 0) > HISTORY_LIMIT, 'in one run this rollout would have been terminated');

  // The state travelled: every analysis of the bake, the refusals counted (the newest kept), one deployment, traffic set once per step.
  const mirrorVerdicts = r.result.verdicts.filter((v) => v.stepIndex === 0);
  assert.ok(mirrorVerdicts.length >= 38 && mirrorVerdicts.length <= 42, `the bake's analyses carried across runs: ${mirrorVerdicts.length}`);
  assert.deepEqual(mirrorVerdicts.map((v) => v.analysis), mirrorVerdicts.map((_, i) => i + 1), 'analyses numbered without gaps or repeats');
  assert.equal(fake.count('ensureDeployment'), 1, 'the candidate was deployed once');
  assert.equal(fake.trafficWrites.length, 2, 'mirror then promote: each traffic change once');
  assert.equal(status?.refusedCount, 300);
  assert.equal(status?.refusals.length, 20, 'the newest 20 refusals kept in full');
  assert.ok((status?.runs ?? 1) >= 3, `the status says which run this is: ${status?.runs}`);
  assert.equal(fake.notifications.filter((n) => n.kind === 'refused').length, 20, 'people are told about the first 20 refusals, not 300');
  assert.equal(fake.notifications.filter((n) => n.kind === 'started').length, 1, 'one rollout, started once');
});
