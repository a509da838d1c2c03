// The emulator's self-signed certificate: made by code on first start and kept in the state dir, so
// clients can trust it (`tlsOptions: { ca }` on SDK clients, or NODE_EXTRA_CA_CERTS for other tools).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';

export interface EmulatorCertificate {
  certPem: string;
  keyPem: string;
  /** Where the certificate (which is its own CA) is kept; hand this path to clients. */
  certPath: string;
}

/** A DNS name a certificate may carry: letters, digits, hyphens and dots (e.g. a compose service name). */
export function isDnsName(name: string): boolean {
  return name.length <= 253 && /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(name);
}

/**
 * Loads the certificate from `dir`, or creates one valid for 127.0.0.1, ::1, localhost and `extraNames`
 * (DNS names, e.g. `emulator` so that containers reach it by service name). A kept certificate that
 * lacks one of `extraNames` is replaced.
 */
export async function ensureCertificate(dir: string, extraNames: readonly string[] = []): Promise<EmulatorCertificate> {
  for (const n of extraNames) if (!isDnsName(n)) throw new Error(`--san '${n}' is not a DNS name`);
  mkdirSync(dir, { recursive: true });
  const certPath = join(dir, 'ca.pem');
  const keyPath = join(dir, 'ca-key.pem');
  if (existsSync(certPath) && existsSync(keyPath)) {
    const certPem = readFileSync(certPath, 'utf8');
    const x509 = new X509Certificate(certPem);
    const names = (x509.subjectAltName ?? '').split(', ');
    const hasNames = extraNames.every((n) => names.includes(`DNS:${n}`));
    if (hasNames && new Date(x509.validTo).getTime() > Date.now() + 24 * 3600_000) return { certPem, keyPem: readFileSync(keyPath, 'utf8'), certPath };
  }
  const now = new Date();
  const result = await generate([{ name: 'commonName', value: 'Glidepath Azure ML emulator' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 3600_000),
    notAfterDate: new Date(now.getTime() + 825 * 24 * 3600_000),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
          { type: 2, value: 'localhost' },
          ...extraNames.map((value) => ({ type: 2 as const, value })),
        ],
      },
    ],
  });
  writeFileSync(keyPath, result.private, { mode: 0o600 });
  writeFileSync(certPath, result.cert);
  return { certPem: result.cert, keyPem: result.private, certPath };
}
