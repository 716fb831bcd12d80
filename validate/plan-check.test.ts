// Long: one command's tests with Terraform (plan-check against each fixture state and the HCL root).
// plan-check with Terraform: the offline plan of the synthesized stack against
// the fixtures' states, judged, and compared with the HCL root's own plan.
// Without terraform or the provider mirror the tier is skipped, and says why
// (VALIDATE_REQUIRE_TERRAFORM=1 makes that a failure, as in CI).
import { spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import { EnvironmentConfig } from "../config/environment";
// Fidelity to the HCL root: production as the HCL root has it, frozen in the tests, not as configured
// (config/environments.ts, which a team changes); a configured variant keeps its own settings on it.
import * as configured from "../config/environments";
import { HCL_PRODUCTION as production, onHclProduction } from "../__tests__/fixtures/hcl-production";
import { processesIn } from "../__tests__/processes";
const staging = onHclProduction(configured.staging, configured.production);
import { PlanCheckReport } from "../lib/plan/report";
import { main } from "../commands/plan-check";
import { USER_DATA_LIMIT_BYTES } from "../modules/compute";
import { INTENDED_DIFFERENCES, MOVES } from "../stacks/moves";
import { classify, parseStack, parseState } from "../lib/migration";
import { synthesize } from "../stacks/app";
import { LOCK } from "../lib/workdir";
import { tempDir } from "../__tests__/tmp";
import { renderHclCompute } from "./lib/hcl-render";
import { toolchainPreamble } from "./lib/toolchain-preamble";

const { detection, describeTier } = toolchainPreamble("plan-check");

const SHARED = path.join(__dirname, "../../shared/fixtures");
const HCL_ROOT = path.join(SHARED, "existing-hcl/terraform");
const MODULES = path.join(HCL_ROOT, "modules");
const PRE_FIX = path.join(SHARED, "existing-production.tfstate");
const POST_FIX = path.join(SHARED, "post-fix-production.tfstate");
const DATA = path.join(__dirname, "../__tests__/fixtures/plan-check/production-data.json");
const NEW_ENV_DATA = path.join(__dirname, "../__tests__/fixtures/plan-check/new-environment-data.json");
const STAGING_DATA = path.join(__dirname, "../__tests__/fixtures/plan-check/staging-data.json");
const HOST = "aws_instance.compute_host";
const HCL_HOST = "module.compute.aws_instance.host";
const ROUTE53 = ["module.route53.aws_route53_record.api_a", "module.route53.aws_route53_record.root_a", "module.route53.aws_route53_record.www_a[0]"];
const PRODUCTION_AMI = "ami-0c398cb65a93047f2";

type Result = { code: number; report: PlanCheckReport & { counts: Record<string, number>; failureTexts: string[] }; stderr: string; plan?: any };

const ENV_VARS: NodeJS.ProcessEnv = { ...process.env, TF_VAR_db_password_plain: "REDACTED" };

/** plan-check as it runs, its output kept apart: exit code, stdout, stderr. */
async function runPlanCheck(args: string[], environments: Record<string, EnvironmentConfig> = { production }, cwd = tempDir("plan-check-tier-"), env: NodeJS.ProcessEnv = ENV_VARS) {
  let stdout = "";
  let stderr = "";
  const code = await main(args, { cwd, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) }, { environments, env });
  return { code, stdout, stderr, cwd };
}

/** plan-check --offline --json in `given` (or a folder of its own, removed after the file's tests), with extra environment variables. */
async function planCheck(
  args: string[],
  environments: Record<string, EnvironmentConfig> = { production },
  given?: string,
  env: Record<string, string> = {},
): Promise<Result> {
  const modules = args.includes("--modules") ? [] : ["--modules", MODULES];
  const { code, stdout, stderr } = await runPlanCheck(["--offline", ...modules, "--json", ...args], environments, given ?? tempDir("plan-check-tier-"), { ...ENV_VARS, ...env });
  if (!stdout) throw new Error(`plan-check wrote no report (exit ${code}):\n${stderr}`);
  const report = JSON.parse(stdout);
  const planFile = path.join(report.outDir, "stack/plan.json");
  const plan = fs.existsSync(planFile) ? JSON.parse(fs.readFileSync(planFile, "utf8")) : undefined;
  return { code, report, stderr, plan };
}

const summary = (r: Result) => {
  const { create, update, replace, delete: del, move } = r.report.counts;
  return { create, update, replace, delete: del, move, "no-op": r.report.counts["no-op"] };
};

/** The progress lines of steps that ended, the time as <t>, sorted (the stack's and the HCL root's steps interleave). */
const endedSteps = (stderr: string) =>
  stderr
    .split("\n")
    .filter((l) => / \d+\.\d s( \(exit \d+\))?$/.test(l))
    .map((l) => l.replace(/ \d+\.\d s/, " <t>"))
    .filter((l) => !l.includes("providers schema")) // only when the schema cache is cold
    .sort();

/** stderr without the progress lines (a step starting, "…", or ended, with its time): what is left is what the run said. */
const withoutProgress = (stderr: string) =>
  stderr
    .split("\n")
    .filter((l) => !/^plan-check: .*( …| \d+\.\d s( \(exit \d+\))?)$/.test(l))
    .join("\n");

const hostChange = (r: Result) => r.plan.resource_changes.find((c: any) => c.address === HOST);

