// npm test's own machinery: every test file in one group (or alone), the lone files first, and the stack
// traces of __tests__/setup.ts (cdktf's creation records cheap, errors still mapped to the TypeScript), and the type
// check's two projects (tools/type-check.js).
import * as fs from "fs";
import * as path from "path";
import { Lazy } from "cdktf";

// Loaded as jest loads them: plain JavaScript.
const { groups, weight, ALONE } = require("./groups") as { groups(): string[][]; weight(file: string): number; ALONE: string[] };
const AloneFirst = require("./sequencer") as new () => { sort(tests: object[]): { path: string }[] };

describe("the groups of npm test", () => {
  it("hold every test file of __tests__ exactly once, apart from those that run alone", () => {
    const files = fs.readdirSync(__dirname, { recursive: true }).map(String).filter((f) => f.endsWith(".test.ts") && !f.split(path.sep).includes("node_modules"));
    const grouped = groups().flat();
    expect([...grouped].sort()).toEqual(files.filter((f) => !ALONE.includes(f)).sort());
    expect(new Set(grouped).size).toBe(grouped.length);
    expect(groups()).toHaveLength(fs.readdirSync(__dirname).filter((f) => f.endsWith(".group.js")).length);
    expect(ALONE).toEqual(["workflows.test.ts"]);
    expect(grouped).toContain("harness.test.ts");
  });

  it("are two, one a worker, each running its costliest files first: verify opens one", () => {
    expect(groups()).toHaveLength(2);
    const firsts = groups().map((g) => g[0]);
    expect(firsts).toContain("verify.test.ts");
    // Every group in order of weight, the heaviest first (whichever group a file lands in as the files grow).
    for (const g of groups()) expect(g.map(weight)).toEqual(g.map(weight).sort((a, b) => b - a));
    expect(weight("synth-diff.test.ts")).toBeGreaterThan(weight("cli-pipe.test.ts"));
  });

  it("the group that follows the lone files in their worker is lighter by about their weight", () => {
    const sum = (g: string[]) => g.reduce((total, f) => total + weight(f), 0);
    const [first, second] = groups();
    const lone = ALONE.reduce((total, f) => total + weight(f), 0);
    expect(lone).toBeGreaterThan(1);
    expect(sum(first) - sum(second)).toBeGreaterThan(lone / 2);
    expect(Math.abs(sum(first) - (sum(second) + lone))).toBeLessThan(lone / 2);
  });

  it("each run in a fresh worker: jest recycles a worker after every file (a limit below any worker's heap)", () => {
    const config = require("../jest.groups.config.js") as { workerIdleMemoryLimit?: string };
    expect(config.workerIdleMemoryLimit).toBe("1MB");
    expect(process.memoryUsage().heapUsed).toBeGreaterThan(2 ** 20); // what jest compares it with, after a file
  });

  it("run after the lone files; among themselves, jest's order (the largest first without timings)", () => {
    const context = { config: { cache: false, cacheDirectory: __dirname, id: "harness" }, hasteFS: { getSize: (p: string) => (p.includes("unit-2") ? 300 : p.includes("unit-1") ? 200 : 100) } };
    const test = (name: string) => ({ path: path.join(__dirname, name), context });
    const sorted = new AloneFirst().sort([test("unit-1.group.js"), test("workflows.test.ts"), test("unit-2.group.js"), test("unit-3.group.js")]);
    expect(sorted.map((t) => path.basename(t.path))).toEqual(["workflows.test.ts", "unit-2.group.js", "unit-1.group.js", "unit-3.group.js"]);
  });
});

