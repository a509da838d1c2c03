// Shared builders for emulator tests: an emulator per file, SDK clients pointed at it (trusting its CA
// through `tlsOptions`), and plain bodies for endpoints and deployments.
import { request } from 'node:https';
import { AzureMachineLearningWorkspaces, type OnlineDeployment, type OnlineEndpoint } from '@azure/arm-machinelearning';
import { MIRROR_TRAFFIC_HEADER, mirrorTrafficPolicy } from '../../activities/azure-clients.js';
import { emulatorClientOptions, emulatorCredential } from '../../emulator/sdk.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../emulator/index.js';

export const SUB = '00000000-0000-4000-8000-000000000001';
export const RG = 'rg-glidepath';
export const WS = 'ws-glidepath';
export const WS_PATH = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.MachineLearningServices/workspaces/${WS}`;
/** Fast polling for the SDK's long-running operations. */
export const POLL = { updateIntervalInMs: 50 };

export function startTestEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  return startEmulator({ provisionTimeMs: 150, ...options });
}

/** The unmodified ARM client, pointed at the emulator, trusting its certificate; mirror-traffic policy added. */
export function armClient(emu: Emulator, extra: Record<string, unknown> = {}, subscriptionId = SUB): AzureMachineLearningWorkspaces {
  const client = new AzureMachineLearningWorkspaces(emulatorCredential(), subscriptionId, { ...emulatorClientOptions(emu), ...extra });
  client.pipeline.addPolicy(mirrorTrafficPolicy());
  return client;
}

/** One metric of an ARM metrics answer, with dimension names and values as Azure returns them. */
export interface ArmMetric {
  name: string;
  timeseries: { metadataValues: { name: string; value: string }[]; data: { timeStamp: string; total?: number; average?: number; minimum?: number; maximum?: number; count?: number }[] }[];
}

/**
 * The ARM metrics route (`GET {resourceId}/providers/Microsoft.Insights/metrics`, reference §4.3), which
 * the emulator still serves for people and tools (the Azure CLI, `@azure/arm-monitor` `metrics.list`).
 * Glidepath reads metrics through `MetricsClient`'s batch API; `@azure/monitor-query`, whose
 * `MetricsQueryClient` called this route, is deprecated and gone, so these are raw requests of its shape.
 */
export function metricsClient(emu: Emulator) {
  return {
    async queryResource(
      resourceId: string,
      names: string[],
      opts: { granularity?: string; aggregations?: string[]; timespan?: { startTime: Date; endTime: Date } | { duration: string }; filter?: string; metricNamespace?: string } = {},
    ): Promise<{ metrics: ArmMetric[] }> {
      const q = new URLSearchParams({ 'api-version': '2024-02-01', metricnames: names.join(',') });
      if (opts.timespan) q.set('timespan', 'duration' in opts.timespan ? opts.timespan.duration : `${opts.timespan.startTime.toISOString()}/${opts.timespan.endTime.toISOString()}`);
      if (opts.granularity) q.set('interval', opts.granularity);
      if (opts.aggregations) q.set('aggregation', opts.aggregations.join(','));
      if (opts.filter) q.set('$filter', opts.filter);
      if (opts.metricNamespace) q.set('metricnamespace', opts.metricNamespace);
      const r = await raw(emu, 'GET', `/${resourceId.replace(/^\//, '')}/providers/Microsoft.Insights/metrics?${q.toString()}`);
      if (r.status !== 200) throw Object.assign(new Error(r.text), { statusCode: r.status });
      const body = r.json as { value: { name: { value: string }; timeseries: { metadatavalues?: { name: { value: string }; value: string }[]; data: ArmMetric['timeseries'][number]['data'] }[] }[] };
      return {
        metrics: body.value.map((m) => ({
          name: m.name.value,
          timeseries: m.timeseries.map((t) => ({ metadataValues: (t.metadatavalues ?? []).map((v) => ({ name: v.name.value, value: v.value })), data: t.data })),
        })),
      };
    },
    async listMetricDefinitions(resourceId: string, opts: { metricNamespace: string }): Promise<string[]> {
      const q = new URLSearchParams({ 'api-version': '2024-02-01', metricnamespace: opts.metricNamespace });
      const r = await raw(emu, 'GET', `/${resourceId.replace(/^\//, '')}/providers/Microsoft.Insights/metricDefinitions?${q.toString()}`);
      if (r.status !== 200) throw Object.assign(new Error(r.text), { statusCode: r.status });
      return (r.json as { value: { name: { value: string } }[] }).value.map((d) => d.name.value);
    },
  };
}

export function anEndpoint(traffic: Record<string, number> = {}): OnlineEndpoint {
  return { location: 'eastus', tags: { team: 'fraud' }, properties: { authMode: 'Key', traffic } };
}

