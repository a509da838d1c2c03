// The Log Analytics query API (api.loganalytics.io/v1) over the emulator's log tables, as
// `@azure/monitor-query-logs` calls it: `POST /v1/workspaces/{workspaceId}/query` with `{query, timespan?,
// workspaces?}`, the resource-centric `POST /v1/{resourceId}/query`, the GET forms, and `POST /v1/$batch`.
// Answers follow Azure's shapes (shared/reference/azure-monitor-logs-and-data-collection.md §2.2):
// tables → columns with types → rows; a result cut at Kusto's record limit is a 200 with `PartialError`;
// bad KQL is 400 `BadArgumentError` with the construct and its line and column.
import { randomUUID } from 'node:crypto';
import type { RequestContext } from './arm.js';
import type { EmulatorCore } from './core.js';
import { ArmError, parseJson, type Reply } from './http.js';
import { KqlError } from './kql/errors.js';
import { formatDatetime, formatTimespan, runKql, type KType, type Table, type Value } from './kql/evaluate.js';
import { logCatalog } from './log-tables.js';
import { parseTimespan } from './metrics.js';

const INVALID = 'The request had some invalid properties';

function badArgument(detail: string, inner?: Record<string, unknown>): Reply {
  return {
    status: 400,
    body: {
      error: {
        message: `${INVALID}: ${detail}`,
        code: 'BadArgumentError',
        correlationId: randomUUID(),
        innererror: inner ?? { code: 'BadArgumentError', message: detail },
      },
    },
  };
}

/** 400 for a query the interpreter refused, in the envelope Log Analytics uses for bad KQL. */
function kqlErrorReply(e: KqlError): Reply {
  const [code, message, innerCode] =
    e.kind === 'syntax'
      ? ['SyntaxError', 'A recognition error occurred in the query.', 'SYN0002']
      : e.kind === 'semantic'
        ? ['SemanticError', 'A semantic error occurred.', 'SEM0100']
        : ['SemanticError', 'The query uses KQL the emulator does not run.', 'UnsupportedKqlConstruct'];
  return badArgument(e.message, {
    code,
    message,
    innererror: { code: innerCode, message: e.message, line: e.line, pos: e.column, offset: e.offset, token: e.token },
  });
}

/** A cell as Log Analytics writes it in JSON: datetimes as ISO text, timespans as `d.hh:mm:ss`, dynamic as JSON text. */
export function cell(type: KType, v: Value): unknown {
  if (v === null) return null;
  switch (type) {
    case 'datetime':
      return formatDatetime(v as number);
    case 'timespan':
      return formatTimespan(v as number);
    case 'real':
      return Number.isFinite(v) ? v : Number.isNaN(v) ? 'NaN' : (v as number) > 0 ? 'Infinity' : '-Infinity';
    default:
      return v;
  }
}

function renderTable(name: string, t: Table): unknown {
  return { name, columns: t.columns.map((c) => ({ name: c.name, type: c.type })), rows: t.rows.map((r) => r.map((v, i) => cell((t.columns[i] as { type: KType }).type, v))) };
}

interface QueryRequest {
  query: unknown;
  timespan?: unknown;
}

/** Runs one query request against the logs; `resourcePrefix` set for resource-centric queries. */
export function answerQuery(core: EmulatorCore, body: QueryRequest | undefined, prefer: string | undefined, resourcePrefix?: string): Reply {
  if (!body || typeof body !== 'object') return badArgument("the body must be a JSON object with a 'query' string");
  if (typeof body.query !== 'string' || body.query.trim() === '') return badArgument("'query' is required: a KQL string");
  if (body.timespan !== undefined && body.timespan !== null && typeof body.timespan !== 'string') return badArgument("'timespan' must be an ISO 8601 string such as PT1H or <start>/<end>");
  const now = core.timing.now();
  let timeRange: { start: number; end: number } | undefined;
  if (typeof body.timespan === 'string' && body.timespan !== '') {
    try {
      timeRange = parseTimespan(body.timespan, now);
    } catch (e) {
      return badArgument(`invalid 'timespan' '${body.timespan}': ${(e as Error).message}`);
    }
  }
  const started = performance.now();
  let result;
  try {
    result = runKql(body.query, logCatalog(core.trafficLog, now, resourcePrefix), {
      now,
      ...(timeRange ? { timeRange } : {}),
      ...(core.options.logsResultRowLimit !== undefined ? { maxResultRows: core.options.logsResultRowLimit } : {}),
    });
  } catch (e) {
    if (e instanceof KqlError) return kqlErrorReply(e);
    throw e;
  }
  const out: Record<string, unknown> = { tables: [renderTable('PrimaryResult', result.table)] };
  if (prefer && /include-statistics=true/i.test(prefer)) {
    out.statistics = { query: { executionTime: (performance.now() - started) / 1000, resourceUsage: {}, datasetStatistics: [{ tableRowCount: result.table.rows.length, tableSize: 0 }] } };
  }
  if (result.truncated) {
    const message = `Query result set has exceeded the internal record count limit ${result.truncated.limit} (E_QUERY_RESULT_SET_TOO_LARGE; see https://aka.ms/kustoquerylimits)`;
    out.error = {
      code: 'PartialError',
      message: 'There were some errors when processing your query.',
      details: [{ code: 'EngineError', message: 'Something went wrong processing your query on the server.', innererror: { code: '-2133196797', message, severity: 2, severityName: 'Error' } }],
    };
  }
  return { status: 200, body: out };
}

