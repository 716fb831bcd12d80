// The configurations the tier validates: each construct alone in a stack with
// an AwsProvider and realistic literal props, the ML worker once more with every
// hardened option on, and the offline variant of the root stack for each
// environment configuration. Each comes with the files it reads beside
// cdk.tf.json (the compute templates, which templatefile reads at validate).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App, Manifest, TerraformStack, Testing } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { EnvironmentConfig } from "../../config/environment";
import * as environmentsModule from "../../config/environments";
import { Compute, ComputeProps } from "../../modules/compute";
import { Ecr } from "../../modules/ecr";
import { Iam } from "../../modules/iam";
import { MlWorker, MlWorkerProps } from "../../modules/ml-worker";
import { ZivoHealthStack } from "../../stacks/zivohealth-stack";
import { OfflineVariant, offlineRootVariant } from "./offline-root";
import { TfConfig } from "../../lib/terraform";

const ACCOUNT = "474221740916";
const REGION = "us-east-1";
const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;

/** A synthesized configuration and the files it reads beside cdk.tf.json, by relative path (`assets/...`). */
export interface SynthesizedConfig {
  readonly config: TfConfig;
  readonly files: Readonly<Record<string, Buffer>>;
}

/** Every file under `dir`, by path relative to it. */
function readTree(dir: string, rel = ""): Record<string, Buffer> {
  if (!fs.existsSync(path.join(dir, rel))) return {};
  return Object.assign(
    {},
    ...fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).map((e) =>
      e.isDirectory() ? readTree(dir, path.posix.join(rel, e.name)) : { [path.posix.join(rel, e.name)]: fs.readFileSync(path.join(dir, rel, e.name)) },
    ),
  );
}

/**
 * Synthesizes the stack `build` makes (cdktf validations on) in a test App
 * whose output folder is removed afterwards (Testing.app() leaves one behind
 * in the temp dir per call otherwise). The stack's own synthesizer then
 * writes the files its assets copy (Testing.synth writes none).
 */
