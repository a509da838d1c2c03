// `glidepath worker` as a real process: it serves Prometheus metrics with Glidepath's own counters,
// stops cleanly (exit 0) on SIGTERM in the middle of a rollout, and a new worker process finishes that
// rollout correctly; its counters count every verdict and every outcome of the rollouts it ran.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { PlanDocument } from '../../domain/plan.js';
import type { SafeRolloutResult } from '../../domain/rollout.js';
import { generateTraffic, type Emulator } from '../../emulator/index.js';
import { status } from '../../workflows/messages.js';
import { anEndpointWith, armClient, RG, setTraffic, startTestEmulator, SUB, WS } from '../emulator/support.js';
import { anEmulatorPlanDocument, startRollout } from '../support/builders.js';
import { freePort } from '../support/net.js';
import { createDevEnv, repoRoot, uniqueName, workflowBundle } from '../support/temporal.js';

let env: TestWorkflowEnvironment;
let emu: Emulator;
let arm: AzureMachineLearningWorkspaces;
let bundlePath: string;


before(async () => {
  let bundle;
  [env, emu, bundle] = await Promise.all([createDevEnv(), startTestEmulator({ provisionTimeMs: 500 }), workflowBundle()]);
  arm = armClient(emu);
  bundlePath = join(mkdtempSync(join(tmpdir(), 'glidepath-bundle-')), 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
});
after(async () => {
  await Promise.all([env?.teardown(), emu?.close()]);
});

interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startWorker(taskQueue: string, metricsPort: number): WorkerProcess {
  let output = '';
  const child = spawn(process.execPath, [join(repoRoot, 'bin/glidepath.js'), 'worker'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      GLIDEPATH_CLOUD: 'emulator',
      GLIDEPATH_EMULATOR_URL: emu.url,
      GLIDEPATH_EMULATOR_CA: emu.caCertPath,
      GLIDEPATH_TASK_QUEUE: taskQueue,
      GLIDEPATH_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
      GLIDEPATH_WORKFLOW_BUNDLE: bundlePath,
      GLIDEPATH_SHUTDOWN_GRACE: '20000',
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: 'default',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('a worker process stopped by SIGTERM mid-rollout exits 0, and a new one finishes the rollout; /metrics shows Glidepath counters', async () => {
  const endpoint = 'worker-restart';
  const key = await anEndpointWith(arm, endpoint, { blue: 'azureml:fraud-detector:1' });
  await setTraffic(arm, endpoint, { blue: 100 });
  const taskQueue = uniqueName('proc');
  const plan = {
    apiVersion: 'glidepath/v1',
    kind: 'Rollout',
    target: { subscriptionId: SUB, resourceGroup: RG, workspace: WS, endpoint },
    candidate: { name: 'green', deployment: { model: 'azureml:fraud-detector:2', instance_type: 'Standard_DS3_v2', instance_count: 1 } },
    strategy: [{ mirror: { percent: 30, bake: '8s' } }, { canary: { percent: 50, bake: '4s' } }, { promote: { rollbackWindow: '1s' } }, { retire: {} }],
    analysis: { interval: '2s', failureLimit: 2, minRequests: 3, onInconclusive: 'extend', maxExtensions: 5 },
    gates: { errorRate: { max: 0.05 }, modelErrorRate: { max: 0.05 } },
  } as PlanDocument;

  const stop = new AbortController();
  const traffic = generateTraffic({ url: emu.url, endpoint, key, rps: 30, durationMs: 120_000, seed: 5, caCertPem: emu.caCertPem, signal: stop.signal });
  const metricsPort = await freePort();
  const first = startWorker(taskQueue, metricsPort);
  try {
    const handle = await startRollout(env.client, { plan, startedBy: 'ci@contoso.com', taskQueue });
    await until('the mirror bake', async () => ((await handle.query(status)).stage === 'mirror' ? true : undefined));

    const metrics = await until('Glidepath counters on /metrics', async () => {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      return counterSum(text, 'glidepath_rollouts_total', { event: 'started' }) === 1 && /glidepath_azure_calls_total\{/.test(text) ? text : undefined;
    });
    assert.match(metrics, /glidepath_azure_calls_total\{[^}]*kind="writes"[^}]*status="20\d"/);
    assert.match(metrics, /temporal_/); // the SDK's own runtime metrics share the endpoint

    const stoppedAt = Date.now();
    first.child.kill('SIGTERM');
    assert.equal(await first.exited, 0, `first worker output:\n${first.output()}`);
    const stopMs = Date.now() - stoppedAt;

    const second = startWorker(taskQueue, await freePort());
    try {
      const result = await handle.result();
      assert.equal(result.outcome, 'promoted', result.reason);
      const ep = await arm.onlineEndpoints.get(RG, WS, endpoint);
      assert.deepEqual(Object.entries(ep.properties.traffic ?? {}).filter(([, v]) => v > 0), [['green', 100]]);
      console.log(`# first worker stopped ${stopMs} ms after SIGTERM; the second finished the rollout`);
    } finally {
      second.child.kill('SIGTERM');
      assert.equal(await second.exited, 0, `second worker output:\n${second.output()}`);
    }
  } finally {
    stop.abort();
    await traffic;
    if (first.child.exitCode === null) first.child.kill('SIGKILL');
  }
});

/** The sum of a metric's samples in Prometheus text whose labels include `labels`. */
function counterSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

test('/metrics counts every verdict and the outcome of each rollout: one promoted, one rolled back', async () => {
  const taskQueue = uniqueName('metrics');
  const metricsPort = await freePort();
  const worker = startWorker(taskQueue, metricsPort);
  const stop = new AbortController();
  const traffic: Promise<unknown>[] = [];
  try {
    // Side by side: a good candidate, and one whose every other request fails (over the error-rate gates).
    emu.faults.setBehaviour('green', { errorRate: 0.5 }, 'metrics-bad');
    const runs = await Promise.all(
      ['metrics-good', 'metrics-bad'].map(async (endpoint, i) => {
        const key = await anEndpointWith(arm, endpoint, { blue: 'azureml:fraud-detector:1' });
        await setTraffic(arm, endpoint, { blue: 100 });
        traffic.push(generateTraffic({ url: emu.url, endpoint, key, rps: 30, durationMs: 120_000, seed: 11 + i, caCertPem: emu.caCertPem, signal: stop.signal }));
        const plan = anEmulatorPlanDocument(endpoint, 'azureml:fraud-detector:2', {
          strategy: [{ mirror: { percent: 30, bake: '6s' } }, { costCheck: { maxMonthlyUsd: 5000 } }, { canary: { percent: 50, bake: '4s' } }, { promote: { rollbackWindow: '1s' } }],
        });
        const handle = await startRollout(env.client, { plan, startedBy: 'ci@contoso.com', taskQueue });
        return handle.result();
      }),
    );
    const [good, bad] = runs as [SafeRolloutResult, SafeRolloutResult];
    assert.equal(good.outcome, 'promoted', good.reason);
    assert.equal(bad.outcome, 'rolled_back', bad.reason);

    const text = await until('both outcomes on /metrics', async () => {
      const t = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      return counterSum(t, 'glidepath_rollouts_total', { event: 'finished' }) >= 2 ? t : undefined;
    });
    assert.equal(counterSum(text, 'glidepath_rollouts_total', { event: 'started' }), 2);
    assert.equal(counterSum(text, 'glidepath_rollouts_total', { event: 'finished', outcome: 'promoted' }), 1);
    assert.equal(counterSum(text, 'glidepath_rollouts_total', { event: 'finished', outcome: 'rolled_back' }), 1);
    assert.equal(counterSum(text, 'glidepath_rollouts_total', { event: 'finished' }), 2, 'each rollout finishes once');

    // Every verdict in the two results is counted once, by status; the bad candidate failed at least one.
    const verdicts = [...good.verdicts, ...bad.verdicts];
    const byStatus = (s: string) => verdicts.filter((v) => v.status === s).length;
    assert.ok(counterSum(text, 'glidepath_gate_verdicts_total') > 0, 'no verdict counted');
    assert.equal(counterSum(text, 'glidepath_gate_verdicts_total'), verdicts.length);
    for (const status of ['pass', 'fail', 'inconclusive']) {
      assert.equal(counterSum(text, 'glidepath_gate_verdicts_total', { status }), byStatus(status), `verdicts with status ${status}`);
    }
    assert.ok(byStatus('fail') >= 1, 'the bad candidate failed a gate');
    const costChecks = verdicts.filter((v) => v.stepIndex === 1).length; // step 2 of the plan is the cost check
    assert.equal(costChecks, 1, 'only the good candidate reached the cost check');
    assert.equal(counterSum(text, 'glidepath_gate_verdicts_total', { check: 'cost' }), costChecks);
    assert.equal(counterSum(text, 'glidepath_gate_verdicts_total', { check: 'analysis' }), verdicts.length - costChecks);

    // Exposition: every Glidepath metric is a counter named *_total, with HELP and TYPE lines.
    for (const name of ['glidepath_rollouts_total', 'glidepath_gate_verdicts_total', 'glidepath_azure_calls_total']) {
      assert.match(text, new RegExp(`^# HELP ${name} \\S`, 'm'));
      assert.match(text, new RegExp(`^# TYPE ${name} counter$`, 'm'));
    }
    const names = new Set([...text.matchAll(/^(glidepath_\w+?)(?:\{| )/gm)].map((m) => m[1] ?? ''));
    assert.deepEqual([...names].filter((n) => !n.endsWith('_total')), []);
    console.log(`# ${verdicts.length} verdicts counted (${['pass', 'fail', 'inconclusive'].map((s) => `${s} ${byStatus(s)}`).join(', ')})`);
  } finally {
    stop.abort();
    emu.faults.clear();
    await Promise.all(traffic);
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0, `worker output:\n${worker.output()}`);
  }
});
