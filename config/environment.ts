// The typed configuration of one deployment: what the HCL root's variables and
// terraform.tfvars held, minus what changes per deploy or is secret (those are
// Terraform variables, see stacks/zivohealth-stack.ts).

import { ComputeProps } from "../modules/compute";
import { EcrProps } from "../modules/ecr";
import { IamProps } from "../modules/iam";
import { MlWorkerProps, WorkerMode } from "../modules/ml-worker";
import { KnownKeys } from "../modules/validation";
import { PolicyConfig, PolicyExemption } from "../policy/config";

/** The existing local state file (the HCL root had no backend). */
export interface LocalBackendConfig {
  readonly type: "local";
  /**
   * Path of the state file, relative to the directory Terraform runs in,
   * which for cdktf is `cdktf.out/stacks/<stack>`. Required.
   */
  readonly path: string;
}

/** An S3 backend, for a team that moves the state off one laptop. */
export interface S3BackendConfig {
  readonly type: "s3";
  /** State bucket name. Required. */
  readonly bucket: string;
  /** Object key of the state, e.g. `zivohealth/production/terraform.tfstate`. Required. */
  readonly key: string;
  /** Region of the bucket. Required. */
  readonly region: string;
  /** Server-side encryption of the state object. @default true */
  readonly encrypt?: boolean;
  /**
   * S3-native state locking; needs Terraform 1.10 or later, which the stack
   * then requires.
   * @default - true without dynamodbTable, false with it
   */
  readonly useLockfile?: boolean;
  /** DynamoDB table for locking, for Terraform older than 1.10. @default - none */
  readonly dynamodbTable?: string;
}

/** Where the stack keeps its Terraform state. */
export type BackendConfig = LocalBackendConfig | S3BackendConfig;

/** ML worker settings (the root's `module "ml_worker"` arguments). */
export interface MlWorkerSettings {
  /** `sqs`, `aggregation` or `both`. */
  readonly workerMode: WorkerMode;
  /** Lowest task count; 0 lets the service scale to zero. */
  readonly minCapacity: number;
  /** Highest task count. */
  readonly maxCapacity: number;
  /** Visible messages per task that target tracking aims at. */
  readonly targetQueueDepth: number;
  /** Night scale-down / morning scale-up scheduled actions. */
  readonly enableScheduledScaling: boolean;
  /** Task CPU units. */
  readonly cpu: number;
  /** Task memory in MiB. */
  readonly memoryMiB: number;
}

/**
 * The reminder service settings passed through to the Compute construct.
 * `reminder_rabbitmq_url` and the FCM credentials are Terraform variables
 * instead: they carry credentials.
 */
export interface ReminderSettings {
  readonly remindersFcmProjectId: string;
  readonly reminderServiceHost: string;
  readonly reminderServicePort: number;
  readonly reminderRabbitmqExchange: string;
  readonly reminderRabbitmqInputQueue: string;
  readonly reminderRabbitmqOutputQueue: string;
  readonly reminderRabbitmqInputRoutingKey: string;
  readonly reminderRabbitmqOutputRoutingKey: string;
  readonly reminderSchedulerScanIntervalSeconds: number;
  readonly reminderSchedulerBatchSize: number;
  readonly reminderMetricsEnabled: boolean;
}

/**
 * The API host (the Compute construct), beyond the HCL module's inputs. Each
 * setting documented on the construct's props.
 */
export type ComputeSettings = Pick<ComputeProps, "ami" | "elasticIp">;

/**
 * The hardened profile: each setting opt-in, all off in the faithful stack.
 * The settings are the constructs' own props (documented there); what each
 * changes in a plan is in the README ("Hardened profile").
 */
export type HardeningSettings = Pick<
  MlWorkerProps,
  | "queueEncryption"
  | "backlogPerTaskScaling"
  | "onDemandWeight"
  | "stopTimeoutSeconds"
  | "deploymentCircuitBreaker"
  | "alarmNotifications"
  | "logRetentionDays"
  | "logKmsKeyArn"
  | "createLogKmsKey"
> &
  Pick<IamProps, "scopedS3Actions"> &
  Pick<EcrProps, "adoptMlWorkerRepository">;

/**
 * What the deployed stateful resources are, by synthesized address, for the
 * attributes whose change forces a replacement. The stack refuses a
 * configuration that would replace one of them unless `allowReplacement`
 * names it. Literal values on purpose: derived from the code, a rename in the
 * code would move the baseline along with it.
 */
export type DeployedIdentity = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

/**
 * A replacement the operator accepts: its address, or its address with why
 * (plan-check's report shows the reason).
 */
export type AllowedReplacement = string | { readonly address: string; readonly reason: string };

/** The address an allowReplacement entry names. */
export const replacementAddress = (entry: AllowedReplacement): string => (typeof entry === "string" ? entry : entry.address);

