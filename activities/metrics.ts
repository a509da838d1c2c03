/**
 * `getMetricsSnapshot`: the baseline's and the candidate's request counts, 5xx and 424 rates, latency
 * percentiles, CPU and memory over one window, from Azure Monitor platform metrics — and, when the plan
 * names a Log Analytics workspace, per-request evidence from `AmlOnlineEndpointTrafficLog`.
 *
 * Metrics go through `MetricsClient` (`@azure/monitor-query-metrics`), the regional batch API: three
 * calls per snapshot, the fewest it allows (a batch holds one namespace, and a filter applies to every
 * metric of a call): the endpoint's `RequestsPerMinute` split by deployment and status code; its latency
 * percentiles split by deployment (latency has no status dimension); CPU and memory of both deployments
 * in one batch (resource metrics live on the deployment resources).
 *
 * The traffic log goes through `LogsQueryClient` (`@azure/monitor-query-logs`): two queries in one batch
 * request, because KQL summarizes once per grouping — percentiles and exceedance counts per deployment,
 * counts per (deployment, status, model status). A failed or partial answer does not fail the activity:
 * the snapshot says why (`logsProblem`) and the gates call the analysis inconclusive.
 *
 * The window ends an ingestion delay before now (the later of the two sources when both are read),
 * because Azure Monitor shows the last minutes only partially (domain/telemetry-timing.ts).
 */
import type { LogsQueryBatchResult, LogsTable } from '@azure/monitor-query-logs';
import type { MetricsQueryResult, TimeSeriesElement } from '@azure/monitor-query-metrics';
import { Context } from '@temporalio/activity';
import { ErrorType } from '../domain/errors.js';
import type { DeploymentLogEvidence, DeploymentMetrics } from '../domain/gates.js';
import { endpointResourceId, type EndpointRef } from '../domain/ids.js';
import type { LogsSettings } from '../domain/plan.js';
import { analysisDelayMs, type IngestionDelays } from '../domain/telemetry-timing.js';
import type { AzureClientFactory } from './azure-clients.js';
import { failure, statusOf } from './failures.js';
import type { GetMetricsSnapshotInput, GetMetricsSnapshotResult } from './types.js';

export interface MetricsOptions {
  /** How long Azure Monitor takes to show metrics and logs; the window ends this long before now. */
  delays: IngestionDelays;
  now?: () => number;
}

const ENDPOINT_NS = 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints';
const DEPLOYMENT_NS = 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments';

function dimension(series: TimeSeriesElement, name: string): string | undefined {
  return series.metadatavalues?.find((m) => m.name?.toLowerCase() === name.toLowerCase())?.value;
}

type Aggregation = 'total' | 'average';
function sumPoints(points: { total?: number; average?: number }[] | undefined, agg: Aggregation): number | null {
  const values = (points ?? []).map((p) => p[agg]).filter((v): v is number => typeof v === 'number');
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0);
}
function meanPoints(points: { average?: number }[] | undefined): number | null {
  const values = (points ?? []).map((p) => p.average).filter((v): v is number => typeof v === 'number');
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Per-deployment counts from `RequestsPerMinute` split by deployment and statusCode. */
function requestCounts(result: MetricsQueryResult | undefined): Map<string, { total: number; errors5xx: number; errors424: number }> {
  const out = new Map<string, { total: number; errors5xx: number; errors424: number }>();
  for (const metric of result?.metrics ?? []) {
    for (const series of metric.timeseries) {
      const deployment = dimension(series, 'deployment');
      if (!deployment) continue;
      const code = Number(dimension(series, 'statusCode'));
      const count = sumPoints(series.data, 'total') ?? 0;
      const entry = out.get(deployment) ?? { total: 0, errors5xx: 0, errors424: 0 };
      entry.total += count;
      if (code >= 500 && code <= 599) entry.errors5xx += count;
      if (code === 424) entry.errors424 += count;
      out.set(deployment, entry);
    }
  }
  return out;
}

/** Per-deployment latency percentiles from the endpoint's `RequestLatency_P*` metrics split by deployment. */
function latencies(result: MetricsQueryResult | undefined): Map<string, Record<string, number | null>> {
  const out = new Map<string, Record<string, number | null>>();
  for (const metric of result?.metrics ?? []) {
    for (const series of metric.timeseries) {
      const deployment = dimension(series, 'deployment');
      if (!deployment) continue;
      const entry = out.get(deployment) ?? {};
      entry[metric.name] = meanPoints(series.data);
      out.set(deployment, entry);
    }
  }
  return out;
}

function resourceAverages(result: MetricsQueryResult | undefined): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const metric of result?.metrics ?? []) {
    const all = metric.timeseries.flatMap((s) => s.data ?? []);
    out[metric.name] = meanPoints(all);
  }
  return out;
}

