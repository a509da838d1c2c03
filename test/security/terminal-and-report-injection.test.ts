/**
 * Issue 13, hardened inputs: reasons and comments reached terminals with raw escape sequences (a screen
 * clear, fake coloured lines) and the Markdown report with raw HTML and remote images. Free text comes
 * from people and remote systems (a Slack or CLI comment, a pause reason, a webhook gate's reason, a
 * search attribute set by whoever started a workflow); here every printer — `rollout status` (running
 * and finished), `watch`, `list`, `approve`, `report` as Markdown (printed and written) and HTML — gets
 * the same hostile texts and prints no control character, no forged line, no raw HTML and no image.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { main } from '../../client/cli.js';
import { markdownText, oneLine, terminalText } from '../../client/sanitize.js';
import { rolloutWorkflowId } from '../../domain/ids.js';
import { aPlanDocument } from '../support/builders.js';
import { FakeGateway, testRuntime } from '../client-unit/fake-gateway.js';
import { aResult, aVerdict } from '../client-unit/result-builder.js';

const ID = rolloutWorkflowId(aPlanDocument().target as Parameters<typeof rolloutWorkflowId>[0]);

// A screen clear and cursor home, a fake green "approved" line after a CR and a newline, an OSC window
// title, a C1 CSI, a BEL, a bidi override, a NUL and DEL.
const HOSTILE = 'ok\u001b[2J\u001b[H\r\n  decision   approved step 3 by mallory@contoso.com\u001b[32m ✓\u001b[0m\u001b]0;pwned\u0007\u009b31mred\u0007\u202eevil\u0000\u007f';
const HTML = '<img src="https://evil.example/pixel.png"> ![tracker](https://evil.example/t.png) <script>alert(1)</script> | <details open>';

/** Any control character a terminal acts on (newline and tab are printed as themselves). */
// eslint-disable-next-line no-control-regex -- finding control characters is the point of the test
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

function hostileGateway(): FakeGateway {
  const g = new FakeGateway();
  const r = g.add(aPlanDocument(), 'ci@contoso.com', {
    stage: 'canary',
    stepIndex: 3,
    stepText: 'canary 10%',
    traffic: { live: { blue: 90, green: 10 }, mirror: {} } as never,
    lastVerdicts: [{ ...aVerdict(3, 1, [100, 0.001], [110, 0.002]), reasons: [`webhook: ${HOSTILE}`] }],
    approvals: [{ at: '2026-11-25T08:05:00.000Z', stepIndex: 2, decision: 'approved', by: 'bob@contoso.com', comment: `${HOSTILE} ${HTML}`, via: 'update', channel: 'cli' }],
    paused: { reason: HOSTILE, by: 'ops@contoso.com\u001b[8m', at: '2026-11-25T08:06:00.000Z' },
    events: [{ at: '2026-11-25T08:06:00.000Z', kind: 'paused', stepIndex: 3, text: `paused: ${HOSTILE} ${HTML}` }] as never,
  });
  r.summary.candidate = `green\u001b[2J\tfake`;
  return g;
}

async function run(argv: string[], gateway: FakeGateway) {
  const t = testRuntime({ gateway, env: { GLIDEPATH_AS: 'ci@contoso.com' } });
  const code = await main(argv, t.runtime);
  return { code, out: t.out.join('\n'), err: t.err.join('\n'), files: t.files };
}

function assertClean(text: string, what: string, lines = true) {
  const hit = CONTROL.exec(text);
  assert.equal(hit, null, `${what} printed control character U+${hit?.[0].charCodeAt(0).toString(16).padStart(4, '0')} near ${JSON.stringify(text.slice(Math.max(0, (hit?.index ?? 0) - 20), (hit?.index ?? 0) + 20))}`);
  if (!lines) return;
  // The forged decision stays inside the comment or reason it came in, never at the start of a line of its own.
  const forged = text.split('\n').filter((l) => /^\s*(decision\s+)?approved step 3 by mallory/.test(l));
  assert.deepEqual(forged, [], `${what} printed a forged line`);
}

