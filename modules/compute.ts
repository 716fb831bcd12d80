// Long: the HCL module compute in one construct, its sections in the order of the HCL file (STYLE.md); the templates it renders are beside it.
// Replaces the HCL module `modules/compute`: the EC2 API host, the
// docker-compose file it fetches from S3 and that file's checksum in SSM, and
// the optional SSH rule. Sections follow the HCL file: data sources, locals
// (the two templates, rendered by Terraform), compose object and checksum,
// host, SSH rule. Two changes from the HCL, both for production to deploy
// again: the script goes gzip-compressed in `user_data_base64` (the HCL's
// 17,485 bytes are over EC2's 16,384-byte limit), and the host runs the image
// it is given (`ami`), not whatever the lookup finds newest.
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { AssetType, Fn, Op, TerraformAsset, TerraformLocal, Token } from "cdktf";
import { Construct } from "constructs";
import { DataAwsAmi } from "@cdktf/provider-aws/lib/data-aws-ami";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsRegion } from "@cdktf/provider-aws/lib/data-aws-region";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { S3Object } from "@cdktf/provider-aws/lib/s3-object";
import { SecurityGroupRule } from "@cdktf/provider-aws/lib/security-group-rule";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { pinAddress } from "./address";
import {
  AMI_ID,
  KnownKeys,
  NAME,
  checkBoolean,
  checkCidrs,
  checkKnownKeys,
  checkNumber,
  checkRegion,
  checkString,
  checkTemplateText,
  show,
  throwIfProblems,
} from "./validation";

/** EC2's user-data limit: bytes of raw data, before base64 (what `user_data_base64` decodes to). */
export const USER_DATA_LIMIT_BYTES = 16384;

/** 16384 as "16,384". Not toLocaleString: its first call loads ICU's data, 25 ms of every synthesis. */
const thousands = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");

/** The two templates, byte for byte the HCL module's, in `modules/compute/`. */
export const COMPUTE_TEMPLATES = {
  userData: "user_data_minimal.sh.tpl",
  compose: "docker-compose.yml.tpl",
} as const;

/** The Ubuntu 22.04 lookup of the HCL module (Canonical's images). */
export const UBUNTU_OWNER = "099720109477";
export const UBUNTU_NAME_FILTER = "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*";

