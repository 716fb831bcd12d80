// One run at a time per output folder: a lock file naming its holder; a stale one
// (its process gone) is removed with a note.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LOCK, WorkdirError, WorkdirOptions } from "./options";

// ---------------------------------------------------------------- the lock

interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly started: string;
  readonly command: string;
  /** /proc/<pid>/stat's start time: tells a reused pid from the holder. */
  readonly processStart?: string;
}

function processStart(pid: number | "self"): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

export function readLock(file: string): LockHolder | null {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return null;
  }
  try {
    const h = JSON.parse(text) as LockHolder;
    if (typeof h.pid === "number" && typeof h.host === "string") return h;
  } catch {
    // written this instant by another run, or damaged
  }
  return { pid: 0, host: "?", started: "?", command: `an unreadable lock file ${file}` };
}

/** The holder is this host's and its process is gone (or the pid now belongs to another process). */
function isStale(h: LockHolder): boolean {
  if (h.host !== os.hostname() || h.pid <= 0) return false;
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH";
  }
  const now = processStart(h.pid);
  return h.processStart !== undefined && now !== undefined && now !== h.processStart;
}

export const inUse = (o: WorkdirOptions, shown: string, h: LockHolder) =>
  h.pid > 0
    ? `${shown} is in use by another ${o.tool} run: pid ${h.pid} on ${h.host}, started ${h.started} (${h.command}). ` +
      `Wait for it to finish, or give another folder${h.host === os.hostname() ? "" : `; if that run is gone, remove ${path.join(o.dir, LOCK)}`}`
    : `${shown} holds ${h.command}: if no ${o.tool} is running, remove it`;

export function acquireLock(o: WorkdirOptions, dir: string, shown: string): void {
  const file = path.join(dir, LOCK);
  const holder: LockHolder = {
    pid: process.pid,
    host: os.hostname(),
    started: new Date().toISOString(),
    command: [path.basename(process.argv[1] ?? o.tool), ...process.argv.slice(2)].join(" ").slice(0, 300),
    processStart: processStart("self"),
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(holder), { flag: "wx", mode: 0o600 });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    let held = readLock(file);
    if (held && held.pid === 0) {
      // Another run may be writing it this instant.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
      held = readLock(file);
    }
    if (held && isStale(held)) {
      o.stderr(`note: ${shown}: removed the lock of pid ${held.pid} (started ${held.started}), which is no longer running\n`);
      fs.rmSync(file, { force: true });
      continue;
    }
    if (held) throw new WorkdirError(inUse(o, shown, held));
  }
  throw new WorkdirError(`${shown}: could not take the lock ${file}`);
}
