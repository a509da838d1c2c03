/**
 * The shipped examples stay usable: the pipelines and the Slack manifest are valid YAML, every
 * `glidepath` invocation in the pipelines names a real command and only flags the CLI accepts, and the
 * manifest asks for exactly the scopes and interactivity the notifier and the bridge need.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { usage } from '../../client/cli.js';
import { repoRoot } from '../support/temporal.js';

const read = (p: string) => readFileSync(join(repoRoot, p), 'utf8');

/** The lines of a pipeline that are not comments. */
const code = (text: string) =>
  text
    .split('\n')
    .filter((l) => !l.trim().startsWith('#'))
    .join('\n');

/** Every `glidepath …` command in a pipeline, with backslash continuations joined. */
function invocations(text: string): string[] {
  const joined = code(text).replace(/\\\n\s*/g, ' ');
  return [...joined.matchAll(/(?:^|[\s:])glidepath ((?:plan|rollout|setup|worker|report)\b[^\n]*)/gm)].map((m) => m[1]!.replace(/\s+(>>?|\|).*$/, '').trim());
}

const version = (JSON.parse(read('package.json')) as { version: string }).version;
const action = parse(read('action.yml')) as { inputs: Record<string, unknown> };

describe('examples', () => {
  test('examples/azure-devops/azure-pipelines.yml installs the CLI package pinned and calls it only with documented commands and flags', () => {
    const text = read('examples/azure-devops/azure-pipelines.yml');
    const pipeline = parse(text) as { variables: { name?: string; value?: string }[] };
    assert.ok(!/npx/.test(code(text)), 'no npx: an unpinned npx glidepath would fetch whatever owns that name');
    assert.match(code(text), /npm install --global [^\n]*@glidepath-ml\/glidepath@\$\(GLIDEPATH_VERSION\)/);
    assert.equal(pipeline.variables.find((v) => v.name === 'GLIDEPATH_VERSION')?.value, version, 'pinned to this release');
    const calls = invocations(text);
    assert.ok(calls.some((c) => /^rollout start .* --wait --timeout \S+/.test(c)), 'starts a rollout and waits on it');
    for (const c of calls) {
      const [group, sub] = c.split(/\s+/);
      assert.ok(usage.includes(`glidepath ${group} ${sub}`), `documented command: ${c}`);
      for (const flag of c.match(/--[a-z-]+/g) ?? []) assert.ok(usage.includes(flag), `documented flag ${flag} in: ${c}`);
    }
    assert.ok(!/az ml model (create|register)/.test(text), 'the pipeline registers nothing itself');
  });

  test('examples/github-actions/rollout.yml uses the action at this release: starts without waiting, then a later job waits by rollout-id', () => {
    const text = read('examples/github-actions/rollout.yml');
    assert.ok(!/npx/.test(code(text)), 'no npx');
    const wf = parse(text) as { jobs: Record<string, { needs?: string; steps: { uses?: string; with?: Record<string, unknown> }[] }> };
    const uses = Object.entries(wf.jobs).flatMap(([job, j]) => j.steps.filter((s) => s.uses?.includes('/glidepath@')).map((s) => ({ job, step: s })));
    assert.equal(uses.length, 2, 'one step starts, one waits');
    for (const { step } of uses) {
      assert.equal(step.uses!.split('@')[1], `v${version}`, 'the action pinned to this release');
      for (const input of Object.keys(step.with ?? {})) assert.ok(input in action.inputs, `action.yml has the input ${input}`);
    }
    const [start, wait] = uses;
    assert.equal(start!.step.with!.wait, false);
    assert.ok(start!.step.with!.plan);
    assert.equal(wait!.step.with!.wait, true);
    assert.match(String(wait!.step.with!['rollout-id']), /needs\.start\.outputs\.rollout-id/);
    assert.equal(wf.jobs[wait!.job]!.needs, start!.job);
    assert.ok(!/az ml model (create|register)/.test(text), 'the workflow registers nothing itself');
  });

  test('the Slack app manifest enables interactivity and asks for the scopes the notifier and bridge use', () => {
    const m = parse(read('examples/slack/manifest.yaml')) as { oauth_config: { scopes: { bot: string[] } }; settings: { interactivity: { is_enabled: boolean; request_url: string } } };
    assert.deepEqual(m.oauth_config.scopes.bot.sort(), ['chat:write', 'users:read', 'users:read.email']);
    assert.equal(m.settings.interactivity.is_enabled, true);
    assert.match(m.settings.interactivity.request_url, /^https:\/\//);
  });
});
