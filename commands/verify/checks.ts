// verify's checks: their names and order (CHECKS), the requests each reads (REQUESTS), and what
// is read from AWS for them (gather). The verdict of each row is ./verify-verdicts.ts (judge).
import type { MetricAlarm } from "@aws-sdk/client-cloudwatch";
import type { DescribeImagesResponse } from "@aws-sdk/client-ecr";
import type { Deployment, Failure, Service, Task, TaskDefinition } from "@aws-sdk/client-ecs";
import type { Instance } from "@aws-sdk/client-ec2";
import type { HostedZone, ResourceRecordSet } from "@aws-sdk/client-route-53";
import type { ParameterMetadata } from "@aws-sdk/client-ssm";
import { CallError, Calls, Got, LogEvents, Missing, Operation } from "./aws";
import { VerifyTarget } from "./target";

/** How far back "recently" reaches for the log group, and what --logs reads. */
export const LOG_WINDOW_MINUTES = 60;
/** How far past this machine's clock an event may be stamped (clocks drift) before the log events check says so. */
export const LOG_CLOCK_SKEW_MS = 5 * 60_000;

/** The checks, in the order of the report. */
export const CHECKS = [
  "ECS cluster",
  "ECS service",
  "ECS tasks",
  "ECS deployment",
  "ECS stopped tasks",
  "task definition",
  "image path",
  "image in ECR",
  "worker DB host",
  "SSM DB host",
  "SSM parameters",
  "SQS queue",
  "SQS DLQ",
  "SQS redrive",
  "SQS DLQ empty",
  "CloudWatch alarms",
  "log group",
  "log events",
  "API host",
  "DNS records",
] as const;
export type CheckName = (typeof CHECKS)[number];

export interface Row {
  readonly check: CheckName;
  readonly pass: boolean;
  /** What was seen. */
  readonly seen: string;
  /** What to do; empty on a pass. */
  readonly todo: string;
  /** Whether waiting can change a failure (a deployment in progress can; a wrong image path cannot). */
  readonly settles: boolean;
  /** The requests this row's facts came from. */
  readonly requests: readonly Operation[];
}

/** What was read, for the JSON report and the verdicts. */
export interface Facts {
  identity?: { account: string; arn: string };
  cluster?: Got<{ status?: string; arn?: string } | undefined>;
  service?: Got<Service | undefined>;
  primary?: Deployment;
  taskDefinition?: Got<TaskDefinition>;
  runningTasks?: Got<Task[]>;
  stoppedTasks?: Got<Task[]>;
  /** More running tasks than ListTasks' pages verify reads: the rest were not read. */
  runningTruncated?: boolean;
  /** More stopped tasks than ListTasks' pages verify reads: the rest were not judged. */
  stoppedTruncated?: boolean;
  /** Listed tasks DescribeTasks did not describe: its `failures` (reason MISSING, ...), or absent from its answer. */
  undescribedTasks?: UndescribedTask[];
  image?: Got<DescribeImagesResponse | Missing>;
  dbHost?: Got<{ value?: string; type?: string; version?: number; lastModified?: Date } | Missing>;
  parameters?: Got<{ names: string[]; found: ParameterMetadata[]; foreign: string[] }>;
  queue?: Got<QueueFacts | Missing>;
  deadLetterQueue?: Got<QueueFacts | Missing>;
  oldestDeadLetter?: Got<{ ageSeconds: number; at: Date } | undefined>;
  /** The stack's alarms on the worker's queues, as CloudWatch has them (those it does not have are left out). */
  alarms?: Got<MetricAlarm[]>;
  logGroup?: Got<{ name: string; retentionInDays?: number; storedBytes?: number } | undefined>;
  logEvents?: Got<LogEvents>;
  instances?: Got<Instance[]>;
  zones?: Got<HostedZone[]>;
  records?: Got<Record<string, { zone: string; set?: ResourceRecordSet }[]>>;
}

/** The reason of a listed task DescribeTasks answered with neither the task nor a failure. */
export const NOT_IN_ANSWER = "not in the answer";

export interface UndescribedTask {
  readonly arn: string;
  /** The list it came from (ListTasks' desiredStatus). */
  readonly status: "RUNNING" | "STOPPED";
  /** DescribeTasks' failure reason (MISSING, ...); NOT_IN_ANSWER when it returned neither the task nor a failure. */
  readonly reason: string;
  readonly detail?: string;
}

export interface QueueFacts {
  url: string;
  arn?: string;
  visible: number;
  inFlight: number;
  delayed: number;
  redrive?: { deadLetterTargetArn?: string; maxReceiveCount?: number };
}

