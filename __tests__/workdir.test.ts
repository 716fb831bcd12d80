// Long: one file for lib/workdir (the refusals, reuse, the lock, the children's temporary folder, the interrupts): its cases share the checkout fixture and the option set.
// lib/workdir/index.ts: the output folder of plan-check (and migrate-state).
// Every refusal happens before anything is written; a run writes only into a
// folder it created or one holding its marker; one run at a time; private
// permissions; on failure or interrupt only what the run made goes.
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { openBackend, stateTerraform } from "../commands/migrate-state/backend-ops";
import { EARLIER, LOCK, MARKER, MAX_TMP_BYTES, TMP, WorkdirError, WorkdirOptions, fileSystemMessage, openWorkdir, refusal } from "../lib/workdir";
import { processesIn, until } from "./processes";

/** The marker of a temporary folder in the caller's TMPDIR (lib/workdir/private-tmp.ts). */
const OWNER = ".zivohealth-owner";
/** Where this process's pids mean something, as the marker records it: its pid namespace and the boot. */
const here = () => ({ pidns: fs.readlinkSync("/proc/self/ns/pid"), boot: fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() });

const temps: string[] = [];
afterAll(() => temps.forEach((t) => fs.rmSync(t, { recursive: true, force: true })));

/** A git checkout like this one: sources, cdktf.out/ ignored, an input beside them. */
function checkout(): string {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "zh-workdir-")));
  temps.push(root);
  spawnSync("git", ["init", "-q", root]);
  fs.writeFileSync(path.join(root, ".gitignore"), "cdktf.out/\n*.tfstate\n");
  fs.mkdirSync(path.join(root, "config"));
  fs.writeFileSync(path.join(root, "config", "environments.ts"), "export {};\n");
  fs.mkdirSync(path.join(root, "cdktf.out", "stacks", "production"), { recursive: true });
  fs.mkdirSync(path.join(root, "inputs", "modules", "compute"), { recursive: true });
  fs.writeFileSync(path.join(root, "inputs", "state.tfstate"), "{}");
  return root;
}

/** Every path under `dir`, for "nothing was written". */
function tree(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).sort();
}

const collected: string[] = [];
const options = (root: string, dir: string, extra: Partial<WorkdirOptions> = {}): WorkdirOptions => ({
  tool: "plan-check",
  dir: path.resolve(root, dir),
  shown: dir,
  checkout: root,
  inputs: [
    { flag: "--state", path: path.join(root, "inputs", "state.tfstate") },
    { flag: "--modules", path: path.join(root, "inputs", "modules") },
  ],
  reserved: [{ path: path.join(root, "cdktf.out", "stacks"), why: "cdktf synth replaces what is there" }],
  owned: ["stack", "report.md"],
  keep: ["stack/.terraform"],
  stderr: (t) => collected.push(t),
  ...extra,
});

