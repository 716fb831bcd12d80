import * as fs from "fs";
import * as path from "path";
// Fidelity to the HCL root: production as the HCL root has it, frozen in the tests, not as configured
// (config/environments.ts, which a team changes); a configured variant keeps its own settings on it.
import { HCL_PRODUCTION as production } from "./fixtures/hcl-production";
import { classify, parseStack, parseState } from "../lib/migration";
import { DATA_SOURCES, INTENDED_DIFFERENCES, MOVES, MoveTargetError, applyMoves, counterpart } from "../stacks/moves";
import { App, Testing, TerraformLocal, TerraformOutput, TerraformStack, TerraformVariable } from "cdktf";
import { DataAwsSubnets } from "@cdktf/provider-aws/lib/data-aws-subnets";
import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { duplicateAddresses, pinAddress } from "../modules/address";
import { ZivoHealthStack } from "../stacks/zivohealth-stack";
import { synthStack } from "./helpers";
import { tempDir } from "./tmp";

const FIXTURE = path.join(__dirname, "../../shared/fixtures/existing-production.tfstate");

// The address table: HCL address -> synthesized address. Changing a construct id
// or moving a construct must not change a line of it; a change here is a
// migration decision and needs its moved block.
const ADDRESS_TABLE: [string, string][] = [
  ["module.ecr.aws_ecr_repository.backend", "aws_ecr_repository.ecr_backend"],
  ["module.iam.aws_iam_role.ec2_role", "aws_iam_role.iam_ec2_role"],
  ["module.iam.aws_iam_role_policy_attachment.ecr_read", "aws_iam_role_policy_attachment.iam_ecr_read"],
  ["module.iam.aws_iam_role_policy_attachment.ssm_core", "aws_iam_role_policy_attachment.iam_ssm_core"],
  ["module.iam.aws_iam_role_policy.ssm_params_read", "aws_iam_role_policy.iam_ssm_params_read"],
  ["module.iam.aws_iam_role_policy.s3_textract_inline", "aws_iam_role_policy.iam_s3_textract_inline"],
  ["module.iam.aws_iam_instance_profile.ec2_profile", "aws_iam_instance_profile.iam_ec2_profile"],
  ["module.iam.aws_iam_role.ecs_task_execution", "aws_iam_role.iam_ecs_task_execution"],
  ["module.iam.aws_iam_role_policy_attachment.ecs_task_execution_policy", "aws_iam_role_policy_attachment.iam_ecs_task_execution_policy"],
  ["module.iam.aws_iam_role_policy.ecs_task_execution_ssm", "aws_iam_role_policy.iam_ecs_task_execution_ssm"],
  ["module.iam.aws_iam_role.ecs_task", "aws_iam_role.iam_ecs_task"],
  ["module.iam.aws_iam_role_policy.ecs_task_sqs", "aws_iam_role_policy.iam_ecs_task_sqs"],
  ["module.iam.aws_iam_role_policy.ecs_task_s3", "aws_iam_role_policy.iam_ecs_task_s3"],
  ["module.ml_worker.aws_sqs_queue.ml_worker_dlq", "aws_sqs_queue.ml_worker_ml_worker_dlq"],
  ["module.ml_worker.aws_sqs_queue.ml_worker", "aws_sqs_queue.ml_worker_ml_worker"],
  ["module.ml_worker.aws_sqs_queue_policy.ml_worker", "aws_sqs_queue_policy.ml_worker_ml_worker"],
  ["module.ml_worker.aws_cloudwatch_metric_alarm.queue_depth_high", "aws_cloudwatch_metric_alarm.ml_worker_queue_depth_high"],
  ["module.ml_worker.aws_cloudwatch_metric_alarm.dlq_messages", "aws_cloudwatch_metric_alarm.ml_worker_dlq_messages"],
  ["module.ml_worker.aws_ecs_cluster.ml_worker", "aws_ecs_cluster.ml_worker_ml_worker"],
  ["module.ml_worker.aws_ecs_cluster_capacity_providers.ml_worker", "aws_ecs_cluster_capacity_providers.ml_worker_ml_worker"],
  ["module.ml_worker.aws_cloudwatch_log_group.ml_worker", "aws_cloudwatch_log_group.ml_worker_ml_worker"],
  ["module.ml_worker.aws_ecs_task_definition.ml_worker", "aws_ecs_task_definition.ml_worker_ml_worker"],
  ["module.ml_worker.aws_ecs_service.ml_worker", "aws_ecs_service.ml_worker_ml_worker"],
  ["module.ml_worker.aws_security_group.ml_worker", "aws_security_group.ml_worker_ml_worker"],
  ["module.ml_worker.aws_appautoscaling_target.ml_worker", "aws_appautoscaling_target.ml_worker_ml_worker"],
  ["module.ml_worker.aws_appautoscaling_policy.ml_worker_scale_up", "aws_appautoscaling_policy.ml_worker_ml_worker_scale_up"],
  [
    "module.ml_worker.aws_appautoscaling_scheduled_action.ml_worker_scale_down_night[0]",
    "aws_appautoscaling_scheduled_action.ml_worker_ml_worker_scale_down_night",
  ],
  [
    "module.ml_worker.aws_appautoscaling_scheduled_action.ml_worker_scale_up_morning[0]",
    "aws_appautoscaling_scheduled_action.ml_worker_ml_worker_scale_up_morning",
  ],
  ["module.compute.aws_s3_object.compose", "aws_s3_object.compute_compose"],
  ["module.compute.aws_ssm_parameter.compose_sha256", "aws_ssm_parameter.compute_compose_sha256"],
  ["module.compute.aws_instance.host", "aws_instance.compute_host"],
  // Counted (count 0 or 1, as in the HCL): the whole resource moves, allow_ssh[0] to compute_allow_ssh[0].
  ["module.compute.aws_security_group_rule.allow_ssh", "aws_security_group_rule.compute_allow_ssh"],
  // The ssm module's two count-dependent parameters, declared by the stack.
  ["module.ssm.aws_ssm_parameter.ml_worker_queue_url[0]", "aws_ssm_parameter.ssm_ml_worker_queue_url"],
  ["module.ssm.aws_ssm_parameter.ml_worker_enabled[0]", "aws_ssm_parameter.ssm_ml_worker_enabled"],
  // Root resources keep their HCL addresses.
  ["aws_vpc.managed_existing", "aws_vpc.managed_existing"],
  ["aws_security_group.ec2_existing_vpc", "aws_security_group.ec2_existing_vpc"],
  ["aws_security_group_rule.ec2_to_rds", "aws_security_group_rule.ec2_to_rds"],
];

