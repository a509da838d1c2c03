// Azure ML's model data collector, emulated: a deployment's `properties.dataCollector` makes every scoring
// request it serves (live or mirrored) write CloudEvents-style JSONL lines to the workspace's blob store
// (`azureml-blobstore-<workspace guid>` / `modelDataCollector/{endpoint}/{deployment}/{collection}/{yyyy}/
// {MM}/{dd}/{HH}/{instance}.jsonl`), in the format of learn.microsoft.com's "Collect production data from
// models deployed for real-time inferencing" (reference azure-monitor-logs-and-data-collection.md §4).
// Lines are buffered and appended to append blobs on a short timer and on close. The pure parts (paths,
// lines, records) are exported for tests and for the reader on the other side.
import { randomUUID } from 'node:crypto';
import type { BlobStore } from './blob-store.js';
import { seededRandom } from './random.js';

export type RollingRate = 'Year' | 'Month' | 'Day' | 'Hour' | 'Minute';
export const ROLLING_RATES: readonly RollingRate[] = ['Year', 'Month', 'Day', 'Hour', 'Minute'];

/** One collection of `properties.dataCollector.collections` (ARM, api-version 2023-04-01-preview and later). */
export interface CollectionSpec {
  dataCollectionMode?: 'Enabled' | 'Disabled';
  samplingRate?: number;
  dataId?: string;
  clientId?: string;
}

/** `properties.dataCollector` as the emulator keeps it (enum values in Azure's casing). */
export interface DataCollectorSpec {
  collections: Record<string, CollectionSpec>;
  rollingRate?: RollingRate;
  requestLogging?: { captureHeaders?: string[] };
}

/** Payload logging's reserved names; any other collection is custom logging (score.py's `Collector(name=…)`). */
export const PAYLOAD_COLLECTIONS = ['request', 'response'] as const;
/** What the emulator's scoring script logs with custom logging: the input rows and the model's output rows. */
export const CUSTOM_COLLECTIONS = ['model_inputs', 'model_outputs'] as const;

/** The `agent` of custom-logging lines: the Python package score.py uses (azureml-ai-monitoring 1.0.0). */
export const COLLECTOR_AGENT = 'azureml-ai-monitoring/1.0.0';

