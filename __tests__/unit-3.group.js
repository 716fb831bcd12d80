// One of npm test's groups of test files: see groups.js.
require("./groups").define(3);
