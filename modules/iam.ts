// Replaces the HCL module `modules/iam`: the EC2 host's role and profile, and
// the ML worker's task execution role (pull, logs, secrets) and task role
// (what the worker code does: SQS and S3).
import { Token } from "cdktf";
import { Construct } from "constructs";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { DataAwsKmsKey } from "@cdktf/provider-aws/lib/data-aws-kms-key";
import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { pinAddress } from "./address";
import { KnownKeys, NAME, checkKnownKeys, checkString, throwIfProblems } from "./validation";

function checkKmsKeyReference(field: string, value: unknown): string[] {
  const problems = checkString(field, value);
  if (problems.length > 0 || Token.isUnresolved(value as string) || KMS_KEY_REFERENCE.test(value as string)) return problems;
  return [`${field} must be a KMS key id, key ARN, alias name (alias/...) or alias ARN (got '${value}')`];
}

export interface IamProps {
  /**
   * Project name, the first part of every role and policy name.
   * @default "zivohealth"
   */
  readonly project?: string;
  /** Environment name, e.g. `production`. Required. */
  readonly environment: string;
  /**
   * ARN of the data bucket the EC2 host and the ML worker read and write.
   * @default "*"
   */
  readonly storageBucketArn?: string;
  /**
   * Least privilege (hardened profile): grant the object actions the workers
   * use (`s3:GetObject`, `s3:PutObject`, `s3:DeleteObject`, `s3:ListBucket`)
   * instead of `s3:*`. Changes the two S3 inline policies in place.
   * @default false
   */
  readonly scopedS3Actions?: boolean;
  /**
   * KMS key of the ML worker's queues (MlWorker `queueEncryption` of type
   * `kms`): a key id, key ARN, alias name (`alias/...`) or alias ARN. The EC2
   * role (which sends) and the task role (which receives) then get
   * `kms:Decrypt` and `kms:GenerateDataKey` on that key only, which SQS needs
   * to send and receive on an encrypted queue. A key given other than by its
   * key ARN is looked up (`data.aws_kms_key.<prefix>_queue`), because an IAM
   * grant names the key ARN. Adds two inline policies.
   * @default - none: no KMS grant (the queues are unencrypted or use SSE-SQS)
   */
  readonly queueKmsKeyId?: string;
  /**
   * Prefix of this construct's Terraform addresses (`aws_iam_role.<prefix>_ec2_role`).
   * @default "iam"
   */
  readonly addressPrefix?: string;
}

/** The props Iam knows; anything else is refused, with the closest name. */
export const IAM_PROP_KEYS: KnownKeys<IamProps> = {
  project: true,
  environment: true,
  storageBucketArn: true,
  scopedS3Actions: true,
  addressPrefix: true,
  queueKmsKeyId: true,
};

/** IAM's limit on role names (CreateRole, RoleName: 64 characters). */
export const IAM_ROLE_NAME_MAX = 64;
/** What follows `<project>-<environment>-` in the role names, longest first. */
const ROLE_SUFFIXES = ["ecs-task-execution", "ec2-role", "ecs-task"];

/**
 * Project and environment name every role; too long, IAM refuses the first
 * role at apply. The names of the two fields are the caller's.
 */
export function checkRoleNameLength(project: unknown, environment: unknown, fields = { project: "project", environment: "environment" }): string[] {
  if (typeof project !== "string" || typeof environment !== "string") return [];
  const longest = `${project}-${environment}-${ROLE_SUFFIXES[0]}`;
  const over = longest.length - IAM_ROLE_NAME_MAX;
  return over > 0
    ? [
        `${fields.project} and ${fields.environment} make the IAM role name '${longest}' ${longest.length} characters long; ` +
          `IAM allows ${IAM_ROLE_NAME_MAX} (shorten them by ${over})`,
      ]
    : [];
}

/** What sending to and receiving from a KMS-encrypted SQS queue needs on the key. */
export const QUEUE_KMS_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"];

const KEY_ID = "([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})";
const KMS_ARN = "arn:aws[a-z-]*:kms:[a-z0-9-]+:\\d{12}:";
const ALIAS = "alias/[A-Za-z0-9/_-]+";
const KEY_ARN = new RegExp(`^${KMS_ARN}key/${KEY_ID}$`);
/** Every form SQS's `kms_master_key_id` takes: key id, key ARN, alias name, alias ARN. */
export const KMS_KEY_REFERENCE = new RegExp(`^(${KEY_ID}|${KMS_ARN}key/${KEY_ID}|(${KMS_ARN})?${ALIAS})$`);

