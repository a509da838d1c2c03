/**
 * A trusted signer of decisions (issue 13): the Slack bridge and the approvals endpoint each hold an
 * Ed25519 secret key, from their own environment or a file — never a workflow input or history — and
 * sign `{workflowId, runId, stepIndex, decision, person, channel, time, nonce}` (domain/decision-signature.ts)
 * for a person they authenticated. The worker trusts the matching public key (GLIDEPATH_DECISION_SIGNERS).
 *
 * Settings: `GLIDEPATH_SIGNER_KEY` (base64 of the 32-byte secret key) or `GLIDEPATH_SIGNER_KEY_FILE`
 * (a file holding it), and `GLIDEPATH_SIGNER_NAME` (the name the worker knows the key by).
 * `glidepath approvals keygen` makes a pair.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ed25519 } from '@noble/curves/ed25519.js';
import type { DecisionChannel } from '../domain/approvals.js';
import { fromBase64, publicKeyOf, signDecision, toBase64, type DecisionSignature } from '../domain/decision-signature.js';
import { InvalidInputError } from './errors.js';

/** Signs decisions for people its host authenticated. */
export interface DecisionSigner {
  name: string;
  /** base64 public key, for the worker's GLIDEPATH_DECISION_SIGNERS. */
  publicKey: string;
  sign(d: { workflowId: string; runId: string; stepIndex: number; decision: 'approve' | 'reject' | 'resume'; person: string; channel: DecisionChannel }): DecisionSignature;
}

/** A signer from a 32-byte secret key; `now` is the signing clock (tests inject the server's time). */
export function createSigner(name: string, secretKey: Uint8Array, now: () => number = Date.now): DecisionSigner {
  if (secretKey.length !== 32) throw new InvalidInputError(`signer ${name}: the secret key must be 32 bytes (base64), got ${secretKey.length}`);
  const key = Uint8Array.from(secretKey);
  return {
    name,
    publicKey: publicKeyOf(key),
    sign: (d) => signDecision({ ...d, time: new Date(now()).toISOString(), nonce: randomBytes(16).toString('hex') }, key, name),
  };
}

/**
 * The signer configured in `env`, or undefined when none is (GLIDEPATH_SIGNER_KEY / _FILE unset).
 * A key that is set but unreadable or malformed is an InvalidInputError naming the variable.
 */
export function signerFromEnv(env: NodeJS.ProcessEnv, defaultName: string, now?: () => number): DecisionSigner | undefined {
  let text = env.GLIDEPATH_SIGNER_KEY;
  const file = env.GLIDEPATH_SIGNER_KEY_FILE;
  if (!text && file) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new InvalidInputError(`GLIDEPATH_SIGNER_KEY_FILE: cannot read ${file}: ${(err as Error).message}`, [], { cause: err });
    }
  }
  if (!text) return undefined;
  const key = fromBase64(text.trim());
  if (!key || key.length !== 32) throw new InvalidInputError(`${env.GLIDEPATH_SIGNER_KEY ? 'GLIDEPATH_SIGNER_KEY' : 'GLIDEPATH_SIGNER_KEY_FILE'}: must hold a base64 Ed25519 secret key (32 bytes); make one with glidepath approvals keygen`);
  const name = env.GLIDEPATH_SIGNER_NAME?.trim() || defaultName;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) throw new InvalidInputError(`GLIDEPATH_SIGNER_NAME '${name}' must be 1-64 letters, digits, . _ -`);
  return createSigner(name, key, now);
}

/** A new key pair: the secret for the signer's environment, the public key for the worker's. */
export function generateSignerKey(): { secretKey: string; publicKey: string } {
  const secret = ed25519.utils.randomSecretKey();
  return { secretKey: toBase64(secret), publicKey: publicKeyOf(secret) };
}
