// Small HTTP helpers shared by the emulator's handlers: the ARM error envelope, JSON answers and
// bounded body reading.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Largest request body the emulator reads (ARM's documented request size limit is 4 MB). */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** A request the emulator refuses: answered as `{ error: { code, message, target?, details? } }` with `status`. */
export class ArmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly target?: string,
    readonly details?: { code: string; message: string; target?: string }[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ArmError';
  }

  envelope(): { error: Record<string, unknown> } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.target ? { target: this.target } : {}),
        ...(this.details ? { details: this.details } : {}),
      },
    };
  }
}

export const notFound = (what: string): ArmError =>
  new ArmError(404, 'NotFound', `The specified resource was not found: ${what}.`);

export const badArgument = (message: string, target?: string): ArmError => new ArmError(400, 'BadArgument', message, target);

/** A handler's answer. `body` undefined means no body. */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Raw text body with its own content type (used by scoring to pass the model's JSON through). */
  raw?: string;
}

export function sendReply(res: ServerResponse, reply: Reply): number {
  const headers: Record<string, string> = { ...(reply.headers ?? {}) };
  let payload: string | undefined;
  if (reply.raw !== undefined) {
    payload = reply.raw;
    headers['content-type'] ??= 'application/json; charset=utf-8';
  } else if (reply.body !== undefined) {
    payload = JSON.stringify(reply.body);
    headers['content-type'] = 'application/json; charset=utf-8';
  }
  if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
  else headers['content-length'] = '0';
  res.writeHead(reply.status, headers);
  res.end(payload);
  return payload === undefined ? 0 : Buffer.byteLength(payload);
}

export function errorReply(err: ArmError): Reply {
  return { status: err.status, body: err.envelope(), headers: err.headers };
}

/** Reads the whole body, refusing (413) anything over `limit` bytes without buffering it. */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > limit) {
      req.resume();
      reject(new ArmError(413, 'RequestEntityTooLarge', `The request body is ${declared} bytes; the limit is ${limit} bytes.`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > limit) {
        refused = true;
        reject(new ArmError(413, 'RequestEntityTooLarge', `The request body is over the limit of ${limit} bytes.`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!refused) resolve(Buffer.concat(chunks));
    });
    req.on('error', (e) => reject(e));
  });
}

/** Parses a JSON body, or refuses it with 400 InvalidRequestContent. An empty body parses to undefined. */
export function parseJson(buf: Buffer): unknown {
  if (buf.length === 0) return undefined;
  try {
    return JSON.parse(buf.toString('utf8')) as unknown;
  } catch (e) {
    throw new ArmError(400, 'InvalidRequestContent', `The request content was invalid and could not be deserialized: ${(e as Error).message}`);
  }
}

export function isoNow(now = Date.now()): string {
  return new Date(now).toISOString();
}
