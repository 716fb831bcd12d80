// verify's task definition check: what the stack's aws_ecs_task_definition sets, read with the target
// (stackTaskDefinition), and each field of the live revision (DescribeTaskDefinition) that differs from
// it (compareTaskDefinition). Only what the stack sets is compared, as ECS registers it: the defaults AWS
// fills in (essential, a container's cpu 0, hostPort, empty lists) are no difference.
import type { ContainerDefinition, TaskDefinition } from "@aws-sdk/client-ecs";
import { iso, parseQueueUrl, parseRoleArn, placeDifferences } from "./checks";
import { REDACTED, redactShapes, redactsName } from "./redact";
import type { VerifyTarget } from "./target";

/** A value only known at apply, and how the live one is judged offline. */
export interface AtApply {
  /** The Terraform expression, as synthesized. */
  readonly atApply: string;
  /** The DB host (documented fix 1): a host name without a port, as the worker DB host check judges it. */
  readonly hostWithoutPort?: true;
  /** A role's ARN: the stack's role of this name, in the caller's account. */
  readonly roleName?: string;
  /** That role's path (`/` when the stack sets none, Terraform's default); absent when known only at apply (not judged). */
  readonly rolePath?: string;
  /** A queue's URL: the stack's queue of this name, in the caller's account and the stack's region. */
  readonly queueName?: string;
}
/** What the stack sets: a literal, or a value known only at apply (neither judge set: not comparable offline). */
export type StackValue = string | number | boolean | AtApply;

export interface StackPortMapping {
  readonly containerPort: StackValue;
  readonly hostPort: StackValue;
  readonly protocol: string;
}

export interface StackHealthCheck {
  /** Undefined when it holds an expression (then named in notCompared). */
  readonly command?: readonly string[];
  readonly interval: StackValue;
  readonly timeout: StackValue;
  readonly retries: StackValue;
  readonly startPeriod: StackValue;
}

/** A container as the stack sets it; `secrets` are the target's (VerifyTarget.secrets). */
export interface StackContainer {
  readonly name: string;
  /** ECS's default when unset: true. */
  readonly essential: StackValue;
  /** Fields compared only when set (ECS fills in cpu 0). */
  readonly cpu?: StackValue;
  /** Fields ECS fills in nothing for: unset in the stack, a live value is a difference. */
  readonly memory?: StackValue;
  readonly memoryReservation?: StackValue;
  readonly stopTimeout?: StackValue;
  readonly workingDirectory?: StackValue;
  readonly user?: StackValue;
  readonly command?: readonly string[];
  readonly entryPoint?: readonly string[];
  readonly environment: readonly { readonly name: string; readonly value: StackValue }[];
  readonly logConfiguration?: { readonly logDriver: StackValue; readonly options: Readonly<Record<string, StackValue>> };
  readonly portMappings: readonly StackPortMapping[];
  readonly healthCheck?: StackHealthCheck;
}

/** The task definition the stack synthesizes, in the ECS API's names. */
export interface StackTaskDefinition {
  /** Compared when set (each normalized to CPU units and MiB, as ECS registers `1 vCPU`, `3 GB`). */
  readonly cpu?: StackValue;
  readonly memory?: StackValue;
  readonly networkMode?: StackValue;
  readonly requiresCompatibilities?: readonly string[];
  readonly runtimePlatform?: { readonly operatingSystemFamily?: StackValue; readonly cpuArchitecture?: StackValue };
  readonly ephemeralStorageGiB?: StackValue;
  /** No default role: unset in the stack, a live role is a difference. */
  readonly executionRoleArn?: StackValue;
  readonly taskRoleArn?: StackValue;
  readonly containers: readonly StackContainer[];
  /** Fields the stack sets that verify does not compare (named in the row): another kind, or a list holding an expression. */
  readonly notCompared: readonly string[];
}

type Resources = Record<string, Record<string, any>>;

const REFERENCE = /^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}$/;
/** `${element(split(":", data.aws_db_instance.x.endpoint), 0)}`: the endpoint's host (documented fix 1). */
const ENDPOINT_HOST = /^\$\{element\(split\(":", ?[^()]+\.endpoint\), ?0\)\}$/;

