// What bench/azure-timing-e2e.ts makes of one run and of a set of runs: pure, so the rules (which analysis
// detected the fault, which one decided, what counts as a false alarm or a miss) are table-tested
// (test/domain/azure-timing-e2e-summary.test.ts).
import { percentile } from './support.js';

/** One analysis of the run's canary, as the workflow recorded it (its verdict time is when it finished). */
export interface AnalysisRow {
  atMs: number;
  status: string;
  windowEndMs: number | null;
  candidateRequests: number | null;
  candidateModelErrorRate: number | null;
  reasons: string[];
}

/**
 * rolled_back: rolled back after the fault and the endpoint read back the baseline at 100%; false_alarm:
 * rolled back before the fault was injected; missed: not rolled back within the give-up time (the run was
 * terminated); other: any other ending (e.g. promoted, failed).
 */
export type RunKind = 'rolled_back' | 'false_alarm' | 'missed' | 'other';

export interface RunTimes {
  kind: RunKind;
  /** Fault → the first analysis that failed after it. */
  detectS: number | null;
  /** Fault → the analysis that decided the rollback (the last analysis after the fault). */
  decisionS: number | null;
  /** Fault → GET on the endpoint read the baseline at 100% live. */
  reactionS: number | null;
}

/**
 * One run's times. `outcome` is the workflow's (or `terminated` when the bench gave up); `endedBeforeFault`
 * says the rollout had ended before the fault was injected; `reactionS` is null when the baseline was never
 * read back at 100% after the fault.
 */
export function measureRun(input: { analyses: AnalysisRow[]; faultAtMs: number; outcome: string; endedBeforeFault: boolean; reactionS: number | null }): RunTimes {
  const { analyses, faultAtMs, outcome, endedBeforeFault, reactionS } = input;
  if (endedBeforeFault) return { kind: outcome === 'rolled_back' ? 'false_alarm' : 'other', detectS: null, decisionS: null, reactionS: null };
  if (outcome === 'terminated') return { kind: 'missed', detectS: null, decisionS: null, reactionS: null };
  if (outcome !== 'rolled_back' || reactionS === null) return { kind: 'other', detectS: null, decisionS: null, reactionS: null };
  const after = [...analyses].filter((a) => a.atMs >= faultAtMs).sort((a, b) => a.atMs - b.atMs);
  const firstFail = after.find((a) => a.status === 'fail');
  const decision = after[after.length - 1];
  return {
    kind: 'rolled_back',
    detectS: firstFail ? (firstFail.atMs - faultAtMs) / 1000 : null,
    decisionS: decision ? (decision.atMs - faultAtMs) / 1000 : null,
    reactionS,
  };
}

export interface Summary {
  runs: number;
  rolledBack: number;
  falseAlarms: number;
  missed: number;
  other: number;
  detect: { medianS: number; p95S: number };
  decision: { medianS: number; p95S: number };
  reaction: { medianS: number; p95S: number; minS: number; maxS: number };
  /** Medians of the parts: fault → first fail; first fail → decision; decision → baseline 100% read back. */
  parts: { untilFirstFailS: number; confirmS: number; writeS: number };
}

/** Nearest-rank medians and p95 over the runs rolled back on the fault; the others counted beside them. NaN where no run rolled back. */
export function summariseRuns(rows: RunTimes[]): Summary {
  const ok = rows.filter((r) => r.kind === 'rolled_back');
  const xs = (f: (r: RunTimes) => number | null): number[] => ok.map(f).filter((x): x is number => x !== null);
  const detect = xs((r) => r.detectS);
  const decision = xs((r) => r.decisionS);
  const reaction = xs((r) => r.reactionS);
  return {
    runs: rows.length,
    rolledBack: ok.length,
    falseAlarms: rows.filter((r) => r.kind === 'false_alarm').length,
    missed: rows.filter((r) => r.kind === 'missed').length,
    other: rows.filter((r) => r.kind === 'other').length,
    detect: { medianS: percentile(detect, 50), p95S: percentile(detect, 95) },
    decision: { medianS: percentile(decision, 50), p95S: percentile(decision, 95) },
    reaction: {
      medianS: percentile(reaction, 50),
      p95S: percentile(reaction, 95),
      minS: reaction.length ? Math.min(...reaction) : NaN,
      maxS: reaction.length ? Math.max(...reaction) : NaN,
    },
    parts: {
      untilFirstFailS: percentile(detect, 50),
      confirmS: percentile(xs((r) => (r.decisionS !== null && r.detectS !== null ? r.decisionS - r.detectS : null)), 50),
      writeS: percentile(xs((r) => (r.reactionS !== null && r.decisionS !== null ? r.reactionS - r.decisionS : null)), 50),
    },
  };
}
