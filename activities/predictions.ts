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
import { StringDecoder } from 'node:string_decoder';
import { createPipelineRequest, isRestError } from '@azure/core-rest-pipeline';
import type { BlobClient, BlobServiceClient, ContainerClient } from '@azure/storage-blob';
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
import { failure, genericAzureFailure } from './failures.js';
import { heartbeat } from './heartbeat.js';
import type { ReadDataCollectionInput, ReadDataCollectionResult, ReadPredictionPairsInput, ReadPredictionPairsResult } from './types.js';

export interface PredictionActivityOptions {
  /** Blobs downloaded at once (default 4; each is parsed as it streams in, never held whole). */
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

async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      await fn(items[index]!, index);
    }
  });
  await Promise.all(workers);
}

/**
 * Downloads one blob (one GET) and parses its lines as the body streams in, so the blob is never held
 * whole, as bytes or as text (an hour of one instance's collection can be hundreds of MiB). Lines are cut
 * at '\n' only, as {@link parseCollectedLines} cuts them, so the result is that of parsing the whole text.
 */
async function readBlobLines(blob: BlobClient, collection: string): Promise<{ parsed: ParsedLines; bytes: number; parseMs: number }> {
  const parsed: ParsedLines = { units: [], lines: 0, skipped: emptySkips() };
  const response = await blob.download();
  const body = response.readableStreamBody;
  if (!body) throw new Error(`downloading ${blob.name} gave no body`);
  const decoder = new StringDecoder('utf8'); // holds a character split across two chunks
  let bytes = 0;
  let parseMs = 0;
  let partial = ''; // the text after the last '\n' so far: the start of a line still arriving
  const parse = (text: string) => {
    const started = performance.now();
    parseCollectedLines(text, { collection }, parsed);
    parseMs += performance.now() - started;
  };
  for await (const chunk of body as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    const text = decoder.write(chunk);
    const cut = text.lastIndexOf('\n');
    if (cut === -1) {
      partial += text;
      continue;
    }
    parse(partial + text.slice(0, cut));
    partial = text.slice(cut + 1);
  }
  parse(partial + decoder.end());
  return { parsed, bytes, parseMs };
}

export function createPredictionActivities(factory: AzureClientFactory, opts: PredictionActivityOptions = {}) {
  const blobServiceFor = opts.blobService ?? ((url: string) => factory.blobService(url));
  const concurrency = opts.concurrency ?? 4;
  const maxBytes = opts.maxBytes ?? 256 * 2 ** 20;

  /** GET an ARM path raw (the SDK 2.1.1 drops `dataCollector`); null on 404. */
  async function armGet(subscriptionId: string, path: string, what: string): Promise<Record<string, unknown> | null> {
    const c = factory.forSubscription(subscriptionId);
    const base = c.target.cloud === 'emulator' ? c.target.url : 'https://management.azure.com';
    let response;
    try {
      response = await c.ml.sendRequest(createPipelineRequest({ url: `${base}${path}?api-version=2024-04-01`, method: 'GET' }));
    } catch (err) {
      throw genericAzureFailure(what, err);
    }
    if (response.status === 404) return null;
    if (response.status !== 200) throw genericAzureFailure(what, new Error(`HTTP ${response.status}: ${(response.bodyAsText ?? '').slice(0, 300)}`));
    return JSON.parse(response.bodyAsText ?? '{}') as Record<string, unknown>;
  }

  return {
    /**
     * A deployment's `dataCollector` (which collections are on, rolling rate, captured headers) and the
     * workspace's default blob store (`workspaceblobstore`: account, container; on the emulator the whole
     * service URL is in `properties["glidepath.blobServiceUrl"]`). Reads only; no secret is read.
     */
    async readDataCollection({ endpoint: ref, deployment }: ReadDataCollectionInput): Promise<ReadDataCollectionResult> {
      const ws = `/subscriptions/${ref.subscriptionId}/resourceGroups/${ref.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${ref.workspace}`;
      const dep = await armGet(ref.subscriptionId, `${ws}/onlineEndpoints/${ref.endpoint}/deployments/${deployment}`, `reading deployment '${deployment}'`);
      const props = (dep?.properties ?? {}) as { dataCollector?: { collections?: Record<string, { dataCollectionMode?: string }>; rollingRate?: string; requestLogging?: { captureHeaders?: string[] } } };
      const dc = props.dataCollector;
      const collections: Record<string, boolean> = {};
      for (const [name, c] of Object.entries(dc?.collections ?? {})) collections[name] = String(c?.dataCollectionMode ?? '').toLowerCase() === 'enabled';
      let store: ReadDataCollectionResult['store'] = null;
      let storeProblem: string | undefined;
      try {
        const ds = await armGet(ref.subscriptionId, `${ws}/datastores/workspaceblobstore`, 'reading the workspace datastore workspaceblobstore');
        const p = (ds?.properties ?? {}) as { accountName?: string; containerName?: string; endpoint?: string; protocol?: string; properties?: Record<string, string> };
        if (!ds) storeProblem = `workspace ${ref.workspace} has no datastore workspaceblobstore`;
        else if (!p.accountName || !p.containerName) storeProblem = 'datastore workspaceblobstore names no account or container';
        else {
          const url = p.properties?.['glidepath.blobServiceUrl'] ?? `${p.protocol ?? 'https'}://${p.accountName}.blob.${p.endpoint ?? 'core.windows.net'}`;
          store = { blobEndpoint: url.replace(/\/+$/, ''), container: p.containerName };
        }
      } catch (err) {
        storeProblem = `reading datastore workspaceblobstore failed: ${err instanceof Error ? err.message : String(err)}`;
      }
      return {
        exists: dep !== null,
        collections,
        rollingRate: dc?.rollingRate ?? null,
        captureHeaders: [...(dc?.requestLogging?.captureHeaders ?? [])],
        store,
        ...(storeProblem ? { storeProblem } : {}),
      };
    },

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

      // Each blob's lines, kept per job and joined in listing order below: the units' order (which the
      // join's "first wins" rules see) does not depend on which download finished first.
      const parsedByJob: (ParsedLines | undefined)[] = new Array(jobs.length);
      await mapLimit(jobs, concurrency, async (job, i) => {
        if (read.bytes >= maxBytes) {
          read.blobsNotRead += 1;
          return;
        }
        let blob: { parsed: ParsedLines; bytes: number; parseMs: number };
        try {
          blob = await readBlobLines(container.getBlobClient(job.name), input.collections[job.kind]);
        } catch (err) {
          if (isRestError(err) && err.statusCode === 404) return; // deleted between list and read (retention)
          throw unavailable(`reading ${job.name}`, err);
        }
        read.bytes += blob.bytes;
        read.blobs += 1;
        parseMs += blob.parseMs;
        parsedByJob[i] = blob.parsed;
        if (read.blobs % 50 === 0) heartbeat({ phase: 'reading', blobs: jobs.length, read: read.blobs });
      });
      jobs.forEach((job, i) => {
        const p = parsedByJob[i];
        if (!p) return;
        read.lines += p.lines;
        for (const [k, v] of Object.entries(p.skipped) as [LineSkipReason, number][]) read.skipped[k] += v;
        const into = units[job.side][job.kind];
        for (const u of p.units) {
          if (u.time >= startMs && u.time < endMs) into.push(u);
          else read.outsideWindow += 1;
        }
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
          timings: { listMs: listedAt - started, readMs: readAt - listedAt, parseMs: Math.round(parseMs), pairMs: Date.now() - readAt },
        },
        summary,
      };
    },
  };
}
