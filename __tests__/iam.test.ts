import { TerraformOutput, Testing } from "cdktf";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { Iam, IamProps } from "../modules/iam";

const BUCKET = "arn:aws:s3:::zivohealth-data";

function synth(props: Partial<IamProps> = {}) {
  const text = Testing.synthScope((scope) => {
    const iam = new Iam(scope, "iam", { environment: "production", storageBucketArn: BUCKET, ...props });
    new TerraformOutput(scope, "instance_profile_name", { value: iam.instanceProfileName });
    new TerraformOutput(scope, "ec2_role_arn", { value: iam.ec2RoleArn });
    new TerraformOutput(scope, "ec2_role_name", { value: iam.ec2RoleName });
    new TerraformOutput(scope, "ecs_execution_role_arn", { value: iam.ecsExecutionRoleArn });
    new TerraformOutput(scope, "ecs_task_role_arn", { value: iam.ecsTaskRoleArn });
  });
  return { text, json: JSON.parse(text) };
}

const policyOf = (json: any, name: string) => JSON.parse(json.resource.aws_iam_role_policy[name].policy);

describe("Iam", () => {
  const { text, json } = synth();

  it("has exactly the HCL module's resources and data sources, at pinned addresses", () => {
    const addresses = (block: Record<string, Record<string, unknown>>) =>
      Object.entries(block).flatMap(([type, byName]) => Object.keys(byName).map((n) => `${type}.${n}`)).sort();
    expect(addresses(json.resource)).toEqual([
      "aws_iam_instance_profile.iam_ec2_profile",
      "aws_iam_role.iam_ec2_role",
      "aws_iam_role.iam_ecs_task",
      "aws_iam_role.iam_ecs_task_execution",
      "aws_iam_role_policy.iam_ecs_task_execution_ssm",
      "aws_iam_role_policy.iam_ecs_task_s3",
      "aws_iam_role_policy.iam_ecs_task_sqs",
      "aws_iam_role_policy.iam_s3_textract_inline",
      "aws_iam_role_policy.iam_ssm_params_read",
      "aws_iam_role_policy_attachment.iam_ecr_read",
      "aws_iam_role_policy_attachment.iam_ecs_task_execution_policy",
      "aws_iam_role_policy_attachment.iam_ssm_core",
    ]);
    expect(addresses(json.data)).toEqual([
      "aws_iam_policy_document.iam_assume_role",
      "aws_iam_policy_document.iam_ecs_task_assume",
      "aws_iam_policy_document.iam_ecs_task_execution_assume",
    ]);
  });

  it("writes the three assume-role documents", () => {
    for (const service of ["ec2.amazonaws.com", "ecs-tasks.amazonaws.com"]) {
      expect(text).toHaveDataSourceWithProperties(DataAwsIamPolicyDocument, {
        statement: [{ actions: ["sts:AssumeRole"], principals: [{ type: "Service", identifiers: [service] }] }],
      });
    }
    const doc = json.data.aws_iam_policy_document;
    expect(doc.iam_assume_role.statement[0].principals[0].identifiers).toEqual(["ec2.amazonaws.com"]);
    expect(doc.iam_ecs_task_execution_assume.statement[0].principals[0].identifiers).toEqual(["ecs-tasks.amazonaws.com"]);
    expect(doc.iam_ecs_task_assume.statement[0].principals[0].identifiers).toEqual(["ecs-tasks.amazonaws.com"]);
  });

  it("creates the EC2 role, its two managed policies and its instance profile", () => {
    expect(text).toHaveResourceWithProperties(IamRole, {
      name: "zivohealth-production-ec2-role",
      assume_role_policy: "${data.aws_iam_policy_document.iam_assume_role.json}",
    });
    expect(text).toHaveResourceWithProperties(IamRolePolicyAttachment, {
      role: "${aws_iam_role.iam_ec2_role.name}",
      policy_arn: "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
    });
    expect(text).toHaveResourceWithProperties(IamRolePolicyAttachment, {
      role: "${aws_iam_role.iam_ec2_role.name}",
      policy_arn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    });
    expect(text).toHaveResourceWithProperties(IamInstanceProfile, {
      name: "zivohealth-production-ec2-profile",
      role: "${aws_iam_role.iam_ec2_role.name}",
    });
  });

  it("writes the EC2 role's two inline policies", () => {
    const ssm = json.resource.aws_iam_role_policy.iam_ssm_params_read;
    expect(ssm.name).toBe("zivohealth-production-ssm-params-read");
    expect(ssm.role).toBe("${aws_iam_role.iam_ec2_role.id}");
    expect(policyOf(json, "iam_ssm_params_read")).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Action: ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParameterHistory"],
          Resource: ["arn:aws:ssm:*:*:parameter/zivohealth/production/*"], // a list, as in the HCL (plan-check found the difference)
        },
      ],
    });
    const s3 = json.resource.aws_iam_role_policy.iam_s3_textract_inline;
    expect(s3.name).toBe("zivohealth-production-s3-textract");
    expect(s3.role).toBe("${aws_iam_role.iam_ec2_role.id}");
    expect(policyOf(json, "iam_s3_textract_inline")).toEqual({
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Action: ["s3:*"], Resource: [BUCKET, `${BUCKET}/*`] },
        {
          Effect: "Allow",
          Action: [
            "textract:StartDocumentTextDetection",
            "textract:GetDocumentTextDetection",
            "textract:StartDocumentAnalysis",
            "textract:GetDocumentAnalysis",
          ],
          Resource: "*",
        },
      ],
    });
  });

  it("creates the ECS task execution role with its managed policy and SSM policy", () => {
    expect(text).toHaveResourceWithProperties(IamRole, {
      name: "zivohealth-production-ecs-task-execution",
      assume_role_policy: "${data.aws_iam_policy_document.iam_ecs_task_execution_assume.json}",
      tags: { Name: "zivohealth-production-ecs-task-execution", Environment: "production" },
    });
    expect(text).toHaveResourceWithProperties(IamRolePolicyAttachment, {
      role: "${aws_iam_role.iam_ecs_task_execution.name}",
      policy_arn: "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
    });
    const p = json.resource.aws_iam_role_policy.iam_ecs_task_execution_ssm;
    expect(p.name).toBe("zivohealth-production-ecs-task-execution-ssm");
    expect(p.role).toBe("${aws_iam_role.iam_ecs_task_execution.id}");
    expect(policyOf(json, "iam_ecs_task_execution_ssm").Statement).toEqual([
      {
        Effect: "Allow",
        Action: ["ssm:GetParameter", "ssm:GetParameters"],
        Resource: [
          "arn:aws:ssm:*:*:parameter/zivohealth/production/*",
          "arn:aws:ssm:*:*:parameter/zivohealth/dev/db/password",
        ],
      },
    ]);
  });

  it("creates the ECS task role with its SQS and S3 policies", () => {
    expect(text).toHaveResourceWithProperties(IamRole, {
      name: "zivohealth-production-ecs-task",
      assume_role_policy: "${data.aws_iam_policy_document.iam_ecs_task_assume.json}",
      tags: { Name: "zivohealth-production-ecs-task", Environment: "production" },
    });
    const sqs = json.resource.aws_iam_role_policy.iam_ecs_task_sqs;
    expect(sqs.name).toBe("zivohealth-production-ecs-task-sqs");
    expect(sqs.role).toBe("${aws_iam_role.iam_ecs_task.id}");
    expect(policyOf(json, "iam_ecs_task_sqs").Statement).toEqual([
      {
        Effect: "Allow",
        Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
        Resource: "arn:aws:sqs:*:*:production-ml-worker*",
      },
    ]);
    const s3 = json.resource.aws_iam_role_policy.iam_ecs_task_s3;
    expect(s3.name).toBe("zivohealth-production-ecs-task-s3");
    expect(policyOf(json, "iam_ecs_task_s3").Statement).toEqual([
      { Effect: "Allow", Action: ["s3:*"], Resource: [BUCKET, `${BUCKET}/*`] },
    ]);
  });

  it("exposes the five outputs of the HCL module", () => {
    expect(json.output).toEqual({
      instance_profile_name: { value: "${aws_iam_instance_profile.iam_ec2_profile.name}" },
      ec2_role_arn: { value: "${aws_iam_role.iam_ec2_role.arn}" },
      ec2_role_name: { value: "${aws_iam_role.iam_ec2_role.name}" },
      ecs_execution_role_arn: { value: "${aws_iam_role.iam_ecs_task_execution.arn}" },
      ecs_task_role_arn: { value: "${aws_iam_role.iam_ecs_task.arn}" },
    });
  });

  it("defaults the bucket ARN to * as the HCL variable does", () => {
    const { json: j } = synth({ storageBucketArn: undefined });
    expect(policyOf(j, "iam_ecs_task_s3").Statement[0].Resource).toEqual(["*", "*/*"]);
  });

  it("scopes S3 to the object actions with scopedS3Actions (hardened profile)", () => {
    const { json: j } = synth({ scopedS3Actions: true });
    for (const name of ["iam_ecs_task_s3", "iam_s3_textract_inline"]) {
      expect(policyOf(j, name).Statement[0]).toEqual({
        Effect: "Allow",
        Action: ["s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        Resource: [BUCKET, `${BUCKET}/*`],
      });
    }
  });

  it("rejects an unknown prop, naming the closest", () => {
    expect(() => synth({ scopedS3Action: true } as never)).toThrow("scopedS3Action is not a known setting; did you mean 'scopedS3Actions'?");
  });

  it("rejects names that make a role name longer than IAM's 64 characters, and accepts 64", () => {
    expect(() => synth({ project: "zivohealth-infrastructure-group1", environment: "prod-eu-west-1" })).toThrow(
      "project and environment make the IAM role name 'zivohealth-infrastructure-group1-prod-eu-west-1-ecs-task-execution' 66 characters long; IAM allows 64 (shorten them by 2)",
    );
    const { json } = synth({ project: "zivohealth-infrastructure-group1", environment: "prod-eu-west" });
    expect(json.resource.aws_iam_role.iam_ecs_task_execution.name).toHaveLength(64);
  });

  it("rejects a storage bucket ARN that is not one, naming the field", () => {
    expect(() => synth({ storageBucketArn: "zivohealth-data" })).toThrow(
      "storageBucketArn must be an S3 bucket ARN or * (got 'zivohealth-data')",
    );
  });
});

