// Long: every read verify makes, one method each, beside the one send() that records them all and turns errors into facts.
// verify's AWS side: the SDK clients and the read calls, each recorded with
// its attempts. Every command here is a read (Describe*, List*, Get*,
// FilterLogEvents); nothing is ever written.
import { NODE_USE_DUALSTACK_ENDPOINT_CONFIG_OPTIONS, NODE_USE_FIPS_ENDPOINT_CONFIG_OPTIONS, loadConfig } from "@smithy/core/config";
import { NODE_MAX_ATTEMPT_CONFIG_OPTIONS } from "@smithy/core/retry";
import type { ParameterMetadata } from "@aws-sdk/client-ssm";
import type { Failure, Task } from "@aws-sdk/client-ecs";
import type { HttpHandler } from "@smithy/core/protocols";
import type { AwsCredentialIdentityProvider, RetryStrategyV2 } from "@smithy/types";

/** Every operation verify may call: reads only (a test holds the server to it). */
export const READ_OPERATIONS = [
  "sts:GetCallerIdentity",
  "ecs:DescribeClusters",
  "ecs:DescribeServices",
  "ecs:DescribeTaskDefinition",
  "ecs:ListTasks",
  "ecs:DescribeTasks",
  "ecr:DescribeImages",
  "ssm:GetParameter",
  "ssm:DescribeParameters",
  "sqs:GetQueueUrl",
  "sqs:GetQueueAttributes",
  "cloudwatch:GetMetricStatistics",
  "cloudwatch:DescribeAlarms",
  "logs:DescribeLogGroups",
  "logs:FilterLogEvents",
  "ec2:DescribeInstances",
  "route53:ListHostedZonesByName",
  "route53:ListResourceRecordSets",
] as const;
export type Operation = (typeof READ_OPERATIONS)[number];

/** ListTasks pages verify reads per status (100 tasks a page). */
export const TASK_PAGES = 20;

/** Appended to the SDK's user agent. */
export const USER_AGENT = "zivohealth-infra-verify";

/** The SDK's client packages, loaded with the first clients: a run that stops before (no credentials, --help, bad input) never loads them (0.18 s of CPU). */
const load = () => ({
  sts: require("@aws-sdk/client-sts") as typeof import("@aws-sdk/client-sts"),
  ecs: require("@aws-sdk/client-ecs") as typeof import("@aws-sdk/client-ecs"),
  ecr: require("@aws-sdk/client-ecr") as typeof import("@aws-sdk/client-ecr"),
  ssm: require("@aws-sdk/client-ssm") as typeof import("@aws-sdk/client-ssm"),
  sqs: require("@aws-sdk/client-sqs") as typeof import("@aws-sdk/client-sqs"),
  cloudwatch: require("@aws-sdk/client-cloudwatch") as typeof import("@aws-sdk/client-cloudwatch"),
  logs: require("@aws-sdk/client-cloudwatch-logs") as typeof import("@aws-sdk/client-cloudwatch-logs"),
  ec2: require("@aws-sdk/client-ec2") as typeof import("@aws-sdk/client-ec2"),
  route53: require("@aws-sdk/client-route-53") as typeof import("@aws-sdk/client-route-53"),
});
type Sdk = ReturnType<typeof load>;
let loaded: Sdk | undefined;
const sdk = (): Sdk => (loaded ??= load());

export interface ClientOptions {
  readonly region: string;
  readonly credentials: AwsCredentialIdentityProvider;
  /** Every client's endpoint (tests: the recorded-response server). */
  readonly endpoint?: string;
  /** The SDK's retry strategy; default: the SDK's standard mode, 3 attempts. */
  readonly retryStrategy?: RetryStrategyV2;
  /** What carries every client's requests; default: the SDK's NodeHttpHandler (5 s to connect, 30 s a request). */
  readonly requestHandler?: HttpHandler;
}

