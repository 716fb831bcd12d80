// Where npm test makes its run's temporary folder when TMPDIR does not say: /dev/shm, when it is a tmpfs with
// room, else the system's (os.tmpdir()). A run creates about 5,700 files there (project copies, syntheses, git
// repositories) and holds at most ~8 MB at once; on this machine's ext4 /tmp, allocating those inodes cost ~3 s
// of kernel CPU a run (7.5-9.0 -> 5.3-6.0 s of sys, docs/performance.md). npm test's only, not jest's shared
// globalSetup: the Terraform tier's folders (plans, provider caches) were not measured in RAM.
// Plain JavaScript: tools/test.js needs no build.
"use strict";
const fs = require("fs");

const SHM = "/dev/shm";
const TMPFS_MAGIC = 0x01021994; // statfs(2)'s f_type of a tmpfs
/** Free bytes /dev/shm must have (a container's default /dev/shm is 64 MiB). */
const MIN_FREE = 1024 ** 3;

/**
 * The folder for npm test's temporary folders, or undefined for the system's: a TMPDIR the user set (or TMP,
 * TEMP: what os.tmpdir() reads) always wins; else /dev/shm when it is a writable tmpfs with MIN_FREE bytes free.
 */
function testTmpdir(env = process.env, statfs = (p) => fs.statfsSync(p), writable = (p) => fs.accessSync(p, fs.constants.W_OK)) {
  if (env.TMPDIR || env.TMP || env.TEMP) return undefined;
  try {
    const s = statfs(SHM);
    if (s.type !== TMPFS_MAGIC || s.bavail * s.bsize < MIN_FREE) return undefined;
    writable(SHM);
    return SHM;
  } catch {
    return undefined; // no /dev/shm (not Linux), or not ours to write
  }
}

module.exports = { testTmpdir, MIN_FREE, TMPFS_MAGIC };
