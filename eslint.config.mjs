// @ts-check
// The lint gate (scripts/test runs `npm run lint`, which allows no warnings): typescript-eslint's
// type-checked recommended rules on the TypeScript, ESLint's recommended rules on the JavaScript
// scripts. Deliberate exceptions carry an inline disable comment with the reason where they stand.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The Node globals the JavaScript scripts use (TypeScript checks globals in the .ts files).
/** @type {Record<string, 'readonly'>} */
const nodeGlobals = Object.fromEntries(
  ['Buffer', 'URL', 'URLSearchParams', '__dirname', 'clearTimeout', 'console', 'fetch', 'process', 'setTimeout'].map(
    (name) => [name, /** @type {const} */ ('readonly')],
  ),
);

export default tseslint.config(
  // scripts/*.d.ts declares a module for the scripts' own type check (tsconfig.scripts.json).
  { ignores: ['dist/', 'node_modules/', '.tmp/', 'examples/', 'scripts/*.d.ts'] },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // As tsc's noUnusedLocals/noUnusedParameters read it: `const { KEY: _, ...rest } = env`
      // leaves a key out, and a leading `_` marks a parameter an interface makes us accept.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true, argsIgnorePattern: '^_' }],
    },
  },
  {
    // Fakes implement interfaces that return promises; `async` is how they resolve or reject one.
    files: ['tests/**/*.ts'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    languageOptions: { globals: nodeGlobals },
    // The same reading as for the TypeScript above: a rest sibling leaves a key out on purpose.
    rules: { 'no-unused-vars': ['error', { ignoreRestSiblings: true, argsIgnorePattern: '^_' }] },
  },
  {
    // The Jest configuration is CommonJS (package.json has no "type").
    files: ['jest.config.js'],
    languageOptions: { sourceType: 'commonjs' },
  },
);
