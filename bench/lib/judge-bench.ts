// The detection benchmark's engine (bench/judge.ts runs it; test/domain/judge-bench.test.ts checks it on a
// tiny grid): seeded synthetic request streams fed, side by side, to Glidepath's sequential judge and to
// the rules other tools use. Pure computation: no emulator, no Temporal, no clock.
//
// Stream model (per run, one cell = request rate × baseline 5xx share, one effect):
// - mirrored traffic: candidate and baseline each serve `rps` requests per second, a fixed count per
//   10-second window (at 0.2 req/s: 2 per window);
// - 5xx: each request fails independently, baseline with the cell's share, candidate with that × the
//   effect's ratio (crash: every candidate request fails);
// - latency: per request, lognormal with median 100 ms and σ = 0.5 (p90 ≈ 190 ms, p99 ≈ 320 ms); a
//   latency effect multiplies every candidate latency (+10%, +25%) or adds 300 ms to 2% of the
//   candidate's requests; errors and latency are independent.
// How each method sees the stream:
// - Glidepath: every 10 s, the judge (domain/judge) with 4 gates — 5xx counts (tolerance 1.25×), and
//   exceedance counts above the baseline's p50, p90, p99 frozen from 1,000 pre-rollout baseline
//   requests (candidate counted above 1.05 × the threshold: "5% slower is fine"); α = 0.01 per bake.
//   "glidepath" feeds the latency gates paired counts (pairedExceedanceWindow: request i of each side,
//   discordant pairs only); "glidepath-unpaired" feeds each side's exceedances (exceedanceWindow).
// - Naive: every 10 s, a one-sided two-proportion z-test per gate on the cumulative counts (5xx; requests
//   above each frozen threshold, no tolerance) at α/4 per gate — α split over gates, not over looks.
// - Flagger (documented defaults): every 1-minute interval, the candidate's success rate must be ≥ 99%
//   and its p99 latency ≤ 500 ms; a failed check counts, 5 failed checks roll back (threshold: 5).
// - Flagger, calibrated: the same interval/threshold mechanics, but relative checks — candidate 5xx share
//   minus baseline's > kE, candidate p99 / baseline p99 > kL — with (kE, kL) set per cell on the no-effect
//   runs so that it raises no more false alarms than Glidepath did on those same runs (in-sample:
//   optimistic for Flagger).
// - Kayenta (NetflixACAJudge defaults): one judgement at the end of the bake on 1-minute points per side
//   (5xx share, p99 latency); per metric the Mann-Whitney 98% interval of the location shift (Hodges–
//   Lehmann) must lie above 0.25 × |estimate| and the mean ratio above 1 (allowedIncrease 1.0) to be
//   "High"; direction increase; two equally weighted metrics, so one High scores 50 < marginal 75: fail.
//   Simplified: normal-approximation interval without tie correction; Kayenta's IQR outlier removal is
//   not applied (it would drop the rare error minutes at low rates and detect less).
import { addWindow, detectableRatio, judgeLook, parseJudgeSettings, quantileThreshold, startCountTest, startJudge, DEFAULT_GRID, type CountTestState, type CountWindow, type GateObservation, type JudgeSettings } from '../../domain/judge/index.js';
import { binomial, seeded } from '../../test/support/judge-streams.js';

export type EffectKind = 'none' | 'errors' | 'crash' | 'latency' | 'tail';
export interface Effect {
  id: string;
  label: string;
  kind: EffectKind;
  /** errors: 5xx ratio; latency: multiplier; tail: share of requests slowed. */
  size: number;
}

export const EFFECTS: readonly Effect[] = [
  { id: 'none', label: 'no effect', kind: 'none', size: 1 },
  { id: 'errors-1.5x', label: '5xx 1.5×', kind: 'errors', size: 1.5 },
  { id: 'errors-2x', label: '5xx 2×', kind: 'errors', size: 2 },
  { id: 'errors-4x', label: '5xx 4×', kind: 'errors', size: 4 },
  { id: 'crash', label: 'crash (100% 5xx)', kind: 'crash', size: 1 },
  { id: 'latency+10%', label: 'latency +10%', kind: 'latency', size: 1.1 },
  { id: 'latency+25%', label: 'latency +25%', kind: 'latency', size: 1.25 },
  { id: 'tail-2%+300ms', label: '2% of requests +300 ms', kind: 'tail', size: 0.02 },
];

