// The Terraform processes `npm run deploy -- --plan` starts (commands/cdktf/deploy-plan.ts) and the cdktf
// CLI the cdktf wrapper starts (commands/cdktf/index.ts), with fakes that record their TMPDIR, TMP and TEMP
// and leave in TMPDIR what a provider stopped by an interrupt leaves there (its plugin socket folder): each
// gets a private folder of its own in the caller's TMPDIR, gone when it ends, however it ends; one a SIGKILL of the
// process group leaves, the next run removes; where that folder's path would be too long, the child runs in the
// caller's TMPDIR, with a note.
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { main, runCdktf } from "../commands/cdktf";
import { inheritRunner } from "../commands/cdktf/deploy-plan";
import { MAX_TMP_BYTES, runInPrivateTmp } from "../lib/workdir";
import { MARKER_UNWRITTEN, REMOVER, makePrivateTmp } from "../lib/workdir/private-tmp";
import { tempDir } from "./tmp";

/**
 * The marker of a private folder (lib/workdir/private-tmp.ts), and what it says: the host, the pid namespace and the boot
 * (as /proc says them here), and the pids of the command and of the `sh` that removes the folder.
 */
const OWNER = ".zivohealth-owner";
const HERE = { pidns: fs.readlinkSync("/proc/self/ns/pid"), boot: fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() };
const owner = (tool: string, pids: readonly number[], host = os.hostname(), o: { format?: number; pidns?: string | null; boot?: string | null } = {}) =>
  `${JSON.stringify({ by: "zivohealth private-tmp", format: o.format ?? 2, tool, host, pidns: o.pidns === undefined ? HERE.pidns : o.pidns, boot: o.boot === undefined ? HERE.boot : o.boot, pids })}\n`;

/**
 * A `terraform` that records TMPDIR, TMP, TEMP and its parent's pid (in $RECORD), leaves `plugin123` in TMPDIR, says `ready` on
 * stdout, then exits with its first argument; with `wait`, it waits to be interrupted and exits 1 on SIGINT, as
 * Terraform does once it has stopped.
 */
function fakeTerraform(dir: string): string {
  const bin = path.join(dir, "terraform");
  fs.writeFileSync(
    bin,
    '#!/bin/sh\nprintf "%s\\n%s\\n%s\\n%s\\n" "$TMPDIR" "$TMP" "$TEMP" "$PPID" > "$RECORD"\nmkdir "$TMPDIR/plugin123" && : > "$TMPDIR/plugin123/plugin"\n' +
      'if [ "$1" = wait ]; then trap \'echo "Interrupt received." >&2; exit 1\' INT; echo ready; while :; do sleep 0.05; done; fi\necho ready\nexit "$1"\n',
    { mode: 0o755 },
  );
  return bin;
}

/** A cdktf CLI (a node script) that does the same; with `wait`, it is killed by the SIGINT (no handler). */
function fakeCdktf(dir: string): string {
  const script = path.join(dir, "cdktf.js");
  fs.writeFileSync(
    script,
    'const fs = require("fs"), path = require("path"), e = process.env;\n' +
      'fs.writeFileSync(e.RECORD, [e.TMPDIR, e.TMP, e.TEMP, process.ppid, ""].join("\\n"));\n' +
      'fs.mkdirSync(path.join(e.TMPDIR, "plugin123")); fs.writeFileSync(path.join(e.TMPDIR, "plugin123", "plugin"), "");\n' +
      'process.stdout.write("ready\\n");\n' +
      'if (process.argv[2] === "wait") setInterval(() => undefined, 1000); else process.exitCode = Number(process.argv[2]);\n',
  );
  return script;
}

/** The caller's TMPDIR (empty), a folder for the fakes, and the environment that names them. */
function setUp() {
  const root = tempDir("zh-cdktf-tmp-");
  const callerTmp = path.join(root, "t");
  fs.mkdirSync(callerTmp);
  const record = path.join(root, "env.txt");
  return { root, callerTmp, record, env: { ...process.env, TMPDIR: callerTmp, TMP: callerTmp, TEMP: callerTmp, RECORD: record } };
}

/** What the child was given: its TMPDIR, a folder of its own in the caller's TMPDIR, also its TMP and TEMP. */
function childTmp(record: string, callerTmp: string, tool: string): string {
  const [tmpdir, tmp, temp] = fs.readFileSync(record, "utf8").split("\n");
  expect(tmpdir).toMatch(new RegExp(`^${callerTmp}/zivohealth-${tool}-\\w{6}$`));
  expect([tmp, temp]).toEqual([tmpdir, tmpdir]);
  return tmpdir;
}

