/**
 * The verified-approval flow end to end (issue 13, "Done when"): a Temporal dev server, a worker that
 * trusts two signers, the emulator with live traffic, the real `glidepath slack serve` and
 * `glidepath approvals serve` processes (their keys from their environment), a local OIDC issuer, and the
 * real `temporal` CLI. A raw `temporal workflow update` with a typed approver is refused; a Slack click
 * (signed by the bridge for the clicking user's profile e-mail) and a CLI approval through the approvals
 * endpoint (signed for the person the token names) are accepted; status and the report show both as verified.
 * Before the change the typed update approved the rollout.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { slackSignature } from '../../client/slack/verify.js';
import { SLACK_APPROVE_ACTION_ID, slackButtonValue } from '../../domain/approvals.js';
import { toBase64 } from '../../domain/decision-signature.js';
import { runProcess, shortPlan, startRig, statusOf as statusOfRollout, untilStatus, type Rig, type StatusJson } from '../e2e/support.js';
import { FakeIssuer } from '../support/fake-oidc.js';
import { signerKeys, testTrust } from '../support/signers.js';
import { findTemporalCli } from '../support/temporal.js';

let rig: Rig;
const issuer = new FakeIssuer();
const dir = mkdtempSync(join(tmpdir(), 'glidepath-verified-'));

const statusOf = (target: string) => statusOfRollout(rig, target);
/** Polls `rollout status --json` until `pred` holds. */
const until = (target: string, pred: (s: StatusJson) => boolean, what: string, ms = 90_000) => untilStatus(rig, target, pred, what, ms);

const run = (cmd: string, args: string[]) => runProcess(cmd, args);

