// lib/process-group.ts: every Terraform our commands start leads a process group of its own, killed whole when it
// ends (normally, by a timeout, by an interrupt), so no provider plugin outlives it. With real processes: a fake
// `terraform` (sh) that starts a stand-in provider ignoring SIGINT and SIGTERM, as one still starting may.
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { run as runState, stateTerraform } from "../commands/migrate-state/backend-ops";
import { terraformGetsGroup } from "../lib/process-group";
import { run } from "../lib/terraform";
import { WAIT_FOR_PROVIDER, ended, killedAfterEach, until } from "./processes";
import { tempDir } from "./tmp";

/** Every pid a case started: killed after it, so a failing case leaves nothing running. */
const started = killedAfterEach();

interface Fake {
  readonly bin: string;
  /** Its stand-in provider's pid, once written. */
  provider(): number;
  /** The fake terraform's own pid. */
  terraform(): number;
  /** The signals its traps saw, one a line ("INT", "TERM"), or "" when none reached it. */
  stopped(): string;
}

/**
 * A fake `terraform` in `dir`: starts a provider (its own pid in <name>.provider, after it has set SIGINT and SIGTERM
 * ignored), writes its pid, then `exit` exits 0, `slow` 0.2 s later, anything else waits; SIGINT or SIGTERM make it stop (write which, one line
 * each, and exit 3 0.1 s later).
 */
function fakeTerraform(dir: string, name = "terraform"): Fake {
  const at = (ext: string) => path.join(dir, `${name}.${ext}`);
  const bin = at("sh");
  fs.writeFileSync(
    bin,
    "#!/bin/sh\n" +
      `trap 'echo INT >> ${at("stopped")}; stop=1' INT\n` +
      `trap 'echo TERM >> ${at("stopped")}; stop=1' TERM\n` +
      `sh -c 'trap "" INT TERM; echo $$ > "$0.tmp"; mv "$0.tmp" "$0"; exec sleep 300' ${at("provider")} &\n` +
      `echo $$ > ${at("terraform")}\n` +
      `until [ -s ${at("provider")} ]; do sleep 0.01; done\n` +
      '[ "$1" = exit ] && exit 0\n' +
      '[ "$1" = slow ] && { sleep 0.2; exit 0; }\n' +
      // Stopping takes a moment, as Terraform's does: a second signal meanwhile is written down too.
      // A fake never outlives a minute, whatever a failing test left it to.
      'n=0; until [ "$stop" ] || [ $n -ge 1200 ]; do sleep 0.05; n=$((n+1)); done\n' +
      "sleep 0.1\n" +
      "exit 3\n",
    { mode: 0o755 },
  );
  const pid = (ext: string) => {
    const n = Number(fs.readFileSync(at(ext), "utf8"));
    if (!started.includes(n)) started.push(n);
    return n;
  };
  return { bin, provider: () => pid("provider"), terraform: () => pid("terraform"), stopped: () => (fs.existsSync(at("stopped")) ? fs.readFileSync(at("stopped"), "utf8").trim() : "") };
}

/** Waits up to 5 s for each pid to end; the pids still running. */
async function left(pids: readonly number[]): Promise<number[]> {
  await until(() => pids.every(ended), 5_000);
  return pids.filter((p) => !ended(p));
}

describe("lib/terraform.ts run: Terraform's group is killed when Terraform ends", () => {
  it("exits 0 with its provider still running: the provider is killed with the group; the output and code are Terraform's", async () => {
    const dir = tempDir("zh-pgroup-");
    const fake = fakeTerraform(dir);
    const r = await run(fake.bin, ["exit"], dir, process.env, 30_000);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, "", ""]);
    expect(await left([fake.terraform(), fake.provider()])).toEqual([]);
    expect(fake.stopped()).toBe("");
  }, 30_000);
});