/** Runs `fn` with process.env as `env` (the runners read process.env, as the commands do). */
function withProcessEnv<T>(env: NodeJS.ProcessEnv, fn: () => T): T {
  const saved = process.env;
  process.env = env;
  try {
    return fn();
  } finally {
    process.env = saved;
  }
}

describe("deploy --plan's terraform and the cdktf CLI get a private TMPDIR, removed when they end", () => {
  it.each([
    ["success", "0", 0],
    ["a failing apply", "1", 1],
  ])("terraform, %s: its own TMPDIR, TMP and TEMP; afterwards the caller's TMPDIR is empty", (_name, arg, code) => {
    const { root, callerTmp, record, env } = setUp();
    expect(inheritRunner.terraform(fakeTerraform(root), [arg], root, env)).toBe(code);
    childTmp(record, callerTmp, "deploy");
    expect(fs.readdirSync(callerTmp)).toEqual([]);
  });

  it("terraform show -json (deploy --plan judges the plan again): its own TMPDIR too; its stdout returned, the file that held it (mode 0600) gone", () => {
    const { root, callerTmp, record, env } = setUp();
    const bin = path.join(root, "terraform");
    // A terraform that records its TMPDIR, prints a plan's JSON for `show -json <file>`, and says the mode of its stdout.
    fs.writeFileSync(
      bin,
      '#!/bin/sh\nprintf "%s\\n%s\\n%s\\n%s\\n" "$TMPDIR" "$TMP" "$TEMP" "$PPID" > "$RECORD"\n' +
        '[ "$1 $2" = "show -json" ] || exit 9\nstat -L -c %a /proc/self/fd/1 > "$RECORD.mode"\nprintf \'{"format_version":"1.2","plan":"%s"}\' "$3"\n',
      { mode: 0o755 },
    );
    expect(inheritRunner.show(bin, "the.tfplan", root, env)).toEqual({ code: 0, json: '{"format_version":"1.2","plan":"the.tfplan"}' });
    childTmp(record, callerTmp, "deploy");
    expect(fs.readFileSync(`${record}.mode`, "utf8")).toBe("600\n");
    expect(fs.readdirSync(callerTmp)).toEqual([]);
    expect(fs.readdirSync(root).filter((f) => f.startsWith(".deploy-plan"))).toEqual([]);
    expect(inheritRunner.show(path.join(root, "no-such-terraform"), "the.tfplan", root, env).code).toBe(127);
  });

  it.each([
    ["success", "0", 0],
    ["a failing deploy", "1", 1],
  ])("the cdktf CLI, %s: its own TMPDIR, TMP and TEMP; afterwards the caller's TMPDIR is empty", (_name, arg, code) => {
    const { root, callerTmp, record, env } = setUp();
    expect(withProcessEnv(env, () => runCdktf([arg], fakeCdktf(root)))).toBe(code);
    childTmp(record, callerTmp, "cdktf");
    expect(fs.readdirSync(callerTmp)).toEqual([]);
  });

  /** Starts the driver (deploy --plan's runner or the cdktf wrapper's) in a process group of its own, as a terminal's foreground job; resolves when its child is ready. */
  async function started(which: "terraform" | "cdktf", fake: string, env: NodeJS.ProcessEnv, cwd: string) {
    const driver = spawn(process.execPath, ["-r", path.join(__dirname, "fixtures", "swc-register.js"), path.join(__dirname, "fixtures", "cdktf-tmp-driver.ts"), which, fake, "wait"], {
      cwd,
      env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    driver.stderr.on("data", (d) => (stderr += d));
    // "close": every process holding its output (the child included) has ended.
    const state = { ended: false };
    const closed = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => driver.on("close", (code, signal) => ((state.ended = true), resolve([code, signal]))));
    const ready = new Promise<void>((resolve, reject) => {
      driver.stdout.on("data", (d) => {
        stdout += d;
        if (stdout.includes("ready")) resolve();
      });
      driver.on("exit", () => reject(new Error(`the driver exited early: ${stderr}`)));
    });
    // Nothing of it outlives a failed case.
    const stop = () => state.ended || process.kill(-driver.pid!, "SIGKILL");
    try {
      await ready;
    } catch (e) {
      stop();
      throw e;
    }
    return { driver, closed, stop };
  }

  it.each([
    ["terraform", "deploy", "stops and exits 1", fakeTerraform],
    ["cdktf", "cdktf", "is killed by it", fakeCdktf],
  ] as const)("Ctrl-C (SIGINT to the process group) while %s runs: the child %s, the command dies by SIGINT as before, the caller's TMPDIR is empty", async (which, tool, _how, fake) => {
    const { root, callerTmp, record, env } = setUp();
    const { driver, closed, stop } = await started(which, fake(root), env, root);
    try {
      const [tmpdir, , , sh] = fs.readFileSync(record, "utf8").split("\n");
      expect(fs.readdirSync(tmpdir).sort()).toEqual([OWNER, "plugin123"]);
      // Who removes it: the command (the driver) and the `sh` between it and the child, the child's parent.
      expect(fs.readFileSync(path.join(tmpdir, OWNER), "utf8")).toBe(owner(tool, [driver.pid!, Number(sh)]));
      process.kill(-driver.pid!, "SIGINT");
      expect(await closed).toEqual([null, "SIGINT"]);
      childTmp(record, callerTmp, tool);
      expect(fs.readdirSync(callerTmp)).toEqual([]);
    } finally {
      stop();
    }
  }, 30_000);

  /** Each entry under `dir` (symbolic links not followed): its type, mode, owner, and a file's text or a link's target. */
  function snapshot(dir: string, rel = ""): Record<string, string> {
    const out: Record<string, string> = {};
    for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
      const r = path.join(rel, name);
      const p = path.join(dir, r);
      const st = fs.lstatSync(p);
      const what = st.isSymbolicLink() ? `-> ${fs.readlinkSync(p)}` : st.isFile() ? fs.readFileSync(p, "utf8") : "";
      out[r] = `${st.mode.toString(8)} ${st.uid} ${what}`;
      if (st.isDirectory()) Object.assign(out, snapshot(dir, r));
    }
    return out;
  }

  it("the command killed alone (SIGKILL to its pid): its child's folder still goes when the child ends; SIGKILL to the whole process group leaves it, and the next run removes it, with a note", async () => {
    const { root, callerTmp, record, env } = setUp();
    const alone = await started("terraform", fakeTerraform(root), env, root);
    try {
      process.kill(alone.driver.pid!, "SIGKILL");
      const tmpdir = childTmp(record, callerTmp, "deploy");
      expect(fs.readdirSync(tmpdir).sort()).toEqual([OWNER, "plugin123"]); // Terraform still runs
      process.kill(-alone.driver.pid!, "SIGINT"); // ... until it is stopped
      expect(await alone.closed).toEqual([null, "SIGKILL"]);
      expect(fs.readdirSync(callerTmp)).toEqual([]);
    } finally {
      alone.stop();
    }
    const group = await started("terraform", fakeTerraform(root), env, root);
    process.kill(-group.driver.pid!, "SIGKILL");
    expect(await group.closed).toEqual([null, "SIGKILL"]);
    const left = childTmp(record, callerTmp, "deploy");
    const pids = [group.driver.pid!, Number(fs.readFileSync(record, "utf8").split("\n")[3])];
    expect(fs.readdirSync(callerTmp)).toEqual([path.basename(left)]);
    expect(fs.readdirSync(left).sort()).toEqual([OWNER, "plugin123"]);
    expect(fs.readFileSync(path.join(left, OWNER), "utf8")).toBe(owner("deploy", pids));

    // Beside it: what the next run must leave as it is, and another tool's folder killed so, which it removes too.
    const put = (name: string, marker?: string) => {
      const dir = path.join(callerTmp, name);
      fs.mkdirSync(path.join(dir, "plugin77"), { recursive: true, mode: 0o700 });
      if (marker !== undefined) fs.writeFileSync(path.join(dir, OWNER), marker, { mode: 0o600 });
      return dir;
    };
    const cdktfLeft = put("zivohealth-cdktf-killed", owner("cdktf", pids));
    put("zivohealth-deploy-nomark");
    put("zivohealth-deploy-badjsn", owner("deploy", pids).slice(0, 40));
    put("zivohealth-deploy-pid0ne", owner("deploy", [0]));
    put("zivohealth-deploy-living", owner("deploy", [pids[0], process.pid]));
    put("zivohealth-deploy-elsewh", owner("deploy", pids, "elsewhere"));
    put("zivohealth-deploy-notour", JSON.stringify({ host: os.hostname(), pids }));
    // Pids of another pid namespace (another container sharing this TMPDIR and host name) or of another boot mean nothing here;
    // nor do they where only one side has /proc to say; a marker of the format before those were recorded is never swept.
    put("zivohealth-deploy-othrns", owner("deploy", pids, undefined, { pidns: "pid:[4026532999]" }));
    put("zivohealth-deploy-othrbt", owner("deploy", pids, undefined, { boot: "00000000-0000-0000-0000-000000000000" }));
    put("zivohealth-deploy-noproc", owner("deploy", pids, undefined, { pidns: null, boot: null }));
    put("zivohealth-deploy-format", owner("deploy", pids, undefined, { format: 1 }));
    const target = path.join(root, "elsewhere");
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, OWNER), owner("deploy", pids));
    fs.symlinkSync(target, path.join(callerTmp, "zivohealth-deploy-symlnk"));
    fs.writeFileSync(path.join(callerTmp, "zivohealth-deploy-afile1"), owner("deploy", pids));
    // Another user's (root can make one here): left too.
    if (process.getuid?.() === 0) fs.chownSync(put("zivohealth-deploy-others", owner("deploy", pids)), 4242, 4242);
    const kept = snapshot(callerTmp, "");
    for (const name of [path.basename(left), path.basename(cdktfLeft)]) for (const k of Object.keys(kept)) if (k.startsWith(name)) delete kept[k];
    const targetBefore = snapshot(target);

    let stderr = "";
    const code = runInPrivateTmp("deploy", fakeTerraform(root), ["0"], { cwd: root, env, stderr: (t) => (stderr += t) });
    expect(code).toBe(0);
    const note = (dir: string) => `note: removed ${dir}, the temporary folder of a run that was killed (pids ${pids.join(", ")}, no longer running)\n`;
    expect(stderr).toBe(note(cdktfLeft) + note(left));
    expect(snapshot(callerTmp)).toEqual(kept);
    expect(snapshot(target)).toEqual(targetBefore);
  }, 30_000);

  it.each([
    ["70 bytes: the private folder would not fit", 70, ""],
    ["95 bytes: a provider's socket fits only with a short enough random number", 95, " (and at 95 bytes a provider may fail to start there)"],
    ["100 bytes: not even a provider's socket fits", 100, " (and at 100 bytes no provider can start there)"],
  ])("a TMPDIR of %s: the child runs in it, as before the private folder; a note says why, once for the process (deploy --plan runs init, then apply); the child's exit code", (_name, bytes, more) => {
    const { root, record, env } = setUp();
    const long = path.join(root, "d".repeat(bytes - root.length - 1));
    expect(Buffer.byteLength(long)).toBe(bytes);
    fs.mkdirSync(long);
    let stderr = "";
    const code = runInPrivateTmp("deploy", fakeTerraform(root), ["3"], { cwd: root, env: { ...env, TMPDIR: long, TMP: long, TEMP: long }, stderr: (t) => (stderr += t) });
    expect({ code, stderr }).toEqual({
      code: 3,
      stderr:
        `note: no private temporary folder for deploy's Terraform: ${long}/zivohealth-deploy-XXXXXX would be ${bytes + 25} bytes, and a provider's socket in it must fit in 107 ` +
        `(at most ${MAX_TMP_BYTES} bytes for the folder); it runs in TMPDIR ${long} itself, where an interrupted Terraform may leave its plugin socket (a file plugin<digits>)${more}. ` +
        "Set TMPDIR to a shorter folder (TMPDIR=/tmp) to avoid it\n",
    });
    expect(fs.readFileSync(record, "utf8").split("\n").slice(0, 3)).toEqual([long, long, long]);
    expect(fs.readdirSync(long)).toEqual(["plugin123"]); // what the note warns of
    fs.rmSync(path.join(long, "plugin123"), { recursive: true });
    expect(runInPrivateTmp("deploy", fakeTerraform(root), ["0"], { cwd: root, env: { ...env, TMPDIR: `${long}/` }, stderr: (t) => (stderr += t) })).toBe(0);
    expect(stderr.match(/^note: /gm)).toHaveLength(1);
  });

  it("a relative TMPDIR: the child gets it absolute (against the command's folder), though it runs in another folder; nothing lands elsewhere", () => {
    const { root, callerTmp, record, env } = setUp();
    const elsewhere = path.join(root, "elsewhere");
    fs.mkdirSync(elsewhere);
    const cwd = process.cwd();
    process.chdir(root);
    try {
      expect(runInPrivateTmp("deploy", fakeTerraform(root), ["0"], { cwd: elsewhere, env: { ...env, TMPDIR: "t", TMP: "t", TEMP: "t" }, stderr: () => undefined })).toBe(0);
    } finally {
      process.chdir(cwd);
    }
    childTmp(record, callerTmp, "deploy");
    expect([fs.readdirSync(callerTmp), fs.readdirSync(elsewhere)]).toEqual([[], []]);
  });

  it(`the sh between the command and the child cannot write its pid into the marker: it says so, exits ${MARKER_UNWRITTEN}, the child not started`, () => {
    const { root, record, env } = setUp();
    const gone = path.join(root, "gone");
    const r = spawnSync("/bin/sh", ["-c", REMOVER, "sh", gone, '{"pids":[1', fakeTerraform(root), "0"], { cwd: root, env, encoding: "utf8" });
    expect(r.status).toBe(MARKER_UNWRITTEN);
    expect(r.stderr).toContain(`error: cannot write ${gone}/${OWNER}, the marker of its temporary folder: ${path.join(root, "terraform")} not started\n`);
    expect([fs.existsSync(record), fs.existsSync(gone)]).toEqual([false, false]);
  });

  it("a child killed by SIGINT alone: the runner returns 130 (128 + the signal), as before; its folder is gone", () => {
    const { root, callerTmp, record, env } = setUp();
    const bin = path.join(root, "terraform");
    fs.writeFileSync(bin, '#!/bin/sh\nprintf "%s\\n%s\\n%s\\n" "$TMPDIR" "$TMP" "$TEMP" > "$RECORD"\nmkdir "$TMPDIR/plugin123"\nkill -INT $$\nsleep 5\n', { mode: 0o755 });
    expect(inheritRunner.terraform(bin, ["apply"], root, env)).toBe(130);
    childTmp(record, callerTmp, "deploy");
    expect(fs.readdirSync(callerTmp)).toEqual([]);
  });

  it("a TMPDIR that does not exist, or is a file, short or long: exit 2, said, the CLI not run", () => {
    const { root, record, env } = setUp();
    const cdktf = fakeCdktf(root);
    const missing = path.join(root, "no-such-folder");
    const long = path.join(root, "d".repeat(Math.max(1, MAX_TMP_BYTES - root.length - 20)));
    fs.mkdirSync(long);
    fs.writeFileSync(path.join(long, "a-file"), "");
    fs.writeFileSync(path.join(root, "a-file"), "");
    // The long ones (no private folder would fit) are refused as well: the child would need them.
    for (const [tmpdir, message] of [
      [missing, `error: cannot make a temporary folder in TMPDIR ${missing}: it does not exist (ENOENT); set TMPDIR to a folder you can write\n`],
      [path.join(root, "a-file"), `error: cannot make a temporary folder in TMPDIR ${path.join(root, "a-file")}: it is not a folder (ENOTDIR); set TMPDIR to a folder you can write\n`],
      [`${long}/no-such-folder`, `error: cannot use TMPDIR ${long}/no-such-folder: it does not exist (ENOENT); set TMPDIR to a folder you can write\n`],
      [`${long}/a-file`, `error: cannot use TMPDIR ${long}/a-file: it is not a folder (ENOTDIR); set TMPDIR to a folder you can write\n`],
    ]) {
      let stderr = "";
      const code = main(["synth"], { cwd: root, stdout: () => undefined, stderr: (t) => (stderr += t) }, { cdktf: (argv) => runCdktf(argv, cdktf, { ...env, TMPDIR: tmpdir }) });
      expect({ code, stderr }).toEqual({ code: 2, stderr: message });
      expect(fs.existsSync(record)).toBe(false);
    }
    expect(fs.readdirSync(long)).toEqual(["a-file"]);
  });
});

