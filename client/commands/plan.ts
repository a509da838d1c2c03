/** `glidepath plan validate` and `glidepath plan explain`. */
import { explain } from '../../domain/explain.js';
import type { CostEstimate } from '../../domain/gates.js';
import { formatDuration } from '../../domain/duration.js';
import { ExitCode } from '../errors.js';
import { loadPlan } from '../plan-file.js';
import type { CommandDeps, CommandOutput } from './types.js';

export interface PlanOptions {
  path: string;
  sets: string[];
}

export interface ExplainOptions extends PlanOptions {
  /** Azure region to price the candidate in (default eastus). */
  region: string;
  /** The Retail Prices API (default https://prices.azure.com/api/retail/prices); null skips the estimate. */
  pricesUrl: string | null;
}

const HOURS_PER_MONTH = 730;

/** The candidate's Linux pay-as-you-go price per instance-hour from the (public) Azure Retail Prices API. */
export async function fetchHourlyPrice(args: { pricesUrl: string; region: string; instanceType: string; fetch: typeof fetch }): Promise<number> {
  const filter = `serviceName eq 'Virtual Machines' and armRegionName eq '${args.region}' and armSkuName eq '${args.instanceType}' and priceType eq 'Consumption'`;
  const url = `${args.pricesUrl}?$filter=${encodeURIComponent(filter)}`;
  const res = await args.fetch(url, { signal: AbortSignal.timeout(4000) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const body = (await res.json()) as { Items?: { retailPrice?: number; productName?: string; meterName?: string }[] };
  const rows = (body.Items ?? []).filter((i) => typeof i.retailPrice === 'number' && !/Windows$/.test(i.productName ?? '') && !/Spot|Low Priority/i.test(i.meterName ?? ''));
  if (rows.length === 0) throw new Error(`no Linux price for ${args.instanceType} in ${args.region}`);
  return Math.min(...rows.map((r) => r.retailPrice!));
}

/** Validates a plan: 0 when valid; an invalid plan throws InvalidInputError listing every issue with its path. */
export async function planValidate(options: PlanOptions, deps: Pick<CommandDeps, 'files'>): Promise<CommandOutput> {
  const { plan, source } = await loadPlan(options.path, options.sets, deps.files);
  return {
    exitCode: ExitCode.ok,
    text: `${source}: valid plan — ${plan.candidate.name} (${plan.candidate.deployment.model}) on ${plan.target.endpoint}, ${plan.strategy.length} steps`,
    json: { valid: true, source, endpoint: plan.target.endpoint, candidate: plan.candidate.name, steps: plan.strategy.length, issues: [] },
  };
}

/** Explains a plan: timeline, traffic per step, worst-case duration, and the cost budget (estimates come from the rollout's cost check). */
export async function planExplain(options: ExplainOptions, deps: Pick<CommandDeps, 'files' | 'fetch'>): Promise<CommandOutput> {
  const { plan, source } = await loadPlan(options.path, options.sets, deps.files);
  const spec = plan.candidate.deployment;
  let cost: CostEstimate | null = null;
  let costNote: string;
  if (options.pricesUrl) {
    try {
      const hourly = spec.instance_count * (await fetchHourlyPrice({ pricesUrl: options.pricesUrl, region: options.region, instanceType: spec.instance_type, fetch: deps.fetch }));
      cost = { hourlyUsd: hourly, monthlyUsd: hourly * HOURS_PER_MONTH, fallback: false, source: `retail-prices:${options.region}` };
      costNote = `Cost estimate: ${spec.instance_count} × ${spec.instance_type} in ${options.region} ≈ $${hourly.toFixed(2)}/hour, $${(hourly * HOURS_PER_MONTH).toFixed(2)}/month (Azure retail price, Linux pay-as-you-go).`;
    } catch (err) {
      costNote = `Cost estimate: unavailable (${(err as Error).message}); the rollout's cost check prices ${spec.instance_count} × ${spec.instance_type} when it runs.`;
    }
  } else {
    costNote = `Cost estimate: skipped (--no-prices); the rollout's cost check prices ${spec.instance_count} × ${spec.instance_type} when it runs.`;
  }
  const x = explain(plan, cost ? { cost: { candidate: cost } } : {});
  const text = [x.text, costNote, `Deadline: ${formatDuration(plan.deadlineMs)}.`].join('\n');
  return { exitCode: ExitCode.ok, text, json: { source, ...x, cost } };
}
