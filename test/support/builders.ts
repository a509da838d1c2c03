/**
 * Shared builders for every test tier: plans (`aPlanDocument()`, `aPlan()`), an endpoint
 * (`anEndpoint()`), metrics (`healthyMetrics()`, `metricsFor('fail')`), and `FakeAzure` — fake
 * activities that keep an endpoint's state the way Azure does (refusing what Azure refuses, via
 * domain/traffic.ts), record every call with its (server, time-skipped) time, and take hooks and fault
 * knobs so a test can act at an exact point of a rollout (approve when the approval is requested, abort
 * on the 3rd analysis, change traffic by hand before the 2nd canary …).
 *
 * Also `startRollout()`: how a client must start a rollout (workflow id from the endpoint's resource id,
 * conflict policy FAIL, static summary/details, search attributes) and the refusal of a second one that
 * names the running rollout. The client room should reuse it as is.
 */
import { activityInfo } from '@temporalio/activity';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker, type NativeConnection, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type {
  CallWebhookGateInput,
  DeleteDeploymentInput,
  EnsureDeploymentInput,
  EstimateCostInput,
  GetMetricsSnapshotInput,
  NotifyInput,
  RolloutActivities,
  SetEndpointTrafficInput,
  LegacySetEndpointTrafficInput,
  GetEndpointResult,
  DeploymentInfo,
} from '../../activities/types.js';
import { trafficChangeOf, type ReadPredictionPairsInput, type ReadPredictionPairsResult } from '../../activities/types.js';
import { emptySkips, pairPredictions } from '../../domain/predictions/index.js';
import type { DecisionTrust } from '../../domain/decision-signature.js';
import { testTrust } from './signers.js';
import { ErrorType } from '../../domain/errors.js';
import type { DeploymentMetrics, MetricsSnapshot, VerdictStatus, WebhookVerdict } from '../../domain/gates.js';
import { formatPlanIssue, parsePlan, type PlanDocument, type RolloutPlan } from '../../domain/plan.js';
import type { SafeRolloutResult } from '../../domain/rollout.js';
import { deletionViolation, formatTraffic, normalizeTraffic, sameTraffic, trafficViolations, type TrafficState } from '../../domain/traffic.js';
import type { safeRollout } from '../../workflows/safe-rollout.js';
import { RolloutAlreadyRunningError, startSafeRollout } from '../../client/start-rollout.js';
import { RG, SUB, WS } from '../emulator/support.js';

// ───────────────────────────── plans ─────────────────────────────

/** The full example plan of examples/rollout.yaml, as a fresh object (mutate freely). */
export function aPlanDocument(patch?: (doc: ExamplePlan) => void): PlanDocument {
  const doc: ExamplePlan = {
    apiVersion: 'glidepath/v1',
    kind: 'Rollout',
    target: { subscriptionId: '00000000-0000-0000-0000-000000000000', resourceGroup: 'ml-prod', workspace: 'fraud-prod', endpoint: 'fraud-detection' },
    baseline: 'blue',
    candidate: {
      name: 'green',
      deployment: {
        model: 'azureml:fraud-detector:2',
        environment: 'azureml:fraud-env:3',
        code_configuration: { code: 'azureml:fraud-code:2', scoring_script: 'score.py' },
        instance_type: 'Standard_DS3_v2',
        instance_count: 2,
        app_insights_enabled: true,
        egress_public_network_access: 'disabled',
        request_settings: { request_timeout_ms: 3000, max_concurrent_requests_per_instance: 4 },
        environment_variables: { LOG_LEVEL: 'info' },
      },
    },
    strategy: [
      { mirror: { percent: 20, bake: '30m' } },
      { costCheck: { maxMonthlyUsd: 2000, maxIncreasePercent: 25 } },
      { approval: { timeout: '24h', onTimeout: 'rollback' } },
      { canary: { percent: 10, bake: '15m' } },
      { canary: { percent: 50, bake: '30m', approval: true } },
      { promote: { rollbackWindow: '1h' } },
      { retire: {} },
    ],
    analysis: { interval: '1m', failureLimit: 2, minRequests: 100, onInconclusive: 'extend', maxExtensions: 3 },
    gates: {
      latencyP99Ms: { max: 250, maxRatioToBaseline: 1.2 },
      latencyP50Ms: { max: 80 },
      errorRate: { max: 0.01, maxIncrease: 0.005 },
      modelErrorRate: { max: 0.01 },
      cpuPercent: { max: 85 },
      memoryPercent: { max: 85 },
      webhook: { url: 'https://eval.example.com/check', timeout: '30s' },
    },
    approvals: { approvers: ['alice@contoso.com', 'slack:U024BE7LH'], fourEyes: true, verified: false },
    policies: { requireEgressDisabled: true, requireAppInsights: true, allowedInstanceTypes: ['Standard_DS3_v2', 'Standard_F4s_v2'] },
    notify: { slack: { channel: 'C0123456' } },
    rollback: { deleteCandidate: false },
    deadline: '72h',
  };
  patch?.(doc);
  return doc as PlanDocument;
}

