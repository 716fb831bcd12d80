// The ML worker's task definition, service and security group (HCL
// modules/ml_worker, "ECS Task Definition", "ECS Service with Auto-Scaling",
// "Security Group for ML Worker"): one Fargate task on Spot, egress only,
// with a public IP in the given subnets. The security group comes before the
// service here because the service references it.
import { TerraformElement, Token } from "cdktf";
import { Construct } from "constructs";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { pinAddress } from "../address";
import {
  KnownKeys,
  MAX_TASKS_PER_SERVICE,
  NAME,
  checkFargateSize,
  checkHardening,
  checkKnownKeys,
  checkNumber,
  checkRoleArn,
  checkString,
  show,
  throwIfProblems,
} from "../validation";
import { ContainerDefinition } from "./container-definition";
import { ML_WORKER_DEFAULTS } from "./defaults";

export interface MlWorkerServiceProps {
  /** Environment name; prefixes the family, service and security group names. Required. */
  readonly environment: string;
  /** VPC of the security group. Required. */
  readonly vpcId: string;
  /** Subnets of the tasks (the HCL's `private_subnet_ids`). Required. */
  readonly privateSubnetIds: string[];
  /** Cluster the service runs in (its id, the ARN). Required. */
  readonly clusterId: string;
  /** Task execution role (pull, logs, secrets). Required. */
  readonly executionRoleArn: string;
  /** Task role (what the worker code does). Required. */
  readonly taskRoleArn: string;
  /** The task's containers (`mlWorkerContainerDefinition`). Required. */
  readonly containerDefinitions: ContainerDefinition[];
  /**
   * Task CPU units; with `memoryMiB`, a size Fargate accepts.
   * @default 512
   */
  readonly cpu?: number;
  /**
   * Task memory in MiB.
   * @default 3072
   */
  readonly memoryMiB?: number;
  /**
   * Task count the service is created with; autoscaling owns it afterwards
   * (`ignore_changes = [desired_count]`). MlWorker passes `minCapacity`.
   * @default 0
   */
  readonly desiredCount?: number;
  /**
   * Weight of on-demand FARGATE beside FARGATE_SPOT (100), with
   * `force_new_deployment` so the change deploys in place.
   * @default 0 - Spot only
   */
  readonly onDemandWeight?: number;
  /**
   * Deployment circuit breaker with rollback. In place.
   * @default false
   */
  readonly deploymentCircuitBreaker?: boolean;
  /**
   * Prefix of the addresses (`aws_ecs_service.<prefix>_ml_worker`).
   * @default "ml_worker"
   */
  readonly addressPrefix?: string;
}

const SERVICE_PROP_KEYS: KnownKeys<MlWorkerServiceProps> = {
  environment: true,
  vpcId: true,
  privateSubnetIds: true,
  clusterId: true,
  executionRoleArn: true,
  taskRoleArn: true,
  containerDefinitions: true,
  cpu: true,
  memoryMiB: true,
  desiredCount: true,
  onDemandWeight: true,
  deploymentCircuitBreaker: true,
  addressPrefix: true,
};

/** Every problem with MlWorkerService props, each naming the prop. */
export function validateMlWorkerServiceProps(props: MlWorkerServiceProps): string[] {
  const p = props as unknown as Record<string, unknown>;
  const { onDemandWeight, deploymentCircuitBreaker } = props;
  const problems = [
    ...checkKnownKeys("", props, SERVICE_PROP_KEYS),
    ...checkString("environment", props.environment, NAME, "lower-case letters, digits and hyphens"),
    ...checkString("vpcId", props.vpcId),
    ...checkString("clusterId", props.clusterId),
    ...checkRoleArn("executionRoleArn", props.executionRoleArn),
    ...checkRoleArn("taskRoleArn", props.taskRoleArn),
    ...checkFargateSize("cpu", props.cpu ?? ML_WORKER_DEFAULTS.cpu, "memoryMiB", props.memoryMiB ?? ML_WORKER_DEFAULTS.memoryMiB),
    ...checkNumber("desiredCount", props.desiredCount ?? 0, { integer: true, min: 0, max: MAX_TASKS_PER_SERVICE }),
    ...checkHardening("", { onDemandWeight, deploymentCircuitBreaker }, undefined),
  ];
  if (!Array.isArray(p.privateSubnetIds) && !Token.isUnresolved(p.privateSubnetIds)) {
    problems.push(`privateSubnetIds must be a list of subnet ids (got ${show(p.privateSubnetIds)})`);
  }
  if (!Array.isArray(p.containerDefinitions) || p.containerDefinitions.length === 0) {
    problems.push(`containerDefinitions must be a non-empty list of container definitions (got ${show(p.containerDefinitions)})`);
  }
  return problems;
}

