// Benchmark of the synth/test/type-check loop:  npm run bench  [-- options]
//   (= node tools/build.js && node dist/bench/index.js [options])
// This file: the options and the run; the commands are in variants.ts, the rounds in rounds.ts,
// one run of a command in run.ts, the ratios, goals and Markdown in report.ts.
//
// Measures, side by side in the same run (round-robin: every round runs each
// command once, so drift of the machine hits all of them alike):
//   floor      node -e "require('cdktf')"
//   app        node dist/main.js
//   app-uncached  the same with ZIVOHEALTH_COMPILE_CACHE=off (stacks/compile-cache.ts)
//   tsc-edit   tsc -b tsconfig.core.json tsconfig.verify.json in a copy of the project, after an edit
//              that keeps a module's declarations (npm test's type check after an everyday edit)
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
// Wall time: process.hrtime from spawn() to the child's exit, in this process, in a
// run without the memory sampler (its reads of /proc competed with the command for
// the cores: npm test 9.3 s unsampled, 10.0 s sampled every 20 ms).
// Peak memory (Linux; null elsewhere), in a second run right after the timed one:
// this process polls the command's whole
// process tree (the root and every descendant, found through
// /proc/<pid>/task/<tid>/children, or a /proc scan if that file is missing)
// every --sample-ms ms (default 20) and reads /proc/<pid>/status:
//   tree peak    = the largest SUM of VmRSS over the processes alive at one
//                  sample (what the machine must hold at once, e.g. cdktf-cli +
//                  ts-node, or jest + its workers; shared pages count once per
//                  process, so it is an upper bound; a child still a copy
//                  of its parent, forked before its exec, is left out);
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
import { PROC } from "./process-tree";
import { judge, renderMarkdown, reportOf } from "./report";
import { measure } from "./rounds";
import { current, killGroup } from "./run";
import { variantsOf } from "./variants";

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

// ---------------------------------------------------------------- the run

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
  const plan = variantsOf(root, tmp, env, opts, log);
  errors.push(...plan.errors);
  log(`bench: ${opts.runs} runs after ${opts.warmup} warm-up, ${plan.variants.length} commands, round-robin; memory ${PROC ? `sampled every ${opts.sampleMs} ms from /proc` : "not measured (no /proc)"}`);
  const results = await measure(plan, { root, tmp, env, opts, log, errors });
  cleanup();

  const judgement = judge(results, opts, plan.planCheckSkipped);
  const report = reportOf({ root, started, loadStart, env, opts, results, judgement, errors, git: (args) => git(root, args) });
  const markdown = renderMarkdown(report, judgement, opts);
  process.stdout.write("\n" + markdown);
  if (opts.out) {
    const dir = path.resolve(root, opts.out);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "latest.json"), JSON.stringify(report, null, 2) + "\n");
    fs.writeFileSync(path.join(dir, "latest.md"), markdown);
    log(`wrote ${path.relative(root, path.join(dir, "latest.json"))} and ${path.relative(root, path.join(dir, "latest.md"))}`);
  } else log("results printed only; --write records them in bench/latest.json and bench/latest.md");
  return report.exitCode;
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
