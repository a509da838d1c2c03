/**
 * Local assets uploaded and registered by `rollout start` and `plan validate --resolve` (client/assets.ts),
 * against the real emulator and its Azurite, through the unmodified ARM SDK: a code folder (honouring
 * .amlignore) and a model folder go to workspaceblobstore under content-hashed paths, an anonymous code
 * version and model version are registered, and the workflow input carries ARM ids only. A second start
 * uploads 0 bytes; a refused credential exits 3 and registers nothing; bad paths exit 2 naming the file.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { assetTargetFromEnv } from '../../client/asset-target.js';
import { main } from '../../client/cli.js';
import { isIgnored, parseIgnore } from '../../client/assets.js';
import type { Emulator } from '../../emulator/index.js';
import { aDeployment, anEndpointWith, armClient, POLL, RG, score, setTraffic, startTestEmulator, SUB, WS } from '../emulator/support.js';
import { FakeGateway, testRuntime } from '../client-unit/fake-gateway.js';
import { uploadBar, type UploadProgress } from '../../client/upload-bar.js';

const MLMODEL = 'flavors:\n  python_function: {}\n';
let emu: Emulator;
let dir: string;
let caPath: string;

function planText(deployment: Record<string, unknown>): string {
  return stringify({
    apiVersion: 'glidepath/v1',
    kind: 'Rollout',
    target: { subscriptionId: SUB, resourceGroup: RG, workspace: WS, endpoint: 'fraud-assets' },
    candidate: { name: 'green', deployment: { instance_type: 'Standard_DS3_v2', instance_count: 1, environment: 'azureml:sklearn-env:1', ...deployment } },
    strategy: [{ canary: { percent: 50, bake: '5m' } }, { promote: { rollbackWindow: '10m' } }, { retire: {} }],
  });
}

const DEPLOYMENT = { model: { path: './model', type: 'mlflow_model' }, code_configuration: { code: './src', scoring_script: 'score.py' } };

async function run(argv: string[], plan: string, opts: { env?: NodeJS.ProcessEnv; badKey?: boolean; badSas?: boolean; onProgress?: (line: string) => void; onUpload?: (u: UploadProgress) => void } = {}) {
  const gateway = new FakeGateway();
  const t = testRuntime({ files: { [join(dir, 'plan.yaml')]: plan }, gateway, env: opts.env ?? {} });
  // What the CLI sets on a terminal.
  if (opts.onUpload) t.runtime.deps.uploadProgress = opts.onUpload;
  if (opts.onProgress) {
    const progress = t.runtime.deps.progress;
    t.runtime.deps.progress = (l) => {
      progress(l);
      opts.onProgress!(l);
    };
  }
  t.runtime.deps.assetTarget = async (p) => {
    const target = await assetTargetFromEnv({ GLIDEPATH_EMULATOR_URL: emu.url, GLIDEPATH_EMULATOR_CA: caPath }, p);
    if (opts.badKey) {
      // The datastore hands out a key the blob service does not accept.
      target.ml.pipeline.addPolicy({
        name: 'wrongKey',
        async sendRequest(req, next) {
          const res = await next(req);
          if (/listSecrets/i.test(req.url)) res.bodyAsText = JSON.stringify({ secretsType: 'AccountKey', key: Buffer.from('not the key').toString('base64') });
          return res;
        },
      }, { afterPhase: 'Retry' }); // below deserialization: the SDK parses the changed body
    }
    if (opts.badSas) {
      // startPendingUpload hands out a SAS whose signature the blob service does not accept.
      target.ml.pipeline.addPolicy({
        name: 'wrongSas',
        async sendRequest(req, next) {
          const res = await next(req);
          if (/startPendingUpload/i.test(req.url) && res.bodyAsText) res.bodyAsText = res.bodyAsText.replace(/sig=[^&"]+/, 'sig=bm90IHRoZSBzaWduYXR1cmU%3D');
          return res;
        },
      }, { afterPhase: 'Retry' });
    }
    return target;
  };
  const code = await main(argv, t.runtime);
  const startCall = gateway.calls.find((c) => c.op === 'start');
  return { code, out: t.out.join('\n'), err: t.err.join('\n'), input: startCall ? JSON.stringify((startCall.args[0] as { document: unknown }).document) : undefined, gateway };
}

/** A container of the emulator's blob store: workspaceblobstore's unless named. */
async function container(name?: string) {
  const info = await emu.blobStore();
  const ds = await armClient(emu).datastores.get(RG, WS, 'workspaceblobstore');
  const svc = new BlobServiceClient(info.url, new StorageSharedKeyCredential(info.accountName, info.accountKey));
  return svc.getContainerClient(name ?? (ds.properties as { containerName: string }).containerName);
}

async function blobNames(prefix: string, containerName?: string): Promise<string[]> {
  const names: string[] = [];
  const c = await container(containerName);
  if (!(await c.exists())) return [];
  for await (const b of c.listBlobsFlat({ prefix })) names.push(b.name);
  return names.sort();
}

interface StartJson {
  assets: { path: string; id: string; reused: boolean; bytesUploaded: number; files: number }[];
}

