import { EnvironmentConfig } from "./environment";

/**
 * Production as it stands today (the HCL root's variables, terraform.tfvars
 * and the ml_worker arguments in force: worker mode `sqs`, 0 to 5 tasks,
 * target 0.5 visible messages per task).
 */
export const production: EnvironmentConfig = {
  project: "zivohealth",
  environment: "production",
  awsRegion: "us-east-1",
  imageTag: "latest",
  existingVpcId: "vpc-04d23036cd269f2a6",
  dbInstanceIdentifier: "zivohealth-dev-postgres",
  rdsSecurityGroupId: "sg-09f7899176373ad8e",
  dbUsername: "zivo",
  dbPasswordSsmName: "/zivohealth/production/db/password",
  storageBucketName: "zivohealth-data",
  zoneName: "zivohealth.ai",
  sshKeyName: "ec2-dbeaver",
  enableSshTunnel: false,
  sshAllowedCidrs: [],
  reminders: {
    remindersFcmProjectId: "",
    reminderServiceHost: "0.0.0.0",
    reminderServicePort: 8085,
    reminderRabbitmqExchange: "reminders.direct.v1",
    reminderRabbitmqInputQueue: "reminders.input.v1",
    reminderRabbitmqOutputQueue: "reminders.output.v1",
    reminderRabbitmqInputRoutingKey: "input",
    reminderRabbitmqOutputRoutingKey: "output",
    reminderSchedulerScanIntervalSeconds: 30,
    reminderSchedulerBatchSize: 1000,
    reminderMetricsEnabled: true,
  },
  mlWorker: {
    workerMode: "sqs",
    minCapacity: 0,
    maxCapacity: 5,
    targetQueueDepth: 0.5,
    enableScheduledScaling: false,
    cpu: 512,
    memoryMiB: 3072,
  },
  // The image the API host runs (post-fix state, jammy 20251015): a newer image
  // in the lookup does not replace it. No Elastic IP, as today.
  compute: { ami: "ami-0c398cb65a93047f2" },
  // cdktf.out/stacks/production -> <repo>/infra/terraform/modules
  hclModulesDir: "../../../../terraform/modules",
  // cdktf.out/stacks/production -> <repo>/backend/.env.production
  envFilePath: "../../../../../backend/.env.production",
  // The HCL root's state file, <repo>/infra/terraform/terraform.tfstate.
  backend: { type: "local", path: "../../../../terraform/terraform.tfstate" },
  // plan-check's --modules and (offline) --data when not given, from the project folder: the HCL
  // root's modules as ../shared/fixtures holds them, and the data sources' recorded values.
  planCheck: {
    modules: "../shared/fixtures/existing-hcl/terraform/modules",
    data: "__tests__/fixtures/plan-check/production-data.json",
  },
  // What is deployed (the state's outputs name the ML worker cluster and service), and where.
  deployedRegion: "us-east-1",
  deployed: {
    "aws_ecr_repository.ecr_backend": { name: "zivohealth-production-backend", encryption_configuration: undefined },
    "aws_sqs_queue.ml_worker_ml_worker": { name: "production-ml-worker", fifo_queue: undefined },
    "aws_sqs_queue.ml_worker_ml_worker_dlq": { name: "production-ml-worker-dlq", fifo_queue: undefined },
    "aws_cloudwatch_log_group.ml_worker_ml_worker": { name: "/ecs/production-ml-worker" },
    "aws_ecs_cluster.ml_worker_ml_worker": { name: "production-ml-worker-cluster" },
    "aws_ecs_service.ml_worker_ml_worker": {
      name: "production-ml-worker",
      capacity_provider_strategy: [{ base: 0, capacity_provider: "FARGATE_SPOT", weight: 100 }],
    },
    "aws_instance.compute_host": { ami: "ami-0c398cb65a93047f2", key_name: "ec2-dbeaver" },
  },
};

/**
 * Every hardened setting on. Review only (see reviewEnvironments): it has
 * production's names and state, so deploying it would change production.
 */
export const productionHardened: EnvironmentConfig = {
  ...production,
  hardening: {
    queueEncryption: { type: "sse-sqs" },
    backlogPerTaskScaling: true,
    onDemandWeight: 20,
    stopTimeoutSeconds: 120,
    deploymentCircuitBreaker: true,
    alarmNotifications: {},
    logRetentionDays: 365,
    createLogKmsKey: true,
    scopedS3Actions: true,
    adoptMlWorkerRepository: true,
  },
};

/** The deployment notes' first setup: one always-on aggregation task. */
export const productionFirstDeployment: EnvironmentConfig = {
  ...production,
  mlWorker: { ...production.mlWorker, workerMode: "aggregation", minCapacity: 1, maxCapacity: 1 },
};

/**
 * A second environment, as an example of adding one (docs/configuration.md "Adding an
 * environment"). Not deployed by default: it is not in `environments`. Its
 * own state file, names, bucket, zone and SSM parameters; nothing deployed
 * yet, so `newEnvironment` lets diff and deploy run without a state.
 */
export const staging: EnvironmentConfig = {
  ...production,
  environment: "staging",
  // Its own VPC: the vpc_endpoints module's private-DNS endpoints exist once per VPC, and production's
  // VPC has them (two stacks in one VPC are refused). Replace with the staging VPC's id.
  existingVpcId: "vpc-00000000000000000",
  // The staging database: it must exist before the first deploy (the stack reads it, it does not create it).
  dbInstanceIdentifier: "zivohealth-staging-postgres",
  rdsSecurityGroupId: "sg-00000000000000000", // replace with the staging database's security group
  dbPasswordSsmName: "/zivohealth/staging/db/password",
  storageBucketName: "zivohealth-staging-data",
  zoneName: "staging.zivohealth.ai",
  envFilePath: "../../../../../backend/.env.staging",
  backend: { type: "local", path: "../../../../terraform/staging.tfstate" },
  // Its first plan is offline from an empty state: the data sources' values are staging's own
  // (this file is production's, renamed: replace them with staging's).
  planCheck: { ...production.planCheck, data: "__tests__/fixtures/plan-check/staging-data.json" },
  mlWorker: { ...production.mlWorker, maxCapacity: 2 },
  // No host yet: its image is looked up (the newest Ubuntu 22.04) at its first plan.
  compute: {},
  deployed: {},
  newEnvironment: true,
};

/** The stacks `main.ts` synthesizes, by stack name. Add `staging` here to deploy it. */
export const environments: Readonly<Record<string, EnvironmentConfig>> = {
  production,
};

/**
 * Configurations `npm run policy` and `npm run migration-check` review with
 * `--stack <name>`: synthesized in memory, never written to cdktf.out, so no
 * cdktf command (`npm run deploy`, `cdktf deploy '*'`) can deploy them.
 */
export const reviewEnvironments: Readonly<Record<string, EnvironmentConfig>> = {
  "production-hardened": productionHardened,
};
