// Every rollout activity, run in MockActivityEnvironment with the unmodified Azure SDK clients against a
// live emulator: what Azure would be asked, what it answers, and what the activity makes of it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeTraffic } from '../../domain/traffic.js';
import type { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { AzureClientFactory } from '../../activities/azure-clients.js';
import { createActivities } from '../../activities/create-activities.js';
import type { RolloutActivities } from '../../activities/types.js';
import type { EndpointRef } from '../../domain/ids.js';
import type { DeploymentSpec } from '../../domain/plan.js';
import { emulatorCredential, generateTraffic, type Emulator } from '../../emulator/index.js';
import { armClient, anEndpointWith, POLL, RG, setTraffic, startTestEmulator, SUB, WS } from '../emulator/support.js';

let emu: Emulator;
let arm: AzureMachineLearningWorkspaces;
let acts: RolloutActivities;
let factory: AzureClientFactory;
let key: string;
const ref = (endpoint: string): EndpointRef => ({ subscriptionId: SUB, resourceGroup: RG, workspace: WS, endpoint });
const spec = (model: string, extra: Partial<DeploymentSpec> = {}): DeploymentSpec => ({
  model,
  instance_type: 'Standard_DS3_v2',
  instance_count: 1,
  request_settings: { request_timeout_ms: 5000, max_concurrent_requests_per_instance: 8 },
  ...extra,
});

/** Runs an activity the way a worker would, with heartbeats recorded. */
async function run<A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<{ result: R; heartbeats: unknown[] }> {
  const env = new MockActivityEnvironment();
  const heartbeats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => heartbeats.push(d));
  const result = (await env.run(fn, ...args)) as R;
  return { result, heartbeats };
}

async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the activity to fail');
}

const writes = (endpoint: string) =>
  emu.callLog().filter((c) => c.kind === 'management' && c.method !== 'GET' && c.method !== 'POST' && c.path.includes(`/onlineEndpoints/${endpoint}`));

before(async () => {
  emu = await startTestEmulator({ provisionTimeMs: 300 });
  arm = armClient(emu);
  factory = new AzureClientFactory({ cloud: 'emulator', url: emu.url, caCertPem: emu.caCertPem, credential: emulatorCredential() }, { retryBaseDelayMs: 50 });
  acts = createActivities({ azure: factory, pollIntervalMs: 100 });
  key = await anEndpointWith(arm, 'fraud', { blue: 'azureml:fraud-detector:1' });
  await setTraffic(arm, 'fraud', { blue: 100 });
});
after(async () => {
  await emu?.close();
});

describe('reading the endpoint', () => {
  test('getEndpoint reports traffic, mirror traffic, provisioning state and the deployments', async () => {
    const { result } = await run(acts.getEndpoint, { endpoint: ref('fraud') });
    assert.equal(result.provisioningState, 'Succeeded');
    assert.deepEqual(result.traffic, { live: { blue: 100 }, mirror: {} });
    assert.deepEqual(result.deployments.map((d) => [d.name, d.provisioningState, d.model]), [['blue', 'Succeeded', 'azureml:fraud-detector:1']]);
    assert.equal(result.location, 'eastus');
  });

  test('getEndpoint on a missing endpoint fails with a non-retryable EndpointNotFound', async () => {
    const f = await failureOf(run(acts.getEndpoint, { endpoint: ref('nope') }));
    assert.equal(f.type, 'EndpointNotFound');
    assert.equal(f.nonRetryable, true);
  });

  test('the clients authenticate with the credential the caller brings (the worker brings the emulator’s)', async () => {
    const tokens: string[] = [];
    const credential = { getToken: async () => (tokens.push('asked'), { token: 'counted-token', expiresOnTimestamp: Date.now() + 3600_000 }) };
    const own = createActivities({ azure: { cloud: 'emulator', url: emu.url, caCertPem: emu.caCertPem, credential }, pollIntervalMs: 100 });
    const { result } = await run(own.getEndpoint, { endpoint: ref('fraud') });
    assert.equal(result.provisioningState, 'Succeeded');
    assert.ok(tokens.length >= 1, 'the ARM client asked the given credential for its token');
  });

  test('checkModelExists finds workspace and registry model versions and misses a typo', async () => {
    assert.equal((await run(acts.checkModelExists, { endpoint: ref('fraud'), model: 'azureml:fraud-detector:2' })).result.exists, true);
    assert.equal(
      (await run(acts.checkModelExists, { endpoint: ref('fraud'), model: 'azureml://registries/shared/models/fraud-detector/versions/2' })).result.exists,
      true,
    );
    assert.equal((await run(acts.checkModelExists, { endpoint: ref('fraud'), model: 'azureml:fraud-detectr:2' })).result.exists, false);
  });

  test('checkModelExists resolves azureml:<name>@latest to the most recently created version, and misses an unknown name', async () => {
    const latest = (await run(acts.checkModelExists, { endpoint: ref('fraud'), model: 'azureml:fraud-detector@latest' })).result;
    assert.equal(latest.exists, true);
    assert.equal(latest.resolvedModel, 'azureml:fraud-detector:6');
    assert.match(latest.resolvedId ?? '', /\/models\/fraud-detector\/versions\/6$/);
    const none = (await run(acts.checkModelExists, { endpoint: ref('fraud'), model: 'azureml:no-such-model@latest' })).result;
    assert.deepEqual(none, { exists: false });
  });
});

