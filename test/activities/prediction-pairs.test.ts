// readPredictionPairs against a real Azurite (Microsoft's Azure Storage emulator) with @azure/storage-blob:
// fixture lines in Azure ML's data-collector format under Azure's path layout, read back through the
// activity and paired; each join key, batched and malformed lines, missing hour folders, a store that is
// unreachable, forbidden or has no such container, and a result holding no customer value.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import { AZURITE_ACCOUNT, AzureClientFactory } from '../../activities/azure-clients.js';
import { createActivities } from '../../activities/create-activities.js';
import { createPredictionActivities } from '../../activities/predictions.js';
import type { ReadPredictionPairsInput } from '../../activities/types.js';
import { ErrorType } from '../../domain/errors.js';
import { emulatorCredential } from '../../emulator/index.js';
import { startAzuriteBlob, type AzuriteBlob } from '../support/azurite-process.js';
import { batchedLines, linesPerRequest, mirroredTraffic, type CollectedRequest } from '../support/collected-lines.js';
import { freePort } from '../support/net.js';

const CONTAINER = 'azureml-blobstore-7f1c0a43';
const T0 = Date.parse('2026-11-26T09:40:00Z'); // the window 09:40–10:20 touches the 09 and 10 hour folders
const WINDOW = { start: '2026-11-26T09:40:00.000Z', end: '2026-11-26T10:20:00.000Z' };
const factory = new AzureClientFactory({ cloud: 'emulator', url: 'https://127.0.0.1:9', caCertPem: '', credential: emulatorCredential() });

let az: AzuriteBlob;
let container: ContainerClient;

before(async () => {
  az = await startAzuriteBlob();
  container = az.client.getContainerClient(CONTAINER);
  await container.create();
});
after(async () => {
  await az?.stop();
});

const folder = (endpoint: string, deployment: string, collection: string, t: number) => {
  const d = new Date(t);
  const two = (n: number) => String(n).padStart(2, '0');
  return `modelDataCollector/${endpoint}/${deployment}/${collection}/${d.getUTCFullYear()}/${two(d.getUTCMonth() + 1)}/${two(d.getUTCDate())}/${two(d.getUTCHours())}/`;
};

/** Writes each request's lines into the hour folder of its time, one blob per (side, collection, hour, instance). */
async function writeSide(endpoint: string, deployment: string, lines: { inputs: string; outputs: string }, instance = 'instance-0'): Promise<void> {
  for (const [collection, text] of [['model_inputs', lines.inputs], ['model_outputs', lines.outputs]] as const) {
    const byFolder = new Map<string, string[]>();
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      let t = NaN;
      try {
        t = Date.parse((JSON.parse(line) as { time?: string }).time ?? '');
      } catch {
        // malformed: below
      }
      if (!Number.isFinite(t)) t = T0; // a fixture line without a time goes into the first folder
      const f = folder(endpoint, deployment, collection, t);
      byFolder.set(f, [...(byFolder.get(f) ?? []), line]);
    }
    for (const [f, ls] of byFolder) {
      const body = ls.join('\n') + '\n';
      await container.getBlockBlobClient(`${f}${instance}.jsonl`).upload(body, Buffer.byteLength(body));
    }
  }
}

const input = (endpoint: string, patch: Partial<ReadPredictionPairsInput> = {}): ReadPredictionPairsInput => ({
  endpoint: { subscriptionId: 's', resourceGroup: 'rg', workspace: 'ws', endpoint },
  baseline: 'blue',
  candidate: 'green',
  store: { blobEndpoint: az.blobEndpoint, container: CONTAINER },
  window: WINDOW,
  label: 'isFraud',
  score: 'fraudProbability',
  slices: ['merchantCategory'],
  ...patch,
});

const activities = () => createPredictionActivities(factory);

async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the activity to fail');
}

