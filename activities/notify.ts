/**
 * `notify`: tells people what a rollout is doing, in Slack (`chat.postMessage` on the Web API, bot
 * token from the worker's environment) or, without a token or channel, in the worker's log. It never
 * fails a rollout: delivery problems are logged and reported as `delivered: false`.
 */
import { log } from '@temporalio/activity';
import type { NotifyInput, NotifyResult } from './types.js';

export interface NotifyOptions {
  slackToken: string | undefined;
  slackApiUrl: string;
  fetch?: typeof fetch;
}

function logger() {
  try {
    return log;
  } catch {
    return undefined;
  }
}

export function createNotifyActivities(opts: NotifyOptions) {
  const doFetch = opts.fetch ?? fetch;
  return {
    async notify(input: NotifyInput): Promise<NotifyResult> {
      const line = `[${input.kind}] ${input.endpoint}/${input.candidate}: ${input.text}`;
      if (!opts.slackToken || !input.channel) {
        logger()?.info(line, { workflowId: input.workflowId, fields: input.fields });
        return { delivered: false };
      }
      try {
        const response = await doFetch(`${opts.slackApiUrl.replace(/\/$/, '')}/chat.postMessage`, {
          method: 'POST',
          headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${opts.slackToken}` },
          body: JSON.stringify({ channel: input.channel, text: line }),
          signal: AbortSignal.timeout(10_000),
        });
        const body = (await response.json().catch(() => ({}))) as { ok?: boolean; error?: string };
        if (!response.ok || body.ok !== true) {
          logger()?.warn('Slack refused a notification', { status: response.status, error: body.error, kind: input.kind });
          return { delivered: false };
        }
        return { delivered: true };
      } catch (err) {
        logger()?.warn('Slack notification failed', { error: (err as Error).message, kind: input.kind });
        return { delivered: false };
      }
    },
  };
}
