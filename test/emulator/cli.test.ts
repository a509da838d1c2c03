// The emulator's command line: `glidepath emulator start` (prints its URL and CA path, serves, stops on
// SIGTERM with exit 0, keeps state in the state dir) and `glidepath emulator traffic` (bounded, loopback only).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTraffic } from '../../emulator/index.js';
import { anEndpointWith, armClient, raw, RG, score, setTraffic, startTestEmulator, WS } from './support.js';
import { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import { emulatorCredential } from '../../emulator/sdk.js';

const root = new URL('../../', import.meta.url).pathname;

function startCli(stateDir: string, extra: string[] = []): Promise<{ child: ChildProcess; url: string; caPath: string; out: () => string }> {
  const child = spawn(process.execPath, ['bin/glidepath.js', 'emulator', 'start', '--port', '0', '--state-dir', stateDir, '--provision-time', '100ms', ...extra], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`emulator did not start: ${out}`)), 20_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const url = /^emulator listening on (https:\/\/127\.0\.0\.1:\d+)$/m.exec(out)?.[1];
      const caPath = /^CA certificate: (.+)$/m.exec(out)?.[1];
      if (url && caPath) {
        clearTimeout(timer);
        resolve({ child, url, caPath, out: () => out });
      }
    });
    child.on('exit', (code) => reject(new Error(`emulator exited early with ${code}: ${out}`)));
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'emulator/main.ts', ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('glidepath emulator start', () => {
  test('prints its URL and CA path, serves the SDK, exits 0 on SIGTERM, and keeps state for the next start', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'glidepath-cli-'));
    const first = await startCli(stateDir);
    assert.equal(first.caPath, join(stateDir, 'ca.pem'));
    const ca = readFileSync(first.caPath, 'utf8');
    const emu = { url: first.url, caCertPem: ca };
    const client = new AzureMachineLearningWorkspaces(emulatorCredential(), '00000000-0000-4000-8000-000000000001', { endpoint: emu.url, tlsOptions: { ca } });
    await client.onlineEndpoints.beginCreateOrUpdateAndWait(RG, WS, 'cli-ep', { location: 'eastus', properties: { authMode: 'Key' } }, { updateIntervalInMs: 50 });
    assert.equal(await stop(first.child), 0);

    const second = await startCli(stateDir);
    try {
      const again = new AzureMachineLearningWorkspaces(emulatorCredential(), '00000000-0000-4000-8000-000000000001', { endpoint: second.url, tlsOptions: { ca: readFileSync(second.caPath, 'utf8') } });
      const ep = await again.onlineEndpoints.get(RG, WS, 'cli-ep');
      assert.equal(ep.properties.provisioningState, 'Succeeded');
      assert.equal(readFileSync(second.caPath, 'utf8'), ca, 'the certificate is kept in the state dir');
    } finally {
      assert.equal(await stop(second.child), 0);
    }
  });

  test('--azure-timing says so and holds a request back from metrics and logs (none right after it)', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'glidepath-cli-'));
    const started = await startCli(stateDir, ['--azure-timing', '--seed', '9']);
    try {
      assert.match(started.out(), /Azure timing: metrics a minute after each minute closes, log rows 3-10 minutes after their request/);
      const emu = { url: started.url, caCertPem: readFileSync(started.caPath, 'utf8') } as Parameters<typeof raw>[0];
      const client = armClient(emu);
      const key = await anEndpointWith(client, 'late-cli', { blue: 'azureml:fraud-detector:1' });
      await setTraffic(client, 'late-cli', { blue: 100 });
      assert.equal((await score(emu, 'late-cli', key)).status, 200);
      const logs = await raw(emu, 'POST', '/v1/workspaces/any/query', JSON.stringify({ query: 'AmlOnlineEndpointTrafficLog | count' }));
      assert.deepEqual((logs.json as { tables: { rows: unknown[][] }[] }).tables[0]?.rows, [[0]], 'the row is not ingested yet');
      const requests = await raw(emu, 'GET', '/_emulator/requests');
      assert.equal((requests.json as { value: unknown[] }).value.length, 1, 'though the request was served');
    } finally {
      assert.equal(await stop(started.child), 0);
    }
  });

  test('starts Azurite as the workspace blob store after the URL lines, and stops it with the emulator', { timeout: 60_000 }, async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'glidepath-cli-'));
    const started = await startCli(stateDir, ['--blob-in-memory']);
    let blobUrl = '';
    try {
      const deadline = Date.now() + 30_000;
      while (!(blobUrl = /^blob storage: (http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1) \(Azurite, in memory, started in \d+ ms; account devstoreaccount1\)$/m.exec(started.out())?.[1] ?? '')) {
        assert.ok(Date.now() < deadline, `no blob storage line: ${started.out()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const emu = { url: started.url, caCertPem: readFileSync(started.caPath, 'utf8') } as Parameters<typeof raw>[0];
      const ds = await raw(emu, 'GET', `/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/${RG}/providers/Microsoft.MachineLearningServices/workspaces/${WS}/datastores/workspaceblobstore?api-version=2024-04-01`);
      assert.equal((ds.json as { properties: { properties: Record<string, string> } }).properties.properties['glidepath.blobServiceUrl'], blobUrl);
      assert.equal((await fetch(`${blobUrl}?comp=list`)).status, 403, 'Azurite answers (unsigned requests are refused)');
    } finally {
      assert.equal(await stop(started.child), 0);
    }
    await assert.rejects(fetch(`${blobUrl}?comp=list`), 'Azurite stopped with the emulator');
  });

  test('--help prints usage and bad arguments fail with exit 2 and a clear message', () => {
    const help = cli(['--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /glidepath emulator start/);
    for (const [args, message] of [
      [['start', '--port', 'abc'], /--port must be an integer/],
      [['start', '--provision-time', 'soon'], /--provision-time must be a duration/],
      [['start', '--frobnicate'], /unknown option --frobnicate/],
      [['start', '--blob-endpoint', 'localhost:10000'], /--blob-endpoint must be/],
      [['start', '--blob-in-memory', '--no-blob-storage'], /give one of --blob-in-memory, --no-blob-storage/],
      [['start', '--collect-flush-interval', '1ms'], /--collect-flush-interval must be from 10ms to 10m/],
      [['traffic', '--url', 'https://127.0.0.1:1'], /--endpoint is required/],
      [['traffic', '--url', 'https://127.0.0.1:1', '--endpoint', 'e', '--key', 'k', '--rps', '5000', '--duration', '1s'], /--rps must be/],
      [['traffic', '--url', 'https://127.0.0.1:1', '--endpoint', 'e', '--key', 'k', '--rps', '5', '--duration', '1h'], /--duration must be/],
      [['launch'], /unknown emulator command 'launch'/],
    ] as const) {
      const r = cli([...args]);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
  });
});

/** Like cli(), but without blocking this process (which hosts the emulator the command talks to). */
function cliAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'emulator/main.ts', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('glidepath emulator traffic', () => {
  test('sends bounded traffic and prints the achieved rate and status counts', async () => {
    const emu = await startTestEmulator({ provisionTimeMs: 20 });
    try {
      const client = armClient(emu);
      const key = await anEndpointWith(client, 'traffic-ep', { blue: 'azureml:fraud-detector:1', green: 'azureml:fraud-detector:2' }, { maxConcurrent: 8 });
      await setTraffic(client, 'traffic-ep', { blue: 50, green: 50 });
      const r = await cliAsync(['traffic', '--url', emu.url, '--endpoint', 'traffic-ep', '--key', key, '--rps', '40', '--duration', '2s', '--seed', '9', '--ca', emu.caCertPath]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /sent 80 requests in \d+\.\ds: [\d.]+ requests\/s achieved \(asked 40\)/);
      assert.match(r.stdout, /status codes: 200: 80/);
      assert.match(r.stdout, /answered by: blue: \d+, green: \d+/);
      const served = emu.requestLog().filter((x) => x.endpoint === 'traffic-ep');
      assert.equal(served.length, 80);
      const json = await cliAsync(['traffic', '--url', emu.url, '--endpoint', 'traffic-ep', '--key', 'wrong', '--rps', '10', '--duration', '500ms', '--ca', emu.caCertPath, '--json']);
      assert.deepEqual((JSON.parse(json.stdout) as { statusCounts: unknown }).statusCounts, { '401': 5 });
    } finally {
      await emu.close();
    }
  });

  test('refuses non-loopback targets and unbounded runs from code', async () => {
    const base = { endpoint: 'e', key: 'k', caCertPem: '', rps: 10, durationMs: 1000 };
    await assert.rejects(generateTraffic({ ...base, url: 'https://10.1.2.3:443' }), /only loopback/);
    await assert.rejects(generateTraffic({ ...base, url: 'https://example.com' }), /only loopback/);
    await assert.rejects(generateTraffic({ ...base, url: 'https://127.0.0.1:1', rps: 10_000 }), /rps must be/);
    await assert.rejects(generateTraffic({ ...base, url: 'https://127.0.0.1:1', durationMs: 3_600_000 }), /duration must be/);
  });
});

describe('glidepath emulator logs query', () => {
  test('prints the traffic log as a table, --json gives the API answer, and bad KQL exits 1 naming the construct', async () => {
    const emu = await startTestEmulator({ provisionTimeMs: 20 });
    try {
      const client = armClient(emu);
      const key = await anEndpointWith(client, 'logs-cli-ep', { blue: 'azureml:fraud-detector:1' });
      await setTraffic(client, 'logs-cli-ep', { blue: 100 });
      for (let i = 0; i < 3; i++) await score(emu, 'logs-cli-ep', key);
      const kql = 'AmlOnlineEndpointTrafficLog | summarize requests = count() by DeploymentName, ResponseCode';
      const r = await cliAsync(['logs', 'query', '--url', emu.url, '--ca', emu.caCertPath, kql]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^DeploymentName\s+ResponseCode\s+requests\n-+\s+-+\s+-+\nblue\s+200\s+3\n\(1 row\)$/m);
      const json = await cliAsync(['logs', 'query', '--json', '--url', emu.url, '--ca', emu.caCertPath, '--timespan', 'PT1H', kql]);
      assert.deepEqual((JSON.parse(json.stdout) as { tables: { rows: unknown[][] }[] }).tables[0]?.rows, [['blue', 200, 3]]);
      const bad = await cliAsync(['logs', 'query', '--url', emu.url, '--ca', emu.caCertPath, 'AmlOnlineEndpointTrafficLog | join (x) on y']);
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /400 BadArgumentError.*'join' operator is not supported.*line 1, column 31/);
      const usage = await cliAsync(['logs', 'query', '--url', emu.url, '--ca', emu.caCertPath]);
      assert.equal(usage.status, 2);
      assert.match(usage.stderr, /takes one KQL query/);
    } finally {
      await emu.close();
    }
  });
});
