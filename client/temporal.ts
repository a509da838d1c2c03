/**
 * The typed facade over the Temporal client that every Glidepath command and the Slack bridge use:
 * start a rollout, read its status, send it a message, wait for its result, list rollouts, fetch its
 * plan from the history. Temporal's errors are translated here into the CLI's taxonomy
 * (client/errors.ts), so callers never look at gRPC codes.
 *
 * Connection settings come from Temporal's environment configuration, the same the worker reads
 * (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS_*`, `temporal.toml` profiles).
 */
import type { DecisionSignature } from '../domain/decision-signature.js';
import {
  Client,
  Connection,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  defaultPayloadConverter,
  ApplicationFailure,
  isGrpcDeadlineError,
  isGrpcServiceError,
  ServiceError,
  type ConnectionOptions,
  type WorkflowExecutionInfo,
} from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { ErrorType } from '../domain/errors.js';
import { endedFromOutside, leftMidRolloutAdvice } from '../domain/restore.js';
import { DEFAULT_TASK_QUEUE, ROLLOUT_ID_PREFIX, rolloutWorkflowId } from '../domain/ids.js';
import type { PlanDocument, RolloutPlan } from '../domain/plan.js';
import type { MessageAccepted, RolloutStatus, SafeRolloutInput, SafeRolloutResult } from '../domain/rollout.js';
import type { safeRollout } from '../workflows/index.js';
import * as messages from '../workflows/messages.js';
import { GlidepathCandidate, GlidepathEndpoint, GlidepathOutcome, GlidepathStage, glidepathSearchAttributes } from '../workflows/search-attributes.js';
import { RolloutAlreadyRunningError, startSafeRollout } from './start-rollout.js';
import { CliError, ExitCode, InvalidInputError, MessageRefusedError, RolloutNotFoundError, SetupNeededError, UnreachableError } from './errors.js';

export { DEFAULT_TASK_QUEUE };
/** Glidepath's search attributes, for whoever starts a server and registers them (the demo's dev server). */
export { glidepathSearchAttributes } from '../workflows/search-attributes.js';

/** The messages a person can send a running rollout. */
export type RolloutMessage = 'approve' | 'reject' | 'abort' | 'pause' | 'resume';

/** The input of a message as the caller gives it (undefined fields are dropped); approve/reject also carry `stepIndex`, `channel` and, from a trusted signer, `signature`. */
export type MessageInput = { by: string; signature?: DecisionSignature } & Record<string, string | number | DecisionSignature | undefined>;

/** The execution state Temporal reports, in Temporal's words. */
export type ExecutionState = 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'TERMINATED' | 'CONTINUED_AS_NEW' | 'TIMED_OUT' | 'PAUSED' | 'UNKNOWN' | 'UNSPECIFIED';

/** One rollout as `list` and `describe` show it (from Temporal's visibility: search attributes, times). */
export interface RolloutSummary {
  workflowId: string;
  runId: string;
  execution: ExecutionState;
  endpoint: string | null;
  candidate: string | null;
  stage: string | null;
  outcome: string | null;
  startedAt: string;
  closedAt: string | null;
  /** The task queue the run's workflow tasks go to (absent where unknown). */
  taskQueue?: string;
}

/** What `glidepath setup` did to each of Glidepath's search attributes. */
export interface SetupResult {
  namespace: string;
  registered: string[];
  alreadyThere: string[];
}

/** How a finished rollout ended, as Temporal reports it: a result, or a failure with its type. */
export type RolloutEnd =
  | { kind: 'result'; result: SafeRolloutResult }
  | {
      kind: 'failure';
      execution: ExecutionState;
      errorType: string | null;
      message: string;
      /** Ended from outside (terminated, timed out): no rollback ran; what to do about the endpoint. */
      leftMidRollout?: string;
    };

