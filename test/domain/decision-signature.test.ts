/**
 * Signed decisions and people (issue 13): the canonical form two parties agree on, the sign/verify round
 * trip, every reason a signed decision does not count, the person mapping, and four-eyes across channels.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mergePeople, parsePeople, personOf, samePerson } from '../../domain/approvals.js';
import {
  canonicalJson,
  fromBase64,
  parseTrustedSigners,
  publicKeyOf,
  signedBytes,
  toBase64,
  verifySignedDecision,
  type DecisionStatement,
  type VerificationContext,
} from '../../domain/decision-signature.js';
import { approveRefusal, rejectRefusal, resumeRefusal, type MessageContext } from '../../domain/messages.js';
import { signedInput, signerKeys, testTrust, TEST_SIGNERS_ENV } from '../support/signers.js';

const NOW = Date.parse('2026-11-25T08:10:00.000Z');
const WF = 'rollout-fraud-detection';
const RUN = 'run-1';

const where: VerificationContext = { workflowId: WF, runIds: [RUN, 'run-0'], stepIndex: 2, nowMs: NOW, trust: testTrust(), usedNonces: [] };
const sign = (patch: Partial<Parameters<typeof signedInput>[0]> = {}) =>
  signedInput({ workflowId: WF, runId: RUN, stepIndex: 2, decision: 'approve', person: 'bob@contoso.com', channel: 'slack', timeMs: NOW, signer: 'slack-bridge', ...patch });
const check = (input: ReturnType<typeof sign>, ctx: Partial<VerificationContext> = {}, decision: 'approve' | 'reject' = 'approve') =>
  verifySignedDecision({ decision, person: input.by, stepIndex: input.stepIndex, channel: input.channel }, input.signature, { ...where, ...ctx });

describe('the canonical form of a decision', () => {
  test('keys are sorted, there is no whitespace, undefined members are dropped', () => {
    assert.equal(canonicalJson({ b: 1, a: [true, 'x', null], c: undefined, d: { z: 'é', y: -0.5 } }), '{"a":[true,"x",null],"b":1,"d":{"y":-0.5,"z":"é"}}');
  });
  test('the signed bytes are the context line and the statement, whatever order its fields were built in', () => {
    const s: DecisionStatement = { workflowId: WF, runId: RUN, stepIndex: 2, decision: 'approve', person: 'bob@contoso.com', channel: 'slack', time: '2026-11-25T08:10:00.000Z', nonce: 'n0nce-123' };
    const shuffled = Object.fromEntries(Object.entries(s).reverse()) as unknown as DecisionStatement;
    const text = new TextDecoder().decode(signedBytes(shuffled));
    assert.equal(
      text,
      'glidepath-decision/v1\n{"channel":"slack","decision":"approve","nonce":"n0nce-123","person":"bob@contoso.com","runId":"run-1","stepIndex":2,"time":"2026-11-25T08:10:00.000Z","workflowId":"rollout-fraud-detection"}',
    );
  });
  test('base64 round-trips any bytes and refuses what is not base64', () => {
    for (const n of [0, 1, 2, 3, 31, 32, 64]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 255);
      assert.deepEqual(fromBase64(toBase64(bytes)), bytes);
      assert.equal(toBase64(bytes), Buffer.from(bytes).toString('base64'));
    }
    assert.equal(fromBase64('not base64!'), undefined);
  });
});

describe('verifying a signed decision', () => {
  test('a decision signed by a trusted signer for this rollout, run, step and time is verified, naming the signer', () => {
    assert.deepEqual(check(sign()), { ok: true, signer: 'slack-bridge' });
    assert.deepEqual(check(sign({ signer: 'approvals', channel: 'cli' })), { ok: true, signer: 'approvals' });
    assert.deepEqual(check(sign({ runId: 'run-0' })), { ok: true, signer: 'slack-bridge' }, "the rollout's first run counts too (continue-as-new)");
    assert.deepEqual(check(sign({ timeMs: NOW - 9 * 60_000 })), { ok: true, signer: 'slack-bridge' }, 'a few minutes of clock skew are fine');
  });

  const refusals: [string, () => ReturnType<typeof check>, RegExp][] = [
    ['an unknown signer', () => check(sign({ signer: 'mallory' })), /unknown signer mallory \(the worker trusts slack-bridge, approvals\)/],
    ['a key that claims a trusted name', () => check(sign({ signer: 'mallory', as: 'slack-bridge' })), /bad signature from slack-bridge/],
    ['a changed person', () => check({ ...sign(), by: 'alice@contoso.com' }), /bad signature from slack-bridge: it does not sign this decision by alice@contoso.com/],
    ['a changed verb (an approve signature on a reject)', () => check(sign(), {}, 'reject'), /bad signature/],
    ['a changed channel', () => check({ ...sign(), channel: 'cli' }), /bad signature/],
    ['a signature for another rollout', () => check(sign({ workflowId: 'rollout-other-endpoint' })), /bad signature/],
    ['a signature for another run', () => check(sign({ runId: 'run-9' })), /signed for another run \(run-9\)/],
    ['a signature for another step, replayed on this one', () => check({ ...sign({ stepIndex: 4 }), stepIndex: 4 }), /signed for step 5, but the rollout awaits step 3/],
    ['a signature for another step with the step changed', () => check({ ...sign({ stepIndex: 4 }), stepIndex: 2 }), /bad signature/],
    ['a nonce already used', () => check(sign({ nonce: 'seen-before' }), { usedNonces: ['seen-before'] }), /nonce seen-before was already used/],
    ['a time too far from workflow time', () => check(sign({ timeMs: NOW - 11 * 60_000 })), /more than 10 minutes from workflow time/],
    ['a time in the future', () => check(sign({ timeMs: NOW + 60 * 60_000 })), /more than 10 minutes from workflow time/],
    ['a garbled signature', () => check({ ...sign(), signature: { ...sign().signature, signature: 'AAAA' } }), /not a base64 Ed25519 signature/],
    ['no trusted signers loaded', () => check(sign(), { trust: null }), /no trusted signers loaded/],
    ['a worker that trusts nobody', () => check(sign(), { trust: { signers: [], people: {} } }), /trusts no signer: set GLIDEPATH_DECISION_SIGNERS/],
  ];
  for (const [what, run, reason] of refusals) {
    test(`refused: ${what}`, () => {
      const v = run();
      assert.equal(v.ok, false);
      assert.match((v as { reason: string }).reason, reason);
    });
  }
});

describe("the worker's trusted signers", () => {
  test('GLIDEPATH_DECISION_SIGNERS lists name:base64key pairs', () => {
    assert.deepEqual(parseTrustedSigners(TEST_SIGNERS_ENV), testTrust().signers);
    assert.deepEqual(parseTrustedSigners(''), []);
    assert.equal(testTrust().signers[0]!.publicKey, publicKeyOf(signerKeys['slack-bridge']));
  });
  const bad: [string, RegExp][] = [
    ['slack-bridge', /must be name:base64key/],
    ['slack-bridge:AAAA', /must be a base64 Ed25519 public key \(32 bytes\)/],
    [`a:${toBase64(new Uint8Array(32))},a:${toBase64(new Uint8Array(32))}`, /signer a is listed twice/],
    [`bad name:${toBase64(new Uint8Array(32))}`, /must be name:base64key/],
  ];
  for (const [text, why] of bad) test(`refuses ${JSON.stringify(text.slice(0, 24))}`, () => assert.throws(() => parseTrustedSigners(text), why));
});

describe('people, not spellings', () => {
  const people = { 'alice@contoso.com': ['github:alice', 'slack:U024BE7LH', 'oidc:00u1abcd'], 'bob@contoso.com': ['ado:bob@contoso.com'] };
  const table: [string, string, string][] = [
    ['an e-mail is its own person, whatever its case', ' Alice@Contoso.com ', 'alice@contoso.com'],
    ['a GitHub identity maps to its person', 'github:Alice', 'alice@contoso.com'],
    ['a Slack id maps to its person', 'slack:U024BE7LH', 'alice@contoso.com'],
    ['an OIDC subject maps to its person', 'oidc:00u1abcd', 'alice@contoso.com'],
    ['an Azure DevOps identity maps to its person', 'ado:bob@contoso.com', 'bob@contoso.com'],
    ['an unmapped identity is itself', 'github:carol', 'github:carol'],
  ];
  for (const [what, identity, person] of table) test(what, () => assert.equal(personOf(identity, people), person));
  test('samePerson compares through the mapping', () => {
    assert.equal(samePerson('github:alice', 'slack:U024BE7LH', people), true);
    assert.equal(samePerson('github:alice', 'bob@contoso.com', people), false);
  });
  test("the plan's and the worker's mappings merge: a person's identities are the union", () => {
    assert.deepEqual(mergePeople({ 'Alice@contoso.com': ['github:alice'] }, { 'alice@contoso.com': ['slack:U1', 'github:alice'] }), { 'alice@contoso.com': ['github:alice', 'slack:u1'] });
  });
  test("the worker's GLIDEPATH_PEOPLE is JSON from e-mail to identities; anything else is refused by name", () => {
    assert.deepEqual(parsePeople('{"Alice@contoso.com": ["github:alice"]}'), { 'alice@contoso.com': ['github:alice'] });
    assert.throws(() => parsePeople('alice=github:alice'), /must be JSON/);
    assert.throws(() => parsePeople('{"alice": ["github:alice"]}'), /alice: must be an e-mail address/);
    assert.throws(() => parsePeople('{"alice@contoso.com": "github:alice"}'), /must map to a list of identities/);
  });
});

/** A rollout held at step 4 (canary 10%) after an inconclusive analysis: resuming it accepts the step. */
const gatePause: Partial<MessageContext> = {
  stage: 'canary',
  stepText: 'canary 10%',
  stepIndex: 3,
  pendingApproval: null,
  paused: { reason: 'analysis inconclusive', by: 'glidepath', kind: 'gate' },
};

