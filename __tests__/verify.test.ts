// Long: one command's tests (verify against recorded AWS responses, one scenario per failure it names).
// npm run verify, without AWS: the real SDK clients (serializers, SigV4
// signing, retries) send their requests to code that answers with recorded
// responses in each service's wire protocol (__tests__/aws-server.ts,
// __tests__/fixtures/verify/<scenario>/): over HTTP on 127.0.0.1 for the runs
// about the wire (overHttp), in process for the others.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
// Fidelity to the HCL root: production as the HCL root has it, frozen in the tests, not as configured
// (config/environments.ts, which a team changes); a configured variant keeps its own settings on it.
import * as configured from "../config/environments";
import { HCL_PRODUCTION as production, onHclProduction } from "./fixtures/hcl-production";
const productionFirstDeployment = onHclProduction(configured.productionFirstDeployment, configured.production);
const staging = onHclProduction(configured.staging, configured.production);
import { StackCatalog } from "../lib/cli";
import { READ_OPERATIONS } from "../commands/verify/aws";
import { CHECKS, REQUESTS, parseEcrImage, ssmName, stopCause } from "../commands/verify/checks";
import { judge } from "../commands/verify/verdicts";
import { verifyTarget } from "../commands/verify/target";
import { REDACTED, printableArguments, printableValue } from "../commands/verify/redact";
import { maskSecretLine } from "../lib/tf-diff-mask";
import { compareTaskDefinition, stackTaskDefinition, taskDefinitionVerdict } from "../commands/verify/task-definition";
import { ENDPOINT_VARIABLE, USAGE, main, stackTextOf, targetOf } from "../commands/verify";
import { AwsServer, FIXTURES, FailureKind, SeenRequest, ServerOptions, Transport, startAwsServer } from "./aws-server";
import { buildDist } from "./processes";

// On a loaded machine a run of every recording takes seconds.
jest.setTimeout(30_000);

const ROOT = path.join(__dirname, "..");
const NOW = Date.parse("2025-10-21T12:00:00Z");
const KEY_ID = "AKIDVERIFYTEST";
const catalog = (stacks: StackCatalog["environments"]): StackCatalog => ({ environments: stacks, reviewEnvironments: {} });
const PRODUCTION = catalog({ production });
const FIRST_DEPLOYMENT = catalog({ production: productionFirstDeployment });

// The SDK's default credential chain reads the environment: only the test's keys, no profile, no instance role.
const saved = { ...process.env };
const nowhere = path.join(os.tmpdir(), "verify-test-no-such-dir", "none");
function credentials(on: boolean) {
  for (const k of Object.keys(process.env)) if (k.startsWith("AWS_")) delete process.env[k];
  Object.assign(process.env, {
    AWS_CONFIG_FILE: nowhere,
    AWS_SHARED_CREDENTIALS_FILE: nowhere,
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    ...(on ? { AWS_ACCESS_KEY_ID: KEY_ID, AWS_SECRET_ACCESS_KEY: "verify-test-secret" } : {}),
  });
}
beforeEach(() => credentials(true));
afterAll(() => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  requests: SeenRequest[];
  sleeps: number[];
}

/**
 * `verify <argv>` against a scenario's recordings, on the tests' clock (a sleep moves it). A run is a
 * function of its arguments and the AWS_* environment (the recordings, the clock and the catalog fixed):
 * tests that ask for the same run share it (about one run in five), each given its own copy.
 */
async function verify(
  scenario: string,
  argv: string[] = [],
  stacks: StackCatalog = PRODUCTION,
  start = NOW,
  options: ServerOptions = {},
  transport: Transport = overHttp(scenario, argv, stacks, start, options) ? "http" : "in-process",
): Promise<Run> {
  const catalogs = [PRODUCTION, FIRST_DEPLOYMENT];
  const aws = Object.entries(process.env).filter(([k]) => k.startsWith("AWS_")).sort();
  const key = catalogs.includes(stacks) ? JSON.stringify([scenario, argv, catalogs.indexOf(stacks), start, options, aws, transport]) : undefined;
  if (key === undefined) return run(scenario, argv, stacks, start, options, transport);
  let shared = runs.get(key);
  if (!shared) runs.set(key, (shared = run(scenario, argv, stacks, start, options, transport)));
  return structuredClone(await shared);
}
const runs = new Map<string, Promise<Run>>();

/**
 * The runs about the wire go over HTTP, through the SDK's own NodeHttpHandler as verify ships it: a dropped
 * connection (only a socket can drop), the plain healthy run (the signed requests' test, and the baseline of
 * the failures), throttling (retried requests). The others hand the same signed requests to the same
 * answering code in process; "in process and over HTTP: the same verification" holds the two alike.
 */
function overHttp(scenario: string, argv: string[], stacks: StackCatalog, start: number, options: ServerOptions): boolean {
  if (options.fail?.kind === "reset") return true;
  if (scenario === "throttling") return true;
  return scenario === "healthy" && argv.length === 0 && stacks === PRODUCTION && start === NOW && options.fail === undefined;
}

async function run(scenario: string, argv: string[], stacks: StackCatalog, start: number, options: ServerOptions, transport: Transport): Promise<Run> {
  const server: AwsServer = await startAwsServer(scenario, options, transport);
  let clock = start;
  const out: string[] = [];
  const err: string[] = [];
  const sleeps: number[] = [];
  try {
    const code = await main(
      argv,
      { stdout: (t) => out.push(t), stderr: (t) => err.push(t), cwd: ROOT },
      {
        catalog: stacks,
        env: { [ENDPOINT_VARIABLE]: server.endpoint },
        requestHandler: server.requestHandler,
        retryDelayMs: 0,
        now: () => new Date(clock),
        sleep: async (ms) => {
          sleeps.push(ms);
          clock += ms;
        },
      },
    );
    return { code, stdout: out.join(""), stderr: err.join(""), requests: server.requests, sleeps };
  } finally {
    await server.close();
  }
}

/** The table's rows: [check, result, seen, what to do]. */
const rows = (stdout: string) =>
  stdout
    .split("\n")
    .filter((l) => l.startsWith("| ") && !l.startsWith("| check ") && !l.startsWith("| ---"))
    .map((l) => l.slice(2, -2).split(/(?<!\\) \| /));
const failing = (stdout: string) => rows(stdout).filter((r) => r[1] === "FAIL");
const operations = (r: Run) => r.requests.map((q) => q.operation);

const HEALTHY_TABLE = `verify production: 20 of 20 checks pass (us-east-1, account 474221740916, as arn:aws:iam::474221740916:user/deployer; read-only; 2025-10-21T12:00:00Z)

| check | result | seen | what to do |
| --- | --- | --- | --- |
| ECS cluster | PASS | production-ml-worker-cluster: ACTIVE |  |
| ECS service | PASS | production-ml-worker: ACTIVE |  |
| ECS tasks | PASS | running 1 of desired 1; health 1 × HEALTHY (sqs mode, min 0) |  |
| ECS deployment | PASS | production-ml-worker:4: COMPLETED (started 2025-10-21T11:30:00Z) |  |
| ECS stopped tasks | PASS | none since the deployment started; 1 started before this deployment, not judged |  |
| task definition | PASS | production-ml-worker:4 as the stack defines it: cpu 512, memory 3072, awsvpc, FARGATE, execution and task roles; ml-worker: 38 environment variables, 3 secrets, log driver awslogs, health check; not comparable offline: ml-worker.environment.POSTGRES_PORT, ml-worker.environment.POSTGRES_DB (known only at apply) |  |
| image path | PASS | 474221740916.dkr.ecr.us-east-1.amazonaws.com/zivohealth-production-ml-worker:latest |  |
| image in ECR | PASS | zivohealth-production-ml-worker:latest = sha256:4f53cda18c2b…, pushed 2025-10-21T11:12:05Z |  |
| worker DB host | PASS | POSTGRES_SERVER=zivohealth-dev-postgres.cabauc2kk65l.us-east-1.rds.amazonaws.com |  |
| SSM DB host | PASS | /zivohealth/production/db/host = zivohealth-dev-postgres.cabauc2kk65l.us-east-1.rds.amazonaws.com (version 4, 2025-10-21T11:29:40Z) |  |
| SSM parameters | PASS | 3 of 3 exist: /zivohealth/production/db/user, /zivohealth/production/db/password, /zivohealth/production/openai/api_key |  |
| SQS queue | PASS | production-ml-worker: 0 visible, 1 in flight |  |
| SQS DLQ | PASS | production-ml-worker-dlq: 0 visible, 0 in flight |  |
| SQS redrive | PASS | production-ml-worker → production-ml-worker-dlq after 3 receives |  |
| SQS DLQ empty | PASS | production-ml-worker-dlq: 0 messages |  |
| CloudWatch alarms | PASS | production-ml-worker-dlq-messages: INSUFFICIENT_DATA since 2025-10-21T11:30:00Z (no datapoints yet); production-ml-worker-queue-depth-high: OK |  |
| log group | PASS | /ecs/production-ml-worker (retention 7 days) |  |
| log events | PASS | 5 event(s) in the last 60 min; newest 1 min 40 s ago (ml-worker/ml-worker/3f9c2b7e5d1a4c8e9b6f0a2d4e6c8b1a) |  |
| API host | PASS | i-0c7d3f9a1b5e2d8c4 running, t2.small, public IP 3.91.20.17 |  |
| DNS records | PASS | zivohealth.ai, www.zivohealth.ai, api.zivohealth.ai → 3.91.20.17 |  |
`;

const TASK_DEFINITION_TODO =
  "the service runs a revision the stack does not define (registered or changed outside it): deploy the stack (npm run deploy); to keep a change, make it in the stack's sources first";

/** The requests each check's row lists for the healthy recording. */
const HEALTHY_REQUESTS: Record<string, string[]> = {
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
  "SQS DLQ empty": ["sqs:GetQueueAttributes"],
  "CloudWatch alarms": ["cloudwatch:DescribeAlarms"],
  "log group": ["logs:DescribeLogGroups"],
  "log events": ["logs:FilterLogEvents", "ecs:DescribeServices"],
  "API host": ["ec2:DescribeInstances"],
  "DNS records": ["ec2:DescribeInstances", "route53:ListHostedZonesByName", "route53:ListResourceRecordSets"],
};

/** What the production stack sets in its task definition: the task definition row compares each field. */
const PRODUCTION_DEFINITION = {
  cpu: "512",
  memory: "3072",
  networkMode: "awsvpc",
  requiresCompatibilities: ["FARGATE"],
  executionRoleArn: { atApply: "${aws_iam_role.iam_ecs_task_execution.arn}", roleName: "zivohealth-production-ecs-task-execution", rolePath: "/" },
  taskRoleArn: { atApply: "${aws_iam_role.iam_ecs_task.arn}", roleName: "zivohealth-production-ecs-task", rolePath: "/" },
  containers: [
    {
      name: "ml-worker",
      essential: true,
      environment: (
        [
          ["AWS_REGION", "us-east-1"],
          ["ML_WORKER_MODE", "sqs"],
          ["ML_WORKER_SQS_QUEUE_URL", { atApply: "${aws_sqs_queue.ml_worker_ml_worker.url}", queueName: "production-ml-worker" }],
          ["ML_WORKER_BATCH_SIZE", "1"],
          ["ML_WORKER_WAIT_TIME", "20"],
          ["ML_WORKER_VISIBILITY_TIMEOUT", "300"],
          ["POSTGRES_SERVER", { atApply: '${element(split(":", data.aws_db_instance.existing.endpoint), 0)}', hostWithoutPort: true }],
          ["POSTGRES_PORT", { atApply: "${data.aws_db_instance.existing.port}" }],
          ["POSTGRES_DB", { atApply: "${data.aws_db_instance.existing.db_name}" }],
          ["ENVIRONMENT", "production"],
          ["PROJECT_NAME", "zivohealth"],
          ["VERSION", "1.0.0"],
          ["PROJECT_VERSION", "1.0.0"],
          ["API_V1_STR", "/api/v1"],
          ["SERVER_HOST", "0.0.0.0"],
          ["SERVER_PORT", "8000"],
          ["SECRET_KEY", "ml-worker-secret-key-not-used"],
          ["ACCESS_TOKEN_EXPIRE_MINUTES", "30"],
          ["ALGORITHM", "HS256"],
          ["REDIS_HOST", "localhost"],
          ["REDIS_PORT", "6379"],
          ["REDIS_DB", "0"],
          ["AWS_S3_BUCKET", "zivohealth-data"],
          ["CHAT_WS_HEARTBEAT_MAX_SECONDS", "60"],
          ["OCR_PROVIDER", "textract"],
          ["OCR_TIMEOUT", "30"],
          ["OCR_MAX_FILE_SIZE", "10485760"],
          ["CORS_ORIGINS", "[]"],
          ["LOINC_ENABLED", "1"],
          ["LOINC_CREATE_TABLES", "0"],
          ["WS_MESSAGE_QUEUE", "ws_messages"],
          ["SMTP_SERVER", "smtp.zoho.in"],
          ["SMTP_PORT", "587"],
          ["SMTP_USERNAME", "noreply@zivohealth.ai"],
          ["SMTP_PASSWORD", "not-used-in-ml-worker"],
          ["FROM_EMAIL", "noreply@zivohealth.ai"],
          ["FRONTEND_URL", "https://app.zivohealth.com"],
          ["PASSWORD_RESET_APP_DIR", "/app/www/reset-password"],
        ] as const
      ).map(([name, value]) => ({ name, value })),
      logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "/ecs/production-ml-worker", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ml-worker" } },
      portMappings: [],
      healthCheck: { command: ["CMD-SHELL", "/app/healthcheck.sh || exit 1"], interval: 30, timeout: 5, retries: 3, startPeriod: 60 },
    },
  ],
  notCompared: [],
};

describe("the target: every name from the synthesized stack", () => {
  it("production: the names the ECS service's references lead to", () => {
    expect(targetOf("production", PRODUCTION)).toEqual({
      stack: "production",
      region: "us-east-1",
      cluster: { address: "aws_ecs_cluster.ml_worker_ml_worker", name: "production-ml-worker-cluster" },
      service: { address: "aws_ecs_service.ml_worker_ml_worker", name: "production-ml-worker" },
      workerMode: "sqs",
      minCapacity: 0,
      taskDefinition: { address: "aws_ecs_task_definition.ml_worker_ml_worker", name: "production-ml-worker", container: "ml-worker", definition: PRODUCTION_DEFINITION },
      image: {
        repository: "zivohealth-production-ml-worker",
        tag: "latest",
        registryOf: { address: "aws_ecr_repository.ecr_backend", name: "zivohealth-production-backend" },
      },
      secrets: [
        { name: "POSTGRES_USER", valueFrom: "/zivohealth/production/db/user" },
        { name: "POSTGRES_PASSWORD", valueFrom: "/zivohealth/production/db/password" },
        { name: "OPENAI_API_KEY", valueFrom: "arn:aws:ssm:us-east-1:{account}:parameter/zivohealth/production/openai/api_key" },
      ],
      dbHostParameter: { address: "module.ssm.aws_ssm_parameter.db_host", name: "/zivohealth/production/db/host" },
      queue: { address: "aws_sqs_queue.ml_worker_ml_worker", name: "production-ml-worker" },
      deadLetterQueue: { address: "aws_sqs_queue.ml_worker_ml_worker_dlq", name: "production-ml-worker-dlq", maxReceiveCount: 3 },
      logGroup: { address: "aws_cloudwatch_log_group.ml_worker_ml_worker", name: "/ecs/production-ml-worker", streamPrefix: "ml-worker" },
      alarms: [
        {
          address: "aws_cloudwatch_metric_alarm.ml_worker_dlq_messages",
          name: "production-ml-worker-dlq-messages",
          namespace: "AWS/SQS",
          metric: "ApproximateNumberOfMessagesVisible",
          queue: "production-ml-worker-dlq",
        },
        {
          address: "aws_cloudwatch_metric_alarm.ml_worker_queue_depth_high",
          name: "production-ml-worker-queue-depth-high",
          namespace: "AWS/SQS",
          metric: "ApproximateNumberOfMessagesVisible",
          queue: "production-ml-worker",
        },
      ],
      apiHost: { address: "aws_instance.compute_host", name: "zivohealth-production-ec2-no-snapd" },
      dns: { address: "module.route53", zone: "zivohealth.ai", records: ["zivohealth.ai", "www.zivohealth.ai", "api.zivohealth.ai"] },
    });
  });

  it("follows the configuration: staging's names, the first deployment's mode", () => {
    const s = targetOf("staging", catalog({ staging }));
    expect([s.cluster.name, s.service.name, s.queue.name, s.deadLetterQueue.name, s.logGroup.name, s.dbHostParameter.name, s.apiHost.name, s.dns.records]).toEqual([
      "staging-ml-worker-cluster",
      "staging-ml-worker",
      "staging-ml-worker",
      "staging-ml-worker-dlq",
      "/ecs/staging-ml-worker",
      "/zivohealth/staging/db/host",
      "zivohealth-staging-ec2-no-snapd",
      ["staging.zivohealth.ai", "www.staging.zivohealth.ai", "api.staging.zivohealth.ai"],
    ]);
    expect(s.secrets.map((x) => x.valueFrom)).toEqual([
      "/zivohealth/staging/db/user",
      "/zivohealth/staging/db/password",
      "arn:aws:ssm:us-east-1:{account}:parameter/zivohealth/staging/openai/api_key",
    ]);
    const first = targetOf("production", FIRST_DEPLOYMENT);
    expect([first.workerMode, first.minCapacity]).toEqual(["aggregation", 1]);
  });

  it("finds the API host as the instance the DNS records point at: directly, or through its Elastic IP", () => {
    const doc = JSON.parse(synthesized());
    expect(doc.module.route53.target_ip).toBe("${aws_instance.compute_host.public_ip}");
    const eip = catalog({ production: { ...production, compute: { ...production.compute, elasticIp: true } } });
    const withEip = JSON.parse(require("../lib/cli").synthesizeFirst("production", eip).text);
    expect(withEip.module.route53.target_ip).toBe("${aws_eip.compute_host.public_ip}");
    expect(verifyTarget("production", JSON.stringify(withEip)).apiHost).toEqual({ address: "aws_instance.compute_host", name: "zivohealth-production-ec2-no-snapd" });

    doc.module.route53.target_ip = "3.91.20.17";
    expect(() => verifyTarget("production", JSON.stringify(doc))).toThrow(
      'the synthesized stack \'production\': module.route53.target_ip "3.91.20.17" does not lead to an aws_instance of this stack; verify cannot tell what to check',
    );
    doc.module.route53.target_ip = "${aws_instance.compute_host.public_ip}";
    doc.resource.aws_instance.compute_host.tags.Name = "${var.name}";
    expect(() => verifyTarget("production", JSON.stringify(doc))).toThrow('aws_instance.compute_host.tags.Name is "${var.name}", not a literal');
  });

  it("refuses a stack it cannot read, naming what is missing", () => {
    const doc = JSON.parse(synthesized());
    doc.resource.aws_ecs_service.second = doc.resource.aws_ecs_service.ml_worker_ml_worker;
    expect(() => verifyTarget("production", JSON.stringify(doc))).toThrow(
      "the synthesized stack 'production': expected exactly one aws_ecs_service, found 2; verify cannot tell what to check",
    );
    delete doc.resource.aws_ecs_service.second;
    doc.resource.aws_ecs_service.ml_worker_ml_worker.cluster = "production-ml-worker-cluster";
    expect(() => verifyTarget("production", JSON.stringify(doc))).toThrow(
      "aws_ecs_service.ml_worker_ml_worker.cluster does not reference a aws_ecs_cluster of this stack",
    );
  });
});

