/**
 * The CLI's side of the approvals endpoint: `glidepath rollout approve|reject` with
 * GLIDEPATH_APPROVALS_URL set sends the decision there with the caller's bearer token
 * (GLIDEPATH_APPROVALS_TOKEN); the endpoint verifies it, signs and sends the update
 * (client/approvals/server.ts). The token goes to that URL only.
 */
import { InvalidInputError, MessageRefusedError, UnreachableError } from '../errors.js';
import type { DecisionRequest } from './server.js';

/** What the endpoint answers for an accepted decision. */
export interface SignedDecisionAnswer {
  accepted: boolean;
  message: string;
  person: string;
  signer: string;
}

export async function sendThroughApprovalsEndpoint(args: { url: string; token: string | undefined; body: DecisionRequest; fetch: typeof fetch }): Promise<SignedDecisionAnswer> {
  if (!args.token?.trim()) {
    throw new InvalidInputError(
      'GLIDEPATH_APPROVALS_URL is set but GLIDEPATH_APPROVALS_TOKEN is not: set it to your OIDC / Entra ID token ' +
        '(e.g. GLIDEPATH_APPROVALS_TOKEN=$(az account get-access-token --resource <approvals app id> --query accessToken -o tsv))',
    );
  }
  if (!/^https:\/\//.test(args.url) && !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/.test(args.url)) {
    throw new InvalidInputError(`GLIDEPATH_APPROVALS_URL must be https:// (a token travels there), or http:// on this machine: ${args.url}`);
  }
  const endpoint = `${args.url.replace(/\/$/, '')}/v1/decisions`;
  let res: Response;
  try {
    res = await args.fetch(endpoint, {
      method: 'POST',
      headers: { authorization: `Bearer ${args.token.trim()}`, 'content-type': 'application/json' },
      body: JSON.stringify(args.body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new UnreachableError(`cannot reach the approvals endpoint ${endpoint}: ${(err as Error).message}`, { cause: err });
  }
  const body = (await res.json().catch(() => ({}))) as Partial<SignedDecisionAnswer> & { error?: string };
  if (res.ok && typeof body.message === 'string') return body as SignedDecisionAnswer;
  const why = body.error ?? `answered ${res.status}`;
  if (res.status === 409) throw new MessageRefusedError(why);
  if (res.status === 400 || res.status === 401 || res.status === 403 || res.status === 404) throw new InvalidInputError(`the approvals endpoint refused: ${why}`);
  throw new UnreachableError(`the approvals endpoint failed (${res.status}): ${why}`);
}