export interface ComputeProps {
  /** Project name: names the SSM parameter and the host's Name tag. Required. */
  readonly project: string;
  /** Environment name, e.g. `production`. Required. */
  readonly environment: string;
  /** The VPC (the HCL module declares it and uses it nowhere; kept so the call reads the same). Required. */
  readonly vpcId: string;
  /** Subnet of the host. Required. */
  readonly publicSubnetId: string;
  /** Instance profile of the host (the Iam construct's `instanceProfileName`). Required. */
  readonly instanceProfileName: string;
  /** Security groups of the host; the SSH rule goes into the first. Required. */
  readonly securityGroupIds: string[];
  /** Backend repository URL, for `docker login` in the script. Required. */
  readonly ecrRepoUrl: string;
  /** SSM parameter holding the image tag (passed to the script; unused by it today). Required. */
  readonly ssmImageTagParam: string;
  /** Region of the script's AWS calls and of the image registry. Required. */
  readonly awsRegion: string;
  /**
   * JSON array of API keys to inject into .env (overrides SSM). The template
   * does not read it today: the host takes the keys from SSM. A secret: pass a
   * sensitive Terraform variable.
   * @default ""
   */
  readonly validApiKeysOverride?: string;
  /**
   * App secret key for HMAC to inject into .env (overrides SSM). The template
   * does not read it today: the host takes the key from SSM. A secret: pass a
   * sensitive Terraform variable.
   * @default ""
   */
  readonly appSecretKeyOverride?: string;
  /**
   * Whether to enable SSH ingress for tunneling on port 22 (a rule in the
   * first of `securityGroupIds`).
   * @default false
   */
  readonly enableSshTunnel?: boolean;
  /**
   * List of CIDR blocks allowed to SSH when `enableSshTunnel` is true.
   * @default []
   */
  readonly sshAllowedCidrs?: string[];
  /**
   * Existing EC2 key pair name to attach for SSH.
   * @default - none
   */
  readonly keyName?: string;
  /**
   * Reminder service host.
   * @default "0.0.0.0"
   */
  readonly reminderServiceHost?: string;
  /**
   * Reminder service port.
   * @default 8085
   */
  readonly reminderServicePort?: number;
  /**
   * RabbitMQ URL for reminders service. Holds credentials: pass a sensitive
   * Terraform variable.
   * @default "amqp://guest:guest@rabbitmq:5672//"
   */
  readonly reminderRabbitmqUrl?: string;
  /**
   * RabbitMQ exchange for reminders service.
   * @default "reminders.direct.v1"
   */
  readonly reminderRabbitmqExchange?: string;
  /**
   * RabbitMQ input queue for reminders service.
   * @default "reminders.input.v1"
   */
  readonly reminderRabbitmqInputQueue?: string;
  /**
   * RabbitMQ output queue for reminders service.
   * @default "reminders.output.v1"
   */
  readonly reminderRabbitmqOutputQueue?: string;
  /**
   * RabbitMQ input routing key for reminders service.
   * @default "input"
   */
  readonly reminderRabbitmqInputRoutingKey?: string;
  /**
   * RabbitMQ output routing key for reminders service.
   * @default "output"
   */
  readonly reminderRabbitmqOutputRoutingKey?: string;
  /**
   * Reminder scheduler scan interval in seconds.
   * @default 30
   */
  readonly reminderSchedulerScanIntervalSeconds?: number;
  /**
   * Reminder scheduler batch size.
   * @default 1000
   */
  readonly reminderSchedulerBatchSize?: number;
  /**
   * Enable metrics for reminders service.
   * @default true
   */
  readonly reminderMetricsEnabled?: boolean;
  /**
   * FCM service account JSON credentials for reminders service; the template
   * writes it into the script. A secret: pass a sensitive Terraform variable.
   * @default ""
   */
  readonly remindersFcmCredentialsJson?: string;
  /**
   * FCM project ID for reminders service.
   * @default ""
   */
  readonly remindersFcmProjectId?: string;
  /** S3 bucket to store rendered docker-compose.yml. Required. */
  readonly composeS3Bucket: string;
  /** S3 key for rendered docker-compose.yml, e.g. `deploy/production/docker-compose.yml`. Required. */
  readonly composeS3Key: string;

  // ---- not in the HCL module ----

  /**
   * The image the host runs. Set it for a deployed host (its recorded AMI):
   * a newer image in the lookup then never replaces the host. Changing it
   * replaces the host (the replacement guard asks for that to be allowed).
   * @default - the lookup's image: the newest Canonical Ubuntu 22.04 (a new host)
   */
  readonly ami?: string;
  /**
   * An Elastic IP on the host, so its address survives a stop and start
   * (`publicIp` is then the Elastic IP's). Creating it changes the address once.
   * @default false
   */
  readonly elasticIp?: boolean;
  /**
   * Prefix of this construct's Terraform addresses (`aws_instance.<prefix>_host`).
   * @default "compute"
   */
  readonly addressPrefix?: string;
}

/** The props Compute knows; anything else is refused, with the closest name. */
export const COMPUTE_PROP_KEYS: KnownKeys<ComputeProps> = {
  project: true,
  environment: true,
  vpcId: true,
  publicSubnetId: true,
  instanceProfileName: true,
  securityGroupIds: true,
  ecrRepoUrl: true,
  ssmImageTagParam: true,
  awsRegion: true,
  validApiKeysOverride: true,
  appSecretKeyOverride: true,
  enableSshTunnel: true,
  sshAllowedCidrs: true,
  keyName: true,
  reminderServiceHost: true,
  reminderServicePort: true,
  reminderRabbitmqUrl: true,
  reminderRabbitmqExchange: true,
  reminderRabbitmqInputQueue: true,
  reminderRabbitmqOutputQueue: true,
  reminderRabbitmqInputRoutingKey: true,
  reminderRabbitmqOutputRoutingKey: true,
  reminderSchedulerScanIntervalSeconds: true,
  reminderSchedulerBatchSize: true,
  reminderMetricsEnabled: true,
  remindersFcmCredentialsJson: true,
  remindersFcmProjectId: true,
  composeS3Bucket: true,
  composeS3Key: true,
  ami: true,
  elasticIp: true,
  addressPrefix: true,
};

