// @ts-check
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

const TS_FILES = ['**/*.ts'];
const TEST_FILES = ['**/test/**/*.ts'];

// --- Architecture: who may import what -------------------------------------------------------
const NATS = {
  group: ['@nats-io/*'],
  message: '@nats-io/* is private to packages/bus: import @jetcel/bus instead.',
};
const MIKRO_ORM = {
  group: ['@mikro-orm/*'],
  message: '@mikro-orm/* is private to packages/db: import @jetcel/db instead.',
};
const TELEMETRY = {
  group: ['prom-client', '@opentelemetry/*'],
  message: 'prom-client and @opentelemetry/* are private to packages/telemetry: import @jetcel/telemetry instead.',
};
const ABOVE_DB = {
  group: ['@jetcel/bus', '@jetcel/runtime', '@jetcel/runtime/*', '@jetcel/identity'],
  message:
    'packages/db holds stores only: publishing, re-queueing and message shapes live above it, in @jetcel/runtime.',
};
const IO_FREE = 'packages/core and packages/contracts are I/O free: no filesystem, network, http or database access.';
const IO_MODULES = [
  'node:fs',
  'fs',
  'node:fs/promises',
  'fs/promises',
  'node:net',
  'net',
  'node:http',
  'http',
  'pg',
].map((name) => ({ name, message: IO_FREE }));

/** `no-restricted-imports` is replaced (not merged) by later config objects, so each scope lists everything. */
const restrictImports = (/** @type {{ paths?: object[]; patterns: object[] }} */ options) => ({
  'no-restricted-imports': ['error', { paths: options.paths ?? [], patterns: options.patterns }],
});

export default defineConfig(
  globalIgnores(['**/node_modules', '**/dist', '**/*.tmp.ts', '**/.test-output', '**/coverage']),

  js.configs.recommended,

  // Type-aware linting for every TypeScript file (src, tests, scripts): all are in tsconfig.json.
  {
    files: TS_FILES,
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's test()/describe() return promises the runner itself tracks.
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // Style, not bugs: async functions without await are fine (interface conformance).
      '@typescript-eslint/require-await': 'off',
    },
  },

  // Tests: any and untyped values are allowed; the promise/bug rules stay on.
  {
    files: TEST_FILES,
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },

  // Architecture. Default: nobody imports NATS or MikroORM directly.
  { rules: restrictImports({ patterns: [NATS, MIKRO_ORM, TELEMETRY] }) },
  { files: ['packages/bus/**'], rules: restrictImports({ patterns: [MIKRO_ORM, TELEMETRY] }) },
  { files: ['packages/db/**'], rules: restrictImports({ patterns: [NATS, TELEMETRY, ABOVE_DB] }) },
  { files: ['packages/telemetry/**'], rules: restrictImports({ patterns: [NATS, MIKRO_ORM] }) },
  // The benchmark's raw baselines measure what the bare clients can do, so they must use nats.js
  // directly (and pg, which is not restricted); jetcel's own scenarios go through its public APIs.
  { files: ['packages/bench/src/raw/**'], rules: restrictImports({ patterns: [MIKRO_ORM, TELEMETRY] }) },
  {
    files: ['packages/core/src/**', 'packages/contracts/src/**'],
    rules: restrictImports({ paths: IO_MODULES, patterns: [NATS, MIKRO_ORM, TELEMETRY] }),
  },
);
