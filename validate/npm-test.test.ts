// npm test's runner (tools/test.js), run for real in a throw-away copy of the project, with test files
// of its own added there: a type error fails the run with tsc's exit code even when jest fails too (one
// run shows both); one file runs in band in the runner's own process, as under npx jest; an interrupt during
// the type check ends the run there; an interrupt while jest runs
// ends jest's workers and what their tests spawned, and removes the run's temporary folder, never
// another's. Linux only (the processes are found in /proc). The type check's two projects hold exactly
// tsconfig.json's files, and their incremental check (tsc -b) still finds an error an edit makes in the other
// project; after an install the whole check (tsc -p) runs once, not at every run.
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { copyProject, projectFiles } from "../lib/project-copy";
import { processTree } from "../bench/process-tree";
import { until } from "../__tests__/processes";

// tools/test.js's projects (plain JavaScript, as tools/test.js loads them).
const { PROJECTS, buildInfoOf } = require("../tools/type-check") as { PROJECTS: string[]; buildInfoOf(root: string, project: string): string };

const ROOT = path.resolve(__dirname, "..");
const PROC = fs.existsSync(`/proc/${process.pid}/task/${process.pid}/children`);

let dir: string;
let repo: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "zh-npm-test-"));
  repo = copyProject(ROOT, projectFiles(ROOT), dir);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The environment of a run: its temporary folder one this test can look into. */
const envWith = (tmp: string) => ({ ...process.env, TMPDIR: tmp, CHECKPOINT_DISABLE: "1" });
/** The processes below one (the run itself left out). */
const descendants = (pid: number) => processTree(pid).slice(1).map(([p]) => p);
const cmdline = (pid: number) => {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return "";
  }
};

describe("npm test's type check: two projects", () => {
  it("hold exactly tsconfig.json's files between them, only the declarations of types/ in both", () => {
    // The compiler's own reading of each configuration (its include, exclude and extends).
    const ts = require("typescript") as typeof import("typescript");
    const filesOf = (project: string) => {
      const parsed = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, project), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(String(d.messageText)); } });
      expect(parsed!.errors).toEqual([]);
      return new Set(parsed!.fileNames.map((f) => path.relative(ROOT, f)));
    };
    const whole = filesOf("tsconfig.json");
    const [core, verify] = PROJECTS.map(filesOf);
    expect([...core, ...verify].filter((f) => !whole.has(f))).toEqual([]);
    expect([...whole].filter((f) => !core.has(f) && !verify.has(f))).toEqual([]);
    expect([...core].filter((f) => verify.has(f)).every((f) => f.startsWith("types/") && f.endsWith(".d.ts"))).toBe(true);
    expect(verify.has("commands/verify/index.ts")).toBe(true);
    expect(core.has("commands/verify/index.ts")).toBe(false);
    expect(core.has("modules/ml-worker.ts")).toBe(true);
  });
});

