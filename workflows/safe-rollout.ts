/**
 * `safeRollout`: one durable workflow that takes an Azure ML online endpoint from "baseline serves 100%"
 * to "candidate serves 100%, baseline retired" — or back to the baseline by itself.
 *
 * The body runs what domain/ decides: the plan (parsed again here, the workflow trusts nobody), the
 * traffic each step sets (domain/transitions), the verdict of each analysis (domain/gates) and what
 * follows from it (domain/analysis). People steer it with the messages in messages.ts; their rules are
 * in domain/messages.ts, their state in rollout-state.ts.
 *
 * Shape of a run:
 *   preflight → deploy → steps (mirror, costCheck, approval, canary…, promote, retire)
 *   any stop (failed gate, reject, abort, approval timeout, deadline, activity failure, cancellation)
 *   → rollback in a non-cancellable scope: baseline 100% live, no mirror, read back from the endpoint.
 *
 * Invariants kept here: every traffic change is preceded by a read of the endpoint and refused on drift
 * (7); the candidate gets live traffic only from the first canary/promote step, after the steps before
 * it passed (2); the baseline is deleted only by the retire step, after the promote step held 100% for
 * its rollback window (4); no loops poll Azure — activities do, with heartbeats (8).
 */
import {
  ApplicationFailure,
  CancellationScope,
  TemporalFailure,
  ActivityFailure,
  allHandlersFinished,
  condition,
  isCancellation,
  log,
  proxyActivities,
  setCurrentDetails,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { GetEndpointResult, NotificationKind, RolloutActivities } from '../activities/types.js';
import { afterAnalysis, firstWait, startBake } from '../domain/analysis.js';
import { formatDuration } from '../domain/duration.js';
import { ErrorType, NON_RETRYABLE_ERROR_TYPES } from '../domain/errors.js';
import { evaluateCost, evaluateGates, formatVerdict, withWebhook, type Verdict } from '../domain/gates.js';
import type { Stage } from '../domain/messages.js';
import { approvalNotice, describeSender, type ApprovalNotice } from '../domain/approvals.js';
import { describeStep, formatPlanIssue, parsePlan, type ApprovalPolicy, type RolloutPlan, type Step } from '../domain/plan.js';
import { formatPolicyViolation, policyViolations } from '../domain/policies.js';
import type { RolloutOutcome, SafeRolloutInput, SafeRolloutResult, RollbackReport } from '../domain/rollout.js';
import { deletionViolation, formatTraffic, normalizeTraffic, sameTraffic, trafficViolations, type TrafficState } from '../domain/traffic.js';
import { baselineTraffic, candidateLivePercent, fullTrafficHolder, trafficForStep, trafficSummary, type RolloutPair } from '../domain/transitions.js';
import { initialState, nowIso, record, recordVerdict, registerHandlers, requestStop, type RolloutState } from './rollout-state.js';
import { GlidepathCandidate, GlidepathEndpoint, GlidepathOutcome, GlidepathStage } from './search-attributes.js';

const retry = {
  initialInterval: '2s',
  backoffCoefficient: 2,
  maximumInterval: '1m',
  maximumAttempts: 5,
  nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
};

/**
 * Every Azure activity heartbeats while it runs (at each poll of a long operation, and every 5 s while it
 * waits on anything else: activities/heartbeat.ts), so a worker that dies mid-call is noticed within
 * 30 s and the call is retried elsewhere, instead of after its start-to-close timeout.
 */
const AZURE_HEARTBEAT = '30s';

/**
 * Reads (endpoint, model, metrics, prices): quick calls with a bounded retry. A read has no effect to
 * wait for, so when the rollout stops (abort, deadline, cancel) it is abandoned and rollback starts at once.
 */
const azure = proxyActivities<RolloutActivities>({ startToCloseTimeout: '2m', scheduleToCloseTimeout: '15m', heartbeatTimeout: AZURE_HEARTBEAT, retry, cancellationType: 'ABANDON' });

/** Writes (traffic, deletion): traffic writes run in non-cancellable scopes; a deletion is waited for. */
const writes = proxyActivities<RolloutActivities>({ startToCloseTimeout: '2m', scheduleToCloseTimeout: '15m', heartbeatTimeout: AZURE_HEARTBEAT, retry });

/** Creating the candidate takes minutes: the activity polls Azure and heartbeats. */
const deploy = proxyActivities<RolloutActivities>({
  startToCloseTimeout: '90m',
  heartbeatTimeout: AZURE_HEARTBEAT,
  retry: { ...retry, maximumAttempts: 3 },
});

/** Rollback calls retry longer: giving up on a rollback leaves traffic on a bad candidate. */
const undo = proxyActivities<RolloutActivities>({
  startToCloseTimeout: '2m',
  scheduleToCloseTimeout: '30m',
  heartbeatTimeout: AZURE_HEARTBEAT,
  retry: { ...retry, maximumAttempts: 20, nonRetryableErrorTypes: [ErrorType.TrafficDrift, ErrorType.InvalidTraffic, ErrorType.EndpointNotFound] },
});

/** The external webhook gate: its timeout comes from the plan (set per call). */
const webhook = proxyActivities<RolloutActivities>({ startToCloseTimeout: '1m', retry: { initialInterval: '1s', maximumAttempts: 2 }, cancellationType: 'ABANDON' });

/** Notifications are best effort: a few attempts, and the workflow swallows the failure. */
const notifier = proxyActivities<RolloutActivities>({ startToCloseTimeout: '30s', retry: { initialInterval: '1s', maximumAttempts: 3 }, cancellationType: 'ABANDON' });

/** Internal: a decision to stop the rollout (never leaves the workflow). */
class StopRollout extends Error {
  constructor(
    readonly outcome: RolloutOutcome,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'StopRollout';
  }
}

/** Rolls out `input.plan`'s candidate. See the module comment for the shape of a run. */
export async function safeRollout(input: SafeRolloutInput): Promise<SafeRolloutResult> {
  const info = workflowInfo();
  const parsed = parsePlan(input.plan);
  if (!parsed.ok) {
    throw ApplicationFailure.create({
      type: ErrorType.InvalidPlan,
      message: `invalid plan: ${parsed.issues.map(formatPlanIssue).join('; ')}`,
      nonRetryable: true,
      details: [parsed.issues],
    });
  }
  const plan = parsed.plan;
  const state = initialState({ plan, workflowId: info.workflowId, startedBy: input.startedBy });
  state.status.steps = plan.strategy.map(describeStep);
  const endpoint = plan.target;
  const steps = new CancellationScope();
  const run = new Rollout(state, endpoint);

  registerHandlers(state, { cancelSteps: () => steps.cancel(), notify: (k, t, f) => run.notify(k, t, f), publish: () => run.publish() });
  upsertSearchAttributes([
    { key: GlidepathEndpoint, value: endpoint.endpoint },
    { key: GlidepathCandidate, value: plan.candidate.name },
  ]);
  run.setStage('preflight', -1, 'preflight');
  record(state, 'started', `rollout of ${plan.candidate.name} on ${endpoint.endpoint} started by ${input.startedBy}`);
  await run.notify('started', `Rollout of ${plan.candidate.name} (${plan.candidate.deployment.model}) on ${endpoint.endpoint} started by ${input.startedBy}`);

  // The deadline: not promoted by then → roll back. Disarmed once the candidate holds 100%.
  const deadline = new CancellationScope();
  run.disarmDeadline = () => deadline.cancel();
  void deadline
    .run(() => sleep(plan.deadlineMs, { summary: `deadline ${formatDuration(plan.deadlineMs)}: roll back if not promoted by then` }))
    .then(
      () => {
        if (requestStop(state, 'rolled_back', `deadline ${formatDuration(plan.deadlineMs)} passed before the candidate was promoted`)) {
          record(state, 'deadline', state.stop!.reason, state.status.stepIndex);
          steps.cancel();
        }
      },
      () => undefined, // cancelled: disarmed
    );

  let outcome: RolloutOutcome;
  let reason: string;
  let errorType: string | null = null;
  let rollback: RollbackReport | null = null;
  try {
    await steps.run(() => run.steps());
    outcome = 'promoted';
    reason = `${plan.candidate.name} serves 100% of ${endpoint.endpoint}${state.undo.baseline && plan.strategy.some((s) => s.kind === 'retire') ? `; ${state.undo.baseline} retired` : ''}`;
  } catch (err) {
    const cancelledFromOutside = CancellationScope.current().consideredCancelled;
    if (!(err instanceof StopRollout) && !(err instanceof TemporalFailure)) throw err; // a bug: fail the task, retry after a fix
    if (err instanceof StopRollout) requestStop(state, err.outcome, err.reason);
    if (cancelledFromOutside) requestStop(state, 'aborted', 'the workflow was cancelled');
    if (!state.stop && !run.touchedEndpoint()) {
      // Preflight failed before anything changed: fail the execution with the cause, nothing to undo.
      run.disarmDeadline();
      run.finishStatus('failed');
      throw err instanceof ApplicationFailure ? err : wrapFailure(err as TemporalFailure, 'preflight failed');
    }
    if (!state.stop) {
      errorType = failureType(err);
      requestStop(state, 'failed', `${describeFailure(err)}`);
    }
    ({ outcome, reason } = state.stop!);
    run.disarmDeadline();
    rollback = await CancellationScope.nonCancellable(() => run.rollback(reason));
    if (!rollback.confirmed || cancelledFromOutside) run.finishStatus(outcome); // ending here, not below
    if (!rollback.confirmed) {
      // Loud: the endpoint may still send traffic to the candidate. The failure carries the report.
      const report = rollback;
      await CancellationScope.nonCancellable(() => run.notify('rollback_failed', `ROLLBACK NOT CONFIRMED on ${endpoint.endpoint}: ${report.errors.join('; ')}`));
      throw ApplicationFailure.create({
        type: ErrorType.RollbackFailed,
        message: `rollback of ${endpoint.endpoint} not confirmed (${outcome}: ${reason}): ${report.errors.join('; ')}`,
        nonRetryable: true,
        details: [{ outcome, reason, rollback: report }],
        cause: err instanceof TemporalFailure ? err : undefined,
      });
    }
    if (cancelledFromOutside) throw err; // the execution ends Cancelled, after the rollback
  } finally {
    run.disarmDeadline();
  }
  run.finishStatus(outcome);
  record(state, 'finished', `${outcome}: ${reason}`);
  await CancellationScope.nonCancellable(() => run.notify('finished', `Rollout ${outcome}: ${reason}`));
  await condition(allHandlersFinished);
  return {
    outcome,
    reason,
    workflowId: info.workflowId,
    endpoint: endpoint.endpoint,
    baseline: state.undo.baseline,
    candidate: plan.candidate.name,
    startedBy: input.startedBy,
    startedAt: state.status.startedAt,
    finishedAt: nowIso(),
    rollback,
    errorType,
    approvals: state.status.approvals,
    verdicts: state.verdicts,
    timeline: state.status.events,
  };
}

function failureType(err: unknown): string | null {
  let e: unknown = err;
  for (let i = 0; i < 5 && e; i++) {
    if (e instanceof ApplicationFailure && e.type) return e.type;
    e = (e as { cause?: unknown }).cause;
  }
  return null;
}

function describeFailure(err: unknown): string {
  if (err instanceof ActivityFailure) {
    const cause = err.cause;
    return `activity ${err.activityType} failed: ${cause instanceof ApplicationFailure && cause.type ? `${cause.type}: ` : ''}${cause?.message ?? err.message}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** An ApplicationFailure that keeps the original failure as its cause (never flattened into a string). */
function wrapFailure(err: TemporalFailure, what: string): ApplicationFailure {
  return ApplicationFailure.create({ type: failureType(err) ?? 'RolloutFailed', message: `${what}: ${describeFailure(err)}`, nonRetryable: true, cause: err });
}

/** The running rollout: the step runners, sharing the state. */
class Rollout {
  disarmDeadline: () => void = () => undefined;
  private readonly plan: RolloutPlan;

  constructor(
    private readonly state: RolloutState,
    private readonly endpoint: RolloutPlan['target'],
  ) {
    this.plan = state.plan;
  }

  private get pair(): RolloutPair {
    return { baseline: this.state.undo.baseline ?? '(baseline)', candidate: this.plan.candidate.name };
  }

  touchedEndpoint(): boolean {
    return this.state.undo.candidateCreated || this.state.undo.changedTraffic;
  }

  // ───────────── audit trail ─────────────

  setStage(stage: Stage, stepIndex: number, stepText: string): void {
    const s = this.state.status;
    s.stage = stage;
    s.stepIndex = stepIndex;
    s.stepText = stepText;
    upsertSearchAttributes([{ key: GlidepathStage, value: stage }]);
    this.publish();
  }

  finishStatus(outcome: RolloutOutcome): void {
    const s = this.state.status;
    s.outcome = outcome;
    s.stage = 'done';
    s.pendingApproval = null;
    s.paused = null;
    upsertSearchAttributes([
      { key: GlidepathStage, value: 'done' },
      { key: GlidepathOutcome, value: outcome },
    ]);
    this.publish();
  }

  /** The UI's "current details": where the rollout is, in markdown. */
  publish(): void {
    const s = this.state.status;
    const last = s.lastVerdicts[s.lastVerdicts.length - 1];
    setCurrentDetails(
      [
        `**${s.stage}** — step ${s.stepIndex + 1}/${s.steps.length}: ${s.stepText}`,
        `**Traffic** ${s.traffic ? formatTraffic(s.traffic) : 'not read yet'}`,
        s.pendingApproval
          ? `**Waiting for approval** of ${s.pendingApproval.stepText} from ${s.pendingApproval.approvers.join(', ') || 'anyone'}` +
            (s.pendingApproval.timeoutAt ? ` until ${s.pendingApproval.timeoutAt} (then ${s.pendingApproval.onTimeout})` : '')
          : '',
        s.paused ? `**Paused** by ${s.paused.by}: ${s.paused.reason}` : '',
        s.stopping ? `**Stopping**: ${s.stopping}` : '',
        last ? `**Last analysis** (${last.at}) ${formatVerdict(last)}` : '',
        s.outcome ? `**Outcome** ${s.outcome}` : '',
      ]
        .filter(Boolean)
        .join('\n\n'),
    );
  }

  /** Tells people; a failed notification is recorded and never fails the rollout. Cancellation still propagates. */
  async notify(kind: NotificationKind, text: string, fields?: Record<string, string | number | boolean | null>, approval?: ApprovalNotice): Promise<void> {
    try {
      await notifier.notify.executeWithOptions({ summary: `notify ${kind}` }, [
        {
          kind,
          workflowId: this.state.status.workflowId,
          endpoint: this.endpoint.endpoint,
          candidate: this.plan.candidate.name,
          ...(this.plan.notify?.slack ? { channel: this.plan.notify.slack.channel } : {}),
          text,
          ...(fields ? { fields } : {}),
          ...(approval ? { approval } : {}),
        },
      ]);
    } catch (err) {
      if (isCancellation(err)) throw err;
      record(this.state, 'notify_failed', `notification '${kind}' failed: ${describeFailure(err)}`, this.state.status.stepIndex);
      log.warn('notification failed', { kind, error: describeFailure(err) });
    }
  }

  // ───────────── the steps ─────────────

  async steps(): Promise<void> {
    await this.preflight();
    await this.deployCandidate();
    for (const [i, step] of this.plan.strategy.entries()) {
      await this.checkpoint();
      await this.runStep(i, step);
    }
  }

  private async preflight(): Promise<void> {
    const violations = policyViolations(this.plan);
    if (violations.length) {
      throw ApplicationFailure.create({
        type: ErrorType.PolicyViolation,
        message: `the candidate breaks the plan's policies: ${violations.map(formatPolicyViolation).join('; ')}`,
        nonRetryable: true,
        details: [violations],
      });
    }
    const ep = await this.readEndpoint('read endpoint (preflight)');
    if (ep.provisioningState !== 'Succeeded') {
      throw ApplicationFailure.create({
        type: ErrorType.EndpointNotReady,
        message: `endpoint ${ep.name} is ${ep.provisioningState}, not Succeeded`,
        nonRetryable: true,
      });
    }
    const holder = fullTrafficHolder(ep.traffic);
    const baseline = this.plan.baseline ?? holder;
    if (!baseline || holder !== baseline) {
      throw ApplicationFailure.create({
        type: ErrorType.NoBaseline,
        message: this.plan.baseline
          ? `baseline ${this.plan.baseline} does not hold 100% of live traffic (${formatTraffic(ep.traffic)})`
          : `no deployment holds 100% of live traffic (${formatTraffic(ep.traffic)}); name the baseline or restore it first`,
        nonRetryable: true,
      });
    }
    if (baseline === this.plan.candidate.name) {
      throw ApplicationFailure.create({ type: ErrorType.NoBaseline, message: `the candidate ${baseline} already holds 100% of live traffic`, nonRetryable: true });
    }
    if (Object.keys(normalizeTraffic(ep.traffic).mirror).length > 0) {
      throw ApplicationFailure.create({
        type: ErrorType.EndpointNotReady,
        message: `endpoint ${ep.name} already mirrors traffic (${formatTraffic(ep.traffic)}); turn mirroring off first`,
        nonRetryable: true,
      });
    }
    const model = await azure.checkModelExists.executeWithOptions({ summary: `check model ${this.plan.candidate.deployment.model}` }, [
      { endpoint: this.endpoint, model: this.plan.candidate.deployment.model },
    ]);
    if (!model.exists) {
      throw ApplicationFailure.create({
        type: ErrorType.ModelNotFound,
        message: `model ${this.plan.candidate.deployment.model} does not exist in workspace ${this.endpoint.workspace}`,
        nonRetryable: true,
      });
    }
    this.state.undo.baseline = baseline;
    this.state.status.baseline = baseline;
    this.state.expectedTraffic = normalizeTraffic(ep.traffic);
    record(this.state, 'preflight', `baseline ${baseline} holds 100%; model ${model.resolvedId ?? this.plan.candidate.deployment.model} exists`);
  }

  private async deployCandidate(): Promise<void> {
    const spec = this.plan.candidate.deployment;
    this.setStage('deploy', -1, `deploy ${this.plan.candidate.name}`);
    // Counted as created before the call: a half-finished create must be undone too (deletion is idempotent).
    this.state.undo.candidateCreated = true;
    const r = await deploy.ensureDeployment.executeWithOptions(
      { summary: `deploy ${this.plan.candidate.name} (${spec.model}, ${spec.instance_count} × ${spec.instance_type}) at 0%` },
      [{ endpoint: this.endpoint, name: this.plan.candidate.name, spec }],
    );
    record(this.state, 'deployed', `${r.name} ${r.created ? 'created' : 'updated'} (${r.instanceCount} × ${r.instanceType}), ${r.provisioningState}`);
    await this.notify('step', `Deployed ${r.name} at 0% (${r.instanceCount} × ${r.instanceType})`);
  }

  private async runStep(i: number, step: Step): Promise<void> {
    const text = describeStep(step);
    record(this.state, 'step', `step ${i + 1}/${this.plan.strategy.length}: ${text}`, i);
    switch (step.kind) {
      case 'mirror': {
        this.setStage('mirror', i, text);
        await this.notify('step', `Step ${i + 1}: mirroring ${step.percent}% of traffic to ${this.pair.candidate} for ${formatDuration(step.bakeMs)}`);
        await this.setTraffic(trafficForStep(step, this.pair)!, i);
        await this.bake(i, step.bakeMs, `mirror ${step.percent}%`);
        return;
      }
      case 'costCheck': {
        this.setStage('cost-check', i, text);
        await this.costCheck(i, step);
        return;
      }
      case 'approval': {
        this.setStage('approval', i, text);
        await this.awaitApproval(i, text, step);
        return;
      }
      case 'canary': {
        if (step.approval) {
          this.setStage('approval', i, text);
          await this.awaitApproval(i, `canary ${step.percent}%`, step.approval);
          await this.checkpoint();
        }
        this.setStage('canary', i, text);
        await this.notify('step', `Step ${i + 1}: ${this.pair.candidate} takes ${step.percent}% of live traffic for ${formatDuration(step.bakeMs)}`);
        await this.setTraffic(trafficForStep(step, this.pair)!, i);
        await this.bake(i, step.bakeMs, `${step.percent}%`);
        return;
      }
      case 'promote': {
        this.setStage('promote', i, text);
        await this.setTraffic(trafficForStep(step, this.pair)!, i);
        this.disarmDeadline(); // promoted: the deadline no longer applies
        record(this.state, 'promoted', `${this.pair.candidate} serves 100%; ${this.pair.baseline} kept warm for ${formatDuration(step.rollbackWindowMs)}`, i);
        await this.notify('promoted', `${this.pair.candidate} now serves 100% of ${this.endpoint.endpoint}; ${this.pair.baseline} kept for a ${formatDuration(step.rollbackWindowMs)} rollback window`);
        if (step.rollbackWindowMs > 0) {
          await sleep(step.rollbackWindowMs, { summary: `rollback window ${formatDuration(step.rollbackWindowMs)}: ${this.pair.baseline} kept warm` });
        }
        await this.checkpoint();
        return;
      }
      case 'retire': {
        this.setStage('retire', i, text);
        await this.retireBaseline(i);
        return;
      }
      default: {
        const never: never = step;
        throw new Error(`unknown step ${JSON.stringify(never)}`);
      }
    }
  }

  /**
   * Holds while paused, telling people once that it now holds (and why). Abort and the deadline still
   * cancel the wait; `resume` ends it.
   */
  private async checkpoint(kind: NotificationKind = 'paused'): Promise<void> {
    const paused = this.state.status.paused;
    if (!paused) return;
    this.publish();
    await this.notify(kind, `Holding ${this.endpoint.endpoint} at ${this.state.status.stepText} (${formatTraffic(this.state.status.traffic ?? { live: {}, mirror: {} })}): ${paused.reason}. Resume to continue, abort to roll back.`, {
      pausedBy: paused.by,
      stepIndex: this.state.status.stepIndex,
    });
    await condition(() => this.state.status.paused === null);
  }

  private async readEndpoint(summary: string): Promise<GetEndpointResult> {
    const ep = await azure.getEndpoint.executeWithOptions({ summary }, [{ endpoint: this.endpoint }]);
    this.state.status.traffic = normalizeTraffic(ep.traffic);
    return ep;
  }

  /**
   * Sets traffic after checking nobody changed it since the rollout last did (invariant 7). On drift the
   * rollout pauses and notifies; `resume` accepts the endpoint as it is now and carries on from there.
   */
  private async setTraffic(target: TrafficState, stepIndex: number): Promise<void> {
    for (;;) {
      await this.checkpoint();
      const ep = await this.readEndpoint(`read endpoint before ${trafficSummary(target)}`);
      const expected = this.state.expectedTraffic!;
      if (!sameTraffic(ep.traffic, expected)) {
        await this.pauseForDrift(expected, ep.traffic, stepIndex);
        continue;
      }
      const violations = trafficViolations(target, ep.deployments.map((d) => d.name));
      if (violations.length) {
        throw ApplicationFailure.create({
          type: ErrorType.InvalidTraffic,
          message: `refusing ${formatTraffic(target)}: ${violations.map((v) => v.message).join('; ')}`,
          nonRetryable: true,
          details: [violations],
        });
      }
      try {
        // Not cancellable: once sent, the write's outcome must be known (and recorded) before anything else.
        const r = await CancellationScope.nonCancellable(() => {
          this.state.undo.changedTraffic = true;
          return writes.setEndpointTraffic.executeWithOptions({ summary: trafficSummary(target) }, [
            { endpoint: this.endpoint, live: target.live, mirror: target.mirror, expectedCurrent: ep.traffic },
          ]);
        });
        this.state.expectedTraffic = normalizeTraffic(r.traffic);
        this.state.status.traffic = normalizeTraffic(r.traffic);
        if (!sameTraffic(r.traffic, target)) {
          throw ApplicationFailure.create({
            type: ErrorType.TrafficNotApplied,
            message: `asked for ${formatTraffic(target)}, read back ${formatTraffic(r.traffic)}`,
            nonRetryable: true,
          });
        }
        record(this.state, 'traffic', formatTraffic(r.traffic), stepIndex);
        this.publish();
        return;
      } catch (err) {
        if (err instanceof ActivityFailure && failureType(err) === ErrorType.TrafficDrift) {
          const fresh = await this.readEndpoint('read endpoint after drift');
          await this.pauseForDrift(expected, fresh.traffic, stepIndex);
          continue;
        }
        throw err;
      }
    }
  }

  private async pauseForDrift(expected: TrafficState, actual: TrafficState, stepIndex: number): Promise<void> {
    const reason = `traffic changed outside Glidepath: expected ${formatTraffic(expected)}, found ${formatTraffic(actual)}`;
    this.state.status.paused = { reason: `${reason}; fix it, or resume to continue from the endpoint as it is`, by: 'glidepath', at: nowIso() };
    record(this.state, 'drift', reason, stepIndex);
    await this.checkpoint('drift');
    // Resumed: the endpoint as it is now is what the rollout expects from here on.
    const ep = await this.readEndpoint('read endpoint after resume');
    this.state.expectedTraffic = normalizeTraffic(ep.traffic);
  }

  /** Bakes a step: waits an interval, analyses, asks domain/analysis what follows, until it passes or stops. */
  private async bake(stepIndex: number, bakeMs: number, what: string): Promise<void> {
    const analysis = this.plan.analysis;
    let progress = startBake();
    let wait = firstWait(bakeMs, analysis);
    for (;;) {
      await sleep(wait, { summary: `bake ${formatDuration(bakeMs)} at ${what}: analysis ${progress.analyses + 1} after ${formatDuration(wait)}` });
      await this.checkpoint();
      const verdict = await this.analyse(stepIndex, progress.analyses + 1);
      const next = afterAnalysis(progress, verdict, wait, bakeMs, analysis);
      progress = next.progress;
      const d = next.decision;
      switch (d.action) {
        case 'continue':
          wait = d.waitMs;
          break;
        case 'passed':
          record(this.state, 'step', `step ${stepIndex + 1} (${what}) passed: ${d.reason}`, stepIndex);
          return;
        case 'rollback':
          throw new StopRollout('rolled_back', `step ${stepIndex + 1} (${what}): ${d.reason}`);
        case 'pause':
          this.state.status.paused = { reason: `${d.reason}; resume accepts the step`, by: 'glidepath', at: nowIso() };
          record(this.state, 'paused', `step ${stepIndex + 1} (${what}) paused: ${d.reason}`, stepIndex);
          await this.checkpoint();
          record(this.state, 'step', `step ${stepIndex + 1} (${what}) accepted by resume after an inconclusive analysis`, stepIndex);
          return;
        default: {
          const never: never = d;
          throw new Error(`unknown decision ${JSON.stringify(never)}`);
        }
      }
    }
  }

  private async analyse(stepIndex: number, n: number): Promise<Verdict> {
    const { baseline, candidate } = this.pair;
    const a = this.plan.analysis;
    const snapshot = await azure.getMetricsSnapshot.executeWithOptions({ summary: `metrics ${baseline} vs ${candidate} over ${formatDuration(a.interval)}` }, [
      { endpoint: this.endpoint, baseline, candidate, windowMs: a.interval },
    ]);
    let verdict = evaluateGates(this.plan.gates, snapshot, { minRequests: a.minRequests });
    const hook = this.plan.gates.webhook;
    if (hook) {
      try {
        const w = await webhook.callWebhookGate.executeWithOptions({ summary: `webhook gate ${hook.url}`, startToCloseTimeout: hook.timeout + 5000 }, [
          {
            url: hook.url,
            timeoutMs: hook.timeout,
            rollout: {
              workflowId: this.state.status.workflowId,
              endpoint: this.endpoint.endpoint,
              baseline,
              candidate,
              stage: this.state.status.stage,
              stepIndex,
              candidateLivePercent: candidateLivePercent(this.state.expectedTraffic ?? { live: {}, mirror: {} }, this.pair),
            },
            snapshot,
          },
        ]);
        verdict = withWebhook(verdict, w);
      } catch (err) {
        if (isCancellation(err)) throw err;
        // An unreachable webhook cannot judge: inconclusive, and onInconclusive decides.
        verdict = withWebhook(verdict, { status: 'inconclusive', reason: `unreachable (${describeFailure(err)})` });
      }
    }
    recordVerdict(this.state, { at: nowIso(), stepIndex, analysis: n, status: verdict.status, reasons: verdict.reasons, gates: verdict.gates, snapshot });
    record(this.state, 'verdict', `analysis ${n}: ${formatVerdict(verdict)}`, stepIndex);
    this.publish();
    return verdict;
  }

  private async costCheck(stepIndex: number, step: Extract<Step, { kind: 'costCheck' }>): Promise<void> {
    const spec = this.plan.candidate.deployment;
    const ep = await this.readEndpoint('read endpoint (baseline size for cost)');
    const base = ep.deployments.find((d) => d.name === this.pair.baseline);
    const candidate = await azure.estimateCost.executeWithOptions({ summary: `price ${spec.instance_count} × ${spec.instance_type}` }, [
      { endpoint: this.endpoint, instanceType: spec.instance_type, instanceCount: spec.instance_count, ...(ep.location ? { location: ep.location } : {}) },
    ]);
    const baseline =
      base?.instanceType && base.instanceCount
        ? await azure.estimateCost.executeWithOptions({ summary: `price baseline ${base.instanceCount} × ${base.instanceType}` }, [
            { endpoint: this.endpoint, instanceType: base.instanceType, instanceCount: base.instanceCount, ...(ep.location ? { location: ep.location } : {}) },
          ])
        : null;
    const v = evaluateCost(step, candidate, baseline);
    recordVerdict(this.state, { at: nowIso(), stepIndex, analysis: 1, status: v.status, reasons: v.reasons, gates: v.gates, snapshot: null });
    record(this.state, 'cost', `cost check ${formatVerdict(v)}`, stepIndex);
    this.publish();
    if (v.status === 'fail') throw new StopRollout('rolled_back', `step ${stepIndex + 1} (cost check): ${v.reasons.join('; ')}`);
    if (v.status === 'inconclusive') {
      if (this.plan.analysis.onInconclusive === 'rollback') throw new StopRollout('rolled_back', `step ${stepIndex + 1} (cost check) inconclusive: ${v.reasons.join('; ')}`);
      this.state.status.paused = { reason: `cost check inconclusive: ${v.reasons.join('; ')}; resume accepts the cost`, by: 'glidepath', at: nowIso() };
      record(this.state, 'paused', this.state.status.paused.reason, stepIndex);
      await this.checkpoint();
    }
  }

  private async awaitApproval(stepIndex: number, stepText: string, policy: ApprovalPolicy): Promise<void> {
    const s = this.state.status;
    this.state.decision = null;
    const timeoutAt = new Date(Date.now() + policy.timeoutMs).toISOString();
    s.pendingApproval = { stepIndex, stepText, requestedAt: nowIso(), timeoutAt, onTimeout: policy.onTimeout, approvers: [...this.plan.approvals.approvers] };
    record(this.state, 'approval_requested', `approval requested for ${stepText} (timeout ${formatDuration(policy.timeoutMs)} → ${policy.onTimeout})`, stepIndex);
    this.publish();
    await this.notify('approval_requested', `Approval needed for step ${stepIndex + 1} (${stepText}) on ${this.endpoint.endpoint}`, {
      stepIndex,
      approvers: this.plan.approvals.approvers.join(', ') || 'anyone',
      timeoutAt,
      onTimeout: policy.onTimeout,
      fourEyes: this.plan.approvals.fourEyes,
      startedBy: s.startedBy,
    }, approvalNotice(s, this.plan));
    const decided = await condition(() => this.state.decision !== null, policy.timeoutMs, {
      summary: `await approval of ${stepText} (${formatDuration(policy.timeoutMs)}, then ${policy.onTimeout})`,
    });
    if (!decided) {
      const why = `no decision on ${stepText} within ${formatDuration(policy.timeoutMs)} (onTimeout: ${policy.onTimeout})`;
      record(this.state, 'approval_timed_out', why, stepIndex);
      switch (policy.onTimeout) {
        case 'rollback':
          s.pendingApproval = null;
          await this.notify('approval_timed_out', `Approval timed out: ${why}; rolling back`);
          throw new StopRollout('rolled_back', `approval timed out: ${why}`);
        case 'proceed':
          s.pendingApproval = null;
          s.approvals.push({ at: nowIso(), stepIndex, decision: 'timed_out_proceed', by: 'glidepath', via: 'timeout' });
          this.publish();
          await this.notify('approval_timed_out', `Approval timed out: ${why}; proceeding`);
          return;
        case 'pause':
          // Still awaiting: approve or reject end the wait, abort or the deadline roll back.
          s.pendingApproval = { ...s.pendingApproval!, timeoutAt: null };
          s.paused = { reason: `approval timed out; waiting for approve or reject`, by: 'glidepath', at: nowIso() };
          this.publish();
          await this.notify('approval_timed_out', `Approval timed out: ${why}; still waiting for approve or reject`);
          await condition(() => this.state.decision !== null);
          s.paused = null;
          break;
        default: {
          const never: never = policy.onTimeout;
          throw new Error(`unknown onTimeout ${String(never)}`);
        }
      }
    }
    const d = this.state.decision!;
    s.pendingApproval = null;
    this.publish();
    if (d.decision === 'rejected') {
      throw new StopRollout('rejected', `rejected by ${d.by}${d.comment ? `: ${d.comment}` : ''} at step ${stepIndex + 1} (${stepText})`);
    }
    await this.notify('approval_recorded', `Approved by ${d.by} (${describeSender(d)}) for step ${stepIndex + 1} (${stepText})`);
  }

  private async retireBaseline(stepIndex: number): Promise<void> {
    const ep = await this.readEndpoint('read endpoint before retiring the baseline');
    const baseline = this.pair.baseline;
    const v = deletionViolation(baseline, ep.traffic);
    if (v) {
      // Someone put traffic back on the baseline: never delete a serving deployment (invariant 4).
      throw ApplicationFailure.create({ type: ErrorType.TrafficDrift, message: `not retiring: ${v.message}`, nonRetryable: true });
    }
    const r = await writes.deleteDeployment.executeWithOptions({ summary: `delete ${baseline} (retire baseline)` }, [{ endpoint: this.endpoint, name: baseline }]);
    record(this.state, 'retired', `${baseline} ${r.deleted ? 'deleted' : 'was already gone'}`, stepIndex);
    await this.notify('retired', `Retired ${baseline} on ${this.endpoint.endpoint}`);
  }

  // ───────────── rollback ─────────────

  /**
   * Puts the baseline back at 100% live with no mirror and confirms by reading the endpoint again.
   * Runs in a non-cancellable scope; every action is idempotent (the step being undone may have half-happened).
   */
  async rollback(reason: string): Promise<RollbackReport> {
    const report: RollbackReport = { confirmed: false, traffic: null, candidateDeleted: false, errors: [] };
    const baseline = this.state.undo.baseline;
    this.state.status.paused = null;
    this.state.status.pendingApproval = null;
    this.setStage('rollback', this.state.status.stepIndex, `rollback: ${reason}`);
    record(this.state, 'rollback', `rolling back: ${reason}`);
    await this.notify('rollback_started', `Rolling back ${this.endpoint.endpoint}: ${reason}`);
    if (!baseline) {
      // Stopped during preflight: nothing was changed, so there is nothing to restore.
      record(this.state, 'rollback', 'nothing to roll back: the rollout stopped before changing the endpoint');
      report.confirmed = true;
      return report;
    }
    const target = baselineTraffic({ baseline, candidate: this.plan.candidate.name });
    for (let attempt = 1; attempt <= 3 && !report.confirmed; attempt++) {
      try {
        const ep = await undo.getEndpoint.executeWithOptions({ summary: 'read endpoint (rollback)' }, [{ endpoint: this.endpoint }]);
        if (!sameTraffic(ep.traffic, target)) {
          await undo.setEndpointTraffic.executeWithOptions({ summary: `rollback: ${trafficSummary(target)}` }, [
            { endpoint: this.endpoint, live: target.live, mirror: {}, expectedCurrent: ep.traffic },
          ]);
        }
        const check = await undo.getEndpoint.executeWithOptions({ summary: 'read endpoint back (confirm rollback)' }, [{ endpoint: this.endpoint }]);
        report.traffic = normalizeTraffic(check.traffic);
        this.state.status.traffic = report.traffic;
        report.confirmed = sameTraffic(check.traffic, target);
        if (!report.confirmed) report.errors.push(`attempt ${attempt}: read back ${formatTraffic(check.traffic)}, expected ${formatTraffic(target)}`);
      } catch (err) {
        report.errors.push(`attempt ${attempt}: ${describeFailure(err)}`);
      }
    }
    if (report.confirmed && this.plan.rollback.deleteCandidate && this.state.undo.candidateCreated) {
      try {
        const r = await undo.deleteDeployment.executeWithOptions({ summary: `delete candidate ${this.plan.candidate.name} (rollback)` }, [
          { endpoint: this.endpoint, name: this.plan.candidate.name },
        ]);
        report.candidateDeleted = true;
        record(this.state, 'rollback', `candidate ${this.plan.candidate.name} ${r.deleted ? 'deleted' : 'was already gone'}`);
      } catch (err) {
        report.errors.push(`deleting candidate: ${describeFailure(err)}`);
      }
    }
    record(
      this.state,
      'rollback',
      report.confirmed ? `rolled back: read back ${formatTraffic(report.traffic!)}` : `ROLLBACK NOT CONFIRMED: ${report.errors.join('; ')}`,
    );
    if (report.confirmed) await this.notify('rolled_back', `Rolled back ${this.endpoint.endpoint}: ${baseline} serves 100% again (${reason})`);
    return report;
  }
}
