// Data collection into real blob storage: deployments with a dataCollector write Azure's JSONL lines to the
// workspace's blob store (Azurite, started by the emulator), read back here with @azure/storage-blob — the
// line format, the path layout, live and mirrored copies sharing the caller's client request id and the
// correlation id, batching of nearby custom-logging events, seeded sampling, nothing written when
// collection is off, 400s naming the field of a bad dataCollector, and the workspaceblobstore datastore.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import type { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import type { Emulator } from '../../emulator/index.js';
import { collectedLine, collectionFolder, inputRecords, outputRecords, rolledFolder, type RollingRate } from '../../emulator/data-collection.js';
import { anEndpoint, armClient, armPath, POLL, raw, RG, setTraffic, startTestEmulator, SUB, TX, WS, WS_PATH, type RawResponse } from './support.js';

const EP = 'dc-ep';
const CLIENT_ID_HEADER = 'x-ms-client-request-id';

interface Line {
  specversion: string;
  id: string;
  source: string;
  type: string;
  datacontenttype: string;
  time: string;
  data: unknown;
  path?: string;
  method?: string;
  contentrange: string;
  correlationid: string;
  xrequestid: string;
  modelversion?: string;
  collectdatatype?: string;
  agent?: string;
  headers?: Record<string, string>;
}

/** A deployment body with a dataCollector, sent raw: @azure/arm-machinelearning 2.1.1 drops `dataCollector` from bodies. */
function collectingDeployment(model: string, dataCollector: unknown, maxConcurrent = 64): string {
  return JSON.stringify({
    location: 'eastus',
    sku: { name: 'Default', capacity: 1 },
    properties: {
      endpointComputeType: 'Managed',
      model,
      instanceType: 'Standard_DS3_v2',
      requestSettings: { maxConcurrentRequestsPerInstance: maxConcurrent, requestTimeout: 'PT5S' },
      ...(dataCollector !== undefined ? { dataCollector } : {}),
    },
  });
}

