// Long: one part of the product's tests (the stack against the HCL root, part by part).
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { DataAwsDbInstance } from "@cdktf/provider-aws/lib/data-aws-db-instance";
import { DataAwsRouteTables } from "@cdktf/provider-aws/lib/data-aws-route-tables";
import { DataAwsSubnets } from "@cdktf/provider-aws/lib/data-aws-subnets";
import { DataAwsVpc } from "@cdktf/provider-aws/lib/data-aws-vpc";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { SecurityGroupRule } from "@cdktf/provider-aws/lib/security-group-rule";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { DataLocalFile } from "@cdktf/provider-local/lib/data-local-file";
import { TerraformOutput, TerraformResource, TerraformStack, Testing } from "cdktf";
import { ZivoHealthStack } from "../stacks/zivohealth-stack";
// Fidelity to the HCL root: production as the HCL root has it, frozen in the tests, not as configured
// (config/environments.ts, which a team changes); a configured variant keeps its own settings on it.
import * as configured from "../config/environments";
import { HCL_PRODUCTION as production, onHclProduction } from "./fixtures/hcl-production";
const productionFirstDeployment = onHclProduction(configured.productionFirstDeployment, configured.production);
const stagingConfig = onHclProduction(configured.staging, configured.production);
import { EnvironmentConfig, S3BackendConfig } from "../config/environment";
import { TerraformJson, decodeTemplateJson, synthStack } from "./helpers";

/** synthStack's JSON (its output folder goes after the test file, see setup.ts). */
function synthCleanly(config: EnvironmentConfig, name = "production"): { json: TerraformJson } {
  return { json: synthStack(config, name).json };
}


const FIX1 = '${element(split(":", data.aws_db_instance.existing.endpoint), 0)}';
const FIX2 = '${element(split("/", aws_ecr_repository.ecr_backend.repository_url), 0)}';

