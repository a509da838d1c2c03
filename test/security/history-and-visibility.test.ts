/**
 * Checks of the adversarial review (issue 13) that held, on the real stack (dev server, emulator with live
 * traffic, a worker with the real activities and the Slack notifier, `glidepath slack serve` as a process):
 *
 * - a rollout approved through Slack leaves no secret in its history: not the Slack bot token, not the
 *   signing secret, not the endpoint's keys, not the Azure token — and a Key Vault reference in the plan
 *   travels as the reference it is (invariant 9);
 * - `rollout list --endpoint` and endpoint lookups quote what they put into a visibility query, so a
 *   crafted "endpoint" cannot widen the query to other rollouts.
 */
import { historyText } from '../support/history.js';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { slackSignature } from '../../client/slack/verify.js';
import { SLACK_APPROVE_ACTION_ID } from '../../domain/approvals.js';
import { armClient, RG, WS } from '../emulator/support.js';
import { shortPlan, startRig, type Rig } from '../e2e/support.js';

const SIGNING_SECRET = `sec-signing-${process.pid}-4f2a9c`;
const KEY_VAULT_REFERENCE = '${{keyvault:https://fraud-kv.vault.azure.net/secrets/db-password}}';
let rig: Rig;
let dir: string;
let workflowId: string;
let endpointKeys: string[] = [];

before(async () => {
  rig = await startRig();
  dir = mkdtempSync(join(tmpdir(), 'glidepath-sec-'));
});
after(async () => rig?.teardown());

describe('a rollout approved through Slack', () => {
  test('is promoted, and its history holds no secret the stack handed out', async () => {
    const stop = await rig.endpoint('sec-history');
    const keys = await armClient(rig.emulator).onlineEndpoints.listKeys(RG, WS, 'sec-history');
    endpointKeys = [keys.primaryKey ?? '', keys.secondaryKey ?? ''].filter(Boolean);
    assert.equal(endpointKeys.length, 2);

    const doc = parse(shortPlan('sec-history', { approval: true })) as { candidate: { deployment: Record<string, unknown> } };
    doc.candidate.deployment.environment_variables = { DB_PASSWORD: KEY_VAULT_REFERENCE, LOG_LEVEL: 'info' };
    const planPath = join(dir, 'plan.yaml');
    writeFileSync(planPath, stringify(doc));
    const started = await rig.cli(['rollout', 'start', planPath, '--json']);
    assert.equal(started.code, 0, `${started.out}\n${started.err}`);
    workflowId = (JSON.parse(started.out) as { workflowId: string }).workflowId;

    // The approval request reaches (fake) Slack; a listed approver clicks Approve through the bridge.
    let post: (typeof rig.slack.calls)[number] | undefined;
    for (let i = 0; i < 600 && !post; i++) {
      post = rig.slack.calls.find((c) => c.path === '/api/chat.postMessage' && JSON.stringify(c.body).includes(SLACK_APPROVE_ACTION_ID) && JSON.stringify(c.body).includes('sec-history'));
      if (!post) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(post, 'approval message posted');
    const value = (post.body.blocks as { type: string; elements?: { action_id: string; value: string }[] }[]).find((b) => b.type === 'actions')!.elements!.find((e) => e.action_id === SLACK_APPROVE_ACTION_ID)!.value;
    const serve = await rig.slackServe({ SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_BOT_TOKEN: rig.slack.token, SLACK_API_URL: rig.slack.apiUrl, GLIDEPATH_SLACK_RESPONSE_URL_PREFIXES: rig.slack.url });
    try {
      const body = `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', user: { id: 'UAPPROVER1' }, actions: [{ action_id: SLACK_APPROVE_ACTION_ID, value }], response_url: rig.slack.responseUrl('sec-1') }))}`;
      const ts = String(Math.floor(Date.now() / 1000));
      const res = await fetch(serve.url, { method: 'POST', headers: { 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(SIGNING_SECRET, ts, body) }, body });
      assert.equal(res.status, 200);
      for (let i = 0; i < 100 && !rig.slack.calls.some((c) => c.path === '/actions/T0001/sec-1/secret'); i++) await new Promise((r) => setTimeout(r, 100));
      assert.match(String(rig.slack.calls.find((c) => c.path === '/actions/T0001/sec-1/secret')?.body.text), /Approved by/, serve.log());
    } finally {
      await serve.stop();
    }
    const watch = await rig.cli(['rollout', 'watch', workflowId, '--timeout', '3m']);
    await stop();
    assert.equal(watch.code, 0, `${watch.out}\n${watch.err}`);

    const history = await rig.env.client.workflow.getHandle(workflowId).fetchHistory();
    const description = await rig.env.client.workflow.getHandle(workflowId).describe();
    const text = historyText(history) + JSON.stringify(description.memo ?? {}) + JSON.stringify(description.searchAttributes ?? {});
    const secrets: Record<string, string> = {
      'Slack bot token': rig.slack.token,
      'Slack signing secret': SIGNING_SECRET,
      'endpoint primary key': endpointKeys[0]!,
      'endpoint secondary key': endpointKeys[1]!,
    };
    const found = Object.entries(secrets).filter(([, s]) => text.includes(s)).map(([what]) => what);
    assert.deepEqual(found, [], `secrets in the history of ${workflowId}`);
    assert.ok(text.includes(KEY_VAULT_REFERENCE), 'the Key Vault reference travels as a reference');
    assert.ok(text.length > 10_000, `a real history was scanned (${text.length} characters)`);
    console.log(`# scanned ${history.events?.length ?? 0} events (${text.length} characters) for ${Object.keys(secrets).length} secrets`);
  });
});

describe('visibility queries quote what they are given', () => {
  const injections = [
    'nope" OR WorkflowType = "safeRollout',
    'nope\\" OR WorkflowType = \\"safeRollout',
    "nope' OR WorkflowType = 'safeRollout",
    'nope" OR "1" = "1',
    'sec-history" OR GlidepathEndpoint != "',
  ];
  for (const endpoint of injections) {
    test(`rollout list --endpoint ${JSON.stringify(endpoint)} finds no rollout`, async () => {
      assert.ok(workflowId, 'the rollout above ran');
      const r = await rig.cli(['rollout', 'list', '--endpoint', endpoint, '--json']);
      assert.equal(r.code, 0, `${r.out}\n${r.err}`);
      assert.deepEqual(JSON.parse(r.out), []);
    });
  }

  test('the same query with the real endpoint name finds the rollout (the test can see one)', async () => {
    let rows: { workflowId: string }[] = [];
    for (let i = 0; i < 50 && rows.length === 0; i++) {
      rows = JSON.parse((await rig.cli(['rollout', 'list', '--endpoint', 'sec-history', '--json'])).out) as { workflowId: string }[];
      if (rows.length === 0) await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(rows.map((r) => r.workflowId), [workflowId]);
  });

  test('an endpoint lookup refuses a target that is neither a rollout id nor an endpoint name, before any query', async () => {
    const r = await rig.cli(['rollout', 'status', 'nope" OR WorkflowType = "safeRollout']);
    assert.equal(r.code, 2);
    assert.match(r.err, /is neither a rollout id .* nor an endpoint name/);
  });
});
