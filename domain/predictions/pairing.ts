/**
 * Pairing the baseline's and the candidate's collected predictions for the same requests, and reducing
 * the pairs to aggregates. Pure: units in (./collected.ts), counts and bins out. The values themselves
 * (inputs, responses, labels of single requests) stay in the caller — the activity — and never reach the
 * result except as counts per label class and per slice value, both bounded in number and length.
 *
 * ## The join (issue 16 item 2)
 * Each side's outputs are first matched to the same side's inputs by (correlation id, else client
 * request id; row). Then baseline and candidate outputs are joined, each unit at most once, by
 * 1. client request id and row (the emulator forwards the caller's `x-ms-client-request-id` to the live and
 *    the mirrored copy);
 * 2. correlation id and row;
 * 3. a hash of the request row (canonical JSON, id columns removed) where both sides have the input, the
 *    nearest in time within ±`joinWindowMs` (2 s).
 * An id join whose two inputs are both known and hash differently is refused (`idConflicts`): it means
 * the two sides batched different requests under one line id; those units go on to the next key. A second
 * or later row under one id joins by id only when both inputs are known and equal (`unconfirmedRows`
 * otherwise): Azure's batched lines carry one id for several requests' rows.
 * A unit seen twice on a side (same ids and row) counts once (`duplicates`).
 */
import { binIndex, DEFAULT_SCORE_EDGES, jensenShannonDistance, ksFromBins, ksStatistic, psi } from './drift.js';
import { formatFieldPath, shapeOf, valueAt, type PathStep } from './field-path.js';
import type { CollectedUnit } from './collected.js';

/** What to compare. Paths are parsed steps (see ./field-path.ts); `slices` name input fields. */
export interface PairingSettings {
  label: readonly PathStep[];
  score?: readonly PathStep[];
  /** A pair's scores differ "over tolerance" when |candidate − baseline| > this (default 0.1). */
  scoreTolerance?: number;
  /** Input fields to count disagreements by (e.g. merchantCategory). */
  slices?: readonly (readonly PathStep[])[];
  /** Score bin edges, ascending (default 20 bins of 0.05 over [0, 1]). */
  scoreEdges?: readonly number[];
  /** Window of the payload-hash join, ms either side (default 2,000). */
  joinWindowMs?: number;
}

/** One side's units: outputs (responses or model_outputs rows) and inputs (requests or model_inputs rows). */
export interface SideUnits {
  outputs: readonly CollectedUnit[];
  inputs: readonly CollectedUnit[];
}

/** A field path that did not resolve (or resolved to the wrong type), with the responses' shape — never values. */
export interface PathProblem {
  field: 'label' | 'score';
  path: string;
  side: 'baseline' | 'candidate';
  problem: 'missing' | 'wrong_type';
  count: number;
  /** e.g. `{isFraud: boolean, fraudProbability: number}`: keys and types of the first response that lacked the field. */
  exampleShape: string;
}

export interface FlipCount {
  baseline: string;
  candidate: string;
  count: number;
}

export interface SliceCount {
  value: string;
  pairs: number;
  disagreements: number;
}

export interface SliceSummary {
  field: string;
  values: SliceCount[];
  /** Pairs whose input lacked the field (or was not collected), or held a number/object (not sliced). */
  unsliced: number;
}

