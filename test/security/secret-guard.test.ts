/**
 * Issue 13, hardened inputs: the "looks like a secret" guard missed PRIVATE_KEY, STORAGE_ACCOUNT_KEY,
 * DB_PASS, CREDENTIALS, a DATABASE_URL with a password, tags.api_token and a webhook URL with a secret in
 * its path, and `rollout start` put them into the workflow input (the history, against invariant 9).
 * Each attempt of the review is now refused by `rollout start` with exit 2, naming the path, and nothing
 * is started; the same plan with Key Vault references starts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { stringify } from 'yaml';
import { main } from '../../client/cli.js';
import { aPlanDocument, type ExamplePlan } from '../support/builders.js';
import { FakeGateway, testRuntime } from '../client-unit/fake-gateway.js';

async function start(patch: (d: ExamplePlan) => void) {
  const gateway = new FakeGateway();
  const t = testRuntime({ files: { 'plan.yaml': stringify(aPlanDocument(patch)) }, gateway });
  const code = await main(['rollout', 'start', 'plan.yaml', '--as', 'ci@contoso.com'], t.runtime);
  return { code, err: t.err.join('\n'), started: gateway.calls.filter((c) => c.op === 'start').length };
}

const attempts: [string, (d: ExamplePlan) => void, RegExp][] = [
  ['PRIVATE_KEY', (d) => (d.candidate.deployment.environment_variables.PRIVATE_KEY = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC'), /environment_variables\.PRIVATE_KEY: looks like a secret/],
  ['STORAGE_ACCOUNT_KEY', (d) => (d.candidate.deployment.environment_variables.STORAGE_ACCOUNT_KEY = 'c2VjcmV0LWtleQ=='), /environment_variables\.STORAGE_ACCOUNT_KEY: looks like a secret/],
  ['DB_PASS', (d) => (d.candidate.deployment.environment_variables.DB_PASS = 'hunter2'), /environment_variables\.DB_PASS: looks like a secret/],
  ['CREDENTIALS', (d) => (d.candidate.deployment.environment_variables.CREDENTIALS = '{"user":"svc","password":"x"}'), /environment_variables\.CREDENTIALS: looks like a secret/],
  ['a DATABASE_URL with a password', (d) => (d.candidate.deployment.environment_variables.DATABASE_URL = 'postgresql://svc:S3cr3t!@fraud-db.postgres.database.azure.com/fraud'), /environment_variables\.DATABASE_URL: looks like a secret \(its value is a URL with a user name and password/],
  ['tags.api_token', (d) => ((d.candidate.deployment as Record<string, unknown>).tags = { api_token: 'tok-123' }), /tags\.api_token: looks like a secret/],
  ['a webhook URL with a secret in its path', (d) => (d.gates.webhook.url = 'https://eval.example.com/hook/sk9Xf2LqP0aZ7bR4tV1wY8cE'), /gates\.webhook\.url: must not carry a secret \(its path holds/],
  ['a Slack webhook as the webhook gate', (d) => (d.gates.webhook.url = 'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX'), /gates\.webhook\.url: must not carry a secret \(it is a Slack webhook URL/],
];

describe('rollout start refuses credentials in the plan before they reach the history', () => {
  for (const [what, patch, message] of attempts) {
    test(`${what}: exit 2, the path named, a Key Vault reference recommended, nothing started`, async () => {
      const r = await start(patch);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, message);
      assert.match(r.err, /Key Vault|GLIDEPATH_WEBHOOK_SECRET/);
      assert.equal(r.started, 0);
    });
  }

  test('the same names holding Key Vault or connection references start', async () => {
    const r = await start((d) => {
      Object.assign(d.candidate.deployment.environment_variables, {
        PRIVATE_KEY: '${{keyvault:https://fraud-kv.vault.azure.net/secrets/signing-key}}',
        STORAGE_ACCOUNT_KEY: '${{azureml://connections/fraudstore/credentials/key}}',
        DB_PASS: 'db-pass@https://fraud-kv.vault.azure.net/secrets/db-pass',
        CREDENTIALS: '@Microsoft.KeyVault(SecretUri=https://fraud-kv.vault.azure.net/secrets/creds/)',
      });
    });
    assert.equal(r.code, 0, r.err);
    assert.equal(r.started, 1);
  });
});
