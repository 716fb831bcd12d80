import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EnvironmentConfig } from "../config/environment";
// Fidelity to the HCL root: production as the HCL root has it, frozen in the tests, not as configured
// (config/environments.ts, which a team changes); a configured variant keeps its own settings on it.
import * as configured from "../config/environments";
import { HCL_PRODUCTION as production, onHclProduction } from "./fixtures/hcl-production";
const productionHardened = onHclProduction(configured.productionHardened, configured.production);
const staging = onHclProduction(configured.staging, configured.production);
import { buildApp, synthesize } from "../stacks/app";
import { decodeTemplateJson } from "./helpers";
import { tempDir } from "./tmp";

const tmpOut = () => path.join(tempDir("zh-iso-"), "cdktf.out");
// From <tmp>/zh-iso-XXXX/cdktf.out/stacks/<stack>, the default `../../../../terraform/` is <tmp>/terraform/.
const statePath = (file: string) => path.join(os.tmpdir(), "terraform", file);

/** The problems buildApp reports (lines after the heading), and that it wrote nothing. */
function refusal(environments: Record<string, EnvironmentConfig>): string[] {
  const outdir = tmpOut();
  let message = "";
  try {
    buildApp(environments, { outdir });
  } catch (e) {
    message = (e as Error).message;
  }
  expect(fs.existsSync(outdir)).toBe(false);
  const [heading, ...problems] = message.split("\n");
  expect(heading).toBe("Invalid environment configuration:");
  return problems.map((p) => p.slice(4));
}

/** The refusal of two stacks in one VPC. */
const VPC_SHARED = (first: string, second: string, vpc: string) =>
  `stacks '${first}' and '${second}' share the VPC '${vpc}': the vpc_endpoints module of each creates interface endpoints with private DNS ` +
  `(ecr.api, ecr.dkr, ssm, logs, sqs) and the S3 gateway endpoint's route in it, which AWS allows once per VPC, so the second stack's apply fails; ` +
  `give '${second}' its own existingVpcId`;

/** Production copied the obvious way, with what validation alone asks for. */
const copied: EnvironmentConfig = {
  ...production,
  environment: "staging",
  dbPasswordSsmName: "/zivohealth/staging/db/password",
  deployed: {},
  newEnvironment: true,
};

