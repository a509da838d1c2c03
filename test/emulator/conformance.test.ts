// Conformance of the emulator's management plane with the unmodified @azure/arm-machinelearning 2.1.1
// client: long-running operations, traffic and mirror, every validation rule of reference §3, keys, delete.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRestError, type RestError } from '@azure/core-rest-pipeline';
import type { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import type { Emulator } from '../../emulator/index.js';
import { aDeployment, anEndpoint, anEndpointWith, armClient, armPath, POLL, raw, RG, score, setTraffic, startTestEmulator, WS } from './support.js';

/** Runs `fn` and returns the RestError it throws (fails the test if it does not throw one). */
async function restError(fn: () => Promise<unknown>): Promise<RestError> {
  try {
    await fn();
  } catch (e) {
    assert.ok(isRestError(e), `expected a RestError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected the call to be refused');
}

describe('management plane with the unmodified ARM SDK', () => {
  let emu: Emulator;
  let client: AzureMachineLearningWorkspaces;
  let key = '';

  before(async () => {
    emu = await startTestEmulator({ provisionTimeMs: 300 });
    client = armClient(emu);
  });
  after(async () => {
    await emu.close();
  });

  test('an endpoint and two deployments are created through their long-running operations', async () => {
    const poller = await client.onlineEndpoints.beginCreateOrUpdate(RG, WS, 'fraud-ep', anEndpoint(), POLL);
    const during = await client.onlineEndpoints.get(RG, WS, 'fraud-ep');
    assert.equal(during.properties.provisioningState, 'Creating');
    const created = await poller.pollUntilDone();
    assert.equal(created.properties.provisioningState, 'Succeeded');
    assert.equal(created.properties.scoringUri, `${emu.url}/endpoints/fraud-ep/score`);
    assert.equal(created.properties.keys, null, 'keys are write-only');

    const put = emu.callLog().find((c) => c.method === 'PUT' && c.path.endsWith('/onlineEndpoints/fraud-ep'));
    assert.equal(put?.status, 201);
    assert.ok(emu.callLog().some((c) => c.kind === 'operation' && c.path.includes('/mfeOperationsStatus/oe:')), 'the SDK polled Azure-AsyncOperation');

    for (const [name, model] of [['blue', 'azureml:fraud-detector:1'], ['green', 'azureml:fraud-detector:2']] as const) {
      const p = await client.onlineDeployments.beginCreateOrUpdate(RG, WS, 'fraud-ep', name, aDeployment(model), POLL);
      const mid = await client.onlineDeployments.get(RG, WS, 'fraud-ep', name);
      assert.equal(mid.properties.provisioningState, 'Creating');
      const dep = await p.pollUntilDone();
      assert.equal(dep.properties.provisioningState, 'Succeeded');
      assert.equal(dep.sku?.capacity, 1);
      assert.equal(dep.properties.model, model);
    }
    const deps = [];
    for await (const d of client.onlineDeployments.list(RG, WS, 'fraud-ep')) deps.push(d.name);
    assert.deepEqual(deps, ['blue', 'green']);
    key = (await client.onlineEndpoints.listKeys(RG, WS, 'fraud-ep')).primaryKey ?? '';
    assert.ok(key.length > 20);
  });

  test('a new deployment gets no traffic, so scoring answers 404 until traffic is set', async () => {
    const r = await score(emu, 'fraud-ep', key);
    assert.equal(r.status, 404);
  });

  test('traffic 100/0 sends every request to blue and a PUT update answers 200 with Azure-AsyncOperation', async () => {
    const ep = await setTraffic(client, 'fraud-ep', { blue: 100, green: 0 });
    assert.deepEqual(ep.properties.traffic, { blue: 100, green: 0 });
    const put = emu.callLog().filter((c) => c.method === 'PUT' && c.path.endsWith('/onlineEndpoints/fraud-ep')).pop();
    assert.equal(put?.status, 200);
    for (let i = 0; i < 10; i++) {
      const r = await score(emu, 'fraud-ep', key);
      assert.equal(r.status, 200);
      assert.equal(r.headers['azureml-model-deployment'], 'blue');
    }
  });

  test('mirror 20% is accepted in the PUT body (through a pipeline policy) and read back', async () => {
    const ep = await setTraffic(client, 'fraud-ep', { blue: 100 }, { green: 20 });
    assert.deepEqual((ep.properties as unknown as { mirrorTraffic: unknown }).mirrorTraffic, { green: 20 });
    const got = await client.onlineEndpoints.get(RG, WS, 'fraud-ep');
    assert.deepEqual((got.properties as unknown as { mirrorTraffic: unknown }).mirrorTraffic, { green: 20 });
  });

  test('a PUT without mirrorTraffic (what 2.1.1 sends) turns mirroring off, as the reference warns', async () => {
    await client.onlineEndpoints.beginCreateOrUpdateAndWait(RG, WS, 'fraud-ep', anEndpoint({ blue: 100 }), POLL);
    const got = await client.onlineEndpoints.get(RG, WS, 'fraud-ep');
    assert.deepEqual((got.properties as unknown as { mirrorTraffic: unknown }).mirrorTraffic, {});
  });

  test('split 90/10 is stored and both deployments answer', async () => {
    const ep = await setTraffic(client, 'fraud-ep', { blue: 90, green: 10 });
    assert.deepEqual(ep.properties.traffic, { blue: 90, green: 10 });
    const seen = new Set<string>();
    for (let i = 0; i < 80; i++) seen.add(String((await score(emu, 'fraud-ep', key)).headers['azureml-model-deployment']));
    assert.deepEqual([...seen].sort(), ['blue', 'green']);
  });

  describe('every rule of reference §3 is refused with the ARM envelope', () => {
    const trafficCases: [string, Record<string, number>, Record<string, number>, RegExp][] = [
      ['live traffic that sums to neither 0 nor 100', { blue: 60, green: 30 }, {}, /0 or 100/],
      ['traffic naming a deployment that does not exist', { blue: 100, ghost: 0 }, {}, /exist/],
      ['a traffic value that is not an integer', { blue: 99.5, green: 0.5 }, {}, /integer/],
      ['a traffic value over 100', { blue: 110, green: -10 }, {}, /between 0 and 100/],
      ['mirror traffic over 50%', { blue: 100 }, { green: 60 }, /at most 50/],
      ['mirror traffic on more than one deployment', { blue: 100 }, { green: 10, blue2: 10 }, /one deployment|exist/],
      ['a deployment with both live and mirror traffic', { blue: 90, green: 10 }, { green: 10 }, /both live/],
    ];
    for (const [what, live, mirror, message] of trafficCases) {
      test(`refuses ${what} with 400 BadArgument`, async () => {
        const e = await restError(() => setTraffic(client, 'fraud-ep', live, mirror));
        assert.equal(e.statusCode, 400);
        assert.equal(e.code, 'BadArgument');
        assert.match(e.message, message);
      });
    }

    test('refuses mirror traffic on two existing deployments with MultipleMirrorTargets in details', async () => {
      await client.onlineDeployments.beginCreateOrUpdateAndWait(RG, WS, 'fraud-ep', 'amber', aDeployment('azureml:fraud-detector:2'), POLL);
      const e = await restError(() => setTraffic(client, 'fraud-ep', { blue: 100 }, { green: 10, amber: 10 }));
      assert.equal(e.statusCode, 400);
      assert.match(e.message, /only one deployment/);
      const r = await raw(emu, 'PUT', armPath('fraud-ep'), JSON.stringify({ location: 'eastus', properties: { authMode: 'Key', traffic: { blue: 100 }, mirrorTraffic: { green: 10, amber: 10 } } }));
      const details = (r.json as { error: { details: { code: string }[] } }).error.details.map((d) => d.code);
      assert.ok(details.includes('MultipleMirrorTargets'));
      await client.onlineDeployments.beginDeleteAndWait(RG, WS, 'fraud-ep', 'amber', POLL);
    });

    test('refuses deleting a deployment that still has live traffic', async () => {
      const e = await restError(() => client.onlineDeployments.beginDeleteAndWait(RG, WS, 'fraud-ep', 'green', POLL));
      assert.equal(e.statusCode, 400);
      assert.equal(e.code, 'BadArgument');
      assert.match(e.message, /traffic/);
      assert.equal((await client.onlineDeployments.get(RG, WS, 'fraud-ep', 'green')).properties.provisioningState, 'Succeeded');
    });

    const badNames: [string, string][] = [
      ['too short', 'ab'],
      ['starting with a digit', '1fraud'],
      ['with an underscore', 'fraud_ep'],
      ['with a double dash', 'fraud--ep'],
      ['ending with a dash', 'fraud-'],
      ['longer than 32 characters', 'a'.repeat(33)],
      ['with a space', 'Bad Name!'],
    ];
    for (const [what, name] of badNames) {
      test(`refuses an endpoint name ${what}`, async () => {
        const e = await restError(() => client.onlineEndpoints.beginCreateOrUpdateAndWait(RG, WS, name, anEndpoint(), POLL));
        assert.equal(e.statusCode, 400);
        assert.equal(e.code, 'BadArgument');
      });
    }
    test('refuses a deployment name that breaks the same rules', async () => {
      for (const name of ['x1', '9lives', 'blue_v2']) {
        const e = await restError(() => client.onlineDeployments.beginCreateOrUpdateAndWait(RG, WS, 'fraud-ep', name, aDeployment(), POLL));
        assert.equal(e.statusCode, 400);
        assert.equal(e.code, 'BadArgument');
      }
    });
    test('refuses an endpoint name already used in another workspace (names are unique per region)', async () => {
      const e = await restError(() => client.onlineEndpoints.beginCreateOrUpdateAndWait(RG, 'other-ws', 'fraud-ep', anEndpoint(), POLL));
      assert.equal(e.statusCode, 400);
      assert.match(e.message, /already in use/);
    });
    test('refuses a deployment under an endpoint that does not exist', async () => {
      const e = await restError(() => client.onlineDeployments.beginCreateOrUpdateAndWait(RG, WS, 'no-such-ep', 'blue', aDeployment(), POLL));
      assert.equal(e.statusCode, 404);
    });
    test('refuses more than 50 instances, an unknown instance type and a request timeout over 180 s', async () => {
      const big = await restError(() => client.onlineDeployments.beginCreateOrUpdateAndWait(RG, WS, 'fraud-ep', 'big', aDeployment(undefined, { capacity: 51 }), POLL));
      assert.equal(big.statusCode, 400);
      assert.match(big.message, /sku.capacity/);
      const odd = aDeployment();
      odd.properties.instanceType = 'Standard_Imaginary_v9';
      const e2 = await restError(() => client.onlineDeployments.beginCreateOrUpdateAndWait(RG, WS, 'fraud-ep', 'odd', odd, POLL));
      assert.match(e2.message, /instance type/);
      const slow = await restError(() => client.onlineDeployments.beginCreateOrUpdateAndWait(RG, WS, 'fraud-ep', 'slow', aDeployment(undefined, { requestTimeout: 'PT181S' }), POLL));
      assert.match(slow.message, /180/);
    });
    test('refuses a second write while an operation on the endpoint runs, with 409 Conflict', async () => {
      const first = await client.onlineEndpoints.beginUpdate(RG, WS, 'fraud-ep', { tags: { phase: 'one' } }, POLL);
      const e = await restError(() => client.onlineEndpoints.beginCreateOrUpdateAndWait(RG, WS, 'fraud-ep', anEndpoint({ blue: 100 }), POLL));
      assert.equal(e.statusCode, 409);
      assert.equal(e.code, 'Conflict');
      const e2 = await restError(() => client.onlineDeployments.beginUpdateAndWait(RG, WS, 'fraud-ep', 'blue', { sku: { capacity: 2 } }, POLL));
      assert.equal(e2.statusCode, 409);
      await first.pollUntilDone();
    });
    test('answers errors as the ARM envelope {error:{code,message}} for raw clients too', async () => {
      const r = await raw(emu, 'PUT', armPath('fraud-ep'), JSON.stringify({ location: 'eastus', properties: { authMode: 'Key', traffic: { blue: 50 } } }));
      assert.equal(r.status, 400);
      const body = r.json as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'BadArgument');
      assert.equal(typeof body.error.message, 'string');
    });
  });

  test('PATCH of endpoint tags answers 202 with Location and Retry-After and the SDK waits for it', async () => {
    const updated = await client.onlineEndpoints.beginUpdateAndWait(RG, WS, 'fraud-ep', { tags: { owner: 'risk' } }, POLL);
    assert.deepEqual(updated.tags, { owner: 'risk' });
    const patch = emu.callLog().filter((c) => c.method === 'PATCH').pop();
    assert.equal(patch?.status, 202);
    const r = await raw(emu, 'PATCH', armPath('fraud-ep'), JSON.stringify({ tags: { owner: 'risk2' } }));
    assert.equal(r.status, 202);
    assert.match(String(r.headers.location), /mfeOperationResults/);
    assert.match(String(r.headers['retry-after']), /^\d+$/);
    const running = await raw(emu, 'GET', String(r.headers.location));
    assert.equal(running.status, 202);
    await new Promise((res) => setTimeout(res, 400));
    const done = await raw(emu, 'GET', String(r.headers.location));
    assert.equal(done.status, 200);
    assert.deepEqual((done.json as { tags: unknown }).tags, { owner: 'risk2' });
  });

  test('a PUT of an existing deployment with a new model version swaps its container when the operation succeeds', async () => {
    await setTraffic(client, 'fraud-ep', { blue: 100 });
    const poller = await client.onlineDeployments.beginCreateOrUpdate(RG, WS, 'fraud-ep', 'blue', aDeployment('azureml:fraud-detector:2'), POLL);
    assert.equal((await client.onlineDeployments.get(RG, WS, 'fraud-ep', 'blue')).properties.provisioningState, 'Updating');
    assert.match((await score(emu, 'fraud-ep', key)).text, /fraud-detector:1/, 'the old version serves while the update runs');
    await poller.pollUntilDone();
    assert.match((await score(emu, 'fraud-ep', key)).text, /fraud-detector:2/);
    await client.onlineDeployments.beginCreateOrUpdateAndWait(RG, WS, 'fraud-ep', 'blue', aDeployment('azureml:fraud-detector:1'), POLL);
    await setTraffic(client, 'fraud-ep', { blue: 90, green: 10 });
  });

  test('PATCH of a deployment capacity scales it (Scaling, then Succeeded)', async () => {
    const poller = await client.onlineDeployments.beginUpdate(RG, WS, 'fraud-ep', 'blue', { sku: { capacity: 3 } }, POLL);
    assert.equal((await client.onlineDeployments.get(RG, WS, 'fraud-ep', 'blue')).properties.provisioningState, 'Scaling');
    const dep = await poller.pollUntilDone();
    assert.equal(dep.sku?.capacity, 3);
    assert.equal(dep.properties.provisioningState, 'Succeeded');
  });

  test('keys: listKeys, regenerateKeys (an LRO through Location) and the old key stops working', async () => {
    const before = await client.onlineEndpoints.listKeys(RG, WS, 'fraud-ep');
    await client.onlineEndpoints.beginRegenerateKeysAndWait(RG, WS, 'fraud-ep', { keyType: 'Primary' }, POLL);
    const afterKeys = await client.onlineEndpoints.listKeys(RG, WS, 'fraud-ep');
    assert.notEqual(afterKeys.primaryKey, before.primaryKey);
    assert.equal(afterKeys.secondaryKey, before.secondaryKey);
    assert.equal((await score(emu, 'fraud-ep', before.primaryKey ?? '')).status, 401);
    assert.equal((await score(emu, 'fraud-ep', afterKeys.primaryKey ?? '')).status, 200);
    assert.equal((await score(emu, 'fraud-ep', afterKeys.secondaryKey ?? '')).status, 200);
    assert.equal((await score(emu, 'fraud-ep', 'not-a-key')).status, 401);
    key = afterKeys.primaryKey ?? '';
    const e = await restError(() => client.onlineEndpoints.getToken(RG, WS, 'fraud-ep'));
    assert.equal(e.statusCode, 400);
  });

  test('an AMLToken endpoint issues tokens that score, and refuses listKeys', async () => {
    await client.onlineEndpoints.beginCreateOrUpdateAndWait(RG, WS, 'token-ep', { location: 'eastus', properties: { authMode: 'AMLToken' } }, POLL);
    await client.onlineDeployments.beginCreateOrUpdateAndWait(RG, WS, 'token-ep', 'blue', aDeployment(), POLL);
    await client.onlineEndpoints.beginCreateOrUpdateAndWait(RG, WS, 'token-ep', { location: 'eastus', properties: { authMode: 'AMLToken', traffic: { blue: 100 } } }, POLL);
    const token = await client.onlineEndpoints.getToken(RG, WS, 'token-ep');
    assert.equal(token.tokenType, 'Bearer');
    assert.ok((token.expiryTimeUtc ?? 0) > Date.now() / 1000);
    assert.equal((await score(emu, 'token-ep', token.accessToken ?? '')).status, 200);
    const e = await restError(() => client.onlineEndpoints.listKeys(RG, WS, 'token-ep'));
    assert.equal(e.statusCode, 400);
    await client.onlineEndpoints.beginDeleteAndWait(RG, WS, 'token-ep', POLL);
  });

  test('getLogs returns the container log and listSkus the scale range', async () => {
    const logs = await client.onlineDeployments.getLogs(RG, WS, 'fraud-ep', 'green', { containerType: 'StorageInitializer', tail: 10 });
    assert.match(logs.content ?? '', /fraud-detector/);
    const skus = [];
    for await (const s of client.onlineDeployments.listSkus(RG, WS, 'fraud-ep', 'green')) skus.push(s);
    assert.equal(skus[0]?.capacity?.maximum, 50);
  });

  test('shipped model versions are readable at the workspace and registry model paths', async () => {
    const v = await client.modelVersions.get(RG, WS, 'fraud-detector', '2');
    assert.equal(v.name, '2');
    const reg = await raw(emu, 'GET', `/subscriptions/s/resourceGroups/${RG}/providers/Microsoft.MachineLearningServices/registries/shared/models/fraud-detector/versions/6?api-version=2024-04-01`);
    assert.equal(reg.status, 200);
    const missing = await restError(() => client.modelVersions.get(RG, WS, 'fraud-detector', '99'));
    assert.equal(missing.statusCode, 404);
  });

  test('a deployment naming an unknown model fails its provisioning with ResourceNotFound', async () => {
    await assert.rejects(
      client.onlineDeployments.beginCreateOrUpdateAndWait(RG, WS, 'fraud-ep', 'ghost', aDeployment('azureml:fraud-detector:99'), POLL),
      (e: Error) => {
        assert.ok(!isRestError(e), 'a long-running operation failure is a plain Error');
        assert.match(e.message, /^The long-running operation has failed\. ResourceNotFound\. Model 'azureml:fraud-detector:99' was not found/);
        return true;
      },
    );
    const dep = await client.onlineDeployments.get(RG, WS, 'fraud-ep', 'ghost');
    assert.equal(dep.properties.provisioningState, 'Failed');
    await client.onlineDeployments.beginDeleteAndWait(RG, WS, 'fraud-ep', 'ghost', POLL);
  });

  test('deleting a deployment and then the endpoint leaves nothing behind (GET answers 404)', async () => {
    await setTraffic(client, 'fraud-ep', { blue: 100 });
    await client.onlineDeployments.beginDeleteAndWait(RG, WS, 'fraud-ep', 'green', POLL);
    const gone = await restError(() => client.onlineDeployments.get(RG, WS, 'fraud-ep', 'green'));
    assert.equal(gone.statusCode, 404);
    const poller = await client.onlineEndpoints.beginDelete(RG, WS, 'fraud-ep', POLL);
    assert.equal((await client.onlineEndpoints.get(RG, WS, 'fraud-ep')).properties.provisioningState, 'Deleting');
    await poller.pollUntilDone();
    const e = await restError(() => client.onlineEndpoints.get(RG, WS, 'fraud-ep'));
    assert.equal(e.statusCode, 404);
    assert.equal((await score(emu, 'fraud-ep', key)).status, 404);
  });
});

describe('lists, api-version and persistence', () => {
  test('lists page through nextLink, and any api-version is accepted', async () => {
    const emu = await startTestEmulator({ listPageSize: 2, provisionTimeMs: 20 });
    try {
      const client = armClient(emu, { apiVersion: '2025-09-01' });
      for (const name of ['ep-one', 'ep-two', 'ep-three', 'ep-four', 'ep-five']) {
        await client.onlineEndpoints.beginCreateOrUpdateAndWait(RG, WS, name, anEndpoint(), POLL);
      }
      const names = [];
      for await (const e of client.onlineEndpoints.list(RG, WS)) names.push(e.name);
      assert.deepEqual(names, ['ep-one', 'ep-two', 'ep-three', 'ep-four', 'ep-five']);
      assert.ok(emu.callLog().some((c) => c.query.includes('%24skip=4') && c.query.includes('api-version=2025-09-01')));
      const noVersion = await raw(emu, 'GET', armPath('ep-one').replace(/\?.*$/, ''));
      assert.equal(noVersion.status, 400);
      assert.equal((noVersion.json as { error: { code: string } }).error.code, 'MissingApiVersionParameter');
    } finally {
      await emu.close();
    }
  });

  test('the 21st deployment on an endpoint is refused with QuotaExceeded', async () => {
    const emu = await startTestEmulator({ provisionTimeMs: 5 });
    try {
      const client = armClient(emu);
      await client.onlineEndpoints.beginCreateOrUpdateAndWait(RG, WS, 'crowded-ep', anEndpoint(), POLL);
      for (let i = 1; i <= 20; i++) {
        // A model that does not exist: the deployment is created (and fails), without starting a container.
        await assert.rejects(client.onlineDeployments.beginCreateOrUpdateAndWait(RG, WS, 'crowded-ep', `dep${i}`, aDeployment('azureml:fraud-detector:404'), POLL), /ResourceNotFound/);
      }
      const e = await restError(() => client.onlineDeployments.beginCreateOrUpdateAndWait(RG, WS, 'crowded-ep', 'dep21', aDeployment(), POLL));
      assert.equal(e.statusCode, 400);
      assert.equal(e.code, 'QuotaExceeded');
    } finally {
      await emu.close();
    }
  });

  test('with a state dir, endpoints, deployments, traffic and keys survive a restart, and the certificate is kept', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'glidepath-emu-state-'));
    const first = await startTestEmulator({ stateDir, provisionTimeMs: 20 });
    const client = armClient(first);
    const key = await anEndpointWith(client, 'persist-ep', { blue: 'azureml:fraud-detector:1' });
    await setTraffic(client, 'persist-ep', { blue: 100 });
    const cert = first.caCertPem;
    await first.close();

    const second = await startTestEmulator({ stateDir, provisionTimeMs: 20 });
    try {
      assert.equal(second.caCertPem, cert);
      const client2 = armClient(second);
      const ep = await client2.onlineEndpoints.get(RG, WS, 'persist-ep');
      assert.deepEqual(ep.properties.traffic, { blue: 100 });
      assert.equal((await client2.onlineEndpoints.listKeys(RG, WS, 'persist-ep')).primaryKey, key);
      const r = await score(second, 'persist-ep', key);
      assert.equal(r.status, 200);
      assert.equal(r.headers['azureml-model-deployment'], 'blue');
    } finally {
      await second.close();
    }
  });
});
