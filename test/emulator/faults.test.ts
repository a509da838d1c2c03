// Each fault knob, and what the unmodified SDK sees when it fires: a RestError, a retry that honours
// Retry-After, a long-running operation's failure message, a slow / failing / crashing deployment.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { isRestError } from '@azure/core-rest-pipeline';
import type { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import type { DeploymentBehaviour, Emulator } from '../../emulator/index.js';
import { aDeployment, anEndpointWith, armClient, POLL, raw, RG, score, setTraffic, startTestEmulator, WS } from './support.js';

describe('fault knobs as the SDK sees them', () => {
  let emu: Emulator;
  let client: AzureMachineLearningWorkspaces;
  let key = '';

  before(async () => {
    emu = await startTestEmulator({ provisionTimeMs: 100 });
    client = armClient(emu);
    key = await anEndpointWith(client, 'faulty-ep', { blue: 'azureml:fraud-detector:1' });
    await setTraffic(client, 'faulty-ep', { blue: 100 });
  });
  after(async () => {
    await emu.close();
  });

  test('a 429 with Retry-After: 1 is retried by the SDK after about a second, then succeeds', async () => {
    emu.resetCallLog();
    emu.faults.failNext({ count: 1, status: 429, retryAfterSeconds: 1 });
    const ep = await client.onlineEndpoints.get(RG, WS, 'faulty-ep');
    assert.equal(ep.name, 'faulty-ep');
    const gets = emu.callLog().filter((c) => c.method === 'GET');
    assert.deepEqual(gets.map((c) => c.status), [429, 200]);
    const gap = Date.parse(gets[1]?.time ?? '') - Date.parse(gets[0]?.time ?? '');
    assert.ok(gap >= 950 && gap < 3000, `retried after ${gap} ms`);
  });

  test('429s that outlast the SDK’s three retries surface as RestError 429', async () => {
    emu.faults.failNext({ count: 4, status: 429, retryAfterSeconds: 0 });
    await assert.rejects(client.onlineEndpoints.get(RG, WS, 'faulty-ep'), (e: unknown) => isRestError(e) && e.statusCode === 429 && e.code === 'TooManyRequests');
  });

  test('a 500 is retried with backoff and the call succeeds', async () => {
    emu.resetCallLog();
    emu.faults.failNext({ count: 1, status: 500 });
    await client.onlineEndpoints.get(RG, WS, 'faulty-ep');
    assert.deepEqual(emu.callLog().map((c) => c.status), [500, 200]);
  });

  test('a 409 is not retried: RestError 409 Conflict', async () => {
    emu.faults.failNext({ count: 1, status: 409, method: 'PUT' });
    await assert.rejects(setTraffic(client, 'faulty-ep', { blue: 100 }), (e: unknown) => isRestError(e) && e.statusCode === 409 && e.code === 'Conflict');
  });

  test('a failing status poll is retried and the long-running operation still completes', async () => {
    emu.faults.failNext({ count: 1, status: 503, retryAfterSeconds: 0, pathIncludes: 'mfeOperationsStatus' });
    const ep = await client.onlineEndpoints.beginUpdateAndWait(RG, WS, 'faulty-ep', { tags: { poll: 'retried' } }, POLL);
    assert.deepEqual(ep.tags, { poll: 'retried' });
  });

  test('failProvisioning: the deployment ends Failed and the SDK reports the long-running operation failure with the code', async () => {
    emu.faults.failProvisioning('green', 'OutOfQuota');
    await assert.rejects(client.onlineDeployments.beginCreateOrUpdateAndWait(RG, WS, 'faulty-ep', 'green', aDeployment('azureml:fraud-detector:2'), POLL), (e: Error) => {
      assert.ok(!isRestError(e));
      assert.match(e.message, /^The long-running operation has failed\. OutOfQuota\. Not enough quota/);
      return true;
    });
    const dep = await client.onlineDeployments.get(RG, WS, 'faulty-ep', 'green');
    assert.equal(dep.properties.provisioningState, 'Failed');
    // The next attempt is not affected.
    const ok = await client.onlineDeployments.beginCreateOrUpdateAndWait(RG, WS, 'faulty-ep', 'green', aDeployment('azureml:fraud-detector:2'), POLL);
    assert.equal(ok.properties.provisioningState, 'Succeeded');
  });

  test('failProvisioning on a scale-out: the PATCH operation fails and the capacity is unchanged', async () => {
    emu.faults.failProvisioning('green', 'ResourceNotReady');
    await assert.rejects(client.onlineDeployments.beginUpdateAndWait(RG, WS, 'faulty-ep', 'green', { sku: { capacity: 4 } }, POLL), /The long-running operation has failed\. ResourceNotReady/);
    const dep = await client.onlineDeployments.get(RG, WS, 'faulty-ep', 'green');
    assert.equal(dep.sku?.capacity, 1);
    assert.equal(dep.properties.provisioningState, 'Failed');
  });

  test('setOperationDuration makes operations slow', async () => {
    emu.faults.setOperationDuration(800);
    const t = performance.now();
    await client.onlineEndpoints.beginUpdateAndWait(RG, WS, 'faulty-ep', { tags: { slow: 'yes' } }, POLL);
    assert.ok(performance.now() - t >= 780);
    emu.faults.setOperationDuration(undefined);
  });

  test('setBehaviour errorRate fails exactly that share of scoring calls with 424', async () => {
    emu.faults.setBehaviour('blue', { errorRate: 0.25 });
    const codes: number[] = [];
    for (let i = 0; i < 40; i++) codes.push((await score(emu, 'faulty-ep', key)).status);
    assert.equal(codes.filter((c) => c === 424).length, 10);
    emu.faults.setBehaviour('blue', { errorRate: 0 });
  });

  test('behaviours set for one endpoint stay there: a same-named deployment elsewhere neither takes them away nor merges into them', async () => {
    emu.faults.setBehaviour('blue', { errorRate: 0.5 }, 'faulty-ep');
    emu.faults.setBehaviour('blue', { crash: true }, 'another-ep');
    const codes: number[] = [];
    for (let i = 0; i < 20; i++) codes.push((await score(emu, 'faulty-ep', key)).status);
    assert.equal(codes.filter((c) => c === 424).length, 10, 'the first endpoint keeps its 50% error rate');
    assert.ok(!codes.some((c) => c === 502), `the other endpoint's crash did not merge in: ${codes.join(',')}`);
    emu.faults.setBehaviour('blue', { errorRate: 0 }, 'faulty-ep');
  });

  test('setBehaviour addedLatencyMs slows a deployment mid-test, and the latency metric follows', async () => {
    emu.faults.setBehaviour('blue', { addedLatencyMs: 120 });
    const t = performance.now();
    const r = await score(emu, 'faulty-ep', key);
    assert.equal(r.status, 200);
    assert.ok(performance.now() - t >= 120);
    assert.ok((emu.requestLog().at(-1)?.latencyMs ?? 0) >= 120);
    emu.faults.setBehaviour('blue', { addedLatencyMs: 0 });
  });

  test('setBehaviour serverErrorRate answers 500 InternalServerError (no model status) on about that share, recorded as 5xx', async () => {
    emu.faults.setBehaviour('blue', { serverErrorRate: 0.5 });
    const before = emu.requestLog().length;
    const replies: { status: number; code?: string; modelStatus?: string }[] = [];
    for (let i = 0; i < 60; i++) {
      const r = await score(emu, 'faulty-ep', key);
      replies.push({ status: r.status, code: (r.json as { error?: { code?: string } } | undefined)?.error?.code, modelStatus: r.headers['ms-azureml-model-error-statuscode'] as string | undefined });
    }
    emu.faults.setBehaviour('blue', { serverErrorRate: 0 });
    const fails = replies.filter((r) => r.status === 500);
    // Binomial(60, 0.5): 30 ± 12 covers > 99.9%.
    assert.ok(fails.length >= 18 && fails.length <= 42, `${fails.length} of 60 answered 500`);
    assert.deepEqual(new Set(replies.map((r) => r.status)), new Set([200, 500]));
    assert.ok(fails.every((r) => r.code === 'InternalServerError' && r.modelStatus === undefined));
    const recorded = emu.requestLog().slice(before);
    assert.equal(recorded.filter((r) => r.statusCode === 500).length, fails.length);
    assert.ok(recorded.filter((r) => r.statusCode === 500).every((r) => r.modelStatusCode === undefined));
    assert.equal((await score(emu, 'faulty-ep', key)).status, 200);
  });

  test('setBehaviour latency, latencyFactor and tail: requests wait the drawn service time before the model runs', async () => {
    // σ 0: every request waits exactly the median (× the factor).
    emu.faults.setBehaviour('blue', { latency: { medianMs: 60, sigma: 0 } });
    let t = performance.now();
    assert.equal((await score(emu, 'faulty-ep', key)).status, 200);
    assert.ok(performance.now() - t >= 59, `took ${performance.now() - t} ms`);
    assert.ok((emu.requestLog().at(-1)?.latencyMs ?? 0) >= 59);
    emu.faults.setBehaviour('blue', { latencyFactor: 2 });
    t = performance.now();
    await score(emu, 'faulty-ep', key);
    assert.ok(performance.now() - t >= 119, `took ${performance.now() - t} ms at ×2`);
    emu.faults.setBehaviour('blue', { latency: { medianMs: 0, sigma: 0 }, latencyFactor: 1, tail: { share: 1, addMs: 80 } });
    t = performance.now();
    await score(emu, 'faulty-ep', key);
    assert.ok(performance.now() - t >= 79, `took ${performance.now() - t} ms with the tail`);
    emu.faults.setBehaviour('blue', { tail: { share: 0, addMs: 0 } });
    t = performance.now();
    await score(emu, 'faulty-ep', key);
    assert.ok(performance.now() - t < 50, 'back to fast once the knobs are off');
  });

  test('a busy emulator host adds nothing to recorded latencies: a modelled service time is recorded as drawn (+ the model\'s compute), an added wait without the timer\'s lateness', async () => {
    const blocked = async (behaviour: DeploymentBehaviour): Promise<{ seen: number; recorded: number }> => {
      emu.faults.setBehaviour('blue', behaviour);
      const before = emu.requestLog().length;
      const t = performance.now();
      const pending = score(emu, 'faulty-ep', key);
      // Once the request waits its 300 ms, block this process's event loop (the emulator runs in it) until 800 ms.
      await new Promise((r) => setTimeout(r, 150));
      while (performance.now() < t + 800) {
        /* busy */
      }
      assert.equal((await pending).status, 200);
      const seen = performance.now() - t;
      const rec = emu.requestLog().slice(before);
      assert.equal(rec.length, 1);
      return { seen, recorded: rec[0]!.latencyMs };
    };
    const modelled = await blocked({ latency: { medianMs: 300, sigma: 0 }, latencyFactor: 1, tail: { share: 0, addMs: 0 } });
    assert.ok(modelled.seen >= 800, `the client waited ${modelled.seen} ms`);
    assert.ok(modelled.recorded >= 300 && modelled.recorded < 320, `recorded ${modelled.recorded} ms: the 300 ms drawn + the model's compute`);
    emu.faults.setBehaviour('blue', { latency: undefined, addedLatencyMs: 300 });
    const added = await blocked({ addedLatencyMs: 300 });
    emu.faults.setBehaviour('blue', { addedLatencyMs: 0 });
    assert.ok(added.seen >= 800, `the client waited ${added.seen} ms`);
    assert.ok(added.recorded >= 299 && added.recorded < 450, `recorded ${added.recorded} ms: the 300 ms wait, not the ~500 ms the timer was late`);
  });

  test('setBehaviour crash kills the container (502) and it restarts once the crash is lifted', async () => {
    emu.faults.setBehaviour('blue', { crash: true });
    assert.equal((await score(emu, 'faulty-ep', key)).status, 502);
    assert.equal((await score(emu, 'faulty-ep', key)).status, 502);
    emu.faults.setBehaviour('blue', { crash: false });
    assert.equal((await score(emu, 'faulty-ep', key)).status, 502, 'the first call after the crash finds the container down and triggers a restart');
    let status = 0;
    for (let i = 0; i < 40 && status !== 200; i++) {
      await new Promise((res) => setTimeout(res, 100));
      status = (await score(emu, 'faulty-ep', key)).status;
    }
    assert.equal(status, 200);
    const logs = await client.onlineDeployments.getLogs(RG, WS, 'faulty-ep', 'blue', { tail: 50 });
    assert.match(logs.content ?? '', /Container exited/);
    assert.match(logs.content ?? '', /Back-off restarting failed container/);
  });
});

describe('fault knobs over HTTP under /_emulator/', () => {
  test('fail-next, behaviour, the call log and clear', async () => {
    const emu = await startTestEmulator({ provisionTimeMs: 20 });
    try {
      const client = armClient(emu);
      const key = await anEndpointWith(client, 'http-ep', { blue: 'azureml:fraud-detector:1' });
      await setTraffic(client, 'http-ep', { blue: 100 });
      const armed = await raw(emu, 'POST', '/_emulator/faults/fail-next', JSON.stringify({ count: 1, status: 409, method: 'PATCH' }));
      assert.equal(armed.status, 200);
      await assert.rejects(client.onlineEndpoints.beginUpdateAndWait(RG, WS, 'http-ep', { tags: {} }, POLL), (e: unknown) => isRestError(e) && e.statusCode === 409);

      await raw(emu, 'POST', '/_emulator/faults/behaviour', JSON.stringify({ deployment: 'blue', errorRate: 1 }));
      assert.equal((await score(emu, 'http-ep', key)).status, 424);
      await raw(emu, 'POST', '/_emulator/faults/clear', '{}');
      assert.equal((await score(emu, 'http-ep', key)).status, 200);

      await raw(emu, 'POST', '/_emulator/faults/fail-provisioning', JSON.stringify({ deployment: 'green', code: 'OutOfCapacity' }));
      await assert.rejects(client.onlineDeployments.beginCreateOrUpdateAndWait(RG, WS, 'http-ep', 'green', aDeployment(), POLL), /OutOfCapacity/);

      const calls = await raw(emu, 'GET', '/_emulator/calls');
      const list = (calls.json as { value: { method: string; path: string; status: number; time: string }[] }).value;
      assert.ok(list.some((c) => c.method === 'PATCH' && c.status === 409));
      assert.ok(list.every((c) => typeof c.time === 'string' && typeof c.path === 'string'));
      assert.equal((await raw(emu, 'DELETE', '/_emulator/calls')).status, 204);
      const after = await raw(emu, 'GET', '/_emulator/calls');
      assert.ok((after.json as { value: unknown[] }).value.length <= 1);
      const bad = await raw(emu, 'POST', '/_emulator/faults/fail-next', JSON.stringify({ status: 418 }));
      assert.equal(bad.status, 400);
      await raw(emu, 'POST', '/_emulator/faults/behaviour', JSON.stringify({ deployment: 'blue', serverErrorRate: 1, latency: { medianMs: 1, sigma: 0.5 }, latencyFactor: 1.25, tail: { share: 0.02, addMs: 300 } }));
      assert.equal((await score(emu, 'http-ep', key)).status, 500);
      const described = (await raw(emu, 'GET', '/_emulator/faults')).json as { behaviours: { deployment: string; latencyFactor?: number; tail?: unknown }[] };
      assert.deepEqual(described.behaviours.map((b) => [b.deployment, b.latencyFactor, b.tail]), [['blue', 1.25, { share: 0.02, addMs: 300 }]]);
      const badSigma = await raw(emu, 'POST', '/_emulator/faults/behaviour', JSON.stringify({ deployment: 'blue', latency: { medianMs: 100, sigma: -1 } }));
      assert.equal(badSigma.status, 400);
      assert.match(JSON.stringify(badSigma.json), /sigma/);
      await raw(emu, 'POST', '/_emulator/faults/clear', '{}');
    } finally {
      await emu.close();
    }
  });
});
