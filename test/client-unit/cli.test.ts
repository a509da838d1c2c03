/**
 * The CLI's contract without a server: every bad input exits with its documented code and a one-line
 * message and starts nothing; the commands' happy paths print parseable --json; --wait maps outcomes to
 * exit codes 0/1/4.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { stringify } from 'yaml';
import { main } from '../../client/cli.js';
import { defaultRuntime } from '../../client/cli.js';
import { rolloutWorkflowId } from '../../domain/ids.js';
import { aPlanDocument } from '../support/builders.js';
import { FakeGateway, testRuntime } from './fake-gateway.js';
import { judgedVerdicts } from '../support/judged-verdicts.js';
import { aResult } from './result-builder.js';

const PLAN = stringify(aPlanDocument());
const BAD_PLAN = stringify(aPlanDocument((d) => {
  (d.strategy as unknown[])[3] = { canary: { percent: 150, bake: '15m' } };
  (d.target as Record<string, unknown>).subscriptionId = 'not-a-guid';
}));
const OFF_POLICY_PLAN = stringify(aPlanDocument((d) => {
  d.candidate.deployment.instance_type = 'Standard_NC6';
  d.candidate.deployment.egress_public_network_access = 'enabled';
}));
const files = { 'plan.yaml': PLAN, 'bad-plan.yaml': BAD_PLAN, 'off-policy.yaml': OFF_POLICY_PLAN, 'broken.yaml': 'apiVersion: glidepath/v1\nkind: [Rollout\n', 'list.yaml': '- 1\n- 2\n' };
const ID = rolloutWorkflowId(aPlanDocument().target as Parameters<typeof rolloutWorkflowId>[0]);

async function run(argv: string[], opts: Parameters<typeof testRuntime>[0] = {}) {
  const gateway = (opts.gateway as FakeGateway | undefined) ?? new FakeGateway();
  const t = testRuntime({ files, ...opts, gateway });
  const code = await main(argv, t.runtime);
  return { code, out: t.out, err: t.err, gateway, files: t.files };
}

/** A running rollout of the example plan waiting for approval of step 3, started by ci@contoso.com. */
function awaitingApproval(): FakeGateway {
  const g = new FakeGateway();
  g.add(aPlanDocument(), 'ci@contoso.com', {
    stage: 'approval',
    stepIndex: 2,
    stepText: 'approval',
    pendingApproval: { stepIndex: 2, stepText: 'approval', requestedAt: '2026-11-25T08:02:00.000Z', timeoutAt: '2026-11-26T08:02:00.000Z', onTimeout: 'rollback', approvers: ['alice@contoso.com', 'slack:U024BE7LH'] },
  });
  return g;
}

