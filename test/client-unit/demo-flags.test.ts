/**
 * `glidepath demo`'s flags go through the CLI's one parser: a bad flag exits 2 with one line naming it
 * (pointing at `glidepath demo --help`) and starts nothing; good flags parse to the demo's settings.
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { main } from '../../client/cli.js';
import { parseDemoArgs } from '../../demo/index.js';
import { testRuntime } from './fake-gateway.js';

describe('a bad demo flag exits 2 with one line naming it, before anything starts', () => {
  const cases: { name: string; argv: string[]; match: RegExp }[] = [
    { name: 'an unknown flag', argv: ['--interactiv'], match: /^glidepath: Unknown option '--interactiv' \(see glidepath demo --help\)$/ },
    { name: 'a positional argument', argv: ['now'], match: /^glidepath: unexpected argument 'now' \(see glidepath demo --help\)$/ },
    { name: 'a flag missing its value', argv: ['--out'], match: /^glidepath: Option '--out <value>' argument missing \(see glidepath demo --help\)$/ },
    { name: 'a UI port out of range', argv: ['--ui-port', '70000'], match: /^glidepath: --ui-port '70000' must be a port number 1\.\.65535$/ },
    { name: 'a bake below a second', argv: ['--bake', '500ms'], match: /^glidepath: --bake '500ms' must be a duration from 1s to 10m$/ },
    { name: 'a bake that is not a duration', argv: ['--bake', 'soon'], match: /^glidepath: --bake 'soon' must be a duration from 1s to 10m$/ },
  ];
  for (const c of cases) {
    test(`${c.name}: exit 2`, async () => {
      const t = testRuntime();
      const code = await main(['demo', ...c.argv], t.runtime);
      assert.equal(code, 2, t.err.join('\n'));
      assert.equal(t.err.length, 1, t.err.join('\n'));
      assert.match(t.err[0]!, c.match);
      assert.deepEqual(t.out, []);
    });
  }

  test('under --json the error is JSON on stdout too', async () => {
    const t = testRuntime();
    const code = await main(['demo', '--json', '--bake', '0s'], t.runtime);
    assert.equal(code, 2);
    assert.deepEqual(JSON.parse(t.out.join('')), { ok: false, exitCode: 2, error: "--bake '0s' must be a duration from 1s to 10m" });
  });
});

test('the demo flags parse to its settings; --manual is the old name of --interactive; --help is null', () => {
  assert.deepEqual(parseDemoArgs([]), { interactive: false, keep: false, newServer: false, uiPort: undefined, out: resolve('.glidepath/demo'), bake: '8s', json: false });
  assert.deepEqual(parseDemoArgs(['--manual', '--keep', '--new-server', '--ui-port', '8234', '--out', 'x', '--bake', '2s', '--json']), {
    interactive: true,
    keep: true,
    newServer: true,
    uiPort: 8234,
    out: resolve('x'),
    bake: '2s',
    json: true,
  });
  assert.equal(parseDemoArgs(['--interactive'])?.interactive, true);
  assert.equal(parseDemoArgs(['--help']), null);
  assert.equal(parseDemoArgs(['-h']), null);
});
