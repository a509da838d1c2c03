// Detection benchmark (issue 14 item 2): seeded synthetic streams fed, side by side, to Glidepath's
// sequential judge, naive repeated z-tests, Flagger-style threshold-per-interval rules (documented defaults,
// and calibrated to Glidepath's false-alarm rate) and a Kayenta-style Mann-Whitney judge at a fixed
// horizon. The model and each method's rules: bench/lib/judge-bench.ts. No emulator, no Temporal.
//
//   npm run bench -- judge            full grid (≥ 1,000 no-effect and 300 runs per effect per cell)
//   npm run bench -- judge --quick    the same grid with few runs (under a minute); writes judge-quick.*
//   flags: --seed N  --runs N (no-effect runs)  --effect-runs N  --rates 0.2,1,10,50  --bake 3600
import { writeFileSync } from 'node:fs';
import { EFFECTS, FLAGGER, KAYENTA, LATENCY, LOOK_SECONDS, INTERVAL_SECONDS, METHODS, TOLERANCES, runGrid, type BenchConfig, type CellResult, type GridResult, type Method } from './lib/judge-bench.js';
import { benchFlags, benchRoot, command, machine, machineLine, writeResults } from './lib/support.js';

const { quick, arg, num } = benchFlags();
const cfg: BenchConfig = {
  rates: (arg('rates') ?? '0.2,1,10,50').split(',').map(Number),
  baseline5xx: [0.001, 0.005],
  effects: EFFECTS,
  noEffectRuns: num('runs', quick ? 20 : 1000),
  effectRuns: num('effect-runs', quick ? 8 : 300),
  bakeSeconds: num('bake', 3600),
  seed: num('seed', 20261125),
  alpha: 0.01,
};
if (cfg.rates.some((r) => !(r > 0))) {
  console.error(`--rates must be positive numbers separated by commas (got "${arg('rates')}")`);
  process.exit(2);
}

const METHOD_LABEL: Record<Method, string> = {
  glidepath: 'Glidepath (sequential judge)',
  'glidepath-unpaired': 'Glidepath, unpaired latency counts',
  naive: 'naive z-test every look',
  'flagger-default': 'Flagger defaults',
  'flagger-calibrated': 'Flagger-style, calibrated',
  kayenta: 'Kayenta-style Mann-Whitney (fixed horizon)',
};
const SHORT: Record<Method, string> = { glidepath: 'Glidepath', 'glidepath-unpaired': 'Glidepath unpaired', naive: 'naive z-test', 'flagger-default': 'Flagger defaults', 'flagger-calibrated': 'Flagger calibrated', kayenta: 'Kayenta-style' };
const COLOR: Record<Method, string> = { glidepath: '#1f77b4', 'glidepath-unpaired': '#17becf', naive: '#d62728', 'flagger-default': '#ff7f0e', 'flagger-calibrated': '#2ca02c', kayenta: '#9467bd' };

const started = Date.now();
const result: GridResult = runGrid(cfg, (msg) => console.log(`${((Date.now() - started) / 1000).toFixed(0)}s ${msg}`));
const seconds = (Date.now() - started) / 1000;

const pct = (x: number) => `${(100 * x).toFixed(x < 0.01 && x > 0 ? 2 : 1)}%`;
const secs = (x: number | null | undefined) => (x === null || x === undefined ? '—' : x >= 600 ? `${(x / 60).toFixed(0)} min` : `${x} s`);
const cellOf = (rps: number, b: number, effect: string): CellResult => result.cells.find((c) => c.rps === rps && c.baseline5xx === b && c.effect === effect)!;

