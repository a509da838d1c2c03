import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PSI_EMPTY_BIN_SHARE,
  addDisagreementWindow,
  binIndex,
  collectedFolders,
  disagreementVerdict,
  formatFieldPath,
  jensenShannonDistance,
  ksFromBins,
  ksStatistic,
  logMixtureE,
  DISAGREEMENT_GRID,
  pairPredictions,
  pairingLine,
  pairsToPass,
  parseCollectedLines,
  parseFieldPath,
  parsePredictionGate,
  psi,
  scoreShiftVerdict,
  shapeOf,
  startDisagreementTest,
  InvalidPredictionGate,
  type CollectedUnit,
  type PairingSettings,
  type SideUnits,
} from '../../domain/predictions/index.js';
import { seededRandom } from '../../emulator/core.js';
import { batchedLines, collectorLine, linesPerRequest, mirroredTraffic } from '../support/collected-lines.js';

const steps = (p: string) => {
  const r = parseFieldPath(p);
  if ('problem' in r) throw new Error(r.problem);
  return r.steps;
};
const settings = (patch: Partial<PairingSettings> = {}): PairingSettings => ({ label: steps('isFraud'), score: steps('fraudProbability'), slices: [steps('merchantCategory')], ...patch });
const side = (text: { inputs: string; outputs: string }): SideUnits => ({
  inputs: parseCollectedLines(text.inputs, { collection: 'model_inputs' }).units,
  outputs: parseCollectedLines(text.outputs, { collection: 'model_outputs' }).units,
});
const T0 = Date.parse('2026-11-26T10:00:00Z');

describe('field paths', () => {
  const table: [string, (string | number)[] | RegExp][] = [
    ['isFraud', ['isFraud']],
    ['scores.fraud', ['scores', 'fraud']],
    ['$.predictions[0].label', ['predictions', 0, 'label']],
    ["$['merchant category']", ['merchant category']],
    ['$["a.b"][2]', ['a.b', 2]],
    ['', /empty/],
    ['$', /whole response/],
    ['$.predictions[*].label', /wildcards/],
    ['a..b', /field name at position 3/],
    ['$x', /after "\$"/],
  ];
  for (const [text, want] of table) {
    test(`"${text}" ${want instanceof RegExp ? 'is refused with a reason' : 'parses'}`, () => {
      const r = parseFieldPath(text);
      if (want instanceof RegExp) assert.ok('problem' in r && want.test(r.problem), JSON.stringify(r));
      else assert.deepEqual(r, { steps: want });
    });
  }
  test('formatting gives one canonical form', () => {
    assert.equal(formatFieldPath(['predictions', 0, 'label']), '$.predictions[0].label');
    assert.equal(formatFieldPath(["it's"]), "$['it\\'s']");
  });
  test('a shape shows keys and types, never values', () => {
    const shape = shapeOf({ isFraud: true, fraudProbability: 0.93, merchant: 'ACME Stores', predictions: [{ label: 'x', score: 1 }], none: null });
    assert.equal(shape, '{isFraud: boolean, fraudProbability: number, merchant: string, predictions: [{label: string, score: number}], none: null}');
    assert.ok(!/ACME|0\.93/.test(shape));
  });
});