/** The post-fix state with one change. */
function builtState(edit: (state: any) => void): string {
  const state = JSON.parse(fs.readFileSync(POST_FIX, "utf8"));
  edit(state);
  const file = path.join(tempDir("plan-check-state-"), "built.tfstate");
  fs.writeFileSync(file, JSON.stringify(state));
  return file;
}

/** A --data file: production's, with `extra` values on top. */
function dataFile(extra: Record<string, unknown>): string {
  const data = { ...JSON.parse(fs.readFileSync(DATA, "utf8")), ...extra };
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "plan-check-data-")), "data.json");
  fs.writeFileSync(file, JSON.stringify(data));
  return file;
}

const removeTemp = (file: string) => fs.rmSync(path.dirname(file), { recursive: true, force: true });

/**
 * Production as it was when the pre-fix snapshot was taken: deployed recorded the host alone (the ML worker, its
 * queues and the ECR repository came with the fixes). With today's list, that snapshot lacks six deployed objects.
 */
const preFixProduction: EnvironmentConfig = { ...production, deployed: { [HOST]: production.deployed![HOST] } };

describeTier("plan-check against the fixtures (offline, Terraform's own plan)", () => {
  test.concurrent("post-fix state (today's), no --exclude: PASS; every compute instance moves; the host's user data is its one change", async () => {
    const cwd = tempDir("plan-check-tier-");
    const first = await planCheck(["--state", POST_FIX, "--data", DATA], { production }, cwd);
    expect(first.report.timingsMs.init).toBeGreaterThan(0);
    // The second run in the same folder reuses what init installed: the same inputs.
    const r = await planCheck(["--state", POST_FIX, "--data", DATA], { production }, cwd);
    expect(r.report.timingsMs).toMatchObject({ "init (reused)": 0 });
    expect(r.report.timingsMs.init).toBeUndefined();
    expect(r.code).toBe(0);
    expect(r.report.failures).toEqual([]);
    expect(r.report.excluded).toEqual([]);
    expect(summary(r)).toEqual({ create: 0, update: 4, replace: 0, delete: 0, move: 31, "no-op": 50 });
    // Every moved block whose object is in the state shows as a move: ecr, iam, ml_worker, the two ssm parameters, and compute.
    const moved = r.report.rows.filter((x) => x.previousAddress);
    expect(moved.map((x) => `${x.previousAddress} -> ${x.address}`).sort()).toEqual(
      MOVES.filter((m) => !m.optional && m.from !== "module.compute.aws_security_group_rule.allow_ssh") // count 0: nothing in the state
        .map((m) => `${m.from} -> ${m.to}`)
        .sort(),
    );
    expect(moved.filter((x) => x.previousAddress!.startsWith("module.compute.")).map((x) => [x.address, x.action])).toEqual([
      [HOST, "update"],
      ["aws_s3_object.compute_compose", "no-op"],
      ["aws_ssm_parameter.compute_compose_sha256", "no-op"],
    ]);
    // The host: its user data only (EC2 stops and starts it for that, so its public address is known after apply); the records follow.
    expect(r.report.rows.filter((x) => x.action === "update").map((x) => [x.address, x.changedAttributes, x.unknownAttributes])).toEqual([
      [HOST, ["user_data_base64"], ["public_dns", "public_ip"]],
      ["module.route53.aws_route53_record.api_a", [], ["records"]],
      ["module.route53.aws_route53_record.root_a", [], ["records"]],
      ["module.route53.aws_route53_record.www_a[0]", [], ["records"]],
    ]);
    expect(r.report.rows.filter((x) => x.action !== "update").every((x) => x.action === "no-op")).toBe(true);
    expect(hostChange(r).change.after.ami).toBe(PRODUCTION_AMI);
    expect(r.report.planText).toContain("# aws_instance.compute_host will be updated in-place");
    // The migration check, by addresses alone, agrees: 0 destroyed, nothing created, the same 31 moves.
    const [stack] = synthesize({ production }, { outdir: null });
    const migration = classify(parseState(fs.readFileSync(POST_FIX, "utf8"), POST_FIX), parseStack(stack.text, "production"));
    expect(migration.totals).toMatchObject({ destroyed: 0, toBeCreated: 0, moved: 31 });
    expect(migration.instances.filter((i) => i.outcome === "moved").map((i) => `${i.stateAddress} -> ${i.configAddress}`).sort()).toEqual(
      moved.map((x) => `${x.previousAddress} -> ${x.address}`).sort(),
    );
    expect(r.report.planText).not.toContain("#!/bin/bash");
    // Its one output change, the host's public IP (EC2 stops and starts it), in the report's Outputs.
    expect(r.report.outputs).toEqual([{ name: "ec2_public_ip", action: "update", before: "44.211.75.34", unknown: true }]);
  });

  test.concurrent("outputs the plan deletes: listed in the report, a sensitive one as (sensitive), never its value; the verdict unchanged", async () => {
    const secret = "hunter2-legacy-db-password";
    const state = builtState((s) => {
      s.outputs.legacy_db_password = { value: secret, type: "string", sensitive: true };
      s.outputs.legacy_bucket = { value: "zivohealth-legacy", type: "string" };
    });
    const r = await planCheck(["--state", state, "--data", DATA]);
    expect(r.code).toBe(0);
    expect(r.report.outputs).toEqual([
      { name: "ec2_public_ip", action: "update", before: "44.211.75.34", unknown: true },
      { name: "legacy_bucket", action: "delete", before: "zivohealth-legacy" },
      { name: "legacy_db_password", action: "delete", before: "(sensitive)", sensitive: true },
    ]);
    // Terraform's plan JSON holds it in clear; the report (Markdown and JSON, Terraform's text in it too) never.
    expect(JSON.stringify(r.plan.output_changes.legacy_db_password)).toContain(secret);
    const markdown = fs.readFileSync(path.join(r.report.outDir, "report.md"), "utf8").split("\n");
    const at = markdown.indexOf("### Outputs (3)");
    expect(markdown.slice(at, at + 7)).toEqual([
      "### Outputs (3)",
      "",
      "Not judged: an output changes nothing in AWS.",
      "",
      '- `ec2_public_ip`: update, `"44.211.75.34"` → known after apply',
      '- `legacy_bucket`: delete (was `"zivohealth-legacy"`)',
      "- `legacy_db_password`: delete (was (sensitive))",
    ]);
    expect(markdown.join("\n")).not.toContain(secret);
    expect(JSON.stringify(r.report)).not.toContain(secret);
  });

  test.concurrent("the script the host receives is the HCL module's, byte for byte, and gzip brings it under EC2's limit", async () => {
    const r = await planCheck(["--state", POST_FIX, "--data", DATA]);
    expect(r.code).toBe(0);
    const compressed = Buffer.from(hostChange(r).change.after.user_data_base64, "base64");
    const script = zlib.gunzipSync(compressed);
    // The HCL module's own rendering (Terraform's templatefile, its locals block as written), with production's
    // inputs as the HCL root passes them, each value taken from the post-fix state.
    const state = JSON.parse(fs.readFileSync(POST_FIX, "utf8"));
    const attributes = (module: string | undefined, type: string, name: string) =>
      state.resources.find((x: any) => x.module === module && x.type === type && x.name === name).instances[0].attributes;
    const hcl = renderHclCompute(
      path.join(MODULES, "compute"),
      {
        project: "zivohealth",
        environment: "production",
        vpc_id: attributes(undefined, "aws_vpc", "existing").id,
        public_subnet_id: attributes("module.compute", "aws_instance", "host").subnet_id,
        instance_profile_name: attributes("module.iam", "aws_iam_instance_profile", "ec2_profile").name,
        security_group_ids: [attributes(undefined, "aws_security_group", "ec2_existing_vpc").id],
        ecr_repo_url: state.outputs.ecr_repository_url.value,
        ssm_image_tag_param: state.outputs.ssm_image_tag_param_name.value,
        aws_region: "us-east-1",
        enable_ssh_tunnel: false,
        ssh_allowed_cidrs: [],
        key_name: "ec2-dbeaver",
        compose_s3_bucket: attributes("module.storage", "aws_s3_bucket", "uploads").bucket,
        compose_s3_key: "deploy/production/docker-compose.yml",
      },
      attributes("module.compute", "aws_caller_identity", "current").account_id,
      detection.ok ? detection.toolchain : (undefined as never),
    );
    expect(script.equals(hcl.userData)).toBe(true);
    // The compose object and its checksum (which the script carries) are the HCL's too.
    const compose = r.plan.resource_changes.find((c: any) => c.address === "aws_s3_object.compute_compose").change.after.content;
    expect(Buffer.from(compose).equals(hcl.compose)).toBe(true);
    // Sizes: Terraform 1.11.4's gzip (Go's compress/flate, default level); a Terraform whose gzip output
    // differs changes the compressed size here and plans an update of the host (README).
    expect(script.length).toBe(17485);
    expect(compressed.length).toBe(4615);
    expect(USER_DATA_LIMIT_BYTES - compressed.length).toBe(11769);
    console.log(`user data: ${script.length} bytes raw, ${compressed.length} gzip-compressed (${USER_DATA_LIMIT_BYTES - compressed.length} under EC2's ${USER_DATA_LIMIT_BYTES})`);
  });

  test.concurrent("a newer Ubuntu image in the lookup (recorded via --data) does not replace the host", async () => {
    const newer = { id: "ami-0fedcba9876543210", image_id: "ami-0fedcba9876543210", name: "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20260115", creation_date: "2026-01-15T08:05:51.000Z" };
    const recorded = JSON.parse(fs.readFileSync(POST_FIX, "utf8")).resources.find((x: any) => x.module === "module.compute" && x.type === "aws_ami").instances[0].attributes;
    const data = dataFile({ "module.compute.data.aws_ami.ubuntu": { ...recorded, ...newer } });
    try {
      const r = await planCheck(["--state", POST_FIX, "--data", data]);
      expect(r.code).toBe(0);
      expect(r.report.pins).toContainEqual({ address: "data.aws_ami.compute_ubuntu", kind: "data source", from: "--data", recordedAs: "module.compute.data.aws_ami.ubuntu" });
      expect(summary(r)).toEqual({ create: 0, update: 4, replace: 0, delete: 0, move: 31, "no-op": 50 });
      expect(r.report.rows.find((x) => x.address === HOST)).toMatchObject({ action: "update", replacePaths: [], changedAttributes: ["user_data_base64"] });
      expect(hostChange(r).change.after.ami).toBe(PRODUCTION_AMI);
    } finally {
      removeTemp(data);
    }
  });

  test.concurrent("moving the host to a new image: a replacement forced by `ami`, allowed with the reason given", async () => {
    const reason = "move to the jammy 2026-01 image, reviewed";
    const moving = { ...production, compute: { ami: "ami-0fedcba9876543210" }, allowReplacement: [{ address: HOST, reason }] };
    const r = await planCheck(["--state", POST_FIX, "--data", DATA], { production: moving });
    expect(r.code).toBe(0);
    expect(r.report.rows.find((x) => x.address === HOST)).toMatchObject({ action: "replace", replacePaths: ["ami"] });
    expect(r.report.allowed).toEqual([{ address: HOST, reason: `allowReplacement: ${reason}`, used: true }]);
    expect(summary(r)).toEqual({ create: 0, update: 3, replace: 1, delete: 0, move: 31, "no-op": 50 });
  });

  test.concurrent("--against-hcl on the post-fix state: the HCL root cannot plan its host, says so, and every address it can plan is equal", async () => {
    const r = await planCheck(["--state", POST_FIX, "--data", DATA, "--against-hcl", HCL_ROOT]);
    expect(r.code).toBe(0);
    expect(r.report.hcl!.unplannable).toEqual([
      { address: HCL_HOST, why: "user_data is 17,485 bytes, over EC2's 16,384-byte user-data limit (the rendered value; the provider refuses it at plan time)" },
    ]);
    const why = `depends on ${HCL_HOST}, which the HCL root cannot plan here`;
    expect(r.report.hcl!.comparison).toEqual({
      equal: 50,
      intended: [{ address: HOST, compared: false, attributes: ["user_data", "user_data_base64"], differing: [], reason: INTENDED_DIFFERENCES[0].reason }],
      differences: [],
      notCompared: [
        { address: HOST, why: "the HCL root cannot plan it here" },
        ...ROUTE53.map((address) => ({ address, why })),
      ],
    });
  });

  test.concurrent("--exclude still leaves out a resource and what depends on it, judging the rest", async () => {
    // (Not the host: Terraform refuses -target options that leave out an object a moved block moves.)
    const zone = "module.route53.aws_route53_zone.zone";
    const r = await planCheck(["--state", POST_FIX, "--data", DATA, "--exclude", zone]);
    expect(r.code).toBe(0);
    expect(r.report.excluded).toEqual([{ address: zone, dependents: ROUTE53.map((a) => a.replace("[0]", "")) }]);
    expect(summary(r)).toEqual({ create: 0, update: 1, replace: 0, delete: 0, move: 31, "no-op": 49 });
  });

  test.concurrent("a script grown over EC2's limit stops the plan before any apply, with its size and the limit, and no secret", async () => {
    // 22,000 characters that do not compress (a hash chain), passed where the script writes the FCM credentials.
    let chain = crypto.createHash("sha256").update("seed").digest();
    let filler = "";
    while (filler.length < 22_000) {
      chain = crypto.createHash("sha256").update(chain).digest();
      filler += chain.toString("base64");
    }
    const r = await planCheck(["--state", POST_FIX, "--data", DATA], { production }, undefined, { TF_VAR_reminders_fcm_credentials_json: filler });
    expect(r.code).toBe(1);
    expect(r.report.failureTexts).toHaveLength(1);
    const m = /^plan error: Resource precondition failed \(cdk\.tf\.json:\d+, resource\.aws_instance\.compute_host\.lifecycle\.precondition\[0\]\): The API host's user data is (\d+) bytes gzip-compressed, over EC2's limit of 16,384 bytes \(counted on the raw data, before base64\): shorten modules\/compute\/user_data_minimal\.sh\.tpl\.$/.exec(
      r.report.failureTexts[0],
    );
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(USER_DATA_LIMIT_BYTES);
    expect(JSON.stringify(r.report)).not.toContain(filler.slice(0, 40));
  });

  test.concurrent("pre-fix state, today's deployed list: the six deployed objects that snapshot predates are creates, each a failure", async () => {
    const r = await planCheck(["--state", PRE_FIX, "--data", DATA]);
    expect(r.code).toBe(1);
    expect(r.report.failures.filter((f) => f.kind === "create-deployed").map((f) => (f as { address: string }).address)).toEqual([
      "aws_cloudwatch_log_group.ml_worker_ml_worker",
      "aws_ecr_repository.ecr_backend",
      "aws_ecs_cluster.ml_worker_ml_worker",
      "aws_ecs_service.ml_worker_ml_worker",
      "aws_sqs_queue.ml_worker_ml_worker",
      "aws_sqs_queue.ml_worker_ml_worker_dlq",
    ]);
  });

  test.concurrent("pre-fix state: the stack plans with no error and equals the HCL root's plan at every address both can plan", async () => {
    const r = await planCheck(["--state", PRE_FIX, "--data", DATA, "--against-hcl", HCL_ROOT], { production: preFixProduction });
    expect(r.code).toBe(1);
    // What the HCL root itself would do on that drifted state, each with its forcing attribute. The host: the
    // snapshot's runs ami-07a3add10195338ad, older than the image production records (the post-fix host's).
    expect(r.report.failureTexts).toEqual([
      "`aws_instance.compute_host`: replace, forced by `ami` — not in the environment's allowDestroy",
      "`aws_security_group.ec2_existing_vpc` (deposed object b4a44223): delete — not in the environment's allowDestroy",
      "`module.ssm.aws_ssm_parameter.db_password`: replace, forced by `name` — not in the environment's allowDestroy",
    ]);
    expect(summary(r)).toEqual({ create: 31, update: 11, replace: 2, delete: 1, move: 9, "no-op": 10 });
    expect(hostChange(r).change.before.ami).toBe("ami-07a3add10195338ad");
    expect(hostChange(r).change.after.ami).toBe(PRODUCTION_AMI);
    expect(r.report.hcl!.unplannable.map((u) => u.address)).toEqual([
      "module.ssm.aws_ssm_parameter.ml_worker_enabled",
      "module.ssm.aws_ssm_parameter.ml_worker_queue_url",
    ]);
    expect(r.report.hcl!.comparison).toEqual({
      equal: 53,
      // Both hosts are replaced (the ECR repository is created, so the script is known only at apply on both sides).
      intended: [
        { address: `${HOST} (HCL ${HCL_HOST})`, compared: true, attributes: ["user_data", "user_data_base64"], differing: [], reason: INTENDED_DIFFERENCES[0].reason },
      ],
      differences: [],
      notCompared: [
        { address: "aws_ssm_parameter.ssm_ml_worker_enabled", why: "the HCL root cannot plan it here" },
        { address: "aws_ssm_parameter.ssm_ml_worker_queue_url", why: "the HCL root cannot plan it here" },
      ],
    });
    // The review fits one pull-request comment (69,375 characters before it was folded and cut), the verdict first;
    // the replace's forcing attribute first with its old and new value, the rest folded to a count.
    const md = fs.readFileSync(path.join(r.report.outDir, "report.md"), "utf8");
    expect(md.length).toBeLessThanOrEqual(65_536);
    expect(md.split("\n")[0]).toBe("## plan-check: stack `production` — FAIL");
    expect(md).toContain(
      [
        "- `aws_instance.compute_host`: forced by `ami`",
        '  - `ami`: `"ami-07a3add10195338ad"` → `"ami-0c398cb65a93047f2"`',
        "  - `credit_specification[0]`: removed (was `{\"cpu_credits\":\"standard\"}`)",
      ].join("\n"),
    );
    expect(md).toContain('  - `vpc_security_group_ids`: `["sg-03e26dd6ee8e48cd7","sg-0651a1f220a4e1b74"]` → `["sg-0720fa99c0042c40f"]` (added `"sg-0720fa99c0042c40f"`; removed `"sg-03e26dd6ee8e48cd7"`, `"sg-0651a1f220a4e1b74"`)\n  - and 43 attributes known after apply\n');
    expect(md).toContain("- `module.ssm.aws_ssm_parameter.db_host`\n  - `value`: changed (sensitive, not shown)\n  - known after apply: `insecure_value`, `version`\n");
    expect(md).toMatch(new RegExp(`\\*\\*Cut to fit one comment\\*\\*: [\\d,]+ of [\\d,]+ lines shown; the whole plan: \`${path.join(r.report.outDir, "stack", "plan.txt")}\`\\.`));
    expect(fs.readFileSync(path.join(r.report.outDir, "stack", "plan.txt"), "utf8")).toBe(r.report.planText);
    // Progress on stderr, every step with its time (stdout was the JSON, parsed above).
    expect(endedSteps(r.stderr)).toEqual(
      [
        "plan-check: synthesis (cdktf synth of every stack) <t>",
        "plan-check: offline working folder of the stack (data sources pinned) <t>",
        "plan-check: offline working folder of the HCL root (data sources pinned) <t>",
        "plan-check: terraform init (stack) <t>",
        "plan-check: terraform init (HCL root) <t>",
        "plan-check: terraform plan (stack) <t>",
        "plan-check: terraform show -json (stack) <t>",
        "plan-check: terraform plan -json (HCL root) <t> (exit 1)", // the count it cannot plan: planned around
        "plan-check: terraform graph (HCL root) <t>",
        "plan-check: terraform plan -json (HCL root) <t>",
        "plan-check: terraform show -json (HCL root) <t>",
        "plan-check: judgement (the verdict, the comparison with the HCL root, the report) <t>",
      ].sort(),
    );
    expect(r.stderr.split("\n")[0]).toBe("plan-check: synthesis (cdktf synth of every stack) …");
    expect(r.stderr).toMatch(/\nplan-check: FAIL in \d+\.\d s; the report: .*report\.md \(and report\.json\)\n$/);
  });

  test.concurrent("pre-fix state: passes once the configuration allow-lists those three, each with its reason", async () => {
    const allowDestroy = [
      { address: "aws_security_group.ec2_existing_vpc", deposed: true, reason: "deposed by an earlier failed apply; the HCL root deletes it too" },
      { address: HOST, reason: "the snapshot's host runs an older image than the one production records" },
      { address: "module.ssm.aws_ssm_parameter.db_password", reason: "db_password_ssm_name differs from the deployed name" },
    ];
    const r = await planCheck(["--state", PRE_FIX, "--data", DATA], { production: { ...preFixProduction, allowDestroy } });
    expect(r.code).toBe(0);
    expect(r.report.failures).toEqual([]);
    expect(r.report.allowed.map((a) => a.used)).toEqual([true, true, true]);
  });

  test.concurrent("an empty state (a new environment): plans in one step, without -target; everything is created", async () => {
    // Production's configuration marked new (nothing deployed): the empty state is what it should plan from.
    const r = await planCheck(["--data", NEW_ENV_DATA, "--against-hcl", HCL_ROOT], { production: { ...production, newEnvironment: true, deployed: {} } });
    expect(r.code).toBe(0);
    expect(r.report.excluded).toEqual([]);
    expect(r.report.timingsMs.graph).toBeUndefined(); // no exclusion: no -target
    expect(summary(r)).toEqual({ create: 54, update: 0, replace: 0, delete: 0, move: 0, "no-op": 0 });
    expect(r.report.rows.map((x) => x.address)).toEqual(
      expect.arrayContaining(["aws_ssm_parameter.ssm_ml_worker_queue_url", "aws_ssm_parameter.ssm_ml_worker_enabled", HOST]),
    );
    // The HCL root cannot: its count depends on the queue URL.
    expect(r.report.hcl!.unplannable.map((u) => u.address)).toEqual([
      "module.ssm.aws_ssm_parameter.ml_worker_enabled",
      "module.ssm.aws_ssm_parameter.ml_worker_queue_url",
    ]);
    expect(r.report.hcl!.comparison!.differences).toEqual([]);
    expect(r.report.hcl!.comparison!.equal).toBe(52);
    expect(r.report.hcl!.comparison!.intended.map((d) => [d.address, d.differing])).toEqual([[`${HOST} (HCL ${HCL_HOST})`, []]]);
  });

  test.concurrent("the staging example's first plan: an empty state, in one step, everything created under staging's names, the image looked up", async () => {
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
    // No host yet: the lookup's image (recorded in the --data file).
    expect(hostChange(r).change.after.ami).toBe(PRODUCTION_AMI);
    expect(hostChange(r).change.after.tags).toEqual({ Name: "zivohealth-staging-ec2-no-snapd" });
  });

  test.concurrent("the SSH rule, counted as in the HCL, moves as a whole resource: allow_ssh[0] to compute_allow_ssh[0]", async () => {
    const rule = {
      module: "module.compute",
      mode: "managed",
      type: "aws_security_group_rule",
      name: "allow_ssh",
      provider: 'provider["registry.terraform.io/hashicorp/aws"]',
      instances: [
        {
          index_key: 0,
          schema_version: 2,
          attributes: {
            cidr_blocks: ["203.0.113.0/24"],
            description: "Allow SSH tunneling from specified CIDRs",
            from_port: 22,
            id: "sgrule-1234567890",
            ipv6_cidr_blocks: null,
            prefix_list_ids: null,
            protocol: "tcp",
            security_group_id: "sg-0720fa99c0042c40f",
            security_group_rule_id: "sgr-0123456789abcdef0",
            self: false,
            source_security_group_id: null,
            timeouts: null,
            to_port: 22,
            type: "ingress",
          },
          sensitive_attributes: [],
          private: "eyJzY2hlbWFfdmVyc2lvbiI6IjIifQ==",
          dependencies: ["aws_security_group.ec2_existing_vpc"],
        },
      ],
    };
    const state = builtState((s) => s.resources.push(rule));
    try {
      const sshOn = { ...production, enableSshTunnel: true, sshAllowedCidrs: ["203.0.113.0/24"] };
      const r = await planCheck(["--state", state, "--data", DATA], { production: sshOn });
      expect(r.code).toBe(0);
      expect(r.report.rows.find((x) => x.address === "aws_security_group_rule.compute_allow_ssh[0]")).toMatchObject({
        action: "no-op",
        previousAddress: "module.compute.aws_security_group_rule.allow_ssh[0]",
      });
    } finally {
      removeTemp(state);
    }
  });

  test.concurrent("a deployed IAM role with another name: the gate fails and names the address and the attribute", async () => {
    const state = builtState((s) => {
      const role = s.resources.find((x: any) => x.module === "module.iam" && x.type === "aws_iam_role" && x.name === "ec2_role");
      role.instances[0].attributes.name = "zivohealth-production-ec2-role-renamed";
    });
    try {
      const r = await planCheck(["--state", state, "--data", DATA]);
      expect(r.code).toBe(1);
      expect(r.report.failures).toContainEqual({ kind: "destroy", address: "aws_iam_role.iam_ec2_role", action: "replace", replacePaths: ["name"] });
      expect(r.report.failureTexts).toContain("`aws_iam_role.iam_ec2_role`: replace, forced by `name` — not in the environment's allowDestroy");
    } finally {
      removeTemp(state);
    }
  });
});