async function putDeployment(emu: Emulator, name: string, body: string): Promise<RawResponse> {
  const r = await raw(emu, 'PUT', armPath(EP, `/deployments/${name}`).replace('2022-10-01', '2024-04-01'), body);
  if (r.status >= 300) return r;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const g = await raw(emu, 'GET', armPath(EP, `/deployments/${name}`).replace('2022-10-01', '2024-04-01'));
    const state = (g.json as { properties: { provisioningState: string } }).properties.provisioningState;
    if (state === 'Succeeded') return g;
    if (state === 'Failed' || Date.now() > deadline) throw new Error(`deployment ${name} ended ${state}: ${g.text}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

const ALL = { dataCollectionMode: 'Enabled' };
const FULL_COLLECTOR = {
  collections: { model_inputs: ALL, model_outputs: ALL, request: ALL, response: ALL },
  requestLogging: { captureHeaders: [CLIENT_ID_HEADER] },
};

function scoreWith(emu: Emulator, key: string, clientRequestId: string, opts: { deployment?: string; body?: unknown } = {}): Promise<RawResponse> {
  return raw(emu, 'POST', `/endpoints/${EP}/score`, JSON.stringify(opts.body ?? { transactions: [TX] }), {
    authorization: `Bearer ${key}`,
    [CLIENT_ID_HEADER]: clientRequestId,
    ...(opts.deployment ? { 'azureml-model-deployment': opts.deployment } : {}),
  });
}

/** Every line under a prefix, with the blob it came from. */
async function readLines(container: ContainerClient, prefix: string): Promise<{ blob: string; line: Line }[]> {
  const out: { blob: string; line: Line }[] = [];
  for await (const b of container.listBlobsFlat({ prefix })) {
    const text = (await container.getBlobClient(b.name).downloadToBuffer()).toString('utf8');
    assert.ok(text.endsWith('\n'), `${b.name} ends with a newline`);
    for (const l of text.split('\n').filter((x) => x.length > 0)) out.push({ blob: b.name, line: JSON.parse(l) as Line });
  }
  return out;
}

const variant = (tx: Record<string, unknown>, i: number): Record<string, unknown> => ({ ...tx, amount: 10 + i, hour: i % 24 });
const hourFolder = (ms: number): string => new Date(ms).toISOString().slice(0, 13).replace(/-/g, '/').replace('T', '/');

describe('data collection: paths, rows and lines (pure)', () => {
  test('time folders for each rolling rate, in UTC', () => {
    const t = Date.parse('2026-01-02T03:04:59.999Z');
    const cases: [RollingRate, string][] = [
      ['Year', '2026'],
      ['Month', '2026/01'],
      ['Day', '2026/01/02'],
      ['Hour', '2026/01/02/03'],
      ['Minute', '2026/01/02/03/04'],
    ];
    for (const [rate, folder] of cases) assert.equal(rolledFolder(t, rate), folder, rate);
    assert.equal(rolledFolder(Date.parse('2026-12-31T23:59:59Z')), '2026/12/31/23', 'Hour by default');
  });

  test('a collection writes to its dataId path when it is a workspaceblobstore URI, else to the default folder', () => {
    const cases: [string | undefined, string][] = [
      [undefined, 'modelDataCollector/ep/blue/model_inputs'],
      ['azureml://datastores/workspaceblobstore/paths/custom/in/', 'custom/in'],
      ['azureml://datastores/WorkspaceBlobStore/paths//a/b', 'a/b'],
      ['/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/data/x/versions/1', 'modelDataCollector/ep/blue/model_inputs'],
      ['azureml://datastores/otherstore/paths/x', 'modelDataCollector/ep/blue/model_inputs'],
    ];
    for (const [dataId, folder] of cases) assert.equal(collectionFolder('ep', 'blue', 'model_inputs', dataId), folder, String(dataId));
  });

  test('input and output rows as score.py would log them', () => {
    assert.deepEqual(inputRecords({ transactions: [{ a: 1 }, { a: 2 }] }), [{ a: 1 }, { a: 2 }]);
    assert.deepEqual(inputRecords({ data: [[1, 2]] }), [[1, 2]]);
    assert.deepEqual(inputRecords([{ a: 1 }]), [{ a: 1 }]);
    assert.deepEqual(inputRecords({ x: 1 }), [{ x: 1 }]);
    assert.deepEqual(outputRecords({ model: 'm', predictions: [{ p: 0.1 }] }), [{ p: 0.1 }]);
    assert.deepEqual(outputRecords([0.5]), [0.5]);
    assert.deepEqual(outputRecords({ score: 1 }), [{ score: 1 }]);
  });

  test('a batched line holds every event\'s rows and the first event\'s time and ids; contentrange counts UTF-8 bytes', () => {
    const src = { subscriptionId: 's', resourceGroup: 'rg', workspace: 'ws', endpoint: 'ep', deployment: 'blue' };
    const line = JSON.parse(
      collectedLine(src, [
        { collection: 'model_inputs', timeMs: Date.parse('2026-01-02T03:04:05.900Z'), correlationId: 'first', data: [{ city: 'Zürich' }], headers: { 'x-ms-client-request-id': 'c1' } },
        { collection: 'model_inputs', timeMs: Date.parse('2026-01-02T03:04:06.004Z'), correlationId: 'second', data: [{ city: 'Köln' }] },
      ]),
    ) as Line;
    assert.deepEqual(line.data, [{ city: 'Zürich' }, { city: 'Köln' }]);
    assert.equal(line.time, '2026-01-02T03:04:05Z');
    assert.equal(line.correlationid, 'first');
    assert.deepEqual(line.headers, { 'x-ms-client-request-id': 'c1' });
    const n = Buffer.byteLength('[{"city":"Zürich"},{"city":"Köln"}]');
    assert.equal(line.contentrange, `bytes 0-${n - 1}/${n}`);
    assert.equal(n, 37, 'two bytes each for ü and ö');
    assert.throws(() => collectedLine(src, []), /at least one event/);
  });
});

describe('data collection into the workspace blob store (Azurite)', () => {
  let emu: Emulator;
  let client: AzureMachineLearningWorkspaces;
  let key = '';
  let container: ContainerClient;

  before(async () => {
    // A 40 ms batching window (default 10 ms) so the burst below batches even on a loaded machine.
    emu = await startTestEmulator({ seed: 5, dataCollection: { flushIntervalMs: 200, batchWindowMs: 40 } });
    client = armClient(emu);
    await client.onlineEndpoints.beginCreateOrUpdateAndWait(RG, WS, EP, anEndpoint(), POLL);
    for (const [name, model] of [['blue', 'azureml:fraud-detector:1'], ['green', 'azureml:fraud-detector:2']] as const) {
      const r = await putDeployment(emu, name, collectingDeployment(model, FULL_COLLECTOR));
      assert.equal(r.status, 200, r.text);
    }
    key = (await client.onlineEndpoints.listKeys(RG, WS, EP)).primaryKey ?? '';
    const info = await emu.blobStore();
    container = new BlobServiceClient(info.url, new StorageSharedKeyCredential(info.accountName, info.accountKey)).getContainerClient(emu.workspaceBlobContainer(SUB, RG, WS));
  });
  after(async () => {
    await emu.close();
  });

  test('GET returns the dataCollector as Azure keeps it (enum values in Azure casing)', { timeout: 30_000 }, async () => {
    const r = await putDeployment(emu, 'casing', collectingDeployment('azureml:fraud-detector:1', { collections: { request: { dataCollectionMode: 'enabled', samplingRate: 1 } }, rollingRate: 'hour' }));
    const dc = (r.json as { properties: { dataCollector: unknown } }).properties.dataCollector;
    assert.deepEqual(dc, { collections: { request: { dataCollectionMode: 'Enabled', samplingRate: 1 } }, rollingRate: 'Hour' });
  });

  test('live and mirrored requests: Azure line format and path layout, both sides carry the caller\'s client request id and one correlation id', { timeout: 60_000 }, async () => {
    await setTraffic(client, EP, { blue: 100 }, { green: 50 });
    const start = Date.now();
    const sent = new Map<string, { body: unknown; answer: unknown; requestId: string }>();
    for (let i = 0; i < 60; i++) {
      const cid = `client-${i}-${start}`;
      const body = { transactions: [variant(TX, i)] };
      const r = await scoreWith(emu, key, cid, { body });
      assert.equal(r.status, 200, r.text);
      sent.set(cid, { body, answer: r.json, requestId: String(r.headers['x-request-id']) });
    }
    await new Promise((res) => setTimeout(res, 300)); // the last mirrored copies
    await emu.flushDataCollection();
    const end = Date.now();
    const mirrored = emu.requestLog().filter((r) => r.mirrored && r.endpoint === EP).length;
    assert.ok(mirrored >= 15 && mirrored <= 45, `about half of 60 mirrored, got ${mirrored}`);

    const lines = await readLines(container, `modelDataCollector/${EP}/`);
    const hours = new Set([hourFolder(start), hourFolder(end)]);
    for (const { blob, line } of lines) {
      const m = /^modelDataCollector\/dc-ep\/(blue|green|casing)\/(request|response|model_inputs|model_outputs)\/(\d{4}\/\d{2}\/\d{2}\/\d{2})\/[0-9a-f-]{36}\.jsonl$/.exec(blob);
      assert.ok(m, `path layout: ${blob}`);
      assert.ok(hours.has(m[3] ?? ''), `hour folder ${m[3]} is the hour of the requests`);
      assert.equal(line.type, `azureml.inference.${m[2]}`);
      assert.equal(line.specversion, '1.0');
      assert.match(line.id, /^[0-9a-f-]{36}$/);
      assert.equal(line.source, `${WS_PATH}/onlineEndpoints/${EP}/deployments/${m[1]}`);
      assert.equal(line.datacontenttype, 'application/json');
      assert.match(line.time, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      const t = Date.parse(line.time);
      assert.ok(t >= Math.floor(start / 1000) * 1000 && t <= end, `time ${line.time} within the run`);
      const n = Buffer.byteLength(JSON.stringify(line.data));
      assert.equal(line.contentrange, `bytes 0-${n - 1}/${n}`);
      assert.equal(line.xrequestid, line.correlationid);
      const custom = m[2] === 'model_inputs' || m[2] === 'model_outputs';
      assert.equal(line.modelversion, custom ? 'default' : undefined);
      assert.equal(line.collectdatatype, custom ? 'pandas.core.frame.DataFrame' : undefined);
      assert.equal(line.agent, custom ? 'azureml-ai-monitoring/1.0.0' : undefined);
      assert.equal(line.path, m[2] === 'request' ? '/score' : undefined);
      assert.equal(line.method, m[2] === 'request' ? 'POST' : undefined);
    }
    const of = (dep: string, coll: string): Line[] => lines.filter((l) => l.blob.startsWith(`modelDataCollector/${EP}/${dep}/${coll}/`)).map((l) => l.line);

    // Payload logging: one request and one response line per request, the body and the answer as sent.
    const blueRequests = of('blue', 'request');
    assert.equal(blueRequests.length, 60);
    for (const l of blueRequests) {
      const cid = l.headers?.[CLIENT_ID_HEADER] ?? '';
      const s = sent.get(cid);
      assert.ok(s, `a line for client request id ${cid}`);
      assert.deepEqual(l.data, s.body);
      assert.equal(l.correlationid, s.requestId, 'correlation id = the request id the caller was answered with');
    }
    const blueResponses = of('blue', 'response');
    assert.equal(blueResponses.length, 60);
    for (const l of blueResponses) assert.deepEqual(l.data, sent.get(l.headers?.[CLIENT_ID_HEADER] ?? '')?.answer);

    // The mirror target collected exactly the mirrored copies, each with its original's ids.
    const greenRequests = of('green', 'request');
    assert.equal(greenRequests.length, mirrored);
    for (const l of greenRequests) {
      const cid = l.headers?.[CLIENT_ID_HEADER] ?? '';
      const s = sent.get(cid);
      assert.ok(s, `mirrored line ${cid} names a request the caller sent`);
      assert.equal(l.correlationid, s.requestId);
      const live = blueRequests.find((b) => b.headers?.[CLIENT_ID_HEADER] === cid);
      assert.equal(live?.correlationid, l.correlationid, 'live and mirrored lines share the correlation id');
      assert.deepEqual(l.data, live?.data);
    }
    const greenResponses = of('green', 'response');
    assert.equal(greenResponses.length, mirrored);
    assert.ok(greenResponses.every((l) => (l.data as { model: string }).model === 'fraud-detector:2'), 'the mirror side logs its own model\'s answers');

    // Custom logging: the input rows and the model's output rows, every request's rows once.
    const rows = (ls: Line[]): unknown[] => ls.flatMap((l) => l.data as unknown[]);
    assert.equal(rows(of('blue', 'model_inputs')).length, 60);
    assert.deepEqual(
      rows(of('blue', 'model_inputs')).map((r) => (r as { amount: number }).amount).sort((a, b) => a - b),
      [...Array(60).keys()].map((i) => 10 + i),
    );
    const outputs = rows(of('blue', 'model_outputs')) as { fraudProbability: number; isFraud: boolean }[];
    assert.equal(outputs.length, 60);
    assert.ok(outputs.every((o) => typeof o.fraudProbability === 'number' && typeof o.isFraud === 'boolean'));
    assert.equal(rows(of('green', 'model_outputs')).length, mirrored);
  });

  test('nearby custom-logging events share a line (first event\'s id); payload lines stay one per request', { timeout: 60_000 }, async () => {
    const before = emu.dataCollectionStats();
    const tag = `burst-${Date.now()}`;
    const rs = await Promise.all([...Array(24).keys()].map((i) => scoreWith(emu, key, `${tag}-${i}`, { deployment: 'blue', body: { transactions: [variant(TX, 500 + i)] } })));
    assert.ok(rs.every((r) => r.status === 200), rs.map((r) => r.status).join(','));
    await emu.flushDataCollection();
    const lines = (await readLines(container, `modelDataCollector/${EP}/blue/`)).map((l) => l.line);
    const inputs = lines.filter((l) => l.type === 'azureml.inference.model_inputs' && (l.data as { amount: number }[]).some((r) => r.amount >= 510 && r.amount < 534));
    const requestLines = lines.filter((l) => l.type === 'azureml.inference.request' && l.headers?.[CLIENT_ID_HEADER]?.startsWith(tag));
    assert.equal(requestLines.length, 24, 'payload logging: one line per request');
    const rows = inputs.flatMap((l) => l.data as unknown[]);
    assert.equal(rows.length, 24, 'every request\'s rows are collected once');
    assert.ok(inputs.length < 24, `24 concurrent requests batched into fewer lines (${inputs.length})`);
    const batched = inputs.find((l) => (l.data as unknown[]).length > 1);
    assert.ok(batched);
    const ids = new Set(requestLines.map((l) => l.correlationid));
    assert.ok(ids.has(batched.correlationid), 'a batched line carries one of its requests\' correlation id');
    assert.ok(emu.dataCollectionStats().batchedLines > before.batchedLines);
  });

  test('sampling keeps about the sampling rate (seeded), drawn per collection; a custom dataId path and Minute rolling are honoured', { timeout: 60_000 }, async () => {
    const r = await putDeployment(
      emu,
      'sampled',
      collectingDeployment('azureml:fraud-detector:1', {
        collections: {
          request: { dataCollectionMode: 'Enabled', samplingRate: 0.3 },
          model_outputs: { dataCollectionMode: 'Enabled', samplingRate: 0.3, dataId: 'azureml://datastores/workspaceblobstore/paths/custom/sampled-outputs' },
          response: { dataCollectionMode: 'Enabled', samplingRate: 0 },
        },
        rollingRate: 'Minute',
        requestLogging: { captureHeaders: [CLIENT_ID_HEADER] },
      }),
    );
    assert.equal(r.status, 200, r.text);
    const before = emu.dataCollectionStats();
    for (let i = 0; i < 200; i++) assert.equal((await scoreWith(emu, key, `s-${i}`, { deployment: 'sampled', body: { transactions: [variant(TX, 1000 + i)] } })).status, 200);
    await emu.flushDataCollection();
    const requests = await readLines(container, `modelDataCollector/${EP}/sampled/request/`);
    const outputs = await readLines(container, 'custom/sampled-outputs/');
    const responses = await readLines(container, `modelDataCollector/${EP}/sampled/response/`);
    // Binomial(200, 0.3): mean 60, sd 6.5; ±4 sd.
    assert.ok(requests.length >= 34 && requests.length <= 86, `request lines ${requests.length}`);
    const outputRows = outputs.flatMap((l) => l.line.data as unknown[]).length;
    assert.ok(outputRows >= 34 && outputRows <= 86, `output rows ${outputRows}`);
    assert.equal(responses.length, 0, 'samplingRate 0 collects nothing');
    assert.ok(outputs.every((l) => /^custom\/sampled-outputs\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/\d{2}\/[0-9a-f-]{36}\.jsonl$/.test(l.blob)), outputs[0]?.blob);
    assert.ok(requests.every((l) => /\/request\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/\d{2}\//.test(l.blob)), 'Minute rolling: yyyy/MM/dd/HH/mm');
    const stats = emu.dataCollectionStats();
    const delta = (m: Record<string, number>, m0: Record<string, number>, k: string): number => (m[k] ?? 0) - (m0[k] ?? 0);
    assert.equal(delta(stats.events, before.events, 'request'), requests.length, 'every kept request event is a line');
    assert.equal(delta(stats.events, before.events, 'request') + delta(stats.sampledOut, before.sampledOut, 'request'), 200, 'each request drawn once for the request collection');
    assert.equal(delta(stats.sampledOut, before.sampledOut, 'response'), 200);
    assert.equal(new Set(requests.map((l) => l.line.headers?.[CLIENT_ID_HEADER])).size, requests.length, 'no request logged twice');
  });

  test('collection disabled, or no dataCollector, writes nothing', { timeout: 60_000 }, async () => {
    const off = { collections: { model_inputs: { dataCollectionMode: 'Disabled' }, request: { dataCollectionMode: 'Disabled' } } };
    assert.equal((await putDeployment(emu, 'off', collectingDeployment('azureml:fraud-detector:1', off))).status, 200);
    assert.equal((await putDeployment(emu, 'plain', collectingDeployment('azureml:fraud-detector:1', undefined))).status, 200);
    for (let i = 0; i < 20; i++) {
      assert.equal((await scoreWith(emu, key, `off-${i}`, { deployment: i % 2 ? 'off' : 'plain' })).status, 200);
    }
    await emu.flushDataCollection();
    assert.deepEqual(await readLines(container, `modelDataCollector/${EP}/off/`), []);
    assert.deepEqual(await readLines(container, `modelDataCollector/${EP}/plain/`), []);
  });

  test('a bad dataCollector is refused with 400 naming the field', { timeout: 30_000 }, async () => {
    const cases: [unknown, string][] = [
      [{ collections: { model_inputs: { dataCollectionMode: 'On' } } }, 'properties.dataCollector.collections.model_inputs.dataCollectionMode'],
      [{ collections: { request: { dataCollectionMode: 'Enabled', samplingRate: 1.5 } } }, 'properties.dataCollector.collections.request.samplingRate'],
      [{ collections: { request: ALL }, rollingRate: 'Week' }, 'properties.dataCollector.rollingRate'],
      [{ rollingRate: 'Hour' }, 'properties.dataCollector.collections'],
      [{ collections: {} }, 'properties.dataCollector.collections'],
      [{ collections: { request: ALL }, requestLogging: { captureHeaders: 'x-ms-client-request-id' } }, 'properties.dataCollector.requestLogging.captureHeaders'],
      [{ collections: { request: ALL }, samplingRate: 0.5 }, 'properties.dataCollector'],
      ['yes', 'properties.dataCollector'],
    ];
    for (const [dc, field] of cases) {
      const r = await raw(emu, 'PUT', armPath(EP, '/deployments/bad-dc').replace('2022-10-01', '2024-04-01'), collectingDeployment('azureml:fraud-detector:1', dc));
      assert.equal(r.status, 400, `${JSON.stringify(dc)}: ${r.text}`);
      const err = (r.json as { error: { code: string; message: string; target?: string } }).error;
      assert.equal(err.code, 'BadArgument');
      assert.equal(err.target, field, `${JSON.stringify(dc)} → ${err.message}`);
      assert.ok(err.message.includes(field), err.message);
    }
    const g = await raw(emu, 'GET', armPath(EP, '/deployments/bad-dc'));
    assert.equal(g.status, 404, 'nothing was created');
  });

  test('the workspaceblobstore datastore names the account and container, and listSecrets gives a key that reads the blobs', { timeout: 30_000 }, async () => {
    const path = `${WS_PATH}/datastores/workspaceblobstore`;
    const g = await raw(emu, 'GET', `${path}?api-version=2024-04-01`);
    assert.equal(g.status, 200, g.text);
    const p = (g.json as { properties: Record<string, unknown> }).properties;
    assert.equal(p.datastoreType, 'AzureBlob');
    assert.equal(p.isDefault, true);
    assert.equal(p.containerName, emu.workspaceBlobContainer(SUB, RG, WS));
    assert.match(String(p.containerName), /^azureml-blobstore-[0-9a-f-]{36}$/);
    const url = (p.properties as Record<string, string>)['glidepath.blobServiceUrl'] ?? '';
    assert.equal(url, `${String(p.protocol)}://${String(p.endpoint)}/${String(p.accountName)}`);
    const s = await raw(emu, 'POST', `${path}/listSecrets?api-version=2024-04-01`, '{}');
    assert.equal(s.status, 200);
    const secret = s.json as { secretsType: string; key: string };
    assert.equal(secret.secretsType, 'AccountKey');
    const c = new BlobServiceClient(url, new StorageSharedKeyCredential(String(p.accountName), secret.key)).getContainerClient(String(p.containerName));
    let n = 0;
    for await (const b of c.listBlobsFlat({ prefix: 'modelDataCollector/' })) if (b.name.endsWith('.jsonl')) n++;
    assert.ok(n > 0);
    const list = await raw(emu, 'GET', `${WS_PATH}/datastores?api-version=2024-04-01`);
    assert.deepEqual((list.json as { value: { name: string }[] }).value.map((d) => d.name), ['workspaceblobstore']);
    assert.equal((await raw(emu, 'GET', `${WS_PATH}/datastores/other?api-version=2024-04-01`)).status, 404);
  });
});

