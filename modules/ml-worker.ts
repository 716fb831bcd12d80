// Long: the props interface is the HCL module's variables one for one, each with its doc and default; the construct only composes its parts (modules/ml-worker/).
// Replaces the HCL module `modules/ml_worker`: an SQS-fed ECS Fargate Spot
// service with a DLQ, alarms, logs and queue-depth autoscaling. MlWorker keeps
// the module's variables (the props) and outputs (the fields); its parts, in
// modules/ml-worker/, build the resources in the HCL file's order: queues,
// alarms, cluster, logs, task definition and service (with the security
// group), autoscaling. Every part pins its addresses, so the parts' construct
// ids appear in no address.
import { ITerraformDependable, TerraformResource, Token, dependable } from "cdktf";
import { Construct } from "constructs";
import { AppautoscalingPolicy } from "@cdktf/provider-aws/lib/appautoscaling-policy";
import { AppautoscalingTarget } from "@cdktf/provider-aws/lib/appautoscaling-target";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { pinAddress } from "./address";
import { MlWorkerAlarms } from "./ml-worker/alarms";
import { MlWorkerCluster } from "./ml-worker/cluster";
import { WORKER_MODES, mlWorkerContainerDefinition } from "./ml-worker/container-definition";
import type { ContainerDefinition, WorkerMode } from "./ml-worker/container-definition";
import { ML_WORKER_DEFAULTS } from "./ml-worker/defaults";
import { MlWorkerLogs } from "./ml-worker/logs";
import { MlWorkerQueue } from "./ml-worker/queue";
import type { QueueEncryption } from "./ml-worker/queue";
import { MlWorkerScaling } from "./ml-worker/scaling";
import { MlWorkerService } from "./ml-worker/service";
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

export type { ContainerDefinition, QueueEncryption, WorkerMode };
export { WORKER_MODES };

export interface MlWorkerProps {
  // ---- the HCL module's variables, in its order (and the bucket it hard-codes) ----

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

