// Long: main() is the benchmark's plan in one place (every variant measured, in order, and the goals judged); its machinery is in the parts beside it. Left whole while the perf work of issue 17 changes it.
// Benchmark of the synth/test/type-check loop:  npm run bench  [-- options]
//   (= tsc && node dist/bench/index.js [options])
//
// Measures, side by side in the same run (round-robin: every round runs each
// command once, so drift of the machine hits all of them alike):
//   floor      node -e "require('cdktf')"
//   app        node dist/main.js
//   tsc        tsc (warm incremental type check: what npm test's tsc -b does when a source changed)
//   synth      npm run synth (the whole command, warm)
//   template   cdktf synth running `npx ts-node main.ts` on the same sources with
//              @cdktf/provider-* imported from the package root (built in a temp dir)
//   tsc-cold   tsc --noEmit --incremental false
//   test       npm test (the whole command)
//   scale-N    node dist/bench/app.js N <tmp>: N copies of the production stack
//
// Every figure is the median of --runs runs (default 5) after --warmup runs
// (default 1), with min and max.
//
// Wall time: process.hrtime from spawn() to the child's exit, in this process.
// Peak memory (Linux; null elsewhere): this process polls the command's whole
// process tree (the root and every descendant, found through
// /proc/<pid>/task/<tid>/children, or a /proc scan if that file is missing)
// every --sample-ms ms (default 20) and reads /proc/<pid>/status:
//   tree peak    = the largest SUM of VmRSS over the processes alive at one
//                  sample (what the machine must hold at once, e.g. cdktf-cli +
//                  ts-node, or jest + its workers; shared pages count once per
//                  process, so it is an upper bound);
//   largest proc = the largest VmHWM (the kernel's exact per-process peak) of
//                  any process of the tree, which is what `/usr/bin/time -f %M`
//                  reports. /usr/bin/time is not used: it is missing on fresh
//                  CI images, and it gives no sum.
// A process that lives less than one sample interval can be missed; the node
// processes measured here live for hundreds of milliseconds or more.
//
// Exit codes: 0 the bench ran (a missed goal prints FAIL but exits 0);
// 1 with --strict, a goal was missed; 2 the bench could not run (bad option,
// a measured command failed or timed out, the template variant's output
// differs from npm run synth's). Results are written even with exit 2.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { preparePlanCheck } from "./plan-check";
import { RunResult, Stats, current, failed, killGroup, runOnce, stats } from "./run";
import { PROC } from "./process-tree";
import { buildTemplateVariant, compareSynth } from "./template-variant";

export const USAGE = `usage: node dist/bench/index.js [options]
  (without --write or --out the results are printed only)
  --runs <n>         measured runs per command (default 5; at least 1)
  --warmup <n>       warm-up runs per command, not counted (default 1)
  --quick            3 runs, 1 warm-up (results are marked quick)
  --skip-template    do not measure the template default (its goal is SKIP)
  --skip-plan-check  do not measure plan-check against the bare terraform init + plan it wraps
  --sample-ms <ms>   memory sampling interval (default 20)
  --timeout <s>      per-run timeout (default 600)
  --write            write the results to bench/latest.json and bench/latest.md (tracked files)
  --out <dir>        write the results to <dir>/latest.json and <dir>/latest.md instead
  --strict           exit 1 when a goal is missed
exit codes: 0 ran, 1 goal missed (--strict), 2 the bench could not run
`;

// ---------------------------------------------------------------- options

export interface Options {
  runs: number;
  warmup: number;
  quick: boolean;
  skipTemplate: boolean;
  skipPlanCheck: boolean;
  sampleMs: number;
  timeoutS: number;
  /** Where latest.json and latest.md go; null prints only. */
  out: string | null;
  strict: boolean;
  help: boolean;
}

export class UsageError extends Error {}

