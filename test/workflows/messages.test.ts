/**
 * People steering a running rollout: approvals and their refusals (update and signal forms), pause and
 * resume, traffic changed by hand, inconclusive analyses.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { workflowMetadataQuery } from '@temporalio/workflow';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { defaultRuntime, main, type CliRuntime } from '../../client/cli.js';
import { createSlackBridge, type ClickOutcome } from '../../client/slack/bridge.js';
import { slackSignature } from '../../client/slack/verify.js';
import { TemporalRolloutGateway } from '../../client/temporal.js';
import { SLACK_APPROVE_ACTION_ID, slackButtonValue } from '../../domain/approvals.js';
import type { RolloutStatus } from '../../domain/rollout.js';
import { formatTraffic, normalizeTraffic } from '../../domain/traffic.js';
import * as messages from '../../workflows/messages.js';
import { FakeAzure, aPlanDocument, metricsFor, people, runRollout } from '../support/builders.js';
import { useTimeSkippingEnv } from '../support/suite.js';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
useTimeSkippingEnv((e, b) => ([env, bundle] = [e, b]));

/** The refusal message of a failed update (the validator's reason). */
async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof WorkflowUpdateFailedError, `expected WorkflowUpdateFailedError, got ${String(err)}`);
    return err.cause?.message ?? '';
  }
  assert.fail('the update was accepted');
}

