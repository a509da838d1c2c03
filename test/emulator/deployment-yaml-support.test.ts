// What the emulator serves for Azure ML deployment YAMLs (issue 17): every instance type on Azure's managed
// online SKU list, priced in the Retail Prices API; managed identities with the ids Azure fills in; sku
// size/family kept; `count` paging on the endpoints list; model versions ordered by creation (how the CLI
// resolves `@latest`); deployments without a model. With the unmodified @azure/arm-machinelearning where it
// covers the call.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import { lookUpHourlyPrice } from '../../domain/prices.js';
import type { Emulator } from '../../emulator/index.js';
import { EMULATOR_TENANT_ID } from '../../emulator/arm.js';
import { MANAGED_SKUS } from '../../emulator/managed-skus.js';
import { aDeployment, anEndpoint, armClient, armPath, POLL, raw, RG, startTestEmulator, WS } from './support.js';

let emu: Emulator;
let arm: AzureMachineLearningWorkspaces;

before(async () => {
  emu = await startTestEmulator({ provisionTimeMs: 20 });
  arm = armClient(emu);
  await arm.onlineEndpoints.beginCreateOrUpdateAndWait(RG, WS, 'sku-ep', anEndpoint(), POLL);
});
after(async () => {
  await emu?.close();
});

/** The families and SKU counts of Azure's list (reference azure-ml-cli-assets.md §6, docs of 2025-10-18). */
const FAMILY_SIZES: Record<string, number> = {
  standardDASv4Family: 8, standardDAv4Family: 8, standardDSv2Family: 5, standardESv3Family: 7, standardFSv2Family: 8, standardFXMDVSFamily: 5,
  standardLASv3Family: 6, standardLSv2Family: 6, standardLSv3Family: 6, standardNCADSA100v4Family: 3, 'Standard NCASv3_T4 Family': 4, standardNCSv2Family: 3,
  standardNCSv3Family: 3, standardNCADSH100v5Family: 2, 'Standard NDAMSv4_A100Family': 1, 'Standard NDASv4_A100 Family': 1, standardNDSv2Family: 1,
  standardNDv5H100Family: 2, standardNVADSA10v5Family: 6,
};

describe('instance types: Azure’s managed online SKU list', () => {
  test('the list holds the 85 SKUs of Azure’s 19 families, each once', () => {
    assert.equal(MANAGED_SKUS.length, 85);
    assert.equal(new Set(MANAGED_SKUS.map((s) => s.armSkuName.toLowerCase())).size, 85);
    const byFamily: Record<string, number> = {};
    for (const s of MANAGED_SKUS) byFamily[s.family] = (byFamily[s.family] ?? 0) + 1;
    assert.deepEqual(byFamily, FAMILY_SIZES);
  });

  test('a deployment PUT accepts every one of the 85 (in the docs’ upper case too), and refuses a size that is not on the list', async () => {
    const refused: string[] = [];
    for (const [i, sku] of MANAGED_SKUS.entries()) {
      // A provisioning fault ends each create at once without starting a container: what is tested is the PUT's acceptance.
      emu.faults.failProvisioning('sku-probe', 'OutOfQuota', { endpoint: 'sku-ep' });
      const body = aDeployment('azureml:fraud-detector:1');
      body.properties = { ...body.properties, instanceType: i % 2 === 0 ? sku.armSkuName : sku.armSkuName.toUpperCase() } as typeof body.properties;
      const r = await raw(emu, 'PUT', armPath('sku-ep', '/deployments/sku-probe'), JSON.stringify(body));
      if (r.status !== 201 && r.status !== 200) refused.push(`${sku.armSkuName}: ${r.status} ${r.text.slice(0, 200)}`);
      for (let n = 0; n < 200; n++) {
        const d = await raw(emu, 'GET', armPath('sku-ep', '/deployments/sku-probe'));
        const state = (d.json as { properties?: { provisioningState?: string } }).properties?.provisioningState;
        if (state === 'Failed' || state === 'Succeeded') break;
        await new Promise((res) => setTimeout(res, 10));
      }
    }
    assert.deepEqual(refused, []);
    const body = aDeployment('azureml:fraud-detector:1');
    body.properties = { ...body.properties, instanceType: 'Standard_D2s_v3' } as typeof body.properties;
    const r = await raw(emu, 'PUT', armPath('sku-ep', '/deployments/not-managed'), JSON.stringify(body));
    assert.equal(r.status, 400);
    assert.match(r.text, /The instance type 'Standard_D2s_v3' is not supported for managed online deployments/);
  });

  test('the Retail Prices API prices every one of the 85 in East US (Linux, pay-as-you-go), as the cost check looks it up', async () => {
    const getPage = async (url: string): Promise<unknown> => {
      const u = new URL(url);
      const r = await raw(emu, 'GET', `${u.pathname}${u.search}`);
      assert.equal(r.status, 200, r.text);
      return r.json;
    };
    const missing: string[] = [];
    const prices: Record<string, number> = {};
    for (const sku of MANAGED_SKUS) {
      const p = await lookUpHourlyPrice(getPage, { baseUrl: `${emu.url}/api/retail/prices`, region: 'eastus', instanceType: sku.armSkuName });
      if (p === undefined) missing.push(sku.armSkuName);
      else prices[sku.armSkuName] = p;
    }
    assert.deepEqual(missing, []);
    assert.equal(prices.Standard_DS3_v2, 0.293, 'the reference figure for DS3 v2');
    assert.equal(prices.Standard_E16s_v3, 1.008);
    // Within a family the price rises with the size; a GPU SKU costs more than a CPU SKU of the same cores.
    assert.ok(prices.Standard_F2s_v2! < prices.Standard_F4s_v2! && prices.Standard_F4s_v2! < prices.Standard_F72s_v2!);
    assert.ok(prices.Standard_NC24ads_A100_v4! > prices.Standard_D32as_v4!);
  });
});

