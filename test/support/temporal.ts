/**
 * Finds the Temporal server binaries (see scripts/ensure-temporal.sh) and builds test environments.
 *
 * One TestWorkflowEnvironment per test file; one workflow bundle per test run (cached on disk by the
 * content of the source files it is built from, so every file of a run and every later run with the same
 * code reuse it).
 */
import { execFileSync } from 'node:child_process';
import { after, before } from 'node:test';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import proto from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { cachedWorkflowBundle, WORKFLOWS_PATH } from '../../worker/bundle.js';
import { glidepathSearchAttributes } from '../../workflows/search-attributes.js';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const CLI_VERSION = '1.5.1';
export const TEST_SERVER_VERSION = '1.38.0';

function cacheDir(): string {
  return process.env.GLIDEPATH_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'glidepath');
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = join(dir, name);
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

const hint = 'run `npm run temporal:ensure` (scripts/ensure-temporal.sh) first';

/** Path of the `temporal` CLI whose `server start-dev` is the dev server: $TEMPORAL_CLI_PATH → PATH → cache. */
export function findTemporalCli(): string {
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`TEMPORAL_CLI_PATH=${fromEnv} does not exist`);
    return fromEnv;
  }
  const found = onPath('temporal') ?? join(cacheDir(), `temporal-cli-${CLI_VERSION}`, 'bin', 'temporal');
  if (!existsSync(found)) throw new Error(`no Temporal CLI found (looked at $TEMPORAL_CLI_PATH, PATH, ${found}); ${hint}`);
  return found;
}

/** Path of the wrapper that execs the Java time-skipping test server: $TEMPORAL_TEST_SERVER_PATH → cache. */
export function findTestServer(): string {
  const found =
    process.env.TEMPORAL_TEST_SERVER_PATH ??
    join(cacheDir(), `temporal-test-server-${TEST_SERVER_VERSION}`, 'temporal-test-server');
  if (!existsSync(found)) throw new Error(`no Temporal test server found at ${found}; ${hint}`);
  return found;
}

let runtimeInstalled = false;
/** Quiet the SDK's own logging in tests (warnings and errors still show). Call before anything else touches the runtime. */
export function installTestRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('WARN') });
}

/** A dev server (`temporal server start-dev`) on a random port, with Glidepath's search attributes registered. */
export async function createDevEnv(opts: { dbFilename?: string; ui?: boolean; extraArgs?: string[] } = {}): Promise<TestWorkflowEnvironment> {
  installTestRuntime();
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: findTemporalCli() },
      searchAttributes: glidepathSearchAttributes,
      ...(opts.dbFilename ? { dbFilename: opts.dbFilename } : {}),
      ...(opts.ui ? { ui: true } : {}),
      ...(opts.extraArgs ? { extraArgs: opts.extraArgs } : {}),
    },
  });
}

/** The Java time-skipping test server: timers fire as soon as the workflow would otherwise wait. */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  installTestRuntime();
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: findTestServer() } },
  });
  // The test server knows only its pre-registered attributes; add Glidepath's so workflows may upsert them.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      glidepathSearchAttributes.map((k) => [k.name, proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
    ),
  });
  return env;
}

/**
 * The workflow bundle for `workflowsPath` (default: workflows/index.ts), from the one cache every bundle
 * user shares (worker/bundle.ts: node_modules/.cache/glidepath, keyed by the sources it is built from).
 */
export async function workflowBundle(workflowsPath = WORKFLOWS_PATH): Promise<WorkflowBundleWithSourceMap> {
  return (await cachedWorkflowBundle(workflowsPath)) as unknown as WorkflowBundleWithSourceMap;
}

/** A unique, readable task queue / id suffix per test. */
let counter = 0;
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

/** `temporal --version`, for diagnostics. */
export function temporalCliVersion(): string {
  return execFileSync(findTemporalCli(), ['--version'], { encoding: 'utf8' }).trim();
}

/** Dev-server flags that make the server suggest continue-as-new after 150 events, so tests reach it quickly. */
export const CONTINUE_AS_NEW_AT_150 = ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=150'];

/**
 * A test file's dev server and workflow bundle, registered as node:test hooks: made before the file's
 * tests, the server torn down after them. The fields are set once `before` has run.
 */
export function useDevServer(opts: Parameters<typeof createDevEnv>[0] = {}): { env: TestWorkflowEnvironment; bundle: WorkflowBundleWithSourceMap } {
  const dev = {} as { env: TestWorkflowEnvironment; bundle: WorkflowBundleWithSourceMap };
  before(async () => {
    [dev.env, dev.bundle] = await Promise.all([createDevEnv(opts), workflowBundle()]);
  });
  after(async () => {
    await (dev as Partial<typeof dev>).env?.teardown();
  });
  return dev;
}
