/**
 * The disagreement test: is the share of mirrored requests on which the candidate's label differs from
 * the baseline's above the plan's `maxDisagreement`? An anytime-valid one-sample test over the running
 * count of compared pairs and disagreements, in the style of the judge's count test
 * (domain/judge/count-test.ts): plain JSON state, looks as often as the workflow likes, sticky verdicts.
 *
 * ## The hypotheses
 * With p the chance that a pair disagrees and p0 = maxDisagreement:
 * - fail test, H0: p ≤ p0 ("within tolerance"); rejecting it fails the gate;
 * - pass test, H0': p ≥ p0' (p0' = `passBelow`, by default p0); rejecting it passes the gate early.
 *
 * ## The e-process and why it is valid [derived here; checked exactly and by simulation in
 * test/domain/predictions-disagreement.test.ts, and against scipy's binomial pmf in the oracle test]
 * Let X_i ∈ {0, 1} say whether pair i disagrees, with P(X_i = 1 | the past) = p_i. For an alternative
 * p1, the likelihood-ratio factor of one pair is
 *
 *     f(X) = (p1/p0)^X · ((1−p1)/(1−p0))^(1−X),   E[f | past] = p_i·p1/p0 + (1−p_i)·(1−p1)/(1−p0).
 *
 * That expectation is linear in p_i, equals p1 + (1 − p1) = 1 at p_i = p0, and has slope
 * p1/p0 − (1−p1)/(1−p0), positive exactly when p1 > p0. So for every p1 > p0 and every p_i ≤ p0 (H0,
 * even when the rate drifts from pair to pair) E[f | past] ≤ 1: the running product is a test
 * supermartingale. The same holds for p1 < p0' and p_i ≥ p0' (H0'). A mixture (average) of test
 * supermartingales is one too, so by Ville's inequality P(sup_n E_n ≥ 1/a) ≤ a under the null, however
 * often and whenever one looks (Ramdas, Grünwald, Vovk & Shafer, Stat. Sci. 2023).
 *
 * The product depends only on the totals (n pairs, x disagreements):
 *
 *     E_n = (1/K) Σ_k (p_k/p0)^x · ((1−p_k)/(1−p0))^(n−x)
 *
 * with alternatives spread log-evenly in the odds: odds(p_k) = odds(p0)·S^(±k/K), k = 1..K (K = 40,
 * S = 20, the judge's grid): for p0 = 2%, fail alternatives 2.2% … 29%, pass alternatives 1.8% … 0.1%.
 * Guarantee: a candidate within tolerance (p ≤ p0) fails with probability ≤ a_fail = α/G (the judge's
 * G/α threshold for G gates in a step); a candidate worse than p0' passes early with probability ≤ α.
 *
 * ## Worked example: p0 = 2%, α = 0.01 (fail threshold 100, pass threshold 100)
 * 1,000 pairs, 50 disagreements (5%): the alternative p_k nearest 5% gives (0.05/0.02)^50·(0.95/0.98)^950
 * = e^(45.8 − 29.5) ≈ e^16.3; averaged over the 40 alternatives E ≈ 1.4·10^6 ≥ 100 → fail.
 * 285 pairs, 0 disagreements: E ≈ 101 ≥ 100 → pass; with 284 it is below 100, so fewer than 285 pairs
 * can never pass at this tolerance and budget ({@link pairsToPass}). 400 pairs, 0 disagreements: E ≈ 772.
 */
import type { MixtureGrid } from '../judge/count-test.js';

/** The judge's grid (K = 40 alternatives up to 20× the null odds). */
export const DISAGREEMENT_GRID: MixtureGrid = { points: 40, span: 20 };

export interface DisagreementTestConfig {
  /** p0: the largest acceptable share of disagreeing pairs, in (0, 1). */
  maxDisagreement: number;
  /** p0': the pass test rejects "p ≥ passBelow"; by default maxDisagreement. In (0, maxDisagreement]. */
  passBelow: number;
  grid: MixtureGrid;
}

