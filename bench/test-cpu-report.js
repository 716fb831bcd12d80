// Summarizes the log of bench/jest.cpu.config.js: per file (slowest first) and the slowest tests, CPU ms.
//   node bench/test-cpu-report.js <log> [tests to list, default 25]
// With --wall, the same log's wall times: each group's, and within it each test file's, from the end of the test before
// its first one (its beforeAll hooks included) to the end of its last one, in s: the weights of __tests__/groups.js.
//   node bench/test-cpu-report.js --wall <log>
const fs = require("fs");

const pad = (v, n = 9) => String(v).padStart(n);
const wall = process.argv[2] === "--wall";
const [file, top = "25"] = process.argv.slice(wall ? 3 : 2);
if (!file || !fs.existsSync(file)) {
  process.stderr.write("usage: node bench/test-cpu-report.js [--wall] <TEST_CPU_LOG file> [n]\n");
  process.exit(2);
}
const rows = fs.readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l));
const files = rows.filter((r) => r.kind === "file");
const tests = rows.filter((r) => r.kind === "test");
// In a group (__tests__/groups.js) each test's name begins with its file's.
const fileOf = (t) => /^\S+\.test\.ts(?= )/.exec(t.test ?? "")?.[0] ?? t.file;
if (wall) {
  if (tests.some((t) => t.start === undefined)) {
    process.stderr.write(`${file}: no wall times (a log of an older bench/test-cpu-account.js)\n`);
    process.exit(2);
  }
  const out = [];
  for (const group of [...new Set(tests.map((t) => t.file))]) {
    const own = tests.filter((t) => t.file === group).sort((a, b) => a.start - b.start);
    out.push(`${group.padEnd(44)}${pad(((own.at(-1).end - own[0].start) / 1000).toFixed(2))} s from its first test to its last`);
    const byFile = new Map();
    own.forEach((t, i) => {
      const from = i === 0 ? t.start : own[i - 1].end;
      byFile.set(fileOf(t), (byFile.get(fileOf(t)) ?? 0) + t.end - from);
    });
    for (const [name, ms] of [...byFile].sort((a, b) => b[1] - a[1])) out.push(`  ${name.padEnd(42)}${pad((ms / 1000).toFixed(2))}`);
  }
  process.stdout.write(out.join("\n") + "\n");
  process.exit(0);
}
const total = (r) => r.setup + r.imports + r.tests + r.children;
const sum = { setup: 0, imports: 0, tests: 0, children: 0 };
const out = [`${"file".padEnd(44)}${pad("setup")}${pad("imports")}${pad("tests")}${pad("children")}${pad("total")}  (CPU ms)`];
for (const r of files.sort((a, b) => total(b) - total(a))) {
  for (const k of Object.keys(sum)) sum[k] += r[k];
  out.push(`${r.file.padEnd(44)}${pad(r.setup)}${pad(r.imports)}${pad(r.tests)}${pad(r.children)}${pad(total(r))}`);
}
out.push(`${`all ${files.length} files`.padEnd(44)}${pad(sum.setup)}${pad(sum.imports)}${pad(sum.tests)}${pad(sum.children)}${pad(total(sum))}`, "");
const byFile = new Map();
for (const t of tests) {
  const name = fileOf(t);
  const f = byFile.get(name) ?? { tests: 0, self: 0, children: 0 };
  byFile.set(name, { tests: f.tests + 1, self: f.self + t.self, children: f.children + t.children });
}
out.push(`the tests by file (CPU ms: own, children; a file's imports and setup are its group's):`);
for (const [name, f] of [...byFile].sort((a, b) => b[1].self + b[1].children - (a[1].self + a[1].children)))
  out.push(`${name.padEnd(44)}${pad(f.tests)} tests${pad(f.self)}${pad(f.children)}`);
out.push("");
out.push(`the ${top} costliest of ${tests.length} tests (own + children CPU ms):`);
for (const t of tests.sort((a, b) => b.self + b.children - (a.self + a.children)).slice(0, Number(top)))
  out.push(`${pad(t.self + t.children)}  ${t.file}  ${t.test}`);
process.stdout.write(out.join("\n") + "\n");