describe('creating the candidate', () => {
  test('ensureDeployment creates the deployment through its long-running operation, heartbeating while it polls', async () => {
    const { result, heartbeats } = await run(acts.ensureDeployment, { endpoint: ref('fraud'), name: 'green', spec: spec('azureml:fraud-detector:2') });
    assert.deepEqual(result, { name: 'green', provisioningState: 'Succeeded', created: true, instanceType: 'Standard_DS3_v2', instanceCount: 1 });
    assert.ok(heartbeats.length >= 2, `heartbeats: ${JSON.stringify(heartbeats)}`);
    const green = await arm.onlineDeployments.get(RG, WS, 'fraud', 'green');
    assert.equal(green.properties.provisioningState, 'Succeeded');
    assert.equal((await arm.onlineEndpoints.get(RG, WS, 'fraud')).properties.traffic?.green ?? 0, 0);
  });

  test('ensureDeployment again with the same spec makes no write', async () => {
    emu.resetCallLog();
    const { result } = await run(acts.ensureDeployment, { endpoint: ref('fraud'), name: 'green', spec: spec('azureml:fraud-detector:2') });
    assert.equal(result.created, false);
    assert.deepEqual(writes('fraud'), []);
  });

  test('a provisioning that ends OutOfQuota is a non-retryable QuotaExceeded carrying Azure’s code and message', async () => {
    emu.faults.failProvisioning('red', 'OutOfQuota', { message: 'Not enough quota for Standard_DS3_v2 in eastus' });
    const f = await failureOf(run(acts.ensureDeployment, { endpoint: ref('fraud'), name: 'red', spec: spec('azureml:fraud-detector:2') }));
    assert.equal(f.type, 'QuotaExceeded');
    assert.equal(f.nonRetryable, true);
    assert.match(f.message, /OutOfQuota/);
    assert.deepEqual(f.details?.[0], { azureCode: 'OutOfQuota', azureMessage: 'Not enough quota for Standard_DS3_v2 in eastus' });
    await arm.onlineDeployments.beginDeleteAndWait(RG, WS, 'fraud', 'red', POLL);
  });

  test('a storm of 429s is ridden out by waiting the Retry-After Azure asks for', async () => {
    emu.resetCallLog();
    emu.faults.failNext({ count: 3, status: 429, retryAfterSeconds: 1 });
    const started = Date.now();
    const { result } = await run(acts.getEndpoint, { endpoint: ref('fraud') });
    const elapsed = Date.now() - started;
    assert.deepEqual(result.traffic.live, { blue: 100 });
    const statuses = emu.callLog().filter((c) => c.kind === 'management').map((c) => c.status);
    assert.deepEqual(statuses.slice(0, 4), [429, 429, 429, 200]);
    assert.ok(elapsed >= 2900, `waited ${elapsed} ms for three Retry-After: 1`);
  });

  test('an activity keeps heartbeating while it waits out Retry-After, so a dead worker is noticed within the heartbeat timeout', async () => {
    const keptAlive = createActivities({ azure: factory, pollIntervalMs: 100, keepAliveMs: 200 });
    emu.faults.failNext({ count: 2, status: 429, retryAfterSeconds: 1 });
    const { result, heartbeats } = await run(keptAlive.getEndpoint, { endpoint: ref('fraud') });
    assert.deepEqual(result.traffic.live, { blue: 100 });
    // ~2 s of waiting at one heartbeat per 200 ms; a plain read sends none of its own.
    assert.ok(heartbeats.length >= 5, `${heartbeats.length} heartbeats while waiting ~2 s`);
    assert.equal((await run(acts.getEndpoint, { endpoint: ref('fraud') })).heartbeats.length, 0);
  });
});

