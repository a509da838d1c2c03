/**
 * The demo's Temporal server: reuse one that answers (TEMPORAL_ADDRESS, else 127.0.0.1:7233), or start
 * the Temporal CLI's dev server (`temporal server start-dev`) with its web UI and Glidepath's search
 * attributes registered, as a child process this demo owns and stops on exit.
 *
 * The binary is found the way scripts/ensure-temporal.sh and the tests find it ($TEMPORAL_CLI_PATH →
 * `temporal` on PATH → ~/.cache/glidepath/temporal-cli-1.5.1); when none is there the script is run once
 * to obtain it, so `npm ci && npm run demo` works on a fresh clone.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { glidepathSearchAttributes } from '../client/temporal.js';

const CLI_VERSION = '1.5.1';
// The package's root: this file is demo/temporal-server.ts in a clone, dist/demo/temporal-server.js installed.
const packageRoot = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '..' : '../..', import.meta.url));

/** A Temporal server the demo talks to: one it found (left alone) or one it started (stopped by `stop`). */
export interface DemoTemporal {
  address: string;
  /** The web UI's base URL, when known. */
  uiUrl: string | null;
  startedByDemo: boolean;
  /** Process id of the dev server the demo started. */
  pid: number | null;
  logFile: string | null;
  /** Stops the server if the demo started it (SIGTERM, then SIGKILL after 5 s); a found server is left alone. */
  stop(): Promise<void>;
}

/** True when something accepts TCP connections at `host:port` within `timeoutMs`. */
export function answers(address: string, timeoutMs = 1000): Promise<boolean> {
  const { host, port } = splitAddress(address);
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function splitAddress(address: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address.replace(/^https?:\/\//, ''));
  return m ? { host: m[1]!, port: Number(m[2]) } : { host: address, port: 7233 };
}

/** A free TCP port on 127.0.0.1 (or `preferred` when it is free). */
export function freePort(preferred = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => {
      if (preferred !== 0 && err.code === 'EADDRINUSE') resolve(freePort(0));
      else reject(err);
    });
    srv.listen(preferred, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function cacheDir(env: NodeJS.ProcessEnv): string {
  return env.GLIDEPATH_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'glidepath');
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** The `temporal` CLI: $TEMPORAL_CLI_PATH → PATH → the cache; undefined when there is none. */
export function findTemporalCli(env: NodeJS.ProcessEnv): string | undefined {
  if (env.TEMPORAL_CLI_PATH) return existsSync(env.TEMPORAL_CLI_PATH) ? env.TEMPORAL_CLI_PATH : undefined;
  const cached = join(cacheDir(env), `temporal-cli-${CLI_VERSION}`, 'bin', 'temporal');
  return onPath('temporal', env) ?? (existsSync(cached) ? cached : undefined);
}

/** Finds the CLI, or runs scripts/ensure-temporal.sh to obtain it (download, else a build from the Go proxy). */
async function obtainTemporalCli(env: NodeJS.ProcessEnv, say: (line: string) => void, register: StartDevServerOptions['register']): Promise<string> {
  const found = findTemporalCli(env);
  if (found) return found;
  say('temporal   no Temporal CLI found; obtaining it with scripts/ensure-temporal.sh (first run only) …');
  const out = await new Promise<string>((resolve, reject) => {
    const script = execFile('bash', [join(packageRoot, 'scripts', 'ensure-temporal.sh'), '--print-env', '--cli-only'], { env, maxBuffer: 1 << 20, timeout: 15 * 60_000 }, (err, stdout, stderr) => {
      // --cli-only: the demo needs only the CLI, not the Java test server the tests use.
      const path = /^TEMPORAL_CLI_PATH=(.+)$/m.exec(stdout)?.[1];
      if (path && existsSync(path)) resolve(path);
      else reject(new Error(`scripts/ensure-temporal.sh could not provide the Temporal CLI: ${(err?.message ?? '').split('\n')[0]} ${stderr.slice(-500)}`));
    });
    register('scripts/ensure-temporal.sh', async () => {
      if (script.exitCode === null) script.kill('SIGTERM');
    });
  });
  return out;
}

export interface StartDevServerOptions {
  env: NodeJS.ProcessEnv;
  /** Where the server's log goes. */
  logFile: string;
  /** Preferred UI port (default 8233; a free one when taken). */
  uiPort?: number;
  say(line: string): void;
  /** Called as soon as a child process exists, with what stops it, so an interrupt during start-up cleans up too. */
  register(name: string, stop: () => Promise<void>): void;
}

/** Starts `temporal server start-dev` (in memory, UI on) and resolves once its gRPC port accepts connections. */
export async function startDevServer(opts: StartDevServerOptions): Promise<DemoTemporal> {
  const cli = await obtainTemporalCli(opts.env, opts.say, opts.register);
  // The well-known ports when free, so `glidepath rollout …` in another terminal and the UI at :8233 just work.
  const port = await freePort(7233);
  let uiPort = await freePort(opts.uiPort ?? 8233);
  if (uiPort === port) uiPort = await freePort(0);
  const address = `127.0.0.1:${port}`;
  const args = [
    'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(port),
    '--ui-port', String(uiPort),
    '--log-level', 'warn',
    ...glidepathSearchAttributes.flatMap((k) => ['--search-attribute', `${k.name}=Keyword`]),
  ];
  const log = openSync(opts.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(cli, args, { stdio: ['ignore', log, log] });
  } finally {
    closeSync(log);
  }
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  child.once('error', () => undefined);

  const stop = async () => {
    if (exited || child.pid === undefined) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exit;
    clearTimeout(timer);
  };
  opts.register('Temporal dev server', stop);

  const deadline = Date.now() + 60_000;
  while (!(await answers(address, 500))) {
    if (exited) throw new Error(`the Temporal dev server exited at start; see ${opts.logFile}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the Temporal dev server did not listen on ${address} within 60 s; see ${opts.logFile}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { address, uiUrl: `http://127.0.0.1:${uiPort}`, startedByDemo: true, pid: child.pid ?? null, logFile: opts.logFile, stop };
}

/** A server the demo found: it is never stopped. */
export function foundServer(address: string, uiUrl: string | null): DemoTemporal {
  return { address, uiUrl, startedByDemo: false, pid: null, logFile: null, stop: async () => undefined };
}

/** The UI link of one run of a workflow. */
export function uiLink(uiUrl: string, namespace: string, workflowId: string, runId?: string): string {
  return `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}${runId ? `/${encodeURIComponent(runId)}` : ''}/history`;
}