export interface Clients {
  readonly sts: InstanceType<Sdk["sts"]["STSClient"]>;
  readonly ecs: InstanceType<Sdk["ecs"]["ECSClient"]>;
  readonly ecr: InstanceType<Sdk["ecr"]["ECRClient"]>;
  readonly ssm: InstanceType<Sdk["ssm"]["SSMClient"]>;
  readonly sqs: InstanceType<Sdk["sqs"]["SQSClient"]>;
  readonly cloudwatch: InstanceType<Sdk["cloudwatch"]["CloudWatchClient"]>;
  readonly logs: InstanceType<Sdk["logs"]["CloudWatchLogsClient"]>;
  readonly ec2: InstanceType<Sdk["ec2"]["EC2Client"]>;
  readonly route53: InstanceType<Sdk["route53"]["Route53Client"]>;
}

export function makeClients(o: ClientOptions): Clients {
  const config = {
    region: o.region,
    credentials: o.credentials,
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
    ...(o.retryStrategy ? { retryStrategy: o.retryStrategy } : {}),
    // A stalled connection must not hang a deploy's verification.
    requestHandler: o.requestHandler ?? { connectionTimeout: 5_000, requestTimeout: 30_000 },
    // Marks verify's calls in CloudTrail and in the tests' server.
    customUserAgent: USER_AGENT,
    // Read once for the nine clients (environment, ~/.aws/config, default), not by each: ~8% of a run's CPU.
    useFipsEndpoint: loadConfig(NODE_USE_FIPS_ENDPOINT_CONFIG_OPTIONS, {}),
    useDualstackEndpoint: loadConfig(NODE_USE_DUALSTACK_ENDPOINT_CONFIG_OPTIONS, {}),
    maxAttempts: loadConfig(NODE_MAX_ATTEMPT_CONFIG_OPTIONS, {}),
  };
  const { sts, ecs, ecr, ssm, sqs, cloudwatch, logs, ec2, route53 } = sdk();
  return {
    sts: new sts.STSClient(config),
    ecs: new ecs.ECSClient(config),
    ecr: new ecr.ECRClient(config),
    ssm: new ssm.SSMClient(config),
    sqs: new sqs.SQSClient(config),
    cloudwatch: new cloudwatch.CloudWatchClient(config),
    logs: new logs.CloudWatchLogsClient(config),
    ec2: new ec2.EC2Client(config),
    // Route 53 is global: its API is signed for us-east-1.
    route53: new route53.Route53Client({ ...config, region: "us-east-1" }),
  };
}

export function destroyClients(c: Clients): void {
  for (const client of Object.values(c)) client.destroy();
}

/** A call that failed after the SDK's own retries. */
export interface CallError {
  readonly operation: Operation;
  /** The service's error code (ThrottlingException, AccessDeniedException, ...). */
  readonly code: string;
  readonly message: string;
  readonly attempts: number;
  readonly throttled: boolean;
  readonly denied: boolean;
  /** AWS was not reached (connection refused, DNS, timeout). */
  readonly unreachable: boolean;
}

export type Got<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: CallError };

/** An answer that says the thing is not there (QueueDoesNotExist, ParameterNotFound, ...): its code. */
export class Missing {
  constructor(readonly code: string) {}
}

/** One request as verify made it. */
export interface RequestRecord {
  readonly operation: Operation;
  /** What the request was about (a name, a status), for the report. */
  readonly about: string;
  readonly attempts: number;
  readonly error?: string;
}

const THROTTLING = /Throttl|RequestLimitExceeded|TooManyRequests|RequestThrottled|SlowDown|PriorRequestNotComplete|Rate exceeded/i;
const DENIED = /AccessDenied|UnauthorizedOperation|AuthorizationError|NotAuthorized/i;
const UNREACHABLE = /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|ENETUNREACH|TimeoutError|RequestTimeout)$/;

/** The calls of one verification, each recorded. */
export class Calls {
  readonly records: RequestRecord[] = [];

  constructor(readonly clients: Clients) {}

