/**
 * The Slack bridge against a local fake Slack: only signed, fresh, first-time requests from a user it can
 * name reach the rollout, the workflow's rules (here the same pure rules, through a fake gateway) decide,
 * and every outcome — applied or refused, with its reason — goes back to the user through response_url.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createSlackBridge } from '../../client/slack/bridge.js';
import { SLACK_APPROVE_ACTION_ID as APPROVE_ACTION_ID, SLACK_REJECT_ACTION_ID as REJECT_ACTION_ID, slackButtonValue } from '../../domain/approvals.js';
import { slackSignature, verifySlackRequest } from '../../client/slack/verify.js';
import { rolloutWorkflowId } from '../../domain/ids.js';
import { aPlanDocument } from '../support/builders.js';
import { FakeGateway } from './fake-gateway.js';
import { FakeSlack } from './fake-slack.js';

const SECRET = 'test-signing-secret';
const ID = rolloutWorkflowId(aPlanDocument().target as Parameters<typeof rolloutWorkflowId>[0]);
const slack = new FakeSlack();
let gateway: FakeGateway;
let clock = Date.parse('2026-11-25T08:05:00.000Z');

function awaiting(startedBy = 'ci@contoso.com', stepIndex = 2): FakeGateway {
  const g = new FakeGateway();
  g.add(aPlanDocument(), startedBy, {
    stage: 'approval',
    stepIndex,
    stepText: 'approval',
    pendingApproval: { stepIndex, stepText: 'approval', requestedAt: '2026-11-25T08:02:00.000Z', timeoutAt: '2026-11-26T08:02:00.000Z', onTimeout: 'rollback', approvers: ['alice@contoso.com', 'slack:U024BE7LH'] },
  });
  return g;
}

function bridge(g: FakeGateway) {
  return createSlackBridge({ signingSecret: SECRET, botToken: slack.token, apiUrl: slack.apiUrl, responseUrlPrefixes: [slack.url], gateway: g, now: () => clock });
}

let seq = 0;
/** A signed block_actions request as Slack sends it. */
function click(opts: { user?: string; action?: string; stepIndex?: number; workflowId?: string; ageSeconds?: number; secret?: string; type?: string } = {}) {
  seq += 1;
  const payload = {
    type: opts.type ?? 'block_actions',
    user: { id: opts.user ?? 'U024BE7LH', username: 'someone', team_id: 'T0001' },
    actions: [{ action_id: opts.action ?? APPROVE_ACTION_ID, value: slackButtonValue(opts.workflowId ?? ID, opts.stepIndex ?? 2) }],
    response_url: slack.responseUrl(`r${seq}`),
    container: { channel_id: 'C0123456', message_ts: '1764057600.000001' },
  };
  const rawBody = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const ts = String(Math.floor(clock / 1000) - (opts.ageSeconds ?? 0));
  return { method: 'POST', headers: { 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(opts.secret ?? SECRET, ts, rawBody), 'content-type': 'application/x-www-form-urlencoded' }, rawBody, responseUrl: payload.response_url };
}

function responsesTo(url: string) {
  return slack.calls.filter((c) => `${slack.url}${c.path}` === url).map((c) => c.body);
}

before(async () => {
  await slack.start();
  slack.users.set('U0ALICE', 'alice@contoso.com');
  slack.users.set('U0MALLORY', 'mallory@contoso.com');
});
after(() => slack.stop());
beforeEach(() => {
  gateway = awaiting();
  clock += 1000;
});

describe('signature verification', () => {
  test('accepts the signature Slack documents and refuses a tampered body', () => {
    // Slack's documented example: https://api.slack.com/authentication/verifying-requests-from-slack
    const body = 'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    const secret = '8f742231b10e8888abcd99yyyzzz85a5';
    const signature = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
    assert.deepEqual(verifySlackRequest({ secret, timestamp: '1531420618', signature, rawBody: body, nowMs: 1531420618_000 }), { ok: true });
    assert.equal(verifySlackRequest({ secret, timestamp: '1531420618', signature, rawBody: `${body}x`, nowMs: 1531420618_000 }).ok, false);
  });
});

