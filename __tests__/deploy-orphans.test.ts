// The blocking runs (deploy --plan's Terraform, the cdktf CLI: spawnSync, the terminal kept) get no process group
// of their own: once each returns, the `terraform-provider-*` it left orphaned in the folders its Terraform works in
// are killed (lib/process-group.ts's killOrphanedProviders). With real processes: a fake that starts a
// `terraform-provider-fake` (a link to sleep) in the folder and ends without stopping it.
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { EnvironmentConfig } from "../config/environment";
import { main, runCdktf, stackFolders } from "../commands/cdktf";
import { inheritRunner } from "../commands/cdktf/deploy-plan";
import { runInPrivateTmp } from "../lib/workdir";
import { WAIT_FOR_PROVIDER, ended, killedAfterEach, until } from "./processes";
import { tempDir } from "./tmp";


/** Every pid a case started: killed after it, so a failing case leaves nothing running. */
const started = killedAfterEach();

/** The pid written in `file` (waited for up to 5 s), kept to be killed after the case. */
async function pidIn(file: string): Promise<number> {
  await until(() => fs.existsSync(file) && fs.readFileSync(file, "utf8").endsWith("\n"), 5_000);
  const pid = Number(fs.readFileSync(file, "utf8"));
  started.push(pid);
  return pid;
}

/**
 * A stack's folder, the provider link, and the providers that must survive: those of a live fake `terraform` and a
 * live fake `tofu` working in the same folder, and an orphan-like one (its parent this test) working elsewhere.
 */
async function setUp() {
  const root = tempDir("zh-deploy-orphans-");
  const stack = path.join(root, "cdktf.out", "stacks", "prod");
  const elsewhere = path.join(root, "elsewhere");
  for (const d of [stack, elsewhere, path.join(root, "live"), path.join(root, "live-tofu")]) fs.mkdirSync(d, { recursive: true });
  const link = path.join(root, "terraform-provider-fake");
  fs.symlinkSync(fs.realpathSync("/bin/sleep"), link);
  const live = path.join(root, "live", "terraform");
  fs.writeFileSync(live, `#!/bin/sh\n"${link}" 300 </dev/null >/dev/null 2>&1 &\n${WAIT_FOR_PROVIDER}echo $p > "$1.tmp"; mv "$1.tmp" "$1"\nwait\n`, { mode: 0o755 });
  const liveTf = spawn(live, [path.join(root, "live.pid")], { cwd: stack, stdio: "ignore" });
  started.push(liveTf.pid!);
  // A live run under another name (OpenTofu): its provider has a parent that lives, so it is no orphan either.
  const tofu = path.join(root, "live-tofu", "tofu");
  fs.copyFileSync(live, tofu);
  const liveTofu = spawn(tofu, [path.join(root, "tofu.pid")], { cwd: stack, stdio: "ignore" });
  started.push(liveTofu.pid!);
  const other = spawn(link, ["300"], { cwd: elsewhere, stdio: "ignore" });
  started.push(other.pid!);
  const survivors = [await pidIn(path.join(root, "live.pid")), await pidIn(path.join(root, "tofu.pid")), other.pid!, liveTf.pid!, liveTofu.pid!];
  return { root, stack, link, survivors };
}

/** A fake `terraform` that starts the provider in its folder, writes its pid, then exits with $1 (`show`: 2), or kills itself (`kill`). */
function fakeTerraform(root: string, link: string): string {
  const bin = path.join(root, "terraform.sh");
  fs.writeFileSync(
    bin,
    `#!/bin/sh\n"${link}" 300 </dev/null >/dev/null 2>&1 &\n${WAIT_FOR_PROVIDER}echo $p > "${root}/left.pid"\ncase $1 in kill) kill -KILL $$;; show) exit 2;; esac\nexit "$1"\n`,
    { mode: 0o755 },
  );
  return bin;
}