describe('parsing collected lines', () => {
  test('malformed, non-object, timeless, empty, in-blob and other-collection lines are skipped and counted by reason', () => {
    const good = JSON.stringify(collectorLine({ collection: 'model_outputs', time: T0, rows: [{ isFraud: false }], correlationId: 'c1' }));
    const text = [
      good,
      '{"data": [1, 2',
      '[1,2,3]',
      JSON.stringify({ data: [{ a: 1 }] }),
      JSON.stringify({ time: new Date(T0).toISOString() }),
      JSON.stringify({ time: new Date(T0).toISOString(), data: [] }),
      JSON.stringify({ time: new Date(T0).toISOString(), data: 'https://acct.blob.core.windows.net/x', datainblob: 'true' }),
      JSON.stringify(collectorLine({ collection: 'model_inputs', time: T0, rows: [{ a: 1 }] })),
      '',
    ].join('\n');
    const r = parseCollectedLines(text, { collection: 'model_outputs' });
    assert.equal(r.lines, 8);
    assert.equal(r.units.length, 1);
    assert.deepEqual(r.skipped, { malformed_json: 1, not_an_object: 1, missing_time: 1, missing_data: 1, data_in_blob: 1, wrong_collection: 1, empty_data: 1 });
    assert.deepEqual(r.units[0], { time: T0, clientRequestId: null, correlationId: 'c1', row: 0, value: { isFraud: false } });
  });

  test('a batched line gives one unit per row, each with its own ids from its id columns (removed from the value)', () => {
    const line = collectorLine({
      collection: 'model_outputs',
      time: T0,
      correlationId: 'first',
      rows: [
        { correlationid: 'a', 'x-ms-client-request-id': 'A', isFraud: true },
        { correlation_id: 'b', isFraud: false },
        { clientRequestId: 'C', isFraud: false },
      ],
    });
    const { units } = parseCollectedLines(JSON.stringify(line));
    assert.deepEqual(units.map((u) => [u.clientRequestId, u.correlationId, u.row, u.value]), [
      ['A', 'a', 0, { isFraud: true }],
      [null, 'b', 0, { isFraud: false }],
      ['C', null, 0, { isFraud: false }],
    ]);
  });

  test('rows without id columns share the line ids and are numbered; captured headers give the client request id in any spelling', () => {
    const line = { ...collectorLine({ collection: 'model_outputs', time: T0, correlationId: 'req-1', rows: [{ y: 1 }, { y: 2 }] }), headers: { 'X-MS-Client-Request-Id': 'cli-9' } };
    const { units } = parseCollectedLines(JSON.stringify(line));
    assert.deepEqual(units.map((u) => [u.clientRequestId, u.correlationId, u.row]), [['cli-9', 'req-1', 0], ['cli-9', 'req-1', 1]]);
  });

  test('payload logging: a response line whose data is one object (or JSON text) is one unit', () => {
    const a = { ...collectorLine({ collection: 'response', time: T0, correlationId: 'r', rows: [] }), data: { predictions: [{ label: 'fraud' }] } };
    const b = { ...collectorLine({ collection: 'response', time: T0, correlationId: 's', rows: [] }), data: JSON.stringify({ predictions: [{ label: 'ok' }] }) };
    const { units } = parseCollectedLines(`${JSON.stringify(a)}\n${JSON.stringify(b)}`, { collection: 'response' });
    assert.deepEqual(units.map((u) => u.value), [{ predictions: [{ label: 'fraud' }] }, { predictions: [{ label: 'ok' }] }]);
  });

  test('the hour folders of a window: only those it touches, across a day boundary; Day rolling rate gives day folders', () => {
    const f = collectedFolders({ endpoint: 'ep', deployment: 'blue', collection: 'model_outputs', startMs: Date.parse('2026-11-25T22:30:00Z'), endMs: Date.parse('2026-11-26T00:10:00Z') });
    assert.deepEqual(f, [
      'modelDataCollector/ep/blue/model_outputs/2026/11/25/22/',
      'modelDataCollector/ep/blue/model_outputs/2026/11/25/23/',
      'modelDataCollector/ep/blue/model_outputs/2026/11/26/00/',
    ]);
    assert.deepEqual(collectedFolders({ root: '', endpoint: 'ep', deployment: 'g', collection: 'c', startMs: T0, endMs: T0 + 1, rollingRate: 'Day' }), ['ep/g/c/2026/11/26/']);
    assert.deepEqual(collectedFolders({ endpoint: 'ep', deployment: 'g', collection: 'c', startMs: T0, endMs: T0 }), []);
  });
});

