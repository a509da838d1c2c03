import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { afterAnalysis, firstWait, startBake, worstCaseBakeMs, type BakeDecision, type BakeProgress } from '../../domain/analysis.js';
import type { VerdictStatus } from '../../domain/gates.js';
import type { AnalysisSettings } from '../../domain/plan.js';

const minute = 60_000;
const settings = (patch: Partial<AnalysisSettings> = {}): AnalysisSettings => ({
  intervalMs: minute,
  failureLimit: 2,
  minRequests: 100,
  onInconclusive: 'extend',
  maxExtensions: 3,
  ...patch,
});

/** Runs a bake of `bakeMs` through a sequence of verdicts; returns the decisions and the final progress. */
function run(bakeMs: number, verdicts: VerdictStatus[], a = settings()): { decisions: BakeDecision['action'][]; last: BakeDecision; progress: BakeProgress } {
  let progress = startBake();
  let wait = firstWait(bakeMs, a);
  const decisions: BakeDecision['action'][] = [];
  let last: BakeDecision = { action: 'continue', waitMs: wait };
  for (const v of verdicts) {
    const r = afterAnalysis(progress, { status: v, reasons: [`${v} reason`] }, wait, bakeMs, a);
    progress = r.progress;
    last = r.decision;
    decisions.push(last.action);
    if (last.action !== 'continue') break;
    wait = last.waitMs;
  }
  return { decisions, last, progress };
}

describe('what follows an analysis during a bake', () => {
  test('a 15m bake with all passes takes 15 analyses and passes at 15m', () => {
    const r = run(15 * minute, Array(20).fill('pass'));
    assert.equal(r.decisions.length, 15);
    assert.equal(r.last.action, 'passed');
    assert.equal(r.progress.elapsedMs, 15 * minute);
  });

  test('two consecutive failures roll back at once, mid-bake, quoting the reasons', () => {
    const r = run(15 * minute, ['pass', 'pass', 'fail', 'fail']);
    assert.deepEqual(r.decisions, ['continue', 'continue', 'continue', 'rollback']);
    assert.ok(r.last.action === 'rollback' && /2 consecutive failed analyses \(failureLimit 2\): fail reason/.test(r.last.reason));
  });

  test('a pass between failures resets the count', () => {
    const r = run(5 * minute, ['fail', 'pass', 'fail', 'pass', 'pass']);
    assert.equal(r.last.action, 'passed');
  });

  test('an inconclusive analysis does not reset the failure count', () => {
    const r = run(15 * minute, ['fail', 'inconclusive', 'fail']);
    assert.equal(r.last.action, 'rollback');
  });

  test('a failure on the last analysis keeps baking until a pass or the limit', () => {
    assert.deepEqual(run(3 * minute, ['pass', 'pass', 'fail', 'pass']).decisions, ['continue', 'continue', 'continue', 'passed']);
    assert.deepEqual(run(3 * minute, ['pass', 'pass', 'fail', 'fail']).decisions, ['continue', 'continue', 'continue', 'rollback']);
  });

  test('inconclusive at the end extends by one interval, up to maxExtensions, then rolls back', () => {
    const r = run(2 * minute, ['pass', 'inconclusive', 'inconclusive', 'inconclusive', 'inconclusive']);
    assert.deepEqual(r.decisions, ['continue', 'continue', 'continue', 'continue', 'rollback']);
    assert.equal(r.progress.extensions, 3);
    assert.ok(r.last.action === 'rollback' && /still inconclusive after 3 extension\(s\) of 1m \(maxExtensions 3\)/.test(r.last.reason));
  });

  test('an extension that then passes passes the step', () => {
    const r = run(2 * minute, ['pass', 'inconclusive', 'pass']);
    assert.equal(r.last.action, 'passed');
    assert.equal(r.progress.elapsedMs, 3 * minute);
  });

  test('onInconclusive pause pauses at the end of the bake', () => {
    const r = run(2 * minute, ['inconclusive', 'inconclusive'], settings({ onInconclusive: 'pause' }));
    assert.deepEqual(r.decisions, ['continue', 'pause']);
  });

  test('onInconclusive rollback rolls back at the end of the bake', () => {
    const r = run(2 * minute, ['inconclusive', 'inconclusive'], settings({ onInconclusive: 'rollback' }));
    assert.deepEqual(r.decisions, ['continue', 'rollback']);
  });

  test('a bake shorter than the interval analyses once, at the end of the bake', () => {
    assert.equal(firstWait(45_000, settings()), 45_000);
    assert.deepEqual(run(45_000, ['pass']).decisions, ['passed']);
  });

  test('the last wait is cut to the bake time left', () => {
    const a = settings({ intervalMs: 4 * minute });
    const r = afterAnalysis(startBake(), { status: 'pass', reasons: [] }, 4 * minute, 10 * minute, a);
    const r2 = afterAnalysis(r.progress, { status: 'pass', reasons: [] }, 4 * minute, 10 * minute, a);
    assert.deepEqual(r2.decision, { action: 'continue', waitMs: 2 * minute });
  });

  test('worst case of a bake: bake + (failureLimit − 1 + maxExtensions) intervals', () => {
    assert.equal(worstCaseBakeMs(15 * minute, settings()), 19 * minute);
    assert.equal(worstCaseBakeMs(15 * minute, settings({ onInconclusive: 'rollback' })), 16 * minute);
  });
});
