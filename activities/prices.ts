/**
 * `estimateCost`: what the candidate will cost per hour and per month, from the Azure Retail Prices API
 * (public, no auth). Managed online deployments are billed per instance-hour at the Virtual Machines
 * meter of their instance type in their region (Linux, pay-as-you-go). Prices are cached per region and
 * instance type; when the API cannot be reached, a committed fallback table gives an estimate that is
 * clearly flagged (`fallback: true`, `source: fallback-table …`).
 */
import { z } from 'zod';
import { ErrorType } from '../domain/errors.js';
import type { AzureClientFactory } from './azure-clients.js';
import { failure } from './failures.js';
import type { EstimateCostInput, EstimateCostResult } from './types.js';

/** Hours in a month, as Azure's pricing calculator counts them. */
export const HOURS_PER_MONTH = 730;

/**
 * Linux pay-as-you-go USD per instance-hour, East US, from public price snapshots (approximate; see
 * shared/reference/azure-ml-online-endpoints.md §6.1, gathered 2026-11). Used only when the Retail
 * Prices API cannot be reached.
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

const PriceItem = z.object({
  retailPrice: z.number(),
  unitOfMeasure: z.string().optional(),
  productName: z.string(),
  meterName: z.string(),
  armSkuName: z.string().optional(),
  armRegionName: z.string().optional(),
  type: z.string().optional(),
});
const PricePage = z.object({ Items: z.array(PriceItem), NextPageLink: z.string().nullish() });

/** Keeps the Linux consumption meter: drops Windows products and Spot / Low Priority meters. */
export function linuxConsumptionPrice(items: z.infer<typeof PriceItem>[]): number | undefined {
  const rows = items.filter(
    (i) => !/ Windows$/.test(i.productName) && !/Spot|Low Priority/i.test(i.meterName) && (i.type ?? 'Consumption') === 'Consumption',
  );
  if (rows.length === 0) return undefined;
  return Math.min(...rows.map((r) => r.retailPrice));
}

export interface PricesOptions {
  /** How long a price stays cached (default 24 h). */
  cacheTtlMs?: number;
  /** Pages to follow at most (a filter for one SKU in one region returns one or two). */
  maxPages?: number;
  now?: () => number;
}

/** The cost activity, bound to one client factory; the cache is shared by every rollout on the worker. */
export function createPriceActivities(factory: AzureClientFactory, opts: PricesOptions = {}) {
  const cache = new Map<string, { hourlyUsd: number; source: string; at: number }>();
  const ttl = opts.cacheTtlMs ?? 24 * 3600_000;
  const now = opts.now ?? Date.now;

  async function unitPrice(subscriptionId: string, region: string, instanceType: string): Promise<{ hourlyUsd: number; source: string } | undefined> {
    const key = `${region}/${instanceType}`;
    const hit = cache.get(key);
    if (hit && now() - hit.at < ttl) return hit;
    const { getPrices, pricesBaseUrl } = factory.forSubscription(subscriptionId);
    const filter = `serviceName eq 'Virtual Machines' and armSkuName eq '${instanceType}' and armRegionName eq '${region}' and priceType eq 'Consumption'`;
    let url: string | null | undefined = `${pricesBaseUrl}?$filter=${encodeURIComponent(filter)}`;
    const items: z.infer<typeof PriceItem>[] = [];
    for (let page = 0; url && page < (opts.maxPages ?? 10); page++) {
      const parsed = PricePage.parse(await getPrices(url));
      items.push(...parsed.Items);
      url = parsed.NextPageLink;
    }
    const price = linuxConsumptionPrice(items);
    if (price === undefined) return undefined;
    const entry = { hourlyUsd: price, source: `retail-prices:${region}`, at: now() };
    cache.set(key, entry);
    return entry;
  }

  return {
    async estimateCost({ endpoint, instanceType, instanceCount, location }: EstimateCostInput): Promise<EstimateCostResult> {
      const region = (location ?? 'eastus').toLowerCase().replace(/\s+/g, '');
      let found: { hourlyUsd: number; source: string } | undefined;
      let lookupError: unknown;
      try {
        found = await unitPrice(endpoint.subscriptionId, region, instanceType);
      } catch (err) {
        lookupError = err; // API unreachable or answering garbage: fall back below
      }
      if (found) {
        const hourlyUsd = found.hourlyUsd * instanceCount;
        return { hourlyUsd, monthlyUsd: hourlyUsd * HOURS_PER_MONTH, fallback: false, source: found.source };
      }
      const fallback = FALLBACK_PRICES[instanceType];
      if (fallback === undefined) {
        throw failure(
          ErrorType.PriceUnavailable,
          lookupError
            ? `no price for ${instanceType} in ${region}: the Retail Prices API failed (${(lookupError as Error).message}) and the fallback table has no entry`
            : `the Retail Prices API lists no Linux pay-as-you-go price for ${instanceType} in ${region}`,
          lookupError instanceof Error ? { cause: lookupError } : {},
        );
      }
      const hourlyUsd = fallback * instanceCount;
      return { hourlyUsd, monthlyUsd: hourlyUsd * HOURS_PER_MONTH, fallback: true, source: FALLBACK_SOURCE };
    },
  };
}
