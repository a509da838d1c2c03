// Deployment YAMLs shaped like Azure's samples (test/fixtures/deployments) roll out to promotion: each plan
// takes its file with candidate.deploymentFile and is started with `glidepath rollout start` through the
// CLI's entry point (test/support/deployment-yaml-rollouts.ts): the CLI reads the file, uploads and registers
// the local assets it names (code, model, conda file) in the emulator's workspace and Azurite, and starts the
// real safeRollout workflow (Temporal dev server) with ARM ids only; the worker runs the real activities with
// the unmodified Azure SDK against the emulator while the traffic generator sends transactions.
// Each rollout is a 50% canary of 3 s, promote and retire: about 10 s each, bounded at 90 s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import type { SafeRolloutResult } from '../../domain/rollout.js';
import { FakeGateway } from '../client-unit/fake-gateway.js';
import { RG, SUB, WS } from '../emulator/support.js';
import { useEmulatorWithBlobs } from '../support/emulator-with-blobs.js';
import { DEPLOYMENTS_DIR, rollOutYaml, runCli, yamlPlan, type StartedAsset, type YamlRollout, type YamlRolloutRun } from '../support/deployment-yaml-rollouts.js';
import { historyText } from '../support/history.js';
import { uniqueName } from '../support/temporal.js';

const rig = useEmulatorWithBlobs({ provisionTimeMs: 300 });

/** Runs `body` with a worker (real activities against the emulator) on a fresh task queue. */
async function withWorker(body: (taskQueue: string) => Promise<void>): Promise<void> {
  const taskQueue = uniqueName('yamls');
  const worker = await rig.worker(taskQueue);
  await worker.runUntil(() => body(taskQueue));
}

/** The files that roll out, their candidate and endpoint as the files name them, and what to check after. */
const ROLLOUTS: (YamlRollout & { check?: (result: SafeRolloutResult, deployment: Record<string, unknown>) => void })[] = [
  {
    file: 'custom-container-no-model.yml',
    candidate: 'container',
    endpoint: 'yaml-container',
    check: (_r, d) => {
      assert.equal(d.model, undefined, 'no model was sent');
      assert.equal(d.environmentId, 'azureml:fraud-serving-image:3');
      assert.equal(d.modelMountPath, '/var/fraud-model');
      assert.deepEqual(d.environmentVariables, { WORKER_COUNT: '2', LOG_LEVEL: 'info' });
    },
  },
  { file: 'mlflow-no-code-registered.yml', candidate: 'mlflow', endpoint: 'yaml-mlflow', check: (_r, d) => assert.equal(d.model, 'azureml:fraud-detector:2') },
  {
    file: 'registry-model.yml',
    candidate: 'registry',
    endpoint: 'yaml-registry',
    check: (_r, d) => {
      assert.equal(d.model, 'azureml://registries/azureml/models/fraud-detector/versions/2');
      assert.equal(d.environmentId, 'azureml://registries/azureml/environments/sklearn-1.5/labels/latest');
    },
  },
  {
    file: 'data-collector.yml',
    candidate: 'collector',
    endpoint: 'yaml-collector',
    check: (_r, d) => {
      const dc = d.dataCollector as { collections: Record<string, { dataCollectionMode: string; samplingRate?: number }>; rollingRate?: string } | undefined;
      assert.ok(dc, 'dataCollector reached ARM (the SDK alone would have dropped it)');
      assert.equal(dc.collections.model_inputs?.dataCollectionMode, 'Enabled');
      assert.equal(dc.collections.response?.dataCollectionMode, 'Disabled');
      assert.equal(dc.collections.request?.samplingRate, 0.5);
      assert.equal(dc.rollingRate, 'Hour');
    },
  },
  {
    file: 'keyvault.yml',
    candidate: 'kvdep',
    endpoint: 'yaml-keyvault',
    check: (_r, d) => {
      const vars = d.environmentVariables as Record<string, string>;
      assert.equal(vars.KV_SECRET_MULTIPLIER, 'multiplier@https://kv-fraud-prod.vault.azure.net', 'references are sent unchanged');
      assert.equal(vars.DB_PASSWORD, '${{keyvault:https://kv-fraud-prod.vault.azure.net/secrets/db-password}}');
    },
  },
  {
    file: 'latest-model.yml',
    candidate: 'latest',
    endpoint: 'yaml-latest',
    check: (r, d) => {
      assert.equal(r.resolvedModel, 'azureml:fraud-detector:6', 'the newest created version, recorded in the result');
      assert.equal(d.model, 'azureml:fraud-detector:6', 'deployed as the resolved version, not @latest');
      assert.ok(r.timeline.some((e) => /azureml:fraud-detector@latest is azureml:fraud-detector:6/.test(e.text)), 'the timeline says what @latest resolved to');
    },
  },
  {
    file: 'every-managed-key.yml',
    candidate: 'full',
    endpoint: 'yaml-full',
    check: (_r, d) => {
      assert.equal(d.instanceType, 'Standard_E16s_v3');
      assert.equal(d.egressPublicNetworkAccess, 'Disabled');
      assert.equal(d.appInsightsEnabled, true);
      assert.equal(d.modelMountPath, '/var/azureml-app/fraud');
      assert.deepEqual((d.livenessProbe as Record<string, unknown>).initialDelay, 'PT10S');
    },
  },
];

