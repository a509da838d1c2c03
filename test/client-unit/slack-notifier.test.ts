/**
 * The Slack notifier against a local fake Web API: Block Kit approval requests with the gate table and
 * buttons the bridge understands, chat.update of the approval message with the decision, the bot token
 * on every call, and delivery problems reported as `delivered: false` instead of failing the rollout.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createSlackNotifier } from '../../activities/slack-notifier.js';
import type { NotifyInput } from '../../activities/types.js';
import { SLACK_APPROVE_ACTION_ID as APPROVE_ACTION_ID, SLACK_REJECT_ACTION_ID as REJECT_ACTION_ID, approvalNotice, parseSlackButtonValue as parseButtonValue } from '../../domain/approvals.js';
import { parsePlan } from '../../domain/plan.js';
import { aPlanDocument } from '../support/builders.js';
import { statusFor } from './fake-gateway.js';
import { aVerdict } from './result-builder.js';
import { FakeSlack } from './fake-slack.js';

const slack = new FakeSlack();
const WF = 'glidepath-rollout:/subscriptions/0/x/onlineendpoints/fraud-detection';
const base = { workflowId: WF, endpoint: 'fraud-detection', candidate: 'green', channel: 'C0123456' } as const;
const plan = parsePlan(aPlanDocument());
const status = statusFor(plan.ok ? plan.plan : (undefined as never), 'ci@contoso.com', {
  lastVerdicts: [aVerdict(0, 2, [101, 0.001], [187, 0.004])],
  traffic: { live: { blue: 100 }, mirror: { green: 20 } },
  pendingApproval: { stepIndex: 2, stepText: 'approval', requestedAt: '2026-11-25T08:02:00.000Z', timeoutAt: '2026-11-26T08:02:00.000Z', onTimeout: 'rollback', approvers: ['alice@contoso.com', 'slack:U024BE7LH'] },
});
/** As the workflow sends it: the text, the flat fields, and the approval notice built from its status. */
const approvalRequest: NotifyInput = {
  ...base,
  kind: 'approval_requested',
  text: 'Approval needed for step 3 (approval) on fraud-detection',
  fields: { stepIndex: 2, approvers: 'alice@contoso.com, slack:U024BE7LH', timeoutAt: '2026-11-26T08:02:00.000Z', onTimeout: 'rollback', fourEyes: true, startedBy: 'ci@contoso.com' },
  approval: approvalNotice(status, plan.ok ? plan.plan : (undefined as never))!,
};

before(() => slack.start());
after(() => slack.stop());

function notifier(token = slack.token) {
  return createSlackNotifier({ token, apiUrl: slack.apiUrl });
}

