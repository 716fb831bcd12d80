// Long: one part of the product's tests (every policy rule, the aspect, npm run policy).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Fn, TerraformLocal, TerraformStack, TerraformVariable, Testing } from "cdktf";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { SqsQueuePolicy } from "@cdktf/provider-aws/lib/sqs-queue-policy";
import { IConstruct } from "constructs";
import { EnvironmentConfig } from "../config/environment";
// Fidelity to the HCL root: production as the HCL root has it, frozen in the tests, not as configured
// (config/environments.ts, which a team changes); a configured variant keeps its own settings on it.
import * as configured from "../config/environments";
import { CONFIGURED_STACKS } from "./fixtures/hcl-production";
import { HCL_PRODUCTION as production, onHclProduction } from "./fixtures/hcl-production";
const productionHardened = onHclProduction(configured.productionHardened, configured.production);
import { MlWorker, MlWorkerProps } from "../modules/ml-worker";
import { ACCOUNT, ML_WORKER_PROPS } from "./helpers";
import { ZivoHealthStack } from "../stacks/zivohealth-stack";
import {
  DEFAULT_POLICY_CONFIG,
  Finding,
  PolicyAspect,
  attachPolicy,
  checkTerraform,
  decodeTemplateJson,
  evaluatePolicy,
  isPureReference,
  isSecretName,
  resolvePolicyConfig,
  splitTemplate,
} from "../policy";
import { decodeJsonencode, isConstantExpression, stringLiterals } from "../policy/hcl-expression";
import { USAGE, main } from "../commands/policy";
// Its commands synthesize the same stacks again and again: each synthesis made once (helpers.ts, rememberingSyntheses).
jest.mock("../lib/cli", () => (require("./helpers") as typeof import("./helpers")).rememberingSyntheses(jest.requireActual("../lib/cli")));
import { synthesize } from "../stacks/app";
import { synthesisSources } from "../stacks/synthesis-record";

// ---------------------------------------------------------------------------
// helpers

const ids = (findings: Finding[]) => findings.map((f) => [f.id, f.address]);
const idsOf = (findings: Finding[]) => findings.map((f) => f.id);
/** A document with the given resources. */
const doc = (resource: Record<string, Record<string, object>>, extra: object = {}) => ({ resource, ...extra });
const check = (resource: Record<string, Record<string, object>>, extra: object = {}) => checkTerraform(doc(resource, extra));

/** The production stack's JSON (helpers.ts synthesizes it once and parses a copy for each call). */
function synthProduction() {
  return (require("./helpers") as typeof import("./helpers")).synthStack(production).json;
}

