// Child process of bench/predictions.ts: one readPredictionPairs analysis, as a worker would run it, in a
// process of its own so that its memory is the analysis's and not the fixture generator's. Prints one JSON
// line: wall time, CPU time of this process, resident set before and at peak (sampled every 5 ms), peak heap, and what was read.
//   node --import tsx bench/lib/predictions-read.ts <blobEndpoint> <container> <repeats>
import { AzureClientFactory } from '../../activities/azure-clients.js';
import { createPredictionActivities } from '../../activities/predictions.js';
import { emulatorCredential } from '../../emulator/index.js';

const [blobEndpoint, container, repeatsText] = process.argv.slice(2);
if (!blobEndpoint || !container) {
  console.error('usage: predictions-read.ts <blobEndpoint> <container> [repeats]');
  process.exit(2);
}
const factory = new AzureClientFactory({ cloud: 'emulator', url: 'https://127.0.0.1:9', caCertPem: '', credential: emulatorCredential() });
const acts = createPredictionActivities(factory);
const input = {
  endpoint: { subscriptionId: 's', resourceGroup: 'rg', workspace: 'ws', endpoint: 'ep' },
  baseline: 'blue',
  candidate: 'green',
  store: { blobEndpoint, container },
  window: { start: '2026-11-26T10:00:00Z', end: '2026-11-26T11:00:00Z' },
  label: 'isFraud',
  score: 'fraudProbability',
  slices: ['merchantCategory'],
};
const out = [];
for (let rep = 0; rep < Number(repeatsText ?? 1); rep++) {
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((r) => setTimeout(r, 200));
  const before = process.memoryUsage();
  let peakRss = before.rss;
  let peakHeap = before.heapUsed;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 5);
  const cpu0 = process.cpuUsage();
  const s = performance.now();
  const r = await acts.readPredictionPairs(input);
  const ms = performance.now() - s;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  const after = process.memoryUsage();
  peakRss = Math.max(peakRss, after.rss);
  peakHeap = Math.max(peakHeap, after.heapUsed);
  out.push({ ms, cpuMs: (cpu.user + cpu.system) / 1000, rssBefore: before.rss, peakRss, heapBefore: before.heapUsed, peakHeap, lines: r.read.lines, blobs: r.read.blobs, bytes: r.read.bytes, joined: r.summary.pairs.joined, timings: r.read.timings });
}
console.log(JSON.stringify(out));
