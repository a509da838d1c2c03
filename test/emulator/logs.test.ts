// The Log Analytics traffic log and query API against a running emulator with real scoring traffic:
// a row per request (live and mirrored) with the table's columns, queried over HTTPS exactly as
// @azure/monitor-query-logs sends it (POST <endpoint>/workspaces/{id}/query, {query, timespan}), with
// Azure's answer shapes for results, partial results, bad KQL and missing credentials.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import { TRAFFIC_LOG_COLUMNS, type Emulator } from '../../emulator/index.js';
import { nearestRank } from '../../emulator/kql/evaluate.js';
import { TrafficLogStore } from '../../emulator/log-tables.js';
import { anEndpointWith, armClient, raw, setTraffic, startTestEmulator, TX, WS_PATH, type RawResponse } from './support.js';

const WORKSPACE = '7f1c0a43-5d2e-4b8e-9a51-3c2d1e0f9a77';

interface LogsTable {
  name: string;
  columns: { name: string; type: string }[];
  rows: unknown[][];
}
interface LogsBody {
  tables: LogsTable[];
  error?: { code: string; message: string; details?: { code: string; innererror?: { message: string } }[] };
}

describe('AmlOnlineEndpointTrafficLog and the Logs query API', () => {
  let emu: Emulator;
  let client: AzureMachineLearningWorkspaces;
  let key = '';
  let start = 0;
  let end = 0;

  /** What LogsQueryClient.queryWorkspace sends: POST {endpoint}/workspaces/{id}/query, JSON {query, timespan}. */
  const query = (kql: string, timespan?: string, headers: Record<string, string> = {}): Promise<RawResponse> =>
    raw(emu, 'POST', `/v1/workspaces/${WORKSPACE}/query`, JSON.stringify({ query: kql, ...(timespan ? { timespan } : {}) }), { accept: 'application/json', ...headers });
  const table = (r: RawResponse): LogsTable => {
    assert.equal(r.status, 200, r.text);
    const t = (r.json as LogsBody).tables[0];
    assert.ok(t);
    return t;
  };
  const rowsAsObjects = (t: LogsTable): Record<string, unknown>[] => t.rows.map((row) => Object.fromEntries(t.columns.map((c, i) => [c.name, row[i]])));

  before(async () => {
    emu = await startTestEmulator({ provisionTimeMs: 50, seed: 11, logsResultRowLimit: 50 });
    client = armClient(emu);
    key = await anEndpointWith(client, 'logs-ep', { blue: 'azureml:fraud-detector:1', shadow: 'azureml:fraud-detector:4' });
    await setTraffic(client, 'logs-ep', { blue: 100 }, { shadow: 50 });
    start = Date.now();
    for (let i = 0; i < 40; i++) {
      const far = i % 10 === 0;
      const r = await raw(emu, 'POST', '/endpoints/logs-ep/score', JSON.stringify({ transactions: [{ ...TX, distanceFromHomeKm: far ? 5000 : 3 }] }), {
        authorization: `Bearer ${key}`,
        'user-agent': 'glidepath-logs-test/1.0 (a user agent long enough to be cut at seventy characters by Azure)',
        'x-ms-client-request-id': `run-7/req-${i}`,
      });
      assert.equal(r.status, 200, r.text);
    }
    await raw(emu, 'POST', '/endpoints/logs-ep/score', JSON.stringify({ transactions: [TX] }), { authorization: 'Bearer wrong-key' });
    await new Promise((r) => setTimeout(r, 400)); // mirrored copies finish after their primaries
    end = Date.now() + 1000;
  });
  after(async () => {
    await emu.close();
  });

  test('every scored request is one row: counts per deployment equal what the emulator served, mirrored copies included', async () => {
    const served = emu.requestLog().filter((r) => r.endpoint === 'logs-ep');
    const expected = new Map<string, number>();
    for (const r of served) expected.set(r.deployment, (expected.get(r.deployment) ?? 0) + 1);
    const t = table(await query('AmlOnlineEndpointTrafficLog | where EndpointName == "logs-ep" | summarize n = count() by DeploymentName | order by DeploymentName asc'));
    assert.deepEqual(t.columns, [{ name: 'DeploymentName', type: 'string' }, { name: 'n', type: 'long' }]);
    assert.deepEqual(t.rows, [...expected.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([d, n]) => [d, n]));
    assert.equal(expected.get('blue'), 40);
    assert.equal(expected.get(''), 1, 'the 401 is logged without a deployment');
    assert.ok((expected.get('shadow') ?? 0) >= 10, `about half of 40 requests are mirrored, got ${expected.get('shadow') ?? 0}`);
    assert.equal(emu.trafficLogSize(), served.length);
  });

  test('rows carry the table’s real columns and types and what the request really was', async () => {
    const t = table(await query('AmlOnlineEndpointTrafficLog | where DeploymentName == "blue" | order by TimeGenerated asc | take 1'));
    assert.deepEqual(t.columns, TRAFFIC_LOG_COLUMNS.map((c) => ({ name: c.name, type: c.type })));
    const [row] = rowsAsObjects(t);
    assert.ok(row);
    const time = Date.parse(String(row.TimeGenerated));
    assert.ok(time >= start - 5 && time <= end, `TimeGenerated ${String(row.TimeGenerated)} inside the test`);
    assert.equal(row.EndpointName, 'logs-ep');
    assert.equal(row.Method, 'POST');
    assert.equal(row.Path, '/score');
    assert.equal(row.ResponseCode, 200);
    assert.equal(row.ResponseCodeReason, 'OK');
    assert.equal(row.ModelStatusCode, 200);
    assert.equal(row.AuthType, 'Key');
    assert.equal(row.XMSClientRequestId, 'run7req0', 'non-alphanumerics stripped');
    assert.equal(String(row.UserAgent).length, 70, 'cut at 70 characters');
    assert.equal(row.Type, 'AmlOnlineEndpointTrafficLog');
    assert.equal(row._ResourceId, `${WS_PATH}/onlineEndpoints/logs-ep`.toLowerCase());
    assert.ok(Number.isInteger(row.TotalDurationMs) && (row.TotalDurationMs as number) >= (row.ResponseDurationMs as number));
    assert.ok((row.RequestPayloadSize as number) > 100 && (row.ResponsePayloadSize as number) > 0);
  });

  test('the brittle candidate’s failures are 424 rows carrying the model’s 500, and per-deployment percentiles match the rows', async () => {
    // shadow runs v4, which raises for transactions over 1000 km away (every 10th request here, when mirrored).
    const t = table(
      await query(`AmlOnlineEndpointTrafficLog
| where EndpointName == "logs-ep" and isnotempty(DeploymentName)
| summarize requests = count(), failed = countif(ResponseCode == 424 and ModelStatusCode == 500), percentiles(TotalDurationMs, 50, 95) by DeploymentName
| order by DeploymentName asc`),
    );
    const served = emu.requestLog().filter((r) => r.endpoint === 'logs-ep');
    for (const r of rowsAsObjects(t)) {
      const durations = rowsAsObjects(table(await query(`AmlOnlineEndpointTrafficLog | where DeploymentName == "${String(r.DeploymentName)}" | project TotalDurationMs`)));
      const mine = durations.map((d) => d.TotalDurationMs as number).sort((a, b) => a - b);
      assert.equal(r.requests, mine.length);
      assert.equal(r.failed, served.filter((x) => x.deployment === r.DeploymentName && x.statusCode === 424 && x.modelStatusCode === 500).length);
      assert.equal(r.percentile_TotalDurationMs_50, nearestRank(mine, 50));
      assert.equal(r.percentile_TotalDurationMs_95, nearestRank(mine, 95));
    }
    const byName = new Map(rowsAsObjects(t).map((r) => [r.DeploymentName, r]));
    assert.equal(byName.get('blue')?.failed, 0);
    assert.ok((byName.get('shadow')?.failed as number) >= 1, 'some far-away transaction was mirrored and failed');
  });

  test('bin(TimeGenerated, 1m) and the API timespan: a window before the traffic has no rows, one around it has all', async () => {
    const before = `${new Date(start - 3_600_000).toISOString()}/${new Date(start - 60_000).toISOString()}`;
    assert.deepEqual(table(await query('AmlOnlineEndpointTrafficLog | summarize count()', before)).rows, [[0]]);
    const around = `${new Date(start - 60_000).toISOString()}/${new Date(end).toISOString()}`;
    const t = table(await query('AmlOnlineEndpointTrafficLog | summarize n = count() by bin(TimeGenerated, 1m)', around));
    assert.equal(t.columns[0]?.type, 'datetime');
    assert.equal(t.rows.reduce((n, r) => n + (r[1] as number), 0), emu.trafficLogSize());
    for (const r of t.rows) assert.match(String(r[0]), /:00Z$/, 'bins start on whole minutes');
    assert.deepEqual(table(await query('AmlOnlineEndpointTrafficLog | where TimeGenerated > ago(1h) | count', 'PT1H')).rows, [[emu.trafficLogSize()]]);
  });

  test('a result over the record limit is a 200 with the rows and a PartialError, as Azure reports it', async () => {
    const r = await query('AmlOnlineEndpointTrafficLog | project XRequestId');
    assert.equal(r.status, 200);
    const body = r.json as LogsBody;
    assert.equal(body.tables[0]?.rows.length, 50);
    assert.equal(body.error?.code, 'PartialError');
    assert.match(body.error?.details?.[0]?.innererror?.message ?? '', /exceeded the internal record count limit 50/);
  });

  test('bad KQL is 400 BadArgumentError naming the construct and its line and column', async () => {
    const r = await query('AmlOnlineEndpointTrafficLog\n| join (AmlOnlineEndpointEventLog) on DeploymentName');
    assert.equal(r.status, 400);
    const err = (r.json as { error: { code: string; message: string; innererror: { code: string; innererror: { message: string; line: number; pos: number; token: string } } } }).error;
    assert.equal(err.code, 'BadArgumentError');
    assert.match(err.message, /'join' operator is not supported.*line 2, column 3/);
    assert.deepEqual([err.innererror.innererror.line, err.innererror.innererror.pos, err.innererror.innererror.token], [2, 3, 'join']);
    const syntax = await query('AmlOnlineEndpointTrafficLog | where ResponseCode >');
    assert.equal(syntax.status, 400);
    assert.equal((syntax.json as { error: { innererror: { code: string } } }).error.innererror.code, 'SyntaxError');
    const missing = await raw(emu, 'POST', `/v1/workspaces/${WORKSPACE}/query`, JSON.stringify({ timespan: 'PT1H' }));
    assert.equal(missing.status, 400);
    assert.match(missing.text, /'query' is required/);
  });

  test('without a bearer token the API answers 401 AuthenticationFailed', async () => {
    const r = await query('AmlOnlineEndpointTrafficLog | count', undefined, { authorization: '' });
    assert.equal(r.status, 401);
    assert.equal((r.json as { error: { code: string } }).error.code, 'AuthenticationFailed');
  });

  test('the resource-centric form (queryResource, with its double slash) sees only that resource’s rows; GET and $batch work too', async () => {
    const resourceId = `${WS_PATH}/onlineEndpoints/logs-ep`;
    const scoped = await raw(emu, 'POST', `/v1/${resourceId}/query`, JSON.stringify({ query: 'AmlOnlineEndpointTrafficLog | count' }));
    assert.deepEqual(table(scoped).rows, [[emu.trafficLogSize()]]);
    const other = await raw(emu, 'POST', `/v1/${WS_PATH}/onlineEndpoints/another-ep/query`, JSON.stringify({ query: 'AmlOnlineEndpointTrafficLog | count' }));
    assert.deepEqual(table(other).rows, [[0]]);
    const get = await raw(emu, 'GET', `/v1/workspaces/${WORKSPACE}/query?query=${encodeURIComponent('AmlOnlineEndpointTrafficLog | where ResponseCode == 401 | count')}`);
    assert.deepEqual(table(get).rows, [[1]]);
    const batch = await raw(
      emu,
      'POST',
      '/v1/$batch',
      JSON.stringify({
        requests: [
          { id: 'a', workspace: WORKSPACE, path: '/query', method: 'POST', body: { query: 'AmlOnlineEndpointTrafficLog | where DeploymentName == "blue" | count', timespan: 'PT1H' } },
          { id: 'b', workspace: WORKSPACE, path: '/query', method: 'POST', body: { query: 'AmlOnlineEndpointTrafficLog | bogus' } },
        ],
      }),
    );
    assert.equal(batch.status, 200);
    const responses = (batch.json as { responses: { id: string; status: number; body: LogsBody }[] }).responses;
    assert.deepEqual(responses.map((x) => [x.id, x.status]), [['a', 200], ['b', 400]]);
    assert.deepEqual(responses[0]?.body.tables[0]?.rows, [[40]]);
  });

  test('every query is in the call log as kind logs, and a logs fault fails the next query', async () => {
    emu.faults.failNext({ target: 'logs', status: 503, retryAfterSeconds: 1 });
    const r = await query('AmlOnlineEndpointTrafficLog | count');
    assert.equal(r.status, 503);
    assert.equal(r.headers['retry-after'], '1');
    assert.equal((await query('AmlOnlineEndpointTrafficLog | count')).status, 200);
    assert.ok(emu.callLog().some((c) => c.kind === 'logs' && c.status === 503));
  });
});

