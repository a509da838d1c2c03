/**
 * The demo's run: the whole story on this machine in about two minutes, assembled from the public entry
 * points of the worker (worker/index.ts), the emulator (emulator/index.ts) and the client (the Temporal
 * gateway, `follow`, the reports).
 *
 * It reuses a Temporal server that answers (TEMPORAL_ADDRESS, else 127.0.0.1:7233) or starts the Temporal
 * CLI's dev server with its web UI and Glidepath's search attributes; starts the Azure ML emulator, an
 * endpoint `fraud-detection` whose `blue` deployment (fraud-detector:1) serves live traffic from the
 * traffic generator, and a worker on a task queue of its own; then runs two rollouts on that endpoint,
 * one after the other (demo/scenario.ts):
 *
 *   1. `green` (fraud-detector:2): deploy → mirror → cost check → approval → canary 25% → 50% → promote →
 *      retire `blue`. A simulated reviewer approves after a pause; with `--interactive` the demo waits for
 *      you and prints the exact approve command.
 *   2. `red` (fraud-detector:4, fails on ~5% of inputs): rolled back during the mirror by the model-error gate.
 *
 * It prints progress, a summary per rollout (outcome, reason, duration, traffic history) with its Temporal
 * UI link, and writes an HTML and a Markdown report per rollout. On exit — Ctrl-C included — it stops
 * everything it started (worker, traffic, emulator, the dev server if it started one) and leaves a server
 * it found alone. Exit code: 0 when the first rollout was promoted and the second rolled back, 1 otherwise,
 * 130 when interrupted.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import { follow } from '../client/commands/rollout.js';
import { UnreachableError } from '../client/errors.js';
import { buildReport, renderHtml, renderMarkdown } from '../client/report.js';
import { createSigner, type DecisionSigner } from '../client/signer.js';
import { TemporalRolloutGateway, temporalSettings } from '../client/temporal.js';
import { parsePlan, type RolloutPlan } from '../domain/plan.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import type { SafeRolloutResult } from '../domain/rollout.js';
import { formatTraffic } from '../domain/traffic.js';
import { emulatorClientOptions, emulatorCredential, generateTraffic, startEmulator, type Emulator } from '../emulator/index.js';
import { cachedWorkflowBundle, loadWorkerConfig, startWorker } from '../worker/index.js';
import type { DemoFlags } from './flags.js';
import { BASELINE, DEMO_APPROVER, DEMO_STARTER, DEMO_TARGET, demoRollouts, type DemoRollout } from './scenario.js';
import { answers, foundServer, startDevServer, uiLink, type DemoTemporal } from './temporal-server.js';

/** What the demo reports about one rollout (also its `--json` output). */
export interface DemoRolloutSummary {
  title: string;
  workflowId: string;
  runId: string;
  candidate: string;
  model: string;
  expected: string;
  outcome: string;
  reason: string;
  durationMs: number | null;
  trafficHistory: string[];
  approvals: string[];
  uiUrl: string | null;
  reports: { html: string; md: string };
}

