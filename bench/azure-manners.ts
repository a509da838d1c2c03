// Azure manners: one promoted rollout of examples/rollout.yaml with its real durations (mirror 30 m, canary
// 15 m + 30 m, rollback window 1 h; analysis every minute) simulated by time skipping, with the real
// activities and the unmodified Azure SDK against the emulator. Counts the management-plane reads and
// writes (from the emulator's call log) per hour of rollout time, against Azure Resource Manager's limits.
//
//   npm run bench -- azure-manners            (= node --import tsx bench/azure-manners.ts)
//
// Two stand-ins, because skipped time has no traffic behind it: the metrics activity returns healthy
// figures (every call is still counted as one Azure Monitor query), and the webhook gate passes. Approvals
// are given as soon as they are asked for (the approval wait itself is workflow time, so it is skipped).
import { readFileSync } from 'node:fs';
import { Worker } from '@temporalio/worker';
import { parse } from 'yaml';
import { createActivities } from '../activities/create-activities.js';
import type { PlanDocument } from '../domain/plan.js';
import { emulatorCredential } from '../emulator/sdk.js';
import { anEndpointWith, armClient, RG, setTraffic, startTestEmulator, SUB, WS } from '../test/emulator/support.js';
import { healthyMetrics, startRollout } from '../test/support/builders.js';
import { createTimeSkippingEnv, uniqueName, workflowBundle } from '../test/support/temporal.js';
import { approve, status } from '../workflows/messages.js';
import { benchRoot, command, machine, machineLine, writeResults } from './lib/support.js';