/** A delete or replace that plan-check's gate accepts. */
export interface AllowedDestroy {
  /** The planned address (`module.ssm.aws_ssm_parameter.db_password`). */
  readonly address: string;
  /** Only the delete of a deposed object at that address. @default false */
  readonly deposed?: boolean;
  /** Why it is accepted; shown in the report. */
  readonly reason: string;
}

/**
 * A state instance that `npm run plan-check --offline` cannot plan here (its
 * provider is not installed, or the installed provider does not know its
 * type), which the environment keeps on purpose.
 */
export interface KeptUnplannable {
  /** Its instance address (`tls_private_key.deploy[0]`), or its resource address for every instance of it. */
  readonly address: string;
  /** Why it stays, and who looks after it instead; shown in the report. */
  readonly reason: string;
}

/** Policy checks at synth (see EnvironmentConfig.policy). */
export interface EnvironmentPolicySettings {
  /**
   * Blocking severities, the log retention floor and exemptions.
   * @default - DEFAULT_POLICY_CONFIG
   */
  readonly config?: Partial<PolicyConfig>;
  /** Turn blocking findings into synth errors. @default false */
  readonly failSynth?: boolean;
}

/**
 * What `npm run plan-check` (and migrate-state's verification plans) uses for
 * this stack when the flag is not given, so the command a user types is short.
 * Paths are relative to the project folder (where package.json is). Not
 * synthesized: the stack's Terraform does not depend on them.
 */
export interface PlanCheckDefaults {
  /**
   * The HCL modules' folder (`--modules`).
   * @default - hclModulesDir, from the stack's folder `cdktf.out/stacks/<stack>`
   */
  readonly modules?: string;
  /**
   * The recorded values of the data sources (`--data`), for `--offline` runs.
   * @default - none: every data source the snapshot lacks must come from a --data file
   */
  readonly data?: string;
}

/** One environment's configuration; one stack is built from each. */
export interface EnvironmentConfig {
  /** `project_name`. */
  readonly project: string;
  /** `environment`. */
  readonly environment: string;
  /** `aws_region`: the provider's region. */
  readonly awsRegion: string;
  /** Default of the `image_tag` Terraform variable (tfvars: `latest`). */
  readonly imageTag: string;
  /** The existing VPC shared with RDS. */
  readonly existingVpcId: string;
  /** The existing RDS instance's identifier. */
  readonly dbInstanceIdentifier: string;
  /** The RDS instance's security group, opened to the EC2 host on 5432. */
  readonly rdsSecurityGroupId: string;
  /** `db_username`. */
  readonly dbUsername: string;
  /** `db_password_ssm_name`. */
  readonly dbPasswordSsmName: string;
  /** The storage module's bucket. */
  readonly storageBucketName: string;
  /** The route53 module's zone. */
  readonly zoneName: string;
  /** `ssh_key_name`; null for none. */
  readonly sshKeyName: string | null;
  /** `enable_ssh_tunnel`. */
  readonly enableSshTunnel: boolean;
  /** `ssh_allowed_cidrs`. */
  readonly sshAllowedCidrs: readonly string[];
  /** Reminder service settings. */
  readonly reminders: ReminderSettings;
  /** ML worker settings. */
  readonly mlWorker: MlWorkerSettings;
  /**
   * The API host's image and Elastic IP.
   * @default - the image looked up (the newest Ubuntu 22.04), no Elastic IP: a new environment
   */
  readonly compute?: ComputeSettings;
  /**
   * Folder of the HCL modules that stay HCL (storage, ssm, vpc_endpoints,
   * route53), relative to the stack's synthesized directory
   * `cdktf.out/stacks/<stack>`. The default assumes this project sits beside
   * `infra/terraform`.
   */
  readonly hclModulesDir: string;
  /**
   * The backend env file read for `REACT_APP_API_KEY`, relative to the
   * stack's synthesized directory (Terraform's `path.module`).
   */
  readonly envFilePath: string;
  /** State backend. */
  readonly backend: BackendConfig;
  /** Hardened profile settings. @default - none: the faithful stack */
  readonly hardening?: HardeningSettings;
  /** The deployed stateful resources' identities. @default - none: nothing deployed to protect */
  readonly deployed?: DeployedIdentity;
  /**
   * The region the deployed resources are in; required when `deployed`
   * records any. A different `awsRegion` would recreate every resource there,
   * and the replacement guard refuses it. @default - none: nothing deployed
   */
  readonly deployedRegion?: string;
  /**
   * Addresses whose replacement the operator accepts (this also lifts their
   * `prevent_destroy`), each an address or `{ address, reason }`. @default - none
   */
  readonly allowReplacement?: readonly AllowedReplacement[];
  /**
   * Deletes and replaces that `npm run plan-check` accepts, each with its
   * reason (shown in the report). Any other delete or replace in the plan
   * fails the gate, and so does an entry the plan does not use.
   * @default - none: every delete or replace fails the gate
   */
  readonly allowDestroy?: readonly AllowedDestroy[];
  /**
   * State instances the offline `npm run plan-check` cannot account for (their
   * provider is not installed here, or the installed provider does not know
   * their type) that the environment keeps, each with its reason: listed in
   * the report as not judged. Any other such instance fails the gate (real
   * Terraform would plan it, a delete if nothing declares it), and so does an
   * entry that names none.
   * @default - none: every such instance fails the gate
   */
  readonly keepUnplannable?: readonly KeptUnplannable[];
  /**
   * Policy checks run at every synth as warnings. `config` sets blocking
   * severities, the log retention floor and exemptions; `failSynth` turns
   * blocking findings into synth errors.
   * @default - DEFAULT_POLICY_CONFIG, warnings only
   */
  readonly policy?: EnvironmentPolicySettings;
  /**
   * The environment was never deployed: its state may not exist yet, so
   * `npm run diff` / `npm run deploy` do not require it. Remove this after the
   * first deploy (they refuse while it is set and the state holds resources).
   * @default false - the state must exist and hold resources
   */
  readonly newEnvironment?: boolean;
  /**
   * plan-check's defaults for `--modules` and (offline) `--data`; a flag
   * given wins. @default - none: --modules defaults to hclModulesDir, no --data file
   */
  readonly planCheck?: PlanCheckDefaults;
}

