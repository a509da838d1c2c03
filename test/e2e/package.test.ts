// The package as a user gets it, and the GitHub Action that installs it. `npm pack` (which builds dist/
// and the workflow bundle through prepack), then the action's own install step (`npm install` of the
// tarball into an empty folder outside the repository); then the installed CLI — not the clone's — prints
// its version (timed cold and warm), validates the example plan it ships, and runs the demo's two
// rollouts; and action.yml's `run:` steps, with the inputs substituted as GitHub does, start a rollout on
// the emulator, write the job summary and set the outputs, and resume waiting in a "later job".
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { runProcess, shortPlan, startRig, type Rig } from './support.js';
import { repoRoot } from '../support/temporal.js';
import { RG, WS, armClient } from '../emulator/support.js';

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { name: string; version: string };
const work = realpathSync(mkdtempSync(join(tmpdir(), 'glidepath-package-')));
const runnerTemp = join(work, 'runner-temp');
/** Where the action's install step puts the CLI: an empty folder of its own, outside the repository. */
const consumer = join(runnerTemp, 'glidepath-cli');
const installed = join(consumer, 'node_modules', ...pkg.name.split('/'));
const bin = join(installed, 'bin', 'glidepath.js');
let tarball = '';
let packedFiles: string[] = [];
let rig: Rig;

/** The environment of a user's shell: nothing of this test runner's loader (tsx) or of the repository. */
function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete e.NODE_OPTIONS;
  delete e.NODE_PATH;
  delete e.GLIDEPATH_WORKFLOW_BUNDLE;
  return e;
}

