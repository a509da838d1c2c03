// Model packages shipped in the emulator, and how a deployment's `model` reference resolves to one.
import { fraudDetectorVersions, type ModelVersionInfo } from './fraud-detector.js';

export type { ModelVersionInfo };

export const shippedModels: readonly ModelVersionInfo[] = [...fraudDetectorVersions];

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
