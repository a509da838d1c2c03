// Prediction pairs benchmark (issue 16 item 6): how many mirrored pairs the join finds, how fast the
// disagreement test decides, and what one analysis of 100,000 collected lines costs the worker.
//
//   npm run bench -- predictions            full runs (1,000 seeded runs per detection scenario)
//   npm run bench -- predictions --quick    few runs (well under a minute); writes predictions-quick.*
//   flags: --seed N  --runs N  --lines N (lines of the read benchmark, default 100000)
//          --only read        section 3 alone (no Monte Carlo); writes predictions-read.* (predictions-read-quick.*)
//          --cpu-prof DIR     the reader child writes a V8 CPU profile (.cpuprofile) per run into DIR
//          --label TEXT       stored in the results (e.g. which code was measured)
//          --before FILE[,FILE…]  results JSON of earlier runs (e.g. of the code before a change, run just before
//                             this one): their read rows are shown under this run's in section 3
//
// 1. Join share: seeded mirrored traffic (50 req/s live, 30% mirrored, the mirror's copy 0–300 ms later)
//    written as Azure's collector lines, parsed and paired by domain/predictions for one 60 s analysis
//    window in the middle of 3 minutes of traffic. Share = pairs joined / mirrored requests whose
//    candidate record is in the window. Several layouts: per-request lines with client request ids, batched
//    lines, and with client request ids stripped (correlation ids and payload hashes only).
// 2. Detection: seeded Bernoulli disagreements fed to the disagreement test (α = 0.01, the default budget;
//    one look per 50 pairs): a candidate disagreeing on 5% vs maxDisagreement 2%, an identical model, and a
//    candidate at exactly 2% (false alarms).
// 3. Read cost: the readPredictionPairs activity against Azurite (a child process) reading N collected
//    lines (both sides, inputs and outputs) of one hour; wall time and the worker process's peak memory.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { addDisagreementWindow, disagreementVerdict, pairPredictions, parseCollectedLines, parseFieldPath, startDisagreementTest, type PathStep } from '../domain/predictions/index.js';
import { seededRandom } from '../emulator/core.js';
import { startAzuriteBlob } from '../test/support/azurite-process.js';
import { batchedLines, linesPerRequest, mirroredTraffic, type CollectedRequest } from '../test/support/collected-lines.js';
import { benchFlags, command, machine, machineLine, percentile, writeResults } from './lib/support.js';

const { quick, num, arg } = benchFlags();
const ONLY = arg('only');
if (ONLY !== undefined && ONLY !== 'read') {
  console.error(`--only must be "read" (the read-cost section alone; got "${ONLY}")`);
  process.exit(2);
}
const readOnly = ONLY === 'read';
const CPU_PROF_DIR = arg('cpu-prof');
const LABEL = arg('label');
const BEFORE_FILE = arg('before');
const SEED = num('seed', 20261126);
const RUNS = num('runs', quick ? 100 : 1000);
const JOIN_SEEDS = quick ? 3 : 20;
const LINES = num('lines', 100_000);
const READ_REPEATS = quick ? 1 : 3;
const ALPHA = 0.01;
const LOOK_EVERY = 50;

