#!/usr/bin/env node
// Runs one or more test tiers with Node's own test runner (through tsx), one process per file, one file
// at a time (the Temporal native bridge and the test servers are happiest that way on 2 cores), and
// ends with a single summary line: "tests: N passed, N failed, N skipped".
//
//   node scripts/run-tests.mjs unit|workflows|replay|activities|emulator|e2e|security|chaos|all [more tiers] [-- extra node args]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const tiers = {
  unit: ['test/domain', 'test/lint', 'test/client-unit', 'test/worker'],
  workflows: ['test/workflows'],
  replay: ['test/replay'],
  emulator: ['test/emulator'],
  activities: ['test/activities'],
  e2e: ['test/e2e'],
  chaos: ['test/chaos'],
  security: ['test/security'],
};
const allTiers = ['unit', 'workflows', 'replay', 'emulator', 'activities', 'e2e', 'security', 'chaos'];

const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const names = dash === -1 ? argv : argv.slice(0, dash);
const extra = dash === -1 ? [] : argv.slice(dash + 1);
if (names.length === 0 || names.some((n) => n !== 'all' && !(n in tiers))) {
  console.error(`usage: run-tests.mjs <${[...Object.keys(tiers), 'all'].join('|')}>... [-- node args]`);
  process.exit(2);
}
const selected = names.includes('all') ? allTiers : names;

function testFiles(dir) {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  const out = [];
  for (const entry of readdirSync(abs)) {
    const p = join(abs, entry);
    if (statSync(p).isDirectory()) out.push(...testFiles(join(dir, entry)));
    else if (entry.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out.sort();
}

const totals = { passed: 0, failed: 0, skipped: 0 };
let exitCode = 0;
for (const tier of selected) {
  const files = tiers[tier].flatMap(testFiles);
  if (files.length === 0) {
    console.log(`\n== ${tier}: no test files yet`);
    continue;
  }
  console.log(`\n== ${tier}: ${files.length} file(s)`);
  const tapFile = join(mkdtempSync(join(tmpdir(), 'glidepath-tap-')), `${tier}.tap`);
  const res = spawnSync(
    process.execPath,
    [
      '--import', 'tsx',
      '--test',
      '--test-concurrency=1',
      '--test-reporter=spec', '--test-reporter-destination=stdout',
      '--test-reporter=tap', `--test-reporter-destination=${tapFile}`,
      ...extra,
      ...files,
    ],
    { cwd: root, stdio: 'inherit', env: process.env },
  );
  const tap = existsSync(tapFile) ? readFileSync(tapFile, 'utf8') : '';
  const count = (name) => Number(tap.match(new RegExp(`^# ${name} (\\d+)$`, 'm'))?.[1] ?? 0);
  const tierPassed = count('pass');
  const tierFailed = count('fail') + count('cancelled');
  const tierSkipped = count('skipped') + count('todo');
  totals.passed += tierPassed;
  totals.failed += tierFailed;
  totals.skipped += tierSkipped;
  console.log(`== ${tier}: ${tierPassed} passed, ${tierFailed} failed, ${tierSkipped} skipped`);
  if (res.status !== 0) exitCode = 1;
  if (res.status !== 0 && tierFailed === 0) {
    totals.failed += 1; // the runner itself failed (crash, signal): count it so the summary cannot look green
    console.log(`== ${tier}: test runner exited with ${res.status ?? res.signal}`);
  }
}
console.log(`\ntests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(exitCode);