/** Running evidence of one prediction gate's disagreement test. Plain JSON, for workflow state. */
export interface DisagreementTestState {
  version: 1;
  config: DisagreementTestConfig;
  pairs: number;
  disagreements: number;
  windows: number;
  /** ln of the highest fail / pass e-value seen at a look (starts at 0: E_0 = 1). Rejection is sticky. */
  maxFailLog: number;
  maxPassLog: number;
}

/** One window's counts: compared pairs and, of them, disagreeing ones. */
export interface DisagreementWindow {
  pairs: number;
  disagreements: number;
}

/** Why the config cannot be used (a bug in the caller: settings are parsed first). */
function checkConfig(c: DisagreementTestConfig): void {
  if (!(c.maxDisagreement > 0 && c.maxDisagreement < 1)) throw new Error(`disagreement test: maxDisagreement must be in (0, 1) (got ${c.maxDisagreement})`);
  if (!(c.passBelow > 0 && c.passBelow <= c.maxDisagreement)) throw new Error(`disagreement test: passBelow must be in (0, maxDisagreement] (got ${c.passBelow})`);
  if (!(Number.isInteger(c.grid.points) && c.grid.points >= 1 && c.grid.points <= 200)) throw new Error(`disagreement test: grid points must be an integer 1..200 (got ${c.grid.points})`);
  if (!(Number.isFinite(c.grid.span) && c.grid.span > 1)) throw new Error(`disagreement test: grid span must be > 1 (got ${c.grid.span})`);
}

export function startDisagreementTest(args: { maxDisagreement: number; passBelow?: number; grid?: MixtureGrid }): DisagreementTestState {
  const config: DisagreementTestConfig = { maxDisagreement: args.maxDisagreement, passBelow: args.passBelow ?? args.maxDisagreement, grid: { ...(args.grid ?? DISAGREEMENT_GRID) } };
  checkConfig(config);
  return { version: 1, config, pairs: 0, disagreements: 0, windows: 0, maxFailLog: 0, maxPassLog: 0 };
}

/** The alternatives p_k (odds(p0)·S^(direction·k/K)). */
function alternatives(p0: number, grid: MixtureGrid, direction: 1 | -1): number[] {
  const lnOdds0 = Math.log(p0 / (1 - p0));
  const out: number[] = [];
  for (let k = 1; k <= grid.points; k++) {
    const lnOdds = lnOdds0 + (direction * k * Math.log(grid.span)) / grid.points;
    out.push(1 / (1 + Math.exp(-lnOdds)));
  }
  return out;
}

/** ln E_n of the mixture for totals (n, x) against p0 (see the module comment). */
export function logMixtureE(n: number, x: number, p0: number, grid: MixtureGrid, direction: 1 | -1): number {
  const terms = alternatives(p0, grid, direction).map((p) => x * Math.log(p / p0) + (n - x) * Math.log1p(-p) - (n - x) * Math.log1p(-p0));
  let m = -Infinity;
  for (const t of terms) m = Math.max(m, t);
  let s = 0;
  for (const t of terms) s += Math.exp(t - m);
  return m + Math.log(s / terms.length);
}

/** Why a window cannot be counted, or null. */
export function disagreementWindowProblem(w: DisagreementWindow): string | null {
  if (!(Number.isInteger(w.pairs) && w.pairs >= 0)) return `pairs must be a whole number ≥ 0 (got ${String(w.pairs)})`;
  if (!(Number.isInteger(w.disagreements) && w.disagreements >= 0)) return `disagreements must be a whole number ≥ 0 (got ${String(w.disagreements)})`;
  if (w.disagreements > w.pairs) return `disagreements ${w.disagreements} exceed pairs ${w.pairs}`;
  return null;
}

/** The state after one more window (a look). Thrown (plain Error, a bug) for counts that make no sense. */
export function addDisagreementWindow(state: DisagreementTestState, w: DisagreementWindow): DisagreementTestState {
  const problem = disagreementWindowProblem(w);
  if (problem) throw new Error(`disagreement test: window cannot be counted: ${problem}`);
  const pairs = state.pairs + w.pairs;
  const disagreements = state.disagreements + w.disagreements;
  const { maxDisagreement, passBelow, grid } = state.config;
  return {
    ...state,
    pairs,
    disagreements,
    windows: state.windows + 1,
    maxFailLog: Math.max(state.maxFailLog, logMixtureE(pairs, disagreements, maxDisagreement, grid, 1)),
    maxPassLog: Math.max(state.maxPassLog, logMixtureE(pairs, disagreements, passBelow, grid, -1)),
  };
}

