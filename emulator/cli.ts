// `glidepath emulator start|traffic|logs …`: the emulator's command line. The glidepath CLI hands over the
// arguments after `emulator`; this returns the exit code (0 ok, 1 failure, 2 bad arguments).
import { existsSync, readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseDuration } from '../domain/duration.js';
import { startEmulator } from './index.js';
import { generateTraffic, MAX_DURATION_MS, MAX_RPS } from './traffic.js';

const USAGE = `Usage:
  glidepath emulator start [--port N] [--state-dir DIR] [--provision-time 2s] [--metrics-delay 0s] [--seed N]
                           [--azure-timing] [--traffic-log-max-rows N] [--traffic-log-retention D]
                           [--blob-dir DIR | --blob-in-memory | --blob-endpoint URL [--blob-account-key KEY] | --no-blob-storage]
                           [--collect-batch-window 10ms] [--collect-flush-interval 1s]
      Starts the local Azure ML online endpoints emulator (HTTPS on 127.0.0.1) and runs until SIGINT/SIGTERM.
      --port N            TCP port (0 picks a free one; default 0)
      --state-dir DIR     certificate and state (endpoints, deployments, keys survive restarts)
                          (default $GLIDEPATH_EMULATOR_HOME or ~/.glidepath/emulator)
      --provision-time D  how long each long-running operation takes (default 2s)
      --metrics-delay D   Azure Monitor ingestion delay (default 0s)
      --seed N            seed of the traffic-splitting random source (default 1)
      --azure-timing      Azure Monitor's timing: metrics in 1-minute grain, each minute visible about a minute
                          after it closes; log rows visible 3-10 minutes after the request (drawn with --seed).
                          Run the worker with GLIDEPATH_INGESTION_DELAY=azure against it.
      --traffic-log-max-rows N   rows the Log Analytics traffic log keeps (default 200000, ~1 KiB each)
      --traffic-log-retention D  traffic-log rows older than this are dropped (default 24h)
      --blob-dir DIR      the workspace blob store (workspaceblobstore, where data collection writes): Azurite
                          on 127.0.0.1, started after the emulator, keeping its blobs in DIR (default <state-dir>/blobs)
      --blob-in-memory    run Azurite with in-memory blobs instead (lost when the emulator stops)
      --blob-endpoint URL use an existing blob service instead of starting Azurite, IP style with the account
                          in the path: http://127.0.0.1:10000/devstoreaccount1
      --blob-account-key KEY  that service's account key (default: Azurite's development key)
      --no-blob-storage   no blob store: deployments with data collection are refused
      --collect-batch-window D    data collection: custom-logging events of a deployment this close together
                                  share a JSONL line, as Azure batches them (default 10ms; 0 turns batching off)
      --collect-flush-interval D  how often collected lines are appended to their blobs (default 1s)

  glidepath emulator traffic --url URL --endpoint NAME --key KEY --rps N --duration D [--seed S]
                             [--deployment NAME] [--batch N] [--ca PATH] [--state-dir DIR] [--json]
      Sends realistic card transactions to an emulator endpoint (loopback only) and prints the achieved
      rate and the status counts. --rps 1..${MAX_RPS}, --duration up to ${MAX_DURATION_MS / 60_000}m.
      The emulator's certificate is read from --ca, else <state-dir>/ca.pem.

  glidepath emulator logs query [--url URL] [--ca PATH] [--state-dir DIR] [--timespan PT1H] [--json] '<KQL>'
      Runs a KQL query against the emulator's Log Analytics tables (AmlOnlineEndpointTrafficLog: a row per
      scoring request) through its Logs query API and prints the result as a table (--json: the API's answer).
      --url is the URL printed by 'glidepath emulator start'; the certificate is read from --ca, else <state-dir>/ca.pem.
      --timespan is the API's ISO 8601 timespan (PT15M, <start>/<end>); without it all rows are queried.

Durations are written like 500ms, 2s, 5m.`;

/** Thrown for a bad command line; the message is shown with a pointer to --help. */
class UsageError extends Error {}

