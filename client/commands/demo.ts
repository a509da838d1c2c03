/**
 * `glidepath demo` (`npm run demo`): the whole story on this machine in about two minutes.
 *
 * It reuses a Temporal server that answers (TEMPORAL_ADDRESS, else 127.0.0.1:7233) or starts the Temporal
 * CLI's dev server with its web UI and Glidepath's search attributes; starts the Azure ML emulator, an
 * endpoint `fraud-detection` whose `blue` deployment (fraud-detector:1) serves live traffic from the
 * traffic generator, and a worker on a task queue of its own; then runs two rollouts on that endpoint,
 * one after the other (client/demo/scenario.ts):
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
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { parseDuration } from '../../domain/duration.js';
import { parsePlan, type RolloutPlan } from '../../domain/plan.js';
import type { RolloutStatus, SafeRolloutResult } from '../../domain/rollout.js';
import { formatTraffic } from '../../domain/traffic.js';
import { BASELINE, DEMO_APPROVER, DEMO_STARTER, DEMO_TARGET, demoRollouts, type DemoRollout } from '../demo/scenario.js';
import { answers, foundServer, startDevServer, uiLink, type DemoTemporal } from '../demo/temporal-server.js';
import { InvalidInputError, UnreachableError } from '../errors.js';
import { formatProgress, progressKey } from '../progress.js';
import { buildReport, renderHtml, renderMarkdown } from '../report.js';
import { TemporalRolloutGateway, temporalSettings, type RolloutEnd } from '../temporal.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export const demoUsage = `glidepath demo — two rollouts on a local Azure ML emulator, start to finish, in about two minutes

Usage:
  glidepath demo [--interactive] [--keep] [--new-server] [--ui-port N] [--out DIR] [--bake D] [--json]

  --interactive   wait for you to approve the first rollout (prints the exact command) instead of a
                  simulated reviewer approving after a pause
  --keep          leave the Temporal server, emulator and worker running after the rollouts (Ctrl-C stops them)
  --new-server    always start a dev server of its own, even when TEMPORAL_ADDRESS or 127.0.0.1:7233 answers
  --ui-port N     the Temporal UI port when the demo starts its own dev server (default 8233, else a free one)
  --out DIR       where the reports go (default .glidepath/demo)
  --bake D        bake time of each mirror and canary step of the first rollout (default 8s)
  --json          progress on stderr; a JSON summary on stdout

Temporal: reuses TEMPORAL_ADDRESS, else 127.0.0.1:7233 when something answers there; otherwise starts
\`temporal server start-dev\` (found like scripts/ensure-temporal.sh; obtained by it on first use) and stops
it on exit. Exit codes: 0 one rollout promoted and one rolled back, 1 otherwise, 2 bad flags, 3 Temporal
unreachable, 130 interrupted.`;

/** The demo's flags. */
export interface DemoFlags {
  interactive: boolean;
  keep: boolean;
  newServer: boolean;
  uiPort: number | undefined;
  out: string;
  bake: string;
  json: boolean;
}

/** Parses `glidepath demo …`; null for --help. */
export function parseDemoArgs(argv: string[]): DemoFlags | null {
  let r;
  try {
    r = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        interactive: { type: 'boolean' },
        manual: { type: 'boolean' }, // the first name of --interactive
        keep: { type: 'boolean' },
        'new-server': { type: 'boolean' },
        'ui-port': { type: 'string' },
        out: { type: 'string' },
        bake: { type: 'string' },
        json: { type: 'boolean' },
        debug: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new InvalidInputError(`${(err as Error).message.split('\n')[0]} (see glidepath demo --help)`, [], { cause: err });
  }
  const v = r.values;
  if (v.help) return null;
  let uiPort: number | undefined;
  if (v['ui-port'] !== undefined) {
    uiPort = Number(v['ui-port']);
    if (!Number.isInteger(uiPort) || uiPort < 1 || uiPort > 65535) throw new InvalidInputError(`--ui-port '${v['ui-port']}' must be a port number 1..65535`);
  }
  const bake = v.bake ?? '8s';
  const bakeMs = parseDuration(bake);
  if (bakeMs === undefined || bakeMs < 1000 || bakeMs > 10 * 60_000) throw new InvalidInputError(`--bake '${bake}' must be a duration from 1s to 10m`);
  return { interactive: Boolean(v.interactive || v.manual), keep: Boolean(v.keep), newServer: Boolean(v['new-server']), uiPort, out: resolve(v.out ?? join('.glidepath', 'demo')), bake, json: Boolean(v.json) };
}

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

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/**
 * The workflow bundle, cached like the tests cache it (node_modules/.cache/glidepath, keyed by the
 * sources of workflows/ and domain/ and the lockfile), so a second demo does not run webpack again.
 */