describe("environments are isolated", () => {
  it("refuses two stacks sharing production's state file, bucket and zone, naming both stacks", () => {
    const outdir = tmpOut();
    const state = statePath("terraform.tfstate");
    expect(() => buildApp({ production, staging: copied }, { outdir })).toThrow(
      [
        "Invalid environment configuration:",
        `  - stacks 'production' and 'staging' share the backend '${state}': a plan of either would run against the other's objects; give 'staging' its own backend.path`,
        "  - stacks 'production' and 'staging' share the storage bucket 'zivohealth-data': both would manage the same objects; give 'staging' its own storageBucketName",
        "  - stacks 'production' and 'staging' share the DNS zone 'zivohealth.ai': both would manage the same objects; give 'staging' its own zoneName",
        "  - " +
          VPC_SHARED("production", "staging", "vpc-04d23036cd269f2a6"),
      ].join("\n"),
    );
    expect(fs.existsSync(outdir)).toBe(false);
  });

  it("names every problem of production copied the obvious way in one run, and what a new environment needs", () => {
    const obvious = { ...production, environment: "staging" };
    expect(refusal({ production, staging: obvious })).toEqual([
      "staging: dbPasswordSsmName must be '/zivohealth/staging/db/password' (got '/zivohealth/production/db/password'): the ML worker reads the password there, and the ssm module overwrites the parameter this names",
      `stacks 'production' and 'staging' share the backend '${statePath("terraform.tfstate")}': a plan of either would run against the other's objects; give 'staging' its own backend.path`,
      "stacks 'production' and 'staging' share the storage bucket 'zivohealth-data': both would manage the same objects; give 'staging' its own storageBucketName",
      "stacks 'production' and 'staging' share the DNS zone 'zivohealth.ai': both would manage the same objects; give 'staging' its own zoneName",
      VPC_SHARED("production", "staging", "vpc-04d23036cd269f2a6"),
      "stacks 'production' and 'staging' record the same deployed objects (aws_ecr_repository.ecr_backend 'zivohealth-production-backend', " +
        "aws_sqs_queue.ml_worker_ml_worker 'production-ml-worker', aws_sqs_queue.ml_worker_ml_worker_dlq 'production-ml-worker-dlq', " +
        "aws_cloudwatch_log_group.ml_worker_ml_worker '/ecs/production-ml-worker', aws_ecs_cluster.ml_worker_ml_worker 'production-ml-worker-cluster', " +
        "aws_ecs_service.ml_worker_ml_worker 'production-ml-worker'): the deployed list of 'staging' is a copy of the one of 'production', and an " +
        "object is deployed by one stack only. If 'staging' is a new environment, nothing of it is deployed yet: set its deployed to {} and " +
        'newEnvironment to true (docs/configuration.md, "Adding an environment")',
    ]);
  });

  it("reports the replacement guard's problems of the accepted stacks with the configuration's, before anything is written", () => {
    const moved = { ...production, awsRegion: "us-west-2" };
    const problems = refusal({ production: moved, staging: { ...staging, zoneName: "bad zone" } });
    expect(problems).toEqual([
      "staging: zoneName must be a DNS zone name like example.com (got 'bad zone')",
      expect.stringMatching(/^production: awsRegion is 'us-west-2', but the deployed resources are in 'us-east-1' \(deployedRegion\): /),
    ]);
  });

  it("validates the review-only configurations at synth, without synthesizing them", () => {
    const outdir = tmpOut();
    const typo = { ...productionHardened, hardening: { ...productionHardened.hardening, createLogKMSKey: true } } as EnvironmentConfig;
    expect(() => synthesize({ production }, { outdir, review: { "production-hardened": typo } })).toThrow(
      [
        "Invalid environment configuration:",
        "  - production-hardened (review only, not synthesized): hardening.createLogKMSKey is not a known setting; did you mean 'createLogKmsKey'?",
      ].join("\n"),
    );
    expect(fs.existsSync(outdir)).toBe(false);
    // Valid, they are not synthesized: only the configured stacks are written.
    expect(synthesize({ production }, { outdir, review: { "production-hardened": productionHardened } }).map((s) => s.name)).toEqual(["production"]);
    expect(fs.readdirSync(path.join(outdir, "stacks"))).toEqual(["production"]);
  });

  it("compares local state paths as resolved from each stack's folder, not as written", () => {
    const other = { ...staging, backend: { type: "local" as const, path: "../production/../../../../terraform/terraform.tfstate" } };
    expect(refusal({ production, staging: other })).toEqual([
      `stacks 'production' and 'staging' share the backend '${statePath("terraform.tfstate")}': a plan of either would run against the other's objects; give 'staging' its own backend.path`,
    ]);
  });

  it("compares the paths Terraform will use when synthesis stages its output elsewhere: the project's cdktf.out/stacks/<stack>", () => {
    // synthesize() builds the App in a temporary folder; the backend path is still relative to outdir's stacks.
    const outdir = tmpOut();
    const productionState = path.resolve(outdir, "stacks", "production", production.backend.type === "local" ? production.backend.path : "");
    const other = { ...staging, backend: { type: "local" as const, path: productionState } };
    const message = `stacks 'production' and 'staging' share the backend '${productionState}': a plan of either would run against the other's objects; give 'staging' its own backend.path`;
    expect(() => synthesize({ production, staging: other }, { outdir })).toThrow(`Invalid environment configuration:\n  - ${message}`);
    expect(fs.existsSync(outdir)).toBe(false);
    // In memory (migration-check, policy): relative to the current folder's cdktf.out, as cdktf runs it.
    const inMemory = { ...staging, backend: { type: "local" as const, path: path.resolve("cdktf.out", "stacks", "production", "../../../../terraform/terraform.tfstate") } };
    expect(() => synthesize({ production, staging: inMemory }, { outdir: null })).toThrow("stacks 'production' and 'staging' share the backend");
  });

  it("refuses two stacks with the same S3 bucket and key, whatever region they name", () => {
    const s3 = { type: "s3", bucket: "zivohealth-tfstate", key: "terraform.tfstate", region: "us-east-1" } as const;
    expect(refusal({ production: { ...production, backend: s3 }, staging: { ...staging, backend: { ...s3, region: "eu-west-1" } } })).toEqual([
      "stacks 'production' and 'staging' share the backend 's3://zivohealth-tfstate/terraform.tfstate': a plan of either would run against the other's objects; give 'staging' its own backend.key",
    ]);
  });

  it("refuses two stacks of one environment name (queues, roles and cluster are named after it)", () => {
    const twin = { ...staging, environment: "production", dbPasswordSsmName: "/zivohealth/production/db/password" };
    expect(refusal({ production, twin })).toEqual([
      "stacks 'production' and 'twin' share the environment name 'production': both would manage the same objects; give 'twin' its own environment",
    ]);
  });

  it("refuses two stacks whose project and environment make the same IAM role and repository names", () => {
    const eu = {
      ...staging,
      project: "zivohealth-eu",
      environment: "prod",
      dbPasswordSsmName: "/zivohealth-eu/prod/db/password",
      existingVpcId: "vpc-0000000000000000e",
      storageBucketName: "zivohealth-eu-data",
      zoneName: "eu.zivohealth.ai",
    };
    const prod = { ...staging, environment: "eu-prod", dbPasswordSsmName: "/zivohealth/eu-prod/db/password", backend: { type: "local" as const, path: "eu-prod.tfstate" } };
    expect(refusal({ eu, prod })).toEqual([
      "stacks 'eu' and 'prod' share the name prefix 'zivohealth-eu-prod': both would manage the same objects; give 'prod' its own environment",
    ]);
  });

  it("refuses two stacks that would both adopt the ML worker repository", () => {
    const hardenedStaging = { ...staging, hardening: { adoptMlWorkerRepository: true } };
    expect(refusal({ production: productionHardened, staging: hardenedStaging })).toEqual([
      "stacks 'production' and 'staging' share the adopted ML worker repository 'zivohealth-production-ml-worker': both would manage the same objects; give 'staging' its own hardening.adoptMlWorkerRepository",
    ]);
  });

  it("names the first holder for every later stack that shares", () => {
    const third = { ...staging, environment: "qa", dbPasswordSsmName: "/zivohealth/qa/db/password", storageBucketName: "zivohealth-qa-data", zoneName: "qa.zivohealth.ai" };
    expect(refusal({ production, staging, qa: third })).toEqual([
      `stacks 'staging' and 'qa' share the backend '${statePath("staging.tfstate")}': a plan of either would run against the other's objects; give 'qa' its own backend.path`,
      VPC_SHARED("staging", "qa", "vpc-00000000000000000"),
    ]);
  });

  it("refuses two stacks in one VPC: each one's vpc_endpoints module creates the endpoints AWS allows once per VPC", () => {
    expect(refusal({ production, staging: { ...staging, existingVpcId: production.existingVpcId } })).toEqual([
      VPC_SHARED("production", "staging", "vpc-04d23036cd269f2a6"),
    ]);
  });
});

