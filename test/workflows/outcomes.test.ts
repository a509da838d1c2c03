/**
 * How a rollout ends, on the time-skipping test server with fake Azure activities: the full example plan
 * (30m mirror, 24h approval timeouts, 1h rollback window, 72h deadline) runs in seconds.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { RolloutStatus, SafeRolloutResult } from '../../domain/rollout.js';
import { formatTraffic, normalizeTraffic } from '../../domain/traffic.js';
import * as messages from '../../workflows/messages.js';
import { GlidepathCandidate, GlidepathEndpoint, GlidepathOutcome, GlidepathStage } from '../../workflows/search-attributes.js';
import { FakeAzure, aPlanDocument, metricsFor, people, runRollout, type RolloutRun } from '../support/builders.js';
import { useTimeSkippingEnv } from '../support/suite.js';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
useTimeSkippingEnv((e, b) => ([env, bundle] = [e, b]));

const hour = 3_600_000;

/** A fake whose approvals are granted by alice as soon as they are requested. */
function approvingFake(): FakeAzure {
  const fake = new FakeAzure();
  fake.hooks.onNotify = async (n, { handle }) => {
    if (n.kind === 'approval_requested') await handle.executeUpdate(messages.approve, { args: [{ by: people.approver, comment: 'metrics look fine', stepIndex: n.approval!.stepIndex }] });
  };
  return fake;
}

/** The traffic writes the fake applied, as text. */
const writes = (fake: FakeAzure) => fake.trafficWrites.map((w) => formatTraffic(w.after));

/** Invariant 3: a rollout that did not promote ends with the baseline alone, read back from the endpoint. */
function assertBackOnBaseline(r: RolloutRun): void {
  const { result, fake } = r;
  assert.notEqual(result.outcome, 'promoted');
  assert.deepEqual(normalizeTraffic(fake.endpoint.traffic), { live: { blue: 100 }, mirror: {} }, 'the endpoint is back on the baseline');
  assert.ok(result.rollback?.confirmed, `rollback confirmed: ${JSON.stringify(result.rollback)}`);
  assert.deepEqual(result.rollback?.traffic, { live: { blue: 100 }, mirror: {} });
  assert.ok(fake.lastChangeWasRollbackTo('blue'), 'the last traffic change was the rollback, whose activity reads the endpoint back');
  assert.ok(fake.notifications.some((n) => n.kind === 'rolled_back'), 'people were told');
}

/** Wall-clock between two timeline events, in workflow time. */
function span(result: SafeRolloutResult, fromKind: string, toKind: string): number {
  const from = result.timeline.find((e) => e.kind === fromKind)!;
  const to = result.timeline.findLast((e) => e.kind === toKind)!;
  return Date.parse(to.at) - Date.parse(from.at);
}

