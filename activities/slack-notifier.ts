/**
 * The `notify` activity, spoken to Slack in Block Kit (without a bot token or a channel, notifications
 * go to the activity log and count as not delivered). Every notification is a `chat.postMessage`; an approval request carries the gate table of
 * the last analysis and Approve / Reject buttons (handled by `glidepath slack serve`, client/slack/bridge.ts);
 * once the approval is decided, times out or the rollout stops, the approval message is edited with
 * `chat.update` to show the decision and who made it, and its buttons are removed.
 *
 * The bot token lives in the worker's environment and never enters a workflow input or history. The
 * Web API base URL is configurable so tests can point it at a local fake. Delivery never fails a
 * rollout: problems are logged and reported as `delivered: false`.
 */
import { Context, log } from '@temporalio/activity';
import type { RolloutStatus, VerdictRecord } from '../domain/rollout.js';
import { formatTraffic } from '../domain/traffic.js';
import type { NotificationKind, NotifyInput, NotifyResult } from './types.js';

/** Action ids of the approval buttons; client/slack/bridge.ts matches on them (a test keeps both in step). */
export const APPROVE_ACTION_ID = 'glidepath_approve';
export const REJECT_ACTION_ID = 'glidepath_reject';

/** The value of an approval button: which rollout and which step's approval (compact JSON, ≤ 2000 chars). */
export function approvalButtonValue(workflowId: string, stepIndex: number): string {
  return JSON.stringify({ w: workflowId, s: stepIndex });
}

export interface SlackNotifierOptions {
  /** Bot token (xoxb-…) from the worker's environment; without it notifications go to the worker log. */
  token: string | undefined;
  /** Slack Web API base URL, default https://slack.com/api. */
  apiUrl?: string;
  /** Channel used when the plan names none. */
  defaultChannel?: string;
  fetch?: typeof fetch;
  /**
   * Reads the rollout's status for the gate table of an approval request. Default: the `status` query
   * through the worker's client (activity context), given as `queryStatus`; null skips the table.
   */
  lookupStatus?: (workflowId: string) => Promise<RolloutStatus | null>;
}

type Block = Record<string, unknown>;

const ICON: Record<NotificationKind, string> = {
  started: ':rocket:',
  step: ':arrow_forward:',
  verdict: ':bar_chart:',
  approval_requested: ':raising_hand:',
  approval_recorded: ':white_check_mark:',
  approval_timed_out: ':hourglass:',
  refused: ':no_entry:',
  paused: ':double_vertical_bar:',
  resumed: ':arrow_forward:',
  drift: ':warning:',
  rollback_started: ':rewind:',
  rolled_back: ':leftwards_arrow_with_hook:',
  rollback_failed: ':rotating_light:',
  promoted: ':tada:',
  retired: ':wastebasket:',
  finished: ':checkered_flag:',
};

/** The activity logger when running as an activity; silent elsewhere (`log` throws outside an activity context). */
function logger(): { info(msg: string, meta?: Record<string, unknown>): void; warn(msg: string, meta?: Record<string, unknown>): void } {
  const safe = (level: 'info' | 'warn') => (msg: string, meta?: Record<string, unknown>) => {
    try {
      log[level](msg, meta);
    } catch {
      // not inside an activity (unit tests, scripts)
    }
  };
  return { info: safe('info'), warn: safe('warn') };
}

