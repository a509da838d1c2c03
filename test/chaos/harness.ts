// The chaos harness: a Temporal dev server we start and stop ourselves (with a database file, so it can be
// restarted mid-rollout), the emulator (with a state dir, so it can be restarted too), a fake Slack Web
// API that records every notification, and `glidepath worker` as a real process that can be SIGKILLed.
// `runRollout` runs one real rollout with traffic flowing; `checkRollout` asserts what every scenario
// must keep: the outcome, final traffic read back from the endpoint, no deployment created twice, and
// every traffic write the workflow asked for obeying DESIGN.md's invariants 1 and 2.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { trafficChangeOf, type LegacySetEndpointTrafficInput, type SetEndpointTrafficInput } from '../../activities/types.js';
import type { PlanDocument } from '../../domain/plan.js';
import type { SafeRolloutResult } from '../../domain/rollout.js';
import { normalizeTraffic, trafficViolations, type TrafficState } from '../../domain/traffic.js';
import { generateTraffic, startEmulator, type CallRecord, type Emulator, type TrafficResult } from '../../emulator/index.js';
import { approve, status } from '../../workflows/messages.js';
import type { safeRollout } from '../../workflows/index.js';
import { glidepathSearchAttributes } from '../../workflows/search-attributes.js';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { aRawDeployment, anEndpointWith, armClient, RG, setTraffic, SUB, WS } from '../emulator/support.js';
import { anEmulatorPlanDocument, startRollout } from '../support/builders.js';
import { findTemporalCli, repoRoot, uniqueName, workflowBundle } from '../support/temporal.js';
import { freePort } from '../support/net.js';

export { freePort };

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The secrets the suite hands out; scenario 8 scans every history for them. */
export const SECRETS = {
  slackBotToken: `xoxb-chaos-${process.pid}-7d1f0a9c3b2e4d5f`,
  slackSigningSecret: `chaos-signing-${process.pid}-8e2a61c4f09b`,
  webhookSecret: `chaos-webhook-${process.pid}-5c3d9a7e1b20`,
};


/** Polls `fn` until it returns something other than undefined. */
export async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await Promise.resolve()
      .then(fn)
      .catch(() => undefined);
    if (v !== undefined) return v;
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

// ───────────────────────────── Temporal dev server ─────────────────────────────

