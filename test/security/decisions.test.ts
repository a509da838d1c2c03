/**
 * Issue 13, findings 3–5, on real workflows (time-skipping server, fake Azure):
 * - two decisions queued for one step while no worker runs: the first stands, the second is refused;
 * - resume is not approval: a stranger cannot resume a gate's pause; an approver's resume is recorded;
 *   `onTimeout: pause` means what README says (approve, reject, or an approver's resume, which approves);
 * - a plan with the longest durations a plan may have runs (no timer arithmetic throws).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { defaultRuntime, main, type CliRuntime } from '../../client/cli.js';
import type { RolloutStatus } from '../../domain/rollout.js';
import * as messages from '../../workflows/messages.js';
import type { safeRollout } from '../../workflows/index.js';
import { FakeAzure, aPlanDocument, metricsFor, people, runRollout, startRollout, uniqueEndpointName } from '../support/builders.js';
import { useTimeSkippingEnv } from '../support/suite.js';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
useTimeSkippingEnv((e, b) => ([env, bundle] = [e, b]));

/** Polls the status query until `ok` (time is not skipped while we only query). */
async function untilStatus(handle: WorkflowHandle<typeof safeRollout>, ok: (s: RolloutStatus) => boolean): Promise<RolloutStatus> {
  for (let i = 0; i < 400; i++) {
    const s = await handle.query(messages.status).catch(() => undefined);
    if (s && ok(s)) return s;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('status never matched');
}

/** The refusal message of an update, or 'accepted'. */
async function answer(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'accepted';
  } catch (err) {
    assert.ok(err instanceof WorkflowUpdateFailedError, `expected a refusal, got ${String(err)}`);
    return err.cause?.message ?? '';
  }
}

/**
 * Runs a plan that starts with an approval until it awaits it (step 1), stops the worker, queues two
 * decisions for that step, then starts a new worker: both reach the workflow before its body can act on
 * either. (Time is not skipped while the test only queries, so the approval comes first.)
 */
/** A decision to queue: which update, and its input. */
type Queued = { kind: 'approve' | 'reject'; by: string; stepIndex: number; reason?: string };

async function twoQueuedDecisions(first: Queued, second: Queued) {
  const fake = new FakeAzure();
  fake.client = env.client;
  fake.hooks.onNotify = async (n, { handle }) => {
    // only the later approval (step 5) is answered here; step 3 is decided by the queued messages
    if (n.kind === 'approval_requested' && n.approval?.stepIndex === 2) await handle.executeUpdate(messages.approve, { args: [{ by: people.approver, stepIndex: 2 }] });
  };
  const plan = aPlanDocument((d) => {
    d.target.endpoint = uniqueEndpointName('queued');
    d.strategy = [
      { approval: { timeout: '24h', onTimeout: 'rollback' } },
      { canary: { percent: 10, bake: '5m' } },
      { canary: { percent: 50, bake: '5m', approval: true } },
      { promote: { rollbackWindow: '10m' } },
      { retire: {} },
    ];
  });
  const taskQueue = `tq-${plan.target.endpoint}`;
  const handle = await startRollout(env.client, { plan, startedBy: people.starter, taskQueue });
  // No sticky cache: the Java test server never times out a dead worker's sticky queue.
  const w1 = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: fake.activities(), maxCachedWorkflows: 0 });
  await w1.runUntil(untilStatus(handle, (s) => s.pendingApproval?.stepIndex === 0));
  const send = ({ kind, ...input }: Queued) => (kind === 'approve' ? handle.executeUpdate(messages.approve, { args: [input] }) : handle.executeUpdate(messages.reject, { args: [input] }));
  const p1 = answer(send(first));
  await new Promise((r) => setTimeout(r, 300)); // in this order, as a restart would queue them
  const p2 = answer(send(second));
  await new Promise((r) => setTimeout(r, 300));
  const w2 = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: fake.activities() });
  const out = await w2.runUntil(async () => ({ answers: await Promise.all([p1, p2]), result: await handle.result() }));
  if (fake.hookErrors.length) throw fake.hookErrors[0];
  return out;
}