/** Polls the status query (inside a hook, while the workflow waits on the hook's activity) until `ok`. */
async function waitForStatus(handle: { query: (q: typeof messages.status) => Promise<RolloutStatus> }, ok: (s: RolloutStatus) => boolean): Promise<RolloutStatus> {
  for (let i = 0; i < 200; i++) {
    const s = await handle.query(messages.status);
    if (ok(s)) return s;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('status never matched');
}

const writes = (fake: FakeAzure) => fake.trafficWrites.map((w) => formatTraffic(w.after));

describe('approvals: who may approve, in both update and signal form', () => {
  test('the validator refuses an approval from someone not allowed and from the starter under four-eyes, naming why', async () => {
    const fake = new FakeAzure();
    const refusals: string[] = [];
    fake.hooks.onNotify = async (n, { handle }) => {
      if (n.kind !== 'approval_requested') return;
      refusals.push(await refusal(handle.executeUpdate(messages.approve, { args: [{ by: people.stranger, stepIndex: 2 }] })));
      // alice is an allowed approver, but she started this rollout
      refusals.push(await refusal(handle.executeUpdate(messages.approve, { args: [{ by: people.approver, stepIndex: 2 }] })));
      const before = await handle.query(messages.status);
      assert.ok(before.pendingApproval, 'refused updates change nothing: still awaiting');
      await handle.executeUpdate(messages.approve, { args: [{ by: people.slackApprover, stepIndex: n.approval!.stepIndex }] });
    };
    const r = await runRollout(env, { fake, workflowBundle: bundle, startedBy: people.approver });
    assert.equal(r.result.outcome, 'promoted');
    assert.deepEqual(refusals.slice(0, 2), [
      'cannot approve: mallory@contoso.com is not an allowed approver (allowed: alice@contoso.com, slack:U024BE7LH)',
      'cannot approve: alice@contoso.com started this rollout and four-eyes is on, so someone else must approve',
    ]);
    assert.ok(r.result.approvals.every((a) => a.by === people.slackApprover), 'only the allowed approver is recorded');
  });

  test('approve when no approval is awaited is refused with the stage it is in', async () => {
    const fake = new FakeAzure();
    let refused = '';
    fake.hooks.onMetrics = async (_, { handle, n }) => {
      if (n === 2) refused = await refusal(handle.executeUpdate(messages.approve, { args: [{ by: people.approver, stepIndex: 2 }] }));
    };
    fake.hooks.onNotify = async (n, { handle }) => {
      if (n.kind === 'approval_requested') await handle.executeUpdate(messages.reject, { args: [{ by: people.approver, stepIndex: n.approval!.stepIndex }] });
    };
    const r = await runRollout(env, { fake, workflowBundle: bundle });
    assert.equal(r.result.outcome, 'rejected');
    assert.equal(refused, 'cannot approve: no approval is awaited (the rollout is at mirror: mirror 20%)');
  });

  test('the same refusals apply to the approve signal: recorded in the status and notified, never applied', async () => {
    const fake = new FakeAzure();
    let status: RolloutStatus | undefined;
    fake.hooks.onNotify = async (n, { handle }) => {
      if (n.kind !== 'approval_requested') return;
      if (n.fields?.stepIndex === 2) {
        await handle.signal(messages.approveSignal, { by: people.stranger, stepIndex: 2 });
        await handle.signal(messages.approveSignal, { by: people.approver, stepIndex: 2 }); // the starter, under four-eyes
        status = await waitForStatus(handle, (s) => s.refusals.length === 2);
        await handle.signal(messages.approveSignal, { by: people.slackApprover, comment: 'from the UI', stepIndex: 2 });
      } else {
        await handle.signal(messages.rejectSignal, { by: people.stranger, stepIndex: n.approval!.stepIndex });
        await waitForStatus(handle, (s) => s.refusals.length === 3);
        await handle.signal(messages.rejectSignal, { by: people.approver, reason: 'changed my mind', stepIndex: n.approval!.stepIndex }); // the starter may reject
      }
    };
    const r = await runRollout(env, { fake, workflowBundle: bundle, startedBy: people.approver });
    assert.ok(status);
    assert.equal(status.pendingApproval?.stepIndex, 2, 'refused signals were not applied');
    assert.deepEqual(
      status.refusals.map((x) => [x.message, x.via, x.by, x.reason]),
      [
        ['approve', 'signal', people.stranger, 'cannot approve: mallory@contoso.com is not an allowed approver (allowed: alice@contoso.com, slack:U024BE7LH)'],
        ['approve', 'signal', people.approver, 'cannot approve: alice@contoso.com started this rollout and four-eyes is on, so someone else must approve'],
      ],
    );
    assert.deepEqual(
      fake.notifications.filter((n) => n.kind === 'refused').map((n) => n.text),
      [
        'Refused approve signal from mallory@contoso.com: cannot approve: mallory@contoso.com is not an allowed approver (allowed: alice@contoso.com, slack:U024BE7LH)',
        'Refused approve signal from alice@contoso.com: cannot approve: alice@contoso.com started this rollout and four-eyes is on, so someone else must approve',
        'Refused reject signal from mallory@contoso.com: cannot reject: mallory@contoso.com is not an allowed approver (allowed: alice@contoso.com, slack:U024BE7LH)',
      ],
    );
    assert.equal(r.result.outcome, 'rejected');
    assert.deepEqual(r.result.approvals.map((a) => [a.decision, a.by, a.via]), [
      ['approved', people.slackApprover, 'signal'],
      ['rejected', people.approver, 'signal'],
    ]);
    assert.equal(normalizeTraffic(fake.endpoint.traffic).live.blue, 100);
  });
});

describe('a decision names the step it answers (invariant 10)', () => {
  /** The real CLI (its own Temporal connection, as `glidepath` makes it) against the test server: exit code and stderr. */
  async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const real = defaultRuntime({ ...process.env, TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: 'default' });
    const rt: CliRuntime = { ...real, stdout: (t) => out.push(t), stderr: (t) => err.push(t) };
    try {
      const code = await main(argv, rt);
      return { code, out: out.join('\n'), err: err.join('\n') };
    } finally {
      await real.close?.();
    }
  }

  /** A signed Slack click on an approval button, through the bridge (its gateway talks to the test server). */
  function slackBridge(gateway: TemporalRolloutGateway) {
    const told: Record<string, unknown>[] = [];
    const secret = 'test-signing-secret';
    const bridge = createSlackBridge({
      signingSecret: secret,
      botToken: undefined,
      apiUrl: 'http://127.0.0.1:1/api',
      responseUrlPrefixes: ['https://hooks.slack.com/'],
      gateway,
      fetch: (async (_url: string, init?: { body?: string }) => {
        told.push(JSON.parse(init?.body ?? '{}') as Record<string, unknown>);
        return new Response('ok');
      }) as typeof fetch,
    });
    let seq = 0;
    const click = (value: string, user = 'U024BE7LH'): Promise<ClickOutcome | undefined> => {
      seq += 1;
      const payload = { type: 'block_actions', user: { id: user }, actions: [{ action_id: SLACK_APPROVE_ACTION_ID, value }], response_url: `https://hooks.slack.com/actions/T1/${seq}/x` };
      const rawBody = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
      const ts = String(Math.floor(Date.now() / 1000));
      const r = bridge.handle({ method: 'POST', headers: { 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(secret, ts, rawBody) }, rawBody });
      assert.equal(r.status, 200, r.body);
      return r.done;
    };
    return { click, told };
  }

  test('an approval for step 3 is refused while step 5 is awaited, from the CLI and from a stale Slack button; the records name the channel', async () => {
    const gateway = await TemporalRolloutGateway.connect({ connection: { address: env.address }, namespace: 'default', taskQueue: 'unused', address: env.address });
    const slack = slackBridge(gateway);
    const fake = new FakeAzure();
    const seen: Record<string, unknown> = {};
    let staleButton = '';
    try {
      fake.hooks.onNotify = async (n, { handle }) => {
        if (n.kind !== 'approval_requested') return;
        const id = handle.workflowId;
        const button = slackButtonValue(id, n.approval!.stepIndex); // what the notifier puts on the message
        if (n.approval!.stepIndex === 2) {
          staleButton = button;
          seen.firstClick = await slack.click(button);
          return;
        }
        assert.equal(n.approval!.stepIndex, 4, 'the second approval is step 5 (canary 50%)');
        seen.lateCli = await cli(['rollout', 'approve', id, '--step', '3', '--as', people.approver]);
        seen.noStepCli = await cli(['rollout', 'approve', id, '--as', people.approver]);
        seen.statusJson = JSON.parse((await cli(['rollout', 'status', id, '--json'])).out) as unknown;
        seen.staleClick = await slack.click(staleButton);
        seen.rawNoStep = await refusal(handle.executeUpdate(messages.approve, { args: [{ by: people.approver }] }));
        seen.approve = await cli(['rollout', 'approve', id, '--step', '5', '--as', people.approver, '--comment', 'canary 10% clean']);
      };
      const r = await runRollout(env, { fake, workflowBundle: bundle, startedBy: people.starter });
      const id = r.handle.workflowId;

      assert.deepEqual(seen.lateCli, { code: 2, out: '', err: 'glidepath: refused: cannot approve step 3 (approval): the rollout awaits step 5 (canary 50%)' });
      assert.deepEqual(seen.noStepCli, {
        code: 2,
        out: '',
        err: `glidepath: rollout approve needs --step N, the step you decide as rollout status shows it: the rollout awaits step 5 (canary 50%); to approve it: glidepath rollout approve ${id} --step 5 --as ${people.approver}`,
      });
      assert.deepEqual((seen.statusJson as { pendingApproval: unknown }).pendingApproval, {
        stepIndex: 4,
        step: 5,
        stepText: 'canary 50%',
        approve: `glidepath rollout approve ${id} --step 5 --as <who>`,
        reject: `glidepath rollout reject ${id} --step 5 --as <who>`,
      });
      assert.deepEqual(seen.staleClick, { applied: false, workflowId: id, reason: 'cannot approve step 3 (approval): the rollout awaits step 5 (canary 50%)' });
      assert.ok(
        slack.told.some((t) => t.response_type === 'ephemeral' && t.text === ':no_entry: Not applied — cannot approve step 3 (approval): the rollout awaits step 5 (canary 50%)'),
        `the clicking user is told: ${JSON.stringify(slack.told)}`,
      );
      assert.match(String(seen.rawNoStep), /^cannot approve: the decision names no step, .*the rollout awaits step 5 \(canary 50%\): send stepIndex 4 /);
      assert.equal((seen.approve as { code: number }).code, 0, (seen.approve as { err: string }).err);
      assert.deepEqual(seen.firstClick, { applied: true, workflowId: id, decision: 'approve', by: people.slackApprover, message: `approved by ${people.slackApprover} for step 3 (approval)` });

      assert.equal(r.result.outcome, 'promoted', r.result.reason);
      const identity = (gateway as unknown as { client: { options: { identity: string } } }).client.options.identity;
      assert.deepEqual(
        r.result.approvals.map((a) => [a.stepIndex, a.decision, a.by, a.via, a.channel, a.clientIdentity]),
        [
          [2, 'approved', people.slackApprover, 'update', 'slack', identity],
          [4, 'approved', people.approver, 'update', 'cli', identity],
        ],
        'one decision per step, each naming its channel and the client that sent it',
      );
      assert.match(fake.notifications.find((n) => n.kind === 'approval_recorded')!.text, /^Approved by slack:U024BE7LH \(slack, unverified \(typed, not signed\), client \S+\) for step 3 \(approval\)$/, "Slack's closed approval message names the channel, and that nobody signed it");
    } finally {
      await gateway.close();
    }
  });

  test('a raw update or signal (no channel) is recorded as temporal; a signal for another step is refused and recorded', async () => {
    const fake = new FakeAzure();
    let status: RolloutStatus | undefined;
    fake.hooks.onNotify = async (n, { handle }) => {
      if (n.kind !== 'approval_requested') return;
      if (n.approval!.stepIndex === 2) return void (await handle.executeUpdate(messages.approve, { args: [{ by: people.approver, stepIndex: 2 }] }));
      await handle.signal(messages.approveSignal, { by: people.approver, stepIndex: 2 });
      status = await waitForStatus(handle, (s) => s.refusals.length === 1);
      await handle.signal(messages.rejectSignal, { by: people.approver, stepIndex: 4, reason: 'p99 creeping' });
    };
    const r = await runRollout(env, { fake, workflowBundle: bundle });
    assert.deepEqual(status?.refusals.map((x) => [x.message, x.via, x.reason]), [['approve', 'signal', 'cannot approve step 3 (approval): the rollout awaits step 5 (canary 50%)']]);
    assert.equal(r.result.outcome, 'rejected');
    assert.deepEqual(r.result.approvals.map((a) => [a.stepIndex, a.decision, a.via, a.channel]), [
      [2, 'approved', 'update', 'temporal'],
      [4, 'rejected', 'signal', 'temporal'],
    ]);
  });
});

