// The room fence (eslint.config.js): every room may import only what DESIGN.md's "may import" column
// says. ESLint runs here on fixture files under test/fixtures/lint/<room>/ that pretend to live in that
// room: a `refused` fixture whose every import breaks the fence, refused with a message naming the room
// and what it may import, and an `allowed` fixture of what the room may import, on which ESLint says nothing.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { repoRoot } from '../support/temporal.js';

const FENCE_RULES = new Set(['@typescript-eslint/no-restricted-imports', 'no-restricted-syntax']);
let eslint: ESLint;
before(() => {
  // The fixtures are ignored by `npm run lint` (they are meant to fail); lint them here explicitly.
  eslint = new ESLint({ cwd: repoRoot, ignore: false });
});

async function lint(fixture: string): Promise<ESLint.LintResult> {
  const [result] = await eslint.lintFiles([join(repoRoot, 'test/fixtures/lint', fixture)]);
  assert.ok(result, `no lint result for ${fixture}`);
  assert.deepEqual(result.messages.filter((m) => m.fatal), [], `${fixture} does not parse`);
  return result;
}

/** The fence's messages for `fixture`, in line order, each as "line: message". */
async function refusals(fixture: string): Promise<string[]> {
  const result = await lint(fixture);
  return result.messages.filter((m) => m.ruleId !== null && FENCE_RULES.has(m.ruleId)).map((m) => `${m.line}: ${m.message}`);
}

/** DESIGN.md's "may import" column, as the fence's messages quote it. */
const MAY_IMPORT: Record<string, string> = {
  domain: 'zod and small pure libraries',
  workflows: 'domain/, @temporalio/workflow, @temporalio/common, activity types only',
  activities: 'domain/, Azure SDKs, @temporalio/activity',
  worker: 'everything but client/ and demo/',
  client: 'domain/, workflows/messages.ts, workflows/search-attributes.ts, workflow types, @temporalio/client, Azure SDKs for asset upload',
  demo: 'worker/, emulator/, client/, domain/, workflows/messages.ts, workflows/search-attributes.ts, workflow types',
  emulator: 'domain/ (traffic rules), Node, Azurite, Azure SDK clients',
};

/**
 * Asserts the fence refuses exactly the given lines of `fixture`, each with a message that says `says`.
 * A refusal by a room's own rules (`says` begins "<room>/ may") must also quote the room's column.
 */
async function assertRefused(fixture: string, expected: Array<[line: number, says: string]>): Promise<void> {
  const got = await refusals(fixture);
  assert.equal(got.length, expected.length, `expected ${expected.length} refusals in ${fixture}, got:\n${got.join('\n')}`);
  expected.forEach(([line, says], i) => {
    const message = got[i] ?? '';
    assert.ok(message.startsWith(`${line}: `), `refusal ${i + 1} should be on line ${line}: ${message}`);
    assert.ok(message.includes(says), `refusal on line ${line} should say "${says}": ${message}`);
    const room = /^(\w+)\/ may /.exec(says)?.[1];
    if (room) assert.ok(message.endsWith(`(DESIGN.md: ${room}/ may import ${MAY_IMPORT[room]})`), `refusal on line ${line} should quote DESIGN.md for ${room}/: ${message}`);
  });
}

/** Asserts ESLint has nothing at all to say about `fixture` (no fence message and no other rule's). */
async function assertAccepted(fixture: string): Promise<void> {
  const result = await lint(fixture);
  assert.deepEqual(result.messages.map((m) => `${m.line}: ${m.message} (${m.ruleId})`), []);
}

test('domain/ is refused a Node built-in, another room even as a type, and a Temporal re-export; zod and domain/ are accepted', async () => {
  await assertRefused('domain/refused.ts', [
    [3, 'domain/ may not import Node built-ins'],
    [4, 'domain/ may not import activities/'],
    [5, 'domain/ may not import @temporalio/*'],
  ]);
  await assertAccepted('domain/allowed.ts');
});

test('workflows/ is refused node:fs, a value import of the activities, a type from client/ and an import() of the activities; activity types are accepted', async () => {
  await assertRefused('workflows/uses-node-fs.ts', [[2, 'workflows/ may not import Node built-ins']]);
  await assertRefused('workflows/value-imports-activities.ts', [[2, 'workflows/ may import activities/ only as types']]);
  await assertRefused('workflows/imports-other-rooms.ts', [
    [3, 'workflows/ may not import client/'],
    [6, 'workflows/ may import activities/ only as types'],
  ]);
  await assertAccepted('workflows/type-imports-activities.ts');
});

test('activities/ is refused workflows/, by import() and as a re-exported type; domain/, Azure SDKs, @temporalio/activity and Node are accepted', async () => {
  await assertRefused('activities/refused.ts', [
    [3, 'activities/ may not import workflows/'],
    [6, 'activities/ may not import workflows/'],
  ]);
  await assertAccepted('activities/allowed.ts');
});

test('worker/ is refused re-exports of client/ and demo/; activities/, domain/, the emulator and @temporalio/worker are accepted', async () => {
  await assertRefused('worker/refused.ts', [
    [3, 'worker/ may not import client/'],
    [4, 'worker/ may not import demo/'],
  ]);
  await assertAccepted('worker/allowed.ts');
});

test('client/ is refused activities/, emulator types, the workflow function as a value, @temporalio/worker and an import() of worker/; the workflow contract is accepted', async () => {
  await assertRefused('client/refused.ts', [
    [4, 'client/ may not import activities/'],
    [5, 'client/ may not import emulator/'],
    [6, 'client/ may import workflows/ modules other than messages.ts and search-attributes.ts only as types'],
    [7, 'client/ may not import Temporal packages other than @temporalio/client'],
    [10, 'client/ may not import worker/'],
  ]);
  await assertAccepted('client/allowed.ts');
});

test('client/cli.ts may import() the entry points of worker/, emulator/ and demo/, but not import them statically, reach past them, or compute the path', async () => {
  await assertRefused('client/cli.ts', [
    [4, 'client/ may not import worker/'],
    [10, 'client/cli.ts may load only the public entry points of worker/, emulator/ and demo/'],
    [11, 'client/ may not import activities/'],
    [12, 'import() takes a string literal path here'],
  ]);
});

test('demo/ is refused activities/ and the workflow function; the entry points of worker/, emulator/ and client/, domain/ and search attributes are accepted', async () => {
  await assertRefused('demo/refused.ts', [
    [3, 'demo/ may not import activities/'],
    [4, 'demo/ may import workflows/ modules other than messages.ts and search-attributes.ts only as types'],
  ]);
  await assertAccepted('demo/allowed.ts');
});

test('emulator/ is refused activities/ and @temporalio/client; domain/, Node and the Azure SDK core are accepted', async () => {
  await assertRefused('emulator/refused.ts', [
    [3, 'emulator/ may not import activities/'],
    [4, 'emulator/ may not import @temporalio/*'],
  ]);
  await assertAccepted('emulator/allowed.ts');
});
