// A deployment's "inference container": one worker thread running the model version, so a slow or
// memory-hungry model does not block the emulator's event loop (and a crash really kills it).
import { Worker } from 'node:worker_threads';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelVersionInfo } from './models/registry.js';

export type WorkerRequest = { type: 'score'; id: number; body: string } | { type: 'memory' } | { type: 'crash' };
export type WorkerReply =
  | { type: 'ready'; heapUsed: number; heapLimit: number }
  | { type: 'memory'; heapUsed: number; heapLimit: number }
  | ({ type: 'result'; id: number; computeMs: number; heapUsed: number; heapLimit: number } & (
      | { ok: true; body: string }
      | { ok: false; status: number; reason: string }
    ));

export type ContainerResult =
  | { kind: 'ok'; body: string; computeMs: number }
  | { kind: 'model-error'; status: number; reason: string; computeMs: number }
  | { kind: 'crashed'; reason: string };

type WorkerScript = { kind: 'file'; url: URL } | { kind: 'code'; code: string };
let workerScript: Promise<WorkerScript> | undefined;

/**
 * The model worker's code, resolved once per process. Compiled JavaScript loads `model-worker.js` as it
 * is. Run from TypeScript sources (tsx), a thread does not inherit the loader, and registering tsx in
 * every thread costs ~30 MiB and ~0.5 s of CPU per container (measured: 40 containers, 1.2 GiB); so the
 * worker is bundled once with esbuild (tsx's own compiler) and every thread evaluates that bundle
 * (~13 MiB and ~55 ms each), which is what lets hundreds of deployments run on one machine.
 */
function modelWorkerScript(): Promise<WorkerScript> {
  workerScript ??= (async (): Promise<WorkerScript> => {
    const entry = new URL(`./model-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);
    if (!entry.pathname.endsWith('.ts')) return { kind: 'file', url: entry };
    const { build } = await import('esbuild');
    const out = await build({ entryPoints: [fileURLToPath(entry)], bundle: true, platform: 'node', format: 'cjs', target: 'node20', minify: true, write: false, logLevel: 'silent' });
    const code = out.outputFiles[0]?.text;
    if (!code) throw new Error('bundling the model worker produced no output');
    return { kind: 'code', code };
  })();
  return workerScript;
}

/** Heap limit of one container's worker (its "instance memory"): the denominator of CpuMemoryUtilizationPercentage. */
export const CONTAINER_HEAP_MB = 192;

export class ModelContainer {
  private worker: Worker | undefined;
  private nextId = 1;
  private pending = new Map<number, (r: ContainerResult) => void>();
  /** Last measured heap of the worker (bytes). */
  heapUsed = 0;
  heapLimit = CONTAINER_HEAP_MB * 1024 * 1024;
  alive = false;
  exitReason = '';

  constructor(
    readonly model: ModelVersionInfo,
    private readonly log: (line: string) => void,
    private readonly onCompute: (computeMs: number) => void,
  ) {}

  /** Starts the worker and resolves once the model is loaded. */
  async start(): Promise<void> {
    this.log(`Starting inference server for model ${this.model.name}:${this.model.version}`);
    const script = await modelWorkerScript();
    const worker = new Worker(script.kind === 'file' ? script.url : script.code, {
      eval: script.kind === 'code',
      workerData: { model: this.model.name, version: this.model.version },
      execArgv: [],
      resourceLimits: { maxOldGenerationSizeMb: CONTAINER_HEAP_MB },
    });
    this.worker = worker;
    return new Promise((resolve, reject) => {
      let ready = false;
      worker.on('message', (msg: WorkerReply) => {
        if (msg.type !== 'result') {
          this.heapUsed = msg.heapUsed;
          this.heapLimit = msg.heapLimit;
          if (msg.type === 'ready') {
            ready = true;
            this.alive = true;
            this.log(`Model ${this.model.name}:${this.model.version} loaded; server ready`);
            resolve();
          }
          return;
        }
        this.heapUsed = msg.heapUsed;
        this.heapLimit = msg.heapLimit;
        this.onCompute(msg.computeMs);
        const done = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (!done) return;
        if (msg.ok) done({ kind: 'ok', body: msg.body, computeMs: msg.computeMs });
        else {
          this.log(`Scoring error ${msg.status}: ${msg.reason}`);
          done({ kind: 'model-error', status: msg.status, reason: msg.reason, computeMs: msg.computeMs });
        }
      });
      worker.on('error', (err) => {
        this.exitReason = err.message;
        this.log(`Inference server error: ${err.message}`);
        if (!ready) reject(err);
      });
      worker.on('exit', (code) => {
        this.alive = false;
        if (this.worker === worker) this.worker = undefined;
        const reason = this.exitReason || `inference server exited with code ${code}`;
        this.exitReason = reason;
        this.log(`Container exited (code ${code}): ${reason}`);
        for (const done of this.pending.values()) done({ kind: 'crashed', reason });
        this.pending.clear();
        if (!ready) reject(new Error(reason));
      });
    });
  }

  /** Sends one request body to the model. */
  score(body: string): Promise<ContainerResult> {
    const worker = this.worker;
    if (!worker || !this.alive) return Promise.resolve({ kind: 'crashed', reason: this.exitReason || 'container not running' });
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      worker.postMessage({ type: 'score', id, body } satisfies WorkerRequest);
    });
  }

  /** Asks the worker for a fresh heap sample. */
  sampleMemory(): void {
    this.worker?.postMessage({ type: 'memory' } satisfies WorkerRequest);
  }

  /** Kills the container the hard way (the worker exits mid-flight). */
  crash(reason: string): void {
    this.exitReason = reason;
    this.worker?.postMessage({ type: 'crash' } satisfies WorkerRequest);
  }

  async stop(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.alive = false;
    this.exitReason = 'stopped';
    if (w) await w.terminate();
  }
}
