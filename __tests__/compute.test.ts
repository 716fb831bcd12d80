import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { TerraformOutput, TerraformStack, TerraformVariable, Testing } from "cdktf";
import { DataAwsAmi } from "@cdktf/provider-aws/lib/data-aws-ami";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { S3Object } from "@cdktf/provider-aws/lib/s3-object";
import { SecurityGroupRule } from "@cdktf/provider-aws/lib/security-group-rule";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { COMPUTE_TEMPLATES, Compute, ComputeProps, computeTemplateDir } from "../modules/compute";

const HCL_COMPUTE = path.join(__dirname, "../../shared/fixtures/existing-hcl/terraform/modules/compute");

/** Props as the root stack passes them, as literals. */
const PROPS: ComputeProps = {
  project: "zivohealth",
  environment: "production",
  vpcId: "vpc-04d23036cd269f2a6",
  publicSubnetId: "subnet-0c351c259838dc05c",
  instanceProfileName: "zivohealth-production-ec2-profile",
  securityGroupIds: ["sg-0720fa99c0042c40f", "sg-0aaaaaaaaaaaaaaaa"],
  ecrRepoUrl: "474221740916.dkr.ecr.us-east-1.amazonaws.com/zivohealth-production-backend",
  ssmImageTagParam: "/zivohealth/production/deploy/image_tag",
  awsRegion: "us-east-1",
  keyName: "ec2-dbeaver",
  composeS3Bucket: "zivohealth-data",
  composeS3Key: "deploy/production/docker-compose.yml",
};

