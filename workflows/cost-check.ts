/**
 * The cost check step: price the candidate (and the baseline, for the increase) from the Retail Prices
 * API, judge against the step's budget (domain/gates.evaluateCost) and act on what
 * domain/step-decisions.afterCostCheck says. Not exported from workflows/index.ts.
 */
import { evaluateCost, formatVerdict } from '../domain/gates.js';
import type { Step } from '../domain/plan.js';
import { afterCostCheck } from '../domain/step-decisions.js';
import { azure } from './activity-options.js';
import type { StepContext } from './context.js';
import { nowIso } from './rollout-state.js';
import { StopRollout } from './stop.js';

/** Runs a cost check step; throws StopRollout when it fails (or is inconclusive with onInconclusive rollback). */
export async function costCheck(ctx: StepContext, stepIndex: number, step: Extract<Step, { kind: 'costCheck' }>): Promise<void> {
  const { state, plan, endpoint } = ctx;
  const spec = plan.candidate.deployment;
  const ep = await ctx.readEndpoint('read endpoint (baseline size for cost)');
  const base = ep.deployments.find((d) => d.name === ctx.baseline);
  const where = ep.location ? { location: ep.location } : {};
  const candidate = await azure.estimateCost.executeWithOptions({ summary: `price ${spec.instance_count} × ${spec.instance_type}` }, [
    { endpoint: endpoint, instanceType: spec.instance_type, instanceCount: spec.instance_count, ...where },
  ]);
  const baseline =
    base?.instanceType && base.instanceCount
      ? await azure.estimateCost.executeWithOptions({ summary: `price baseline ${base.instanceCount} × ${base.instanceType}` }, [
          { endpoint: endpoint, instanceType: base.instanceType, instanceCount: base.instanceCount, ...where },
        ])
      : null;
  const v = evaluateCost(step, candidate, baseline);
  state.recordVerdict({ at: nowIso(), stepIndex, analysis: 1, status: v.status, reasons: v.reasons, gates: v.gates, snapshot: null }, 'cost', `cost check ${formatVerdict(v)}`);
  const next = afterCostCheck(v, stepIndex + 1, plan.analysis.onInconclusive);
  switch (next.action) {
    case 'continue':
      return;
    case 'rollback':
      throw new StopRollout('rolled_back', next.reason);
    case 'pause':
      state.pause(next.reason, 'glidepath', 'gate');
      state.record('paused', next.reason, stepIndex);
      return ctx.checkpoint();
    default: {
      const never: never = next;
      throw new Error(`unknown decision ${JSON.stringify(never)}`);
    }
  }
}

