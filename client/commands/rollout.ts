/**
 * `glidepath rollout start|status|watch|approve|reject|pause|resume|abort|list`: commands as functions
 * `(options, deps) → CommandOutput`. They throw the CLI's errors (client/errors.ts); client/cli.ts maps
 * them to exit codes.
 */
import { sendThroughApprovalsEndpoint } from '../approvals/client.js';
import { hostname, userInfo } from 'node:os';
import { modelLabel } from '../../domain/deployment-spec.js';
import { ErrorType } from '../../domain/errors.js';
import { formatPlanIssue, parsePlan, type RolloutPlan } from '../../domain/plan.js';
import type { MessageAccepted, RolloutStatus, SafeRolloutResult } from '../../domain/rollout.js';
import { formatTraffic } from '../../domain/traffic.js';
import { endpointRefOf } from '../../domain/ids.js';
import { CliError, ExitCode, InvalidInputError, MessageRefusedError, NoWorkerError, RolloutNotFoundError } from '../errors.js';
import { checkAssetsRegistered, checkPolicies, loadPlan, type LoadedPlan } from '../plan-file.js';
import { describeAsset, describeEnvironment, maxAssetFileBytes, readInlineEnvironment, readLocalAssets, registerAssets, registerEnvironment, withAssetIds, type ResolvedAsset } from '../assets.js';
import { decisionCommand, describeStep } from '../../domain/approvals.js';
import { finalEvidenceLines, formatDecision, formatProgress, formatStatus, pendingApprovalView, progressKey } from '../progress.js';
import { oneLine } from '../sanitize.js';
import { isRolloutId, type RolloutEnd, type RolloutGateway, type RolloutMessage, type RolloutSummary } from '../temporal.js';
import type { CommandDeps, CommandOutput } from './types.js';

/** Who a command acts as: `--as`, else $GLIDEPATH_AS, else user@host. */
export function actor(as: string | undefined, env: NodeJS.ProcessEnv): string {
  if (as !== undefined) {
    if (as.trim() === '') throw new InvalidInputError('--as must name who you are (an e-mail address or slack:<user id>)');
    return as.trim();
  }
  if (env.GLIDEPATH_AS) return env.GLIDEPATH_AS;
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers): keep 'unknown'
  }
  return `${user}@${hostname()}`;
}

/** `--workspace` / `--subscription`: which of several endpoints with one name a command means. */
export interface RolloutPick {
  workspace?: string | undefined;
  subscription?: string | undefined;
}

/**
 * Turns `<rollout-id|endpoint>` into a workflow id: an id as is; an endpoint name → its one running
 * rollout (else its newest). Endpoint names repeat across workspaces and subscriptions (dev, staging and
 * prod), so when the name (narrowed by `pick`) fits more than one endpoint this refuses (exit 2) and lists
 * each with the flags or the full id that picks it: a message must never reach the wrong environment.
 */
export async function resolveRollout(target: string, gateway: RolloutGateway, pick: RolloutPick = {}): Promise<string> {
  if (isRolloutId(target)) return target;
  if (!/^[A-Za-z][A-Za-z0-9-]{1,31}$/.test(target)) {
    throw new InvalidInputError(`'${target}' is neither a rollout id (glidepath-rollout:/subscriptions/…) nor an endpoint name`);
  }
  const found = (await gateway.list({ endpoint: target, limit: 100 })).filter((r) => {
    const ref = endpointRefOf(r.workflowId);
    if (pick.workspace && ref?.workspace.toLowerCase() !== pick.workspace.toLowerCase()) return false;
    if (pick.subscription && ref?.subscriptionId.toLowerCase() !== pick.subscription.toLowerCase()) return false;
    return true;
  });
  const running = found.filter((r) => r.execution === 'RUNNING');
  const pool = running.length ? running : found;
  const ids = [...new Set(pool.map((r) => r.workflowId))];
  if (ids.length === 0) {
    const narrowed = [pick.workspace && `workspace ${pick.workspace}`, pick.subscription && `subscription ${pick.subscription}`].filter(Boolean).join(', ');
    throw new RolloutNotFoundError(`endpoint ${target}${narrowed ? ` in ${narrowed}` : ''}`);
  }
  if (ids.length > 1) {
    const refs = ids.map((id) => ({ id, ref: endpointRefOf(id) }));
    const workspaces = new Set(refs.map((r) => r.ref?.workspace));
    const lines = refs.map(({ id, ref }) => {
      const unique = ref && refs.filter((o) => o.ref?.workspace === ref.workspace).length === 1;
      const flags = !ref ? null : unique ? `--workspace ${ref.workspace}` : `--workspace ${ref.workspace} --subscription ${ref.subscriptionId}`;
      return `${flags ? `${flags}  or  ` : ''}'${id}'`;
    });
    throw new InvalidInputError(
      `endpoint name ${target} names ${ids.length} ${running.length ? 'running ' : ''}rollouts (${workspaces.size} workspace${workspaces.size === 1 ? '' : 's'}): say which with a flag or the full id`,
      lines,
    );
  }
  return ids[0]!;
}

