// Entry of a deployment's model worker thread. Under tsx (tests, `glidepath` through bin/) the worker
// does not inherit the TypeScript loader, so it registers tsx itself before importing the real entry.
import { workerData } from 'node:worker_threads';

if (String(workerData.entry).endsWith('.ts')) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import(workerData.entry);
