// When the emulator's telemetry becomes visible. By default at once (tests stay fast); `--metrics-delay`
// holds every request back by a fixed time; Azure timing (`--azure-timing`, `startEmulator({ azureTiming })`)
// copies Azure Monitor (shared/reference/azure-monitor-logs-and-data-collection.md §0.1): platform metrics
// in a 1-minute grain, each minute visible one minute after it closes; each traffic-log row visible after
// its own delay, drawn from 3–10 minutes by a seeded random source, so a run can be repeated.
import { seededRandom } from './random.js';

const MINUTE = 60_000;

/** Azure's log ingestion delay range (resource logs: "usually available within 3 to 10 minutes"). */
export const AZURE_LOG_DELAY_MS = { min: 3 * MINUTE, max: 10 * MINUTE } as const;
/** How long after a metrics minute closes Azure shows it. */
export const AZURE_METRICS_LAG_MS = MINUTE;

export interface AzureTimingOptions {
  /** Seed of the log-delay draws (default 1): the same seed and the same requests give the same delays. */
  seed?: number;
  /**
   * The clock telemetry is judged at (default Date.now). Tests and time-skipped benchmarks pass one that
   * runs ahead, to see what Azure would show minutes later without waiting for them.
   */
  now?: () => number;
}

/** The visibility rules of one emulator. */
export class TelemetryTiming {
  readonly now: () => number;
  private readonly draw: (() => number) | undefined;

  constructor(
    private readonly metricsDelayMs: number,
    readonly azure: AzureTimingOptions | undefined,
  ) {
    this.now = azure?.now ?? Date.now;
    this.draw = azure ? seededRandom(azure.seed ?? 1) : undefined;
  }

  /**
   * The latest request time whose metrics are visible at `now`. Azure timing: minute [m, m+1) shows from
   * m+2 on, so at 10:05:30 the last visible minute is 10:03–10:04 and the cutoff is 10:03:59.999.
   */
  metricsCutoff(now: number): number {
    const fixed = now - this.metricsDelayMs;
    if (!this.azure) return fixed;
    const azure = Math.floor((now - AZURE_METRICS_LAG_MS) / MINUTE) * MINUTE - 1;
    return Math.min(fixed, azure);
  }

  /** The ingestion delay of the next traffic-log row: 0, or a draw from 3–10 minutes under Azure timing. */
  nextLogDelayMs(): number {
    if (!this.draw) return 0;
    return Math.round(AZURE_LOG_DELAY_MS.min + this.draw() * (AZURE_LOG_DELAY_MS.max - AZURE_LOG_DELAY_MS.min));
  }
}
