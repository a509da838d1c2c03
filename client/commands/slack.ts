/** `glidepath slack serve`: runs the Slack interactivity endpoint until SIGINT/SIGTERM. */
import { ExitCode, InvalidInputError } from '../errors.js';
import { signerFromEnv } from '../signer.js';
import { createSlackBridge } from '../slack/bridge.js';
import type { CommandDeps, CommandOutput } from './types.js';

export interface SlackServeOptions {
  port: string;
  host: string;
}

export async function slackServeCommand(options: SlackServeOptions, deps: CommandDeps, log: (line: string) => void): Promise<CommandOutput> {
  const secret = deps.env.SLACK_SIGNING_SECRET;
  if (!secret) throw new InvalidInputError('SLACK_SIGNING_SECRET is not set (Slack app → Basic Information → Signing Secret)');
  const port = Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidInputError(`--port '${options.port}' must be 0..65535`);
  // The bridge's signing key (GLIDEPATH_SIGNER_KEY or _FILE): with it, decisions are signed for the Slack user's e-mail.
  const signer = signerFromEnv(deps.env, 'slack-bridge');
  const gateway = await deps.gateway();
  const bridge = createSlackBridge({
    signingSecret: secret,
    botToken: deps.env.SLACK_BOT_TOKEN,
    apiUrl: deps.env.SLACK_API_URL ?? 'https://slack.com/api',
    responseUrlPrefixes: (deps.env.GLIDEPATH_SLACK_RESPONSE_URL_PREFIXES ?? 'https://hooks.slack.com/').split(',').map((s) => s.trim()).filter(Boolean),
    gateway,
    ...(signer ? { signer } : {}),
    fetch: deps.fetch,
    log: (l) => log(`${new Date().toISOString()} slack: ${l}`),
  });
  const server = await bridge.listen(port, options.host);
  log(`glidepath slack serve: listening on ${server.url} (point the Slack app's Interactivity Request URL here)`);
  log(signer ? `signing decisions as ${signer.name} (public key ${signer.publicKey}; list it in the worker's GLIDEPATH_DECISION_SIGNERS)` : 'not signing decisions (no GLIDEPATH_SIGNER_KEY): rollouts that require verified decisions will refuse them');
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  return { exitCode: ExitCode.ok, text: 'slack bridge stopped', json: { stopped: true } };
}
