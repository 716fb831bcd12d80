// Processes a test started, seen from outside (Linux /proc): what still works inside a folder; and the build the compiled ones need.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

/** The processes working inside `dir`, removed or not (Linux: /proc/<pid>/cwd keeps the path of a removed folder). */
export function processesIn(dir: string): string[] {
  const real = fs.existsSync(dir) ? fs.realpathSync(dir) : path.resolve(dir);
  return fs
    .readdirSync("/proc")
    .filter((pid) => /^\d+$/.test(pid))
    .flatMap((pid) => {
      try {
        const cwd = fs.readlinkSync(`/proc/${pid}/cwd`).replace(/ \(deleted\)$/, "");
        if (cwd !== real && !cwd.startsWith(real + path.sep)) return [];
        return [`${pid} (${fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim()}) in ${cwd}`];
      } catch {
        return []; // gone meanwhile, or not ours to read
      }
    });
}

/** Polls `probe` every 20 ms until it returns something truthy or `ms` pass; its last value. */
export async function until<T>(probe: () => T, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value || Date.now() >= deadline) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
}

const ROOT = path.join(__dirname, "..");
let built = false;

/** Brings dist/ up to date with tools/build.js (as `npm run` does before a command), once per test file. */
export function buildDist(): void {
  if (built) return;
  execFileSync(process.execPath, [path.join(ROOT, "tools", "build.js")], { cwd: ROOT });
  built = true;
}

/** Whether `pid` has ended: no such process, or one that has exited and waits to be reaped (a zombie: this machine's init may never reap it). */
export function ended(pid: number): boolean {
  try {
    return /^[ZX]/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /s, ""));
  } catch {
    return true;
  }
}

/**
 * sh, after starting a fake provider with `&`: waits (up to 5 s) until the process `$!` has exec'd into it (its
 * comm is `terraform-provi`), as Go's vfork+exec leaves no forked copy in between, and sets `p` to its pid.
 */
export const WAIT_FOR_PROVIDER = 'p=$!; n=0; until [ "$(cat /proc/$p/comm 2>/dev/null)" = terraform-provi ] || [ $n -ge 500 ]; do sleep 0.01; n=$((n+1)); done; ';

/** The pids a test file's cases start: each case's are killed (SIGKILL) after it, so a failing case leaves nothing running. */
export function killedAfterEach(): number[] {
  const started: number[] = [];
  afterEach(() => {
    for (const pid of started.splice(0)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
  });
  return started;
}
