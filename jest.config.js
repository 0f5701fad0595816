// @ts-check
// Unit tests are pure and fast; integration tests drive the built bundles against
// a real Docker engine and registry (scripts/test starts them), so they run serially.
const transform = { '^.+\\.ts$': ['@swc/jest'] };
module.exports = {
  // A global option: Jest ignores it inside a project. Integration tests pull, build and push.
  testTimeout: 180000,
  projects: [
    { displayName: 'unit', testMatch: ['<rootDir>/tests/unit/**/*.test.ts'], transform },
    { displayName: 'integration', testMatch: ['<rootDir>/tests/integration/**/*.test.ts'], transform },
  ],
};
