/**
 * The input of the `readPredictionPairs` activity, as a zod schema: the activity parses what the
 * workflow sends (a workflow started by an older or newer build may send something else), so a bad
 * input fails with a message naming the field, not deep inside the reader.
 */
import { z } from 'zod';
import { FieldPathSchema } from './gate.js';

const name = (what: string) =>
  z
    .string({ error: `must be the ${what}` })
    .min(1, { error: `must be the ${what} (not empty)` })
    .refine((s) => !/[/\\?#]/.test(s), { error: `must be the ${what}: a name, without '/', '\\', '?' or '#'` });

const isoTime = z
  .string({ error: 'must be an ISO 8601 time such as 2026-11-26T10:00:00Z' })
  .refine((s) => Number.isFinite(Date.parse(s)), { error: 'must be an ISO 8601 time such as 2026-11-26T10:00:00Z' });

export const ReadPredictionPairsInputSchema = z
  .strictObject({
    endpoint: z.looseObject({ endpoint: name('endpoint name') }),
    baseline: name('baseline deployment name'),
    candidate: name('candidate deployment name'),
    /** Where the collector writes: the blob service URL (no SAS, no key), the container, and the path root. */
    store: z.strictObject({
      blobEndpoint: z
        .string({ error: 'must be the blob service URL, e.g. https://acct.blob.core.windows.net' })
        .refine((u) => /^https?:\/\/[^\s?#@]+$/.test(u), { error: 'must be the blob service URL (http(s), no query string: a SAS token must not travel in the workflow history)' }),
      container: z.string({ error: 'must be the container name' }).regex(/^[a-z0-9](?:[a-z0-9-]{1,61})[a-z0-9]$/, { error: 'must be a container name: 3–63 lower-case letters, digits and hyphens' }),
      root: z.string().default('modelDataCollector'),
      rollingRate: z.enum(['Hour', 'Day'], { error: 'must be Hour or Day (the layouts Azure documents)' }).default('Hour'),
    }),
    window: z
      .strictObject({ start: isoTime, end: isoTime })
      .refine((w) => Date.parse(w.end) > Date.parse(w.start), { error: 'end must be after start' })
      .refine((w) => Date.parse(w.end) - Date.parse(w.start) <= 7 * 86_400_000, { error: 'must span at most 7 days' }),
    collections: z.strictObject({ inputs: z.string().min(1), outputs: z.string().min(1) }).default({ inputs: 'model_inputs', outputs: 'model_outputs' }),
    label: FieldPathSchema,
    score: FieldPathSchema.optional(),
    scoreTolerance: z.number().gt(0).default(0.1),
    slices: z.array(FieldPathSchema).max(10).default([]),
    scoreEdges: z
      .array(z.number())
      .min(2)
      .max(201)
      .refine((e) => e.every((x, i) => i === 0 || x > e[i - 1]!), { error: 'must be ascending' })
      .optional(),
    joinWindowMs: z.int().min(0).max(60_000).default(2000),
  });

/** What the workflow sends (paths as text). */
export type ReadPredictionPairsInputData = z.input<typeof ReadPredictionPairsInputSchema>;
/** What the activity works with (paths parsed). */
export type ReadPredictionPairsParsed = z.output<typeof ReadPredictionPairsInputSchema>;