const headerOf = (ctx: RequestContext, name: string): string | undefined => {
  const v = ctx.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
};

function queryBody(ctx: RequestContext): QueryRequest | undefined {
  if (ctx.method === 'GET') {
    const q = ctx.query.get('query');
    const ts = ctx.query.get('timespan');
    return { query: q ?? undefined, ...(ts !== null ? { timespan: ts } : {}) };
  }
  const body = parseJson(ctx.body) as QueryRequest | undefined;
  // A query-string timespan is intersected with the body's (reference §2.1).
  const qs = ctx.query.get('timespan');
  if (body && typeof body === 'object' && qs && typeof body.timespan !== 'string') return { ...body, timespan: qs };
  return body;
}

/** Routes `/v1/…`: workspace queries, resource-centric queries and batches. */
export function handleLogs(core: EmulatorCore, ctx: RequestContext): Reply {
  const seg = ctx.segments;
  const last = (seg[seg.length - 1] ?? '').toLowerCase();
  const prefer = headerOf(ctx, 'prefer');
  if (seg.length === 2 && last === '$batch') {
    if (ctx.method !== 'POST') throw new ArmError(405, 'MethodNotAllowed', 'The $batch route takes POST.');
    return handleBatch(core, ctx);
  }
  if (last !== 'query' || seg.length < 3) throw new ArmError(404, 'PathNotFoundError', `The requested path does not exist: ${ctx.path}`);
  if (ctx.method !== 'POST' && ctx.method !== 'GET') throw new ArmError(405, 'MethodNotAllowed', `The query route takes POST or GET, not ${ctx.method}.`);
  if ((seg[1] ?? '').toLowerCase() === 'workspaces' && seg.length === 4) return answerQuery(core, queryBody(ctx), prefer);
  if ((seg[1] ?? '').toLowerCase() === 'subscriptions') {
    const resourceId = `/${seg.slice(1, -1).join('/')}`.toLowerCase();
    return answerQuery(core, queryBody(ctx), prefer, resourceId);
  }
  throw new ArmError(404, 'PathNotFoundError', `The requested path does not exist: ${ctx.path}`);
}

function handleBatch(core: EmulatorCore, ctx: RequestContext): Reply {
  const body = parseJson(ctx.body) as { requests?: unknown } | undefined;
  if (!body || !Array.isArray(body.requests) || body.requests.length === 0) return badArgument("the $batch body needs a non-empty 'requests' array");
  if (body.requests.length > 10) return badArgument('a batch holds at most 10 requests');
  const responses = body.requests.map((raw: unknown) => {
    const r = (raw ?? {}) as { id?: unknown; workspace?: unknown; path?: unknown; method?: unknown; headers?: Record<string, string>; body?: QueryRequest };
    const id = typeof r.id === 'string' ? r.id : String(r.id ?? '');
    if ((r.path ?? '/query') !== '/query' || typeof r.workspace !== 'string' || r.workspace === '') {
      return { id, status: 404, body: { error: { code: 'PathNotFoundError', message: `The requested path does not exist: ${String(r.path)} (workspace '${String(r.workspace)}')` } } };
    }
    const prefer = Object.entries(r.headers ?? {}).find(([k]) => k.toLowerCase() === 'prefer')?.[1];
    const reply = answerQuery(core, r.body, prefer);
    return { id, status: reply.status, body: reply.body };
  });
  return { status: 200, body: { responses } };
}
