/**
 * The retire step: delete the old baseline, which has held 0% since the promote step's rollback window
 * (invariant 4) — unless someone put traffic back on it. Not exported from workflows/index.ts.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { ErrorType } from '../domain/errors.js';
import { deletionViolation } from '../domain/traffic.js';
import { writes } from './activity-options.js';
import type { StepContext } from './context.js';

/** Deletes the baseline named by `ctx.baseline`, after reading the endpoint. */
export async function retireBaseline(ctx: StepContext, stepIndex: number): Promise<void> {
  const { state, endpoint } = ctx;
  const ep = await ctx.readEndpoint('read endpoint before retiring the baseline');
  const baseline = ctx.baseline;
  const v = deletionViolation(baseline, ep.traffic);
  if (v) {
    // Someone put traffic back on the baseline: never delete a serving deployment (invariant 4).
    throw ApplicationFailure.create({ type: ErrorType.TrafficDrift, message: `not retiring: ${v.message}`, nonRetryable: true });
  }
  const r = await writes.deleteDeployment.executeWithOptions({ summary: `delete ${baseline} (retire baseline)` }, [{ endpoint: endpoint, name: baseline }]);
  state.record('retired', `${baseline} ${r.deleted ? 'deleted' : 'was already gone'}`, stepIndex);
  await ctx.notify('retired', `Retired ${baseline} on ${endpoint.endpoint}`);
}

