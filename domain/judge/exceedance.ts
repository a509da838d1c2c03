/**
 * Latency as counts (reference §3): freeze a threshold from the baseline BEFORE the test (its p50, p90,
 * p99 over a pre-rollout window), then count, per window, the requests above it on each side. The count
 * test then compares the candidate's exceedance rate with the baseline's, unchanged.
 *
 * A latency tolerance ("10% slower is fine", 1.10) is applied to the candidate's threshold: the candidate
 * counts requests above 1.10 × q, the baseline above q. The null "P(candidate > 1.1q) ≤ P(baseline > q)"
 * says the candidate's quantile is at most 1.1 × the baseline's at that point of the distribution, so the
 * count test runs with ratio tolerance 1 on these counts.
 *
 * Pure: the caller passes latencies (or histogram bins) the activity read; only counts leave this file.
 */
import type { CountWindow } from './count-test.js';

/** Thrown when a latency threshold is asked of data that cannot give one (names the problem). */
export class ExceedanceInputError extends Error {
  override name = 'ExceedanceInputError';
}

/**
 * The q-quantile (0 < q < 1) of baseline latencies, as the smallest sample with at least q of the samples
 * at or below it (the "higher" quantile, so that at most 1 − q of the baseline exceeds it).
 * Example: [5, 1, 3, 2, 4] and q = 0.5 → 3.
 */