/** A scalar the stack sets, with a reference to one of its own resources resolved as far as its literal name allows. */
export function stackValue(value: unknown, resources: Resources): StackValue | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "number" || typeof value === "boolean") return value;
  const text = String(value);
  if (!text.includes("${")) return text;
  const ref = REFERENCE.exec(text);
  const name = ref ? resources[ref[1]]?.[ref[2]]?.name : undefined;
  if (ref && typeof name === "string" && name !== "" && !name.includes("${")) {
    const [, type, , attr] = ref;
    if (attr === "name" || (type === "aws_cloudwatch_log_group" && attr === "id")) return name;
    if (type === "aws_iam_role" && attr === "arn") {
      const path: unknown = resources[ref[1]][ref[2]].path ?? "/";
      return { atApply: text, roleName: name, ...(typeof path === "string" && !path.includes("${") ? { rolePath: path } : {}) };
    }
    if (type === "aws_sqs_queue" && (attr === "url" || attr === "id")) return { atApply: text, queueName: name };
  }
  if (ENDPOINT_HOST.test(text)) return { atApply: text, hostWithoutPort: true };
  return { atApply: text };
}

/** Terraform's block, synthesized as an object or a list of one. */
const block = (v: unknown): Record<string, unknown> | undefined => (Array.isArray(v) ? v[0] : v && typeof v === "object" ? (v as Record<string, unknown>) : undefined);

/** Attributes of the resource that are not the task definition's content (family: the ECS deployment row; containers: below). */
const TASK_NOT_CONTENT = new Set(["//", "family", "tags", "tags_all", "depends_on", "lifecycle", "provider", "count", "for_each", "container_definitions", "skip_destroy", "track_latest"]);
const TASK_COMPARED = new Set(["cpu", "memory", "network_mode", "requires_compatibilities", "runtime_platform", "ephemeral_storage", "execution_role_arn", "task_role_arn"]);
/** `image`: the image path row; `secrets`: the target's. */
const CONTAINER_COMPARED = new Set([
  "name", "image", "essential", "cpu", "memory", "memoryReservation", "stopTimeout", "workingDirectory", "user",
  "command", "entryPoint", "environment", "secrets", "logConfiguration", "portMappings", "healthCheck",
]);

/** The stack's task definition from its resource `body` and decoded `container_definitions`. */
export function stackTaskDefinition(body: Record<string, any>, containers: readonly Record<string, any>[], resources: Resources): StackTaskDefinition {
  const v = (x: unknown) => stackValue(x, resources);
  const notCompared: string[] = Object.keys(body).filter((k) => !TASK_NOT_CONTENT.has(k) && !TASK_COMPARED.has(k));
  const platform = block(body.runtime_platform);
  const storage = block(body.ephemeral_storage);
  const list = (x: unknown, at: string): string[] | undefined => {
    if (x === undefined) return undefined;
    if (Array.isArray(x) && x.every((e) => typeof e === "string" && !e.includes("${"))) return x;
    notCompared.push(at);
    return undefined;
  };
  const out: StackTaskDefinition = {
    cpu: v(body.cpu),
    memory: v(body.memory),
    networkMode: v(body.network_mode),
    requiresCompatibilities: list(body.requires_compatibilities, "requiresCompatibilities"),
    runtimePlatform: platform ? { operatingSystemFamily: v(platform.operating_system_family), cpuArchitecture: v(platform.cpu_architecture) } : undefined,
    ephemeralStorageGiB: storage ? v(storage.size_in_gib) : undefined,
    executionRoleArn: v(body.execution_role_arn),
    taskRoleArn: v(body.task_role_arn),
    containers: containers.map((c) => {
      const at = (field: string) => `${c.name}.${field}`;
      for (const k of Object.keys(c)) if (!CONTAINER_COMPARED.has(k) && !(Array.isArray(c[k]) && c[k].length === 0)) notCompared.push(at(k));
      const log = c.logConfiguration;
      if (log?.secretOptions?.length) notCompared.push(at("logConfiguration.secretOptions"));
      const health = c.healthCheck;
      return {
        name: String(c.name),
        essential: v(c.essential) ?? true,
        cpu: v(c.cpu),
        memory: v(c.memory),
        memoryReservation: v(c.memoryReservation),
        stopTimeout: v(c.stopTimeout),
        workingDirectory: v(c.workingDirectory),
        user: v(c.user),
        command: list(c.command, at("command")),
        entryPoint: list(c.entryPoint, at("entryPoint")),
        environment: (c.environment ?? []).map((e: any) => ({ name: String(e.name), value: v(e.value) ?? "" })),
        logConfiguration: log
          ? { logDriver: v(log.logDriver) ?? "", options: Object.fromEntries(Object.entries(log.options ?? {}).map(([k, x]) => [k, v(x) ?? ""])) }
          : undefined,
        portMappings: (c.portMappings ?? []).map((p: any) => ({
          containerPort: v(p.containerPort) ?? "",
          // ECS sets hostPort to containerPort in awsvpc and host mode, 0 (dynamic) in bridge mode.
          hostPort: v(p.hostPort) ?? (["awsvpc", "host"].includes(String(body.network_mode)) ? v(p.containerPort) ?? "" : 0),
          protocol: String(p.protocol ?? "tcp"),
        })),
        healthCheck: health ? healthCheck(health, v, () => notCompared.push(at("healthCheck.command"))) : undefined,
      };
    }),
    notCompared,
  };
  return out;
}

