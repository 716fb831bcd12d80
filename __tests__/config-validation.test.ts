import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ENVIRONMENT_KEYS, EnvironmentConfig, LocalBackendConfig, MlWorkerSettings } from "../config/environment";
import * as configured from "../config/environments";
// The validator's cases start from production as the HCL root has it (frozen), not as configured.
import { HCL_PRODUCTION as production } from "./fixtures/hcl-production";
import { FARGATE_CPU_MEMORY, KnownKeys } from "../modules/validation";
import { validateEnvironment } from "../config/validate";
import { buildApp } from "../stacks/app";
import { tempDir } from "./tmp";

type Patch = (c: any) => void;
const variant = (patch: Patch): EnvironmentConfig => {
  const c = JSON.parse(JSON.stringify(production));
  patch(c);
  return c;
};

// [what, patch, the exact problem (or problems) reported]
const INVALID: [string, Patch, string | string[]][] = [
  ["unknown worker mode", (c) => (c.mlWorker.workerMode = "fast"), "mlWorker.workerMode must be one of 'sqs', 'aggregation', 'both' (got 'fast')"],
  ["worker mode of the wrong case", (c) => (c.mlWorker.workerMode = "SQS"), "mlWorker.workerMode must be one of 'sqs', 'aggregation', 'both' (got 'SQS')"],
  ["worker mode missing", (c) => delete c.mlWorker.workerMode, "mlWorker.workerMode must be one of 'sqs', 'aggregation', 'both' (got undefined)"],
  ["min above max", (c) => Object.assign(c.mlWorker, { minCapacity: 6, maxCapacity: 5 }), "mlWorker.minCapacity (6) must not be greater than mlWorker.maxCapacity (5)"],
  ["negative min", (c) => (c.mlWorker.minCapacity = -1), "mlWorker.minCapacity must be at least 0 (got -1)"],
  ["negative max", (c) => (c.mlWorker.maxCapacity = -5), "mlWorker.maxCapacity must be at least 0 (got -5)"],
  ["fractional min", (c) => (c.mlWorker.minCapacity = 0.5), "mlWorker.minCapacity must be a whole number (got 0.5)"],
  ["capacity as a string", (c) => (c.mlWorker.maxCapacity = "5"), "mlWorker.maxCapacity must be a number (got '5')"],
  ["capacity NaN", (c) => (c.mlWorker.maxCapacity = Number.NaN), "mlWorker.maxCapacity must be a number (got NaN)"],
  ["no task ever (max 0)", (c) => Object.assign(c.mlWorker, { minCapacity: 0, maxCapacity: 0 }), "mlWorker.maxCapacity must be at least 1 (got 0): with 0 no task ever runs, and the queued jobs expire unprocessed after the queue's 4 days of retention"],
  ["aggregation scaled to zero", (c) => Object.assign(c.mlWorker, { workerMode: "aggregation", minCapacity: 0 }), "mlWorker.minCapacity must be at least 1 with mlWorker.workerMode 'aggregation' (got 0): the aggregation loop runs only while a task runs, and the service scales on the queue's depth alone, so with an empty queue it never runs; use workerMode 'sqs' to scale to zero"],
  ["both modes scaled to zero", (c) => Object.assign(c.mlWorker, { workerMode: "both", minCapacity: 0 }), "mlWorker.minCapacity must be at least 1 with mlWorker.workerMode 'both' (got 0): the aggregation loop runs only while a task runs, and the service scales on the queue's depth alone, so with an empty queue it never runs; use workerMode 'sqs' to scale to zero"],
  ["zero target depth", (c) => (c.mlWorker.targetQueueDepth = 0), "mlWorker.targetQueueDepth must be greater than 0 (got 0)"],
  ["negative target depth", (c) => (c.mlWorker.targetQueueDepth = -0.5), "mlWorker.targetQueueDepth must be greater than 0 (got -0.5)"],
  ["scheduled scaling as a string", (c) => (c.mlWorker.enableScheduledScaling = "yes"), "mlWorker.enableScheduledScaling must be true or false (got 'yes')"],
  ["CPU Fargate lacks", (c) => (c.mlWorker.cpu = 768), "mlWorker.cpu must be one of 256, 512, 1024, 2048, 4096, 8192, 16384 (got 768)"],
  ["256 CPU with 4 GB", (c) => Object.assign(c.mlWorker, { cpu: 256, memoryMiB: 4096 }), "mlWorker.memoryMiB must be a memory size Fargate accepts with mlWorker.cpu 256: 512 to 2048 in steps of 512 (got 4096)"],
  ["512 CPU with 512 MiB", (c) => Object.assign(c.mlWorker, { cpu: 512, memoryMiB: 512 }), "mlWorker.memoryMiB must be a memory size Fargate accepts with mlWorker.cpu 512: 1024 to 4096 in steps of 1024 (got 512)"],
  ["512 CPU with 3000 MiB", (c) => (c.mlWorker.memoryMiB = 3000), "mlWorker.memoryMiB must be a memory size Fargate accepts with mlWorker.cpu 512: 1024 to 4096 in steps of 1024 (got 3000)"],
  ["8192 CPU with 18432 MiB", (c) => Object.assign(c.mlWorker, { cpu: 8192, memoryMiB: 18432 }), "mlWorker.memoryMiB must be a memory size Fargate accepts with mlWorker.cpu 8192: 16384 to 61440 in steps of 4096 (got 18432)"],
  ["empty project", (c) => (c.project = ""), "project must not be empty"],
  ["project with capitals", (c) => (c.project = "ZivoHealth"), "project must be lower-case letters, digits and hyphens (got 'ZivoHealth')"],
  ["empty environment", (c) => (c.environment = "  "), "environment must not be empty"],
  ["environment as a number", (c) => (c.environment = 1), "environment must be a string (got 1)"],
  ["bad region", (c) => (c.awsRegion = "us-east"), "awsRegion must be an AWS region like us-east-1 (got 'us-east'); did you mean 'us-east-1'?"],
  ["image tag with a colon", (c) => (c.imageTag = "v1:2"), "imageTag must be a Docker image tag (got 'v1:2')"],
  ["VPC id without prefix", (c) => (c.existingVpcId = "04d23036cd269f2a6"), "existingVpcId must be a VPC id like vpc-0123456789abcdef0 (got '04d23036cd269f2a6')"],
  ["security group id of a VPC", (c) => (c.rdsSecurityGroupId = "vpc-09f7899176373ad8e"), "rdsSecurityGroupId must be a security group id like sg-0123456789abcdef0 (got 'vpc-09f7899176373ad8e')"],
  ["DB identifier starting with a digit", (c) => (c.dbInstanceIdentifier = "1db"), "dbInstanceIdentifier must be an RDS instance identifier (got '1db')"],
  ["empty DB user", (c) => (c.dbUsername = ""), "dbUsername must not be empty"],
  ["SSM name without leading slash", (c) => (c.dbPasswordSsmName = "zivohealth/production/db/password"), "dbPasswordSsmName must be an SSM parameter name starting with / (got 'zivohealth/production/db/password')"],
  ["bucket with capitals", (c) => (c.storageBucketName = "ZivoHealth-Data"), "storageBucketName must be a valid S3 bucket name (got 'ZivoHealth-Data')"],
  ["bucket named like an IP address", (c) => (c.storageBucketName = "192.168.5.4"), "storageBucketName must be a valid S3 bucket name (got '192.168.5.4')"],
  ["bucket with a suffix S3 reserves", (c) => (c.storageBucketName = "zivohealth-data-s3alias"), "storageBucketName must be a valid S3 bucket name (got 'zivohealth-data-s3alias')"],
  ["state bucket with a prefix S3 reserves", (c) => (c.backend = { type: "s3", bucket: "sthree-tfstate", key: "k", region: "us-east-1" }), "backend.bucket must be a valid S3 bucket name (got 'sthree-tfstate')"],
  ["alarm e-mail with a trailing comma", (c) => (c.hardening = { alarmNotifications: { email: "ops@zivohealth.ai," } }), "hardening.alarmNotifications.email must be an e-mail address (got 'ops@zivohealth.ai,')"],
  ["alarm e-mail with an empty domain label", (c) => (c.hardening = { alarmNotifications: { email: "ops@zivohealth..ai" } }), "hardening.alarmNotifications.email must be an e-mail address (got 'ops@zivohealth..ai')"],
  ["zone without a dot", (c) => (c.zoneName = "zivohealth"), "zoneName must be a DNS zone name like example.com (got 'zivohealth')"],
  ["malformed CIDR", (c) => (c.sshAllowedCidrs = ["10.0.0.0/33"]), "sshAllowedCidrs[0] must be an IPv4 CIDR block like 203.0.113.0/24 (got '10.0.0.0/33')"],
  ["CIDR without a mask", (c) => (c.sshAllowedCidrs = ["203.0.113.7"]), "sshAllowedCidrs[0] must be an IPv4 CIDR block like 203.0.113.0/24 (got '203.0.113.7')"],
  ["CIDR with an octet over 255", (c) => (c.sshAllowedCidrs = ["203.0.113.0/24", "300.1.1.1/32"]), "sshAllowedCidrs[1] must be an IPv4 CIDR block like 203.0.113.0/24 (got '300.1.1.1/32')"],
  ["one CIDR block twice", (c) => (c.sshAllowedCidrs = ["203.0.113.0/24", "10.0.0.0/8", "203.0.113.0/24"]), "sshAllowedCidrs[2] repeats sshAllowedCidrs[0] ('203.0.113.0/24'): EC2 refuses a rule that lists one block twice"],
  ["CIDRs not a list", (c) => (c.sshAllowedCidrs = "0.0.0.0/0"), "sshAllowedCidrs must be a list of CIDR blocks (got '0.0.0.0/0')"],
  ["SSH tunnel flag as a string", (c) => (c.enableSshTunnel = "false"), "enableSshTunnel must be true or false (got 'false')"],
  ["SSH key name with a non-ASCII letter", (c) => (c.sshKeyName = "clé-ops"), "sshKeyName must be an EC2 key pair name: up to 255 ASCII characters (got 'clé-ops')"],
  ["empty SSH key name", (c) => (c.sshKeyName = ""), "sshKeyName must not be empty"],
  ["reminder port out of range", (c) => (c.reminders.reminderServicePort = 70000), "reminders.reminderServicePort must be at most 65535 (got 70000)"],
  ["reminder batch size zero", (c) => (c.reminders.reminderSchedulerBatchSize = 0), "reminders.reminderSchedulerBatchSize must be greater than 0 (got 0)"],
  ["reminder metrics flag as a number", (c) => (c.reminders.reminderMetricsEnabled = 1), "reminders.reminderMetricsEnabled must be true or false (got 1)"],
  ["empty HCL modules folder", (c) => (c.hclModulesDir = ""), "hclModulesDir must not be empty"],
  ["absolute HCL modules folder", (c) => (c.hclModulesDir = "/srv/infra/terraform/modules"), "hclModulesDir must be a relative path starting with ./ or ../, from cdktf.out/stacks/<stack> (got '/srv/infra/terraform/modules'): Terraform treats an absolute module source as a package and copies it into .terraform/modules at init, instead of referencing it"],
  ["HCL modules folder Terraform would read as a registry address", (c) => (c.hclModulesDir = "terraform/modules"), "hclModulesDir must be a relative path starting with ./ or ../, from cdktf.out/stacks/<stack> (got 'terraform/modules'): Terraform reads any other module source as a registry address"],
  ["deployed resources without their region", (c) => delete c.deployedRegion, "deployedRegion is not set, but deployed records deployed resources: set it to the region they are in ('us-east-1' if they are in awsRegion), so that a change of awsRegion is refused"],
  ["deployed region that does not exist", (c) => (c.deployedRegion = "us-east"), "deployedRegion must be an AWS region like us-east-1 (got 'us-east'); did you mean 'us-east-1'?"],
  ["SSH tunnel on with no CIDR block allowed", (c) => (c.enableSshTunnel = true), "enableSshTunnel is true but sshAllowedCidrs is empty: no SSH rule would be created (its count is 0 without a CIDR block, as in the HCL); list the CIDR blocks allowed to SSH in sshAllowedCidrs, or set enableSshTunnel to false"],
  ["unknown backend", (c) => (c.backend = { type: "gcs", bucket: "x" }), "backend.type must be one of 'local', 's3' (got 'gcs')"],
  ["S3 backend without a key", (c) => (c.backend = { type: "s3", bucket: "zivohealth-tfstate", region: "us-east-1" }), "backend.key must be a string (got undefined)"],
  ["S3 backend with a bad region", (c) => (c.backend = { type: "s3", bucket: "zivohealth-tfstate", key: "k", region: "useast1" }), "backend.region must be an AWS region like us-east-1 (got 'useast1'); did you mean 'us-east-1'?"],
  ["ML worker settings missing", (c) => delete c.mlWorker, "mlWorker must be an object"],
  // Unknown keys: the fast build does not type check, so a misspelled optional key would be ignored.
  ["misspelled hardening key", (c) => (c.hardening = { createLogKMSKey: true }), "hardening.createLogKMSKey is not a known setting; did you mean 'createLogKmsKey'?"],
  ["deploy instead of deployed", (c) => ((c.deploy = c.deployed), delete c.deployed), "deploy is not a known setting; did you mean 'deployed'?"],
  ["misspelled ML worker key", (c) => (c.mlWorker.maxCapcity = 10), "mlWorker.maxCapcity is not a known setting; did you mean 'maxCapacity'?"],
  ["unrelated ML worker key", (c) => (c.mlWorker.replicas = 1), "mlWorker.replicas is not a known setting; known settings: 'workerMode', 'minCapacity', 'maxCapacity', 'targetQueueDepth', 'enableScheduledScaling', 'cpu', 'memoryMiB'"],
  ["misspelled reminders key", (c) => (c.reminders.reminderServicePrt = 8086), "reminders.reminderServicePrt is not a known setting; did you mean 'reminderServicePort'?"],
  ["S3 backend key of the wrong case", (c) => (c.backend = { type: "s3", bucket: "zivohealth-tfstate", key: "k", region: "us-east-1", useLockFile: false, dynamodbTable: "tf-locks" }), "backend.useLockFile is not a known setting; did you mean 'useLockfile'?"],
  ["S3 setting on the local backend", (c) => (c.backend.bucket = "zivohealth-tfstate"), "backend.bucket is not a known setting; known settings: 'type', 'path'"],
  ["misspelled policy key", (c) => (c.policy = { failsynth: true }), "policy.failsynth is not a known setting; did you mean 'failSynth'?"],
  ["misspelled policy config key", (c) => (c.policy = { config: { blockingSeverity: ["high"] } }), "policy.config.blockingSeverity is not a known setting; did you mean 'blockingSeverities'?"],
  ["misspelled exemption key", (c) => (c.policy = { config: { exemptions: [{ id: "ZH-X", adress: "aws_x.y", reason: "r" }] } }), ["policy.config.exemptions[0].adress is not a known setting; did you mean 'address'?", "policy.config.exemptions[0].address must be a non-empty string"]],
  ["misspelled KMS key id", (c) => (c.hardening = { queueEncryption: { type: "kms", kmsKeyID: "alias/sqs" } }), [
    "hardening.queueEncryption.kmsKeyID is not a known setting; did you mean 'kmsKeyId'?",
    "hardening.queueEncryption.kmsKeyId must be a string (got undefined)",
  ]],
  ["misspelled alarm e-mail", (c) => (c.hardening = { alarmNotifications: { emial: "ops@zivohealth.ai" } }), "hardening.alarmNotifications.emial is not a known setting; did you mean 'email'?"],
  ["new-environment flag as a string", (c) => ((c.newEnvironment = "yes"), (c.deployed = {})), "newEnvironment must be true or false (got 'yes')"],
  // The API host (Compute).
  ["misspelled compute key", (c) => (c.compute = { ...c.compute, elasticIP: true }), "compute.elasticIP is not a known setting; did you mean 'elasticIp'?"],
  ["compute image that is not an AMI id", (c) => (c.compute = { ami: "ubuntu-jammy" }), "compute.ami must be an AMI id like ami-0c398cb65a93047f2 (got 'ubuntu-jammy')"],
  ["Elastic IP flag as a string", (c) => (c.compute = { ...c.compute, elasticIp: "yes" }), "compute.elasticIp must be true or false (got 'yes')"],
  ["compute settings as a string", (c) => (c.compute = "ami-0c398cb65a93047f2"), [
    "compute must be an object, { ami?, elasticIp? } (got 'ami-0c398cb65a93047f2')",
  ]],
  ["allowReplacement entry of the wrong shape", (c) => (c.allowReplacement = [{ adress: "aws_instance.compute_host", reason: "r" }]), [
    "allowReplacement[0].adress is not a known setting; did you mean 'address'?",
    "allowReplacement[0].address must be a resource address (got undefined)",
  ]],
  // Numbers as given, and the bounds AWS enforces.
  ["capacity Infinity", (c) => (c.mlWorker.maxCapacity = Number.POSITIVE_INFINITY), "mlWorker.maxCapacity must be a finite number (got Infinity)"],
  ["target depth -Infinity", (c) => (c.mlWorker.targetQueueDepth = Number.NEGATIVE_INFINITY), "mlWorker.targetQueueDepth must be a finite number (got -Infinity)"],
  ["reminder port NaN", (c) => (c.reminders.reminderServicePort = Number.NaN), "reminders.reminderServicePort must be a number (got NaN)"],
  ["max capacity over the ECS tasks-per-service quota", (c) => (c.mlWorker.maxCapacity = 1e12), "mlWorker.maxCapacity must be at most 5000 (got 1000000000000)"],
  ["IAM role name over 64 characters", (c) => Object.assign(c, { project: "zivohealth-platform-services", environment: "production-eu-canary", dbPasswordSsmName: "/zivohealth-platform-services/production-eu-canary/db/password", deployed: {} }), "project and environment make the IAM role name 'zivohealth-platform-services-production-eu-canary-ecs-task-execution' 68 characters long; IAM allows 64 (shorten them by 4)"],
  ["CIDR with host bits set", (c) => (c.sshAllowedCidrs = ["10.0.0.1/24"]), "sshAllowedCidrs[0] has host bits set (got '10.0.0.1/24'): the network is 10.0.0.0/24; for the one host use 10.0.0.1/32"],
  ["IAM role ARN as the log key", (c) => (c.hardening = { logKmsKeyArn: "arn:aws:iam::474221740916:role/zivohealth-production-ec2-role" }), "hardening.logKmsKeyArn must be a KMS key ARN like arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab (got 'arn:aws:iam::474221740916:role/zivohealth-production-ec2-role')"],
  ["KMS alias ARN as the log key", (c) => (c.hardening = { logKmsKeyArn: "arn:aws:kms:us-east-1:474221740916:alias/logs" }), "hardening.logKmsKeyArn must be a KMS key ARN like arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab (got 'arn:aws:kms:us-east-1:474221740916:alias/logs')"],
  ["log key in another region", (c) => (c.hardening = { logKmsKeyArn: "arn:aws:kms:eu-west-1:474221740916:key/1234abcd-12ab-34cd-56ef-1234567890ab" }), "hardening.logKmsKeyArn is a key in eu-west-1, but the log group is in us-east-1: AWS needs a KMS key in the same region"],
  ["IAM role ARN as the queue key", (c) => (c.hardening = { queueEncryption: { type: "kms", kmsKeyId: "arn:aws:iam::474221740916:role/x" } }), "hardening.queueEncryption.kmsKeyId must be a KMS key id, key ARN, alias (alias/name) or alias ARN (got 'arn:aws:iam::474221740916:role/x')"],
  ["queue key in another region", (c) => (c.hardening = { queueEncryption: { type: "kms", kmsKeyId: "arn:aws:kms:eu-west-1:474221740916:alias/sqs" } }), "hardening.queueEncryption.kmsKeyId is a key in eu-west-1, but the queues are in us-east-1: AWS needs a KMS key in the same region"],
  ["region that does not exist", (c) => (c.awsRegion = "us-east-9"), "awsRegion must be an AWS region like us-east-1 (got 'us-east-9'); did you mean 'us-east-1'?"],
  ["region far from any", (c) => (c.awsRegion = "atlantis-1"), "awsRegion must be an AWS region like us-east-1 (got 'atlantis-1'); the regions are listed in modules/validation.ts (AWS_REGIONS)"],
  // The Fargate table's upper rows.
  ["4096 CPU above 30 GB", (c) => Object.assign(c.mlWorker, { cpu: 4096, memoryMiB: 31744 }), "mlWorker.memoryMiB must be a memory size Fargate accepts with mlWorker.cpu 4096: 8192 to 30720 in steps of 1024 (got 31744)"],
  ["8192 CPU above 60 GB", (c) => Object.assign(c.mlWorker, { cpu: 8192, memoryMiB: 65536 }), "mlWorker.memoryMiB must be a memory size Fargate accepts with mlWorker.cpu 8192: 16384 to 61440 in steps of 4096 (got 65536)"],
  ["16384 CPU above 120 GB", (c) => Object.assign(c.mlWorker, { cpu: 16384, memoryMiB: 131072 }), "mlWorker.memoryMiB must be a memory size Fargate accepts with mlWorker.cpu 16384: 32768 to 122880 in steps of 8192 (got 131072)"],
  ["16384 CPU off the 8 GB steps", (c) => Object.assign(c.mlWorker, { cpu: 16384, memoryMiB: 36864 }), "mlWorker.memoryMiB must be a memory size Fargate accepts with mlWorker.cpu 16384: 32768 to 122880 in steps of 8192 (got 36864)"],
  ["16384 CPU below 32 GB", (c) => Object.assign(c.mlWorker, { cpu: 16384, memoryMiB: 24576 }), "mlWorker.memoryMiB must be a memory size Fargate accepts with mlWorker.cpu 16384: 32768 to 122880 in steps of 8192 (got 24576)"],
  ["CPU above Fargate's largest", (c) => Object.assign(c.mlWorker, { cpu: 32768, memoryMiB: 245760 }), "mlWorker.cpu must be one of 256, 512, 1024, 2048, 4096, 8192, 16384 (got 32768)"],
  // Locking, isolation of names, and what a new environment is.
  ["S3 backend without any locking", (c) => (c.backend = { type: "s3", bucket: "zivohealth-tfstate", key: "k", region: "us-east-1", useLockfile: false }), "backend has no state locking: keep backend.useLockfile (Terraform 1.10 or later) or set backend.dynamodbTable"],
  ["password parameter of another environment", (c) => (c.dbPasswordSsmName = "/zivohealth/staging/db/password"), "dbPasswordSsmName must be '/zivohealth/production/db/password' (got '/zivohealth/staging/db/password'): the ML worker reads the password there, and the ssm module overwrites the parameter this names"],
  ["new environment with deployed resources", (c) => (c.newEnvironment = true), "newEnvironment is set, but deployed records deployed resources: a new environment has none (deployed: {})"],
  ["deployed not an object", (c) => (c.deployed = ["aws_sqs_queue.ml_worker_ml_worker"]), `deployed must be an object of resource addresses to their deployed arguments (got ["aws_sqs_queue.ml_worker_ml_worker"])`],
  // plan-check's allow-list.
  ["allowDestroy not a list", (c) => (c.allowDestroy = { address: "x" }), "allowDestroy must be a list of { address, reason, deposed? }"],
  ["allowDestroy without a reason", (c) => (c.allowDestroy = [{ address: "module.compute.aws_instance.host", reason: " " }]), "allowDestroy[0].reason must say why the delete or replace is accepted"],
  ["allowDestroy with a bad address", (c) => (c.allowDestroy = [{ address: "compute host", reason: "r" }]), `allowDestroy[0].address must be a resource instance address like module.ssm.aws_ssm_parameter.db_password (got "compute host")`],
  ["allowDestroy with a misspelled key", (c) => (c.allowDestroy = [{ address: "aws_security_group.ec2_existing_vpc", reason: "r", deposd: true }]), "allowDestroy[0].deposd is not a known setting; did you mean 'deposed'?"],
  // plan-check's state instances kept though it cannot plan them.
  ["keepUnplannable not a list", (c) => (c.keepUnplannable = { address: "tls_private_key.deploy" }), `keepUnplannable must be a list of { address, reason } (got {"address":"tls_private_key.deploy"})`],
  ["keepUnplannable entry not an object", (c) => (c.keepUnplannable = ["tls_private_key.deploy"]), `keepUnplannable[0] must be an object { address, reason } (got 'tls_private_key.deploy')`],
  ["keepUnplannable without a reason", (c) => (c.keepUnplannable = [{ address: "tls_private_key.deploy", reason: "" }]), "keepUnplannable[0].reason must say why the environment keeps it"],
  ["keepUnplannable with a bad address", (c) => (c.keepUnplannable = [{ address: "tls key", reason: "r" }]), `keepUnplannable[0].address must be a resource or instance address like tls_private_key.deploy (got "tls key")`],
  ["keepUnplannable with a misspelled key", (c) => (c.keepUnplannable = [{ address: "tls_private_key.deploy", reasn: "r", reason: "r" }]), "keepUnplannable[0].reasn is not a known setting; did you mean 'reason'?"],
  ["planCheck not an object", (c) => (c.planCheck = "modules"), "planCheck must be an object, { modules?, data? } (got 'modules')"],
  ["planCheck with a misspelled key", (c) => (c.planCheck = { module: "../terraform/modules" }), "planCheck.module is not a known setting; did you mean 'modules'?"],
  ["planCheck.data empty", (c) => (c.planCheck = { data: "" }), "planCheck.data must not be empty"],
  // Free text written into the Terraform JSON as it is, where `${` and `%{` are expressions; and the host's templates' values.
  ["DB user with an interpolation", (c) => (c.dbUsername = "zivo${var.x}"), "dbUsername must not contain '${' or '%{' (got 'zivo${var.x}'): Terraform reads them as an interpolation or a directive there"],
  ["env file path with a directive", (c) => (c.envFilePath = "../%{if true}x%{endif}/.env"), "envFilePath must not contain '${' or '%{' (got '../%{if true}x%{endif}/.env'): Terraform reads them as an interpolation or a directive there"],
  ["FCM project id with an interpolation (an ssm module input)", (c) => (c.reminders.remindersFcmProjectId = "fcm-${x}"), "reminders.remindersFcmProjectId must not contain '${' or '%{' (got 'fcm-${x}'): Terraform reads them as an interpolation or a directive there"],
  ["S3 backend key with an interpolation", (c) => (c.backend = { type: "s3", bucket: "zivohealth-tfstate", key: "${var.env}/terraform.tfstate", region: "us-east-1" }), "backend.key must not contain '${' or '%{' (got '${var.env}/terraform.tfstate'): Terraform reads them as an interpolation or a directive there"],
  ["reminder host with a double quote", (c) => (c.reminders.reminderServiceHost = '0.0.0.0"'), `reminders.reminderServiceHost must not contain a double quote, a backslash or a line break (got '0.0.0.0"'): it is written into the host's script`],
  ["RabbitMQ queue with a line break", (c) => (c.reminders.reminderRabbitmqInputQueue = "reminders\ninput"), "reminders.reminderRabbitmqInputQueue must not contain a double quote, a backslash or a line break (got 'reminders\ninput'): it is written into the host's script"],
  ["keepUnplannable naming one address twice", (c) => (c.keepUnplannable = [{ address: "tls_private_key.deploy", reason: "a" }, { address: "tls_private_key.deploy", reason: "b" }]), "keepUnplannable lists 'tls_private_key.deploy' twice"],
];