/** The aggregates of one analysis window. Plain JSON; holds no payload, input or single prediction. */
export interface PairingSummary {
  outputs: { baseline: number; candidate: number };
  pairs: {
    joined: number;
    byClientRequestId: number;
    byCorrelationId: number;
    byPayloadHash: number;
    unjoined: { baseline: number; candidate: number };
    /** Id joins refused because the two inputs differ (counted once per id kind tried). */
    idConflicts: number;
    /** Id joins of a second or later row under one id not made because an input was missing (per id kind tried). */
    unconfirmedRows: number;
    duplicates: { baseline: number; candidate: number };
    /** Outputs whose input was not collected (sampling drops them independently). */
    withoutInput: { baseline: number; candidate: number };
  };
  labels: {
    path: string;
    /** Pairs with a valid label on both sides. */
    compared: number;
    disagreements: number;
    /** Disagreeing pairs by baseline → candidate class, most frequent first. */
    flips: FlipCount[];
    /** Label classes of each side over the joined pairs. */
    classes: { baseline: Record<string, number>; candidate: Record<string, number> };
    missing: { baseline: number; candidate: number };
    wrongType: { baseline: number; candidate: number };
  };
  scores: null | {
    path: string;
    compared: number;
    tolerance: number;
    overTolerance: number;
    meanAbsDifference: number | null;
    /** edges, and counts per bin: [below edges[0], bins…, above the last edge]. */
    edges: number[];
    bins: { baseline: number[]; candidate: number[] };
    psi: number | null;
    jensenShannon: number | null;
    /** Exact two-sample KS over this window's paired scores. */
    ks: number | null;
    /** KS from the bins (additive across windows; ≤ the exact one). */
    ksBinned: number | null;
    missing: { baseline: number; candidate: number };
    wrongType: { baseline: number; candidate: number };
  };
  slices: SliceSummary[];
  pathProblems: PathProblem[];
}

/** Label classes and slice values kept per field; the rest is counted under {@link OTHER}. */
export const MAX_CLASSES = 20;
export const MAX_SLICE_VALUES = 50;
/** Longest class name or slice value kept (longer ones are counted under {@link OTHER}). */
export const MAX_VALUE_LENGTH = 64;
export const OTHER = '(other)';

// ───────────────────────────── hashing ─────────────────────────────

/** JSON with object keys sorted, so equal rows hash equally whatever their key order. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (!Array.isArray(v)) {
    const keys = Object.keys(v).sort();
    // Fast path for a row of JSON scalars (the usual model input): each key and value written once, in
    // key order. (The same text as the allow-list below; that one walks the object by the list.)
    let text = '{';
    let scalars = true;
    for (let i = 0; i < keys.length; i++) {
      const x = (v as Record<string, unknown>)[keys[i]!];
      if (x !== null && typeof x !== 'string' && typeof x !== 'number' && typeof x !== 'boolean') {
        scalars = false;
        break;
      }
      text += `${i === 0 ? '' : ','}${JSON.stringify(keys[i])}:${JSON.stringify(x)}`;
    }
    if (scalars) return `${text}}`;
    // A flat row with other values (undefined, …): the native serializer with the sorted keys as its
    // allow-list writes them in that order. Only when no value is an object (an allow-list would filter
    // nested keys too).
    let flat = true;
    for (const k of keys) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== null && typeof x === 'object') {
        flat = false;
        break;
      }
    }
    if (flat) return JSON.stringify(v, keys);
  }
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(v).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
}

/**
 * cyrb53 (a public-domain 53-bit string hash, bryc/code): two 32-bit multiply-xorshift lanes, returned as
 * one integer below 2^53 (a number, so that maps key on it without building a string). Not
 * cryptographic; a collision between two distinct rows within ±2 s of each other is ~n²/2^53.
 */
export function hash53(s: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

// ───────────────────────────── the join ─────────────────────────────

interface Prepared {
  unit: CollectedUnit;
  /** Whether the unit's input was collected (then `input` is its value). */
  hasInput: boolean;
  input: unknown;
  /** The input's hash, once {@link inputHash} computed it. */
  hash?: number;
  used: boolean;
}

/** The hash of a unit's collected input (computed when first needed: most units join by id without it). */
function inputHash(p: Prepared): number {
  return (p.hash ??= hash53(canonicalJson(p.input)));
}

/**
 * Whether two collected inputs are the same request row (equal canonical JSON, compared by hash). The
 * two copies of one request usually hold the same keys with identical values, which gives the same
 * canonical JSON whatever the key order: that is checked first, without writing or hashing either.
 */
function sameInput(p: Prepared, q: Prepared): boolean {
  return sameKeysAndValues(p.input, q.input) || inputHash(p) === inputHash(q);
}

/** Two plain objects with the same own keys holding identical (===) values; false for anything else. */
function sameKeysAndValues(a: unknown, b: unknown): boolean {
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object' || Array.isArray(a) || Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const k of keys) {
    if (!Object.hasOwn(b, k) || (a as Record<string, unknown>)[k] !== (b as Record<string, unknown>)[k]) return false;
  }
  return true;
}

