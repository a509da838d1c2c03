// Azure Monitor metrics computed from what the emulator actually served: every scoring request is
// recorded (deployment, status, measured latency), every model call's measured compute time is recorded
// as busy time of its deployment, and worker heap samples give memory. Queries aggregate those records
// the way `GET <resourceId>/providers/Microsoft.Insights/metrics` does (reference §4).
import { ArmError } from './http.js';
import { parseIsoDuration } from './validation.js';

/** One scoring request as the emulator served it (mirrored copies included, flagged). */
export interface ScoreRecord {
  /** Epoch ms when the answer was finished. */
  time: number;
  requestId: string;
  endpoint: string;
  /** Deployment that answered ('' when none did: 401, 404, …). */
  deployment: string;
  statusCode: number;
  /** What the model container returned (200, or the model's error status behind a 424); undefined if no model ran. */
  modelStatusCode?: number;
  /** Measured wall time from request received to answer written. */
  latencyMs: number;
  mirrored: boolean;
  pinned: boolean;
  requestBytes: number;
  responseBytes: number;
}

interface Sample {
  time: number;
  key: string; // `${endpoint}/${deployment}` lower-cased
  value: number;
}

const MAX_RECORDS = 400_000;
const MINUTE = 60_000;

function trim<T>(list: T[]): void {
  if (list.length > MAX_RECORDS) list.splice(0, list.length - MAX_RECORDS);
}

/** Everything measured, kept in memory (bounded). */
export class MetricsStore {
  readonly records: ScoreRecord[] = [];
  private readonly busy: Sample[] = [];
  private readonly memory: Sample[] = [];
  private readonly capacity: Sample[] = [];

  addRecord(r: ScoreRecord): void {
    this.records.push(r);
    trim(this.records);
  }
  addBusy(key: string, ms: number, time = Date.now()): void {
    this.busy.push({ time, key, value: ms });
    trim(this.busy);
  }
  addMemory(key: string, percent: number, time = Date.now()): void {
    this.memory.push({ time, key, value: percent });
    trim(this.memory);
  }
  /** Records the deployment's instance count from `time` on (0 once deleted). */
  setCapacity(key: string, capacity: number, time = Date.now()): void {
    this.capacity.push({ time, key, value: capacity });
  }
  capacityAt(key: string, time: number): number | undefined {
    let v: number | undefined;
    for (const s of this.capacity) if (s.key === key && s.time <= time) v = s.value;
    return v;
  }
  existedAt(key: string): { from: number; to: number } | undefined {
    const own = this.capacity.filter((s) => s.key === key);
    const first = own[0];
    if (!first) return undefined;
    const last = own[own.length - 1];
    return { from: first.time, to: last && last.value === 0 ? last.time : Number.POSITIVE_INFINITY };
  }
  busyIn(key: string, from: number, to: number): number {
    let ms = 0;
    for (const s of this.busy) if (s.key === key && s.time >= from && s.time < to) ms += s.value;
    return ms;
  }
  memoryIn(key: string, from: number, to: number): number[] {
    return this.memory.filter((s) => s.key === key && s.time >= from && s.time < to).map((s) => s.value);
  }
}

type Agg = 'average' | 'total' | 'count' | 'minimum' | 'maximum';
const AGGS: Record<string, Agg> = { average: 'average', avg: 'average', total: 'total', sum: 'total', count: 'count', minimum: 'minimum', min: 'minimum', maximum: 'maximum', max: 'maximum' };

type Kind = 'requests' | 'latency' | 'percentile' | 'cpu' | 'memory' | 'capacity' | 'bytes';
interface MetricDef {
  name: string;
  unit: string;
  kind: Kind;
  percentile?: number;
  dimensions: string[];
  description: string;
  aggregations: Agg[];
}

const PCT = (n: number, scope: string): MetricDef => ({
  name: `RequestLatency_P${n}`,
  unit: 'Milliseconds',
  kind: 'percentile',
  percentile: n,
  dimensions: scope === 'endpoint' ? ['deployment'] : [],
  description: `The P${n} of the request latency (time to answer) within the time grain.`,
  aggregations: ['average'],
});

