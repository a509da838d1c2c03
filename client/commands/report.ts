/** `glidepath rollout report <rollout-id|endpoint> [--format md|html|json] [--out FILE]`. */
import { ExitCode } from '../errors.js';
import { buildReport, renderReport, type RolloutReport } from '../report.js';
import type { RolloutGateway } from '../temporal.js';
import { readStatusView, resolveRollout, type RolloutPick } from './rollout.js';
import type { CommandDeps, CommandOutput } from './types.js';

export interface ReportOptions {
  target: string;
  format: 'md' | 'html' | 'json';
  out: string | undefined;
  pick?: RolloutPick;
}

/** Gathers a rollout's report data through the gateway (result when finished, status query while running). */
export async function fetchReport(workflowId: string, gateway: RolloutGateway, now: Date): Promise<RolloutReport> {
  const view = await readStatusView(workflowId, gateway);
  const input = await gateway.input(workflowId).catch(() => null);
  return buildReport({ summary: view.rollout, input, result: view.result, status: view.status, failure: view.failure, now });
}

export async function rolloutReport(options: ReportOptions, deps: CommandDeps): Promise<CommandOutput> {
  const gateway = await deps.gateway();
  const workflowId = await resolveRollout(options.target, gateway, options.pick);
  const report = await fetchReport(workflowId, gateway, new Date(deps.now()));
  const body = renderReport(report, options.format);
  if (options.out) {
    await deps.files.writeFile(options.out, body);
    return { exitCode: ExitCode.ok, text: `wrote ${options.format} report of ${workflowId} to ${options.out}`, json: { workflowId, format: options.format, out: options.out } };
  }
  // The report itself is the output; with --json the json format is printed whatever --format says.
  return { exitCode: ExitCode.ok, text: body, json: options.format === 'json' ? report : { workflowId, format: options.format, report: body } };
}