export function aDeployment(model = 'azureml:fraud-detector:1', opts: { capacity?: number; maxConcurrent?: number; requestTimeout?: string } = {}): OnlineDeployment {
  return {
    location: 'eastus',
    sku: { name: 'Default', capacity: opts.capacity ?? 1 },
    properties: {
      endpointComputeType: 'Managed',
      model,
      instanceType: 'Standard_DS3_v2',
      requestSettings: { maxConcurrentRequestsPerInstance: opts.maxConcurrent ?? 8, requestTimeout: opts.requestTimeout ?? 'PT5S' },
    },
  } as OnlineDeployment;
}

/** Options for a call that also sets mirror traffic (through mirrorTrafficPolicy). */
export function withMirror(mirror: Record<string, number>): { requestOptions: { customHeaders: Record<string, string> }; updateIntervalInMs: number } {
  return { requestOptions: { customHeaders: { [MIRROR_TRAFFIC_HEADER]: JSON.stringify(mirror) } }, ...POLL };
}

export async function setTraffic(client: AzureMachineLearningWorkspaces, endpoint: string, live: Record<string, number>, mirror: Record<string, number> = {}): Promise<OnlineEndpoint> {
  return client.onlineEndpoints.beginCreateOrUpdateAndWait(RG, WS, endpoint, anEndpoint(live), withMirror(mirror));
}

/** Creates an endpoint with the given deployments (model per deployment) and returns its primary key. */
export async function anEndpointWith(
  client: AzureMachineLearningWorkspaces,
  endpoint: string,
  deployments: Record<string, string>,
  opts: { capacity?: number; maxConcurrent?: number } = {},
): Promise<string> {
  await client.onlineEndpoints.beginCreateOrUpdateAndWait(RG, WS, endpoint, anEndpoint(), POLL);
  for (const [name, model] of Object.entries(deployments)) {
    await client.onlineDeployments.beginCreateOrUpdateAndWait(RG, WS, endpoint, name, aDeployment(model, opts), POLL);
  }
  const keys = await client.onlineEndpoints.listKeys(RG, WS, endpoint);
  return keys.primaryKey ?? '';
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

/** One raw HTTPS request to the emulator (trusting its CA), for what the SDK cannot send. */
export function raw(emu: Emulator, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const u = new URL(path, emu.url);
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        method,
        path: `${u.pathname}${u.search}`,
        ca: emu.caCertPem,
        agent: false,
        headers: {
          authorization: 'Bearer test',
          ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export const TX = {
  amount: 42.5,
  hour: 14,
  merchantCategory: 'grocery',
  distanceFromHomeKm: 3.2,
  cardPresent: true,
  transactionsLast24h: 2,
  avgAmount30d: 55,
  foreignCountry: false,
  accountAgeDays: 800,
};

/**
 * Creates a deployment with a raw PUT (api-version 2024-04-01: the stable SDK drops `dataCollector` from
 * bodies) and waits up to 60 s until it has provisioned. `properties` are added to a managed
 * Standard_DS3_v2 deployment of capacity 1.
 */
export async function aRawDeployment(emu: Emulator, endpoint: string, name: string, properties: Record<string, unknown>): Promise<void> {
  const path = `${WS_PATH}/onlineEndpoints/${endpoint}/deployments/${name}?api-version=2024-04-01`;
  const body = { location: 'eastus', sku: { name: 'Default', capacity: 1 }, properties: { endpointComputeType: 'Managed', instanceType: 'Standard_DS3_v2', ...properties } };
  const put = await raw(emu, 'PUT', path, JSON.stringify(body));
  if (put.status >= 300) throw new Error(`PUT ${name} on ${endpoint}: ${put.status} ${put.text}`);
  for (const deadline = Date.now() + 60_000; ; ) {
    const g = await raw(emu, 'GET', path);
    if ((g.json as { properties: { provisioningState: string } }).properties.provisioningState === 'Succeeded') return;
    if (Date.now() > deadline) throw new Error(`${name} on ${endpoint} never provisioned: ${g.text}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function score(emu: Emulator, endpoint: string, key: string, opts: { deployment?: string; body?: unknown } = {}): Promise<RawResponse> {
  return raw(emu, 'POST', `/endpoints/${endpoint}/score`, JSON.stringify(opts.body ?? { transactions: [TX] }), {
    authorization: `Bearer ${key}`,
    ...(opts.deployment ? { 'azureml-model-deployment': opts.deployment } : {}),
  });
}

export function armPath(endpoint?: string, rest = ''): string {
  return `${WS_PATH}/onlineEndpoints${endpoint ? `/${endpoint}` : ''}${rest}?api-version=2022-10-01`;
}
