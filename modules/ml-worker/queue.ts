// The ML worker's queues (HCL modules/ml_worker, "SQS Queues for ML Worker
// Jobs"): the dead-letter queue, the job queue that redrives to it after three
// receives, and the queue policy that lets the API host send jobs.
import { TerraformElement } from "cdktf";
import { Construct } from "constructs";
import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { SqsQueuePolicy } from "@cdktf/provider-aws/lib/sqs-queue-policy";
import { pinAddress } from "../address";
import { KnownKeys, NAME, checkHardening, checkKnownKeys, checkRoleArn, checkString, throwIfProblems } from "../validation";
import { ML_WORKER_DEFAULTS, statefulLifecycle } from "./defaults";

/** SQS server-side encryption (hardened profile). */
export type QueueEncryption = { readonly type: "sse-sqs" } | { readonly type: "kms"; readonly kmsKeyId: string };

export interface MlWorkerQueueProps {
  /** Environment name; prefixes both queue names. Required. */
  readonly environment: string;
  /** Role allowed to send messages to the job queue (the API host's). Required. */
  readonly apiRoleArn: string;
  /**
   * Server-side encryption of both queues. In place in a plan.
   * @default - none (as the HCL)
   */
  readonly queueEncryption?: QueueEncryption;
  /**
   * `lifecycle.prevent_destroy` on both queues.
   * @default true
   */
  readonly preventDestroy?: boolean;
  /**
   * Prefix of the addresses (`aws_sqs_queue.<prefix>_ml_worker`).
   * @default "ml_worker"
   */
  readonly addressPrefix?: string;
}

const QUEUE_PROP_KEYS: KnownKeys<MlWorkerQueueProps> = {
  environment: true,
  apiRoleArn: true,
  queueEncryption: true,
  preventDestroy: true,
  addressPrefix: true,
};

/** Every problem with MlWorkerQueue props, each naming the prop. */
export function validateMlWorkerQueueProps(props: MlWorkerQueueProps): string[] {
  return [
    ...checkKnownKeys("", props, QUEUE_PROP_KEYS),
    ...checkString("environment", props.environment, NAME, "lower-case letters, digits and hyphens"),
    ...checkRoleArn("apiRoleArn", props.apiRoleArn),
    ...checkHardening("", { queueEncryption: props.queueEncryption }, undefined),
  ];
}

/** The SQS attributes of `encryption`, the same on both queues. */
function queueEncryptionAttributes(encryption: QueueEncryption | undefined): { sqsManagedSseEnabled?: boolean; kmsMasterKeyId?: string } {
  if (encryption?.type === "sse-sqs") return { sqsManagedSseEnabled: true };
  if (encryption?.type === "kms") return { kmsMasterKeyId: encryption.kmsKeyId };
  return {};
}

export class MlWorkerQueue extends Construct {
  /** `aws_sqs_queue.ml_worker_dlq`: 14 days' retention. */
  public readonly deadLetterQueue: SqsQueue;
  /** `aws_sqs_queue.ml_worker`: the job queue. */
  public readonly queue: SqsQueue;
  /** `aws_sqs_queue_policy.ml_worker`: the API host may send. */
  public readonly policy: SqsQueuePolicy;

  constructor(scope: Construct, id: string, props: MlWorkerQueueProps) {
    super(scope, id);
    throwIfProblems(`MlWorkerQueue props (${this.node.path})`, validateMlWorkerQueueProps(props));
    const env = props.environment;
    const prefix = props.addressPrefix ?? ML_WORKER_DEFAULTS.addressPrefix;
    const pin = <T extends TerraformElement>(element: T, name: string): T => pinAddress(element, prefix, name);
    const lifecycle = statefulLifecycle(props.preventDestroy ?? ML_WORKER_DEFAULTS.preventDestroy);
    const sse = queueEncryptionAttributes(props.queueEncryption);

    this.deadLetterQueue = pin(
      new SqsQueue(this, "ml_worker_dlq", {
        name: `${env}-ml-worker-dlq`,
        messageRetentionSeconds: 1209600, // 14 days
        ...sse,
        tags: { Name: `${env}-ml-worker-dlq`, Environment: env, Purpose: "ML Worker Dead Letter Queue" },
        lifecycle,
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
        lifecycle,
      }),
      "ml_worker",
    );
    this.policy = pin(
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
  }
}
