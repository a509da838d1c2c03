// docker-compose.yml, read as Compose reads it (no engine here to bring it up): Temporal from its supported
// images (no auto-setup), every service either checked for health or a one-shot job, every dependency
// waiting on a condition, and the worker reaching the emulator by a name its certificate carries.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { repoRoot } from '../support/temporal.js';

interface Service {
  image?: string;
  command?: string[] | string;
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test?: string[]; disable?: boolean };
  restart?: string;
  network_mode?: string;
  environment?: Record<string, string>;
}
const compose = parse(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;

test('Temporal runs from temporalio/server with admin-tools jobs for the schema and the namespace, not the retired auto-setup image', () => {
  assert.ok(Object.values(services).every((s) => !s.image?.includes('auto-setup')), 'no temporalio/auto-setup');
  assert.match(services.temporal!.image!, /^temporalio\/server:\d+\.\d+\.\d+$/);
  assert.match(services['temporal-schema']!.image!, /^temporalio\/admin-tools:/);
  assert.match(String(services['temporal-schema']!.command), /update-schema/);
  assert.match(String(services['temporal-namespace']!.command), /namespace create --namespace default/);
  assert.deepEqual(services['glidepath-setup']!.command, ['setup'], 'the search attributes by `glidepath setup`');
});

test('every long-running service has a health check and every dependency waits on a condition', () => {
  const oneShot = Object.entries(services).filter(([, s]) => s.restart === 'no').map(([n]) => n);
  assert.deepEqual(oneShot.sort(), ['glidepath-setup', 'temporal-namespace', 'temporal-schema']);
  for (const [name, s] of Object.entries(services)) {
    if (!oneShot.includes(name)) assert.ok(s.healthcheck?.test && !s.healthcheck.disable, `${name} has a health check`);
    assert.ok(!Array.isArray(s.depends_on), `${name}: depends_on names conditions`);
    for (const [dep, c] of Object.entries(s.depends_on ?? {})) {
      const wanted = services[dep]!.restart === 'no' ? 'service_completed_successfully' : 'service_healthy';
      assert.equal(c.condition, wanted, `${name} → ${dep}`);
    }
  }
});

test('the worker reaches the emulator by its service name, which the emulator puts in its certificate (--san), without sharing its network', () => {
  const emulator = services.emulator!.command as string[];
  assert.equal(emulator[emulator.indexOf('--san') + 1], 'emulator');
  assert.equal(emulator[emulator.indexOf('--host') + 1], '0.0.0.0');
  const worker = services.worker!;
  assert.equal(worker.network_mode, undefined);
  assert.equal(worker.environment?.GLIDEPATH_EMULATOR_URL, `https://emulator:${emulator[emulator.indexOf('--port') + 1]}`);
});
