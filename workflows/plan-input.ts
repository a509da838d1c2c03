/**
 * The plan a rollout works from. Not exported from workflows/index.ts (only workflow functions are).
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { ErrorType } from '../domain/errors.js';
import { formatPlanIssue, parsePlan, type RolloutPlan } from '../domain/plan.js';
import type { SafeRolloutInput } from '../domain/rollout.js';

/** The plan the rollout works from: the one parsed at start, or the document parsed now (older inputs). */
export function planOf(input: SafeRolloutInput): RolloutPlan {
  if (input.normalized) return input.normalized;
  const parsed = parsePlan(input.plan);
  if (parsed.ok) return parsed.plan;
  throw ApplicationFailure.create({
    type: ErrorType.InvalidPlan,
    message: `invalid plan: ${parsed.issues.map(formatPlanIssue).join('; ')}`,
    nonRetryable: true,
    details: [parsed.issues],
  });
}
