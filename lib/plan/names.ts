// What names an object in AWS, by resource type, in one table: the duplicate check (a create named as an
// object the state keeps is a second one) reads it, and nothing else decides which attribute names what.
import type { Failure, Json, PlanJson, PriorObject } from "./judge";

export interface Naming {
  /** The attribute that names the object (`alarm_name`); a dot goes into a map (`tags.Name`). */
  readonly attribute: string;
  /** Attributes the name is unique within (a zone and record type, a VPC, a scalable target). @default - the account and region */
  readonly scope?: readonly string[];
  /** Where AWS itself accepts a second one: why it is still a fault. @default - AWS refuses it, or it is a second copy of one object */
  readonly note?: string;
}

const SCALABLE_TARGET = ["service_namespace", "resource_id", "scalable_dimension"];

/** Every type the duplicate check judges, with what names it. A type not here is not judged (NOT_NAMED says why for ours). */
export const NAMING: Readonly<Record<string, Naming>> = {
  aws_instance: { attribute: "tags.Name", note: "AWS accepts it, but it is a second host of that Name, beside the one everything finds by it" },
  aws_sqs_queue: { attribute: "name" },
  aws_sqs_queue_policy: { attribute: "queue_url", note: "a queue has one policy: the two resources would overwrite each other's" },
  aws_cloudwatch_metric_alarm: { attribute: "alarm_name" },
  aws_cloudwatch_log_group: { attribute: "name" },
  aws_ecr_repository: { attribute: "name" },
  aws_ecs_cluster: { attribute: "name" },
  aws_ecs_cluster_capacity_providers: { attribute: "cluster_name", note: "a cluster has one list of capacity providers: the two resources would overwrite each other's" },
  aws_ecs_service: { attribute: "name", scope: ["cluster"] },
  // AWS accepts a second resource in one family, but each apply of either registers the family's next revision.
  aws_ecs_task_definition: {
    attribute: "family",
    note: "AWS accepts it, but two resources would then register revisions of one family, each taking its latest revision from the other",
  },
  aws_iam_role: { attribute: "name" },
  aws_iam_role_policy: { attribute: "name", scope: ["role"] },
  aws_iam_role_policy_attachment: { attribute: "policy_arn", scope: ["role"], note: "AWS keeps one attachment: destroying either resource detaches it for both" },
  aws_iam_policy: { attribute: "name" },
  aws_iam_instance_profile: { attribute: "name" },
  aws_ssm_parameter: { attribute: "name" },
  aws_security_group: { attribute: "name", scope: ["vpc_id"] },
  aws_key_pair: { attribute: "key_name" },
  aws_db_instance: { attribute: "identifier" },
  aws_route53_zone: { attribute: "name", note: "AWS accepts it, but it is a second hosted zone of that name, whose name servers no delegation points at" },
  aws_route53_record: { attribute: "name", scope: ["zone_id", "type", "set_identifier"] },
  aws_appautoscaling_target: { attribute: "resource_id", scope: ["service_namespace", "scalable_dimension"] },
  aws_appautoscaling_policy: { attribute: "name", scope: SCALABLE_TARGET },
  aws_appautoscaling_scheduled_action: { attribute: "name", scope: SCALABLE_TARGET },
  aws_s3_bucket: { attribute: "bucket" },
  aws_s3_bucket_policy: { attribute: "bucket", note: "a bucket has one policy: the two resources would overwrite each other's" },
  aws_s3_object: { attribute: "key", scope: ["bucket"], note: "AWS accepts it, but the two resources would overwrite one object" },
  aws_sns_topic: { attribute: "name" },
  aws_vpc_endpoint_route_table_association: { attribute: "route_table_id", scope: ["vpc_endpoint_id"] },
};

/** Types of this project's stacks that have no name to judge, and why: a test holds every type to one table or the other. */
export const NOT_NAMED: Readonly<Record<string, string>> = {
  aws_security_group_rule: "named by nothing but the whole rule; AWS refuses an identical rule at apply",
  aws_vpc: "named only by a tag; AWS gives it its id",
  aws_vpc_endpoint: "AWS accepts several of one service in a VPC and gives each its id",
  aws_sns_topic_subscription: "AWS gives it its ARN",
  aws_kms_key: "AWS gives it its id (an alias names it, aws_kms_alias)",
  random_id: "not an object in AWS",
  random_password: "not an object in AWS",
};

const isObject = (v: Json | undefined): v is { [k: string]: Json } => typeof v === "object" && v !== null && !Array.isArray(v);

function containsTrue(v: Json | undefined): boolean {
  if (v === true) return true;
  if (Array.isArray(v)) return v.some(containsTrue);
  if (isObject(v)) return Object.values(v).some(containsTrue);
  return false;
}

/** The value at a dotted path (`tags.Name`). */
const valueAt = (v: Json | undefined, path: string): Json | undefined =>
  path.split(".").reduce<Json | undefined>((x, k) => (isObject(x) ? x[k] : undefined), v);

/** Whether marks (after_unknown, sensitive values) say true at a dotted path, at a map above it, or anywhere inside it. */
function markedAt(marks: Json | undefined, path: string): boolean {
  let m = marks;
  for (const k of path.split(".")) {
    if (m === true) return true;
    m = isObject(m) ? m[k] : undefined;
  }
  return containsTrue(m);
}

export interface Identity {
  readonly naming: Naming;
  readonly name: string;
  readonly key: string;
}

/**
 * An object's name and scope by the table, when all are known at plan and none is sensitive: a value
 * Terraform marks sensitive is never compared, so never named in a report.
 */
export function identityOf(type: string, values: Json | undefined, unknown: Json | undefined, sensitive: Json | undefined): Identity | undefined {
  const naming = NAMING[type];
  if (!naming || !isObject(values) || sensitive === true || unknown === true) return undefined;
  const name = valueAt(values, naming.attribute);
  if (typeof name !== "string" || name === "") return undefined;
  const scope = naming.scope ?? [];
  if ([naming.attribute, ...scope].some((a) => markedAt(unknown, a) || markedAt(sensitive, a))) return undefined;
  return { naming, name, key: JSON.stringify([type, name, ...scope.map((a) => valueAt(values, a) ?? null)]) };
}

/** Creates of an object the state already holds by name (and scope), where the plan neither deletes nor forgets that one. */
export function duplicates(plan: PlanJson, prior: readonly PriorObject[]): Failure[] {
  const changes = plan.resource_changes ?? [];
  const gone = new Set(changes.filter((c) => c.mode === "managed" && !c.deposed && ["delete", "forget"].includes(c.change.actions.join(","))).map((c) => c.address));
  const existing = new Map<string, string>();
  for (const o of prior) {
    const id = gone.has(o.address) ? undefined : identityOf(o.type, o.values, undefined, o.sensitive);
    if (id && !existing.has(id.key)) existing.set(id.key, o.address);
  }
  const out: Failure[] = [];
  for (const c of changes) {
    if (c.mode !== "managed" || c.change.actions.join(",") !== "create") continue;
    const id = identityOf(c.type, c.change.after, c.change.after_unknown, c.change.after_sensitive);
    const other = id && existing.get(id.key);
    if (id && other && other !== c.address) out.push({ kind: "duplicate", address: c.address, existing: other, type: c.type, attribute: id.naming.attribute, name: id.name });
  }
  return out;
}
