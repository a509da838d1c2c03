/**
 * Issue 13, hardened inputs: the emulator accepted `__proto__` as a traffic key (a zod record drops the
 * key silently, so `{"blue":100,"__proto__":0}` passed as `{blue:100}`); Azure refuses a traffic map that
 * names anything but a deployment of the endpoint. Against a running emulator (raw HTTPS, as a client
 * that does not go through the SDK would send it), every such key is refused like an unknown deployment,
 * with Azure's error envelope, and the endpoint's traffic is unchanged. The traffic rules in domain/
 * read own keys only, so a deployment may be called `constructor` or `toString`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { deletionViolation, formatTraffic, normalizeTraffic, trafficViolations } from '../../domain/traffic.js';
import { candidateLivePercent } from '../../domain/transitions.js';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { raw } from '../emulator/support.js';

const SUB = '00000000-0000-4000-8000-000000000013';
const WS_PATH = `/subscriptions/${SUB}/resourceGroups/rg-sec/providers/Microsoft.MachineLearningServices/workspaces/ws-sec`;
const ep = (rest = '') => `${WS_PATH}/onlineEndpoints/proto-ep${rest}?api-version=2022-10-01`;

let emu: Emulator;

/** A raw HTTPS call to the emulator (test/emulator/support.ts `raw`), its JSON body as a record. */
async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const r = await raw(emu, method, path, text);
  return { status: r.status, json: (r.json ?? {}) as Record<string, unknown> };
}

async function succeeded(path: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 200; i++) {
    const r = await call('GET', path);
    const props = r.json.properties as { provisioningState?: string } | undefined;
    if (props?.provisioningState === 'Succeeded') return r.json;
    if (props?.provisioningState === 'Failed') throw new Error(`provisioning failed: ${JSON.stringify(r.json)}`);
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`${path} never succeeded`);
}

const endpointBody = (traffic: string) => `{"location":"eastus","properties":{"authMode":"Key","traffic":${traffic}}}`;

before(async () => {
  emu = await startEmulator({ provisionTimeMs: 50 });
  assert.equal((await call('PUT', ep(), endpointBody('{}'))).status < 300, true);
  await succeeded(ep());
  for (const name of ['blue', 'constructor']) {
    const r = await call('PUT', ep(`/deployments/${name}`), {
      location: 'eastus',
      sku: { name: 'Default', capacity: 1 },
      properties: { endpointComputeType: 'Managed', model: 'azureml:fraud-detector:1', instanceType: 'Standard_DS3_v2' },
    });
    assert.ok(r.status < 300, JSON.stringify(r.json));
    await succeeded(ep(`/deployments/${name}`));
  }
  assert.ok((await call('PUT', ep(), endpointBody('{"blue":100}'))).status < 300);
  await succeeded(ep());
});
after(async () => emu?.close());

describe('the emulator refuses traffic keys that are not deployments, prototype keys included', () => {
  const bodies: [string, string][] = [
    ['__proto__ in traffic', endpointBody('{"blue":100,"__proto__":0}')],
    ['__proto__ with an object value', endpointBody('{"blue":100,"__proto__":{"polluted":1}}')],
    ['prototype in traffic', endpointBody('{"blue":100,"prototype":0}')],
    ['toString in traffic', endpointBody('{"blue":100,"toString":0}')],
    ['hasOwnProperty in traffic', endpointBody('{"blue":100,"hasOwnProperty":0}')],
    ['__proto__ in mirrorTraffic', '{"location":"eastus","properties":{"authMode":"Key","traffic":{"blue":100},"mirrorTraffic":{"__proto__":10}}}'],
    ['an unknown deployment (the rule these follow)', endpointBody('{"blue":100,"ghost":0}')],
  ];
  for (const [what, body] of bodies) {
    test(`${what}: 400 with Azure's error envelope, traffic unchanged`, async () => {
      const r = await call('PUT', ep(), body);
      const error = r.json.error as { code: string; message: string; details?: { code: string; message: string }[] } | undefined;
      if (what.includes('object value')) {
        // A non-number is refused by type first, as Azure does.
        assert.equal(r.status, 400, JSON.stringify(r.json));
        assert.equal(error?.code, 'BadArgument');
      } else {
        assert.equal(r.status, 400, JSON.stringify(r.json));
        assert.equal(error?.code, 'BadArgument');
        assert.match(error!.message, /^Traffic can only be set for deployments that exist under the endpoint\. \(.*names deployment '(__proto__|prototype|toString|hasOwnProperty|ghost)', which does not exist on this endpoint\)/);
        assert.ok(error!.details?.some((d) => d.code === 'UnknownDeployment'), JSON.stringify(error));
      }
      const now = await succeeded(ep());
      assert.deepEqual((now.properties as { traffic: unknown }).traffic, { blue: 100 });
      assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched');
    });
  }

  test('a deployment named constructor is a deployment like any other: it takes traffic, gives it back and is deleted', async () => {
    let r = await call('PUT', ep(), endpointBody('{"blue":90,"constructor":10}'));
    assert.ok(r.status < 300, JSON.stringify(r.json));
    assert.deepEqual(((await succeeded(ep())).properties as { traffic: unknown }).traffic, { blue: 90, constructor: 10 });
    r = await call('PUT', ep(), endpointBody('{"blue":100,"constructor":0}'));
    assert.ok(r.status < 300, JSON.stringify(r.json));
    await succeeded(ep());
    r = await call('DELETE', ep('/deployments/constructor'));
    assert.ok(r.status < 300, `deleting a deployment named constructor with no traffic: ${r.status} ${JSON.stringify(r.json)}`);
  });
});

describe('the traffic rules read own keys only', () => {
  test('names on Object.prototype have no share', () => {
    const state = { live: { blue: 100 }, mirror: {} };
    for (const name of ['constructor', 'toString', '__proto__', 'valueOf']) {
      assert.equal(deletionViolation(name, state), undefined, name);
      assert.equal(candidateLivePercent(state, { baseline: 'blue', candidate: name }), 0, name);
    }
    assert.deepEqual(trafficViolations({ live: { blue: 100 }, mirror: { constructor: 10 } }, ['blue', 'constructor']), []);
  });

  test('a __proto__ key in a parsed map stays data through normalisation and is refused as unknown', () => {
    const live = JSON.parse('{"blue":90,"__proto__":10}') as Record<string, number>;
    const normal = normalizeTraffic({ live, mirror: {} });
    assert.deepEqual(Object.keys(normal.live), ['__proto__', 'blue']);
    assert.equal(Object.getPrototypeOf(normal.live), Object.prototype);
    assert.match(formatTraffic(normal), /__proto__ 10%/);
    assert.deepEqual(trafficViolations({ live, mirror: {} }, ['blue']).map((v) => v.code), ['UnknownDeployment']);
  });
});
