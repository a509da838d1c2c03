// The workspace's blob storage: Azurite (Microsoft's Azure Storage emulator, the `azurite` npm package) run
// as a child process on loopback, or an existing blob service named by URL. Started lazily — the first
// deployment with data collection, or the first read of the workspaceblobstore datastore — because a start
// costs about a second (measured: 1.07–1.28 s on the build machine) and most emulator tests never need it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';

/** Azurite's well-known development account (reference §5); an existing service may bring its own. */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** Where the workspace's blobs go. */
export interface BlobStorageOptions {
  /**
   * `lazy` (default): start Azurite the first time something needs it; `eager`: start it with the
   * emulator; `off`: no blob storage (a deployment with data collection enabled is refused).
   */
  start?: 'lazy' | 'eager' | 'off';
  /** An existing blob service, `http://127.0.0.1:10000/devstoreaccount1` (IP style: the account is the first path segment). No Azurite is started. */
  endpoint?: string;
  /** The account key of `endpoint` (default: Azurite's development key). */
  accountKey?: string;
  /** Azurite keeps its blobs in this folder (survive a restart); without it, in memory. */
  dataDir?: string;
  /** Azurite's port (default: the one used last time in `dataDir`, else a free one). */
  port?: number;
}

/** How to reach the blob service (what the activities' reader needs on the emulator). */
export interface BlobStoreInfo {
  /** Blob service URL including the account, e.g. `http://127.0.0.1:41235/devstoreaccount1`. */
  url: string;
  accountName: string;
  accountKey: string;
  /** `DefaultEndpointsProtocol=http;AccountName=…;AccountKey=…;BlobEndpoint=<url>;` */
  connectionString: string;
  /** True when the emulator started this Azurite (and stops it on close). */
  azurite: boolean;
  /** Milliseconds the Azurite start took (0 for an existing service). */
  startMs: number;
}

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;

/**
 * Runs Azurite's blob service main module in a child process that exits when its parent goes away (the
 * IPC channel closes), so a crashed emulator leaves no Azurite behind, and that exits once Azurite says its
 * server has closed after SIGTERM (its IPC channel would keep it alive). `node -e` gives argv without the
 * script path, which Azurite's option parser expects, so it is put back.
 */
const CHILD = `process.on('disconnect', () => process.exit(0));
process.once('SIGTERM', () => setTimeout(() => process.exit(0), 2000).unref());
const log = console.log;
console.log = (...a) => { log(...a); if (String(a[0]).includes('successfully closed')) process.exit(0); };
const main = process.argv[1];
process.argv = [process.argv[0], ...process.argv.slice(1)];
require(main);`;

function azuriteMain(): string {
  const require = createRequire(import.meta.url);
  return join(require.resolve('azurite/package.json'), '..', 'dist', 'src', 'blob', 'main.js');
}

function accountOf(url: string): string {
  const u = new URL(url);
  const first = u.pathname.split('/').filter(Boolean)[0];
  if (!first) throw new Error(`the blob endpoint ${url} must name the account in its path (IP style), e.g. http://127.0.0.1:10000/devstoreaccount1`);
  return first;
}

