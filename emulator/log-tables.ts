// The Log Analytics tables the emulator keeps: `AmlOnlineEndpointTrafficLog`, one row per scoring request
// it served (live and mirrored), with the table's real columns and types (Azure Monitor table reference,
// learn.microsoft.com/azure/azure-monitor/reference/tables/amlonlineendpointtrafficlog; shared/reference/
// azure-monitor-logs-and-data-collection.md §1.1), kept in memory with a bound on rows and on age.
// `AmlOnlineEndpointConsoleLog` and `AmlOnlineEndpointEventLog` exist with their columns and no rows.
import { createHash } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Catalog, Column, Row, Table } from './kql/evaluate.js';
import type { EndpointRecord } from './state.js';

export const TRAFFIC_LOG = 'AmlOnlineEndpointTrafficLog';

/** The emulator's one Log Analytics workspace (TenantId of every row); queries to any workspace id read it. */
export const EMULATOR_LOG_WORKSPACE_ID = '00000000-0000-4000-8000-00000000a11a';

/** Columns of AmlOnlineEndpointTrafficLog, in the order rows are stored. */
export const TRAFFIC_LOG_COLUMNS: Column[] = [
  { name: 'TenantId', type: 'string' },
  { name: 'TimeGenerated', type: 'datetime' },
  { name: 'AzureMLWorkspaceId', type: 'string' },
  { name: 'AzureMLWorkspaceName', type: 'string' },
  { name: 'Location', type: 'string' },
  { name: 'OperationName', type: 'string' },
  { name: 'EndpointName', type: 'string' },
  { name: 'DeploymentName', type: 'string' },
  { name: 'Method', type: 'string' },
  { name: 'Path', type: 'string' },
  { name: 'Protocol', type: 'string' },
  { name: 'UserAgent', type: 'string' },
  { name: 'XRequestId', type: 'string' },
  { name: 'XMSClientRequestId', type: 'string' },
  { name: 'AuthType', type: 'string' },
  { name: 'IdentityData', type: 'string' },
  { name: 'ResponseCode', type: 'int' },
  { name: 'ResponseCodeReason', type: 'string' },
  { name: 'ModelStatusCode', type: 'int' },
  { name: 'ModelStatusReason', type: 'string' },
  { name: 'RequestPayloadSize', type: 'int' },
  { name: 'ResponsePayloadSize', type: 'int' },
  { name: 'TotalDurationMs', type: 'int' },
  { name: 'RequestDurationMs', type: 'int' },
  { name: 'ResponseDurationMs', type: 'int' },
  { name: 'RequestThrottlingDelayMs', type: 'int' },
  { name: 'ResponseThrottlingDelayMs', type: 'int' },
  { name: 'SourceSystem', type: 'string' },
  { name: 'Type', type: 'string' },
  { name: '_ResourceId', type: 'string' },
  { name: '_SubscriptionId', type: 'string' },
  { name: '_BilledSize', type: 'real' },
  { name: '_IsBillable', type: 'string' },
];

const STANDARD: Column[] = [
  { name: 'SourceSystem', type: 'string' },
  { name: 'Type', type: 'string' },
  { name: '_ResourceId', type: 'string' },
  { name: '_SubscriptionId', type: 'string' },
];

/** Container stdout/stderr (§1.2); the emulator keeps no rows in it. */
const CONSOLE_LOG_COLUMNS: Column[] = [
  { name: 'TenantId', type: 'string' },
  { name: 'TimeGenerated', type: 'datetime' },
  { name: 'ContainerImageName', type: 'string' },
  { name: 'ContainerName', type: 'string' },
  { name: 'DeploymentName', type: 'string' },
  { name: 'InstanceId', type: 'string' },
  { name: 'Message', type: 'string' },
  { name: 'OperationName', type: 'string' },
  ...STANDARD,
];

/** Container lifecycle events (§1.2); the emulator keeps no rows in it. */
const EVENT_LOG_COLUMNS: Column[] = [
  { name: 'TenantId', type: 'string' },
  { name: 'TimeGenerated', type: 'datetime' },
  { name: 'DeploymentName', type: 'string' },
  { name: 'InstanceId', type: 'string' },
  { name: 'Name', type: 'string' },
  { name: 'Message', type: 'string' },
  { name: 'OperationName', type: 'string' },
  ...STANDARD,
  { name: '_BilledSize', type: 'real' },
  { name: '_IsBillable', type: 'string' },
];

