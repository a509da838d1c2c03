// The judge wired into a plan's bake (domain/judged-analysis.ts): which gates it judges, what it sees in a
// snapshot (counts, exceedances above frozen thresholds, the per-interval latency test), data problems that
// must never pass, and the decision table of a judged bake.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBake, type BakeDecision, type BakeProgress } from '../../domain/analysis.js';
import type { DeploymentMetrics, MetricsSnapshot, Verdict } from '../../domain/gates.js';
import {
  afterJudgedAnalysis,
  gateObservations,
  guardrailsOf,
  judgeAnalysis,
  judgeExceedanceMs,
  judgeSettingsOf,
  judgedVerdict,
  startStepJudge,
  type StepJudgeState,
} from '../../domain/judged-analysis.js';
import type { StepJudgement } from '../../domain/judge/judge.js';
import { parsePlan, type AnalysisSettings, type RolloutPlan } from '../../domain/plan.js';
import { aMinimalPlanDocument, type ExamplePlan } from '../support/builders.js';

const minute = 60_000;
const LA = '11111111-2222-3333-4444-555555555555';

function plan(patch: (d: ExamplePlan) => void = () => undefined): RolloutPlan {
  const r = parsePlan(aMinimalPlanDocument(patch));
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.plan;
}

function side(requests: number, errors5xx: number, patch: Partial<DeploymentMetrics> = {}): DeploymentMetrics {
  return {
    requests,
    errorRate: requests ? errors5xx / requests : null,
    modelErrorRate: 0,
    errors5xx,
    errors424: 0,
    latencyP50Ms: 40,
    latencyP95Ms: 90,
    latencyP99Ms: 150,
    cpuPercent: 40,
    memoryPercent: 50,
    ...patch,
  };
}
const snap = (baseline: DeploymentMetrics | null, candidate: DeploymentMetrics | null, extra: Partial<MetricsSnapshot> = {}): MetricsSnapshot => ({ windowMs: minute, baseline, candidate, ...extra });

describe('which gates the judge takes', () => {
  test('a plan that names no gates is judged on 5xx, 424, p50 and p99 with the documented defaults', () => {
    const s = judgeSettingsOf(plan())!;
    assert.equal(s.falseAlarmBudget, 0.01);
    assert.deepEqual(
      s.gates.map((g) => [g.name, g.tolerance]),
      [
        ['5xx', { ratio: 1.25, additive: 0.001 }],
        ['424', { ratio: 1.25, additive: 0.001 }],
        ['latency p50', { ratio: 1, additive: 0 }], // the slowdown is in the comparison, the count test runs at 1
        ['latency p99', { ratio: 1, additive: 0 }],
      ],
    );
  });

  test('a plan with only fixed thresholds is not judged (it runs as before)', () => {
    assert.equal(judgeSettingsOf(plan((d) => (d.gates = { errorRate: { max: 0.01 }, latencyP99Ms: { maxRatioToBaseline: 1.2 } }))), null);
  });

  test('guardrails are the fixed thresholds of judged gates; a gate with only a tolerance has none', () => {
    const p = plan((d) => (d.gates = { errorRate: { max: 0.05, tolerance: '1.5x' }, latencyP99Ms: { tolerance: 1.2 }, cpuPercent: { max: 90 }, webhook: { url: 'https://x.example.com/h' } }));
    assert.deepEqual(guardrailsOf(p.gates), { errorRate: { max: 0.05 }, cpuPercent: { max: 90 } });
  });

  test('the budget and pass tolerance come from the plan', () => {
    const s = judgeSettingsOf(plan((d) => {
      d.analysis = { falseAlarmBudget: 0.05 };
      d.gates = { modelErrorRate: { tolerance: '+0.5%', passTolerance: '+0.2%' } };
    }))!;
    assert.equal(s.falseAlarmBudget, 0.05);
    assert.deepEqual(s.gates, [{ name: '424', tolerance: { ratio: 1, additive: 0.005 }, passTolerance: { ratio: 1, additive: 0.002 } }]);
  });
});