class Interrupted extends Error {
  constructor(readonly signal: string) {
    super(`interrupted by ${signal}`);
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function seconds(ms: number): string {
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
}

/**
 * The worker's configuration for the demo: the emulator's cloud, the demo's task queue and Temporal, no
 * Prometheus port, warnings only, a short grace time. Only the Temporal connection comes from the caller's
 * environment: `GLIDEPATH_*` and `SLACK_*` settings meant for a real worker (a Slack token!) are left out.
 */
function demoWorkerEnv(env: NodeJS.ProcessEnv, temporalAddress: string, taskQueue: string, emulator: Emulator, reviewer: DecisionSigner): NodeJS.ProcessEnv {
  return {
    // The simulated reviewer decides through a signer the demo's worker trusts (issue 13): its plans require verified decisions.
    GLIDEPATH_DECISION_SIGNERS: `${reviewer.name}:${reviewer.publicKey}`,
    ...Object.fromEntries(Object.entries(env).filter(([k]) => !/^(GLIDEPATH_|SLACK_)/.test(k))),
    TEMPORAL_ADDRESS: temporalAddress,
    GLIDEPATH_TASK_QUEUE: taskQueue,
    GLIDEPATH_CLOUD: 'emulator',
    GLIDEPATH_EMULATOR_URL: emulator.url,
    GLIDEPATH_EMULATOR_CA: emulator.caCertPath,
    GLIDEPATH_METRICS_ADDRESS: 'off',
    GLIDEPATH_LOG_LEVEL: 'WARN',
    GLIDEPATH_SHUTDOWN_GRACE: '2000',
  };
}

/** Creates the demo's endpoint on the emulator with the unmodified ARM SDK: `blue` at 100% live traffic. Returns its key. */
async function createDemoEndpoint(emulator: Emulator): Promise<string> {
  const arm = new AzureMachineLearningWorkspaces(emulatorCredential(), DEMO_TARGET.subscriptionId, emulatorClientOptions(emulator));
  const { resourceGroup: rg, workspace: ws, endpoint } = DEMO_TARGET;
  const poll = { updateIntervalInMs: 200 };
  await arm.onlineEndpoints.beginCreateOrUpdateAndWait(rg, ws, endpoint, { location: 'eastus', properties: { authMode: 'Key' } }, poll);
  await arm.onlineDeployments.beginCreateOrUpdateAndWait(
    rg,
    ws,
    endpoint,
    BASELINE.name,
    {
      location: 'eastus',
      sku: { name: 'Default', capacity: 1 },
      properties: { endpointComputeType: 'Managed', model: BASELINE.model, instanceType: 'Standard_DS3_v2', requestSettings: { maxConcurrentRequestsPerInstance: 8, requestTimeout: 'PT5S' } },
    } as never,
    poll,
  );
  await arm.onlineEndpoints.beginCreateOrUpdateAndWait(rg, ws, endpoint, { location: 'eastus', properties: { authMode: 'Key', traffic: { [BASELINE.name]: 100 } } }, poll);
  return (await arm.onlineEndpoints.listKeys(rg, ws, endpoint)).primaryKey ?? '';
}

/** Runs the demo with parsed flags; returns the exit code. Errors with a CLI meaning are thrown for client/cli.ts to map. */
export async function runDemo(flags: DemoFlags, env: NodeJS.ProcessEnv): Promise<number> {
  const out = (line: string) => (flags.json ? process.stderr : process.stdout).write(`${line}\n`);
  const t0 = Date.now();
  const say = (line: string) => out(`[${seconds(Date.now() - t0).padStart(6)}] ${line}`);
  mkdirSync(flags.out, { recursive: true });

  // ── interruption: one promise every wait races against; a second Ctrl-C stops at once ──
  let interrupt!: (e: Interrupted) => void;
  const interrupted = new Promise<never>((_, reject) => (interrupt = reject));
  interrupted.catch(() => undefined);
  let stopping = false;
  let temporal: DemoTemporal | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      out(`${signal} again: stopping now`);
      if (temporal?.pid) {
        try {
          process.kill(temporal.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      process.exit(130);
    }
    stopping = true;
    out(`\n${signal}: stopping what the demo started …`);
    interrupt(new Interrupted(signal));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const race = <T>(p: Promise<T>): Promise<T> => Promise.race([p, interrupted]);
  /** A pause that ends early, with Interrupted, when the demo is stopped. */
  const pause = (ms: number) => race(sleep(ms));

  // ── what gets cleaned up, in reverse order ──
  const cleanups: { name: string; run: () => Promise<unknown> }[] = [];
  const running = new Set<string>(); // workflow ids of rollouts this demo started and that have not ended
  const summaries: DemoRolloutSummary[] = [];
  let exitCode = 1;

  try {
    await race(
      (async () => {
        // ── Temporal ──
        const explicit = flags.newServer ? undefined : env.TEMPORAL_ADDRESS;
        if (explicit) {
          if (!(await answers(explicit, 2000))) throw new UnreachableError(`TEMPORAL_ADDRESS=${explicit} does not answer; unset it and the demo starts its own dev server`);
          temporal = foundServer(explicit, env.GLIDEPATH_UI_URL ?? null);
          say(`temporal   using the server at ${explicit} (TEMPORAL_ADDRESS); it is left running`);
        } else if (!flags.newServer && (await answers('127.0.0.1:7233', 500))) {
          const ui = env.GLIDEPATH_UI_URL ?? ((await answers('127.0.0.1:8233', 500)) ? 'http://127.0.0.1:8233' : null);
          temporal = foundServer('127.0.0.1:7233', ui);
          say('temporal   using the server already running at 127.0.0.1:7233; it is left running');
        } else {
          say('temporal   starting a dev server (temporal server start-dev) with its web UI …');
          const started = await startDevServer({
            env,
            logFile: join(flags.out, 'temporal-server.log'),
            uiPort: flags.uiPort,
            say,
            register: (name, run) => cleanups.push({ name, run }),
          });
          temporal = started;
          say(`temporal   dev server at ${started.address} (pid ${started.pid}), UI ${started.uiUrl}`);
        }
        const t = temporal;
        const taskQueue = `glidepath-demo-${process.pid}`;
        const settings = temporalSettings({ ...env, TEMPORAL_ADDRESS: t.address, GLIDEPATH_TASK_QUEUE: taskQueue });

        let gateway: TemporalRolloutGateway | undefined;
        for (let attempt = 0; !gateway; attempt++) {
          try {
            gateway = await TemporalRolloutGateway.connect(settings);
            await gateway.ensureSearchAttributes();
          } catch (err) {
            await gateway?.close().catch(() => undefined);
            gateway = undefined;
            if (attempt >= 20 || stopping) throw err;
            await sleep(500);
          }
        }
        const gw = gateway;
        cleanups.push({ name: 'Temporal client', run: () => gw.close() });

        // ── emulator, endpoint, traffic; the workflow bundle in parallel ──
        const bundling = cachedWorkflowBundle();
        bundling.catch(() => undefined);
        const emulator = await startEmulator({ provisionTimeMs: 1000, seed: 7 });
        cleanups.push({ name: 'emulator', run: () => emulator.close() });
        say(`emulator   Azure ML emulator at ${emulator.url} (HTTPS; the unmodified Azure SDKs talk to it)`);
        const { endpoint } = DEMO_TARGET;
        const key = await createDemoEndpoint(emulator);
        say(`endpoint   ${endpoint}: ${BASELINE.name} (${BASELINE.model}) serves 100% of live traffic`);

        const stopTraffic = new AbortController();
        const trafficLoop = (async () => {
          let sent = 0;
          for (let seed = 1; !stopTraffic.signal.aborted; seed++) {
            const r = await generateTraffic({ url: emulator.url, endpoint, key, rps: 25, durationMs: 5000, seed, caCertPem: emulator.caCertPem, signal: stopTraffic.signal }).catch(() => null);
            sent += r ? Object.values(r.statusCounts).reduce((a, b) => a + b, 0) : 0;
            if (!r && !stopTraffic.signal.aborted) await sleep(500);
          }
          return sent;
        })();
        cleanups.push({
          name: 'traffic generator',
          run: async () => {
            stopTraffic.abort();
            await trafficLoop;
          },
        });
        say(`traffic    sending ${endpoint} 25 transactions/s from the traffic generator`);

        // ── worker: the worker's own entry point, configured for the emulator ──
        // A key made for this run only, held in this process: the demo's stand-in for the approvals endpoint.
        const reviewer = createSigner('demo-reviewer', ed25519.utils.randomSecretKey());
        const worker = await startWorker(loadWorkerConfig(demoWorkerEnv(env, t.address, taskQueue, emulator, reviewer)), {
          workflowBundle: await bundling,
          azurePollIntervalMs: 300,
          shutdownForceMs: 5000,
          logFormat: 'text',
        });
        cleanups.push({
          name: 'worker',
          run: async () => {
            // A rollout still running on a server the demo does not own would wait forever for this worker.
            for (const id of running) await gw.terminate(id, 'the demo was stopped').catch(() => undefined);
            await Promise.race([worker.shutdown().catch(() => undefined), sleep(8000)]);
          },
        });
        say(`worker     polling task queue ${taskQueue}`);

        // ── the two rollouts ──
        // Interactive: you approve with the CLI and --as, which nothing signs here, so the plans do not require verified decisions.
        const rollouts = demoRollouts({ approvalTimeout: flags.interactive ? '30m' : '5m', bake: flags.bake, verified: !flags.interactive });
        for (const [i, r] of rollouts.entries()) {
          out('');
          say(`rollout ${i + 1}/${rollouts.length}: ${r.candidate} (${r.model}) — ${r.title}`);
          summaries.push(await runOne(r, i, { gw, temporal: t, namespace: settings.namespace, flags, say, pause, running, reviewer }));
        }

        // ── summary ──
        out('');
        out(`Summary (${seconds(Date.now() - t0)} in all)`);
        for (const [i, s] of summaries.entries()) {
          out(`  ${i + 1}. ${s.candidate} (${s.model}): ${s.outcome.toUpperCase()} after ${s.durationMs === null ? '?' : seconds(s.durationMs)}${s.outcome === s.expected ? '' : ` (expected ${s.expected})`}`);
          out(`     reason   ${s.reason}`);
          for (const a of s.approvals) out(`     approval ${a}`);
          out(`     traffic  ${s.trafficHistory.join('\n              → ')}`);
          out(`     UI       ${s.uiUrl ?? '(set GLIDEPATH_UI_URL to get a link to your Temporal UI)'}`);
          out(`     reports  ${relative(process.cwd(), s.reports.html)}  ${relative(process.cwd(), s.reports.md)}`);
        }
        const ok = summaries.length === rollouts.length && summaries.every((s) => s.outcome === s.expected);
        exitCode = ok ? 0 : 1;
        if (flags.json) process.stdout.write(`${JSON.stringify({ ok, temporal: { address: t.address, uiUrl: t.uiUrl, startedByDemo: t.startedByDemo }, rollouts: summaries }, null, 2)}\n`);

        if (flags.keep) {
          out('');
          out(`--keep: the Temporal server${t.startedByDemo ? '' : ' (yours)'}, the emulator at ${emulator.url}, the traffic and the worker keep running.`);
          if (t.uiUrl) out(`Browse the rollouts at ${t.uiUrl}/namespaces/${settings.namespace}/workflows — Ctrl-C stops everything the demo started.`);
          await interrupted;
        }
      })(),
    );
  } catch (err) {
    if (!(err instanceof Interrupted)) throw err;
    exitCode = 130;
  } finally {
    await cleanup(cleanups, out);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (exitCode === 130) out('stopped; nothing the demo started is left running');
  return exitCode;
}

async function cleanup(cleanups: { name: string; run: () => Promise<unknown> }[], out: (l: string) => void): Promise<void> {
  while (cleanups.length) {
    const c = cleanups.pop()!;
    try {
      await Promise.race([c.run(), sleep(10_000).then(() => out(`cleanup: ${c.name} took over 10 s; moving on`))]);
    } catch (err) {
      out(`cleanup: ${c.name}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
}

interface RunContext {
  gw: TemporalRolloutGateway;
  temporal: DemoTemporal;
  namespace: string;
  flags: DemoFlags;
  say(line: string): void;
  /** Waits, or rejects with Interrupted as soon as the demo is stopped. */
  pause(ms: number): Promise<void>;
  running: Set<string>;
  /** The simulated reviewer's signer (a trusted signer of the demo's worker). */
  reviewer: DecisionSigner;
}

/** Starts one rollout, follows it with the CLI's follow loop (approving as the simulated reviewer unless interactive), writes its reports. */
async function runOne(r: DemoRollout, index: number, ctx: RunContext): Promise<DemoRolloutSummary> {
  const { gw, say, flags } = ctx;
  const parsed = parsePlan(r.plan);
  if (!parsed.ok) throw new Error(`the demo's plan is invalid: ${parsed.issues.map((x) => `${x.path}: ${x.message}`).join('; ')}`);
  const plan: RolloutPlan = parsed.plan;
  const { workflowId, runId } = await gw.start({ plan, document: r.plan, startedBy: DEMO_STARTER });
  ctx.running.add(workflowId);
  const link = ctx.temporal.uiUrl ? uiLink(ctx.temporal.uiUrl, ctx.namespace, workflowId, runId) : null;
  say(`started    workflow ${workflowId}`);
  say(`           run ${runId}${link ? `\n           UI  ${link}` : ''}`);

  // Follow: a line per change (the CLI's line without its clock: `say` stamps the demo's own); approve when asked.
  const approvedSteps = new Set<number>();
  const end = await follow(
    workflowId,
    plan,
    {
      timeoutMs: null,
      pollMs: 1000,
      onStatus: async (s) => {
        const pending = s.pendingApproval;
        if (!pending || approvedSteps.has(pending.stepIndex)) return;
        approvedSteps.add(pending.stepIndex);
        if (flags.interactive) {
          say(`APPROVAL   the rollout waits for you. In another terminal, in this directory, run (--as is self-asserted here: this demo's plans do not require verified decisions; see README, Security model):`);
          say(`             TEMPORAL_ADDRESS=${ctx.temporal.address} npx glidepath rollout approve ${DEMO_TARGET.endpoint} --step ${pending.stepIndex + 1} --as ${DEMO_APPROVER} --comment "looks good"`);
          say(`           (or reject: … rollout reject ${DEMO_TARGET.endpoint} --step ${pending.stepIndex + 1} --as ${DEMO_APPROVER} --reason "…")`);
        } else {
          say(`reviewer   ${DEMO_APPROVER} reads the mirror analysis and the cost check …`);
          await ctx.pause(4000);
          const decision = { workflowId, runId: (await gw.describe(workflowId)).runId, stepIndex: pending.stepIndex, decision: 'approve' as const, person: DEMO_APPROVER, channel: 'cli' as const };
          const signature = ctx.reviewer.sign(decision);
          const answer = await gw.send(workflowId, 'approve', { by: DEMO_APPROVER, comment: 'mirror analysis clean, cost within budget (simulated reviewer)', stepIndex: pending.stepIndex, channel: 'cli', signature });
          say(`reviewer   ${DEMO_APPROVER} approved (signed by ${ctx.reviewer.name}): ${answer.message}`);
        }
      },
    },
    gw,
    { now: () => Date.now(), sleep: ctx.pause, progress: (line) => say(`progress   ${line.slice(9).replace(/\n/g, `\n${' '.repeat(9)}`)}`) },
  );
  ctx.running.delete(workflowId);

  // Reports, while this run is still the workflow id's latest run.
  const summary = await gw.describe(workflowId);
  const input = await gw.input(workflowId).catch(() => null);
  const result: SafeRolloutResult | null = end.kind === 'result' ? end.result : null;
  const report = buildReport({ summary, input, result, status: null, failure: end.kind === 'failure' ? { errorType: end.errorType, message: end.message } : null, now: new Date() });
  const base = join(flags.out, `rollout-${index + 1}-${r.candidate}`);
  writeFileSync(`${base}.html`, renderHtml(report));
  writeFileSync(`${base}.md`, renderMarkdown(report));

  const outcome = result?.outcome ?? 'failed';
  const reason = result?.reason ?? (end.kind === 'failure' ? end.message : '');
  const trafficHistory: string[] = [];
  for (const e of result?.timeline ?? []) if (e.kind === 'traffic') trafficHistory.push(e.text);
  if (result?.rollback?.traffic) trafficHistory.push(`${formatTraffic(result.rollback.traffic)} (rolled back, read back from the endpoint)`);
  const durationMs = result ? Date.parse(result.finishedAt) - Date.parse(result.startedAt) : null;
  say(`finished   ${outcome}: ${reason}`);
  return {
    title: r.title,
    workflowId,
    runId,
    candidate: r.candidate,
    model: r.model,
    expected: r.expected,
    outcome,
    reason,
    durationMs,
    trafficHistory,
    approvals: (result?.approvals ?? []).map((a) => `${a.decision} by ${a.by} at ${a.at.slice(11, 19)}${a.comment ? ` (${a.comment})` : ''}`),
    uiUrl: link,
    reports: { html: `${base}.html`, md: `${base}.md` },
  };
}
