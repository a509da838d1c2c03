/**
 * The e2e rig: a real Temporal dev server, the emulator with endpoints serving live traffic from the
 * traffic generator, a worker in this process (createActivities against the emulator, with the Slack
 * notifier pointed at a local fake Slack), and the CLI run either in-process through `main()` or as the
 * real `bin/glidepath.js` in a child process.
 */
import assert from 'node:assert/strict';
import { spawn, type SpawnOptions } from 'node:child_process';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { stringify } from 'yaml';
import type { DecisionTrust } from '../../domain/decision-signature.js';
import type { RolloutStatus, SafeRolloutResult } from '../../domain/rollout.js';
import { createActivities } from '../../activities/create-activities.js';
import { createSlackNotifier } from '../../activities/slack-notifier.js';
import { defaultRuntime, main } from '../../client/cli.js';
import { emulatorCredential, startEmulator, generateTraffic, type Emulator, type TrafficResult } from '../../emulator/index.js';
import { FakeSlack } from '../client-unit/fake-slack.js';
import { RG, SUB, WS, anEndpointWith, armClient } from '../emulator/support.js';
import { createDevEnv, repoRoot, uniqueName, workflowBundle } from '../support/temporal.js';

export interface Rig {
  env: TestWorkflowEnvironment;
  emulator: Emulator;
  slack: FakeSlack;
  taskQueue: string;
  cliEnv: NodeJS.ProcessEnv;
  /** Creates an endpoint with `blue` (fraud-detector:1) at 100% and sends it live traffic until the returned stop (or teardown). */
  endpoint(name: string): Promise<() => Promise<void>>;
  /** Runs the CLI in-process. */
  cli(argv: string[]): Promise<{ code: number; out: string; err: string }>;
  /** Runs the real bin/glidepath.js in a child process. */
  bin(argv: string[], extraEnv?: NodeJS.ProcessEnv): Promise<{ code: number; out: string; err: string }>;
  /** Starts `glidepath slack serve` as a process on 127.0.0.1 and resolves with its URL once it listens. */
  slackServe(extraEnv: NodeJS.ProcessEnv): Promise<{ url: string; log: () => string; stop(): Promise<number> }>;
  /** Starts `glidepath approvals serve` (the approvals endpoint) the same way. */
  approvalsServe(extraEnv: NodeJS.ProcessEnv): Promise<{ url: string; log: () => string; stop(): Promise<number> }>;
  teardown(): Promise<void>;
}