/**
 * A literal string that a template receives: cdktf writes it into the
 * `templatefile(...)` call between quotes without escaping `"` or `\`, so
 * those would break the expression.
 */
function checkTemplateValue(field: string, value: unknown, required = true): string[] {
  if (typeof value === "string" && Token.isUnresolved(value)) return [];
  if (!required && value === "") return [];
  const problems = required ? checkString(field, value) : typeof value === "string" ? [] : [`${field} must be a string (got ${show(value)})`];
  return problems.length > 0 ? problems : checkTemplateText(field, value);
}

/** Every problem with Compute props, each naming the prop. */
export function validateComputeProps(props: ComputeProps): string[] {
  const p = props as unknown as Record<string, unknown>;
  const optional = <T>(name: keyof ComputeProps, fallback: T) => (p[name] === undefined ? fallback : p[name]);
  const problems = [
    ...checkKnownKeys("", props, COMPUTE_PROP_KEYS),
    ...checkTemplateValue("project", props.project),
    ...checkString("project", props.project, NAME, "lower-case letters, digits and hyphens"),
    ...checkString("environment", props.environment, NAME, "lower-case letters, digits and hyphens"),
    ...checkTemplateValue("environment", props.environment),
    ...checkString("vpcId", props.vpcId),
    ...checkString("publicSubnetId", props.publicSubnetId),
    ...checkString("instanceProfileName", props.instanceProfileName),
    ...checkTemplateValue("ecrRepoUrl", props.ecrRepoUrl),
    ...checkTemplateValue("ssmImageTagParam", props.ssmImageTagParam),
    ...checkRegion("awsRegion", props.awsRegion),
    ...checkTemplateValue("validApiKeysOverride", optional("validApiKeysOverride", ""), false),
    ...checkTemplateValue("appSecretKeyOverride", optional("appSecretKeyOverride", ""), false),
    ...checkBoolean("enableSshTunnel", optional("enableSshTunnel", false)),
    ...(Token.isUnresolved(p.sshAllowedCidrs) ? [] : checkCidrs("sshAllowedCidrs", optional("sshAllowedCidrs", []))),
    ...(p.keyName === undefined ? [] : checkString("keyName", p.keyName)),
    ...checkTemplateValue("reminderServiceHost", optional("reminderServiceHost", "0.0.0.0")),
    ...checkNumber("reminderServicePort", optional("reminderServicePort", 8085), { integer: true, min: 1, max: 65535 }),
    ...checkTemplateValue("reminderRabbitmqUrl", optional("reminderRabbitmqUrl", "amqp://guest:guest@rabbitmq:5672//")),
    ...checkTemplateValue("reminderRabbitmqExchange", optional("reminderRabbitmqExchange", "reminders.direct.v1")),
    ...checkTemplateValue("reminderRabbitmqInputQueue", optional("reminderRabbitmqInputQueue", "reminders.input.v1")),
    ...checkTemplateValue("reminderRabbitmqOutputQueue", optional("reminderRabbitmqOutputQueue", "reminders.output.v1")),
    ...checkTemplateValue("reminderRabbitmqInputRoutingKey", optional("reminderRabbitmqInputRoutingKey", "input")),
    ...checkTemplateValue("reminderRabbitmqOutputRoutingKey", optional("reminderRabbitmqOutputRoutingKey", "output")),
    ...checkNumber("reminderSchedulerScanIntervalSeconds", optional("reminderSchedulerScanIntervalSeconds", 30), { integer: true, positive: true }),
    ...checkNumber("reminderSchedulerBatchSize", optional("reminderSchedulerBatchSize", 1000), { integer: true, positive: true }),
    ...checkBoolean("reminderMetricsEnabled", optional("reminderMetricsEnabled", true)),
    ...checkTemplateValue("remindersFcmCredentialsJson", optional("remindersFcmCredentialsJson", ""), false),
    ...checkTemplateValue("remindersFcmProjectId", optional("remindersFcmProjectId", ""), false),
    ...checkTemplateValue("composeS3Bucket", props.composeS3Bucket),
    ...checkTemplateValue("composeS3Key", props.composeS3Key),
    ...(p.ami === undefined ? [] : checkString("ami", p.ami, AMI_ID, "an AMI id like ami-0c398cb65a93047f2")),
    ...checkBoolean("elasticIp", optional("elasticIp", false)),
  ];
  if (!Token.isUnresolved(p.securityGroupIds) && !(Array.isArray(p.securityGroupIds) && p.securityGroupIds.length > 0)) {
    problems.push(`securityGroupIds must be a non-empty list of security group ids (got ${show(p.securityGroupIds)}): the SSH rule goes into the first`);
  }
  return problems;
}