/** The example plan's shape with loose step typing, so tests can patch any field. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ExamplePlan = Record<string, any>;

/** The smallest valid plan (examples/minimal.yaml). */
export function aMinimalPlanDocument(patch?: (doc: ExamplePlan) => void): PlanDocument {
  const doc: ExamplePlan = {
    apiVersion: 'glidepath/v1',
    kind: 'Rollout',
    target: { subscriptionId: '00000000-0000-0000-0000-000000000000', resourceGroup: 'ml-prod', workspace: 'fraud-prod', endpoint: 'fraud-detection' },
    candidate: { name: 'green', deployment: { model: 'azureml:fraud-detector:2', instance_type: 'Standard_DS3_v2', instance_count: 2 } },
    strategy: [],
  };
  patch?.(doc);
  return doc as PlanDocument;
}

/**
 * A short plan for tests that run many rollouts (property tests): mirror 10m, approval, canary 10% and
 * 50% for 10m, promote with a 10m window, retire; analysis every 5m; no webhook.
 */
export function aShortPlanDocument(patch?: (doc: ExamplePlan) => void): PlanDocument {
  return aPlanDocument((d) => {
    d.strategy = [
      { mirror: { percent: 20, bake: '10m' } },
      { costCheck: { maxMonthlyUsd: 2000 } },
      { approval: { timeout: '24h', onTimeout: 'rollback' } },
      { canary: { percent: 10, bake: '10m' } },
      { canary: { percent: 50, bake: '10m', approval: true } },
      { promote: { rollbackWindow: '10m' } },
      { retire: {} },
    ];
    d.analysis = { interval: '5m', failureLimit: 2, minRequests: 100, onInconclusive: 'extend', maxExtensions: 1 };
    delete d.gates.webhook;
    patch?.(d);
  });
}

/** A parsed plan (defaults applied); throws with the plan's issues when the document is invalid. */
/**
 * A compressed plan for the emulator's workspace: every step of the example (mirror 30%, cost check,
 * approval, canaries 20% and 50%, promote, retire) with bakes of seconds. `patch` replaces whole fields.
 */
export function anEmulatorPlanDocument(endpoint: string, model = 'azureml:fraud-detector:2', patch: Partial<PlanDocument> = {}): PlanDocument {
  return {
    apiVersion: 'glidepath/v1',
    kind: 'Rollout',
    target: { subscriptionId: SUB, resourceGroup: RG, workspace: WS, endpoint },
    baseline: 'blue',
    candidate: {
      name: 'green',
      deployment: { model, instance_type: 'Standard_DS3_v2', instance_count: 1, request_settings: { request_timeout_ms: 5000, max_concurrent_requests_per_instance: 8 } },
    },
    strategy: [
      { mirror: { percent: 30, bake: '6s' } },
      { costCheck: { maxMonthlyUsd: 5000 } },
      { approval: { timeout: '5m', onTimeout: 'rollback' } },
      { canary: { percent: 20, bake: '4s' } },
      { canary: { percent: 50, bake: '4s' } },
      { promote: { rollbackWindow: '2s' } },
      { retire: {} },
    ],
    analysis: { interval: '2s', failureLimit: 2, minRequests: 5, onInconclusive: 'extend', maxExtensions: 3 },
    gates: { latencyP99Ms: { max: 250, maxRatioToBaseline: 4 }, errorRate: { max: 0.02 }, modelErrorRate: { max: 0.02 } },
    approvals: { approvers: ['alice@contoso.com'], fourEyes: true, verified: false },
    ...patch,
  } as PlanDocument;
}

