/**
 * Seeded synthetic traffic for the judge's tests (and, later, its benchmark): per-window counts of
 * requests and events on each side, drawn from known rates, so false alarms and detection times can be
 * measured. Randomness lives here, never in domain/.
 */
import { seededRandom } from '../../emulator/core.js';
import { addWindow, startCountTest, DEFAULT_GRID, type CountTestState, type CountWindow, type Tolerance } from '../../domain/judge/index.js';

/** mulberry32, seeded: the emulator's generator. Returns floats in [0, 1). */
export const seeded = seededRandom;

/** An exact Binomial(n, p) draw: inversion when n·p is small, else a sum of Bernoulli draws. */
export function binomial(rng: () => number, n: number, p: number): number {
  if (p <= 0 || n === 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - binomial(rng, n, 1 - p);
  if (n * p < 200) {
    // Inversion on the CDF: P(k+1) = P(k)·(n−k)/(k+1)·p/(1−p).
    const u = rng();
    let k = 0;
    let pk = Math.exp(n * Math.log1p(-p));
    let cdf = pk;
    while (u > cdf && k < n) {
      pk *= ((n - k) / (k + 1)) * (p / (1 - p));
      k++;
      cdf += pk;
      if (pk === 0 && cdf < u) break; // rounding tail: accept k
    }
    return k;
  }
  let k = 0;
  for (let i = 0; i < n; i++) if (rng() < p) k++;
  return k;
}

/** A count stream: fixed requests per window on each side, events Binomial with the given per-request rates. */
export interface CountScenario {
  candidateRequests: number;
  baselineRequests: number;
  baselineRate: number;
  /** The candidate's per-request event rate. */
  candidateRate: number;
  windows: number;
}

/** The stream's windows for one seed, drawn lazily (a run that decides early draws no more). */
export function* countStream(s: CountScenario, seed: number): Generator<CountWindow> {
  const rng = seeded(seed);
  for (let i = 0; i < s.windows; i++) {
    yield {
      candidateRequests: s.candidateRequests,
      candidateEvents: binomial(rng, s.candidateRequests, s.candidateRate),
      baselineRequests: s.baselineRequests,
      baselineEvents: binomial(rng, s.baselineRequests, s.baselineRate),
    };
  }
}

/** Where one run of a single count test over a stream first crossed its thresholds (1-based window, or null). */
export interface RunOutcome {
  failAt: number | null;
  passAt: number | null;
  final: CountTestState;
}

/** Runs one count test over windows, looking after every window, until it has decided what `stopAt` asks (default both ways). */
export function runCountTest(windows: Iterable<CountWindow>, tolerance: Tolerance, alpha: number, options: { failThreshold?: number; passThreshold?: number; stopAt?: 'fail' | 'pass' | 'both' } = {}): RunOutcome {
  const failThreshold = options.failThreshold ?? 1 / alpha;
  const passThreshold = options.passThreshold ?? 1 / alpha;
  const stopAt = options.stopAt ?? 'both';
  let s = startCountTest({ fail: tolerance, pass: tolerance, grid: DEFAULT_GRID });
  let failAt: number | null = null;
  let passAt: number | null = null;
  let i = 0;
  for (const w of windows) {
    s = addWindow(s, w, alpha);
    i++;
    if (failAt === null && s.maxFailLog >= Math.log(failThreshold)) failAt = i;
    if (passAt === null && s.maxPassLog >= Math.log(passThreshold)) passAt = i;
    if (stopAt === 'fail' ? failAt !== null : stopAt === 'pass' ? passAt !== null : failAt !== null && passAt !== null) break;
  }
  return { failAt, passAt, final: s };
}

/** The p-quantile of numbers (nearest rank); null for an empty list. */
export function quantile(xs: readonly number[], p: number): number | null {
  if (xs.length === 0) return null;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** A standard normal draw (Box–Muller). */
export function normal(rng: () => number): number {
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