function defaultStateDir(): string {
  return process.env.GLIDEPATH_EMULATOR_HOME ?? join(homedir(), '.glidepath', 'emulator');
}

function parseFlags(args: string[], known: Record<string, 'value' | 'flag'>): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument '${arg}'`);
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    const kind = known[name];
    if (!kind) throw new UsageError(`unknown option --${name}`);
    if (name in out) throw new UsageError(`--${name} given twice`);
    if (kind === 'flag') {
      out[name] = 'true';
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new UsageError(`--${name} needs a value`);
    out[name] = value;
  }
  return out;
}

function duration(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const ms = /^\d+$/.test(text) ? Number(text) : parseDuration(text);
  if (ms === undefined) throw new UsageError(`--${name} must be a duration like 500ms, 2s or 5m, got '${text}'`);
  return ms;
}

function integer(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^-?\d+$/.test(text) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got '${text}'`);
  return n;
}

async function start(args: string[]): Promise<number> {
  const f = parseFlags(args, {
    port: 'value',
    'state-dir': 'value',
    'provision-time': 'value',
    'metrics-delay': 'value',
    seed: 'value',
    'azure-timing': 'flag',
    'traffic-log-max-rows': 'value',
    'traffic-log-retention': 'value',
    'blob-dir': 'value',
    'blob-in-memory': 'flag',
    'blob-endpoint': 'value',
    'blob-account-key': 'value',
    'no-blob-storage': 'flag',
    'collect-batch-window': 'value',
    'collect-flush-interval': 'value',
  });
  const batchWindowMs = duration('collect-batch-window', f['collect-batch-window'], 10);
  const flushIntervalMs = duration('collect-flush-interval', f['collect-flush-interval'], 1000);
  if (batchWindowMs > 60_000) throw new UsageError('--collect-batch-window must be at most 1m');
  if (flushIntervalMs < 10 || flushIntervalMs > 600_000) throw new UsageError('--collect-flush-interval must be from 10ms to 10m');
  const blobChoices = ['blob-dir', 'blob-in-memory', 'blob-endpoint', 'no-blob-storage'].filter((k) => f[k] !== undefined);
  if (blobChoices.length > 1) throw new UsageError(`give one of --${blobChoices.join(', --')}`);
  if (f['blob-account-key'] !== undefined && !f['blob-endpoint']) throw new UsageError('--blob-account-key goes with --blob-endpoint');
  if (f['blob-endpoint']) {
    let u: URL;
    try {
      u = new URL(f['blob-endpoint']);
    } catch {
      throw new UsageError(`--blob-endpoint must be a URL like http://127.0.0.1:10000/devstoreaccount1, got '${f['blob-endpoint']}'`);
    }
    if (!/^https?:$/.test(u.protocol) || u.pathname.split('/').filter(Boolean).length !== 1) {
      throw new UsageError(`--blob-endpoint must be http(s)://host:port/<account> (IP style, the account in the path), got '${f['blob-endpoint']}'`);
    }
  }
  const stateDir = f['state-dir'] ?? defaultStateDir();
  const seed = integer('seed', f.seed, 1, 0, 2 ** 31 - 1);
  const retention = duration('traffic-log-retention', f['traffic-log-retention'], 24 * 3_600_000);
  if (retention <= 0) throw new UsageError('--traffic-log-retention must be more than 0');
  const emu = await startEmulator({
    port: integer('port', f.port, 0, 0, 65535),
    stateDir,
    blobStorage: f['no-blob-storage']
      ? { start: 'off' }
      : f['blob-endpoint']
        ? { endpoint: f['blob-endpoint'], ...(f['blob-account-key'] ? { accountKey: f['blob-account-key'] } : {}) }
        : f['blob-in-memory']
          ? {}
          : { dataDir: f['blob-dir'] ?? join(stateDir, 'blobs') },
    dataCollection: { batchWindowMs, flushIntervalMs, seed },
    provisionTimeMs: duration('provision-time', f['provision-time'], 2000),
    metricsDelayMs: duration('metrics-delay', f['metrics-delay'], 0),
    seed,
    ...(f['azure-timing'] ? { azureTiming: { seed } } : {}),
    trafficLogMaxRows: integer('traffic-log-max-rows', f['traffic-log-max-rows'], 200_000, 1, 10_000_000),
    trafficLogMaxAgeMs: retention,
  });
  const timing = f['azure-timing'] ? 'Azure timing: metrics a minute after each minute closes, log rows 3-10 minutes after their request\n' : '';
  process.stdout.write(`${timing}emulator listening on ${emu.url}\nCA certificate: ${emu.caCertPath}\n`);
  const stopped = new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  if (!f['no-blob-storage']) {
    // After the URL lines, so a script waiting for them is not held up by Azurite's start (about a second).
    try {
      const b = await emu.blobStore();
      const what = b.azurite ? `Azurite, ${f['blob-in-memory'] ? 'in memory' : `data in ${f['blob-dir'] ?? join(stateDir, 'blobs')}`}, started in ${b.startMs} ms` : 'existing service';
      process.stdout.write(`blob storage: ${b.url} (${what}; account ${b.accountName})\n`);
    } catch (e) {
      process.stderr.write(`blob storage did not start: ${(e as Error).message} (data collection will fail until it does)\n`);
    }
  }
  await stopped;
  await emu.close();
  process.stdout.write('emulator stopped\n');
  return 0;
}

