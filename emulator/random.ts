// The emulator's seeded randomness, in a module of its own so that every part (core, faults, traffic,
// data collection, telemetry timing) draws from the same generator without importing core.ts.

/** A small seeded PRNG (mulberry32): traffic splitting and mirroring draw from it, so runs can be repeated. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