/** The production stack's text, as verify synthesized it (once for PRODUCTION: targetOf reads the same text). */
const synthesized = (): string => stackTextOf("production", PRODUCTION);

describe("the recordings match what the stack names", () => {
  const read = (file: string) => fs.readFileSync(path.join(FIXTURES, "healthy", file), "utf8");
  const json = (file: string) => JSON.parse(read(file));
  it("cluster, service, task definition, container, image, parameters, queues, log group, host and zone", () => {
    const t = targetOf("production", PRODUCTION);
    const account = /<Account>(\d+)<\/Account>/.exec(read("sts.GetCallerIdentity.xml"))![1];
    expect(json("ecs.DescribeClusters.json").clusters[0].clusterName).toBe(t.cluster.name);
    const service = json("ecs.DescribeServices.json").services[0];
    expect([service.serviceName, service.clusterArn]).toEqual([t.service.name, `arn:aws:ecs:${t.region}:${account}:cluster/${t.cluster.name}`]);
    const td = json("ecs.DescribeTaskDefinition.json").taskDefinition;
    expect([td.family, td.containerDefinitions[0].name]).toEqual([t.taskDefinition.name, t.taskDefinition.container]);
    expect(td.containerDefinitions[0].image).toBe(`${account}.dkr.ecr.${t.region}.amazonaws.com/${t.image.repository}:${t.image.tag}`);
    expect(td.containerDefinitions[0].secrets).toEqual(t.secrets.map((s) => ({ name: s.name, valueFrom: s.valueFrom.replace("{account}", account) })));
    expect(td.containerDefinitions[0].logConfiguration.options["awslogs-group"]).toBe(t.logGroup.name);
    expect(json("ecr.DescribeImages.json").imageDetails[0].repositoryName).toBe(t.image.repository);
    expect(json("ssm.GetParameter.json").Parameter.Name).toBe(t.dbHostParameter.name);
    expect(json("ssm.DescribeParameters.json").Parameters.map((p: any) => p.Name).sort()).toEqual(
      t.secrets.map((s) => ssmName(s.valueFrom.replace("{account}", account), t.region, account)).sort(),
    );
    expect(json(`sqs.GetQueueUrl.${t.queue.name}.json`).QueueUrl).toBe(`https://sqs.${t.region}.amazonaws.com/${account}/${t.queue.name}`);
    expect(json(`sqs.GetQueueUrl.${t.deadLetterQueue.name}.json`).QueueUrl).toBe(`https://sqs.${t.region}.amazonaws.com/${account}/${t.deadLetterQueue.name}`);
    expect(JSON.parse(json(`sqs.GetQueueAttributes.${t.queue.name}.json`).Attributes.RedrivePolicy)).toEqual({
      deadLetterTargetArn: `arn:aws:sqs:${t.region}:${account}:${t.deadLetterQueue.name}`,
      maxReceiveCount: t.deadLetterQueue.maxReceiveCount,
    });
    expect(json("logs.DescribeLogGroups.json").logGroups[0].logGroupName).toBe(t.logGroup.name);
    expect(read("ec2.DescribeInstances.xml")).toContain(`<value>${t.apiHost.name}</value>`);
    expect(read("route53.ListHostedZonesByName.xml")).toContain(`<Name>${t.dns.zone}.</Name>`);
    for (const name of t.dns.records) expect(read(`route53.ListResourceRecordSets.${name}.xml`)).toContain(`<Name>${name}.</Name>`);
    expect(json("cloudwatch.DescribeAlarms.json").MetricAlarms.map((a: any) => [a.AlarmName, a.Namespace, a.MetricName, a.Dimensions]).sort()).toEqual(
      t.alarms.map((a) => [a.name, a.namespace, a.metric, [{ Name: "QueueName", Value: a.queue }]]).sort(),
    );
  });
});

