/**
 * The detection benchmark's engine (bench/lib/judge-bench.ts) on a tiny grid, in seconds: its output has
 * the documented shape, it can see what it exists to see (peeking inflates the naive rule's false alarms
 * above the judge's; a crash is caught), the fast judge driver decides exactly as judgeLook does, and the
 * baselines behave as their documentation says.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  EFFECTS,
  FLAGGER,
  METHODS,
  calibrateFlagger,
  flaggerDefaultFail,
  flaggerRelativeFail,
  glidepathSettings,
  kayentaHigh,
  runGrid,
  simulateRun,
  type BenchConfig,
} from '../../bench/lib/judge-bench.js';
import { seeded } from '../support/judge-streams.js';

const effect = (id: string) => EFFECTS.find((e) => e.id === id)!;

describe('bench/judge engine on a tiny grid (1 req/s, baseline 5xx 0.5%, 30-minute bake)', () => {
  const cfg: BenchConfig = {
    rates: [1],
    baseline5xx: [0.005],
    effects: [effect('none'), effect('crash'), effect('latency+25%')],
    noEffectRuns: 120,
    effectRuns: 8,
    bakeSeconds: 1800,
    seed: 7,
    alpha: 0.01,
  };
  const result = runGrid(cfg);

  test('has one cell per rate × baseline × effect, every method in each, with counts and times in range', () => {
    assert.equal(result.cells.length, 3);
    for (const c of result.cells) {
      assert.deepEqual(Object.keys(c.methods).sort(), [...METHODS].sort());
      for (const m of METHODS) {
        const x = c.methods[m];
        assert.equal(x.runs, c.effect === 'none' ? 120 : 8);
        assert.ok(Number.isInteger(x.fails) && x.fails >= 0 && x.fails <= x.runs, `${m} fails ${x.fails}`);
        assert.equal(x.failShare, x.fails / x.runs);
        for (const t of [x.detectP50, x.detectP95]) assert.ok(t === null || (t > 0 && t <= cfg.bakeSeconds), `${m} time ${t}`);
        if (x.detectP50 !== null && x.detectP95 !== null) assert.ok(x.detectP50 <= x.detectP95);
      }
      assert.equal(typeof c.methods.glidepath.earlyPasses, 'number');
    }
    assert.equal(result.calibration.length, 1);
    assert.equal(result.smallestDetectable.length, METHODS.length);
  });

  test('peeking shows: the naive z-test every look raises more false alarms than the judge on the same no-effect streams', (t) => {
    const none = result.cells.find((c) => c.effect === 'none')!;
    t.diagnostic(`false alarms in 120 bakes: naive ${none.methods.naive.fails}, Glidepath ${none.methods.glidepath.fails}`);
    assert.ok(none.methods.naive.fails > none.methods.glidepath.fails);
    assert.ok(none.methods.glidepath.fails <= 5, `Glidepath raised ${none.methods.glidepath.fails} false alarms in 120 bakes at α = 0.01`);
  });

  test('a crash is caught by the judge within its first two looks (20 s) in every run, and by Flagger defaults after 5 failed 1-minute checks', () => {
    const crash = result.cells.find((c) => c.effect === 'crash')!;
    assert.equal(crash.methods.glidepath.fails, 8);
    assert.ok(crash.methods.glidepath.detectP95! <= 20, `p95 ${crash.methods.glidepath.detectP95} s`);
    assert.equal(crash.methods['flagger-default'].detectP50, FLAGGER.threshold * 60);
  });

  test('the calibrated Flagger-style rule raises no more false alarms than the judge on the no-effect runs', () => {
    const c = result.calibration[0]!;
    assert.ok(c.achievedAlarms <= c.targetAlarms, JSON.stringify(c));
    const none = result.cells.find((x) => x.effect === 'none')!;
    assert.equal(none.methods['flagger-calibrated'].fails, c.achievedAlarms);
  });
});

test('the benchmark\'s fast driver of the judge decides exactly as judgeLook does (fail and early-pass times)', () => {
  const settings = glidepathSettings(0.01);
  const cases: [number, string][] = [[1, 'none'], [10, 'errors-4x'], [10, 'latency+25%'], [1, 'tail-2%+300ms'], [10, 'none']];
  let decided = 0;
  for (const [rps, id] of cases) {
    for (let seed = 1; seed <= 3; seed++) {
      const cfg = { bakeSeconds: 900, alpha: 0.01 };
      const fast = simulateRun(rps, 0.005, effect(id), seed, cfg, settings);
      const slow = simulateRun(rps, 0.005, effect(id), seed, cfg, settings, 'judgeLook');
      assert.equal(fast.glidepathFail, slow.glidepathFail, `${rps} req/s ${id} seed ${seed}: fail`);
      assert.equal(fast.glidepathPass, slow.glidepathPass, `${rps} req/s ${id} seed ${seed}: pass`);
      assert.equal(fast.glidepathUnpairedFail, slow.glidepathUnpairedFail, `${rps} req/s ${id} seed ${seed}: unpaired fail`);
      assert.equal(fast.glidepathUnpairedPass, slow.glidepathUnpairedPass, `${rps} req/s ${id} seed ${seed}: unpaired pass`);
      if (fast.glidepathFail !== null) decided++;
    }
  }
  assert.ok(decided >= 6, `only ${decided} runs decided: the comparison would say little`);
});

describe('the other tools\' rules as the benchmark implements them', () => {
  test('Kayenta-style Mann-Whitney: a clear increase is High; the same data, a decrease, or all-tied data are not', () => {
    const base = Array.from({ length: 60 }, (_, i) => 100 + ((i * 37) % 23));
    assert.equal(kayentaHigh(base, base.map((x) => x * 1.5)), true);
    assert.equal(kayentaHigh(base, base), false);
    assert.equal(kayentaHigh(base, base.map((x) => x * 0.7)), false);
    assert.equal(kayentaHigh(new Array(60).fill(0), new Array(60).fill(0)), false);
  });

  test('Flagger defaults: 5 minutes below 99% success roll back at the fifth; 4 do not', () => {
    const intervals = (bad: number) => {
      const iv = new Float64Array(60 * 4);
      for (let i = 0; i < 60; i++) iv.set([i < bad ? 0.02 : 0.001, 0.001, 300, 300], i * 4);
      return iv;
    };
    assert.equal(flaggerDefaultFail(intervals(5)), 300);
    assert.equal(flaggerDefaultFail(intervals(4)), null);
    assert.equal(flaggerRelativeFail(intervals(5), { errorShareIncrease: 0.01, p99Ratio: 2 }), 300);
  });

  test('calibration picks thresholds that hold the allowance, and looser ones only when allowed more alarms', () => {
    const rng = seeded(3);
    const runs = Array.from({ length: 50 }, () => {
      const iv = new Float64Array(60 * 4);
      for (let i = 0; i < 60; i++) iv.set([0.01 * rng(), 0.005, 300 * (1 + 0.2 * rng()), 300], i * 4);
      return iv;
    });
    const strict = calibrateFlagger(runs, 0);
    const loose = calibrateFlagger(runs, 10);
    assert.equal(strict.alarms, 0);
    assert.ok(loose.alarms <= 10 && loose.alarms > 0, `loose: ${loose.alarms}`);
    assert.ok(loose.thresholds.errorShareIncrease <= strict.thresholds.errorShareIncrease);
  });
});