describe('pairing', () => {
  /** `corr: 'b'`/`'c'`: a correlation id of that side only (the mirror gave the copy its own), so only the payload can join. */
  const req = (i: number, over: { client?: boolean; corr?: boolean | string; dt?: number; label?: unknown; cat?: string } = {}) => ({
    ...(over.client === false ? {} : { clientRequestId: `cli-${i}` }),
    ...(over.corr === false ? {} : { correlationId: typeof over.corr === 'string' ? `${over.corr}-corr-${i}` : `corr-${i}` }),
    time: T0 + i * 1000 + (over.dt ?? 0),
    input: { amount: i, merchantCategory: over.cat ?? 'online' },
    output: { isFraud: over.label ?? false, fraudProbability: 0.1 },
  });

  test('joins by client request id first, then correlation id, then payload hash within ±2 s', () => {
    const b = [req(0), req(1, { client: false }), req(2, { client: false, corr: 'b' }), req(3, { client: false, corr: 'b' })];
    const c = [req(0), req(1, { client: false }), req(2, { client: false, corr: 'c', dt: 1500 }), req(3, { client: false, corr: 'c', dt: 2500 })];
    const s = pairPredictions(side(linesPerRequest(b)), side(linesPerRequest(c, 'green')), settings());
    assert.deepEqual(
      { joined: s.pairs.joined, client: s.pairs.byClientRequestId, corr: s.pairs.byCorrelationId, hash: s.pairs.byPayloadHash, unjoined: s.pairs.unjoined },
      { joined: 3, client: 1, corr: 1, hash: 1, unjoined: { baseline: 1, candidate: 1 } },
    );
  });

  test('the payload hash join takes the nearest in time and uses each unit once', () => {
    // Two identical requests 1 s apart on each side: each joins its nearest twin, not both the same one.
    const twin = (t: number) => ({ correlationId: `own-${t}`, time: T0 + t, input: { same: 1 }, output: { isFraud: t > 500 } });
    const s = pairPredictions(side(batchedLines([twin(0), twin(1000)], { windowMs: 0, rowIds: false })), side(batchedLines([twin(100), twin(1100)], { windowMs: 0, rowIds: false })), settings());
    assert.equal(s.pairs.byPayloadHash, 2);
    assert.equal(s.labels.disagreements, 0);
  });

  test('an id join whose inputs differ is refused and counted (differently batched lines under one line id)', () => {
    // Baseline batched requests 0 and 1 under line id corr-0; the candidate batched 0 and 2 (1 was not mirrored).
    const r0 = req(0, { client: false });
    const r1 = req(1, { client: false, dt: -900 });
    const r2 = req(2, { client: false, dt: -1900, label: true });
    const s = pairPredictions(side(batchedLines([r0, r1], { windowMs: 500, rowIds: false })), side(batchedLines([r0, r2], { windowMs: 500, rowIds: false })), settings());
    assert.equal(s.pairs.byCorrelationId, 1, 'row 0 (request 0) joins');
    assert.equal(s.pairs.idConflicts, 1, 'row 1 (request 1 vs 2) is refused');
    assert.equal(s.labels.disagreements, 0, 'no wrong pair was compared');
  });

  test('batched lines with id columns pair row by row; duplicates count once; outputs without inputs still join by id', () => {
    const reqs = [0, 1, 2, 3, 4, 5].map((i) => req(i, { dt: -i * 900 }));
    const base = batchedLines(reqs, { windowMs: 3000 });
    const cand = linesPerRequest(reqs, 'green');
    const dup = cand.outputs.split('\n')[0]!;
    const candSide = side({ inputs: cand.inputs.split('\n').slice(2).join('\n'), outputs: `${cand.outputs}${dup}\n` });
    const s = pairPredictions(side(base), candSide, settings());
    assert.ok(base.lines < 6, 'the baseline batched requests into fewer lines');
    assert.equal(s.pairs.joined, 6);
    assert.equal(s.pairs.byClientRequestId, 6);
    assert.deepEqual(s.pairs.duplicates, { baseline: 0, candidate: 1 });
    assert.deepEqual(s.pairs.withoutInput, { baseline: 0, candidate: 2 });
  });

  test('labels: disagreements, the flip matrix, classes, per-slice counts and the status line', () => {
    const b: ReturnType<typeof req>[] = [];
    const c: ReturnType<typeof req>[] = [];
    for (let i = 0; i < 100; i++) {
      const cat = i % 2 === 0 ? 'online' : 'grocery';
      b.push(req(i, { cat, label: i < 10 }));
      // 8 false→true flips (all online), 2 true→false (grocery).
      const flipUp = i >= 10 && i < 26 && cat === 'online';
      const flipDown = i < 10 && i < 4 && cat === 'grocery';
      c.push(req(i, { cat, label: flipUp ? true : flipDown ? false : i < 10 }));
    }
    const s = pairPredictions(side(linesPerRequest(b)), side(linesPerRequest(c)), settings());
    assert.equal(s.labels.compared, 100);
    assert.equal(s.labels.disagreements, 10);
    assert.deepEqual(s.labels.flips, [{ baseline: 'false', candidate: 'true', count: 8 }, { baseline: 'true', candidate: 'false', count: 2 }]);
    assert.deepEqual(s.labels.classes.baseline, { false: 90, true: 10 });
    assert.deepEqual(s.labels.classes.candidate, { false: 84, true: 16 });
    assert.deepEqual(s.slices[0]!.values, [{ value: 'online', pairs: 50, disagreements: 8 }, { value: 'grocery', pairs: 50, disagreements: 2 }]);
    assert.equal(pairingLine(s), 'disagreement 10.0% (10/100 pairs) · isFraud false→true 8, true→false 2 · worst slice merchantCategory=online 16.0%');
  });

  test('a label path that does not exist is reported with the path and the responses shape (no values); wrong types are counted apart', () => {
    const b = [req(0), req(1)];
    const c = [req(0), { ...req(1), output: { isFraud: 'yes-but-object', fraudProbability: 'high' } }];
    c[1]!.output = { isFraud: { v: true } as unknown as string, fraudProbability: 'high' };
    const s = pairPredictions(side(linesPerRequest(b)), side(linesPerRequest(c)), settings({ label: steps('$.predictions[0].label') }));
    assert.equal(s.labels.compared, 0);
    assert.deepEqual(s.labels.missing, { baseline: 2, candidate: 2 });
    const p = s.pathProblems.find((x) => x.field === 'label' && x.side === 'baseline')!;
    assert.deepEqual(p, { field: 'label', path: '$.predictions[0].label', side: 'baseline', problem: 'missing', count: 2, exampleShape: '{isFraud: boolean, fraudProbability: number}' });
    const s2 = pairPredictions(side(linesPerRequest(b)), side(linesPerRequest(c)), settings());
    assert.deepEqual(s2.labels.wrongType, { baseline: 0, candidate: 1 });
    assert.deepEqual(s2.scores!.wrongType, { baseline: 0, candidate: 1 });
    assert.equal(s2.labels.compared, 1);
    assert.ok(!JSON.stringify(s2).includes('high'), 'no response value in the summary');
  });

  test('scores: differences over tolerance, bins of both sides and the shift statistics', () => {
    const b = [0.05, 0.15, 0.25, 0.35].map((x, i) => ({ ...req(i), output: { isFraud: false, fraudProbability: x } }));
    const c = [0.05, 0.3, 0.25, 0.95].map((x, i) => ({ ...req(i), output: { isFraud: false, fraudProbability: x } }));
    const s = pairPredictions(side(linesPerRequest(b)), side(linesPerRequest(c)), settings({ scoreEdges: [0, 0.5, 1] })).scores!;
    assert.equal(s.compared, 4);
    assert.equal(s.overTolerance, 2, '0.15→0.3 and 0.35→0.95 differ by more than 0.1');
    assert.ok(Math.abs(s.meanAbsDifference! - 0.1875) < 1e-12);
    assert.deepEqual(s.bins, { baseline: [0, 4, 0, 0], candidate: [0, 3, 1, 0] });
    assert.equal(s.ks, 0.25);
    assert.equal(s.ksBinned, 0.25);
  });

  test('no customer value reaches the summary: inputs, scores and ids are absent from its JSON', () => {
    const t = mirroredTraffic({ n: 300, seed: 7, flip: 0.05, startMs: T0 });
    const b = side(linesPerRequest(t.baseline));
    const s = pairPredictions(b, side(linesPerRequest(t.candidate, 'green')), settings());
    const json = JSON.stringify(s);
    for (const r of t.baseline.slice(0, 50)) {
      assert.ok(!json.includes(String(r.input.txn)), 'an input value leaked');
      assert.ok(!json.includes(String(r.output.fraudProbability)), 'a score leaked');
      assert.ok(!json.includes(r.clientRequestId!), 'a request id leaked');
    }
  });

  test('label classes and slice values are bounded: the 21st class and long values count as (other)', () => {
    const b = Array.from({ length: 30 }, (_, i) => ({ ...req(i, { cat: i === 0 ? 'x'.repeat(100) : `cat-${i}` }), output: { isFraud: `class-${i}` } }));
    const s = pairPredictions(side(linesPerRequest(b)), side(linesPerRequest(b)), settings({ score: undefined }));
    assert.equal(Object.keys(s.labels.classes.baseline).length, 21);
    assert.equal(s.labels.classes.baseline['(other)'], 10);
    assert.ok(s.slices[0]!.values.some((v) => v.value === '(other)'));
  });
});

