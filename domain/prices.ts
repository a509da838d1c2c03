/**
 * Pricing a candidate from the Azure Retail Prices API (public, no auth), once for both callers: the
 * cost-check activity (activities/prices.ts) and `glidepath plan explain` (client/commands/plan.ts).
 * Managed online deployments are billed per instance-hour at the Virtual Machines meter of their
 * instance type in their region (Linux, pay-as-you-go); this module holds the query, the page schema,
 * the choice of meter, the committed fallback table and the arithmetic.
 *
 * No I/O here: {@link lookUpHourlyPrice} follows the pages through a `getPage` its caller passes in (the
 * worker's HTTP pipeline, which trusts the emulator's certificate; the CLI's `fetch` with a short timeout).
 */
import { z } from 'zod';
import type { CostEstimate } from './gates.js';

/** Hours in a month, as Azure's pricing calculator counts them. */
export const HOURS_PER_MONTH = 730;

/** The public Retail Prices API. */
export const DEFAULT_PRICES_URL = 'https://prices.azure.com/api/retail/prices';

/**
 * Linux pay-as-you-go USD per instance-hour, East US, from public price snapshots (approximate; see
 * shared/reference/azure-ml-online-endpoints.md §6.1, gathered 2026-11). The cost check uses it only
 * when the Retail Prices API cannot be reached.
 */
export const FALLBACK_PRICES: Readonly<Record<string, number>> = {
  Standard_DS2_v2: 0.146,
  Standard_D2_v2: 0.146,
  Standard_DS3_v2: 0.293,
  Standard_D3_v2: 0.293,
  Standard_D2s_v3: 0.096,
  Standard_F4s_v2: 0.169,
  Standard_NC6s_v3: 3.06,
};
export const FALLBACK_SOURCE = 'fallback-table (East US list prices, 2026-11)';

const PriceItemSchema = z.object({
  retailPrice: z.number(),
  unitOfMeasure: z.string().optional(),
  productName: z.string(),
  meterName: z.string(),
  armSkuName: z.string().optional(),
  armRegionName: z.string().optional(),
  type: z.string().optional(),
});
const PricePageSchema = z.object({ Items: z.array(PriceItemSchema), NextPageLink: z.string().nullish() });

/** One row of the price list (the fields Glidepath reads). */
export type PriceItem = z.infer<typeof PriceItemSchema>;
/** One page of the price list. */
export type PricePage = z.infer<typeof PricePageSchema>;

/** An Azure location as the API's `armRegionName` spells it: `East US` → `eastus`. */
export function armRegionName(location: string): string {
  return location.toLowerCase().replace(/\s+/g, '');
}

/** Where prices of `region` come from, as a CostEstimate's `source`: `retail-prices:eastus`. */
export function retailPricesSource(region: string): string {
  return `retail-prices:${region}`;
}

/** The first page's URL: the Virtual Machines consumption meters of one instance type in one region. */
export function retailPricesUrl(baseUrl: string, region: string, instanceType: string): string {
  const filter = `serviceName eq 'Virtual Machines' and armSkuName eq '${instanceType}' and armRegionName eq '${region}' and priceType eq 'Consumption'`;
  return `${baseUrl}?$filter=${encodeURIComponent(filter)}`;
}

/** Reads one answer of the API; an answer that is not a price page throws an Error naming the first problem. */
export function parsePricePage(body: unknown): PricePage {
  const r = PricePageSchema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new Error(`the Retail Prices API answered something that is not a price page (${issue.path.join('.') || 'body'}: ${issue.message})`);
}

/** Keeps the Linux consumption meter: drops Windows products and Spot / Low Priority meters; the lowest price wins. */
export function linuxConsumptionPrice(items: readonly PriceItem[]): number | undefined {
  const rows = items.filter(
    (i) => !/ Windows$/.test(i.productName) && !/Spot|Low Priority/i.test(i.meterName) && (i.type ?? 'Consumption') === 'Consumption',
  );
  if (rows.length === 0) return undefined;
  return Math.min(...rows.map((r) => r.retailPrice));
}

/** `instanceCount` instances at `unitHourlyUsd` each, per hour and per 730-hour month. */
export function costEstimate(unitHourlyUsd: number, instanceCount: number, source: string, fallback: boolean): CostEstimate {
  const hourlyUsd = unitHourlyUsd * instanceCount;
  return { hourlyUsd, monthlyUsd: hourlyUsd * HOURS_PER_MONTH, fallback, source };
}

/** What to price: an instance type in a region (`armRegionName` form), at a Retail Prices API. */
export interface PriceQuery {
  baseUrl: string;
  region: string;
  instanceType: string;
  /** Pages to follow at most (a filter for one SKU in one region returns one or two); default 10. */
  maxPages?: number;
}

/**
 * The Linux pay-as-you-go price of one instance-hour, or undefined when the API lists none. `getPage`
 * GETs a URL and returns the parsed JSON (or throws); its failures, and answers that are not price
 * pages, propagate to the caller, which decides whether a fallback applies.
 */
export async function lookUpHourlyPrice(getPage: (url: string) => Promise<unknown>, q: PriceQuery): Promise<number | undefined> {
  let url: string | null | undefined = retailPricesUrl(q.baseUrl, q.region, q.instanceType);
  const items: PriceItem[] = [];
  for (let page = 0; url && page < (q.maxPages ?? 10); page++) {
    const parsed = parsePricePage(await getPage(url));
    items.push(...parsed.Items);
    url = parsed.NextPageLink;
  }
  return linuxConsumptionPrice(items);
}
