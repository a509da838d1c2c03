// Chaos: real rollouts (Temporal dev server + `glidepath worker` process + the emulator + traffic) while
// things break — quota failures, hand-made traffic changes, a flaky Azure management plane, missing
// metrics, SIGKILLed workers, an emulator restart and a Temporal server restart — each checked from the
// emulator's call log, the workflow history and the endpoint read back at the end (harness.ts:
// checkRollout). The last test scans every history on the server for the secrets the suite handed out and
// for the customer data the emulator's data collector wrote (rows, scores, request ids) during the
// prediction-gate rollout.
//
// Knob to see the checks fail: GLIDEPATH_CHAOS_BREAK=<scenario> makes the test itself do the wrong thing
// (see `broken()` below and bench/README.md); the checks must then fail.
import { historyText } from '../support/history.js';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { abort, status } from '../../workflows/messages.js';
import { RG, WS } from '../emulator/support.js';
import { approveWhenAsked, ChaosWorld, chaosPlan, checkRollout, runRollout, SECRETS, sleep, until } from './harness.js';

const world = new ChaosWorld();
/** Scenario names deliberately broken by GLIDEPATH_CHAOS_BREAK (comma list) to prove the checks can fail. */
const broken = (name: string): boolean => (process.env.GLIDEPATH_CHAOS_BREAK ?? '').split(',').includes(name);

before(async () => {
  await world.start();
});
after(async () => {
  await world.stop();
});

test('a candidate whose provisioning fails with OutOfQuota ends failed (QuotaExceeded) with the baseline restored, the candidate deleted and no traffic written', async () => {
  const endpoint = 'chaos-quota';
  const key = await world.anEndpoint(endpoint);
  const plan = chaosPlan(endpoint, 'azureml:fraud-detector:2', { rollback: { deleteCandidate: true } } as never);
  world.emu.faults.failProvisioning('green', 'OutOfQuota', { endpoint });
  const run = await runRollout(world, plan, key, approveWhenAsked, { timeoutMs: 120_000 });
  world.emu.faults.clear();
  console.log(`# outcome ${run.result.outcome} (${run.result.errorType}): ${run.result.reason}; rollback ${JSON.stringify(run.result.rollback)}`);
  // The workflow reports a deploy that Azure refused as outcome `failed` with the error type, and rolls back.
  await checkRollout(world, run, plan, 'failed');
  assert.equal(run.result.errorType, 'QuotaExceeded');
  assert.match(run.result.reason, /OutOfQuota/);
  const state = await world.endpointState(endpoint);
  assert.deepEqual(state.deployments, ['blue'], 'the failed candidate was deleted (deleteCandidate: true)');
  const trafficWrites = world.endpointCalls(endpoint).filter((c) => c.method === 'PUT' && c.path.endsWith(`/onlineEndpoints/${endpoint}`) && Date.parse(c.time) >= run.startedAt);
  assert.equal(trafficWrites.length, 0, 'no traffic was written: the candidate never got any');
});

test('a hand-made traffic change mid-rollout pauses the rollout, notifies, and is never overwritten', async () => {
  const endpoint = 'chaos-drift';
  const key = await world.anEndpoint(endpoint);
  const plan = chaosPlan(endpoint);
  let handChangeAt = 0;
  const run = await runRollout(world, plan, key, async (h, stop) => {
    const approving = approveWhenAsked(h, stop);
    await until('the mirror', async () => ((await h.query(status)).traffic?.mirror.green ?? 0) > 0 || undefined, 90_000);
    // Someone in the portal moves 10% of live traffic to the candidate and drops the mirror.
    handChangeAt = Date.now();
    await world.setTrafficByHand(endpoint, { blue: 90, green: 10 });
    const paused = await until('the drift pause', async () => {
      const s = await h.query(status);
      return s.paused && /outside Glidepath/.test(s.paused.reason) ? s : undefined;
    }, 90_000);
    console.log(`# paused: ${paused.paused?.reason}`);
    await sleep(4000); // the rollout holds: nothing may write in the meantime
    const stateWhilePaused = await world.endpointState(endpoint);
    assert.deepEqual(stateWhilePaused.live, { blue: 90, green: 10 }, 'the hand-made change stands while paused');
    const writesSince = world.endpointCalls(endpoint).filter((c) => c.method !== 'GET' && Date.parse(c.time) > handChangeAt + 2000);
    assert.deepEqual(writesSince.map((c) => `${c.method} ${c.path}`), [], 'the rollout wrote nothing after the hand-made change');
    assert.ok(
      world.slack.messages.some((m) => m.channel === 'C0CHAOS01' && /chaos-drift/.test(m.text) && /outside Glidepath/.test(m.text)),
      `a Slack notification names the drift: ${JSON.stringify(world.slack.messages.map((m) => m.text).slice(-3))}`,
    );
    await h.executeUpdate(abort, { args: [{ by: 'alice@contoso.com', reason: 'someone changed traffic by hand' }] });
    await approving;
  });
  await checkRollout(world, run, plan, 'aborted');
  assert.ok(run.result.timeline.some((e) => e.kind === 'drift'), 'the drift is in the timeline');
});