describe("production stack", () => {
  const { text, json } = synthStack();
  const containers = () => decodeTemplateJson(json.resource.aws_ecs_task_definition.ml_worker_ml_worker.container_definitions);
  const env = (name: string) => containers()[0].environment.find((e: { name: string }) => e.name === name)?.value;

  describe("terraform block and providers", () => {
    it("pins aws to exactly hashicorp/aws 6.17.0, and local and random to the locked versions", () => {
      expect(json.terraform.required_providers).toEqual({
        aws: { source: "hashicorp/aws", version: "6.17.0" },
        local: { source: "hashicorp/local", version: "2.5.3" },
        random: { source: "hashicorp/random", version: "3.7.2" },
      });
      expect(json.terraform.required_version).toBe(">= 1.5.0");
    });

    it("configures one aws provider in the variable's region", () => {
      expect(text).toHaveProviderWithProperties(AwsProvider, { region: "us-east-1" });
      expect(json.provider.aws).toHaveLength(1);
    });

    it("uses the HCL root's local state file by default", () => {
      expect(json.terraform.backend).toEqual({ local: { path: "../../../../terraform/terraform.tfstate" } });
    });
  });

  describe("data sources", () => {
    it("reads the existing VPC, its subnets, route tables and the DB instance", () => {
      expect(text).toHaveDataSourceWithProperties(DataAwsVpc, { id: "vpc-04d23036cd269f2a6" });
      expect(text).toHaveDataSourceWithProperties(DataAwsSubnets, {
        filter: [
          { name: "vpc-id", values: ["${data.aws_vpc.existing.id}"] },
          { name: "map-public-ip-on-launch", values: ["true"] },
        ],
      });
      expect(text).toHaveDataSourceWithProperties(DataAwsSubnets, {
        filter: [
          { name: "vpc-id", values: ["${data.aws_vpc.existing.id}"] },
          { name: "map-public-ip-on-launch", values: ["false"] },
        ],
      });
      expect(text).toHaveDataSourceWithProperties(DataAwsRouteTables, {
        vpc_id: "${data.aws_vpc.existing.id}",
        filter: [{ name: "association.subnet-id", values: "${data.aws_subnets.existing_private.ids}" }],
      });
      expect(text).toHaveDataSourceWithProperties(DataAwsDbInstance, { db_instance_identifier: "zivohealth-dev-postgres" });
      expect(text).toHaveDataSourceWithProperties(DataLocalFile, {
        filename: "${path.module}/../../../../../backend/.env.production",
      });
      const addresses = Object.entries(json.data).flatMap(([t, n]) => Object.keys(n).map((k) => `data.${t}.${k}`));
      expect(addresses).toEqual(
        expect.arrayContaining([
          "data.local_file.env_production",
          "data.aws_vpc.existing",
          "data.aws_subnets.existing_public",
          "data.aws_subnets.existing_private",
          "data.aws_route_tables.private",
          "data.aws_db_instance.existing",
        ]),
      );
    });

    it("parses the React app API key from the env file exactly as the HCL root did (cut at a second '=')", () => {
      // The HCL: trimspace(split("=", local.react_app_api_key_line)[1]); validate/env-file-key.test.ts evaluates both.
      expect(json.locals.react_app_api_key).toBe(
        '${trimspace(split("=", [for line in split("\\n", data.local_file.env_production.content) : line if can(regex("^REACT_APP_API_KEY=", line))][0])[1])}',
      );
    });
  });

  describe("root resources", () => {
    it("keeps the VPC, the EC2 security group and the RDS rule", () => {
      expect(text).toHaveResourceWithProperties(Vpc, {
        cidr_block: "${data.aws_vpc.existing.cidr_block}",
        enable_dns_support: true,
        enable_dns_hostnames: true,
        lifecycle: { ignore_changes: ["tags"] },
      });
      const rule = (from: number, to: number, protocol: string, description: string) =>
        expect.objectContaining({ from_port: from, to_port: to, protocol, cidr_blocks: ["0.0.0.0/0"], description });
      expect(text).toHaveResourceWithProperties(SecurityGroup, {
        name_prefix: "zivohealth-production-ec2-",
        vpc_id: "${data.aws_vpc.existing.id}",
        description: "Security group for EC2 instances in existing VPC",
        ingress: [
          rule(22, 22, "tcp", "SSH access"),
          rule(80, 80, "tcp", "HTTP access"),
          rule(443, 443, "tcp", "HTTPS access"),
          rule(7880, 7880, "tcp", "LiveKit signaling (WS)"),
          rule(7881, 7881, "tcp", "LiveKit TCP fallback/TURN"),
          rule(50000, 60000, "udp", "LiveKit media (UDP 50000-60000)"),
        ],
        egress: [rule(0, 0, "-1", "All outbound traffic")],
        tags: { Name: "zivohealth-production-ec2-sg" },
      });
      expect(text).toHaveResourceWithProperties(SecurityGroupRule, {
        type: "ingress",
        from_port: 5432,
        to_port: 5432,
        protocol: "tcp",
        source_security_group_id: "${aws_security_group.ec2_existing_vpc.id}",
        security_group_id: "sg-09f7899176373ad8e",
        description: "Allow EC2 access to RDS",
      });
    });
  });

  describe("HCL module blocks", () => {
    it("calls exactly the four modules that stay HCL, from the configured folder", () => {
      expect(Object.keys(json.module).sort()).toEqual(["route53", "ssm", "storage", "vpc_endpoints"]);
      for (const [name, block] of Object.entries(json.module)) {
        expect((block as { source: string }).source).toBe(`../../../../terraform/modules/${name}`);
      }
    });

    const inputs = (name: string) => {
      const { source: _source, "//": _meta, ...rest } = json.module[name];
      return rest;
    };

    it("passes storage its inputs", () => {
      expect(inputs("storage")).toEqual({
        project: "zivohealth",
        environment: "production",
        bucket_name: "zivohealth-data",
        ec2_role_arn: "${aws_iam_role.iam_ec2_role.arn}",
      });
    });

    it("passes ssm its inputs, with the DB host without its port (fix 1) and no literal password", () => {
      expect(inputs("ssm")).toEqual({
        project: "zivohealth",
        environment: "production",
        image_tag: "${var.image_tag}",
        db_endpoint: FIX1,
        db_username: "zivo",
        db_password_ssm_key: "/zivohealth/production/db/password",
        s3_bucket_name: "${module.storage.bucket_name}",
        db_password_plain: "${var.db_password_plain}",
        reminders_fcm_credentials_json: "${var.reminders_fcm_credentials_json}",
        reminders_fcm_project_id: "",
        react_app_api_key: "${local.react_app_api_key}",
        ml_worker_queue_url: "",
      });
    });

    it("declares the ML worker's SSM parameters itself, without count, so a new environment plans in one step", () => {
      const { compute_compose_sha256: _compute, ...parameters } = json.resource.aws_ssm_parameter;
      expect(parameters).toEqual({
        ssm_ml_worker_queue_url: {
          name: "/zivohealth/production/ml_worker/queue_url",
          type: "String",
          value: "${aws_sqs_queue.ml_worker_ml_worker.url}",
          overwrite: true,
        },
        ssm_ml_worker_enabled: { name: "/zivohealth/production/ml_worker/enabled", type: "String", value: "true", overwrite: true },
      });
    });

    it("passes the Compute construct the HCL call's inputs: secrets as variables, reminder settings, the recorded image", () => {
      const rendered = json.locals.compute_user_data_rendered;
      for (const input of [
        '"ECR_REPO_URL" = aws_ecr_repository.ecr_backend.repository_url',
        '"SSM_IMAGE_TAG_PARAM" = module.ssm.image_tag_param_name',
        '"VALID_API_KEYS_OVERRIDE" = var.valid_api_keys_override',
        '"APP_SECRET_KEY_OVERRIDE" = var.app_secret_key_override',
        '"reminder_rabbitmq_url" = var.reminder_rabbitmq_url',
        '"REMINDER_FCM_CREDENTIALS_JSON" = var.reminders_fcm_credentials_json',
        '"reminder_scheduler_batch_size" = 1000',
        '"COMPOSE_S3_BUCKET" = module.storage.bucket_name',
        '"COMPOSE_S3_KEY" = "deploy/production/docker-compose.yml"',
      ]) {
        expect(rendered).toContain(input);
      }
      expect(json.resource.aws_instance.compute_host).toMatchObject({
        ami: "ami-0c398cb65a93047f2",
        subnet_id: "${element(data.aws_subnets.existing_public.ids, 0)}",
        vpc_security_group_ids: ["${aws_security_group.ec2_existing_vpc.id}"],
        iam_instance_profile: "${aws_iam_instance_profile.iam_ec2_profile.name}",
        key_name: "ec2-dbeaver",
      });
      expect(json.resource.aws_s3_object.compute_compose.bucket).toBe("${module.storage.bucket_name}");
    });

    it("looks the image up for an environment with no host yet (staging)", () => {
      const { json: staging } = synthCleanly(stagingConfig, "staging");
      expect(staging.resource.aws_instance.compute_host.ami).toBe("${data.aws_ami.compute_ubuntu.id}");
    });

    it("passes vpc_endpoints and route53 their inputs", () => {
      expect(inputs("vpc_endpoints")).toEqual({
        environment: "production",
        aws_region: "us-east-1",
        vpc_id: "${data.aws_vpc.existing.id}",
        private_subnet_ids: "${data.aws_subnets.existing_private.ids}",
        route_table_ids: "${data.aws_route_tables.private.ids}",
      });
      expect(inputs("route53")).toEqual({
        project: "zivohealth",
        environment: "production",
        zone_name: "zivohealth.ai",
        target_ip: "${aws_instance.compute_host.public_ip}",
      });
    });

    it("points route53 and the outputs at the Elastic IP when the environment asks for one", () => {
      const { json: eip } = synthCleanly({ ...production, compute: { ...production.compute, elasticIp: true } });
      expect(eip.module.route53.target_ip).toBe("${aws_eip.compute_host.public_ip}");
      expect(eip.output.ec2_public_ip.value).toBe("${aws_eip.compute_host.public_ip}");
      expect(eip.output.ec2_instance_id.value).toBe("${aws_instance.compute_host.id}");
    });

    it("makes every ML worker resource wait for vpc_endpoints (the module's depends_on)", () => {
      const worker = Object.values(json.resource).flatMap((byName) =>
        Object.entries(byName).filter(([n]) => n.startsWith("ml_worker_")),
      );
      expect(worker).toHaveLength(13);
      for (const [, attrs] of worker) expect(attrs.depends_on).toEqual(["module.vpc_endpoints"]);
    });

    it("does not defer data.aws_caller_identity: its account id stays known at plan, so the task definition is not replaced", () => {
      expect(json.data.aws_caller_identity.ml_worker_current).toEqual({});
      expect(Object.keys(json.data.aws_caller_identity).sort()).toEqual(["compute_current", "ml_worker_current"]);
      // The container definitions read it; they would be unknown if it were deferred.
      expect(json.resource.aws_ecs_task_definition.ml_worker_ml_worker.container_definitions).toContain(
        "${data.aws_caller_identity.ml_worker_current.account_id}",
      );
      // No data source of the stack waits for a module.
      for (const byName of Object.values(json.data)) for (const attrs of Object.values(byName)) expect(attrs.depends_on).toBeUndefined();
    });

    it("does not copy the HCL modules into cdktf.out (synthesis must not need them); only the two compute templates travel", () => {
      const assets = [...text.matchAll(/assets\/[\w./-]+/g)].map((m) => m[0]);
      expect([...new Set(assets)].sort()).toEqual([
        "assets/compute_compose_template_14385AD0/B784A75E3D84832B2139173A3381AC93/docker-compose.yml.tpl",
        "assets/compute_user_data_template_14C8B567/421C0F7653134BB2D634046C79FF04F9/user_data_minimal.sh.tpl",
      ]);
    });
  });

  describe("the documented fixes", () => {
    it("fix 1: the DB host without its port, for ssm and the ML worker", () => {
      expect(json.module.ssm.db_endpoint).toBe(FIX1);
      expect(env("POSTGRES_SERVER")).toBe(FIX1);
      expect(env("POSTGRES_PORT")).toBe("${data.aws_db_instance.existing.port}");
      expect(env("POSTGRES_DB")).toBe("${data.aws_db_instance.existing.db_name}");
      // The raw endpoint (host:5432) is passed nowhere but the rds_endpoint output.
      const raw = text.split("data.aws_db_instance.existing.endpoint}").length - 1;
      expect(raw).toBe(1);
      expect(json.output.rds_endpoint.value).toBe("${data.aws_db_instance.existing.endpoint}");
    });

    it("fix 2: the ML worker image uses the registry host, not the backend repository URL", () => {
      expect(containers()[0].image).toBe(`${FIX2}/zivohealth-production-ml-worker:latest`);
      expect(text).not.toContain("${aws_ecr_repository.ecr_backend.repository_url}/zivohealth-production-ml-worker");
    });

    it("the ML worker runs in the public subnets with the spec's capacities", () => {
      const service = json.resource.aws_ecs_service.ml_worker_ml_worker;
      expect(service.network_configuration.subnets).toBe("${data.aws_subnets.existing_public.ids}");
      expect(json.resource.aws_appautoscaling_target.ml_worker_ml_worker).toMatchObject({ min_capacity: 0, max_capacity: 5 });
      expect(env("ML_WORKER_MODE")).toBe("sqs");
      expect(json.resource.aws_iam_role_policy).toBeDefined();
      const policy = JSON.parse(json.resource.aws_sqs_queue_policy.ml_worker_ml_worker.policy);
      expect(policy.Statement[0].Principal.AWS).toBe("${aws_iam_role.iam_ec2_role.arn}");
      const task = json.resource.aws_ecs_task_definition.ml_worker_ml_worker;
      expect(task.execution_role_arn).toBe("${aws_iam_role.iam_ecs_task_execution.arn}");
      expect(task.task_role_arn).toBe("${aws_iam_role.iam_ecs_task.arn}");
    });
  });

  describe("variables and secrets", () => {
    it("declares the per-deploy and secret variables, the secret ones sensitive", () => {
      expect(json.variable).toEqual({
        image_tag: { type: "string", description: expect.any(String), default: "latest" },
        db_password_plain: { type: "string", description: expect.any(String), sensitive: true },
        reminders_fcm_credentials_json: { type: "string", description: expect.any(String), default: "", sensitive: true },
        valid_api_keys_override: { type: "string", description: expect.any(String), default: "", sensitive: true },
        app_secret_key_override: { type: "string", description: expect.any(String), default: "", sensitive: true },
        reminder_rabbitmq_url: {
          type: "string",
          description: expect.any(String),
          default: "amqp://guest:guest@rabbitmq:5672//",
          sensitive: true,
        },
      });
    });

    it("synthesizes no password literal", () => {
      // The HCL hard-coded the DB password (a zivo_... literal); it must not come back.
      expect(text).not.toMatch(/zivo_\d/);
      // Every key that names a password or secret holds a reference, an SSM name or a placeholder the spec documents.
      const literals: string[] = [];
      const walk = (v: unknown, key: string) => {
        if (typeof v === "string" && /pass(word)?|secret|token|api_key/i.test(key) && v !== "" && !v.startsWith("${")) {
          literals.push(`${key}=${v}`);
        } else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, k);
      };
      walk(json.module, "");
      walk(json.variable, "");
      walk(json.locals, "");
      expect(literals).toEqual(["db_password_ssm_key=/zivohealth/production/db/password"]);
    });
  });

  it("has the eight root outputs with the HCL root's descriptions (outputs.tf, main.tf)", () => {
    expect(json.output).toEqual({
      ec2_public_ip: { value: "${aws_instance.compute_host.public_ip}", description: "Public IP of the EC2 instance" },
      ecr_repository_url: { value: "${aws_ecr_repository.ecr_backend.repository_url}", description: "ECR repository URL for backend image" },
      rds_endpoint: { value: "${data.aws_db_instance.existing.endpoint}", description: "RDS PostgreSQL endpoint" },
      ec2_instance_id: { value: "${aws_instance.compute_host.id}", description: "EC2 instance ID for SSM port forwarding" },
      ssm_image_tag_param_name: {
        value: "${module.ssm.image_tag_param_name}",
        description: "SSM parameter name that stores the desired image tag for deploy watcher",
      },
      ml_worker_queue_url: { value: "${aws_sqs_queue.ml_worker_ml_worker.url}", description: "SQS Queue URL for ML Worker" },
      ml_worker_cluster_name: { value: "${aws_ecs_cluster.ml_worker_ml_worker.name}", description: "ECS Cluster name for ML Worker" },
      ml_worker_service_name: { value: "${aws_ecs_service.ml_worker_ml_worker.name}", description: "ECS Service name for ML Worker" },
    });
  });
});