export function parseArgs(argv: readonly string[]): Options {
  // Printing only by default: bench/latest.* are tracked, so writing them is asked for.
  const o: Options = { runs: 5, warmup: 1, quick: false, skipTemplate: false, skipPlanCheck: false, sampleMs: 20, timeoutS: 600, out: null, strict: false, help: false };
  let runsGiven = false;
  const given = new Set<string>();
  for (let n = 0; n < argv.length; n++) {
    const arg = argv[n];
    // A flag that takes one value, given twice: which one counts would be a guess.
    if (["--runs", "--warmup", "--sample-ms", "--timeout", "--out"].includes(arg)) {
      if (given.has(arg)) throw new UsageError(`${arg} is given twice: it takes one value`);
      given.add(arg);
    }
    const num = (min: number): number => {
      const v = Number(argv[++n]);
      if (!Number.isFinite(v) || v < min) throw new UsageError(`${arg} needs a number >= ${min}`);
      return v;
    };
    if (arg === "--runs") (o.runs = Math.floor(num(1))), (runsGiven = true);
    else if (arg === "--warmup") o.warmup = Math.floor(num(0));
    else if (arg === "--quick") o.quick = true;
    else if (arg === "--skip-template") o.skipTemplate = true;
    else if (arg === "--skip-plan-check") o.skipPlanCheck = true;
    else if (arg === "--sample-ms") o.sampleMs = num(1);
    else if (arg === "--timeout") o.timeoutS = num(1);
    else if (arg === "--out") {
      const v = argv[++n];
      if (!v) throw new UsageError("--out needs a directory");
      o.out = v;
    } else if (arg === "--write") o.out = o.out ?? "bench";
    else if (arg === "--strict") o.strict = true;
    else if (arg === "--help" || arg === "-h") o.help = true;
    else throw new UsageError(`unknown option: ${arg}`);
  }
  if (o.quick && !runsGiven) o.runs = 3;
  return o;
}

// ---------------------------------------------------------------- the commands

export interface Variant {
  id: string;
  /** The command as a person types it. */
  display: string;
  note: string;
  argv: string[];
  cwd: string;
  /** Number of stacks, for the scale-N variants. */
  stacks?: number;
  /** The command's own environment. @default - the bench's */
  env?: NodeJS.ProcessEnv;
  /** Exit codes that are results, not failures. @default [0] */
  okExit?: number[];
}

interface VariantResult {
  id: string;
  display: string;
  note: string;
  runs: RunResult[];
  wallS: Stats | null;
  treePeakMiB: Stats | null;
  largestProcessMiB: Stats | null;
  error: string | null;
}

function findRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "package.json")) && fs.existsSync(path.join(dir, "cdktf.json"))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no cdktf project above ${__dirname}`);
  }
}

function git(root: string, args: string[]): string | null {
  const r = spawnSync("git", args, { cwd: root, encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
}

const SCALE = [1, 4, 16];
const MiB = 1024 * 1024;
const fmtS = (ms: number): string => (ms / 1000).toFixed(2);
const fmtMiB = (b: number | null | undefined): string => (b === null || b === undefined ? "n/a" : `${Math.round(b / MiB)}`);

interface Goal {
  goal: string;
  measured: string;
  threshold: string;
  result: "PASS" | "FAIL" | "SKIP" | "ERROR";
}

async function main(): Promise<number> {
  let opts: Options;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${e.message}\n${USAGE}`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const root = findRoot();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "zivo-bench-"));
  const cleanup = (): void => fs.rmSync(tmp, { recursive: true, force: true });
  process.on("SIGINT", () => {
    if (current) killGroup(current);
    cleanup();
    process.exit(130);
  });
  const log = (s: string): void => void process.stderr.write(s + "\n");
  const started = new Date();
  const loadStart = os.loadavg();
  const errors: string[] = [];

  // Quiet and offline: no cdktf/terraform checkpoint calls, no npm update/fund/audit notices.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CHECKPOINT_DISABLE: "1",
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
    npm_config_audit: "false",
  };
  const node = process.execPath;
  const bin = (name: string): string => path.join(root, "node_modules", ".bin", name);
  const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const scripts: Record<string, string> = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).scripts ?? {};
  const script = (name: string): string => scripts[name] ?? "(missing)";

  const variants: Variant[] = [
    { id: "floor", display: `node -e "require('cdktf')"`, note: "the floor: node + cdktf", argv: [node, "-e", "require('cdktf')"], cwd: root },
    { id: "app", display: "node dist/main.js", note: "the app alone (compiled)", argv: [node, "dist/main.js"], cwd: root },
    { id: "tsc", display: "tsc", note: "warm incremental type check (what npm test's tsc -b does when a source changed)", argv: [node, tsc], cwd: root },
    { id: "synth", display: "npm run synth", note: `\`${script("synth")}\`, warm`, argv: [npm, "run", "synth"], cwd: root },
  ];
  let templateDir: string | null = null;
  if (!opts.skipTemplate) {
    templateDir = path.join(tmp, "template");
    try {
      const built = buildTemplateVariant(root, templateDir);
      log(`template variant: ${built.files} files, ${built.imports} deep imports rewritten to root imports, in ${templateDir}`);
      variants.push({
        id: "template",
        display: "cdktf synth (app: npx ts-node main.ts, root imports)",
        note: "the template default",
        argv: [path.join(templateDir, "node_modules", ".bin", "cdktf"), "synth"],
        cwd: templateDir,
      });
    } catch (e) {
      errors.push(`template variant: ${(e as Error).message}`);
      templateDir = null;
    }
  }
  variants.push(
    {
      id: "tsc-cold",
      display: "tsc --noEmit --incremental false",
      note: "cold type check of the whole project",
      argv: [node, tsc, "--noEmit", "--incremental", "false"],
      cwd: root,
    },
    { id: "test", display: "npm test", note: `\`${script("test")}\``, argv: [npm, "test"], cwd: root },
    ...SCALE.map((n) => ({
      id: `scale-${n}`,
      display: `node dist/bench/app.js ${n} <tmp>`,
      note: `${n} stack${n === 1 ? "" : "s"} in one app`,
      argv: [node, "dist/bench/app.js", String(n), path.join(tmp, `scale-${n}`)],
      cwd: root,
      stacks: n,
    })),
  );
  const planCheck = opts.skipPlanCheck ? { skipped: "--skip-plan-check" } : preparePlanCheck(root, tmp, env, log);
  if ("variants" in planCheck) variants.push(...planCheck.variants);
  else log(`plan-check: not measured (${planCheck.skipped})`);
  for (const b of [bin("cdktf"), tsc, path.join(root, "dist", "bench", "app.js")])
    if (!fs.existsSync(b)) errors.push(`${path.relative(root, b)} is missing (run npm ci, then tsc)`);

  const results = new Map<string, VariantResult>(
    variants.map((v) => [v.id, { id: v.id, display: v.display, note: v.note, runs: [], wallS: null, treePeakMiB: null, largestProcessMiB: null, error: null }]),
  );
  const rounds = opts.warmup + opts.runs;
  log(`bench: ${opts.runs} runs after ${opts.warmup} warm-up, ${variants.length} commands, round-robin; memory ${PROC ? `sampled every ${opts.sampleMs} ms from /proc` : "not measured (no /proc)"}`);
  if (errors.length === 0) {
    for (let round = 0; round < rounds; round++) {
      const warm = round < opts.warmup;
      for (const v of variants) {
        const res = results.get(v.id) as VariantResult;
        if (res.error) continue; // a failed command is not run again
        const r = await runOnce(v.argv, v.cwd, v.env ?? env, opts);
        const tag = warm ? `warm-up ${round + 1}/${opts.warmup}` : `run ${round - opts.warmup + 1}/${opts.runs}`;
        const bad = failed(r) && !(v.okExit?.includes(r.exitCode as number) && !r.timedOut);
        log(`  [${tag}] ${v.id.padEnd(9)} ${fmtS(r.wallMs).padStart(7)} s  tree ${fmtMiB(r.treePeakBytes).padStart(5)} MiB  largest ${fmtMiB(r.largestProcessBytes).padStart(5)} MiB${bad ? "  FAILED" : ""}`);
        if (bad) {
          res.error = `${v.display} ${r.timedOut ? `timed out after ${opts.timeoutS} s` : `exited with ${r.exitCode ?? r.signal}`}; output tail:\n${r.outputTail.slice(-3000)}`;
          errors.push(`${v.id}: ${res.error}`);
          continue;
        }
        if (!warm) res.runs.push(r);
        // After the first synth and template runs: both must have produced the same Terraform.
        if (v.id === "template" && round === 0 && templateDir) {
          const diff = compareSynth(path.join(root, "cdktf.out"), path.join(templateDir, "cdktf.out"));
          if (diff.length) {
            res.error = `the template variant synthesizes different output: ${diff.join("; ")}`;
            errors.push(`template: ${res.error}`);
          } else log("  template variant output is identical to npm run synth's (every stack's cdk.tf.json)");
        }
        if (v.stacks && round === 0) {
          const dir = path.join(tmp, `scale-${v.stacks}`, "stacks");
          const got = fs.existsSync(dir) ? fs.readdirSync(dir).length : 0;
          if (got !== v.stacks) {
            res.error = `${v.display} wrote ${got} stacks, expected ${v.stacks}`;
            errors.push(`${v.id}: ${res.error}`);
          }
        }
      }
    }
  }
  cleanup();
  for (const res of results.values()) {
    if (res.error) continue;
    res.wallS = stats(res.runs.map((r) => r.wallMs / 1000));
    const mem = (pick: (r: RunResult) => number | null): Stats | null => {
      const xs = res.runs.map(pick).filter((x): x is number => x !== null);
      return stats(xs.map((x) => x / MiB));
    };
    res.treePeakMiB = mem((r) => r.treePeakBytes);
    res.largestProcessMiB = mem((r) => r.largestProcessBytes);
  }

  // ---- ratios, scaling, goals
  const med = (id: string): number | null => results.get(id)?.wallS?.median ?? null;
  const ratio = (a: string, b: string): number | null => {
    const x = med(a);
    const y = med(b);
    return x !== null && y !== null && y > 0 ? x / y : null;
  };
  /** Median of the per-round ratios a_i / b_i (the runs of one round ran back to back). */
  const paired = (a: string, b: string): number | null => {
    const x = results.get(a)?.runs;
    const y = results.get(b)?.runs;
    if (!x || !y || x.length === 0 || x.length !== y.length) return null;
    return stats(x.map((r, i) => r.wallMs / y[i].wallMs))?.median ?? null;
  };
  const ratios = {
    appOverFloor: ratio("app", "floor"),
    appOverFloorPaired: paired("app", "floor"),
    templateOverSynth: ratio("template", "synth"),
    templateOverSynthPaired: paired("template", "synth"),
    planCheckOverBare: ratio("plan-check", "tf-bare"),
    planCheckOverBarePaired: paired("plan-check", "tf-bare"),
    synthOverFloor: ratio("synth", "floor"),
    testOverFloor: ratio("test", "floor"),
  };
  const scalePoints = SCALE.map((n) => ({ stacks: n, wallS: results.get(`scale-${n}`)?.wallS ?? null, treePeakMiB: results.get(`scale-${n}`)?.treePeakMiB ?? null }));
  const complete = scalePoints.every((p) => p.wallS !== null);
  let scaling: { marginalMsPerStack: number; marginalMsPerStack1to4: number; fixedMs: number; marginalMiBPerStack: number | null } | null = null;
  if (complete) {
    const [p1, p4, p16] = scalePoints as { stacks: number; wallS: Stats; treePeakMiB: Stats | null }[];
    const perStack = ((p16.wallS.median - p1.wallS.median) / 15) * 1000;
    scaling = {
      marginalMsPerStack: perStack,
      marginalMsPerStack1to4: ((p4.wallS.median - p1.wallS.median) / 3) * 1000,
      fixedMs: p1.wallS.median * 1000 - perStack,
      marginalMiBPerStack: p1.treePeakMiB && p16.treePeakMiB ? (p16.treePeakMiB.median - p1.treePeakMiB.median) / 15 : null,
    };
  }
  const goal = (name: string, value: number | null, threshold: string, pass: (x: number) => boolean, show: (x: number) => string, skipped = false): Goal => ({
    goal: name,
    measured: value === null ? (skipped ? "skipped" : "not measured") : show(value),
    threshold,
    result: value === null ? (skipped ? "SKIP" : "ERROR") : pass(value) ? "PASS" : "FAIL",
  });
  const testMem = results.get("test")?.treePeakMiB?.max ?? null;
  const goals: Goal[] = [
    goal("app process within 1.5x of the floor (median app / median floor)", ratios.appOverFloor, "<= 1.50x", (x) => x <= 1.5, (x) => `${x.toFixed(2)}x`),
    goal(
      "npm run synth at least 5x faster than the template default (median template / median synth)",
      ratios.templateOverSynth,
      ">= 5.00x",
      (x) => x >= 5,
      (x) => `${x.toFixed(2)}x`,
      opts.skipTemplate,
    ),
    goal("npm test wall time (median)", med("test"), "<= 10 s", (x) => x <= 10, (x) => `${x.toFixed(2)} s`),
    goal(
      "plan-check --offline within 1.5x of the bare terraform init + plan -refresh=false it wraps (median of the per-round ratios)",
      ratios.planCheckOverBarePaired,
      "<= 1.50x",
      (x) => x <= 1.5,
      (x) => `${x.toFixed(2)}x`,
      !("variants" in planCheck),
    ),
    goal("npm test peak memory, whole process tree (worst run)", PROC ? testMem : null, "<= 1024 MiB", (x) => x <= 1024, (x) => `${Math.round(x)} MiB`, !PROC),
  ];

  const cpus = os.cpus();
  const report = {
    date: started.toISOString(),
    durationS: Math.round((Date.now() - started.getTime()) / 100) / 10,
    /** 1-minute load average at the start and the end: well above the core count means a noisy run. */
    loadAverage1m: { start: Math.round(loadStart[0] * 100) / 100, end: Math.round(os.loadavg()[0] * 100) / 100 },
    command: `node ${path.relative(root, process.argv[1])}${process.argv.length > 2 ? " " + process.argv.slice(2).join(" ") : ""}`,
    git: { commit: git(root, ["rev-parse", "HEAD"]), dirty: git(root, ["status", "--porcelain"]) ? true : false },
    machine: {
      cores: cpus.length,
      cpuModel: cpus[0]?.model.trim() ?? "unknown",
      totalMemoryBytes: os.totalmem(),
      totalMemoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
      node: process.version,
      npm: spawnSync(npm, ["--version"], { encoding: "utf8", env }).stdout?.trim() || null,
      platform: `${process.platform} ${os.release()} ${process.arch}`,
    },
    settings: {
      runs: opts.runs,
      warmup: opts.warmup,
      quick: opts.quick,
      order: "round-robin: each round runs every command once, in the order of results",
      wallTime: "process.hrtime from spawn() to the child's exit",
      memory: PROC
        ? `process tree polled every ${opts.sampleMs} ms via /proc: treePeak = max over samples of the sum of VmRSS of the tree; largestProcess = max VmHWM of any process in the tree`
        : "not measured (no /proc on this platform)",
      env: "CHECKPOINT_DISABLE=1 npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false",
    },
    results: [...results.values()].map((r) => ({
      ...r,
      runs: r.runs.map(({ outputTail: _, ...rest }) => rest),
      ratioToFloor: r.wallS && med("floor") ? r.wallS.median / (med("floor") as number) : null,
    })),
    ratios,
    scaling: { points: scalePoints, ...scaling },
    goals,
    errors,
    exitCode: 0,
  };

  // ---- markdown
  const md: string[] = [];
  const row = (cells: (string | number)[]): string => `| ${cells.join(" | ")} |`;
  const n = (s: Stats | null, f: (x: number) => string): [string, string, string] => (s ? [f(s.median), f(s.min), f(s.max)] : ["–", "–", "–"]);
  const s2 = (x: number): string => x.toFixed(2);
  const m0 = (x: number): string => String(Math.round(x));
  md.push(`# Benchmark ${report.date}${opts.quick ? " (quick)" : ""}`, "");
  md.push(
    `- Machine: ${report.machine.cores} cores (${report.machine.cpuModel}), ${report.machine.totalMemoryGiB} GiB RAM, node ${report.machine.node}, npm ${report.machine.npm ?? "?"}, ${report.machine.platform}`,
    `- Commit: ${report.git.commit ?? "unknown"}${report.git.dirty ? " (working tree has changes)" : ""}`,
    `- Command: \`${report.command}\` (${report.durationS} s; 1-min load average ${report.loadAverage1m.start} at start, ${report.loadAverage1m.end} at end)`,
    `- Each figure: median of ${opts.runs} runs after ${opts.warmup} warm-up, with min and max; commands run round-robin (side by side).`,
    `- Wall time: ${report.settings.wallTime}. Memory: ${report.settings.memory}.`,
    "",
  );
  md.push(row(["Command", "What", "Median s", "Min s", "Max s", "× floor", "Tree peak MiB (med / max)", "Largest process MiB (med)"]));
  md.push(row(["---", "---", "--:", "--:", "--:", "--:", "--:", "--:"]));
  for (const r of report.results) {
    if (r.error) {
      md.push(row([`\`${r.display}\``, r.note, "ERROR", "", "", "", "", ""]));
      continue;
    }
    md.push(
      row([
        `\`${r.display}\``,
        r.note,
        ...n(r.wallS, s2),
        r.ratioToFloor === null ? "–" : `${r.ratioToFloor.toFixed(2)}×`,
        r.treePeakMiB ? `${m0(r.treePeakMiB.median)} / ${m0(r.treePeakMiB.max)}` : "n/a",
        r.largestProcessMiB ? m0(r.largestProcessMiB.median) : "n/a",
      ]),
    );
  }
  md.push("", "## Ratios (medians, same run)", "");
  const rf = (x: number | null): string => (x === null ? "–" : `${x.toFixed(2)}×`);
  md.push(`- app / floor: ${rf(ratios.appOverFloor)} (median of the per-round ratios: ${rf(ratios.appOverFloorPaired)})`);
  md.push(`- template default / npm run synth: ${rf(ratios.templateOverSynth)} (median of the per-round ratios: ${rf(ratios.templateOverSynthPaired)})`);
  md.push(`- npm run synth / floor: ${rf(ratios.synthOverFloor)}`);
  md.push(`- plan-check --offline / bare terraform init + plan: ${rf(ratios.planCheckOverBare)} (median of the per-round ratios: ${rf(ratios.planCheckOverBarePaired)})`);
  md.push("", "## Synthesis time by number of stacks (copies of production in one app)", "");
  md.push(row(["Stacks", "Median s", "Min s", "Max s", "Tree peak MiB (med)"]));
  md.push(row(["--:", "--:", "--:", "--:", "--:"]));
  for (const p of scalePoints) md.push(row([p.stacks, ...n(p.wallS, s2), p.treePeakMiB ? m0(p.treePeakMiB.median) : "n/a"]));
  if (scaling)
    md.push(
      "",
      `Marginal cost per stack: ${scaling.marginalMsPerStack.toFixed(0)} ms (1→16 stacks; ${scaling.marginalMsPerStack1to4.toFixed(0)} ms over 1→4)` +
        `${scaling.marginalMiBPerStack === null ? "" : `, ${scaling.marginalMiBPerStack.toFixed(1)} MiB`}; fixed cost (process, requires, App) ≈ ${scaling.fixedMs.toFixed(0)} ms.`,
    );
  md.push("", "## Goals", "");
  md.push(row(["Goal", "Measured", "Threshold", "Result"]));
  md.push(row(["---", "--:", "--:", ":-:"]));
  for (const g of goals) md.push(row([g.goal, g.measured, g.threshold, `**${g.result}**`]));
  if (errors.length) {
    md.push("", "## Errors (the bench did not run cleanly)", "");
    for (const e of errors) md.push("```", e.trim(), "```");
  }
  const exitCode = errors.length ? 2 : opts.strict && goals.some((g) => g.result === "FAIL") ? 1 : 0;
  report.exitCode = exitCode;
  const markdown = md.join("\n") + "\n";
  process.stdout.write("\n" + markdown);
  if (opts.out) {
    const dir = path.resolve(root, opts.out);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "latest.json"), JSON.stringify(report, null, 2) + "\n");
    fs.writeFileSync(path.join(dir, "latest.md"), markdown);
    log(`wrote ${path.relative(root, path.join(dir, "latest.json"))} and ${path.relative(root, path.join(dir, "latest.md"))}`);
  } else log("results printed only; --write records them in bench/latest.json and bench/latest.md");
  return exitCode;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: Error) => {
      if (current) killGroup(current);
      process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
      process.exit(2);
    },
  );
}
