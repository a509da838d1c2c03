/**
 * Prediction pairs (issue 16): reading Azure ML's collected model inputs and outputs, pairing the
 * baseline's and the candidate's answers to the same mirrored requests, the aggregates a gate judges
 * (disagreements, flips, score bins, slices), drift statistics, the disagreement test, and the
 * `gates.predictions` schema. Pure: no I/O, no clock, no randomness.
 */
export * from './collected.js';
export * from './disagreement-test.js';
export * from './drift.js';
export * from './field-path.js';
export * from './gate.js';
export * from './pairing.js';
export * from './read-input.js';
