// The e2e-judge benchmark's traffic generators, in a child process of their own (forked with IPC), so the
// client side of the load (TLS, JSON, timers) does not share the event loop of the emulator and the worker
// it measures. Messages in: { start: { id, url, endpoint, key, rps, seed, caCertPem } } and { stop: id };
// out: { done: id, results: TrafficResult[] } once a stopped generator has finished.
import { generateTraffic, type TrafficResult } from '../../emulator/index.js';

interface Start {
  id: string;
  url: string;
  endpoint: string;
  key: string;
  rps: number;
  seed: number;
  caCertPem: string;
}

const running = new Map<string, AbortController>();

async function run(s: Start): Promise<void> {
  const stop = new AbortController();
  running.set(s.id, stop);
  const results: TrafficResult[] = [];
  // The generator runs at most 10 minutes per call: chain calls until stopped.
  for (let k = 0; !stop.signal.aborted; k++) {
    try {
      results.push(await generateTraffic({ url: s.url, endpoint: s.endpoint, key: s.key, rps: s.rps, durationMs: 600_000, seed: s.seed * 100 + k, caCertPem: s.caCertPem, signal: stop.signal }));
    } catch {
      break;
    }
  }
  running.delete(s.id);
  process.send?.({ done: s.id, results });
}

process.on('message', (m: { start?: Start; stop?: string }) => {
  if (m.start) void run(m.start);
  if (m.stop) running.get(m.stop)?.abort();
});
process.on('disconnect', () => process.exit(0));
