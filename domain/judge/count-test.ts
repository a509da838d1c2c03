/**
 * The count test: an anytime-valid comparison of the candidate's event rate (5xx, 424, 429, timeouts,
 * latency exceedances) with the baseline's, from per-window counts of requests and events on each side.
 * Pure arithmetic on plain JSON state: it runs in the workflow sandbox and survives continue-as-new.
 *
 * ## The hypotheses
 * With `p_C`, `p_B` the per-request event probabilities of candidate and baseline, and a tolerance
 * `ρ ≥ 1` (ratio) and `δ ≥ 0` (additive, a fraction of requests):
 * - fail test, H0: `p_C ≤ ρ·p_B + δ` ("within tolerance"); rejecting it rolls back;
 * - pass test, H0': `p_C ≥ ρ'·p_B + δ'` ("worse than the pass tolerance"); rejecting it ends the bake early.
 * Each is rejected the first time its e-process reaches its threshold (the judge uses G/α to fail with
 * G gates in a step, 1/α to pass).
 * By Ville's inequality the chance that this ever happens while H0 is true is at most α, however
 * often one looks (Ramdas, Grünwald, Vovk & Shafer, Stat. Sci. 2023).
 *
 * ## The e-process (Lindon & Malek, NeurIPS 2022, §Poisson processes; reference §2)
 * Given exposures `n_C`, `n_B` in a window, an event belongs to the candidate with probability
 * `θ(r) = n_C·r / (n_C·r + n_B)` where r is the rate ratio; the null boundary is `θ0 = θ(ρ)`. For each
 * alternative ratio `r_k = ρ·S^(k/K)`, k = 1..K (K = 40, S = 20: 1.08ρ … 20ρ), the window multiplies
 *
 *     factor_k = (θ(r_k)/θ0)^x_C · ((1−θ(r_k))/(1−θ0))^x_B · exp(−δ·n_C·(θ(r_k)/θ0 − 1))
 *
 * into that alternative's running product, and the e-process is the average over k (a mixture with a
 * uniform prior on the grid). The pass test uses `r_k = ρ'/S^(k/K)`. With δ = 0 this is exactly the
 * reference's grid e-process (its §2.2, §2.3 vectors are unit tests). The exposure ratio may change
 * from window to window (canary steps, mirror share, traffic curves): θ0 is recomputed per window.
 *
 * Why it is valid [derived; checked exactly in test/domain/judge.test.ts, and by the Monte Carlo and oracle tests]: for independent per-request
 * Bernoulli events, `E[e^(λx)] ≤ exp(n·p·(e^λ − 1))` for any λ (since 1+u ≤ e^u). With
 * `λ = ln(θ1/θ0)` and `μ = ln((1−θ1)/(1−θ0))`, the identity `ρ·n_C·(e^λ−1) + n_B·(e^μ−1) = 0` makes the
 * p_B terms cancel, so under H0 `E[factor] ≤ exp(δ·n_C·(e^λ−1)) · exp(−δ·n_C·(e^λ−1)) = 1` whatever
 * p_B is. (For λ > 0 this uses p_C ≤ ρp_B + δ; for the pass test λ < 0 and p_C ≥ ρ'p_B + δ'.) Every
 * alternative is a test supermartingale, so their average is one too (reference §1). The additive term is
 * our extension of the split test; with δ = 0 the factor depends on the split of events only, so a
 * traffic curve common to both sides cancels.
 *
 * ## Worked example (reference §2.3): 20% canary, ρ = 1.2, α = 0.01 → fail threshold 1/α = 100
 * Window 1: candidate 1,000 requests / 15 errors, baseline 4,000 / 20. θ0 = 1200/(1200+4000) = 0.2308,
 * observed share 15/35 = 0.429. For r_20 = 1.2·20^0.5 = 5.37: θ = 5370/(5370+4000) = 0.573, factor
 * (0.573/0.2308)^15·(0.427/0.7692)^20 = 8.4e5 · 7.7e-6 ≈ 6.5; the average over the 40 alternatives is
 * E = 8.07 → continue. The same counts again: E = 161.7 ≥ 100 → the candidate's rate exceeds 1.2×
 * the baseline's: fail. Estimate (30/2000)/(40/8000) = 3.0×.
 *
 * ## Interval and detectable effect
 * - Confidence sequence for r (Howard, Ramdas, McAuliffe & Sekhon, Ann. Stat. 2021; savvi's `infer`):
 *   on a log grid g_j = 2^(j/8), 1/32…32, a mixture of the same reach (35 alternatives g_j·2^(±k/8),
 *   up to 20.7×, δ = 0) tests "r ≤ g_j" and "r ≥ g_j" at α/2 each;
 *   the interval is the grid points neither excludes, intersected over time (so it only narrows). The
 *   log-likelihood is concave in ln r, so each one-sided e-value is monotone in g_j and the bound is
 *   valid for the true r between grid points.
 * - Smallest detectable ratio (reference §2.5, plug-in): the smallest r whose expected counts at the
 *   current exposure (baseline rate as observed) would put the fail e-value at its threshold. It is
 *   roughly the ratio detected half the time; more power needs a larger r.
 */

