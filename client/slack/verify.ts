/**
 * Verifying that a request really comes from Slack (https://api.slack.com/authentication/verifying-requests-from-slack):
 * `X-Slack-Signature` is `v0=` + hex HMAC-SHA256 of `v0:{X-Slack-Request-Timestamp}:{raw body}` keyed
 * with the app's signing secret. Compared in constant time; timestamps more than 5 minutes from now are
 * refused (replay window), and a signature seen before within that window is refused as a replay.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** How far a request's timestamp may be from now (Slack's recommendation). */
export const MAX_SKEW_SECONDS = 300;

/** Why a request was refused, or ok. */
export type Verification = { ok: true } | { ok: false; reason: string };

/** The signature Slack would send for `body` at `timestamp` (seconds). Used by tests and fakes. */
export function slackSignature(secret: string, timestamp: string | number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

/** Remembers signatures for the replay window so the same signed request is applied once. */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();
  constructor(private readonly windowMs = MAX_SKEW_SECONDS * 1000 * 2) {}
  /** True the first time a signature is seen within the window. */
  firstTime(signature: string, nowMs: number): boolean {
    for (const [sig, at] of this.seen) if (nowMs - at > this.windowMs) this.seen.delete(sig);
    if (this.seen.has(signature)) return false;
    this.seen.set(signature, nowMs);
    return true;
  }
}

/** Checks the signature and the timestamp of a request (does not record it; see ReplayGuard). */
export function verifySlackRequest(args: { secret: string; timestamp: string | undefined; signature: string | undefined; rawBody: string; nowMs: number }): Verification {
  const { timestamp, signature } = args;
  if (!timestamp || !signature) return { ok: false, reason: 'missing X-Slack-Request-Timestamp or X-Slack-Signature' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'malformed X-Slack-Request-Timestamp' };
  const skew = Math.abs(args.nowMs / 1000 - Number(timestamp));
  if (skew > MAX_SKEW_SECONDS) return { ok: false, reason: `stale timestamp (${Math.round(skew)}s from now; at most ${MAX_SKEW_SECONDS}s)` };
  const expected = Buffer.from(slackSignature(args.secret, timestamp, args.rawBody), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  // timingSafeEqual needs equal lengths; compare against itself to keep the time constant, then fail.
  const same = given.length === expected.length ? timingSafeEqual(given, expected) : (timingSafeEqual(expected, expected), false);
  return same ? { ok: true } : { ok: false, reason: 'bad signature' };
}
