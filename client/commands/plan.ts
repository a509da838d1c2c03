/** `glidepath plan validate` and `glidepath plan explain`. */
import { modelLabel, pendingAssets } from '../../domain/deployment-spec.js';
import { explain } from '../../domain/explain.js';
import type { CostEstimate } from '../../domain/gates.js';
import { formatDuration } from '../../domain/duration.js';
import { armRegionName, costEstimate, lookUpHourlyPrice, retailPricesSource } from '../../domain/prices.js';
import { AZURE_INGESTION_DELAYS, timingWarnings } from '../../domain/telemetry-timing.js';
import { DEFAULT_BASELINE_RATE, judgedStepsOf, judgeSettingsOf, latencyBaselineRates, latencyVerdictNotes, predictVerdictTimes, type VerdictTimePrediction } from '../../domain/verdict-time.js';
import { ANONYMOUS_ENVIRONMENT, describeAsset, describeEnvironment, maxAssetFileBytes, readInlineEnvironment, readLocalAssets, registerAssets, registerEnvironment, type ResolvedAsset } from '../assets.js';
import { ExitCode, InvalidInputError } from '../errors.js';
import { checkAssetsRegistered, checkPolicies, loadPlan, type LoadedPlan } from '../plan-file.js';
import type { CommandDeps, CommandOutput } from './types.js';

export interface PlanOptions {
  path: string;
  sets: string[];
}

export interface ValidateOptions extends PlanOptions {
  /** `--resolve`: read the local assets (files, bytes, hashes); upload and register them unless `dryRun`. */
  resolve?: boolean;
  dryRun?: boolean;
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
export async function planValidate(options: ValidateOptions, deps: Pick<CommandDeps, 'files'> & Partial<Pick<CommandDeps, 'assetTarget' | 'progress' | 'uploadProgress' | 'env'>>): Promise<CommandOutput> {
  const loaded = await loadPlan(options.path, options.sets, deps.files);
  checkPolicies(loaded);
  if (options.resolve) return validateResolve(loaded, options, deps);
  const { plan, source } = loaded;
  const warnings = timingWarnings(plan, AZURE_INGESTION_DELAYS);
  const lines = [`${source}: valid plan — ${plan.candidate.name} (${modelLabel(plan.candidate.deployment)}) on ${plan.target.endpoint}, ${plan.strategy.length} steps`];
  for (const w of warnings) lines.push(`warning: ${w.path}: ${w.message} (at Azure's timing)`);
  const pending = pendingAssets(plan.candidate.deployment);
  for (const p of pending) {
    const env = plan.candidate.deployment.environment;
    const imageEnv = p.what === 'environment' && typeof env === 'object' && env.image !== undefined && (typeof env.conda_file !== 'string' || p.local);
    const uploads = (p.local && (p.what === 'code' || p.what === 'model' || p.path === 'environment.build.path')) || imageEnv;
    lines.push(
      uploads
        ? `note: candidate.deployment.${p.path}: ${p.value} is ${p.local ? 'a local path' : `an inline ${p.what}`}; rollout start ${imageEnv ? 'registers it as an anonymous environment' : 'uploads and registers it'} (see plan validate --resolve --dry-run)`
        : `note: candidate.deployment.${p.path}: ${p.value} is ${p.local ? 'a local path' : `an inline ${p.what}`}; rollout start needs it registered first (not done by glidepath yet for this kind)`,
    );
  }
  return {
    exitCode: ExitCode.ok,
    text: lines.join('\n'),
    json: {
      valid: true,
      source,
      endpoint: plan.target.endpoint,
      candidate: plan.candidate.name,
      steps: plan.strategy.length,
      issues: [],
      warnings,
      pendingAssets: pending,
    },
  };
}

/**
 * `plan validate --resolve [--dry-run]`: what rollout start would upload and register (files, bytes,
 * content-hashed names), read from disk; without --dry-run it uploads and registers them and prints the
 * ARM ids (a later rollout start then uploads nothing).
 */
async function validateResolve(loaded: LoadedPlan, options: ValidateOptions, deps: Partial<Pick<CommandDeps, 'assetTarget' | 'progress' | 'uploadProgress' | 'env'>>): Promise<CommandOutput> {
  checkAssetsRegistered(loaded, { uploadsLocal: true });
  const local = await readLocalAssets(loaded.plan.candidate.deployment, loaded.baseDir, maxAssetFileBytes(deps.env ?? {}));
  const env = await readInlineEnvironment(loaded.plan.candidate.deployment, loaded.baseDir);
  let resolved: ResolvedAsset[] = [];
  let envResolved: ResolvedAsset | undefined;
  if (!options.dryRun && (local.length > 0 || env)) {
    if (!deps.assetTarget) throw new InvalidInputError(`${loaded.source}: no workspace to upload the local assets to`);
    const target = await deps.assetTarget(loaded.plan);
    resolved = await registerAssets({ ...target, ...(deps.progress ? { progress: deps.progress } : {}), ...(deps.uploadProgress ? { uploadProgress: deps.uploadProgress } : {}) }, local);
    if (env) envResolved = await registerEnvironment(target, env);
  }
  const n = local.length + (env ? 1 : 0);
  const lines = [`${loaded.source}: valid plan — ${n === 0 ? 'no local assets to upload' : `${n} asset${n === 1 ? '' : 's'} to upload or register${options.dryRun ? ' (dry run: nothing uploaded or registered)' : ''}`}`];
  lines.push(...local.map((a, i) => describeAsset(a, resolved[i])));
  if (env) lines.push(describeEnvironment(env, envResolved));
  const json = {
    valid: true,
    source: loaded.source,
    dryRun: Boolean(options.dryRun),
    assets: local.map((a, i) => ({ path: a.path, written: a.written, what: a.what, files: a.files.map((f) => ({ path: f.rel, bytes: f.size })), bytes: a.bytes, hash: a.hash, ...(a.name ? { name: a.name, version: a.version ?? '1' } : {}), ...(resolved[i] ? { id: resolved[i].id, reused: resolved[i].reused, bytesUploaded: resolved[i].bytesUploaded } : {}) })),
    ...(env ? { environment: { name: ANONYMOUS_ENVIRONMENT, version: env.version, image: env.image, ...(envResolved ? { id: envResolved.id, reused: envResolved.reused } : {}) } } : {}),
  };
  return { exitCode: ExitCode.ok, text: lines.join('\n'), json };
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
