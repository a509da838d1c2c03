/**
 * The `glidepath` CLI: the one error boundary that maps failures to exit codes and one-line messages.
 * Commands are functions `(options, deps) → CommandOutput` in client/commands/; this file parses the
 * command line, builds the deps, prints text or `--json`, and turns every error into an exit code:
 *
 *   0 success (or promoted) · 1 the rollout ended without promotion · 2 invalid input (plan, arguments,
 *   a message refused by the rollout) · 3 cannot reach or talk to Temporal or Azure · 4 `--wait` timed out
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { durationOption, parse, type Values } from './args.js';
import type { CommandDeps, CommandOutput } from './commands/types.js';
import { CliError, ExitCode, InvalidInputError, UnreachableError } from './errors.js';
import { jsonForTerminal, oneLine, terminalText } from './sanitize.js';
import type { RolloutGateway, RolloutMessage, TemporalFlags } from './temporal.js';
import { uploadBar, type UploadProgress } from './upload-bar.js';

// Command modules load when their command runs, so `--version` and `--help` load none of them: the Temporal
// client, zod and the Azure SDKs behind them are most of a cold start (issue #18: < 0.5 s installed).
const planCommands = () => import('./commands/plan.js');
const rolloutCommands = () => import('./commands/rollout.js');
const temporalModule = () => import('./temporal.js');

export { ExitCode } from './errors.js';

export const usage = `glidepath — safe rollouts of model versions to Azure ML managed online endpoints

Usage:
  glidepath plan validate <plan.yaml|-> [--set key=value]... [--resolve [--dry-run]] [--json]
  glidepath plan explain  <plan.yaml|-> [--set key=value]... [--region R] [--no-prices] [--rps N [--baseline-rate R]] [--json]
  glidepath rollout start <plan.yaml|-> [--set key=value]... [--wait] [--timeout D] [--as who] [--json]
  glidepath rollout status <rollout-id|endpoint> [--workspace W] [--subscription S] [--json]
  glidepath rollout watch|wait <rollout-id|endpoint> [--workspace W] [--subscription S] [--timeout D] [--json]
                                         follow a rollout until it ends (wait: resume in a later CI job)
  glidepath rollout approve|reject <rollout-id|endpoint> --step N --as <who> [--comment TEXT]
  glidepath rollout pause|resume|abort <rollout-id|endpoint> --as <who> [--reason TEXT]
  glidepath rollout list [--endpoint NAME] [--running] [--limit N] [--json]
  glidepath rollout report <rollout-id|endpoint> [--format md|html|json] [--out FILE]
  glidepath setup [--json]               register Glidepath's search attributes on the namespace (once)
  glidepath worker                       run a worker (GLIDEPATH_* and TEMPORAL_* environment)
  glidepath emulator …                   the local Azure ML emulator (see glidepath emulator --help)
  glidepath slack serve [--port N] [--host H]   the Slack interactivity endpoint (a signer of decisions)
  glidepath approvals serve [--port N] [--host H]   the approvals endpoint: verifies OIDC tokens, signs
                                         CLI decisions (GLIDEPATH_OIDC_*, GLIDEPATH_SIGNER_KEY)
  glidepath approvals keygen [--name NAME] [--json]   a signer key pair (secret for the signer, public for the worker)
  glidepath demo [--interactive] [--keep] [--new-server] [--ui-port N] [--out DIR] [--bake D] [--json]
                                         two rollouts on this machine (one promoted, one rolled back):
                                         Temporal dev server + UI, emulator, traffic, worker, reports
  glidepath --help | --version

Options:
  --set key=value   override a plan field (validated like the file), e.g.
                    --set candidate.deployment.model=azureml:fraud-detector:7
  --rps N           plan explain: at N requests/s to the endpoint, the time each judged gate needs to
                    fail a candidate twice as bad as its tolerance and to pass one no different from the
                    baseline, per bake step (its mirror or canary share), with a warning when a bake is
                    too short; --baseline-rate R (e.g. 0.5% or 0.005; default 1%) is the baseline's
                    event rate assumed for every judged gate
  --resolve         plan validate: read the candidate's local code folder and model path (files, bytes,
                    content hashes) and upload and register them as rollout start would; with
                    --dry-run, only list what would be uploaded and registered
  --wait            follow the rollout until it ends (progress on stdout; on stderr with --json)
  --timeout D       give up waiting after D (e.g. 30m, 2h): exit 4, the rollout keeps running
  --as who          who you are: an e-mail address or slack:<user id> (start: default $GLIDEPATH_AS or user@host)
  --step N          approve/reject: the step you decide, as rollout status shows it (step 3 = --step 3);
                    a decision for any other step than the awaited one is refused
  approve/reject with GLIDEPATH_APPROVALS_URL set go through the approvals endpoint with your token
                    ($GLIDEPATH_APPROVALS_TOKEN): the decision is signed for the person the token names
                    (--as optional); without it, --as is self-asserted and plans that require verified
                    decisions refuse it
  --address HOST:PORT, --namespace NS, --profile NAME
                    where Temporal is, as the Temporal CLI takes them (every command that talks to
                    Temporal); a flag beats TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / TEMPORAL_PROFILE
  --workspace W, --subscription S
                    which endpoint a name means when several workspaces or subscriptions have one of
                    that name (else the CLI refuses and lists them); a full rollout id needs neither
  --json            machine-readable output on stdout (errors too: {"ok":false,"exitCode":N,"error":…})
  --debug           stack traces on errors

Temporal connection: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, or a
temporal.toml profile (TEMPORAL_PROFILE) — the same configuration as the worker. Task queue:
GLIDEPATH_TASK_QUEUE (default glidepath).

Exit codes:
  0  success; for --wait and watch: the rollout was promoted
  1  the rollout ended without promotion (rolled back, rejected, aborted, failed)
  2  invalid input: unknown command or flag, unreadable or invalid plan (or one breaking its own
     policies), bad --set, unknown rollout, an endpoint name that fits several rollouts, a message the rollout refused (e.g. approving when no
     approval is awaited)
  3  cannot reach or talk to Temporal (or Azure); the namespace lacks Glidepath's search attributes
     (run glidepath setup); no worker polls the rollout's task queue (named in the message)
  4  --wait / watch --timeout ran out before the rollout ended`;

/** What main() writes to and builds commands from; tests replace any of it. */
export interface CliRuntime {
  stdout(text: string): void;
  stderr(text: string): void;
  deps: CommandDeps;
  /** Releases what the command opened (the Temporal connection). */
  close?(): Promise<void>;
}

