// Terraform on a stack's state, for migrate-state: a working folder whose only
// configuration is the stack's backend block, `state pull`, `state mv` on a
// local copy, the backend's own lock held by a Terraform process for as long
// as migrate-state needs it, and `state push` under that lock. Every child
// process stops on an interrupt (AbortSignal) but the push, which is let finish.
// Each Terraform leads a process group of its own, killed whole once it has exited (lib/process-group.ts).
import { StdioOptions, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Writable } from "stream";
import { BackendIdentity, StackBackend, backendOf, describeBackend, sameBackend } from "../../lib/backend";
import { signalGroup, spawnGroup } from "../../lib/process-group";
import { RawState } from "../../lib/plan/workspace";

/** The run was interrupted (SIGINT, SIGTERM) before it wrote anything that matters. */
export class Interrupted extends Error {
  constructor(readonly step: string) {
    super(`interrupted during ${step}`);
  }
}

/** A refusal: the backend or the state is not what the run may change (exit 2). */
export class Refusal extends Error {}

/** Terraform failed where it should not (its own words in the message). */
export class TerraformError extends Error {
  constructor(
    readonly command: string,
    readonly result: Result,
  ) {
    super(`terraform ${command} exited ${result.code}:\n${(result.stderr || result.stdout).trim()}`);
  }
}

export interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Tf {
  readonly bin: string;
  readonly env: NodeJS.ProcessEnv;
  /** Aborts every run but those marked uninterruptible. */
  readonly signal?: AbortSignal;
  /** Called with the pid of each process started (Workdir.adopt: the marker of the TMPDIR `env` gives names it). */
  readonly adopt?: (pid: number | undefined) => void;
}