before(async () => {
  rig = await startRig({ decisionTrust: testTrust() });
  await issuer.start();
  rig.slack.users.set('UBOB', 'bob@contoso.com');
});
after(async () => {
  await rig?.teardown();
  await issuer.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('verified approvals on the demo stack', () => {
  test('a typed temporal workflow update is refused; a Slack approval and a CLI approval through the approvals endpoint count, shown as verified', async () => {
    const stop = await rig.endpoint('e2e-verified');
    const plan = parse(shortPlan('e2e-verified', { approval: true })) as Record<string, unknown> & { strategy: Record<string, unknown>[] };
    plan.strategy[2] = { canary: { percent: 50, bake: '3s', approval: { timeout: '5m', onTimeout: 'rollback' } } };
    // The default for listed approvers: verified. Bob decides in Slack (his Slack id maps to his e-mail through the plan).
    plan.approvals = { approvers: ['alice@contoso.com', 'bob@contoso.com'], fourEyes: true, people: { 'bob@contoso.com': ['slack:UBOB'] } };
    const file = join(dir, 'verified.yaml');
    writeFileSync(file, stringify(plan));
    const start = await rig.cli(['rollout', 'start', file, '--json']);
    assert.equal(start.code, 0, start.err);
    const id = (JSON.parse(start.out) as { workflowId: string }).workflowId;
    await until(id, (s) => s.status?.pendingApproval?.stepIndex === 1, 'the approval of step 2');

    // 1. The CLI's --as without the approvals endpoint: a typed name.
    const typed = await rig.cli(['rollout', 'approve', id, '--step', '2', '--as', 'alice@contoso.com']);
    assert.equal(typed.code, 2, typed.out);
    assert.match(typed.err, /this one is unsigned — a typed name is not proof/);
    // … and the raw Temporal CLI, with a listed approver's name typed in (spawned without blocking: the worker runs in this process).
    const raw = await run(findTemporalCli(), ['workflow', 'update', 'execute', '--address', rig.env.address, '--workflow-id', id, '--name', 'approve', '--input', JSON.stringify({ by: 'alice@contoso.com', stepIndex: 1 })]);
    assert.notEqual(raw.code, 0, `the typed update must be refused: ${raw.out}`);
    assert.match(raw.err, /counts only signed decisions \(approvals.verified\) and this one is unsigned/);

    // 2. Bob clicks Approve in Slack; the bridge (a real process with its signing key) signs for bob@contoso.com.
    const bridge = await rig.slackServe({
      SLACK_SIGNING_SECRET: 's3cret',
      SLACK_BOT_TOKEN: rig.slack.token,
      SLACK_API_URL: rig.slack.apiUrl,
      GLIDEPATH_SLACK_RESPONSE_URL_PREFIXES: rig.slack.url,
      GLIDEPATH_SIGNER_NAME: 'slack-bridge',
      GLIDEPATH_SIGNER_KEY: toBase64(signerKeys['slack-bridge']),
    });
    try {
      const rawBody = `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', user: { id: 'UBOB' }, actions: [{ action_id: SLACK_APPROVE_ACTION_ID, value: slackButtonValue(id, 1) }], response_url: rig.slack.responseUrl('verified-1') }))}`;
      const ts = String(Math.floor(Date.now() / 1000));
      const res = await fetch(bridge.url, { method: 'POST', headers: { 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature('s3cret', ts, rawBody) }, body: rawBody });
      assert.equal(res.status, 200);
      await until(id, (s) => (s.status?.approvals.length ?? 0) === 1, `the Slack approval (bridge log: ${bridge.log()})`);
    } finally {
      assert.equal(await bridge.stop(), 0);
    }

    // 3. Alice approves step 3 from the CLI through the approvals endpoint with her OIDC token.
    await until(id, (s) => s.status?.pendingApproval?.stepIndex === 2, 'the approval of step 3');
    const endpoint = await rig.approvalsServe({
      GLIDEPATH_OIDC_ISSUER: issuer.issuer,
      GLIDEPATH_OIDC_AUDIENCE: issuer.audience,
      GLIDEPATH_OIDC_JWKS_URL: issuer.jwksUrl,
      GLIDEPATH_SIGNER_NAME: 'approvals',
      GLIDEPATH_SIGNER_KEY: toBase64(signerKeys.approvals),
    });
    try {
      const token = issuer.token({ sub: '00u-alice', email: 'alice@contoso.com' });
      const cli = await rig.bin(['rollout', 'approve', id, '--step', '3', '--comment', 'canary clean'], { GLIDEPATH_APPROVALS_URL: endpoint.url, GLIDEPATH_APPROVALS_TOKEN: token });
      assert.equal(cli.code, 0, `${cli.err}\n${endpoint.log()}`);
      assert.match(cli.out, /approved by alice@contoso.com for step 3 .*\(verified: signed by approvals for alice@contoso.com\)/);
      assert.ok(!endpoint.log().includes(token), 'the endpoint does not log the token');
    } finally {
      assert.equal(await endpoint.stop(), 0);
    }

    const watch = await rig.cli(['rollout', 'watch', id, '--timeout', '3m']);
    assert.equal(watch.code, 0, `${watch.out}\n${watch.err}`);
    const done = await statusOf(id);
    assert.deepEqual(
      done.result?.approvals.map((a) => [a.stepIndex, a.decision, a.by, a.channel, a.verified, a.signer]),
      [
        [1, 'approved', 'bob@contoso.com', 'slack', true, 'slack-bridge'],
        [2, 'approved', 'alice@contoso.com', 'cli', true, 'approvals'],
      ],
    );
    const status = await rig.cli(['rollout', 'status', id]);
    assert.match(status.out, /bob@contoso.com.*slack, verified \(signed by slack-bridge\)/);
    assert.match(status.out, /alice@contoso.com.*cli, verified \(signed by approvals\)/);
    const reportFile = join(dir, 'report.md');
    assert.equal((await rig.cli(['rollout', 'report', id, '--format', 'md', '--out', reportFile])).code, 0);
    assert.match(readFileSync(reportFile, 'utf8'), /verified \(signed by slack-bridge\)/);
    const history = await run(findTemporalCli(), ['workflow', 'show', '--address', rig.env.address, '--workflow-id', id, '--output', 'json']);
    assert.equal(history.code, 0, history.err);
    for (const secret of [toBase64(signerKeys['slack-bridge']), toBase64(signerKeys.approvals), 's3cret', rig.slack.token]) {
      assert.ok(!history.out.includes(secret) && !history.out.includes(Buffer.from(secret).toString('base64')), 'no signer key or Slack secret in the history');
    }
    await stop();
  });
});