/** What the commands and the Slack bridge need from Temporal. Faked in unit tests. */
export interface RolloutGateway {
  /** Starts a rollout of a validated plan; a second rollout on a busy endpoint is a CliError (exit 2) naming the running one. */
  start(args: { plan: RolloutPlan; document: PlanDocument; startedBy: string }): Promise<{ workflowId: string; runId: string }>;
  /** Temporal's view of a rollout (the latest run). RolloutNotFoundError when there is none. */
  describe(workflowId: string): Promise<RolloutSummary>;
  /** The `status` query. */
  status(workflowId: string): Promise<RolloutStatus>;
  /**
   * Sends an update; a validator's refusal is a MessageRefusedError with its reason. An approve or
   * reject goes out with this client's Temporal identity as `clientIdentity` (self-asserted: see
   * DecisionSender in domain/approvals.ts).
   */
  send(workflowId: string, message: RolloutMessage, input: MessageInput): Promise<MessageAccepted>;
  /** Waits for the rollout to end and says how. */
  outcome(workflowId: string): Promise<RolloutEnd>;
  /** Rollouts, newest first. */
  list(filter: { endpoint?: string; running?: boolean; limit?: number }): Promise<RolloutSummary[]>;
  /** The plan the rollout was started with (from the first event of its history). */
  input(workflowId: string): Promise<SafeRolloutInput | null>;
  /** Registers Glidepath's search attributes on the namespace where missing (idempotent). */
  setup(): Promise<SetupResult>;
  /** How many workers poll `taskQueue` (default: this client's) for workflow tasks, as Temporal's DescribeTaskQueue reports. */
  /** Workers polling the workflow task queue; `pollers: null` when the server cannot say (Temporal's Java test server). */
  workflowPollers(taskQueue?: string): Promise<{ taskQueue: string; pollers: number | null }>;
  close(): Promise<void>;
}

/** Connection settings: Temporal's envconfig plus Glidepath's task queue. */
export interface TemporalSettings {
  connection: ConnectionOptions;
  namespace: string;
  taskQueue: string;
  address: string;
}

/** `--address`, `--namespace`, `--profile`, as the Temporal CLI has them: a flag beats the environment, which beats the profile. */
export interface TemporalFlags {
  address?: string | undefined;
  namespace?: string | undefined;
  profile?: string | undefined;
}

/**
 * Reads the connection settings from the environment (TEMPORAL_* and GLIDEPATH_TASK_QUEUE) and the
 * command's flags, which win over both (they are applied as the TEMPORAL_* variables they stand for).
 */
export function temporalSettings(env: NodeJS.ProcessEnv, flags: TemporalFlags = {}): TemporalSettings {
  const vars = Object.fromEntries(Object.entries(env).filter((kv): kv is [string, string] => typeof kv[1] === 'string'));
  if (flags.address) vars.TEMPORAL_ADDRESS = flags.address;
  if (flags.namespace) vars.TEMPORAL_NAMESPACE = flags.namespace;
  if (flags.profile) vars.TEMPORAL_PROFILE = flags.profile;
  let connect;
  try {
    connect = loadClientConnectConfig({ overrideEnvVars: vars });
  } catch (err) {
    throw new InvalidInputError(`invalid Temporal configuration: ${(err as Error).message}`, [], { cause: err });
  }
  const connection = { ...(connect.connectionOptions as ConnectionOptions), connectTimeout: env.GLIDEPATH_CONNECT_TIMEOUT ?? '5s' } as ConnectionOptions;
  return {
    connection,
    namespace: connect.namespace ?? 'default',
    taskQueue: env.GLIDEPATH_TASK_QUEUE || DEFAULT_TASK_QUEUE,
    address: connection.address ?? 'localhost:7233',
  };
}

/** True when `err` (or a cause) says Temporal could not be reached or answered with a transport error. */
function isTransportError(err: unknown): boolean {
  for (let e: unknown = err, i = 0; e && i < 6; e = (e as { cause?: unknown }).cause, i++) {
    if (e instanceof ServiceError || isGrpcServiceError(e)) return true;
    if (e instanceof Error && /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|Failed to connect|connection|deadline/i.test(e.message)) return true;
  }
  return false;
}