/** The real runtime: process streams, the file system, Temporal from the environment. */
export function defaultRuntime(env: NodeJS.ProcessEnv = process.env): CliRuntime {
  let gateway: Promise<RolloutGateway> | undefined;
  return {
    stdout: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
    stderr: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
    deps: {
      gateway: (flags) => (gateway ??= temporalModule().then(({ TemporalRolloutGateway, temporalSettings }) => TemporalRolloutGateway.connect(temporalSettings(env, flags)))),
      files: {
        readFile: (p) => readFile(p, 'utf8'),
        readStdin: async () => {
          const chunks: Buffer[] = [];
          for await (const c of process.stdin) chunks.push(c as Buffer);
          return Buffer.concat(chunks).toString('utf8');
        },
        writeFile: async (p, data) => {
          await mkdir(dirname(p), { recursive: true });
          await writeFile(p, data);
        },
      },
      env,
      now: () => Date.now(),
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      progress: (line) => process.stdout.write(`${line}\n`),
      // On a terminal, uploads draw one bar per asset, rewritten in place.
      ...(process.stdout.isTTY ? { uploadProgress: (u: UploadProgress) => process.stdout.write(`\r${uploadBar(u)}${u.bytes >= u.total ? '\n' : ''}`) } : {}),
      fetch: globalThis.fetch,
      assetTarget: async (plan) => (await import('./asset-target.js')).assetTargetFromEnv(env, plan),
    },
    close: async () => {
      const g = await gateway?.catch(() => undefined);
      await g?.close().catch(() => undefined);
    },
  };
}