describe('decisions under verification and four-eyes across channels', () => {
  const base: MessageContext = {
    stage: 'approval',
    stepText: 'approval',
    stopping: null,
    paused: null,
    pendingApproval: { stepIndex: 2, stepText: 'approval' },
    steps: ['mirror 20%', 'cost check', 'approval', 'canary 10%'],
    startedBy: 'github:alice',
    approvers: ['alice@contoso.com', 'bob@contoso.com'],
    fourEyes: true,
    people: { 'alice@contoso.com': ['github:alice', 'slack:U024BE7LH'] },
    verification: { required: true, workflowId: WF, runIds: [RUN], nowMs: NOW, trust: testTrust(), usedNonces: [] },
  };
  const table: [string, (c: MessageContext, i: unknown) => string | undefined, Partial<MessageContext>, unknown, RegExp | undefined][] = [
    ['a signed approval by a listed approver is accepted', approveRefusal, {}, sign(), undefined],
    ['an unsigned approval with a typed name is refused where verification is required', approveRefusal, {}, { by: 'bob@contoso.com', stepIndex: 2, channel: 'cli' }, /counts only signed decisions \(approvals.verified\) and this one is unsigned — a typed name is not proof/],
    ['an unsigned reject is refused too (it would record a name nobody vouched for)', rejectRefusal, {}, { by: 'bob@contoso.com', stepIndex: 2 }, /cannot reject: this rollout counts only signed decisions/],
    ['a badly signed approval is refused with the reason', approveRefusal, {}, { ...sign(), by: 'carol@contoso.com' }, /cannot approve: bad signature from slack-bridge/],
    ['a signed approval from a signer the worker does not trust is refused', approveRefusal, {}, sign({ signer: 'mallory' }), /unknown signer mallory/],
    ['the starter, started as github:alice, approving in Slack as their profile e-mail is refused (four-eyes compares people)', approveRefusal, {}, sign({ person: 'alice@contoso.com' }), /alice@contoso.com started this rollout \(as github:alice\) and four-eyes is on/],
    ['… also unsigned where verification is not required', approveRefusal, { verification: undefined }, { by: 'alice@contoso.com', stepIndex: 2, channel: 'slack' }, /started this rollout \(as github:alice\)/],
    ['… and as the Slack id mapped to the same person', approveRefusal, { verification: undefined, approvers: ['slack:U024BE7LH', 'bob@contoso.com'] }, { by: 'slack:U024BE7LH', stepIndex: 2, channel: 'slack' }, /four-eyes is on/],
    ['a listed approver is matched through the mapping (listed by e-mail, approving as github:)', approveRefusal, { verification: undefined, startedBy: 'ci@contoso.com' }, { by: 'github:alice', stepIndex: 2 }, undefined],
    ['where verification is not required, an unsigned approval still counts (self-asserted)', approveRefusal, { verification: undefined }, { by: 'bob@contoso.com', stepIndex: 2 }, undefined],
    // Resuming a pause that holds a gate is a decision: signed where the plan requires it (the step it names is the one the rollout holds at).
    ['a typed resume of a gate pause is refused where verification is required', resumeRefusal, gatePause, { by: 'bob@contoso.com', channel: 'cli' }, /^cannot resume: resuming accepts a step its analysis could not pass, a decision; this rollout counts only signed decisions .* resume with glidepath rollout resume and GLIDEPATH_APPROVALS_URL/],
    ['a signed resume of a gate pause by a listed approver is accepted', resumeRefusal, gatePause, sign({ decision: 'resume', stepIndex: 3, channel: 'cli' }), undefined],
    ['an approval signature cannot be reused as a resume', resumeRefusal, gatePause, sign({ stepIndex: 3, channel: 'cli' }), /cannot resume: .*bad signature from slack-bridge/],
    ['a signed resume for another step is refused', resumeRefusal, gatePause, sign({ decision: 'resume', stepIndex: 1, channel: 'cli' }), /cannot resume: /],
    ['a manual pause resumes unsigned (it accepts nothing)', resumeRefusal, { ...gatePause, paused: { reason: 'lunch', by: 'ops@contoso.com', kind: 'manual' } }, { by: 'mallory@contoso.com' }, undefined],
  ];
  for (const [what, rule, patch, input, want] of table) {
    test(what, () => {
      const why = rule({ ...base, ...patch }, input);
      if (want) assert.match(why ?? '(accepted)', want);
      else assert.equal(why, undefined);
    });
  }
});
