// Replaces the HCL module `modules/ml_worker`: an SQS-fed ECS Fargate Spot
// service with a DLQ, alarms, logs and queue-depth autoscaling.
// Sections follow the HCL file: queues, alarms, cluster, logs, task
// definition, service, security group, autoscaling.
import { ITerraformDependable, TerraformDataSource, TerraformResource, Token, dependable } from "cdktf";
import { Construct } from "constructs";
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
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { SqsQueuePolicy } from "@cdktf/provider-aws/lib/sqs-queue-policy";
import { pinAddress } from "./address";
import {
  KnownKeys,
  NAME,
  checkCapacities,
  checkHardening,
  checkFargateSize,
  checkKnownKeys,
  checkNumber,
  checkOneOf,
  checkRegion,
  checkRoleArn,
  checkString,
  throwIfProblems,
} from "./validation";

export const WORKER_MODES = ["sqs", "aggregation", "both"] as const;
export type WorkerMode = (typeof WORKER_MODES)[number];

/** SQS server-side encryption (hardened profile). */
export type QueueEncryption = { readonly type: "sse-sqs" } | { readonly type: "kms"; readonly kmsKeyId: string };

export interface MlWorkerProps {
  /** Environment name; prefixes every resource name. Required. */
  readonly environment: string;
  /**
   * Region the tasks log to and read secrets from.
   * @default "us-east-1"
   */
  readonly awsRegion?: string;
  /** VPC of the worker security group. Required. */
  readonly vpcId: string;
  /** Subnets of the tasks (`private_subnet_ids`). Required. */
  readonly privateSubnetIds: string[];
  /**
   * Registry host of the image (`ecr_repository_url`): the registry, without
   * a repository name (documented fix 2). Required.
   */
  readonly ecrRepositoryUrl: string;
  /**
   * Image tag of `zivohealth-production-ml-worker`.
   * @default "latest"
   */
  readonly imageTag?: string;
  /** Task execution role (pull, logs, secrets). Required. */
  readonly executionRoleArn: string;
  /** Task role (what the worker code does). Required. */
  readonly taskRoleArn: string;
  /** Role of the API host, allowed to send messages to the queue. Required. */
  readonly apiRoleArn: string;
  /** Database host without port (documented fix 1). Required. */
  readonly dbHost: string;
  /**
   * Database port.
   * @default 5432
   */
  readonly dbPort?: number;
  /** Database name. Required. */
  readonly dbName: string;
  /**
   * The data bucket the worker reads and writes (`AWS_S3_BUCKET`).
   * @default "zivohealth-data"
   */
  readonly dataBucketName?: string;
  /**
   * SSM prefix of the DB user and password parameters.
   * @default "/zivohealth/production"
   */
  readonly ssmParameterPrefix?: string;
  /**
   * Lowest task count; 0 lets the service scale to zero.
   * @default 0
   */
  readonly minCapacity?: number;
  /**
   * Highest task count.
   * @default 3
   */
  readonly maxCapacity?: number;
  /**
   * Target of the queue-depth tracking policy (visible messages).
   * @default 0.5
   */
  readonly targetQueueDepth?: number;
  /**
   * Night scale-down (02:00 UTC) and morning scale-up (08:00 UTC) actions.
   * @default false
   */
  readonly enableScheduledScaling?: boolean;
  /**
   * `sqs` (queue only), `aggregation` (background lab categorization, needs
   * one task always) or `both`.
   * @default "aggregation"
   */
  readonly workerMode?: WorkerMode;
  /**
   * Task CPU units; with `memoryMiB`, a size Fargate accepts.
   * @default 512
   */
  readonly cpu?: number;
  /**
   * Task memory in MiB (3 GB fits the BioBERT model).
   * @default 3072
   */
  readonly memoryMiB?: number;
  /**
   * What every resource of the worker waits for (the HCL module's
   * `depends_on`, the VPC endpoints). Resources only: the caller identity
   * data source is not deferred (see the constructor).
   * @default - nothing
   */
  readonly dependsOn?: ITerraformDependable[];
  /**
   * Prefix of this construct's Terraform addresses (`aws_sqs_queue.<prefix>_ml_worker`).
   * @default "ml_worker"
   */
  readonly addressPrefix?: string;
  /**
   * `lifecycle.prevent_destroy` on the stateful resources (queues, cluster,
   * log group), so a rename plans an error instead of a replacement.
   * @default true
   */
  readonly preventDestroy?: boolean;

