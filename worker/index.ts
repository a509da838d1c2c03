/**
 * The worker's public entry: what `glidepath worker` (client/cli.ts) and the demo (demo/) use to run a
 * worker — its configuration, `startWorker`/`runWorker`, and the cached workflow bundle.
 */
export { ConfigError, loadWorkerConfig, type CloudConfig, type WorkerConfig } from './config.js';
export { runWorker, startWorker, type RunningWorker, type StartWorkerOptions } from './main.js';
export { cachedWorkflowBundle } from './bundle.js';
