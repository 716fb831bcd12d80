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
};