/**
 * The folder of the two templates: `modules/compute/` of this project, found
 * from this file wherever it was compiled to (dist/, the compat builds).
 */
export function computeTemplateDir(from = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    for (const candidate of [path.join(dir, "compute"), path.join(dir, "modules", "compute")]) {
      if (fs.existsSync(path.join(candidate, COMPUTE_TEMPLATES.userData))) return candidate;
    }
    if (path.dirname(dir) === dir) throw new Error(`the compute templates (modules/compute/${COMPUTE_TEMPLATES.userData}) are not found above ${from}`);
  }
}

export class Compute extends Construct {
  /** The Ubuntu 22.04 lookup (`data.aws_ami.ubuntu`); the host's image unless `ami` is given. */
  public readonly ubuntu: DataAwsAmi;
  public readonly composeObject: S3Object;
  public readonly composeSha256Parameter: SsmParameter;
  public readonly host: Instance;
  /** The SSH rule (`count` 0 unless `enableSshTunnel` and `sshAllowedCidrs`). */
  public readonly allowSsh: SecurityGroupRule;
  /** The Elastic IP, when `elasticIp` is set. */
  public readonly eip?: Eip;
  /** The script the host receives, rendered by Terraform (`local.user_data_rendered`). */
  public readonly userDataRendered: TerraformLocal;
  /** Its size gzip-compressed, in bytes: what EC2's 16,384-byte limit applies to. */
  public readonly userDataBytes: TerraformLocal;

  /** `public_ip`: the host's public address (the Elastic IP's with `elasticIp`). */
  public readonly publicIp: string;
  /** `instance_id` */
  public readonly instanceId: string;
  /** `security_group_id`: the first of `securityGroupIds`. */
  public readonly securityGroupId: string;
  private readonly addressPrefix: string;

  constructor(scope: Construct, id: string, props: ComputeProps) {
    super(scope, id);
    throwIfProblems(`Compute props (${this.node.path})`, validateComputeProps(props));

    this.addressPrefix = props.addressPrefix ?? "compute";
    const { project, environment } = props;
    const sshCidrs = props.sshAllowedCidrs ?? [];
    const firstSecurityGroup = Token.isUnresolved(props.securityGroupIds) ? Fn.element(props.securityGroupIds, 0) : props.securityGroupIds[0];

    // ---- Data sources ----
    this.ubuntu = this.pin(
      new DataAwsAmi(this, "ubuntu", {
        mostRecent: true,
        owners: [UBUNTU_OWNER], // Canonical
        filter: [{ name: "name", values: [UBUNTU_NAME_FILTER] }],
      }),
      "ubuntu",
    );
    const current = this.pin(new DataAwsCallerIdentity(this, "current"), "current");
    this.pin(new DataAwsRegion(this, "region"), "current");

    // ---- Locals: the templates, rendered by Terraform's own templatefile ----
    const { renderedCompose, composeSha256, userDataRendered, userDataBytes, userDataBase64 } = this.renderTemplates(props, current.accountId);
    this.userDataRendered = userDataRendered;
    this.userDataBytes = userDataBytes;

    // ---- S3-sourced docker-compose and its checksum ----
    this.composeObject = this.pin(
      new S3Object(this, "compose", {
        bucket: props.composeS3Bucket,
        key: props.composeS3Key,
        content: renderedCompose.asString,
        etag: Fn.md5(renderedCompose.asString),
      }),
      "compose",
    );
    this.composeSha256Parameter = this.pin(
      new SsmParameter(this, "compose_sha256", {
        name: `/${project}/${environment}/deploy/docker_compose_sha256`,
        type: "String",
        value: composeSha256.asString,
      }),
      "compose_sha256",
    );

    // ---- The API host ----
    this.host = this.addHost(props, userDataBase64);

    // ---- Optional SSH ingress on the first security group ----
    this.allowSsh = this.pin(
      new SecurityGroupRule(this, "allow_ssh", {
        count: sshCount(props.enableSshTunnel ?? false, sshCidrs),
        type: "ingress",
        fromPort: 22,
        toPort: 22,
        protocol: "tcp",
        cidrBlocks: sshCidrs,
        securityGroupId: firstSecurityGroup,
        description: "Allow SSH tunneling from specified CIDRs",
        lifecycle: { createBeforeDestroy: true, ignoreChanges: ["cidr_blocks"] },
      }),
      "allow_ssh",
    );

    // ---- Not in the HCL module: an address that survives a stop and start ----
    if (props.elasticIp) {
      this.eip = this.pin(
        new Eip(this, "host_eip", { instance: this.host.id, domain: "vpc", tags: { Name: `${project}-${environment}-api` } }),
        "host",
      );
    }

    this.publicIp = this.eip ? this.eip.publicIp : this.host.publicIp;
    this.instanceId = this.host.id;
    this.securityGroupId = firstSecurityGroup;
  }

