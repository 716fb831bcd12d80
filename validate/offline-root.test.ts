// What the root stack's offline variant removes and replaces, pinned: a change
// to the stack that changes this list is a change to what the tier cannot see.
import { REMOVABLE_PROVIDERS, describeVariant, offlineRootVariant, referencesIn } from "./lib/offline-root";
import { rootStack } from "./lib/stacks";
import { Json, TfConfig, isObject } from "../lib/terraform";
// Fidelity to the HCL root: production as the HCL root has it, frozen in the tests, not as configured
// (config/environments.ts, which a team changes); a configured variant keeps its own settings on it.
import { HCL_PRODUCTION as production } from "../__tests__/fixtures/hcl-production";

const keys = (v: Json | undefined): string[] => (isObject(v) ? Object.keys(v).sort() : []);
/** `<type>.<name>` of every block of a `resource` or `data` map. */
const addresses = (v: Json | undefined): string[] =>
  keys(v).flatMap((type) => keys(isObject(v) ? v[type] : undefined).map((name) => `${type}.${name}`));

describe("the production stack's offline variant", () => {
  const synthesized = rootStack("production", production);
  const before = JSON.stringify(synthesized);
  const variant = offlineRootVariant(synthesized);
  const config = variant.config;

  it("removes the backend, the HCL modules, local and random, the env file and what reads them", () => {
    expect(variant.removed.map((r) => r.address)).toEqual([
      "terraform.backend.local",
      "module.route53",
      "module.ssm",
      "module.storage",
      "module.vpc_endpoints",
      "provider.local",
      "provider.random",
      "data.local_file.env_production",
      "local.react_app_api_key",
      "output.ssm_image_tag_param_name",
    ]);
    expect(variant.removed.find((r) => r.address === "local.react_app_api_key")?.reason).toBe(
      "its value reads data.local_file.env_production.content",
    );
  });

  it("replaces the references left: the storage bucket's ARN and name, the image tag parameter, the vpc_endpoints dependency", () => {
    expect(variant.placeholders.map(({ reference, replacement }) => ({ reference, replacement }))).toEqual([
      { reference: "module.vpc_endpoints", replacement: "terraform_data.offline_module_vpc_endpoints" },
      { reference: "module.ssm.image_tag_param_name", replacement: "var.offline_module_ssm_image_tag_param_name" },
      { reference: "module.storage.bucket_arn", replacement: "var.offline_module_storage_bucket_arn" },
      { reference: "module.storage.bucket_name", replacement: "var.offline_module_storage_bucket_name" },
    ]);
    const [dependsOn, imageTagParam, bucketArn, bucketName] = variant.placeholders;
    // Every MlWorker resource, and not its caller identity data source.
    expect(dependsOn.usedAt).toHaveLength(13);
    expect(dependsOn.usedAt.every((p) => p.startsWith("resource.") && p.endsWith(".depends_on") && p.includes("ml_worker"))).toBe(true);
    expect(bucketArn.usedAt).toEqual([
      "resource.aws_iam_role_policy.iam_ecs_task_s3.policy",
      "resource.aws_iam_role_policy.iam_s3_textract_inline.policy",
    ]);
    // The compute templates' call stays, and is validated: only the module outputs it reads are placeholders.
    expect(imageTagParam.usedAt).toEqual(["locals.compute_user_data_rendered"]);
    expect(bucketName.usedAt).toEqual(["locals.compute_user_data_rendered", "resource.aws_s3_object.compute_compose.bucket"]);
    expect((config.locals as Record<string, string>).compute_user_data_rendered).toMatch(/^\$\{templatefile\("assets\/compute_user_data_template_[0-9A-F]{8}\/[0-9A-F]{32}\/user_data_minimal\.sh\.tpl", \{/);
    expect(keys(config.variable)).toEqual(expect.arrayContaining(["offline_module_storage_bucket_arn", "offline_module_storage_bucket_name", "offline_module_ssm_image_tag_param_name"]));
    expect(keys(isObject(config.resource) ? config.resource.terraform_data : undefined)).toEqual(["offline_module_vpc_endpoints"]);
  });

  it("keeps every aws resource and data source, the moved blocks, the variables and the other outputs", () => {
    expect(addresses(config.resource)).toEqual(
      [...addresses(synthesized.resource), "terraform_data.offline_module_vpc_endpoints"].sort(),
    );
    expect(addresses(config.data)).toEqual(addresses(synthesized.data).filter((a) => !a.startsWith("local_file.")));
    expect(config.moved).toEqual(synthesized.moved);
    expect(keys(config.variable)).toEqual(
      [...keys(synthesized.variable), "offline_module_ssm_image_tag_param_name", "offline_module_storage_bucket_arn", "offline_module_storage_bucket_name"].sort(),
    );
    expect(keys(config.output)).toEqual(keys(synthesized.output).filter((o) => o !== "ssm_image_tag_param_name"));
  });

  it("leaves only the aws provider, no module or backend, and the locals that read no removed object", () => {
    expect(keys(config.provider)).toEqual(["aws"]);
    const terraform = isObject(config.terraform) ? config.terraform : {};
    expect(keys(terraform.required_providers)).toEqual(["aws"]);
    expect(terraform.backend).toBeUndefined();
    expect(config.module).toBeUndefined();
    expect(keys(config.locals)).toEqual(["compute_compose_sha256", "compute_rendered_compose", "compute_user_data_bytes", "compute_user_data_rendered"]);
    // The placeholder variables' descriptions name what they stand for; nothing else may. A moved
    // block's `from` names an old address, not a reference (two come from module.ssm).
    const expressions = Object.fromEntries(Object.entries(config).filter(([k]) => k !== "variable" && k !== "moved"));
    expect(referencesIn(expressions, ["module.storage", "module.ssm", "module.vpc_endpoints", "module.route53"])).toEqual([]);
    expect(referencesIn(expressions, ["data.local_file.env_production", "local.react_app_api_key"])).toEqual([]);
  });

  it("does not touch the synthesized configuration", () => {
    expect(JSON.stringify(synthesized)).toBe(before);
  });

  it("describes itself one change a line", () => {
    expect(describeVariant(variant).split("\n")).toHaveLength(variant.removed.length + variant.placeholders.length);
  });
});

describe("offlineRootVariant rules", () => {
  const base = (extra: TfConfig): TfConfig => ({
    terraform: { required_providers: { aws: { source: "hashicorp/aws", version: "6.17.0" } } },
    provider: { aws: [{ region: "us-east-1" }] },
    ...extra,
  });

  it("keeps a depends_on entry's form, wrapping included, so validate still judges it", () => {
    const v = offlineRootVariant(
      base({
        module: { m: { source: "./nowhere" } },
        resource: { aws_sqs_queue: { a: { name: "a", depends_on: ["${module.m}"] }, b: { name: "b", depends_on: ["module.m"] } } },
      }),
    );
    expect(v.config.resource).toEqual({
      aws_sqs_queue: {
        a: { name: "a", depends_on: ["${terraform_data.offline_module_m}"] },
        b: { name: "b", depends_on: ["terraform_data.offline_module_m"] },
      },
      terraform_data: { offline_module_m: {} },
    });
  });

  it("removes locals to a fixed point and gives their other readers a variable", () => {
    const v = offlineRootVariant(
      base({
        terraform: {
          required_providers: { aws: { source: "hashicorp/aws", version: "6.17.0" }, local: { source: "hashicorp/local", version: "2.5.3" } },
        },
        provider: { aws: [{ region: "us-east-1" }], local: [{}] },
        data: { local_file: { f: { filename: "x.env" } } },
        locals: { a: "${data.local_file.f.content}", b: "${upper(local.a)}", c: "kept" },
        resource: { aws_ssm_parameter: { p: { name: "p", type: "String", value: "${local.b}-${local.c}" } } },
      }),
    );
    expect(v.removed.map((r) => r.address)).toEqual(["provider.local", "data.local_file.f", "local.a", "local.b"]);
    expect(v.config.locals).toEqual({ c: "kept" });
    expect(v.config.resource).toEqual({
      aws_ssm_parameter: { p: { name: "p", type: "String", value: "${var.offline_local_b}-${local.c}" } },
    });
    expect(v.config.data).toBeUndefined();
  });

  it("leaves moved and import blocks alone", () => {
    const moved = [{ from: "module.m.aws_sqs_queue.q", to: "aws_sqs_queue.m_q" }];
    const imports = [{ to: "aws_sqs_queue.m_q", id: "https://sqs/q" }];
    const v = offlineRootVariant(
      base({ module: { m: { source: "./nowhere" } }, moved, import: imports, resource: { aws_sqs_queue: { m_q: { name: "q" } } } }),
    );
    expect(v.config.moved).toEqual(moved);
    expect(v.config.import).toEqual(imports);
  });

  it("refuses to drop a provider it was not told about", () => {
    const config = base({ provider: { aws: [{}], tls: [{}] } });
    expect(() => offlineRootVariant(config)).toThrow(/provider 'tls' is not in the mirror .* REMOVABLE_PROVIDERS/);
    expect(Object.keys(REMOVABLE_PROVIDERS)).toEqual(["local", "random"]);
  });

  it("matches a reference only as a whole name", () => {
    const roots = ["module.storage"];
    expect(referencesIn("${module.storage.bucket_arn}/*", roots)).toEqual(["module.storage.bucket_arn"]);
    expect(referencesIn("${module.storage}", roots)).toEqual(["module.storage"]);
    expect(referencesIn("${module.storage2.x} ${var.offline_module.storage} my-module.storage", roots)).toEqual([]);
  });
});
