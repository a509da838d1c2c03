import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { abortRefusal, approveRefusal, pauseRefusal, rejectRefusal, resumeRefusal, type MessageContext } from '../../domain/messages.js';

const awaiting: MessageContext = {
  stage: 'approval',
  stepText: 'approval',
  stopping: null,
  paused: null,
  pendingApproval: { stepIndex: 2, stepText: 'approval' },
  startedBy: 'ci@contoso.com',
  approvers: ['alice@contoso.com', 'slack:U024BE7LH'],
  fourEyes: true,
};
const baking: MessageContext = { ...awaiting, stage: 'canary', stepText: 'canary 10%', pendingApproval: null };
const ctx = (patch: Partial<MessageContext>): MessageContext => ({ ...awaiting, ...patch });

type Rule = (c: MessageContext, input: unknown) => string | undefined;
/** [what, rule, context, input, undefined = accepted, or a pattern the refusal must match] */
const table: [string, Rule, MessageContext, unknown, RegExp | undefined][] = [
  ['an allowed approver approves an awaited approval', approveRefusal, awaiting, { by: 'alice@contoso.com' }, undefined],
  ['approver ids compare case-insensitively', approveRefusal, awaiting, { by: 'Alice@Contoso.com' }, undefined],
  ['a Slack approver approves', approveRefusal, awaiting, { by: 'slack:U024BE7LH' }, undefined],
  ['someone not allowed cannot approve', approveRefusal, awaiting, { by: 'mallory@contoso.com' }, /mallory@contoso\.com is not an allowed approver \(allowed: alice@contoso\.com, slack:U024BE7LH\)/],
  ['the starter cannot approve under four-eyes', approveRefusal, ctx({ approvers: [] }), { by: 'ci@contoso.com' }, /started this rollout and four-eyes is on/],
  ['the starter may approve without four-eyes', approveRefusal, ctx({ approvers: [], fourEyes: false }), { by: 'ci@contoso.com' }, undefined],
  ['anyone may approve when no approvers are listed', approveRefusal, ctx({ approvers: [] }), { by: 'bob@contoso.com' }, undefined],
  ['no approval while none is awaited', approveRefusal, baking, { by: 'alice@contoso.com' }, /no approval is awaited \(the rollout is at canary: canary 10%\)/],
  ['no approval while rolling back', approveRefusal, ctx({ stopping: 'aborted by bob' }), { by: 'alice@contoso.com' }, /already stopping \(aborted by bob\)/],
  ['no approval once finished', approveRefusal, ctx({ stage: 'done' }), { by: 'alice@contoso.com' }, /has finished/],
  ['an approval must say who sends it', approveRefusal, awaiting, { by: '' }, /invalid approve input: by: must name who/],
  ['an approval with unknown fields is refused', approveRefusal, awaiting, { by: 'alice@contoso.com', as: 'admin' }, /invalid approve input/],
  ['an allowed approver rejects', rejectRefusal, awaiting, { by: 'alice@contoso.com', reason: 'latency' }, undefined],
  ['the starter may reject their own rollout', rejectRefusal, awaiting, { by: 'ci@contoso.com' }, undefined],
  ['a stranger cannot reject', rejectRefusal, awaiting, { by: 'mallory@contoso.com' }, /not an allowed approver/],
  ['reject needs an awaited approval (abort otherwise)', rejectRefusal, baking, { by: 'alice@contoso.com' }, /use abort to stop it/],
  ['abort during a bake', abortRefusal, baking, { by: 'bob@contoso.com', reason: 'pager' }, undefined],
  ['abort twice', abortRefusal, ctx({ stopping: 'aborted by bob' }), { by: 'bob@contoso.com' }, /already stopping/],
  ['abort while retiring the baseline', abortRefusal, ctx({ stage: 'retire' }), { by: 'bob@contoso.com' }, /being retired/],
  ['pause during a bake', pauseRefusal, baking, { by: 'bob@contoso.com' }, undefined],
  ['pause twice', pauseRefusal, ctx({ paused: { reason: 'x', by: 'bob' } }), { by: 'bob@contoso.com' }, /already paused by bob \(x\)/],
  ['resume while paused', resumeRefusal, ctx({ paused: { reason: 'x', by: 'bob' } }), { by: 'bob@contoso.com' }, undefined],
  ['resume while not paused', resumeRefusal, baking, { by: 'bob@contoso.com' }, /not paused \(it is at canary: canary 10%\)/],
];

describe('which messages a rollout accepts now, and why it refuses the others', () => {
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
