// What `npm run verify` checks, read from the synthesized stack (cdk.tf.json):
// every name follows a reference, from the one ECS service or from the Route 53
// records' target, so nothing here is a hand-kept copy. Names that live inside
// HCL modules (the DB host parameter, the Route 53 records) follow the module's
// own naming from the module block's synthesized inputs.
import { decodeTemplateJson } from "../../policy/template";
import { InputError } from "../../lib/cli";
import { StackTaskDefinition, stackTaskDefinition } from "./task-definition";

export type WorkerMode = "sqs" | "aggregation" | "both";

/** A synthesized resource: its Terraform address and the name AWS knows it by. */
export interface Named {
  readonly address: string;
  readonly name: string;
}

export interface VerifyTarget {
  readonly stack: string;
  /** The AWS provider's region. */
  readonly region: string;
  readonly cluster: Named;
  readonly service: Named;
  /** `ML_WORKER_MODE` of the container. */
  readonly workerMode: WorkerMode;
  /** The scalable target's min_capacity (the service's desired_count without one). */
  readonly minCapacity: number;
  /** The lowest min_capacity the stack's scheduled actions set on that target (the night scale-down), when it has any. */
  readonly scheduledMinCapacity?: number;
  /** `definition`: what the stack sets in it, compared with the live revision field by field. */
  readonly taskDefinition: Named & { readonly container: string; readonly definition: StackTaskDefinition };
  /**
   * The image the stack builds: `<registry host>/<repository>:<tag>`. `tag` is
   * undefined when it is only known at apply (a variable).
   */
  readonly image: { readonly repository: string; readonly tag?: string; readonly registryOf?: Named };
  /**
   * Parameters the container's `secrets` read, by `valueFrom`; `{account}`
   * stands for the caller identity's account the stack reads at apply.
   */
  readonly secrets: readonly { readonly name: string; readonly valueFrom: string }[];
  /** The DB host parameter (the ssm module's `db_host`, documented fix 1). */
  readonly dbHostParameter: Named;
  readonly queue: Named;
  readonly deadLetterQueue: Named & { readonly maxReceiveCount?: number };
  readonly logGroup: Named & { readonly streamPrefix?: string };
  /** The alarms on the worker's queues (a `QueueName` dimension that references one), with the metric and queue each watches. */
  readonly alarms: readonly (Named & { readonly namespace: string; readonly metric: string; readonly queue: string })[];
  /** The EC2 API host (the instance the records' target_ip leads to), found by its Name tag. */
  readonly apiHost: Named;
  /** The Route 53 A records that point at the API host. */
  readonly dns: { readonly address: string; readonly zone: string; readonly records: readonly string[] };
}

// ---- The HCL modules' own naming (infra/terraform/modules/<name>/main.tf) ----
/** ssm: `aws_ssm_parameter.db_host`, name `/${var.project}/${var.environment}/db/host`. */
const hclDbHostParameter = (project: string, env: string): Named => ({
  address: "module.ssm.aws_ssm_parameter.db_host",
  name: `/${project}/${env}/db/host`,
});
/** route53: root_a (the zone name), www_a (count on create_www_record, default true), api_a. */
const hclRecords = (zone: string, www: boolean) => [zone, ...(www ? [`www.${zone}`] : []), `api.${zone}`];

type Doc = { resource?: Record<string, Record<string, any>>; module?: Record<string, any>; provider?: Record<string, any[]> };

class TargetError extends InputError {}

/** The resource name in a reference `${<type>.<name>.<attr>}` to one of `attrs`; undefined for anything else (a literal, an expression). */
function reference(value: unknown, type: string, attrs: readonly string[]): string | undefined {
  if (typeof value !== "string") return undefined;
  const m = /^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}$/.exec(value);
  return m && m[1] === type && attrs.includes(m[3]) ? m[2] : undefined;
}

const isLiteral = (v: unknown): v is string => typeof v === "string" && v !== "" && !v.includes("${");

/**
 * The names verify checks, from the synthesized stack `text` of the stack
 * `stack`. A stack without what verify needs is an InputError naming what is
 * missing.
 */
