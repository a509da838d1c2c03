/**
 * The independent oracle (issue 14, item 4): the same seeded streams go to the TypeScript count test and
 * to PyPI `savvi` 0.3.1 (Lindon & Malek's multinomial tests, by another author), and the decisions are
 * compared.
 *
 * The methods differ on purpose: savvi mixes over a Dirichlet prior concentrated around the null (k = 100)
 * and, for a tolerance, divides by the null's maximised likelihood (a convex solve); the judge mixes over a
 * grid of ratios 1.08×…20× the tolerance. So the test asks that
 * - under "no difference" both keep the false-alarm bound on the same streams (savvi's point-null test
 *   and the judge's one-sided test, α = 0.05);
 * - a 4× regression against a 1.2× tolerance is rejected by both in every stream within the hour;
 * - a healthy candidate against a 2× tolerance is declared within tolerance by both, on most streams.
 *
 * `confseq` (the other package the reference names) is not used: its sdist needs the Boost C++ headers to
 * build on Python 3.11 (no wheel), which pip cannot bring.
 *
 * The Python side runs in a virtual environment this test creates (GLIDEPATH_ORACLE_VENV, default
 * ~/.cache/glidepath/venv-oracle) and reuses. The test skips, saying why, only when python3 ≥ 3.11 or its
 * venv module is missing; a failed `pip install` fails the test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CountWindow, Tolerance } from '../../domain/judge/index.js';
import { countStream, quantile, runCountTest, type CountScenario } from '../support/judge-streams.js';
import { oraclePython, SAVVI_ORACLE_VENV } from '../support/python-venv.js';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '../support/savvi-oracle.py');
const VENV = SAVVI_ORACLE_VENV.venv;
const ALPHA = 0.05;


interface OracleCase {
  name: string;
  mode: 'point' | 'atMost' | 'atLeast';
  logRatio: number;
  exposure: [number, number];
  streams: [number, number][][];
}
type OracleResult = { savvi: string; cases: Record<string, { rejectAt: number | null; odds: number }[]> };

function runOracle(python: string, cases: OracleCase[]): OracleResult {
  const r = spawnSync(python, [SCRIPT], { input: JSON.stringify({ alpha: ALPHA, cases }), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 300_000 });
  if (r.status !== 0) throw new Error(`savvi oracle failed (status ${r.status}): ${(r.stderr || String(r.error)).slice(-2000)}`);
  return JSON.parse(r.stdout) as OracleResult;
}

/** Streams of one scenario, materialised (both sides read the same numbers). */
function streams(s: CountScenario, seed0: number, runs: number): CountWindow[][] {
  return Array.from({ length: runs }, (_, i) => [...countStream(s, seed0 + i)]);
}
const forSavvi = (ws: CountWindow[][]) => ws.map((w) => w.map((x) => [x.baselineEvents, x.candidateEvents] as [number, number]));
const allowed = (alpha: number, n: number) => alpha * n + 3 * Math.sqrt(alpha * (1 - alpha) * n);
const ratio = (r: number): Tolerance => ({ ratio: r, additive: 0 });

