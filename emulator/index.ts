// Public face of the emulator: `startEmulator(options)` starts a local HTTPS stand-in for Azure ML managed
// online endpoints (ARM, scoring, Azure Monitor metrics and Log Analytics, Retail Prices) that the unmodified Azure SDKs talk to.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { BlobStorageOptions, BlobStoreInfo } from './blob-store.js';
import { EmulatorCore, type CallRecord } from './core.js';
import { workspaceContainer, type DataCollectionOptions, type DataCollectionStats } from './data-collection.js';
import type { DeploymentBehaviour, FailNextOptions } from './faults.js';
import { DEFAULT_TRAFFIC_LOG_OPTIONS, EMULATOR_LOG_WORKSPACE_ID, workspaceGuid } from './log-tables.js';
import type { ScoreRecord } from './metrics.js';
import { createEmulatorServer } from './server.js';
import type { AzureTimingOptions } from './telemetry-timing.js';
import { ensureCertificate } from './tls.js';

export type { CallRecord } from './core.js';
export type { DeploymentBehaviour, FailNextOptions } from './faults.js';
export type { ScoreRecord } from './metrics.js';
export type { AzureTimingOptions } from './telemetry-timing.js';
export type { BlobStorageOptions, BlobStoreInfo } from './blob-store.js';
export type { DataCollectionOptions, DataCollectionStats, DataCollectorSpec, CollectionSpec, RollingRate } from './data-collection.js';
export { AZURITE_ACCOUNT, AZURITE_KEY } from './blob-store.js';
export { collectionBlobPath, collectionFolder, rolledFolder, workspaceContainer } from './data-collection.js';
export { EMULATOR_LOG_WORKSPACE_ID, TRAFFIC_LOG, TRAFFIC_LOG_COLUMNS } from './log-tables.js';
export { emulatorCredential, emulatorClientOptions, emulatorLogsClientOptions, StaticTokenCredential } from './sdk.js';
export { generateTraffic, type TrafficOptions, type TrafficResult } from './traffic.js';

export interface EmulatorOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Only loopback is allowed. */
  host?: '127.0.0.1' | 'localhost' | '::1';
  /**
   * Where the certificate and (when given) the resource state live. With a state dir, endpoints,
   * deployments and keys survive a restart; without one, state is in memory and the certificate goes to a temp dir.
   */
  stateDir?: string;
  /** How long each long-running operation takes (default 2000 ms). */
  provisionTimeMs?: number;
  /** Azure Monitor ingestion delay: requests show in metrics this long after they were served (default 0). */
  metricsDelayMs?: number;
  /** Seed of the traffic-splitting random source (default 1). */
  seed?: number;
  /** Items per page of list operations (default 50). */
  listPageSize?: number;
  /** Rows the Log Analytics traffic log keeps at most, oldest dropped first (default 200,000; ~1 KiB each). */
  trafficLogMaxRows?: number;
  /** Traffic-log rows older than this are dropped (default 24 h). */
  trafficLogMaxAgeMs?: number;
  /** Kusto's result-set limit for Logs queries (default 500,000); past it the answer is a PartialError. */
  logsResultRowLimit?: number;
  /**
   * Azure Monitor's timing instead of instant telemetry: metrics in a 1-minute grain, each minute visible
   * a minute after it closes; each traffic-log row visible 3–10 minutes (seeded draw) after its request.
   * Readers must then allow for it (the activities: `ingestionDelays: AZURE_INGESTION_DELAYS`).
   */
  azureTiming?: AzureTimingOptions;
  /**
   * The workspace blob store (workspaceblobstore) that data collection writes to: Azurite on loopback,
   * started the first time a deployment with data collection is created or the datastore is read
   * (`start: 'lazy'`, the default: a start costs about a second), or an existing service (`endpoint`).
   * Azurite keeps its blobs in `dataDir`, by default `<stateDir>/blobs` with a state dir, else in memory.
   */
  blobStorage?: BlobStorageOptions;
  /** The data collector's batching window (10 ms), flush interval (1 s) and sampling seed (the emulator's seed). */
  dataCollection?: DataCollectionOptions;
}

/** Fault knobs (also under `/_emulator/faults/*`). */
export interface EmulatorFaults {
  /** The next N calls (management by default, polls included) fail with 429 / 500 / 503 / 409, with Retry-After. */
  failNext(options?: FailNextOptions): void;
  /** The next provisioning (create, update or scale) of `deployment` ends Failed with `code` (OutOfQuota, ResourceNotReady, …). */
  failProvisioning(deployment: string, code?: string, options?: { message?: string; endpoint?: string }): void;
  /** Changes how a deployment behaves from now on: added latency, error rate, crash. */
  setBehaviour(deployment: string, behaviour: DeploymentBehaviour, endpoint?: string): void;
  /** Makes long-running operations take `ms` (undefined restores the configured provision time). */
  setOperationDuration(ms: number | undefined): void;
  /** Removes every armed fault and behaviour. */
  clear(): void;
}

