// Long: one construct's tests (MlWorker and its parts), each pinning synthesized values.
import { TerraformOutput, Testing } from "cdktf";
import { AppautoscalingPolicy } from "@cdktf/provider-aws/lib/appautoscaling-policy";
import { AppautoscalingScheduledAction } from "@cdktf/provider-aws/lib/appautoscaling-scheduled-action";
import { AppautoscalingTarget } from "@cdktf/provider-aws/lib/appautoscaling-target";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { EcsClusterCapacityProviders } from "@cdktf/provider-aws/lib/ecs-cluster-capacity-providers";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { SqsQueuePolicy } from "@cdktf/provider-aws/lib/sqs-queue-policy";
import { MlWorker, MlWorkerProps } from "../modules/ml-worker";
import { MlWorkerCluster } from "../modules/ml-worker/cluster";
import { MlWorkerLogs } from "../modules/ml-worker/logs";
import { ACCOUNT, ML_WORKER_PROPS, decodeTemplateJson } from "./helpers";

const REGISTRY = `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com`;
const base = ML_WORKER_PROPS;

const OUTPUTS = [
  ["sqs_queue_url", "sqsQueueUrl"],
  ["sqs_queue_arn", "sqsQueueArn"],
  ["sqs_dlq_url", "sqsDlqUrl"],
  ["sqs_dlq_arn", "sqsDlqArn"],
  ["ecs_cluster_name", "ecsClusterName"],
  ["ecs_cluster_arn", "ecsClusterArn"],
  ["ecs_service_name", "ecsServiceName"],
  ["ecs_task_definition_arn", "ecsTaskDefinitionArn"],
  ["cloudwatch_log_group", "cloudwatchLogGroup"],
  ["security_group_id", "securityGroupId"],
] as const;

function synth(props: Partial<MlWorkerProps> = {}) {
  const text = Testing.synthScope((scope) => {
    const worker = new MlWorker(scope, "ml_worker", { ...base, ...props });
    for (const [output, field] of OUTPUTS) new TerraformOutput(scope, output, { value: worker[field] });
  });
  const json = JSON.parse(text);
  return { text, json, r: json.resource as Record<string, Record<string, any>> };
}

const container = (r: Record<string, Record<string, any>>) =>
  decodeTemplateJson(r.aws_ecs_task_definition.ml_worker_ml_worker.container_definitions)[0];