describe('drift statistics (worked examples)', () => {
  test('PSI of [50, 50] vs [80, 20] is 0.4159; identical distributions give 0; an empty bin is floored, not infinite', () => {
    assert.ok(Math.abs(psi([50, 50], [80, 20])! - (0.3 * Math.log(1.6) + -0.3 * Math.log(0.4))) < 1e-12);
    assert.equal(psi([3, 7], [30, 70]), 0);
    const v = psi([100, 0], [50, 50])!;
    assert.ok(Number.isFinite(v) && v > 1, String(v));
    assert.equal(psi([0, 0], [1, 1]), null);
    assert.ok(PSI_EMPTY_BIN_SHARE > 0);
  });
  test('Jensen-Shannon distance (base 2): 1 for disjoint, 0 for equal, symmetric', () => {
    assert.equal(jensenShannonDistance([1, 0], [0, 1]), 1);
    assert.equal(jensenShannonDistance([2, 2], [5, 5]), 0);
    assert.equal(jensenShannonDistance([1, 3, 5], [4, 1, 1]), jensenShannonDistance([4, 1, 1], [1, 3, 5]));
  });
  test('KS: exact two-sample statistic with ties; binned KS never exceeds it', () => {
    assert.equal(ksStatistic([1, 2, 3], [4, 5, 6]), 1);
    assert.equal(ksStatistic([1, 2, 2, 3], [2, 2, 3, 4]), 0.25);
    assert.equal(ksStatistic([], [1]), null);
    const rng = seededRandom(3);
    const a = Array.from({ length: 500 }, () => rng());
    const b = Array.from({ length: 400 }, () => rng() ** 1.3);
    const edges = Array.from({ length: 21 }, (_, i) => i / 20);
    const bin = (xs: number[]) => xs.reduce((acc, x) => (acc[binIndex(x, edges)]!++, acc), new Array<number>(22).fill(0));
    const exact = ksStatistic(a, b)!;
    const binned = ksFromBins(bin(a), bin(b))!;
    assert.ok(binned <= exact + 1e-12 && binned > exact - 0.05, `binned ${binned} vs exact ${exact}`);
  });
  test('bin index: below, inside (left-closed), the last edge included, above', () => {
    const e = [0, 0.5, 1];
    assert.deepEqual([-0.1, 0, 0.49, 0.5, 1, 1.01].map((x) => binIndex(x, e)), [0, 1, 1, 2, 2, 3]);
  });
});

