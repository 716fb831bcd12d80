// The ML worker's log group (HCL modules/ml_worker, "CloudWatch Log Group"),
// 7 days' retention as the HCL. The hardened profile may encrypt it with a
// given key or with a key created here, usable by CloudWatch Logs for this
// log group only.
import { TerraformElement } from "cdktf";
import { Construct } from "constructs";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { pinAddress } from "../address";
import { KnownKeys, NAME, checkHardening, checkKnownKeys, checkRegion, checkString, throwIfProblems } from "../validation";
import { ML_WORKER_DEFAULTS, statefulLifecycle } from "./defaults";

export interface MlWorkerLogsProps {
  /** Environment name: the log group is `/ecs/<environment>-ml-worker`. Required. */
  readonly environment: string;
  /**
   * Region of the log group (the created key's policy names it).
   * @default "us-east-1"
   */
  readonly awsRegion?: string;
  /**
   * Account that administers the created key (`data.aws_caller_identity.current.account_id`).
   * Required with `createLogKmsKey`.
   * @default - none
   */
  readonly accountId?: string;
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
  /**
   * `lifecycle.prevent_destroy` on the log group.
   * @default true
   */
  readonly preventDestroy?: boolean;
  /**
   * Prefix of the addresses (`aws_cloudwatch_log_group.<prefix>_ml_worker`).
   * @default "ml_worker"
   */
  readonly addressPrefix?: string;
}

const LOGS_PROP_KEYS: KnownKeys<MlWorkerLogsProps> = {
  environment: true,
  awsRegion: true,
  accountId: true,
  logRetentionDays: true,
  logKmsKeyArn: true,
  createLogKmsKey: true,
  preventDestroy: true,
  addressPrefix: true,
};

/** Every problem with MlWorkerLogs props, each naming the prop. */
export function validateMlWorkerLogsProps(props: MlWorkerLogsProps): string[] {
  const region = props.awsRegion ?? ML_WORKER_DEFAULTS.awsRegion;
  const { logRetentionDays, logKmsKeyArn, createLogKmsKey } = props;
  return [
    ...checkKnownKeys("", props, LOGS_PROP_KEYS),
    ...checkString("environment", props.environment, NAME, "lower-case letters, digits and hyphens"),
    ...checkRegion("awsRegion", region),
    ...checkHardening("", { logRetentionDays, logKmsKeyArn, createLogKmsKey }, region),
    ...(createLogKmsKey && props.accountId === undefined ? ["accountId must be given with createLogKmsKey: the key's policy names the account"] : []),
    ...(props.accountId === undefined ? [] : checkString("accountId", props.accountId, /^\d{12}$/, "a 12-digit AWS account id")),
  ];
}

export class MlWorkerLogs extends Construct {
  /** `aws_cloudwatch_log_group.ml_worker` */
  public readonly logGroup: CloudwatchLogGroup;
  /** The log group's key, when `createLogKmsKey` is set. */
  public readonly logKey?: KmsKey;

  constructor(scope: Construct, id: string, props: MlWorkerLogsProps) {
    super(scope, id);
    throwIfProblems(`MlWorkerLogs props (${this.node.path})`, validateMlWorkerLogsProps(props));
    const env = props.environment;
    const prefix = props.addressPrefix ?? ML_WORKER_DEFAULTS.addressPrefix;
    const pin = <T extends TerraformElement>(element: T, name: string): T => pinAddress(element, prefix, name);
    const logGroupName = `/ecs/${env}-ml-worker`;

    if (props.createLogKmsKey) {
      this.logKey = pin(
        new KmsKey(this, "logs_key", {
          description: `Encrypts the ${logGroupName} log group`,
          enableKeyRotation: true,
          policy: JSON.stringify(logKeyPolicy(logGroupName, props.awsRegion ?? ML_WORKER_DEFAULTS.awsRegion, props.accountId!)),
          tags: { Name: `${env}-ml-worker-logs`, Environment: env },
        }),
        "logs",
      );
    }
    this.logGroup = pin(
      new CloudwatchLogGroup(this, "ml_worker_logs", {
        name: logGroupName,
        retentionInDays: props.logRetentionDays ?? ML_WORKER_DEFAULTS.logRetentionDays,
        kmsKeyId: this.logKey?.arn ?? props.logKmsKeyArn,
        tags: { Name: `${env}-ml-worker-logs`, Environment: env },
        lifecycle: statefulLifecycle(props.preventDestroy ?? ML_WORKER_DEFAULTS.preventDestroy),
      }),
      "ml_worker",
    );
  }
}

/** The account administers the key; CloudWatch Logs may use it for this log group only. */
function logKeyPolicy(logGroupName: string, region: string, accountId: string) {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AccountAdministers",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${accountId}:root` },
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
            "kms:EncryptionContext:aws:logs:arn": `arn:aws:logs:${region}:${accountId}:log-group:${logGroupName}`,
          },
        },
      },
    ],
  };
}
