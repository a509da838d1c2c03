// The scoring data plane: `POST /endpoints/<endpoint>/score`. Authenticates, routes by the applied live
// weights (or the `azureml-model-deployment` pin), mirrors a share of unpinned requests to the mirror target
// without waiting for it, runs the model in the deployment's container, and records every request for metrics.
import { randomUUID } from 'node:crypto';
import { inflightLimit, requestTimeoutMs, type RequestContext } from './arm.js';
import type { EmulatorCore } from './core.js';
import type { Reply } from './http.js';
import type { DataCollectorSpec } from './data-collection.js';
import { trafficLogRow, workspaceGuid } from './log-tables.js';
import { deploymentKey, type DeploymentRecord, type EndpointRecord } from './state.js';

export const DEPLOYMENT_HEADER = 'azureml-model-deployment';

function bearer(ctx: RequestContext): string | undefined {
  const h = ctx.headers.authorization;
  const v = Array.isArray(h) ? h[0] : h;
  const m = v ? /^Bearer\s+(.+)$/i.exec(v.trim()) : null;
  return m?.[1];
}

function authorized(core: EmulatorCore, ep: EndpointRecord, token: string | undefined): boolean {
  if (!token) return false;
  switch (ep.authMode) {
    case 'Key':
      return token === ep.keys.primaryKey || token === ep.keys.secondaryKey;
    case 'AMLToken': {
      const t = core.state.tokens[token];
      return !!t && t.endpoint.toLowerCase() === ep.name.toLowerCase() && t.expiresAt > Date.now();
    }
    case 'AADToken':
      // Any Entra-looking token (three dot-separated parts): the emulator has no identity provider.
      return token.split('.').length === 3;
  }
}

const err = (status: number, code: string, message: string, headers: Record<string, string> = {}): Reply => ({
  status,
  body: { error: { code, message } },
  headers,
});

/** Picks a deployment by integer weights with the core's seeded random source. */
function pickByWeight(core: EmulatorCore, weights: Record<string, number>): string | undefined {
  const entries = Object.entries(weights).filter(([, w]) => w > 0);
  const total = entries.reduce((a, [, w]) => a + w, 0);
  if (total <= 0) return undefined;
  let x = core.random() * total;
  for (const [name, w] of entries) {
    x -= w;
    if (x < 0) return name;
  }
  return entries[entries.length - 1]?.[0];
}