export const METHODS = ['glidepath', 'glidepath-unpaired', 'naive', 'flagger-default', 'flagger-calibrated', 'kayenta'] as const;
export type Method = (typeof METHODS)[number];

export interface BenchConfig {
  rates: number[];
  baseline5xx: number[];
  effects: readonly Effect[];
  noEffectRuns: number;
  effectRuns: number;
  bakeSeconds: number;
  seed: number;
  alpha: number;
}

export const LOOK_SECONDS = 10;
export const INTERVAL_SECONDS = 60;
export const FLAGGER = { interval: '1m', threshold: 5, minSuccessRatePercent: 99, maxP99Ms: 500 } as const;
export const KAYENTA = { confLevel: 0.98, tolerance: 0.25, allowedIncrease: 1.0, marginal: 75, pass: 95 } as const;
export const LATENCY = { medianMs: 100, sigma: 0.5, tailAddMs: 300, preRolloutRequests: 1000 } as const;
export const TOLERANCES = { errorsRatio: 1.25, latencySlowdown: 1.05 } as const;
const QUANTILES = [0.5, 0.9, 0.99] as const;
const GATES = ['5xx', 'latency p50', 'latency p90', 'latency p99'] as const;

export function glidepathSettings(alpha: number): JudgeSettings {
  return parseJudgeSettings({
    falseAlarmBudget: alpha,
    earlyPass: true,
    gates: [{ name: '5xx', tolerance: TOLERANCES.errorsRatio }, ...GATES.slice(1).map((name) => ({ name, tolerance: 1 }))],
  });
}

/** What one run left for the methods: decision times in seconds (null: none within the bake) and the per-interval statistics Flagger-style rules need. */
export interface RunRecord {
  /** Glidepath with paired latency counts (the benchmark's "glidepath"). */
  glidepathFail: number | null;
  glidepathPass: number | null;
  /** Glidepath with unpaired latency counts (each side's exceedances; the method before pairing). */
  glidepathUnpairedFail: number | null;
  glidepathUnpairedPass: number | null;
  /** Glidepath's "could detect ≥ r×" for the 5xx gate at the end of the run (null: cannot say). */
  glidepathDetectable: number | null;
  naiveFail: number | null;
  kayentaFail: number | null;
  /** Per 1-minute interval: candidate 5xx share, baseline 5xx share, candidate p99, baseline p99. */
  intervals: Float64Array;
}

/** Normal draws in pairs (Box–Muller), seeded. */
function normals(rng: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const u = 1 - rng();
    const v = rng();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/** Nearest-rank p-quantile of the first n entries (sorts them in place). */
function sortedQuantile(xs: Float64Array, n: number, p: number): number {
  const view = xs.subarray(0, n);
  view.sort();
  return view[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))]!;
}

const Z = (alpha: number): number => inverseNormal(1 - alpha);