/**
 * First value per (id, row), without building an `id#row` string per lookup: row 0 (one row per request,
 * the usual case) is keyed by the id alone; later rows by id, then row.
 */
class IdRowIndex<T> {
  private readonly first = new Map<string, T>();
  private readonly later = new Map<string, Map<number, T>>();
  get(id: string, row: number): T | undefined {
    return row === 0 ? this.first.get(id) : this.later.get(id)?.get(row);
  }
  /** Keeps the first value set for (id, row); returns false when one was there already. */
  add(id: string, row: number, value: T): boolean {
    if (row === 0) {
      if (this.first.has(id)) return false;
      this.first.set(id, value);
      return true;
    }
    let rows = this.later.get(id);
    if (!rows) this.later.set(id, (rows = new Map()));
    if (rows.has(row)) return false;
    rows.set(row, value);
    return true;
  }
}

/**
 * A side's inputs by (correlation id, else client request id; row), the first of each. A unit with a
 * correlation id is keyed by it alone, so the two id kinds are separate indexes.
 */
class SideInputs {
  private readonly byCorrelation = new IdRowIndex<CollectedUnit>();
  private readonly byClient = new IdRowIndex<CollectedUnit>();
  constructor(inputs: readonly CollectedUnit[]) {
    for (const u of inputs) {
      if (u.correlationId !== null) this.byCorrelation.add(u.correlationId, u.row, u);
      else if (u.clientRequestId !== null) this.byClient.add(u.clientRequestId, u.row, u);
    }
  }
  /** The input unit with the output's ids and row, if one was collected. */
  of(output: CollectedUnit): CollectedUnit | undefined {
    if (output.correlationId !== null) return this.byCorrelation.get(output.correlationId, output.row);
    if (output.clientRequestId !== null) return this.byClient.get(output.clientRequestId, output.row);
    return undefined;
  }
}

/** Outputs of one side, deduplicated, each with its input (if collected). */
function prepareSide(side: SideUnits): { units: Prepared[]; duplicates: number; withoutInput: number } {
  const inputs = new SideInputs(side.inputs);
  // Outputs already seen (those with at least one id), by their two ids and row.
  const seen = new IdRowIndex<true>();
  const units: Prepared[] = [];
  let duplicates = 0;
  let withoutInput = 0;
  for (const u of side.outputs) {
    if (u.clientRequestId !== null || u.correlationId !== null) {
      if (!seen.add(`${u.clientRequestId ?? ''}\u0000${u.correlationId ?? ''}`, u.row, true)) {
        duplicates += 1;
        continue;
      }
    }
    const inputUnit = inputs.of(u);
    if (inputUnit === undefined) withoutInput += 1;
    units.push({ unit: u, hasInput: inputUnit !== undefined, input: inputUnit?.value, used: false });
  }
  return { units, duplicates, withoutInput };
}

/** Joins by an id; returns pairs and how many id joins were refused for differing inputs. */
function joinById(b: Prepared[], c: Prepared[], idOf: (u: CollectedUnit) => string | null, pairs: [Prepared, Prepared][]): { joined: number; conflicts: number; unconfirmed: number } {
  const index = new IdRowIndex<Prepared>();
  for (const p of c) {
    if (p.used) continue;
    const id = idOf(p.unit);
    if (id !== null) index.add(id, p.unit.row, p);
  }
  let joined = 0;
  let conflicts = 0;
  let unconfirmed = 0;
  for (const p of b) {
    if (p.used) continue;
    const id = idOf(p.unit);
    if (id === null) continue;
    const q = index.get(id, p.unit.row);
    if (!q || q.used) continue;
    if (p.hasInput && q.hasInput && !sameInput(p, q)) {
      conflicts += 1;
      continue;
    }
    // Row 1, 2, … under one id is either a request that scored several rows or a line that batched several
    // requests under its first one's id: only equal inputs tell, so without both inputs it is not joined
    // by id (a lost pair costs less than a wrong one).
    if ((p.unit.row > 0 || q.unit.row > 0) && (!p.hasInput || !q.hasInput)) {
      unconfirmed += 1;
      continue;
    }
    p.used = true;
    q.used = true;
    pairs.push([p, q]);
    joined += 1;
  }
  return { joined, conflicts, unconfirmed };
}

