// readDataCollection against the emulator: a deployment's dataCollector read raw (the SDK 2.1.1 drops it),
// and the workspace's blob store found from the workspaceblobstore datastore — the URL and container the
// prediction gates read, which really hold the collected lines (read back with @azure/storage-blob).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities/create-activities.js';
import type { ReadDataCollectionInput, ReadDataCollectionResult } from '../../activities/types.js';
import { emulatorCredential, type Emulator } from '../../emulator/index.js';
import { aRawDeployment, anEndpointWith, armClient, RG, startTestEmulator, SUB, WS } from '../emulator/support.js';

let emu: Emulator;
before(async () => {
  emu = await startTestEmulator({ provisionTimeMs: 100 });
});
after(async () => {
  await emu?.close();
});

test('readDataCollection reports which collections a deployment has on, its captured headers, and the workspace blob store; nothing for a plain deployment', { timeout: 120_000 }, async () => {
  const arm = armClient(emu);
  await anEndpointWith(arm, 'dc-read', { plain: 'azureml:fraud-detector:1' });
  await aRawDeployment(emu, 'dc-read', 'collecting', {
    model: 'azureml:fraud-detector:2',
    dataCollector: {
      collections: { model_inputs: { dataCollectionMode: 'Enabled' }, model_outputs: { dataCollectionMode: 'Enabled' }, request: { dataCollectionMode: 'Disabled' } },
      rollingRate: 'Day',
      requestLogging: { captureHeaders: ['x-ms-client-request-id'] },
    },
  });
  const acts = createActivities({ azure: { cloud: 'emulator', url: emu.url, caCertPem: emu.caCertPem, credential: emulatorCredential() } });
  const endpoint = { subscriptionId: SUB, resourceGroup: RG, workspace: WS, endpoint: 'dc-read' };
  const env = new MockActivityEnvironment();
  const read = (input: ReadDataCollectionInput) => env.run(acts.readDataCollection, input) as Promise<ReadDataCollectionResult>;
  const collecting = await read({ endpoint, deployment: 'collecting' });
  assert.equal(collecting.exists, true);
  assert.deepEqual(collecting.collections, { model_inputs: true, model_outputs: true, request: false });
  assert.equal(collecting.rollingRate, 'Day');
  assert.deepEqual(collecting.captureHeaders, ['x-ms-client-request-id']);
  const b = await emu.blobStore();
  assert.deepEqual(collecting.store, { blobEndpoint: b.url, container: emu.workspaceBlobContainer(SUB, RG, WS) });
  assert.ok(!JSON.stringify(collecting).includes(b.accountKey), 'no account key is read');

  const plain = await read({ endpoint, deployment: 'plain' });
  assert.deepEqual({ exists: plain.exists, collections: plain.collections, captureHeaders: plain.captureHeaders }, { exists: true, collections: {}, captureHeaders: [] });
  const missing = await read({ endpoint, deployment: 'nope' });
  assert.equal(missing.exists, false);
});
