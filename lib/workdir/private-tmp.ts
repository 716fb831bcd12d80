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
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { MAX_TMP_BYTES, WorkdirError } from "./options";
import { fileSystemMessage } from "./refusal";

/** The caller's TMPDIR, as os.tmpdir() reads it, from `env`. */
export const callerTmpOf = (env: NodeJS.ProcessEnv): string => (env.TMPDIR || os.tmpdir()).replace(/(.)\/+$/, "$1");

/** A new private folder (mode 0700) `zivohealth-<tool>-XXXXXX` in `callerTmp`. */
export const makePrivateTmp = (callerTmp: string, tool: string): string => fs.mkdtempSync(path.join(callerTmp, `zivohealth-${tool.replace(/[^\w-]+/g, "_")}-`));

/** `env` with TMPDIR, TMP and TEMP set to `dir`. */
export const withTmp = (env: NodeJS.ProcessEnv, dir: string): NodeJS.ProcessEnv => ({ ...env, TMPDIR: dir, TMP: dir, TEMP: dir });

/** Waits for the child ("$@") with SIGINT, SIGTERM and SIGHUP held (a trap, so the child gets them back as default), then removes $1. */
const REMOVER = 'd=$1; shift; trap : INT TERM HUP; "$@"; s=$?; rm -rf -- "$d"; exit $s';

/**
 * Runs `bin` with `args` in `cwd` to its end, stdio inherited, with TMPDIR, TMP and TEMP a private folder
 * `zivohealth-<tool>-XXXXXX` in `env`'s TMPDIR, removed when the child ends (success, failure, a signal).
 * Returns the child's exit code, or 128 + the signal that ended it. Throws WorkdirError (exit 2, nothing
 * run) when that folder cannot be made, or when its path is too long for a provider's Unix socket.
 */
export function runInPrivateTmp(tool: string, bin: string, args: readonly string[], options: { cwd?: string; env: NodeJS.ProcessEnv }): number {
  const callerTmp = callerTmpOf(options.env);
  const longest = Buffer.byteLength(path.join(callerTmp, `zivohealth-${tool}-XXXXXX`));
  if (longest > MAX_TMP_BYTES) {
    throw new WorkdirError(
      `TMPDIR ${callerTmp} is too long for the temporary folder ${tool}'s Terraform needs: ${path.join(callerTmp, `zivohealth-${tool}-XXXXXX`)} is ${longest} bytes, ` +
        `and a provider's socket in it must fit in 107 (at most ${MAX_TMP_BYTES} bytes for the folder). Set TMPDIR to a shorter folder (TMPDIR=/tmp)`,
    );
  }
  let dir: string;
  try {
    dir = makePrivateTmp(callerTmp, tool);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = fileSystemMessage(e) ?? `cannot make a temporary folder in TMPDIR ${callerTmp}: ${err.code === "ENOENT" ? "it does not exist (ENOENT)" : err.message}`;
    throw new WorkdirError(`${why}; set TMPDIR to a folder you can write`);
  }
  try {
    const r = spawnSync("/bin/sh", ["-c", REMOVER, "sh", dir, bin, ...args], { cwd: options.cwd, env: withTmp(options.env, dir), stdio: "inherit" });
    if (r.error) throw r.error;
    return r.status ?? 128 + (r.signal ? os.constants.signals[r.signal] : 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
