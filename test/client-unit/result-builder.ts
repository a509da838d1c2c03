/** A finished rollout's result, for report and --wait tests. */
import type { SafeRolloutResult, VerdictRecord } from '../../domain/rollout.js';
import type { DeploymentMetrics } from '../../domain/gates.js';

const m = (p99: number, errorRate: number, requests = 500): DeploymentMetrics => ({
  requests,
  errorRate,
  modelErrorRate: 0,
  latencyP50Ms: p99 / 3,
  latencyP95Ms: p99 / 1.5,
  latencyP99Ms: p99,
  cpuPercent: 40,
  memoryPercent: 50,
});

export function aVerdict(stepIndex: number, analysis: number, base: [number, number], cand: [number, number], status: VerdictRecord['status'] = 'pass'): VerdictRecord {
  return {
    at: `2026-11-25T08:0${stepIndex}:${String(analysis * 10).padStart(2, '0')}.000Z`,
    stepIndex,
    analysis,
    status,
    reasons: [status === 'pass' ? 'all gates pass' : `p99 latency ${cand[0]}ms > max 250ms`],
    gates: [{ gate: 'latencyP99Ms', status, reason: `p99 latency ${cand[0]}ms vs baseline ${base[0]}ms` }],
    snapshot: { windowMs: 10_000, baseline: m(base[0], base[1]), candidate: m(cand[0], cand[1]) },
  };
}

export function aResult(patch: Partial<SafeRolloutResult> = {}): SafeRolloutResult {
  return {
    outcome: 'promoted',
    reason: 'green serves 100% of fraud-detection; blue retired',
    workflowId: 'glidepath-rollout:/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/ml-prod/providers/microsoft.machinelearningservices/workspaces/fraud-prod/onlineendpoints/fraud-detection',
    endpoint: 'fraud-detection',
    baseline: 'blue',
    candidate: 'green',
    startedBy: 'ci@contoso.com',
    startedAt: '2026-11-25T08:00:00.000Z',
    finishedAt: '2026-11-25T08:09:00.000Z',
    rollback: null,
    errorType: null,
    approvals: [{ at: '2026-11-25T08:03:00.000Z', stepIndex: 2, decision: 'approved', by: 'alice@contoso.com', comment: 'looks good <b>', via: 'update', channel: 'slack', clientIdentity: '4711@bridge-1' }],
    verdicts: [
      aVerdict(0, 1, [100, 0.001], [104, 0.002]),
      aVerdict(0, 2, [101, 0.001], [99, 0.0]),
      { at: '2026-11-25T08:02:30.000Z', stepIndex: 1, analysis: 1, status: 'pass', reasons: ['within budget'], gates: [{ gate: 'maxMonthlyUsd', status: 'pass', reason: 'projected $427.78/month ≤ budget $2000.00/month' }], snapshot: null },
      aVerdict(3, 1, [98, 0.002], [120, 0.004]),
      aVerdict(4, 1, [97, 0.001], [110, 0.003]),
    ],
    timeline: [
      { at: '2026-11-25T08:00:00.000Z', kind: 'started', text: 'rollout of green on fraud-detection started by ci@contoso.com' },
      { at: '2026-11-25T08:00:30.000Z', kind: 'traffic', text: 'blue 100% | mirror 20% → green', stepIndex: 0 },
      { at: '2026-11-25T08:03:00.000Z', kind: 'approved', text: 'approved by alice@contoso.com (update)', stepIndex: 2 },
      { at: '2026-11-25T08:03:10.000Z', kind: 'traffic', text: 'blue 90% | green 10% | mirror 0%', stepIndex: 3 },
      { at: '2026-11-25T08:05:10.000Z', kind: 'traffic', text: 'blue 50% | green 50% | mirror 0%', stepIndex: 4 },
      { at: '2026-11-25T08:07:10.000Z', kind: 'traffic', text: 'green 100% | mirror 0%', stepIndex: 5 },
      { at: '2026-11-25T08:09:00.000Z', kind: 'finished', text: 'promoted: green serves 100%' },
    ],
    ...patch,
  };
}
