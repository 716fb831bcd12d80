// A command's own output folder (plan-check's, migrate-state's): it writes
// only into a folder it created, or one that holds its marker; it refuses,
// before writing anything, any other folder (the checkout, a folder that holds
// or sits inside an input, a source folder, cdktf.out/stacks, a file). One run
// at a time per folder (a lock naming its holder); private permissions; and on
// a failure or an interrupt (SIGINT, SIGTERM) it removes only what this run
// made, stopping the child processes it started first.
//
//   const w = openWorkdir({ tool: "plan-check", dir, checkout, inputs, owned, keep, stderr });
//   const r = await w.run("terraform", ["plan"], { cwd, env, timeoutMs });  // stopped on an interrupt
//   w.finish();           // success: files stay, private; the lock goes
//   w.abort();            // failure: what this run made goes; returns what was removed
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** The file that marks a folder as a tool's own: `{ tool, format, created, checkout }`. */
export const MARKER = ".zivohealth-workdir.json";
/** The lock file of a run in progress: `{ pid, host, started, command, processStart }`. */
export const LOCK = ".zivohealth-workdir.lock";
const FORMAT = 1;

/** A folder the tool may not use, or cannot: reported on stderr, exit code 2. */
export class WorkdirError extends Error {}

export interface WorkdirInput {
  /** The flag that named it (`--state`), for messages. */
  readonly flag: string;
  /** Its path (a file or a folder), absolute or relative to the process's folder. */
  readonly path: string;
}

export interface ReservedFolder {
  /** A folder refused with everything inside it, and every folder above it. */
  readonly path: string;
  /** Why, for the message (`cdktf synth replaces what is there`). */
  readonly why: string;
}

export interface WorkdirOptions {
  /** The tool that owns the folder: in the marker, the lock and every message (`plan-check`). */
  readonly tool: string;
  /** The folder (absolute). */
  readonly dir: string;
  /** How the user named it (`--out x`), for messages. @default - `dir` */
  readonly shown?: string;
  /** The project's checkout: refused itself, and, outside git, the only place inside it allowed is `cdktf.out/`. */
  readonly checkout: string;
  /** Inputs of the run: the folder may neither hold one nor sit inside a folder given as one. @default - none */
  readonly inputs?: readonly WorkdirInput[];
  /** Folders refused with what is inside and above them. @default - none */
  readonly reserved?: readonly ReservedFolder[];
  /**
   * The top-level names the tool writes in the folder. A reused folder's are
   * cleared when a run starts (but for `keep`); other entries are never touched.
   */
  readonly owned: readonly string[];
  /** Paths (relative to the folder, under an owned name) kept from one run to the next: caches. @default - none */
  readonly keep?: readonly string[];
  /** Where notes go (a stale lock removed, an interrupt). */
  readonly stderr: (text: string) => void;
  /**
   * Stop on SIGINT and SIGTERM: stop the child processes, remove what the
   * run made, say so on stderr, exit 130 or 143. For a command's own process,
   * not for a library caller (a test) that has its own handlers. @default false
   */
  readonly handleSignals?: boolean;
}

/** What a child process did (the same shape as validate/lib/terraform.ts's RunResult). */
export interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly timeoutMs: number;
}

export interface Workdir {
  /** The folder (absolute, symbolic links resolved). */
  readonly dir: string;
  /** This run created it (or a reused folder: it held the marker). */
  readonly created: boolean;
  /** A signal stopped the run: its children are stopped and what it made is being removed. */
  readonly interrupted: boolean;
  /** Runs a child process that an interrupt stops; after an interrupt, its promise never settles. */
  run(bin: string, args: readonly string[], options: RunOptions): Promise<ChildResult>;
  /** The run succeeded: permissions made private, the lock released; the files stay. */
  finish(): void;
  /** The run failed: removes what it made (the folder itself if it created it) and releases the lock. Returns what was removed, for a note. */
  abort(): string | undefined;
}

// ---------------------------------------------------------------- paths

const isWithin = (child: string, parent: string) => child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);

/** The path with symbolic links of its existing part resolved (`/tmp/x/new` → `/private/tmp/x/new`). */
export function realPath(p: string): string {
  const abs = path.resolve(p);
  let existing = abs;
  const rest: string[] = [];
  for (;;) {
    try {
      return path.join(fs.realpathSync(existing), ...rest);
    } catch {
      const parent = path.dirname(existing);
      if (parent === existing) return abs;
      rest.unshift(path.basename(existing));
      existing = parent;
    }
  }
}