function sh(cmd: string, args: string[], cwd: string, timeoutMs: number, extra: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, env: userEnv(extra), encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} (in ${cwd}) → ${r.status ?? r.signal} ${r.error?.message ?? ''}\n${r.stdout}\n${r.stderr}`.slice(-6000));
  return r;
}

// ── action.yml, run the way a runner runs a composite action ──

interface ActionStep {
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  shell?: string;
  env?: Record<string, string>;
}
interface Action {
  inputs: Record<string, { default?: string; required?: boolean }>;
  outputs: Record<string, { value: string }>;
  runs: { using: string; steps: ActionStep[] };
}
const action = parse(readFileSync(join(repoRoot, 'action.yml'), 'utf8')) as Action;

interface ActionRun {
  outputs: Record<string, string>;
  /** Each run step's id, exit code and stderr, in order. */
  steps: { id: string; code: number; log: string }[];
  summary: string;
}

/** Runs every `run:` step of action.yml with `inputs` (defaults filled in) in `cwd`, stopping at the first failure, as a runner does. */
async function runAction(inputs: Record<string, string>, cwd: string, jobEnv: NodeJS.ProcessEnv, only?: string): Promise<ActionRun> {
  for (const name of Object.keys(inputs)) assert.ok(name in action.inputs, `action.yml has an input named ${name}`);
  const values = Object.fromEntries(Object.entries(action.inputs).map(([k, v]) => [k, inputs[k] ?? v.default ?? '']));
  const stepOutputs: Record<string, Record<string, string>> = {};
  const expr = (text: string) =>
    text.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, e: string) => {
      let m: RegExpExecArray | null;
      if ((m = /^inputs\.([\w-]+)$/.exec(e))) return values[m[1]!] ?? assert.fail(`unknown input in ${e}`);
      if ((m = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(e))) return stepOutputs[m[1]!]?.[m[2]!] ?? '';
      if (e === 'github.action_path') return repoRoot;
      return assert.fail(`action.yml uses an expression this harness does not know: ${e}`);
    });
  const summaryFile = join(runnerTemp, `summary-${Date.now()}.md`);
  writeFileSync(summaryFile, '');
  const run: ActionRun = { outputs: {}, steps: [], summary: '' };
  for (const [i, step] of action.runs.steps.entries()) {
    if (step.uses) {
      assert.match(step.uses, /^actions\/setup-node@/, 'the only step not run here is setup-node (this machine has Node ≥ 22)');
      continue;
    }
    const id = step.id ?? `step${i}`;
    if (only && id !== only) continue;
    assert.equal(step.shell, 'bash', `${id}: composite run steps name their shell`);
    const outFile = join(runnerTemp, `output-${id}-${Date.now()}`);
    writeFileSync(outFile, '');
    const script = join(runnerTemp, `${id}.sh`);
    writeFileSync(script, step.run!);
    const env = userEnv({
      ...jobEnv,
      ...Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, expr(String(v))])),
      GITHUB_OUTPUT: outFile,
      GITHUB_STEP_SUMMARY: summaryFile,
      GITHUB_ACTION_PATH: repoRoot,
      GITHUB_ACTOR: 'octocat',
      RUNNER_TEMP: runnerTemp,
    });
    const r = await runProcess('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], { cwd, env, timeout: 600_000 });
    stepOutputs[id] = Object.fromEntries(
      readFileSync(outFile, 'utf8')
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    run.steps.push({ id, code: r.code, log: `${r.out}${r.err}` });
    if (r.code !== 0) break;
  }
  run.outputs = Object.fromEntries(Object.entries(action.outputs).map(([k, v]) => [k, expr(v.value)]));
  run.summary = readFileSync(summaryFile, 'utf8');
  return run;
}

before(async () => {
  // npm pack runs prepack (npm run build): the tarball always holds dist/ built from these sources.
  const packed = sh('npm', ['pack', '--json', '--pack-destination', work], repoRoot, 600_000);
  const info = (JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[])[0]!;
  packedFiles = info.files.map((f) => f.path);
  tarball = join(work, info.filename);
  mkdirSync(runnerTemp, { recursive: true });
  const install = await runAction({ package: tarball }, work, {}, 'install');
  assert.deepEqual(
    install.steps.map((s) => [s.id, s.code]),
    [['install', 0]],
    install.steps.map((s) => s.log).join('\n').slice(-6000),
  );
  rig = await startRig();
});

after(async () => {
  await rig?.teardown();
  rmSync(work, { recursive: true, force: true });
});

test('the tarball holds the compiled CLI, the prebuilt workflow bundle, the model weights and the example plans, and no TypeScript source or test', () => {
  for (const f of ['bin/glidepath.js', 'dist/client/cli.js', 'dist/workflow-bundle.js', 'dist/emulator/models/fraud-detector.weights.json', 'dist/emulator/model-worker.js', 'examples/minimal.yaml', 'action.yml', 'package.json']) {
    assert.ok(packedFiles.includes(f), `${f} is in the tarball`);
  }
  const stray = packedFiles.filter((f) => /\.ts$|\.map$/.test(f) || /^(test|bench|client|domain|workflows|activities|worker|emulator|demo)\//.test(f));
  assert.deepEqual(stray, [], 'sources, tests and source maps stay out of the tarball');
  assert.equal(existsSync(join(consumer, 'node_modules', 'tsx')), false, 'tsx is not installed with the package (no TypeScript at run time)');
  assert.equal(existsSync(join(consumer, 'node_modules', '@temporalio', 'testing')), false, '@temporalio/testing is a devDependency');
});

test('the installed `glidepath --version` prints the package version and starts in under 0.5 s', async () => {
  const npx = sh('npx', ['--no-install', 'glidepath', '--version'], consumer, 60_000);
  assert.equal(npx.stdout.trim(), pkg.version, 'npx finds the installed bin, no registry lookup');
  const cache = join(work, 'compile-cache'); // a fresh compile cache: the first run is a true cold start
  const times: number[] = [];
  for (let i = 0; i < 6; i++) {
    const t0 = process.hrtime.bigint();
    const r = sh(process.execPath, [bin, '--version'], consumer, 30_000, { NODE_COMPILE_CACHE: cache });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    assert.equal(r.stdout.trim(), pkg.version);
  }
  const warm = times.slice(1).sort((a, b) => a - b);
  const median = warm[Math.floor(warm.length / 2)]!;
  console.log(`# glidepath --version from the installed package (node ${process.version}): cold ${times[0]!.toFixed(0)} ms, warm median ${median.toFixed(0)} ms (runs: ${times.map((t) => t.toFixed(0)).join(', ')} ms)`);
  assert.ok(median < 500, `warm median ${median.toFixed(0)} ms ≥ 500 ms`);
  assert.ok(times[0]! < 1500, `cold start ${times[0]!.toFixed(0)} ms`);
});

