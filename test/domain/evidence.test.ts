/**
 * The short form of a step's previous verdict that the workflow appends to the next metrics activity's
 * summary in the Temporal UI: closest-to-failing gates first, bounded, and absent for fixed-threshold
 * verdicts (so existing plans keep their summaries).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gateEvidenceLines, lastVerdictNote, shortEvidence, withLastVerdict } from '../../domain/evidence.js';
import { aVerdict } from '../client-unit/result-builder.js';
import { judgedVerdicts } from '../support/judged-verdicts.js';

const settings = { gates: [{ name: '5xx', tolerance: '1.5x' }, { name: 'latency p99', tolerance: '1.2x' }, { name: '424', tolerance: '+0.1%' }, { name: 'timeouts', tolerance: '+0.1%' }] };
const rates = { '5xx': { baseline: 0.005, candidate: 0.005 }, 'latency p99': { baseline: 0.01, candidate: 0.02 }, '424': { baseline: 0.001, candidate: 0.001 }, timeouts: { baseline: 0.001, candidate: 0.001 } };
const opts = { seed: 21, startIso: '2026-11-25T08:00:00.000Z', intervalMs: 60_000 };

describe('the previous verdict in an activity summary', () => {
  const verdicts = judgedVerdicts(settings, [{ stepIndex: 0, analyses: 2, candidateRequests: 600, baselineRequests: 3000, rates }], opts);

  test('names the status and the gates closest to failing first, with their evidence against the threshold; at most three', () => {
    const last = verdicts[1]!;
    const byRisk = [...last.judgement!.gates].sort((a, b) => Math.log(b.toFail.eValue) / Math.log(b.toFail.threshold) - Math.log(a.toFail.eValue) / Math.log(a.toFail.threshold));
    const note = lastVerdictNote(verdicts, 0)!;
    assert.equal(note, `last: ${last.status} · ${byRisk.slice(0, 3).map(shortEvidence).join(' · ')} · +1 more`);
    assert.match(note, /^last: inconclusive · latency p99 \S+\/400 to fail · /, 'four gates at α 0.01 need 400 to fail; the doubled latency gate leads');
    assert.equal(withLastVerdict('metrics blue vs green over 1m', verdicts, 0), `metrics blue vs green over 1m · ${note}`);
  });

  test('says so when the gate has failed or passed, and names a data problem', () => {
    const failed = judgedVerdicts({ gates: [{ name: '5xx', tolerance: '1.5x' }] }, [{ stepIndex: 2, analyses: 10, candidateRequests: 300, baselineRequests: 2700, rates: { '5xx': { baseline: 0.005, candidate: 0.06 } } }], opts);
    assert.match(lastVerdictNote(failed, 2)!, /^last: fail · 5xx failed \S+≥100$/);
    const missing = judgedVerdicts({ gates: [{ name: '5xx', tolerance: '1.5x' }] }, [{ stepIndex: 2, analyses: 2, candidateRequests: 300, baselineRequests: 2700, rates: { '5xx': { baseline: 0.005, candidate: 0.005 } }, missing: [2] }], opts);
    assert.match(lastVerdictNote(missing, 2)!, /^last: inconclusive · 5xx \S+\/100 to fail \(missing-data\)$/);
  });

  test('leaves the summary unchanged before the step’s first analysis, for another step, and for fixed-threshold verdicts', () => {
    assert.equal(withLastVerdict('metrics a vs b over 1m', [], 0), 'metrics a vs b over 1m');
    assert.equal(withLastVerdict('metrics a vs b over 1m', verdicts, 3), 'metrics a vs b over 1m');
    assert.equal(withLastVerdict('metrics a vs b over 1m', [...verdicts, aVerdict(0, 3, [100, 0.001], [104, 0.002])], 0), 'metrics a vs b over 1m', 'the newest analysis of the step has no judgement');
  });

  test('a long summary is cut to one UI line', () => {
    const long = judgedVerdicts({ gates: [{ name: 'x'.repeat(120), tolerance: 2 }, { name: 'y'.repeat(120), tolerance: 2 }] }, [{ stepIndex: 0, analyses: 1, candidateRequests: 600, baselineRequests: 3000, rates: { ['x'.repeat(120)]: { baseline: 0.01, candidate: 0.01 }, ['y'.repeat(120)]: { baseline: 0.01, candidate: 0.01 } } }], opts);
    const s = withLastVerdict('metrics a vs b over 1m', long, 0);
    assert.equal(s.length, 240);
    assert.ok(s.endsWith('…'));
  });

  test('evidence lines line the gates up', () => {
    const lines = gateEvidenceLines(verdicts[1]!.judgement!.gates);
    assert.deepEqual(lines.map((l) => l.indexOf('candidate')), [13, 13, 13, 13]);
  });
});