describe("npm test's temporary folders (tools/test-tmpdir.js)", () => {
  const { testTmpdir, MIN_FREE, TMPFS_MAGIC } = require("../tools/test-tmpdir") as {
    testTmpdir(env: NodeJS.ProcessEnv, statfs: (p: string) => object, writable: (p: string) => void): string | undefined;
    MIN_FREE: number;
    TMPFS_MAGIC: number;
  };
  const EXT4 = 0xef53;
  const fs4k = (type: number, bytes: number) => () => ({ type, bsize: 4096, bavail: Math.floor(bytes / 4096) });
  const ok = () => undefined;

  it("go in /dev/shm when TMPDIR is unset and it is a writable tmpfs with 1 GiB free", () => {
    expect(MIN_FREE).toBe(2 ** 30);
    expect(testTmpdir({}, fs4k(TMPFS_MAGIC, 2 ** 30), ok)).toBe("/dev/shm");
    expect(testTmpdir({ TMPDIR: "" }, fs4k(TMPFS_MAGIC, 24 * 2 ** 30), ok)).toBe("/dev/shm");
  });

  it("stay where the system says otherwise: a TMPDIR (TMP, TEMP) set, a small /dev/shm (a container's 64 MiB), not a tmpfs, not writable, none", () => {
    expect(testTmpdir({ TMPDIR: "/var/tmp" }, fs4k(TMPFS_MAGIC, 2 ** 34), ok)).toBeUndefined();
    expect(testTmpdir({ TMP: "/var/tmp" }, fs4k(TMPFS_MAGIC, 2 ** 34), ok)).toBeUndefined();
    expect(testTmpdir({ TEMP: "/var/tmp" }, fs4k(TMPFS_MAGIC, 2 ** 34), ok)).toBeUndefined();
    expect(testTmpdir({}, fs4k(TMPFS_MAGIC, 64 * 2 ** 20), ok)).toBeUndefined();
    expect(testTmpdir({}, fs4k(TMPFS_MAGIC, 2 ** 30 - 4096), ok)).toBeUndefined();
    expect(testTmpdir({}, fs4k(EXT4, 2 ** 34), ok)).toBeUndefined();
    const denied = () => {
      throw Object.assign(new Error("EACCES: permission denied, access '/dev/shm'"), { code: "EACCES" });
    };
    expect(testTmpdir({}, fs4k(TMPFS_MAGIC, 2 ** 34), denied)).toBeUndefined();
    const missing = () => {
      throw Object.assign(new Error("ENOENT: no such file or directory, statfs '/dev/shm'"), { code: "ENOENT" });
    };
    expect(testTmpdir({}, missing, ok)).toBeUndefined();
  });
});

describe("stack traces under npm test (setup.ts)", () => {
  it("cdktf's creation records keep 10 frames as V8 prints them", () => {
    const record = { stack: "" };
    const deep = (n: number): void => (n === 0 ? Error.captureStackTrace(record) : deep(n - 1));
    deep(30);
    const [header, ...frames] = record.stack.split("\n");
    expect(header).toBe("Error");
    expect(frames).toHaveLength(10);
    expect(frames.every((f) => /^    at deep \(.*harness\.test\.ts:\d+:\d+\)$/.test(f))).toBe(true);
    // What cdktf keeps of where a token was made: those 10 frames, from its own constructor to this test.
    const lazy = Lazy.anyValue({ produce: () => "x" });
    expect(lazy.creationStack).toHaveLength(10);
    expect(lazy.creationStack[0]).toMatch(/^new LazyBase \(.*node_modules\/cdktf\/lib\/tokens\/lazy\.js:\d+:\d+\)$/);
    expect(lazy.creationStack.some((f) => /harness\.test\.ts:\d+:\d+\)$/.test(f))).toBe(true);
  });

  it("cdktf's creation records are captured with 10 frames, and the limit is given back", () => {
    const limits: number[] = [];
    const capture = Error.captureStackTrace;
    const before = Error.stackTraceLimit;
    Error.captureStackTrace = (target: object, below?: Function) => {
      limits.push(Error.stackTraceLimit);
      capture(target, below);
    };
    try {
      Lazy.anyValue({ produce: () => "x" });
    } finally {
      Error.captureStackTrace = capture;
    }
    expect(limits).toEqual([10]);
    expect(Error.stackTraceLimit).toBe(before);
  });

  it("cdktf's creation records are formatted when first read, not as each token is made", () => {
    const prepare = Error.prepareStackTrace!;
    let formatted = 0;
    Error.prepareStackTrace = (target, frames) => {
      formatted++;
      return prepare(target, frames);
    };
    try {
      const lazy = Lazy.anyValue({ produce: () => "x" });
      expect(formatted).toBe(0);
      expect(lazy.creationStack.join("\n")).toMatch(/^new LazyBase \(/);
      expect(formatted).toBe(1);
      expect(lazy.creationStack).toHaveLength(10);
      expect(formatted).toBe(1); // read once
    } finally {
      Error.prepareStackTrace = prepare;
    }
  });

  it("an error's stack still names the TypeScript line it was made on (SWC's JavaScript has it elsewhere)", () => {
    const line = Number(/harness\.test\.ts:(\d+):\d+/.exec(new Error("here").stack!)?.[1]);
    const expected = fs.readFileSync(__filename, "utf8").split("\n").findIndex((l) => l.includes('new Error("here")')) + 1;
    expect(line).toBe(expected);
  });
});