  private pin<T extends Parameters<typeof pinAddress>[0]>(element: T, name: string): T {
    return pinAddress(element, this.addressPrefix, name);
  }

  /** The t2.small host, its script gzip-compressed, refused at plan when over EC2's limit. */
  private addHost(props: ComputeProps, userDataBase64: string): Instance {
    const { project, environment } = props;
    return this.pin(
      new Instance(this, "host", {
        ami: props.ami ?? this.ubuntu.id,
        instanceType: "t2.small",
        subnetId: props.publicSubnetId,
        vpcSecurityGroupIds: props.securityGroupIds,
        iamInstanceProfile: props.instanceProfileName,
        associatePublicIpAddress: true,
        keyName: props.keyName,
        userDataBase64,
        rootBlockDevice: { volumeSize: 30, volumeType: "gp3", deleteOnTermination: true },
        tags: { Name: `${project}-${environment}-ec2-no-snapd` },
        lifecycle: {
          // Never set here. The provider plans it as changed too when user_data_base64
          // changes, and applies each with a stop and start of its own: ignored, one.
          ignoreChanges: ["user_data"],
          precondition: [
            {
              condition: Op.lte(this.userDataBytes.asNumber, USER_DATA_LIMIT_BYTES),
              errorMessage:
                `The API host's user data is ${this.userDataBytes.asString} bytes gzip-compressed, over EC2's limit of ` +
                `${thousands(USER_DATA_LIMIT_BYTES)} bytes (counted on the raw data, before base64): shorten modules/compute/${COMPUTE_TEMPLATES.userData}.`,
            },
          ],
        },
      }),
      "host",
    );
  }

