// Long: one command: its flags, the other commit's synthesis in a temporary worktree, the lockfile comparison and the report, in the order they run.
// synth-diff: the synthesized Terraform of the working tree against that of
// another commit, block by block and attribute by attribute (logic in
// lib/tf-diff.ts, report in lib/tf-diff-report.ts).
//   npm run synth-diff -- <git ref> [--stack <name>] [--json] [--out <file>]
// The working tree is synthesized into a folder of this command (for its asset files); the other commit is exported
// with `git archive` into a temporary folder this command creates and always
// removes, and synthesized there by its own cdktf.json `app` with this
// checkout's node_modules (a symbolic link; nothing is installed). No
// Terraform, no AWS. Exit codes: 0 it ran (a report, not a gate), 2 bad input.
import "../../stacks/startup"; // first: the compile cache and deferred requires apply to what loads after it
import { sha256 } from "../../stacks/synthesis-record";
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { EnvironmentConfig } from "../../config/environment";
import type * as App from "../../stacks/app";
import { CliIo, InputError, PROJECT_ROOT, parseFlags, parseOrAnswer, processIo } from "../../lib/cli";
import { TemporaryFolderError, temporaryFolder } from "../../stacks/temporary";
import { COMPILE_CACHE_SKIP_ENV } from "../../stacks/compile-cache";
import { Json, StackDiff, compare, diffDocuments } from "../../lib/tf-diff";
import { MARKDOWN_LIMIT, ReportMeta, fitMarkdown, markdownLines, renderJson } from "../../lib/tf-diff-report";
import { AssetFiles, readAssetFiles, withAssetChanges } from "../../lib/tf-diff-assets";

export { CliIo };

export const USAGE =
  "usage: synth-diff <git ref> [--stack <name>] [--json] [--out <file>]\n" +
  "  <git ref>  the commit to compare the working tree with (HEAD~1, main, a tag or a commit id)\n" +
  "  --stack    only this stack (default: every stack either side synthesizes)\n" +
  "  --json     print every fact as JSON instead of Markdown\n" +
  "  --out      also write the whole report, never cut, to this file (Markdown, or JSON with --json);\n" +
  "             an existing file is replaced only when it is an earlier synth-diff report\n" +
  `The Markdown on stdout fits one GitHub comment (at most ${MARKDOWN_LIMIT.toLocaleString("en-US")} characters; cut with a pointer otherwise).\n` +
  "The other commit is synthesized with this checkout's node_modules: refused when its package-lock.json\n" +
  "locks another version of a package synthesis loads.\n" +
  "exit codes: 0 it ran (changes or not), 2 bad input (unknown ref, not a git checkout, a commit that cannot\n" +
  "            be synthesized here)\n";

/** How long the other commit's synthesis may take. */
export const SYNTH_TIMEOUT_MS = 10 * 60 * 1000;
/** A marker only our own reports carry, so --out replaces nothing else. */
const REPORT_MARKERS = ["<!-- synth-diff report -->", '"tool": "synth-diff"'];

interface Options {
  ref: string;
  stack?: string;
  json: boolean;
  out?: string;
  help: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const valueFlags = ["--stack", "--out"];
  const positional: string[] = [];
  const rest: string[] = [];
  for (let n = 0; n < argv.length; n++) {
    const a = argv[n];
    if (valueFlags.includes(a)) rest.push(a, ...(n + 1 < argv.length ? [argv[++n]] : []));
    else if (a.startsWith("-")) rest.push(a);
    else positional.push(a);
  }
  const { values, flags, help } = parseFlags(rest, valueFlags, ["--json"]);
  if (help) return { ref: "", json: false, help };
  if (positional.length === 0) throw new InputError("give the git ref to compare with (HEAD~1, main, a tag or a commit id)");
  if (positional.length > 1) throw new InputError(`give one git ref, not ${positional.length} (${positional.join(", ")})`);
  const stack = values["--stack"];
  if (stack !== undefined && !/^[A-Za-z0-9_-]+$/.test(stack)) {
    throw new InputError(`--stack takes a stack name (letters, digits, _ and -); got ${JSON.stringify(stack)}`);
  }
  return { ref: positional[0], stack, json: flags.has("--json"), out: values["--out"], help };
}

