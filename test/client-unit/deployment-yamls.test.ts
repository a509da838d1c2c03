/**
 * Deployment YAMLs shaped like Azure's public samples (test/fixtures/deployments), used as written through
 * `candidate.deploymentFile`: `plan validate` accepts every managed one and refuses the Kubernetes ones with
 * the message; `rollout start` starts the ones whose assets are registered; the ones with local assets list
 * their files with `--resolve --dry-run` (uploading them is tested on the emulator); the workflow input
 * carries the spec, never the file's path.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { deploymentBody, extraDeploymentProperties } from '../../activities/deployment-body.js';
import { main } from '../../client/cli.js';
import { aPlan } from '../support/builders.js';
import { FakeGateway, testRuntime } from './fake-gateway.js';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'deployments');
const FIXTURES = readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f));

/** Each fixture, what `rollout start` must do with it, and the local or inline assets it names. */
// `uploads` lists what `plan validate --resolve --dry-run` finds to upload from the folders beside the samples;
// rollout start uploads and registers them (test/activities/deployment-yamls-on-emulator.test.ts rolls them out).
const EXPECTED: Record<string, { start: 'starts' | 'uploads' | 'refused-k8s'; pending?: string[]; uploads?: string[] }> = {
  'local-assets-blue.yml': { start: 'uploads', pending: ['model.path', 'environment.conda_file', 'code_configuration.code'], uploads: ['code_configuration.code', 'model.path'] },
  'tfserving-custom-container.yml': { start: 'uploads', pending: ['model.path', 'environment'], uploads: ['model.path'] },
  'build-context.yml': { start: 'uploads', pending: ['environment.build.path'], uploads: ['environment.build.path'] },
  'custom-container-no-model.yml': { start: 'starts' },
  'mlflow-no-code.yml': { start: 'uploads', pending: ['model.path'], uploads: ['model.path'] },
  'mlflow-no-code-registered.yml': { start: 'starts' },
  'triton-no-code.yml': { start: 'uploads', pending: ['model.path'], uploads: ['model.path'] },
  'registry-model.yml': { start: 'starts' },
  'data-collector.yml': { start: 'starts' },
  'keyvault.yml': { start: 'starts' },
  'latest-model.yml': { start: 'starts' },
  'every-managed-key.yml': { start: 'starts' },
  'kubernetes-blue.yml': { start: 'refused-k8s' },
  'kubernetes-green.yml': { start: 'refused-k8s' },
};

/** A plan next to the fixtures folder that takes `file` as written: candidate and endpoint named as the file names them. */
function planFor(file: string, patch: (plan: Record<string, unknown>) => void = () => {}): string {
  const d = parse(readFileSync(join(DIR, file), 'utf8')) as { name: string; endpoint_name: string };
  const plan: Record<string, unknown> = {
    apiVersion: 'glidepath/v1',
    kind: 'Rollout',
    target: { subscriptionId: '00000000-0000-0000-0000-000000000000', resourceGroup: 'ml-prod', workspace: 'fraud-prod', endpoint: d.endpoint_name },
    candidate: { name: d.name, deploymentFile: `../deployments/${file}` },
    strategy: [{ canary: { percent: 50, bake: '5m' } }, { promote: { rollbackWindow: '10m' } }, { retire: {} }],
  };
  patch(plan);
  return stringify(plan);
}

/** The fixtures as `deployments/<file>` and a plan per fixture as `plans/<file>`, for the CLI's file reader. */
function files(extra: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of FIXTURES) {
    out[`deployments/${f}`] = readFileSync(join(DIR, f), 'utf8');
    if (!f.startsWith('kubernetes')) out[`plans/${f}`] = planFor(f);
  }
  out['plans/kubernetes-blue.yml'] = planFor('kubernetes-blue.yml');
  out['plans/kubernetes-green.yml'] = planFor('kubernetes-green.yml');
  return { ...out, ...extra };
}

async function run(argv: string[], extraFiles: Record<string, string> = {}) {
  const gateway = new FakeGateway();
  const t = testRuntime({ files: files(extraFiles), gateway });
  const code = await main(argv, t.runtime);
  return { code, out: t.out.join(''), err: t.err.join(''), gateway };
}

