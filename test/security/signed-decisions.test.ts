/**
 * Forged and self-asserted decisions against a real workflow (time-skipping server), issue 13 findings 1
 * and 2. Before the change: a raw update with a typed listed name approved the rollout; a signature
 * meant nothing; and a Slack user whose profile e-mail is the starter's approved as `slack:<id>`,
 * passing four-eyes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { workflowMetadataQuery } from '@temporalio/workflow';
import { createOidcVerifier } from '../../client/approvals/oidc.js';
import { createApprovalsServer } from '../../client/approvals/server.js';
import { defaultRuntime, main, type CliRuntime } from '../../client/cli.js';
import { createSigner } from '../../client/signer.js';
import { createSlackBridge, type ClickOutcome } from '../../client/slack/bridge.js';
import { slackSignature } from '../../client/slack/verify.js';
import { TemporalRolloutGateway, type MessageInput, type RolloutGateway } from '../../client/temporal.js';
import { SLACK_APPROVE_ACTION_ID, slackButtonValue } from '../../domain/approvals.js';
import * as messages from '../../workflows/messages.js';
import { FakeAzure, aPlanDocument, people, runRollout } from '../support/builders.js';
import { FakeIssuer } from '../support/fake-oidc.js';
import { signerKeys } from '../support/signers.js';
import { useTimeSkippingEnv } from '../support/suite.js';
import { FakeSlack } from '../client-unit/fake-slack.js';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
useTimeSkippingEnv((e, b) => ([env, bundle] = [e, b]));

const slack = new FakeSlack();
const issuer = new FakeIssuer();
before(async () => {
  await slack.start();
  await issuer.start();
  slack.users.set('U0BOB', 'bob@contoso.com');
  slack.users.set('U0CI', 'ci@contoso.com'); // the starter's Slack account
});
after(async () => {
  await slack.stop();
  await issuer.stop();
});

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof WorkflowUpdateFailedError, `expected WorkflowUpdateFailedError, got ${String(err)}`);
    return err.cause?.message ?? '';
  }
  return '(accepted)';
}

/** The gateway the bridge and the endpoint use, recording what they send (to replay it later, as an attacker with namespace access could from the history). */
function recording(gateway: RolloutGateway): { gateway: RolloutGateway; sent: MessageInput[] } {
  const sent: MessageInput[] = [];
  const g = Object.create(gateway) as RolloutGateway;
  g.send = (id, message, input) => {
    sent.push(structuredClone(input));
    return gateway.send(id, message, input);
  };
  return { gateway: g, sent };
}

/** A Slack click as Slack sends it (signed with the app's signing secret), through the bridge. */
function clicker(gateway: RolloutGateway, signer: ReturnType<typeof createSigner> | undefined) {
  const secret = 'test-signing-secret';
  const bridge = createSlackBridge({ signingSecret: secret, botToken: slack.token, apiUrl: slack.apiUrl, responseUrlPrefixes: [slack.url], gateway, ...(signer ? { signer } : {}) });
  let seq = 0;
  return (workflowId: string, stepIndex: number, user: string): Promise<ClickOutcome | undefined> => {
    seq += 1;
    const payload = { type: 'block_actions', user: { id: user }, actions: [{ action_id: SLACK_APPROVE_ACTION_ID, value: slackButtonValue(workflowId, stepIndex) }], response_url: slack.responseUrl(`sec-${seq}`) };
    const rawBody = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
    const ts = String(Math.floor(Date.now() / 1000));
    const r = bridge.handle({ method: 'POST', headers: { 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(secret, ts, rawBody) }, rawBody });
    assert.equal(r.status, 200, r.body);
    return r.done;
  };
}

