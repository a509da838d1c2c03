// Measures what the traffic log costs: heap per row at its default bound (200,000 rows) and how long the
// judge's summarize query takes over them. Not a test; run by hand and copy the figures to emulator/README.md:
//   node --expose-gc --import tsx test/emulator/traffic-log-memory.ts [rows]
import { randomUUID } from 'node:crypto';
import { runKql } from '../../emulator/kql/evaluate.js';
import { DEFAULT_TRAFFIC_LOG_OPTIONS, logCatalog, trafficLogRow, TrafficLogStore } from '../../emulator/log-tables.js';
import type { EndpointRecord } from '../../emulator/state.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const rows = Number(process.argv[2] ?? DEFAULT_TRAFFIC_LOG_OPTIONS.maxRows);
const endpoint = {
  subscriptionId: '00000000-0000-4000-8000-000000000001',
  resourceGroup: 'rg-glidepath',
  workspace: 'ws-glidepath',
  name: 'fraud-ep',
  location: 'eastus',
  authMode: 'Key',
} as EndpointRecord;

gc();
const before = process.memoryUsage().heapUsed;
const store = new TrafficLogStore({ maxRows: rows, maxAgeMs: 24 * 3_600_000 });
const now = Date.now();
for (let i = 0; i < rows; i++) {
  const mirrored = i % 5 === 0;
  store.append(
    trafficLogRow({
      endpoint,
      deployment: mirrored ? 'green' : 'blue',
      receivedAt: now - (rows - i) * 10,
      method: 'POST',
      userAgent: 'python-requests/2.31.0',
      clientRequestId: randomUUID(),
      requestId: mirrored ? `${randomUUID()}-mirror` : randomUUID(),
      responseCode: i % 97 === 0 ? 424 : 200,
      modelStatusCode: i % 97 === 0 ? 500 : 200,
      requestBytes: 310 + (i % 40),
      responseBytes: 60,
      totalMs: 4 + (i % 50),
      requestMs: 0.2,
      responseMs: 3 + (i % 50),
    }),
    now,
  );
}
gc();
const after = process.memoryUsage().heapUsed;
const mib = (after - before) / 2 ** 20;
const t0 = performance.now();
const result = runKql(
  `AmlOnlineEndpointTrafficLog
| where TimeGenerated > ago(1h) and EndpointName == "fraud-ep"
| summarize requests = count(), errors = countif(ResponseCode >= 500 or ModelStatusCode >= 500), slow = countif(TotalDurationMs > 40),
            percentiles(TotalDurationMs, 50, 99) by DeploymentName, bin(TimeGenerated, 1m)`,
  logCatalog(store, now),
  { now },
);
const queryMs = performance.now() - t0;
console.log(
  JSON.stringify({
    node: process.version,
    rows: store.size,
    heapMiB: Number(mib.toFixed(1)),
    bytesPerRow: Math.round((after - before) / store.size),
    rowsPerMiB: Math.round(store.size / mib),
    judgeQueryMs: Math.round(queryMs),
    resultRows: result.table.rows.length,
  }),
);
