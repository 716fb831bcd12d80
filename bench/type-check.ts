// The benchmark's type-check variant: npm test's `tsc -b` after an edit, in a copy of the project.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { copyProject, projectFiles } from "../lib/project-copy";
import type { Variant } from "./variants";

/** The file each run edits: a construct many files import, its declarations unchanged by the edit. */
export const EDITED = "modules/ml-worker.ts";
const MARK = "// bench: an edit that leaves the declarations as they were\n";

/**
 * `tsc -b` over both projects in a copy of the project (its build info warm from one build here), each run
 * after a line added to or removed from {@link EDITED} (alternately, untimed): what `npm test` type-checks
 * after an everyday edit outside verify. A copy, so the checkout's sources are never edited.
 */
export function prepareTypeCheck(root: string, tmp: string, log: (s: string) => void): { variant: Variant } | { error: string } {
  const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
  // The projects as npm test checks them (plain JavaScript, read from the checkout, not dist/).
  const { PROJECTS } = require(path.join(root, "tools", "type-check.js")) as { PROJECTS: string[] };
  let repo: string;
  try {
    repo = copyProject(root, projectFiles(root), path.join(tmp, "type-check"));
  } catch (e) {
    return { error: `type-check copy: ${(e as Error).message}` };
  }
  const argv = [process.execPath, tsc, "-b", ...PROJECTS];
  const first = spawnSync(argv[0], argv.slice(1), { cwd: repo, encoding: "utf8" });
  if (first.status !== 0) return { error: `tsc -b in the copy exited ${first.status}: ${(first.stdout + first.stderr).slice(-1500)}` };
  log(`type-check copy built in ${repo}`);
  const file = path.join(repo, EDITED);
  const original = fs.readFileSync(file, "utf8");
  let edited = false;
  return {
    variant: {
      id: "tsc-edit",
      display: `tsc -b ${PROJECTS.join(" ")}`,
      note: `npm test's type check after an edit to ${EDITED} that keeps its declarations (in a copy)`,
      argv,
      cwd: repo,
      before: () => {
        edited = !edited;
        fs.writeFileSync(file, edited ? original + MARK : original);
      },
    },
  };
}
