/**
 * Issue 13, hardened inputs: a 10 MB or 3 MB plan and YAML alias bombs gave exit 3 ("unexpected error")
 * after up to 42 s; `--set 'strategy[50000000]…'` ran the CLI out of memory and `strategy[4294967296]`
 * was silently dropped. Each is now refused with exit 2 at once, naming the file (or the path) and the
 * limit, by every command that reads a plan (client/plan-file.ts is the one loader).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { stringify } from 'yaml';
import { main } from '../../client/cli.js';
import { aPlanDocument } from '../support/builders.js';
import { FakeGateway, testRuntime } from '../client-unit/fake-gateway.js';

const PLAN = stringify(aPlanDocument());

/** A "billion laughs" document: ten levels of nine aliases each, 9^10 strings once expanded. */
function aliasBomb(): string {
  const lines = ['apiVersion: glidepath/v1', 'kind: Rollout', 'l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i <= 10; i++) lines.push(`l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(',')}]`);
  return `${lines.join('\n')}\n`;
}

const files: Record<string, string> = {
  'plan.yaml': PLAN,
  // A valid plan padded past 256 KiB with a comment, and one of 10 MB.
  'padded.yaml': `${PLAN}# ${'x'.repeat(300 * 1024)}\n`,
  'huge.yaml': `${PLAN}# ${'x'.repeat(10 * 1024 * 1024)}\n`,
  'bomb.yaml': aliasBomb(),
  // A __proto__ key in a map: the schema would drop it without a word, so the plan passed without it.
  'proto.yaml': PLAN.replace('LOG_LEVEL: info\n', 'LOG_LEVEL: info\n      __proto__:\n        polluted: yes\n'),
  // A plan that reuses a block through an alias stays fine.
  'alias-ok.yaml': PLAN.replace('latencyP99Ms:\n', 'latencyP99Ms: &p99\n').replace(/latencyP50Ms:\n {4}max: 80\n/, 'latencyP50Ms: *p99\n'),
};

async function run(argv: string[]) {
  const gateway = new FakeGateway();
  const t = testRuntime({ files, gateway, env: { GLIDEPATH_AS: 'ci@contoso.com' } });
  const started = performance.now();
  const code = await main(argv, t.runtime);
  return { code, err: t.err.join('\n'), ms: performance.now() - started, gateway };
}

const commands: { name: string; argv: (file: string) => string[] }[] = [
  { name: 'plan validate', argv: (f) => ['plan', 'validate', f] },
  { name: 'plan explain', argv: (f) => ['plan', 'explain', f] },
  { name: 'rollout start', argv: (f) => ['rollout', 'start', f, '--as', 'ci@contoso.com'] },
];

describe('oversized plans and alias bombs are refused with exit 2 at once, naming the file and the limit', () => {
  for (const c of commands) {
    for (const [file, match] of [
      ['padded.yaml', /padded\.yaml is 3\d{5} bytes; a plan may be at most 262144 bytes \(256 KiB\)/],
      ['huge.yaml', /huge\.yaml is 10\d{6} bytes; a plan may be at most 262144 bytes/],
      ['bomb.yaml', /bomb\.yaml expands YAML aliases \(\*name\) beyond the limit of 100/],
    ] as const) {
      test(`${c.name} ${file}`, async () => {
        const r = await run(c.argv(file));
        assert.equal(r.code, 2, r.err);
        assert.match(r.err, match);
        assert.ok(r.ms < 1000, `refused in ${Math.round(r.ms)} ms`);
        assert.equal(r.gateway.calls.filter((x) => x.op === 'start').length, 0, 'nothing started');
      });
    }
  }

  test('a plan that uses an alias or two within the limit is still read', async () => {
    assert.match(files['alias-ok.yaml']!, /latencyP50Ms: \*p99/);
    const r = await run(['plan', 'validate', 'alias-ok.yaml']);
    assert.equal(r.code, 0, r.err);
  });
});

describe('--set indices must name an item of the list or the one after it', () => {
  // The example plan has 7 steps: strategy[0..6] exist, strategy[7] appends one.
  const refused: [string, RegExp][] = [
    ['strategy[50000000].mirror.percent=5', /strategy\[50000000\] is past the end of strategy, which has 7 items \(set an index 0\.\.7; 7 appends\)/],
    ['strategy[4294967296].mirror.percent=5', /strategy\[4294967296\] is not a list index/],
    ['strategy[8].retire={}', /strategy\[8\] is past the end of strategy/],
    ['strategy[01].costCheck.maxMonthlyUsd=1', /strategy\[1\] is not a list index/],
    ['candidate[0].name=x', /candidate is not a list, so candidate\[0\] cannot be set/],
    ['strategy.first=x', /strategy is a list; set strategy\[0\]\.first/],
    ['gates.webhook.url[3]=x', /gates\.webhook\.url is a string, not a section|gates\.webhook\.url is not a list/],
  ];
  for (const [set, match] of refused) {
    test(`--set ${set.slice(0, 40)} is refused with exit 2 naming the path`, async () => {
      const r = await run(['plan', 'validate', 'plan.yaml', '--set', set]);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, match);
      assert.ok(r.ms < 1000, `refused in ${Math.round(r.ms)} ms`);
    });
  }

  test('an index within the list overrides, and the index right after it appends a step', async () => {
    const within = await run(['plan', 'validate', 'plan.yaml', '--set', 'strategy[0].mirror.percent=30']);
    assert.equal(within.code, 0, within.err);
    const append = await run(['plan', 'validate', 'plan.yaml', '--set', 'strategy[7].canary.percent=60', '--set', 'strategy[7].canary.bake=5m']);
    // Appending after retire is a plan error (the order rule), which proves the step arrived.
    assert.equal(append.code, 2);
    assert.match(append.err, /strategy\[7\]/);
  });
});

describe('reserved keys in a plan are refused, not dropped', () => {
  test('__proto__ under environment_variables: exit 2 naming its path, and nothing is polluted', async () => {
    assert.match(files['proto.yaml']!, /__proto__:\n {8}polluted: yes/);
    for (const c of commands) {
      const r = await run(c.argv('proto.yaml'));
      assert.equal(r.code, 2, `${c.name}: ${r.err}`);
      assert.match(r.err, /proto\.yaml uses a reserved key: candidate\.deployment\.environment_variables\.__proto__/);
      assert.equal(r.gateway.calls.filter((x) => x.op === 'start').length, 0);
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});