export interface GatherOptions {
  readonly now: Date;
  /** Log lines to keep (`--logs`). */
  readonly logLines: number;
}

/** Reads everything the checks judge; independent reads run side by side. */
export async function gather(t: VerifyTarget, calls: Calls, account: string | undefined, o: GatherOptions): Promise<Facts> {
  const f: Facts = {};
  const ecs = async () => {
    const [cluster, service] = await Promise.all([calls.clusters(t.cluster.name), calls.services(t.cluster.name, t.service.name)]);
    f.cluster = map(cluster, (r) => {
      const c = r.clusters?.find((x) => x.clusterName === t.cluster.name);
      return c ? { status: c.status, arn: c.clusterArn } : undefined;
    });
    f.service = map(service, (r) => (r instanceof Missing ? undefined : r.services?.find((s) => s.serviceName === t.service.name)));
    const svc = f.service.ok ? f.service.value : undefined;
    if (!svc) return;
    f.primary = svc.deployments?.find((d) => d.status === "PRIMARY");
    const taskDefinitionArn = f.primary?.taskDefinition ?? svc.taskDefinition;
    const [taskDefinition, running, stopped] = await Promise.all([
      taskDefinitionArn ? calls.taskDefinition(taskDefinitionArn).then((g) => map(g, (r) => r.taskDefinition ?? {})) : undefined,
      calls.listTasks(t.cluster.name, t.service.name, "RUNNING"),
      calls.listTasks(t.cluster.name, t.service.name, "STOPPED"),
    ]);
    f.taskDefinition = taskDefinition;
    // Every listed task is described (100 a request): a task not read cannot be judged.
    const arns = [...(running.ok ? running.value.taskArns : []), ...(stopped.ok ? stopped.value.taskArns : [])];
    const described: Got<{ tasks: Task[]; failures: Failure[] }> = arns.length > 0 ? await calls.tasks(t.cluster.name, arns) : { ok: true, value: { tasks: [], failures: [] } };
    const pick = (list: typeof running) =>
      !list.ok ? list : !described.ok ? described : { ok: true as const, value: described.value.tasks.filter((x) => list.value.taskArns.includes(x.taskArn ?? "")) };
    f.runningTasks = pick(running);
    f.stoppedTasks = pick(stopped);
    f.runningTruncated = running.ok && running.value.truncated;
    f.stoppedTruncated = stopped.ok && stopped.value.truncated;
    if (described.ok) {
      const got = new Set(described.value.tasks.map((x) => x.taskArn));
      const failures = described.value.failures;
      const undescribed = (list: typeof running, status: UndescribedTask["status"]): UndescribedTask[] =>
        !list.ok
          ? []
          : list.value.taskArns
              .filter((arn) => !got.has(arn))
              .map((arn) => {
                const failure = failures.find((x) => x.arn === arn);
                return { arn, status, reason: failure?.reason ?? NOT_IN_ANSWER, ...(failure?.detail ? { detail: failure.detail } : {}) };
              });
      f.undescribedTasks = [...undescribed(running, "RUNNING"), ...undescribed(stopped, "STOPPED")];
    }
  };
  const ecsThenImage = async () => {
    await ecs();
    const image = liveContainer(f, t)?.image;
    const parsed = image ? parseEcrImage(image) : undefined;
    if (parsed?.tag) f.image = await calls.images(parsed.account, parsed.repository, parsed.tag);
  };
  const parameters = async (ecsDone: Promise<void>) => {
    await ecsDone;
    const names = parameterNames(t, f, account);
    const local = names.map((n) => ssmName(n, t.region, account ?? ""));
    const foreign = names.filter((_n, i) => local[i] === undefined);
    const wanted = local.filter((n): n is string => n !== undefined);
    const got: Got<ParameterMetadata[]> = wanted.length > 0 ? await calls.describeParameters(wanted) : { ok: true, value: [] };
    f.parameters = map(got, (found) => ({ names: wanted, found, foreign }));
  };
  const queue = async (name: string): Promise<Got<QueueFacts | Missing>> => {
    const url = await calls.queueUrl(name);
    if (!url.ok || url.value instanceof Missing) return url as Got<Missing>;
    const queueUrl = url.value.QueueUrl ?? "";
    const attrs = await calls.queueAttributes(queueUrl);
    return map(attrs, (r) => {
      const a = r.Attributes ?? {};
      let redrive: QueueFacts["redrive"];
      try {
        redrive = a.RedrivePolicy ? JSON.parse(a.RedrivePolicy) : undefined;
      } catch {
        redrive = {};
      }
      return {
        url: queueUrl,
        arn: a.QueueArn,
        visible: Number(a.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
        delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
        redrive,
      };
    });
  };
  const queues = async () => {
    [f.queue, f.deadLetterQueue] = await Promise.all([queue(t.queue.name), queue(t.deadLetterQueue.name)]);
    const dlq = f.deadLetterQueue.ok && !(f.deadLetterQueue.value instanceof Missing) ? f.deadLetterQueue.value : undefined;
    if (dlq && dlq.visible + dlq.inFlight + dlq.delayed > 0) {
      f.oldestDeadLetter = map(await calls.oldestMessageAge(t.deadLetterQueue.name, o.now), (r) => {
        const latest = [...(r.Datapoints ?? [])].sort((a, b) => (b.Timestamp?.getTime() ?? 0) - (a.Timestamp?.getTime() ?? 0))[0];
        return latest?.Maximum !== undefined && latest.Timestamp ? { ageSeconds: latest.Maximum, at: latest.Timestamp } : undefined;
      });
    }
  };
  const alarms = async () => {
    if (t.alarms.length > 0) f.alarms = map(await calls.alarms(t.alarms.map((a) => a.name)), (r) => r.MetricAlarms ?? []);
  };
  const logs = async () => {
    f.logGroup = map(await calls.logGroups(t.logGroup.name), (r) => {
      const g = r.logGroups?.find((x) => x.logGroupName === t.logGroup.name);
      return g ? { name: t.logGroup.name, retentionInDays: g.retentionInDays, storedBytes: g.storedBytes } : undefined;
    });
    if (f.logGroup.ok && f.logGroup.value) {
      f.logEvents = await calls.logEvents(t.logGroup.name, o.now.getTime() - LOG_WINDOW_MINUTES * 60_000, o.logLines);
    }
  };
  const host = async () => {
    f.instances = map(await calls.instances(t.apiHost.name), (r) => (r.Reservations ?? []).flatMap((x) => x.Instances ?? []));
  };
  // Route 53 writes names lower-case, with a final dot.
  const fqdn = (name: string) => `${name.toLowerCase().replace(/\.$/, "")}.`;
  const dns = async () => {
    const zones = await calls.hostedZones(t.dns.zone);
    f.zones = map(zones, (r) => (r.HostedZones ?? []).filter((z) => z.Name === fqdn(t.dns.zone) && !z.Config?.PrivateZone));
    if (!f.zones.ok) return;
    const records: Record<string, { zone: string; set?: ResourceRecordSet }[]> = {};
    for (const name of t.dns.records) {
      records[name] = [];
      for (const zone of f.zones.value) {
        const got = await calls.recordSet(zone.Id ?? "", name);
        if (!got.ok) {
          f.records = got;
          return;
        }
        const set = got.value.ResourceRecordSets?.find((s) => s.Name === fqdn(name) && s.Type === "A");
        records[name].push({ zone: zone.Id ?? "", set });
      }
    }
    f.records = { ok: true, value: records };
  };
  const ecsDone = ecsThenImage();
  await Promise.all([ecsDone, parameters(ecsDone), calls.parameter(t.dbHostParameter.name).then((g) => (f.dbHost = map(g, dbHostFacts))), queues(), alarms(), logs(), host(), dns()]);
  return f;
}

const map = <T, U>(got: Got<T>, f: (v: T) => U): Got<U> => (got.ok ? { ok: true, value: f(got.value) } : got);

function dbHostFacts(r: Awaited<ReturnType<Calls["parameter"]>> extends Got<infer T> ? T : never) {
  if (r instanceof Missing) return r;
  const p = r.Parameter;
  return { value: p?.Type === "SecureString" ? undefined : p?.Value, type: p?.Type, version: p?.Version, lastModified: p?.LastModifiedDate };
}

/** The worker container of the task definition the service runs. */
export function liveContainer(f: Facts, t: VerifyTarget) {
  if (!f.taskDefinition?.ok) return undefined;
  const containers = f.taskDefinition.value.containerDefinitions ?? [];
  return containers.find((c) => c.name === t.taskDefinition.container) ?? (containers.length === 1 ? containers[0] : undefined);
}

/** What the container's secrets read: the stack's list and the live task definition's, together. */
function parameterNames(t: VerifyTarget, f: Facts, account: string | undefined): string[] {
  const names = t.secrets.map((s) => (account ? s.valueFrom.replace(/\{account\}/g, account) : s.valueFrom));
  for (const s of liveContainer(f, t)?.secrets ?? []) if (s.valueFrom && !names.includes(s.valueFrom)) names.push(s.valueFrom);
  return names;
}

/** An SSM parameter name from a `valueFrom` (a name, or an ARN of this account and region); undefined otherwise. */
export function ssmName(valueFrom: string, region: string, account: string): string | undefined {
  const arn = /^arn:aws[a-z-]*:ssm:([a-z0-9-]+):(\d{12}):parameter(\/.*)$/.exec(valueFrom);
  if (arn) return arn[1] === region && arn[2] === account ? arn[3] : undefined;
  if (valueFrom.startsWith("arn:")) return undefined; // Secrets Manager or another service
  return valueFrom.startsWith("/") ? valueFrom : `/${valueFrom}`;
}

/** Where a queue lives, read from its URL or ARN. */
export interface QueuePlace {
  readonly region: string;
  readonly account: string;
  readonly name: string;
}

/**
 * `https://sqs.<region>.amazonaws.com/<account>/<name>` (`.amazonaws.com.cn`, `.api.aws`), and the legacy
 * `https://<region>.queue.amazonaws.com/...` and `https://queue.amazonaws.com/...` (us-east-1); undefined for anything else.
 */
export function parseQueueUrl(url: string): QueuePlace | undefined {
  const m = /^https:\/\/(?:sqs\.([a-z0-9-]+)\.(?:amazonaws\.com(?:\.cn)?|api\.aws)|([a-z0-9-]+)\.queue\.amazonaws\.com|queue\.amazonaws\.com)\/(\d{12})\/([A-Za-z0-9_-]{1,80}(?:\.fifo)?)$/.exec(url);
  return m ? { region: m[1] ?? m[2] ?? "us-east-1", account: m[3], name: m[4] } : undefined;
}

/** `arn:aws:sqs:<region>:<account>:<name>`. */
export function parseQueueArn(arn: string): QueuePlace | undefined {
  const m = /^arn:aws[a-z-]*:sqs:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_-]{1,80}(?:\.fifo)?)$/.exec(arn);
  return m ? { region: m[1], account: m[2], name: m[3] } : undefined;
}

