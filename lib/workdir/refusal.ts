// Whether a command may use a folder as its output folder (see ./index.ts): the paths it
// must never write (the checkout, an input, a source folder, a reserved folder, a file).
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { inUse, readLock } from "./lock";
import { EARLIER, LOCK, MARKER, MAX_TMP_BYTES, TMP, WorkdirOptions, callerTmpOf, privateTmpPrefix } from "./options";

// ---------------------------------------------------------------- paths

export const isWithin = (child: string, parent: string) => child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);

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
    for (const b of o.backups ?? []) {
      // Aside too: a run killed after setting the earlier results aside.
      const file = [path.join(dir, b.name), path.join(dir, EARLIER, b.name)].find((f) => fs.existsSync(f));
      if (file) {
        return (
          `${shown} holds ${b.name}, ${b.what}: ${o.tool} never deletes or replaces it. ` +
          `Give another folder; or, once you have kept that file elsewhere (or know you no longer need it), move ${file} out of the folder`
        );
      }
    }
  }
  const tmp = tmpPlace(o, dir);
  return typeof tmp === "string" ? tmp : undefined;
}

/** Where a run's children get their TMPDIR (see Workdir.childEnv). */
export type TmpPlace =
  | { readonly in: "folder"; readonly path: string }
  | { readonly in: "own"; readonly callerTmp: string }
  | { readonly in: "caller"; readonly callerTmp: string; readonly note: string };

/**
 * Where the run in `dir` (real path) gives its children TMPDIR: `<dir>/.zivohealth-tmp`; where that is too long for a
 * provider's socket, a folder of its own in the caller's TMPDIR; where that is too long as well, the caller's
 * TMPDIR itself (with a note); or, as a string, the refusal: that TMPDIR is too long too (plan-check and
 * migrate-state always start a provider).
 */
export function tmpPlace(o: WorkdirOptions, dir = realPath(o.dir)): TmpPlace | string {
  const inFolder = path.join(dir, TMP);
  const inFolderBytes = Buffer.byteLength(inFolder);
  if (inFolderBytes <= MAX_TMP_BYTES) return { in: "folder", path: inFolder };
  const callerTmp = callerTmpOf(o.env ?? process.env);
  const own = path.join(callerTmp, `${privateTmpPrefix(o.tool)}XXXXXX`);
  const ownBytes = Buffer.byteLength(own);
  if (ownBytes <= MAX_TMP_BYTES) return { in: "own", callerTmp };
  const shown = o.shown ?? o.dir;
  const callerBytes = Buffer.byteLength(callerTmp);
  if (callerBytes > MAX_TMP_BYTES) {
    return (
      `TMPDIR ${callerTmp} is ${callerBytes} bytes, over the ${MAX_TMP_BYTES} a Terraform provider's socket leaves (<TMPDIR>/plugin<digits>, 107 bytes at most), ` +
      `and ${shown} is too deep for a temporary folder of the run's own (${inFolderBytes} bytes): set TMPDIR to a shorter folder (TMPDIR=/tmp)`
    );
  }
  return {
    in: "caller",
    callerTmp,
    note:
      `note: ${shown}: no temporary folder of the run's own for its Terraform: ${inFolder} would be ${inFolderBytes} bytes and ${own} ${ownBytes} bytes, ` +
      `and a provider's socket in it must fit in 107 (at most ${MAX_TMP_BYTES} bytes for the folder); it runs in TMPDIR ${callerTmp} itself, ` +
      `where an interrupted Terraform may leave its plugin socket (a file plugin<digits>). Set TMPDIR to a shorter folder (TMPDIR=/tmp) to avoid it\n`,
  };
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