describe('what the judge sees in a snapshot', () => {
  const p = plan((d) => (d.gates = { errorRate: { tolerance: '1.5x' }, latencyP99Ms: { tolerance: 1.1 } }));
  const state = startStepJudge(judgeSettingsOf(p)!);
  const table: [string, MetricsSnapshot, Record<string, unknown>][] = [
    ['error counts per side; p99 above 1.1 × the baseline’s is the candidate’s event', snap(side(4000, 20), side(1000, 9, { latencyP99Ms: 200 })), {
      '5xx': { kind: 'window', candidateRequests: 1000, candidateEvents: 9, baselineRequests: 4000, baselineEvents: 20 },
      'latency p99': { kind: 'window', candidateRequests: 1, candidateEvents: 1, baselineRequests: 1, baselineEvents: 0 },
    }],
    ['a p99 under 1.1 × the baseline’s is the baseline’s event (evidence to pass)', snap(side(4000, 20), side(1000, 5, { latencyP99Ms: 160 })), {
      'latency p99': { kind: 'window', candidateRequests: 1, candidateEvents: 0, baselineRequests: 1, baselineEvents: 1 },
    }],
    ['a baseline with no traffic is a window with no baseline requests', snap(null, side(1000, 5)), {
      '5xx': { kind: 'window', candidateRequests: 1000, candidateEvents: 5, baselineRequests: 0, baselineEvents: 0 },
      'latency p99': { kind: 'window', candidateRequests: 1, candidateEvents: 0, baselineRequests: 0, baselineEvents: 0 },
    }],
    ['no metrics at all is missing data', snap(null, null), { '5xx': { kind: 'missing', detail: 'no request metrics for either deployment in the window' } }],
    ['a snapshot without counts (older source) is missing data, not zero errors', snap(side(4000, 20, { errors5xx: undefined }), side(1000, 5)), {
      '5xx': { kind: 'missing', detail: 'the metrics gave no 5xx count for the baseline' },
    }],
    ['a missing percentile is missing data', snap(side(4000, 20), side(1000, 5, { latencyP99Ms: null })), { 'latency p99': { kind: 'missing', detail: 'no p99 latency metric for the candidate' } }],
  ];
  test('a per-interval latency verdict says that it counts intervals', () => {
    const r = judgeAnalysis(p, judgeSettingsOf(p)!, state, snap(side(4000, 20), side(1000, 9, { latencyP99Ms: 200 })));
    assert.match(r.judgement.gates[1]!.reason, /^latency p99 \(intervals in which the candidate's p99 was above 1\.1× the baseline's, vs below\): candidate 1\/1 /);
    assert.ok(r.judgement.reasons.some((x) => x === r.judgement.gates[1]!.reason), 'the step reasons quote the same text');
  });
  for (const [what, s, expected] of table) {
    test(what, () => {
      const { observations } = gateObservations(p, state, s);
      for (const [gate, obs] of Object.entries(expected)) assert.deepEqual(observations[gate], obs, gate);
    });
  }
});