  /**
   * Sends a read; a service error becomes a CallError (the SDK has retried
   * what it retries), or Missing when its code is one of `missing`.
   */
  async send<T>(operation: Operation, about: string, run: () => Promise<T>): Promise<Got<T>>;
  async send<T>(operation: Operation, about: string, run: () => Promise<T>, missing: readonly string[]): Promise<Got<T | Missing>>;
  async send<T>(operation: Operation, about: string, run: () => Promise<T>, missing: readonly string[] = []): Promise<Got<T | Missing>> {
    try {
      const value = await run();
      this.records.push({ operation, about, attempts: attemptsOf(value) });
      return { ok: true, value };
    } catch (e) {
      const err = e as Error & { $metadata?: { attempts?: number }; $retryable?: { throttling?: boolean }; code?: string; Code?: string };
      // The SDK marks what it sent and got back (service and network errors alike); anything else is a bug here.
      if (!err || typeof err !== "object" || !("$metadata" in err)) throw e;
      // A socket error from another realm (a test VM) reaches here as "AWS SDK error wrapper for Error: connect ECONNREFUSED ..."
      // or "... for TimeoutError: socket hang up": the name it had, then its message.
      const wrapped = /^AWS SDK error wrapper for (?:([A-Za-z]+): )?([\s\S]*)$/.exec(err.message || "");
      const message = wrapped ? wrapped[2] : err.message || "";
      const name = wrapped?.[1] && wrapped[1] !== "Error" ? wrapped[1] : err.name;
      const code = name !== "Error" ? name : (err.Code ?? err.code ?? /\b(E[A-Z]{4,})\b/.exec(message)?.[1] ?? name);
      const attempts = err.$metadata?.attempts ?? 1;
      this.records.push({ operation, about, attempts, error: code });
      if (missing.includes(code)) return { ok: true, value: new Missing(code) };
      return {
        ok: false,
        error: {
          operation,
          code,
          message: (message || code).replace(/\s+/g, " ").trim(),
          attempts,
          throttled: err.$retryable?.throttling === true || THROTTLING.test(code),
          denied: DENIED.test(code),
          unreachable: UNREACHABLE.test(code),
        },
      };
    }
  }

  // ---- the reads, one method per operation ----
  callerIdentity = () => this.send("sts:GetCallerIdentity", "caller", () => this.clients.sts.send(new (sdk().sts.GetCallerIdentityCommand)({})));

  clusters = (cluster: string) =>
    this.send("ecs:DescribeClusters", cluster, () => this.clients.ecs.send(new (sdk().ecs.DescribeClustersCommand)({ clusters: [cluster] })));

  services = (cluster: string, service: string) =>
    this.send(
      "ecs:DescribeServices",
      service,
      () => this.clients.ecs.send(new (sdk().ecs.DescribeServicesCommand)({ cluster, services: [service] })),
      ["ClusterNotFoundException"],
    );

  taskDefinition = (taskDefinition: string) =>
    this.send("ecs:DescribeTaskDefinition", taskDefinition, () => this.clients.ecs.send(new (sdk().ecs.DescribeTaskDefinitionCommand)({ taskDefinition })));

  /** The service's task ARNs of that status, every page up to `maxPages` (100 a page); `truncated` when more remain. */
  async listTasks(cluster: string, serviceName: string, desiredStatus: "RUNNING" | "STOPPED", maxPages = TASK_PAGES): Promise<Got<{ taskArns: string[]; truncated: boolean }>> {
    const taskArns: string[] = [];
    let nextToken: string | undefined;
    for (let page = 0; page < maxPages; page++) {
      const got = await this.send("ecs:ListTasks", `${serviceName} ${desiredStatus}`, () =>
        this.clients.ecs.send(new (sdk().ecs.ListTasksCommand)({ cluster, serviceName, desiredStatus, maxResults: 100, nextToken })),
      );
      if (!got.ok) return got;
      taskArns.push(...(got.value.taskArns ?? []));
      nextToken = got.value.nextToken;
      if (!nextToken) return { ok: true, value: { taskArns, truncated: false } };
    }
    return { ok: true, value: { taskArns, truncated: true } };
  }

