// Long: the HCL root (main.tf, outputs.tf) in its order, one method per part (data lookups, module blocks, constructs, outputs).
// The HCL root module (`infra/terraform`): provider, data sources, the three
// root resources, the module calls and the outputs. ecr, iam, ml_worker and
// compute are TypeScript constructs now; storage, ssm, vpc_endpoints and
// route53 stay HCL modules until their turn.
import {
  Fn,
  LocalBackend,
  S3Backend,
  TerraformElement,
  TerraformHclModule,
  TerraformLocal,
  TerraformOutput,
  TerraformStack,
  TerraformVariable,
} from "cdktf";
import { Construct } from "constructs";
import * as path from "path";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { DataAwsDbInstance } from "@cdktf/provider-aws/lib/data-aws-db-instance";
import { DataAwsRouteTables } from "@cdktf/provider-aws/lib/data-aws-route-tables";
import { DataAwsSubnets } from "@cdktf/provider-aws/lib/data-aws-subnets";
import { DataAwsVpc } from "@cdktf/provider-aws/lib/data-aws-vpc";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { SecurityGroupRule } from "@cdktf/provider-aws/lib/security-group-rule";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { LocalProvider } from "@cdktf/provider-local/lib/provider";
import { DataLocalFile } from "@cdktf/provider-local/lib/data-local-file";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import { EnvironmentConfig } from "../config/environment";
import { validateEnvironment } from "../config/validate";
import { duplicateAddresses, pinAddress } from "../modules/address";
import { Compute } from "../modules/compute";
import { Ecr } from "../modules/ecr";
import { Iam } from "../modules/iam";
import { MlWorker } from "../modules/ml-worker";
import { throwIfProblems } from "../modules/validation";
import { PolicyAspect, ResolvesOncePerSynth, attachPolicy } from "../policy";
import { HCL_MODULES } from "./hcl-modules";
import { applyMoves } from "./moves";
import { pinProviders } from "./providers";
import { guardReplacements } from "./replacement-guard";


/** The root's variables: what changes per deploy, and the secrets. */
interface RootVariables {
  readonly imageTag: TerraformVariable;
  readonly dbPassword: TerraformVariable;
  readonly fcmCredentials: TerraformVariable;
  readonly validApiKeys: TerraformVariable;
  readonly appSecretKey: TerraformVariable;
  readonly rabbitmqUrl: TerraformVariable;
}

/** What the root reads: the existing VPC, its subnets and route tables, the database, the env file. */
interface RootData {
  readonly vpc: DataAwsVpc;
  readonly publicSubnets: DataAwsSubnets;
  readonly privateSubnets: DataAwsSubnets;
  readonly privateRouteTables: DataAwsRouteTables;
  readonly db: DataAwsDbInstance;
  readonly reactAppApiKey: TerraformLocal;
  /** Documented fix 1: the endpoint is `host:5432`; consumers want the host. */
  readonly dbHost: string;
}

type HclModules = Record<(typeof HCL_MODULES)[number], TerraformHclModule>;

/** Root elements keep their HCL addresses, whatever their construct ids. */
const root = <T extends TerraformElement>(element: T, name: string): T => pinAddress(element, "", name);

export class ZivoHealthStack extends TerraformStack implements ResolvesOncePerSynth {
  public readonly ecr: Ecr;
  public readonly iam: Iam;
  public readonly mlWorker: MlWorker;
  public readonly compute: Compute;
  /** The policy checks attached to this stack. */
  public readonly policy: PolicyAspect;
  public readonly modules: Readonly<HclModules>;
  private resolvedForSynth?: unknown;

