/**
 * The glidepath CLI end to end: a real Temporal dev server, a worker, the emulator serving live traffic
 * from the traffic generator, and the CLI (the real bin/glidepath.js for the CI path, `main()` in-process
 * for the rest). Proves the exit-code contract on real rollouts, that status/list agree with the
 * workflow, that people can approve/reject/pause/resume/abort a running rollout from the CLI and from
 * Slack, and that the HTML report of a finished rollout renders in headless Chromium with the
 * workflow's own figures in its chart.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SLACK_APPROVE_ACTION_ID as APPROVE_ACTION_ID } from '../../domain/approvals.js';
import { slackSignature } from '../../client/slack/verify.js';
import type { SafeRolloutResult } from '../../domain/rollout.js';
import { repoRoot } from '../support/temporal.js';
import { dumpDom, screenshot } from './chromium.js';
import { shortPlan, startRig, statusOf as statusOfRollout, untilStatus, type Rig, type StatusJson } from './support.js';

let rig: Rig;
const dir = mkdtempSync(join(tmpdir(), 'glidepath-e2e-'));

function planFile(name: string, yaml: string): string {
  const p = join(dir, `${name}.yaml`);
  writeFileSync(p, yaml);
  return p;
}

const statusOf = (target: string) => statusOfRollout(rig, target);
/** Polls `rollout status --json` until `pred` holds. */
const until = (target: string, pred: (s: StatusJson) => boolean, what: string, ms = 60_000) => untilStatus(rig, target, pred, what, ms);

before(async () => {
  rig = await startRig();
});
after(async () => {
  await rig?.teardown();
  rmSync(dir, { recursive: true, force: true });
});

