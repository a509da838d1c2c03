// The README's commands, exercised verbatim: every ```sh block says who runs it (test/e2e/readme.ts);
// this file runs the `ci: run` blocks, checks that .ci/run runs the `ci: entry` command, runs the
// `ci: docker` block where a compose-capable Docker client exists, and refuses unmarked blocks.
// (The `ci: demo` block is run by test/e2e/demo.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/temporal.js';
import { readmeBlocks } from './readme.js';

const blocks = readmeBlocks();
const KINDS = ['run', 'demo', 'entry', 'docker', 'manual'];

function bash(code: string, timeoutMs: number): { status: number | null; out: string } {
  const r = spawnSync('bash', ['-euo', 'pipefail', '-c', code], { cwd: repoRoot, encoding: 'utf8', timeout: timeoutMs, env: process.env });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}` };
}

test('every shell block in the README says who runs it, and manual ones say why', () => {
  assert.ok(blocks.length >= 8, `found ${blocks.length} sh blocks`);
  for (const b of blocks) {
    assert.ok(b.marker && KINDS.includes(b.marker), `README.md:${b.line}: sh block without a <!-- ci: … --> marker (${KINDS.join(', ')})`);
    if (b.marker === 'manual') assert.ok(b.note.length > 5, `README.md:${b.line}: a manual block must say why it cannot run in CI`);
  }
  assert.equal(blocks.filter((b) => b.marker === 'demo').length, 1, 'one demo block');
});

for (const b of blocks.filter((x) => x.marker === 'run')) {
  test(`README.md:${b.line} runs verbatim and exits 0: ${b.code.split('\n')[0]}`, () => {
    const r = bash(b.code, 240_000);
    assert.equal(r.status, 0, r.out);
  });
}

test("CI's entry point (.ci/run) runs the README's test command", () => {
  const ci = readFileSync(join(repoRoot, '.ci', 'run'), 'utf8')
    .split('\n')
    .filter((l) => !l.trim().startsWith('#'))
    .join('\n');
  const scripts = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const entries = blocks.filter((b) => b.marker === 'entry');
  assert.ok(entries.length >= 1);
  for (const e of entries) {
    assert.equal(e.code.trim(), 'npm ci && npm run temporal:ensure && npm test', `README.md:${e.line}`);
    for (const cmd of e.code.trim().split(/\s*&&\s*/)) {
      const run = /^npm run (\S+)$/.exec(cmd);
      // `npm run X` counts when .ci/run runs it or exactly the script it stands for.
      const forms = run ? [cmd, scripts[run[1]!]!] : [cmd];
      assert.ok(
        forms.some((f) => f && new RegExp(`(^|[\\s"($])${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\s|$|[)"])`, 'm').test(ci)),
        `.ci/run does not run '${cmd}'${run ? ` (nor '${scripts[run[1]!]}')` : ''}`,
      );
    }
  }
});

const compose = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
const composeMissing = compose.status !== 0 ? 'no Docker client with the compose plugin on this machine' : false;

for (const b of blocks.filter((x) => x.marker === 'docker')) {
  test(`README.md:${b.line} (docker) runs verbatim and exits 0: ${b.code.split('\n')[0]}`, { skip: composeMissing }, () => {
    const r = bash(b.code, 120_000);
    assert.equal(r.status, 0, r.out);
  });
}