/** Joins the rest by input hash, nearest in time within ±windowMs, each unit once. */
function joinByHash(b: Prepared[], c: Prepared[], windowMs: number, pairs: [Prepared, Prepared][]): number {
  const byHash = new Map<number, Prepared[]>();
  for (const p of c) {
    if (p.used || !p.hasInput) continue;
    const h = inputHash(p);
    const list = byHash.get(h);
    if (list) list.push(p);
    else byHash.set(h, [p]);
  }
  let joined = 0;
  const rest = b.filter((p) => !p.used && p.hasInput).sort((x, y) => x.unit.time - y.unit.time);
  for (const p of rest) {
    const list = byHash.get(inputHash(p));
    if (!list) continue;
    let best: Prepared | null = null;
    for (const q of list) {
      if (q.used) continue;
      const d = Math.abs(q.unit.time - p.unit.time);
      if (d <= windowMs && (best === null || d < Math.abs(best.unit.time - p.unit.time))) best = q;
    }
    if (best) {
      p.used = true;
      best.used = true;
      pairs.push([p, best]);
      joined += 1;
    }
  }
  return joined;
}

// ───────────────────────────── the aggregates ─────────────────────────────

type LabelRead = { ok: true; value: string } | { ok: false; problem: 'missing' | 'wrong_type' };

function readLabel(v: unknown): LabelRead {
  if (v === undefined) return { ok: false, problem: 'missing' };
  if (typeof v === 'boolean' || typeof v === 'string') return { ok: true, value: String(v) };
  if (typeof v === 'number' && Number.isFinite(v)) return { ok: true, value: String(v) };
  return { ok: false, problem: 'wrong_type' };
}

/** A bounded tally: at most `max` names, each at most MAX_VALUE_LENGTH long; the rest under OTHER. */
class Tally {
  readonly counts = new Map<string, number>();
  constructor(private readonly max: number) {}
  /** The name `v` is counted under (registering it while there is room). */
  name(v: string): string {
    if (v.length > MAX_VALUE_LENGTH) return OTHER;
    if (this.counts.has(v)) return v;
    if (this.counts.size < this.max) {
      this.counts.set(v, 0);
      return v;
    }
    return OTHER;
  }
}

