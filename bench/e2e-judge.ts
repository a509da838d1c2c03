// End to end through the judge (issue 14 item 3): N rollouts of a good model and N with an injected fault
// — 5xx ×4 over the baseline's rate, latency +25%, a 2% latency tail (+300 ms on 2% of requests), a crash
// — on the real safeRollout workflow, the real activities, a Temporal dev server and the emulator with
// traffic flowing; each faulty rollout's time from fault to rollback is set beside the Monte Carlo's p95
// (bench/results/judge.json) for the matching cell.
//
//   npm run bench -- e2e-judge              20 good + 20 faulty, 12 at a time (≈ 35 min on 2 cores)
//   npm run bench -- e2e-judge --quick      2 + 2 with short bakes (≈ 3 min); writes e2e-judge-quick.*
//   flags: --good N --faulty N --parallel N --rps N --warmup 30s --mirror-bake 8m --canary-bake 1m
//          --interval 10s --baseline-5xx 0.005 --seed N --inject start|mid --no-logs --name NAME
//          --inject mid: --inject-after 10s --inject-until 60s (and its own bake defaults, below)
//   Each finished rollout is appended to bench/results/NAME-rows.jsonl as it ends, so a run cut short
//   leaves its rows; `--rerender NAME` writes the tables again from them.
//
// The setting, and why (so the figures can be compared with the Monte Carlo's):
// - Every endpoint serves `--rps` (20) requests/s of generated transactions, open loop. Its baseline and
//   the candidate both draw latency per request, lognormal with median 100 ms and σ 0.5 (the Monte
//   Carlo's model), and both answer a `--baseline-5xx` share (0.5%) of requests 500, independently: a good
//   model is the same model, noise included.
// - The plan: mirror 50% → canary 50% → promote, analysis every 10 s (the Monte Carlo looks every 10 s),
//   no gates (the plan's defaults decide) and α = the default budget. At mirror 50% the candidate scores
//   half the live requests (rps / 2) and the baseline all of them; at canary 50% each serves rps / 2. So
//   the candidate sees rps / 2 = 10 req/s in both steps, and each rollout is matched to the Monte Carlo's
//   cell with that rate (the nearest of its rates) and the baseline 5xx share set here. The Monte Carlo
//   gives the baseline the same rate as the candidate; during the mirror the baseline here has twice that.
// - `--inject start` (the default, like for like with the Monte Carlo, whose effect is there from the
//   bake's first request): the fault is switched on as the mirror step begins — a faulty model is faulty
//   from its first judged request — and the mirror bake (8 min) holds the Monte Carlo's largest p95 at
//   that cell (470 s); the canary step after it is short (1 min): a fault the mirror has not caught by
//   then is a miss whatever the canary does.
// - `--inject mid` (change detection, which the Monte Carlo does not model): the fault comes at a seeded
//   uniform time from `--inject-after` into the mirror bake to `--inject-until` into the canary bake
//   (mirror 60 s, canary 9 min). A sequential test that has been collecting evidence of "no difference"
//   before the change needs more data to overcome it, and a step change resets the judge, so these
//   times are longer than the Monte Carlo's; the first full run (2026-11-26, e2e-judge-midbake.md) did it.
// - The time compared with the Monte Carlo's p95 is "fault → end of the window of the analysis that
//   failed" (the data the judge decided on; the Monte Carlo's look time); the workflow's rollback
//   event and "baseline at 100% (GET)" are reported beside it: they add the analysis's query time.
// - The fault is switched on in the emulator (`setBehaviour` on the candidate), so its time is known to
//   the millisecond; the rollback decision is the workflow's `rollback` timeline event (workflow clock,
//   same machine); "baseline at 100%" is when `GET` on the endpoint shows it (polled every 250 ms).
import { fork, type ChildProcess } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../activities/create-activities.js';
import { seededRandom } from '../emulator/core.js';
import { parsePlan, type PlanDocument } from '../domain/plan.js';
import type { RolloutStatus, SafeRolloutResult } from '../domain/rollout.js';
import { parseDuration } from '../domain/duration.js';
import { emulatorCredential, type DeploymentBehaviour, type Emulator, type TrafficResult } from '../emulator/index.js';
import { anEndpointWith, armClient, raw, RG, setTraffic, startTestEmulator, SUB, WS, WS_PATH } from '../test/emulator/support.js';
import { startRollout } from '../test/support/builders.js';
import { createDevEnv, uniqueName, workflowBundle } from '../test/support/temporal.js';
import type { safeRollout } from '../workflows/index.js';
import { status } from '../workflows/messages.js';
import { benchFlags, benchRoot, command, machine, machineLine, percentile, writeResults } from './lib/support.js';

// ───────────────────────────── settings ─────────────────────────────

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const noLogs = args.includes('--no-logs');
const NAME_FLAG_INDEX = args.indexOf('--name');
/**
 * `--gates mc` (default): the Monte Carlo's judge, as plan gates — 5xx tolerance 1.25×, latency p50 / p95 /
 * p99 each at most 5% slower (the Monte Carlo's fourth gate is p90, which plans do not have; p95 stands in),
 * so the comparison with its cells is like for like. `--gates defaults`: no gates named, the plan's defaults.
 */
