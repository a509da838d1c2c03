/**
 * Property test: random sequences of metric verdicts, approvals (from allowed and refused people, or
 * none until the timeout), aborts, pauses, hand-made traffic changes and cancellations, each run as a
 * real rollout on the time-skipping server; after each, DESIGN.md invariants 1–6 are checked against
 * what the fake Azure recorded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { VerdictStatus } from '../../domain/gates.js';
import type { SafeRolloutResult } from '../../domain/rollout.js';
import { normalizeTraffic, trafficViolations, MAX_MIRROR_PERCENT } from '../../domain/traffic.js';
import * as messages from '../../workflows/messages.js';
import { FakeAzure, RolloutAlreadyRunningError, aShortPlanDocument, metricsFor, people, startRollout, uniqueEndpointName } from '../support/builders.js';
import { useTimeSkippingEnv } from '../support/suite.js';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
useTimeSkippingEnv((e, b) => ([env, bundle] = [e, b]));

const STARTER = people.approver; // alice starts: she is an allowed approver, so four-eyes is what refuses her
const ALLOWED = [people.approver, people.slackApprover];
const GOOD = people.slackApprover;
const ROLLBACK_WINDOW_MS = 10 * 60_000;

type Decision = { kind: 'approve' | 'reject' | 'timeout'; refusedFirst: string[]; via: 'update' | 'signal' };
type Interrupt =
  | { kind: 'none' }
  | { kind: 'abort' | 'pause-resume' | 'cancel'; atMetric: number }
  | { kind: 'drift'; atMetric: number; then: 'resume' | 'abort' };

interface Scenario {
  verdicts: VerdictStatus[];
  decisions: Decision[];
  interrupt: Interrupt;
  onInconclusive: 'extend' | 'pause' | 'rollback';
  deleteCandidate: boolean;
}

const decision: fc.Arbitrary<Decision> = fc.record({
  kind: fc.constantFrom<Decision['kind']>('approve', 'approve', 'approve', 'reject', 'timeout'),
  refusedFirst: fc.array(fc.constantFrom(people.stranger, STARTER, 'eve@contoso.com'), { maxLength: 2 }),
  via: fc.constantFrom<Decision['via']>('update', 'signal'),
});
const interrupt: fc.Arbitrary<Interrupt> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Interrupt>({ kind: 'none' }) },
  fc.record({ kind: fc.constantFrom('abort' as const, 'pause-resume' as const, 'cancel' as const), atMetric: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('drift' as const), atMetric: fc.integer({ min: 1, max: 8 }), then: fc.constantFrom('resume' as const, 'abort' as const) }),
);
const scenario: fc.Arbitrary<Scenario> = fc.record({
  verdicts: fc.array(fc.constantFrom<VerdictStatus>('pass', 'pass', 'pass', 'pass', 'pass', 'fail', 'inconclusive'), { maxLength: 12 }),
  decisions: fc.array(decision, { minLength: 2, maxLength: 2 }),
  interrupt,
  onInconclusive: fc.constantFrom('extend' as const, 'pause' as const, 'rollback' as const),
  deleteCandidate: fc.boolean(),
});

/** Runs one scenario; returns the result (or the failure of a cancelled run) and the fake. */
async function runScenario(sc: Scenario): Promise<{ result: SafeRolloutResult | null; error: unknown; fake: FakeAzure; refusals: number; twinRefused: boolean }> {
  const fake = new FakeAzure();
  fake.client = env.client;
  fake.metrics = (n) => metricsFor(sc.verdicts[n - 1] ?? 'pass');
  const plan = aShortPlanDocument((d) => {
    d.target.endpoint = uniqueEndpointName('prop');
    d.analysis.onInconclusive = sc.onInconclusive;
    d.rollback.deleteCandidate = sc.deleteCandidate;
  });
  let approvalRequests = 0;
  let refusals = 0;
  let twinRefused = false;
  const it = sc.interrupt;

  fake.hooks.onMetrics = async (_, { handle, n, fake }) => {
    if (it.kind === 'none' || it.atMetric !== n) return;
    if (it.kind === 'abort') await handle.executeUpdate(messages.abort, { args: [{ by: 'bob@contoso.com' }] }).catch(() => undefined);
    if (it.kind === 'pause-resume') await handle.executeUpdate(messages.pause, { args: [{ by: 'bob@contoso.com' }] }).catch(() => undefined);
    if (it.kind === 'cancel') await handle.cancel();
    if (it.kind === 'drift') {
      const live = normalizeTraffic(fake.endpoint.traffic).live;
      // someone flips the endpoint to a different, valid state by hand
      fake.setTrafficByHand(live.green ? { live: { blue: 70, green: 30 }, mirror: {} } : { live: { blue: 100 }, mirror: { green: 5 } });
    }
  };
  fake.hooks.onNotify = async (n, { handle }) => {
    if (n.kind === 'paused' || n.kind === 'drift') {
      const then = it.kind === 'drift' && n.kind === 'drift' ? it.then : 'resume';
      if (then === 'abort') await handle.executeUpdate(messages.abort, { args: [{ by: 'bob@contoso.com' }] }).catch(() => undefined);
      else await handle.executeUpdate(messages.resume, { args: [{ by: 'alice@contoso.com' }] }).catch(() => undefined); // an approver: resuming a gate's pause is a decision
      return;
    }
    if (n.kind !== 'approval_requested') return;
    const d = sc.decisions[approvalRequests++] ?? { kind: 'approve', refusedFirst: [], via: 'update' };
    if (approvalRequests === 1) {
      try {
        await startRollout(env.client, { plan, startedBy: 'bob@contoso.com', taskQueue: 'tq-twin' });
      } catch (err) {
        twinRefused = err instanceof RolloutAlreadyRunningError;
      }
    }
    for (const who of d.refusedFirst) {
      try {
        await handle.executeUpdate(messages.approve, { args: [{ by: who, stepIndex: n.approval!.stepIndex }] });
      } catch (err) {
        if (err instanceof WorkflowUpdateFailedError) refusals += 1;
      }
    }
    if (d.kind === 'timeout') return;
    const def = d.kind === 'approve' ? (d.via === 'update' ? messages.approve : messages.approveSignal) : d.via === 'update' ? messages.reject : messages.rejectSignal;
    if (d.via === 'update') await handle.executeUpdate(def as typeof messages.approve, { args: [{ by: GOOD, stepIndex: n.approval!.stepIndex }] });
    else await handle.signal(def as typeof messages.approveSignal, { by: GOOD, stepIndex: n.approval!.stepIndex });
  };

  const taskQueue = `tq-${plan.target.endpoint}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: fake.activities() });
  let result: SafeRolloutResult | null = null;
  let error: unknown = null;
  await worker.runUntil(async () => {
    const handle = await startRollout(env.client, { plan, startedBy: STARTER, taskQueue });
    try {
      result = await handle.result();
    } catch (err) {
      error = err;
    }
  });
  if (fake.hookErrors.length) throw fake.hookErrors[0];
  return { result, error, fake, refusals, twinRefused };
}

test('invariants 1–6 hold for random verdicts, approvals, aborts, pauses, drift and cancellations', async () => {
  let runs = 0;
  const outcomes: Record<string, number> = {};
  await fc.assert(
    fc.asyncProperty(scenario, async (sc) => {
      runs += 1;
      const { result, error, fake, refusals, twinRefused } = await runScenario(sc);
      const r = result as SafeRolloutResult | null;
      const outcome = r?.outcome ?? (error instanceof WorkflowFailedError ? 'cancelled' : String(error));
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      assert.ok(r || sc.interrupt.kind === 'cancel', `only a cancelled run may end without a result, got ${String(error)}`);

      // 1. Every traffic state the rollout wrote is one Azure accepts, with live at 100 and one mirror ≤ 50%.
      for (const w of fake.trafficWrites) {
        assert.deepEqual(trafficViolations(w.after, ['blue', 'green']), [], JSON.stringify(w.after));
        assert.equal(Object.values(w.after.live).reduce((a, b) => a + b, 0), 100);
        const mirror = Object.entries(w.after.mirror);
        assert.ok(mirror.length <= 1 && mirror.every(([name, p]) => p <= MAX_MIRROR_PERCENT && !w.after.live[name]));
      }

      // 2. The candidate gets live traffic only after the mirror, the cost check and the approval passed,
      //    and 50% only after its own approval.
      const firstLive = fake.trafficWrites.find((w) => (w.after.live.green ?? 0) > 0 && (w.before.live.green ?? 0) === 0 && w.after.live.green !== 30);
      if (firstLive && r) {
        const approved = r.approvals.find((a) => a.stepIndex === 2 && a.decision === 'approved');
        assert.ok(approved && Date.parse(approved.at) <= firstLive.at, 'approval before live traffic');
        const mirrorVerdicts = r.verdicts.filter((v) => v.stepIndex === 0);
        const last = mirrorVerdicts.at(-1)!;
        assert.ok(last.status === 'pass' || r.timeline.some((e) => e.kind === 'resumed' && Date.parse(e.at) >= Date.parse(last.at)), 'mirror bake passed (or a person accepted it)');
        assert.ok(r.verdicts.some((v) => v.stepIndex === 1 && v.status === 'pass'), 'cost check passed');
      }
      const fifty = fake.trafficWrites.find((w) => w.after.live.green === 50);
      if (fifty && r) assert.ok(r.approvals.some((a) => a.stepIndex === 4 && a.decision === 'approved' && Date.parse(a.at) <= fifty.at), '50% only after its approval');

      // 3. Every rollout that does not end promoted ends with the baseline alone, read back from the endpoint.
      if (r?.outcome !== 'promoted') {
        assert.deepEqual(normalizeTraffic(fake.endpoint.traffic), { live: { blue: 100 }, mirror: {} });
        if (r) assert.ok(r.rollback?.confirmed, JSON.stringify(r.rollback));
        if (fake.count('setEndpointTraffic') > 0) assert.ok(fake.lastChangeWasRollbackTo('blue'), 'the last traffic change was the rollback (read back by its activity)');
        assert.ok(!fake.deleted.some((d) => d.name === 'blue'), 'the baseline is never deleted by a rollout that did not promote');
      }

      // 4. The baseline is deleted only after the candidate held 100% for the rollback window.
      for (const d of fake.deleted.filter((x) => x.name === 'blue')) {
        const promoted = fake.trafficWrites.find((w) => w.after.live.green === 100);
        assert.ok(promoted && d.at - promoted.at >= ROLLBACK_WINDOW_MS, 'held 100% for the window');
        assert.equal(r?.outcome, 'promoted');
      }

      // 5. At most one rollout per endpoint: the twin started during the first approval was refused.
      if (fake.notifications.some((n) => n.kind === 'approval_requested')) assert.ok(twinRefused, 'second rollout refused');

      // 6. Approvals only while awaited, only from allowed approvers, never from the starter; each recorded.
      for (const a of r?.approvals ?? []) {
        if (a.decision === 'timed_out_proceed') continue;
        assert.ok(ALLOWED.includes(a.by as (typeof ALLOWED)[number]) && a.by !== STARTER, `approval by ${a.by}`);
        assert.ok([2, 4].includes(a.stepIndex));
      }
      const attemptedBad = sc.decisions.slice(0, fake.notifications.filter((n) => n.kind === 'approval_requested').length).reduce((s, d) => s + d.refusedFirst.length, 0);
      assert.equal(refusals, attemptedBad, 'every approval from a stranger or the starter was refused');
    }),
    { numRuns: Number(process.env.PROPERTY_RUNS ?? 30), endOnFailure: true },
  );
  console.log(`property runs: ${runs}; outcomes: ${JSON.stringify(outcomes)}`);
});
