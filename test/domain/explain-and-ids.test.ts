import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { rolloutAlreadyRunningMessage, rolloutStartOptions, rolloutStaticDetails, rolloutStaticSummary } from '../../domain/audit.js';
import { formatDuration, formatSpan, parseDuration } from '../../domain/duration.js';
import { ErrorType, NON_RETRYABLE_ERROR_TYPES, isErrorType } from '../../domain/errors.js';
import { explain } from '../../domain/explain.js';
import { endpointResourceId, resourceIdFromWorkflowId, rolloutWorkflowId } from '../../domain/ids.js';
import { policyViolations } from '../../domain/policies.js';
import { aMinimalPlanDocument, aPlan, aPlanDocument } from '../support/builders.js';

const minute = 60_000;
const hour = 60 * minute;

describe('explain(plan) on the example plan', () => {
  const x = explain(aPlan());

  test('the timeline lists every step with the traffic it sets', () => {
    assert.deepEqual(
      x.entries.map((e) => [e.title, e.traffic]),
      [
        ['mirror 20%', 'blue 100% | mirror 20% → green'],
        ['cost check', 'blue 100% | mirror 20% → green'],
        ['approval', 'blue 100% | mirror 20% → green'],
        ['canary 10%', 'blue 90% | green 10% | mirror 0%'],
        ['canary 50% (approval first)', 'blue 50% | green 50% | mirror 0%'],
        ['promote to 100%', 'green 100% | mirror 0%'],
        ['retire baseline', 'green 100% | mirror 0%'],
      ],
    );
  });

  test('a bake { min, max } says it may end early; a plain bake does not', () => {
    const judged = explain(aPlan(aPlanDocument((d) => (d.strategy[3].canary.bake = { min: '5m', max: '15m' }))));
    assert.match(judged.entries[3]!.notes.join('; '), /bake 15m \(may end after 5m once the judge passes it\)/);
    assert.doesNotMatch(x.entries[3]!.notes.join('; '), /may end/);
  });

  test('expected duration is the bakes plus the rollback window: 30m + 15m + 30m + 1h', () => {
    assert.equal(x.expectedMs, 30 * minute + 15 * minute + 30 * minute + hour);
  });

  test('worst case adds extensions, near-limit failures and both 24h approval timeouts', () => {
    // each bake: + (failureLimit 2 − 1 + maxExtensions 3) × 1m = + 4m
    const bakes = 30 * minute + 4 * minute + (15 * minute + 4 * minute) + (30 * minute + 4 * minute);
    assert.equal(x.worstCaseMs, bakes + 24 * hour + 24 * hour + hour);
    assert.equal(x.boundedWorstCaseMs, Math.min(x.worstCaseMs!, 72 * hour));
  });

  test('the text names the steps, the worst case, the deadline and the rollback', () => {
    assert.match(x.text, /Rollout of green on fraud-detection \(baseline blue\), 7 steps:/);
    // The test builders' plan does not require signed decisions (examples/rollout.yaml does: see plan.test.ts).
    assert.match(x.text, /waits up to 24h for alice@contoso\.com or slack:U024BE7LH \(not the starter\), unverified \(typed names\); on timeout: rollback/);
    assert.match(explain(aPlan(aPlanDocument((d) => (d.approvals.verified = true)))).text, /\(not the starter\), signed by a trusted signer; on timeout: rollback/);
    assert.match(x.text, /Worst case: 2d 2h 27m; the deadline 72h caps it at 2d 2h 27m \(then it rolls back\)/);
    assert.match(x.text, /traffic back to blue 100%, mirror off, read back from the endpoint; candidate kept/);
  });

  test('an approval that pauses on timeout makes the worst case wait for a person, capped by the deadline', () => {
    const p = explain(aPlan(aPlanDocument((d) => (d.strategy[2].approval.onTimeout = 'pause'))));
    assert.equal(p.worstCaseMs, null);
    assert.equal(p.boundedWorstCaseMs, 72 * hour);
  });

  test('a minimal plan explains the default strategy with a placeholder baseline', () => {
    const m = explain(aPlan(aMinimalPlanDocument()));
    assert.equal(m.baseline, '<baseline>');
    assert.equal(m.entries.length, 6);
  });
});