describe("npm run verify against the recordings", () => {
  it("healthy: every check passes, through the SDK's signed requests, reads only", async () => {
    const r = await verify("healthy");
    expect(r).toMatchObject({ code: 0, stderr: "", stdout: HEALTHY_TABLE });
    // Each request signed (SigV4) with the caller's key for its service, in the stack's region.
    const scope: Record<string, string> = { cloudwatch: "monitoring" };
    for (const q of r.requests) {
      const service = q.operation.split(":")[0];
      expect(q.credential).toMatch(new RegExp(`^${KEY_ID}/\\d{8}/us-east-1/${scope[service] ?? service}/aws4_request$`));
      expect(q.attempt).toBe("attempt=1; max=3");
      expect(q.userAgent).toMatch(/^aws-sdk-js\/3\.\d+\.\d+ .* zivohealth-infra-verify$/);
    }
    expect([...operations(r)].sort()).toEqual(
      [
        "sts:GetCallerIdentity",
        "ecs:DescribeClusters",
        "ecs:DescribeServices",
        "ecs:DescribeTaskDefinition",
        "ecs:ListTasks",
        "ecs:ListTasks",
        "ecs:DescribeTasks",
        "ecr:DescribeImages",
        "ssm:GetParameter",
        "ssm:DescribeParameters",
        "sqs:GetQueueUrl",
        "sqs:GetQueueUrl",
        "sqs:GetQueueAttributes",
        "sqs:GetQueueAttributes",
        "cloudwatch:DescribeAlarms",
        "logs:DescribeLogGroups",
        "logs:FilterLogEvents",
        "logs:FilterLogEvents",
        "ec2:DescribeInstances",
        "route53:ListHostedZonesByName",
        "route53:ListResourceRecordSets",
        "route53:ListResourceRecordSets",
        "route53:ListResourceRecordSets",
      ].sort(),
    );
    expect(operations(r)[0]).toBe("sts:GetCallerIdentity");
  });

  it("in process and over HTTP: the same verification, whatever carries the requests", async () => {
    // Requests sent side by side may arrive in another order; nothing else may differ.
    const same = (r: Run) => {
      const sorted = (requests: unknown[]) => requests.map((q) => JSON.stringify(q)).sort();
      const stdout = r.stdout.startsWith("{") ? { ...JSON.parse(r.stdout), requests: sorted(JSON.parse(r.stdout).requests) } : r.stdout;
      return { ...r, stdout, requests: sorted(r.requests) };
    };
    const runs: [string, string[]][] = [
      ["healthy", []],
      ["throttling", ["--json"]],
    ];
    for (const [scenario, argv] of runs) {
      const http = await verify(scenario, argv, PRODUCTION, NOW, {}, "http");
      const inProcess = await verify(scenario, argv, PRODUCTION, NOW, {}, "in-process");
      expect(http.requests.length).toBeGreaterThan(20);
      expect(same(inProcess)).toEqual(same(http));
    }
  });

  it("asks for exactly the stack's names", async () => {
    const r = await verify("healthy");
    const input = (op: string, key?: string) => r.requests.find((q) => q.operation === op && (key === undefined || q.key === key))!.input;
    expect(input("ecs:DescribeClusters")).toEqual({ clusters: ["production-ml-worker-cluster"] });
    expect(input("ecs:DescribeServices")).toEqual({ cluster: "production-ml-worker-cluster", services: ["production-ml-worker"] });
    expect(input("ecs:DescribeTaskDefinition")).toEqual({ taskDefinition: "arn:aws:ecs:us-east-1:474221740916:task-definition/production-ml-worker:4" });
    expect(input("ecs:ListTasks", "STOPPED")).toEqual({ cluster: "production-ml-worker-cluster", serviceName: "production-ml-worker", desiredStatus: "STOPPED", maxResults: 100 });
    expect(input("ecr:DescribeImages")).toEqual({ registryId: "474221740916", repositoryName: "zivohealth-production-ml-worker", imageIds: [{ imageTag: "latest" }] });
    expect(input("ssm:GetParameter")).toEqual({ Name: "/zivohealth/production/db/host", WithDecryption: false });
    expect(input("ssm:DescribeParameters")).toEqual({
      ParameterFilters: [
        { Key: "Name", Option: "Equals", Values: ["/zivohealth/production/db/user", "/zivohealth/production/db/password", "/zivohealth/production/openai/api_key"] },
      ],
      MaxResults: 50,
    });
    expect(input("sqs:GetQueueUrl", "production-ml-worker-dlq")).toEqual({ QueueName: "production-ml-worker-dlq" });
    expect(input("cloudwatch:DescribeAlarms")).toEqual({
      AlarmNames: ["production-ml-worker-dlq-messages", "production-ml-worker-queue-depth-high"],
      AlarmTypes: ["MetricAlarm"],
      MaxRecords: 100,
    });
    expect(input("logs:FilterLogEvents", undefined)).toEqual({ logGroupName: "/ecs/production-ml-worker", startTime: NOW - 3600_000 });
    expect(input("logs:FilterLogEvents", "page-2")).toEqual({ logGroupName: "/ecs/production-ml-worker", startTime: NOW - 3600_000, nextToken: "page-2" });
    expect(input("ec2:DescribeInstances")).toEqual({
      Action: "DescribeInstances",
      Version: "2016-11-15",
      "Filter.1.Name": "tag:Name",
      "Filter.1.Value.1": "zivohealth-production-ec2-no-snapd",
      "Filter.2.Name": "instance-state-name",
      "Filter.2.Value.1": "pending",
      "Filter.2.Value.2": "running",
      "Filter.2.Value.3": "stopping",
      "Filter.2.Value.4": "stopped",
      "Filter.2.Value.5": "shutting-down",
    });
    expect(input("route53:ListHostedZonesByName")).toEqual({ dnsname: "zivohealth.ai", maxitems: "10" });
    expect(input("route53:ListResourceRecordSets", "api.zivohealth.ai")).toEqual({ HostedZoneId: "Z04817392JX0QK7T5M2LD", name: "api.zivohealth.ai", type: "A", maxitems: "1" });
  });

  it("--json: every check with the requests it made, every fact, the requests with their attempts", async () => {
    const r = await verify("healthy", ["--json", "--logs", "2"]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ stack: "production", region: "us-east-1", account: "474221740916", pass: true, counts: { pass: 20, fail: 0 }, polls: 1 });
    expect(report.checks.map((c: any) => c.check)).toEqual([...CHECKS]);
    expect(Object.fromEntries(report.checks.map((c: any) => [c.check, c.requests]))).toEqual(HEALTHY_REQUESTS);
    expect(report.facts.service.value.deployments[0]).toMatchObject({ status: "PRIMARY", rolloutState: "COMPLETED", createdAt: "2025-10-21T11:30:00.123Z" });
    expect(report.facts.dbHost.value.value).toBe("zivohealth-dev-postgres.cabauc2kk65l.us-east-1.rds.amazonaws.com");
    expect(report.facts.queue.value).toMatchObject({ visible: 0, inFlight: 1, arn: "arn:aws:sqs:us-east-1:474221740916:production-ml-worker" });
    expect(report.facts.instances.value[0]).toMatchObject({ InstanceId: "i-0c7d3f9a1b5e2d8c4", PublicIpAddress: "3.91.20.17" });
    expect(report.requests).toHaveLength(23);
    expect(report.facts.alarms.value.map((a: any) => [a.AlarmName, a.StateValue, a.StateUpdatedTimestamp])).toEqual([
      ["production-ml-worker-dlq-messages", "INSUFFICIENT_DATA", "2025-10-21T11:30:00.000Z"],
      ["production-ml-worker-queue-depth-high", "OK", "2025-10-21T11:55:00.000Z"],
    ]);
    expect(report.requests[0]).toEqual({ operation: "sts:GetCallerIdentity", about: "caller", attempts: 1 });
    expect(report.logs).toEqual([
      {
        timestamp: "2025-10-21T11:40:09.774Z",
        stream: "ml-worker/ml-worker/3f9c2b7e5d1a4c8e9b6f0a2d4e6c8b1a",
        message: "INFO ml_worker: lab report 8841 categorized (12 results) in 6.7 s",
      },
      { timestamp: "2025-10-21T11:58:20.310Z", stream: "ml-worker/ml-worker/3f9c2b7e5d1a4c8e9b6f0a2d4e6c8b1a", message: "INFO ml_worker: received 1 message" },
    ]);
    // No secret value is read: the parameters by metadata only; the one value read is the DB host, a String.
    expect(report.facts.parameters.value.found.map((p: any) => [p.Name, "Value" in p])).toEqual([
      ["/zivohealth/production/db/password", false],
      ["/zivohealth/production/db/user", false],
      ["/zivohealth/production/openai/api_key", false],
    ]);
    expect(report.facts.dbHost.value.type).toBe("String");
  });

  // The user's report: a revision registered by hand held the SMTP password and a database URL in environment; --json printed both.
  it("--json prints no secret value: environment values named like a secret, and a URL's password, redacted", async () => {
    const r = await verify("secret-env", ["--json"]);
    expect(r.code).toBe(1);
    const secrets = ["Zk8-live-smtp-pass", "Pg-live-pass-77", "sk-live-override-0123456789", "ml-worker-secret-key-not-used", "not-used-in-ml-worker"];
    // ... and the running task's command override, set by hand like its environment.
    secrets.push("Zk8-cmd-pass", "Pg-cmd-pass-9", "sk-cmd-flag-4242", "tok-cmd-eq-77");
    for (const secret of secrets) expect(r.stdout).not.toContain(secret);
    const report = JSON.parse(r.stdout);
    // That revision is not the stack's: named field by field, the secret-named one without its values.
    expect(report.checks.filter((c: any) => c.result === "FAIL").map((c: any) => [c.check, c.seen])).toEqual([
      // The running task's environment override: named, its value not.
      [
        "ECS tasks",
        "running 1 of desired 1; health 1 × HEALTHY (sqs mode, min 0); running with overrides: task 3f9c2b7e5d1a4c8e9b6f0a2d4e6c8b1a: " +
          "ml-worker.command (7 argument(s); --json has them), ml-worker.environment OPENAI_API_KEY",
      ],
      [
        "task definition",
        "production-ml-worker:4 (registered 2025-10-21T11:29:48Z by arn:aws:iam::474221740916:user/deployer) differs from the stack's in 2 field(s): " +
          "ml-worker.environment.SMTP_PASSWORD: the stack's (redacted by verify), live (redacted by verify); " +
          'ml-worker.environment.DATABASE_URL: the stack\'s (none), live "postgresql://zivo:(redacted by verify)@zivohealth-dev-postgres.cabauc2kk65l.us-east-1.rds.amazonaws.com:5432/zivohealth"',
      ],
    ]);
    // The stack's own environment, in the target, is redacted alike.
    const stackEnv = Object.fromEntries(report.target.taskDefinition.definition.containers[0].environment.map((e: any) => [e.name, e.value]));
    expect([stackEnv.SMTP_PASSWORD, stackEnv.SECRET_KEY, stackEnv.SMTP_USERNAME]).toEqual(["(redacted by verify)", "(redacted by verify)", "noreply@zivohealth.ai"]);
    const env = Object.fromEntries(report.facts.taskDefinition.value.containerDefinitions[0].environment.map((e: any) => [e.name, e.value]));
    expect([env.SMTP_PASSWORD, env.SECRET_KEY, env.DATABASE_URL, env.POSTGRES_SERVER, env.SMTP_USERNAME]).toEqual([
      "(redacted by verify)",
      "(redacted by verify)",
      "postgresql://zivo:(redacted by verify)@zivohealth-dev-postgres.cabauc2kk65l.us-east-1.rds.amazonaws.com:5432/zivohealth",
      "zivohealth-dev-postgres.cabauc2kk65l.us-east-1.rds.amazonaws.com",
      "noreply@zivohealth.ai",
    ]);
    expect(report.facts.runningTasks.value[0].overrides.containerOverrides[0].environment).toEqual([{ name: "OPENAI_API_KEY", value: "(redacted by verify)" }]);
    // The command: a secret-named NAME=value (inside sh -c too) or --flag value, and a URL's password, redacted; the rest as ECS has it.
    expect(report.facts.runningTasks.value[0].overrides.containerOverrides[0].command).toEqual([
      "sh",
      "-c",
      "SMTP_PASSWORD=(redacted by verify) python -m app.workers.ml_worker --database-url postgresql://zivo:(redacted by verify)@db.internal:5432/zivohealth",
      "--api-key",
      "(redacted by verify)",
      "--token=(redacted by verify)",
      "--batch-size=10",
    ]);
  });

  it("--logs <n> prints the last n lines after the table, like aws logs tail", async () => {
    const r = await verify("healthy", ["--logs", "3"]);
    expect(r.stdout.slice(HEALTHY_TABLE.length)).toBe(
      "\nLast 3 line(s) of /ecs/production-ml-worker (the last 60 min):\n" +
        "2025-10-21T11:40:03.005Z ml-worker/ml-worker/3f9c2b7e5d1a4c8e9b6f0a2d4e6c8b1a INFO ml_worker: received 1 message\n" +
        "2025-10-21T11:40:09.774Z ml-worker/ml-worker/3f9c2b7e5d1a4c8e9b6f0a2d4e6c8b1a INFO ml_worker: lab report 8841 categorized (12 results) in 6.7 s\n" +
        "2025-10-21T11:58:20.310Z ml-worker/ml-worker/3f9c2b7e5d1a4c8e9b6f0a2d4e6c8b1a INFO ml_worker: received 1 message\n",
    );
  });

  // The recording server ignores FilterLogEvents' startTime, as a misbehaving endpoint would:
  // run later (or earlier) than the recordings, the check must judge the events' own timestamps.
  it("log events: judged by each event's own timestamp, never by the endpoint's filter alone", async () => {
    const stream = "ml-worker/ml-worker/3f9c2b7e5d1a4c8e9b6f0a2d4e6c8b1a";
    const logRow = (r: Run) => rows(r.stdout).find((x) => x[0] === "log events");
    const DAY = 86_400_000;

    // The user's report: the healthy recording read 410 days later passed with "newest 410 d ago".
    const late = await verify("healthy", ["--logs", "2"], PRODUCTION, NOW + 410 * DAY);
    expect(late.code).toBe(1);
    expect(logRow(late)).toEqual([
      "log events",
      "FAIL",
      `none in the last 60 min (since 2026-12-05T11:00:00Z): the newest event returned is stamped 2025-10-21T11:58:20Z, 410 d 0 h ago (5 older event(s) returned, not counted; ${stream})`,
      "CloudWatch Logs never returns events older than the start time verify asks for: check this machine's clock (it reads 2026-12-05T12:00:00Z) and the endpoint verify calls; if both are right, the worker has logged nothing for 410 d 0 h: see ECS tasks and ECS stopped tasks",
    ]);
    // --logs shows the window's lines only: none.
    expect(late.stdout).not.toContain("2025-10-21T11:58:20.310Z");

    // 35 min later: the two events from before 11:35 fall out of the window, the three after it count.
    const partly = await verify("healthy", ["--logs", "5"], PRODUCTION, NOW + 35 * 60_000);
    expect(logRow(partly)).toEqual([
      "log events",
      "PASS",
      `3 event(s) in the last 60 min; newest 36 min 40 s ago (${stream}); 2 older event(s) returned, not counted`,
      "",
    ]);
    expect(partly.stdout.split("\n").filter((l) => l.startsWith("2025-10-21T")).map((l) => l.slice(0, 24))).toEqual([
      "2025-10-21T11:40:03.005Z",
      "2025-10-21T11:40:09.774Z",
      "2025-10-21T11:58:20.310Z",
    ]);

    // 30 min earlier: every event is stamped after this machine's clock.
    const early = await verify("healthy", [], PRODUCTION, NOW - 30 * 60_000);
    expect(logRow(early)).toEqual([
      "log events",
      "FAIL",
      `5 event(s) since 2025-10-21T10:30:00Z; the newest is stamped 2025-10-21T11:58:20Z, 28 min 20 s after this machine's clock (2025-10-21T11:30:00Z) (${stream})`,
      "this machine's clock is behind (or the container's is ahead): set the clock right (NTP), then run verify again",
    ]);
  });

  it("documented bug 1: a DB host parameter with :5432", async () => {
    const r = await verify("db-host-port");
    expect(r.code).toBe(1);
    expect(failing(r.stdout)).toEqual([
      [
        "SSM DB host",
        "FAIL",
        "/zivohealth/production/db/host = zivohealth-dev-postgres.cabauc2kk65l.us-east-1.rds.amazonaws.com:5432 (version 3, 2025-09-11T09:00:00Z): carries a port",
        "the API builds host:5432:5432 from it: deploy this stack (the ssm module gets the host without the port, documented fix 1), then restart the API containers",
      ],
    ]);
  });

  it("documented bug 2: the repository inside the image path, tasks stopped with CannotPullContainerError", async () => {
    const r = await verify("image-path");
    expect(r.code).toBe(1);
    const broken = "474221740916.dkr.ecr.us-east-1.amazonaws.com/zivohealth-production-backend/zivohealth-production-ml-worker:latest";
    expect(failing(r.stdout)).toEqual([
      ["ECS tasks", "FAIL", "running 0 of desired 1 (sqs mode, min 0)", "tasks are starting, or cannot start: see ECS stopped tasks, then run with --wait"],
      [
        "ECS deployment",
        "FAIL",
        "production-ml-worker:4: IN_PROGRESS, 0 of 1 task(s) running, 3 failed (started 2025-10-21T11:30:00Z)",
        "the deployment is still rolling out to production-ml-worker:4 (the stack's family, ACTIVE): run with --wait",
      ],
      [
        "ECS stopped tasks",
        "FAIL",
        `3 of 3 stopped since the deployment: 3 × the image cannot be pulled; last: CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref ${broken}: ${broken}: not found`,
        "check image path and image in ECR above; the execution role needs ECR pull rights; tasks in public subnets need a public IP",
      ],
      [
        "image path",
        "FAIL",
        `${broken}: zivohealth-production-backend/ sits between the registry host and the repository`,
        "the task definition was built from the zivohealth-production-backend repository's URL instead of its registry host (documented fix 2): deploy this stack, whose image is 474221740916.dkr.ecr.us-east-1.amazonaws.com/zivohealth-production-ml-worker:latest",
      ],
      [
        "image in ECR",
        "FAIL",
        "repository zivohealth-production-backend/zivohealth-production-ml-worker (registry 474221740916) does not exist",
        `ECS cannot pull ${broken}: fix the image path (see image path), or create the repository and push`,
      ],
      ["log events", "FAIL", "none in the last 60 min; no task runs to write them", "see ECS tasks and ECS stopped tasks"],
    ]);
    // ECR was asked about the repository the task definition names: what ECS pulls.
    expect(r.requests.find((q) => q.operation === "ecr:DescribeImages")!.input).toEqual({
      registryId: "474221740916",
      repositoryName: "zivohealth-production-backend/zivohealth-production-ml-worker",
      imageIds: [{ imageTag: "latest" }],
    });
  });

  it("scaled to zero with an empty queue: healthy in sqs mode, a failure in aggregation mode", async () => {
    const sqs = await verify("scaled-to-zero");
    expect(sqs.code).toBe(0);
    const seen = Object.fromEntries(rows(sqs.stdout).map((x) => [x[0], x[2]]));
    expect(seen["ECS tasks"]).toBe("running 0 of desired 0 (sqs mode, min 0); queue empty: scaled to zero is healthy");
    expect(seen["ECS stopped tasks"]).toBe("1 × stopped by the scheduler (scale-in or deployment) since the deployment started");
    expect(seen["log events"]).toBe("none in the last 60 min; no task runs (scaled to zero), so none are expected");

    const aggregation = await verify("scaled-to-zero", [], FIRST_DEPLOYMENT);
    expect(aggregation.code).toBe(1);
    expect(failing(aggregation.stdout)).toEqual([
      [
        "ECS tasks",
        "FAIL",
        "running 0 of desired 0 (aggregation mode, min 1)",
        "aggregation mode needs one task always: set mlWorker.minCapacity to 1 or more (config/environments.ts) and deploy",
      ],
      // The recording runs the revision of a stack in sqs mode.
      [
        "task definition",
        "FAIL",
        "production-ml-worker:4 (registered 2025-10-21T11:29:48Z by arn:aws:iam::474221740916:user/deployer) differs from the stack's in 1 field(s): " +
          'ml-worker.environment.ML_WORKER_MODE: the stack\'s "aggregation", live "sqs"',
        TASK_DEFINITION_TODO,
      ],
      ["log events", "FAIL", "none in the last 60 min; no task runs to write them", "see ECS tasks and ECS stopped tasks"],
    ]);
  });

  // sqs mode with a minimum above zero (one warm task): scaled to zero, or below the minimum, passed as "scaled to zero is healthy".
  it("desired below the stack's minimum: a failure, in sqs mode too", async () => {
    const warm = catalog({ production: onHclProduction({ ...configured.production, mlWorker: { ...configured.production.mlWorker, minCapacity: 2 } }, configured.production) });
    const todo =
      "Application Auto Scaling holds desired at or above the scalable target's minimum: after a deploy that raised it, run with --wait; if it stays, " +
      "the live minimum is not the stack's or scaling is suspended (aws application-autoscaling describe-scalable-targets --service-namespace ecs): deploy the stack";
    const zero = await verify("scaled-to-zero", [], warm);
    expect(zero.code).toBe(1);
    expect(failing(zero.stdout)).toEqual([["ECS tasks", "FAIL", "running 0 of desired 0 (sqs mode, min 2); desired 0 is below the stack's minimum 2", todo]]);
    const one = await verify("healthy", [], warm);
    expect(one.code).toBe(1);
    expect(failing(one.stdout)).toEqual([["ECS tasks", "FAIL", "running 1 of desired 1; health 1 × HEALTHY (sqs mode, min 2); desired 1 is below the stack's minimum 2", todo]]);

    // With the night scale-down (scheduled actions down to 0 at 02:00, back at 08:00), zero is within the stack's minimum.
    const nightly = catalog({
      production: onHclProduction({ ...configured.production, mlWorker: { ...configured.production.mlWorker, minCapacity: 2, enableScheduledScaling: true } }, configured.production),
    });
    expect([targetOf("production", nightly).minCapacity, targetOf("production", nightly).scheduledMinCapacity]).toEqual([2, 0]);
    const night = await verify("scaled-to-zero", [], nightly);
    expect(night.code).toBe(0);
    expect(rows(night.stdout).find((x) => x[0] === "ECS tasks")).toEqual(["ECS tasks", "PASS", "running 0 of desired 0 (sqs mode, min 2, 0 by schedule); queue empty: scaled to zero is healthy", ""]);
  });

  it("messages in the DLQ: how many, and since when (CloudWatch's oldest message age)", async () => {
    const r = await verify("dlq-messages");
    expect(r.code).toBe(1);
    expect(failing(r.stdout)).toEqual([
      [
        "SQS DLQ empty",
        "FAIL",
        "production-ml-worker-dlq: 4 message(s) (4 visible, 0 in flight); the oldest has waited 2 h 2 min, since about 2025-10-21T09:53:00Z (CloudWatch ApproximateAgeOfOldestMessage at 2025-10-21T11:55:00Z)",
        "jobs failed 3 times: find why in the worker's logs (--logs 100), fix it, then move them back: aws sqs start-message-move-task --source-arn arn:aws:sqs:us-east-1:474221740916:production-ml-worker-dlq",
      ],
      [
        "CloudWatch alarms",
        "FAIL",
        "production-ml-worker-dlq-messages: ALARM since 2025-10-21T11:55:00Z: Threshold Crossed: 1 datapoint [20.0 (21/10/25 11:50:00)] was greater than the threshold (1.0).; production-ml-worker-queue-depth-high: OK",
        "production-ml-worker-dlq-messages: messages reached the DLQ (see SQS DLQ empty)",
      ],
    ]);
    const metric = r.requests.find((q) => q.operation === "cloudwatch:GetMetricStatistics")!;
    expect(metric.input).toEqual({
      Namespace: "AWS/SQS",
      MetricName: "ApproximateAgeOfOldestMessage",
      Dimensions: [{ Name: "QueueName", Value: "production-ml-worker-dlq" }],
      StartTime: (NOW - 3 * 3600_000) / 1000,
      EndTime: NOW / 1000,
      Period: 300,
      Statistics: ["Maximum"],
    });
    // An empty DLQ needs no metric.
    expect(operations(await verify("healthy"))).not.toContain("cloudwatch:GetMetricStatistics");
  });

  it("the stack's alarms: one in ALARM, one watching another queue; a failure naming each, waiting only on the first", async () => {
    const r = await verify("alarms");
    expect(r.code).toBe(1);
    expect(failing(r.stdout)).toEqual([
      [
        "CloudWatch alarms",
        "FAIL",
        "production-ml-worker-dlq-messages: watches AWS/SQS/ApproximateNumberOfMessagesVisible (QueueName=staging-ml-worker-dlq), the stack's AWS/SQS/ApproximateNumberOfMessagesVisible (QueueName=production-ml-worker-dlq); " +
          "production-ml-worker-queue-depth-high: ALARM since 2025-10-21T11:55:00Z: Threshold Crossed: 2 datapoints [42.0 (21/10/25 11:50:00), 37.5 (21/10/25 11:45:00)] were greater than the threshold (10.0).",
        "1 alarm(s) not as the stack defines: deploy the stack (npm run deploy); " +
          "production-ml-worker-queue-depth-high: production-ml-worker is backing up: see ECS tasks and the worker's logs (--logs 50); it clears when the workers catch up (--wait)",
      ],
    ]);
    // Waiting cannot fix an alarm that is not the stack's: --wait stops at once.
    const waited = await verify("alarms", ["--wait", "60"]);
    expect([waited.code, waited.sleeps]).toEqual([1, []]);
  });

  it("the stack's alarms: one missing, one in ALARM alone (it can clear: waiting helps)", () => {
    const t = targetOf("production", PRODUCTION);
    const alarm = (name: string, queue: string, StateValue: string) => ({
      AlarmName: name,
      Namespace: "AWS/SQS",
      MetricName: "ApproximateNumberOfMessagesVisible",
      Dimensions: [{ Name: "QueueName", Value: queue }],
      StateValue,
    });
    const rowOf = (alarms: any[]) =>
      judge({ alarms: { ok: true, value: alarms } }, { target: t, account: "474221740916", now: new Date(NOW), made: new Set(["cloudwatch:DescribeAlarms"]) }).find((r) => r.check === "CloudWatch alarms");
    expect(rowOf([alarm("production-ml-worker-queue-depth-high", "production-ml-worker", "OK")])).toEqual({
      check: "CloudWatch alarms",
      pass: false,
      seen: "production-ml-worker-dlq-messages: does not exist; production-ml-worker-queue-depth-high: OK",
      todo: "1 alarm(s) not as the stack defines: deploy the stack (npm run deploy)",
      settles: false,
      requests: ["cloudwatch:DescribeAlarms"],
    });
    expect(rowOf([alarm("production-ml-worker-queue-depth-high", "production-ml-worker", "ALARM"), alarm("production-ml-worker-dlq-messages", "production-ml-worker-dlq", "OK")])).toMatchObject({
      pass: false,
      seen: "production-ml-worker-dlq-messages: OK; production-ml-worker-queue-depth-high: ALARM",
      settles: true,
    });
  });

  it("a missing SSM parameter: named, and the stopped tasks' reason in words", async () => {
    const r = await verify("missing-parameter");
    expect(r.code).toBe(1);
    const byCheck = Object.fromEntries(failing(r.stdout).map((x) => [x[0], x.slice(2)]));
    expect(Object.keys(byCheck)).toEqual(["ECS tasks", "ECS deployment", "ECS stopped tasks", "SSM parameters", "log events"]);
    expect(byCheck["SSM parameters"]).toEqual([
      "1 of 3 missing: /zivohealth/production/openai/api_key",
      "tasks cannot start without them (ResourceInitializationError): create it (aws ssm put-parameter --type SecureString --name /zivohealth/production/openai/api_key ...)",
    ]);
    expect(byCheck["ECS stopped tasks"][0]).toMatch(/^2 of 2 stopped since the deployment: 2 × a secret cannot be read; last: ResourceInitializationError: unable to pull secrets/);
  });

  it("out of memory: named in words, with the task's memory", async () => {
    const r = await verify("out-of-memory");
    expect(failing(r.stdout)).toEqual([
      [
        "ECS stopped tasks",
        "FAIL",
        "1 of 1 stopped since the deployment: 1 × out of memory; last: Essential container in task exited \\| OutOfMemoryError: Container killed due to memory usage (exit 137); 1 started before this deployment, not judged",
        "the worker needs more than 3072 MiB: raise mlWorker.memoryMiB (config/environments.ts) and deploy",
      ],
    ]);
  });

  // The user's report: after a deploy the circuit breaker rolled back to the revision the apply had deregistered; every row passed.
  it("a completed rollout of a revision the stack no longer has, or of another family: not this stack's deployment", async () => {
    const rolledBack = await verify("rolled-back", ["--wait", "600"]);
    expect(rolledBack).toMatchObject({ code: 1, sleeps: [], stderr: "verify: stopped waiting: ECS deployment cannot pass by waiting\n" });
    expect(failing(rolledBack.stdout)).toEqual([
      [
        "ECS deployment",
        "FAIL",
        "production-ml-worker:4: COMPLETED (started 2025-10-21T11:55:00Z); production-ml-worker:4 is INACTIVE since 2025-10-21T11:42:30Z: a revision the stack's apply replaced",
        "the service was rolled back (the circuit breaker, or by hand) to a revision the stack no longer has: see ECS stopped tasks and the service's events (aws ecs describe-services) for why the stack's revision failed, fix it and deploy again",
      ],
    ]);
    const other = await verify("other-family");
    expect(other.code).toBe(1);
    expect(failing(other.stdout)).toEqual([
      [
        "ECS deployment",
        "FAIL",
        "production-ml-worker-manual:1: COMPLETED (started 2025-10-21T11:30:00Z); family production-ml-worker-manual, the stack's is production-ml-worker",
        "the service runs a task definition this stack does not define: deploy the stack (npm run deploy)",
      ],
    ]);
  });

  // During a rollout the row said only "still rolling out": a rollback to a deregistered revision, or a rollout of
  // another family, waited out --wait before saying anything.
  it("a rollout in progress: the PRIMARY's family and status judged, what it waits on and the old deployment named", async () => {
    const deployment = (r: Run) => rows(r.stdout).filter((x) => x[1] === "FAIL");
    // A rollback in progress to the revision the apply deregistered: waiting ends it on that revision.
    const back = await verify("rolling-back", ["--wait", "600"]);
    expect(back).toMatchObject({ code: 1, sleeps: [], stderr: "verify: stopped waiting: ECS deployment cannot pass by waiting\n" });
    expect(deployment(back)).toEqual([
      [
        "ECS deployment",
        "FAIL",
        "production-ml-worker:3: IN_PROGRESS, 0 of 1 task(s) running, 1 pending (started 2025-10-21T11:55:00Z; ACTIVE (old): production-ml-worker:4, 1 running); " +
          "production-ml-worker:3 is INACTIVE since 2025-10-21T11:42:30Z: a revision the stack's apply replaced",
        "the service is rolling back (the circuit breaker, or by hand) to a revision the stack no longer has: see ECS stopped tasks and the service's events (aws ecs describe-services) for why the stack's revision failed, fix it and deploy again",
      ],
    ]);
    const other = await verify("rolling-other-family", ["--wait", "600"]);
    expect(other).toMatchObject({ code: 1, sleeps: [], stderr: "verify: stopped waiting: ECS deployment cannot pass by waiting\n" });
    expect(deployment(other)).toEqual([
      [
        "ECS deployment",
        "FAIL",
        "production-ml-worker-manual:1: IN_PROGRESS, 0 of 1 task(s) running, 1 pending (started 2025-10-21T11:55:00Z; ACTIVE (old): production-ml-worker:4, 1 running); " +
          "family production-ml-worker-manual, the stack's is production-ml-worker",
        "the service rolls out to a task definition this stack does not define: deploy the stack (npm run deploy)",
      ],
    ]);
    const failed = await verify("rollout-failed", ["--wait", "600"]);
    expect(failed).toMatchObject({ code: 1, sleeps: [], stderr: "verify: stopped waiting: ECS deployment cannot pass by waiting\n" });
    expect(deployment(failed)).toEqual([
      [
        "ECS deployment",
        "FAIL",
        "production-ml-worker:4: FAILED (started 2025-10-21T11:55:00Z; ACTIVE (old): production-ml-worker:3, 1 running): ECS deployment circuit breaker: tasks failed to start.",
        "the deployment failed: see ECS stopped tasks for why, fix it and deploy again",
      ],
    ]);
    // The stack's revision rolling out over the old one: pending, and --wait says what it waits on.
    const over = await verify("rolling-over", ["--wait", "15"]);
    expect(over).toMatchObject({ code: 1, sleeps: [15_000] });
    expect(over.stderr).toBe(
      "verify: poll 1: 19 of 20 pass; waiting on ECS deployment (production-ml-worker:4: IN_PROGRESS, 0 of 1 task(s) running, 1 pending (started…); next poll in 15 s, 15 s left\n" +
        "verify: 15 s are up: ECS deployment still fail\n",
    );
    expect(deployment(over)).toEqual([
      [
        "ECS deployment",
        "FAIL",
        "production-ml-worker:4: IN_PROGRESS, 0 of 1 task(s) running, 1 pending (started 2025-10-21T11:55:00Z; ACTIVE (old): production-ml-worker:3, 1 running)",
        "the deployment is still rolling out to production-ml-worker:4 (the stack's family, ACTIVE): run with --wait",
      ],
    ]);
  });

  // A queue of the stack's name was judged by its name alone: one in another account or region passed.
  it("a queue of the stack's name in another account and region: the SQS rows and the task definition row name both", async () => {
    const sqs = await verify("queue-elsewhere", ["--wait", "600"]);
    expect(sqs).toMatchObject({ code: 1, sleeps: [], stderr: "verify: stopped waiting: SQS queue, SQS redrive cannot pass by waiting\n" });
    expect(failing(sqs.stdout)).toEqual([
      [
        "SQS queue",
        "FAIL",
        "production-ml-worker: 0 visible, 1 in flight; not the stack's queue: https://sqs.us-west-2.amazonaws.com/111122223333/production-ml-worker " +
          "(arn:aws:sqs:us-west-2:111122223333:production-ml-worker): account 111122223333, not 474221740916 (URL and ARN); region us-west-2, not us-east-1 (URL and ARN)",
        "the stack's queue is production-ml-worker in account 474221740916, region us-east-1: check the credentials' account and the endpoint verify calls, then deploy the stack (npm run deploy)",
      ],
      // Its redrive points at that account's DLQ, not the stack's.
      [
        "SQS redrive",
        "FAIL",
        "production-ml-worker → arn:aws:sqs:us-west-2:111122223333:production-ml-worker-dlq after 3 receives",
        "the queue's redrive policy must point at arn:aws:sqs:us-east-1:474221740916:production-ml-worker-dlq after 3 receives: deploy the stack",
      ],
    ]);
    const td = await verify("queue-url-elsewhere", ["--wait", "600"]);
    expect(td).toMatchObject({ code: 1, sleeps: [], stderr: "verify: stopped waiting: task definition cannot pass by waiting\n" });
    expect(failing(td.stdout)).toEqual([
      [
        "task definition",
        "FAIL",
        "production-ml-worker:4 (registered 2025-10-21T11:29:48Z by arn:aws:iam::474221740916:user/oncall) differs from the stack's in 1 field(s): " +
          "ml-worker.environment.ML_WORKER_SQS_QUEUE_URL: the stack's https://sqs.us-east-1.amazonaws.com/474221740916/production-ml-worker (at apply: aws_sqs_queue.ml_worker_ml_worker.url), " +
          'live "https://sqs.us-west-2.amazonaws.com/111122223333/production-ml-worker" (account 111122223333, not 474221740916; region us-west-2, not us-east-1)',
        TASK_DEFINITION_TODO,
      ],
    ]);
  });

  // A role was judged by the name at the end of its ARN alone: the stack's roles in another account passed.
  it("the task and execution roles of the stack's names in another account: the task definition row names both ARNs, and nothing else changes", async () => {
    const r = await verify("role-elsewhere", ["--wait", "600"]);
    expect(r).toMatchObject({ code: 1, sleeps: [], stderr: "verify: stopped waiting: task definition cannot pass by waiting\n" });
    expect(failing(r.stdout)).toEqual([
      [
        "task definition",
        "FAIL",
        "production-ml-worker:4 (registered 2025-10-21T11:29:48Z by arn:aws:iam::474221740916:user/deployer) differs from the stack's in 2 field(s): " +
          "executionRoleArn: the stack's arn:aws:iam::474221740916:role/zivohealth-production-ecs-task-execution (at apply: aws_iam_role.iam_ecs_task_execution.arn), " +
          'live "arn:aws:iam::111122223333:role/zivohealth-production-ecs-task-execution" (account 111122223333, not 474221740916); ' +
          "taskRoleArn: the stack's arn:aws:iam::474221740916:role/zivohealth-production-ecs-task (at apply: aws_iam_role.iam_ecs_task.arn), " +
          'live "arn:aws:iam::111122223333:role/zivohealth-production-ecs-task" (account 111122223333, not 474221740916)',
        TASK_DEFINITION_TODO,
      ],
    ]);
    const others = (stdout: string) => rows(stdout).filter((x) => x[0] !== "task definition");
    expect(others(r.stdout)).toEqual(others(HEALTHY_TABLE));
  });

  // A running task's overrides were not compared: one started with another command, mode and role passed every row.
  it("a running task started with overrides: the ECS tasks row names the task, container and fields, never a value", async () => {
    const r = await verify("task-overrides", ["--wait", "600"]);
    expect(r).toMatchObject({ code: 1, sleeps: [], stderr: "verify: stopped waiting: ECS tasks cannot pass by waiting\n" });
    const stop = "a task started with overrides (aws ecs run-task or start-task --overrides) runs something other than the task definition: " +
      "stop it (aws ecs stop-task --cluster production-ml-worker-cluster --task 3f9c2b7e5d1a4c8e9b6f0a2d4e6c8b1a), and start none that way in the service's group";
    const overrides =
      "running with overrides: task 3f9c2b7e5d1a4c8e9b6f0a2d4e6c8b1a: ml-worker.command (4 argument(s); --json has them), " +
      "ml-worker.environment ML_WORKER_MODE, ML_WORKER_BATCH_SIZE, taskRoleArn arn:aws:iam::474221740916:role/zivohealth-production-oncall-debug";
    expect(failing(r.stdout)).toEqual([["ECS tasks", "FAIL", `running 1 of desired 1; health 1 × HEALTHY (sqs mode, min 0); ${overrides}`, stop]]);
    // The overridden values are in --json's facts, not in the table.
    expect(r.stdout).not.toContain("aggregation");
    expect(r.stdout).not.toContain("--once");
    // Beside another finding: both said, and the override still stops --wait.
    const t = targetOf("production", PRODUCTION);
    const tasks = JSON.parse(fs.readFileSync(path.join(FIXTURES, "task-overrides", "ecs.DescribeTasks.json"), "utf8")).tasks.slice(0, 1);
    const service = { serviceName: "production-ml-worker", status: "ACTIVE", desiredCount: 2, runningCount: 1, deployments: [] };
    const judged = judge(
      { service: { ok: true, value: service }, runningTasks: { ok: true, value: tasks }, stoppedTasks: { ok: true, value: [] }, undescribedTasks: [] },
      { target: t, account: "474221740916", now: new Date(NOW), made: new Set(["ecs:DescribeServices", "ecs:ListTasks", "ecs:DescribeTasks"]) },
    );
    expect(judged.find((x) => x.check === "ECS tasks")).toEqual({
      check: "ECS tasks",
      pass: false,
      seen: `running 1 of desired 2; health 1 × HEALTHY (sqs mode, min 0); ${overrides}`,
      todo: `tasks are starting, or cannot start: see ECS stopped tasks, then run with --wait; ${stop}`,
      settles: false,
      requests: ["ecs:DescribeServices", "ecs:ListTasks", "ecs:DescribeTasks"],
    });
  });

  // The task-overrides recording's overridden task and the healthy one, judged in process with other overrides or status.
  // Their times as the SDK gives them (Dates, from the wire's epoch seconds).
  const tasksOf = (scenario: string) =>
    JSON.parse(fs.readFileSync(path.join(FIXTURES, scenario, "ecs.DescribeTasks.json"), "utf8"), (k, v) => (k.endsWith("At") && typeof v === "number" ? new Date(v * 1000) : v)).tasks;
  const OVERRIDDEN = "3f9c2b7e5d1a4c8e9b6f0a2d4e6c8b1a";
  const judgeTasks = (running: object[], stopped: object[], runningCount = 1) =>
    judge(
      { service: { ok: true, value: { serviceName: "production-ml-worker", status: "ACTIVE", desiredCount: 1, runningCount, deployments: [] } }, runningTasks: { ok: true, value: running }, stoppedTasks: { ok: true, value: stopped }, undescribedTasks: [] },
      { target: targetOf("production", PRODUCTION), account: "474221740916", now: new Date(NOW), made: new Set(["ecs:DescribeServices", "ecs:ListTasks", "ecs:DescribeTasks"]) },
    ).filter((x) => x.check === "ECS tasks" || x.check === "ECS stopped tasks");
  const STOP_OVERRIDDEN =
    "a task started with overrides (aws ecs run-task or start-task --overrides) runs something other than the task definition: " +
    `stop it (aws ecs stop-task --cluster production-ml-worker-cluster --task ${OVERRIDDEN}), and start none that way in the service's group`;

  // cpu and memory overrides were not judged: a task started with another task size or container limits passed.
  it("a running task started with cpu or memory overrides (the task's, a container's): the ECS tasks row names each with its number", () => {
    const [task] = tasksOf("task-overrides");
    task.overrides = {
      containerOverrides: [{ name: "ml-worker", cpu: 256, memory: 8192, memoryReservation: 4096, resourceRequirements: [{ type: "GPU", value: "1" }] }],
      inferenceAcceleratorOverrides: [{ deviceName: "device1", deviceType: "eia2.medium" }],
      cpu: "2048",
      memory: "8192",
      ephemeralStorage: { sizeInGiB: 100 },
    };
    expect(judgeTasks([task], [])[0]).toEqual({
      check: "ECS tasks",
      pass: false,
      seen:
        "running 1 of desired 1; health 1 × HEALTHY (sqs mode, min 0); running with overrides: " +
        `task ${OVERRIDDEN}: ml-worker.cpu 256, ml-worker.memory 8192, ml-worker.memoryReservation 4096, ml-worker.resourceRequirements GPU 1, cpu 2048, memory 8192, ephemeralStorage 100 GiB, inferenceAcceleratorOverrides device1 eia2.medium`,
      todo: STOP_OVERRIDDEN,
      settles: false,
      requests: ["ecs:DescribeServices", "ecs:ListTasks", "ecs:DescribeTasks"],
    });
    // One field alone is enough: the task's memory.
    task.overrides = { containerOverrides: [{ name: "ml-worker" }], inferenceAcceleratorOverrides: [], memory: "4096" };
    expect(judgeTasks([task], [])[0].seen).toBe(`running 1 of desired 1; health 1 × HEALTHY (sqs mode, min 0); running with overrides: task ${OVERRIDDEN}: memory 4096`);
    // Beside fewer tasks listed than ECS counts (a row that waits): the override named too, and it stops --wait.
    expect(judgeTasks([task], [], 2)[0]).toMatchObject({
      pass: false,
      seen: `running 2 of desired 1; health 1 × HEALTHY (sqs mode, min 0); the tasks' health not checked: ecs:ListTasks listed 1 running task(s) of the 2 ECS counts; running with overrides: task ${OVERRIDDEN}: memory 4096`,
      todo: `ECS's counts and its task list disagree for a moment as tasks start and stop: run verify again, or with --wait; ${STOP_OVERRIDDEN}`,
      settles: false,
    });
  });

  // Stopped tasks' overrides were not judged: one told to stop (stop-task, as the row says) still ran with them for up to
  // the stop timeout (30 s unset, up to 120 s) and the row passed; one that stopped for a failure was read as the task definition's.
  it("a task started with overrides and told to stop, still running: the ECS tasks row fails until it stops (--wait waits); stopped, the stopped row names its overrides", () => {
    const [overridden] = tasksOf("task-overrides");
    const [healthy] = tasksOf("healthy");
    const other = { ...healthy, taskArn: healthy.taskArn.replace(OVERRIDDEN, "5b7d9f1a3c5e4b6d8f0a2c4e6b8d0f1a") };
    const stopping = { ...overridden, desiredStatus: "STOPPED", lastStatus: "RUNNING", stopCode: "UserInitiated", stoppedReason: "Task stopped by user", stoppingAt: new Date(NOW - 30_000) };
    const fields = "ml-worker.command (4 argument(s); --json has them), ml-worker.environment ML_WORKER_MODE, ML_WORKER_BATCH_SIZE, taskRoleArn arn:aws:iam::474221740916:role/zivohealth-production-oncall-debug";
    expect(judgeTasks([other], [stopping])).toEqual([
      {
        check: "ECS tasks",
        pass: false,
        seen: `running 1 of desired 1; health 1 × HEALTHY (sqs mode, min 0); told to stop, still running with overrides: task ${OVERRIDDEN}: ${fields}`,
        todo: `a task started with overrides was told to stop and still runs (ECS stops it within the container's stop timeout): run with --wait`,
        settles: true,
        requests: ["ecs:DescribeServices", "ecs:ListTasks", "ecs:DescribeTasks"],
      },
      {
        check: "ECS stopped tasks",
        pass: true,
        seen: `1 × stopped by a user or an API call since the deployment started; started with overrides: task ${OVERRIDDEN}: ${fields}`,
        todo: "",
        settles: false,
        requests: ["ecs:ListTasks", "ecs:DescribeTasks"],
      },
    ]);
    // Stopped out of memory with a smaller memory: the failure still fails the row, said to be the overridden task's.
    const oom = {
      ...overridden,
      overrides: { containerOverrides: [{ name: "ml-worker" }], inferenceAcceleratorOverrides: [], memory: "1024" },
      desiredStatus: "STOPPED",
      lastStatus: "STOPPED",
      stopCode: "EssentialContainerExited",
      stoppedReason: "Essential container in task exited",
      containers: [{ ...overridden.containers[0], lastStatus: "STOPPED", exitCode: 137, reason: "OutOfMemoryError: Container killed due to memory usage" }],
    };
    const [tasksRow, stoppedRow] = judgeTasks([other], [oom]);
    expect(tasksRow).toMatchObject({ pass: true, seen: "running 1 of desired 1; health 1 × HEALTHY (sqs mode, min 0)" });
    expect(stoppedRow).toMatchObject({
      pass: false,
      seen:
        "1 of 1 stopped since the deployment: 1 × out of memory; last: Essential container in task exited | OutOfMemoryError: Container killed due to memory usage (exit 137); " +
        `started with overrides: task ${OVERRIDDEN}: memory 1024`,
      todo:
        `task ${OVERRIDDEN}, started with overrides (aws ecs run-task or start-task --overrides), stopped for a failure: ` +
        "its overrides (named) may be the cause, not the task definition: start none that way in the service's group",
      settles: false,
    });
  });

  // A revision of the stack's family registered by hand (ACTIVE, the same image) passed every row.
  it("a revision of the stack's family that is not the stack's: the task definition row names each field, and nothing else changes", async () => {
    const r = await verify("task-definition-drift", ["--wait", "600"]);
    // A wrong revision does not fix itself: --wait stops at once.
    expect(r).toMatchObject({ code: 1, sleeps: [], stderr: "verify: stopped waiting: task definition cannot pass by waiting\n" });
    expect(failing(r.stdout)).toEqual([
      [
        "task definition",
        "FAIL",
        "production-ml-worker:4 (registered 2025-10-21T11:29:48Z by arn:aws:iam::474221740916:user/oncall) differs from the stack's in 3 field(s): " +
          'memory: the stack\'s "3072", live "4096"; ' +
          'ml-worker.environment.ML_WORKER_BATCH_SIZE: the stack\'s "1", live "10"; ' +
          'ml-worker.logConfiguration.options.awslogs-group: the stack\'s "/ecs/production-ml-worker", live "/ecs/staging-ml-worker"',
        TASK_DEFINITION_TODO,
      ],
    ]);
    const others = (stdout: string) => rows(stdout).filter((x) => x[0] !== "task definition");
    expect(others(r.stdout)).toEqual(others(HEALTHY_TABLE));
  });

  it("an environment value named like a secret differs: the row names it, never either value (table and --json)", async () => {
    const table = await verify("secret-env-drift");
    const json = await verify("secret-env-drift", ["--json"]);
    const seen =
      "production-ml-worker:4 (registered 2025-10-21T11:29:48Z by arn:aws:iam::474221740916:user/oncall) differs from the stack's in 2 field(s): " +
      "ml-worker.environment.SECRET_KEY: the stack's (redacted by verify), live (redacted by verify); " +
      "ml-worker.environment.SENTRY_KEY: the stack's (none), live (redacted by verify)";
    expect([table.code, failing(table.stdout)]).toEqual([1, [["task definition", "FAIL", seen, TASK_DEFINITION_TODO]]]);
    expect(JSON.parse(json.stdout).checks.filter((c: any) => c.result === "FAIL")).toEqual([
      { check: "task definition", result: "FAIL", seen, todo: TASK_DEFINITION_TODO, settles: false, requests: ["ecs:DescribeServices", "ecs:DescribeTaskDefinition"] },
    ]);
    // Neither the stack's value nor the live ones, anywhere in either report.
    for (const value of ["ml-worker-secret-key-not-used", "Hx9-live-signing-secret-do-not-print", "sentry-ingest-7f3a9c2e"]) {
      expect(table.stdout).not.toContain(value);
      expect(json.stdout).not.toContain(value);
    }
  });

  // The user's report: latest pushed again, the service not rolled; image in ECR passed on the new digest while the task ran the old one.
  it("a tag pushed again after the running tasks pulled it: they run an image the tag no longer names", async () => {
    const r = await verify("tag-moved", ["--wait", "600"]);
    expect(r).toMatchObject({ code: 1, sleeps: [], stderr: "verify: stopped waiting: image in ECR cannot pass by waiting\n" });
    expect(failing(r.stdout)).toEqual([
      [
        "image in ECR",
        "FAIL",
        "zivohealth-production-ml-worker:latest = sha256:9b2e7d41a0c3…, pushed 2025-10-21T11:50:12Z; 1 of 1 running task(s) run 1 × sha256:4f53cda18c2b…, pulled before the tag moved",
        "the tag moved after the tasks pulled it: roll them onto it (aws ecs update-service --cluster production-ml-worker-cluster --service production-ml-worker --force-new-deployment), then run verify --wait 600",
      ],
    ]);
  });

  it("more stopped tasks than a page: every page listed, every task described (100 a request), the one out of memory found", async () => {
    const r = await verify("many-stopped");
    expect(r.code).toBe(1);
    expect(failing(r.stdout).map((x) => [x[0], x[2]])).toEqual([
      [
        "ECS stopped tasks",
        "1 of 101 stopped since the deployment: 1 × out of memory; last: Essential container in task exited \\| OutOfMemoryError: Container killed due to memory usage (exit 137)",
      ],
    ]);
    const listed = r.requests.filter((q) => q.operation === "ecs:ListTasks" && q.key === "STOPPED").map((q) => q.input.nextToken);
    expect(listed).toEqual([undefined, "page-2"]);
    expect(r.requests.filter((q) => q.operation === "ecs:DescribeTasks").map((q) => (q.input.tasks as string[]).length)).toEqual([100, 2]);
  });

  it("stopped tasks past the pages verify reads: not checked, a failure", async () => {
    const r = await verify("stopped-endless");
    expect(rows(r.stdout).find((x) => x[0] === "ECS stopped tasks")).toEqual([
      "ECS stopped tasks",
      "FAIL",
      "not checked: more stopped tasks listed than verify reads (20 pages of ecs:ListTasks); those past them were not judged",
      "see the service's events (aws ecs describe-services) for why tasks keep stopping",
    ]);
    expect(r.requests.filter((q) => q.operation === "ecs:ListTasks" && q.key === "STOPPED")).toHaveLength(20);
  });

  it("running tasks past the pages verify reads, or fewer listed than ECS counts: their health and digest not checked, a failure", async () => {
    const endless = await verify("running-endless");
    expect(endless.code).toBe(1);
    const past = "more running tasks listed than verify reads (20 pages of ecs:ListTasks); those past them were not read";
    expect(failing(endless.stdout)).toEqual([
      [
        "ECS tasks",
        "FAIL",
        `running 1 of desired 1; health 1 × HEALTHY (sqs mode, min 0); the tasks' health not checked: ${past}`,
        "see the service's tasks (aws ecs list-tasks --desired-status RUNNING): far more than the service's maximum",
      ],
      [
        "image in ECR",
        "FAIL",
        `zivohealth-production-ml-worker:latest = sha256:4f53cda18c2b…, pushed 2025-10-21T11:12:05Z; the running tasks' digest not checked: ${past}`,
        "see the service's tasks (aws ecs list-tasks --desired-status RUNNING)",
      ],
    ]);
    expect(endless.requests.filter((q) => q.operation === "ecs:ListTasks" && q.key === "RUNNING")).toHaveLength(20);

    // Scaling in: ECS still counts a task told to stop as running, and lists it under STOPPED: read there, it is not missing.
    const scalingIn = await verify("scaling-in");
    expect(scalingIn.code).toBe(0);
    expect(rows(scalingIn.stdout).filter((x) => ["ECS tasks", "ECS stopped tasks", "image in ECR"].includes(x[0]))).toEqual([
      ["ECS tasks", "PASS", "running 2 of desired 1; health 1 × HEALTHY (sqs mode, min 0)", ""],
      ["ECS stopped tasks", "PASS", "1 × stopped by the scheduler (scale-in or deployment) since the deployment started", ""],
      ["image in ECR", "PASS", "zivohealth-production-ml-worker:latest = sha256:4f53cda18c2b…, pushed 2025-10-21T11:12:05Z", ""],
    ]);

    const unlisted = await verify("running-unlisted");
    expect(unlisted.code).toBe(1);
    const disagree = "ECS's counts and its task list disagree for a moment as tasks start and stop: run verify again, or with --wait";
    expect(failing(unlisted.stdout)).toEqual([
      ["ECS tasks", "FAIL", "running 1 of desired 1 (sqs mode, min 0); the tasks' health not checked: ecs:ListTasks listed 0 running task(s) of the 1 ECS counts", disagree],
      [
        "image in ECR",
        "FAIL",
        "zivohealth-production-ml-worker:latest = sha256:4f53cda18c2b…, pushed 2025-10-21T11:12:05Z; the running tasks' digest not checked: read for 0 of the 1 running task(s) ECS counts",
        disagree,
      ],
    ]);
  });

  it("listed tasks ECS could not describe (DescribeTasks' failures): named with arn and reason, and no row passes without them", async () => {
    const r = await verify("tasks-undescribed", ["--json"]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    const missing = "MISSING: a task ECS no longer holds, such as one stopped about an hour ago, forgotten between the two calls";
    const then = "run verify again, or with --wait; if it persists, aws ecs describe-tasks --cluster production-ml-worker-cluster --tasks <arn> says why";
    expect(report.checks.filter((c: any) => c.result === "FAIL").map((c: any) => [c.check, c.seen, c.todo, c.settles])).toEqual([
      [
        "ECS tasks",
        "running 1 of desired 1 (sqs mode, min 0); the tasks' health not checked: ecs:DescribeTasks could not describe 1 of 1 running task(s): " +
          "arn:aws:ecs:us-east-1:474221740916:task/production-ml-worker-cluster/3f9c2b7e5d1a4c8e9b6f0a2d4e6c8b1a (MISSING)",
        `ECS listed the task but did not describe it (${missing}): ${then}`,
        true,
      ],
      [
        "ECS stopped tasks",
        "not checked: ecs:DescribeTasks could not describe 2 of 3 stopped task(s): arn:aws:ecs:us-east-1:474221740916:task/production-ml-worker-cluster/c5d7e9f1a3b54c6d8e0f2a4b6c8d0e1f (MISSING), " +
          "arn:aws:ecs:us-east-1:474221740916:task/production-ml-worker-cluster/d2f4a6c8e0b14d3f5a7c9e1b3d5f7a9c (not in the answer); " +
          "of those described, none since the deployment started; 1 started before this deployment, not judged",
        `ECS listed the tasks but did not describe them (${missing}; not in the answer: ECS returned neither the task nor a failure for it): ${then}`,
        true,
      ],
      [
        "image in ECR",
        "zivohealth-production-ml-worker:latest = sha256:4f53cda18c2b…, pushed 2025-10-21T11:12:05Z; the running tasks' digest not checked: ecs:DescribeTasks could not describe 1 of 1 running task(s): " +
          "arn:aws:ecs:us-east-1:474221740916:task/production-ml-worker-cluster/3f9c2b7e5d1a4c8e9b6f0a2d4e6c8b1a (MISSING)",
        `ECS listed the task but did not describe it (${missing}): ${then}`,
        true,
      ],
    ]);
    // The facts keep every task not described, with the list it came from and ECS's reason.
    expect(report.facts.undescribedTasks).toEqual([
      { arn: "arn:aws:ecs:us-east-1:474221740916:task/production-ml-worker-cluster/3f9c2b7e5d1a4c8e9b6f0a2d4e6c8b1a", status: "RUNNING", reason: "MISSING" },
      { arn: "arn:aws:ecs:us-east-1:474221740916:task/production-ml-worker-cluster/c5d7e9f1a3b54c6d8e0f2a4b6c8d0e1f", status: "STOPPED", reason: "MISSING" },
      { arn: "arn:aws:ecs:us-east-1:474221740916:task/production-ml-worker-cluster/d2f4a6c8e0b14d3f5a7c9e1b3d5f7a9c", status: "STOPPED", reason: "not in the answer" },
    ]);
    expect(r.requests.filter((q) => q.operation === "ecs:DescribeTasks").map((q) => (q.input.tasks as string[]).length)).toEqual([4]);
  });

  it("the API host's records hold another address; the host stopped", async () => {
    const stale = await verify("dns-stale");
    expect(failing(stale.stdout)).toEqual([
      [
        "DNS records",
        "FAIL",
        "zivohealth.ai → 54.210.7.33; api.zivohealth.ai → 54.210.7.33; the host's public IP is 3.91.20.17",
        "the records must hold the host's public IP: deploy the stack (the route53 module takes aws_instance.compute_host's address)",
      ],
    ]);
    const stopped = await verify("host-stopped");
    expect(failing(stopped.stdout)).toEqual([
      ["API host", "FAIL", "i-0c7d3f9a1b5e2d8c4 stopped, t2.small, public IP none", "start the instance (aws ec2 start-instances), or deploy the stack"],
      ["DNS records", "FAIL", "not checked: no running API host with a public IP", "fix the check it depends on first"],
    ]);
  });

  // Weighted records: verify reads the first A set of a name; the one holding the host's address passed while its sibling held another.
  it("a DNS record with a routing policy (weighted, ...): not the stack's simple record, a failure", async () => {
    const r = await verify("dns-weighted");
    expect(r.code).toBe(1);
    expect(failing(r.stdout)).toEqual([
      [
        "DNS records",
        "FAIL",
        "api.zivohealth.ai: a record with a routing policy (set blue), not the stack's simple record; the others of that name not read; the host's public IP is 3.91.20.17",
        "the records must hold the host's public IP: deploy the stack (the route53 module takes aws_instance.compute_host's address)",
      ],
    ]);
  });

  it("throttling: retried by the SDK's own retry strategy, then reported", async () => {
    const r = await verify("throttling", ["--json"]);
    expect(r.code).toBe(1);
    const attempts = (op: string) => r.requests.filter((q) => q.operation === op).map((q) => q.attempt);
    // Throttled twice, then answered: the check passes.
    expect(attempts("ecs:DescribeServices")).toEqual(["attempt=1; max=3", "attempt=2; max=3", "attempt=3; max=3"]);
    // Throttled every time: reported after three attempts (awsJson and ec2Query errors alike).
    expect(attempts("ssm:GetParameter")).toEqual(["attempt=1; max=3", "attempt=2; max=3", "attempt=3; max=3"]);
    expect(attempts("ec2:DescribeInstances")).toEqual(["attempt=1; max=3", "attempt=2; max=3", "attempt=3; max=3"]);
    const report = JSON.parse(r.stdout);
    const check = (name: string) => report.checks.find((c: any) => c.check === name);
    expect(check("ECS service")).toMatchObject({ result: "PASS", seen: "production-ml-worker: ACTIVE" });
    expect(check("SSM DB host")).toEqual({
      check: "SSM DB host",
      result: "FAIL",
      seen: "ssm:GetParameter failed: ThrottlingException: Rate exceeded (3 attempts)",
      todo: "AWS throttled ssm:GetParameter (the SDK retried it 2 time(s)): run verify again in a minute, or with --wait",
      settles: true,
      requests: ["ssm:GetParameter"],
    });
    expect(check("API host")).toMatchObject({ result: "FAIL", seen: "ec2:DescribeInstances failed: RequestLimitExceeded: Request limit exceeded. (3 attempts)" });
    expect(check("DNS records")).toMatchObject({ result: "FAIL", seen: "not checked: no running API host with a public IP" });
    expect(report.counts).toEqual({ pass: 17, fail: 3 });
    expect(report.requests.find((q: any) => q.operation === "ecs:DescribeServices")).toEqual({ operation: "ecs:DescribeServices", about: "production-ml-worker", attempts: 3 });
    expect(report.requests.find((q: any) => q.operation === "ssm:GetParameter")).toEqual({
      operation: "ssm:GetParameter",
      about: "/zivohealth/production/db/host",
      attempts: 3,
      error: "ThrottlingException",
    });
  });

  it("no credentials: exit 2, said plainly, before any call", async () => {
    credentials(false);
    const r = await verify("healthy");
    expect(r).toMatchObject({ code: 2, stdout: "", requests: [] });
    expect(r.stderr).toBe(
      "error: no AWS credentials: the SDK's default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE and ~/.aws files, SSO, web identity, " +
        "the container or instance role) found none (Could not load credentials from any providers). verify reads live AWS with your credentials; it made no call.\n",
    );
  });

  it("a VERIFY_AWS_ENDPOINT that is not an http(s) URL: exit 2, naming it and what it takes, before any call", async () => {
    for (const value of ["localhost:4566", "ftp://127.0.0.1:4566", "not a url"]) {
      const err: string[] = [];
      const code = await main([], { stdout: () => undefined, stderr: (t) => err.push(t), cwd: ROOT }, { catalog: PRODUCTION, env: { [ENDPOINT_VARIABLE]: value } });
      expect([code, err.join("")]).toEqual([
        2,
        `error: VERIFY_AWS_ENDPOINT must be an http:// or https:// URL (an endpoint that answers for AWS, e.g. http://127.0.0.1:4566); got ${JSON.stringify(value)}\n`,
      ]);
    }
  });

  it("credentials AWS refuses: exit 2 after the one identity call", async () => {
    const r = await verify("refused");
    expect(r).toMatchObject({ code: 2, stdout: "" });
    expect(operations(r)).toEqual(["sts:GetCallerIdentity"]);
    expect(r.stderr).toBe("error: AWS refused the credentials (InvalidClientTokenId: The security token included in the request is invalid.); verify made no other call.\n");
  });

  it("AWS out of reach: exit 2 after the identity call's retries", async () => {
    const closed = await startAwsServer("healthy");
    await closed.close(); // a port nothing listens on
    const err: string[] = [];
    const code = await main([], { stdout: () => undefined, stderr: (t) => err.push(t), cwd: ROOT }, { catalog: PRODUCTION, env: { [ENDPOINT_VARIABLE]: closed.endpoint }, retryDelayMs: 0 });
    expect([code, err.join("")]).toEqual([
      2,
      `error: AWS could not be reached (sts:GetCallerIdentity failed: ECONNREFUSED: connect ECONNREFUSED ${closed.endpoint.replace("http://", "")} (3 attempts)); verify made no other call.\n`,
    ]);
  });

  it("sends nothing but reads, in every recording", async () => {
    const scenarios = fs.readdirSync(FIXTURES);
    const seen = new Set<string>();
    for (const s of scenarios) for (const op of operations(await verify(s))) seen.add(op);
    for (const op of seen) {
      expect(READ_OPERATIONS).toContain(op);
      expect(op.split(":")[1]).toMatch(/^(Describe|List|Get)[A-Za-z]+$|^FilterLogEvents$/);
    }
    expect([...seen].sort()).toEqual([...READ_OPERATIONS].sort());
    // And the code cannot send anything else: the only commands it names are reads.
    const source = fs.readFileSync(path.join(ROOT, "commands/verify/aws.ts"), "utf8");
    const commands = [...source.matchAll(/\b([A-Z][A-Za-z]+)Command\b/g)].map((m) => m[1]);
    expect(commands.length).toBeGreaterThan(0);
    for (const c of commands) expect(c).toMatch(/^(Describe|List|Get)[A-Za-z]+$|^FilterLogEvents$/);
  });

  it("each check lists the requests its facts come from", () => {
    expect(Object.keys(REQUESTS)).toEqual([...CHECKS]);
    for (const ops of Object.values(REQUESTS)) for (const op of ops) expect(READ_OPERATIONS).toContain(op);
  });
});

