// What the root stack's offline variant removes and replaces, pinned: a change
// to the stack that changes this list is a change to what the tier cannot see.
import { REMOVABLE_PROVIDERS, describeVariant, offlineRootVariant, referencesIn } from "./lib/offline-root";
import { rootStack } from "./lib/stacks";
import { Json, TfConfig, isObject } from "./lib/terraform";
import { production } from "../config/environments";

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
      "module.compute",
      "module.route53",
      "module.ssm",
      "module.storage",
      "module.vpc_endpoints",
      "provider.local",
      "provider.random",
      "data.local_file.env_production",
      "local.react_app_api_key",
      "output.ec2_instance_id",
      "output.ec2_public_ip",
      "output.ssm_image_tag_param_name",
    ]);
    expect(variant.removed.find((r) => r.address === "local.react_app_api_key")?.reason).toBe(
      "its value reads data.local_file.env_production.content",
    );
  });

  it("replaces the references left: the storage bucket ARN and the vpc_endpoints dependency", () => {
    expect(variant.placeholders.map(({ reference, replacement }) => ({ reference, replacement }))).toEqual([
      { reference: "module.vpc_endpoints", replacement: "terraform_data.offline_module_vpc_endpoints" },
      { reference: "module.storage.bucket_arn", replacement: "var.offline_module_storage_bucket_arn" },
    ]);
    const [dependsOn, bucketArn] = variant.placeholders;
    // Every MlWorker resource, and not its caller identity data source.
    expect(dependsOn.usedAt).toHaveLength(13);
    expect(dependsOn.usedAt.every((p) => p.startsWith("resource.") && p.endsWith(".depends_on") && p.includes("ml_worker"))).toBe(true);
    expect(bucketArn.usedAt).toEqual([
      "resource.aws_iam_role_policy.iam_ecs_task_s3.policy",
      "resource.aws_iam_role_policy.iam_s3_textract_inline.policy",
    ]);
    expect(keys(config.variable)).toContain("offline_module_storage_bucket_arn");
    expect(keys(isObject(config.resource) ? config.resource.terraform_data : undefined)).toEqual(["offline_module_vpc_endpoints"]);
  });

  it("keeps every aws resource and data source, the moved blocks, the variables and the other outputs", () => {
    expect(addresses(config.resource)).toEqual(
      [...addresses(synthesized.resource), "terraform_data.offline_module_vpc_endpoints"].sort(),
    );
    expect(addresses(config.data)).toEqual(addresses(synthesized.data).filter((a) => !a.startsWith("local_file.")));
    expect(config.moved).toEqual(synthesized.moved);
    expect(keys(config.variable)).toEqual([...keys(synthesized.variable), "offline_module_storage_bucket_arn"].sort());
    expect(keys(config.output)).toEqual(
      keys(synthesized.output).filter((o) => !["ec2_instance_id", "ec2_public_ip", "ssm_image_tag_param_name"].includes(o)),
    );
  });

  it("leaves only the aws provider and no module, backend or local", () => {
    expect(keys(config.provider)).toEqual(["aws"]);
    const terraform = isObject(config.terraform) ? config.terraform : {};
    expect(keys(terraform.required_providers)).toEqual(["aws"]);
    expect(terraform.backend).toBeUndefined();
    expect(config.module).toBeUndefined();
    expect(config.locals).toBeUndefined();
    // The placeholder variables' descriptions name what they stand for; nothing else may. A moved
    // block's `from` names an old address, not a reference (two come from module.ssm).
    const expressions = Object.fromEntries(Object.entries(config).filter(([k]) => k !== "variable" && k !== "moved"));
    expect(referencesIn(expressions, ["module.storage", "module.ssm", "module.compute", "module.vpc_endpoints", "module.route53"])).toEqual([]);
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
