// The demo, run as a newcomer runs it: the README's demo command verbatim, in a child process. Its
// outcomes are read from the workflows it ran (their results on the Temporal server), not from what it
// printed; and Ctrl-C (SIGINT) in the middle of a rollout leaves none of its processes running.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { SafeRolloutResult } from '../../domain/rollout.js';
import { createDevEnv, findTemporalCli, repoRoot } from '../support/temporal.js';
import { readmeBlocks } from './readme.js';

let env: TestWorkflowEnvironment;

before(async () => {
  env = await createDevEnv();
});
after(async () => {
  await env?.teardown();
});

interface Run {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | string>;
}

function run(command: string, args: string[], extraEnv: NodeJS.ProcessEnv): Run {
  const child = spawn(command, args, { cwd: repoRoot, env: { ...process.env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((r) => child.on('close', (code, signal) => r(code ?? signal ?? -1)));
  return { child, out: () => out, exited };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what()}`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

/** Every process descended from `pid` (from /proc). */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      parent.set(Number(e), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, pp] of parent) {
      if (pp !== p) continue;
      out.push(child);
      walk(child);
    }
  };
  walk(pid);
  return out;
}

/** True while `pid` exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function answers(address: string): Promise<boolean> {
  const [host, port] = address.split(':');
  return new Promise((resolve) => {
    const s = createConnection({ host: host!, port: Number(port) });
    s.setTimeout(1000, () => (s.destroy(), resolve(false)));
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

test("the README's demo command promotes green, rolls back the faulty candidate on 424s and the wrong one on its predictions, as the three workflows record, and leaves a server it found running", async () => {
  const demo = readmeBlocks().filter((b) => b.marker === 'demo');
  assert.equal(demo.length, 1, 'the README has one block marked <!-- ci: demo -->');
  const command = demo[0]!.code.trim();
  assert.match(command, /^npm run demo$/m);

  const started = Date.now();
  const r = run('bash', ['-euo', 'pipefail', '-c', command], { TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: env.namespace ?? 'default' });
  const code = await withTimeout(r.exited, 300_000, r.out);
  const wallMs = Date.now() - started;
  console.log(`# demo wall time: ${(wallMs / 1000).toFixed(1)} s`);
  assert.equal(code, 0, r.out());
  assert.ok(wallMs <= 180_000, `the demo took ${wallMs} ms (≤ 3 minutes)`);

  // From the server: every run on the demo endpoint, and each run's own result.
  const runs: { workflowId: string; runId: string; status: string }[] = [];
  for await (const w of env.client.workflow.list({ query: 'GlidepathEndpoint = "fraud-detection"' })) runs.push({ workflowId: w.workflowId, runId: w.runId, status: w.status.name });
  assert.equal(runs.length, 3, JSON.stringify(runs));
  const results: SafeRolloutResult[] = [];
  for (const w of runs) {
    assert.equal(w.status, 'COMPLETED');
    results.push((await env.client.workflow.getHandle(w.workflowId, w.runId).result()) as SafeRolloutResult);
  }
  const promoted = results.find((x) => x.outcome === 'promoted');
  const rolledBack = results.find((x) => x.outcome === 'rolled_back' && x.candidate === 'red');
  const wrong = results.find((x) => x.candidate === 'amber');
  assert.ok(promoted && rolledBack, JSON.stringify(results.map((x) => [x.candidate, x.outcome, x.reason])));
  assert.equal(promoted.candidate, 'green');
  assert.equal(promoted.baseline, 'blue');
  assert.ok(promoted.approvals.some((a) => a.decision === 'approved' && a.by === 'alice@contoso.com'), 'approved by the simulated reviewer');
  assert.ok(promoted.timeline.some((e) => e.kind === 'retired'), 'blue retired');
  assert.equal(rolledBack.candidate, 'red');
  assert.equal(rolledBack.baseline, 'green');
  assert.equal(rolledBack.rollback?.confirmed, true, 'rollback read back from the endpoint');
  assert.ok(rolledBack.approvals.length === 0, 'rolled back before anyone was asked');
  const liveForRed = rolledBack.timeline.filter((e) => e.kind === 'traffic' && e.text.split(' | ').some((part) => /^red \d+%$/.test(part)));
  assert.deepEqual(liveForRed, [], 'red never had live traffic');
  assert.match(rolledBack.reason, /424|model error/i);

  // The third: fast and healthy, but wrong — rolled back in the mirror on prediction disagreement.
  assert.ok(wrong, 'a rollout of amber (fraud-detector:5) ran');
  assert.equal(wrong.outcome, 'rolled_back', wrong.reason);
  assert.equal(wrong.baseline, 'green');
  assert.equal(wrong.rollback?.confirmed, true);
  assert.deepEqual(wrong.approvals, [], 'rolled back before anyone was asked');
  assert.deepEqual(wrong.timeline.filter((e) => e.kind === 'traffic' && e.text.split(' | ').some((part) => /^amber \d+%$/.test(part))), [], 'amber never had live traffic');
  assert.match(wrong.reason, /step 1 \(mirror 50%\): predictions: disagreement \d+(\.\d)?% \([\d,]+\/[\d,]+ pairs\) > 2% · isFraud false→true [\d,]+/, wrong.reason);
  assert.ok(wrong.timeline.some((e) => /added data collection to the candidate/.test(e.text)), 'the status says the collector was added to amber');

  // All reports, and the server it found still serves.
  const reports = join(repoRoot, '.glidepath', 'demo');
  for (const f of ['rollout-1-green.html', 'rollout-1-green.md', 'rollout-2-red.html', 'rollout-2-red.md', 'rollout-3-amber.html', 'rollout-3-amber.md']) {
    assert.ok(statSync(join(reports, f)).mtimeMs >= started, `${f} written by this run`);
  }
  assert.ok(await answers(env.address), 'the Temporal server the demo found is still running');
});

test('Ctrl-C (SIGINT) during a rollout stops every process the demo started, its own dev server included', async () => {
  findTemporalCli(); // throws with the hint when there is none
  const out = mkdtempSync(join(tmpdir(), 'glidepath-demo-sigint-'));
  const r = run(process.execPath, [join(repoRoot, 'bin', 'glidepath.js'), 'demo', '--new-server', '--out', out], {});
  // Wait until the first rollout runs (its workflow has started and reports progress).
  await withTimeout(
    (async () => {
      while (!/progress/.test(r.out())) await new Promise((res) => setTimeout(res, 200));
    })(),
    120_000,
    r.out,
  );
  const address = /dev server at (\S+) \(pid (\d+)\)/.exec(r.out());
  assert.ok(address, r.out());
  const before = descendants(r.child.pid!);
  assert.ok(before.includes(Number(address[2])), `the dev server (pid ${address[2]}) is the demo's child: ${before.join(',')}`);

  r.child.kill('SIGINT');
  const code = await withTimeout(r.exited, 60_000, r.out);
  assert.equal(code, 130, r.out());
  await new Promise((res) => setTimeout(res, 500));
  const left = before.filter(alive);
  assert.deepEqual(left, [], `processes left running: ${left.join(',')}`);
  assert.equal(await answers(address[1]!), false, 'the dev server no longer listens');
  assert.match(r.out(), /stopped; nothing the demo started is left running/);
});

test('demo --keep names its task queue and prints a command that starts your own rollout against the demo endpoint, and that command promotes', async () => {
  const out = mkdtempSync(join(tmpdir(), 'glidepath-demo-keep-'));
  const r = run(process.execPath, [join(repoRoot, 'bin', 'glidepath.js'), 'demo', '--keep', '--bake', '3s', '--out', out], {
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: env.namespace ?? 'default',
  });
  try {
    await withTimeout(
      (async () => {
        while (!/rollout start/.test(r.out())) await new Promise((res) => setTimeout(res, 500));
      })(),
      300_000,
      r.out,
    );
    const queue = /The demo's worker polls the task queue (glidepath-demo-\d+) \(only that one\)/.exec(r.out());
    assert.ok(queue, r.out());
    const command = /^ {2}(GLIDEPATH_TASK_QUEUE=\S+ .* rollout start .* --wait)$/m.exec(r.out())?.[1];
    assert.ok(command, r.out());
    assert.ok(command.startsWith(`GLIDEPATH_TASK_QUEUE=${queue[1]} `), command);
    // The printed command, verbatim, from the directory the demo ran in.
    const mine = run('bash', ['-euo', 'pipefail', '-c', command], {});
    const code = await withTimeout(mine.exited, 240_000, mine.out);
    assert.equal(code, 0, mine.out());
    assert.match(mine.out(), /Rollout promoted: purple serves 100% of fraud-detection/);
  } finally {
    r.child.kill('SIGINT');
    await withTimeout(r.exited, 60_000, r.out).catch(() => r.child.kill('SIGKILL'));
  }
});