export function aPlan(doc: PlanDocument = aPlanDocument()): RolloutPlan {
  const r = parsePlan(doc);
  if (!r.ok) throw new Error(`test plan is invalid: ${r.issues.map(formatPlanIssue).join('; ')}`);
  return r.plan;
}

/** People in the example plan. */
export const people = {
  starter: 'ci@contoso.com',
  approver: 'alice@contoso.com',
  slackApprover: 'slack:U024BE7LH',
  stranger: 'mallory@contoso.com',
} as const;

// ───────────────────────────── endpoint and metrics ─────────────────────────────

/** The fake endpoint's state: what Azure would return from GET. */
export interface EndpointState {
  name: string;
  provisioningState: string;
  location: string;
  traffic: TrafficState;
  deployments: DeploymentInfo[];
}

/** The example's endpoint before a rollout: `blue` (2 × Standard_DS3_v2) serves 100%. */
export function anEndpoint(patch?: Partial<EndpointState>): EndpointState {
  return {
    name: 'fraud-detection',
    provisioningState: 'Succeeded',
    location: 'westeurope',
    traffic: { live: { blue: 100 }, mirror: {} },
    deployments: [{ name: 'blue', provisioningState: 'Succeeded', instanceType: 'Standard_DS3_v2', instanceCount: 2, model: 'azureml:fraud-detector:1' }],
    ...patch,
  };
}

/** A deployment's metrics that pass the example's gates. */
export function healthy(patch?: Partial<DeploymentMetrics>): DeploymentMetrics {
  return {
    requests: 1000,
    errorRate: 0.001,
    modelErrorRate: 0,
    latencyP50Ms: 40,
    latencyP95Ms: 90,
    latencyP99Ms: 150,
    cpuPercent: 40,
    memoryPercent: 50,
    ...patch,
  };
}

/** A snapshot where both deployments look healthy. */
export function healthyMetrics(patch?: { baseline?: Partial<DeploymentMetrics> | null; candidate?: Partial<DeploymentMetrics> | null }): MetricsSnapshot {
  return {
    windowMs: 60_000,
    baseline: patch?.baseline === null ? null : healthy(patch?.baseline),
    candidate: patch?.candidate === null ? null : healthy(patch?.candidate),
  };
}

/** A snapshot that makes the example's gates say `status`. */
export function metricsFor(status: VerdictStatus): MetricsSnapshot {
  switch (status) {
    case 'pass':
      return healthyMetrics();
    case 'fail':
      return healthyMetrics({ candidate: { latencyP99Ms: 900, errorRate: 0.05 } });
    case 'inconclusive':
      return healthyMetrics({ candidate: { requests: 3 } });
  }
}

// ───────────────────────────── fake activities ─────────────────────────────

/** One recorded activity call. `at` is the server's (time-skipped) schedule time of the attempt. */
export interface RecordedCall {
  name: keyof RolloutActivities;
  input: unknown;
  at: number;
  attempt: number;
}

/** One traffic write the fake applied, with the state before and after. */
export interface TrafficWrite {
  at: number;
  before: TrafficState;
  after: TrafficState;
}

/** What a hook gets: the fake, the workflow's handle, and which call of that activity this is (1-based). */
export interface HookContext {
  fake: FakeAzure;
  handle: WorkflowHandle<typeof safeRollout>;
  n: number;
}

/** Callbacks that run inside the fake activity, before it returns (so the workflow is still waiting on it). */
export interface FakeHooks {
  onNotify?: (input: NotifyInput, ctx: HookContext) => Promise<void> | void;
  onMetrics?: (input: GetMetricsSnapshotInput, ctx: HookContext) => Promise<void> | void;
  onGetEndpoint?: (ctx: HookContext) => Promise<void> | void;
  onSetTraffic?: (input: SetEndpointTrafficInput | LegacySetEndpointTrafficInput, ctx: HookContext) => Promise<void> | void;
}