/** `--step N`: a step as people count them (1 is the first step). */
function stepOption(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1) throw new InvalidInputError(`--step '${text}' must be a step number as rollout status shows it (1 is the first step)`);
  return n;
}

/** `--rps N`: requests per second, a positive number. */
function rpsOption(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidInputError(`--rps '${text}' must be a positive number of requests per second to the endpoint (e.g. 50 or 0.5)`);
  return n;
}

/** `--baseline-rate R`: a fraction (0.005) or a percentage (0.5%), in [0, 1). */
function rateOption(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(%?)\s*$/.exec(text);
  const n = m ? Number(m[1]) / (m[2] ? 100 : 1) : Number.NaN;
  if (!(Number.isFinite(n) && n >= 0 && n < 1)) throw new InvalidInputError(`--baseline-rate '${text}' must be the baseline's event rate per request, below 100% (e.g. 0.5% or 0.005)`);
  return n;
}

const MESSAGES: readonly RolloutMessage[] = ['approve', 'reject', 'abort', 'pause', 'resume'];

/** The Temporal CLI's connection flags, on every command that talks to Temporal. */
const temporalOpts = { address: { type: 'string' }, namespace: { type: 'string' }, profile: { type: 'string' } } as const;
/** Which endpoint a name means when several workspaces or subscriptions have it. */
const pickOpts = { workspace: { type: 'string' }, subscription: { type: 'string' } } as const;

/** The deps with the gateway connecting as the command's `--address/--namespace/--profile` say. */
function withTemporalFlags(deps: CommandDeps, v: Values): CommandDeps {
  const flags: TemporalFlags = { address: v.address as string | undefined, namespace: v.namespace as string | undefined, profile: v.profile as string | undefined };
  for (const [name, value] of Object.entries(flags)) {
    if (value !== undefined && value.trim() === '') throw new InvalidInputError(`--${name} must not be empty`);
  }
  return { ...deps, gateway: () => deps.gateway(flags) };
}

/** The environment with the connection flags applied as the TEMPORAL_* variables they stand for (for the worker, which reads its own configuration). */
function envWithTemporalFlags(env: NodeJS.ProcessEnv, v: Values): NodeJS.ProcessEnv {
  return {
    ...env,
    ...(v.address ? { TEMPORAL_ADDRESS: v.address as string } : {}),
    ...(v.namespace ? { TEMPORAL_NAMESPACE: v.namespace as string } : {}),
    ...(v.profile ? { TEMPORAL_PROFILE: v.profile as string } : {}),
  };
}

function pickOf(v: Values): { workspace?: string; subscription?: string } {
  return { ...(v.workspace ? { workspace: v.workspace as string } : {}), ...(v.subscription ? { subscription: v.subscription as string } : {}) };
}

