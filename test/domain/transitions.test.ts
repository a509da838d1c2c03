import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_STRATEGY, type Step } from '../../domain/plan.js';
import { formatTraffic, trafficViolations, type TrafficState } from '../../domain/traffic.js';
import {
  baselineTraffic,
  canaryTraffic,
  candidateLivePercent,
  firstLiveStepIndex,
  fullTrafficHolder,
  mirrorTraffic,
  trafficForStep,
  trafficSummary,
} from '../../domain/transitions.js';

const pair = { baseline: 'blue', candidate: 'green' };
const both = ['blue', 'green'];

describe('the traffic each step sets', () => {
  const table: [string, Step, TrafficState | undefined, string][] = [
    ['mirror 20%', { kind: 'mirror', percent: 20, bakeMs: 1 }, { live: { blue: 100 }, mirror: { green: 20 } }, 'blue 100% | mirror 20% → green'],
    ['canary 10%', { kind: 'canary', percent: 10, bakeMs: 1 }, { live: { blue: 90, green: 10 }, mirror: {} }, 'blue 90% | green 10% | mirror 0%'],
    ['canary 50%', { kind: 'canary', percent: 50, bakeMs: 1 }, { live: { blue: 50, green: 50 }, mirror: {} }, 'blue 50% | green 50% | mirror 0%'],
    ['promote', { kind: 'promote', rollbackWindowMs: 1 }, { live: { blue: 0, green: 100 }, mirror: {} }, 'green 100% | mirror 0%'],
    ['cost check changes nothing', { kind: 'costCheck', maxMonthlyUsd: 1 }, undefined, ''],
    ['approval changes nothing', { kind: 'approval', timeoutMs: 1, onTimeout: 'rollback' }, undefined, ''],
    ['retire changes nothing', { kind: 'retire' }, undefined, ''],
  ];
  for (const [what, step, expected, text] of table) {
    test(what, () => {
      const got = trafficForStep(step, pair);
      assert.deepEqual(got, expected);
      if (got) {
        assert.equal(formatTraffic(got), text);
        assert.deepEqual(trafficViolations(got, both), [], 'Azure accepts it');
      }
    });
  }

  test('every canary percentage 1..99 gives a state Azure accepts, summing to 100', () => {
    for (let p = 1; p <= 99; p++) {
      const s = canaryTraffic(pair, p);
      assert.deepEqual(trafficViolations(s, both), []);
      assert.equal(candidateLivePercent(s, pair), p);
    }
  });

  test('every mirror percentage 1..50 gives a state Azure accepts; 51 is refused', () => {
    for (let p = 1; p <= 50; p++) assert.deepEqual(trafficViolations(mirrorTraffic(pair, p), both), []);
    assert.equal(trafficViolations(mirrorTraffic(pair, 51), both)[0]?.code, 'MirrorTooHigh');
  });

  test('rollback returns to the baseline alone, with no mirror', () => {
    assert.deepEqual(baselineTraffic(pair), { live: { blue: 100 }, mirror: {} });
  });

  test('the candidate gets no live traffic before the first canary or promote step of the default strategy', () => {
    const first = firstLiveStepIndex(DEFAULT_STRATEGY);
    assert.equal(first, 2);
    for (const s of DEFAULT_STRATEGY.slice(0, first)) assert.equal(candidateLivePercent(trafficForStep(s, pair) ?? baselineTraffic(pair), pair), 0);
  });

  test('summaries name every deployment and share', () => {
    assert.equal(trafficSummary(canaryTraffic(pair, 10)), 'set traffic blue=90 green=10');
    assert.equal(trafficSummary(mirrorTraffic(pair, 20)), 'set traffic blue=100 mirror green=20');
    assert.equal(trafficSummary({ live: {}, mirror: {} }), 'set traffic off');
  });
});

describe('finding the baseline', () => {
  const table: [string, TrafficState, string | undefined][] = [
    ['one deployment at 100%', { live: { blue: 100 }, mirror: {} }, 'blue'],
    ['100% with zero entries', { live: { blue: 100, green: 0 }, mirror: { green: 0 } }, 'blue'],
    ['a split', { live: { blue: 90, green: 10 }, mirror: {} }, undefined],
    ['traffic off', { live: {}, mirror: {} }, undefined],
  ];
  for (const [what, state, holder] of table) test(what, () => assert.equal(fullTrafficHolder(state), holder));
});
