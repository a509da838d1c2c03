/**
 * `glidepath approvals serve`: the approvals endpoint, a trusted signer of CLI decisions
 * (client/approvals/server.ts). `glidepath approvals keygen`: a new signer key pair.
 *
 * Settings (the endpoint's environment): GLIDEPATH_OIDC_ISSUER, GLIDEPATH_OIDC_AUDIENCE,
 * GLIDEPATH_OIDC_JWKS_URL; GLIDEPATH_SIGNER_KEY or GLIDEPATH_SIGNER_KEY_FILE, GLIDEPATH_SIGNER_NAME
 * (default `approvals`); the Temporal connection like every command.
 */
import { createApprovalsServer } from '../approvals/server.js';
import { createOidcVerifier } from '../approvals/oidc.js';
import { ExitCode, InvalidInputError } from '../errors.js';
import { generateSignerKey, signerFromEnv } from '../signer.js';
import type { CommandDeps, CommandOutput } from './types.js';

export interface ApprovalsServeOptions {
  port: string;
  host: string;
}

function required(env: NodeJS.ProcessEnv, name: string, hint: string): string {
  const v = env[name]?.trim();
  if (!v) throw new InvalidInputError(`${name} is not set (${hint})`);
  return v;
}

export async function approvalsServeCommand(options: ApprovalsServeOptions, deps: CommandDeps, log: (line: string) => void): Promise<CommandOutput> {
  const issuer = required(deps.env, 'GLIDEPATH_OIDC_ISSUER', 'the token issuer, e.g. https://login.microsoftonline.com/<tenant>/v2.0');
  const audience = required(deps.env, 'GLIDEPATH_OIDC_AUDIENCE', "the audience tokens must name, e.g. the app registration's client id");
  const jwksUrl = required(deps.env, 'GLIDEPATH_OIDC_JWKS_URL', "the issuer's keys, e.g. https://login.microsoftonline.com/<tenant>/discovery/v2.0/keys");
  const signer = signerFromEnv(deps.env, 'approvals');
  if (!signer) throw new InvalidInputError('GLIDEPATH_SIGNER_KEY (or GLIDEPATH_SIGNER_KEY_FILE) is not set: the endpoint signs decisions with it (make one with glidepath approvals keygen)');
  const port = Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidInputError(`--port '${options.port}' must be 0..65535`);
  const oidc = createOidcVerifier({ issuer, audience, jwksUrl, fetch: deps.fetch });
  const gateway = await deps.gateway();
  const server = await createApprovalsServer({ verifyToken: oidc.verifyToken, signer, gateway, log: (l) => log(`${new Date().toISOString()} approvals: ${l}`) }).listen(port, options.host);
  log(`glidepath approvals serve: listening on ${server.url} (POST /v1/decisions; put TLS in front of it)`);
  log(`signing decisions as ${signer.name} (public key ${signer.publicKey}; list it in the worker's GLIDEPATH_DECISION_SIGNERS)`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  return { exitCode: ExitCode.ok, text: 'approvals endpoint stopped', json: { stopped: true } };
}

/** A new Ed25519 key pair for a signer. The secret goes to the signer's environment (a secret store), the public key to the worker's. */
export function approvalsKeygenCommand(name: string): CommandOutput {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) throw new InvalidInputError(`--name '${name}' must be 1-64 letters, digits, . _ -`);
  const { secretKey, publicKey } = generateSignerKey();
  return {
    exitCode: ExitCode.ok,
    text: [
      `# the signer's environment (keep it secret: a secret store, not a file in the repository):`,
      `GLIDEPATH_SIGNER_NAME=${name}`,
      `GLIDEPATH_SIGNER_KEY=${secretKey}`,
      `# the worker's environment (public; comma-separate several signers):`,
      `GLIDEPATH_DECISION_SIGNERS=${name}:${publicKey}`,
    ].join('\n'),
    json: { name, secretKey, publicKey, signersEntry: `${name}:${publicKey}` },
  };
}
