// The lint fence around workflows/ (eslint.config.js): workflow code may not import Node built-ins and
// may import activities only as types. Run ESLint on fixture workflow files that break it on purpose.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { repoRoot } from '../support/temporal.js';

const fixture = (name: string) => join(repoRoot, 'test/fixtures/lint/workflows', name);
let eslint: ESLint;
before(() => {
  // The fixtures are ignored by `npm run lint` (they are meant to fail); lint them here explicitly.
  eslint = new ESLint({ cwd: repoRoot, ignore: false });
});

async function fenceMessages(file: string): Promise<string[]> {
  const [result] = await eslint.lintFiles([file]);
  assert.ok(result, `no lint result for ${file}`);
  return result.messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports').map((m) => m.message);
}

test('a workflow file that imports node:fs is rejected', async () => {
  const messages = await fenceMessages(fixture('uses-node-fs.ts'));
  assert.equal(messages.length, 1, JSON.stringify(messages));
  assert.match(messages[0] ?? '', /Node built-ins are not allowed in workflow code/);
});

test('a workflow file that value-imports the activities module is rejected', async () => {
  const messages = await fenceMessages(fixture('value-imports-activities.ts'));
  assert.equal(messages.length, 1, JSON.stringify(messages));
  assert.match(messages[0] ?? '', /Import activities only as types/);
});

test('a workflow file that imports activity types is accepted', async () => {
  assert.deepEqual(await fenceMessages(fixture('type-imports-activities.ts')), []);
});
