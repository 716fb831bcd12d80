import { WORKER_MODES } from "../modules/ml-worker";
import { validatePolicySettings } from "../policy/config";
import {
  AWS_REGION,
  NAME,
  checkBoolean,
  checkCapacities,
  checkCidrs,
  checkFargateSize,
  checkHardening,
  checkNumber,
  checkOneOf,
  checkString,
} from "../modules/validation";

const S3_BUCKET = /^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const DOMAIN = /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const SSM_NAME = /^\/[a-zA-Z0-9_.\-/]+$/;
const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * Every problem with an environment configuration, each naming its field.
 * The configuration is typed, but it can come from JSON or plain JavaScript,
 * so types are checked too.
 */
export function validateEnvironment(config: unknown): string[] {
  if (typeof config !== "object" || config === null) return ["configuration must be an object"];
  const c = config as Record<string, any>;
  const problems: string[] = [
    ...checkString("project", c.project, NAME, "lower-case letters, digits and hyphens"),
    ...checkString("environment", c.environment, NAME, "lower-case letters, digits and hyphens"),
    ...checkString("awsRegion", c.awsRegion, AWS_REGION, "an AWS region like us-east-1"),
    ...checkString("imageTag", c.imageTag, IMAGE_TAG, "a Docker image tag"),
    ...checkString("existingVpcId", c.existingVpcId, /^vpc-[0-9a-f]{8,17}$/, "a VPC id like vpc-0123456789abcdef0"),
    ...checkString("dbInstanceIdentifier", c.dbInstanceIdentifier, /^[a-zA-Z][a-zA-Z0-9-]{0,62}$/, "an RDS instance identifier"),
    ...checkString("rdsSecurityGroupId", c.rdsSecurityGroupId, /^sg-[0-9a-f]{8,17}$/, "a security group id like sg-0123456789abcdef0"),
    ...checkString("dbUsername", c.dbUsername),
    ...checkString("dbPasswordSsmName", c.dbPasswordSsmName, SSM_NAME, "an SSM parameter name starting with /"),
    ...checkString("storageBucketName", c.storageBucketName, S3_BUCKET, "a valid S3 bucket name"),
    ...checkString("zoneName", c.zoneName, DOMAIN, "a DNS zone name like example.com"),
    ...(c.sshKeyName === null ? [] : checkString("sshKeyName", c.sshKeyName)),
    ...checkBoolean("enableSshTunnel", c.enableSshTunnel),
    ...checkCidrs("sshAllowedCidrs", c.sshAllowedCidrs),
    ...checkString("hclModulesDir", c.hclModulesDir),
    ...checkString("envFilePath", c.envFilePath),
    ...validateReminders(c.reminders),
    ...validateMlWorker(c.mlWorker),
    ...validateBackend(c.backend),
    ...(c.hardening === undefined ? [] : typeof c.hardening === "object" && c.hardening !== null ? checkHardening("hardening.", c.hardening) : ["hardening must be an object"]),
    ...(c.allowReplacement === undefined || (Array.isArray(c.allowReplacement) && c.allowReplacement.every((a: unknown) => typeof a === "string"))
      ? []
      : ["allowReplacement must be a list of resource addresses"]),
    ...validatePolicySettings(c.policy),
  ];
  return problems;
}

function validateReminders(r: any): string[] {
  if (typeof r !== "object" || r === null) return ["reminders must be an object"];
  const str = (k: string) => checkString(`reminders.${k}`, r[k]);
  return [
    ...(typeof r.remindersFcmProjectId === "string" ? [] : ["reminders.remindersFcmProjectId must be a string"]),
    ...str("reminderServiceHost"),
    ...checkNumber("reminders.reminderServicePort", r.reminderServicePort, { integer: true, min: 1, max: 65535 }),
    ...str("reminderRabbitmqExchange"),
    ...str("reminderRabbitmqInputQueue"),
    ...str("reminderRabbitmqOutputQueue"),
    ...str("reminderRabbitmqInputRoutingKey"),
    ...str("reminderRabbitmqOutputRoutingKey"),
    ...checkNumber("reminders.reminderSchedulerScanIntervalSeconds", r.reminderSchedulerScanIntervalSeconds, { integer: true, positive: true }),
    ...checkNumber("reminders.reminderSchedulerBatchSize", r.reminderSchedulerBatchSize, { integer: true, positive: true }),
    ...checkBoolean("reminders.reminderMetricsEnabled", r.reminderMetricsEnabled),
  ];
}

function validateMlWorker(m: any): string[] {
  if (typeof m !== "object" || m === null) return ["mlWorker must be an object"];
  return [
    ...checkOneOf("mlWorker.workerMode", m.workerMode, WORKER_MODES),
    ...checkCapacities(
      { min: "mlWorker.minCapacity", max: "mlWorker.maxCapacity", target: "mlWorker.targetQueueDepth" },
      m.minCapacity,
      m.maxCapacity,
      m.targetQueueDepth,
    ),
    ...checkBoolean("mlWorker.enableScheduledScaling", m.enableScheduledScaling),
    ...checkFargateSize("mlWorker.cpu", m.cpu, "mlWorker.memoryMiB", m.memoryMiB),
  ];
}

function validateBackend(b: any): string[] {
  if (typeof b !== "object" || b === null) return ["backend must be an object"];
  if (b.type === "local") return checkString("backend.path", b.path);
  if (b.type === "s3") {
    return [
      ...checkString("backend.bucket", b.bucket, S3_BUCKET, "a valid S3 bucket name"),
      ...checkString("backend.key", b.key),
      ...checkString("backend.region", b.region, AWS_REGION, "an AWS region like us-east-1"),
      ...(b.encrypt === undefined ? [] : checkBoolean("backend.encrypt", b.encrypt)),
      ...(b.useLockfile === undefined ? [] : checkBoolean("backend.useLockfile", b.useLockfile)),
      ...(b.dynamodbTable === undefined ? [] : checkString("backend.dynamodbTable", b.dynamodbTable)),
    ];
  }
  return checkOneOf("backend.type", b.type, ["local", "s3"]);
}