async function traffic(args: string[]): Promise<number> {
  const f = parseFlags(args, {
    url: 'value',
    endpoint: 'value',
    key: 'value',
    rps: 'value',
    duration: 'value',
    seed: 'value',
    deployment: 'value',
    batch: 'value',
    ca: 'value',
    'state-dir': 'value',
    json: 'flag',
  });
  for (const required of ['url', 'endpoint', 'key', 'rps', 'duration']) {
    if (!f[required]) throw new UsageError(`--${required} is required`);
  }
  const rps = Number(f.rps);
  if (!Number.isFinite(rps) || rps <= 0 || rps > MAX_RPS) throw new UsageError(`--rps must be a number from 1 to ${MAX_RPS}, got '${f.rps ?? ''}'`);
  const durationMs = duration('duration', f.duration, 0);
  if (durationMs <= 0 || durationMs > MAX_DURATION_MS) throw new UsageError(`--duration must be more than 0 and at most ${MAX_DURATION_MS / 60_000}m`);
  const caPath = f.ca ?? join(f['state-dir'] ?? defaultStateDir(), 'ca.pem');
  if (!existsSync(caPath)) throw new UsageError(`the emulator's certificate was not found at ${caPath}; pass --ca PATH (printed by 'glidepath emulator start')`);
  const result = await generateTraffic({
    url: f.url ?? '',
    endpoint: f.endpoint ?? '',
    key: f.key ?? '',
    rps,
    durationMs,
    seed: integer('seed', f.seed, 42, 0, 2 ** 31 - 1),
    caCertPem: readFileSync(caPath, 'utf8'),
    batchSize: integer('batch', f.batch, 1, 1, 100),
    ...(f.deployment ? { deployment: f.deployment } : {}),
  });
  if (f.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    const statuses = Object.entries(result.statusCounts).sort().map(([k, v]) => `${k}: ${v}`).join(', ') || 'none';
    const deps = Object.entries(result.deploymentCounts).sort().map(([k, v]) => `${k}: ${v}`).join(', ') || 'none';
    process.stdout.write(
      `sent ${result.sent} requests in ${(result.durationMs / 1000).toFixed(1)}s: ${result.achievedRps.toFixed(1)} requests/s achieved (asked ${rps})\n` +
        `status codes: ${statuses}\n` +
        `answered by: ${deps}\n` +
        `latency: p50 ${result.latencyMs.p50.toFixed(1)} ms, p99 ${result.latencyMs.p99.toFixed(1)} ms\n` +
        (result.skipped ? `skipped: ${result.skipped} (too many requests in flight)\n` : '') +
        (result.networkErrors ? `network errors: ${result.networkErrors}\n` : ''),
    );
  }
  return result.networkErrors > 0 && result.completed === 0 ? 1 : 0;
}

