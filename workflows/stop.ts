/**
 * The workflow's internal stop signal and its patch ids. Not exported from workflows/index.ts.
 */
import type { RolloutOutcome } from '../domain/rollout.js';

/** Traffic changes are one read-compare-write in the activity (before: read, compare and check in the workflow). */
export const TRAFFIC_READ_COMPARE_WRITE = 'traffic-read-compare-write';

/** A decision to stop the rollout (a failed gate, a rejection, a timeout); never leaves the workflow. */
export class StopRollout extends Error {
  constructor(
    readonly outcome: RolloutOutcome,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'StopRollout';
  }
}