describe('ids, durations, errors, policies and the audit trail', () => {
  const plan = aPlan();

  test('the workflow id is the endpoint resource id, lower-cased, behind a prefix', () => {
    assert.equal(
      endpointResourceId(plan.target),
      '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ml-prod/providers/Microsoft.MachineLearningServices/workspaces/fraud-prod/onlineEndpoints/fraud-detection',
    );
    const id = rolloutWorkflowId(plan.target);
    assert.equal(id, `glidepath-rollout:${endpointResourceId(plan.target).toLowerCase()}`);
    assert.equal(rolloutWorkflowId({ ...plan.target, resourceGroup: 'ML-Prod' }), id, 'ARM ids are case-insensitive');
    assert.equal(resourceIdFromWorkflowId(id), endpointResourceId(plan.target).toLowerCase());
    assert.equal(resourceIdFromWorkflowId('other'), undefined);
  });

  const durations: [string, number | undefined][] = [['45s', 45_000], ['30m', 30 * minute], ['24h', 24 * hour], ['2d', 48 * hour], ['250ms', 250], ['1.5h', undefined], ['10', undefined], ['', undefined]];
  for (const [text, ms] of durations) test(`duration ${JSON.stringify(text)} → ${ms}`, () => assert.equal(parseDuration(text), ms));
  test('durations format back to their shortest spelling', () => {
    assert.deepEqual([formatDuration(45_000), formatDuration(90 * minute), formatDuration(24 * hour), formatDuration(72 * hour), formatDuration(7 * 24 * hour), formatDuration(1500)], ['45s', '90m', '24h', '72h', '7d', '1500ms']);
    assert.equal(formatSpan(3_723_000), '1h 2m 3s');
  });

  test('error types are a closed set of names', () => {
    assert.ok(isErrorType('TrafficDrift'));
    assert.ok(!isErrorType('Whatever'));
    for (const t of NON_RETRYABLE_ERROR_TYPES) assert.equal(ErrorType[t], t);
  });

  test('the example candidate meets the example policies', () => assert.deepEqual(policyViolations(plan), []));
  test('policy violations name the field and the policy', () => {
    const bad = aPlan(
      aPlanDocument((d) => {
        d.candidate.deployment.egress_public_network_access = 'enabled';
        delete d.candidate.deployment.app_insights_enabled;
        d.candidate.deployment.instance_type = 'Standard_NC24';
      }),
    );
    assert.deepEqual(
      policyViolations(bad).map((v) => `${v.path}: ${v.message}`),
      [
        'candidate.deployment.egress_public_network_access: must be disabled (policies.requireEgressDisabled), got enabled',
        'candidate.deployment.app_insights_enabled: must be true (policies.requireAppInsights), got unset',
        'candidate.deployment.instance_type: Standard_NC24 is not allowed (policies.allowedInstanceTypes: Standard_DS3_v2, Standard_F4s_v2)',
      ],
    );
  });

  test('start options make the workflow id a business key with conflict policy FAIL, and fill the UI', () => {
    const o = rolloutStartOptions(plan, 'ci@contoso.com');
    assert.equal(o.workflowId, rolloutWorkflowId(plan.target));
    assert.equal(o.workflowIdConflictPolicy, 'FAIL');
    assert.equal(o.staticSummary, rolloutStaticSummary(plan, 'ci@contoso.com'));
    assert.equal(o.staticSummary, 'Roll out green (azureml:fraud-detector:2) to fraud-detection, started by ci@contoso.com');
    assert.match(rolloutStaticDetails(plan, 'ci@contoso.com'), /\*\*Candidate\*\* `green`: model `azureml:fraud-detector:2`, 2 × Standard_DS3_v2/);
    assert.deepEqual(o.searchAttributes, { GlidepathEndpoint: 'fraud-detection', GlidepathCandidate: 'green', GlidepathStage: 'preflight' });
  });

  test('the refusal of a second rollout names the running one', () => {
    assert.equal(
      rolloutAlreadyRunningMessage({ endpoint: 'fraud-detection', workflowId: 'wf', runId: 'r1', summary: 'Roll out green' }),
      'a rollout is already running on endpoint fraud-detection: workflow wf (run r1) — Roll out green; wait for it to finish, or abort it first',
    );
  });
});