test('the judge and savvi reach the same decisions on the same seeded streams (or both keep the false-alarm bound)', { timeout: 900_000 }, (t) => {
  const found = oraclePython(SAVVI_ORACLE_VENV);
  if ('skip' in found) {
    t.skip(found.skip);
    return;
  }
  // 1-minute windows of a 20% canary at 83 req/s: 1,000 candidate and 4,000 baseline requests, 0.5% errors.
  const canary = { candidateRequests: 1000, baselineRequests: 4000, baselineRate: 0.005, windows: 60 };
  const nullStreams = streams({ ...canary, candidateRequests: 120, baselineRequests: 480, candidateRate: 0.005 }, 1, 400);
  const badStreams = streams({ ...canary, candidateRate: 0.02 }, 1000, 30);
  const goodStreams = streams({ ...canary, windows: 30, candidateRate: 0.005 }, 2000, 30);
  const oracle = runOracle(found.python, [
    // Bridge check: the reference's savvi example, counts [148, 62] at ρ = [0.8, 0.2], gives p = 0.0455796317592 (odds 21.9396).
    { name: 'bridge', mode: 'point', logRatio: 0, exposure: [4, 1], streams: [[[148, 62]]] },
    { name: 'null', mode: 'point', logRatio: 0, exposure: [480, 120], streams: forSavvi(nullStreams) },
    { name: 'bad', mode: 'atMost', logRatio: Math.log(1.2), exposure: [4000, 1000], streams: forSavvi(badStreams) },
    { name: 'good', mode: 'atLeast', logRatio: Math.log(2), exposure: [4000, 1000], streams: forSavvi(goodStreams) },
  ]);
  t.diagnostic(`savvi ${oracle.savvi} in ${VENV}`);
  const bridge = oracle.cases.bridge![0]!;
  assert.ok(Math.abs(1 / bridge.odds - 0.0455796317592) < 1e-9, `savvi bridge: p = ${1 / bridge.odds}, expected 0.0455796317592`);

  // 1. No difference: both stay within α on the same 400 hour-long streams, looking every minute.
  const tsNull = nullStreams.map((s) => runCountTest(s, ratio(1), ALPHA, { stopAt: 'fail' }).failAt);
  const tsAlarms = tsNull.filter((x) => x !== null).length;
  const savviAlarms = oracle.cases.null!.filter((r) => r.rejectAt !== null).length;
  t.diagnostic(`no difference, 400 streams × 60 looks, α = ${ALPHA}: judge ${tsAlarms} false alarms, savvi ${savviAlarms} (allowed ≤ ${allowed(ALPHA, 400).toFixed(1)})`);
  assert.ok(tsAlarms <= allowed(ALPHA, 400), `judge: ${tsAlarms} false alarms`);
  assert.ok(savviAlarms <= allowed(ALPHA, 400), `savvi: ${savviAlarms} false alarms`);

  // 2. 4× errors against a 1.2× tolerance: both reject "within tolerance" in every stream.
  const tsBad = badStreams.map((s) => runCountTest(s, ratio(1.2), ALPHA, { stopAt: 'fail' }).failAt);
  const savviBad = oracle.cases.bad!.map((r) => r.rejectAt);
  const agreeBad = tsBad.filter((x, i) => (x !== null) === (savviBad[i] !== null)).length;
  t.diagnostic(
    `4× errors vs 1.2× tolerance, 30 streams: judge rejects ${tsBad.filter((x) => x !== null).length}/30 (median minute ${quantile(tsBad.filter((x): x is number => x !== null), 0.5)}), ` +
      `savvi ${savviBad.filter((x) => x !== null).length}/30 (median minute ${quantile(savviBad.filter((x): x is number => x !== null), 0.5)}); decisions agree on ${agreeBad}/30`,
  );
  assert.equal(tsBad.filter((x) => x === null).length, 0, 'the judge missed a 4× regression');
  assert.equal(savviBad.filter((x) => x === null).length, 0, 'savvi missed a 4× regression');

  // 3. A healthy candidate against a 2× tolerance: both conclude "within tolerance" on most streams, and agree.
  const tsGood = goodStreams.map((s) => runCountTest(s, ratio(2), ALPHA, { stopAt: 'pass' }).passAt);
  const savviGood = oracle.cases.good!.map((r) => r.rejectAt);
  const agreeGood = tsGood.filter((x, i) => (x !== null) === (savviGood[i] !== null)).length;
  t.diagnostic(
    `healthy vs 2× tolerance, 30 streams × 30 min: judge passes ${tsGood.filter((x) => x !== null).length}/30 (median minute ${quantile(tsGood.filter((x): x is number => x !== null), 0.5)}), ` +
      `savvi ${savviGood.filter((x) => x !== null).length}/30 (median minute ${quantile(savviGood.filter((x): x is number => x !== null), 0.5)}); decisions agree on ${agreeGood}/30`,
  );
  assert.ok(tsGood.filter((x) => x !== null).length >= 27, 'the judge should pass most healthy streams');
  assert.ok(savviGood.filter((x) => x !== null).length >= 27, 'savvi should pass most healthy streams');
  assert.ok(agreeGood >= 27, `decisions agree on only ${agreeGood}/30 healthy streams`);
});
