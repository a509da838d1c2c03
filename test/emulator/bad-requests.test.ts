// Hundreds of generated bad requests — malformed JSON, wrong types, unknown names, oversized bodies, bad
// queries — each get a 4xx with the ARM envelope, never a crash, and the emulator still works afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../../emulator/core.js';
import { aDeployment, anEndpoint, anEndpointWith, armClient, armPath, POLL, raw, RG, score, setTraffic, startTestEmulator, WS, WS_PATH } from './support.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface BadCall {
  what: string;
  method: string;
  path: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
}

const WRONG_VALUES: Json[] = [null, true, 0, -1, 2.5, 1e308, '', 'x', '🙂', [], [1, 'a'], {}, { nested: { deep: [null] } }];

function clone<T>(x: T): T {
  return JSON.parse(JSON.stringify(x)) as T;
}

/** Sets `path` in `obj` to `value` (creating objects on the way). */
function setPath(obj: Record<string, Json>, path: string[], value: Json | undefined): void {
  let cur: Record<string, Json> = obj;
  for (const p of path.slice(0, -1)) {
    const next = cur[p];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) cur[p] = {};
    cur = cur[p] as Record<string, Json>;
  }
  const last = path[path.length - 1] as string;
  if (value === undefined) delete cur[last];
  else cur[last] = value;
}

