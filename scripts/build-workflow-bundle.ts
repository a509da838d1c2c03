/**
 * Pre-bundles the workflow code for production workers (`GLIDEPATH_WORKFLOW_BUNDLE=dist/workflow-bundle.js`),
 * so a worker starts without running webpack. Usage: npm run build:bundle [-- <out file>]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';

const out = resolve(process.argv[2] ?? 'dist/workflow-bundle.js');
const started = Date.now();
const { code } = await bundleWorkflowCode({ workflowsPath: fileURLToPath(new URL('../workflows/index.ts', import.meta.url)) });
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, code);
console.log(`wrote ${out} (${(code.length / 1024).toFixed(0)} KiB) in ${Date.now() - started} ms`);
