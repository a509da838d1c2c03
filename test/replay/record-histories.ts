/**
 * Re-records the committed replay histories under test/replay/histories/ from real runs of the
 * current workflow code on the time-skipping test server with fake activities:
 *
 *   node --import tsx test/replay/record-histories.ts [scenario …]
 *
 * Run it only when a workflow change is *meant* to change the commands (and then put that change
 * behind `patched()` so the old histories still replay — keep the old files, add new ones: name the new
 * scenario on the command line so the others are not re-recorded).
 *
 * History of the histories: `promoted` and `rolled-back` were recorded before the read-compare-write
 * traffic rework (patch `traffic-read-compare-write`) and before the normalized plan travelled in the
 * input; `minimal` after both, from examples/minimal.yaml — a plan that relies on every default, so a
 * changed default in domain/plan.ts that reached a running rollout would break its replay.
 *
 * `signed-signal-approvals` was recorded with signed decisions (issue 13): it guards `patched('signed-decisions')`
 * and the determinism of signature checks in signal handlers.
 *
 * `judged-promoted` and `judged-rolled-back` (issue 14) run a plan with no gates, so the judge's defaults
 * judge it (recorded in the input's normalized plan): the first passes its mirror early (`bake: { min, max }`)
 * and is promoted; the second's 10% canary serves 20× the baseline's 5xx rate and the judge rolls it back.
 *
 * `promoted-signal-approvals-without-step.json` is not recorded here: it comes from the workflow code of
 * commit d4a75a2 (before decisions named their step), the short plan below approved twice by an
 * `approve` *signal* without `stepIndex`. Signal handlers run again on replay, so it guards the
 * `patched('decision-names-step')` that keeps such signals accepted (workflows/handlers.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parsePlanText } from '../../client/plan-file.js';
import type { PlanDocument } from '../../domain/plan.js';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import * as messages from '../../workflows/messages.js';
import { FakeAzure, aShortPlanDocument, healthyMetrics, metricsFor, people, runRollout } from '../support/builders.js';
import { signedInput } from '../support/signers.js';
import { createTimeSkippingEnv, workflowBundle } from '../support/temporal.js';

/** The recorded scenarios: a plan, a fake, and the outcome the run must have. */
export const scenarios = {
  /** Short plan with the webhook gate: mirror → cost → approval → 10% → approval → 50% → promote → retire. */
  promoted: () => {
    const fake = new FakeAzure();
    fake.hooks.onNotify = async (n, { handle }) => {
      if (n.kind === 'approval_requested') await handle.executeUpdate(messages.approve, { args: [{ by: people.slackApprover, stepIndex: n.approval!.stepIndex }] });
    };
    return { fake, outcome: 'promoted' };
  },
  /** The same plan; the 10% canary fails its gates twice and rolls back. */
  'rolled-back': () => {
    const fake = new FakeAzure();
    fake.metrics = () => metricsFor((fake.endpoint.traffic.live.green ?? 0) > 0 ? 'fail' : 'pass');
    fake.hooks.onNotify = async (n, { handle }) => {
      if (n.kind === 'approval_requested') await handle.executeUpdate(messages.approve, { args: [{ by: people.slackApprover, stepIndex: n.approval!.stepIndex }] });
    };
    return { fake, outcome: 'rolled_back' };
  },
  /** examples/minimal.yaml as written (every default: mirror 20% → approval → 10% → 50% → promote → retire), approved, promoted. */
  minimal: () => {
    const fake = new FakeAzure();
    fake.hooks.onNotify = async (n, { handle }) => {
      if (n.kind === 'approval_requested') await handle.executeUpdate(messages.approve, { args: [{ by: people.slackApprover }] });
    };
    return { fake, outcome: 'promoted', plan: minimalPlan() };
  },
  /**
   * Signed decisions (patch `signed-decisions`): the plan requires them, the worker trusts the test signers
   * (the `trustedSigners` activity is in the history), and both approvals are *signals* signed by the Slack
   * bridge's key — signal handlers run again on replay, so this replays the signature checks themselves.
   */
  'signed-signal-approvals': () => {
    const fake = new FakeAzure();
    fake.hooks.onNotify = async (n, { handle }) => {
      if (n.kind !== 'approval_requested') return;
      const requestedAtMs = Date.parse(n.approval!.timeoutAt!) - 24 * 3_600_000; // workflow time of the request (24h timeouts)
      const input = signedInput({ workflowId: handle.workflowId, runId: (await handle.describe()).runId, stepIndex: n.approval!.stepIndex, decision: 'approve', person: 'bob@contoso.com', channel: 'slack', timeMs: requestedAtMs, signer: 'slack-bridge', nonce: `replay-nonce-${n.approval!.stepIndex}` });
      await handle.signal(messages.approveSignal, input);
    };
    return { fake, outcome: 'promoted', plan: signedPlan() };
  },
  'judged-promoted': () => {
    const fake = new FakeAzure();
    fake.metrics = () => countedMetrics(false);
    fake.hooks.onNotify = async (n, { handle }) => {
      if (n.kind === 'approval_requested') await handle.executeUpdate(messages.approve, { args: [{ by: people.slackApprover, stepIndex: n.approval!.stepIndex }] });
    };
    return { fake, outcome: 'promoted', plan: judgedPlan() };
  },
  'judged-rolled-back': () => {
    const fake = new FakeAzure();
    fake.metrics = () => countedMetrics((fake.endpoint.traffic.live.green ?? 0) > 0);
    fake.hooks.onNotify = async (n, { handle }) => {
      if (n.kind === 'approval_requested') await handle.executeUpdate(messages.approve, { args: [{ by: people.slackApprover, stepIndex: n.approval!.stepIndex }] });
    };
    return { fake, outcome: 'rolled_back', plan: judgedPlan() };
  },
} as const satisfies Record<string, () => { fake: FakeAzure; outcome: string; plan?: PlanDocument }>;

