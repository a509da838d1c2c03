/**
 * A local fake of Slack's Web API (chat.postMessage, chat.update, users.info) and of response_url
 * endpoints: real HTTP on 127.0.0.1, every call recorded, the bot token checked, and the payload
 * shape checked the way Slack does (channel, text, well-formed blocks) — a bad call gets
 * `{ok:false, error}` like the real API.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedCall {
  method: string;
  path: string;
  authorization: string | undefined;
  body: Record<string, unknown>;
  answer: Record<string, unknown>;
}

const BLOCK_TYPES = new Set(['section', 'header', 'actions', 'context', 'divider']);

/** Why Slack would refuse these blocks, or undefined. */
export function blocksProblem(blocks: unknown): string | undefined {
  if (blocks === undefined) return undefined;
  if (!Array.isArray(blocks) || blocks.length > 50) return 'invalid_blocks_format';
  for (const b of blocks as Record<string, unknown>[]) {
    if (!BLOCK_TYPES.has(String(b.type))) return 'invalid_blocks';
    if (b.type === 'header' && (b.text as { type?: string })?.type !== 'plain_text') return 'invalid_blocks';
    if (b.type === 'section' && !b.text && !b.fields) return 'invalid_blocks';
    if (b.type === 'section' && b.text && String((b.text as { text?: string }).text ?? '').length > 3000) return 'invalid_blocks';
    if (b.type === 'actions') {
      for (const e of (b.elements as Record<string, unknown>[]) ?? []) {
        if (e.type !== 'button' || typeof e.action_id !== 'string' || String(e.value ?? '').length > 2000) return 'invalid_blocks';
      }
    }
  }
  return undefined;
}

export class FakeSlack {
  readonly calls: RecordedCall[] = [];
  /** users.info answers: user id → e-mail (missing → user_not_found). */
  readonly users = new Map<string, string>();
  private server: Server | undefined;
  url = '';
  private seq = 0;

  constructor(readonly token = 'xoxb-test-token') {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const url = new URL(req.url ?? '/', 'http://x');
        let body: Record<string, unknown> = {};
        try {
          body = raw ? (JSON.parse(raw) as Record<string, unknown>) : Object.fromEntries(url.searchParams);
        } catch {
          body = { raw };
        }
        const answer = this.answer(url.pathname, req.headers.authorization, body, url);
        this.calls.push({ method: req.method ?? 'GET', path: url.pathname, authorization: req.headers.authorization, body, answer });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  get apiUrl(): string {
    return `${this.url}/api`;
  }

  /** A response_url for one click. */
  responseUrl(id = 'r1'): string {
    return `${this.url}/actions/T0001/${id}/secret`;
  }

  private answer(path: string, auth: string | undefined, body: Record<string, unknown>, url: URL): Record<string, unknown> {
    if (path.startsWith('/actions/')) return { ok: true };
    if (auth !== `Bearer ${this.token}`) return { ok: false, error: auth ? 'invalid_auth' : 'not_authed' };
    switch (path) {
      case '/api/chat.postMessage': {
        if (typeof body.channel !== 'string' || !body.channel) return { ok: false, error: 'channel_not_found' };
        if (typeof body.text !== 'string' && !body.blocks) return { ok: false, error: 'no_text' };
        const bad = blocksProblem(body.blocks);
        if (bad) return { ok: false, error: bad };
        this.seq += 1;
        return { ok: true, channel: body.channel, ts: `1764057600.${String(this.seq).padStart(6, '0')}` };
      }
      case '/api/chat.update': {
        if (typeof body.channel !== 'string' || typeof body.ts !== 'string') return { ok: false, error: 'message_not_found' };
        const bad = blocksProblem(body.blocks);
        if (bad) return { ok: false, error: bad };
        return { ok: true, channel: body.channel, ts: body.ts };
      }
      case '/api/users.info': {
        const id = url.searchParams.get('user') ?? '';
        const email = this.users.get(id);
        return email ? { ok: true, user: { id, deleted: false, is_bot: false, profile: { email } } } : { ok: false, error: 'user_not_found' };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  callsTo(path: string): RecordedCall[] {
    return this.calls.filter((c) => c.path === path || (path === '/actions/' && c.path.startsWith('/actions/')));
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
