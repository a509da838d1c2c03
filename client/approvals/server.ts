/**
 * The approvals endpoint (`glidepath approvals serve`): a trusted signer of decisions for people who
 * decide from the CLI (issue 13). `glidepath rollout approve|reject` with `GLIDEPATH_APPROVALS_URL`
 * set POSTs here with the caller's OIDC / Entra ID bearer token; the endpoint verifies the token
 * (client/approvals/oidc.ts), takes the person from it (e-mail, else `oidc:<sub>`), signs the decision
 * with its own key (client/signer.ts) and sends the update itself — so the person never holds a
 * signing key, the token never leaves this process (not stored, not logged, not in any workflow input),
 * and the CLI gets the workflow's answer or its refusal.
 *
 *   POST /v1/decisions   Authorization: Bearer <token>
 *   { "workflowId": "…", "decision": "approve" | "reject", "stepIndex": 2, "comment"?: "…", "reason"?: "…", "as"?: "alice@contoso.com" }
 *   200 { accepted, message, person, signer }   400 bad request   401 token refused   409 refused by the rollout   502 Temporal unreachable
 */
import { listenOn, type Listening } from '../http-listen.js';
import { createServer, type IncomingMessage } from 'node:http';
import { samePerson } from '../../domain/approvals.js';
import { CliError, MessageRefusedError } from '../errors.js';
import type { DecisionSigner } from '../signer.js';
import type { RolloutGateway } from '../temporal.js';
import { personFromClaims, TokenRejected, type TokenClaims } from './oidc.js';

export interface ApprovalsServerOptions {
  verifyToken(token: string): Promise<TokenClaims>;
  signer: DecisionSigner;
  gateway: RolloutGateway;
  log?: (line: string) => void;
}

/** A request body the endpoint accepts. */
export interface DecisionRequest {
  workflowId: string;
  /** `resume`: resume a pause that holds a gate (stepIndex: the step the rollout holds at). */
  decision: 'approve' | 'reject' | 'resume';
  stepIndex: number;
  comment?: string;
  reason?: string;
  /** Who the caller thinks they are (`--as`): refused when the token names someone else. */
  as?: string;
}

/** The endpoint's answer to one request. */
export interface ApprovalsResponse {
  status: number;
  body: Record<string, unknown>;
}

function parseRequest(raw: string): DecisionRequest | string {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return 'the body must be JSON';
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return 'the body must be a JSON object';
  const b = v as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => !['workflowId', 'decision', 'stepIndex', 'comment', 'reason', 'as'].includes(k));
  if (unknown.length) return `unknown fields: ${unknown.join(', ')}`;
  if (typeof b.workflowId !== 'string' || !b.workflowId || b.workflowId.length > 1000) return 'workflowId: must name the rollout';
  if (b.decision !== 'approve' && b.decision !== 'reject' && b.decision !== 'resume') return 'decision: must be approve, reject or resume';
  if (!Number.isInteger(b.stepIndex) || (b.stepIndex as number) < 0 || (b.stepIndex as number) > 10_000) return 'stepIndex: must be the 0-based step awaiting approval';
  for (const k of ['comment', 'reason', 'as'] as const) if (b[k] !== undefined && (typeof b[k] !== 'string' || (b[k] as string).length > 500)) return `${k}: must be text of at most 500 characters`;
  return b as unknown as DecisionRequest;
}

/** Creates the endpoint: `handle()` for one request, `listen()` to serve HTTP. */
export function createApprovalsServer(options: ApprovalsServerOptions) {
  const log = options.log ?? (() => undefined);

  async function handle(req: { method: string; path: string; authorization: string | undefined; rawBody: string }): Promise<ApprovalsResponse> {
    if (req.method !== 'POST' || req.path !== '/v1/decisions') return { status: 404, body: { error: 'POST /v1/decisions' } };
    const m = /^Bearer\s+(\S+)$/i.exec(req.authorization ?? '');
    if (!m) return { status: 401, body: { error: 'send your OIDC / Entra ID token: Authorization: Bearer <token>' } };
    let claims: TokenClaims;
    try {
      claims = await options.verifyToken(m[1]!);
    } catch (err) {
      const why = err instanceof TokenRejected ? err.message : `cannot check the token now (${(err as Error).message})`;
      log(`refused a token: ${why}`);
      return { status: err instanceof TokenRejected ? 401 : 503, body: { error: `token refused: ${why}` } };
    }
    const person = personFromClaims(claims);
    const parsed = parseRequest(req.rawBody);
    if (typeof parsed === 'string') return { status: 400, body: { error: parsed } };
    if (parsed.as && !samePerson(parsed.as, person)) {
      return { status: 403, body: { error: `your token authenticates ${person}, not ${parsed.as}: decide as yourself (drop --as, or use the identity your token names)` } };
    }
    try {
      const { runId } = await options.gateway.describe(parsed.workflowId);
      const signature = options.signer.sign({ workflowId: parsed.workflowId, runId, stepIndex: parsed.stepIndex, decision: parsed.decision, person, channel: 'cli' });
      const note = parsed.decision === 'reject' ? { reason: parsed.reason ?? parsed.comment } : { comment: parsed.comment ?? parsed.reason };
      const answer = await options.gateway.send(parsed.workflowId, parsed.decision, { by: person, stepIndex: parsed.stepIndex, channel: 'cli', ...note, signature });
      log(`${parsed.decision} by ${person} on ${parsed.workflowId} step ${parsed.stepIndex + 1}: ${answer.message}`);
      return { status: 200, body: { accepted: answer.accepted, message: answer.message, person, signer: options.signer.name } };
    } catch (err) {
      if (err instanceof MessageRefusedError) return { status: 409, body: { error: err.message.replace(/^refused: /, ''), person } };
      if (err instanceof CliError) return { status: err.exitCode === 2 ? 404 : 502, body: { error: err.message, person } };
      log(`failed: ${(err as Error).message}`);
      return { status: 502, body: { error: `could not reach the rollout: ${(err as Error).message.split('\n')[0]}`, person } };
    }
  }

  function readBody(req: IncomingMessage, limit = 64 * 1024): Promise<string> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > limit) {
          reject(new Error('body too large'));
          req.destroy();
        } else chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });
  }

  /** Serves the endpoint over HTTP (GET /healthz answers ok). Put TLS in front of it (a token travels here). */
  async function listen(port: number, host: string): Promise<Listening> {
    const server = createServer((req, res) => {
      if (req.method === 'GET' && req.url === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        return;
      }
      readBody(req)
        .then((rawBody) => handle({ method: req.method ?? 'GET', path: (req.url ?? '/').split('?')[0]!, authorization: req.headers.authorization, rawBody }))
        .then(
          (r) => res.writeHead(r.status, { 'content-type': 'application/json', ...(r.status === 401 ? { 'www-authenticate': 'Bearer' } : {}) }).end(JSON.stringify(r.body)),
          (err: unknown) => {
            const tooLarge = (err as Error).message === 'body too large';
            if (!res.headersSent) res.writeHead(tooLarge ? 413 : 500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: tooLarge ? 'body too large' : 'internal error' }));
          },
        );
    });
    return listenOn(server, port, host);
  }

  return { handle, listen };
}