/** How long `requireWorker` keeps asking before it believes no worker polls (a worker that has just started may not have polled yet). */
export const NO_WORKER_GRACE_MS = 5_000;
const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Refuses (exit 3, naming the queue) when no worker polls the task queue a running rollout's workflow
 * tasks go to: its status query, its messages and its progress would otherwise wait for nobody. Asks
 * Temporal once a second for NO_WORKER_GRACE_MS before it concludes, well inside the 15 s a person waits.
 */
export async function requireWorker(summary: RolloutSummary, gateway: RolloutGateway, sleep: (ms: number) => Promise<void> = realSleep): Promise<void> {
  if (summary.execution !== 'RUNNING') return;
  for (let waited = 0; ; waited += 1_000) {
    const { taskQueue, pollers } = await gateway.workflowPollers(summary.taskQueue);
    if (pollers === null || pollers > 0) return; // null: the server cannot say, so the query will tell
    if (waited >= NO_WORKER_GRACE_MS) throw new NoWorkerError(taskQueue);
    await sleep(1_000);
  }
}

/** How a rollout's end maps onto the exit-code contract. */
export function exitCodeOf(end: RolloutEnd): ExitCode {
  if (end.kind === 'result') return end.result.outcome === 'promoted' ? ExitCode.ok : ExitCode.notPromoted;
  return end.errorType === ErrorType.InvalidPlan ? ExitCode.invalidInput : ExitCode.notPromoted;
}

function describeEnd(end: RolloutEnd): string {
  if (end.kind === 'result') {
    const r = end.result;
    const lines = [`Rollout ${r.outcome}: ${oneLine(r.reason)}`];
    if (r.rollback) {
      lines.push(
        r.rollback.confirmed
          ? `  rollback confirmed: ${r.rollback.traffic ? oneLine(formatTraffic(r.rollback.traffic)) : 'baseline restored'}${r.rollback.candidateDeleted ? '; candidate deleted' : ''}`
          : `  ROLLBACK NOT CONFIRMED: ${oneLine(r.rollback.errors.join('; '))}`,
      );
    }
    for (const a of r.approvals) lines.push(`  ${formatDecision(a)}`);
    return lines.join('\n');
  }
  const line = `Rollout ${end.execution.toLowerCase()}${end.errorType ? ` (${oneLine(end.errorType)})` : ''}: ${oneLine(end.message)}`;
  return end.leftMidRollout ? `${line}\n  WARNING ${oneLine(end.leftMidRollout)}` : line;
}

function endJson(workflowId: string, end: RolloutEnd): Record<string, unknown> {
  return end.kind === 'result'
    ? { workflowId, finished: true, outcome: end.result.outcome, reason: end.result.reason, result: end.result }
    : { workflowId, finished: true, outcome: 'failed', reason: end.message, errorType: end.errorType, execution: end.execution, ...(end.leftMidRollout ? { leftMidRollout: end.leftMidRollout } : {}) };
}

/** How many polls in a row may fail to reach Temporal before `--wait`/`watch` gives up with exit 3. */
export const MAX_UNREACHABLE_POLLS = 30;

/** How `follow` polls, and what it does with each status it reads. */
export interface FollowOptions {
  /** Give up after this long (exit 4; the rollout keeps running); null waits for the end. */
  timeoutMs: number | null;
  pollMs: number;
  /**
   * Called with every status read, after its progress line (the demo's simulated reviewer approves
   * here). It may send messages; its errors end the follow, except a lost connection, which is ridden out.
   */
  onStatus?(status: RolloutStatus): Promise<void>;
}

