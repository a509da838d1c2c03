/**
 * Traffic on an Azure ML managed online endpoint, and every rule Azure enforces on it.
 *
 * An endpoint has two maps: `live` (the `traffic` property: the share of requests each deployment
 * answers) and `mirror` (the `mirrorTraffic` property: the share of requests copied, answer discarded,
 * to a shadow deployment). These functions are pure: the emulator uses them to refuse what Azure refuses,
 * and the workflow and its tests use them to check that no rollout ever asks for an invalid state.
 */

/** Deployment name → integer percent. A missing name and 0 mean the same. */
export type TrafficMap = Record<string, number>;

/** Live and mirror traffic of one endpoint. */
export interface TrafficState {
  live: TrafficMap;
  mirror: TrafficMap;
}

/** The rule a traffic state (or a deletion) breaks. */
export type TrafficRuleCode =
  | 'NotAnInteger'
  | 'OutOfRange'
  | 'LiveSum'
  | 'UnknownDeployment'
  | 'MirrorTooHigh'
  | 'MultipleMirrorTargets'
  | 'LiveAndMirror'
  | 'DeleteWithTraffic';

/** One broken rule, with a message that names the deployment and the numbers. */
export interface TrafficViolation {
  code: TrafficRuleCode;
  message: string;
  deployment?: string;
}

/** The largest share of traffic Azure lets an endpoint mirror. */
export const MAX_MIRROR_PERCENT = 50;

function positive(map: TrafficMap): [string, number][] {
  return Object.entries(map).filter(([, v]) => v !== 0);
}

function sum(map: TrafficMap): number {
  return Object.values(map).reduce((a, b) => a + b, 0);
}

/**
 * The share a map gives `name`, 0 when it names it not. Own keys only: a deployment may be called
 * `constructor` or `toString`, and `map[name]` would read Object.prototype's function for it.
 */
export function share(map: TrafficMap, name: string): number {
  return Object.hasOwn(map, name) ? (map[name] ?? 0) : 0;
}

/** Sets a share as an own data property, so even a `__proto__` key is data, never the prototype. */
function setShare(map: TrafficMap, name: string, value: number): void {
  Object.defineProperty(map, name, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Every rule Azure enforces on an endpoint's traffic, checked against the deployments that exist.
 * Returns all violations (not just the first); an empty list means Azure accepts the state.
 *
 * Rules: values are integers 0..100; live sums to 0 or 100; only existing deployments are named
 * (with any value, 0 included); at most one mirror target; mirror ≤ 50%; no deployment has both live
 * and mirror traffic.
 */
export function trafficViolations(state: TrafficState, deployments: readonly string[]): TrafficViolation[] {
  const out: TrafficViolation[] = [];
  const known = new Set(deployments);
  for (const [kind, map] of [['traffic', state.live], ['mirror traffic', state.mirror]] as const) {
    for (const [name, value] of Object.entries(map)) {
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        out.push({ code: 'NotAnInteger', deployment: name, message: `${kind} for '${name}' must be an integer percent, got ${String(value)}` });
      } else if (value < 0 || value > 100) {
        out.push({ code: 'OutOfRange', deployment: name, message: `${kind} for '${name}' must be between 0 and 100, got ${value}` });
      }
      if (!known.has(name)) {
        out.push({ code: 'UnknownDeployment', deployment: name, message: `${kind} names deployment '${name}', which does not exist on this endpoint` });
      }
    }
  }
  if (out.some((v) => v.code === 'NotAnInteger')) return out; // sums of non-numbers say nothing useful

  const liveSum = sum(state.live);
  if (liveSum !== 0 && liveSum !== 100) {
    out.push({ code: 'LiveSum', message: `live traffic must sum to 0 or 100, got ${liveSum} (${describe(state.live)})` });
  }
  const mirrorTargets = positive(state.mirror);
  if (mirrorTargets.length > 1) {
    out.push({
      code: 'MultipleMirrorTargets',
      message: `mirror traffic may target only one deployment, got ${mirrorTargets.length} (${describe(state.mirror)})`,
    });
  }
  const mirrorSum = sum(state.mirror);
  if (mirrorSum > MAX_MIRROR_PERCENT) {
    out.push({ code: 'MirrorTooHigh', message: `mirror traffic may be at most ${MAX_MIRROR_PERCENT}%, got ${mirrorSum}%` });
  }
  for (const [name, pct] of mirrorTargets) {
    const live = share(state.live, name);
    if (live !== 0) {
      out.push({
        code: 'LiveAndMirror',
        deployment: name,
        message: `deployment '${name}' cannot receive both live traffic (${live}%) and mirror traffic (${pct}%)`,
      });
    }
  }
  return out;
}

/** Azure refuses to delete a deployment that still receives live or mirror traffic. */
export function deletionViolation(deployment: string, state: TrafficState): TrafficViolation | undefined {
  const live = share(state.live, deployment);
  const mirror = share(state.mirror, deployment);
  if (live === 0 && mirror === 0) return undefined;
  return {
    code: 'DeleteWithTraffic',
    deployment,
    message: `deployment '${deployment}' still receives traffic (live ${live}%, mirror ${mirror}%); set it to 0 before deleting it`,
  };
}

function dropZeros(map: TrafficMap): TrafficMap {
  const out: TrafficMap = {};
  for (const [k, v] of Object.entries(map).sort(([a], [b]) => a.localeCompare(b))) if (v !== 0) setShare(out, k, v);
  return out;
}

/** The same state without zero entries and with names sorted, so equal states compare equal. */
export function normalizeTraffic(state: TrafficState): TrafficState {
  return { live: dropZeros(state.live), mirror: dropZeros(state.mirror) };
}

/** True when both states send the same share to every deployment (zeros and key order ignored). */
export function sameTraffic(a: TrafficState, b: TrafficState): boolean {
  return JSON.stringify(normalizeTraffic(a)) === JSON.stringify(normalizeTraffic(b));
}

function describe(map: TrafficMap): string {
  const entries = Object.entries(map);
  return entries.length === 0 ? 'none' : entries.map(([k, v]) => `${k}=${v}`).join(', ');
}

/**
 * One line for logs and progress: live shares in descending order, then the mirror share.
 * `{live:{blue:90,green:10}, mirror:{}}` → `blue 90% | green 10% | mirror 0%`;
 * `{live:{blue:100}, mirror:{green:20}}` → `blue 100% | mirror 20% → green`.
 */
export function formatTraffic(state: TrafficState): string {
  const live = Object.entries(state.live)
    .filter(([, v]) => v !== 0)
    .sort(([an, a], [bn, b]) => b - a || an.localeCompare(bn))
    .map(([k, v]) => `${k} ${v}%`);
  const mirror = positive(state.mirror);
  const mirrorText = mirror.length === 0 ? 'mirror 0%' : mirror.map(([k, v]) => `mirror ${v}% → ${k}`).join(' | ');
  return [...(live.length ? live : ['no live traffic']), mirrorText].join(' | ');
}
