/**
 * What people see while a rollout runs: one progress line with the step, traffic, last verdict with its
 * numbers, time left in the bake and who is awaited; and the multi-line `rollout status`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatProgress, formatStatus, progressKey } from '../../client/progress.js';
import { parsePlan } from '../../domain/plan.js';
import { aPlanDocument } from '../support/builders.js';
import { statusFor } from './fake-gateway.js';
import { aVerdict } from './result-builder.js';

const parsed = parsePlan(aPlanDocument());
const plan = parsed.ok ? parsed.plan : (undefined as never);
const NOW = Date.parse('2026-11-25T08:10:00.000Z');

describe('progress', () => {
  test('a baking canary shows step, traffic, the last verdict with numbers and the time left in the bake', () => {
    const s = statusFor(plan, 'ci@contoso.com', {
      stage: 'canary',
      stepIndex: 3,
      stepText: 'canary 10%',
      traffic: { live: { blue: 90, green: 10 }, mirror: {} },
      lastVerdicts: [aVerdict(3, 1, [98, 0.002], [120, 0.004])],
      events: [{ at: '2026-11-25T08:05:00.000Z', kind: 'traffic', text: 'blue 90% | green 10% | mirror 0%', stepIndex: 3 }],
    });
    // canary 10% bakes 15m from 08:05:00 → 10m left at 08:10:00.
    assert.equal(
      formatProgress(s, plan, NOW),
      '08:10:00 canary 10% (step 4/7) · blue 90% | green 10% | mirror 0% · last analysis pass: all gates pass · bake ~10m left',
    );
  });

  test('an awaited approval names who may approve and until when; a pause says who paused and why', () => {
    const s = statusFor(plan, 'ci@contoso.com', {
      stage: 'approval',
      stepIndex: 2,
      stepText: 'approval',
      pendingApproval: { stepIndex: 2, stepText: 'approval', requestedAt: '2026-11-25T08:02:00.000Z', timeoutAt: '2026-11-26T08:02:00.000Z', onTimeout: 'rollback', approvers: ['alice@contoso.com', 'slack:U024BE7LH'] },
      paused: { reason: 'change freeze', by: 'ops@contoso.com', at: '2026-11-25T08:03:00.000Z' },
    });
    const line = formatProgress(s, plan, NOW);
    assert.match(line, /awaiting approval of step 3 \(approval\) from alice@contoso.com or slack:U024BE7LH until 2026-11-26T08:02:00.000Z \(then rollback\)/);
    assert.match(line, /PAUSED by ops@contoso.com: change freeze/);
    const text = formatStatus(s, plan, NOW);
    assert.match(text, /approval {3}awaited for step 3 \(approval\) from alice@contoso.com or slack:U024BE7LH/);
    assert.match(text, /approve: glidepath rollout approve glidepath-rollout:\S+ --step 3 --as <who>/, 'the command that approves it');
    assert.match(text, /▶ 3\. approval/);
  });

  test('the progress key changes only when something a person would see changes', () => {
    const a = statusFor(plan, 'ci@contoso.com', { stage: 'mirror', stepIndex: 0, stepText: 'mirror 20%' });
    assert.equal(progressKey(a), progressKey(structuredClone(a)));
    assert.notEqual(progressKey(a), progressKey({ ...a, lastVerdicts: [aVerdict(0, 1, [1, 0], [1, 0])] }));
  });
});
