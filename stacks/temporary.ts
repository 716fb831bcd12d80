// A private temporary folder in os.tmpdir(), for every command that synthesizes. One that cannot be made
// (TMPDIR names a folder that does not exist, a file, or one not writable) is the environment's problem:
// one message naming TMPDIR, which each command turns into its exit 2. No cdktf here: synth-diff loads it late.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** The temporary folder cannot be made; the message names TMPDIR and the reason. */
export class TemporaryFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TemporaryFolderError";
  }
}

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: "it does not exist",
  ENOTDIR: "it is not a folder",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EROFS: "read-only file system",
  ENOSPC: "no space left on the device",
};

/** `mkdtemp` under os.tmpdir() (TMPDIR, then TMP and TEMP) with `prefix`; `purpose` says what for, in the message. */
export function temporaryFolder(prefix: string, purpose: string): string {
  const parent = os.tmpdir();
  try {
    return fs.mkdtempSync(path.join(parent, prefix));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (typeof err.code !== "string") throw e;
    throw new TemporaryFolderError(
      `cannot create a temporary folder for ${purpose} in ${parent} (TMPDIR): ${REASONS[err.code] ?? err.message} (${err.code}); set TMPDIR to a writable folder`,
    );
  }
}