/**
 * Fake Azure behind the RolloutActivities interface. It keeps one endpoint, applies Azure's traffic
 * rules, refuses drift like the real `setEndpointTraffic`, and records everything.
 */
export class FakeAzure {
  endpoint: EndpointState;
  readonly calls: RecordedCall[] = [];
  readonly trafficWrites: TrafficWrite[] = [];
  readonly notifications: NotifyInput[] = [];
  readonly deleted: { name: string; at: number }[] = [];
  /** Errors thrown by hooks (hooks run inside activities; a failing assertion there must reach the test). */
  readonly hookErrors: unknown[] = [];
  /** The metrics the n-th getMetricsSnapshot call (1-based) returns; default healthy. */
  metrics: (n: number, input: GetMetricsSnapshotInput) => MetricsSnapshot = () => healthyMetrics();
  webhookVerdict: (n: number) => WebhookVerdict = () => ({ status: 'pass', reason: 'offline evaluation 0.97 ≥ 0.95' });
  modelExists = true;
  /** Hourly price per instance by type. */
  prices: Record<string, number> = { Standard_DS3_v2: 0.5, Standard_F4s_v2: 0.4 };
  /** Fault knobs: the next N calls of an activity fail with these errors (consumed in order). */
  readonly failures: Partial<Record<keyof RolloutActivities, Error[]>> = {};
  hooks: FakeHooks = {};
  /** What `readPredictionPairs` answers for its n-th call (default: nothing collected, no pairs). */
  predictionPairs: (n: number, input: ReadPredictionPairsInput) => ReadPredictionPairsResult = (_n, input) => ({
    window: input.window,
    read: {
      folders: 0, missingFolders: 0, missingFolderExamples: [], blobs: 0, bytes: 0, blobsNotRead: 0, lines: 0, outsideWindow: 0, skipped: emptySkips(),
      units: { baseline: { inputs: 0, outputs: 0 }, candidate: { inputs: 0, outputs: 0 } }, elapsedMs: 0, timings: { listMs: 0, readMs: 0, parseMs: 0, pairMs: 0 },
    },
    summary: pairPredictions({ inputs: [], outputs: [] }, { inputs: [], outputs: [] }, { label: ['label'] }),
  });
  client?: Client;
  /** What the worker's `trustedSigners` answers: the test signers (test/support/signers.ts). */
  trust: DecisionTrust = testTrust();

  constructor(endpoint: EndpointState = anEndpoint()) {
    this.endpoint = endpoint;
  }

  /** How many times an activity was called. */
  count(name: keyof RolloutActivities): number {
    return this.calls.filter((c) => c.name === name).length;
  }

  /** Inputs of every call of an activity. */
  inputs<K extends keyof RolloutActivities>(name: K): Parameters<RolloutActivities[K]>[0][] {
    return this.calls.filter((c) => c.name === name).map((c) => c.input as Parameters<RolloutActivities[K]>[0]);
  }

  /**
   * Whether the last traffic change was a rollback's read-compare-write to `baseline` alone (expected:
   * null — it takes over whatever is there; the activity reads the endpoint back and returns what it read).
   */
  lastChangeWasRollbackTo(baseline: string): boolean {
    const last = this.inputs('setEndpointTraffic').at(-1);
    if (!last) return false;
    const { expected, target } = trafficChangeOf(last);
    return expected === null && sameTraffic(target, { live: { [baseline]: 100 }, mirror: {} });
  }

  /** Changes traffic "by hand", as someone in the Azure portal would. */
  setTrafficByHand(state: TrafficState): void {
    this.endpoint.traffic = structuredClone(state);
  }

  private record(name: keyof RolloutActivities, input: unknown): number {
    let at = Date.now();
    let attempt = 1;
    try {
      const info = activityInfo();
      at = info.currentAttemptScheduledTimestampMs;
      attempt = info.attempt;
    } catch {
      // called outside an activity (unit use): wall time
    }
    this.calls.push({ name, input: structuredClone(input), at, attempt });
    const queued = this.failures[name];
    const err = queued?.shift();
    if (err) throw err;
    return this.calls.filter((c) => c.name === name).length;
  }

