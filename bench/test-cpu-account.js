// bench/jest.cpu.config.js: per test file, the CPU of its setup (setup.ts: cdktf and the matchers), of its
// imports and top-level code, of its tests, and of the processes it spawned; per test, its own and its children's.
// One JSON line each to $TEST_CPU_LOG.
const fs = require("fs");
const path = require("path");

const log = process.env.TEST_CPU_LOG;
if (!log) throw new Error("bench/jest.cpu.config.js: set TEST_CPU_LOG to the file to append to");
const cpu = globalThis.__testCpu;
const start = globalThis.__testCpuStart;
const setupDone = cpu();
const file = () => path.relative(path.resolve(__dirname, ".."), expect.getState().testPath ?? "?");
const write = (o) => fs.appendFileSync(log, JSON.stringify(o) + "\n");
let importsDone;
let testStart;
let wallStart;
beforeAll(() => (importsDone = cpu()));
beforeEach(() => {
  testStart = cpu();
  wallStart = Date.now();
});
afterEach(() => {
  const now = cpu();
  // start and end (ms since the epoch): the report gives a test file in a group the wall time from the test before it (its hooks included).
  const t = { start: wallStart, end: Date.now() };
  write({ kind: "test", file: file(), test: expect.getState().currentTestName, self: now.self - testStart.self, children: now.children - testStart.children, ...t });
});
afterAll(() => {
  const end = cpu();
  write({
    kind: "file",
    file: file(),
    setup: setupDone.self - start.self,
    imports: importsDone.self - setupDone.self,
    tests: end.self - importsDone.self,
    children: end.children - start.children,
  });
});