  // Every part creates its elements directly in the stack (no intermediate
  // construct), so the construct ids, and the addresses, are the HCL root's.
  constructor(scope: Construct, id: string, config: EnvironmentConfig) {
    // Validate before any construct exists, so bad input writes nothing.
    throwIfProblems(`configuration of stack '${id}'`, validateEnvironment(config));
    super(scope, id);
    this.configureTerraform(config);
    const variables = this.declareVariables(config);
    const data = this.lookUpData(config);
    const ec2Sg = this.addRootResources(config, data.vpc);
    const modules = this.callHclModules(config, variables, data);
    this.modules = modules;

    // ---- Constructs, in the root's order; their outputs feed the module blocks ----
    this.iam = this.addIam(config, modules.storage);
    modules.storage.set("ec2_role_arn", this.iam.ec2RoleArn);
    this.ecr = new Ecr(this, "ecr", {
      project: config.project,
      environment: config.environment,
      adoptMlWorkerRepository: config.hardening?.adoptMlWorkerRepository,
    });
    this.mlWorker = this.addMlWorker(config, data, modules.vpc_endpoints);
    this.addMlWorkerParameters(config);
    this.compute = this.addCompute(config, variables, data, ec2Sg, modules);
    modules.route53.set("target_ip", this.compute.publicIp);

    this.addOutputs(data, modules.ssm);
    // Exact provider sources and versions, not the bindings' (cdktf's aws binding
    // writes the short source "aws"; CDK Terrain's writes aws 6.66.0).
    pinProviders(this);
    // A mistyped pin that takes another element's address also leaves its moved block without a target: named
    // here as what it is, before applyMoves would name the move.
    throwIfProblems("Terraform addresses", duplicateAddresses(this));
    applyMoves(this);
    guardReplacements(this, config.deployed, config.allowReplacement, {
      environment: config.environment,
      region: config.awsRegion,
      deployedRegion: config.deployedRegion,
    });
    // Policy findings become synth warnings; `npm run policy` decides what blocks.
    this.policy = attachPolicy(this, config.policy?.config, { failSynth: config.policy?.failSynth, configPath: "policy.config" });
    // Two elements pinned to one address (added here or later) would be merged into one block by cdktf, silently.
    // buildApp refuses them first with its own message; this refuses them in any other App that validates.
    this.node.addValidation({ validate: () => duplicateAddresses(this) });
  }

  // ---- Terraform, providers, backend ----

  private configureTerraform(config: EnvironmentConfig): void {
    // S3-native locking (use_lockfile) needs Terraform 1.10; without it, init fails on older versions.
    const lockfile = config.backend.type === "s3" && (config.backend.useLockfile ?? config.backend.dynamodbTable === undefined);
    this.addOverride("terraform.required_version", lockfile ? ">= 1.10.0" : ">= 1.5.0");
    new AwsProvider(this, "aws", { region: config.awsRegion });
    new LocalProvider(this, "local");
    new RandomProvider(this, "random"); // used by the storage and ssm modules
    if (config.backend.type === "local") {
      new LocalBackend(this, { path: config.backend.path });
    } else {
      const s3 = new S3Backend(this, {
        bucket: config.backend.bucket,
        key: config.backend.key,
        region: config.backend.region,
        encrypt: config.backend.encrypt ?? true,
        dynamodbTable: config.backend.dynamodbTable,
      });
      // S3-native locking postdates cdktf 0.21's S3BackendConfig.
      if (lockfile) s3.addOverride("use_lockfile", true);
    }
  }

  // ---- Variables: what changes per deploy, and secrets ----

  private declareVariables(config: EnvironmentConfig): RootVariables {
    const variable = (name: string, type: string, description: string, opts: { default?: unknown; sensitive?: boolean }) =>
      root(new TerraformVariable(this, name, { type, description, ...opts }), name);
    return {
      imageTag: variable("image_tag", "string", "Backend image tag recorded in SSM for the EC2 host", {
        default: config.imageTag,
      }),
      dbPassword: variable(
        "db_password_plain",
        "string",
        "Database password the ssm module stores (the HCL had it as a literal); pass TF_VAR_db_password_plain",
        { sensitive: true },
      ),
      fcmCredentials: variable("reminders_fcm_credentials_json", "string", "FCM service account JSON for reminders", {
        default: "",
        sensitive: true,
      }),
      validApiKeys: variable("valid_api_keys_override", "string", "API keys for the API host's .env; empty: the host reads them from SSM", {
        default: "",
        sensitive: true,
      }),
      appSecretKey: variable("app_secret_key_override", "string", "App secret key for the API host's .env; empty: the host reads it from SSM", {
        default: "",
        sensitive: true,
      }),
      rabbitmqUrl: variable("reminder_rabbitmq_url", "string", "RabbitMQ URL of the reminder service (holds credentials)", {
        default: "amqp://guest:guest@rabbitmq:5672//",
        sensitive: true,
      }),
    };
  }

  // ---- Data sources ----

