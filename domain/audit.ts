/**
 * What auditors read in the Temporal UI before opening the history: the workflow's static summary (one
 * line) and static details (markdown), set by whoever starts the rollout, plus the start options that
 * make the workflow id a business key. Pure data, so the CLI, the demo and the tests build the same
 * start request; client/start-rollout.ts maps it onto `client.workflow.start(safeRollout, …)`.
 */
import { formatDuration } from './duration.js';
import { explain } from './explain.js';
import { endpointResourceId, rolloutWorkflowId } from './ids.js';
import { modelLabel } from './deployment-spec.js';
import type { RolloutPlan } from './plan.js';

/** One line: `Roll out green (azureml:fraud-detector:2) to fraud-detection, started by ci@contoso.com`. */
export function rolloutStaticSummary(plan: RolloutPlan, startedBy: string): string {
  return `Roll out ${plan.candidate.name} (${modelLabel(plan.candidate.deployment)}) to ${plan.target.endpoint}, started by ${startedBy}`;
}

/** Markdown: the target, the candidate spec, the approvers, and the explained timeline of the plan. */
export function rolloutStaticDetails(plan: RolloutPlan, startedBy: string): string {
  const spec = plan.candidate.deployment;
  const x = explain(plan);
  return [
    `**Endpoint** \`${endpointResourceId(plan.target)}\``,
    `**Candidate** \`${plan.candidate.name}\`: model \`${modelLabel(spec)}\`, ${spec.instance_count} × ${spec.instance_type}` +
      (typeof spec.environment === 'string' ? `, environment \`${spec.environment}\`` : spec.environment ? ', inline environment' : ''),
    `**Baseline** ${plan.baseline ? `\`${plan.baseline}\`` : 'the deployment holding 100% live traffic'}`,
    `**Started by** ${startedBy}; **approvers** ${plan.approvals.approvers.length ? plan.approvals.approvers.join(', ') : 'anyone'}` +
      (plan.approvals.fourEyes ? ' (four-eyes: not the starter)' : ''),
    `**Deadline** ${formatDuration(plan.deadlineMs)}; on failure the candidate is ${plan.rollback.deleteCandidate ? 'deleted' : 'kept'}`,
    '',
    '```',
    x.text,
    '```',
  ].join('\n');
}

/**
 * How a rollout must be started: the workflow id from the endpoint's resource id and conflict policy
 * FAIL, so the server refuses a second rollout on the same endpoint while one runs (invariant 5), plus
 * the UI's static summary/details and the search attributes (by name; values are KEYWORDs).
 */
export interface RolloutStartOptions {
  workflowId: string;
  workflowIdConflictPolicy: 'FAIL';
  workflowIdReusePolicy: 'ALLOW_DUPLICATE';
  staticSummary: string;
  staticDetails: string;
  searchAttributes: { GlidepathEndpoint: string; GlidepathCandidate: string; GlidepathStage: string };
}

/** The start options for a rollout of `plan` started by `startedBy`. */
export function rolloutStartOptions(plan: RolloutPlan, startedBy: string): RolloutStartOptions {
  return {
    workflowId: rolloutWorkflowId(plan.target),
    workflowIdConflictPolicy: 'FAIL',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    staticSummary: rolloutStaticSummary(plan, startedBy),
    staticDetails: rolloutStaticDetails(plan, startedBy),
    searchAttributes: { GlidepathEndpoint: plan.target.endpoint, GlidepathCandidate: plan.candidate.name, GlidepathStage: 'preflight' },
  };
}

/** The refusal of a second rollout, naming the running one. */
export function rolloutAlreadyRunningMessage(args: { endpoint: string; workflowId: string; runId?: string; summary?: string }): string {
  return (
    `a rollout is already running on endpoint ${args.endpoint}: workflow ${args.workflowId}` +
    (args.runId ? ` (run ${args.runId})` : '') +
    (args.summary ? ` — ${args.summary}` : '') +
    '; wait for it to finish, or abort it first'
  );
}
