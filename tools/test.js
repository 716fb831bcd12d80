#!/usr/bin/env node
// npm test: the type check (tsc), then the unit tests (jest). Exit: tsc's code
// when it found type errors (jest still runs, so one run shows both), else jest's.
//
// The type check is `tsc -b` over two projects (tools/type-check.js says why): when no source changed
// since the last clean check it stops after comparing timestamps; when one did, it checks incrementally.
// It cannot see a changed dependency, so after an install (node_modules/.package-lock.json newer than
// a project's build info) each project gets plain incremental `tsc -p`, which hashes every file, once.
// Not beside jest's workers: together they peaked at ~1.25 to 1.45 GiB (tsc up to ~470 MiB beside
// them), over the 1 GiB goal. It runs while jest's own process starts, and jest's globalSetup waits for it.
//
// Without arguments jest runs the test files in groups (jest.groups.config.js:
// cdktf loads once per group, not per file); arguments go to jest with
// jest.config.js, file by file (`npm test -- <file>`).
// The run's temporary folder goes in /dev/shm when TMPDIR is not set and it is a tmpfs with room
// (tools/test-tmpdir.js says why).
// Jest runs in this process, not a child of it: one node process (~42 MiB) fewer in the tree while the
// tests run (docs/performance.md, the memory goal).
// Plain JavaScript, so it needs no build itself.
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

const root = path.resolve(__dirname, "..");
const node = process.execPath;
// No test opens a TLS connection (fake AWS endpoints are plain http), but Node 20 parses the CA bundle
// NODE_EXTRA_CA_CERTS names at every process start: ~30 ms CPU each (a 144-certificate bundle), and a
// run starts ~80 node processes (tsc, jest's workers, the commands the tests spawn). Not passed on.
delete process.env.NODE_EXTRA_CA_CERTS;
const mtime = (f) => {
  try {
    return fs.statSync(path.join(root, f)).mtimeMs;
  } catch {
    return undefined;
  }
};

// The processes below one (Linux's /proc; elsewhere none are known): jest's workers and what their tests spawned.
const descendants = (pid) => {
  let children = [];
  try {
    children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // gone, or no /proc
  }
  return children.flatMap((c) => [c, ...descendants(c)]);
};
const signal = (pid, sig) => {
  try {
    process.kill(pid, sig);
  } catch {
    // gone already
  }
};
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return !/^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8")); // a zombie has ended
  } catch {
    return false;
  }
};

let child; // tsc, while it runs: an interrupt goes to it
const forward = (sig) => child?.kill(sig);
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, forward);
const run = (argv) =>
  new Promise((resolve) => {
    child = spawn(node, argv, { cwd: root, stdio: "inherit" });
    child.on("close", (code, signal) => resolve(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1)));
  });

const { PROJECTS, buildInfoOf } = require("./type-check");
const typeCheck = async () => {
  const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
  const installed = mtime("node_modules/.package-lock.json");
  const built = PROJECTS.map((p) => mtime(buildInfoOf(root, p)));
  if (built.every((b) => b !== undefined && (installed === undefined || installed < b))) return run([tsc, "-b", ...PROJECTS]);
  let code = 0;
  for (const p of PROJECTS) {
    const c = await run([tsc, "-p", p]);
    if (c > 128) return c; // interrupted
    code ||= c;
  }
  // A clean `tsc -p` that found nothing changed leaves its build info untouched, still older than the install:
  // every later run took this path again (about 8 s on two cores) until a source changed. It has just checked
  // every file against this install, so the build info is marked as newer than it.
  if (code === 0) {
    const now = new Date();
    for (const p of PROJECTS) {
      try {
        fs.utimesSync(path.join(root, buildInfoOf(root, p)), now, now);
      } catch {
        // none written: the next run checks with tsc -p again
      }
    }
  }
  return code;
};

(async () => {
  // From the end of the type check an interrupt ends jest's workers and what their tests spawned, then this run's
  // temporary folder (tmpdir-setup.js made it, in this process) and the run itself; jest's own teardown would not run.
  // A folder named before jest's setup ran is another run's (npm test inside a test): never removed here.
  const inherited = process.env.ZH_TEST_TMPDIR;
  const jestSignals = () => {
    for (const sig of ["SIGINT", "SIGTERM"]) {
      process.off(sig, forward);
      process.on(sig, () => {
        const below = descendants(process.pid);
        for (const pid of below) signal(pid, sig);
        const until = Date.now() + 5000;
        while (below.some(alive) && Date.now() < until) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
        const dir = process.env.ZH_TEST_TMPDIR;
        if (dir && dir !== inherited) fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
        process.exit(sig === "SIGINT" ? 130 : 143);
      });
    }
  };
  // jest's heap cap (see jest.config.js): its workers are forked with this process's execArgv.
  if (!process.execArgv.some((a) => a.startsWith("--max-old-space-size"))) process.execArgv.push("--max-old-space-size=480");
  // And V8's optimizing compiler off, eager compilation hints ignored: a test's code runs a few times, too few for
  // TurboFan to pay back what it costs (the run's CPU about 5% less; docs/performance.md). The commands and apps
  // the tests spawn run as users run them.
  for (const flag of ["--no-opt", "--max-lazy"]) if (!process.execArgv.includes(flag)) process.execArgv.push(flag);
  const tmp = require("./test-tmpdir").testTmpdir();
  if (tmp) process.env.TMPDIR = tmp; // the run's folder goes inside it (tmpdir-setup.js), and the teardown removes it
  // The type check runs while jest starts (its configuration read, its test files found), not beside its tests:
  // jest's globalSetup (__tests__/tmpdir-setup.js) waits for it before any worker is forked, so the memory
  // stays as above. About 0.15 s of npm test.
  const checked = typeCheck().then((code) => {
    child = undefined;
    if (code > 128) process.exit(code); // interrupted: no test after it (no worker was started)
    process.stdout.write(code === 0 ? "tsc: no type errors\n" : `tsc: type errors (exit ${code})\n`);
    if (tmp) process.stdout.write(`temporary folders in ${tmp} (a tmpfs; set TMPDIR to choose)\n`);
    jestSignals();
    return code;
  });
  globalThis.__zivohealthTypeCheck = checked;
  const args = process.argv.slice(2);
  const config = args.length === 0 ? "jest.groups.config.js" : "jest.config.js";
  // From here this process is jest's, as under `npx jest`: stacks/startup.ts, imported by a test, leaves the module
  // loading of a process started by a file in node_modules alone (one file runs in this process, in band).
  process.argv[1] = path.join(root, "node_modules", "jest", "bin", "jest.js");
  // jest sets the exit code on its way out (its own listener); tsc's failure, when there is one, wins.
  await require(path.join(root, "node_modules", "jest")).run(["-c", path.join(root, config), ...args], root);
  const tscCode = await checked; // jest waited for it unless it stopped before its setup (a bad argument)
  process.on("exit", () => {
    if (tscCode !== 0) process.exitCode = tscCode;
  });
})();
