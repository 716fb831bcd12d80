// The ML worker's alarms (HCL modules/ml_worker, "CloudWatch Alarms for Queue
// Monitoring"): queue depth high and messages in the DLQ. Without actions, as
// the HCL; the hardened profile's `alarmNotifications` sends them to an SNS
// topic (with an optional e-mail subscription) created here.
import { TerraformElement } from "cdktf";
import { Construct } from "constructs";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { pinAddress } from "../address";
import { KnownKeys, NAME, checkHardening, checkKnownKeys, checkString, throwIfProblems } from "../validation";
import { ML_WORKER_DEFAULTS } from "./defaults";

export interface MlWorkerAlarmsProps {
  /** Environment name; prefixes the alarm and topic names. Required. */
  readonly environment: string;
  /** Name of the job queue (the depth alarm's dimension). Required. */
  readonly queueName: string;
  /** Name of the dead-letter queue (the DLQ alarm's dimension). Required. */
  readonly deadLetterQueueName: string;
  /**
   * Send alarm actions to a new SNS topic, with an optional e-mail subscription.
   * @default - alarms have no actions (as the HCL)
   */
  readonly alarmNotifications?: { readonly email?: string };
  /**
   * Prefix of the addresses (`aws_cloudwatch_metric_alarm.<prefix>_dlq_messages`).
   * @default "ml_worker"
   */
  readonly addressPrefix?: string;
}

const ALARMS_PROP_KEYS: KnownKeys<MlWorkerAlarmsProps> = {
  environment: true,
  queueName: true,
  deadLetterQueueName: true,
  alarmNotifications: true,
  addressPrefix: true,
};

/** Every problem with MlWorkerAlarms props, each naming the prop. */
export function validateMlWorkerAlarmsProps(props: MlWorkerAlarmsProps): string[] {
  return [
    ...checkKnownKeys("", props, ALARMS_PROP_KEYS),
    ...checkString("environment", props.environment, NAME, "lower-case letters, digits and hyphens"),
    ...checkString("queueName", props.queueName),
    ...checkString("deadLetterQueueName", props.deadLetterQueueName),
    ...checkHardening("", { alarmNotifications: props.alarmNotifications }, undefined),
  ];
}

export class MlWorkerAlarms extends Construct {
  /** The alarm topic, when `alarmNotifications` is set. */
  public readonly alarmTopic?: SnsTopic;
  /** `aws_cloudwatch_metric_alarm.queue_depth_high`: over 10 visible messages for 10 minutes. */
  public readonly queueDepthHigh: CloudwatchMetricAlarm;
  /** `aws_cloudwatch_metric_alarm.dlq_messages`: any message in the DLQ. */
  public readonly dlqMessages: CloudwatchMetricAlarm;

  constructor(scope: Construct, id: string, props: MlWorkerAlarmsProps) {
    super(scope, id);
    throwIfProblems(`MlWorkerAlarms props (${this.node.path})`, validateMlWorkerAlarmsProps(props));
    const env = props.environment;
    const prefix = props.addressPrefix ?? ML_WORKER_DEFAULTS.addressPrefix;
    const pin = <T extends TerraformElement>(element: T, name: string): T => pinAddress(element, prefix, name);

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
    this.queueDepthHigh = pin(
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
        dimensions: { QueueName: props.queueName },
      }),
      "queue_depth_high",
    );
    this.dlqMessages = pin(
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
        dimensions: { QueueName: props.deadLetterQueueName },
      }),
      "dlq_messages",
    );
  }
}