/** Acklam's rational approximation of the standard normal quantile (|error| < 1.2e-9). */
export function inverseNormal(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - lo) return -inverseNormal(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/**
 * Kayenta-style Mann-Whitney classification of one metric, direction "increase": High when the
 * (confLevel) interval of the Hodges–Lehmann shift (experiment − control) lies above tolerance × |estimate|
 * and the mean ratio reaches allowedIncrease. Identical or all-tied data pass, as in Kayenta.
 */
export function kayentaHigh(control: readonly number[], experiment: readonly number[]): boolean {
  const m = experiment.length;
  const n = control.length;
  if (m === 0 || n === 0) return false;
  const distinct = new Set([...control, ...experiment]);
  if (distinct.size === 1) return false;
  const diffs = new Float64Array(m * n);
  let k = 0;
  for (const x of experiment) for (const y of control) diffs[k++] = x - y;
  diffs.sort();
  const mn = m * n;
  const estimate = mn % 2 ? diffs[(mn - 1) / 2]! : (diffs[mn / 2 - 1]! + diffs[mn / 2]!) / 2;
  const z = inverseNormal(1 - (1 - KAYENTA.confLevel) / 2);
  const ca = Math.max(0, Math.floor(mn / 2 - z * Math.sqrt((mn * (m + n + 1)) / 12)));
  const lower = diffs[Math.min(mn - 1, ca)]!;
  const meanC = control.reduce((s, v) => s + v, 0) / n;
  const meanE = experiment.reduce((s, v) => s + v, 0) / m;
  const ratio = meanC === 0 ? 1 : meanE / meanC;
  return lower > KAYENTA.tolerance * Math.abs(estimate) && ratio >= KAYENTA.allowedIncrease;
}

/** One-sided two-proportion z statistic for "candidate's rate > baseline's" on cumulative counts. */
function zStat(xC: number, nC: number, xB: number, nB: number): number {
  const p = (xC + xB) / (nC + nB);
  const se = Math.sqrt(p * (1 - p) * (1 / nC + 1 / nB));
  return se > 0 ? (xC / nC - xB / nB) / se : 0;
}

/** Simulates one run of one cell and effect; every method sees the same requests. */
export function simulateRun(
  rps: number,
  baseline5xx: number,
  effect: Effect,
  seed: number,
  cfg: Pick<BenchConfig, 'bakeSeconds' | 'alpha'>,
  settings: JudgeSettings,
  /** 'judgeLook' drives the judge through its public entry point (slow; the test compares the two). */
  driver: 'count-tests' | 'judgeLook' = 'count-tests',
): RunRecord {
  const rng = seeded(seed);
  const normal = normals(rng);
  const { medianMs, sigma } = LATENCY;
  const latency = () => medianMs * Math.exp(sigma * normal());
  const pre = Array.from({ length: LATENCY.preRolloutRequests }, latency);
  const thresholds = QUANTILES.map((q) => quantileThreshold(pre, q));
  const candThresholds = thresholds.map((t) => t * TOLERANCES.latencySlowdown);
  const perWindow = Math.max(1, Math.round(rps * LOOK_SECONDS));
  const windows = Math.floor(cfg.bakeSeconds / LOOK_SECONDS);
  const windowsPerInterval = INTERVAL_SECONDS / LOOK_SECONDS;
  const intervalsN = Math.floor(windows / windowsPerInterval);
  const perInterval = perWindow * windowsPerInterval;
  const candRate = effect.kind === 'crash' ? 1 : effect.kind === 'errors' ? Math.min(1, baseline5xx * effect.size) : baseline5xx;
  const slow = effect.kind === 'latency' ? effect.size : 1;
  const tail = effect.kind === 'tail' ? effect.size : 0;
  const zNaive = Z(cfg.alpha / GATES.length);

  // The judge's count tests, one per gate, driven exactly as judgeLook drives them (fail at G/α on any
  // gate, early pass when every gate reached 1/α; rejection sticky) but without its per-look wording and
  // detectable-effect search, which cost 10× the arithmetic. test/domain/judge-bench.test.ts checks that
  // the decisions equal judgeLook's.
  const failLog = Math.log(settings.gates.length / settings.falseAlarmBudget);
  const passLog = Math.log(1 / settings.falseAlarmBudget);
  const variant = () => {
    const v = {
      gates: settings.gates.map((g) => startCountTest({ fail: g.tolerance, pass: g.passTolerance, grid: DEFAULT_GRID })) as CountTestState[],
      judgeState: startJudge(settings),
      fail: null as number | null,
      pass: null as number | null,
      look(obs: CountWindow[], t: number) {
        if (v.fail !== null) return; // no-effect runs go on after an early pass, to count any later fail
        if (driver === 'judgeLook') {
          const observations: Record<string, GateObservation> = {};
          settings.gates.forEach((g, i) => (observations[g.name] = { kind: 'window', ...obs[i]! }));
          const r = judgeLook(settings, v.judgeState, observations);
          v.judgeState = r.state;
          v.gates = settings.gates.map((g) => r.state.gates[g.name]!);
          if (r.judgement.status === 'fail') v.fail = t;
          else if (r.judgement.status === 'pass' && v.pass === null) v.pass = t;
        } else {
          v.gates = v.gates.map((g, i) => addWindow(g, obs[i]!, settings.falseAlarmBudget));
          if (v.gates.some((g) => g.maxFailLog >= failLog)) v.fail = t;
          else if (v.pass === null && settings.earlyPass && v.gates.every((g) => g.maxPassLog >= passLog)) v.pass = t;
        }
      },
    };
    return v;
  };
  // Latency gates fed paired counts (pairedExceedanceWindow: request i of each side, discordant pairs only)
  // and, for comparison, unpaired counts (exceedanceWindow: each side's exceedances).
  const paired = variant();
  const unpaired = variant();
  let naiveFail: number | null = null;
  // cumulative counts for the naive rule: [gate][cE, cN, bE, bN]
  const cum = GATES.map(() => [0, 0, 0, 0]);
  const intervals = new Float64Array(intervalsN * 4);
  const candLat = new Float64Array(perInterval);
  const baseLat = new Float64Array(perInterval);
  let candErrI = 0;
  let baseErrI = 0;
  let filled = 0;
  const kayenta = { cErr: [] as number[], bErr: [] as number[], cP99: [] as number[], bP99: [] as number[] };

  for (let w = 0; w < windows; w++) {
    const cErr = binomial(rng, perWindow, candRate);
    const bErr = binomial(rng, perWindow, baseline5xx);
    const cAbove = [0, 0, 0];
    const bAbove = [0, 0, 0];
    const cAboveRaw = [0, 0, 0];
    const onlyC = [0, 0, 0];
    const onlyB = [0, 0, 0];
    for (let i = 0; i < perWindow; i++) {
      let c = latency() * slow;
      if (tail > 0 && rng() < tail) c += LATENCY.tailAddMs;
      const b = latency();
      candLat[filled + i] = c;
      baseLat[filled + i] = b;
      for (let q = 0; q < 3; q++) {
        const cA = c > candThresholds[q]!;
        const bA = b > thresholds[q]!;
        if (cA) cAbove[q]!++;
        if (bA) bAbove[q]!++;
        if (cA && !bA) onlyC[q]!++;
        else if (bA && !cA) onlyB[q]!++;
        if (c > thresholds[q]!) cAboveRaw[q]!++; // the naive rule compares the candidate above the same threshold
      }
    }
    filled += perWindow;
    candErrI += cErr;
    baseErrI += bErr;
    const t = (w + 1) * LOOK_SECONDS;

    // Glidepath: every look until it fails.
    const errors: CountWindow = { candidateRequests: perWindow, candidateEvents: cErr, baselineRequests: perWindow, baselineEvents: bErr };
    const n = perWindow;
    paired.look([errors, ...[0, 1, 2].map((q) => ({ candidateRequests: n, candidateEvents: onlyC[q]!, baselineRequests: n, baselineEvents: onlyB[q]! }))], t);
    unpaired.look([errors, ...[0, 1, 2].map((q) => ({ candidateRequests: n, candidateEvents: cAbove[q]!, baselineRequests: n, baselineEvents: bAbove[q]! }))], t);
    // Naive: z-test per gate on cumulative counts, every look.
    if (naiveFail === null) {
      const add = (g: number, ce: number, be: number) => {
        const a = cum[g]!;
        a[0]! += ce;
        a[1]! += perWindow;
        a[2]! += be;
        a[3]! += perWindow;
        return zStat(a[0]!, a[1]!, a[2]!, a[3]!) > zNaive;
      };
      let hit = add(0, cErr, bErr);
      for (let q = 0; q < 3; q++) hit = add(q + 1, cAboveRaw[q]!, bAbove[q]!) || hit;
      if (hit) naiveFail = t;
    }
    // End of a 1-minute interval: the per-interval points Flagger and Kayenta read.
    if ((w + 1) % windowsPerInterval === 0) {
      const i = (w + 1) / windowsPerInterval - 1;
      const cP99 = sortedQuantile(candLat, perInterval, 0.99);
      const bP99 = sortedQuantile(baseLat, perInterval, 0.99);
      intervals[i * 4] = candErrI / perInterval;
      intervals[i * 4 + 1] = baseErrI / perInterval;
      intervals[i * 4 + 2] = cP99;
      intervals[i * 4 + 3] = bP99;
      kayenta.cErr.push(candErrI / perInterval);
      kayenta.bErr.push(baseErrI / perInterval);
      kayenta.cP99.push(cP99);
      kayenta.bP99.push(bP99);
      candErrI = 0;
      baseErrI = 0;
      filled = 0;
    }
  }
  const kayentaFails = kayentaHigh(kayenta.bErr, kayenta.cErr) || kayentaHigh(kayenta.bP99, kayenta.cP99);
  return {
    glidepathFail: paired.fail,
    glidepathPass: paired.pass,
    glidepathUnpairedFail: unpaired.fail,
    glidepathUnpairedPass: unpaired.pass,
    glidepathDetectable: detectableRatio(paired.gates[0]!, Math.exp(failLog)),
    naiveFail,
    kayentaFail: kayentaFails ? intervalsN * INTERVAL_SECONDS : null,
    intervals,
  };
}

// ───────────────────────────── Flagger-style rules on recorded intervals ─────────────────────────────

export interface FlaggerThresholds {
  /** Interval fails when candidate 5xx share − baseline's > errorShareIncrease. */
  errorShareIncrease: number;
  /** … or when candidate p99 / baseline p99 > p99Ratio. */
  p99Ratio: number;
}

/** Seconds to rollback under Flagger's documented defaults (absolute checks), or null. */
export function flaggerDefaultFail(intervals: Float64Array): number | null {
  let failed = 0;
  for (let i = 0; i < intervals.length / 4; i++) {
    const successPercent = 100 * (1 - intervals[i * 4]!);
    if (successPercent < FLAGGER.minSuccessRatePercent || intervals[i * 4 + 2]! > FLAGGER.maxP99Ms) failed++;
    if (failed >= FLAGGER.threshold) return (i + 1) * INTERVAL_SECONDS;
  }
  return null;
}

/** Seconds to rollback under the relative (calibrated) checks, or null. */
export function flaggerRelativeFail(intervals: Float64Array, th: FlaggerThresholds): number | null {
  let failed = 0;
  for (let i = 0; i < intervals.length / 4; i++) {
    const errUp = intervals[i * 4]! - intervals[i * 4 + 1]!;
    const p99Ratio = intervals[i * 4 + 2]! / intervals[i * 4 + 3]!;
    if (errUp > th.errorShareIncrease || p99Ratio > th.p99Ratio) failed++;
    if (failed >= FLAGGER.threshold) return (i + 1) * INTERVAL_SECONDS;
  }
  return null;
}

/**
 * Thresholds (kE, kL) for the relative rule so that it raises at most `allowedAlarms` false alarms on the
 * given no-effect runs. One knob moves both: kE and kL are the same quantile u of their statistic over all
 * no-effect intervals pooled; the smallest u whose rule (a failed check when either gate fails, 5 failed
 * checks roll back) stays within the allowance is taken (u = 1: thresholds at the largest values seen, no
 * alarm at all). In-sample, so the rule gets the best thresholds these runs allow.
 */
export function calibrateFlagger(noEffect: readonly Float64Array[], allowedAlarms: number): { thresholds: FlaggerThresholds; alarms: number } {
  const errs: number[] = [];
  const lats: number[] = [];
  for (const iv of noEffect) {
    for (let i = 0; i < iv.length / 4; i++) {
      errs.push(iv[i * 4]! - iv[i * 4 + 1]!);
      lats.push(iv[i * 4 + 2]! / iv[i * 4 + 3]!);
    }
  }
  errs.sort((x, y) => x - y);
  lats.sort((x, y) => x - y);
  const at = (i: number): FlaggerThresholds => ({ errorShareIncrease: errs[i]!, p99Ratio: lats[i]! });
  const alarms = (th: FlaggerThresholds) => noEffect.filter((iv) => flaggerRelativeFail(iv, th) !== null).length;
  let lo = 0;
  let hi = errs.length - 1; // at the largest values nothing is strictly above: no alarm
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (alarms(at(mid)) <= allowedAlarms) hi = mid;
    else lo = mid + 1;
  }
  return { thresholds: at(lo), alarms: alarms(at(lo)) };
}

