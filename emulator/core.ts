// The emulator's moving parts in one place: resource state, long-running operations, model containers,
// container logs, measured metrics, fault knobs and the call log. Handlers (arm.ts, scoring.ts, …) work on it.
import { randomBytes, randomUUID } from 'node:crypto';
import { BlobStore, type BlobStorageOptions } from './blob-store.js';
import { ModelContainer } from './container.js';
import { DataCollectionWriter, enabledCollections, type DataCollectionOptions, type DataCollectorSpec } from './data-collection.js';
import { FaultState } from './faults.js';
import { seededRandom } from './random.js';
import { DEFAULT_TRAFFIC_LOG_OPTIONS, TrafficLogStore, type TrafficLogOptions } from './log-tables.js';
import { MetricsStore } from './metrics.js';
import { isRegisteredModel } from './assets.js';
import { CONTAINER_STAND_IN, resolveModel } from './models/registry.js';
import {
  deploymentKey,
  endpointKey,
  loadState,
  saveState,
  type DeploymentRecord,
  type EndpointRecord,
  type OperationKind,
  type OperationRecord,
  type PersistedState,
} from './state.js';

/** One call the emulator answered. */
import { TelemetryTiming, type AzureTimingOptions } from './telemetry-timing.js';
export interface CallRecord {
  time: string;
  method: string;
  path: string;
  query: string;
  status: number;
  durationMs: number;
  kind: 'management' | 'operation' | 'metrics' | 'logs' | 'scoring' | 'prices' | 'control' | 'unknown';
  /** ARM error code when the answer was an error envelope. */
  errorCode?: string;
}

export interface CoreOptions {
  stateDir?: string;
  provisionTimeMs: number;
  metricsDelayMs: number;
  seed: number;
  listPageSize: number;
  /** Bounds of the Log Analytics traffic log (default 200,000 rows, 24 h). */
  trafficLog?: TrafficLogOptions;
  /** Kusto's result-set limit for Logs queries (default 500,000 rows); past it the answer is a partial error. */
  logsResultRowLimit?: number;
  /** Azure Monitor's timing (1-minute metrics a minute late, logs 3–10 minutes late); absent: instant. */
  azureTiming?: AzureTimingOptions;
  /** The workspace blob store (Azurite, started lazily by default, or an existing service). */
  blobStorage?: BlobStorageOptions;
  /** Batching, flushing and sampling of the data collector. */
  dataCollection?: DataCollectionOptions;
}

export { seededRandom } from './random.js';

export const newKey = (): string => randomBytes(24).toString('base64url');

const MAX_LOG_LINES = 2000;
const MAX_CALLS = 50_000;

export class EmulatorCore {
  state: PersistedState;
  readonly containers = new Map<string, ModelContainer>();
  private readonly restarting = new Set<string>();
  readonly logs = new Map<string, string[]>();
  readonly metrics = new MetricsStore();
  readonly trafficLog: TrafficLogStore;
  /** When metrics and log rows become visible to queries. */
  readonly timing: TelemetryTiming;
  readonly faults: FaultState;
  readonly calls: CallRecord[] = [];
  readonly inflight = new Map<string, number>();
  readonly random: () => number;
  /** The workspaces' blob storage (workspaceblobstore): Azurite or an existing service. */
  readonly blobStore: BlobStore;
  /** Writes what deployments with a data collector collect. */
  readonly dataCollection: DataCollectionWriter;
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;
  baseUrl = '';

  constructor(readonly options: CoreOptions) {
    this.state = loadState(options.stateDir);
    this.random = seededRandom(options.seed);
    this.faults = new FaultState(seededRandom((options.seed ^ 0x5eed) >>> 0));
    this.trafficLog = new TrafficLogStore(options.trafficLog ?? DEFAULT_TRAFFIC_LOG_OPTIONS);
    this.timing = new TelemetryTiming(options.metricsDelayMs, options.azureTiming);
    this.blobStore = new BlobStore(options.blobStorage);
    this.dataCollection = new DataCollectionWriter(this.blobStore, { seed: options.seed, ...options.dataCollection });
  }

  persist(): void {
    saveState(this.options.stateDir, this.state);
  }

  // ---- lookups ----

  endpoint(name: string): EndpointRecord | undefined {
    return this.state.endpoints[endpointKey(name)];
  }
  deployment(endpoint: string, name: string): DeploymentRecord | undefined {
    return this.state.deployments[deploymentKey(endpoint, name)];
  }
  deploymentsOf(endpoint: string): DeploymentRecord[] {
    return Object.values(this.state.deployments)
      .filter((d) => d.endpoint.toLowerCase() === endpoint.toLowerCase())
      .sort((a, b) => a.systemData.createdAt.localeCompare(b.systemData.createdAt) || a.name.localeCompare(b.name));
  }
  /** The running operation on an endpoint or any of its deployments (Azure serializes them: a second write gets 409). */
  runningOperation(endpoint: string): OperationRecord | undefined {
    return Object.values(this.state.operations).find((o) => o.status === 'InProgress' && o.endpoint.toLowerCase() === endpoint.toLowerCase());
  }