/** A tolerance: `p_C ≤ ratio·p_B + additive` is "within tolerance". ratio ≥ 1, additive a fraction in [0, 1). */
export interface Tolerance {
  ratio: number;
  additive: number;
}

/** The mixture grid: K alternatives spread log-evenly up to `span` × the null ratio (reference: K = 40, span = 20). */
export interface MixtureGrid {
  points: number;
  span: number;
}

/** The grid the reference's worked examples use. */
export const DEFAULT_GRID: MixtureGrid = { points: 40, span: 20 };

/** What one gate's count test was built for: the state is only valid for these numbers. */
export interface CountTestConfig {
  fail: Tolerance;
  pass: Tolerance;
  grid: MixtureGrid;
}

/** One analysis window's counts for one gate. Integers; events ≤ requests on each side. */
export interface CountWindow {
  candidateRequests: number;
  candidateEvents: number;
  baselineRequests: number;
  baselineEvents: number;
}

/** Cumulative counts of a gate. */
export type CountTotals = CountWindow;

/**
 * A gate's running evidence. Plain JSON (arrays and numbers only; `null` for an unbounded upper limit):
 * it lives in workflow state and is carried across continue-as-new.
 */
export interface CountTestState {
  version: 1;
  config: CountTestConfig;
  totals: CountTotals;
  /** Windows counted. */
  windows: number;
  /** ln of each fail alternative's running product (the fail e-value is their mean after exp). */
  failLog: number[];
  /** ln of each pass alternative's running product. */
  passLog: number[];
  /** ln of the highest fail / pass e-value seen so far (starts at 0: E_0 = 1). Rejection is sticky. */
  maxFailLog: number;
  maxPassLog: number;
  /** Log-likelihood of the split on the interval grid (index i ↔ ratio 2^((i − CI_OFFSET)/8)). */
  ciLog: number[];
  /** Running interval for the rate ratio (0 = no lower bound yet; null = no upper bound yet). */
  lower: number;
  upper: number | null;
}

// ───────────────────────────── the interval grid ─────────────────────────────

/** Interval grid: ratios 2^(j/8) for j = −40..40 (1/32 … 32), padded by the 35 alternatives each side. */
const CI_STEP = Math.LN2 / 8;
const CI_HALF = 40;
const CI_ALTERNATIVES = 35; // 2^(35/8) ≈ 20.7: the same reach as the test mixture
const CI_OFFSET = CI_HALF + CI_ALTERNATIVES;
const CI_SIZE = 2 * CI_OFFSET + 1;
const ciRatio = (i: number) => Math.exp((i - CI_OFFSET) * CI_STEP);
const CI_RATIOS: readonly number[] = Array.from({ length: CI_SIZE }, (_, i) => ciRatio(i));

/** The smallest and largest ratio the interval can report; beyond them it says "below"/"above". */
export const INTERVAL_RANGE = { min: ciRatio(CI_OFFSET - CI_HALF), max: ciRatio(CI_OFFSET + CI_HALF) } as const;

// ───────────────────────────── state ─────────────────────────────

/** A gate's evidence before any window: every e-value 1, no interval. */
export function startCountTest(config: CountTestConfig): CountTestState {
  checkConfig(config);
  return {
    version: 1,
    config: { fail: { ...config.fail }, pass: { ...config.pass }, grid: { ...config.grid } },
    totals: { candidateRequests: 0, candidateEvents: 0, baselineRequests: 0, baselineEvents: 0 },
    windows: 0,
    failLog: new Array<number>(config.grid.points).fill(0),
    passLog: new Array<number>(config.grid.points).fill(0),
    maxFailLog: 0,
    maxPassLog: 0,
    ciLog: new Array<number>(CI_SIZE).fill(0),
    lower: 0,
    upper: null,
  };
}