describe("MlWorker (faithful)", () => {
  const { text, json, r } = synth();

  it("has exactly the HCL module's resources at pinned addresses", () => {
    const addresses = Object.entries(r).flatMap(([t, byName]) => Object.keys(byName).map((n) => `${t}.${n}`));
    expect(addresses.sort()).toEqual([
      "aws_appautoscaling_policy.ml_worker_ml_worker_scale_up",
      "aws_appautoscaling_target.ml_worker_ml_worker",
      "aws_cloudwatch_log_group.ml_worker_ml_worker",
      "aws_cloudwatch_metric_alarm.ml_worker_dlq_messages",
      "aws_cloudwatch_metric_alarm.ml_worker_queue_depth_high",
      "aws_ecs_cluster.ml_worker_ml_worker",
      "aws_ecs_cluster_capacity_providers.ml_worker_ml_worker",
      "aws_ecs_service.ml_worker_ml_worker",
      "aws_ecs_task_definition.ml_worker_ml_worker",
      "aws_security_group.ml_worker_ml_worker",
      "aws_sqs_queue.ml_worker_ml_worker",
      "aws_sqs_queue.ml_worker_ml_worker_dlq",
      "aws_sqs_queue_policy.ml_worker_ml_worker",
    ]);
    expect(text).toHaveDataSource(DataAwsCallerIdentity);
    expect(Object.keys(json.data.aws_caller_identity)).toEqual(["ml_worker_current"]);
  });

  it("creates the DLQ and the job queue with the redrive policy", () => {
    expect(text).toHaveResourceWithProperties(SqsQueue, {
      name: "production-ml-worker-dlq",
      message_retention_seconds: 1209600,
      tags: { Name: "production-ml-worker-dlq", Environment: "production", Purpose: "ML Worker Dead Letter Queue" },
      lifecycle: { prevent_destroy: true },
    });
    expect(text).toHaveResourceWithProperties(SqsQueue, {
      name: "production-ml-worker",
      delay_seconds: 0,
      max_message_size: 262144,
      message_retention_seconds: 345600,
      receive_wait_time_seconds: 20,
      visibility_timeout_seconds: 300,
      tags: { Name: "production-ml-worker", Environment: "production", Purpose: "ML Worker Job Queue" },
      lifecycle: { prevent_destroy: true },
    });
    expect(JSON.parse(r.aws_sqs_queue.ml_worker_ml_worker.redrive_policy)).toEqual({
      deadLetterTargetArn: "${aws_sqs_queue.ml_worker_ml_worker_dlq.arn}",
      maxReceiveCount: 3,
    });
    // Faithful: no server-side encryption settings.
    expect(r.aws_sqs_queue.ml_worker_ml_worker.sqs_managed_sse_enabled).toBeUndefined();
    expect(r.aws_sqs_queue.ml_worker_ml_worker.kms_master_key_id).toBeUndefined();
  });

  it("lets the API role send messages through the queue policy", () => {
    expect(text).toHaveResourceWithProperties(SqsQueuePolicy, { queue_url: "${aws_sqs_queue.ml_worker_ml_worker.id}" });
    expect(JSON.parse(r.aws_sqs_queue_policy.ml_worker_ml_worker.policy)).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "AllowAPIToSendMessages",
          Effect: "Allow",
          Principal: { AWS: base.apiRoleArn },
          Action: ["sqs:SendMessage", "sqs:GetQueueUrl"],
          Resource: "${aws_sqs_queue.ml_worker_ml_worker.arn}",
        },
      ],
    });
  });

  it("creates the two alarms, with no actions as in the HCL", () => {
    expect(text).toHaveResourceWithProperties(CloudwatchMetricAlarm, {
      alarm_name: "production-ml-worker-queue-depth-high",
      comparison_operator: "GreaterThanThreshold",
      evaluation_periods: 2,
      metric_name: "ApproximateNumberOfMessagesVisible",
      namespace: "AWS/SQS",
      period: 300,
      statistic: "Average",
      threshold: 10,
      alarm_description: "This metric monitors ML worker queue depth",
      alarm_actions: [],
      dimensions: { QueueName: "${aws_sqs_queue.ml_worker_ml_worker.name}" },
    });
    expect(text).toHaveResourceWithProperties(CloudwatchMetricAlarm, {
      alarm_name: "production-ml-worker-dlq-messages",
      comparison_operator: "GreaterThanThreshold",
      evaluation_periods: 1,
      metric_name: "ApproximateNumberOfMessagesVisible",
      namespace: "AWS/SQS",
      period: 300,
      statistic: "Sum",
      threshold: 1,
      alarm_description: "Alert when messages enter DLQ",
      alarm_actions: [],
      dimensions: { QueueName: "${aws_sqs_queue.ml_worker_ml_worker_dlq.name}" },
    });
  });

  it("creates the cluster with Fargate Spot first", () => {
    expect(text).toHaveResourceWithProperties(EcsCluster, {
      name: "production-ml-worker-cluster",
      setting: [{ name: "containerInsights", value: "enabled" }],
      tags: { Name: "production-ml-worker-cluster", Environment: "production" },
      lifecycle: { prevent_destroy: true },
    });
    expect(text).toHaveResourceWithProperties(EcsClusterCapacityProviders, {
      cluster_name: "${aws_ecs_cluster.ml_worker_ml_worker.name}",
      capacity_providers: ["FARGATE_SPOT", "FARGATE"],
      default_capacity_provider_strategy: [{ base: 0, weight: 100, capacity_provider: "FARGATE_SPOT" }],
    });
  });

  it("creates the log group with 7 days' retention", () => {
    expect(text).toHaveResourceWithProperties(CloudwatchLogGroup, {
      name: "/ecs/production-ml-worker",
      retention_in_days: 7,
      tags: { Name: "production-ml-worker-logs", Environment: "production" },
      lifecycle: { prevent_destroy: true },
    });
    expect(r.aws_cloudwatch_log_group.ml_worker_ml_worker.kms_key_id).toBeUndefined();
  });

  it("creates the task definition", () => {
    expect(text).toHaveResourceWithProperties(EcsTaskDefinition, {
      family: "production-ml-worker",
      requires_compatibilities: ["FARGATE"],
      network_mode: "awsvpc",
      cpu: "512",
      memory: "3072",
      execution_role_arn: base.executionRoleArn,
      task_role_arn: base.taskRoleArn,
      tags: { Name: "production-ml-worker-task", Environment: "production" },
    });
  });

  it("writes the container definition entry by entry", () => {
    const defs = decodeTemplateJson(r.aws_ecs_task_definition.ml_worker_ml_worker.container_definitions);
    expect(defs).toHaveLength(1);
    const c = defs[0];
    expect(Object.keys(c)).toEqual(["name", "image", "essential", "environment", "secrets", "logConfiguration", "healthCheck"]);
    expect(c.name).toBe("ml-worker");
    expect(c.essential).toBe(true);
    expect(c.image).toBe(`${REGISTRY}/zivohealth-production-ml-worker:latest`);
    expect(c.environment.map((e: { name: string; value: string }) => [e.name, e.value])).toEqual([
      ["AWS_REGION", "us-east-1"],
      ["ML_WORKER_MODE", "sqs"],
      ["ML_WORKER_SQS_QUEUE_URL", "${aws_sqs_queue.ml_worker_ml_worker.url}"],
      ["ML_WORKER_BATCH_SIZE", "1"],
      ["ML_WORKER_WAIT_TIME", "20"],
      ["ML_WORKER_VISIBILITY_TIMEOUT", "300"],
      ["POSTGRES_SERVER", base.dbHost],
      ["POSTGRES_PORT", "5432"],
      ["POSTGRES_DB", "zivohealth"],
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
    ]);
    expect(c.secrets).toEqual([
      { name: "POSTGRES_USER", valueFrom: "/zivohealth/production/db/user" },
      { name: "POSTGRES_PASSWORD", valueFrom: "/zivohealth/production/db/password" },
      {
        name: "OPENAI_API_KEY",
        valueFrom:
          "arn:aws:ssm:us-east-1:${data.aws_caller_identity.ml_worker_current.account_id}:parameter/zivohealth/production/openai/api_key",
      },
    ]);
    expect(c.logConfiguration).toEqual({
      logDriver: "awslogs",
      options: {
        "awslogs-group": "${aws_cloudwatch_log_group.ml_worker_ml_worker.name}",
        "awslogs-region": "us-east-1",
        "awslogs-stream-prefix": "ml-worker",
      },
    });
    expect(c.healthCheck).toEqual({
      command: ["CMD-SHELL", "/app/healthcheck.sh || exit 1"],
      interval: 30,
      timeout: 5,
      retries: 3,
      startPeriod: 60,
    });
  });

  it("creates the service on Fargate Spot, with desired_count left to autoscaling", () => {
    expect(text).toHaveResourceWithProperties(EcsService, {
      name: "production-ml-worker",
      cluster: "${aws_ecs_cluster.ml_worker_ml_worker.id}",
      task_definition: "${aws_ecs_task_definition.ml_worker_ml_worker.arn}",
      desired_count: 0,
      network_configuration: {
        subnets: ["subnet-0aaa", "subnet-0bbb"],
        security_groups: ["${aws_security_group.ml_worker_ml_worker.id}"],
        assign_public_ip: true,
      },
      capacity_provider_strategy: [{ capacity_provider: "FARGATE_SPOT", weight: 100, base: 0 }],
      lifecycle: { ignore_changes: ["desired_count"] },
      tags: { Name: "production-ml-worker-service", Environment: "production" },
    });
    const service = r.aws_ecs_service.ml_worker_ml_worker;
    expect(service.force_new_deployment).toBeUndefined();
    expect(service.deployment_circuit_breaker).toBeUndefined();
  });

  it("creates the egress-only security group", () => {
    expect(text).toHaveResourceWithProperties(SecurityGroup, {
      name_prefix: "production-ml-worker-",
      description: "Security group for ML Worker Fargate tasks",
      vpc_id: base.vpcId,
      egress: [expect.objectContaining({ from_port: 0, to_port: 0, protocol: "-1", cidr_blocks: ["0.0.0.0/0"] })],
      tags: { Name: "production-ml-worker-sg", Environment: "production" },
    });
    expect(r.aws_security_group.ml_worker_ml_worker.ingress).toBeUndefined();
  });

  it("scales on queue depth with target tracking", () => {
    expect(text).toHaveResourceWithProperties(AppautoscalingTarget, {
      max_capacity: 5,
      min_capacity: 0,
      resource_id: "service/${aws_ecs_cluster.ml_worker_ml_worker.name}/${aws_ecs_service.ml_worker_ml_worker.name}",
      scalable_dimension: "ecs:service:DesiredCount",
      service_namespace: "ecs",
    });
    expect(text).toHaveResourceWithProperties(AppautoscalingPolicy, {
      name: "production-ml-worker-scale-up",
      policy_type: "TargetTrackingScaling",
      resource_id: "${aws_appautoscaling_target.ml_worker_ml_worker.resource_id}",
      scalable_dimension: "${aws_appautoscaling_target.ml_worker_ml_worker.scalable_dimension}",
      service_namespace: "${aws_appautoscaling_target.ml_worker_ml_worker.service_namespace}",
      target_tracking_scaling_policy_configuration: {
        target_value: 0.5,
        scale_in_cooldown: 300,
        scale_out_cooldown: 60,
        customized_metric_specification: {
          metric_name: "ApproximateNumberOfMessagesVisible",
          namespace: "AWS/SQS",
          statistic: "Average",
          unit: "Count",
          dimensions: [{ name: "QueueName", value: "${aws_sqs_queue.ml_worker_ml_worker.name}" }],
        },
      },
    });
    expect(text).not.toHaveResource(AppautoscalingScheduledAction);
  });

  it("exposes the ten outputs of the HCL module", () => {
    expect(Object.fromEntries(Object.entries(json.output).map(([k, v]: [string, any]) => [k, v.value]))).toEqual({
      sqs_queue_url: "${aws_sqs_queue.ml_worker_ml_worker.url}",
      sqs_queue_arn: "${aws_sqs_queue.ml_worker_ml_worker.arn}",
      sqs_dlq_url: "${aws_sqs_queue.ml_worker_ml_worker_dlq.url}",
      sqs_dlq_arn: "${aws_sqs_queue.ml_worker_ml_worker_dlq.arn}",
      ecs_cluster_name: "${aws_ecs_cluster.ml_worker_ml_worker.name}",
      ecs_cluster_arn: "${aws_ecs_cluster.ml_worker_ml_worker.arn}",
      ecs_service_name: "${aws_ecs_service.ml_worker_ml_worker.name}",
      ecs_task_definition_arn: "${aws_ecs_task_definition.ml_worker_ml_worker.arn}",
      cloudwatch_log_group: "${aws_cloudwatch_log_group.ml_worker_ml_worker.name}",
      security_group_id: "${aws_security_group.ml_worker_ml_worker.id}",
    });
  });
});

