// A command run as a process of its own (its own process group, as a user's
// shell starts it), for the tier's tests that signal or kill it; and its child
// processes, found in /proc. Every wait is bounded and fails naming what it
// waited for.
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { HOLDING_SHELL } from "../../commands/migrate-state/backend-ops";

const ROOT = path.join(__dirname, "../..");

export interface CliProcess {
  readonly child: ChildProcess;
  /** Its exit: the code, or the signal that ended it. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once its stderr holds `text`; rejects if it exits first or `timeoutMs` passes. */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  stderr(): string;
}

/** A TypeScript entry point (`commands/<name>/index.ts`, or a test's own), run with ts-node as `npm run` runs it, detached. */
export function startCli(entry: string, args: readonly string[], o: { cwd: string; env: NodeJS.ProcessEnv }): CliProcess {
  const child = spawn(process.execPath, ["-r", require.resolve("ts-node/register/transpile-only"), entry, ...args], {
    cwd: o.cwd,
    env: { ...o.env, DISABLE_V8_COMPILE_CACHE: "1", TS_NODE_PROJECT: path.join(ROOT, "tsconfig.json") },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal })));
  const waitFor = (text: string, timeoutMs = 240_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${text}" on the command's stderr after ${timeoutMs / 1000} s:\n${stderr}`)), timeoutMs);
      const check = () => {
        if (!stderr.includes(text)) return;
        clearTimeout(timer);
        resolve();
      };
      child.stderr!.on("data", check);
      check();
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`exited before "${text}":\n${stderr}`));
      });
    });
  return { child, exited, waitFor, stderr: () => stderr };
}

/** A process's parent pid and state letter (`Z` a zombie), or undefined once it is gone. */
function procStat(pid: number): { ppid: number; state: string } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { ppid: Number(ppid), state };
  } catch {
    return undefined;
  }
}

/** Whether `pid` runs (not gone, not a zombie no one reaped). */
export function running(pid: number): boolean {
  const s = procStat(pid);
  return s !== undefined && s.state !== "Z";
}

