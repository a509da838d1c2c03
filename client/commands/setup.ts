/**
 * `glidepath setup`: registers Glidepath's search attributes on the Temporal namespace, once per
 * namespace (a start on a namespace without them is refused with exit 3 naming this command). Idempotent:
 * it says which it registered and which were already there.
 */
import { ExitCode } from '../errors.js';
import type { CommandDeps, CommandOutput } from './types.js';

export async function setupCommand(deps: CommandDeps): Promise<CommandOutput> {
  const gateway = await deps.gateway();
  const r = await gateway.setup();
  const lines = [`Temporal namespace ${r.namespace}: ${r.registered.length ? `registered ${r.registered.length} search attribute(s)` : "Glidepath's search attributes are already there"}`];
  for (const name of r.registered) lines.push(`  registered     ${name} (Keyword)`);
  for (const name of r.alreadyThere) lines.push(`  already there  ${name}`);
  return { exitCode: ExitCode.ok, text: lines.join('\n'), json: r };
}
