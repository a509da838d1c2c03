/**
 * The "looks like a secret" guard for plans. A plan travels in the workflow input, so everything in it
 * ends up in the Temporal history, readable by anyone with namespace access (DESIGN.md invariant 9).
 * These rules refuse what looks like a credential — by its name (`DB_PASS`, `STORAGE_ACCOUNT_KEY`,
 * `tags.api_token`) or by its value (a URL with a password in it, a Slack webhook, a token in a
 * recognisable format) — and accept references to a secret kept elsewhere, which Azure resolves at
 * deployment time with the endpoint's identity:
 *
 * - `${{keyvault:https://<vault>.vault.azure.net/secrets/<name>[/<version>]}}` and
 *   `${{azureml://connections/<connection>[/credentials/<key>|/metadata/<key>|/target]}}`: Azure ML's
 *   secret injection for online deployments (reference/azure-ml-cli-assets.md §5);
 * - `@Microsoft.KeyVault(SecretUri=…)` / `@Microsoft.KeyVault(VaultName=…;SecretName=…)` (App Service's
 *   form), `<name>@https://<vault>.vault.azure.net/secrets/<name>` and `<secret>@https://<vault>.vault.azure.net`
 *   (Azure's keyvault sample, resolved by the scoring script): also references, not values;
 *   Azure ML passes them to the container unresolved, so prefer the `${{keyvault:…}}` form.
 *
 * Pure: no I/O. Heuristics, on purpose erring towards refusing: a refused name can be renamed, a leaked
 * secret cannot be taken back out of a history.
 */

/** The recommendation every refusal ends with. */
export const KEY_VAULT_HINT =
  'plans travel in the workflow history, so keep the value in Key Vault and reference it, e.g. ${{keyvault:https://<vault>.vault.azure.net/secrets/<name>}}';

const VAULT_HOST = String.raw`[a-z0-9-]{3,24}\.vault\.(?:azure\.net|azure\.cn|usgovcloudapi\.net|microsoftazure\.de)`;
const VAULT_SECRET_URL = String.raw`https://${VAULT_HOST}(?::443)?/secrets/[A-Za-z0-9-]{1,127}(?:/[A-Za-z0-9]{0,64})?/?`;
const SECRET_REFERENCE = [
  new RegExp(String.raw`^\$\{\{keyvault:${VAULT_SECRET_URL}\}\}$`, 'i'),
  /^\$\{\{azureml:\/\/connections\/[A-Za-z0-9_-]{1,255}(?:\/(?:credentials|metadata)\/[A-Za-z0-9_.-]{1,255}|\/target)?\}\}$/i,
  new RegExp(String.raw`^@Microsoft\.KeyVault\(SecretUri=${VAULT_SECRET_URL}\)$`, 'i'),
  /^@Microsoft\.KeyVault\(VaultName=[A-Za-z0-9-]{3,24};SecretName=[A-Za-z0-9-]{1,127}(?:;SecretVersion=[A-Za-z0-9]{1,64})?\)$/i,
  new RegExp(String.raw`^[A-Za-z0-9_.-]{1,127}@${VAULT_SECRET_URL}$`, 'i'),
  // Azure's keyvault sample (azureml-examples cli/endpoints/online/managed/keyvault): `<secret name>@<vault URL>`,
  // read by the scoring script with the endpoint's identity.
  new RegExp(String.raw`^[A-Za-z0-9-]{1,127}@https://${VAULT_HOST}(?::443)?/?$`, 'i'),
];

/** True when `value` is a reference to a secret kept in Key Vault or a workspace connection (not the secret). */
export function isSecretReference(value: string): boolean {
  return SECRET_REFERENCE.some((re) => re.test(value.trim()));
}

/** Parts of a name that are a credential wherever they appear (`DBPASSWORD`, `myApiKey`, `ConnectionString`). */
const SECRET_FRAGMENTS = ['secret', 'password', 'passwd', 'passphrase', 'credential', 'connectionstring', 'connstring', 'connstr', 'privatekey', 'apikey', 'accesskey', 'accountkey', 'signingkey', 'masterkey', 'sastoken', 'authtoken', 'accesstoken', 'refreshtoken', 'bearertoken', 'clientsecret'];
/** Words that are a credential only as a whole word (`DB_PASS`, `STORAGE_KEY`, `api_token`; not `TOKENIZER_PATH`, `MAX_TOKENS`). */
const SECRET_WORDS = new Set(['key', 'keys', 'pass', 'pwd', 'token', 'sas', 'cred', 'creds', 'pat', 'jwt', 'bearer']);

/** `STORAGE_ACCOUNT_KEY` → storage, account, key; `myApiKey` → my, api, key. */
function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+|(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])/)
    .filter(Boolean);
}

/** Why a key name looks like it holds a credential, or undefined. */
export function secretNameReason(name: string): string | undefined {
  const ws = words(name);
  const joined = ws.join('');
  const fragment = SECRET_FRAGMENTS.find((f) => joined.includes(f));
  if (fragment) return `its name contains "${fragment}"`;
  const word = ws.find((w) => SECRET_WORDS.has(w));
  if (word) return `its name contains the word "${word}"`;
  return undefined;
}