async function workflowBundleCode(): Promise<string> {
  const workflowsPath = join(repoRoot, 'workflows', 'index.ts');
  const hash = createHash('sha256').update(workflowsPath);
  for (const f of [...sourceFiles(dirname(workflowsPath)), ...sourceFiles(join(repoRoot, 'domain')), join(repoRoot, 'package-lock.json')].sort()) {
    if (existsSync(f)) hash.update(f).update(readFileSync(f));
  }
  const dir = join(repoRoot, 'node_modules', '.cache', 'glidepath');
  const file = join(dir, `workflows-${hash.digest('hex').slice(0, 16)}.bundle.js`);
  if (existsSync(file)) return readFileSync(file, 'utf8');
  const { bundleWorkflowCode, DefaultLogger } = await import('@temporalio/worker');
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, code);
  return code;
}

function seconds(ms: number): string {
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
}

/** Runs the demo; returns the exit code. Errors with a CLI meaning are thrown for client/cli.ts to map. */
export async function demoCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const flags = parseDemoArgs(argv);
  if (!flags) {
    process.stdout.write(`${demoUsage}\n`);
    return 0;
  }
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
        const client = new Client({ connection: await Connection.connect(settings.connection), namespace: settings.namespace });
        cleanups.push({ name: 'Temporal client (terminate)', run: () => client.connection.close() });

        // ── emulator, endpoint, traffic; the workflow bundle in parallel ──
        const bundling = workflowBundleCode();
        bundling.catch(() => undefined);
        const { startEmulator, generateTraffic, emulatorClientOptions, emulatorCredential } = await import('../../emulator/index.js');
        const { mirrorTrafficPolicy } = await import('../../activities/azure-clients.js');
        const emulator = await startEmulator({ provisionTimeMs: 1000, seed: 7 });
        cleanups.push({ name: 'emulator', run: () => emulator.close() });
        say(`emulator   Azure ML emulator at ${emulator.url} (HTTPS; the unmodified Azure SDKs talk to it)`);
        const { AzureMachineLearningWorkspaces } = await import('@azure/arm-machinelearning');
        const arm = new AzureMachineLearningWorkspaces(emulatorCredential(), DEMO_TARGET.subscriptionId, emulatorClientOptions(emulator));
        arm.pipeline.addPolicy(mirrorTrafficPolicy());
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
        const key = (await arm.onlineEndpoints.listKeys(rg, ws, endpoint)).primaryKey ?? '';
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

        // ── worker ──
        const { NativeConnection, Worker, Runtime, DefaultLogger } = await import('@temporalio/worker');
        try {
          Runtime.install({ logger: new DefaultLogger('WARN') });
        } catch {
          // a runtime was installed already (tests): keep it
        }
        const { createActivities } = await import('../../activities/create-activities.js');
        const code = await bundling;
        const connection = await NativeConnection.connect(settings.connection as never);
        const worker = await Worker.create({
          connection,
          namespace: settings.namespace,
          taskQueue,
          workflowBundle: { code },
          activities: createActivities({ azure: { cloud: 'emulator', url: emulator.url, caCertPem: emulator.caCertPem }, pollIntervalMs: 300 }),
          shutdownGraceTime: '2s',
          shutdownForceTime: '5s',
        });
        const workerRun = worker.run();
        cleanups.push({
          name: 'worker',
          run: async () => {
            // A rollout still running on a server the demo does not own would wait forever for this worker.
            for (const id of running) {
              await client.workflow.getHandle(id).terminate('the demo was stopped').catch(() => undefined);
            }
            if (worker.getState() === 'RUNNING') worker.shutdown();
            await Promise.race([workerRun.catch(() => undefined), sleep(8000)]);
            await connection.close().catch(() => undefined);
          },
        });
        say(`worker     polling task queue ${taskQueue}`);

        // ── the two rollouts ──
        const rollouts = demoRollouts({ approvalTimeout: flags.interactive ? '30m' : '5m', bake: flags.bake });
        for (const [i, r] of rollouts.entries()) {
          out('');
          say(`rollout ${i + 1}/${rollouts.length}: ${r.candidate} (${r.model}) — ${r.title}`);
          summaries.push(await runOne(r, i, { gw, client, temporal: t, settings, flags, say, running, isStopping: () => stopping }));
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
  client: Client;
  temporal: DemoTemporal;
  settings: { namespace: string; address: string };
  flags: DemoFlags;
  say(line: string): void;
  running: Set<string>;
  isStopping(): boolean;
}