// ---------------------------------------------------------------- git

function git(cwd: string, args: readonly string[], input?: string): { ok: boolean; stdout: string; stderr: string } {
  const r = spawnSync("git", args, { cwd, encoding: "utf8", maxBuffer: 256 * 1024 * 1024, input });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    throw new InputError(code === "ENOENT" ? "git is not installed (synth-diff reads the other commit from git)" : `git: ${r.error.message}`);
  }
  return { ok: r.status === 0, stdout: r.stdout, stderr: r.stderr };
}

/** `HEAD~1 (70d8306)`, or the short commit id alone when that is what was given. */
const labelOf = (ref: string, commit: string) => (commit.startsWith(ref) ? commit.slice(0, 7) : `${ref} (${commit.slice(0, 7)})`);

export interface Base {
  readonly commit: string;
  /** The repository's top folder. */
  readonly top: string;
  /** The project's folder inside the repository (`infra/cdktf/`), or "" at its root. */
  readonly prefix: string;
}

/** The commit a ref names, checked to be a version of this project; refuses a ref git does not know. */
export function resolveBase(root: string, ref: string): Base {
  const where = git(root, ["rev-parse", "--show-toplevel", "--show-prefix"]);
  if (!where.ok) throw new InputError(`${root} is not in a git checkout: synth-diff compares the working tree with a commit of its history`);
  // Two lines: the top folder, then the prefix (an empty line at the top).
  const [top, prefix = ""] = where.stdout.replace(/\n$/, "").split("\n");
  const r = git(root, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`]);
  if (!r.ok) {
    const shallow = git(root, ["rev-parse", "--is-shallow-repository"]).stdout.trim() === "true";
    throw new InputError(
      `unknown git ref '${ref}': no commit of this repository has that name (give HEAD~1, a branch, a tag or a commit id)` +
        (shallow ? "; this clone is shallow: fetch the history first (git fetch --unshallow, or actions/checkout with fetch-depth: 0)" : ""),
    );
  }
  const commit = r.stdout.trim();
  // Both files in one git call: a line each, `<name> missing` for one the commit does not have.
  const files = ["cdktf.json", "package-lock.json"];
  const found = git(root, ["cat-file", "--batch-check"], files.map((f) => `${commit}:${prefix}${f}\n`).join("")).stdout.split("\n");
  files.forEach((file, n) => {
    if (!/^[0-9a-f]+ blob \d+$/.test(found[n] ?? "")) {
      throw new InputError(`${labelOf(ref, commit)} has no ${prefix}${file}: not a version of this project, nothing to synthesize`);
    }
  });
  return { commit, top: top.trim(), prefix: prefix.trim() };
}

function headOf(root: string): { commit: string; dirty: boolean } {
  const head = git(root, ["rev-parse", "--verify", "--quiet", "HEAD"]);
  const status = git(root, ["status", "--porcelain", "--untracked-files=normal", "--", "."]);
  return { commit: head.ok ? head.stdout.trim() : "(no commit)", dirty: status.stdout.trim() !== "" };
}

// ---------------------------------------------------------------- package-lock compatibility

interface LockEntry {
  version?: string;
  integrity?: string;
  dev?: boolean;
}
interface Lockfile {
  packages?: Record<string, LockEntry>;
}

/** What synthesis loads besides the runtime dependencies: the build tools of the `app` commands (SWC, tsc, ts-node). */
const isBuildTool = (name: string) => name.startsWith("@swc/") || name === "typescript" || name === "ts-node";
const packageName = (key: string) => key.slice(key.lastIndexOf("node_modules/") + "node_modules/".length);

/**
 * The packages the other commit locks differently from this checkout (whose
 * node_modules will synthesize it): `blocking` those synthesis loads (runtime
 * dependencies and the build tools), `devOnly` the rest (test tools, linters).
 * Packages only this checkout has do not matter to the other commit.
 */
export function lockfileDifferences(base: Lockfile, here: Lockfile): { blocking: string[]; devOnly: string[] } {
  const blocking: string[] = [];
  const devOnly: string[] = [];
  const ours = here.packages ?? {};
  for (const [key, entry] of Object.entries(base.packages ?? {})) {
    if (key === "") continue; // the project itself
    const mine = ours[key];
    const same = mine !== undefined && mine.version === entry.version && (mine.integrity === undefined || entry.integrity === undefined || mine.integrity === entry.integrity);
    if (same) continue;
    const name = packageName(key);
    const line = `${name} ${entry.version ?? "(no version)"} there, ${mine?.version ?? "absent"} here`;
    (entry.dev && !isBuildTool(name) ? devOnly : blocking).push(line);
  }
  return { blocking: blocking.sort(compare), devOnly: devOnly.sort(compare) };
}

function readLockfile(text: string, where: string): Lockfile {
  try {
    const lock = JSON.parse(text) as Lockfile;
    if (typeof lock.packages !== "object" || lock.packages === null) throw new Error("no \"packages\" (lockfileVersion 2 or 3 has them)");
    return lock;
  } catch (e) {
    throw new InputError(`cannot read the package-lock.json of ${where}: ${(e as Error).message}`);
  }
}

// ---------------------------------------------------------------- --out

/** Refuses, before any work, an --out that cannot be written or is not ours to replace. */
function checkOut(file: string, shown: string): void {
  const dir = path.dirname(file);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new InputError(`--out ${shown}: the folder ${path.dirname(shown) || "."} does not exist`);
  if (!fs.existsSync(file)) return;
  if (!fs.statSync(file).isFile()) throw new InputError(`--out ${shown} is a folder; give a file path`);
  const text = fs.readFileSync(file, "utf8");
  if (!REPORT_MARKERS.some((m) => text.includes(m))) {
    throw new InputError(`--out ${shown} exists and is not a synth-diff report; synth-diff replaces only its own reports: give another path`);
  }
}

function writeOut(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

// ---------------------------------------------------------------- the other commit, in a folder of ours

/** The signals that interrupt the command, and its exit code for each (128 + the signal's number). */
const INTERRUPTS = [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]] as const;
const isInterrupt = (signal: NodeJS.Signals | null): signal is (typeof INTERRUPTS)[number][0] => INTERRUPTS.some(([s]) => s === signal);

/**
 * A child stopped by an interrupt: Ctrl-C (or `kill -INT -<group>`) reaches the whole process
 * group, so `git archive` and `tar` may stop before our own signal listener has run. The command
 * exits as interrupted, not with the child's failure.
 */
class Interrupted extends Error {
  constructor(readonly signal: (typeof INTERRUPTS)[number][0]) {
    super(`interrupted (${signal})`);
    this.name = "Interrupted";
  }
  get exitCode(): number {
    return INTERRUPTS.find(([s]) => s === this.signal)![1];
  }
}

/** A temporary folder, the processes working in it, and their removal on every exit path (signals included). */
class Scratch {
  readonly dir: string;
  /** Processes to stop before the folder goes; `group`: the leader of a process group of its own. */
  private readonly children: { child: ChildProcess; group: boolean }[] = [];
  private readonly handlers: [NodeJS.Signals, () => void][] = [];

  constructor(io: CliIo, label: string) {
    try {
      this.dir = temporaryFolder("synth-diff-", `the copy of ${label}`);
    } catch (e) {
      if (e instanceof TemporaryFolderError) throw new InputError(e.message);
      throw e;
    }
    for (const [signal, code] of INTERRUPTS) {
      const handler = () => {
        const removed = this.remove();
        io.stderr(`synth-diff: interrupted (${signal}); ${removed ? `removed ${this.dir}` : `could not remove ${this.dir}: remove it by hand`}\n`);
        process.exit(code);
      };
      process.on(signal, handler);
      this.handlers.push([signal, handler]);
    }
  }

  track<T extends ChildProcess>(child: T, group = false): T {
    this.children.push({ child, group });
    return child;
  }

  /** Stops the processes and removes the folder; safe to call twice. False when the folder could not be removed. */
  remove(): boolean {
    for (const { child, group } of this.children.splice(0)) {
      if (child.exitCode !== null || child.signalCode !== null || !child.pid) continue;
      try {
        process.kill(group ? -child.pid : child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    for (const [signal, handler] of this.handlers.splice(0)) process.off(signal, handler);
    const link = path.join(this.dir, "src", "node_modules");
    try {
      if (fs.lstatSync(link).isSymbolicLink()) fs.unlinkSync(link); // never follow it into our node_modules
    } catch {
      // not made yet
    }
    try {
      // A stopped process may still be writing for a moment: retry on ENOTEMPTY.
      fs.rmSync(this.dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
      return true;
    } catch {
      return false;
    }
  }
}

/** `git archive <commit>:<prefix> | tar -x`: the commit's files, nothing of the repository. */
function exportCommit(scratch: Scratch, base: Base, to: string): Promise<void> {
  fs.mkdirSync(to);
  return new Promise((resolve, reject) => {
    const treeish = base.prefix ? `${base.commit}:${base.prefix}` : base.commit;
    // From the top folder: run in a subfolder, git archive would take only that subfolder of the tree given.
    const archive = scratch.track(spawn("git", ["archive", "--format=tar", treeish], { cwd: base.top, stdio: ["ignore", "pipe", "pipe"] }));
    const tar = scratch.track(spawn("tar", ["-x", "-C", to], { stdio: ["pipe", "ignore", "pipe"] }));
    let errors = "";
    archive.stderr.on("data", (d) => (errors += d));
    tar.stderr.on("data", (d) => (errors += d));
    // tar stopped (an interrupt, a failure) closes its stdin: the EPIPE is told by tar's own exit, below.
    tar.stdin.on("error", () => undefined);
    archive.stdout.on("error", () => undefined);
    archive.stdout.pipe(tar.stdin);
    let pending = 2;
    const done = (what: string) => (code: number | null, signal: NodeJS.Signals | null) => {
      if (isInterrupt(signal)) return reject(new Interrupted(signal));
      if (code !== 0) {
        const how = signal ? `was stopped (${signal})` : `exited ${code}`;
        return reject(new InputError(`cannot export ${base.commit.slice(0, 7)}: ${what} ${how}: ${errors.trim()}`));
      }
      if (--pending === 0) resolve();
    };
    archive.on("error", reject);
    tar.on("error", (e) => reject(new InputError(`cannot export ${base.commit.slice(0, 7)}: tar: ${e.message}`)));
    archive.on("close", done("git archive"));
    tar.on("close", done("tar"));
  });
}

/** The build an app runs first for `seedBuild`: tools/build.js, its record of what it transpiled, and its output folder. */
const BUILD_SCRIPT = path.join("tools", "build.js");
const BUILD_MANIFEST = path.join("dist", ".build-sources.json");

/**
 * This checkout's transpiled files, copied into the export (src) for the sources it has unchanged,
 * so that the export's own build transpiles only what differs: the dist/ it then has is the one its
 * full build makes. Only when its app starts with that build (`node tools/build.js && ...`), its
 * tools/build.js is this checkout's byte for byte (the same SWC options and record; SWC is this
 * checkout's node_modules either way), the commit has no dist/ of its own, and this checkout's
 * dist/.build-sources.json can be read. A file is copied when the export's source has the sha256 that
 * record gives for this checkout's output; the export's record, written last, lists only those, so
 * its build transpiles everything else (all of it, if this stops half-way). Returns how many.
 */
export function seedBuild(root: string, src: string, app: string): number {
  if (!/^\s*node tools\/build\.js\s*&&/.test(app)) return 0;
  const dist = path.join(src, "dist");
  try {
    if (fs.existsSync(dist) || !fs.readFileSync(path.join(src, BUILD_SCRIPT)).equals(fs.readFileSync(path.join(root, BUILD_SCRIPT)))) return 0;
    const built = JSON.parse(fs.readFileSync(path.join(root, BUILD_MANIFEST), "utf8")) as Record<string, unknown>;
    const seeded: Record<string, string> = {};
    for (const [rel, hash] of Object.entries(built)) {
      if (typeof hash !== "string" || !/\.ts$/.test(rel) || path.isAbsolute(rel) || rel.split(/[\\/]/).includes("..")) continue;
      const source = path.join(src, rel);
      const out = rel.replace(/\.ts$/, ".js");
      if (!fs.existsSync(source) || !fs.existsSync(path.join(root, "dist", out)) || sha256(fs.readFileSync(source)) !== hash) continue;
      fs.mkdirSync(path.dirname(path.join(dist, out)), { recursive: true });
      fs.copyFileSync(path.join(root, "dist", out), path.join(dist, out));
      seeded[rel] = hash;
    }
    if (Object.keys(seeded).length > 0) fs.writeFileSync(path.join(src, BUILD_MANIFEST), JSON.stringify(seeded, null, 1));
    return Object.keys(seeded).length;
  } catch {
    // Nothing copied after all: the export's build makes all of dist/, as without this.
    fs.rmSync(dist, { recursive: true, force: true });
    return 0;
  }
}

/** Runs the exported commit's cdktf.json `app` (as `cdktf synth` would) with CDKTF_OUTDIR in our folder. */
function synthesizeCommit(scratch: Scratch, root: string, src: string, label: string): Promise<Map<string, string>> {
  let app: string;
  try {
    app = (JSON.parse(fs.readFileSync(path.join(src, "cdktf.json"), "utf8")) as { app?: unknown }).app as string;
  } catch (e) {
    throw new InputError(`${label}: cannot read its cdktf.json: ${(e as Error).message}`);
  }
  if (typeof app !== "string" || app.trim() === "") throw new InputError(`${label}: its cdktf.json has no "app" command`);
  seedBuild(root, src, app);
  const outdir = path.join(scratch.dir, "out");
  const tmp = path.join(scratch.dir, "tmp");
  fs.mkdirSync(tmp);
  return new Promise((resolve, reject) => {
    // Its own process group, so an interrupt or the timeout stops the whole app (sh, node, the build).
    const child = scratch.track(
      spawn("sh", ["-c", app], {
        cwd: src,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
        // Its modules' compile-cache entries would name paths in our folder, gone after this run: none written.
        env: { ...process.env, CDKTF_OUTDIR: outdir, TMPDIR: tmp, CHECKPOINT_DISABLE: "1", [COMPILE_CACHE_SKIP_ENV]: scratch.dir },
      }),
      true,
    );
    let output = "";
    const keep = (d: Buffer) => (output = (output + d.toString()).slice(-8000));
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // exited meanwhile
      }
    }, SYNTH_TIMEOUT_MS);
    child.on("error", (e) => reject(new InputError(`${label}: cannot run its app \`${app}\`: ${e.message}`)));
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (isInterrupt(signal)) return reject(new Interrupted(signal));
      if (code !== 0) {
        const why = signal ? `was stopped (${signal}${signal === "SIGKILL" ? `, after ${SYNTH_TIMEOUT_MS / 1000} s` : ""})` : `exited ${code}`;
        // Paths inside our folder, which is gone by the time this is read, as paths of the commit.
        const shown = output.split(`${src}${path.sep}`).join("").trim();
        return reject(new InputError(`${label} does not synthesize with this checkout's node_modules: its app \`${app}\` ${why}:\n${shown}`));
      }
      try {
        resolve(readManifest(outdir, label));
      } catch (e) {
        reject(e);
      }
    });
  });
}