(PROC ? describe : describe.skip)("npm test's runner (tools/test.js)", () => {
  it("a type error fails the run with tsc's exit code, and jest still runs (its failure shown too)", () => {
    fs.writeFileSync(path.join(repo, "__tests__", "zz-typed.test.ts"), 'const n: number = "one";\nit("fails", () => expect(n).toBe(1));\n');
    const tmp = fs.mkdtempSync(path.join(dir, "tmp-"));
    const r = spawnSync(process.execPath, ["tools/test.js", "__tests__/zz-typed.test.ts"], { cwd: repo, env: envWith(tmp), encoding: "utf8", timeout: 240_000 });
    fs.rmSync(path.join(repo, "__tests__", "zz-typed.test.ts"));
    const tsc = /^tsc: type errors \(exit (\d+)\)$/m.exec(r.stdout);
    expect(r.stdout).toContain("error TS2322: Type 'string' is not assignable to type 'number'.");
    expect(tsc).not.toBeNull();
    expect(r.stderr).toMatch(/Tests: +1 failed, 1 total/);
    expect(r.status).toBe(Number(tsc![1]));
    expect(r.status).not.toBe(1); // jest's code for a failed test: tsc's came first
    expect(fs.readdirSync(tmp)).toEqual([]);
  }, 300_000);

  it("after an install with no source changed, one run checks every file (tsc -p) and marks both build infos newer than the install: the next run takes tsc -b", () => {
    const run = () => spawnSync(process.execPath, ["tools/test.js", "__tests__/addresses.test.ts"], { cwd: repo, env: envWith(fs.mkdtempSync(path.join(dir, "tmp-"))), encoding: "utf8", timeout: 240_000 });
    expect(run().stdout).toContain("tsc: no type errors");
    // The copy links node_modules (never touched here): its build infos are set back to before the install instead.
    const installed = fs.statSync(path.join(repo, "node_modules", ".package-lock.json")).mtimeMs;
    const before = new Date(installed - 60_000);
    const infos = PROJECTS.map((p) => path.join(repo, buildInfoOf(repo, p)));
    for (const f of infos) fs.utimesSync(f, before, before);
    const content = infos.map((f) => fs.readFileSync(f, "utf8"));
    expect(run().stdout).toContain("tsc: no type errors");
    for (const f of infos) expect(fs.statSync(f).mtimeMs).toBeGreaterThan(installed);
    // Nothing changed, so tsc wrote nothing: only the times moved.
    expect(infos.map((f) => fs.readFileSync(f, "utf8"))).toEqual(content);
  }, 600_000);

  it("after a warm check, tsc -b finds the errors an edit makes in either project, and passes again once it is undone", () => {
    const run = () => spawnSync(process.execPath, ["tools/test.js", "__tests__/addresses.test.ts"], { cwd: repo, env: envWith(fs.mkdtempSync(path.join(dir, "tmp-"))), encoding: "utf8", timeout: 240_000 });
    expect(run().stdout).toContain("tsc: no type errors");
    // Both build infos newer than the install: the runs below take the incremental `tsc -b`.
    const installed = fs.statSync(path.join(repo, "node_modules", ".package-lock.json")).mtimeMs;
    for (const p of PROJECTS) expect(fs.statSync(path.join(repo, buildInfoOf(repo, p))).mtimeMs).toBeGreaterThan(installed);
    const edit = (file: string, from: string, to: string) => {
      const text = fs.readFileSync(path.join(repo, file), "utf8");
      expect(text).toContain(from);
      fs.writeFileSync(path.join(repo, file), text.replace(from, to));
      return () => fs.writeFileSync(path.join(repo, file), text);
    };
    // A core file's declaration that verify's code uses: the error is in the verify project.
    const undoCore = edit("policy/template.ts", "export function decodeTemplateJson(text: string)", "export function decodeTemplateJson(text: number)");
    let r = run();
    undoCore();
    expect(r.stdout).toMatch(/^commands\/verify\/target\.ts\(\d+,\d+\): error TS2345: Argument of type 'string' is not assignable to parameter of type 'number'\.$/m);
    expect(r.stdout).toMatch(/^policy\/checks\.ts\(\d+,\d+\): error TS2345/m);
    expect(r.stdout).toMatch(/^tsc: type errors \(exit [12]\)$/m);
    expect(r.status).not.toBe(0);
    expect(run().stdout).toContain("tsc: no type errors");
    // An error in verify's own code.
    const undoVerify = edit("commands/verify/report.ts", "\nexport ", '\nexport const notANumber: number = "x";\nexport ');
    r = run();
    undoVerify();
    expect(r.stdout).toMatch(/^commands\/verify\/report\.ts\(\d+,\d+\): error TS2322: Type 'string' is not assignable to type 'number'\.$/m);
    expect(r.status).not.toBe(0);
    expect(run().stdout).toContain("tsc: no type errors");
  }, 600_000);

  it("the type check runs while jest starts, and no test runs before it has ended (jest's setup waits for it); no NODE_EXTRA_CA_CERTS in the tests", async () => {
    for (const p of PROJECTS) fs.rmSync(path.join(repo, buildInfoOf(repo, p)), { force: true }); // a whole check: seconds
    const marker = path.join(dir, "test-started");
    const probe = path.join(repo, "__tests__", "zz-probe.test.ts");
    fs.writeFileSync(
      probe,
      `import * as fs from "fs";\nit("starts", () => fs.writeFileSync(${JSON.stringify(marker)}, JSON.stringify({ at: Date.now(), ca: process.env.NODE_EXTRA_CA_CERTS ?? null })));\n`,
    );
    const tmp = fs.mkdtempSync(path.join(dir, "tmp-"));
    // A machine that sets a CA bundle (this one does): Node would parse it at every process start; no test opens TLS.
    const bundle = path.join(dir, "extra-ca.pem");
    fs.writeFileSync(bundle, "");
    const run = spawn(process.execPath, ["tools/test.js", "__tests__/zz-probe.test.ts"], { cwd: repo, env: { ...envWith(tmp), NODE_EXTRA_CA_CERTS: bundle }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    run.stdout!.on("data", (d) => (out += d));
    run.stderr!.on("data", () => undefined);
    const exited = new Promise<number | null>((resolve) => run.on("exit", (code) => resolve(code)));
    let tscLastSeen = 0;
    const poll = setInterval(() => {
      if (descendants(run.pid!).some((p) => cmdline(p).includes("typescript/bin/tsc"))) tscLastSeen = Date.now();
    }, 10);
    try {
      expect(await exited).toBe(0);
    } finally {
      clearInterval(poll);
      fs.rmSync(probe, { force: true });
    }
    expect(out).toContain("tsc: no type errors");
    expect(tscLastSeen).toBeGreaterThan(0);
    const started = JSON.parse(fs.readFileSync(marker, "utf8"));
    expect(started.at).toBeGreaterThan(tscLastSeen);
    expect(started.ca).toBeNull();
    expect(fs.readdirSync(tmp)).toEqual([]);
  }, 300_000);

  it("one file runs in band in the runner's process, which is jest's there (argv[1] its bin, as under npx jest): startup.test passes alone", () => {
    // stacks/startup.ts installs the app's module loading in a process a file outside node_modules started;
    // tools/test.js is such a file, so without its argv[1] a test importing the startup changed jest's own loading.
    const tmp = fs.mkdtempSync(path.join(dir, "tmp-"));
    const r = spawnSync(process.execPath, ["tools/test.js", "__tests__/startup.test.ts", "-t", "not in a process a tool started"], { cwd: repo, env: envWith(tmp), encoding: "utf8", timeout: 240_000 });
    expect(r.stdout).toContain("tsc: no type errors");
    expect(r.stderr).toMatch(/Tests: +\d+ skipped, 1 passed, \d+ total/);
    expect(r.status).toBe(0);
    expect(fs.readdirSync(tmp)).toEqual([]);
  }, 300_000);

  it("an interrupt during the type check: exit 130, no jest after it, another run's folder (ZH_TEST_TMPDIR) left alone", async () => {
    for (const p of PROJECTS) fs.rmSync(path.join(repo, buildInfoOf(repo, p)), { force: true }); // a whole check, long enough to interrupt
    const tmp = fs.mkdtempSync(path.join(dir, "tmp-"));
    const other = fs.mkdtempSync(path.join(dir, "other-run-"));
    fs.writeFileSync(path.join(other, "kept"), "");
    const run = spawn(process.execPath, ["tools/test.js"], { cwd: repo, env: { ...envWith(tmp), ZH_TEST_TMPDIR: other }, stdio: "ignore" });
    const exited = new Promise<number | null>((resolve) => run.on("exit", (code) => resolve(code)));
    try {
      const tsc = await until(() => descendants(run.pid!).filter((p) => cmdline(p).includes("typescript/bin/tsc")).at(0), 60_000);
      expect(tsc).toBeDefined();
      run.kill("SIGINT");
      expect(await exited).toBe(130);
      expect(fs.readdirSync(tmp)).toEqual([]); // jest's setup never ran
      expect(fs.readdirSync(other)).toEqual(["kept"]);
    } finally {
      run.kill("SIGKILL");
    }
  }, 120_000);

  it("an interrupt while jest runs: exit 130, its workers and what their tests spawned ended, the run's temporary folder removed", async () => {
    // Each test spawns a process of its own, then waits.
    const waiting = 'import { spawn } from "child_process";\nit("waits", () => new Promise((r) => { spawn("sleep", ["120"], { stdio: "ignore" }); setTimeout(r, 120_000); }), 130_000);\n';
    const files = ["zz-wait-a.test.ts", "zz-wait-b.test.ts"].map((f) => path.join("__tests__", f));
    for (const f of files) fs.writeFileSync(path.join(repo, f), waiting);
    const tmp = fs.mkdtempSync(path.join(dir, "tmp-"));
    const run = spawn(process.execPath, ["tools/test.js", ...files], { cwd: repo, env: envWith(tmp), stdio: "ignore" });
    const exited = new Promise<number | null>((resolve) => run.on("exit", (code) => resolve(code)));
    let workers: number[] = [];
    let spawned: number[] = [];
    try {
      // The run's folder first (globalSetup): before it, jest's file crawler may have workers of its own.
      const made = () => fs.readdirSync(tmp).filter((f) => f.startsWith("zh-jest-run-"));
      await until(() => {
        const below = made().length ? descendants(run.pid!) : [];
        workers = below.filter((p) => cmdline(p).includes("processChild.js"));
        spawned = below.filter((p) => cmdline(p) === "sleep\u0000120\u0000");
        return workers.length >= 2 && spawned.length >= 2;
      }, 240_000);
      expect(made()).toHaveLength(1);
      expect(workers).toHaveLength(2); // both files in jest's workers, waiting
      expect(spawned).toHaveLength(2); // and each test's own process
      run.kill("SIGINT");
      expect(await exited).toBe(130);
      expect([...workers, ...spawned].filter((p) => cmdline(p) !== "")).toEqual([]);
      expect(fs.readdirSync(tmp)).toEqual([]);
    } finally {
      run.kill("SIGKILL");
      for (const p of [...workers, ...spawned]) if (cmdline(p) !== "") process.kill(p, "SIGKILL");
      for (const f of files) fs.rmSync(path.join(repo, f), { force: true });
    }
  }, 300_000);
});