// ---- Known keys: one list per configuration object, checked by config/validate.ts.
// tsc fails when a type above gains a field that its list lacks, and the reverse.

export const ENVIRONMENT_KEYS: KnownKeys<EnvironmentConfig> = {
  project: true,
  environment: true,
  awsRegion: true,
  imageTag: true,
  existingVpcId: true,
  dbInstanceIdentifier: true,
  rdsSecurityGroupId: true,
  dbUsername: true,
  dbPasswordSsmName: true,
  storageBucketName: true,
  zoneName: true,
  sshKeyName: true,
  enableSshTunnel: true,
  sshAllowedCidrs: true,
  reminders: true,
  mlWorker: true,
  compute: true,
  hclModulesDir: true,
  envFilePath: true,
  backend: true,
  hardening: true,
  deployed: true,
  deployedRegion: true,
  allowReplacement: true,
  policy: true,
  newEnvironment: true,
  allowDestroy: true,
  keepUnplannable: true,
  planCheck: true,
};

export const PLAN_CHECK_DEFAULTS_KEYS: KnownKeys<PlanCheckDefaults> = { modules: true, data: true };

export const COMPUTE_SETTINGS_KEYS: KnownKeys<ComputeSettings> = { ami: true, elasticIp: true };

export const ALLOWED_REPLACEMENT_KEYS: KnownKeys<Exclude<AllowedReplacement, string>> = { address: true, reason: true };

export const ALLOW_DESTROY_KEYS: KnownKeys<AllowedDestroy> = { address: true, deposed: true, reason: true };
export const KEEP_UNPLANNABLE_KEYS: KnownKeys<KeptUnplannable> = { address: true, reason: true };

export const ML_WORKER_SETTINGS_KEYS: KnownKeys<MlWorkerSettings> = {
  workerMode: true,
  minCapacity: true,
  maxCapacity: true,
  targetQueueDepth: true,
  enableScheduledScaling: true,
  cpu: true,
  memoryMiB: true,
};

export const REMINDER_SETTINGS_KEYS: KnownKeys<ReminderSettings> = {
  remindersFcmProjectId: true,
  reminderServiceHost: true,
  reminderServicePort: true,
  reminderRabbitmqExchange: true,
  reminderRabbitmqInputQueue: true,
  reminderRabbitmqOutputQueue: true,
  reminderRabbitmqInputRoutingKey: true,
  reminderRabbitmqOutputRoutingKey: true,
  reminderSchedulerScanIntervalSeconds: true,
  reminderSchedulerBatchSize: true,
  reminderMetricsEnabled: true,
};

export const HARDENING_KEYS: KnownKeys<HardeningSettings> = {
  queueEncryption: true,
  backlogPerTaskScaling: true,
  onDemandWeight: true,
  stopTimeoutSeconds: true,
  deploymentCircuitBreaker: true,
  alarmNotifications: true,
  logRetentionDays: true,
  logKmsKeyArn: true,
  createLogKmsKey: true,
  scopedS3Actions: true,
  adoptMlWorkerRepository: true,
};

export const BACKEND_KEYS: { readonly local: KnownKeys<LocalBackendConfig>; readonly s3: KnownKeys<S3BackendConfig> } = {
  local: { type: true, path: true },
  s3: { type: true, bucket: true, key: true, region: true, encrypt: true, useLockfile: true, dynamodbTable: true },
};

export const POLICY_SETTINGS_KEYS: KnownKeys<EnvironmentPolicySettings> = { config: true, failSynth: true };
export const POLICY_CONFIG_KEYS: KnownKeys<PolicyConfig> = { blockingSeverities: true, logRetentionFloorDays: true, exemptions: true };
export const POLICY_EXEMPTION_KEYS: KnownKeys<PolicyExemption> = { id: true, address: true, reason: true };