/** The stacks an app wrote, by name: cdk.tf.json text. */
function readManifest(outdir: string, label: string): Map<string, string> {
  const file = path.join(outdir, "manifest.json");
  if (!fs.existsSync(file)) throw new InputError(`${label}: its app wrote no manifest.json to CDKTF_OUTDIR: not a cdktf app this command can read`);
  const manifest = JSON.parse(fs.readFileSync(file, "utf8")) as { stacks?: Record<string, { synthesizedStackPath: string }> };
  const stacks = new Map<string, string>();
  for (const [name, entry] of Object.entries(manifest.stacks ?? {})) {
    if (!entry.synthesizedStackPath.endsWith(".json")) throw new InputError(`${label}: stack ${name} was synthesized as HCL (${entry.synthesizedStackPath}); synth-diff compares cdk.tf.json`);
    stacks.set(name, fs.readFileSync(path.join(outdir, entry.synthesizedStackPath), "utf8"));
  }
  return stacks;
}

/** The working tree's stacks (what main.ts synthesizes), in memory, or also written to `outdir` (for their asset files). */
export function synthesizeWorkingTree(environments?: Readonly<Record<string, EnvironmentConfig>>, outdir: string | null = null): Map<string, string> {
  const { isUserError, synthesize } = require("../../stacks/app") as typeof App;
  const envs = environments ?? (require("../../config/environments") as { environments: Record<string, EnvironmentConfig> }).environments;
  try {
    return new Map(synthesize(envs, { outdir }).map((s) => [s.name, s.text]));
  } catch (e) {
    if (isUserError(e)) throw new InputError(`the working tree does not synthesize: ${e.message}`);
    throw e;
  }
}