/** A health check with ECS's defaults filled in (interval 30, timeout 5, retries 3, no start period). */
function healthCheck(h: Record<string, any>, v: (x: unknown) => StackValue | undefined, unreadable: () => void): StackHealthCheck {
  const command = Array.isArray(h.command) && h.command.every((e: unknown) => typeof e === "string" && !e.includes("${")) ? h.command : (unreadable(), undefined);
  return { command, interval: v(h.interval) ?? 30, timeout: v(h.timeout) ?? 5, retries: v(h.retries) ?? 3, startPeriod: v(h.startPeriod) ?? 0 };
}

/** One field of the live revision that is not the stack's, both values as printed (redacted where named like a secret). */
export interface Difference {
  readonly field: string;
  readonly stack: string;
  readonly live: string;
}

export interface Comparison {
  readonly differences: readonly Difference[];
  /** Fields whose stack value is an expression known only at apply, not judged offline. */
  readonly notComparable: readonly string[];
}

const isAtApply = (v: StackValue | undefined): v is AtApply => typeof v === "object" && v !== null;
const isHost = (s: string) => /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(s);
/** ECS registers `1 vCPU` as 1024 units and `3 GB` as 3072 MiB. */
const units = (v: unknown) => {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(vcpu|gb)\s*$/i.exec(String(v));
  return m ? String(Number(m[1]) * 1024) : String(v);
};

/** Whether the live value is what the stack sets; `undefined` on both sides matches. */
function matches(stack: StackValue | undefined, live: unknown, normalize: (v: unknown) => string = String): boolean {
  if (stack === undefined) return live === undefined;
  if (live === undefined || live === null) return false;
  if (!isAtApply(stack)) return normalize(stack) === normalize(live);
  if (stack.hostWithoutPort) return typeof live === "string" && isHost(live);
  if (stack.queueName || stack.roleName) return false; // judged with its account (compareTaskDefinition)
  return true; // not comparable offline: present is all verify can tell
}

const expression = (e: string) => e.replace(/^\$\{([\s\S]*)\}$/, "$1");
function showStack(v: StackValue | undefined): string {
  if (v === undefined) return "(none)";
  if (!isAtApply(v)) return show(v);
  if (v.hostWithoutPort) return `a host name without a port (at apply: ${expression(v.atApply)})`;
  if (v.queueName) return `the URL of the queue ${v.queueName} (at apply: ${expression(v.atApply)})`;
  return `${expression(v.atApply)} (known only at apply)`;
}
const show = (v: unknown): string => (v === undefined || v === null ? "(none)" : redactShapes(JSON.stringify(v)));

/**
 * Every field of the live revision `live` that differs from the stack's `spec`; the container `worker`'s
 * secrets are the target's `secrets` (`{account}`: the account the revision is registered in). A queue's URL
 * is judged by its name, account (`account`, the caller's; unread, the revision's) and region (`region`, the stack's),
 * a role's ARN by its name and that account.
 */
