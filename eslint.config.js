// ESLint flat config. The important part is the room fence: every top-level folder of the product is a
// room with one job, and DESIGN.md's Layout table (README's Layout section in this repository) says what
// each room may import. The `rooms` table below is that column, turned into rules:
//   - `@typescript-eslint/no-restricted-imports` for static imports, `import type`, re-exports
//     (`export … from`) and `import x = require()`;
//   - `no-restricted-syntax` for what that rule does not see: `import('…')` with a literal path. A
//     dynamic import whose path is not a string literal is refused outright, since no rule could check
//     where it leads. (`typeof import('…')` in types is refused everywhere by consistent-type-imports.)
// Relative paths are matched however deep the importing file sits (`../activities/x.js`,
// `../../activities/x.js`), so no room may have a subfolder named like another room.
// test/, bench/, scripts/ and examples/ may import anything.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

/** Node built-ins, bare (`fs`, `fs/promises`) or with the scheme (`node:fs`). */
const nodeBuiltins = `^(node:.*|(${[...new Set(builtinModules.filter((m) => !m.startsWith('_')).map((m) => m.split('/')[0]))].join('|')})(/.*)?)$`;
/** A relative path that climbs out of the importing file's room into `room`. */
const into = (room) => `^(\\.\\./)+${room}/`;

/**
 * DESIGN.md's "may import" column. `mayImport` is the column's text, in short (quoted in every message); each
 * entry of `refuse` is one thing the room may not import: `path` (a regex over the import path), `what`
 * (how the message names it), `types: true` when `import type` of it is allowed, and `why` when the
 * reason is worth a clause.
 */
const rooms = {
  domain: {
    mayImport: 'zod and small pure libraries',
    refuse: [
      { path: nodeBuiltins, what: 'Node built-ins', why: 'no I/O, no clock' },
      { path: '^@temporalio/', what: '@temporalio/*', why: 'no Temporal runtime' },
      { path: '^@azure/', what: 'Azure SDKs' },
      ...['workflows', 'activities', 'worker', 'client', 'demo', 'emulator'].map((room) => ({ path: into(room), what: `${room}/` })),
    ],
  },
  workflows: {
    mayImport: 'domain/, @temporalio/workflow, @temporalio/common, activity types only',
    refuse: [
      { path: nodeBuiltins, what: 'Node built-ins', why: "workflow code runs in Temporal's deterministic sandbox" },
      { path: into('activities'), what: 'activities/', types: true, why: 'call activities through proxyActivities' },
      { path: '^@temporalio/(?!(workflow|common)$)', what: '@temporalio/ packages other than workflow and common' },
      { path: '^@azure/', what: 'Azure SDKs' },
      ...['worker', 'client', 'demo', 'emulator'].map((room) => ({ path: into(room), what: `${room}/` })),
    ],
  },
  activities: {
    mayImport: 'domain/, Azure SDKs, @temporalio/activity',
    refuse: [
      ...['workflows', 'worker', 'client', 'demo', 'emulator'].map((room) => ({ path: into(room), what: `${room}/` })),
      { path: '^@temporalio/(workflow|worker|client|testing|envconfig)$', what: 'Temporal packages other than @temporalio/activity and @temporalio/common' },
    ],
  },
  worker: {
    mayImport: 'everything but client/ and demo/',
    refuse: ['client', 'demo'].map((room) => ({ path: into(room), what: `${room}/` })),
  },
  client: {
    mayImport: 'domain/, workflows/messages.ts, workflows/search-attributes.ts, workflow types, @temporalio/client, Azure SDKs for asset upload',
    refuse: [
      ...['activities', 'worker', 'demo', 'emulator'].map((room) => ({ path: into(room), what: `${room}/` })),
      { path: `${into('workflows')}(?!(messages|search-attributes)\\.js$)`, what: 'workflows/ modules other than messages.ts and search-attributes.ts', types: true },
      { path: '^@temporalio/(workflow|activity|worker|testing)$', what: 'Temporal packages other than @temporalio/client' },
    ],
  },
  demo: {
    mayImport: 'worker/, emulator/, client/, domain/, workflows/messages.ts, workflows/search-attributes.ts, workflow types',
    refuse: [
      { path: into('activities'), what: 'activities/', why: "run them through the worker's entry point" },
      { path: `${into('workflows')}(?!(messages|search-attributes)\\.js$)`, what: 'workflows/ modules other than messages.ts and search-attributes.ts', types: true },
      { path: '^@temporalio/(workflow|activity)$', what: '@temporalio/workflow or @temporalio/activity' },
    ],
  },
  emulator: {
    mayImport: 'domain/ (traffic rules), Node, Azurite, Azure SDK clients',
    refuse: [
      ...['workflows', 'activities', 'worker', 'client', 'demo'].map((room) => ({ path: into(room), what: `${room}/` })),
      { path: '^@temporalio/', what: '@temporalio/*', why: 'the emulator stands in for Azure, not Temporal' },
    ],
  },
};

/**
 * The one exception: the CLI entry point starts the other programs for `glidepath worker|emulator|demo`,
 * so it may load their public entry points, lazily (`import()`), so that `glidepath rollout …` does not
 * load the worker, the emulator or the demo.
 */
