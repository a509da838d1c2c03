/**
 * `trustedSigners`: the worker's trust for signed decisions (issue 13), for the workflow to keep in its
 * state. Workflow code cannot read the worker's environment, so the rollout asks once at its start; the
 * answer (public keys and the person mapping: no secret) is recorded in the history, so a replay checks
 * signals against the same keys. The keys come from the worker's `GLIDEPATH_DECISION_SIGNERS` and the
 * mapping from `GLIDEPATH_PEOPLE` (worker/config.ts).
 */
import type { DecisionTrust } from '../domain/decision-signature.js';

/** The activity, bound to the trust the worker was configured with (none: no signer is trusted). */
export function createDecisionTrustActivities(trust: DecisionTrust | undefined) {
  const answer: DecisionTrust = { signers: [...(trust?.signers ?? [])], people: { ...(trust?.people ?? {}) } };
  return {
    /** The signers whose decisions this worker's rollouts accept, and who is who across channels. */
    async trustedSigners(): Promise<DecisionTrust> {
      return answer;
    },
  };
}