function synthesize(build: (app: App) => TerraformStack): SynthesizedConfig {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "zivo-validate-synth-"));
  try {
    const stack = build(Testing.app({ outdir }));
    const config = JSON.parse(Testing.synth(stack, true)) as TfConfig;
    const manifest = new Manifest("stubbed", outdir, false);
    stack.synthesizer.synthesize({ outdir, manifest, skipValidation: true });
    const stackDir = path.join(outdir, path.dirname(manifest.forStack(stack).synthesizedStackPath));
    return { config, files: Object.fromEntries(Object.entries(readTree(path.join(stackDir, "assets"))).map(([f, b]) => [`assets/${f}`, b])) };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/** A construct in a stack of its own, with an AwsProvider, synthesized. */
function constructStack(name: string, build: (stack: TerraformStack) => void): SynthesizedConfig {
  return synthesize((app) => {
    const stack = new TerraformStack(app, name);
    new AwsProvider(stack, "aws", { region: REGION });
    build(stack);
    return stack;
  });
}

/** MlWorker props as the root stack would pass them, as literals. */
export const ML_WORKER_PROPS: MlWorkerProps = {
  environment: "production",
  awsRegion: REGION,
  vpcId: "vpc-04d23036cd269f2a6",
  privateSubnetIds: ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"],
  ecrRepositoryUrl: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`,
  imageTag: "latest",
  executionRoleArn: role("zivohealth-production-ecs-task-execution"),
  taskRoleArn: role("zivohealth-production-ecs-task"),
  apiRoleArn: role("zivohealth-production-ec2-role"),
  dbHost: "zivohealth-dev-postgres.c1a2b3c4d5e6.us-east-1.rds.amazonaws.com",
  dbPort: 5432,
  dbName: "zivohealth",
  workerMode: "sqs",
  minCapacity: 0,
  maxCapacity: 5,
  targetQueueDepth: 0.5,
  cpu: 512,
  memoryMiB: 3072,
};

/** Every hardened option of MlWorker on. */
export const ML_WORKER_HARDENED: Partial<MlWorkerProps> = {
  queueEncryption: { type: "sse-sqs" },
  backlogPerTaskScaling: true,
  onDemandWeight: 20,
  stopTimeoutSeconds: 120,
  deploymentCircuitBreaker: true,
  alarmNotifications: { email: "ops@example.com" },
  logRetentionDays: 30,
  logKmsKeyArn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`,
  enableScheduledScaling: true,
};

export function ecrStack(): SynthesizedConfig {
  return constructStack("validate-ecr", (s) => new Ecr(s, "ecr", { project: "zivohealth", environment: "production" }));
}

export function iamStack(): SynthesizedConfig {
  return constructStack(
    "validate-iam",
    (s) =>
      new Iam(s, "iam", { project: "zivohealth", environment: "production", storageBucketArn: "arn:aws:s3:::zivohealth-data" }),
  );
}

/** Iam with the grants for KMS-encrypted queues; an alias, so the key lookup is validated too. */
export function iamQueueKmsStack(): SynthesizedConfig {
  return constructStack(
    "validate-iam-queue-kms",
    (s) =>
      new Iam(s, "iam", {
        project: "zivohealth",
        environment: "production",
        storageBucketArn: "arn:aws:s3:::zivohealth-data",
        queueKmsKeyId: "alias/zivohealth-sqs",
      }),
  );
}

export function mlWorkerStack(): SynthesizedConfig {
  return constructStack("validate-ml-worker", (s) => new MlWorker(s, "ml_worker", ML_WORKER_PROPS));
}

/**
 * Hardened, and with `dependsOn` (a VPC endpoint, as the root stack makes
 * every worker resource wait for the vpc_endpoints module): the root variant
 * replaces that module by a placeholder, this stack validates the real thing.
 */
export function mlWorkerHardenedStack(): SynthesizedConfig {
  return constructStack("validate-ml-worker-hardened", (s) => {
    const endpoint = new VpcEndpoint(s, "sqs_endpoint", {
      vpcId: ML_WORKER_PROPS.vpcId,
      serviceName: `com.amazonaws.${REGION}.sqs`,
      vpcEndpointType: "Interface",
      subnetIds: ML_WORKER_PROPS.privateSubnetIds,
      privateDnsEnabled: true,
    });
    new MlWorker(s, "ml_worker", { ...ML_WORKER_PROPS, ...ML_WORKER_HARDENED, dependsOn: [endpoint] });
  });
}

/** Compute props as the root stack would pass them, as literals (production's, from the post-fix state). */
export const COMPUTE_PROPS: ComputeProps = {
  project: "zivohealth",
  environment: "production",
  vpcId: "vpc-04d23036cd269f2a6",
  publicSubnetId: "subnet-0c351c259838dc05c",
  instanceProfileName: "zivohealth-production-ec2-profile",
  securityGroupIds: ["sg-0720fa99c0042c40f"],
  ecrRepoUrl: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/zivohealth-production-backend`,
  ssmImageTagParam: "/zivohealth/production/deploy/image_tag",
  awsRegion: REGION,
  keyName: "ec2-dbeaver",
  composeS3Bucket: "zivohealth-data",
  composeS3Key: "deploy/production/docker-compose.yml",
};

export function computeStack(): SynthesizedConfig {
  return constructStack("validate-compute", (s) => new Compute(s, "compute", COMPUTE_PROPS));
}

/** Every option of Compute on: the recorded image, SSH open to one network, an Elastic IP. */
export function computeAllOptionsStack(): SynthesizedConfig {
  return constructStack(
    "validate-compute-options",
    (s) =>
      new Compute(s, "compute", {
        ...COMPUTE_PROPS,
        ami: "ami-0c398cb65a93047f2",
        enableSshTunnel: true,
        sshAllowedCidrs: ["203.0.113.0/24"],
        elasticIp: true,
      }),
  );
}

/** A root stack as synthesized, with its files (not runnable offline: HCL modules, local, random). */
export function rootSynthesized(name: string, config: EnvironmentConfig): SynthesizedConfig {
  return synthesize((app) => new ZivoHealthStack(app, name, config));
}

/** A root stack as synthesized (not runnable offline: HCL modules, local, random). */
export function rootStack(name: string, config: EnvironmentConfig): TfConfig {
  return rootSynthesized(name, config).config;
}

/** A root stack minus what cannot be validated offline (see offline-root.ts). */
export function rootOfflineVariant(name: string, config: EnvironmentConfig): OfflineVariant {
  return offlineRootVariant(rootStack(name, config));
}

function isEnvironmentConfig(v: unknown): v is EnvironmentConfig {
  return typeof v === "object" && v !== null && "environment" in v && "backend" in v && "mlWorker" in v;
}

/**
 * Every environment configuration config/environments.ts exports (production,
 * and whatever variants sit beside it, e.g. the first deployment or the
 * hardened profile), each once, by export name: all of them must synthesize
 * to valid Terraform, not only those `environments` deploys today.
 */
export function environmentConfigs(): [name: string, config: EnvironmentConfig][] {
  const seen = new Set<EnvironmentConfig>();
  const out: [string, EnvironmentConfig][] = [];
  for (const [name, value] of Object.entries(environmentsModule as Record<string, unknown>)) {
    if (!isEnvironmentConfig(value) || seen.has(value)) continue;
    seen.add(value);
    out.push([name, value]);
  }
  return out;
}

export interface StackCase {
  readonly name: string;
  readonly config: () => SynthesizedConfig;
}

/** What the tier validates, in order. */
export function stackCases(): StackCase[] {
  return [
    { name: "Ecr", config: ecrStack },
    { name: "Iam", config: iamStack },
    { name: "Iam with a queue KMS key", config: iamQueueKmsStack },
    { name: "MlWorker", config: mlWorkerStack },
    { name: "MlWorker hardened", config: mlWorkerHardenedStack },
    { name: "Compute", config: computeStack },
    { name: "Compute with every option", config: computeAllOptionsStack },
    ...environmentConfigs().map(([name, config]) => ({
      name: `ZivoHealthStack ${name} (offline variant)`,
      config: () => {
        const synthesized = rootSynthesized(name, config);
        return { config: offlineRootVariant(synthesized.config).config, files: synthesized.files };
      },
    })),
  ];
}