/** `temporal server start-dev` with a database file, as a child process we can stop and start again. */
export class DevServer {
  child?: ChildProcess;
  dbFile: string;
  log = '';
  constructor(
    readonly port: number,
    dir: string,
  ) {
    this.dbFile = join(dir, 'temporal.db');
  }
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    const args = ['server', 'start-dev', '--db-filename', this.dbFile, '--port', String(this.port), '--ip', '127.0.0.1', '--headless', '--log-level', 'error'];
    for (const k of glidepathSearchAttributes) args.push('--search-attribute', `${k.name}=Keyword`);
    const child = spawn(findTemporalCli(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => (this.log = (this.log + d.toString()).slice(-8000)));
    child.stderr?.on('data', (d: Buffer) => (this.log = (this.log + d.toString()).slice(-8000)));
    this.child = child;
    await until(
      'the dev server to answer',
      async () => {
        if (child.exitCode !== null) throw new Error(`dev server exited ${child.exitCode}: ${this.log}`);
        const c = await Connection.connect({ address: this.address, connectTimeout: 1000 });
        try {
          await c.workflowService.getSystemInfo({});
          return true;
        } finally {
          await c.close();
        }
      },
      60_000,
      300,
    );
  }
  /** Stops the server (SIGTERM, then SIGKILL after 5 s). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
}

// ───────────────────────────── fake Slack ─────────────────────────────

/** A fake Slack Web API: records every chat.postMessage and answers ok. */
export interface FakeSlack {
  url: string;
  messages: { channel: string; text: string; authorization: string }[];
  close(): Promise<void>;
}

export async function startFakeSlack(): Promise<FakeSlack> {
  const messages: FakeSlack['messages'] = [];
  const server: Server = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      try {
        const j = JSON.parse(body) as { channel?: string; text?: string };
        messages.push({ channel: j.channel ?? '', text: j.text ?? '', authorization: String(req.headers.authorization ?? '') });
      } catch {
        // not JSON: ignore
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ok: true, ts: String(Date.now() / 1000) }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/api`, messages, close: () => new Promise<void>((r) => server.close(() => r())) };
}

// ───────────────────────────── worker process ─────────────────────────────

export interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/**
 * Product breaks, to see the checks fail (GLIDEPATH_CHAOS_BREAK=<knob>,…): each is a one-line change in a
 * copy of the built workflow bundle; workflows/ and domain/ stay untouched.
 */
const bundleBreaks: { knob: string; patch: (code: string) => string }[] = [
  // Invariant 7 gone: the workflow no longer compares the endpoint with what it last set before a write.
  { knob: 'drift', patch: (c) => c.replace(/if \(!\(0,(\w+)\.sameTraffic\)\(ep\.traffic, expected\)\) \{/, 'if (false) {') },
  // A half-done rollback: the failed candidate is no longer deleted although the plan says deleteCandidate.
  { knob: 'quota', patch: (c) => c.replace('if (report.confirmed && this.plan.rollback.deleteCandidate', 'if (false && this.plan.rollback.deleteCandidate') },
  // No activity retries (maximumAttempts 1 in the workflow's default retry policy); with it the test raises
  // the fault rate to ~90% (rollouts-under-faults.test.ts), so only the Azure SDK's own retries are left.
  { knob: 'flaky-arm', patch: (c) => c.replace(/(const retry = \{[^}]*?maximumAttempts: )5/, '$11') },
  // "Never promote on missing data" gone: an inconclusive bake under onInconclusive: rollback passes.
  { knob: 'no-data', patch: (c) => c.replace(/action: 'rollback',(\s+)reason: `analysis inconclusive at the end of the bake/, "action: 'passed',$1reason: `analysis inconclusive at the end of the bake") },
  // The same under onInconclusive: pause.
  { knob: 'thin-data', patch: (c) => c.replace(/action: 'pause',(\s+)reason: `analysis inconclusive at the end of the bake/, "action: 'passed',$1reason: `analysis inconclusive at the end of the bake") },
];

// ───────────────────────────── the world ─────────────────────────────

/** Everything a chaos scenario runs against. */
export class ChaosWorld {
  server!: DevServer;
  client!: Client;
  connection!: Connection;
  emu!: Emulator;
  arm!: AzureMachineLearningWorkspaces;
  slack!: FakeSlack;
  readonly dir = mkdtempSync(join(tmpdir(), 'glidepath-chaos-'));
  readonly emuStateDir = join(this.dir, 'emulator');
  readonly taskQueue = uniqueName('chaos');
  bundlePath = join(this.dir, 'workflow-bundle.js');
  emuPort = 0;
  worker?: WorkerProcess;
  /** Every endpoint key handed out (scenario 8 scans histories for them). */
  readonly keys: string[] = [];
  readonly workers: WorkerProcess[] = [];
  readonly oldCalls: CallRecord[] = [];
  readonly handWrites: Record<string, number> = {};

  async start(): Promise<void> {
    const [port, bundle] = await Promise.all([freePort(), workflowBundle()]);
    writeFileSync(this.bundlePath, bundle.code);
    this.server = new DevServer(port, this.dir);
    await Promise.all([this.server.start(), this.startEmulator(), startFakeSlack().then((s) => (this.slack = s))]);
    await this.connect();
    this.startWorker();
  }

  async connect(): Promise<void> {
    this.connection = await Connection.connect({ address: this.server.address });
    this.client = new Client({ connection: this.connection, namespace: 'default' });
  }

  /** Starts the emulator (on the same port and state dir as before, when restarting). */
  async startEmulator(): Promise<void> {
    this.emu = await startEmulator({ port: this.emuPort, stateDir: this.emuStateDir, provisionTimeMs: 500 });
    this.emuPort = this.emu.port;
    this.arm = armClient(this.emu);
  }

  /** Starts `glidepath worker` as a process on the suite's task queue. */
  startWorker(taskQueue = this.taskQueue, extraEnv: Record<string, string> = {}): WorkerProcess {
    // GLIDEPATH_CHAOS_BREAK names product breaks: the worker then runs a patched copy of the workflow bundle.
    const patches = bundleBreaks.filter((p) => process.env.GLIDEPATH_CHAOS_BREAK?.split(',').includes(p.knob));
    if (patches.length && !extraEnv.GLIDEPATH_WORKFLOW_BUNDLE) {
      extraEnv = { ...extraEnv, GLIDEPATH_WORKFLOW_BUNDLE: this.patchedBundle(patches.map((p) => p.knob).join('+'), (code) => patches.reduce((c, p) => p.patch(c), code)) };
    }
    let output = '';
    const child = spawn(process.execPath, [join(repoRoot, 'bin/glidepath.js'), 'worker'], {
      cwd: repoRoot,
      env: {
        ...process.env,
        GLIDEPATH_CLOUD: 'emulator',
        GLIDEPATH_EMULATOR_URL: this.emu.url,
        GLIDEPATH_EMULATOR_CA: this.emu.caCertPath,
        GLIDEPATH_TASK_QUEUE: taskQueue,
        GLIDEPATH_METRICS_ADDRESS: 'off',
        GLIDEPATH_WORKFLOW_BUNDLE: this.bundlePath,
        GLIDEPATH_SHUTDOWN_GRACE: '5000',
        GLIDEPATH_LOG_LEVEL: 'WARN',
        SLACK_BOT_TOKEN: SECRETS.slackBotToken,
        SLACK_API_URL: this.slack.url,
        SLACK_SIGNING_SECRET: SECRETS.slackSigningSecret,
        GLIDEPATH_WEBHOOK_SECRET: SECRETS.webhookSecret,
        TEMPORAL_ADDRESS: this.server.address,
        TEMPORAL_NAMESPACE: 'default',
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
    child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const w = { child, output: () => output, exited };
    if (taskQueue === this.taskQueue) this.worker = w;
    this.workers.push(w);
    return w;
  }

  /** Writes a patched copy of the workflow bundle (to break the product on purpose) and returns its path. */
  patchedBundle(name: string, patch: (code: string) => string): string {
    const code = readFileSync(this.bundlePath, 'utf8');
    const patched = patch(code);
    if (patched === code) throw new Error(`bundle patch ${name} changed nothing`);
    const path = join(this.dir, `workflow-bundle-${name}.js`);
    writeFileSync(path, patched);
    return path;
  }

  /** SIGKILLs a worker (default: the suite's) and waits for it to be gone. */
  async killWorker(w = this.worker): Promise<void> {
    if (!w || w.child.exitCode !== null || w.child.signalCode !== null) return;
    w.child.kill('SIGKILL');
    await w.exited;
  }

  /** Closes the emulator (keeping its call log) and starts it again on the same port and state dir after `downMs`. */
  async restartEmulator(downMs: number): Promise<void> {
    this.oldCalls.push(...this.emu.callLog());
    await this.emu.close();
    await sleep(downMs);
    await this.startEmulator();
  }

  /** Every call the emulator answered, across restarts. */
  callLog(): CallRecord[] {
    return [...this.oldCalls, ...this.emu.callLog()];
  }

  /** Changes an endpoint's traffic the way a person in the portal would (counted, so checks can tell it apart). */
  async setTrafficByHand(endpoint: string, live: Record<string, number>, mirror: Record<string, number> = {}): Promise<void> {
    await setTraffic(this.arm, endpoint, live, mirror);
    this.handWrites[endpoint] = (this.handWrites[endpoint] ?? 0) + 1;
  }

  async stop(): Promise<void> {
    for (const w of this.workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await Promise.allSettled([this.connection?.close(), this.emu?.close(), this.slack?.close()]);
    await this.server?.stop('SIGKILL');
  }

  /** Creates `endpoint` with blue (fraud-detector:1) at 100% live and returns its key. */
  async anEndpoint(endpoint: string): Promise<string> {
    const key = await anEndpointWith(this.arm, endpoint, { blue: 'azureml:fraud-detector:1' });
    await setTraffic(this.arm, endpoint, { blue: 100 });
    this.keys.push(key);
    const k = await this.arm.onlineEndpoints.listKeys(RG, WS, endpoint);
    if (k.secondaryKey) this.keys.push(k.secondaryKey);
    return key;
  }

  /**
   * An endpoint whose `blue` (fraud-detector:2) collects its model inputs and outputs into the emulator's
   * Azurite (dataCollector sent raw: the SDK drops it), at 100% live. For prediction-gate scenarios.
   */
  async anEndpointCollecting(endpoint: string): Promise<string> {
    const key = await anEndpointWith(this.arm, endpoint, {});
    this.keys.push(key);
    await aRawDeployment(this.emu, endpoint, 'blue', {
      model: 'azureml:fraud-detector:2',
      requestSettings: { maxConcurrentRequestsPerInstance: 8, requestTimeout: 'PT5S' },
      dataCollector: {
        collections: { model_inputs: { dataCollectionMode: 'Enabled' }, model_outputs: { dataCollectionMode: 'Enabled' } },
        requestLogging: { captureHeaders: ['x-ms-client-request-id'] },
      },
    });
    await setTraffic(this.arm, endpoint, { blue: 100 });
    return key;
  }

  /**
   * Customer data the emulator's data collector wrote to Azurite: every collected row as JSON text, every
   * model score written with 5+ decimals, and every request's correlation id. What the history scan looks for.
   */
  async collectedValues(): Promise<{ rows: string[]; scores: string[]; ids: string[] }> {
    await this.emu.flushDataCollection();
    const b = await this.emu.blobStore();
    const container = new BlobServiceClient(b.url, new StorageSharedKeyCredential(b.accountName, b.accountKey)).getContainerClient(this.emu.workspaceBlobContainer(SUB, RG, WS));
    const rows = new Set<string>();
    const scores = new Set<string>();
    const ids = new Set<string>();
    for await (const blob of container.listBlobsFlat({ prefix: 'modelDataCollector/' })) {
      const text = (await container.getBlobClient(blob.name).downloadToBuffer()).toString('utf8');
      for (const line of text.split('\n')) {
        if (!line.trim()) continue;
        const l = JSON.parse(line) as { data: unknown; correlationid?: string };
        if (l.correlationid) ids.add(l.correlationid);
        for (const row of Array.isArray(l.data) ? l.data : [l.data]) {
          rows.add(JSON.stringify(row));
          for (const v of Object.values((row ?? {}) as Record<string, unknown>)) if (typeof v === 'number' && /\.\d{5,}/.test(String(v))) scores.add(String(v));
        }
      }
    }
    return { rows: [...rows], scores: [...scores], ids: [...ids] };
  }

  async endpointState(endpoint: string): Promise<{ live: Record<string, number>; mirror: Record<string, number>; deployments: string[] }> {
    const ep = await this.arm.onlineEndpoints.get(RG, WS, endpoint);
    const deployments: string[] = [];
    for await (const d of this.arm.onlineDeployments.list(RG, WS, endpoint)) deployments.push(d.name ?? '');
    return {
      live: positive(ep.properties.traffic ?? {}),
      mirror: positive((ep.properties as { mirrorTraffic?: Record<string, number> }).mirrorTraffic ?? {}),
      deployments: deployments.sort(),
    };
  }

  /** Management calls on one endpoint (and its deployments), from the emulator's call log. */
  endpointCalls(endpoint: string) {
    const mine = new RegExp(`/onlineEndpoints/${endpoint}(/|$)`); // not chaos-kill-10's calls for chaos-kill-1
    return this.callLog().filter((c) => c.kind === 'management' && mine.test(c.path));
  }
}

export const positive = (m: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(m).filter(([, v]) => v > 0));

// ───────────────────────────── plans and rollouts ─────────────────────────────

/**
 * The compressed emulator plan (anEmulatorPlanDocument), notifying the chaos Slack channel. Its latency gate
 * is absolute only: these scenarios break workers, servers and Azure, not the model, and a p99 ratio over a
 * 2 s window of sub-millisecond emulator latencies is noise (one CI run read 5 ms against 0.7 ms = 7.6x and
 * rolled a healthy candidate back). Judging such noise soundly is issue 14's judge, not this tier's job.
 */
export function chaosPlan(endpoint: string, model = 'azureml:fraud-detector:2', patch: Partial<PlanDocument> = {}): PlanDocument {
  const gates = { latencyP99Ms: { max: 250 }, errorRate: { max: 0.02 }, modelErrorRate: { max: 0.02 } };
  return anEmulatorPlanDocument(endpoint, model, { notify: { slack: { channel: 'C0CHAOS01' } }, gates, ...patch });
}

/** Approves whenever the rollout waits for an approval, until it ends (bounded). Swallows refusals. */
export async function approveWhenAsked(h: WorkflowHandle<typeof safeRollout>, stop?: AbortSignal): Promise<void> {
  for (let i = 0; i < 3000 && !stop?.aborted; i++) {
    try {
      const s = await h.query(status);
      if (s.outcome) return;
      if (s.pendingApproval && !s.paused) await h.executeUpdate(approve, { args: [{ by: 'alice@contoso.com', comment: 'chaos: looks fine', stepIndex: s.pendingApproval.stepIndex }] });
    } catch {
      // the worker or the server may be down right now: try again
    }
    await sleep(250);
  }
}

export interface Run {
  result: SafeRolloutResult;
  traffic: TrafficResult[];
  handle: WorkflowHandle<typeof safeRollout>;
  startedAt: number;
}

/**
 * Runs one rollout of `plan` on the suite's worker while traffic flows (unless `rps` is 0); `during`
 * pokes at it (approving is the caller's job: pass approveWhenAsked or call it inside `during`).
 */
export async function runRollout(
  world: ChaosWorld,
  plan: PlanDocument,
  key: string,
  during: (h: WorkflowHandle<typeof safeRollout>, stop: AbortSignal) => Promise<void>,
  opts: { rps?: number; timeoutMs?: number; taskQueue?: string } = {},
): Promise<Run> {
  const startedAt = Date.now();
  const handle = await startRollout(world.client, { plan, startedBy: 'ci@contoso.com', taskQueue: opts.taskQueue ?? world.taskQueue });
  const stop = new AbortController();
  const rps = opts.rps ?? 30;
  // Traffic in chunks of 10 s, so it resumes after the emulator restarts (a chunk may end early with errors).
  const trafficRun = (async (): Promise<TrafficResult[]> => {
    const chunks: TrafficResult[] = [];
    for (let i = 0; rps > 0 && !stop.signal.aborted && i < 100; i++) {
      const chunk = await generateTraffic({ url: world.emu.url, endpoint: plan.target.endpoint, key, rps, durationMs: 10_000, seed: 7 + i, caCertPem: world.emu.caCertPem, signal: stop.signal }).catch(
        async () => {
          await sleep(500);
          return undefined;
        },
      );
      if (chunk) chunks.push(chunk);
    }
    return chunks;
  })();
  const poke = during(handle, stop.signal).catch((err: unknown) => err);
  let timer: NodeJS.Timeout | undefined;
  try {
    const result = await Promise.race([
      handle.result(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`rollout on ${plan.target.endpoint} did not finish within ${opts.timeoutMs ?? 240_000} ms`)), opts.timeoutMs ?? 240_000);
      }),
    ]);
    stop.abort();
    const pokeErr = await poke;
    if (pokeErr instanceof Error) throw pokeErr;
    return { result, traffic: await trafficRun, handle, startedAt };
  } finally {
    clearTimeout(timer);
    stop.abort();
  }
}

/** Every setEndpointTraffic input the workflow scheduled, in history order (what it asked Azure to set). */
export async function trafficWritesFromHistory(h: WorkflowHandle<typeof safeRollout>): Promise<TrafficState[]> {
  const history = await h.fetchHistory();
  const { defaultPayloadConverter } = await import('@temporalio/common');
  const out: TrafficState[] = [];
  for (const e of history.events ?? []) {
    const a = e.activityTaskScheduledEventAttributes;
    if (a?.activityType?.name !== 'setEndpointTraffic') continue;
    const input = defaultPayloadConverter.fromPayload<SetEndpointTrafficInput | LegacySetEndpointTrafficInput>(a.input!.payloads![0]!);
    out.push(normalizeTraffic(trafficChangeOf(input).target));
  }
  return out;
}

export type Expected = 'promoted' | 'rolled_back' | 'aborted' | 'rejected' | 'failed';

/**
 * The checks every scenario makes: the outcome; the final endpoint read back (promoted: the candidate
 * alone at 100% and the baseline retired; otherwise the baseline at 100% and no mirror); the candidate
 * created at most once; and every traffic write the workflow asked for valid (live sums to 100, one mirror
 * target ≤ 50%, never live and mirror on one deployment) with no live traffic on the candidate before
 * the steps the plan puts first (mirror, cost check, approval) have passed.
 */
export async function checkRollout(world: ChaosWorld, run: Run, plan: PlanDocument, expected: Expected): Promise<void> {
  const endpoint = plan.target.endpoint;
  const { result } = run;
  assert.equal(result.outcome, expected, `outcome: ${result.outcome}: ${result.reason}`);
  const state = await world.endpointState(endpoint);
  if (expected === 'promoted') {
    assert.deepEqual(state.live, { green: 100 }, 'promoted: the candidate alone has live traffic');
    assert.deepEqual(state.mirror, {}, 'promoted: no mirror');
    assert.deepEqual(state.deployments, ['green'], 'promoted: the baseline was retired');
  } else {
    assert.deepEqual(state.live, { blue: 100 }, `${expected}: the baseline has 100% live`);
    assert.deepEqual(state.mirror, {}, `${expected}: no mirror`);
    assert.ok(state.deployments.includes('blue'), `${expected}: the baseline still exists`);
    if (result.rollback) assert.equal(result.rollback.confirmed, true, `rollback confirmed by reading back: ${JSON.stringify(result.rollback)}`);
  }
  // No deployment created twice: at most one PUT of the candidate answered 201 (Created).
  const calls = world.endpointCalls(endpoint).filter((c) => Date.parse(c.time) >= run.startedAt);
  const creations = calls.filter((c) => c.method === 'PUT' && c.path.endsWith('/deployments/green') && c.status === 201);
  assert.ok(creations.length <= 1, `${endpoint}: the candidate was created ${creations.length} times`);
  // Every traffic write the workflow asked for.
  const writes = await trafficWritesFromHistory(run.handle);
  const deployments = ['blue', 'green'];
  for (const w of writes) {
    const v = trafficViolations(w, deployments);
    assert.deepEqual(v, [], `traffic write ${JSON.stringify(w)} breaks Azure's rules`);
    const sum = Object.values(w.live).reduce((a, b) => a + b, 0);
    assert.equal(sum, 100, `live traffic sums to 100 in ${JSON.stringify(w)}`);
  }
  // Invariant 2: the candidate's first live traffic comes after the mirror step passed and an approval.
  const firstLive = result.timeline.find((e) => e.kind === 'traffic' && /green [1-9]\d*%/.test(e.text.split('| mirror')[0] ?? ''));
  if (firstLive) {
    const mirrorPassed = result.timeline.find((e) => e.kind === 'step' && /^step 1 \(.*\) passed/.test(e.text));
    assert.ok(mirrorPassed && Date.parse(mirrorPassed.at) <= Date.parse(firstLive.at), `live traffic on the candidate (${firstLive.text}) before the mirror step passed`);
    const approved = result.approvals.find((a) => a.decision === 'approved');
    const strategy = plan.strategy ?? [];
    const approvalFirst = strategy.findIndex((st) => 'approval' in st) < strategy.findIndex((st) => 'canary' in st || 'promote' in st);
    if (approvalFirst && strategy.some((st) => 'approval' in st)) assert.ok(approved && Date.parse(approved.at) <= Date.parse(firstLive.at), 'live traffic on the candidate before the approval');
  }
  // Successful endpoint writes (PUT on the endpoint itself) = the distinct traffic changes asked for.
  const endpointPuts = calls.filter((c) => c.method === 'PUT' && new RegExp(`/onlineEndpoints/${endpoint}$`).test(c.path) && c.status < 300);
  const distinct = writes.filter((w, i) => i === 0 || JSON.stringify(w) !== JSON.stringify(writes[i - 1]));
  const byHand = world.handWrites[endpoint] ?? 0;
  assert.ok(endpointPuts.length <= distinct.length + byHand, `${endpointPuts.length} successful endpoint writes for ${distinct.length} traffic changes (+ ${byHand} by hand)`);
}
