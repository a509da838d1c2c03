// What a user on Azure gets: reaction time (fault in the candidate during a canary → baseline back at 100%)
// under Azure Monitor's timing, with metrics only and with the traffic log. SIMULATED TIME: a discrete-time
// model of the pipeline (bench/lib/azure-timing-model.ts) running the real bake-loop decisions, gates and
// window arithmetic and the emulator's Azure visibility rules on seeded synthetic traffic; no Temporal, no
// emulator process, no network. Minutes of Azure time per run cost milliseconds.
//
//   npm run bench -- azure-timing            (= node --import tsx bench/azure-timing.ts [--runs 200] [--seed 20261125] [--rollback-s 30])
//   npm run bench -- azure-timing --quick    (20 runs per configuration; writes azure-timing-quick.*)
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parsePlan, type RolloutPlan } from '../domain/plan.js';
import { AZURE_INGESTION_DELAYS, analysisDelayMs } from '../domain/telemetry-timing.js';
import { seededRandom } from '../emulator/core.js';
import { TelemetryTiming } from '../emulator/telemetry-timing.js';
import { generateTraffic, simulateBake, type BakeResult } from './lib/azure-timing-model.js';
import { benchRoot, command, machine, machineLine, percentile, writeResults } from './lib/support.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};
const QUICK = args.includes('--quick');
const RUNS = Number(arg('runs', QUICK ? '20' : '200'));
const SEED = Number(arg('seed', '20261125'));
const ROLLBACK_MS = Number(arg('rollback-s', '30')) * 1000;
for (const [name, v] of [['runs', RUNS], ['seed', SEED], ['rollback-s', ROLLBACK_MS]] as const) {
  if (!Number.isFinite(v) || v < (name === 'runs' ? 1 : 0)) throw new Error(`--${name} must be a number${name === 'runs' ? ' ≥ 1' : ' ≥ 0'}`);
}

const MINUTE = 60_000;
/** Assumed query durations on Azure: three metrics batch calls; with logs, a Log Analytics batch alongside. */
const ANALYSIS_MS = { metrics: 2_000, logs: 5_000 };
const RPS = 30;
const MIRROR_PERCENT = 20;
const CANARY_PERCENT = 10;
const FAULT_SHARE = 0.5;

