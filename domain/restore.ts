/**
 * What to tell people when a rollout ended without rolling back — terminated from outside (an operator,
 * or a server limit) or timed out: nothing put the baseline back, so the endpoint may be left mid-rollout
 * (candidate with live or mirror traffic). The advice names the exact Azure CLI command that restores
 * the baseline: 100% live to it, 0% live and 0% mirror to the candidate.
 */
import type { EndpointRef } from './ids.js';

/** Temporal's execution states that end a rollout without its own rollback having run. */
export const ENDED_FROM_OUTSIDE = ['TERMINATED', 'TIMED_OUT'] as const;

/** True when a rollout in this execution state ended without running its rollback. */
export function endedFromOutside(execution: string): boolean {
  return (ENDED_FROM_OUTSIDE as readonly string[]).includes(execution);
}

/**
 * `az ml online-endpoint update … --traffic "blue=100 green=0" --mirror-traffic "green=0"`. The baseline
 * is `<baseline>` when it is not known (preflight had not found it yet): check `az ml online-endpoint show`.
 */
export function restoreBaselineCommand(target: EndpointRef, baseline: string | null, candidate: string): string {
  const b = baseline ?? '<baseline>';
  return [
    'az ml online-endpoint update',
    `--subscription ${target.subscriptionId}`,
    `--resource-group ${target.resourceGroup}`,
    `--workspace-name ${target.workspace}`,
    `--name ${target.endpoint}`,
    `--traffic "${b}=100 ${candidate}=0"`,
    `--mirror-traffic "${candidate}=0"`,
  ].join(' ');
}

/** The warning for a rollout that ended from outside, with the command that puts the baseline back. */
export function leftMidRolloutAdvice(execution: string, target: EndpointRef, baseline: string | null, candidate: string): string {
  const how = execution === 'TIMED_OUT' ? 'timed out' : 'was terminated from outside (by an operator or a server limit)';
  return `the rollout ${how}, so it did not roll back: ${target.endpoint} may be left mid-rollout (${candidate} with live or mirror traffic). To put ${baseline ?? 'the baseline'} back at 100%: ${restoreBaselineCommand(target, baseline, candidate)}`;
}