/** Parses and runs one command; returns its output (or `null` when it printed help itself). */
async function dispatch(argv: string[], rt: CliRuntime, flags: { json: boolean }): Promise<CommandOutput | number> {
  const [group, sub, ...rest] = argv;
  // Under --json, progress goes to stderr as lines (no bar: stdout holds the JSON).
  const deps: CommandDeps = flags.json ? { ...rt.deps, progress: (l: string) => rt.stderr(l), uploadProgress: undefined } : rt.deps;
  const planOpts = { set: { type: 'string', multiple: true } } as const;

  if (group === 'explain' || group === 'validate') return dispatch(['plan', group, ...argv.slice(1)], rt, flags);

  switch (group) {
    case 'plan': {
      if (sub === 'validate') {
        const { values, positionals } = parse(rest, { ...planOpts, resolve: { type: 'boolean' }, 'dry-run': { type: 'boolean' } }, { min: 1, max: 1, names: 'plan file (a path, or - for stdin)' });
        if (values.help) return help(rt);
        if (values['dry-run'] && !values.resolve) throw new InvalidInputError('--dry-run only applies with --resolve');
        return (await planCommands()).planValidate({ path: positionals[0]!, sets: (values.set as string[] | undefined) ?? [], resolve: Boolean(values.resolve), dryRun: Boolean(values['dry-run']) }, deps);
      }
      if (sub === 'explain') {
        const { values, positionals } = parse(
          rest,
          { ...planOpts, region: { type: 'string' }, 'prices-url': { type: 'string' }, 'no-prices': { type: 'boolean' }, rps: { type: 'string' }, 'baseline-rate': { type: 'string' } },
          { min: 1, max: 1, names: 'plan file (a path, or - for stdin)' },
        );
        if (values.help) return help(rt);
        const pricesUrl = values['no-prices'] ? null : ((values['prices-url'] as string | undefined) ?? deps.env.GLIDEPATH_PRICES_URL ?? (await import('../domain/prices.js')).DEFAULT_PRICES_URL);
        const rps = rpsOption(values.rps as string | undefined);
        const baselineRate = rateOption(values['baseline-rate'] as string | undefined);
        if (baselineRate !== undefined && rps === undefined) throw new InvalidInputError('--baseline-rate needs --rps (it is an assumption of the time-to-verdict prediction)');
        return (await planCommands()).planExplain({ path: positionals[0]!, sets: (values.set as string[] | undefined) ?? [], region: (values.region as string | undefined) ?? 'eastus', pricesUrl, ...(rps !== undefined ? { rps } : {}), ...(baselineRate !== undefined ? { baselineRate } : {}) }, deps);
      }
      throw new InvalidInputError(sub === undefined ? 'plan needs a subcommand: validate or explain' : `unknown plan subcommand '${sub}' (validate, explain)`);
    }
    case 'setup': {
      const { values } = parse(argv.slice(1), temporalOpts, { min: 0, max: 0, names: '' });
      if (values.help) return help(rt);
      const { setupCommand } = await import('./commands/setup.js');
      return setupCommand(withTemporalFlags(deps, values));
    }
    case 'rollout': {
      const poll = { poll: { type: 'string' }, ...temporalOpts } as const;
      const pollMs = (v: Values) => durationOption('poll', v.poll as string | undefined) ?? 2000;
      switch (sub) {
        case 'start': {
          const { values, positionals } = parse(
            rest,
            { ...planOpts, ...poll, wait: { type: 'boolean' }, timeout: { type: 'string' }, as: { type: 'string' } },
            { min: 1, max: 1, names: 'plan file (a path, or - for stdin)' },
          );
          if (values.help) return help(rt);
          const timeoutMs = durationOption('timeout', values.timeout as string | undefined);
          if (timeoutMs !== null && !values.wait) throw new InvalidInputError('--timeout only applies with --wait');
          return (await rolloutCommands()).rolloutStart(
            { path: positionals[0]!, sets: (values.set as string[] | undefined) ?? [], wait: Boolean(values.wait), timeoutMs, as: values.as as string | undefined, pollMs: pollMs(values) },
            withTemporalFlags(deps, values),
          );
        }
        case 'status': {
          const { values, positionals } = parse(rest, { ...temporalOpts, ...pickOpts }, { min: 1, max: 1, names: 'rollout id or endpoint name' });
          if (values.help) return help(rt);
          return (await rolloutCommands()).rolloutStatus({ target: positionals[0]!, pick: pickOf(values) }, withTemporalFlags(deps, values));
        }
        case 'watch':
        case 'wait': {
          const { values, positionals } = parse(rest, { ...poll, ...pickOpts, timeout: { type: 'string' } }, { min: 1, max: 1, names: 'rollout id or endpoint name' });
          if (values.help) return help(rt);
          return (await rolloutCommands()).rolloutWatch(
            { target: positionals[0]!, pick: pickOf(values), timeoutMs: durationOption('timeout', values.timeout as string | undefined), pollMs: pollMs(values) },
            withTemporalFlags(deps, values),
          );
        }
        case 'list': {
          const { values } = parse(rest, { ...temporalOpts, endpoint: { type: 'string' }, running: { type: 'boolean' }, limit: { type: 'string' } }, { min: 0, max: 0, names: '' });
          if (values.help) return help(rt);
          const limitText = (values.limit as string | undefined) ?? '50';
          const limit = Number(limitText);
          if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new InvalidInputError(`--limit '${limitText}' must be an integer 1..1000`);
          return (await rolloutCommands()).rolloutList({ endpoint: values.endpoint as string | undefined, running: Boolean(values.running), limit }, withTemporalFlags(deps, values));
        }
        case 'report': {
          const { values, positionals } = parse(rest, { ...temporalOpts, ...pickOpts, format: { type: 'string' }, out: { type: 'string' } }, { min: 1, max: 1, names: 'rollout id or endpoint name' });
          if (values.help) return help(rt);
          const format = (values.format as string | undefined) ?? (values.json ? 'json' : 'md');
          if (format !== 'md' && format !== 'html' && format !== 'json') throw new InvalidInputError(`--format '${format}' must be md, html or json`);
          return (await import('./commands/report.js')).rolloutReport({ target: positionals[0]!, pick: pickOf(values), format, out: values.out as string | undefined }, withTemporalFlags(deps, values));
        }
        default: {
          if (sub && (MESSAGES as readonly string[]).includes(sub)) {
            const { values, positionals } = parse(
              rest,
              { ...temporalOpts, ...pickOpts, as: { type: 'string' }, comment: { type: 'string' }, reason: { type: 'string' }, step: { type: 'string' } },
              { min: 1, max: 1, names: 'rollout id or endpoint name' },
            );
            if (values.help) return help(rt);
            return (await rolloutCommands()).rolloutMessage(
              {
                target: positionals[0]!,
                pick: pickOf(values),
                message: sub as RolloutMessage,
                as: values.as as string | undefined,
                comment: values.comment as string | undefined,
                reason: values.reason as string | undefined,
                step: stepOption(values.step as string | undefined),
              },
              withTemporalFlags(deps, values),
            );
          }
          throw new InvalidInputError(
            sub === undefined ? 'rollout needs a subcommand: start, status, watch, approve, reject, pause, resume, abort, list, report' : `unknown rollout subcommand '${sub}' (see glidepath --help)`,
          );
        }
      }
    }
    case 'worker': {
      const { values } = parse(argv.slice(1), temporalOpts, { min: 0, max: 0, names: '' });
      if (values.help) return help(rt);
      const { loadWorkerConfig, ConfigError, runWorker } = await import('../worker/index.js');
      let config;
      try {
        config = loadWorkerConfig(envWithTemporalFlags(deps.env, values));
      } catch (err) {
        if (err instanceof ConfigError) throw new InvalidInputError(err.message, [], { cause: err });
        throw err;
      }
      try {
        await runWorker(config);
      } catch (err) {
        if (/connect|ECONNREFUSED|transport/i.test((err as Error).message)) throw new UnreachableError(`worker cannot reach Temporal: ${(err as Error).message.split('\n')[0]}`, { cause: err });
        throw err;
      }
      return { exitCode: ExitCode.ok, text: 'worker stopped', json: { stopped: true } };
    }
    case 'emulator': {
      // Loaded only when asked, so other commands do not load the emulator (its entry point parses its own flags).
      const { emulatorCommand } = await import('../emulator/cli.js');
      return emulatorCommand(argv.slice(1));
    }
    case 'slack': {
      if (sub !== 'serve') throw new InvalidInputError(sub === undefined ? 'slack needs a subcommand: serve' : `unknown slack subcommand '${sub}' (serve)`);
      const { values } = parse(rest, { ...temporalOpts, port: { type: 'string' }, host: { type: 'string' } }, { min: 0, max: 0, names: '' });
      if (values.help) return help(rt);
      const { slackServeCommand } = await import('./commands/slack.js');
      return slackServeCommand({ port: (values.port as string | undefined) ?? deps.env.PORT ?? '3000', host: (values.host as string | undefined) ?? '0.0.0.0' }, withTemporalFlags(deps, values), rt.stderr);
    }
    case 'approvals': {
      if (sub !== 'serve' && sub !== 'keygen') throw new InvalidInputError(sub === undefined ? 'approvals needs a subcommand: serve, keygen' : `unknown approvals subcommand '${sub}' (serve, keygen)`);
      const { values } = parse(rest, { ...temporalOpts, port: { type: 'string' }, host: { type: 'string' }, name: { type: 'string' } }, { min: 0, max: 0, names: '' });
      if (values.help) return help(rt);
      const { approvalsServeCommand, approvalsKeygenCommand } = await import('./commands/approvals.js');
      if (sub === 'keygen') return approvalsKeygenCommand((values.name as string | undefined) ?? 'approvals');
      return approvalsServeCommand({ port: (values.port as string | undefined) ?? deps.env.PORT ?? '3001', host: (values.host as string | undefined) ?? '0.0.0.0' }, withTemporalFlags(deps, values), rt.stderr);
    }
    case 'demo': {
      // The demo (demo/) parses its flags with the CLI's parser (client/args.ts) and returns its exit code.
      const { demoCommand } = await import('../demo/index.js');
      return demoCommand(argv.slice(1), deps.env);
    }
    default:
      throw new InvalidInputError(`unknown command '${group}' (see glidepath --help)`);
  }
}

