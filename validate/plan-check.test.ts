// plan-check with Terraform: the offline plan of the synthesized stack against
// the fixtures' states, judged, and compared with the HCL root's own plan.
// Without terraform or the provider mirror the tier is skipped, and says why
// (VALIDATE_REQUIRE_TERRAFORM=1 makes that a failure, as in CI).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EnvironmentConfig } from "../config/environment";
import { production, staging } from "../config/environments";
import { PlanCheckReport } from "../scripts/lib/plan-report";
import { main } from "../scripts/plan-check";
import { MOVES } from "../stacks/moves";
import { ENV, describeDetection, detectToolchain } from "./lib/toolchain";

const detection = detectToolchain();
const required = process.env[ENV.require] === "1";
if (!detection.ok) console.warn(`plan-check tier: ${describeDetection(detection)}`);

test(`plan-check toolchain: ${describeDetection(detection)}`, () => {
  if (!detection.ok && required) throw new Error(`${ENV.require}=1 but ${detection.reason}`);
  expect(describeDetection(detection)).toMatch(detection.ok ? /^terraform / : /^SKIPPED: /);
});

const SHARED = path.join(__dirname, "../../shared/fixtures");
const HCL_ROOT = path.join(SHARED, "existing-hcl/terraform");
const MODULES = path.join(HCL_ROOT, "modules");
const PRE_FIX = path.join(SHARED, "existing-production.tfstate");
const POST_FIX = path.join(SHARED, "post-fix-production.tfstate");
const DATA = path.join(__dirname, "../__tests__/fixtures/plan-check/production-data.json");
const NEW_ENV_DATA = path.join(__dirname, "../__tests__/fixtures/plan-check/new-environment-data.json");
const STAGING_DATA = path.join(__dirname, "../__tests__/fixtures/plan-check/staging-data.json");
const HOST = "module.compute.aws_instance.host";
const ROUTE53 = ["module.route53.aws_route53_record.api_a", "module.route53.aws_route53_record.root_a", "module.route53.aws_route53_record.www_a"];

type Result = { code: number; report: PlanCheckReport & { counts: Record<string, number>; failureTexts: string[] }; stderr: string; plan?: any };

async function planCheck(
  args: string[],
  environments: Record<string, EnvironmentConfig> = { production },
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), "plan-check-tier-")),
): Promise<Result> {
  let stdout = "";
  let stderr = "";
  const code = await main(
    ["--offline", "--modules", MODULES, "--json", ...args],
    { cwd, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) },
    { environments, env: { ...process.env, TF_VAR_db_password_plain: "REDACTED" } },
  );
  if (!stdout) throw new Error(`plan-check wrote no report (exit ${code}):\n${stderr}`);
  const report = JSON.parse(stdout);
  const planFile = path.join(report.outDir, "stack/plan.json");
  const plan = fs.existsSync(planFile) ? JSON.parse(fs.readFileSync(planFile, "utf8")) : undefined;
  if (process.env[ENV.keepDirs] !== "1" && code === 0) fs.rmSync(cwd, { recursive: true, force: true });
  return { code, report, stderr, plan };
}

const summary = (r: Result) => {
  const { create, update, replace, delete: del, move } = r.report.counts;
  return { create, update, replace, delete: del, move, "no-op": r.report.counts["no-op"] };
};

/** The post-fix state with one change, for a forced replacement. */
function builtState(edit: (state: any) => void): string {
  const state = JSON.parse(fs.readFileSync(POST_FIX, "utf8"));
  edit(state);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "plan-check-state-")), "built.tfstate");
  fs.writeFileSync(file, JSON.stringify(state));
  return file;
}

const describeTier = detection.ok ? describe : describe.skip;