describe('traffic-log retention', () => {
  const row = (t: number): unknown[] => {
    const r = new Array<unknown>(TRAFFIC_LOG_COLUMNS.length).fill('');
    r[1] = t;
    return r;
  };
  test('keeps at most maxRows, dropping the oldest', () => {
    const store = new TrafficLogStore({ maxRows: 3, maxAgeMs: 3_600_000 });
    const now = Date.now();
    for (let i = 0; i < 5; i++) store.append(row(now + i) as never, now);
    assert.equal(store.size, 3);
    assert.deepEqual(store.snapshot(now).map((r) => r[1]), [now + 2, now + 3, now + 4]);
  });
  test('drops rows older than maxAgeMs', () => {
    const store = new TrafficLogStore({ maxRows: 100, maxAgeMs: 60_000 });
    const now = Date.now();
    store.append(row(now - 120_000) as never, now - 120_000);
    store.append(row(now - 30_000) as never, now - 30_000);
    store.append(row(now) as never, now);
    assert.deepEqual(store.snapshot(now).map((r) => r[1]), [now - 30_000, now]);
    assert.deepEqual(store.snapshot(now + 45_000).map((r) => r[1]), [now]);
  });
  test('stays bounded over many appends (the backing list is compacted)', () => {
    const store = new TrafficLogStore({ maxRows: 1000, maxAgeMs: 3_600_000 });
    const now = Date.now();
    for (let i = 0; i < 50_000; i++) store.append(row(now) as never, now);
    assert.equal(store.size, 1000);
    assert.ok((store as unknown as { rows: unknown[] }).rows.length <= 2 * 1000 + 1024);
  });
});
