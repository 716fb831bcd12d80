// What the benchmark concludes from its runs: the ratios, the scaling, the goals, the report (latest.json)
// and its Markdown (latest.md).
import { spawnSync } from "child_process";
import * as os from "os";
import * as path from "path";
import type { Options } from "./index";
import { PROC } from "./process-tree";
import { VariantResult } from "./rounds";
import { Stats, stats } from "./run";
import { SCALE } from "./variants";

export interface Goal {
  goal: string;
  measured: string;
  threshold: string;
  result: "PASS" | "FAIL" | "SKIP" | "ERROR";
}

/** The ratios between commands, the cost of each added stack, and each goal judged. */
export function judge(results: Map<string, VariantResult>, opts: Options, planCheckSkipped: string | null) {
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
    appUncachedOverFloor: ratio("app-uncached", "floor"),
    templateOverSynth: ratio("template", "synth"),
    templateOverSynthPaired: paired("template", "synth"),
    planCheckOverBare: ratio("plan-check", "tf-bare"),
    planCheckOverBarePaired: paired("plan-check", "tf-bare"),
    synthOverFloor: ratio("synth", "floor"),
    testOverFloor: ratio("test", "floor"),
  };
  const scalePoints = SCALE.map((n) => ({ stacks: n, wallS: results.get(`scale-${n}`)?.wallS ?? null, treePeakMiB: results.get(`scale-${n}`)?.treePeakMiB ?? null }));
  let scaling: { marginalMsPerStack: number; marginalMsPerStack1to4: number; fixedMs: number; marginalMiBPerStack: number | null } | null = null;
  if (scalePoints.every((p) => p.wallS !== null)) {
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
  const times = (x: number) => `${x.toFixed(2)}x`;
  const testMem = results.get("test")?.treePeakMiB?.max ?? null;
  const goals: Goal[] = [
    goal("app process within 1.5x of the floor (median app / median floor)", ratios.appOverFloor, "<= 1.50x", (x) => x <= 1.5, times),
    goal("npm run synth at least 5x faster than the template default (median template / median synth)", ratios.templateOverSynth, ">= 5.00x", (x) => x >= 5, times, opts.skipTemplate),
    goal("npm test wall time (median)", med("test"), "<= 10 s", (x) => x <= 10, (x) => `${x.toFixed(2)} s`),
    goal(
      "plan-check --offline within 1.5x of the bare terraform init + plan -refresh=false it wraps (median of the per-round ratios)",
      ratios.planCheckOverBarePaired,
      "<= 1.50x",
      (x) => x <= 1.5,
      times,
      planCheckSkipped !== null,
    ),
    goal("npm test peak memory, whole process tree (worst run)", PROC ? testMem : null, "<= 1024 MiB", (x) => x <= 1024, (x) => `${Math.round(x)} MiB`, !PROC),
  ];
  return { ratios, scalePoints, scaling, goals, floorMedian: med("floor") };
}

export type Judgement = ReturnType<typeof judge>;

/** The report as latest.json holds it. */
export function reportOf(r: {
  root: string;
  started: Date;
  loadStart: number[];
  env: NodeJS.ProcessEnv;
  opts: Options;
  results: Map<string, VariantResult>;
  judgement: Judgement;
  errors: string[];
  git: (args: string[]) => string | null;
}) {
  const { root, started, loadStart, env, opts, results, judgement, errors, git } = r;
  const { ratios, scalePoints, scaling, goals, floorMedian } = judgement;
  const cpus = os.cpus();
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const exitCode = errors.length ? 2 : opts.strict && goals.some((g) => g.result === "FAIL") ? 1 : 0;
  return {
    date: started.toISOString(),
    durationS: Math.round((Date.now() - started.getTime()) / 100) / 10,
    /** 1-minute load average at the start and the end: well above the core count means a noisy run. */
    loadAverage1m: { start: Math.round(loadStart[0] * 100) / 100, end: Math.round(os.loadavg()[0] * 100) / 100 },
    command: `node ${path.relative(root, process.argv[1])}${process.argv.length > 2 ? " " + process.argv.slice(2).join(" ") : ""}`,
    git: { commit: git(["rev-parse", "HEAD"]), dirty: git(["status", "--porcelain"]) ? true : false },
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
      wallTime: "process.hrtime from spawn() to the child's exit, in a run without the memory sampler",
      memory: PROC
        ? `in a second run right after the timed one, its process tree polled every ${opts.sampleMs} ms via /proc: treePeak = max over samples of the sum of VmRSS of the tree; largestProcess = max VmHWM of any process in the tree`
        : "not measured (no /proc on this platform)",
      env: "CHECKPOINT_DISABLE=1 npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false",
    },
    results: [...results.values()].map((v) => ({
      ...v,
      runs: v.runs.map(({ outputTail: _, ...rest }) => rest),
      ratioToFloor: v.wallS && floorMedian ? v.wallS.median / floorMedian : null,
    })),
    ratios,
    scaling: { points: scalePoints, ...scaling },
    goals,
    errors,
    exitCode,
  };
}

export type Report = ReturnType<typeof reportOf>;

/** latest.md: the table of commands, the ratios, the scaling, the goals, the errors. */
export function renderMarkdown(report: Report, judgement: Judgement, opts: Options): string {
  const { ratios, scalePoints, scaling, goals } = judgement;
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
  md.push(`- app / floor: ${rf(ratios.appOverFloor)} (median of the per-round ratios: ${rf(ratios.appOverFloorPaired)}); without its compile cache: ${rf(ratios.appUncachedOverFloor)}`);
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
  if (report.errors.length) {
    md.push("", "## Errors (the bench did not run cleanly)", "");
    for (const e of report.errors) md.push("```", e.trim(), "```");
  }
  return md.join("\n") + "\n";
}
