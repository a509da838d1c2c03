/**
 * `gates.predictions` in the plan: judge the candidate on what it predicts, from mirrored pairs. The zod
 * schema is exported for domain/plan.ts to plug in as `gates.predictions` (not wired yet). Example:
 *
 *     gates:
 *       predictions:
 *         label: isFraud                      # JSON path into the response; "$.predictions[0].label" works too
 *         score: fraudProbability
 *         maxDisagreement: 0.02               # or "2%"; judged by the disagreement test with the step's budget
 *         maxScoreShift: { statistic: psi, max: 0.2 }   # psi | jensen_shannon | ks, over the step's pairs
 *         slices: [merchantCategory]
 */
import { z } from 'zod';
import { SCORE_SHIFT_STATISTICS, scoreShift, type ScoreShiftStatistic } from './drift.js';
import { parseFieldPath, type PathStep } from './field-path.js';

/** A field path, parsed: `{ text, steps }`. The message names what is wrong with the path. */
export const FieldPathSchema = z
  .string({ error: 'must be a field path such as isFraud or $.predictions[0].label' })
  .transform((text, ctx): { text: string; steps: PathStep[] } => {
    const r = parseFieldPath(text);
    if ('problem' in r) {
      ctx.addIssue({ code: 'custom', message: `field path ${r.problem}` });
      return z.NEVER;
    }
    return { text: text.trim(), steps: r.steps };
  });

/** A share in (0, 1): `0.02` or `"2%"`. */
const share = (what: string) =>
  z
    .union([z.number(), z.string()], { error: `must be a share like 0.02 or "2%" (${what})` })
    .transform((v, ctx) => {
      const n = typeof v === 'number' ? v : /^\s*\d+(\.\d+)?\s*%\s*$/.test(v) ? Number(v.trim().slice(0, -1).trim()) / 100 : NaN;
      if (!(Number.isFinite(n) && n > 0 && n < 1)) {
        ctx.addIssue({ code: 'custom', message: `must be a share above 0 and below 1, like 0.02 or "2%" (${what}; got ${JSON.stringify(v)})` });
        return z.NEVER;
      }
      return n;
    });

/** The most a statistic can be: PSI is unbounded, Jensen-Shannon distance (base 2) and KS are in [0, 1]. */
const STATISTIC_MAX: Record<ScoreShiftStatistic, number> = { psi: Infinity, jensen_shannon: 1, ks: 1 };

const scoreShiftSchema = z
  .strictObject({
    statistic: z.enum(SCORE_SHIFT_STATISTICS, { error: `must be one of ${SCORE_SHIFT_STATISTICS.join(', ')} (Azure ML model monitoring's names)` }),
    max: z.number({ error: 'must be a number above 0' }).gt(0, { error: 'must be above 0' }),
  })
  .superRefine((s, ctx) => {
    if (s.max >= STATISTIC_MAX[s.statistic]) {
      ctx.addIssue({ code: 'custom', path: ['max'], message: `must be below ${STATISTIC_MAX[s.statistic]}: ${s.statistic} is at most 1, so max ${s.max} could never fail` });
    }
  });

export const PredictionGateSchema = z
  .strictObject({
    label: FieldPathSchema,
    score: FieldPathSchema.optional(),
    maxDisagreement: share('the largest acceptable share of pairs whose labels differ'),
    maxScoreShift: scoreShiftSchema.optional(),
    /** |candidate − baseline| above this counts as a score difference (reported, not judged). */
    scoreTolerance: z.number({ error: 'must be a number above 0' }).gt(0, { error: 'must be above 0' }).default(0.1),
    slices: z.array(FieldPathSchema, { error: 'must be a list of input field paths, e.g. [merchantCategory]' }).max(10, { error: 'must list at most 10 fields' }).default([]),
  })
  .superRefine((g, ctx) => {
    if (g.maxScoreShift && !g.score) {
      ctx.addIssue({ code: 'custom', path: ['maxScoreShift'], message: 'needs score: the response field holding the model\'s score (e.g. score: fraudProbability)' });
    }
    const seen = new Set<string>();
    g.slices.forEach((s, i) => {
      const k = JSON.stringify(s.steps);
      if (seen.has(k)) ctx.addIssue({ code: 'custom', path: ['slices', i], message: `lists ${s.text} twice` });
      seen.add(k);
    });
  });

export type PredictionGateInput = z.input<typeof PredictionGateSchema>;
export type PredictionGate = z.output<typeof PredictionGateSchema>;

/** Thrown when a `gates.predictions` block is not valid; `issues` name each path and what is wrong. */
export class InvalidPredictionGate extends Error {
  constructor(readonly issues: string[]) {
    super(`gates.predictions: ${issues.join('; ')}`);
    this.name = 'InvalidPredictionGate';
  }
}

/** Parses a `gates.predictions` block, or throws InvalidPredictionGate naming every problem with its path. */
export function parsePredictionGate(input: unknown): PredictionGate {
  const r = PredictionGateSchema.safeParse(input);
  if (r.success) return r.data;
  throw new InvalidPredictionGate(r.error.issues.map((i) => `${['gates', 'predictions', ...i.path].map(String).join('.').replace(/\.(\d+)(?=\.|$)/g, '[$1]')}: ${i.message}`));
}

/** The score-shift check over the step's bins: a threshold on a descriptive statistic (no false-alarm claim). */
export interface ScoreShiftVerdict {
  decision: 'fail' | 'pass' | 'inconclusive';
  statistic: ScoreShiftStatistic;
  value: number | null;
  max: number;
  pairs: number;
  reason: string;
}

/**
 * `maxScoreShift` over the step's accumulated score bins: fail when the statistic exceeds max, pass when
 * not, inconclusive below `minPairs` compared scores (a statistic over a handful of pairs is noise).
 */
export function scoreShiftVerdict(gate: NonNullable<PredictionGate['maxScoreShift']>, bins: { baseline: number[]; candidate: number[] }, minPairs: number): ScoreShiftVerdict {
  const pairs = bins.baseline.reduce((a, x) => a + x, 0);
  const value = pairs > 0 ? scoreShift(gate.statistic, bins.baseline, bins.candidate) : null;
  const name = { psi: 'PSI', jensen_shannon: 'Jensen-Shannon distance', ks: 'KS' }[gate.statistic];
  if (value === null || pairs < minPairs) {
    return { decision: 'inconclusive', statistic: gate.statistic, value, max: gate.max, pairs, reason: `score ${name}: too few scored pairs (${pairs} < ${minPairs})` };
  }
  const v = value.toFixed(3);
  return value > gate.max
    ? { decision: 'fail', statistic: gate.statistic, value, max: gate.max, pairs, reason: `score ${name} ${v} > max ${gate.max} over ${pairs} pairs` }
    : { decision: 'pass', statistic: gate.statistic, value, max: gate.max, pairs, reason: `score ${name} ${v} ≤ max ${gate.max} over ${pairs} pairs` };
}
