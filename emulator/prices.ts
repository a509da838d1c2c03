// The Azure Retail Prices API (`GET /api/retail/prices?$filter=…`), answered from a committed table of
// Virtual Machines meters: every SKU of Azure's managed online endpoint list (emulator/managed-skus.ts, where
// the prices come from) and a few general-purpose sizes that are not on it (priced, so clients can look
// them up, but refused by the deployment PUT as Azure refuses them).
//
// Other regions apply a fixed regional factor, Windows rows add the Windows licence uplift, Spot rows are a
// fixed discount: they exist so clients must filter as they would against Azure. Not a source of truth for
// money; good enough to check cost arithmetic.
import { createHash } from 'node:crypto';
import { ArmError } from './http.js';
import { MANAGED_SKUS } from './managed-skus.js';

interface SkuPrice {
  armSkuName: string;
  meter: string; // meterName / skuName without suffixes, e.g. "DS3 v2"
  series: string; // productName, e.g. "Virtual Machines DSv2 Series"
  usdPerHourEastUsLinux: number;
  basis: 'ref' | 'est' | 'list';
}

/**
 * Linux pay-as-you-go hourly prices, East US: the managed online SKU list, then sizes that are not on it
 * ("est": the figures of shared/reference/azure-ml-online-endpoints.md §6.1 or scaled by vCPU from them).
 */
export const VM_PRICES: readonly SkuPrice[] = [
  ...MANAGED_SKUS.map((s) => ({ armSkuName: s.armSkuName, meter: s.meter, series: s.series, usdPerHourEastUsLinux: s.usdPerHourEastUsLinux, basis: s.basis })),
  { armSkuName: 'Standard_D2_v2', meter: 'D2 v2', series: 'Virtual Machines Dv2 Series', usdPerHourEastUsLinux: 0.146, basis: 'ref' },
  { armSkuName: 'Standard_D3_v2', meter: 'D3 v2', series: 'Virtual Machines Dv2 Series', usdPerHourEastUsLinux: 0.293, basis: 'ref' },
  { armSkuName: 'Standard_D2s_v3', meter: 'D2s v3', series: 'Virtual Machines Dsv3 Series', usdPerHourEastUsLinux: 0.096, basis: 'ref' },
  { armSkuName: 'Standard_D4s_v3', meter: 'D4s v3', series: 'Virtual Machines Dsv3 Series', usdPerHourEastUsLinux: 0.192, basis: 'est' },
  { armSkuName: 'Standard_D8s_v3', meter: 'D8s v3', series: 'Virtual Machines Dsv3 Series', usdPerHourEastUsLinux: 0.384, basis: 'est' },
  { armSkuName: 'Standard_D16s_v3', meter: 'D16s v3', series: 'Virtual Machines Dsv3 Series', usdPerHourEastUsLinux: 0.768, basis: 'est' },
];

const REGIONS: readonly { armRegionName: string; location: string; factor: number }[] = [
  { armRegionName: 'eastus', location: 'US East', factor: 1 },
  { armRegionName: 'westeurope', location: 'EU West', factor: 1.1 },
  { armRegionName: 'westus2', location: 'US West 2', factor: 1 },
];

/** Instance types a managed online deployment may ask for (lower case): Azure's managed SKU list. */
export const INSTANCE_TYPES: ReadonlySet<string> = new Set(MANAGED_SKUS.map((p) => p.armSkuName.toLowerCase()));

export type PriceItem = Record<string, string | number | boolean | null>;

