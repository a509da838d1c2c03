/**
 * A local OIDC issuer for tests: an RSA key pair, its JWKS served on 127.0.0.1, and RS256 tokens with
 * any claims (and knobs to forge them: another key, another kid, alg none).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

export class FakeIssuer {
  readonly issuer = 'https://login.example.test/tenant-1/v2.0';
  readonly audience = 'api://glidepath-approvals';
  private readonly key = generateKeyPairSync('rsa', { modulusLength: 2048 });
  /** A key the issuer does not publish (a forger's). */
  private readonly otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
  readonly kid = 'key-1';
  jwksCalls = 0;
  private server: Server | undefined;
  jwksUrl = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.jwksCalls += 1;
      const jwk = this.key.publicKey.export({ format: 'jwk' });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [{ ...jwk, kid: this.kid, use: 'sig', alg: 'RS256' }] }));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.jwksUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/keys`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  /** A token for `claims` (defaults: this issuer and audience, valid for an hour from `nowMs`). */
  token(claims: Record<string, unknown>, opts: { nowMs?: number; alg?: string; kid?: string; forged?: boolean } = {}): string {
    const now = Math.floor((opts.nowMs ?? Date.now()) / 1000);
    const header = { alg: opts.alg ?? 'RS256', typ: 'JWT', kid: opts.kid ?? this.kid };
    const payload = { iss: this.issuer, aud: this.audience, iat: now, nbf: now, exp: now + 3600, ...claims };
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const data = `${enc(header)}.${enc(payload)}`;
    if (header.alg === 'none') return `${data}.`;
    const key: KeyObject = opts.forged ? this.otherKey.privateKey : this.key.privateKey;
    return `${data}.${sign('RSA-SHA256', Buffer.from(data), key).toString('base64url')}`;
  }
}
