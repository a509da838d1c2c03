/**
 * `callWebhookGate`: asks the plan's external gate (an evaluation service the team runs) whether the
 * candidate may go on. The request is JSON, signed by the worker with `GLIDEPATH_WEBHOOK_SECRET`
 * (`X-Glidepath-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`, `X-Glidepath-Timestamp`), so
 * the secret never enters the workflow. The answer must be `{ "status": "pass"|"fail"|"inconclusive",
 * "reason": "…" }`. Any other answer, a timeout, a 408, a 429 or a 5xx is a retryable
 * `WebhookGateFailed`; any other 4xx a non-retryable one (the request is wrong: a retry cannot help).
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { ErrorType } from '../domain/errors.js';
import { failure } from './failures.js';
import type { CallWebhookGateInput, CallWebhookGateResult } from './types.js';

const Answer = z.strictObject({
  status: z.enum(['pass', 'fail', 'inconclusive']),
  reason: z.string().max(2000).default(''),
});

export interface WebhookOptions {
  secret: string | undefined;
  fetch?: typeof fetch;
  now?: () => number;
}

/** The signature header value for a body sent at `timestampSec`. */
export function webhookSignature(secret: string, timestampSec: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestampSec}.${body}`).digest('hex')}`;
}

export function createWebhookActivities(opts: WebhookOptions) {
  const doFetch = opts.fetch ?? fetch;
  return {
    async callWebhookGate({ url, timeoutMs, rollout, snapshot }: CallWebhookGateInput): Promise<CallWebhookGateResult> {
      const body = JSON.stringify({ rollout, snapshot });
      const ts = Math.floor((opts.now ?? Date.now)() / 1000);
      const headers: Record<string, string> = { 'content-type': 'application/json', 'x-glidepath-timestamp': String(ts) };
      if (opts.secret) headers['x-glidepath-signature'] = webhookSignature(opts.secret, ts, body);
      let response: Response;
      try {
        response = await doFetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
      } catch (err) {
        throw failure(ErrorType.WebhookGateFailed, `webhook gate ${url} did not answer within ${timeoutMs} ms: ${(err as Error).message}`, { cause: err, nonRetryable: false });
      }
      const text = await response.text();
      if (!response.ok) {
        throw failure(ErrorType.WebhookGateFailed, `webhook gate ${url} answered HTTP ${response.status}: ${text.slice(0, 200)}`, {
          nonRetryable: response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429,
        });
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (err) {
        throw failure(ErrorType.WebhookGateFailed, `webhook gate ${url} answered non-JSON: ${text.slice(0, 200)}`, { cause: err, nonRetryable: false });
      }
      const parsed = Answer.safeParse(json);
      if (!parsed.success) {
        throw failure(
          ErrorType.WebhookGateFailed,
          `webhook gate ${url} answered ${text.slice(0, 200)}; expected {"status":"pass"|"fail"|"inconclusive","reason":"…"}`,
          { nonRetryable: false },
        );
      }
      return { status: parsed.data.status, reason: parsed.data.reason || `webhook says ${parsed.data.status}` };
    },
  };
}
