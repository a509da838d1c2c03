// The credit-card fraud model family served by the emulator: real logistic-regression scoring over a
// synthetic transaction schema, with committed weights (fraud-detector.weights.json). Each version is a
// `ScoringModel`; the emulator runs it inside a deployment's worker thread, and the benchmark calls it
// directly in-process.
import { z } from 'zod';
import weightsJson from './fraud-detector.weights.json' with { type: 'json' };

const weightsFile: { features: string[]; weights: Record<string, { bias: number; coef: number[] }> } = weightsJson;

export const MERCHANT_CATEGORIES = ['grocery', 'restaurant', 'gas', 'electronics', 'travel', 'online', 'jewelry', 'atm'] as const;

/** One card transaction as the scoring API receives it. */
export const transactionSchema = z.object({
  amount: z.number().nonnegative(),
  hour: z.number().int().min(0).max(23),
  merchantCategory: z.string(),
  distanceFromHomeKm: z.number().nonnegative(),
  cardPresent: z.boolean(),
  transactionsLast24h: z.number().int().nonnegative(),
  avgAmount30d: z.number().nonnegative(),
  foreignCountry: z.boolean(),
  accountAgeDays: z.number().int().nonnegative(),
});
export type Transaction = z.infer<typeof transactionSchema>;

/** Request body of the scoring API: `{ "transactions": [ ... ] }` (1 to 100 transactions). */
export const scoringRequestSchema = z.object({ transactions: z.array(transactionSchema).min(1).max(100) });

export interface Prediction {
  fraudProbability: number;
  isFraud: boolean;
}

/** Thrown by model code for a request it cannot score; the endpoint answers 424 with this status and reason. */
export class ModelError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'ModelError';
  }
}

/** A loaded model version: `score` takes the parsed JSON body and returns the JSON answer, or throws ModelError. */
export interface ScoringModel {
  readonly id: string;
  score(body: unknown): unknown;
}

/** Feature vector in the order of `weightsFile.features`. */
export function features(t: Transaction): number[] {
  const cat = t.merchantCategory;
  return [
    Math.log1p(t.amount),
    Math.min(t.amount / Math.max(t.avgAmount30d, 1), 20),
    t.hour < 6 ? 1 : 0,
    Math.log1p(t.distanceFromHomeKm),
    t.cardPresent ? 0 : 1,
    Math.min(t.transactionsLast24h, 50) / 10,
    t.foreignCountry ? 1 : 0,
    t.accountAgeDays < 30 ? 1 : 0,
    cat === 'electronics' ? 1 : 0,
    cat === 'travel' ? 1 : 0,
    cat === 'online' ? 1 : 0,
    cat === 'jewelry' ? 1 : 0,
    cat === 'atm' ? 1 : 0,
  ];
}

function logistic(weights: { bias: number; coef: number[] }, x: number[]): number {
  let z = weights.bias;
  for (let i = 0; i < x.length; i++) z += (weights.coef[i] ?? 0) * (x[i] ?? 0);
  return 1 / (1 + Math.exp(-z));
}

function parseRequest(body: unknown): Transaction[] {
  const parsed = scoringRequestSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? issue.path.join('.') || '(body)' : '(body)';
    throw new ModelError(400, `Invalid input at ${where}: ${issue?.message ?? 'bad request'}`);
  }
  return parsed.data.transactions;
}

function weightsFor(name: string): { bias: number; coef: number[] } {
  const w = weightsFile.weights[name];
  if (!w) throw new Error(`no weights named ${name}`);
  return w;
}

interface VersionOptions {
  weights: string;
  /** Rounds of pairwise feature-interaction expansion per transaction (real CPU work; makes the version slow). */
  interactionRounds?: number;
  /** Raise a model error for inputs outside the range the version was trained on. */
  strictRanges?: boolean;
  /** Bytes of per-request feature cache the version keeps and never frees (a memory leak). */
  leakBytesPerRequest?: number;
}