  private lookUpData(config: EnvironmentConfig): RootData {
    // The local below names this data source by its pinned address.
    // A relative path is from the stack's folder (path.module); an absolute one is used as given.
    const filename = path.isAbsolute(config.envFilePath) ? config.envFilePath : `\${path.module}/${config.envFilePath}`;
    root(new DataLocalFile(this, "env_production", { filename }), "env_production");
    const vpc = root(new DataAwsVpc(this, "existing_vpc", { id: config.existingVpcId }), "existing");
    const publicSubnets = root(
      new DataAwsSubnets(this, "existing_public", {
        filter: [
          { name: "vpc-id", values: [vpc.id] },
          { name: "map-public-ip-on-launch", values: ["true"] },
        ],
      }),
      "existing_public",
    );
    const privateSubnets = root(
      new DataAwsSubnets(this, "existing_private", {
        filter: [
          { name: "vpc-id", values: [vpc.id] },
          { name: "map-public-ip-on-launch", values: ["false"] },
        ],
      }),
      "existing_private",
    );
    const privateRouteTables = root(
      new DataAwsRouteTables(this, "private", {
        vpcId: vpc.id,
        filter: [{ name: "association.subnet-id", values: privateSubnets.ids }],
      }),
      "private",
    );
    const db = root(new DataAwsDbInstance(this, "existing_db", { dbInstanceIdentifier: config.dbInstanceIdentifier }), "existing");

    // The React app API key, exactly as the HCL root read it: the first `REACT_APP_API_KEY=` line, its text between
    // the first and the second `=`, trimmed. A key containing `=` (base64 padding) is cut there, as before: kept on
    // purpose so the migration changes no production value (docs/configuration.md, "The env file").
    const reactAppApiKey = root(
      new TerraformLocal(
        this,
        "react_app_api_key",
        `\${trimspace(split("=", [for line in split("\\n", data.local_file.env_production.content) : line if can(regex("^REACT_APP_API_KEY=", line))][0])[1])}`,
      ),
      "react_app_api_key",
    );
    const dbHost = Fn.element(Fn.split(":", db.endpoint), 0);
    return { vpc, publicSubnets, privateSubnets, privateRouteTables, db, reactAppApiKey, dbHost };
  }

  // ---- Root resources ----

  /** The VPC under management, the API host's security group and its way into RDS; returns the group. */
  private addRootResources(config: EnvironmentConfig, vpc: DataAwsVpc): SecurityGroup {
    const { project, environment: env } = config;
    root(
      new Vpc(this, "managed_existing", {
        cidrBlock: vpc.cidrBlock,
        enableDnsSupport: true,
        enableDnsHostnames: true,
        lifecycle: { ignoreChanges: ["tags"] },
      }),
      "managed_existing",
    );
    const open = (port: number, toPort: number, protocol: string, description: string) => ({
      fromPort: port,
      toPort,
      protocol,
      cidrBlocks: ["0.0.0.0/0"],
      description,
    });
    const ec2Sg = root(
      new SecurityGroup(this, "ec2_existing_vpc", {
        namePrefix: `${project}-${env}-ec2-`,
        vpcId: vpc.id,
        description: "Security group for EC2 instances in existing VPC",
        ingress: [
          open(22, 22, "tcp", "SSH access"),
          open(80, 80, "tcp", "HTTP access"),
          open(443, 443, "tcp", "HTTPS access"),
          open(7880, 7880, "tcp", "LiveKit signaling (WS)"),
          open(7881, 7881, "tcp", "LiveKit TCP fallback/TURN"),
          open(50000, 60000, "udp", "LiveKit media (UDP 50000-60000)"),
        ],
        egress: [open(0, 0, "-1", "All outbound traffic")],
        tags: { Name: `${project}-${env}-ec2-sg` },
      }),
      "ec2_existing_vpc",
    );
    root(
      new SecurityGroupRule(this, "ec2_to_rds", {
        type: "ingress",
        fromPort: 5432,
        toPort: 5432,
        protocol: "tcp",
        sourceSecurityGroupId: ec2Sg.id,
        securityGroupId: config.rdsSecurityGroupId,
        description: "Allow EC2 access to RDS",
      }),
      "ec2_to_rds",
    );
    return ec2Sg;
  }

  // ---- HCL module blocks, in the root's order ----