test('the installed CLI validates the example plan it ships and refuses a broken one naming the field', () => {
  const ok = sh(process.execPath, [bin, 'plan', 'validate', join(installed, 'examples', 'minimal.yaml')], consumer, 60_000);
  assert.match(ok.stdout, /valid plan — green \(azureml:fraud-detector:2\) on fraud-detection/);
  writeFileSync(join(consumer, 'broken.yaml'), readFileSync(join(installed, 'examples', 'minimal.yaml'), 'utf8').replace('endpoint: fraud-detection', 'endpoint: 9'));
  const bad = spawnSync(process.execPath, [bin, 'plan', 'validate', 'broken.yaml'], { cwd: consumer, env: userEnv(), encoding: 'utf8' });
  assert.equal(bad.status, 2, bad.stdout + bad.stderr);
  assert.match(bad.stderr, /target\.endpoint/);
});

test('the installed package runs the demo: a worker on its prebuilt bundle rolls green out, rolls red back on its 424s and amber on its predictions (Azurite from the installed package), on the emulator', async () => {
  const out = join(consumer, 'reports');
  const r = await runProcess(process.execPath, [bin, 'demo', '--bake', '3s', '--out', out, '--json'], {
    cwd: consumer,
    env: userEnv({ TEMPORAL_ADDRESS: rig.env.address, TEMPORAL_NAMESPACE: rig.env.namespace ?? 'default' }),
    timeout: 300_000,
  });
  assert.equal(r.code, 0, `${r.out}\n${r.err}`.slice(-6000));
  const summary = JSON.parse(r.out) as { ok: boolean; rollouts: { candidate: string; outcome: string }[] };
  assert.deepEqual(
    summary.rollouts.map((x) => [x.candidate, x.outcome]),
    [
      ['green', 'promoted'],
      ['red', 'rolled_back'],
      ['amber', 'rolled_back'],
    ],
  );
  assert.ok(existsSync(join(out, 'rollout-1-green.md')), 'the report is written where the user asked');
  assert.doesNotMatch(r.err, /bundling|webpack/i, 'the worker used the prebuilt bundle');
});

/** A user's repository with a plan for `endpoint`, and the job's environment: Temporal, the emulator's prices. */
async function aUsersRepo(endpoint: string): Promise<{ cwd: string; jobEnv: NodeJS.ProcessEnv; stopTraffic: () => Promise<void> }> {
  const stopTraffic = await rig.endpoint(endpoint);
  const cwd = mkdtempSync(join(work, 'repo-'));
  writeFileSync(join(cwd, 'rollout.yaml'), shortPlan(endpoint, { candidate: 'draft', model: 'azureml:fraud-detector:1' }));
  writeFileSync(join(work, 'emulator-ca.pem'), rig.emulator.caCertPem);
  const jobEnv = { ...rig.cliEnv, GLIDEPATH_AS: '', GLIDEPATH_PRICES_URL: `${rig.emulator.url}/api/retail/prices`, NODE_EXTRA_CA_CERTS: join(work, 'emulator-ca.pem') };
  return { cwd, jobEnv, stopTraffic };
}