describe('latency from the traffic log: thresholds frozen at the first analysis', () => {
  const p = plan((d) => {
    d.analysis = { logs: { workspaceId: LA } };
    d.gates = { latencyP99Ms: { tolerance: 1.25 } };
  });
  const settings = judgeSettingsOf(p)!;
  const log = (requests: number, p99: number | null, judge?: [number, number][]) => ({
    requests,
    byStatus: {},
    byModelStatus: {},
    exceedances: [],
    latencyMs: { p50: null, p95: null, p99 },
    ...(judge ? { judgeExceedances: judge.map(([aboveMs, count]) => ({ aboveMs, count })) } : {}),
  });

  test('the first analysis only sets the threshold (inconclusive, never a pass); later ones count above it', () => {
    let state: StepJudgeState = startStepJudge(settings);
    assert.deepEqual(judgeExceedanceMs(p.gates, state), [], 'nothing to count before the threshold is frozen');
    const first = judgeAnalysis(p, settings, state, snap(side(1000, 0, { log: log(1000, 120) }), side(250, 0, { log: log(250, 500) })));
    assert.equal(first.judgement.status, 'inconclusive');
    assert.equal(first.judgement.cause, 'missing-data');
    assert.match(first.judgement.reasons[0]!, /threshold frozen at the baseline's p99 120ms \(candidate counted above 150ms\)/);
    state = first.state;
    assert.deepEqual(state.thresholdsMs, { 'latency p99': 120 });
    assert.deepEqual(judgeExceedanceMs(p.gates, state), [120, 150], 'the activity counts above the baseline threshold and the candidate one');
    // The next window: a slow candidate (half its requests above 150 ms) vs a baseline at its usual 1%.
    const second = judgeAnalysis(p, settings, state, snap(side(1000, 0, { log: log(1000, 400, [[120, 10], [150, 6]]) }), side(1000, 0, { log: log(1000, 900, [[120, 600], [150, 500]]) })));
    assert.deepEqual(second.state.thresholdsMs, { 'latency p99': 120 }, 'frozen: a later baseline p99 (400 ms) does not move it');
    assert.deepEqual(second.judgement.gates[0]!.totals, { candidateRequests: 1000, candidateEvents: 500, baselineRequests: 1000, baselineEvents: 10 });
    assert.equal(second.judgement.status, 'fail');
    assert.match(second.judgement.reasons[0]!, /^latency p99 \(requests above the baseline's p99 120ms, the candidate's counted above 150ms = 1\.25×\): candidate 500\/1,000/);
  });

  test('a partial traffic-log answer is a partial window; a failed query is missing data', () => {
    const state = { ...startStepJudge(settings), thresholdsMs: { 'latency p99': 120 } };
    const partial = judgeAnalysis(p, settings, state, snap(side(1000, 0), side(250, 0), { logsProblem: 'partial result for percentiles and exceedances (E: timeout)' }));
    assert.equal(partial.judgement.cause, 'partial-window');
    const failed = judgeAnalysis(p, settings, state, snap(side(1000, 0), side(250, 0), { logsProblem: 'could not query workspace (HTTP 403)' }));
    assert.equal(failed.judgement.cause, 'missing-data');
    assert.notEqual(failed.judgement.status, 'pass');
  });

  test('a baseline with no logged requests cannot set a threshold', () => {
    const r = judgeAnalysis(p, settings, startStepJudge(settings), snap(side(1000, 0, { log: log(0, null) }), side(250, 0, { log: log(250, 90) })));
    assert.equal(r.judgement.cause, 'missing-data');
    assert.equal(r.state.thresholdsMs, undefined);
  });
});

describe('data problems never pass', () => {
  const p = plan((d) => (d.gates = { errorRate: { tolerance: '1.5x + 0.1%' } }));
  const settings = judgeSettingsOf(p)!;
  // Evidence to pass, gathered over healthy windows first.
  let healthy = startStepJudge(settings);
  for (let i = 0; i < 40; i++) healthy = judgeAnalysis(p, settings, healthy, snap(side(4000, 0), side(1000, 0))).state;
  const cases: [string, MetricsSnapshot, string][] = [
    ['no metrics', snap(null, null), 'missing-data'],
    ['a baseline with no traffic', snap(null, side(1000, 0)), 'no-baseline-traffic'],
    ['a candidate with no traffic', snap(side(4000, 0), null), 'no-candidate-traffic'],
    ['more errors than requests', snap(side(4000, 0), side(10, 11)), 'invalid-data'],
  ];
  test('the healthy windows alone pass', () => {
    assert.equal(judgeAnalysis(p, settings, healthy, snap(side(4000, 0), side(1000, 0))).judgement.status, 'pass');
  });
  for (const [what, s, cause] of cases) {
    test(`${what}: inconclusive (${cause}) with the reason, even after evidence to pass`, () => {
      const r = judgeAnalysis(p, settings, healthy, s);
      assert.equal(r.judgement.status, 'inconclusive');
      assert.equal(r.judgement.cause, cause);
      assert.ok(r.judgement.reasons[0]!.length > 10);
    });
  }
});

// ───────────────────────────── the decision table ─────────────────────────────

const analysis = (patch: Partial<AnalysisSettings> = {}): AnalysisSettings => ({ intervalMs: minute, failureLimit: 2, minRequests: 100, onInconclusive: 'extend', maxExtensions: 3, ...patch });
const judgement = (status: StepJudgement['status'], cause?: StepJudgement['cause']): StepJudgement => ({
  status,
  ...(cause ? { cause } : {}),
  reasons: [`5xx: judge ${status}${cause ? ` (${cause})` : ''}`],
  gates: [{ gate: '5xx', status, reason: 'r', tolerance: { ratio: 1.5, additive: 0 }, passTolerance: { ratio: 1.5, additive: 0 }, totals: { candidateRequests: 1, candidateEvents: 0, baselineRequests: 1, baselineEvents: 0 }, windows: 1, toFail: { eValue: 1, maxEValue: 1, threshold: 100 }, toPass: null, estimate: { ratio: null, lower: 0, upper: null, level: 0.99 }, detectableRatio: 2.1 }],
});
const guard = (status: Verdict['status']) => ({ status, reasons: [`guardrail ${status}`] });

type Row = [what: string, at: { elapsedMs: number; consecutiveFailures?: number; extensions?: number }, g: Verdict['status'], j: StepJudgement, bake: { bakeMs: number; bakeMinMs?: number }, a: AnalysisSettings, expected: Partial<BakeDecision> & { action: BakeDecision['action'] }, reason?: RegExp];
const bake15 = { bakeMs: 15 * minute };
const bakeMin5 = { bakeMs: 15 * minute, bakeMinMs: 5 * minute };
const rows: Row[] = [
  ['1. the judge failed → roll back at once, mid-bake, whatever the guardrails say', { elapsedMs: 2 * minute }, 'pass', judgement('fail'), bake15, analysis(), { action: 'rollback' }, /the judge found the candidate worse than its tolerance after 3m with 1 analysis: 5xx: judge fail/],
  ['2. guardrail failed once → keep baking (failureLimit 2)', { elapsedMs: 2 * minute }, 'fail', judgement('inconclusive', 'undecided'), bake15, analysis(), { action: 'continue', waitMs: minute }],
  ['2. guardrail failed twice in a row → roll back', { elapsedMs: 2 * minute, consecutiveFailures: 1 }, 'fail', judgement('inconclusive', 'undecided'), bake15, analysis(), { action: 'rollback' }, /2 consecutive failed analyses \(failureLimit 2\): guardrail fail/],
  ['3. judge passed, guardrails pass, past the bake min → passed early', { elapsedMs: 4 * minute }, 'pass', judgement('pass'), bakeMin5, analysis(), { action: 'passed' }, /passed early after 5m with 1 analysis \(bake min 5m\)/],
  ['3. judge passed before the bake min → continue, next analysis on the min', { elapsedMs: 2 * minute + 30_000 }, 'pass', judgement('pass'), { bakeMs: 15 * minute, bakeMinMs: 4 * minute }, analysis(), { action: 'continue', waitMs: 30_000 }],
  ['3. judge passed but the bake has no min (plain `bake: 15m`) → no early pass', { elapsedMs: 9 * minute }, 'pass', judgement('pass'), bake15, analysis(), { action: 'continue', waitMs: minute }],
  ['3. judge passed but a guardrail is inconclusive → no early pass', { elapsedMs: 9 * minute }, 'inconclusive', judgement('pass'), bakeMin5, analysis(), { action: 'continue', waitMs: minute }],
  ['4. undecided mid-bake → continue', { elapsedMs: 3 * minute }, 'pass', judgement('inconclusive', 'undecided'), bake15, analysis(), { action: 'continue', waitMs: minute }],
  ['5. end of bake, guardrail failed once → one more interval', { elapsedMs: 14 * minute }, 'fail', judgement('inconclusive', 'undecided'), bake15, analysis(), { action: 'continue', waitMs: minute }],
  ['6. end of bake, the judge saw a data problem → onInconclusive extend', { elapsedMs: 14 * minute }, 'pass', judgement('inconclusive', 'no-baseline-traffic'), bake15, analysis(), { action: 'continue', waitMs: minute }],
  ['6. … after every extension → roll back', { elapsedMs: 17 * minute, extensions: 3 }, 'pass', judgement('inconclusive', 'missing-data'), bake15, analysis(), { action: 'rollback' }, /still inconclusive after 3 extension\(s\).*5xx: judge inconclusive \(missing-data\)/],
  ['6. end of bake, data problem, onInconclusive pause → pause', { elapsedMs: 14 * minute }, 'pass', judgement('inconclusive', 'partial-window'), bake15, analysis({ onInconclusive: 'pause' }), { action: 'pause' }],
  ['6. end of bake, a guardrail inconclusive, onInconclusive rollback → roll back', { elapsedMs: 14 * minute }, 'inconclusive', judgement('inconclusive', 'undecided'), bake15, analysis({ onInconclusive: 'rollback' }), { action: 'rollback' }, /inconclusive at the end of the bake: guardrail inconclusive/],
  ['7. end of bake, judge passed → passed', { elapsedMs: 14 * minute }, 'pass', judgement('pass'), bake15, analysis(), { action: 'passed' }, /baked 15m with 1 analysis; the judge passed/],
  ['8. end of bake, judge undecided, data fine → passed, saying what it could have detected', { elapsedMs: 14 * minute }, 'pass', judgement('inconclusive', 'undecided'), bake15, analysis(), { action: 'passed' }, /no evidence of harm \(could detect 5xx ≥ 2\.10×\)/],
];

describe('the decision table of a judged bake', () => {
  for (const [what, at, g, j, bake, a, expected, reason] of rows) {
    test(what, () => {
      const progress: BakeProgress = { ...startBake(), ...at, elapsedMs: at.elapsedMs };
      const r = afterJudgedAnalysis(progress, { guardrails: guard(g), judgement: j }, minute, bake, a);
      assert.equal(r.decision.action, expected.action, JSON.stringify(r.decision));
      if ('waitMs' in expected) assert.equal((r.decision as { waitMs: number }).waitMs, expected.waitMs);
      if (reason) assert.match((r.decision as { reason: string }).reason, reason);
    });
  }

  test('the judge state in the progress is kept (it travels across continue-as-new) and guardrail passes reset the failure count', () => {
    const state = startStepJudge(judgeSettingsOf(plan())!);
    const r = afterJudgedAnalysis({ ...startBake(), consecutiveFailures: 1, judge: state }, { guardrails: guard('pass'), judgement: judgement('inconclusive', 'undecided') }, minute, bake15, analysis());
    assert.equal(r.progress.judge, state);
    assert.equal(r.progress.consecutiveFailures, 0);
    assert.deepEqual(JSON.parse(JSON.stringify(r.progress)), r.progress, 'plain JSON');
  });
});

describe('the verdict of a judged analysis', () => {
  const s = snap(side(4000, 0), side(1000, 0));
  const guardrails = (status: Verdict['status']): Verdict => ({ status, reasons: [`g ${status}`], gates: [{ gate: 'errorRate', status, reason: `g ${status}` }], snapshot: s });
  test('quotes the judge first, carries its judgement, and fails on either', () => {
    const v = judgedVerdict(guardrails('fail'), judgement('fail'));
    assert.equal(v.status, 'fail');
    assert.deepEqual(v.reasons, ['5xx: judge fail', 'g fail']);
    assert.equal(v.judgement?.status, 'fail');
    assert.deepEqual(v.gates.map((g) => g.gate), ['5xx', 'errorRate']);
  });
  test('passes only when both pass; otherwise inconclusive with the open reasons', () => {
    assert.equal(judgedVerdict(guardrails('pass'), judgement('pass')).status, 'pass');
    const v = judgedVerdict(guardrails('inconclusive'), judgement('pass'));
    assert.equal(v.status, 'inconclusive');
    assert.deepEqual(v.reasons, ['g inconclusive']);
    assert.equal(judgedVerdict(guardrails('pass'), judgement('inconclusive', 'undecided')).status, 'inconclusive');
  });
});