/**
 * Prints progress until the rollout ends (or `timeoutMs` passes: exit 4, the rollout keeps running).
 * A CI job may wait for hours, so a short loss of the Temporal connection is ridden out: only
 * MAX_UNREACHABLE_POLLS failed polls in a row end the wait with exit 3. Used by `--wait`, `watch` and the demo.
 */
export async function follow(
  workflowId: string,
  plan: RolloutPlan | null,
  opts: FollowOptions,
  gateway: RolloutGateway,
  deps: Pick<CommandDeps, 'now' | 'sleep' | 'progress'>,
): Promise<RolloutEnd> {
  const start = deps.now();
  let lastKey = '';
  let failures = 0;
  let workerSeen = false;
  let lastTaskQueue: string | undefined;
  for (;;) {
    try {
      const d = await gateway.describe(workflowId);
      if (d.execution !== 'RUNNING') return await gateway.outcome(workflowId);
      lastTaskQueue = d.taskQueue;
      if (!workerSeen) {
        // Once, before the first status query: no worker means nothing will answer it, however long we wait.
        await requireWorker(d, gateway, deps.sleep);
        workerSeen = true;
      }
      let status: RolloutStatus | undefined;
      try {
        status = await gateway.status(workflowId);
      } catch (err) {
        if (err instanceof CliError && err.exitCode === ExitCode.unreachable) throw err;
        // other query errors: the query can race the end of the run; the next describe tells
      }
      if (status) {
        const key = progressKey(status);
        if (key !== lastKey) {
          lastKey = key;
          deps.progress(formatProgress(status, plan, deps.now()));
        }
        await opts.onStatus?.(status);
      }
      failures = 0;
    } catch (err) {
      if (!(err instanceof CliError && err.exitCode === ExitCode.unreachable) || err instanceof NoWorkerError) throw err;
      // A status query nobody answers may mean the worker went away mid-follow: say so, not "lost Temporal".
      await gateway
        .workflowPollers(lastTaskQueue)
        .then((p) => {
          if (p.pollers === 0) throw new NoWorkerError(p.taskQueue);
        }, () => undefined);
      failures += 1;
      if (failures >= MAX_UNREACHABLE_POLLS) throw err;
      if (failures === 1) deps.progress(`${new Date(deps.now()).toISOString().slice(11, 19)} lost Temporal (${err.message}); retrying — the rollout carries on without us`);
    }
    if (opts.timeoutMs !== null && deps.now() - start >= opts.timeoutMs) {
      throw new CliError(
        `--wait timed out after ${Math.round(opts.timeoutMs / 1000)}s; the rollout ${workflowId} is still running (follow it with: glidepath rollout watch '${workflowId}')`,
        ExitCode.waitTimedOut,
      );
    }
    await deps.sleep(opts.pollMs);
  }
}

// ───────────────────────────── start ─────────────────────────────

/**
 * Uploads and registers the plan's local code folder and model path (client/assets.ts) and returns the
 * plan with their ARM ids in place of the paths, so no local path reaches the workflow input.
 */
export async function resolveLocalAssets(loaded: LoadedPlan, deps: Pick<CommandDeps, 'assetTarget' | 'progress' | 'uploadProgress' | 'env'>): Promise<LoadedPlan & { assetLines: string[]; assets: ResolvedAsset[] }> {
  const local = await readLocalAssets(loaded.plan.candidate.deployment, loaded.baseDir, maxAssetFileBytes(deps.env));
  const env = await readInlineEnvironment(loaded.plan.candidate.deployment, loaded.baseDir);
  if (local.length === 0 && !env) return { ...loaded, assetLines: [], assets: [] };
  if (!deps.assetTarget) throw new InvalidInputError(`${loaded.source}: the candidate names local assets to upload, and this glidepath has no workspace to upload them to`);
  const target = await deps.assetTarget(loaded.plan);
  const assets = await registerAssets({ ...target, progress: deps.progress, ...(deps.uploadProgress ? { uploadProgress: deps.uploadProgress } : {}) }, local);
  const envAsset = env ? await registerEnvironment(target, env) : undefined;
  const doc = loaded.document as unknown as { candidate: { deployment: Record<string, unknown> } };
  const document = { ...loaded.document, candidate: { ...doc.candidate, deployment: withAssetIds(doc.candidate.deployment, envAsset ? [...assets, envAsset] : assets) } } as typeof loaded.document;
  const parsed = parsePlan(document);
  if (!parsed.ok) throw new InvalidInputError(`${loaded.source}: the plan with its registered asset ids is not valid: ${parsed.issues.map(formatPlanIssue).join('; ')}`);
  const lines = local.map((a, i) => describeAsset(a, assets[i]));
  if (env && envAsset) lines.push(describeEnvironment(env, envAsset));
  return { ...loaded, document, plan: parsed.plan, assetLines: lines, assets: envAsset ? [...assets, envAsset] : assets };
}

