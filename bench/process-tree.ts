// The benchmark's peak memory: the command's whole process tree, polled (Linux /proc).
import * as fs from "fs";

// ---------------------------------------------------------------- process tree memory

interface ProcStatus {
  rss: number;
  hwm: number;
}

export const PROC = process.platform === "linux" && fs.existsSync("/proc/self/status");

function readStatus(pid: number): ProcStatus | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, "latin1");
  } catch {
    return null;
  }
  const kb = (key: string): number => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text);
    return m ? Number(m[1]) * 1024 : 0;
  };
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
}

let childrenFiles: boolean | undefined;

/** Direct children of pid, through every thread's `children` file (any thread can fork). */
function childrenOf(pid: number): number[] {
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const tid of tids) {
    try {
      const text = fs.readFileSync(`/proc/${pid}/task/${tid}/children`, "latin1").trim();
      if (text) for (const c of text.split(/\s+/)) out.push(Number(c));
    } catch {
      // thread gone
    }
  }
  return out;
}

/** Fallback when the kernel has no `children` files: scan /proc for parent ids. */
function treeByScan(root: number): Array<[number, number | null]> {
  const kids = new Map<number, number[]>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "latin1");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = kids.get(ppid) ?? [];
      list.push(Number(entry));
      kids.set(ppid, list);
    } catch {
      // process gone
    }
  }
  const out: Array<[number, number | null]> = [[root, null]];
  for (let n = 0; n < out.length; n++) out.push(...(kids.get(out[n][0]) ?? []).map((c): [number, number] => [c, out[n][0]]));
  return out;
}

/** Every process of the tree under root, each with its parent (null for the root). */
export function processTree(root: number): Array<[number, number | null]> {
  if (childrenFiles === undefined) childrenFiles = fs.existsSync(`/proc/${process.pid}/task/${process.pid}/children`);
  if (!childrenFiles) return treeByScan(root);
  const out: Array<[number, number | null]> = [[root, null]];
  for (let n = 0; n < out.length; n++) out.push(...childrenOf(out[n][0]).map((c): [number, number] => [c, out[n][0]]));
  return out;
}

function cmdline(pid: number): string | null {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "latin1");
  } catch {
    return null;
  }
}

/**
 * Samples the tree's memory. A child that is still a copy of its parent (forked, not yet given its
 * own program: the same command line) is not counted: its pages are its parent's, shared until
 * written, yet the kernel counts them in its RSS too. Every spawn passes through that state for a
 * moment; caught by a sample, a fork of a 400 MiB jest worker added 150 to 190 MiB that no process
 * held.
 */
export class TreeSampler {
  treePeak = 0;
  readonly hwm = new Map<number, number>();

  constructor(private readonly root: number) {}

  sample(): void {
    let sum = 0;
    const lines = new Map<number, string | null>();
    const line = (pid: number) => (lines.has(pid) ? lines.get(pid)! : lines.set(pid, cmdline(pid)).get(pid)!);
    for (const [pid, parent] of processTree(this.root)) {
      if (parent !== null && line(pid) !== null && line(pid) === line(parent)) continue;
      const s = readStatus(pid);
      if (!s) continue;
      sum += s.rss;
      this.hwm.set(pid, Math.max(this.hwm.get(pid) ?? 0, s.hwm, s.rss));
    }
    this.treePeak = Math.max(this.treePeak, sum);
  }

  get largestProcess(): number {
    return Math.max(0, ...this.hwm.values());
  }
}
