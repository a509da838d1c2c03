/**
 * The activities room: the contract the workflow is written against (types.ts) and its implementation,
 * `createActivities(deps)`, wired by the worker. Workflows import this module with `import type` only.
 */
export type * from './types.js';
export { createActivities, type ActivityDeps } from './create-activities.js';