/**
 * For each read, the rows that cannot pass when that read alone fails (healthy recording): the
 * rows whose verdict needs what it returns, directly or through a read it leads to. Written out
 * here, not taken from REQUESTS, so that a table in the code cannot excuse a row.
 */
const NEEDS: Record<(typeof READ_OPERATIONS)[number], string[]> = {
  "sts:GetCallerIdentity": ["image path", "SSM parameters", "SQS queue", "SQS DLQ"],
  "ecs:DescribeClusters": ["ECS cluster"],
  "ecs:DescribeServices": ["ECS service", "ECS tasks", "ECS deployment", "ECS stopped tasks", "task definition", "image path", "image in ECR", "worker DB host", "SSM parameters"],
  "ecs:DescribeTaskDefinition": ["ECS deployment", "task definition", "image path", "image in ECR", "worker DB host", "SSM parameters"],
  "ecs:ListTasks": ["ECS tasks", "ECS stopped tasks", "image in ECR"],
  "ecs:DescribeTasks": ["ECS tasks", "ECS stopped tasks", "image in ECR"],
  "ecr:DescribeImages": ["image in ECR"],
  "ssm:GetParameter": ["SSM DB host"],
  "ssm:DescribeParameters": ["SSM parameters"],
  "sqs:GetQueueUrl": ["SQS queue", "SQS DLQ", "SQS redrive", "SQS DLQ empty"],
  "sqs:GetQueueAttributes": ["SQS queue", "SQS DLQ", "SQS redrive", "SQS DLQ empty"],
  "cloudwatch:GetMetricStatistics": [], // read only when the DLQ holds messages (below)
  "cloudwatch:DescribeAlarms": ["CloudWatch alarms"],
  "logs:DescribeLogGroups": ["log group", "log events"],
  "logs:FilterLogEvents": ["log events"],
  "ec2:DescribeInstances": ["API host", "DNS records"],
  "route53:ListHostedZonesByName": ["DNS records"],
  "route53:ListResourceRecordSets": ["DNS records"],
};