const managedAddresses = (json: { resource: Record<string, Record<string, unknown>> }) =>
  Object.entries(json.resource).flatMap(([t, byName]) => Object.keys(byName).map((n) => `${t}.${n}`));

describe("addresses", () => {
  const { json } = synthStack();
  const scheduled = synthStack({ ...production, mlWorker: { ...production.mlWorker, enableScheduledScaling: true } }).json;

  it("synthesizes exactly the table's addresses (scheduled actions only when enabled)", () => {
    const expected = ADDRESS_TABLE.map(([, to]) => to);
    expect(managedAddresses(scheduled).sort()).toEqual([...expected].sort());
    expect(managedAddresses(json).sort()).toEqual(expected.filter((a) => !a.includes("scheduled_action")).sort());
  });

  it("has a moved block for every construct resource, from its HCL address", () => {
    const table = ADDRESS_TABLE.filter(([from, to]) => from !== to);
    expect(scheduled.moved.map((m) => [m.from, m.to]).sort()).toEqual(table.sort());
    expect(MOVES.map((m) => [m.from, m.to]).sort()).toEqual(table.sort());
    expect(json.moved).toHaveLength(table.length - 2);
  });

  it("keeps the HCL module names, so their resources keep their addresses", () => {
    expect(Object.keys(json.module).sort()).toEqual(["route53", "ssm", "storage", "vpc_endpoints"]);
  });

  it("keeps the data source addresses of the root", () => {
    const data = Object.entries(json.data).flatMap(([t, byName]) => Object.keys(byName).map((n) => `data.${t}.${n}`));
    expect(data.sort()).toEqual([
      "data.aws_ami.compute_ubuntu",
      "data.aws_caller_identity.compute_current",
      "data.aws_caller_identity.ml_worker_current",
      "data.aws_db_instance.existing",
      "data.aws_iam_policy_document.iam_assume_role",
      "data.aws_iam_policy_document.iam_ecs_task_assume",
      "data.aws_iam_policy_document.iam_ecs_task_execution_assume",
      "data.aws_region.compute_current",
      "data.aws_route_tables.private",
      "data.aws_subnets.existing_private",
      "data.aws_subnets.existing_public",
      "data.aws_vpc.existing",
      "data.local_file.env_production",
    ]);
  });

  it("maps every construct data source to its HCL address, so plan-check finds a value recorded under either", () => {
    expect(DATA_SOURCES.map((d) => [d.from, d.to])).toEqual([
      ["module.iam.data.aws_iam_policy_document.assume_role", "data.aws_iam_policy_document.iam_assume_role"],
      ["module.iam.data.aws_iam_policy_document.ecs_task_execution_assume", "data.aws_iam_policy_document.iam_ecs_task_execution_assume"],
      ["module.iam.data.aws_iam_policy_document.ecs_task_assume", "data.aws_iam_policy_document.iam_ecs_task_assume"],
      ["module.ml_worker.data.aws_caller_identity.current", "data.aws_caller_identity.ml_worker_current"],
      ["module.compute.data.aws_ami.ubuntu", "data.aws_ami.compute_ubuntu"],
      ["module.compute.data.aws_caller_identity.current", "data.aws_caller_identity.compute_current"],
      ["module.compute.data.aws_region.current", "data.aws_region.compute_current"],
    ]);
    expect(counterpart("module.compute.data.aws_ami.ubuntu")).toBe("data.aws_ami.compute_ubuntu");
    expect(counterpart("data.aws_ami.compute_ubuntu")).toBe("module.compute.data.aws_ami.ubuntu");
  });

  it("declares one intended difference from the HCL root's plan: the host's user-data encoding, at an address it synthesizes", () => {
    expect(INTENDED_DIFFERENCES.map((d) => [d.address, d.attributes])).toEqual([["aws_instance.compute_host", ["user_data", "user_data_base64"]]]);
    expect(managedAddresses(json)).toContain(INTENDED_DIFFERENCES[0].address);
    expect(INTENDED_DIFFERENCES[0].reason).toMatch(/user_data_base64.*16,384-byte limit/);
  });

  it("refuses a move table entry whose target the stack does not synthesize (a user error: exit 2, no trace)", () => {
    const stack = synthStack().stack;
    const move = () => applyMoves(stack, [{ from: "module.iam.aws_iam_role.gone", to: "aws_iam_role.iam_gone" }]);
    expect(move).toThrow(
      "moved blocks point at addresses this stack does not synthesize (a construct id or address changed?):\n" +
        "  - module.iam.aws_iam_role.gone -> aws_iam_role.iam_gone",
    );
    expect(move).toThrow(MoveTargetError);
  });

  it("the production stack synthesizes every element under its own address", () => {
    expect(duplicateAddresses(synthStack().stack)).toEqual([]);
  });
});