describe("refused before anything is written", () => {
  const root = checkout();
  const before = tree(root);
  fs.writeFileSync(path.join(root, "cdktf.out", "a-file"), "x");
  fs.mkdirSync(path.join(root, "cdktf.out", "someone-elses"));
  fs.mkdirSync(path.join(root, "cdktf.out", "other-tool"));
  fs.writeFileSync(path.join(root, "cdktf.out", "other-tool", MARKER), JSON.stringify({ tool: "migrate-state" }));
  const prepared = tree(root);

  it.each([
    [".", `. is the checkout (${root}): plan-check writes only into a folder of its own; give one under cdktf.out/ or outside the checkout`],
    ["..", `.. holds the checkout (${root}): plan-check writes only into a folder of its own`],
    ["inputs", "inputs holds the --state input " + path.join(root, "inputs", "state.tfstate") + ": plan-check would write where its input is; give another folder"],
    ["inputs/modules", "inputs/modules holds the --modules folder " + path.join(root, "inputs", "modules") + ": plan-check would write where its input is; give another folder"],
    ["inputs/modules/compute/out", "inputs/modules/compute/out is inside the --modules folder " + path.join(root, "inputs", "modules") + ": plan-check would write among its input; give another folder"],
    ["cdktf.out", `cdktf.out holds ${path.join(root, "cdktf.out", "stacks")}: cdktf synth replaces what is there; give another folder`],
    ["cdktf.out/stacks/production/plan", `cdktf.out/stacks/production/plan is inside ${path.join(root, "cdktf.out", "stacks")}: cdktf synth replaces what is there; give another folder`],
    ["config", `config is inside the git checkout ${root} where git does not ignore it: what plan-check writes holds secrets and could be committed; give a folder under cdktf.out/ (ignored), one git ignores, or one outside the checkout`],
    ["new-folder", `new-folder is inside the git checkout ${root} where git does not ignore it: what plan-check writes holds secrets and could be committed; give a folder under cdktf.out/ (ignored), one git ignores, or one outside the checkout`],
    [".git/out", `.git/out is inside git's own folder (${path.join(root, ".git")})`],
    ["cdktf.out/a-file", "cdktf.out/a-file is a file, not a folder: give a folder (plan-check creates it)"],
    ["cdktf.out/someone-elses", `cdktf.out/someone-elses exists and was not made by plan-check (no ${MARKER} in it): give a folder that does not exist yet (plan-check creates it) or one it made before`],
    ["cdktf.out/other-tool", "cdktf.out/other-tool was made by migrate-state, not plan-check: give another folder"],
  ])("--out %s", (dir, message) => {
    expect(refusal(options(root, dir))).toBe(message);
    expect(() => openWorkdir(options(root, dir))).toThrow(new WorkdirError(message));
    expect(tree(root)).toEqual(prepared);
  });

  it("a folder outside a git checkout, inside the project: only cdktf.out/ is output", () => {
    const plain = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "zh-workdir-plain-")));
    temps.push(plain);
    fs.mkdirSync(path.join(plain, "modules"));
    expect(refusal(options(plain, "modules/out", { inputs: [], reserved: [] }))).toBe(
      `modules/out is inside the project ${plain}, which is not a git checkout: give a folder under cdktf.out/ or outside the project`,
    );
    expect(refusal(options(plain, "cdktf.out/plan-check", { inputs: [], reserved: [] }))).toBeUndefined();
    expect(tree(plain)).toEqual(["modules"]);
  });

  it("the checkout's own files were never touched", () => {
    expect(prepared.filter((p) => !p.startsWith("cdktf.out/a-file") && !p.startsWith("cdktf.out/someone") && !p.startsWith("cdktf.out/other-tool"))).toEqual(before);
  });
});