/** examples/rollout.yaml, read with the real plan parser: its analysis settings and gates (the webhook gate dropped: nothing answers it here). */
function examplePlan(): RolloutPlan {
  const doc = parse(readFileSync(`${benchRoot}examples/rollout.yaml`, 'utf8')) as { gates: Record<string, unknown> };
  delete doc.gates.webhook;
  const r = parsePlan(doc);
  if (!r.ok) throw new Error(`examples/rollout.yaml: ${r.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  return r.plan;
}

interface Scenario {
  id: 'steady' | 'example';
  label: string;
  bakeMs: number;
  /** The fault starts uniformly in [from, to) after the canary's traffic write. */
  faultFromMs: number;
  faultToMs: number;
}
const SCENARIOS: Scenario[] = [
  { id: 'steady', label: 'canary 10%, bake 60 m, fault 5–35 m into it', bakeMs: 60 * MINUTE, faultFromMs: 5 * MINUTE, faultToMs: 35 * MINUTE },
  { id: 'example', label: "examples/rollout.yaml's canary 10%, bake 15 m, fault at any time of it", bakeMs: 15 * MINUTE, faultFromMs: 0, faultToMs: 15 * MINUTE },
];
const CONFIGS = [
  { id: 'metrics', label: 'metrics only', withLogs: false },
  { id: 'logs', label: 'with logs (analysis.logs)', withLogs: true },
] as const;

interface Row {
  scenario: Scenario['id'];
  config: (typeof CONFIGS)[number]['id'];
  run: number;
  faultAtS: number;
  outcome: BakeResult['outcome'] | 'false_alarm';
  reactionS: number | null;
  decisionS: number | null;
  firstFailAfterS: number | null;
  analyses: number;
  reason: string;
}

function oneRun(plan: RolloutPlan, sc: Scenario, cfg: (typeof CONFIGS)[number], run: number): Row {
  const seed = SEED + run * 7919 + (sc.id === 'steady' ? 0 : 1_000_003);
  const rnd = seededRandom(seed);
  const stepStartMs = Date.UTC(2026, 10, 25, 12, 0, 0) + Math.floor(rnd() * MINUTE); // any phase of the minute
  const faultAtMs = stepStartMs + sc.faultFromMs + rnd() * (sc.faultToMs - sc.faultFromMs);
  const a = plan.analysis;
  const worst = sc.bakeMs + (a.failureLimit - 1 + a.maxExtensions) * a.intervalMs;
  const timing = new TelemetryTiming(0, { seed });
  // The same seed for both configurations: metrics only and with logs judge the same requests.
  const traffic = generateTraffic(
    {
      seed,
      rps: RPS,
      fromMs: stepStartMs - 20 * MINUTE,
      toMs: stepStartMs + worst + 10 * MINUTE,
      stepStartMs,
      mirrorPercent: MIRROR_PERCENT,
      canaryPercent: CANARY_PERCENT,
      latency: { medianMs: 40, sigma: 0.25 },
      background5xx: 0.0002,
      fault: { atMs: faultAtMs, share: FAULT_SHARE },
    },
    timing,
  );
  const r = simulateBake(
    {
      analysis: a,
      gates: plan.gates,
      delays: AZURE_INGESTION_DELAYS,
      withLogs: cfg.withLogs,
      bakeMs: sc.bakeMs,
      stepStartMs,
      analysisMs: cfg.withLogs ? ANALYSIS_MS.logs : ANALYSIS_MS.metrics,
      rollbackMs: ROLLBACK_MS,
      timing,
    },
    traffic,
  );
  // A rollback decided on windows without a faulty request is a false alarm, not a reaction to the fault
  // (it can come after the fault began, before any analysis could see it).
  const early = r.outcome === 'rolled_back' && r.analyses[r.analyses.length - 1]!.candidate424 === 0;
  // The failing run that decided: the last analyses, failureLimit of them.
  const firstFail = r.outcome === 'rolled_back' ? r.analyses[r.analyses.length - a.failureLimit] : undefined;
  return {
    scenario: sc.id,
    config: cfg.id,
    run,
    faultAtS: (faultAtMs - stepStartMs) / 1000,
    outcome: early ? 'false_alarm' : r.outcome,
    reactionS: r.baselineBackMs !== undefined && !early ? (r.baselineBackMs - faultAtMs) / 1000 : null,
    decisionS: r.outcome === 'rolled_back' && !early ? (r.decisionMs - faultAtMs) / 1000 : null,
    firstFailAfterS: firstFail && !early ? (firstFail.atMs - faultAtMs) / 1000 : null,
    analyses: r.analyses.length,
    reason: r.reason.slice(0, 160),
  };
}

function summarise(rows: Row[]) {
  const xs = rows.map((r) => r.reactionS).filter((x): x is number => x !== null);
  const d = rows.map((r) => r.decisionS).filter((x): x is number => x !== null);
  const f = rows.map((r) => r.firstFailAfterS).filter((x): x is number => x !== null);
  return {
    runs: rows.length,
    rolledBack: xs.length,
    passedWithFault: rows.filter((r) => r.outcome === 'passed').length,
    paused: rows.filter((r) => r.outcome === 'paused').length,
    falseAlarms: rows.filter((r) => r.outcome === 'false_alarm').length,
    // Over the runs that rolled back after the fault; misses are counted above, not in these.
    medianS: percentile(xs, 50),
    p95S: percentile(xs, 95),
    minS: xs.length ? Math.min(...xs) : NaN,
    maxS: xs.length ? Math.max(...xs) : NaN,
    medianUntilFirstFailS: percentile(f, 50),
    medianConfirmS: percentile(
      rows.filter((r) => r.decisionS !== null && r.firstFailAfterS !== null).map((r) => r.decisionS! - r.firstFailAfterS!),
      50,
    ),
    medianDecisionS: percentile(d, 50),
  };
}

function main(): void {
  const t0 = Date.now();
  const plan = examplePlan();
  const rows: Row[] = [];
  for (const sc of SCENARIOS) for (const cfg of CONFIGS) for (let i = 0; i < RUNS; i++) rows.push(oneRun(plan, sc, cfg, i));
  const results = SCENARIOS.flatMap((sc) =>
    CONFIGS.map((cfg) => ({
      scenario: sc.id,
      config: cfg.id,
      ingestionDelayS: analysisDelayMs(AZURE_INGESTION_DELAYS, cfg.withLogs) / 1000,
      ...summarise(rows.filter((r) => r.scenario === sc.id && r.config === cfg.id)),
    })),
  );
  const a = plan.analysis;
  const m = machine();
  const name = QUICK ? 'azure-timing-quick' : 'azure-timing';
  const cmd = command('azure-timing');
  const json = {
    benchmark: 'azure-timing',
    method: 'simulated time: discrete-time model (bench/lib/azure-timing-model.ts), not a run of the workflow, emulator or Temporal',
    quick: QUICK,
    date: new Date().toISOString(),
    command: cmd,
    seed: SEED,
    machine: m,
    wallS: 0,
    config: {
      plan: 'examples/rollout.yaml (analysis, gates without webhook)',
      analysis: { intervalS: a.intervalMs / 1000, failureLimit: a.failureLimit, minRequests: a.minRequests, onInconclusive: a.onInconclusive, maxExtensions: a.maxExtensions },
      gates: plan.gates,
      ingestionDelaysS: { metrics: AZURE_INGESTION_DELAYS.metricsMs / 1000, logs: AZURE_INGESTION_DELAYS.logsMs / 1000 },
      emulatorVisibility: 'metrics minute visible 1 min after it closes; log rows after a seeded 3–10 min draw (emulator/telemetry-timing.ts)',
      assumed: { analysisQueryS: { metrics: ANALYSIS_MS.metrics / 1000, logs: ANALYSIS_MS.logs / 1000 }, rollbackEndpointReadAndTrafficWriteS: ROLLBACK_MS / 1000 },
      traffic: { rps: RPS, mirrorPercentBefore: MIRROR_PERCENT, canaryPercent: CANARY_PERCENT, latency: 'lognormal median 40 ms σ 0.25', background5xx: 0.0002, fault: `${FAULT_SHARE * 100}% of candidate requests → 424` },
      runsPerConfiguration: RUNS,
      scenarios: SCENARIOS.map((s) => ({ id: s.id, label: s.label })),
    },
    results,
    rows,
  };
  json.wallS = (Date.now() - t0) / 1000;
  const f = (x: number): string => (Number.isFinite(x) ? (x / 60).toFixed(2) : '—');
  const s = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : '—');
  const md = [
    "# Reaction time under Azure Monitor's timing (simulated time)",
    '',
    `Run ${json.date} with \`${cmd}\`, seed ${SEED}, ${RUNS} runs per configuration${QUICK ? ' (quick)' : ''}; wall time ${json.wallS.toFixed(1)} s.`,
    '',
    machineLine(m),
    '',
    '**What this is.** A discrete-time model in simulated time, not a run of the workflow, the emulator or Temporal (bench/lib/azure-timing-model.ts). ' +
      "Real code: the bake loop's decisions (`firstWait`, `afterAnalysis`, domain/analysis.ts), the gates (`evaluateGates`, domain/gates.ts), " +
      "the metrics activity's window (ends `analysisDelayMs` before now: 3 min metrics only, 10 min with logs; domain/telemetry-timing.ts) and the emulator's " +
      'Azure visibility rules (`TelemetryTiming`: a metrics minute visible 1 min after it closes, each log row after a seeded 3–10 min draw). ' +
      `Modelled: the requests (Poisson ${RPS} req/s to the endpoint; the candidate gets mirrored copies of ${MIRROR_PERCENT}% before the canary, ${CANARY_PERCENT}% live in it; lognormal latency, median 40 ms; 0.02% background 5xx), ` +
      `the fault (from a uniformly drawn moment, ${FAULT_SHARE * 100}% of the candidate's requests answer 424), the metrics figures built from the visible requests (counts, 5xx/424 shares, nearest-rank percentiles; CPU and memory fixed at 40%), ` +
      `and two assumed durations: an analysis's queries take ${ANALYSIS_MS.metrics / 1000} s (metrics) / ${ANALYSIS_MS.logs / 1000} s (with logs), and the rollback's endpoint read + traffic write take ${ROLLBACK_MS / 1000} s on Azure (README: "typically tens of seconds"; \`--rollback-s\`).`,
    '',
    `Plan: examples/rollout.yaml's analysis (interval ${a.intervalMs / 1000} s, failureLimit ${a.failureLimit}, minRequests ${a.minRequests}, onInconclusive ${a.onInconclusive}, maxExtensions ${a.maxExtensions}) and gates (modelErrorRate max 1% is the one the fault trips; the webhook gate dropped). Time = from the fault until the endpoint would read back the baseline at 100%; percentiles over the runs that rolled back after the fault, misses counted beside them.`,
    '',
    '| scenario | telemetry | window ends | runs | rolled back | median min | p95 min | min | max | passed with the fault live | false alarm (rolled back on clean windows) |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...results.map((r) => {
      const sc = SCENARIOS.find((x) => x.id === r.scenario)!;
      const cfg = CONFIGS.find((x) => x.id === r.config)!;
      return `| ${sc.label} | ${cfg.label} | ${r.ingestionDelayS / 60} min before now | ${r.runs} | ${r.rolledBack} | **${f(r.medianS)}** | ${f(r.p95S)} | ${f(r.minS)} | ${f(r.maxS)} | ${r.passedWithFault} | ${r.falseAlarms} |`;
    }),
    '',
    'Where the time goes (medians, seconds, runs that rolled back after the fault):',
    '',
    '| scenario | telemetry | fault → first failing analysis (of which ingestion delay) | first fail → decision (failureLimit − 1 intervals + queries) | decision → baseline 100% (assumed write) | total median |',
    '|---|---|---|---|---|---|',
    ...results.map((r) => `| ${r.scenario} | ${r.config} | ${s(r.medianUntilFirstFailS)} (${r.ingestionDelayS}) | ${s(r.medianConfirmS)} | ${ROLLBACK_MS / 1000} | ${s(r.medianS)} |`),
    '',
    'Misses, as counted above. "Passed with the fault live": the fault began too late in the bake for any of the step\'s analyses to read it (each reads the minute that ended 3 min, with logs 10 min, before it), so the step passed; in examples/rollout.yaml the next step (canary 50%, after an approval) would meet it. With logs a 15-minute bake judges only its first ~6 minutes of canary traffic: its first 9 analyses read only the mirror before it. ' +
      '"False alarm": rolled back by analyses whose windows held no faulty request (before the fault, or after it began but before any analysis could see it), a property of the plan on clean traffic: ~180 candidate requests a minute, so one background 5xx is 0.56%, over `errorRate.maxIncrease` 0.5%, and two such minutes in a row roll back.',
    '',
  ].join('\n');
  console.log(md);
  writeResults(name, json, md);
}

main();