/** Pairs the two sides' units and reduces the pairs to a {@link PairingSummary}. */
export function pairPredictions(baseline: SideUnits, candidate: SideUnits, settings: PairingSettings): PairingSummary {
  const windowMs = settings.joinWindowMs ?? 2000;
  const tolerance = settings.scoreTolerance ?? 0.1;
  const edges = [...(settings.scoreEdges ?? DEFAULT_SCORE_EDGES)];
  const B = prepareSide(baseline);
  const C = prepareSide(candidate);
  const pairs: [Prepared, Prepared][] = [];
  const byClient = joinById(B.units, C.units, (u) => u.clientRequestId, pairs);
  const byCorrelation = joinById(B.units, C.units, (u) => u.correlationId, pairs);
  const byHash = joinByHash(B.units, C.units, windowMs, pairs);

  const labelPath = formatFieldPath(settings.label);
  const labels = {
    compared: 0,
    disagreements: 0,
    missing: { baseline: 0, candidate: 0 },
    wrongType: { baseline: 0, candidate: 0 },
  };
  const classTally = new Tally(MAX_CLASSES);
  const classes = { baseline: new Map<string, number>(), candidate: new Map<string, number>() };
  const flips = new Map<string, FlipCount>();
  const problems = new Map<string, PathProblem>();
  const noteProblem = (field: 'label' | 'score', path: string, side: 'baseline' | 'candidate', problem: 'missing' | 'wrong_type', response: unknown) => {
    const k = `${field}|${side}|${problem}`;
    const p = problems.get(k);
    if (p) p.count += 1;
    else problems.set(k, { field, path, side, problem, count: 1, exampleShape: shapeOf(response) });
  };

  const scoreOn = settings.score !== undefined;
  const scorePath = scoreOn ? formatFieldPath(settings.score!) : '';
  const scoreBins = { baseline: new Array<number>(edges.length + 1).fill(0), candidate: new Array<number>(edges.length + 1).fill(0) };
  const scoresB: number[] = [];
  const scoresC: number[] = [];
  const scores = { compared: 0, overTolerance: 0, sumAbs: 0, missing: { baseline: 0, candidate: 0 }, wrongType: { baseline: 0, candidate: 0 } };

  const sliceState = (settings.slices ?? []).map((steps) => ({ field: formatFieldPath(steps), steps, tally: new Tally(MAX_SLICE_VALUES), values: new Map<string, SliceCount>(), unsliced: 0 }));

  for (const [p, q] of pairs) {
    const lb = readLabel(valueAt(p.unit.value, settings.label));
    const lc = readLabel(valueAt(q.unit.value, settings.label));
    if (!lb.ok) {
      labels[lb.problem === 'missing' ? 'missing' : 'wrongType'].baseline += 1;
      noteProblem('label', labelPath, 'baseline', lb.problem, p.unit.value);
    }
    if (!lc.ok) {
      labels[lc.problem === 'missing' ? 'missing' : 'wrongType'].candidate += 1;
      noteProblem('label', labelPath, 'candidate', lc.problem, q.unit.value);
    }
    let disagree: boolean | null = null;
    if (lb.ok && lc.ok) {
      labels.compared += 1;
      const nb = classTally.name(lb.value);
      classes.baseline.set(nb, (classes.baseline.get(nb) ?? 0) + 1);
      const nc = classTally.name(lc.value);
      classes.candidate.set(nc, (classes.candidate.get(nc) ?? 0) + 1);
      disagree = lb.value !== lc.value;
      if (disagree) {
        labels.disagreements += 1;
        const k = `${nb}\u0000${nc}`;
        const f = flips.get(k);
        if (f) f.count += 1;
        else flips.set(k, { baseline: nb, candidate: nc, count: 1 });
      }
    }
    if (scoreOn) {
      const sb = valueAt(p.unit.value, settings.score!);
      const sc = valueAt(q.unit.value, settings.score!);
      const okB = typeof sb === 'number' && Number.isFinite(sb);
      const okC = typeof sc === 'number' && Number.isFinite(sc);
      if (!okB) {
        scores[sb === undefined ? 'missing' : 'wrongType'].baseline += 1;
        noteProblem('score', scorePath, 'baseline', sb === undefined ? 'missing' : 'wrong_type', p.unit.value);
      }
      if (!okC) {
        scores[sc === undefined ? 'missing' : 'wrongType'].candidate += 1;
        noteProblem('score', scorePath, 'candidate', sc === undefined ? 'missing' : 'wrong_type', q.unit.value);
      }
      if (okB && okC) {
        scores.compared += 1;
        const d = Math.abs(sc - sb);
        scores.sumAbs += d;
        if (d > tolerance) scores.overTolerance += 1;
        scoreBins.baseline[binIndex(sb, edges)]! += 1;
        scoreBins.candidate[binIndex(sc, edges)]! += 1;
        scoresB.push(sb);
        scoresC.push(sc);
      }
    }
    for (const s of sliceState) {
      // The baseline's input, else the candidate's (the same request).
      const input = p.input !== undefined ? p.input : q.input;
      const v = input === undefined ? undefined : valueAt(input, s.steps);
      if (disagree === null) continue;
      if (typeof v !== 'string' && typeof v !== 'boolean') {
        s.unsliced += 1;
        continue;
      }
      const name = s.tally.name(String(v));
      const c = s.values.get(name) ?? { value: name, pairs: 0, disagreements: 0 };
      c.pairs += 1;
      if (disagree) c.disagreements += 1;
      s.values.set(name, c);
    }
  }

  const record = (m: Map<string, number>) => Object.fromEntries([...m.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)));
  return {
    outputs: { baseline: baseline.outputs.length, candidate: candidate.outputs.length },
    pairs: {
      joined: pairs.length,
      byClientRequestId: byClient.joined,
      byCorrelationId: byCorrelation.joined,
      byPayloadHash: byHash,
      unjoined: { baseline: B.units.filter((p) => !p.used).length, candidate: C.units.filter((p) => !p.used).length },
      idConflicts: byClient.conflicts + byCorrelation.conflicts,
      unconfirmedRows: byClient.unconfirmed + byCorrelation.unconfirmed,
      duplicates: { baseline: B.duplicates, candidate: C.duplicates },
      withoutInput: { baseline: B.withoutInput, candidate: C.withoutInput },
    },
    labels: {
      path: labelPath,
      ...labels,
      flips: [...flips.values()].sort((a, b) => b.count - a.count || (a.baseline + a.candidate < b.baseline + b.candidate ? -1 : 1)),
      classes: { baseline: record(classes.baseline), candidate: record(classes.candidate) },
    },
    scores: scoreOn
      ? {
          path: scorePath,
          compared: scores.compared,
          tolerance,
          overTolerance: scores.overTolerance,
          meanAbsDifference: scores.compared ? scores.sumAbs / scores.compared : null,
          edges,
          bins: scoreBins,
          psi: scores.compared ? psi(scoreBins.baseline, scoreBins.candidate) : null,
          jensenShannon: scores.compared ? jensenShannonDistance(scoreBins.baseline, scoreBins.candidate) : null,
          ks: ksStatistic(scoresB, scoresC),
          ksBinned: scores.compared ? ksFromBins(scoreBins.baseline, scoreBins.candidate) : null,
          missing: scores.missing,
          wrongType: scores.wrongType,
        }
      : null,
    slices: sliceState.map((s) => ({
      field: s.field,
      values: [...s.values.values()].sort((a, b) => b.disagreements - a.disagreements || b.pairs - a.pairs || (a.value < b.value ? -1 : 1)),
      unsliced: s.unsliced,
    })),
    pathProblems: [...problems.values()],
  };
}