const workerProps = ML_WORKER_PROPS;
const hardened: Partial<MlWorkerProps> = {
  queueEncryption: { type: "sse-sqs" },
  backlogPerTaskScaling: true,
  onDemandWeight: 20,
  stopTimeoutSeconds: 120,
  deploymentCircuitBreaker: true,
  alarmNotifications: { email: "oncall@zivohealth.ai" },
  logRetentionDays: 365,
  logKmsKeyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/0e6f3c7a-1111-2222-3333-444455556666`,
};
const synthWorker = (props: Partial<MlWorkerProps> = {}) =>
  JSON.parse(Testing.synthScope((scope) => new MlWorker(scope, "ml_worker", { ...workerProps, ...props })));

// ---------------------------------------------------------------------------
// template decoding

describe("decodeJsonencode (the literal of a ${jsonencode(...)} attribute)", () => {
  test("objects, tuples, strings with escapes and templates, numbers, booleans, null; expressions kept as ${...}", () => {
    expect(
      decodeJsonencode('${jsonencode({\n  "a" = "x\\"y\\n$${z}%{if 1}"\n  b: [1, -2.5e1, true, null,]\n  "c" = aws_s3_bucket.b.arn, "d" = "arn:${var.p}:x", "e" = var.a == "" ? "{}" : var.a, "f" = concat(["a"], ["b"])\n})}'),
    ).toEqual({ a: 'x"y\n$${z}%{if 1}', b: [1, -25, true, null], c: "${aws_s3_bucket.b.arn}", d: "arn:${var.p}:x", e: '${var.a == "" ? "{}" : var.a}', f: '${concat(["a"], ["b"])}' });
    expect(decodeJsonencode('${jsonencode({"a" = [for x in var.y : x]})}')).toEqual({ a: "${[for x in var.y : x]}" });
    expect(decodeJsonencode("${jsonencode(local.d)}", { d: [1] })).toEqual([1]);
  });

  test("nothing for what is not one jsonencode of a literal", () => {
    for (const t of ["${jsonencode(var.x)}", "${jsonencode([for x in var.y : x])}", "${jsonencode(local.d)}", '${jsonencode({"a" = "x"})}${var.y}', '${jsonencode({(var.k) = 1})}', "${jsonencode({a = <<EOT\nx\nEOT\n})}", '${yamlencode({"a" = 1})}', '{"a": 1}']) {
      expect([t, decodeJsonencode(t)]).toEqual([t, undefined]);
    }
  });

  test("stringLiterals and isConstantExpression", () => {
    expect(stringLiterals('format("%s", "${upper("postgres://u:p@h")}")')).toEqual(["%s", '${upper("postgres://u:p@h")}', "postgres://u:p@h"]);
    expect(['${base64decode("aHVudGVyMg==")}', '${"x"}', "${1e5}", '${join("", ["p", "w"])}'].map(isConstantExpression)).toEqual([true, true, true, true]);
    expect(["${var.x}", "${upper(var.x)}", '${format("%s", "${var.y}")}', "${[for x in var.y : x]}", "a${var.x}", "${local.x}"].map(isConstantExpression)).toEqual([false, false, false, false, false, false]);
  });
});

describe("decodeTemplateJson", () => {
  test("decodes container definitions with unescaped quotes inside ${...}", () => {
    const text = '[{"name":"w","environment":[{"name":"HOST","value":"${element(split(":", data.aws_db_instance.x.endpoint), 0)}"}]}]';
    expect(() => JSON.parse(text)).toThrow();
    expect(decodeTemplateJson(text)).toEqual([
      { name: "w", environment: [{ name: "HOST", value: '${element(split(":", data.aws_db_instance.x.endpoint), 0)}' }] },
    ]);
  });

  test("also reads the JSON-escaped form JSON.stringify gives a literal template", () => {
    const value = '${element(split(":", data.aws_db_instance.x.endpoint), 0)}';
    expect(decodeTemplateJson(JSON.stringify([{ value }]))).toEqual([{ value }]);
  });

  test("keeps nested braces, quoted } and nested templates inside one interpolation", () => {
    const expr = '${lookup({a = "}", b = "${var.x}"}, "a")}';
    expect(decodeTemplateJson(`{"v":"pre-${expr}-post"}`)).toEqual({ v: `pre-${expr}-post` });
  });

  test("an interpolation standing for a whole value decodes as its string; $${ stays literal", () => {
    expect(decodeTemplateJson('{"cpu":${var.cpu},"s":"$${not.a.ref}"}')).toEqual({ cpu: "${var.cpu}", s: "$${not.a.ref}" });
  });

  test("placeholders cannot collide with the text", () => {
    expect(decodeTemplateJson('["__tf0_0__","${a}"]')).toEqual(["__tf0_0__", "${a}"]);
    expect(decodeTemplateJson('["__tf0_ __tf1_x __tf12_ __tf01_ __tf2", "${a}"]')).toEqual(["__tf0_ __tf1_x __tf12_ __tf01_ __tf2", "${a}"]);
    // Not a speed goal: a bound on rescanning. The text read whole for one nonce after another, 60,000 of them
    // (570 KB) took 8 s here (quadratic); now about 100 ms. 5 s leaves a fiftyfold for a loaded machine.
    const taken = Array.from({ length: 60_000 }, (_, n) => `__tf${n}_`).join(" ");
    const start = Date.now();
    expect(decodeTemplateJson(JSON.stringify([taken, "${a}"]))).toEqual([taken, "${a}"]);
    expect(Date.now() - start).toBeLessThan(5_000);
  });

  test("invalid JSON still throws", () => {
    expect(() => decodeTemplateJson('{"a": ${x}')).toThrow(SyntaxError);
  });

  test("splitTemplate and isPureReference", () => {
    expect(splitTemplate('a${b("}")}c')).toEqual([
      { kind: "literal", text: "a" },
      { kind: "interpolation", text: '${b("}")}' },
      { kind: "literal", text: "c" },
    ]);
    expect(isPureReference("${var.x}")).toBe(true);
    expect(isPureReference('${element(split(":", x), 0)}')).toBe(true);
    expect(isPureReference("${var.x}/suffix")).toBe(false);
    expect(isPureReference("${a}${b}")).toBe(false);
    expect(isPureReference("literal")).toBe(false);
    expect(isPureReference(3)).toBe(false);
  });

  test("an unterminated sequence makes the rest of the text literal (Terraform rejects the template there), in linear time", () => {
    expect(splitTemplate("a ${x} ${open ${y} %{z")).toEqual([
      { kind: "literal", text: "a " },
      { kind: "interpolation", text: "${x}" },
      { kind: "literal", text: " ${open ${y} %{z" },
    ]);
    // Not a speed goal: a bound on rescanning. From every `${` to the text's end, 20,000 of them took 1.5 s
    // here and the policy over them 12 s; now a few ms. 5 s leaves a hundredfold for a loaded machine.
    const start = Date.now();
    const text = "${".repeat(20_000);
    expect(splitTemplate(text)).toEqual([{ kind: "literal", text }]);
    expect(checkTerraform({ resource: { aws_instance: { i: { user_data: text } } } })).toEqual([]);
    expect(Date.now() - start).toBeLessThan(5_000);
  });
});

describe("isSecretName", () => {
  test.each(["SECRET_KEY", "SMTP_PASSWORD", "OPENAI_API_KEY", "githubToken", "DBPASSWORD", "AWS_SECRET_ACCESS_KEY", "client-secret", "PASSWORD_RESET_TOKEN", "app_secret_key_override"])(
    "%s is secret-like",
    (name) => expect(isSecretName(name)).toBe(true),
  );
  test.each(["ACCESS_TOKEN_EXPIRE_MINUTES", "PASSWORD_RESET_APP_DIR", "db_password_ssm_key", "AWS_ACCESS_KEY_ID", "TOKENIZER_MODEL", "POSTGRES_USER", "SECRET_ARN"])(
    "%s is not",
    (name) => expect(isSecretName(name)).toBe(false),
  );
});

// ---------------------------------------------------------------------------
// rules, one by one

describe("rules", () => {
  test("ZH-SQS-ENCRYPTION: neither SSE-SQS nor KMS", () => {
    expect(ids(check({ aws_sqs_queue: { q: { name: "q" } } }))).toEqual([["ZH-SQS-ENCRYPTION", "aws_sqs_queue.q"]]);
    expect(ids(check({ aws_sqs_queue: { q: { name: "q", sqs_managed_sse_enabled: false } } }))).toEqual([["ZH-SQS-ENCRYPTION", "aws_sqs_queue.q"]]);
    expect(check({ aws_sqs_queue: { a: { sqs_managed_sse_enabled: true }, b: { kms_master_key_id: "${aws_kms_key.k.arn}" } } })).toEqual([]);
  });

  test("ZH-SQS-PUBLIC-POLICY: a queue policy that lets any principal in without a condition", () => {
    const policy = (statement: object) => JSON.stringify({ Version: "2012-10-17", Statement: [statement] });
    const enc = { sqs_managed_sse_enabled: true };
    const f = check({
      aws_sqs_queue_policy: {
        star: { queue_url: "${aws_sqs_queue.q.id}", policy: policy({ Sid: "Anyone", Effect: "Allow", Principal: "*", Action: ["sqs:SendMessage"], Resource: "${aws_sqs_queue.q.arn}" }) },
        awsStar: { queue_url: "u", policy: policy({ Effect: "Allow", Principal: { AWS: ["${aws_iam_role.r.arn}", "*"] }, Action: "sqs:*", Resource: "*" }) },
        // Narrowed by a condition, a named role, or a Deny: not public.
        conditioned: { queue_url: "u", policy: policy({ Effect: "Allow", Principal: "*", Action: "sqs:SendMessage", Resource: "*", Condition: { ArnEquals: { "aws:SourceArn": "${aws_sns_topic.t.arn}" } } }) },
        role: { queue_url: "u", policy: policy({ Effect: "Allow", Principal: { AWS: "${aws_iam_role.r.arn}" }, Action: "sqs:SendMessage", Resource: "*" }) },
        deny: { queue_url: "u", policy: policy({ Effect: "Deny", Principal: "*", Action: "sqs:*", Resource: "*" }) },
        reference: { queue_url: "u", policy: "${data.aws_iam_policy_document.q.json}" },
      },
      aws_sqs_queue: { inline: { ...enc, policy: policy({ Effect: "Allow", Principal: { AWS: "*" }, Action: "sqs:ReceiveMessage", Resource: "*" }) } },
    });
    expect(f.map((x) => [x.id, x.severity, x.address, x.path, x.message, x.checkov])).toEqual([
      ["ZH-SQS-PUBLIC-POLICY", "high", "aws_sqs_queue.inline", "policy.Statement[0]", 'allows sqs:ReceiveMessage to any principal ("*") with no Condition', "CKV_AWS_168"],
      ["ZH-SQS-PUBLIC-POLICY", "high", "aws_sqs_queue_policy.awsStar", "policy.Statement[0]", 'allows sqs:* to any principal ("*") with no Condition', "CKV_AWS_168"],
      ["ZH-SQS-PUBLIC-POLICY", "high", "aws_sqs_queue_policy.star", "policy.Statement[0] (Anyone)", 'allows sqs:SendMessage to any principal ("*") with no Condition', "CKV_AWS_168"],
    ]);
  });

  test("ZH-SQS-PUBLIC-POLICY and ZH-ECR-PUBLIC-POLICY: a condition that narrows no principal, and a policy document data source, are read", () => {
    const policy = (statement: object) => JSON.stringify({ Version: "2012-10-17", Statement: statement });
    const anyone = { Effect: "Allow", Principal: "*", Action: "sqs:SendMessage", Resource: "*" };
    const f = check(
      {
        aws_sqs_queue_policy: {
          empty: { queue_url: "u", policy: policy({ ...anyone, Condition: {} }) },
          tls: { queue_url: "u", policy: policy({ ...anyone, Condition: { Bool: { "aws:SecureTransport": "true" } } }) },
          if_exists: { queue_url: "u", policy: policy({ ...anyone, Condition: { ArnLikeIfExists: { "aws:SourceArn": "${aws_sns_topic.t.arn}" } } }) },
          not_account: { queue_url: "u", policy: policy({ ...anyone, Condition: { StringNotEquals: { "aws:PrincipalAccount": "123456789012" } } }) },
          from_data: { queue_url: "u", policy: "${data.aws_iam_policy_document.open.json}" },
          // Narrowed: a source ARN, an organization (in a data source), a named role.
          source: { queue_url: "u", policy: policy({ ...anyone, Condition: { ArnEquals: { "aws:SourceArn": "${aws_sns_topic.t.arn}" } } }) },
          org: { queue_url: "u", policy: "${data.aws_iam_policy_document.org.json}" },
        },
        aws_ecr_repository_policy: {
          public: { repository: "r", policy: policy([{ Sid: "Pull", Effect: "Allow", Principal: { AWS: "*" }, Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"] }]) },
          account: { repository: "r", policy: policy([{ Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:root" }, Action: "ecr:*" }]) },
        },
        aws_ecr_registry_policy: { r: { policy: '${jsonencode({"Statement" = [{"Effect" = "Allow", "Principal" = "*", "Action" = ["ecr:ReplicateImage"], "Resource" = "*"}]})}' } },
      },
      {
        data: {
          aws_iam_policy_document: {
            open: { statement: [{ sid: "Anyone", actions: ["sqs:SendMessage"], resources: ["${aws_sqs_queue.q.arn}"], principals: [{ type: "AWS", identifiers: ["*"] }] }] },
            org: { statement: [{ actions: ["sqs:SendMessage"], resources: ["*"], principals: [{ type: "*", identifiers: ["*"] }], condition: [{ test: "StringEquals", variable: "aws:PrincipalOrgID", values: ["o-1"] }] }] },
          },
        },
      },
    );
    expect(f.filter((x) => x.id.endsWith("-PUBLIC-POLICY")).map((x) => [x.id, x.address, x.path, x.message, x.checkov])).toEqual([
      ["ZH-ECR-PUBLIC-POLICY", "aws_ecr_registry_policy.r", "policy.Statement[0]", 'allows ecr:ReplicateImage to any principal ("*") with no Condition', "CKV_AWS_32"],
      ["ZH-ECR-PUBLIC-POLICY", "aws_ecr_repository_policy.public", "policy.Statement[0] (Pull)", 'allows ecr:BatchGetImage, ecr:GetDownloadUrlForLayer to any principal ("*") with no Condition', "CKV_AWS_32"],
      ["ZH-SQS-PUBLIC-POLICY", "aws_sqs_queue_policy.empty", "policy.Statement[0]", 'allows sqs:SendMessage to any principal ("*") with no Condition', "CKV_AWS_168"],
      ["ZH-SQS-PUBLIC-POLICY", "aws_sqs_queue_policy.from_data", "data.aws_iam_policy_document.open.statement[0] (Anyone)", 'allows sqs:SendMessage to any principal ("*") with no Condition', "CKV_AWS_168"],
      ["ZH-SQS-PUBLIC-POLICY", "aws_sqs_queue_policy.if_exists", "policy.Statement[0]", 'allows sqs:SendMessage to any principal ("*") with a Condition on aws:SourceArn only, which narrows no principal', "CKV_AWS_168"],
      ["ZH-SQS-PUBLIC-POLICY", "aws_sqs_queue_policy.not_account", "policy.Statement[0]", 'allows sqs:SendMessage to any principal ("*") with a Condition on aws:PrincipalAccount only, which narrows no principal', "CKV_AWS_168"],
      ["ZH-SQS-PUBLIC-POLICY", "aws_sqs_queue_policy.tls", "policy.Statement[0]", 'allows sqs:SendMessage to any principal ("*") with a Condition on aws:SecureTransport only, which narrows no principal', "CKV_AWS_168"],
    ]);
  });

  test("ZH-ECR-MUTABLE-TAGS and ZH-ECR-SCAN-ON-PUSH", () => {
    const f = check({ aws_ecr_repository: { r: {} } });
    expect(ids(f)).toEqual([
      ["ZH-ECR-MUTABLE-TAGS", "aws_ecr_repository.r"],
      ["ZH-ECR-SCAN-ON-PUSH", "aws_ecr_repository.r"],
    ]);
    expect(f.map((x) => x.checkov)).toEqual(["CKV_AWS_51", "CKV_AWS_163"]);
    expect(check({ aws_ecr_repository: { r: { image_tag_mutability: "IMMUTABLE", image_scanning_configuration: { scan_on_push: true } } } })).toEqual([]);
    expect(check({ aws_ecr_repository: { r: { image_tag_mutability: "IMMUTABLE", image_scanning_configuration: [{ scan_on_push: true }] } } })).toEqual([]);
  });

  test("ZH-LOG-RETENTION against the configurable floor, ZH-LOG-KMS", () => {
    expect(ids(check({ aws_cloudwatch_log_group: { l: { retention_in_days: 7 } } }))).toEqual([
      ["ZH-LOG-KMS", "aws_cloudwatch_log_group.l"],
      ["ZH-LOG-RETENTION", "aws_cloudwatch_log_group.l"],
    ]);
    const ok = { kms_key_id: "arn:aws:kms:us-east-1:1:key/x" };
    expect(check({ aws_cloudwatch_log_group: { a: { ...ok, retention_in_days: 365 }, b: { ...ok }, c: { ...ok, retention_in_days: 0 } } })).toEqual([]);
    const floor30 = checkTerraform(doc({ aws_cloudwatch_log_group: { l: { ...ok, retention_in_days: 90 } } }), { logRetentionFloorDays: 30 });
    expect(floor30).toEqual([]);
    const floor400 = checkTerraform(doc({ aws_cloudwatch_log_group: { l: { ...ok, retention_in_days: 365 } } }), { logRetentionFloorDays: 400 });
    expect(idsOf(floor400)).toEqual(["ZH-LOG-RETENTION"]);
  });

  test("ZH-ECS-ENV-SECRET: literal values in secret-named variables; references are a separate, lower finding", () => {
    const containers = [
      {
        name: "app",
        environment: [
          { name: "SECRET_KEY", value: "placeholder-not-used" },
          { name: "DB_PASSWORD", value: "${var.db_password}" },
          { name: "API_TOKEN", value: "prefix-${var.t}" },
          { name: "ACCESS_TOKEN_EXPIRE_MINUTES", value: "30" },
          { name: "HOST", value: '${element(split(":", data.aws_db_instance.x.endpoint), 0)}' },
          { name: "EMPTY_PASSWORD", value: "" },
        ],
        secrets: [{ name: "REAL_PASSWORD", valueFrom: "/app/db/password" }],
      },
    ];
    // Stringified the way the constructs do it, with an unescaped interpolation inside.
    const text = JSON.stringify(containers);
    const f = check({ aws_ecs_task_definition: { t: { container_definitions: text } } });
    expect(f.map((x) => [x.id, x.address, x.path])).toEqual([
      ["ZH-ECS-ENV-SECRET", "aws_ecs_task_definition.t", "container_definitions[app].environment.API_TOKEN"],
      ["ZH-ECS-ENV-SECRET", "aws_ecs_task_definition.t", "container_definitions[app].environment.SECRET_KEY"],
      ["ZH-ECS-ENV-SECRET-REF", "aws_ecs_task_definition.t", "container_definitions[app].environment.DB_PASSWORD"],
    ]);
    expect(f.map((x) => x.severity)).toEqual(["high", "high", "medium"]);
    // The value itself is never echoed.
    expect(JSON.stringify(f)).not.toContain("placeholder-not-used");
    const clean = JSON.stringify([{ name: "app", environment: [{ name: "HOST", value: "db" }], secrets: containers[0].secrets }]);
    expect(check({ aws_ecs_task_definition: { t: { container_definitions: clean } } })).toEqual([]);
  });

  test("ZH-ECS-ENV-SECRET reads container definitions that plain JSON.parse cannot", () => {
    const text = '[{"name":"w","environment":[{"name":"H","value":"${element(split(":", x), 0)}"},{"name":"SMTP_PASSWORD","value":"x"}]}]';
    expect(ids(check({ aws_ecs_task_definition: { t: { container_definitions: text } } }))).toEqual([["ZH-ECS-ENV-SECRET", "aws_ecs_task_definition.t"]]);
  });

  test("ZH-UNPARSEABLE-JSON when container definitions or a policy are not JSON; a policy document data source is checked at its source", () => {
    expect(ids(check({ aws_ecs_task_definition: { t: { container_definitions: "[{" } }, aws_iam_role_policy: { p: { policy: "{nope" } } }))).toEqual([
      ["ZH-UNPARSEABLE-JSON", "aws_ecs_task_definition.t"],
      ["ZH-UNPARSEABLE-JSON", "aws_iam_role_policy.p"],
    ]);
    expect(check({ aws_iam_role_policy: { p: { policy: "${data.aws_iam_policy_document.d.json}" }, q: { policy: "${data.aws_iam_policy_document.d.minified_json}" } } })).toEqual([]);
  });

  test("ZH-JSON-NOT-READ: a document that is one expression the checks cannot read is said, never passed; its arguments are not printed", () => {
    const f = check({
      aws_ecs_task_definition: { t: { container_definitions: "${jsonencode(local.missing)}" } },
      aws_iam_role_policy: { p: { policy: "${var.policy}" }, q: { policy: '${file("policy-hunter2.json")}' }, r: { policy: "${jsonencode(merge(var.a, {}))}" } },
      aws_sqs_queue_policy: { s: { policy: "${aws_iam_policy.other.policy}" } },
      aws_iam_role: { role: { inline_policy: [{ name: "x", policy: '${var.a == "" ? "{}" : var.a}' }] } },
    });
    expect(f.map((x) => [x.id, x.severity, x.address, x.path, x.message])).toEqual([
      ["ZH-JSON-NOT-READ", "medium", "aws_ecs_task_definition.t", "container_definitions", "container_definitions is the expression jsonencode(...), which the checks cannot read before apply"],
      ["ZH-JSON-NOT-READ", "medium", "aws_iam_role.role", "inline_policy[0].policy", "inline_policy[0].policy is a Terraform expression, which the checks cannot read before apply"],
      ["ZH-JSON-NOT-READ", "medium", "aws_iam_role_policy.p", "policy", "policy is the expression var.policy, which the checks cannot read before apply"],
      ["ZH-JSON-NOT-READ", "medium", "aws_iam_role_policy.q", "policy", "policy is the expression file(...), which the checks cannot read before apply"],
      ["ZH-JSON-NOT-READ", "medium", "aws_iam_role_policy.r", "policy", "policy is the expression jsonencode(...), which the checks cannot read before apply"],
      ["ZH-JSON-NOT-READ", "medium", "aws_sqs_queue_policy.s", "policy", "policy is the expression aws_iam_policy.other.policy, which the checks cannot read before apply"],
    ]);
    expect(JSON.stringify(f)).not.toContain("hunter2");
  });

  test("Fn.jsonencode documents are read: a public queue policy, an admin policy, a literal secret in container definitions", () => {
    const stack = new TerraformStack(Testing.app(), "jsonencoded");
    const queue = new SqsQueue(stack, "q", { name: "q", sqsManagedSseEnabled: true });
    const role = new TerraformVariable(stack, "role_arn", { type: "string" });
    new SqsQueuePolicy(stack, "open", {
      queueUrl: queue.url,
      policy: Fn.jsonencode({ Version: "2012-10-17", Statement: [{ Sid: "Open", Effect: "Allow", Principal: { AWS: ["*"] }, Action: ["sqs:SendMessage"], Resource: queue.arn }] }),
    });
    new SqsQueuePolicy(stack, "scoped", {
      queueUrl: queue.url,
      policy: Fn.jsonencode({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: role.stringValue }, Action: "sqs:SendMessage", Resource: queue.arn }] }),
    });
    new IamPolicy(stack, "admin", { name: "admin", policy: Fn.jsonencode({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }) });
    new EcsTaskDefinition(stack, "t", {
      family: "t",
      containerDefinitions: Fn.jsonencode([{ name: "app", image: "x", environment: [{ name: "SMTP_PASSWORD", value: "Summer2024!" }, { name: "DB_PASSWORD", value: role.stringValue }] }]),
    });
    const synthesized = JSON.parse(Testing.synth(stack));
    // What cdktf writes, read by the checks:
    expect(synthesized.resource.aws_sqs_queue_policy.open.policy).toBe(
      '${jsonencode({"Version" = "2012-10-17", "Statement" = [{"Sid" = "Open", "Effect" = "Allow", "Principal" = {"AWS" = ["*"]}, "Action" = ["sqs:SendMessage"], "Resource" = aws_sqs_queue.q.arn}]})}',
    );
    const f = checkTerraform(synthesized);
    expect(f.map((x) => [x.id, x.address, x.path])).toEqual([
      ["ZH-IAM-ADMIN", "aws_iam_policy.admin", "policy.Statement[0]"],
      ["ZH-ECS-ENV-SECRET", "aws_ecs_task_definition.t", "container_definitions[app].environment.SMTP_PASSWORD"],
      ["ZH-SQS-PUBLIC-POLICY", "aws_sqs_queue_policy.open", "policy.Statement[0] (Open)"],
      ["ZH-ECS-ENV-SECRET-REF", "aws_ecs_task_definition.t", "container_definitions[app].environment.DB_PASSWORD"],
      // A principal from a variable with no default may be "*": said, not passed as a named role.
      ["ZH-JSON-NOT-READ", "aws_sqs_queue_policy.scoped", "policy.Statement[0].Principal"],
    ]);
    expect(JSON.stringify(f)).not.toContain("Summer2024");
    // A local holding the document is read from `locals`.
    const viaLocal = checkTerraform({ locals: { doc: { Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] } }, resource: { aws_iam_policy: { p: { policy: "${jsonencode(local.doc)}" } } } });
    expect(ids(viaLocal)).toEqual([["ZH-IAM-ADMIN", "aws_iam_policy.p"]]);
  });

  test("a TerraformLocal inside a document is read as the literal it holds: its actions, its statement, a container's environment; one that is an expression is said", () => {
    const stack = new TerraformStack(Testing.app(), "locals");
    const actions = new TerraformLocal(stack, "actions", ["*"]);
    const statement = new TerraformLocal(stack, "statement", { Effect: "Allow", Principal: "*", Action: "sqs:*", Resource: "*" });
    const env = new TerraformLocal(stack, "env", [{ name: "SMTP_PASSWORD", value: "Summer2024!" }]);
    const computed = new TerraformLocal(stack, "computed", Fn.concat([actions.asList, ["s3:GetObject"]]));
    new IamPolicy(stack, "p", { name: "p", policy: Fn.jsonencode({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: actions.expression, Resource: "*" }] }) });
    new IamPolicy(stack, "c", { name: "c", policy: Fn.jsonencode({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: computed.expression, Resource: "arn:aws:s3:::b/*" }] }) });
    new SqsQueuePolicy(stack, "q", { queueUrl: "u", policy: Fn.jsonencode({ Version: "2012-10-17", Statement: [statement.expression] }) });
    new EcsTaskDefinition(stack, "t", { family: "t", containerDefinitions: Fn.jsonencode([{ name: "app", image: "x", environment: env.expression }]) });
    const synthesized = JSON.parse(Testing.synth(stack));
    expect(synthesized.resource.aws_iam_policy.p.policy).toBe('${jsonencode({"Version" = "2012-10-17", "Statement" = [{"Effect" = "Allow", "Action" = local.actions, "Resource" = "*"}]})}');
    expect(checkTerraform(synthesized).map((x) => [x.id, x.address, x.path ?? "", x.message])).toEqual([
      ["ZH-IAM-ADMIN", "aws_iam_policy.p", "policy.Statement[0]", 'allows "*" on "*"'],
      ["ZH-ECS-ENV-SECRET", "aws_ecs_task_definition.t", "container_definitions[app].environment.SMTP_PASSWORD", 'container "app": SMTP_PASSWORD holds a literal value (11 characters) instead of a secrets[] reference'],
      ["ZH-SECRET-LITERAL", "locals.env[0].value", "", '"SMTP_PASSWORD" holds a literal value (11 characters) instead of a reference'],
      ["ZH-SQS-PUBLIC-POLICY", "aws_sqs_queue_policy.q", "policy.Statement[0]", 'allows sqs:* to any principal ("*") with no Condition'],
      // local.computed is concat(local.actions, ...): "*" among its actions, not read before apply.
      ["ZH-JSON-NOT-READ", "aws_iam_policy.c", "policy.Statement[0].Action", "policy.Statement[0].Action is the expression concat(...), which the checks cannot read before apply"],
    ]);
  });

  test("ZH-JSON-NOT-READ inside a read document: an Effect, Action, Principal, Resource, narrowing Condition, Statement or document that is an expression; references to what the configuration creates are read", () => {
    const policy = (statement: object) => JSON.stringify({ Version: "2012-10-17", Statement: [statement] });
    const anyone = { Effect: "Allow", Principal: "*", Action: "sqs:SendMessage", Resource: "*" };
    const f = checkTerraform({
      locals: { base: ["*"], actions: '${concat(local.base, ["s3:GetObject"])}', who: "${var.who}", doc: "${merge(local.a, local.b)}" },
      variable: { who: { type: "string" }, effect: { type: "string" }, bucket_arn: { type: "string" }, account: { type: "string" } },
      resource: {
        aws_iam_policy: {
          actions: { policy: '${jsonencode({"Statement" = [{"Effect" = "Allow", "Action" = local.actions, "Resource" = "*"}]})}' },
          effect: { policy: policy({ Effect: "${var.effect}", Action: "*", Resource: "*" }) },
          resource: { policy: policy({ Effect: "Allow", Action: "*", Resource: ["arn:aws:s3:::b", "${var.bucket_arn}"] }) },
          whole: { policy: "${jsonencode(local.doc)}" },
          statements: { policy: '${jsonencode({"Version" = "2012-10-17", "Statement" = local.doc})}' },
          one_statement: { policy: '${jsonencode({"Statement" = [local.doc]})}' },
          // What the configuration creates or reads names one thing; an IAM policy variable ($${aws:username}) is IAM's.
          references: {
            policy: policy({ Effect: "Allow", Action: ["s3:GetObject", "sqs:SendMessage"], Resource: ["${aws_sqs_queue.q.arn}", "${module.storage.bucket_arn}/*", "arn:aws:s3:::b/$${aws:username}/*", "arn:aws:sqs:us-east-1:${data.aws_caller_identity.c.account_id}:q"] }),
          },
        },
        aws_sqs_queue_policy: {
          principal: { queue_url: "u", policy: policy({ ...anyone, Principal: { AWS: "${local.who}" } }) },
          condition: { queue_url: "u", policy: policy({ ...anyone, Condition: { StringEquals: { "aws:SourceAccount": "${var.account}" } } }) },
          // A Condition on a key that narrows nothing: the statement is public whatever its value.
          tls: { queue_url: "u", policy: policy({ ...anyone, Condition: { Bool: { "aws:SecureTransport": "${var.account}" } } }) },
          named: { queue_url: "u", policy: policy({ ...anyone, Principal: { AWS: ["${aws_iam_role.r.arn}", "arn:aws:iam::${data.aws_caller_identity.c.account_id}:root"] }, Condition: { StringEquals: { "aws:SourceAccount": "${var.account}" } } }) },
          from_data: { queue_url: "u", policy: "${data.aws_iam_policy_document.q.json}" },
        },
      },
      data: { aws_iam_policy_document: { q: { statement: [{ effect: "${var.effect}", actions: ["sqs:SendMessage"], principals: [{ type: "AWS", identifiers: "${var.who}" }] }] } } },
    });
    expect(f.map((x) => [x.id, x.address, x.path, x.message])).toEqual([
      ["ZH-IAM-STAR-ACTION", "aws_iam_policy.resource", "policy.Statement[0]", 'allows "*" on arn:aws:s3:::b'],
      ["ZH-SQS-PUBLIC-POLICY", "aws_sqs_queue_policy.tls", "policy.Statement[0]", 'allows sqs:SendMessage to any principal ("*") with a Condition on aws:SecureTransport only, which narrows no principal'],
      ["ZH-JSON-NOT-READ", "aws_iam_policy.actions", "policy.Statement[0].Action", "policy.Statement[0].Action is the expression concat(...), which the checks cannot read before apply"],
      ["ZH-JSON-NOT-READ", "aws_iam_policy.effect", "policy.Statement[0].Effect", "policy.Statement[0].Effect is the expression var.effect, which the checks cannot read before apply"],
      ["ZH-JSON-NOT-READ", "aws_iam_policy.one_statement", "policy.Statement[0]", "policy.Statement[0] is the expression merge(...), which the checks cannot read before apply"],
      ["ZH-JSON-NOT-READ", "aws_iam_policy.resource", "policy.Statement[0].Resource", "policy.Statement[0].Resource holds the expression var.bucket_arn, which the checks cannot read before apply"],
      ["ZH-JSON-NOT-READ", "aws_iam_policy.statements", "policy.Statement", "policy.Statement is the expression merge(...), which the checks cannot read before apply"],
      ["ZH-JSON-NOT-READ", "aws_iam_policy.whole", "policy", "policy is the expression merge(...), which the checks cannot read before apply"],
      ["ZH-JSON-NOT-READ", "aws_sqs_queue_policy.condition", "policy.Statement[0].Condition", "policy.Statement[0].Condition holds the expression var.account, which the checks cannot read before apply"],
      ["ZH-JSON-NOT-READ", "aws_sqs_queue_policy.from_data", "data.aws_iam_policy_document.q.statement[0].Effect", "data.aws_iam_policy_document.q.statement[0].Effect is the expression var.effect, which the checks cannot read before apply"],
      ["ZH-JSON-NOT-READ", "aws_sqs_queue_policy.from_data", "data.aws_iam_policy_document.q.statement[0].Principal", "data.aws_iam_policy_document.q.statement[0].Principal holds the expression var.who, which the checks cannot read before apply"],
      ["ZH-JSON-NOT-READ", "aws_sqs_queue_policy.principal", "policy.Statement[0].Principal", "policy.Statement[0].Principal holds the expression var.who, which the checks cannot read before apply"],
      ["ZH-JSON-NOT-READ", "data.aws_iam_policy_document.q", "statement[0].Effect", "statement[0].Effect is the expression var.effect, which the checks cannot read before apply"],
    ]);
  });

  test("a variable's default inside a document is judged, and the finding says so (a value passed at plan time is not seen)", () => {
    const policy = (statement: object) => JSON.stringify({ Version: "2012-10-17", Statement: [statement] });
    const note = (v: string) => ` (${v} read at its default; a value passed at plan time is not seen)`;
    const f = checkTerraform({
      locals: { who: "${var.who}" },
      variable: { who: { type: "string", default: "*" }, actions: { default: ["*"] }, bucket: { default: "*" }, named: { default: "arn:aws:iam::123456789012:root" } },
      resource: {
        aws_sqs_queue_policy: {
          via_local: { queue_url: "u", policy: policy({ Effect: "Allow", Principal: { AWS: "${local.who}" }, Action: "sqs:SendMessage", Resource: "*" }) },
          named: { queue_url: "u", policy: policy({ Effect: "Allow", Principal: { AWS: "${var.named}" }, Action: "sqs:SendMessage", Resource: "*" }) },
        },
        aws_iam_policy: {
          admin: { policy: '${jsonencode({"Statement" = [{"Effect" = "Allow", "Action" = var.actions, "Resource" = "*"}]})}' },
          bucket: { policy: policy({ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::${var.bucket}" }) },
        },
        aws_lambda_permission: { p: { action: "lambda:InvokeFunction", function_name: "f", principal: "${var.who}" } },
      },
    });
    expect(f.map((x) => [x.id, x.address, x.message])).toEqual([
      ["ZH-IAM-ADMIN", "aws_iam_policy.admin", `allows "*" on "*"${note("var.actions")}`],
      ["ZH-LAMBDA-PUBLIC-PERMISSION", "aws_lambda_permission.p", `allows lambda:InvokeFunction to any principal ("*") with no source_arn, source_account or principal_org_id${note("var.who")}`],
      ["ZH-SQS-PUBLIC-POLICY", "aws_sqs_queue_policy.via_local", `allows sqs:SendMessage to any principal ("*") with no Condition${note("var.who")}`],
      ["ZH-IAM-STAR-RESOURCE", "aws_iam_policy.bucket", `allows s3:GetObject on arn:aws:s3:::*, every s3 resource${note("var.bucket")}`],
    ]);
  });

  test("ZH-SNS-PUBLIC-POLICY, ZH-S3-PUBLIC-POLICY, ZH-LAMBDA-PUBLIC-PERMISSION; NotPrincipal; a data source's merged documents; redrive allowAll is not public", () => {
    const policy = (statement: object) => JSON.stringify({ Version: "2012-10-17", Statement: [statement] });
    const anyone = { Effect: "Allow", Principal: "*" };
    const f = checkTerraform({
      resource: {
        aws_sns_topic_policy: {
          open: { arn: "a", policy: policy({ ...anyone, Sid: "Pub", Action: "sns:Publish", Resource: "*" }) },
          owner: { arn: "a", policy: policy({ ...anyone, Action: "sns:Publish", Resource: "*", Condition: { StringEquals: { "aws:SourceOwner": "123456789012" } } }) },
        },
        aws_sns_topic: { t: { name: "t", policy: policy({ Effect: "Allow", Principal: { AWS: "*" }, Action: "sns:Subscribe", Resource: "*" }) } },
        aws_s3_bucket_policy: {
          open: { bucket: "b", policy: '${jsonencode({"Statement" = [{"Effect" = "Allow", "Principal" = "*", "Action" = "s3:GetObject", "Resource" = "arn:aws:s3:::b/*"}]})}' },
          not_principal: { bucket: "b", policy: policy({ Effect: "Allow", NotPrincipal: { AWS: "arn:aws:iam::123456789012:root" }, Action: "s3:PutObject", Resource: "arn:aws:s3:::b/*" }) },
          vpce: { bucket: "b", policy: policy({ ...anyone, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*", Condition: { StringEquals: { "aws:SourceVpce": "vpce-1" } } }) },
          merged: { bucket: "b", policy: "${data.aws_iam_policy_document.merged.json}" },
        },
        aws_s3_bucket: { b: { bucket: "b", policy: policy({ ...anyone, Action: "s3:ListBucket", Resource: "arn:aws:s3:::b" }) } },
        aws_lambda_permission: {
          star: { action: "lambda:InvokeFunctionUrl", function_name: "f", principal: "*", function_url_auth_type: "NONE" },
          account: { action: "lambda:InvokeFunction", function_name: "f", principal: "*", source_account: "123456789012" },
          service: { action: "lambda:InvokeFunction", function_name: "f", principal: "sns.amazonaws.com", source_arn: "${aws_sns_topic.t.arn}" },
        },
        // allowAll (the default): source queues of this account and Region only, not a public grant.
        aws_sqs_queue_redrive_allow_policy: { r: { queue_url: "u", redrive_allow_policy: JSON.stringify({ redrivePermission: "allowAll" }) } },
        aws_iam_role: { r: { assume_role_policy: "${data.aws_iam_policy_document.trust.json}" } },
      },
      data: {
        aws_iam_policy_document: {
          // A role's trust policy merged in through source_policy_documents: a JSON document and another data source.
          trust: {
            source_policy_documents: [policy({ Sid: "Anyone", Effect: "Allow", Principal: { AWS: "*" }, Action: "sts:AssumeRole" }), "${data.aws_iam_policy_document.base.json}"],
            statement: [{ actions: ["sts:AssumeRole"], principals: [{ type: "Service", identifiers: ["ecs-tasks.amazonaws.com"] }] }],
          },
          base: { statement: [{ sid: "Open", actions: ["sts:AssumeRole"], principals: [{ type: "*", identifiers: ["*"] }] }] },
          // An override with the same Sid replaces the public statement.
          merged: {
            source_policy_documents: [policy({ ...anyone, Sid: "Read", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" }), policy({ ...anyone, Sid: "List", Action: "s3:ListBucket", Resource: "arn:aws:s3:::b" })],
            override_policy_documents: [policy({ Sid: "Read", Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:root" }, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" })],
          },
        },
      },
    });
    expect(f.map((x) => [x.id, x.severity, x.address, x.path, x.message, x.checkov])).toEqual([
      ["ZH-IAM-TRUST-ANYONE", "critical", "data.aws_iam_policy_document.base", "statement[0] (Open)", 'allows sts:AssumeRole to any principal ("*") with no condition', "CKV_AWS_60"],
      ["ZH-IAM-TRUST-ANYONE", "critical", "data.aws_iam_policy_document.trust", "source_policy_documents[0].Statement[0] (Anyone)", 'allows sts:AssumeRole to any principal ("*") with no condition', "CKV_AWS_60"],
      ["ZH-IAM-TRUST-ANYONE", "critical", "data.aws_iam_policy_document.trust", "source_policy_documents[1].statement[0] (Open)", 'allows sts:AssumeRole to any principal ("*") with no condition', "CKV_AWS_60"],
      ["ZH-LAMBDA-PUBLIC-PERMISSION", "high", "aws_lambda_permission.star", "principal", 'allows lambda:InvokeFunctionUrl to any principal ("*") with no source_arn, source_account or principal_org_id', "CKV_AWS_301"],
      ["ZH-S3-PUBLIC-POLICY", "high", "aws_s3_bucket.b", "policy.Statement[0]", 'allows s3:ListBucket to any principal ("*") with no Condition', "CKV_AWS_70"],
      ["ZH-S3-PUBLIC-POLICY", "high", "aws_s3_bucket_policy.merged", "data.aws_iam_policy_document.merged.source_policy_documents[1].Statement[0] (List)", 'allows s3:ListBucket to any principal ("*") with no Condition', "CKV_AWS_70"],
      ["ZH-S3-PUBLIC-POLICY", "high", "aws_s3_bucket_policy.not_principal", "policy.Statement[0]", "allows s3:PutObject to any principal but those in NotPrincipal with no Condition", "CKV_AWS_70"],
      ["ZH-S3-PUBLIC-POLICY", "high", "aws_s3_bucket_policy.open", "policy.Statement[0]", 'allows s3:GetObject to any principal ("*") with no Condition', "CKV_AWS_70"],
      ["ZH-SNS-PUBLIC-POLICY", "high", "aws_sns_topic.t", "policy.Statement[0]", 'allows sns:Subscribe to any principal ("*") with no Condition', "CKV_AWS_169"],
      ["ZH-SNS-PUBLIC-POLICY", "high", "aws_sns_topic_policy.open", "policy.Statement[0] (Pub)", 'allows sns:Publish to any principal ("*") with no Condition', "CKV_AWS_169"],
    ]);
  });

  test("ZH-IAM-STAR-RESOURCE: an ARN naming every resource of a service (or of one type) is as wide as \"*\" for that service's actions", () => {
    const policy = (resource: string, action: string | string[]) => JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: action, Resource: resource }] });
    const f = checkTerraform({
      resource: {
        aws_iam_role_policy: {
          s3: { policy: policy("arn:aws:s3:::*", ["s3:GetObject", "sqs:SendMessage"]) },
          s3_objects: { policy: policy("arn:aws:s3:::*/*", "s3:PutObject") },
          sqs: { policy: policy("arn:aws:sqs:*:*:*", "sqs:SendMessage") },
          pass_role: { policy: policy("arn:aws:iam::*:role/*", "iam:PassRole") },
          logs: { policy: policy("arn:${data.aws_partition.p.partition}:logs:us-east-1:123456789012:log-group:*", "logs:PutLogEvents") },
          every_service: { policy: policy("arn:aws:*:*:*:*", "*") },
          // Narrower: one bucket's objects, a parameter path, a queue prefix, an API's stages (not a type), another service's actions.
          bucket: { policy: policy("arn:aws:s3:::b/*", "s3:GetObject") },
          params: { policy: policy("arn:aws:ssm:*:*:parameter/app/*", "ssm:GetParameter") },
          queues: { policy: policy("arn:aws:sqs:*:*:app-*", "sqs:SendMessage") },
          api: { policy: policy("arn:aws:execute-api:*:*:abc123/*", "execute-api:Invoke") },
          other: { policy: policy("arn:aws:sqs:*:*:*", "s3:GetObject") },
        },
      },
    });
    expect(f.map((x) => [x.id, x.address, x.message, x.checkov])).toEqual([
      ["ZH-IAM-ADMIN", "aws_iam_role_policy.every_service", 'allows "*" on arn:aws:*:*:*:*', "CKV_AWS_62"],
      ["ZH-IAM-STAR-RESOURCE", "aws_iam_role_policy.logs", "allows logs:PutLogEvents on arn:${data.aws_partition.p.partition}:logs:us-east-1:123456789012:log-group:*, every logs log-group", "CKV_AWS_355"],
      ["ZH-IAM-STAR-RESOURCE", "aws_iam_role_policy.pass_role", "allows iam:PassRole on arn:aws:iam::*:role/*, every iam role", "CKV_AWS_355"],
      ["ZH-IAM-STAR-RESOURCE", "aws_iam_role_policy.s3", "allows s3:GetObject on arn:aws:s3:::*, every s3 resource", "CKV_AWS_355"],
      ["ZH-IAM-STAR-RESOURCE", "aws_iam_role_policy.s3_objects", "allows s3:PutObject on arn:aws:s3:::*/*, every s3 resource", "CKV_AWS_355"],
      ["ZH-IAM-STAR-RESOURCE", "aws_iam_role_policy.sqs", "allows sqs:SendMessage on arn:aws:sqs:*:*:*, every sqs resource", "CKV_AWS_355"],
    ]);
  });

  test("secret scan: literals inside expressions are literals (an access key in base64encode, URL credentials in format, a constant under a secret name)", () => {
    const f = checkTerraform({
      resource: {
        aws_instance: { i: { user_data: '${base64encode("export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE")}' } },
        aws_ssm_parameter: { url: { name: "/zivohealth/production/url", value: '${format("postgres://app:%s@db:5432/app", "pa55w0rd")}' }, ref: { name: "/x/password", value: "${var.pw}" } },
        aws_ecs_task_definition: { t: { container_definitions: JSON.stringify([{ name: "app", environment: [{ name: "API_TOKEN", value: '${base64decode("aHVudGVyMg==")}' }] }]) } },
      },
      module: { ssm: { source: "./ssm", db_password_plain: '${"REDACTED"}', other_password: '${upper(var.pw)}', app_secret_key: '${join("", ["p", var.tail])}' } },
    });
    expect(f.map((x) => [x.id, x.address, x.message])).toEqual([
      ["ZH-SECRET-AWS-ACCESS-KEY", "resource.aws_instance.i.user_data", "an AWS access key id (AKIA…/ASIA…) is written in the configuration"],
      ["ZH-ECS-ENV-SECRET", "aws_ecs_task_definition.t", 'container "app": API_TOKEN holds a literal value (31 characters) instead of a secrets[] reference'],
      ["ZH-SECRET-LITERAL", "module.ssm.db_password_plain", '"db_password_plain" holds a constant expression (it refers to nothing) instead of a reference'],
      ["ZH-SECRET-URL-CREDENTIALS", "resource.aws_ssm_parameter.url.value", "postgres:// URL with a literal user:password"],
    ]);
    expect(JSON.stringify(f)).not.toMatch(/pa55w0rd|REDACTED"|aHVudGVyMg/);
  });

  test("ZH-ECS-PUBLIC-IP", () => {
    expect(ids(check({ aws_ecs_service: { s: { network_configuration: { assign_public_ip: true } } } }))).toEqual([["ZH-ECS-PUBLIC-IP", "aws_ecs_service.s"]]);
    expect(check({ aws_ecs_service: { s: { network_configuration: { assign_public_ip: false } }, t: {} } })).toEqual([]);
  });

  test("security groups: descriptions, egress to the world, SSH and HTTP from the world", () => {
    const world = { cidr_blocks: ["0.0.0.0/0"] };
    const f = check({
      aws_security_group: {
        g: {
          ingress: [
            { ...world, from_port: 22, to_port: 22, protocol: "tcp", description: "ssh" },
            { ...world, from_port: 80, to_port: 80, protocol: "tcp" },
            { ...world, from_port: 443, to_port: 443, protocol: "tcp", description: "https" },
          ],
          egress: [{ ...world, from_port: 0, to_port: 0, protocol: "-1", description: "all" }],
        },
      },
      aws_security_group_rule: { r: { type: "ingress", from_port: 0, to_port: 0, protocol: "-1", ipv6_cidr_blocks: ["::/0"], security_group_id: "sg-1" } },
      aws_vpc_security_group_egress_rule: { e: { ip_protocol: "-1", cidr_ipv4: "0.0.0.0/0", description: "all out" } },
      aws_vpc_security_group_ingress_rule: { i: { ip_protocol: "tcp", from_port: 20, to_port: 90, cidr_ipv4: "0.0.0.0/0", description: "range" } },
    });
    expect(f.map((x) => [x.id, x.address, x.path ?? ""])).toEqual([
      ["ZH-SG-ADMIN-PORT-WORLD", "aws_security_group_rule.r", ""],
      ["ZH-SG-SSH-WORLD", "aws_security_group.g", "ingress[0]"],
      ["ZH-SG-SSH-WORLD", "aws_security_group_rule.r", ""],
      ["ZH-SG-SSH-WORLD", "aws_vpc_security_group_ingress_rule.i", ""],
      ["ZH-SG-DESCRIPTION", "aws_security_group.g", "description"],
      ["ZH-SG-DESCRIPTION", "aws_security_group.g", "ingress[1]"],
      ["ZH-SG-DESCRIPTION", "aws_security_group_rule.r", ""],
      ["ZH-SG-EGRESS-ALL", "aws_security_group.g", "egress[0]"],
      ["ZH-SG-EGRESS-ALL", "aws_vpc_security_group_egress_rule.e", ""],
      ["ZH-SG-HTTP-WORLD", "aws_security_group.g", "ingress[1]"],
      ["ZH-SG-HTTP-WORLD", "aws_security_group_rule.r", ""],
      ["ZH-SG-HTTP-WORLD", "aws_vpc_security_group_ingress_rule.i", ""],
    ]);
    // Restricted sources, specific egress, described rules: nothing.
    expect(
      check({
        aws_security_group: {
          g: {
            description: "app",
            ingress: [{ cidr_blocks: ["10.0.0.0/16"], from_port: 22, to_port: 22, protocol: "tcp", description: "ssh from vpc" }],
            egress: [{ cidr_blocks: ["0.0.0.0/0"], from_port: 443, to_port: 443, protocol: "tcp", description: "https out" }],
          },
        },
        aws_security_group_rule: { r: { type: "ingress", from_port: 5432, to_port: 5432, protocol: "tcp", source_security_group_id: "${aws_security_group.g.id}", description: "db" } },
      }),
    ).toEqual([]);
  });

  test("ZH-SG-ADMIN-PORT-WORLD: a database, broker or remote-desktop port open to the world, in every rule form and the default group", () => {
    const f = check({
      aws_vpc_security_group_ingress_rule: {
        pg: { security_group_id: "sg", ip_protocol: "tcp", from_port: 5432, to_port: 5432, cidr_ipv4: "0.0.0.0/0", description: "db" },
        pg_vpc: { security_group_id: "sg", ip_protocol: "tcp", from_port: 5432, to_port: 5432, cidr_ipv4: "10.0.0.0/16", description: "db from the vpc" },
        pg_sg: { security_group_id: "sg", ip_protocol: "tcp", from_port: 5432, to_port: 5432, referenced_security_group_id: "${aws_security_group.app.id}", description: "db from the app" },
      },
      aws_security_group_rule: { rdp: { type: "ingress", protocol: "6", from_port: 3389, to_port: 3389, ipv6_cidr_blocks: ["::/0"], security_group_id: "sg", description: "rdp" } },
      aws_security_group: { g: { description: "g", ingress: [{ protocol: "tcp", from_port: 6000, to_port: 6500, cidr_blocks: ["0.0.0.0/0"], description: "range" }, { protocol: "tcp", from_port: 443, to_port: 443, cidr_blocks: ["0.0.0.0/0"], description: "https" }] } },
      aws_default_security_group: { d: { vpc_id: "v", ingress: [{ protocol: "tcp", from_port: 22, to_port: 22, cidr_blocks: ["0.0.0.0/0"], description: "ssh" }, { protocol: "tcp", from_port: 3306, to_port: 3306, cidr_blocks: ["0.0.0.0/0"], description: "mysql" }] } },
    });
    expect(f.map((x) => [x.id, x.severity, x.address, x.path ?? "", x.message, x.checkov])).toEqual([
      ["ZH-SG-ADMIN-PORT-WORLD", "high", "aws_default_security_group.d", "ingress[1]", '"mysql" ingress rule allows tcp 3306-3306 from 0.0.0.0/0: 3306 MySQL', undefined],
      ["ZH-SG-ADMIN-PORT-WORLD", "high", "aws_security_group.g", "ingress[0]", '"range" ingress rule allows tcp 6000-6500 from 0.0.0.0/0: 6379 Redis', undefined],
      ["ZH-SG-ADMIN-PORT-WORLD", "high", "aws_security_group_rule.rdp", "", '"rdp" ingress rule allows 6 3389-3389 from ::/0: 3389 RDP', "CKV_AWS_25"],
      ["ZH-SG-ADMIN-PORT-WORLD", "high", "aws_vpc_security_group_ingress_rule.pg", "", '"db" ingress rule allows tcp 5432-5432 from 0.0.0.0/0: 5432 PostgreSQL', undefined],
      ["ZH-SG-SSH-WORLD", "high", "aws_default_security_group.d", "ingress[0]", '"ssh" ingress rule allows tcp 22-22 from 0.0.0.0/0', "CKV_AWS_24"],
    ]);
  });

  test("IAM: admin, star action, service wildcard, star resource with the unscopable allowlist", () => {
    const policy = (statements: object[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements });
    const f = check({
      aws_iam_role_policy: {
        admin: { policy: policy([{ Effect: "Allow", Action: "*", Resource: "*" }]) },
        // The same full administrator, written the other way IAM accepts.
        adminColon: { policy: policy([{ Effect: "Allow", Action: ["*:*"], Resource: ["*"] }]) },
        star: { policy: policy([{ Effect: "Allow", Action: ["*"], Resource: "arn:aws:s3:::b" }]) },
        s3: { policy: policy([{ Effect: "Allow", Action: ["s3:*"], Resource: ["${module.storage.bucket_arn}", "${module.storage.bucket_arn}/*"] }]) },
        wide: { policy: policy([{ Sid: "Logs", Effect: "Allow", Action: ["logs:CreateLogGroup", "ecr:GetAuthorizationToken"], Resource: "*" }]) },
      },
      aws_iam_policy: { deny: { policy: policy([{ Effect: "Deny", Action: "*", Resource: "*" }]) } },
    });
    expect(f.map((x) => [x.id, x.address, x.checkov ?? "-"])).toEqual([
      ["ZH-IAM-ADMIN", "aws_iam_role_policy.admin", "CKV_AWS_62"],
      ["ZH-IAM-ADMIN", "aws_iam_role_policy.adminColon", "CKV_AWS_62"],
      ["ZH-IAM-SERVICE-WILDCARD", "aws_iam_role_policy.s3", "-"],
      ["ZH-IAM-STAR-ACTION", "aws_iam_role_policy.star", "CKV_AWS_63"],
      ["ZH-IAM-STAR-RESOURCE", "aws_iam_role_policy.wide", "CKV_AWS_355"],
    ]);
    expect([f[4].path, f[4].message]).toEqual(["policy.Statement[0] (Logs)", 'allows logs:CreateLogGroup on "*"']);
    // Textract job actions and GetAuthorizationToken need "*"; scoped S3 actions on the bucket are fine.
    expect(
      check({
        aws_iam_role_policy: {
          ok: {
            policy: policy([
              { Effect: "Allow", Action: ["textract:StartDocumentAnalysis", "textract:GetDocumentAnalysis", "ecr:GetAuthorizationToken"], Resource: "*" },
              { Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject"], Resource: "${module.storage.bucket_arn}/*" },
            ]),
          },
        },
      }),
    ).toEqual([]);
  });

  test("IAM: NotAction, NotResource and a role's inline policies are checked as what they allow", () => {
    const policy = (statements: object[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements });
    const f = checkTerraform({
      resource: {
        aws_iam_role: {
          inline: { name: "r", assume_role_policy: "${data.aws_iam_policy_document.a.json}", inline_policy: [{ name: "ok", policy: policy([{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" }]) }, { name: "all", policy: policy([{ Effect: "Allow", Action: "*", Resource: "*" }]) }] },
        },
        aws_iam_role_policy: {
          notAction: { policy: policy([{ Effect: "Allow", NotAction: ["iam:*", "organizations:*"], Resource: "*" }]) },
          notResource: { policy: policy([{ Effect: "Allow", Action: "*", NotResource: "arn:aws:s3:::audit/*" }]) },
          notResourceScoped: { policy: policy([{ Effect: "Allow", Action: "sqs:SendMessage", NotResource: "arn:aws:sqs:*:*:other" }]) },
          denyNotAction: { policy: policy([{ Effect: "Deny", NotAction: "s3:GetObject", Resource: "*" }]) },
        },
      },
      data: { aws_iam_policy_document: { d: { statement: [{ not_actions: ["iam:*"], resources: ["*"] }] } } },
    });
    expect(f.map((x) => [x.id, x.address, x.path, x.message, x.checkov])).toEqual([
      ["ZH-IAM-ADMIN", "aws_iam_role.inline", "inline_policy[1].policy.Statement[0]", 'allows "*" on "*"', "CKV_AWS_62"],
      ["ZH-IAM-ADMIN", "aws_iam_role_policy.notResource", "policy.Statement[0]", 'allows "*" on every resource but arn:aws:s3:::audit/* (NotResource)', "CKV_AWS_62"],
      ["ZH-IAM-STAR-ACTION", "aws_iam_role_policy.notAction", "policy.Statement[0]", "allows every action but iam:*, organizations:* (NotAction) on *", "CKV_AWS_63"],
      ["ZH-IAM-STAR-ACTION", "data.aws_iam_policy_document.d", "statement[0]", "allows every action but iam:* (NotAction) on *", "CKV_AWS_49"],
      ["ZH-IAM-STAR-RESOURCE", "aws_iam_role_policy.notResourceScoped", "policy.Statement[0]", "allows sqs:SendMessage on every resource but arn:aws:sqs:*:*:other (NotResource)", "CKV_AWS_355"],
    ]);
  });

  test("IAM: AWS managed policies attached by ARN are judged by what they allow (AdministratorAccess is ZH-IAM-ADMIN)", () => {
    const admin = "arn:aws:iam::aws:policy/AdministratorAccess";
    const f = checkTerraform({
      resource: {
        aws_iam_role_policy_attachment: {
          admin: { role: "r", policy_arn: admin },
          partition: { role: "r", policy_arn: "arn:${data.aws_partition.current.partition}:iam::aws:policy/AdministratorAccess" },
          via_data: { role: "r", policy_arn: "${data.aws_iam_policy.admin.arn}" },
          read_only: { role: "r", policy_arn: "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly" },
          own: { role: "r", policy_arn: "${aws_iam_policy.p.arn}" },
          same_name_own_account: { role: "r", policy_arn: "arn:aws:iam::123456789012:policy/AdministratorAccess" },
        },
        aws_iam_user_policy_attachment: { power: { user: "u", policy_arn: "arn:aws:iam::aws:policy/PowerUserAccess" } },
        aws_iam_group_policy_attachment: { iam: { group: "g", policy_arn: "arn:aws:iam::aws:policy/IAMFullAccess" } },
        aws_iam_policy_attachment: { s3: { name: "s3", roles: ["r"], policy_arn: "arn:aws:iam::aws:policy/AmazonS3FullAccess" } },
        aws_iam_role: { managed: { assume_role_policy: "${data.aws_iam_policy_document.a.json}", managed_policy_arns: ["arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy", admin] } },
        aws_iam_role_policy_attachments_exclusive: { exclusive: { role_name: "r", policy_arns: [admin] } },
      },
      data: { aws_iam_policy: { admin: { name: "AdministratorAccess" } } },
    });
    expect(f.map((x) => [x.id, x.address, x.path, x.message, x.checkov])).toEqual([
      ["ZH-IAM-ADMIN", "aws_iam_role.managed", "managed_policy_arns[1]", 'attaches the AWS managed policy AdministratorAccess, which allows "*" on "*"', "CKV_AWS_274"],
      ["ZH-IAM-ADMIN", "aws_iam_role_policy_attachment.admin", "policy_arn", 'attaches the AWS managed policy AdministratorAccess, which allows "*" on "*"', "CKV_AWS_274"],
      ["ZH-IAM-ADMIN", "aws_iam_role_policy_attachment.partition", "policy_arn", 'attaches the AWS managed policy AdministratorAccess, which allows "*" on "*"', "CKV_AWS_274"],
      ["ZH-IAM-ADMIN", "aws_iam_role_policy_attachment.via_data", "policy_arn", 'attaches the AWS managed policy AdministratorAccess, which allows "*" on "*"', "CKV_AWS_274"],
      ["ZH-IAM-ADMIN", "aws_iam_role_policy_attachments_exclusive.exclusive", "policy_arns[0]", 'attaches the AWS managed policy AdministratorAccess, which allows "*" on "*"', "CKV_AWS_274"],
      ["ZH-IAM-SERVICE-WILDCARD", "aws_iam_group_policy_attachment.iam", "policy_arn", 'attaches the AWS managed policy IAMFullAccess, which allows every action of its service on "*"', undefined],
      ["ZH-IAM-SERVICE-WILDCARD", "aws_iam_policy_attachment.s3", "policy_arn", 'attaches the AWS managed policy AmazonS3FullAccess, which allows every action of its service on "*"', undefined],
      ["ZH-IAM-STAR-ACTION", "aws_iam_user_policy_attachment.power", "policy_arn", 'attaches the AWS managed policy PowerUserAccess, which allows every action but iam:*, organizations:*, account:* (NotAction) on "*"', undefined],
    ]);
    expect(evaluatePolicy({ resource: { aws_iam_role_policy_attachment: { admin: { role: "r", policy_arn: admin } } } }).blocking.map((x) => x.id)).toEqual(["ZH-IAM-ADMIN"]);
  });

  test("IAM: aws_iam_policy_document data sources, with the data-source checkov ids", () => {
    const f = checkTerraform({
      data: {
        aws_iam_policy_document: {
          d: { statement: [{ actions: ["*"], resources: ["*"] }, { actions: ["sqs:SendMessage"], resources: ["*"] }] },
          assume: { statement: [{ actions: ["sts:AssumeRole"], principals: [{ type: "Service", identifiers: ["ecs-tasks.amazonaws.com"] }] }] },
        },
      },
    });
    expect(f.map((x) => [x.id, x.address, x.checkov])).toEqual([
      ["ZH-IAM-ADMIN", "data.aws_iam_policy_document.d", "CKV_AWS_1"],
      ["ZH-IAM-STAR-RESOURCE", "data.aws_iam_policy_document.d", "CKV_AWS_356"],
    ]);
    // The JSON documents a data source merges are checked as its own.
    const merged = checkTerraform({
      data: {
        aws_iam_policy_document: {
          m: {
            source_policy_documents: [JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }), "${data.aws_iam_policy_document.d.json}"],
            override_policy_documents: ['${jsonencode({"Statement" = [{"Sid" = "S3", "Effect" = "Allow", "Action" = "s3:*", "Resource" = "arn:aws:s3:::b/*"}]})}'],
            statement: [{ actions: ["s3:GetObject"], resources: ["arn:aws:s3:::b/*"] }],
          },
          d: { statement: [{ actions: ["sqs:SendMessage"], resources: ["arn:aws:sqs:us-east-1:123456789012:q"] }] },
        },
      },
    });
    expect(merged.map((x) => [x.id, x.address, x.path, x.message, x.checkov])).toEqual([
      ["ZH-IAM-ADMIN", "data.aws_iam_policy_document.m", "source_policy_documents[0].Statement[0]", 'allows "*" on "*"', "CKV_AWS_1"],
      ["ZH-IAM-SERVICE-WILDCARD", "data.aws_iam_policy_document.m", "override_policy_documents[0].Statement[0] (S3)", "allows s3:* on arn:aws:s3:::b/*", undefined],
    ]);
  });

  test("ZH-IAM-TRUST-ANYONE: a role anyone may assume, in a role's trust policy (JSON or Fn.jsonencode) or a policy document data source", () => {
    const trust = (principal: unknown, extra: object = {}) => JSON.stringify({ Version: "2012-10-17", Statement: [{ Sid: "T", Effect: "Allow", Principal: principal, Action: "sts:AssumeRole", ...extra }] });
    const f = checkTerraform({
      resource: {
        aws_iam_role: {
          star: { assume_role_policy: trust("*") },
          aws_list: { assume_role_policy: '${jsonencode({"Statement" = [{"Effect" = "Allow", "Principal" = {"AWS" = ["arn:aws:iam::123456789012:root", "*"]}, "Action" = "sts:AssumeRole"}]})}' },
          conditioned: { assume_role_policy: trust({ AWS: "*" }, { Condition: { StringEquals: { "sts:ExternalId": "x" } } }) },
          mfa_only: { assume_role_policy: trust({ AWS: "*" }, { Condition: { Bool: { "aws:MultiFactorAuthPresent": "true" } } }) },
          service: { assume_role_policy: trust({ Service: "ecs-tasks.amazonaws.com" }) },
          from_data: { assume_role_policy: "${data.aws_iam_policy_document.open.json}" },
          from_var: { assume_role_policy: "${var.trust}" },
        },
      },
      data: {
        aws_iam_policy_document: {
          open: { statement: [{ sid: "Anyone", actions: ["sts:AssumeRole", "sts:TagSession"], principals: [{ type: "AWS", identifiers: ["*"] }] }] },
          narrowed: { statement: [{ actions: ["sts:AssumeRole"], principals: [{ type: "AWS", identifiers: ["*"] }], condition: [{ test: "StringEquals", variable: "aws:PrincipalOrgID", values: ["o-1"] }] }] },
          tls_only: { statement: [{ actions: ["sts:AssumeRole"], principals: [{ type: "AWS", identifiers: ["*"] }], condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["true"] }] }] },
          denied: { statement: [{ effect: "Deny", actions: ["sts:AssumeRole"], principals: [{ type: "*", identifiers: ["*"] }] }] },
          resource_policy: { statement: [{ actions: ["sqs:SendMessage"], resources: ["${aws_sqs_queue.q.arn}"], principals: [{ type: "AWS", identifiers: ["*"] }] }] },
        },
      },
    });
    expect(f.filter((x) => x.id === "ZH-IAM-TRUST-ANYONE" || x.id === "ZH-JSON-NOT-READ").map((x) => [x.id, x.severity, x.address, x.path, x.message, x.checkov])).toEqual([
      ["ZH-IAM-TRUST-ANYONE", "critical", "aws_iam_role.aws_list", "assume_role_policy.Statement[0]", 'allows sts:AssumeRole to any principal ("*") with no Condition', "CKV_AWS_60"],
      ["ZH-IAM-TRUST-ANYONE", "critical", "aws_iam_role.mfa_only", "assume_role_policy.Statement[0] (T)", 'allows sts:AssumeRole to any principal ("*") with a Condition on aws:MultiFactorAuthPresent only, which narrows no principal', "CKV_AWS_60"],
      ["ZH-IAM-TRUST-ANYONE", "critical", "aws_iam_role.star", "assume_role_policy.Statement[0] (T)", 'allows sts:AssumeRole to any principal ("*") with no Condition', "CKV_AWS_60"],
      ["ZH-IAM-TRUST-ANYONE", "critical", "data.aws_iam_policy_document.open", "statement[0] (Anyone)", 'allows sts:AssumeRole to any principal ("*") with no condition', "CKV_AWS_60"],
      ["ZH-IAM-TRUST-ANYONE", "critical", "data.aws_iam_policy_document.tls_only", "statement[0]", 'allows sts:AssumeRole to any principal ("*") with a condition on aws:SecureTransport only, which narrows no principal', "CKV_AWS_60"],
      ["ZH-JSON-NOT-READ", "medium", "aws_iam_role.from_var", "assume_role_policy", "assume_role_policy is the expression var.trust, which the checks cannot read before apply", undefined],
    ]);
    // Production's three roles trust services only.
    expect(checkTerraform(synthProduction()).filter((x) => x.id === "ZH-IAM-TRUST-ANYONE" || x.id === "ZH-JSON-NOT-READ")).toEqual([]);
  });

  test("ZH-ALARM-NO-ACTIONS: empty, missing or disabled actions", () => {
    expect(
      ids(
        check({
          aws_cloudwatch_metric_alarm: {
            empty: { alarm_actions: [] },
            missing: {},
            disabled: { alarm_actions: ["${aws_sns_topic.t.arn}"], actions_enabled: false },
          },
        }),
      ),
    ).toEqual([
      ["ZH-ALARM-NO-ACTIONS", "aws_cloudwatch_metric_alarm.disabled"],
      ["ZH-ALARM-NO-ACTIONS", "aws_cloudwatch_metric_alarm.empty"],
      ["ZH-ALARM-NO-ACTIONS", "aws_cloudwatch_metric_alarm.missing"],
    ]);
    expect(check({ aws_cloudwatch_metric_alarm: { a: { alarm_actions: ["${aws_sns_topic.t.arn}"] }, b: { alarm_actions: "${var.actions}" } } })).toEqual([]);
  });

  test("ZH-ALARM-TOPIC-NO-SUBSCRIBER: every action a topic of the configuration that nothing here subscribes to", () => {
    const alarms = {
      only_t: { alarm_actions: ["${aws_sns_topic.t.arn}"] },
      t_and_outside: { alarm_actions: ["${aws_sns_topic.t.arn}", "arn:aws:sns:us-east-1:123456789012:oncall"] },
      subscribed: { alarm_actions: ["${aws_sns_topic.s.arn}"] },
      variable: { alarm_actions: "${var.actions}" },
    };
    const f = check({
      aws_sns_topic: { t: { name: "t" }, s: { name: "s" } },
      aws_sns_topic_subscription: { e: { topic_arn: "${aws_sns_topic.s.arn}", protocol: "email", endpoint: "oncall@zivohealth.ai" } },
      aws_cloudwatch_metric_alarm: alarms,
    });
    expect(f.map((x) => [x.severity, x.id, x.address, x.message])).toEqual([
      ["low", "ZH-ALARM-TOPIC-NO-SUBSCRIBER", "aws_cloudwatch_metric_alarm.only_t", "alarm_actions notify only aws_sns_topic.t, which no aws_sns_topic_subscription here subscribes to"],
    ]);
    // A topic the configuration does not declare is not judged (subscribed or not, it is not known here).
    expect(check({ aws_cloudwatch_metric_alarm: { a: { alarm_actions: ["${aws_sns_topic.elsewhere.arn}"] } } })).toEqual([]);
  });

  test("secret scan: URL credentials, AWS keys, private keys, random literals under secret names", () => {
    const f = checkTerraform({
      variable: {
        rabbit: { default: "amqp://guest:guest@rabbitmq:5672//", sensitive: true },
        no_default: { sensitive: true, type: "string" },
        api_token: { default: "hQ7vR2kZ9xWm4LpT8sNc" },
        empty_secret: { default: "" },
      },
      module: { m: { source: "./m", db_url: "postgres://app:${var.pw}@db:5432/app", key_id: "AKIAIOSFODNN7EXAMPLE" } },
      resource: { aws_instance: { i: { user_data: "-----BEGIN RSA PRIVATE KEY-----\nMIIE...\n-----END RSA PRIVATE KEY-----" } } },
      locals: { "odd.key": "https://user:p4ss@example.com/x" },
    });
    expect(f.map((x) => [x.id, x.address, x.checkov])).toEqual([
      ["ZH-SECRET-AWS-ACCESS-KEY", "module.m.key_id", "CKV_SECRET_2"],
      ["ZH-SECRET-PRIVATE-KEY", "resource.aws_instance.i.user_data", "CKV_SECRET_13"],
      ["ZH-SECRET-HIGH-ENTROPY", "variable.api_token.default", "CKV_SECRET_6"],
      ["ZH-SECRET-URL-CREDENTIALS", 'locals["odd.key"]', "CKV_SECRET_4"],
      ["ZH-SECRET-URL-CREDENTIALS", "variable.rabbit.default", "CKV_SECRET_4"],
    ]);
    expect(JSON.stringify(f)).not.toMatch(/guest|p4ss|hQ7vR2kZ9xWm4LpT8sNc/);
    // Not random-looking is no proof: the HCL passed the database password to the ssm module as a literal.
    const literal = checkTerraform({
      module: { ssm: { source: "./ssm", db_password_plain: "REDACTED", reminders_fcm_credentials_json: "${var.reminders_fcm_credentials_json}", app_secret_key_override: "" } },
      resource: {
        aws_ssm_parameter: {
          p: { name: "/zivohealth/production/smtp/password", type: "SecureString", value: "Summer2024!" },
          // The provider's insecure_value (type String, shown in plan output): the same literal under the parameter's name.
          plain: { name: "/zivohealth/production/db/password", type: "String", insecure_value: "Summer2024!" },
        },
      },
      variable: { api_token: { default: "changeme" }, pw_suffix: { default: "x-${var.pw}" } },
    });
    expect(literal.map((x) => [x.id, x.severity, x.address, x.message])).toEqual([
      ["ZH-SECRET-LITERAL", "high", "module.ssm.db_password_plain", '"db_password_plain" holds a literal value (8 characters) instead of a reference'],
      ["ZH-SECRET-LITERAL", "high", "resource.aws_ssm_parameter.p.value", '"/zivohealth/production/smtp/password" holds a literal value (11 characters) instead of a reference'],
      ["ZH-SECRET-LITERAL", "high", "resource.aws_ssm_parameter.plain.insecure_value", '"/zivohealth/production/db/password" holds a literal value (11 characters) instead of a reference'],
      ["ZH-SECRET-LITERAL", "high", "variable.api_token.default", '"api_token" holds a literal value (8 characters) instead of a reference'],
    ]);
    expect(JSON.stringify(literal)).not.toMatch(/REDACTED|Summer2024|changeme/);
    // References, low-entropy words, paths and `//` metadata are not secrets.
    expect(
      checkTerraform({
        "//": { metadata: { note: "amqp://guest:guest@rabbitmq:5672//" } },
        variable: { pw: { default: "${var.other}" }, latest: { default: "latest" } },
        module: { m: { db_password_ssm_key: "/zivohealth/production/db/password", app_secret_key_override: "${var.app_secret_key_override}", url: "https://app.zivohealth.com" } },
      }),
    ).toEqual([]);
  });

  test("secret scan: a URL's scheme is read from the first letter of its run, in linear time", () => {
    const scan = (user_data: string) => checkTerraform({ resource: { aws_instance: { i: { user_data } } } }).map((x) => x.message);
    expect(scan("fetch 1.git+ssh://deploy:pa55@git.example.com/x")).toEqual(["git+ssh:// URL with a literal user:password"]);
    expect(scan("x=-a.b-c://u:pa55@h")).toEqual(["a.b-c:// URL with a literal user:password"]);
    expect(scan("_a.b://u:pa55@h a.b://u@h")).toEqual(["b:// URL with a literal user:password"]);
    // Not a speed goal: a bound on backtracking. Each letter after a `.` began a scheme read to the run's end:
    // this string took 24 s here (quadratic); now about 20 ms. 5 s leaves a hundredfold for a loaded machine.
    const start = Date.now();
    expect(scan("a.".repeat(100_000))).toEqual([]);
    expect(Date.now() - start).toBeLessThan(5_000);
  });

  test("findings are sorted: severity, then id, address, path", () => {
    const f = check({
      aws_sqs_queue: { b: {}, a: {} },
      aws_security_group: { g: { description: "x", ingress: [{ cidr_blocks: ["0.0.0.0/0"], from_port: 22, to_port: 22, protocol: "tcp" }] } },
    });
    expect(f.map((x) => `${x.severity} ${x.id} ${x.address}`)).toEqual([
      "high ZH-SG-SSH-WORLD aws_security_group.g",
      "medium ZH-SQS-ENCRYPTION aws_sqs_queue.a",
      "medium ZH-SQS-ENCRYPTION aws_sqs_queue.b",
      "low ZH-SG-DESCRIPTION aws_security_group.g",
    ]);
    expect(check({ aws_sqs_queue: { a: {}, b: {} } })).toEqual(check({ aws_sqs_queue: { b: {}, a: {} } }));
  });
});