export interface StartOptions {
  path: string;
  sets: string[];
  wait: boolean;
  timeoutMs: number | null;
  as: string | undefined;
  pollMs: number;
}

/**
 * Starts a rollout (and with `--wait` follows it: 0 promoted, 1 not promoted, 4 timed out). A plan that
 * breaks its own policies is refused here (exit 2), before Temporal is contacted, as preflight would.
 */
export async function rolloutStart(options: StartOptions, deps: CommandDeps): Promise<CommandOutput> {
  const loaded = await loadPlan(options.path, options.sets, deps.files);
  checkPolicies(loaded);
  checkAssetsRegistered(loaded, { uploadsLocal: true });
  const { plan, document, source, assetLines, assets } = await resolveLocalAssets(loaded, deps);
  const startedBy = actor(options.as, deps.env);
  const gateway = await deps.gateway();
  const { workflowId, runId } = await gateway.start({ plan, document, startedBy });
  const started = { workflowId, runId, endpoint: plan.target.endpoint, candidate: plan.candidate.name, model: modelLabel(plan.candidate.deployment), startedBy, source, ...(assets.length ? { assets } : {}) };
  const intro = `${assetLines.map((l) => `${l}\n`).join('')}Started rollout of ${plan.candidate.name} (${modelLabel(plan.candidate.deployment)}) on ${plan.target.endpoint} as ${startedBy}\n  id: ${workflowId}`;
  if (!options.wait) {
    return { exitCode: ExitCode.ok, text: `${intro}\n  follow: glidepath rollout watch '${workflowId}'`, json: { ...started, finished: false } };
  }
  deps.progress(intro);
  const end = await follow(workflowId, plan, { timeoutMs: options.timeoutMs, pollMs: options.pollMs }, gateway, deps);
  return { exitCode: exitCodeOf(end), text: describeEnd(end), json: { ...started, ...endJson(workflowId, end) } };
}

// ───────────────────────────── status / watch ─────────────────────────────

export interface StatusOptions {
  target: string;
  pick?: RolloutPick;
}

/** What `status --json` prints: Temporal's view, the workflow's own status, and the result once finished. */
export interface StatusView {
  rollout: RolloutSummary;
  status: RolloutStatus | null;
  result: SafeRolloutResult | null;
  failure: { errorType: string | null; message: string; leftMidRollout?: string } | null;
  /** The approval the rollout awaits: its step and the commands that decide it; null when none. */
  pendingApproval: ReturnType<typeof pendingApprovalView> | null;
}

async function planOf(workflowId: string, gateway: RolloutGateway): Promise<RolloutPlan | null> {
  const input = await gateway.input(workflowId).catch(() => null);
  if (!input) return null;
  const p = parsePlan(input.plan);
  return p.ok ? p.plan : null;
}

/** Reads a rollout's status: the `status` query while it runs, its result (or failure) once it ended. */
export async function readStatusView(workflowId: string, gateway: RolloutGateway, sleep?: (ms: number) => Promise<void>): Promise<StatusView> {
  const rollout = await gateway.describe(workflowId);
  if (rollout.execution === 'RUNNING') {
    await requireWorker(rollout, gateway, sleep);
    const status = await gateway.status(workflowId);
    return { rollout, status, result: null, failure: null, pendingApproval: status.pendingApproval ? pendingApprovalView(workflowId, status.pendingApproval) : null };
  }
  const end = await gateway.outcome(workflowId);
  if (end.kind === 'result') return { rollout, status: null, result: end.result, failure: null, pendingApproval: null };
  let status: RolloutStatus | null = null;
  try {
    status = await gateway.status(workflowId); // needs a worker; a courtesy for failed runs
  } catch {
    status = null;
  }
  return { rollout, status, result: null, failure: { errorType: end.errorType, message: end.message, ...(end.leftMidRollout ? { leftMidRollout: end.leftMidRollout } : {}) }, pendingApproval: null };
}