/** Fargate's task sizes, from the ECS documentation: [cpu, lowest MiB, highest MiB, step]. */
const FARGATE_SIZES: [number, number, number, number][] = [
  [256, 512, 2048, 512],
  [512, 1024, 4096, 1024],
  [1024, 2048, 8192, 1024],
  [2048, 4096, 16384, 1024],
  [4096, 8192, 30720, 1024],
  [8192, 16384, 61440, 4096],
  [16384, 32768, 122880, 8192],
];

describe("the known-key lists", () => {
  const known = <T>(keys: KnownKeys<T>) => Object.keys(keys);

  it("cannot drift from their types: tsc refuses a missing or an extra key", () => {
    // @ts-expect-error every field of MlWorkerSettings must be listed
    expect(known<MlWorkerSettings>({ workerMode: true })).toEqual(["workerMode"]);
    // @ts-expect-error bucket is not a field of the local backend
    expect(known<LocalBackendConfig>({ type: true, path: true, bucket: true })).toEqual(["type", "path", "bucket"]);
  });

  it("list the environment's fields", () => {
    expect(Object.keys(ENVIRONMENT_KEYS)).toEqual([
      "project", "environment", "awsRegion", "imageTag", "existingVpcId", "dbInstanceIdentifier", "rdsSecurityGroupId",
      "dbUsername", "dbPasswordSsmName", "storageBucketName", "zoneName", "sshKeyName", "enableSshTunnel", "sshAllowedCidrs",
      "reminders", "mlWorker", "compute", "hclModulesDir", "envFilePath", "backend", "hardening", "deployed", "deployedRegion", "allowReplacement",
      "policy", "newEnvironment", "allowDestroy", "keepUnplannable", "planCheck",
    ]);
  });
});

