/**
 * `safeRollout`: one durable workflow that takes an Azure ML online endpoint from "baseline serves 100%"
 * to "candidate serves 100%, baseline retired" — or back to the baseline by itself.
 *
 * This file is the state machine: it sequences the steps and calls the activities. What to do next is
 * decided in domain/ — may the rollout start (preflight), the traffic each step sets (transitions), the
 * verdict of each analysis (gates) and what follows from it (analysis, step-decisions), how a stopped
 * rollout ends (step-decisions.planStop). Its state has one owner (rollout-state.ts); people steer it with
 * the messages in messages.ts, handled in handlers.ts by the rules in domain/messages.ts.
 *
 * The plan is the one parsed when the rollout started (`input.normalized`), so a default changed in
 * domain/plan.ts later cannot change a running rollout; inputs without it (older clients) are parsed here.
 *
 * Shape of a run:
 *   preflight → deploy → steps (mirror, costCheck, approval, canary…, promote, retire)
 *   any stop (failed gate, reject, abort, approval timeout, deadline, activity failure, cancellation)
 *   → rollback in a non-cancellable scope: baseline 100% live, no mirror, read back from the endpoint.
 *   A long rollout continues as new runs at its waits (continue.ts), each resuming where the last stopped.
 *
 * Invariants kept here: every traffic change is one read-compare-write in the activity, which refuses on
 * drift, and the rollout then pauses (7); the candidate gets live traffic only from the first
 * canary/promote step, after the steps before it passed (2); the baseline is deleted only by the retire
 * step, after the promote step held 100% for its rollback window (4); no loops poll Azure — activities
 * do, with heartbeats (8).
 */