describe("npm test's type check (tools/type-check.js)", () => {
  const { PROJECTS, buildInfoOf } = require("../tools/type-check") as { PROJECTS: string[]; buildInfoOf(root: string, project: string): string };
  const ROOT = path.join(__dirname, "..");
  const read = (f: string) => JSON.parse(fs.readFileSync(path.join(ROOT, f), "utf8"));
  const whole = read("tsconfig.json");
  const [core, verify] = PROJECTS.map(read);

  it("is the core, then verify, which references it; both extend tsconfig.json, each with build info of its own", () => {
    expect(PROJECTS).toEqual(["tsconfig.core.json", "tsconfig.verify.json"]);
    expect([core.extends, verify.extends]).toEqual(["./tsconfig.json", "./tsconfig.json"]);
    expect(verify.references).toEqual([{ path: "./tsconfig.core.json" }]);
    // verify is composite too, though nothing references it: tsc -b refreshes an emitting project's build info
    // after a build that changed nothing; without that, once a core declaration verify does not use had
    // changed, verify was built again after every edit (TypeScript 5.9).
    for (const p of [core, verify]) expect(p.compilerOptions).toMatchObject({ composite: true, emitDeclarationOnly: true, outDir: "dist/declarations" });
    expect(PROJECTS.map((p) => buildInfoOf(ROOT, p))).toEqual(["dist/declarations/.tsbuildinfo", "dist/declarations/.tsbuildinfo-verify"]);
  });

  it("leaves out of the core exactly what the verify project holds, and the core keeps tsconfig.json's folders", () => {
    expect(core.include).toBeUndefined(); // tsconfig.json's, inherited
    const verifyFiles = verify.include.filter((p: string) => p !== "types/**/*.d.ts");
    expect(core.exclude).toEqual([...whole.exclude, ...verifyFiles]);
    expect(verifyFiles).toContain("commands/verify/**/*.ts");
  });

  it("puts every file that imports the AWS SDK in the verify project (the core parses none of its declarations)", () => {
    const skipped = ["node_modules", "dist", "cdktf.out", "fixtures", "build", "generated", "out"];
    const walk = (rel: string): string[] =>
      fs.statSync(path.join(ROOT, rel)).isDirectory()
        ? fs.readdirSync(path.join(ROOT, rel)).filter((e) => !skipped.includes(e)).flatMap((e) => walk(path.posix.join(rel, e)))
        : rel.endsWith(".ts") ? [rel] : [];
    const sdk = ["main.ts", "config", "modules", "stacks", "policy", "commands", "lib", "bench", "tools", "__tests__", "validate", "compat"]
      .filter((f) => fs.existsSync(path.join(ROOT, f)))
      .flatMap(walk)
      .filter((f) => /from "@aws-sdk\//.test(fs.readFileSync(path.join(ROOT, f), "utf8")));
    expect(sdk).toContain("commands/verify/aws.ts");
    const inVerify = (f: string) => verify.include.some((p: string) => (p.endsWith("/**/*.ts") ? f.startsWith(p.slice(0, -"**/*.ts".length)) : p === f));
    expect(sdk.filter((f) => !inVerify(f))).toEqual([]);
  });
});
