// The reading of a deployment spec's asset references and paths (domain/deployment-spec.ts), as tables:
// what each form means, which paths are local, and which assets rollout start would have to upload.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isLocalPath, latestModelName, modelLabel, parseAssetRef, pendingAssets, type DeploymentSpec } from '../../domain/deployment-spec.js';

describe('asset references are read as the Azure ML CLI reads them', () => {
  const table: [string, 'models' | 'environments' | 'codes', unknown][] = [
    ['azureml:fraud-detector:2', 'models', { form: 'version', name: 'fraud-detector', version: '2' }],
    ['azureml:fraud-detector:2024:01', 'models', { form: 'version', name: 'fraud-detector', version: '2024:01' }],
    ['azureml:fraud-detector@latest', 'models', { form: 'latest', name: 'fraud-detector' }],
    ['azureml://registries/azureml/models/fraud-detector/versions/2', 'models', { form: 'registry', registry: 'azureml', name: 'fraud-detector', version: '2' }],
    ['azureml://registries/azureml/environments/sklearn-1.5/labels/latest', 'environments', { form: 'registryLabel', registry: 'azureml', name: 'sklearn-1.5', label: 'latest' }],
    ['azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu@latest', 'environments', { form: 'curated', name: 'AzureML-sklearn-1.0-ubuntu20.04-py38-cpu@latest' }],
    [
      '/subscriptions/0000/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/models/m/versions/3',
      'models',
      { form: 'armId', id: '/subscriptions/0000/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/models/m/versions/3' },
    ],
  ];
  for (const [text, kind, want] of table) test(`${text} (${kind})`, () => assert.deepEqual(parseAssetRef(text, kind), want));

  const refused: [string, 'models' | 'environments' | 'codes', RegExp][] = [
    ['azureml:fraud-detector', 'models', /needs a version: azureml:fraud-detector:<version> or azureml:fraud-detector@latest/],
    ['azureml:fraud-detector@prod', 'models', /only label Azure ML resolves is @latest/],
    ['azureml:score@latest', 'codes', /a label such as @latest is not resolved for code/],
    ['azureml://registries/azureml/models/m/versions/1', 'codes', /code is not taken from a registry/],
    ['azureml://registries/azureml/environments/e/versions/1', 'models', /names registry environments, not models/],
    ['./model', 'models', /must be azureml:<name>:<version>/],
    ['fraud-detector:2', 'models', /must be azureml:<name>:<version>/],
  ];
  for (const [text, kind, message] of refused) {
    test(`${text} (${kind}) is refused`, () => {
      const r = parseAssetRef(text, kind);
      assert.ok('problem' in r, JSON.stringify(r));
      assert.match(r.problem, message);
    });
  }
});

describe('local paths and the assets rollout start would need uploaded', () => {
  test('paths with a scheme are remote; relative, absolute and drive paths are local', () => {
    for (const p of ['./model', '../model-1/model/', 'model', '/home/me/model', 'C:\\models\\m', 'c:/models']) assert.equal(isLocalPath(p), true, p);
    for (const p of ['azureml://datastores/workspaceblobstore/paths/m', 'https://acct.blob.core.windows.net/c/m', 'wasbs://c@acct.blob.core.windows.net/m', 'runs:/abc/model']) assert.equal(isLocalPath(p), false, p);
  });

  const spec = (d: Partial<DeploymentSpec>): DeploymentSpec => ({ instance_type: 'Standard_DS3_v2', instance_count: 1, ...d }) as DeploymentSpec;
  const table: [string, Partial<DeploymentSpec>, { path: string; local: boolean }[]][] = [
    ['registered model, environment and code: nothing', { model: 'azureml:m:1', environment: 'azureml:e:1', code_configuration: { code: 'azureml:c:1', scoring_script: 's.py' } }, []],
    ['no model at all: nothing', {}, []],
    ['a local model folder', { model: { path: './model' } }, [{ path: 'model.path', local: true }]],
    ['a model on a datastore (registered, not uploaded)', { model: { path: 'azureml://datastores/ws/paths/m', type: 'mlflow_model' } }, [{ path: 'model.path', local: false }]],
    ['an image with a local conda file', { environment: { image: 'mcr.microsoft.com/x:1', conda_file: './conda.yml' } }, [{ path: 'environment.conda_file', local: true }]],
    ['an image alone (an anonymous environment to register)', { environment: { image: 'docker.io/tensorflow/serving:latest' } }, [{ path: 'environment', local: false }]],
    ['a Docker build context', { environment: { build: { path: './docker' } } }, [{ path: 'environment.build.path', local: true }]],
    ['a local code folder', { code_configuration: { code: './onlinescoring', scoring_script: 'score.py' } }, [{ path: 'code_configuration.code', local: true }]],
    ['a code asset by ARM id', { code_configuration: { code: '/subscriptions/s/resourceGroups/r/providers/Microsoft.MachineLearningServices/workspaces/w/codes/c/versions/1', scoring_script: 's.py' } }, []],
  ];
  for (const [what, d, want] of table) {
    test(what, () => assert.deepEqual(pendingAssets(spec(d)).map((p) => ({ path: p.path, local: p.local })), want));
  }

  test('labels for messages, and the @latest name', () => {
    assert.equal(modelLabel({}), 'no model');
    assert.equal(modelLabel({ model: { path: './m', type: 'triton_model' } }), 'inline triton_model ./m');
    assert.equal(modelLabel({ model: 'azureml:m@latest' }), 'azureml:m@latest');
    assert.equal(latestModelName({ model: 'azureml:m@latest' }), 'm');
    assert.equal(latestModelName({ model: 'azureml:m:1' }), undefined);
  });
});
