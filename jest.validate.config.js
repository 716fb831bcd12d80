/**
 * The Terraform validation tier (validate/): `terraform init` + `terraform
 * validate` on the synthesized stacks, against the provider mirror.
 * Run: npx jest -c jest.validate.config.js. Without terraform or the mirror
 * the tier is skipped with a warning naming the reason
 * (VALIDATE_REQUIRE_TERRAFORM=1 makes that a failure).
 */
const os = require("os");
const base = require("./jest.config.js");

module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/validate"],
  testMatch: ["**/*.test.ts"],
  // The same SWC transform as the unit tests.
  transform: base.transform,
  setupFilesAfterEnv: ["<rootDir>/__tests__/setup.ts"],
  globalSetup: base.globalSetup,
  globalTeardown: base.globalTeardown,
  cacheDirectory: base.cacheDirectory,
  // Per stack, terraform init takes about 1 s and validate about 5 s (loading
  // the AWS provider's schema); generous for a slow or busy machine.
  testTimeout: 300000,
  // Stacks validated at once. Terraform and the provider are multi-threaded:
  // on two cores two at a time gain little over one, more cores gain more.
  maxConcurrency: Math.max(1, Math.min(4, os.cpus().length)),
  maxWorkers: 2,
  // Each test as it starts and ends, on stderr (the default reporter waits for a whole file).
  reporters: ["default", "<rootDir>/validate/lib/progress-reporter.js"],
};
