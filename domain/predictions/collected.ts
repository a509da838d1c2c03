/**
 * Reading what Azure ML's data collector writes (reference: azure-monitor-logs-and-data-collection.md §4.2):
 * JSONL blobs under `modelDataCollector/{endpoint}/{deployment}/{collection}/{yyyy}/{MM}/{dd}/{HH}/{id}.jsonl`,
 * one CloudEvents-like object per line:
 *
 *     {"specversion":"1.0","id":"…","type":"azureml.inference.model_outputs","time":"2024-03-05T18:16:25Z",
 *      "data":[{"isFraud":false,"fraudProbability":0.03}],"correlationid":"…","xrequestid":"…", …}
 *
 * Pure: text in, units and counts out. A line is never trusted: a malformed one is skipped and counted
 * by reason, never thrown.
 *
 * ## Units, and the ids a unit carries
 * A *unit* is one row of a line's `data` (an array of rows, or one object for payload logging's
 * `request`/`response` lines). Azure's collector batches requests "sent within short time intervals"
 * into one line, so a line may hold the rows of several requests; Azure's advice is to log one's own id
 * as a column when each row needs a key. So each row's ids are, first, its own columns, then the line's:
 * - client request id: a row column, or a captured header (`headers` object, from
 *   `request_logging.capture_headers`), or a top-level line field, whose name is `x-ms-client-request-id`
 *   in any spelling (case, `-`/`_` ignored: `clientRequestId`, `XMSClientRequestId`, …);
 * - correlation id: a row column `correlationid` (any spelling), else the line's `correlationid`, else its
 *   `xrequestid`.
 * `row` counts the rows that share the unit's id within its line (0, 1, …), so a request that scored a
 * two-row frame gives two units with the same id and rows 0 and 1. Where the two sides batch differently,
 * a line-level id can name a row of another request; pairing (./pairing.ts) refuses such a join when
 * both inputs are known and differ.
 * Id columns are not part of the row's value (they are removed before hashing and slicing).
 */

/** How a unit's time, ids and value came out of a line. Plain data; `value` stays inside the activity. */
export interface CollectedUnit {
  /** The line's `time`, epoch ms. */
  time: number;
  clientRequestId: string | null;
  correlationId: string | null;
  /** Index among the line's rows with the same id (0 for a one-row request). */
  row: number;
  /** The row (or response object) without its id columns. Customer data: never leaves the activity. */
  value: unknown;
}

/** Why a line (or row) was skipped. */
export type LineSkipReason =
  | 'malformed_json'
  | 'not_an_object'
  | 'missing_time'
  | 'missing_data'
  | 'data_in_blob'
  | 'wrong_collection'
  | 'empty_data';

export const LINE_SKIP_REASONS: readonly LineSkipReason[] = ['malformed_json', 'not_an_object', 'missing_time', 'missing_data', 'data_in_blob', 'wrong_collection', 'empty_data'];

/** What parsing some lines gave: the units, lines read, and lines skipped by reason. */
export interface ParsedLines {
  units: CollectedUnit[];
  lines: number;
  skipped: Record<LineSkipReason, number>;
}

export function emptySkips(): Record<LineSkipReason, number> {
  return { malformed_json: 0, not_an_object: 0, missing_time: 0, missing_data: 0, data_in_blob: 0, wrong_collection: 0, empty_data: 0 };
}

/** `x-ms-client-request-id` → `xmsclientrequestid`: how id names are compared. Memoised: rows repeat their keys. */
const normCache = new Map<string, string>();
const norm = (k: string): string => {
  let n = normCache.get(k);
  if (n === undefined) {
    n = k.toLowerCase().replace(/[^a-z0-9]/g, '');
    if (normCache.size < 10_000) normCache.set(k, n);
  }
  return n;
};
const CLIENT_ID_NAMES = new Set(['xmsclientrequestid', 'clientrequestid']);
const CORRELATION_NAMES = new Set(['correlationid']);
const TYPE_PREFIX = 'azureml.inference.';

function stringField(obj: Record<string, unknown>, names: ReadonlySet<string>): string | null {
  for (const k in obj) {
    if (!Object.hasOwn(obj, k)) continue;
    const v = obj[k];
    if (typeof v === 'string' && v !== '' && names.has(norm(k))) return v;
  }
  return null;
}

/** A row's own id columns (the first of each kind, as {@link stringField} finds them), in one pass over its keys. */
function rowIds(obj: Record<string, unknown>): { client: string | null; correlation: string | null } | null {
  let client: string | null = null;
  let correlation: string | null = null;
  for (const k in obj) {
    if (!Object.hasOwn(obj, k)) continue;
    const v = obj[k];
    if (typeof v !== 'string' || v === '') continue;
    const n = norm(k);
    if (client === null && CLIENT_ID_NAMES.has(n)) client = v;
    else if (correlation === null && CORRELATION_NAMES.has(n)) correlation = v;
  }
  return client === null && correlation === null ? null : { client, correlation };
}

/** Options of {@link parseCollectedLines}. */
export interface ParseOptions {
  /**
   * The collection expected (e.g. `model_outputs`); a line whose `type` names another
   * (`azureml.inference.<name>`) is skipped as `wrong_collection`. Lines without a `type` are accepted.
   */
  collection?: string;
}