/** Terraform's environment for state commands: the caller's (credentials included), no prompts, no checkpoint call. */
export function stateTerraform(bin: string, env: NodeJS.ProcessEnv, signal?: AbortSignal, adopt?: (pid: number | undefined) => void): Tf {
  return { bin, env: { ...env, CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1", TF_INPUT: "0" }, signal, adopt };
}

let logs = 0;

/**
 * The shell in front of a run `holding` a pipe: it holds the pipe (as its fd 3) and waits for Terraform, which it
 * starts with fd 3 closed, so nothing Terraform starts (a credential_process helper, which may linger) holds the
 * pipe past the run. A subshell closes it, then execs Terraform: dash runs `"$@" 3>&-` by moving its own fd 3 to a
 * higher one until the command ends. The command after the subshell keeps a shell from running the subshell, and
 * Terraform, in its own place (then no process would hold the pipe). $? is 128+n if signal n ended Terraform.
 */
export const HOLDING_SHELL = '(exec "$@" 3>&-); s=$?; exit $s';

/**
 * Runs terraform in a process group of its own; on an abort it sends SIGINT (Terraform stops cleanly) and,
 * 10 s later, SIGKILL to the group. `uninterruptible`: the abort waits for it (the push), and it is let finish
 * if migrate-state exits. `holding`: a pipe the run holds until Terraform has exited, Terraform itself not
 * (HOLDING_SHELL holds it, as its fd 3); the run's signals go to its process group, Terraform included.
 */
export function run(tf: Tf, args: readonly string[], cwd: string, o: { uninterruptible?: boolean; timeoutMs?: number; holding?: Writable } = {}): Promise<Result> {
  return new Promise((resolve) => {
    // Every run has a process group of its own, so a Ctrl-C at the terminal reaches none of them: the abort stops
    // those it may. An uninterruptible run's output goes to files, not pipes: if migrate-state dies, a pipe would
    // end it by SIGPIPE halfway.
    const files = o.uninterruptible ? [1, 2].map((n) => path.join(cwd, `terraform-${process.pid}-${++logs}.${n === 1 ? "out" : "err"}`)) : undefined;
    const fds = files?.map((f) => fs.openSync(f, "w", 0o600));
    const [file, argv] = o.holding ? ["/bin/sh", ["-c", HOLDING_SHELL, "sh", tf.bin, ...args]] : [tf.bin, args];
    let child: ReturnType<typeof spawnGroup>;
    try {
      const stdio: StdioOptions = ["ignore", fds?.[0] ?? "pipe", fds?.[1] ?? "pipe", ...(o.holding ? [o.holding] : [])];
      // The push and the lock holder leave the command's group even at a terminal: a Ctrl-C must not reach them.
      child = spawnGroup(file, argv, { cwd, env: tf.env, stdio, letFinish: o.uninterruptible === true, detached: o.uninterruptible === true || o.holding !== undefined });
    } finally {
      fds?.forEach((fd) => fs.closeSync(fd));
    }
    // With the shell in front, a signal for Terraform goes to the process group the shell leads; SIGKILL always does.
    const signal = (sig: NodeJS.Signals) => void (o.holding || sig === "SIGKILL" ? signalGroup(child.pid, sig) : child.kill(sig));
    tf.adopt?.(child.pid);
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr?.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    let kill: NodeJS.Timeout | undefined;
    const stop = () => {
      signal("SIGINT");
      kill = setTimeout(() => signal("SIGKILL"), 10_000);
    };
    const timer = setTimeout(() => {
      stderr += `\n[stopped after ${o.timeoutMs} ms]`;
      signal("SIGKILL");
    }, o.timeoutMs ?? 600_000);
    if (!o.uninterruptible) tf.signal?.addEventListener("abort", stop, { once: true });
    const done = (code: number | null, extra = "") => {
      clearTimeout(timer);
      if (kill) clearTimeout(kill);
      tf.signal?.removeEventListener("abort", stop);
      if (files) {
        const [out, err] = files.map((f) => {
          try {
            return fs.readFileSync(f, "utf8");
          } catch {
            return "";
          } finally {
            fs.rmSync(f, { force: true });
          }
        });
        stdout += out;
        stderr = err + stderr;
      }
      resolve({ code, stdout, stderr: stderr + extra });
    };
    child.on("error", (e) => done(null, `\n${e.message}`));
    // A Terraform ended by a signal: null, as without the shell (Terraform's own exit codes are below 128).
    child.on("close", (code) => done(o.holding && code !== null && code > 128 ? null : code));
  });
}

/** Throws Interrupted if the run was asked to stop. */
export function checkpoint(tf: Pick<Tf, "signal">, step: string): void {
  if (tf.signal?.aborted) throw new Interrupted(step);
}

// ---------------------------------------------------------------- the copy

/**
 * `terraform state mv -state=<file>` in place, one call per move: no
 * configuration, no provider, no network. Never `-state-out` (that makes a new
 * state with a new lineage). Terraform's backups go to `backupDir` (removed
 * with the working folder). Returns the number of calls made.
 */
export async function moveInPlace(tf: Tf, file: string, moves: readonly { from: string; to: string }[], backupDir: string): Promise<number> {
  let calls = 0;
  for (const m of moves) {
    checkpoint(tf, "the moves on the copy");
    const r = await run(tf, ["state", "mv", "-no-color", `-state=${file}`, `-backup=${path.join(backupDir, `before-move-${calls + 1}.tfstate`)}`, m.from, m.to], path.dirname(file));
    checkpoint(tf, "the moves on the copy");
    if (r.code !== 0) throw new TerraformError(`state mv ${m.from} ${m.to}`, r);
    calls++;
  }
  return calls;
}

// ---------------------------------------------------------------- the backend

export interface Backend {
  readonly identity: BackendIdentity;
  readonly dir: string;
  /** The state as the backend stores it: a local backend's file bytes, or `terraform state pull` (null: no state). */
  read(): Promise<string | null>;
  /** `terraform state pull` (null: no state); `uninterruptible` once the push has run. */
  pull(o?: { uninterruptible?: boolean }): Promise<string | null>;
  /** Takes the backend's lock (refused at once if another holds it). */
  lock(): Promise<LockHold>;
  /** `terraform state push -lock=false`: only while this run holds the lock (`hold`), which outlives it; never -force. Let finish on an interrupt. */
  push(file: string, hold: LockHold): Promise<Result>;
}

export interface LockHold {
  /**
   * The lock holder's input. A push holds it too (the shell in front of Terraform's push, as its fd 3: run()'s
   * HOLDING_SHELL): the holder sees the end of its input, and releases the lock, only once this run and the push
   * have both let go of it, so the lock outlives a push whose migrate-state was killed. No other process gets it:
   * Node opens it close-on-exec, and the shell starts Terraform with fd 3 closed, so what Terraform starts (a
   * credential_process helper that lingers) cannot keep the lock held after the push.
   */
  readonly input: Writable;
  /** How the holder ended, if it has (the lock went with it; an S3 lock may stay as a stale record): undefined while it holds it. */
  lost(): string | undefined;
  /** Ends the Terraform process that holds the lock; Terraform releases it. Never throws: a problem comes back as a warning. */
  release(): Promise<string | undefined>;
}

/**
 * A working folder whose configuration is the stack's backend block alone,
 * initialized (`-backend-config` for the connection settings): state
 * commands there reach the stack's state and its lock.
 */
export async function openBackend(tf: Tf, dir: string, backend: StackBackend, backendConfigFile?: string): Promise<Backend> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(dir, "backend.tf.json"), `${JSON.stringify({ terraform: { backend: backend.block } }, null, 2)}\n`);
  // Moving, pulling and pushing a state needs no provider, but init also installs those the state names
  // (hundreds of MB): an empty -plugin-dir makes that step fail at once, with no download, after the backend is set up.
  const noProviders = path.join(dir, "no-providers");
  fs.mkdirSync(noProviders, { mode: 0o700 });
  const init = await run(tf, ["init", "-input=false", "-json", `-plugin-dir=${noProviders}`, ...(backendConfigFile ? [`-backend-config=${backendConfigFile}`] : [])], dir);
  checkpoint(tf, "terraform init");
  const errors = parseDiagnostics(init.stdout).filter((d) => d.severity === "error");
  const backendReady = fs.existsSync(path.join(dir, ".terraform", "terraform.tfstate"));
  if (init.code !== 0 && !(backendReady && errors.length > 0 && errors.every((d) => PROVIDER_STEP.test(d.summary)))) {
    const text = errors.map((d) => `${d.summary}${d.detail ? `: ${d.detail}` : ""}`).join("\n") || init.stderr || init.stdout;
    throw new TerraformError(`init (${describeBackend(backend.identity)})`, { code: init.code, stdout: "", stderr: text });
  }
  const identity = backend.identity;
  // Which state init set up, as Terraform recorded it: a -backend-config file that names one after all
  // (a setting its check did not see) would have every command here read and push another state.
  const set = initializedBackend(dir);
  if (!set || !sameBackend(set, identity)) {
    throw new Refusal(
      `terraform init set up ${set ? describeBackend(set) : "no backend it records"}, not the stack's ${describeBackend(identity)}` +
        `${set && backendConfigFile ? `: --backend-config ${backendConfigFile} names which state after all (it may give connection settings only)` : ""}. Nothing was read or pushed`,
    );
  }
  const pull = async (o: { uninterruptible?: boolean } = {}) => {
    const r = await run(tf, ["state", "pull"], dir, o);
    if (!o.uninterruptible) checkpoint(tf, "terraform state pull");
    if (r.code !== 0) throw new TerraformError("state pull", r);
    return r.stdout.trim() ? r.stdout : null;
  };
  return {
    identity,
    dir,
    pull,
    async read() {
      if (identity.type !== "local") return pull();
      try {
        return fs.readFileSync(identity.path, "utf8");
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw e;
      }
    },
    lock: () => holdLock(tf, dir, identity),
    async push(file, hold) {
      return run(tf, ["state", "push", "-lock=false", "-no-color", file], dir, { uninterruptible: true, holding: hold.input });
    },
  };
}