describe("a folder of its own", () => {
  it("creates the folder and its missing parents, private, with its marker; finish keeps the files, private, and drops the lock", () => {
    const root = checkout();
    const w = openWorkdir(options(root, "cdktf.out/plan-check/production"));
    expect(w.created).toBe(true);
    expect(w.dir).toBe(path.join(root, "cdktf.out", "plan-check", "production"));
    const mode = (p: string) => (fs.statSync(p).mode & 0o777).toString(8);
    expect(mode(path.join(root, "cdktf.out", "plan-check"))).toBe("700");
    expect(mode(w.dir)).toBe("700");
    expect(JSON.parse(fs.readFileSync(path.join(w.dir, MARKER), "utf8"))).toMatchObject({ tool: "plan-check", format: 1, checkout: root });
    expect(mode(path.join(w.dir, MARKER))).toBe("600");
    expect(mode(path.join(w.dir, LOCK))).toBe("600");
    // While the run holds the folder, what it creates is private (umask 077), for its children too.
    fs.writeFileSync(path.join(w.dir, "report.md"), "r");
    fs.mkdirSync(path.join(w.dir, "stack"));
    expect([mode(path.join(w.dir, "report.md")), mode(path.join(w.dir, "stack"))]).toEqual(["600", "700"]);
    fs.writeFileSync(path.join(w.dir, "stack", "plan.json"), "{}");
    fs.chmodSync(path.join(w.dir, "stack", "plan.json"), 0o644); // as a child with its own umask would leave it
    w.finish();
    expect(mode(path.join(w.dir, "stack", "plan.json"))).toBe("600");
    expect(tree(w.dir)).toEqual([MARKER, "report.md", "stack", "stack/plan.json"]);
  });

  it("reuses a folder holding its marker: sets aside what it owns but for the caches, leaves anything else alone; finish deletes what was set aside", () => {
    const root = checkout();
    const first = openWorkdir(options(root, "cdktf.out/pc"));
    fs.mkdirSync(path.join(first.dir, "stack", ".terraform"), { recursive: true });
    fs.writeFileSync(path.join(first.dir, "stack", ".terraform", "cache"), "c");
    fs.writeFileSync(path.join(first.dir, "stack", "plan.json"), "{}");
    fs.writeFileSync(path.join(first.dir, "report.md"), "old");
    fs.writeFileSync(path.join(first.dir, "notes.txt"), "the user's");
    first.finish();
    const second = openWorkdir(options(root, "cdktf.out/pc"));
    expect(second.created).toBe(false);
    expect(tree(second.dir)).toEqual([
      EARLIER,
      `${EARLIER}/report.md`,
      `${EARLIER}/stack`,
      `${EARLIER}/stack/plan.json`,
      MARKER,
      LOCK,
      "notes.txt",
      "stack",
      "stack/.terraform",
      "stack/.terraform/cache",
    ]);
    fs.writeFileSync(path.join(second.dir, "report.md"), "new");
    second.finish();
    expect(tree(second.dir)).toEqual([MARKER, "notes.txt", "report.md", "stack", "stack/.terraform", "stack/.terraform/cache"]);
    expect(fs.readFileSync(path.join(second.dir, "report.md"), "utf8")).toBe("new");
  });

  it("on failure, a folder it created goes, with the parents it created, and not one it found", () => {
    const root = checkout();
    const w = openWorkdir(options(root, "cdktf.out/deep/er/pc"));
    fs.mkdirSync(path.join(w.dir, "stack"));
    expect(w.abort()).toBe(`${path.join(root, "cdktf.out", "deep")}, which this run created`);
    expect(fs.readdirSync(path.join(root, "cdktf.out"))).toEqual(["stacks"]);
  });

  it("on failure in a reused folder, only what this run wrote goes: a cache it found stays, one it made goes", () => {
    const root = checkout();
    const first = openWorkdir(options(root, "cdktf.out/pc", { keep: ["stack/.terraform", "stack/.lock.hcl"] }));
    fs.mkdirSync(path.join(first.dir, "stack", ".terraform"), { recursive: true });
    first.finish();
    fs.writeFileSync(path.join(first.dir, "notes.txt"), "the user's");
    const second = openWorkdir(options(root, "cdktf.out/pc", { keep: ["stack/.terraform", "stack/.lock.hcl"] }));
    fs.writeFileSync(path.join(second.dir, "stack", ".lock.hcl"), "made by this run");
    fs.writeFileSync(path.join(second.dir, "stack", "plan.json"), "{}");
    fs.writeFileSync(path.join(second.dir, "report.md"), "half");
    expect(second.abort()).toBe("what this run wrote in cdktf.out/pc (stack/.lock.hcl, stack/plan.json, report.md)");
    expect(tree(second.dir)).toEqual([MARKER, "notes.txt", "stack", "stack/.terraform"]);
  });

  /** A folder an earlier run finished in: its report, its plan, its cache. */
  const earlierRun = (root: string) => {
    const first = openWorkdir(options(root, "cdktf.out/pc"));
    fs.mkdirSync(path.join(first.dir, "stack", ".terraform"), { recursive: true });
    fs.writeFileSync(path.join(first.dir, "stack", "plan.tfplan"), "the earlier plan");
    fs.writeFileSync(path.join(first.dir, "report.md"), "PASS (earlier)");
    first.finish();
    return first.dir;
  };

  it("a run that fails before it writes anything leaves the earlier results as they were, and says nothing was removed", () => {
    const root = checkout();
    const dir = earlierRun(root);
    const before = tree(dir);
    const w = openWorkdir(options(root, "cdktf.out/pc"));
    expect(w.abort()).toBeUndefined();
    expect(tree(dir)).toEqual(before);
    expect(fs.readFileSync(path.join(dir, "report.md"), "utf8")).toBe("PASS (earlier)");
    expect(fs.readFileSync(path.join(dir, "stack", "plan.tfplan"), "utf8")).toBe("the earlier plan");
  });

  it("a run that fails after writing: removes what it wrote, names exactly that, and puts the earlier results back", () => {
    const root = checkout();
    const dir = earlierRun(root);
    const before = tree(dir);
    const w = openWorkdir(options(root, "cdktf.out/pc"));
    fs.writeFileSync(path.join(dir, "stack", "main.tf.json"), "{}");
    fs.writeFileSync(path.join(dir, "stack", "plan.tfplan"), "half a plan");
    expect(w.abort()).toBe("what this run wrote in cdktf.out/pc (stack/main.tf.json, stack/plan.tfplan), and put back the earlier run's results (report.md, stack/plan.tfplan)");
    expect(tree(dir)).toEqual(before);
    expect(fs.readFileSync(path.join(dir, "stack", "plan.tfplan"), "utf8")).toBe("the earlier plan");
  });

  it("a run killed while the earlier results were aside: the next run removes its incomplete files and puts them back first, with a note", () => {
    const root = checkout();
    const dir = earlierRun(root);
    const killed = openWorkdir(options(root, "cdktf.out/pc"));
    fs.writeFileSync(path.join(dir, "report.md"), "half");
    // As a SIGKILL leaves it: the lock of a process that is gone.
    const gone = spawnSync("bash", ["-c", "echo $$"], { encoding: "utf8" }).stdout.trim();
    fs.writeFileSync(path.join(dir, LOCK), JSON.stringify({ pid: Number(gone), host: os.hostname(), started: "2025-01-01T00:00:00.000Z", command: "plan-check" }));
    collected.length = 0;
    const next = openWorkdir(options(root, "cdktf.out/pc"));
    expect(collected).toEqual([
      `note: cdktf.out/pc: removed the lock of pid ${gone} (started 2025-01-01T00:00:00.000Z), which is no longer running\n`,
      "note: cdktf.out/pc: a run that did not finish left its files there: removed them (report.md) and put back the results of the run before it (report.md, stack/plan.tfplan)\n",
    ]);
    expect(next.abort()).toBeUndefined();
    killed.finish(); // this process's bookkeeping only: its folder was handled above
    expect(fs.readFileSync(path.join(dir, "report.md"), "utf8")).toBe("PASS (earlier)");
    expect(tree(dir)).toEqual([MARKER, "report.md", "stack", "stack/.terraform", "stack/plan.tfplan"]);
  });

  it("a reused folder holding a backup file (where it is, or set aside by a killed run): refused, naming it, nothing touched", () => {
    const root = checkout();
    const first = openWorkdir(options(root, "cdktf.out/pc", { owned: ["original.tfstate", "report.md"] }));
    fs.writeFileSync(path.join(first.dir, "original.tfstate"), "the state before");
    first.finish();
    const backups = [{ name: "original.tfstate", what: "the only backup of serial 317" }];
    const before = tree(first.dir);
    const message = (file: string) =>
      "cdktf.out/pc holds original.tfstate, the only backup of serial 317: plan-check never deletes or replaces it. " +
      `Give another folder; or, once you have kept that file elsewhere (or know you no longer need it), move ${file} out of the folder`;
    expect(() => openWorkdir(options(root, "cdktf.out/pc", { owned: ["original.tfstate", "report.md"], backups }))).toThrow(new WorkdirError(message(path.join(first.dir, "original.tfstate"))));
    expect(tree(first.dir)).toEqual(before);
    fs.mkdirSync(path.join(first.dir, EARLIER));
    fs.renameSync(path.join(first.dir, "original.tfstate"), path.join(first.dir, EARLIER, "original.tfstate"));
    expect(refusal(options(root, "cdktf.out/pc", { backups }))).toBe(message(path.join(first.dir, EARLIER, "original.tfstate")));
  });
});