describe('glidepath CLI against a real rollout', { concurrency: false }, () => {
  let promoted: { workflowId: string; result: SafeRolloutResult };

  test('bad input against a live server exits 2 and starts no rollout', async () => {
    const stop = await rig.endpoint('e2e-bad');
    const good = planFile('bad-ep', shortPlan('e2e-bad'));
    const cases: string[][] = [
      ['rollout', 'start', planFile('invalid', shortPlan('e2e-bad').replace('percent: 50', 'percent: 150')), '--wait'],
      ['rollout', 'start', good, '--set', 'candidate.deployment.instance_count=0'],
      ['rollout', 'start', good, '--set', 'strategy'],
      ['rollout', 'start', join(dir, 'missing.yaml')],
      ['rollout', 'status', 'glidepath-rollout:/subscriptions/none'],
      ['rollout', 'approve', 'e2e-bad', '--step', '2', '--as', 'alice@contoso.com'],
    ];
    for (const argv of cases) {
      const r = await rig.cli(argv);
      assert.equal(r.code, 2, `${argv.join(' ')}: ${r.err}`);
    }
    const list = await rig.cli(['rollout', 'list', '--endpoint', 'e2e-bad', '--json']);
    assert.deepEqual(JSON.parse(list.out), []);
    await stop();
  });

  test('plan explain prices the candidate from the Retail Prices API (the emulator’s)', async () => {
    const plan = planFile('explain', shortPlan('e2e-bad'));
    const r = await rig.bin(['plan', 'explain', plan, '--prices-url', `${rig.emulator.url}/api/retail/prices`, '--json'], { NODE_EXTRA_CA_CERTS: rig.emulator.caCertPath });
    assert.equal(r.code, 0, r.err);
    const x = JSON.parse(r.out) as { cost: { hourlyUsd: number; monthlyUsd: number } | null; entries: { traffic: string }[] };
    assert.ok(x.cost && x.cost.hourlyUsd > 0, r.out.slice(0, 300));
    assert.equal(Math.round(x.cost.monthlyUsd * 100), Math.round(x.cost.hourlyUsd * 730 * 100));
    assert.deepEqual(x.entries.map((e) => e.traffic), ['blue 100% | mirror 20% → green', 'blue 50% | green 50% | mirror 0%', 'green 100% | mirror 0%']);
  });

  test('a rollout whose preflight fails (no such endpoint) ends without promotion: exit 1 with the error type', async () => {
    const r = await rig.cli(['rollout', 'start', planFile('nowhere', shortPlan('e2e-nowhere')), '--wait', '--timeout', '2m', '--json']);
    assert.equal(r.code, 1, `${r.out}\n${r.err}`);
    const body = JSON.parse(r.out) as { outcome: string; errorType: string };
    assert.equal(body.outcome, 'failed');
    assert.equal(body.errorType, 'EndpointNotFound');
  });

  test('unreachable Temporal exits 3 through the real binary', async () => {
    const r = await rig.bin(['rollout', 'list', '--json']).catch((e: unknown) => ({ code: -1, out: '', err: String(e) }));
    assert.equal(r.code, 0, r.err); // sanity: the binary reaches the dev server
    const bad = await new Promise<{ code: number; err: string }>((resolve) => {
      const saved = rig.cliEnv.TEMPORAL_ADDRESS;
      rig.cliEnv.TEMPORAL_ADDRESS = '127.0.0.1:1';
      rig.cliEnv.GLIDEPATH_CONNECT_TIMEOUT = '1s';
      void rig.bin(['rollout', 'list']).then((x) => {
        rig.cliEnv.TEMPORAL_ADDRESS = saved;
        delete rig.cliEnv.GLIDEPATH_CONNECT_TIMEOUT;
        resolve(x);
      });
    });
    assert.equal(bad.code, 3);
    assert.match(bad.err.trim(), /^glidepath: cannot reach Temporal at 127\.0\.0\.1:1/);
    assert.equal(bad.err.trim().split('\n').length, 1);
  });

  test('rollout start --wait exits 0 for a good candidate (real binary, --set of the model version)', async () => {
    await rig.endpoint('e2e-good');
    const plan = planFile('good', shortPlan('e2e-good', { model: 'azureml:fraud-detector:1' }));
    const r = await rig.bin(['rollout', 'start', plan, '--set', 'candidate.deployment.model=azureml:fraud-detector:2', '--wait', '--timeout', '3m', '--json']);
    assert.equal(r.code, 0, `${r.out}\n${r.err}`);
    const body = JSON.parse(r.out) as { workflowId: string; outcome: string; model: string; result: SafeRolloutResult };
    assert.equal(body.outcome, 'promoted');
    assert.equal(body.model, 'azureml:fraud-detector:2');
    assert.match(r.err, /canary 50% \(step 2\/3\) · blue 50% \| green 50% \| mirror 0%/, 'progress on stderr under --json');
    assert.ok(!/xoxb|signing/i.test(r.out), 'no secret in --json output');
    promoted = { workflowId: body.workflowId, result: body.result };
  });

  test('status --json and list --json parse and agree with the workflow', async () => {
    const s = await statusOf('e2e-good');
    assert.equal(s.rollout.workflowId, promoted.workflowId);
    assert.equal(s.result?.outcome, 'promoted');
    assert.deepEqual(s.result?.verdicts, promoted.result.verdicts);
    let list: { workflowId: string; execution: string; outcome: string | null; endpoint: string }[] = [];
    for (let i = 0; i < 30; i++) {
      list = JSON.parse((await rig.cli(['rollout', 'list', '--endpoint', 'e2e-good', '--json'])).out) as typeof list;
      if (list[0]?.outcome) break;
      await new Promise((r) => setTimeout(r, 200)); // visibility is eventually consistent
    }
    assert.deepEqual(
      list.map((x) => [x.workflowId, x.execution, x.outcome, x.endpoint]),
      [[promoted.workflowId, s.rollout.execution, s.result!.outcome, 'e2e-good']],
    );
  });

  test('the HTML report renders in headless Chromium and its chart carries the workflow’s figures', async () => {
    const out = join(dir, 'report.html');
    const r = await rig.cli(['rollout', 'report', 'e2e-good', '--format', 'html', '--out', out]);
    assert.equal(r.code, 0, r.err);
    const dom = await dumpDom(out);
    assert.match(dom, /<svg id="rollout-chart"/);
    const points = [...dom.matchAll(/<circle [^>]*data-series="([^"]+)"[^>]*data-value="([^"]+)"/g)].map((m) => [m[1]!, Number(m[2])] as const);
    const series = (id: string) => points.filter((p) => p[0] === id).map((p) => p[1]);
    const analyses = promoted.result.verdicts.filter((v) => v.snapshot);
    assert.ok(analyses.length >= 4, `analyses: ${analyses.length}`);
    assert.deepEqual(series('candidate-p99'), analyses.filter((v) => v.snapshot!.candidate?.latencyP99Ms != null).map((v) => v.snapshot!.candidate!.latencyP99Ms));
    assert.deepEqual(series('baseline-p99'), analyses.filter((v) => v.snapshot!.baseline?.latencyP99Ms != null).map((v) => v.snapshot!.baseline!.latencyP99Ms));
    assert.deepEqual(series('candidate-error-rate'), analyses.filter((v) => v.snapshot!.candidate?.errorRate != null).map((v) => v.snapshot!.candidate!.errorRate));
    assert.match(dom, /id="outcome">promoted</);
    const png = join(dir, 'report.png');
    await screenshot(out, png);
    assert.ok(statSync(png).size > 20_000, 'a real screenshot');
    if (process.env.UPDATE_DOCS === '1') {
      // The committed screenshot (docs/rollout-report.png) and its HTML are refreshed on demand only.
      copyFileSync(png, join(repoRoot, 'docs', 'rollout-report.png'));
      copyFileSync(out, join(repoRoot, 'docs', 'rollout-report.example.html'));
    }
    const md = await rig.cli(['rollout', 'report', promoted.workflowId, '--format', 'md']);
    assert.match(md.out, /## Analyses/);
  });

  test('rollout start --wait exits 1 for a bad candidate, and the baseline serves 100% again', async () => {
    const stop = await rig.endpoint('e2e-bad-model');
    // fraud-detector:4 fails on far-from-home transactions (a few % of traffic): too rare to trip a gate
    // reliably in a few seconds, so the emulator's fault knob makes the candidate fail half its requests.
    rig.emulator.faults.setBehaviour('red', { errorRate: 0.5 }, 'e2e-bad-model');
    const plan = planFile('bad-model', shortPlan('e2e-bad-model', { candidate: 'red' }));
    const r = await rig.cli(['rollout', 'start', plan, '--set', 'candidate.deployment.model=azureml:fraud-detector:4', '--wait', '--timeout', '3m', '--json']);
    assert.equal(r.code, 1, `${r.out}\n${r.err}`);
    const body = JSON.parse(r.out) as { outcome: string; result: SafeRolloutResult };
    assert.equal(body.outcome, 'rolled_back');
    assert.equal(body.result.rollback?.confirmed, true);
    assert.deepEqual(body.result.rollback?.traffic?.live, { blue: 100 });
    assert.ok(body.result.verdicts.some((v) => v.status === 'fail'), 'a failed analysis caused it');
    await stop();
  });

  test('approve, pause and resume from the CLI act on a running rollout; refusals exit 2; a Slack click approves', async () => {
    const stop = await rig.endpoint('e2e-approve');
    const plan = planFile('approve', shortPlan('e2e-approve', { approval: true }));
    const start = await rig.cli(['rollout', 'start', plan, '--as', 'alice@contoso.com', '--json']);
    assert.equal(start.code, 0, start.err);
    const id = (JSON.parse(start.out) as { workflowId: string }).workflowId;
    const awaiting = await until(id, (s) => s.status?.pendingApproval != null, 'the approval request');
    assert.equal(awaiting.status?.pendingApproval?.stepIndex, 1, 'the approval is step 2 of the plan');

    const noStep = await rig.cli(['rollout', 'approve', id, '--as', 'bob@contoso.com']);
    assert.equal(noStep.code, 2);
    assert.match(noStep.err, /needs --step N.*the rollout awaits step 2 \(approval\); to approve it: glidepath rollout approve \S+ --step 2 --as bob@contoso.com/);
    const stale = await rig.cli(['rollout', 'approve', id, '--step', '1', '--as', 'bob@contoso.com']);
    assert.equal(stale.code, 2);
    assert.match(stale.err, /^glidepath: refused: cannot approve step 1 \(mirror 20%\): the rollout awaits step 2 \(approval\)/);
    const notAllowed = await rig.cli(['rollout', 'approve', id, '--step', '2', '--as', 'mallory@contoso.com']);
    assert.equal(notAllowed.code, 2);
    assert.match(notAllowed.err, /^glidepath: refused: cannot approve: mallory@contoso.com is not an allowed approver/);
    const starter = await rig.cli(['rollout', 'approve', id, '--step', '2', '--as', 'alice@contoso.com']);
    assert.equal(starter.code, 2);
    assert.match(starter.err, /four-eyes/);

    assert.equal((await rig.cli(['rollout', 'pause', id, '--as', 'ops@contoso.com', '--reason', 'change freeze'])).code, 0);
    assert.equal((await statusOf(id)).status?.paused?.by, 'ops@contoso.com');
    assert.equal((await rig.cli(['rollout', 'pause', id, '--as', 'ops@contoso.com'])).code, 2, 'already paused');
    assert.equal((await rig.cli(['rollout', 'resume', id, '--as', 'ops@contoso.com'])).code, 0);
    assert.equal((await statusOf(id)).status?.paused, null);

    // The notifier posted the approval request with buttons to (fake) Slack.
    const post = rig.slack.calls.find((c) => c.path === '/api/chat.postMessage' && JSON.stringify(c.body.blocks ?? []).includes(APPROVE_ACTION_ID) && JSON.stringify(c.body).includes('e2e-approve'));
    assert.ok(post, 'approval message posted');
    assert.match(JSON.stringify(post!.body.blocks), /Last analysis.*p99 latency/, 'with the gate table of the mirror step (from the activity input)');

    // A signed click from a listed Slack approver, through `glidepath slack serve` (a real process), approves the real workflow.
    const serve = await rig.slackServe({ SLACK_SIGNING_SECRET: 's3cret', SLACK_BOT_TOKEN: rig.slack.token, SLACK_API_URL: rig.slack.apiUrl, GLIDEPATH_SLACK_RESPONSE_URL_PREFIXES: rig.slack.url });
    try {
      const actions = (post!.body.blocks as { type: string; elements?: { action_id: string; value: string }[] }[]).find((b) => b.type === 'actions')!;
      const value = actions.elements!.find((e) => e.action_id === APPROVE_ACTION_ID)!.value;
      const clickAt = async (n: number) => {
        const rawBody = `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', user: { id: 'UAPPROVER1' }, actions: [{ action_id: APPROVE_ACTION_ID, value }], response_url: rig.slack.responseUrl(`e2e-${n}`) }))}`;
        const ts = String(Math.floor(Date.now() / 1000));
        const t0 = Date.now();
        const res = await fetch(serve.url, { method: 'POST', headers: { 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature('s3cret', ts, rawBody) }, body: rawBody });
        assert.equal(res.status, 200);
        assert.ok(Date.now() - t0 < 3000, 'acknowledged within 3 s');
        const url = `/actions/T0001/e2e-${n}/secret`;
        for (let i = 0; i < 100 && !rig.slack.calls.some((c) => c.path === url); i++) await new Promise((r) => setTimeout(r, 100));
        return rig.slack.calls.find((c) => c.path === url)?.body;
      };
      const first = await clickAt(1);
      assert.equal(first?.replace_original, true, `${JSON.stringify(first)}\n${serve.log()}`);
      assert.match(String(first?.text), /Approved by <@UAPPROVER1> \(slack:UAPPROVER1\)/);
      // A second click on the same (now decided) approval is refused with a reason and changes nothing.
      const second = await clickAt(2);
      assert.equal(second?.response_type, 'ephemeral');
      assert.match(String(second?.text), /Not applied — this approval is no longer pending/);
    } finally {
      assert.equal(await serve.stop(), 0, 'slack serve exits 0 on SIGTERM');
    }
    const watch = await rig.cli(['rollout', 'watch', id, '--timeout', '3m']);
    assert.equal(watch.code, 0, `${watch.out}\n${watch.err}`);
    const s = await statusOf(id);
    assert.deepEqual(s.result?.approvals.map((a) => [a.decision, a.stepIndex, a.by, a.channel]), [['approved', 1, 'slack:UAPPROVER1', 'slack']]);
    assert.ok(rig.slack.calls.some((c) => c.path === '/api/chat.update' && String(c.body.text).includes('slack:UAPPROVER1')), 'approval message updated with who approved');
    await stop();
  });

  test('reject and abort from the CLI stop a running rollout: watch exits 1', async () => {
    await rig.endpoint('e2e-stop');
    const plan = planFile('stop', shortPlan('e2e-stop', { approval: true }));
    const first = JSON.parse((await rig.cli(['rollout', 'start', plan, '--json'])).out) as { workflowId: string };
    await until(first.workflowId, (s) => s.status?.pendingApproval != null, 'the approval request');
    assert.equal((await rig.cli(['rollout', 'reject', first.workflowId, '--step', '2', '--as', 'alice@contoso.com', '--comment', 'not today'])).code, 0);
    const rejected = await rig.cli(['rollout', 'watch', first.workflowId, '--timeout', '2m', '--json']);
    assert.equal(rejected.code, 1, rejected.err);
    assert.equal((JSON.parse(rejected.out) as { outcome: string }).outcome, 'rejected');

    const second = JSON.parse((await rig.cli(['rollout', 'start', plan, '--json'])).out) as { workflowId: string };
    await until(second.workflowId, (s) => s.status?.stage === 'mirror', 'the mirror step');
    const abort = await rig.cli(['rollout', 'abort', second.workflowId, '--as', 'ops@contoso.com', '--reason', 'incident 42']);
    assert.equal(abort.code, 0, abort.err);
    const aborted = await rig.cli(['rollout', 'watch', 'e2e-stop', '--timeout', '2m', '--json']);
    assert.equal(aborted.code, 1, aborted.err);
    const body = JSON.parse(aborted.out) as { outcome: string; result: SafeRolloutResult };
    assert.equal(body.outcome, 'aborted');
    assert.deepEqual(body.result.rollback?.traffic?.live, { blue: 100 });
    assert.equal((await rig.cli(['rollout', 'resume', second.workflowId, '--as', 'ops@contoso.com'])).code, 2, 'a finished rollout refuses messages');
    assert.ok(readFileSync(plan, 'utf8').length > 0);
  });
});
