/**
 * Where `rollout start` registers a plan's local assets: the plan's workspace through the unmodified ARM
 * client, configured like the worker (`GLIDEPATH_CLOUD=emulator` with `GLIDEPATH_EMULATOR_URL` and
 * `GLIDEPATH_EMULATOR_CA`, or `azure` with DefaultAzureCredential). Loaded only when a plan has local assets.
 */
import { readFile } from 'node:fs/promises';
import type { RolloutPlan } from '../domain/plan.js';
import type { AssetTarget } from './assets.js';
import { InvalidInputError } from './errors.js';

/** The ARM API version Glidepath registers assets with (code/model versions exist in every stable version since 2022-05-01). */
export const ASSET_API_VERSION = '2024-04-01';

/** Builds the asset target for the plan's workspace from the environment. */
export async function assetTargetFromEnv(env: NodeJS.ProcessEnv, plan: RolloutPlan): Promise<AssetTarget> {
  const { AzureMachineLearningWorkspaces } = await import('@azure/arm-machinelearning');
  const { subscriptionId, resourceGroup, workspace } = plan.target;
  const cloud = env.GLIDEPATH_CLOUD ?? 'emulator';
  if (cloud === 'emulator') {
    const url = env.GLIDEPATH_EMULATOR_URL;
    const caPath = env.GLIDEPATH_EMULATOR_CA;
    if (!url || !caPath) throw new InvalidInputError('the plan has local assets to upload: set GLIDEPATH_EMULATOR_URL and GLIDEPATH_EMULATOR_CA (or GLIDEPATH_CLOUD=azure) so glidepath can reach the workspace');
    const ca = await readFile(caPath, 'utf8').catch((err: unknown) => Promise.reject(new InvalidInputError(`GLIDEPATH_EMULATOR_CA: cannot read ${caPath}: ${(err as Error).message}`, [], { cause: err })));
    const credential = { getToken: () => Promise.resolve({ token: 'glidepath-emulator-token', expiresOnTimestamp: Date.now() + 3600_000 }) };
    const ml = new AzureMachineLearningWorkspaces(credential, subscriptionId, { apiVersion: ASSET_API_VERSION, endpoint: url.replace(/\/$/, ''), tlsOptions: { ca } });
    return { ml, subscriptionId, resourceGroup, workspace, endpoint: url.replace(/\/$/, '') };
  }
  if (cloud !== 'azure') throw new InvalidInputError(`GLIDEPATH_CLOUD: must be azure or emulator, not '${cloud}'`);
  const { DefaultAzureCredential } = await import('@azure/identity');
  const ml = new AzureMachineLearningWorkspaces(new DefaultAzureCredential(), subscriptionId, { apiVersion: ASSET_API_VERSION });
  return { ml, subscriptionId, resourceGroup, workspace, endpoint: ml.$host };
}