/** Starts Azurite's blob service on loopback; resolves with its URL once it listens. */
async function startAzurite(dataDir: string | undefined, port: number): Promise<{ child: ChildProcess; url: string }> {
  const args = ['--blobHost', '127.0.0.1', '--blobPort', String(port), '--skipApiVersionCheck', '--silent', '--disableTelemetry', '--loose'];
  if (dataDir) {
    mkdirSync(dataDir, { recursive: true });
    args.push('--location', dataDir);
  } else args.push('--inMemoryPersistence');
  // @azure/storage-blob 12.34 sends x-ms-version 2026-10-06, newer than Azurite 3.37 knows: --skipApiVersionCheck (reference §0.5).
  const child = spawn(process.execPath, ['-e', CHILD, azuriteMain(), ...args], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    cwd: dataDir ?? process.cwd(),
    env: { ...process.env, AZURITE_ACCOUNTS: '' },
  });
  let out = '';
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`Azurite did not start within ${START_TIMEOUT_MS / 1000} s: ${err || out}`));
    }, START_TIMEOUT_MS);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listens on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited (code ${code ?? 'null'}) before it listened: ${(err || out).trim().slice(0, 500)}`));
    });
  });
  child.stdout?.resume();
  child.stderr?.resume();
  child.unref();
  child.channel?.unref();
  return { child, url: `${url.replace(/\/$/, '')}/${AZURITE_ACCOUNT}` };
}

/** The workspace's blob service: lazily started Azurite, or an existing service. */
export class BlobStore {
  private starting: Promise<BlobStoreInfo> | undefined;
  private child: ChildProcess | undefined;
  private info: BlobStoreInfo | undefined;
  private client: BlobServiceClient | undefined;
  private readonly containers = new Map<string, Promise<void>>();
  private closed = false;

  constructor(readonly options: BlobStorageOptions = {}) {}

  get enabled(): boolean {
    return this.options.start !== 'off' || this.options.endpoint !== undefined;
  }

  /** The service's address once started (undefined before). */
  get current(): BlobStoreInfo | undefined {
    return this.info;
  }

  /** Starts Azurite if needed (once) and resolves with how to reach the service. */
  ensure(): Promise<BlobStoreInfo> {
    if (this.closed) return Promise.reject(new Error('the emulator is closed'));
    if (!this.enabled) return Promise.reject(new Error('blob storage is off in this emulator (blobStorage.start: off)'));
    this.starting ??= this.start().catch((e: unknown) => {
      this.starting = undefined; // a failed start may be retried
      throw e;
    });
    return this.starting;
  }

  private async start(): Promise<BlobStoreInfo> {
    const t0 = performance.now();
    let url: string;
    let accountKey = this.options.accountKey ?? AZURITE_KEY;
    let azurite = false;
    if (this.options.endpoint) {
      url = this.options.endpoint.replace(/\/$/, '');
      accountOf(url);
    } else {
      const portFile = this.options.dataDir ? join(this.options.dataDir, 'glidepath-port.json') : undefined;
      let port = this.options.port ?? 0;
      if (this.options.port === undefined && portFile && existsSync(portFile)) {
        port = Number((JSON.parse(readFileSync(portFile, 'utf8')) as { port?: number }).port ?? 0);
      }
      let started: { child: ChildProcess; url: string };
      try {
        started = await startAzurite(this.options.dataDir, port);
      } catch (e) {
        if (port === 0 || this.options.port !== undefined) throw e;
        started = await startAzurite(this.options.dataDir, 0); // last time's port is taken
      }
      if (this.closed) {
        started.child.kill('SIGTERM');
        throw new Error('the emulator closed while Azurite was starting');
      }
      this.child = started.child;
      url = started.url;
      accountKey = AZURITE_KEY;
      azurite = true;
      if (portFile) writeFileSync(portFile, JSON.stringify({ port: Number(new URL(url).port) }));
    }
    const accountName = accountOf(url);
    // A loopback service fails fast or not at all: few, short retries (the SDK's default waits up to ~30 s).
    this.client = new BlobServiceClient(url, new StorageSharedKeyCredential(accountName, accountKey), {
      retryOptions: { maxTries: 3, retryDelayInMs: 100, maxRetryDelayInMs: 1000, tryTimeoutInMs: 15_000 },
    });
    this.info = {
      url,
      accountName,
      accountKey,
      connectionString: `DefaultEndpointsProtocol=${new URL(url).protocol.replace(':', '')};AccountName=${accountName};AccountKey=${accountKey};BlobEndpoint=${url};`,
      azurite,
      startMs: azurite ? Math.round(performance.now() - t0) : 0,
    };
    return this.info;
  }

  /** A client for the service (starting it if needed). */
  async serviceClient(): Promise<BlobServiceClient> {
    await this.ensure();
    if (!this.client) throw new Error('blob storage did not start');
    return this.client;
  }

  /** Creates the container once (idempotent). */
  ensureContainer(name: string): Promise<void> {
    let p = this.containers.get(name);
    if (!p) {
      p = this.serviceClient()
        .then((c) => c.getContainerClient(name).createIfNotExists())
        .then(() => undefined);
      p.catch(() => this.containers.delete(name));
      this.containers.set(name, p);
    }
    return p;
  }

  /** Stops the Azurite this store started (gracefully, then SIGKILL after 5 s). */
  async close(): Promise<void> {
    this.closed = true;
    await this.starting?.catch(() => undefined);
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.ref(); // keep the loop alive until it has exited
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
      }, STOP_TIMEOUT_MS);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      // In memory there is nothing to save: closing the IPC channel ends the child at once. With a data
      // dir, SIGTERM lets Azurite close its database first (it exits when its server has closed).
      if (this.options.dataDir) child.kill('SIGTERM');
      else if (child.connected) child.disconnect();
      else child.kill('SIGTERM');
    });
  }
}