test('the action explains the plan, starts the rollout with the --set overrides, waits, and reports outcome and report in the job summary', async () => {
  const repo = await aUsersRepo('action-wait');
  try {
    const run = await runAction(
      { plan: 'rollout.yaml', set: 'candidate.deployment.model=azureml:fraud-detector:2\n  candidate.name=green\n', wait: 'true', timeout: '5m', 'temporal-ui': 'http://ui.example:8080/', package: tarball },
      repo.cwd,
      repo.jobEnv,
    );
    assert.deepEqual(
      run.steps.map((s) => [s.id, s.code]),
      [['install', 0], ['start', 0], ['wait', 0]],
      run.steps.map((s) => `── ${s.id}\n${s.log}`).join('\n').slice(-6000),
    );
    assert.match(run.outputs['rollout-id']!, /^glidepath-rollout:\/subscriptions\/.*\/onlineendpoints\/action-wait$/);
    assert.equal(run.outputs.outcome, 'promoted');
    const s = run.summary;
    const explained = s.indexOf('## Glidepath rollout: `rollout.yaml`');
    const outcome = s.indexOf('### Outcome: promoted');
    assert.ok(explained >= 0 && outcome > explained, `the plan explanation, then the outcome:\n${s}`);
    assert.match(s.slice(explained, outcome), /Rollout of green on action-wait \(baseline blue\)/, 'the explanation is of the plan with the overrides (candidate draft → green)');
    assert.match(s, /Cost estimate: 1 × Standard_DS3_v2 .* ≈ \$\d/, 'priced from the (emulated) Retail Prices API');
    assert.ok(s.includes(`Temporal UI: [${run.outputs['rollout-id']}](http://ui.example:8080/namespaces/default/workflows/${encodeURIComponent(run.outputs['rollout-id']!)})`), s);
    assert.match(s, /<details><summary>Rollout report<\/summary>[\s\S]*\*\*Outcome:\*\* promoted[\s\S]*<\/details>/, 'the rollout report follows');
    const deployed = await armClient(rig.emulator).onlineDeployments.get(RG, WS, 'action-wait', 'green');
    assert.match(String(deployed.properties.model), /fraud-detector.*2$/, 'the model of the --set override was deployed');
    assert.match(s, /started.*github:octocat|github:octocat/, 'started as the GitHub actor by default');
  } finally {
    await repo.stopTraffic();
  }
});

test('wait: false returns the rollout id at once (outcome running); a later job resumes waiting with rollout-id and starts nothing', async () => {
  const repo = await aUsersRepo('action-resume');
  try {
    const first = await runAction({ plan: 'rollout.yaml', set: 'candidate.deployment.model=azureml:fraud-detector:2', wait: 'false', package: tarball }, repo.cwd, repo.jobEnv);
    assert.deepEqual(first.steps.map((s) => s.code), [0, 0, 0], first.steps.map((s) => s.log).join('\n').slice(-4000));
    assert.equal(first.outputs.outcome, 'running');
    const id = first.outputs['rollout-id']!;
    assert.match(id, /onlineendpoints\/action-resume$/);
    assert.ok(first.summary.includes(`glidepath rollout wait '${id}'`), first.summary);

    const later = await runAction({ 'rollout-id': id, wait: 'true', timeout: '5m', package: tarball }, repo.cwd, repo.jobEnv);
    assert.deepEqual(later.steps.map((s) => s.code), [0, 0, 0], later.steps.map((s) => s.log).join('\n').slice(-4000));
    assert.equal(later.outputs['rollout-id'], id);
    assert.equal(later.outputs.outcome, 'promoted');
    assert.match(later.steps[1]!.log, /Resuming the wait on/);
    assert.doesNotMatch(later.summary, /## Glidepath rollout/, 'nothing explained or started again');
    const runs = await rig.cli(['rollout', 'list', '--endpoint', 'action-resume', '--json']);
    assert.equal((JSON.parse(runs.out) as unknown[]).length, 1, 'one rollout on the endpoint');
  } finally {
    await repo.stopTraffic();
  }
});

test('a plan that does not validate fails the start step with exit 2 and says why in the summary; no rollout id', async () => {
  const repo = await aUsersRepo('action-bad');
  try {
    const run = await runAction({ plan: 'rollout.yaml', set: 'strategy.0.mirror.percent=90', package: tarball }, repo.cwd, repo.jobEnv);
    assert.deepEqual(run.steps.map((s) => [s.id, s.code]), [['install', 0], ['start', 2]], run.steps.map((s) => s.log).join('\n').slice(-4000));
    assert.match(run.steps[1]!.log, /mirror|percent/);
    assert.equal(run.outputs['rollout-id'], '');
  } finally {
    await repo.stopTraffic();
  }
});