describe('pause and resume', () => {
  test('a pause holds the rollout at its next checkpoint until resume; nothing changes meanwhile', async () => {
    const fake = new FakeAzure();
    let held: RolloutStatus | undefined;
    let currentDetails = '';
    let resumeRefused = '';
    let pauseRefused = '';
    fake.hooks.onMetrics = async (_, { handle, n }) => {
      if (n === 3) {
        resumeRefused = await refusal(handle.executeUpdate(messages.resume, { args: [{ by: 'bob@contoso.com' }] }));
        const a = await handle.executeUpdate(messages.pause, { args: [{ by: 'bob@contoso.com', reason: 'checking dashboards' }] });
        assert.match(a.message, /paused at mirror \(mirror 20%\)/);
        pauseRefused = await refusal(handle.executeUpdate(messages.pause, { args: [{ by: 'carol@contoso.com' }] }));
      }
    };
    fake.hooks.onNotify = async (n, { handle }) => {
      if (n.kind === 'paused') {
        held = await handle.query(messages.status);
        // what the Temporal UI shows as "Current Details" (the built-in metadata query)
        const meta = await handle.query(workflowMetadataQuery);
        currentDetails = meta.currentDetails ?? '';
        await handle.executeUpdate(messages.resume, { args: [{ by: 'bob@contoso.com' }] });
      }
      if (n.kind === 'approval_requested') await handle.executeUpdate(messages.approve, { args: [{ by: people.approver, stepIndex: n.approval!.stepIndex }] });
    };
    const r = await runRollout(env, { fake, workflowBundle: bundle });
    assert.equal(r.result.outcome, 'promoted');
    assert.match(currentDetails, /\*\*mirror\*\* — step 1\/7: mirror 20%/);
    assert.match(currentDetails, /\*\*Paused\*\* by bob@contoso\.com: checking dashboards/);
    assert.match(currentDetails, /\*\*Last analysis\*\* .* pass: /);
    assert.match(resumeRefused, /cannot resume: the rollout is not paused \(it is at mirror: mirror 20%\)/);
    assert.equal(pauseRefused, 'cannot pause: already paused by bob@contoso.com (checking dashboards)');
    assert.ok(held);
    assert.deepEqual(held.paused && [held.paused.by, held.paused.reason], ['bob@contoso.com', 'checking dashboards']);
    assert.equal(held.lastVerdicts.at(-1)?.analysis, 3, 'held before the 4th analysis');
    assert.equal(fake.calls.filter((c) => c.name === 'getMetricsSnapshot').length, 75, 'the bake resumed and finished');
    assert.deepEqual(r.result.timeline.filter((e) => e.kind === 'paused' || e.kind === 'resumed').map((e) => e.kind), ['paused', 'resumed']);
  });

  test('a paused rollout that nobody resumes is rolled back by the deadline', async () => {
    const fake = new FakeAzure();
    fake.hooks.onMetrics = async (_, { handle, n }) => {
      if (n === 2) await handle.executeUpdate(messages.pause, { args: [{ by: 'bob@contoso.com' }] });
    };
    const r = await runRollout(env, { fake, workflowBundle: bundle });
    assert.equal(r.result.outcome, 'rolled_back');
    assert.match(r.result.reason, /deadline 72h passed/);
    assert.equal(fake.count('getMetricsSnapshot'), 2);
  });
});

