// Long: one part of the product (the hardening settings), its every case against the frozen HCL production.
import { EnvironmentConfig, HardeningSettings } from "../config/environment";
// Fidelity to the HCL root: production as the HCL root has it, frozen in the tests, not as configured
// (config/environments.ts, which a team changes); a configured variant keeps its own settings on it.
import * as configured from "../config/environments";
import { HCL_PRODUCTION as production, onHclProduction } from "./fixtures/hcl-production";
const productionHardened = onHclProduction(configured.productionHardened, configured.production);
import { checkTerraform } from "../policy";
import { TerraformStack, Testing } from "cdktf";
import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { guardReplacements } from "../stacks/replacement-guard";
import { TerraformJson, decodeTemplateJson, synthStack } from "./helpers";

/** synthStack's JSON (its output folder goes after the test file, see setup.ts). */
function synthCleanly(config: EnvironmentConfig, name = "production"): { json: TerraformJson } {
  return { json: synthStack(config, name).json };
}


const withHardening = (hardening: HardeningSettings): EnvironmentConfig => ({ ...production, hardening });
const synth = (hardening: HardeningSettings) => synthStack(withHardening(hardening)).json;
const faithful = synthStack().json;

describe("no silent data loss", () => {
  it("puts prevent_destroy on every stateful resource", () => {
    const r = faithful.resource;
    for (const resource of [
      r.aws_sqs_queue.ml_worker_ml_worker,
      r.aws_sqs_queue.ml_worker_ml_worker_dlq,
      r.aws_ecr_repository.ecr_backend,
      r.aws_cloudwatch_log_group.ml_worker_ml_worker,
      r.aws_ecs_cluster.ml_worker_ml_worker,
    ]) {
      expect(resource.lifecycle).toEqual({ prevent_destroy: true });
    }
  });

  it("refuses a rename that would replace the deployed queues, repository, log group, cluster and service: one problem, naming both fixes", () => {
    let message = "";
    try {
      synthStack({ ...production, environment: "prod", dbPasswordSsmName: "/zivohealth/prod/db/password" });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message.split("\n")).toEqual([
      "Invalid change to deployed stateful resources:",
      `  - deployed records the resources of environment 'production', not of 'prod' (aws_ecr_repository.ecr_backend "zivohealth-production-backend", ` +
        `aws_sqs_queue.ml_worker_ml_worker "production-ml-worker", aws_sqs_queue.ml_worker_ml_worker_dlq "production-ml-worker-dlq", ` +
        `aws_cloudwatch_log_group.ml_worker_ml_worker "/ecs/production-ml-worker", aws_ecs_cluster.ml_worker_ml_worker "production-ml-worker-cluster", ` +
        `aws_ecs_service.ml_worker_ml_worker "production-ml-worker"): it was copied from 'production'. If 'prod' is a new environment, nothing of it ` +
        `is deployed yet: set deployed to {} and newEnvironment to true (docs/configuration.md, "Adding an environment"). If these are this stack's ` +
        "resources, renaming the environment would destroy and recreate each: add them to allowReplacement only if that is intended",
    ]);
  });

  it("names each renamed resource when the names differ by more than the environment", () => {
    let message = "";
    try {
      synthStack({ ...production, deployed: { ...production.deployed, "aws_sqs_queue.ml_worker_ml_worker": { name: "production-ml-worker-old" } } });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message.split("\n")).toEqual([
      "Invalid change to deployed stateful resources:",
      `  - aws_sqs_queue.ml_worker_ml_worker: name changes from "production-ml-worker-old" to "production-ml-worker", which makes Terraform destroy and recreate it (losing the queue and the messages in it); add 'aws_sqs_queue.ml_worker_ml_worker' to allowReplacement if that is intended`,
    ]);
  });

  it("refuses a change of awsRegion for deployed resources, naming the field and what to do", () => {
    expect(() => synthStack({ ...production, awsRegion: "us-west-2" })).toThrow(
      [
        "Invalid change to deployed stateful resources:",
        "  - awsRegion is 'us-west-2', but the deployed resources are in 'us-east-1' (deployedRegion): Terraform would create every resource of the stack " +
          "anew in us-west-2 and destroy the deployed ones, among them aws_ecr_repository.ecr_backend, aws_sqs_queue.ml_worker_ml_worker, " +
          "aws_sqs_queue.ml_worker_ml_worker_dlq, aws_cloudwatch_log_group.ml_worker_ml_worker, aws_ecs_cluster.ml_worker_ml_worker, " +
          "aws_ecs_service.ml_worker_ml_worker, aws_instance.compute_host, and the VPC (existingVpcId) and database (dbInstanceIdentifier) it reads " +
          "would be looked up in us-west-2. Set awsRegion back to 'us-east-1'; to run the environment in us-west-2, add it as a new environment " +
          "(its own environment name and backend, deployed: {}, newEnvironment: true); to move this one and lose what these resources hold, name each in allowReplacement",
      ].join("\n"),
    );
    // Allowed explicitly, resource by resource: the move goes through, without prevent_destroy on them.
    const allowReplacement = Object.keys(production.deployed!).map((address) => ({ address, reason: "moving to us-west-2" }));
    const { json } = synthStack({ ...production, awsRegion: "us-west-2", allowReplacement });
    expect(json.provider.aws[0].region).toBe("us-west-2");
    expect(json.resource.aws_sqs_queue.ml_worker_ml_worker.lifecycle).toEqual({ prevent_destroy: false });
    // A new environment (nothing deployed) chooses its region freely.
    expect(() => synthStack({ ...configured.staging, awsRegion: "eu-west-1" }, "staging")).not.toThrow();
  });

  // AWS provider 6: a resource may name its own region; a change of it replaces that resource alone (awsRegion unchanged).
  it("refuses a change of one resource's own region, naming the resource, not awsRegion; the same region, or none, passes", () => {
    const guarded = (region: string | undefined) => {
      const stack = new TerraformStack(Testing.app(), "guarded");
      new SqsQueue(stack, "queue", { name: "production-ml-worker", region });
      return () =>
        guardReplacements(stack, { "aws_sqs_queue.queue": { name: "production-ml-worker" } }, [], { region: "us-east-1", deployedRegion: "us-east-1" });
    };
    expect(guarded("us-west-2")).toThrow(
      [
        "Invalid change to deployed stateful resources:",
        `  - aws_sqs_queue.queue: region changes from "us-east-1" to "us-west-2", which makes Terraform destroy and recreate it (losing the queue and the messages in it); add 'aws_sqs_queue.queue' to allowReplacement if that is intended`,
      ].join("\n"),
    );
    expect(guarded("us-east-1")).not.toThrow();
    expect(guarded(undefined)).not.toThrow();
  });

  it("allows a replacement the operator names, and lifts its prevent_destroy", () => {
    const { json } = synthStack({
      ...production,
      deployed: { "aws_sqs_queue.ml_worker_ml_worker": { name: "old-name" } },
      allowReplacement: ["aws_sqs_queue.ml_worker_ml_worker"],
    });
    expect(json.resource.aws_sqs_queue.ml_worker_ml_worker.lifecycle).toEqual({ prevent_destroy: false });
    expect(json.resource.aws_sqs_queue.ml_worker_ml_worker_dlq.lifecycle).toEqual({ prevent_destroy: true });
  });

  it("refuses a change of the ECR encryption type", () => {
    expect(() =>
      synthStack({
        ...production,
        deployed: { "aws_ecr_repository.ecr_backend": { encryption_configuration: [{ encryption_type: "KMS" }] } },
      }),
    ).toThrow(
      `aws_ecr_repository.ecr_backend: encryption_configuration changes from [{"encryption_type":"KMS"}] to unset, which makes Terraform destroy and recreate it (losing the repository and its images)`,
    );
  });

  it("refuses a capacity provider strategy change without a forced new deployment", () => {
    const deployed = {
      "aws_ecs_service.ml_worker_ml_worker": { capacity_provider_strategy: [{ base: 0, capacity_provider: "FARGATE", weight: 100 }] },
    };
    expect(() => synthStack({ ...production, deployed })).toThrow(
      "set force_new_deployment (onDemandWeight does), or add 'aws_ecs_service.ml_worker_ml_worker' to allowReplacement",
    );
    // onDemandWeight forces the new deployment, so the change is in place.
    expect(() => synthStack({ ...production, deployed, hardening: { onDemandWeight: 20 } })).not.toThrow();
  });

  it("refuses a change of the FIFO flag of a deployed queue", () => {
    const deployed = { "aws_sqs_queue.ml_worker_ml_worker": { name: "production-ml-worker", fifo_queue: true } };
    expect(() => synthStack({ ...production, deployed })).toThrow(
      [
        "Invalid change to deployed stateful resources:",
        "  - aws_sqs_queue.ml_worker_ml_worker: fifo_queue changes from true to unset, which makes Terraform destroy and recreate it " +
          "(losing the queue and the messages in it); add 'aws_sqs_queue.ml_worker_ml_worker' to allowReplacement if that is intended",
      ].join("\n"),
    );
  });
});