test('the sample deployment YAMLs without local assets each roll out to promotion on the emulator', { timeout: 15 * 60_000 }, async () => {
  const runs: YamlRolloutRun[] = [];
  await withWorker(async (taskQueue) => {
    for (const r of ROLLOUTS) {
      const run = await rollOutYaml({ env: rig.env, emu: rig.emu, arm: rig.arm, taskQueue }, r);
      runs.push(run);
      assert.deepEqual(run.assets, [], `${r.file}: nothing to upload`);
      if (run.deployment) r.check?.(run.result, run.deployment);
    }
  });
  // Every file's outcome, printed for the record (durations included), then judged together.
  console.log(runs.map((r) => r.outcome).join('\n'));
  assert.deepEqual(
    runs.map((r) => r.outcome.replace(/ in [\d.]+s/, '')),
    ROLLOUTS.map((r) => `${r.file}: promoted`),
  );
});

/** The samples with local assets, what rollout start must upload and register for each, and how the deployment must reference them. */
const LOCAL: (YamlRollout & { assets: Record<string, RegExp> })[] = [
  {
    file: 'local-assets-blue.yml',
    candidate: 'blue',
    endpoint: 'fraud-local',
    baseline: 'live',
    assets: { 'code_configuration.code': /\/codes\/[0-9a-f-]{36}\/versions\/1$/, 'model.path': /\/models\/[0-9a-f]{64}\/versions\/1$/, environment: /\/environments\/CliV2AnonymousEnvironment\/versions\/[0-9a-f]{64}$/ },
  },
  {
    file: 'tfserving-custom-container.yml',
    candidate: 'tfserving',
    endpoint: 'fraud-tfserving',
    assets: { 'model.path': /\/models\/fraud-tf-model\/versions\/1$/, environment: /\/environments\/CliV2AnonymousEnvironment\/versions\/[0-9a-f]{64}$/ },
  },
  { file: 'mlflow-no-code.yml', candidate: 'sklearn', endpoint: 'fraud-mlflow', assets: { 'model.path': /\/models\/fraud-sklearn-mlflow\/versions\/2$/ } },
  { file: 'triton-no-code.yml', candidate: 'blue', endpoint: 'fraud-triton', baseline: 'live', assets: { 'model.path': /\/models\/fraud-onnx-model\/versions\/1$/ } },
  { file: 'build-context.yml', candidate: 'built', endpoint: 'fraud-build', assets: { 'environment.build.path': /\/environments\/CliV2AnonymousEnvironment\/versions\/[0-9a-f]{64}$/ } },
];

/** Every blob under LocalUpload/ in workspaceblobstore, with its etag (a re-upload changes it). */
async function localUploads(): Promise<Record<string, string>> {
  const info = await rig.emu.blobStore();
  const ds = await rig.arm.datastores.get(RG, WS, 'workspaceblobstore');
  const c = new BlobServiceClient(info.url, new StorageSharedKeyCredential(info.accountName, info.accountKey)).getContainerClient((ds.properties as { containerName: string }).containerName);
  const out: Record<string, string> = {};
  for await (const b of c.listBlobsFlat({ prefix: 'LocalUpload/' })) out[b.name] = b.properties.etag ?? '';
  return out;
}