describe('one decision per step (finding 3)', () => {
  test('a reject and then an approve queued while no worker runs: the reject stands, the approve is refused, the rollout ends rejected', async () => {
    const { answers, result } = await twoQueuedDecisions(
      { kind: 'reject', by: people.approver, stepIndex: 0, reason: 'p99 looks off' },
      { kind: 'approve', by: people.slackApprover, stepIndex: 0 },
    );
    assert.deepEqual(answers, ['accepted', 'cannot approve: step 1 (approval) was already rejected by alice@contoso.com; one decision per step']);
    assert.equal(result.outcome, 'rejected');
    assert.deepEqual(result.approvals.map((a) => [a.stepIndex, a.decision, a.by]), [[0, 'rejected', people.approver]]);
  });

  test('two approvals of one step queued while no worker runs: one is recorded, the other refused', async () => {
    const { answers, result } = await twoQueuedDecisions({ kind: 'approve', by: people.approver, stepIndex: 0 }, { kind: 'approve', by: people.slackApprover, stepIndex: 0 });
    assert.deepEqual(answers, ['accepted', 'cannot approve: step 1 (approval) was already approved by alice@contoso.com; one decision per step']);
    assert.equal(result.outcome, 'promoted', `${result.outcome}: ${result.reason}`);
    assert.deepEqual(
      result.approvals.filter((a) => a.stepIndex === 0).map((a) => [a.decision, a.by]),
      [['approved', people.approver]],
    );
  });
});

describe('resume is not approval (finding 4)', () => {
  test('after an inconclusive bake (onInconclusive: pause) a stranger’s resume is refused and the candidate gets no live traffic; an approver’s resume is recorded as a decision', async () => {
    const fake = new FakeAzure();
    fake.metrics = (n) => metricsFor(n <= 30 ? 'inconclusive' : 'pass');
    let strangerRefused = '';
    let liveWhileHeld = -1;
    fake.hooks.onNotify = async (n, { handle, fake }) => {
      if (n.kind === 'approval_requested') await handle.executeUpdate(messages.approve, { args: [{ by: people.approver, stepIndex: n.approval!.stepIndex }] });
      if (n.kind === 'paused') {
        strangerRefused = await answer(handle.executeUpdate(messages.resume, { args: [{ by: people.stranger }] }));
        liveWhileHeld = fake.endpoint.traffic.live.green ?? 0;
        await handle.executeUpdate(messages.resume, { args: [{ by: people.approver, comment: 'error budget is fine, low traffic at night' }] });
      }
    };
    const r = await runRollout(env, { fake, workflowBundle: bundle, plan: aPlanDocument((d) => (d.analysis.onInconclusive = 'pause')) });
    assert.match(strangerRefused, /^cannot resume: resuming accepts a step its analysis could not pass, a decision for an approver; mallory@contoso\.com is not an allowed approver/);
    assert.equal(liveWhileHeld, 0, 'no live traffic on the candidate while its mirror step is held');
    assert.equal(r.result.outcome, 'promoted');
    const resumed = r.result.approvals.find((a) => a.decision === 'resumed');
    assert.equal(resumed?.by, people.approver);
    assert.equal(resumed?.stepIndex, 0);
    assert.match(resumed?.comment ?? '', /accepted a step its analysis could not pass: error budget is fine/);
  });

  test('an approval that timed out with onTimeout: pause still awaits a decision: a stranger’s resume is refused, an approver’s resume approves the step', async () => {
    const fake = new FakeAzure();
    let strangerRefused = '';
    let held: RolloutStatus | undefined;
    fake.hooks.onNotify = async (n, { handle }) => {
      if (n.kind === 'approval_requested' && n.approval?.stepIndex === 4) await handle.executeUpdate(messages.approve, { args: [{ by: people.approver, stepIndex: 4 }] });
      if (n.kind === 'approval_timed_out') {
        held = await handle.query(messages.status);
        strangerRefused = await answer(handle.executeUpdate(messages.resume, { args: [{ by: people.stranger }] }));
        await handle.executeUpdate(messages.resume, { args: [{ by: people.slackApprover }] });
      }
    };
    const plan = aPlanDocument((d) => (d.strategy[2] = { approval: { timeout: '1h', onTimeout: 'pause' } }));
    const r = await runRollout(env, { fake, workflowBundle: bundle, plan });
    assert.equal(held?.paused?.kind, 'approval-timeout');
    assert.equal(held?.pendingApproval?.stepIndex, 2, 'the approval is still awaited');
    assert.match(strangerRefused, /cannot resume: resuming accepts the approval that timed out \(it approves the step\)/);
    assert.equal(r.result.outcome, 'promoted');
    const step3 = r.result.approvals.filter((a) => a.stepIndex === 2);
    assert.deepEqual(step3.map((a) => [a.decision, a.by]), [['approved', people.slackApprover]]);
    assert.match(step3[0]!.comment ?? '', /by resume after the approval timed out/);
  });
});

