// ESLint flat config. The important part is the fence around workflows/: workflow code runs in
// Temporal's deterministic sandbox, so it may not touch Node built-ins (I/O, clocks, randomness) and may
// import activities only as types (a value import would drag activity code into the workflow bundle).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = builtinModules.filter((m) => !m.startsWith('_'));

export default tseslint.config(
  // test/fixtures/lint holds files that break the fence on purpose; test/lint runs ESLint on them directly.
  { ignores: ['node_modules/**', 'dist/**', 'bench/results/**', '**/*.bundle.js', 'coverage/**', 'test/fixtures/lint/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['test/fixtures/lint/workflows/*.ts'] }, tsconfigRootDir: import.meta.dirname },
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
  {
    // The workflow fence (also applied to lint fixtures that pretend to be workflow files).
    files: ['workflows/**/*.ts', 'test/fixtures/lint/workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          // Bare names (`fs`) here; the `node:` scheme is caught by the first pattern below.
          paths: nodeBuiltins.map((m) => ({ name: m, message: 'Node built-ins are not allowed in workflow code (deterministic sandbox).' })),
          patterns: [
            { regex: '^node:', message: 'Node built-ins are not allowed in workflow code (deterministic sandbox).' },
            {
              regex: '(^|/)activities(/|$)',
              allowTypeImports: true,
              message: 'Import activities only as types in workflow code (`import type`); call them through proxyActivities.',
            },
            {
              regex: '^@temporalio/(activity|client|worker|testing|envconfig)$',
              message: 'Only @temporalio/workflow and @temporalio/common may be used in workflow code.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' },
    },
  },
);