describe('glidepath slack serve', () => {
  test('a valid click from a listed Slack approver approves, acknowledged at once and reported through response_url', async () => {
    const server = await bridge(gateway).listen(0, '127.0.0.1');
    try {
      const c = click({ user: 'U024BE7LH' });
      const res = await fetch(server.url, { method: 'POST', headers: c.headers, body: c.rawBody });
      assert.equal(res.status, 200);
      for (let i = 0; i < 50 && responsesTo(c.responseUrl).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(gateway.applied, [
        { workflowId: ID, message: 'approve', input: { by: 'slack:U024BE7LH', comment: 'via Slack', stepIndex: 2, channel: 'slack', clientIdentity: gateway.identity } },
      ]);
      assert.deepEqual(gateway.rollouts.get(ID)!.status.approvals.map((a) => [a.decision, a.stepIndex, a.by, a.channel, a.clientIdentity]), [
        ['approved', 2, 'slack:U024BE7LH', 'slack', gateway.identity],
      ]);
      const [answer] = responsesTo(c.responseUrl);
      assert.equal(answer!.replace_original, true);
      assert.match(String(answer!.text), /Approved by <@U024BE7LH> \(slack:U024BE7LH\)/);
    } finally {
      await server.close();
    }
  });

  test('a user the plan lists by e-mail approves as that e-mail (users.info with the bot token)', async () => {
    const c = click({ user: 'U0ALICE' });
    const r = bridge(gateway).handle(c);
    assert.equal(r.status, 200);
    const outcome = await r.done;
    assert.deepEqual(outcome, { applied: true, workflowId: ID, decision: 'approve', by: 'alice@contoso.com', message: 'approve by alice@contoso.com' });
    const lookup = slack.calls.filter((x) => x.path === '/api/users.info').at(-1)!;
    assert.equal(lookup.authorization, `Bearer ${slack.token}`);
  });

  test('a reject click rejects', async () => {
    const outcome = await bridge(gateway).handle(click({ user: 'U024BE7LH', action: REJECT_ACTION_ID })).done;
    assert.equal(outcome?.applied, true);
    assert.equal(gateway.applied[0]!.message, 'reject');
  });

  const refusals: { name: string; status: number; reason: RegExp; make: () => ReturnType<typeof click>; setup?: () => void; tellsUser: boolean }[] = [
    { name: 'a bad signature', status: 401, reason: /bad signature/, make: () => click({ secret: 'not-the-secret' }), tellsUser: false },
    { name: 'a stale timestamp', status: 401, reason: /stale timestamp/, make: () => click({ ageSeconds: 6 * 60 }), tellsUser: false },
    { name: 'an unknown user', status: 200, reason: /unknown Slack user U0NOBODY/, make: () => click({ user: 'U0NOBODY' }), tellsUser: true },
    { name: 'a user not among the approvers', status: 200, reason: /mallory@contoso.com is not an allowed approver/, make: () => click({ user: 'U0MALLORY' }), tellsUser: true },
    {
      name: 'the starter under four-eyes',
      status: 200,
      reason: /alice@contoso.com started this rollout and four-eyes is on/,
      make: () => click({ user: 'U0ALICE' }),
      setup: () => (gateway = awaiting('alice@contoso.com')),
      tellsUser: true,
    },
    {
      name: 'a click on an approval that is no longer pending',
      status: 200,
      reason: /no longer pending \(the rollout is at canary: canary 10%\)/,
      make: () => click({ user: 'U024BE7LH' }),
      setup: () => {
        const r = gateway.rollouts.get(ID)!;
        Object.assign(r.status, { stage: 'canary', stepIndex: 3, stepText: 'canary 10%', pendingApproval: null });
      },
      tellsUser: true,
    },
    {
      name: "a click on an older step's approval button",
      status: 200,
      reason: /cannot approve step 3 \(approval\): the rollout awaits step 5 \(approval\)/,
      make: () => click({ user: 'U024BE7LH', stepIndex: 2 }),
      setup: () => (gateway = awaiting('ci@contoso.com', 4)),
      tellsUser: true,
    },
    {
      name: 'a request without Slack headers',
      status: 401,
      reason: /missing X-Slack-Request-Timestamp/,
      make: () => ({ ...click(), headers: { 'x-slack-request-timestamp': '', 'x-slack-signature': '', 'content-type': 'application/x-www-form-urlencoded' } }),
      tellsUser: false,
    },
  ];
  for (const c of refusals) {
    test(`${c.name} is refused with a reason and changes nothing`, async () => {
      c.setup?.();
      const before = JSON.stringify([...gateway.rollouts.values()].map((r) => r.status));
      const req = c.make();
      const r = bridge(gateway).handle(req);
      assert.equal(r.status, c.status);
      const outcome = await r.done;
      assert.equal(outcome?.applied, false);
      assert.match(outcome && !outcome.applied ? outcome.reason : '', c.reason);
      assert.equal(gateway.applied.length, 0, 'no update applied');
      assert.equal(JSON.stringify([...gateway.rollouts.values()].map((x) => x.status)), before, 'rollout state unchanged');
      const told = responsesTo(req.responseUrl);
      if (c.tellsUser) {
        assert.equal(told.length, 1);
        assert.equal(told[0]!.response_type, 'ephemeral');
        assert.match(String(told[0]!.text), c.reason);
      } else {
        assert.equal(told.length, 0, 'unverified requests get no response_url call');
      }
    });
  }

  test('a replayed request is refused even within the 5-minute window, and applies once', async () => {
    const b = bridge(gateway);
    const req = click({ user: 'U024BE7LH' });
    assert.equal((await b.handle(req).done)?.applied, true);
    const again = b.handle(req);
    assert.equal(again.status, 401);
    assert.match(again.body, /replayed/);
    assert.equal(gateway.applied.length, 1);
  });

  test('acknowledges within Slack’s 3 seconds even when the rollout is slow to answer', async () => {
    gateway.statusDelayMs = 3500;
    const server = await bridge(gateway).listen(0, '127.0.0.1');
    try {
      const c = click({ user: 'U024BE7LH' });
      const t0 = Date.now();
      const res = await fetch(server.url, { method: 'POST', headers: c.headers, body: c.rawBody });
      const ackMs = Date.now() - t0;
      assert.equal(res.status, 200);
      assert.ok(ackMs < 1000, `acknowledged in ${ackMs} ms`);
      for (let i = 0; i < 100 && responsesTo(c.responseUrl).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(responsesTo(c.responseUrl).length, 1, 'the outcome arrives later through response_url');
    } finally {
      await server.close();
    }
  });

  test('payloads other than block_actions and buttons that are not ours are acknowledged and ignored', async () => {
    const b = bridge(gateway);
    const r1 = b.handle(click({ type: 'view_submission' }));
    const r2 = b.handle(click({ action: 'someone_elses_button' }));
    assert.deepEqual([r1.status, r2.status], [200, 200]);
    await Promise.all([r1.done, r2.done]);
    assert.equal(gateway.calls.length, 0);
  });
});
