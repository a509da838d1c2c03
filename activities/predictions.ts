/**
 * `readPredictionPairs`: reads the baseline's and the candidate's collected model inputs and outputs for
 * one analysis window from the blob store Azure ML's data collector writes to, pairs them
 * (domain/predictions), and returns aggregates only — counts, bins, label classes and slice values, never
 * a payload, an input or a single prediction (DESIGN.md invariant 9). The values are read into memory
 * here and dropped when the activity returns.
 *
 * One remote effect: reads. Only the hour (or day) folders the window touches are listed; a folder
 * without blobs is counted as missing (collection off or paused, sampling, no traffic), never an error.
 * A store that cannot be read (unreachable, 401/403, no such container) fails with
 * `CollectedDataUnavailable` and the reason, which the workflow turns into an inconclusive analysis.
 */
import { isRestError } from '@azure/core-rest-pipeline';
import type { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import type { ApplicationFailure } from '@temporalio/activity';
import { ErrorType } from '../domain/errors.js';
import {
  ReadPredictionPairsInputSchema,
  collectedFolders,
  emptySkips,
  pairPredictions,
  parseCollectedLines,
  type CollectedUnit,
  type LineSkipReason,
  type ParsedLines,
} from '../domain/predictions/index.js';
import type { AzureClientFactory } from './azure-clients.js';
import { failure } from './failures.js';
import { heartbeat } from './heartbeat.js';
import type { ReadPredictionPairsInput, ReadPredictionPairsResult } from './types.js';

export interface PredictionActivityOptions {
  /** Blobs downloaded at once (default 4: each is held as a buffer and a string while it is parsed). */
  concurrency?: number;
  /** Stop reading past this many bytes in one analysis (default 256 MiB); the rest is counted as not read. */
  maxBytes?: number;
  /** Blob client for a URL; by default the factory's (worker credential, or Azurite's account on the emulator). */
  blobService?: (blobEndpoint: string) => BlobServiceClient;
}

type Side = 'baseline' | 'candidate';
type Kind = 'inputs' | 'outputs';

/** Thrown as CollectedDataUnavailable: the reason in words and as data. */
function unavailable(what: string, err: unknown): ApplicationFailure {
  const status = isRestError(err) ? err.statusCode : undefined;
  const code = isRestError(err) ? err.code : (err as { code?: string }).code;
  const reason =
    status === 401 || status === 403
      ? 'forbidden'
      : status === 404
        ? 'not_found'
        : status === undefined
          ? 'unreachable'
          : 'error';
  const hint =
    reason === 'forbidden'
      ? ": the worker's identity needs the Storage Blob Data Reader role on the container"
      : reason === 'not_found'
        ? ': no such container (is data collection enabled on the deployment?)'
        : '';
  return failure(ErrorType.CollectedDataUnavailable, `${what} failed (${reason}${status ? `, HTTP ${status}` : ''}${code ? `, ${code}` : ''})${hint}`, {
    cause: err,
    details: [{ reason, ...(status !== undefined ? { statusCode: status } : {}), ...(code ? { azureCode: code } : {}) }],
    // A missing role or container does not come back within a retry; the next analysis tries again.
    nonRetryable: reason === 'forbidden' || reason === 'not_found',
  });
}

async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await fn(item);
    }
  });
  await Promise.all(workers);
}

