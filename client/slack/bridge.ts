/**
 * The Slack interactivity endpoint (`glidepath slack serve`): Slack POSTs here when someone clicks
 * Approve or Reject on an approval message the notifier posted (activities/slack-notifier.ts).
 *
 * For each request: verify the signature, the timestamp and that it is not a replay (client/slack/verify.ts);
 * parse the `block_actions` payload; acknowledge at once (Slack wants an answer within 3 seconds); then,
 * off the request: check the rollout still awaits an approval, map the Slack user to a person (their
 * profile e-mail from `users.info`; `slack:<user id>` only without one; the rule is in
 * domain/approvals.ts), sign the decision for that person when the bridge has a signing key (a trusted
 * signer, issue 13), send the `approve`/`reject` update naming the button's step, and report the
 * outcome — including a validator's refusal — to the user through `response_url`. Nothing here decides
 * who may approve or whether the button is stale: the workflow's validator does (invariants 6 and 10),
 * so a button of an older step is refused with the step the rollout awaits, even when the rollout moved
 * on between our status read and the update. The bridge only refuses what it cannot attribute.
 */
import { listenOn, type Listening } from '../http-listen.js';
import { createServer, type IncomingMessage } from 'node:http';
import { parseSlackButtonValue, slackActionDecision, slackApprover, type SlackButtonValue } from '../../domain/approvals.js';
import type { DecisionSignature } from '../../domain/decision-signature.js';
import { CliError } from '../errors.js';
import type { DecisionSigner } from '../signer.js';
import type { RolloutGateway } from '../temporal.js';
import { ReplayGuard, verifySlackRequest } from './verify.js';

export interface SlackBridgeOptions {
  signingSecret: string;
  /** Bot token, for `users.info` (e-mail of a user when the plan lists e-mails). */
  botToken: string | undefined;
  /** Slack Web API base URL (tests point it at a fake). */
  apiUrl: string;
  /** response_url must start with one of these (Slack's is https://hooks.slack.com/). */
  responseUrlPrefixes: string[];
  gateway: RolloutGateway;
  /**
   * The bridge's signing key (client/signer.ts): with it, every decision is signed for the person Slack
   * authenticated (the user's profile e-mail), so rollouts that require verified decisions accept it.
   */
  signer?: DecisionSigner;
  fetch?: typeof fetch;
  now?: () => number;
  log?: (line: string) => void;
}

/** The bridge's answer to one HTTP request, and the work it started after acknowledging. */
export interface BridgeResponse {
  status: number;
  body: string;
  /** Resolves when the click has been applied (or refused) and reported; tests await it. */
  done: Promise<ClickOutcome | undefined>;
}

/** What became of a click. */
export type ClickOutcome =
  | { applied: true; workflowId: string; decision: 'approve' | 'reject'; by: string; message: string }
  | { applied: false; workflowId: string | null; reason: string };

/** The fields of a `block_actions` payload the bridge reads, each of the type it expects. */
export interface BlockActionsPayload {
  type?: string;
  user?: { id?: string; username?: string; name?: string; team_id?: string };
  actions?: { action_id?: string; value?: string }[];
  response_url?: string;
  container?: { channel_id?: string; message_ts?: string };
}

/** Thrown when a request body is over the bridge's limit (Slack's payloads are a few KiB). */
class BodyTooLargeError extends Error {
  constructor() {
    super('body too large');
  }
}

/** The size a request body may have: Slack's interactivity payloads are a few KiB. */
export const MAX_BODY_BYTES = 256 * 1024;

/**
 * Reads the `payload` form field of a request body as Slack sends it (`application/x-www-form-urlencoded`,
 * one field holding JSON), keeping only fields of the expected types; anything else is the reason it is
 * refused. Never throws, whatever the body holds.
 */