export function compareTaskDefinition(
  spec: StackTaskDefinition,
  worker: { readonly name: string; readonly secrets: readonly { readonly name: string; readonly valueFrom: string }[] },
  live: TaskDefinition,
  account: string | undefined,
  region: string,
): Comparison {
  const differences: Difference[] = [];
  const notComparable: string[] = [];
  const revisionAccount = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:(\d{12}):/.exec(live.taskDefinitionArn ?? "")?.[1];
  // The account a queue or role of the stack's is in: the caller's; unread, the revision's; neither, not checked (a difference).
  const stackAccount = account ?? revisionAccount;
  const shownAccount = stackAccount ?? "<account not read>";
  // A queue's URL or a role's ARN: the stack's place, or a difference naming each part that differs.
  const place = (name: string, stack: AtApply, value: unknown, secretName?: string) => {
    const queue = stack.queueName !== undefined;
    const want = queue ? { region, account: stackAccount, name: stack.queueName ?? "" } : { account: stackAccount, path: stack.rolePath, name: stack.roleName ?? "" };
    const got = typeof value !== "string" ? undefined : queue ? parseQueueUrl(value) : parseRoleArn(value);
    const wrong = got ? placeDifferences(got, want) : value === undefined ? [] : [queue ? "not an SQS queue URL" : "not an IAM role ARN"];
    if (got && wrong.length === 0) return;
    const at = `(at apply: ${expression(stack.atApply)})`;
    differences.push({
      field: name,
      stack: queue ? `https://sqs.${region}.amazonaws.com/${shownAccount}/${want.name} ${at}` : `arn:aws:iam::${shownAccount}:role${stack.rolePath ?? "/<path known at apply>/"}${want.name} ${at}`,
      live: secretName !== undefined && redactsName(secretName) && value !== undefined ? REDACTED : `${show(value)}${wrong.length > 0 ? ` (${wrong.join("; ")})` : ""}`,
    });
  };
  const field = (name: string, stack: StackValue | undefined, value: unknown, o: { secretName?: string; normalize?: (v: unknown) => string } = {}) => {
    if (isAtApply(stack) && (stack.queueName !== undefined || stack.roleName !== undefined)) return place(name, stack, value, o.secretName);
    if (isAtApply(stack) && !stack.hostWithoutPort) notComparable.push(name);
    if (matches(stack, value, o.normalize)) return;
    // Named like a secret: the field is named, neither value printed.
    const redact = o.secretName !== undefined && redactsName(o.secretName);
    differences.push({ field: name, stack: redact && stack !== undefined ? REDACTED : showStack(stack), live: redact && value !== undefined ? REDACTED : show(value) });
  };
  const lists = (name: string, stack: readonly string[] | undefined, value: readonly string[] | undefined, sorted = false) => {
    const norm = (l: readonly string[] | undefined) => (l && l.length > 0 ? JSON.stringify(sorted ? [...l].sort() : l) : undefined);
    if (norm(stack) !== norm(value)) differences.push({ field: name, stack: show(stack?.length ? stack : undefined), live: show(value?.length ? value : undefined) });
  };

  if (spec.cpu !== undefined) field("cpu", spec.cpu, live.cpu, { normalize: units });
  if (spec.memory !== undefined) field("memory", spec.memory, live.memory, { normalize: units });
  if (spec.networkMode !== undefined) field("networkMode", spec.networkMode, live.networkMode);
  if (spec.requiresCompatibilities !== undefined) lists("requiresCompatibilities", spec.requiresCompatibilities, live.requiresCompatibilities, true);
  if (spec.runtimePlatform?.operatingSystemFamily !== undefined) field("runtimePlatform.operatingSystemFamily", spec.runtimePlatform.operatingSystemFamily, live.runtimePlatform?.operatingSystemFamily);
  if (spec.runtimePlatform?.cpuArchitecture !== undefined) field("runtimePlatform.cpuArchitecture", spec.runtimePlatform.cpuArchitecture, live.runtimePlatform?.cpuArchitecture);
  if (spec.ephemeralStorageGiB !== undefined) field("ephemeralStorage.sizeInGiB", spec.ephemeralStorageGiB, live.ephemeralStorage?.sizeInGiB);
  field("executionRoleArn", spec.executionRoleArn, live.executionRoleArn);
  field("taskRoleArn", spec.taskRoleArn, live.taskRoleArn);

  const liveContainers = live.containerDefinitions ?? [];
  lists("containers", spec.containers.map((c) => c.name), liveContainers.map((c) => c.name ?? "?"), true);
  const skipped = new Set(spec.notCompared);
  const registeredIn = revisionAccount ?? account;
  for (const c of spec.containers) {
    const l = liveContainers.find((x) => x.name === c.name);
    if (l) compareContainer(c, l, c.name === worker.name ? worker.secrets : [], registeredIn, { field, lists, differences, skipped });
  }
  return { differences, notComparable };
}