  // ---- hardened profile: every setting off by default ----

  /**
   * Server-side encryption of both queues. In place in a plan.
   * @default - none (as the HCL)
   */
  readonly queueEncryption?: QueueEncryption;
  /**
   * Scale on backlog per running task (metric math: visible messages divided
   * by running tasks) instead of raw queue depth, so one message starts one
   * task. In place in a plan.
   * @default false
   */
  readonly backlogPerTaskScaling?: boolean;
  /**
   * Weight of on-demand FARGATE beside FARGATE_SPOT (100) in the service's
   * strategy, with `force_new_deployment` so the strategy change deploys in
   * place instead of replacing the service.
   * @default 0 - Spot only
   */
  readonly onDemandWeight?: number;
  /**
   * Seconds the container gets after SIGTERM (a Spot interruption) to finish
   * or return its message; Fargate allows up to 120. Replaces the task
   * definition revision (a new revision; the old one is deregistered).
   * @default - ECS default (30 s)
   */
  readonly stopTimeoutSeconds?: number;
  /**
   * Deployment circuit breaker with rollback. In place.
   * @default false
   */
  readonly deploymentCircuitBreaker?: boolean;
  /**
   * Send alarm actions to a new SNS topic, with an optional e-mail subscription.
   * @default - alarms have no actions (as the HCL)
   */
  readonly alarmNotifications?: { readonly email?: string };
  /**
   * Log retention in days.
   * @default 7
   */
  readonly logRetentionDays?: number;
  /**
   * KMS key ARN that encrypts the log group. In place.
   * @default - none
   */
  readonly logKmsKeyArn?: string;
  /**
   * Create a KMS key (with rotation, usable by CloudWatch Logs for this log
   * group only) and encrypt the log group with it. In place for the log group.
   * @default false
   */
  readonly createLogKmsKey?: boolean;
}

/** The props MlWorker knows; anything else is refused, with the closest name. */
export const ML_WORKER_PROP_KEYS: KnownKeys<MlWorkerProps> = {
  environment: true,
  awsRegion: true,
  vpcId: true,
  privateSubnetIds: true,
  ecrRepositoryUrl: true,
  imageTag: true,
  executionRoleArn: true,
  taskRoleArn: true,
  apiRoleArn: true,
  dbHost: true,
  dbPort: true,
  dbName: true,
  dataBucketName: true,
  ssmParameterPrefix: true,
  minCapacity: true,
  maxCapacity: true,
  targetQueueDepth: true,
  enableScheduledScaling: true,
  workerMode: true,
  cpu: true,
  memoryMiB: true,
  dependsOn: true,
  addressPrefix: true,
  preventDestroy: true,
  queueEncryption: true,
  backlogPerTaskScaling: true,
  onDemandWeight: true,
  stopTimeoutSeconds: true,
  deploymentCircuitBreaker: true,
  alarmNotifications: true,
  logRetentionDays: true,
  logKmsKeyArn: true,
  createLogKmsKey: true,
};

