/**
 * Checks of the adversarial review (issue 13) that held, kept as tests so they keep holding: against a
 * running Slack bridge (HTTP in this process, a fake Slack, a gateway judging messages by the workflow's
 * own rules), a forged signature, a body changed after signing, a replayed request, a stale or future
 * timestamp and an oversized body are refused before anything is decided, and a Slack user who is not an
 * approver (or who started the rollout, under four-eyes) is refused with the reason told to them.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createSlackBridge } from '../../client/slack/bridge.js';
import { slackSignature } from '../../client/slack/verify.js';
import { SLACK_APPROVE_ACTION_ID, slackButtonValue } from '../../domain/approvals.js';
import { rolloutWorkflowId } from '../../domain/ids.js';
import { aPlanDocument } from '../support/builders.js';
import { FakeGateway } from '../client-unit/fake-gateway.js';
import { FakeSlack } from '../client-unit/fake-slack.js';

const SECRET = 'held-signing-secret';
const ID = rolloutWorkflowId(aPlanDocument().target as Parameters<typeof rolloutWorkflowId>[0]);
const slack = new FakeSlack();
let gateway: FakeGateway;
let server: { url: string; close(): Promise<void> };
let seq = 0;

function awaiting(startedBy = 'ci@contoso.com'): FakeGateway {
  const g = new FakeGateway();
  g.add(aPlanDocument(), startedBy, {
    stage: 'approval',
    stepIndex: 2,
    stepText: 'approval',
    pendingApproval: { stepIndex: 2, stepText: 'approval', requestedAt: '2026-11-25T08:02:00.000Z', timeoutAt: '2026-11-26T08:02:00.000Z', onTimeout: 'rollback', approvers: ['alice@contoso.com', 'slack:U024BE7LH'] },
  });
  return g;
}

async function serve(g: FakeGateway) {
  await server?.close();
  gateway = g;
  server = await createSlackBridge({ signingSecret: SECRET, botToken: slack.token, apiUrl: slack.apiUrl, responseUrlPrefixes: [slack.url], gateway: g }).listen(0, '127.0.0.1');
}

function aClick(user = 'U024BE7LH') {
  seq += 1;
  const responseUrl = slack.responseUrl(`held${seq}`);
  const payload = { type: 'block_actions', user: { id: user }, actions: [{ action_id: SLACK_APPROVE_ACTION_ID, value: slackButtonValue(ID, 2) }], response_url: responseUrl };
  return { body: `payload=${encodeURIComponent(JSON.stringify(payload))}`, responseUrl };
}

function post(body: string, headers: Record<string, string>) {
  return fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
}

const nowS = () => Math.floor(Date.now() / 1000);
const signed = (body: string, ts = String(nowS()), secret = SECRET) => ({ 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(secret, ts, body) });

async function answerTo(responseUrl: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 100; i++) {
    const hit = slack.calls.find((c) => `${slack.url}${c.path}` === responseUrl);
    if (hit) return hit.body;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`nothing posted to ${responseUrl}`);
}

before(async () => {
  await slack.start();
  slack.users.set('U0ALICE', 'alice@contoso.com');
  slack.users.set('U0MALLORY', 'mallory@contoso.com');
});
after(async () => {
  await server?.close();
  await slack.stop();
});
beforeEach(() => serve(awaiting()));

describe('requests that are not from Slack, or not now, decide nothing', () => {
  test('a forged signature (another secret) → 401', async () => {
    const c = aClick();
    const res = await post(c.body, signed(c.body, undefined, 'guessed-secret'));
    assert.equal(res.status, 401);
    assert.equal(await res.text(), 'bad signature');
    assert.equal(gateway.applied.length, 0);
  });

  test('a body changed after signing (another user id) → 401', async () => {
    const c = aClick();
    const headers = signed(c.body);
    const res = await post(c.body.replace('U024BE7LH', 'U0MALLORY'), headers);
    assert.equal(res.status, 401);
    assert.equal(gateway.applied.length, 0);
  });

  test('the same signed request sent twice is applied once; the replay → 401', async () => {
    const c = aClick();
    const headers = signed(c.body);
    assert.equal((await post(c.body, headers)).status, 200);
    await answerTo(c.responseUrl);
    const again = await post(c.body, headers);
    assert.equal(again.status, 401);
    assert.equal(await again.text(), 'replayed request');
    assert.equal(gateway.applied.length, 1);
  });

  for (const [what, offset] of [['six minutes old', -360], ['six minutes in the future', 360]] as const) {
    test(`a timestamp ${what} → 401 stale`, async () => {
      const c = aClick();
      const res = await post(c.body, signed(c.body, String(nowS() + offset)));
      assert.equal(res.status, 401);
      assert.match(await res.text(), /stale timestamp/);
      assert.equal(gateway.applied.length, 0);
    });
  }

  test('no signature headers at all → 401', async () => {
    const c = aClick();
    assert.equal((await post(c.body, {})).status, 401);
  });

  test('a signed body over 256 KiB → 413, and the bridge still answers', async () => {
    const body = `payload=${'x'.repeat(256 * 1024)}`;
    const res = await post(body, signed(body));
    assert.equal(res.status, 413);
    assert.equal(await (await fetch(`${server.url}/healthz`)).text(), 'ok');
  });
});

describe('a person who may not decide is refused, and told why', () => {
  test('a Slack user whose e-mail is not among the approvers', async () => {
    const c = aClick('U0MALLORY');
    assert.equal((await post(c.body, signed(c.body))).status, 200);
    const answer = await answerTo(c.responseUrl);
    assert.match(String(answer.text), /Not applied — .*mallory@contoso\.com is not an allowed approver/);
    assert.equal(gateway.applied.length, 0);
  });

  test('the starter, under four-eyes, even as a listed approver', async () => {
    await serve(awaiting('alice@contoso.com'));
    const c = aClick('U0ALICE');
    assert.equal((await post(c.body, signed(c.body))).status, 200);
    const answer = await answerTo(c.responseUrl);
    assert.match(String(answer.text), /alice@contoso\.com started this rollout and four-eyes is on/);
    assert.equal(gateway.applied.length, 0);
  });

  test('a user Slack does not know', async () => {
    const c = aClick('U0NOBODY');
    assert.equal((await post(c.body, signed(c.body))).status, 200);
    assert.match(String((await answerTo(c.responseUrl)).text), /unknown Slack user U0NOBODY/);
    assert.equal(gateway.applied.length, 0);
  });
});