// ───────────── targets (10 req/s, α = 0.01) ─────────────
interface Target { target: string; value: string; met: boolean | null }
const targets: Target[] = [];
{
  const fa = result.cells.filter((c) => c.effect === 'none').map((c) => c.methods.glidepath);
  const worst = Math.max(...fa.map((m) => m.failShare));
  const runs = Math.min(...fa.map((m) => m.runs));
  targets.push({ target: 'false alarms ≤ 1% per bake at every rate (≥ 1,000 no-effect runs)', value: `worst cell ${pct(worst)} over ${runs} runs`, met: runs >= 1000 ? worst <= 0.01 : null });
  const median = (effect: string, limit: number, label: string) => {
    for (const b of cfg.baseline5xx) {
      const c = cfg.rates.includes(10) ? cellOf(10, b, effect) : undefined;
      if (!c) continue;
      const p50 = c.methods.glidepath.detectP50;
      const u = c.methods['glidepath-unpaired'].detectP50;
      const unpairedNote = u === p50 ? '' : ` (unpaired latency counts: ${u === null ? 'not in half the runs' : secs(u)})`;
      targets.push({ target: `${label}: median detection ≤ ${secs(limit)} (baseline 5xx ${pct(b)})`, value: `${p50 === null ? 'not detected in half the runs' : secs(p50)}${unpairedNote}`, met: p50 !== null && p50 <= limit });
    }
  };
  median('crash', 5, 'crash');
  median('errors-4x', 120, '5xx 4×');
  median('latency+25%', 30, 'latency +25%');
  median('tail-2%+300ms', 90, '2% of requests +300 ms');
  const faster = (effect: string, label: string) => {
    for (const b of cfg.baseline5xx) {
      const c = cfg.rates.includes(10) ? cellOf(10, b, effect) : undefined;
      if (!c) continue;
      const g = c.methods.glidepath.detectP50;
      const f = c.methods['flagger-calibrated'].detectP50;
      const ratio = g === null ? null : f === null ? Infinity : f / g;
      targets.push({
        target: `${label}: ≥ 3× faster than calibrated Flagger-style (median; baseline 5xx ${pct(b)})`,
        value: ratio === null ? `Glidepath not detected in half the runs (Flagger ${secs(f)})` : ratio === Infinity ? `Glidepath ${secs(g)}, Flagger not in half the runs` : `${ratio.toFixed(1)}× (${secs(g)} vs ${secs(f)})`,
        met: ratio === null ? false : ratio >= 3,
      });
    }
  };
  faster('errors-4x', '5xx 4×');
  faster('latency+25%', 'latency +25%');
}

// ───────────── JSON ─────────────
const m = machine();
const cmd = command('judge');
const json = {
  benchmark: 'judge',
  schemaVersion: 1,
  quick,
  date: new Date().toISOString(),
  command: cmd,
  seed: cfg.seed,
  durationSeconds: Math.round(seconds),
  machine: m,
  config: {
    rates: cfg.rates,
    baseline5xx: cfg.baseline5xx,
    effects: cfg.effects,
    noEffectRuns: cfg.noEffectRuns,
    effectRuns: cfg.effectRuns,
    bakeSeconds: cfg.bakeSeconds,
    alpha: cfg.alpha,
    lookSeconds: LOOK_SECONDS,
    intervalSeconds: INTERVAL_SECONDS,
    traffic: 'mirrored: candidate and baseline each serve the cell rate',
    latency: LATENCY,
    glidepath: { tolerances: TOLERANCES, gates: ['5xx', 'latency p50', 'latency p90', 'latency p99'], thresholdsFrom: `${LATENCY.preRolloutRequests} pre-rollout baseline requests` },
    flagger: FLAGGER,
    kayenta: KAYENTA,
  },
  targets,
  calibration: result.calibration,
  smallestDetectable: result.smallestDetectable,
  cells: result.cells,
};

