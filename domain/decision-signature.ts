/**
 * Signed decisions (issue 13, invariant 10): what a trusted signer signs, and the pure verifier the
 * workflow runs in its update validators and signal handlers.
 *
 * Temporal authorises per namespace, not per person, and an update handler never sees who sent it, so
 * a decision's author must travel as something the workflow can check. A trusted signer — the Slack
 * bridge after Slack's request signature and `users.info`, or the approvals endpoint after it verified
 * the caller's OIDC token — signs a {@link DecisionStatement} with its Ed25519 key. The workflow checks
 * the signature against the public keys in the WORKER's configuration (loaded once per rollout by the
 * `trustedSigners` activity and kept in the state: public keys are not secrets), and that the statement
 * names this rollout, this run, the awaited step and a fresh nonce, at a time close to workflow time.
 *
 * Pure: no I/O, no clock (the caller passes workflow time), no Node built-ins — `@noble/curves` is plain
 * JavaScript, so this runs unchanged inside the workflow sandbox.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import type { DecisionChannel } from './approvals.js';

/** What a signer vouches for: this person decided this on this step of this run of this rollout, now. */
export interface DecisionStatement {
  workflowId: string;
  /** The run the signer saw (`describe().runId`); the workflow also accepts its first run's id (continue-as-new keeps it). */
  runId: string;
  /** The 0-based step the decision answers. */
  stepIndex: number;
  /** `resume`: resuming a pause that holds a gate, which accepts the gate (a decision like an approval). */
  decision: 'approve' | 'reject' | 'resume';
  /** The person, as the signer authenticated them: an e-mail (Slack profile, OIDC `email`) or `oidc:<subject>`. */
  person: string;
  channel: DecisionChannel;
  /** ISO time of signing. */
  time: string;
  /** Random, once per decision: the workflow refuses a nonce it has already recorded. */
  nonce: string;
}

/** The signature part of a decision input: the statement's other fields are the input's own (by, stepIndex, channel). */
export interface DecisionSignature {
  /** The signer's name, as in the worker's `GLIDEPATH_DECISION_SIGNERS`. */
  signer: string;
  runId: string;
  time: string;
  nonce: string;
  /** Ed25519 signature of {@link signedBytes}(statement), base64. */
  signature: string;
}

/** A public key the worker trusts to sign decisions. */
export interface TrustedSigner {
  name: string;
  /** Ed25519 public key, 32 bytes, base64. */
  publicKey: string;
}

/** What the worker's configuration says about decisions: the trusted signers, and who is who across channels. */
export interface DecisionTrust {
  signers: TrustedSigner[];
  /** person (e-mail) → other identities of the same person (`github:alice`, `slack:U123`, `oidc:…`). */
  people: Record<string, string[]>;
}

/** How far a statement's time may be from workflow time (either way): clocks drift, and people click late. */
export const MAX_DECISION_SKEW_MS = 10 * 60_000;

// ───────────────────────────── canonical form ─────────────────────────────

/**
 * Canonical JSON: object keys sorted (by UTF-16 code units), no whitespace, strings and numbers as
 * JSON.stringify writes them; `undefined` members are dropped. Two parties that build the same value
 * get the same bytes.
 *
 *   canonicalJson({ b: 1, a: [true, 'x'] }) → '{"a":[true,"x"],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`canonical JSON has no form for ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new Error(`canonical JSON has no form for a ${typeof value}`);
}

/** Domain separation: a Glidepath decision signature cannot be mistaken for a signature of anything else. */
const CONTEXT = 'glidepath-decision/v1\n';

/** The bytes a signer signs: the context line, then the statement's canonical JSON, UTF-8. */
export function signedBytes(statement: DecisionStatement): Uint8Array {
  const s = statement;
  const only: DecisionStatement = { workflowId: s.workflowId, runId: s.runId, stepIndex: s.stepIndex, decision: s.decision, person: s.person, channel: s.channel, time: s.time, nonce: s.nonce };
  return new TextEncoder().encode(CONTEXT + canonicalJson(only));
}

// ───────────────────────────── base64 (no Buffer in the workflow sandbox) ─────────────────────────────

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard base64 with padding. */
export function toBase64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]! + (i + 1 < bytes.length ? B64[(n >> 6) & 63]! : '=') + (i + 2 < bytes.length ? B64[n & 63]! : '=');
  }
  return out;
}

/** Decodes standard or URL-safe base64 (padding optional); undefined when it is not base64. */
export function fromBase64(text: string): Uint8Array | undefined {
  const t = text.trim().replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  if (!/^[A-Za-z0-9+/]*$/.test(t) || t.length % 4 === 1) return undefined;
  const out: number[] = [];
  let bits = 0;
  let acc = 0;
  for (const c of t) {
    acc = (acc << 6) | B64.indexOf(c);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 255);
    }
  }
  return Uint8Array.from(out);
}

// ───────────────────────────── sign and verify ─────────────────────────────

/** Signs a statement with a 32-byte Ed25519 secret key (the signer's; never a workflow input). */
export function signDecision(statement: DecisionStatement, secretKey: Uint8Array, signer: string): DecisionSignature {
  const signature = toBase64(ed25519.sign(signedBytes(statement), secretKey));
  return { signer, runId: statement.runId, time: statement.time, nonce: statement.nonce, signature };
}

/** The base64 public key of a 32-byte Ed25519 secret key. */
export function publicKeyOf(secretKey: Uint8Array): string {
  return toBase64(ed25519.getPublicKey(secretKey));
}

