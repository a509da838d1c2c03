/**
 * The traffic states a rollout moves an endpoint through, as pure functions of (step, baseline, candidate).
 * The workflow asks these what to set; the rules in traffic.ts say whether Azure accepts it.
 *
 * Worked example for the default plan with baseline `blue` and candidate `green`:
 *
 * | step            | live                  | mirror     |
 * |-----------------|-----------------------|------------|
 * | (start)         | blue 100              | —          |
 * | mirror 20%      | blue 100              | green 20   |
 * | canary 10%      | blue 90, green 10     | —          |
 * | canary 50%      | blue 50, green 50     | —          |
 * | promote         | green 100 (blue 0)    | —          |
 * | rollback (any)  | blue 100 (green 0)    | —          |
 */
import type { Step } from './plan.js';
import { normalizeTraffic, share, type TrafficState } from './traffic.js';

/** The two deployments a rollout works with. */
export interface RolloutPair {
  baseline: string;
  candidate: string;
}

/** The state before the rollout touches anything, and the state every rollback returns to: the baseline takes everything. */
export function baselineTraffic(pair: RolloutPair): TrafficState {
  return { live: { [pair.baseline]: 100 }, mirror: {} };
}

/** Mirror `percent` of live traffic to the candidate while the baseline keeps serving 100%. */
export function mirrorTraffic(pair: RolloutPair, percent: number): TrafficState {
  return { live: { [pair.baseline]: 100 }, mirror: { [pair.candidate]: percent } };
}

/**
 * Give the candidate `percent` of live traffic and the baseline the rest. Mirroring stops: a deployment
 * may not have live and mirror traffic at once. The baseline keeps an explicit 0 at 100% so the
 * endpoint still names it (Azure keeps zero entries; it is still the rollback target).
 */
export function canaryTraffic(pair: RolloutPair, percent: number): TrafficState {
  return { live: { [pair.baseline]: 100 - percent, [pair.candidate]: percent }, mirror: {} };
}

/**
 * The traffic a step sets, or undefined when the step does not change traffic (cost check, approval,
 * retire — retire deletes a deployment that already has 0%).
 */
export function trafficForStep(step: Step, pair: RolloutPair): TrafficState | undefined {
  switch (step.kind) {
    case 'mirror':
      return mirrorTraffic(pair, step.percent);
    case 'canary':
      return canaryTraffic(pair, step.percent);
    case 'promote':
      return canaryTraffic(pair, 100);
    case 'costCheck':
    case 'approval':
    case 'retire':
      return undefined;
    default: {
      const never: never = step;
      throw new Error(`unknown step ${JSON.stringify(never)}`);
    }
  }
}

/** The candidate's share of live traffic (0 when it has none). */
export function candidateLivePercent(state: TrafficState, pair: RolloutPair): number {
  return share(state.live, pair.candidate);
}

/**
 * Which deployment holds all live traffic, or undefined when none does (split, or traffic off).
 * This is how preflight finds the baseline when the plan does not name one.
 */
export function fullTrafficHolder(state: TrafficState): string | undefined {
  const live = normalizeTraffic(state).live;
  const entries = Object.entries(live);
  return entries.length === 1 && entries[0]![1] === 100 ? entries[0]![0] : undefined;
}

/** The step indexes at which the candidate first gets live traffic (canary or promote). */
export function firstLiveStepIndex(steps: readonly Step[]): number {
  return steps.findIndex((s) => s.kind === 'canary' || s.kind === 'promote');
}

/** Short text for an activity summary: `set traffic blue=90 green=10` or `set traffic blue=100 mirror green=20`. */
export function trafficSummary(state: TrafficState): string {
  const n = normalizeTraffic(state);
  const live = Object.entries(n.live).map(([k, v]) => `${k}=${v}`).join(' ');
  const mirror = Object.entries(n.mirror).map(([k, v]) => ` mirror ${k}=${v}`).join('');
  return `set traffic ${live || 'off'}${mirror}`;
}
