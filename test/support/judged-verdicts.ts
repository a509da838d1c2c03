/**
 * Verdict records that carry the judge's evidence, made the way the workflow makes them: seeded counts
 * (test/support/judge-streams.ts) fed through startJudge/judgeLook, one judge state per step. For the
 * status lines, the report and the summaries, so that what they print is what the judge really says.
 */
import type { DeploymentMetrics } from '../../domain/gates.js';
import { judgeLook, parseJudgeSettings, startJudge, type GateObservation, type JudgeSettingsInput } from '../../domain/judge/index.js';
import type { VerdictRecord } from '../../domain/rollout.js';
import { binomial, seeded } from './judge-streams.js';

/** One bake step: requests per analysis on each side and each gate's per-request event rates. */
export interface JudgedStepScenario {
  stepIndex: number;
  analyses: number;
  candidateRequests: number;
  baselineRequests: number;
  rates: Record<string, { baseline: number; candidate: number }>;
  /** Analyses (1-based) whose window is missing for every gate (a data problem). */
  missing?: number[];
}

const metrics = (requests: number, errorRate: number): DeploymentMetrics => ({
  requests,
  errorRate,
  modelErrorRate: 0,
  latencyP50Ms: 30,
  latencyP95Ms: 60,
  latencyP99Ms: 90,
  cpuPercent: 40,
  memoryPercent: 50,
});

/**
 * The verdicts of the steps, analysis after analysis, `intervalMs` apart from `startIso`. A step stops
 * at its first fail or pass (as a bake would). Deterministic for a given seed.
 */
export function judgedVerdicts(settingsInput: JudgeSettingsInput, steps: JudgedStepScenario[], opts: { seed: number; startIso: string; intervalMs: number }): VerdictRecord[] {
  const settings = parseJudgeSettings(settingsInput);
  const rng = seeded(opts.seed);
  const out: VerdictRecord[] = [];
  let t = Date.parse(opts.startIso);
  for (const step of steps) {
    let state = startJudge(settings);
    for (let n = 1; n <= step.analyses; n++) {
      t += opts.intervalMs;
      const observations: Record<string, GateObservation> = {};
      for (const g of settings.gates) {
        const r = step.rates[g.name];
        if (!r) throw new Error(`scenario has no rates for gate '${g.name}'`);
        observations[g.name] = step.missing?.includes(n)
          ? { kind: 'missing', detail: 'no metrics for the window' }
          : {
              kind: 'window',
              candidateRequests: step.candidateRequests,
              candidateEvents: binomial(rng, step.candidateRequests, r.candidate),
              baselineRequests: step.baselineRequests,
              baselineEvents: binomial(rng, step.baselineRequests, r.baseline),
            };
      }
      const look = judgeLook(settings, state, observations);
      state = look.state;
      const j = look.judgement;
      const first = Object.values(observations)[0]!;
      const w = first.kind === 'window' ? first : null;
      out.push({
        at: new Date(t).toISOString(),
        stepIndex: step.stepIndex,
        analysis: n,
        status: j.status,
        reasons: j.reasons,
        gates: j.gates.map((g) => ({ gate: g.gate, status: g.status, reason: g.reason })),
        snapshot: w
          ? { windowMs: opts.intervalMs, baseline: metrics(w.baselineRequests, w.baselineEvents / w.baselineRequests), candidate: metrics(w.candidateRequests, w.candidateEvents / w.candidateRequests) }
          : { windowMs: opts.intervalMs, baseline: null, candidate: null },
        judgement: j,
      });
      if (j.status !== 'inconclusive') break;
    }
  }
  return out;
}
