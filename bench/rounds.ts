// The commands measured round after round (each round runs every command once, so drift of the machine
// hits them alike), with the checks made on the first round's output.
import * as fs from "fs";
import * as path from "path";
import type { Options } from "./index";
import { PROC } from "./process-tree";
import { RunResult, Stats, failed, runOnce, stats } from "./run";
import { compareSynth } from "./template-variant";
import { VariantPlan } from "./variants";

export interface VariantResult {
  id: string;
  display: string;
  note: string;
  runs: RunResult[];
  wallS: Stats | null;
  treePeakMiB: Stats | null;
  largestProcessMiB: Stats | null;
  error: string | null;
}

const MiB = 1024 * 1024;
export const fmtS = (ms: number): string => (ms / 1000).toFixed(2);
export const fmtMiB = (b: number | null | undefined): string => (b === null || b === undefined ? "n/a" : `${Math.round(b / MiB)}`);

/**
 * Runs `opts.warmup` + `opts.runs` rounds and returns each command's runs and statistics; a command that fails
 * is not run again and its error is pushed to `errors`.
 */
export async function measure(
  plan: VariantPlan,
  ctx: { root: string; tmp: string; env: NodeJS.ProcessEnv; opts: Options; log: (s: string) => void; errors: string[] },
): Promise<Map<string, VariantResult>> {
  const { root, tmp, env, opts, log, errors } = ctx;
  const { variants, templateDir } = plan;
  const results = new Map<string, VariantResult>(
    variants.map((v) => [v.id, { id: v.id, display: v.display, note: v.note, runs: [], wallS: null, treePeakMiB: null, largestProcessMiB: null, error: null }]),
  );
  // Nothing is measured when the preparation failed.
  const rounds = errors.length === 0 ? opts.warmup + opts.runs : 0;
  for (let round = 0; round < rounds; round++) {
    const warm = round < opts.warmup;
    for (const v of variants) {
      const res = results.get(v.id) as VariantResult;
      if (res.error) continue; // a failed command is not run again
      // Timed without the memory sampler, whose reads of /proc every 20 ms competed with the command for the
      // machine's two cores (npm test 9.3 s unsampled against 10.0 s sampled, 3 alternating rounds); its memory
      // is read in a second run of its own, right after.
      // A run failed unless it exited 0 or with an exit code that is the command's result (plan-check's verdict).
      const failedRun = (x: RunResult): boolean => failed(x) && !(v.okExit?.includes(x.exitCode as number) && !x.timedOut);
      v.before?.();
      const timed = await runOnce(v.argv, v.cwd, v.env ?? env, opts, false);
      let r = timed;
      if (PROC && !failedRun(timed)) {
        v.before?.();
        const sampled = await runOnce(v.argv, v.cwd, v.env ?? env, opts, true);
        r = failedRun(sampled) ? sampled : { ...timed, treePeakBytes: sampled.treePeakBytes, largestProcessBytes: sampled.largestProcessBytes, processes: sampled.processes };
      }
      const tag = warm ? `warm-up ${round + 1}/${opts.warmup}` : `run ${round - opts.warmup + 1}/${opts.runs}`;
      const bad = failedRun(r);
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
  return results;
}