/** Value shapes that are credentials: token formats, key material, connection-string parts, secret-bearing URLs. */
const SECRET_VALUES: { re: RegExp; what: string }[] = [
  { re: /-----BEGIN [A-Z ]*PRIVATE KEY-----/, what: 'a private key' },
  { re: /\bxox[abposr]-[A-Za-z0-9-]{8,}/, what: 'a Slack token' },
  { re: /\bgh[pousr]_[A-Za-z0-9]{20,}|\bgithub_pat_[A-Za-z0-9_]{20,}/, what: 'a GitHub token' },
  { re: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/, what: 'an AWS access key id' },
  { re: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/, what: 'a JSON Web Token' },
  { re: /\bsk-[A-Za-z0-9_-]{20,}/, what: 'an API key' },
  { re: /(?:^|;)\s*(?:AccountKey|SharedAccessKey|SharedAccessSignature|Password|Pwd|ClientSecret)\s*=/i, what: 'a connection string with a key or password' },
  { re: /[?&](?:sig|signature|token|access_token|api[_-]?key|apikey|key|secret|code|password|pwd|auth)=/i, what: 'a URL with a secret in its query' },
];

/** Hosts and paths where the URL itself is the credential (whoever has it can post). */
const SECRET_URLS: { re: RegExp; what: string }[] = [
  { re: /^https?:\/\/hooks\.slack(?:-gov)?\.com\/(?:services|workflows|triggers)\//i, what: 'a Slack webhook URL (the URL is the secret)' },
  { re: /^https?:\/\/(?:[a-z0-9-]+\.)?discord(?:app)?\.com\/api\/webhooks\//i, what: 'a Discord webhook URL (the URL is the secret)' },
  { re: /^https?:\/\/[a-z0-9-]+\.webhook\.office\.com\/|^https?:\/\/outlook\.office(?:365)?\.com\/webhook\//i, what: 'a Microsoft Teams webhook URL (the URL is the secret)' },
  { re: /^https?:\/\/[a-z0-9.-]+\.logic\.azure\.com(?::\d+)?\/workflows\/.*[?&]sig=/i, what: 'a Logic Apps trigger URL with its signature' },
];

/**
 * A path segment that looks like a secret: a run of 20 or more letters and digits, mixing both
 * (`/hooks/T0001/B0002/3f9aK2…`), or 32 or more hex digits. Words joined by hyphens
 * (`model-v2-evaluation`) and UUIDs (runs of at most 12) are ids, not secrets.
 */
function secretPathSegment(url: URL): string | undefined {
  for (const raw of url.pathname.split('/')) {
    for (const run of decodeURIComponentSafe(raw).match(/[A-Za-z0-9]{20,}/g) ?? []) {
      if ((/[A-Za-z]/.test(run) && /\d/.test(run)) || /^[0-9a-f]{32,}$/i.test(run)) return run;
    }
  }
  return undefined;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Why a value looks like a credential, or undefined. References to Key Vault or a connection are fine. */
export function secretValueReason(value: string): string | undefined {
  if (isSecretReference(value)) return undefined;
  for (const { re, what } of SECRET_VALUES) if (re.test(value)) return `its value looks like ${what}`;
  const trimmed = value.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    const userinfo = /^[a-z][a-z0-9+.-]*:\/\/([^/?#\s]*)@/i.exec(trimmed);
    if (userinfo && userinfo[1]!.includes(':')) return 'its value is a URL with a user name and password in it';
    if (userinfo) return 'its value is a URL with credentials (user info) in it';
    for (const { re, what } of SECRET_URLS) if (re.test(trimmed)) return `its value is ${what}`;
  }
  return undefined;
}

/** One finding: the key (relative path) and why. */
export interface SecretFinding {
  key: string;
  reason: string;
}

/**
 * The entries of a name → value map (environment variables, tags) that look like credentials: by
 * name unless the value is a reference, or by value. Each finding's reason ends with the Key Vault hint.
 */
export function secretFindings(entries: Readonly<Record<string, string>>): SecretFinding[] {
  const out: SecretFinding[] = [];
  for (const [key, value] of Object.entries(entries)) {
    if (typeof value !== 'string') continue;
    if (isSecretReference(value)) continue;
    const why = secretNameReason(key) ?? secretValueReason(value);
    if (why) out.push({ key, reason: `looks like a secret (${why}); ${KEY_VAULT_HINT}` });
  }
  return out;
}

/**
 * Why a webhook gate's URL would put a secret into the history, or undefined: credentials in it, a
 * secret in its query or its path, or a URL that is itself the secret (a Slack webhook). The worker
 * signs webhook calls with a secret from its own environment instead.
 */
export function webhookUrlSecretReason(url: string): string | undefined {
  const byValue = secretValueReason(url);
  if (byValue) return byValue.replace(/^its value/, 'it');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined; // the URL rule reports it
  }
  const seg = secretPathSegment(parsed);
  if (seg) return `its path holds what looks like a secret (${seg.slice(0, 4)}…, ${seg.length} characters)`;
  return undefined;
}