/**
 * The backend's lock, held by `terraform console` (Terraform documents it as
 * never modifying the state; it takes the lock to read the state and keeps it
 * until it exits). It is asked to read a FIFO: Terraform opens it only once
 * it holds the lock and has read the state, which is how this knows the lock
 * is held. A lock held by anyone else: refused at once, with Terraform's
 * words (who holds it, since when).
 */
async function holdLock(tf: Tf, dir: string, identity: BackendIdentity): Promise<LockHold> {
  checkpoint(tf, "taking the backend's lock");
  const fifo = path.join(dir, "lock-held.fifo");
  fs.rmSync(fifo, { force: true });
  const mk = spawnSync("mkfifo", ["-m", "600", fifo], { encoding: "utf8" });
  if (mk.error || mk.status !== 0) throw new Refusal(`cannot take the backend's lock: mkfifo failed (${mk.error?.message ?? mk.stderr.trim()})`);
  // The local backend's console reads ./terraform.tfstate unless told the path (its legacy -state flag).
  const args = ["console", "-no-color", ...(identity.type === "local" ? [`-state=${identity.path}`] : [])];
  // Its own process group: a Ctrl-C at the terminal must not end it (and release the lock) while a push runs;
  // migrate-state ends it; let finish, not killed when migrate-state exits (a SIGKILL would leave the lock held).
  // If migrate-state dies, console reads the end of its input and exits, releasing the lock;
  // a push under way holds that input too (LockHold.input), so that end comes only once the push has exited as well.
  // Its output goes to a file, not a pipe: if migrate-state dies (SIGKILL), a pipe would end console by SIGPIPE
  // before it unlocks (leaving an S3 backend's lock held); with a file it reads the end of its input and unlocks.
  const log = path.join(dir, "lock-holder.log");
  const logFd = fs.openSync(log, "w", 0o600);
  let child: ReturnType<typeof spawnGroup>;
  try {
    child = spawnGroup(tf.bin, args, { cwd: dir, env: tf.env, stdio: ["pipe", logFd, logFd], letFinish: true, detached: true });
  } finally {
    fs.closeSync(logFd);
  }
  tf.adopt?.(child.pid);
  let ended: string | undefined;
  child.on("exit", (code, sig) => (ended ??= sig ? `was ended by ${sig}` : `exited ${code}`));
  let spawnError = "";
  const said = () => {
    let text = "";
    try {
      text = fs.readFileSync(log, "utf8");
    } catch {
      // not written
    }
    return `${text}${spawnError}`.trim();
  };
  const exited = new Promise<number | null>((resolve) => {
    child.on("close", (code) => resolve(code));
    child.on("error", (e) => {
      spawnError += e.message;
      resolve(null);
    });
  });
  child.stdin!.write(`file(${JSON.stringify(fifo)})\n`);
  const stop = () => child.kill("SIGINT");
  tf.signal?.addEventListener("abort", stop, { once: true });
  const opened = fs.promises.open(fifo, "w");
  const first = await Promise.race([opened.then((fd) => ({ fd })), exited.then((code) => ({ code }))]);
  if (!("fd" in first)) {
    // Terraform stopped without opening the FIFO: unblock the pending open, then report why.
    const reader = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    await opened.then((fd) => fd.close()).catch(() => undefined);
    fs.closeSync(reader);
    fs.rmSync(fifo, { force: true });
    tf.signal?.removeEventListener("abort", stop);
    checkpoint(tf, "taking the backend's lock");
    const text = said();
    if (/Error acquiring the state lock/.test(text)) {
      throw new Refusal(
        "the backend's lock is held by another operation; nothing was pushed. If no Terraform and no migrate-state runs on this state " +
          "(a run killed while it held the lock), release it with terraform force-unlock <ID>, the ID Terraform gives below, " +
          `in a folder initialized with the stack's backend. Terraform said:\n${text}`,
      );
    }
    throw new TerraformError("console (to hold the backend's lock)", { code: first.code, stdout: "", stderr: text });
  }
  // Held: from here an interrupt ends it through release(), never behind the run's back (a push may be under way).
  tf.signal?.removeEventListener("abort", stop);
  return {
    input: child.stdin!,
    // Its exit may not have reached the event loop yet (killed a moment ago): the process table says it at once.
    lost: () => ended ?? (child.pid !== undefined && !running(child.pid) ? "is no longer running" : undefined),
    async release() {
      await first.fd.close().catch(() => undefined);
      child.stdin!.end();
      const code = await exited;
      fs.rmSync(fifo, { force: true });
      if (code === 0) return undefined;
      return (
        `terraform console, which held the backend's lock, exited ${code}: if a Terraform command reports the lock as held, ` +
        `check that no migrate-state runs and release it with terraform force-unlock. Terraform said:\n${said()}`
      );
    },
  };
}