describe('no valid plan wedges the workflow (finding 5)', () => {
  test('the longest durations a plan may have (a 364d approval timeout inside a 365d deadline) run without a timer error', async () => {
    const fake = new FakeAzure();
    const plan = aPlanDocument((d) => {
      d.deadline = '365d';
      d.strategy[2] = { approval: { timeout: '364d', onTimeout: 'proceed' } };
      d.strategy[4] = { canary: { percent: 50, bake: '30m' } };
    });
    const r = await runRollout(env, { fake, workflowBundle: bundle, plan });
    assert.equal(r.result.outcome, 'promoted', r.result.reason);
    assert.deepEqual(r.result.approvals.map((a) => a.decision), ['timed_out_proceed']);
  });
});

describe('a rollout terminated from outside is noticed (finding 6)', () => {
  /** The real CLI against the test server: exit code and stdout. */
  async function cli(argv: string[]): Promise<{ code: number; out: string }> {
    const out: string[] = [];
    const real = defaultRuntime({ ...process.env, TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: 'default' });
    const rt: CliRuntime = { ...real, stdout: (t) => out.push(t), stderr: (t) => out.push(t) };
    try {
      return { code: await main(argv, rt), out: out.join('\n') };
    } finally {
      await real.close?.();
    }
  }

  test('after a terminate during the mirror, status and watch say the endpoint may be left mid-rollout and print the command that restores the baseline', async () => {
    const fake = new FakeAzure();
    fake.client = env.client;
    const plan = aPlanDocument((d) => (d.target.endpoint = uniqueEndpointName('terminated')));
    const taskQueue = `tq-${plan.target.endpoint}`;
    const handle = await startRollout(env.client, { plan, startedBy: people.starter, taskQueue });
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: fake.activities() });
    const { status, watch } = await worker.runUntil(async () => {
      await untilStatus(handle, (s) => s.stage === 'mirror' && s.traffic?.mirror.green === 20);
      await handle.terminate('operator cleanup');
      return { status: await cli(['rollout', 'status', handle.workflowId]), watch: await cli(['rollout', 'watch', handle.workflowId]) };
    });
    const restore = `az ml online-endpoint update --subscription 00000000-0000-0000-0000-000000000000 --resource-group ml-prod --workspace-name fraud-prod --name ${plan.target.endpoint} --traffic "blue=100 green=0" --mirror-traffic "green=0"`;
    for (const [what, r] of [['status', status], ['watch', watch]] as const) {
      assert.match(r.out, /terminated/, what);
      assert.match(r.out, /WARNING the rollout was terminated from outside \(by an operator or a server limit\), so it did not roll back: .* may be left mid-rollout/, what);
      assert.ok(r.out.includes(restore), `${what} prints the restore command:\n${r.out}`);
    }
    assert.equal(fake.endpoint.traffic.mirror.green, 20, 'nothing rolled it back: the mirror is still on');
  });
});