before(async () => {
  emu = await startTestEmulator();
  dir = mkdtempSync(join(tmpdir(), 'glidepath-assets-'));
  caPath = join(dir, 'ca.pem');
  writeFileSync(caPath, emu.caCertPem);
  mkdirSync(join(dir, 'src', '__pycache__'), { recursive: true });
  writeFileSync(join(dir, 'src', 'score.py'), 'def init():\n    pass\n\ndef run(data):\n    return data\n');
  writeFileSync(join(dir, 'src', 'util.pyc'), 'compiled');
  writeFileSync(join(dir, 'src', '__pycache__', 'score.cpython-311.pyc'), 'compiled');
  writeFileSync(join(dir, 'src', '.amlignore'), '# build output\n__pycache__/\n*.pyc\n');
  mkdirSync(join(dir, 'model', 'artifacts'), { recursive: true });
  writeFileSync(join(dir, 'model', 'MLmodel'), MLMODEL);
  writeFileSync(join(dir, 'model', 'artifacts', 'weights.bin'), Buffer.alloc(64 * 1024, 7));
});

after(async () => {
  await emu?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('local code and model assets on rollout start', { timeout: 120_000 }, () => {
  test('plan validate --resolve --dry-run lists the files, bytes and names, and registers nothing', async () => {
    const r = await run(['plan', 'validate', join(dir, 'plan.yaml'), '--resolve', '--dry-run', '--json'], planText(DEPLOYMENT));
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out) as { dryRun: boolean; assets: { path: string; files: { path: string }[]; bytes: number; name?: string }[] };
    assert.equal(j.dryRun, true);
    const code = j.assets.find((a) => a.path === 'code_configuration.code')!;
    assert.deepEqual(code.files.map((f) => f.path), ['.amlignore', 'score.py'], '.amlignore leaves out __pycache__/ and *.pyc');
    const model = j.assets.find((a) => a.path === 'model.path')!;
    assert.equal(model.bytes, 64 * 1024 + MLMODEL.length);
    await assert.rejects(armClient(emu).modelVersions.get(RG, WS, model.name!, '1'), (e: { statusCode?: number }) => e.statusCode === 404);
    assert.deepEqual(await blobNames('LocalUpload/'), []);
    const text = await run(['plan', 'validate', join(dir, 'plan.yaml'), '--resolve', '--dry-run'], planText(DEPLOYMENT));
    assert.match(text.out, /dry run: nothing uploaded or registered/);
    assert.match(text.out, /code_configuration\.code: \.\/src \(2 files, \d+ bytes\): would upload to workspaceblobstore LocalUpload\/[0-9a-f]{64}\/src/);
  });

  test('a refused datastore credential exits 3 and registers nothing; the next start uploads everything', async () => {
    const bad = await run(['rollout', 'start', join(dir, 'plan.yaml'), '--as', 'ci@contoso.com'], planText(DEPLOYMENT), { badKey: true });
    assert.equal(bad.code, 3, bad.out + bad.err);
    assert.match(bad.err, /workspaceblobstore refused Glidepath's credential while uploading (code_configuration\.code|model\.path)/);
    assert.equal(bad.gateway.started.length, 0);
    const codes = [];
    for await (const c of armClient(emu).codeContainers.list(RG, WS)) codes.push(c);
    assert.deepEqual(codes, [], 'no code version registered');
  });

  let firstIds: string[] = [];
  test('rollout start uploads, registers, and starts the workflow with ARM ids only; a second start uploads 0 bytes', async () => {
    const r = await run(['rollout', 'start', join(dir, 'plan.yaml'), '--as', 'ci@contoso.com', '--json'], planText(DEPLOYMENT));
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out) as StartJson;
    assert.equal(j.assets.length, 2);
    for (const a of j.assets) {
      assert.equal(a.reused, false);
      assert.ok(a.bytesUploaded > 0);
    }
    assert.equal(j.assets.find((a) => a.path === 'model.path')!.bytesUploaded, 64 * 1024 + MLMODEL.length);
    assert.ok(!r.input!.includes(dir) && !r.input!.includes('./src') && !r.input!.includes('./model'), 'no local path in the workflow input');
    const codeId = j.assets.find((a) => a.path === 'code_configuration.code')!.id;
    const modelId = j.assets.find((a) => a.path === 'model.path')!.id;
    assert.match(codeId, new RegExp(`^/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.MachineLearningServices/workspaces/${WS}/codes/[0-9a-f-]{36}/versions/1$`));
    assert.match(modelId, /\/models\/[0-9a-f]{64}\/versions\/1$/);
    const input = JSON.parse(r.input!) as { candidate: { deployment: { model: string; code_configuration: { code: string } } } };
    assert.equal(input.candidate.deployment.model, modelId);
    assert.equal(input.candidate.deployment.code_configuration.code, codeId);

    // What the unmodified SDK reads back.
    const ml = armClient(emu);
    const [, codeName] = /\/codes\/([^/]+)\//.exec(codeId)!;
    const code = await ml.codeVersions.get(RG, WS, codeName!, '1');
    assert.equal(code.properties.isAnonymous, true);
    assert.equal(code.properties.properties?.hash_version, '202208');
    // Uploaded like az ml: into the temporary container startPendingUpload gave, as <folder>/<relpath>.
    const [, pendingContainer] = /\/(pending-[0-9a-f-]{36})\/src$/.exec(code.properties.codeUri ?? '')!;
    assert.deepEqual(await blobNames('', pendingContainer), ['src/.amlignore', 'src/score.py']);
    assert.ok(emu.callLog().some((c) => c.method === 'POST' && c.path.endsWith(`/codes/${codeName}/versions/1/startPendingUpload`) && c.status === 200), 'the code went through startPendingUpload');
    assert.deepEqual(await blobNames(`LocalUpload/${code.properties.properties!.hash_sha256!}/`), [], 'code is not in the datastore');
    const [, modelName] = /\/models\/([^/]+)\//.exec(modelId)!;
    const model = await ml.modelVersions.get(RG, WS, modelName!, '1');
    assert.equal(model.properties.modelType, 'mlflow_model');
    const modelPath = /paths\/(LocalUpload\/[0-9a-f]{64}\/model)$/.exec(model.properties.modelUri!)![1]!;
    assert.deepEqual(await blobNames(`${modelPath}/`), [`${modelPath}/MLmodel`, `${modelPath}/artifacts/weights.bin`]);

    const again = await run(['rollout', 'start', join(dir, 'plan.yaml'), '--as', 'ci@contoso.com', '--json'], planText(DEPLOYMENT));
    assert.equal(again.code, 0, again.err);
    const j2 = JSON.parse(again.out) as StartJson;
    assert.deepEqual(j2.assets.map((a) => [a.id, a.reused, a.bytesUploaded]), j.assets.map((a) => [a.id, true, 0]), 'same ids, 0 bytes uploaded');
    const text = await run(['rollout', 'start', join(dir, 'plan.yaml'), '--as', 'ci@contoso.com'], planText(DEPLOYMENT));
    assert.match(text.out, /code_configuration\.code: \.\/src \(2 files, \d+ bytes\): already registered as \/subscriptions\/.*; uploaded 0 bytes/);
    firstIds = j.assets.map((a) => a.id);
  });

  test('a deployment of the uploaded model and code provisions and serves (the emulator stands in for the uploaded files, and its log says so)', async () => {
    assert.ok(firstIds.length === 2, 'needs the upload test before it');
    const [codeId, modelId] = [firstIds.find((i) => i.includes('/codes/'))!, firstIds.find((i) => i.includes('/models/'))!];
    const ml = armClient(emu);
    const key = await anEndpointWith(ml, 'uploaded-ep', { blue: 'azureml:fraud-detector:1' });
    await setTraffic(ml, 'uploaded-ep', { blue: 100 });
    const d = aDeployment(modelId);
    d.properties.codeConfiguration = { codeId, scoringScript: 'score.py' };
    const created = await ml.onlineDeployments.beginCreateOrUpdateAndWait(RG, WS, 'uploaded-ep', 'green', d, POLL);
    assert.equal(created.properties.provisioningState, 'Succeeded');
    const r = await score(emu, 'uploaded-ep', key, { deployment: 'green' });
    assert.equal(r.status, 200, r.text);
    const logs = await ml.onlineDeployments.getLogs(RG, WS, 'uploaded-ep', 'green', { containerType: 'StorageInitializer', tail: 50 });
    assert.match(logs.content ?? '', /uploaded files: the emulator cannot run them and stands in/);
  });

  test('a changed file changes the content hash: the code is uploaded and registered again; the model is not', async () => {
    writeFileSync(join(dir, 'src', 'score.py'), 'def init():\n    pass\n\ndef run(data):\n    return [data]\n');
    const r = await run(['rollout', 'start', join(dir, 'plan.yaml'), '--as', 'ci@contoso.com', '--json'], planText(DEPLOYMENT));
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out) as StartJson;
    const code = j.assets.find((a) => a.path === 'code_configuration.code')!;
    const model = j.assets.find((a) => a.path === 'model.path')!;
    assert.equal(code.reused, false);
    assert.notEqual(code.id, firstIds[0]);
    assert.ok(code.bytesUploaded > 0);
    assert.deepEqual([model.reused, model.bytesUploaded, model.id], [true, 0, firstIds[1]]);
  });

  test('an upload interrupted after some files registers nothing; the next start uploads every file again', async () => {
    mkdirSync(join(dir, 'flaky'));
    writeFileSync(join(dir, 'flaky', 'a.py'), 'a = 1\n');
    writeFileSync(join(dir, 'flaky', 'b.py'), 'b = 2\n');
    const plan = planText({ code_configuration: { code: './flaky', scoring_script: 'a.py' } });
    const containers = async () => {
      const names = [];
      for await (const c of armClient(emu).codeContainers.list(RG, WS)) names.push(c.name);
      return names.sort();
    };
    const before = await containers();
    // b.py disappears once a.py is uploaded (the first progress line comes right after the first file).
    const r = await run(['rollout', 'start', join(dir, 'plan.yaml'), '--as', 'ci@contoso.com'], plan, { onProgress: () => rmSync(join(dir, 'flaky', 'b.py'), { force: true }) });
    assert.equal(r.code, 2, r.out);
    assert.match(r.err, /code_configuration\.code: cannot read .*flaky\/b\.py: no such file or folder/);
    assert.equal(r.gateway.started.length, 0);
    assert.deepEqual(await containers(), before, 'no code version registered');
    writeFileSync(join(dir, 'flaky', 'b.py'), 'b = 2\n');
    const again = await run(['rollout', 'start', join(dir, 'plan.yaml'), '--as', 'ci@contoso.com', '--json'], plan);
    assert.equal(again.code, 0, again.err);
    const a = (JSON.parse(again.out) as StartJson).assets[0]!;
    assert.deepEqual([a.reused, a.bytesUploaded, a.files], [false, 12, 2]);
  });

  test('plan validate --resolve (no --dry-run) uploads and registers, so the rollout start after it uploads 0 bytes', async () => {
    mkdirSync(join(dir, 'pre'));
    writeFileSync(join(dir, 'pre', 'score.py'), 'x = 3\n');
    const plan = planText({ code_configuration: { code: './pre', scoring_script: 'score.py' } });
    const v = await run(['plan', 'validate', join(dir, 'plan.yaml'), '--resolve', '--json'], plan);
    assert.equal(v.code, 0, v.err);
    const asset = (JSON.parse(v.out) as { assets: { id: string; bytesUploaded: number }[] }).assets[0]!;
    assert.equal(asset.bytesUploaded, 6);
    const s = await run(['rollout', 'start', join(dir, 'plan.yaml'), '--as', 'ci@contoso.com', '--json'], plan);
    const a = (JSON.parse(s.out) as StartJson).assets[0]!;
    assert.deepEqual([a.id, a.reused, a.bytesUploaded], [asset.id, true, 0]);
    const bad = await run(['plan', 'validate', join(dir, 'plan.yaml'), '--dry-run'], plan);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--dry-run only applies with --resolve/);
  });

  test('a single model file is uploaded as LocalUpload/<hash>/<file name>', async () => {
    writeFileSync(join(dir, 'model.pkl'), 'pickled');
    const r = await run(['rollout', 'start', join(dir, 'plan.yaml'), '--as', 'ci@contoso.com', '--json'], planText({ model: { path: 'model.pkl' } }));
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out) as StartJson;
    assert.deepEqual(j.assets.map((a) => [a.path, a.bytesUploaded, a.files]), [['model.path', 7, 1]]);
    const model = await armClient(emu).modelVersions.get(RG, WS, /\/models\/([^/]+)\//.exec(j.assets[0]!.id)![1]!, '1');
    const path = /paths\/(LocalUpload\/[0-9a-f]{64}\/model\.pkl)$/.exec(model.properties.modelUri!)![1]!;
    assert.deepEqual(await blobNames(path), [path]);
    assert.equal(model.properties.modelType, 'custom_model');
  });
});

