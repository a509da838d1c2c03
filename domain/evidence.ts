/**
 * The judge's evidence as people read it: one line per judged gate for `rollout status` and `watch`,
 * a short form for the Temporal UI's activity summaries, and the pick of which verdict to show. Pure
 * wording over the data the workflow records (VerdictRecord.judgement); runs in the workflow sandbox.
 */
import { evidenceLine, fmtE, type GateJudgement } from './judge/judge.js';
import type { VerdictRecord } from './rollout.js';

type DeepReadonly<T> = T extends (infer U)[] ? readonly DeepReadonly<U>[] : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

/** Verdicts as the workflow's state hands them out (read-only all the way down). */
export type ReadonlyVerdicts = readonly DeepReadonly<VerdictRecord>[];

/** A verdict of an analysis (not a cost check) that carries the judge's evidence. */
export type JudgedVerdict = VerdictRecord & { judgement: NonNullable<VerdictRecord['judgement']> };

/** True when the verdict carries the judge's evidence for at least one gate. */
export function isJudged(v: VerdictRecord | undefined): v is JudgedVerdict {
  return v !== undefined && v.snapshot !== null && v.judgement !== undefined && v.judgement.gates.length > 0;
}

/**
 * The newest judged verdict of step `stepIndex`, or null when the step's newest analysis has no
 * judgement (a fixed-threshold plan: nothing new to show). `verdicts` is oldest first.
 */
export function latestJudged(verdicts: readonly VerdictRecord[], stepIndex: number): JudgedVerdict | null {
  for (let i = verdicts.length - 1; i >= 0; i--) {
    const v = verdicts[i]!;
    if (v.stepIndex !== stepIndex || v.snapshot === null) continue;
    return isJudged(v) ? v : null;
  }
  return null;
}

/**
 * One line per judged gate, names padded so the columns line up:
 * `5xx          candidate 3/1,204 vs baseline 9/2,410 · evidence 0.40 of 200 to fail, 0.07 of 100 to pass · could detect ≥ 2.10×`.
 */
export function gateEvidenceLines(gates: readonly GateJudgement[]): string[] {
  const width = Math.max(0, ...gates.map((g) => g.gate.length));
  return gates.map((g) => `${g.gate.padEnd(width)}  ${evidenceLine(g).slice(g.gate.length + 2)}`);
}

/** How far a gate is towards failing, 0 (no evidence) … 1 (at the threshold) and beyond, on the log scale the test uses. */
function towardsFail(g: GateJudgement): number {
  if (g.status === 'fail') return Infinity;
  const e = Math.max(g.toFail.eValue, 1e-12);
  return Math.log(e) / Math.log(g.toFail.threshold);
}

/** `5xx 0.40/200 to fail`; a decided gate: `5xx failed 210≥200` or `5xx passed 120≥100`. */
export function shortEvidence(g: GateJudgement): string {
  if (g.status === 'fail') return `${g.gate} failed ${fmtE(g.toFail.maxEValue)}≥${fmtE(g.toFail.threshold)}`;
  if (g.status === 'pass' && g.toPass) return `${g.gate} passed ${fmtE(g.toPass.maxEValue)}≥${fmtE(g.toPass.threshold)}`;
  const data = g.cause && g.cause !== 'undecided' ? ` (${g.cause})` : '';
  return `${g.gate} ${fmtE(g.toFail.eValue)}/${fmtE(g.toFail.threshold)} to fail${data}`;
}

/** Gates named in a summary at most; the rest are counted (`+2 more`). */
const SUMMARY_GATES = 3;
/** Summaries longer than this are cut (the Temporal UI shows one line). */
const SUMMARY_MAX = 240;

/**
 * The previous verdict of the step in short, closest-to-failing gates first:
 * `last: inconclusive · 5xx 0.40/200 to fail · p99 0.12/200 to fail`. Null when the step has no
 * judged analysis yet, so fixed-threshold plans keep their summaries unchanged.
 */
export function lastVerdictNote(verdicts: ReadonlyVerdicts, stepIndex: number): string | null {
  const v = latestJudged(verdicts as readonly VerdictRecord[], stepIndex); // read only
  if (!v) return null;
  const gates = [...v.judgement.gates].sort((a, b) => towardsFail(b) - towardsFail(a));
  const shown = gates.slice(0, SUMMARY_GATES).map(shortEvidence);
  if (gates.length > SUMMARY_GATES) shown.push(`+${gates.length - SUMMARY_GATES} more`);
  return [`last: ${v.status}`, ...shown].join(' · ');
}

/**
 * An activity or timer summary with the step's previous verdict appended (unchanged when there is none):
 * `metrics blue vs green over 1m · last: inconclusive · 5xx 0.40/200 to fail`. Summaries are user
 * metadata, not commands: changing them does not affect replay.
 */
export function withLastVerdict(summary: string, verdicts: ReadonlyVerdicts, stepIndex: number): string {
  const note = lastVerdictNote(verdicts, stepIndex);
  if (!note) return summary;
  const text = `${summary} · ${note}`;
  return text.length <= SUMMARY_MAX ? text : `${text.slice(0, SUMMARY_MAX - 1)}…`;
}