describe('collected data across an emulator restart (state dir)', () => {
  let key = '';
  test('blobs written before a restart are still there after it, on the same URL, and collection carries on', { timeout: 90_000 }, async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const stateDir = mkdtempSync(join(tmpdir(), 'glidepath-dc-'));
    const readAll = async (e: Emulator): Promise<Line[]> => {
      const b = await e.blobStore();
      const c = new BlobServiceClient(b.url, new StorageSharedKeyCredential(b.accountName, b.accountKey)).getContainerClient(e.workspaceBlobContainer(SUB, RG, WS));
      return (await readLines(c, `modelDataCollector/${EP}/blue/request/`)).map((l) => l.line);
    };
    let emu = await startTestEmulator({ stateDir });
    let url = '';
    try {
      const client = armClient(emu);
      await client.onlineEndpoints.beginCreateOrUpdateAndWait(RG, WS, EP, anEndpoint(), POLL);
      assert.equal((await putDeployment(emu, 'blue', collectingDeployment('azureml:fraud-detector:1', FULL_COLLECTOR))).status, 200);
      await setTraffic(client, EP, { blue: 100 });
      key = (await client.onlineEndpoints.listKeys(RG, WS, EP)).primaryKey ?? '';
      for (let i = 0; i < 5; i++) assert.equal((await scoreWith(emu, key, `before-${i}`)).status, 200);
      url = (await emu.blobStore()).url;
    } finally {
      await emu.close(); // flushes
    }
    emu = await startTestEmulator({ stateDir });
    try {
      for (let i = 0; i < 5; i++) assert.equal((await scoreWith(emu, key, `after-${i}`)).status, 200);
      await emu.flushDataCollection();
      assert.equal((await emu.blobStore()).url, url, 'Azurite came back on its port');
      const ids = (await readAll(emu)).map((l) => l.headers?.[CLIENT_ID_HEADER]).sort();
      assert.deepEqual(ids, [...[0, 1, 2, 3, 4].map((i) => `after-${i}`), ...[0, 1, 2, 3, 4].map((i) => `before-${i}`)]);
    } finally {
      await emu.close();
    }
  });
});

