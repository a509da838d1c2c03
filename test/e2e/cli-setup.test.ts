/**
 * `glidepath setup`, the missing-attributes refusal and no-worker detection against a real Temporal dev
 * server started WITHOUT Glidepath's search attributes (as a fresh namespace is), with the CLI's
 * `main()` in-process and only `--address` telling it where the server is (no TEMPORAL_* environment).
 * No worker and no emulator: nothing here needs a rollout to make progress.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { stringify } from 'yaml';
import { defaultRuntime, main } from '../../client/cli.js';
import { rolloutWorkflowId } from '../../domain/ids.js';
import { GlidepathModel, GlidepathStartedBy, GlidepathWorkspace } from '../../workflows/search-attributes.js';
import { aPlanDocument } from '../support/builders.js';
import { findTemporalCli, installTestRuntime, uniqueName } from '../support/temporal.js';

let env: TestWorkflowEnvironment;
const dir = mkdtempSync(join(tmpdir(), 'glidepath-setup-'));
const plan = join(dir, 'plan.yaml');
const started: string[] = [];

/** Runs the CLI in-process against the dev server, naming it only with --address. */
async function cli(argv: string[]): Promise<{ code: number; out: string; err: string; ms: number }> {
  const out: string[] = [];
  const err: string[] = [];
  const base = defaultRuntime({ PATH: process.env.PATH, HOME: dir });
  const t0 = Date.now();
  const code = await main([...argv, '--address', env.address], { ...base, stdout: (t) => out.push(t), stderr: (t) => err.push(t), deps: { ...base.deps, progress: (l) => out.push(l) } });
  return { code, out: out.join('\n'), err: err.join('\n'), ms: Date.now() - t0 };
}

before(async () => {
  installTestRuntime();
  env = await TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'existing-path', path: findTemporalCli() }, searchAttributes: [] } });
  writeFileSync(plan, stringify(aPlanDocument()));
});
after(async () => {
  for (const id of started) await env.client.workflow.getHandle(id).terminate('test over').catch(() => undefined);
  await env?.teardown();
  rmSync(dir, { recursive: true, force: true });
});

describe('a namespace without Glidepath search attributes, then glidepath setup', { concurrency: false }, () => {
  test('rollout start is refused with exit 3 and a message naming glidepath setup; nothing starts', async () => {
    const r = await cli(['rollout', 'start', plan, '--as', 'ci@contoso.com']);
    assert.equal(r.code, 3, r.err);
    assert.match(r.err, /glidepath setup/);
    const n = await env.client.workflow.count('WorkflowType = "safeRollout"');
    assert.equal(n.count, 0);
  });

  test('setup registers every attribute, and a second setup says they are already there', async () => {
    const first = await cli(['setup']);
    assert.equal(first.code, 0, first.err);
    assert.match(first.out, /registered 7 search attribute/);
    assert.match(first.out, /registered +GlidepathWorkspace \(Keyword\)/);
    const again = await cli(['setup', '--json']);
    assert.equal(again.code, 0, again.err);
    const json = JSON.parse(again.out) as { registered: string[]; alreadyThere: string[] };
    assert.deepEqual(json.registered, []);
    assert.equal(json.alreadyThere.length, 7);
  });

  test('after setup a start succeeds and carries model, starter and workspace as search attributes', async () => {
    const id = rolloutWorkflowId(aPlanDocument().target as Parameters<typeof rolloutWorkflowId>[0]);
    const r = await cli(['rollout', 'start', plan, '--as', 'ci@contoso.com']);
    assert.equal(r.code, 0, r.err);
    started.push(id);
    const sa = (await env.client.workflow.getHandle(id).describe()).typedSearchAttributes;
    assert.equal(sa.get(GlidepathModel), aPlanDocument().candidate.deployment!.model);
    assert.equal(sa.get(GlidepathStartedBy), 'ci@contoso.com');
    assert.equal(sa.get(GlidepathWorkspace), 'fraud-prod');
  });

  test('with no worker on the task queue, status and watch exit 3 naming the queue within 15 s', async () => {
    for (const argv of [['rollout', 'status', 'fraud-detection'], ['rollout', 'watch', 'fraud-detection']]) {
      const r = await cli(argv);
      assert.equal(r.code, 3, `${argv.join(' ')}: ${r.err}`);
      assert.match(r.err, /no worker polls task queue 'glidepath'/);
      assert.ok(r.ms < 15_000, `${argv.join(' ')} took ${r.ms} ms`);
    }
  });

  test('rollout start --wait with no worker exits 3 naming the queue within 15 s, not "lost Temporal"', async () => {
    const endpoint = uniqueName('ep').slice(0, 20).replace(/[^a-z0-9-]/g, '');
    const r = await cli(['rollout', 'start', plan, '--wait', '--as', 'ci@contoso.com', '--set', `target.endpoint=e${endpoint}`]);
    started.push(rolloutWorkflowId({ ...(aPlanDocument().target as Parameters<typeof rolloutWorkflowId>[0]), endpoint: `e${endpoint}` }));
    assert.equal(r.code, 3, r.err);
    assert.match(r.err, /no worker polls task queue 'glidepath'/);
    assert.doesNotMatch(r.out, /lost Temporal/);
    assert.ok(r.ms < 15_000, `took ${r.ms} ms`);
  });
});