async function main(): Promise<void> {
  const [env, emu, bundle] = await Promise.all([createTimeSkippingEnv(), startTestEmulator({ provisionTimeMs: 500 }), workflowBundle()]);
  const arm = armClient(emu);
  const endpoint = 'fraud-detection';
  await anEndpointWith(arm, endpoint, { blue: 'azureml:fraud-detector:1' }, { capacity: 2 });
  await setTraffic(arm, endpoint, { blue: 100 });
  const plan = parse(readFileSync(`${benchRoot}examples/rollout.yaml`, 'utf8')) as PlanDocument & { notify?: unknown };
  plan.target = { subscriptionId: SUB, resourceGroup: RG, workspace: WS, endpoint };
  delete plan.notify; // no Slack here: notifications go to the worker log
  (plan.approvals as { verified?: boolean }).verified = false; // the bench approves with unsigned updates (no signer runs here)
  const real = createActivities({ azure: { cloud: 'emulator', url: emu.url, caCertPem: emu.caCertPem, credential: emulatorCredential() }, pollIntervalMs: 1000 });
  let metricsQueries = 0;
  let webhookCalls = 0;
  const activities = {
    ...real,
    getMetricsSnapshot: async () => {
      metricsQueries += 1;
      return healthyMetrics();
    },
    callWebhookGate: async () => {
      webhookCalls += 1;
      return { status: 'pass' as const, reason: 'offline evaluation passed (bench stand-in)' };
    },
  };
  const taskQueue = uniqueName('manners');
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities });
  emu.resetCallLog();
  const wall0 = Date.now();
  const result = await worker.runUntil(async () => {
    const h = await startRollout(env.client, { plan, startedBy: 'ci@contoso.com', taskQueue });
    // Time skips only while we wait on the server, so advance it a minute at a time and approve between.
    for (let i = 0; i < 20_000; i++) {
      const s = await h.query(status);
      if (s.outcome) break;
      if (s.pendingApproval) await h.executeUpdate(approve, { args: [{ by: 'alice@contoso.com', comment: 'bench', stepIndex: s.pendingApproval.stepIndex }] });
      else await env.sleep('1 minute');
    }
    return h.result();
  });
  const wallS = (Date.now() - wall0) / 1000;
  await Promise.all([env.teardown(), emu.close().catch(() => undefined)]);
  const calls = emu.callLog();
  const mgmt = calls.filter((c) => c.kind === 'management' || c.kind === 'operation');
  const reads = mgmt.filter((c) => c.method === 'GET');
  const lroPolls = mgmt.filter((c) => c.kind === 'operation');
  const writes = mgmt.filter((c) => c.method === 'PUT' || c.method === 'PATCH' || c.method === 'DELETE');
  const posts = mgmt.filter((c) => c.method === 'POST');
  const writeList = writes.map((c) => `${c.method} ${c.path.replace(/.*\/onlineEndpoints\//, '')} → ${c.status}`);
  const rolloutMs = Date.parse(result.finishedAt) - Date.parse(result.startedAt);
  const hours = rolloutMs / 3_600_000;
  const perHour = (n: number): number => Math.round((n / hours) * 10) / 10;
  const planChanges = ['create green', 'mirror 20%', 'canary 10%', 'canary 50%', 'green 100%', 'delete blue'];
  // ARM limits: the documented per-subscription, per-principal budgets (classic hourly quota, and the
  // token-bucket model Azure Resource Manager moved to in 2024: bucket size / refill per second).
  const limits = { classicReadsPerHour: 12_000, classicWritesPerHour: 1_200, bucketReads: '250 + 25/s', bucketWrites: '200 + 10/s', bucketDeletes: '200 + 10/s' };
  const m = machine();
  const cmd = command('azure-manners');
  const json = {
    benchmark: 'azure-manners',
    date: new Date().toISOString(),
    command: cmd,
    machine: m,
    outcome: result.outcome,
    reason: result.reason,
    rolloutHours: Math.round(hours * 1000) / 1000,
    wallS,
    counts: { reads: reads.length, lroPolls: lroPolls.length, writes: writes.length, posts: posts.length, metricsQueries, webhookCalls, analyses: result.verdicts.length },
    perHour: { reads: perHour(reads.length), writes: perHour(writes.length), metricsQueries: perHour(metricsQueries) },
    writes: writeList,
    planChanges,
    writesEqualPlanChanges: writes.length === planChanges.length,
    limits,
  };
  const md = [
    '# Azure manners: management-plane calls of one promoted rollout of examples/rollout.yaml',
    '',
    `Run ${json.date} with \`${cmd}\`: the example plan with its real durations, simulated by time skipping (Temporal's Java test server), real activities and Azure SDK against the emulator; metrics and webhook gates stand-ins (counted); approvals given when asked.`,
    '',
    machineLine(m),
    '',
    `Outcome: **${result.outcome}** (${result.reason}); ${json.rolloutHours} h of rollout time in ${wallS.toFixed(1)} s of wall time; ${result.verdicts.length} analyses.`,
    '',
    '| | count | per hour of rollout | ARM limit (per subscription and principal) |',
    '|---|---|---|---|',
    `| management reads (GET, incl. ${lroPolls.length} long-running-operation polls) | ${reads.length} | ${json.perHour.reads} | 12,000/h (classic); bucket 250, refill 25/s |`,
    `| management writes (PUT/PATCH/DELETE) | ${writes.length} | ${json.perHour.writes} | 1,200/h (classic); bucket 200, refill 10/s |`,
    `| management POSTs (listKeys etc.) | ${posts.length} | ${perHour(posts.length)} | counted as writes by ARM |`,
    `| Azure Monitor metrics queries | ${metricsQueries} | ${json.perHour.metricsQueries} | (Azure Monitor's own limit: 12,000 API calls/h) |`,
    '',
    `Writes, in order: ${writeList.map((w) => `\`${w}\``).join(', ')}. The plan makes ${planChanges.length} changes (${planChanges.join(', ')}): writes = plan changes — **${json.writesEqualPlanChanges ? 'yes' : 'no'}**.`,
    '',
  ].join('\n');
  console.log(md);
  writeResults('azure-manners', json, md);
}

await main();