describe("MlWorker options", () => {
  it("uses the HCL variables' defaults: aggregation, 0 to 3 tasks, target 0.5", () => {
    const { r } = synth({ workerMode: undefined, minCapacity: undefined, maxCapacity: undefined, targetQueueDepth: undefined });
    expect(container(r).environment[1]).toEqual({ name: "ML_WORKER_MODE", value: "aggregation" });
    expect(r.aws_appautoscaling_target.ml_worker_ml_worker).toMatchObject({ min_capacity: 0, max_capacity: 3 });
    expect(r.aws_appautoscaling_policy.ml_worker_ml_worker_scale_up.target_tracking_scaling_policy_configuration.target_value).toBe(0.5);
  });

  it("adds the two scheduled actions when scheduled scaling is on", () => {
    const { text, r } = synth({ enableScheduledScaling: true, minCapacity: 1, maxCapacity: 4 });
    expect(text).toHaveResourceWithProperties(AppautoscalingScheduledAction, {
      name: "production-ml-worker-scale-down-night",
      schedule: "cron(0 2 * * ? *)",
      scalable_target_action: { min_capacity: "0", max_capacity: "4" },
      resource_id: "${aws_appautoscaling_target.ml_worker_ml_worker.resource_id}",
    });
    expect(text).toHaveResourceWithProperties(AppautoscalingScheduledAction, {
      name: "production-ml-worker-scale-up-morning",
      schedule: "cron(0 8 * * ? *)",
      scalable_target_action: { min_capacity: "1", max_capacity: "4" },
    });
    expect(Object.keys(r.aws_appautoscaling_scheduled_action).sort()).toEqual([
      "ml_worker_ml_worker_scale_down_night",
      "ml_worker_ml_worker_scale_up_morning",
    ]);
  });

  it("keeps every address when the construct id changes", () => {
    const a = synth().r;
    const b = JSON.parse(Testing.synthScope((scope) => void new MlWorker(scope, "another-id", base))).resource;
    const addr = (x: Record<string, Record<string, unknown>>) => Object.entries(x).flatMap(([t, n]) => Object.keys(n).map((k) => `${t}.${k}`)).sort();
    expect(addr(b)).toEqual(addr(a));
  });

  it("dependsOn reaches every resource, but not the caller identity data source (whose deferral would replace the task definition)", () => {
    const json = JSON.parse(
      Testing.synthScope((scope) => {
        const endpoints = new SecurityGroup(scope, "endpoints", { name: "endpoints" });
        new MlWorker(scope, "ml_worker", { ...base, dependsOn: [endpoints] });
      }),
    );
    const worker = Object.entries(json.resource as Record<string, Record<string, any>>).flatMap(([t, byName]) =>
      Object.entries(byName).filter(([n]) => n.startsWith("ml_worker_")).map(([n, attrs]) => [`${t}.${n}`, attrs.depends_on]),
    );
    expect(worker).toHaveLength(13);
    for (const [, dependsOn] of worker) expect(dependsOn).toEqual(["aws_security_group.endpoints"]);
    expect(json.data.aws_caller_identity.ml_worker_current.depends_on).toBeUndefined();
  });

  it("can drop prevent_destroy (tests of throwaway stacks)", () => {
    const { r } = synth({ preventDestroy: false });
    expect(r.aws_sqs_queue.ml_worker_ml_worker.lifecycle).toBeUndefined();
    expect(r.aws_ecs_cluster.ml_worker_ml_worker.lifecycle).toBeUndefined();
  });
});