function nearestExisting(p: string): string {
  let dir = p;
  while (!fs.existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

/** The git checkout holding `p`, or undefined (not in one, or no git: `undefined` too, and `gitMissing`). */
function gitCheckout(p: string): { top?: string; gitMissing: boolean } {
  let from = nearestExisting(p);
  if (!fs.statSync(from).isDirectory()) from = path.dirname(from);
  const r = spawnSync("git", ["-C", from, "rev-parse", "--show-toplevel"], { encoding: "utf8" });
  if (r.error) return { gitMissing: true };
  return { top: r.status === 0 ? realPath(r.stdout.trim()) : undefined, gitMissing: false };
}

/** `git check-ignore` on a folder path (a trailing slash, so `cdktf.out/` patterns match a folder not yet made). */
function gitIgnores(top: string, dir: string): boolean {
  const rel = path.relative(top, dir).split(path.sep).join("/");
  const r = spawnSync("git", ["-C", top, "check-ignore", "-q", "--", `${rel}/`], { encoding: "utf8" });
  return r.status === 0;
}

function readMarker(dir: string): { tool?: string } | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, MARKER), "utf8")) as { tool?: string };
  } catch {
    return null;
  }
}

/**
 * Why the tool may not use the folder, or undefined. Writes nothing. Exported
 * for tests and for a command that checks before its other work.
 */
export function refusal(o: WorkdirOptions): string | undefined {
  const dir = realPath(o.dir);
  const shown = o.shown ?? o.dir;
  const checkout = realPath(o.checkout);
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(dir);
  } catch {
    stat = undefined;
  }
  if (stat && !stat.isDirectory()) return `${shown} is a file, not a folder: give a folder (${o.tool} creates it)`;
  if (isWithin(checkout, dir)) {
    return dir === checkout
      ? `${shown} is the checkout (${checkout}): ${o.tool} writes only into a folder of its own; give one under cdktf.out/ or outside the checkout`
      : `${shown} holds the checkout (${checkout}): ${o.tool} writes only into a folder of its own`;
  }
  for (const input of o.inputs ?? []) {
    const p = realPath(input.path);
    if (isWithin(p, dir)) return `${shown} holds the ${input.flag} ${p === dir ? "folder" : "input"} ${input.path}: ${o.tool} would write where its input is; give another folder`;
    let isDir = false;
    try {
      isDir = fs.statSync(p).isDirectory();
    } catch {
      // a missing input is reported by the command
    }
    if (isDir && isWithin(dir, p)) return `${shown} is inside the ${input.flag} folder ${input.path}: ${o.tool} would write among its input; give another folder`;
  }
  for (const r of o.reserved ?? []) {
    const p = realPath(r.path);
    if (isWithin(dir, p) || isWithin(p, dir)) return `${shown} ${isWithin(dir, p) ? "is inside" : "holds"} ${r.path}: ${r.why}; give another folder`;
  }
  const gitDir = dir.split(path.sep).indexOf(".git");
  if (gitDir !== -1) return `${shown} is inside git's own folder (${dir.split(path.sep).slice(0, gitDir + 1).join(path.sep)})`;
  const git = gitCheckout(dir);
  if (git.top) {
    if (!gitIgnores(git.top, dir)) {
      return (
        `${shown} is inside the git checkout ${git.top} where git does not ignore it: what ${o.tool} writes holds secrets and could be committed; ` +
        `give a folder under cdktf.out/ (ignored), one git ignores, or one outside the checkout`
      );
    }
  } else if (isWithin(dir, checkout) && !isWithin(dir, path.join(checkout, "cdktf.out"))) {
    // No git to ask (not a checkout, or git not installed): inside the project only cdktf.out/ is known to be output.
    return `${shown} is inside the project ${checkout}, which ${git.gitMissing ? "git is not installed to check" : "is not a git checkout"}: give a folder under cdktf.out/ or outside the project`;
  }
  if (stat) {
    const marker = readMarker(dir);
    if (!marker) {
      const holder = readLock(path.join(dir, LOCK));
      if (holder) return inUse(o, shown, holder);
      return `${shown} exists and was not made by ${o.tool} (no ${MARKER} in it): give a folder that does not exist yet (${o.tool} creates it) or one it made before`;
    }
    if (marker.tool !== o.tool) return `${shown} was made by ${marker.tool ?? "another tool"}, not ${o.tool}: give another folder`;
  }
  return undefined;
}