describeTier("plan-check against the fixtures (offline, Terraform's own plan)", () => {
  test.concurrent("post-fix state as it is: the gate fails on the EC2 host's user data, named, not a stack trace", async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "plan-check-tier-"));
    const first = await planCheck(["--state", POST_FIX, "--data", DATA], { production }, cwd);
    expect(first.report.timingsMs.init).toBeGreaterThan(0);
    // The second run in the same folder reuses what init installed: the same inputs.
    const r = await planCheck(["--state", POST_FIX, "--data", DATA], { production }, cwd);
    expect(r.report.timingsMs).toMatchObject({ "init (reused)": 0 });
    expect(r.report.timingsMs.init).toBeUndefined();
    expect(r.code).toBe(1);
    expect(r.report.failureTexts).toEqual([
      "`module.compute.aws_instance.host`: plan error: user_data is 17,485 bytes, over EC2's 16,384-byte user-data limit " +
        "(the rendered value; the provider refuses it at plan time)",
    ]);
    expect(r.report.planText).toContain("with module.compute.aws_instance.host,");
    expect(r.report.planText).not.toContain("#!/bin/bash");
  });

  test.concurrent("post-fix state without the EC2 host: every ecr, iam and ml_worker instance moves and is otherwise a no-op", async () => {
    const r = await planCheck(["--state", POST_FIX, "--data", DATA, "--exclude", HOST]);
    expect(r.code).toBe(0);
    expect(r.report.excluded).toEqual([{ address: HOST, dependents: ROUTE53 }]);
    expect(summary(r)).toEqual({ create: 0, update: 0, replace: 0, delete: 0, move: 28, "no-op": 50 });
    const moved = r.report.rows.filter((x) => x.previousAddress);
    expect(moved.every((x) => x.action === "no-op")).toBe(true);
    expect(moved.map((x) => `${x.previousAddress} -> ${x.address}`).sort()).toEqual(
      MOVES.filter((m) => !m.optional).map((m) => `${m.from} -> ${m.to}`).sort(),
    );
    expect(r.report.rows.every((x) => x.action === "no-op")).toBe(true);
  });

  test.concurrent("pre-fix state: the stack plans with no error and equals the HCL root's plan at every address both can plan", async () => {
    const r = await planCheck(["--state", PRE_FIX, "--data", DATA, "--against-hcl", HCL_ROOT]);
    expect(r.code).toBe(1);
    // What the HCL root itself would do on that drifted state, each with its forcing attribute.
    expect(r.report.failureTexts).toEqual([
      "`aws_security_group.ec2_existing_vpc` (deposed object b4a44223): delete — not in the environment's allowDestroy",
      "`module.compute.aws_instance.host`: replace, forced by `ami` — not in the environment's allowDestroy",
      "`module.ssm.aws_ssm_parameter.db_password`: replace, forced by `name` — not in the environment's allowDestroy",
    ]);
    expect(summary(r)).toEqual({ create: 31, update: 11, replace: 2, delete: 1, move: 6, "no-op": 10 });
    expect(r.report.hcl!.unplannable.map((u) => u.address)).toEqual([
      "module.ssm.aws_ssm_parameter.ml_worker_enabled",
      "module.ssm.aws_ssm_parameter.ml_worker_queue_url",
    ]);
    expect(r.report.hcl!.comparison).toEqual({
      equal: 53,
      differences: [],
      notCompared: [
        { address: "aws_ssm_parameter.ssm_ml_worker_enabled", why: "the HCL root cannot plan it here" },
        { address: "aws_ssm_parameter.ssm_ml_worker_queue_url", why: "the HCL root cannot plan it here" },
      ],
    });
  });

  test.concurrent("pre-fix state: passes once the configuration allow-lists those three, each with its reason", async () => {
    const allowDestroy = [
      { address: "aws_security_group.ec2_existing_vpc", deposed: true, reason: "deposed by an earlier failed apply; the HCL root deletes it too" },
      { address: HOST, reason: "the AMI data source now finds a newer Ubuntu image" },
      { address: "module.ssm.aws_ssm_parameter.db_password", reason: "db_password_ssm_name differs from the deployed name" },
    ];
    const r = await planCheck(["--state", PRE_FIX, "--data", DATA], { production: { ...production, allowDestroy } });
    expect(r.code).toBe(0);
    expect(r.report.failures).toEqual([]);
    expect(r.report.allowed.map((a) => a.used)).toEqual([true, true, true]);
  });

  test.concurrent("an empty state (a new environment): plans in one step, without -target; everything is created", async () => {
    const r = await planCheck(["--data", NEW_ENV_DATA, "--against-hcl", HCL_ROOT]);
    expect(r.code).toBe(0);
    expect(r.report.excluded).toEqual([]);
    expect(r.report.timingsMs.graph).toBeUndefined(); // no exclusion: no -target
    expect(summary(r)).toEqual({ create: 54, update: 0, replace: 0, delete: 0, move: 0, "no-op": 0 });
    expect(r.report.rows.map((x) => x.address)).toEqual(expect.arrayContaining(["aws_ssm_parameter.ssm_ml_worker_queue_url", "aws_ssm_parameter.ssm_ml_worker_enabled"]));
    // The HCL root cannot: its count depends on the queue URL.
    expect(r.report.hcl!.unplannable.map((u) => u.address)).toEqual([
      "module.ssm.aws_ssm_parameter.ml_worker_enabled",
      "module.ssm.aws_ssm_parameter.ml_worker_queue_url",
    ]);
    expect(r.report.hcl!.comparison!.differences).toEqual([]);
    expect(r.report.hcl!.comparison!.equal).toBe(52);
  });

  test.concurrent("the staging example's first plan: an empty state, in one step, everything created under staging's names", async () => {
    const r = await planCheck(["--stack", "staging", "--data", STAGING_DATA], { production, staging });
    expect(r.code).toBe(0);
    expect(summary(r)).toEqual({ create: 54, update: 0, replace: 0, delete: 0, move: 0, "no-op": 0 });
    expect(r.report.state).toBe("an empty state (a new environment)");
    const names = r.plan.resource_changes
      .filter((c: any) => c.type === "aws_sqs_queue" || c.type === "aws_ssm_parameter")
      .map((c: any) => c.change.after.name)
      .sort();
    expect(names).toEqual([
      "/zivohealth/staging/db/host",
      "/zivohealth/staging/db/password",
      "/zivohealth/staging/db/user",
      "/zivohealth/staging/deploy/docker_compose_sha256",
      "/zivohealth/staging/deploy/image_tag",
      "/zivohealth/staging/ml_worker/enabled",
      "/zivohealth/staging/ml_worker/queue_url",
      "/zivohealth/staging/react_app/api_key",
      "/zivohealth/staging/s3/bucket",
      "staging-ml-worker",
      "staging-ml-worker-dlq",
    ]);
  });

  test.concurrent("a deployed IAM role with another name: the gate fails and names the address and the attribute", async () => {
    const state = builtState((s) => {
      const role = s.resources.find((x: any) => x.module === "module.iam" && x.type === "aws_iam_role" && x.name === "ec2_role");
      role.instances[0].attributes.name = "zivohealth-production-ec2-role-renamed";
    });
    const r = await planCheck(["--state", state, "--data", DATA, "--exclude", HOST]);
    expect(r.code).toBe(1);
    expect(r.report.failures).toContainEqual({ kind: "destroy", address: "aws_iam_role.iam_ec2_role", action: "replace", replacePaths: ["name"] });
    expect(r.report.failureTexts).toContain("`aws_iam_role.iam_ec2_role`: replace, forced by `name` — not in the environment's allowDestroy");
  });

  test.concurrent("the README's fix for the user-data size (compressed user data): an in-place update of the host, and new record IPs", async () => {
    const modules = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "plan-check-fixed-")), "modules");
    fs.cpSync(MODULES, modules, { recursive: true });
    const main = path.join(modules, "compute/main.tf");
    fs.chmodSync(main, 0o644);
    const text = fs.readFileSync(main, "utf8");
    expect(text).toContain("  user_data = local.user_data_rendered\n");
    fs.writeFileSync(main, text.replace("  user_data = local.user_data_rendered\n", "  user_data_base64 = base64gzip(local.user_data_rendered)\n"));
    const r = await planCheck(["--state", POST_FIX, "--data", DATA, "--modules", modules]);
    expect(r.code).toBe(0);
    expect(summary(r)).toEqual({ create: 0, update: 4, replace: 0, delete: 0, move: 28, "no-op": 50 });
    expect(r.report.rows.filter((x) => x.action === "update").map((x) => [x.address, x.changedAttributes, x.unknownAttributes])).toEqual([
      [HOST, ["user_data", "user_data_base64"], ["public_dns", "public_ip"]],
      ["module.route53.aws_route53_record.api_a", [], ["records"]],
      ["module.route53.aws_route53_record.root_a", [], ["records"]],
      ["module.route53.aws_route53_record.www_a[0]", [], ["records"]],
    ]);
  });
});