describe('outcomes of the full example plan', () => {
  test('all gates pass and both approvals are given: the candidate is promoted and the baseline retired', async () => {
    const r = await runRollout(env, { fake: approvingFake(), workflowBundle: bundle });
    const { result, fake, handle } = r;
    assert.equal(result.outcome, 'promoted', result.reason);
    assert.match(result.reason, /green serves 100% of .*; blue retired/);
    assert.deepEqual(writes(fake), ['blue 100% | mirror 20% → green', 'blue 90% | green 10% | mirror 0%', 'blue 50% | green 50% | mirror 0%', 'green 100% | mirror 0%']);
    assert.deepEqual(fake.endpoint.deployments.map((d) => d.name), ['green']);
    assert.equal(fake.count('ensureDeployment'), 1);
    // 30 + 15 + 30 analyses, each with the webhook gate
    assert.equal(fake.count('getMetricsSnapshot'), 75);
    assert.equal(fake.count('callWebhookGate'), 75);
    assert.equal(result.verdicts.filter((v) => v.status === 'pass').length, 76, 'every analysis and the cost check passed');
    assert.deepEqual(
      result.approvals.map((a) => [a.stepIndex, a.decision, a.by, a.via]),
      [
        [2, 'approved', people.approver, 'update'],
        [4, 'approved', people.approver, 'update'],
      ],
    );
    // Invariant 4: the baseline was deleted only after the candidate held 100% for the 1h rollback window.
    const promotedAt = fake.trafficWrites.at(-1)!.at;
    assert.ok(fake.deleted[0]!.at - promotedAt >= hour, `retired ${fake.deleted[0]!.at - promotedAt}ms after promotion`);
    // The audit trail: notifications at start, each step, approvals, promotion, retirement.
    const kinds = new Set(fake.notifications.map((n) => n.kind));
    for (const k of ['started', 'step', 'approval_requested', 'approval_recorded', 'promoted', 'retired', 'finished'] as const) assert.ok(kinds.has(k), `notified ${k}`);
    assert.ok(fake.notifications.every((n) => n.channel === 'C0123456'));
    // Search attributes and the static summary the UI shows.
    const d = await handle.describe();
    assert.equal(d.typedSearchAttributes.get(GlidepathOutcome), 'promoted');
    assert.equal(d.typedSearchAttributes.get(GlidepathStage), 'done');
    assert.equal(d.typedSearchAttributes.get(GlidepathCandidate), 'green');
    assert.equal(d.typedSearchAttributes.get(GlidepathEndpoint), result.endpoint);
    assert.match((await d.staticSummary()) ?? '', /^Roll out green \(azureml:fraud-detector:2\) to .*, started by ci@contoso\.com$/);
    assert.match((await d.staticDetails()) ?? '', /Worst case/);
    // Summaries on activities and timers.
    const history = await handle.fetchHistory();
    // Invariant 8: no polling loops in the workflow; the full example's history stays small.
    assert.ok((history.events?.length ?? 0) < 1500, `history has ${history.events?.length} events`);
    const summaries = (history.events ?? []).map((e) => e.userMetadata?.summary?.data).filter(Boolean).map((b) => JSON.parse(Buffer.from(b!).toString('utf8')) as string);
    assert.ok(summaries.includes('set traffic blue=90 green=10'), 'traffic change summary');
    assert.ok(summaries.some((s) => s.startsWith('bake 15m at 10%')), 'bake timer summary');
    assert.ok(summaries.includes('deadline 72h: roll back if not promoted by then'), 'deadline timer summary');
  });

  test('a gate failing during the mirror rolls back before the candidate ever gets live traffic', async () => {
    const fake = approvingFake();
    fake.metrics = (n) => metricsFor(n >= 4 ? 'fail' : 'pass');
    const r = await runRollout(env, { fake, workflowBundle: bundle });
    assert.equal(r.result.outcome, 'rolled_back');
    assert.match(r.result.reason, /step 1 \(mirror 20%\): 2 consecutive failed analyses \(failureLimit 2\): p99 latency 900ms > max 250ms/);
    assert.deepEqual(writes(r.fake), ['blue 100% | mirror 20% → green', 'blue 100% | mirror 0%']);
    assert.equal(r.fake.count('getMetricsSnapshot'), 5);
    assert.ok(r.fake.trafficWrites.every((w) => (w.after.live.green ?? 0) === 0), 'invariant 2: no live traffic to the candidate');
    assert.deepEqual(r.fake.endpoint.deployments.map((d) => d.name), ['blue', 'green'], 'the candidate is kept (rollback.deleteCandidate: false)');
    assertBackOnBaseline(r);
  });

  test('a gate failing at the second canary step rolls back from 50% and can delete the candidate', async () => {
    const fake = approvingFake();
    fake.metrics = () => metricsFor((fake.endpoint.traffic.live.green ?? 0) >= 50 ? 'fail' : 'pass');
    const r = await runRollout(env, { fake, workflowBundle: bundle, plan: aPlanDocument((d) => (d.rollback.deleteCandidate = true)) });
    assert.equal(r.result.outcome, 'rolled_back');
    assert.match(r.result.reason, /^step 5 \(50%\): 2 consecutive failed analyses/);
    assert.deepEqual(writes(r.fake).slice(-2), ['blue 50% | green 50% | mirror 0%', 'blue 100% | mirror 0%']);
    assert.ok(r.result.rollback?.candidateDeleted);
    assert.deepEqual(r.fake.endpoint.deployments.map((d) => d.name), ['blue']);
    assertBackOnBaseline(r);
  });

  test('an approval that times out after 24h rolls back', async () => {
    const r = await runRollout(env, { workflowBundle: bundle }); // nobody approves
    assert.equal(r.result.outcome, 'rolled_back');
    assert.match(r.result.reason, /approval timed out: no decision on approval within 24h \(onTimeout: rollback\)/);
    assert.ok(span(r.result, 'approval_requested', 'approval_timed_out') >= 24 * hour);
    assert.deepEqual(r.result.approvals, []);
    assertBackOnBaseline(r);
    const history = await r.handle.fetchHistory();
    const timer = history.events?.find((e) => e.timerStartedEventAttributes?.startToFireTimeout?.seconds?.toString() === String(24 * 3600));
    assert.equal(JSON.parse(Buffer.from(timer?.userMetadata?.summary?.data ?? []).toString('utf8')), 'await approval of approval (24h, then rollback)');
  });

  test('with onTimeout: pause, a timed-out approval keeps waiting and a later approval continues the rollout', async () => {
    const fake = new FakeAzure();
    let statusAtTimeout: RolloutStatus | undefined;
    fake.hooks.onNotify = async (n, { handle }) => {
      if (n.kind === 'approval_timed_out') {
        statusAtTimeout = await handle.query(messages.status);
        await handle.executeUpdate(messages.approve, { args: [{ by: people.slackApprover, stepIndex: statusAtTimeout.pendingApproval!.stepIndex }] });
      } else if (n.kind === 'approval_requested' && n.fields?.stepIndex === 4) {
        await handle.executeUpdate(messages.approve, { args: [{ by: people.approver, stepIndex: n.approval!.stepIndex }] });
      }
    };
    const plan = aPlanDocument((d) => (d.strategy[2].approval.onTimeout = 'pause'));
    const r = await runRollout(env, { fake, plan, workflowBundle: bundle });
    assert.equal(r.result.outcome, 'promoted', r.result.reason);
    assert.ok(statusAtTimeout, 'the timeout was notified');
    assert.equal(statusAtTimeout.pendingApproval?.stepIndex, 2, 'still awaiting the approval after the timeout');
    assert.equal(statusAtTimeout.pendingApproval?.timeoutAt, null);
    assert.match(statusAtTimeout.paused?.reason ?? '', /approval timed out; waiting for approve or reject/);
    assert.deepEqual(r.result.approvals.map((a) => a.by), [people.slackApprover, people.approver]);
  });

  test('a rejection rolls back and ends rejected, naming who rejected', async () => {
    const fake = new FakeAzure();
    fake.hooks.onNotify = async (n, { handle }) => {
      if (n.kind === 'approval_requested') await handle.executeUpdate(messages.reject, { args: [{ by: people.approver, reason: 'p99 creeping up', stepIndex: n.approval!.stepIndex }] });
    };
    const r = await runRollout(env, { fake, workflowBundle: bundle });
    assert.equal(r.result.outcome, 'rejected');
    assert.equal(r.result.reason, 'rejected by alice@contoso.com: p99 creeping up at step 3 (approval)');
    assert.deepEqual(r.result.approvals.map((a) => [a.decision, a.by]), [['rejected', people.approver]]);
    assertBackOnBaseline(r);
  });

  test('an abort during a bake rolls back at once and ends aborted', async () => {
    const fake = approvingFake();
    fake.hooks.onMetrics = async (_, { handle, n }) => {
      if (n === 40) {
        const answer = await handle.executeUpdate(messages.abort, { args: [{ by: 'bob@contoso.com', reason: 'pager is ringing' }] });
        assert.match(answer.message, /aborted by bob@contoso\.com: pager is ringing; rolling back/);
      }
    };
    const r = await runRollout(env, { fake, workflowBundle: bundle });
    assert.equal(r.result.outcome, 'aborted');
    assert.equal(r.result.reason, 'aborted by bob@contoso.com: pager is ringing');
    assert.equal(fake.count('getMetricsSnapshot'), 40, 'no analysis after the abort');
    assert.equal(writes(fake).at(-2), 'blue 90% | green 10% | mirror 0%', 'aborted during the 10% canary');
    assertBackOnBaseline(r);
  });

  test('the deadline passing before promotion rolls back', async () => {
    // deadline 1h: the mirror bakes 30m, then the approval waits (24h timeout) until the deadline fires
    const r = await runRollout(env, { workflowBundle: bundle, plan: aPlanDocument((d) => (d.deadline = '1h')) });
    assert.equal(r.result.outcome, 'rolled_back');
    assert.equal(r.result.reason, 'deadline 1h passed before the candidate was promoted');
    const started = Date.parse(r.result.startedAt);
    const deadlineAt = Date.parse(r.result.timeline.find((e) => e.kind === 'deadline')!.at);
    assert.ok(deadlineAt - started >= hour && deadlineAt - started < 2 * hour);
    assertBackOnBaseline(r);
  });

  test('a failing notifier never fails the rollout', async () => {
    const fake = approvingFake();
    fake.failures.notify = Array.from({ length: 6 }, () => new Error('slack is down')); // 'started' and 'deployed', 3 attempts each
    const r = await runRollout(env, { fake, workflowBundle: bundle });
    assert.equal(r.result.outcome, 'promoted');
    assert.ok(r.result.timeline.some((e) => e.kind === 'notify_failed'));
  });

  test('a failed deployment rolls back and ends failed with the error type', async () => {
    const fake = approvingFake();
    const { ApplicationFailure } = await import('@temporalio/common');
    fake.failures.ensureDeployment = [ApplicationFailure.create({ type: 'QuotaExceeded', message: 'OutOfQuota: 12 cores needed, 4 left', nonRetryable: true })];
    const r = await runRollout(env, { fake, workflowBundle: bundle });
    assert.equal(r.result.outcome, 'failed');
    assert.equal(r.result.errorType, 'QuotaExceeded');
    assert.match(r.result.reason, /activity ensureDeployment failed: QuotaExceeded: OutOfQuota: 12 cores needed, 4 left/);
    assertBackOnBaseline({ ...r, result: r.result });
  });

  test('a rollback that cannot be confirmed fails the workflow loudly with RollbackFailed and tells people', async () => {
    const { ApplicationFailure } = await import('@temporalio/common');
    const { WorkflowFailedError } = await import('@temporalio/client');
    const fake = approvingFake();
    fake.metrics = (n) => {
      if (n === 4) {
        // from now on Azure refuses every traffic write (e.g. a lock on the endpoint)
        fake.failures.setEndpointTraffic = Array.from({ length: 3 }, () => ApplicationFailure.create({ type: 'InvalidTraffic', message: 'endpoint is locked', nonRetryable: true }));
      }
      return metricsFor(n >= 4 ? 'fail' : 'pass');
    };
    const err = await runRollout(env, { fake, workflowBundle: bundle }).then(
      () => assert.fail('the workflow should fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowFailedError);
    assert.ok(err.cause instanceof ApplicationFailure);
    assert.equal(err.cause.type, 'RollbackFailed');
    assert.match(err.cause.message, /rollback of .* not confirmed \(rolled_back: step 1 \(mirror 20%\): 2 consecutive failed analyses.*\): attempt 1: activity setEndpointTraffic failed: InvalidTraffic: endpoint is locked/);
    assert.ok(fake.notifications.some((n) => n.kind === 'rollback_failed' && /ROLLBACK NOT CONFIRMED/.test(n.text)));
  });
});