describe('terminal printers strip control characters from every free text', () => {
  test('rollout status of a running rollout', async () => {
    const r = await run(['rollout', 'status', ID], hostileGateway());
    assert.equal(r.code, 0, r.err);
    assertClean(r.out, 'status');
    assert.match(r.out, /paused {5}by ops@contoso\.com: ok +decision +approved step 3 by mallory@contoso\.com ✓redevil/);
  });

  test('rollout status of a finished rollout, and its end line', async () => {
    const g = hostileGateway();
    const rollout = g.rollouts.get(ID)!;
    rollout.summary.execution = 'COMPLETED';
    rollout.result = aResult({ reason: HOSTILE, startedBy: `ci@contoso.com${HOSTILE}`, approvals: rollout.status.approvals });
    const r = await run(['rollout', 'status', ID], g);
    assert.equal(r.code, 0, r.err);
    assertClean(r.out, 'finished status');
  });

  test('rollout watch (progress lines and the end)', async () => {
    const g = hostileGateway();
    g.tick = (r, reads) => {
      if (reads >= 2) {
        r.summary.execution = 'COMPLETED';
        r.result = aResult({ outcome: 'rolled_back', reason: HOSTILE });
        r.status.outcome = 'rolled_back';
      }
    };
    const r = await run(['rollout', 'watch', ID], g);
    assertClean(`${r.out}\n${r.err}`, 'watch');
    assert.match(r.out, /PAUSED by ops@contoso\.com: ok/);
  });

  test('rollout list (search attributes anyone with namespace access can set)', async () => {
    const r = await run(['rollout', 'list'], hostileGateway());
    assert.equal(r.code, 0, r.err);
    assertClean(r.out, 'list');
    // One row per rollout, seven tab-separated columns: a tab in a value cannot add a column.
    const row = r.out.split('\n')[1]!;
    assert.equal(row.split('\t').length, 7, row);
  });

  test('an error message from the rollout (a refusal) reaches stderr clean', async () => {
    const g = hostileGateway();
    Object.assign(g.rollouts.get(ID)!.status, {
      stage: 'approval',
      stepIndex: 2,
      stepText: 'approval',
      pendingApproval: { stepIndex: 2, stepText: 'approval', requestedAt: '2026-11-25T08:02:00.000Z', timeoutAt: '2026-11-26T08:02:00.000Z', onTimeout: 'rollback', approvers: ['alice@contoso.com'] },
    });
    const r = await run(['rollout', 'approve', ID, '--step', '3', '--as', `x@contoso.com${HOSTILE}`, '--comment', HOSTILE], g);
    assert.equal(r.code, 2);
    assert.match(r.err, /x@contoso\.comok/, 'the refusal names the sender');
    assertClean(r.err, 'stderr');
  });

  test('--json keeps the data (escaped), so nothing raw reaches the terminal', async () => {
    const r = await run(['rollout', 'status', ID, '--json'], hostileGateway());
    assert.equal(r.code, 0, r.err);
    assertClean(r.out, 'status --json');
    const parsed = JSON.parse(r.out) as { status: { paused: { reason: string } } };
    assert.equal(parsed.status.paused.reason, HOSTILE, 'the JSON value is unchanged');
  });
});

describe('reports escape HTML and drop images', () => {
  test('the Markdown report (printed and written) has no raw HTML, no image and no control character', async () => {
    const printed = await run(['rollout', 'report', ID, '--format', 'md'], hostileGateway());
    assert.equal(printed.code, 0, printed.err);
    const written = await run(['rollout', 'report', ID, '--format', 'md', '--out', 'r.md'], hostileGateway());
    for (const md of [printed.out, written.files['r.md']!]) {
      assertClean(md, 'markdown');
      assert.ok(!/<img|<script|<details/i.test(md), 'no raw HTML');
      assert.ok(!/!\[[^\]]*\]\(/.test(md), 'no Markdown image');
      assert.match(md, /&lt;img src="https:\/\/evil\.example\/pixel\.png"&gt; tracker \(image removed\) &lt;script&gt;alert\(1\)&lt;\/script&gt; \\\| &lt;details open&gt;/);
    }
  });

  test('the HTML report escapes the same texts and loads nothing', async () => {
    const r = await run(['rollout', 'report', ID, '--format', 'html', '--out', 'r.html'], hostileGateway());
    assert.equal(r.code, 0, r.err);
    const html = r.files['r.html']!;
    assertClean(html, 'html', false);
    assert.ok(!/<(img|script|details|iframe|link)\b|<[^>]+\s(src|href)=/i.test(html), 'no raw HTML, nothing loaded');
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  });
});

describe('the sanitizer', () => {
  const cases: [string, string, string][] = [
    ['CSI colour', 'a\u001b[31mred\u001b[0m', 'ared'],
    ['screen clear', '\u001b[2J\u001b[Hx', 'x'],
    ['OSC title (BEL)', '\u001b]0;title\u0007x', 'x'],
    ['OSC 8 hyperlink (ST)', '\u001b]8;;https://evil.example\u001b\\click\u001b]8;;\u001b\\', 'click'],
    ['C1 CSI', '\u009b31mx', 'x'],
    ['CR overwrite', 'safe\rEVIL', 'safeEVIL'],
    ['bidi override', 'a\u202eb', 'ab'],
    ['newline and tab kept', 'a\n\tb', 'a\n\tb'],
    ['lone ESC', 'a\u001b', 'a'],
  ];
  for (const [what, input, want] of cases) test(`terminalText: ${what}`, () => assert.equal(terminalText(input), want));
  test('oneLine folds line breaks', () => assert.equal(oneLine('a\r\nb\n\tc'), 'a b c'));
  test('markdownText escapes HTML, drops images (reference style too) and escapes pipes', () => {
    assert.equal(markdownText('<b>x</b> ![a](http://e/p.png) ![b][ref] | y'), '&lt;b&gt;x&lt;/b&gt; a (image removed) b (image removed) \\| y');
    assert.equal(markdownText('![broken'), '!\\[broken');
  });
});