describe("one read fails (denied, an error, no answer): no row passes on what it did not read", () => {
  const FAILURES: [FailureKind, RegExp][] = [
    ["denied", /failed: (AccessDenied|UnauthorizedOperation)\w*: User: arn:aws:iam::474221740916:user\/deployer is not authorized to perform: [a-z0-9]+:\w+ \(1 attempt\)/],
    ["error", /failed: (InternalFailure|InternalError): An internal error occurred\. \(3 attempts\)/],
    ["reset", /failed: TimeoutError: socket hang up \(3 attempts\)/],
  ];
  let base: Record<string, string[][]>;
  beforeAll(async () => {
    credentials(true); // beforeEach's keys are not set yet
    base = { healthy: rows((await verify("healthy")).stdout), "scaled-to-zero": rows((await verify("scaled-to-zero")).stdout) };
  });

  /** Runs `scenario` with `operation` failing; checks the rows that pass are untouched and every other says why; returns the failing checks. */
  async function failingWithout(scenario: string, operation: string, kind: FailureKind, said: RegExp): Promise<string[]> {
    const r = await verify(scenario, [], PRODUCTION, NOW, { fail: { operation, kind } });
    // The SDK retries an internal error and a dropped connection; an access denial is final.
    const attempts = r.requests.filter((q) => q.operation === operation).map((q) => q.attempt);
    const calls = attempts.filter((a) => a === "attempt=1; max=3").length;
    expect(attempts.filter((a) => a === "attempt=3; max=3").length).toBe(kind === "denied" ? 0 : calls);
    const table = rows(r.stdout);
    expect(table.map((x) => x[0])).toEqual([...CHECKS]);
    for (const row of table) {
      const before = base[scenario].find((x) => x[0] === row[0])!;
      // A row that passes reads the same as when every read answered: it lost nothing.
      if (row[1] === "PASS") expect(row).toEqual(before);
      // A row that fails says which read failed, or that it was not checked.
      else if (before[1] === "PASS") expect(row[2]).toMatch(new RegExp(`${said.source}|not checked`, "i"));
    }
    expect(r.code).toBe(table.some((x) => x[1] === "FAIL") ? 1 : 0);
    return table.filter((x) => x[1] === "FAIL").map((x) => x[0]);
  }

  // Every read denied; an error and a dropped connection for one read of each service: the rows see a failed
  // read alike whatever failed it, and what differs (the retries, the error's wire format) is the service's.
  const firstOfEachService = READ_OPERATIONS.filter((op, i) => READ_OPERATIONS.findIndex((o) => o.split(":")[0] === op.split(":")[0]) === i);
  const operationsFor = (kind: FailureKind) =>
    kind === "denied" ? [...READ_OPERATIONS] : firstOfEachService.filter((op) => !(kind === "reset" && op === "sts:GetCallerIdentity"));
  for (const [kind, said] of FAILURES) {
    it.each(operationsFor(kind).map((op) => [op]))(`${kind}: %s`, async (operation) => {
      const failing = await failingWithout("healthy", operation, kind, said);
      expect(failing).toEqual(CHECKS.filter((c) => NEEDS[operation].includes(c)));
    });
  }

  it("the caller identity unanswered: AWS out of reach, exit 2", async () => {
    const r = await verify("healthy", [], PRODUCTION, NOW, { fail: { operation: "sts:GetCallerIdentity", kind: "reset" } });
    expect([r.code, r.stdout]).toEqual([2, ""]);
    expect(r.stderr).toMatch(/^error: AWS could not be reached \(sts:GetCallerIdentity failed: .* \(3 attempts\)\); verify made no other call\.\n$/);
  });

  it("the reviewer's rows: ECS tasks without the tasks' health, SSM parameters without the running task definition", async () => {
    const tasks = await verify("healthy", [], PRODUCTION, NOW, { fail: { operation: "ecs:DescribeTasks", kind: "denied" } });
    const message = "User: arn:aws:iam::474221740916:user/deployer is not authorized to perform: ecs:DescribeTasks";
    expect(rows(tasks.stdout).find((x) => x[0] === "ECS tasks")).toEqual([
      "ECS tasks",
      "FAIL",
      `running 1 of desired 1 (sqs mode, min 0); the tasks' health not checked: ecs:DescribeTasks failed: AccessDeniedException: ${message} (1 attempt)`,
      'the caller may not call ecs:DescribeTasks: grant it the read permissions docs/verify.md lists ("Permissions")',
    ]);
    const definition = await verify("healthy", [], PRODUCTION, NOW, { fail: { operation: "ecs:DescribeTaskDefinition", kind: "denied" } });
    expect(rows(definition.stdout).find((x) => x[0] === "SSM parameters")).toEqual([
      "SSM parameters",
      "FAIL",
      "not checked: the running task definition's secrets (ecs:DescribeTaskDefinition failed: AccessDeniedException: " +
        "User: arn:aws:iam::474221740916:user/deployer is not authorized to perform: ecs:DescribeTaskDefinition (1 attempt)); " +
        "the stack's 3 exist: /zivohealth/production/db/user, /zivohealth/production/db/password, /zivohealth/production/openai/api_key",
      'the caller may not call ecs:DescribeTaskDefinition: grant it the read permissions docs/verify.md lists ("Permissions")',
    ]);
  });

  it("scaled to zero: the verdicts that rest on the service and the queue", async () => {
    expect(await failingWithout("scaled-to-zero", "ecs:DescribeServices", "denied", FAILURES[0][1])).toEqual(NEEDS["ecs:DescribeServices"].concat("log events").sort((a, b) => CHECKS.indexOf(a as any) - CHECKS.indexOf(b as any)));
    expect(await failingWithout("scaled-to-zero", "sqs:GetQueueAttributes", "denied", FAILURES[0][1])).toEqual(["ECS tasks", ...NEEDS["sqs:GetQueueAttributes"]]);
    // No task runs, so no health to read: the tasks' verdict stands on the service and the queue.
    expect(await failingWithout("scaled-to-zero", "ecs:DescribeTasks", "denied", FAILURES[0][1])).toEqual(["ECS stopped tasks"]);
  });

  it("messages in the DLQ, their age not read: said in the row", async () => {
    const r = await verify("dlq-messages", [], PRODUCTION, NOW, { fail: { operation: "cloudwatch:GetMetricStatistics", kind: "denied" } });
    expect(failing(r.stdout).map((x) => [x[0], x[2]])).toEqual([
      [
        "SQS DLQ empty",
        "production-ml-worker-dlq: 4 message(s) (4 visible, 0 in flight); age not read (cloudwatch:GetMetricStatistics failed: AccessDeniedException: " +
          "User: arn:aws:iam::474221740916:user/deployer is not authorized to perform: cloudwatch:GetMetricStatistics (1 attempt))",
      ],
      // The alarms come from another read.
      [
        "CloudWatch alarms",
        "production-ml-worker-dlq-messages: ALARM since 2025-10-21T11:55:00Z: Threshold Crossed: 1 datapoint [20.0 (21/10/25 11:50:00)] was greater than the threshold (1.0).; production-ml-worker-queue-depth-high: OK",
      ],
    ]);
  });

  it("--logs when the events were not read: says so, never 'no log lines'", async () => {
    const r = await verify("healthy", ["--logs", "5"], PRODUCTION, NOW, { fail: { operation: "logs:FilterLogEvents", kind: "denied" } });
    expect(r.stdout.split("\n").slice(-2)).toEqual([
      "Log lines of /ecs/production-ml-worker not read: logs:FilterLogEvents failed: AccessDeniedException: User: arn:aws:iam::474221740916:user/deployer is not authorized to perform: logs:FilterLogEvents (1 attempt)",
      "",
    ]);
  });
});

