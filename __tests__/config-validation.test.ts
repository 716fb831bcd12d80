import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EnvironmentConfig } from "../config/environment";
import { production } from "../config/environments";
import { validateEnvironment } from "../config/validate";
import { buildApp } from "../stacks/app";

type Patch = (c: any) => void;
const variant = (patch: Patch): EnvironmentConfig => {
  const c = JSON.parse(JSON.stringify(production));
  patch(c);
  return c;
};

// [what, patch, the exact problem reported]
const INVALID: [string, Patch, string][] = [
  ["unknown worker mode", (c) => (c.mlWorker.workerMode = "fast"), "mlWorker.workerMode must be one of 'sqs', 'aggregation', 'both' (got 'fast')"],
  ["worker mode of the wrong case", (c) => (c.mlWorker.workerMode = "SQS"), "mlWorker.workerMode must be one of 'sqs', 'aggregation', 'both' (got 'SQS')"],
  ["worker mode missing", (c) => delete c.mlWorker.workerMode, "mlWorker.workerMode must be one of 'sqs', 'aggregation', 'both' (got undefined)"],
  ["min above max", (c) => Object.assign(c.mlWorker, { minCapacity: 6, maxCapacity: 5 }), "mlWorker.minCapacity (6) must not be greater than mlWorker.maxCapacity (5)"],
  ["negative min", (c) => (c.mlWorker.minCapacity = -1), "mlWorker.minCapacity must be at least 0 (got -1)"],
  ["negative max", (c) => (c.mlWorker.maxCapacity = -5), "mlWorker.maxCapacity must be at least 0 (got -5)"],
  ["fractional min", (c) => (c.mlWorker.minCapacity = 0.5), "mlWorker.minCapacity must be a whole number (got 0.5)"],
  ["capacity as a string", (c) => (c.mlWorker.maxCapacity = "5"), "mlWorker.maxCapacity must be a number (got '5')"],
  ["capacity NaN", (c) => (c.mlWorker.maxCapacity = Number.NaN), "mlWorker.maxCapacity must be a number (got null)"],
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
  ["bad region", (c) => (c.awsRegion = "us-east"), "awsRegion must be an AWS region like us-east-1 (got 'us-east')"],
  ["image tag with a colon", (c) => (c.imageTag = "v1:2"), "imageTag must be a Docker image tag (got 'v1:2')"],
  ["VPC id without prefix", (c) => (c.existingVpcId = "04d23036cd269f2a6"), "existingVpcId must be a VPC id like vpc-0123456789abcdef0 (got '04d23036cd269f2a6')"],
  ["security group id of a VPC", (c) => (c.rdsSecurityGroupId = "vpc-09f7899176373ad8e"), "rdsSecurityGroupId must be a security group id like sg-0123456789abcdef0 (got 'vpc-09f7899176373ad8e')"],
  ["DB identifier starting with a digit", (c) => (c.dbInstanceIdentifier = "1db"), "dbInstanceIdentifier must be an RDS instance identifier (got '1db')"],
  ["empty DB user", (c) => (c.dbUsername = ""), "dbUsername must not be empty"],
  ["SSM name without leading slash", (c) => (c.dbPasswordSsmName = "zivohealth/production/db/password"), "dbPasswordSsmName must be an SSM parameter name starting with / (got 'zivohealth/production/db/password')"],
  ["bucket with capitals", (c) => (c.storageBucketName = "ZivoHealth-Data"), "storageBucketName must be a valid S3 bucket name (got 'ZivoHealth-Data')"],
  ["zone without a dot", (c) => (c.zoneName = "zivohealth"), "zoneName must be a DNS zone name like example.com (got 'zivohealth')"],
  ["malformed CIDR", (c) => (c.sshAllowedCidrs = ["10.0.0.0/33"]), "sshAllowedCidrs[0] must be an IPv4 CIDR block like 203.0.113.0/24 (got '10.0.0.0/33')"],
  ["CIDR without a mask", (c) => (c.sshAllowedCidrs = ["203.0.113.7"]), "sshAllowedCidrs[0] must be an IPv4 CIDR block like 203.0.113.0/24 (got '203.0.113.7')"],
  ["CIDR with an octet over 255", (c) => (c.sshAllowedCidrs = ["203.0.113.0/24", "300.1.1.1/32"]), "sshAllowedCidrs[1] must be an IPv4 CIDR block like 203.0.113.0/24 (got '300.1.1.1/32')"],
  ["CIDRs not a list", (c) => (c.sshAllowedCidrs = "0.0.0.0/0"), "sshAllowedCidrs must be a list of CIDR blocks (got '0.0.0.0/0')"],
  ["SSH tunnel flag as a string", (c) => (c.enableSshTunnel = "false"), "enableSshTunnel must be true or false (got 'false')"],
  ["empty SSH key name", (c) => (c.sshKeyName = ""), "sshKeyName must not be empty"],
  ["reminder port out of range", (c) => (c.reminders.reminderServicePort = 70000), "reminders.reminderServicePort must be at most 65535 (got 70000)"],
  ["reminder batch size zero", (c) => (c.reminders.reminderSchedulerBatchSize = 0), "reminders.reminderSchedulerBatchSize must be greater than 0 (got 0)"],
  ["reminder metrics flag as a number", (c) => (c.reminders.reminderMetricsEnabled = 1), "reminders.reminderMetricsEnabled must be true or false (got 1)"],
  ["empty HCL modules folder", (c) => (c.hclModulesDir = ""), "hclModulesDir must not be empty"],
  ["unknown backend", (c) => (c.backend = { type: "gcs", bucket: "x" }), "backend.type must be one of 'local', 's3' (got 'gcs')"],
  ["S3 backend without a key", (c) => (c.backend = { type: "s3", bucket: "zivohealth-tfstate", region: "us-east-1" }), "backend.key must be a string (got undefined)"],
  ["S3 backend with a bad region", (c) => (c.backend = { type: "s3", bucket: "zivohealth-tfstate", key: "k", region: "useast1" }), "backend.region must be an AWS region like us-east-1 (got 'useast1')"],
  ["ML worker settings missing", (c) => delete c.mlWorker, "mlWorker must be an object"],
];

describe("environment configuration validation", () => {
  it("accepts production and the first-deployment setup", () => {
    expect(validateEnvironment(production)).toEqual([]);
  });

  it(`tries ${INVALID.length} invalid configurations`, () => {
    expect(INVALID.length).toBeGreaterThanOrEqual(30);
  });

  it.each(INVALID)("rejects %s, naming the field", (_what, patch, message) => {
    expect(validateEnvironment(variant(patch))).toEqual([message]);
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

  it("writes nothing to the output folder for any invalid configuration", () => {
    const outdir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "zh-invalid-")), "cdktf.out");
    for (const [, patch] of INVALID) {
      expect(() => buildApp({ production: variant(patch) }, { outdir })).toThrow("Invalid environment configuration");
      expect(fs.existsSync(outdir)).toBe(false);
    }
  });
});
