// Runs one deployment's model in its own worker thread: the emulator's stand-in for the inference
// container. It times each scoring call (busy time for the CPU metric) and reports its heap (memory metric).
import { parentPort, workerData } from 'node:worker_threads';
import { getHeapStatistics } from 'node:v8';
import { findModel } from './models/registry.js';
import { ModelError } from './models/fraud-detector.js';
import type { WorkerReply, WorkerRequest } from './container.js';

const data = workerData as { model: string; version: string };
const info = findModel(data.model, data.version);
if (!info) throw new Error(`model ${data.model}:${data.version} is not shipped`);
const model = info.load();
const port = parentPort;
if (!port) throw new Error('model-worker must run in a worker thread');

function heap(): { heapUsed: number; heapLimit: number } {
  const s = getHeapStatistics();
  return { heapUsed: s.used_heap_size + s.external_memory, heapLimit: s.heap_size_limit };
}

port.on('message', (msg: WorkerRequest) => {
  if (msg.type === 'crash') {
    process.exit(70);
  }
  if (msg.type === 'memory') {
    port.postMessage({ type: 'memory', ...heap() } satisfies WorkerReply);
    return;
  }
  const started = performance.now();
  let reply: WorkerReply;
  try {
    const body: unknown = JSON.parse(msg.body);
    const answer = model.score(body);
    reply = { type: 'result', id: msg.id, ok: true, body: JSON.stringify(answer), computeMs: performance.now() - started, ...heap() };
  } catch (err) {
    const status = err instanceof ModelError ? err.status : err instanceof SyntaxError ? 400 : 500;
    const reason = err instanceof Error ? err.message : String(err);
    reply = { type: 'result', id: msg.id, ok: false, status, reason, computeMs: performance.now() - started, ...heap() };
  }
  port.postMessage(reply);
});
port.postMessage({ type: 'ready', ...heap() } satisfies WorkerReply);