describe("the API host keeps its image", () => {
  const HOST = "aws_instance.compute_host";
  const newImage = { ...production, compute: { ami: "ami-0123456789abcdef0" } };
  const problems = (config: EnvironmentConfig): string[] => {
    try {
      synthCleanly(config);
    } catch (e) {
      return (e as Error).message.split("\n");
    }
    return [];
  };

  it("runs the AMI production records, so a newer image in the lookup changes nothing", () => {
    expect(production.deployed?.[HOST]).toEqual({ ami: "ami-0c398cb65a93047f2", key_name: "ec2-dbeaver" });
    expect(faithful.resource.aws_instance.compute_host.ami).toBe("ami-0c398cb65a93047f2");
    expect(faithful.resource.aws_instance.compute_host.lifecycle.prevent_destroy).toBeUndefined();
  });

  it("refuses a new image unless its replacement is allowed, saying what the replacement loses", () => {
    expect(problems(newImage)).toEqual([
      "Invalid change to deployed stateful resources:",
      `  - ${HOST}: ami changes from "ami-0c398cb65a93047f2" to "ami-0123456789abcdef0", which makes Terraform destroy and recreate it ` +
        "(losing the API host: a new instance boots from the image, with a new public IP unless it has an Elastic IP, and what lived only on its disk is gone); " +
        `add '${HOST}' to allowReplacement if that is intended`,
    ]);
  });

  it("accepts a new image allowed with a reason; the guard also covers the key pair", () => {
    const allowed = { ...newImage, allowReplacement: [{ address: HOST, reason: "move to the jammy 2026-01 image, reviewed in #42" }] };
    expect(synthCleanly(allowed).json.resource.aws_instance.compute_host).toMatchObject({ ami: "ami-0123456789abcdef0", lifecycle: { prevent_destroy: false } });
    expect(problems({ ...production, sshKeyName: "another-key" })[1]).toMatch(
      /^ {2}- aws_instance\.compute_host: key_name changes from "ec2-dbeaver" to "another-key", which makes Terraform destroy and recreate it/,
    );
  });

  it("refuses a deployed host whose image is not given: the lookup would replace it", () => {
    expect(problems({ ...production, compute: {} })).toEqual([
      "Invalid configuration of stack 'production':",
      "  - compute.ami is not set, but deployed records the API host's image 'ami-0c398cb65a93047f2': without compute.ami the host takes the newest " +
        "Ubuntu image the lookup finds, and a newer one would replace the host; set compute.ami to 'ami-0c398cb65a93047f2'",
    ]);
  });

  it("refuses an allowance without a reason, and one that allows nothing", () => {
    expect(problems({ ...newImage, allowReplacement: [{ address: HOST, reason: " " }] })).toEqual([
      "Invalid configuration of stack 'production':",
      "  - allowReplacement[0].reason must say why the replacement is accepted",
    ]);
    expect(problems({ ...production, allowReplacement: [{ address: HOST, reason: "new image" }] })[1]).toBe(
      `  - allowReplacement names '${HOST}', but none of its replacement-forcing arguments (ami, key_name) differs from deployed: ` +
        "there is nothing to allow; remove the entry (it lifts the resource's prevent_destroy)",
    );
  });
});