export function verifyTarget(stack: string, text: string): VerifyTarget {
  const doc = JSON.parse(text) as Doc;
  const resources = doc.resource ?? {};
  const where = `the synthesized stack '${stack}'`;
  const fail = (what: string): never => {
    throw new TargetError(`${where}: ${what}; verify cannot tell what to check`);
  };
  const only = (type: string): [string, any] => {
    const entries = Object.entries(resources[type] ?? {});
    if (entries.length !== 1) fail(`expected exactly one ${type}, found ${entries.length}`);
    return entries[0];
  };
  const resource = (type: string, name: string | undefined, from: string): [string, any] => {
    const body = name === undefined ? undefined : resources[type]?.[name];
    if (!body) fail(`${from} does not reference a ${type} of this stack`);
    return [name!, body];
  };
  const literal = (value: unknown, what: string): string => (isLiteral(value) ? value : fail(`${what} is ${JSON.stringify(value)}, not a literal`));
  const named = (type: string, name: string, body: any, attr = "name"): Named => ({
    address: `${type}.${name}`,
    name: literal(body[attr], `${type}.${name}.${attr}`),
  });

  const region = literal((doc.provider?.aws ?? []).find((p) => !p.alias)?.region, "the aws provider's region");

  const [serviceName, service] = only("aws_ecs_service");
  const [clusterName, cluster] = resource("aws_ecs_cluster", reference(service.cluster, "aws_ecs_cluster", ["id", "arn", "name"]), `aws_ecs_service.${serviceName}.cluster`);
  const [taskName, task] = resource(
    "aws_ecs_task_definition",
    reference(service.task_definition, "aws_ecs_task_definition", ["arn", "arn_without_revision", "family"]),
    `aws_ecs_service.${serviceName}.task_definition`,
  );
  let containers: any[];
  try {
    containers = decodeTemplateJson(String(task.container_definitions)) as any[];
  } catch {
    return fail(`aws_ecs_task_definition.${taskName}.container_definitions is not a JSON list`);
  }
  if (!Array.isArray(containers) || containers.length !== 1) fail(`aws_ecs_task_definition.${taskName} should have one container`);
  const container = containers[0];
  const env = (n: string) => (container.environment ?? []).find((e: any) => e.name === n)?.value;

  const mode = env("ML_WORKER_MODE");
  if (!["sqs", "aggregation", "both"].includes(mode)) fail(`the container's ML_WORKER_MODE is ${JSON.stringify(mode)}`);

  const [scalableName, scalable] = Object.entries(resources.aws_appautoscaling_target ?? {}).find(
    ([, t]: [string, any]) => typeof t.resource_id === "string" && t.resource_id.includes(`aws_ecs_service.${serviceName}.name`),
  ) ?? [undefined, undefined];
  const minCapacity = scalable ? scalable.min_capacity : service.desired_count;
  if (typeof minCapacity !== "number") fail(`aws_ecs_service.${serviceName} has no known minimum task count`);
  // A scheduled action lowers the minimum for hours (the night scale-down to 0): desired may sit at the lowest.
  const scheduledMins = Object.values(resources.aws_appautoscaling_scheduled_action ?? {})
    .filter((a: any) => scalableName !== undefined && (reference(a.resource_id, "aws_appautoscaling_target", ["resource_id"]) === scalableName || a.resource_id === scalable.resource_id))
    .map((a: any) => Number(a.scalable_target_action?.min_capacity))
    .filter((n) => Number.isFinite(n));

  // `${element(split("/", aws_ecr_repository.X.repository_url), 0)}/<repository>:<tag>` (documented fix 2), or a literal host.
  const image = /^(\$\{[^}]*\}|[^/${}]+)\/([^:@${}]+):([^/@]+)$/.exec(String(container.image));
  if (!image) fail(`the container image ${JSON.stringify(container.image)} is not <registry>/<repository>:<tag>`);
  const registryRepo = /aws_ecr_repository\.([A-Za-z0-9_-]+)\.repository_url/.exec(image![1])?.[1];
  const registryOf = registryRepo && resources.aws_ecr_repository?.[registryRepo] ? named("aws_ecr_repository", registryRepo, resources.aws_ecr_repository[registryRepo]) : undefined;

  const secrets = (container.secrets ?? []).map((s: any) => ({
    name: literal(s.name, "a secret's name"),
    // The account the stack reads from aws_caller_identity at apply.
    valueFrom: literal(String(s.valueFrom).replace(/\$\{data\.aws_caller_identity\.[A-Za-z0-9_-]+\.account_id\}/g, "{account}"), `secret ${s.name}'s valueFrom`),
  }));

  const [queueName, queue] = resource(
    "aws_sqs_queue",
    reference(env("ML_WORKER_SQS_QUEUE_URL"), "aws_sqs_queue", ["url", "id"]),
    "the container's ML_WORKER_SQS_QUEUE_URL",
  );
  let redrive: any;
  try {
    redrive = decodeTemplateJson(String(queue.redrive_policy));
  } catch {
    return fail(`aws_sqs_queue.${queueName}.redrive_policy is not JSON`);
  }
  const [dlqName, dlq] = resource("aws_sqs_queue", reference(redrive?.deadLetterTargetArn, "aws_sqs_queue", ["arn"]), `aws_sqs_queue.${queueName}.redrive_policy`);

  const queueNamed = named("aws_sqs_queue", queueName, queue);
  const dlqNamed = named("aws_sqs_queue", dlqName, dlq);
  const alarms = Object.entries(resources.aws_cloudwatch_metric_alarm ?? {}).flatMap(([name, a]: [string, any]) => {
    const on = reference(a.dimensions?.QueueName, "aws_sqs_queue", ["name"]);
    if (on !== queueName && on !== dlqName) return [];
    const at = `aws_cloudwatch_metric_alarm.${name}`;
    return [{ ...named("aws_cloudwatch_metric_alarm", name, a, "alarm_name"), namespace: literal(a.namespace, `${at}.namespace`), metric: literal(a.metric_name, `${at}.metric_name`), queue: (on === queueName ? queueNamed : dlqNamed).name }];
  });

  const logOptions = container.logConfiguration?.options ?? {};
  const [logName, log] = resource(
    "aws_cloudwatch_log_group",
    reference(logOptions["awslogs-group"], "aws_cloudwatch_log_group", ["name", "id"]),
    "the container's awslogs-group",
  );

  const ssm = doc.module?.ssm;
  if (!ssm) fail("no module.ssm (the DB host parameter lives there)");
  const dbHostParameter = hclDbHostParameter(literal(ssm.project, "module.ssm.project"), literal(ssm.environment, "module.ssm.environment"));

  const route53 = doc.module?.route53;
  if (!route53) fail("no module.route53 (the API host's records live there)");
  const zone = literal(route53.zone_name, "module.route53.zone_name");

  return {
    stack,
    region,
    cluster: named("aws_ecs_cluster", clusterName, cluster),
    service: named("aws_ecs_service", serviceName, service),
    workerMode: mode as WorkerMode,
    minCapacity,
    ...(scheduledMins.length > 0 ? { scheduledMinCapacity: Math.min(...scheduledMins) } : {}),
    taskDefinition: {
      ...named("aws_ecs_task_definition", taskName, task, "family"),
      container: literal(container.name, "the container's name"),
      definition: stackTaskDefinition(task, containers, resources),
    },
    image: { repository: image![2], tag: isLiteral(image![3]) ? image![3] : undefined, registryOf },
    secrets,
    dbHostParameter,
    queue: queueNamed,
    deadLetterQueue: { ...dlqNamed, maxReceiveCount: typeof redrive.maxReceiveCount === "number" ? redrive.maxReceiveCount : undefined },
    logGroup: { ...named("aws_cloudwatch_log_group", logName, log), streamPrefix: isLiteral(logOptions["awslogs-stream-prefix"]) ? logOptions["awslogs-stream-prefix"] : undefined },
    alarms,
    apiHost: apiHost(resources, route53.target_ip, literal, fail),
    dns: { address: "module.route53", zone, records: hclRecords(zone, route53.create_www_record !== false) },
  };
}

/**
 * The API host: the instance whose public IP the route53 module's records
 * hold, `${aws_instance.<name>.public_ip}`, or through its Elastic IP,
 * `${aws_eip.<name>.public_ip}` whose `instance` is `${aws_instance.<name>.id}`.
 */
function apiHost(
  resources: Record<string, Record<string, any>>,
  targetIp: unknown,
  literal: (value: unknown, what: string) => string,
  fail: (what: string) => never,
): Named {
  const eip = reference(targetIp, "aws_eip", ["public_ip"]);
  const via = eip === undefined ? targetIp : resources.aws_eip?.[eip]?.instance;
  const name = reference(via, "aws_instance", eip === undefined ? ["public_ip"] : ["id"]);
  const host = name === undefined ? undefined : resources.aws_instance?.[name];
  if (!host) return fail(`module.route53.target_ip ${JSON.stringify(targetIp)} does not lead to an aws_instance of this stack`);
  return { address: `aws_instance.${name}`, name: literal(host.tags?.Name, `aws_instance.${name}.tags.Name`) };
}