export class MlWorkerService extends Construct {
  /** `aws_ecs_task_definition.ml_worker` */
  public readonly taskDefinition: EcsTaskDefinition;
  /** `aws_security_group.ml_worker`: egress only. */
  public readonly securityGroup: SecurityGroup;
  /** `aws_ecs_service.ml_worker` */
  public readonly service: EcsService;

  private readonly addressPrefix: string;

  constructor(scope: Construct, id: string, props: MlWorkerServiceProps) {
    super(scope, id);
    throwIfProblems(`MlWorkerService props (${this.node.path})`, validateMlWorkerServiceProps(props));
    this.addressPrefix = props.addressPrefix ?? ML_WORKER_DEFAULTS.addressPrefix;
    this.taskDefinition = this.addTaskDefinition(props);
    this.securityGroup = this.addSecurityGroup(props);
    this.service = this.addService(props, this.taskDefinition, this.securityGroup);
  }

  private pin<T extends TerraformElement>(element: T, name: string): T {
    return pinAddress(element, this.addressPrefix, name);
  }

  /** One Fargate task of the given size, its containers as JSON. */
  private addTaskDefinition(props: MlWorkerServiceProps): EcsTaskDefinition {
    const env = props.environment;
    const taskDefinition = new EcsTaskDefinition(this, "ml_worker_task", {
      family: `${env}-ml-worker`,
      requiresCompatibilities: ["FARGATE"],
      networkMode: "awsvpc",
      cpu: String(props.cpu ?? ML_WORKER_DEFAULTS.cpu),
      memory: String(props.memoryMiB ?? ML_WORKER_DEFAULTS.memoryMiB),
      executionRoleArn: props.executionRoleArn,
      taskRoleArn: props.taskRoleArn,
      containerDefinitions: JSON.stringify(props.containerDefinitions),
      tags: { Name: `${env}-ml-worker-task`, Environment: env },
    });
    return this.pin(taskDefinition, "ml_worker");
  }

  /** Egress anywhere, no ingress: the worker only pulls from the queue. */
  private addSecurityGroup(props: MlWorkerServiceProps): SecurityGroup {
    const env = props.environment;
    const securityGroup = new SecurityGroup(this, "ml_worker_sg", {
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
    });
    return this.pin(securityGroup, "ml_worker");
  }

  /** Fargate Spot first; autoscaling owns desired_count after creation. */
  private addService(props: MlWorkerServiceProps, taskDefinition: EcsTaskDefinition, securityGroup: SecurityGroup): EcsService {
    const env = props.environment;
    const onDemandWeight = props.onDemandWeight ?? ML_WORKER_DEFAULTS.onDemandWeight;
    const strategy = [{ capacityProvider: "FARGATE_SPOT", weight: 100, base: 0 }];
    if (onDemandWeight > 0) strategy.push({ capacityProvider: "FARGATE", weight: onDemandWeight, base: 0 });
    const service = new EcsService(this, "ml_worker_service", {
      name: `${env}-ml-worker`,
      cluster: props.clusterId,
      taskDefinition: taskDefinition.arn,
      desiredCount: props.desiredCount ?? 0,
      networkConfiguration: {
        subnets: props.privateSubnetIds,
        securityGroups: [securityGroup.id],
        // Tasks run in public subnets and need a public IP for internet egress.
        assignPublicIp: true,
      },
      capacityProviderStrategy: strategy,
      // A strategy change replaces the service unless a new deployment is forced.
      ...(onDemandWeight > 0 ? { forceNewDeployment: true } : {}),
      ...(props.deploymentCircuitBreaker ? { deploymentCircuitBreaker: { enable: true, rollback: true } } : {}),
      lifecycle: { ignoreChanges: ["desired_count"] },
      tags: { Name: `${env}-ml-worker-service`, Environment: env },
    });
    return this.pin(service, "ml_worker");
  }
}