/** Every problem with MlWorker props, each naming the prop. */
export function validateMlWorkerProps(props: MlWorkerProps): string[] {
  const p = props as unknown as Record<string, unknown>;
  const region = props.awsRegion ?? "us-east-1";
  const problems = [
    ...checkKnownKeys("", props, ML_WORKER_PROP_KEYS),
    ...checkRegion("awsRegion", region),
    ...checkString("environment", props.environment, NAME, "lower-case letters, digits and hyphens"),
    ...checkOneOf("workerMode", props.workerMode ?? "aggregation", WORKER_MODES),
    ...checkCapacities(
      { min: "minCapacity", max: "maxCapacity", target: "targetQueueDepth" },
      props.minCapacity ?? 0,
      props.maxCapacity ?? 3,
      props.targetQueueDepth ?? 0.5,
    ),
    ...checkFargateSize("cpu", props.cpu ?? 512, "memoryMiB", props.memoryMiB ?? 3072),
    ...checkRoleArn("executionRoleArn", props.executionRoleArn),
    ...checkRoleArn("taskRoleArn", props.taskRoleArn),
    ...checkRoleArn("apiRoleArn", props.apiRoleArn),
    ...checkString("vpcId", props.vpcId),
    ...checkString("ecrRepositoryUrl", props.ecrRepositoryUrl),
    ...checkString("dbHost", props.dbHost),
    ...checkString("dbName", props.dbName),
    ...checkString("dataBucketName", props.dataBucketName ?? "zivohealth-data"),
    ...checkNumber("dbPort", props.dbPort ?? 5432, { integer: true, min: 1, max: 65535 }),
    ...checkString("ssmParameterPrefix", props.ssmParameterPrefix ?? "/zivohealth/production", /^\/[A-Za-z0-9_.\-/]*[^/]$/, "an SSM path like /zivohealth/production"),
  ];
  if (!Array.isArray(p.privateSubnetIds) && !Token.isUnresolved(p.privateSubnetIds)) {
    problems.push(`privateSubnetIds must be a list of subnet ids (got ${JSON.stringify(p.privateSubnetIds)})`);
  }
  return [...problems, ...checkHardening("", props, region)];
}

export class MlWorker extends Construct {
  public readonly queue: SqsQueue;
  public readonly deadLetterQueue: SqsQueue;
  public readonly cluster: EcsCluster;
  public readonly logGroup: CloudwatchLogGroup;
  public readonly taskDefinition: EcsTaskDefinition;
  public readonly service: EcsService;
  public readonly securityGroup: SecurityGroup;
  public readonly scalableTarget: AppautoscalingTarget;
  public readonly scalingPolicy: AppautoscalingPolicy;
  /** The log group's key, when `createLogKmsKey` is set. */
  public readonly logKey?: KmsKey;
  /** The alarm topic, when `alarmNotifications` is set. */
  public readonly alarmTopic?: SnsTopic;
  /** The container definitions as an object (the task definition holds them as JSON). */
  public readonly containerDefinitions: ContainerDefinition[];

  /** `sqs_queue_url` */
  public readonly sqsQueueUrl: string;
  /** `sqs_queue_arn` */
  public readonly sqsQueueArn: string;
  /** `sqs_dlq_url` */
  public readonly sqsDlqUrl: string;
  /** `sqs_dlq_arn` */
  public readonly sqsDlqArn: string;
  /** `ecs_cluster_name` */
  public readonly ecsClusterName: string;
  /** `ecs_cluster_arn` */
  public readonly ecsClusterArn: string;
  /** `ecs_service_name` */
  public readonly ecsServiceName: string;
  /** `ecs_task_definition_arn` */
  public readonly ecsTaskDefinitionArn: string;
  /** `cloudwatch_log_group` */
  public readonly cloudwatchLogGroup: string;
  /** `security_group_id` */
  public readonly securityGroupId: string;