// ───────────────────────────── the traffic log ─────────────────────────────

/** The two KQL queries of one analysis. Names are Azure names (letters, digits, dashes), safe in a string literal. */
export function trafficLogQueries(args: {
  endpoint: string;
  deployments: readonly string[];
  startMs: number;
  endMs: number;
  logs: Pick<LogsSettings, 'where' | 'exceedanceMs'>;
  /** The judge's thresholds (ms, fractional allowed): counted as judge_0, judge_1, … */
  judgeExceedanceMs?: readonly number[];
}): { evidence: string; statuses: string } {
  const iso = (ms: number) => new Date(ms).toISOString();
  const head = [
    'AmlOnlineEndpointTrafficLog',
    `| where TimeGenerated >= datetime(${iso(args.startMs)}) and TimeGenerated < datetime(${iso(args.endMs)})`,
    `| where EndpointName == "${args.endpoint}" and DeploymentName in (${args.deployments.map((d) => `"${d}"`).join(', ')})`,
    ...(args.logs.where ? [`| where (${args.logs.where})`] : []),
  ];
  const above = args.logs.exceedanceMs.map((ms) => `above_${ms} = countif(TotalDurationMs > ${ms})`);
  const judged = (args.judgeExceedanceMs ?? []).map((ms, i) => `judge_${i} = countif(TotalDurationMs > ${kqlNumber(ms)})`);
  return {
    evidence: [...head, `| summarize ${['requests = count()', ...above, ...judged, 'percentiles(TotalDurationMs, 50, 95, 99)'].join(', ')} by DeploymentName`].join('\n'),
    statuses: [...head, '| summarize requests = count() by DeploymentName, ResponseCode, ModelStatusCode'].join('\n'),
  };
}

/** A threshold as a KQL real literal (finite, ≥ 0; refused otherwise: it is spliced into the query). */
function kqlNumber(ms: number): string {
  if (!(Number.isFinite(ms) && ms >= 0)) throw failure(ErrorType.MetricsUnavailable, `judge threshold ${String(ms)} is not a latency in ms`, { nonRetryable: true });
  const text = String(ms);
  return /^\d+(\.\d+)?$/.test(text) ? text : ms.toFixed(6);
}

