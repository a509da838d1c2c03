/**
 * Loads the worker's trust for signed decisions into the rollout's state (issue 13): once, at the start,
 * when the plan requires signed decisions (`approvals.verified`). The activity's answer — public keys
 * and the person mapping, no secret — is recorded in the history, so signal handlers replay against
 * the same keys. Behind `patched()`: rollouts started before signed decisions replay without the call,
 * and go on accepting unsigned decisions as they did. Not exported from workflows/index.ts.
 */
import { ApplicationFailure, patched, proxyActivities } from '@temporalio/workflow';
import type { RolloutActivities } from '../activities/types.js';
import { ErrorType } from '../domain/errors.js';
import type { RolloutState } from './rollout-state.js';

/** The patch id of signed decisions (a new activity call at the start of a rollout). */
export const SIGNED_DECISIONS = 'signed-decisions';

const config = proxyActivities<RolloutActivities>({ startToCloseTimeout: '30s', retry: { initialInterval: '1s', maximumAttempts: 5 } });

/**
 * Asks the worker which signers it trusts and keeps the answer in the state. Fails the rollout, before
 * anything is touched, when the plan requires signed decisions and the worker trusts no signer: no
 * approval could ever count, and the rollout would wait for one in vain.
 */
export async function loadDecisionTrust(state: RolloutState): Promise<void> {
  if (state.plan.approvals.verified !== true || !patched(SIGNED_DECISIONS)) return;
  const trust = await config.trustedSigners();
  if (trust.signers.length === 0) {
    throw ApplicationFailure.create({
      type: ErrorType.InvalidPlan,
      nonRetryable: true,
      message:
        'the plan requires signed decisions (approvals.verified, the default when approvers are listed) but the worker trusts no signer: ' +
        'set GLIDEPATH_DECISION_SIGNERS on the worker (see README, Security model), or set approvals.verified: false in the plan',
    });
  }
  state.trustDecisions(trust);
  state.record('preflight', `decisions count only when signed by a trusted signer (${trust.signers.map((s) => s.name).join(', ')})`);
}