describe("migrate-state's Terraform runs (backend-ops run): each in a group of its own, killed whole when it ends", () => {
  it("an interruptible run (init, state pull, state mv) aborted: SIGINT reaches Terraform, which stops (exit 3); its provider is killed", async () => {
    const dir = tempDir("zh-pgroup-");
    const fake = fakeTerraform(dir);
    const abort = new AbortController();
    const result = runState(stateTerraform(fake.bin, process.env, abort.signal), ["hang"], dir);
    await until(() => fs.existsSync(path.join(dir, "terraform.provider")) && fs.existsSync(path.join(dir, "terraform.terraform")), 10_000);
    fake.terraform();
    abort.abort("SIGINT");
    expect(await result).toEqual({ code: 3, stdout: "", stderr: "" });
    expect(fake.stopped()).toBe("INT");
    expect(await left([fake.terraform(), fake.provider()])).toEqual([]);
  }, 30_000);


  it("an uninterruptible run (the push): the abort does not reach it, it ends on its own (exit 0), then its provider is killed; its output files are gone", async () => {
    const dir = tempDir("zh-pgroup-");
    const fake = fakeTerraform(dir);
    const abort = new AbortController();
    const result = runState(stateTerraform(fake.bin, process.env, abort.signal), ["slow"], dir, { uninterruptible: true });
    await until(() => fs.existsSync(path.join(dir, "terraform.provider")), 10_000);
    abort.abort("SIGINT");
    expect(await result).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(fake.stopped()).toBe("");
    expect(await left([fake.terraform(), fake.provider()])).toEqual([]);
    expect(fs.readdirSync(dir).sort()).toEqual(["terraform.provider", "terraform.sh", "terraform.terraform"]);
  }, 30_000);
});

