/**
 * The "looks like a secret" guard (domain/secrets.ts) through the plan schema: names and values that
 * look like credentials in `environment_variables`, `tags` and the webhook gate's URL are refused with
 * the path and a Key Vault recommendation; references to Key Vault or a workspace connection, and the
 * ordinary names of an ML deployment, are accepted.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatPlanIssue, parsePlan } from '../../domain/plan.js';
import { isSecretReference, secretNameReason } from '../../domain/secrets.js';
import { aPlanDocument } from '../support/builders.js';

const ENV = 'candidate.deployment.environment_variables';
const TAGS = 'candidate.deployment.tags';

function issuesOf(patch: Parameters<typeof aPlanDocument>[0]) {
  const r = parsePlan(aPlanDocument(patch));
  return r.ok ? [] : r.issues;
}

const env = (name: string, value: string) => (d: Parameters<NonNullable<Parameters<typeof aPlanDocument>[0]>>[0]) => {
  d.candidate.deployment.environment_variables[name] = value;
};
const tag = (name: string, value: string) => (d: Parameters<NonNullable<Parameters<typeof aPlanDocument>[0]>>[0]) => {
  (d.candidate.deployment as Record<string, unknown>).tags = { team: 'fraud', [name]: value };
};
const webhook = (url: string) => (d: Parameters<NonNullable<Parameters<typeof aPlanDocument>[0]>>[0]) => {
  d.gates.webhook.url = url;
};

const refused: [string, Parameters<typeof aPlanDocument>[0], string, RegExp][] = [
  ['PRIVATE_KEY', env('PRIVATE_KEY', 'abc'), `${ENV}.PRIVATE_KEY`, /looks like a secret \(its name contains "privatekey"\)/],
  ['STORAGE_ACCOUNT_KEY', env('STORAGE_ACCOUNT_KEY', 'abc'), `${ENV}.STORAGE_ACCOUNT_KEY`, /its name contains "accountkey"/],
  ['DB_PASS', env('DB_PASS', 'hunter2'), `${ENV}.DB_PASS`, /its name contains the word "pass"/],
  ['DB_PASSWORD', env('DB_PASSWORD', 'hunter2'), `${ENV}.DB_PASSWORD`, /its name contains "password"/],
  ['CREDENTIALS', env('CREDENTIALS', '{}'), `${ENV}.CREDENTIALS`, /its name contains "credential"/],
  ['a camelCase apiKey', env('openAiApiKey', 'x'), `${ENV}.openAiApiKey`, /its name contains "apikey"/],
  ['HF_TOKEN', env('HF_TOKEN', 'x'), `${ENV}.HF_TOKEN`, /its name contains the word "token"/],
  ['SQL_CONNECTION_STRING', env('SQL_CONNECTION_STRING', 'Server=x'), `${ENV}.SQL_CONNECTION_STRING`, /its name contains "connectionstring"/],
  ['CLIENT_SECRET', env('CLIENT_SECRET', 'x'), `${ENV}.CLIENT_SECRET`, /its name contains "secret"/],
  ['a DATABASE_URL with a password', env('DATABASE_URL', 'postgres://app:hunter2@db.internal:5432/fraud'), `${ENV}.DATABASE_URL`, /its value is a URL with a user name and password in it/],
  ['a URL with a token as user', env('REPO_URL', 'https://ghp_abc@github.com/contoso/models'), `${ENV}.REPO_URL`, /URL with credentials \(user info\)/],
  ['a storage connection string', env('STORAGE', 'DefaultEndpointsProtocol=https;AccountName=x;AccountKey=abc=='), `${ENV}.STORAGE`, /connection string with a key or password/],
  ['a SAS URL', env('BLOB_URL', 'https://x.blob.core.windows.net/c/b?sv=2022-11-02&sig=abc%3D'), `${ENV}.BLOB_URL`, /URL with a secret in its query/],
  ['a Slack webhook as a value', env('ALERTS', 'https://hooks.slack.com/services/T0001/B0002/abcdefabcdefabcdefabcdef'), `${ENV}.ALERTS`, /Slack webhook URL/],
  ['a Slack bot token as a value', env('SLACK', 'xoxb-1234-5678-abcdefgh'), `${ENV}.SLACK`, /a Slack token/],
  ['a private key as a value', env('TLS', '-----BEGIN RSA PRIVATE KEY-----\nMIIB'), `${ENV}.TLS`, /a private key/],
  ['tags.api_token', tag('api_token', 'abc'), `${TAGS}.api_token`, /its name contains the word "token"/],
  ['a tag holding a password URL', tag('source', 'https://u:p@example.com/x'), `${TAGS}.source`, /user name and password/],
  ['a Slack webhook as the webhook gate', webhook('https://hooks.slack.com/services/T0001/B0002/abcdefabcdefabcdefabcdef'), 'gates.webhook.url', /must not carry a secret \(it is a Slack webhook URL/],
  ['a webhook with a secret in its path', webhook('https://eval.example.com/hooks/3f9aK2b7Xq0LmN4pR8sT1vW6'), 'gates.webhook.url', /its path holds what looks like a secret \(3f9a…, 24 characters\)/],
  ['a webhook with a hex key in its path', webhook('https://eval.example.com/check/0123456789abcdef0123456789abcdef'), 'gates.webhook.url', /its path holds what looks like a secret/],
  ['a webhook with a secret in its query', webhook('https://eval.example.com/check?code=abc'), 'gates.webhook.url', /must not carry a secret/],
  ['a webhook with api_key in its query', webhook('https://eval.example.com/check?api_key=abc'), 'gates.webhook.url', /secret in its query/],
  ['a webhook with credentials', webhook('https://user:pw@eval.example.com/check'), 'gates.webhook.url', /credentials/],
];

describe('the secret guard refuses credentials by name and by value, naming the path and recommending Key Vault', () => {
  for (const [what, patch, path, message] of refused) {
    test(`${what} → ${path}`, () => {
      const hit = issuesOf(patch).find((i) => i.path === path);
      assert.ok(hit, `no issue at ${path}; got ${issuesOf(patch).map(formatPlanIssue).join(' | ')}`);
      assert.match(hit.message, message);
      if (path.startsWith('candidate')) assert.match(hit.message, /keep the value in Key Vault and reference it, e\.g\. \$\{\{keyvault:https:\/\/<vault>\.vault\.azure\.net\/secrets\/<name>\}\}/);
    });
  }
});

const accepted: [string, Parameters<typeof aPlanDocument>[0]][] = [
  ['a Key Vault reference in Azure ML form under a secret-looking name', env('DB_PASSWORD', '${{keyvault:https://fraud-kv.vault.azure.net/secrets/db-password}}')],
  ['a versioned Key Vault reference', env('STORAGE_ACCOUNT_KEY', '${{keyvault:https://fraud-kv.vault.azure.net/secrets/storage-key/0123456789abcdef0123456789abcdef}}')],
  ['a workspace connection reference', env('OPENAI_API_KEY', '${{azureml://connections/aoai/credentials/key}}')],
  ['a name@vault URL reference', env('PRIVATE_KEY', 'signing-key@https://fraud-kv.vault.azure.net/secrets/signing-key')],
  ['Azure’s keyvault sample form <secret>@<vault URL>', env('KV_SECRET_MULTIPLIER', 'multiplier@https://fraud-kv.vault.azure.net')],
  ['an App Service style reference (SecretUri)', env('CREDENTIALS', '@Microsoft.KeyVault(SecretUri=https://fraud-kv.vault.azure.net/secrets/creds/)')],
  ['an App Service style reference (VaultName)', env('DB_PASS', '@Microsoft.KeyVault(VaultName=fraud-kv;SecretName=db-pass)')],
  ['TOKENIZER_PATH and MAX_TOKENS (ML names, not credentials)', (d) => Object.assign(d.candidate.deployment.environment_variables, { TOKENIZER_PATH: '/var/azureml-app/tok', MAX_TOKENS: '512', MAX_NEW_TOKENS: '64' })],
  ['a DATABASE_URL without credentials', env('DATABASE_URL', 'postgres://db.internal:5432/fraud')],
  ['a model URL with ids in its path', env('MODEL_URI', 'azureml://registries/contoso/models/fraud-detector/versions/7')],
  ['ordinary tags', tag('owner', 'fraud-team@contoso.com')],
  ['a webhook with a UUID and words in its path', webhook('https://eval.example.com/checks/123e4567-e89b-12d3-a456-426614174000/model-v2-evaluation')],
];

describe('references to Key Vault or a workspace connection, and ordinary names, are accepted', () => {
  for (const [what, patch] of accepted) {
    test(what, () => assert.deepEqual(issuesOf(patch).map(formatPlanIssue), []));
  }

  test('a reference to a vault outside Azure, or with extra text, is not a reference', () => {
    assert.equal(isSecretReference('${{keyvault:https://evil.example.com/secrets/x}}'), false);
    assert.equal(isSecretReference('${{keyvault:https://kv1.vault.azure.net/secrets/x}} hunter2'), false);
    assert.equal(isSecretReference('hunter2'), false);
    assert.equal(isSecretReference('multiplier@https://evil.example.com'), false);
    assert.equal(isSecretReference('hunter2@https://fraud-kv.vault.azure.net/extra'), false);
  });

  test('names are split into words: pass and key count as words, not as parts of other words', () => {
    for (const n of ['COMPASS_HEADING', 'KEYBOARD_LAYOUT', 'MONKEY_PATCH', 'BYPASS_CACHE', 'LOG_LEVEL']) assert.equal(secretNameReason(n), undefined, n);
    for (const n of ['DB_PASS', 'db.pass', 'dbPass', 'STORAGE_KEY', 'SAS', 'AzureStorageKey']) assert.ok(secretNameReason(n), n);
  });
});