const GATES_MODE = args.includes('--gates') ? args[args.indexOf('--gates') + 1] : 'mc';
if (GATES_MODE !== 'mc' && GATES_MODE !== 'defaults') {
  console.error(`--gates must be mc or defaults (got "${GATES_MODE}")`);
  process.exit(2);
}
const MC_GATES = { errorRate: { tolerance: 1.25 }, latencyP50Ms: { tolerance: 1.05 }, latencyP95Ms: { tolerance: 1.05 }, latencyP99Ms: { tolerance: 1.05 } };
const { arg, num } = benchFlags(args);
function fail(msg: string): never {
  console.error(msg);
  process.exit(2);
}
/** The results' name: bench/results/NAME.{json,md} and NAME-rows.jsonl. */
const RESULT_NAME = arg('rerender') ?? (NAME_FLAG_INDEX >= 0 ? (args[NAME_FLAG_INDEX + 1] ?? 'e2e-judge') : quick ? 'e2e-judge-quick' : 'e2e-judge');
if (!/^[a-z0-9-]+$/.test(RESULT_NAME)) fail(`--name must be lowercase letters, digits and dashes (got "${RESULT_NAME}")`);
const dur = (name: string, fallback: string): number => {
  const v = arg(name) ?? fallback;
  return parseDuration(v) ?? fail(`--${name} must be a duration like 30s or 9m (got "${v}")`);
};
const GOOD = num('good', quick ? 2 : 20, (n) => Number.isInteger(n) && n >= 0);
const FAULTY = num('faulty', quick ? 2 : 20, (n) => Number.isInteger(n) && n >= 0);
const PARALLEL = num('parallel', quick ? 4 : 12, (n) => Number.isInteger(n) && n >= 1);
const RPS = num('rps', 20);
const INJECT_MODE = arg('inject') ?? 'start';
if (INJECT_MODE !== 'start' && INJECT_MODE !== 'mid') fail(`--inject must be start or mid (got "${INJECT_MODE}")`);
const MID = INJECT_MODE === 'mid';
const WARMUP_MS = dur('warmup', quick ? '20s' : '30s');
const MIRROR_BAKE_MS = dur('mirror-bake', quick ? (MID ? '30s' : '90s') : MID ? '60s' : '8m');
const CANARY_BAKE_MS = dur('canary-bake', quick ? (MID ? '90s' : '30s') : MID ? '9m' : '1m');
const INTERVAL_MS = dur('interval', '10s');
const INJECT_AFTER_MS = dur('inject-after', '10s');
const INJECT_UNTIL_MS = dur('inject-until', quick ? '20s' : '60s');
const BASELINE_5XX = num('baseline-5xx', 0.005, (n) => n > 0 && n < 0.25);
const SEED = num('seed', 20261126, Number.isInteger);
const MIRROR_PERCENT = 50;
const CANARY_PERCENT = 50;
const LATENCY = { medianMs: 100, sigma: 0.5 };
const CANDIDATE_RPS = (RPS * MIRROR_PERCENT) / 100;
if (MID && INJECT_UNTIL_MS > CANARY_BAKE_MS) fail('--inject-until must fall inside the canary bake');
if (MID && INJECT_AFTER_MS >= MIRROR_BAKE_MS) fail('--inject-after must fall inside the mirror bake');

type FaultId = 'crash' | 'latency+25%' | 'errors-4x' | 'tail-2%+300ms';
/** Cycled in this order, so --quick's two faulty rollouts get the two the short bakes can hold. */
const FAULTS: FaultId[] = ['crash', 'latency+25%', 'errors-4x', 'tail-2%+300ms'];
const FAULT_LABEL: Record<FaultId, string> = {
  crash: 'crash (container down: 502)',
  'latency+25%': 'latency +25%',
  'errors-4x': `5xx ×4 (${pctText(BASELINE_5XX)} → ${pctText(4 * BASELINE_5XX)})`,
  'tail-2%+300ms': '2% of requests +300 ms',
};
function faultBehaviour(f: FaultId): DeploymentBehaviour {
  switch (f) {
    case 'crash':
      return { crash: true };
    case 'latency+25%':
      return { latencyFactor: 1.25 };
    case 'errors-4x':
      return { serverErrorRate: 4 * BASELINE_5XX };
    case 'tail-2%+300ms':
      return { tail: { share: 0.02, addMs: 300 } };
  }
}