describe('the disagreement test', () => {
  const run = (p0: number, windows: [number, number][], alpha = 0.01) => {
    let s = startDisagreementTest({ maxDisagreement: p0 });
    for (const [n, x] of windows) s = addDisagreementWindow(s, { pairs: n, disagreements: x });
    return disagreementVerdict(s, { alpha });
  };
  test('the e-value is the mixture of binomial likelihood ratios, checked by hand for a one-point grid', () => {
    // One alternative p1 = odds0·20: p0 = 0.02 → odds 0.020408 → p1 = 0.28986.
    const p1 = 1 / (1 + 1 / ((0.02 / 0.98) * 20));
    const byHand = 3 * Math.log(p1 / 0.02) + 7 * Math.log((1 - p1) / 0.98);
    assert.ok(Math.abs(logMixtureE(10, 3, 0.02, { points: 1, span: 20 }, 1) - byHand) < 1e-12);
  });
  const table: { name: string; p0: number; windows: [number, number][]; decision: string; cause?: string }[] = [
    { name: '5% disagreement in 1,000 pairs vs 2% fails', p0: 0.02, windows: [[500, 25], [500, 25]], decision: 'fail' },
    { name: '0 disagreements in 400 pairs vs 2% passes', p0: 0.02, windows: [[200, 0], [200, 0]], decision: 'pass' },
    { name: '0 disagreements in 100 pairs: too few pairs', p0: 0.02, windows: [[100, 0]], decision: 'inconclusive', cause: 'too-few-pairs' },
    { name: 'exactly at the tolerance (2% of 2,000): undecided', p0: 0.02, windows: [[2000, 40]], decision: 'inconclusive', cause: 'undecided' },
    { name: '6 of 10 pairs disagree vs 2%: fails even on few pairs', p0: 0.02, windows: [[10, 6]], decision: 'fail' },
    { name: 'no pairs at all: too few', p0: 0.02, windows: [[0, 0]], decision: 'inconclusive', cause: 'too-few-pairs' },
  ];
  for (const row of table) {
    test(row.name, () => {
      const v = run(row.p0, row.windows);
      assert.equal(v.decision, row.decision, v.reason);
      assert.equal(v.cause, row.cause);
    });
  }
  test('pairsToPass: the fewest pairs with which zero disagreements pass (2%, α = 0.01)', () => {
    const n = pairsToPass({ passBelow: 0.02, grid: DISAGREEMENT_GRID }, 0.01);
    assert.ok(logMixtureE(n, 0, 0.02, DISAGREEMENT_GRID, -1) >= Math.log(100));
    assert.ok(logMixtureE(n - 1, 0, 0.02, DISAGREEMENT_GRID, -1) < Math.log(100));
    assert.equal(n, 285);
  });
  test('a verdict is sticky: a fail stays a fail when better windows follow', () => {
    let s = startDisagreementTest({ maxDisagreement: 0.02 });
    s = addDisagreementWindow(s, { pairs: 100, disagreements: 30 });
    assert.equal(disagreementVerdict(s, { alpha: 0.01 }).decision, 'fail');
    s = addDisagreementWindow(s, { pairs: 100_000, disagreements: 0 });
    assert.equal(disagreementVerdict(s, { alpha: 0.01 }).decision, 'fail');
  });
  test('bad settings and windows are refused with the number named', () => {
    assert.throws(() => startDisagreementTest({ maxDisagreement: 0 }), /maxDisagreement must be in \(0, 1\) \(got 0\)/);
    assert.throws(() => startDisagreementTest({ maxDisagreement: 0.02, passBelow: 0.05 }), /passBelow/);
    assert.throws(() => addDisagreementWindow(startDisagreementTest({ maxDisagreement: 0.02 }), { pairs: 3, disagreements: 4 }), /disagreements 4 exceed pairs 3/);
  });
  test('seeded false alarms: at exactly the tolerance (the worst case of H0), looking every 50 pairs up to 5,000, fails ≤ α of 600 runs', () => {
    const alpha = 0.05;
    const runs = 600;
    let alarms = 0;
    for (let r = 0; r < runs; r++) {
      const rng = seededRandom(1000 + r);
      let s = startDisagreementTest({ maxDisagreement: 0.02 });
      for (let look = 0; look < 100; look++) {
        let x = 0;
        for (let i = 0; i < 50; i++) if (rng() < 0.02) x++;
        s = addDisagreementWindow(s, { pairs: 50, disagreements: x });
        if (disagreementVerdict(s, { alpha }).decision === 'fail') {
          alarms++;
          break;
        }
      }
    }
    const allowed = alpha * runs + 3 * Math.sqrt(alpha * (1 - alpha) * runs);
    assert.ok(alarms <= allowed, `${alarms} false alarms of ${runs} (allowed ${allowed.toFixed(1)})`);
  });
  test('seeded early passes: a candidate at 1.25× the pass tolerance passes early in ≤ α of 400 runs', () => {
    const alpha = 0.05;
    let passes = 0;
    for (let r = 0; r < 400; r++) {
      const rng = seededRandom(5000 + r);
      let s = startDisagreementTest({ maxDisagreement: 0.02 });
      for (let look = 0; look < 100; look++) {
        let x = 0;
        for (let i = 0; i < 50; i++) if (rng() < 0.025) x++;
        s = addDisagreementWindow(s, { pairs: 50, disagreements: x });
        if (disagreementVerdict(s, { alpha }).decision === 'pass') {
          passes++;
          break;
        }
      }
    }
    assert.ok(passes <= alpha * 400 + 3 * Math.sqrt(alpha * 400), `${passes} early passes of 400`);
  });
});

