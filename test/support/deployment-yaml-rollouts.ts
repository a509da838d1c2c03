/**
 * Rolling a sample deployment YAML (test/fixtures/deployments) out on the emulator the way a user does:
 * a plan file beside the fixtures takes the YAML with `candidate.deploymentFile`, and `glidepath rollout
 * start --json` runs through the CLI's own entry point (client/cli.ts `main`): its plan reader, its asset
 * upload and registration (client/assets.ts, against the emulator's workspace and Azurite), and its
 * Temporal gateway, which starts the real safeRollout workflow. The worker (real activities, unmodified
 * Azure SDK) is the caller's; the traffic generator sends transactions while the rollout runs.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { stringify } from 'yaml';
import { assetTargetFromEnv } from '../../client/asset-target.js';
import { main, type CliRuntime } from '../../client/cli.js';
import type { RolloutGateway } from '../../client/temporal.js';
import { TemporalRolloutGateway } from '../../client/temporal.js';
import type { SafeRolloutResult } from '../../domain/rollout.js';
import { generateTraffic, type Emulator } from '../../emulator/index.js';
import { anEndpointWith, RG, setTraffic, SUB, WS } from '../emulator/support.js';
import type { ResolvedAsset } from '../../client/assets.js';

/** The sample deployment YAMLs and the local folders they name. */
export const DEPLOYMENTS_DIR = join(import.meta.dirname, '..', 'fixtures', 'deployments');

/** One sample to roll out: its file, and the candidate and endpoint the file names. */
export interface YamlRollout {
  file: string;
  candidate: string;
  endpoint: string;
  /** The live deployment before the rollout (default `blue`; samples whose candidate is `blue` need another). */
  baseline?: string;
}

/** What `rollout start --json` printed for the uploaded and registered assets (the CLI's ResolvedAsset, as JSON). */
export type StartedAsset = ResolvedAsset;

/** The plan file (virtual: served by the CLI's file reader) that names `r.file` as the candidate deployment. */
export function yamlPlan(r: YamlRollout): { path: string; text: string } {
  return {
    path: join(DEPLOYMENTS_DIR, `plan-for-${r.file}.yaml`),
    text: stringify({
      apiVersion: 'glidepath/v1',
      kind: 'Rollout',
      target: { subscriptionId: SUB, resourceGroup: RG, workspace: WS, endpoint: r.endpoint },
      baseline: r.baseline ?? 'blue',
      candidate: { name: r.candidate, deploymentFile: `./${r.file}` },
      strategy: [{ canary: { percent: 50, bake: '3s' } }, { promote: { rollbackWindow: '1s' } }, { retire: {} }],
      analysis: { interval: '1s', failureLimit: 2, minRequests: 5, onInconclusive: 'extend', maxExtensions: 3 },
      gates: { latencyP99Ms: { max: 2000 }, errorRate: { max: 0.05 }, modelErrorRate: { max: 0.05 } },
    }),
  };
}

let caFile: string | undefined;
/** The emulator's CA certificate as a file, as GLIDEPATH_EMULATOR_CA names it. */
function caPathOf(emu: Emulator): string {
  if (!caFile) {
    caFile = join(mkdtempSync(join(tmpdir(), 'glidepath-yaml-ca-')), 'ca.pem');
    writeFileSync(caFile, emu.caCertPem);
  }
  return caFile;
}

/**
 * Runs `glidepath <argv>` through the CLI's entry point with the real file system (plus the virtual plan),
 * assets registered in the emulator's workspace, and `gateway` for Temporal. Returns the exit code and output.
 */