// ───────────────────────────── the grid ─────────────────────────────

export interface MethodCell {
  runs: number;
  /** Runs that failed within the bake (a false alarm for the no-effect row). */
  fails: number;
  failShare: number;
  /** Nearest-rank percentiles of the time to fail over all runs, misses counting as never; null when fewer than that share failed. */
  detectP50: number | null;
  detectP95: number | null;
  /** Glidepath only: runs that passed early, and the time to do so (p50/p95 over all runs, as above). */
  earlyPasses?: number;
  earlyPassP50?: number | null;
  earlyPassP95?: number | null;
}

export interface CellResult {
  rps: number;
  baseline5xx: number;
  effect: string;
  methods: Record<Method, MethodCell>;
  /** Glidepath's plug-in "could detect ≥ r×" for 5xx at the end of the bake, median over runs (no-effect row only). */
  glidepathDetectableRatioP50?: number | null;
}

export interface GridResult {
  cells: CellResult[];
  calibration: { rps: number; baseline5xx: number; targetAlarms: number; achievedAlarms: number; thresholds: FlaggerThresholds }[];
  /** Per method, rate, baseline: the smallest error ratio and latency shift detected in ≥ 90% of runs (null: none in the grid). */
  smallestDetectable: { method: Method; rps: number; baseline5xx: number; errorsRatio: number | null; latencyShift: number | null }[];
}