  /** The tasks, 100 a request (DescribeTasks' limit), and the `failures` ECS answered for those it could not describe. */
  async tasks(cluster: string, arns: readonly string[]): Promise<Got<{ tasks: Task[]; failures: Failure[] }>> {
    const tasks: Task[] = [];
    const failures: Failure[] = [];
    for (let i = 0; i < arns.length; i += 100) {
      const chunk = arns.slice(i, i + 100);
      const got = await this.send("ecs:DescribeTasks", `${chunk.length} task(s)`, () => this.clients.ecs.send(new (sdk().ecs.DescribeTasksCommand)({ cluster, tasks: chunk })));
      if (!got.ok) return got;
      tasks.push(...(got.value.tasks ?? []));
      failures.push(...(got.value.failures ?? []));
    }
    return { ok: true, value: { tasks, failures } };
  }

  images = (registryId: string, repositoryName: string, imageTag: string) =>
    this.send(
      "ecr:DescribeImages",
      `${repositoryName}:${imageTag}`,
      () => this.clients.ecr.send(new (sdk().ecr.DescribeImagesCommand)({ registryId, repositoryName, imageIds: [{ imageTag }] })),
      ["RepositoryNotFoundException", "ImageNotFoundException"],
    );

  parameter = (name: string) =>
    this.send(
      "ssm:GetParameter",
      name,
      // A String parameter: never decrypted, never a secret.
      () => this.clients.ssm.send(new (sdk().ssm.GetParameterCommand)({ Name: name, WithDecryption: false })),
      ["ParameterNotFound"],
    );

  /** Parameter metadata only (DescribeParameters returns no value), every page. */
  async describeParameters(names: readonly string[]): Promise<Got<ParameterMetadata[]>> {
    const all: ParameterMetadata[] = [];
    let token: string | undefined;
    for (let page = 0; page < 20; page++) {
      const got = await this.send("ssm:DescribeParameters", names.join(", "), () =>
        this.clients.ssm.send(
          new (sdk().ssm.DescribeParametersCommand)({ ParameterFilters: [{ Key: "Name", Option: "Equals", Values: [...names] }], MaxResults: 50, NextToken: token }),
        ),
      );
      if (!got.ok) return got;
      all.push(...(got.value.Parameters ?? []));
      token = got.value.NextToken;
      if (!token) break;
    }
    return { ok: true, value: all };
  }

  queueUrl = (queueName: string) =>
    this.send("sqs:GetQueueUrl", queueName, () => this.clients.sqs.send(new (sdk().sqs.GetQueueUrlCommand)({ QueueName: queueName })), ["QueueDoesNotExist"]);

  queueAttributes = (queueUrl: string) =>
    this.send("sqs:GetQueueAttributes", queueUrl.slice(queueUrl.lastIndexOf("/") + 1), () =>
      this.clients.sqs.send(
        new (sdk().sqs.GetQueueAttributesCommand)({
          QueueUrl: queueUrl,
          AttributeNames: [
            "QueueArn",
            "RedrivePolicy",
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
          ],
        }),
      ),
    );

  oldestMessageAge = (queueName: string, now: Date) =>
    this.send("cloudwatch:GetMetricStatistics", `ApproximateAgeOfOldestMessage ${queueName}`, () =>
      this.clients.cloudwatch.send(
        new (sdk().cloudwatch.GetMetricStatisticsCommand)({
          Namespace: "AWS/SQS",
          MetricName: "ApproximateAgeOfOldestMessage",
          Dimensions: [{ Name: "QueueName", Value: queueName }],
          StartTime: new Date(now.getTime() - 3 * 3600_000),
          EndTime: now,
          Period: 300,
          Statistics: ["Maximum"],
        }),
      ),
    );

  /** The metric alarms of these names (at most 100: one page). */
  alarms = (names: readonly string[]) =>
    this.send("cloudwatch:DescribeAlarms", names.join(", "), () =>
      this.clients.cloudwatch.send(new (sdk().cloudwatch.DescribeAlarmsCommand)({ AlarmNames: [...names], AlarmTypes: ["MetricAlarm"], MaxRecords: 100 })),
    );

  logGroups = (prefix: string) =>
    this.send("logs:DescribeLogGroups", prefix, () => this.clients.logs.send(new (sdk().logs.DescribeLogGroupsCommand)({ logGroupNamePrefix: prefix, limit: 50 })));