describe('verified decisions (approvals.verified, the default when approvers are listed)', () => {
  test('a typed name is refused; a signed approval through the Slack bridge and one through the approvals endpoint are accepted and shown as verified; a replayed signed decision is refused', async () => {
    const connected = await TemporalRolloutGateway.connect({ connection: { address: env.address }, namespace: 'default', taskQueue: 'unused', address: env.address });
    const { gateway, sent } = recording(connected);
    // Signers sign with workflow time (the time-skipping server's clock), as a real signer's clock matches the server's.
    let clock = 0;
    const click = clicker(gateway, createSigner('slack-bridge', signerKeys['slack-bridge'], () => clock));
    const oidc = createOidcVerifier({ issuer: issuer.issuer, audience: issuer.audience, jwksUrl: issuer.jwksUrl, now: () => clock });
    const approvals = await createApprovalsServer({ verifyToken: oidc.verifyToken, signer: createSigner('approvals', signerKeys.approvals, () => clock), gateway }).listen(0, '127.0.0.1');
    const fake = new FakeAzure();
    const seen: Record<string, unknown> = {};
    try {
      fake.hooks.onNotify = async (n, { handle }) => {
        if (n.kind !== 'approval_requested') return;
        clock = await env.currentTimeMs();
        const id = handle.workflowId;
        if (n.approval!.stepIndex === 2) {
          // `temporal workflow update --name approve --input '{"by":"alice@contoso.com","stepIndex":2}'`: a listed name, typed.
          seen.typed = await refusal(handle.executeUpdate(messages.approve, { args: [{ by: people.approver, stepIndex: 2 }] }));
          seen.typedCli = await refusal(handle.executeUpdate(messages.approve, { args: [{ by: people.approver, stepIndex: 2, channel: 'cli' }] }));
          seen.slack = await click(id, 2, 'U0BOB');
          return;
        }
        // Step 5 (canary 50%): replay the bridge's signed decision of step 3, as is and re-aimed at step 5.
        const replay = sent[0]!;
        seen.replayed = await refusal(handle.executeUpdate(messages.approve, { args: [replay as never] }));
        seen.reaimed = await refusal(handle.executeUpdate(messages.approve, { args: [{ ...replay, stepIndex: 4 } as never] }));
        seen.statusBefore = await handle.query(messages.status);
        const token = issuer.token({ sub: '00u-alice', email: 'alice@contoso.com' }, { nowMs: clock });
        const out: string[] = [];
        const err: string[] = [];
        const real = defaultRuntime({ ...process.env, TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: 'default', GLIDEPATH_APPROVALS_URL: approvals.url, GLIDEPATH_APPROVALS_TOKEN: token });
        const rt: CliRuntime = { ...real, stdout: (t) => out.push(t), stderr: (t) => err.push(t) };
        try {
          seen.cli = { code: await main(['rollout', 'approve', id, '--step', '5', '--comment', 'canary clean'], rt), out: out.join('\n'), err: err.join('\n') };
        } finally {
          await real.close?.();
        }
        seen.details = (await handle.query(workflowMetadataQuery)).currentDetails ?? '';
      };
      const plan = aPlanDocument((d) => {
        delete d.approvals.verified; // the default: approvers are listed, so decisions must be signed
        d.approvals.approvers = ['alice@contoso.com', 'bob@contoso.com'];
      });
      const r = await runRollout(env, { fake, workflowBundle: bundle, plan, startedBy: people.starter });

      assert.match(String(seen.typed), /^cannot approve: this rollout counts only signed decisions \(approvals.verified\) and this one is unsigned — a typed name is not proof/);
      assert.match(String(seen.typedCli), /this one is unsigned/);
      assert.deepEqual(seen.slack, { applied: true, workflowId: r.handle.workflowId, decision: 'approve', by: 'bob@contoso.com', message: 'approved by bob@contoso.com for step 3 (approval)' });
      assert.equal(seen.replayed, 'cannot approve step 3 (approval): the rollout awaits step 5 (canary 50%)');
      assert.match(String(seen.reaimed), /^cannot approve: bad signature from slack-bridge/);
      const cli = seen.cli as { code: number; out: string; err: string };
      assert.equal(cli.code, 0, cli.err);
      assert.equal(cli.out, 'approve: approved by alice@contoso.com for step 5 (canary 50%) (verified: signed by approvals for alice@contoso.com)');

      assert.equal(r.result.outcome, 'promoted', r.result.reason);
      assert.deepEqual(
        r.result.approvals.map((a) => [a.stepIndex, a.decision, a.by, a.channel, a.verified, a.signer]),
        [
          [2, 'approved', 'bob@contoso.com', 'slack', true, 'slack-bridge'],
          [4, 'approved', 'alice@contoso.com', 'cli', true, 'approvals'],
        ],
      );
      const timeline = r.result.timeline.filter((e) => e.kind === 'approved').map((e) => e.text);
      assert.match(timeline[0]!, /^approved by bob@contoso.com \(slack, verified \(signed by slack-bridge\), client \S+\): via Slack$/);
      assert.match(timeline[1]!, /^approved by alice@contoso.com \(cli, verified \(signed by approvals\), client \S+\): canary clean$/);
      assert.match(String(seen.details), /\*\*Last decision\*\* approved by alice@contoso.com for step 5 \(cli, verified \(signed by approvals\)/, 'the Temporal UI shows who decided, through which signer');
      assert.ok(r.result.timeline.some((e) => e.text === 'decisions count only when signed by a trusted signer (slack-bridge, approvals)'));
      assert.ok(
        fake.notifications.some((n) => n.kind === 'approval_recorded' && /^Approved by alice@contoso.com \(cli, verified \(signed by approvals\)/.test(n.text)),
        'the notification says it was verified',
      );
    } finally {
      await approvals.close();
      await connected.close();
    }
  });

  test('a plan that requires signed decisions fails at once, before touching the endpoint, on a worker that trusts no signer', async () => {
    const fake = new FakeAzure();
    fake.trust = { signers: [], people: {} };
    const plan = aPlanDocument((d) => delete d.approvals.verified);
    await assert.rejects(runRollout(env, { fake, workflowBundle: bundle, plan }), (err: Error) => {
      assert.match(String((err as { cause?: Error }).cause?.message ?? err.message), /requires signed decisions .* the worker trusts no signer: set GLIDEPATH_DECISION_SIGNERS/);
      return true;
    });
    assert.equal(fake.count('ensureDeployment'), 0);
  });
});

describe('four-eyes compares people, not strings (finding 1)', () => {
  test('the Slack user whose profile e-mail is the starter cannot approve the rollout they started', async () => {
    const connected = await TemporalRolloutGateway.connect({ connection: { address: env.address }, namespace: 'default', taskQueue: 'unused', address: env.address });
    const click = clicker(connected, undefined);
    const fake = new FakeAzure();
    const seen: (ClickOutcome | undefined)[] = [];
    try {
      fake.hooks.onNotify = async (n, { handle }) => {
        if (n.kind !== 'approval_requested') return;
        seen.push(await click(handle.workflowId, n.approval!.stepIndex, 'U0CI'));
        await handle.executeUpdate(messages.reject, { args: [{ by: 'bob@contoso.com', stepIndex: n.approval!.stepIndex, reason: 'end of test' }] });
      };
      // Anyone may approve (no list), four-eyes on, no verification: as in the adversarial review.
      const plan = aPlanDocument((d) => {
        d.approvals = { approvers: [], fourEyes: true, verified: false };
      });
      const r = await runRollout(env, { fake, workflowBundle: bundle, plan, startedBy: 'ci@contoso.com' });
      assert.deepEqual(seen[0], { applied: false, workflowId: r.handle.workflowId, reason: 'cannot approve: ci@contoso.com started this rollout and four-eyes is on, so someone else must approve' });
      assert.equal(r.result.outcome, 'rejected');
      assert.deepEqual(r.result.approvals.map((a) => [a.decision, a.by]), [['rejected', 'bob@contoso.com']]);
    } finally {
      await connected.close();
    }
  });
});
