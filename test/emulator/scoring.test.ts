// The scoring data plane: live split, mirror share, pinning, a slow shadow that must not slow the primary,
// and the status codes Azure answers (401, 404, 408, 424, 429).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import { generateTraffic, type Emulator } from '../../emulator/index.js';
import { latencyPercentile } from '../../emulator/metrics.js';
import { seededRandom } from '../../emulator/core.js';
import { randomTransaction } from '../../emulator/traffic.js';
import { aDeployment, anEndpointWith, armClient, POLL, RG, score, setTraffic, startTestEmulator, TX, WS } from './support.js';

describe('scoring: split, mirror and pinning', () => {
  let emu: Emulator;
  let client: AzureMachineLearningWorkspaces;
  let key = '';

  before(async () => {
    emu = await startTestEmulator({ seed: 7 });
    client = armClient(emu);
    key = await anEndpointWith(client, 'split-ep', { blue: 'azureml:fraud-detector:1', green: 'azureml:fraud-detector:2', shadow: 'azureml:fraud-detector:2' }, { capacity: 2, maxConcurrent: 64 });
  });
  after(async () => {
    await emu.close();
  });

  test('2,000+ requests at 90/10 with a 20% mirror: split and mirror share each within ±3 points', async (t) => {
    await setTraffic(client, 'split-ep', { blue: 90, green: 10 }, { shadow: 20 });
    const before = emu.requestLog().length;
    const result = await generateTraffic({ url: emu.url, endpoint: 'split-ep', key, rps: 400, durationMs: 5500, seed: 3, caCertPem: emu.caCertPem });
    assert.ok(result.sent >= 2000, `sent ${result.sent}`);
    assert.equal(result.statusCounts['200'], result.completed, JSON.stringify(result.statusCounts));
    await new Promise((r) => setTimeout(r, 300)); // let the last mirrored copies finish
    const log = emu.requestLog().slice(before);
    const primary = log.filter((r) => !r.mirrored);
    const mirrored = log.filter((r) => r.mirrored);
    assert.equal(primary.length, result.completed);
    const greenShare = (primary.filter((r) => r.deployment === 'green').length / primary.length) * 100;
    const blueShare = (primary.filter((r) => r.deployment === 'blue').length / primary.length) * 100;
    const mirrorShare = (mirrored.length / primary.length) * 100;
    t.diagnostic(`${primary.length} requests: blue ${blueShare.toFixed(2)}%, green ${greenShare.toFixed(2)}%, mirrored ${mirrorShare.toFixed(2)}% (${result.achievedRps.toFixed(0)} req/s achieved)`);
    assert.ok(Math.abs(greenShare - 10) <= 3, `green share ${greenShare.toFixed(2)}%`);
    assert.ok(Math.abs(blueShare - 90) <= 3, `blue share ${blueShare.toFixed(2)}%`);
    assert.ok(Math.abs(mirrorShare - 20) <= 3, `mirror share ${mirrorShare.toFixed(2)}%`);
    assert.ok(mirrored.every((r) => r.deployment === 'shadow'));
    assert.deepEqual(Object.keys(result.deploymentCounts).sort(), ['blue', 'green'], 'the shadow never answers the client');
  });

  test('pinned requests go to the named deployment, even at 0% or to the shadow, and are never mirrored', async () => {
    await setTraffic(client, 'split-ep', { blue: 100, green: 0 }, { shadow: 50 });
    const before = emu.requestLog().length;
    for (let i = 0; i < 150; i++) {
      const dep = i % 3 === 0 ? 'green' : i % 3 === 1 ? 'blue' : 'shadow';
      const r = await score(emu, 'split-ep', key, { deployment: dep });
      assert.equal(r.status, 200);
      assert.equal(r.headers['azureml-model-deployment'], dep);
    }
    await new Promise((r) => setTimeout(r, 200));
    const log = emu.requestLog().slice(before);
    assert.equal(log.length, 150);
    assert.ok(log.every((r) => r.pinned && !r.mirrored));
  });
});

describe('scoring: a slow mirror target', () => {
  test('does not slow the primary answers', async () => {
    const emu = await startTestEmulator({ provisionTimeMs: 50, seed: 11 });
    try {
      const client = armClient(emu);
      const key = await anEndpointWith(client, 'shadow-ep', { blue: 'azureml:fraud-detector:1', slowpoke: 'azureml:fraud-detector:3' }, { maxConcurrent: 4 });
      emu.faults.setBehaviour('slowpoke', { addedLatencyMs: 400 });
      const measure = async (): Promise<number[]> => {
        const lat: number[] = [];
        for (let i = 0; i < 120; i++) {
          const t = performance.now();
          const r = await score(emu, 'shadow-ep', key);
          lat.push(performance.now() - t);
          assert.equal(r.status, 200);
          assert.equal(r.headers['azureml-model-deployment'], 'blue');
        }
        return lat;
      };
      await setTraffic(client, 'shadow-ep', { blue: 100 });
      await measure(); // warm up
      const without = await measure();
      await setTraffic(client, 'shadow-ep', { blue: 100 }, { slowpoke: 50 });
      const before = emu.requestLog().length;
      const withMirror = await measure();
      await new Promise((r) => setTimeout(r, 900));
      const shadowAnswers = emu.requestLog().slice(before).filter((r) => r.mirrored);
      assert.ok(shadowAnswers.length > 20, `mirrored ${shadowAnswers.length}`);
      const shadowServed = shadowAnswers.filter((r) => r.statusCode === 200);
      assert.ok(shadowServed.length > 0 && shadowServed.every((r) => r.latencyMs >= 400), 'the shadow really was slow');
      const p50 = (xs: number[]): number => latencyPercentile(xs, 50);
      const p99 = (xs: number[]): number => latencyPercentile(xs, 99);
      assert.ok(Math.max(...withMirror) < 400, `a primary answer waited for the shadow: max ${Math.max(...withMirror).toFixed(1)} ms`);
      assert.ok(p50(withMirror) <= p50(without) * 2 + 3, `p50 ${p50(without).toFixed(2)} → ${p50(withMirror).toFixed(2)} ms`);
      assert.ok(p99(withMirror) <= p99(without) * 3 + 10, `p99 ${p99(without).toFixed(2)} → ${p99(withMirror).toFixed(2)} ms`);
    } finally {
      await emu.close();
    }
  });
});