function httpsJson(url: URL, ca: string, body: string): Promise<{ status: number; json: unknown; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method: 'POST', ca, agent: false, headers: { authorization: 'Bearer glidepath-emulator-cli', 'content-type': 'application/json', accept: 'application/json', 'content-length': String(Buffer.byteLength(body)) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, json, text });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A result table as aligned text columns. */
function renderTable(table: { columns: { name: string; type: string }[]; rows: unknown[][] }): string {
  const cells = [table.columns.map((c) => c.name), ...table.rows.map((r) => r.map((v) => (v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v))))];
  const widths = table.columns.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => r.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(cells[0] ?? []), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

async function logs(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'query') throw new UsageError(`unknown logs command '${sub ?? ''}' (use: logs query '<KQL>')`);
  const flags: string[] = [];
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i] ?? '';
    if (a.startsWith('--')) {
      flags.push(a);
      if (!a.includes('=') && a !== '--json') flags.push(rest[++i] ?? '');
    } else positional.push(a);
  }
  const f = parseFlags(flags, { url: 'value', ca: 'value', 'state-dir': 'value', timespan: 'value', json: 'flag' });
  if (positional.length !== 1 || !positional[0]?.trim()) throw new UsageError("logs query takes one KQL query as its argument, e.g. 'AmlOnlineEndpointTrafficLog | summarize count() by DeploymentName'");
  if (!f.url) throw new UsageError("--url is required (the URL printed by 'glidepath emulator start')");
  const base = new URL(f.url);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(base.hostname)) throw new UsageError('--url must be the emulator on loopback');
  const caPath = f.ca ?? join(f['state-dir'] ?? defaultStateDir(), 'ca.pem');
  if (!existsSync(caPath)) throw new UsageError(`the emulator's certificate was not found at ${caPath}; pass --ca PATH (printed by 'glidepath emulator start')`);
  const r = await httpsJson(new URL('/v1/workspaces/emulator/query', base), readFileSync(caPath, 'utf8'), JSON.stringify({ query: positional[0], ...(f.timespan ? { timespan: f.timespan } : {}) }));
  const body = r.json as { tables?: { columns: { name: string; type: string }[]; rows: unknown[][] }[]; error?: { code?: string; message?: string; details?: { innererror?: { message?: string } }[] } } | undefined;
  if (r.status !== 200 || !body?.tables) {
    process.stderr.write(`glidepath emulator: the query failed (${r.status} ${body?.error?.code ?? ''}): ${body?.error?.message ?? r.text}\n`);
    return 1;
  }
  if (f.json) process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
  else for (const t of body.tables) process.stdout.write(`${renderTable(t)}\n(${t.rows.length} row${t.rows.length === 1 ? '' : 's'})\n`);
  if (body.error) process.stderr.write(`glidepath emulator: partial result (${body.error.code ?? ''}): ${body.error.details?.[0]?.innererror?.message ?? body.error.message ?? ''}\n`);
  return 0;
}

/** Runs `glidepath emulator <argv…>` and returns the exit code. */
export async function emulatorCommand(argv: string[]): Promise<number> {
  const args = argv[0] === 'emulator' ? argv.slice(1) : argv;
  const [sub, ...rest] = args;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help' || rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return sub ? 0 : 2;
  }
  try {
    switch (sub) {
      case 'start':
        return await start(rest);
      case 'traffic':
        return await traffic(rest);
      case 'logs':
        return await logs(rest);
      default:
        throw new UsageError(`unknown emulator command '${sub}' (use start, traffic or logs)`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`glidepath emulator: ${err.message}\nRun 'glidepath emulator --help' for usage.\n`);
      return 2;
    }
    process.stderr.write(`glidepath emulator: ${(err as Error).message}\n`);
    return 1;
  }
}