  // ---- container logs ----

  log(key: string, line: string): void {
    const lines = this.logs.get(key) ?? [];
    lines.push(`${new Date().toISOString()} ${line}`);
    if (lines.length > MAX_LOG_LINES) lines.splice(0, lines.length - MAX_LOG_LINES);
    this.logs.set(key, lines);
  }

  // ---- call log ----

  recordCall(c: CallRecord): void {
    this.calls.push(c);
    if (this.calls.length > MAX_CALLS) this.calls.splice(0, this.calls.length - MAX_CALLS);
  }

  // ---- containers ----

  /** Starts a container for `dep` (its model must be shipped). Resolves when the model is loaded. */
  async startContainer(dep: DeploymentRecord): Promise<ModelContainer> {
    const key = deploymentKey(dep.endpoint, dep.name);
    const ref = dep.properties.model;
    const uploaded = ref !== undefined && !resolveModel(ref) && isRegisteredModel(this, ref);
    const model = ref === undefined || uploaded ? CONTAINER_STAND_IN : resolveModel(ref);
    if (!model) throw new Error(`model ${ref} is not available`);
    if (uploaded) {
      this.log(key, `[StorageInitializer] Downloading model ${ref} (uploaded files: the emulator cannot run them and stands in with the scoring logic of ${model.name}:${model.version})`);
    } else if (ref === undefined) {
      const image = typeof dep.properties.environmentId === 'string' ? dep.properties.environmentId : 'its environment';
      this.log(key, `[InferenceServer] No model: the container of ${image} serves on its own (the emulator stands in with the scoring logic of ${model.name}:${model.version})`);
    } else {
      this.log(key, `[StorageInitializer] Downloading model ${ref} (${model.description})`);
      const mount = typeof dep.properties.modelMountPath === 'string' ? dep.properties.modelMountPath : `/var/azureml-app/azureml-models/${model.name}/${model.version}`;
      this.log(key, `[StorageInitializer] Model ${model.name}:${model.version} downloaded to ${mount}`);
    }
    let lastMemorySample = 0;
    const container: ModelContainer = new ModelContainer(
      model,
      (line) => this.log(key, `[InferenceServer] ${line}`),
      (ms) => {
        this.metrics.addBusy(key, ms);
        // The worker reports its heap with every answer; keep at most 4 samples a second.
        const now = Date.now();
        if (now - lastMemorySample >= 250 && this.containers.get(key) === container) {
          lastMemorySample = now;
          this.metrics.addMemory(key, (container.heapUsed / container.heapLimit) * 100, now);
        }
      },
    );
    await container.start();
    return container;
  }

  /** Puts `container` in service for the deployment, stopping the one it replaces. */
  installContainer(dep: DeploymentRecord, container: ModelContainer): void {
    const key = deploymentKey(dep.endpoint, dep.name);
    const old = this.containers.get(key);
    this.containers.set(key, container);
    if (old && old !== container) void old.stop();
  }

  async stopContainer(endpoint: string, deployment: string): Promise<void> {
    const key = deploymentKey(endpoint, deployment);
    const c = this.containers.get(key);
    this.containers.delete(key);
    if (c) await c.stop();
  }

  /** Restarts a crashed container in the background (like Kubernetes restarting a pod), unless a crash fault holds it down. */
  restartLater(dep: DeploymentRecord): void {
    const key = deploymentKey(dep.endpoint, dep.name);
    if (this.restarting.has(key) || this.closed) return;
    this.restarting.add(key);
    this.log(key, '[InferenceServer] Back-off restarting failed container');
    this.after(250, () => {
      if (this.closed || this.faults.behaviour(dep.endpoint, dep.name).crash) {
        this.restarting.delete(key);
        return;
      }
      const current = this.deployment(dep.endpoint, dep.name);
      if (!current) {
        this.restarting.delete(key);
        return;
      }
      this.startContainer(current)
        .then((c) => {
          if (this.closed || !this.deployment(dep.endpoint, dep.name)) void c.stop();
          else this.installContainer(current, c);
        })
        .catch((e: unknown) => this.log(key, `[InferenceServer] restart failed: ${(e as Error).message}`))
        .finally(() => this.restarting.delete(key));
    });
  }

  /** Samples the heap of every running container (memory metric). */
  sampleMemory(): void {
    for (const [key, c] of this.containers) {
      if (!c.alive) continue;
      this.metrics.addMemory(key, (c.heapUsed / c.heapLimit) * 100);
      c.sampleMemory();
    }
  }

