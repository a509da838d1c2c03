// The emulator's pending-upload step for code (reference azure-ml-cli-assets.md §1 step 5): `POST
// …/codes/{name}/versions/{version}/startPendingUpload` with `{"pendingUploadType":"TemporaryBlobReference"}`
// answers a temporary container in its Azurite and a real container SAS. @azure/arm-machinelearning 2.1.1 has no
// method for the call, so it is sent as a raw request through the unmodified client's own pipeline (bearer
// token, TLS); the upload goes through @azure/storage-blob with nothing but the SAS URL, as az ml uploads.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import { createPipelineRequest } from '@azure/core-rest-pipeline';
import { BlobServiceClient, ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import type { Emulator } from '../../emulator/index.js';
import { armClient, raw, RG, startTestEmulator, SUB, WS, WS_PATH } from './support.js';

let emu: Emulator;
let arm: AzureMachineLearningWorkspaces;

before(async () => {
  emu = await startTestEmulator();
  arm = armClient(emu);
});
after(async () => {
  await emu?.close();
});

const API = 'api-version=2024-04-01';
const CODE = '3f6d9c1e-2b7a-4c8e-9f10-1a2b3c4d5e6f';

/** The call through the ARM client's pipeline (what Glidepath's CLI sends). */
async function startPendingUpload(body: unknown, name = CODE) {
  const request = createPipelineRequest({ url: `${emu.url}${WS_PATH}/codes/${name}/versions/1/startPendingUpload?${API}`, method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
  request.headers.set('Content-Type', 'application/json');
  const res = await arm.sendRequest(request);
  return { status: res.status, json: JSON.parse(res.bodyAsText ?? '{}') as Record<string, unknown> };
}

interface PendingUploadAnswer {
  blobReferenceForConsumption: { blobUri: string; storageAccountArmId: string; credential: { credentialType: string; sasUri: string } };
  pendingUploadId: string;
  pendingUploadType: string;
}

test('startPendingUpload answers a temporary container and a SAS that uploads into it, and that a code version can be registered from', async () => {
  const r = await startPendingUpload({ pendingUploadType: 'TemporaryBlobReference' });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const answer = r.json as unknown as PendingUploadAnswer;
  assert.equal(answer.pendingUploadType, 'TemporaryBlobReference');
  assert.match(answer.pendingUploadId, /^[0-9a-f-]{36}$/);
  const ref = answer.blobReferenceForConsumption;
  assert.equal(ref.credential.credentialType, 'SAS');
  assert.match(ref.storageAccountArmId, new RegExp(`^/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft\\.Storage/storageAccounts/devstoreaccount1$`));
  assert.ok(ref.credential.sasUri.startsWith(`${ref.blobUri}?`), 'the SAS URL is the container URL with a SAS');
  assert.match(ref.credential.sasUri, /[?&]sig=/);

  // The SAS alone uploads and lists (no account key), as the CLI's upload does.
  const viaSas = new ContainerClient(ref.credential.sasUri);
  await viaSas.getBlockBlobClient('onlinescoring/score.py').upload('def init():\n    pass\n', 21);
  const names: string[] = [];
  for await (const b of viaSas.listBlobsFlat()) names.push(b.name);
  assert.deepEqual(names, ['onlinescoring/score.py']);
  // … and the blob is in the emulator's blob store, where the account key sees it.
  const info = await emu.blobStore();
  const container = ref.blobUri.split('/').pop()!;
  const direct = new BlobServiceClient(info.url, new StorageSharedKeyCredential(info.accountName, info.accountKey)).getContainerClient(container);
  assert.equal(await direct.getBlobClient('onlinescoring/score.py').exists(), true);

  // A tampered signature is refused by the blob service (403).
  const forged = new ContainerClient(ref.credential.sasUri.replace(/sig=[^&]+/, 'sig=AAAA'), undefined, { retryOptions: { maxTries: 1 } });
  await assert.rejects(forged.getBlockBlobClient('x.py').upload('x', 1), (e: { statusCode?: number }) => e.statusCode === 403);

  const code = await arm.codeVersions.createOrUpdate(RG, WS, CODE, '1', { properties: { codeUri: `${ref.blobUri}/onlinescoring`, isAnonymous: true } });
  assert.equal(code.properties.codeUri, `${ref.blobUri}/onlinescoring`);
});

test('a pendingUploadId in the body is kept; each call gets its own container', async () => {
  const a = (await startPendingUpload({ pendingUploadType: 'TemporaryBlobReference', pendingUploadId: 'a1b2c3d4-0000-4000-8000-000000000001' })).json as unknown as PendingUploadAnswer;
  const b = (await startPendingUpload({ pendingUploadType: 'TemporaryBlobReference' })).json as unknown as PendingUploadAnswer;
  assert.equal(a.pendingUploadId, 'a1b2c3d4-0000-4000-8000-000000000001');
  assert.notEqual(a.blobReferenceForConsumption.blobUri, b.blobReferenceForConsumption.blobUri);
});

test('a bad body is a 400 naming the field', async () => {
  const cases: [unknown, RegExp, string][] = [
    [{}, /pendingUploadType is required/, 'pendingUploadType'],
    [{ pendingUploadType: 'SasUri' }, /pendingUploadType must be TemporaryBlobReference \(or None\), not "SasUri"/, 'pendingUploadType'],
    [{ pendingUploadType: 7 }, /pendingUploadType must be TemporaryBlobReference/, 'pendingUploadType'],
    [[], /PendingUploadRequestDto/, 'pendingUploadType'],
    [{ pendingUploadType: 'TemporaryBlobReference', pendingUploadId: '../etc' }, /pendingUploadId must be an id/, 'pendingUploadId'],
  ];
  for (const [body, message, target] of cases) {
    const r = await startPendingUpload(body);
    assert.equal(r.status, 400, JSON.stringify(body));
    const error = r.json.error as { code: string; message: string; target?: string; details?: { target?: string }[] };
    assert.match(error.message, message, JSON.stringify(body));
    assert.ok(JSON.stringify(error).includes(target), `${JSON.stringify(body)}: the error names ${target}`);
  }
  const notJson = await raw(emu, 'POST', `${WS_PATH}/codes/${CODE}/versions/1/startPendingUpload?${API}`, 'pendingUploadType=TemporaryBlobReference', { 'content-type': 'application/json' });
  assert.equal(notJson.status, 400);
  const get = await raw(emu, 'GET', `${WS_PATH}/codes/${CODE}/versions/1/startPendingUpload?${API}`);
  assert.equal(get.status, 405);
});
