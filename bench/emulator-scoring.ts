// Benchmark of the emulator's scoring path: requests/s and p50/p99 with no mirror and with a 50% mirror,
// against calling the model directly in-process. The load comes from the traffic generator in a child
// process (open loop, fixed rate), so client and emulator do not share an event loop.
//
//   node --import tsx bench/emulator-scoring.ts [--seconds 6] [--rounds 3] [--rates 200,500]
//
// Writes bench/results/emulator-scoring.json and .md (with the machine description).
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import { MIRROR_TRAFFIC_HEADER, mirrorTrafficPolicy } from '../activities/azure-clients.js';
import { startEmulator, emulatorClientOptions, emulatorCredential, type Emulator } from '../emulator/index.js';
import { findModel } from '../emulator/models/registry.js';
import { randomTransaction, type TrafficResult } from '../emulator/traffic.js';
import { seededRandom } from '../emulator/core.js';
import { latencyPercentile } from '../emulator/metrics.js';

const root = new URL('../', import.meta.url).pathname;
const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};
const SECONDS = Number(arg('seconds', '6'));
const ROUNDS = Number(arg('rounds', '3'));
const RATES = arg('rates', '200,500').split(',').map(Number);
const RG = 'rg-bench';
const WS = 'ws-bench';
const POLL = { updateIntervalInMs: 50 };

interface Row {
  scenario: string;
  offeredRps: number | null;
  achievedRps: number;
  requests: number;
  p50Ms: number;
  p99Ms: number;
  serverP50Ms?: number;
  serverP99Ms?: number;
  non200: number;
  mirrored?: number;
  /** CPU time of the emulator process (main thread and model workers) per primary request, µs. */
  cpuUsPerRequest?: number;
  /** p99 of the server-side latencies of all rounds pooled. */
  serverP99PooledMs?: number;
}

function direct(): Row {
  // The same work the container does per request: parse the body, score, serialize the answer.
  const model = findModel('fraud-detector', '1')?.load();
  if (!model) throw new Error('model missing');
  const rand = seededRandom(42);
  const bodies = Array.from({ length: 2000 }, () => JSON.stringify({ transactions: [randomTransaction(rand)] }));
  for (let i = 0; i < 2000; i++) JSON.stringify(model.score(JSON.parse(bodies[i % bodies.length] ?? '{}')));
  const lat: number[] = [];
  const n = 50_000;
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    JSON.stringify(model.score(JSON.parse(bodies[i % bodies.length] ?? '{}')));
    lat.push(performance.now() - t);
  }
  const elapsed = (performance.now() - start) / 1000;
  return { scenario: 'model called directly in-process', offeredRps: null, achievedRps: n / elapsed, requests: n, p50Ms: latencyPercentile(lat, 50), p99Ms: latencyPercentile(lat, 99), non200: 0 };
}

function traffic(emu: Emulator, key: string, rps: number): Promise<TrafficResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'emulator/main.ts', 'traffic', '--url', emu.url, '--endpoint', 'bench-ep', '--key', key, '--rps', String(rps), '--duration', `${SECONDS}s`, '--ca', emu.caCertPath, '--json', '--seed', '5'],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as TrafficResult) : reject(new Error(`traffic exited ${code}`))));
  });
}