// ---------------------------------------------------------------------------
// configuration

describe("configuration", () => {
  test("defaults: block critical, a year of logs, no exemptions", () => {
    expect(resolvePolicyConfig()).toEqual({ blockingSeverities: ["critical"], logRetentionFloorDays: 365, exemptions: [] });
    expect(DEFAULT_POLICY_CONFIG.blockingSeverities).toEqual(["critical"]);
  });

  test("invalid configurations are rejected with every problem named", () => {
    expect(() => resolvePolicyConfig({ blockingSeverities: ["urgent" as never], logRetentionFloorDays: -1, exemptions: [{ id: "X", address: "a", reason: " " }] })).toThrow(
      /blockingSeverities\[0\][\s\S]*logRetentionFloorDays[\s\S]*exemptions\[0\]\.reason/,
    );
  });

  test("exemptions move matching findings aside with their reason; blocking follows the severities", () => {
    const d = doc({ aws_sqs_queue: { a: {}, b: {} } });
    const r = evaluatePolicy(d, resolvePolicyConfig({ blockingSeverities: ["medium"], exemptions: [{ id: "ZH-SQS-ENCRYPTION", address: "aws_sqs_queue.a", reason: "holds no data" }] }));
    expect(ids(r.findings)).toEqual([["ZH-SQS-ENCRYPTION", "aws_sqs_queue.b"]]);
    expect(r.exempted.map((f) => [f.address, f.reason])).toEqual([["aws_sqs_queue.a", "holds no data"]]);
    expect(r.blocking).toHaveLength(1);
    expect(r.counts).toEqual({ critical: 0, high: 0, medium: 1, low: 0 });
    expect(evaluatePolicy(d).blocking).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// the stacks

describe("the faithful production stack", () => {
  test("raises exactly these findings", () => {
    const f = checkTerraform(synthProduction());
    expect(f.map((x) => [x.severity, x.id, x.address, x.path ?? ""])).toEqual([
      ["high", "ZH-ECS-ENV-SECRET", "aws_ecs_task_definition.ml_worker_ml_worker", "container_definitions[ml-worker].environment.SECRET_KEY"],
      ["high", "ZH-ECS-ENV-SECRET", "aws_ecs_task_definition.ml_worker_ml_worker", "container_definitions[ml-worker].environment.SMTP_PASSWORD"],
      ["high", "ZH-IAM-SERVICE-WILDCARD", "aws_iam_role_policy.iam_ecs_task_s3", "policy.Statement[0]"],
      ["high", "ZH-IAM-SERVICE-WILDCARD", "aws_iam_role_policy.iam_s3_textract_inline", "policy.Statement[0]"],
      ["high", "ZH-SECRET-URL-CREDENTIALS", "variable.reminder_rabbitmq_url.default", ""],
      ["high", "ZH-SG-SSH-WORLD", "aws_security_group.ec2_existing_vpc", "ingress[0]"],
      ["medium", "ZH-ALARM-NO-ACTIONS", "aws_cloudwatch_metric_alarm.ml_worker_dlq_messages", ""],
      ["medium", "ZH-ALARM-NO-ACTIONS", "aws_cloudwatch_metric_alarm.ml_worker_queue_depth_high", ""],
      ["medium", "ZH-ECR-MUTABLE-TAGS", "aws_ecr_repository.ecr_backend", ""],
      ["medium", "ZH-ECS-PUBLIC-IP", "aws_ecs_service.ml_worker_ml_worker", ""],
      ["medium", "ZH-SQS-ENCRYPTION", "aws_sqs_queue.ml_worker_ml_worker", ""],
      ["medium", "ZH-SQS-ENCRYPTION", "aws_sqs_queue.ml_worker_ml_worker_dlq", ""],
      ["low", "ZH-LOG-KMS", "aws_cloudwatch_log_group.ml_worker_ml_worker", ""],
      ["low", "ZH-LOG-RETENTION", "aws_cloudwatch_log_group.ml_worker_ml_worker", ""],
      ["low", "ZH-SG-DESCRIPTION", "aws_security_group.ml_worker_ml_worker", "egress[0]"],
      ["low", "ZH-SG-EGRESS-ALL", "aws_security_group.ec2_existing_vpc", "egress[0]"],
      ["low", "ZH-SG-EGRESS-ALL", "aws_security_group.ml_worker_ml_worker", "egress[0]"],
      ["low", "ZH-SG-HTTP-WORLD", "aws_security_group.ec2_existing_vpc", "ingress[1]"],
    ]);
    // Nothing critical: the default configuration does not block production.
    expect(evaluatePolicy(synthProduction()).blocking).toEqual([]);
  });

  test("the Textract statement (Resource \"*\" for job actions) and SSM/SQS statements are not findings", () => {
    const f = checkTerraform(synthProduction());
    expect(f.filter((x) => x.id === "ZH-IAM-STAR-RESOURCE")).toEqual([]);
    expect(f.filter((x) => x.address.startsWith("aws_iam_role_policy.iam_ssm") || x.address === "aws_iam_role_policy.iam_ecs_task_sqs")).toEqual([]);
  });
});

describe("MlWorker hardened props", () => {
  const workerIds = ["ZH-SQS-ENCRYPTION", "ZH-LOG-KMS", "ZH-LOG-RETENTION", "ZH-ALARM-NO-ACTIONS", "ZH-ALARM-TOPIC-NO-SUBSCRIBER"];

  test("the defaults raise SQS encryption, log KMS/retention and alarm-actions findings", () => {
    const f = checkTerraform(synthWorker()).filter((x) => workerIds.includes(x.id));
    expect(ids(f)).toEqual([
      ["ZH-ALARM-NO-ACTIONS", "aws_cloudwatch_metric_alarm.ml_worker_dlq_messages"],
      ["ZH-ALARM-NO-ACTIONS", "aws_cloudwatch_metric_alarm.ml_worker_queue_depth_high"],
      ["ZH-SQS-ENCRYPTION", "aws_sqs_queue.ml_worker_ml_worker"],
      ["ZH-SQS-ENCRYPTION", "aws_sqs_queue.ml_worker_ml_worker_dlq"],
      ["ZH-LOG-KMS", "aws_cloudwatch_log_group.ml_worker_ml_worker"],
      ["ZH-LOG-RETENTION", "aws_cloudwatch_log_group.ml_worker_ml_worker"],
    ]);
  });

  test("all hardened props on: none of them is left", () => {
    const f = checkTerraform(synthWorker(hardened));
    expect(f.filter((x) => workerIds.includes(x.id))).toEqual([]);
    // What hardening does not address stays reported.
    expect(idsOf(f)).toEqual(expect.arrayContaining(["ZH-ECS-ENV-SECRET", "ZH-ECS-PUBLIC-IP"]));
  });

  test("alarmNotifications {} (a topic, no subscription): each alarm is ZH-ALARM-TOPIC-NO-SUBSCRIBER (low), no longer none", () => {
    const f = checkTerraform(synthWorker({ ...hardened, alarmNotifications: {} }));
    expect(f.filter((x) => workerIds.includes(x.id)).map((x) => [x.severity, x.id, x.address])).toEqual([
      ["low", "ZH-ALARM-TOPIC-NO-SUBSCRIBER", "aws_cloudwatch_metric_alarm.ml_worker_dlq_messages"],
      ["low", "ZH-ALARM-TOPIC-NO-SUBSCRIBER", "aws_cloudwatch_metric_alarm.ml_worker_queue_depth_high"],
    ]);
  });

  test("KMS-encrypted queues pass too", () => {
    const f = checkTerraform(synthWorker({ queueEncryption: { type: "kms", kmsKeyId: "alias/sqs" } }));
    expect(f.filter((x) => x.id === "ZH-SQS-ENCRYPTION")).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// the Aspect

const warnings = (c: IConstruct) => c.node.metadata.filter((m) => m.type === "@cdktf/warn").map((m) => String(m.data));
const errors = (c: IConstruct) => c.node.metadata.filter((m) => m.type === "@cdktf/error").map((m) => String(m.data));

describe("PolicyAspect", () => {
  test("annotates the flagged constructs at synth, once, without changing the synthesized JSON", () => {
    const stack = new ZivoHealthStack(Testing.app(), "production", production);
    const aspect = stack.policy;
    const first = Testing.synth(stack);
    expect(Testing.synth(stack)).toBe(first); // a second synth reuses the first evaluation
    expect(aspect.resultFor(stack)?.findings).toHaveLength(18);

    const queue = warnings(stack.mlWorker.queue);
    expect(queue).toHaveLength(1);
    expect(queue[0]).toMatch(/^\[ZH-SQS-ENCRYPTION\] \(medium, CKV_AWS_27\) aws_sqs_queue\.ml_worker_ml_worker: .*Fix: /);
    expect(warnings(stack.mlWorker.taskDefinition)).toHaveLength(2);
    expect(warnings(stack.ecr.repository).map((w) => w.slice(0, 21))).toEqual(["[ZH-ECR-MUTABLE-TAGS]"]);
    // The variable finding lands on the variable construct.
    const rabbit = stack.node.findAll().find((c) => c.node.id === "reminder_rabbitmq_url")!;
    expect(warnings(rabbit)).toEqual([expect.stringContaining("[ZH-SECRET-URL-CREDENTIALS]")]);
    const all = stack.node.findAll().flatMap(warnings).filter((w) => w.startsWith("[ZH-"));
    expect(all).toHaveLength(18);
    expect(stack.node.findAll().flatMap(errors)).toEqual([]);
  });

  test("a finding inside a value lands on the construct whose address it starts with, followed by a [ (or a .)", () => {
    const stack = new TerraformStack(Testing.app(), "owners");
    attachPolicy(stack);
    const key = new TerraformLocal(stack, "key", "plain");
    const keys = new TerraformLocal(stack, "keys", ["AKIAIOSFODNN7EXAMPLE"]); // AWS's documented example key id
    Testing.synth(stack);
    expect(warnings(keys)).toEqual([expect.stringMatching(/^\[ZH-SECRET-AWS-ACCESS-KEY\] .*locals\.keys\[0\]: /)]);
    expect(warnings(key)).toEqual([]); // `locals.key` begins the address too: the longest owner is the one
    expect(warnings(stack)).toEqual([]);
  });

  test("full synthesis succeeds by default, and fails with failSynth on a blocking severity", () => {
    const ok = new ZivoHealthStack(Testing.app(), "production", { ...production, policy: { config: { blockingSeverities: ["high"] } } });
    expect(() => Testing.fullSynth(ok)).not.toThrow();

    const strict = new ZivoHealthStack(Testing.app(), "production", {
      ...production,
      policy: { config: { blockingSeverities: ["high"] }, failSynth: true },
    });
    expect(() => Testing.fullSynth(strict)).toThrow(/ZH-SG-SSH-WORLD/);
    expect(strict.node.findAll().flatMap(errors)).toHaveLength(6);

    // failSynth with the default (critical only): production has no critical finding.
    const deflt = new ZivoHealthStack(Testing.app(), "production", { ...production, policy: { failSynth: true } });
    expect(() => Testing.fullSynth(deflt)).not.toThrow();
  });

  test("exempted findings become info annotations", () => {
    const stack = new ZivoHealthStack(Testing.app(), "production", {
      ...production,
      policy: { config: { exemptions: [{ id: "ZH-ECS-PUBLIC-IP", address: "aws_ecs_service.ml_worker_ml_worker", reason: "public subnets, no NAT" }] } },
    });
    Testing.synth(stack);
    const service = stack.mlWorker.service.node.metadata;
    expect(service.filter((m) => m.type === "@cdktf/warn")).toEqual([]);
    expect(service.filter((m) => m.type === "@cdktf/info").map((m) => m.data)).toEqual([expect.stringContaining("Reason: public subnets, no NAT")]);
  });

  test("an environment's policy settings are validated with the rest of its configuration, each field named", () => {
    const bad = (policy: unknown) => () => new ZivoHealthStack(Testing.app(), "production", { ...production, policy } as never);
    expect(bad({ config: { blockingSeverities: "high" }, failSynth: "yes" })).toThrow(
      [
        "Invalid configuration of stack 'production':",
        "  - policy.config.blockingSeverities must be a list of severities (critical, high, medium, low)",
        '  - policy.failSynth must be true or false (got "yes")',
      ].join("\n"),
    );
    expect(bad({ config: { exemptions: [{ id: "ZH-ECS-PUBLIC-IP", address: "aws_ecs_service.ml_worker_ml_worker" }], logRetentionFloorDays: -1 } })).toThrow(
      [
        "  - policy.config.logRetentionFloorDays must be a whole number of days, 0 or more (got -1)",
        "  - policy.config.exemptions[0].reason must be a non-empty string",
      ].join("\n"),
    );
    expect(bad({ config: "strict" })).toThrow('  - policy.config must be an object (got "strict")');
    expect(bad(["high"])).toThrow('  - policy must be an object (got ["high"])');
  });

  test("attachPolicy twice on one stack is refused; an invalid config is refused", () => {
    const stack = new TerraformStack(Testing.app(), "s");
    attachPolicy(stack);
    expect(() => attachPolicy(stack)).toThrow(/already has a PolicyAspect/);
    expect(() => new PolicyAspect({ logRetentionFloorDays: 1.5 })).toThrow(/logRetentionFloorDays/);
  });

  test("a stack that cannot be resolved gets a warning, not a crash in the aspect", () => {
    const stack = new TerraformStack(Testing.app(), "s");
    const aspect = new PolicyAspect();
    (stack as unknown as { toTerraform: () => never }).toTerraform = () => {
      throw new Error("boom");
    };
    aspect.visit(stack);
    expect(warnings(stack)).toEqual([expect.stringContaining("boom")]);
  });
});

// ---------------------------------------------------------------------------
// the CLI

describe("npm run policy (commands/policy.ts main)", () => {
  let dir: string;
  let out: string;
  let err: string;
  const io = () => ({ stdout: (t: string) => void (out += t), stderr: (t: string) => void (err += t), cwd: dir });
  const catalog = (env: Partial<EnvironmentConfig> = {}) => ({ environments: { production: { ...production, ...env } }, reviewEnvironments: { "production-hardened": productionHardened } });
  const run = (...argv: string[]) => main(argv, io());
  const runWith = (env: Partial<EnvironmentConfig>, ...argv: string[]) => main(argv, io(), catalog(env));
  const stackFile = path.join("cdktf.out", "stacks", "production", "cdk.tf.json");

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "policy-cli-"));
    fs.mkdirSync(path.join(dir, "cdktf.out", "stacks", "production"), { recursive: true });
    // cdk.tf.json as npm run synth writes it, with cdktf's "//" metadata (Testing.synth drops it).
    const synthesized = JSON.parse(synthesize({ production }, { outdir: null })[0].text);
    // A stale cdktf.out: a synthesis from before a change that left nothing to find.
    fs.writeFileSync(path.join(dir, stackFile), JSON.stringify({ ...synthesized, resource: {}, variable: {} }));
    fs.writeFileSync(path.join(dir, "production.json"), JSON.stringify(synthesized));
    fs.writeFileSync(path.join(dir, "other-stack.json"), JSON.stringify({ ...synthesized, "//": { metadata: { stackName: "no-such-stack", version: "0.21.0" } } }));
    fs.copyFileSync(path.join(__dirname, "..", "package.json"), path.join(dir, "package.json"));
    fs.copyFileSync(path.join(__dirname, "../../shared/fixtures/existing-production.tfstate"), path.join(dir, "terraform.tfstate"));
    fs.writeFileSync(path.join(dir, "broken.json"), "{");
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => {
    out = "";
    err = "";
  });

  test("production, synthesized now from the sources: a table, counts per severity, exit 0 (nothing critical)", () => {
    expect(run()).toBe(0);
    expect(out.split("\n")[0]).toBe("Policy check of stack production (synthesized now from the sources): 18 findings");
    expect(out).toMatch(/SEVERITY\s+ID\s+CHECKOV\s+ADDRESS\s+FIX/);
    expect(out).toMatch(/high\s+ZH-SG-SSH-WORLD\s+CKV_AWS_24\s+aws_security_group\.ec2_existing_vpc \(ingress\[0\]\)/);
    expect(out).toContain("critical: 0, high: 6, medium: 6, low: 6 (total 18)");
    expect(out).toContain("Blocking severities: critical (stack configuration) -> no blocking finding, PASS");
    expect(out).not.toContain("guest:guest");
    expect(err).toBe("");
  });

  test("obeys the stack's own blocking severities: exit 1 when the configuration blocks high", () => {
    expect(runWith({ policy: { config: { blockingSeverities: ["high"] } } })).toBe(1);
    expect(out).toContain("Blocking severities: high (stack configuration) -> 6 blocking findings, FAIL");
  });

  test("obeys the stack's own exemptions", () => {
    const exemptions = [{ id: "ZH-ECS-PUBLIC-IP", address: "aws_ecs_service.ml_worker_ml_worker", reason: "public subnets, no NAT" }];
    expect(runWith({ policy: { config: { exemptions } } }, "--json")).toBe(0);
    const report = JSON.parse(out);
    expect(report.total).toBe(17);
    expect(report.exempted.map((f: Finding & { reason: string }) => [f.id, f.address, f.reason])).toEqual([
      ["ZH-ECS-PUBLIC-IP", "aws_ecs_service.ml_worker_ml_worker", "public subnets, no NAT"],
    ]);
  });

  test("--blocking only tightens, and says so", () => {
    expect(run("--blocking=high")).toBe(1);
    expect(out).toContain("Blocking severities: critical (stack configuration) + high (--blocking) -> 6 blocking findings, FAIL");
    out = "";
    expect(runWith({ policy: { config: { blockingSeverities: ["high"] } } }, "--blocking", "high")).toBe(1);
    expect(out).toContain("Blocking severities: high (stack configuration) -> 6 blocking findings, FAIL");
  });

  test("--blocking none is refused: fewer blocking severities are a configuration change", () => {
    expect(runWith({ policy: { config: { blockingSeverities: ["high"] } } }, "--blocking", "none")).toBe(2);
    expect(err).toBe(
      "error: --blocking adds severities to those the stack's policy configuration blocks, it cannot remove them; " +
        `to block fewer, change policy.config.blockingSeverities in config/environments.ts\n${USAGE}`,
    );
  });

  test("--json", () => {
    expect(run("--json", "--stack", "production", "--blocking", "high")).toBe(1);
    const report = JSON.parse(out);
    expect(report).toEqual(
      expect.objectContaining({
        stack: "production",
        file: null,
        reviewOnly: false,
        synthesisRefused: false,
        blockingSeverities: ["critical", "high"],
        configuredBlockingSeverities: ["critical"],
        addedBlockingSeverities: ["high"],
        passed: false,
        counts: { critical: 0, high: 6, medium: 6, low: 6 },
        total: 18,
      }),
    );
    expect(report.findings[0]).toEqual(
      expect.objectContaining({ id: "ZH-ECS-ENV-SECRET", severity: "high", address: "aws_ecs_task_definition.ml_worker_ml_worker", fix: expect.any(String) }),
    );
  });

  test("--stack production-hardened: the documented review-only stack, 13 findings, nothing written, no terraform needed", () => {
    const before = fs.readdirSync(path.join(dir, "cdktf.out", "stacks"));
    // Its import block (the ML worker repository) brings cdktf's `terraform version` check, which synthesis skips.
    const execSync = jest.spyOn(require("child_process") as typeof import("child_process"), "execSync");
    try {
      expect(run("--stack", "production-hardened")).toBe(0);
      expect(execSync).not.toHaveBeenCalled();
    } finally {
      execSync.mockRestore();
    }
    expect(out.split("\n")[0]).toBe(
      "Policy check of stack production-hardened (synthesized now from the sources; review only, never written or deployed): 13 findings",
    );
    expect(fs.readdirSync(path.join(dir, "cdktf.out", "stacks"))).toEqual(before);
  });

  test("an unknown stack: exit 2, the configured stacks named", () => {
    expect(run("--stack", "no-such-stack")).toBe(2);
    expect(err).toBe(`error: no stack named 'no-such-stack' (${CONFIGURED_STACKS})\n`);
    expect(out).toBe("");
  });

  test("failSynth refuses the synthesis: the findings are reported, exit 1", () => {
    expect(runWith({ policy: { config: { blockingSeverities: ["high"] }, failSynth: true } })).toBe(1);
    expect(out).toContain("Blocking severities: high (stack configuration) -> 6 blocking findings, FAIL");
    expect(out.trimEnd().split("\n").pop()).toBe("Synthesis refused (policy.failSynth): nothing was written.");
  });

  test("bad policy configuration and an exemption that matches nothing: exit 2, no stack trace", () => {
    expect(runWith({ policy: { config: { blockingSeverities: ["urgent" as never] } } })).toBe(2);
    expect(err).toBe(
      "error: Invalid environment configuration:\n  - production: policy.config.blockingSeverities[0] must be one of critical, high, medium, low (got \"urgent\")\n",
    );
    err = "";
    expect(runWith({ policy: { config: { exemptions: [{ id: "ZH-ECS-PUBLIC-IP", address: "aws_ecs_service.x", reason: "r" }] } } })).toBe(2);
    expect(err).toBe(
      "error: Invalid policy exemptions of stack 'production':\n" +
        "  - policy.config.exemptions[0] (ZH-ECS-PUBLIC-IP at aws_ecs_service.x) matches no finding: ZH-ECS-PUBLIC-IP is reported at aws_ecs_service.ml_worker_ml_worker; correct the address or remove the exemption\n",
    );
  });

  test("--file: a synthesized stack, checked under the configuration of the stack it was synthesized for", () => {
    expect(runWith({ policy: { config: { blockingSeverities: ["high"] } } }, "--file", "production.json")).toBe(1);
    expect(out.split("\n")[0]).toBe("Policy check of production.json (stack production): 18 findings");
    expect(out).toContain("Blocking severities: high (stack configuration) -> 6 blocking findings, FAIL");
  });

  test.each([
    ["package.json", 'error: package.json is not a synthesized cdktf stack: it has no "//".metadata.stackName, no "//".metadata.version, no "terraform" block'],
    ["terraform.tfstate", 'error: terraform.tfstate is not a synthesized cdktf stack: it has no "//".metadata.stackName, no "//".metadata.version, no "terraform" block'],
  ])("--file %s is not a synthesized stack: exit 2, what is missing named", (file, message) => {
    expect(run("--file", file)).toBe(2);
    expect(err).toBe(`${message} (cdktf.out/stacks/<stack>/cdk.tf.json has them); check a stack with --stack <name>\n`);
    expect(out).toBe("");
  });

  test("--file of a stack this project does not define: its policy configuration is unknown, exit 2", () => {
    expect(run("--file", "other-stack.json")).toBe(2);
    expect(err).toBe(
      `error: other-stack.json was synthesized for stack 'no-such-stack', whose policy configuration is unknown here (${CONFIGURED_STACKS})\n`,
    );
  });

  test("--file of what npm run synth wrote (its record beside it) is judged as it is, whatever its age", () => {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), "policy-cli-synth-"));
    try {
      synthesize({ production }, { outdir: path.join(other, "cdktf.out"), record: synthesisSources() });
      const file = path.join(other, stackFile);
      fs.utimesSync(file, new Date("2001-01-01T00:00:00Z"), new Date("2001-01-01T00:00:00Z"));
      expect(main(["--file", stackFile], { ...io(), cwd: other })).toBe(0);
      expect(err).toBe("");
      expect(out).toContain("critical: 0, high: 6, medium: 6, low: 6 (total 18)");
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });

  test("a cdktf.out the sources did not give is never judged: the default synthesizes; --file refuses it", () => {
    // The file has no record beside it (npm run synth writes one): what made it is unknown.
    expect(run("--file", stackFile)).toBe(2);
    expect(err).toBe(
      `error: ${stackFile} may not be what the sources synthesize now: no record of the sources that made it (synthesis.json beside it, which npm run synth writes); ` +
        "check the stack with --stack production (synthesized now), or run `npm run synth` first\n",
    );
    err = "";
    // The stale file holds no resources; the default check synthesizes and finds 18.
    expect(run()).toBe(0);
    expect(out).toContain(": 18 findings");
  });

  test.each([
    [["--bogus"], "unknown option: --bogus"],
    [["extra"], "unexpected argument: extra"],
    [["--stack"], "--stack needs a value"],
    [["--stack", "--json"], "--stack needs a value"],
    [["--stack", "../x"], "--stack takes a stack name"],
    [["--blocking", "urgent"], "--blocking takes critical, high, medium, low"],
    [["--stack", "production", "--file", "x.json"], "give --stack or --file, not both"],
    [["--file", "broken.json"], "broken.json is not JSON"],
    [["--file", "missing.json"], "missing.json not found"],
  ])("bad input %j: exit 2", (argv, message) => {
    expect(run(...argv)).toBe(2);
    expect(err).toContain(message);
  });

  test("--help", () => {
    expect(run("--help")).toBe(0);
    expect(out).toMatch(/^usage: policy/);
  });
});
