// A private temporary folder for a child process a command runs to its end with its output on the
// terminal (spawnSync: deploy --plan's terraform, the cdktf CLI): TMPDIR, TMP and TEMP of the child, made in
// the caller's TMPDIR and removed when the child ends, however it ends. What the child leaves there (a
// Terraform provider stopped by Ctrl-C leaves its plugin socket folder) goes with it, never into the user's TMPDIR.
//
// The command's process itself keeps its signals as they were: on Ctrl-C (SIGINT to the whole process
// group) it dies of it as before, while the child (Terraform) may still be stopping. So the folder is
// removed by a small `sh` between the command and the child: it holds SIGINT, SIGTERM and SIGHUP until the
// child has ended (the child gets the default handling back), removes the folder, and exits with the
// child's code (128 + the signal when a signal ended it). The command removes it too (a `finally`) when it
// outlives the child. Only a SIGKILL of that `sh` (of the whole process group) leaves it.
//
// What such a kill leaves, the next run removes: each folder holds a marker, OWNER, naming the host, the pid
// namespace and the boot (pids mean something only there) and the processes that use or remove it (the command's,
// and the `sh`, which writes its own pid there before it starts the child, or refuses to start it). Before making
// its folder, a run removes the `zivohealth-<tool>-XXXXXX` folders of the caller's TMPDIR (any tool's: the marker
// decides) that are this user's folders (not symbolic links) and hold a marker of this code's format, of this host,
// pid namespace and boot, none of whose processes is alive. Anything else there stays as it is: a live (or reused)
// pid keeps a folder, it never removes one; so does a marker of another container sharing the folder (another pid
// namespace), of another boot, or of an older format. lib/workdir's fallback folder (index.ts) has the same marker
// and sweep; every process it gives the folder is named there (Workdir.adopt).
//
// Where the folder's path would be too long for a provider's socket (a long TMPDIR), no folder is made: the
// child runs in the caller's TMPDIR, as it did before this folder existed, and a note says so.
//
// The child keeps the terminal and the command's process group (an apply reads its approval there), so no group
// of its own is killed when it ends: once it returns, the providers it left orphaned in the folders its Terraform
// works in (`orphansIn`) are killed instead, as lib/process-group.ts does at a terminal.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { killOrphanedProviders } from "../process-group";
import { MAX_TMP_BYTES, WorkdirError, callerTmpOf, privateTmpPrefix } from "./options";
import { fileSystemMessage } from "./refusal";

/** The marker in a private temporary folder: `{ by, format, tool, host, pids }` (one line of JSON). */
export const OWNER = ".zivohealth-owner";
const OWNER_BY = "zivohealth private-tmp";
/** 2: with `pidns` and `boot`; a marker of format 1 (no namespace) is never swept. */
const OWNER_FORMAT = 2;
/** A private temporary folder's name: `zivohealth-<tool>-` and mkdtemp's six characters. */
const NAME = /^zivohealth-[\w-]+-[A-Za-z0-9]{6}$/;

/** `env` with TMPDIR, TMP and TEMP set to `dir`. */
export const withTmp = (env: NodeJS.ProcessEnv, dir: string): NodeJS.ProcessEnv => ({ ...env, TMPDIR: dir, TMP: dir, TEMP: dir });

