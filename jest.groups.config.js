/**
 * `npm test`'s jest: jest.config.js, with the test files run in groups (`__tests__/groups.js`), so each
 * worker loads cdktf and the provider bindings once per group instead of once per file.
 */
const base = require("./jest.config.js");

module.exports = {
  ...base,
  testMatch: ["**/*.group.js"],
  // One group a worker: each starts in a fresh worker and the worker ends with it.
  maxWorkers: 2,
};
