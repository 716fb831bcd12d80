// Long: migrate-state against S3 in one file (the emulators started once for every case: the push, two at once, the kills during the push and under the lock).
// migrate-state against Terraform's S3 backend with a DynamoDB lock table,
// served by s3rver (S3) and dynalite (DynamoDB) from the npm registry on
// 127.0.0.1: the state pulled, migrated, pushed under the lock; two pushes at
// once, the second refused by the lock and nothing lost; the command killed
// (SIGKILL) during its push, the push landing and the lock released. S3-native locking
// (use_lockfile) is not tested: s3rver ignores the conditional write it needs.
import { spawn } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EnvironmentConfig } from "../config/environment";
// Fidelity to the HCL root: production as the HCL root has it, frozen in the tests, not as configured
// (config/environments.ts, which a team changes); a configured variant keeps its own settings on it.
import { HCL_PRODUCTION as production } from "../__tests__/fixtures/hcl-production";
import { instanceAddress, parseState } from "../lib/migration";
import { Deps, MigrationReport, main } from "../commands/migrate-state";
import { MOVES } from "../stacks/moves";
import { S3_CONNECTION_SETTINGS } from "../lib/backend";
import { Emulators, S3RVER_KEY, startEmulators } from "./lib/emulators";
import { PUSH_SHELL, PUSH_WRAPPER, exitPolls, holdsFd, pushHeldTerraform, running, startCli, waitForChildren, waitForExit } from "./lib/cli-process";
import { toolchainPreamble } from "./lib/toolchain-preamble";

const { describeTier, terraform: realTerraform } = toolchainPreamble("migrate-state S3");

const ROOT = path.join(__dirname, "..");
const SHARED = path.join(ROOT, "../shared/fixtures");
const MODULES = path.join(SHARED, "existing-hcl/terraform/modules");
const POST_FIX = path.join(SHARED, "post-fix-production.tfstate");
const DATA = path.join(ROOT, "__tests__/fixtures/plan-check/production-data.json");
const ENV_VARS = { ...process.env, TF_VAR_db_password_plain: "REDACTED" };
const REGION = "us-east-1";

const temps: string[] = [];
let emu: Emulators | undefined;
afterAll(async () => {
  await emu?.stop();
  temps.forEach((t) => fs.rmSync(t, { recursive: true, force: true }));
});

const tmp = (name: string) => {
  const d = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), `zh-migrate-s3-${name}-`)));
  temps.push(d);
  return d;
};

