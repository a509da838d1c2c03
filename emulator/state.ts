// The emulator's resource state (endpoints, deployments, operations, AML tokens), kept as plain JSON and
// written to `<stateDir>/state.json` after every change so endpoints, deployments and keys survive a restart.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TrafficMap, TrafficState } from '../domain/traffic.js';

export type ProvisioningState = 'Creating' | 'Updating' | 'Scaling' | 'Deleting' | 'Succeeded' | 'Failed' | 'Canceled';

export interface SystemData {
  createdBy: string;
  createdByType: string;
  createdAt: string;
  lastModifiedBy: string;
  lastModifiedByType: string;
  lastModifiedAt: string;
}

export interface EndpointRecord {
  subscriptionId: string;
  resourceGroup: string;
  workspace: string;
  name: string;
  location: string;
  tags: Record<string, string>;
  kind: string;
  identity: Record<string, unknown>;
  sku?: Record<string, unknown>;
  authMode: 'Key' | 'AMLToken' | 'AADToken';
  description?: string;
  /** `properties.compute` as sent (an ARM id of a Kubernetes compute on Azure; kept and returned, not used). */
  compute?: string;
  properties: Record<string, string>;
  publicNetworkAccess: 'Enabled' | 'Disabled';
  /** What the endpoint document says (desired). */
  traffic: TrafficMap;
  mirrorTraffic: TrafficMap;
  /** What routing uses: the traffic of the last operation that succeeded. */
  applied: TrafficState;
  keys: { primaryKey: string; secondaryKey: string };
  provisioningState: ProvisioningState;
  systemData: SystemData;
}

export interface DeploymentRecord {
  endpoint: string; // endpoint name
  name: string;
  location: string;
  tags: Record<string, string>;
  kind: string;
  identity?: Record<string, unknown>;
  sku: { name: string; capacity: number; tier?: string; size?: string; family?: string };
  /** Capacity routing and the 429 rule use (applied when a scale operation finishes). */
  appliedCapacity: number;
  properties: Record<string, unknown> & { model?: string; instanceType: string };
  provisioningState: ProvisioningState;
  /** Error of the last failed operation, shown in the resource like Azure's deployment errors. */
  lastError?: { code: string; message: string };
  systemData: SystemData;
}

export type OperationKind =
  | 'endpoint-create'
  | 'endpoint-update'
  | 'endpoint-patch'
  | 'endpoint-delete'
  | 'regenerate-keys'
  | 'deployment-create'
  | 'deployment-update'
  | 'deployment-patch'
  | 'deployment-delete';

export interface OperationRecord {
  id: string;
  kind: OperationKind;
  subscriptionId: string;
  region: string;
  endpoint: string;
  deployment?: string;
  status: 'InProgress' | 'Succeeded' | 'Failed' | 'Canceled';
  startTime: string;
  endTime?: string;
  dueAt: number;
  error?: { code: string; message: string };
  /** ARM path of the resource (for the final GET of PATCH through Location). */
  resourcePath: string;
}

export interface PersistedState {
  version: 1;
  endpoints: Record<string, EndpointRecord>; // key: endpoint name, lower-cased (names are unique per region and form the DNS name)
  deployments: Record<string, DeploymentRecord>; // key: `${endpoint}/${deployment}` lower-cased
  operations: Record<string, OperationRecord>;
  tokens: Record<string, { endpoint: string; expiresAt: number }>;
}

export function emptyState(): PersistedState {
  return { version: 1, endpoints: {}, deployments: {}, operations: {}, tokens: {} };
}

export const endpointKey = (name: string): string => name.toLowerCase();
export const deploymentKey = (endpoint: string, deployment: string): string => `${endpoint}/${deployment}`.toLowerCase();

/** Loads state.json from `dir` (or an empty state). Operations left running by a stopped emulator are finished. */
export function loadState(dir: string | undefined): PersistedState {
  if (!dir) return emptyState();
  const file = join(dir, 'state.json');
  if (!existsSync(file)) return emptyState();
  const state = JSON.parse(readFileSync(file, 'utf8')) as PersistedState;
  return state.version === 1 ? state : emptyState();
}

export function saveState(dir: string | undefined, state: PersistedState): void {
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'state.json');
  writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 1), { mode: 0o600 }); // holds endpoint keys
  renameSync(`${file}.tmp`, file);
}
