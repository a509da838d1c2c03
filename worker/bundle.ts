/**
 * The workflow bundle, built once per version of the code: webpack runs only when the sources it is built
 * from changed. The bundle is cached under node_modules/.cache/glidepath, keyed by a hash of the workflow
 * entry's folder (workflows/), domain/ and the lockfile, so every test file of a run, every later run, a
 * second demo and a rebuild of the production bundle with the same code reuse it.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, DefaultLogger, type WorkflowBundle } from '@temporalio/worker';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** The workflows every Glidepath worker runs. */
export const WORKFLOWS_PATH = join(repoRoot, 'workflows', 'index.ts');

/**
 * The bundle `npm run build` writes beside the compiled code (dist/workflow-bundle.js), seen from the
 * compiled worker (dist/worker/bundle.js); null when running from the TypeScript sources, which bundle
 * themselves (webpack, cached). The installed package has only this, so it never runs webpack.
 */
export function prebuiltWorkflowBundlePath(): string | null {
  if (import.meta.url.endsWith('.ts')) return null;
  const file = fileURLToPath(new URL('../workflow-bundle.js', import.meta.url));
  return existsSync(file) ? file : null;
}

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Where the bundle of `workflowsPath` with the sources as they are now is (or would be) cached. */
export function workflowBundleCacheFile(workflowsPath = WORKFLOWS_PATH): string {
  const hash = createHash('sha256').update(workflowsPath);
  for (const f of [...sourceFiles(dirname(workflowsPath)), ...sourceFiles(join(repoRoot, 'domain')), join(repoRoot, 'package-lock.json')].sort()) {
    if (existsSync(f)) hash.update(f).update(readFileSync(f));
  }
  return join(repoRoot, 'node_modules', '.cache', 'glidepath', `workflows-${hash.digest('hex').slice(0, 16)}.bundle.js`);
}

/**
 * The bundle of `workflowsPath` (default: workflows/index.ts): the prebuilt one in compiled code, else read
 * from the cache, or built with the SDK's bundler (warnings only) and written there.
 */
export async function cachedWorkflowBundle(workflowsPath = WORKFLOWS_PATH): Promise<WorkflowBundle> {
  const prebuilt = workflowsPath === WORKFLOWS_PATH ? prebuiltWorkflowBundlePath() : null;
  if (prebuilt) return { code: readFileSync(prebuilt, 'utf8') };
  const file = workflowBundleCacheFile(workflowsPath);
  if (existsSync(file)) return { code: readFileSync(file, 'utf8') };
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
  mkdirSync(dirname(file), { recursive: true });
  // Write, then rename: a process that builds the same bundle at the same time never reads half a file.
  const partial = `${file}.${process.pid}.partial`;
  writeFileSync(partial, code);
  renameSync(partial, file);
  return { code };
}
