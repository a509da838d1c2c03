// The candidate spec as users write it (Azure ML CLI v2 keys) becomes the ARM body Azure expects, and a
// deployment that already matches the spec is recognised so no write is made.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { deploymentBody, deploymentDifferences, isoDuration } from '../../activities/deployment-body.js';
import type { DeploymentSpec } from '../../domain/plan.js';

const spec: DeploymentSpec = {
  model: 'azureml:fraud-detector:2',
  environment: 'azureml:fraud-env:3',
  code_configuration: { code: 'azureml:fraud-code:2', scoring_script: 'score.py' },
  instance_type: 'Standard_DS3_v2',
  instance_count: 2,
  app_insights_enabled: true,
  egress_public_network_access: 'disabled',
  request_settings: { request_timeout_ms: 3000, max_concurrent_requests_per_instance: 4 },
  environment_variables: { LOG_LEVEL: 'info' },
  liveness_probe: { initial_delay: 10, period: 10, failure_threshold: 30 },
};

describe('milliseconds become ISO 8601 durations', () => {
  for (const [ms, iso] of [[3000, 'PT3S'], [500, 'PT0.5S'], [90_000, 'PT1M30S'], [3_600_000, 'PT1H'], [0, 'PT0S'], [180_000, 'PT3M']] as const) {
    test(`${ms} ms → ${iso}`, () => assert.equal(isoDuration(ms), iso));
  }
});

describe('the ARM body of a candidate', () => {
  const body = deploymentBody(spec, 'eastus');
  test('instance_count becomes sku.capacity and instance_type instanceType', () => {
    assert.deepEqual(body.sku, { name: 'Default', capacity: 2 });
    assert.equal(body.properties.instanceType, 'Standard_DS3_v2');
    assert.equal(body.location, 'eastus');
  });
  test('every CLI v2 key lands on its ARM property', () => {
    assert.deepEqual(body.properties, {
      endpointComputeType: 'Managed',
      model: 'azureml:fraud-detector:2',
      instanceType: 'Standard_DS3_v2',
      scaleSettings: { scaleType: 'Default' },
      environmentId: 'azureml:fraud-env:3',
      codeConfiguration: { codeId: 'azureml:fraud-code:2', scoringScript: 'score.py' },
      appInsightsEnabled: true,
      egressPublicNetworkAccess: 'Disabled',
      requestSettings: { requestTimeout: 'PT3S', maxConcurrentRequestsPerInstance: 4 },
      environmentVariables: { LOG_LEVEL: 'info' },
      livenessProbe: { initialDelay: 'PT10S', period: 'PT10S', failureThreshold: 30 },
    });
  });
});

describe('deciding whether a write is needed', () => {
  const desired = deploymentBody(spec, 'eastus');
  test('a deployment Azure reports back with its defaults filled in needs no write', () => {
    const existing = structuredClone(desired);
    Object.assign(existing.properties, {
      provisioningState: 'Succeeded',
      requestSettings: { requestTimeout: 'PT3S', maxConcurrentRequestsPerInstance: 4, maxQueueWait: 'PT0.5S' },
      readinessProbe: { period: 'PT10S' },
    });
    assert.deepEqual(deploymentDifferences(existing, desired), []);
  });
  test('a new model version or instance count is a difference, named by its plan key', () => {
    const existing = structuredClone(desired);
    existing.properties.model = 'azureml:fraud-detector:1';
    existing.sku = { name: 'Default', capacity: 3 };
    assert.deepEqual(deploymentDifferences(existing, desired), ['model', 'instance_count']);
  });
});