const ENDPOINT_METRICS: MetricDef[] = [
  {
    name: 'RequestsPerMinute',
    unit: 'Count',
    kind: 'requests',
    dimensions: ['deployment', 'statusCode', 'statusCodeClass', 'modelStatusCode'],
    description: 'The number of requests sent to the online endpoint within a minute.',
    aggregations: ['average'],
  },
  {
    name: 'RequestLatency',
    unit: 'Milliseconds',
    kind: 'latency',
    dimensions: ['deployment'],
    description: 'The complete interval of time taken for a request to be responded.',
    aggregations: ['average'],
  },
  PCT(50, 'endpoint'),
  PCT(90, 'endpoint'),
  PCT(95, 'endpoint'),
  PCT(99, 'endpoint'),
  { name: 'NetworkBytes', unit: 'BytesPerSecond', kind: 'bytes', dimensions: [], description: 'The bytes per second served for the endpoint.', aggregations: ['average'] },
];

const DEPLOYMENT_METRICS: MetricDef[] = [
  {
    name: 'CpuUtilizationPercentage',
    unit: 'Percent',
    kind: 'cpu',
    dimensions: ['instanceId'],
    description: 'Busy time of the deployment’s model container over the time grain.',
    aggregations: ['minimum', 'maximum', 'average'],
  },
  {
    name: 'CpuMemoryUtilizationPercentage',
    unit: 'Percent',
    kind: 'memory',
    dimensions: ['instanceId'],
    description: 'Heap held by the deployment’s model container over its memory limit.',
    aggregations: ['minimum', 'maximum', 'average'],
  },
  {
    name: 'DeploymentCapacity',
    unit: 'Count',
    kind: 'capacity',
    dimensions: ['instanceId', 'State'],
    description: 'The number of instances in the deployment.',
    aggregations: ['minimum', 'maximum', 'average'],
  },
  {
    name: 'RequestsPerMinute',
    unit: 'Count',
    kind: 'requests',
    dimensions: ['envoy_response_code'],
    description: 'The number of requests sent to the online deployment within a minute.',
    aggregations: ['average'],
  },
  PCT(50, 'deployment'),
  PCT(90, 'deployment'),
  PCT(95, 'deployment'),
  PCT(99, 'deployment'),
];

export const ENDPOINT_NAMESPACE = 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints';
export const DEPLOYMENT_NAMESPACE = 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments';

export interface MetricsScope {
  resourceId: string; // as the caller spelled it, without the leading double slash
  endpoint: string;
  deployment?: string;
  region: string;
}

const INTERVALS: Record<string, number> = {
  PT1M: MINUTE,
  PT5M: 5 * MINUTE,
  PT15M: 15 * MINUTE,
  PT30M: 30 * MINUTE,
  PT1H: 60 * MINUTE,
  PT6H: 360 * MINUTE,
  PT12H: 720 * MINUTE,
  P1D: 1440 * MINUTE,
};

function parseInstant(s: string): number {
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new ArmError(400, 'BadRequest', `Invalid timespan: '${s}' is neither a date-time nor an ISO-8601 duration.`);
  return t;
}

/** `PT1H`, `start/end`, `start/PT1H`, `PT1H/end`; default the last hour (reference §8.12). */
export function parseTimespan(text: string | null, now: number): { start: number; end: number } {
  if (!text) return { start: now - 60 * MINUTE, end: now };
  const parts = text.split('/');
  if (parts.length === 1) {
    const d = parseIsoDuration(text);
    if (d === undefined) throw new ArmError(400, 'BadRequest', `Invalid timespan '${text}'.`);
    return { start: now - d, end: now };
  }
  if (parts.length !== 2) throw new ArmError(400, 'BadRequest', `Invalid timespan '${text}'.`);
  const [a = '', b = ''] = parts;
  const da = a.startsWith('P') ? parseIsoDuration(a) : undefined;
  const db = b.startsWith('P') ? parseIsoDuration(b) : undefined;
  let start: number;
  let end: number;
  if (da !== undefined) {
    end = parseInstant(b);
    start = end - da;
  } else if (db !== undefined) {
    start = parseInstant(a);
    end = start + db;
  } else {
    start = parseInstant(a);
    end = parseInstant(b);
  }
  if (!(end > start)) throw new ArmError(400, 'BadRequest', `Invalid timespan '${text}': the end must be after the start.`);
  return { start, end };
}

interface FilterClause {
  dimension: string; // lower-case
  values: string[] | '*';
}

