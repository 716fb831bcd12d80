// npm run bench's options: bench/latest.* are tracked files, written only when asked.
import { USAGE, UsageError, parseArgs } from "../bench";
import * as fs from "fs";
import * as path from "path";
import { templateFileAction, withoutStartup } from "../bench/template-variant";
import { spawn } from "child_process";
import { PROC, TreeSampler, processTree } from "../bench/process-tree";
import { copiesOfProduction } from "../bench/app";
import { buildApp } from "../stacks/app";
import { tempDir } from "./tmp";

describe("npm run bench options", () => {
  it("prints only by default: no tracked file is overwritten", () => {
    expect(parseArgs([])).toEqual({
      runs: 5,
      warmup: 1,
      quick: false,
      skipTemplate: false,
      skipPlanCheck: false,
      sampleMs: 20,
      timeoutS: 600,
      out: null,
      strict: false,
      help: false,
    });
    expect(parseArgs(["--quick"])).toMatchObject({ quick: true, runs: 3, warmup: 1, out: null });
    expect(parseArgs(["--skip-plan-check"]).skipPlanCheck).toBe(true);
  });

  it("--write records the results in bench/; --out elsewhere", () => {
    expect(parseArgs(["--write"]).out).toBe("bench");
    expect(parseArgs(["--out", "/tmp/bench-results"]).out).toBe("/tmp/bench-results");
    expect(parseArgs(["--out", "/tmp/x", "--write"]).out).toBe("/tmp/x");
  });

  it("the usage says so, and --quick is an option; --help does not exit the process", () => {
    expect(USAGE).toContain("(without --write or --out the results are printed only)");
    expect(USAGE).toContain("--quick");
    expect(parseArgs(["--help"]).help).toBe(true);
  });

  it("refuses what it does not know, --no-write included (printing only is the default now)", () => {
    expect(() => parseArgs(["--no-write"])).toThrow(new UsageError("unknown option: --no-write"));
    expect(() => parseArgs(["--runs", "0"])).toThrow(new UsageError("--runs needs a number >= 1"));
    expect(() => parseArgs(["--runs", "3", "--runs", "5"])).toThrow(new UsageError("--runs is given twice: it takes one value"));
    expect(() => parseArgs(["--out", "a", "--out", "b"])).toThrow(new UsageError("--out is given twice: it takes one value"));
  });
});

describe("the template variant's copy of the project", () => {
  it("the scale variants' copies of production are a configuration the app accepts (each a new environment)", () => {
    const copies = copiesOfProduction(3);
    expect(Object.keys(copies)).toEqual(["env01", "env02", "env03"]);
    expect(Object.values(copies).map((c) => [c.deployed, c.newEnvironment])).toEqual(Array(3).fill([{}, true]));
    const app = buildApp(copies, { outdir: tempDir("zh-bench-scale-") });
    expect(app.node.children.map((c) => c.node.id)).toEqual(["env01", "env02", "env03"]);
  });

  it("copies the files the app reads besides its sources (the compute templates), rewrites the sources, skips the rest", () => {
    expect(templateFileAction("modules/compute/user_data_minimal.sh.tpl")).toBe("copy");
    expect(templateFileAction("modules/compute/docker-compose.yml.tpl")).toBe("copy");
    expect(templateFileAction("tsconfig.json")).toBe("copy");
    expect(templateFileAction("types/cdktf-jest.d.ts")).toBe("copy");
    expect(templateFileAction("modules/compute.ts")).toBe("rewrite");
    expect(templateFileAction("main.ts")).toBe("rewrite");
    expect(templateFileAction("bench/index.ts")).toBe("skip");
    expect(templateFileAction("node_modules")).toBe("skip");
    expect(templateFileAction("compat/cdktn/node_modules/cdktn/package.json")).toBe("skip");
    expect(templateFileAction(".git")).toBe("skip");
  });
});

describe("the template variant", () => {
  it("runs main.ts without the startup (the template's app has none); a main.ts without it is an error, not a silent copy", () => {
    const main = fs.readFileSync(path.join(__dirname, "..", "main.ts"), "utf8");
    const template = withoutStartup(main);
    expect(main.split("\n").filter((l) => !template.split("\n").includes(l))).toEqual(['import "./stacks/startup";']);
    expect(() => withoutStartup(template)).toThrow('main.ts no longer imports "./stacks/startup": bench/template-variant.ts removes that line');
  });
});