  private async hook<T>(fn: ((input: T, ctx: HookContext) => Promise<void> | void) | undefined, input: T, n: number): Promise<void> {
    if (!fn) return;
    try {
      await fn(input, { fake: this, handle: this.handle(), n });
    } catch (err) {
      this.hookErrors.push(err);
    }
  }

  /** The handle of the workflow whose activity is running. */
  handle(): WorkflowHandle<typeof safeRollout> {
    if (!this.client) throw new Error('FakeAzure.client is not set');
    const id = activityInfo().workflowExecution?.workflowId;
    if (!id) throw new Error('FakeAzure.handle() called outside a workflow activity');
    return this.client.workflow.getHandle<typeof safeRollout>(id);
  }

  private snapshot(): GetEndpointResult {
    return structuredClone({ ...this.endpoint, traffic: this.endpoint.traffic });
  }

  /** The activity functions to give a Worker. */
  activities(): RolloutActivities {
    return {
      getEndpoint: async (input) => {
        const n = this.record('getEndpoint', input);
        await this.hook(this.hooks.onGetEndpoint ? (_: unknown, ctx: HookContext) => this.hooks.onGetEndpoint!(ctx) : undefined, undefined, n);
        return this.snapshot();
      },
      checkModelExists: async (input) => {
        this.record('checkModelExists', input);
        return this.modelExists ? { exists: true, resolvedId: input.model } : { exists: false };
      },
      ensureDeployment: async (input: EnsureDeploymentInput) => {
        this.record('ensureDeployment', input);
        const existing = this.endpoint.deployments.find((d) => d.name === input.name);
        const info: DeploymentInfo = {
          name: input.name,
          provisioningState: 'Succeeded',
          instanceType: input.spec.instance_type,
          instanceCount: input.spec.instance_count,
          model: input.spec.model,
        };
        if (existing) Object.assign(existing, info);
        else this.endpoint.deployments.push(info);
        return { name: input.name, provisioningState: 'Succeeded', created: !existing, instanceType: info.instanceType!, instanceCount: info.instanceCount! };
      },
      setEndpointTraffic: async (input: SetEndpointTrafficInput | LegacySetEndpointTrafficInput) => {
        const n = this.record('setEndpointTraffic', input);
        await this.hook(this.hooks.onSetTraffic, input, n);
        const { expected, target: requested } = trafficChangeOf(input);
        const current = this.endpoint.traffic;
        if (sameTraffic(current, requested)) return { traffic: structuredClone(current) }; // an earlier attempt applied it
        if (expected !== null && !sameTraffic(current, expected)) {
          throw ApplicationFailure.create({
            type: ErrorType.TrafficDrift,
            message: `endpoint traffic is ${formatTraffic(current)}, expected ${formatTraffic(expected)}`,
            nonRetryable: true,
            details: [{ expected, actual: structuredClone(current) }],
          });
        }
        const violations = trafficViolations(requested, this.endpoint.deployments.map((d) => d.name));
        if (violations.length) {
          throw ApplicationFailure.create({ type: ErrorType.InvalidTraffic, message: violations.map((v) => v.message).join('; '), nonRetryable: true, details: [violations] });
        }
        const at = this.calls[this.calls.length - 1]!.at;
        this.trafficWrites.push({ at, before: normalizeTraffic(current), after: normalizeTraffic(requested) });
        this.endpoint.traffic = structuredClone(requested);
        return { traffic: structuredClone(requested) };
      },
      deleteDeployment: async (input: DeleteDeploymentInput) => {
        this.record('deleteDeployment', input);
        const v = deletionViolation(input.name, this.endpoint.traffic);
        if (v) throw ApplicationFailure.create({ type: ErrorType.InvalidTraffic, message: v.message, nonRetryable: true });
        const before = this.endpoint.deployments.length;
        this.endpoint.deployments = this.endpoint.deployments.filter((d) => d.name !== input.name);
        // Azure drops the zero entries of a deleted deployment from the traffic maps.
        delete this.endpoint.traffic.live[input.name];
        delete this.endpoint.traffic.mirror[input.name];
        const deleted = this.endpoint.deployments.length < before;
        if (deleted) this.deleted.push({ name: input.name, at: this.calls[this.calls.length - 1]!.at });
        return { deleted };
      },
      getMetricsSnapshot: async (input: GetMetricsSnapshotInput) => {
        const n = this.record('getMetricsSnapshot', input);
        await this.hook(this.hooks.onMetrics, input, n);
        return this.metrics(n, input);
      },
      estimateCost: async (input: EstimateCostInput) => {
        this.record('estimateCost', input);
        const price = this.prices[input.instanceType];
        const hourly = (price ?? 1) * input.instanceCount;
        return { hourlyUsd: hourly, monthlyUsd: hourly * 730, fallback: price === undefined, source: price === undefined ? 'fallback-table' : 'retail-prices:westeurope' };
      },
      callWebhookGate: async (input: CallWebhookGateInput) => {
        const n = this.record('callWebhookGate', input);
        return this.webhookVerdict(n);
      },
      readPredictionPairs: async (input: ReadPredictionPairsInput) => {
        const n = this.record('readPredictionPairs', input);
        return this.predictionPairs(n, input);
      },
      notify: async (input: NotifyInput) => {
        const n = this.record('notify', input);
        this.notifications.push(structuredClone(input));
        await this.hook(this.hooks.onNotify, input, n);
        return { delivered: true };
      },
      trustedSigners: async () => {
        this.record('trustedSigners', undefined);
        return structuredClone(this.trust);
      },
    };
  }
}