const steps = (p: string): PathStep[] => {
  const r = parseFieldPath(p);
  if ('problem' in r) throw new Error(r.problem);
  return r.steps;
};
/** The read rows of an earlier run (`--before`), shown beside this run's. */
interface BeforeRun {
  file: string;
  label?: string;
  command: string;
  machine: { node: string; loadAverageAtEnd: number[] };
  /** Absent in results written before it was recorded (then the load at the end is shown). */
  loadAverageAtRead?: number[];
  read: ReadRow[];
}
const before: BeforeRun[] = (BEFORE_FILE ?? '')
  .split(',')
  .filter(Boolean)
  .map((file) => {
    let run: BeforeRun;
    try {
      run = { ...(JSON.parse(readFileSync(file, 'utf8')) as Omit<BeforeRun, 'file'>), file };
    } catch (err) {
      console.error(`--before ${file}: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(2);
    }
    if (!Array.isArray(run.read) || run.read.length === 0) {
      console.error(`--before ${file}: has no read rows (a results JSON of bench/predictions.ts is expected)`);
      process.exit(2);
    }
    return run;
  });
const beforeLabel = (b: BeforeRun) => b.label ?? b.file;
const started = Date.now();
const log = (msg: string) => console.log(`${((Date.now() - started) / 1000).toFixed(0)}s ${msg}`);

// ───────────────────────────── 1. join share ─────────────────────────────

type Layout = 'per-request lines, client ids' | 'batched lines, row id columns' | 'batched lines, line ids only' | 'client ids stripped, per-request lines' | 'client ids stripped, batched lines (line ids only)' | 'no shared id (payload hash only)';
const LAYOUTS: Layout[] = ['per-request lines, client ids', 'batched lines, row id columns', 'batched lines, line ids only', 'client ids stripped, per-request lines', 'client ids stripped, batched lines (line ids only)', 'no shared id (payload hash only)'];

interface JoinRow {
  layout: Layout;
  target: string;
  mirrored: number;
  joined: number;
  share: number;
  byClientRequestId: number;
  byCorrelationId: number;
  byPayloadHash: number;
  idConflicts: number;
  wrongPairs: number;
}

function joinShare(layout: Layout, seed: number): Omit<JoinRow, 'layout' | 'target' | 'share'> {
  const rng = seededRandom(seed);
  const t0 = Date.parse('2026-11-26T10:00:00Z');
  const all = mirroredTraffic({ n: 9000, seed, flip: 0.03, startMs: t0, ratePerSecond: 50, lagMs: 300, ids: layout.startsWith('client ids stripped') ? 'correlation' : layout.startsWith('no shared') ? 'none' : 'both' });
  const baseline: CollectedRequest[] = [];
  const candidate: CollectedRequest[] = [];
  // Each output carries its request number, so that a pair of two different requests shows as a label
  // disagreement when paired on it: the bench's ground truth, not something the collector writes.
  all.baseline.forEach((b0, i) => {
    const b = { ...b0, output: { ...b0.output, requestNo: i } };
    baseline.push(layout.startsWith('no shared') ? { ...b, correlationId: `b-${i}` } : b);
    if (rng() < 0.3) {
      const c = { ...all.candidate[i]!, output: { ...all.candidate[i]!.output, requestNo: i } };
      candidate.push(layout.startsWith('no shared') ? { ...c, correlationId: `c-${i}` } : c);
    }
  });
  const winStart = t0 + 60_000;
  const winEnd = t0 + 120_000;
  const batched = layout.includes('batched') || layout.startsWith('no shared');
  const rowIds = layout === 'batched lines, row id columns';
  const write = (reqs: CollectedRequest[], dep: string, windowMs: number) => (batched ? batchedLines(reqs, { windowMs, deployment: dep, rowIds }) : linesPerRequest(reqs, dep));
  const b = write(baseline, 'blue', 200);
  const c = write(candidate, 'green', 150);
  const inWin = (u: { time: number }) => u.time >= winStart && u.time < winEnd;
  const side = (x: { inputs: string; outputs: string }) => ({
    inputs: parseCollectedLines(x.inputs, { collection: 'model_inputs' }).units.filter(inWin),
    outputs: parseCollectedLines(x.outputs, { collection: 'model_outputs' }).units.filter(inWin),
  });
  const cs = side(c);
  const s = pairPredictions(side(b), cs, { label: steps('requestNo'), joinWindowMs: 2000 });
  return { mirrored: cs.outputs.length, joined: s.pairs.joined, byClientRequestId: s.pairs.byClientRequestId, byCorrelationId: s.pairs.byCorrelationId, byPayloadHash: s.pairs.byPayloadHash, idConflicts: s.pairs.idConflicts, wrongPairs: s.labels.disagreements };
}

if (!readOnly) log(`join share: ${LAYOUTS.length} layouts × ${JOIN_SEEDS} seeds`);
const joinRows: JoinRow[] = (readOnly ? [] : LAYOUTS).map((layout) => {
  const acc = { mirrored: 0, joined: 0, byClientRequestId: 0, byCorrelationId: 0, byPayloadHash: 0, idConflicts: 0, wrongPairs: 0 };
  for (let i = 0; i < JOIN_SEEDS; i++) {
    const r = joinShare(layout, SEED + i);
    for (const k of Object.keys(acc) as (keyof typeof acc)[]) acc[k] += r[k];
  }
  const stripped = layout.startsWith('client ids stripped') || layout.startsWith('no shared');
  return { layout, target: stripped ? '≥ 98%' : '≥ 99.5%', ...acc, share: acc.joined / acc.mirrored };
});
for (const r of joinRows) log(`  ${r.layout}: ${(100 * r.share).toFixed(2)}% of ${r.mirrored} (client ${r.byClientRequestId}, correlation ${r.byCorrelationId}, hash ${r.byPayloadHash}, conflicts ${r.idConflicts}, wrong pairs ${r.wrongPairs})`);

// ───────────────────────────── 2. detection ─────────────────────────────

interface DetectionRow {
  scenario: string;
  rate: number;
  runs: number;
  decided: string;
  /** Pairs until the decision, per run (null: not within the cap). */
  median: number | null;
  p95: number | null;
  withinTarget: number;
  target: string;
  otherDecision: number;
}

function pairsUntil(rate: number, want: 'fail' | 'pass', seed: number, cap: number): { at: number | null; other: boolean } {
  const rng = seededRandom(seed);
  let s = startDisagreementTest({ maxDisagreement: 0.02 });
  for (let n = 0; n < cap; n += LOOK_EVERY) {
    let x = 0;
    for (let i = 0; i < LOOK_EVERY; i++) if (rng() < rate) x++;
    s = addDisagreementWindow(s, { pairs: LOOK_EVERY, disagreements: x });
    const v = disagreementVerdict(s, { alpha: ALPHA });
    if (v.decision === want) return { at: s.pairs, other: false };
    if (v.decision !== 'inconclusive') return { at: null, other: true };
  }
  return { at: null, other: false };
}

function detection(scenario: string, rate: number, want: 'fail' | 'pass', targetPairs: number, target: string, seed0: number, cap = 20_000): DetectionRow {
  const at: (number | null)[] = [];
  let other = 0;
  for (let r = 0; r < RUNS; r++) {
    const x = pairsUntil(rate, want, seed0 + r, cap);
    at.push(x.at);
    if (x.other) other++;
  }
  const decided = at.filter((x): x is number => x !== null);
  const sorted = at.map((x) => x ?? Infinity);
  const p = (q: number) => {
    const v = percentile(sorted, q);
    return Number.isFinite(v) ? v : null;
  };
  return { scenario, rate, runs: RUNS, decided: want, median: p(50), p95: p(95), withinTarget: decided.filter((x) => x <= targetPairs).length / RUNS, target, otherDecision: other };
}

if (!readOnly) log(`detection: ${RUNS} runs per scenario, α = ${ALPHA}, a look every ${LOOK_EVERY} pairs`);
const detectionRows: DetectionRow[] = readOnly ? [] : [
  detection('candidate disagrees on 5% vs maxDisagreement 2%', 0.05, 'fail', 1000, 'fails within ≤ 1,000 pairs in ≥ 95% of runs', SEED + 10_000),
  detection('identical model (0% disagreement)', 0, 'pass', 400, 'passes within ≤ 400 pairs', SEED + 20_000),
  detection('candidate at 1% (half the tolerance)', 0.01, 'pass', 2000, '(context) passes', SEED + 30_000),
  detection('candidate at exactly 2% (false alarms: fails within 20,000 pairs)', 0.02, 'fail', 20_000, `≤ α = ${ALPHA} of runs`, SEED + 40_000),
];
for (const r of detectionRows) log(`  ${r.scenario}: ${r.decided} median ${r.median ?? '—'} pairs, p95 ${r.p95 ?? '—'}; within target ${(100 * r.withinTarget).toFixed(1)}%; other decision ${r.otherDecision}`);

// ───────────────────────────── 3. read cost ─────────────────────────────

interface ReadRow {
  lines: number;
  repeat: number;
  ms: number;
  /** CPU time (user + system) of the reader process during the call: what the work costs when the cores are shared. */
  cpuMs: number;
  timings: { listMs: number; readMs: number; parseMs: number; pairMs: number };
  rssBeforeMiB: number;
  peakRssMiB: number;
  peakRssDeltaMiB: number;
  peakHeapDeltaMiB: number;
  joined: number;
  blobs: number;
  bytesMiB: number;
}

/** The load average (1 / 5 / 15 min) when the reader child started. */
let loadAverageAtRead: number[] = [];

async function readCost(): Promise<ReadRow[]> {
  const az = await startAzuriteBlob();
  try {
    const container = az.client.getContainerClient('azureml-blobstore-bench');
    await container.create();
    const requests = Math.round(LINES / 4); // each request: an inputs and an outputs line on each side
    const t0 = Date.parse('2026-11-26T10:00:00Z');
    const t = mirroredTraffic({ n: requests, seed: SEED, flip: 0.05, startMs: t0, ratePerSecond: requests / 3500 });
    log(`read cost: writing ${LINES} lines (${requests} mirrored requests, one hour) to Azurite`);
    for (const [dep, reqs] of [['blue', t.baseline], ['green', t.candidate]] as const) {
      const lines = linesPerRequest(reqs, dep);
      for (const [collection, text] of [['model_inputs', lines.inputs], ['model_outputs', lines.outputs]] as const) {
        // Two instances, as two replicas of a deployment would write.
        const all = text.split('\n').filter(Boolean);
        for (const inst of [0, 1]) {
          const body = all.filter((_, i) => i % 2 === inst).join('\n') + '\n';
          await container.getBlockBlobClient(`modelDataCollector/ep/${dep}/${collection}/2026/11/26/10/instance-${inst}.jsonl`).upload(body, Buffer.byteLength(body));
        }
      }
    }
    // The analysis runs in a child process of its own (bench/lib/predictions-read.ts): its memory is the
    // analysis's, not this process's fixtures'.
    loadAverageAtRead = os.loadavg();
    const profile = CPU_PROF_DIR !== undefined ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF_DIR] : [];
    const child = spawnSync(process.execPath, ['--expose-gc', ...profile, '--import', 'tsx', new URL('./lib/predictions-read.ts', import.meta.url).pathname, az.blobEndpoint, 'azureml-blobstore-bench', String(READ_REPEATS)], { encoding: 'utf8', timeout: 600_000 });
    if (child.status !== 0) throw new Error(`predictions-read failed (${child.status}): ${child.stderr.slice(-2000)}`);
    const measured = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as { ms: number; cpuMs: number; timings: { listMs: number; readMs: number; parseMs: number; pairMs: number }; rssBefore: number; peakRss: number; heapBefore: number; peakHeap: number; lines: number; blobs: number; bytes: number; joined: number }[];
    const mib = (b: number) => Math.round((b / 2 ** 20) * 10) / 10;
    const rows: ReadRow[] = measured.map((x, i) => ({ lines: x.lines, repeat: i + 1, ms: Math.round(x.ms), cpuMs: Math.round(x.cpuMs), timings: x.timings, rssBeforeMiB: mib(x.rssBefore), peakRssMiB: mib(x.peakRss), peakRssDeltaMiB: mib(x.peakRss - x.rssBefore), peakHeapDeltaMiB: mib(x.peakHeap - x.heapBefore), joined: x.joined, blobs: x.blobs, bytesMiB: mib(x.bytes) }));
    for (const r of rows) log(`  repeat ${r.repeat}: ${r.lines} lines in ${r.ms} ms (CPU ${r.cpuMs} ms; list ${r.timings.listMs}, download+parse ${r.timings.readMs} of which parse ${r.timings.parseMs}, pair ${r.timings.pairMs}), RSS ${r.rssBeforeMiB} → peak ${r.peakRssMiB} MiB (+${r.peakRssDeltaMiB}), heap +${r.peakHeapDeltaMiB} MiB, ${r.joined} pairs`);
    return rows;
  } finally {
    await az.stop();
  }
}

const readRows = await readCost();
const seconds = (Date.now() - started) / 1000;

// ───────────────────────────── results ─────────────────────────────

const m = machine();
const pct = (x: number, d = 1) => `${(100 * x).toFixed(d)}%`;
const met = (ok: boolean) => (ok ? 'met' : '**MISSED**');
const joinTarget = (r: JoinRow) => r.share >= (r.target === '≥ 98%' ? 0.98 : 0.995);
const worstRead = readRows.reduce((a, r) => (r.ms > a.ms ? r : a), readRows[0]!);
const maxRss = Math.max(...readRows.map((r) => r.peakRssDeltaMiB));
const maxHeap = Math.max(...readRows.map((r) => r.peakHeapDeltaMiB));
const maxAbsRss = Math.max(...readRows.map((r) => r.peakRssMiB));
const readTarget = `| reading and joining ${LINES.toLocaleString('en-US')} collected lines ≤ 2 s and ≤ 200 MiB | slowest of ${readRows.length}: ${worstRead.ms} ms; the analysis's peak RSS growth ${maxRss} MiB (heap growth ${maxHeap} MiB; the whole reader process peaked at ${maxAbsRss} MiB)${before.map((b) => `; before (${beforeLabel(b)}): slowest ${Math.max(...b.read.map((r) => r.ms))} ms, RSS growth ≤ ${Math.max(...b.read.map((r) => r.peakRssDeltaMiB))} MiB`).join('')} | ${met(worstRead.ms <= 2000 && maxRss <= 200)} |`;

/** Sections 1 and 2 (not run with `--only read`). */
function monteCarloSections(): { targets: string; sections: string } {
  const fail5 = detectionRows[0]!;
  const pass0 = detectionRows[1]!;
  const falseAlarm = detectionRows[3]!;
  const targets = `| share of mirrored pairs joined ≥ 99.5% (with client request ids) | ${joinRows.filter((r) => r.target === '≥ 99.5%').map((r) => `${r.layout}: ${pct(r.share, 2)}`).join('; ')} | ${joinRows.filter((r) => r.target === '≥ 99.5%').map((r) => met(joinTarget(r))).join(' / ')} |
| ≥ 98% with client request ids stripped (fallbacks) | ${joinRows.filter((r) => r.target === '≥ 98%').map((r) => `${r.layout}: ${pct(r.share, 2)}`).join('; ')} | ${joinRows.filter((r) => r.target === '≥ 98%').map((r) => met(joinTarget(r))).join(' / ')} |
| 5% disagreement vs 2% tolerance fails within ≤ 1,000 pairs in 95% of runs | ${pct(fail5.withinTarget)} of ${fail5.runs} runs (median ${fail5.median}, p95 ${fail5.p95} pairs) | ${met(fail5.withinTarget >= 0.95)} |
| identical model passes within ≤ 400 pairs | ${pct(pass0.withinTarget)} of ${pass0.runs} runs (at ${pass0.median} pairs: 0 disagreements can pass no sooner at α = ${ALPHA}) | ${met(pass0.withinTarget >= 0.999)} |
`;
  const sections = `## 1. Join share

Seeded mirrored traffic: 9,000 live requests at 50 req/s (3 minutes), 30% mirrored; the mirror's copy is
collected 0–300 ms after the live one; the analysis window is the middle minute. Batched layouts put
requests within 200 ms (baseline) / 150 ms (candidate) into one line, as Azure's collector batches
"requests sent within short time intervals", so the two sides batch differently. "Line ids only": rows
carry no id columns, so a batched line's correlation id names only its first request. ${JOIN_SEEDS} seeds per row.
"Wrong pairs" joins two different requests (measured with a request number in each output, the bench's
ground truth).

| layout | target | mirrored | joined | share | by client id | by correlation id | by payload hash | id joins refused | wrong pairs |
|---|---|---:|---:|---:|---:|---:|---:|---:|---:|
${joinRows.map((r) => `| ${r.layout} | ${r.target} | ${r.mirrored} | ${r.joined} | ${pct(r.share, 2)} | ${r.byClientRequestId} | ${r.byCorrelationId} | ${r.byPayloadHash} | ${r.idConflicts} | ${r.wrongPairs} |`).join('\n')}

Unjoined pairs are mirrored copies whose live twin was collected before the window started (the copy
lands up to 300 ms later): an edge effect of cutting time into windows, not a failed join.

## 2. Detection (the disagreement test)

Seeded Bernoulli disagreements, a look every ${LOOK_EVERY} pairs, α = ${ALPHA} (the default budget, one gate:
fail at 1/α = ${1 / ALPHA}, pass at 1/α), maxDisagreement 2%; ${RUNS} runs per row, each capped at 20,000 pairs.

| scenario | decision looked for | median pairs | p95 pairs | within target | target | opposite decision |
|---|---|---:|---:|---:|---|---:|
${detectionRows.map((r) => `| ${r.scenario} | ${r.decided} | ${r.median ?? '—'} | ${r.p95 ?? '—'} | ${pct(r.withinTarget)} | ${r.target} | ${r.otherDecision} |`).join('\n')}

False alarms at exactly the tolerance: ${pct(falseAlarm.withinTarget, 2)} of runs failed within 20,000 pairs (the bound is α = ${ALPHA}).
`;
  return { targets, sections: sections + '\n' };
}
/** Section 3's table; with `run`, a first column naming the run. */
function readTable(rows: ReadRow[], run: string | null): string {
  const head = `${run ? '| run ' : ''}| repeat | lines | wall ms | CPU ms | list / download+parse (parse) / pair ms | RSS before MiB | peak RSS MiB | RSS growth MiB | heap growth MiB | pairs joined |\n${run ? '|---' : ''}|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|`;
  return [head, ...rows.map((r) => `${run ? `| ${run} ` : ''}| ${r.repeat} | ${r.lines} | ${r.ms} | ${r.cpuMs} | ${r.timings.listMs} / ${r.timings.readMs} (${r.timings.parseMs}) / ${r.timings.pairMs} | ${r.rssBeforeMiB} | ${r.peakRssMiB} | ${r.peakRssDeltaMiB} | ${r.peakHeapDeltaMiB} | ${r.joined} |`)].join('\n');
}
const mc = readOnly ? { targets: '', sections: '' } : monteCarloSections();

const md = `# Prediction pairs benchmark${readOnly ? ' (read cost only)' : ''}${quick ? ' (quick)' : ''}

${machineLine(m)}

Command: \`${command('predictions')}\` · seed ${SEED} · ${seconds.toFixed(0)} s in all.${readOnly ? ' Sections 1 and 2 (join share, detection) were not run (`--only read`).' : ''}

## Targets (issue 16 item 6)

| target | measured | |
|---|---|---|
${mc.targets}${readTarget}

${mc.sections}## 3. Read cost (readPredictionPairs against Azurite)

${LINES.toLocaleString('en-US')} lines in all (${Math.round(LINES / 4).toLocaleString('en-US')} mirrored requests × 2 deployments × inputs and outputs), one hour folder, two instance blobs per
collection (8 blobs, ${worstRead.bytesMiB} MiB); Azurite is a separate process (its memory is not counted). The analysis runs in a
process of its own (bench/lib/predictions-read.ts, as on a worker: the activity with its client factory); wall time includes
listing, downloading, parsing, joining and aggregating. Memory: that process's resident set, sampled every 5 ms; growth
is over the value just before the call (after a GC), "peak" the whole process (Node, tsx, the Azure SDK, the activity).

${readTable(readRows, before.length ? (LABEL ?? 'this run') : null)}
${before
  .map(
    (b) => `
Before: ${beforeLabel(b)} — \`${b.command}\`, Node ${b.machine.node}, ${b.loadAverageAtRead ? `load average when its reader started ${b.loadAverageAtRead.map((x) => x.toFixed(1)).join(' / ')}` : `load average at its end ${b.machine.loadAverageAtEnd.map((x) => x.toFixed(1)).join(' / ')}`} (${b.file}):

${readTable(b.read, beforeLabel(b))}
`,
  )
  .join('')}
Load average when the reader started: ${loadAverageAtRead.map((x) => x.toFixed(1)).join(' / ')}; when the benchmark ended: ${m.loadAverageAtEnd.map((x) => x.toFixed(1)).join(' / ')} on ${m.cpuCount} cores. Wall time
on a machine this loaded is not the time on an idle worker; the CPU time of the reader (which excludes Azurite's) is the
better estimate of the work, and is reported beside it. The target is judged on wall time.
`;

writeResults(`predictions${readOnly ? '-read' : ''}${quick ? '-quick' : ''}`, { machine: m, command: command('predictions'), ...(LABEL !== undefined ? { label: LABEL } : {}), seed: SEED, quick, only: ONLY ?? null, seconds, alpha: ALPHA, lookEvery: LOOK_EVERY, join: joinRows, detection: detectionRows, loadAverageAtRead, read: readRows, before: before.map((b) => ({ file: b.file, label: b.label ?? null, command: b.command, node: b.machine.node, loadAverageAtRead: b.loadAverageAtRead ?? null, loadAverageAtEnd: b.machine.loadAverageAtEnd, read: b.read })) }, md);
console.log(md);