function buildVersion(id: string, opts: VersionOptions): ScoringModel {
  const w = weightsFor(opts.weights);
  const leak: number[][] = [];
  return {
    id,
    score(body: unknown): unknown {
      const txs = parseRequest(body);
      const predictions: Prediction[] = [];
      for (const t of txs) {
        if (opts.strictRanges) {
          if (!(MERCHANT_CATEGORIES as readonly string[]).includes(t.merchantCategory)) {
            throw new ModelError(500, `ValueError: unknown merchantCategory '${t.merchantCategory}'`);
          }
          if (t.distanceFromHomeKm > 1000) {
            throw new ModelError(500, `ValueError: distanceFromHomeKm ${t.distanceFromHomeKm} outside training range [0, 1000]`);
          }
        }
        const x = features(t);
        let p = logistic(w, x);
        if (opts.interactionRounds) {
          // Pairwise interaction terms, recomputed per round with a slowly decaying weight: the sum converges
          // to a tiny correction, so predictions stay those of the base weights; the CPU time is real.
          let corr = 0;
          for (let r = 1; r <= opts.interactionRounds; r++) {
            const k = 1e-9 / r;
            for (let i = 0; i < x.length; i++) {
              const xi = x[i] ?? 0;
              for (let j = i + 1; j < x.length; j++) corr += k * xi * (x[j] ?? 0);
            }
          }
          p = Math.min(1, Math.max(0, p + corr));
        }
        if (opts.leakBytesPerRequest) {
          // A feature cache that is never evicted: real heap held by the worker.
          leak.push(new Array<number>(Math.ceil(opts.leakBytesPerRequest / 8)).fill(p + leak.length));
        }
        predictions.push({ fraudProbability: Math.round(p * 1e6) / 1e6, isFraud: p >= 0.5 });
      }
      return { model: id, predictions };
    },
  };
}

/** Description of a shipped model version (also served at the ARM model-version paths). */
export interface ModelVersionInfo {
  name: string;
  version: string;
  description: string;
  tags: Record<string, string>;
  load(): ScoringModel;
}

/** The fraud-detector versions shipped with the emulator. */
export const fraudDetectorVersions: ModelVersionInfo[] = [
  {
    name: 'fraud-detector',
    version: '1',
    description: 'Baseline logistic regression over 13 transaction features.',
    tags: { role: 'baseline' },
    load: () => buildVersion('fraud-detector:1', { weights: 'v1' }),
  },
  {
    name: 'fraud-detector',
    version: '2',
    description: 'Good candidate: a refit of the same features with slightly different weights.',
    tags: { role: 'candidate' },
    load: () => buildVersion('fraud-detector:2', { weights: 'v2' }),
  },
  {
    name: 'fraud-detector',
    version: '3',
    description: 'Slow: v2 plus a pairwise feature-interaction expansion (about 20-40 ms of CPU per transaction).',
    tags: { role: 'slow' },
    load: () => buildVersion('fraud-detector:3', { weights: 'v2', interactionRounds: 120_000 }),
  },
  {
    name: 'fraud-detector',
    version: '4',
    description: 'Brittle: v2 weights, but raises a model error for distances over 1000 km or unknown merchant categories.',
    tags: { role: 'fails-on-some-inputs' },
    load: () => buildVersion('fraud-detector:4', { weights: 'v2', strictRanges: true }),
  },
  {
    name: 'fraud-detector',
    version: '5',
    description: 'Wrong: a badly fit model that flags far more transactions as fraud.',
    tags: { role: 'predicts-differently' },
    load: () => buildVersion('fraud-detector:5', { weights: 'v5' }),
  },
  {
    name: 'fraud-detector',
    version: '6',
    description: 'Leaky: v2 weights, but keeps 256 KiB of feature cache per transaction and never frees it.',
    tags: { role: 'eats-memory' },
    load: () => buildVersion('fraud-detector:6', { weights: 'v2', leakBytesPerRequest: 256 * 1024 }),
  },
];
