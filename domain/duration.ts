/**
 * Durations as people write them in plan files: an integer and a unit, e.g. `45s`, `30m`, `24h`, `2d`.
 * Inside Glidepath every duration is a number of milliseconds (plain JSON, deterministic arithmetic).
 */

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;

/** The accepted spelling of a duration: an integer followed by ms, s, m, h or d. */
export const DURATION_PATTERN = /^(\d+)(ms|s|m|h|d)$/;

/** Milliseconds in a duration string such as `30m`, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION_PATTERN.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * UNIT_MS[m[2] as Unit];
}

/**
 * The shortest exact spelling of a number of milliseconds, the inverse of parseDuration:
 * 90_000 → `90s`, 5_400_000 → `90m`, 86_400_000 → `24h` (hours read better than days up to 72h), 0 → `0s`.
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms % UNIT_MS.d === 0 && ms > 3 * UNIT_MS.d) return `${ms / UNIT_MS.d}d`;
  if (ms % UNIT_MS.h === 0) return `${ms / UNIT_MS.h}h`;
  if (ms % UNIT_MS.m === 0) return `${ms / UNIT_MS.m}m`;
  if (ms % UNIT_MS.s === 0) return `${ms / UNIT_MS.s}s`;
  return `${ms}ms`;
}

/** A human reading of a long span: 3_723_000 → `1h 2m 3s`. */
export function formatSpan(ms: number): string {
  if (ms <= 0) return '0s';
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of [['d', UNIT_MS.d], ['h', UNIT_MS.h], ['m', UNIT_MS.m], ['s', UNIT_MS.s]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  if (rest > 0 || parts.length === 0) parts.push(`${rest}ms`);
  return parts.join(' ');
}