describe("valid configurations are accepted", () => {
  // Every configuration config/environments.ts exports, as configured (a stack added there is checked too).
  const exported = Object.entries(configured).filter(([name]) => name !== "environments" && name !== "reviewEnvironments");
  it("exports the example configurations (production, productionFirstDeployment, productionHardened, staging) and others", () => {
    expect(exported.map(([name]) => name)).toEqual(expect.arrayContaining(["production", "productionFirstDeployment", "productionHardened", "staging"]));
  });
  it.each([...exported, ...Object.entries(configured.environments), ...Object.entries(configured.reviewEnvironments)])("accepts %s", (_name, config) => {
    expect(validateEnvironment(config)).toEqual([]);
  });

  it("accepts every task size Fargate offers, up to the top rows", () => {
    const expected = Object.fromEntries(
      FARGATE_SIZES.map(([cpu, from, to, step]) => [cpu, Array.from({ length: (to - from) / step + 1 }, (_, i) => from + i * step)]),
    );
    // 256 CPU: 512, 1024, 2048 (not 1536).
    expected[256] = [512, 1024, 2048];
    expect(FARGATE_CPU_MEMORY).toEqual(expected);
    for (const [cpu, memories] of Object.entries(expected)) {
      for (const memoryMiB of memories) {
        expect([cpu, memoryMiB, validateEnvironment(variant((c) => Object.assign(c.mlWorker, { cpu: Number(cpu), memoryMiB })))]).toEqual([cpu, memoryMiB, []]);
      }
    }
  });

  it("accepts '${' in a value only the host's templates receive: cdktf writes it escaped there ($${)", () => {
    expect(validateEnvironment(variant((c) => (c.reminders.reminderRabbitmqExchange = "reminders.${env}")))).toEqual([]);
  });

  it("accepts values at the bounds AWS sets", () => {
    const atBounds = variant((c) => {
      Object.assign(c, { project: "zivohealth-infrastructure-group1", environment: "prod-eu-west", deployed: {} });
      c.dbPasswordSsmName = "/zivohealth-infrastructure-group1/prod-eu-west/db/password";
      Object.assign(c.mlWorker, { minCapacity: 5000, maxCapacity: 5000 });
      c.sshAllowedCidrs = ["203.0.113.7/32", "0.0.0.0/0", "10.0.0.0/8"];
      c.awsRegion = "ap-southeast-7";
    });
    // zivohealth-infrastructure-group1-prod-eu-west-ecs-task-execution: 64 characters.
    expect(validateEnvironment(atBounds)).toEqual([]);
  });

  it("accepts every optional setting spelled right, and each form of KMS key", () => {
    const keyArn = "arn:aws:kms:us-east-1:474221740916:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    for (const kmsKeyId of [
      "1234abcd-12ab-34cd-56ef-1234567890ab",
      "mrk-1234abcd12ab34cd56ef1234567890ab",
      "alias/zivohealth-sqs",
      keyArn,
      "arn:aws:kms:us-east-1:474221740916:alias/zivohealth-sqs",
    ]) {
      const c = variant((x) => {
        x.hardening = { ...configured.productionHardened.hardening, createLogKmsKey: undefined, logKmsKeyArn: keyArn, queueEncryption: { type: "kms", kmsKeyId }, alarmNotifications: { email: "ops@zivohealth.ai" } };
        x.policy = { config: { blockingSeverities: ["high", "critical"], logRetentionFloorDays: 365, exemptions: [{ id: "ZH-X", address: "aws_x.y", reason: "accepted" }] }, failSynth: false };
        x.backend = { type: "s3", bucket: "zivohealth-tfstate", key: "production/terraform.tfstate", region: "us-east-1", encrypt: true, useLockfile: true, dynamodbTable: "tf-locks" };
      });
      expect([kmsKeyId, validateEnvironment(c)]).toEqual([kmsKeyId, []]);
    }
    expect(validateEnvironment({ ...configured.staging, backend: { type: "s3", bucket: "zivohealth-tfstate", key: "staging/terraform.tfstate", region: "us-east-1", dynamodbTable: "tf-locks" } })).toEqual([]);
  });
});