interface DispatchResult {
  reply: Reply;
  modelStatusCode?: number;
  /**
   * How much later than asked the timer of the behaviour's wait fired (ms): on a loaded machine the
   * emulator's own event loop can be seconds behind, which the emulated server would not have waited,
   * so the recorded latency leaves it out (the drawn wait itself, the model's run and the rest stay in).
   */
  lateMs?: number;
  /**
   * For a deployment with a modelled service time (`latency` set): the latency its server reports — the
   * drawn wait plus the model's own compute time — recorded instead of the wall time, so the emulator's
   * host (its event loop and threads, on a shared machine) adds nothing the modelled server would not.
   */
  modelledMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs one request on one deployment: 429 past the in-flight limit, 408 past the timeout, 424 on model errors, 502 when the container is down. */
async function dispatch(core: EmulatorCore, ep: EndpointRecord, dep: DeploymentRecord, body: Buffer, started: number): Promise<DispatchResult> {
  const timing: { lateMs: number; modelledMs?: number } = { lateMs: 0 };
  const res = await dispatchOnce(core, ep, dep, body, started, timing);
  return { ...res, ...(timing.lateMs > 0 ? { lateMs: timing.lateMs } : {}), ...(timing.modelledMs !== undefined ? { modelledMs: timing.modelledMs } : {}) };
}

async function dispatchOnce(core: EmulatorCore, ep: EndpointRecord, dep: DeploymentRecord, body: Buffer, started: number, timing: { lateMs: number; modelledMs?: number }): Promise<DispatchResult> {
  const key = deploymentKey(dep.endpoint, dep.name);
  const limit = inflightLimit(dep);
  const inflight = core.inflight.get(key) ?? 0;
  if (inflight >= limit) {
    return { reply: err(429, 'TooManyRequests', `Too many pending requests: deployment '${dep.name}' already has ${inflight} requests in flight (limit 2 × maxConcurrentRequestsPerInstance × instances = ${limit}).`) };
  }
  core.inflight.set(key, inflight + 1);
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    core.inflight.set(key, Math.max(0, (core.inflight.get(key) ?? 1) - 1));
  };
  try {
    const behaviour = core.faults.behaviour(ep.name, dep.name);
    const container = core.containers.get(key);
    if (behaviour.crash && container?.alive) container.crash(`User container for deployment '${dep.name}' crashed (injected fault).`);
    if (!container || (!container.alive && !behaviour.crash)) {
      if (container && !container.alive) core.restartLater(dep);
      release();
      const reason = container?.exitReason || 'the inference server is not running';
      return { reply: err(502, 'BadGateway', `Deployment '${dep.name}' could not answer: ${reason}.`) };
    }
    if (behaviour.crash) {
      release();
      return { reply: err(502, 'BadGateway', `Deployment '${dep.name}' could not answer: its container is crash-looping.`) };
    }
    const delay = core.faults.delayMs(behaviour);
    if (delay > 0) {
      const waitStart = performance.now();
      await sleep(delay);
      timing.lateMs = Math.max(0, performance.now() - waitStart - delay);
    }
    if (behaviour.latency) timing.modelledMs = delay;
    if (core.faults.drawServerError(behaviour.serverErrorRate)) {
      release();
      return { reply: err(500, 'InternalServerError', `Deployment '${dep.name}' could not answer: internal server error in the serving infrastructure (fault: serverErrorRate).`) };
    }
    if (core.faults.injectError(key, behaviour.errorRate)) {
      release();
      const reason = 'Injected model failure (fault: errorRate)';
      core.log(key, `[InferenceServer] Scoring error 500: ${reason}`);
      return {
        reply: err(424, 'ModelError', `The model returned 500: ${reason}`, { 'ms-azureml-model-error-statuscode': '500', 'ms-azureml-model-error-reason': 'model_error' }),
        modelStatusCode: 500,
      };
    }
    const remaining = requestTimeoutMs(dep) - (Date.now() - started);
    const scoring = container.score(body.toString('utf8'));
    scoring.then(release, release);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), Math.max(0, remaining));
    });
    const result = await Promise.race([scoring, timeout]);
    clearTimeout(timer);
    if (result === 'timeout') {
      return { reply: err(408, 'RequestTimeout', `The model did not answer within the request timeout of ${requestTimeoutMs(dep)} ms.`) };
    }
    switch (result.kind) {
      case 'ok':
        if (timing.modelledMs !== undefined) timing.modelledMs += result.computeMs;
        return { reply: { status: 200, raw: result.body }, modelStatusCode: 200 };
      case 'model-error':
        if (timing.modelledMs !== undefined) timing.modelledMs += result.computeMs;
        return {
          reply: err(424, 'ModelError', `The model returned ${result.status}: ${result.reason}`, {
            'ms-azureml-model-error-statuscode': String(result.status),
            'ms-azureml-model-error-reason': result.status === 400 ? 'bad_request' : 'model_error',
          }),
          modelStatusCode: result.status,
        };
      case 'crashed':
        core.restartLater(dep);
        return { reply: err(502, 'BadGateway', `Deployment '${dep.name}' crashed while answering: ${result.reason}.`) };
    }
  } catch (e) {
    release();
    throw e;
  }
}

interface RecordInput {
  /** performance.now() when the request arrived (for a mirrored copy: when it was sent). */
  started: number;
  /** Epoch ms of the same moment. */
  receivedAt: number;
  /** performance.now() when the request body had been read. */
  requestRead: number;
  /** performance.now() when the answer (the model's, or the refusal) was ready. */
  responseReady: number;
  requestId: string;
  mirrored: boolean;
  pinned: boolean;
  modelStatusCode?: number;
  /** Left out of the recorded latency: see DispatchResult.lateMs. */
  lateMs?: number;
  /** Recorded as the latency when set: see DispatchResult.modelledMs. */
  modelledMs?: number;
  requestBytes: number;
  userAgent: string | undefined;
  clientRequestId: string | undefined;
}