function pctText(x: number): string {
  return `${(100 * x).toFixed(x < 0.01 && x > 0 ? 2 : 1)}%`;
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ───────────────────────────── the Monte Carlo's cells ─────────────────────────────

interface McCell {
  rps: number;
  baseline5xx: number;
  effect: string;
  detectedShare: number;
  p50S: number | null;
  p95S: number | null;
}
interface McFile {
  date: string;
  quick?: boolean;
  config: { rates: number[]; baseline5xx: number[]; bakeSeconds: number };
  cells: { rps: number; baseline5xx: number; effect: string; methods: Record<'glidepath' | 'glidepath-unpaired', { failShare: number; detectP50: number | null; detectP95: number | null }> }[];
}
/**
 * The Monte Carlo's method that matches what the workflow runs: with the traffic log, the latency gates
 * count each side's requests above the frozen baseline quantiles — the unpaired exceedance test
 * ("glidepath-unpaired"; the paired column needs request-by-request pairs, which a rollout does not
 * have). Without the log, the workflow's per-interval sign test has no Monte Carlo column; the unpaired
 * one stands in (for 5xx and crash the two columns are the same test).
 */
const MC_METHOD = 'glidepath-unpaired' as const;
const MC_PATH = 'bench/results/judge.json';
const mc = JSON.parse(readFileSync(`${benchRoot}${MC_PATH}`, 'utf8')) as McFile;
/** The Monte Carlo's rate nearest (in log scale) to the candidate's, and its baseline 5xx share nearest to ours. */
const MC_RATE = mc.config.rates.reduce((best, r) => (Math.abs(Math.log(r / CANDIDATE_RPS)) < Math.abs(Math.log(best / CANDIDATE_RPS)) ? r : best));
const MC_BASELINE = mc.config.baseline5xx.reduce((best, b) => (Math.abs(Math.log(b / BASELINE_5XX)) < Math.abs(Math.log(best / BASELINE_5XX)) ? b : best));
function mcCell(effect: string): McCell {
  const c = mc.cells.find((x) => x.rps === MC_RATE && x.baseline5xx === MC_BASELINE && x.effect === effect);
  if (!c) throw new Error(`${MC_PATH} has no cell ${MC_RATE} req/s, baseline ${MC_BASELINE}, effect ${effect}`);
  const g = c.methods[MC_METHOD];
  return { rps: MC_RATE, baseline5xx: MC_BASELINE, effect, detectedShare: g.failShare, p50S: g.detectP50, p95S: g.detectP95 };
}

// ───────────────────────────── one rollout ─────────────────────────────

interface Row {
  n: number;
  kind: 'good' | 'faulty';
  fault: FaultId | null;
  endpoint: string;
  /** Fault switched on this long after the mirror step began (s), and in which stage. */
  injectAfterMirrorS: number | null;
  injectStage: string | null;
  outcome: string;
  reason: string;
  /** Gates failing in the verdict that decided the rollback. */
  gates: string[];
  /** Fault → the workflow's rollback decision (s); for a good rollout that rolled back: time since the mirror began. */
  decisionS: number | null;
  /**
   * Fault → the end of the window of the analysis that failed (s): the data the judge decided on, the
   * Monte Carlo's "time to detect". Null when the rollback was not a failed analysis.
   */
  decisionDataS?: number | null;
  /** The failing analysis's number among those whose window ended after the fault (the Monte Carlo's look count). */
  decisionLooks?: number | null;
  /** Fault → GET shows the baseline at 100% live (s). */
  baselineBackS: number | null;
  mc: McCell | null;
  /** Decision within the Monte Carlo's p95 for the cell (faulty rollouts); null for good ones. */
  withinMcP95: boolean | null;
  rolloutS: number;
  analyses: number;
  /** A faulty rollout that was rolling back (or had ended) before its fault was due: a false alarm, the fault never injected. */
  endedBeforeFault: boolean;
  /** True when the verdicts carry the sequential judge's evidence (plans judged by domain/judge). */
  judged: boolean;
  traffic: { sent: number; achievedRps: number; statusCounts: Record<string, number> };
  error?: string;
}

interface Ctx {
  emu: Emulator;
  arm: AzureMachineLearningWorkspaces;
  client: Client;
  taskQueue: string;
}

function plan(endpoint: string, baseline: string, candidate: string): PlanDocument {
  return {
    apiVersion: 'glidepath/v1',
    kind: 'Rollout',
    target: { subscriptionId: SUB, resourceGroup: RG, workspace: WS, endpoint },
    baseline,
    candidate: {
      name: candidate,
      deployment: { model: 'azureml:fraud-detector:2', instance_type: 'Standard_DS3_v2', instance_count: 1, request_settings: { request_timeout_ms: 5000, max_concurrent_requests_per_instance: 16 } },
    },
    strategy: [
      { mirror: { percent: MIRROR_PERCENT, bake: `${MIRROR_BAKE_MS / 1000}s` } },
      { canary: { percent: CANARY_PERCENT, bake: `${CANARY_BAKE_MS / 1000}s` } },
      { promote: { rollbackWindow: '1s' } },
    ],
    analysis: { interval: `${INTERVAL_MS / 1000}s`, minRequests: 20, ...(noLogs ? {} : { logs: { workspaceId: ctxLogsWorkspace } }) },
    ...(GATES_MODE === 'mc' ? { gates: MC_GATES } : {}),
  } as PlanDocument;
}
let ctxLogsWorkspace = '';

/** The status query, retried: on a loaded machine a query can time out while the worker is busy. */
async function statusOf(h: WorkflowHandle<typeof safeRollout>): Promise<RolloutStatus> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await h.query(status);
    } catch (e) {
      if (attempt >= 30) throw e;
      await sleep(1000);
    }
  }
}

/**
 * True when GET on the endpoint shows the baseline at 100% live and no mirror. Read raw with a newer
 * api-version: the stable SDK's model drops `mirrorTraffic`, and a fault during the mirror leaves live
 * traffic at 100% baseline all along.
 */
async function baselineAlone(emu: Emulator, endpoint: string, baseline: string): Promise<boolean> {
  const r = await raw(emu, 'GET', `${WS_PATH}/onlineEndpoints/${endpoint}?api-version=2024-04-01`);
  const p = (r.json as { properties?: { traffic?: Record<string, number>; mirrorTraffic?: Record<string, number> } } | undefined)?.properties;
  return r.status === 200 && (p?.traffic?.[baseline] ?? 0) === 100 && !Object.values(p?.mirrorTraffic ?? {}).some((v) => v > 0);
}

