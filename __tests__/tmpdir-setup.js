// jest globalSetup: the whole run gets a temporary folder of its own (TMPDIR,
// which os.tmpdir() and every child process read), so tmpdir-teardown.js can
// prove that the tests left nothing in it. Plain JavaScript: jest loads it
// before any transform.
const fs = require("fs");
const os = require("os");
const path = require("path");

module.exports = async () => {
  // npm test's type check (tools/test.js) runs while jest starts; no worker is forked before it has ended.
  await globalThis.__zivohealthTypeCheck;
  const outer = os.tmpdir();
  const dir = fs.mkdtempSync(path.join(outer, "zh-jest-run-"));
  process.env.ZH_TEST_TMPDIR_OUTER = outer;
  process.env.ZH_TEST_TMPDIR = dir;
  process.env.TMPDIR = dir;
};
