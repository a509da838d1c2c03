/**
 * `glidepath demo`'s flags, parsed by the CLI's one parser (client/args.ts): the same strictness, the same
 * one-line errors, exit 2 for a bad flag.
 */
import { join, resolve } from 'node:path';
import { parse } from '../client/args.js';
import { InvalidInputError } from '../client/errors.js';
import { parseDuration } from '../domain/duration.js';

export const demoUsage = `glidepath demo — three rollouts on a local Azure ML emulator, start to finish, in about two minutes

Usage:
  glidepath demo [--interactive] [--keep] [--new-server] [--ui-port N] [--out DIR] [--bake D] [--json]

  --interactive   wait for you to approve the first rollout (prints the exact command) instead of a
                  simulated reviewer approving after a pause
  --keep          leave the Temporal server, emulator and worker running after the rollouts (Ctrl-C stops them)
  --new-server    always start a dev server of its own, even when TEMPORAL_ADDRESS or 127.0.0.1:7233 answers
  --ui-port N     the Temporal UI port when the demo starts its own dev server (default 8233, else a free one)
  --out DIR       where the reports go (default .glidepath/demo)
  --bake D        bake time of each mirror and canary step of the first rollout (default 8s)
  --json          progress on stderr; a JSON summary on stdout

Temporal: reuses TEMPORAL_ADDRESS, else 127.0.0.1:7233 when something answers there; otherwise starts
\`temporal server start-dev\` (found like scripts/ensure-temporal.sh; obtained by it on first use) and stops
it on exit. Exit codes: 0 one rollout promoted and one rolled back, 1 otherwise, 2 bad flags, 3 Temporal
unreachable, 130 interrupted.`;

/** The demo's flags. */
export interface DemoFlags {
  interactive: boolean;
  keep: boolean;
  newServer: boolean;
  uiPort: number | undefined;
  out: string;
  bake: string;
  json: boolean;
}

/** Parses `glidepath demo …`; null for --help. Bad flags are InvalidInputErrors (exit 2). */
export function parseDemoArgs(argv: string[]): DemoFlags | null {
  const { values: v } = parse(
    argv,
    {
      interactive: { type: 'boolean' },
      manual: { type: 'boolean' }, // the first name of --interactive
      keep: { type: 'boolean' },
      'new-server': { type: 'boolean' },
      'ui-port': { type: 'string' },
      out: { type: 'string' },
      bake: { type: 'string' },
    },
    { min: 0, max: 0, names: '' },
    'glidepath demo',
  );
  if (v.help) return null;
  let uiPort: number | undefined;
  const uiPortText = v['ui-port'] as string | undefined;
  if (uiPortText !== undefined) {
    uiPort = Number(uiPortText);
    if (!Number.isInteger(uiPort) || uiPort < 1 || uiPort > 65535) throw new InvalidInputError(`--ui-port '${uiPortText}' must be a port number 1..65535`);
  }
  const bake = (v.bake as string | undefined) ?? '8s';
  const bakeMs = parseDuration(bake);
  if (bakeMs === undefined || bakeMs < 1000 || bakeMs > 10 * 60_000) throw new InvalidInputError(`--bake '${bake}' must be a duration from 1s to 10m`);
  return {
    interactive: Boolean(v.interactive || v.manual),
    keep: Boolean(v.keep),
    newServer: Boolean(v['new-server']),
    uiPort,
    out: resolve((v.out as string | undefined) ?? join('.glidepath', 'demo')),
    bake,
    json: Boolean(v.json),
  };
}
