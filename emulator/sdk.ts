// Helpers for pointing the unmodified Azure SDK clients at the emulator: a static credential, client
// options that trust the emulator's certificate through core-rest-pipeline's `tlsOptions: { ca }`, and a
// pipeline policy that lets the 2022-10-01 SDK (which drops `mirrorTraffic`) send mirror traffic.
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';

/** A TokenCredential that always returns the same bearer token (the emulator accepts any). */
export class StaticTokenCredential implements TokenCredential {
  constructor(private readonly token = 'glidepath-emulator-token') {}
  getToken(): Promise<AccessToken> {
    return Promise.resolve({ token: this.token, expiresOnTimestamp: Date.now() + 3600_000 });
  }
}

/** A credential for SDK clients pointed at the emulator. */
export function emulatorCredential(token?: string): TokenCredential {
  return new StaticTokenCredential(token);
}

/**
 * Client options for `AzureMachineLearningWorkspaces` / `MetricsQueryClient`: the emulator's URL as
 * `endpoint` and its certificate as the only trusted CA (TLS verification stays on).
 *
 *   new AzureMachineLearningWorkspaces(emulatorCredential(), subId, emulatorClientOptions(emu))
 *   new MetricsQueryClient(emulatorCredential(), emulatorClientOptions(emu))
 */
export function emulatorClientOptions(emulator: { url: string; caCertPem: string }): { endpoint: string; tlsOptions: { ca: string } } {
  return { endpoint: emulator.url, tlsOptions: { ca: emulator.caCertPem } };
}

/** Request header read (and removed) by `mirrorTrafficPolicy`: JSON of the endpoint's mirror traffic map. */
export const MIRROR_TRAFFIC_HEADER = 'x-glidepath-mirror-traffic';

/**
 * A pipeline policy that puts `properties.mirrorTraffic` into endpoint PUT bodies, which the 2.1.1 SDK's
 * serializer would otherwise drop (reference §0.2). Pass the map per call as a custom header:
 *
 *   client.pipeline.addPolicy(mirrorTrafficPolicy());
 *   await client.onlineEndpoints.beginCreateOrUpdateAndWait(rg, ws, name, endpoint, {
 *     requestOptions: { customHeaders: { [MIRROR_TRAFFIC_HEADER]: JSON.stringify({ green: 20 }) } },
 *   });
 */
export function mirrorTrafficPolicy(): PipelinePolicy {
  return {
    name: 'glidepathMirrorTrafficPolicy',
    sendRequest(request, next) {
      const raw = request.headers.get(MIRROR_TRAFFIC_HEADER);
      if (raw !== undefined) {
        request.headers.delete(MIRROR_TRAFFIC_HEADER);
        if (request.method === 'PUT' && typeof request.body === 'string' && /\/onlineEndpoints\/[^/?]+(\?|$)/i.test(request.url)) {
          const body = JSON.parse(request.body) as { properties?: Record<string, unknown> };
          body.properties = { ...(body.properties ?? {}), mirrorTraffic: JSON.parse(raw) as unknown };
          request.body = JSON.stringify(body);
        }
      }
      return next(request);
    },
  };
}