describe('the blob store starts only when needed, and fails loudly', () => {
  test('a deployment that collects data fails to provision, naming the cause, when the blob store cannot be reached', { timeout: 60_000 }, async () => {
    // A port nothing listens on: bind one, note it, close it.
    const { createServer } = await import('node:net');
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const emu = await startTestEmulator({ blobStorage: { endpoint: `http://127.0.0.1:${port}/devstoreaccount1` } });
    try {
      const client = armClient(emu);
      await client.onlineEndpoints.beginCreateOrUpdateAndWait(RG, WS, EP, anEndpoint(), POLL);
      await assert.rejects(putDeployment(emu, 'blue', collectingDeployment('azureml:fraud-detector:1', FULL_COLLECTOR)), /ended Failed.*DataCollectionStorageUnavailable.*could not be reached/);
      assert.equal((await putDeployment(emu, 'plain', collectingDeployment('azureml:fraud-detector:1', undefined))).status, 200, 'deployments without collection are unaffected');
    } finally {
      await emu.close();
    }
  });

  test('an emulator whose deployments collect nothing never starts Azurite', { timeout: 30_000 }, async () => {
    const emu = await startTestEmulator();
    try {
      const client = armClient(emu);
      await client.onlineEndpoints.beginCreateOrUpdateAndWait(RG, WS, EP, anEndpoint(), POLL);
      assert.equal((await putDeployment(emu, 'plain', collectingDeployment('azureml:fraud-detector:1', undefined))).status, 200);
      await setTraffic(client, EP, { plain: 100 });
      const keyOf = (await client.onlineEndpoints.listKeys(RG, WS, EP)).primaryKey ?? '';
      assert.equal((await scoreWith(emu, keyOf, 'x')).status, 200);
      const c = await raw(emu, 'GET', '/_emulator/data-collection');
      assert.equal((c.json as { blobStore: unknown }).blobStore, null);
    } finally {
      await emu.close();
    }
  });
});