describe('upload progress on a terminal', { timeout: 60_000 }, () => {
  test('each asset draws one bar that only moves forward and ends at 100% once; no upload lines go to the progress stream; under --json there is no bar', async () => {
    mkdirSync(join(dir, 'big'), { recursive: true });
    writeFileSync(join(dir, 'big', 'weights.bin'), Buffer.alloc(3 * 1024 * 1024, 7));
    writeFileSync(join(dir, 'big', 'vocab.txt'), 'a\nb\n');
    const updates: UploadProgress[] = [];
    const lines: string[] = [];
    const r = await run(['rollout', 'start', join(dir, 'plan.yaml'), '--as', 'ci@contoso.com'], planText({ model: { path: './big' } }), { onUpload: (u) => updates.push(u), onProgress: (l) => lines.push(l) });
    assert.equal(r.code, 0, r.err);
    const total = 3 * 1024 * 1024 + 4;
    assert.ok(updates.length >= 1 && updates.every((u) => u.path === 'model.path' && u.total === total), JSON.stringify(updates.slice(0, 3)));
    for (let i = 1; i < updates.length; i++) assert.ok(updates[i]!.bytes >= updates[i - 1]!.bytes, 'never moves back');
    assert.deepEqual(updates.filter((u) => u.bytes === u.total).length, 1, 'ends at 100% once');
    assert.equal(updates.at(-1)!.bytes, total);
    assert.ok(!lines.some((l) => l.startsWith('uploading')), 'no upload lines beside the bar');
    assert.equal(uploadBar({ path: 'model.path', bytes: total, total }), 'uploading model.path [####################] 100% 3.0 MiB / 3.0 MiB');

    writeFileSync(join(dir, 'big', 'vocab.txt'), 'a\nb\nc\n'); // new content: uploaded again
    const bar: UploadProgress[] = [];
    const json = await run(['rollout', 'start', join(dir, 'plan.yaml'), '--as', 'ci@contoso.com', '--json'], planText({ model: { path: './big' } }), { onUpload: (u) => bar.push(u) });
    assert.equal(json.code, 0, json.err);
    assert.deepEqual(bar, [], 'stdout holds the JSON: no bar');
    assert.match(json.err, /uploading model\.path: 3145734\/3145734 bytes/, 'the progress line goes to stderr instead');
  });

  test('the bar: filled share, percent and sizes', () => {
    const cases: [UploadProgress, string][] = [
      [{ path: 'code_configuration.code', bytes: 0, total: 2048 }, 'uploading code_configuration.code [--------------------]   0% 0 B / 2.0 KiB'],
      [{ path: 'model.path', bytes: 512, total: 1024 }, 'uploading model.path [##########----------]  50% 512 B / 1.0 KiB'],
      [{ path: 'model.path', bytes: 0, total: 0 }, 'uploading model.path [####################] 100% 0 B / 0 B'],
      [{ path: 'environment.build.path', bytes: 1.5 * 1024 ** 3, total: 3 * 1024 **3 }, 'uploading environment.build.path [##########----------]  50% 1.5 GiB / 3.0 GiB'],
    ];
    for (const [u, line] of cases) assert.equal(uploadBar(u), line);
  });
});

