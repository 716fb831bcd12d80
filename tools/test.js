#!/usr/bin/env node
// npm test: the type check (tsc) and the unit tests (jest) at the same time, so
// tsc's few seconds on one core overlap jest's instead of coming first. Exit:
// jest's code when it failed, else tsc's (a type error fails the run even when
// every test passes). tsc's output is held back and printed after jest's, so
// the two never interleave. Without arguments jest runs the test files in
// groups (jest.groups.config.js: cdktf loads once per group, not per file);
// arguments go to jest with jest.config.js, file by file (`npm test -- <file>`).
// Plain JavaScript, so it needs no build itself.
"use strict";
const { spawn } = require("child_process");
const path = require("path");

const root = path.resolve(__dirname, "..");
const node = process.execPath;

const tsc = spawn(node, [path.join(root, "node_modules", "typescript", "bin", "tsc")], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
let tscOut = "";
tsc.stdout.on("data", (d) => (tscOut += d));
tsc.stderr.on("data", (d) => (tscOut += d));
// jest's heap cap: see jest.config.js (the workers inherit it).
const args = process.argv.slice(2);
const config = args.length === 0 ? "jest.groups.config.js" : "jest.config.js";
const jest = spawn(node, ["--max-old-space-size=640", path.join(root, "node_modules", "jest", "bin", "jest.js"), "-c", config, ...args], { cwd: root, stdio: "inherit" });

const exited = (child) => new Promise((resolve) => child.on("close", (code, signal) => resolve(code ?? (signal ? 128 : 1))));
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    tsc.kill(sig);
    jest.kill(sig);
  });
}

Promise.all([exited(tsc), exited(jest)]).then(([tscCode, jestCode]) => {
  if (tscOut) process.stdout.write(tscOut.endsWith("\n") ? tscOut : `${tscOut}\n`);
  process.stdout.write(tscCode === 0 ? "tsc: no type errors\n" : `tsc: type errors (exit ${tscCode})\n`);
  process.exit(jestCode !== 0 ? jestCode : tscCode);
});
