// The worker's environment configuration: defaults, and a clear error naming the variable for bad values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { armBudgetShare, defaultArmBudget } from '../../activities/azure-clients.js';
import { ConfigError, loadWorkerConfig } from '../../worker/config.js';

const azure = (extra: Record<string, string> = {}) => ({ GLIDEPATH_CLOUD: 'azure', TEMPORAL_ADDRESS: '127.0.0.1:7233', ...extra });

test('the worker allows itself half of ARM’s per-principal limits per subscription unless told otherwise', () => {
  const config = loadWorkerConfig(azure());
  assert.equal(config.armBudgetPercent, 50);
  assert.deepEqual(armBudgetShare(config.armBudgetPercent), defaultArmBudget);
  assert.deepEqual(defaultArmBudget, { reads: { perSecond: 12.5, burst: 125 }, writes: { perSecond: 5, burst: 100 }, deletes: { perSecond: 5, burst: 100 } });
  assert.deepEqual(armBudgetShare(loadWorkerConfig(azure({ GLIDEPATH_ARM_BUDGET_PERCENT: '100' })).armBudgetPercent).reads, { perSecond: 25, burst: 250 });
});

for (const [value, message] of [
  ['0', /GLIDEPATH_ARM_BUDGET_PERCENT: must be 1\.\.100/],
  ['150', /GLIDEPATH_ARM_BUDGET_PERCENT: must be 1\.\.100/],
  ['lots', /GLIDEPATH_ARM_BUDGET_PERCENT: must be a number/],
] as const) {
  test(`GLIDEPATH_ARM_BUDGET_PERCENT=${value} is refused with a message naming the variable`, () => {
    assert.throws(() => loadWorkerConfig(azure({ GLIDEPATH_ARM_BUDGET_PERCENT: value })), (err: unknown) => err instanceof ConfigError && message.test(err.message));
  });
}

test('the emulator cloud without its URL is refused, naming GLIDEPATH_EMULATOR_URL', () => {
  assert.throws(() => loadWorkerConfig({ GLIDEPATH_CLOUD: 'emulator', GLIDEPATH_EMULATOR_CA: '/nonexistent' }), /GLIDEPATH_EMULATOR_URL: required when GLIDEPATH_CLOUD=emulator/);
});

test('GLIDEPATH_INGESTION_DELAY picks Azure’s delays or none; unset leaves the cloud’s default; anything else is refused by name', () => {
  assert.equal(loadWorkerConfig(azure()).ingestionDelay, undefined);
  assert.equal(loadWorkerConfig(azure({ GLIDEPATH_INGESTION_DELAY: 'azure' })).ingestionDelay, 'azure');
  assert.equal(loadWorkerConfig(azure({ GLIDEPATH_INGESTION_DELAY: 'none' })).ingestionDelay, 'none');
  assert.throws(() => loadWorkerConfig(azure({ GLIDEPATH_INGESTION_DELAY: '3m' })), (err: unknown) => err instanceof ConfigError && /GLIDEPATH_INGESTION_DELAY: must be azure or none/.test(err.message));
});
