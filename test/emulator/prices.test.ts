// The Retail Prices API stand-in: OData filters, paging through NextPageLink, and the Linux row a cost
// check should pick for an instance type.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Emulator } from '../../emulator/index.js';
import { raw, startTestEmulator } from './support.js';

interface PricePage {
  Items: Record<string, unknown>[];
  NextPageLink: string | null;
  Count: number;
}

let emu: Emulator;
before(async () => {
  emu = await startTestEmulator();
});
after(async () => {
  await emu.close();
});

test('the documented filter finds the Linux pay-as-you-go meter of an instance type', async () => {
  const filter = "serviceName eq 'Virtual Machines' and armSkuName eq 'Standard_DS3_v2' and armRegionName eq 'eastus' and priceType eq 'Consumption'";
  const r = await raw(emu, 'GET', `/api/retail/prices?api-version=2023-01-01-preview&$filter=${encodeURIComponent(filter)}`, undefined, { authorization: '' });
  assert.equal(r.status, 200);
  const page = r.json as PricePage;
  assert.equal(page.Items.length, 3, 'Linux, Windows and Spot rows, as Azure returns them');
  const linux = page.Items.filter((i) => !String(i.productName).endsWith(' Windows') && !/Spot|Low Priority/.test(String(i.meterName)));
  assert.equal(linux.length, 1);
  assert.equal(linux[0]?.retailPrice, 0.293);
  assert.equal(linux[0]?.unitOfMeasure, '1 Hour');
  assert.equal(linux[0]?.meterName, 'DS3 v2');
});

test('filter values are case-sensitive, and contains() / or work', async () => {
  const lower = await raw(emu, 'GET', `/api/retail/prices?$filter=${encodeURIComponent("armSkuName eq 'standard_ds3_v2'")}`);
  assert.equal((lower.json as PricePage).Items.length, 0);
  const r = await raw(emu, 'GET', `/api/retail/prices?$filter=${encodeURIComponent("(armSkuName eq 'Standard_F4s_v2' or armSkuName eq 'Standard_D2s_v3') and armRegionName eq 'eastus' and contains(meterName, 'Spot') eq false")}`);
  assert.equal(r.status, 400, 'comparing a function call is not supported; the emulator says so');
  const ok = await raw(emu, 'GET', `/api/retail/prices?$filter=${encodeURIComponent("(armSkuName eq 'Standard_F4s_v2' or armSkuName eq 'Standard_D2s_v3') and armRegionName eq 'eastus' and not contains(meterName, 'Spot')")}`);
  const items = (ok.json as PricePage).Items;
  assert.equal(items.length, 4);
  assert.ok(items.some((i) => i.armSkuName === 'Standard_F4s_v2' && i.retailPrice === 0.169));
});

test('an unfiltered query pages through NextPageLink, 100 items a page', async () => {
  let next: string | null = '/api/retail/prices';
  const all: unknown[] = [];
  let pages = 0;
  while (next) {
    const r = await raw(emu, 'GET', next);
    const page = r.json as PricePage;
    all.push(...page.Items);
    assert.ok(page.Items.length <= 100);
    next = page.NextPageLink;
    pages++;
  }
  assert.ok(pages >= 2);
  assert.equal(new Set(all.map((i) => (i as { meterId: string }).meterId)).size, all.length, 'no row twice across pages');
});
