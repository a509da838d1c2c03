/**
 * A fake RolloutGateway for server-free CLI and Slack tests: rollouts held in memory, messages judged by
 * the same pure rules the workflow's validators use (domain/messages.ts), every call recorded.
 */
import { decisionSender, type DecisionChannel } from '../../domain/approvals.js';
import { abortRefusal, approveRefusal, pauseRefusal, rejectRefusal, resumeRefusal, type MessageContext } from '../../domain/messages.js';
import { parsePlan, type PlanDocument, type RolloutPlan } from '../../domain/plan.js';
import { rolloutWorkflowId } from '../../domain/ids.js';
import type { MessageAccepted, RolloutStatus, SafeRolloutInput, SafeRolloutResult } from '../../domain/rollout.js';
import { CliError, ExitCode, MessageRefusedError, RolloutNotFoundError } from '../../client/errors.js';
import { glidepathSearchAttributes, type MessageInput, type RolloutEnd, type RolloutGateway, type RolloutMessage, type RolloutSummary, type SetupResult, type TemporalFlags } from '../../client/temporal.js';
import type { CliRuntime } from '../../client/cli.js';
import type { CommandDeps } from '../../client/commands/types.js';

export interface FakeRollout {
  summary: RolloutSummary;
  input: SafeRolloutInput;
  plan: RolloutPlan;
  status: RolloutStatus;
  result: SafeRolloutResult | null;
}

export function statusFor(plan: RolloutPlan, startedBy: string, patch: Partial<RolloutStatus> = {}): RolloutStatus {
  return {
    workflowId: rolloutWorkflowId(plan.target),
    endpoint: plan.target.endpoint,
    candidate: plan.candidate.name,
    baseline: plan.baseline ?? 'blue',
    startedBy,
    startedAt: '2026-11-25T08:00:00.000Z',
    stage: 'preflight',
    stepIndex: -1,
    stepText: 'preflight',
    steps: plan.strategy.map((s) => s.kind),
    traffic: null,
    lastVerdicts: [],
    pendingApproval: null,
    approvals: [],
    paused: null,
    stopping: null,
    refusals: [],
    events: [],
    outcome: null,
    ...patch,
  };
}

export class FakeGateway implements RolloutGateway {
  readonly rollouts = new Map<string, FakeRollout>();
  readonly calls: { op: string; args: unknown[] }[] = [];
  readonly applied: { workflowId: string; message: RolloutMessage; input: MessageInput }[] = [];
  /** The Temporal client identity this gateway puts on decisions, as the real one does. */
  readonly identity = '4711@fake-gateway';
  /** Delay every status read (to prove the Slack bridge acknowledges before the work is done). */
  statusDelayMs = 0;
  closed = false;
  /** Workers polling each task queue's workflow tasks (a queue not listed has one); 0 plays "no worker". */
  readonly pollers: Record<string, number> = {};
  /** Search attributes the fake namespace has; `setup` registers the missing ones. */
  readonly registered = new Set<string>();
  /** The connection flags the command connected with. */
  flags: TemporalFlags | undefined;
  /** Called on every status read with the read count: lets a test move a rollout along (or end it). */
  tick?: (r: FakeRollout, reads: number) => void;
  private reads = 0;

  get started(): string[] {
    return this.calls.filter((c) => c.op === 'start').map((c) => (c.args[0] as { plan: RolloutPlan }).plan.target.endpoint);
  }

  /** Adds a running rollout of `doc`, e.g. waiting for an approval. */
  add(doc: PlanDocument, startedBy: string, patch: Partial<RolloutStatus> = {}): FakeRollout {
    const p = parsePlan(doc);
    if (!p.ok) throw new Error('bad plan in test');
    const status = statusFor(p.plan, startedBy, patch);
    const r: FakeRollout = {
      summary: { workflowId: status.workflowId, runId: 'run-1', execution: 'RUNNING', endpoint: status.endpoint, candidate: status.candidate, stage: status.stage, outcome: null, startedAt: status.startedAt, closedAt: null },
      input: { plan: doc, startedBy },
      plan: p.plan,
      status,
      result: null,
    };
    this.rollouts.set(status.workflowId, r);
    return r;
  }

  private get(id: string): FakeRollout {
    const r = this.rollouts.get(id);
    if (!r) throw new RolloutNotFoundError(id);
    return r;
  }