describe('deployment YAMLs shaped like Azure’s samples, taken with candidate.deploymentFile', () => {
  test('the fixture folder holds every expected sample, and nothing unexpected', () => {
    assert.deepEqual([...FIXTURES].sort(), Object.keys(EXPECTED).sort());
  });

  for (const [file, want] of Object.entries(EXPECTED)) {
    if (want.start === 'refused-k8s') {
      test(`${file}: plan validate refuses it, naming the file and saying managed endpoints do not take its Kubernetes keys`, async () => {
        const r = await run(['plan', 'validate', `plans/${file}`]);
        assert.equal(r.code, 2, r.out);
        assert.match(r.err, new RegExp(`deployments/${file.replace('.', '\\.')}: `));
        assert.match(r.err, /managed online endpoints do not take type: kubernetes \(Kubernetes online deployments only\)/);
        const json = await run(['plan', 'validate', `plans/${file}`, '--json']);
        const details = JSON.stringify(JSON.parse(json.out || json.err));
        assert.match(details, /do not take resources \(Kubernetes online deployments only\)/);
        if (file === 'kubernetes-green.yml') {
          assert.match(details, /do not take instance_type: gpuinstancetype \(Kubernetes online deployments only\)/);
          assert.match(details, /do not take scale_settings.type: target_utilization \(Kubernetes online deployments only\)/);
          assert.match(details, /do not take scale_settings.min_instances \(Kubernetes online deployments only\)/);
        }
      });
      continue;
    }
    test(`${file}: plan validate accepts it as written${want.pending ? ', noting the assets rollout start needs registered' : ''}`, async () => {
      const r = await run(['plan', 'validate', `plans/${file}`, '--json']);
      assert.equal(r.code, 0, r.err);
      const json = JSON.parse(r.out) as { valid: boolean; pendingAssets: { path: string }[] };
      assert.equal(json.valid, true);
      assert.deepEqual(json.pendingAssets.map((p) => p.path), want.pending ?? []);
    });
    if (want.start === 'uploads') {
      test(`${file}: plan validate --resolve --dry-run lists the local files it would upload; rollout start without a workspace refuses (exit 2) and starts nothing`, async () => {
        // The plan names the file by its absolute path, so the folders beside it are read from disk.
        const plan = planFor(file, (p) => ((p.candidate as Record<string, unknown>).deploymentFile = join(DIR, file)));
        const extra = { 'plans/local.yaml': plan, [join(DIR, file)]: readFileSync(join(DIR, file), 'utf8') };
        const dry = await run(['plan', 'validate', 'plans/local.yaml', '--resolve', '--dry-run', '--json'], extra);
        assert.equal(dry.code, 0, dry.err);
        const assets = (JSON.parse(dry.out) as { assets: { path: string; files: unknown[]; bytes: number }[] }).assets;
        assert.deepEqual(assets.map((a) => a.path), want.uploads);
        for (const a of assets) assert.ok(a.files.length > 0 && a.bytes > 0, `${a.path}: files found`);
        const r = await run(['rollout', 'start', 'plans/local.yaml', '--as', 'ci@contoso.com'], extra);
        assert.equal(r.code, 2, r.out);
        assert.match(r.err, /the candidate names local assets to upload, and this glidepath has no workspace to upload them to/);
        assert.deepEqual(r.gateway.started, []);
      });
    } else {
      test(`${file}: rollout start starts it, and the workflow input carries the file's spec (not its path)`, async () => {
        const r = await run(['rollout', 'start', `plans/${file}`, '--as', 'ci@contoso.com', '--json']);
        assert.equal(r.code, 0, r.err);
        assert.equal(r.gateway.started.length, 1);
        const input = JSON.stringify((r.gateway.calls.find((c) => c.op === 'start')!.args[0] as { document: unknown }).document);
        assert.doesNotMatch(input, /deploymentFile|\.\.\/deployments/);
        const written = parse(readFileSync(join(DIR, file), 'utf8')) as { model?: unknown; instance_type: string };
        assert.match(input, new RegExp(written.instance_type));
        if (typeof written.model === 'string') assert.ok(input.includes(written.model), 'the model reference as written');
      });
    }
  }
});