// ───────────── markdown ─────────────
const lines: string[] = [];
lines.push(`# Detection benchmark: Glidepath's judge vs Flagger, naive and Kayenta rules${quick ? ' (QUICK MODE: few runs, figures are rough)' : ''}`, '');
lines.push(`Command: \`${cmd}\` · seed ${cfg.seed} · ${cfg.noEffectRuns} no-effect runs and ${cfg.effectRuns} runs per effect per cell · ${cfg.bakeSeconds / 60}-minute bake · α = ${cfg.alpha} · took ${Math.round(seconds)} s · ${json.date}`, '');
lines.push(machineLine(m), '');
lines.push('Model and rules: `bench/lib/judge-bench.ts` (top comment) and `bench/README.md`. Mirrored traffic (each side serves the cell rate); latency lognormal, median 100 ms, σ 0.5 (p99 ≈ 320 ms); Glidepath looks every 10 s with gates 5xx (tolerance 1.25×) and latency exceedances above the baseline p50/p90/p99 (candidate counted above 1.05 × each), as paired counts (request i of each side, discordant pairs: `pairedExceedanceWindow`) — "unpaired" is the same judge fed each side\'s exceedances (`exceedanceWindow`); naive = one-sided z-test per gate every 10 s at α/4; Flagger = 1-minute checks, 5 failed checks roll back; Kayenta = one Mann-Whitney judgement at the end of the bake on 1-minute points. Detection times: nearest-rank over all runs, a run that never failed counting as "never" (— = fewer than half / 5% of runs detected).', '');
lines.push('## Targets (10 req/s, α = 0.01)', '', '| target | measured | |', '|---|---|---|');
for (const t of targets) lines.push(`| ${t.target} | ${t.value} | ${t.met === null ? 'not measurable (quick mode: too few runs)' : t.met ? 'met' : '**missed**'} |`);
lines.push('');
lines.push('## False alarms per bake (no-effect runs)', '', `| rate | baseline 5xx | ${METHODS.map((x) => METHOD_LABEL[x]).join(' | ')} | Glidepath early pass (share, p50) | Glidepath could detect ≥ (5xx, end of bake, median) |`, `|---|---|${METHODS.map(() => '---|').join('')}---|---|`);
for (const rps of cfg.rates) {
  for (const b of cfg.baseline5xx) {
    const c = cellOf(rps, b, 'none');
    const g = c.methods.glidepath;
    lines.push(`| ${rps}/s | ${pct(b)} | ${METHODS.map((x) => `${pct(c.methods[x].failShare)} (${c.methods[x].fails}/${c.methods[x].runs})`).join(' | ')} | ${pct((g.earlyPasses ?? 0) / g.runs)}, ${secs(g.earlyPassP50)} | ${c.glidepathDetectableRatioP50 ? `${c.glidepathDetectableRatioP50.toFixed(2)}×` : '—'} |`);
  }
}
lines.push('');
lines.push('## Detection per effect: detected within the bake · time to detect p50 / p95', '');
for (const rps of cfg.rates) {
  for (const b of cfg.baseline5xx) {
    lines.push(`### ${rps} req/s, baseline 5xx ${pct(b)}`, '', `| effect | ${METHODS.map((x) => METHOD_LABEL[x]).join(' | ')} |`, `|---|${METHODS.map(() => '---|').join('')}`);
    for (const e of cfg.effects.filter((x) => x.kind !== 'none')) {
      const c = cellOf(rps, b, e.id);
      lines.push(`| ${e.label} | ${METHODS.map((x) => `${pct(c.methods[x].failShare)} · ${secs(c.methods[x].detectP50)} / ${secs(c.methods[x].detectP95)}`).join(' | ')} |`);
    }
    lines.push('');
  }
}
lines.push('## Smallest effect detected in ≥ 90% of runs within the bake', '', '| method | rate | baseline 5xx | 5xx ratio | latency shift |', '|---|---|---|---|---|');
for (const s of result.smallestDetectable) lines.push(`| ${METHOD_LABEL[s.method]} | ${s.rps}/s | ${pct(s.baseline5xx)} | ${s.errorsRatio === null ? 'none of 1.5×/2×/4×' : `${s.errorsRatio}×`} | ${s.latencyShift === null ? 'none of +10%/+25%' : `+${Math.round((s.latencyShift - 1) * 100)}%`} |`);
lines.push('');
lines.push('## Flagger-style calibration (relative checks, 5 failed 1-minute checks roll back)', '', '| rate | baseline 5xx | Glidepath false alarms (target) | calibrated rule false alarms | 5xx share increase > | p99 ratio > |', '|---|---|---|---|---|---|');
for (const c of result.calibration) lines.push(`| ${c.rps}/s | ${pct(c.baseline5xx)} | ${c.targetAlarms} | ${c.achievedAlarms} | ${(c.thresholds.errorShareIncrease * 100).toFixed(3)} pp | ${c.thresholds.p99Ratio.toFixed(3)} |`);
lines.push('', `![detection time vs effect; false alarms per method](${quick ? 'judge-quick' : 'judge'}.svg)`, '');

