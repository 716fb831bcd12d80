// Why each `moved` block exists, in one table: the ecr, iam, ml_worker and
// compute HCL modules became constructs, so their resources left `module.<name>.` and took
// root addresses `<type>.<module>_<name>`. Terraform moves the objects in
// state on the next plan/apply; nothing is destroyed and recreated.
// Keep an entry until every state that can still hold the old address (each
// workspace, each laptop copy) has been applied with it; then it can go.
import type { TerraformResource, TerraformStack } from "cdktf";

export interface Move {
  /** The address in the HCL configuration's state. */
  readonly from: string;
  /** The address this stack synthesizes. */
  readonly to: string;
  /** Present only with some settings (e.g. scheduled scaling); skipped when absent. */
  readonly optional?: boolean;
}

type Entry = [type: string, name: string, from?: { index: number; optional: boolean }];

const moves = (module: string, entries: Entry[]): Move[] =>
  entries.map(([type, name, from]) => ({
    from: `module.${module}.${type}.${name}${from === undefined ? "" : `[${from.index}]`}`,
    to: `${type}.${module}_${name}`,
    ...(from?.optional ? { optional: true } : {}),
  }));

/** A `count` instance that exists only with some settings. */
const OPTIONAL_FIRST = { index: 0, optional: true };

/** HCL address → synthesized address, for every resource of the four constructs (and two of the ssm module). */
export const MOVES: readonly Move[] = [
  ...moves("ecr", [["aws_ecr_repository", "backend"]]),
  ...moves("iam", [
    ["aws_iam_role", "ec2_role"],
    ["aws_iam_role_policy_attachment", "ecr_read"],
    ["aws_iam_role_policy_attachment", "ssm_core"],
    ["aws_iam_role_policy", "ssm_params_read"],
    ["aws_iam_role_policy", "s3_textract_inline"],
    ["aws_iam_instance_profile", "ec2_profile"],
    ["aws_iam_role", "ecs_task_execution"],
    ["aws_iam_role_policy_attachment", "ecs_task_execution_policy"],
    ["aws_iam_role_policy", "ecs_task_execution_ssm"],
    ["aws_iam_role", "ecs_task"],
    ["aws_iam_role_policy", "ecs_task_sqs"],
    ["aws_iam_role_policy", "ecs_task_s3"],
  ]),
  ...moves("ml_worker", [
    ["aws_sqs_queue", "ml_worker_dlq"],
    ["aws_sqs_queue", "ml_worker"],
    ["aws_sqs_queue_policy", "ml_worker"],
    ["aws_cloudwatch_metric_alarm", "queue_depth_high"],
    ["aws_cloudwatch_metric_alarm", "dlq_messages"],
    ["aws_ecs_cluster", "ml_worker"],
    ["aws_ecs_cluster_capacity_providers", "ml_worker"],
    ["aws_cloudwatch_log_group", "ml_worker"],
    ["aws_ecs_task_definition", "ml_worker"],
    ["aws_ecs_service", "ml_worker"],
    ["aws_security_group", "ml_worker"],
    ["aws_appautoscaling_target", "ml_worker"],
    ["aws_appautoscaling_policy", "ml_worker_scale_up"],
    ["aws_appautoscaling_scheduled_action", "ml_worker_scale_down_night", OPTIONAL_FIRST],
    ["aws_appautoscaling_scheduled_action", "ml_worker_scale_up_morning", OPTIONAL_FIRST],
  ]),
  ...moves("compute", [
    ["aws_s3_object", "compose"],
    ["aws_ssm_parameter", "compose_sha256"],
    ["aws_instance", "host"],
    // Counted in the construct as in the HCL (`count` 0 or 1): moved as a whole
    // resource, so allow_ssh[0] lands on compute_allow_ssh[0], and the block is a
    // no-op where the rule is off (production).
    ["aws_security_group_rule", "allow_ssh"],
  ]),
  // Not a module migration: the ssm module (still HCL) counts these two on the
  // queue URL, unknown until the queue exists, so a new environment could not
  // plan in one step. The stack declares them without count instead.
  ...moves("ssm", [
    ["aws_ssm_parameter", "ml_worker_queue_url", { index: 0, optional: false }],
    ["aws_ssm_parameter", "ml_worker_enabled", { index: 0, optional: false }],
  ]),
];