/** Thrown when a count test is given numbers it cannot be built from (a bug in the caller: settings are parsed first). */
function checkConfig(c: CountTestConfig): void {
  const tol = (t: Tolerance, what: string) => {
    if (!(Number.isFinite(t.ratio) && t.ratio >= 1)) throw new Error(`count test: ${what} ratio must be a number ≥ 1 (got ${t.ratio})`);
    if (!(Number.isFinite(t.additive) && t.additive >= 0 && t.additive < 1)) throw new Error(`count test: ${what} additive must be in [0, 1) (got ${t.additive})`);
  };
  tol(c.fail, 'fail tolerance');
  tol(c.pass, 'pass tolerance');
  if (!(Number.isInteger(c.grid.points) && c.grid.points >= 1 && c.grid.points <= 200)) throw new Error(`count test: grid points must be an integer 1..200 (got ${c.grid.points})`);
  if (!(Number.isFinite(c.grid.span) && c.grid.span > 1)) throw new Error(`count test: grid span must be > 1 (got ${c.grid.span})`);
}

/** Thrown (as a plain Error: a bug) when a state is used with settings other than those it was built for. */
export function assertStateMatches(state: CountTestState, config: CountTestConfig, gate: string): void {
  const a = state.config;
  const same =
    a.fail.ratio === config.fail.ratio && a.fail.additive === config.fail.additive &&
    a.pass.ratio === config.pass.ratio && a.pass.additive === config.pass.additive &&
    a.grid.points === config.grid.points && a.grid.span === config.grid.span;
  if (!same) {
    throw new Error(
      `judge state of gate '${gate}' was built for ${JSON.stringify(a)} but the settings now say ${JSON.stringify(config)}; ` +
        'start a new judge state when a tolerance changes',
    );
  }
}

/** Why a window cannot be counted, or null when it can. Quotes the numbers. */
export function windowProblem(w: CountWindow): string | null {
  for (const [k, v] of Object.entries(w) as [keyof CountWindow, number][]) {
    if (!(Number.isInteger(v) && v >= 0)) return `${k} must be a whole number ≥ 0 (got ${String(v)})`;
  }
  if (w.candidateEvents > w.candidateRequests) return `candidate events ${w.candidateEvents} exceed its requests ${w.candidateRequests}`;
  if (w.baselineEvents > w.baselineRequests) return `baseline events ${w.baselineEvents} exceed its requests ${w.baselineRequests}`;
  return null;
}

/** ln(mean(exp(xs))), stable. */
function logMeanExp(xs: readonly number[]): number {
  let m = -Infinity;
  for (const x of xs) if (x > m) m = x;
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (const x of xs) s += Math.exp(x - m);
  return m + Math.log(s / xs.length);
}

/**
 * ln of one window's factor for the alternative ratio `r` (ln r = `lnR`) against the null `t` (see the
 * module comment). Needs both exposures > 0. θ(r) = nC·r/(nC·r + nB) is never formed, so nothing cancels
 * when θ is near 1.
 */
function logFactor(r: number, lnR: number, t: Tolerance, w: CountWindow): number {
  const nC = w.candidateRequests;
  const nB = w.baselineRequests;
  const mu = Math.log((nC * t.ratio + nB) / (nC * r + nB)); // ln((1−θ1)/(1−θ0))
  const lambda = lnR - Math.log(t.ratio) + mu; // ln(θ1/θ0)
  const compensator = t.additive === 0 ? 0 : t.additive * nC * Math.expm1(lambda);
  return w.candidateEvents * lambda + w.baselineEvents * mu - compensator;
}

/** The alternatives of the fail (up) or pass (down) mixture, with their logs. */
function alternatives(t: Tolerance, grid: MixtureGrid, direction: 1 | -1): { r: number; lnR: number }[] {
  const out: { r: number; lnR: number }[] = [];
  const lnRatio = Math.log(t.ratio);
  const lnSpan = Math.log(grid.span);
  for (let k = 1; k <= grid.points; k++) {
    const lnR = lnRatio + (direction * k * lnSpan) / grid.points;
    out.push({ r: Math.exp(lnR), lnR });
  }
  return out;
}

