/**
 * The independent oracle for issue 17 ("uploads and registers … the way the Azure ML CLI does
 * (content-hashed …)"): the same fixture folders and deployment YAMLs go to client/assets.ts and to PyPI
 * `azure-ai-ml` 1.35.2 — the package `az ml` runs — through test/support/azure-ml-hash-oracle.py, which calls
 * the package's own functions (`Code(path)._hash_sha256`, `get_object_hash` with `get_ignore_file`,
 * `load_online_deployment`), and the values are compared: the code content hash (hash_version 202208), the
 * model/build-context object hash, the anonymous model name sha256hex(objectHash), and the anonymous
 * environment versions (image, + conda_file, + inference_config; build context, + dockerfile_path).
 *
 * The fixtures hold what makes the hashes differ: nested folders, mixed-case names (the CLI sorts by the
 * lower-cased path), a folder `a/` beside a file `a-b.txt` (per-folder order differs from whole-path order),
 * an .amlignore with `__pycache__/`, `*.pyc`, an anchored `/data/raw.csv` and a bare folder name, a
 * .gitignore-only folder, a .gitignore overruled by an .amlignore, empty files and folders, binary files,
 * symlinks to a file and to a folder (the CLI follows both), and a single-file model.
 *
 * Known and documented difference (README, "Known limits"): the conda YAML Glidepath hashes is written in
 * PyYAML's style but not by PyYAML, so only plain channel/dependency lists (with a pip sub-list) and scalars
 * that need quotes are asserted equal; a conda file with non-ASCII text, lines over 80 characters or '1e3'-like
 * strings is only checked to be stable (the difference is printed as a diagnostic).
 *
 * What this oracle found wrong in client/assets.ts, and fixed: the object hash ordered entries by whole path
 * (a file `a-b.txt` before a folder `a/`; the CLI goes folder by folder), left out the names of empty folders
 * and of folders whose files are all ignored (`__pycache__/` excludes the files, not the folder's name), and
 * hashed a single-file model's name (the CLI hashes its bytes only); the inference-config version hashed the
 * YAML's snake_case routes (the CLI hashes a PyYAML dump of its REST model object); the conda YAML wrote
 * `name: yes` unquoted (PyYAML quotes YAML 1.1 booleans).
 *
 * The Python side runs in a virtual environment this test creates (GLIDEPATH_AZURE_ML_VENV, default
 * ~/.cache/glidepath/venv-azure-ai-ml) and reuses while its marker file names the same requirements. The
 * test skips, saying why, only when python3 ≥ 3.10 or its venv module is missing; a failed `pip install`
 * fails the test. Measured on the 2-core build machine: cold (new venv, no pip cache) 23 s for the whole test,
 * of which venv + pip install ≈ 21 s; warm 2.3 s (the Python side ≈ 1.5 s, mostly importing azure-ai-ml).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { readInlineEnvironment, readLocalAssets } from '../../client/assets.js';
import { DeploymentSpecSchema } from '../../domain/deployment-spec.js';
import { oraclePython } from '../support/python-venv.js';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '../support/azure-ml-hash-oracle.py');
const REQUIREMENTS = ['azure-ai-ml==1.35.2'];
const VENV = process.env.GLIDEPATH_AZURE_ML_VENV ?? join(homedir(), '.cache', 'glidepath', 'venv-azure-ai-ml');


interface OracleOut {
  azureAiMl: string;
  hashVersion: number;
  paths: Record<string, { contentHash: string; objectHash: string; files?: string[] }>;
  deployments: Record<string, { model?: { name: string; version: string }; environment?: { name: string; version: string; uploadHash: string | null; condaFile: string | null } }>;
}

function runOracle(python: string, req: { paths: { id: string; path: string }[]; deployments: { id: string; yaml: string }[] }): OracleOut {
  const r = spawnSync(python, [SCRIPT], { input: JSON.stringify(req), encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, timeout: 300_000 });
  if (r.status !== 0) throw new Error(`azure-ai-ml oracle failed (status ${r.status}): ${(r.stderr || String(r.error)).slice(-2000)}`);
  return JSON.parse(r.stdout) as OracleOut;
}

const sha256hex = (s: string) => createHash('sha256').update(s).digest('hex');

/** Writes `files` (relative path → content; `null` = an empty folder) under `root`. */
function tree(root: string, files: Record<string, string | Buffer | null>): string {
  for (const [rel, content] of Object.entries(files)) {
    const p = join(root, rel);
    if (content === null) mkdirSync(p, { recursive: true });
    else {
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, content);
    }
  }
  return root;
}