/** Starts the driver fixture in a process group of its own (a terminal's foreground job); resolves once the fake's provider runs. */
async function driver(args: readonly string[], fake: Fake, cwd: string): Promise<{ child: ChildProcess; closed: Promise<[number | null, NodeJS.Signals | null]>; stdout: () => string }> {
  const child = spawn(process.execPath, ["-r", path.join(__dirname, "fixtures", "swc-register.js"), path.join(__dirname, "fixtures", "process-group-driver.ts"), ...args], {
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  started.push(child.pid!);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const closed = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on("close", (code, signal) => resolve([code, signal])));
  const ready = await until(() => {
    try {
      return fake.provider() > 0 && fake.terraform() > 0;
    } catch {
      return false;
    }
  }, 20_000);
  if (!ready) throw new Error(`the fake's provider did not start: ${stderr}`);
  return { child, closed, stdout: () => stdout };
}

describe("an interrupt of the command reaches Terraform, and nothing of its group outlives it", () => {
  it.each([
    ["Ctrl-C (SIGINT to the command's process group, as a terminal sends it)", "SIGINT", "INT", true],
    ["SIGTERM to the command's process alone", "SIGTERM", "TERM", false],
  ] as const)("lib/terraform.ts run, no handler of the command's own: %s: passed on to Terraform, which stops; its provider is killed; the command dies of the signal", async (_what, signal, trapped, toGroup) => {
    const dir = tempDir("zh-pgroup-");
    const fake = fakeTerraform(dir);
    const d = await driver(["terraform", fake.bin, "hang"], fake, dir);
    process.kill(toGroup ? -d.child.pid! : d.child.pid!, signal);
    expect(await d.closed).toEqual([null, signal]);
    expect(fake.stopped()).toBe(trapped);
    expect(await left([fake.terraform(), fake.provider()])).toEqual([]);
    expect(d.stdout()).toBe(""); // it died of the signal: the run's result never came back
  }, 30_000);

  it("plan-check's folder (a workdir's run, signals handled): SIGTERM to the command alone stops Terraform (SIGTERM), kills its provider, removes the folder, exit 143", async () => {
    const root = tempDir("zh-pgroup-");
    fs.mkdirSync(path.join(root, "checkout"));
    const dir = path.join(root, "out");
    const fake = fakeTerraform(root);
    const d = await driver(["workdir", dir, path.join(root, "checkout"), fake.bin, "hang"], fake, root);
    process.kill(d.child.pid!, "SIGTERM");
    expect(await d.closed).toEqual([143, null]);
    expect(fake.stopped()).toBe("TERM");
    expect(await left([fake.terraform(), fake.provider()])).toEqual([]);
    expect(fs.existsSync(dir)).toBe(false);
  }, 30_000);

  it("a command with a SIGINT handler of its own: the signal is not passed on (the command stops its Terraform itself; a second interrupt would make Terraform quit at once)", async () => {
    const dir = tempDir("zh-pgroup-");
    const fake = fakeTerraform(dir);
    const d = await driver(["handled", fake.bin, "hang"], fake, dir);
    process.kill(d.child.pid!, "SIGINT");
    expect(await until(() => d.stdout() === "handled\n", 5_000)).toBe(true);
    await new Promise((r) => setTimeout(r, 150));
    expect(fake.stopped()).toBe("");
    expect([ended(fake.terraform()), ended(fake.provider())]).toEqual([false, false]);
    process.kill(d.child.pid!, "SIGKILL"); // no exit hook runs: its group is left, as after any SIGKILL
    expect(await d.closed).toEqual([null, "SIGKILL"]);
    process.kill(-fake.terraform(), "SIGKILL");
    expect(await left([fake.terraform(), fake.provider()])).toEqual([]);
  }, 30_000);

  it("the command exits (process.exit) while two groups run: the ordinary one is killed whole, the let-finish one (migrate-state's push) runs on", async () => {
    const dir = tempDir("zh-pgroup-");
    const fake = fakeTerraform(dir);
    const push = fakeTerraform(dir, "push");
    const d = await driver(["exit", fake.bin, push.bin, path.join(dir, "terraform.provider"), path.join(dir, "push.provider")], fake, dir);
    await until(() => fs.existsSync(path.join(dir, "push.provider")) && fs.existsSync(path.join(dir, "push.terraform")), 10_000);
    // Known to the cleanup now: killed after this test whatever fails below.
    push.terraform();
    push.provider();
    expect(await d.closed).toEqual([0, null]);
    expect(await left([fake.terraform(), fake.provider()])).toEqual([]);
    expect([ended(push.terraform()), ended(push.provider())]).toEqual([false, false]);
    process.kill(-push.terraform(), "SIGKILL");
    expect(await left([push.terraform(), push.provider()])).toEqual([]);
  }, 30_000);
});

/**
 * A fake `terraform` that says whether it can open the terminal (a credential_process asking for an MFA code
 * needs it), starts a provider named like one (`terraform-provider-fake`, a link to sleep) working in `dir`, and
 * then `exit`s without stopping it (a Terraform killed or quitting at once leaves it so) or waits.
 */
function terminalFake(dir: string): { bin: string; provider: () => number; helper: () => number } {
  fs.symlinkSync(fs.realpathSync("/bin/sleep"), path.join(dir, "terraform-provider-fake"));
  const bin = path.join(dir, "terraform.sh");
  const pidFile = path.join(dir, "provider.pid");
  fs.writeFileSync(
    bin,
    "#!/bin/sh\n" +
      `"${dir}/terraform-provider-fake" 300 &\n` +
      // Reported once it has exec'd (as Go's vfork+exec leaves no forked copy between): a forked sh is no provider to kill.
      `${WAIT_FOR_PROVIDER}\n` +
      `echo $p > ${pidFile}\n` +
      "if (exec 3</dev/tty) 2>/dev/null; then echo tty; else echo no-tty; fi\n" +
      '[ "$1" = exit ] && exit 0\n' +
      // Waiting, with a helper of its own beside the provider (not named like one: only the process tree finds it).
      `sleep 300 & echo $! > ${path.join(dir, "helper.pid")}\n` +
      "exec sleep 300\n",
    { mode: 0o755 },
  );
  const pid = (file: string) => {
    const n = Number(fs.readFileSync(file, "utf8"));
    if (!started.includes(n)) started.push(n);
    return n;
  };
  return { bin, provider: () => pid(pidFile), helper: () => pid(path.join(dir, "helper.pid")) };
}

/** The driver's `run` mode: through a terminal (script(1) gives it a pty as its controlling terminal), or without one. */
async function runDriver(dir: string, terminal: boolean, args: readonly string[], group = "auto"): Promise<{ code: unknown; stdout: unknown; stderr: unknown }> {
  const argv = [process.execPath, "-r", path.join(__dirname, "fixtures", "swc-register.js"), path.join(__dirname, "fixtures", "process-group-driver.ts"), "run", ...args];
  // setup.ts's `always` replaced: these cases are about what the command sees of the terminal.
  const env = { ...process.env, ZIVOHEALTH_TERRAFORM_GROUP: group };
  const child = terminal
    ? spawn("script", ["-qec", argv.map((a) => `'${a}'`).join(" "), "/dev/null"], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] })
    : // A session of its own: no terminal, whether or not jest has one.
      spawn(argv[0], argv.slice(1), { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  await new Promise((resolve) => child.on("close", resolve));
  const line = /^result (\S+) ("(?:[^"\\]|\\.)*") ("(?:[^"\\]|\\.)*")\r?$/m.exec(out);
  if (!line) throw new Error(`no result from the driver: ${out}`);
  return { code: JSON.parse(line[1]), stdout: JSON.parse(line[2]), stderr: JSON.parse(line[3]) };
}

const HAS_SCRIPT = spawnSync("script", ["-qec", "true", "/dev/null"]).status === 0;

/**
 * The three timeout cases each wait out a 1 s timeout (shorter would race the fake's start on a loaded machine):
 * started together before the file's tests, each test judging its own, so the file waits about 1 s, not 3.
 */
const early: {
  run?: Promise<{ fake: Fake; r: Awaited<ReturnType<typeof run>> }>;
  state?: Promise<{ fake: Fake; r: Awaited<ReturnType<typeof runState>> }>;
  terminal?: Promise<{ fake: ReturnType<typeof terminalFake>; r: Awaited<ReturnType<typeof runDriver>> }>;
} = {};
beforeAll(() => {
  const a = fakeTerraform(tempDir("zh-pgroup-"));
  early.run = run(a.bin, ["hang"], path.dirname(a.bin), process.env, 1_000).then((r) => ({ fake: a, r }));
  const b = fakeTerraform(tempDir("zh-pgroup-"));
  early.state = runState(stateTerraform(b.bin, process.env), ["hang"], path.dirname(b.bin), { timeoutMs: 1_000 }).then((r) => ({ fake: b, r }));
  if (HAS_SCRIPT) {
    const dir = tempDir("zh-pgroup-");
    const c = terminalFake(dir);
    early.terminal = runDriver(dir, true, [c.bin, "1000", "hang"]).then((r) => ({ fake: c, r }));
  }
});

describe("with a controlling terminal, Terraform keeps it: no group of its own, and still nothing outlives it", () => {
  if (!HAS_SCRIPT) {
    it("SKIPPED: script(1) (util-linux) is not installed, so no terminal can be given to the command", () => {
      console.warn("process-group.test.ts: script(1) not found: the terminal cases did not run");
    });
    return;
  }

  it("at a terminal Terraform can open /dev/tty (a credential_process may prompt); the provider it left running in its folder is killed when it exits", async () => {
    const dir = tempDir("zh-pgroup-");
    const fake = terminalFake(dir);
    expect(await runDriver(dir, true, [fake.bin, "30000", "exit"])).toEqual({ code: 0, stdout: "tty\n", stderr: "" });
    expect(await left([fake.provider()])).toEqual([]);
  }, 60_000);

  it("without a terminal (CI) Terraform leads a session of its own, so it has none; its provider is killed with its group", async () => {
    const dir = tempDir("zh-pgroup-");
    const fake = terminalFake(dir);
    expect(await runDriver(dir, false, [fake.bin, "30000", "exit"])).toEqual({ code: 0, stdout: "no-tty\n", stderr: "" });
    expect(await left([fake.provider()])).toEqual([]);
  }, 60_000);

  it("ZIVOHEALTH_TERRAFORM_GROUP=always: a session of its own even at a terminal (no prompt then); any other value than auto or always is refused, naming both", async () => {
    const dir = tempDir("zh-pgroup-");
    const fake = terminalFake(dir);
    expect(await runDriver(dir, true, [fake.bin, "30000", "exit"], "always")).toEqual({ code: 0, stdout: "no-tty\n", stderr: "" });
    expect(await left([fake.provider()])).toEqual([]);
    expect(() => terraformGetsGroup({ ZIVOHEALTH_TERRAFORM_GROUP: "sometimes" })).toThrow('ZIVOHEALTH_TERRAFORM_GROUP must be one of auto, always (got "sometimes")');
    expect(terraformGetsGroup({ ZIVOHEALTH_TERRAFORM_GROUP: "always" })).toBe(true);
  }, 60_000);
});

// Last, so their 1 s timeouts (started before the file's first test) have run out meanwhile.
describe("killed by their timeouts: nothing of Terraform's group, or its tree at a terminal, outlives it", () => {
  it("lib/terraform.ts run, killed by its timeout while its provider runs: Terraform and the provider are gone, code null, the timeout said", async () => {
    const { fake, r } = await early.run!;
    expect(r.code).toBeNull();
    expect(r.stderr).toBe("\n[killed after 1000 ms]");
    expect(await left([fake.terraform(), fake.provider()])).toEqual([]);
    expect(fake.stopped()).toBe(""); // SIGKILL: no trap ran
  }, 30_000);

  it("migrate-state's run past its timeout: SIGKILL to its group, Terraform and its provider gone, code null, the timeout said", async () => {
    const { fake, r } = await early.state!;
    expect(r).toEqual({ code: null, stdout: "", stderr: "\n[stopped after 1000 ms]" });
    expect(await left([fake.terraform(), fake.provider()])).toEqual([]);
    expect(fake.stopped()).toBe("");
  }, 30_000);

  (HAS_SCRIPT ? it : it.skip)("at a terminal, killed by its timeout: Terraform's whole process tree is killed (read from /proc), the provider and a helper with it", async () => {
    const { fake, r } = await early.terminal!;
    expect(r).toEqual({ code: null, stdout: "tty\n", stderr: "\n[killed after 1000 ms]" });
    expect(await left([fake.provider(), fake.helper()])).toEqual([]);
  }, 60_000);
});