/** Testing.synthScope, in an App whose output folder is removed afterwards (synthScope leaves one per call). */
function synthScope(build: (scope: TerraformStack) => void): string {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "compute-test-"));
  try {
    const stack = new TerraformStack(Testing.app({ outdir }), "stack");
    build(stack);
    return Testing.synth(stack);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

function synth(props: ComputeProps = PROPS, id = "compute") {
  let compute!: Compute;
  const text = synthScope((scope) => {
    compute = new Compute(scope, id, props);
    new TerraformOutput(scope, "public_ip", { value: compute.publicIp });
    new TerraformOutput(scope, "instance_id", { value: compute.instanceId });
    new TerraformOutput(scope, "security_group_id", { value: compute.securityGroupId });
  });
  return { compute, text, json: JSON.parse(text) };
}

/** `assets/<folder>/<the file's MD5>/<file>`, as TerraformAsset writes it (the hash set by the construct, framework-independent). */
const asset = (file: string) => {
  const md5 = crypto.createHash("md5").update(fs.readFileSync(path.join(__dirname, "../modules/compute", file))).digest("hex").toUpperCase();
  return new RegExp(`^assets/compute_[a-z_]+_template_[0-9A-F]{8}/${md5}/${file.replace(/\./g, "\\.")}$`);
};

describe("Compute: the HCL module compute, resource by resource", () => {
  const { text, json } = synth();

  it("has its data sources, resources and locals, at pinned addresses, in the HCL's order", () => {
    const addresses = (kind: Record<string, Record<string, unknown>>) =>
      Object.entries(kind).flatMap(([type, byName]) => Object.keys(byName).map((n) => `${type}.${n}`));
    expect(addresses(json.data)).toEqual(["aws_ami.compute_ubuntu", "aws_caller_identity.compute_current", "aws_region.compute_current"]);
    expect(addresses(json.resource).sort()).toEqual([
      "aws_instance.compute_host",
      "aws_s3_object.compute_compose",
      "aws_security_group_rule.compute_allow_ssh",
      "aws_ssm_parameter.compute_compose_sha256",
    ]);
    expect(Object.keys(json.locals)).toEqual([
      "compute_compose_sha256",
      "compute_rendered_compose",
      "compute_user_data_bytes",
      "compute_user_data_rendered",
    ]);
  });

  it("looks the image up as the HCL does (Canonical, Ubuntu 22.04, most recent)", () => {
    expect(text).toHaveDataSourceWithProperties(DataAwsAmi, {
      most_recent: true,
      owners: ["099720109477"],
      filter: [{ name: "name", values: ["ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*"] }],
    });
  });

  it("renders docker-compose.yml with Terraform's templatefile and the HCL's variables", () => {
    const m = /^\$\{templatefile\("([^"]+)", (\{.*\})\)\}$/.exec(json.locals.compute_rendered_compose);
    expect(m?.[1]).toMatch(asset(COMPUTE_TEMPLATES.compose));
    expect(m?.[2]).toBe(
      '{"ECR_REGISTRY_HOST" = "${data.aws_caller_identity.compute_current.account_id}.dkr.ecr.us-east-1.amazonaws.com", ' +
        '"IMAGE_TAG" = "latest", "AWS_REGION" = "us-east-1", "reminder_service_port" = 8085}',
    );
    expect(json.locals.compute_compose_sha256).toBe("${sha256(local.compute_rendered_compose)}");
  });

  it("renders the script with templatefile, every variable of the HCL call in its order, defaults included", () => {
    const m = /^\$\{templatefile\("([^"]+)", (\{.*\})\)\}$/.exec(json.locals.compute_user_data_rendered);
    expect(m?.[1]).toMatch(asset(COMPUTE_TEMPLATES.userData));
    expect(m?.[2]).toBe(
      "{" +
        [
          '"ECR_REPO_URL" = "474221740916.dkr.ecr.us-east-1.amazonaws.com/zivohealth-production-backend"',
          '"IMAGE_TAG" = "latest"',
          '"SSM_IMAGE_TAG_PARAM" = "/zivohealth/production/deploy/image_tag"',
          '"AWS_REGION" = "us-east-1"',
          '"PROJECT" = "zivohealth"',
          '"ENVIRONMENT" = "production"',
          '"VALID_API_KEYS_OVERRIDE" = ""',
          '"APP_SECRET_KEY_OVERRIDE" = ""',
          '"reminder_service_host" = "0.0.0.0"',
          '"reminder_service_port" = 8085',
          '"reminder_rabbitmq_url" = "amqp://guest:guest@rabbitmq:5672//"',
          '"reminder_rabbitmq_exchange" = "reminders.direct.v1"',
          '"reminder_rabbitmq_input_queue" = "reminders.input.v1"',
          '"reminder_rabbitmq_output_queue" = "reminders.output.v1"',
          '"reminder_rabbitmq_input_routing_key" = "input"',
          '"reminder_rabbitmq_output_routing_key" = "output"',
          '"reminder_scheduler_scan_interval_seconds" = 30',
          '"reminder_scheduler_batch_size" = 1000',
          '"reminder_metrics_enabled" = true',
          '"REMINDER_FCM_CREDENTIALS_JSON" = ""',
          '"REMINDER_FCM_PROJECT_ID" = ""',
          '"COMPOSE_S3_BUCKET" = "zivohealth-data"',
          '"COMPOSE_S3_KEY" = "deploy/production/docker-compose.yml"',
          '"COMPOSE_SHA256" = local.compute_compose_sha256',
        ].join(", ") +
        "}",
    );
  });

  it("puts the compose file in S3 and its checksum in SSM, as the HCL", () => {
    expect(text).toHaveResourceWithProperties(S3Object, {
      bucket: "zivohealth-data",
      key: "deploy/production/docker-compose.yml",
      content: "${local.compute_rendered_compose}",
      etag: "${md5(local.compute_rendered_compose)}",
    });
    expect(json.resource.aws_ssm_parameter.compute_compose_sha256).toEqual(
      expect.objectContaining({ name: "/zivohealth/production/deploy/docker_compose_sha256", type: "String", value: "${local.compute_compose_sha256}" }),
    );
    expect(text).toHaveResourceWithProperties(SsmParameter, { value: "${local.compute_compose_sha256}" });
  });

  it("gives the host its script gzip-compressed (base64gzip), and checks EC2's limit before any apply", () => {
    const { "//": _meta, ...host } = json.resource.aws_instance.compute_host;
    expect(host).toEqual({
      ami: "${data.aws_ami.compute_ubuntu.id}",
      instance_type: "t2.small",
      subnet_id: "subnet-0c351c259838dc05c",
      vpc_security_group_ids: ["sg-0720fa99c0042c40f", "sg-0aaaaaaaaaaaaaaaa"],
      iam_instance_profile: "zivohealth-production-ec2-profile",
      associate_public_ip_address: true,
      key_name: "ec2-dbeaver",
      user_data_base64: "${base64gzip(local.compute_user_data_rendered)}",
      root_block_device: { volume_size: 30, volume_type: "gp3", delete_on_termination: true },
      tags: { Name: "zivohealth-production-ec2-no-snapd" },
      lifecycle: {
        ignore_changes: ["user_data"],
        precondition: [
          {
            condition: "${(local.compute_user_data_bytes <= 16384)}",
            error_message:
              "The API host's user data is ${local.compute_user_data_bytes} bytes gzip-compressed, over EC2's limit of 16,384 bytes " +
              "(counted on the raw data, before base64): shorten modules/compute/user_data_minimal.sh.tpl.",
          },
        ],
      },
    });
    // Bytes behind the base64 text: 3 per 4 characters, less the '=' padding; not secret, shown in the message.
    expect(json.locals.compute_user_data_bytes).toBe(
      '${nonsensitive(sensitive((((length(base64gzip(local.compute_user_data_rendered)) * 3) / 4) - length(regexall("=", base64gzip(local.compute_user_data_rendered))))))}',
    );
    expect(host).not.toHaveProperty("user_data");
  });

  it("keeps the SSH rule's count, create_before_destroy and ignore_changes: off by default", () => {
    expect(text).toHaveResourceWithProperties(SecurityGroupRule, {
      count: 0,
      type: "ingress",
      from_port: 22,
      to_port: 22,
      protocol: "tcp",
      cidr_blocks: [],
      security_group_id: "sg-0720fa99c0042c40f",
      description: "Allow SSH tunneling from specified CIDRs",
      lifecycle: { create_before_destroy: true, ignore_changes: ["cidr_blocks"] },
    });
  });

  it("exposes public_ip, instance_id and security_group_id", () => {
    expect(json.output).toEqual({
      public_ip: { value: "${aws_instance.compute_host.public_ip}" },
      instance_id: { value: "${aws_instance.compute_host.id}" },
      security_group_id: { value: "sg-0720fa99c0042c40f" },
    });
  });

  it("writes neither the script nor the compose file into the JSON: Terraform renders them from the template files", () => {
    expect(text).not.toContain("#!/bin/bash");
    expect(text).not.toContain("REDACTED");
    expect(text).not.toContain("services:");
  });
});

describe("Compute: settings", () => {
  it("opens SSH (count 1) only with enableSshTunnel and at least one CIDR, as the HCL's count expression", () => {
    const on = synth({ ...PROPS, enableSshTunnel: true, sshAllowedCidrs: ["203.0.113.25/32"] }).json.resource.aws_security_group_rule.compute_allow_ssh;
    expect(on).toMatchObject({ count: 1, cidr_blocks: ["203.0.113.25/32"] });
    expect(synth({ ...PROPS, enableSshTunnel: true, sshAllowedCidrs: [] }).json.resource.aws_security_group_rule.compute_allow_ssh.count).toBe(0);
    expect(synth({ ...PROPS, sshAllowedCidrs: ["203.0.113.25/32"] }).json.resource.aws_security_group_rule.compute_allow_ssh.count).toBe(0);
  });

  it("keeps the HCL's count expression when the CIDR list is known only to Terraform", () => {
    const text = synthScope((scope) => {
      const cidrs = new TerraformVariable(scope, "cidrs", { type: "list(string)" }).listValue;
      new Compute(scope, "compute", { ...PROPS, enableSshTunnel: true, sshAllowedCidrs: cidrs });
    });
    expect(JSON.parse(text).resource.aws_security_group_rule.compute_allow_ssh).toMatchObject({
      count: "${(length(var.cidrs) >= 1) ? 1 : 0}",
      cidr_blocks: "${var.cidrs}",
    });
  });

  it("runs the image it is given, never the lookup's newest", () => {
    const { text, json } = synth({ ...PROPS, ami: "ami-0c398cb65a93047f2" });
    expect(text).toHaveResourceWithProperties(Instance, { ami: "ami-0c398cb65a93047f2" });
    expect(json.data.aws_ami.compute_ubuntu).toBeDefined(); // still read, as the HCL does
  });

  it("with elasticIp, attaches an Elastic IP and reports its address", () => {
    const { text, json } = synth({ ...PROPS, elasticIp: true });
    expect(text).toHaveResourceWithProperties(Eip, { instance: "${aws_instance.compute_host.id}", domain: "vpc", tags: { Name: "zivohealth-production-api" } });
    expect(Object.keys(json.resource.aws_eip)).toEqual(["compute_host"]);
    expect(json.output.public_ip.value).toBe("${aws_eip.compute_host.public_ip}");
    expect(synth().json.resource.aws_eip).toBeUndefined();
  });

  it("passes secrets to the template as references (sensitive variables), never as literals", () => {
    const text = synthScope((scope) => {
      const secret = (name: string) => new TerraformVariable(scope, name, { type: "string", sensitive: true }).stringValue;
      new Compute(scope, "compute", {
        ...PROPS,
        validApiKeysOverride: secret("keys"),
        appSecretKeyOverride: secret("app"),
        remindersFcmCredentialsJson: secret("fcm"),
        reminderRabbitmqUrl: secret("rabbit"),
      });
    });
    const rendered = JSON.parse(text).locals.compute_user_data_rendered;
    for (const ref of ['"VALID_API_KEYS_OVERRIDE" = var.keys', '"APP_SECRET_KEY_OVERRIDE" = var.app', '"REMINDER_FCM_CREDENTIALS_JSON" = var.fcm', '"reminder_rabbitmq_url" = var.rabbit']) {
      expect(rendered).toContain(ref);
    }
    expect(text).not.toContain("guest:guest");
  });

  it("keeps its addresses when the construct id changes, and takes another prefix when asked", () => {
    expect(Object.keys(synth(PROPS, "api-host").json.resource.aws_instance)).toEqual(["compute_host"]);
    expect(Object.keys(synth({ ...PROPS, addressPrefix: "api" }).json.resource.aws_instance)).toEqual(["api_host"]);
  });
});

describe("Compute: validation", () => {
  const fails = (props: Partial<ComputeProps> & Record<string, unknown>, ...problems: string[]) =>
    expect(() => synth({ ...PROPS, ...props } as ComputeProps)).toThrow(`Invalid Compute props (stack/compute):\n${problems.map((p) => `  - ${p}`).join("\n")}`);

  it("refuses an unknown prop, naming the closest", () => {
    fails({ enableSshTunel: true }, "enableSshTunel is not a known setting; did you mean 'enableSshTunnel'?");
  });

  it("refuses what cdktf cannot write into the templatefile call, naming the field", () => {
    fails({ reminderRabbitmqExchange: 'a"b' }, `reminderRabbitmqExchange must not contain a double quote, a backslash or a line break (got 'a"b'): it is written into the host's script`);
  });

  it("refuses a bad image, port, security group list and CIDR, all at once", () => {
    fails(
      { ami: "ubuntu-22.04", reminderServicePort: 70000, securityGroupIds: [], enableSshTunnel: true, sshAllowedCidrs: ["10.0.0.1/24"] },
      "sshAllowedCidrs[0] has host bits set (got '10.0.0.1/24'): the network is 10.0.0.0/24; for the one host use 10.0.0.1/32",
      "reminderServicePort must be at most 65535 (got 70000)",
      "ami must be an AMI id like ami-0c398cb65a93047f2 (got 'ubuntu-22.04')",
      "securityGroupIds must be a non-empty list of security group ids (got []): the SSH rule goes into the first",
    );
  });
});

describe("Compute: the templates", () => {
  const sha = (file: string) => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");

  it("are the HCL module's, byte for byte", () => {
    for (const file of Object.values(COMPUTE_TEMPLATES)) {
      expect(sha(path.join(__dirname, "../modules/compute", file))).toBe(sha(path.join(HCL_COMPUTE, file)));
    }
  });

  it("are found from wherever the construct was compiled to, and their absence is named", () => {
    const root = path.join(__dirname, "..");
    expect(computeTemplateDir(path.join(root, "modules"))).toBe(path.join(root, "modules/compute"));
    expect(computeTemplateDir(path.join(root, "dist/modules"))).toBe(path.join(root, "modules/compute"));
    expect(computeTemplateDir(path.join(root, "compat/cdktn/build/modules"))).toBe(path.join(root, "modules/compute"));
    const nowhere = fs.mkdtempSync(path.join(os.tmpdir(), "compute-templates-"));
    try {
      expect(() => computeTemplateDir(nowhere)).toThrow(`the compute templates (modules/compute/user_data_minimal.sh.tpl) are not found above ${nowhere}`);
    } finally {
      fs.rmSync(nowhere, { recursive: true, force: true });
    }
  });
});