test('with ~30% of management calls failing (429 / 500) for the whole rollout, a good candidate is still promoted with no duplicated writes', async () => {
  const endpoint = 'chaos-flaky-arm';
  const key = await world.anEndpoint(endpoint);
  const plan = chaosPlan(endpoint);
  const base = world.emu.callLog().length;
  let armed = 0;
  const stopInjecting = new AbortController();
  // Keep the failed share of management calls near 30%: arm one failure whenever it drops below.
  const injector = (async () => {
    let i = 0;
    while (!stopInjecting.signal.aborted) {
      const calls = world.emu.callLog().slice(base).filter((c) => c.kind === 'management' || c.kind === 'operation');
      const failed = calls.filter((c) => c.status === 429 || c.status === 500).length;
      // GLIDEPATH_CHAOS_BREAK=flaky-arm: ~90% of calls fail and the worker's bundle has no activity retries.
      if (failed >= armed && (failed + 1) / (calls.length + 1) <= (broken('flaky-arm') ? 0.9 : 0.3)) {
        armed += 1;
        i += 1;
        world.emu.faults.failNext(i % 2 === 0 ? { count: 1, status: 429, retryAfterSeconds: 1 } : { count: 1, status: 500 });
      }
      await sleep(20);
    }
  })();
  try {
    const run = await runRollout(world, plan, key, approveWhenAsked, { timeoutMs: 200_000 });
    const calls = world.emu.callLog().slice(base).filter((c) => c.kind === 'management' || c.kind === 'operation');
    const failed = calls.filter((c) => c.status === 429 || c.status === 500).length;
    console.log(`# ${failed}/${calls.length} management calls failed (${((100 * failed) / calls.length).toFixed(0)}%); outcome ${run.result.outcome}`);
    assert.ok(failed / calls.length >= 0.2, `the fault rate was really applied (${failed}/${calls.length})`);
    await checkRollout(world, run, plan, 'promoted');
  } finally {
    stopInjecting.abort();
    await injector;
    world.emu.faults.clear();
  }
});

test('with no metrics data (no traffic), analyses are inconclusive and onInconclusive: rollback rolls back; the candidate is never promoted', async () => {
  const endpoint = 'chaos-no-data';
  const key = await world.anEndpoint(endpoint);
  const plan = chaosPlan(endpoint, 'azureml:fraud-detector:2', {
    analysis: { interval: '2s', failureLimit: 2, minRequests: 5, onInconclusive: 'rollback', maxExtensions: 1 },
  } as never);
  const run = await runRollout(world, plan, key, approveWhenAsked, { rps: 0, timeoutMs: 120_000 });
  for (const v of run.result.verdicts) console.log(`# analysis ${v.analysis} at step ${v.stepIndex}: ${v.status}: ${v.reasons.join('; ')}`);
  await checkRollout(world, run, plan, 'rolled_back');
  assert.match(run.result.reason, /inconclusive/i);
  assert.ok(run.result.verdicts.length > 0 && run.result.verdicts.every((v) => v.status === 'inconclusive'), 'every analysis was inconclusive');
});

