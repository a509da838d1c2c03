/**
 * Replay tests: the committed histories (recorded from real runs by test/replay/record-histories.ts)
 * must replay against the current workflow code. A change to the commands the workflow issues breaks
 * them — which is the point: such a change must go behind `patched()`.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { rolloutWorkflowId } from '../../domain/ids.js';
import { installTestRuntime, workflowBundle } from '../support/temporal.js';

const dir = fileURLToPath(new URL('./histories/', import.meta.url));
const histories = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => ({ name: f, history: JSON.parse(readFileSync(join(dir, f), 'utf8')) as unknown }));

let current: WorkflowBundleWithSourceMap;
let reordered: WorkflowBundleWithSourceMap;
before(async () => {
  installTestRuntime();
  current = await workflowBundle();
  // Bundled fresh (not through the disk cache, whose key covers only the fixture's own folder and domain/).
  reordered = await bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL('./fixtures/reordered-workflows.ts', import.meta.url)),
    logger: new DefaultLogger('WARN'),
  });
});

describe('committed histories replay against the current workflow code', () => {
  test('there is at least one promoted and one rolled-back history', () => {
    assert.ok(histories.some((h) => h.name.startsWith('promoted')));
    assert.ok(histories.some((h) => h.name.startsWith('rolled-back')));
  });

  for (const { name, history } of histories) {
    test(`${name} replays without nondeterminism`, async () => {
      // Under its real workflow id, as a worker replays it: a signed decision names its rollout, and a signal's
      // signature is checked again on replay (signed-signal-approvals.json).
      await Worker.runReplayHistory({ workflowBundle: current, replayName: name }, history, workflowIdOf(history));
    });
  }

  test('signed-signal-approvals.json was recorded with signed decisions: the patch, the trusted signers and two verified approvals', () => {
    const h = histories.find((x) => x.name === 'signed-signal-approvals.json')!.history;
    assert.ok(patchIds(h).includes('signed-decisions'));
    const text = JSON.stringify(h);
    assert.ok(text.includes('"activityType":{"name":"trustedSigners"}'), 'the trust was loaded by the activity');
  });

  test('changing the order of the workflow’s commands is caught as nondeterminism', async () => {
    for (const { name, history } of histories) {
      await assert.rejects(
        Worker.runReplayHistory({ workflowBundle: reordered, replayName: `${name} (reordered)` }, history),
        (err: unknown) => {
          assert.ok(err instanceof DeterminismViolationError, `${name}: expected DeterminismViolationError, got ${String(err)}`);
          assert.match(err.message, /Nondeterminism|nondeterminism/);
          return true;
        },
      );
    }
  });
});

/** A history whose workflow input is changed by `edit` (payloads are base64 JSON in proto3 JSON histories). */
function withInput(history: unknown, edit: (input: Record<string, unknown>) => void): unknown {
  const copy = structuredClone(history) as { events: { workflowExecutionStartedEventAttributes?: { input: { payloads: { data: string }[] } } }[] };
  const payload = copy.events[0]!.workflowExecutionStartedEventAttributes!.input.payloads[0]!;
  const input = JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8')) as Record<string, unknown>;
  edit(input);
  payload.data = Buffer.from(JSON.stringify(input)).toString('base64');
  return copy;
}

/** The rollout's workflow id: the business key of the endpoint in the history's input. */
function workflowIdOf(history: unknown): string {
  let id = '';
  withInput(history, (input) => {
    const target = ((input.normalized ?? input.plan) as { target: Parameters<typeof rolloutWorkflowId>[0] }).target;
    id = rolloutWorkflowId(target);
  });
  return id;
}

/** The patch markers a history recorded. */
function patchIds(history: unknown): string[] {
  const events = (history as { events: { markerRecordedEventAttributes?: { details?: Record<string, { payloads: { data: string }[] }> } }[] }).events;
  return events.flatMap((e) => {
    const data = e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads[0]?.data;
    return data ? [(JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { id: string }).id] : [];
  });
}

describe('a running rollout works from the plan as parsed when it started', () => {
  const minimal = histories.find((h) => h.name === 'minimal.json')!.history;
  // The default mirror bake (30m) shortened to 10m, as a later release might: fewer analyses, other commands.
  const changedDefault = async () => {
    const code = current.code.replace(/(kind: 'mirror',\s*percent: 20,\s*bakeMs: )30 \* 60000/, '$110 * 60000');
    assert.notEqual(code, current.code, 'the bundle has DEFAULT_STRATEGY as expected');
    return { code } as WorkflowBundleWithSourceMap;
  };

  test('the minimal.yaml history was recorded with the normalized plan and the read-compare-write traffic patch; the older ones without', () => {
    assert.deepEqual(patchIds(minimal), ['traffic-read-compare-write']);
    for (const name of ['promoted.json', 'rolled-back.json']) assert.deepEqual(patchIds(histories.find((h) => h.name === name)!.history), [], name);
  });

  test('a changed default in domain/plan.ts does not change how a running minimal.yaml rollout replays', async () => {
    await Worker.runReplayHistory({ workflowBundle: await changedDefault(), replayName: 'minimal (changed default)' }, minimal);
  });

  test('without the normalized plan in its input, the same changed default breaks the replay (so the test above can fail)', async () => {
    const unnormalized = withInput(minimal, (input) => delete input.normalized);
    await Worker.runReplayHistory({ workflowBundle: current, replayName: 'minimal (document only)' }, unnormalized); // same code: fine
    await assert.rejects(Worker.runReplayHistory({ workflowBundle: await changedDefault(), replayName: 'minimal (document only, changed default)' }, unnormalized), DeterminismViolationError);
  });
});