/** `decisionTrust`: the signers the rig's worker trusts (GLIDEPATH_DECISION_SIGNERS of a real worker); none by default. */
export async function startRig(opts: { decisionTrust?: DecisionTrust } = {}): Promise<Rig> {
  const env = await createDevEnv();
  const emulator = await startEmulator({ provisionTimeMs: 300 });
  const slack = await new FakeSlack().start();
  const taskQueue = uniqueName('e2e-cli');
  const activities = {
    ...createActivities({ azure: { cloud: 'emulator', url: emulator.url, caCertPem: emulator.caCertPem, credential: emulatorCredential() }, pollIntervalMs: 200, ...(opts.decisionTrust ? { decisionTrust: opts.decisionTrust } : {}) }),
    ...createSlackNotifier({ token: slack.token, apiUrl: slack.apiUrl }),
  };
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await workflowBundle(), activities });
  const running = worker.run();
  const arm = armClient(emulator);
  const traffic: Promise<TrafficResult | undefined>[] = [];
  const stopTraffic = new AbortController();
  const cliEnv: NodeJS.ProcessEnv = { TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: env.namespace ?? 'default', GLIDEPATH_TASK_QUEUE: taskQueue, GLIDEPATH_AS: 'ci@contoso.com' };

  /** Starts a `glidepath … serve` command as a process on 127.0.0.1 and resolves with its URL once it listens. */
  function serve(command: string[], extraEnv: NodeJS.ProcessEnv): Promise<{ url: string; log: () => string; stop(): Promise<number> }> {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'glidepath.js'), ...command, '--port', '0', '--host', '127.0.0.1'], {
      cwd: repoRoot,
      env: { ...process.env, ...cliEnv, ...extraEnv },
    });
    let log = '';
    const exited = new Promise<number>((r) => child.on('close', (code) => r(code ?? -1)));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${command.join(' ')} did not start: ${log}`)), 30_000);
      child.stderr.on('data', (d: Buffer) => {
        log += d.toString();
        const m = /listening on (http:\/\/\S+)/.exec(log);
        if (m) {
          clearTimeout(timer);
          resolve({
            url: m[1]!,
            log: () => log,
            stop: async () => {
              child.kill('SIGTERM');
              return exited;
            },
          });
        }
      });
      void exited.then((code) => reject(new Error(`${command.join(' ')} exited ${code}: ${log}`)));
    });
    }

  return {
    env,
    emulator,
    slack,
    taskQueue,
    cliEnv,
    async endpoint(name) {
    const key = await anEndpointWith(arm, name, { blue: 'azureml:fraud-detector:1' });
    await arm.onlineEndpoints.beginCreateOrUpdateAndWait(RG, WS, name, { location: 'eastus', properties: { authMode: 'Key', traffic: { blue: 100 } } }, { updateIntervalInMs: 50 });
    // Steady live traffic in slices, so teardown does not wait for a long run to finish.
    let stopped = false;
    const loop = async (): Promise<TrafficResult | undefined> => {
      let last: TrafficResult | undefined;
      while (!stopTraffic.signal.aborted && !stopped) last = await generateTraffic({ url: emulator.url, endpoint: name, key, rps: 15, durationMs: 2000, caCertPem: emulator.caCertPem });
      return last;
    };
    const running = loop();
    traffic.push(running);
    return async () => {
      stopped = true;
      await running;
    };
    },
    async cli(argv) {
    const rt = defaultRuntime(cliEnv);
    const out: string[] = [];
    const err: string[] = [];
    rt.stdout = (t) => out.push(t);
    rt.stderr = (t) => err.push(t);
    rt.deps.progress = (l) => out.push(l);
    rt.deps.sleep = (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 500)));
    const code = await main(argv, rt);
    return { code, out: out.join('\n'), err: err.join('\n') };
    },
    slackServe(extraEnv) {
    return serve(['slack', 'serve'], extraEnv);
    },
    approvalsServe(extraEnv) {
    return serve(['approvals', 'serve'], extraEnv);
    },
    bin(argv, extraEnv = {}) {
    return runProcess(process.execPath, [join(repoRoot, 'bin', 'glidepath.js'), ...argv], { cwd: repoRoot, env: { ...process.env, ...cliEnv, ...extraEnv } });
    },
    async teardown() {
    stopTraffic.abort();
    await Promise.allSettled(traffic);
    worker.shutdown();
    await running;
    await slack.stop();
    await emulator.close();
    await env.teardown();
    },
  };
}

/** A short plan on the emulator: mirror 20% → (approval) → canary 50% → promote; bakes of seconds. */
export function shortPlan(endpoint: string, opts: { approval?: boolean; candidate?: string; model?: string } = {}): string {
  return stringify({
    apiVersion: 'glidepath/v1',
    kind: 'Rollout',
    target: { subscriptionId: SUB, resourceGroup: RG, workspace: WS, endpoint },
    baseline: 'blue',
    candidate: { name: opts.candidate ?? 'green', deployment: { model: opts.model ?? 'azureml:fraud-detector:2', instance_type: 'Standard_DS3_v2', instance_count: 1 } },
    strategy: [
    { mirror: { percent: 20, bake: '3s' } },
    ...(opts.approval ? [{ approval: { timeout: '5m', onTimeout: 'rollback' } }] : []),
    { canary: { percent: 50, bake: '3s' } },
    { promote: { rollbackWindow: '1s' } },
    ],
    analysis: { interval: '1s', failureLimit: 1, minRequests: 3, onInconclusive: 'extend', maxExtensions: 5 },
    gates: { errorRate: { max: 0.05 }, modelErrorRate: { max: 0.02 }, latencyP99Ms: { max: 3000 } },
    approvals: { approvers: ['alice@contoso.com', 'slack:UAPPROVER1'], fourEyes: true, verified: false },
    notify: { slack: { channel: 'C0123456' } },
    deadline: '10m',
  });
}

/** Runs a program without blocking this process (a rig's worker may run here): exit code and output. */
export function runProcess(cmd: string, args: string[], options: SpawnOptions = {}): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, options);
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

/** `rollout status --json` as the e2e tests read it. */
export interface StatusJson {
  rollout: { workflowId: string; execution: string; outcome: string | null; stage: string | null };
  status: RolloutStatus | null;
  result: SafeRolloutResult | null;
}

/** `rollout status <target> --json` through the rig's CLI (exit 0 asserted). */
export async function statusOf(rig: Pick<Rig, 'cli'>, target: string): Promise<StatusJson> {
  const r = await rig.cli(['rollout', 'status', target, '--json']);
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out) as StatusJson;
}

/** Polls `rollout status --json` until `pred` holds (or `ms` pass: an error naming `what`). */
export async function untilStatus(rig: Pick<Rig, 'cli'>, target: string, pred: (s: StatusJson) => boolean, what: string, ms = 60_000): Promise<StatusJson> {
  const end = Date.now() + ms;
  for (;;) {
    const s = await statusOf(rig, target);
    if (pred(s)) return s;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s.status ?? s.rollout).slice(0, 400)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}
