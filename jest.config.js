/**
 * Tests run on the TypeScript sources through SWC (no type check here: `npm test` runs `tsc` first).
 * `npm test` starts jest with --max-old-space-size=640 (the workers inherit it): each test file
 * loads cdktf and the provider bindings anew, and without a cap a worker's heap grows to ~450 MiB
 * before it collects; capped, the whole tree peaks near 850 MiB instead of 1 GiB, for about the
 * same time (measured in README, Performance).
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