describe('setting traffic: one read-compare-write per change (invariant 7)', () => {
  /** The management calls on the endpoint itself (not its deployments or operations), as "GET" / "PUT". */
  const endpointCalls = (endpoint: string) =>
    emu
      .callLog()
      .filter((c) => c.kind === 'management' && new RegExp(`/onlineEndpoints/${endpoint}$`).test(c.path))
      .map((c) => c.method);

  test('mirror traffic is set (despite the stable SDK dropping it), after reading the endpoint, and read back', async () => {
    emu.resetCallLog();
    const { result } = await run(acts.setEndpointTraffic, {
      endpoint: ref('fraud'),
      expected: { live: { blue: 100 }, mirror: {} },
      target: { live: { blue: 100 }, mirror: { green: 20 } },
    });
    assert.deepEqual(result.traffic, { live: { blue: 100 }, mirror: { green: 20 } });
    const endpoint = await arm.onlineEndpoints.get(RG, WS, 'fraud');
    assert.deepEqual((endpoint.properties as { mirrorTraffic?: Record<string, number> }).mirrorTraffic, { green: 20 });
    const calls = endpointCalls('fraud');
    assert.equal(calls[0], 'GET', `the endpoint is read before anything is written: ${calls.join(' ')}`);
    assert.ok(calls.indexOf('PUT') > 0 && calls.lastIndexOf('GET') > calls.indexOf('PUT'), `read, write, read back: ${calls.join(' ')}`);
  });

  test('asking for the state the endpoint already has succeeds without a write', async () => {
    emu.resetCallLog();
    await run(acts.setEndpointTraffic, { endpoint: ref('fraud'), expected: { live: { blue: 100 }, mirror: {} }, target: { live: { blue: 100 }, mirror: { green: 20 } } });
    assert.deepEqual(writes('fraud'), []);
  });

  test('traffic someone else changed is refused as TrafficDrift carrying the actual traffic, and nothing is written', async () => {
    await setTraffic(arm, 'fraud', { blue: 95, green: 5 }); // by hand, behind the rollout's back
    emu.resetCallLog();
    const f = await failureOf(
      run(acts.setEndpointTraffic, {
        endpoint: ref('fraud'),
        expected: { live: { blue: 100 }, mirror: { green: 20 } },
        target: { live: { blue: 90, green: 10 }, mirror: {} },
      }),
    );
    assert.equal(f.type, 'TrafficDrift');
    assert.equal(f.nonRetryable, true);
    assert.deepEqual(f.details?.[0], { expected: { live: { blue: 100 }, mirror: { green: 20 } }, actual: { live: { blue: 95, green: 5 }, mirror: {} } });
    assert.deepEqual(writes('fraud'), []);
    assert.deepEqual(endpointCalls('fraud'), ['GET'], 'it read the endpoint, and only read it');
  });

  test('a canary split is written, verified by reading back, and the old mirror is switched off', async () => {
    const { result } = await run(acts.setEndpointTraffic, {
      endpoint: ref('fraud'),
      expected: { live: { blue: 95, green: 5 }, mirror: {} },
      target: { live: { blue: 90, green: 10 }, mirror: {} },
    });
    assert.deepEqual(result.traffic, { live: { blue: 90, green: 10 }, mirror: {} });
  });

  test('a state Azure would refuse is refused before any write, naming the rule', async () => {
    emu.resetCallLog();
    const f = await failureOf(
      run(acts.setEndpointTraffic, {
        endpoint: ref('fraud'),
        expected: { live: { blue: 90, green: 10 }, mirror: {} },
        target: { live: { blue: 90, green: 10 }, mirror: { green: 60 } },
      }),
    );
    assert.equal(f.type, 'InvalidTraffic');
    assert.match(f.message, /at most 50%, got 60%/);
    assert.deepEqual(writes('fraud'), []);
  });

  test('a rollback (expected: null) takes over whatever the endpoint has and reads the baseline back', async () => {
    await setTraffic(arm, 'fraud', { blue: 70, green: 30 }); // drifted: a rollback must win anyway
    const { result } = await run(acts.setEndpointTraffic, { endpoint: ref('fraud'), expected: null, target: { live: { blue: 100 }, mirror: {} } });
    assert.deepEqual(normalizeTraffic(result.traffic), { live: { blue: 100 }, mirror: {} });
  });

  test('the input of rollouts started before the rework ({live, mirror, expectedCurrent}) is still understood', async () => {
    const { result } = await run(acts.setEndpointTraffic, {
      endpoint: ref('fraud'),
      live: { blue: 90, green: 10 },
      mirror: {},
      expectedCurrent: { live: { blue: 100, green: 0 }, mirror: {} },
    });
    assert.deepEqual(result.traffic, { live: { blue: 90, green: 10 }, mirror: {} });
  });
});

