/**
 * The plan a rollout works from. Not exported from workflows/index.ts (only workflow functions are).
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { ErrorType } from '../domain/errors.js';
import { LEGACY_DEFAULT_GATES, formatPlanIssue, parsePlan, type RolloutPlan } from '../domain/plan.js';
import type { SafeRolloutInput } from '../domain/rollout.js';

/**
 * The plan the rollout works from: the one parsed at start, or the document parsed now (older inputs).
 * An older input without gates gets the defaults it started with (LEGACY_DEFAULT_GATES, fixed
 * thresholds), not today's judged defaults: its history must replay.
 */
export function planOf(input: SafeRolloutInput): RolloutPlan {
  if (input.normalized) return input.normalized;
  const doc = input.plan as { gates?: unknown };
  const parsed = parsePlan(doc && typeof doc === 'object' && doc.gates === undefined ? { ...input.plan, gates: JSON.parse(JSON.stringify(LEGACY_DEFAULT_GATES)) as typeof LEGACY_DEFAULT_GATES } : input.plan);
  if (parsed.ok) return parsed.plan;
  throw ApplicationFailure.create({
    type: ErrorType.InvalidPlan,
    message: `invalid plan: ${parsed.issues.map(formatPlanIssue).join('; ')}`,
    nonRetryable: true,
    details: [parsed.issues],
  });
}