/** Waits until `count` child processes of `parent` have an argv that `match` accepts; returns their pids. Polls every 50 ms, for 30 s at most. */
export async function waitForChildren(parent: number, match: (argv: string[]) => boolean, count: number, timeoutMs = 30_000): Promise<number[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found: number[] = [];
    for (const entry of fs.readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (procStat(Number(entry))?.ppid !== parent) continue;
        if (match(fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0"))) found.push(Number(entry));
      } catch {
        // gone meanwhile
      }
    }
    if (found.length >= count) return found;
    if (Date.now() > until) throw new Error(`no ${count} such child process(es) of ${parent} after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until every pid has exited (gone, or a zombie no one reaped); throws naming those still running after `timeoutMs`. */
export async function waitForExit(pids: readonly number[], what: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  const running = () => pids.filter((p) => {
    const s = procStat(p);
    return s !== undefined && s.state !== "Z";
  });
  while (running().length) {
    if (Date.now() > until) throw new Error(`${what}: still running after ${timeoutMs / 1000} s: pid ${running().join(", ")}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Whether `pid` still has file descriptor `fd` open (false once it is gone, or exiting: the kernel drops its files first). */
export function holdsFd(pid: number, fd: number): boolean {
  try {
    fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Waits until every pid has exited (as waitForExit), polling every 5 ms; returns for each the poll at
 * which it was first seen gone (0: gone at the first; equal: seen gone at the same poll). The pids are
 * checked in the order given at each poll. `letGo[i]`, a file descriptor: pids[i] counts as gone once it
 * has let go of it. An exiting process closes its files before it shows as exited (a zombie), and a
 * process woken by that close (the end of a pipe) can be seen gone first on a loaded machine (measured:
 * console at poll 3, the push it waited for at poll 4); what a test can order is the close.
 */
export async function exitPolls(pids: readonly number[], what: string, o: { timeoutMs?: number; letGo?: readonly (number | undefined)[] } = {}): Promise<number[]> {
  const timeoutMs = o.timeoutMs ?? 60_000;
  const until = Date.now() + timeoutMs;
  const gone: (number | undefined)[] = pids.map(() => undefined);
  for (let poll = 0; gone.some((g) => g === undefined); poll++) {
    pids.forEach((p, i) => {
      const s = procStat(p);
      const fd = o.letGo?.[i];
      if (gone[i] === undefined && (s === undefined || s.state === "Z" || (fd !== undefined && !holdsFd(p, fd)))) gone[i] = poll;
    });
    if (gone.every((g) => g !== undefined)) break;
    if (Date.now() > until) throw new Error(`${what}: still running after ${timeoutMs / 1000} s: pid ${pids.filter((_p, i) => gone[i] === undefined).join(", ")}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return gone as number[];
}

/** A `terraform` whose `state push` is held once it has ended, until the test lets it go (pushHeldTerraform). */
export interface HeldPush {
  /** The folder holding the wrapper: put it first on PATH. */
  readonly bin: string;
  /** Resolves with the real push's exit code once it has ended (the wrapper, still running, then waits for release()); rejects after `timeoutMs`. */
  ended(timeoutMs?: number): Promise<number>;
  /** Lets the held push's wrapper exit (with the real push's code). Idempotent; call it in a finally, too. */
  release(): void;
}

/**
 * A folder holding `terraform`: a wrapper that execs `real`, except for `state push`: the wrapper runs the real push
 * as its child and, once that has ended, writes `push-ended` (the push's exit code) in `dir` and waits until the test
 * calls release() (it gives up after 6000 waits of 50 ms, 5 minutes or more, so a failed test leaves nothing behind
 * for long), then exits with the push's code. The wrapper is the Terraform migrate-state started as its push, behind
 * the shell that holds the lock holder's input (as fd 3) until its Terraform exits: a test kills migrate-state, waits
 * for ended(), and finds the backend's lock still held, by the push, for as long as it likes; on a loaded machine a
 * push can end before the kill lands, the wrapper cannot. Its push shows as `sh <wrapper> state push ...`
 * (PUSH_WRAPPER below), a child of that shell (PUSH_SHELL).
 */
export function pushHeldTerraform(dir: string, real: string): HeldPush {
  fs.mkdirSync(dir, { recursive: true });
  const ended = path.join(dir, "push-ended");
  const go = path.join(dir, "push-release");
  const q = (s: string) => JSON.stringify(s);
  fs.writeFileSync(
    path.join(dir, "terraform"),
    [
      "#!/bin/sh",
      `if [ "$1" = state ] && [ "$2" = push ]; then`,
      `  ${q(real)} "$@"; s=$?`,
      `  echo $s > ${q(`${ended}.tmp`)} && mv ${q(`${ended}.tmp`)} ${q(ended)}`,
      `  i=0; while [ ! -e ${q(go)} ] && [ $i -lt 6000 ]; do sleep 0.05; i=$((i+1)); done`,
      "  exit $s",
      "fi",
      `exec ${q(real)} "$@"`,
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  return {
    bin: dir,
    async ended(timeoutMs = 240_000) {
      const until = Date.now() + timeoutMs;
      while (!fs.existsSync(ended)) {
        if (Date.now() > until) throw new Error(`the held state push: no ${ended} after ${timeoutMs / 1000} s (the real push has not ended)`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return Number(fs.readFileSync(ended, "utf8").trim());
    },
    release: () => fs.writeFileSync(go, ""),
  };
}

/** The wrapper's `state push`, as a waitForChildren match (a child of PUSH_SHELL). */
export const PUSH_WRAPPER = (argv: string[]) => argv[2] === "state" && argv[3] === "push";

/** The process migrate-state starts as its push, the shell in front of Terraform that holds the lock holder's input (backend-ops' HOLDING_SHELL), as a waitForChildren match. */
export const PUSH_SHELL = (argv: string[]) => argv[1] === "-c" && argv[2] === HOLDING_SHELL && argv[5] === "state" && argv[6] === "push";