  // ---- long-running operations ----

  operationDurationMs(): number {
    return this.faults.operationDurationMs ?? this.options.provisionTimeMs;
  }

  /**
   * Starts an operation: it stays InProgress for the operation duration and until `prepare` (e.g. loading
   * the model into a new container) has finished, then `prepare`'s commit is applied and it Succeeds — or
   * it Fails with the error `prepare` threw (`{code, message}`) and `onFailure` runs.
   */
  startOperation(
    init: { kind: OperationKind; subscriptionId: string; region: string; endpoint: string; deployment?: string; resourcePath: string },
    prepare: () => Promise<() => void>,
    onFailure: (error: { code: string; message: string }) => void,
  ): OperationRecord {
    const now = Date.now();
    const duration = this.operationDurationMs();
    const op: OperationRecord = {
      id: `${init.kind.startsWith('deployment') ? 'odidp' : 'oe'}:${randomUUID()}:${randomUUID()}`,
      ...init,
      status: 'InProgress',
      startTime: new Date(now).toISOString(),
      dueAt: now + duration,
    };
    this.state.operations[op.id] = op;
    this.pruneOperations();
    this.persist();
    const wait = new Promise<void>((resolve) => this.after(duration, resolve));
    const work = prepare();
    void (async () => {
      // Both must finish: the operation lasts at least its duration even when preparing fails early.
      const [outcome] = await Promise.allSettled([work, wait]);
      if (this.closed || op.status !== 'InProgress') return;
      if (outcome.status === 'fulfilled') {
        outcome.value();
        op.status = 'Succeeded';
      } else {
        const e = outcome.reason as { code?: unknown; message?: unknown };
        op.error = { code: typeof e.code === 'string' ? e.code : 'InternalServerError', message: typeof e.message === 'string' ? e.message : String(outcome.reason) };
        op.status = 'Failed';
        onFailure(op.error);
      }
      op.endTime = new Date().toISOString();
      this.persist();
    })();
    return op;
  }

  private pruneOperations(): void {
    const ops = Object.values(this.state.operations);
    if (ops.length <= 500) return;
    for (const o of ops.filter((x) => x.status !== 'InProgress').slice(0, ops.length - 500)) delete this.state.operations[o.id];
  }

  /** A timer the emulator cancels on close. */
  after(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  /** Restores a loaded state: finishes operations a stopped emulator left running and starts containers. */
  async restore(): Promise<void> {
    for (const op of Object.values(this.state.operations)) {
      if (op.status === 'InProgress') {
        op.status = 'Canceled';
        op.endTime = new Date().toISOString();
        op.error = { code: 'OperationCanceled', message: 'The emulator stopped while the operation was running; it was finished on restart.' };
      }
    }
    for (const [k, ep] of Object.entries(this.state.endpoints)) {
      if (ep.provisioningState === 'Deleting') {
        delete this.state.endpoints[k];
        for (const d of this.deploymentsOf(ep.name)) delete this.state.deployments[deploymentKey(d.endpoint, d.name)];
        continue;
      }
      if (ep.provisioningState !== 'Failed') ep.provisioningState = 'Succeeded';
      ep.applied = { live: { ...ep.traffic }, mirror: { ...ep.mirrorTraffic } };
    }
    for (const [k, d] of Object.entries(this.state.deployments)) {
      if (d.provisioningState === 'Deleting') {
        delete this.state.deployments[k];
        continue;
      }
      if (d.provisioningState !== 'Failed') d.provisioningState = 'Succeeded';
      d.appliedCapacity = d.sku.capacity;
    }
    this.persist();
    if (Object.values(this.state.deployments).some((d) => enabledCollections(d.properties.dataCollector as DataCollectorSpec | undefined).length > 0)) {
      // Deployments that collect data need the blob store; start it now rather than on the first request.
      this.blobStore.ensure().catch((e: unknown) => console.error(`[emulator] blob storage did not start: ${(e as Error).message}`));
    }
    const starts = Object.values(this.state.deployments)
      .filter((d) => d.provisioningState === 'Succeeded')
      .map(async (d) => {
        this.metrics.setCapacity(deploymentKey(d.endpoint, d.name), d.appliedCapacity);
        try {
          this.installContainer(d, await this.startContainer(d));
        } catch (e) {
          this.log(deploymentKey(d.endpoint, d.name), `[InferenceServer] failed to start after restart: ${(e as Error).message}`);
        }
      });
    await Promise.all(starts);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.all([...this.containers.values()].map((c) => c.stop()));
    this.containers.clear();
    await this.dataCollection.close();
    await this.blobStore.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
