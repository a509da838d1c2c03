/**
 * The traffic changes of rollouts whose history was recorded before the read-compare-write rework
 * (patch `traffic-read-compare-write`): the workflow read the endpoint, compared it with what it
 * expected, checked Azure's traffic rules, wrote with `{live, mirror, expectedCurrent}`, and compared the
 * read-back itself; rollback read, wrote and read again as three activities. Kept, unchanged in the
 * commands it issues, so that those histories replay (test/replay/histories/promoted.json and
 * rolled-back.json). Delete it once no such rollout can still be running (`deprecatePatch` first).
 */
import { ActivityFailure, ApplicationFailure, CancellationScope } from '@temporalio/workflow';
import type { GetEndpointResult } from '../activities/types.js';
import { ErrorType } from '../domain/errors.js';
import { formatTraffic, sameTraffic, trafficViolations, type TrafficState } from '../domain/traffic.js';
import { trafficSummary } from '../domain/transitions.js';
import { undo, writes } from './activity-options.js';
import type { RolloutState } from './rollout-state.js';

/** What the legacy traffic change needs from the running rollout. */
export interface LegacyTrafficContext {
  state: RolloutState;
  endpoint: RolloutState['plan']['target'];
  checkpoint(): Promise<void>;
  readEndpoint(summary: string): Promise<GetEndpointResult>;
  pauseForDrift(expected: TrafficState, actual: TrafficState, stepIndex: number): Promise<void>;
  failureType(err: unknown): string | null;
}

/** The pre-rework traffic change: read and compare in the workflow, then write (which compares again). */
export async function legacySetTraffic(ctx: LegacyTrafficContext, target: TrafficState, stepIndex: number): Promise<void> {
  const { state } = ctx;
  for (;;) {
    await ctx.checkpoint();
    const ep = await ctx.readEndpoint(`read endpoint before ${trafficSummary(target)}`);
    const expected = state.expectedTraffic!;
    if (!sameTraffic(ep.traffic, expected)) {
      await ctx.pauseForDrift(expected, ep.traffic, stepIndex);
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
      const r = await CancellationScope.nonCancellable(() => {
        state.markTrafficChanging();
        return writes.setEndpointTraffic.executeWithOptions({ summary: trafficSummary(target) }, [
          { endpoint: ctx.endpoint, live: target.live, mirror: target.mirror, expectedCurrent: ep.traffic },
        ]);
      });
      state.expectTraffic(r.traffic);
      if (!sameTraffic(r.traffic, target)) {
        throw ApplicationFailure.create({ type: ErrorType.TrafficNotApplied, message: `asked for ${formatTraffic(target)}, read back ${formatTraffic(r.traffic)}`, nonRetryable: true });
      }
      state.record('traffic', formatTraffic(r.traffic), stepIndex);
      return;
    } catch (err) {
      if (err instanceof ActivityFailure && ctx.failureType(err) === ErrorType.TrafficDrift) {
        const fresh = await ctx.readEndpoint('read endpoint after drift');
        await ctx.pauseForDrift(expected, fresh.traffic, stepIndex);
        continue;
      }
      throw err;
    }
  }
}

/** One pre-rework rollback attempt: read, write when needed, read back. Returns the traffic read back. */
export async function legacyRollbackAttempt(endpoint: LegacyTrafficContext['endpoint'], target: TrafficState): Promise<TrafficState> {
  const ep = await undo.getEndpoint.executeWithOptions({ summary: 'read endpoint (rollback)' }, [{ endpoint }]);
  if (!sameTraffic(ep.traffic, target)) {
    await undo.setEndpointTraffic.executeWithOptions({ summary: `rollback: ${trafficSummary(target)}` }, [
      { endpoint, live: target.live, mirror: {}, expectedCurrent: ep.traffic },
    ]);
  }
  const check = await undo.getEndpoint.executeWithOptions({ summary: 'read endpoint back (confirm rollback)' }, [{ endpoint }]);
  return check.traffic;
}