/** The asset registrations (PUTs of code, model and environment versions) the emulator answered. */
const registrations = () =>
  rig.emu
    .callLog()
    .filter((c) => c.method === 'PUT' && /\/(codes|models|environments)\/[^/]+\/versions\/[^/]+$/i.test(c.path))
    .map((c) => c.path.replace(/^.*\/workspaces\/[^/]+\//, ''));

test('the sample deployment YAMLs with local assets roll out to promotion, their assets uploaded and registered once; a second start uploads 0 bytes', { timeout: 15 * 60_000 }, async () => {
  const runs: YamlRolloutRun[] = [];
  await withWorker(async (taskQueue) => {
    for (const r of LOCAL) runs.push(await rollOutYaml({ env: rig.env, emu: rig.emu, arm: rig.arm, taskQueue }, r));
  });
  console.log(runs.map((r) => `${r.outcome}; uploaded ${r.assets.map((a) => `${a.path} ${a.bytesUploaded} B`).join(', ')}`).join('\n'));
  assert.deepEqual(
    runs.map((r) => r.outcome.replace(/ in [\d.]+s/, '')),
    LOCAL.map((r) => `${r.file}: promoted`),
  );

  for (const [i, r] of LOCAL.entries()) {
    const run = runs[i]!;
    // What rollout start uploaded and registered, and what the promoted deployment references.
    assert.deepEqual(run.assets.map((a) => a.path).sort(), Object.keys(r.assets).sort(), `${r.file}: the assets it names`);
    const id = (path: string) => run.assets.find((a) => a.path === path)!.id;
    for (const a of run.assets) {
      assert.match(a.id, new RegExp(`^/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.MachineLearningServices/workspaces/${WS}/`), `${r.file}: ${a.path} is an ARM id`);
      assert.match(a.id, r.assets[a.path]!, `${r.file}: ${a.path}`);
      assert.equal(a.reused, false, `${r.file}: ${a.path} is new`);
      if (a.path !== 'environment') assert.ok(a.bytesUploaded > 0 && a.files > 0, `${r.file}: ${a.path} uploaded its files`);
    }
    const d = run.deployment!;
    if (r.assets['model.path']) assert.equal(d.model, id('model.path'), `${r.file}: the deployment's model is the registered one`);
    if (r.assets.environment) assert.equal(d.environmentId, id('environment'), `${r.file}: the deployment's environment is the registered one`);
    if (r.assets['environment.build.path']) assert.equal(d.environmentId, id('environment.build.path'), `${r.file}: the deployment's environment is the one built from the context`);
    if (r.assets['code_configuration.code']) assert.deepEqual(d.codeConfiguration, { codeId: id('code_configuration.code'), scoringScript: 'score.py' });

    // No local path anywhere in the workflow's input or history.
    const history = historyText(await rig.env.client.workflow.getHandle(run.workflowId).fetchHistory());
    assert.ok(!history.includes(DEPLOYMENTS_DIR) && !history.includes('fixtures'), `${r.file}: no absolute path in the history`);
    const written = run.assets.filter((a) => a.path !== 'environment').map((a) => a.written);
    for (const w of written) assert.ok(!history.includes(w.replace(/\/$/, '')), `${r.file}: ${w} is not in the history`);
    assert.ok(!history.includes('conda.yaml'), `${r.file}: no conda file path in the history`);
  }

  // The models uploaded as the CLI lays them out, with their types.
  const model = async (file: string) => {
    const [, name, version] = /\/models\/([^/]+)\/versions\/([^/]+)$/.exec(runs[LOCAL.findIndex((r) => r.file === file)]!.assets.find((a) => a.path === 'model.path')!.id)!;
    return (await rig.arm.modelVersions.get(RG, WS, name!, version!)).properties;
  };
  const uploads = await localUploads();
  const blobsOf = (uri: string) => Object.keys(uploads).filter((b) => b.startsWith(`${/paths\/(.*)$/.exec(uri)![1]!}/`)).map((b) => b.replace(/^LocalUpload\/[0-9a-f]{64}\//, ''));
  const triton = await model('triton-no-code.yml');
  assert.equal(triton.modelType, 'triton_model');
  assert.deepEqual(blobsOf(triton.modelUri!), ['models/triton/fraud_onnx/1/model.onnx', 'models/triton/fraud_onnx/config.pbtxt']);
  const mlflow = await model('mlflow-no-code.yml');
  assert.equal(mlflow.modelType, 'mlflow_model');
  assert.equal(mlflow.isAnonymous, false, 'a model the YAML names is registered under its name');
  assert.ok(blobsOf(mlflow.modelUri!).includes('model/MLmodel'));
  const tf = await model('tfserving-custom-container.yml');
  assert.deepEqual(blobsOf(tf.modelUri!), ['fraud_scorer/1/saved_model.pb', 'fraud_scorer/1/variables/variables.data-00000-of-00001', 'fraud_scorer/1/variables/variables.index']);
  // The build context, without what its .amlignore leaves out, and the image build the deployment waited for.
  const built = runs[LOCAL.findIndex((r) => r.file === 'build-context.yml')]!;
  const buildEnv = (await rig.arm.environmentVersions.get(RG, WS, 'CliV2AnonymousEnvironment', built.assets[0]!.id.split('/').pop()!)).properties;
  assert.equal(buildEnv.build?.dockerfilePath, 'Dockerfile');
  const ctx = /\/(LocalUpload\/[0-9a-f]{64}\/docker-context)\/$/.exec(buildEnv.build!.contextUri)![1]!;
  assert.deepEqual(Object.keys(uploads).filter((b) => b.startsWith(`${ctx}/`)).sort(), [`${ctx}/.amlignore`, `${ctx}/Dockerfile`, `${ctx}/requirements.txt`]);
  const buildLog = (await rig.arm.onlineDeployments.getLogs(RG, WS, 'fraud-build', 'built', { containerType: 'InferenceServer', tail: 200 })).content ?? '';
  assert.match(buildLog, /Image build: Image of .*CliV2AnonymousEnvironment.* built \(Dockerfile\)/);

  // Each asset registered exactly once, as the emulator recorded the calls.
  const registered = registrations();
  assert.equal(new Set(registered).size, registered.length, `each asset version PUT once: ${registered.join(', ')}`);
  assert.equal(registered.length, runs.reduce((n, r) => n + r.assets.length, 0));

  // A second start of each plan uploads and registers nothing, and starts the workflow with the same ARM ids.
  const before = await localUploads();
  let secondBytes = 0;
  for (const [i, r] of LOCAL.entries()) {
    const gateway = new FakeGateway();
    const again = await runCli(['rollout', 'start', yamlPlan(r).path, '--as', 'ci@contoso.com', '--json'], yamlPlan(r), rig.emu, () => Promise.resolve(gateway));
    assert.equal(again.code, 0, again.err);
    const assets = (JSON.parse(again.out) as { assets: StartedAsset[] }).assets;
    secondBytes += assets.reduce((n, a) => n + a.bytesUploaded, 0);
    assert.deepEqual(assets.map((a) => [a.path, a.id, a.reused, a.bytesUploaded]), runs[i]!.assets.map((a) => [a.path, a.id, true, 0]), `${r.file}: 0 bytes uploaded the second time`);
    const input = JSON.stringify((gateway.calls.find((c) => c.op === 'start')!.args[0] as { document: unknown }).document);
    for (const a of assets) assert.ok(input.includes(a.id), `${r.file}: the second start's workflow input has ${a.id}`);
  }
  console.log(`bytes uploaded: first starts ${runs.reduce((n, r) => n + r.assets.reduce((m, a) => m + a.bytesUploaded, 0), 0)}, second starts ${secondBytes}`);
  assert.deepEqual(await localUploads(), before, 'no blob written the second time');
  assert.deepEqual(registrations(), registered, 'no asset registered the second time');
});