/** Parses `A eq 'a1' and B eq 'b1' or B eq 'b2' and C eq '*'` (an `or` joins values of one dimension). */
export function parseMetricFilter(text: string | null): FilterClause[] {
  if (!text || !text.trim()) return [];
  const clauses: FilterClause[] = [];
  const andParts = text.split(/\s+and\s+/i);
  for (const part of andParts) {
    const terms = part.split(/\s+or\s+/i);
    let dim: string | undefined;
    const values: string[] = [];
    let star = false;
    for (const term of terms) {
      const m = /^\s*\(?\s*([A-Za-z_][A-Za-z0-9_]*)\s+eq\s+'([^']*)'\s*\)?\s*$/i.exec(term);
      if (!m || !m[1]) throw new ArmError(400, 'BadRequest', `Invalid $filter '${text}': expected "<dimension> eq '<value>'" clauses.`);
      const d = m[1].toLowerCase();
      if (dim !== undefined && d !== dim) {
        throw new ArmError(400, 'BadRequest', `Invalid $filter '${text}': 'or' may only join values of the same dimension.`);
      }
      dim = d;
      if (m[2] === '*') star = true;
      else values.push((m[2] ?? '').toLowerCase());
    }
    if (dim === undefined) continue;
    const existing = clauses.find((c) => c.dimension === dim);
    if (existing) throw new ArmError(400, 'BadRequest', `Invalid $filter '${text}': dimension '${dim}' appears twice.`);
    clauses.push({ dimension: dim, values: star ? '*' : values });
  }
  return clauses;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

/** The nearest-rank percentile of measured latencies: what RequestLatency_Pnn reports for a bin. */
export function latencyPercentile(latencies: number[], p: number): number {
  return percentile([...latencies].sort((a, b) => a - b), p);
}

function aggregate(samples: number[], aggs: Agg[]): Record<string, number> {
  const out: Record<string, number> = {};
  const n = samples.length;
  for (const a of aggs) {
    if (a === 'count') out.count = n;
    else if (a === 'total') out.total = samples.reduce((x, y) => x + y, 0);
    else if (n > 0) {
      if (a === 'average') out.average = samples.reduce((x, y) => x + y, 0) / n;
      if (a === 'minimum') out.minimum = Math.min(...samples);
      if (a === 'maximum') out.maximum = Math.max(...samples);
    }
  }
  return out;
}

function dimensionValue(r: ScoreRecord, dim: string): string {
  switch (dim) {
    case 'deployment':
      return r.deployment;
    case 'statuscode':
    case 'envoy_response_code':
      return String(r.statusCode);
    case 'statuscodeclass':
      return `${Math.floor(r.statusCode / 100)}xx`;
    case 'modelstatuscode':
      return r.modelStatusCode === undefined ? 'None' : String(r.modelStatusCode);
    default:
      return '';
  }
}

export interface MetricsQueryInput {
  scope: MetricsScope;
  query: URLSearchParams;
  now: number;
  /** Records newer than now - delayMs are not visible yet (Azure Monitor's ingestion delay). */
  delayMs: number;
  /** The latest visible record time, when the caller knows it (Azure timing); overrides delayMs. */
  cutoff?: number;
  store: MetricsStore;
  /** The deployment names of the endpoint (for instance/state dimensions). */
}

/** The metric definitions for a scope (for metricDefinitions and validation). */
export function metricDefinitions(scope: MetricsScope): unknown {
  const defs = scope.deployment ? DEPLOYMENT_METRICS : ENDPOINT_METRICS;
  const ns = scope.deployment ? DEPLOYMENT_NAMESPACE : ENDPOINT_NAMESPACE;
  return {
    value: defs.map((d) => ({
      id: `/${scope.resourceId}/providers/microsoft.insights/metricdefinitions/${d.name}`,
      resourceId: `/${scope.resourceId}`,
      namespace: ns,
      name: { value: d.name, localizedValue: d.name },
      displayDescription: d.description,
      isDimensionRequired: false,
      unit: d.unit,
      primaryAggregationType: d.aggregations[0] === 'average' ? 'Average' : 'Average',
      supportedAggregationTypes: ['Average', 'Minimum', 'Maximum', 'Total', 'Count'],
      metricAvailabilities: [{ timeGrain: 'PT1M', retention: 'P93D' }],
      dimensions: d.dimensions.map((x) => ({ value: x, localizedValue: x })),
    })),
  };
}

