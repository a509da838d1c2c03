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
      await Worker.runReplayHistory({ workflowBundle: current, replayName: name }, history);
    });
  }

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