describe('what the plan checks about a deployment file', () => {
  test('a name or endpoint_name that disagrees with the plan is refused, naming both values', async () => {
    const plan = planFor('keyvault.yml', (p) => {
      (p.candidate as Record<string, unknown>).name = 'green';
      (p.target as Record<string, unknown>).endpoint = 'fraud-detection';
    });
    const r = await run(['plan', 'validate', 'plans/mismatch.yaml', '--json'], { 'plans/mismatch.yaml': plan });
    assert.equal(r.code, 2);
    const text = r.err + r.out;
    assert.match(text, /deployments\/keyvault\.yml: name: is 'kvdep' but candidate\.name is 'green'/);
    assert.match(text, /deployments\/keyvault\.yml: endpoint_name: is 'yaml-keyvault' but target\.endpoint is 'fraud-detection'/);
  });

  test('a deployment file that does not exist is refused with its path (relative to the plan)', async () => {
    const plan = planFor('keyvault.yml', (p) => ((p.candidate as Record<string, unknown>).deploymentFile = '../deployments/nope.yml'));
    const r = await run(['plan', 'validate', 'plans/missing.yaml'], { 'plans/missing.yaml': plan });
    assert.equal(r.code, 2);
    assert.match(r.err, /candidate\.deploymentFile: cannot read deployments\/nope\.yml: no such file/);
  });

  test('deployment and deploymentFile together are refused', async () => {
    const plan = planFor('keyvault.yml', (p) => ((p.candidate as Record<string, unknown>).deployment = { model: 'azureml:fraud-detector:2', instance_type: 'Standard_DS3_v2', instance_count: 1 }));
    const r = await run(['plan', 'validate', 'plans/both.yaml'], { 'plans/both.yaml': plan });
    assert.equal(r.code, 2);
    assert.match(r.err, /candidate\.deploymentFile: give candidate\.deployment or candidate\.deploymentFile, not both/);
  });

  test('an environment named @latest is refused by rollout start (only a model @latest is resolved), and plan validate accepts it', async () => {
    const sets = ['--set', 'candidate.deployment.environment=azureml:fraud-env@latest'];
    assert.equal((await run(['plan', 'validate', 'plans/keyvault.yml', ...sets])).code, 0);
    const r = await run(['rollout', 'start', 'plans/keyvault.yml', '--as', 'ci@contoso.com', ...sets]);
    assert.equal(r.code, 2);
    assert.match(r.err, /candidate\.deployment\.environment: azureml:fraud-env@latest — glidepath resolves @latest for models only .* name the version, azureml:fraud-env:<version>/);
    assert.deepEqual(r.gateway.started, []);
  });

  test('--set overrides a key of the file after it is read', async () => {
    const r = await run(['plan', 'validate', 'plans/keyvault.yml', '--set', 'candidate.deployment.instance_count=0']);
    assert.equal(r.code, 2);
    assert.match(r.err, /deployments\/keyvault\.yml: instance_count: must be 1\.\.50/);
  });

  test('a literal secret in the file is still refused; the Key Vault references beside it are not', async () => {
    const doc = parse(readFileSync(join(DIR, 'keyvault.yml'), 'utf8')) as { environment_variables: Record<string, string> };
    doc.environment_variables.DB_PASSWORD = 'hunter2-plain';
    const r = await run(['plan', 'validate', 'plans/keyvault.yml'], { 'deployments/keyvault.yml': stringify(doc) });
    assert.equal(r.code, 2);
    assert.match(r.err, /deployments\/keyvault\.yml: environment_variables\.DB_PASSWORD: looks like a secret/);
    assert.doesNotMatch(r.err, /KV_SECRET_MULTIPLIER|FEATURE_STORE_KEY/);
  });
});

test('the README shows examples/azure-ml/green-deployment.yml as it is, and the example plan that takes it is valid', async () => {
  const root = join(import.meta.dirname, '..', '..');
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const file = readFileSync(join(root, 'examples', 'azure-ml', 'green-deployment.yml'), 'utf8').split('\n').filter((l) => !l.startsWith('#')).join('\n').trim();
  assert.ok(readme.includes('```yaml\n' + file + '\n```'), 'the README block is the file (without its comment lines)');
  const t = testRuntime({ files: { 'examples/deployment-file.yaml': readFileSync(join(root, 'examples', 'deployment-file.yaml'), 'utf8'), 'examples/azure-ml/green-deployment.yml': readFileSync(join(root, 'examples', 'azure-ml', 'green-deployment.yml'), 'utf8') } });
  assert.equal(await main(['plan', 'validate', 'examples/deployment-file.yaml'], t.runtime), 0, t.err.join(''));
});

