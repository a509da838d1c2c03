/**
 * Distribution-shift statistics between the baseline's and the candidate's outputs, under the names Azure
 * ML's model monitoring uses for prediction drift: population stability index (PSI), Jensen-Shannon
 * distance, and the two-sample Kolmogorov-Smirnov statistic. Pure. Each is checked against a hand
 * computation and against numpy/scipy in test/domain/predictions-oracle.test.ts.
 *
 * They are descriptive thresholds, not sequential tests: a gate compares the statistic over the step's
 * pairs with the plan's `maxScoreShift.max`, once the step has enough pairs. No false-alarm guarantee is
 * claimed for them (the disagreement test carries the rollout's budget).
 */

/** The statistics a `maxScoreShift` gate can name (Azure ML model monitoring's names, snake_case). */
export const SCORE_SHIFT_STATISTICS = ['psi', 'jensen_shannon', 'ks'] as const;
export type ScoreShiftStatistic = (typeof SCORE_SHIFT_STATISTICS)[number];

/**
 * The proportion an empty bin is given in PSI (whose terms are infinite for an empty bin on one side).
 * Bins are floored at this share and the proportions renormalised. 1e-4 is a common choice; a bin
 * empty on both sides contributes 0 either way.
 */
export const PSI_EMPTY_BIN_SHARE = 1e-4;

function proportions(counts: readonly number[]): number[] | null {
  let n = 0;
  for (const c of counts) {
    if (!(Number.isFinite(c) && c >= 0)) throw new Error(`drift: bin counts must be numbers ≥ 0 (got ${c})`);
    n += c;
  }
  return n === 0 ? null : counts.map((c) => c / n);
}

function sameLength(a: readonly number[], b: readonly number[]): void {
  if (a.length !== b.length || a.length === 0) throw new Error(`drift: both sides need the same bins (got ${a.length} and ${b.length})`);
}

/**
 * PSI = Σ (c_i − b_i)·ln(c_i / b_i) over bins, with b, c the baseline's and candidate's proportions
 * (each floored at {@link PSI_EMPTY_BIN_SHARE} and renormalised). Null when a side has no counts.
 * Rules of thumb: < 0.1 little shift, 0.1–0.25 moderate, > 0.25 large.
 *
 * Worked example: baseline [50, 50], candidate [80, 20] → (0.8−0.5)·ln(1.6) + (0.2−0.5)·ln(0.4)
 * = 0.1410 + 0.2749 = 0.4159.
 */
export function psi(baseline: readonly number[], candidate: readonly number[]): number | null {
  sameLength(baseline, candidate);
  const b0 = proportions(baseline);
  const c0 = proportions(candidate);
  if (!b0 || !c0) return null;
  const floor = (p: number[]) => {
    const f = p.map((x) => Math.max(x, PSI_EMPTY_BIN_SHARE));
    const s = f.reduce((a, x) => a + x, 0);
    return f.map((x) => x / s);
  };
  const b = floor(b0);
  const c = floor(c0);
  let s = 0;
  for (let i = 0; i < b.length; i++) {
    if (baseline[i] === 0 && candidate[i] === 0) continue;
    s += (c[i]! - b[i]!) * Math.log(c[i]! / b[i]!);
  }
  return s;
}

/**
 * Jensen-Shannon distance, base 2 (in [0, 1]): sqrt(½·KL(b‖m) + ½·KL(c‖m)), m = (b + c)/2. The
 * square root of the divergence, as scipy's `jensenshannon(b, c, base=2)`. Null when a side has no counts.
 *
 * Worked example: [1, 0] vs [0, 1] → m = [½, ½], KL = 1 bit each → distance 1.
 */
export function jensenShannonDistance(baseline: readonly number[], candidate: readonly number[]): number | null {
  sameLength(baseline, candidate);
  const b = proportions(baseline);
  const c = proportions(candidate);
  if (!b || !c) return null;
  let s = 0;
  for (let i = 0; i < b.length; i++) {
    const m = (b[i]! + c[i]!) / 2;
    if (b[i]! > 0) s += 0.5 * b[i]! * Math.log2(b[i]! / m);
    if (c[i]! > 0) s += 0.5 * c[i]! * Math.log2(c[i]! / m);
  }
  return Math.sqrt(Math.max(0, s));
}

/**
 * The two-sample Kolmogorov-Smirnov statistic D = sup_x |F_b(x) − F_c(x)| of two samples (exact, as
 * scipy's `ks_2samp(b, c).statistic`). Null when a side is empty. Sorts copies; O((n+m) log(n+m)).
 */
export function ksStatistic(baseline: readonly number[], candidate: readonly number[]): number | null {
  if (baseline.length === 0 || candidate.length === 0) return null;
  const a = Float64Array.from(baseline).sort();
  const b = Float64Array.from(candidate).sort();
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < a.length && j < b.length) {
    const x = Math.min(a[i]!, b[j]!);
    while (i < a.length && a[i]! <= x) i++;
    while (j < b.length && b[j]! <= x) j++;
    d = Math.max(d, Math.abs(i / a.length - j / b.length));
  }
  return d;
}

/**
 * KS from binned counts: the largest difference of the two cumulative distributions at the bin edges.
 * It never exceeds the exact D and equals it when no sample falls strictly inside a bin where the
 * CDFs cross; with the default 20 bins over [0, 1] it is within one bin's mass of D. Bins add up across
 * windows, so this is the form a step-level gate uses. Null when a side has no counts.
 */
export function ksFromBins(baseline: readonly number[], candidate: readonly number[]): number | null {
  sameLength(baseline, candidate);
  const b = proportions(baseline);
  const c = proportions(candidate);
  if (!b || !c) return null;
  let cb = 0;
  let cc = 0;
  let d = 0;
  for (let i = 0; i < b.length; i++) {
    cb += b[i]!;
    cc += c[i]!;
    d = Math.max(d, Math.abs(cb - cc));
  }
  return Math.min(1, d);
}

/** The named statistic over binned counts (the step-level form). */
export function scoreShift(statistic: ScoreShiftStatistic, baseline: readonly number[], candidate: readonly number[]): number | null {
  switch (statistic) {
    case 'psi':
      return psi(baseline, candidate);
    case 'jensen_shannon':
      return jensenShannonDistance(baseline, candidate);
    case 'ks':
      return ksFromBins(baseline, candidate);
    default: {
      const never: never = statistic;
      throw new Error(`unknown statistic ${String(never)}`);
    }
  }
}

/**
 * Default score bin edges: 20 bins of width 0.05 over [0, 1]. Bin i holds edges[i] ≤ x < edges[i+1]
 * (the last bin includes 1); {@link binIndex} adds one bin below the first edge and one above the last.
 */
export const DEFAULT_SCORE_EDGES: readonly number[] = Array.from({ length: 21 }, (_, i) => Math.round(i * 5) / 100);

/**
 * The bin of x for `edges` (ascending, ≥ 2): 0 = below edges[0], 1..k = the k = edges.length − 1 bins,
 * k + 1 = above the last edge. So counts arrays have edges.length + 1 entries.
 */
export function binIndex(x: number, edges: readonly number[]): number {
  const k = edges.length - 1;
  if (x < edges[0]!) return 0;
  if (x > edges[k]!) return k + 1;
  if (x === edges[k]) return k;
  let lo = 0;
  let hi = k; // edges[lo] ≤ x < edges[hi]
  while (hi - lo > 1) {
    const m = (lo + hi) >> 1;
    if (x >= edges[m]!) lo = m;
    else hi = m;
  }
  return lo + 1;
}