export async function runCli(argv: string[], plan: { path: string; text: string }, emu: Emulator, gateway: () => Promise<RolloutGateway>): Promise<{ code: number; out: string; err: string; progress: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const progress: string[] = [];
  const env = { GLIDEPATH_EMULATOR_URL: emu.url, GLIDEPATH_EMULATOR_CA: caPathOf(emu) };
  const runtime: CliRuntime = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    deps: {
      gateway,
      files: {
        readFile: (p) => (p === plan.path ? Promise.resolve(plan.text) : readFile(p, 'utf8')),
        readStdin: () => Promise.resolve(''),
        writeFile: () => Promise.reject(new Error('the YAML rollouts write no files')),
      },
      env,
      now: () => Date.now(),
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      progress: (l) => progress.push(l),
      fetch: globalThis.fetch,
      assetTarget: (p) => assetTargetFromEnv(env, p),
    },
  };
  const code = await main(argv, runtime);
  return { code, out: out.join('\n'), err: err.join('\n'), progress };
}

/** What one sample's rollout did. */
export interface YamlRolloutRun {
  /** `<file>: promoted in 9.8s` (or the outcome and reason). */
  outcome: string;
  result: SafeRolloutResult;
  workflowId: string;
  /** The assets rollout start uploaded and registered ([] when the YAML names none). */
  assets: StartedAsset[];
  /** The deployment as the emulator holds it after the rollout (ARM `properties`), when promoted. */
  deployment?: Record<string, unknown>;
  durationS: number;
}

/**
 * Creates `r.endpoint` with its baseline at 100%, sends traffic, and runs `glidepath rollout start --json`
 * on the plan for `r.file` through the CLI; waits for the workflow's result (bounded at 90 s).
 */
export async function rollOutYaml(h: { env: TestWorkflowEnvironment; emu: Emulator; arm: AzureMachineLearningWorkspaces; taskQueue: string }, r: YamlRollout): Promise<YamlRolloutRun> {
  const baseline = r.baseline ?? 'blue';
  const key = await anEndpointWith(h.arm, r.endpoint, { [baseline]: 'azureml:fraud-detector:1' });
  await setTraffic(h.arm, r.endpoint, { [baseline]: 100 });
  const stop = new AbortController();
  const traffic = generateTraffic({ url: h.emu.url, endpoint: r.endpoint, key, rps: 30, durationMs: 90_000, seed: 7, caCertPem: h.emu.caCertPem, signal: stop.signal });
  const started = Date.now();
  let gateway: TemporalRolloutGateway | undefined;
  try {
    const cli = await runCli(['rollout', 'start', yamlPlan(r).path, '--as', 'ci@contoso.com', '--json'], yamlPlan(r), h.emu, async () => {
      gateway = await TemporalRolloutGateway.connect({ connection: { address: h.env.address }, namespace: 'default', taskQueue: h.taskQueue, address: h.env.address });
      return gateway;
    });
    if (cli.code !== 0) throw new Error(`${r.file}: rollout start exited ${cli.code}: ${cli.err}`);
    const startedJson = JSON.parse(cli.out) as { workflowId: string; assets?: StartedAsset[] };
    const result = await Promise.race([
      h.env.client.workflow.getHandle(startedJson.workflowId).result() as Promise<SafeRolloutResult>,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${r.file}: no outcome after 90 s`)), 90_000).unref()),
    ]);
    const durationS = (Date.now() - started) / 1000;
    const run: YamlRolloutRun = {
      outcome: `${r.file}: ${result.outcome} in ${durationS.toFixed(1)}s${result.outcome === 'promoted' ? '' : ` (${result.reason})`}`,
      result,
      workflowId: startedJson.workflowId,
      assets: startedJson.assets ?? [],
      durationS,
    };
    if (result.outcome === 'promoted') {
      const ep = await h.arm.onlineEndpoints.get(RG, WS, r.endpoint);
      if (ep.properties.traffic?.[r.candidate] !== 100) throw new Error(`${r.file}: promoted, but the endpoint's traffic is ${JSON.stringify(ep.properties.traffic)}`);
      run.deployment = (await h.arm.onlineDeployments.get(RG, WS, r.endpoint, r.candidate)).properties as unknown as Record<string, unknown>;
    }
    return run;
  } finally {
    stop.abort();
    await traffic;
    await gateway?.close();
  }
}