describe("deploy --plan's Terraform: the provider it left orphaned in its folder is killed when it returns", () => {
  it.each([
    ["exits 3", "3", 3],
    ["is killed outright (SIGKILL)", "kill", 137],
  ])("terraform %s: its orphan is gone, its code unchanged; a live Terraform's provider there and one elsewhere run on", async (_how, arg, code) => {
    const { root, stack, link, survivors } = await setUp();
    expect(inheritRunner.terraform(fakeTerraform(root, link), [arg], stack, process.env)).toBe(code);
    const orphan = await pidIn(path.join(root, "left.pid"));
    // SIGKILL is sent before the runner returns; a loaded machine may take a moment to end it (polled, not slept).
    expect(await until(() => ended(orphan), 5_000)).toBe(true);
    expect(survivors.filter(ended)).toEqual([]);
  });

  it("a TMPDIR too long for the private folder (the child runs in it as it is): its orphan is gone too", async () => {
    const { root, stack, link, survivors } = await setUp();
    const long = path.join(root, "d".repeat(80 - root.length - 1));
    fs.mkdirSync(long);
    const env = { ...process.env, TMPDIR: long };
    let stderr = "";
    expect(runInPrivateTmp("deploy", fakeTerraform(root, link), ["0"], { cwd: stack, env, stderr: (t) => (stderr += t), orphansIn: [stack] })).toBe(0);
    expect(stderr).toMatch(/^note: no private temporary folder for deploy's Terraform: /);
    expect(await until(() => ended(Number(fs.readFileSync(path.join(root, "left.pid"), "utf8"))), 5_000)).toBe(true);
    expect(survivors.filter(ended)).toEqual([]);
  });

  it("terraform show -json: its orphan too; its exit code returned", async () => {
    const { root, stack, link, survivors } = await setUp();
    expect(inheritRunner.show(fakeTerraform(root, link), "the.tfplan", stack, process.env).code).toBe(2);
    expect(await until(() => ended(Number(fs.readFileSync(path.join(root, "left.pid"), "utf8"))), 5_000)).toBe(true);
    expect(survivors.filter(ended)).toEqual([]);
  });
});

describe("the cdktf CLI: the providers its Terraform left orphaned in the stacks' folders are killed when it returns", () => {
  it("a cdktf whose Terraform left a provider in cdktf.out/stacks/prod: gone after it exits 4; the others run on", async () => {
    const { root, stack, link, survivors } = await setUp();
    const script = path.join(root, "cdktf.js");
    // As cdktf runs Terraform: in the stack's folder; this Terraform ends without stopping its provider.
    fs.writeFileSync(
      script,
      `require("child_process").spawnSync("/bin/sh", ["-c", '"$0" 300 </dev/null >/dev/null 2>&1 & ${WAIT_FOR_PROVIDER}echo $p > "$1"', ${JSON.stringify(link)}, ${JSON.stringify(path.join(root, "left.pid"))}], { cwd: ${JSON.stringify(stack)} });\n` +
        "process.exitCode = Number(process.argv[2]);\n",
    );
    expect(runCdktf(["4"], script, process.env, [stack])).toBe(4);
    const orphan = await pidIn(path.join(root, "left.pid"));
    expect(await until(() => ended(orphan), 5_000)).toBe(true);
    expect(survivors.filter(ended)).toEqual([]);
  });

  it("the folders: <outdir>/stacks/<stack> of each stack selected, for the commands that run Terraform; none for synth", () => {
    const names = ["production", "staging", "dev"];
    expect(stackFolders(["deploy", "prod*", "--output", "out"], "/p", names)).toEqual(["/p/out/stacks/production"]);
    expect(stackFolders(["destroy", "dev"], "/p", names)).toEqual(["/p/cdktf.out/stacks/dev"]);
    expect(stackFolders(["output", "-o", "/abs"], "/p", names)).toEqual(["/abs/stacks/production", "/abs/stacks/staging", "/abs/stacks/dev"]);
    expect(stackFolders(["synth"], "/p", names)).toEqual([]);
    expect(stackFolders([], "/p", names)).toEqual([]);
  });

  it("main hands the runner the folders of the stacks the command selects", () => {
    const seen: string[][] = [];
    const env = {} as EnvironmentConfig;
    const code = main(["output", "stag*"], { stdout: () => undefined, stderr: () => undefined, cwd: "/p" }, { cdktf: (_a, f) => (seen.push([...f]), 5) }, { production: env, staging: env });
    expect([code, seen]).toEqual([5, [["/p/cdktf.out/stacks/staging"]]]);
  });
});
