import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorType } from '../../domain/errors.js';
import { parsePlan } from '../../domain/plan.js';
import { policyRefusal, preflightEndpoint, type PreflightEndpoint } from '../../domain/preflight.js';
import { afterApprovalTimeout, afterCostCheck, planStop, type StopFacts, type StopPlan } from '../../domain/step-decisions.js';
import { aPlanDocument } from '../support/builders.js';

const plan = (patch: (d: ReturnType<typeof aPlanDocument>) => void = () => undefined) => {
  const d = aPlanDocument();
  patch(d);
  const r = parsePlan(d);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.plan;
};
const endpoint = (patch: Partial<PreflightEndpoint> = {}): PreflightEndpoint => ({
  name: 'fraud',
  provisioningState: 'Succeeded',
  traffic: { live: { blue: 100 }, mirror: {} },
  deployments: [{ name: 'blue' }],
  ...patch,
});

/** The builder's plan names `blue`; these let preflight find the baseline. */
const unnamed = (d: ReturnType<typeof aPlanDocument>) => {
  delete d.baseline;
};

describe('preflight: may the rollout start on this endpoint?', () => {
  const cases: [string, Parameters<typeof plan>[0], Partial<PreflightEndpoint>, string | null, RegExp][] = [
    ['the deployment holding 100% is the baseline', unnamed, {}, null, /blue/],
    ['an endpoint still provisioning is not ready', undefined, { provisioningState: 'Updating' }, ErrorType.EndpointNotReady, /fraud is Updating, not Succeeded/],
    ['a named baseline that is not a deployment is not found, and the message lists what is there', (d) => (d.baseline = 'purple'), {}, ErrorType.DeploymentNotFound, /baseline purple is not a deployment of endpoint fraud \(deployments: blue\)/],
    ['a named baseline that does not hold 100% is refused', (d) => (d.baseline = 'blue'), { traffic: { live: { blue: 90, other: 10 }, mirror: {} }, deployments: [{ name: 'blue' }, { name: 'other' }] }, ErrorType.NoBaseline, /baseline blue does not hold 100% of live traffic/],
    ['a split endpoint has no baseline', unnamed, { traffic: { live: { blue: 50, other: 50 }, mirror: {} } }, ErrorType.NoBaseline, /no deployment holds 100% of live traffic .* name the baseline or restore it first/],
    ['the candidate already holding 100% is refused', unnamed, { traffic: { live: { green: 100 }, mirror: {} }, deployments: [{ name: 'green' }] }, ErrorType.NoBaseline, /the candidate green already holds 100%/],
    ['an endpoint that already mirrors is not ready', undefined, { traffic: { live: { blue: 100 }, mirror: { other: 10 } } }, ErrorType.EndpointNotReady, /already mirrors traffic .* turn mirroring off first/],
  ];
  for (const [title, patch, ep, type, message] of cases) {
    test(title, () => {
      const r = preflightEndpoint(plan(patch), endpoint(ep));
      if (type === null) {
        assert.ok(r.ok, JSON.stringify(r));
        assert.match(r.baseline, message);
      } else {
        assert.ok(!r.ok, 'expected a refusal');
        assert.equal(r.refusal.type, type);
        assert.match(r.refusal.message, message);
      }
    });
  }

  test('a candidate that breaks a policy is refused before anything is read, naming the path', () => {
    const r = policyRefusal(plan((d) => (d.policies = { allowedInstanceTypes: ['Standard_F4s_v2'] })));
    assert.equal(r?.type, ErrorType.PolicyViolation);
    assert.match(r?.message ?? '', /candidate\.deployment\.instance_type: Standard_DS3_v2 is not allowed/);
    assert.equal(policyRefusal(plan()), null);
  });
});