  // ---- not variables of the HCL module: the task size it hard-codes, and construct settings ----

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
   * data source is not deferred (see MlWorker.dependOn).
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
  const d = ML_WORKER_DEFAULTS;
  const region = props.awsRegion ?? d.awsRegion;
  const problems = [
    ...checkKnownKeys("", props, ML_WORKER_PROP_KEYS),
    ...checkRegion("awsRegion", region),
    ...checkString("environment", props.environment, NAME, "lower-case letters, digits and hyphens"),
    ...checkOneOf("workerMode", props.workerMode ?? d.workerMode, WORKER_MODES),
    ...checkCapacities(
      { min: "minCapacity", max: "maxCapacity", target: "targetQueueDepth" },
      props.minCapacity ?? d.minCapacity,
      props.maxCapacity ?? d.maxCapacity,
      props.targetQueueDepth ?? d.targetQueueDepth,
    ),
    ...checkFargateSize("cpu", props.cpu ?? d.cpu, "memoryMiB", props.memoryMiB ?? d.memoryMiB),
    ...checkRoleArn("executionRoleArn", props.executionRoleArn),
    ...checkRoleArn("taskRoleArn", props.taskRoleArn),
    ...checkRoleArn("apiRoleArn", props.apiRoleArn),
    ...checkString("vpcId", props.vpcId),
    ...checkString("ecrRepositoryUrl", props.ecrRepositoryUrl),
    ...checkString("dbHost", props.dbHost),
    ...checkString("dbName", props.dbName),
    ...checkString("dataBucketName", props.dataBucketName ?? d.dataBucketName),
    ...checkNumber("dbPort", props.dbPort ?? d.dbPort, { integer: true, min: 1, max: 65535 }),
    ...checkString("ssmParameterPrefix", props.ssmParameterPrefix ?? d.ssmParameterPrefix, /^\/[A-Za-z0-9_.\-/]*[^/]$/, "an SSM path like /zivohealth/production"),
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
    // Unset props stay unset: each part resolves its own defaults (ML_WORKER_DEFAULTS).
    const { environment, awsRegion, addressPrefix, preventDestroy } = props;

    // ---- Data source: the account (the log key's policy, the OpenAI key's ARN) ----
    const current = pinAddress(new DataAwsCallerIdentity(this, "current"), addressPrefix ?? ML_WORKER_DEFAULTS.addressPrefix, "current");

    // ---- SQS: queue and dead-letter queue ----
    const { queue, deadLetterQueue } = new MlWorkerQueue(this, "queue", {
      environment,
      apiRoleArn: props.apiRoleArn,
      queueEncryption: props.queueEncryption,
      preventDestroy,
      addressPrefix,
    });
    this.queue = queue;
    this.deadLetterQueue = deadLetterQueue;

    // ---- CloudWatch alarms ----
    this.alarmTopic = new MlWorkerAlarms(this, "alarms", {
      environment,
      queueName: queue.name,
      deadLetterQueueName: deadLetterQueue.name,
      alarmNotifications: props.alarmNotifications,
      addressPrefix,
    }).alarmTopic;

    // ---- ECS cluster (Fargate Spot first) ----
    this.cluster = new MlWorkerCluster(this, "cluster", { environment, preventDestroy, addressPrefix }).cluster;

    // ---- Logs ----
    const { logKmsKeyArn, createLogKmsKey, logRetentionDays } = props;
    const logs = new MlWorkerLogs(this, "logs", {
      environment,
      awsRegion,
      accountId: current.accountId,
      logRetentionDays,
      logKmsKeyArn,
      createLogKmsKey,
      preventDestroy,
      addressPrefix,
    });
    this.logGroup = logs.logGroup;
    this.logKey = logs.logKey;

    // ---- Task definition, security group and service ----
    this.containerDefinitions = [this.container(props, current.accountId)];
    const service = new MlWorkerService(this, "service", {
      environment,
      vpcId: props.vpcId,
      privateSubnetIds: props.privateSubnetIds,
      clusterId: this.cluster.id,
      executionRoleArn: props.executionRoleArn,
      taskRoleArn: props.taskRoleArn,
      containerDefinitions: this.containerDefinitions,
      cpu: props.cpu,
      memoryMiB: props.memoryMiB,
      desiredCount: props.minCapacity,
      onDemandWeight: props.onDemandWeight,
      deploymentCircuitBreaker: props.deploymentCircuitBreaker,
      addressPrefix,
    });
    this.taskDefinition = service.taskDefinition;
    this.securityGroup = service.securityGroup;
    this.service = service.service;

    // ---- Autoscaling on queue depth ----
    const scaling = new MlWorkerScaling(this, "scaling", {
      environment,
      clusterName: this.cluster.name,
      serviceName: this.service.name,
      queueName: queue.name,
      minCapacity: props.minCapacity,
      maxCapacity: props.maxCapacity,
      targetQueueDepth: props.targetQueueDepth,
      backlogPerTaskScaling: props.backlogPerTaskScaling,
      enableScheduledScaling: props.enableScheduledScaling,
      addressPrefix,
    });
    this.scalableTarget = scaling.scalableTarget;
    this.scalingPolicy = scaling.scalingPolicy;

    this.dependOn(props.dependsOn ?? []);

    // ---- Outputs: the HCL module's, by name ----
    this.sqsQueueUrl = queue.url;
    this.sqsQueueArn = queue.arn;
    this.sqsDlqUrl = deadLetterQueue.url;
    this.sqsDlqArn = deadLetterQueue.arn;
    this.ecsClusterName = this.cluster.name;
    this.ecsClusterArn = this.cluster.arn;
    this.ecsServiceName = this.service.name;
    this.ecsTaskDefinitionArn = this.taskDefinition.arn;
    this.cloudwatchLogGroup = this.logGroup.name;
    this.securityGroupId = this.securityGroup.id;
  }

  /** The worker's container: the queue, the database, the logs and the secrets it uses. */
  private container(props: MlWorkerProps, accountId: string): ContainerDefinition {
    return mlWorkerContainerDefinition({
      environment: props.environment,
      awsRegion: props.awsRegion,
      ecrRepositoryUrl: props.ecrRepositoryUrl,
      imageTag: props.imageTag,
      workerMode: props.workerMode,
      queueUrl: this.queue.url,
      dbHost: props.dbHost,
      dbPort: props.dbPort,
      dbName: props.dbName,
      dataBucketName: props.dataBucketName,
      ssmParameterPrefix: props.ssmParameterPrefix,
      accountId,
      logGroupName: this.logGroup.name,
      stopTimeoutSeconds: props.stopTimeoutSeconds,
    });
  }

  /**
   * The HCL module's depends_on, on resources only. Unlike the HCL (where it
   * also covers data.aws_caller_identity), the data source gets none: a data
   * source that depends on something with pending changes is read at apply,
   * which makes the container definitions unknown and replaces the task
   * definition on every plan while module.vpc_endpoints has changes.
   */
  private dependOn(dependsOn: ITerraformDependable[]): void {
    if (dependsOn.length === 0) return;
    for (const child of this.node.findAll()) {
      if (child instanceof TerraformResource) {
        child.dependsOn = [...(child.dependsOn ?? []), ...dependsOn.map(dependable)];
      }
    }
  }
}