describe('metrics and prices', () => {
  test('a metrics snapshot equals the ground truth of the requests the emulator served', async () => {
    await setTraffic(arm, 'fraud', { blue: 100 }, { green: 30 });
    const started = Date.now();
    const traffic = await generateTraffic({ url: emu.url, endpoint: 'fraud', key, rps: 60, durationMs: 4000, seed: 7, caCertPem: emu.caCertPem });
    assert.ok(traffic.completed > 150, JSON.stringify(traffic));
    await new Promise((r) => setTimeout(r, 300)); // mirrored copies finish after the primary answers
    const windowMs = Date.now() - started + 60_000;
    const { result } = await run(acts.getMetricsSnapshot, { endpoint: ref('fraud'), baseline: 'blue', candidate: 'green', windowMs });
    const truth = (deployment: string) => {
      const records = emu.requestLog().filter((r) => r.endpoint === 'fraud' && r.deployment === deployment && r.time >= started);
      const latencies = records.map((r) => r.latencyMs).sort((a, b) => a - b);
      const pct = (p: number) => latencies[Math.max(0, Math.ceil((p / 100) * latencies.length) - 1)] ?? 0;
      return { requests: records.length, errors5xx: records.filter((r) => r.statusCode >= 500).length, p50: pct(50), p99: pct(99) };
    };
    for (const [name, m] of [['blue', result.baseline], ['green', result.candidate]] as const) {
      const t = truth(name);
      assert.ok(m, `${name} has metrics`);
      assert.equal(m.requests, t.requests, `${name} requests`);
      assert.equal(m.errorRate, t.errors5xx / t.requests, `${name} 5xx rate`);
      assert.ok(Math.abs((m.latencyP50Ms ?? 0) - t.p50) <= Math.max(0.05 * t.p50, 0.5), `${name} p50 ${m.latencyP50Ms} vs ${t.p50}`);
      assert.ok(Math.abs((m.latencyP99Ms ?? 0) - t.p99) <= Math.max(0.05 * t.p99, 0.5), `${name} p99 ${m.latencyP99Ms} vs ${t.p99}`);
      assert.ok(m.cpuPercent !== null && m.cpuPercent >= 0 && m.cpuPercent <= 100, `${name} cpu ${m.cpuPercent}`);
    }
    assert.ok(result.candidate && result.baseline && result.candidate.requests < result.baseline.requests, 'the 30% mirror sees fewer requests');
  });

  test('estimateCost prices the instances from the Retail Prices API, per hour and per 730-hour month', async () => {
    const { result } = await run(acts.estimateCost, { endpoint: ref('fraud'), instanceType: 'Standard_DS3_v2', instanceCount: 2, location: 'eastus' });
    assert.equal(result.fallback, false);
    assert.equal(result.source, 'retail-prices:eastus');
    assert.ok(result.hourlyUsd > 0);
    assert.ok(Math.abs(result.monthlyUsd - result.hourlyUsd * 730) < 1e-9);
    const prices = emu.callLog().filter((c) => c.kind === 'prices');
    assert.ok(prices.length >= 1 && prices.every((c) => c.status === 200));
  });

  test('estimateCost falls back to the committed table, flagged, when the price API cannot be reached', async () => {
    const offline = createActivities({ azure: { cloud: 'emulator', url: 'https://127.0.0.1:9', caCertPem: emu.caCertPem, credential: emulatorCredential() }, pollIntervalMs: 100 });
    const { result } = await run(offline.estimateCost, { endpoint: ref('fraud'), instanceType: 'Standard_F4s_v2', instanceCount: 3, location: 'eastus' });
    assert.equal(result.fallback, true);
    assert.match(result.source, /^fallback-table/);
    assert.ok(Math.abs(result.hourlyUsd - 0.169 * 3) < 1e-9);
  });
});

describe('deleting a deployment', () => {
  test('a deployment with traffic is not deleted', async () => {
    const f = await failureOf(run(acts.deleteDeployment, { endpoint: ref('fraud'), name: 'green' })); // green is the 30% mirror target
    assert.equal(f.type, 'InvalidTraffic');
  });

  test('deleting twice: the second call finds it gone and counts that as done', async () => {
    await setTraffic(arm, 'fraud', { blue: 100 });
    assert.deepEqual((await run(acts.deleteDeployment, { endpoint: ref('fraud'), name: 'green' })).result, { deleted: true });
    assert.deepEqual((await run(acts.deleteDeployment, { endpoint: ref('fraud'), name: 'green' })).result, { deleted: false });
    await assert.rejects(arm.onlineDeployments.get(RG, WS, 'fraud', 'green'), (e: { statusCode?: number }) => e.statusCode === 404);
  });
});
