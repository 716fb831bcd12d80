// Long: one tier file for migrate-state with Terraform on the local backend, as the README's layout has it (a migration, each refusal, each interrupt, a kill during the push); its cases share the layout and the CLI helpers.
// migrate-state with Terraform, local backend, on copies of both fixtures:
// the moves applied by `terraform state mv` on a copy, verified (the state,
// then the offline plans), pushed under the backend's lock; and each refusal
// (a target already taken, another lineage, a backend that changed between
// the read and the push, an interrupt before the push), each leaving the
// backend and the given files as they were.
import { spawn, spawnSync } from "child_process";
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
import { toolchainPreamble } from "./lib/toolchain-preamble";
import { PUSH_SHELL, PUSH_WRAPPER, exitPolls, holdsFd, pushHeldTerraform, startCli, waitForChildren } from "./lib/cli-process";

const { describeTier, terraform: realTerraform } = toolchainPreamble("migrate-state");

const ROOT = path.join(__dirname, "..");
const SHARED = path.join(ROOT, "../shared/fixtures");
const MODULES = path.join(SHARED, "existing-hcl/terraform/modules");
const PRE_FIX = path.join(SHARED, "existing-production.tfstate");
const POST_FIX = path.join(SHARED, "post-fix-production.tfstate");
const DATA = path.join(ROOT, "__tests__/fixtures/plan-check/production-data.json");
const ENV_VARS = { ...process.env, TF_VAR_db_password_plain: "REDACTED" };

const temps: string[] = [];
afterAll(() => temps.forEach((t) => fs.rmSync(t, { recursive: true, force: true })));

/** The README's layout: <root>/infra/cdktf (the project, where npm runs) and <root>/infra/terraform/terraform.tfstate (a copy of the fixture). */
function layout(fixture: string, edit?: (state: any) => void, config: EnvironmentConfig = production) {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "zh-migrate-")));
  temps.push(root);
  const cwd = path.join(root, "infra", "cdktf");
  const backendFile = path.join(root, "infra", "terraform", "terraform.tfstate");
  fs.mkdirSync(cwd, { recursive: true });
  fs.mkdirSync(path.dirname(backendFile), { recursive: true });
  const text = fs.readFileSync(fixture, "utf8");
  if (edit) {
    const state = JSON.parse(text);
    edit(state);
    fs.writeFileSync(backendFile, JSON.stringify(state, null, 2), { mode: 0o600 });
  } else fs.writeFileSync(backendFile, text, { mode: 0o600 });
  const environments: Record<string, EnvironmentConfig> = { production: { ...config, backend: { type: "local", path: backendFile } } };
  return { root, cwd, backendFile, environments };
}

type Layout = ReturnType<typeof layout>;

async function migrate(l: Layout, args: string[], deps: Partial<Deps> = {}) {
  let stdout = "";
  let stderr = "";
  const code = await main(
    ["--modules", MODULES, "--data", DATA, ...args],
    { cwd: l.cwd, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) },
    { environments: l.environments, env: ENV_VARS, ...deps },
  );
  const outs = fs.existsSync(path.join(l.cwd, "cdktf.out", "migrate-state")) ? fs.readdirSync(path.join(l.cwd, "cdktf.out", "migrate-state", "production")) : [];
  const out = outs.length === 1 ? path.join(l.cwd, "cdktf.out", "migrate-state", "production", outs[0]) : undefined;
  const report = out && fs.existsSync(path.join(out, "report.json")) ? (JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8")) as MigrationReport) : undefined;
  return { code, stdout, stderr, out, outs, report };
}

const readJson = (file: string) => JSON.parse(fs.readFileSync(file, "utf8"));
const addresses = (state: any) => parseState(JSON.stringify(state), "state").instances.filter((i) => i.deposed === null).map(instanceAddress);
/** The table's moves whose source the fixture holds: what Terraform must move, derived, not copied. */
const expectedMoves = (fixture: string) => {
  const held = new Set(addresses(readJson(fixture)));
  return MOVES.filter((m) => held.has(m.from));
};
const terraform = (args: string[], cwd: string) => {
  const r = spawnSync(realTerraform, args, { cwd, encoding: "utf8", env: { ...process.env, CHECKPOINT_DISABLE: "1" } });
  if (r.status !== 0) throw new Error(`terraform ${args.join(" ")}: ${r.stderr}`);
};