describe('traffic changed by hand', () => {
  test('a change found before a traffic step pauses and notifies instead of overwriting; resume continues from the endpoint as it is', async () => {
    const fake = new FakeAzure();
    let drift: RolloutStatus | undefined;
    let writesAtDrift = 0;
    fake.hooks.onNotify = async (n, { handle, fake }) => {
      if (n.kind === 'approval_requested') await handle.executeUpdate(messages.approve, { args: [{ by: people.approver, stepIndex: n.approval!.stepIndex }] });
      // someone moves traffic in the portal just before the 50% step
      if (n.kind === 'approval_recorded' && n.text.includes('canary 50%')) fake.setTrafficByHand({ live: { blue: 80, green: 20 }, mirror: {} });
      if (n.kind === 'drift') {
        drift = await handle.query(messages.status);
        writesAtDrift = fake.trafficWrites.length;
        await handle.executeUpdate(messages.resume, { args: [{ by: people.approver, comment: 'the 80/20 was me, carry on' }] });
      }
    };
    const r = await runRollout(env, { fake, workflowBundle: bundle });
    assert.ok(drift, 'people were told about the drift');
    assert.match(drift.paused?.reason ?? '', /traffic changed outside Glidepath: expected blue 90% \| green 10% \| mirror 0%, found blue 80% \| green 20% \| mirror 0%/);
    assert.equal(writesAtDrift, 2, 'nothing was written while paused');
    assert.deepEqual(fake.trafficWrites[2]!.before, { live: { blue: 80, green: 20 }, mirror: {} }, 'the next write starts from the hand-made state');
    assert.equal(r.result.outcome, 'promoted');
    assert.ok(r.result.timeline.some((e) => e.kind === 'drift'));
  });

  test('a change racing the write itself (TrafficDrift from setEndpointTraffic) also pauses; abort then rolls back', async () => {
    const fake = new FakeAzure();
    fake.hooks.onSetTraffic = (input, { fake, n }) => {
      if (n === 2) fake.setTrafficByHand({ live: { blue: 100 }, mirror: {} }); // mirror switched off by hand
      void input;
    };
    fake.hooks.onNotify = async (n, { handle }) => {
      if (n.kind === 'approval_requested') await handle.executeUpdate(messages.approve, { args: [{ by: people.approver, stepIndex: n.approval!.stepIndex }] });
      if (n.kind === 'drift') await handle.executeUpdate(messages.abort, { args: [{ by: 'bob@contoso.com', reason: 'someone is fiddling' }] });
    };
    const r = await runRollout(env, { fake, workflowBundle: bundle });
    assert.equal(r.result.outcome, 'aborted');
    assert.deepEqual(writes(fake), ['blue 100% | mirror 20% → green'], 'the racing write was refused, and the rollback found the baseline already alone');
    assert.ok(r.result.rollback?.confirmed);
    assert.deepEqual(normalizeTraffic(fake.endpoint.traffic), { live: { blue: 100 }, mirror: {} });
  });
});

