/**
 * Preflight: may this plan start on this endpoint? Pure functions of (plan, what the endpoint read
 * returned) → the baseline to roll back to, or the one finding that refuses the start. The workflow runs
 * them before it changes anything, so a refusal leaves nothing to undo.
 *
 * Checked in this order (the first finding wins, so the message names the most basic problem):
 * 1. the candidate spec keeps the plan's policies (egress, App Insights, instance types) — no read needed;
 * 2. the endpoint is `Succeeded` (not provisioning, failed or being deleted);
 * 3. a named baseline is a deployment of the endpoint;
 * 4. exactly the baseline holds 100% of live traffic (the named one, or whichever holds it);
 * 5. the candidate is not that baseline;
 * 6. nothing is mirrored yet (one mirror target per endpoint; the rollout needs it).
 */
import { ErrorType } from './errors.js';
import type { RolloutPlan } from './plan.js';
import { formatPolicyViolation, policyViolations, type PolicyViolation } from './policies.js';
import { formatTraffic, normalizeTraffic, type TrafficState } from './traffic.js';
import { fullTrafficHolder } from './transitions.js';

/** What preflight needs from a read of the endpoint. */
export interface PreflightEndpoint {
  name: string;
  provisioningState: string;
  traffic: TrafficState;
  deployments: readonly { name: string }[];
}

/** Why the rollout may not start: an error type from the taxonomy and a sentence that names the fix. */
export interface PreflightRefusal {
  type: ErrorType;
  message: string;
  details?: unknown;
}

/** The result of preflight on an endpoint: the baseline it found, or the refusal. */
export type PreflightResult = { ok: true; baseline: string } | { ok: false; refusal: PreflightRefusal };

/** The policy finding (checked before anything is read), or null when the candidate keeps every policy. */
export function policyRefusal(plan: Pick<RolloutPlan, 'policies' | 'candidate'>): PreflightRefusal | null {
  const violations: PolicyViolation[] = policyViolations(plan);
  if (violations.length === 0) return null;
  return {
    type: ErrorType.PolicyViolation,
    message: `the candidate breaks the plan's policies: ${violations.map(formatPolicyViolation).join('; ')}`,
    details: violations,
  };
}

/**
 * The endpoint findings (checks 2–6 of the module comment).
 *
 * Example: plan without `baseline`, endpoint `fraud` Succeeded with live `{blue: 100}` and no mirror →
 * `{ ok: true, baseline: 'blue' }`; the same endpoint at `{blue: 90, green: 10}` → NoBaseline
 * ("no deployment holds 100% of live traffic (blue 90%, green 10%); name the baseline or restore it first").
 */
export function preflightEndpoint(plan: Pick<RolloutPlan, 'baseline' | 'candidate'>, ep: PreflightEndpoint): PreflightResult {
  const refuse = (type: ErrorType, message: string): PreflightResult => ({ ok: false, refusal: { type, message } });
  if (ep.provisioningState !== 'Succeeded') return refuse(ErrorType.EndpointNotReady, `endpoint ${ep.name} is ${ep.provisioningState}, not Succeeded`);
  if (plan.baseline !== undefined && !ep.deployments.some((d) => d.name === plan.baseline)) {
    const names = ep.deployments.map((d) => d.name);
    return refuse(
      ErrorType.DeploymentNotFound,
      `baseline ${plan.baseline} is not a deployment of endpoint ${ep.name} (deployments: ${names.length ? names.join(', ') : 'none'})`,
    );
  }
  const holder = fullTrafficHolder(ep.traffic);
  const baseline = plan.baseline ?? holder;
  if (!baseline || holder !== baseline) {
    return refuse(
      ErrorType.NoBaseline,
      plan.baseline
        ? `baseline ${plan.baseline} does not hold 100% of live traffic (${formatTraffic(ep.traffic)})`
        : `no deployment holds 100% of live traffic (${formatTraffic(ep.traffic)}); name the baseline or restore it first`,
    );
  }
  if (baseline === plan.candidate.name) return refuse(ErrorType.NoBaseline, `the candidate ${baseline} already holds 100% of live traffic`);
  if (Object.keys(normalizeTraffic(ep.traffic).mirror).length > 0) {
    return refuse(ErrorType.EndpointNotReady, `endpoint ${ep.name} already mirrors traffic (${formatTraffic(ep.traffic)}); turn mirroring off first`);
  }
  return { ok: true, baseline };
}
