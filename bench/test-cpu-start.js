// bench/jest.cpu.config.js: the CPU of the worker when a test file starts, before the framework and setup.ts load.
const fs = require("fs");

/** CPU milliseconds of this process and of its waited-for children (/proc/self/stat, Linux). */
globalThis.__testCpu = () => {
  const text = fs.readFileSync("/proc/self/stat", "utf8");
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const tick = 10; // USER_HZ is 100 on Linux
  return { self: (Number(f[11]) + Number(f[12])) * tick, children: (Number(f[13]) + Number(f[14])) * tick };
};
globalThis.__testCpuStart = globalThis.__testCpu();