export async function rolloutStatus(options: StatusOptions, deps: CommandDeps): Promise<CommandOutput> {
  const gateway = await deps.gateway();
  const workflowId = await resolveRollout(options.target, gateway, options.pick);
  const view = await readStatusView(workflowId, gateway, deps.sleep);
  let text: string;
  if (view.status && view.rollout.execution === 'RUNNING') {
    text = formatStatus(view.status, await planOf(workflowId, gateway), deps.now());
  } else if (view.result) {
    const r = view.result;
    text = [
      `Rollout ${workflowId}`,
      `  endpoint   ${oneLine(r.endpoint)} (baseline ${oneLine(r.baseline ?? '-')}, candidate ${oneLine(r.candidate)})`,
      `  started    ${r.startedAt} by ${oneLine(r.startedBy)}; finished ${r.finishedAt}`,
      `  outcome    ${r.outcome}: ${oneLine(r.reason)}`,
      ...finalEvidenceLines(r.verdicts),
      ...r.approvals.map((a) => `  decision   ${formatDecision(a)}`),
    ].join('\n');
  } else {
    text = `Rollout ${workflowId}\n  ${view.rollout.execution.toLowerCase()}${view.failure?.errorType ? ` (${oneLine(view.failure.errorType)})` : ''}: ${oneLine(view.failure?.message ?? '')}`;
    if (view.failure?.leftMidRollout) text += `\n  WARNING ${oneLine(view.failure.leftMidRollout)}`;
  }
  return { exitCode: ExitCode.ok, text, json: view };
}

export interface WatchOptions {
  target: string;
  pick?: RolloutPick;
  timeoutMs: number | null;
  pollMs: number;
}

/** Follows a rollout until it ends: exit 0 promoted, 1 not promoted, 4 when `--timeout` passes first. */
export async function rolloutWatch(options: WatchOptions, deps: CommandDeps): Promise<CommandOutput> {
  const gateway = await deps.gateway();
  const workflowId = await resolveRollout(options.target, gateway, options.pick);
  const plan = await planOf(workflowId, gateway);
  deps.progress(`Watching ${workflowId}`);
  const end = await follow(workflowId, plan, { timeoutMs: options.timeoutMs, pollMs: options.pollMs }, gateway, deps);
  return { exitCode: exitCodeOf(end), text: describeEnd(end), json: endJson(workflowId, end) };
}

// ───────────────────────────── messages ─────────────────────────────

export interface MessageOptions {
  target: string;
  pick?: RolloutPick;
  message: RolloutMessage;
  as: string | undefined;
  comment: string | undefined;
  reason: string | undefined;
  /** approve/reject: the step decided, 1-based as `rollout status` shows it (`--step`). */
  step?: number | undefined;
}

/**
 * Why an approve/reject without `--step` is refused, naming the awaited step and the command that
 * decides it. The CLI never fills in the awaited step itself: a decision typed a moment late would
 * then approve the *next* approval (invariant 10).
 */
async function missingStep(verb: 'approve' | 'reject', target: string, by: string, workflowId: string, gateway: RolloutGateway): Promise<InvalidInputError> {
  const status = await gateway.status(workflowId).catch(() => null);
  const p = status?.pendingApproval;
  const lead = `rollout ${verb} needs --step N, the step you decide as rollout status shows it`;
  if (!p) {
    return new InvalidInputError(status ? `${lead}; no approval is awaited now (the rollout is at ${status.stage}: ${status.stepText})` : `${lead} (see glidepath rollout status ${target})`);
  }
  const command = decisionCommand(verb, p, shellWord(target)).replace('<who>', shellWord(by));
  return new InvalidInputError(`${lead}: the rollout awaits ${describeStep(p.stepIndex, p.stepText)}; to ${verb} it: ${command}`);
}