test('with partial metrics data (too few requests), onInconclusive: pause holds the rollout and notifies; it is not promoted', async () => {
  const endpoint = 'chaos-thin-data';
  const key = await world.anEndpoint(endpoint);
  const plan = chaosPlan(endpoint, 'azureml:fraud-detector:2', {
    analysis: { interval: '2s', failureLimit: 2, minRequests: 200, onInconclusive: 'pause', maxExtensions: 0 },
  } as never);
  const run = await runRollout(
    world,
    plan,
    key,
    async (h, stop) => {
      const approving = approveWhenAsked(h, stop);
      const s = await until('the inconclusive pause', async () => {
        const s = await h.query(status);
        return s.paused || s.outcome ? s : undefined;
      }, 90_000);
      assert.equal(s.outcome, null, `still running when the data is thin (outcome ${s.outcome})`);
      assert.match(s.paused?.reason ?? '', /inconclusive|requests/i);
      assert.equal(s.stage, 'mirror', 'held in the mirror: no live traffic on thin data');
      await until('a Slack notification of the hold', () => (world.slack.messages.some((m) => /chaos-thin-data/.test(m.text) && /Holding/.test(m.text)) ? true : undefined), 20_000);
      await h.executeUpdate(abort, { args: [{ by: 'alice@contoso.com', reason: 'not enough data' }] });
      await approving;
    },
    { rps: 3, timeoutMs: 120_000 },
  );
  await checkRollout(world, run, plan, 'aborted');
  assert.ok(run.result.verdicts.some((v) => v.status === 'inconclusive'));
});

test('the emulator (Azure) restarting mid-rollout, during a canary step, does not stop the rollout: it recovers and promotes', async () => {
  const endpoint = 'chaos-emu-restart';
  const key = await world.anEndpoint(endpoint);
  const plan = chaosPlan(endpoint);
  let restartedAt = '';
  const run = await runRollout(
    world,
    plan,
    key,
    async (h, stop) => {
      const approving = approveWhenAsked(h, stop);
      const s = await until('the first canary', async () => {
        const s = await h.query(status);
        return s.stage === 'canary' && (s.traffic?.live.green ?? 0) > 0 ? s : undefined;
      }, 120_000);
      restartedAt = s.stepText;
      await world.restartEmulator(broken('emu-restart') ? 1 : 3000);
      // GLIDEPATH_CHAOS_BREAK=emu-restart: Azure "recovers" without the canary (traffic reset behind the rollout's back).
      if (broken('emu-restart')) await world.setTrafficByHand(endpoint, { blue: 100 });
      await approving;
    },
    { rps: 20, timeoutMs: broken('emu-restart') ? 60_000 : 180_000 },
  );
  console.log(`# emulator restarted at ${restartedAt}; outcome ${run.result.outcome}`);
  await checkRollout(world, run, plan, 'promoted');
});

test('the Temporal server (dev server with a database file) stopped and restarted mid-bake: the rollout carries on and promotes', async () => {
  const endpoint = 'chaos-server-restart';
  const key = await world.anEndpoint(endpoint);
  const plan = chaosPlan(endpoint, 'azureml:fraud-detector:2', {
    strategy: [{ mirror: { percent: 30, bake: '10s' } }, { canary: { percent: 50, bake: '4s' } }, { promote: { rollbackWindow: '2s' } }, { retire: {} }],
  } as never);
  let downMs = 0;
  const run = await runRollout(world, plan, key, async (h) => {
    await until('the mirror bake', async () => ((await h.query(status)).stage === 'mirror' ? true : undefined), 90_000);
    await sleep(1500);
    const t0 = Date.now();
    await world.server.stop();
    await sleep(3000);
    // GLIDEPATH_CHAOS_BREAK=server-restart: the server comes back with a fresh database (not durable).
    if (broken('server-restart')) world.server.dbFile = `${world.server.dbFile}-fresh`;
    await world.server.start();
    downMs = Date.now() - t0;
  }, { rps: 20, timeoutMs: broken('server-restart') ? 60_000 : 180_000 });
  console.log(`# server down for ${downMs} ms mid-bake; outcome ${run.result.outcome}: ${run.result.reason}`);
  await checkRollout(world, run, plan, 'promoted');
});