function help(rt: CliRuntime): number {
  rt.stdout(usage);
  return ExitCode.ok;
}

function errorOf(err: unknown): { exitCode: ExitCode; message: string; details: string[] } {
  if (err instanceof InvalidInputError) return { exitCode: err.exitCode, message: err.message, details: err.details };
  if (err instanceof CliError) return { exitCode: err.exitCode, message: err.message, details: [] };
  const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
  return { exitCode: ExitCode.unreachable, message: `unexpected error: ${message}`, details: [] };
}

/**
 * The runtime with every line it prints made safe for a terminal (client/sanitize.ts): whatever a
 * reason, a comment, a name or a remote error holds, no escape sequence or control character reaches
 * stdout or stderr (JSON keeps its data: the few characters JSON.stringify leaves raw become \u escapes).
 */
function terminalSafe(rt: CliRuntime, json: boolean): CliRuntime {
  return {
    ...rt,
    stdout: (t) => rt.stdout(json ? terminalText(jsonForTerminal(t)) : terminalText(t)),
    stderr: (t) => rt.stderr(terminalText(t)),
    deps: { ...rt.deps, progress: (l) => rt.deps.progress(terminalText(l)) },
  };
}

/** Runs one command line and returns its exit code; never throws. */
export async function main(argv: string[], runtime?: CliRuntime): Promise<number> {
  const json = argv.includes('--json');
  const rt = terminalSafe(runtime ?? defaultRuntime(), json);
  const debug = argv.includes('--debug');
  const [command] = argv;
  try {
    switch (command) {
      case undefined:
        rt.stderr(usage);
        return ExitCode.invalidInput;
      case '--help':
      case '-h':
      case 'help':
        rt.stdout(usage);
        return ExitCode.ok;
      case '--version': {
        // From the sources this file is client/cli.ts; installed, it is dist/client/cli.js: one level deeper.
        const pkgUrl = new URL(import.meta.url.endsWith('.ts') ? '../package.json' : '../../package.json', import.meta.url);
        const pkg = JSON.parse(await readFile(pkgUrl, 'utf8')) as { version: string };
        rt.stdout(pkg.version);
        return ExitCode.ok;
      }
      default: {
        const out = await dispatch(argv, rt, { json });
        if (typeof out === 'number') return out;
        rt.stdout(json ? JSON.stringify(out.json, null, 2) : out.text);
        return out.exitCode;
      }
    }
  } catch (err) {
    const e = errorOf(err);
    // One line each: a name or reason inside a message cannot start a line of its own.
    rt.stderr(`glidepath: ${oneLine(e.message)}`);
    for (const d of e.details) rt.stderr(`  ${oneLine(d)}`);
    if (debug && err instanceof Error && err.stack) rt.stderr(err.stack);
    if (json) rt.stdout(JSON.stringify({ ok: false, exitCode: e.exitCode, error: e.message, ...(e.details.length ? { details: e.details } : {}) }));
    return e.exitCode;
  } finally {
    await rt.close?.();
  }
}
