// Model packages shipped in the emulator, and how a deployment's `model` reference resolves to one.
import { fraudDetectorVersions, type ModelVersionInfo } from './fraud-detector.js';

export type { ModelVersionInfo };

export const shippedModels: readonly ModelVersionInfo[] = [...fraudDetectorVersions];

/**
 * When each shipped version was registered (`systemData.createdAt`): in version order, a day apart, so
 * `azureml:<name>@latest` (the most recently created, as the Azure ML CLI resolves it) is the highest version.
 */
export function modelCreatedAt(m: ModelVersionInfo): string {
  const i = shippedModels.filter((x) => x.name === m.name).indexOf(m);
  return new Date(Date.UTC(2025, 0, 1 + Math.max(0, i), 9, 0, 0)).toISOString();
}

/**
 * What a deployment without a model serves (a custom container, a packaged or MLflow no-code model whose
 * files the emulator does not have): the emulator cannot run an arbitrary image, so such a container
 * answers with the scoring logic of fraud-detector v2 — a healthy model — and says so in its log.
 */
export const CONTAINER_STAND_IN: ModelVersionInfo = (() => {
  const m = shippedModels.find((x) => x.name === 'fraud-detector' && x.version === '2');
  if (!m) throw new Error('fraud-detector:2 is not shipped');
  return m;
})();

/** Finds a shipped model version by name and version. */
export function findModel(name: string, version: string): ModelVersionInfo | undefined {
  return shippedModels.find((m) => m.name === name && m.version === version);
}

/**
 * Parses the model reference of a deployment: `azureml:<name>:<version>`,
 * `azureml://registries/<reg>/models/<name>/versions/<v>`, or an ARM id ending in
 * `/models/<name>/versions/<v>`. Returns undefined for anything else.
 */
export function parseModelRef(ref: string): { name: string; version: string } | undefined {
  let m = /^azureml:([^:/]+):([^:/]+)$/.exec(ref);
  if (m?.[1] && m[2]) return { name: m[1], version: m[2] };
  m = /^azureml:\/\/registries\/[^/]+\/models\/([^/]+)\/versions\/([^/]+)$/.exec(ref);
  if (m?.[1] && m[2]) return { name: m[1], version: m[2] };
  m = /\/models\/([^/]+)\/versions\/([^/]+)$/i.exec(ref);
  if (m?.[1] && m[2]) return { name: m[1], version: m[2] };
  return undefined;
}

/** Resolves a deployment's model reference to a shipped version, or undefined if there is none. */
export function resolveModel(ref: string): ModelVersionInfo | undefined {
  const parsed = parseModelRef(ref);
  return parsed ? findModel(parsed.name, parsed.version) : undefined;
}
