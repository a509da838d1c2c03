/**
 * What the demo rolls out, as data: the endpoint it creates on the emulator and the three plans it runs on it.
 * Same shape as a real plan file (examples/rollout.yaml) with bakes of seconds instead of minutes.
 */
import type { PlanDocument } from '../domain/plan.js';

export const DEMO_TARGET = {
  subscriptionId: '00000000-0000-4000-8000-00000000de30',
  resourceGroup: 'rg-glidepath-demo',
  workspace: 'ws-glidepath-demo',
  endpoint: 'fraud-detection',
} as const;

/** Who the demo starts rollouts as, and who approves them (four-eyes: a different person). */
export const DEMO_STARTER = 'ci@glidepath.demo';
export const DEMO_APPROVER = 'alice@contoso.com';

/**
 * The gates both rollouts are judged by. Each has a tolerance, so the judge (docs/judge.md) decides with
 * its stated false-alarm budget (α = 0.01 per step): 5xx and 424 rates within 1.25× the live model's plus
 * 0.1 point, p99 latency at most 25% slower. The fixed limits stay as guardrails per window (`failureLimit`
 * in a row roll back): p99 ≤ 1 s, 5xx ≤ 2%, 424s ≤ 1%. The guardrails are loose on purpose: on a busy
 * laptop or CI runner a 3-second window's p99 jumps by tens of milliseconds for both models alike.
 */
const GATES = {
  latencyP99Ms: { max: 1000, tolerance: 1.25 },
  errorRate: { max: 0.02, tolerance: '1.25x + 0.1%' },
  modelErrorRate: { max: 0.01, tolerance: '1.25x + 0.1%' },
};

/**
 * The third rollout's prediction gate: the candidate's `isFraud` may differ from the live model's on at
 * most 2% of mirrored requests (the disagreement test, sharing the step's false-alarm budget with the
 * judge's three gates), its `fraudProbability` distribution may not shift by more than PSI 0.2, and
 * disagreements are counted per `merchantCategory`.
 */
export const PREDICTION_GATE = {
  label: 'isFraud',
  score: 'fraudProbability',
  maxDisagreement: 0.02,
  maxScoreShift: { statistic: 'psi' as const, max: 0.2 },
  slices: ['merchantCategory'],
};

/** Azure ML data collection on the first candidate (`green`), so the third rollout can compare predictions against it. */
export const DEMO_DATA_COLLECTOR = {
  collections: { model_inputs: { enabled: 'True' }, model_outputs: { enabled: 'True' } },
  request_logging: { capture_headers: ['x-ms-client-request-id'] },
};

/** One rollout of the demo: the candidate and the plan, and what the demo expects it to end as. */
export interface DemoRollout {
  title: string;
  candidate: string;
  model: string;
  expected: 'promoted' | 'rolled_back';
  plan: PlanDocument;
}

/** The baseline the endpoint starts with. */
export const BASELINE = { name: 'blue', model: 'azureml:fraud-detector:1' } as const;

/**
 * 1. `green` (fraud-detector:2, a good model): mirror 30% → cost check → approval → canary 25% → 50% →
 *    promote → retire `blue`. 2. `red` (fraud-detector:4, brittle: its scoring code raises — HTTP 424 —
 *    for far-from-home or unknown-merchant transactions, ~5% of traffic): mirror 50%, where the model-error
 *    gate (≤ 1%) fails and the rollout rolls back to `green` before `red` sees any live traffic.
 * 3. `amber` (fraud-detector:5, fast and healthy but badly fit: it flags far more transactions as fraud):
 *    mirror 50% with prediction gates; the mirrored pairs disagree on about a third of the labels, so the
 *    rollout rolls back during the mirror on prediction disagreement, before `amber` sees live traffic.
 *    `green` collects its inputs and outputs (data_collector); Glidepath adds the collector to `amber`.
 */