/**
 * Parses JSONL text (one blob, or several joined by newlines) into units. Blank lines are ignored; every
 * other line is either turned into units or counted in `skipped` by reason.
 */
export function parseCollectedLines(text: string, opts: ParseOptions = {}, into?: ParsedLines): ParsedLines {
  const out = into ?? { units: [], lines: 0, skipped: emptySkips() };
  const expectedType = opts.collection === undefined ? undefined : `${TYPE_PREFIX}${opts.collection}`;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const line = text.slice(start, end).trim();
    start = end + 1;
    if (line === '') continue;
    out.lines += 1;
    const reason = parseLine(line, opts, expectedType, out.units);
    if (reason) out.skipped[reason] += 1;
  }
  return out;
}

/** Adds one line's units to `units`, or returns why it was skipped. `expectedType`: the `type` of `opts.collection`'s lines. */
function parseLine(line: string, opts: ParseOptions, expectedType: string | undefined, units: CollectedUnit[]): LineSkipReason | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return 'malformed_json';
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return 'not_an_object';
  const ev = parsed as Record<string, unknown>;
  // The expected type (the usual case) needs no pattern match.
  if (opts.collection !== undefined && typeof ev.type === 'string' && ev.type !== expectedType) {
    const m = /^azureml\.inference\.(.+)$/.exec(ev.type);
    if (m && m[1] !== opts.collection) return 'wrong_collection';
  }
  const time = typeof ev.time === 'string' ? Date.parse(ev.time) : NaN;
  if (!Number.isFinite(time)) return 'missing_time';
  if (ev.datainblob === true || ev.datainblob === 'true') return 'data_in_blob'; // a blob URL, not the rows (binary or > 4 MB payloads)
  if (!('data' in ev) || ev.data === null || ev.data === undefined) return 'missing_data';
  let data: unknown = ev.data;
  if (typeof data === 'string') {
    // Payload logging may carry the body as JSON text.
    try {
      data = JSON.parse(data) as unknown;
    } catch {
      return 'malformed_json';
    }
  }
  const rows: unknown[] = Array.isArray(data) ? data : [data];
  if (rows.length === 0) return 'empty_data';
  const headers = ev.headers !== null && typeof ev.headers === 'object' && !Array.isArray(ev.headers) ? (ev.headers as Record<string, unknown>) : {};
  const lineClient = stringField(headers, CLIENT_ID_NAMES) ?? stringField(ev, CLIENT_ID_NAMES);
  const lineCorrelation =
    (typeof ev.correlationid === 'string' && ev.correlationid !== '' ? ev.correlationid : null) ??
    (typeof ev.xrequestid === 'string' && ev.xrequestid !== '' ? ev.xrequestid : null);
  // Rows that share an id within the line are numbered 0, 1, …; a one-row line (the usual) needs no count.
  const seen = rows.length > 1 ? new Map<string, number>() : null;
  for (const r of rows) {
    let value = r;
    let client = lineClient;
    let correlation = lineCorrelation;
    if (r !== null && typeof r === 'object' && !Array.isArray(r)) {
      const obj = r as Record<string, unknown>;
      const own = rowIds(obj);
      if (own !== null) {
        client = own.client ?? (own.correlation === null ? lineClient : null);
        correlation = own.correlation ?? (own.client === null ? lineCorrelation : null);
        const rest: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(obj)) {
          const n = norm(k);
          if (!CLIENT_ID_NAMES.has(n) && !CORRELATION_NAMES.has(n)) rest[k] = v;
        }
        value = rest;
      }
    }
    let row = 0;
    if (seen !== null) {
      const key = `${client ?? ''}\u0000${correlation ?? ''}`;
      row = seen.get(key) ?? 0;
      seen.set(key, row + 1);
    }
    units.push({ time, clientRequestId: client, correlationId: correlation, row, value });
  }
  return null;
}

/**
 * The blob folders (prefixes) Azure's collector writes for `collection` of one deployment during
 * [startMs, endMs): one per UTC hour (`…/yyyy/MM/dd/HH/`) with the default `Hour` rolling rate, one per
 * UTC day (`…/yyyy/MM/dd/`) with `Day`. `root` is the path inside the container, by default
 * `modelDataCollector`. Only the folders the window touches are listed.
 */
export function collectedFolders(args: {
  root?: string;
  endpoint: string;
  deployment: string;
  collection: string;
  startMs: number;
  endMs: number;
  rollingRate?: 'Hour' | 'Day';
}): string[] {
  const root = (args.root ?? 'modelDataCollector').replace(/^\/+|\/+$/g, '');
  const base = `${root ? `${root}/` : ''}${args.endpoint}/${args.deployment}/${args.collection}/`;
  const step = args.rollingRate === 'Day' ? 86_400_000 : 3_600_000;
  const out: string[] = [];
  if (!(args.endMs > args.startMs)) return out;
  const two = (n: number) => String(n).padStart(2, '0');
  for (let t = Math.floor(args.startMs / step) * step; t < args.endMs; t += step) {
    const d = new Date(t);
    const day = `${d.getUTCFullYear()}/${two(d.getUTCMonth() + 1)}/${two(d.getUTCDate())}/`;
    out.push(base + day + (args.rollingRate === 'Day' ? '' : `${two(d.getUTCHours())}/`));
  }
  return out;
}
