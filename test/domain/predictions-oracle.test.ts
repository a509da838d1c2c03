/**
 * Oracle for the prediction statistics: the same seeded samples go to domain/predictions and to
 * numpy/scipy (scipy.spatial.distance.jensenshannon, scipy.stats.ks_2samp, scipy.stats.binom.pmf for the
 * disagreement test's mixture e-value, numpy for PSI), and the numbers must agree to 1e-9.
 *
 * Python runs in the statistics oracles' venv (test/support/python-venv.ts SAVVI_ORACLE_VENV:
 * GLIDEPATH_ORACLE_VENV, default ~/.cache/glidepath/venv-oracle; savvi brings numpy and scipy), created here
 * if the judge oracle test has not made it yet. The test skips, saying why, only when python3 or its venv
 * module is missing; a failed pip install fails it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { DISAGREEMENT_GRID, PSI_EMPTY_BIN_SHARE, jensenShannonDistance, ksStatistic, logMixtureE, psi } from '../../domain/predictions/index.js';
import { seededRandom } from '../../emulator/core.js';
import { oraclePython, SAVVI_ORACLE_VENV } from '../support/python-venv.js';


const SCRIPT = String.raw`
import json, sys
import numpy as np
from scipy.spatial.distance import jensenshannon
from scipy.stats import ks_2samp, binom
cases = json.load(sys.stdin)
out = {"bins": [], "samples": [], "binom": []}
for b, c in cases["bins"]:
    b = np.array(b, float); c = np.array(c, float)
    pb = np.maximum(b / b.sum(), cases["floor"]); pb /= pb.sum()
    pc = np.maximum(c / c.sum(), cases["floor"]); pc /= pc.sum()
    keep = (b > 0) | (c > 0)
    out["bins"].append({"psi": float(np.sum(((pc - pb) * np.log(pc / pb))[keep])), "js": float(jensenshannon(b, c, base=2))})
for a, b in cases["samples"]:
    out["samples"].append(float(ks_2samp(a, b).statistic))
for n, x, p0, direction, K, S in cases["binom"]:
    lo = np.log(p0 / (1 - p0))
    ps = [1 / (1 + np.exp(-(lo + direction * k * np.log(S) / K))) for k in range(1, K + 1)]
    e = np.mean([binom.pmf(x, n, p) / binom.pmf(x, n, p0) for p in ps])
    out["binom"].append(float(np.log(e)))
print(json.dumps(out))
`;

test('PSI, Jensen-Shannon distance, KS and the disagreement e-value agree with numpy/scipy on seeded samples', (t) => {
  const found = oraclePython(SAVVI_ORACLE_VENV);
  if ('skip' in found) {
    t.skip(found.skip);
    return;
  }
  const PYTHON = found.python;
  const rng = seededRandom(2026);
  const bins: [number[], number[]][] = [];
  for (let i = 0; i < 20; i++) {
    const k = 3 + Math.floor(rng() * 20);
    const draw = () => Array.from({ length: k }, () => (rng() < 0.15 ? 0 : Math.floor(rng() * 200)));
    const b = draw();
    const c = draw();
    b[0]! += 1;
    c[k - 1]! += 1;
    bins.push([b, c]);
  }
  const samples: [number[], number[]][] = [];
  for (let i = 0; i < 10; i++) {
    // Rounded values so that ties occur, as they do for scores.
    const a = Array.from({ length: 50 + Math.floor(rng() * 300) }, () => Math.round(rng() * 100) / 100);
    const b = Array.from({ length: 50 + Math.floor(rng() * 300) }, () => Math.round(rng() ** (0.5 + rng()) * 100) / 100);
    samples.push([a, b]);
  }
  const binomCases: [number, number, number, 1 | -1, number, number][] = [
    [100, 5, 0.02, 1, DISAGREEMENT_GRID.points, DISAGREEMENT_GRID.span],
    [1000, 50, 0.02, 1, DISAGREEMENT_GRID.points, DISAGREEMENT_GRID.span],
    [400, 0, 0.02, -1, DISAGREEMENT_GRID.points, DISAGREEMENT_GRID.span],
    [300, 2, 0.05, -1, DISAGREEMENT_GRID.points, DISAGREEMENT_GRID.span],
    [50, 20, 0.1, 1, 7, 5],
  ];
  const r = spawnSync(PYTHON, ['-c', SCRIPT], { input: JSON.stringify({ floor: PSI_EMPTY_BIN_SHARE, bins, samples, binom: binomCases }), encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const oracle = JSON.parse(r.stdout) as { bins: { psi: number; js: number }[]; samples: number[]; binom: number[] };
  const near = (a: number | null, b: number, what: string) => assert.ok(a !== null && Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ours ${a}, scipy ${b}`);
  bins.forEach(([b, c], i) => {
    near(psi(b, c), oracle.bins[i]!.psi, `PSI case ${i}`);
    near(jensenShannonDistance(b, c), oracle.bins[i]!.js, `JS case ${i}`);
  });
  samples.forEach(([a, b], i) => near(ksStatistic(a, b), oracle.samples[i]!, `KS case ${i}`));
  binomCases.forEach(([n, x, p0, dir, K, S], i) => near(logMixtureE(n, x, p0, { points: K, span: S }, dir), oracle.binom[i]!, `ln E case ${i}`));
  t.diagnostic(`${bins.length} PSI/JS cases, ${samples.length} KS cases, ${binomCases.length} e-values agree with numpy/scipy`);
});
