// Summarizes the log of bench/jest.cpu.config.js: per file (slowest first) and the slowest tests, CPU ms.
//   node bench/test-cpu-report.js <log> [tests to list, default 25]
// With --wall, jest's own JSON report instead (`--json --outputFile=<file>`): each group's wall time and, within it,
// each test file's (the sum of its tests' durations, its beforeAll hooks not included), in s: the weights of __tests__/groups.js.
//   node bench/test-cpu-report.js --wall <jest JSON report>
const fs = require("fs");

const pad = (v, n = 9) => String(v).padStart(n);
if (process.argv[2] === "--wall") {
  const report = process.argv[3];
  if (!report || !fs.existsSync(report)) {
    process.stderr.write("usage: node bench/test-cpu-report.js --wall <jest --json report>\n");
    process.exit(2);
  }
  const out = [];
  for (const f of JSON.parse(fs.readFileSync(report, "utf8")).testResults) {
    out.push(`${f.name.split(/[\\/]/).slice(-2).join("/").padEnd(44)}${pad(((f.endTime - f.startTime) / 1000).toFixed(2))} s`);
    const byFile = new Map();
    for (const t of f.assertionResults) {
      // In a group the outermost describe is the test file's name (__tests__/groups.js).
      const name = /\.test\.ts$/.test(t.ancestorTitles[0] ?? "") ? t.ancestorTitles[0] : "(the file's own tests)";
      byFile.set(name, (byFile.get(name) ?? 0) + (t.duration ?? 0));
    }
    for (const [name, ms] of [...byFile].sort((a, b) => b[1] - a[1])) out.push(`  ${name.padEnd(42)}${pad((ms / 1000).toFixed(2))}`);
  }
  process.stdout.write(out.join("\n") + "\n");
  process.exit(0);
}
const [file, top = "25"] = process.argv.slice(2);
if (!file || !fs.existsSync(file)) {
  process.stderr.write("usage: node bench/test-cpu-report.js <TEST_CPU_LOG file> [n]\n");
  process.exit(2);
}
const rows = fs.readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l));
const files = rows.filter((r) => r.kind === "file");
const tests = rows.filter((r) => r.kind === "test");
const total = (r) => r.setup + r.imports + r.tests + r.children;
const sum = { setup: 0, imports: 0, tests: 0, children: 0 };
const out = [`${"file".padEnd(44)}${pad("setup")}${pad("imports")}${pad("tests")}${pad("children")}${pad("total")}  (CPU ms)`];
for (const r of files.sort((a, b) => total(b) - total(a))) {
  for (const k of Object.keys(sum)) sum[k] += r[k];
  out.push(`${r.file.padEnd(44)}${pad(r.setup)}${pad(r.imports)}${pad(r.tests)}${pad(r.children)}${pad(total(r))}`);
}
out.push(`${`all ${files.length} files`.padEnd(44)}${pad(sum.setup)}${pad(sum.imports)}${pad(sum.tests)}${pad(sum.children)}${pad(total(sum))}`, "");
// In a group (__tests__/groups.js) each test's name begins with its file's.
const byFile = new Map();
for (const t of tests) {
  const name = /^\S+\.test\.ts(?= )/.exec(t.test ?? "")?.[0] ?? t.file;
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
