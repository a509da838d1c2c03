#!/usr/bin/env node
// The `glidepath` command. Runs the TypeScript sources through tsx, so a clone works without a build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../client/cli.ts');
const code = await main(process.argv.slice(2));
// Exit explicitly once output is flushed: long-lived commands (worker, emulator) leave handles behind
// after a clean shutdown (tsx's compiler service, the Temporal runtime), which must not keep us alive.
process.exitCode = code;
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
