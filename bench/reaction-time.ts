// Reaction time: a fault injected into the candidate during a canary step (model errors in half the runs,
// added latency in the other half) → time until the endpoint reads back the baseline at 100% live. Real
// safeRollout on a Temporal dev server, real activities against the emulator, traffic flowing.
//
//   npm run bench -- reaction-time            (= node --import tsx bench/reaction-time.ts [--runs 20] [--interval 5])
//
// For reference: Flagger documents rollback time as interval × threshold, Argo Rollouts as interval ×
// failureLimit. Goal (issue 8): median ≤ analysis interval + 5 s.
import type { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import type { Client } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../activities/create-activities.js';
import type { PlanDocument } from '../domain/plan.js';
import { emulatorCredential, generateTraffic, type Emulator } from '../emulator/index.js';
import { anEndpointWith, armClient, RG, setTraffic, startTestEmulator, SUB, WS } from '../test/emulator/support.js';
import { startRollout } from '../test/support/builders.js';
import { createDevEnv, uniqueName, workflowBundle } from '../test/support/temporal.js';
import { status } from '../workflows/messages.js';
import { command, machine, machineLine, percentile, writeResults } from './lib/support.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};
const RUNS = Number(arg('runs', '20'));
const INTERVAL_S = Number(arg('interval', '5'));
const FAILURE_LIMIT = 2;
const PARALLEL = 2;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Each run's candidate has its own name: the emulator keys fault behaviours by deployment name. */
function plan(endpoint: string, candidate: string): PlanDocument {
  return {
    apiVersion: 'glidepath/v1',
    kind: 'Rollout',
    target: { subscriptionId: SUB, resourceGroup: RG, workspace: WS, endpoint },
    baseline: 'blue',
    candidate: { name: candidate, deployment: { model: 'azureml:fraud-detector:2', instance_type: 'Standard_DS3_v2', instance_count: 1, request_settings: { request_timeout_ms: 5000, max_concurrent_requests_per_instance: 8 } } },
    strategy: [{ mirror: { percent: 50, bake: `${INTERVAL_S}s` } }, { canary: { percent: 30, bake: '10m' } }, { promote: { rollbackWindow: '1s' } }],
    analysis: { interval: `${INTERVAL_S}s`, failureLimit: FAILURE_LIMIT, minRequests: 5, onInconclusive: 'extend', maxExtensions: 3 },
    gates: { latencyP99Ms: { max: 150, maxRatioToBaseline: 4 }, errorRate: { max: 0.02 }, modelErrorRate: { max: 0.02 } },
  } as PlanDocument;
}

interface Row {
  run: number;
  fault: 'errors' | 'latency';
  reactionMs: number;
  outcome: string;
  reason: string;
}

async function oneRun(i: number, emu: Emulator, arm: AzureMachineLearningWorkspaces, client: Client, taskQueue: string): Promise<Row> {
  const endpoint = `react-${i}-${process.pid % 1000}`;
  const fault: Row['fault'] = i % 2 === 0 ? 'errors' : 'latency';
  const candidate = `green-${i}`;
  const key = await anEndpointWith(arm, endpoint, { blue: 'azureml:fraud-detector:1' });
  await setTraffic(arm, endpoint, { blue: 100 });
  const stop = new AbortController();
  const traffic = generateTraffic({ url: emu.url, endpoint, key, rps: 20, durationMs: 180_000, seed: i, caCertPem: emu.caCertPem, signal: stop.signal }).catch(() => undefined);
  try {
    const h = await startRollout(client, { plan: plan(endpoint, candidate), startedBy: 'bench@contoso.com', taskQueue });
    for (let k = 0; k < 1200; k++) {
      const s = await h.query(status);
      if (s.outcome) throw new Error(`run ${i} ended before the canary: ${s.outcome}`);
      if (s.stage === 'canary' && (s.traffic?.live[candidate] ?? 0) > 0) break;
      await sleep(100);
    }
    // Let the canary serve healthily for a moment, at a random phase of the analysis interval.
    await sleep(500 + ((i * 7919) % (INTERVAL_S * 1000)));
    emu.faults.setBehaviour(candidate, fault === 'errors' ? { errorRate: 0.5 } : { addedLatencyMs: 400 }, endpoint);
    const injected = Date.now();
    let reactionMs = NaN;
    for (let k = 0; k < 6000; k++) {
      const ep = await arm.onlineEndpoints.get(RG, WS, endpoint);
      const live = ep.properties.traffic ?? {};
      if ((live.blue ?? 0) === 100) {
        reactionMs = Date.now() - injected;
        break;
      }
      await sleep(50);
    }
    const result = await h.result();
    return { run: i, fault, reactionMs, outcome: result.outcome, reason: result.reason };
  } finally {
    stop.abort();
    await traffic;
  }
}

async function main(): Promise<void> {
  const [env, emu, bundle] = await Promise.all([createDevEnv(), startTestEmulator({ provisionTimeMs: 500 }), workflowBundle()]);
  const arm = armClient(emu);
  const taskQueue = uniqueName('react');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: createActivities({ azure: { cloud: 'emulator', url: emu.url, caCertPem: emu.caCertPem, credential: emulatorCredential() }, pollIntervalMs: 200 }),
  });
  const rows: Row[] = [];
  const t0 = Date.now();
  try {
    await worker.runUntil(async () => {
      let next = 0;
      await Promise.all(
        Array.from({ length: PARALLEL }, async () => {
          while (next < RUNS) {
            const i = next++;
            const row = await oneRun(i, emu, arm, env.client, taskQueue);
            rows.push(row);
            console.log(`run ${i + 1}/${RUNS} (${row.fault}): baseline 100% after ${(row.reactionMs / 1000).toFixed(2)} s; ${row.outcome}: ${row.reason.slice(0, 100)}`);
          }
        }),
      );
    });
  } finally {
    await Promise.all([env.teardown(), emu.close()]);
  }
  rows.sort((a, b) => a.run - b.run);
  const summarise = (rs: Row[]) => {
    const xs = rs.map((r) => r.reactionMs).filter((x) => Number.isFinite(x));
    return { runs: rs.length, medianS: percentile(xs, 50) / 1000, p95S: percentile(xs, 95) / 1000, minS: Math.min(...xs) / 1000, maxS: Math.max(...xs) / 1000, rolledBack: rs.filter((r) => r.outcome === 'rolled_back').length };
  };
  const all = summarise(rows);
  const byFault = { errors: summarise(rows.filter((r) => r.fault === 'errors')), latency: summarise(rows.filter((r) => r.fault === 'latency')) };
  const goalS = INTERVAL_S + 5;
  const m = machine();
  const cmd = command('reaction-time');
  const json = { benchmark: 'reaction-time', date: new Date().toISOString(), command: cmd, machine: m, intervalS: INTERVAL_S, failureLimit: FAILURE_LIMIT, parallel: PARALLEL, wallS: (Date.now() - t0) / 1000, all, byFault, goal: { medianAtMostS: goalS, met: all.medianS <= goalS }, rows };
  const f = (x: number): string => x.toFixed(2);
  const md = [
    '# Reaction time: fault in the candidate during a canary → baseline back at 100%',
    '',
    `Run ${json.date} with \`${cmd}\`: ${RUNS} rollouts (${PARALLEL} at a time) of fraud-detector:2 on the real workflow and activities (Temporal dev server, emulator, 20 requests/s each), canary 30%; at a random phase of the analysis interval the candidate starts failing half its requests (even runs) or answering 400 ms slower (odd runs). Time = from injecting the fault until \`GET\` on the endpoint shows the baseline at 100% live (polled every 50 ms).`,
    '',
    machineLine(m),
    '',
    `Analysis interval ${INTERVAL_S} s, failureLimit ${FAILURE_LIMIT}: the Flagger / Argo Rollouts reference (interval × threshold) is ${INTERVAL_S * FAILURE_LIMIT} s. Goal: median ≤ interval + 5 s = ${goalS} s — **${json.goal.met ? 'met' : 'not met'}**.`,
    '',
    '| fault | runs | rolled back | median s | p95 s | min s | max s |',
    '|---|---|---|---|---|---|---|',
    ...(['errors', 'latency'] as const).map((k) => `| ${k === 'errors' ? 'model errors (50% → 424)' : 'added latency (+400 ms)'} | ${byFault[k].runs} | ${byFault[k].rolledBack} | ${f(byFault[k].medianS)} | ${f(byFault[k].p95S)} | ${f(byFault[k].minS)} | ${f(byFault[k].maxS)} |`),
    `| all | ${all.runs} | ${all.rolledBack} | ${f(all.medianS)} | ${f(all.p95S)} | ${f(all.minS)} | ${f(all.maxS)} |`,
    '',
    `Wall time ${f(json.wallS)} s.`,
    '',
  ].join('\n');
  console.log(md);
  writeResults('reaction-time', json, md);
}

await main();