// A container beside this one (a Kubernetes pod's emptyDir /tmp: the same host name, another pid namespace) sees none of
// this one's processes: its sweep must leave this one's live folders. Needs unshare(1) allowed to make a pid namespace (root).
const unshare = ["--pid", "--fork", "--mount-proc"];
const unshareFails = spawnSync("unshare", [...unshare, "true"], { encoding: "utf8" });
const noNamespace = unshareFails.error?.message ?? (unshareFails.status === 0 ? undefined : unshareFails.stderr.trim());
describe("a sweep in another pid namespace", () => {
  (noNamespace ? it.skip : it)(
    `leaves a live run's folder: its pids are not to be judged there${noNamespace ? ` (SKIPPED: unshare ${unshare.join(" ")} fails here: ${noNamespace})` : ""}`,
    () => {
      const { callerTmp } = setUp();
      const dir = makePrivateTmp(callerTmp, "deploy", () => undefined); // this process's, alive
      const sweep = `require(${JSON.stringify(require.resolve("../lib/workdir/private-tmp"))}).sweepLeftTmp(${JSON.stringify(callerTmp)}, (t) => process.stdout.write(t))`;
      const r = spawnSync("unshare", [...unshare, process.execPath, "-r", path.join(__dirname, "fixtures", "swc-register.js"), "-e", sweep], { encoding: "utf8" });
      expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: "", stderr: "" });
      expect(fs.readdirSync(callerTmp)).toEqual([path.basename(dir)]);
    },
  );
});
