/**
 * Pre-bundles the workflow code for production workers (`GLIDEPATH_WORKFLOW_BUNDLE=dist/workflow-bundle.js`),
 * so a worker starts without running webpack. Usage: npm run build:bundle [-- <out file>]
 * The bundle comes from the shared cache (worker/bundle.ts): webpack runs only when the sources changed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { cachedWorkflowBundle } from '../worker/bundle.js';

const out = resolve(process.argv[2] ?? 'dist/workflow-bundle.js');
const started = Date.now();
const { code } = await cachedWorkflowBundle();
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, code);
console.log(`wrote ${out} (${(code.length / 1024).toFixed(0)} KiB) in ${Date.now() - started} ms`);
