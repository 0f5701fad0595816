// @ts-check
// Unit tests are pure and fast; integration tests drive the built bundles against
// a real Docker engine and registry (scripts/test starts them), so they run serially.
// Shell files (the completion scripts' templates) are imported as text, as esbuild's text
// loader does in the bundles: scripts/jest-text-transform.cjs.
const transform = { '^.+\\.ts$': ['@swc/jest'], '^.+\\.(bash|zsh)$': '<rootDir>/scripts/jest-text-transform.cjs' };
module.exports = {
  // A global option: Jest ignores it inside a project. Integration tests pull, build and push.
  testTimeout: 180000,
  projects: [
    { displayName: 'unit', testMatch: ['<rootDir>/tests/unit/**/*.test.ts'], transform },
    {
      displayName: 'integration',
      testMatch: ['<rootDir>/tests/integration/**/*.test.ts'],
      transform,
      setupFilesAfterEnv: ['<rootDir>/tests/helpers/clean-up-after-file.ts'],
    },
  ],
};
