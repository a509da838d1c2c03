/**
 * `estimateCost`: what the candidate will cost per hour and per month, from the Azure Retail Prices API
 * (public, no auth), looked up by domain/prices.ts through the client factory's HTTP pipeline. Prices are
 * cached per region and instance type; when the API cannot be reached, the committed fallback table
 * gives an estimate that is clearly flagged (`fallback: true`, `source: fallback-table …`).
 */
import { ErrorType } from '../domain/errors.js';
import { armRegionName, costEstimate, FALLBACK_PRICES, FALLBACK_SOURCE, lookUpHourlyPrice, retailPricesSource } from '../domain/prices.js';
import type { AzureClientFactory } from './azure-clients.js';
import { failure } from './failures.js';
import type { EstimateCostInput, EstimateCostResult } from './types.js';

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
    const price = await lookUpHourlyPrice(getPrices, { baseUrl: pricesBaseUrl, region, instanceType, ...(opts.maxPages !== undefined ? { maxPages: opts.maxPages } : {}) });
    if (price === undefined) return undefined;
    const entry = { hourlyUsd: price, source: retailPricesSource(region), at: now() };
    cache.set(key, entry);
    return entry;
  }

  return {
    async estimateCost({ endpoint, instanceType, instanceCount, location }: EstimateCostInput): Promise<EstimateCostResult> {
      const region = armRegionName(location ?? 'eastus');
      let found: { hourlyUsd: number; source: string } | undefined;
      let lookupError: unknown;
      try {
        found = await unitPrice(endpoint.subscriptionId, region, instanceType);
      } catch (err) {
        lookupError = err; // API unreachable or answering garbage: fall back below
      }
      if (found) return costEstimate(found.hourlyUsd, instanceCount, found.source, false);
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
      return costEstimate(fallback, instanceCount, FALLBACK_SOURCE, true);
    },
  };
}