describe('identity, sku and paging as ARM returns them', () => {
  test('a system-assigned identity comes back with principalId and tenantId; each user-assigned one with principalId and clientId', async () => {
    const uai = `/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/scorer`;
    const ep = await arm.onlineEndpoints.beginCreateOrUpdateAndWait(
      RG,
      WS,
      'identity-ep',
      { ...anEndpoint(), identity: { type: 'SystemAssigned,UserAssigned', userAssignedIdentities: { [uai]: {} } } },
      POLL,
    );
    const got = await arm.onlineEndpoints.get(RG, WS, 'identity-ep');
    for (const e of [ep, got]) {
      assert.equal(e.identity?.type, 'SystemAssigned,UserAssigned');
      assert.match(e.identity?.principalId ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.equal(e.identity?.tenantId, EMULATOR_TENANT_ID);
      const user = e.identity?.userAssignedIdentities?.[uai];
      assert.match(user?.principalId ?? '', /^[0-9a-f-]{36}$/);
      assert.match(user?.clientId ?? '', /^[0-9a-f-]{36}$/);
      assert.notEqual(user?.principalId, e.identity?.principalId);
    }
    assert.equal(got.identity?.principalId, ep.identity?.principalId, 'the ids are stable');
    const none = await arm.onlineEndpoints.get(RG, WS, 'sku-ep');
    assert.equal(none.identity?.principalId, undefined, 'no identity, no ids');
  });

  test('a deployment keeps sku.size and sku.family as sent, through PUT and PATCH', async () => {
    const body = aDeployment('azureml:fraud-detector:1');
    body.sku = { name: 'Default', capacity: 1, size: 'Standard_DS3_v2', family: 'standardDSv2Family', tier: 'Standard' };
    const d = await arm.onlineDeployments.beginCreateOrUpdateAndWait(RG, WS, 'sku-ep', 'sized', body, POLL);
    assert.deepEqual({ ...d.sku }, { name: 'Default', capacity: 1, size: 'Standard_DS3_v2', family: 'standardDSv2Family', tier: 'Standard' });
    const scaled = await arm.onlineDeployments.beginUpdateAndWait(RG, WS, 'sku-ep', 'sized', { sku: { capacity: 2 } }, POLL);
    assert.equal(scaled.sku?.capacity, 2);
    assert.equal((await arm.onlineDeployments.get(RG, WS, 'sku-ep', 'sized')).sku?.family, 'standardDSv2Family');
    await arm.onlineDeployments.beginDeleteAndWait(RG, WS, 'sku-ep', 'sized', POLL);
  });

  test('count sets the page size of the endpoints list: the SDK follows the nextLinks and sees every endpoint once', async () => {
    for (const n of ['page-a', 'page-b', 'page-c']) await arm.onlineEndpoints.beginCreateOrUpdateAndWait(RG, WS, n, anEndpoint(), POLL);
    const first = await raw(emu, 'GET', `/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/${RG}/providers/Microsoft.MachineLearningServices/workspaces/${WS}/onlineEndpoints?api-version=2024-04-01&count=2`);
    const body = first.json as { value: unknown[]; nextLink?: string };
    assert.equal(body.value.length, 2);
    assert.match(body.nextLink ?? '', /count=2/);
    assert.match(decodeURIComponent(body.nextLink ?? ''), /\$skip=2/);
    const names: string[] = [];
    for await (const e of arm.onlineEndpoints.list(RG, WS, { count: 2 })) names.push(e.name ?? '');
    assert.equal(new Set(names).size, names.length, 'no endpoint twice');
    for (const n of ['sku-ep', 'identity-ep', 'page-a', 'page-b', 'page-c']) assert.ok(names.includes(n), `${n} listed`);
    const pages: number[] = [];
    for await (const p of arm.onlineEndpoints.list(RG, WS, { count: 2 }).byPage()) pages.push(p.length);
    assert.ok(pages.every((n) => n <= 2) && pages.length >= 3, `pages of at most 2: ${pages.join(', ')}`);
    const bad = await raw(emu, 'GET', `/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/${RG}/providers/Microsoft.MachineLearningServices/workspaces/${WS}/onlineEndpoints?api-version=2024-04-01&count=0`);
    assert.equal(bad.status, 400);
    assert.match(bad.text, /Invalid count '0'/);
  });
});

describe('model versions and deployments without a model', () => {
  test('model versions ordered by createdtime desc, top 1, give the most recently registered version (how @latest resolves)', async () => {
    const pages = arm.modelVersions.list(RG, WS, 'fraud-detector', { orderBy: 'createdtime desc', top: 1 }).byPage();
    const first = await pages.next();
    assert.ok(!first.done);
    assert.equal(first.value.length, 1);
    assert.equal(first.value[0]?.name, '6');
    const all: string[] = [];
    for await (const v of arm.modelVersions.list(RG, WS, 'fraud-detector', { orderBy: 'createdtime asc' })) all.push(v.name ?? '');
    assert.deepEqual(all, ['1', '2', '3', '4', '5', '6']);
    const r = await raw(emu, 'GET', `/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/${RG}/providers/Microsoft.MachineLearningServices/workspaces/${WS}/models/fraud-detector/versions?api-version=2024-04-01&$orderBy=size`);
    assert.equal(r.status, 400);
  });

  test('a deployment without a model (a custom container) is created and answers scoring requests', async () => {
    const body = aDeployment('azureml:fraud-detector:1');
    const { model: _model, ...props } = body.properties as unknown as { model?: string } & Record<string, unknown>;
    body.properties = { ...props, environmentId: 'azureml:tfserving-env:1', modelMountPath: '/var/tfserving-model-mount' } as unknown as typeof body.properties;
    const d = await arm.onlineDeployments.beginCreateOrUpdateAndWait(RG, WS, 'sku-ep', 'nomodel', body, POLL);
    assert.equal(d.properties.provisioningState, 'Succeeded');
    assert.equal((d.properties as { model?: string }).model, undefined);
    const logs = await arm.onlineDeployments.getLogs(RG, WS, 'sku-ep', 'nomodel', { containerType: 'InferenceServer' });
    assert.match(logs.content ?? '', /No model: the container of azureml:tfserving-env:1 serves on its own/);
  });
});
