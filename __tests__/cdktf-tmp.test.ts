// The Terraform processes `npm run deploy -- --plan` starts (commands/cdktf/deploy-plan.ts) and the cdktf
// CLI the cdktf wrapper starts (commands/cdktf/index.ts), with fakes that record their TMPDIR, TMP and TEMP
// and leave in TMPDIR what a provider stopped by an interrupt leaves there (its plugin socket folder): each
// gets a private folder of its own in the caller's TMPDIR, gone when it ends, however it ends.
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { main, runCdktf } from "../commands/cdktf";
import { inheritRunner } from "../commands/cdktf/deploy-plan";
import { MAX_TMP_BYTES } from "../lib/workdir";
import { tempDir } from "./tmp";

/**
 * A `terraform` that records TMPDIR, TMP and TEMP (in $RECORD), leaves `plugin123` in TMPDIR, says `ready` on
 * stdout, then exits with its first argument; with `wait`, it waits to be interrupted and exits 1 on SIGINT, as
 * Terraform does once it has stopped.
 */
function fakeTerraform(dir: string): string {
  const bin = path.join(dir, "terraform");
  fs.writeFileSync(
    bin,
    '#!/bin/sh\nprintf "%s\\n%s\\n%s\\n" "$TMPDIR" "$TMP" "$TEMP" > "$RECORD"\nmkdir "$TMPDIR/plugin123" && : > "$TMPDIR/plugin123/plugin"\n' +
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
      'fs.writeFileSync(e.RECORD, [e.TMPDIR, e.TMP, e.TEMP, ""].join("\\n"));\n' +
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
      const [tmpdir] = fs.readFileSync(record, "utf8").split("\n");
      expect(fs.readdirSync(tmpdir)).toEqual(["plugin123"]);
      process.kill(-driver.pid!, "SIGINT");
      expect(await closed).toEqual([null, "SIGINT"]);
      childTmp(record, callerTmp, tool);
      expect(fs.readdirSync(callerTmp)).toEqual([]);
    } finally {
      stop();
    }
  }, 30_000);

  it("the command killed alone (SIGKILL to its pid): its child's folder still goes when the child ends; SIGKILL to the whole process group leaves it", async () => {
    const { root, callerTmp, record, env } = setUp();
    const alone = await started("terraform", fakeTerraform(root), env, root);
    try {
      process.kill(alone.driver.pid!, "SIGKILL");
      const tmpdir = childTmp(record, callerTmp, "deploy");
      expect(fs.readdirSync(tmpdir)).toEqual(["plugin123"]); // Terraform still runs
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
    expect(fs.readdirSync(callerTmp)).toEqual([path.basename(left)]);
    expect(fs.readdirSync(left)).toEqual(["plugin123"]);
  }, 30_000);

  it("a child killed by SIGINT alone: the runner returns 130 (128 + the signal), as before; its folder is gone", () => {
    const { root, callerTmp, record, env } = setUp();
    const bin = path.join(root, "terraform");
    fs.writeFileSync(bin, '#!/bin/sh\nprintf "%s\\n%s\\n%s\\n" "$TMPDIR" "$TMP" "$TEMP" > "$RECORD"\nmkdir "$TMPDIR/plugin123"\nkill -INT $$\nsleep 5\n', { mode: 0o755 });
    expect(inheritRunner.terraform(bin, ["apply"], root, env)).toBe(130);
    childTmp(record, callerTmp, "deploy");
    expect(fs.readdirSync(callerTmp)).toEqual([]);
  });

  it("a TMPDIR that does not exist, or too long for a provider's socket: exit 2, said, the CLI not run", () => {
    const { root, record, env } = setUp();
    const cdktf = fakeCdktf(root);
    const missing = path.join(root, "no-such-folder");
    const long = path.join(root, "d".repeat(Math.max(1, MAX_TMP_BYTES - root.length - 20)));
    fs.mkdirSync(long);
    for (const [tmpdir, message] of [
      [missing, `error: cannot make a temporary folder in TMPDIR ${missing}: it does not exist (ENOENT); set TMPDIR to a folder you can write\n`],
      [
        long,
        `error: TMPDIR ${long} is too long for the temporary folder cdktf's Terraform needs: ${long}/zivohealth-cdktf-XXXXXX is ${Buffer.byteLength(long) + 24} bytes, ` +
          `and a provider's socket in it must fit in 107 (at most ${MAX_TMP_BYTES} bytes for the folder). Set TMPDIR to a shorter folder (TMPDIR=/tmp)\n`,
      ],
    ]) {
      let stderr = "";
      const code = main(["synth"], { cwd: root, stdout: () => undefined, stderr: (t) => (stderr += t) }, { cdktf: (argv) => runCdktf(argv, cdktf, { ...env, TMPDIR: tmpdir }) });
      expect({ code, stderr }).toEqual({ code: 2, stderr: message });
      expect(fs.existsSync(record)).toBe(false);
    }
    expect(fs.readdirSync(long)).toEqual([]);
  });
});