/** Names of the activities a workflow has scheduled so far, from its history. */
async function activitiesScheduled(h: { fetchHistory: () => Promise<{ events?: { activityTaskScheduledEventAttributes?: { activityType?: { name?: string | null } | null } | null }[] | null }> }): Promise<string[]> {
  const history = await h.fetchHistory();
  return (history.events ?? []).flatMap((e) => (e.activityTaskScheduledEventAttributes?.activityType?.name ? [e.activityTaskScheduledEventAttributes.activityType.name] : []));
}

/**
 * Ten seeds, each its own rollout and its own worker process, each SIGKILLed once at a different point and
 * restarted at once. The point is a stage plus a seeded random delay into it; `lro` waits until the
 * candidate's PUT is in the emulator's log (Azure's operation is running) and `rollback` uses a candidate
 * that fails its gates (fraud-detector:4) with a slowed-down rollback DELETE.
 */
const killPoints = ['preflight', 'lro', 'mirror', 'cost-check', 'approval', 'canary-1', 'canary-2', 'promote', 'retire', 'rollback'] as const;

test('a worker SIGKILLed at a random moment of each of 10 steps (incl. inside a running Azure operation and inside rollback) and restarted: every rollout ends as an undisturbed one would', async () => {
  let seed = 0x5eed;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) % 1000) / 1000;
  const runs = killPoints.map(async (point, i) => {
    await sleep(i * 1500); // stagger the starts: 10 workers booting at once would starve 2 cores
    const endpoint = `chaos-kill-${i + 1}`;
    const taskQueue = `${world.taskQueue}-kill-${i + 1}`;
    const key = await world.anEndpoint(endpoint);
    const bad = point === 'rollback';
    // Lenient on thin data (10 workers share 2 cores and the emulator): only the kill may disturb the outcome.
    const analysis = { interval: '2s', failureLimit: 2, minRequests: 2, onInconclusive: 'extend', maxExtensions: 6 };
    const plan = chaosPlan(endpoint, 'azureml:fraud-detector:2', (bad ? { analysis, rollback: { deleteCandidate: true } } : { analysis }) as never);
    if (bad) world.emu.faults.failNext({ count: 2, status: 503, retryAfterSeconds: 2, method: 'DELETE', pathIncludes: `/onlineEndpoints/${endpoint}/deployments/green` });
    // Retiring is one DELETE of a few hundred ms: slow it (one 503 with Retry-After) so the kill can land inside.
    if (point === 'retire') world.emu.faults.failNext({ count: 1, status: 503, retryAfterSeconds: 2, method: 'DELETE', pathIncludes: `/onlineEndpoints/${endpoint}/deployments/blue` });
    let worker = world.startWorker(taskQueue);
    const delay = Math.round(rand() * (point === 'mirror' ? 3000 : 300));
    let killedAt = '';
    let landed = '';
    let step = '';
    const run = await runRollout(
      world,
      plan,
      key,
      async (h, stop) => {
        // The approval and cost-check seeds approve only after their kill: else the approval (and the
        // few-millisecond cost check before it) can be over before a poll sees them, and no kill lands.
        const holdsApproval = point === 'approval' || point === 'cost-check';
        const approving = holdsApproval ? Promise.resolve() : approveWhenAsked(h, stop);
        if (bad) {
          // The candidate starts failing half its requests once mirrored: the gates fail, the rollout rolls back.
          await until(`${endpoint}: mirror`, async () => ((await h.query(status)).stage === 'mirror' ? true : undefined), 150_000);
          world.emu.faults.setBehaviour('green', { errorRate: 0.5 }, endpoint);
        }
        let last = 'nothing yet';
        await until(`${endpoint}: ${point}`, async () => {
          if (point === 'lro') return world.endpointCalls(endpoint).some((c) => c.method === 'PUT' && c.path.endsWith('/deployments/green')) || undefined;
          // Preflight: read the history (server side), not the status query — a freshly booted worker may
          // answer its first query only after the rollout is long past preflight.
          if (point === 'preflight') return (await activitiesScheduled(h)).length > 0 || undefined;
          const s = await h.query(status);
          last = `${s.stage} / ${s.stepText} / paused ${s.paused?.reason ?? 'no'} / approval ${s.pendingApproval ? 'pending' : 'no'}`;
          if (s.outcome) return 'ended';
          const green = s.traffic?.live.green ?? 0;
          switch (point) {
            case 'canary-1':
              return (s.stage === 'canary' && green > 0 && green < 50) || undefined;
            case 'canary-2':
              return (s.stage === 'canary' && green >= 50) || undefined;
            case 'approval':
              return (s.stage === 'approval' || s.pendingApproval !== null) || undefined;
            case 'cost-check':
              return s.stage === 'cost-check' || s.stage === 'approval' || undefined; // the cost check lasts a few ms: if missed, kill just after
            default:
              return s.stage === point || undefined;
          }
        }, 200_000, point === 'lro' ? 25 : point === 'cost-check' ? 40 : 120).then(
          (v) => {
            if (v === 'ended') throw new Error(`${endpoint} ended before the kill point ${point}; last seen: ${last}`);
          },
          (err: Error) => {
            throw new Error(`${err.message}; last seen: ${last}`);
          },
        );
        await sleep(delay);
        if (point === 'preflight') {
          const scheduled = await activitiesScheduled(h);
          landed = scheduled.includes('ensureDeployment') ? 'deploy' : 'preflight';
          step = `after ${scheduled.join(', ')}`;
        } else {
          const at = await h.query(status);
          landed = at.stage;
          step = at.stepText;
        }
        const lroRunning = world.endpointCalls(endpoint).filter((c) => c.path.endsWith('/deployments/green')).length;
        await world.killWorker(worker);
        killedAt = `${point} (+${delay} ms, stage ${landed}, step ${step}${point === 'lro' ? `, ${lroRunning} calls on green so far` : ''})`;
        // GLIDEPATH_CHAOS_BREAK=kill: the restarted worker runs a bundle whose code no longer matches the
        // histories it must replay (an activity renamed without patched()): the rollouts cannot carry on.
        worker = world.startWorker(
          taskQueue,
          broken('kill') ? { GLIDEPATH_WORKFLOW_BUNDLE: world.patchedBundle('renamed-activity', (c) => c.replace(/writes.setEndpointTraffic.executeWithOptions/g, 'writes.setTrafficV2.executeWithOptions')) } : {},
        );
        await approving;
        if (holdsApproval) await approveWhenAsked(h, stop);
      },
      { rps: 10, timeoutMs: broken('kill') ? 150_000 : 330_000, taskQueue },
    );
    await world.killWorker(worker);
    console.log(`# seed ${i + 1}: killed at ${killedAt}; outcome ${run.result.outcome}: ${run.result.reason.slice(0, 120)}`);
    return { point, landed, run, plan, expected: bad ? ('rolled_back' as const) : ('promoted' as const) };
  });
  const settled = await Promise.allSettled(runs);
  const failures = settled.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as Error);
  assert.deepEqual(failures.map((e) => e.message), []);
  const done = settled.map((r) => (r as PromiseFulfilledResult<Awaited<(typeof runs)[number]>>).value);
  for (const d of done) await checkRollout(world, d.run, d.plan, d.expected);
  assert.equal(done.find((d) => d.point === 'rollback')?.landed, 'rollback', 'one worker died inside a rollback');
  assert.equal(done.find((d) => d.point === 'lro')?.landed, 'deploy', 'one worker died inside the candidate\'s Azure operation');
  assert.ok(new Set(done.map((d) => d.landed)).size >= 6, `kills landed in distinct stages: ${done.map((d) => d.landed).join(', ')}`);
});

