/**
 * Signers for tests: fixed Ed25519 keys (from fixed seeds, so failures reproduce), the worker trust
 * that lists them, and a helper that signs a decision input the way the Slack bridge and the approvals
 * endpoint do.
 */
import { randomBytes } from 'node:crypto';
import { publicKeyOf, signDecision, type DecisionStatement, type DecisionTrust } from '../../domain/decision-signature.js';
import type { DecisionChannel } from '../../domain/approvals.js';

const seed = (byte: number) => new Uint8Array(32).fill(byte);

/** The test signers' secret keys (test-only; real keys come from the signer's environment or file). */
export const signerKeys = {
  'slack-bridge': seed(1),
  approvals: seed(2),
  /** A key nobody trusts. */
  mallory: seed(3),
} as const;

/** A worker's trust listing the bridge and the approvals endpoint (not mallory). */
export function testTrust(people: Record<string, string[]> = {}): DecisionTrust {
  return {
    signers: [
      { name: 'slack-bridge', publicKey: publicKeyOf(signerKeys['slack-bridge']) },
      { name: 'approvals', publicKey: publicKeyOf(signerKeys.approvals) },
    ],
    people,
  };
}

/** `GLIDEPATH_DECISION_SIGNERS` for {@link testTrust}. */
export const TEST_SIGNERS_ENV = `slack-bridge:${publicKeyOf(signerKeys['slack-bridge'])},approvals:${publicKeyOf(signerKeys.approvals)}`;

/**
 * A signed approve/reject input: `{ by, stepIndex, channel, signature }` as a signer sends it. `signer`
 * picks the key and the name it claims (`as` claims another name with that key).
 */
export function signedInput(args: {
  workflowId: string;
  runId: string;
  stepIndex: number;
  decision: 'approve' | 'reject' | 'resume';
  person: string;
  channel?: DecisionChannel;
  timeMs: number;
  signer?: keyof typeof signerKeys;
  as?: string;
  nonce?: string;
}): { by: string; stepIndex: number; channel: DecisionChannel; signature: ReturnType<typeof signDecision> } {
  const channel = args.channel ?? 'cli';
  const statement: DecisionStatement = {
    workflowId: args.workflowId,
    runId: args.runId,
    stepIndex: args.stepIndex,
    decision: args.decision,
    person: args.person,
    channel,
    time: new Date(args.timeMs).toISOString(),
    nonce: args.nonce ?? randomBytes(12).toString('hex'),
  };
  const signer = args.signer ?? 'approvals';
  return { by: args.person, stepIndex: args.stepIndex, channel, signature: signDecision(statement, signerKeys[signer], args.as ?? signer) };
}