  /**
   * The locals of the HCL module: the compose file and the host's script,
   * rendered by Terraform's templatefile, the compose checksum, and the
   * script's gzip size (the precondition's operand).
   */
  private renderTemplates(props: ComputeProps, accountId: string) {
    const { project, environment, awsRegion } = props;
    // The files travel with the synthesized JSON (cdktf.out/stacks/<stack>/assets/),
    // so the script and its secrets never enter cdk.tf.json.
    const templates = computeTemplateDir();
    // The folder name is the file's MD5, as cdktf names it; written out, so it does not
    // depend on the framework's hashing (CDK Terrain hashes differently under a feature flag).
    const template = (name: string, file: string) =>
      new TerraformAsset(this, name, {
        path: path.join(templates, file),
        type: AssetType.FILE,
        assetHash: createHash("md5").update(fs.readFileSync(path.join(templates, file))).digest("hex").toUpperCase(),
      }).path;
    const local = (name: string, expression: string) => this.pin(new TerraformLocal(this, `local_${name}`, expression), name);

    const renderedCompose = local(
      "rendered_compose",
      Fn.templatefile(template("compose_template", COMPUTE_TEMPLATES.compose), {
        // The registry host from the account, not the ECR module (as the HCL).
        ECR_REGISTRY_HOST: `${accountId}.dkr.ecr.${awsRegion}.amazonaws.com`,
        IMAGE_TAG: "latest",
        AWS_REGION: awsRegion,
        reminder_service_port: props.reminderServicePort ?? 8085,
      }),
    );
    const composeSha256 = local("compose_sha256", Fn.sha256(renderedCompose.asString));
    const userDataRendered = local(
      "user_data_rendered",
      Fn.templatefile(template("user_data_template", COMPUTE_TEMPLATES.userData), {
        ECR_REPO_URL: props.ecrRepoUrl,
        IMAGE_TAG: "latest",
        SSM_IMAGE_TAG_PARAM: props.ssmImageTagParam,
        AWS_REGION: awsRegion,
        PROJECT: project,
        ENVIRONMENT: environment,
        VALID_API_KEYS_OVERRIDE: props.validApiKeysOverride ?? "",
        APP_SECRET_KEY_OVERRIDE: props.appSecretKeyOverride ?? "",
        reminder_service_host: props.reminderServiceHost ?? "0.0.0.0",
        reminder_service_port: props.reminderServicePort ?? 8085,
        reminder_rabbitmq_url: props.reminderRabbitmqUrl ?? "amqp://guest:guest@rabbitmq:5672//",
        reminder_rabbitmq_exchange: props.reminderRabbitmqExchange ?? "reminders.direct.v1",
        reminder_rabbitmq_input_queue: props.reminderRabbitmqInputQueue ?? "reminders.input.v1",
        reminder_rabbitmq_output_queue: props.reminderRabbitmqOutputQueue ?? "reminders.output.v1",
        reminder_rabbitmq_input_routing_key: props.reminderRabbitmqInputRoutingKey ?? "input",
        reminder_rabbitmq_output_routing_key: props.reminderRabbitmqOutputRoutingKey ?? "output",
        reminder_scheduler_scan_interval_seconds: props.reminderSchedulerScanIntervalSeconds ?? 30,
        reminder_scheduler_batch_size: props.reminderSchedulerBatchSize ?? 1000,
        reminder_metrics_enabled: props.reminderMetricsEnabled ?? true,
        REMINDER_FCM_CREDENTIALS_JSON: props.remindersFcmCredentialsJson ?? "",
        REMINDER_FCM_PROJECT_ID: props.remindersFcmProjectId ?? "",
        COMPOSE_S3_BUCKET: props.composeS3Bucket,
        COMPOSE_S3_KEY: props.composeS3Key,
        COMPOSE_SHA256: composeSha256.asString,
      }),
    );
    // cloud-init reads gzip natively; EC2's limit applies to these bytes.
    const userDataBase64 = Fn.base64gzip(userDataRendered.asString);
    // Bytes behind the base64 text (every '=' is padding). Not secret, but
    // derived from secrets: nonsensitive(sensitive(...)) shows it in the
    // precondition's message on any Terraform >= 1.5 (nonsensitive alone
    // refuses an unmarked value before 1.7).
    const userDataBytes = local(
      "user_data_bytes",
      Fn.nonsensitive(
        Fn.sensitive(Op.sub(Op.div(Op.mul(Fn.lengthOf(userDataBase64), 3), 4), Fn.lengthOf(Fn.regexall("=", userDataBase64)))),
      ),
    );
    return { renderedCompose, composeSha256, userDataRendered, userDataBytes, userDataBase64 };
  }
}

/** `enable && length(cidrs) > 0 ? 1 : 0`, as a literal when the list is known. */
function sshCount(enable: boolean, cidrs: string[]): number {
  if (!Token.isUnresolved(cidrs)) return enable && cidrs.length > 0 ? 1 : 0;
  // `>= 1`, not `> 0`: cdktf renders a literal 0 operand as `undefined`.
  return enable ? Token.asNumber(Fn.conditional(Op.gte(Fn.lengthOf(cidrs), 1), 1, 0)) : 0;
}
