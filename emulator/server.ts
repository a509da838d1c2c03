// The emulator's HTTPS server: one request handler that parses, routes (ARM, metrics, Log Analytics, scoring, prices,
// control), applies armed faults, answers errors in the ARM envelope, and records every call.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { handleArm, type RequestContext } from './arm.js';
import type { EmulatorCore, CallRecord } from './core.js';
import { behaviourSchema, failNextSchema, failProvisioningSchema } from './faults.js';
import { handleAssets, isAssetPath } from './assets.js';
import { handleDatastores, isDatastorePath } from './datastores.js';
import { ArmError, errorReply, notFound, parseJson, readBody, sendReply, type Reply } from './http.js';
import { handleLogs } from './logs-api.js';
import { metricDefinitions, queryMetrics, type MetricsScope } from './metrics.js';
import { shippedModels } from './models/registry.js';
import { retailPrices } from './prices.js';
import { handleScore, swaggerFor } from './scoring.js';
import { parseBody } from './validation.js';

const eq = (a: string | undefined, b: string): boolean => a !== undefined && a.toLowerCase() === b.toLowerCase();

type Kind = CallRecord['kind'];

function classify(segments: string[], method: string): Kind {
  const [first] = segments;
  if (first === '_emulator') return 'control';
  if (eq(first, 'endpoints')) return 'scoring';
  if (eq(first, 'v1')) return 'logs';
  if (eq(first, 'api') && eq(segments[1], 'retail')) return 'prices';
  if (!eq(first, 'subscriptions')) return 'unknown';
  const lower = segments.map((s) => s.toLowerCase());
  if (lower.includes('microsoft.insights') || lower.some((s) => s.startsWith('metrics:'))) return 'metrics';
  if (method === 'GET' && (lower.includes('mfeoperationsstatus') || lower.includes('mfeoperationresults'))) return 'operation';
  return 'management';
}

