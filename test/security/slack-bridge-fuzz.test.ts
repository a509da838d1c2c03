/**
 * Issue 13, finding 7: a signed `payload=null` ended the `glidepath slack serve` process (a TypeError in a
 * promise nobody awaited), and Slack approvals stopped until someone restarted it. Here a running bridge
 * takes 1,200 generated requests — seeded, signed with the bridge's secret and unsigned: JSON of every
 * shape, fields of the wrong type, null, huge strings, bad form encoding, oversized bodies, bad headers —
 * and answers each with the status it should, never a 5xx and never an unhandled error: first the HTTP
 * server in this process (a fake gateway: a valid click afterwards approves), then a real
 * `glidepath slack serve` process on a dev server (still running afterwards, and a valid click still goes
 * through Temporal and is answered on its response_url). Before the fix the process died on request 13.
 */
import { seededRandom } from '../../emulator/core.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createSlackBridge } from '../../client/slack/bridge.js';
import { slackSignature } from '../../client/slack/verify.js';
import { SLACK_APPROVE_ACTION_ID, SLACK_REJECT_ACTION_ID, slackButtonValue } from '../../domain/approvals.js';
import { rolloutWorkflowId } from '../../domain/ids.js';
import { aPlanDocument } from '../support/builders.js';
import { FakeGateway } from '../client-unit/fake-gateway.js';
import { FakeSlack } from '../client-unit/fake-slack.js';
import { createDevEnv, repoRoot } from '../support/temporal.js';

const SECRET = 'fuzz-signing-secret';
const SEED = 0x13_0007;
const CASES = 1200;
const ID = rolloutWorkflowId(aPlanDocument().target as Parameters<typeof rolloutWorkflowId>[0]);

/** mulberry32, seeded (the emulator's generator), so a failing case can be replayed. */
const rng = seededRandom;

const slack = new FakeSlack();
let gateway: FakeGateway;
let server: { url: string; close(): Promise<void> };
const unhandled: unknown[] = [];
const onUnhandled = (err: unknown) => unhandled.push(err);

before(async () => {
  await slack.start();
  gateway = new FakeGateway();
  gateway.add(aPlanDocument(), 'ci@contoso.com', {
    stage: 'approval',
    stepIndex: 2,
    stepText: 'approval',
    pendingApproval: { stepIndex: 2, stepText: 'approval', requestedAt: '2026-11-25T08:02:00.000Z', timeoutAt: '2026-11-26T08:02:00.000Z', onTimeout: 'rollback', approvers: ['slack:U024BE7LH'] },
  });
  const bridge = createSlackBridge({ signingSecret: SECRET, botToken: slack.token, apiUrl: slack.apiUrl, responseUrlPrefixes: [slack.url], gateway });
  server = await bridge.listen(0, '127.0.0.1');
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUnhandled);
});
after(async () => {
  process.off('unhandledRejection', onUnhandled);
  process.off('uncaughtException', onUnhandled);
  await server.close();
  await slack.stop();
});

interface Case {
  name: string;
  method: string;
  headers: Record<string, string>;
  body: string;
  /** The statuses this request may get. */
  expect: number[];
}