/** Where a decision is checked: this rollout, its runs, workflow time, the trust from the worker, the nonces already recorded. */
export interface VerificationContext {
  workflowId: string;
  /** The run ids a statement may name: the current run and the first run of the rollout. */
  runIds: readonly string[];
  /** The awaited step (0-based). */
  stepIndex: number;
  /** Workflow time, epoch ms. */
  nowMs: number;
  /** The worker's trust; null when it was not loaded (the rollout started before signed decisions). */
  trust: DecisionTrust | null;
  usedNonces: readonly string[];
  maxSkewMs?: number;
}

/** A verdict on a signed decision: the signer that vouched for it, or why it does not count. */
export type SignatureVerdict = { ok: true; signer: string } | { ok: false; reason: string };

/**
 * Checks a signed decision: a known signer, a valid signature over exactly this decision, this rollout
 * and run, the awaited step, a fresh nonce and a time near workflow time. The decision's own fields
 * (person, step, channel, verb) are what the signature covers, so none can be changed after signing.
 *
 *   verifySignedDecision({ decision: 'approve', person: 'bob@contoso.com', stepIndex: 2, channel: 'slack' }, sig, ctx)
 *   → { ok: true, signer: 'slack-bridge' }   or   { ok: false, reason: 'unknown signer mallory-laptop (trusted: slack-bridge)' }
 */
export function verifySignedDecision(
  decision: { decision: DecisionStatement['decision']; person: string; stepIndex: number; channel: DecisionChannel },
  sig: DecisionSignature,
  ctx: VerificationContext,
): SignatureVerdict {
  if (!ctx.trust) return { ok: false, reason: 'this rollout has no trusted signers loaded, so it cannot check a signature' };
  const known = ctx.trust.signers.find((s) => s.name === sig.signer);
  if (!known) {
    const names = ctx.trust.signers.map((s) => s.name).join(', ');
    return { ok: false, reason: `unknown signer ${sig.signer} (the worker trusts ${names || 'no signer: set GLIDEPATH_DECISION_SIGNERS'})` };
  }
  const publicKey = fromBase64(known.publicKey);
  const signature = fromBase64(sig.signature);
  if (!signature || signature.length !== 64) return { ok: false, reason: `bad signature from ${sig.signer}: not a base64 Ed25519 signature` };
  if (!publicKey || publicKey.length !== 32) return { ok: false, reason: `the worker's key for ${sig.signer} is not a base64 Ed25519 public key` };
  const statement: DecisionStatement = { workflowId: ctx.workflowId, runId: sig.runId, time: sig.time, nonce: sig.nonce, ...decision };
  let valid = false;
  try {
    valid = ed25519.verify(signature, signedBytes(statement), publicKey);
  } catch {
    valid = false;
  }
  // A signature made for another rollout fails here too (the workflow id is ours, not the sender's).
  if (!valid) return { ok: false, reason: `bad signature from ${sig.signer}: it does not sign this decision by ${decision.person} on this rollout` };
  if (!ctx.runIds.includes(sig.runId)) return { ok: false, reason: `signed for another run (${sig.runId}) of this rollout` };
  if (decision.stepIndex !== ctx.stepIndex) return { ok: false, reason: `signed for step ${decision.stepIndex + 1}, but the rollout awaits step ${ctx.stepIndex + 1}` };
  if (ctx.usedNonces.includes(sig.nonce)) return { ok: false, reason: `nonce ${sig.nonce} was already used: a signed decision counts once` };
  const at = Date.parse(sig.time);
  const skew = ctx.maxSkewMs ?? MAX_DECISION_SKEW_MS;
  if (!Number.isFinite(at)) return { ok: false, reason: `signed at an unreadable time (${sig.time})` };
  if (Math.abs(at - ctx.nowMs) > skew) {
    return { ok: false, reason: `signed at ${sig.time}, more than ${Math.round(skew / 60_000)} minutes from workflow time ${new Date(ctx.nowMs).toISOString()}` };
  }
  return { ok: true, signer: sig.signer };
}

/**
 * Parses the worker's `GLIDEPATH_DECISION_SIGNERS`: `name:base64key,name:base64key`. Throws an Error
 * naming the bad entry (the worker refuses to start with it).
 *
 *   parseTrustedSigners('slack-bridge:MCowBQ…,approvals:3q2+7w…') → [{ name: 'slack-bridge', publicKey: 'MCowBQ…' }, …]
 */
export function parseTrustedSigners(text: string | undefined): TrustedSigner[] {
  if (!text || !text.trim()) return [];
  const out: TrustedSigner[] = [];
  for (const entry of text.split(',').map((e) => e.trim()).filter(Boolean)) {
    const i = entry.indexOf(':');
    const name = i > 0 ? entry.slice(0, i).trim() : '';
    const key = i > 0 ? entry.slice(i + 1).trim() : '';
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) throw new Error(`signer entry '${entry.slice(0, 40)}' must be name:base64key with a name of letters, digits, . _ -`);
    const bytes = fromBase64(key);
    if (!bytes || bytes.length !== 32) throw new Error(`signer ${name}: the key must be a base64 Ed25519 public key (32 bytes)`);
    if (out.some((s) => s.name === name)) throw new Error(`signer ${name} is listed twice`);
    out.push({ name, publicKey: toBase64(bytes) });
  }
  return out;
}
