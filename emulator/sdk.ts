// Helpers for pointing the unmodified Azure SDK clients at the emulator: a static credential, client
// options that trust the emulator's certificate through core-rest-pipeline's `tlsOptions: { ca }`. (Mirror
// traffic through the 2022-10-01 SDK: `mirrorTrafficPolicy` in activities/azure-clients.ts.)
import type { AccessToken, TokenCredential } from '@azure/core-auth';

/** A TokenCredential that always returns the same bearer token (the emulator accepts any). */
export class StaticTokenCredential implements TokenCredential {
  constructor(private readonly token = 'glidepath-emulator-token') {}
  getToken(): Promise<AccessToken> {
    return Promise.resolve({ token: this.token, expiresOnTimestamp: Date.now() + 3600_000 });
  }
}

/**
 * The credential for SDK clients pointed at the emulator: tests, benchmarks and the demo build clients
 * with it, and the worker passes it to the activities' client factory in its emulator target.
 */
export function emulatorCredential(token?: string): TokenCredential {
  return new StaticTokenCredential(token);
}

/**
 * Client options for `AzureMachineLearningWorkspaces`: the emulator's URL as
 * `endpoint` and its certificate as the only trusted CA (TLS verification stays on).
 *
 *   new AzureMachineLearningWorkspaces(emulatorCredential(), subId, emulatorClientOptions(emu))
 *   new MetricsClient(emulator.url, emulatorCredential(), { tlsOptions: { ca: emulator.caCertPem } })  // batch metrics
 */
export function emulatorClientOptions(emulator: { url: string; caCertPem: string }): { endpoint: string; tlsOptions: { ca: string } } {
  return { endpoint: emulator.url, tlsOptions: { ca: emulator.caCertPem } };
}

/**
 * Client options for `LogsQueryClient` (`@azure/monitor-query-logs`), which uses `endpoint` verbatim: the
 * emulator's Log Analytics base `<url>/v1` and its certificate as the only trusted CA.
 *
 *   new LogsQueryClient(emulatorCredential(), emulatorLogsClientOptions(emu))
 */
export function emulatorLogsClientOptions(emulator: { url: string; caCertPem: string }): { endpoint: string; tlsOptions: { ca: string } } {
  return { endpoint: `${emulator.url}/v1`, tlsOptions: { ca: emulator.caCertPem } };
}