describe("--wait", () => {
  it("polls until every check passes, with progress on stderr", async () => {
    const r = await verify("rolling", ["--wait", "120"]);
    expect(r.code).toBe(0);
    expect(r.sleeps).toEqual([15_000]);
    expect(r.stderr).toBe(
      "verify: poll 1: 17 of 20 pass; waiting on ECS tasks (running 0 of desired 1, 1 pending (sqs mode, min 0)), " +
        "ECS deployment (production-ml-worker:4: IN_PROGRESS, 0 of 1 task(s) running, 1 pending (started…), " +
        "log events (none in the last 60 min; no task runs to write them); next poll in 15 s, 2 min left\n",
    );
    expect(r.stdout.split("\n")[0]).toBe(
      "verify production: 20 of 20 checks pass (us-east-1, account 474221740916, as arn:aws:iam::474221740916:user/deployer; read-only; 2025-10-21T12:00:15Z; 2 polls over 15 s)",
    );
    // The caller identity is read once; everything else on each poll.
    expect(operations(r).filter((o) => o === "sts:GetCallerIdentity")).toHaveLength(1);
    expect(operations(r).filter((o) => o === "ecs:DescribeServices")).toHaveLength(2);
  });

  it("asks for the caller identity again when it was throttled, then checks what needs the account", async () => {
    const first = await verify("identity-throttled");
    expect(first.code).toBe(1);
    expect(failing(first.stdout).map((x) => [x[0], x[2]])).toEqual([
      ["image path", "not checked: the account was not read (sts:GetCallerIdentity)"],
      ["SSM parameters", "not checked: the account was not read (sts:GetCallerIdentity)"],
      ["SQS queue", "not checked: the account was not read (sts:GetCallerIdentity); production-ml-worker: 0 visible, 1 in flight"],
      ["SQS DLQ", "not checked: the account was not read (sts:GetCallerIdentity); production-ml-worker-dlq: 0 visible, 0 in flight"],
    ]);
    const waited = await verify("identity-throttled", ["--wait", "60"]);
    expect(waited).toMatchObject({ code: 0, sleeps: [15_000] });
    expect(operations(waited).filter((o) => o === "sts:GetCallerIdentity")).toHaveLength(4);
  });

  it("gives up when the time runs out", async () => {
    const r = await verify("rolling-forever", ["--wait", "30"]);
    expect(r.code).toBe(1);
    expect(r.sleeps).toEqual([15_000, 15_000]);
    expect(r.stderr.split("\n").slice(-2)).toEqual(["verify: 30 s are up: ECS tasks, ECS deployment, log events still fail", ""]);
    expect(failing(r.stdout).map((x) => x[0])).toEqual(["ECS tasks", "ECS deployment", "log events"]);
  });

  it("stops at once when a failing check cannot pass by waiting", async () => {
    const r = await verify("image-path", ["--wait", "600"]);
    expect(r).toMatchObject({ code: 1, sleeps: [], stderr: "verify: stopped waiting: ECS stopped tasks, image path, image in ECR cannot pass by waiting\n" });
  });
});