  constructor(scope: Construct, id: string, props: MlWorkerProps) {
    super(scope, id);
    throwIfProblems(`MlWorker props (${this.node.path})`, validateMlWorkerProps(props));

    const env = props.environment;
    const region = props.awsRegion ?? "us-east-1";
    const imageTag = props.imageTag ?? "latest";
    const dbPort = props.dbPort ?? 5432;
    const ssmPrefix = props.ssmParameterPrefix ?? "/zivohealth/production";
    const minCapacity = props.minCapacity ?? 0;
    const maxCapacity = props.maxCapacity ?? 3;
    const targetQueueDepth = props.targetQueueDepth ?? 0.5;
    const workerMode = props.workerMode ?? "aggregation";
    const prefix = props.addressPrefix ?? "ml_worker";
    const preventDestroy = props.preventDestroy ?? true;
    const onDemandWeight = props.onDemandWeight ?? 0;
    const pin = <T extends TerraformResource | TerraformDataSource>(element: T, name: string): T =>
      pinAddress(element, prefix, name);
    const stateful = preventDestroy ? { preventDestroy: true } : undefined;
    const sse =
      props.queueEncryption?.type === "sse-sqs"
        ? { sqsManagedSseEnabled: true }
        : props.queueEncryption?.type === "kms"
          ? { kmsMasterKeyId: props.queueEncryption.kmsKeyId }
          : {};

    const current = pin(new DataAwsCallerIdentity(this, "current"), "current");

    // ---- SQS: queue and dead-letter queue ----
    this.deadLetterQueue = pin(
      new SqsQueue(this, "ml_worker_dlq", {
        name: `${env}-ml-worker-dlq`,
        messageRetentionSeconds: 1209600, // 14 days
        ...sse,
        tags: { Name: `${env}-ml-worker-dlq`, Environment: env, Purpose: "ML Worker Dead Letter Queue" },
        lifecycle: stateful,
      }),
      "ml_worker_dlq",
    );
    this.queue = pin(
      new SqsQueue(this, "ml_worker", {
        name: `${env}-ml-worker`,
        delaySeconds: 0,
        maxMessageSize: 262144,
        messageRetentionSeconds: 345600, // 4 days
        receiveWaitTimeSeconds: 20,
        visibilityTimeoutSeconds: 300,
        redrivePolicy: JSON.stringify({ deadLetterTargetArn: this.deadLetterQueue.arn, maxReceiveCount: 3 }),
        ...sse,
        tags: { Name: `${env}-ml-worker`, Environment: env, Purpose: "ML Worker Job Queue" },
        lifecycle: stateful,
      }),
      "ml_worker",
    );
    pin(
      new SqsQueuePolicy(this, "ml_worker_policy", {
        queueUrl: this.queue.id,
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "AllowAPIToSendMessages",
              Effect: "Allow",
              Principal: { AWS: props.apiRoleArn },
              Action: ["sqs:SendMessage", "sqs:GetQueueUrl"],
              Resource: this.queue.arn,
            },
          ],
        }),
      }),
      "ml_worker",
    );

    // ---- CloudWatch alarms ----
    if (props.alarmNotifications) {
      this.alarmTopic = pin(new SnsTopic(this, "alarms", { name: `${env}-ml-worker-alarms`, tags: { Environment: env } }), "alarms");
      if (props.alarmNotifications.email) {
        pin(
          new SnsTopicSubscription(this, "alarms_email", {
            topicArn: this.alarmTopic.arn,
            protocol: "email",
            endpoint: props.alarmNotifications.email,
          }),
          "alarms_email",
        );
      }
    }
    const alarmActions = this.alarmTopic ? [this.alarmTopic.arn] : [];
    pin(
      new CloudwatchMetricAlarm(this, "queue_depth_high", {
        alarmName: `${env}-ml-worker-queue-depth-high`,
        comparisonOperator: "GreaterThanThreshold",
        evaluationPeriods: 2,
        metricName: "ApproximateNumberOfMessagesVisible",
        namespace: "AWS/SQS",
        period: 300,
        statistic: "Average",
        threshold: 10,
        alarmDescription: "This metric monitors ML worker queue depth",
        alarmActions,
        dimensions: { QueueName: this.queue.name },
      }),
      "queue_depth_high",
    );
    pin(
      new CloudwatchMetricAlarm(this, "dlq_messages", {
        alarmName: `${env}-ml-worker-dlq-messages`,
        comparisonOperator: "GreaterThanThreshold",
        evaluationPeriods: 1,
        metricName: "ApproximateNumberOfMessagesVisible",
        namespace: "AWS/SQS",
        period: 300,
        statistic: "Sum",
        threshold: 1,
        alarmDescription: "Alert when messages enter DLQ",
        alarmActions,
        dimensions: { QueueName: this.deadLetterQueue.name },
      }),
      "dlq_messages",
    );

    // ---- ECS cluster (Fargate Spot first) ----
    this.cluster = pin(
      new EcsCluster(this, "ml_worker_cluster", {
        name: `${env}-ml-worker-cluster`,
        setting: [{ name: "containerInsights", value: "enabled" }],
        tags: { Name: `${env}-ml-worker-cluster`, Environment: env },
        lifecycle: stateful,
      }),
      "ml_worker",
    );
    pin(
      new EcsClusterCapacityProviders(this, "ml_worker_capacity_providers", {
        clusterName: this.cluster.name,
        capacityProviders: ["FARGATE_SPOT", "FARGATE"],
        defaultCapacityProviderStrategy: [{ base: 0, weight: 100, capacityProvider: "FARGATE_SPOT" }],
      }),
      "ml_worker",
    );

    // ---- Logs ----
    const logGroupName = `/ecs/${env}-ml-worker`;
    if (props.createLogKmsKey) {
      this.logKey = pin(
        new KmsKey(this, "logs_key", {
          description: `Encrypts the ${logGroupName} log group`,
          enableKeyRotation: true,
          policy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Sid: "AccountAdministers",
                Effect: "Allow",
                Principal: { AWS: `arn:aws:iam::${current.accountId}:root` },
                Action: "kms:*",
                Resource: "*",
              },
              {
                Sid: "CloudWatchLogsUsesForThisLogGroup",
                Effect: "Allow",
                Principal: { Service: `logs.${region}.amazonaws.com` },
                Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                Resource: "*",
                Condition: {
                  ArnEquals: {
                    "kms:EncryptionContext:aws:logs:arn": `arn:aws:logs:${region}:${current.accountId}:log-group:${logGroupName}`,
                  },
                },
              },
            ],
          }),
          tags: { Name: `${env}-ml-worker-logs`, Environment: env },
        }),
        "logs",
      );
    }
    this.logGroup = pin(
      new CloudwatchLogGroup(this, "ml_worker_logs", {
        name: logGroupName,
        retentionInDays: props.logRetentionDays ?? 7,
        kmsKeyId: this.logKey?.arn ?? props.logKmsKeyArn,
        tags: { Name: `${env}-ml-worker-logs`, Environment: env },
        lifecycle: stateful,
      }),
      "ml_worker",
    );

    // ---- Task definition ----
    this.containerDefinitions = [
      {
        name: "ml-worker",
        image: `${props.ecrRepositoryUrl}/zivohealth-production-ml-worker:${imageTag}`,
        essential: true,
        environment: [
          ["AWS_REGION", region],
          ["ML_WORKER_MODE", workerMode],
          ["ML_WORKER_SQS_QUEUE_URL", this.queue.url],
          ["ML_WORKER_BATCH_SIZE", "1"],
          ["ML_WORKER_WAIT_TIME", "20"],
          ["ML_WORKER_VISIBILITY_TIMEOUT", "300"],
          ["POSTGRES_SERVER", props.dbHost],
          ["POSTGRES_PORT", Token.asString(dbPort)],
          ["POSTGRES_DB", props.dbName],
          ["ENVIRONMENT", env],
          ["PROJECT_NAME", "zivohealth"],
          ["VERSION", "1.0.0"],
          ["PROJECT_VERSION", "1.0.0"],
          ["API_V1_STR", "/api/v1"],
          ["SERVER_HOST", "0.0.0.0"],
          ["SERVER_PORT", "8000"],
          // Placeholders the shared settings module requires; the worker never uses them.
          ["SECRET_KEY", "ml-worker-secret-key-not-used"],
          ["ACCESS_TOKEN_EXPIRE_MINUTES", "30"],
          ["ALGORITHM", "HS256"],
          ["REDIS_HOST", "localhost"],
          ["REDIS_PORT", "6379"],
          ["REDIS_DB", "0"],
          ["AWS_S3_BUCKET", props.dataBucketName ?? "zivohealth-data"],
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
        ].map(([name, value]) => ({ name, value })),
        secrets: [
          { name: "POSTGRES_USER", valueFrom: `${ssmPrefix}/db/user` },
          { name: "POSTGRES_PASSWORD", valueFrom: `${ssmPrefix}/db/password` },
          {
            name: "OPENAI_API_KEY",
            valueFrom: `arn:aws:ssm:${region}:${current.accountId}:parameter/zivohealth/${env}/openai/api_key`,
          },
        ],
        logConfiguration: {
          logDriver: "awslogs",
          options: {
            "awslogs-group": this.logGroup.name,
            "awslogs-region": region,
            "awslogs-stream-prefix": "ml-worker",
          },
        },
        healthCheck: {
          command: ["CMD-SHELL", "/app/healthcheck.sh || exit 1"],
          interval: 30,
          timeout: 5,
          retries: 3,
          startPeriod: 60,
        },
        ...(props.stopTimeoutSeconds !== undefined ? { stopTimeout: props.stopTimeoutSeconds } : {}),
      },
    ];
    this.taskDefinition = pin(
      new EcsTaskDefinition(this, "ml_worker_task", {
        family: `${env}-ml-worker`,
        requiresCompatibilities: ["FARGATE"],
        networkMode: "awsvpc",
        cpu: String(props.cpu ?? 512),
        memory: String(props.memoryMiB ?? 3072),
        executionRoleArn: props.executionRoleArn,
        taskRoleArn: props.taskRoleArn,
        containerDefinitions: JSON.stringify(this.containerDefinitions),
        tags: { Name: `${env}-ml-worker-task`, Environment: env },
      }),
      "ml_worker",
    );

    // ---- Security group (egress only) ----
    this.securityGroup = pin(
      new SecurityGroup(this, "ml_worker_sg", {
        namePrefix: `${env}-ml-worker-`,
        description: "Security group for ML Worker Fargate tasks",
        vpcId: props.vpcId,
        egress: [
          {
            fromPort: 0,
            toPort: 0,
            protocol: "-1",
            cidrBlocks: ["0.0.0.0/0"],
          },
        ],
        tags: { Name: `${env}-ml-worker-sg`, Environment: env },
      }),
      "ml_worker",
    );

    // ---- Service (autoscaling owns desired_count after creation) ----
    const strategy = [{ capacityProvider: "FARGATE_SPOT", weight: 100, base: 0 }];
    if (onDemandWeight > 0) strategy.push({ capacityProvider: "FARGATE", weight: onDemandWeight, base: 0 });
    this.service = pin(
      new EcsService(this, "ml_worker_service", {
        name: `${env}-ml-worker`,
        cluster: this.cluster.id,
        taskDefinition: this.taskDefinition.arn,
        desiredCount: minCapacity,
        networkConfiguration: {
          subnets: props.privateSubnetIds,
          securityGroups: [this.securityGroup.id],
          // Tasks run in public subnets and need a public IP for internet egress.
          assignPublicIp: true,
        },
        capacityProviderStrategy: strategy,
        // A strategy change replaces the service unless a new deployment is forced.
        ...(onDemandWeight > 0 ? { forceNewDeployment: true } : {}),
        ...(props.deploymentCircuitBreaker ? { deploymentCircuitBreaker: { enable: true, rollback: true } } : {}),
        lifecycle: { ignoreChanges: ["desired_count"] },
        tags: { Name: `${env}-ml-worker-service`, Environment: env },
      }),
      "ml_worker",
    );

    // ---- Autoscaling on queue depth ----
    this.scalableTarget = pin(
      new AppautoscalingTarget(this, "ml_worker_target", {
        maxCapacity,
        minCapacity,
        resourceId: `service/${this.cluster.name}/${this.service.name}`,
        scalableDimension: "ecs:service:DesiredCount",
        serviceNamespace: "ecs",
      }),
      "ml_worker",
    );
    this.scalingPolicy = pin(
      new AppautoscalingPolicy(this, "ml_worker_scale_up", {
        name: `${env}-ml-worker-scale-up`,
        policyType: "TargetTrackingScaling",
        resourceId: this.scalableTarget.resourceId,
        scalableDimension: this.scalableTarget.scalableDimension,
        serviceNamespace: this.scalableTarget.serviceNamespace,
        targetTrackingScalingPolicyConfiguration: {
          targetValue: targetQueueDepth,
          scaleInCooldown: 300,
          scaleOutCooldown: 60,
          customizedMetricSpecification: props.backlogPerTaskScaling
            ? backlogPerTaskMetric(this.queue.name, this.cluster.name, this.service.name)
            : {
                metricName: "ApproximateNumberOfMessagesVisible",
                namespace: "AWS/SQS",
                statistic: "Average",
                unit: "Count",
                dimensions: [{ name: "QueueName", value: this.queue.name }],
              },
        },
      }),
      "ml_worker_scale_up",
    );
    if (props.enableScheduledScaling) {
      pin(
        new AppautoscalingScheduledAction(this, "scale_down_night", {
          name: `${env}-ml-worker-scale-down-night`,
          serviceNamespace: this.scalableTarget.serviceNamespace,
          resourceId: this.scalableTarget.resourceId,
          scalableDimension: this.scalableTarget.scalableDimension,
          schedule: "cron(0 2 * * ? *)",
          scalableTargetAction: { minCapacity: "0", maxCapacity: String(maxCapacity) },
        }),
        "ml_worker_scale_down_night",
      );
      pin(
        new AppautoscalingScheduledAction(this, "scale_up_morning", {
          name: `${env}-ml-worker-scale-up-morning`,
          serviceNamespace: this.scalableTarget.serviceNamespace,
          resourceId: this.scalableTarget.resourceId,
          scalableDimension: this.scalableTarget.scalableDimension,
          schedule: "cron(0 8 * * ? *)",
          scalableTargetAction: { minCapacity: String(minCapacity), maxCapacity: String(maxCapacity) },
        }),
        "ml_worker_scale_up_morning",
      );
    }

    // The HCL module's depends_on, on resources only. Unlike the HCL (where it
    // also covers data.aws_caller_identity), the data source gets none: a data
    // source that depends on something with pending changes is read at apply,
    // which makes the container definitions unknown and replaces the task
    // definition on every plan while module.vpc_endpoints has changes.
    if (props.dependsOn?.length) {
      for (const child of this.node.findAll()) {
        if (child instanceof TerraformResource) {
          child.dependsOn = [...(child.dependsOn ?? []), ...props.dependsOn.map(dependable)];
        }
      }
    }

    this.sqsQueueUrl = this.queue.url;
    this.sqsQueueArn = this.queue.arn;
    this.sqsDlqUrl = this.deadLetterQueue.url;
    this.sqsDlqArn = this.deadLetterQueue.arn;
    this.ecsClusterName = this.cluster.name;
    this.ecsClusterArn = this.cluster.arn;
    this.ecsServiceName = this.service.name;
    this.ecsTaskDefinitionArn = this.taskDefinition.arn;
    this.cloudwatchLogGroup = this.logGroup.name;
    this.securityGroupId = this.securityGroup.id;
  }
}

