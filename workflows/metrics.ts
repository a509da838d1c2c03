/**
 * Glidepath's rollout counters, counted where the facts are decided: in the workflow, through the SDK's
 * workflow `metricMeter` (a built-in sink every worker registers). The worker's runtime exports them on
 * its Prometheus `/metrics` beside the SDK's own metrics, tagged with `namespace`, `taskQueue` and
 * `workflowType`; a worker without a metrics exporter drops them.
 *
 * Why here and not in an activity: counting leaves nothing in the history and issues no command, so the
 * committed replay histories replay unchanged; and the SDK drops metric calls made while replaying (a worker
 * restart, a cache eviction), so a rollout counts once however often it is replayed. The one exception:
 * a workflow task that fails after counting and is retried counts again (at least once, not exactly once).
 *
 * Not exported from workflows/index.ts (only workflow functions are).
 */
import { metricMeter } from '@temporalio/workflow';
import type { VerdictStatus } from '../domain/gates.js';
import type { RolloutOutcome } from '../domain/rollout.js';

/** The rollout counter: `event` is `started`, `finished` (with `outcome`) or `rollback_failed` (with `outcome`). */
const ROLLOUTS_METRIC = 'glidepath_rollouts_total';
/** The verdict counter: `status` is the verdict, `check` is `analysis` (metric gates, webhook) or `cost`. */
const GATE_VERDICTS_METRIC = 'glidepath_gate_verdicts_total';

// Counters are created per call: metricMeter works only inside a workflow context, and the worker caches
// the real counter behind it, so this is cheap.
function rollouts() {
  return metricMeter.createCounter(
    ROLLOUTS_METRIC,
    'rollouts',
    'Rollouts by event: started; finished (once per rollout) by outcome; rollback_failed (rollback not confirmed) by outcome',
  );
}

/** Counts a rollout that started. */
export function countRolloutStarted(): void {
  rollouts().add(1, { event: 'started' });
}

/** Counts a rollout that finished with `outcome` (call once per rollout, where its outcome is set). */
export function countRolloutFinished(outcome: RolloutOutcome): void {
  rollouts().add(1, { event: 'finished', outcome });
}

/** Counts a rollback that could not be confirmed (the rollout also counts as finished with `outcome`). */
export function countRollbackFailed(outcome: RolloutOutcome): void {
  rollouts().add(1, { event: 'rollback_failed', outcome });
}

/** Counts one verdict: an analysis during a bake, or a cost check. */
export function countVerdict(status: VerdictStatus, check: 'analysis' | 'cost'): void {
  metricMeter
    .createCounter(GATE_VERDICTS_METRIC, 'verdicts', 'Gate verdicts by status (pass, fail, inconclusive) and check (analysis, cost)')
    .add(1, { status, check });
}