describe('gates.predictions schema', () => {
  test('a full block parses; maxDisagreement may be written "2%"; paths are parsed', () => {
    const g = parsePredictionGate({ label: 'isFraud', score: '$.fraudProbability', maxDisagreement: '2%', maxScoreShift: { statistic: 'psi', max: 0.2 }, slices: ['merchantCategory'] });
    assert.equal(g.maxDisagreement, 0.02);
    assert.deepEqual(g.label.steps, ['isFraud']);
    assert.deepEqual(g.slices.map((s) => s.steps), [['merchantCategory']]);
    assert.equal(g.scoreTolerance, 0.1);
  });
  const bad: [string, unknown, RegExp][] = [
    ['no label', { maxDisagreement: 0.02 }, /gates\.predictions\.label: /],
    ['a wildcard path', { label: '$.p[*]', maxDisagreement: 0.02 }, /gates\.predictions\.label: field path .*wildcards/],
    ['maxDisagreement 0', { label: 'y', maxDisagreement: 0 }, /maxDisagreement: must be a share above 0 and below 1/],
    ['maxDisagreement 150%', { label: 'y', maxDisagreement: '150%' }, /maxDisagreement: .*got "150%"/],
    ['an unknown statistic', { label: 'y', score: 's', maxDisagreement: 0.02, maxScoreShift: { statistic: 'wasserstein', max: 0.1 } }, /maxScoreShift\.statistic: must be one of psi, jensen_shannon, ks/],
    ['KS max 1 (can never fail)', { label: 'y', score: 's', maxDisagreement: 0.02, maxScoreShift: { statistic: 'ks', max: 1 } }, /maxScoreShift\.max: must be below 1/],
    ['maxScoreShift without score', { label: 'y', maxDisagreement: 0.02, maxScoreShift: { statistic: 'psi', max: 0.2 } }, /maxScoreShift: needs score/],
    ['a slice listed twice', { label: 'y', maxDisagreement: 0.02, slices: ['a', '$.a'] }, /slices\[1\]: lists \$\.a twice/],
    ['an unknown key', { label: 'y', maxDisagreement: 0.02, maxDisagreemnt: 0.1 }, /maxDisagreemnt/],
  ];
  for (const [name, input, msg] of bad) {
    test(`refused: ${name}`, () => {
      assert.throws(() => parsePredictionGate(input), (e: unknown) => e instanceof InvalidPredictionGate && msg.test(e.message));
    });
  }
  test('score shift verdict: fail above max, pass below, inconclusive on too few pairs', () => {
    const gate = { statistic: 'psi' as const, max: 0.2 };
    assert.equal(scoreShiftVerdict(gate, { baseline: [50, 50], candidate: [80, 20] }, 50).decision, 'fail');
    assert.equal(scoreShiftVerdict(gate, { baseline: [50, 50], candidate: [52, 48] }, 50).decision, 'pass');
    assert.equal(scoreShiftVerdict(gate, { baseline: [5, 5], candidate: [8, 2] }, 50).decision, 'inconclusive');
  });
});