describe("the staging example", () => {
  const outdir = tmpOut();
  buildApp({ production, staging }, { outdir }).synth();
  const read = (stack: string) => JSON.parse(fs.readFileSync(path.join(outdir, "stacks", stack, "cdk.tf.json"), "utf8"));
  const prod = read("production");
  const stg = read("staging");
  const container = (json: any) => decodeTemplateJson(json.resource.aws_ecs_task_definition.ml_worker_ml_worker.container_definitions)[0];

  it("synthesizes beside production with a state file of its own", () => {
    expect(stg.terraform.backend).toEqual({ local: { path: "../../../../terraform/staging.tfstate" } });
    expect(prod.terraform.backend).toEqual({ local: { path: "../../../../terraform/terraform.tfstate" } });
  });

  it("names everything it creates after staging", () => {
    const r = stg.resource;
    expect(r.aws_sqs_queue.ml_worker_ml_worker.name).toBe("staging-ml-worker");
    expect(r.aws_sqs_queue.ml_worker_ml_worker_dlq.name).toBe("staging-ml-worker-dlq");
    expect(r.aws_ecs_cluster.ml_worker_ml_worker.name).toBe("staging-ml-worker-cluster");
    expect(r.aws_cloudwatch_log_group.ml_worker_ml_worker.name).toBe("/ecs/staging-ml-worker");
    expect(r.aws_ecr_repository.ecr_backend.name).toBe("zivohealth-staging-backend");
    expect(r.aws_iam_role.iam_ecs_task_execution.name).toBe("zivohealth-staging-ecs-task-execution");
    expect(stg.module.storage.bucket_name).toBe("zivohealth-staging-data");
    expect(stg.module.route53.zone_name).toBe("staging.zivohealth.ai");
    expect(stg.module.ssm.db_password_ssm_key).toBe("/zivohealth/staging/db/password");
    expect(stg.data.aws_db_instance.existing.db_instance_identifier).toBe("zivohealth-staging-postgres");
    expect(stg.data.aws_vpc.existing.id).toBe("vpc-00000000000000000");
    expect(prod.data.aws_vpc.existing.id).toBe("vpc-04d23036cd269f2a6");
    expect(stg.data.local_file.env_production.filename).toBe("${path.module}/../../../../../backend/.env.staging");
  });

  it("points its ML worker at its own parameters and bucket, production's at production's", () => {
    const env = (json: any, name: string) => container(json).environment.find((e: { name: string }) => e.name === name).value;
    expect(env(stg, "AWS_S3_BUCKET")).toBe("zivohealth-staging-data");
    expect(env(prod, "AWS_S3_BUCKET")).toBe("zivohealth-data");
    expect(container(stg).secrets.slice(0, 2)).toEqual([
      { name: "POSTGRES_USER", valueFrom: "/zivohealth/staging/db/user" },
      { name: "POSTGRES_PASSWORD", valueFrom: "/zivohealth/staging/db/password" },
    ]);
    expect(container(prod).secrets.slice(0, 2)).toEqual([
      { name: "POSTGRES_USER", valueFrom: "/zivohealth/production/db/user" },
      { name: "POSTGRES_PASSWORD", valueFrom: "/zivohealth/production/db/password" },
    ]);
  });

  it("is new: nothing deployed to guard, its stateful resources still under prevent_destroy", () => {
    expect(staging.newEnvironment).toBe(true);
    expect(staging.deployed).toEqual({});
    expect(stg.resource.aws_sqs_queue.ml_worker_ml_worker.lifecycle).toEqual({ prevent_destroy: true });
    expect(stg.moved).toHaveLength(32);
  });
});