/**
 * The constructs' data sources: HCL address → synthesized address. Terraform
 * needs no moved block for them (they are read, not kept); plan-check finds a
 * value recorded under either address.
 */
export const DATA_SOURCES: readonly Move[] = [
  ...moves("iam", [
    ["aws_iam_policy_document", "assume_role"],
    ["aws_iam_policy_document", "ecs_task_execution_assume"],
    ["aws_iam_policy_document", "ecs_task_assume"],
  ]),
  ...moves("ml_worker", [["aws_caller_identity", "current"]]),
  ...moves("compute", [
    ["aws_ami", "ubuntu"],
    ["aws_caller_identity", "current"],
    ["aws_region", "current"],
  ]),
].map((m) => ({ from: m.from.replace(/^(module\.[^.]+\.)/, "$1data."), to: `data.${m.to}` }));

/**
 * Where the stack's plan is meant to differ from the HCL root's, by stack
 * address: the only attributes plan-check's comparison (`--against-hcl`)
 * accepts as different there, and why. Every other attribute, the action and
 * the replace paths must still be equal; at every other address, nothing may differ.
 */
export interface IntendedDifference {
  /** The stack's address. */
  readonly address: string;
  /** Top-level attributes of the planned object that may differ. */
  readonly attributes: readonly string[];
  readonly reason: string;
}

export const INTENDED_DIFFERENCES: readonly IntendedDifference[] = [
  {
    address: "aws_instance.compute_host",
    attributes: ["user_data", "user_data_base64"],
    reason:
      "the host receives the same script gzip-compressed in user_data_base64, not as user_data: the HCL's is over EC2's 16,384-byte limit",
  },
];

/**
 * The HCL root's outputs (outputs.tf, and main.tf's ML worker three), which the stack keeps by name: what
 * scripts read with `terraform output`. plan-check notes a plan that deletes one.
 */
export const HCL_OUTPUTS: readonly string[] = [
  "ec2_public_ip",
  "ecr_repository_url",
  "rds_endpoint",
  "ec2_instance_id",
  "ssm_image_tag_param_name",
  "ml_worker_queue_url",
  "ml_worker_cluster_name",
  "ml_worker_service_name",
];

/** The other address of the same object in the HCL root or the stack, if it has one. */
export function counterpart(address: string): string | undefined {
  for (const m of [...MOVES, ...DATA_SOURCES]) {
    if (m.from === address) return m.to;
    if (m.to === address) return m.from;
  }
  return undefined;
}

/**
 * Adds a `moved` block (cdktf's `moveFromId`) to each resource of the table.
 * A target missing from the stack is an error unless the entry is optional:
 * it means an address changed, which the table must say.
 */
/**
 * A managed resource (data sources cannot move). By shape, not instanceof:
 * this file is the address table plan-check reads, and must not load cdktf.
 */
const isResource = (c: unknown): c is TerraformResource =>
  typeof (c as TerraformResource).terraformResourceType === "string" && typeof (c as TerraformResource).moveFromId === "function";

/** The table and the stack disagree: a moved block would point at an address the stack does not synthesize. */
export class MoveTargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MoveTargetError";
  }
}

export function applyMoves(stack: TerraformStack, table: readonly Move[] = MOVES): void {
  const byAddress = new Map<string, TerraformResource>();
  for (const c of stack.node.findAll()) {
    if (isResource(c)) byAddress.set(`${c.terraformResourceType}.${c.friendlyUniqueId}`, c);
  }
  const missing: string[] = [];
  for (const move of table) {
    const resource = byAddress.get(move.to);
    if (resource) resource.moveFromId(move.from);
    else if (!move.optional) missing.push(`${move.from} -> ${move.to}`);
  }
  if (missing.length > 0) {
    throw new MoveTargetError(
      `moved blocks point at addresses this stack does not synthesize (a construct id or address changed?):\n` +
        missing.map((m) => `  - ${m}`).join("\n"),
    );
  }
}