describe("environment configuration validation", () => {

  it(`tries ${INVALID.length} invalid configurations`, () => {
    expect(INVALID.length).toBeGreaterThanOrEqual(30);
  });

  it.each(INVALID)("rejects %s, naming the field", (_what, patch, message) => {
    expect(validateEnvironment(variant(patch))).toEqual([message].flat());
  });

  it("rejects a configuration that is not an object", () => {
    expect(validateEnvironment(null)).toEqual(["configuration must be an object"]);
  });

  it("reports every problem together, prefixed with the stack name", () => {
    const bad = variant((c) => {
      c.mlWorker.workerMode = "fast";
      c.sshAllowedCidrs = ["nope"];
    });
    expect(() => buildApp({ production: bad }, { outdir: path.join(os.tmpdir(), "never-written") })).toThrow(
      [
        "Invalid environment configuration:",
        "  - production: sshAllowedCidrs[0] must be an IPv4 CIDR block like 203.0.113.0/24 (got 'nope')",
        "  - production: mlWorker.workerMode must be one of 'sqs', 'aggregation', 'both' (got 'fast')",
      ].join("\n"),
    );
  });

  it.each([
    ["", 'stack name "" is empty: each key of the environments names a stack and its folder cdktf.out/stacks/<name>; use letters, digits, \'-\' and \'_\', starting with a letter'],
    ["prod/eu", 'stack name "prod/eu": each key of the environments names a stack and its folder cdktf.out/stacks/<name>; use letters, digits, \'-\' and \'_\', starting with a letter'],
  ])("refuses the stack name %j, before anything is written", (name, message) => {
    const outdir = path.join(tempDir("zh-invalid-"), "cdktf.out");
    expect(() => buildApp({ [name]: production }, { outdir })).toThrow(["Invalid environment configuration:", `  - ${message}`].join("\n"));
    expect(fs.existsSync(outdir)).toBe(false);
  });

  it("writes nothing to the output folder for any invalid configuration", () => {
    const outdir = path.join(tempDir("zh-invalid-"), "cdktf.out");
    for (const [, patch] of INVALID) {
      expect(() => buildApp({ production: variant(patch) }, { outdir })).toThrow("Invalid environment configuration");
      expect(fs.existsSync(outdir)).toBe(false);
    }
  });
});
