/**
 * Builders of Azure ML data-collector lines (reference §4.2) for tests and the predictions benchmark:
 * CloudEvents-like JSON objects, one per line, `data` an array of rows, batched the way Azure batches
 * requests "sent within short time intervals". Seeded: the same seed gives the same lines.
 */
import { seededRandom } from '../../emulator/core.js';

export interface CollectedRequest {
  clientRequestId?: string;
  correlationId?: string;
  /** epoch ms */
  time: number;
  input: Record<string, unknown>;
  output: Record<string, unknown>;
}

/** One collector line (an object; JSON.stringify it for the blob). */
export function collectorLine(args: {
  collection: string;
  deployment?: string;
  time: number;
  rows: unknown[];
  correlationId?: string;
  clientRequestId?: string;
  extra?: Record<string, unknown>;
}): Record<string, unknown> {
  return {
    specversion: '1.0',
    id: `evt-${args.collection}-${args.time}-${args.correlationId ?? 'x'}`,
    source: `/subscriptions/0000/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/onlineEndpoints/ep/deployments/${args.deployment ?? 'blue'}`,
    type: `azureml.inference.${args.collection}`,
    datacontenttype: 'application/json',
    time: new Date(args.time).toISOString(),
    data: args.rows,
    contentrange: 'bytes 0-99/100',
    ...(args.correlationId !== undefined ? { correlationid: args.correlationId, xrequestid: args.correlationId } : {}),
    ...(args.clientRequestId !== undefined ? { headers: { 'x-ms-client-request-id': args.clientRequestId } } : {}),
    modelversion: 'default',
    collectdatatype: 'pandas.core.frame.DataFrame',
    agent: 'azureml-ai-monitoring/1.0.0',
    ...args.extra,
  };
}

/** One line per request (no batching): inputs and outputs lines share the request's ids. */
export function linesPerRequest(reqs: readonly CollectedRequest[], deployment = 'blue'): { inputs: string; outputs: string } {
  const inputs: string[] = [];
  const outputs: string[] = [];
  for (const r of reqs) {
    const ids = { ...(r.correlationId !== undefined ? { correlationId: r.correlationId } : {}), ...(r.clientRequestId !== undefined ? { clientRequestId: r.clientRequestId } : {}) };
    inputs.push(JSON.stringify(collectorLine({ collection: 'model_inputs', deployment, time: r.time, rows: [r.input], ...ids })));
    outputs.push(JSON.stringify(collectorLine({ collection: 'model_outputs', deployment, time: r.time, rows: [r.output], ...ids })));
  }
  return { inputs: inputs.join('\n') + '\n', outputs: outputs.join('\n') + '\n' };
}

/**
 * Azure-style batching: requests within `windowMs` of a batch's first go into one line; each row carries
 * its request's ids as columns (`correlationid`, `x-ms-client-request-id`) — Azure's advice for batched
 * rows — unless `rowIds` is false (then only the line's ids, those of the batch's first request).
 */
export function batchedLines(reqs: readonly CollectedRequest[], opts: { windowMs: number; deployment?: string; rowIds?: boolean }): { inputs: string; outputs: string; lines: number } {
  const sorted = [...reqs].sort((a, b) => a.time - b.time);
  const inputs: string[] = [];
  const outputs: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    const first = sorted[i]!;
    const batch: CollectedRequest[] = [];
    while (i < sorted.length && sorted[i]!.time - first.time <= opts.windowMs) batch.push(sorted[i++]!);
    const cols = (r: CollectedRequest) =>
      opts.rowIds === false ? {} : { ...(r.correlationId !== undefined ? { correlationid: r.correlationId } : {}), ...(r.clientRequestId !== undefined ? { 'x-ms-client-request-id': r.clientRequestId } : {}) };
    const ids = { ...(first.correlationId !== undefined ? { correlationId: first.correlationId } : {}), ...(first.clientRequestId !== undefined ? { clientRequestId: first.clientRequestId } : {}) };
    inputs.push(JSON.stringify(collectorLine({ collection: 'model_inputs', deployment: opts.deployment, time: first.time, rows: batch.map((r) => ({ ...cols(r), ...r.input })), ...ids })));
    outputs.push(JSON.stringify(collectorLine({ collection: 'model_outputs', deployment: opts.deployment, time: first.time, rows: batch.map((r) => ({ ...cols(r), ...r.output })), ...ids })));
  }
  return { inputs: inputs.join('\n') + '\n', outputs: outputs.join('\n') + '\n', lines: inputs.length };
}

const CATEGORIES = ['grocery', 'online', 'travel', 'fuel', 'restaurant'];

/**
 * Seeded mirrored traffic: `n` card transactions answered by a baseline model and by a candidate that
 * flips the baseline's label with probability `flip` (and shifts the score by `scoreShift`). Returns
 * each side's requests; the candidate sees the same requests (mirrored) 0–`lagMs` ms later.
 */
export function mirroredTraffic(args: { n: number; seed: number; flip: number; scoreShift?: number; startMs: number; ratePerSecond?: number; lagMs?: number; ids?: 'both' | 'correlation' | 'none' }): { baseline: CollectedRequest[]; candidate: CollectedRequest[] } {
  const rng = seededRandom(args.seed);
  const baseline: CollectedRequest[] = [];
  const candidate: CollectedRequest[] = [];
  const gap = 1000 / (args.ratePerSecond ?? 50);
  let t = args.startMs;
  for (let i = 0; i < args.n; i++) {
    t += gap * -Math.log(1 - rng());
    const input = { amount: Math.round(rng() * 500000) / 100, merchantCategory: CATEGORIES[Math.floor(rng() * CATEGORIES.length)]!, cardPresent: rng() < 0.6, hour: Math.floor(rng() * 24), txn: Math.floor(rng() * 1e12) };
    const score = Math.min(1, Math.max(0, rng() ** 3));
    const isFraud = score > 0.5;
    const flipped = rng() < args.flip;
    const cScore = Math.min(1, Math.max(0, score + (args.scoreShift ?? 0) + (rng() - 0.5) * 0.02));
    const ids = args.ids ?? 'both';
    const idFields = { ...(ids !== 'none' ? { correlationId: `corr-${args.seed}-${i}` } : {}), ...(ids === 'both' ? { clientRequestId: `client-${args.seed}-${i}` } : {}) };
    const time = Math.round(t);
    baseline.push({ ...idFields, time, input, output: { isFraud, fraudProbability: score } });
    candidate.push({ ...idFields, time: time + Math.floor(rng() * (args.lagMs ?? 50)), input, output: { isFraud: flipped ? !isFraud : isFraud, fraudProbability: cScore } });
  }
  return { baseline, candidate };
}
