/**
 * Azurite's blob service (Microsoft's Azure Storage emulator, npm `azurite`) as a child process on a free
 * loopback port, in memory, for tests and benchmarks that read collected data with `@azure/storage-blob`.
 * Started with `--skipApiVersionCheck` (the SDK speaks a newer x-ms-version than Azurite's baseline;
 * reference §0.5) and `--blobPort 0`: Azurite picks the port and prints it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { AZURITE_ACCOUNT, AZURITE_KEY } from '../../activities/azure-clients.js';

const ROOT = new URL('../../', import.meta.url).pathname;

export interface AzuriteBlob {
  /** e.g. http://127.0.0.1:45085/devstoreaccount1 */
  blobEndpoint: string;
  client: BlobServiceClient;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function startAzuriteBlob(timeoutMs = 60_000): Promise<AzuriteBlob> {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'node_modules/azurite/dist/src/blob/main.js'), '--blobHost', '127.0.0.1', '--blobPort', '0', '--inMemoryPersistence', '--skipApiVersionCheck', '--silent', '--disableTelemetry', '--loose'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`azurite-blob did not start within ${timeoutMs} ms: ${out.slice(-500)}`)), timeoutMs);
    const onData = (b: Buffer) => {
      out += b.toString();
      const m = /successfully listens on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`azurite-blob exited (${code}) before listening: ${out.slice(-500)}`));
    });
  });
  const blobEndpoint = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
  const client = new BlobServiceClient(blobEndpoint, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY));
  return {
    blobEndpoint,
    client,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