// Keep the CollectedUnit type in use for readers of this file: a unit is plain data.
const _unit: CollectedUnit = { time: 0, clientRequestId: null, correlationId: null, row: 0, value: null };
void _unit;

test('canonical JSON: key order does not matter, nested objects and arrays are kept whole, flat and nested agree with one rule', async () => {
  const { canonicalJson } = await import('../../domain/predictions/index.js');
  assert.equal(canonicalJson({ b: 1, a: 'x', c: null }), '{"a":"x","b":1,"c":null}');
  assert.equal(canonicalJson({ b: { z: 1, y: [2, { q: 1, p: 2 }] }, a: 1 }), '{"a":1,"b":{"y":[2,{"p":2,"q":1}],"z":1}}');
  assert.equal(canonicalJson({ b: 1, a: 2 }), canonicalJson({ a: 2, b: 1 }));
  assert.notEqual(canonicalJson({ a: '1' }), canonicalJson({ a: 1 }));
});

test('lines as the emulator writes them (batched rows under the first request ids, captured headers, time to the second): the rows pair with their own request or not at all', () => {
  const t0 = Date.parse('2026-11-26T10:00:00Z');
  const line = (collection: string, ids: string, rows: unknown[], sec: number) =>
    JSON.stringify({ specversion: '1.0', id: `e-${collection}-${ids}-${sec}`, source: '/subscriptions/…/deployments/x', type: `azureml.inference.${collection}`, datacontenttype: 'application/json', time: new Date(t0 + sec * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'), data: rows, contentrange: 'bytes 0-9/10', correlationid: `corr-${ids}`, xrequestid: `corr-${ids}`, modelversion: 'default', collectdatatype: 'pandas.core.frame.DataFrame', agent: 'azureml-ai-monitoring/1.0.0', headers: { 'x-ms-client-request-id': `cli-${ids}` } });
  const inp = (k: string) => ({ txn: k, merchantCategory: 'online' });
  const out = (v: boolean) => ({ isFraud: v, fraudProbability: v ? 0.9 : 0.1 });
  // Live: A and B batched under A's ids; C alone. Mirror (candidate): A and C batched under A's ids (B was not mirrored).
  const base = { inputs: [line('model_inputs', 'A', [inp('A'), inp('B')], 0), line('model_inputs', 'C', [inp('C')], 1)].join('\n'), outputs: [line('model_outputs', 'A', [out(false), out(true)], 0), line('model_outputs', 'C', [out(false)], 1)].join('\n') };
  const cand = { inputs: line('model_inputs', 'A', [inp('A'), inp('C')], 1), outputs: line('model_outputs', 'A', [out(false), out(false)], 1) };
  const s = pairPredictions(side(base), side(cand), settings());
  assert.equal(s.pairs.joined, 2, 'A with A, C with C');
  assert.equal(s.pairs.byClientRequestId, 1);
  assert.equal(s.pairs.byPayloadHash, 1);
  assert.equal(s.labels.disagreements, 0, 'B (fraud) was never compared with C');
  // Without the candidate's inputs (sampled out), its second row cannot be confirmed: left unjoined, not paired with B.
  const noInputs = pairPredictions(side(base), side({ inputs: '', outputs: cand.outputs }), settings());
  assert.equal(noInputs.pairs.joined, 1);
  assert.ok(noInputs.pairs.unconfirmedRows >= 1);
  assert.equal(noInputs.labels.disagreements, 0);
});