// ───────────────────────────── starting a rollout ─────────────────────────────

export { RolloutAlreadyRunningError };

/**
 * Starts a rollout the way every client must (client/start-rollout.ts); a second start while one runs
 * throws RolloutAlreadyRunningError naming the running rollout.
 */
export async function startRollout(
  client: Client,
  args: { plan: PlanDocument; startedBy: string; taskQueue: string },
): Promise<WorkflowHandle<typeof safeRollout>> {
  const parsed = parsePlan(args.plan);
  if (!parsed.ok) throw new Error(`invalid plan: ${parsed.issues.map(formatPlanIssue).join('; ')}`);
  return startSafeRollout(client, { plan: parsed.plan, document: args.plan, startedBy: args.startedBy, taskQueue: args.taskQueue });
}

// ───────────────────────────── running a rollout in a test ─────────────────────────────

let endpointCounter = 0;
/** A fresh, valid endpoint name, so every test's rollout has its own workflow id. */
export function uniqueEndpointName(prefix = 'ep'): string {
  endpointCounter += 1;
  return `${prefix}-${process.pid % 100000}-${endpointCounter}`.slice(0, 32);
}

/** What runRollout gives back. */
export interface RolloutRun {
  handle: WorkflowHandle<typeof safeRollout>;
  result: SafeRolloutResult;
  fake: FakeAzure;
}

/**
 * Runs one rollout to its end on a test environment: a worker with `fake`'s activities on a fresh task
 * queue, the plan (default: the full example) on a fresh endpoint name, started the way clients must.
 * Fails the test if a hook threw.
 */
export async function runRollout(
  env: { client: Client; nativeConnection: NativeConnection },
  opts: { plan?: PlanDocument; fake?: FakeAzure; startedBy?: string; workflowBundle: WorkflowBundleWithSourceMap },
): Promise<RolloutRun> {
  const fake = opts.fake ?? new FakeAzure();
  fake.client = env.client;
  const plan = structuredClone(opts.plan ?? aPlanDocument()) as ExamplePlan;
  if (plan.target.endpoint === 'fraud-detection') plan.target.endpoint = uniqueEndpointName();
  const taskQueue = `tq-${plan.target.endpoint}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: opts.workflowBundle, activities: fake.activities() });
  const { handle, result } = await worker.runUntil(async () => {
    const handle = await startRollout(env.client, { plan: plan as PlanDocument, startedBy: opts.startedBy ?? people.starter, taskQueue });
    return { handle, result: await handle.result() };
  });
  if (fake.hookErrors.length) throw fake.hookErrors[0];
  return { handle, result, fake };
}