describe("another command's runs inside the folder (migrate-state's verification plans)", () => {
  it("stopNested stops their child processes at once, removes what they made, refuses new ones there; the outer run is left to its caller", async () => {
    const root = checkout();
    const outer = openWorkdir(options(root, "cdktf.out/outer", { tool: "migrate-state", owned: ["work"] }));
    fs.mkdirSync(path.join(outer.dir, "work"));
    const inner = openWorkdir(options(root, "cdktf.out/outer/work/plan", { owned: ["stack"] }));
    fs.mkdirSync(path.join(inner.dir, "stack"));
    const started = Date.now();
    let settled = false;
    void inner.run("sleep", ["60"], { cwd: inner.dir, env: process.env, timeoutMs: 120_000 }).then(() => (settled = true));
    // Stopped once it runs (`sleep`, not a copy of this process about to become it).
    expect(await until(() => processesIn(inner.dir).some((p) => p.includes(" (sleep 60) ")), 10_000)).toBe(true);
    const notes = await outer.stopNested();
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(new RegExp(`^plan-check: stopped 1 child process\\(es\\) \\(pid \\d+\\); removed ${inner.dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}, which this run created$`));
    expect(inner.interrupted).toBe(true);
    expect(settled).toBe(false); // an interrupted run's caller must not go on
    expect(fs.readdirSync(path.join(outer.dir, "work"))).toEqual([]);
    expect(() => openWorkdir(options(root, "cdktf.out/outer/work/plan2", { owned: ["stack"] }))).toThrow(
      new WorkdirError(`cdktf.out/outer/work/plan2: not opened: the run of ${outer.dir} that it belongs to was interrupted`),
    );
    expect(outer.abort()).toBe(`${outer.dir}, which this run created`);
    // Once the outer run is over, the folder may be used again.
    openWorkdir(options(root, "cdktf.out/outer/work/plan", { owned: ["stack"] })).abort();
  });
});

