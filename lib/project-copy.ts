// A throw-away copy of the project, for checks that must run commands that
// write (cdktf.out, dist, plan folders) or edit the configuration without
// touching the checkout: its files as the working tree has them, in a git
// repository of its own, node_modules linked (not copied), and ../shared
// beside it as it is beside the project. The caller removes the folder.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

/** The project cannot be copied (not a git checkout). */
export class CopyError extends Error {}

/** The files of the project as its working tree has them now (tracked, and untracked but not ignored). */
export function projectFiles(project: string): string[] {
  try {
    return execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: project, encoding: "utf8", maxBuffer: 64 << 20 })
      .split("\0")
      .filter((f) => f && f !== "node_modules" && fs.existsSync(path.join(project, f)));
  } catch (e) {
    throw new CopyError(`${project} is not a git checkout (git ls-files failed): ${(e as Error).message.split("\n")[0]}`);
  }
}

export const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.name=project-copy", "-c", "user.email=project-copy@localhost", "-c", "commit.gpgsign=false", ...args], { cwd, stdio: "pipe" });

/** A copy of the project in `dir/repo` (a git repository of one commit, on branch main), `../shared` beside it when the project has one. */
export function copyProject(project: string, files: readonly string[], dir: string): string {
  const repo = path.join(dir, "repo");
  for (const f of files) {
    const to = path.join(repo, f);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    const from = path.join(project, f);
    if (fs.lstatSync(from).isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(from), to);
    else fs.copyFileSync(from, to);
  }
  fs.symlinkSync(fs.realpathSync(path.join(project, "node_modules")), path.join(repo, "node_modules"), "dir");
  const shared = path.resolve(project, "../shared");
  if (fs.existsSync(shared)) fs.symlinkSync(fs.realpathSync(shared), path.join(dir, "shared"), "dir");
  git(repo, "init", "-q", "-b", "main");
  // The link is not a folder, so .gitignore's `node_modules/` does not match it.
  fs.appendFileSync(path.join(repo, ".git/info/exclude"), "/node_modules\n");
  git(repo, "add", "-A");
  git(repo, "commit", "-qm", "the project as its working tree is");
  return repo;
}