describe("Iam queueKmsKeyId (queues encrypted with a KMS key)", () => {
  const KEY_ARN = "arn:aws:kms:us-east-1:474221740916:key/1234abcd-12ab-34cd-56ef-1234567890ab";
  const grant = (resource: string) => ({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: resource }],
  });

  it("grants the EC2 role (sender) and the task role (receiver) decrypt and data keys on that key ARN only", () => {
    const { json } = synth({ queueKmsKeyId: KEY_ARN });
    const policies = json.resource.aws_iam_role_policy;
    expect(policies.iam_ec2_queue_kms).toMatchObject({ name: "zivohealth-production-ec2-queue-kms", role: "${aws_iam_role.iam_ec2_role.id}" });
    expect(policies.iam_ecs_task_queue_kms).toMatchObject({ name: "zivohealth-production-ecs-task-queue-kms", role: "${aws_iam_role.iam_ecs_task.id}" });
    expect(policyOf(json, "iam_ec2_queue_kms")).toEqual(grant(KEY_ARN));
    expect(policyOf(json, "iam_ecs_task_queue_kms")).toEqual(grant(KEY_ARN));
    // A key ARN needs no lookup.
    expect(json.data.aws_kms_key).toBeUndefined();
  });

  it.each(["alias/zivohealth-sqs", "1234abcd-12ab-34cd-56ef-1234567890ab", "arn:aws:kms:us-east-1:474221740916:alias/zivohealth-sqs"])(
    "looks up %s, so the grant names the key ARN",
    (keyId) => {
      const { json } = synth({ queueKmsKeyId: keyId });
      expect(json.data.aws_kms_key).toEqual({ iam_queue: { key_id: keyId } });
      expect(policyOf(json, "iam_ec2_queue_kms")).toEqual(grant("${data.aws_kms_key.iam_queue.arn}"));
      expect(policyOf(json, "iam_ecs_task_queue_kms")).toEqual(grant("${data.aws_kms_key.iam_queue.arn}"));
    },
  );

  it("grants nothing without a key", () => {
    const policies = Object.keys(synth().json.resource.aws_iam_role_policy);
    expect(policies.filter((p) => p.includes("kms"))).toEqual([]);
  });

  it("rejects what is not a KMS key reference", () => {
    expect(() => synth({ queueKmsKeyId: "arn:aws:iam::474221740916:role/zivohealth-production-ec2-role" })).toThrow(
      "queueKmsKeyId must be a KMS key id, key ARN, alias name (alias/...) or alias ARN (got 'arn:aws:iam::474221740916:role/zivohealth-production-ec2-role')",
    );
  });
});