describe("bad input: exit 2, no call", () => {
  it.each([
    [["--wait", "-5"], 'error: --wait takes a whole number from 0 to 7200; got "-5"\n'],
    [["--wait", "soon"], 'error: --wait takes a whole number from 0 to 7200; got "soon"\n'],
    [["--logs", "0"], 'error: --logs takes a whole number from 1 to 10000; got "0"\n'],
    [["--stack", "prod;rm"], 'error: --stack takes a stack name (letters, digits, _ and -); got "prod;rm"\n'],
    [["--region", "eu-west-1"], "error: unknown option: --region\n"],
  ])("%j", async (argv, message) => {
    const r = await verify("healthy", argv);
    expect(r).toMatchObject({ code: 2, stdout: "", stderr: message + USAGE, requests: [] });
  });

  it("an unknown or review-only stack", async () => {
    const unknown = await verify("healthy", ["--stack", "staging"]);
    expect(unknown).toMatchObject({ code: 2, requests: [], stderr: "error: no stack named 'staging' (stacks: production)\n" });
    const review = await verify("healthy", ["--stack", "production-hardened"], { environments: { production }, reviewEnvironments: { "production-hardened": production } });
    expect(review).toMatchObject({
      code: 2,
      requests: [],
      stderr: "error: 'production-hardened' is review only and never deployed: verify checks a deployed stack (stacks: production; review only: production-hardened)\n",
    });
  });

  it("--help prints the usage", async () => {
    const r = await verify("healthy", ["--help"]);
    expect(r).toMatchObject({ code: 0, stdout: USAGE, requests: [] });
  });
});

// verify and synth-diff share lib/secret-shapes.ts: what one hides by its shape, the other hides too, each in its own words.
describe("secrets known by their shape, as synth-diff masks them", () => {
  const GHP = `ghp_${"A1b2C3".repeat(6)}`;
  const AKIA = `AKIA${"IOSFODNN7EXAMPLE"}`;
  const HEX40 = "0123456789abcdef".repeat(3).slice(0, 40);
  const values = [
    `https://${HEX40}@github.com/zivo/x.git`,
    `https://${GHP}@github.com/zivo/x.git`,
    "postgresql://zivo:Pg-pass-1@db.internal:5432/zivohealth",
    "postgresql://zivo:Pg?pass#1@db.internal:5432/zivohealth",
    `${AKIA}`,
    `--header=Authorization:token ${GHP}`,
    `xoxb-${"1234567890"}-${"AbCdEfGhIj"}`,
    `sk-proj-${"Ab1-".repeat(6)}`,
  ];
  const shown = ["ssh://git@github.com/zivo/x.git", "https://x-access-token@github.com/zivo/x.git", `AKIA${"IOSFODNN7EXAMPL"}`, "noreply@zivohealth.ai"];

  it("are redacted in an environment value under any name and in a command's arguments, where synth-diff masks them", () => {
    expect(values.map((v) => printableValue("REPO", v))).toEqual([
      "https://(redacted by verify)@github.com/zivo/x.git",
      "https://(redacted by verify)@github.com/zivo/x.git",
      "postgresql://zivo:(redacted by verify)@db.internal:5432/zivohealth",
      "postgresql://zivo:(redacted by verify)@db.internal:5432/zivohealth",
      "(redacted by verify)",
      "--header=Authorization:token (redacted by verify)",
      "(redacted by verify)",
      "(redacted by verify)",
    ]);
    expect(printableArguments(["git", "clone", values[0], "--depth", "1", AKIA])).toEqual(["git", "clone", "https://(redacted by verify)@github.com/zivo/x.git", "--depth", "1", "(redacted by verify)"]);
    // The same values through synth-diff: the same parts hidden.
    for (const v of values) expect(maskSecretLine(v).split("(sensitive)").join(REDACTED)).toBe(printableValue("REPO", v));
    // A value as it is, not JSON text: a quote or backslash in a password is part of it (synth-diff's JSON lines end it there).
    expect(printableValue("REPO", 'postgresql://zivo:Pg"q\\b-1@db.internal:5432/z')).toBe("postgresql://zivo:(redacted by verify)@db.internal:5432/z");
    // Without a scheme alike (the quote and backslash in it too), and base64 of user:password whole.
    expect(printableValue("REPO", 'zivo:Pg"q\\b-1@db.internal:5432/z')).toBe("zivo:(redacted by verify)@db.internal:5432/z");
    expect(printableArguments(["--auth", Buffer.from("zivo:pa55w0rd").toString("base64")])).toEqual(["--auth", "(redacted by verify)"]);
  });

  it("leave user names, near-misses and addresses shown, as synth-diff does", () => {
    for (const v of shown) {
      expect(printableValue("REPO", v)).toBe(v);
      expect(printableArguments([v])).toEqual([v]);
      expect(maskSecretLine(v)).toBe(v);
    }
  });
});

describe("stopped tasks' causes, in words", () => {
  const task = (stopCode: string, stoppedReason: string, container: { reason?: string; exitCode?: number } = {}) => ({ stopCode, stoppedReason, containers: [container] }) as any;
  it.each([
    [task("TaskFailedToStart", "CannotPullContainerError: ref not found"), true, "the image cannot be pulled"],
    [task("TaskFailedToStart", "ResourceInitializationError: unable to pull secrets or registry auth: unable to retrieve secret from asm"), true, "a secret cannot be read"],
    [task("TaskFailedToStart", "ResourceInitializationError: unable to pull secrets or registry auth: pull registry auth from ECR: timeout"), true, "the image cannot be pulled"],
    [task("EssentialContainerExited", "Essential container in task exited", { exitCode: 137 }), true, "out of memory"],
    [task("EssentialContainerExited", "Essential container in task exited", { reason: "OutOfMemoryError: Container killed due to memory usage" }), true, "out of memory"],
    [task("EssentialContainerExited", "Essential container in task exited", { exitCode: 1 }), true, "the container exited with code 1"],
    [task("ServiceSchedulerInitiated", "Task failed container health checks"), true, "the container failed its health check"],
    [task("SpotInterruption", "Your Spot Task was interrupted."), false, "Fargate Spot took the capacity back"],
    [task("ServiceSchedulerInitiated", "Scaling activity initiated by (deployment ecs-svc/1)", { exitCode: 137 }), false, "stopped by the scheduler (scale-in or deployment)"],
    [task("UserInitiated", "Task stopped by user"), false, "stopped by a user or an API call"],
  ])("%#: %j", (t, failure, cause) => {
    expect(stopCause(t)).toMatchObject({ failure, cause });
  });

  it("a parameter in another account or region is named as not checked: a failure", () => {
    const t = targetOf("production", PRODUCTION);
    const parameters = { ok: true as const, value: { names: ["/zivohealth/production/db/user"], found: [{ Name: "/zivohealth/production/db/user" }], foreign: ["arn:aws:ssm:eu-west-1:111122223333:parameter/shared/key"] } };
    // The running task definition read, its container's secrets the stack's own.
    const taskDefinition = { ok: true as const, value: { containerDefinitions: [{ name: "ml-worker", secrets: [{ name: "POSTGRES_USER", valueFrom: "/zivohealth/production/db/user" }] }] } };
    const row = judge({ parameters, taskDefinition }, { target: t, account: "474221740916", now: new Date(NOW), made: new Set(["ssm:DescribeParameters"]) }).find((r) => r.check === "SSM parameters");
    expect(row).toEqual({
      check: "SSM parameters",
      pass: false,
      seen: "not checked: arn:aws:ssm:eu-west-1:111122223333:parameter/shared/key (another account, region or service)",
      todo: "verify checks this account's SSM parameters only: check those by hand",
      settles: false,
      requests: ["ssm:DescribeParameters"],
    });
  });

  it("stopped tasks that failed, and more not described: both said, the first three of those named with reason and detail", () => {
    const t = targetOf("production", PRODUCTION);
    const arn = (id: string) => `arn:aws:ecs:us-east-1:474221740916:task/production-ml-worker-cluster/${id}`;
    const service = { ok: true as const, value: { serviceName: "production-ml-worker", status: "ACTIVE", desiredCount: 1, runningCount: 1, deployments: [] } };
    const oom = { taskArn: arn("a1"), createdAt: new Date(NOW - 60_000), stoppedAt: new Date(NOW), stopCode: "EssentialContainerExited", stoppedReason: "OutOfMemoryError", containers: [{ exitCode: 137 }] } as any;
    const undescribedTasks = ["b1", "b2", "b3", "b4"].map((id, i) => ({ arn: arn(id), status: "STOPPED" as const, reason: "MISSING", ...(i === 1 ? { detail: "expired" } : {}) }));
    const rows = judge(
      { service, runningTasks: { ok: true, value: [{ taskArn: arn("r1"), healthStatus: "HEALTHY" }] }, stoppedTasks: { ok: true, value: [oom] }, undescribedTasks },
      { target: t, account: "474221740916", now: new Date(NOW), made: new Set(["ecs:ListTasks", "ecs:DescribeTasks"]) },
    );
    expect(rows.find((r) => r.check === "ECS stopped tasks")).toMatchObject({
      pass: false,
      seen:
        "1 of 1 stopped since the deployment: 1 × out of memory; last: OutOfMemoryError (exit 137); not checked: ecs:DescribeTasks could not describe 4 of 5 stopped task(s): " +
        `${arn("b1")} (MISSING), ${arn("b2")} (MISSING: expired), ${arn("b3")} (MISSING), and 1 more (--json lists them)`,
      todo: "the worker needs more than its MiB: raise mlWorker.memoryMiB (config/environments.ts) and deploy",
    });
    // Only stopped tasks went undescribed: the running one's health was read, and the tasks' row passes.
    expect(rows.find((r) => r.check === "ECS tasks")).toMatchObject({ pass: true, seen: "running 1 of desired 1; health 1 × HEALTHY (sqs mode, min 0)" });
  });

  it("parses ECR image URIs and SSM names as ECS reads them", () => {
    expect(parseEcrImage("474221740916.dkr.ecr.us-east-1.amazonaws.com/zivohealth-production-ml-worker:latest")).toEqual({
      account: "474221740916",
      region: "us-east-1",
      repository: "zivohealth-production-ml-worker",
      tag: "latest",
      digest: undefined,
    });
    expect(parseEcrImage("docker.io/library/python:3.12")).toBeUndefined();
    expect(ssmName("arn:aws:ssm:us-east-1:474221740916:parameter/zivohealth/production/openai/api_key", "us-east-1", "474221740916")).toBe("/zivohealth/production/openai/api_key");
    expect(ssmName("arn:aws:ssm:eu-west-1:474221740916:parameter/x", "us-east-1", "474221740916")).toBeUndefined();
    expect(ssmName("zivohealth/production/db/user", "us-east-1", "474221740916")).toBe("/zivohealth/production/db/user");
  });
});

