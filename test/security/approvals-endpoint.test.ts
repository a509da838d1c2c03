/**
 * The approvals endpoint (issue 13): only a valid token from the configured issuer, for the configured
 * audience, unexpired, signed by a key the issuer publishes, makes a signed decision — for the person the
 * token names, never for the name the caller types — and the token never reaches the rollout.
 * Before the change there was no endpoint: a CLI decision was whatever `--as` said.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createOidcVerifier } from '../../client/approvals/oidc.js';
import { createApprovalsServer } from '../../client/approvals/server.js';
import { defaultRuntime, main, type CliRuntime } from '../../client/cli.js';
import { createSigner } from '../../client/signer.js';
import { verifySignedDecision, type DecisionSignature } from '../../domain/decision-signature.js';
import { rolloutWorkflowId } from '../../domain/ids.js';
import { aPlanDocument } from '../support/builders.js';
import { FakeIssuer } from '../support/fake-oidc.js';
import { signerKeys, testTrust } from '../support/signers.js';
import { FakeGateway } from '../client-unit/fake-gateway.js';

const issuer = new FakeIssuer();
const ID = rolloutWorkflowId(aPlanDocument().target as Parameters<typeof rolloutWorkflowId>[0]);
const NOW = Date.parse('2026-11-25T08:10:00.000Z');

function awaiting(): FakeGateway {
  const g = new FakeGateway();
  g.add(aPlanDocument(), 'ci@contoso.com', {
    stage: 'approval',
    stepIndex: 2,
    stepText: 'approval',
    pendingApproval: { stepIndex: 2, stepText: 'approval', requestedAt: '2026-11-25T08:02:00.000Z', timeoutAt: '2026-11-26T08:02:00.000Z', onTimeout: 'rollback', approvers: ['alice@contoso.com', 'slack:U024BE7LH'] },
  });
  return g;
}

function endpoint(gateway: FakeGateway, log: string[] = []) {
  const oidc = createOidcVerifier({ issuer: issuer.issuer, audience: issuer.audience, jwksUrl: issuer.jwksUrl, now: () => NOW });
  return createApprovalsServer({ verifyToken: oidc.verifyToken, signer: createSigner('approvals', signerKeys.approvals, () => NOW), gateway, log: (l) => log.push(l) });
}

const post = (token: string | undefined, body: unknown = { workflowId: ID, decision: 'approve', stepIndex: 2, comment: 'lgtm' }) => ({
  method: 'POST',
  path: '/v1/decisions',
  authorization: token === undefined ? undefined : `Bearer ${token}`,
  rawBody: JSON.stringify(body),
});

before(() => issuer.start());
after(() => issuer.stop());

describe('the approvals endpoint', () => {
  test('a valid token makes a decision signed for the person it names, which the workflow would verify; the token goes nowhere', async () => {
    const gateway = awaiting();
    const log: string[] = [];
    const token = issuer.token({ sub: '00u-alice', email: 'Alice@Contoso.com' }, { nowMs: NOW });
    const r = await endpoint(gateway, log).handle(post(token));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, { accepted: true, message: 'approve by alice@contoso.com', person: 'alice@contoso.com', signer: 'approvals' });
    const sent = gateway.applied[0]!.input as { by: string; stepIndex: number; channel: 'cli'; signature: DecisionSignature };
    assert.equal(sent.by, 'alice@contoso.com');
    assert.deepEqual(
      verifySignedDecision({ decision: 'approve', person: sent.by, stepIndex: sent.stepIndex, channel: sent.channel }, sent.signature, {
        workflowId: ID,
        runIds: ['run-1'],
        stepIndex: 2,
        nowMs: NOW,
        trust: testTrust(),
        usedNonces: [],
      }),
      { ok: true, signer: 'approvals' },
    );
    assert.ok(!JSON.stringify(gateway.calls).includes(token.split('.')[2]!), 'the token is not in anything sent to Temporal');
    assert.ok(!log.join('\n').includes(token.split('.')[2]!), 'nor in the log');
  });

  test('a resume (it accepts a gate: a decision) is signed for the step the rollout holds at; the signature is no approval', async () => {
    const gateway = new FakeGateway();
    gateway.add(aPlanDocument(), 'ci@contoso.com', { stage: 'canary', stepIndex: 3, stepText: 'canary 10%', paused: { reason: 'analysis inconclusive', by: 'glidepath', at: '2026-11-25T08:09:00.000Z', kind: 'gate' } });
    const token = issuer.token({ sub: '00u-alice', email: 'alice@contoso.com' }, { nowMs: NOW });
    const r = await endpoint(gateway).handle(post(token, { workflowId: ID, decision: 'resume', stepIndex: 3, comment: 'error budget is fine' }));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(gateway.applied[0]!.message, 'resume');
    const sent = gateway.applied[0]!.input as { by: string; stepIndex: number; channel: 'cli'; comment: string; signature: DecisionSignature };
    assert.deepEqual([sent.by, sent.stepIndex, sent.comment], ['alice@contoso.com', 3, 'error budget is fine']);
    const where = { workflowId: ID, runIds: ['run-1'], stepIndex: 3, nowMs: NOW, trust: testTrust(), usedNonces: [] };
    assert.deepEqual(verifySignedDecision({ decision: 'resume', person: sent.by, stepIndex: 3, channel: 'cli' }, sent.signature, where), { ok: true, signer: 'approvals' });
    assert.equal(verifySignedDecision({ decision: 'approve', person: sent.by, stepIndex: 3, channel: 'cli' }, sent.signature, where).ok, false, 'a resume signature does not approve');
  });

  test('without an e-mail claim the person is oidc:<subject> (map it to a person in approvals.people)', async () => {
    const gateway = awaiting();
    const r = await endpoint(gateway).handle(post(issuer.token({ sub: '00u-ci-bot' }, { nowMs: NOW })));
    assert.equal(r.status, 409, 'refused by the rollout: oidc:00u-ci-bot is not a listed approver');
    assert.match(String(r.body.error), /oidc:00u-ci-bot is not an allowed approver/);
  });

  const refused: [string, () => ReturnType<typeof post>, number, RegExp][] = [
    ['no token', () => post(undefined), 401, /send your OIDC \/ Entra ID token/],
    ['a token that is not a JWT', () => post('not-a-jwt'), 401, /not a JWT/],
    ['alg none', () => post(issuer.token({ sub: 'x', email: 'alice@contoso.com' }, { nowMs: NOW, alg: 'none' })), 401, /unsupported algorithm none/],
    ['a token signed with a key the issuer does not publish', () => post(issuer.token({ sub: 'x', email: 'alice@contoso.com' }, { nowMs: NOW, forged: true })), 401, /bad signature/],
    ['an unknown key id', () => post(issuer.token({ sub: 'x', email: 'alice@contoso.com' }, { nowMs: NOW, kid: 'key-9' })), 401, /does not publish \(kid key-9\)/],
    ['another issuer', () => post(issuer.token({ sub: 'x', email: 'alice@contoso.com', iss: 'https://evil.example' }, { nowMs: NOW })), 401, /issued by https:\/\/evil.example/],
    ['another audience', () => post(issuer.token({ sub: 'x', email: 'alice@contoso.com', aud: 'api://other' }, { nowMs: NOW })), 401, /meant for api:\/\/other/],
    ['an expired token', () => post(issuer.token({ sub: 'x', email: 'alice@contoso.com' }, { nowMs: NOW - 2 * 3600_000 })), 401, /expired/],
    ['a token not valid yet', () => post(issuer.token({ sub: 'x', email: 'alice@contoso.com' }, { nowMs: NOW + 2 * 3600_000 })), 401, /not valid yet/],
    [
      '--as naming someone other than the token',
      () => post(issuer.token({ sub: 'x', email: 'bob@contoso.com' }, { nowMs: NOW }), { workflowId: ID, decision: 'approve', stepIndex: 2, as: 'alice@contoso.com' }),
      403,
      /your token authenticates bob@contoso.com, not alice@contoso.com/,
    ],
    ['a body with fields it does not know (no by: the token names the person)', () => post(issuer.token({ sub: 'x', email: 'bob@contoso.com' }, { nowMs: NOW }), { workflowId: ID, decision: 'approve', stepIndex: 2, by: 'alice@contoso.com' }), 400, /unknown fields: by/],
  ];
  for (const [what, make, status, why] of refused) {
    test(`refuses ${what} (${status}) and sends nothing`, async () => {
      const gateway = awaiting();
      const r = await endpoint(gateway).handle(make());
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.match(String(r.body.error), why);
      assert.equal(gateway.applied.length, 0);
    });
  }

  test('the CLI with GLIDEPATH_APPROVALS_URL sends the token to the endpoint only and prints the verified decision', async () => {
    const gateway = awaiting();
    const server = await endpoint(gateway).listen(0, '127.0.0.1');
    try {
      const token = issuer.token({ sub: 'x', email: 'alice@contoso.com' }, { nowMs: NOW });
      const out: string[] = [];
      const err: string[] = [];
      const real = defaultRuntime({ GLIDEPATH_APPROVALS_URL: server.url, GLIDEPATH_APPROVALS_TOKEN: token });
      const rt: CliRuntime = { ...real, stdout: (t) => out.push(t), stderr: (t) => err.push(t), deps: { ...real.deps, gateway: async () => gateway } };
      const code = await main(['rollout', 'approve', ID, '--step', '3'], rt);
      assert.equal(code, 0, err.join('\n'));
      assert.equal(out.join('\n'), 'approve: approve by alice@contoso.com (verified: signed by approvals for alice@contoso.com)');
      assert.equal(gateway.applied.length, 1, 'the endpoint sent the update (the CLI did not)');
      assert.ok(gateway.calls.filter((c) => c.op === 'send').length === 1);
    } finally {
      await server.close();
    }
  });

  test('the CLI refuses to send a token over plain http to another machine', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const real = defaultRuntime({ GLIDEPATH_APPROVALS_URL: 'http://approvals.example.com', GLIDEPATH_APPROVALS_TOKEN: 'x.y.z' });
    const rt: CliRuntime = { ...real, stdout: (t) => out.push(t), stderr: (t) => err.push(t), deps: { ...real.deps, gateway: async () => awaiting() } };
    assert.equal(await main(['rollout', 'approve', ID, '--step', '3'], rt), 2);
    assert.match(err.join('\n'), /GLIDEPATH_APPROVALS_URL must be https:\/\//);
  });
});
