import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  SLACK_APPROVE_ACTION_ID,
  SLACK_REJECT_ACTION_ID,
  approvalNotice,
  decisionSender,
  describeSender,
  isListedApprover,
  parseSlackButtonValue,
  slackActionDecision,
  slackApprover,
  slackButtonValue,
  stepRefusal,
} from '../../domain/approvals.js';
import type { RolloutStatus, VerdictRecord } from '../../domain/rollout.js';
import { statusFor } from '../client-unit/fake-gateway.js';
import { aPlan } from '../support/builders.js';

const WF = 'glidepath-rollout:/subscriptions/0/resourceGroups/ml/providers/Microsoft.MachineLearningServices/workspaces/w/onlineEndpoints/fraud-detection';

describe('the step a decision answers', () => {
  const pending = { stepIndex: 3, stepText: 'canary 50%' };
  const steps = ['mirror 20%', 'cost check', 'approval', 'canary 50%'];
  const table: [string, 'approve' | 'reject', number | undefined, string | undefined][] = [
    ['the awaited step is accepted', 'approve', 3, undefined],
    ['an older step is refused, naming both steps as people count them', 'approve', 2, 'cannot approve step 3 (approval): the rollout awaits step 4 (canary 50%)'],
    ['a reject of an older step likewise', 'reject', 0, 'cannot reject step 1 (mirror 20%): the rollout awaits step 4 (canary 50%)'],
    [
      'no step: refused with the awaited step and how to send it',
      'approve',
      undefined,
      'cannot approve: the decision names no step, and a decision must name the step it answers; the rollout awaits step 4 (canary 50%): send stepIndex 3 (glidepath rollout approve <rollout> --step 4 --as <who>)',
    ],
  ];
  for (const [what, verb, stepIndex, want] of table) test(what, () => assert.equal(stepRefusal(verb, pending, stepIndex, steps), want));
});

describe('Slack buttons', () => {
  test('a button value carries the workflow id and the step, and parses back', () => {
    const v = slackButtonValue(WF, 4);
    assert.deepEqual(parseSlackButtonValue(v), { workflowId: WF, stepIndex: 4 });
    assert.ok(v.length < 2000, 'Slack allows 2000 characters');
  });
  const notOurs: [string, unknown][] = [
    ['not a string', 42],
    ['not JSON', 'approve'],
    ['JSON null', 'null'],
    ['no step', JSON.stringify({ w: WF })],
    ['a negative step', JSON.stringify({ w: WF, s: -1 })],
    ['a fractional step', JSON.stringify({ w: WF, s: 1.5 })],
    ['an empty workflow id', JSON.stringify({ w: '', s: 1 })],
  ];
  for (const [what, value] of notOurs) test(`a value that is ${what} is not an approval button`, () => assert.equal(parseSlackButtonValue(value), undefined));

  test('the action ids map to decisions; anything else is not ours', () => {
    assert.equal(slackActionDecision(SLACK_APPROVE_ACTION_ID), 'approve');
    assert.equal(slackActionDecision(SLACK_REJECT_ACTION_ID), 'reject');
    assert.equal(slackActionDecision('something_else'), undefined);
  });
});

describe('who a Slack user decides as', () => {
  const table: [string, string | null, string[], ReturnType<typeof slackApprover>][] = [
    ['a user with a profile e-mail decides as that e-mail (a person is their e-mail)', 'Alice@Contoso.com', ['slack:U024BE7LH'], { by: 'alice@contoso.com' }],
    ['… also where anyone may approve, so four-eyes sees the person', 'ci@contoso.com', [], { by: 'ci@contoso.com' }],
    ['without an e-mail, a listed Slack id decides as that id', null, ['alice@contoso.com', 'slack:U024BE7LH'], { by: 'slack:U024BE7LH' }],
    ['a listed Slack id matches whatever its case', null, ['slack:u024be7lh'], { by: 'slack:U024BE7LH' }],
    ['without an e-mail, an unlisted id cannot be named', null, ['alice@contoso.com'], { unknown: true }],
    ['without an e-mail, where anyone may approve: the Slack id', null, [], { by: 'slack:U024BE7LH' }],
  ];
  for (const [what, email, approvers, want] of table) test(what, () => assert.deepEqual(slackApprover('U024BE7LH', email, approvers), want));

  test('the same matching rule as the workflow: case and spaces do not matter', () => {
    assert.equal(isListedApprover(['alice@contoso.com'], ' Alice@Contoso.com '), true);
    assert.equal(isListedApprover(['alice@contoso.com'], 'alice@contoso.org'), false);
  });
});

