// Temporary folders for tests: made under os.tmpdir() and removed after the
// test file's tests (setup.ts registers the removal), so no test leaves one.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const made: string[] = [];

/** A new temporary folder (its real path), removed after this test file. */
export function tempDir(prefix: string): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  made.push(dir);
  return dir;
}

/** Removes every folder tempDir made (setup.ts, after each test file); VALIDATE_KEEP_DIRS=1 keeps them to look at. */
export function removeTempDirs(): void {
  const dirs = made.splice(0);
  if (process.env.VALIDATE_KEEP_DIRS === "1") return;
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
}