describe('after a cost check', () => {
  const pass = { status: 'pass' as const, reasons: ['within budget'] };
  const fail = { status: 'fail' as const, reasons: ['projected $900/month > budget $500/month'] };
  const unknown = { status: 'inconclusive' as const, reasons: ['no price for Standard_X'] };
  test('a pass continues and a fail rolls back quoting the step and the reason', () => {
    assert.deepEqual(afterCostCheck(pass, 2, 'extend'), { action: 'continue' });
    assert.deepEqual(afterCostCheck(fail, 2, 'extend'), { action: 'rollback', reason: 'step 2 (cost check): projected $900/month > budget $500/month' });
  });
  test('an unknown price rolls back with onInconclusive rollback, and pauses for a person with pause — and, on purpose, with extend', () => {
    assert.deepEqual(afterCostCheck(unknown, 3, 'rollback'), { action: 'rollback', reason: 'step 3 (cost check) inconclusive: no price for Standard_X' });
    const paused = { action: 'pause', reason: 'cost check inconclusive: no price for Standard_X; resume accepts the cost' };
    assert.deepEqual(afterCostCheck(unknown, 3, 'pause'), paused);
    assert.deepEqual(afterCostCheck(unknown, 3, 'extend'), paused);
  });
});

describe('after an approval timeout', () => {
  test('each onTimeout gives its decision and says what happens', () => {
    const r = afterApprovalTimeout({ timeoutMs: 3_600_000, onTimeout: 'rollback' }, 'canary 50%');
    assert.equal(r.action, 'rollback');
    assert.equal(r.why, 'no decision on canary 50% within 1h (onTimeout: rollback)');
    assert.match(r.action === 'rollback' ? r.reason : '', /^approval timed out: no decision on canary 50%/);
    assert.match(afterApprovalTimeout({ timeoutMs: 60_000, onTimeout: 'proceed' }, 'approval').notice, /; proceeding$/);
    const w = afterApprovalTimeout({ timeoutMs: 60_000, onTimeout: 'pause' }, 'approval');
    assert.equal(w.action, 'wait');
    assert.match(w.notice, /still waiting for approve or reject$/);
  });
});

describe('how a stopped rollout ends', () => {
  const none: StopFacts = { requested: null, decided: null, cancelledFromOutside: false, touchedEndpoint: true, failure: null };
  const gate = { outcome: 'rolled_back' as const, reason: 'step 1 (mirror 20%): 2 consecutive failed analyses' };
  const abort = { outcome: 'aborted' as const, reason: 'aborted by ops@contoso.com' };
  const rows: [string, Partial<StopFacts>, StopPlan][] = [
    ['a failed gate rolls back with its reason', { decided: gate }, { action: 'rollback', ...gate, errorType: null, endCancelled: false }],
    ['an abort requested first wins over the cancellation it caused', { requested: abort, failure: { type: null, description: 'cancelled' } }, { action: 'rollback', ...abort, errorType: null, endCancelled: false }],
    ['an abort requested first wins over a gate decided in the same task', { requested: abort, decided: gate }, { action: 'rollback', ...abort, errorType: null, endCancelled: false }],
    ['a failure before the endpoint was touched fails the execution', { touchedEndpoint: false, failure: { type: 'EndpointNotFound', description: 'no such endpoint' } }, { action: 'fail' }],
    [
      'a failure after the candidate was created rolls back as failed with its type',
      { failure: { type: 'DeploymentFailed', description: 'activity ensureDeployment failed: DeploymentFailed: crash loop' } },
      { action: 'rollback', outcome: 'failed', reason: 'activity ensureDeployment failed: DeploymentFailed: crash loop', errorType: 'DeploymentFailed', endCancelled: false },
    ],
    ['a cancellation from outside rolls back as aborted and ends cancelled, even before anything changed', { cancelledFromOutside: true, touchedEndpoint: false }, { action: 'rollback', outcome: 'aborted', reason: 'the workflow was cancelled', errorType: null, endCancelled: true }],
    ['a gate decided before a cancellation from outside keeps its outcome, and the execution still ends cancelled', { decided: gate, cancelledFromOutside: true }, { action: 'rollback', ...gate, errorType: null, endCancelled: true }],
  ];
  for (const [title, facts, expected] of rows) {
    test(title, () => assert.deepEqual(planStop({ ...none, ...facts }), expected));
  }
});