describe("the memory sampler", () => {
  it("leaves a child that is still a copy of its parent (forked, the same command line) out of the tree's sum", async () => {
    if (!PROC) throw new Error("this test needs Linux's /proc, which the benchmark's memory figures read");
    // A shell holds 24 MB in a variable, then runs a subshell: a copy of itself sharing those pages, which says so and
    // waits on its input (echo and read are builtins: it stays a copy) until the test has sampled it 6 times.
    // (Small: the test runs beside npm test's workers, and its shell is in the tree the benchmark measures.)
    const child = spawn("sh", ["-c", 'x=$(head -c 24000000 /dev/zero | tr "\\0" a); (echo copy; read -r _; :); :'], { stdio: ["pipe", "pipe", "ignore"] });
    let copied = 0; // samples since the subshell said it is there (not the substitution's copy)
    child.stdout!.once("data", () => (copied = 1));
    const enough = setTimeout(() => child.stdin!.end(), 10_000); // never copied, or never sampled: the count below says so
    // Sampled only while the copy is there (the substitution before it doubles the shell's own memory for a moment).
    const sampler = new TreeSampler(child.pid!);
    const line = (pid: number) => fs.readFileSync(`/proc/${pid}/cmdline`, "latin1");
    const rss = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "latin1"))![1]) * 1024;
    let samples = 0;
    let held = 0; // the largest sum of the processes that are not copies, at a sample with a copy
    const timer = setInterval(() => {
      try {
        const tree = processTree(child.pid!);
        const copies = tree.filter(([pid, parent]) => parent !== null && line(pid) === line(parent));
        if (copies.length === 0) return;
        held = Math.max(held, tree.filter((p) => !copies.includes(p)).reduce((sum, [pid]) => sum + rss(pid), 0));
        sampler.sample();
        samples++;
        if (copied && copied++ === 6) child.stdin!.end();
      } catch {
        // a process ended between two reads
      }
    }, 10);
    await new Promise((resolve) => child.on("exit", resolve));
    clearInterval(timer);
    clearTimeout(enough);
    expect(samples).toBeGreaterThan(5); // the subshell was there, a copy, sampled again and again (every 10 ms)
    expect(held).toBeGreaterThan(24_000_000);
    expect(sampler.treePeak).toBeLessThan(held + 8 * 2 ** 20); // the copy's 24 MB, its parent's pages, not counted again
  });
});

describe("the rounds", () => {
  (PROC ? it : it.skip)("time each command in a run without the memory sampler and read its memory in a second run, each after its `before`", async () => {
    const { measure } = require("../bench/rounds") as typeof import("../bench/rounds");
    const { runOnce } = require("../bench/run") as typeof import("../bench/run");
    const dir = tempDir("zh-bench-rounds-");
    const marks = path.join(dir, "marks");
    // Sampled every millisecond, and each command lives 50 ms: the sampler sees it after its exec however busy the machine.
    const opts = { ...parseArgs([]), runs: 1, warmup: 0, timeoutS: 30, sampleMs: 1 };
    let befores = 0;
    const variant = { id: "mark", display: "mark", note: "", argv: [process.execPath, "-e", `require("fs").appendFileSync(${JSON.stringify(marks)}, "x"); setTimeout(() => {}, 50)`], cwd: dir, before: () => void befores++ };
    // An exit code that is the command's result (plan-check's verdict, exit 1) has its memory read too.
    const verdict = { id: "verdict", display: "verdict", note: "", argv: [process.execPath, "-e", "process.exitCode = 1; setTimeout(() => {}, 50)"], cwd: dir, okExit: [1] };
    const logs: string[] = [];
    const errors: string[] = [];
    const results = await measure({ variants: [variant, verdict], templateDir: null, planCheckSkipped: null, errors: [] }, { root: dir, tmp: dir, env: process.env, opts, log: (s) => logs.push(s), errors });
    expect(errors).toEqual([]);
    const res = results.get("mark")!;
    expect(fs.readFileSync(marks, "utf8")).toBe("xx"); // 1 round, 2 runs
    expect(befores).toBe(2);
    expect(res.runs).toHaveLength(1);
    for (const r of [...res.runs, ...results.get("verdict")!.runs]) expect(r.treePeakBytes).toBeGreaterThan(0);
    expect(results.get("verdict")!.runs).toHaveLength(1);
    // The timed run has no sampler at all.
    const timed = await runOnce(variant.argv, dir, process.env, opts, false);
    expect(timed).toMatchObject({ exitCode: 0, treePeakBytes: null, largestProcessBytes: null, processes: null });
  });
});