export function demoRollouts(opts: { approvalTimeout: string; bake: string; goodModel?: string; faultyModel?: string; wrongModel?: string; verified?: boolean }): DemoRollout[] {
  const deployment = (model: string, collect = false) => ({
    model,
    ...(collect ? { data_collector: DEMO_DATA_COLLECTOR } : {}),
    instance_type: 'Standard_DS3_v2',
    instance_count: 1,
    request_settings: { request_timeout_ms: 5000, max_concurrent_requests_per_instance: 8 },
  });
  const common = {
    apiVersion: 'glidepath/v1' as const,
    kind: 'Rollout' as const,
    target: { ...DEMO_TARGET },
    analysis: { interval: '3s', failureLimit: 2, minRequests: 5, onInconclusive: 'extend' as const, maxExtensions: 3 },
    gates: GATES,
    approvals: { approvers: [DEMO_APPROVER], fourEyes: true, verified: opts.verified ?? true },
    deadline: '15m',
  };
  /** A plan of `common` for candidate `name` (model `model`) beside `baseline`; `rest` gives the strategy and what differs from `common`. */
  const plan = (baseline: string, name: string, model: string, rest: Record<string, unknown>, collect = false): PlanDocument =>
    ({ ...common, baseline, candidate: { name, deployment: deployment(model, collect) }, ...rest }) as PlanDocument;
  // `red` and `amber`: wider windows and the widest mirror: ~60 mirrored requests per analysis, so a ~5%
  // failure rate shows in every window (a window of 20 requests has a one-in-three chance of seeing none).
  const stoppedInMirror = () => ({
    analysis: { ...common.analysis, interval: '5s' },
    strategy: [
      { mirror: { percent: 50, bake: '30s' } },
      { costCheck: { maxMonthlyUsd: 1000 } },
      { approval: { timeout: opts.approvalTimeout, onTimeout: 'rollback' } },
      { canary: { percent: 25, bake: opts.bake } },
      { promote: { rollbackWindow: '5s' } },
      { retire: {} },
    ],
  });
  const good = opts.goodModel ?? 'azureml:fraud-detector:2';
  const faulty = opts.faultyModel ?? 'azureml:fraud-detector:4';
  const wrong = opts.wrongModel ?? 'azureml:fraud-detector:5';
  return [
    {
      title: 'a good model, all the way',
      candidate: 'green',
      model: good,
      expected: 'promoted',
      plan: plan(
        BASELINE.name,
        'green',
        good,
        {
          strategy: [
            { mirror: { percent: 30, bake: opts.bake } },
            { costCheck: { maxMonthlyUsd: 1000, maxIncreasePercent: 50 } },
            { approval: { timeout: opts.approvalTimeout, onTimeout: 'rollback' } },
            { canary: { percent: 25, bake: opts.bake } },
            { canary: { percent: 50, bake: opts.bake } },
            { promote: { rollbackWindow: '5s' } },
            { retire: {} },
          ],
        },
        true,
      ),
    },
    {
      title: 'a model that fails on some inputs, stopped during the mirror',
      candidate: 'red',
      model: faulty,
      expected: 'rolled_back',
      plan: plan('green', 'red', faulty, stoppedInMirror()),
    },
    {
      title: 'a fast, healthy model that predicts wrong, stopped during the mirror on its predictions',
      candidate: 'amber',
      model: wrong,
      expected: 'rolled_back',
      plan: plan('green', 'amber', wrong, { gates: { ...GATES, predictions: PREDICTION_GATE }, ...stoppedInMirror() }),
    },
  ];
}

/**
 * The plan `demo --keep` writes for a person to start their own rollout against the demo's endpoint:
 * `purple` (the good model) beside whatever serves 100% now, a short mirror and canary judged by the demo's
 * gates, then promote. No approval step, so nobody has to answer.
 */
export function yourRolloutPlan(): PlanDocument {
  return {
    apiVersion: 'glidepath/v1',
    kind: 'Rollout',
    target: { ...DEMO_TARGET },
    candidate: {
      name: 'purple',
      deployment: { model: 'azureml:fraud-detector:2', instance_type: 'Standard_DS3_v2', instance_count: 1 },
    },
    strategy: [{ mirror: { percent: 30, bake: '15s' } }, { canary: { percent: 50, bake: '15s' } }, { promote: { rollbackWindow: '5s' } }],
    analysis: { interval: '3s', failureLimit: 2, minRequests: 5, onInconclusive: 'extend', maxExtensions: 3 },
    gates: GATES,
    deadline: '15m',
  } as PlanDocument;
}