// ───────────── SVG ─────────────
function svg(): string {
  const W = 980;
  const H = 420;
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`, `<rect width="${W}" height="${H}" fill="white"/>`];
  const rate = cfg.rates.includes(10) ? 10 : cfg.rates[0]!;
  const b = cfg.baseline5xx[cfg.baseline5xx.length - 1]!;
  // Panel 1: median detection time vs effect.
  const effects = cfg.effects.filter((e) => e.kind !== 'none');
  const x0 = 60, y0 = 40, pw = 520, ph = 300;
  const tMin = Math.log10(5), tMax = Math.log10(cfg.bakeSeconds * 1.6);
  const yOf = (t: number | null) => (t === null ? y0 : y0 + ph - ((Math.log10(t) - tMin) / (tMax - tMin)) * ph);
  const xOf = (i: number) => x0 + 20 + (i * (pw - 40)) / (effects.length - 1);
  out.push(`<text x="${x0}" y="20" font-size="13">Median time to detect, ${rate} req/s, baseline 5xx ${pct(b)} (top row = not detected in half the runs)</text>`);
  out.push(`<rect x="${x0}" y="${y0}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  for (const t of [10, 30, 60, 120, 300, 600, 1800, 3600]) {
    if (t > cfg.bakeSeconds) continue;
    out.push(`<line x1="${x0}" x2="${x0 + pw}" y1="${yOf(t)}" y2="${yOf(t)}" stroke="#eee"/><text x="${x0 - 5}" y="${yOf(t) + 4}" text-anchor="end">${secs(t)}</text>`);
  }
  out.push(`<text x="${x0 - 5}" y="${y0 + 4}" text-anchor="end">never</text>`);
  effects.forEach((e, i) => out.push(`<text x="${xOf(i)}" y="${y0 + ph + 16}" text-anchor="middle" font-size="10">${e.label.replace('(100% 5xx)', '').replace('2% of requests', '2% req')}</text>`));
  METHODS.forEach((mth, k) => {
    const pts = effects.map((e, i) => `${xOf(i) + (k - 2) * 2},${yOf(cellOf(rate, b, e.id).methods[mth].detectP50)}`);
    out.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${COLOR[mth]}" stroke-width="2"/>`);
    for (const p of pts) out.push(`<circle cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="3" fill="${COLOR[mth]}"/>`);
    out.push(`<rect x="${x0 + 10}" y="${y0 + ph + 30 + k * 0}" width="0" height="0"/>`);
  });
  // Panel 2: false alarms per method and rate.
  const x1 = 640, pw2 = 320;
  const fMax = Math.max(0.02, ...result.cells.filter((c) => c.effect === 'none').flatMap((c) => METHODS.map((x) => c.methods[x].failShare)));
  const top = Math.min(1, Math.ceil(fMax * 10) / 10 || 0.1);
  out.push(`<text x="${x1}" y="20" font-size="13">False alarms per bake, baseline 5xx ${pct(b)}</text>`);
  out.push(`<rect x="${x1}" y="${y0}" width="${pw2}" height="${ph}" fill="none" stroke="#888"/>`);
  const fy = (f: number) => y0 + ph - (f / top) * ph;
  for (const f of [0, top / 4, top / 2, (3 * top) / 4, top]) out.push(`<line x1="${x1}" x2="${x1 + pw2}" y1="${fy(f)}" y2="${fy(f)}" stroke="#eee"/><text x="${x1 - 4}" y="${fy(f) + 4}" text-anchor="end">${pct(f)}</text>`);
  out.push(`<line x1="${x1}" x2="${x1 + pw2}" y1="${fy(0.01)}" y2="${fy(0.01)}" stroke="#000" stroke-dasharray="4 3"/><text x="${x1 + pw2 - 2}" y="${fy(0.01) - 3}" text-anchor="end">α = 1%</text>`);
  const group = pw2 / cfg.rates.length;
  const bw = (group - 12) / METHODS.length;
  cfg.rates.forEach((r, ri) => {
    const c = cellOf(r, b, 'none');
    METHODS.forEach((mth, k) => {
      const f = c.methods[mth].failShare;
      out.push(`<rect x="${x1 + ri * group + 6 + k * bw}" y="${fy(f)}" width="${bw - 1}" height="${y0 + ph - fy(f)}" fill="${COLOR[mth]}"/>`);
    });
    out.push(`<text x="${x1 + ri * group + group / 2}" y="${y0 + ph + 16}" text-anchor="middle">${r} req/s</text>`);
  });
  METHODS.forEach((mth, k) => out.push(`<rect x="${60 + k * 150}" y="${H - 40}" width="12" height="12" fill="${COLOR[mth]}"/><text x="${76 + k * 150}" y="${H - 30}">${SHORT[mth]}</text>`));
  out.push(`<text x="60" y="${H - 10}" fill="#555">${quick ? 'QUICK MODE (few runs). ' : ''}seed ${cfg.seed}; ${cfg.noEffectRuns} no-effect / ${cfg.effectRuns} effect runs per cell; bench/results/judge.md</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

const outName = quick ? 'judge-quick' : 'judge';
writeResults(outName, json, `${lines.join('\n')}\n`);
writeFileSync(`${benchRoot}bench/results/${outName}.svg`, svg());
console.log(`wrote bench/results/${outName}.svg`);
for (const t of targets) console.log(`${t.met === null ? 'n/a   ' : t.met ? 'met   ' : 'MISSED'} ${t.target}: ${t.value}`);