/** ln of the current fail / pass e-values. */
export function logEValues(state: CountTestState): { fail: number; pass: number } {
  return { fail: logMeanExp(state.failLog), pass: logMeanExp(state.passLog) };
}

/**
 * The state after one more window. A window that cannot be counted (no traffic on a side, bad numbers)
 * must not be passed here: the judge turns it into an inconclusive verdict instead. Thrown (plain Error)
 * when it is, so that the bug shows.
 *
 * `ciAlpha` is the error rate of the running interval (the judge passes the step's budget).
 */
export function addWindow(state: CountTestState, w: CountWindow, ciAlpha: number): CountTestState {
  const problem = windowProblem(w);
  if (problem) throw new Error(`count test: window cannot be counted: ${problem}`);
  if (w.candidateRequests === 0 || w.baselineRequests === 0) throw new Error('count test: a window needs requests on both sides');
  const { fail, pass, grid } = state.config;
  const next: CountTestState = {
    ...state,
    totals: {
      candidateRequests: state.totals.candidateRequests + w.candidateRequests,
      candidateEvents: state.totals.candidateEvents + w.candidateEvents,
      baselineRequests: state.totals.baselineRequests + w.baselineRequests,
      baselineEvents: state.totals.baselineEvents + w.baselineEvents,
    },
    windows: state.windows + 1,
  };
  // A window without events changes nothing unless a tolerance has an additive part (then silence is evidence).
  const silent = w.candidateEvents === 0 && w.baselineEvents === 0;
  if (!(silent && fail.additive === 0 && pass.additive === 0)) {
    const failAlt = alternatives(fail, grid, 1);
    const passAlt = alternatives(pass, grid, -1);
    next.failLog = state.failLog.map((v, k) => v + logFactor(failAlt[k]!.r, failAlt[k]!.lnR, fail, w));
    next.passLog = state.passLog.map((v, k) => v + logFactor(passAlt[k]!.r, passAlt[k]!.lnR, pass, w));
    const e = logEValues(next);
    next.maxFailLog = Math.max(state.maxFailLog, e.fail);
    next.maxPassLog = Math.max(state.maxPassLog, e.pass);
  }
  if (!silent) {
    // Interval grid: the split's log-likelihood at each ratio (additive 0): x_C·ln θ + x_B·ln(1−θ).
    const nC = w.candidateRequests;
    const nB = w.baselineRequests;
    const lnC = Math.log(nC);
    const lnB = Math.log(nB);
    next.ciLog = state.ciLog.map((v, i) => {
      const lnA = lnC + (i - CI_OFFSET) * CI_STEP; // ln(nC·r)
      const lnTotal = Math.log(nC * CI_RATIOS[i]! + nB);
      return v + w.candidateEvents * (lnA - lnTotal) + w.baselineEvents * (lnB - lnTotal);
    });
    const { lower, upper } = narrowInterval(next.ciLog, state.lower, state.upper, ciAlpha);
    next.lower = lower;
    next.upper = upper;
  }
  return next;
}

/** ln E of "r ≤ g_i" (direction 1) or "r ≥ g_i" (direction −1) on the interval grid. */
function ciLogE(ciLog: readonly number[], i: number, direction: 1 | -1): number {
  const base = ciLog[i]!;
  let m = -Infinity;
  for (let k = 1; k <= CI_ALTERNATIVES; k++) m = Math.max(m, ciLog[i + direction * k]! - base);
  let s = 0;
  for (let k = 1; k <= CI_ALTERNATIVES; k++) s += Math.exp(ciLog[i + direction * k]! - base - m);
  return m + Math.log(s / CI_ALTERNATIVES);
}

const ciIndex = (ratio: number) => Math.round(Math.log(ratio) / CI_STEP) + CI_OFFSET;

/**
 * The running interval narrowed by this window's: lower = the largest g with "r ≤ g" rejected at α/2,
 * upper = the smallest g with "r ≥ g" rejected at α/2. "r ≤ g" gets weaker as g grows and "r ≥ g"
 * stronger (concavity), so one check next to the running bound tells whether it moves, and a binary
 * search finds how far.
 */