interface Compare {
  field(name: string, stack: StackValue | undefined, value: unknown, o?: { secretName?: string; normalize?: (v: unknown) => string }): void;
  lists(name: string, stack: readonly string[] | undefined, value: readonly string[] | undefined, sorted?: boolean): void;
  readonly differences: Difference[];
  /** The stack's notCompared. */
  readonly skipped: ReadonlySet<string>;
}

function compareContainer(c: StackContainer, l: ContainerDefinition, secrets: readonly { name: string; valueFrom: string }[], account: string | undefined, o: Compare): void {
  const { field, lists } = o;
  const at = (name: string) => `${c.name}.${name}`;
  field(at("essential"), c.essential, l.essential ?? true);
  if (c.cpu !== undefined) field(at("cpu"), c.cpu, l.cpu ?? 0);
  for (const k of ["memory", "memoryReservation", "stopTimeout", "workingDirectory", "user"] as const) field(at(k), c[k], l[k]);
  for (const k of ["command", "entryPoint"] as const) if (!o.skipped.has(at(k))) lists(at(k), c[k], l[k]);

  const liveEnv = new Map((l.environment ?? []).map((e) => [e.name ?? "", e.value]));
  for (const e of c.environment) field(at(`environment.${e.name}`), e.value, liveEnv.get(e.name), { secretName: e.name });
  for (const [name, value] of liveEnv) if (!c.environment.some((e) => e.name === name)) field(at(`environment.${name}`), undefined, value, { secretName: name });

  // A parameter's name, not its value: printed as the SSM parameters row prints it.
  const valueFrom = (s: string) => (account ? s.replace(/\{account\}/g, account) : s);
  const liveSecrets = new Map((l.secrets ?? []).map((s) => [s.name ?? "", s.valueFrom]));
  for (const s of secrets) {
    const want = valueFrom(s.valueFrom);
    const got = liveSecrets.get(s.name);
    const unknownAccount = want.includes("{account}") && got !== undefined && new RegExp(`^${want.split("{account}").map(escape).join("\\d{12}")}$`).test(got);
    if (!unknownAccount) field(at(`secrets.${s.name}`), want, got);
  }
  for (const [name, value] of liveSecrets) if (!secrets.some((s) => s.name === name)) field(at(`secrets.${name}`), undefined, value);

  const log = c.logConfiguration;
  field(at("logConfiguration.logDriver"), log?.logDriver, l.logConfiguration?.logDriver);
  const liveOptions = l.logConfiguration?.options ?? {};
  for (const k of new Set([...Object.keys(log?.options ?? {}), ...Object.keys(liveOptions)])) field(at(`logConfiguration.options.${k}`), log?.options[k], liveOptions[k]);

  const ports = (list: readonly { containerPort?: unknown; hostPort?: unknown; protocol?: string }[]) =>
    list.map((p) => `${p.containerPort}:${p.hostPort}/${p.protocol ?? "tcp"}`);
  if (c.portMappings.some((p) => isAtApply(p.containerPort) || isAtApply(p.hostPort))) field(at("portMappings"), { atApply: JSON.stringify(c.portMappings) }, l.portMappings);
  else lists(at("portMappings"), ports(c.portMappings), ports(l.portMappings ?? []), true);

  const h = c.healthCheck;
  const lh = l.healthCheck;
  if (!h || !lh) {
    if (h || lh) o.differences.push({ field: at("healthCheck"), stack: show(h), live: show(lh) });
  } else {
    if (h.command) lists(at("healthCheck.command"), h.command, lh.command);
    field(at("healthCheck.interval"), h.interval, lh.interval ?? 30);
    field(at("healthCheck.timeout"), h.timeout, lh.timeout ?? 5);
    field(at("healthCheck.retries"), h.retries, lh.retries ?? 3);
    field(at("healthCheck.startPeriod"), h.startPeriod, lh.startPeriod ?? 0);
  }
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** What a passing row names as compared: `cpu 512, memory 3072, awsvpc, FARGATE, execution and task roles; ml-worker: 38 environment variables, ...`. */
export function comparedFields(spec: StackTaskDefinition, worker: { readonly name: string; readonly secrets: readonly unknown[] }): string {
  const literal = (v: StackValue | undefined) => (v === undefined || isAtApply(v) ? undefined : String(v));
  const roles = [spec.executionRoleArn !== undefined ? "execution" : "", spec.taskRoleArn !== undefined ? "task" : ""].filter(Boolean);
  const task = [
    spec.cpu !== undefined ? `cpu ${literal(spec.cpu) ?? "(at apply)"}` : "",
    spec.memory !== undefined ? `memory ${literal(spec.memory) ?? "(at apply)"}` : "",
    literal(spec.networkMode) ?? "",
    spec.requiresCompatibilities?.join("+") ?? "",
    spec.runtimePlatform ? `runtime platform ${[literal(spec.runtimePlatform.operatingSystemFamily), literal(spec.runtimePlatform.cpuArchitecture)].filter(Boolean).join("/")}` : "",
    spec.ephemeralStorageGiB !== undefined ? `ephemeral storage ${literal(spec.ephemeralStorageGiB) ?? "(at apply)"} GiB` : "",
    roles.length > 0 ? `${roles.join(" and ")} role${roles.length > 1 ? "s" : ""}` : "no roles",
  ].filter(Boolean);
  const containers = spec.containers.map((c) => {
    const parts = [
      c.command ? "command" : "",
      c.entryPoint ? "entry point" : "",
      `${c.environment.length} environment variables`,
      c.name === worker.name ? `${worker.secrets.length} secrets` : "",
      c.logConfiguration ? `log driver ${literal(c.logConfiguration.logDriver) ?? "(at apply)"}` : "",
      c.portMappings.length > 0 ? `${c.portMappings.length} port mapping(s)` : "",
      c.healthCheck ? "health check" : "",
    ].filter(Boolean);
    return `${c.name}: ${parts.join(", ")}`;
  });
  return `${task.join(", ")}; ${containers.join("; ")}`;
}

/**
 * The task definition row's verdict on the live revision. A difference does not settle: the revision read is
 * the PRIMARY deployment's, where a rollout in progress ends; one rolling toward the stack's revision has none.
 */
export function taskDefinitionVerdict(t: VerifyTarget, live: TaskDefinition, account: string | undefined): { pass: boolean; seen: string; todo: string } {
  const spec = t.taskDefinition.definition;
  const worker = { name: t.taskDefinition.container, secrets: t.secrets };
  const { differences, notComparable } = compareTaskDefinition(spec, worker, live, account, t.region);
  const arn = live.taskDefinitionArn ?? "?";
  const label = arn.slice(arn.lastIndexOf("/") + 1);
  if (differences.length === 0) {
    const unjudged = [
      ...(notComparable.length > 0 ? [`not comparable offline: ${notComparable.join(", ")} (known only at apply)`] : []),
      ...(spec.notCompared.length > 0 ? [`not compared: ${spec.notCompared.join(", ")}`] : []),
    ];
    return { pass: true, seen: [`${label} as the stack defines it: ${comparedFields(spec, worker)}`, ...unjudged].join("; "), todo: "" };
  }
  const registered = live.registeredAt ? ` (registered ${iso(live.registeredAt)}${live.registeredBy ? ` by ${live.registeredBy}` : ""})` : "";
  return {
    pass: false,
    seen: `${label}${registered} differs from the stack's in ${differences.length} field(s): ${differences.map((d) => `${d.field}: the stack's ${d.stack}, live ${d.live}`).join("; ")}`,
    todo: "the service runs a revision the stack does not define (registered or changed outside it): deploy the stack (npm run deploy); to keep a change, make it in the stack's sources first",
  };
}