export function readPayload(rawBody: string): BlockActionsPayload | string {
  let json: unknown;
  try {
    const field = new URLSearchParams(rawBody).get('payload');
    if (field === null) return 'expected a form field payload with JSON';
    json = JSON.parse(field);
  } catch {
    return 'expected a form field payload with JSON';
  }
  if (!isRecord(json)) return 'payload must be a JSON object';
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const user = isRecord(json.user) ? { id: str(json.user.id), username: str(json.user.username), name: str(json.user.name), team_id: str(json.user.team_id) } : undefined;
  const actions = Array.isArray(json.actions) ? json.actions.filter(isRecord).map((a) => ({ action_id: str(a.action_id), value: str(a.value) })) : undefined;
  const container = isRecord(json.container) ? { channel_id: str(json.container.channel_id), message_ts: str(json.container.message_ts) } : undefined;
  return { type: str(json.type) ?? (json.type === undefined ? undefined : `non-string ${typeof json.type}`), user, actions, response_url: str(json.response_url), container };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const done = (o?: ClickOutcome): Promise<ClickOutcome | undefined> => Promise.resolve(o);

/** Creates the bridge: `handle()` for a raw request, `listen()` to serve HTTP. */
export function createSlackBridge(options: SlackBridgeOptions) {
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => undefined);
  const replays = new ReplayGuard();
  const emailCache = new Map<string, { email: string | null; at: number }>();
  /** How long a looked-up e-mail is reused: a signer should not vouch from a stale profile for long. */
  const EMAIL_TTL_MS = 5 * 60_000;

  async function respond(responseUrl: string | undefined, body: Record<string, unknown>): Promise<void> {
    if (!responseUrl) return;
    if (!options.responseUrlPrefixes.some((p) => responseUrl.startsWith(p))) {
      log(`not posting to response_url outside ${options.responseUrlPrefixes.join(', ')}: ${responseUrl}`);
      return;
    }
    try {
      const res = await doFetch(responseUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
      if (!res.ok) log(`response_url answered ${res.status}`);
    } catch (err) {
      log(`response_url failed: ${(err as Error).message}`);
    }
  }

  /** The user's e-mail from Slack (`users.info`, scope users:read.email), or null when Slack does not know it. */
  async function emailOf(userId: string): Promise<string | null> {
    const cached = emailCache.get(userId);
    if (cached && now() - cached.at < EMAIL_TTL_MS) return cached.email;
    if (!options.botToken) return null;
    const res = await doFetch(`${options.apiUrl.replace(/\/$/, '')}/users.info?user=${encodeURIComponent(userId)}`, {
      headers: { authorization: `Bearer ${options.botToken}` },
      signal: AbortSignal.timeout(5000),
    });
    const body = (await res.json().catch(() => ({}))) as { ok?: boolean; user?: { deleted?: boolean; is_bot?: boolean; profile?: { email?: string } } };
    const email = body.ok && !body.user?.deleted && !body.user?.is_bot && body.user?.profile?.email ? body.user.profile.email : null;
    emailCache.set(userId, { email, at: now() });
    return email;
  }

  /** Applies one verified click. Never throws: every failure becomes a refusal told to the user. */
  async function apply(payload: BlockActionsPayload, decision: 'approve' | 'reject', button: SlackButtonValue): Promise<ClickOutcome> {
    const userId = payload.user?.id ?? '';
    const refuse = async (reason: string): Promise<ClickOutcome> => {
      log(`refused ${decision} from ${userId || '?'} on ${button.workflowId}: ${reason}`);
      await respond(payload.response_url, { response_type: 'ephemeral', replace_original: false, text: `:no_entry: Not applied — ${reason}` });
      return { applied: false, workflowId: button.workflowId, reason };
    };
    try {
      if (!/^[UW][A-Z0-9]{2,}$/.test(userId)) return await refuse('cannot tell who clicked: the request carries no Slack user id');
      const status = await options.gateway.status(button.workflowId);
      const pending = status.pendingApproval;
      if (!pending || status.outcome) return await refuse(`this approval is no longer pending (the rollout is at ${status.stage}: ${status.stepText})`);
      // A person is their profile e-mail (domain/approvals.ts slackApprover): four-eyes compares people.
      const email = await emailOf(userId);
      const who = slackApprover(userId, email, pending.approvers);
      if ('unknown' in who) return await refuse(`unknown Slack user ${userId}: the plan names approvers by e-mail and Slack has no e-mail for this user`);
      const by = who.by;
      // The button's step, not the awaited one: the validator refuses a stale button, naming the awaited step.
      const sent = { by, stepIndex: button.stepIndex, channel: 'slack' as const };
      let signature: DecisionSignature | undefined;
      if (options.signer) {
        // We vouch only for what Slack told us: a signed request from this user id, whose profile e-mail is `by`.
        if (!email) return await refuse(`cannot vouch for Slack user ${userId}: Slack gives no e-mail for this user (the bot needs the users:read.email scope)`);
        const { runId } = await options.gateway.describe(button.workflowId);
        signature = options.signer.sign({ workflowId: button.workflowId, runId, stepIndex: button.stepIndex, decision, person: by, channel: 'slack' });
      }
      const signed = signature ? { ...sent, signature } : sent;
      const input = decision === 'approve' ? { ...signed, comment: 'via Slack' } : { ...signed, reason: 'rejected in Slack' };
      const answer = await options.gateway.send(button.workflowId, decision, input);
      log(`${decision} from ${by} on ${button.workflowId}: ${answer.message}`);
      const verb = decision === 'approve' ? ':white_check_mark: Approved' : ':x: Rejected';
      await respond(payload.response_url, {
        replace_original: true,
        text: `${verb} by <@${userId}> (${by}): ${answer.message}`,
        blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `${verb} by <@${userId}> (\`${by}\`) — ${answer.message}` } }],
      });
      return { applied: true, workflowId: button.workflowId, decision, by, message: answer.message };
    } catch (err) {
      const reason = err instanceof CliError ? err.message.replace(/^refused: /, '') : `could not reach the rollout (${(err as Error).message.split('\n')[0]})`;
      return refuse(reason);
    }
  }

  /** Handles one request: verification and acknowledgement happen here; the click is applied in `done`. */
  function handle(req: { method: string; headers: Record<string, string | string[] | undefined>; rawBody: string }): BridgeResponse {
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    if (req.method !== 'POST') return { status: 405, body: 'POST only', done: done() };
    const verdict = verifySlackRequest({
      secret: options.signingSecret,
      timestamp: header('x-slack-request-timestamp'),
      signature: header('x-slack-signature'),
      rawBody: req.rawBody,
      nowMs: now(),
    });
    if (!verdict.ok) {
      log(`rejected request: ${verdict.reason}`);
      return { status: 401, body: verdict.reason, done: done({ applied: false, workflowId: null, reason: verdict.reason }) };
    }
    if (!replays.firstTime(header('x-slack-signature')!, now())) {
      log('rejected request: replayed');
      return { status: 401, body: 'replayed request', done: done({ applied: false, workflowId: null, reason: 'replayed request' }) };
    }
    const payload = readPayload(req.rawBody);
    if (typeof payload === 'string') return { status: 400, body: payload, done: done({ applied: false, workflowId: null, reason: 'malformed payload' }) };
    if (payload.type !== 'block_actions') return { status: 200, body: '', done: done({ applied: false, workflowId: null, reason: `ignored ${String(payload.type)} payload` }) };
    const action = payload.actions?.[0];
    const decision = slackActionDecision(action?.action_id);
    const button = parseSlackButtonValue(action?.value);
    if (!decision || !button) return { status: 200, body: '', done: done({ applied: false, workflowId: null, reason: 'not a Glidepath approval button' }) };
    // Acknowledge now; apply and report through response_url.
    return { status: 200, body: '', done: apply(payload, decision, button) };
  }

  /**
   * Reads a body up to `limit` bytes. A larger body is drained without being stored and refused with
   * 413 once the client has sent it (so it reads the answer); past 16× the limit the socket is closed.
   */
  function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= limit) chunks.push(c);
        else {
          chunks.length = 0;
          if (size > 16 * limit) {
            reject(new BodyTooLargeError());
            req.destroy();
          }
        }
      });
      req.on('end', () => (size > limit ? reject(new BodyTooLargeError()) : resolve(Buffer.concat(chunks).toString('utf8'))));
      req.on('error', reject);
    });
  }

  /** Serves the bridge over HTTP (any path; GET /healthz answers ok). */
  async function listen(port: number, host: string): Promise<Listening> {
    const server = createServer((req, res) => {
      if (req.method === 'GET' && req.url === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        return;
      }
      readBody(req).then(
        (rawBody) => {
          // Whatever a request holds, it gets an answer and the process stays up (issue 13: a signed
          // `payload=null` threw here, in a promise nobody awaited, and Node ended the process).
          let r: BridgeResponse;
          try {
            r = handle({ method: req.method ?? 'GET', headers: req.headers, rawBody });
          } catch (err) {
            log(`request failed: ${(err as Error).message}`);
            r = { status: 400, body: 'bad request', done: done() };
          }
          res.writeHead(r.status, { 'content-type': 'text/plain' }).end(r.body);
          void r.done.catch((err: unknown) => log(`click failed: ${(err as Error).message}`));
        },
        (err: unknown) => {
          const tooLarge = err instanceof BodyTooLargeError;
          if (!res.headersSent) res.writeHead(tooLarge ? 413 : 400, { 'content-type': 'text/plain', connection: 'close' });
          res.end(tooLarge ? 'body too large' : 'bad request');
        },
      );
    });
    // Malformed HTTP (bad headers, garbage on the socket) gets a 400, never an exception.
    server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
      else socket.destroy();
    });
    return listenOn(server, port, host);
  }

  return { handle, listen };
}