/** One HTTP request with a raw body (fetch would normalise what we want to send malformed). */
function send(c: Case, base = server.url): Promise<number> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: '/slack/actions', method: c.method, headers: { ...c.headers, 'content-length': String(Buffer.byteLength(c.body)) }, timeout: 3000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within 3 s to ${c.name}`)));
    req.on('error', reject);
    req.end(c.body);
  });
}

function generate(): Case[] {
  const r = rng(SEED);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const int = (n: number) => Math.floor(r() * n);
  const huge = () => 'A'.repeat(10_000 + int(150_000));
  const junkString = () => pick(['', ' ', '\u0000', '\u001b[2J', '%', '💥'.repeat(50), 'null', 'U024BE7LH', '{"w":', huge()]);
  const wrongTyped = (): unknown => pick([null, 0, -1, 1e308, true, [], {}, [null], [[]], { '': '' }, junkString(), '__proto__']);
  // Buttons that are never valid clicks on the awaited rollout (other workflow ids), so the fuzz decides nothing.
  const value = (): unknown => pick([slackButtonValue(`fuzz-${int(1e6)}`, int(5)), '{"w":null,"s":2}', '{"w":"x","s":-1}', '{"w":"x","s":1e400}', 'not json', wrongTyped()]);
  const action = (): unknown => pick([{ action_id: pick([SLACK_APPROVE_ACTION_ID, SLACK_REJECT_ACTION_ID, 'other', wrongTyped()]), value: value() }, wrongTyped()]);
  const payload = (): unknown =>
    pick([
      null,
      wrongTyped(),
      { type: pick(['block_actions', 'view_submission', wrongTyped()]) },
      {
        type: 'block_actions',
        user: pick([{ id: pick(['U024BE7LH', 'U0NOBODY', wrongTyped()]) }, wrongTyped()]),
        actions: pick([[action()], [action(), action()], wrongTyped()]),
        response_url: pick([slack.responseUrl(`f${int(1e6)}`), 'https://evil.example/steal', wrongTyped()]),
        container: wrongTyped(),
      },
      { type: 'block_actions', user: { id: 'U024BE7LH' }, actions: [{ action_id: SLACK_APPROVE_ACTION_ID, value: slackButtonValue(`fuzz-${int(1e6)}`, 2) }], response_url: 12 },
      { __proto__: { type: 'block_actions' }, constructor: { prototype: { polluted: true } } },
    ]);
  const form = (): { body: string; parses: boolean } => {
    switch (int(6)) {
      case 0:
        return { body: `payload=${pick(['%E0%A4%A', '%%%', '%00', ''])}`, parses: false };
      case 1:
        return { body: pick(['', '=', '&&&', 'payload', 'x=1', '\u0000\u0001\u0002']), parses: false };
      case 2:
        return { body: `payload=${encodeURIComponent('{"type":"block_actions",')}`, parses: false };
      case 3:
        return { body: `payload=${encodeURIComponent(JSON.stringify(payload()))}&payload=null`, parses: true };
      default:
        return { body: `payload=${encodeURIComponent(JSON.stringify(payload()) ?? 'undefined')}`, parses: true };
    }
  };

  const cases: Case[] = [];
  const nowS = () => Math.floor(Date.now() / 1000);
  for (let i = 0; i < CASES; i++) {
    const kind = int(10);
    const f = form();
    // A unique field per request, so no two signed requests share a signature (a repeat is a replay: 401).
    const body = `${f.body}&fuzz=${i}`;
    const ts = String(nowS());
    const base = { 'content-type': pick(['application/x-www-form-urlencoded', 'application/json', 'text/plain']) };
    if (kind <= 4) {
      // Signed: the body decides. Anything that is not a JSON object in `payload` is a 400; an object is acknowledged.
      cases.push({ name: `signed #${i}: ${body.slice(0, 80)}`, method: 'POST', headers: { ...base, 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(SECRET, ts, body) }, body, expect: [200, 400] });
    } else if (kind === 5) {
      const big = `payload=${'x'.repeat(256 * 1024 + 1 + int(768 * 1024))}&fuzz=${i}`;
      const signed = r() < 0.5;
      cases.push({ name: `oversized #${i} (${big.length} bytes, ${signed ? 'signed' : 'unsigned'})`, method: 'POST', headers: { ...base, 'x-slack-request-timestamp': ts, 'x-slack-signature': signed ? slackSignature(SECRET, ts, big) : 'v0=00' }, body: big, expect: [413] });
    } else if (kind === 6) {
      cases.push({ name: `unsigned #${i}`, method: 'POST', headers: base, body, expect: [401] });
    } else if (kind === 7) {
      const [tsH, sigH] = pick([
        [ts, slackSignature('not-the-secret', ts, body)],
        [String(nowS() - 3600), slackSignature(SECRET, String(nowS() - 3600), body)],
        ['abc', slackSignature(SECRET, 'abc', body)],
        ['9'.repeat(40), 'v0=' + 'f'.repeat(64)],
        [ts, 'v0=' + huge().slice(0, 4000)],
        [ts, ''],
        ['-1', 'v1=zz'],
      ]);
      cases.push({ name: `badly signed #${i} (ts ${tsH.slice(0, 20)})`, method: 'POST', headers: { ...base, 'x-slack-request-timestamp': tsH, 'x-slack-signature': sigH }, body, expect: [401] });
    } else if (kind === 8) {
      cases.push({ name: `method #${i}`, method: pick(['GET', 'PUT', 'DELETE', 'PATCH']), headers: base, body: pick(['', body]), expect: [405, 401] });
    } else {
      // Signed, with a payload that parses as an object with wrong types in every field.
      const p = JSON.stringify({ type: 'block_actions', user: wrongTyped(), actions: wrongTyped(), response_url: wrongTyped(), container: wrongTyped() });
      const b = `payload=${encodeURIComponent(p)}&fuzz=${i}`;
      cases.push({ name: `signed wrong types #${i}`, method: 'POST', headers: { ...base, 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(SECRET, ts, b) }, body: b, expect: [200] });
    }
  }
  return cases;
}

/** Sends every case, 16 at a time; returns the statuses seen and the wrong answers (at most ~20, then stops). */
async function fuzz(cases: Case[], base: string) {
  const seen = new Map<number, number>();
  const wrong: string[] = [];
  for (let i = 0; i < cases.length && wrong.length < 20; i += 16) {
    const batch = cases.slice(i, i + 16);
    const statuses = await Promise.all(batch.map((c) => send(c, base).catch((err: Error) => (wrong.push(`${c.name}: ${err.message}`), -1))));
    batch.forEach((c, j) => {
      const s = statuses[j]!;
      seen.set(s, (seen.get(s) ?? 0) + 1);
      if (s !== -1 && !c.expect.includes(s)) wrong.push(`${c.name}: ${s}, expected ${c.expect.join(' or ')}`);
    });
  }
  return { seen, wrong };
}