/** `arn:aws:iam::<account>:role<path><name>`: the account, the path (`/`, or `/service-role/`: it begins and ends with `/`) and the name. */
export function parseRoleArn(arn: string): { account: string; path: string; name: string } | undefined {
  const m = /^arn:aws[a-z-]*:iam::(\d{12}):role(\/(?:[\x21-\x7e]*\/)?)([\w+=,.@-]{1,64})$/.exec(arn);
  return m ? { account: m[1], path: m[2], name: m[3] } : undefined;
}

/**
 * How `place` (a queue, or a role: no region, a path) differs from the stack's: `account 111122223333, not 474221740916`, ...;
 * empty when it is the stack's. `want.account` undefined: the account was not read, and the place cannot be the stack's;
 * `want.path` undefined: the path is not judged (a queue has none; a role's known only at apply).
 */
export function placeDifferences(
  place: { readonly region?: string; readonly account: string; readonly path?: string; readonly name: string },
  want: { readonly region?: string; readonly account: string | undefined; readonly path?: string; readonly name: string },
): string[] {
  return [
    ...(want.account === undefined ? [`account ${place.account} not checked: the account was not read (sts:GetCallerIdentity)`] : []),
    ...(want.account !== undefined && place.account !== want.account ? [`account ${place.account}, not ${want.account}`] : []),
    ...(place.region !== want.region ? [`region ${place.region}, not ${want.region}`] : []),
    ...(want.path !== undefined && place.path !== want.path ? [`path ${place.path}, not ${want.path}`] : []),
    ...(place.name !== want.name ? [`name ${place.name}, not ${want.name}`] : []),
  ];
}