/** terraform, never synchronously: the emulators answer from this same process. */
const tf = (args: string[], cwd: string): Promise<{ code: number | null; stdout: string; out: string }> =>
  new Promise((resolve) => {
    const child = spawn(realTerraform, args, { cwd, env: { ...process.env, CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1" } });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, out: stdout + stderr }));
  });

/** A Terraform folder on the backend (the test's own view of it: seeding, pulling). */
async function backendFolder(key: string, config: string): Promise<string> {
  const dir = tmp("view");
  fs.writeFileSync(
    path.join(dir, "backend.tf.json"),
    JSON.stringify({ terraform: { backend: { s3: { bucket: emu!.bucket, key, region: REGION, dynamodb_table: emu!.table, encrypt: true } } } }),
  );
  fs.mkdirSync(path.join(dir, "none"));
  // The state names providers; nothing here needs them: an empty plugin dir, and init's provider step is expected to fail.
  await tf(["init", "-input=false", "-no-color", `-backend-config=${config}`, `-plugin-dir=${path.join(dir, "none")}`], dir);
  return dir;
}

/** Every file under `dir` with its sha256: "nothing deleted or changed". */
const snapshot = (dir: string) =>
  fs
    .readdirSync(dir, { recursive: true, encoding: "utf8" })
    .sort()
    .map((f) => [f, fs.statSync(path.join(dir, f)).isFile() ? createHash("sha256").update(fs.readFileSync(path.join(dir, f))).digest("hex") : "folder"]);

const pull = async (dir: string) => JSON.parse((await tf(["state", "pull"], dir)).stdout);
const addresses = (state: any) => new Set(parseState(JSON.stringify(state), "state").instances.filter((i) => i.deposed === null).map(instanceAddress));

async function migrate(cwd: string, environments: Record<string, EnvironmentConfig>, config: string, deps: Partial<Deps> = {}, args: string[] = []) {
  let stdout = "";
  let stderr = "";
  const code = await main(
    ["--push", "--backend-config", config, "--modules", MODULES, "--data", DATA, ...args],
    { cwd, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) },
    { environments, env: ENV_VARS, ...deps },
  );
  const base = path.join(cwd, "cdktf.out", "migrate-state", "production");
  const outs = fs.existsSync(base) ? fs.readdirSync(base) : [];
  const report = outs.length === 1 ? (JSON.parse(fs.readFileSync(path.join(base, outs[0], "report.json"), "utf8")) as MigrationReport) : undefined;
  return { code, stdout, stderr, outs, report };
}

describeTier("migrate-state, S3 backend with a DynamoDB lock (s3rver and dynalite on 127.0.0.1)", () => {
  let config = "";
  const seeded = new Map<string, { lineage: string; serial: number }>();

  beforeAll(async () => {
    emu = await startEmulators();
    config = path.join(tmp("config"), "s3.tfbackend");
    fs.writeFileSync(config, emu.backendConfig());
  });

  /** The stack's configuration with this S3 backend, and the backend seeded with the post-fix fixture. */
  async function seed(key: string): Promise<{ environments: Record<string, EnvironmentConfig>; view: string }> {
    const view = await backendFolder(key, config);
    const copy = path.join(view, "seed.tfstate");
    fs.copyFileSync(POST_FIX, copy);
    const pushed = await tf(["state", "push", "-no-color", copy], view);
    if (pushed.code !== 0) throw new Error(pushed.out);
    const s = await pull(view);
    seeded.set(key, { lineage: s.lineage, serial: s.serial });
    const backend = { type: "s3" as const, bucket: emu!.bucket, key, region: REGION, dynamodbTable: emu!.table };
    return { environments: { production: { ...production, backend } }, view };
  }

  test("pull, migrate, verify and push, under the DynamoDB lock", async () => {
    const key = "zivohealth/production/terraform.tfstate";
    const { environments, view } = await seed(key);
    const before = await pull(view);
    // Terraform's own push into an empty S3 backend starts a new lineage at serial 1 (it does the same for init -migrate-state).
    expect(before.serial).toBe(1);
    expect(before.lineage).not.toBe(JSON.parse(fs.readFileSync(POST_FIX, "utf8")).lineage);
    const moves = MOVES.filter((m) => addresses(before).has(m.from));
    const r = await migrate(tmp("project"), environments, config);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const after = await pull(view);
    expect(after.lineage).toBe(before.lineage);
    expect(after.serial).toBe(before.serial + moves.length + 1);
    const now = addresses(after);
    for (const m of moves) {
      expect(now.has(m.to)).toBe(true);
      expect(now.has(m.from)).toBe(false);
    }
    expect(r.report!.read.from).toBe(`s3://${emu!.bucket}/${key} (${REGION}; lock: DynamoDB table ${emu!.table})`);
    expect(r.report!.pushed!.serial).toBe(after.serial);
    // The lock is released: only the state's digest is left in the table.
    expect((await emu!.lockItems()).map((i) => i.LockID.S)).toEqual([`${emu!.bucket}/${key}-md5`]);
  });

  test("a --backend-config that names another key after a block comment (/* { */): refused by its check, as Terraform reads the file, before init; neither state read or written", async () => {
    const key = "zivohealth/production-config/terraform.tfstate";
    const otherKey = "zivohealth/other/terraform.tfstate";
    const { environments, view } = await seed(key);
    const other = (await seed(otherKey)).view;
    // Terraform reads `key` here (HCL's block comment ends before it); a line scanner took it for comment.
    const sneaky = path.join(tmp("sneaky"), "s3.tfbackend");
    fs.writeFileSync(sneaky, `${emu!.backendConfig()}\n/* { */\nkey = "${otherKey}"\n`);
    const project = tmp("project");
    const r = await migrate(project, environments, sneaky);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `error: --backend-config ${sneaky}: key is not a connection setting; which state to use (bucket, key, region, lock, encryption) comes from the stack's configuration only. ` +
        `Allowed: ${S3_CONNECTION_SETTINGS.join(", ")}\nThe backend and the given files are untouched.\n`,
    );
    expect((await pull(view)).serial).toBe(seeded.get(key)!.serial);
    expect((await pull(other)).serial).toBe(seeded.get(otherKey)!.serial);
    expect(r.outs).toEqual([]);
    expect(fs.readdirSync(project)).toEqual([]);
  });

  test("two pushes at once: the second is refused by the lock, the first completes, nothing is lost", async () => {
    const key = "zivohealth/production-two/terraform.tfstate";
    const { environments, view } = await seed(key);
    const before = await pull(view);
    let firstHoldsTheLock!: () => void;
    const lockTaken = new Promise<void>((r) => (firstHoldsTheLock = r));
    let secondDone!: () => void;
    const secondFinished = new Promise<void>((r) => (secondDone = r));
    // The first stops with the lock held, the backend checked, until the second has tried.
    const first = migrate(tmp("first"), environments, config, {
      onStep: async (step) => {
        if (step !== "push") return;
        firstHoldsTheLock();
        await secondFinished;
      },
    });
    const second = migrate(tmp("second"), environments, config, { onStep: (step) => (step === "lock" ? lockTaken : undefined) }).finally(() => secondDone());
    const [a, b] = await Promise.all([first, second]);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain(
      "error: the backend's lock is held by another operation; nothing was pushed. If no Terraform and no migrate-state runs on this state " +
        "(a run killed while it held the lock), release it with terraform force-unlock <ID>, the ID Terraform gives below, in a folder initialized with the stack's backend. Terraform said:",
    );
    expect(b.stderr).toContain("ConditionalCheckFailedException");
    expect(b.stderr).toContain("Operation: OperationTypeInvalid"); // the holder: the first run's terraform console
    expect(b.outs).toEqual([]);
    expect(a.code).toBe(0);
    const after = await pull(view);
    const moves = MOVES.filter((m) => addresses(before).has(m.from));
    expect(after.lineage).toBe(before.lineage);
    expect(after.serial).toBe(before.serial + moves.length + 1);
    // Nothing lost: every object of the state before, at its address or its new one.
    const now = addresses(after);
    for (const x of addresses(before)) expect(now.has(moves.find((m) => m.from === x)?.to ?? x)).toBe(true);
    expect(now.size).toBe(addresses(before).size);
    expect((await emu!.lockItems()).map((i) => i.LockID.S).sort()).toEqual(
      [...seeded.keys()].map((k) => `${emu!.bucket}/${k}-md5`).sort(),
    );
  });
  /**
   * A connection setting file whose credentials come from a profile's credential_process: a helper that leaves a
   * child running after it (as a credential helper that stays up can), every file inherited but its output. Each call
   * logs, in `calls`, the command lines of its parent and grandparent (Terraform runs it through `sh -c`) and its fd 3;
   * the lingering children's pids go in `lingering`.
   */
  function lingeringCredentialProcess(dir: string) {
    const calls = path.join(dir, "calls");
    const lingering = path.join(dir, "lingering");
    const helper = path.join(dir, "credential-helper");
    fs.writeFileSync(
      helper,
      [
        "#!/bin/sh",
        // its fd 3 first: a command substitution may take fd 3 if it is free
        `{ printf "fd3="; readlink /proc/$$/fd/3 || echo none; } > "${calls}.$$" 2> /dev/null`,
        `gp=$(cut -d" " -f4 /proc/$PPID/stat)`,
        `{ tr "\\0" " " < /proc/$PPID/cmdline; printf "| "; tr "\\0" " " < /proc/$gp/cmdline; printf "| "; cat "${calls}.$$"; } >> "${calls}"; rm -f "${calls}.$$"`,
        // the child's pid and the command lines of the helper's parent and grandparent (Terraform, or the shell it ran it by)
        `sleep 300 > /dev/null 2>&1 & echo "$! $(tr "\\0" " " < /proc/$PPID/cmdline)| $(tr "\\0" " " < /proc/$gp/cmdline)" >> "${lingering}"`,
        `printf '{"Version":1,"AccessKeyId":"${S3RVER_KEY}","SecretAccessKey":"${S3RVER_KEY}"}\n'`,
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    const awsConfig = path.join(dir, "aws-config");
    fs.writeFileSync(awsConfig, `[profile zh-lingering]\ncredential_process = ${helper}\nregion = ${REGION}\n`);
    const noCredentials = path.join(dir, "no-credentials");
    fs.writeFileSync(noCredentials, "");
    const file = path.join(dir, "s3-profile.tfbackend");
    const keys = /^(access_key|secret_key) .*\n/gm;
    fs.writeFileSync(
      file,
      `${emu!.backendConfig().replace(keys, "")}profile = "zh-lingering"\nshared_config_files = [${JSON.stringify(awsConfig)}]\nshared_credentials_files = [${JSON.stringify(noCredentials)}]\n`,
    );
    const lines = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, "utf8").trim().split("\n") : []);
    const left = () => lines(lingering).map((l) => ({ pid: Number(l.split(" ")[0]), by: l.slice(l.indexOf(" ") + 1) }));
    return { file, calls: () => lines(calls), lingering: () => left().map((l) => l.pid), left };
  }

  test("SIGKILL during the push: the DynamoDB lock stays held until the push ends (its item read, a second Terraform refused), then released; the push lands, the report says it started, the next run keeps the backup", async () => {
    const key = "zivohealth/production-killed/terraform.tfstate";
    const { environments, view } = await seed(key);
    const beforeText = (await tf(["state", "pull"], view)).stdout;
    const before = JSON.parse(beforeText);
    const moves = MOVES.filter((m) => addresses(before).has(m.from));
    const pushing = before.serial + moves.length;
    const root = tmp("killed");
    const cwd = path.join(root, "project");
    const callerTmp = path.join(root, "tmp"); // the command's TMPDIR: a killed run leaves nothing of its own there
    const out = path.join(root, "k1");
    fs.mkdirSync(cwd);
    fs.mkdirSync(callerTmp);
    // The run's credentials from a credential_process helper that leaves a child running: Terraform starts it, and
    // that child must not hold console's input (it would keep the lock held after the push, for as long as it runs).
    const credentials = lingeringCredentialProcess(tmp("credentials"));
    const backend = environments.production.backend;
    const lockId = `${emu!.bucket}/${key}`;
    // The second operation, as a user of the backend runs it: Terraform in a folder initialized with the same backend
    // and key, a command that takes the state lock, offline, writing nothing (-dry-run), on an address the migration keeps.
    const kept = [...addresses(before)].find((a) => /^[a-z0-9_]+\.[a-z0-9_]+$/.test(a) && !MOVES.some((m) => m.from === a))!;
    const second = () => tf(["state", "mv", "-dry-run", "-lock-timeout=0s", "-no-color", kept, `${kept}_probe`], view);
    // Terraform through a wrapper that holds the push once it has ended, until released (pushHeldTerraform says why).
    const held = pushHeldTerraform(path.join(root, "bin"), realTerraform);
    const cli = startCli(path.join(__dirname, "lib/migrate-state-s3-cli.ts"), ["--push", "--backend-config", credentials.file, "--modules", MODULES, "--data", DATA, "--out", out], {
      cwd,
      env: { ...ENV_VARS, TMPDIR: callerTmp, ZH_TEST_S3_BACKEND: JSON.stringify(backend), PATH: `${held.bin}${path.delimiter}${process.env.PATH ?? ""}` },
    });
    const pid = cli.child.pid!;
    let terraform: number[] = [];
    try {
      await cli.waitFor(`migrate-state: pushing serial ${pushing} (lineage ${before.lineage})`);
      // The lock's holder (terraform console) and Terraform's push, both running: kill the command now.
      const [holder] = await waitForChildren(pid, (argv) => argv[1] === "console", 1);
      // The push: the shell migrate-state started, which holds console's input (fd 3); Terraform (the wrapper) its child.
      const [pusher] = await waitForChildren(pid, PUSH_SHELL, 1);
      terraform = [holder, pusher];
      process.kill(pid, "SIGKILL");
      expect(await cli.exited).toEqual({ code: null, signal: "SIGKILL" });
      // migrate-state is dead and Terraform's push has written the state to S3; the push's process still runs (held).
      expect(await held.ended()).toBe(0);
      // console's input held by the push's shell alone: Terraform (the wrapper, held; its real push, ended) runs without it.
      const [wrapper] = await waitForChildren(pusher, PUSH_WRAPPER, 1);
      expect([holdsFd(pusher, 3), holdsFd(wrapper, 3)]).toEqual([true, false]);
      expect((await pull(view)).serial).toBe(pushing + 1);
      // The lock, read as a user of the backend meets it: a second Terraform is refused, naming console's lock; and
      // the lock item in DynamoDB: the state's path as its LockID, console's operation in its Info.
      const refused = await second();
      expect(refused.out).toContain("Error: Error acquiring the state lock");
      expect(refused.out).toContain("ConditionalCheckFailedException");
      expect(refused.code).toBe(1);
      const item = (await emu!.lockItems()).find((i) => i.LockID.S === lockId) as Record<string, { S: string }> | undefined;
      expect(item).toBeDefined();
      const info = JSON.parse(item!.Info.S) as { ID: string; Operation: string; Path: string; Version: string };
      expect(info).toMatchObject({ ID: expect.stringMatching(/^[0-9a-f-]{36}$/), Operation: "OperationTypeInvalid", Path: lockId, Version: "1.11.4" });
      expect(refused.out).toContain(`Lock Info:\n  ID:        ${info.ID}\n  Path:      ${lockId}\n  Operation: OperationTypeInvalid\n`);
      // The push (its own process group, its output to files) ends; console reads the end of its input, which the push
      // holds too (its fd 3), and exits, unlocking: never before the push has let go of it (seen at the same 5 ms poll at
      // the earliest; exitPolls says why the close, not the exit, is what can be ordered).
      const polls = exitPolls(terraform, "the killed run's terraform console and state push", { letGo: [undefined, 3] });
      held.release();
      const [holderGone, pusherGone] = await polls;
      expect(pusherGone).toBeGreaterThan(0); // the push still ran after the kill (else this proves nothing)
      expect(holderGone).toBeGreaterThanOrEqual(pusherGone);
      // The push's Terraform ran the credential helper, which had no fd 3, and the lock was released while the
      // child it left still ran: it did not hold it. So did console's (it outlived migrate-state too). The children
      // of the runs that ended while migrate-state lived (init, the pulls) went with their process group.
      const calls = credentials.calls();
      expect(calls.filter((c) => / state push -lock=false -no-color /.test(c))).toHaveLength(1);
      expect(calls.filter((c) => !c.endsWith("| fd3=none"))).toEqual([]);
      const left = credentials.left();
      expect(left.length).toBe(calls.length);
      const outlived = (by: string) => / state push | console /.test(` ${by} `);
      expect(left.filter((l) => outlived(l.by))).toHaveLength(2);
      expect(left.map((l) => `${running(l.pid) ? "running" : "gone"}: ${l.by}`)).toEqual(left.map((l) => `${outlived(l.by) ? "running" : "gone"}: ${l.by}`));
    } finally {
      held.release();
      for (const p of [pid, ...terraform, ...credentials.lingering()]) {
        try {
          process.kill(p, "SIGKILL"); // only after a failure above: each is gone by now otherwise
        } catch {
          // gone
        }
      }
    }
    // Released: the lock item gone (every key's state digest left, no lock item), and the same second operation takes the lock.
    expect((await emu!.lockItems()).map((i) => i.LockID.S).sort()).toEqual([...seeded.keys()].map((k) => `${emu!.bucket}/${k}-md5`).sort());
    const taken = await second();
    expect(taken.out).toContain(`Would move "${kept}" to "${kept}_probe"`);
    expect(taken.code).toBe(0);
    // The push landed: S3 holds the migrated state, one serial higher (state push writes it once more).
    const after = await pull(view);
    expect(after.lineage).toBe(before.lineage);
    expect(after.serial).toBe(pushing + 1);
    const now = addresses(after);
    for (const m of moves) {
      expect(now.has(m.to)).toBe(true);
      expect(now.has(m.from)).toBe(false);
    }
    expect(now.size).toBe(addresses(before).size);
    // The report says the push started, not that it ended.
    const report = JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8")) as MigrationReport;
    expect(report.pushStarted).toEqual({ at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), serial: pushing, lineage: before.lineage });
    expect(report.pushed).toBeUndefined();
    expect(fs.readFileSync(path.join(out, "report.md"), "utf8")).toContain(
      `A push of serial ${pushing} to s3://${emu!.bucket}/${key} (${REGION}; lock: DynamoDB table ${emu!.table}) started at ${report.pushStarted!.at}, under its lock, ` +
        "and this report was not rewritten after it: the run ended during the push, or the push failed.",
    );
    // The backup: the state as S3 held it before (terraform state pull's bytes), byte for byte.
    expect(fs.readFileSync(path.join(out, "original.tfstate"), "utf8")).toBe(beforeText);
    // Killed: its working files, its Terraform's temporary folder and its folder lock (its pid, dead: stale) stay in its folder; nothing in the caller's TMPDIR.
    expect(fs.readdirSync(out).sort()).toEqual([".zivohealth-tmp", ".zivohealth-workdir.json", ".zivohealth-workdir.lock", "migrated.tfstate", "original.tfstate", "report.json", "report.md", "work"]);
    expect(fs.readdirSync(callerTmp)).toEqual([]);
    // The next run with that folder: refused, naming the backup; nothing deleted or changed, nothing pushed.
    const files = snapshot(out);
    const next = await migrate(cwd, environments, config, {}, ["--out", out]);
    expect(next.code).toBe(2);
    expect(next.stderr).toContain(
      `error: ${out} holds original.tfstate, the backup of the state before a push that started at ${report.pushStarted!.at} (serial ${before.serial}, pushing ${pushing}) ` +
        "and did not report its end (terraform state pull shows what the backend holds now): migrate-state never deletes or replaces it. ",
    );
    expect(snapshot(out)).toEqual(files);
    expect((await pull(view)).serial).toBe(pushing + 1);
    expect(fs.readdirSync(callerTmp)).toEqual([]);
  });
  // Not migrate-state's to prevent: a record in DynamoDB outlives the process that wrote it. What the operator sees and runs.
  test("the run and its lock holder killed together (a runner lost) while it holds the lock: the DynamoDB lock stays; refused naming its ID; force-unlock, then the run migrates", async () => {
    const key = "zivohealth/production-lost/terraform.tfstate";
    const { environments, view } = await seed(key);
    const beforeText = (await tf(["state", "pull"], view)).stdout;
    const before = JSON.parse(beforeText);
    const moves = MOVES.filter((m) => addresses(before).has(m.from));
    const root = tmp("lost");
    const cwd = path.join(root, "project");
    const callerTmp = path.join(root, "tmp");
    const out = path.join(root, "k1");
    fs.mkdirSync(cwd);
    fs.mkdirSync(callerTmp);
    const cli = startCli(path.join(__dirname, "lib/migrate-state-s3-cli.ts"), ["--push", "--backend-config", config, "--modules", MODULES, "--data", DATA, "--out", out], {
      cwd,
      env: { ...ENV_VARS, TMPDIR: callerTmp, ZH_TEST_S3_BACKEND: JSON.stringify(environments.production.backend) },
    });
    const pid = cli.child.pid!;
    let terraform: number[] = [];
    try {
      await cli.waitFor(`migrate-state: taking the lock of s3://${emu!.bucket}/${key}`);
      // console holds the lock (it opened the FIFO) once the check under the lock, a state pull, runs: the push has not started.
      const [holder] = await waitForChildren(pid, (argv) => argv[1] === "console", 1);
      const [check] = await waitForChildren(pid, (argv) => argv[1] === "state" && argv[2] === "pull", 1);
      terraform = [holder, check];
      for (const p of [pid, holder, check]) process.kill(p, "SIGKILL");
      expect(await cli.exited).toEqual({ code: null, signal: "SIGKILL" });
      await waitForExit(terraform, "the killed terraform console and state pull");
    } finally {
      for (const p of [pid, ...terraform]) {
        try {
          process.kill(p, "SIGKILL");
        } catch {
          // gone
        }
      }
    }
    // Nothing pushed; the lock item stays, naming console's operation.
    expect((await pull(view)).serial).toBe(before.serial);
    const lock = (await emu!.lockItems()).find((i) => i.LockID.S === `${emu!.bucket}/${key}`);
    expect(lock).toBeDefined();
    const info = JSON.parse((lock as Record<string, { S: string }>).Info.S) as { ID: string; Operation: string; Path: string };
    expect(info).toMatchObject({ ID: expect.stringMatching(/^[0-9a-f-]{36}$/), Operation: "OperationTypeInvalid", Path: `${emu!.bucket}/${key}` });
    const report = JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8")) as MigrationReport;
    expect(report.pushStarted).toBeUndefined();
    expect(fs.readdirSync(callerTmp)).toEqual([]);
    // The next run: refused by the lock, told to force-unlock, with the ID; nothing written.
    const refused = await migrate(cwd, environments, config, {}, ["--out", path.join(root, "k2")]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("release it with terraform force-unlock <ID>, the ID Terraform gives below, in a folder initialized with the stack's backend. Terraform said:");
    expect(refused.stderr).toContain(`ID:        ${info.ID}`);
    expect(fs.existsSync(path.join(root, "k2"))).toBe(false);
    // What the operator runs: force-unlock with that ID, in a folder initialized with the backend; then the run migrates.
    const unlock = await tf(["force-unlock", "-force", "-no-color", info.ID], view);
    expect(unlock.out).toContain("Terraform state has been successfully unlocked!");
    expect(unlock.code).toBe(0);
    const r = await migrate(cwd, environments, config, {}, ["--out", path.join(root, "k3")]);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect((await pull(view)).serial).toBe(before.serial + moves.length + 1);
    expect((await emu!.lockItems()).map((i) => i.LockID.S).sort()).toEqual([...seeded.keys()].map((k) => `${emu!.bucket}/${k}-md5`).sort());
    // The killed run's folder: its backup and its report kept.
    expect(fs.readFileSync(path.join(out, "original.tfstate"), "utf8")).toBe(beforeText);
  });
});