/** A word as a shell reads it back: bare when safe, else single-quoted. */
function shellWord(text: string): string {
  return /^[A-Za-z0-9@%+=:,./_-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Sends approve/reject/abort/pause/resume as an update; a validator's refusal is exit 2 with its reason. */
export async function rolloutMessage(options: MessageOptions, deps: CommandDeps): Promise<CommandOutput> {
  const decides = options.message === 'approve' || options.message === 'reject';
  // Through the approvals endpoint the token names the person (issue 13); --as is then only a check.
  // A resume may accept a gate (a decision): with an approvals endpoint it is signed too.
  const approvalsUrl = decides || options.message === 'resume' ? deps.env.GLIDEPATH_APPROVALS_URL?.trim() : undefined;
  if (!approvalsUrl && (options.as === undefined || options.as.trim() === '')) {
    throw new InvalidInputError(`rollout ${options.message} needs --as <who> (an e-mail address or slack:<user id>): approvals and stops are recorded with a name`);
  }
  if (!decides && options.step !== undefined) throw new InvalidInputError(`--step is for approve and reject only, not ${options.message}`);
  const by = options.as?.trim() || '<you>';
  const gateway = await deps.gateway();
  const workflowId = await resolveRollout(options.target, gateway, options.pick);
  const d = await gateway.describe(workflowId);
  if (d.execution !== 'RUNNING') {
    throw new MessageRefusedError(`cannot ${options.message}: the rollout has finished (${d.execution.toLowerCase()}${d.outcome ? `, ${d.outcome}` : ''})`);
  }
  if (decides && options.step === undefined) throw await missingStep(options.message as 'approve' | 'reject', options.target, by, workflowId, gateway);
  const note = options.message === 'approve' || options.message === 'resume' ? { comment: options.comment ?? options.reason } : { reason: options.reason ?? options.comment };
  if (approvalsUrl) {
    // A signed resume names the step the rollout holds at (it binds the signature to this pause's step).
    const stepIndex = decides ? options.step! - 1 : (await gateway.status(workflowId)).stepIndex;
    const signed = await sendThroughApprovalsEndpoint({
      url: approvalsUrl,
      token: deps.env.GLIDEPATH_APPROVALS_TOKEN,
      fetch: deps.fetch,
      body: { workflowId, decision: options.message as 'approve' | 'reject' | 'resume', stepIndex, ...note, ...(options.as?.trim() ? { as: options.as.trim() } : {}) },
    });
    return {
      exitCode: ExitCode.ok,
      text: `${options.message}: ${signed.message} (verified: signed by ${signed.signer} for ${signed.person})`,
      json: { workflowId, sent: options.message, by: signed.person, step: options.step, accepted: signed.accepted, message: signed.message, verified: true, signer: signed.signer },
    };
  }
  const step = decides ? { stepIndex: options.step! - 1, channel: 'cli' } : options.message === 'resume' ? { channel: 'cli' } : {};
  const answer: MessageAccepted = await gateway.send(workflowId, options.message, { by, ...note, ...step });
  return {
    exitCode: ExitCode.ok,
    text: `${options.message}: ${oneLine(answer.message)}`,
    json: { workflowId, sent: options.message, by, ...(decides ? { step: options.step } : {}), accepted: answer.accepted, message: answer.message },
  };
}

// ───────────────────────────── list ─────────────────────────────

export interface ListOptions {
  endpoint: string | undefined;
  running: boolean;
  limit: number;
}

export async function rolloutList(options: ListOptions, deps: CommandDeps): Promise<CommandOutput> {
  const gateway = await deps.gateway();
  const rows = await gateway.list({ ...(options.endpoint ? { endpoint: options.endpoint } : {}), running: options.running, limit: options.limit });
  const text =
    rows.length === 0
      ? 'no rollouts'
      : [
          ['STARTED', 'ENDPOINT', 'CANDIDATE', 'STATE', 'STAGE', 'OUTCOME', 'ID'].join('\t'),
          ...rows.map((r) => [r.startedAt, r.endpoint ?? '-', r.candidate ?? '-', r.execution, r.stage ?? '-', r.outcome ?? '-', r.workflowId].map((cell) => oneLine(String(cell))).join('\t')),
        ].join('\n');
  return { exitCode: ExitCode.ok, text, json: rows };
}