/**
 * A one-line account of the pairs, e.g. `disagreement 4.9% (412/8,410 pairs) · isFraud false→true 398,
 * true→false 14 · worst slice merchantCategory=online 11.2%` (issue 16 item 4's status line).
 */
export function pairingLine(s: PairingSummary): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const fmt = (n: number) => n.toLocaleString('en-US');
  if (s.labels.compared === 0) return `no pairs compared (${fmt(s.pairs.joined)} joined, ${fmt(s.pairs.unjoined.baseline)}/${fmt(s.pairs.unjoined.candidate)} unjoined)`;
  const parts = [`disagreement ${pct(s.labels.disagreements / s.labels.compared)} (${fmt(s.labels.disagreements)}/${fmt(s.labels.compared)} pairs)`];
  const field = s.labels.path.replace(/^\$\./, '');
  if (s.labels.flips.length) parts.push(`${field} ${s.labels.flips.slice(0, 3).map((f) => `${f.baseline}→${f.candidate} ${fmt(f.count)}`).join(', ')}`);
  let worst: { field: string; value: string; rate: number } | null = null;
  for (const sl of s.slices) {
    for (const v of sl.values) {
      if (v.pairs < 20) continue;
      const rate = v.disagreements / v.pairs;
      if (!worst || rate > worst.rate) worst = { field: sl.field.replace(/^\$\./, ''), value: v.value, rate };
    }
  }
  if (worst && worst.rate > 0) parts.push(`worst slice ${worst.field}=${worst.value} ${pct(worst.rate)}`);
  return parts.join(' · ');
}
