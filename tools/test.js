#!/usr/bin/env node
// npm test: the type check (tsc), then the unit tests (jest). Exit: tsc's code
// when it found type errors (jest still runs, so one run shows both), else jest's.
//
// The type check is `tsc -b`: when no source changed since the last clean check
// it stops after comparing timestamps (about 0.3 s of CPU instead of parsing
// the ~2,800 files the program holds, most of them the AWS SDK's types); when
// one did, it checks incrementally as plain `tsc` would. It cannot see a changed
// dependency, so after an install (node_modules/.package-lock.json newer than
// the build info) it runs plain incremental `tsc`, which hashes every file.
// One after the other, not side by side: together the two peaked at ~1.25 to
// 1.45 GiB (tsc up to ~470 MiB beside jest's workers), over the 1 GiB goal.
//
// Without arguments jest runs the test files in groups (jest.groups.config.js:
// cdktf loads once per group, not per file); arguments go to jest with
// jest.config.js, file by file (`npm test -- <file>`).
// Plain JavaScript, so it needs no build itself.
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..");
const node = process.execPath;
const mtime = (f) => {
  try {
    return fs.statSync(path.join(root, f)).mtimeMs;
  } catch {
    return undefined;
  }
};

let child;
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child?.kill(sig));
const run = (argv) =>
  new Promise((resolve) => {
    child = spawn(node, argv, { cwd: root, stdio: "inherit" });
    child.on("close", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });

(async () => {
  const buildInfo = mtime("dist/.tsbuildinfo"); // tsconfig.json's tsBuildInfoFile
  const installed = mtime("node_modules/.package-lock.json");
  const build = buildInfo !== undefined && (installed === undefined || installed < buildInfo);
  const tscCode = await run([path.join(root, "node_modules", "typescript", "bin", "tsc"), ...(build ? ["-b"] : [])]);
  process.stdout.write(tscCode === 0 ? "tsc: no type errors\n" : `tsc: type errors (exit ${tscCode})\n`);
  const args = process.argv.slice(2);
  const config = args.length === 0 ? "jest.groups.config.js" : "jest.config.js";
  // jest's heap cap: see jest.config.js (the workers inherit it).
  const jestCode = await run(["--max-old-space-size=480", path.join(root, "node_modules", "jest", "bin", "jest.js"), "-c", config, ...args]);
  process.exit(tscCode !== 0 ? tscCode : jestCode);
})();
