/**
 * `getMetricsSnapshot`: the baseline's and the candidate's request counts, 5xx and 424 rates, latency
 * percentiles, CPU and memory over one window, from Azure Monitor platform metrics.
 *
 * Four queries per snapshot, the fewest the metrics API allows for these figures: the endpoint's
 * `RequestsPerMinute` split by deployment and status code; the endpoint's latency percentiles split by
 * deployment (a filter applies to every metric of a query, and latency has no status dimension); and
 * CPU and memory of each deployment (resource metrics live on the deployment resource). The window ends
 * `ingestionDelayMs` before now, because Azure Monitor shows the last minutes only partially.
 */
import type { MetricsQueryResult, TimeSeriesElement } from '@azure/monitor-query';
import { Context } from '@temporalio/activity';
import { ErrorType } from '../domain/errors.js';
import type { DeploymentMetrics } from '../domain/gates.js';
import { endpointResourceId, type EndpointRef } from '../domain/ids.js';
import type { AzureClientFactory } from './azure-clients.js';
import { failure, statusOf } from './failures.js';
import type { GetMetricsSnapshotInput, GetMetricsSnapshotResult } from './types.js';

export interface MetricsOptions {
  /** How long Azure Monitor takes to show a minute of data; the window ends this long before now. */
  ingestionDelayMs: number;
  now?: () => number;
}

const ENDPOINT_NS = 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints';
const DEPLOYMENT_NS = 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments';

function dimension(series: TimeSeriesElement, name: string): string | undefined {
  return series.metadataValues?.find((m) => m.name?.toLowerCase() === name.toLowerCase())?.value;
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
function requestCounts(result: MetricsQueryResult): Map<string, { total: number; errors5xx: number; errors424: number }> {
  const out = new Map<string, { total: number; errors5xx: number; errors424: number }>();
  for (const metric of result.metrics) {
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
function latencies(result: MetricsQueryResult): Map<string, Record<string, number | null>> {
  const out = new Map<string, Record<string, number | null>>();
  for (const metric of result.metrics) {
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

function resourceAverages(result: MetricsQueryResult): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const metric of result.metrics) {
    const all = metric.timeseries.flatMap((s) => s.data ?? []);
    out[metric.name] = meanPoints(all);
  }
  return out;
}

/** The metrics activity, bound to one client factory. */
export function createMetricsActivities(factory: AzureClientFactory, opts: MetricsOptions) {
  const now = opts.now ?? Date.now;

  async function query(ref: EndpointRef, what: string, fn: () => Promise<MetricsQueryResult>): Promise<MetricsQueryResult> {
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

  return {
    async getMetricsSnapshot({ endpoint: ref, baseline, candidate, windowMs }: GetMetricsSnapshotInput): Promise<GetMetricsSnapshotResult> {
      const { metrics } = factory.forSubscription(ref.subscriptionId);
      const endMs = now() - opts.ingestionDelayMs;
      const timespan = { startTime: new Date(endMs - windowMs), endTime: new Date(endMs) };
      const endpointId = endpointResourceId(ref);
      const signal = (() => {
        try {
          return Context.current().cancellationSignal;
        } catch {
          return undefined;
        }
      })();
      const common = { granularity: 'FULL', timespan, top: 100, abortSignal: signal } as const;

      const requests = await query(ref, 'request counts', () =>
        metrics.queryResource(endpointId, ['RequestsPerMinute'], {
          ...common,
          aggregations: ['Total'],
          filter: "deployment eq '*' and statusCode eq '*'",
          metricNamespace: ENDPOINT_NS,
        }),
      );
      const latency = await query(ref, 'latency', () =>
        metrics.queryResource(endpointId, ['RequestLatency_P50', 'RequestLatency_P95', 'RequestLatency_P99'], {
          ...common,
          aggregations: ['Average'],
          filter: "deployment eq '*'",
          metricNamespace: ENDPOINT_NS,
        }),
      );
      const resources = async (deployment: string) =>
        resourceAverages(
          await query(ref, `CPU and memory of '${deployment}'`, () =>
            metrics.queryResource(`${endpointId}/deployments/${deployment}`, ['CpuUtilizationPercentage', 'CpuMemoryUtilizationPercentage'], {
              ...common,
              aggregations: ['Average'],
              metricNamespace: DEPLOYMENT_NS,
            }),
          ),
        );

      const counts = requestCounts(requests);
      const lat = latencies(latency);
      const forDeployment = async (name: string): Promise<DeploymentMetrics | null> => {
        const c = counts.get(name);
        if (!c || c.total === 0) return null; // no data: the gates call this inconclusive, never a pass
        const l = lat.get(name) ?? {};
        const r = await resources(name);
        return {
          requests: c.total,
          errorRate: c.errors5xx / c.total,
          modelErrorRate: c.errors424 / c.total,
          latencyP50Ms: l.RequestLatency_P50 ?? null,
          latencyP95Ms: l.RequestLatency_P95 ?? null,
          latencyP99Ms: l.RequestLatency_P99 ?? null,
          cpuPercent: r.CpuUtilizationPercentage ?? null,
          memoryPercent: r.CpuMemoryUtilizationPercentage ?? null,
        };
      };
      return { windowMs, endMs, baseline: await forDeployment(baseline), candidate: await forDeployment(candidate) };
    },
  };
}