/** The traffic generators' child process (bench/lib/traffic-child.ts): start one per endpoint, stop it, get its results. */
class TrafficChild {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<string, (r: TrafficResult[]) => void>();
  constructor() {
    this.child = fork(fileURLToPath(new URL('./lib/traffic-child.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (m: { done: string; results: TrafficResult[] }) => {
      this.waiting.get(m.done)?.(m.results);
      this.waiting.delete(m.done);
    });
  }
  /** Starts traffic; the returned function stops it and resolves with what was sent. */
  start(emu: Emulator, endpoint: string, key: string, seed: number): () => Promise<TrafficResult[]> {
    const id = `${endpoint}#${seed}`;
    const done = new Promise<TrafficResult[]>((resolve) => this.waiting.set(id, resolve));
    this.child.send({ start: { id, url: emu.url, endpoint, key, rps: RPS, seed, caCertPem: emu.caCertPem } });
    return () => {
      this.child.send({ stop: id });
      return Promise.race([done, sleep(30_000).then(() => [] as TrafficResult[])]);
    };
  }
  cpuSeconds(): number | null {
    try {
      const f = readFileSync(`/proc/${this.child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(f[11]) + Number(f[12])) / 100;
    } catch {
      return null;
    }
  }
  close(): void {
    this.child.disconnect();
  }
}
let trafficChild: TrafficChild;
let trafficChildCpu: number | null = null;

async function oneRollout(n: number, kind: Row['kind'], fault: FaultId | null, ctx: Ctx): Promise<Row> {
  const { emu, arm, client, taskQueue } = ctx;
  const endpoint = `e2e-${n}-${process.pid % 10000}`;
  const baseline = `blue-${n}`;
  const candidate = `green-${n}`;
  const noise: DeploymentBehaviour = { latency: LATENCY, serverErrorRate: BASELINE_5XX };
  emu.faults.setBehaviour(baseline, noise, endpoint);
  emu.faults.setBehaviour(candidate, noise, endpoint);
  const key = await anEndpointWith(arm, endpoint, { [baseline]: 'azureml:fraud-detector:1' }, { maxConcurrent: 16 });
  await setTraffic(arm, endpoint, { [baseline]: 100 });
  const stopTraffic = trafficChild.start(emu, endpoint, key, SEED + n);
  const draw = seededRandom(SEED * 7919 + n);
  const injectAt = !fault ? null : MID ? INJECT_AFTER_MS + draw() * (MIRROR_BAKE_MS + INJECT_UNTIL_MS - INJECT_AFTER_MS) : 0;
  let row: Omit<Row, 'traffic'>;
  const t0 = Date.now();
  try {
    await sleep(WARMUP_MS);
    const h = await startRollout(client, { plan: plan(endpoint, baseline, candidate), startedBy: 'bench@contoso.com', taskQueue });
    let mirrorStart = 0;
    let injectedAt: number | null = null;
    let injectStage: string | null = null;
    let backAt: number | null = null;
    // The mirror's start (status query every 500 ms), then the fault at its seeded time, then the
    // endpoint's traffic every 250 ms until the baseline serves alone (or the rollout ends otherwise).
    for (;;) {
      const s = await statusOf(h);
      if (s.outcome) break;
      if (s.stage === 'mirror' || s.stage === 'canary') {
        mirrorStart = Date.now();
        break;
      }
      await sleep(MID ? 500 : 100);
    }
    if (fault && mirrorStart) {
      await sleep(Math.max(0, mirrorStart + injectAt! - Date.now()));
      const s = await statusOf(h);
      // A rollout already rolling back (or ended) before its fault is counted as a false alarm, not a detection.
      if (s.stage === 'mirror' || s.stage === 'canary') {
        emu.faults.setBehaviour(candidate, faultBehaviour(fault), endpoint);
        injectedAt = Date.now();
        injectStage = s.stage === 'mirror' ? `mirror ${MIRROR_PERCENT}%` : s.stage === 'canary' ? `canary ${CANARY_PERCENT}%` : s.stage;
        for (let k = 0; backAt === null; k++) {
          // Alone only counts once rolling back (a step change may pass through baseline-only traffic).
          const t = Date.now();
          if ((await baselineAlone(emu, endpoint, baseline)) && ['rollback', 'done'].includes((await statusOf(h)).stage)) backAt = t;
          else if (k % 4 === 3 && (await statusOf(h)).outcome) break;
          else await sleep(250);
        }
      }
    }
    const result: SafeRolloutResult = await h.result();
    if (injectedAt !== null && backAt === null && result.outcome === 'rolled_back' && (await baselineAlone(emu, endpoint, baseline))) backAt = Date.now();
    const rollbackEvent = result.timeline.find((e) => e.kind === 'rollback');
    const decidedAt = rollbackEvent ? Date.parse(rollbackEvent.at) : null;
    const deciding = [...result.verdicts].reverse().find((v) => v.status === 'fail');
    const cell = fault ? mcCell(fault) : null;
    const decisionS = decidedAt === null ? null : injectedAt !== null ? (decidedAt - injectedAt) / 1000 : mirrorStart ? (decidedAt - mirrorStart) / 1000 : null;
    // The judge's clock starts when the candidate can first be judged under the fault: the fault, or the
    // mirror traffic's PUT finishing (the first traffic event after the first step began), whichever is later.
    const firstStep = result.timeline.findIndex((e) => e.kind === 'step');
    const mirrorSet = result.timeline.slice(firstStep + 1).find((e) => e.kind === 'traffic');
    const judgedFrom = Math.max(injectedAt ?? mirrorStart, mirrorSet ? Date.parse(mirrorSet.at) : 0);
    const last = result.verdicts.at(-1);
    const decisionDataS = rollbackEvent && last?.status === 'fail' && last.snapshot?.endMs !== undefined ? (last.snapshot.endMs - judgedFrom) / 1000 : null;
    // The Monte Carlo looks at exact multiples of the interval; the workflow's looks drift later by each
    // analysis's queries. So "within its p95" compares looks: the failing analysis is look k since the
    // fault, k × interval against the p95 (the data time is printed beside it).
    const decisionLooks = decisionDataS === null ? null : result.verdicts.filter((v) => (v.snapshot?.endMs ?? 0) > judgedFrom).length;
    row = {
      n,
      kind,
      fault,
      endpoint,
      injectAfterMirrorS: injectedAt !== null && mirrorStart ? (injectedAt - mirrorStart) / 1000 : null,
      injectStage,
      outcome: result.outcome,
      reason: result.reason,
      gates: deciding ? deciding.gates.filter((g) => g.status === 'fail').map((g) => g.gate) : [],
      decisionS,
      decisionDataS,
      decisionLooks,
      baselineBackS: injectedAt !== null && backAt !== null ? (backAt - injectedAt) / 1000 : null,
      mc: cell,
      withinMcP95: !fault ? null : injectedAt !== null && result.outcome === 'rolled_back' && decisionLooks !== null && decisionLooks > 0 && cell?.p95S != null ? (decisionLooks * INTERVAL_MS) / 1000 <= cell.p95S : false,
      rolloutS: (Date.now() - t0 - WARMUP_MS) / 1000,
      analyses: result.verdicts.length + (result.verdictsDropped ?? 0),
      judged: result.verdicts.some((v) => v.judgement !== undefined),
      endedBeforeFault: fault !== null && injectedAt === null,
    };
  } catch (e) {
    row = { n, kind, fault, endpoint, injectAfterMirrorS: null, injectStage: null, outcome: 'error', reason: (e as Error).message, gates: [], decisionS: null, baselineBackS: null, mc: fault ? mcCell(fault) : null, withinMcP95: fault ? false : null, rolloutS: (Date.now() - t0) / 1000, analyses: 0, judged: false, endedBeforeFault: false, error: (e as Error).stack ?? String(e) };
  }
  const parts = await stopTraffic();
  const sent = parts.reduce((a, p) => a + p.sent, 0);
  const statusCounts: Record<string, number> = {};
  for (const p of parts) for (const [k, v] of Object.entries(p.statusCounts)) statusCounts[k] = (statusCounts[k] ?? 0) + v;
  const secs = parts.reduce((a, p) => a + p.durationMs, 0) / 1000;
  // Free the endpoint's containers (worker threads) for the next rollouts.
  await arm.onlineEndpoints.beginDeleteAndWait(RG, WS, endpoint, { updateIntervalInMs: 200 }).catch(() => undefined);
  return { ...row, traffic: { sent, achievedRps: secs > 0 ? Math.round((sent / secs) * 10) / 10 : 0, statusCounts } };
}

// ───────────────────────────── CPU ─────────────────────────────

/** Busy share of the whole machine (all processes, everyone's) from /proc/stat, and this process's own CPU. */
function machineTicks(): { busy: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    const total = v.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

// ───────────────────────────── main ─────────────────────────────

async function main(): Promise<void> {
  const started = Date.now();
  const [env, emu, bundle] = await Promise.all([
    createDevEnv(),
    // The traffic log keeps 5 minutes: every analysis window is 10 s, and every query scans what is kept.
    startTestEmulator({ provisionTimeMs: 500, seed: SEED, trafficLogMaxAgeMs: 5 * 60_000 }),
    workflowBundle(),
  ]);
  trafficChild = new TrafficChild();
  ctxLogsWorkspace = emu.logsWorkspaceId;
  const arm = armClient(emu);
  const taskQueue = uniqueName('e2e-judge');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: createActivities({ azure: { cloud: 'emulator', url: emu.url, caCertPem: emu.caCertPem, credential: emulatorCredential() }, pollIntervalMs: 200 }),
  });
  // Good and faulty interleaved, so the load stays even.
  const jobs: { kind: Row['kind']; fault: FaultId | null }[] = [];
  for (let k = 0; k < Math.max(GOOD, FAULTY); k++) {
    if (k < GOOD) jobs.push({ kind: 'good', fault: null });
    if (k < FAULTY) jobs.push({ kind: 'faulty', fault: FAULTS[k % FAULTS.length]! });
  }
  const rows: Row[] = [];
  const rowsFile = `${benchRoot}bench/results/${RESULT_NAME}-rows.jsonl`;
  writeFileSync(rowsFile, '');
  const cpu0 = process.cpuUsage();
  const traffic0 = trafficChild.cpuSeconds();
  // How late this process's event loop runs (the emulator, the worker's activities and the harness share it).
  const lag = monitorEventLoopDelay({ resolution: 20 });
  lag.enable();
  const ticks0 = machineTicks();
  const loads: number[] = [];
  const sampler = setInterval(() => loads.push(loadavg()[0]!), 10_000);
  const t0 = Date.now();
  let next = 0;
  try {
    await worker.runUntil(async () => {
      await Promise.all(
        Array.from({ length: Math.min(PARALLEL, jobs.length) }, async () => {
          while (next < jobs.length) {
            const i = next++;
            const job = jobs[i]!;
            const r = await oneRollout(i + 1, job.kind, job.fault, { emu, arm, client: env.client, taskQueue });
            rows.push(r);
            appendFileSync(rowsFile, `${JSON.stringify(r)}\n`);
            const what = r.kind === 'good' ? 'good' : r.injectStage ? `${r.fault} at ${r.injectStage} +${r.injectAfterMirrorS?.toFixed(1)}s` : `${r.fault} (not injected: the rollout had ended)`;
            const t = r.decisionS === null ? '' : ` decision: look ${r.decisionLooks ?? '—'}, data ${r.decisionDataS?.toFixed(1) ?? '—'} s, workflow ${r.decisionS.toFixed(1)} s, baseline 100% ${r.baselineBackS?.toFixed(1) ?? '—'} s (MC p95 ${r.mc?.p95S ?? '—'} s)`;
            console.log(`[${((Date.now() - t0) / 1000).toFixed(0)}s] ${rows.length}/${jobs.length} #${r.n} ${what}: ${r.outcome}${t} — ${r.reason.slice(0, 140)}`);
          }
        }),
      );
    });
  } finally {
    clearInterval(sampler);
    lag.disable();
    trafficChildCpu = trafficChild.cpuSeconds();
    trafficChild.close();
    await Promise.all([env.teardown(), emu.close()]);
  }
  const wallS = (Date.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const ticks1 = machineTicks();
  const cores = cpus().length;
  const cpuReport = {
    benchProcessCores: Math.round(((cpu.user + cpu.system) / 1e6 / wallS) * 100) / 100,
    trafficProcessCores: traffic0 !== null && trafficChildCpu !== null ? Math.round(((trafficChildCpu - traffic0) / wallS) * 100) / 100 : null,
    eventLoopLagMs: { p50: Math.round(lag.percentile(50) / 1e5) / 10, p99: Math.round(lag.percentile(99) / 1e5) / 10, max: Math.round(lag.max / 1e5) / 10 },
    machineBusyShare: ticks0 && ticks1 ? Math.round(((ticks1.busy - ticks0.busy) / (ticks1.total - ticks0.total)) * 1000) / 1000 : null,
    cores,
    loadAverage1mMax: loads.length ? Math.max(...loads) : null,
    loadAverage1mMedian: loads.length ? percentile(loads, 50) : null,
  };
  rows.sort((a, b) => a.n - b.n);
  report(rows, { wallS, totalS: (Date.now() - started) / 1000, cpu: cpuReport });
}