describe("the task definition row: what the stack sets, field by field", () => {
  const ACCOUNT = "474221740916";
  const resources = { aws_iam_role: { exec: { name: "app-exec" } } };
  const body = { family: "app", cpu: "1 vCPU", memory: "3 GB", network_mode: "awsvpc", requires_compatibilities: ["FARGATE"], execution_role_arn: "${aws_iam_role.exec.arn}", tags: { Name: "app" } };
  const containers = [{ name: "app", image: "x", cpu: 256, command: ["serve"], portMappings: [{ containerPort: 8000 }], healthCheck: { command: ["CMD", "true"] }, mountPoints: [] }];
  const spec = stackTaskDefinition(body, containers, resources);
  // DescribeTaskDefinition as AWS answers for that registration: its defaults filled in.
  const registered = {
    taskDefinitionArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/app:1`,
    cpu: "1024",
    memory: "3072",
    networkMode: "awsvpc",
    requiresCompatibilities: ["FARGATE"],
    executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/app-exec`,
    containerDefinitions: [
      {
        name: "app",
        image: "x",
        cpu: 256,
        essential: true,
        command: ["serve"],
        portMappings: [{ containerPort: 8000, hostPort: 8000, protocol: "tcp" }],
        environment: [],
        mountPoints: [],
        volumesFrom: [],
        systemControls: [],
        healthCheck: { command: ["CMD", "true"], interval: 30, timeout: 5, retries: 3 },
      },
    ],
  } as const;
  const compare = (live: object) => compareTaskDefinition(spec, { name: "app", secrets: [] }, live as any, ACCOUNT, "us-east-1");

  it("what the stack leaves to AWS (essential, hostPort, the health check's timings, empty lists) and its units (1 vCPU, 3 GB) are no difference", () => {
    expect(spec.notCompared).toEqual([]);
    expect(compare(registered)).toEqual({ differences: [], notComparable: [] });
    // essential left out of an answer is ECS's default, true.
    const { essential: _, ...withoutEssential } = registered.containerDefinitions[0];
    expect(compare({ ...registered, containerDefinitions: [withoutEssential] })).toEqual({ differences: [], notComparable: [] });
  });

  it("each field changed live is named with both values; a role, command or container the stack does not set is a difference", () => {
    const c = registered.containerDefinitions[0];
    const changed = {
      ...registered,
      taskRoleArn: `arn:aws:iam::${ACCOUNT}:role/admin`,
      executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/other`,
      containerDefinitions: [
        { ...c, essential: false, entryPoint: ["/bin/sh", "-c"], command: ["serve", "--debug"], portMappings: [{ containerPort: 8000, hostPort: 8000, protocol: "udp" }], healthCheck: { ...c.healthCheck, interval: 60 } },
        { name: "sidecar", image: "y" },
      ],
    };
    expect(compare(changed).differences.map((d) => `${d.field}: the stack's ${d.stack}, live ${d.live}`)).toEqual([
      `executionRoleArn: the stack's arn:aws:iam::${ACCOUNT}:role/app-exec (at apply: aws_iam_role.exec.arn), live "arn:aws:iam::${ACCOUNT}:role/other" (name other, not app-exec)`,
      `taskRoleArn: the stack's (none), live "arn:aws:iam::${ACCOUNT}:role/admin"`,
      'containers: the stack\'s ["app"], live ["app","sidecar"]',
      'app.essential: the stack\'s true, live false',
      'app.command: the stack\'s ["serve"], live ["serve","--debug"]',
      'app.entryPoint: the stack\'s (none), live ["/bin/sh","-c"]',
      'app.portMappings: the stack\'s ["8000:8000/tcp"], live ["8000:8000/udp"]',
      "app.healthCheck.interval: the stack's 30, live 60",
    ]);
  });

  it("what the stack sets that verify does not compare (another kind of field, a list holding an expression) is named, not judged", () => {
    const other = stackTaskDefinition(
      { cpu: "512", pid_mode: "task" },
      [{ name: "app", image: "x", command: ["${var.command}"], ulimits: [{ name: "nofile", softLimit: 1024, hardLimit: 1024 }], volumesFrom: [] }],
      resources,
    );
    expect(other.notCompared).toEqual(["pid_mode", "app.ulimits", "app.command"]);
    const live = { taskDefinitionArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/app:1`, cpu: "512", containerDefinitions: [{ name: "app", image: "x", essential: true, command: ["serve"], ulimits: [] }] };
    expect(compareTaskDefinition(other, { name: "app", secrets: [] }, live as any, ACCOUNT, "us-east-1")).toEqual({ differences: [], notComparable: [] });
    const t = targetOf("production", PRODUCTION);
    expect(taskDefinitionVerdict({ ...t, taskDefinition: { ...t.taskDefinition, container: "app", definition: other }, secrets: [] }, live as any, ACCOUNT)).toEqual({
      pass: true,
      seen: "app:1 as the stack defines it: cpu 512, no roles; app: 0 environment variables, 0 secrets; not compared: pid_mode, app.ulimits, app.command",
      todo: "",
    });
  });

  it("the DB host and the queue URL, known at apply, are judged as the worker DB host row does and by the queue's name, account and region", () => {
    const t = targetOf("production", PRODUCTION);
    const live = JSON.parse(fs.readFileSync(path.join(FIXTURES, "healthy", "ecs.DescribeTaskDefinition.json"), "utf8")).taskDefinition;
    const env = live.containerDefinitions[0].environment;
    env.find((e: any) => e.name === "POSTGRES_SERVER").value = "zivohealth-dev-postgres.cabauc2kk65l.us-east-1.rds.amazonaws.com:5432";
    env.find((e: any) => e.name === "ML_WORKER_SQS_QUEUE_URL").value = "https://sqs.us-east-1.amazonaws.com/474221740916/staging-ml-worker";
    env.find((e: any) => e.name === "POSTGRES_PORT").value = "6543"; // known only at apply: not compared
    live.containerDefinitions[0].secrets[2].valueFrom = "arn:aws:ssm:us-east-1:111122223333:parameter/zivohealth/production/openai/api_key";
    expect(compareTaskDefinition(t.taskDefinition.definition, { name: "ml-worker", secrets: t.secrets }, live, ACCOUNT, t.region)).toEqual({
      differences: [
        {
          field: "ml-worker.environment.ML_WORKER_SQS_QUEUE_URL",
          stack: "https://sqs.us-east-1.amazonaws.com/474221740916/production-ml-worker (at apply: aws_sqs_queue.ml_worker_ml_worker.url)",
          live: '"https://sqs.us-east-1.amazonaws.com/474221740916/staging-ml-worker" (name staging-ml-worker, not production-ml-worker)',
        },
        {
          field: "ml-worker.environment.POSTGRES_SERVER",
          stack: 'a host name without a port (at apply: element(split(":", data.aws_db_instance.existing.endpoint), 0))',
          live: '"zivohealth-dev-postgres.cabauc2kk65l.us-east-1.rds.amazonaws.com:5432"',
        },
        {
          field: "ml-worker.secrets.OPENAI_API_KEY",
          stack: '"arn:aws:ssm:us-east-1:474221740916:parameter/zivohealth/production/openai/api_key"',
          live: '"arn:aws:ssm:us-east-1:111122223333:parameter/zivohealth/production/openai/api_key"',
        },
      ],
      notComparable: ["ml-worker.environment.POSTGRES_PORT", "ml-worker.environment.POSTGRES_DB"],
    });
  });

  // A queue of the stack's name in another account or region passed: the URL was judged by its name alone.
  it("a queue URL of the stack's name in another account or region is a difference naming each", () => {
    const t = targetOf("production", PRODUCTION);
    const live = JSON.parse(fs.readFileSync(path.join(FIXTURES, "healthy", "ecs.DescribeTaskDefinition.json"), "utf8")).taskDefinition;
    // account null: the caller's unread.
    const queueUrl = (value: string | undefined, account: string | null = ACCOUNT) => {
      const env = live.containerDefinitions[0].environment.filter((e: any) => e.name !== "ML_WORKER_SQS_QUEUE_URL");
      const copy = { ...live, containerDefinitions: [{ ...live.containerDefinitions[0], environment: value === undefined ? env : [...env, { name: "ML_WORKER_SQS_QUEUE_URL", value }] }] };
      return compareTaskDefinition(t.taskDefinition.definition, { name: "ml-worker", secrets: t.secrets }, copy, account ?? undefined, t.region).differences.map((d) => d.live);
    };
    const stack = "https://sqs.us-east-1.amazonaws.com/474221740916/production-ml-worker (at apply: aws_sqs_queue.ml_worker_ml_worker.url)";
    expect(queueUrl("https://sqs.us-east-1.amazonaws.com/474221740916/production-ml-worker")).toEqual([]);
    // The legacy forms SQS still answers with name the region in the host, or none (us-east-1).
    expect(queueUrl("https://queue.amazonaws.com/474221740916/production-ml-worker")).toEqual([]);
    expect(queueUrl("https://us-east-1.queue.amazonaws.com/474221740916/production-ml-worker")).toEqual([]);
    expect(queueUrl("https://sqs.us-east-1.amazonaws.com/111122223333/production-ml-worker")).toEqual([
      '"https://sqs.us-east-1.amazonaws.com/111122223333/production-ml-worker" (account 111122223333, not 474221740916)',
    ]);
    expect(queueUrl("https://eu-west-1.queue.amazonaws.com/474221740916/production-ml-worker")).toEqual([
      '"https://eu-west-1.queue.amazonaws.com/474221740916/production-ml-worker" (region eu-west-1, not us-east-1)',
    ]);
    expect(queueUrl("https://sqs.us-west-2.amazonaws.com/111122223333/production-ml-worker")).toEqual([
      '"https://sqs.us-west-2.amazonaws.com/111122223333/production-ml-worker" (account 111122223333, not 474221740916; region us-west-2, not us-east-1)',
    ]);
    expect(queueUrl("http://localhost:4566/000000000000/production-ml-worker")).toEqual(['"http://localhost:4566/000000000000/production-ml-worker" (not an SQS queue URL)']);
    expect(queueUrl(undefined)).toEqual(["(none)"]);
    // The caller's account unread: the account the revision is registered in.
    expect(queueUrl("https://sqs.us-east-1.amazonaws.com/111122223333/production-ml-worker", null)).toEqual([
      '"https://sqs.us-east-1.amazonaws.com/111122223333/production-ml-worker" (account 111122223333, not 474221740916)',
    ]);
    expect(compareTaskDefinition(t.taskDefinition.definition, { name: "ml-worker", secrets: t.secrets }, live, ACCOUNT, "eu-west-1").differences.find((d) => d.field === "ml-worker.environment.ML_WORKER_SQS_QUEUE_URL")).toEqual({
      field: "ml-worker.environment.ML_WORKER_SQS_QUEUE_URL",
      stack: stack.replace("us-east-1", "eu-west-1"),
      live: '"https://sqs.us-east-1.amazonaws.com/474221740916/production-ml-worker" (region us-east-1, not eu-west-1)',
    });
  });

  // A role of the stack's name in another account passed: the ARN was judged by the name at its end alone.
  it("a role ARN is judged by its name, path and account: the caller's, unread the revision's, neither not checked", () => {
    const t = targetOf("production", PRODUCTION);
    const live = JSON.parse(fs.readFileSync(path.join(FIXTURES, "healthy", "ecs.DescribeTaskDefinition.json"), "utf8")).taskDefinition;
    // account null: the caller's unread; revision null: an answer without the revision's ARN.
    const roles = (taskRoleArn: unknown, account: string | null = ACCOUNT, revision: string | null = live.taskDefinitionArn) =>
      compareTaskDefinition(t.taskDefinition.definition, { name: "ml-worker", secrets: t.secrets }, { ...live, taskRoleArn, taskDefinitionArn: revision ?? undefined }, account ?? undefined, t.region).differences.map(
        (d) => `${d.field}: the stack's ${d.stack}, live ${d.live}`,
      );
    const stack = (account: string) => `taskRoleArn: the stack's arn:aws:iam::${account}:role/zivohealth-production-ecs-task (at apply: aws_iam_role.iam_ecs_task.arn)`;
    expect(roles("arn:aws:iam::474221740916:role/zivohealth-production-ecs-task")).toEqual([]);
    // The stack's roles set no path (Terraform's default, /): a role of the stack's name under another path is not the stack's.
    expect(roles("arn:aws:iam::474221740916:role/service-role/zivohealth-production-ecs-task")).toEqual([
      `${stack(ACCOUNT)}, live "arn:aws:iam::474221740916:role/service-role/zivohealth-production-ecs-task" (path /service-role/, not /)`,
    ]);
    expect(roles("arn:aws:iam::111122223333:role/a/b/zivohealth-production-ecs-task")).toEqual([
      `${stack(ACCOUNT)}, live "arn:aws:iam::111122223333:role/a/b/zivohealth-production-ecs-task" (account 111122223333, not 474221740916; path /a/b/, not /)`,
    ]);
    expect(roles("arn:aws:iam::111122223333:role/zivohealth-production-ecs-task")).toEqual([
      `${stack(ACCOUNT)}, live "arn:aws:iam::111122223333:role/zivohealth-production-ecs-task" (account 111122223333, not 474221740916)`,
    ]);
    expect(roles("arn:aws:iam::111122223333:role/admin")).toEqual([
      `${stack(ACCOUNT)}, live "arn:aws:iam::111122223333:role/admin" (account 111122223333, not 474221740916; name admin, not zivohealth-production-ecs-task)`,
    ]);
    expect(roles("arn:aws:iam::474221740916:user/zivohealth-production-ecs-task")).toEqual([
      `${stack(ACCOUNT)}, live "arn:aws:iam::474221740916:user/zivohealth-production-ecs-task" (not an IAM role ARN)`,
    ]);
    expect(roles(undefined)).toEqual([`${stack(ACCOUNT)}, live (none)`]);
    // The caller's account unread: the account the revision is registered in.
    expect(roles("arn:aws:iam::111122223333:role/zivohealth-production-ecs-task", null)).toEqual([
      `${stack(ACCOUNT)}, live "arn:aws:iam::111122223333:role/zivohealth-production-ecs-task" (account 111122223333, not 474221740916)`,
    ]);
    // Neither read: not checked, a difference (the queue's URL likewise), though the roles are the stack's.
    expect(roles("arn:aws:iam::474221740916:role/zivohealth-production-ecs-task", null, null)).toEqual([
      "executionRoleArn: the stack's arn:aws:iam::<account not read>:role/zivohealth-production-ecs-task-execution (at apply: aws_iam_role.iam_ecs_task_execution.arn), " +
        'live "arn:aws:iam::474221740916:role/zivohealth-production-ecs-task-execution" (account 474221740916 not checked: the account was not read (sts:GetCallerIdentity))',
      `${stack("<account not read>")}, live "arn:aws:iam::474221740916:role/zivohealth-production-ecs-task" (account 474221740916 not checked: the account was not read (sts:GetCallerIdentity))`,
      "ml-worker.environment.ML_WORKER_SQS_QUEUE_URL: the stack's https://sqs.us-east-1.amazonaws.com/<account not read>/production-ml-worker (at apply: aws_sqs_queue.ml_worker_ml_worker.url), " +
        'live "https://sqs.us-east-1.amazonaws.com/474221740916/production-ml-worker" (account 474221740916 not checked: the account was not read (sts:GetCallerIdentity))',
    ]);
  });

  // The path was not judged: a role ARN with a path passed where the stack makes none, and the stack's path was never read.
  it("a role ARN's path is the stack's role's path: / unset, its literal path when set, not judged when known only at apply", () => {
    const live = (executionRoleArn: string) => ({ ...registered, executionRoleArn });
    const differences = (s: typeof spec, arn: string) => compareTaskDefinition(s, { name: "app", secrets: [] }, live(arn) as any, ACCOUNT, "us-east-1").differences.map((d) => `${d.stack}, live ${d.live}`);
    const withPath = (path: unknown) => stackTaskDefinition(body, containers, { aws_iam_role: { exec: { name: "app-exec", path } } });
    // Terraform's default, "/", written out: as unset.
    expect(differences(withPath("/"), `arn:aws:iam::${ACCOUNT}:role/app-exec`)).toEqual([]);
    expect(differences(withPath("/service-role/"), `arn:aws:iam::${ACCOUNT}:role/service-role/app-exec`)).toEqual([]);
    expect(differences(withPath("/service-role/"), `arn:aws:iam::${ACCOUNT}:role/app-exec`)).toEqual([
      `arn:aws:iam::${ACCOUNT}:role/service-role/app-exec (at apply: aws_iam_role.exec.arn), live "arn:aws:iam::${ACCOUNT}:role/app-exec" (path /, not /service-role/)`,
    ]);
    expect(differences(withPath("/service-role/"), `arn:aws:iam::${ACCOUNT}:role/ops/app-exec`)).toEqual([
      `arn:aws:iam::${ACCOUNT}:role/service-role/app-exec (at apply: aws_iam_role.exec.arn), live "arn:aws:iam::${ACCOUNT}:role/ops/app-exec" (path /ops/, not /service-role/)`,
    ]);
    // A path known only at apply: the name and account judged, the path not.
    expect(differences(withPath("${var.role_path}"), `arn:aws:iam::${ACCOUNT}:role/ops/app-exec`)).toEqual([]);
    expect(differences(withPath("${var.role_path}"), "arn:aws:iam::111122223333:role/ops/app-exec")).toEqual([
      `arn:aws:iam::${ACCOUNT}:role/<path known at apply>/app-exec (at apply: aws_iam_role.exec.arn), live "arn:aws:iam::111122223333:role/ops/app-exec" (account 111122223333, not ${ACCOUNT})`,
    ]);
  });

  it("a difference does not settle while a rollout is in progress: the revision read is the one the rollout ends on", () => {
    const t = targetOf("production", PRODUCTION);
    const live = JSON.parse(fs.readFileSync(path.join(FIXTURES, "task-definition-drift", "ecs.DescribeTaskDefinition.json"), "utf8")).taskDefinition;
    const primary = { status: "PRIMARY", rolloutState: "IN_PROGRESS" as const, taskDefinition: live.taskDefinitionArn, createdAt: new Date(NOW - 60_000) };
    const service = { serviceName: "production-ml-worker", status: "ACTIVE", desiredCount: 1, runningCount: 0, deployments: [primary] };
    const rows = judge(
      { service: { ok: true, value: service }, primary, taskDefinition: { ok: true, value: { ...live, registeredAt: new Date(live.registeredAt * 1000) } } },
      { target: t, account: ACCOUNT, now: new Date(NOW), made: new Set(["ecs:DescribeServices", "ecs:DescribeTaskDefinition"]) },
    );
    expect(rows.find((r) => r.check === "ECS deployment")).toMatchObject({ pass: false, settles: true });
    expect(rows.find((r) => r.check === "task definition")).toEqual({
      check: "task definition",
      pass: false,
      seen:
        "production-ml-worker:4 (registered 2025-10-21T11:29:48Z by arn:aws:iam::474221740916:user/oncall) differs from the stack's in 3 field(s): " +
        'memory: the stack\'s "3072", live "4096"; ml-worker.environment.ML_WORKER_BATCH_SIZE: the stack\'s "1", live "10"; ' +
        'ml-worker.logConfiguration.options.awslogs-group: the stack\'s "/ecs/production-ml-worker", live "/ecs/staging-ml-worker"',
      todo: TASK_DEFINITION_TODO,
      settles: false,
      requests: ["ecs:DescribeServices", "ecs:DescribeTaskDefinition"],
    });
  });
});

describe("the command as npm runs it, and after npm run deploy", () => {
  let work: string;
  beforeAll(() => {
    buildDist(); // once per group: app and startup need it too
    work = fs.mkdtempSync(path.join(os.tmpdir(), "zh-verify-"));
  });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  it("node dist/commands/verify/index.js without credentials: exit 2 and one line, no SDK warning; it and --help load no service client", () => {
    // Preloaded: at exit, the AWS SDK client packages the run had loaded (verify loads them when it makes the clients).
    const loaded = path.join(work, "loaded-clients.json");
    const hook = path.join(work, "loaded-clients.js");
    fs.writeFileSync(
      hook,
      `process.on("exit", () => require("fs").writeFileSync(${JSON.stringify(loaded)}, JSON.stringify([...new Set(Object.keys(require.cache).map((f) => (/@aws-sdk\\/(client-[^/]+)/.exec(f) ?? [])[1]).filter(Boolean))])));`,
    );
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: work, AWS_CONFIG_FILE: nowhere, AWS_SHARED_CREDENTIALS_FILE: nowhere, AWS_EC2_METADATA_DISABLED: "true", NODE_OPTIONS: `--require ${hook}` };
    const r = spawnSync(process.execPath, [path.join(ROOT, "dist/commands/verify/index.js")], { cwd: ROOT, env, encoding: "utf8" });
    expect([r.status, r.stdout]).toEqual([2, ""]);
    expect(r.stderr).toMatch(/^error: no AWS credentials: .* it made no call\.\n$/);
    expect(JSON.parse(fs.readFileSync(loaded, "utf8"))).toEqual([]);
    const help = spawnSync(process.execPath, [path.join(ROOT, "dist/commands/verify/index.js"), "--help"], { cwd: ROOT, env, encoding: "utf8" });
    expect([help.status, help.stdout]).toEqual([0, USAGE]);
    expect(JSON.parse(fs.readFileSync(loaded, "utf8"))).toEqual([]);
  });

  it("npm run deploy runs verify --wait after a successful apply, unless --no-verify", async () => {
    const { main: cdktf, NO_VERIFY, VERIFY_WAIT_SECONDS } = await import("../commands/cdktf");
    const run = (argv: string[], cdktfCode: number, verifyCode = 0) => {
      const err: string[] = [];
      const calls: string[][] = [];
      const code = cdktf(
        argv,
        { stdout: () => undefined, stderr: (t) => err.push(t), cwd: work },
        { cdktf: (a) => (calls.push(["cdktf", ...a]), cdktfCode), verify: (a) => (calls.push(["verify", ...a]), verifyCode) },
        { staging },
        { readS3: () => null },
      );
      return { code, calls, stderr: err.join("") };
    };
    expect(VERIFY_WAIT_SECONDS).toBe(600);
    expect(run(["deploy", "staging"], 0, 1)).toEqual({
      code: 1,
      calls: [["cdktf", "deploy", "staging"], ["verify", "--stack", "staging", "--wait", "600"]],
      stderr:
        `note: stack 'staging' is new (newEnvironment): no state yet at ${path.resolve(work, "cdktf.out/stacks/staging", staging.backend.type === "local" ? staging.backend.path : "")}\n` +
        "verify: checking staging after the deploy, waiting up to 600 s (--no-verify skips this)\n" +
        "verify: staging was deployed, but verify exited 1: the table above says what to do\n",
    });
    expect(run(["deploy", "staging", "--auto-approve"], 0, 0)).toMatchObject({ code: 0, calls: [["cdktf", "deploy", "staging", "--auto-approve"], ["verify", "--stack", "staging", "--wait", "600"]] });
    expect(run(["deploy", "staging", NO_VERIFY], 0)).toMatchObject({ code: 0, calls: [["cdktf", "deploy", "staging"]] });
    expect(run(["deploy", "staging"], 1)).toMatchObject({ code: 1, calls: [["cdktf", "deploy", "staging"]] });
    expect(run(["diff", "staging"], 0)).toMatchObject({ code: 0, calls: [["cdktf", "diff", "staging"]] });
    expect(run(["watch", "staging"], 0)).toMatchObject({ code: 0, calls: [["cdktf", "watch", "staging"]] });
  });
});