import {
  ApplicationFailure,
  CancellationScope,
  TemporalFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { GetEndpointResult, NotificationKind } from '../activities/types.js';
import { afterAnalysis, firstWait, startBake, type BakeProgress } from '../domain/analysis.js';
import { afterJudgedAnalysis, judgeSettingsOf } from '../domain/judged-analysis.js';
import type { ApprovalNotice } from '../domain/approvals.js';
import { formatDuration } from '../domain/duration.js';
import { ErrorType } from '../domain/errors.js';
import { describeStep, type ApprovalPolicy, type RolloutPlan, type Step } from '../domain/plan.js';
import { policyRefusal, preflightEndpoint } from '../domain/preflight.js';
import type { ResumePoint, RolloutOutcome, SafeRolloutInput, SafeRolloutResult, RollbackReport } from '../domain/rollout.js';
import { planStop } from '../domain/step-decisions.js';
import { planOf } from './plan-input.js';
import { formatTraffic, type TrafficState } from '../domain/traffic.js';
import { trafficForStep, trafficSummary, type RolloutPair } from '../domain/transitions.js';
import { azure, deploy, writes } from './activity-options.js';
import { analyse, type Analysed, type JudgeInput } from './analysis.js';
import { awaitApproval } from './approval.js';
import { ContinueAsNewNow, waitOrContinue } from './continue.js';
import { costCheck } from './cost-check.js';
import { retireBaseline } from './retire.js';
import type { RolloutContext } from './context.js';
import { describeFailure, driftedTraffic, failureType, refusalFailure, wrapFailure } from './failures.js';
import { registerHandlers } from './handlers.js';
import { loadDecisionTrust } from './decision-trust.js';
import { legacySetTraffic } from './legacy-traffic.js';
import { countRollbackFailed, countRolloutStarted } from './metrics.js';
import { notify, type NotifyFields } from './notify.js';
import { rollback } from './rollback.js';
import { RolloutState, nowIso } from './rollout-state.js';
import { GlidepathCandidate, GlidepathEndpoint } from './search-attributes.js';
import { StopRollout, TRAFFIC_READ_COMPARE_WRITE } from './stop.js';

/** Rolls out the plan's candidate. See the module comment for the shape of a run. */
export async function safeRollout(input: SafeRolloutInput): Promise<SafeRolloutResult> {
  const info = workflowInfo();
  const plan = planOf(input);
  const continued = input.continued;
  const state = new RolloutState({ plan, workflowId: info.workflowId, startedBy: input.startedBy, steps: plan.strategy.map(describeStep), ...(continued ? { continued } : {}) });
  const endpoint = plan.target;
  const steps = new CancellationScope();
  const run = new Rollout(state, plan, continued !== undefined);

  registerHandlers(state, { cancelSteps: () => steps.cancel(), notify: (k, t, f) => run.notify(k, t, f) });
  if (!continued) {
    upsertSearchAttributes([
      { key: GlidepathEndpoint, value: endpoint.endpoint },
      { key: GlidepathCandidate, value: plan.candidate.name },
    ]);
    state.setStage('preflight', -1, 'preflight');
    state.record('started', `rollout of ${plan.candidate.name} on ${endpoint.endpoint} started by ${input.startedBy}`);
    await loadDecisionTrust(state); // issue 13: the worker's trusted signers, when the plan requires signed decisions (a continued run carries them)
    countRolloutStarted();
    await run.notify('started', `Rollout of ${plan.candidate.name} (${plan.candidate.deployment.model}) on ${endpoint.endpoint} started by ${input.startedBy}`);
  }

  // The deadline: not promoted by then → roll back. Disarmed once the candidate holds 100%.
  const deadline = new CancellationScope();
  run.deadlineAt = continued ? continued.deadlineAt : Date.now() + plan.deadlineMs;
  run.disarmDeadline = () => {
    deadline.cancel();
    run.deadlineAt = null;
  };
  const deadlineIn = run.deadlineAt === null ? null : Math.max(1, run.deadlineAt - Date.now());
  void deadline
    .run(() => (deadlineIn === null ? new Promise<void>(() => undefined) : sleep(deadlineIn, { summary: `deadline ${formatDuration(plan.deadlineMs)}: roll back if not promoted by then` })))
    .then(
      () => {
        if (state.requestStop('rolled_back', `deadline ${formatDuration(plan.deadlineMs)} passed before the candidate was promoted`)) {
          state.record('deadline', state.stop!.reason, state.status.stepIndex);
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
    if (err instanceof ContinueAsNewNow) {
      // The history grew long: a new run carries on from where this one is (continue.ts).
      const deadlineAt = run.deadlineAt;
      run.disarmDeadline();
      await condition(allHandlersFinished);
      return continueAsNew<typeof safeRollout>({ plan: input.plan, normalized: plan, startedBy: input.startedBy, continued: state.continuation(err.at, deadlineAt) });
    }
    if (!(err instanceof StopRollout) && !(err instanceof TemporalFailure)) throw err; // a bug: fail the task, retry after a fix
    const cancelledFromOutside = CancellationScope.current().consideredCancelled;
    const ending = planStop({
      requested: state.stop,
      decided: err instanceof StopRollout ? { outcome: err.outcome, reason: err.reason } : null,
      cancelledFromOutside,
      touchedEndpoint: state.touchedEndpoint(),
      failure: err instanceof StopRollout ? null : { type: failureType(err), description: describeFailure(err) },
    });
    run.disarmDeadline();
    if (ending.action === 'fail') {
      // Preflight failed before anything changed: fail the execution with the cause, nothing to undo.
      state.finish('failed');
      throw err instanceof ApplicationFailure ? err : wrapFailure(err as TemporalFailure, 'preflight failed');
    }
    state.requestStop(ending.outcome, ending.reason);
    ({ outcome, reason, errorType } = ending);
    rollback = await CancellationScope.nonCancellable(() => run.rollback(reason));
    if (!rollback.confirmed || ending.endCancelled) state.finish(outcome); // ending here, not below
    if (!rollback.confirmed) {
      // Loud: the endpoint may still send traffic to the candidate. The failure carries the report.
      const report = rollback;
      countRollbackFailed(outcome);
      await CancellationScope.nonCancellable(() => run.notify('rollback_failed', `ROLLBACK NOT CONFIRMED on ${endpoint.endpoint}: ${report.errors.join('; ')}`));
      throw ApplicationFailure.create({
        type: ErrorType.RollbackFailed,
        message: `rollback of ${endpoint.endpoint} not confirmed (${outcome}: ${reason}): ${report.errors.join('; ')}`,
        nonRetryable: true,
        details: [{ outcome, reason, rollback: report }],
        cause: err instanceof TemporalFailure ? err : undefined,
      });
    }
    if (ending.endCancelled) throw err; // the execution ends Cancelled, after the rollback
  } finally {
    run.disarmDeadline();
  }
  state.finish(outcome);
  state.record('finished', `${outcome}: ${reason}`);
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
    approvals: state.statusForQuery().approvals,
    verdicts: state.verdicts,
    ...(state.droppedVerdicts > 0 ? { verdictsDropped: state.droppedVerdicts } : {}),
    timeline: state.statusForQuery().events,
  };
}

/** The running rollout: the step runners, sharing the state. */
class Rollout {
  disarmDeadline: () => void = () => undefined;
  /** When the deadline fires (epoch ms), or null once disarmed: carried to a continued run. */
  deadlineAt: number | null = null;
  private readonly endpoint: RolloutPlan['target'];

  constructor(
    private readonly state: RolloutState,
    private readonly plan: RolloutPlan,
    /** This run continues an earlier one (continue-as-new): it starts where that one handed over. */
    private readonly continued: boolean,
  ) {
    this.endpoint = plan.target;
  }

  private get pair(): RolloutPair {
    return { baseline: this.state.undo.baseline ?? '(baseline)', candidate: this.plan.candidate.name };
  }

  /** Tells people (notify.ts); never fails the rollout. */
  notify(kind: NotificationKind, text: string, fields?: NotifyFields, approval?: ApprovalNotice): Promise<void> {
    return notify(this.state, kind, text, fields, approval);
  }

  private context(): RolloutContext {
    return { state: this.state, plan: this.plan, endpoint: this.endpoint, notify: (k, t, f, a) => this.notify(k, t, f, a), checkpoint: () => this.checkpoint() };
  }

  async steps(): Promise<void> {
    const from = this.state.position; // a continued run: where the last one handed over
    if (this.state.stop) throw new StopRollout(this.state.stop.outcome, this.state.stop.reason); // stopping as it handed over
    if (!this.continued) {
      await this.preflight();
      await this.deployCandidate();
    }
    for (const [i, step] of this.plan.strategy.entries()) {
      if (this.continued && i < from.stepIndex) continue;
      const resume = this.continued && i === from.stepIndex && from.phase !== 'start' ? from : null;
      if (!resume) {
        this.state.setPosition({ stepIndex: i, phase: 'start' });
        await this.checkpoint();
      }
      await this.runStep(i, step, resume);
    }
  }

  private async preflight(): Promise<void> {
    const policy = policyRefusal(this.plan);
    if (policy) throw refusalFailure(policy);
    const ep = await this.readEndpoint('read endpoint (preflight)');
    const found = preflightEndpoint(this.plan, ep);
    if (!found.ok) throw refusalFailure(found.refusal);
    const model = await azure.checkModelExists.executeWithOptions({ summary: `check model ${this.plan.candidate.deployment.model}` }, [
      { endpoint: this.endpoint, model: this.plan.candidate.deployment.model },
    ]);
    if (!model.exists) {
      throw refusalFailure({ type: ErrorType.ModelNotFound, message: `model ${this.plan.candidate.deployment.model} does not exist in workspace ${this.endpoint.workspace}` });
    }
    this.state.foundBaseline(found.baseline, ep.traffic);
    this.state.record('preflight', `baseline ${found.baseline} holds 100%; model ${model.resolvedId ?? this.plan.candidate.deployment.model} exists`);
  }

  private async deployCandidate(): Promise<void> {
    const spec = this.plan.candidate.deployment;
    this.state.setStage('deploy', -1, `deploy ${this.plan.candidate.name}`);
    this.state.markCandidateCreated();
    const r = await deploy.ensureDeployment.executeWithOptions(
      { summary: `deploy ${this.plan.candidate.name} (${spec.model}, ${spec.instance_count} × ${spec.instance_type}) at 0%` },
      [{ endpoint: this.endpoint, name: this.plan.candidate.name, spec }],
    );
    this.state.record('deployed', `${r.name} ${r.created ? 'created' : 'updated'} (${r.instanceCount} × ${r.instanceType}), ${r.provisioningState}`);
    await this.notify('step', `Deployed ${r.name} at 0% (${r.instanceCount} × ${r.instanceType})`);
  }

  /** Runs step `i`, from its beginning or (a continued run) from `resume`. */
  private async runStep(i: number, step: Step, resume: ResumePoint | null): Promise<void> {
    const text = describeStep(step);
    if (resume) this.state.publish();
    else this.state.record('step', `step ${i + 1}/${this.plan.strategy.length}: ${text}`, i);
    switch (step.kind) {
      case 'mirror':
        if (resume?.phase === 'bake') return this.bake(i, step, `mirror ${step.percent}%`, resume);
        this.state.setStage('mirror', i, text);
        await this.notify('step', `Step ${i + 1}: mirroring ${step.percent}% of traffic to ${this.pair.candidate} for ${formatDuration(step.bakeMs)}`);
        await this.setTraffic(trafficForStep(step, this.pair)!, i);
        return this.bake(i, step, `mirror ${step.percent}%`);
      case 'costCheck':
        this.state.setStage('cost-check', i, text);
        return this.costCheck(i, step);
      case 'approval':
        if (!resume) this.state.setStage('approval', i, text);
        return this.awaitApproval(i, text, step, resume?.phase === 'approval');
      case 'canary':
        if (resume?.phase === 'bake') return this.bake(i, step, `${step.percent}%`, resume);
        if (step.approval && resume?.phase !== 'traffic') {
          if (!resume) this.state.setStage('approval', i, text);
          await this.awaitApproval(i, `canary ${step.percent}%`, step.approval, resume?.phase === 'approval');
          this.state.setPosition({ stepIndex: i, phase: 'traffic' });
          await this.checkpoint();
        }
        this.state.setStage('canary', i, text);
        await this.notify('step', `Step ${i + 1}: ${this.pair.candidate} takes ${step.percent}% of live traffic for ${formatDuration(step.bakeMs)}`);
        await this.setTraffic(trafficForStep(step, this.pair)!, i);
        return this.bake(i, step, `${step.percent}%`);
      case 'promote': {
        let until = resume?.phase === 'window' ? resume.until : null;
        if (until === null) {
          this.state.setStage('promote', i, text);
          await this.setTraffic(trafficForStep(step, this.pair)!, i);
          this.disarmDeadline(); // promoted: the deadline no longer applies
          this.state.record('promoted', `${this.pair.candidate} serves 100%; ${this.pair.baseline} kept warm for ${formatDuration(step.rollbackWindowMs)}`, i);
          await this.notify('promoted', `${this.pair.candidate} now serves 100% of ${this.endpoint.endpoint}; ${this.pair.baseline} kept for a ${formatDuration(step.rollbackWindowMs)} rollback window`);
          until = Date.now() + step.rollbackWindowMs;
        }
        const window: ResumePoint = { stepIndex: i, phase: 'window', until };
        this.state.setPosition(window);
        if (step.rollbackWindowMs > 0) {
          await waitOrContinue(() => false, until - Date.now(), () => window, `rollback window ${formatDuration(step.rollbackWindowMs)}: ${this.pair.baseline} kept warm`);
        }
        return this.checkpoint();
      }
      case 'retire':
        this.state.setStage('retire', i, text);
        return this.retireBaseline(i);
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
    this.state.publish();
    await this.notify(kind, `Holding ${this.endpoint.endpoint} at ${this.state.status.stepText} (${formatTraffic(this.state.status.traffic ?? { live: {}, mirror: {} })}): ${paused.reason}. Resume to continue, abort to roll back.`, {
      pausedBy: paused.by,
      stepIndex: this.state.status.stepIndex,
    });
    await waitOrContinue(() => this.state.status.paused === null, undefined, () => this.state.position);
  }

  private async readEndpoint(summary: string): Promise<GetEndpointResult> {
    const ep = await azure.getEndpoint.executeWithOptions({ summary }, [{ endpoint: this.endpoint }]);
    this.state.observedTraffic(ep.traffic);
    return ep;
  }

  /**
   * Sets traffic: one read-compare-write in the activity, which refuses when the endpoint is not what the
   * rollout last set (invariant 7). On drift the rollout pauses and notifies; `resume` accepts the
   * endpoint as it is now and carries on from there.
   */
  private async setTraffic(target: TrafficState, stepIndex: number): Promise<void> {
    if (!patched(TRAFFIC_READ_COMPARE_WRITE)) {
      const ctx = { state: this.state, endpoint: this.endpoint, failureType, checkpoint: () => this.checkpoint(), readEndpoint: (s: string) => this.readEndpoint(s), pauseForDrift: (e: TrafficState, a: TrafficState, i: number) => this.pauseForDrift(e, a, i) };
      return legacySetTraffic(ctx, target, stepIndex);
    }
    for (;;) {
      await this.checkpoint();
      const expected = this.state.expectedTraffic!;
      try {
        // Not cancellable: once sent, the write's outcome must be known (and recorded) before anything else.
        const r = await CancellationScope.nonCancellable(() => {
          this.state.markTrafficChanging();
          return writes.setEndpointTraffic.executeWithOptions({ summary: trafficSummary(target) }, [{ endpoint: this.endpoint, expected, target }]);
        });
        this.state.expectTraffic(r.traffic);
        this.state.record('traffic', formatTraffic(r.traffic), stepIndex);
        return;
      } catch (err) {
        const actual = driftedTraffic(err);
        if (!actual) throw err;
        this.state.observedTraffic(actual);
        await this.pauseForDrift(expected, actual, stepIndex);
      }
    }
  }

  private async pauseForDrift(expected: TrafficState, actual: TrafficState, stepIndex: number): Promise<void> {
    const reason = `traffic changed outside Glidepath: expected ${formatTraffic(expected)}, found ${formatTraffic(actual)}`;
    this.state.pause(`${reason}; fix it, or resume to continue from the endpoint as it is`, 'glidepath', 'drift');
    this.state.record('drift', reason, stepIndex);
    await this.checkpoint('drift');
    // Resumed: the endpoint as it is now is what the rollout expects from here on.
    const ep = await this.readEndpoint('read endpoint after resume');
    this.state.expectTraffic(ep.traffic);
  }

  /**
   * Bakes a step: waits an interval, analyses, asks domain/analysis (fixed thresholds) or
   * domain/judged-analysis (gates with tolerances) what follows, until it passes or stops. The judge's
   * evidence lives in the bake progress: it starts empty each step and travels across continue-as-new.
   */
  private async bake(stepIndex: number, step: { bakeMs: number; bakeMinMs?: number }, what: string, resume?: Extract<ResumePoint, { phase: 'bake' }>): Promise<void> {
    const bakeMs = step.bakeMs;
    const analysis = this.plan.analysis;
    const settings = judgeSettingsOf(this.plan);
    let progress: BakeProgress = resume ? { ...resume.progress } : startBake();
    let wait = resume ? resume.waitMs : firstWait(bakeMs, analysis);
    for (;;) {
      const p = progress;
      const w = wait;
      this.state.setPosition({ stepIndex, phase: 'bake', progress: p, waitMs: w });
      await waitOrContinue(() => false, w, (waited) => ({ stepIndex, phase: 'bake', progress: { ...p, elapsedMs: p.elapsedMs + waited }, waitMs: w - waited }), `bake ${formatDuration(bakeMs)} at ${what}: analysis ${p.analyses + 1} after ${formatDuration(w)}`);
      // Waited: a run continued from here analyses at once, with the wait already counted.
      this.state.setPosition({ stepIndex, phase: 'bake', progress: { ...p, elapsedMs: p.elapsedMs + w }, waitMs: 0 });
      await this.checkpoint();
      const analysed = await this.analyse(stepIndex, progress.analyses + 1, settings ? { settings, state: progress.judge } : undefined);
      const judged = analysed.judged;
      const next = judged
        ? afterJudgedAnalysis({ ...progress, judge: judged.state }, { guardrails: judged.guardrails, judgement: judged.judgement }, wait, step, analysis)
        : afterAnalysis(progress, analysed.verdict, wait, bakeMs, analysis);
      progress = next.progress;
      const d = next.decision;
      switch (d.action) {
        case 'continue':
          wait = d.waitMs;
          break;
        case 'passed':
          return this.state.record('step', `step ${stepIndex + 1} (${what}) passed: ${d.reason}`, stepIndex);
        case 'rollback':
          throw new StopRollout('rolled_back', `step ${stepIndex + 1} (${what}): ${d.reason}`);
        case 'pause':
          this.state.pause(`${d.reason}; resume accepts the step`, 'glidepath', 'gate');
          this.state.record('paused', `step ${stepIndex + 1} (${what}) paused: ${d.reason}`, stepIndex);
          await this.checkpoint();
          return this.state.record('step', `step ${stepIndex + 1} (${what}) accepted by resume after an inconclusive analysis`, stepIndex);
        default: {
          const never: never = d;
          throw new Error(`unknown decision ${JSON.stringify(never)}`);
        }
      }
    }
  }

  private analyse(stepIndex: number, n: number, judge?: JudgeInput): Promise<Analysed> {
    return analyse({ ...this.context(), pair: this.pair }, stepIndex, n, judge);
  }

  private costCheck(stepIndex: number, step: Extract<Step, { kind: 'costCheck' }>): Promise<void> {
    return costCheck({ ...this.context(), readEndpoint: (summary) => this.readEndpoint(summary), baseline: this.pair.baseline }, stepIndex, step);
  }

  private awaitApproval(stepIndex: number, stepText: string, policy: ApprovalPolicy, resumed: boolean): Promise<void> {
    return awaitApproval(this.context(), stepIndex, stepText, policy, resumed);
  }

  private retireBaseline(stepIndex: number): Promise<void> {
    return retireBaseline({ ...this.context(), readEndpoint: (summary) => this.readEndpoint(summary), baseline: this.pair.baseline }, stepIndex);
  }

  /** Puts the baseline back (rollback.ts); never cancelled. */
  rollback(reason: string): Promise<RollbackReport> {
    return rollback(this.context(), reason);
  }
}
