// npm test's jest run with a CPU account per test file and per test (issue 17: where the time goes):
//   TEST_CPU_LOG=/tmp/cpu.ndjson node node_modules/jest/bin/jest.js -c bench/jest.cpu.config.js
//   node bench/test-cpu-report.js /tmp/cpu.ndjson
// CPU, not wall time: on a shared machine the wall time of a test says more about the neighbours.
const path = require("path");
const base = require("../jest.groups.config.js");

const root = path.resolve(__dirname, "..");
module.exports = {
  ...base,
  rootDir: root,
  setupFiles: [path.join(__dirname, "test-cpu-start.js")],
  setupFilesAfterEnv: [...base.setupFilesAfterEnv, path.join(__dirname, "test-cpu-account.js")],
};