/** True when Temporal refused a start because a search attribute is not registered on the namespace. */
function missingSearchAttribute(err: unknown): boolean {
  for (let e: unknown = err, i = 0; e && i < 6; e = (e as { cause?: unknown }).cause, i++) {
    const text = e instanceof Error ? `${e.message} ${(e as { details?: string }).details ?? ''}` : '';
    if (/search attribute/i.test(text) && /no mapping|not defined|unknown|not registered|is not a valid/i.test(text)) return true;
  }
  return false;
}

/** Maps an error from the Temporal client onto the CLI's taxonomy. */
export function translateTemporalError(err: unknown, what: { workflowId?: string; address: string }): Error {
  if (err instanceof CliError) return err;
  if (err instanceof WorkflowNotFoundError) return new RolloutNotFoundError(what.workflowId ?? 'that id', { cause: err });
  if (err instanceof WorkflowUpdateFailedError) {
    const cause = err.cause;
    if (cause instanceof ApplicationFailure && cause.type === ErrorType.MessageRefused) return new MessageRefusedError(cause.message, { cause: err });
    return new InvalidInputError(`the rollout refused the message: ${cause?.message ?? err.message}`, [], { cause: err });
  }
  if (isGrpcServiceError(err) && err.code === 5 /* NOT_FOUND */) return new RolloutNotFoundError(what.workflowId ?? 'that id', { cause: err });
  if (missingSearchAttribute(err)) {
    return new SetupNeededError(`the Temporal namespace does not have Glidepath's search attributes: run \`glidepath setup\` (once per namespace) — ${innermostMessage(err).split('\n')[0]}`, { cause: err });
  }
  if (isGrpcServiceError(err) && err.code === 3 /* INVALID_ARGUMENT */) return new InvalidInputError(`Temporal refused the request: ${err.details || err.message}`, [], { cause: err });
  if (isTransportError(err)) {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return new UnreachableError(`cannot talk to Temporal at ${what.address}: ${msg}`, { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}

const QUERY_DEADLINE_MS = 15_000;

function summaryOf(info: WorkflowExecutionInfo | Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['describe']>>): RolloutSummary {
  const sa = info.typedSearchAttributes;
  return {
    workflowId: info.workflowId,
    runId: info.runId,
    execution: (info.status.name ?? 'UNKNOWN') as ExecutionState,
    endpoint: sa.get(GlidepathEndpoint) ?? null,
    candidate: sa.get(GlidepathCandidate) ?? null,
    stage: sa.get(GlidepathStage) ?? null,
    outcome: sa.get(GlidepathOutcome) ?? null,
    startedAt: info.startTime.toISOString(),
    closedAt: info.closeTime ? info.closeTime.toISOString() : null,
    ...(info.taskQueue ? { taskQueue: info.taskQueue } : {}),
  };
}

function failureType(err: unknown): string | null {
  for (let e: unknown = err, i = 0; e && i < 6; e = (e as { cause?: unknown }).cause, i++) {
    if (e instanceof ApplicationFailure && e.type) return e.type;
  }
  return null;
}

function innermostMessage(err: unknown): string {
  let msg = err instanceof Error ? err.message : String(err);
  for (let e: unknown = (err as { cause?: unknown }).cause, i = 0; e && i < 6; e = (e as { cause?: unknown }).cause, i++) {
    if (e instanceof Error && e.message) msg = e.message;
  }
  return msg;
}

/** Escapes a value for a visibility query string literal. */
function lit(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The Temporal implementation of {@link RolloutGateway}. */
export class TemporalRolloutGateway implements RolloutGateway {
  private constructor(
    private readonly connection: Connection,
    private readonly client: Client,
    private readonly settings: TemporalSettings,
  ) {}

  /** Connects (fails fast with UnreachableError when Temporal is not there). */
  static async connect(settings: TemporalSettings): Promise<TemporalRolloutGateway> {
    let connection: Connection;
    try {
      connection = await Connection.connect(settings.connection);
    } catch (err) {
      const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
      throw new UnreachableError(`cannot reach Temporal at ${settings.address}: ${msg}`, { cause: err });
    }
    const client = new Client({ connection, namespace: settings.namespace });
    return new TemporalRolloutGateway(connection, client, settings);
  }

  private async call<T>(workflowId: string | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw translateTemporalError(err, { ...(workflowId ? { workflowId } : {}), address: this.settings.address });
    }
  }

  async start(args: { plan: RolloutPlan; document: PlanDocument; startedBy: string }): Promise<{ workflowId: string; runId: string }> {
    try {
      const handle = await startSafeRollout(this.client, { ...args, taskQueue: this.settings.taskQueue });
      return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
    } catch (err) {
      if (err instanceof RolloutAlreadyRunningError) throw new CliError(err.message, ExitCode.invalidInput, { cause: err });
      throw translateTemporalError(err, { workflowId: rolloutWorkflowId(args.plan.target), address: this.settings.address });
    }
  }

  describe(workflowId: string): Promise<RolloutSummary> {
    return this.call(workflowId, async () => summaryOf(await this.client.workflow.getHandle(workflowId).describe()));
  }

  async status(workflowId: string): Promise<RolloutStatus> {
    try {
      return await this.connection.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => this.client.workflow.getHandle(workflowId).query(messages.status));
    } catch (err) {
      if (isGrpcDeadlineError(err)) {
        throw new UnreachableError(
          `no worker answered the status query of ${workflowId} within ${QUERY_DEADLINE_MS / 1000}s: is a glidepath worker polling task queue ${this.settings.taskQueue}?`,
          { cause: err },
        );
      }
      throw translateTemporalError(err, { workflowId, address: this.settings.address });
    }
  }

  send(workflowId: string, message: RolloutMessage, input: MessageInput): Promise<MessageAccepted> {
    const clean = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as { by: string };
    const decision = { ...clean, clientIdentity: this.client.options.identity };
    const handle = this.client.workflow.getHandle(workflowId);
    return this.call(workflowId, () => {
      switch (message) {
        case 'approve':
          return handle.executeUpdate(messages.approve, { args: [decision] });
        case 'reject':
          return handle.executeUpdate(messages.reject, { args: [decision] });
        case 'abort':
          return handle.executeUpdate(messages.abort, { args: [clean] });
        case 'pause':
          return handle.executeUpdate(messages.pause, { args: [clean] });
        case 'resume':
          return handle.executeUpdate(messages.resume, { args: [decision] });
        default: {
          const never: never = message;
          throw new Error(`unknown message ${String(never)}`);
        }
      }
    });
  }

  async outcome(workflowId: string): Promise<RolloutEnd> {
    const handle = this.client.workflow.getHandle<typeof safeRollout>(workflowId);
    try {
      return { kind: 'result', result: await handle.result() };
    } catch (err) {
      if (err instanceof WorkflowFailedError) {
        const d = await this.describe(workflowId).catch(() => null);
        const execution = d?.execution ?? 'FAILED';
        const advice = endedFromOutside(execution) ? await this.leftMidRollout(workflowId, execution).catch(() => null) : null;
        return { kind: 'failure', execution, errorType: failureType(err), message: innermostMessage(err), ...(advice ? { leftMidRollout: advice } : {}) };
      }
      throw translateTemporalError(err, { workflowId, address: this.settings.address });
    }
  }

  list(filter: { endpoint?: string; running?: boolean; limit?: number }): Promise<RolloutSummary[]> {
    const clauses = [`WorkflowType = "safeRollout"`];
    if (filter.endpoint) clauses.push(`${GlidepathEndpoint.name} = ${lit(filter.endpoint)}`);
    if (filter.running) clauses.push(`ExecutionStatus = "Running"`);
    const limit = filter.limit ?? 100;
    return this.call(undefined, async () => {
      const out: RolloutSummary[] = [];
      for await (const info of this.client.workflow.list({ query: clauses.join(' AND '), pageSize: Math.min(limit, 100) })) {
        out.push(summaryOf(info));
        if (out.length >= limit) break;
      }
      return out;
    });
  }

  /** The advice for a rollout that ended without rolling back: the endpoint from its input, the baseline from its status when a worker answers. */
  private async leftMidRollout(workflowId: string, execution: string): Promise<string | null> {
    const input = await this.input(workflowId);
    if (!input) return null;
    const plan = input.normalized ?? (input.plan as unknown as RolloutPlan);
    const status = await this.client.workflow.getHandle(workflowId).query(messages.status).catch(() => null);
    const baseline = status?.baseline ?? input.continued?.status.baseline ?? plan.baseline ?? null;
    return leftMidRolloutAdvice(execution, plan.target, baseline, plan.candidate.name);
  }

  input(workflowId: string): Promise<SafeRolloutInput | null> {
    return this.call(workflowId, async () => {
      const history = await this.client.workflow.getHandle(workflowId).fetchHistory();
      const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
      return payload ? (defaultPayloadConverter.fromPayload(payload) as SafeRolloutInput) : null;
    });
  }

  /** Registers Glidepath's search attributes on the namespace where missing: `glidepath setup`, and the demo on a server it did not start. */
  async setup(): Promise<SetupResult> {
    const { temporal } = (await import('@temporalio/proto')).default;
    const keyword = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
    const namespace = this.settings.namespace;
    return this.call(undefined, async () => {
      const existing = await this.connection.operatorService.listSearchAttributes({ namespace });
      const known = new Set([...Object.keys(existing.customAttributes ?? {}), ...Object.keys(existing.systemAttributes ?? {})]);
      const names = glidepathSearchAttributes.map((k) => k.name);
      const missing = names.filter((n) => !known.has(n));
      if (missing.length) {
        try {
          await this.connection.operatorService.addSearchAttributes({ namespace, searchAttributes: Object.fromEntries(missing.map((n) => [n, keyword])) });
        } catch (err) {
          // a concurrent setup registered them first: the outcome is the same
          if (!(isGrpcServiceError(err) && err.code === 6 /* ALREADY_EXISTS */)) throw err;
        }
      }
      return { namespace, registered: missing, alreadyThere: names.filter((n) => known.has(n)) };
    });
  }

  /** Kept for the demo: {@link setup} without the account. */
  async ensureSearchAttributes(): Promise<void> {
    await this.setup();
  }

  async workflowPollers(taskQueue = this.settings.taskQueue): Promise<{ taskQueue: string; pollers: number | null }> {
    const { temporal } = (await import('@temporalio/proto')).default;
    return this.call(undefined, async () => {
      try {
        const r = await this.client.workflowService.describeTaskQueue({
          namespace: this.settings.namespace,
          taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
          taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        });
        return { taskQueue, pollers: r.pollers?.length ?? 0 };
      } catch (err) {
        // gRPC UNIMPLEMENTED (12): a server without the task-queue API (the Java test server) cannot say.
        if ((err as { code?: unknown }).code === 12) return { taskQueue, pollers: null };
        throw err;
      }
    });
  }

  /** Terminates the rollout's latest run (the demo, when stopped, ends the rollouts it started so none waits for its worker). */
  terminate(workflowId: string, reason: string): Promise<void> {
    return this.call(workflowId, async () => {
      await this.client.workflow.getHandle(workflowId).terminate(reason);
    });
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}

/** True when the text looks like a rollout's workflow id rather than an endpoint name. */
export function isRolloutId(text: string): boolean {
  return text.startsWith(ROLLOUT_ID_PREFIX);
}