describe("entries of allowReplacement and deployed that match nothing", () => {
  const problemsOf = (config: EnvironmentConfig): string[] => {
    try {
      synthStack(config);
    } catch (e) {
      return (e as Error).message.split("\n").slice(1).map((l) => l.slice(4));
    }
    return [];
  };

  it("refuses an allowReplacement entry that deployed does not record, with the closest recorded address", () => {
    expect(problemsOf({ ...production, allowReplacement: ["aws_sqs_queue.nope", "aws_sqs_queue.ml_worker_ml_workr"] })).toEqual([
      "allowReplacement names 'aws_sqs_queue.nope', which deployed does not record: there is nothing deployed to allow replacing",
      "allowReplacement names 'aws_sqs_queue.ml_worker_ml_workr', which deployed does not record: there is nothing deployed to allow replacing; did you mean 'aws_sqs_queue.ml_worker_ml_worker'?",
    ]);
  });

  it("refuses an allowReplacement entry whose resource would not be replaced (it would only lift prevent_destroy)", () => {
    expect(problemsOf({ ...production, allowReplacement: ["aws_sqs_queue.ml_worker_ml_worker"] })).toEqual([
      "allowReplacement names 'aws_sqs_queue.ml_worker_ml_worker', but none of its replacement-forcing arguments (name, fifo_queue) differs from deployed: there is nothing to allow; remove the entry (it lifts the resource's prevent_destroy)",
    ]);
  });

  it("refuses an allowReplacement entry listed twice", () => {
    const allowReplacement = ["aws_sqs_queue.ml_worker_ml_worker", "aws_sqs_queue.ml_worker_ml_worker"];
    expect(problemsOf({ ...production, allowReplacement })).toEqual(["allowReplacement lists 'aws_sqs_queue.ml_worker_ml_worker' twice"]);
  });

  it("refuses a deployed resource the stack does not synthesize, and allowing its replacement", () => {
    const deployed = { ...production.deployed, "aws_sqs_queue.ml_worker_old": { name: "production-ml-worker-old" } };
    expect(problemsOf({ ...production, deployed, allowReplacement: ["aws_sqs_queue.ml_worker_old"] })).toEqual([
      "allowReplacement names 'aws_sqs_queue.ml_worker_old', which this stack does not synthesize",
      "deployed records 'aws_sqs_queue.ml_worker_old', which this stack does not synthesize: Terraform would destroy the deployed object; correct the address, or remove the entry if destroying it is intended",
    ]);
  });

  it("refuses deployed arguments and types the guard does not check, before anything is built", () => {
    const deployed = {
      "aws_sqs_queue.ml_worker_ml_worker": { name: "production-ml-worker", fifo: undefined },
      "aws_sqs_queu.ml_worker_ml_worker_dlq": { name: "production-ml-worker-dlq" },
      "aws_iam_role.iam_ecs_task": { name: "zivohealth-production-ecs-task" },
      "aws_ecs_cluster.ml_worker_ml_worker": {},
    };
    expect(problemsOf({ ...production, deployed })).toEqual([
      "deployed['aws_sqs_queue.ml_worker_ml_worker'].fifo is not a replacement-forcing argument the guard checks for aws_sqs_queue; did you mean 'fifo_queue'?",
      "deployed['aws_sqs_queu.ml_worker_ml_worker_dlq']: the replacement guard checks 'aws_sqs_queue', 'aws_ecr_repository', 'aws_cloudwatch_log_group', 'aws_ecs_cluster', 'aws_ecs_service', 'aws_instance' only; did you mean 'aws_sqs_queue'?",
      "deployed['aws_iam_role.iam_ecs_task']: the replacement guard checks 'aws_sqs_queue', 'aws_ecr_repository', 'aws_cloudwatch_log_group', 'aws_ecs_cluster', 'aws_ecs_service', 'aws_instance' only",
      "deployed['aws_ecs_cluster.ml_worker_ml_worker'] records nothing; record one or more of 'name'",
    ]);
  });

  it("accepts an entry whose replacement is real, and lifts only that resource's prevent_destroy", () => {
    const { json } = synthStack({
      ...production,
      deployed: { ...production.deployed, "aws_sqs_queue.ml_worker_ml_worker": { name: "old-name" } },
      allowReplacement: ["aws_sqs_queue.ml_worker_ml_worker"],
    });
    expect(json.resource.aws_sqs_queue.ml_worker_ml_worker.lifecycle).toEqual({ prevent_destroy: false });
    expect(json.resource.aws_sqs_queue.ml_worker_ml_worker_dlq.lifecycle).toEqual({ prevent_destroy: true });
  });
});