/**
 * A `terraform` that records the TMPDIR, TMP and TEMP it was started with, and its pid (in $RECORD), and leaves in TMPDIR what an
 * interrupted provider leaves there: its plugin socket folder.
 */
function fakeTerraform(root: string): string {
  const bin = path.join(root, "fake-terraform");
  fs.writeFileSync(bin, '#!/bin/sh\nprintf "%s\\n%s\\n%s\\n%s\\n" "$TMPDIR" "$TMP" "$TEMP" "$$" > "$RECORD"\nmkdir "$TMPDIR/plugin4242" && : > "$TMPDIR/plugin4242/plugin"\n', { mode: 0o755 });
  return bin;
}

describe("the child processes' temporary folder (TMPDIR, TMP, TEMP): the run's own, gone with it", () => {
  const started = async (root: string, dir: string, callerEnv: NodeJS.ProcessEnv = process.env) => {
    const w = openWorkdir(options(root, dir, { env: callerEnv }));
    fs.mkdirSync(path.join(w.dir, "stack"));
    fs.writeFileSync(path.join(w.dir, "report.md"), "this run's");
    const record = path.join(root, "env.txt");
    const env: NodeJS.ProcessEnv = { ...callerEnv, RECORD: record };
    const r = await w.run(fakeTerraform(root), ["plan"], { cwd: path.join(w.dir, "stack"), env, timeoutMs: 30_000 });
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(env.TMPDIR).toBe(callerEnv.TMPDIR); // the caller's environment is left as it was
    const [tmpdir, tmp, temp] = fs.readFileSync(record, "utf8").split("\n");
    expect([tmp, temp]).toEqual([tmpdir, tmpdir]);
    // One of the run's own in the caller's TMPDIR holds the marker of lib/workdir/private-tmp.ts too.
    expect(fs.readdirSync(tmpdir).sort()).toEqual(path.basename(tmpdir).startsWith("zivohealth-") ? [OWNER, "plugin4242"] : ["plugin4242"]);
    return { w, tmpdir };
  };

  it("in the run's folder; a run that finishes removes it with what the child left there, and keeps its results", async () => {
    const root = checkout();
    const { w, tmpdir } = await started(root, "cdktf.out/pc");
    expect(tmpdir).toBe(path.join(w.dir, TMP));
    expect(fs.statSync(tmpdir).mode & 0o777).toBe(0o700);
    w.finish();
    expect(tree(w.dir)).toEqual([MARKER, "report.md", "stack"]);
  });

  it("a run that fails in a reused folder removes it; the earlier results come back, nothing else is touched", async () => {
    const root = checkout();
    const first = openWorkdir(options(root, "cdktf.out/pc"));
    fs.writeFileSync(path.join(first.dir, "report.md"), "earlier");
    first.finish();
    fs.writeFileSync(path.join(root, "cdktf.out", "pc", "notes.txt"), "the user's");
    const { w } = await started(root, "cdktf.out/pc");
    expect(w.abort()).toBe("what this run wrote in cdktf.out/pc (stack, report.md), and put back the earlier run's results (report.md)");
    expect(tree(w.dir)).toEqual([MARKER, "notes.txt", "report.md"]);
    expect(fs.readFileSync(path.join(w.dir, "report.md"), "utf8")).toBe("earlier");
  });

  it("one a killed run left in a reused folder: removed when the next run opens it, and said", () => {
    const root = checkout();
    openWorkdir(options(root, "cdktf.out/pc")).finish();
    fs.mkdirSync(path.join(root, "cdktf.out", "pc", TMP, "plugin4242"), { recursive: true });
    collected.length = 0;
    const w = openWorkdir(options(root, "cdktf.out/pc"));
    expect(collected).toEqual([`note: cdktf.out/pc: removed the temporary folder ${TMP} of a run that did not finish\n`]);
    expect(tree(w.dir)).toEqual([MARKER, LOCK]);
    w.finish();
  });

  it("a folder whose path is too long for a provider's socket: a folder of the run's own in the caller's TMPDIR, marked as this process's and its children's, removed on failure; one a killed run left there goes first, with a note", async () => {
    const root = checkout();
    const callerTmp = fs.mkdtempSync(path.join(root, "t"));
    const marker = (...pids: number[]) => `${JSON.stringify({ by: "zivohealth private-tmp", format: 2, tool: "plan-check", host: os.hostname(), ...here(), pids })}\n`;
    const gone = Number(spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" }).stdout.trim());
    for (const [name, pid] of [["zivohealth-plan-check-killed", gone], ["zivohealth-plan-check-living", process.pid]] as const) {
      fs.mkdirSync(path.join(callerTmp, name, "plugin4242"), { recursive: true });
      fs.writeFileSync(path.join(callerTmp, name, OWNER), marker(pid));
    }
    const deep = `cdktf.out/${"d".repeat(Math.max(1, MAX_TMP_BYTES - root.length))}/pc`;
    collected.length = 0;
    const { w, tmpdir } = await started(root, deep, { ...process.env, TMPDIR: callerTmp });
    expect(collected).toEqual([`note: removed ${callerTmp}/zivohealth-plan-check-killed, the temporary folder of a run that was killed (pids ${gone}, no longer running)\n`]);
    expect(Buffer.byteLength(path.join(w.dir, TMP))).toBeGreaterThan(MAX_TMP_BYTES);
    expect(tmpdir).toMatch(new RegExp(`^${callerTmp}/zivohealth-plan-check-\\w{6}$`));
    // This process's pid, and its child's while it used the folder.
    const child = Number(fs.readFileSync(path.join(root, "env.txt"), "utf8").split("\n")[3]);
    expect(fs.readFileSync(path.join(tmpdir, OWNER), "utf8")).toBe(marker(process.pid, child));
    expect(w.abort()).toBe(`${path.join(root, "cdktf.out", deep.split("/")[1])}, which this run created`);
    expect(tree(callerTmp)).toEqual(["zivohealth-plan-check-living", `zivohealth-plan-check-living/${OWNER}`, "zivohealth-plan-check-living/plugin4242"]);
  });

  /** A folder under `root` `bytes` long (made), and a folder `cdktf.out/…/pc` too deep for the run's own temporary folder. */
  const tooDeep = (root: string, bytes: number) => {
    const callerTmp = path.join(root, "t".repeat(bytes - root.length - 1));
    fs.mkdirSync(callerTmp);
    return { callerTmp, deep: `cdktf.out/${"d".repeat(Math.max(1, MAX_TMP_BYTES - root.length))}/pc` };
  };

  it("too deep, and a TMPDIR too long for a folder of the run's own (70 bytes): the children run in that TMPDIR itself, one note says so; it stays", async () => {
    const root = checkout();
    const { callerTmp, deep } = tooDeep(root, 70);
    collected.length = 0;
    const { w, tmpdir } = await started(root, deep, { ...process.env, TMPDIR: callerTmp });
    expect(tmpdir).toBe(callerTmp);
    await w.run(fakeTerraform(root), ["plan"], { cwd: path.join(w.dir, "stack"), env: process.env, timeoutMs: 30_000 });
    const inFolder = path.join(w.dir, TMP);
    expect(collected).toEqual([
      `note: ${deep}: no temporary folder of the run's own for its Terraform: ${inFolder} would be ${Buffer.byteLength(inFolder)} bytes and ${callerTmp}/zivohealth-plan-check-XXXXXX 99 bytes, ` +
        `and a provider's socket in it must fit in 107 (at most ${MAX_TMP_BYTES} bytes for the folder); it runs in TMPDIR ${callerTmp} itself, ` +
        "where an interrupted Terraform may leave its plugin socket (a file plugin<digits>). Set TMPDIR to a shorter folder (TMPDIR=/tmp) to avoid it\n",
    ]);
    w.finish();
    expect(tree(callerTmp)).toEqual(["plugin4242", "plugin4242/plugin"]); // the caller's, as the note says
  });

  it("too deep, and a TMPDIR over 90 bytes (no provider could start): refused before anything is written, naming TMPDIR and the limit", () => {
    const root = checkout();
    const { callerTmp, deep } = tooDeep(root, MAX_TMP_BYTES + 1);
    const before = tree(root);
    const o = options(root, deep, { env: { ...process.env, TMPDIR: callerTmp } });
    const why =
      `TMPDIR ${callerTmp} is ${MAX_TMP_BYTES + 1} bytes, over the ${MAX_TMP_BYTES} a Terraform provider's socket leaves (<TMPDIR>/plugin<digits>, 107 bytes at most), ` +
      `and ${deep} is too deep for a temporary folder of the run's own (${Buffer.byteLength(path.join(root, deep, TMP))} bytes): set TMPDIR to a shorter folder (TMPDIR=/tmp)`;
    expect(refusal(o)).toBe(why);
    expect(() => openWorkdir(o)).toThrow(new WorkdirError(why));
    expect(tree(root)).toEqual(before);
    // Where the run's folder holds its own, that TMPDIR is of no concern.
    openWorkdir(options(root, "cdktf.out/pc", { env: { ...process.env, TMPDIR: callerTmp } })).finish();
  });

  it("too deep, a relative TMPDIR: the folder of the run's own is made in it, against the process's folder, and the children get its absolute path", async () => {
    const root = checkout();
    const callerTmp = path.join(root, "t");
    fs.mkdirSync(callerTmp);
    const cwd = process.cwd();
    process.chdir(root);
    try {
      const { w, tmpdir } = await started(root, `cdktf.out/${"d".repeat(Math.max(1, MAX_TMP_BYTES - root.length))}/pc`, { ...process.env, TMPDIR: "t" });
      expect(tmpdir).toMatch(new RegExp(`^${callerTmp}/zivohealth-plan-check-\\w{6}$`));
      w.finish();
    } finally {
      process.chdir(cwd);
    }
    expect(fs.readdirSync(callerTmp)).toEqual([]);
  });

  it("migrate-state's Terraform processes started outside run (init, the lock's holder, the push, detached: they may outlive it) are named in the marker while they run", async () => {
    const root = checkout();
    const callerTmp = fs.mkdtempSync(path.join(root, "t"));
    const w = openWorkdir(options(root, `cdktf.out/${"d".repeat(Math.max(1, MAX_TMP_BYTES - root.length))}/m`, { tool: "migrate-state", env: { ...process.env, TMPDIR: callerTmp } }));
    const record = path.join(root, "record.txt");
    const bin = path.join(root, "terraform");
    // Each logs its command and whether the marker named it (it waits up to 2 s for that), then does what migrate-state needs of it.
    // The push runs behind a shell that waits for it (backend-ops' HOLDING_SHELL): that shell, its parent, is the one named.
    fs.writeFileSync(
      bin,
      "#!/bin/sh\n" +
        'me=$$; if [ "$1" = state ]; then me=$PPID; fi\n' +
        `i=0; until grep -q "[[,]$me[],]" "$TMPDIR/${OWNER}" || [ $i -ge 100 ]; do sleep 0.02; i=$((i+1)); done\n` +
        `if grep -q "[[,]$me[],]" "$TMPDIR/${OWNER}"; then echo "$1 named" >> "$RECORD"; else echo "$1 not named" >> "$RECORD"; fi\n` +
        'case "$1" in\n' +
        `  init) mkdir -p .terraform && echo '{"backend":{"type":"local","config":{"path":"${path.join(root, "inputs", "state.tfstate")}"}}}' > .terraform/terraform.tfstate ;;\n` +
        '  console) IFS= read -r expr; fifo=${expr#file(\\"}; cat "${fifo%\\")}" > /dev/null; cat > /dev/null ;;\n' +
        "esac\n",
      { mode: 0o755 },
    );
    const tf = stateTerraform(bin, { ...w.childEnv(process.env), RECORD: record }, undefined, w.adopt);
    const state = path.join(root, "inputs", "state.tfstate");
    const backend = await openBackend(tf, path.join(w.dir, "work"), { identity: { type: "local", path: state }, block: { local: { path: state } } });
    const hold = await backend.lock();
    expect((await backend.push(state, hold)).code).toBe(0);
    expect(await hold.release()).toBeUndefined();
    w.finish();
    expect(fs.readFileSync(record, "utf8")).toBe("init named\nconsole named\nstate named\n");
  }, 30_000);
});

describe("one run at a time per folder", () => {
  it("a second run is refused, naming the holder: pid, host, start time", () => {
    const root = checkout();
    const w = openWorkdir(options(root, "cdktf.out/pc"));
    const held = JSON.parse(fs.readFileSync(path.join(w.dir, LOCK), "utf8"));
    expect(held).toMatchObject({ pid: process.pid, host: os.hostname() });
    expect(() => openWorkdir(options(root, "cdktf.out/pc"))).toThrow(
      `cdktf.out/pc is in use by another plan-check run: pid ${process.pid} on ${os.hostname()}, started ${held.started} (${held.command}). Wait for it to finish, or give another folder`,
    );
    w.finish();
    openWorkdir(options(root, "cdktf.out/pc")).finish();
  });

  it("a lock whose process is gone is taken over, and said", () => {
    const root = checkout();
    openWorkdir(options(root, "cdktf.out/pc")).finish();
    const gone = spawnSync("bash", ["-c", "echo $$"], { encoding: "utf8" }).stdout.trim();
    const lock = path.join(root, "cdktf.out", "pc", LOCK);
    fs.writeFileSync(lock, JSON.stringify({ pid: Number(gone), host: os.hostname(), started: "2025-01-01T00:00:00.000Z", command: "plan-check" }));
    collected.length = 0;
    const w = openWorkdir(options(root, "cdktf.out/pc"));
    expect(collected).toEqual([`note: cdktf.out/pc: removed the lock of pid ${gone} (started 2025-01-01T00:00:00.000Z), which is no longer running\n`]);
    w.finish();
  });

  it("a lock of another host cannot be judged from here: refused, with how to clear it", () => {
    const root = checkout();
    openWorkdir(options(root, "cdktf.out/pc")).finish();
    const lock = path.join(root, "cdktf.out", "pc", LOCK);
    fs.writeFileSync(lock, JSON.stringify({ pid: 4242, host: "elsewhere", started: "2025-01-01T00:00:00.000Z", command: "plan-check --offline" }));
    expect(refusal(options(root, "cdktf.out/pc"))).toBeUndefined(); // a marked folder: the lock decides
    expect(() => openWorkdir(options(root, "cdktf.out/pc"))).toThrow(
      `cdktf.out/pc is in use by another plan-check run: pid 4242 on elsewhere, started 2025-01-01T00:00:00.000Z (plan-check --offline). Wait for it to finish, or give another folder; if that run is gone, remove ${lock}`,
    );
  });
});

describe("file-system failures in words", () => {
  it.each([
    ["ENOSPC", "cannot write /x/report.md: no space left on the device (ENOSPC)"],
    ["EROFS", "cannot write /x/report.md: the file system is read-only (EROFS)"],
    ["EACCES", "cannot write /x/report.md: permission denied (EACCES)"],
  ])("%s", (code, message) => {
    expect(fileSystemMessage(Object.assign(new Error("raw"), { code, path: "/x/report.md" }))).toBe(message);
  });

  it("a folder that cannot be created (a file in the way): an exit-2 message, nothing left", () => {
    const root = checkout();
    fs.writeFileSync(path.join(root, "cdktf.out", "a-file"), "x");
    const dir = path.join(root, "cdktf.out", "a-file", "pc");
    expect(() => openWorkdir(options(root, "cdktf.out/a-file/pc"))).toThrow(new WorkdirError(`cannot write ${dir}: a file is in the way of a folder (ENOTDIR)`));
    expect(tree(path.join(root, "cdktf.out"))).toEqual(["a-file", "stacks", "stacks/production"]);
  });
});

describe("an interrupt", () => {
  it.each(["SIGINT", "SIGTERM"] as const)("%s stops the child processes, removes what the run made, says so, exits 130/143", async (signal) => {
    const root = checkout();
    const dir = path.join(root, "cdktf.out", "pc");
    // The driver's own TMPDIR, empty: its child leaves a plugin socket folder in the TMPDIR it gets, as a provider does.
    const callerTmp = fs.mkdtempSync(path.join(root, "t"));
    const driver = spawn(process.execPath, ["-r", path.join(__dirname, "fixtures", "swc-register.js"), path.join(__dirname, "fixtures", "workdir-driver.ts"), dir, root], {
      cwd: path.join(__dirname, ".."),
      env: { ...process.env, TMPDIR: callerTmp },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    driver.stderr.on("data", (d) => (stderr += d));
    const childPid = await new Promise<number>((resolve, reject) => {
      driver.stdout.on("data", (d) => {
        stdout += d;
        const m = /ready (\d+)/.exec(stdout);
        if (m) resolve(Number(m[1]));
      });
      driver.on("exit", () => reject(new Error(`the driver exited early: ${stderr}`)));
    });
    expect(fs.existsSync(path.join(dir, "stack", "half-made.json"))).toBe(true);
    expect(fs.readdirSync(path.join(dir, TMP))).toEqual([`plugin${childPid}`]);
    // "close": the process has exited and its output pipes are closed (nothing of it outlives the test).
    const exited = new Promise<number | null>((resolve) => driver.on("close", (code) => resolve(code)));
    driver.kill(signal);
    expect(await exited).toBe(signal === "SIGINT" ? 130 : 143);
    expect(stderr).toBe(`driver: interrupted (${signal}): stopped 1 child process(es) (pid ${childPid}); removed ${dir}, which this run created\n`);
    expect(fs.readdirSync(path.join(root, "cdktf.out"))).toEqual(["stacks"]);
    expect(fs.readdirSync(callerTmp)).toEqual([]);
    expect(() => process.kill(childPid, 0)).toThrow(expect.objectContaining({ code: "ESRCH" }));
  }, 30_000);
});
