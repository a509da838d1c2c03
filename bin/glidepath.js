#!/usr/bin/env node
// The `glidepath` command. Installed from the package it runs the compiled JavaScript (dist/), with no
// TypeScript tooling at run time; in a clone (where client/cli.ts exists) it runs the TypeScript sources
// through tsx, so a clone works without a build step and never runs a stale dist/.
import { existsSync } from 'node:fs';
import module from 'node:module';

// Node ≥ 22.1 keeps compiled bytecode of the modules it loads (in the OS temp folder): later starts skip
// parsing the CLI's dependency graph. Off with NODE_DISABLE_COMPILE_CACHE=1.
module.enableCompileCache?.();

const fromSources = existsSync(new URL('../client/cli.ts', import.meta.url));
let main;
if (fromSources) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../client/cli.ts'));
} else {
  ({ main } = await import('../dist/client/cli.js'));
}
const code = await main(process.argv.slice(2));
// Exit explicitly once output is flushed: long-lived commands (worker, emulator) leave handles behind
// after a clean shutdown (tsx's compiler service, the Temporal runtime), which must not keep us alive.
process.exitCode = code;
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
