// The ML worker's autoscaling (HCL modules/ml_worker, "Auto-Scaling
// Configuration"): the scalable target, target tracking on queue depth (or,
// hardened, on backlog per running task), and the optional night/morning
// scheduled actions.
import { TerraformElement } from "cdktf";
import { Construct } from "constructs";
import { AppautoscalingPolicy } from "@cdktf/provider-aws/lib/appautoscaling-policy";
import { AppautoscalingScheduledAction } from "@cdktf/provider-aws/lib/appautoscaling-scheduled-action";
import { AppautoscalingTarget } from "@cdktf/provider-aws/lib/appautoscaling-target";
import { pinAddress } from "../address";
import { KnownKeys, NAME, checkBoolean, checkCapacities, checkHardening, checkKnownKeys, checkString, throwIfProblems } from "../validation";
import { ML_WORKER_DEFAULTS } from "./defaults";

export interface MlWorkerScalingProps {
  /** Environment name; prefixes the policy and scheduled action names. Required. */
  readonly environment: string;
  /** Name of the cluster of the service. Required. */
  readonly clusterName: string;
  /** Name of the service to scale. Required. */
  readonly serviceName: string;
  /** Name of the job queue whose depth drives the scaling. Required. */
  readonly queueName: string;
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
   * Target of the tracking policy (visible messages, or per task with `backlogPerTaskScaling`).
   * @default 0.5
   */
  readonly targetQueueDepth?: number;
  /**
   * Scale on backlog per running task (visible messages divided by running
   * tasks) instead of raw queue depth. In place in a plan.
   * @default false
   */
  readonly backlogPerTaskScaling?: boolean;
  /**
   * Night scale-down (02:00 UTC) and morning scale-up (08:00 UTC) actions.
   * @default false
   */
  readonly enableScheduledScaling?: boolean;
  /**
   * Prefix of the addresses (`aws_appautoscaling_target.<prefix>_ml_worker`).
   * @default "ml_worker"
   */
  readonly addressPrefix?: string;
}

const SCALING_PROP_KEYS: KnownKeys<MlWorkerScalingProps> = {
  environment: true,
  clusterName: true,
  serviceName: true,
  queueName: true,
  minCapacity: true,
  maxCapacity: true,
  targetQueueDepth: true,
  backlogPerTaskScaling: true,
  enableScheduledScaling: true,
  addressPrefix: true,
};

/** Every problem with MlWorkerScaling props, each naming the prop. */
export function validateMlWorkerScalingProps(props: MlWorkerScalingProps): string[] {
  return [
    ...checkKnownKeys("", props, SCALING_PROP_KEYS),
    ...checkString("environment", props.environment, NAME, "lower-case letters, digits and hyphens"),
    ...checkString("clusterName", props.clusterName),
    ...checkString("serviceName", props.serviceName),
    ...checkString("queueName", props.queueName),
    ...checkCapacities(
      { min: "minCapacity", max: "maxCapacity", target: "targetQueueDepth" },
      props.minCapacity ?? ML_WORKER_DEFAULTS.minCapacity,
      props.maxCapacity ?? ML_WORKER_DEFAULTS.maxCapacity,
      props.targetQueueDepth ?? ML_WORKER_DEFAULTS.targetQueueDepth,
    ),
    ...checkHardening("", { backlogPerTaskScaling: props.backlogPerTaskScaling }, undefined),
    ...(props.enableScheduledScaling === undefined ? [] : checkBoolean("enableScheduledScaling", props.enableScheduledScaling)),
  ];
}

export class MlWorkerScaling extends Construct {
  /** `aws_appautoscaling_target.ml_worker`: the service's desired count, min to max. */
  public readonly scalableTarget: AppautoscalingTarget;
  /** `aws_appautoscaling_policy.ml_worker_scale_up`: target tracking. */
  public readonly scalingPolicy: AppautoscalingPolicy;
  /** The night scale-down and morning scale-up, when `enableScheduledScaling` is set. */
  public readonly scheduledActions: AppautoscalingScheduledAction[];
  /** Resolved `minCapacity`. */
  public readonly minCapacity: number;
  /** Resolved `maxCapacity`. */
  public readonly maxCapacity: number;
  private readonly addressPrefix: string;

  constructor(scope: Construct, id: string, props: MlWorkerScalingProps) {
    super(scope, id);
    throwIfProblems(`MlWorkerScaling props (${this.node.path})`, validateMlWorkerScalingProps(props));
    this.addressPrefix = props.addressPrefix ?? ML_WORKER_DEFAULTS.addressPrefix;
    this.minCapacity = props.minCapacity ?? ML_WORKER_DEFAULTS.minCapacity;
    this.maxCapacity = props.maxCapacity ?? ML_WORKER_DEFAULTS.maxCapacity;

    this.scalableTarget = this.pin(
      new AppautoscalingTarget(this, "ml_worker_target", {
        maxCapacity: this.maxCapacity,
        minCapacity: this.minCapacity,
        resourceId: `service/${props.clusterName}/${props.serviceName}`,
        scalableDimension: "ecs:service:DesiredCount",
        serviceNamespace: "ecs",
      }),
      "ml_worker",
    );
    this.scalingPolicy = this.addTrackingPolicy(props);
    this.scheduledActions = props.enableScheduledScaling ? this.addScheduledActions(props.environment) : [];
  }

  private pin<T extends TerraformElement>(element: T, name: string): T {
    return pinAddress(element, this.addressPrefix, name);
  }

  /** Scale out fast (60 s), in slowly (300 s), towards the target queue depth. */
  private addTrackingPolicy(props: MlWorkerScalingProps): AppautoscalingPolicy {
    const target = this.scalableTarget;
    const policy = new AppautoscalingPolicy(this, "ml_worker_scale_up", {
      name: `${props.environment}-ml-worker-scale-up`,
      policyType: "TargetTrackingScaling",
      resourceId: target.resourceId,
      scalableDimension: target.scalableDimension,
      serviceNamespace: target.serviceNamespace,
      targetTrackingScalingPolicyConfiguration: {
        targetValue: props.targetQueueDepth ?? ML_WORKER_DEFAULTS.targetQueueDepth,
        scaleInCooldown: 300,
        scaleOutCooldown: 60,
        customizedMetricSpecification: props.backlogPerTaskScaling
          ? backlogPerTaskMetric(props.queueName, props.clusterName, props.serviceName)
          : {
              metricName: "ApproximateNumberOfMessagesVisible",
              namespace: "AWS/SQS",
              statistic: "Average",
              unit: "Count",
              dimensions: [{ name: "QueueName", value: props.queueName }],
            },
      },
    });
    return this.pin(policy, "ml_worker_scale_up");
  }

  /** To zero at 02:00 UTC, back to the minimum at 08:00 UTC. */
  private addScheduledActions(env: string): AppautoscalingScheduledAction[] {
    const target = this.scalableTarget;
    const action = (id: string, name: string, schedule: string, minCapacity: number) =>
      this.pin(
        new AppautoscalingScheduledAction(this, id, {
          name: `${env}-ml-worker-${name}`,
          serviceNamespace: target.serviceNamespace,
          resourceId: target.resourceId,
          scalableDimension: target.scalableDimension,
          schedule,
          scalableTargetAction: { minCapacity: String(minCapacity), maxCapacity: String(this.maxCapacity) },
        }),
        `ml_worker_${id}`,
      );
    return [
      action("scale_down_night", "scale-down-night", "cron(0 2 * * ? *)", 0),
      action("scale_up_morning", "scale-up-morning", "cron(0 8 * * ? *)", this.minCapacity),
    ];
  }
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
