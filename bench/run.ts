// The benchmark runs one command: its wall time and its process tree's peak memory; and the
// statistics over runs.
import { ChildProcess, spawn } from "child_process";
import type { Options } from "./index";
import { PROC, TreeSampler } from "./process-tree";

// ---------------------------------------------------------------- running one command

export interface RunResult {
  wallMs: number;
  /** Bytes; null where /proc is unavailable. */
  treePeakBytes: number | null;
  largestProcessBytes: number | null;
  processes: number | null;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  outputTail: string;
}

export let current: ChildProcess | null = null;

export function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, "SIGKILL"); // the group this bench created with detached: true
  } catch {
    // already gone
  }
}

/**
 * Runs the command once: its wall time, and with `sample` its process tree's memory (every `opts.sampleMs`).
 * The rounds time a command in a run without the sampler and read its memory in another (rounds.ts).
 */
export function runOnce(argv: readonly string[], cwd: string, env: NodeJS.ProcessEnv, opts: Options, sample = true): Promise<RunResult> {
  return new Promise((resolve) => {
    let tail = "";
    const keep = (chunk: Buffer): void => {
      tail = (tail + chunk.toString("utf8")).slice(-8000);
    };
    const t0 = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    current = child;
    const sampler = sample && PROC && child.pid !== undefined ? new TreeSampler(child.pid) : null;
    sampler?.sample();
    const timer = sampler ? setInterval(() => sampler.sample(), opts.sampleMs) : null;
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, opts.timeoutS * 1000);
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    const finish = (exitCode: number | null, signal: string | null, wallMs: number): void => {
      if (timer) clearInterval(timer);
      clearTimeout(deadline);
      current = null;
      resolve({
        wallMs,
        treePeakBytes: sampler ? sampler.treePeak : null,
        largestProcessBytes: sampler ? sampler.largestProcess : null,
        processes: sampler ? sampler.hwm.size : null,
        exitCode,
        signal,
        timedOut,
        outputTail: tail,
      });
    };
    child.on("error", (err) => {
      keep(Buffer.from(`\nspawn failed: ${err.message}\n`));
      finish(null, null, Number(process.hrtime.bigint() - t0) / 1e6);
    });
    child.on("exit", (code, signal) => {
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
      // Leftover descendants (none expected) must not outlive the measurement.
      killGroup(child);
      // Let the pipes drain so the output tail is complete.
      setImmediate(() => finish(code, signal, wallMs));
    });
  });
}

export const failed = (r: RunResult): boolean => r.exitCode !== 0 || r.timedOut;

// ---------------------------------------------------------------- statistics

export interface Stats {
  median: number;
  min: number;
  max: number;
}

export function stats(values: readonly number[]): Stats | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return { median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, min: s[0], max: s[s.length - 1] };
}