  /**
   * The modules still in HCL. What they take from the constructs (storage's
   * `ec2_role_arn`, route53's `target_ip`) is set once those exist.
   */
  private callHclModules(config: EnvironmentConfig, variables: RootVariables, data: RootData): HclModules {
    const { project, environment: env } = config;
    const hclModule = (name: (typeof HCL_MODULES)[number], inputs: Record<string, unknown>) =>
      new TerraformHclModule(this, name, {
        source: `${config.hclModulesDir}/${name}`,
        // The modules are not copied into cdktf.out: synthesis must not need them.
        skipAssetCreationFromLocalModules: true,
        variables: inputs,
      });
    const storage = hclModule("storage", { project, environment: env, bucket_name: config.storageBucketName });
    const vpcEndpoints = hclModule("vpc_endpoints", {
      environment: env,
      aws_region: config.awsRegion,
      vpc_id: data.vpc.id,
      private_subnet_ids: data.privateSubnets.ids,
      route_table_ids: data.privateRouteTables.ids,
    });
    const ssm = hclModule("ssm", {
      project,
      environment: env,
      image_tag: variables.imageTag.stringValue,
      db_endpoint: data.dbHost, // documented fix 1
      db_username: config.dbUsername,
      db_password_ssm_key: config.dbPasswordSsmName,
      s3_bucket_name: storage.getString("bucket_name"),
      db_password_plain: variables.dbPassword.stringValue,
      reminders_fcm_credentials_json: variables.fcmCredentials.stringValue,
      reminders_fcm_project_id: config.reminders.remindersFcmProjectId,
      react_app_api_key: data.reactAppApiKey.asString,
      // The module counts its two ML worker parameters on this URL, unknown
      // until the queue exists: no plan in one step. A known "" makes the
      // count 0; the stack declares them (addMlWorkerParameters, moved blocks in stacks/moves.ts).
      ml_worker_queue_url: "",
    });
    const route53 = hclModule("route53", { project, environment: env, zone_name: config.zoneName });
    return { storage, ssm, vpc_endpoints: vpcEndpoints, route53 };
  }

  // ---- Constructs ----

  private addIam(config: EnvironmentConfig, storage: TerraformHclModule): Iam {
    const hardening = config.hardening ?? {};
    return new Iam(this, "iam", {
      project: config.project,
      environment: config.environment,
      storageBucketArn: storage.getString("bucket_arn"),
      scopedS3Actions: hardening.scopedS3Actions,
      // Sending and receiving on a KMS-encrypted queue need the key.
      queueKmsKeyId: hardening.queueEncryption?.type === "kms" ? hardening.queueEncryption.kmsKeyId : undefined,
    });
  }

  private addMlWorker(config: EnvironmentConfig, data: RootData, vpcEndpoints: TerraformHclModule): MlWorker {
    const { project, environment: env } = config;
    const ml = config.mlWorker;
    const hardening = config.hardening ?? {};
    return new MlWorker(this, "ml_worker", {
      dependsOn: [vpcEndpoints],
      environment: env,
      awsRegion: config.awsRegion,
      vpcId: data.vpc.id,
      // Public subnets on purpose: tasks get a public IP for internet egress.
      privateSubnetIds: data.publicSubnets.ids,
      ecrRepositoryUrl: this.ecr.registryHost, // documented fix 2
      executionRoleArn: this.iam.ecsExecutionRoleArn,
      taskRoleArn: this.iam.ecsTaskRoleArn,
      apiRoleArn: this.iam.ec2RoleArn,
      dbHost: data.dbHost, // documented fix 1
      dbPort: data.db.port,
      dbName: data.db.dbName,
      // The environment's own parameters (the ssm module's) and bucket; for production, the construct's defaults.
      ssmParameterPrefix: `/${project}/${env}`,
      dataBucketName: config.storageBucketName,
      workerMode: ml.workerMode,
      minCapacity: ml.minCapacity,
      maxCapacity: ml.maxCapacity,
      targetQueueDepth: ml.targetQueueDepth,
      enableScheduledScaling: ml.enableScheduledScaling,
      cpu: ml.cpu,
      memoryMiB: ml.memoryMiB,
      queueEncryption: hardening.queueEncryption,
      backlogPerTaskScaling: hardening.backlogPerTaskScaling,
      onDemandWeight: hardening.onDemandWeight,
      stopTimeoutSeconds: hardening.stopTimeoutSeconds,
      deploymentCircuitBreaker: hardening.deploymentCircuitBreaker,
      alarmNotifications: hardening.alarmNotifications,
      logRetentionDays: hardening.logRetentionDays,
      logKmsKeyArn: hardening.logKmsKeyArn,
      createLogKmsKey: hardening.createLogKmsKey,
    });
  }

  /** The ssm module's two ML worker parameters, declared here (see callHclModules), at the module's addresses. */
  private addMlWorkerParameters(config: EnvironmentConfig): void {
    const { project, environment: env } = config;
    const parameter = (name: string, key: string, value: string) =>
      pinAddress(
        new SsmParameter(this, `ssm_${name}`, { name: `/${project}/${env}/ml_worker/${key}`, type: "String", value, overwrite: true }),
        "ssm",
        name,
      );
    parameter("ml_worker_queue_url", "queue_url", this.mlWorker.sqsQueueUrl);
    parameter("ml_worker_enabled", "enabled", "true");
  }