async function main(): Promise<void> {
  const rows: Row[] = [direct()];
  const allRuns: (Row & { round: number })[] = [];
  const emu = await startEmulator({ provisionTimeMs: 50, seed: 3 });
  try {
    const client = new AzureMachineLearningWorkspaces(emulatorCredential(), '00000000-0000-4000-8000-0000000000be', emulatorClientOptions(emu));
    client.pipeline.addPolicy(mirrorTrafficPolicy());
    const deployment = (model: string): Parameters<typeof client.onlineDeployments.beginCreateOrUpdateAndWait>[4] =>
      ({
        location: 'eastus',
        sku: { name: 'Default', capacity: 4 },
        properties: { endpointComputeType: 'Managed', model, instanceType: 'Standard_F4s_v2', requestSettings: { maxConcurrentRequestsPerInstance: 16 } },
      }) as Parameters<typeof client.onlineDeployments.beginCreateOrUpdateAndWait>[4];
    await client.onlineEndpoints.beginCreateOrUpdateAndWait(RG, WS, 'bench-ep', { location: 'eastus', properties: { authMode: 'Key' } }, POLL);
    await client.onlineDeployments.beginCreateOrUpdateAndWait(RG, WS, 'bench-ep', 'blue', deployment('azureml:fraud-detector:1'), POLL);
    await client.onlineDeployments.beginCreateOrUpdateAndWait(RG, WS, 'bench-ep', 'green', deployment('azureml:fraud-detector:2'), POLL);
    const key = (await client.onlineEndpoints.listKeys(RG, WS, 'bench-ep')).primaryKey ?? '';
    const setMirror = (pct: number): Promise<unknown> =>
      client.onlineEndpoints.beginCreateOrUpdateAndWait(RG, WS, 'bench-ep', { location: 'eastus', properties: { authMode: 'Key', traffic: { blue: 100 } } }, {
        ...POLL,
        requestOptions: { customHeaders: { [MIRROR_TRAFFIC_HEADER]: JSON.stringify(pct ? { green: pct } : {}) } },
      });
    await setMirror(0);
    await traffic(emu, key, 100); // warm-up (JIT, TLS session, workers)
    // Rounds alternate the two scenarios so a noisy neighbour on the shared machine hits both alike;
    // each figure reported is the median over the rounds.
    for (const rps of RATES) {
      const runs: Record<number, Row[]> = { 0: [], 50: [] };
      const pooled: Record<number, number[]> = { 0: [], 50: [] };
      for (let round = 0; round < ROUNDS; round++) {
        for (const mirror of [0, 50]) {
          await setMirror(mirror);
          const before = emu.requestLog().length;
          const cpu0 = process.cpuUsage();
          const r = await traffic(emu, key, rps);
          await new Promise((res) => setTimeout(res, 300));
          const cpu = process.cpuUsage(cpu0);
          const log = emu.requestLog().slice(before);
          const primary = log.filter((x) => !x.mirrored).map((x) => x.latencyMs);
          const row: Row = {
            scenario: mirror ? 'emulator, 50% mirror' : 'emulator, no mirror',
            offeredRps: rps,
            achievedRps: r.achievedRps,
            requests: r.completed,
            p50Ms: r.latencyMs.p50,
            p99Ms: r.latencyMs.p99,
            serverP50Ms: latencyPercentile(primary, 50),
            serverP99Ms: latencyPercentile(primary, 99),
            non200: r.completed - (r.statusCounts['200'] ?? 0),
            mirrored: log.filter((x) => x.mirrored).length,
            cpuUsPerRequest: (cpu.user + cpu.system) / Math.max(1, r.completed),
          };
          pooled[mirror]?.push(...primary);
          runs[mirror]?.push(row);
          allRuns.push({ round, ...row });
          console.log(JSON.stringify({ round, ...row }));
        }
      }
      for (const mirror of [0, 50]) {
        const rs = runs[mirror] ?? [];
        const med = (f: (r: Row) => number): number => latencyPercentile(rs.map(f), 50);
        rows.push({
          scenario: mirror ? 'emulator, 50% mirror' : 'emulator, no mirror',
          offeredRps: rps,
          achievedRps: med((r) => r.achievedRps),
          requests: rs.reduce((a, r) => a + r.requests, 0),
          p50Ms: med((r) => r.p50Ms),
          p99Ms: med((r) => r.p99Ms),
          serverP50Ms: med((r) => r.serverP50Ms ?? 0),
          serverP99Ms: med((r) => r.serverP99Ms ?? 0),
          non200: rs.reduce((a, r) => a + r.non200, 0),
          mirrored: rs.reduce((a, r) => a + (r.mirrored ?? 0), 0),
          cpuUsPerRequest: med((r) => r.cpuUsPerRequest ?? 0),
          serverP99PooledMs: latencyPercentile(pooled[mirror] ?? [], 99),
        });
      }
    }
  } finally {
    await emu.close();
  }

  const directRow = rows[0] as Row;
  const ratios = RATES.map((rps) => {
    const no = rows.find((r) => r.offeredRps === rps && r.scenario === 'emulator, no mirror') as Row;
    const mi = rows.find((r) => r.offeredRps === rps && r.scenario === 'emulator, 50% mirror') as Row;
    return {
      offeredRps: rps,
      mirrorCostP99: mi.p99Ms / no.p99Ms - 1,
      mirrorCostP50: mi.p50Ms / no.p50Ms - 1,
      mirrorCostServerP99: (mi.serverP99Ms ?? 0) / (no.serverP99Ms ?? 1) - 1,
      mirrorCostServerP99Pooled: (mi.serverP99PooledMs ?? 0) / (no.serverP99PooledMs ?? 1) - 1,
      mirrorCostCpuPerRequest: (mi.cpuUsPerRequest ?? 0) / (no.cpuUsPerRequest ?? 1) - 1,
      emulatorOverDirectP50: no.p50Ms / directRow.p50Ms,
      emulatorOverDirectP99: no.p99Ms / directRow.p99Ms,
      goalMet: mi.p99Ms / no.p99Ms - 1 <= 0.1,
    };
  });
  const cpus = os.cpus();
  const machine = {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpuCount: cpus.length,
    cpuSpeedMHz: cpus[0]?.speed ?? 0,
    totalMemoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverageAtEnd: os.loadavg(),
  };
  const result = { benchmark: 'emulator-scoring', date: new Date().toISOString(), secondsPerRun: SECONDS, rounds: ROUNDS, machine, rows, ratios, runs: allRuns };
  mkdirSync(`${root}bench/results`, { recursive: true });
  writeFileSync(`${root}bench/results/emulator-scoring.json`, `${JSON.stringify(result, null, 2)}\n`);
  const f = (x: number | undefined, d = 2): string => (x === undefined ? '–' : x.toFixed(d));
  const md = [
    '# Emulator scoring benchmark',
    '',
    `Run ${result.date} with \`node --import tsx bench/emulator-scoring.ts\` (${ROUNDS} alternating rounds of ${SECONDS} s per scenario and rate, medians shown; open-loop load from the traffic generator in a child process, 1 transaction per request, deployments of 4 instances × 16 concurrent requests).`,
    '',
    `Machine: ${machine.cpuCount} × ${machine.cpuModel}, ${machine.totalMemoryGiB} GiB, ${machine.platform}, Node ${machine.node}; load average at the end ${machine.loadAverageAtEnd.map((x) => x.toFixed(2)).join(' / ')} (the machine is shared).`,
    '',
    '| scenario | offered rps | achieved rps | requests | client p50 ms | client p99 ms | server p50 ms | server p99 ms | server p99 pooled ms | CPU µs / request | non-200 | mirrored copies |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${r.offeredRps ?? '–'} | ${f(r.achievedRps, 0)} | ${r.requests} | ${f(r.p50Ms, 3)} | ${f(r.p99Ms, 3)} | ${f(r.serverP50Ms, 3)} | ${f(r.serverP99Ms, 3)} | ${f(r.serverP99PooledMs, 3)} | ${f(r.cpuUsPerRequest, 0)} | ${r.non200} | ${r.mirrored ?? '–'} |`,
    ),
    '',
    'Client figures are what the load generator saw (TLS, HTTP and scheduling included); server figures are the emulator’s own measurement of each primary request; "CPU µs / request" is the emulator process’s CPU time (main thread and model workers) per primary request.',
    '',
    '| offered rps | mirror cost at client p99 (goal ≤ 10%) | at client p50 | at server p99 (pooled) | in CPU per request | emulator / direct p50 | emulator / direct p99 |',
    '|---|---|---|---|---|---|---|',
    ...ratios.map(
      (r) =>
        `| ${r.offeredRps} | ${(r.mirrorCostP99 * 100).toFixed(1)}% (${r.goalMet ? 'met' : 'not met'}) | ${(r.mirrorCostP50 * 100).toFixed(1)}% | ${(r.mirrorCostServerP99Pooled * 100).toFixed(1)}% | ${(r.mirrorCostCpuPerRequest * 100).toFixed(1)}% | ${f(r.emulatorOverDirectP50, 0)}× | ${f(r.emulatorOverDirectP99, 0)}× |`,
    ),
    '',
  ].join('\n');
  writeFileSync(`${root}bench/results/emulator-scoring.md`, md);
  console.log(md);
}

await main();