export function createPredictionActivities(factory: AzureClientFactory, opts: PredictionActivityOptions = {}) {
  const blobServiceFor = opts.blobService ?? ((url: string) => factory.blobService(url));
  const concurrency = opts.concurrency ?? 4;
  const maxBytes = opts.maxBytes ?? 256 * 2 ** 20;

  return {
    async readPredictionPairs(raw: ReadPredictionPairsInput): Promise<ReadPredictionPairsResult> {
      const parsed = ReadPredictionPairsInputSchema.safeParse(raw);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(input)'}: ${i.message}`);
        throw failure(ErrorType.InvalidPlan, `readPredictionPairs: invalid input: ${issues.join('; ')}`, { details: [{ issues }], nonRetryable: true });
      }
      const input = parsed.data;
      const started = Date.now();
      const startMs = Date.parse(input.window.start);
      const endMs = Date.parse(input.window.end);
      let container: ContainerClient;
      try {
        container = blobServiceFor(input.store.blobEndpoint).getContainerClient(input.store.container);
      } catch (err) {
        throw unavailable(`opening container '${input.store.container}' at ${input.store.blobEndpoint}`, err);
      }

      const read = {
        folders: 0,
        missingFolders: 0,
        missingFolderExamples: [] as string[],
        blobs: 0,
        bytes: 0,
        blobsNotRead: 0,
        lines: 0,
        outsideWindow: 0,
        skipped: emptySkips(),
      };
      const units: Record<Side, Record<Kind, CollectedUnit[]>> = { baseline: { inputs: [], outputs: [] }, candidate: { inputs: [], outputs: [] } };

      const jobs: { side: Side; kind: Kind; name: string }[] = [];
      const sides: [Side, string][] = [['baseline', input.baseline], ['candidate', input.candidate]];
      for (const [side, deployment] of sides) {
        for (const kind of ['inputs', 'outputs'] as const) {
          const folders = collectedFolders({
            root: input.store.root,
            endpoint: input.endpoint.endpoint,
            deployment,
            collection: input.collections[kind],
            startMs,
            endMs,
            rollingRate: input.store.rollingRate,
          });
          for (const prefix of folders) {
            read.folders += 1;
            let found = 0;
            try {
              for await (const blob of container.listBlobsFlat({ prefix })) {
                if (!blob.name.endsWith('.jsonl')) continue;
                jobs.push({ side, kind, name: blob.name });
                found += 1;
              }
            } catch (err) {
              throw unavailable(`listing ${prefix} in container '${input.store.container}'`, err);
            }
            if (found === 0) {
              read.missingFolders += 1;
              if (read.missingFolderExamples.length < 5) read.missingFolderExamples.push(prefix);
            }
          }
        }
      }
      heartbeat({ phase: 'reading', blobs: jobs.length });
      const listedAt = Date.now();
      let parseMs = 0;

      await mapLimit(jobs, concurrency, async (job) => {
        if (read.bytes >= maxBytes) {
          read.blobsNotRead += 1;
          return;
        }
        let text: string;
        try {
          const buffer = await container.getBlobClient(job.name).downloadToBuffer();
          read.bytes += buffer.length;
          text = buffer.toString('utf8');
        } catch (err) {
          if (isRestError(err) && err.statusCode === 404) return; // deleted between list and read (retention)
          throw unavailable(`reading ${job.name}`, err);
        }
        read.blobs += 1;
        const parseStart = Date.now();
        const p: ParsedLines = parseCollectedLines(text, { collection: input.collections[job.kind] });
        parseMs += Date.now() - parseStart;
        read.lines += p.lines;
        for (const [k, v] of Object.entries(p.skipped) as [LineSkipReason, number][]) read.skipped[k] += v;
        const into = units[job.side][job.kind];
        for (const u of p.units) {
          if (u.time >= startMs && u.time < endMs) into.push(u);
          else read.outsideWindow += 1;
        }
        if (read.blobs % 50 === 0) heartbeat({ phase: 'reading', blobs: jobs.length, read: read.blobs });
      });

      const readAt = Date.now();
      const summary = pairPredictions(units.baseline, units.candidate, {
        label: input.label.steps,
        ...(input.score ? { score: input.score.steps } : {}),
        scoreTolerance: input.scoreTolerance,
        slices: input.slices.map((s) => s.steps),
        ...(input.scoreEdges ? { scoreEdges: input.scoreEdges } : {}),
        joinWindowMs: input.joinWindowMs,
      });
      return {
        window: { start: new Date(startMs).toISOString(), end: new Date(endMs).toISOString() },
        read: {
          ...read,
          units: {
            baseline: { inputs: units.baseline.inputs.length, outputs: units.baseline.outputs.length },
            candidate: { inputs: units.candidate.inputs.length, outputs: units.candidate.outputs.length },
          },
          elapsedMs: Date.now() - started,
          timings: { listMs: listedAt - started, readMs: readAt - listedAt, parseMs, pairMs: Date.now() - readAt },
        },
        summary,
      };
    },
  };
}
