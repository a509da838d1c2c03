/**
 * The end-to-end Azure-timing benchmark's reading of a run (bench/lib/azure-timing-e2e-summary.ts): which
 * analysis detected the fault, which decided, what is a false alarm or a miss, and the summary's nearest-rank
 * figures, on hand-worked cases.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { measureRun, summariseRuns, type AnalysisRow, type RunTimes } from '../../bench/lib/azure-timing-e2e-summary.js';

const F = Date.UTC(2026, 10, 26, 1, 30, 0); // the fault
const a = (offsetS: number, status: string): AnalysisRow => ({ atMs: F + offsetS * 1000, status, windowEndMs: null, candidateRequests: 180, candidateModelErrorRate: null, reasons: [] });

describe('measureRun', () => {
  const cases: { name: string; input: Parameters<typeof measureRun>[0]; want: RunTimes }[] = [
    {
      name: 'passes before the fault, inconclusive and a fail after it, then the deciding fail: detection at the first fail after the fault, decision at the last analysis',
      input: { analyses: [a(-30, 'fail'), a(30, 'pass'), a(90, 'inconclusive'), a(210, 'fail'), a(270, 'fail')], faultAtMs: F, outcome: 'rolled_back', endedBeforeFault: false, reactionS: 275.5 },
      want: { kind: 'rolled_back', detectS: 210, decisionS: 270, reactionS: 275.5 },
    },
    {
      name: 'analyses given out of order are read in time order',
      input: { analyses: [a(270, 'fail'), a(210, 'fail'), a(150, 'pass')], faultAtMs: F, outcome: 'rolled_back', endedBeforeFault: false, reactionS: 280 },
      want: { kind: 'rolled_back', detectS: 210, decisionS: 270, reactionS: 280 },
    },
    {
      name: 'rolled back before the fault was injected: a false alarm, no times',
      input: { analyses: [a(-120, 'fail'), a(-60, 'fail')], faultAtMs: F, outcome: 'rolled_back', endedBeforeFault: true, reactionS: null },
      want: { kind: 'false_alarm', detectS: null, decisionS: null, reactionS: null },
    },
    {
      name: 'ended otherwise before the fault (failed): other, not a false alarm',
      input: { analyses: [], faultAtMs: F, outcome: 'failed', endedBeforeFault: true, reactionS: null },
      want: { kind: 'other', detectS: null, decisionS: null, reactionS: null },
    },
    {
      name: 'terminated by the bench after the give-up time: missed',
      input: { analyses: [a(60, 'pass'), a(120, 'pass')], faultAtMs: F, outcome: 'terminated', endedBeforeFault: false, reactionS: null },
      want: { kind: 'missed', detectS: null, decisionS: null, reactionS: null },
    },
    {
      name: 'promoted with the fault live: other',
      input: { analyses: [a(60, 'pass')], faultAtMs: F, outcome: 'promoted', endedBeforeFault: false, reactionS: null },
      want: { kind: 'other', detectS: null, decisionS: null, reactionS: null },
    },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(measureRun(c.input), c.want));
});

describe('summariseRuns', () => {
  test('percentiles over the runs rolled back on the fault only, the others counted beside them; the parts are medians of the differences', () => {
    const ok = (detectS: number, decisionS: number, reactionS: number): RunTimes => ({ kind: 'rolled_back', detectS, decisionS, reactionS });
    const none = (kind: RunTimes['kind']): RunTimes => ({ kind, detectS: null, decisionS: null, reactionS: null });
    const s = summariseRuns([ok(200, 260, 265), ok(180, 240, 250), ok(230, 290, 292), ok(210, 280, 284), none('false_alarm'), none('missed'), none('other')]);
    assert.equal(s.runs, 7);
    assert.equal(s.rolledBack, 4);
    assert.deepEqual([s.falseAlarms, s.missed, s.other], [1, 1, 1]);
    // Nearest rank over 4 values: median = 2nd, p95 = 4th.
    assert.deepEqual(s.detect, { medianS: 200, p95S: 230 });
    assert.deepEqual(s.decision, { medianS: 260, p95S: 290 });
    assert.deepEqual(s.reaction, { medianS: 265, p95S: 292, minS: 250, maxS: 292 });
    // confirm = decision − detect: 60, 60, 60, 70 → 60; write = reaction − decision: 5, 10, 2, 4 → 4.
    assert.deepEqual(s.parts, { untilFirstFailS: 200, confirmS: 60, writeS: 4 });
  });

  test('no run rolled back: NaN figures, counts kept', () => {
    const s = summariseRuns([{ kind: 'missed', detectS: null, decisionS: null, reactionS: null }]);
    assert.equal(s.rolledBack, 0);
    assert.equal(s.missed, 1);
    assert.ok(Number.isNaN(s.reaction.medianS) && Number.isNaN(s.reaction.minS) && Number.isNaN(s.parts.writeS));
  });
});
