/**
 * Issue 18 items 5-7 without a server: `glidepath setup` says what it registered; the connection flags
 * reach the connection; an endpoint name that fits several workspaces or subscriptions is refused with
 * the flags that pick each; and a rollout whose task queue nobody polls is reported (exit 3, the queue
 * named) instead of waited on.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { stringify } from 'yaml';
import { main } from '../../client/cli.js';
import { UnreachableError } from '../../client/errors.js';
import { glidepathSearchAttributes, temporalSettings } from '../../client/temporal.js';
import { endpointRefOf, rolloutWorkflowId } from '../../domain/ids.js';
import type { PlanDocument } from '../../domain/plan.js';
import { aPlanDocument } from '../support/builders.js';
import { FakeGateway, testRuntime } from './fake-gateway.js';

const PLAN = stringify(aPlanDocument());

async function run(argv: string[], gateway: FakeGateway) {
  const t = testRuntime({ files: { 'plan.yaml': PLAN }, gateway });
  const code = await main(argv, t.runtime);
  return { code, out: t.out.join('\n'), err: t.err.join('\n') };
}

function planIn(workspace: string, subscriptionId = '00000000-0000-0000-0000-000000000000'): PlanDocument {
  return aPlanDocument((d) => {
    Object.assign(d.target as Record<string, unknown>, { workspace, subscriptionId });
  });
}

describe('glidepath setup', () => {
  test('registers the missing search attributes, then says they are already there', async () => {
    const g = new FakeGateway();
    g.registered.add('GlidepathEndpoint');
    const first = await run(['setup', '--namespace', 'prod'], g);
    assert.equal(first.code, 0, first.err);
    assert.match(first.out, /namespace prod: registered 6 search attribute/);
    assert.match(first.out, /registered +GlidepathModel \(Keyword\)/);
    assert.match(first.out, /already there +GlidepathEndpoint/);
    assert.deepEqual(g.flags, { address: undefined, namespace: 'prod', profile: undefined });
    const again = await run(['setup', '--json'], g);
    assert.equal(again.code, 0);
    const json = JSON.parse(again.out) as { registered: string[]; alreadyThere: string[] };
    assert.deepEqual(json.registered, []);
    assert.deepEqual(json.alreadyThere, glidepathSearchAttributes.map((k) => k.name));
  });

  test('the list holds the three attributes the client sets at start', () => {
    const names = glidepathSearchAttributes.map((k) => k.name);
    for (const n of ['GlidepathModel', 'GlidepathStartedBy', 'GlidepathWorkspace']) assert.ok(names.includes(n), n);
  });
});

describe('--address, --namespace, --profile', () => {
  test('a flag beats the environment variable it stands for', () => {
    const s = temporalSettings({ TEMPORAL_ADDRESS: 'env:7233', TEMPORAL_NAMESPACE: 'from-env' }, { address: 'flag:7233', namespace: 'from-flag' });
    assert.equal(s.address, 'flag:7233');
    assert.equal(s.namespace, 'from-flag');
    assert.equal(temporalSettings({ TEMPORAL_ADDRESS: 'env:7233' }).address, 'env:7233');
  });

  test('rollout commands take them and hand them to the connection', async () => {
    const g = new FakeGateway();
    const r = await run(['rollout', 'list', '--address', 'temporal.example:7233', '--profile', 'prod'], g);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(g.flags, { address: 'temporal.example:7233', namespace: undefined, profile: 'prod' });
  });

  test('an empty --namespace is invalid input', async () => {
    const r = await run(['rollout', 'status', 'fraud-detection', '--namespace', ' '], new FakeGateway());
    assert.equal(r.code, 2);
    assert.match(r.err, /--namespace must not be empty/);
  });
});

describe('an endpoint name resolves to exactly one rollout', () => {
  test('the workspace and subscription read back from a rollout id', () => {
    const id = rolloutWorkflowId({ subscriptionId: 'AAAA', resourceGroup: 'ML-Prod', workspace: 'Fraud-Prod', endpoint: 'fraud-detection' });
    assert.deepEqual(endpointRefOf(id), { subscriptionId: 'aaaa', resourceGroup: 'ml-prod', workspace: 'fraud-prod', endpoint: 'fraud-detection' });
    assert.equal(endpointRefOf('some-other-workflow'), undefined);
  });

  test('two workspaces with the endpoint name: refused with exit 2, each listed with its --workspace and id, nothing sent', async () => {
    const g = new FakeGateway();
    g.add(planIn('fraud-prod'), 'ci@contoso.com');
    g.add(planIn('fraud-staging'), 'ci@contoso.com');
    const r = await run(['rollout', 'abort', 'fraud-detection', '--as', 'alice@contoso.com'], g);
    assert.equal(r.code, 2);
    assert.match(r.err, /endpoint name fraud-detection names 2 running rollouts \(2 workspaces\)/);
    assert.match(r.err, /--workspace fraud-prod {2}or {2}'glidepath-rollout:\/subscriptions\/.*\/workspaces\/fraud-prod\/onlineendpoints\/fraud-detection'/);
    assert.match(r.err, /--workspace fraud-staging/);
    assert.equal(g.applied.length, 0);
  });

  test('--workspace picks one and the message goes to that rollout only', async () => {
    const g = new FakeGateway();
    g.add(planIn('fraud-prod'), 'ci@contoso.com');
    const staging = g.add(planIn('fraud-staging'), 'ci@contoso.com');
    const r = await run(['rollout', 'abort', 'fraud-detection', '--workspace', 'fraud-staging', '--as', 'alice@contoso.com'], g);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(g.applied.map((a) => a.workflowId), [staging.summary.workflowId]);
  });

  test('one workspace name in two subscriptions: listed with --workspace and --subscription; --subscription picks', async () => {
    const g = new FakeGateway();
    g.add(planIn('fraud', '11111111-1111-1111-1111-111111111111'), 'ci@contoso.com');
    const b = g.add(planIn('fraud', '22222222-2222-2222-2222-222222222222'), 'ci@contoso.com');
    const refused = await run(['rollout', 'status', 'fraud-detection'], g);
    assert.equal(refused.code, 2);
    assert.match(refused.err, /--workspace fraud --subscription 11111111-1111-1111-1111-111111111111/);
    assert.match(refused.err, /--workspace fraud --subscription 22222222-2222-2222-2222-222222222222/);
    const picked = await run(['rollout', 'status', 'fraud-detection', '--subscription', '22222222-2222-2222-2222-222222222222', '--json'], g);
    assert.equal(picked.code, 0, picked.err);
    assert.equal((JSON.parse(picked.out) as { rollout: { workflowId: string } }).rollout.workflowId, b.summary.workflowId);
  });

  test('a running rollout wins over finished ones elsewhere; a --workspace that fits none is not found', async () => {
    const g = new FakeGateway();
    const done = g.add(planIn('fraud-staging'), 'ci@contoso.com');
    done.summary.execution = 'COMPLETED';
    const live = g.add(planIn('fraud-prod'), 'ci@contoso.com');
    const r = await run(['rollout', 'status', 'fraud-detection', '--json'], g);
    assert.equal(r.code, 0, r.err);
    assert.equal((JSON.parse(r.out) as { rollout: { workflowId: string } }).rollout.workflowId, live.summary.workflowId);
    const none = await run(['rollout', 'status', 'fraud-detection', '--workspace', 'fraud-dev'], g);
    assert.equal(none.code, 2);
    assert.match(none.err, /no rollout found for endpoint fraud-detection in workspace fraud-dev/);
  });
});

describe('no worker polls the task queue', () => {
  function unpolled(): FakeGateway {
    const g = new FakeGateway();
    g.add(aPlanDocument(), 'ci@contoso.com');
    g.pollers.glidepath = 0;
    return g;
  }

  for (const argv of [
    ['rollout', 'status', 'fraud-detection'],
    ['rollout', 'watch', 'fraud-detection'],
  ]) {
    test(`${argv.slice(0, 2).join(' ')} exits 3 naming the queue, without querying the rollout`, async () => {
      const g = unpolled();
      const r = await run(argv, g);
      assert.equal(r.code, 3, r.err);
      assert.match(r.err, /no worker polls task queue 'glidepath'/);
      assert.ok(!g.calls.some((c) => c.op === 'status'), 'no status query was sent');
    });
  }

  test('rollout start --wait exits 3 naming the queue instead of retrying', async () => {
    const g = new FakeGateway();
    g.pollers.glidepath = 0;
    const r = await run(['rollout', 'start', 'plan.yaml', '--wait'], g);
    assert.equal(r.code, 3, r.err);
    assert.match(r.err, /no worker polls task queue 'glidepath'/);
    assert.doesNotMatch(r.out, /lost Temporal/);
  });

  test('a worker that starts polling within the grace period is found: no refusal', async () => {
    const g = new FakeGateway();
    g.add(aPlanDocument(), 'ci@contoso.com');
    g.pollers.glidepath = 0;
    const orig = g.workflowPollers.bind(g);
    let asks = 0;
    g.workflowPollers = async (q) => {
      asks += 1;
      if (asks === 3) g.pollers.glidepath = 1;
      return orig(q);
    };
    const r = await run(['rollout', 'status', 'fraud-detection'], g);
    assert.equal(r.code, 0, r.err);
    assert.equal(asks, 3);
  });

  test('the run\'s own task queue is the one asked about', async () => {
    const g = new FakeGateway();
    const r0 = g.add(aPlanDocument(), 'ci@contoso.com');
    r0.summary.taskQueue = 'glidepath-demo-42';
    g.pollers['glidepath-demo-42'] = 0;
    const r = await run(['rollout', 'status', 'fraud-detection'], g);
    assert.equal(r.code, 3);
    assert.match(r.err, /'glidepath-demo-42'/);
  });
});

describe('a worker that goes away while --wait follows', () => {
  test('a status query nobody answers, with no poller left, is exit 3 naming the queue, not "lost Temporal"', async () => {
    const g = new FakeGateway();
    g.tick = (_r, reads) => {
      if (reads === 2) g.pollers.glidepath = 0;
    };
    const orig = g.status.bind(g);
    g.status = async (id) => {
      const s = await orig(id);
      if (g.pollers.glidepath === 0) throw new UnreachableError(`no worker answered the status query of ${id} within 15s`);
      return s;
    };
    const r = await run(['rollout', 'start', 'plan.yaml', '--wait'], g);
    assert.equal(r.code, 3, r.err);
    assert.match(r.err, /no worker polls task queue 'glidepath'/);
    assert.doesNotMatch(r.out, /lost Temporal/);
  });
});