const BINARY = Buffer.from(Array.from({ length: 1024 }, (_, i) => (i * 37 + 11) % 256));
const DEPLOYMENT = { endpoint_name: 'fraud', instance_type: 'Standard_DS3_v2', instance_count: 1 };

test('client/assets.ts computes the same hashes, anonymous model names and environment versions as azure-ai-ml', { timeout: 1_200_000 }, async (t) => {
  const found = oraclePython({ venv: VENV, requirements: REQUIREMENTS, minPython: [3, 10], what: 'the azure-ai-ml oracle', pipTimeoutMs: 900_000 });
  if ('skip' in found) {
    t.skip(found.skip);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'glidepath-hash-oracle-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  // Folders, each hashed as code (content hash) and as a model (object hash, anonymous name).
  const folders: Record<string, string> = {
    plain: tree(join(dir, 'plain'), { 'score.py': 'def init():\n    pass\n', 'conf/settings.json': '{"a": 1}\n' }),
    amlignore: tree(join(dir, 'amlignore'), {
      '.amlignore': '# build output\n__pycache__/\n*.pyc\n/data/raw.csv\nlogs\n',
      '.gitignore': '*.py\n', // overruled: .amlignore wins, so the .py files stay
      'score.py': 'import json\n\ndef run(raw):\n    return json.loads(raw)\n',
      'B.py': 'B = 2\n',
      'a.py': 'A = 1\n',
      'Zed/inner.py': 'Z = 26\n',
      'alpha/Beta.txt': 'beta\n',
      'a/x.txt': 'in a folder a\n',
      'a-b.txt': 'beside the folder a\n',
      '__pycache__/score.cpython-311.pyc': BINARY,
      'sub/y.pyc': BINARY,
      'data/raw.csv': 'anchored: left out\n',
      'sub/data/raw.csv': 'not at the root: kept\n',
      'logs/app.txt': 'a folder named by a bare pattern: left out\n',
      'empty.txt': '',
      'blob.bin': BINARY,
    }),
    gitignore: tree(join(dir, 'gitignore'), {
      '.gitignore': '*.log\ncheckpoints/\n',
      MLmodel: 'flavors:\n  python_function: {}\n',
      'model.pkl': BINARY,
      'model/weights.bin': BINARY.subarray(0, 300),
      'model.json': '{"inputs": 3}\n',
      'train.log': 'left out\n',
      'checkpoints/c1.bin': BINARY,
      'Nested/deeper/file.TXT': 'deep\n',
      'nested-sibling.txt': 'sorts between Nested and Nested/ per folder\n',
      empty: null,
    }),
  };
  // Symlinks, followed by the CLI: a file and a folder inside the amlignore folder.
  symlinkSync('score.py', join(folders.amlignore!, 'link.py'));
  symlinkSync(join(folders.gitignore!, 'Nested'), join(folders.gitignore!, 'linked-dir'));
  // A single-file model.
  writeFileSync(join(dir, 'model.onnx'), BINARY);

  // Docker build contexts, with and without dockerfile_path.
  tree(join(dir, 'ctx'), { Dockerfile: 'FROM python:3.11-slim\nCOPY requirements.txt .\n', 'requirements.txt': 'numpy\n', '.amlignore': '*.tmp\n', 'junk.tmp': 'left out\n' });
  tree(join(dir, 'ctx-gpu'), { 'docker/Dockerfile.gpu': 'FROM nvidia/cuda:12.2.0-runtime-ubuntu22.04\n', 'app/main.py': 'print(1)\n' });

  // Conda files: plain lists (asserted equal) and one with exotic scalars (the documented difference).
  writeFileSync(join(dir, 'conda.yml'), 'name: fraud\nchannels:\n  - conda-forge\n  - defaults\ndependencies:\n  - python=3.10\n  - pip\n  - scikit-learn=1.3.2\n  - pip:\n      - azureml-inference-server-http\n      - numpy==1.26.4\n');
  // Scalars PyYAML must quote (YAML 1.1 booleans, a leading zero, ': ', '~'): asserted equal too.
  writeFileSync(join(dir, 'conda-quoted.yml'), "name: 'yes'\nchannels: [conda-forge]\ndependencies:\n  - python=3.10\n  - pip:\n      - \"torch @ https://example.com/torch-2.1.0+cpu.whl#sha256=abc\"\n      - 'text with: colon'\n      - 'on'\n      - '0123'\n      - '~'\n");
  // Not PyYAML: non-ASCII (PyYAML escapes it), a long line with spaces (PyYAML folds it at 80), '1e3' (a float
  // to the yaml package's YAML 1.1, a string to PyYAML's resolver).
  writeFileSync(join(dir, 'conda-exotic.yml'), `name: café\nchannels: [conda-forge]\ndependencies:\n  - python=3.10\n  - pip:\n      - "${'a long requirement comment '.repeat(4)}"\n      - "1e3"\n`);

  const image = 'mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest';
  const routes = { liveness_route: { port: 5001, path: '/' }, readiness_route: { port: 5001, path: '/ready' }, scoring_route: { port: 5001, path: '/score' } };
  const deployments: Record<string, Record<string, unknown>> = {
    ...Object.fromEntries(Object.keys(folders).map((f) => [`model-${f}`, { model: { path: `./${f}` }, environment: 'azureml:fraud-env:1' }])),
    'model-file': { model: { path: './model.onnx' }, environment: 'azureml:fraud-env:1' },
    'env-image': { environment: { image } },
    'env-conda': { environment: { image, conda_file: './conda.yml' } },
    'env-conda-ic': { environment: { image, conda_file: './conda.yml', inference_config: routes } },
    'env-ic': { environment: { image, inference_config: routes } },
    'env-quoted': { environment: { image, conda_file: './conda-quoted.yml', inference_config: routes } },
    'env-exotic': { environment: { image, conda_file: './conda-exotic.yml' } },
    'env-build': { environment: { build: { path: './ctx' } } },
    'env-build-dockerfile': { environment: { build: { path: './ctx-gpu', dockerfile_path: 'docker/Dockerfile.gpu' } } },
  };
  const yamls = Object.entries(deployments).map(([id, d]) => {
    const yaml = join(dir, `${id}.deployment.yml`);
    writeFileSync(yaml, stringify({ name: 'green', ...DEPLOYMENT, ...d }));
    return { id, yaml };
  });

  const started = Date.now();
  const oracle = runOracle(found.python, {
    paths: [...Object.entries(folders).map(([id, path]) => ({ id, path })), { id: 'file', path: join(dir, 'model.onnx') }],
    deployments: yamls,
  });
  t.diagnostic(`azure-ai-ml ${oracle.azureAiMl} (hash_version ${oracle.hashVersion}) in ${VENV}: ${Date.now() - started} ms`);
  assert.equal(oracle.hashVersion, 202208, 'the content hash version Glidepath registers');

  const spec = (id: string) => DeploymentSpecSchema.parse({ name: 'green', ...DEPLOYMENT, ...deployments[id] });

  // 1. Folders: the files uploaded, the content hash (as code) and the object hash and anonymous name (as a model).
  for (const id of Object.keys(folders)) {
    const asCode = await readLocalAssets(DeploymentSpecSchema.parse({ ...DEPLOYMENT, environment: 'azureml:fraud-env:1', code_configuration: { code: `./${id}`, scoring_script: 'score.py' } }), dir);
    const code = asCode.find((a) => a.what === 'code')!;
    const py = oracle.paths[id]!;
    assert.deepEqual(code.files.map((f) => f.rel).sort(), py.files, `${id}: the files uploaded (ignore files, symlinks)`);
    assert.equal(code.hash, py.contentHash, `${id}: the code content hash`);
    const [model] = await readLocalAssets(spec(`model-${id}`), dir);
    assert.equal(model!.hash, py.objectHash, `${id}: the object hash (LocalUpload/<hash>/)`);
    const cli = oracle.deployments[`model-${id}`]!.model!;
    assert.equal(model!.name, cli.name, `${id}: the anonymous model name`);
    assert.equal(model!.name, sha256hex(py.objectHash), `${id}: the anonymous model name is sha256hex(objectHash)`);
    assert.equal(model!.version, cli.version);
  }
  // The fixtures did exercise the ignore rules and the symlinks (a test that cannot fail is a defect).
  assert.ok(oracle.paths.amlignore!.files!.includes('link.py') && oracle.paths.amlignore!.files!.includes('sub/data/raw.csv'));
  assert.ok(!oracle.paths.amlignore!.files!.some((f) => /\.pyc$|^data\/|^logs\//.test(f)));
  assert.ok(oracle.paths.gitignore!.files!.includes('linked-dir/deeper/file.TXT') && !oracle.paths.gitignore!.files!.includes('train.log'));

  // 2. A single-file model.
  const [file] = await readLocalAssets(spec('model-file'), dir);
  assert.equal(file!.hash, oracle.paths.file!.objectHash, 'single-file model: the object hash');
  assert.equal(file!.name, oracle.deployments['model-file']!.model!.name, 'single-file model: the anonymous model name');

  // 3. Build contexts: object hash and environment version, with and without dockerfile_path.
  for (const id of ['env-build', 'env-build-dockerfile']) {
    const [ctx] = await readLocalAssets(spec(id), dir);
    const cli = oracle.deployments[id]!.environment!;
    assert.equal(ctx!.hash, cli.uploadHash, `${id}: the build context's object hash`);
    assert.equal(ctx!.name, cli.name, `${id}: the environment name`);
    assert.equal(ctx!.version, cli.version, `${id}: the anonymous environment version`);
  }

  // 4. Inline image environments: image, + conda_file (plain lists), + inference_config.
  for (const id of ['env-image', 'env-conda', 'env-ic', 'env-conda-ic', 'env-quoted']) {
    const env = (await readInlineEnvironment(spec(id), dir))!;
    const cli = oracle.deployments[id]!.environment!;
    if (cli.condaFile !== null) assert.equal(env.condaFile, cli.condaFile, `${id}: the conda YAML sent as condaFile`);
    assert.equal(`CliV2AnonymousEnvironment:${env.version}`, `${cli.name}:${cli.version}`, `${id}: the anonymous environment version`);
  }

  // 5. The documented difference (README, known limits): Glidepath's conda YAML is written in PyYAML's style
  // but not by PyYAML, so a conda file with non-ASCII text, long lines or '1e3'-like strings is not byte for
  // byte what the CLI sends, and its version then differs from the CLI's. Glidepath's is stable for the same file.
  const exotic = (await readInlineEnvironment(spec('env-exotic'), dir))!;
  const cliExotic = oracle.deployments['env-exotic']!.environment!;
  t.diagnostic(`exotic conda file: ${exotic.condaFile === cliExotic.condaFile ? 'same YAML as PyYAML' : `YAML differs from PyYAML's: ${JSON.stringify(exotic.condaFile)} vs ${JSON.stringify(cliExotic.condaFile)}`}`);
  assert.equal((await readInlineEnvironment(spec('env-exotic'), dir))!.version, exotic.version);
});
