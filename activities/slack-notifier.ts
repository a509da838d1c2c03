/**
 * The `notify` activity, spoken to Slack in Block Kit (without a bot token or a channel, notifications
 * go to the activity log and count as not delivered). Every notification is a `chat.postMessage`; an approval request carries the gate table of
 * the last analysis and Approve / Reject buttons (handled by `glidepath slack serve`, client/slack/bridge.ts);
 * once the approval is decided, times out or the rollout stops, the approval message is edited with
 * `chat.update` to show the decision and who made it, and its buttons are removed. What the approval
 * message shows comes in the activity's input (`approval`, built by domain/approvals.ts): the notifier
 * never queries the workflow back. The buttons' action ids and value format live in domain/approvals.ts.
 *
 * The bot token lives in the worker's environment and never enters a workflow input or history. The
 * Web API base URL is configurable so tests can point it at a local fake. Delivery never fails a
 * rollout: problems are logged and reported as `delivered: false`.
 */
import { log } from '@temporalio/activity';
import { SLACK_APPROVE_ACTION_ID, SLACK_REJECT_ACTION_ID, describeStep, slackButtonValue, type ApprovalNotice } from '../domain/approvals.js';
import { formatTraffic } from '../domain/traffic.js';
import type { NotificationKind, NotifyInput, NotifyResult } from './types.js';

export interface SlackNotifierOptions {
  /** Bot token (xoxb-…) from the worker's environment; without it notifications go to the worker log. */
  token: string | undefined;
  /** Slack Web API base URL, default https://slack.com/api. */
  apiUrl?: string;
  /** Channel used when the plan names none. */
  defaultChannel?: string;
  fetch?: typeof fetch;
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
export function gateTableBlocks(verdict: ApprovalNotice['lastAnalysis'] | undefined): Block[] {
  if (!verdict) return [{ type: 'context', elements: [{ type: 'mrkdwn', text: 'No analysis has run yet.' }] }];
  const b = verdict.baseline;
  const c = verdict.candidate;
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
    // The prediction line first: a reviewer sees how often the candidate disagrees before approving.
    ...(verdict.predictions ? [`*Predictions* (mirrored pairs): ${md(verdict.predictions)}`] : []),
    ...verdict.gates.filter((g) => !(verdict.predictions && g.gate === 'predictions')).map((g) => `${mark(g.status)} \`${g.gate}\` ${md(g.reason)}`),
  ];
  return [{ type: 'section', text: { type: 'mrkdwn', text: lines.join('\n').slice(0, 2900) } }];
}

function fieldsBlock(fields: NotifyInput['fields']): Block[] {
  const entries = Object.entries(fields ?? {}).filter(([, v]) => v !== null && v !== '');
  if (entries.length === 0) return [];
  return [{ type: 'context', elements: entries.slice(0, 10).map(([k, v]) => ({ type: 'mrkdwn', text: `*${md(k)}*: ${md(String(v))}` })) }];
}

/**
 * The approval an approval request asks for: from its `approval` input, or (a workflow that predates it)
 * from the flat fields; null when neither names the step, which leaves the message without buttons.
 */
export function requestedApproval(input: NotifyInput): ApprovalNotice | null {
  if (input.approval) return input.approval;
  const f = input.fields ?? {};
  if (typeof f.stepIndex !== 'number') return null;
  const approvers = typeof f.approvers === 'string' && f.approvers !== 'anyone' ? f.approvers.split(',').map((a) => a.trim()).filter(Boolean) : [];
  const onTimeout = f.onTimeout === 'pause' || f.onTimeout === 'proceed' ? f.onTimeout : 'rollback';
  return {
    stepIndex: f.stepIndex,
    stepText: '',
    approvers,
    timeoutAt: typeof f.timeoutAt === 'string' ? f.timeoutAt : null,
    onTimeout,
    fourEyes: f.fourEyes === true,
    startedBy: typeof f.startedBy === 'string' ? f.startedBy : '?',
    traffic: null,
    lastAnalysis: null,
  };
}

/** The Block Kit approval request: the step, who may approve, the gate table, and the two buttons (their value names this step). */
export function approvalBlocks(input: NotifyInput, a: ApprovalNotice): Block[] {
  const value = slackButtonValue(input.workflowId, a.stepIndex);
  const step = describeStep(a.stepIndex, a.stepText || undefined);
  return [
    { type: 'header', text: { type: 'plain_text', text: `Approval needed for ${step}: ${input.candidate} on ${input.endpoint}`.slice(0, 150) } },
    { type: 'section', text: { type: 'mrkdwn', text: md(input.text) } },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Step*\n${md(step)}` },
        { type: 'mrkdwn', text: `*Approvers*\n${md(a.approvers.join(', ') || 'anyone')}` },
        { type: 'mrkdwn', text: `*Started by*\n${md(a.startedBy)}${a.fourEyes ? ' (cannot approve: four-eyes)' : ''}` },
        { type: 'mrkdwn', text: `*Times out*\n${md(a.timeoutAt ?? 'no timeout running')}` },
        { type: 'mrkdwn', text: `*On timeout*\n${md(a.onTimeout)}` },
        ...(a.traffic ? [{ type: 'mrkdwn', text: `*Traffic*\n${md(formatTraffic(a.traffic))}` }] : []),
      ],
    },
    ...gateTableBlocks(a.lastAnalysis ?? undefined),
    {
      type: 'actions',
      block_id: 'glidepath_approval',
      elements: [
        { type: 'button', action_id: SLACK_APPROVE_ACTION_ID, style: 'primary', text: { type: 'plain_text', text: 'Approve' }, value },
        {
          type: 'button',
          action_id: SLACK_REJECT_ACTION_ID,
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

/** Creates the `notify` activity backed by Slack's Web API. */
export function createSlackNotifier(opts: SlackNotifierOptions): { notify(input: NotifyInput): Promise<NotifyResult> } {
  const doFetch = opts.fetch ?? fetch;
  const apiUrl = (opts.apiUrl ?? 'https://slack.com/api').replace(/\/$/, '');
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
        const approval = input.kind === 'approval_requested' ? requestedApproval(input) : null;
        if (approval) {
          const r = await call('chat.postMessage', { channel, text: `${ICON[input.kind]} ${input.text}`, blocks: approvalBlocks(input, approval) });
          delivered = r.ok;
          if (r.ok && r.ts) {
            open.set(input.workflowId, { workflowId: input.workflowId, channel: r.channel ?? channel, ts: r.ts, stepIndex: approval.stepIndex, endpoint: input.endpoint, candidate: input.candidate });
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