describe('bad local assets are refused (exit 2) naming the file, before anything is uploaded', { timeout: 60_000 }, () => {
  test('a path that does not exist', async () => {
    const r = await run(['rollout', 'start', join(dir, 'plan.yaml'), '--as', 'ci@contoso.com'], planText({ ...DEPLOYMENT, code_configuration: { code: './nope', scoring_script: 'score.py' } }));
    assert.equal(r.code, 2);
    assert.match(r.err, new RegExp(`candidate\\.deployment\\.code_configuration\\.code: cannot read ${join(dir, 'nope').replace(/[/.]/g, '\\$&')}: no such file or folder`));
    assert.equal(r.gateway.started.length, 0);
  });

  test('a dangling symlink inside the folder names the link', async () => {
    mkdirSync(join(dir, 'broken'));
    symlinkSync(join(dir, 'gone'), join(dir, 'broken', 'link.py'));
    const r = await run(['rollout', 'start', join(dir, 'plan.yaml'), '--as', 'ci@contoso.com'], planText({ code_configuration: { code: './broken', scoring_script: 'score.py' } }));
    assert.equal(r.code, 2);
    assert.match(r.err, /code_configuration\.code: cannot read .*broken\/link\.py: no such file or folder/);
  });

  test('a file over the size limit (GLIDEPATH_ASSET_MAX_FILE_BYTES) names the file and the limit', async () => {
    const r = await run(['rollout', 'start', join(dir, 'plan.yaml'), '--as', 'ci@contoso.com'], planText(DEPLOYMENT), { env: { GLIDEPATH_ASSET_MAX_FILE_BYTES: '1000' } });
    assert.equal(r.code, 2);
    assert.match(r.err, /candidate\.deployment\.model\.path: .*model\/artifacts\/weights\.bin is 65536 bytes; glidepath uploads files of at most 1000 bytes/);
    assert.equal(r.gateway.started.length, 0);
  });

  test('code_configuration.code naming a file, and an ignore file with ! patterns, are refused by name', async () => {
    const r = await run(['rollout', 'start', join(dir, 'plan.yaml'), '--as', 'ci@contoso.com'], planText({ code_configuration: { code: './model.pkl', scoring_script: 'score.py' } }));
    assert.equal(r.code, 2);
    assert.match(r.err, /code_configuration\.code: .*model\.pkl is a file; code_configuration\.code names the folder that holds score\.py/);
    assert.throws(() => parseIgnore('*.pyc\n!keep.pyc\n', 'src/.amlignore'), /src\/\.amlignore, line 2: '!keep\.pyc': negated patterns/);
  });
});