describe('Slack notifier', () => {
  test('an approval request is a Block Kit message with the gate table and Approve / Reject buttons for this step', async () => {
    const n = notifier();
    const from = slack.calls.length;
    assert.deepEqual(await n.notify(approvalRequest), { delivered: true });
    const [post] = slack.calls.slice(from);
    assert.equal(post!.path, '/api/chat.postMessage');
    assert.equal(post!.authorization, `Bearer ${slack.token}`);
    assert.equal(post!.answer.ok, true, JSON.stringify(post!.answer));
    assert.equal(post!.body.channel, 'C0123456');
    const blocks = post!.body.blocks as { type: string; elements?: { action_id: string; value: string }[]; text?: { text: string } }[];
    const actions = blocks.find((b) => b.type === 'actions')!;
    assert.deepEqual(actions.elements!.map((e) => e.action_id), [APPROVE_ACTION_ID, REJECT_ACTION_ID]);
    for (const e of actions.elements!) assert.deepEqual(parseButtonValue(e.value), { workflowId: WF, stepIndex: 2 });
    const table = blocks.map((b) => b.text?.text ?? '').join('\n');
    assert.match(table, /p99 latency\s+101 ms\s+187 ms/);
    assert.match(table, /5xx rate\s+0\.10%\s+0\.40%/);
    const shown = JSON.stringify(blocks);
    assert.match(shown, /Approval needed for step 3 \(approval\)/, 'the header names the step');
    assert.match(shown, /\*Step\*\\nstep 3 \(approval\)/);
    assert.match(shown, /\*Traffic\*\\nblue 100%/);
  });

  test('an approval request from a workflow that sends only the flat fields still gets buttons for its step (no query back)', async () => {
    const from = slack.calls.length;
    const { approval: _, ...legacy } = approvalRequest;
    assert.deepEqual(await notifier().notify(legacy), { delivered: true });
    const blocks = slack.calls[from]!.body.blocks as { type: string; elements?: { value: string }[] }[];
    for (const e of blocks.find((b) => b.type === 'actions')!.elements!) assert.deepEqual(parseButtonValue(e.value), { workflowId: WF, stepIndex: 2 });
    assert.match(JSON.stringify(blocks), /No analysis has run yet/);
  });

  test('the approval message is updated with the decision and who made it, and loses its buttons', async () => {
    const n = notifier();
    await n.notify(approvalRequest);
    const posted = slack.calls.at(-1)!;
    const from = slack.calls.length;
    await n.notify({ ...base, kind: 'approval_recorded', text: 'Approved by alice@contoso.com (update) for step 3 (approval)' });
    const update = slack.calls.slice(from).find((c) => c.path === '/api/chat.update')!;
    assert.equal(update.answer.ok, true);
    assert.equal(update.body.ts, posted.answer.ts);
    assert.equal(update.body.channel, 'C0123456');
    assert.match(String(update.body.text), /Approved by alice@contoso.com/);
    assert.ok(!(update.body.blocks as { type: string }[]).some((b) => b.type === 'actions'), 'no buttons left');
  });

  test('a rejection (the rollout rolling back) closes the approval message too', async () => {
    const n = notifier();
    await n.notify(approvalRequest);
    const from = slack.calls.length;
    await n.notify({ ...base, kind: 'rollback_started', text: 'Rolling back fraud-detection: rejected by alice@contoso.com at step 3 (approval)' });
    const paths = slack.calls.slice(from).map((c) => c.path);
    assert.deepEqual(paths, ['/api/chat.update', '/api/chat.postMessage']);
    assert.match(String(slack.calls[from]!.body.text), /rejected by alice@contoso.com/);
  });

  for (const kind of ['started', 'step', 'rolled_back', 'promoted', 'retired'] as const) {
    test(`'${kind}' is posted with its text and fields`, async () => {
      const from = slack.calls.length;
      const r = await notifier().notify({ ...base, kind, text: `${kind} text with <b>`, fields: { stepIndex: 3, traffic: 'blue 90% | green 10%' } });
      assert.deepEqual(r, { delivered: true });
      const post = slack.calls[from]!;
      assert.equal(post.answer.ok, true);
      assert.match(String(post.body.text), new RegExp(`${kind} text`));
      assert.match(JSON.stringify(post.body.blocks), /&lt;b&gt;/, 'mrkdwn escaped');
    });
  }

  test('without a token nothing is sent; a Slack refusal is delivered:false, never an error', async () => {
    const from = slack.calls.length;
    assert.deepEqual(await createSlackNotifier({ token: undefined, apiUrl: slack.apiUrl }).notify({ ...base, kind: 'started', text: 'x' }), { delivered: false });
    assert.equal(slack.calls.length, from);
    assert.deepEqual(await notifier('xoxb-wrong').notify({ ...base, kind: 'started', text: 'x' }), { delivered: false });
    assert.equal(slack.calls.at(-1)!.answer.error, 'invalid_auth');
    assert.deepEqual(await createSlackNotifier({ token: 't', apiUrl: 'http://127.0.0.1:1/api' }).notify({ ...base, kind: 'started', text: 'x' }), { delivered: false });
  });
});
