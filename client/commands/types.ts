/**
 * What every command gets (`deps`) and gives back (`CommandOutput`). Commands never print or exit:
 * they return text for people and JSON for machines, and client/cli.ts chooses which to print.
 */
import type { ExitCode } from '../errors.js';
import type { RolloutPlan } from '../../domain/plan.js';
import type { AssetTarget } from '../assets.js';
import type { UploadProgress } from '../upload-bar.js';
import type { PlanSource } from '../plan-file.js';
import type { RolloutGateway, TemporalFlags } from '../temporal.js';

export interface CommandDeps {
  /** Connects to Temporal on first use (commands that do not need it never connect); `flags` are the command's `--address/--namespace/--profile`. */
  gateway(flags?: TemporalFlags): Promise<RolloutGateway>;
  files: PlanSource & { writeFile(path: string, data: string): Promise<void> };
  env: NodeJS.ProcessEnv;
  now(): number;
  sleep(ms: number): Promise<void>;
  /** A progress line for people while a command waits (stdout, or stderr under --json). */
  progress(line: string): void;
  /** Upload progress as data, for a bar (set on a terminal); without it, uploads report through `progress` lines. */
  uploadProgress?(u: UploadProgress): void;
  fetch: typeof fetch;
  /** The workspace a plan's local assets are uploaded to and registered in (rollout start, plan validate --resolve); absent → refused. */
  assetTarget?(plan: RolloutPlan): Promise<AssetTarget>;
}

/** A command's answer. */
export interface CommandOutput {
  exitCode: ExitCode;
  /** For people. */
  text: string;
  /** For machines (`--json`). */
  json: unknown;
}