/** Records a served request for metrics and as a row of the traffic log (AmlOnlineEndpointTrafficLog). */
function record(core: EmulatorCore, ep: EndpointRecord, deployment: string, reply: Reply, r: RecordInput): void {
  const responseBytes = reply.raw !== undefined ? Buffer.byteLength(reply.raw) : reply.body !== undefined ? Buffer.byteLength(JSON.stringify(reply.body)) : 0;
  const now = Date.now();
  const late = r.lateMs ?? 0;
  const latencyMs = r.modelledMs ?? performance.now() - r.started - late;
  core.metrics.addRecord({
    time: now,
    requestId: r.requestId,
    endpoint: ep.name,
    deployment,
    statusCode: reply.status,
    ...(r.modelStatusCode !== undefined ? { modelStatusCode: r.modelStatusCode } : {}),
    latencyMs,
    mirrored: r.mirrored,
    pinned: r.pinned,
    requestBytes: r.requestBytes,
    responseBytes,
  });
  core.trafficLog.append(
    trafficLogRow({
      endpoint: ep,
      deployment,
      receivedAt: r.receivedAt,
      method: 'POST',
      userAgent: r.userAgent,
      clientRequestId: r.clientRequestId,
      requestId: r.requestId,
      responseCode: reply.status,
      modelStatusCode: r.modelStatusCode,
      requestBytes: r.requestBytes,
      responseBytes,
      totalMs: latencyMs,
      requestMs: r.requestRead - r.started,
      responseMs: r.modelledMs ?? Math.max(r.requestRead - r.started, r.responseReady - r.started - late),
    }),
    now,
    core.timing.nextLogDelayMs(),
  );
}

/**
 * Hands a request the deployment served to its data collector (when it has one): the request as sent, the
 * model's answer, and the live request's id — a mirrored copy carries its original's headers, so both
 * sides' lines have the same correlation id and the same captured `x-ms-client-request-id`.
 */
function collect(core: EmulatorCore, ep: EndpointRecord, dep: DeploymentRecord, c: { headers: RequestContext['headers']; body: Buffer; requestId: string; timeMs: number; res: DispatchResult; mirrored: boolean }): void {
  const spec = dep.properties.dataCollector as DataCollectorSpec | undefined;
  if (!spec) return;
  try {
    core.dataCollection.collect({
      source: { subscriptionId: ep.subscriptionId, resourceGroup: ep.resourceGroup, workspace: ep.workspace, endpoint: ep.name, deployment: dep.name },
      workspaceGuid: workspaceGuid(ep.subscriptionId, ep.resourceGroup, ep.workspace),
      spec,
      timeMs: c.timeMs,
      requestId: c.requestId,
      requestHeaders: c.headers,
      body: c.body,
      ...(c.res.reply.status === 200 && c.res.reply.raw !== undefined ? { answer: c.res.reply.raw } : {}),
      modelRan: c.res.modelStatusCode !== undefined,
      mirrored: c.mirrored,
    });
  } catch (e) {
    // Collection never breaks scoring; a failure shows in the deployment's logs.
    core.log(deploymentKey(dep.endpoint, dep.name), `[DataCollector] could not collect a request: ${(e as Error).message}`);
  }
}