describe('ignore-file globs', () => {
  const rules = parseIgnore('# c\n__pycache__/\n*.pyc\n/build\ndocs/**/*.md\nsecret?.txt\n', '.amlignore');
  const cases: [string, boolean, boolean][] = [
    ['__pycache__', true, true],
    ['a/__pycache__/x.py', false, true],
    ['__pycache__', false, false], // a file named like the folder pattern
    ['x.pyc', false, true],
    ['deep/er/x.pyc', false, true],
    ['build/out.js', false, true],
    ['src/build/out.js', false, false], // anchored
    ['docs/a/b/c.md', false, true],
    ['docs/c.md', false, true],
    ['secret1.txt', false, true],
    ['secret12.txt', false, false],
    ['score.py', false, false],
  ];
  for (const [path, isDir, want] of cases) {
    test(`${path}${isDir ? '/' : ''} → ${want ? 'ignored' : 'kept'}`, () => assert.equal(isIgnored(rules, path, isDir), want));
  }
});

describe('inline image environments become anonymous environment versions', { timeout: 60_000 }, () => {
  const ENV = { image: 'mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest', conda_file: './conda.yml' };

  test('rollout start registers CliV2AnonymousEnvironment:<hash> with the conda file, and the workflow gets its id', async () => {
    writeFileSync(join(dir, 'conda.yml'), 'name: fraud\ndependencies:\n  - python=3.10\n  - pip\nchannels:\n  - conda-forge\n');
    const r = await run(['rollout', 'start', join(dir, 'plan.yaml'), '--as', 'ci@contoso.com', '--json'], planText({ environment: ENV }));
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out) as StartJson;
    const env = j.assets.find((a) => a.path === 'environment')!;
    assert.match(env.id, /\/environments\/CliV2AnonymousEnvironment\/versions\/[0-9a-f]{64}$/);
    assert.equal(env.reused, false);
    const input = JSON.parse(r.input!) as { candidate: { deployment: { environment: unknown } } };
    assert.equal(input.candidate.deployment.environment, env.id);
    assert.ok(!r.input!.includes('conda.yml'), 'no conda file path in the workflow input');
    const got = await armClient(emu).environmentVersions.get(RG, WS, 'CliV2AnonymousEnvironment', env.id.split('/').pop()!);
    assert.equal(got.properties.image, ENV.image);
    assert.equal(got.properties.isAnonymous, true);
    assert.equal(got.properties.condaFile, 'channels:\n- conda-forge\ndependencies:\n- python=3.10\n- pip\nname: fraud\n', 'the conda file as PyYAML dumps it (reference §3.3)');

    const again = await run(['rollout', 'start', join(dir, 'plan.yaml'), '--as', 'ci@contoso.com', '--json'], planText({ environment: ENV }));
    const env2 = (JSON.parse(again.out) as StartJson).assets.find((a) => a.path === 'environment')!;
    assert.deepEqual([env2.id, env2.reused], [env.id, true]);

    const other = await run(['rollout', 'start', join(dir, 'plan.yaml'), '--as', 'ci@contoso.com', '--json'], planText({ environment: { image: `${ENV.image}-other`, conda_file: ENV.conda_file } }));
    assert.notEqual((JSON.parse(other.out) as StartJson).assets.find((a) => a.path === 'environment')!.id, env.id, 'another image, another version');
    const dry = await run(['plan', 'validate', join(dir, 'plan.yaml'), '--resolve', '--dry-run'], planText({ environment: ENV }));
    assert.match(dry.out, new RegExp(`environment: image .* \\+ conda_file \\./conda\\.yml: would register anonymous environment CliV2AnonymousEnvironment:${env.id.split('/').pop()!}`));
  });

  test('an image-only environment gets the version the CLI computes: sha256hex(sha256hex(image)) (reference §3.3, verified)', async () => {
    const r = await run(['plan', 'validate', join(dir, 'plan.yaml'), '--resolve', '--dry-run', '--json'], planText({ environment: { image: ENV.image } }));
    assert.equal(r.code, 0, r.err);
    const sha = (t: string) => createHash('sha256').update(t).digest('hex');
    assert.equal((JSON.parse(r.out) as { environment: { version: string } }).environment.version, sha(sha(ENV.image)));
    const withConda = await run(['plan', 'validate', join(dir, 'plan.yaml'), '--resolve', '--dry-run', '--json'], planText({ environment: { image: ENV.image, conda_file: { channels: ['conda-forge'] } } }));
    const h = [...sha('channels:\n- conda-forge\n')].join(sha(ENV.image)); // Python's H.join(X): H between every character of X
    assert.equal((JSON.parse(withConda.out) as { environment: { version: string } }).environment.version, sha(h));
  });

  test('a missing conda file is refused (exit 2) naming it, and nothing is started', async () => {
    const r = await run(['rollout', 'start', join(dir, 'plan.yaml'), '--as', 'ci@contoso.com'], planText({ environment: { ...ENV, conda_file: './nope.yml' } }));
    assert.equal(r.code, 2);
    assert.match(r.err, /candidate\.deployment\.environment\.conda_file: cannot read .*nope\.yml: no such file or folder/);
    assert.equal(r.gateway.started.length, 0);
  });
});