export function quantileThreshold(latenciesMs: readonly number[], q: number): number {
  if (!(q > 0 && q < 1)) throw new ExceedanceInputError(`quantile must be between 0 and 1 exclusive (got ${q})`);
  if (latenciesMs.length === 0) throw new ExceedanceInputError('no baseline latencies to take a quantile of');
  if (latenciesMs.some((x) => !Number.isFinite(x) || x < 0)) throw new ExceedanceInputError('latencies must be finite numbers ≥ 0');
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/** Requests strictly above `thresholdMs`. */
export function countAbove(latenciesMs: readonly number[], thresholdMs: number): number {
  let n = 0;
  for (const x of latenciesMs) if (x > thresholdMs) n++;
  return n;
}

/** One histogram bin: requests with latency in (lowerMs, upperMs]; the last bin may have upperMs = null (no bound). */
export interface LatencyBin {
  lowerMs: number;
  upperMs: number | null;
  count: number;
}

function checkBins(bins: readonly LatencyBin[]): void {
  let prev = -Infinity;
  for (const [i, b] of bins.entries()) {
    if (!(Number.isInteger(b.count) && b.count >= 0)) throw new ExceedanceInputError(`bin ${i}: count must be a whole number ≥ 0 (got ${b.count})`);
    if (b.upperMs !== null && !(b.upperMs > b.lowerMs)) throw new ExceedanceInputError(`bin ${i}: upper ${b.upperMs} must exceed lower ${b.lowerMs}`);
    if (b.lowerMs < prev) throw new ExceedanceInputError(`bin ${i}: bins must be sorted and must not overlap (lower ${b.lowerMs} < previous upper ${prev})`);
    if (b.upperMs === null && i !== bins.length - 1) throw new ExceedanceInputError(`bin ${i}: only the last bin may be unbounded`);
    prev = b.upperMs ?? Infinity;
  }
}

/**
 * The q-quantile threshold from a histogram of baseline latencies: the upper edge of the bin where the
 * cumulative count first reaches q (so the threshold is a bin edge and exceedances can be counted exactly).
 * Example: bins (0,10]:50, (10,20]:40, (20,50]:10, q = 0.9 → 20.
 */
export function quantileThresholdFromHistogram(bins: readonly LatencyBin[], q: number): number {
  if (!(q > 0 && q < 1)) throw new ExceedanceInputError(`quantile must be between 0 and 1 exclusive (got ${q})`);
  checkBins(bins);
  const total = bins.reduce((s, b) => s + b.count, 0);
  if (total === 0) throw new ExceedanceInputError('the histogram holds no requests');
  let cum = 0;
  for (const b of bins) {
    cum += b.count;
    if (cum >= q * total) {
      if (b.upperMs === null) throw new ExceedanceInputError(`the ${q} quantile falls in the unbounded last bin (above ${b.lowerMs}ms); add finer bins`);
      return b.upperMs;
    }
  }
  /* c8 ignore next */
  throw new ExceedanceInputError('quantile not reached');
}

/**
 * Requests above `thresholdMs` in a histogram. The threshold must be a bin edge (a threshold inside a bin
 * cannot be counted exactly, and guessing would bias the test one way or the other).
 */
export function countAboveInHistogram(bins: readonly LatencyBin[], thresholdMs: number): number {
  checkBins(bins);
  let n = 0;
  for (const b of bins) {
    if (b.lowerMs >= thresholdMs) n += b.count;
    else if (b.upperMs === null || b.upperMs > thresholdMs) {
      if (b.count > 0) throw new ExceedanceInputError(`threshold ${thresholdMs}ms falls inside bin (${b.lowerMs}, ${b.upperMs ?? '∞'}]ms; use a bin edge`);
    }
  }
  return n;
}

/** Refuses a threshold that is not a number ≥ 0 and a slowdown tolerance below 1. */
function checkThreshold(thresholdMs: number, slowdownTolerance: number): void {
  if (!(Number.isFinite(thresholdMs) && thresholdMs >= 0)) throw new ExceedanceInputError(`threshold must be a number ≥ 0 (got ${thresholdMs})`);
  if (!(Number.isFinite(slowdownTolerance) && slowdownTolerance >= 1)) throw new ExceedanceInputError(`slowdown tolerance must be ≥ 1 (got ${slowdownTolerance})`);
}

/**
 * One window's exceedance counts for the count test: the baseline's requests above `thresholdMs`, the
 * candidate's above `thresholdMs × slowdownTolerance` (1.10 = 10% slower is fine).
 */
export function exceedanceWindow(
  candidateLatenciesMs: readonly number[],
  baselineLatenciesMs: readonly number[],
  thresholdMs: number,
  slowdownTolerance = 1,
): CountWindow {
  checkThreshold(thresholdMs, slowdownTolerance);
  return {
    candidateRequests: candidateLatenciesMs.length,
    candidateEvents: countAbove(candidateLatenciesMs, thresholdMs * slowdownTolerance),
    baselineRequests: baselineLatenciesMs.length,
    baselineEvents: countAbove(baselineLatenciesMs, thresholdMs),
  };
}

/**
 * One window's exceedance counts for the count test from PAIRED requests: request i of the candidate is
 * paired with request i of the baseline (with mirrored traffic, the same request on both deployments;
 * otherwise any pairing fixed before looking at latencies, e.g. arrival order). Only discordant pairs
 * count: the candidate's events are pairs where the candidate exceeds `thresholdMs × slowdownTolerance`
 * and the baseline does not exceed `thresholdMs`; the baseline's events are pairs where only the baseline
 * exceeds. Both sides get the number of pairs as requests (requests beyond the shorter side are dropped).
 *
 * Why: the unpaired counts (exceedanceWindow) are compared through the split of exceedances alone, which
 * at a median threshold ignores that half of the requests did NOT exceed; discordant pairs carry that
 * information. At the p50 gate with a +25% slowdown (tolerance 5%, σ = 0.5 lognormal) the evidence grows
 * about 2.3× faster per request (bench/results/judge.md measures the effect on detection time).
 *
 * Validity [derived; checked exactly in test/domain/judge.test.ts]: for independent pairs with
 * a = P(only the candidate exceeds) and b = P(only the baseline exceeds), a − b = P(candidate exceeds) −
 * P(baseline exceeds), whatever the correlation within a pair. With equal exposures and ratio tolerance 1
 * the count test's factor for alternative r has E ≤ (1 + (a − b)(r − 1)/(r + 1))^n, which is ≤ 1 under
 * "the candidate exceeds no more often than the baseline" (r > 1, fail test) and under "at least as often"
 * (r < 1, pass test). So these counts must go to a gate with tolerance 1 (no ratio, no additive part): the
 * slowdown tolerance lives in the threshold, as with exceedanceWindow. The rate estimate and interval of
 * such a gate are the ratio of discordant pairs (a/b), not of exceedance rates.
 */
export function pairedExceedanceWindow(
  candidateLatenciesMs: readonly number[],
  baselineLatenciesMs: readonly number[],
  thresholdMs: number,
  slowdownTolerance = 1,
): CountWindow {
  checkThreshold(thresholdMs, slowdownTolerance);
  const pairs = Math.min(candidateLatenciesMs.length, baselineLatenciesMs.length);
  const candidateThreshold = thresholdMs * slowdownTolerance;
  let onlyCandidate = 0;
  let onlyBaseline = 0;
  for (let i = 0; i < pairs; i++) {
    const c = candidateLatenciesMs[i]!;
    const b = baselineLatenciesMs[i]!;
    if (!(Number.isFinite(c) && c >= 0 && Number.isFinite(b) && b >= 0)) throw new ExceedanceInputError(`latencies must be finite numbers ≥ 0 (pair ${i}: ${c}, ${b})`);
    const cAbove = c > candidateThreshold;
    const bAbove = b > thresholdMs;
    if (cAbove && !bAbove) onlyCandidate++;
    else if (bAbove && !cAbove) onlyBaseline++;
  }
  return { candidateRequests: pairs, candidateEvents: onlyCandidate, baselineRequests: pairs, baselineEvents: onlyBaseline };
}