describe("other configurations", () => {
  it("expresses the deployment notes' first setup (aggregation, 1 to 1) by configuration alone", () => {
    const { json } = synthStack(productionFirstDeployment);
    const c = decodeTemplateJson(json.resource.aws_ecs_task_definition.ml_worker_ml_worker.container_definitions)[0];
    expect(c.environment[1]).toEqual({ name: "ML_WORKER_MODE", value: "aggregation" });
    expect(json.resource.aws_appautoscaling_target.ml_worker_ml_worker).toMatchObject({ min_capacity: 1, max_capacity: 1 });
    expect(json.resource.aws_ecs_service.ml_worker_ml_worker.desired_count).toBe(1);
  });

  it("places the HCL modules and the env file where the configuration says", () => {
    const { json } = synthStack({ ...production, hclModulesDir: "../../../infra/modules", envFilePath: "../.env.production" });
    expect(json.module.storage.source).toBe("../../../infra/modules/storage");
    expect(json.data.local_file.env_production.filename).toBe("${path.module}/../.env.production");
  });

  it("reads an absolute envFilePath as given, not under path.module", () => {
    const { json } = synthStack({ ...production, envFilePath: "/etc/zivohealth/backend.env" });
    expect(json.data.local_file.env_production.filename).toBe("/etc/zivohealth/backend.env");
  });

  describe("S3 backend: locking and the Terraform version it needs", () => {
    const s3 = { type: "s3", bucket: "zivohealth-tfstate", key: "production/terraform.tfstate", region: "us-east-1" } as const;
    const terraformBlock = (backend: S3BackendConfig) => {
      const { terraform } = synthStack({ ...production, backend }).json;
      return { backend: terraform.backend, required_version: terraform.required_version };
    };

    it("defaults to encryption and S3-native locking, which needs Terraform 1.10", () => {
      expect(terraformBlock(s3)).toEqual({
        backend: { s3: { bucket: "zivohealth-tfstate", key: "production/terraform.tfstate", region: "us-east-1", encrypt: true, use_lockfile: true } },
        required_version: ">= 1.10.0",
      });
    });

    it("locks with the DynamoDB table alone when one is given, so Terraform older than 1.10 can init", () => {
      expect(terraformBlock({ ...s3, dynamodbTable: "zivohealth-tflock" })).toEqual({
        backend: {
          s3: { bucket: "zivohealth-tfstate", key: "production/terraform.tfstate", region: "us-east-1", encrypt: true, dynamodb_table: "zivohealth-tflock" },
        },
        required_version: ">= 1.5.0",
      });
    });

    it("keeps both locks when asked (the migration from DynamoDB to the lockfile), requiring 1.10", () => {
      expect(terraformBlock({ ...s3, dynamodbTable: "zivohealth-tflock", useLockfile: true, encrypt: false })).toEqual({
        backend: {
          s3: {
            bucket: "zivohealth-tfstate",
            key: "production/terraform.tfstate",
            region: "us-east-1",
            encrypt: false,
            dynamodb_table: "zivohealth-tflock",
            use_lockfile: true,
          },
        },
        required_version: ">= 1.10.0",
      });
    });

    it("refuses an S3 backend without any lock", () => {
      expect(() => terraformBlock({ ...s3, useLockfile: false })).toThrow(
        "backend has no state locking: keep backend.useLockfile (Terraform 1.10 or later) or set backend.dynamodbTable",
      );
    });
  });
});

