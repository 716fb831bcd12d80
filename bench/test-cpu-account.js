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
beforeAll(() => (importsDone = cpu()));
beforeEach(() => (testStart = cpu()));
afterEach(() => {
  const now = cpu();
  write({ kind: "test", file: file(), test: expect.getState().currentTestName, self: now.self - testStart.self, children: now.children - testStart.children });
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
