// The rollout state has one owner (workflows/rollout-state.ts): ESLint refuses, anywhere else in
// workflows/, a write through `state` — assignment, delete, ++, an array mutation, Object.assign — and
// accepts the owner's methods. Linted on a fixture that pretends to be a workflow file, and on the real
// workflows/ folder, which must have no such write.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { repoRoot } from '../support/temporal.js';

const OWNER = /rollout state has one owner: change it through the RolloutState methods in workflows\/rollout-state\.ts/;
let eslint: ESLint;
before(() => {
  eslint = new ESLint({ cwd: repoRoot, ignore: false });
});

test('a workflow file that writes rollout state behind its owner is refused on each write, and the owner’s methods are accepted', async () => {
  const [result] = await eslint.lintFiles([join(repoRoot, 'test/fixtures/lint/workflows/writes-state.ts')]);
  const refused = result!.messages.filter((m) => OWNER.test(m.message)).map((m) => m.line);
  assert.deepEqual(refused, [6, 7, 8, 9, 10], JSON.stringify(result!.messages, null, 1));
});

test('no file in workflows/ but rollout-state.ts writes rollout state', async () => {
  const results = await eslint.lintFiles([join(repoRoot, 'workflows')]);
  const writes = results.flatMap((r) => r.messages.filter((m) => OWNER.test(m.message)).map((m) => `${r.filePath}:${m.line}`));
  assert.deepEqual(writes, []);
  assert.ok(results.some((r) => r.filePath.endsWith('rollout-state.ts')), 'rollout-state.ts was linted (and may write: it is the owner)');
});