describe('bad input exits with the documented code, one line, and starts nothing', () => {
  const cases: { name: string; argv: string[]; code: number; match: RegExp; gateway?: () => FakeGateway; stdin?: string }[] = [
    { name: 'an unknown command', argv: ['frobnicate'], code: 2, match: /unknown command 'frobnicate'/ },
    { name: 'an unknown flag', argv: ['rollout', 'start', 'plan.yaml', '--wiat'], code: 2, match: /Unknown option '--wiat'/ },
    { name: 'a flag missing its value', argv: ['rollout', 'start', 'plan.yaml', '--as'], code: 2, match: /--as/ },
    { name: 'a missing plan argument', argv: ['rollout', 'start'], code: 2, match: /missing plan file/ },
    { name: 'an extra argument', argv: ['plan', 'validate', 'plan.yaml', 'other.yaml'], code: 2, match: /unexpected argument 'other.yaml'/ },
    { name: 'a missing file', argv: ['rollout', 'start', 'nope.yaml'], code: 2, match: /cannot read plan nope.yaml: no such file/ },
    { name: 'invalid YAML', argv: ['rollout', 'start', 'broken.yaml'], code: 2, match: /broken.yaml is not valid YAML \(line \d+, column \d+\)/ },
    { name: 'YAML that is not a mapping', argv: ['plan', 'validate', 'list.yaml'], code: 2, match: /does not hold a plan/ },
    { name: 'an empty plan on stdin', argv: ['plan', 'validate', '-'], code: 2, match: /<stdin> is empty/, stdin: '' },
    { name: 'a --set without =', argv: ['rollout', 'start', 'plan.yaml', '--set', 'candidate.deployment.model'], code: 2, match: /bad --set 'candidate.deployment.model': expected key=value/ },
    { name: 'a --set through a scalar', argv: ['rollout', 'start', 'plan.yaml', '--set', 'kind.name=x'], code: 2, match: /kind is a string, not a section/ },
    { name: 'a --set of a forbidden key', argv: ['rollout', 'start', 'plan.yaml', '--set', '__proto__.polluted=1'], code: 2, match: /'__proto__' is not a plan key/ },
    { name: 'a bad --timeout', argv: ['rollout', 'start', 'plan.yaml', '--wait', '--timeout', 'soon'], code: 2, match: /--timeout 'soon' is not a duration/ },
    { name: '--timeout without --wait', argv: ['rollout', 'start', 'plan.yaml', '--timeout', '5m'], code: 2, match: /--timeout only applies with --wait/ },
    { name: 'an empty --as', argv: ['rollout', 'start', 'plan.yaml', '--as', ' '], code: 2, match: /--as must name who you are/ },
    { name: 'an unknown rollout subcommand', argv: ['rollout', 'promote', ID], code: 2, match: /unknown rollout subcommand 'promote'/ },
    { name: 'an unknown rollout id', argv: ['rollout', 'status', 'glidepath-rollout:/subscriptions/x/nope'], code: 2, match: /no rollout found for glidepath-rollout:\/subscriptions\/x\/nope/ },
    { name: 'an endpoint with no rollout', argv: ['rollout', 'status', 'ghost-endpoint'], code: 2, match: /no rollout found for endpoint ghost-endpoint/ },
    { name: 'a target that is neither id nor endpoint', argv: ['rollout', 'watch', 'not an endpoint!'], code: 2, match: /neither a rollout id/ },
    { name: 'approve without --as', argv: ['rollout', 'approve', ID], code: 2, match: /needs --as <who>/, gateway: awaitingApproval },
    { name: 'approve refused by the validator (no approval awaited)', argv: ['rollout', 'approve', ID, '--step', '4', '--as', 'alice@contoso.com'], code: 2, match: /refused: cannot approve: no approval is awaited/, gateway: () => { const g = new FakeGateway(); g.add(aPlanDocument(), 'ci@contoso.com', { stage: 'canary', stepIndex: 3, stepText: 'canary 10%' }); return g; } },
    { name: 'approve by a non-approver', argv: ['rollout', 'approve', ID, '--step', '3', '--as', 'mallory@contoso.com'], code: 2, match: /mallory@contoso.com is not an allowed approver/, gateway: awaitingApproval },
    {
      name: 'approve without --step (names the awaited step and the command; never fills it in)',
      argv: ['rollout', 'approve', 'fraud-detection', '--as', 'bob@contoso.com'],
      code: 2,
      match: /^glidepath: rollout approve needs --step N, the step you decide as rollout status shows it: the rollout awaits step 3 \(approval\); to approve it: glidepath rollout approve fraud-detection --step 3 --as bob@contoso.com$/,
      gateway: awaitingApproval,
    },
    { name: 'reject without --step while nothing is awaited', argv: ['rollout', 'reject', ID, '--as', 'bob@contoso.com'], code: 2, match: /rollout reject needs --step N.*no approval is awaited now \(the rollout is at canary: canary 10%\)/, gateway: () => { const g = new FakeGateway(); g.add(aPlanDocument(), 'ci@contoso.com', { stage: 'canary', stepIndex: 3, stepText: 'canary 10%' }); return g; } },
    { name: 'approve of a step that is not awaited (a late approve)', argv: ['rollout', 'approve', ID, '--step', '5', '--as', 'bob@contoso.com'], code: 2, match: /refused: cannot approve step 5 \(canary\): the rollout awaits step 3 \(approval\)/, gateway: awaitingApproval },
    { name: 'a --step that is not a step number', argv: ['rollout', 'approve', ID, '--step', '0', '--as', 'bob@contoso.com'], code: 2, match: /--step '0' must be a step number as rollout status shows it/, gateway: awaitingApproval },
    { name: 'a --step on a message that decides nothing', argv: ['rollout', 'pause', ID, '--step', '3', '--as', 'bob@contoso.com'], code: 2, match: /--step is for approve and reject only, not pause/, gateway: awaitingApproval },
    { name: 'resume of a rollout that is not paused', argv: ['rollout', 'resume', ID, '--as', 'alice@contoso.com'], code: 2, match: /cannot resume: the rollout is not paused/, gateway: awaitingApproval },
    { name: 'a message to a finished rollout', argv: ['rollout', 'abort', ID, '--as', 'alice@contoso.com'], code: 2, match: /cannot abort: the rollout has finished \(completed, promoted\)/, gateway: () => { const g = awaitingApproval(); const r = g.rollouts.get(ID)!; r.summary.execution = 'COMPLETED'; r.summary.outcome = 'promoted'; return g; } },
    { name: 'a second rollout on a busy endpoint', argv: ['rollout', 'start', 'plan.yaml', '--as', 'bob@contoso.com'], code: 2, match: /a rollout is already running on endpoint fraud-detection/, gateway: awaitingApproval },
    { name: 'a bad --limit', argv: ['rollout', 'list', '--limit', 'lots'], code: 2, match: /--limit 'lots' must be an integer/ },
    { name: 'an unknown report format', argv: ['rollout', 'report', ID, '--format', 'pdf'], code: 2, match: /--format 'pdf' must be md, html or json/ },
    { name: 'slack serve without a signing secret', argv: ['slack', 'serve', '--port', '0'], code: 2, match: /SLACK_SIGNING_SECRET is not set/ },
    { name: 'worker with an invalid configuration', argv: ['worker'], code: 2, match: /GLIDEPATH_EMULATOR_URL: required/ },
  ];
  for (const c of cases) {
    test(`${c.name} → exit ${c.code}`, async () => {
      const gateway = c.gateway?.() ?? new FakeGateway();
      const before = gateway.rollouts.size;
      const r = await run(c.argv, { gateway, ...(c.stdin !== undefined ? { stdin: c.stdin } : {}) });
      assert.equal(r.code, c.code, `stderr: ${r.err.join('\n')}`);
      assert.equal(r.err.length, 1, `one line on stderr, got: ${JSON.stringify(r.err)}`);
      assert.match(r.err[0]!, /^glidepath: /);
      assert.match(r.err[0]!, c.match);
      assert.equal(gateway.applied.length, 0, 'no message applied');
      assert.equal(gateway.rollouts.size, before, 'no rollout started');
    });
  }

  test('an invalid plan exits 2 with a one-line summary and every problem with its path, and starts nothing', async () => {
    const r = await run(['rollout', 'start', 'bad-plan.yaml', '--wait']);
    assert.equal(r.code, 2);
    assert.match(r.err[0]!, /^glidepath: bad-plan.yaml is not a valid plan \(\d+ problems\)/);
    assert.ok(r.err.some((l) => l.trim() === 'target.subscriptionId: must be a subscription GUID'), r.err.join('\n'));
    assert.ok(r.err.some((l) => /strategy\[3\]\.canary\.percent: must be 1\.\.100/.test(l)), r.err.join('\n'));
    assert.equal(r.gateway.calls.length, 0, 'never talked to Temporal');
  });

  for (const command of [['plan', 'validate'], ['rollout', 'start']]) {
    test(`${command.join(' ')} refuses a candidate that breaks the plan's policies (the preflight checks): exit 2, every violation with its path, nothing started`, async () => {
      const r = await run([...command, 'off-policy.yaml']);
      assert.equal(r.code, 2, r.err.join('\n'));
      assert.match(r.err[0]!, /^glidepath: off-policy\.yaml breaks its own policies \(2 problems\): candidate\.deployment\.egress_public_network_access: must be disabled/);
      assert.deepEqual(r.err.slice(1).map((l) => l.trim()), [
        'candidate.deployment.egress_public_network_access: must be disabled (policies.requireEgressDisabled), got enabled',
        'candidate.deployment.instance_type: Standard_NC6 is not allowed (policies.allowedInstanceTypes: Standard_DS3_v2, Standard_F4s_v2)',
      ]);
      assert.equal(r.gateway.calls.length, 0, 'never talked to Temporal');
      assert.equal(r.gateway.rollouts.size, 0, 'no rollout started');
    });
  }

  /** Runs `plan validate plan.yaml --set <set> --json`, expects the exit-2 JSON refusal, and returns its details. */
  async function refusedSet(set: string): Promise<string[]> {
    const r = await run(['plan', 'validate', 'plan.yaml', '--set', set, '--json']);
    assert.equal(r.code, 2);
    const body = JSON.parse(r.out.join('\n')) as { ok: boolean; exitCode: number; details: string[] };
    assert.deepEqual([body.ok, body.exitCode], [false, 2]);
    return body.details;
  }

  test('a --set that breaks a policy is refused like the file, and --json lists the violation', async () => {
    assert.deepEqual(await refusedSet('candidate.deployment.instance_type=Standard_NC6'), [
      'candidate.deployment.instance_type: Standard_NC6 is not allowed (policies.allowedInstanceTypes: Standard_DS3_v2, Standard_F4s_v2)',
    ]);
  });

  test('a --set that breaks the plan is reported with the path it set', async () => {
    assert.deepEqual(await refusedSet('strategy[0].mirror.percent=70'), ['strategy[0].mirror.percent: must be 1..50']);
  });

  test('unreachable Temporal exits 3 with one line and starts nothing', async () => {
    const rt = defaultRuntime({ TEMPORAL_ADDRESS: '127.0.0.1:1', GLIDEPATH_CONNECT_TIMEOUT: '1s' });
    const err: string[] = [];
    const out: string[] = [];
    rt.stderr = (t) => err.push(t);
    rt.stdout = (t) => out.push(t);
    rt.deps.files.readFile = async () => PLAN;
    const code = await main(['rollout', 'start', 'plan.yaml', '--json'], rt);
    assert.equal(code, 3);
    assert.equal(err.length, 1);
    assert.match(err[0]!, /^glidepath: cannot reach Temporal at 127\.0\.0\.1:1/);
    assert.deepEqual(JSON.parse(out[0]!), { ok: false, exitCode: 3, error: err[0]!.replace(/^glidepath: /, '') });
  });

  test('no command prints the usage on stderr and exits 2; --help exits 0 and documents the exit codes', async () => {
    const none = await run([]);
    assert.equal(none.code, 2);
    const help = await run(['--help']);
    assert.equal(help.code, 0);
    for (const code of ['0 ', '1 ', '2 ', '3 ', '4 ']) assert.match(help.out.join('\n'), new RegExp(`^  ${code} `, 'm'));
  });
});

