// deploy --plan with Terraform: a real plan-check folder (offline, post-fix
// state, moves only), refused by the command line as offline; then, through the test
// seam no command line can reach, applied by `terraform apply <plan file>` to
// plan-check's own state copy (no cloud call: moves and no-ops only); a stale
// plan refused by Terraform itself, its words shown whole; a changed plan file
// and changed sources refused before Terraform runs.
import { spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EnvironmentConfig } from "../config/environment";
// Fidelity to the HCL root: production as the HCL root has it, frozen in the tests, not as configured
// (config/environments.ts, which a team changes); a configured variant keeps its own settings on it.
import { HCL_PRODUCTION as production } from "../__tests__/fixtures/hcl-production";
import { main as cdktf } from "../commands/cdktf";
import { ApplyRunner, deployPlan } from "../commands/cdktf/deploy-plan";
import { plannedRootFiles, plannedTargets, plannedWorkspace } from "../lib/plan/plan-file";
import { cacheDirOf, offlineTerraform } from "../lib/plan/run";
import { instanceAddress, parseState } from "../lib/migration";
import { PlanCheckReport } from "../lib/plan/report";
import { main as planCheck } from "../commands/plan-check";
import { MOVES } from "../stacks/moves";
import { toolchainPreamble } from "./lib/toolchain-preamble";

const { detection, describeTier, terraform } = toolchainPreamble("deploy --plan");

const ROOT = path.join(__dirname, "..");
const SHARED = path.join(ROOT, "../shared/fixtures");
const MODULES = path.join(SHARED, "existing-hcl/terraform/modules");
const POST_FIX = path.join(SHARED, "post-fix-production.tfstate");
const DATA = path.join(ROOT, "__tests__/fixtures/plan-check/production-data.json");
const ENV_VARS = { ...process.env, TF_VAR_db_password_plain: "REDACTED" };
const environments: Record<string, EnvironmentConfig> = { production };

const temps: string[] = [];
afterAll(() => temps.forEach((t) => fs.rmSync(t, { recursive: true, force: true })));

/** A plan-check folder: offline, against a copy of `state` (default: the post-fix fixture). */
async function reviewed(state = POST_FIX, name = "reviewed"): Promise<{ cwd: string; folder: string; report: PlanCheckReport & { counts: Record<string, number> } }> {
  const cwd = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "zh-deploy-plan-")));
  temps.push(cwd);
  let stdout = "";
  let stderr = "";
  const folder = path.join(cwd, "cdktf.out", "plan-check", name);
  const code = await planCheck(
    ["--offline", "--state", state, "--modules", MODULES, "--data", DATA, "--out", folder, "--json"],
    { cwd, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) },
    { environments, env: ENV_VARS },
  );
  if (code !== 0) throw new Error(`plan-check exited ${code}: ${stderr}${stdout.slice(0, 2000)}`);
  return { cwd, folder, report: JSON.parse(stdout) };
}

/**
 * A plan of moves alone: the post-fix state's host given the user data the stack renders now (the
 * known values and sensitive paths the first plan would set), so that the host and its records are
 * no-ops and the plan's application calls nothing.
 */
async function movesOnly() {
  const first = await reviewed(POST_FIX, "first");
  const plan = JSON.parse(fs.readFileSync(path.join(first.folder, "stack", "plan.json"), "utf8"));
  const host = plan.resource_changes.find((c: any) => c.type === "aws_instance" && c.change.actions.join() === "update").change;
  const state = JSON.parse(fs.readFileSync(POST_FIX, "utf8"));
  const instance = state.resources.find((r: any) => r.type === "aws_instance").instances[0];
  for (const [key, value] of Object.entries(host.after)) {
    if (host.after_unknown?.[key] !== true && JSON.stringify(value) !== JSON.stringify(host.before[key])) instance.attributes[key] = value;
  }
  instance.sensitive_attributes = Object.entries(host.after_sensitive)
    .filter(([, v]) => v === true)
    .map(([key]) => [{ type: "get_attr", value: key }]);
  const file = path.join(first.cwd, "host-as-rendered.tfstate");
  fs.writeFileSync(file, JSON.stringify(state));
  return reviewed(file, "moves-only");
}