  private addCompute(config: EnvironmentConfig, variables: RootVariables, data: RootData, ec2Sg: SecurityGroup, modules: HclModules): Compute {
    const { project, environment: env } = config;
    const r = config.reminders;
    return new Compute(this, "compute", {
      project,
      environment: env,
      vpcId: data.vpc.id,
      publicSubnetId: Fn.element(data.publicSubnets.ids, 0),
      instanceProfileName: this.iam.instanceProfileName,
      securityGroupIds: [ec2Sg.id],
      ecrRepoUrl: this.ecr.repositoryUrl,
      ssmImageTagParam: modules.ssm.getString("image_tag_param_name"),
      awsRegion: config.awsRegion,
      enableSshTunnel: config.enableSshTunnel,
      sshAllowedCidrs: [...config.sshAllowedCidrs],
      keyName: config.sshKeyName ?? undefined,
      validApiKeysOverride: variables.validApiKeys.stringValue,
      appSecretKeyOverride: variables.appSecretKey.stringValue,
      remindersFcmCredentialsJson: variables.fcmCredentials.stringValue,
      remindersFcmProjectId: r.remindersFcmProjectId,
      reminderServiceHost: r.reminderServiceHost,
      reminderServicePort: r.reminderServicePort,
      reminderRabbitmqUrl: variables.rabbitmqUrl.stringValue,
      reminderRabbitmqExchange: r.reminderRabbitmqExchange,
      reminderRabbitmqInputQueue: r.reminderRabbitmqInputQueue,
      reminderRabbitmqOutputQueue: r.reminderRabbitmqOutputQueue,
      reminderRabbitmqInputRoutingKey: r.reminderRabbitmqInputRoutingKey,
      reminderRabbitmqOutputRoutingKey: r.reminderRabbitmqOutputRoutingKey,
      reminderSchedulerScanIntervalSeconds: r.reminderSchedulerScanIntervalSeconds,
      reminderSchedulerBatchSize: r.reminderSchedulerBatchSize,
      reminderMetricsEnabled: r.reminderMetricsEnabled,
      composeS3Bucket: modules.storage.getString("bucket_name"),
      composeS3Key: `deploy/${env}/docker-compose.yml`,
      ami: config.compute?.ami,
      elasticIp: config.compute?.elasticIp,
    });
  }

  // ---- Outputs: the root's, by name, with the HCL's descriptions (outputs.tf, main.tf) ----

  private addOutputs(data: RootData, ssm: TerraformHclModule): void {
    const output = (name: string, value: string, description: string) =>
      root(new TerraformOutput(this, name, { value, description }), name);
    output("ec2_public_ip", this.compute.publicIp, "Public IP of the EC2 instance");
    output("ecr_repository_url", this.ecr.repositoryUrl, "ECR repository URL for backend image");
    output("rds_endpoint", data.db.endpoint, "RDS PostgreSQL endpoint");
    output("ec2_instance_id", this.compute.instanceId, "EC2 instance ID for SSM port forwarding");
    output("ssm_image_tag_param_name", ssm.getString("image_tag_param_name"), "SSM parameter name that stores the desired image tag for deploy watcher");
    output("ml_worker_queue_url", this.mlWorker.sqsQueueUrl, "SQS Queue URL for ML Worker");
    output("ml_worker_cluster_name", this.mlWorker.ecsClusterName, "ECS Cluster name for ML Worker");
    output("ml_worker_service_name", this.mlWorker.ecsServiceName, "ECS Service name for ML Worker");
  }

  /**
   * cdktf's preparing pass resolves every element once more only to find references to another
   * stack's values (each becomes a remote-state lookup and an output). Alone in its app, the stack
   * has none to find: it only makes sure of its backend, as that pass does first (about 40 ms of
   * the app's 0.45 s). With other stacks beside it, the whole pass runs.
   */
  public prepareStack(): void {
    if (this.node.root.node.findAll().filter(TerraformStack.isStack).length > 1) return super.prepareStack();
    this.ensureBackendExists();
  }

  /**
   * The policy aspect resolves the stack just before the synthesizer does, and
   * nothing changes the tree in between (validations only read it): the
   * synthesizer's next `toTerraform()` reuses that resolution.
   */
  public resolveForSynth(): unknown {
    this.resolvedForSynth = super.toTerraform();
    return this.resolvedForSynth;
  }

  public toTerraform(): any {
    const resolved = this.resolvedForSynth ?? super.toTerraform();
    this.resolvedForSynth = undefined;
    return resolved;
  }
}