describe('scoring: status codes', () => {
  let emu: Emulator;
  let client: AzureMachineLearningWorkspaces;
  let key = '';
  before(async () => {
    emu = await startTestEmulator({ provisionTimeMs: 50 });
    client = armClient(emu);
    key = await anEndpointWith(client, 'codes-ep', { blue: 'azureml:fraud-detector:1', brittle: 'azureml:fraud-detector:4', wrong: 'azureml:fraud-detector:5' });
    await client.onlineDeployments.beginCreateOrUpdateAndWait(RG, WS, 'codes-ep', 'tight', aDeployment('azureml:fraud-detector:3', { maxConcurrent: 1, capacity: 1 }), POLL);
    await client.onlineDeployments.beginCreateOrUpdateAndWait(RG, WS, 'codes-ep', 'hasty', aDeployment('azureml:fraud-detector:1', { requestTimeout: 'PT0.2S' }), POLL);
    await setTraffic(client, 'codes-ep', { blue: 100 });
  });
  after(async () => {
    await emu.close();
  });

  test('401 without a valid key', async () => {
    assert.equal((await score(emu, 'codes-ep', '')).status, 401);
    assert.equal((await score(emu, 'codes-ep', 'wrong')).status, 401);
  });

  test('404 for an unknown endpoint or an unknown pinned deployment', async () => {
    assert.equal((await score(emu, 'nope-ep', key)).status, 404);
    assert.equal((await score(emu, 'codes-ep', key, { deployment: 'nobody' })).status, 404);
  });

  test('424 with the model error headers when the model code fails', async () => {
    const far = await score(emu, 'codes-ep', key, { deployment: 'brittle', body: { transactions: [{ ...TX, distanceFromHomeKm: 5000 }] } });
    assert.equal(far.status, 424);
    assert.equal(far.headers['ms-azureml-model-error-statuscode'], '500');
    assert.ok(far.headers['ms-azureml-model-error-reason']);
    assert.match(far.text, /outside training range/);
    const ok = await score(emu, 'codes-ep', key, { deployment: 'brittle' });
    assert.equal(ok.status, 200);
    const bad = await score(emu, 'codes-ep', key, { body: { rows: [] } });
    assert.equal(bad.status, 424);
    assert.equal(bad.headers['ms-azureml-model-error-statuscode'], '400');
  });

  test('the wrong model version really predicts differently', async () => {
    const rand = seededRandom(2);
    const body = { transactions: Array.from({ length: 100 }, () => randomTransaction(rand)) };
    const flagged = async (deployment: string): Promise<number> =>
      (JSON.parse((await score(emu, 'codes-ep', key, { deployment, body })).text) as { predictions: { isFraud: boolean }[] }).predictions.filter((p) => p.isFraud).length;
    const good = await flagged('blue');
    const wrong = await flagged('wrong');
    assert.ok(good <= 5, `baseline flags ${good} of 100`);
    assert.ok(wrong >= 20, `the wrong version flags ${wrong} of 100`);
  });

  test('408 when the model takes longer than the request timeout', async () => {
    emu.faults.setBehaviour('hasty', { addedLatencyMs: 400 });
    const r = await score(emu, 'codes-ep', key, { deployment: 'hasty' });
    assert.equal(r.status, 408);
    emu.faults.setBehaviour('hasty', { addedLatencyMs: 0 });
  });

  test('429 "Too many pending requests" past 2 × maxConcurrentRequestsPerInstance × instances', async () => {
    emu.faults.setBehaviour('tight', { addedLatencyMs: 300 });
    const answers = await Promise.all(Array.from({ length: 8 }, () => score(emu, 'codes-ep', key, { deployment: 'tight' })));
    emu.faults.setBehaviour('tight', { addedLatencyMs: 0 });
    const codes = answers.map((a) => a.status).sort();
    assert.equal(codes.filter((c) => c === 200).length, 2, codes.join(','));
    assert.equal(codes.filter((c) => c === 429).length, 6);
    assert.match(answers.find((a) => a.status === 429)?.text ?? '', /Too many pending requests/);
  });

  test('the leaky version runs out of memory: its container dies (502) and is restarted', async () => {
    await client.onlineDeployments.beginCreateOrUpdateAndWait(RG, WS, 'codes-ep', 'leaky', aDeployment('azureml:fraud-detector:6'), POLL);
    const body = { transactions: Array.from({ length: 100 }, () => TX) };
    const statuses: number[] = [];
    for (let i = 0; i < 20 && !statuses.includes(502); i++) statuses.push((await score(emu, 'codes-ep', key, { deployment: 'leaky', body })).status);
    assert.ok(statuses.includes(502), statuses.join(','));
    assert.ok(statuses.indexOf(502) >= 3, 'it served until the heap ran out');
    let status = 502;
    for (let i = 0; i < 40 && status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await score(emu, 'codes-ep', key, { deployment: 'leaky' })).status;
    }
    assert.equal(status, 200, 'the restarted container serves again');
    const logs = await client.onlineDeployments.getLogs(RG, WS, 'codes-ep', 'leaky', { tail: 20 });
    assert.match(logs.content ?? '', /memory limit/);
  });
});
