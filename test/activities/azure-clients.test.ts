// The policies every management call goes through: the shared ARM budget, Retry-After handling, and
// putting mirrorTraffic back into endpoint PUT bodies that the stable SDK would have stripped it from.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHttpHeaders, createPipelineRequest, type PipelineResponse } from '@azure/core-rest-pipeline';
import { ArmBudget, MIRROR_TRAFFIC_HEADER, TokenBucket, callKind, mirrorTrafficPolicy, retryAfterMs } from '../../activities/azure-clients.js';

describe('the ARM budget', () => {
  test('a bucket serves its burst at once, then spaces calls at its refill rate', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 3, () => now);
    assert.deepEqual([bucket.reserve(), bucket.reserve(), bucket.reserve()], [0, 0, 0]);
    assert.equal(bucket.reserve(), 100); // 4th call: one token at 10/s is 100 ms away
    assert.equal(bucket.reserve(), 200); // 5th queues behind it
    now = 1000; // a second later the debt of 2 is repaid and 8 tokens accrued (capped at the burst of 3)
    assert.equal(bucket.reserve(), 0);
  });
  test('reads, writes and deletes draw on separate buckets', () => {
    assert.deepEqual(['GET', 'PUT', 'PATCH', 'POST', 'DELETE'].map(callKind), ['reads', 'writes', 'writes', 'writes', 'deletes']);
    const budget = new ArmBudget({ reads: { perSecond: 1, burst: 1 }, writes: { perSecond: 1, burst: 1 }, deletes: { perSecond: 1, burst: 1 } }, () => 0);
    assert.equal(budget.buckets.reads.reserve(), 0);
    assert.equal(budget.buckets.writes.reserve(), 0);
    assert.equal(budget.buckets.reads.reserve(), 1000);
  });
});

function response(headers: Record<string, string>): PipelineResponse {
  return { headers: createHttpHeaders(headers), status: 429, request: createPipelineRequest({ url: 'https://x' }) };
}

describe('Retry-After', () => {
  test('seconds, milliseconds and HTTP dates are honoured, and capped', () => {
    assert.equal(retryAfterMs(response({ 'retry-after': '3' }), 60_000), 3000);
    assert.equal(retryAfterMs(response({ 'retry-after-ms': '250' }), 60_000), 250);
    assert.equal(retryAfterMs(response({ 'retry-after': '600' }), 30_000), 30_000);
    const inTwoSeconds = new Date(Date.now() + 2000).toUTCString();
    const ms = retryAfterMs(response({ 'retry-after': inTwoSeconds }), 60_000) ?? -1;
    assert.ok(ms > 0 && ms <= 2000, String(ms));
    assert.equal(retryAfterMs(response({}), 60_000), undefined);
  });
});

describe('mirror traffic on the stable SDK', () => {
  test('the private header becomes properties.mirrorTraffic of the PUT body and is not sent', async () => {
    const request = createPipelineRequest({ url: 'https://x/onlineEndpoints/ep', method: 'PUT' });
    request.body = JSON.stringify({ location: 'eastus', properties: { authMode: 'Key', traffic: { blue: 100 } } });
    request.headers.set(MIRROR_TRAFFIC_HEADER, JSON.stringify({ green: 20 }));
    let sent: typeof request | undefined;
    await mirrorTrafficPolicy().sendRequest(request, async (r) => {
      sent = r;
      return { headers: createHttpHeaders(), status: 200, request: r };
    });
    assert.ok(sent);
    assert.equal(sent.headers.get(MIRROR_TRAFFIC_HEADER), undefined);
    assert.deepEqual(JSON.parse(sent.body as string), {
      location: 'eastus',
      properties: { authMode: 'Key', traffic: { blue: 100 }, mirrorTraffic: { green: 20 } },
    });
  });
});
