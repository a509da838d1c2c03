/**
 * The one way to start a rollout: workflow id from the endpoint's resource id with conflict policy FAIL
 * (so the server refuses a second rollout on an endpoint while one runs, invariant 5), the static
 * summary and details auditors read in the Temporal UI, and Glidepath's search attributes. Used by the
 * CLI's gateway, the demo and the tests alike.
 */
import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { rolloutAlreadyRunningMessage, rolloutStartOptions } from '../domain/audit.js';
import { modelLabel } from '../domain/deployment-spec.js';
import { ErrorType } from '../domain/errors.js';
import type { PlanDocument, RolloutPlan } from '../domain/plan.js';
import type { SafeRolloutInput } from '../domain/rollout.js';
import type { safeRollout } from '../workflows/index.js';
import { GlidepathCandidate, GlidepathEndpoint, GlidepathModel, GlidepathStage, GlidepathStartedBy, GlidepathWorkspace } from '../workflows/search-attributes.js';

/** Thrown when a rollout is started on an endpoint that already has one running; the message names it. */
export class RolloutAlreadyRunningError extends Error {
  readonly type = ErrorType.RolloutAlreadyRunning;
  constructor(
    message: string,
    readonly workflowId: string,
    readonly runId: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RolloutAlreadyRunningError';
  }
}

/** What starting needs: the parsed plan (for ids and summaries) and the document as written (the workflow input). */
export interface StartRolloutArgs {
  plan: RolloutPlan;
  document: PlanDocument;
  startedBy: string;
  taskQueue: string;
}

/** Starts `safeRollout`; throws RolloutAlreadyRunningError naming the running rollout on a second start. */
export async function startSafeRollout(client: Client, args: StartRolloutArgs): Promise<WorkflowHandleWithFirstExecutionRunId<typeof safeRollout>> {
  const o = rolloutStartOptions(args.plan, args.startedBy);
  const input: SafeRolloutInput = { plan: args.document, normalized: args.plan, startedBy: args.startedBy };
  try {
    return await client.workflow.start<typeof safeRollout>('safeRollout', {
      taskQueue: args.taskQueue,
      workflowId: o.workflowId,
      workflowIdConflictPolicy: o.workflowIdConflictPolicy,
      workflowIdReusePolicy: o.workflowIdReusePolicy,
      staticSummary: o.staticSummary,
      staticDetails: o.staticDetails,
      typedSearchAttributes: [
        { key: GlidepathEndpoint, value: o.searchAttributes.GlidepathEndpoint },
        { key: GlidepathCandidate, value: o.searchAttributes.GlidepathCandidate },
        { key: GlidepathStage, value: o.searchAttributes.GlidepathStage },
        // Set once here, not upserted by the workflow: "when did model v7 ship?" and "what did this person start?" are one query.
        { key: GlidepathModel, value: modelLabel(args.plan.candidate.deployment) },
        { key: GlidepathStartedBy, value: args.startedBy },
        { key: GlidepathWorkspace, value: args.plan.target.workspace },
      ],
      args: [input],
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    let runId: string | undefined;
    let summary: string | undefined;
    try {
      const d = await client.workflow.getHandle(o.workflowId).describe();
      runId = d.runId;
      summary = await d.staticSummary();
    } catch {
      // describing is a courtesy; the refusal stands without it
    }
    throw new RolloutAlreadyRunningError(
      rolloutAlreadyRunningMessage({ endpoint: args.plan.target.endpoint, workflowId: o.workflowId, ...(runId ? { runId } : {}), ...(summary ? { summary } : {}) }),
      o.workflowId,
      runId,
      { cause: err },
    );
  }
}