describeTier("plan-check judges everything it is given, and fails cleanly on bad input", () => {
  /** A copy of the HCL root with one file's text changed. */
  const hclRootWith = (edit: (dir: string) => void) => {
    const dir = path.join(tempDir("plan-check-hcl-"), "terraform");
    fs.cpSync(HCL_ROOT, dir, { recursive: true, filter: (s) => !/(\.terraform|\.tfstate[^/]*)$/.test(s) });
    edit(dir);
    return dir;
  };

  test.concurrent("an HCL root Terraform cannot plan (an undeclared variable) fails the equivalence, with Terraform's reason", async () => {
    const root = hclRootWith((d) => fs.appendFileSync(path.join(d, "outputs.tf"), '\noutput "plan_check_probe" {\n  value = var.not_declared\n}\n'));
    const r = await planCheck(["--state", POST_FIX, "--data", DATA, "--against-hcl", root]);
    expect(r.code).toBe(1);
    expect(r.report.failures.map((f) => f.kind)).toEqual(["equivalence"]);
    expect(r.report.failureTexts[0]).toMatch(
      /^the HCL root could not be planned, so the equivalence was not checked: Reference to undeclared input variable \(outputs\.tf:\d+, output "plan_check_probe"\): An input variable with the name "not_declared" has not been declared\./,
    );
    expect(r.report.hcl!.comparison).toBeUndefined();
  });

  test.concurrent("an HCL root of one variable block plans nothing: every instance of the stack is a difference", async () => {
    const root = path.join(tempDir("plan-check-hcl-"), "only-variable");
    fs.mkdirSync(root);
    fs.writeFileSync(path.join(root, "variables.tf"), 'variable "region" {\n  default = "us-east-1"\n}\n');
    const r = await planCheck(["--state", POST_FIX, "--data", DATA, "--against-hcl", root]);
    expect(r.code).toBe(1);
    expect(r.report.hcl!.comparison!.equal).toBe(0);
    // Against the same state, a root that declares nothing plans to delete every object in it.
    expect(r.report.hcl!.comparison!.differences).toContainEqual({
      address: "aws_iam_role.iam_ec2_role (HCL module.iam.aws_iam_role.ec2_role)",
      message: expect.stringMatching(/^action: HCL delete, stack no-op; planned values differ: /),
    });
    expect(r.report.failures.every((f) => f.kind === "difference")).toBe(true);
  });

  test.concurrent("a state without the API host that deployed records: FAIL, the create named (never a PASS creating a second host)", async () => {
    const state = builtState((s) => (s.resources = s.resources.filter((r: { type: string }) => r.type !== "aws_instance")));
    const r = await planCheck(["--state", state, "--data", DATA]);
    expect(r.code).toBe(1);
    expect(summary(r)).toMatchObject({ create: 1, update: 3, replace: 0, delete: 0 });
    expect(r.report.failures).toEqual([{ kind: "create-deployed", address: HOST, formerly: "module.compute.aws_instance.host" }]);
    expect(r.report.failureTexts).toEqual([
      "`aws_instance.compute_host`: create — the environment's `deployed` (config/environments.ts) records it as deployed, but the state planned against holds neither it nor `module.compute.aws_instance.host`, its HCL address (stacks/moves.ts): applying would create a second one. Plan against a state that holds it (a recent `terraform state pull`)",
    ]);
  });

  test.concurrent("state instances the plan cannot account for fail the gate, each named, unless the environment keeps them", async () => {
    const state = builtState((s) => {
      s.resources.push(
        { mode: "managed", type: "tls_private_key", name: "deploy", provider: 'provider["registry.terraform.io/hashicorp/tls"]', instances: [{ schema_version: 1, attributes: { id: "k", algorithm: "ED25519" } }] },
        { module: "module.storage", mode: "managed", type: "random_string", name: "old", provider: 'provider["registry.terraform.io/hashicorp/random"]', instances: [{ schema_version: 2, attributes: { id: "abc", result: "abc" } }] },
        { mode: "managed", type: "aws_made_up_thing", name: "x", provider: 'provider["registry.terraform.io/hashicorp/aws"]', instances: [{ schema_version: 0, attributes: { id: "x" } }] },
      );
    });
    const failing = await planCheck(["--state", state, "--data", DATA]);
    expect(failing.code).toBe(1);
    expect(failing.report.failureTexts).toEqual([
      "`tls_private_key.deploy`: in the state, but not planned here (provider tls is not installed here and the configuration does not declare it: Terraform would plan it with that provider (a delete, if nothing declares it)); not judged: list it in the environment's keepUnplannable with a reason, or plan with its provider",
      "`module.storage.random_string.old`: in the state, but not planned here (provider random is not installed here and the configuration does not declare it: Terraform would plan it with that provider (a delete, if nothing declares it)); not judged: list it in the environment's keepUnplannable with a reason, or plan with its provider",
      "`aws_made_up_thing.x`: in the state, but not planned here (the installed aws provider has no resource type aws_made_up_thing); not judged: list it in the environment's keepUnplannable with a reason, or plan with its provider",
    ]);
    const keepUnplannable = [
      { address: "tls_private_key.deploy", reason: "the deploy key, rotated by hand" },
      { address: "module.storage.random_string.old", reason: "removed by the next apply of the HCL root" },
      { address: "aws_made_up_thing.x", reason: "managed by a newer provider" },
    ];
    // allowReplacement allows a replace the synth guard has judged; one this plan does not make is no unused allowDestroy entry.
    const queue = "aws_sqs_queue.ml_worker_ml_worker";
    const deployed = { ...production.deployed, [queue]: { name: "production-ml-worker-v0", fifo_queue: undefined } };
    const kept = await planCheck(["--state", state, "--data", DATA], {
      production: { ...production, keepUnplannable, deployed, allowReplacement: [queue] },
    });
    expect(kept.report.failureTexts).toEqual([]);
    expect(kept.code).toBe(0);
    expect(kept.report.stateNotPlanned!.map((u) => [u.address, u.kept])).toEqual(keepUnplannable.map((k) => [k.address, k.reason]));
  });

  test.concurrent("bad --data entries, a missing variable: exit 2 before Terraform plans, the entry or variable named, nothing left", async () => {
    const dir = tempDir("plan-check-data-");
    const data = JSON.parse(fs.readFileSync(DATA, "utf8"));
    const write = (name: string, value: object) => {
      fs.writeFileSync(path.join(dir, name), JSON.stringify(value));
      return path.join(dir, name);
    };
    const noIds = write("no-ids.json", { ...data, "data.aws_route_tables.private": { ...data["data.aws_route_tables.private"], ids: undefined } });
    const extra = write("extra.json", { ...data, "data.aws_vpc.existng": { id: "vpc-1" } });
    const cases: [string[], NodeJS.ProcessEnv, string][] = [
      [
        ["--data", noIds],
        ENV_VARS,
        "error: --data entry 'data.aws_route_tables.private' has no attribute 'ids', which the stack reads (data.aws_route_tables.private.ids): the value does not fit what the configuration reads\n",
      ],
      [
        ["--data", extra],
        ENV_VARS,
        `error: --data ${extra}: 1 entry matches nothing this run pins: data.aws_vpc.existng (pinned here: `,
      ],
      [
        ["--data", DATA],
        { ...process.env, TF_VAR_db_password_plain: undefined },
        "error: stack 'production' needs a value for the Terraform variable db_password_plain (no default), and the environment gives none: export TF_VAR_db_password_plain=<value> and run again",
      ],
    ];
    for (const [args, env, message] of cases) {
      const cwd = tempDir("plan-check-tier-");
      const r = await runPlanCheck(["--offline", "--modules", MODULES, "--state", POST_FIX, ...args], { production }, cwd, env);
      expect(r.code).toBe(2);
      expect(withoutProgress(r.stderr).startsWith(message)).toBe(true);
      expect(r.stdout).toBe("");
      expect(fs.readdirSync(cwd)).toEqual([]); // refused before anything is written: no synthesis, no plan-check folder
    }
  });

  test.concurrent("one run at a time per folder: a second is refused, naming the holder", async () => {
    const cwd = tempDir("plan-check-tier-");
    const first = runPlanCheck(["--offline", "--modules", MODULES, "--state", POST_FIX, "--data", DATA, "--json"], { production }, cwd);
    const lock = path.join(cwd, "cdktf.out", "plan-check", "production", LOCK);
    while (!fs.existsSync(lock)) await new Promise((r) => setTimeout(r, 20));
    const second = await runPlanCheck(["--offline", "--modules", MODULES, "--state", POST_FIX, "--data", DATA], { production }, cwd);
    expect(second.code).toBe(2);
    // The lock is taken when the folder opens: after the synthesis (staged, not written) and the input checks.
    expect(withoutProgress(second.stderr)).toMatch(
      new RegExp(`^error: cdktf.out/plan-check/production is in use by another plan-check run: pid ${process.pid} on ${os.hostname()}, started \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z \\(`),
    );
    const done = await first;
    expect(done.code).toBe(0);
    expect(JSON.parse(done.stdout).failures).toEqual([]);
    expect(fs.existsSync(lock)).toBe(false);
  });

  test.concurrent("online, where no registry answers: Terraform's own error, whole, exit 2; nothing left", async () => {
    const cwd = tempDir("plan-check-tier-");
    const tfrc = path.join(cwd, "no-registry.tfrc");
    fs.writeFileSync(tfrc, 'provider_installation {\n  network_mirror {\n    url = "https://127.0.0.1:9/"\n  }\n}\n');
    const r = await runPlanCheck(["--modules", MODULES, "--state", POST_FIX], { production }, cwd, { ...ENV_VARS, TF_CLI_CONFIG_FILE: tfrc });
    expect(r.code).toBe(2);
    expect(withoutProgress(r.stderr)).toMatch(/^error: terraform init exited 1 in .*cdktf\.out\/plan-check\/production\/stack; Terraform said:\n/);
    expect(r.stderr).toContain("Error: Failed to query available provider packages");
    expect(r.stderr).toContain("127.0.0.1:9");
    expect(r.stderr).toMatch(/note: removed .*cdktf\.out\/plan-check, which this run created\n$/);
    expect(fs.readdirSync(path.join(cwd, "cdktf.out")).sort()).toEqual(["manifest.json", "stacks"]);
  });

  test("an interrupt stops Terraform, removes what the run made and says so; nothing of Terraform's in the caller's TMPDIR", async () => {
    const cwd = tempDir("plan-check-tier-");
    const callerTmp = tempDir("plan-check-tier-tmp-");
    const child = spawn(
      process.execPath,
      ["-r", require.resolve("ts-node/register/transpile-only"), path.join(__dirname, "..", "commands", "plan-check", "index.ts"), "--offline", "--modules", MODULES, "--state", PRE_FIX, "--data", DATA],
      { cwd, env: { ...ENV_VARS, DISABLE_V8_COMPILE_CACHE: "1", TS_NODE_PROJECT: path.join(__dirname, "..", "tsconfig.json"), TMPDIR: callerTmp }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    const out = path.join(cwd, "cdktf.out", "plan-check", "production");
    // Terraform is at work once init has begun in the stack's folder.
    while (!fs.existsSync(path.join(out, "stack", ".terraform")) && child.exitCode === null) await new Promise((r) => setTimeout(r, 25));
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(withoutProgress(stderr)).toMatch(/^plan-check: interrupted \(SIGINT\): (stopped \d child process\(es\) \(pid [\d, ]+\); )?removed .*cdktf\.out\/plan-check, which this run created\n$/);
    expect(fs.existsSync(path.join(cwd, "cdktf.out", "plan-check"))).toBe(false);
    expect(fs.readdirSync(callerTmp)).toEqual([]);
    // No process is left working in the removed folder.
    expect(processesIn(out)).toEqual([]);
  }, 120_000);
});