/** Cells of a result table by column name. */
function records(table: LogsTable | undefined): Record<string, unknown>[] {
  if (!table) return [];
  const names = table.columnDescriptors.map((c) => c.name ?? '');
  return table.rows.map((row) => Object.fromEntries(names.map((n, i) => [n, row[i]])));
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Per-deployment evidence from the two tables, or the reason it is not whole. */
export function logEvidence(
  batch: LogsQueryBatchResult,
  deployments: readonly string[],
  exceedanceMs: readonly number[],
  judgeExceedanceMs: readonly number[] = [],
): { evidence: Map<string, DeploymentLogEvidence>; problem?: string } {
  const problems: string[] = [];
  const tables = batch.map((r, i) => {
    const which = i === 0 ? 'percentiles and exceedances' : 'counts by status';
    if (r.status === 'Success') return r.tables[0];
    if (r.status === 'PartialFailure') {
      problems.push(`partial result for ${which} (${r.partialError.code}: ${r.partialError.message})`);
      return undefined;
    }
    problems.push(`query for ${which} failed (${r.code}: ${r.message})`);
    return undefined;
  });
  const evidence = new Map<string, DeploymentLogEvidence>();
  for (const d of deployments) {
    evidence.set(d, {
      requests: 0,
      byStatus: {},
      byModelStatus: {},
      exceedances: exceedanceMs.map((aboveMs) => ({ aboveMs, count: 0 })),
      ...(judgeExceedanceMs.length ? { judgeExceedances: judgeExceedanceMs.map((aboveMs) => ({ aboveMs, count: 0 })) } : {}),
      latencyMs: { p50: null, p95: null, p99: null },
    });
  }
  for (const row of records(tables[0])) {
    const e = evidence.get(String(row.DeploymentName));
    if (!e) continue;
    e.requests = num(row.requests) ?? 0;
    e.exceedances = exceedanceMs.map((aboveMs) => ({ aboveMs, count: num(row[`above_${aboveMs}`]) ?? 0 }));
    if (judgeExceedanceMs.length) e.judgeExceedances = judgeExceedanceMs.map((aboveMs, i) => ({ aboveMs, count: num(row[`judge_${i}`]) ?? 0 }));
    e.latencyMs = {
      p50: num(row.percentile_TotalDurationMs_50),
      p95: num(row.percentile_TotalDurationMs_95),
      p99: num(row.percentile_TotalDurationMs_99),
    };
  }
  for (const row of records(tables[1])) {
    const e = evidence.get(String(row.DeploymentName));
    const n = num(row.requests);
    if (!e || n === null) continue;
    const status = String(row.ResponseCode);
    const model = row.ModelStatusCode === null || row.ModelStatusCode === undefined ? 'none' : String(row.ModelStatusCode);
    e.byStatus[status] = (e.byStatus[status] ?? 0) + n;
    e.byModelStatus[model] = (e.byModelStatus[model] ?? 0) + n;
  }
  return problems.length ? { evidence, problem: problems.join('; ') } : { evidence };
}

// ───────────────────────────── the activity ─────────────────────────────

/** The metrics activity, bound to one client factory. */
export function createMetricsActivities(factory: AzureClientFactory, opts: MetricsOptions) {
  const now = opts.now ?? Date.now;
  /** Endpoint → Azure region, read once per endpoint per worker (metrics are served by the region's endpoint). */
  const regions = new Map<string, string>();

  async function query<T>(ref: EndpointRef, what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const status = statusOf(err);
      throw failure(ErrorType.MetricsUnavailable, `querying ${what} of '${ref.endpoint}' failed${status ? ` (HTTP ${status})` : ''}: ${(err as Error).message}`, {
        cause: err,
        nonRetryable: status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429,
      });
    }
  }

  async function regionOf(ref: EndpointRef): Promise<string> {
    const id = endpointResourceId(ref).toLowerCase();
    const known = regions.get(id);
    if (known) return known;
    const { ml } = factory.forSubscription(ref.subscriptionId);
    const ep = await query(ref, 'the region', () => ml.onlineEndpoints.get(ref.resourceGroup, ref.workspace, ref.endpoint));
    const region = ep.location.toLowerCase().replace(/\s+/g, '');
    regions.set(id, region);
    return region;
  }

  async function readLogs(
    ref: EndpointRef,
    logs: LogsSettings,
    judgeExceedanceMs: readonly number[],
    deployments: readonly string[],
    startMs: number,
    endMs: number,
    signal: AbortSignal | undefined,
  ): Promise<{ evidence: Map<string, DeploymentLogEvidence>; problem?: string }> {
    const { logs: client } = factory.forSubscription(ref.subscriptionId);
    const q = trafficLogQueries({ endpoint: ref.endpoint, deployments, startMs, endMs, logs, judgeExceedanceMs });
    const timespan = { startTime: new Date(startMs), endTime: new Date(endMs) };
    try {
      const batch = await client.queryBatch(
        [
          { workspaceId: logs.workspaceId, query: q.evidence, timespan },
          { workspaceId: logs.workspaceId, query: q.statuses, timespan },
        ],
        { abortSignal: signal },
      );
      return logEvidence(batch, deployments, logs.exceedanceMs, judgeExceedanceMs);
    } catch (err) {
      if (signal?.aborted) throw err;
      const status = statusOf(err);
      const code = (err as { code?: string }).code;
      return {
        evidence: new Map(),
        problem: `could not query workspace ${logs.workspaceId}${status ? ` (HTTP ${status}${code ? ` ${code}` : ''})` : ''}: ${(err as Error).message}`,
      };
    }
  }

  return {
    async getMetricsSnapshot({ endpoint: ref, baseline, candidate, windowMs, logs, judgeExceedanceMs }: GetMetricsSnapshotInput): Promise<GetMetricsSnapshotResult> {
      const endMs = now() - analysisDelayMs(opts.delays, logs !== undefined);
      const startMs = endMs - windowMs;
      const endpointId = endpointResourceId(ref);
      const signal = (() => {
        try {
          return Context.current().cancellationSignal;
        } catch {
          return undefined;
        }
      })();
      const metrics = factory.forSubscription(ref.subscriptionId).metricsIn(await regionOf(ref));
      const common = { startTime: new Date(startMs), endTime: new Date(endMs), interval: 'FULL', top: 100, requestOptions: {}, abortSignal: signal };

      const logsRead = logs ? readLogs(ref, logs, judgeExceedanceMs ?? [], [baseline, candidate], startMs, endMs, signal) : undefined;
      // When a metrics query below throws first (a cancelled analysis aborts both reads), nobody awaits the
      // log read: its rejection must not go unhandled, which would end the worker process.
      logsRead?.catch(() => undefined);
      const [requests] = await query(ref, 'request counts', () =>
        metrics.queryResources([endpointId], ['RequestsPerMinute'], ENDPOINT_NS, { ...common, aggregation: 'Total', filter: "deployment eq '*' and statusCode eq '*'" }),
      );
      const [latency] = await query(ref, 'latency', () =>
        metrics.queryResources([endpointId], ['RequestLatency_P50', 'RequestLatency_P95', 'RequestLatency_P99'], ENDPOINT_NS, {
          ...common,
          aggregation: 'Average',
          filter: "deployment eq '*'",
        }),
      );
      const deploymentIds = [baseline, candidate].map((d) => `${endpointId}/deployments/${d}`);
      const resources = await query(ref, `CPU and memory of '${baseline}' and '${candidate}'`, () =>
        metrics.queryResources(deploymentIds, ['CpuUtilizationPercentage', 'CpuMemoryUtilizationPercentage'], DEPLOYMENT_NS, { ...common, aggregation: 'Average' }),
      );
      const log = logsRead ? await logsRead : undefined;

      const counts = requestCounts(requests);
      const lat = latencies(latency);
      const forDeployment = (name: string, i: number): DeploymentMetrics | null => {
        const c = counts.get(name);
        if (!c || c.total === 0) return null; // no data: the gates call this inconclusive, never a pass
        const l = lat.get(name) ?? {};
        const r = resourceAverages(resources.find((x) => x.resourceId?.toLowerCase() === deploymentIds[i]?.toLowerCase()) ?? resources[i]);
        const evidence = log?.evidence.get(name);
        return {
          requests: c.total,
          errorRate: c.errors5xx / c.total,
          modelErrorRate: c.errors424 / c.total,
          errors5xx: c.errors5xx,
          errors424: c.errors424,
          latencyP50Ms: l.RequestLatency_P50 ?? null,
          latencyP95Ms: l.RequestLatency_P95 ?? null,
          latencyP99Ms: l.RequestLatency_P99 ?? null,
          cpuPercent: r.CpuUtilizationPercentage ?? null,
          memoryPercent: r.CpuMemoryUtilizationPercentage ?? null,
          ...(evidence ? { log: evidence } : {}),
        };
      };
      return {
        windowMs,
        endMs,
        baseline: forDeployment(baseline, 0),
        candidate: forDeployment(candidate, 1),
        ...(log?.problem !== undefined ? { logsProblem: log.problem } : {}),
      };
    },
  };
}