describe('the ARM body of the samples', () => {
  const specOf = (file: string) => aPlan({ ...(parse(planFor(file)) as object), candidate: { name: (parse(readFileSync(join(DIR, file), 'utf8')) as { name: string }).name, deployment: parse(readFileSync(join(DIR, file), 'utf8')) } } as never).candidate.deployment;

  test('every key of the managed schema lands where ARM has it', () => {
    const body = deploymentBody(specOf('every-managed-key.yml'), 'eastus');
    assert.deepEqual(body.sku, { name: 'Default', capacity: 2 });
    assert.deepEqual(body.tags, { team: 'fraud', 'cost-center': '4711' });
    const p = body.properties as unknown as Record<string, unknown>;
    assert.equal(p.model, 'azureml:fraud-detector:2');
    assert.equal(p.modelMountPath, '/var/azureml-app/fraud');
    assert.equal(p.environmentId, 'azureml:fraud-env:3');
    assert.deepEqual(p.codeConfiguration, { codeId: 'azureml:fraud-scoring:4', scoringScript: 'score.py' });
    assert.deepEqual(p.environmentVariables, { WORKER_COUNT: '2', DEBUG: 'false' });
    assert.equal(p.instanceType, 'Standard_E16s_v3');
    assert.equal(p.appInsightsEnabled, true);
    assert.equal(p.egressPublicNetworkAccess, 'Disabled');
    assert.deepEqual(p.scaleSettings, { scaleType: 'Default' });
    assert.deepEqual(p.requestSettings, { requestTimeout: 'PT5S', maxConcurrentRequestsPerInstance: 8, maxQueueWait: 'PT0.5S' });
    assert.deepEqual(p.livenessProbe, { initialDelay: 'PT10S', period: 'PT10S', timeout: 'PT2S', successThreshold: 1, failureThreshold: 30 });
    assert.deepEqual(p.properties, { owner: 'ml-platform' });
    assert.equal(p.description, 'every key of the managed online deployment schema');
  });

  test('data_collector becomes dataCollector (sent beside the SDK body, which would drop it)', () => {
    assert.deepEqual(extraDeploymentProperties(specOf('data-collector.yml')), {
      dataCollector: {
        collections: {
          model_inputs: { dataCollectionMode: 'Enabled', samplingRate: 0.5 },
          model_outputs: { dataCollectionMode: 'Enabled', samplingRate: 0.5 },
          request: { dataCollectionMode: 'Enabled', samplingRate: 0.5 },
          response: { dataCollectionMode: 'Disabled', samplingRate: 0.5 },
        },
        rollingRate: 'Hour',
        requestLogging: { captureHeaders: ['x-ms-client-request-id'] },
      },
    });
  });

  test('data assets named in data_collector become the ARM ids the CLI sends', () => {
    const ws = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws';
    const spec = specOf('data-collector.yml');
    spec.data_collector!.collections.model_inputs!.data = { name: 'fraud-inputs', version: '3' };
    spec.data_collector!.collections.model_outputs!.data = 'azureml:fraud-outputs:1';
    const dc = extraDeploymentProperties(spec, ws)!.dataCollector as { collections: Record<string, { dataId?: string }> };
    assert.equal(dc.collections.model_inputs!.dataId, `${ws}/data/fraud-inputs/versions/3`);
    assert.equal(dc.collections.model_outputs!.dataId, `${ws}/data/fraud-outputs/versions/1`);
    assert.equal(dc.collections.request!.dataId, undefined, 'no data named: the service\'s default asset');
  });

  test('a deployment without a model has no model in its body', () => {
    const p = deploymentBody(specOf('custom-container-no-model.yml'), 'eastus').properties as unknown as Record<string, unknown>;
    assert.equal('model' in p, false);
    assert.equal(p.environmentId, 'azureml:fraud-serving-image:3');
  });

  test('a spec with local assets never becomes an ARM body', () => {
    assert.throws(() => deploymentBody(specOf('local-assets-blue.yml'), 'eastus'), /must be uploaded and registered first: model\.path: \.\.\/fraud-model-1\/model\//);
  });
});