describe('Docker build contexts become anonymous environment versions with build.contextUri', { timeout: 120_000 }, () => {
  const DOCKERFILE = 'FROM mcr.microsoft.com/azureml/minimal-ubuntu22.04-py39-cpu-inference:latest\nCOPY requirements.txt /tmp/\nRUN pip install -r /tmp/requirements.txt\n';

  test('a build context without its Dockerfile is refused (exit 2) naming the file, and nothing is uploaded', async () => {
    mkdirSync(join(dir, 'ctx-bare'));
    writeFileSync(join(dir, 'ctx-bare', 'requirements.txt'), 'scikit-learn\n');
    const before = await blobNames('LocalUpload/');
    const r = await run(['rollout', 'start', join(dir, 'plan.yaml'), '--as', 'ci@contoso.com'], planText({ environment: { build: { path: './ctx-bare' } } }));
    assert.equal(r.code, 2, r.out);
    assert.match(r.err, new RegExp(`candidate\\.deployment\\.environment\\.build\\.path: the build context .*ctx-bare has no ${join(dir, 'ctx-bare', 'Dockerfile').replace(/[/.]/g, '\\$&')}`));
    const named = await run(['rollout', 'start', join(dir, 'plan.yaml'), '--as', 'ci@contoso.com'], planText({ environment: { build: { path: './ctx-bare', dockerfile_path: 'docker/Dockerfile.prod' } } }));
    assert.equal(named.code, 2);
    assert.match(named.err, /candidate\.deployment\.environment\.build\.dockerfile_path: the build context .* has no .*ctx-bare\/docker\/Dockerfile\.prod/);
    assert.deepEqual([r.gateway.started.length, named.gateway.started.length], [0, 0]);
    assert.deepEqual(await blobNames('LocalUpload/'), before, 'nothing uploaded');
  });

  let envId = '';
  test('rollout start uploads the context to LocalUpload/<object hash>/<folder> and registers CliV2AnonymousEnvironment with build.contextUri; a second start uploads 0 bytes', async () => {
    mkdirSync(join(dir, 'ctx', 'docker'), { recursive: true });
    writeFileSync(join(dir, 'ctx', 'docker', 'Dockerfile.prod'), DOCKERFILE);
    writeFileSync(join(dir, 'ctx', 'requirements.txt'), 'scikit-learn==1.5.1\n');
    const plan = planText({ environment: { build: { path: './ctx', dockerfile_path: 'docker/Dockerfile.prod' } } });
    const r = await run(['rollout', 'start', join(dir, 'plan.yaml'), '--as', 'ci@contoso.com', '--json'], plan);
    assert.equal(r.code, 0, r.err);
    const a = (JSON.parse(r.out) as StartJson).assets.find((x) => x.path === 'environment.build.path')!;
    assert.match(a.id, /\/environments\/CliV2AnonymousEnvironment\/versions\/[0-9a-f]{64}$/);
    assert.deepEqual([a.reused, a.files, a.bytesUploaded], [false, 2, DOCKERFILE.length + 'scikit-learn==1.5.1\n'.length]);
    const input = JSON.parse(r.input!) as { candidate: { deployment: { environment: unknown } } };
    assert.equal(input.candidate.deployment.environment, a.id);
    assert.ok(!r.input!.includes('./ctx') && !r.input!.includes(dir), 'no local path in the workflow input');
    const got = await armClient(emu).environmentVersions.get(RG, WS, 'CliV2AnonymousEnvironment', a.id.split('/').pop()!);
    assert.equal(got.properties.isAnonymous, true);
    assert.equal(got.properties.image, undefined);
    assert.equal(got.properties.build?.dockerfilePath, 'docker/Dockerfile.prod');
    const ctxPath = /\/(LocalUpload\/[0-9a-f]{64}\/ctx)\/$/.exec(got.properties.build!.contextUri)![1]!;
    assert.deepEqual(await blobNames(`${ctxPath}/`), [`${ctxPath}/docker/Dockerfile.prod`, `${ctxPath}/requirements.txt`]);
    const again = await run(['rollout', 'start', join(dir, 'plan.yaml'), '--as', 'ci@contoso.com', '--json'], plan);
    const b = (JSON.parse(again.out) as StartJson).assets.find((x) => x.path === 'environment.build.path')!;
    assert.deepEqual([b.id, b.reused, b.bytesUploaded], [a.id, true, 0]);
    const dry = await run(['plan', 'validate', join(dir, 'plan.yaml'), '--resolve', '--dry-run'], plan);
    assert.match(dry.out, /environment\.build\.path: \.\/ctx \(2 files, \d+ bytes\): would upload to workspaceblobstore LocalUpload\/[0-9a-f]{64}\/ctx and register anonymous environment CliV2AnonymousEnvironment:[0-9a-f]{64} \(build context, docker\/Dockerfile\.prod\)/);
    envId = a.id;
  });

  test('a deployment of the built environment waits for the image build (the provisioning time) and serves; a context without its Dockerfile fails the build', async () => {
    assert.ok(envId, 'needs the registration test before it');
    const ml = armClient(emu);
    const key = await anEndpointWith(ml, 'built-ep', { blue: 'azureml:fraud-detector:1' });
    await setTraffic(ml, 'built-ep', { blue: 100 });
    const d = aDeployment('azureml:fraud-detector:2');
    d.properties.environmentId = envId;
    const t0 = Date.now();
    const created = await ml.onlineDeployments.beginCreateOrUpdateAndWait(RG, WS, 'built-ep', 'green', d, POLL);
    const took = Date.now() - t0;
    assert.equal(created.properties.provisioningState, 'Succeeded');
    const r = await score(emu, 'built-ep', key, { deployment: 'green' });
    assert.equal(r.status, 200, r.text);
    const logs = (await ml.onlineDeployments.getLogs(RG, WS, 'built-ep', 'green', { containerType: 'InferenceServer', tail: 100 })).content ?? '';
    assert.match(logs, /Image build: Building the image of .*CliV2AnonymousEnvironment.* \(docker\/Dockerfile\.prod\)/);
    assert.match(logs, /Image build: Image of .* built/);
    // The build takes the emulator's provisioning time (150 ms here, startTestEmulator's --provision-time).
    const at = (re: RegExp) => Date.parse(logs.split('\n').find((l) => re.test(l))!.slice(0, 24));
    const buildMs = at(/Image build: Image of .* built/) - at(/Image build: Building/);
    assert.ok(buildMs >= 145, `the image build took ${buildMs} ms`);
    assert.ok(took >= buildMs, 'the deployment waited for the build');
    console.log(`deployment with a build-context environment provisioned in ${took} ms (image build ${buildMs} ms)`);

    // An environment registered directly (not through glidepath) whose context has no Dockerfile: the build fails.
    const info = await emu.blobStore();
    const ds = await ml.datastores.get(RG, WS, 'workspaceblobstore');
    const contextUri = `${info.url}/${(ds.properties as { containerName: string }).containerName}/LocalUpload/none/empty/`;
    const bad = await ml.environmentVersions.createOrUpdate(RG, WS, 'no-dockerfile', '1', { properties: { build: { contextUri, dockerfilePath: 'Dockerfile' } } });
    const dBad = aDeployment('azureml:fraud-detector:2');
    dBad.properties.environmentId = bad.id!;
    await assert.rejects(ml.onlineDeployments.beginCreateOrUpdateAndWait(RG, WS, 'built-ep', 'broken', dBad, POLL), /Image build failed for environment .*no-dockerfile.*: Dockerfile was not found in the build context/);
    const state = await ml.onlineDeployments.get(RG, WS, 'built-ep', 'broken');
    assert.equal(state.properties.provisioningState, 'Failed');
  });

  test('the emulator refuses an environment version with both image and build, or a build without contextUri (400 naming the field)', async () => {
    const ml = armClient(emu);
    await assert.rejects(ml.environmentVersions.createOrUpdate(RG, WS, 'both', '1', { properties: { image: 'python:3.11', build: { contextUri: 'https://x/y/' } } }), (e: { statusCode?: number; message: string }) => e.statusCode === 400 && /properties\.image or properties\.build, not both/.test(e.message));
    await assert.rejects(ml.environmentVersions.createOrUpdate(RG, WS, 'noctx', '1', { properties: { build: { contextUri: '' } } }), (e: { statusCode?: number; message: string }) => e.statusCode === 400 && /properties\.build\.contextUri is required/.test(e.message));
  });
});

