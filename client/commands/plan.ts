/** `glidepath plan validate` and `glidepath plan explain`. */
import { explain } from '../../domain/explain.js';
import type { CostEstimate } from '../../domain/gates.js';
import { formatDuration } from '../../domain/duration.js';
import { armRegionName, costEstimate, lookUpHourlyPrice, retailPricesSource } from '../../domain/prices.js';
import { AZURE_INGESTION_DELAYS, timingWarnings } from '../../domain/telemetry-timing.js';
import { DEFAULT_BASELINE_RATE, judgedStepsOf, judgeSettingsOf, latencyBaselineRates, latencyVerdictNotes, predictVerdictTimes, type VerdictTimePrediction } from '../../domain/verdict-time.js';
import { ExitCode } from '../errors.js';
import { checkPolicies, loadPlan } from '../plan-file.js';
import type { CommandDeps, CommandOutput } from './types.js';

export interface PlanOptions {
  path: string;
  sets: string[];
}

export interface ExplainOptions extends PlanOptions {
  /** Azure region to price the candidate in (default eastus). */
  region: string;
  /** The Retail Prices API (default: the public one, DEFAULT_PRICES_URL in domain/prices.ts); null skips the estimate. */
  pricesUrl: string | null;
  /** `--rps`: requests/s to the endpoint, to predict the time to a verdict of each judged gate (validated by the CLI). */
  rps?: number;
  /** `--baseline-rate`: the baseline's event rate assumed for every judged gate (default 1%). */
  baselineRate?: number;
}

/**
 * The candidate's Linux pay-as-you-go price per instance-hour, looked up by domain/prices.ts through
 * `fetch` (4 s per page: explaining a plan should not hang on the network); throws when there is none.
 */
async function hourlyPrice(args: { pricesUrl: string; region: string; instanceType: string; fetch: typeof fetch }): Promise<number> {
  const getPage = async (url: string): Promise<unknown> => {
    const res = await args.fetch(url, { signal: AbortSignal.timeout(4000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return (await res.json()) as unknown;
  };
  const price = await lookUpHourlyPrice(getPage, { baseUrl: args.pricesUrl, region: args.region, instanceType: args.instanceType });
  if (price === undefined) throw new Error(`no Linux price for ${args.instanceType} in ${args.region}`);
  return price;
}

/**
 * Validates a plan: 0 when valid; an invalid plan, or a candidate that breaks the plan's policies (the
 * preflight checks), throws InvalidInputError listing every issue with its path. A valid plan whose
 * interval or bakes are too short to judge at Azure Monitor's timing gets warnings (still exit 0).
 */
export async function planValidate(options: PlanOptions, deps: Pick<CommandDeps, 'files'>): Promise<CommandOutput> {
  const loaded = await loadPlan(options.path, options.sets, deps.files);
  checkPolicies(loaded);
  const { plan, source } = loaded;
  const warnings = timingWarnings(plan, AZURE_INGESTION_DELAYS);
  const lines = [`${source}: valid plan — ${plan.candidate.name} (${plan.candidate.deployment.model}) on ${plan.target.endpoint}, ${plan.strategy.length} steps`];
  for (const w of warnings) lines.push(`warning: ${w.path}: ${w.message} (at Azure's timing)`);
  return {
    exitCode: ExitCode.ok,
    text: lines.join('\n'),
    json: { valid: true, source, endpoint: plan.target.endpoint, candidate: plan.candidate.name, steps: plan.strategy.length, issues: [], warnings },
  };
}

/**
 * Explains a plan: timeline, traffic per step, worst-case duration, and the candidate's cost at retail
 * prices (from the Retail Prices API unless `pricesUrl` is null; without it the rollout's cost check
 * prices it when it runs).
 */
export async function planExplain(options: ExplainOptions, deps: Pick<CommandDeps, 'files' | 'fetch'>): Promise<CommandOutput> {
  const { plan, source } = await loadPlan(options.path, options.sets, deps.files);
  const spec = plan.candidate.deployment;
  const region = armRegionName(options.region);
  let cost: CostEstimate | null = null;
  let costNote: string;
  if (options.pricesUrl) {
    try {
      const unit = await hourlyPrice({ pricesUrl: options.pricesUrl, region, instanceType: spec.instance_type, fetch: deps.fetch });
      cost = costEstimate(unit, spec.instance_count, retailPricesSource(region), false);
      costNote = `Cost estimate: ${spec.instance_count} × ${spec.instance_type} in ${region} ≈ $${cost.hourlyUsd.toFixed(2)}/hour, $${cost.monthlyUsd.toFixed(2)}/month (Azure retail price, Linux pay-as-you-go).`;
    } catch (err) {
      costNote = `Cost estimate: unavailable (${(err as Error).message}); the rollout's cost check prices ${spec.instance_count} × ${spec.instance_type} when it runs.`;
    }
  } else {
    costNote = `Cost estimate: skipped (--no-prices); the rollout's cost check prices ${spec.instance_count} × ${spec.instance_type} when it runs.`;
  }
  const x = explain(plan, cost ? { cost: { candidate: cost } } : {});
  // Time to a verdict: only for plans whose gates the judge decides (none on plans without tolerances).
  const settings = options.rps === undefined ? null : judgeSettingsOf(plan);
  const verdictTimes: VerdictTimePrediction | null =
    settings && options.rps !== undefined
      ? predictVerdictTimes(settings, judgedStepsOf(plan), {
          rps: options.rps,
          intervalMs: plan.analysis.intervalMs,
          gateCount: settings.gateCount,
          baselineRate: Object.fromEntries(settings.gates.map((g) => [g.name, latencyBaselineRates(plan)[g.name] ?? options.baselineRate ?? DEFAULT_BASELINE_RATE])),
        })
      : null;
  const latencyNotes = options.rps === undefined ? [] : latencyVerdictNotes(plan);
  const text = [x.text, costNote, `Deadline: ${formatDuration(plan.deadlineMs)}.`, ...(verdictTimes ? [verdictTimes.text] : []), ...latencyNotes].join('\n');
  return { exitCode: ExitCode.ok, text, json: { source, ...x, cost, ...(verdictTimes ? { verdictTimes } : {}) } };
}