/** The S3 actions the API host and the ML worker use, for the hardened profile. */
export const SCOPED_S3_ACTIONS = ["s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"];

const policy = (statements: object[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements });

export class Iam extends Construct {
  public readonly ec2Role: IamRole;
  public readonly instanceProfile: IamInstanceProfile;
  public readonly ecsTaskExecutionRole: IamRole;
  public readonly ecsTaskRole: IamRole;

  /** `instance_profile_name` */
  public readonly instanceProfileName: string;
  /** `ec2_role_arn` */
  public readonly ec2RoleArn: string;
  /** `ec2_role_name` */
  public readonly ec2RoleName: string;
  /** `ecs_execution_role_arn` */
  public readonly ecsExecutionRoleArn: string;
  /** `ecs_task_role_arn` */
  public readonly ecsTaskRoleArn: string;

  constructor(scope: Construct, id: string, props: IamProps) {
    super(scope, id);
    const project = props.project ?? "zivohealth";
    const env = props.environment;
    const bucketArn = props.storageBucketArn ?? "*";
    const prefix = props.addressPrefix ?? "iam";
    throwIfProblems(`Iam props (${this.node.path})`, [
      ...checkKnownKeys("", props, IAM_PROP_KEYS),
      ...checkString("project", project, NAME, "lower-case letters, digits and hyphens"),
      ...checkString("environment", env, NAME, "lower-case letters, digits and hyphens"),
      ...checkRoleNameLength(project, env),
      ...checkString("storageBucketArn", bucketArn, /^(\*|arn:aws[a-z-]*:s3:::[a-z0-9.-]+)$/, "an S3 bucket ARN or *"),
      ...(props.queueKmsKeyId === undefined ? [] : checkKmsKeyReference("queueKmsKeyId", props.queueKmsKeyId)),
    ]);
    const name = (n: string) => `${project}-${env}-${n}`;
    const s3Actions = props.scopedS3Actions ? SCOPED_S3_ACTIONS : ["s3:*"];
    const s3Statement = { Effect: "Allow", Action: s3Actions, Resource: [bucketArn, `${bucketArn}/*`] };
    const paramsArn = `arn:aws:ssm:*:*:parameter/${project}/${env}/*`;
    const assume = (docId: string, service: string) =>
      pinAddress(
        new DataAwsIamPolicyDocument(this, docId, {
          statement: [{ actions: ["sts:AssumeRole"], principals: [{ type: "Service", identifiers: [service] }] }],
        }),
        prefix,
        docId,
      );

    // ---- EC2 API host ----
    const ec2Assume = assume("assume_role", "ec2.amazonaws.com");
    this.ec2Role = pinAddress(
      new IamRole(this, "ec2_role", { name: name("ec2-role"), assumeRolePolicy: ec2Assume.json }),
      prefix,
      "ec2_role",
    );
    pinAddress(
      new IamRolePolicyAttachment(this, "ecr_read", {
        role: this.ec2Role.name,
        policyArn: "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
      }),
      prefix,
      "ecr_read",
    );
    pinAddress(
      new IamRolePolicyAttachment(this, "ssm_core", {
        role: this.ec2Role.name,
        policyArn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
      }),
      prefix,
      "ssm_core",
    );
    pinAddress(
      new IamRolePolicy(this, "ssm_params_read", {
        name: name("ssm-params-read"),
        role: this.ec2Role.id,
        policy: policy([
          { Effect: "Allow", Action: ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParameterHistory"], Resource: [paramsArn] },
        ]),
      }),
      prefix,
      "ssm_params_read",
    );
    pinAddress(
      new IamRolePolicy(this, "s3_textract_inline", {
        name: name("s3-textract"),
        role: this.ec2Role.id,
        policy: policy([
          s3Statement,
          {
            Effect: "Allow",
            Action: [
              "textract:StartDocumentTextDetection",
              "textract:GetDocumentTextDetection",
              "textract:StartDocumentAnalysis",
              "textract:GetDocumentAnalysis",
            ],
            // Textract's asynchronous job actions support no resource-level permissions.
            Resource: "*",
          },
        ]),
      }),
      prefix,
      "s3_textract_inline",
    );
    // ---- KMS key of the ML worker queues (hardened profile): send and receive ----
    let queueKeyArn: string | undefined;
    if (props.queueKmsKeyId !== undefined) {
      queueKeyArn =
        Token.isUnresolved(props.queueKmsKeyId) || !KEY_ARN.test(props.queueKmsKeyId)
          ? pinAddress(new DataAwsKmsKey(this, "queue_key", { keyId: props.queueKmsKeyId }), prefix, "queue").arn
          : props.queueKmsKeyId;
    }
    const queueKmsPolicy = (id: string, policyName: string, role: IamRole) =>
      pinAddress(
        new IamRolePolicy(this, id, {
          name: name(policyName),
          role: role.id,
          policy: policy([{ Effect: "Allow", Action: QUEUE_KMS_ACTIONS, Resource: queueKeyArn }]),
        }),
        prefix,
        id,
      );
    if (queueKeyArn !== undefined) queueKmsPolicy("ec2_queue_kms", "ec2-queue-kms", this.ec2Role);

    this.instanceProfile = pinAddress(
      new IamInstanceProfile(this, "ec2_profile", { name: name("ec2-profile"), role: this.ec2Role.name }),
      prefix,
      "ec2_profile",
    );

    // ---- ECS task execution role: pull images, write logs, read secrets ----
    const executionAssume = assume("ecs_task_execution_assume", "ecs-tasks.amazonaws.com");
    this.ecsTaskExecutionRole = pinAddress(
      new IamRole(this, "ecs_task_execution", {
        name: name("ecs-task-execution"),
        assumeRolePolicy: executionAssume.json,
        tags: { Name: name("ecs-task-execution"), Environment: env },
      }),
      prefix,
      "ecs_task_execution",
    );
    pinAddress(
      new IamRolePolicyAttachment(this, "ecs_task_execution_policy", {
        role: this.ecsTaskExecutionRole.name,
        policyArn: "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
      }),
      prefix,
      "ecs_task_execution_policy",
    );
    pinAddress(
      new IamRolePolicy(this, "ecs_task_execution_ssm", {
        name: name("ecs-task-execution-ssm"),
        role: this.ecsTaskExecutionRole.id,
        policy: policy([
          {
            Effect: "Allow",
            Action: ["ssm:GetParameter", "ssm:GetParameters"],
            // The dev password is temporary, until a production one exists (as in the HCL).
            Resource: [paramsArn, `arn:aws:ssm:*:*:parameter/${project}/dev/db/password`],
          },
        ]),
      }),
      prefix,
      "ecs_task_execution_ssm",
    );

    // ---- ECS task role: what the worker code does ----
    const taskAssume = assume("ecs_task_assume", "ecs-tasks.amazonaws.com");
    this.ecsTaskRole = pinAddress(
      new IamRole(this, "ecs_task", {
        name: name("ecs-task"),
        assumeRolePolicy: taskAssume.json,
        tags: { Name: name("ecs-task"), Environment: env },
      }),
      prefix,
      "ecs_task",
    );
    pinAddress(
      new IamRolePolicy(this, "ecs_task_sqs", {
        name: name("ecs-task-sqs"),
        role: this.ecsTaskRole.id,
        policy: policy([
          {
            Effect: "Allow",
            Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
            Resource: `arn:aws:sqs:*:*:${env}-ml-worker*`,
          },
        ]),
      }),
      prefix,
      "ecs_task_sqs",
    );
    pinAddress(
      new IamRolePolicy(this, "ecs_task_s3", {
        name: name("ecs-task-s3"),
        role: this.ecsTaskRole.id,
        policy: policy([s3Statement]),
      }),
      prefix,
      "ecs_task_s3",
    );
    if (queueKeyArn !== undefined) queueKmsPolicy("ecs_task_queue_kms", "ecs-task-queue-kms", this.ecsTaskRole);

    this.instanceProfileName = this.instanceProfile.name;
    this.ec2RoleArn = this.ec2Role.arn;
    this.ec2RoleName = this.ec2Role.name;
    this.ecsExecutionRoleArn = this.ecsTaskExecutionRole.arn;
    this.ecsTaskRoleArn = this.ecsTaskRole.arn;
  }
}