function timePercentile(times: (number | null)[], p: number): number | null {
  const sorted = times.map((t) => t ?? Infinity).sort((a, b) => a - b);
  const v = sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
  return v === undefined || !Number.isFinite(v) ? null : v;
}

function summarize(times: (number | null)[]): MethodCell {
  const fails = times.filter((t) => t !== null).length;
  return { runs: times.length, fails, failShare: fails / times.length, detectP50: timePercentile(times, 0.5), detectP95: timePercentile(times, 0.95) };
}

/** Runs the grid; `progress` hears about each finished cell. */
export function runGrid(cfg: BenchConfig, progress: (msg: string) => void = () => {}): GridResult {
  const settings = glidepathSettings(cfg.alpha);
  const cells: CellResult[] = [];
  const calibration: GridResult['calibration'] = [];
  const smallestDetectable: GridResult['smallestDetectable'] = [];
  let cellIndex = 0;
  for (const rps of cfg.rates) {
    for (const b of cfg.baseline5xx) {
      cellIndex++;
      const records = new Map<string, RunRecord[]>();
      for (const [ei, effect] of cfg.effects.entries()) {
        const n = effect.kind === 'none' ? cfg.noEffectRuns : cfg.effectRuns;
        const out: RunRecord[] = [];
        for (let r = 0; r < n; r++) out.push(simulateRun(rps, b, effect, cfg.seed + cellIndex * 10_000_000 + ei * 100_000 + r, cfg, settings));
        records.set(effect.id, out);
      }
      const none = records.get('none');
      if (!none) throw new Error('the grid needs the no-effect row (to calibrate the Flagger-style rule and count false alarms)');
      const targetAlarms = none.filter((r) => r.glidepathFail !== null).length;
      const cal = calibrateFlagger(none.map((r) => r.intervals), targetAlarms);
      calibration.push({ rps, baseline5xx: b, targetAlarms, achievedAlarms: cal.alarms, thresholds: cal.thresholds });
      const detected = new Map<Method, Map<string, number>>();
      for (const effect of cfg.effects) {
        const rs = records.get(effect.id)!;
        const withPasses = (fails: (number | null)[], passes: (number | null)[]): MethodCell => ({
          ...summarize(fails),
          earlyPasses: passes.filter((t) => t !== null).length,
          earlyPassP50: timePercentile(passes, 0.5),
          earlyPassP95: timePercentile(passes, 0.95),
        });
        const glide = withPasses(rs.map((r) => r.glidepathFail), rs.map((r) => r.glidepathPass));
        const methods: Record<Method, MethodCell> = {
          glidepath: glide,
          'glidepath-unpaired': withPasses(rs.map((r) => r.glidepathUnpairedFail), rs.map((r) => r.glidepathUnpairedPass)),
          naive: summarize(rs.map((r) => r.naiveFail)),
          'flagger-default': summarize(rs.map((r) => flaggerDefaultFail(r.intervals))),
          'flagger-calibrated': summarize(rs.map((r) => flaggerRelativeFail(r.intervals, cal.thresholds))),
          kayenta: summarize(rs.map((r) => r.kayentaFail)),
        };
        const cell: CellResult = { rps, baseline5xx: b, effect: effect.id, methods };
        if (effect.kind === 'none') {
          const d = rs.map((r) => r.glidepathDetectable).filter((x): x is number => x !== null).sort((x, y) => x - y);
          cell.glidepathDetectableRatioP50 = d.length * 2 > rs.length ? d[Math.ceil(d.length / 2) - 1]! : null;
        }
        cells.push(cell);
        for (const m of METHODS) {
          if (!detected.has(m)) detected.set(m, new Map());
          detected.get(m)!.set(effect.id, methods[m].failShare);
        }
      }
      for (const m of METHODS) {
        const share = detected.get(m)!;
        const smallest = (kind: EffectKind) =>
          cfg.effects.filter((e) => e.kind === kind && (share.get(e.id) ?? 0) >= 0.9).map((e) => e.size).sort((x, y) => x - y)[0] ?? null;
        smallestDetectable.push({ method: m, rps, baseline5xx: b, errorsRatio: smallest('errors'), latencyShift: smallest('latency') });
      }
      progress(`cell ${rps} req/s, baseline 5xx ${(b * 100).toFixed(1)}%: done (Flagger calibrated to ${cal.alarms} alarms, Glidepath ${targetAlarms})`);
    }
  }
  return { cells, calibration, smallestDetectable };
}