test('the bridge answers 1,200 fuzzed requests (signed and unsigned) with a 4xx or 200 each, stays up, and then applies a valid click', async () => {
  const started = Date.now();
  const cases = generate();
  const { seen, wrong } = await fuzz(cases, server.url);
  const elapsed = Date.now() - started;
  assert.deepEqual(wrong.slice(0, 10), [], `seed ${SEED}: ${wrong.length} requests answered wrongly`);
  assert.deepEqual(unhandled.map(String), [], 'no unhandled rejection or exception in the bridge');
  for (const s of [200, 400, 401, 405, 413]) assert.ok((seen.get(s) ?? 0) > 0, `the fuzz produced some ${s} answers (saw ${JSON.stringify([...seen])})`);
  assert.ok(elapsed < 90_000, `the fuzz took ${elapsed} ms`);
  assert.equal(gateway.applied.length, 0, 'no fuzzed request decided anything');

  // Still up: healthz, and a valid click from the listed approver approves.
  assert.equal(await (await fetch(`${server.url}/healthz`)).text(), 'ok');
  const payload = { type: 'block_actions', user: { id: 'U024BE7LH' }, actions: [{ action_id: SLACK_APPROVE_ACTION_ID, value: slackButtonValue(ID, 2) }], response_url: slack.responseUrl('final') };
  const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const ts = String(Math.floor(Date.now() / 1000));
  const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(SECRET, ts, body) }, body });
  assert.equal(res.status, 200);
  for (let i = 0; i < 100 && gateway.applied.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(gateway.applied.map((a) => [a.workflowId, a.message, a.input.by]), [[ID, 'approve', 'slack:U024BE7LH']]);
  console.log(`# fuzz: ${cases.length} requests in ${elapsed} ms, statuses ${JSON.stringify(Object.fromEntries(seen))}`);
});

test('a real `glidepath slack serve` process takes the same 1,200 requests and is still running and applying clicks afterwards', async () => {
  const env = await createDevEnv();
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'glidepath.js'), 'slack', 'serve', '--port', '0', '--host', '127.0.0.1'], {
    cwd: repoRoot,
    env: { ...process.env, TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: env.namespace ?? 'default', SLACK_SIGNING_SECRET: SECRET, SLACK_BOT_TOKEN: slack.token, SLACK_API_URL: slack.apiUrl, GLIDEPATH_SLACK_RESPONSE_URL_PREFIXES: slack.url },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    let url = '';
    for (let i = 0; i < 300 && !url; i++) {
      url = /listening on (http:\/\/\S+)/.exec(log)?.[1] ?? '';
      if (!url) await new Promise((r) => setTimeout(r, 100));
      assert.equal(child.exitCode, null, `slack serve exited early: ${log}`);
    }
    assert.ok(url, `slack serve did not start: ${log}`);
    const started = Date.now();
    const { seen, wrong } = await fuzz(generate(), url);
    const elapsed = Date.now() - started;
    assert.deepEqual(wrong.slice(0, 10), [], `seed ${SEED}: ${wrong.length} requests answered wrongly; log: ${log.slice(-2000)}`);
    assert.equal(child.exitCode, null, `the process is still running (log: ${log.slice(-2000)})`);
    assert.ok(elapsed < 120_000, `the fuzz took ${elapsed} ms`);

    // Still answering, and still applying clicks through Temporal: a valid click on a rollout that does
    // not exist is refused with the reason, posted to its response_url.
    assert.equal(await (await fetch(`${url}/healthz`)).text(), 'ok');
    const responseUrl = slack.responseUrl('after-fuzz');
    const payload = { type: 'block_actions', user: { id: 'U024BE7LH' }, actions: [{ action_id: SLACK_APPROVE_ACTION_ID, value: slackButtonValue(ID, 2) }], response_url: responseUrl };
    const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
    const ts = String(Math.floor(Date.now() / 1000));
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(SECRET, ts, body) }, body });
    assert.equal(res.status, 200);
    let answer: Record<string, unknown> | undefined;
    for (let i = 0; i < 150 && !answer; i++) {
      answer = slack.calls.find((c) => `${slack.url}${c.path}` === responseUrl)?.body;
      if (!answer) await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(String(answer?.text), /Not applied — .*no rollout found/, log.slice(-2000));
    console.log(`# slack serve process: ${CASES} requests in ${elapsed} ms, statuses ${JSON.stringify(Object.fromEntries(seen))}`);
  } finally {
    child.kill('SIGTERM');
    await exited;
    await env.teardown();
  }
});