describe("MlWorker validation", () => {
  const cases: [string, Partial<MlWorkerProps>, string][] = [
    ["an unknown worker mode", { workerMode: "fast" as never }, "workerMode must be one of 'sqs', 'aggregation', 'both' (got 'fast')"],
    ["min above max", { minCapacity: 4, maxCapacity: 2 }, "minCapacity (4) must not be greater than maxCapacity (2)"],
    ["a negative min", { minCapacity: -1 }, "minCapacity must be at least 0 (got -1)"],
    ["a negative max", { maxCapacity: -2 }, "maxCapacity must be at least 0 (got -2)"],
    ["a fractional capacity", { maxCapacity: 2.5 }, "maxCapacity must be a whole number (got 2.5)"],
    ["a zero target", { targetQueueDepth: 0 }, "targetQueueDepth must be greater than 0 (got 0)"],
    ["a negative target", { targetQueueDepth: -1 }, "targetQueueDepth must be greater than 0 (got -1)"],
    ["a CPU Fargate lacks", { cpu: 300 }, "cpu must be one of 256, 512, 1024, 2048, 4096, 8192, 16384 (got 300)"],
    [
      "a memory size that does not fit the CPU",
      { cpu: 512, memoryMiB: 512 },
      "memoryMiB must be a memory size Fargate accepts with cpu 512: 1024 to 4096 in steps of 1024 (got 512)",
    ],
    ["a bad role ARN", { taskRoleArn: "ecs-task" }, "taskRoleArn must be an IAM role ARN like arn:aws:iam::123456789012:role/name (got 'ecs-task')"],
    ["a stop timeout above Fargate's 120 s", { stopTimeoutSeconds: 300 }, "stopTimeoutSeconds must be at most 120 (got 300)"],
    ["a log retention CloudWatch lacks", { logRetentionDays: 10 }, "logRetentionDays must be one of 1, 3, 5, 7, 14, 30"],
    ["a misspelled prop", { minCapcity: 1 } as never, "minCapcity is not a known setting; did you mean 'minCapacity'?"],
    ["a misspelled hardened prop", { createLogKMSKey: true } as never, "createLogKMSKey is not a known setting; did you mean 'createLogKmsKey'?"],
    ["a max capacity over the ECS quota", { maxCapacity: 1e12 }, "maxCapacity must be at most 5000 (got 1000000000000)"],
    ["a NaN capacity", { minCapacity: Number.NaN }, "minCapacity must be a number (got NaN)"],
    ["a region that does not exist", { awsRegion: "eu-west-9" }, "awsRegion must be an AWS region like us-east-1 (got 'eu-west-9'); did you mean 'eu-west-1'?"],
    ["a KMS key ARN as a role", { executionRoleArn: "arn:aws:kms:us-east-1:474221740916:key/1234abcd-12ab-34cd-56ef-1234567890ab" }, "executionRoleArn must be an IAM role ARN like arn:aws:iam::123456789012:role/name (got 'arn:aws:kms:us-east-1:474221740916:key/1234abcd-12ab-34cd-56ef-1234567890ab')"],
    ["a role ARN as the log key", { logKmsKeyArn: "arn:aws:iam::474221740916:role/x" }, "logKmsKeyArn must be a KMS key ARN like arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab (got 'arn:aws:iam::474221740916:role/x')"],
    ["a log key in another region than the worker", { awsRegion: "eu-west-1", logKmsKeyArn: "arn:aws:kms:us-east-1:474221740916:key/1234abcd-12ab-34cd-56ef-1234567890ab" }, "logKmsKeyArn is a key in us-east-1, but the log group is in eu-west-1: AWS needs a KMS key in the same region"],
    ["a misspelled alarm setting", { alarmNotifications: { mail: "ops@zivohealth.ai" } as never }, "alarmNotifications.mail is not a known setting; did you mean 'email'?"],
  ];
  it.each(cases)("rejects %s, naming the field", (_what, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });

  it("reports every problem at once", () => {
    expect(() => synth({ workerMode: "x" as never, minCapacity: 9, maxCapacity: 1, cpu: 256, memoryMiB: 4096 })).toThrow(
      [
        "Invalid MlWorker props (stack/ml_worker):",
        "  - workerMode must be one of 'sqs', 'aggregation', 'both' (got 'x')",
        "  - minCapacity (9) must not be greater than maxCapacity (1)",
        "  - memoryMiB must be a memory size Fargate accepts with cpu 256: 512 to 2048 in steps of 512 (got 4096)",
      ].join("\n"),
    );
  });
});

