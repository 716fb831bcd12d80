// jest globalTeardown: fails the run when a test left anything in the run's
// temporary folder (tmpdir-setup.js), naming what; the folder goes either way,
// so nothing stays in the machine's temporary directory.
// VALIDATE_KEEP_DIRS=1 (the Terraform tier's "keep every folder") keeps it and says where.
const fs = require("fs");

module.exports = async () => {
  const dir = process.env.ZH_TEST_TMPDIR;
  if (!dir) return;
  process.env.TMPDIR = process.env.ZH_TEST_TMPDIR_OUTER;
  if (process.env.VALIDATE_KEEP_DIRS === "1") {
    process.stderr.write(`\nVALIDATE_KEEP_DIRS=1: the tests' temporary folders are kept in ${dir}\n`);
    return;
  }
  const left = fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
  fs.rmSync(dir, { recursive: true, force: true });
  if (left.length > 0) {
    throw new Error(`the tests left ${left.length} entr${left.length === 1 ? "y" : "ies"} in the temporary folder (each test removes what it makes): ${left.join(", ")}`);
  }
};