  async start(args: { plan: RolloutPlan; document: PlanDocument; startedBy: string }) {
    this.calls.push({ op: 'start', args: [args] });
    const id = rolloutWorkflowId(args.plan.target);
    if (this.rollouts.get(id)?.summary.execution === 'RUNNING') throw new CliError(`a rollout is already running on endpoint ${args.plan.target.endpoint}`, ExitCode.invalidInput);
    this.add(args.document, args.startedBy);
    return { workflowId: id, runId: 'run-1' };
  }
  async describe(id: string) {
    this.calls.push({ op: 'describe', args: [id] });
    return this.get(id).summary;
  }
  async status(id: string) {
    this.calls.push({ op: 'status', args: [id] });
    if (this.statusDelayMs) await new Promise((r) => setTimeout(r, this.statusDelayMs));
    const r = this.get(id);
    this.reads += 1;
    this.tick?.(r, this.reads);
    return structuredClone(r.status);
  }
  async send(id: string, message: RolloutMessage, sent: MessageInput): Promise<MessageAccepted> {
    this.calls.push({ op: 'send', args: [id, message, sent] });
    const input: MessageInput = message === 'approve' || message === 'reject' ? { ...sent, clientIdentity: this.identity } : sent;
    const r = this.get(id);
    const s = r.status;
    const ctx: MessageContext = {
      stage: s.stage,
      stepText: s.stepText,
      stopping: s.stopping,
      paused: s.paused,
      pendingApproval: s.pendingApproval,
      steps: s.steps,
      startedBy: s.startedBy,
      approvers: r.plan.approvals.approvers,
      fourEyes: r.plan.approvals.fourEyes,
    };
    const rules = { approve: approveRefusal, reject: rejectRefusal, abort: abortRefusal, pause: pauseRefusal, resume: resumeRefusal };
    const why = rules[message](ctx, input);
    if (why) throw new MessageRefusedError(why);
    this.applied.push({ workflowId: id, message, input });
    const by = input.by;
    if (message === 'approve' || message === 'reject') {
      const from = decisionSender(input as { channel?: DecisionChannel; clientIdentity?: string });
      s.approvals.push({ at: '2026-11-25T08:10:00.000Z', stepIndex: s.pendingApproval!.stepIndex, decision: message === 'approve' ? 'approved' : 'rejected', by, via: 'update', ...from });
      s.pendingApproval = null;
    }
    if (message === 'pause') s.paused = { reason: typeof input.reason === 'string' ? input.reason : 'paused by hand', by, at: '2026-11-25T08:10:00.000Z' };
    if (message === 'resume') s.paused = null;
    if (message === 'abort') s.stopping = `aborted by ${by}`;
    return { accepted: true, message: `${message} by ${by}` };
  }
  async outcome(id: string): Promise<RolloutEnd> {
    const r = this.get(id);
    if (r.result) return { kind: 'result', result: r.result };
    return { kind: 'failure', execution: r.summary.execution, errorType: null, message: 'no result' };
  }
  async list(filter: { endpoint?: string; running?: boolean; limit?: number }) {
    this.calls.push({ op: 'list', args: [filter] });
    return [...this.rollouts.values()]
      .map((r) => r.summary)
      .filter((s) => (!filter.endpoint || s.endpoint === filter.endpoint) && (!filter.running || s.execution === 'RUNNING'));
  }
  async input(id: string) {
    return this.get(id).input;
  }
  async setup(): Promise<SetupResult> {
    this.calls.push({ op: 'setup', args: [] });
    const names = glidepathSearchAttributes.map((k) => k.name);
    const registered = names.filter((n) => !this.registered.has(n));
    const alreadyThere = names.filter((n) => this.registered.has(n));
    for (const n of registered) this.registered.add(n);
    return { namespace: this.flags?.namespace ?? 'default', registered, alreadyThere };
  }
  async workflowPollers(taskQueue = 'glidepath') {
    this.calls.push({ op: 'workflowPollers', args: [taskQueue] });
    return { taskQueue, pollers: this.pollers[taskQueue] ?? 1 };
  }
  async close() {
    this.closed = true;
  }
}

/** A CLI runtime over in-memory files and a fake gateway, capturing output. */
export function testRuntime(opts: { gateway?: RolloutGateway | (() => Promise<RolloutGateway>); files?: Record<string, string>; stdin?: string; env?: NodeJS.ProcessEnv } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const files: Record<string, string> = { ...(opts.files ?? {}) };
  const g = opts.gateway;
  let now = Date.parse('2026-11-25T08:00:00.000Z');
  const deps: CommandDeps = {
    gateway:
      typeof g === 'function'
        ? g
        : async (flags) => {
            const gw = g ?? new FakeGateway();
            if (gw instanceof FakeGateway) gw.flags = flags;
            return gw;
          },
    files: {
      readFile: async (p) => {
        if (p.endsWith('/')) throw Object.assign(new Error('EISDIR'), { code: 'EISDIR' });
        if (!(p in files)) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
        return files[p]!;
      },
      readStdin: async () => opts.stdin ?? '',
      writeFile: async (p, d) => {
        files[p] = d;
      },
    },
    env: opts.env ?? {},
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
    progress: (l) => out.push(l),
    fetch: async () => {
      throw new Error('no network in unit tests');
    },
  };
  const runtime: CliRuntime = { stdout: (t) => out.push(t), stderr: (t) => err.push(t), deps };
  return { runtime, out, err, files };
}