describe('the sender of a decision', () => {
  test('no channel means a raw Temporal update or signal', () => {
    assert.deepEqual(decisionSender({}), { channel: 'temporal' });
    assert.deepEqual(decisionSender({ channel: 'slack', clientIdentity: '4711@bridge' }), { channel: 'slack', clientIdentity: '4711@bridge' });
    assert.equal(describeSender({ channel: 'cli', clientIdentity: '12@ci' }), 'cli, client 12@ci');
    assert.equal(describeSender({ via: 'update' }), 'update');
  });
});

describe('the approval notice the notifier renders', () => {
  const verdict = (stepIndex: number, withSnapshot: boolean): VerdictRecord => ({
    at: `2026-11-25T08:0${stepIndex}:00.000Z`,
    stepIndex,
    analysis: 1,
    status: 'pass',
    reasons: ['all gates pass'],
    gates: [{ gate: 'latencyP99Ms', status: 'pass', reason: 'p99 101 ms ≤ 250 ms' }],
    snapshot: withSnapshot
      ? {
          windowMs: 60_000,
          baseline: { requests: 900, errorRate: 0.001, modelErrorRate: 0, latencyP50Ms: 40, latencyP95Ms: 80, latencyP99Ms: 101, cpuPercent: 30, memoryPercent: 40 },
          candidate: { requests: 180, errorRate: 0.002, modelErrorRate: 0, latencyP50Ms: 45, latencyP95Ms: 90, latencyP99Ms: 120, cpuPercent: 35, memoryPercent: 41 },
        }
      : null,
  });
  const status = (patch: Partial<RolloutStatus>): RolloutStatus =>
    statusFor(aPlan(), 'ci@contoso.com', {
      stage: 'approval',
      stepIndex: 2,
      stepText: 'approval',
      traffic: { live: { blue: 100 }, mirror: { green: 20 } },
      lastVerdicts: [verdict(0, true), verdict(1, false)],
      pendingApproval: { stepIndex: 2, stepText: 'approval', requestedAt: '2026-11-25T08:02:00.000Z', timeoutAt: '2026-11-26T08:02:00.000Z', onTimeout: 'rollback', approvers: ['alice@contoso.com'] },
      ...patch,
    });

  test('carries the step, who may decide, the timeout and the last analysis with metrics (not the cost check), aggregates only', () => {
    const n = approvalNotice(status({}), { approvals: { fourEyes: true } })!;
    assert.deepEqual(n, {
      stepIndex: 2,
      stepText: 'approval',
      approvers: ['alice@contoso.com'],
      timeoutAt: '2026-11-26T08:02:00.000Z',
      onTimeout: 'rollback',
      fourEyes: true,
      startedBy: 'ci@contoso.com',
      traffic: { live: { blue: 100 }, mirror: { green: 20 } },
      lastAnalysis: {
        at: '2026-11-25T08:00:00.000Z',
        stepIndex: 0,
        analysis: 1,
        status: 'pass',
        gates: [{ gate: 'latencyP99Ms', status: 'pass', reason: 'p99 101 ms ≤ 250 ms' }],
        baseline: { requests: 900, latencyP99Ms: 101, errorRate: 0.001, modelErrorRate: 0 },
        candidate: { requests: 180, latencyP99Ms: 120, errorRate: 0.002, modelErrorRate: 0 },
      },
    });
  });

  test('is absent when no approval is awaited, and has no analysis before the first one', () => {
    assert.equal(approvalNotice(status({ pendingApproval: null }), { approvals: { fourEyes: false } }), undefined);
    assert.equal(approvalNotice(status({ lastVerdicts: [] }), { approvals: { fourEyes: false } })!.lastAnalysis, null);
  });
});