const cliEntryPoints = {
  file: 'client/cli.ts',
  load: { worker: 'index\\.js$', emulator: '(cli|index)\\.js$', demo: '[^/]+\\.js$' },
  text: 'worker/index.ts, emulator/cli.ts, emulator/index.ts, or a top-level module of demo/',
};

const message = (room, { what, types, why }) =>
  types
    ? `${room}/ may import ${what} only as types (\`import type\`)${why ? `; ${why}` : ''} (DESIGN.md: ${room}/ may import ${rooms[room].mayImport})`
    : `${room}/ may not import ${what}${why ? ` (${why})` : ''} (DESIGN.md: ${room}/ may import ${rooms[room].mayImport})`;

/** esquery (the selector language) ends a regex at the first `/`, so spell slashes as \x2F. */
const selectorRegex = (path) => `/${path.replaceAll('/', '\\x2F')}/`;

const NON_LITERAL_IMPORT = {
  selector: "ImportExpression:not([source.type='Literal'])",
  message: 'import() takes a string literal path here, so the room fence (DESIGN.md) can check where it leads',
};

/** The rules for one room; `dynamic` may change what an import() of a refused entry may still reach. */
function importRules(room, dynamic = (entry) => ({ path: entry.path, message: message(room, entry) })) {
  const refuse = rooms[room].refuse;
  return {
    '@typescript-eslint/no-restricted-imports': [
      'error',
      { patterns: refuse.map((entry) => ({ regex: entry.path, allowTypeImports: entry.types ?? false, message: message(room, entry) })) },
    ],
    'no-restricted-syntax': [
      'error',
      ...refuse.map(dynamic).map(({ path, message }) => ({ selector: `ImportExpression[source.value=${selectorRegex(path)}]`, message })),
      NON_LITERAL_IMPORT,
    ],
  };
}

/** Each room's rules apply to its folder and to the lint fixtures that pretend to live there. */
const roomFences = Object.keys(rooms).map((room) => ({
  files: [`${room}/**/*.ts`, `test/fixtures/lint/${room}/**/*.ts`],
  rules: importRules(room),
}));

/**
 * The rollout state has one owner: workflows/rollout-state.ts. Elsewhere in workflows/ nothing assigns,
 * deletes, increments or mutates an array through `state` (the RolloutState object, or `this.state`); its
 * methods are the way to change it. (Its readers are also typed readonly, so tsc refuses most writes too.)
 */
const STATE_OWNER = 'rollout state has one owner: change it through the RolloutState methods in workflows/rollout-state.ts';
const stateWrites = [
  "AssignmentExpression > MemberExpression.left Identifier[name='state']",
  "UpdateExpression > MemberExpression.argument Identifier[name='state']",
  "UnaryExpression[operator='delete'] > MemberExpression.argument Identifier[name='state']",
  "CallExpression[callee.property.name=/^(push|pop|shift|unshift|splice|sort|reverse|fill|copyWithin)$/] > MemberExpression.callee Identifier[name='state']",
  "CallExpression[callee.object.name='Object'][callee.property.name=/^(assign|defineProperty)$/] > .arguments:first-child Identifier[name='state']",
].map((selector) => ({ selector, message: STATE_OWNER }));
const workflowsFence = roomFences.find((f) => f.files[0] === 'workflows/**/*.ts');
const workflowImportSyntax = workflowsFence.rules['no-restricted-syntax'];
workflowsFence.rules = { ...workflowsFence.rules, 'no-restricted-syntax': [...workflowImportSyntax, ...stateWrites] };
/** rollout-state.ts is the owner: only the import rules apply there. */
const stateOwnerFile = { files: ['workflows/rollout-state.ts'], rules: { 'no-restricted-syntax': workflowImportSyntax } };

/** client/cli.ts: static imports of worker/, emulator/ and demo/ stay refused; import() may reach their entry points. */
const cliFence = {
  files: [cliEntryPoints.file, `test/fixtures/lint/${cliEntryPoints.file}`],
  rules: importRules('client', (entry) => {
    const room = Object.keys(cliEntryPoints.load).find((r) => entry.path === into(r));
    if (!room) return { path: entry.path, message: message('client', entry) };
    return {
      path: `${entry.path}(?!${cliEntryPoints.load[room]})`,
      message: `client/cli.ts may load only the public entry points of worker/, emulator/ and demo/ (${cliEntryPoints.text}), and only with import() (DESIGN.md)`,
    };
  }),
};

export default tseslint.config(
  // test/fixtures/lint holds files that break the fence on purpose; test/lint runs ESLint on them directly.
  { ignores: ['node_modules/**', 'dist/**', 'bench/results/**', '**/*.bundle.js', 'coverage/**', 'test/fixtures/lint/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's test()/describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'warn',
    },
  },
  // The fence rules are syntactic; the fixtures sit outside tsconfig.json, so lint them without types.
  { files: ['test/fixtures/lint/**/*.ts'], ...tseslint.configs.disableTypeChecked },
  ...roomFences,
  stateOwnerFile,
  cliFence,
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' },
    },
  },
);