/** A file-system error in words, naming the path (a full disk, a read-only file system, no permission); `within` names the folder when the error does not. */
export function fileSystemMessage(e: unknown, within?: string): string | undefined {
  const err = e as NodeJS.ErrnoException & { dest?: string };
  const reasons: Record<string, string> = {
    ENOSPC: "no space left on the device",
    EDQUOT: "the disk quota is exceeded",
    EROFS: "the file system is read-only",
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    ENOTDIR: "a file is in the way of a folder",
    EISDIR: "a folder is in the way of a file",
    EEXIST: "something is already there",
    EMFILE: "too many open files",
  };
  if (!err || typeof err.code !== "string" || !reasons[err.code]) return undefined;
  const where = err.dest ?? err.path ?? (within ? `in ${within}` : "a file");
  return `cannot write ${where}: ${reasons[err.code]} (${err.code})`;
}

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

function readLock(file: string): LockHolder | null {
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

const inUse = (o: WorkdirOptions, shown: string, h: LockHolder) =>
  h.pid > 0
    ? `${shown} is in use by another ${o.tool} run: pid ${h.pid} on ${h.host}, started ${h.started} (${h.command}). ` +
      `Wait for it to finish, or give another folder${h.host === os.hostname() ? "" : `; if that run is gone, remove ${path.join(o.dir, LOCK)}`}`
    : `${shown} holds ${h.command}: if no ${o.tool} is running, remove it`;

function acquireLock(o: WorkdirOptions, dir: string, shown: string): void {
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

// ---------------------------------------------------------------- open runs, signals, umask

interface OpenRun {
  readonly tool: string;
  readonly children: Set<ChildProcess>;
  interrupted: boolean;
  abort(): string | undefined;
}

const openRuns = new Set<OpenRun>();
let signalRuns = 0;
let savedUmask: number | undefined;
let umaskUsers = 0;

function privateUmask(on: boolean): void {
  if (on) {
    if (umaskUsers++ === 0) savedUmask = process.umask(0o077);
  } else if (--umaskUsers === 0 && savedUmask !== undefined) {
    process.umask(savedUmask);
    savedUmask = undefined;
  }
}

const exitCodes: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

async function onSignal(signal: NodeJS.Signals, stderr: (t: string) => void): Promise<void> {
  const runs = [...openRuns];
  for (const r of runs) r.interrupted = true;
  const children = runs.flatMap((r) => [...r.children]);
  const exited = children.map((c) => new Promise<void>((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : c.once("exit", () => resolve()))));
  for (const c of children) c.kill("SIGTERM");
  const all = Promise.all(exited);
  const within = (ms: number) => Promise.race([all.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
  if (!(await within(10_000))) {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await within(5_000);
  }
  for (const r of runs) {
    const removed = r.abort();
    const stopped = children.length ? `stopped ${children.length} child process(es) (pid ${children.map((c) => c.pid).join(", ")}); ` : "";
    stderr(`${r.tool}: interrupted (${signal}): ${stopped}${removed ? `removed ${removed}` : "nothing of this run to remove"}\n`);
  }
  process.exit(exitCodes[signal] ?? 1);
}

let listeners: { [s: string]: () => void } = {};

function watchSignals(on: boolean, stderr: (t: string) => void): void {
  if (on) {
    if (signalRuns++ > 0) return;
    let handling = false;
    for (const s of ["SIGINT", "SIGTERM"] as const) {
      listeners[s] = () => {
        if (handling) return; // a second Ctrl-C while cleaning up
        handling = true;
        void onSignal(s, stderr);
      };
      process.on(s, listeners[s]);
    }
  } else if (--signalRuns === 0) {
    for (const [s, f] of Object.entries(listeners)) process.removeListener(s, f);
    listeners = {};
  }
}

// ---------------------------------------------------------------- the folder

/** Removes `p`, but for the `keep` paths under it (relative `rel`). */
function clearExcept(p: string, rel: string, keep: readonly string[]): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    return;
  }
  if (keep.includes(rel)) return;
  if (!st.isDirectory() || !keep.some((k) => k.startsWith(`${rel}/`))) {
    fs.rmSync(p, { recursive: true, force: true });
    return;
  }
  for (const entry of fs.readdirSync(p)) clearExcept(path.join(p, entry), `${rel}/${entry}`, keep);
}

/** Group and other permissions off, everywhere under `p` (symbolic links are not followed). */
function makePrivate(p: string): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    return;
  }
  if (st.isSymbolicLink()) return;
  if (st.mode & 0o077) fs.chmodSync(p, st.mode & 0o7700);
  if (st.isDirectory()) for (const entry of fs.readdirSync(p)) makePrivate(path.join(p, entry));
}

/**
 * Checks the folder, creates it (or takes a reused one: its lock first, then
 * its owned entries cleared but for `keep`), and returns the run's handle.
 * Throws WorkdirError (exit 2) before writing anything when the folder is refused.
 */