/**
 * Refuses, before any work, a --stack that is no stack of the working tree's configuration and that
 * the other commit's configuration does not mention: it cannot be a stack on either side. A name
 * the other commit's config/ mentions may be one of its stacks (one removed since), known only once
 * it is synthesized: that is checked after.
 */
function checkStackName(root: string, base: Base, label: string, stack: string): void {
  const here = Object.keys((require("../../config/environments") as { environments: Record<string, EnvironmentConfig> }).environments);
  if (here.includes(stack)) return;
  // Exit 1: no match; 0 (a match) or an error (cannot tell): the name is checked after the synthesis.
  const grep = spawnSync("git", ["grep", "-q", "-w", "-F", "-e", stack, base.commit, "--", `:(top)${base.prefix}config`], { cwd: root });
  if (grep.status !== 1) return;
  throw new InputError(`no stack named '${stack}' in the working tree (${here.join(", ") || "none"}), and ${base.prefix}config/ of ${label} does not mention it`);
}

// ---------------------------------------------------------------- the command

export interface SynthDiffDeps {
  /** The project folder whose git history holds the ref (the working tree synthesized is always this checkout's sources). @default PROJECT_ROOT */
  readonly root?: string;
  /**
   * The working tree's stacks by name (cdk.tf.json text), written to `outdir` (which it may ignore:
   * then its asset files are not found, and a change of their content is not shown).
   * @default synthesizeWorkingTree
   */
  readonly workingTree?: (outdir: string) => Map<string, string>;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Runs the command; resolves to the exit code. Writes only through `io`, its temporary folder and --out. */
export async function main(argv: readonly string[], io: CliIo, deps: SynthDiffDeps = {}): Promise<number> {
  const options = parseOrAnswer(argv, io, USAGE, parseArgs);
  if (typeof options === "number") return options;
  try {
    return await run(options, io, deps);
  } catch (e) {
    if (e instanceof Interrupted) return e.exitCode; // run() said so when it removed its folder
    if (!(e instanceof InputError)) throw e;
    io.stderr(`error: ${e.message}\n`);
    return 2;
  }
}

async function run(o: Options, io: CliIo, deps: SynthDiffDeps): Promise<number> {
  const root = deps.root ?? PROJECT_ROOT;
  const base = resolveBase(root, o.ref);
  const label = labelOf(o.ref, base.commit);
  const out = o.out === undefined ? undefined : path.resolve(io.cwd, o.out);
  if (out) checkOut(out, o.out!);
  if (!fs.existsSync(path.join(root, "node_modules"))) throw new InputError(`${root} has no node_modules: run npm ci first`);
  if (o.stack !== undefined) checkStackName(root, base, label, o.stack);

  const baseLock = readLockfile(git(root, ["show", `${base.commit}:${base.prefix}package-lock.json`]).stdout, label);
  const hereLock = readLockfile(fs.readFileSync(path.join(root, "package-lock.json"), "utf8"), "the working tree");
  const lock = lockfileDifferences(baseLock, hereLock);
  if (lock.blocking.length > 0) {
    const shown = lock.blocking.slice(0, 12).map((l) => `  - ${l}`);
    throw new InputError(
      `${label} locks other versions of packages synthesis loads, so this checkout's node_modules cannot synthesize it as it was:\n` +
        `${shown.join("\n")}${lock.blocking.length > 12 ? `\n  - and ${lock.blocking.length - 12} more` : ""}\n` +
        "synth-diff supports the commits whose package-lock.json locks the same runtime dependencies and build tools as the working tree " +
        "(compare with a later commit, or check the other commit out with its own npm ci and run synth there)",
    );
  }
  const notes = lock.devOnly.length
    ? [
        `${label} locks other versions of ${lock.devOnly.length} development package${lock.devOnly.length === 1 ? "" : "s"} that synthesis does not load ` +
          `(${lock.devOnly.slice(0, 5).join("; ")}${lock.devOnly.length > 5 ? "; …" : ""}); it was synthesized with this checkout's.`,
      ]
    : [];

  const scratch = new Scratch(io, label);
  let baseStacks: Map<string, string>;
  let hereStacks: Map<string, string>;
  // Each side's template assets (assets/<id>/<hash>/<file>), read before the folder goes.
  const baseAssets = new Map<string, AssetFiles>();
  const hereAssets = new Map<string, AssetFiles>();
  try {
    const started = Date.now();
    const src = path.join(scratch.dir, "src");
    io.stderr(`synth-diff: exporting ${label} to ${scratch.dir}\n`);
    await exportCommit(scratch, base, src);
    if (!fs.existsSync(path.join(src, "node_modules"))) fs.symlinkSync(path.join(root, "node_modules"), path.join(src, "node_modules"), "dir");
    const other = synthesizeCommit(scratch, root, src, label);
    other.catch(() => undefined); // awaited below; the working tree is synthesized meanwhile
    const t0 = Date.now();
    const here = path.join(scratch.dir, "here");
    hereStacks = (deps.workingTree ?? ((dir: string) => synthesizeWorkingTree(undefined, dir)))(here);
    io.stderr(`synth-diff: working tree synthesized in ${seconds(Date.now() - t0)}\n`);
    baseStacks = await other;
    for (const n of hereStacks.keys()) hereAssets.set(n, readAssetFiles(path.join(here, "stacks", n)));
    for (const n of baseStacks.keys()) baseAssets.set(n, readAssetFiles(path.join(scratch.dir, "out", "stacks", n)));
    io.stderr(`synth-diff: ${label} exported and synthesized in ${seconds(Date.now() - started)}\n`);
  } catch (e) {
    if (!(e instanceof Interrupted)) throw e;
    const removed = scratch.remove();
    io.stderr(`synth-diff: interrupted (${e.signal}); ${removed ? `removed ${scratch.dir}` : `could not remove ${scratch.dir}: remove it by hand`}\n`);
    throw e;
  } finally {
    if (!scratch.remove()) io.stderr(`synth-diff: could not remove ${scratch.dir}: remove it by hand\n`);
  }

  const names = [...new Set([...baseStacks.keys(), ...hereStacks.keys()])].sort(compare);
  if (o.stack !== undefined && !names.includes(o.stack)) {
    throw new InputError(`no stack named '${o.stack}' in the working tree (${[...hereStacks.keys()].join(", ") || "none"}) or in ${label} (${[...baseStacks.keys()].join(", ") || "none"})`);
  }
  const parse = (text: string | undefined, where: string): { [k: string]: Json } | undefined => {
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as { [k: string]: Json };
    } catch (e) {
      throw new InputError(`${where} is not JSON: ${(e as Error).message}`);
    }
  };
  const diffs: StackDiff[] = names
    .filter((n) => o.stack === undefined || n === o.stack)
    .map((n) => diffDocuments(n, parse(baseStacks.get(n), `${label}: stack ${n}`), parse(hereStacks.get(n), `working tree: stack ${n}`)))
    .map((d) => withAssetChanges(d, baseAssets.get(d.stack), hereAssets.get(d.stack)));

  const meta: ReportMeta = { ref: o.ref, baseCommit: base.commit, head: headOf(root), notes };
  const lines = markdownLines(diffs, meta);
  const full = o.json ? renderJson(diffs, meta) : lines.join("\n") + "\n";
  if (out) writeOut(out, full);
  if (o.json) io.stdout(full);
  else {
    const pointer = o.out ? `the whole report is in ${o.out}` : `\`npm run synth-diff -- ${o.ref} --out <file>\` writes the whole report`;
    io.stdout(fitMarkdown(lines, MARKDOWN_LIMIT, pointer).text);
  }
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2), processIo()).then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