describe("duplicateAddresses: two elements pinned to one address", () => {
  const subnets = (stack: TerraformStack, id: string, onLaunch: string) =>
    new DataAwsSubnets(stack, id, { filter: [{ name: "map-public-ip-on-launch", values: [onLaunch] }] });

  it("names the address and both constructs' paths, for data sources, resources, locals, outputs and variables", () => {
    const stack = new TerraformStack(new App({ outdir: tempDir("zh-dup-") }), "dup");
    pinAddress(subnets(stack, "existing_public", "true"), "", "existing_public");
    pinAddress(subnets(stack, "existing_private", "false"), "", "existing_public");
    pinAddress(new SqsQueue(stack, "a", {}), "ml_worker", "q");
    pinAddress(new SqsQueue(stack, "b", {}), "ml_worker", "q");
    pinAddress(new TerraformLocal(stack, "l1", "x"), "", "key");
    pinAddress(new TerraformLocal(stack, "l2", "y"), "", "key");
    pinAddress(new TerraformOutput(stack, "o1", { value: "x" }), "", "out");
    pinAddress(new TerraformOutput(stack, "o2", { value: "y" }), "", "out");
    pinAddress(new TerraformVariable(stack, "v1", {}), "", "v");
    pinAddress(new TerraformVariable(stack, "v2", {}), "", "v");
    // Same name, different kinds: different addresses, no clash.
    pinAddress(new TerraformLocal(stack, "l3", "z"), "", "existing_public");
    const why = "cdktf would merge them into one block. Give each its own name (pinAddress, overrideLogicalId)";
    expect(duplicateAddresses(stack)).toEqual([
      `data.aws_subnets.existing_public is the address of 2 constructs: dup/existing_public, dup/existing_private; ${why}`,
      `aws_sqs_queue.ml_worker_q is the address of 2 constructs: dup/a, dup/b; ${why}`,
      `local.key is the address of 2 constructs: dup/l1, dup/l2; ${why}`,
      `output.out is the address of 2 constructs: dup/o1, dup/o2; ${why}`,
      `var.v is the address of 2 constructs: dup/v1, dup/v2; ${why}`,
    ]);
  });

  it("what cdktf would otherwise write: one lookup with both filters (why it is refused)", () => {
    const stack = new TerraformStack(new App({ outdir: tempDir("zh-dup-") }), "dup");
    pinAddress(subnets(stack, "existing_public", "true"), "", "existing_public");
    pinAddress(subnets(stack, "existing_private", "false"), "", "existing_public");
    const json = JSON.parse(Testing.synth(stack));
    expect(Object.keys(json.data.aws_subnets)).toEqual(["existing_public"]);
    expect(json.data.aws_subnets.existing_public.filter.map((f: { values: string[] }) => f.values[0])).toEqual(["true", "false"]);
  });

  it("a ZivoHealthStack in an App of the user's own (not buildApp's): its synth refuses them, naming the address and both paths, and writes no stack", () => {
    const outdir = tempDir("zh-dup-");
    const app = new App({ outdir });
    const stack = new ZivoHealthStack(app, "production", production);
    pinAddress(subnets(stack, "more_public", "true"), "", "existing_public");
    expect(() => app.synth()).toThrow(
      "data.aws_subnets.existing_public is the address of 2 constructs: production/existing_public, production/more_public; " +
        "cdktf would merge them into one block. Give each its own name (pinAddress, overrideLogicalId)",
    );
    expect(fs.existsSync(path.join(outdir, "stacks", "production", "cdk.tf.json"))).toBe(false);
  });

  it("distinct names: nothing reported", () => {
    const stack = new TerraformStack(new App({ outdir: tempDir("zh-dup-") }), "dup");
    pinAddress(subnets(stack, "existing_public", "true"), "", "existing_public");
    pinAddress(subnets(stack, "existing_private", "false"), "", "existing_private");
    new TerraformLocal(stack, "unpinned", "x");
    expect(duplicateAddresses(stack)).toEqual([]);
  });
});

