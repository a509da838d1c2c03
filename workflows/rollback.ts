/**
 * Rollback: the baseline back at 100% live with no mirror, confirmed by reading the endpoint back, and
 * the candidate deleted when the plan says so. Not exported from workflows/index.ts.
 */
import { patched } from '@temporalio/workflow';
import type { RollbackReport } from '../domain/rollout.js';
import { formatTraffic, normalizeTraffic, sameTraffic } from '../domain/traffic.js';
import { baselineTraffic, trafficSummary } from '../domain/transitions.js';
import { undo } from './activity-options.js';
import type { RolloutContext } from './context.js';
import { describeFailure } from './failures.js';
import { legacyRollbackAttempt } from './legacy-traffic.js';
import { TRAFFIC_READ_COMPARE_WRITE } from './stop.js';

/**
 * Puts the baseline back at 100% live with no mirror and confirms by reading the endpoint again.
 * Runs in a non-cancellable scope; every action is idempotent (the step being undone may have half-happened).
 */
export async function rollback(ctx: RolloutContext, reason: string): Promise<RollbackReport> {
  const { state, plan, endpoint } = ctx;
  const report: RollbackReport = { confirmed: false, traffic: null, candidateDeleted: false, errors: [] };
  const baseline = state.undo.baseline;
  state.clearForRollback();
  state.setStage('rollback', state.status.stepIndex, `rollback: ${reason}`);
  state.record('rollback', `rolling back: ${reason}`);
  await ctx.notify('rollback_started', `Rolling back ${endpoint.endpoint}: ${reason}`);
  if (!baseline) {
    // Stopped during preflight: nothing was changed, so there is nothing to restore.
    state.record('rollback', 'nothing to roll back: the rollout stopped before changing the endpoint');
    report.confirmed = true;
    return report;
  }
  const target = baselineTraffic({ baseline, candidate: plan.candidate.name });
  const rcw = patched(TRAFFIC_READ_COMPARE_WRITE);
  for (let attempt = 1; attempt <= 3 && !report.confirmed; attempt++) {
    try {
      // One read-compare-write that takes over whatever the endpoint has (expected: null), read back by the activity.
      const traffic = rcw
        ? (await undo.setEndpointTraffic.executeWithOptions({ summary: `rollback: ${trafficSummary(target)}` }, [{ endpoint: endpoint, expected: null, target }])).traffic
        : await legacyRollbackAttempt(endpoint, target);
      state.observedTraffic(traffic);
      report.traffic = normalizeTraffic(traffic);
      report.confirmed = sameTraffic(traffic, target);
      if (!report.confirmed) report.errors.push(`attempt ${attempt}: read back ${formatTraffic(traffic)}, expected ${formatTraffic(target)}`);
    } catch (err) {
      report.errors.push(`attempt ${attempt}: ${describeFailure(err)}`);
    }
  }
  if (report.confirmed && plan.rollback.deleteCandidate && state.undo.candidateCreated) {
    try {
      const r = await undo.deleteDeployment.executeWithOptions({ summary: `delete candidate ${plan.candidate.name} (rollback)` }, [
        { endpoint: endpoint, name: plan.candidate.name },
      ]);
      report.candidateDeleted = true;
      state.record('rollback', `candidate ${plan.candidate.name} ${r.deleted ? 'deleted' : 'was already gone'}`);
    } catch (err) {
      report.errors.push(`deleting candidate: ${describeFailure(err)}`);
    }
  }
  state.record('rollback', report.confirmed ? `rolled back: read back ${formatTraffic(report.traffic!)}` : `ROLLBACK NOT CONFIRMED: ${report.errors.join('; ')}`);
  if (report.confirmed) await ctx.notify('rolled_back', `Rolled back ${endpoint.endpoint}: ${baseline} serves 100% again (${reason})`);
  return report;
}
