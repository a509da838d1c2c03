// A Python virtual environment for a test's independent oracle (savvi, numpy/scipy, azure-ai-ml): created
// once under ~/.cache/glidepath (or the path the test's environment variable names), reused while its
// marker file lists the same requirements, and rebuilt when they change.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export interface OracleVenv {
  /** The venv's folder. */
  venv: string;
  /** pip requirement specifiers, pinned. */
  requirements: readonly string[];
  /** The oldest python3 the requirements install on, e.g. [3, 11]. */
  minPython: readonly [number, number];
  /** What the oracle is, for skip messages ("the savvi oracle"). */
  what: string;
  /** How long pip may take (ms). */
  pipTimeoutMs?: number;
}

/**
 * The venv's python, or why there is none: `skip` when python3 (≥ minPython) or its venv module is missing
 * here, which is the only reason an oracle test may skip; a failed `pip install` throws, failing the test.
 */
export function oraclePython(o: OracleVenv): { python: string } | { skip: string } {
  const probe = spawnSync('python3', ['-c', 'import sys, venv; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    return { skip: `python3 with its venv module is not available here (${probe.error?.message ?? probe.stderr.trim()}); ${o.what} cannot run` };
  }
  const [major, minor] = probe.stdout.trim().split('.').map(Number) as [number, number];
  const [wantMajor, wantMinor] = o.minPython;
  if (major < wantMajor || (major === wantMajor && minor < wantMinor)) {
    return { skip: `python3 is ${probe.stdout.trim()}; ${o.requirements[0]} needs Python ≥ ${wantMajor}.${wantMinor}, so ${o.what} cannot run` };
  }
  const python = join(o.venv, 'bin', 'python');
  const marker = join(o.venv, 'glidepath-oracle.json');
  const wanted = JSON.stringify({ requirements: o.requirements });
  if (existsSync(python) && existsSync(marker) && readFileSync(marker, 'utf8') === wanted) return { python };
  mkdirSync(dirname(o.venv), { recursive: true });
  const venv = spawnSync('python3', ['-m', 'venv', '--clear', o.venv], { encoding: 'utf8' });
  if (venv.status !== 0) return { skip: `python3 -m venv failed (is the python3-venv package installed?): ${venv.stderr.trim().slice(-400)}` };
  const pip = spawnSync(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--quiet', ...o.requirements], { encoding: 'utf8', timeout: o.pipTimeoutMs ?? 600_000 });
  if (pip.status !== 0) throw new Error(`pip install ${o.requirements.join(' ')} into ${o.venv} failed (status ${pip.status}): ${(pip.stderr || String(pip.error)).trim().slice(-1500)}`);
  writeFileSync(marker, wanted);
  return { python };
}

/**
 * The venv of the statistics oracles (test/domain/judge-oracle.test.ts, predictions-oracle.test.ts):
 * GLIDEPATH_ORACLE_VENV, default ~/.cache/glidepath/venv-oracle. savvi brings numpy and scipy; savvi.utils
 * imports matplotlib without declaring it.
 */
export const SAVVI_ORACLE_VENV: OracleVenv = {
  venv: process.env.GLIDEPATH_ORACLE_VENV ?? join(homedir(), '.cache', 'glidepath', 'venv-oracle'),
  requirements: ['savvi==0.3.1', 'matplotlib'],
  minPython: [3, 11],
  what: 'the savvi oracle',
};