interface FaultSummary {
  fault: FaultId;
  label: string;
  runs: number;
  /** Rolled back (a false alarm) before the fault was due: not injected. */
  endedBeforeFault: number;
  /** Rolled back after the fault. */
  rolledBack: number;
  withinP95: number;
  decisionP50S: number | null;
  decisionMaxS: number | null;
  decisionDataP50S: number | null;
  decisionDataMaxS: number | null;
  baselineBackP50S: number | null;
  baselineBackMaxS: number | null;
  mc: McCell;
  gates: Record<string, number>;
}

interface CpuReport {
  benchProcessCores: number;
  trafficProcessCores: number | null;
  eventLoopLagMs: { p50: number; p99: number; max: number };
  machineBusyShare: number | null;
  cores: number;
  loadAverage1mMax: number | null;
  loadAverage1mMedian: number | null;
}

function report(rows: Row[], run: { wallS: number; totalS: number; cpu: CpuReport | null; from?: { date: string; command: string; machine: ReturnType<typeof machine> } }): void {
  const good = rows.filter((r) => r.kind === 'good');
  const faulty = rows.filter((r) => r.kind === 'faulty');
  const goodRolledBack = good.filter((r) => r.outcome !== 'promoted');
  const fin = (xs: (number | null)[]): number[] => xs.filter((x): x is number => x !== null && Number.isFinite(x));
  const byFault: FaultSummary[] = FAULTS.filter((f) => faulty.some((r) => r.fault === f)).map((f) => {
    const rs = faulty.filter((r) => r.fault === f);
    const injected = rs.filter((r) => !r.endedBeforeFault);
    const d = fin(injected.filter((r) => r.outcome === 'rolled_back').map((r) => r.decisionS));
    const dd = fin(injected.filter((r) => r.outcome === 'rolled_back').map((r) => r.decisionDataS ?? null));
    const b = fin(injected.map((r) => r.baselineBackS));
    const gates: Record<string, number> = {};
    for (const r of injected) for (const g of r.gates) gates[g] = (gates[g] ?? 0) + 1;
    return {
      fault: f,
      label: FAULT_LABEL[f],
      runs: rs.length,
      endedBeforeFault: rs.filter((r) => r.endedBeforeFault).length,
      rolledBack: injected.filter((r) => r.outcome === 'rolled_back').length,
      withinP95: rs.filter((r) => r.withinMcP95).length,
      decisionP50S: d.length ? percentile(d, 50) : null,
      decisionMaxS: d.length ? Math.max(...d) : null,
      decisionDataP50S: dd.length ? percentile(dd, 50) : null,
      decisionDataMaxS: dd.length ? Math.max(...dd) : null,
      baselineBackP50S: b.length ? percentile(b, 50) : null,
      baselineBackMaxS: b.length ? Math.max(...b) : null,
      mc: mcCell(f),
      gates,
    };
  });
  const goals = {
    noGoodRolledBack: { met: goodRolledBack.length === 0, value: `${goodRolledBack.length} of ${good.length} good rollouts did not end promoted` },
    everyFaultyWithinMcP95: { met: faulty.length > 0 && faulty.every((r) => r.withinMcP95), value: `${faulty.filter((r) => r.withinMcP95).length} of ${faulty.length} faulty rollouts rolled back within the Monte Carlo's p95 for their cell` },
  };
  const m = run.from?.machine ?? machine();
  const cmd = run.from?.command ?? command('e2e-judge');
  const name = RESULT_NAME;
  const judged = rows.filter((r) => r.analyses > 0);
  const throughJudge = judged.length > 0 && judged.every((r) => r.judged);
  const normalized = parsePlan(plan('ep-for-settings', 'blue', 'green'));
  const effective = normalized.ok ? { gates: normalized.plan.gates, analysis: normalized.plan.analysis } : null;
  const json = {
    benchmark: 'e2e-judge',
    schemaVersion: 1,
    quick,
    date: run.from?.date ?? new Date().toISOString(),
    command: cmd,
    machine: m,
    cpu: run.cpu,
    wallS: Math.round(run.wallS),
    totalS: Math.round(run.totalS),
    setup: {
      good: GOOD,
      faulty: FAULTY,
      parallel: PARALLEL,
      rpsPerEndpoint: RPS,
      candidateRps: CANDIDATE_RPS,
      warmupS: WARMUP_MS / 1000,
      strategy: [`mirror ${MIRROR_PERCENT}% for ${MIRROR_BAKE_MS / 1000}s`, `canary ${CANARY_PERCENT}% for ${CANARY_BAKE_MS / 1000}s`, 'promote (rollback window 1s)'],
      analysisIntervalS: INTERVAL_MS / 1000,
      gates: GATES_MODE === 'mc' ? { mode: 'mc: the Monte Carlo judge as plan gates', gates: MC_GATES } : 'none named: the plan defaults',
      logs: !noLogs,
      latency: LATENCY,
      baseline5xx: BASELINE_5XX,
      injection: MID ? `seeded uniform time from ${INJECT_AFTER_MS / 1000}s into the mirror bake to ${INJECT_UNTIL_MS / 1000}s into the canary bake` : 'the start of the mirror step (faulty from its first judged request)',
      monteCarloMethod: MC_METHOD,
      seed: SEED,
      monteCarlo: { file: MC_PATH, date: mc.date, quick: mc.quick ?? false, cell: { rps: MC_RATE, baseline5xx: MC_BASELINE }, bakeSeconds: mc.config.bakeSeconds },
    },
    throughJudge,
    effectivePlan: effective,
    goals,
    good: { runs: good.length, promoted: good.filter((r) => r.outcome === 'promoted').length, notPromoted: goodRolledBack.map((r) => ({ n: r.n, outcome: r.outcome, reason: r.reason, gates: r.gates, afterMirrorStartS: r.decisionS })) },
    byFault,
    rows,
  };
  const f1 = (x: number | null | undefined): string => (x === null || x === undefined ? '—' : x.toFixed(1));
  const s = (x: number | null | undefined): string => (x === null || x === undefined ? '—' : `${x} s`);
  const md = [
    `# End to end${throughJudge ? ' through the judge' : ''}: ${good.length} good and ${faulty.length} faulty rollouts on the emulator${quick ? ' (QUICK MODE: few runs, short bakes)' : ''}`,
    '',
    ...(throughJudge ? [] : ['**NOT through the sequential judge**: the verdicts carry no judge evidence — the plan\'s gates were judged by fixed thresholds per analysis window (the gates below). These are the figures without the judge.', '']),
    `Run ${json.date} with \`${cmd}\`; wall time ${f1(run.wallS / 60)} min (${PARALLEL} rollouts at a time).`,
    '',
    machineLine(m),
    run.cpu === null ? `CPU during the run: not recorded (the rows come from \`${name}-rows.jsonl\`, written as each rollout ended: the run was cut short before its summary).` : `CPU during the run: the benchmark process (emulator, worker, harness) used ${run.cpu.benchProcessCores} cores on average and the traffic generators' process ${run.cpu.trafficProcessCores ?? '—'}; the whole machine (everyone's work, the Temporal dev server included) was ${run.cpu.machineBusyShare === null ? '—' : pctText(run.cpu.machineBusyShare)} busy of ${run.cpu.cores} cores; 1-minute load average median ${f1(run.cpu.loadAverage1mMedian)}, max ${f1(run.cpu.loadAverage1mMax)}. Event-loop lag of the benchmark process p50 ${run.cpu.eventLoopLagMs.p50} ms, p99 ${run.cpu.eventLoopLagMs.p99} ms, max ${run.cpu.eventLoopLagMs.max} ms (the emulator leaves its own timer lateness out of recorded latencies).`,
    '',
    `Setup: the real \`safeRollout\` workflow and activities on a Temporal dev server, the emulator with ${RPS} generated requests/s per endpoint (after ${WARMUP_MS / 1000} s of baseline-only traffic); baseline and candidate both draw each request's latency lognormal (median ${LATENCY.medianMs} ms, σ ${LATENCY.sigma}) and answer ${pctText(BASELINE_5XX)} of requests 500 (independent draws). Plan: ${json.setup.strategy.join(' → ')}, analysis every ${INTERVAL_MS / 1000} s, ${GATES_MODE === 'mc' ? "gates as the Monte Carlo's judge (5xx tolerance 1.25×; latency p50, p95, p99 each ≤ 5% slower — p95 for its p90) at α = 0.01" : "no gates named (the plan's defaults)"}${noLogs ? '' : ', per-request evidence from the emulator\'s Log Analytics traffic log'}. Faults are switched on in the candidate at ${MID ? 'a ' : ''}${json.setup.injection}. The candidate scores ${CANDIDATE_RPS} req/s in both steps; each rollout is compared with the Monte Carlo (\`${MC_PATH}\`, ${mc.date}, ${mc.config.bakeSeconds / 60}-minute bakes) cell **${MC_RATE} req/s, baseline 5xx ${pctText(MC_BASELINE)}**, method \`${MC_METHOD}\` (what the workflow runs: each side's requests above the frozen baseline quantiles): its p95 time to detect. Decision (data) = the end of the failing analysis's window − the fault (or the mirror's start, if later: the first request that could be judged); "within" compares the failing analysis's number k among the analyses since then, k × ${INTERVAL_MS / 1000} s, with the Monte Carlo's p95 — the Monte Carlo looks at exact multiples of the interval, the workflow a few hundred ms later each time (its queries); decision (workflow) = the workflow's rollback event − the fault (adds the analysis's queries); baseline 100% = \`GET\` on the endpoint shows it (polled every 250 ms) − the fault.`,
    '',
    `Effective plan (defaults filled in): gates \`${JSON.stringify(effective?.gates)}\`, analysis \`${JSON.stringify(effective?.analysis)}\`.`,
    '',
    '## Goals',
    '',
    '| goal | measured | |',
    '|---|---|---|',
    `| no good rollout rolled back | ${goals.noGoodRolledBack.value} | ${goals.noGoodRolledBack.met ? 'met' : '**missed**'} |`,
    `| each faulty rollout rolled back within the Monte Carlo's p95 for its cell | ${goals.everyFaultyWithinMcP95.value} | ${goals.everyFaultyWithinMcP95.met ? 'met' : '**missed**'} |`,
    '',
    '## Faulty rollouts by fault',
    '',
    '| fault | runs | false alarm before the fault | rolled back after it | within MC p95 | decision (data) p50 / max s | decision (workflow) p50 / max s | baseline 100% p50 / max s | MC (cell) detected · p50 / p95 | failing gates |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...byFault.map((b) => `| ${b.label} | ${b.runs} | ${b.endedBeforeFault} | ${b.rolledBack} | ${b.withinP95} | ${f1(b.decisionDataP50S)} / ${f1(b.decisionDataMaxS)} | ${f1(b.decisionP50S)} / ${f1(b.decisionMaxS)} | ${f1(b.baselineBackP50S)} / ${f1(b.baselineBackMaxS)} | ${pctText(b.mc.detectedShare)} · ${s(b.mc.p50S)} / ${s(b.mc.p95S)} | ${Object.entries(b.gates).map(([g, c]) => `${g} (${c})`).join(', ') || '—'} |`),
    '',
    `Good rollouts: ${good.filter((r) => r.outcome === 'promoted').length} of ${good.length} promoted${goodRolledBack.length ? `; not promoted: ${goodRolledBack.map((r) => `#${r.n} ${r.outcome} (${r.reason})`).join('; ')}` : ''}.`,
    '',
    '## Every rollout',
    '',
    '| # | kind | fault | injected (stage, s after mirror start) | outcome | failing gates | decision (data) s | decision (workflow) s | baseline 100% s | MC p95 s | within | look | analyses | req/s | reason |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.n} | ${r.kind} | ${r.fault ?? '—'} | ${r.injectStage ? `${r.injectStage}, ${f1(r.injectAfterMirrorS)}` : '—'} | ${r.outcome} | ${r.gates.join(', ') || '—'} | ${f1(r.decisionDataS)} | ${f1(r.decisionS)} | ${f1(r.baselineBackS)} | ${r.mc?.p95S ?? '—'} | ${r.withinMcP95 === null ? '—' : r.withinMcP95 ? 'yes' : '**no**'} | ${r.decisionLooks ?? '—'} | ${r.analyses} | ${r.traffic.achievedRps} | ${r.reason.replace(/\|/g, '\\|').slice(0, 160)} |`,
    ),
    '',
  ].join('\n');
  console.log(md);
  writeResults(name, json, md);
}