/**
 * The fewest pairs with which a candidate that never disagrees could pass: below it, "too few pairs"
 * is all the test can say. E.g. p0 = 2%, α = 0.01 → 285.
 */
export function pairsToPass(config: Pick<DisagreementTestConfig, 'passBelow' | 'grid'>, alpha: number): number {
  const need = Math.log(1 / alpha);
  let lo = 0;
  let hi = 1;
  while (logMixtureE(hi, 0, config.passBelow, config.grid, -1) < need) {
    lo = hi;
    hi *= 2;
    if (hi > 1e9) return Infinity;
  }
  while (hi - lo > 1) {
    const m = Math.floor((lo + hi) / 2);
    if (logMixtureE(m, 0, config.passBelow, config.grid, -1) >= need) hi = m;
    else lo = m;
  }
  return hi;
}

/** A prediction gate's verdict at one look. */
export interface DisagreementVerdict {
  decision: 'fail' | 'pass' | 'inconclusive';
  /** Why inconclusive: too few pairs for any pass, or not decided yet. */
  cause?: 'too-few-pairs' | 'undecided';
  reason: string;
  pairs: number;
  disagreements: number;
  /** x/n, null with no pairs. */
  estimate: number | null;
  eFail: number;
  ePass: number;
  failThreshold: number;
  passThreshold: number;
  pairsToPass: number;
}

/**
 * The verdict: fail once the fail e-value has reached `failThreshold` (the judge passes G/α), pass once
 * the pass e-value has reached 1/α, else inconclusive — "too few pairs" below {@link pairsToPass}.
 */
export function disagreementVerdict(state: DisagreementTestState, opts: { alpha: number; failThreshold?: number }): DisagreementVerdict {
  if (!(opts.alpha > 0 && opts.alpha < 1)) throw new Error(`disagreement test: alpha must be in (0, 1) (got ${opts.alpha})`);
  const failThreshold = opts.failThreshold ?? 1 / opts.alpha;
  const passThreshold = 1 / opts.alpha;
  const { maxDisagreement, passBelow } = state.config;
  const n = state.pairs;
  const x = state.disagreements;
  const estimate = n > 0 ? x / n : null;
  const needed = pairsToPass(state.config, opts.alpha);
  const pct = (v: number) => `${Number((100 * v).toFixed(2))}%`;
  const base = {
    pairs: n,
    disagreements: x,
    estimate,
    eFail: Math.exp(state.maxFailLog),
    ePass: Math.exp(state.maxPassLog),
    failThreshold,
    passThreshold,
    pairsToPass: needed,
  };
  const observed = `${estimate === null ? 'no pairs' : `disagreement ${pct(estimate)} (${x}/${n} pairs)`}`;
  if (state.maxFailLog >= Math.log(failThreshold)) {
    return { ...base, decision: 'fail', reason: `${observed} > max ${pct(maxDisagreement)} (evidence ${fmtE(base.eFail)} ≥ ${fmtE(failThreshold)})` };
  }
  if (state.maxPassLog >= Math.log(passThreshold)) {
    return { ...base, decision: 'pass', reason: `${observed} < max ${pct(passBelow)} (evidence ${fmtE(base.ePass)} ≥ ${fmtE(passThreshold)})` };
  }
  if (n < needed) {
    return { ...base, decision: 'inconclusive', cause: 'too-few-pairs', reason: `${observed}: too few pairs to pass (at least ${needed} needed at max ${pct(passBelow)} and budget ${opts.alpha})` };
  }
  return { ...base, decision: 'inconclusive', cause: 'undecided', reason: `${observed} vs max ${pct(maxDisagreement)}: not decided yet (evidence fail ${fmtE(base.eFail)}, pass ${fmtE(base.ePass)} of ${fmtE(passThreshold)})` };
}

function fmtE(x: number): string {
  if (x >= 1e6) return x.toExponential(1);
  if (x >= 100) return x.toFixed(0);
  return x.toFixed(x >= 10 ? 1 : 2);
}
