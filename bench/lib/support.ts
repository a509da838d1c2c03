// Shared by the rollout benchmarks: the machine description, percentiles, and writing results (JSON + md)
// to bench/results/ with the exact command that produced them.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';

export const benchRoot = new URL('../../', import.meta.url).pathname;

export interface Machine {
  cpuModel: string;
  cpuCount: number;
  totalMemoryGiB: number;
  platform: string;
  node: string;
  loadAverageAtEnd: number[];
}

export function machine(): Machine {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpuCount: cpus.length,
    totalMemoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverageAtEnd: os.loadavg(),
  };
}

export function machineLine(m: Machine): string {
  return `Machine: ${m.cpuCount} × ${m.cpuModel}, ${m.totalMemoryGiB} GiB, ${m.platform}, Node ${m.node}; load average at the end ${m.loadAverageAtEnd.map((x) => x.toFixed(2)).join(' / ')} (the machine is shared with other engineers' test runs).`;
}

/** Nearest-rank percentile of `xs` (p in 0..100). */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** A benchmark's command-line flags: `--name value` pairs and the `--quick` switch. */
export interface BenchFlags {
  /** True with `--quick` (few runs). */
  quick: boolean;
  /** The value after `--name`, or undefined when the flag is absent. */
  arg(name: string): string | undefined;
  /**
   * The number after `--name`, or `fallback` when absent; one that fails `check` (default: positive) exits 2
   * with a message naming the flag.
   */
  num(name: string, fallback: number, check?: (n: number) => boolean): number;
}

/** Parses the benchmark's flags (by default this process's arguments). */
export function benchFlags(args: readonly string[] = process.argv.slice(2)): BenchFlags {
  const arg = (name: string): string | undefined => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const num = (name: string, fallback: number, check: (n: number) => boolean = (n) => n > 0): number => {
    const v = arg(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || !check(n)) {
      console.error(`--${name} must be a positive number (got "${v}")`);
      process.exit(2);
    }
    return n;
  };
  return { quick: args.includes('--quick'), arg, num };
}

/** The command as the user would type it. */
export function command(name: string): string {
  const extra = process.argv
    .slice(2)
    .map((a) => (/[\s"'$]/.test(a) ? JSON.stringify(a) : a))
    .join(' ');
  // scripts/run-bench.mjs passes no arguments: with arguments, the benchmark was run directly.
  return extra ? `node --import tsx bench/${name}.ts ${extra}` : `npm run bench -- ${name}  # = node --import tsx bench/${name}.ts`;
}

export function writeResults(name: string, json: unknown, md: string): void {
  mkdirSync(`${benchRoot}bench/results`, { recursive: true });
  writeFileSync(`${benchRoot}bench/results/${name}.json`, `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(`${benchRoot}bench/results/${name}.md`, md);
  console.log(`wrote bench/results/${name}.json and .md`);
}
