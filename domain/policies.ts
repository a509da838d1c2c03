/**
 * Preflight policy checks on the candidate's deployment spec: the organisation's rules that a plan opts
 * into under `policies` (egress locked down, App Insights on, only approved instance types).
 * Pure: the workflow runs them in preflight, before creating anything; `plan validate` and `rollout start`
 * run them too (client/plan-file.ts `checkPolicies`), so the CLI refuses what preflight would.
 */
import type { RolloutPlan } from './plan.js';

/** One broken policy, with the path of the offending field in the plan. */
export interface PolicyViolation {
  policy: 'requireEgressDisabled' | 'requireAppInsights' | 'allowedInstanceTypes';
  path: string;
  message: string;
}

/** Every policy the candidate spec breaks; [] means it may be deployed. */
export function policyViolations(plan: Pick<RolloutPlan, 'policies' | 'candidate'>): PolicyViolation[] {
  const out: PolicyViolation[] = [];
  const spec = plan.candidate.deployment;
  const base = 'candidate.deployment';
  if (plan.policies.requireEgressDisabled && spec.egress_public_network_access !== 'disabled') {
    out.push({
      policy: 'requireEgressDisabled',
      path: `${base}.egress_public_network_access`,
      message: `must be disabled (policies.requireEgressDisabled), got ${spec.egress_public_network_access ?? 'unset (Azure defaults to enabled)'}`,
    });
  }
  if (plan.policies.requireAppInsights && spec.app_insights_enabled !== true) {
    out.push({
      policy: 'requireAppInsights',
      path: `${base}.app_insights_enabled`,
      message: `must be true (policies.requireAppInsights), got ${spec.app_insights_enabled ?? 'unset'}`,
    });
  }
  const allowed = plan.policies.allowedInstanceTypes;
  if (allowed && !allowed.includes(spec.instance_type)) {
    out.push({
      policy: 'allowedInstanceTypes',
      path: `${base}.instance_type`,
      message: `${spec.instance_type} is not allowed (policies.allowedInstanceTypes: ${allowed.join(', ')})`,
    });
  }
  return out;
}

/** `candidate.deployment.instance_type: Standard_NC6 is not allowed (…)` */
export function formatPolicyViolation(v: PolicyViolation): string {
  return `${v.path}: ${v.message}`;
}