/** Collections that are on (dataCollectionMode Enabled, case-insensitive) — empty when the collector is absent. */
export function enabledCollections(spec: DataCollectorSpec | undefined): string[] {
  if (!spec) return [];
  return Object.entries(spec.collections)
    .filter(([, c]) => (c.dataCollectionMode ?? 'Disabled').toLowerCase() === 'enabled')
    .map(([name]) => name);
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/**
 * The time folder of a rolled blob path (UTC): Hour → `2026/11/26/01`, Day → `2026/11/26` (both from the
 * rollingRate documentation); Minute → `2026/11/26/01/07`, Month → `2026/11`, Year → `2026` (the
 * emulator's reading; Azure does not show them).
 */
export function rolledFolder(timeMs: number, rate: RollingRate = 'Hour'): string {
  const d = new Date(timeMs);
  const parts = [String(d.getUTCFullYear()), pad(d.getUTCMonth() + 1), pad(d.getUTCDate()), pad(d.getUTCHours()), pad(d.getUTCMinutes())];
  const keep = { Year: 1, Month: 2, Day: 3, Hour: 4, Minute: 5 }[rate];
  return parts.slice(0, keep).join('/');
}

/** The blob container of a workspace's default datastore (workspaceblobstore): `azureml-blobstore-<workspace guid>`. */
export function workspaceContainer(workspaceGuid: string): string {
  return `azureml-blobstore-${workspaceGuid}`;
}

/**
 * The folder a collection writes to, inside the workspaceblobstore container: the `azureml://datastores/
 * workspaceblobstore/paths/<path>` of its `dataId` when it is such a URI, else the default
 * `modelDataCollector/{endpoint}/{deployment}/{collection}` (what azure-ai-ml registers as the data asset's path).
 */
export function collectionFolder(endpoint: string, deployment: string, collection: string, dataId?: string): string {
  const m = dataId ? /^azureml:\/\/datastores\/workspaceblobstore\/paths\/(.+)$/i.exec(dataId.trim()) : null;
  const custom = m?.[1]?.replace(/^\/+|\/+$/g, '');
  return custom || `modelDataCollector/${endpoint}/${deployment}/${collection}`;
}

/** The blob a line goes to: `{folder}/{rolled time}/{instanceId}.jsonl`. */
export function collectionBlobPath(folder: string, timeMs: number, rate: RollingRate, instanceId: string): string {
  return `${folder}/${rolledFolder(timeMs, rate)}/${instanceId}.jsonl`;
}

/**
 * The rows score.py logs as model inputs: the request's input table (pandas' `to_json(orient="records")`).
 * A body `{"transactions": [...]}` (the shipped models), `{"data": [...]}` or `{"input_data": [...]}` gives
 * that array; a top-level array is itself; anything else is one row.
 */
export function inputRecords(body: unknown): unknown[] {
  if (Array.isArray(body)) return body;
  if (body && typeof body === 'object') {
    for (const k of ['transactions', 'data', 'input_data']) {
      const v = (body as Record<string, unknown>)[k];
      if (Array.isArray(v)) return v;
    }
  }
  return [body];
}

/** The rows score.py logs as model outputs: `predictions` of the answer (the shipped models), a top-level array, or the answer as one row. */
export function outputRecords(answer: unknown): unknown[] {
  if (Array.isArray(answer)) return answer;
  if (answer && typeof answer === 'object') {
    const v = (answer as Record<string, unknown>).predictions;
    if (Array.isArray(v)) return v;
  }
  return [answer];
}

/** One collected event before it becomes a line (several custom-logging events may share a line). */
export interface CollectedEvent {
  collection: string;
  /** Epoch ms the request reached the deployment. */
  timeMs: number;
  correlationId: string;
  /** Rows (custom logging) or the payload (payload logging). */
  data: unknown;
  /** Captured request headers (requestLogging.captureHeaders), lower-case names. */
  headers?: Record<string, string>;
  /** Payload logging's request lines: the scoring path and method. */
  path?: string;
  method?: string;
}

/** Identity of the deployment a line comes from (its `source`). */
export interface LineSource {
  subscriptionId: string;
  resourceGroup: string;
  workspace: string;
  endpoint: string;
  deployment: string;
}

export function sourceOf(s: LineSource): string {
  return `/subscriptions/${s.subscriptionId}/resourceGroups/${s.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${s.workspace}/onlineEndpoints/${s.endpoint}/deployments/${s.deployment}`;
}

/** ISO time to the second, as Azure's lines show it (`2024-03-05T18:16:25Z`). */
export function lineTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * One JSONL line, keys in the order of Azure's examples. Payload logging (`request`, `response`): `data` is
 * the body as sent or answered (parsed JSON), request lines add `path` and `method`; custom logging: `data`
 * is the rows (several events' rows when batched), plus `modelversion`, `collectdatatype` and `agent`.
 * `headers` (captured request headers) appears only when requestLogging.captureHeaders names some that the
 * request carried — where Azure puts them is not documented.
 */
export function collectedLine(source: LineSource, events: readonly CollectedEvent[], id: string = randomUUID()): string {
  const first = events[0];
  if (!first) throw new Error('a collected line needs at least one event');
  const custom = !(PAYLOAD_COLLECTIONS as readonly string[]).includes(first.collection);
  const data = custom ? events.flatMap((e) => (Array.isArray(e.data) ? e.data : [e.data])) : first.data;
  const dataText = JSON.stringify(data) ?? 'null';
  const n = Buffer.byteLength(dataText);
  const line: Record<string, unknown> = {
    specversion: '1.0',
    id,
    source: sourceOf(source),
    type: `azureml.inference.${first.collection}`,
    datacontenttype: 'application/json',
    time: lineTime(first.timeMs),
    data,
  };
  if (first.path !== undefined) line.path = first.path;
  if (first.method !== undefined) line.method = first.method;
  line.contentrange = `bytes 0-${Math.max(0, n - 1)}/${n}`;
  line.correlationid = first.correlationId;
  line.xrequestid = first.correlationId;
  if (custom) {
    line.modelversion = 'default';
    line.collectdatatype = 'pandas.core.frame.DataFrame';
    line.agent = COLLECTOR_AGENT;
  }
  if (first.headers && Object.keys(first.headers).length > 0) line.headers = first.headers;
  return JSON.stringify(line);
}

/** One scoring request as a deployment saw it, for collection. */
export interface ServedRequest {
  source: LineSource;
  workspaceGuid: string;
  spec: DataCollectorSpec;
  /** Epoch ms the request reached the deployment. */
  timeMs: number;
  /** The live request's x-request-id (a mirrored copy keeps its original's headers, so the same id). */
  requestId: string;
  requestHeaders: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The model's answer (raw JSON text) when it answered 200; absent for refusals and model errors. */
  answer?: string;
  /** True when the model ran (200 or a model error): the scoring server saw the request. */
  modelRan: boolean;
  mirrored: boolean;
}

export interface DataCollectionOptions {
  /** Custom-logging events of one collection arriving within this many ms of a line's first event share that line (default 10). 0 turns batching off. */
  batchWindowMs?: number;
  /** How often buffered lines are appended to their blobs (default 1000 ms). */
  flushIntervalMs?: number;
  /** Seed of the sampling draws (default 1); its own random source, so traffic splitting is unchanged. */
  seed?: number;
  /** Lines kept in memory while the blob store cannot be written; past it, new lines are dropped and counted (default 100,000). */
  maxPendingLines?: number;
}

/** Counters for tests and for the control route. */
export interface DataCollectionStats {
  /** Events collected (after sampling), by collection. */
  events: Record<string, number>;
  /** Events skipped by sampling, by collection. */
  sampledOut: Record<string, number>;
  linesWritten: number;
  /** Lines that held more than one request (batched). */
  batchedLines: number;
  linesDropped: number;
  writeErrors: number;
  lastError?: string;
  /** Blobs written to (container/path). */
  blobs: string[];
}

interface OpenBatch {
  source: LineSource;
  container: string;
  blobPath: string;
  events: CollectedEvent[];
  openedAt: number;
  timer: NodeJS.Timeout;
}

const headerValue = (h: string | string[] | undefined): string | undefined => (Array.isArray(h) ? h.join(', ') : h);

/** Buffers collected lines and appends them to the workspace's blob store. */
export class DataCollectionWriter {
  private readonly random: () => number;
  private readonly batches = new Map<string, OpenBatch>();
  /** container → blob path → lines waiting to be appended. */
  private readonly pending = new Map<string, Map<string, string[]>>();
  private pendingLines = 0;
  private readonly created = new Set<string>();
  private readonly instanceIds = new Map<string, string>();
  private flushing: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  readonly stats: DataCollectionStats = { events: {}, sampledOut: {}, linesWritten: 0, batchedLines: 0, linesDropped: 0, writeErrors: 0, blobs: [] };
  readonly batchWindowMs: number;
  readonly maxPendingLines: number;

  constructor(
    private readonly store: BlobStore,
    options: DataCollectionOptions = {},
  ) {
    this.random = seededRandom((options.seed ?? 1) ^ 0x5bd1e995);
    this.batchWindowMs = options.batchWindowMs ?? 10;
    this.maxPendingLines = options.maxPendingLines ?? 100_000;
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? 1000);
    this.timer.unref();
  }

  /** The instance id of a deployment's files (one per deployment for the emulator's life: its one "instance"). */
  private instanceId(source: LineSource): string {
    const key = `${source.endpoint}/${source.deployment}`.toLowerCase();
    let id = this.instanceIds.get(key);
    if (!id) {
      id = randomUUID();
      this.instanceIds.set(key, id);
    }
    return id;
  }

  /** Collects one served request into every enabled collection it applies to. */
  collect(r: ServedRequest): void {
    if (this.closed || !this.store.enabled) return;
    const names = enabledCollections(r.spec);
    if (names.length === 0 || !r.modelRan) return;
    const capture = (r.spec.requestLogging?.captureHeaders ?? []).map((h) => h.toLowerCase());
    const headers: Record<string, string> = {};
    for (const h of capture) {
      const v = headerValue(r.requestHeaders[h]);
      if (v !== undefined) headers[h] = v;
    }
    let body: unknown;
    try {
      body = JSON.parse(r.body.toString('utf8'));
    } catch {
      body = r.body.toString('utf8');
    }
    let answer: unknown;
    if (r.answer !== undefined) {
      try {
        answer = JSON.parse(r.answer);
      } catch {
        answer = r.answer;
      }
    }
    for (const name of names) {
      const spec = r.spec.collections[name] ?? {};
      let data: unknown;
      let extra: Pick<CollectedEvent, 'path' | 'method'> = {};
      switch (name) {
        case 'request':
          data = body;
          extra = { path: '/score', method: 'POST' };
          break;
        case 'response':
          if (r.answer === undefined) continue;
          data = answer;
          break;
        case 'model_inputs':
          data = inputRecords(body);
          break;
        case 'model_outputs':
          if (r.answer === undefined) continue;
          data = outputRecords(answer);
          break;
        default:
          continue; // another custom collector: the emulator's scoring script logs nothing to it
      }
      // Sampling is drawn per collection and request (custom logging draws per collect() call), so the
      // inputs and outputs of one request are kept or dropped independently.
      const rate = spec.samplingRate ?? 1;
      if (rate < 1 && this.random() >= rate) {
        this.stats.sampledOut[name] = (this.stats.sampledOut[name] ?? 0) + 1;
        continue;
      }
      this.stats.events[name] = (this.stats.events[name] ?? 0) + 1;
      const event: CollectedEvent = { collection: name, timeMs: r.timeMs, correlationId: r.requestId, data, ...extra, ...(Object.keys(headers).length > 0 ? { headers } : {}) };
      const folder = collectionFolder(r.source.endpoint, r.source.deployment, name, spec.dataId);
      const blobPath = collectionBlobPath(folder, r.timeMs, r.spec.rollingRate ?? 'Hour', this.instanceId(r.source));
      this.add(r.source, workspaceContainer(r.workspaceGuid), blobPath, event);
    }
  }

  private add(source: LineSource, container: string, blobPath: string, event: CollectedEvent): void {
    const custom = !(PAYLOAD_COLLECTIONS as readonly string[]).includes(event.collection);
    if (!custom || this.batchWindowMs <= 0) {
      this.enqueue(container, blobPath, collectedLine(source, [event]), 1);
      return;
    }
    // Custom logging: events of one collection of one deployment arriving close together share a line,
    // as Azure's collector batches them (the line keeps the first event's time and correlation id).
    const key = `${container}\n${blobPath}`;
    const open = this.batches.get(key);
    if (open && event.timeMs - open.openedAt <= this.batchWindowMs) {
      open.events.push(event);
      return;
    }
    if (open) this.closeBatch(key);
    const timer = setTimeout(() => this.closeBatch(key), this.batchWindowMs + 1);
    timer.unref();
    this.batches.set(key, { source, container, blobPath, events: [event], openedAt: event.timeMs, timer });
  }

  private closeBatch(key: string): void {
    const b = this.batches.get(key);
    if (!b) return;
    this.batches.delete(key);
    clearTimeout(b.timer);
    this.enqueue(b.container, b.blobPath, collectedLine(b.source, b.events), b.events.length);
  }

  private enqueue(container: string, blobPath: string, line: string, requests: number): void {
    if (this.pendingLines >= this.maxPendingLines) {
      this.stats.linesDropped++;
      return;
    }
    if (requests > 1) this.stats.batchedLines++;
    let byPath = this.pending.get(container);
    if (!byPath) {
      byPath = new Map();
      this.pending.set(container, byPath);
    }
    const lines = byPath.get(blobPath) ?? [];
    lines.push(line);
    byPath.set(blobPath, lines);
    this.pendingLines++;
  }

  /** Closes open batches and appends every buffered line; resolves when written (or failed and kept). */
  flush(): Promise<void> {
    for (const key of [...this.batches.keys()]) this.closeBatch(key);
    this.flushing = this.flushing
      .then(() => this.writePending())
      .catch((e: unknown) => {
        this.stats.writeErrors++;
        this.stats.lastError = (e as Error).message ?? String(e);
      });
    return this.flushing;
  }

  private async writePending(): Promise<void> {
    if (this.pendingLines === 0) return;
    const work = [...this.pending.entries()];
    this.pending.clear();
    this.pendingLines = 0;
    let client;
    try {
      client = await this.store.serviceClient();
    } catch (e) {
      this.fail(work, e);
      return;
    }
    for (const [container, byPath] of work) {
      try {
        await this.store.ensureContainer(container);
      } catch (e) {
        this.fail([[container, byPath]], e);
        continue;
      }
      const cc = client.getContainerClient(container);
      for (const [blobPath, lines] of byPath) {
        try {
          const blob = cc.getAppendBlobClient(blobPath);
          const id = `${container}/${blobPath}`;
          if (!this.created.has(id)) {
            await blob.createIfNotExists({ blobHTTPHeaders: { blobContentType: 'application/json' } });
            this.created.add(id);
            this.stats.blobs.push(id);
          }
          // An append block holds at most 4 MiB.
          let chunk: string[] = [];
          let size = 0;
          const send = async (): Promise<void> => {
            if (chunk.length === 0) return;
            const buf = Buffer.from(`${chunk.join('\n')}\n`);
            await blob.appendBlock(buf, buf.length);
            this.stats.linesWritten += chunk.length;
            chunk = [];
            size = 0;
          };
          for (const line of lines) {
            const n = Buffer.byteLength(line) + 1;
            if (size + n > 4 * 1024 * 1024) await send();
            chunk.push(line);
            size += n;
          }
          await send();
        } catch (e) {
          this.fail([[container, new Map([[blobPath, lines]])]], e);
        }
      }
    }
  }

  /** Keeps lines that could not be written for the next flush (up to the bound), and counts the failure. */
  private fail(work: [string, Map<string, string[]>][], e: unknown): void {
    this.stats.writeErrors++;
    this.stats.lastError = (e as Error).message ?? String(e);
    if (this.closed) {
      for (const [, byPath] of work) for (const lines of byPath.values()) this.stats.linesDropped += lines.length;
      return;
    }
    for (const [container, byPath] of work) for (const [path, lines] of byPath) for (const l of lines) this.enqueue(container, path, l, 1);
  }

  /** Flushes what is buffered and stops the timer. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.closed = true; // nothing new is collected; what is buffered is written once more, else counted as dropped
    await this.flush();
  }
}
