/**
 * The `glidepath` CLI: the one error boundary that maps failures to exit codes and one-line messages.
 *
 * Exit codes: 0 success (or promoted), 1 the rollout ended without promotion, 2 invalid input,
 * 3 cannot reach or talk to Temporal or Azure, 4 a `--wait` timed out.
 */
export const ExitCode = { ok: 0, notPromoted: 1, invalidInput: 2, unreachable: 3, waitTimedOut: 4 } as const;

const usage = `glidepath — safe rollouts of model versions to Azure ML managed online endpoints

Usage:
  glidepath --help | --version

More commands (plan, rollout, worker, emulator, slack, demo) arrive with their issues; see README.md.

Exit codes: 0 success · 1 rollout not promoted · 2 invalid input · 3 Temporal/Azure unreachable · 4 --wait timed out`;

/** Runs one command line and returns its exit code; never throws. */
export async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  const debug = argv.includes('--debug');
  try {
    switch (command) {
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        console.log(usage);
        return command === undefined ? ExitCode.invalidInput : ExitCode.ok;
      case '--version': {
        const { readFileSync } = await import('node:fs');
        const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
        console.log(pkg.version);
        return ExitCode.ok;
      }
      default:
        console.error(`glidepath: unknown command '${command}' (see glidepath --help)`);
        return ExitCode.invalidInput;
    }
  } catch (err) {
    console.error(`glidepath: ${err instanceof Error ? err.message : String(err)}`);
    if (debug && err instanceof Error && err.stack) console.error(err.stack);
    return ExitCode.unreachable;
  }
}
