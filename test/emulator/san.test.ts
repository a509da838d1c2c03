// The emulator for other containers (docker compose): `--host 0.0.0.0 --san emulator` puts the service name in
// its certificate and in every URL it hands out, so a worker reaches it as https://emulator:<port> with
// certificate verification on; without a name it stays on loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../../emulator/index.js';
import { RG, WS } from './support.js';

const SUB = '00000000-0000-4000-8000-000000000001';
const root = new URL('../../', import.meta.url).pathname;

/** An HTTPS request to 127.0.0.1:`port` as if to `name` (TLS server name and Host header): what a container resolving `name` sends. */
function asName(name: string, port: number, ca: string, method: string, path: string, body?: unknown): Promise<{ status: number; headers: Record<string, unknown>; json: unknown }> {
  const data = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, servername: name, ca, method, path, agent: false, headers: { host: `${name}:${port}`, authorization: 'Bearer test', 'content-type': 'application/json', ...(data ? { 'content-length': String(Buffer.byteLength(data)) } : {}) } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, json: text ? (JSON.parse(text) as unknown) : null }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

test('with --san emulator on 0.0.0.0 the certificate names emulator and the URLs it hands out use https://emulator:<port>; other names fail verification', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'glidepath-san-'));
  // A certificate made earlier without the name is replaced, not kept.
  const before = await startEmulator({ stateDir, port: 0 });
  await before.close();
  assert.doesNotMatch(new X509Certificate(readFileSync(join(stateDir, 'ca.pem'))).subjectAltName ?? '', /DNS:emulator/);

  const emu = await startEmulator({ stateDir, port: 0, host: '0.0.0.0', san: ['emulator'] });
  try {
    assert.equal(emu.url, `https://emulator:${emu.port}`);
    const sans = new X509Certificate(emu.caCertPem).subjectAltName ?? '';
    assert.match(sans, /DNS:emulator/);
    assert.match(sans, /IP Address:127\.0\.0\.1/, 'loopback clients keep working');

    const path = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.MachineLearningServices/workspaces/${WS}/onlineEndpoints/san-ep?api-version=2024-04-01`;
    const put = await asName('emulator', emu.port, emu.caCertPem, 'PUT', path, { location: 'eastus', properties: { authMode: 'Key' } });
    assert.ok(put.status === 200 || put.status === 201, JSON.stringify(put.json));
    assert.match(String(put.headers['azure-asyncoperation']), new RegExp(`^https://emulator:${emu.port}/`), 'the operation URL a worker polls');
    assert.ok(emu.scoringUri('san-ep').startsWith(`https://emulator:${emu.port}/`));

    await assert.rejects(asName('glidepath-elsewhere', emu.port, emu.caCertPem, 'GET', path), /altnames|ERR_TLS_CERT_ALTNAME_INVALID|Hostname/i);
  } finally {
    await emu.close();
  }
});

test('a non-loopback address without a name is refused, from code and from the command line (exit 2)', async () => {
  await assert.rejects(startEmulator({ host: '0.0.0.0', port: 0 }), /san/);
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'emulator/main.ts', 'start', '--host', '0.0.0.0', '--port', '0'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /--host 0\.0\.0\.0 needs --san NAME/);
  const bad = spawnSync(process.execPath, ['--import', 'tsx', 'emulator/main.ts', 'start', '--san', 'not a name', '--port', '0'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  assert.equal(bad.status, 2, bad.stdout + bad.stderr);
  assert.match(bad.stderr, /--san 'not a name' is not a DNS name/);
});