/** Fields whose type is fixed, with a test telling whether a value is acceptable there. */
const ENDPOINT_FIELDS: [string[], (v: Json) => boolean][] = [
  [['location'], (v) => typeof v === 'string' && v.length > 0],
  [['properties'], (v) => typeof v === 'object' && v !== null && !Array.isArray(v)],
  [['properties', 'authMode'], (v) => v === 'Key' || v === 'AMLToken' || v === 'AADToken'],
  [['properties', 'traffic'], (v) => v === null || (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0)],
  [['properties', 'traffic', 'blue'], () => false], // no deployment named blue exists on the fuzzed endpoint
  [['properties', 'mirrorTraffic'], (v) => v === null || (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0)],
  [['tags'], (v) => v === null || (typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string'))],
  [['properties', 'publicNetworkAccess'], (v) => v === null || v === 'Enabled' || v === 'Disabled'],
];

const DEPLOYMENT_FIELDS: [string[], (v: Json) => boolean][] = [
  [['location'], (v) => typeof v === 'string' && v.length > 0],
  [['properties', 'endpointComputeType'], (v) => v === 'Managed'],
  // A deployment without a model is valid (custom containers, packaged models): only a bad reference is refused.
  [['properties', 'model'], (v) => v === null || (typeof v === 'string' && /^azureml:[^:/]+:[^:/]+$/.test(v))],
  [['sku', 'capacity'], (v) => v === null || (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 50)],
  [['properties', 'requestSettings', 'requestTimeout'], (v) => v === null],
  [['properties', 'requestSettings', 'maxConcurrentRequestsPerInstance'], (v) => v === null || (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 1000)],
  [['properties', 'instanceType'], (v) => v === null],
  [['properties', 'scaleSettings'], (v) => v === null],
  [['properties', 'appInsightsEnabled'], (v) => v === null || typeof v === 'boolean'],
];

function generate(seed: number): BadCall[] {
  const rand = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const calls: BadCall[] = [];
  const validEndpoint = JSON.stringify({ location: 'eastus', properties: { authMode: 'Key', traffic: {} } });

  // Malformed JSON: truncations, garbage, JavaScript-not-JSON.
  for (let i = 0; i < 40; i++) {
    let text = validEndpoint.slice(0, 1 + Math.floor(rand() * (validEndpoint.length - 2)));
    if (i % 4 === 0) text = Array.from({ length: 1 + Math.floor(rand() * 40) }, () => String.fromCharCode(33 + Math.floor(rand() * 90))).join('');
    if (i % 7 === 0) text = "{location: 'eastus', properties: {authMode: 'Key'},}";
    try {
      JSON.parse(text);
      continue; // accidentally valid JSON: not a malformed case
    } catch {
      /* malformed, as wanted */
    }
    const target = pick([armPath('fuzz-ep'), armPath('fuzz-ep', '/deployments/blue'), armPath('fuzz-ep', '/regenerateKeys')]);
    calls.push({ what: `malformed JSON ${JSON.stringify(text.slice(0, 30))}`, method: target.includes('regenerate') ? 'POST' : 'PUT', path: target, body: text });
  }

  // Non-object bodies.
  for (const v of ['5', '"str"', '[]', 'null', 'true', '[{"location":"eastus"}]']) {
    calls.push({ what: `non-object body ${v}`, method: 'PUT', path: armPath('fuzz-ep'), body: v });
    calls.push({ what: `non-object deployment body ${v}`, method: 'PUT', path: armPath('fuzz-ep', '/deployments/blue'), body: v });
  }

  // Wrong types and values at typed paths (each generated case checked to really be invalid).
  for (let i = 0; i < 120; i++) {
    const isDeployment = rand() < 0.5;
    const fields = isDeployment ? DEPLOYMENT_FIELDS : ENDPOINT_FIELDS;
    const [path, ok] = pick(fields);
    const value = rand() < 0.15 ? undefined : pick(WRONG_VALUES);
    if (value !== undefined && ok(value)) continue;
    if (value === undefined && !['location', 'properties', 'authMode', 'endpointComputeType'].includes(path[path.length - 1] ?? '')) continue;
    const body = clone(isDeployment ? (aDeployment() as unknown as Record<string, Json>) : (anEndpoint() as unknown as Record<string, Json>));
    setPath(body, path, value);
    calls.push({
      what: `${isDeployment ? 'deployment' : 'endpoint'} ${path.join('.')} = ${JSON.stringify(value) ?? '(missing)'}`,
      method: 'PUT',
      path: isDeployment ? armPath('fuzz-ep', '/deployments/blue') : armPath('fuzz-ep'),
      body: JSON.stringify(body),
    });
  }

  // PATCH bodies with fields PATCH does not take, and bad regenerateKeys / getLogs bodies.
  for (const body of [{ properties: { traffic: { blue: 100 } } }, { location: 'westus' }, { tags: 5 }, { tags: { a: 1 } }, { identity: 'x' }]) {
    calls.push({ what: `endpoint PATCH ${JSON.stringify(body)}`, method: 'PATCH', path: armPath('fuzz-ep'), body: JSON.stringify(body) });
  }
  for (const body of [{ keyType: 'Tertiary' }, {}, { keyType: 5 }, { keyType: 'Primary', keyValue: 7 }]) {
    calls.push({ what: `regenerateKeys ${JSON.stringify(body)}`, method: 'POST', path: armPath('fuzz-ep', '/regenerateKeys'), body: JSON.stringify(body) });
  }
  for (const body of [{ containerType: 'Sidecar' }, { tail: -1 }, { tail: 'ten' }]) {
    calls.push({ what: `getLogs ${JSON.stringify(body)}`, method: 'POST', path: armPath('fuzz-ep', '/deployments/live/getLogs'), body: JSON.stringify(body) });
  }
  for (const body of [{ sku: { capacity: 0 } }, { sku: { capacity: 'many' } }, { properties: {} }]) {
    calls.push({ what: `deployment PATCH ${JSON.stringify(body)}`, method: 'PATCH', path: armPath('fuzz-ep', '/deployments/live'), body: JSON.stringify(body) });
  }

  // Unknown names and paths.
  const names = ['ghost', 'zz-unknown', 'a'.repeat(300), 'ünïcødé', 'dots.and.more', '%00', 'x%2Fy'];
  for (const n of names) {
    calls.push({ what: `GET unknown endpoint ${n.slice(0, 20)}`, method: 'GET', path: armPath(n) });
    calls.push({ what: `listKeys unknown endpoint ${n.slice(0, 20)}`, method: 'POST', path: armPath(n, '/listKeys') });
    calls.push({ what: `GET unknown deployment ${n.slice(0, 20)}`, method: 'GET', path: armPath('fuzz-ep', `/deployments/${n}`) });
    calls.push({ what: `PATCH unknown deployment ${n.slice(0, 20)}`, method: 'PATCH', path: armPath('fuzz-ep', `/deployments/${n}`), body: '{}' });
  }
  for (const p of ['/subscriptions', '/subscriptions/s/resourceGroups/rg/providers/Other.Provider/things/x?api-version=1', `${WS_PATH}/computes?api-version=1`, '/nothing/here', '/%E0%A4%A', `${WS_PATH}/onlineEndpoints/fuzz-ep/frobnicate?api-version=1`]) {
    calls.push({ what: `unknown path ${p.slice(0, 40)}`, method: 'GET', path: p });
  }
  calls.push({ what: 'DELETE on a list', method: 'DELETE', path: armPath() });
  calls.push({ what: 'PUT without api-version', method: 'PUT', path: armPath('fuzz-ep').replace(/\?.*/, ''), body: validEndpoint });
  calls.push({ what: 'PUT without a bearer token', method: 'PUT', path: armPath('fuzz-ep'), body: validEndpoint, headers: { authorization: '' } });
  calls.push({ what: 'unknown operation id', method: 'GET', path: `/subscriptions/s/providers/Microsoft.MachineLearningServices/locations/eastus/mfeOperationsStatus/oe:nope?api-version=1` });

  // Oversized bodies (over 4 MiB).
  const huge = JSON.stringify({ location: 'eastus', properties: { authMode: 'Key', description: 'x'.repeat(4 * 1024 * 1024 + 10) } });
  calls.push({ what: 'oversized endpoint PUT', method: 'PUT', path: armPath('fuzz-ep'), body: huge });
  calls.push({ what: 'oversized scoring body', method: 'POST', path: '/endpoints/live-ep/score', body: huge, headers: { authorization: 'Bearer KEY' } });

  // Bad metrics queries and price filters.
  const metricsPath = `${WS_PATH}/onlineEndpoints/live-ep/providers/Microsoft.Insights/metrics?api-version=2024-02-01`;
  for (const q of ['&metricnames=Nope', '&interval=PT7M', '&timespan=yesterday', '&timespan=2024-01-02T00:00:00Z/2024-01-01T00:00:00Z', '&aggregation=median', "&$filter=deployment eq blue", "&$filter=deployment eq 'a' or statusCode eq 'b'", "&$filter=nodim eq '*'", '&top=-3', '&metricnamespace=Other/thing']) {
    calls.push({ what: `metrics ${q}`, method: 'GET', path: `${metricsPath}${q.replace(/ /g, '%20')}` });
  }
  calls.push({ what: 'metrics of an unknown endpoint', method: 'GET', path: `${WS_PATH}/onlineEndpoints/ghost/providers/Microsoft.Insights/metrics?api-version=2024-02-01` });
  for (const f of ["serviceName eq", "armSkuName eq 'x' and", "(armSkuName eq 'x'", "bogus eq 'x'", "armSkuName gte 'x'", "contains(armSkuName)"]) {
    calls.push({ what: `prices filter ${f}`, method: 'GET', path: `/api/retail/prices?$filter=${encodeURIComponent(f)}` });
  }

  // Scoring: malformed JSON and wrong shapes reach the model, which refuses them (424 with the model's 400).
  for (let i = 0; i < 30; i++) {
    const body = pick(['{"transactions": [', 'not json', '{"transactions": "all"}', '{"transactions": []}', '{"transactions": [{"amount": "ten"}]}', '[]', '{"transactions": [{"amount": -5, "hour": 25}]}']);
    calls.push({ what: `scoring body ${body}`, method: 'POST', path: '/endpoints/live-ep/score', body, headers: { authorization: 'Bearer KEY' } });
  }
  calls.push({ what: 'scoring with GET', method: 'GET', path: '/endpoints/live-ep/score', headers: { authorization: 'Bearer KEY' } });
  calls.push({ what: 'control route that does not exist', method: 'POST', path: '/_emulator/faults/explode', body: '{}' });
  return calls;
}

test('a few hundred generated bad requests each get a 4xx with the ARM envelope, and the emulator still answers correctly', async () => {
  const emu = await startTestEmulator({ provisionTimeMs: 20 });
  try {
    const client = armClient(emu);
    await client.onlineEndpoints.beginCreateOrUpdateAndWait(RG, WS, 'fuzz-ep', anEndpoint(), POLL);
    await client.onlineDeployments.beginCreateOrUpdateAndWait(RG, WS, 'fuzz-ep', 'live', aDeployment(), POLL);
    const key = await anEndpointWith(client, 'live-ep', { blue: 'azureml:fraud-detector:1' });
    await setTraffic(client, 'live-ep', { blue: 100 });

    const calls = [...generate(1), ...generate(2)];
    assert.ok(calls.length >= 300, `generated ${calls.length} bad requests`);
    const failures: string[] = [];
    const codes = new Map<number, number>();
    for (let i = 0; i < calls.length; i += 8) {
      await Promise.all(
        calls.slice(i, i + 8).map(async (c) => {
          const headers = Object.fromEntries(Object.entries(c.headers ?? {}).map(([k, v]) => [k, v.replace('KEY', key)]));
          const r = await raw(emu, c.method, c.path, c.body, headers);
          codes.set(r.status, (codes.get(r.status) ?? 0) + 1);
          const err = (r.json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
          if (r.status < 400 || r.status >= 500) failures.push(`${c.what}: status ${r.status}`);
          else if (typeof err?.code !== 'string' || typeof err.message !== 'string') failures.push(`${c.what}: no ARM envelope in ${r.text.slice(0, 80)}`);
        }),
      );
    }
    assert.deepEqual(failures, [], failures.slice(0, 10).join('\n'));
    assert.ok((codes.get(413) ?? 0) >= 2 && (codes.get(400) ?? 0) > 100 && (codes.get(404) ?? 0) > 20, JSON.stringify([...codes]));

    // Still correct afterwards: nothing half-created, the SDK works, scoring works.
    const ep = await client.onlineEndpoints.get(RG, WS, 'fuzz-ep');
    assert.equal(ep.properties.provisioningState, 'Succeeded');
    assert.deepEqual(ep.properties.traffic, {});
    const deps = [];
    for await (const d of client.onlineDeployments.list(RG, WS, 'fuzz-ep')) deps.push(d.name);
    assert.deepEqual(deps, ['live']);
    await setTraffic(client, 'fuzz-ep', { live: 100 });
    assert.equal((await score(emu, 'live-ep', key)).status, 200);
    assert.ok(emu.callLog().every((c) => c.status < 500), 'no 5xx anywhere');
  } finally {
    await emu.close();
  }
});