/** `<account>.dkr.ecr.<region>.amazonaws.com/<repository>[:<tag>][@<digest>]`. */
export function parseEcrImage(image: string): { account: string; region: string; repository: string; tag?: string; digest?: string } | undefined {
  const m = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([a-z0-9][a-z0-9._\/-]*?)(?::([\w][\w.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$/.exec(image);
  return m ? { account: m[1], region: m[2], repository: m[3], tag: m[4], digest: m[5] } : undefined;
}


/** The operations each check's facts may come from; a row lists those this verification made. */
export const REQUESTS: Readonly<Record<CheckName, readonly Operation[]>> = {
  "ECS cluster": ["ecs:DescribeClusters"],
  "ECS service": ["ecs:DescribeServices"],
  "ECS tasks": ["ecs:DescribeServices", "ecs:ListTasks", "ecs:DescribeTasks", "sqs:GetQueueUrl", "sqs:GetQueueAttributes"],
  "ECS deployment": ["ecs:DescribeServices", "ecs:DescribeTaskDefinition"],
  "ECS stopped tasks": ["ecs:ListTasks", "ecs:DescribeTasks"],
  "task definition": ["ecs:DescribeServices", "ecs:DescribeTaskDefinition"],
  "image path": ["sts:GetCallerIdentity", "ecs:DescribeServices", "ecs:DescribeTaskDefinition"],
  "image in ECR": ["ecs:DescribeTaskDefinition", "ecs:ListTasks", "ecs:DescribeTasks", "ecr:DescribeImages"],
  "worker DB host": ["ecs:DescribeTaskDefinition"],
  "SSM DB host": ["ssm:GetParameter"],
  "SSM parameters": ["ecs:DescribeTaskDefinition", "ssm:DescribeParameters"],
  "SQS queue": ["sts:GetCallerIdentity", "sqs:GetQueueUrl", "sqs:GetQueueAttributes"],
  "SQS DLQ": ["sts:GetCallerIdentity", "sqs:GetQueueUrl", "sqs:GetQueueAttributes"],
  "SQS redrive": ["sqs:GetQueueAttributes"],
  "SQS DLQ empty": ["sqs:GetQueueAttributes", "cloudwatch:GetMetricStatistics"],
  "CloudWatch alarms": ["cloudwatch:DescribeAlarms"],
  "log group": ["logs:DescribeLogGroups"],
  "log events": ["logs:FilterLogEvents", "ecs:DescribeServices"],
  "API host": ["ec2:DescribeInstances"],
  "DNS records": ["ec2:DescribeInstances", "route53:ListHostedZonesByName", "route53:ListResourceRecordSets"],
};

const attempts = (n: number) => `${n} attempt${n === 1 ? "" : "s"}`;
export const describeError = (e: CallError) => `${e.operation} failed: ${e.code}: ${e.message} (${attempts(e.attempts)})`;

export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ""}`;
  const m = Math.floor(s / 60);
  if (m < 48 * 60) return `${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ""}`;
  return `${Math.floor(m / 1440)} d ${Math.floor((m % 1440) / 60)} h`;
}
export const iso = (d: Date | number) => new Date(d).toISOString().replace(/\.\d{3}Z$/, "Z");

/** Why a task stopped, in words; `failure` when it is not the scheduler's or the user's doing. */
export function stopCause(task: Task): { failure: boolean; cause: string; detail: string } {
  const containers = task.containers ?? [];
  const texts = [task.stoppedReason ?? "", ...containers.map((c) => c.reason ?? "")].filter(Boolean);
  const all = texts.join(" | ");
  const detail = all || task.stopCode || "no reason given";
  const exit = containers.find((c) => c.exitCode !== undefined && c.exitCode !== null && c.exitCode !== 0)?.exitCode;
  if (/CannotPullContainerError/i.test(all)) return { failure: true, cause: "the image cannot be pulled", detail };
  // "unable to pull secrets or registry auth: ..." prefixes both; what follows tells which.
  if (/retrieve secrets? from|secrets? from (ssm|asm)|ssm parameters?|ParameterNotFound|secretsmanager/i.test(all)) return { failure: true, cause: "a secret cannot be read", detail };
  if (/ResourceInitializationError/i.test(all) && /registry auth (from|:)|ecr registry auth|from ECR/i.test(all)) return { failure: true, cause: "the image cannot be pulled", detail };
  if (/ResourceInitializationError/i.test(all)) return { failure: true, cause: "the task's resources could not be set up (secrets, registry auth or log group)", detail };
  if (/OutOfMemory/i.test(all) || (exit === 137 && task.stopCode === "EssentialContainerExited")) {
    return { failure: true, cause: "out of memory", detail: exit !== undefined ? `${detail} (exit ${exit})` : detail };
  }
  if (/health ?check/i.test(all)) return { failure: true, cause: "the container failed its health check", detail };
  if (task.stopCode === "EssentialContainerExited") {
    const code = containers.find((c) => c.exitCode !== undefined && c.exitCode !== null)?.exitCode;
    return { failure: true, cause: code !== undefined ? `the container exited with code ${code}` : "the container exited", detail };
  }
  if (task.stopCode === "TaskFailedToStart") return { failure: true, cause: "the task failed to start", detail };
  if (task.stopCode === "SpotInterruption" || task.stopCode === "TerminationNotice") return { failure: false, cause: "Fargate Spot took the capacity back", detail };
  if (task.stopCode === "UserInitiated") return { failure: false, cause: "stopped by a user or an API call", detail };
  if (task.stopCode === "ServiceSchedulerInitiated") return { failure: false, cause: "stopped by the scheduler (scale-in or deployment)", detail };
  return { failure: true, cause: "stopped for an unrecognized reason", detail };
}
