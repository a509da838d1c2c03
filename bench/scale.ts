// Scale: N concurrent rollouts (one endpoint each, compressed plan) on ONE worker, against the emulator.
// Figures per N: wall time, rollouts per minute, worker peak RSS and CPU seconds per rollout, workflow-task
// latency p50/p99 (from the SDK's Prometheus metrics), and Azure calls per rollout (reads, writes).
//
//   npm run bench -- scale                      (= node --import tsx bench/scale.ts [--counts 10,100,300])
//
// Layout: the Temporal dev server and the emulator (`glidepath emulator start`) run as their own
// processes; the worker runs in a child process of this script (bench/scale-worker.ts: the real
// activities through the Azure SDK, one Runtime with Prometheus metrics), so its RSS and CPU are its own.
// One stand-in: with no traffic behind hundreds of endpoints, the metrics activity returns healthy figures
// (each call is still counted as one metrics query); everything else is the real thing.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { PlanDocument } from '../domain/plan.js';
import { DevServer, freePort, until } from '../test/chaos/harness.js';
import { anEndpointWith, armClient, RG, setTraffic, WS } from '../test/emulator/support.js';
import { startRollout } from '../test/support/builders.js';
import { repoRoot, workflowBundle } from '../test/support/temporal.js';
import type { Emulator } from '../emulator/index.js';
import { benchRoot, command, machine, machineLine, percentile, writeResults } from './lib/support.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};
const COUNTS = arg('counts', '10,100,300').split(',').map(Number);
/**
 * Endpoints per subscription, one pass per value. 100 is Azure's quota (endpoints per subscription), so
 * the densest real layout; each subscription has its own ARM budget in the worker (12.5 reads/s, half of
 * ARM's limit), which then paces the rollouts. 10 spreads the same rollouts over 10× the subscriptions,
 * so the budget stops pacing them and they really run at once: that pass loads the worker itself.
 */
const PER_SUBSCRIPTION = arg('endpoints-per-subscription', '100,10').split(',').map(Number);
for (const x of [...COUNTS, ...PER_SUBSCRIPTION]) {
  if (!Number.isInteger(x) || x < 1) throw new Error(`--counts and --endpoints-per-subscription take positive whole numbers, got ${x}`);
}

/** The worker's V8 heap limit (--max-old-space-size, MiB); unset = Node's default (about a quarter of RAM, capped at ~4 GiB). */
const WORKER_HEAP_MB = arg('worker-heap-mb', '');

/** The k-th subscription's id (a GUID like the tests' SUB). */
const subscription = (k: number): string => `00000000-0000-4000-8000-${String(k + 1).padStart(12, '0')}`;

function plan(endpoint: string, subscriptionId = subscription(0)): PlanDocument {
  return {
    apiVersion: 'glidepath/v1',
    kind: 'Rollout',
    target: { subscriptionId, resourceGroup: RG, workspace: WS, endpoint },
    baseline: 'blue',
    candidate: { name: 'green', deployment: { model: 'azureml:fraud-detector:2', instance_type: 'Standard_DS3_v2', instance_count: 1 } },
    strategy: [{ mirror: { percent: 20, bake: '4s' } }, { canary: { percent: 50, bake: '4s' } }, { promote: { rollbackWindow: '2s' } }, { retire: {} }],
    analysis: { interval: '2s', failureLimit: 2, minRequests: 5, onInconclusive: 'extend', maxExtensions: 3 },
  } as PlanDocument;
}

function get(url: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers: { authorization: 'Bearer bench' }, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Quantile from Prometheus histogram buckets (upper bound of the bucket holding the quantile). */
function histogramQuantile(text: string, metric: string, q: number): number {
  const buckets = new Map<number, number>();
  for (const line of text.split('\n')) {
    const m = line.match(new RegExp(`^${metric}_bucket\\{([^}]*)\\} (\\S+)`));
    if (!m) continue;
    const le = /le="([^"]+)"/.exec(m[1]!)?.[1];
    if (!le) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + Number(m[2]));
  }
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (!total) return NaN;
  return sorted.find(([, c]) => c >= q * total)?.[0] ?? NaN;
}

interface Row {
  rollouts: number;
  endpointsPerSubscription: number;
  subscriptions: number;
  promoted: number;
  wallS: number;
  rolloutsPerMinute: number;
  workerPeakRssMiB: number;
  workerPeakHeapUsedMiB: number;
  workerPeakExternalMiB: number;
  emulatorPeakRssMiB: number;
  workerCpuS: number;
  cpuSPerRollout: number;
  wfTaskExecP50Ms: number;
  wfTaskExecP99Ms: number;
  wfTaskScheduleToStartP50Ms: number;
  wfTaskScheduleToStartP99Ms: number;
  readsPerRollout: number;
  writesPerRollout: number;
  metricsQueriesPerRollout: number;
  rolloutDurationP50S: number;
  rolloutDurationP99S: number;
}

