/**
 * Verifies an OIDC / Entra ID bearer token (a JWT) the way the approvals endpoint needs: RS256
 * signature against the issuer's JWKS (node:crypto), `iss`, `aud`, `exp` and `nbf`. The token is
 * only read here; nothing stores or logs it.
 *
 * Entra ID: issuer `https://login.microsoftonline.com/<tenant>/v2.0`, JWKS
 * `https://login.microsoftonline.com/<tenant>/discovery/v2.0/keys`, audience the app's client id (or
 * its Application ID URI). GitHub Actions: issuer `https://token.actions.githubusercontent.com`, JWKS
 * `…/.well-known/jwks`, audience of your choice.
 */
import { createPublicKey, verify as verifySignature, type JsonWebKey, type KeyObject } from 'node:crypto';

export interface OidcSettings {
  issuer: string;
  audience: string;
  jwksUrl: string;
  /** Allowed clock skew for exp/nbf, seconds (default 60). */
  clockToleranceSec?: number;
  fetch?: typeof fetch;
  now?: () => number;
}

/** The claims the endpoint uses. */
export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  email?: string;
  email_verified?: boolean;
  [claim: string]: unknown;
}

/** Thrown when a token does not authenticate anyone; the message says why (never the token). */
export class TokenRejected extends Error {
  override name = 'TokenRejected';
}

function b64urlJson(part: string, what: string): Record<string, unknown> {
  try {
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new TokenRejected(`the token's ${what} is not base64url JSON`);
}

/**
 * The person a verified token names: its `email` (unless the issuer says it is unverified), lower-cased;
 * else `oidc:<sub>`, which the plan's or the worker's person mapping can tie to an e-mail.
 */
export function personFromClaims(claims: TokenClaims): string {
  if (typeof claims.email === 'string' && /^[^\s@:]+@[^\s@]+\.[^\s@]+$/.test(claims.email) && claims.email_verified !== false) return claims.email.trim().toLowerCase();
  return `oidc:${claims.sub}`;
}

/** A verifier with a JWKS cache (refreshed when a token names a key it has not seen, at most once a minute). */
export function createOidcVerifier(settings: OidcSettings) {
  const doFetch = settings.fetch ?? fetch;
  const now = settings.now ?? Date.now;
  const tolerance = settings.clockToleranceSec ?? 60;
  let keys = new Map<string, KeyObject>();
  let fetchedAt = -Infinity;

  async function refreshKeys(): Promise<void> {
    if (now() - fetchedAt < 60_000) return;
    fetchedAt = now();
    const res = await doFetch(settings.jwksUrl, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`JWKS ${settings.jwksUrl} answered ${res.status}`);
    const body = (await res.json()) as { keys?: (JsonWebKey & { kid?: string; use?: string })[] };
    const next = new Map<string, KeyObject>();
    for (const jwk of body.keys ?? []) {
      if (jwk.kty !== 'RSA' || !jwk.kid || (jwk.use && jwk.use !== 'sig')) continue;
      try {
        next.set(jwk.kid, createPublicKey({ key: jwk, format: 'jwk' }));
      } catch {
        // skip keys node cannot read
      }
    }
    keys = next;
  }

  /** The token's claims when it is valid for this issuer and audience; TokenRejected naming why otherwise. */
  async function verifyToken(token: string): Promise<TokenClaims> {
    const parts = token.split('.');
    if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) throw new TokenRejected('not a JWT (three base64url parts)');
    const [h, p, s] = parts as [string, string, string];
    const header = b64urlJson(h, 'header');
    if (header.alg !== 'RS256') throw new TokenRejected(`unsupported algorithm ${String(header.alg)} (RS256 only)`);
    const kid = typeof header.kid === 'string' ? header.kid : '';
    if (!keys.has(kid)) await refreshKeys();
    const key = keys.get(kid);
    if (!key) throw new TokenRejected(`signed with a key the issuer does not publish (kid ${kid || 'missing'})`);
    if (!verifySignature('RSA-SHA256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url'))) throw new TokenRejected('bad signature');
    const claims = b64urlJson(p, 'payload') as Partial<TokenClaims>;
    const t = now() / 1000;
    if (claims.iss !== settings.issuer) throw new TokenRejected(`issued by ${String(claims.iss)}, not ${settings.issuer}`);
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.includes(settings.audience)) throw new TokenRejected(`meant for ${aud.join(', ')}, not ${settings.audience}`);
    if (typeof claims.exp !== 'number' || claims.exp + tolerance < t) throw new TokenRejected('expired');
    if (typeof claims.nbf === 'number' && claims.nbf - tolerance > t) throw new TokenRejected('not valid yet');
    if (typeof claims.sub !== 'string' || !claims.sub) throw new TokenRejected('names no subject');
    return claims as TokenClaims;
  }

  return { verifyToken };
}
