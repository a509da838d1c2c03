/**
 * The demo's public entry: `glidepath demo` (`npm run demo`), dispatched here by client/cli.ts.
 * Flags are parsed first (demo/flags.ts, the CLI's own parser), so `--help` and a bad flag answer at once;
 * the run itself (demo/run.ts: Temporal, emulator, worker, three rollouts) is loaded only when it runs.
 */
import { demoUsage, parseDemoArgs } from './flags.js';

export { demoUsage, parseDemoArgs, type DemoFlags } from './flags.js';

/** Runs `glidepath demo <argv>`; returns the exit code. Errors with a CLI meaning are thrown for client/cli.ts to map. */
export async function demoCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const flags = parseDemoArgs(argv);
  if (!flags) {
    process.stdout.write(`${demoUsage}\n`);
    return 0;
  }
  const { runDemo } = await import('./run.js');
  return runDemo(flags, env);
}
