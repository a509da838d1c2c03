import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  deletionViolation,
  formatTraffic,
  sameTraffic,
  trafficViolations,
  type TrafficRuleCode,
  type TrafficState,
} from '../../domain/traffic.js';

const deployments = ['blue', 'green', 'red'];
const t = (live: Record<string, number>, mirror: Record<string, number> = {}): TrafficState => ({ live, mirror });

describe('Azure accepts these traffic states', () => {
  const accepted: [string, TrafficState][] = [
    ['all traffic on one deployment', t({ blue: 100 })],
    ['a 90/10 canary split', t({ blue: 90, green: 10 })],
    ['traffic turned off (sums to 0)', t({})],
    ['explicit zeros for existing deployments', t({ blue: 100, green: 0, red: 0 })],
    ['a 20% mirror to a deployment without live traffic', t({ blue: 100 }, { green: 20 })],
    ['the 50% mirror ceiling itself', t({ blue: 100 }, { green: 50 })],
    ['a zero mirror entry on a live deployment', t({ blue: 100 }, { blue: 0 })],
    ['three-way split', t({ blue: 50, green: 25, red: 25 })],
  ];
  for (const [name, state] of accepted) {
    test(name, () => assert.deepEqual(trafficViolations(state, deployments), []));
  }
});

describe('Azure refuses these traffic states, naming the rule', () => {
  const refused: [string, TrafficState, TrafficRuleCode, RegExp][] = [
    ['live traffic summing to 90', t({ blue: 80, green: 10 }), 'LiveSum', /sum to 0 or 100, got 90/],
    ['live traffic summing to 110', t({ blue: 100, green: 10 }), 'LiveSum', /got 110/],
    ['a fractional percent', t({ blue: 99.5, green: 0.5 }), 'NotAnInteger', /'blue' must be an integer percent, got 99.5/],
    ['a negative percent', t({ blue: 100, red: 10, green: -10 }), 'OutOfRange', /between 0 and 100, got -10/],
    ['traffic to a missing deployment', t({ blue: 90, purple: 10 }), 'UnknownDeployment', /'purple', which does not exist/],
    ['a mirror to a missing deployment', t({ blue: 100 }, { purple: 10 }), 'UnknownDeployment', /mirror traffic names deployment 'purple'/],
    ['a mirror above 50%', t({ blue: 100 }, { green: 51 }), 'MirrorTooHigh', /at most 50%, got 51%/],
    ['two mirror targets', t({ blue: 100 }, { green: 10, red: 10 }), 'MultipleMirrorTargets', /only one deployment, got 2/],
    ['a deployment with both live and mirror traffic', t({ blue: 90, green: 10 }, { green: 20 }), 'LiveAndMirror', /'green' cannot receive both live traffic \(10%\) and mirror traffic \(20%\)/],
  ];
  for (const [name, state, code, message] of refused) {
    test(name, () => {
      const violations = trafficViolations(state, deployments);
      const hit = violations.find((v) => v.code === code);
      assert.ok(hit, `expected ${code}, got ${JSON.stringify(violations)}`);
      assert.match(hit.message, message);
    });
  }

  test('every broken rule is reported, not just the first', () => {
    const codes = trafficViolations(t({ blue: 70, purple: 10 }, { green: 30, red: 30 }), deployments).map((v) => v.code).sort();
    assert.deepEqual(codes, ['LiveSum', 'MirrorTooHigh', 'MultipleMirrorTargets', 'UnknownDeployment']);
  });
});

describe('deleting a deployment', () => {
  test('is refused while it has live traffic', () => {
    assert.match(deletionViolation('blue', t({ blue: 100 }))?.message ?? '', /'blue' still receives traffic \(live 100%, mirror 0%\)/);
  });
  test('is refused while it is the mirror target', () => {
    assert.equal(deletionViolation('green', t({ blue: 100 }, { green: 20 }))?.code, 'DeleteWithTraffic');
  });
  test('is allowed at 0% live and 0% mirror', () => {
    assert.equal(deletionViolation('green', t({ blue: 100, green: 0 }, { green: 0 })), undefined);
  });
});

describe('comparing and showing traffic', () => {
  test('zeros and key order do not make two states different', () => {
    assert.ok(sameTraffic(t({ green: 0, blue: 100 }, { red: 0 }), t({ blue: 100 })));
    assert.ok(!sameTraffic(t({ blue: 90, green: 10 }), t({ blue: 100 })));
    assert.ok(!sameTraffic(t({ blue: 100 }, { green: 20 }), t({ blue: 100 })));
  });
  test('a split reads as a CI log line', () => {
    assert.equal(formatTraffic(t({ green: 10, blue: 90 })), 'blue 90% | green 10% | mirror 0%');
    assert.equal(formatTraffic(t({ blue: 100 }, { green: 20 })), 'blue 100% | mirror 20% → green');
    assert.equal(formatTraffic(t({})), 'no live traffic | mirror 0%');
  });
});