/** Answers a metrics query for one endpoint or deployment. */
export function queryMetrics(input: MetricsQueryInput): unknown {
  const { scope, query, now, delayMs, store } = input;
  const q = new Map<string, string>();
  for (const [k, v] of query) q.set(k.toLowerCase(), v);
  const defs = scope.deployment ? DEPLOYMENT_METRICS : ENDPOINT_METRICS;
  const namespace = scope.deployment ? DEPLOYMENT_NAMESPACE : ENDPOINT_NAMESPACE;
  const askedNs = q.get('metricnamespace');
  if (askedNs && askedNs.toLowerCase() !== namespace.toLowerCase()) {
    throw new ArmError(400, 'BadRequest', `Metric namespace '${askedNs}' is not valid for this resource; use '${namespace}'.`);
  }
  const names = (q.get('metricnames') ?? defs[0]?.name ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length > 20) throw new ArmError(400, 'BadRequest', 'At most 20 metric names may be asked for in one call.');
  const metrics = names.map((n) => {
    const def = defs.find((d) => d.name.toLowerCase() === n.toLowerCase());
    if (!def) {
      throw new ArmError(
        400,
        'BadRequest',
        `Failed to find metric configuration for provider: Microsoft.MachineLearningServices, resource type: ${namespace}, metric: ${n}. Valid metrics: ${defs.map((d) => d.name).join(',')}`,
      );
    }
    return def;
  });
  const { start, end } = parseTimespan(q.get('timespan') ?? null, now);
  const intervalText = (q.get('interval') ?? 'PT1M').toUpperCase();
  let interval: number;
  let alignedStart = start;
  if (intervalText === 'FULL') interval = end - start;
  else {
    const iv = INTERVALS[intervalText];
    if (iv === undefined) {
      throw new ArmError(400, 'BadRequest', `Invalid interval '${intervalText}': use one of ${Object.keys(INTERVALS).join(', ')} or FULL.`);
    }
    interval = iv;
    alignedStart = Math.floor(start / iv) * iv;
    if ((end - alignedStart) / iv > 50_000) throw new ArmError(400, 'BadRequest', 'The timespan holds too many intervals; use a coarser interval.');
  }
  const aggText = q.get('aggregation');
  const askedAggs = aggText
    ? aggText.split(',').map((s) => {
        const a = AGGS[s.trim().toLowerCase()];
        if (!a) throw new ArmError(400, 'BadRequest', `Invalid aggregation '${s}': use Average, Total, Count, Minimum or Maximum.`);
        return a;
      })
    : undefined;
  const filter = parseMetricFilter(q.get('$filter') ?? q.get('filter') ?? null);
  const topText = q.get('top');
  const top = topText === undefined ? 10 : Number(topText);
  if (!Number.isInteger(top) || top < 1) throw new ArmError(400, 'BadRequest', `Invalid top '${topText ?? ''}'.`);
  const orderBy = q.get('orderby')?.trim().toLowerCase();
  const cutoff = input.cutoff ?? now - delayMs;
  const bins: number[] = [];
  for (let t = alignedStart; t < end; t += interval) bins.push(t);
  const depKey = scope.deployment ? `${scope.endpoint}/${scope.deployment}`.toLowerCase() : undefined;

  const visible = store.records.filter(
    (r) => r.endpoint.toLowerCase() === scope.endpoint.toLowerCase() && (!depKey || r.deployment.toLowerCase() === scope.deployment?.toLowerCase()) && r.time >= alignedStart && r.time < end && r.time <= cutoff,
  );

  const value = metrics.map((def) => {
    const aggs = askedAggs ?? [def.aggregations[0] ?? 'average'];
    const dims = filter.map((c) => {
      const canonical = def.dimensions.find((d) => d.toLowerCase() === c.dimension);
      if (!canonical) {
        throw new ArmError(400, 'BadRequest', `Metric ${def.name} has no dimension '${c.dimension}'. Valid dimensions: ${def.dimensions.join(', ') || 'none'}.`);
      }
      return { ...c, name: canonical.toLowerCase() };
    });
    // Group the records (or, for resource metrics, the single deployment) into series by split dimensions.
    const series = new Map<string, { meta: { name: string; value: string }[]; records: ScoreRecord[] }>();
    const recordKinds: Kind[] = ['requests', 'latency', 'percentile', 'bytes'];
    if (recordKinds.includes(def.kind)) {
      for (const r of visible) {
        const meta: { name: string; value: string }[] = [];
        let keep = true;
        for (const d of dims) {
          const v = dimensionValue(r, d.name);
          if (d.values !== '*' && !d.values.includes(v.toLowerCase())) keep = false;
          meta.push({ name: d.name, value: v });
        }
        if (!keep) continue;
        const key = meta.map((m) => m.value).join('\u0000');
        const s = series.get(key) ?? { meta, records: [] };
        s.records.push(r);
        series.set(key, s);
      }
      if (dims.length === 0 && series.size === 0) series.set('', { meta: [], records: [] });
    } else {
      const meta = dims.map((d) => ({ name: d.name, value: d.name === 'state' ? 'Running' : `${scope.deployment ?? ''}-instance-0` }));
      const matches = dims.every((d) => d.values === '*' || d.values.includes((meta.find((m) => m.name === d.name)?.value ?? '').toLowerCase()));
      if (matches) series.set('', { meta, records: [] });
    }

    const timeseries = [...series.values()].map((s) => {
      const data = bins.map((binStart) => {
        const binEnd = Math.min(binStart + interval, end);
        const point: Record<string, unknown> = { timeStamp: new Date(binStart).toISOString() };
        const inBin = s.records.filter((r) => r.time >= binStart && r.time < binEnd);
        let samples: number[] = [];
        switch (def.kind) {
          case 'requests': {
            const perMinute = new Map<number, number>();
            for (const r of inBin) {
              const m = Math.floor(r.time / MINUTE);
              perMinute.set(m, (perMinute.get(m) ?? 0) + 1);
            }
            samples = [...perMinute.values()];
            break;
          }
          case 'bytes': {
            const perMinute = new Map<number, number>();
            for (const r of inBin) {
              const m = Math.floor(r.time / MINUTE);
              perMinute.set(m, (perMinute.get(m) ?? 0) + r.requestBytes + r.responseBytes);
            }
            samples = [...perMinute.values()].map((b) => b / 60);
            break;
          }
          case 'latency':
            samples = inBin.map((r) => r.latencyMs);
            break;
          case 'percentile': {
            if (inBin.length > 0) {
              const v = latencyPercentile(inBin.map((r) => r.latencyMs), def.percentile ?? 50);
              const out: Record<string, number> = {};
              for (const a of aggs) out[a] = a === 'count' ? inBin.length : v;
              return { ...point, ...out };
            }
            break;
          }
          case 'cpu':
          case 'capacity':
          case 'memory': {
            if (!depKey) break;
            const life = store.existedAt(depKey);
            if (!life) break;
            for (let m = Math.floor(binStart / MINUTE) * MINUTE; m < binEnd; m += MINUTE) {
              const from = Math.max(m, binStart, life.from);
              const to = Math.min(m + MINUTE, binEnd, life.to, cutoff);
              if (to <= from) continue;
              if (def.kind === 'cpu') samples.push((store.busyIn(depKey, from, to) / (to - from)) * 100);
              else if (def.kind === 'capacity') samples.push(store.capacityAt(depKey, to - 1) ?? 0);
              else {
                const mem = store.memoryIn(depKey, from, to);
                if (mem.length) samples.push(mem.reduce((a, b) => a + b, 0) / mem.length);
              }
            }
            break;
          }
        }
        return { ...point, ...aggregate(samples, aggs) };
      });
      return { metadatavalues: s.meta.map((m) => ({ name: { value: m.name, localizedValue: m.name }, value: m.value })), data };
    });

    // top / orderby apply to split series only.
    let ordered = timeseries;
    if (dims.length > 0) {
      const agg = (orderBy?.split(/\s+/)[0] ?? aggs[0] ?? 'average') as string;
      const key = AGGS[agg] ?? aggs[0] ?? 'average';
      const desc = !orderBy || orderBy.endsWith('desc');
      const score = (t: (typeof timeseries)[number]): number => t.data.reduce((acc, p) => acc + Number((p as Record<string, unknown>)[key] ?? 0), 0);
      ordered = [...timeseries].sort((a, b) => (desc ? score(b) - score(a) : score(a) - score(b))).slice(0, top);
    }
    return {
      id: `/${scope.resourceId}/providers/Microsoft.Insights/metrics/${def.name}`,
      type: 'Microsoft.Insights/metrics',
      name: { value: def.name, localizedValue: def.name },
      displayDescription: def.description,
      unit: def.unit,
      errorCode: 'Success',
      timeseries: ordered,
    };
  });

  return {
    cost: 0,
    timespan: `${new Date(start).toISOString()}/${new Date(end).toISOString()}`,
    interval: intervalText === 'FULL' ? 'FULL' : intervalText,
    namespace: namespace.toLowerCase(),
    resourceregion: scope.region,
    value,
  };
}
