/**
 * The judge: anytime-valid sequential tests for rollout gates (reference: shared sequential-analysis notes;
 * user guide: docs/judge.md). Pure: no I/O, no clock, no randomness; runs inside the workflow sandbox.
 */
export * from './count-test.js';
export * from './exceedance.js';
export * from './judge.js';