  /** Every event of the group since `startTime` (pages followed, at most `maxPages`): the count, the newest, the last `keep`. */
  async logEvents(logGroupName: string, startTime: number, keep: number, maxPages = 50): Promise<Got<LogEvents>> {
    const kept: LogLine[] = [];
    let count = 0;
    let newest: { timestamp: number; stream: string } | undefined;
    // Judged by each event's own timestamp, not by the endpoint's filter.
    let olderCount = 0;
    let olderNewest: { timestamp: number; stream: string } | undefined;
    let token: string | undefined;
    let truncated = false;
    for (let page = 0; ; page++) {
      if (page === maxPages) {
        truncated = true;
        break;
      }
      const got = await this.send("logs:FilterLogEvents", logGroupName, () =>
        this.clients.logs.send(new (sdk().logs.FilterLogEventsCommand)({ logGroupName, startTime, nextToken: token })),
      );
      if (!got.ok) return got;
      for (const e of got.value.events ?? []) {
        const event = { timestamp: e.timestamp ?? 0, stream: e.logStreamName ?? "", message: (e.message ?? "").replace(/\n$/, "") };
        if (event.timestamp < startTime) {
          olderCount++;
          if (!olderNewest || event.timestamp >= olderNewest.timestamp) olderNewest = { timestamp: event.timestamp, stream: event.stream };
          continue;
        }
        count++;
        if (!newest || event.timestamp >= newest.timestamp) newest = { timestamp: event.timestamp, stream: event.stream };
        if (keep > 0) {
          kept.push(event);
          if (kept.length >= 2 * keep) trim(kept, keep);
        }
      }
      token = got.value.nextToken;
      if (!token) break;
    }
    trim(kept, keep);
    return { ok: true, value: { count, newest, older: { count: olderCount, newest: olderNewest }, lines: kept, truncated } };
  }

  instances = (nameTag: string) =>
    this.send("ec2:DescribeInstances", `tag:Name=${nameTag}`, () =>
      this.clients.ec2.send(
        new (sdk().ec2.DescribeInstancesCommand)({
          Filters: [
            { Name: "tag:Name", Values: [nameTag] },
            // Terminated instances linger in the API for about an hour.
            { Name: "instance-state-name", Values: ["pending", "running", "stopping", "stopped", "shutting-down"] },
          ],
        }),
      ),
    );

  hostedZones = (zone: string) =>
    this.send("route53:ListHostedZonesByName", zone, () => this.clients.route53.send(new (sdk().route53.ListHostedZonesByNameCommand)({ DNSName: zone, MaxItems: 10 })));

  /** The A record set named `name` in the zone, if any (listing starts at it). */
  recordSet = (zoneId: string, name: string) =>
    this.send("route53:ListResourceRecordSets", `${name} A`, () =>
      this.clients.route53.send(new (sdk().route53.ListResourceRecordSetsCommand)({ HostedZoneId: zoneId, StartRecordName: name, StartRecordType: "A", MaxItems: 1 })),
    );
}

export interface LogLine {
  readonly timestamp: number;
  readonly stream: string;
  readonly message: string;
}

export interface LogEvents {
  /** Events stamped at or after the start time. */
  readonly count: number;
  readonly newest?: { readonly timestamp: number; readonly stream: string };
  /** Events returned though stamped before the start time (CloudWatch Logs never returns them; an endpoint that ignores the filter does): not counted, not kept. */
  readonly older: { readonly count: number; readonly newest?: { readonly timestamp: number; readonly stream: string } };
  /** The last lines asked for (from the start time on), oldest first. */
  readonly lines: readonly LogLine[];
  /** More pages than verify reads: count and newest cover the pages read. */
  readonly truncated: boolean;
}

/** Keeps the newest `keep` lines, oldest first. */
function trim(lines: LogLine[], keep: number): void {
  lines.sort((a, b) => a.timestamp - b.timestamp);
  lines.splice(0, Math.max(0, lines.length - keep));
}

function attemptsOf(value: unknown): number {
  return (value as { $metadata?: { attempts?: number } })?.$metadata?.attempts ?? 1;
}