describe("prepareStack", () => {
  afterEach(() => jest.restoreAllMocks());

  it("alone in its app: makes sure of the backend and resolves nothing (cdktf's preparing pass only finds references to other stacks)", () => {
    const stack = new ZivoHealthStack(Testing.app(), "production", production);
    const resolved = jest.spyOn(TerraformResource.prototype, "toTerraform");
    stack.prepareStack();
    expect(resolved).not.toHaveBeenCalled();
    expect(Testing.synth(stack)).toBe(synthStack(production).text);
  });

  it("beside another stack: the whole pass, so a value of the other stack becomes a remote-state lookup as cdktf makes it", () => {
    const app = Testing.app();
    const other = new TerraformStack(app, "other");
    new AwsProvider(other, "aws", { region: "eu-west-1" });
    const vpc = new Vpc(other, "shared", { cidrBlock: "10.9.0.0/16" });
    const stack = new ZivoHealthStack(app, "production", production);
    new TerraformOutput(stack, "other_vpc", { value: vpc.id });
    const resolved = jest.spyOn(TerraformResource.prototype, "toTerraform");
    other.prepareStack();
    stack.prepareStack();
    expect(resolved).toHaveBeenCalled();
    const json = JSON.parse(Testing.synth(stack));
    expect(Object.keys(json.data.terraform_remote_state)).toEqual(["cross-stack-reference-input-other"]);
    expect(json.output.other_vpc.value).toBe("${data.terraform_remote_state.cross-stack-reference-input-other.outputs.cross-stack-output-aws_vpcsharedid}");
  });
});