/** Slack mrkdwn escaping (&, <, >). */
function md(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const fmtMs = (v: number | null | undefined) => (typeof v === 'number' ? `${Math.round(v)} ms` : '–');
const fmtRate = (v: number | null | undefined) => (typeof v === 'number' ? `${(v * 100).toFixed(2)}%` : '–');

/** The gate table of the last analysis with data: figures of baseline vs candidate, then each gate's finding. */
export function gateTableBlocks(verdict: VerdictRecord | undefined): Block[] {
  if (!verdict) return [{ type: 'context', elements: [{ type: 'mrkdwn', text: 'No analysis has run yet.' }] }];
  const b = verdict.snapshot?.baseline;
  const c = verdict.snapshot?.candidate;
  const mark = (s: string) => (s === 'pass' ? ':white_check_mark:' : s === 'fail' ? ':x:' : ':grey_question:');
  const lines = [
    `*Last analysis* (step ${verdict.stepIndex + 1}, #${verdict.analysis}, ${verdict.at}): ${mark(verdict.status)} *${verdict.status}*`,
    '```',
    `metric        baseline    candidate`,
    `requests      ${String(b?.requests ?? '–').padEnd(11)} ${c?.requests ?? '–'}`,
    `p99 latency   ${fmtMs(b?.latencyP99Ms).padEnd(11)} ${fmtMs(c?.latencyP99Ms)}`,
    `5xx rate      ${fmtRate(b?.errorRate).padEnd(11)} ${fmtRate(c?.errorRate)}`,
    `424 rate      ${fmtRate(b?.modelErrorRate).padEnd(11)} ${fmtRate(c?.modelErrorRate)}`,
    '```',
    ...verdict.gates.map((g) => `${mark(g.status)} \`${g.gate}\` ${md(g.reason)}`),
  ];
  return [{ type: 'section', text: { type: 'mrkdwn', text: lines.join('\n').slice(0, 2900) } }];
}

function fieldsBlock(fields: NotifyInput['fields']): Block[] {
  const entries = Object.entries(fields ?? {}).filter(([, v]) => v !== null && v !== '');
  if (entries.length === 0) return [];
  return [{ type: 'context', elements: entries.slice(0, 10).map(([k, v]) => ({ type: 'mrkdwn', text: `*${md(k)}*: ${md(String(v))}` })) }];
}

/** The Block Kit approval request: text, who may approve, the gate table, and the two buttons. */
export function approvalBlocks(input: NotifyInput, status: RolloutStatus | null): Block[] {
  const f = input.fields ?? {};
  const stepIndex = typeof f.stepIndex === 'number' ? f.stepIndex : (status?.pendingApproval?.stepIndex ?? 0);
  const value = approvalButtonValue(input.workflowId, stepIndex);
  const last = [...(status?.lastVerdicts ?? [])].reverse().find((v) => v.snapshot !== null);
  return [
    { type: 'header', text: { type: 'plain_text', text: `Approval needed: ${input.candidate} on ${input.endpoint}`.slice(0, 150) } },
    { type: 'section', text: { type: 'mrkdwn', text: md(input.text) } },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Approvers*\n${md(String(f.approvers ?? 'anyone'))}` },
        { type: 'mrkdwn', text: `*Started by*\n${md(String(f.startedBy ?? status?.startedBy ?? '?'))}${f.fourEyes ? ' (cannot approve: four-eyes)' : ''}` },
        { type: 'mrkdwn', text: `*Times out*\n${md(String(f.timeoutAt ?? '?'))}` },
        { type: 'mrkdwn', text: `*On timeout*\n${md(String(f.onTimeout ?? 'rollback'))}` },
        ...(status?.traffic ? [{ type: 'mrkdwn', text: `*Traffic*\n${md(formatTraffic(status.traffic))}` }] : []),
      ],
    },
    ...gateTableBlocks(last),
    {
      type: 'actions',
      block_id: 'glidepath_approval',
      elements: [
        { type: 'button', action_id: APPROVE_ACTION_ID, style: 'primary', text: { type: 'plain_text', text: 'Approve' }, value },
        {
          type: 'button',
          action_id: REJECT_ACTION_ID,
          style: 'danger',
          text: { type: 'plain_text', text: 'Reject' },
          value,
          confirm: {
            title: { type: 'plain_text', text: 'Reject this rollout?' },
            text: { type: 'plain_text', text: `${input.endpoint} rolls back to its baseline.` },
            confirm: { type: 'plain_text', text: 'Reject and roll back' },
            deny: { type: 'plain_text', text: 'Cancel' },
          },
        },
      ],
    },
    { type: 'context', elements: [{ type: 'mrkdwn', text: `Rollout \`${md(input.workflowId)}\`` }] },
  ];
}

/** The approval message once decided: no buttons, the decision and who made it. */
function decidedBlocks(open: OpenApproval, text: string): Block[] {
  return [
    { type: 'header', text: { type: 'plain_text', text: `Approval closed: ${open.candidate} on ${open.endpoint}`.slice(0, 150) } },
    { type: 'section', text: { type: 'mrkdwn', text: md(text) } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: `Rollout \`${md(open.workflowId)}\`, step ${open.stepIndex + 1}` }] },
  ];
}