/** The backend `terraform init` recorded in `dir` (.terraform/terraform.tfstate: the configuration merged with -backend-config), as an identity. */
function initializedBackend(dir: string): BackendIdentity | undefined {
  try {
    const b = (JSON.parse(fs.readFileSync(path.join(dir, ".terraform", "terraform.tfstate"), "utf8")) as { backend?: { type?: string; config?: Record<string, unknown> } }).backend;
    if (!b?.type) return undefined;
    // Terraform records every setting of the backend's schema, an unset one as null.
    const config = Object.fromEntries(Object.entries(b.config ?? {}).filter(([, v]) => v !== null && v !== ""));
    return backendOf({ terraform: { backend: { [b.type]: config } } }, dir).identity;
  } catch {
    return undefined;
  }
}

/** Whether `pid` runs: not gone, not a zombie (/proc where there is one). */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    if (fs.existsSync("/proc/self")) return false; // a /proc without it: gone
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

/** init's errors when it cannot install the providers a state names: expected with the empty -plugin-dir. */
const PROVIDER_STEP = /^(Failed to query available provider packages|Failed to install provider|Inconsistent dependency lock file)/;

function parseDiagnostics(stdout: string): { severity: string; summary: string; detail?: string }[] {
  const out: { severity: string; summary: string; detail?: string }[] = [];
  for (const line of stdout.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const m = JSON.parse(line) as { type?: string; diagnostic?: { severity: string; summary: string; detail?: string } };
      if (m.type === "diagnostic" && m.diagnostic) out.push(m.diagnostic);
    } catch {
      // not a JSON line
    }
  }
  return out;
}

/** Parses a state's text; undefined when it is not a version 4 state with a lineage. */
export function parseStateText(text: string): RawState | undefined {
  try {
    const s = JSON.parse(text) as RawState;
    if (s && s.version === 4 && Array.isArray(s.resources) && typeof s.lineage === "string" && typeof s.serial === "number") return s;
  } catch {
    // not JSON
  }
  return undefined;
}