describe('readPredictionPairs on Azurite', () => {
  test('joins by client request id, by correlation id and by payload hash across two hour folders, and returns aggregates only', async () => {
    const t = mirroredTraffic({ n: 600, seed: 11, flip: 0.05, startMs: T0 + 60_000, ratePerSecond: 0.3 }); // 600 requests over ~33 min: both hours
    const third = (r: CollectedRequest, i: number, side: 'b' | 'c'): CollectedRequest =>
      i % 3 === 0 ? r : i % 3 === 1 ? { ...r, clientRequestId: undefined } : { ...r, clientRequestId: undefined, correlationId: `${side}-own-${i}` };
    await writeSide('ep-keys', 'blue', linesPerRequest(t.baseline.map((r, i) => third(r, i, 'b'))));
    await writeSide('ep-keys', 'green', linesPerRequest(t.candidate.map((r, i) => third(r, i, 'c')), 'green'));
    const r = await activities().readPredictionPairs(input('ep-keys'));
    assert.equal(r.read.folders, 8, '2 hours × 2 sides × 2 collections');
    assert.equal(r.read.missingFolders, 0);
    assert.equal(r.read.blobs, 8);
    assert.equal(r.summary.pairs.joined, 600);
    assert.deepEqual([r.summary.pairs.byClientRequestId, r.summary.pairs.byCorrelationId, r.summary.pairs.byPayloadHash], [200, 200, 200]);
    const flips = t.candidate.filter((c, i) => c.output.isFraud !== t.baseline[i]!.output.isFraud).length;
    assert.equal(r.summary.labels.disagreements, flips);
    assert.ok(flips > 15 && flips < 50, `seeded flips ${flips}`);
    assert.equal(r.summary.slices[0]!.values.reduce((a, v) => a + v.pairs, 0), 600);
    const json = JSON.stringify(r);
    for (const req of t.baseline.slice(0, 100)) {
      assert.ok(!json.includes(String(req.input.txn)) && !json.includes(String(req.input.amount)), 'an input value is in the result');
      assert.ok(!json.includes(String(req.output.fraudProbability)), 'a score is in the result');
    }
  });

  test('a blob of megabytes is read whole as it streams in: lines and multi-byte characters split across chunks, and a last line without a newline', async () => {
    const categories = ['café', 'épicerie fine', '食料品', 'Ωmega 🛒'];
    const t = mirroredTraffic({ n: 3000, seed: 23, flip: 0.05, startMs: T0 + 60_000, ratePerSecond: 3 }); // ~17 min, all in the 09 hour
    // Inputs dense in 2-, 3- and 4-byte characters, so that chunk boundaries fall inside characters.
    const withCategory = (reqs: CollectedRequest[]) => reqs.map((r, i) => ({ ...r, input: { ...r.input, merchantCategory: categories[i % categories.length]!, note: `食料品é🛒${i}`.repeat(40) } }));
    let bytes = 0;
    for (const [deployment, reqs] of [['blue', withCategory(t.baseline)], ['green', withCategory(t.candidate)]] as const) {
      const lines = linesPerRequest(reqs, deployment);
      for (const [collection, text] of [['model_inputs', lines.inputs], ['model_outputs', lines.outputs]] as const) {
        const body = text.replace(/\n$/, ''); // no newline after the last line
        bytes += Buffer.byteLength(body);
        await container.getBlockBlobClient(`${folder('ep-big', deployment, collection, T0 + 60_000)}instance-0.jsonl`).upload(body, Buffer.byteLength(body));
      }
    }
    assert.ok(bytes > 6 * 2 ** 20, `fixture of ${bytes} bytes`);
    const r = await activities().readPredictionPairs(input('ep-big'));
    assert.equal(r.read.bytes, bytes);
    assert.equal(r.read.lines, 4 * 3000);
    assert.deepEqual(Object.values(r.read.skipped), [0, 0, 0, 0, 0, 0, 0]);
    assert.equal(r.summary.pairs.joined, 3000);
    assert.equal(r.summary.pairs.idConflicts, 0, 'a character decoded wrong would make the two copies of an input differ');
    assert.deepEqual(r.summary.slices[0]!.values.map((v) => [v.value, v.pairs]).sort(), categories.map((c) => [c, 750]).sort());
  });

  test('the worker registers it: createActivities(deps).readPredictionPairs reads the same pairs', async () => {
    const t = mirroredTraffic({ n: 30, seed: 17, flip: 0, startMs: T0 + 60_000 });
    await writeSide('ep-registered', 'blue', linesPerRequest(t.baseline));
    await writeSide('ep-registered', 'green', linesPerRequest(t.candidate, 'green'));
    const r = await createActivities({ azure: factory }).readPredictionPairs(input('ep-registered'));
    assert.equal(r.summary.pairs.joined, 30);
  });

  test('lists only the hour folders the window touches: lines of other hours are never read', async () => {
    const inside = mirroredTraffic({ n: 20, seed: 12, flip: 0, startMs: T0 + 60_000 });
    const before = mirroredTraffic({ n: 20, seed: 13, flip: 1, startMs: T0 - 2 * 3_600_000 });
    await writeSide('ep-hours', 'blue', linesPerRequest([...inside.baseline, ...before.baseline]));
    await writeSide('ep-hours', 'green', linesPerRequest([...inside.candidate, ...before.candidate], 'green'));
    const r = await activities().readPredictionPairs(input('ep-hours'));
    assert.equal(r.read.lines, 80, '20 requests × 2 sides × inputs and outputs, none of the 07:xx lines');
    assert.equal(r.summary.pairs.joined, 20);
    assert.equal(r.summary.labels.disagreements, 0);
    assert.equal(r.read.missingFolders, 4, 'no 10:xx folder for either side');
  });

  test('batched lines (rows with their id columns) and malformed lines: rows paired, bad lines skipped and counted by reason', async () => {
    const t = mirroredTraffic({ n: 200, seed: 14, flip: 0.1, startMs: T0 + 60_000, ratePerSecond: 20 });
    const b = batchedLines(t.baseline, { windowMs: 500 });
    const c = batchedLines(t.candidate, { windowMs: 300, deployment: 'green' });
    const junk = ['{"specversion":"1.0","data":[{"isFraud":tru', '[]', JSON.stringify({ type: 'azureml.inference.model_outputs', data: [{ isFraud: true }] })].join('\n');
    await writeSide('ep-batched', 'blue', { inputs: b.inputs, outputs: `${b.outputs}${junk}\n` });
    await writeSide('ep-batched', 'green', c);
    const r = await activities().readPredictionPairs(input('ep-batched'));
    assert.ok(b.lines < 150 && c.lines < 180, `lines batched requests (${b.lines}, ${c.lines} lines for 200)`);
    assert.equal(r.summary.pairs.joined, 200);
    assert.equal(r.summary.pairs.byClientRequestId, 200);
    assert.deepEqual({ malformed: r.read.skipped.malformed_json, notObject: r.read.skipped.not_an_object, noTime: r.read.skipped.missing_time }, { malformed: 1, notObject: 1, noTime: 1 });
    assert.equal(r.summary.labels.disagreements, t.candidate.filter((x, i) => x.output.isFraud !== t.baseline[i]!.output.isFraud).length);
  });

  test('a label path that is not in the responses is reported with the path and the responses shape', async () => {
    const t = mirroredTraffic({ n: 10, seed: 15, flip: 0, startMs: T0 + 60_000 });
    await writeSide('ep-path', 'blue', linesPerRequest(t.baseline));
    await writeSide('ep-path', 'green', linesPerRequest(t.candidate, 'green'));
    const r = await activities().readPredictionPairs(input('ep-path', { label: '$.predictions[0].label' }));
    assert.equal(r.summary.labels.compared, 0);
    const p = r.summary.pathProblems.find((x) => x.field === 'label' && x.side === 'candidate');
    assert.deepEqual(p, { field: 'label', path: '$.predictions[0].label', side: 'candidate', problem: 'missing', count: 10, exampleShape: '{isFraud: boolean, fraudProbability: number}' });
  });

  test('a deployment without collected data: every folder of it counted missing, nothing paired, no failure', async () => {
    const t = mirroredTraffic({ n: 10, seed: 16, flip: 0, startMs: T0 + 60_000 });
    await writeSide('ep-missing', 'blue', linesPerRequest(t.baseline));
    const r = await activities().readPredictionPairs(input('ep-missing'));
    assert.equal(r.read.missingFolders, 6, "baseline's 10:xx folders and all 4 of the candidate's");
    assert.ok(r.read.missingFolderExamples.some((f) => f.includes('/green/model_outputs/2026/11/26/09/')));
    assert.equal(r.summary.pairs.joined, 0);
    assert.deepEqual(r.summary.pairs.unjoined, { baseline: 10, candidate: 0 });
  });

  test('an unreachable store fails with CollectedDataUnavailable (unreachable, retryable)', async () => {
    const port = await freePort();
    const f = await failureOf(activities().readPredictionPairs(input('ep-keys', { store: { blobEndpoint: `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`, container: CONTAINER } })));
    assert.equal(f.type, ErrorType.CollectedDataUnavailable);
    assert.equal(f.nonRetryable, false);
    assert.match(f.message, /failed \(unreachable/);
    assert.deepEqual((f.details?.[0] as { reason: string }).reason, 'unreachable');
  });

  test('a forbidden store (wrong key) fails with CollectedDataUnavailable (forbidden, with the role to grant)', async () => {
    const wrong = createPredictionActivities(factory, {
      blobService: (url) => new BlobServiceClient(url, new StorageSharedKeyCredential(AZURITE_ACCOUNT, Buffer.from('not the key').toString('base64')), { retryOptions: { maxTries: 1 } }),
    });
    const f = await failureOf(wrong.readPredictionPairs(input('ep-keys')));
    assert.equal(f.type, ErrorType.CollectedDataUnavailable);
    assert.match(f.message, /forbidden, HTTP 403.*Storage Blob Data Reader/);
    assert.equal(f.nonRetryable, true);
  });

  test('no such container: CollectedDataUnavailable (not_found) saying data collection may be off', async () => {
    const f = await failureOf(activities().readPredictionPairs(input('ep-keys', { store: { blobEndpoint: az.blobEndpoint, container: 'no-such-container' } })));
    assert.equal(f.type, ErrorType.CollectedDataUnavailable);
    assert.match(f.message, /not_found, HTTP 404.*data collection/);
  });

  test('bad input is refused naming the field (InvalidPlan, non-retryable): a SAS in the URL, a wildcard path, an empty window', async () => {
    const cases: [Partial<ReadPredictionPairsInput>, RegExp][] = [
      [{ store: { blobEndpoint: `${az.blobEndpoint}?sv=2024&sig=abc`, container: CONTAINER } }, /store\.blobEndpoint: .*SAS token/],
      [{ label: '$.predictions[*]' }, /label: field path .*wildcards/],
      [{ window: { start: WINDOW.end, end: WINDOW.start } }, /window: end must be after start/],
    ];
    for (const [patch, msg] of cases) {
      const f = await failureOf(activities().readPredictionPairs(input('ep-keys', patch)));
      assert.equal(f.type, ErrorType.InvalidPlan);
      assert.equal(f.nonRetryable, true);
      assert.match(f.message, msg);
    }
  });
});