function fakeId(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('|')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function buildItems(): PriceItem[] {
  const items: PriceItem[] = [];
  for (const region of REGIONS) {
    for (const sku of VM_PRICES) {
      const base = sku.usdPerHourEastUsLinux * region.factor;
      const variants = [
        { productSuffix: '', meterSuffix: '', price: base },
        { productSuffix: ' Windows', meterSuffix: '', price: base * 1.85 },
        { productSuffix: '', meterSuffix: ' Spot', price: base * 0.2 },
      ];
      for (const v of variants) {
        const price = Math.round(v.price * 10000) / 10000;
        const productName = `${sku.series}${v.productSuffix}`;
        const meterName = `${sku.meter}${v.meterSuffix}`;
        items.push({
          currencyCode: 'USD',
          tierMinimumUnits: 0,
          retailPrice: price,
          unitPrice: price,
          armRegionName: region.armRegionName,
          location: region.location,
          effectiveStartDate: '2024-01-01T00:00:00Z',
          meterId: fakeId('meter', region.armRegionName, productName, meterName),
          meterName,
          productId: fakeId('product', productName).slice(0, 12).toUpperCase(),
          skuId: fakeId('sku', productName, meterName).slice(0, 17).toUpperCase(),
          productName,
          skuName: meterName,
          serviceName: 'Virtual Machines',
          serviceId: 'DZH313Z7MMC8',
          serviceFamily: 'Compute',
          unitOfMeasure: '1 Hour',
          type: 'Consumption',
          isPrimaryMeterRegion: true,
          armSkuName: sku.armSkuName,
        });
      }
    }
  }
  return items;
}

const ITEMS = buildItems();
const PAGE_SIZE = 100;

// ---- a small OData filter: eq / ne, and / or / not, parentheses, contains() / startswith() ----

type Pred = (item: PriceItem) => boolean;

function tokenize(s: string): string[] {
  const tokens: string[] = [];
  const re = /\s*(?:('(?:[^']|'')*')|([(),])|([A-Za-z_][A-Za-z0-9_]*)|(-?\d+(?:\.\d+)?))/y;
  let pos = 0;
  while (pos < s.length) {
    if (/^\s*$/.test(s.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) throw new ArmError(400, 'BadRequest', `Invalid $filter near '${s.slice(pos, pos + 20)}'.`);
    tokens.push((m[1] ?? m[2] ?? m[3] ?? m[4]) as string);
    pos = re.lastIndex;
  }
  return tokens;
}

/** Filter fields that are named differently in the items. */
const FIELD_ALIASES: Record<string, string> = { pricetype: 'type' };

function fieldValue(item: PriceItem, field: string): string | number | boolean | null | undefined {
  if (field.toLowerCase() === 'meterregion') return item.isPrimaryMeterRegion ? 'primary' : 'secondary';
  field = FIELD_ALIASES[field.toLowerCase()] ?? field;
  const key = Object.keys(item).find((k) => k.toLowerCase() === field.toLowerCase());
  if (!key) throw new ArmError(400, 'BadRequest', `Invalid $filter: unknown field '${field}'.`);
  return item[key];
}

function literal(tok: string | undefined): string | number | boolean {
  if (tok === undefined) throw new ArmError(400, 'BadRequest', 'Invalid $filter: a value is missing.');
  if (tok.startsWith("'")) return tok.slice(1, -1).replace(/''/g, "'");
  if (tok === 'true' || tok === 'false') return tok === 'true';
  const n = Number(tok);
  if (Number.isFinite(n)) return n;
  throw new ArmError(400, 'BadRequest', `Invalid $filter: '${tok}' is not a value.`);
}

/** Parses an OData `$filter` over price items. */
export function parsePriceFilter(text: string): Pred {
  const toks = tokenize(text);
  let i = 0;
  const peek = (): string | undefined => toks[i];
  const take = (expected?: string): string => {
    const t = toks[i++];
    if (t === undefined || (expected !== undefined && t.toLowerCase() !== expected)) {
      throw new ArmError(400, 'BadRequest', `Invalid $filter: expected ${expected ?? 'more input'} at token ${i}.`);
    }
    return t;
  };
  const orExpr = (): Pred => {
    let left = andExpr();
    while (peek()?.toLowerCase() === 'or') {
      take();
      const l = left;
      const r = andExpr();
      left = (x) => l(x) || r(x);
    }
    return left;
  };
  const andExpr = (): Pred => {
    let left = unary();
    while (peek()?.toLowerCase() === 'and') {
      take();
      const l = left;
      const r = unary();
      left = (x) => l(x) && r(x);
    }
    return left;
  };
  const unary = (): Pred => {
    const t = peek();
    if (t?.toLowerCase() === 'not') {
      take();
      const inner = unary();
      return (x) => !inner(x);
    }
    if (t === '(') {
      take();
      const inner = orExpr();
      take(')');
      return inner;
    }
    const name = take();
    const lower = name.toLowerCase();
    if (lower === 'contains' || lower === 'startswith' || lower === 'endswith') {
      take('(');
      const field = take();
      take(',');
      const value = String(literal(toks[i++]));
      take(')');
      return (x) => {
        const v = String(fieldValue(x, field) ?? '');
        return lower === 'contains' ? v.includes(value) : lower === 'startswith' ? v.startsWith(value) : v.endsWith(value);
      };
    }
    if (!/^[A-Za-z_]/.test(name)) throw new ArmError(400, 'BadRequest', `Invalid $filter: expected a field name, got '${name}'.`);
    const op = take().toLowerCase();
    const value = literal(toks[i++]);
    const cmp: Record<string, (a: number, b: number) => boolean> = { gt: (a, b) => a > b, ge: (a, b) => a >= b, lt: (a, b) => a < b, le: (a, b) => a <= b };
    if (op === 'eq') return (x) => fieldValue(x, name) === value;
    if (op === 'ne') return (x) => fieldValue(x, name) !== value;
    const c = cmp[op];
    if (c) return (x) => c(Number(fieldValue(x, name)), Number(value));
    throw new ArmError(400, 'BadRequest', `Invalid $filter: unsupported operator '${op}'.`);
  };
  if (toks.length === 0) return () => true;
  const pred = orExpr();
  if (i !== toks.length) throw new ArmError(400, 'BadRequest', `Invalid $filter: unexpected '${toks[i] ?? ''}'.`);
  return pred;
}

/** Answers one page of the Retail Prices API. `baseUrl` is the emulator's own origin (for NextPageLink). */
export function retailPrices(query: URLSearchParams, baseUrl: string): unknown {
  const filter = query.get('$filter') ?? '';
  const currency = (query.get('currencyCode') ?? "'USD'").replace(/'/g, '');
  if (currency !== 'USD') throw new ArmError(400, 'BadRequest', `currencyCode '${currency}' is not available in the emulator (only USD).`);
  const skipText = query.get('$skip') ?? '0';
  const skip = Number(skipText);
  if (!Number.isInteger(skip) || skip < 0) throw new ArmError(400, 'BadRequest', `Invalid $skip '${skipText}'.`);
  const pred = parsePriceFilter(filter);
  const matched = ITEMS.filter((item) => pred(item));
  const page = matched.slice(skip, skip + PAGE_SIZE);
  let next: string | null = null;
  if (skip + PAGE_SIZE < matched.length) {
    const q = new URLSearchParams(query);
    q.set('$skip', String(skip + PAGE_SIZE));
    next = `${baseUrl}/api/retail/prices?${q.toString()}`;
  }
  return { BillingCurrency: 'USD', CustomerEntityId: 'Default', CustomerEntityType: 'Retail', Items: page, NextPageLink: next, Count: page.length };
}
