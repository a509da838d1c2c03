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

/** Every `npx glidepath …` command in a pipeline, with backslash continuations joined. */
function invocations(text: string): string[] {
  const joined = text.replace(/\\\n\s*/g, ' ').replace(/>\n\s+npx/g, 'npx');
  return [...joined.matchAll(/npx glidepath ([^\n]+)/g)].map((m) => m[1]!.replace(/\s+(>>?|\|).*$/, '').trim());
}

describe('examples', () => {
  for (const file of ['examples/github-actions/rollout.yml', 'examples/azure-devops/azure-pipelines.yml']) {
    test(`${file} parses and calls glidepath only with documented commands and flags`, () => {
      const text = read(file);
      assert.ok(parse(text));
      const calls = invocations(text);
      assert.ok(calls.some((c) => /^rollout start .* --wait --timeout \S+/.test(c)), 'starts a rollout and waits on it');
      for (const c of calls) {
        const [group, sub] = c.split(/\s+/);
        assert.ok(usage.includes(`glidepath ${group} ${sub}`), `documented command: ${c}`);
        for (const flag of c.match(/--[a-z-]+/g) ?? []) assert.ok(usage.includes(flag), `documented flag ${flag} in: ${c}`);
      }
      assert.ok(!/az ml model (create|register)/.test(text), 'the pipeline registers nothing itself');
    });
  }

  test('the Slack app manifest enables interactivity and asks for the scopes the notifier and bridge use', () => {
    const m = parse(read('examples/slack/manifest.yaml')) as { oauth_config: { scopes: { bot: string[] } }; settings: { interactivity: { is_enabled: boolean; request_url: string } } };
    assert.deepEqual(m.oauth_config.scopes.bot.sort(), ['chat:write', 'users:read', 'users:read.email']);
    assert.equal(m.settings.interactivity.is_enabled, true);
    assert.match(m.settings.interactivity.request_url, /^https:\/\//);
  });
});