describe("migration of the real production state", () => {
  const { text } = synthStack();
  const report = classify(parseState(fs.readFileSync(FIXTURE, "utf8"), FIXTURE), parseStack(text, "production"));
  const rows = (outcome: string) =>
    report.instances.filter((i) => i.outcome === outcome).map((i) => (i.configAddress ? `${i.stateAddress} -> ${i.configAddress}` : i.stateAddress));

  it("destroys nothing", () => {
    expect(report.safe).toBe(true);
    expect(rows("destroyed")).toEqual([]);
    expect(report.movedProblems).toEqual([]);
  });

  it("keeps the root resources at their addresses", () => {
    expect(rows("kept")).toEqual([
      "aws_security_group.ec2_existing_vpc -> aws_security_group.ec2_existing_vpc",
      "aws_security_group_rule.ec2_to_rds -> aws_security_group_rule.ec2_to_rds",
    ]);
    expect(rows("deposed")).toEqual(["aws_security_group.ec2_existing_vpc"]);
  });

  it("moves the three compute and six IAM resources in the state", () => {
    expect(rows("moved")).toEqual([
      "module.compute.aws_instance.host -> aws_instance.compute_host",
      "module.compute.aws_s3_object.compose -> aws_s3_object.compute_compose",
      "module.compute.aws_ssm_parameter.compose_sha256 -> aws_ssm_parameter.compute_compose_sha256",
      "module.iam.aws_iam_instance_profile.ec2_profile -> aws_iam_instance_profile.iam_ec2_profile",
      "module.iam.aws_iam_role.ec2_role -> aws_iam_role.iam_ec2_role",
      "module.iam.aws_iam_role_policy.s3_textract_inline -> aws_iam_role_policy.iam_s3_textract_inline",
      "module.iam.aws_iam_role_policy.ssm_params_read -> aws_iam_role_policy.iam_ssm_params_read",
      "module.iam.aws_iam_role_policy_attachment.ecr_read -> aws_iam_role_policy_attachment.iam_ecr_read",
      "module.iam.aws_iam_role_policy_attachment.ssm_core -> aws_iam_role_policy_attachment.iam_ssm_core",
    ]);
  });

  it("leaves the HCL modules' 14 instances where they are", () => {
    expect(rows("hcl-module").map((r) => r.split(" -> ")[0])).toEqual([
      "module.route53.aws_route53_record.api_a",
      "module.route53.aws_route53_record.root_a",
      "module.route53.aws_route53_record.www_a[0]",
      "module.route53.aws_route53_zone.zone",
      "module.ssm.aws_ssm_parameter.db_host",
      "module.ssm.aws_ssm_parameter.db_password",
      "module.ssm.aws_ssm_parameter.db_user",
      "module.ssm.aws_ssm_parameter.image_tag",
      "module.ssm.aws_ssm_parameter.react_app_api_key",
      "module.ssm.aws_ssm_parameter.s3_bucket",
      "module.ssm.random_password.db",
      "module.storage.aws_s3_bucket.uploads",
      "module.storage.aws_s3_bucket_policy.allow_ec2_read_compose",
      "module.storage.random_id.suffix",
    ]);
  });

  it("creates the ECR repository, the ECS roles and the ML worker, and flags the managed VPC", () => {
    expect(report.totals).toEqual({
      managedInstances: 26,
      kept: 2,
      moved: 9,
      inHclModule: 14,
      deposed: 1,
      destroyed: 0,
      dataSourcesSkipped: 11,
      toBeCreated: 23,
      unexpectedCreations: 1,
      deployedCreations: 0,
      keysNotChecked: 0,
    });
    expect(report.creations.filter((c) => !c.expected).map((c) => c.address)).toEqual(["aws_vpc.managed_existing"]);
  });

});