/** Starts one rollout, follows it (approving as the simulated reviewer unless interactive), writes its reports. */
async function runOne(r: DemoRollout, index: number, ctx: RunContext): Promise<DemoRolloutSummary> {
  const { gw, say, flags } = ctx;
  const parsed = parsePlan(r.plan);
  if (!parsed.ok) throw new Error(`the demo's plan is invalid: ${parsed.issues.map((x) => `${x.path}: ${x.message}`).join('; ')}`);
  const plan: RolloutPlan = parsed.plan;
  const { workflowId, runId } = await gw.start({ plan, document: r.plan, startedBy: DEMO_STARTER });
  ctx.running.add(workflowId);
  const link = ctx.temporal.uiUrl ? uiLink(ctx.temporal.uiUrl, ctx.settings.namespace, workflowId, runId) : null;
  say(`started    workflow ${workflowId}`);
  say(`           run ${runId}${link ? `\n           UI  ${link}` : ''}`);

  // Follow: a line per change; approve when asked.
  let lastKey = '';
  const approvedSteps = new Set<number>();
  let end: RolloutEnd | undefined;
  while (!end) {
    if (ctx.isStopping()) throw new Interrupted('SIGINT');
    const d = await gw.describe(workflowId);
    if (d.execution !== 'RUNNING') {
      end = await gw.outcome(workflowId);
      break;
    }
    let s: RolloutStatus | undefined;
    try {
      s = await gw.status(workflowId);
    } catch {
      s = undefined; // the query can race the end of the run; the next describe tells
    }
    if (s) {
      const key = progressKey(s);
      if (key !== lastKey) {
        lastKey = key;
        say(`progress   ${formatProgress(s, plan, Date.now()).slice(9)}`);
      }
      const pending = s.pendingApproval;
      if (pending && !approvedSteps.has(pending.stepIndex)) {
        approvedSteps.add(pending.stepIndex);
        if (flags.interactive) {
          say(`APPROVAL   the rollout waits for you. In another terminal, in this directory, run:`);
          say(`             TEMPORAL_ADDRESS=${ctx.settings.address} npx glidepath rollout approve ${DEMO_TARGET.endpoint} --step ${pending.stepIndex + 1} --as ${DEMO_APPROVER} --comment "looks good"`);
          say(`           (or reject: … rollout reject ${DEMO_TARGET.endpoint} --step ${pending.stepIndex + 1} --as ${DEMO_APPROVER} --reason "…")`);
        } else {
          say(`reviewer   ${DEMO_APPROVER} reads the mirror analysis and the cost check …`);
          await sleep(4000);
          const answer = await gw.send(workflowId, 'approve', { by: DEMO_APPROVER, comment: 'mirror analysis clean, cost within budget (simulated reviewer)', stepIndex: pending.stepIndex, channel: 'cli' });
          say(`reviewer   ${DEMO_APPROVER} approved: ${answer.message}`);
        }
      }
    }
    await sleep(1000);
  }
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
