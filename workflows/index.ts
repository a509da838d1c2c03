/**
 * The workflow entry point for workers. Every export here becomes a workflow type, so it exports
 * workflow functions only; messages live in messages.ts, state and handlers in rollout-state.ts.
 */
export { safeRollout } from './safe-rollout.js';
