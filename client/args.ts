/**
 * The CLI's one argument parser: `node:util`'s parseArgs in strict mode with the flags every command
 * takes (`--json`, `--debug`, `--help`), positional counts checked, and every mistake an
 * InvalidInputError (exit 2) with one line that points at the help. client/cli.ts parses every command
 * with it, and the demo (demo/) parses its flags with it too.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseDuration } from '../domain/duration.js';
import { InvalidInputError } from './errors.js';

/** Parsed flag values, by flag name. */
export type Values = Record<string, string | boolean | string[] | undefined>;

/** The flags every command takes. */
export const commonOptions = {
  json: { type: 'boolean' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/**
 * Parses one command's arguments: its `options` plus the common ones, and between `positionals.min`
 * and `positionals.max` positional arguments (named `positionals.names` in the error). `help` is the
 * command line whose `--help` the errors point at (default `glidepath`).
 */
export function parse(
  args: string[],
  options: ParseArgsConfig['options'],
  positionals: { min: number; max: number; names: string },
  help = 'glidepath',
): { values: Values; positionals: string[] } {
  const seeHelp = `(see ${help} --help)`;
  let r;
  try {
    r = parseArgs({ args, options: { ...commonOptions, ...options }, allowPositionals: true, strict: true });
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, '');
    throw new InvalidInputError(`${msg} ${seeHelp}`, [], { cause: err });
  }
  if (!r.values.help) {
    if (r.positionals.length < positionals.min) throw new InvalidInputError(`missing ${positionals.names} ${seeHelp}`);
    if (r.positionals.length > positionals.max) throw new InvalidInputError(`unexpected argument '${r.positionals[positionals.max]}' ${seeHelp}`);
  }
  return { values: r.values as Values, positionals: r.positionals };
}

/** A duration flag (`--timeout 30m`) in ms; null when absent; an InvalidInputError when not a positive duration. */
export function durationOption(name: string, text: string | undefined): number | null {
  if (text === undefined) return null;
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) throw new InvalidInputError(`--${name} '${text}' is not a duration like 90s, 30m or 2h`);
  return ms;
}