const TIME_GENERATED = TRAFFIC_LOG_COLUMNS.findIndex((c) => c.name === 'TimeGenerated');
const RESOURCE_ID = TRAFFIC_LOG_COLUMNS.findIndex((c) => c.name === '_ResourceId');

/** What the scoring path knows about one request when its answer has been written. */
export interface TrafficLogInput {
  endpoint: EndpointRecord;
  /** '' when no deployment answered (401, 404). */
  deployment: string;
  /** Epoch ms when the request arrived (for a mirrored copy: when the copy was sent). */
  receivedAt: number;
  method: string;
  userAgent: string | undefined;
  clientRequestId: string | undefined;
  requestId: string;
  responseCode: number;
  /** What the model container answered; undefined when no model ran. */
  modelStatusCode: number | undefined;
  requestBytes: number;
  responseBytes: number;
  /** Request start → answer written. */
  totalMs: number;
  /** Request start → last request byte read. */
  requestMs: number;
  /** Request start → the model's answer (or the refusal) was ready. */
  responseMs: number;
}

const workspaceIds = new Map<string, string>();

/** A stable GUID for a workspace (Azure's AzureMLWorkspaceId is the workspace's GUID; the emulator has none, so it derives one). */
export function workspaceGuid(subscriptionId: string, resourceGroup: string, workspace: string): string {
  const key = `${subscriptionId}/${resourceGroup}/${workspace}`.toLowerCase();
  let id = workspaceIds.get(key);
  if (!id) {
    const h = createHash('sha1').update(key).digest('hex');
    id = `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
    workspaceIds.set(key, id);
  }
  return id;
}

/**
 * The string as one flat sequence of characters. Ids built by concatenation (Node's randomUUID() joins
 * 20 pieces) are kept by V8 as trees of pieces, ~600 bytes each; reading a character flattens them.
 */
function flat(s: string): string {
  s.charCodeAt(s.length >> 1);
  return s;
}

/** x-ms-client-request-id as Azure logs it: non-alphanumerics stripped, at most 72 characters (reference §0.2). */
export function cleanClientRequestId(v: string | undefined): string {
  return (v ?? '').replace(/[^A-Za-z0-9]/g, '').slice(0, 72);
}

const resourceIds = new Map<string, string>();

/** The endpoint's ARM id in lower case, as _ResourceId; one shared string per endpoint (rows are many). */
function endpointResourceId(ep: EndpointRecord): string {
  const id = `/subscriptions/${ep.subscriptionId}/resourcegroups/${ep.resourceGroup}/providers/microsoft.machinelearningservices/workspaces/${ep.workspace}/onlineendpoints/${ep.name}`.toLowerCase();
  const shared = resourceIds.get(id);
  if (shared) return shared;
  if (resourceIds.size > 10_000) resourceIds.clear();
  resourceIds.set(id, id);
  return id;
}

/** One AmlOnlineEndpointTrafficLog row, in TRAFFIC_LOG_COLUMNS order. */
export function trafficLogRow(r: TrafficLogInput): Row {
  const ep = r.endpoint;
  const resourceId = endpointResourceId(ep);
  const ms = (x: number): number => Math.max(0, Math.round(x));
  const row: Row = [
    EMULATOR_LOG_WORKSPACE_ID,
    r.receivedAt,
    workspaceGuid(ep.subscriptionId, ep.resourceGroup, ep.workspace),
    ep.workspace,
    ep.location,
    'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/score',
    ep.name,
    r.deployment,
    r.method,
    '/score',
    'HTTP/1.1',
    (r.userAgent ?? '').slice(0, 70),
    flat(r.requestId),
    flat(cleanClientRequestId(r.clientRequestId)),
    ep.authMode,
    '',
    r.responseCode,
    STATUS_CODES[r.responseCode] ?? '',
    r.modelStatusCode ?? null,
    r.modelStatusCode === undefined ? '' : (STATUS_CODES[r.modelStatusCode] ?? ''),
    r.requestBytes,
    r.responseBytes,
    ms(r.totalMs),
    ms(r.requestMs),
    ms(r.responseMs),
    0,
    0,
    'Azure',
    TRAFFIC_LOG,
    resourceId,
    ep.subscriptionId,
    0,
    'true',
  ];
  // _BilledSize: the record's size in bytes (string lengths, 8 bytes per number), an estimate as on Azure.
  let size = 0;
  for (const v of row) size += typeof v === 'string' ? v.length : 8;
  row[31] = size;
  return row;
}

export interface TrafficLogOptions {
  /** Rows kept at most; the oldest go first (default 200,000). */
  maxRows: number;
  /** Rows older than this (by TimeGenerated) are dropped (default 24 h). */
  maxAgeMs: number;
}

export const DEFAULT_TRAFFIC_LOG_OPTIONS: TrafficLogOptions = { maxRows: 200_000, maxAgeMs: 24 * 3_600_000 };

/** The traffic log's rows, bounded by count and by age. Appends are O(1) amortized; old rows are dropped from the front. */
export class TrafficLogStore {
  private rows: Row[] = [];
  /** When each row becomes visible to queries (Azure's ingestion delay); empty while no row had a delay. */
  private visibleAt: number[] = [];
  private head = 0;
  constructor(readonly options: TrafficLogOptions = DEFAULT_TRAFFIC_LOG_OPTIONS) {}

  /** Adds a row, visible to queries `delayMs` after its TimeGenerated (0: at once). */
  append(row: Row, now = Date.now(), delayMs = 0): void {
    if (delayMs > 0 && this.visibleAt.length === 0) this.visibleAt = this.rows.map((r) => r[TIME_GENERATED] as number);
    this.rows.push(row);
    if (this.visibleAt.length > 0 || delayMs > 0) this.visibleAt.push((row[TIME_GENERATED] as number) + delayMs);
    this.trim(now);
  }

  /** Drops rows past the count bound and rows older than the age bound. */
  trim(now = Date.now()): void {
    const excess = this.rows.length - this.head - this.options.maxRows;
    if (excess > 0) this.head += excess;
    const cutoff = now - this.options.maxAgeMs;
    while (this.head < this.rows.length && ((this.rows[this.head] as Row)[TIME_GENERATED] as number) < cutoff) this.head++;
    if (this.head > 1024 && this.head * 2 > this.rows.length) {
      this.rows = this.rows.slice(this.head);
      if (this.visibleAt.length > 0) this.visibleAt = this.visibleAt.slice(this.head);
      this.head = 0;
    }
  }

  get size(): number {
    return this.rows.length - this.head;
  }

  /**
   * The rows kept now, oldest first (a copy of the list; rows themselves are shared and never changed);
   * with `visibleBy`, only those ingested by then.
   */
  snapshot(now = Date.now(), visibleBy?: number): Row[] {
    this.trim(now);
    if (visibleBy === undefined || this.visibleAt.length === 0) return this.rows.slice(this.head);
    const out: Row[] = [];
    for (let i = this.head; i < this.rows.length; i++) if ((this.visibleAt[i] as number) <= visibleBy) out.push(this.rows[i] as Row);
    return out;
  }
}

/** The tables a Logs query sees; `resourcePrefix` (lower-case) narrows rows to one resource and its children (resource-centric queries). */
export function logCatalog(store: TrafficLogStore, now: number, resourcePrefix?: string): Catalog {
  const tables: Record<string, () => Table> = {
    [TRAFFIC_LOG]: () => {
      let rows = store.snapshot(now, now);
      if (resourcePrefix !== undefined) rows = rows.filter((r) => { const id = r[RESOURCE_ID] as string; return id === resourcePrefix || id.startsWith(`${resourcePrefix}/`); });
      return { columns: TRAFFIC_LOG_COLUMNS, rows };
    },
    AmlOnlineEndpointConsoleLog: () => ({ columns: CONSOLE_LOG_COLUMNS, rows: [] }),
    AmlOnlineEndpointEventLog: () => ({ columns: EVENT_LOG_COLUMNS, rows: [] }),
  };
  return {
    table: (name) => (Object.hasOwn(tables, name) ? tables[name]?.() : undefined),
    names: () => Object.keys(tables),
  };
}