/** Peak resident set of a live process (VmHWM in /proc), in MiB; NaN where /proc is not there. */
function peakRssMiB(pid: number | undefined): number {
  try {
    const kib = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kib ? Number(kib) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

async function startEmulatorProcess(dir: string): Promise<{ child: ChildProcess; url: string; caPath: string; ca: string }> {
  const child = spawn(process.execPath, [join(repoRoot, 'bin/glidepath.js'), 'emulator', 'start', '--port', '0', '--state-dir', dir, '--provision-time', '1s'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const url = await until('the emulator', () => /emulator listening on (https:\/\/\S+)/.exec(out)?.[1], 60_000);
  const caPath = await until('the CA path', () => /CA certificate: (\S+)/.exec(out)?.[1], 10_000);
  return { child, url, caPath, ca: readFileSync(caPath, 'utf8') };
}

async function runCount(n: number, perSubscription: number, server: DevServer, bundlePath: string, dir: string): Promise<Row> {
  const run = `${n}-${perSubscription}`;
  const emu = await startEmulatorProcess(join(dir, `emulator-${run}`));
  const metricsPort = await freePort();
  const taskQueue = `scale-${run}-${Date.now()}`;
  const heapFlag = WORKER_HEAP_MB ? [`--max-old-space-size=${WORKER_HEAP_MB}`] : [];
  const worker = spawn(process.execPath, [...heapFlag, '--import', 'tsx', join(benchRoot, 'bench/lib/scale-worker.ts')], {
    cwd: repoRoot,
    env: { ...process.env, SCALE_EMULATOR_URL: emu.url, SCALE_EMULATOR_CA: emu.caPath, SCALE_TASK_QUEUE: taskQueue, SCALE_METRICS: `127.0.0.1:${metricsPort}`, SCALE_BUNDLE: bundlePath, TEMPORAL_ADDRESS: server.address },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let workerOut = '';
  worker.stdout?.on('data', (d: Buffer) => (workerOut += d.toString()));
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  try {
    // Endpoints first (not measured), 10 at a time; endpoint i lives in subscription ⌊i / perSubscription⌋.
    const subscriptions = Math.ceil(n / perSubscription);
    const arms = Array.from({ length: subscriptions }, (_, k) => armClient({ url: emu.url, caCertPem: emu.ca } as Emulator, {}, subscription(k)));
    const endpoints = Array.from({ length: n }, (_, i) => ({ name: `scale-${run}-${i}`, k: Math.floor(i / perSubscription) }));
    for (let i = 0; i < endpoints.length; i += 10) {
      await Promise.all(
        endpoints.slice(i, i + 10).map(async ({ name, k }) => {
          await anEndpointWith(arms[k]!, name, { blue: 'azureml:fraud-detector:1' });
          await setTraffic(arms[k]!, name, { blue: 100 });
        }),
      );
    }
    await until('the worker', () => (workerOut.includes('ready') ? true : undefined), 60_000);
    await new Promise<void>((resolve, reject) => {
      const req = request(`${emu.url}/_emulator/calls`, { method: 'DELETE', ca: emu.ca, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve());
      });
      req.on('error', reject);
      req.end();
    });
    const t0 = Date.now();
    const handles = await Promise.all(endpoints.map(({ name, k }) => startRollout(client, { plan: plan(name, subscription(k)), startedBy: 'bench@contoso.com', taskQueue })));
    const results = await Promise.all(handles.map((h) => h.result()));
    const wallS = (Date.now() - t0) / 1000;
    writeFileSync(join(dir, `results-${run}.json`), JSON.stringify(results, null, 1)); // each rollout's timeline, for a post-mortem
    const metricsText = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const callsText = await get(`${emu.url}/_emulator/calls`, emu.ca);
    writeFileSync(join(dir, `calls-${run}.json`), callsText); // the emulator's call log, for a post-mortem
    const list = (JSON.parse(callsText) as { value: { method: string; kind: string }[] }).value;
    const mgmt = list.filter((c) => c.kind === 'management' || c.kind === 'operation');
    const reads = mgmt.filter((c) => c.method === 'GET').length;
    const writes = mgmt.filter((c) => c.method === 'PUT' || c.method === 'PATCH' || c.method === 'DELETE').length;
    const emulatorPeakRssMiB = peakRssMiB(emu.child.pid);
    worker.kill('SIGTERM');
    await new Promise((r) => worker.once('exit', r));
    const usage = JSON.parse(workerOut.split('\n').find((l) => l.startsWith('USAGE '))?.slice(6) ?? '{}') as {
      maxRssKiB?: number;
      cpuS?: number;
      metricsQueries?: number;
      heapUsedMiB?: number;
      externalMiB?: number;
    };
    const durations = results.map((r) => (Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000);
    const q = (metric: string, p: number): number => histogramQuantile(metricsText, metric, p);
    const scale = /temporal_workflow_task_execution_latency_bucket\{[^}]*le="(\d+)"/.test(metricsText) ? 1 : 1000;
    return {
      rollouts: n,
      endpointsPerSubscription: perSubscription,
      subscriptions,
      promoted: results.filter((r) => r.outcome === 'promoted').length,
      wallS,
      rolloutsPerMinute: (n / wallS) * 60,
      workerPeakRssMiB: (usage.maxRssKiB ?? NaN) / 1024,
      workerPeakHeapUsedMiB: usage.heapUsedMiB ?? NaN,
      workerPeakExternalMiB: usage.externalMiB ?? NaN,
      emulatorPeakRssMiB,
      workerCpuS: usage.cpuS ?? NaN,
      cpuSPerRollout: (usage.cpuS ?? NaN) / n,
      wfTaskExecP50Ms: q('temporal_workflow_task_execution_latency', 0.5) * scale,
      wfTaskExecP99Ms: q('temporal_workflow_task_execution_latency', 0.99) * scale,
      wfTaskScheduleToStartP50Ms: q('temporal_workflow_task_schedule_to_start_latency', 0.5) * scale,
      wfTaskScheduleToStartP99Ms: q('temporal_workflow_task_schedule_to_start_latency', 0.99) * scale,
      readsPerRollout: reads / n,
      writesPerRollout: writes / n,
      metricsQueriesPerRollout: (usage.metricsQueries ?? NaN) / n,
      rolloutDurationP50S: percentile(durations, 50),
      rolloutDurationP99S: percentile(durations, 99),
    };
  } finally {
    if (worker.exitCode === null) worker.kill('SIGKILL');
    emu.child.kill('SIGKILL');
    await connection.close();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'glidepath-scale-'));
  console.log(`work dir: ${dir}`);
  const bundlePath = join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, (await workflowBundle()).code);
  const server = new DevServer(await freePort(), dir);
  await server.start();
  const rows: Row[] = [];
  try {
    for (const perSubscription of PER_SUBSCRIPTION) {
      for (const n of COUNTS) {
        console.log(`== ${n} concurrent rollouts, ${perSubscription} endpoints per subscription`);
        const row = await runCount(n, perSubscription, server, bundlePath, dir);
        rows.push(row);
        console.log(JSON.stringify(row));
      }
    }
  } finally {
    await server.stop('SIGKILL');
  }
  const m = machine();
  const cmd = command('scale');
  const f = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : '–');
  const json = { benchmark: 'scale', date: new Date().toISOString(), command: cmd, machine: m, plan: plan('example').strategy, rows };
  const md = [
    '# Scale: concurrent rollouts on one worker',
    '',
    `Run ${json.date} with \`${cmd}\`: N rollouts started at once, one endpoint each, on one worker process (real activities through the Azure SDK against the emulator in its own process; Temporal dev server in its own process). Compressed plan: mirror 20% 4 s → canary 50% 4 s → promote (2 s window) → retire; analysis every 2 s. Stand-in: the metrics activity returns healthy figures (no traffic behind the endpoints).`,
    '',
    'Endpoints are spread over subscriptions (100 per subscription is Azure\'s quota). The worker keeps an ARM budget per subscription (12.5 reads/s and 5 writes/s: GLIDEPATH_ARM_BUDGET_PERCENT=50, half of ARM\'s per-principal limits), so with 100 endpoints a subscription the budget paces the rollouts: rollouts/min per subscription ≈ 12.5 × 60 / reads per rollout. With 10 endpoints a subscription the budget no longer paces them and the worker, the dev server and the emulator carry the load.',
    '',
    machineLine(m),
    '',
    '| rollouts | subscriptions | promoted | wall s | rollouts/min | worker peak RSS MiB (main-thread JS heap) | emulator peak RSS MiB | worker CPU s / rollout | wf task exec p50 / p99 ms | wf task schedule-to-start p50 / p99 ms | ARM reads / rollout | ARM writes / rollout | metrics queries / rollout | rollout duration p50 / p99 s |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.rollouts} | ${r.subscriptions} (${r.endpointsPerSubscription} endpoints each) | ${r.promoted} | ${f(r.wallS)} | ${f(r.rolloutsPerMinute)} | ${f(r.workerPeakRssMiB, 0)} (${f(r.workerPeakHeapUsedMiB, 0)}) | ${f(r.emulatorPeakRssMiB, 0)} | ${f(r.cpuSPerRollout, 2)} | ${f(r.wfTaskExecP50Ms, 0)} / ${f(r.wfTaskExecP99Ms, 0)} | ${f(r.wfTaskScheduleToStartP50Ms, 0)} / ${f(r.wfTaskScheduleToStartP99Ms, 0)} | ${f(r.readsPerRollout)} | ${f(r.writesPerRollout)} | ${f(r.metricsQueriesPerRollout)} | ${f(r.rolloutDurationP50S)} / ${f(r.rolloutDurationP99S)} |`,
    ),
    '',
    'Latencies are histogram bucket upper bounds (Prometheus buckets of the SDK), so they are coarse.',
    '',
  ].join('\n');
  console.log(md);
  writeResults('scale', json, md);
}

await main();
