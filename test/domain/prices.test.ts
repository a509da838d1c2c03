import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { armRegionName, costEstimate, linuxConsumptionPrice, lookUpHourlyPrice, parsePricePage, retailPricesUrl, type PriceItem } from '../../domain/prices.js';

const row = (retailPrice: number, patch: Partial<PriceItem> = {}): PriceItem => ({
  retailPrice,
  productName: 'Virtual Machines DSv2 Series',
  meterName: 'DS3 v2',
  type: 'Consumption',
  ...patch,
});

describe('choosing the meter', () => {
  const table: [string, PriceItem[], number | undefined][] = [
    ['the Linux consumption meter is the price', [row(0.293)], 0.293],
    ['a Windows product is not the price of a Linux deployment', [row(0.5, { productName: 'Virtual Machines DSv2 Series Windows' }), row(0.293)], 0.293],
    ['Spot and Low Priority meters are dropped', [row(0.05, { meterName: 'DS3 v2 Spot' }), row(0.06, { meterName: 'DS3 v2 Low Priority' }), row(0.293)], 0.293],
    ['a reservation row is not pay-as-you-go', [row(0.1, { type: 'Reservation' }), row(0.293)], 0.293],
    ['of two Linux consumption rows the lower wins', [row(0.31), row(0.293)], 0.293],
    ['only Windows and Spot rows: no price', [row(0.5, { productName: 'Virtual Machines DSv2 Series Windows' }), row(0.05, { meterName: 'DS3 v2 Spot' })], undefined],
  ];
  for (const [what, items, expected] of table) test(what, () => assert.equal(linuxConsumptionPrice(items), expected));
});

describe('asking and reading the API', () => {
  test('the query asks for the Virtual Machines consumption meters of one instance type in one region', () => {
    const url = new URL(retailPricesUrl('https://prices.azure.com/api/retail/prices', 'westeurope', 'Standard_DS3_v2'));
    assert.equal(url.searchParams.get('$filter'), "serviceName eq 'Virtual Machines' and armSkuName eq 'Standard_DS3_v2' and armRegionName eq 'westeurope' and priceType eq 'Consumption'");
  });

  test('a location is spelled as the API spells regions', () => assert.equal(armRegionName('West Europe'), 'westeurope'));

  test('an answer that is not a price page is refused, naming the field', () => {
    assert.throws(() => parsePricePage({ Items: [{ retailPrice: 'cheap', productName: 'x', meterName: 'y' }] }), /not a price page \(Items\.0\.retailPrice: /);
    assert.throws(() => parsePricePage('<html>'), /not a price page \(body: /);
  });

  test('2 instances at $0.293 cost $0.586/hour and $427.78 per 730-hour month', () => {
    const c = costEstimate(0.293, 2, 'retail-prices:eastus', false);
    assert.equal(c.hourlyUsd, 0.586);
    assert.equal(c.monthlyUsd.toFixed(2), '427.78');
    assert.deepEqual([c.fallback, c.source], [false, 'retail-prices:eastus']);
  });
});

describe('lookUpHourlyPrice', () => {
  const q = { baseUrl: 'https://prices.test/api/retail/prices', region: 'eastus', instanceType: 'Standard_DS3_v2' };

  test('follows NextPageLink and picks the meter across all pages', async () => {
    const asked: string[] = [];
    const pages: Record<string, unknown> = {
      [retailPricesUrl(q.baseUrl, q.region, q.instanceType)]: { Items: [row(0.5, { productName: 'Virtual Machines DSv2 Series Windows' })], NextPageLink: 'https://prices.test/page2' },
      'https://prices.test/page2': { Items: [row(0.293)], NextPageLink: null },
    };
    const price = await lookUpHourlyPrice(async (url) => (asked.push(url), pages[url]), q);
    assert.equal(price, 0.293);
    assert.equal(asked.length, 2);
  });

  test('stops after maxPages even when the API keeps offering more', async () => {
    let asked = 0;
    const price = await lookUpHourlyPrice(async () => (asked++, { Items: [row(0.3 - asked / 100)], NextPageLink: 'https://prices.test/again' }), { ...q, maxPages: 3 });
    assert.equal(asked, 3);
    assert.equal(price, 0.27);
  });

  test('no Linux row means no price; a failing page propagates to the caller', async () => {
    assert.equal(await lookUpHourlyPrice(async () => ({ Items: [] }), q), undefined);
    await assert.rejects(lookUpHourlyPrice(async () => Promise.reject(new Error('HTTP 503')), q), /HTTP 503/);
  });
});