test('a rollout with prediction gates reads the collected predictions from Azurite, and rolls a badly fit model back in the mirror', async () => {
  const endpoint = 'chaos-predictions';
  const key = await world.anEndpointCollecting(endpoint);
  const plan = chaosPlan(endpoint, 'azureml:fraud-detector:5', {
    gates: { latencyP99Ms: { max: 250 }, errorRate: { max: 0.02 }, modelErrorRate: { max: 0.02 }, predictions: { label: 'isFraud', score: 'fraudProbability', maxDisagreement: 0.02, slices: ['merchantCategory'] } },
  } as never);
  const run = await runRollout(world, plan, key, approveWhenAsked, { timeoutMs: 120_000 });
  console.log(`# outcome ${run.result.outcome}: ${run.result.reason}`);
  await checkRollout(world, run, plan, 'rolled_back');
  assert.match(run.result.reason, /step 1 \(mirror 30%\): predictions: disagreement/);
  assert.ok(run.result.verdicts.some((v) => v.predictions && v.predictions.step.pairs > 0), 'pairs were read and compared');
});

test('no endpoint key, Slack token, Slack signing secret or webhook secret, and no collected model input, score or request id, appears in any workflow history on the server', async () => {
  const secrets = [...world.keys, SECRETS.slackBotToken, SECRETS.slackSigningSecret, SECRETS.webhookSecret];
  // Customer data: what the data collector wrote for the prediction-gate rollout (rows as JSON, scores, ids).
  const collected = await world.collectedValues();
  console.log(`# collected: ${collected.rows.length} distinct rows, ${collected.scores.length} scores, ${collected.ids.length} request ids`);
  assert.ok(collected.rows.length > 50 && collected.scores.length > 50 && collected.ids.length > 50, 'the prediction-gate rollout collected data to look for');
  // Looked up in sets of what each history holds (every flat {…} object, GUID and long decimal), not by a
  // substring search per value: thousands of values times megabytes of history would take minutes.
  const tokens = (text: string, re: RegExp) => new Set(text.match(re) ?? []);
  if (broken('collected')) {
    // Put a collected row where it must never go: a memo of a rollout that fails preflight.
    const plan = chaosPlan('chaos-leak-data');
    await world.client.workflow.start('safeRollout', { taskQueue: world.taskQueue, workflowId: 'chaos-leak-data', args: [{ plan, startedBy: 'ci@contoso.com' }], memo: { row: JSON.parse(collected.rows[0]!) as unknown } });
  }
  if (broken('secrets')) {
    // Put a key where it must never go: a workflow input (a memo field of a rollout that fails preflight).
    const plan = chaosPlan('chaos-leak');
    await world.client.workflow.start('safeRollout', { taskQueue: world.taskQueue, workflowId: 'chaos-leak', args: [{ plan, startedBy: 'ci@contoso.com' }], memo: { key: world.keys[0] } });
  }
  let histories = 0;
  let bytes = 0;
  const found: string[] = [];
  for await (const wf of world.client.workflow.list({ query: '' })) {
    const h = world.client.workflow.getHandle(wf.workflowId, wf.runId);
    const history = await h.fetchHistory();
    // Payload data are bytes: historyText decodes every payload too, so a secret inside JSON payloads is seen as text.
    const all = historyText(history) + JSON.stringify(wf.memo ?? {});
    histories += 1;
    bytes += all.length;
    for (const s of secrets) if (s && all.includes(s)) found.push(`${wf.workflowId}: ${s.slice(0, 6)}…`);
    const objects = tokens(all, /\{[^{}]*\}/g);
    const guids = tokens(all.toLowerCase(), /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g);
    const decimals = tokens(all, /(?<![\d.])\d+\.\d{5,}(?![\d])/g);
    for (const r of collected.rows) if (objects.has(r)) found.push(`${wf.workflowId}: a collected row ${r.slice(0, 40)}…`);
    for (const id of collected.ids) if (guids.has(id.toLowerCase())) found.push(`${wf.workflowId}: a collected request id ${id}`);
    for (const v of collected.scores) if (decimals.has(v)) found.push(`${wf.workflowId}: a collected score ${v}`);
  }
  console.log(`# scanned ${histories} workflow histories (${bytes} characters) for ${secrets.length} secrets`);
  assert.ok(histories >= 5, `the suite's rollouts are on the server (${histories})`);
  assert.deepEqual(found, []);
  await world.arm.onlineEndpoints.get(RG, WS, 'chaos-quota'); // the emulator is still up: the scan ran against a live world
});
