import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { abortRefusal, approveRefusal, pauseRefusal, rejectRefusal, resumeRefusal, type MessageContext } from '../../domain/messages.js';

const awaiting: MessageContext = {
  stage: 'approval',
  stepText: 'approval',
  stopping: null,
  paused: null,
  pendingApproval: { stepIndex: 2, stepText: 'approval' },
  steps: ['mirror 20%', 'cost check', 'approval', 'canary 10%', 'canary 50%', 'promote', 'retire'],
  startedBy: 'ci@contoso.com',
  approvers: ['alice@contoso.com', 'slack:U024BE7LH'],
  fourEyes: true,
};
const baking: MessageContext = { ...awaiting, stage: 'canary', stepText: 'canary 10%', pendingApproval: null };
const ctx = (patch: Partial<MessageContext>): MessageContext => ({ ...awaiting, ...patch });

type Rule = (c: MessageContext, input: unknown) => string | undefined;
/** [what, rule, context, input, undefined = accepted, or a pattern the refusal must match] */
const table: [string, Rule, MessageContext, unknown, RegExp | undefined][] = [
  ['an allowed approver approves an awaited approval', approveRefusal, awaiting, { by: 'alice@contoso.com', stepIndex: 2 }, undefined],
  ['approver ids compare case-insensitively', approveRefusal, awaiting, { by: 'Alice@Contoso.com', stepIndex: 2 }, undefined],
  ['a Slack approver approves', approveRefusal, awaiting, { by: 'slack:U024BE7LH', stepIndex: 2 }, undefined],
  ['someone not allowed cannot approve', approveRefusal, awaiting, { by: 'mallory@contoso.com', stepIndex: 2 }, /mallory@contoso\.com is not an allowed approver \(allowed: alice@contoso\.com, slack:U024BE7LH\)/],
  ['the starter cannot approve under four-eyes', approveRefusal, ctx({ approvers: [] }), { by: 'ci@contoso.com', stepIndex: 2 }, /started this rollout and four-eyes is on/],
  ['the starter may approve without four-eyes', approveRefusal, ctx({ approvers: [], fourEyes: false }), { by: 'ci@contoso.com', stepIndex: 2 }, undefined],
  ['anyone may approve when no approvers are listed', approveRefusal, ctx({ approvers: [] }), { by: 'bob@contoso.com', stepIndex: 2 }, undefined],
  ['no approval while none is awaited', approveRefusal, baking, { by: 'alice@contoso.com', stepIndex: 2 }, /no approval is awaited \(the rollout is at canary: canary 10%\)/],
  ['no approval while rolling back', approveRefusal, ctx({ stopping: 'aborted by bob' }), { by: 'alice@contoso.com', stepIndex: 2 }, /already stopping \(aborted by bob\)/],
  ['no approval once finished', approveRefusal, ctx({ stage: 'done' }), { by: 'alice@contoso.com', stepIndex: 2 }, /has finished/],
  ['an approval must say who sends it', approveRefusal, awaiting, { by: '' }, /invalid approve input: by: must name who/],
  ['an approval with unknown fields is refused', approveRefusal, awaiting, { by: 'alice@contoso.com', as: 'admin' }, /invalid approve input/],
  ['an allowed approver rejects', rejectRefusal, awaiting, { by: 'alice@contoso.com', stepIndex: 2, reason: 'latency' }, undefined],
  ['the starter may reject their own rollout', rejectRefusal, awaiting, { by: 'ci@contoso.com', stepIndex: 2 }, undefined],
  ['a stranger cannot reject', rejectRefusal, awaiting, { by: 'mallory@contoso.com', stepIndex: 2 }, /not an allowed approver/],
  ['reject needs an awaited approval (abort otherwise)', rejectRefusal, baking, { by: 'alice@contoso.com', stepIndex: 2 }, /use abort to stop it/],
  // Invariant 10: a decision names the step it answers (0-based stepIndex; people see it 1-based).
  ['an approval for an older step is refused, naming the awaited step', approveRefusal, ctx({ pendingApproval: { stepIndex: 4, stepText: 'canary 50%' } }), { by: 'alice@contoso.com', stepIndex: 2 }, /^cannot approve step 3 \(approval\): the rollout awaits step 5 \(canary 50%\)$/],
  ['an approval for a later step is refused too', approveRefusal, awaiting, { by: 'alice@contoso.com', stepIndex: 4 }, /^cannot approve step 5 \(canary 50%\): the rollout awaits step 3 \(approval\)$/],
  ['an approval that names no step is refused, with the step and how to send it', approveRefusal, awaiting, { by: 'alice@contoso.com' }, /cannot approve: the decision names no step.*awaits step 3 \(approval\): send stepIndex 2 \(glidepath rollout approve <rollout> --step 3 --as <who>\)/],
  ['a rejection for another step is refused, naming the awaited step', rejectRefusal, ctx({ pendingApproval: { stepIndex: 4, stepText: 'canary 50%' } }), { by: 'alice@contoso.com', stepIndex: 2 }, /^cannot reject step 3 \(approval\): the rollout awaits step 5 \(canary 50%\)$/],
  ['a rejection that names no step is refused', rejectRefusal, awaiting, { by: 'alice@contoso.com' }, /cannot reject: the decision names no step.*glidepath rollout reject <rollout> --step 3/],
  ['a step beyond the plan is still refused by the awaited step', approveRefusal, awaiting, { by: 'alice@contoso.com', stepIndex: 40 }, /^cannot approve step 41: the rollout awaits step 3 \(approval\)$/],
  ['a step that is not a whole number is invalid input', approveRefusal, awaiting, { by: 'alice@contoso.com', stepIndex: 2.5 }, /invalid approve input: stepIndex: must be a whole number/],
  ['a negative step is invalid input', approveRefusal, awaiting, { by: 'alice@contoso.com', stepIndex: -1 }, /invalid approve input: stepIndex: must be 0 or more/],
  ['the channel and client identity ride along', approveRefusal, awaiting, { by: 'alice@contoso.com', stepIndex: 2, channel: 'cli', clientIdentity: '4711@ci' }, undefined],
  ['an unknown channel is invalid input', approveRefusal, awaiting, { by: 'alice@contoso.com', stepIndex: 2, channel: 'email' }, /invalid approve input: channel: must be one of cli, slack, temporal/],
  ['the step is checked before who decides (a stale click by a stranger names the step)', approveRefusal, awaiting, { by: 'mallory@contoso.com', stepIndex: 4 }, /awaits step 3/],
  ['abort during a bake', abortRefusal, baking, { by: 'bob@contoso.com', reason: 'pager' }, undefined],
  ['abort twice', abortRefusal, ctx({ stopping: 'aborted by bob' }), { by: 'bob@contoso.com' }, /already stopping/],
  ['abort while retiring the baseline', abortRefusal, ctx({ stage: 'retire' }), { by: 'bob@contoso.com' }, /being retired/],
  ['pause during a bake', pauseRefusal, baking, { by: 'bob@contoso.com' }, undefined],
  ['pause twice', pauseRefusal, ctx({ paused: { reason: 'x', by: 'bob' } }), { by: 'bob@contoso.com' }, /already paused by bob \(x\)/],
  ['resume while paused', resumeRefusal, ctx({ paused: { reason: 'x', by: 'bob' } }), { by: 'bob@contoso.com' }, undefined],
  ['resume while not paused', resumeRefusal, baking, { by: 'bob@contoso.com' }, /not paused \(it is at canary: canary 10%\)/],
  // One decision per step: the first decision recorded for the awaited step stands (issue 13, finding 3).
  ['an approve after a reject recorded in the same task is refused, naming the first decision', approveRefusal, ctx({ decided: { decision: 'rejected', by: 'alice@contoso.com' } }), { by: 'slack:U024BE7LH', stepIndex: 2 }, /^cannot approve: step 3 \(approval\) was already rejected by alice@contoso\.com; one decision per step$/],
  ['a second approve of one step is refused', approveRefusal, ctx({ decided: { decision: 'approved', by: 'alice@contoso.com' } }), { by: 'slack:U024BE7LH', stepIndex: 2 }, /already approved by alice@contoso\.com/],
  ['a reject after an approve recorded in the same task is refused too (the first decision stands)', rejectRefusal, ctx({ decided: { decision: 'approved', by: 'alice@contoso.com' } }), { by: 'slack:U024BE7LH', stepIndex: 2 }, /already approved/],
  // Resume is not approval: resuming a pause that holds a gate is a decision (issue 13, finding 4).
  ['anyone may resume a pause a person made by hand', resumeRefusal, { ...baking, paused: { reason: 'lunch', by: 'bob@contoso.com', kind: 'manual' } }, { by: 'mallory@contoso.com' }, undefined],
  ['a stranger cannot resume a pause after an inconclusive analysis', resumeRefusal, { ...baking, paused: { reason: 'inconclusive', by: 'glidepath', kind: 'gate' } }, { by: 'mallory@contoso.com' }, /^cannot resume: resuming accepts a step its analysis could not pass, a decision for an approver; mallory@contoso\.com is not an allowed approver/],
  ['an allowed approver may resume a gate pause', resumeRefusal, { ...baking, paused: { reason: 'inconclusive', by: 'glidepath', kind: 'gate' } }, { by: 'alice@contoso.com' }, undefined],
  ['the starter cannot resume a drift pause under four-eyes', resumeRefusal, { ...baking, approvers: [], paused: { reason: 'drift', by: 'glidepath', kind: 'drift' } }, { by: 'ci@contoso.com' }, /accepts traffic changed outside Glidepath, and ci@contoso\.com started this rollout/],
  ['a stranger cannot resume an approval that timed out with onTimeout: pause', resumeRefusal, ctx({ paused: { reason: 'timed out', by: 'glidepath', kind: 'approval-timeout' } }), { by: 'mallory@contoso.com' }, /accepts the approval that timed out/],
  ['a pause without a kind (older rollouts) resumes as a manual one', resumeRefusal, ctx({ paused: { reason: 'x', by: 'bob' } }), { by: 'mallory@contoso.com' }, undefined],
];

describe('which messages a rollout accepts now, and why it refuses the others', () => {
  test('a decision without a step from an old history (a replayed signal) is judged without the step rule', () => {
    assert.equal(approveRefusal(awaiting, { by: 'alice@contoso.com' }, { stepRequired: false }), undefined);
    assert.equal(rejectRefusal(awaiting, { by: 'alice@contoso.com' }, { stepRequired: false }), undefined);
    assert.match(approveRefusal(awaiting, { by: 'alice@contoso.com', stepIndex: 3 }, { stepRequired: false }) ?? '', /^cannot approve step 4/, 'a wrong step is refused either way');
  });

  for (const [what, rule, c, input, refusal] of table) {
    test(what, () => {
      const got = rule(c, input);
      if (refusal === undefined) assert.equal(got, undefined);
      else {
        assert.ok(got, 'expected a refusal');
        assert.match(got, refusal);
      }
    });
  }
});