/** A judged plan: no gates (the judge's defaults), analyses every minute, a mirror that may pass early. */
export function judgedPlan(): PlanDocument {
  return aShortPlanDocument((d) => {
    d.target.endpoint = 'replay-judged';
    d.analysis = { interval: '1m', failureLimit: 2, minRequests: 100, onInconclusive: 'extend', maxExtensions: 1 };
    d.strategy[0] = { mirror: { percent: 20, bake: { min: '2m', max: '30m' } } };
    delete d.gates;
  });
}

/** Metrics with 5xx/424 counts (what the judge reads): healthy, or the candidate at 20× the baseline's 5xx rate (2% vs 0.1%). */
function countedMetrics(bad: boolean) {
  const m = healthyMetrics();
  m.baseline = { ...m.baseline!, requests: 4000, errors5xx: 4, errors424: 0, errorRate: 0.001 };
  m.candidate = { ...m.candidate!, requests: 1000, errors5xx: bad ? 20 : 1, errors424: 0, errorRate: bad ? 0.02 : 0.001 };
  return m;
}

/** The recorded plan, requiring signed decisions from alice or bob. */
export function signedPlan(): PlanDocument {
  return aShortPlanDocument((d) => {
    d.target.endpoint = 'replay-signed';
    d.approvals = { approvers: ['alice@contoso.com', 'bob@contoso.com'], fourEyes: true, verified: true };
  });
}

/** examples/minimal.yaml, with the endpoint renamed so the workflow id is stable and not shared with other tests. */
export function minimalPlan(): PlanDocument {
  const file = new URL('../../examples/minimal.yaml', import.meta.url);
  const doc = parsePlanText(readFileSync(file, 'utf8'), 'examples/minimal.yaml') as PlanDocument;
  doc.target.endpoint = 'replay-minimal';
  return doc;
}

/** The plan every recorded run uses (fixed endpoint name, so the workflow id is stable). */
export function recordedPlan() {
  return aShortPlanDocument((d) => {
    d.target.endpoint = 'replay-fixture';
    d.gates.webhook = { url: 'https://eval.example.com/check', timeout: '30s' };
  });
}

async function main(): Promise<void> {
  const env = await createTimeSkippingEnv();
  try {
    const bundle = await workflowBundle();
    const only = process.argv.slice(2);
    for (const [name, make] of Object.entries(scenarios)) {
      if (only.length > 0 && !only.includes(name)) continue;
      const made: { fake: FakeAzure; outcome: string; plan?: PlanDocument } = make();
      const { fake, outcome } = made;
      const run = await runRollout(env, { fake, plan: made.plan ?? recordedPlan(), workflowBundle: bundle });
      if (run.result.outcome !== outcome) throw new Error(`${name}: expected ${outcome}, got ${run.result.outcome}: ${run.result.reason}`);
      const history = await run.handle.fetchHistory();
      const file = new URL(`./histories/${name}.json`, import.meta.url);
      writeFileSync(file, historyToJSON(history) + '\n'); // proto3 JSON, as `temporal workflow show --output json` writes it
      console.log(`${name}: ${history.events?.length} events → ${file.pathname}`);
      // A finished rollout frees the id for the next scenario (conflict policy only refuses running ones).
    }
  } finally {
    await env.teardown();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