export interface Emulator {
  /** `https://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** PEM of the self-signed certificate (it is its own CA): give it to clients as `tlsOptions: { ca }`. */
  caCertPem: string;
  caCertPath: string;
  stateDir: string;
  faults: EmulatorFaults;
  /** Every call answered (management, polls, metrics, scoring, prices, control), oldest first. */
  callLog(): CallRecord[];
  resetCallLog(): void;
  /** Every scoring request served (mirrored copies included, flagged), oldest first. */
  requestLog(): ScoreRecord[];
  /** The Log Analytics workspace id the emulator's log rows carry (any workspace id may be queried). */
  logsWorkspaceId: string;
  /** Base URL for `new LogsQueryClient(credential, { endpoint })`: `<url>/v1`. */
  logsEndpoint: string;
  /** Rows the traffic log holds now (after retention). */
  trafficLogSize(): number;
  /** The scoring URI of an endpoint. */
  scoringUri(endpoint: string): string;
  /** The workspace blob store: starts Azurite if it is not running yet, and says how to reach it (URL, account, key). */
  blobStore(): Promise<BlobStoreInfo>;
  /** The container of a workspace's workspaceblobstore: `azureml-blobstore-<workspace guid>`. */
  workspaceBlobContainer(subscriptionId: string, resourceGroup: string, workspace: string): string;
  /** Appends every collected line still buffered (the collector flushes every second and on close anyway). */
  flushDataCollection(): Promise<void>;
  /** What the data collector collected, sampled out, batched, wrote and failed to write. */
  dataCollectionStats(): DataCollectionStats;
  close(): Promise<void>;
}

/** Starts the emulator and resolves once it listens (and, with a state dir, once restored containers are up). */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const host = options.host ?? '127.0.0.1';
  if (!['127.0.0.1', 'localhost', '::1'].includes(host)) throw new Error(`the emulator listens on loopback only, not ${host}`);
  const certDir = options.stateDir ?? mkdtempSync(join(tmpdir(), 'glidepath-emulator-'));
  const cert = await ensureCertificate(certDir);
  const core = new EmulatorCore({
    ...(options.stateDir ? { stateDir: options.stateDir } : {}),
    provisionTimeMs: options.provisionTimeMs ?? 2000,
    metricsDelayMs: options.metricsDelayMs ?? 0,
    seed: options.seed ?? 1,
    listPageSize: options.listPageSize ?? 50,
    trafficLog: {
      maxRows: options.trafficLogMaxRows ?? DEFAULT_TRAFFIC_LOG_OPTIONS.maxRows,
      maxAgeMs: options.trafficLogMaxAgeMs ?? DEFAULT_TRAFFIC_LOG_OPTIONS.maxAgeMs,
    },
    ...(options.logsResultRowLimit !== undefined ? { logsResultRowLimit: options.logsResultRowLimit } : {}),
    ...(options.azureTiming ? { azureTiming: options.azureTiming } : {}),
    // With a state dir, collected data survives a restart like the rest of the state (Azurite keeps it in <stateDir>/blobs).
    blobStorage: { ...(options.stateDir && !options.blobStorage?.endpoint ? { dataDir: join(options.stateDir, 'blobs') } : {}), ...options.blobStorage },
    ...(options.dataCollection ? { dataCollection: options.dataCollection } : {}),
  });
  if (core.trafficLog.options.maxRows < 1 || core.trafficLog.options.maxAgeMs <= 0) throw new Error('the traffic log needs trafficLogMaxRows ≥ 1 and trafficLogMaxAgeMs > 0');
  const server = createEmulatorServer(core, { cert: cert.certPem, key: cert.keyPem }, () => core.options.metricsDelayMs);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `https://${host === '::1' ? '[::1]' : host}:${port}`;
  core.baseUrl = url;
  await core.restore();
  if (options.blobStorage?.start === 'eager' || options.blobStorage?.endpoint) {
    try {
      await core.blobStore.ensure();
    } catch (e) {
      await core.close();
      server.close();
      throw e;
    }
  }
  const sampler = setInterval(() => core.sampleMemory(), 2000);
  sampler.unref();
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    caCertPem: cert.certPem,
    caCertPath: cert.certPath,
    stateDir: certDir,
    faults: {
      failNext: (o) => core.faults.failNext(o),
      failProvisioning: (deployment, code, o) => core.faults.failProvisioning(deployment, code, o?.message, o?.endpoint),
      setBehaviour: (deployment, b, endpoint) => core.faults.setBehaviour(deployment, b, endpoint),
      setOperationDuration: (ms) => {
        core.faults.operationDurationMs = ms;
      },
      clear: () => core.faults.clear(),
    },
    callLog: () => [...core.calls],
    resetCallLog: () => {
      core.calls.length = 0;
    },
    requestLog: () => [...core.metrics.records],
    logsWorkspaceId: EMULATOR_LOG_WORKSPACE_ID,
    logsEndpoint: `${url}/v1`,
    trafficLogSize: () => {
      core.trafficLog.trim();
      return core.trafficLog.size;
    },
    scoringUri: (endpoint) => `${url}/endpoints/${endpoint}/score`,
    blobStore: () => core.blobStore.ensure(),
    workspaceBlobContainer: (subscriptionId, resourceGroup, workspace) => workspaceContainer(workspaceGuid(subscriptionId, resourceGroup, workspace)),
    flushDataCollection: () => core.dataCollection.flush(),
    dataCollectionStats: () => structuredClone(core.dataCollection.stats),
    close: () => {
      closing ??= (async () => {
        clearInterval(sampler);
        core.persist();
        await core.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        if (!options.stateDir) rmSync(certDir, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}