const readOr = (read: () => string): string | null => {
  try {
    return read().trim() || null;
  } catch {
    return null;
  }
};
let here: { pidns: string | null; boot: string | null } | undefined;
/** Where this process's pids mean something: its pid namespace (`pid:[4026531836]`) and the boot; null where /proc does not say. */
export const pidSpace = () =>
  (here ??= { pidns: readOr(() => fs.readlinkSync("/proc/self/ns/pid")), boot: readOr(() => fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8")) });

/** The marker's text with `pids`, less its closing `]}` and newline: the REMOVER `sh` adds its own pid to it. */
const ownerHead = (tool: string, pids: readonly number[]) =>
  JSON.stringify({ by: OWNER_BY, format: OWNER_FORMAT, tool, host: os.hostname(), ...pidSpace(), pids }).slice(0, -2);

/**
 * The pids of a folder's marker, when it is a regular file this code wrote, in this format, for this host, pid
 * namespace and boot (both without /proc counts as the same; one side without it does not); else undefined.
 */
function ownerPids(dir: string): number[] | undefined {
  const file = path.join(dir, OWNER);
  try {
    if (!fs.lstatSync(file).isFile()) return undefined;
    const o = JSON.parse(fs.readFileSync(file, "utf8"));
    if (o?.by !== OWNER_BY || o.format !== OWNER_FORMAT || o.host !== os.hostname() || !Array.isArray(o.pids) || o.pids.length === 0) return undefined;
    const { pidns, boot } = pidSpace();
    if (o.pidns !== pidns || o.boot !== boot) return undefined;
    return o.pids.every((p: unknown) => Number.isInteger(p) && (p as number) > 0) ? o.pids : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` may be running (a process of another user counts): not when there is no such process (ESRCH),
 * nor when Linux's /proc says it has exited and waits to be reaped (a zombie: a parent killed with it leaves it
 * to init, which may be slow to reap it, or, in a container, never).
 */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== "ESRCH";
  }
  try {
    return !/^[ZX]/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /s, ""));
  } catch {
    return true;
  }
}

/**
 * Removes, from `callerTmp`, the private temporary folders of runs killed before they could remove them: see the
 * header. Writes a note per folder removed to `stderr`. Never throws (what it cannot read or remove stays).
 */
export function sweepLeftTmp(callerTmp: string, stderr: (text: string) => void): void {
  let names: string[];
  try {
    names = fs.readdirSync(callerTmp).filter((n) => NAME.test(n));
  } catch {
    return;
  }
  const uid = process.getuid?.();
  for (const name of names.sort()) {
    const dir = path.join(callerTmp, name);
    try {
      const st = fs.lstatSync(dir);
      if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) continue;
      const pids = ownerPids(dir);
      if (!pids || pids.some(alive)) continue;
      fs.rmSync(dir, { recursive: true, force: true });
      stderr(`note: removed ${dir}, the temporary folder of a run that was killed (pids ${pids.join(", ")}, no longer running)\n`);
    } catch {
      // Gone meanwhile, or not ours to read: left as it is.
    }
  }
}

/** Writes (replaces) the marker of `dir`, a folder makePrivateTmp made: the processes that use or remove it are `pids`. */
export const writeOwner = (dir: string, tool: string, pids: readonly number[]): void =>
  fs.writeFileSync(path.join(dir, OWNER), `${ownerHead(tool, pids)}]}\n`, { mode: 0o600 });

/**
 * A new private folder (mode 0700) `zivohealth-<tool>-XXXXXX` in `callerTmp`, its marker naming this process
 * (`pids`, default this one), after the sweep of what killed runs left there (notes to `stderr`).
 */
export function makePrivateTmp(callerTmp: string, tool: string, stderr: (text: string) => void, pids: readonly number[] = [process.pid]): string {
  sweepLeftTmp(callerTmp, stderr);
  const dir = fs.mkdtempSync(path.join(callerTmp, privateTmpPrefix(tool)));
  try {
    writeOwner(dir, tool, pids);
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return dir;
}

/** The exit code of the REMOVER `sh` when it cannot write its pid into the marker: it has not started the child. */
export const MARKER_UNWRITTEN = 125;

/**
 * Writes its own pid into the marker $2 (the text less its closing, see ownerHead) of the folder $1, waits for the
 * child ("$@") with SIGINT, SIGTERM and SIGHUP held (a trap, so the child gets them back as default), then removes $1.
 * Where it cannot write the marker, it says so and exits MARKER_UNWRITTEN without starting the child (a child the
 * marker does not name could have its folder swept under it) and without touching $1 (the command removes it).
 */
export const REMOVER =
  `d=$1; o=$2; shift 2; trap : INT TERM HUP; printf '%s,%s]}\\n' "$o" "$$" > "$d/${OWNER}" || ` +
  `{ printf 'error: cannot write %s, the marker of its temporary folder: %s not started\\n' "$d/${OWNER}" "$1" >&2; exit ${MARKER_UNWRITTEN}; }; ` +
  `"$@"; s=$?; rm -rf -- "$d"; exit $s`;

/** Why `callerTmp` cannot be used (a missing folder, a file, one this user cannot write), or undefined. */
function unusable(callerTmp: string): string | undefined {
  try {
    if (!fs.statSync(callerTmp).isDirectory()) return "it is not a folder (ENOTDIR)";
    fs.accessSync(callerTmp, fs.constants.W_OK | fs.constants.X_OK);
    return undefined;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return err.code === "ENOENT" ? "it does not exist (ENOENT)" : err.code === "EACCES" ? "permission denied (EACCES)" : err.message;
  }
}

/** The TMPDIRs runInPrivateTmp has said it cannot make its folder in (one note each per process). */
const noted = new Set<string>();

/**
 * What a TMPDIR `dir` over MAX_TMP_BYTES means for a provider, for a note (empty when it is not over): its socket
 * is `<dir>/plugin<1 to 10 digits>`, Go's random number, within 107 bytes.
 */
export function tooLongForProviders(dir: string): string {
  const n = Buffer.byteLength(dir);
  if (n <= MAX_TMP_BYTES) return "";
  return n + "/plugin0".length > 107 ? ` (and at ${n} bytes no provider can start there)` : ` (and at ${n} bytes a provider may fail to start there)`;
}

/**
 * Runs `bin` with `args` in `cwd` to its end, stdio inherited, with TMPDIR, TMP and TEMP a private folder
 * `zivohealth-<tool>-XXXXXX` in `env`'s TMPDIR, removed when the child ends (success, failure, a signal).
 * Returns the child's exit code, or 128 + the signal that ended it, or MARKER_UNWRITTEN (the child not started)
 * when the REMOVER cannot write the marker. Where that folder's path would be too long for a provider's Unix
 * socket, runs the child with `env` as it is (its TMPDIR made absolute) and says so on `stderr` (default the
 * process's; once per process and TMPDIR). Throws WorkdirError (exit 2, nothing run) when the TMPDIR does not
 * exist or cannot be written. A relative TMPDIR is taken against this process's folder, not `cwd`. Once the child
 * has ended (its code, a signal, an error), the `terraform-provider-*` left orphaned in the folders `orphansIn` are killed.
 */
export function runInPrivateTmp(
  tool: string,
  bin: string,
  args: readonly string[],
  options: { cwd?: string; env: NodeJS.ProcessEnv; stderr?: (text: string) => void; orphansIn?: readonly string[] },
): number {
  const orphansIn = options.orphansIn ?? [];
  const stderr = options.stderr ?? ((text: string) => process.stderr.write(text));
  const callerTmp = callerTmpOf(options.env);
  const shown = path.join(callerTmp, `${privateTmpPrefix(tool)}XXXXXX`);
  const longest = Buffer.byteLength(shown);
  if (longest > MAX_TMP_BYTES) {
    const why = unusable(callerTmp);
    if (why) throw new WorkdirError(`cannot use TMPDIR ${callerTmp}: ${why}; set TMPDIR to a folder you can write`);
    // Once per process and TMPDIR: deploy --plan runs init, show, then apply.
    if (!noted.has(callerTmp)) {
      noted.add(callerTmp);
      stderr(
        `note: no private temporary folder for ${tool}'s Terraform: ${shown} would be ${longest} bytes, and a provider's socket in it must fit in 107 ` +
          `(at most ${MAX_TMP_BYTES} bytes for the folder); it runs in TMPDIR ${callerTmp} itself, where an interrupted Terraform may leave its plugin socket (a file plugin<digits>)` +
          `${tooLongForProviders(callerTmp)}. Set TMPDIR to a shorter folder (TMPDIR=/tmp) to avoid it\n`,
      );
    }
    return run(bin, args, options.cwd, { ...options.env, TMPDIR: callerTmp }, orphansIn);
  }
  let dir: string;
  try {
    dir = makePrivateTmp(callerTmp, tool, stderr);
  } catch (e) {
    // The TMPDIR itself (missing, a file, not writable) is named as the user set it, not mkdtemp's template.
    const reason = unusable(callerTmp);
    const why = reason
      ? `cannot make a temporary folder in TMPDIR ${callerTmp}: ${reason}`
      : (fileSystemMessage(e) ?? `cannot make a temporary folder in TMPDIR ${callerTmp}: ${(e as Error).message}`);
    throw new WorkdirError(`${why}; set TMPDIR to a folder you can write`);
  }
  try {
    return run("/bin/sh", ["-c", REMOVER, "sh", dir, ownerHead(tool, [process.pid]), bin, ...args], options.cwd, withTmp(options.env, dir), orphansIn);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `bin` to its end, stdio inherited; its exit code, or 128 + the signal that ended it. Then kills the providers it left orphaned in `orphansIn`. */
function run(bin: string, args: readonly string[], cwd: string | undefined, env: NodeJS.ProcessEnv, orphansIn: readonly string[]): number {
  try {
    const r = spawnSync(bin, args, { cwd, env, stdio: "inherit" });
    if (r.error) throw r.error;
    return r.status ?? 128 + (r.signal ? os.constants.signals[r.signal] : 0);
  } finally {
    for (const dir of orphansIn) killOrphanedProviders(dir);
  }
}