function requireBearer(ctx: RequestContext): void {
  const h = ctx.headers.authorization;
  const v = Array.isArray(h) ? h[0] : h;
  if (!v || !/^Bearer\s+\S+/i.test(v)) {
    throw new ArmError(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing or is not a Bearer token.");
  }
}

/** Finds the endpoint or deployment a metrics path is about. */
function metricsScope(core: EmulatorCore, segments: string[]): { scope: MetricsScope; action: string } {
  let p = segments.length - 1;
  while (p >= 0 && !eq(segments[p], 'providers')) p--;
  const action = (segments[p + 2] ?? '').toLowerCase();
  if (p < 0 || !eq(segments[p + 1], 'microsoft.insights') || segments.length !== p + 3) throw notFound(`/${segments.join('/')}`);
  const res = segments.slice(0, p);
  const ok =
    res.length >= 10 &&
    eq(res[0], 'subscriptions') &&
    eq(res[2], 'resourceGroups') &&
    eq(res[4], 'providers') &&
    eq(res[5], 'Microsoft.MachineLearningServices') &&
    eq(res[6], 'workspaces') &&
    eq(res[8], 'onlineEndpoints') &&
    (res.length === 10 || (res.length === 12 && eq(res[10], 'deployments')));
  if (!ok) {
    throw new ArmError(404, 'ResourceNotFound', `The resource '/${res.join('/')}' is not an online endpoint or deployment the emulator knows; metrics are served for those only.`);
  }
  const endpoint = res[9] ?? '';
  const deployment = res[11];
  const ep = core.endpoint(endpoint);
  const known = ep && eq(ep.workspace, res[7] ?? '') && (!deployment || core.deployment(endpoint, deployment) || core.metrics.existedAt(`${endpoint}/${deployment}`.toLowerCase()));
  if (!known && !core.metrics.records.some((r) => eq(r.endpoint, endpoint))) {
    throw new ArmError(404, 'ResourceNotFound', `The Resource '/${res.join('/')}' was not found.`);
  }
  return {
    scope: { resourceId: res.join('/'), endpoint: ep?.name ?? endpoint, ...(deployment ? { deployment: core.deployment(endpoint, deployment)?.name ?? deployment } : {}), region: ep?.location ?? 'eastus' },
    action,
  };
}

function handleMetrics(core: EmulatorCore, ctx: RequestContext, delayMs: number): Reply {
  const last = ctx.segments[ctx.segments.length - 1] ?? '';
  if (last.toLowerCase() === 'metrics:getbatch') return handleBatch(core, ctx, delayMs);
  const now = core.timing.now();
  const cutoff = core.timing.metricsCutoff(now);
  if (!ctx.query.get('api-version')) throw new ArmError(400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
  if (ctx.method !== 'GET') throw new ArmError(405, 'MethodNotAllowed', `The requested resource does not support http method '${ctx.method}'.`);
  const { scope, action } = metricsScope(core, ctx.segments);
  if (action === 'metrics') return { status: 200, body: queryMetrics({ scope, query: ctx.query, now, delayMs, cutoff, store: core.metrics }) };
  if (action === 'metricdefinitions') return { status: 200, body: metricDefinitions(scope) };
  if (action === 'metricnamespaces') {
    const ns = scope.deployment ? 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments' : 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints';
    return {
      status: 200,
      body: { value: [{ id: `/${scope.resourceId}/providers/microsoft.insights/metricNamespaces/${ns}`, type: 'Microsoft.Insights/metricNamespaces', name: ns, classification: 'Platform', properties: { metricNamespaceName: ns } }] },
    };
  }
  throw notFound(ctx.path);
}

const batchSchema = z.looseObject({ resourceids: z.array(z.string().min(1)).min(1).max(50) });

/**
 * The regional batch metrics API, as `MetricsClient` of `@azure/monitor-query-metrics` 1.0.0 sends it:
 * `POST /subscriptions/{sub}/metrics:getBatch?api%2Dversion=2024-02-01&starttime=…&endtime=…&interval=…
 * &metricnamespace=…&metricnames=a,b&aggregation=…&top=…&orderby=…&filter=…&rollupby=…` with
 * `{"resourceids": [...]}`; the answer is `{"values": [{starttime, endtime, interval, namespace,
 * resourceregion, resourceid, value: [metric…]}]}` (reference azure-ml-online-endpoints.md §4.5). Every
 * resource must be in the path's subscription and of the one namespace asked for.
 */
function handleBatch(core: EmulatorCore, ctx: RequestContext, delayMs: number): Reply {
  if (ctx.method !== 'POST') throw new ArmError(405, 'MethodNotAllowed', `The requested resource does not support http method '${ctx.method}'.`);
  const q = ctx.query;
  if (!q.get('api-version')) throw new ArmError(400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
  if (!q.get('metricnamespace')) throw new ArmError(400, 'BadRequest', 'The metricnamespace query parameter is required by the batch metrics API.');
  const body = parseBody(batchSchema, parseJson(ctx.body), 'metrics batch');
  const subscription = (ctx.segments[1] ?? '').toLowerCase();
  const start = q.get('starttime');
  const end = q.get('endtime');
  const now = core.timing.now();
  const cutoff = core.timing.metricsCutoff(now);
  const values = body.resourceids.map((rid) => {
    const parts = rid.split('/').filter(Boolean);
    if (!eq(parts[0], 'subscriptions') || (parts[1] ?? '').toLowerCase() !== subscription) {
      throw new ArmError(400, 'BadRequest', `Resource '${rid}' is not in subscription '${subscription}' of the request path; a batch holds resources of one subscription.`);
    }
    const { scope } = metricsScope(core, [...parts, 'providers', 'microsoft.insights', 'metrics']);
    const params = new URLSearchParams();
    for (const k of ['interval', 'metricnames', 'aggregation', 'top', 'orderby', 'metricnamespace']) {
      const v = q.get(k);
      if (v !== null) params.set(k, v);
    }
    if (q.get('filter')) params.set('$filter', q.get('filter') ?? '');
    if (start && end) params.set('timespan', `${start}/${end}`);
    else if (start || end) throw new ArmError(400, 'BadRequest', 'Give both starttime and endtime, or neither (the last hour).');
    const r = queryMetrics({ scope, query: params, now, delayMs, cutoff, store: core.metrics }) as Record<string, unknown>;
    const [s, e] = String(r.timespan).split('/');
    return { starttime: s, endtime: e, interval: r.interval, namespace: r.namespace, resourceregion: r.resourceregion, resourceid: `/${scope.resourceId}`, value: r.value };
  });
  return { status: 200, body: { values } };
}

const operationDurationSchema = z.strictObject({ ms: z.number().int().min(0).max(3_600_000).nullable() });

function handleControl(core: EmulatorCore, ctx: RequestContext): Reply {
  const route = `${ctx.method} /${ctx.segments.slice(1).join('/')}`;
  const json = (): unknown => parseJson(ctx.body);
  switch (route) {
    case 'GET /health':
      return { status: 200, body: { status: 'ok', endpoints: Object.keys(core.state.endpoints).length, deployments: Object.keys(core.state.deployments).length } };
    case 'GET /calls':
      return { status: 200, body: { value: core.calls } };
    case 'DELETE /calls':
      core.calls.length = 0;
      return { status: 204 };
    case 'GET /requests':
      return { status: 200, body: { value: core.metrics.records.slice(-5000) } };
    case 'GET /data-collection':
      return { status: 200, body: { blobStore: core.blobStore.current ? { url: core.blobStore.current.url, accountName: core.blobStore.current.accountName, azurite: core.blobStore.current.azurite } : null, ...core.dataCollection.stats } };
    case 'GET /models':
      return { status: 200, body: { value: shippedModels.map((m) => ({ name: m.name, version: m.version, description: m.description, tags: m.tags })) } };
    case 'GET /faults':
      return { status: 200, body: core.faults.describe() };
    case 'POST /faults/fail-next':
      core.faults.failNext(parseBody(failNextSchema, json(), 'fail-next'));
      return { status: 200, body: core.faults.describe() };
    case 'POST /faults/fail-provisioning': {
      const b = parseBody(failProvisioningSchema, json(), 'fail-provisioning');
      core.faults.failProvisioning(b.deployment, b.code, b.message, b.endpoint);
      return { status: 200, body: core.faults.describe() };
    }
    case 'POST /faults/behaviour': {
      const b = parseBody(behaviourSchema, json(), 'behaviour');
      const { deployment, endpoint, ...behaviour } = b;
      core.faults.setBehaviour(deployment, behaviour, endpoint);
      return { status: 200, body: core.faults.describe() };
    }
    case 'POST /faults/operation-duration': {
      const b = parseBody(operationDurationSchema, json(), 'operation-duration');
      core.faults.operationDurationMs = b.ms ?? undefined;
      return { status: 200, body: core.faults.describe() };
    }
    case 'POST /faults/clear':
      core.faults.clear();
      return { status: 200, body: core.faults.describe() };
    default:
      throw notFound(`emulator control route '${route}'`);
  }
}

export function createEmulatorServer(core: EmulatorCore, tls: { cert: string; key: string }, metricsDelayMs: () => number): Server {
  const server = createServer({ cert: tls.cert, key: tls.key, keepAlive: true, keepAliveTimeout: 30_000 });
  const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const t0 = performance.now();
    const receivedAt = Date.now();
    const method = (req.method ?? 'GET').toUpperCase();
    const rawUrl = req.url ?? '/';
    const qIndex = rawUrl.indexOf('?');
    const rawPath = (qIndex < 0 ? rawUrl : rawUrl.slice(0, qIndex)).replace(/\/{2,}/g, '/');
    const query = new URLSearchParams(qIndex < 0 ? '' : rawUrl.slice(qIndex + 1));
    let segments: string[] = [];
    let kind: Kind = 'unknown';
    let reply: Reply;
    let commit: (() => void) | undefined;
    try {
      try {
        segments = rawPath.split('/').filter(Boolean).map((s) => decodeURIComponent(s));
      } catch {
        throw new ArmError(400, 'InvalidRequestUri', 'The request path is not valid percent-encoding.');
      }
      kind = classify(segments, method);
      const body = await readBody(req);
      const ctx: RequestContext = { method, path: rawPath, segments, query, headers: req.headers, body, receivedAt };
      const faultTarget = kind === 'management' || kind === 'operation' ? 'management' : kind === 'metrics' || kind === 'logs' || kind === 'scoring' ? kind : undefined;
      const fault = faultTarget ? core.faults.takeFailure(faultTarget, method, rawPath) : undefined;
      if (fault) {
        throw new ArmError(
          fault.status,
          fault.code,
          `Injected fault: ${fault.status} ${fault.code}.`,
          undefined,
          undefined,
          fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {},
        );
      }
      switch (kind) {
        case 'control':
          reply = handleControl(core, ctx);
          break;
        case 'prices':
          if (method !== 'GET' || !eq(segments[2], 'prices') || segments.length !== 3) throw notFound(rawPath);
          reply = { status: 200, body: retailPrices(query, core.baseUrl) };
          break;
        case 'scoring': {
          const ep = segments[1] ?? '';
          if (segments.length === 3 && eq(segments[2], 'swagger.json') && method === 'GET') {
            if (!core.endpoint(ep)) throw notFound(`online endpoint '${ep}'`);
            reply = { status: 200, body: swaggerFor(ep) };
            break;
          }
          if (segments.length !== 3 || !eq(segments[2], 'score')) throw notFound(rawPath);
          if (method !== 'POST') throw new ArmError(405, 'MethodNotAllowed', 'Scoring takes POST.');
          const out = await handleScore(core, ctx, ep, t0);
          reply = out.reply;
          commit = out.commit;
          break;
        }
        case 'metrics':
          requireBearer(ctx);
          reply = handleMetrics(core, ctx, metricsDelayMs());
          break;
        case 'logs':
          requireBearer(ctx);
          reply = handleLogs(core, ctx);
          break;
        case 'management':
        case 'operation':
          requireBearer(ctx);
          reply =
            kind === 'management' && isDatastorePath(segments)
              ? await handleDatastores(core, ctx)
              : kind === 'management' && isAssetPath(core, ctx.method, segments)
                ? await handleAssets(core, ctx)
                : handleArm(core, ctx);
          break;
        default:
          throw notFound(rawPath);
      }
    } catch (e) {
      if (e instanceof ArmError) reply = errorReply(e);
      else {
        console.error('[emulator] internal error:', e);
        reply = errorReply(new ArmError(500, 'InternalServerError', `The emulator failed to handle the request: ${(e as Error).message ?? String(e)}`));
      }
    }
    if (res.destroyed) return;
    sendReply(res, reply);
    commit?.();
    const errorCode = reply.status >= 400 ? ((reply.body as { error?: { code?: string } } | undefined)?.error?.code ?? undefined) : undefined;
    core.recordCall({
      time: new Date(receivedAt).toISOString(),
      method,
      path: rawPath,
      query: query.toString(),
      status: reply.status,
      durationMs: performance.now() - t0,
      kind,
      ...(errorCode ? { errorCode } : {}),
    });
  };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    onRequest(req, res).catch((e: unknown) => {
      console.error('[emulator] request failed:', e);
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'InternalServerError', message: 'unexpected failure' } }));
      }
    });
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n\r\n{"error":{"code":"BadRequest","message":"Malformed HTTP request."}}');
  });
  return server;
}
