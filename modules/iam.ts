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
import { checkRoleNameLength } from "./iam/role-names";
import { KnownKeys, NAME, checkKnownKeys, checkString, throwIfProblems } from "./validation";

export { IAM_ROLE_NAME_MAX, checkRoleNameLength } from "./iam/role-names";

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

  private readonly prefix: string;
  private readonly name: (n: string) => string;

  constructor(scope: Construct, id: string, props: IamProps) {
    super(scope, id);
    const project = props.project ?? "zivohealth";
    const env = props.environment;
    const bucketArn = props.storageBucketArn ?? "*";
    this.prefix = props.addressPrefix ?? "iam";
    throwIfProblems(`Iam props (${this.node.path})`, [
      ...checkKnownKeys("", props, IAM_PROP_KEYS),
      ...checkString("project", project, NAME, "lower-case letters, digits and hyphens"),
      ...checkString("environment", env, NAME, "lower-case letters, digits and hyphens"),
      ...checkRoleNameLength(project, env),
      ...checkString("storageBucketArn", bucketArn, /^(\*|arn:aws[a-z-]*:s3:::[a-z0-9.-]+)$/, "an S3 bucket ARN or *"),
      ...(props.queueKmsKeyId === undefined ? [] : checkKmsKeyReference("queueKmsKeyId", props.queueKmsKeyId)),
    ]);
    this.name = (n: string) => `${project}-${env}-${n}`;
    const s3Actions = props.scopedS3Actions ? SCOPED_S3_ACTIONS : ["s3:*"];
    const s3Statement = { Effect: "Allow", Action: s3Actions, Resource: [bucketArn, `${bucketArn}/*`] };
    const paramsArn = `arn:aws:ssm:*:*:parameter/${project}/${env}/*`;

    this.ec2Role = this.addEc2Role(s3Statement, paramsArn);
    const queueKeyArn = this.queueKeyArn(props.queueKmsKeyId);
    if (queueKeyArn !== undefined) this.addQueueKmsPolicy("ec2_queue_kms", "ec2-queue-kms", this.ec2Role, queueKeyArn);
    this.instanceProfile = this.pin(new IamInstanceProfile(this, "ec2_profile", { name: this.name("ec2-profile"), role: this.ec2Role.name }), "ec2_profile");
    // The dev password is temporary, until a production one exists (as in the HCL).
    this.ecsTaskExecutionRole = this.addExecutionRole(env, [paramsArn, `arn:aws:ssm:*:*:parameter/${project}/dev/db/password`]);
    this.ecsTaskRole = this.addTaskRole(env, s3Statement);
    if (queueKeyArn !== undefined) this.addQueueKmsPolicy("ecs_task_queue_kms", "ecs-task-queue-kms", this.ecsTaskRole, queueKeyArn);

    this.instanceProfileName = this.instanceProfile.name;
    this.ec2RoleArn = this.ec2Role.arn;
    this.ec2RoleName = this.ec2Role.name;
    this.ecsExecutionRoleArn = this.ecsTaskExecutionRole.arn;
    this.ecsTaskRoleArn = this.ecsTaskRole.arn;
  }

  private pin<T extends Parameters<typeof pinAddress>[0]>(element: T, name: string): T {
    return pinAddress(element, this.prefix, name);
  }

  /** The trust policy that lets `service` assume a role. */
  private assume(docId: string, service: string): DataAwsIamPolicyDocument {
    return this.pin(
      new DataAwsIamPolicyDocument(this, docId, { statement: [{ actions: ["sts:AssumeRole"], principals: [{ type: "Service", identifiers: [service] }] }] }),
      docId,
    );
  }

  // ---- EC2 API host ----
  private addEc2Role(s3Statement: object, paramsArn: string): IamRole {
    const role = this.pin(new IamRole(this, "ec2_role", { name: this.name("ec2-role"), assumeRolePolicy: this.assume("assume_role", "ec2.amazonaws.com").json }), "ec2_role");
    this.pin(new IamRolePolicyAttachment(this, "ecr_read", { role: role.name, policyArn: "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly" }), "ecr_read");
    this.pin(new IamRolePolicyAttachment(this, "ssm_core", { role: role.name, policyArn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" }), "ssm_core");
    this.pin(
      new IamRolePolicy(this, "ssm_params_read", {
        name: this.name("ssm-params-read"),
        role: role.id,
        policy: policy([{ Effect: "Allow", Action: ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParameterHistory"], Resource: [paramsArn] }]),
      }),
      "ssm_params_read",
    );
    this.pin(
      new IamRolePolicy(this, "s3_textract_inline", {
        name: this.name("s3-textract"),
        role: role.id,
        policy: policy([
          s3Statement,
          {
            Effect: "Allow",
            Action: ["textract:StartDocumentTextDetection", "textract:GetDocumentTextDetection", "textract:StartDocumentAnalysis", "textract:GetDocumentAnalysis"],
            // Textract's asynchronous job actions support no resource-level permissions.
            Resource: "*",
          },
        ]),
      }),
      "s3_textract_inline",
    );
    return role;
  }

  // ---- KMS key of the ML worker queues (hardened profile): send and receive ----
  /** The key's ARN: as given, or looked up from an id or alias. */
  private queueKeyArn(keyId: string | undefined): string | undefined {
    if (keyId === undefined) return undefined;
    return Token.isUnresolved(keyId) || !KEY_ARN.test(keyId) ? this.pin(new DataAwsKmsKey(this, "queue_key", { keyId }), "queue").arn : keyId;
  }

  private addQueueKmsPolicy(id: string, policyName: string, role: IamRole, keyArn: string): void {
    this.pin(
      new IamRolePolicy(this, id, { name: this.name(policyName), role: role.id, policy: policy([{ Effect: "Allow", Action: QUEUE_KMS_ACTIONS, Resource: keyArn }]) }),
      id,
    );
  }

  // ---- ECS task execution role: pull images, write logs, read secrets ----
  private addExecutionRole(env: string, parameterArns: string[]): IamRole {
    const role = this.pin(
      new IamRole(this, "ecs_task_execution", {
        name: this.name("ecs-task-execution"),
        assumeRolePolicy: this.assume("ecs_task_execution_assume", "ecs-tasks.amazonaws.com").json,
        tags: { Name: this.name("ecs-task-execution"), Environment: env },
      }),
      "ecs_task_execution",
    );
    this.pin(
      new IamRolePolicyAttachment(this, "ecs_task_execution_policy", { role: role.name, policyArn: "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy" }),
      "ecs_task_execution_policy",
    );
    this.pin(
      new IamRolePolicy(this, "ecs_task_execution_ssm", {
        name: this.name("ecs-task-execution-ssm"),
        role: role.id,
        policy: policy([{ Effect: "Allow", Action: ["ssm:GetParameter", "ssm:GetParameters"], Resource: parameterArns }]),
      }),
      "ecs_task_execution_ssm",
    );
    return role;
  }

  // ---- ECS task role: what the worker code does ----
  private addTaskRole(env: string, s3Statement: object): IamRole {
    const role = this.pin(
      new IamRole(this, "ecs_task", {
        name: this.name("ecs-task"),
        assumeRolePolicy: this.assume("ecs_task_assume", "ecs-tasks.amazonaws.com").json,
        tags: { Name: this.name("ecs-task"), Environment: env },
      }),
      "ecs_task",
    );
    this.pin(
      new IamRolePolicy(this, "ecs_task_sqs", {
        name: this.name("ecs-task-sqs"),
        role: role.id,
        policy: policy([
          { Effect: "Allow", Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"], Resource: `arn:aws:sqs:*:*:${env}-ml-worker*` },
        ]),
      }),
      "ecs_task_sqs",
    );
    this.pin(new IamRolePolicy(this, "ecs_task_s3", { name: this.name("ecs-task-s3"), role: role.id, policy: policy([s3Statement]) }), "ecs_task_s3");
    return role;
  }
}