describe('more bad input: exit 2 or 3 naming the asset, nothing registered, no rollout started', { timeout: 60_000 }, () => {
  test('a SAS from startPendingUpload that the blob service refuses exits 3 naming the code, and registers neither the code nor the model', async () => {
    mkdirSync(join(dir, 'sas-src'));
    writeFileSync(join(dir, 'sas-src', 'score.py'), 'def init():\n    pass\n\ndef run(d):\n    return 1\n');
    writeFileSync(join(dir, 'sas-model.pkl'), 'another model');
    const plan = planText({ model: { path: './sas-model.pkl' }, code_configuration: { code: './sas-src', scoring_script: 'score.py' } });
    const names = async () => {
      const out = [];
      for await (const c of armClient(emu).codeContainers.list(RG, WS)) out.push(c.name);
      return out.sort();
    };
    const codesBefore = await names();
    const r = await run(['rollout', 'start', join(dir, 'plan.yaml'), '--as', 'ci@contoso.com'], plan, { badSas: true });
    assert.equal(r.code, 3, r.out + r.err);
    assert.match(r.err, /the temporary upload container from startPendingUpload refused Glidepath's credential while uploading code_configuration\.code \(\.\/sas-src\)/);
    assert.equal(r.gateway.started.length, 0);
    assert.deepEqual(await names(), codesBefore, 'no code version registered');
    const dry = JSON.parse((await run(['plan', 'validate', join(dir, 'plan.yaml'), '--resolve', '--dry-run', '--json'], plan)).out) as { assets: { path: string; name?: string }[] };
    const modelName = dry.assets.find((a) => a.path === 'model.path')!.name!;
    await assert.rejects(armClient(emu).modelVersions.get(RG, WS, modelName, '1'), (e: { statusCode?: number }) => e.statusCode === 404, 'the model is not registered either');
  });

  test('a conda file that is not YAML is refused (exit 2) naming the file', async () => {
    writeFileSync(join(dir, 'broken-conda.yml'), 'name: fraud\ndependencies:\n  - python=3.10\n   - pip: [unclosed\n');
    const r = await run(['rollout', 'start', join(dir, 'plan.yaml'), '--as', 'ci@contoso.com'], planText({ environment: { image: 'python:3.11', conda_file: './broken-conda.yml' } }));
    assert.equal(r.code, 2, r.out);
    assert.match(r.err, /candidate\.deployment\.environment\.conda_file: .*broken-conda\.yml is not valid YAML/);
    assert.equal(r.gateway.started.length, 0);
  });

  test('an inline model named name:version that is already registered with other files is refused (exit 2) naming both; the same files are reused', async () => {
    mkdirSync(join(dir, 'named-model'));
    writeFileSync(join(dir, 'named-model', 'model.onnx'), 'v1 weights');
    const plan = planText({ model: { name: 'fraud-named', version: 4, path: './named-model', type: 'triton_model' } });
    const first = await run(['rollout', 'start', join(dir, 'plan.yaml'), '--as', 'ci@contoso.com', '--json'], plan);
    assert.equal(first.code, 0, first.err);
    const a = (JSON.parse(first.out) as StartJson).assets[0]!;
    assert.match(a.id, /\/models\/fraud-named\/versions\/4$/);
    const registered = await armClient(emu).modelVersions.get(RG, WS, 'fraud-named', '4');
    assert.deepEqual([registered.properties.isAnonymous, registered.properties.modelType], [false, 'triton_model']);
    const same = await run(['rollout', 'start', join(dir, 'plan.yaml'), '--as', 'ci@contoso.com', '--json'], plan);
    assert.deepEqual((JSON.parse(same.out) as StartJson).assets.map((x) => [x.id, x.reused, x.bytesUploaded]), [[a.id, true, 0]]);
    writeFileSync(join(dir, 'named-model', 'model.onnx'), 'v2 weights, retrained');
    const changed = await run(['rollout', 'start', join(dir, 'plan.yaml'), '--as', 'ci@contoso.com'], plan);
    assert.equal(changed.code, 2, changed.out);
    assert.match(changed.err, /candidate\.deployment\.model: model fraud-named:4 is already registered in workspace .* with other files .*; the files at \.\/named-model hash to [0-9a-f]{64}\. Give the inline model a new version/);
    assert.equal(changed.gateway.started.length, 0);
  });
});