describe("MlWorker parts", () => {
  const addresses = (json: { resource?: Record<string, object>; data?: Record<string, object> }) =>
    [
      ...Object.entries(json.resource ?? {}).flatMap(([t, byName]) => Object.keys(byName).map((n) => `${t}.${n}`)),
      ...Object.entries(json.data ?? {}).flatMap(([t, byName]) => Object.keys(byName).map((n) => `data.${t}.${n}`)),
    ].sort();
  const everything: Partial<MlWorkerProps> = {
    enableScheduledScaling: true,
    alarmNotifications: { email: "ops@zivohealth.ai" },
    createLogKmsKey: true,
  };

  it("composes one construct per part, whose ids appear in no address, with every optional resource on", () => {
    let worker!: MlWorker;
    const json = JSON.parse(Testing.synthScope((scope) => void (worker = new MlWorker(scope, "ml_worker", { ...base, ...everything }))));
    expect(worker.node.children.map((c) => c.node.id)).toEqual(["current", "queue", "alarms", "cluster", "logs", "service", "scaling"]);
    expect(addresses(json)).toEqual([
      "aws_appautoscaling_policy.ml_worker_ml_worker_scale_up",
      "aws_appautoscaling_scheduled_action.ml_worker_ml_worker_scale_down_night",
      "aws_appautoscaling_scheduled_action.ml_worker_ml_worker_scale_up_morning",
      "aws_appautoscaling_target.ml_worker_ml_worker",
      "aws_cloudwatch_log_group.ml_worker_ml_worker",
      "aws_cloudwatch_metric_alarm.ml_worker_dlq_messages",
      "aws_cloudwatch_metric_alarm.ml_worker_queue_depth_high",
      "aws_ecs_cluster.ml_worker_ml_worker",
      "aws_ecs_cluster_capacity_providers.ml_worker_ml_worker",
      "aws_ecs_service.ml_worker_ml_worker",
      "aws_ecs_task_definition.ml_worker_ml_worker",
      "aws_kms_key.ml_worker_logs",
      "aws_security_group.ml_worker_ml_worker",
      "aws_sns_topic.ml_worker_alarms",
      "aws_sns_topic_subscription.ml_worker_alarms_email",
      "aws_sqs_queue.ml_worker_ml_worker",
      "aws_sqs_queue.ml_worker_ml_worker_dlq",
      "aws_sqs_queue_policy.ml_worker_ml_worker",
      "data.aws_caller_identity.ml_worker_current",
    ]);
  });

  it("gives every part's addresses the one addressPrefix", () => {
    const json = JSON.parse(Testing.synthScope((scope) => void new MlWorker(scope, "ml_worker", { ...base, ...everything, addressPrefix: "ml2" })));
    const all = addresses(json);
    expect(all).toHaveLength(19);
    expect(all.filter((a) => !/^(data\.)?aws_[a-z_]+\.ml2_/.test(a))).toEqual([]);
    expect(all).toContain("aws_ecs_service.ml2_ml_worker");
    expect(all).toContain("data.aws_caller_identity.ml2_current");
  });

  it("lets a part be used alone, at the module's addresses, and validates its own props", () => {
    const json = JSON.parse(
      Testing.synthScope((scope) => void new MlWorkerCluster(scope, "anything", { environment: "staging", preventDestroy: false })),
    );
    expect(addresses(json)).toEqual(["aws_ecs_cluster.ml_worker_ml_worker", "aws_ecs_cluster_capacity_providers.ml_worker_ml_worker"]);
    expect(json.resource.aws_ecs_cluster.ml_worker_ml_worker.name).toBe("staging-ml-worker-cluster");
    expect(() => Testing.synthScope((scope) => void new MlWorkerLogs(scope, "logs", { environment: "staging", createLogKmsKey: true }))).toThrow(
      "Invalid MlWorkerLogs props (stack/logs):\n  - accountId must be given with createLogKmsKey: the key's policy names the account",
    );
    expect(() => Testing.synthScope((scope) => void new MlWorkerCluster(scope, "cluster", { environment: "Staging", size: 3 } as never))).toThrow(
      [
        "Invalid MlWorkerCluster props (stack/cluster):",
        "  - size is not a known setting; known settings: 'environment', 'preventDestroy', 'addressPrefix'",
        "  - environment must be lower-case letters, digits and hyphens (got 'Staging')",
      ].join("\n"),
    );
  });
});