function narrowInterval(ciLog: readonly number[], lower: number, upper: number | null, alpha: number): { lower: number; upper: number | null } {
  const need = Math.log(2 / alpha);
  const lo = CI_OFFSET - CI_HALF;
  const hi = CI_OFFSET + CI_HALF;
  let lowerIndex = lower > 0 ? ciIndex(lower) : lo - 1; // the last index known rejected
  if (lowerIndex < hi && ciLogE(ciLog, lowerIndex + 1, 1) >= need) {
    let a = lowerIndex + 1; // rejected
    let b = hi + 1; // not rejected (or past the end)
    if (ciLogE(ciLog, hi, 1) >= need) a = hi;
    else {
      b = hi;
      while (b - a > 1) {
        const m = (a + b) >> 1;
        if (ciLogE(ciLog, m, 1) >= need) a = m;
        else b = m;
      }
    }
    lowerIndex = a;
  }
  let upperIndex = upper === null ? hi + 1 : ciIndex(upper); // the first index known rejected
  if (upperIndex > lo && ciLogE(ciLog, upperIndex - 1, -1) >= need) {
    let b = upperIndex - 1; // rejected
    let a = lo - 1;
    if (ciLogE(ciLog, lo, -1) >= need) b = lo;
    else {
      a = lo;
      while (b - a > 1) {
        const m = (a + b) >> 1;
        if (ciLogE(ciLog, m, -1) >= need) b = m;
        else a = m;
      }
    }
    upperIndex = b;
  }
  return { lower: lowerIndex >= lo ? ciRatio(lowerIndex) : 0, upper: upperIndex <= hi ? ciRatio(upperIndex) : null };
}

/** The rate ratio (candidate per request / baseline per request) so far; null when undefined (no events on the baseline). */
export function ratioEstimate(t: CountTotals): number | null {
  if (t.candidateRequests === 0 || t.baselineRequests === 0 || t.baselineEvents === 0) return null;
  return t.candidateEvents / t.candidateRequests / (t.baselineEvents / t.baselineRequests);
}

/**
 * The smallest rate ratio the fail test would detect at the current exposure: the smallest r ≥ the
 * tolerance whose expected counts (baseline rate as observed, candidate rate r × that) would put the fail
 * e-value at `threshold`, as if all windows were one. Null when it cannot be said: no baseline events yet,
 * or not even a candidate failing every request would get there.
 */
export function detectableRatio(state: CountTestState, threshold: number): number | null {
  const t = state.totals;
  if (t.candidateRequests === 0 || t.baselineRequests === 0 || t.baselineEvents === 0) return null;
  const pB = t.baselineEvents / t.baselineRequests;
  const { fail, grid } = state.config;
  const alt = alternatives(fail, grid, 1);
  const need = Math.log(threshold);
  const logE = (r: number) => {
    const w: CountWindow = {
      candidateRequests: t.candidateRequests,
      candidateEvents: Math.min(1, r * pB) * t.candidateRequests,
      baselineRequests: t.baselineRequests,
      baselineEvents: t.baselineEvents,
    };
    return logMeanExp(alt.map((a) => logFactor(a.r, a.lnR, fail, w)));
  };
  let lo = fail.ratio;
  let hi = 1 / pB; // the candidate fails every request
  if (hi <= lo || logE(hi) < need) return null;
  if (logE(lo) >= need) return lo;
  for (let i = 0; i < 60 && hi / lo > 1.0005; i++) {
    const m = Math.sqrt(lo * hi);
    if (logE(m) >= need) hi = m;
    else lo = m;
  }
  return hi;
}

/**
 * ln of the fail and pass e-values that one window of `w` would give a fresh test built for `config`.
 * The counts need not be whole numbers: `plan explain` passes expected counts (requests × rate) to
 * predict when a verdict comes. With a constant split of requests, windows add up: k windows of `w`
 * give the same e-values as one window of k·w, so one call answers "after time t".
 */
export function expectedLogEValues(config: CountTestConfig, w: CountWindow): { fail: number; pass: number } {
  checkConfig(config);
  if (!(w.candidateRequests > 0 && w.baselineRequests > 0)) return { fail: 0, pass: 0 };
  const sum = (t: Tolerance, direction: 1 | -1) => logMeanExp(alternatives(t, config.grid, direction).map((a) => logFactor(a.r, a.lnR, t, w)));
  return { fail: sum(config.fail, 1), pass: sum(config.pass, -1) };
}