describe('inconclusive analyses', () => {
  test('with onInconclusive: extend, an inconclusive bake extends up to maxExtensions times, then rolls back', async () => {
    const fake = new FakeAzure();
    fake.metrics = () => metricsFor('inconclusive');
    const r = await runRollout(env, { fake, workflowBundle: bundle });
    assert.equal(r.result.outcome, 'rolled_back');
    assert.equal(fake.count('getMetricsSnapshot'), 33, '30 analyses in the 30m bake + 3 extensions');
    assert.match(r.result.reason, /step 1 \(mirror 20%\): analysis still inconclusive after 3 extension\(s\) of 1m \(maxExtensions 3\): .*candidate had 3 requests in the window, fewer than minRequests 100/);
  });

  test('an extension that turns conclusive lets the step pass', async () => {
    const fake = new FakeAzure();
    fake.metrics = (n) => metricsFor(n >= 29 && n <= 31 ? 'inconclusive' : 'pass');
    fake.hooks.onNotify = async (n, { handle }) => {
      if (n.kind === 'approval_requested') await handle.executeUpdate(messages.approve, { args: [{ by: people.approver, stepIndex: n.approval!.stepIndex }] });
    };
    const r = await runRollout(env, { fake, workflowBundle: bundle });
    assert.equal(r.result.outcome, 'promoted');
    assert.equal(r.result.verdicts.filter((v) => v.stepIndex === 0).length, 32, 'two extensions on the mirror step');
  });

  test('with onInconclusive: pause, an inconclusive bake holds for a person; resume accepts the step', async () => {
    const fake = new FakeAzure();
    fake.metrics = (n) => metricsFor(n <= 30 ? 'inconclusive' : 'pass');
    let held: RolloutStatus | undefined;
    fake.hooks.onNotify = async (n, { handle }) => {
      if (n.kind === 'approval_requested') await handle.executeUpdate(messages.approve, { args: [{ by: people.approver, stepIndex: n.approval!.stepIndex }] });
      if (n.kind === 'paused') {
        held = await handle.query(messages.status);
        await handle.executeUpdate(messages.resume, { args: [{ by: people.approver }] });
      }
    };
    const r = await runRollout(env, { fake, workflowBundle: bundle, plan: aPlanDocument((d) => (d.analysis.onInconclusive = 'pause')) });
    assert.match(held?.paused?.reason ?? '', /analysis inconclusive at the end of the bake/);
    assert.equal(held?.stage, 'mirror');
    assert.equal(r.result.outcome, 'promoted');
    assert.equal(r.result.verdicts.filter((v) => v.stepIndex === 0).length, 30, 'no extensions under pause');
  });
});
