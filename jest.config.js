/**
 * Tests run on the TypeScript sources through SWC (no type check here: `npm test` runs `tsc` first).
 * `npm test` starts jest with --max-old-space-size=480 (the workers inherit it): a worker holds
 * 120 to 170 MiB live after its group, but its heap grows far past that before it collects. At 640
 * the tree peaked at 941 to 1115 MiB over 5 runs; at 480, 880 to 948 over 4, for the same CPU
 * (28.5 to 31.2 s against 30.8 to 33.2; docs/performance.md).
 */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["@swc/jest", { jsc: { target: "es2022" } }] },
  setupFilesAfterEnv: ["<rootDir>/__tests__/setup.ts"],
  // A temporary folder of the run's own, and a failure if a test leaves anything in it.
  globalSetup: "<rootDir>/__tests__/tmpdir-setup.js",
  globalTeardown: "<rootDir>/__tests__/tmpdir-teardown.js",
  // Jest's transform cache, in the project (ignored by git), not in the temporary directory.
  cacheDirectory: "<rootDir>/node_modules/.cache/jest",
  maxWorkers: 2,
};
