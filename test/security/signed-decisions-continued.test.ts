/**
 * Signed decisions across continue-as-new (issue 13 items 1 and 5 together): on a dev server that suggests
 * continuing as new past 150 events, a rollout that requires signed decisions bakes long enough to continue
 * as new runs before its approval. The trusted signers loaded by the first run travel in the state (the
 * worker is asked once); a decision signed for the run the signer sees is accepted in that later run and
 * recorded as verified; a typed name is still refused there.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import * as messages from '../../workflows/messages.js';
import { FakeAzure, aPlanDocument, runRollout } from '../support/builders.js';
import { signedInput } from '../support/signers.js';
import { CONTINUE_AS_NEW_AT_150, useDevServer } from '../support/temporal.js';

const dev = useDevServer({ extraArgs: CONTINUE_AS_NEW_AT_150 });

test('after continue-as-new the rollout still holds the trusted signers: a signed approval for the current run counts, verified; a typed one does not', async () => {
  const fake = new FakeAzure();
  const seen: { typed?: string; runId?: string; firstRunId?: string } = {};
  fake.hooks.onNotify = async (n, { handle }) => {
    if (n.kind !== 'approval_requested') return;
    const d = await handle.describe();
    seen.runId = d.runId;
    seen.firstRunId = (d.raw.workflowExecutionInfo?.firstRunId as string | undefined) ?? undefined;
    try {
      await handle.executeUpdate(messages.approve, { args: [{ by: 'alice@contoso.com', stepIndex: n.approval!.stepIndex }] });
      seen.typed = '(accepted)';
    } catch (err) {
      assert.ok(err instanceof WorkflowUpdateFailedError);
      seen.typed = err.cause?.message ?? '';
    }
    const input = signedInput({ workflowId: handle.workflowId, runId: d.runId, stepIndex: n.approval!.stepIndex, decision: 'approve', person: 'bob@contoso.com', channel: 'slack', timeMs: Date.now(), signer: 'slack-bridge' });
    await handle.executeUpdate(messages.approve, { args: [input] });
  };
  const plan = aPlanDocument((d) => {
    d.strategy = [{ mirror: { percent: 20, bake: '30s' } }, { approval: { timeout: '1h', onTimeout: 'rollback' } }, { promote: { rollbackWindow: '1s' } }, { retire: {} }];
    d.analysis = { interval: '1s', failureLimit: 2, minRequests: 100, onInconclusive: 'extend', maxExtensions: 1 };
    delete d.gates.webhook;
    d.approvals = { approvers: ['alice@contoso.com', 'bob@contoso.com'], fourEyes: true, verified: true };
  });
  const r = await runRollout(dev.env, { fake, plan, workflowBundle: dev.bundle });
  assert.equal(r.result.outcome, 'promoted', r.result.reason);
  assert.ok(seen.runId && seen.firstRunId && seen.runId !== seen.firstRunId, `the approval was asked in a later run (run ${seen.runId}, first ${seen.firstRunId})`);
  assert.equal(fake.count('trustedSigners'), 1, 'the worker was asked once: later runs carry the signers');
  assert.match(String(seen.typed), /this one is unsigned/);
  assert.deepEqual(r.result.approvals.map((a) => [a.decision, a.by, a.verified, a.signer]), [['approved', 'bob@contoso.com', true, 'slack-bridge']]);
});