const header = (ctx: RequestContext, name: string): string | undefined => {
  const v = ctx.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/**
 * Answers one scoring request. `startedPerf` is `performance.now()` when the request arrived: the
 * latency recorded for metrics is measured from there to the moment the answer is handed to the socket.
 */
export async function handleScore(core: EmulatorCore, ctx: RequestContext, endpointName: string, startedPerf: number): Promise<{ reply: Reply; commit: () => void }> {
  const requestId = (ctx.headers['x-request-id'] as string | undefined) ?? randomUUID();
  const baseHeaders = { 'x-request-id': requestId, 'x-ms-request-id': requestId };
  const ep = core.endpoint(endpointName);
  const noRecord = { commit: () => undefined };
  if (!ep || ep.provisioningState === 'Creating' || ep.provisioningState === 'Deleting') {
    return { reply: err(404, 'NotFound', `Online endpoint '${endpointName}' was not found.`, baseHeaders), ...noRecord };
  }
  const started = Date.now();
  const requestRead = performance.now();
  const base = {
    started: startedPerf,
    receivedAt: ctx.receivedAt,
    requestRead,
    responseReady: requestRead,
    requestId,
    requestBytes: ctx.body.length,
    userAgent: header(ctx, 'user-agent'),
    clientRequestId: header(ctx, 'x-ms-client-request-id'),
  };
  if (!authorized(core, ep, bearer(ctx))) {
    const reply = err(401, 'Unauthorized', `Missing, invalid or expired credential for endpoint '${ep.name}' (authMode ${ep.authMode}).`, baseHeaders);
    return { reply, commit: () => record(core, ep, '', reply, { ...base, mirrored: false, pinned: false }) };
  }
  const pinHeader = ctx.headers[DEPLOYMENT_HEADER];
  const pin = Array.isArray(pinHeader) ? pinHeader[0] : pinHeader;
  let target: DeploymentRecord | undefined;
  let mirrorTo: DeploymentRecord | undefined;
  if (pin) {
    target = core.deployment(ep.name, pin);
    if (!target || target.provisioningState === 'Creating' || target.provisioningState === 'Deleting') {
      const reply = err(404, 'NotFound', `Deployment '${pin}' named by the ${DEPLOYMENT_HEADER} header does not exist on endpoint '${ep.name}'.`, baseHeaders);
      return { reply, commit: () => record(core, ep, '', reply, { ...base, mirrored: false, pinned: true }) };
    }
  } else {
    const name = pickByWeight(core, ep.applied.live);
    target = name ? core.deployment(ep.name, name) : undefined;
    if (!target) {
      const reply = err(404, 'NotFound', `No deployment of endpoint '${ep.name}' has a positive traffic weight; set traffic or pin one with the ${DEPLOYMENT_HEADER} header.`, baseHeaders);
      return { reply, commit: () => record(core, ep, '', reply, { ...base, mirrored: false, pinned: false }) };
    }
    mirrorTo = pickMirror(core, ep);
  }
  const dep = target;
  const res = await dispatch(core, ep, dep, ctx.body, started);
  const responseReady = performance.now();
  const reply: Reply = { ...res.reply, headers: { ...(res.reply.headers ?? {}), ...baseHeaders, [DEPLOYMENT_HEADER]: dep.name } };
  return {
    reply,
    commit: () => {
      record(core, ep, dep.name, reply, { ...base, responseReady, mirrored: false, pinned: !!pin, ...(res.modelStatusCode !== undefined ? { modelStatusCode: res.modelStatusCode } : {}), ...(res.lateMs ? { lateMs: res.lateMs } : {}), ...(res.modelledMs !== undefined ? { modelledMs: res.modelledMs } : {}) });
      collect(core, ep, dep, { headers: ctx.headers, body: ctx.body, requestId, timeMs: ctx.receivedAt, res, mirrored: false });
      // The mirrored copy is sent once the primary answer is on its way: nobody waits for it and its answer is dropped.
      if (mirrorTo) mirror(core, ep, mirrorTo, ctx, requestId, base);
    },
  };
}

function mirror(core: EmulatorCore, ep: EndpointRecord, target: DeploymentRecord, ctx: RequestContext, requestId: string, original: Pick<RecordInput, 'userAgent' | 'clientRequestId'>): void {
  const body = ctx.body;
  setImmediate(() => {
    const started = performance.now();
    const receivedAt = Date.now();
    dispatch(core, ep, target, body, receivedAt)
      .then((res) => {
        record(core, ep, target.name, res.reply, {
          started,
          receivedAt,
          requestRead: started,
          responseReady: performance.now(),
          userAgent: original.userAgent,
          clientRequestId: original.clientRequestId,
          requestId: `${requestId}-mirror`,
          mirrored: true,
          pinned: false,
          requestBytes: body.length,
          ...(res.modelStatusCode !== undefined ? { modelStatusCode: res.modelStatusCode } : {}),
          ...(res.lateMs ? { lateMs: res.lateMs } : {}),
          ...(res.modelledMs !== undefined ? { modelledMs: res.modelledMs } : {}),
        });
        collect(core, ep, target, { headers: ctx.headers, body, requestId, timeMs: receivedAt, res, mirrored: true });
      })
      .catch(() => undefined);
  });
}

function pickMirror(core: EmulatorCore, ep: EndpointRecord): DeploymentRecord | undefined {
  const entry = Object.entries(ep.applied.mirror).find(([, pct]) => pct > 0);
  if (!entry) return undefined;
  const [name, pct] = entry;
  if (core.random() * 100 >= pct) return undefined;
  const dep = core.deployment(ep.name, name);
  return dep && dep.provisioningState !== 'Deleting' && dep.provisioningState !== 'Creating' ? dep : undefined;
}

/** A minimal OpenAPI document for the scoring route (served at swaggerUri). */
export function swaggerFor(endpointName: string): unknown {
  return {
    openapi: '3.0.1',
    info: { title: `Glidepath emulator scoring API for ${endpointName}`, version: '1.0' },
    paths: {
      '/score': {
        post: {
          requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/ScoringRequest' } } } },
          responses: { '200': { description: 'Predictions' } },
        },
      },
    },
    components: {
      schemas: {
        ScoringRequest: {
          type: 'object',
          required: ['transactions'],
          properties: {
            transactions: {
              type: 'array',
              items: {
                type: 'object',
                required: ['amount', 'hour', 'merchantCategory', 'distanceFromHomeKm', 'cardPresent', 'transactionsLast24h', 'avgAmount30d', 'foreignCountry', 'accountAgeDays'],
              },
            },
          },
        },
      },
    },
  };
}