describe('commands', () => {
  test('plan validate accepts the example plan and --set candidate.deployment.model overrides it', async () => {
    const r = await run(['plan', 'validate', 'plan.yaml', '--set', 'candidate.deployment.model=azureml:fraud-detector:7', '--json']);
    assert.equal(r.code, 0);
    assert.equal((JSON.parse(r.out.join('')) as { valid: boolean }).valid, true);
  });

  test('plan validate warns, and still exits 0, when the analysis interval is too short to judge at Azure Monitor’s timing', async () => {
    const r = await run(['plan', 'validate', 'plan.yaml', '--set', 'analysis.interval=30s']);
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.match(r.out.join('\n'), /warning: analysis\.interval: 30s is shorter than Azure Monitor's 1-minute metrics grain/);
    const json = await run(['plan', 'validate', 'plan.yaml', '--set', 'analysis.interval=30s', '--json']);
    assert.deepEqual((JSON.parse(json.out.join('')) as { warnings: { path: string }[] }).warnings.map((w) => w.path), ['analysis.interval']);
    const clean = await run(['plan', 'validate', 'plan.yaml']);
    assert.doesNotMatch(clean.out.join('\n'), /warning/);
  });

  test('plan validate reads the plan from stdin', async () => {
    const r = await run(['plan', 'validate', '-'], { stdin: PLAN });
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.match(r.out[0]!, /<stdin>: valid plan/);
  });

  test('plan explain shows the timeline with traffic per step and the worst case', async () => {
    const r = await run(['plan', 'explain', 'plan.yaml', '--no-prices']);
    assert.equal(r.code, 0);
    const text = r.out.join('\n');
    assert.match(text, /blue 90% \| green 10% \| mirror 0%/);
    assert.match(text, /Worst case:/);
    assert.match(text, /Cost estimate: skipped/);
  });

  test('plan explain --rps must be a positive number (exit 2 naming the value); a plan without judged gates prints nothing new', async () => {
    for (const bad of ['abc', '0', '-5', '', 'Infinity']) {
      const r = await run(['plan', 'explain', 'plan.yaml', '--no-prices', `--rps=${bad}`]);
      assert.equal(r.code, 2, `--rps ${bad}`);
      assert.match(r.err.join('\n'), new RegExp(`--rps '${bad}' must be a positive number of requests per second`));
    }
    const rate = await run(['plan', 'explain', 'plan.yaml', '--no-prices', '--rps', '50', '--baseline-rate', '120%']);
    assert.equal(rate.code, 2);
    assert.match(rate.err.join('\n'), /--baseline-rate '120%' must be the baseline's event rate per request, below 100%/);
    const alone = await run(['plan', 'explain', 'plan.yaml', '--no-prices', '--baseline-rate', '0.5%']);
    assert.equal(alone.code, 2);
    assert.match(alone.err.join('\n'), /--baseline-rate needs --rps/);
    const plain = await run(['plan', 'explain', 'plan.yaml', '--no-prices']);
    const withRps = await run(['plan', 'explain', 'plan.yaml', '--no-prices', '--rps', '0.5', '--baseline-rate', '0.5%']);
    assert.equal(withRps.code, 0, withRps.err.join('\n'));
    assert.deepEqual(withRps.out, plain.out, 'fixed-threshold gates: no time-to-verdict section');
  });

  test('plan explain prices the candidate from the Retail Prices API: the Linux pay-as-you-go meter, every page, the region as Azure spells it', async () => {
    const t = testRuntime({ files });
    const asked: string[] = [];
    const page = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
    t.runtime.deps.fetch = async (input) => {
      const url = String(input);
      asked.push(url);
      if (url.endsWith('/page2')) return page({ Items: [{ retailPrice: 0.2, productName: 'Virtual Machines DSv2 Series', meterName: 'DS3 v2', type: 'Consumption' }], NextPageLink: null });
      return page({
        Items: [
          { retailPrice: 0.5, productName: 'Virtual Machines DSv2 Series Windows', meterName: 'DS3 v2', type: 'Consumption' },
          { retailPrice: 0.05, productName: 'Virtual Machines DSv2 Series', meterName: 'DS3 v2 Spot', type: 'Consumption' },
        ],
        NextPageLink: 'https://prices.test/page2',
      });
    };
    const code = await main(['plan', 'explain', 'plan.yaml', '--region', 'West Europe', '--prices-url', 'https://prices.test/api', '--json'], t.runtime);
    assert.equal(code, 0, t.err.join('\n'));
    const body = JSON.parse(t.out.join('')) as { cost: unknown };
    assert.deepEqual(body.cost, { hourlyUsd: 0.4, monthlyUsd: 0.4 * 730, fallback: false, source: 'retail-prices:westeurope' });
    assert.match(new URL(asked[0]!).searchParams.get('$filter')!, /armSkuName eq 'Standard_DS3_v2' and armRegionName eq 'westeurope'/);
    assert.equal(asked.length, 2);
  });

  test('plan explain still explains when the Retail Prices API fails, saying why the estimate is missing', async () => {
    const t = testRuntime({ files });
    t.runtime.deps.fetch = async () => new Response('busy', { status: 503 });
    const code = await main(['plan', 'explain', 'plan.yaml', '--prices-url', 'https://prices.test/api'], t.runtime);
    assert.equal(code, 0);
    assert.match(t.out.join('\n'), /Cost estimate: unavailable \(HTTP 503\); the rollout's cost check prices 2 × Standard_DS3_v2 when it runs\./);
  });

  test('rollout start sends the overridden plan as written and prints its id as JSON', async () => {
    const r = await run(['rollout', 'start', 'plan.yaml', '--set', 'candidate.deployment.model=azureml:fraud-detector:7', '--as', 'ci@contoso.com', '--json']);
    assert.equal(r.code, 0, r.err.join('\n'));
    const body = JSON.parse(r.out.join('')) as { workflowId: string; model: string; startedBy: string };
    assert.equal(body.workflowId, ID);
    assert.equal(body.model, 'azureml:fraud-detector:7');
    const started = r.gateway.rollouts.get(ID)!;
    assert.equal((started.input.plan.candidate as { deployment: { model: string } }).deployment.model, 'azureml:fraud-detector:7');
    assert.equal(started.input.startedBy, 'ci@contoso.com');
  });

  for (const [outcome, code] of [['promoted', 0], ['rolled_back', 1], ['rejected', 1]] as const) {
    test(`rollout start --wait exits ${code} when the rollout ends ${outcome}, printing progress on the way`, async () => {
      const g = new FakeGateway();
      g.tick = (r, n) => {
        if (n === 1) Object.assign(r.status, { stage: 'canary', stepIndex: 3, stepText: 'canary 10%', traffic: { live: { blue: 90, green: 10 }, mirror: {} } });
        if (n === 2) {
          r.summary.execution = 'COMPLETED';
          r.result = aResult({ outcome, reason: outcome });
        }
      };
      const r = await run(['rollout', 'start', 'plan.yaml', '--wait', '--as', 'ci@contoso.com'], { gateway: g });
      assert.equal(r.code, code, r.err.join('\n'));
      assert.ok(r.out.some((l) => /canary 10% \(step 4\/7\) · blue 90% \| green 10% \| mirror 0%/.test(l)), r.out.join('\n'));
      assert.match(r.out.at(-1)!, new RegExp(`Rollout ${outcome}`));
    });
  }

  test('rollout start --wait --timeout exits 4 and leaves the rollout running', async () => {
    const r = await run(['rollout', 'start', 'plan.yaml', '--wait', '--timeout', '10s', '--json']);
    assert.equal(r.code, 4);
    assert.match(r.err.at(-1)!, /--wait timed out after 10s; the rollout .* is still running/);
    assert.equal(r.gateway.rollouts.get(ID)!.summary.execution, 'RUNNING');
  });

  test('rollout approve by an allowed approver applies the update and names who approved', async () => {
    const g = awaitingApproval();
    const r = await run(['rollout', 'approve', 'fraud-detection', '--step', '3', '--as', 'alice@contoso.com', '--comment', 'ship it', '--json'], { gateway: g });
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.deepEqual(g.applied, [
      { workflowId: ID, message: 'approve', input: { by: 'alice@contoso.com', comment: 'ship it', stepIndex: 2, channel: 'cli', clientIdentity: g.identity } },
    ]);
    assert.deepEqual(g.rollouts.get(ID)!.status.approvals.map((a) => [a.decision, a.stepIndex, a.channel, a.clientIdentity]), [['approved', 2, 'cli', g.identity]]);
    assert.equal((JSON.parse(r.out.join('')) as { accepted: boolean }).accepted, true);
  });

  test('rollout pause, resume and abort send their updates with the reason', async () => {
    const g = awaitingApproval();
    assert.equal((await run(['rollout', 'pause', ID, '--as', 'ops@contoso.com', '--reason', 'incident'], { gateway: g })).code, 0);
    assert.equal((await run(['rollout', 'resume', ID, '--as', 'ops@contoso.com'], { gateway: g })).code, 0);
    assert.equal((await run(['rollout', 'abort', ID, '--as', 'ops@contoso.com', '--reason', 'stop'], { gateway: g })).code, 0);
    assert.deepEqual(g.applied.map((a) => [a.message, a.input.reason]), [['pause', 'incident'], ['resume', undefined], ['abort', 'stop']]);
  });

  test('rollout status --json and list --json parse and agree', async () => {
    const g = awaitingApproval();
    const s = await run(['rollout', 'status', 'fraud-detection', '--json'], { gateway: g });
    const l = await run(['rollout', 'list', '--running', '--json'], { gateway: g });
    assert.equal(s.code, 0);
    assert.equal(l.code, 0);
    const status = JSON.parse(s.out.join('')) as { rollout: { workflowId: string; execution: string }; status: { pendingApproval: { stepIndex: number } }; pendingApproval: unknown };
    const list = JSON.parse(l.out.join('')) as { workflowId: string; execution: string }[];
    assert.equal(status.status.pendingApproval.stepIndex, 2);
    assert.deepEqual(status.pendingApproval, {
      stepIndex: 2,
      step: 3,
      stepText: 'approval',
      approve: `glidepath rollout approve ${ID} --step 3 --as <who>`,
      reject: `glidepath rollout reject ${ID} --step 3 --as <who>`,
    });
    const text = await run(['rollout', 'status', 'fraud-detection'], { gateway: g });
    assert.match(text.out.join('\n'), /approval {3}awaited for step 3 \(approval\) from alice@contoso.com or slack:U024BE7LH/);
    assert.match(text.out.join('\n'), new RegExp(`approve: glidepath rollout approve ${ID.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} --step 3 --as <who>`));
    assert.deepEqual(list.map((x) => [x.workflowId, x.execution]), [[status.rollout.workflowId, status.rollout.execution]]);
  });

  test('rollout status of a rolled-back judged rollout ends with the evidence of the step that decided it', async () => {
    const verdicts = judgedVerdicts({ gates: [{ name: '5xx', tolerance: '1.5x' }] }, [
      { stepIndex: 3, analyses: 10, candidateRequests: 300, baselineRequests: 2700, rates: { '5xx': { baseline: 0.005, candidate: 0.05 } } },
    ], { seed: 5, startIso: '2026-11-25T08:05:00.000Z', intervalMs: 60_000 });
    const g = new FakeGateway();
    const fake = g.add(aPlanDocument(), 'ci@contoso.com');
    fake.summary.execution = 'COMPLETED';
    fake.result = aResult({ outcome: 'rolled_back', reason: 'step 4 (10%): 5xx failed', verdicts, approvals: [] });
    const r = await run(['rollout', 'status', ID], { gateway: g });
    assert.equal(r.code, 0, r.err.join('\n'));
    const lines = r.out.join('\n').split('\n');
    const last = verdicts[verdicts.length - 1]!;
    const t = last.judgement!.gates[0]!.totals;
    assert.equal(lines.at(-2), `  evidence   step 4 (fail, analysis ${last.analysis})`);
    assert.match(lines.at(-1)!, new RegExp(`^ {13}5xx  candidate ${t.candidateEvents}/${t.candidateRequests} vs baseline ${t.baselineEvents}/[\\d,]+ · evidence \\S+ ≥ 100: worse than 1\\.5×$`));
    fake.result = aResult();
    assert.ok(!(await run(['rollout', 'status', ID], { gateway: g })).out.join('\n').includes('evidence'), 'fixed-threshold verdicts: no evidence lines');
  });

  test('a --json error on stdout is one JSON object naming the exit code', async () => {
    const r = await run(['rollout', 'status', 'ghost-endpoint', '--json']);
    assert.deepEqual(JSON.parse(r.out.join('')), { ok: false, exitCode: 2, error: 'no rollout found for endpoint ghost-endpoint' });
  });
});

describe('waiting through a flaky connection', () => {
  test('--wait rides out a short loss of Temporal and still reports the outcome', async () => {
    const { UnreachableError } = await import('../../client/errors.js');
    const g = new FakeGateway();
    let describes = 0;
    const realDescribe = g.describe.bind(g);
    g.describe = async (id: string) => {
      describes += 1;
      if (describes >= 2 && describes <= 6) throw new UnreachableError('cannot talk to Temporal at x: connection reset');
      const d = await realDescribe(id);
      if (describes >= 8) {
        d.execution = 'COMPLETED';
        g.rollouts.get(id)!.result = aResult();
      }
      return d;
    };
    const r = await run(['rollout', 'start', 'plan.yaml', '--wait'], { gateway: g });
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.equal(r.out.filter((l) => /lost Temporal/.test(l)).length, 1);
  });

  test('--wait gives up with exit 3 when Temporal stays unreachable', async () => {
    const { UnreachableError } = await import('../../client/errors.js');
    const g = new FakeGateway();
    const realDescribe = g.describe.bind(g);
    let describes = 0;
    g.describe = async (id: string) => {
      describes += 1;
      if (describes > 1) throw new UnreachableError('cannot talk to Temporal at x: connection refused');
      return realDescribe(id);
    };
    const r = await run(['rollout', 'start', 'plan.yaml', '--wait'], { gateway: g });
    assert.equal(r.code, 3);
    assert.match(r.err[0]!, /^glidepath: cannot talk to Temporal at x/);
  });
});