/** One container of the task definition, in the ECS API's shape. */
export interface ContainerDefinition {
  readonly name: string;
  readonly image: string;
  readonly essential: boolean;
  readonly environment: { name: string; value: string }[];
  readonly secrets: { name: string; valueFrom: string }[];
  readonly logConfiguration: { logDriver: string; options: Record<string, string> };
  readonly healthCheck: { command: string[]; interval: number; timeout: number; retries: number; startPeriod: number };
  readonly stopTimeout?: number;
}

/** Visible messages per running task: one message wants one task. */
function backlogPerTaskMetric(queueName: string, clusterName: string, serviceName: string) {
  return {
    metrics: [
      {
        id: "visible",
        returnData: false,
        metricStat: {
          stat: "Average",
          metric: {
            metricName: "ApproximateNumberOfMessagesVisible",
            namespace: "AWS/SQS",
            dimensions: [{ name: "QueueName", value: queueName }],
          },
        },
      },
      {
        id: "running",
        returnData: false,
        metricStat: {
          stat: "Average",
          metric: {
            metricName: "RunningTaskCount",
            namespace: "ECS/ContainerInsights",
            dimensions: [
              { name: "ClusterName", value: clusterName },
              { name: "ServiceName", value: serviceName },
            ],
          },
        },
      },
      {
        id: "backlog_per_task",
        // With no task running, Container Insights reports no data: FILL makes
        // it 0 and the whole backlog counts against one task, so scale-out
        // from zero still happens.
        expression: "visible / IF(FILL(running, 0) > 0, FILL(running, 0), 1)",
        label: "Visible messages per running task",
        returnData: true,
      },
    ],
  };
}