/** Real terraform, its output captured (the CLI's runner inherits the terminal instead). */
const capture = (out: { text: string }): ApplyRunner => ({
  terraform(bin, args, cwd, env) {
    const r = spawnSync(bin, args, { cwd, env, encoding: "utf8" });
    out.text += r.stdout + r.stderr;
    return r.status ?? 1;
  },
  show(bin, planFile, cwd, env) {
    const r = spawnSync(bin, ["show", "-json", planFile], { cwd, env, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
    out.text += r.stderr;
    return { code: r.status ?? 1, json: r.stdout };
  },
});

function io(cwd: string) {
  const o = { stdout: "", stderr: "" };
  return { o, io: { cwd, stdout: (t: string) => (o.stdout += t), stderr: (t: string) => (o.stderr += t) } };
}

const addresses = (file: string) =>
  new Set(
    parseState(fs.readFileSync(file, "utf8"), file)
      .instances.filter((i) => i.deposed === null)
      .map(instanceAddress),
  );

describeTier("deploy --plan <plan-check folder>", () => {
  test.concurrent("an offline plan: refused by the command line, applied through the test seam to plan-check's own state copy", async () => {
    const r = await movesOnly();
    // Moves and no-ops only: its application makes no cloud call.
    const moves = MOVES.filter((m) => addresses(POST_FIX).has(m.from));
    expect(r.report.counts).toMatchObject({ create: 0, update: 0, replace: 0, delete: 0, move: moves.length });
    expect(r.report.mode).toBe("offline");
    expect(r.report.plannedAgainst).toBe("snapshot");
    expect(r.report.planFile!.path).toBe("stack/plan.tfplan");
    expect(r.report.planFile!.workingDir).toBe(path.join(r.folder, "stack"));

    // The command line, as a user runs it: refused, with why.
    const cli = io(r.cwd);
    const refused = cdktf(["deploy", "production", "--plan", r.folder], cli.io, undefined, environments, undefined, capture({ text: "" }));
    expect(refused).toBe(2);
    expect(cli.o.stderr).toContain(
      "error: refusing to apply an offline plan (plan-check --offline): its configuration was adapted to run without AWS (fake credentials, data sources replaced by recorded values, " +
        "the installed provider instead of the pinned one, a copy of the state fitted to it), so applying it would write that copy's state, not production's.",
    );

    // The seam: the same checks, then terraform apply <plan file> where plan-check planned.
    const copy = path.join(r.folder, "stack", "terraform.tfstate");
    const before = JSON.parse(fs.readFileSync(copy, "utf8"));
    const out = { text: "" };
    const seam = io(r.cwd);
    const code = deployPlan("production", r.folder, seam.io, { environments, env: ENV_VARS, runner: capture(out), acceptOfflinePlanForTests: true });
    expect(seam.o.stderr).toContain("TEST SEAM (acceptOfflinePlanForTests): applying an offline plan in " + path.join(r.folder, "stack"));
    expect(out.text).toContain("Apply complete! Resources: 0 added, 0 changed, 0 destroyed.");
    expect(code).toBe(0);
    const after = JSON.parse(fs.readFileSync(copy, "utf8"));
    expect(after.lineage).toBe(before.lineage);
    expect(after.serial).toBe(before.serial + 1);
    const now = addresses(copy);
    for (const m of moves) {
      expect(now.has(m.to)).toBe(true);
      expect(now.has(m.from)).toBe(false);
    }
  });

  test.concurrent("a plan made in another Terraform workspace: refused before Terraform runs, naming both (Terraform itself would apply it); in its own workspace, applied", async () => {
    const r = await movesOnly();
    const stackDir = path.join(r.folder, "stack");
    const planFile = path.join(stackDir, "plan.tfplan");
    if (!detection.ok) throw new Error(detection.reason);
    // Terraform as plan-check and the seam run it there.
    const tf = offlineTerraform(detection.toolchain, cacheDirOf(ENV_VARS), ENV_VARS);
    const run = (...args: string[]) => {
      const x = spawnSync(tf.bin, args, { cwd: stackDir, env: tf.env, encoding: "utf8" });
      if (x.status !== 0) throw new Error(`terraform ${args.join(" ")} exited ${x.status}: ${x.stdout}${x.stderr}`);
      return x.stdout;
    };
    const stateOf = (file: string) => JSON.parse(fs.readFileSync(path.join(stackDir, file), "utf8"));
    const before = stateOf("terraform.tfstate");
    // `other` holds the very state (its lineage: the file copied in, as `terraform state push` of it would);
    // `staging` a copy `workspace new -state` makes (a new lineage), where the same plan is made.
    run("workspace", "new", "other");
    fs.copyFileSync(path.join(stackDir, "terraform.tfstate"), path.join(stackDir, "terraform.tfstate.d", "other", "terraform.tfstate"));
    run("workspace", "new", "-state=terraform.tfstate", "staging");
    run("plan", "-input=false", "-lock=false", "-refresh=false", "-no-color", "-out=staging.tfplan");
    const staging = fs.readFileSync(path.join(stackDir, "staging.tfplan"));
    expect(plannedWorkspace(fs.readFileSync(planFile))).toBe("default");
    expect(plannedWorkspace(staging)).toBe("staging");
    // Terraform 1.11.4 itself applies the plan made in `default` to the selected workspace's state: it compares lineage and serial, not workspaces.
    run("workspace", "select", "other");
    expect(run("apply", "-input=false", "-no-color", planFile)).toContain("Apply complete! Resources: 0 added, 0 changed, 0 destroyed.");
    expect(stateOf("terraform.tfstate.d/other/terraform.tfstate")).toMatchObject({ lineage: before.lineage, serial: before.serial + 1 });

    // deploy --plan of the staging plan, where `default` is selected: refused before Terraform runs.
    run("workspace", "select", "default");
    fs.copyFileSync(path.join(stackDir, "staging.tfplan"), planFile);
    const report = JSON.parse(fs.readFileSync(path.join(r.folder, "report.json"), "utf8"));
    report.planFile.sha256 = createHash("sha256").update(staging).digest("hex");
    fs.writeFileSync(path.join(r.folder, "report.json"), JSON.stringify(report));
    const ran = { text: "" };
    const refused = io(r.cwd);
    expect(deployPlan("production", r.folder, refused.io, { environments, env: ENV_VARS, runner: capture(ran), acceptOfflinePlanForTests: true })).toBe(2);
    expect(refused.o.stderr).toBe(
      `error: refusing to apply: ${planFile} was planned in Terraform workspace 'staging', but deploy would apply it in workspace 'default' ` +
        `(${path.join(stackDir, ".terraform", "environment")}), whose state it was not planned against. ` +
        "Select 'staging' (terraform workspace select, or TF_WORKSPACE) or plan again in 'default'.\n",
    );
    expect(ran.text).toBe("");
    expect(stateOf("terraform.tfstate")).toEqual(before);

    // With `staging` selected: the same plan applied, to staging's state.
    run("workspace", "select", "staging");
    const stagingBefore = stateOf("terraform.tfstate.d/staging/terraform.tfstate");
    const applied = io(r.cwd);
    expect(deployPlan("production", r.folder, applied.io, { environments, env: ENV_VARS, runner: capture(ran), acceptOfflinePlanForTests: true })).toBe(0);
    expect(ran.text).toContain("Apply complete! Resources: 0 added, 0 changed, 0 destroyed.");
    expect(stateOf("terraform.tfstate.d/staging/terraform.tfstate")).toMatchObject({ lineage: stagingBefore.lineage, serial: stagingBefore.serial + 1 });
    expect(stateOf("terraform.tfstate")).toEqual(before);
  });

  test.concurrent("a stale plan: Terraform's own refusal, shown whole", async () => {
    const r = await reviewed();
    const copy = path.join(r.folder, "stack", "terraform.tfstate");
    // Someone writes the state after the plan (a move and its undo: serial + 2).
    for (const [a, b] of [
      ["module.route53.aws_route53_zone.zone", "module.route53.aws_route53_zone.renamed"],
      ["module.route53.aws_route53_zone.renamed", "module.route53.aws_route53_zone.zone"],
    ]) {
      const mv = spawnSync(terraform, ["state", "mv", `-state=${copy}`, `-backup=${copy}.b`, a, b], { encoding: "utf8", env: { ...process.env, CHECKPOINT_DISABLE: "1" } });
      expect(mv.status).toBe(0);
    }
    const out = { text: "" };
    const code = deployPlan("production", r.folder, io(r.cwd).io, { environments, env: ENV_VARS, runner: capture(out), acceptOfflinePlanForTests: true });
    expect(code).toBe(1);
    // Terraform's words as a terminal shows them, without the colors and the box.
    const plain = out.text.replace(/\u001b\[[0-9;]*m/g, "").replace(/[│╷╵]/g, "").replace(/\s+/g, " ");
    expect(plain).toContain(
      "Error: Saved plan is stale The given plan file can no longer be applied because the state was changed by another operation after the plan was created.",
    );
  });

  test.concurrent("a plan file changed since plan-check judged it, and sources that synthesize another stack: refused before Terraform runs", async () => {
    const r = await reviewed();
    const ran = { text: "" };
    const runner = capture(ran);
    // The sources changed: production with another image tag.
    const changed = io(r.cwd);
    expect(deployPlan("production", r.folder, changed.io, { environments: { production: { ...production, imageTag: "v2" } }, env: ENV_VARS, runner, acceptOfflinePlanForTests: true })).toBe(2);
    expect(changed.o.stderr).toMatch(/^error: refusing to apply: the sources no longer synthesize the stack that was planned \(sha256 [0-9a-f]{64}, planned [0-9a-f]{64}\)\. Run plan-check again and review the new plan\.\n$/);
    // The plan file changed.
    const planFile = path.join(r.folder, "stack", "plan.tfplan");
    // What deploy --plan reads of a real plan file (a zip of deflated entries): the root module it planned, plan-check's copy here.
    const root = plannedRootFiles(fs.readFileSync(planFile));
    expect([...root.keys()]).toEqual(["cdk.tf.json"]);
    expect(root.get("cdk.tf.json")!.equals(fs.readFileSync(path.join(r.folder, "stack", "cdk.tf.json")))).toBe(true);
    // Its tfplan entry in the format read here (version 3), planned without -target.
    expect(plannedTargets(fs.readFileSync(planFile))).toEqual([]);
    fs.appendFileSync(planFile, "x");
    const tampered = io(r.cwd);
    expect(deployPlan("production", r.folder, tampered.io, { environments, env: ENV_VARS, runner, acceptOfflinePlanForTests: true })).toBe(2);
    expect(tampered.o.stderr).toContain(`error: refusing to apply: ${planFile} is not the plan plan-check judged (sha256 `);
    expect(tampered.o.stderr).toContain(`, the report names ${r.report.planFile!.sha256})`);
    expect(ran.text).toBe("");
  });
});