interface OpenApproval {
  workflowId: string;
  channel: string;
  ts: string;
  stepIndex: number;
  endpoint: string;
  candidate: string;
}

/** Kinds that close an open approval message (the decision, a timeout, or the rollout stopping). */
const CLOSES_APPROVAL: ReadonlySet<NotificationKind> = new Set(['approval_recorded', 'approval_timed_out', 'rollback_started', 'rolled_back', 'rollback_failed', 'finished']);

/** The status query through the worker's own client, for the gate table (best effort, 5 s). */
async function queryStatusFromActivity(workflowId: string): Promise<RolloutStatus | null> {
  try {
    const client = Context.current().client;
    const { status } = await import('../workflows/messages.js');
    const q = client.workflow.getHandle(workflowId).query(status);
    return await Promise.race([q, new Promise<null>((r) => setTimeout(() => r(null), 5000).unref())]);
  } catch {
    return null;
  }
}

/** Creates the `notify` activity backed by Slack's Web API. */
export function createSlackNotifier(opts: SlackNotifierOptions): { notify(input: NotifyInput): Promise<NotifyResult> } {
  const doFetch = opts.fetch ?? fetch;
  const apiUrl = (opts.apiUrl ?? 'https://slack.com/api').replace(/\/$/, '');
  const lookupStatus = opts.lookupStatus ?? queryStatusFromActivity;
  // Approval messages still showing buttons, by workflow id. Per worker process: after a restart the
  // decision is still posted as a new message; the bridge also replaces the clicked message itself.
  const open = new Map<string, OpenApproval>();

  async function call(method: 'chat.postMessage' | 'chat.update', body: Record<string, unknown>): Promise<{ ok: boolean; ts?: string; channel?: string; error?: string }> {
    const response = await doFetch(`${apiUrl}/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${opts.token}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const json = (await response.json().catch(() => ({}))) as { ok?: boolean; ts?: string; channel?: string; error?: string };
    return { ...json, ok: response.ok && json.ok === true };
  }

  return {
    async notify(input: NotifyInput): Promise<NotifyResult> {
      const line = `[${input.kind}] ${input.endpoint}/${input.candidate}: ${input.text}`;
      const channel = input.channel ?? opts.defaultChannel;
      if (!opts.token || !channel) {
        logger().info(line, { workflowId: input.workflowId, fields: input.fields });
        return { delivered: false };
      }
      try {
        let delivered = true;
        const pending = open.get(input.workflowId);
        if (pending && CLOSES_APPROVAL.has(input.kind)) {
          open.delete(input.workflowId);
          const text = `${ICON[input.kind]} ${input.text}`;
          const r = await call('chat.update', { channel: pending.channel, ts: pending.ts, text, blocks: decidedBlocks(pending, text) });
          if (!r.ok) logger().warn('Slack refused to update the approval message', { error: r.error, workflowId: input.workflowId });
        }
        if (input.kind === 'approval_requested') {
          const status = await lookupStatus(input.workflowId).catch(() => null);
          const r = await call('chat.postMessage', { channel, text: `${ICON[input.kind]} ${input.text}`, blocks: approvalBlocks(input, status) });
          delivered = r.ok;
          if (r.ok && r.ts) {
            const stepIndex = typeof input.fields?.stepIndex === 'number' ? input.fields.stepIndex : (status?.pendingApproval?.stepIndex ?? 0);
            open.set(input.workflowId, { workflowId: input.workflowId, channel: r.channel ?? channel, ts: r.ts, stepIndex, endpoint: input.endpoint, candidate: input.candidate });
          } else logger().warn('Slack refused the approval request', { error: r.error, workflowId: input.workflowId });
        } else {
          const text = `${ICON[input.kind]} ${input.text}`;
          const blocks: Block[] = [
            { type: 'section', text: { type: 'mrkdwn', text: `${ICON[input.kind]} *${md(input.endpoint)}* · ${md(input.candidate)}\n${md(input.text)}` } },
            ...fieldsBlock(input.fields),
          ];
          const r = await call('chat.postMessage', { channel, text, blocks });
          delivered = r.ok;
          if (!r.ok) logger().warn('Slack refused a notification', { error: r.error, kind: input.kind });
        }
        return { delivered };
      } catch (err) {
        logger().warn('Slack notification failed', { error: (err as Error).message, kind: input.kind });
        return { delivered: false };
      }
    },
  };
}