describe("hardened profile", () => {
  it("changes nothing with every setting off", () => {
    expect(synth({})).toEqual(faithful);
    expect(
      synth({
        backlogPerTaskScaling: false,
        onDemandWeight: 0,
        deploymentCircuitBreaker: false,
        scopedS3Actions: false,
        adoptMlWorkerRepository: false,
        createLogKmsKey: false,
      }),
    ).toEqual(faithful);
  });

  it("encrypts both queues with SSE-SQS or a KMS key, never both (SQS refuses that)", () => {
    const sse = synth({ queueEncryption: { type: "sse-sqs" } }).resource.aws_sqs_queue;
    const kms = synth({ queueEncryption: { type: "kms", kmsKeyId: "alias/zivohealth-sqs" } }).resource.aws_sqs_queue;
    for (const queue of ["ml_worker_ml_worker", "ml_worker_ml_worker_dlq"]) {
      expect(sse[queue].sqs_managed_sse_enabled).toBe(true);
      expect(sse[queue]).not.toHaveProperty("kms_master_key_id");
      expect(kms[queue].kms_master_key_id).toBe("alias/zivohealth-sqs");
      expect(kms[queue]).not.toHaveProperty("sqs_managed_sse_enabled");
    }
    const both = { type: "sse-sqs", kmsKeyId: "alias/zivohealth-sqs" } as unknown as HardeningSettings["queueEncryption"];
    expect(() => synth({ queueEncryption: both })).toThrow(
      "hardening.queueEncryption.kmsKeyId is for type 'kms' only: SSE-SQS encrypts with a key SQS owns, and SQS refuses both together",
    );
  });

  it("with a KMS key, lets the EC2 role send and the task role receive: kms:Decrypt and kms:GenerateDataKey on that key", () => {
    const json = synth({ queueEncryption: { type: "kms", kmsKeyId: "alias/zivohealth-sqs" } });
    expect(json.data.aws_kms_key).toEqual({ iam_queue: { key_id: "alias/zivohealth-sqs" } });
    const grants = Object.entries(json.resource.aws_iam_role_policy as Record<string, { role: string; policy: string }>)
      .map(([name, p]) => ({ name, role: p.role, statements: JSON.parse(p.policy).Statement }))
      .filter((p) => p.statements.some((st: { Action: string[] }) => st.Action.some((a) => a.startsWith("kms:"))));
    expect(grants).toEqual([
      {
        name: "iam_ec2_queue_kms",
        role: "${aws_iam_role.iam_ec2_role.id}",
        statements: [{ Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: "${data.aws_kms_key.iam_queue.arn}" }],
      },
      {
        name: "iam_ecs_task_queue_kms",
        role: "${aws_iam_role.iam_ecs_task.id}",
        statements: [{ Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: "${data.aws_kms_key.iam_queue.arn}" }],
      },
    ]);
    // The API host sends with the EC2 role: the queue policy names that role.
    expect(JSON.parse(json.resource.aws_sqs_queue_policy.ml_worker_ml_worker.policy).Statement[0].Principal).toEqual({
      AWS: "${aws_iam_role.iam_ec2_role.arn}",
    });
    // SSE-SQS needs no grant.
    const sse = synth({ queueEncryption: { type: "sse-sqs" } });
    expect(Object.keys(sse.resource.aws_iam_role_policy).filter((n) => n.includes("kms"))).toEqual([]);
    expect(sse.data.aws_kms_key).toBeUndefined();
  });

  it("scales on backlog per running task with metric math", () => {
    const policy = synth({ backlogPerTaskScaling: true }).resource.aws_appautoscaling_policy.ml_worker_ml_worker_scale_up;
    const spec = policy.target_tracking_scaling_policy_configuration.customized_metric_specification;
    expect(spec.metric_name).toBeUndefined();
    expect(spec.metrics).toEqual([
      {
        id: "visible",
        return_data: false,
        metric_stat: {
          stat: "Average",
          metric: {
            metric_name: "ApproximateNumberOfMessagesVisible",
            namespace: "AWS/SQS",
            dimensions: [{ name: "QueueName", value: "${aws_sqs_queue.ml_worker_ml_worker.name}" }],
          },
        },
      },
      {
        id: "running",
        return_data: false,
        metric_stat: {
          stat: "Average",
          metric: {
            metric_name: "RunningTaskCount",
            namespace: "ECS/ContainerInsights",
            dimensions: [
              { name: "ClusterName", value: "${aws_ecs_cluster.ml_worker_ml_worker.name}" },
              { name: "ServiceName", value: "${aws_ecs_service.ml_worker_ml_worker.name}" },
            ],
          },
        },
      },
      { id: "backlog_per_task", expression: "visible / IF(FILL(running, 0) > 0, FILL(running, 0), 1)", label: "Visible messages per running task", return_data: true },
    ]);
    expect(policy.target_tracking_scaling_policy_configuration.target_value).toBe(0.5);
  });

  it("adds an on-demand FARGATE share with a forced new deployment", () => {
    const service = synth({ onDemandWeight: 20 }).resource.aws_ecs_service.ml_worker_ml_worker;
    expect(service.capacity_provider_strategy).toEqual([
      { capacity_provider: "FARGATE_SPOT", weight: 100, base: 0 },
      { capacity_provider: "FARGATE", weight: 20, base: 0 },
    ]);
    expect(service.force_new_deployment).toBe(true);
  });

  it("gives the container 120 s to stop on a Spot interruption", () => {
    const task = synth({ stopTimeoutSeconds: 120 }).resource.aws_ecs_task_definition.ml_worker_ml_worker;
    expect(decodeTemplateJson(task.container_definitions)[0].stopTimeout).toBe(120);
  });

  it("turns on the deployment circuit breaker with rollback", () => {
    const service = synth({ deploymentCircuitBreaker: true }).resource.aws_ecs_service.ml_worker_ml_worker;
    expect(service.deployment_circuit_breaker).toEqual({ enable: true, rollback: true });
  });

  it("sends alarms to a new SNS topic, with an e-mail subscription when given", () => {
    const json = synth({ alarmNotifications: { email: "ops@zivohealth.ai" } });
    expect(json.resource.aws_sns_topic.ml_worker_alarms.name).toBe("production-ml-worker-alarms");
    expect(json.resource.aws_sns_topic_subscription.ml_worker_alarms_email).toMatchObject({
      topic_arn: "${aws_sns_topic.ml_worker_alarms.arn}",
      protocol: "email",
      endpoint: "ops@zivohealth.ai",
    });
    for (const alarm of Object.values(json.resource.aws_cloudwatch_metric_alarm)) {
      expect(alarm.alarm_actions).toEqual(["${aws_sns_topic.ml_worker_alarms.arn}"]);
    }
    expect(synth({ alarmNotifications: {} }).resource.aws_sns_topic_subscription).toBeUndefined();
  });

  it("sets log retention and encrypts the log group with a given or a created KMS key", () => {
    const given = synth({ logRetentionDays: 365, logKmsKeyArn: "arn:aws:kms:us-east-1:474221740916:key/1234abcd-12ab-34cd-56ef-1234567890ab" });
    expect(given.resource.aws_cloudwatch_log_group.ml_worker_ml_worker).toMatchObject({
      retention_in_days: 365,
      kms_key_id: "arn:aws:kms:us-east-1:474221740916:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    });
    const created = synth({ createLogKmsKey: true });
    expect(created.resource.aws_cloudwatch_log_group.ml_worker_ml_worker.kms_key_id).toBe("${aws_kms_key.ml_worker_logs.arn}");
    const key = created.resource.aws_kms_key.ml_worker_logs;
    expect(key.enable_key_rotation).toBe(true);
    const statement = JSON.parse(key.policy).Statement[1];
    expect(statement.Principal).toEqual({ Service: "logs.us-east-1.amazonaws.com" });
    expect(statement.Condition.ArnEquals["kms:EncryptionContext:aws:logs:arn"]).toBe(
      "arn:aws:logs:us-east-1:${data.aws_caller_identity.ml_worker_current.account_id}:log-group:/ecs/production-ml-worker",
    );
  });

  it("scopes the S3 statements to the object actions the workers use", () => {
    const policies = synth({ scopedS3Actions: true }).resource.aws_iam_role_policy;
    for (const name of ["iam_ecs_task_s3", "iam_s3_textract_inline"]) {
      expect(JSON.parse(policies[name].policy).Statement[0].Action).toEqual([
        "s3:ListBucket",
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
      ]);
    }
  });

  it("adopts the ML worker repository through an import block, with scan on push", () => {
    const json = synth({ adoptMlWorkerRepository: true });
    expect(json.resource.aws_ecr_repository.ecr_ml_worker).toMatchObject({
      name: "zivohealth-production-ml-worker",
      image_scanning_configuration: { scan_on_push: true },
      lifecycle: { prevent_destroy: true },
    });
    expect(json.import).toEqual([{ id: "zivohealth-production-ml-worker", to: "aws_ecr_repository.ecr_ml_worker" }]);
  });

  it("synthesizes the fully hardened production", () => {
    const { json } = synthStack(productionHardened);
    expect(Object.keys(json.resource).sort()).toEqual(
      expect.arrayContaining(["aws_kms_key", "aws_sns_topic"]),
    );
    expect(json.moved).toEqual(faithful.moved);
  });

  it("clears the queue, log, alarm and IAM findings: 18 findings faithful, 13 hardened (its alarm topic has no subscriber here: low)", () => {
    const ids = (config: EnvironmentConfig) => checkTerraform(synthStack(config).json).map((f) => `${f.id} ${f.address}`);
    expect(ids(production)).toHaveLength(18);
    expect(ids(productionHardened)).toEqual([
      "ZH-ECS-ENV-SECRET aws_ecs_task_definition.ml_worker_ml_worker",
      "ZH-ECS-ENV-SECRET aws_ecs_task_definition.ml_worker_ml_worker",
      "ZH-SECRET-URL-CREDENTIALS variable.reminder_rabbitmq_url.default",
      "ZH-SG-SSH-WORLD aws_security_group.ec2_existing_vpc",
      "ZH-ECR-MUTABLE-TAGS aws_ecr_repository.ecr_backend",
      "ZH-ECR-MUTABLE-TAGS aws_ecr_repository.ecr_ml_worker",
      "ZH-ECS-PUBLIC-IP aws_ecs_service.ml_worker_ml_worker",
      "ZH-ALARM-TOPIC-NO-SUBSCRIBER aws_cloudwatch_metric_alarm.ml_worker_dlq_messages",
      "ZH-ALARM-TOPIC-NO-SUBSCRIBER aws_cloudwatch_metric_alarm.ml_worker_queue_depth_high",
      "ZH-SG-DESCRIPTION aws_security_group.ml_worker_ml_worker",
      "ZH-SG-EGRESS-ALL aws_security_group.ec2_existing_vpc",
      "ZH-SG-EGRESS-ALL aws_security_group.ml_worker_ml_worker",
      "ZH-SG-HTTP-WORLD aws_security_group.ec2_existing_vpc",
    ]);
  });

  it("rejects bad hardening settings, naming the field", () => {
    expect(() => synthStack(withHardening({ stopTimeoutSeconds: 600, logRetentionDays: 10, queueEncryption: { type: "kms", kmsKeyId: "" } }))).toThrow(
      [
        "  - hardening.stopTimeoutSeconds must be at most 120 (got 600)",
        "  - hardening.logRetentionDays must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 (got 10)",
        "  - hardening.queueEncryption.kmsKeyId must not be empty",
      ].join("\n"),
    );
  });
});