/** terraform, without blocking the test's event loop (its polls); both outputs in `out`. */
const terraformAsync = (args: string[], cwd: string): Promise<{ code: number | null; out: string }> =>
  new Promise((resolve) => {
    const child = spawn(realTerraform, args, { cwd, env: { ...process.env, CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1" } });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.on("close", (code) => resolve({ code, out }));
  });

const HOST = "aws_instance.compute_host";
/**
 * Production when the pre-fix snapshot was taken (deployed: the host alone), with the three deletes and replaces its
 * plan shows allowed, as validate/plan-check.test.ts has it: the gate passes the plan against its migrated copy.
 */
const preFixAllowed: EnvironmentConfig = {
  ...production,
  deployed: { [HOST]: production.deployed![HOST] },
  allowDestroy: [
    { address: "aws_security_group.ec2_existing_vpc", deposed: true, reason: "deposed by an earlier failed apply; the HCL root deletes it too" },
    { address: HOST, reason: "the snapshot's host runs an older image than the one production records" },
    { address: "module.ssm.aws_ssm_parameter.db_password", reason: "db_password_ssm_name differs from the deployed name" },
  ],
};

/**
 * The CLI's TMPDIR: an empty folder of the test's own, in the layout. A Terraform provider stopped mid-plan by an
 * interrupt can leave its plugin socket (`plugin<digits>`, go-plugin's) in its TMPDIR; the command gives every
 * Terraform it starts a temporary folder of the run's own (lib/workdir), so the cases that stop it assert that this
 * folder is still empty.
 */
const cliTmp = (l: Layout) => path.join(l.root, "tmp");

/** The CLI's environment beyond ENV_VARS. */
function cliEnv(l: Layout): NodeJS.ProcessEnv {
  fs.mkdirSync(cliTmp(l), { recursive: true });
  return { DISABLE_V8_COMPILE_CACHE: "1", TS_NODE_PROJECT: path.join(ROOT, "tsconfig.json"), TMPDIR: cliTmp(l) };
}

/** The CLI as a user runs it (its own process group), with the project's own configuration for the layout's backend. */
const startMigrateState = (l: Layout, args: string[]) =>
  startCli(path.join(ROOT, "commands/migrate-state/index.ts"), ["--modules", MODULES, "--data", DATA, ...args], { cwd: l.cwd, env: { ...ENV_VARS, ...cliEnv(l) } });

describeTier("migrate-state, local backend (Terraform's state mv on a copy, offline plans, push under the lock)", () => {
  test.concurrent.each([
    ["post-fix (today's state)", POST_FIX, false, production],
    ["pre-fix, its plan's deletes allowed (and an interrupt while the push runs: let finish)", PRE_FIX, true, preFixAllowed],
  ])("%s: migrate, verify, push", async (_name, fixture, interruptDuringPush, config) => {
    const l = layout(fixture, undefined, config);
    const before = readJson(l.backendFile);
    const moves = expectedMoves(fixture);
    const controller = new AbortController();
    let duringPush: MigrationReport | undefined;
    const r = await migrate(l, ["--push"], {
      signal: controller.signal,
      onStep: (step) => {
        if (step !== "pushing") return;
        // Terraform's push is running: the report on disk already says it started, and not that it ended.
        const dir = path.join(l.cwd, "cdktf.out", "migrate-state", "production");
        duringPush = readJson(path.join(dir, fs.readdirSync(dir)[0], "report.json"));
        if (interruptDuringPush) controller.abort();
      },
    });
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    // The verification plans say what they do as they run, each step timed, named by plan.
    for (const label of ["the state as read", "the copy"]) expect(r.stderr).toMatch(new RegExp(`\nmigrate-state: plan against ${label}: terraform plan \\(stack\\) \\d+\\.\\d s\n`));
    if (interruptDuringPush) expect(r.stderr).toContain("migrate-state: the interrupt came during the push; the push was let finish and is complete\n");
    const after = readJson(l.backendFile);
    // Every move of the table whose source was there, at its target; nothing else moved, nothing lost.
    const now = new Set(addresses(after));
    for (const m of moves) {
      expect(now.has(m.to)).toBe(true);
      expect(now.has(m.from)).toBe(false);
    }
    const kept = addresses(before).filter((a) => !moves.some((m) => m.from === a));
    for (const a of kept) expect(now.has(a)).toBe(true);
    expect(now.size).toBe(addresses(before).length);
    // One serial per state mv on the copy, one more for the push; the lineage kept.
    expect(after.lineage).toBe(before.lineage);
    expect(r.report!.terraformCalls).toBe(moves.length);
    expect(readJson(path.join(r.out!, "migrated.tfstate")).serial).toBe(before.serial + moves.length);
    expect(after.serial).toBe(before.serial + moves.length + 1);
    expect(duringPush!.pushStarted).toEqual({ at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), serial: before.serial + moves.length, lineage: before.lineage });
    expect(duringPush!.pushed).toBeUndefined();
    expect(r.report!.pushed).toEqual({ serial: after.serial, lineage: before.lineage, note: `the backend holds serial ${after.serial} (\`terraform state push\` writes the pushed state once more, one serial higher)` });
    // The backup is the state as it was, byte for byte.
    expect(fs.readFileSync(path.join(r.out!, "original.tfstate"), "utf8")).toBe(fs.readFileSync(fixture, "utf8"));
    // The verification, as reported.
    const s = r.report!.state!;
    expect(s.problems).toEqual([]);
    expect(s.moved.map((x) => `${x.from} -> ${x.to}`).sort()).toEqual(moves.map((m) => `${m.from} -> ${m.to}`).sort());
    expect(s.kept).toBe(kept.length);
    expect(r.report!.plan!.movesLeft).toEqual([]);
    expect(r.report!.plan!.movesBefore).toBe(moves.length);
    expect(r.report!.plan!.problems).toEqual([]);
    expect(r.stdout).toContain(`### Moved by Terraform (${moves.length} instance(s), ${moves.length} \`terraform state mv\` call(s) on a copy)`);
    expect(r.stdout).toContain(`- **the serial**: ${before.serial} → ${before.serial + moves.length}`);
    // Nothing of the run's working files is left.
    expect(fs.readdirSync(r.out!).sort()).toEqual([".zivohealth-workdir.json", "migrated.tfstate", "original.tfstate", "report.json", "report.md"]);
    // Run again: nothing to move any more.
    const again = await migrate(l, ["--push", "--out", path.join(l.root, "again")]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("Nothing to migrate");
    expect(fs.existsSync(path.join(l.root, "again"))).toBe(false);
    expect(readJson(l.backendFile).serial).toBe(after.serial);
    // Its folder holds the only backup of the state before the push: never reused.
    const reuse = await migrate(l, ["--out", r.out!]);
    expect(reuse.code).toBe(2);
    expect(reuse.stderr).toContain(
      `holds original.tfstate, the backup of the state before an earlier push (serial ${before.serial}, pushed as ${after.serial}): migrate-state never deletes or replaces it. `,
    );
  });

  test.concurrent("pre-fix with production's own lists: the plan against the copy fails the gate: refused, exit 1, each address and action named, nothing written or pushed", async () => {
    const l = layout(PRE_FIX, undefined, { ...preFixAllowed, allowDestroy: undefined });
    const bytes = fs.readFileSync(l.backendFile);
    const r = await migrate(l, ["--push"]);
    expect(r.code).toBe(1);
    expect(r.stderr.slice(r.stderr.indexOf("error: "))).toBe(
      `error: the verification failed: nothing was written or pushed. Removed ${path.join(l.cwd, "cdktf.out", "migrate-state")}, which this run created.\n` +
        "the plan against the copy fails the gate (plan-check's judge, with the stack's allowDestroy, allowReplacement and keepUnplannable):\n" +
        "  - `aws_instance.compute_host`: replace, forced by `ami` — not in the environment's allowDestroy\n" +
        "  - `aws_security_group.ec2_existing_vpc` (deposed object b4a44223): delete — not in the environment's allowDestroy\n" +
        "  - `module.ssm.aws_ssm_parameter.db_password`: replace, forced by `name` — not in the environment's allowDestroy\n" +
        "Applying the migrated state would do this, and once it is pushed the moved blocks no longer show the moves. " +
        "Check stacks/moves.ts (a move to the wrong address plans a replace or a delete), or run plan-check on the state to see the plan\n",
    );
    expect(r.stderr).not.toContain("migrate-state: writing");
    expect(fs.readFileSync(l.backendFile)).toEqual(bytes);
    expect(r.outs).toEqual([]);
    expect(fs.existsSync(path.join(l.cwd, "cdktf.out", "migrate-state"))).toBe(false);
  });

  test.concurrent("a move whose target is already in the state: refused before anything is written", async () => {
    const l = layout(POST_FIX, (s) => {
      const role = s.resources.find((r: any) => r.module === "module.iam" && r.type === "aws_iam_role" && r.name === "ec2_role");
      s.resources.push({ ...structuredClone(role), module: undefined, name: "iam_ec2_role" });
    });
    const bytes = fs.readFileSync(l.backendFile);
    const r = await migrate(l, ["--push"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "error: refusing to migrate: 1 move target(s) already taken, Terraform would refuse to move there and the state holds two objects for one address:\n" +
        "  - moved block module.iam.aws_iam_role.ec2_role → aws_iam_role.iam_ec2_role: aws_iam_role.iam_ec2_role is already in the state\n",
    );
    expect(fs.readFileSync(l.backendFile)).toEqual(bytes);
    expect(r.outs).toEqual([]);
  });

  test.concurrent("a snapshot of another lineage, to push: refused at the read", async () => {
    const l = layout(POST_FIX);
    const other = path.join(l.root, "other-lineage.tfstate");
    const state = readJson(POST_FIX);
    state.lineage = "00000000-0000-0000-0000-000000000000";
    fs.writeFileSync(other, JSON.stringify(state));
    const bytes = fs.readFileSync(l.backendFile);
    const snapshot = fs.readFileSync(other);
    const r = await migrate(l, ["--state", other, "--push"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `error: local state ${l.backendFile} holds a state of another lineage (3e8af382-6ed1-2e06-5e29-1a5665d2e053) than the --state snapshot's ` +
        "(00000000-0000-0000-0000-000000000000): it is not the same state; nothing was pushed",
    );
    expect(fs.readFileSync(l.backendFile)).toEqual(bytes);
    expect(fs.readFileSync(other)).toEqual(snapshot);
    expect(r.outs).toEqual([]);
  });

  test.concurrent("a snapshot of another serial, to push: refused at the read, in the words of the docs' table", async () => {
    const l = layout(POST_FIX);
    const other = path.join(l.root, "newer.tfstate");
    const state = readJson(POST_FIX);
    state.serial = 318;
    fs.writeFileSync(other, JSON.stringify(state));
    const bytes = fs.readFileSync(l.backendFile);
    const r = await migrate(l, ["--state", other, "--push"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `error: local state ${l.backendFile} is not at the --state snapshot: it holds serial 317, the snapshot holds serial 318. Nothing was pushed. ` +
        "Give a snapshot of what the backend holds now (terraform state pull), or run without --state to read it there\n",
    );
    expect(fs.readFileSync(l.backendFile)).toEqual(bytes);
    expect(r.outs).toEqual([]);
  });

  test.concurrent("nothing to migrate, in a folder an earlier run left files in (no backup): those files stay, and nothing was written is true", async () => {
    const l = layout(POST_FIX);
    const migrated = path.join(l.root, "migrated.tfstate");
    // An already migrated state: the post-fix state with every move applied, by Terraform.
    const first = await migrate(l, ["--out", path.join(l.root, "first")]);
    expect(first.code).toBe(0);
    fs.copyFileSync(path.join(l.root, "first", "migrated.tfstate"), migrated);
    // A folder of migrate-state's holding an earlier run's report and scratch files, but no original.tfstate.
    const out = path.join(l.root, "mig one");
    fs.mkdirSync(path.join(out, "work", "copy"), { recursive: true });
    fs.writeFileSync(path.join(out, ".zivohealth-workdir.json"), JSON.stringify({ tool: "migrate-state", format: 1 }));
    fs.writeFileSync(path.join(out, "report.md"), "an earlier report");
    fs.writeFileSync(path.join(out, "work", "copy", "left.tfstate"), "left by a killed run");
    const before = fs.readdirSync(out, { recursive: true, encoding: "utf8" }).sort();
    const r = await migrate(l, ["--state", migrated, "--out", out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Nothing to migrate");
    expect(r.stdout).toContain("Nothing was written.");
    expect(fs.readdirSync(out, { recursive: true, encoding: "utf8" }).sort()).toEqual(before);
    expect(fs.readFileSync(path.join(out, "report.md"), "utf8")).toBe("an earlier report");
    // The folder of the first run holds its backup: refused, every file kept.
    const again = await migrate(l, ["--state", migrated, "--out", path.join(l.root, "first")]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`holds original.tfstate, the backup of serial 317 as an earlier run read it (not pushed): migrate-state never deletes or replaces it.`);
    expect(fs.readdirSync(path.join(l.root, "first")).sort()).toEqual([".zivohealth-workdir.json", "migrated.tfstate", "original.tfstate", "report.json", "report.md"]);
  });

  test.concurrent("the backend written between the read and the push: refused under the lock", async () => {
    const l = layout(POST_FIX);
    let bumped: Buffer | undefined;
    const r = await migrate(l, ["--push"], {
      onStep: (step) => {
        if (step !== "write") return;
        // Someone else's Terraform writes the state meanwhile (two writes: a move and its undo).
        const dir = path.dirname(l.backendFile);
        terraform(["state", "mv", `-state=${l.backendFile}`, `-backup=${dir}/b1`, "module.route53.aws_route53_zone.zone", "module.route53.aws_route53_zone.renamed"], dir);
        terraform(["state", "mv", `-state=${l.backendFile}`, `-backup=${dir}/b2`, "module.route53.aws_route53_zone.renamed", "module.route53.aws_route53_zone.zone"], dir);
        bumped = fs.readFileSync(l.backendFile);
      },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `error: local state ${l.backendFile} changed since step 1: it holds serial 319, step 1 read serial 317. Someone wrote the state in between; nothing was pushed. ` +
        "Run migrate-state again on the current state",
    );
    expect(fs.readFileSync(l.backendFile)).toEqual(bumped);
    expect(r.outs).toEqual([]);
    // The lock is free again: Terraform can take it.
    terraform(["state", "mv", `-state=${l.backendFile}`, `-backup=${l.root}/b3`, "-dry-run", "module.route53.aws_route53_zone.zone", "module.route53.aws_route53_zone.x"], l.root);
  });

  test.concurrent("an interrupt just before the push (the lock held, the check done): refused, the lock released", async () => {
    const l = layout(POST_FIX);
    const bytes = fs.readFileSync(l.backendFile);
    const controller = new AbortController();
    const r = await migrate(l, ["--push"], { signal: controller.signal, onStep: (step) => (step === "push" ? controller.abort() : undefined) });
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/error: interrupted \(the push \(not started\)\), before the push: nothing was pushed; the backend and the given files are untouched\. Removed .*, which this run created\.\n/);
    expect(fs.readFileSync(l.backendFile)).toEqual(bytes);
    expect(r.outs).toEqual([]);
    expect(fs.existsSync(path.join(path.dirname(l.backendFile), ".terraform.tfstate.lock.info"))).toBe(false);
  });

  // Without --push, after the checks: an interrupt before the files are written, or while they are (seen once they are), ends the run.
  test.concurrent.each([
    ["write", "SIGINT", 130, "the write (not started)"],
    ["written", "SIGTERM", 143, "after the write: the files it wrote are not kept"],
  ] as const)("an interrupt at the step %s (%s), without --push: exit %i, nothing of the run kept, said so", async (at, signal, exitCode, step) => {
    const l = layout(POST_FIX);
    const bytes = fs.readFileSync(l.backendFile);
    const controller = new AbortController();
    const r = await migrate(l, [], { signal: controller.signal, onStep: (s) => (s === at ? controller.abort(signal) : undefined) });
    expect(r.code).toBe(exitCode);
    expect(r.stderr.slice(r.stderr.indexOf("error: "))).toBe(
      `error: interrupted (${step}), before the push: nothing was pushed; the backend and the given files are untouched. ` +
        `Removed ${path.join(l.cwd, "cdktf.out", "migrate-state")}, which this run created.\n`,
    );
    expect(r.stdout).toBe("");
    expect(fs.readFileSync(l.backendFile)).toEqual(bytes);
    expect(fs.existsSync(path.join(l.cwd, "cdktf.out", "migrate-state"))).toBe(false);
  });

  /** The pid of the terraform console holding the lock for this layout's run (main runs in this process; its folder is in the layout). */
  async function lockHolder(l: Layout): Promise<number> {
    for (const end = Date.now() + 15_000; ; await new Promise((r) => setTimeout(r, 20))) {
      for (const e of fs.readdirSync("/proc").filter((x) => /^\d+$/.test(x))) {
        try {
          if (fs.readFileSync(`/proc/${e}/cmdline`, "utf8").split("\0")[1] === "console" && fs.readlinkSync(`/proc/${e}/cwd`).startsWith(l.root + path.sep)) return Number(e);
        } catch {
          // gone meanwhile
        }
      }
      if (Date.now() > end) throw new Error(`no terraform console in ${l.root} after 15 s`);
    }
  }
  /** Kills the run's lock holder and waits until it is reaped (its exit seen by the run). */
  async function killLockHolder(l: Layout): Promise<void> {
    const pid = await lockHolder(l);
    process.kill(pid, "SIGKILL");
    while (fs.existsSync(`/proc/${pid}`)) await new Promise((r) => setTimeout(r, 10));
  }

  test.concurrent("the lock lost before the push (its holder killed) and the state written meanwhile: refused, the other write kept", async () => {
    const l = layout(POST_FIX);
    let written: Buffer | undefined;
    const r = await migrate(l, ["--push"], {
      onStep: async (step) => {
        if (step !== "push") return;
        await killLockHolder(l);
        // Another Terraform takes the lock that is free now, and writes.
        const dir = path.dirname(l.backendFile);
        terraform(["state", "mv", "-lock-timeout=0s", `-state=${l.backendFile}`, `-backup=${dir}/b1`, "module.route53.aws_route53_zone.zone", "module.route53.aws_route53_zone.renamed"], dir);
        written = fs.readFileSync(l.backendFile);
      },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "error: the backend's lock was lost before the push: terraform console, which held it, was ended by SIGKILL. Nothing was pushed " +
        "(without the lock, another Terraform could write the state between the check and the push). Run migrate-state again\n" +
        `The backend and the given files are untouched. Removed ${path.join(l.cwd, "cdktf.out", "migrate-state")}, which this run created.\n`,
    );
    expect(fs.readFileSync(l.backendFile)).toEqual(written);
    expect(readJson(l.backendFile).serial).toBe(318);
    expect(r.outs).toEqual([]);
  });

  test.concurrent("the lock lost while the push runs: exit 1, the push landed and said so, the backup kept", async () => {
    const l = layout(POST_FIX);
    const out = path.join(l.root, "lost");
    const r = await migrate(l, ["--push", "--out", out], { onStep: (step) => (step === "pushing" ? killLockHolder(l) : undefined) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `error: the push ran and local state ${l.backendFile} holds the migrated state (serial 349), but the backend's lock was lost while it ran: ` +
        "terraform console, which held it, was ended by SIGKILL. Another Terraform could have written the state in that time, and the push replaced what it wrote: " +
        "check the backend's history (an S3 bucket's object versions) before the next apply\n" +
        `The push ran: the state before it is kept in ${path.join(out, "original.tfstate")}.\n`,
    );
    expect(readJson(l.backendFile).serial).toBe(349);
    expect(fs.readFileSync(path.join(out, "original.tfstate"), "utf8")).toBe(fs.readFileSync(POST_FIX, "utf8"));
  });

  // A push Terraform reports as failed: what the backend holds is read back, never assumed.
  test.concurrent.each([
    ["refused, nothing written", 'echo "Error: refused" >&2; exit 1', 2],
    ["written, then failed (S3: the digest not stored)", '"$REAL" "$@" > /dev/null 2>&1; echo "Error: failed to store state MD5" >&2; exit 1', 1],
    ["the state file emptied (a full disk)", ': > "$STATE"; echo "Error: no space left on device" >&2; exit 1', 1],
  ])("a push that fails: %s: what the backend holds, said; exit 2 only when it is unchanged", async (name, push, exitCode) => {
    const l = layout(POST_FIX);
    const out = path.join(l.root, "failed");
    const bin = path.join(l.root, "bin");
    fs.mkdirSync(bin);
    fs.writeFileSync(
      path.join(bin, "terraform"),
      `#!/bin/sh\nREAL=${realTerraform}; STATE=${l.backendFile}\nif [ "$1 $2" = "state push" ]; then ${push}; fi\nexec "$REAL" "$@"\n`,
      { mode: 0o755 },
    );
    const r = await migrate(l, ["--push", "--out", out], { env: { ...ENV_VARS, PATH: `${bin}${path.delimiter}${process.env.PATH}` } });
    expect(r.code).toBe(exitCode);
    const where = `local state ${l.backendFile}`;
    const lineage = "3e8af382-6ed1-2e06-5e29-1a5665d2e053";
    const backup = `the state before it is kept in ${path.join(out, "original.tfstate")}.\n`;
    const said = {
      "refused, nothing written":
        `error: Terraform refused the push; ${where} still holds the state step 1 read (serial 317, lineage ${lineage}, read back with terraform state pull). ` +
        `Terraform said:\nError: refused\nThe backend is unchanged: ${backup}`,
      "written, then failed (S3: the digest not stored)":
        `error: Terraform reported the push as failed, but ${where} holds the migrated state (serial 349, lineage ${lineage}): the push landed. ` +
        `Terraform said:\nError: failed to store state MD5\nThe push ran: ${backup}`,
      "the state file emptied (a full disk)":
        `error: Terraform reported the push as failed, and ${where} holds neither the state step 1 read nor the migrated state (it holds no state). ` +
        `If it lost the state, restore it from ${path.join(out, "original.tfstate")} with terraform state push. Terraform said:\nError: no space left on device\n` +
        `The push was started (check the backend with terraform state pull): ${backup}`,
    }[name]!;
    expect(r.stderr.slice(r.stderr.indexOf("error: "))).toBe(said);
    expect(fs.readFileSync(path.join(out, "original.tfstate"), "utf8")).toBe(fs.readFileSync(POST_FIX, "utf8"));
    const report = readJson(path.join(out, "report.json")) as MigrationReport;
    expect([report.pushStarted?.serial, report.pushed]).toEqual([348, undefined]);
  });

  // Ctrl-C while plan-check's synchronous toolchain probe runs: the probe's child dies by SIGINT before
  // the command's own listener has run. Here only the probe's child gets it, so only the probe can tell.
  test.concurrent("SIGINT that stops plan-check's terraform version -json: reported as an interrupt, not as a missing toolchain", async () => {
    const l = layout(POST_FIX);
    const bytes = fs.readFileSync(l.backendFile);
    const bin = path.join(l.root, "bin");
    fs.mkdirSync(bin);
    // terraform for every command but `version`, which Ctrl-C stops.
    fs.writeFileSync(path.join(bin, "terraform"), `#!/bin/sh\nif [ "$1" = version ]; then kill -INT $$; sleep 5; exit 9; fi\nexec ${realTerraform} "$@"\n`, { mode: 0o755 });
    const r = await migrate(l, ["--push"], { env: { ...ENV_VARS, PATH: `${bin}${path.delimiter}${process.env.PATH}` } });
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(
      /^migrate-state: [\s\S]*error: interrupted \(the verification plans: terraform version -json stopped by SIGINT\), before the push: nothing was pushed; the backend and the given files are untouched\. Removed .*, which this run created\.\n$/,
    );
    expect(r.stderr).not.toContain("offline plan needs terraform");
    expect(fs.readFileSync(l.backendFile)).toEqual(bytes);
    expect(r.outs).toEqual([]);
  });

  test("SIGTERM to the command's process alone (a CI cancel) during the verification plans: their Terraform stopped at once, exit 143, nothing written", async () => {
    const l = layout(POST_FIX);
    const bytes = fs.readFileSync(l.backendFile);
    const cli = startMigrateState(l, ["--push"]);
    await cli.waitFor("migrate-state: verifying");
    // Both plans' terraform plan running (children of the command's process: plan-check runs inside it).
    const plans = await waitForChildren(cli.child.pid!, (argv) => argv[1] === "plan", 2);
    process.kill(cli.child.pid!, "SIGTERM");
    expect((await cli.exited).code).toBe(143);
    expect(cli.stderr()).toMatch(
      /error: interrupted \(the verification plans: stopped their Terraform, pid \d+, \d+\), before the push: nothing was pushed; the backend and the given files are untouched\. Removed .*, which this run created\.\n$/,
    );
    // Stopped, not let finish: neither plan got to its end.
    expect(cli.stderr()).not.toMatch(/plan against the (state as read|copy): terraform plan \(stack\) \d/);
    for (const pid of plans) expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: "ESRCH" }));
    expect(fs.readFileSync(l.backendFile)).toEqual(bytes);
    expect(fs.existsSync(path.join(l.cwd, "cdktf.out", "migrate-state"))).toBe(false);
    expect(fs.readdirSync(cliTmp(l))).toEqual([]); // nothing of Terraform's (no plugin socket) in the caller's TMPDIR
  });

  test("SIGKILL during the push: the lock stays held until the push ends (a second Terraform refused), then released; the push lands, the report says it started, the next run keeps the backup", async () => {
    const l = layout(POST_FIX);
    const out = path.join(l.root, "k1");
    const stateDir = path.dirname(l.backendFile);
    const lockInfo = path.join(stateDir, ".terraform.tfstate.lock.info");
    // The second operation, as a user of this backend runs it: Terraform in the state's folder (the local backend's
    // default state, ./terraform.tfstate), a command that takes the state lock, offline, writing nothing (-dry-run),
    // on an address the migration keeps.
    const kept = addresses(readJson(POST_FIX)).find((a) => /^[a-z0-9_]+\.[a-z0-9_]+$/.test(a) && !MOVES.some((m) => m.from === a))!;
    const second = () => terraformAsync(["state", "mv", "-dry-run", "-lock-timeout=0s", "-no-color", kept, `${kept}_probe`], stateDir);
    // Terraform through a wrapper that holds the push once it has ended, until released (pushHeldTerraform says why).
    const held = pushHeldTerraform(path.join(l.root, "bin"), realTerraform);
    const cli = startCli(path.join(ROOT, "commands/migrate-state/index.ts"), ["--modules", MODULES, "--data", DATA, "--push", "--out", out], {
      cwd: l.cwd,
      env: { ...ENV_VARS, ...cliEnv(l), PATH: `${held.bin}${path.delimiter}${process.env.PATH ?? ""}` },
    });
    try {
      await cli.waitFor("migrate-state: pushing serial 348");
      const [holder] = await waitForChildren(cli.child.pid!, (argv) => argv[1] === "console", 1);
      // The push: the shell migrate-state started, which holds console's input (fd 3); Terraform (the wrapper) its child.
      const [pusher] = await waitForChildren(cli.child.pid!, PUSH_SHELL, 1);
      process.kill(cli.child.pid!, "SIGKILL");
      expect(await cli.exited).toEqual({ code: null, signal: "SIGKILL" });
      // migrate-state is dead and Terraform's push has written the state; the push's process still runs (held).
      expect(await held.ended()).toBe(0);
      // console's input held by the push's shell alone: Terraform (the wrapper, held; its real push, ended) runs without it.
      const [wrapper] = await waitForChildren(pusher, PUSH_WRAPPER, 1);
      expect([holdsFd(pusher, 3), holdsFd(wrapper, 3)]).toEqual([true, false]);
      expect(readJson(l.backendFile).serial).toBe(349);
      // The lock, read as a user of the backend meets it: Terraform's lock on the state file is still console's (an OS
      // lock on the file, and its note beside it), and a second Terraform is refused, naming it.
      const refused = await second();
      expect(refused.out).toContain("Error: Error acquiring the state lock");
      expect(refused.code).toBe(1);
      expect(fs.existsSync(lockInfo)).toBe(true);
      const info = readJson(lockInfo);
      expect(info).toMatchObject({ ID: expect.stringMatching(/^[0-9a-f-]{36}$/), Operation: "OperationTypeInvalid", Path: l.backendFile });
      expect(refused.out).toContain(`Lock Info:\n  ID:        ${info.ID}\n  Path:      ${l.backendFile}\n  Operation: OperationTypeInvalid\n`);
      // Terraform's push, in its own process group, ends; console, the lock holder, sees its input end (the push
      // holds it too, as its fd 3) and unlocks: never before the push has let go of it (seen at the same 5 ms poll
      // at the earliest; exitPolls says why the close, not the exit, is what can be ordered).
      const polls = exitPolls([holder, pusher], "the killed run's terraform console and state push", { letGo: [undefined, 3] });
      held.release();
      const [holderGone, pusherGone] = await polls;
      expect(pusherGone).toBeGreaterThan(0); // the push still ran after the kill (else this proves nothing)
      expect(holderGone).toBeGreaterThanOrEqual(pusherGone);
    } finally {
      held.release(); // after a failure above: the wrapper exits, and console with it
    }
    // Released: the note gone, and the same second operation takes the lock.
    expect(fs.existsSync(lockInfo)).toBe(false);
    const taken = await second();
    expect(taken.out).toContain(`Would move "${kept}" to "${kept}_probe"`);
    expect(taken.code).toBe(0);
    expect(readJson(l.backendFile).serial).toBe(349);
    const report = readJson(path.join(out, "report.json")) as MigrationReport;
    expect(report.pushStarted).toMatchObject({ serial: 348 });
    expect(report.pushed).toBeUndefined();
    expect(fs.readFileSync(path.join(out, "original.tfstate"), "utf8")).toBe(fs.readFileSync(POST_FIX, "utf8"));
    // The next run with that folder: refused, naming the backup; nothing deleted.
    const next = await migrate(l, ["--push", "--out", out]);
    expect(next.code).toBe(2);
    expect(next.stderr).toContain(
      `error: ${out} holds original.tfstate, the backup of the state before a push that started at ${report.pushStarted!.at} (serial 317, pushing 348) ` +
        "and did not report its end (terraform state pull shows what the backend holds now): migrate-state never deletes or replaces it. ",
    );
    expect(fs.readFileSync(path.join(out, "original.tfstate"), "utf8")).toBe(fs.readFileSync(POST_FIX, "utf8"));
    expect(readJson(l.backendFile).serial).toBe(349);
    // Killed: the run's temporary folder stays in its folder, with the backup, never in the caller's TMPDIR.
    expect(fs.readdirSync(cliTmp(l))).toEqual([]);
  });

  test("SIGINT to the command (its process group, as Ctrl-C sends it) during the verification: exit 130, nothing written", async () => {
    const l = layout(POST_FIX);
    // The CLI as a user runs it, with the project's own configuration: <root>/infra/terraform/terraform.tfstate.
    const bytes = fs.readFileSync(l.backendFile);
    const child = spawn(
      process.execPath,
      ["-r", require.resolve("ts-node/register/transpile-only"), path.join(ROOT, "commands/migrate-state/index.ts"), "--modules", MODULES, "--data", DATA, "--push"],
      { cwd: l.cwd, env: { ...ENV_VARS, ...cliEnv(l) }, detached: true, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stderr.setEncoding("utf8").on("data", (d: string) => {
        stderr += d;
        if (stderr.includes("migrate-state: verifying")) resolve();
      });
      void exited.then(() => reject(new Error(`exited before the verification:\n${stderr}`)));
    });
    process.kill(-child.pid!, "SIGINT");
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/error: interrupted \([^)]+\), before the push: nothing was pushed; the backend and the given files are untouched\. Removed .*, which this run created\.\n/);
    expect(fs.readFileSync(l.backendFile)).toEqual(bytes);
    expect(fs.existsSync(path.join(l.cwd, "cdktf.out", "migrate-state"))).toBe(false);
    expect(fs.readdirSync(cliTmp(l))).toEqual([]); // nothing of Terraform's (no plugin socket) in the caller's TMPDIR
  });
});