export function openWorkdir(o: WorkdirOptions): Workdir {
  const why = refusal(o);
  if (why) throw new WorkdirError(why);
  const dir = realPath(o.dir);
  const shown = o.shown ?? o.dir;
  const keep = o.keep ?? [];
  const createdParents: string[] = [];
  let created = false;
  try {
    if (!fs.existsSync(dir)) {
      const parents: string[] = [];
      for (let d = path.dirname(dir); !fs.existsSync(d); d = path.dirname(d)) parents.unshift(d);
      for (const d of parents) {
        fs.mkdirSync(d, { mode: 0o700 });
        createdParents.push(d);
      }
      try {
        fs.mkdirSync(dir, { mode: 0o700 });
        created = true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
        // Another run made it this instant: it must hold the marker (or that run's lock).
        const again = refusal(o);
        if (again) throw new WorkdirError(again);
      }
    }
    acquireLock(o, dir, shown);
  } catch (e) {
    if (created) fs.rmSync(dir, { recursive: true, force: true });
    for (const d of [...createdParents].reverse()) fs.rmSync(d, { recursive: true, force: true });
    if (e instanceof WorkdirError) throw e;
    throw new WorkdirError(fileSystemMessage(e, dir) ?? `cannot create ${shown}: ${(e as Error).message}`);
  }
  const keptAtStart = new Set(keep.filter((k) => fs.existsSync(path.join(dir, k))));
  let open = true;
  const run: OpenRun & { finishRun(): void } = {
    tool: o.tool,
    children: new Set(),
    interrupted: false,
    abort() {
      if (!open) return undefined;
      open = false;
      let removed: string | undefined;
      if (created) {
        fs.rmSync(dir, { recursive: true, force: true });
        let outermost = dir;
        for (const d of [...createdParents].reverse()) {
          try {
            fs.rmdirSync(d);
            outermost = d;
          } catch {
            break; // another run put something there since: not ours to remove
          }
        }
        removed = `${outermost}, which this run created`;
      } else {
        const made = keep.filter((k) => !keptAtStart.has(k));
        for (const name of o.owned) clearExcept(path.join(dir, name), name, keep.filter((k) => keptAtStart.has(k)));
        for (const k of made) fs.rmSync(path.join(dir, k), { recursive: true, force: true });
        fs.rmSync(path.join(dir, LOCK), { force: true });
        removed = `what this run wrote in ${shown} (${o.owned.join(", ")})`;
      }
      this.finishRun();
      return removed;
    },
    finishRun() {
      openRuns.delete(run);
      privateUmask(false);
      if (o.handleSignals) watchSignals(false, o.stderr);
    },
  };
  openRuns.add(run);
  privateUmask(true);
  if (o.handleSignals) watchSignals(true, o.stderr);
  try {
    if (created) {
      fs.writeFileSync(path.join(dir, MARKER), `${JSON.stringify({ tool: o.tool, format: FORMAT, created: new Date().toISOString(), checkout: realPath(o.checkout) }, null, 1)}\n`, { mode: 0o600 });
    } else {
      for (const name of o.owned) clearExcept(path.join(dir, name), name, keep);
    }
  } catch (e) {
    run.abort();
    throw new WorkdirError(fileSystemMessage(e, dir) ?? `cannot prepare ${shown}: ${(e as Error).message}`);
  }

  return {
    dir,
    created,
    get interrupted() {
      return run.interrupted;
    },
    run(bin, args, options) {
      const started = Date.now();
      if (run.interrupted) return new Promise<ChildResult>(() => undefined);
      return new Promise<ChildResult>((resolve) => {
        const child = spawn(bin, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
        run.children.add(child);
        let stdout = "";
        let stderr = "";
        child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
        child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
        const timer = setTimeout(() => {
          stderr += `\n[killed after ${options.timeoutMs} ms]`;
          child.kill("SIGKILL");
        }, options.timeoutMs);
        const settle = (r: ChildResult) => {
          clearTimeout(timer);
          run.children.delete(child);
          // Interrupted: the signal handler finishes the run; the caller must not go on.
          if (!run.interrupted) resolve(r);
        };
        child.on("error", (e) => settle({ code: null, stdout, stderr: `${stderr}\n${e.message}`, ms: Date.now() - started }));
        child.on("close", (code) => settle({ code, stdout, stderr, ms: Date.now() - started }));
      });
    },
    finish() {
      if (!open) return;
      open = false;
      makePrivate(dir);
      fs.rmSync(path.join(dir, LOCK), { force: true });
      run.finishRun();
    },
    abort: () => run.abort(),
  };
}