/**
 * `--rerender NAME`: the tables again from bench/results/NAME.json's rows, or, for a run cut short before
 * it wrote them, from NAME-rows.jsonl (run with the flags of that run).
 */
function rerender(name: string): void {
  const jsonPath = `${benchRoot}bench/results/${name}.json`;
  const rowsPath = `${benchRoot}bench/results/${name}-rows.jsonl`;
  type Saved = { rows: Row[]; wallS: number; totalS: number; cpu: CpuReport | null; date: string; command: string; machine: ReturnType<typeof machine> };
  const fromRows = (): Saved => {
    const rs = readFileSync(rowsPath, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Row);
    return { rows: rs, wallS: Math.max(0, ...rs.map((r) => r.rolloutS)), totalS: 0, cpu: null, date: new Date().toISOString(), command: command('e2e-judge'), machine: machine() };
  };
  // The plan's logs workspace, so the effective plan parses as it did in the run.
  const saved = existsSync(jsonPath) ? (JSON.parse(readFileSync(jsonPath, 'utf8')) as { effectivePlan?: { analysis?: { logs?: { workspaceId?: string } } } }) : {};
  ctxLogsWorkspace = saved.effectivePlan?.analysis?.logs?.workspaceId ?? '00000000-0000-4000-8000-00000000a11a';
  const j: Saved = existsSync(jsonPath) && !args.includes('--from-rows') ? (JSON.parse(readFileSync(jsonPath, 'utf8')) as Saved) : fromRows();
  const rows = j.rows.map((r) => ({ ...r, endedBeforeFault: r.endedBeforeFault ?? false, withinMcP95: r.kind === 'good' ? null : !r.endedBeforeFault && r.withinMcP95 }));
  report(rows, { wallS: j.wallS, totalS: j.totalS, cpu: j.cpu, from: { date: j.date, command: j.command, machine: j.machine } });
}

if (arg('rerender')) rerender(arg('rerender')!);
else await main();
