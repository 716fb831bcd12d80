// Long: one command's tests without Terraform (its edits, workspace, state copy, verdict, refusals).
// plan-check without Terraform: the HCL edits, the workspace it builds, the
// state copy, the verdict and the comparison, and the CLI's refusals of bad
// input. What Terraform itself plans is tested in validate/plan-check.test.ts.
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { synthesisSources } from "../lib/cli";
import { dropRequiredProvider, removeBlocks, replaceReference, requiredProviderNames, topLevelBlocks } from "../lib/hcl-text";
import { ChangeRow, PlanJson, ResourceChange, changeRows, comparePlans, explain, judge, resourceOf } from "../lib/plan/judge";
import { dependentsOf, parseGraph } from "../lib/plan/run";
import { PinSource, RawState, SchemaSummary, adaptState, pinnedReferenceProblems, prepareStackWorkspace } from "../lib/plan/workspace";
import { main } from "../commands/plan-check";
import { verdictInput } from "../commands/plan-check/check";
import { SYNTHESIS_RECORD, SynthesisRecord, assetHashes, freshSynthesis } from "../commands/plan-check/synthesis";
import { unplannableResources } from "../commands/plan-check/terraform";
import { PlanCheckReport, failureText, renderMarkdown } from "../lib/plan/report";
import { INTENDED_DIFFERENCES, counterpart } from "../stacks/moves";
import { detectToolchain } from "../lib/toolchain";
// Every offline run probes Terraform (`terraform version -json`, a Go process, 20 to 80 ms): a toolchain found once per
// set of options is remembered for the file; what is not found is probed again each time (those are the refusals tested).
jest.mock("../lib/toolchain", () => {
  const actual = jest.requireActual("../lib/toolchain") as typeof import("../lib/toolchain");
  const found = new Map<string, ReturnType<typeof actual.detectToolchain>>();
  const mock = {
    ...actual,
    remembering: true,
    detectToolchain: (options = actual.optionsFromEnv()) => {
      if (!mock.remembering) return actual.detectToolchain(options);
      const key = JSON.stringify(options);
      const r = found.get(key) ?? actual.detectToolchain(options);
      if (r.ok) found.set(key, r);
      return structuredClone(r);
    },
  };
  return mock;
});
// Only for this file: npm test's groups run the files after it in the same module registry.
afterAll(() => {
  (jest.requireMock("../lib/toolchain") as { remembering: boolean }).remembering = false;
});
// Before any test loads @cdktf/hcl2json (--against-hcl): the order of V8's flags and WebAssembly compiles from here on.
const wasm = recordWasmCompiles();
afterAll(() => wasm.restore());
// Fidelity to the HCL root: production as the HCL root has it, frozen in the tests, not as configured
// (config/environments.ts, which a team changes); a configured variant keeps its own settings on it.
import * as configured from "../config/environments";
import { HCL_PRODUCTION as production, onHclProduction } from "./fixtures/hcl-production";
const staging = onHclProduction(configured.staging, configured.production);
import { synthesize } from "../stacks/app";
import { spawnSync } from "child_process";
import { PROJECT_ROOT } from "../lib/cli";
import { openWorkdir } from "../lib/workdir";
import { tempDir } from "./tmp";
import { PASSING_REPORT } from "./fixtures/plan-report";
import { buildDist } from "./processes";
import { recordWasmCompiles } from "./helpers";

const SHARED = path.join(__dirname, "../../shared/fixtures");
const MODULES = path.join(SHARED, "existing-hcl/terraform/modules");
const POST_FIX = path.join(SHARED, "post-fix-production.tfstate");
const DATA = path.join(__dirname, "fixtures/plan-check/production-data.json");
const tmp = (name: string) => tempDir(`plan-check-${name}-`);
const EMPTY_REPORT: PlanCheckReport = { ...PASSING_REPORT, state: "an empty state (a new environment)", planText: "", timingsMs: {}, outDir: "/out" };

describe("HCL text edits", () => {
  const hcl = [
    'data "aws_ami" "ubuntu" {',
    "  most_recent = true",
    '  filter { name = "name"  values = ["ubuntu-${var.x}-{a}"] }',
    "}",
    "",
    'resource "aws_instance" "host" {',
    "  ami = data.aws_ami.ubuntu.id # not data.aws_ami.ubuntu_old",
    "  user_data = <<EOF",
    "  } unbalanced in a heredoc {",
    "EOF",
    "}",
    "terraform {",
    "  required_providers {",
    '    aws = { source = "hashicorp/aws", version = ">= 5.0" }',
    "    random = {",
    '      source = "hashicorp/random"',
    "    }",
    "  }",
    "}",
    "",
  ].join("\n");

  it("finds top-level blocks across strings, templates and heredocs", () => {
    expect(topLevelBlocks(hcl).map((b) => [b.kind, ...b.labels])).toEqual([
      ["data", "aws_ami", "ubuntu"],
      ["resource", "aws_instance", "host"],
      ["terraform"],
    ]);
  });

  it("removes a block, leaving a comment that says why", () => {
    const [data] = topLevelBlocks(hcl);
    const out = removeBlocks(hcl, [data], "pinned");
    expect(out.startsWith('# plan-check: data "aws_ami" "ubuntu" pinned\n\nresource "aws_instance" "host" {')).toBe(true);
  });

  it("rewrites whole references only", () => {
    expect(replaceReference(hcl, "data.aws_ami.ubuntu", "local.p")).toContain("ami = local.p.id # not data.aws_ami.ubuntu_old");
    expect(replaceReference("x = module.ssm.random_password.db.result", "random_password.db", "local.p")).toBe(
      "x = module.ssm.random_password.db.result",
    );
  });

  it("reads and drops required_providers entries at the block's top level", () => {
    expect(requiredProviderNames(hcl)).toEqual(["aws", "random"]);
    const out = dropRequiredProvider(hcl, "random");
    expect(requiredProviderNames(out)).toEqual(["aws"]);
    expect(out).toContain('    aws = { source = "hashicorp/aws", version = ">= 5.0" }\n    # plan-check: random removed (not installed)\n  }');
  });
});

// Production synthesized to a folder, as plan-check does (the compute templates are files beside cdk.tf.json), once for
// the file: the tests read the folder and parse the text each for themselves, and write only in folders of their own.
let synthesizedProduction: { synthDir: string; synthesized: ReturnType<typeof synthesize>[number] } | undefined;
const productionInAFolder = () => {
  if (!synthesizedProduction) {
    const synthDir = tmp("synth"); // removed after the file (setup.ts)
    synthesizedProduction = { synthDir, synthesized: synthesize({ production }, { outdir: path.join(synthDir, "cdktf.out") })[0] };
  }
  return synthesizedProduction;
};

describe("the offline workspace of the synthesized stack", () => {
  const { synthDir, synthesized } = productionInAFolder();
  const json = JSON.parse(synthesized.text);
  const stackDir = path.dirname(synthesized.file!);
  const snapshot = JSON.parse(fs.readFileSync(POST_FIX, "utf8")) as RawState;
  const data = JSON.parse(fs.readFileSync(DATA, "utf8"));
  const source: PinSource = { snapshot, data, alias: counterpart, installed: new Set(["aws"]) };
  const dir = path.join(tmp("ws"), "stack");
  const ws = prepareStackWorkspace({ config: json as any, modulesDir: MODULES, dir, awsVersion: "5.100.0", source, stackDir });
  const out = JSON.parse(fs.readFileSync(path.join(dir, "cdk.tf.json"), "utf8"));
  const pinned = JSON.parse(fs.readFileSync(path.join(dir, "plan_check_pinned.json"), "utf8"));

  it("pins every data source that calls AWS, and the random resources, to a recorded value", () => {
    expect(ws.missing).toEqual([]);
    expect(ws.pins.map((p) => `${p.address} (${p.from})`).sort()).toEqual([
      "data.aws_ami.compute_ubuntu (snapshot)",
      "data.aws_caller_identity.compute_current (snapshot)",
      "data.aws_caller_identity.ml_worker_current (--data)",
      "data.aws_db_instance.existing (snapshot)",
      "data.aws_route_tables.private (--data)",
      "data.aws_subnets.existing_private (snapshot)",
      "data.aws_subnets.existing_public (snapshot)",
      "data.aws_vpc.existing (snapshot)",
      "data.local_file.env_production (--data)",
      "module.ssm.random_password.db (snapshot)",
      "module.storage.random_id.suffix (snapshot)",
      "module.vpc_endpoints.data.aws_vpc.selected (--data)",
    ]);
    // The policy documents and the region are computed by the provider, without a call: left to it.
    expect(Object.keys(out.data).sort()).toEqual(["aws_iam_policy_document", "aws_region"]);
    expect(pinned["data.aws_vpc.existing"].cidr_block).toBe("10.20.0.0/16");
    expect(pinned["data.aws_caller_identity.ml_worker_current"].account_id).toBe("474221740916");
  });

  it("reads pinned values through one local, in the root and in the modules", () => {
    expect(out.locals.plan_check_pinned).toBe('${jsondecode(file("${path.module}/plan_check_pinned.json"))}');
    expect(out.module.vpc_endpoints.vpc_id).toBe('${local.plan_check_pinned["data.aws_vpc.existing"].id}');
    expect(out.module.ssm.db_endpoint).toBe('${element(split(":", local.plan_check_pinned["data.aws_db_instance.existing"].endpoint), 0)}');
    // The construct's data sources are pinned under their stack addresses (the snapshot records them under the HCL's).
    expect(out.locals.compute_rendered_compose).toContain('"ECR_REGISTRY_HOST" = "${local.plan_check_pinned["data.aws_caller_identity.compute_current"].account_id}.dkr.ecr.us-east-1.amazonaws.com"');
    expect(pinned["data.aws_ami.compute_ubuntu"].id).toBe("ami-0c398cb65a93047f2");
    const ssm = fs.readFileSync(path.join(dir, "modules/ssm/main.tf"), "utf8");
    expect(ssm).toContain('local.plan_check_pinned["random_password.db"].result');
    expect(fs.readFileSync(path.join(dir, "modules/ssm/plan_check_pinned.tf"), "utf8")).toContain(
      'plan_check_pinned = jsondecode(file("${path.module}/plan_check_pinned.json"))',
    );
  });

  it("plans with the installed aws provider, offline, against a local copy of the state", () => {
    expect(out.terraform.backend).toBeUndefined();
    expect(out.terraform.required_providers).toEqual({ aws: { source: "hashicorp/aws", version: "5.100.0" } });
    expect(out.provider).toEqual({
      aws: [
        {
          region: "us-east-1",
          skip_credentials_validation: true,
          skip_requesting_account_id: true,
          skip_metadata_api_check: true,
          skip_region_validation: true,
        },
      ],
    });
    expect(Object.fromEntries(Object.entries(out.module).map(([n, m]: [string, any]) => [n, m.source]))).toEqual({
      storage: "./modules/storage",
      vpc_endpoints: "./modules/vpc_endpoints",
      ssm: "./modules/ssm",
      route53: "./modules/route53",
    });
    expect(ws.adaptations).toEqual([
      "backend local replaced by a local copy of the snapshot",
      "root: provider local 2.5.3 removed (not installed; its resources and data sources are pinned)",
      "root: provider random 3.7.2 removed (not installed; its resources and data sources are pinned)",
      "aws provider: skip_credentials_validation, skip_requesting_account_id, skip_metadata_api_check, skip_region_validation set; static fake credentials in the environment: no AWS call",
      "aws provider: the installed 5.100.0 instead of the pinned 6.17.0",
      "module.ssm: provider random removed (not installed; its resources are pinned)",
      "module.storage: provider random removed (not installed; its resources are pinned)",
    ]);
  });

  it("copies the templates the configuration reads, byte for byte, beside cdk.tf.json", () => {
    const read = [...JSON.stringify(out).matchAll(/assets\/[\w./-]+/g)].map((m) => m[0]);
    expect(new Set(read).size).toBe(2);
    for (const asset of read) {
      expect(fs.readFileSync(path.join(dir, asset)).equals(fs.readFileSync(path.join(__dirname, "../modules/compute", path.basename(asset))))).toBe(true);
    }
  });

  it("refuses a configuration that reads an asset the synthesized folder lacks, naming it", () => {
    const emptyDir = tmp("nostack");
    const w = path.join(synthDir, "ws3", "stack");
    try {
      expect(() => prepareStackWorkspace({ config: json as any, modulesDir: MODULES, dir: w, awsVersion: "5.100.0", source, stackDir: emptyDir })).toThrow(
        `the synthesized stack reads assets/compute_compose_template_14385AD0/B784A75E3D84832B2139173A3381AC93/docker-compose.yml.tpl, ` +
          `assets/compute_user_data_template_14C8B567/421C0F7653134BB2D634046C79FF04F9/user_data_minimal.sh.tpl, which ${emptyDir} does not hold: ` +
          "synthesize again (npm run synth)",
      );
    } finally {
      fs.rmSync(emptyDir, { recursive: true, force: true });
    }
  });

  it("names what it cannot pin when neither the snapshot nor --data holds it", () => {
    const bare: PinSource = { ...source, data: {} };
    const w = prepareStackWorkspace({ config: json as any, modulesDir: MODULES, dir: path.join(tmp("ws2"), "stack"), awsVersion: "5.100.0", source: bare, stackDir });
    expect(w.missing.sort()).toEqual([
      "data.aws_caller_identity.ml_worker_current",
      "data.aws_route_tables.private",
      "module.vpc_endpoints.data.aws_vpc.selected",
    ]);
  });
});

describe("the state copy", () => {
  const shape = (a: string[], b: Record<string, any> = {}) => ({ a, b });
  const schema: SchemaSummary = {
    aws_instance: { version: 1, block: shape(["ami", "id"], { root_block_device: shape(["volume_size"]) }) },
    "data.aws_region": { version: 0, block: shape(["name"]) },
  };
  const snapshot: RawState = {
    version: 4,
    serial: 9,
    resources: [
      {
        module: "module.compute",
        mode: "managed",
        type: "aws_instance",
        name: "host",
        provider: 'provider["registry.terraform.io/hashicorp/aws"]',
        instances: [{ schema_version: 2, attributes: { ami: "ami-1", id: "i-1", region: "us-east-1", root_block_device: [{ volume_size: 30, volume_initialization_rate: 0 }] } }],
      },
      { mode: "data", type: "aws_vpc", name: "existing", provider: 'provider["registry.terraform.io/hashicorp/aws"]', instances: [{ attributes: { id: "vpc-1" } }] },
      { mode: "data", type: "aws_region", name: "current", provider: 'provider["registry.terraform.io/hashicorp/aws"]', instances: [{ attributes: { name: "us-east-1", region: "us-east-1" } }] },
      { module: "module.ssm", mode: "managed", type: "random_password", name: "db", provider: 'provider["registry.terraform.io/hashicorp/random"]', instances: [{ attributes: { result: "x" } }] },
    ],
  };
  const pins = [
    { address: "data.aws_vpc.existing", kind: "data source" as const, from: "snapshot" as const, recordedAs: "data.aws_vpc.existing" },
    { address: "module.ssm.random_password.db", kind: "resource" as const, from: "snapshot" as const, recordedAs: "module.ssm.random_password.db" },
  ];
  const { state, adaptations } = adaptState(snapshot, pins, new Set(["aws"]), schema, "1.11.4");

  it("drops what is pinned and what the installed provider does not know, and says so", () => {
    expect(state.resources.map((r) => `${r.mode}.${r.type}.${r.name}`)).toEqual(["managed.aws_instance.host", "data.aws_region.current"]);
    expect(state.resources[0].instances[0]).toEqual({ schema_version: 1, attributes: { ami: "ami-1", id: "i-1", root_block_device: [{ volume_size: 30 }] } });
    expect(adaptations).toEqual([
      "state: module.ssm.random_password.db removed from the copy (provider random not installed; its value is pinned)",
      "state: 1 pinned data source(s) removed from the copy (their values are pinned)",
      "state: aws_instance (1 instance): schema version 2 → 1; attributes the installed provider does not have dropped: region, root_block_device.volume_initialization_rate",
      "state: data.aws_region (1 instance): attributes the installed provider does not have dropped: region",
    ]);
    expect(snapshot.resources[0].instances[0].schema_version).toBe(2); // the snapshot itself is untouched
  });

  it("starts a new environment from an empty state", () => {
    const empty = adaptState(null, [], new Set(["aws"]), schema, "1.11.4");
    expect(empty.state.resources).toEqual([]);
    expect(empty.adaptations).toEqual(["state: empty (a new environment): every resource is planned from nothing"]);
  });
});

describe("pinned values", () => {
  const { synthesized } = productionInAFolder();
  const json = JSON.parse(synthesized.text);
  const stackDir = path.dirname(synthesized.file!);
  const data = JSON.parse(fs.readFileSync(DATA, "utf8"));

  it("a resource with a deposed object is pinned to its current object's value, never the deposed one's", () => {
    const snapshot = JSON.parse(fs.readFileSync(POST_FIX, "utf8")) as RawState;
    const db = snapshot.resources.find((r) => r.module === "module.ssm" && r.type === "random_password")!;
    const current = db.instances[0];
    db.instances = [{ ...current, deposed: "0badc0de", attributes: { ...current.attributes, id: "deposed", result: "the deposed object's" } }, current];
    const source: PinSource = { snapshot, data, alias: counterpart, installed: new Set(["aws"]) };
    const dir = path.join(tmp("deposed"), "stack");
    expect(prepareStackWorkspace({ config: json as any, modulesDir: MODULES, dir, awsVersion: "5.100.0", source, stackDir }).missing).toEqual([]);
    expect(JSON.parse(fs.readFileSync(path.join(dir, "modules/ssm/plan_check_pinned.json"), "utf8"))).toEqual({ "random_password.db": current.attributes });
  });

  it("names a --data entry that lacks an attribute the configuration reads, or has another shape", () => {
    const snapshot = JSON.parse(fs.readFileSync(POST_FIX, "utf8")) as RawState;
    const { ids: _ids, ...noIds } = data["data.aws_route_tables.private"];
    const bad = { ...data, "data.aws_route_tables.private": noIds, "module.vpc_endpoints.data.aws_vpc.selected": [data["module.vpc_endpoints.data.aws_vpc.selected"]] };
    const source: PinSource = { snapshot, data: bad, alias: counterpart, installed: new Set(["aws"]) };
    const ws = prepareStackWorkspace({ config: json as any, modulesDir: MODULES, dir: path.join(tmp("shape"), "stack"), awsVersion: "5.100.0", source, stackDir });
    expect(ws.problems).toEqual([
      "--data entry 'data.aws_route_tables.private' has no attribute 'ids', which the stack reads (data.aws_route_tables.private.ids)",
      "--data entry 'module.vpc_endpoints.data.aws_vpc.selected' is a list, but module.vpc_endpoints (main.tf) reads data.aws_vpc.selected.cidr_block: give the attributes as an object",
    ]);
  });

  it("follows literal steps into the value: indexes, keys, nested attributes", () => {
    const pins = [{ address: "data.x.y", kind: "data source" as const, from: "snapshot" as const, recordedAs: "data.x.y" }];
    const values = { "data.x.y": { ids: ["a"], tags: { Name: "n" }, filter: [{ name: "f" }] } };
    const text = (ref: string) => `value = local.plan_check_pinned["data.x.y"]${ref}`;
    expect(pinnedReferenceProblems(text(".ids[0]") + "\n" + text('.tags["Name"]') + "\n" + text(".filter[0].name"), values, pins, "m")).toEqual([]);
    expect(pinnedReferenceProblems(text(".ids[1]"), values, pins, "m")).toEqual(["the snapshot's value of 'data.x.y' has 1 item(s) at data.x.y.ids, but m reads data.x.y.ids[1]"]);
    expect(pinnedReferenceProblems(text(".tags.Owner"), values, pins, "m")).toEqual(["the snapshot's value of 'data.x.y' has no attribute 'Owner' at data.x.y.tags, which m reads (data.x.y.tags.Owner)"]);
    expect(pinnedReferenceProblems(text(".filter.name"), values, pins, "m")).toEqual([
      "the snapshot's value of 'data.x.y' is a list at data.x.y.filter, but m reads data.x.y.filter.name: give the attributes as an object",
    ]);
  });
});

describe("the state copy: what the plan cannot account for", () => {
  const schema: SchemaSummary = { aws_instance: { version: 1, block: { a: ["id"], b: {} } } };
  const provider = (p: string) => `provider["registry.terraform.io/hashicorp/${p}"]`;
  const snapshot: RawState = {
    version: 4,
    resources: [
      { mode: "managed", type: "aws_instance", name: "host", provider: provider("aws"), instances: [{ attributes: { id: "i-1" } }] },
      { mode: "managed", type: "tls_private_key", name: "deploy", provider: provider("tls"), instances: [{ attributes: { id: "k" } }, { deposed: "d1", attributes: { id: "old" } }] },
      { module: "module.ssm", mode: "managed", type: "random_password", name: "db", provider: provider("random"), instances: [{ attributes: { result: "x" } }] },
      { module: "module.s", mode: "managed", type: "random_string", name: "gone", provider: provider("random"), instances: [{ index_key: 0, attributes: {} }, { index_key: "b", attributes: {} }] },
      { mode: "managed", type: "aws_made_up_thing", name: "x", provider: provider("aws"), instances: [{ attributes: { id: "x" } }] },
      { mode: "data", type: "aws_made_up_source", name: "y", provider: provider("aws"), instances: [{ attributes: { id: "y" } }] },
      { mode: "data", type: "http", name: "z", provider: provider("http"), instances: [{ attributes: { id: "z" } }] },
    ],
  };
  const pins = [{ address: "module.ssm.random_password.db", kind: "resource" as const, from: "snapshot" as const, recordedAs: "module.ssm.random_password.db" }];
  const adapted = adaptState(snapshot, pins, new Set(["aws"]), schema, "1.11.4");

  it("leaves out, and returns, every managed instance of a provider not installed that nothing pins, and of a type the provider lacks", () => {
    const tls = "provider tls is not installed here and the configuration does not declare it: Terraform would plan it with that provider (a delete, if nothing declares it)";
    const random = tls.replace("provider tls", "provider random");
    expect(adapted.unplannable).toEqual([
      { address: "tls_private_key.deploy", resource: "tls_private_key.deploy", why: tls },
      { address: "tls_private_key.deploy (deposed object d1)", resource: "tls_private_key.deploy", why: tls },
      { address: "module.s.random_string.gone[0]", resource: "module.s.random_string.gone", why: random },
      { address: 'module.s.random_string.gone["b"]', resource: "module.s.random_string.gone", why: random },
      { address: "aws_made_up_thing.x", resource: "aws_made_up_thing.x", why: "the installed aws provider has no resource type aws_made_up_thing" },
    ]);
    expect(adapted.state.resources.map((r) => `${r.type}.${r.name}`)).toEqual(["aws_instance.host"]);
  });

  it("says what else it removed: the pinned resource, the data sources (read again, never destroyed)", () => {
    expect(adapted.adaptations).toEqual([
      "state: module.ssm.random_password.db removed from the copy (provider random not installed; its value is pinned)",
      "state: data.aws_made_up_source.y removed from the copy (the installed aws provider has no data source aws_made_up_source; data sources are read again, never destroyed)",
      "state: data.http.z removed from the copy (provider http not installed)",
      "state: 5 instance(s) the plan cannot account for removed from the copy (listed as not judged)",
    ]);
  });
});

describe("freshness of the synthesis, by content", () => {
  it("uses cdktf.out only when the record names the same sources and the same output, whatever the modification times", () => {
    const dir = tmp("fresh");
    const file = path.join(dir, "cdk.tf.json");
    fs.writeFileSync(file, '{"resource":{}}');
    const sources = { digest: "d1", files: [{ file: "main.ts", sha256: "s" }] };
    const record: SynthesisRecord = { stack: "production", output: { file: "cdk.tf.json", sha256: createHash("sha256").update('{"resource":{}}').digest("hex") }, sources };
    fs.writeFileSync(path.join(dir, SYNTHESIS_RECORD), JSON.stringify(record));
    expect(freshSynthesis(dir, "production", file, sources)).toBe('{"resource":{}}');
    // A source edited and given its old modification time back: another digest.
    expect(freshSynthesis(dir, "production", file, { ...sources, digest: "d2" })).toBeUndefined();
    // The output changed by another hand.
    const old = fs.statSync(file).mtime;
    fs.writeFileSync(file, '{"resource":{"x":{}}}');
    fs.utimesSync(file, old, old);
    expect(freshSynthesis(dir, "production", file, sources)).toBeUndefined();
    expect(freshSynthesis(dir, "staging", file, sources)).toBeUndefined();
    fs.rmSync(path.join(dir, SYNTHESIS_RECORD));
    expect(freshSynthesis(dir, "production", file, sources)).toBeUndefined();
  });

  it("counts the files the stack reads beside it (the compute templates): each must be there, as recorded", () => {
    const dir = tmp("fresh-assets");
    const file = path.join(dir, "cdk.tf.json");
    const text = JSON.stringify({ resource: { aws_instance: { h: { user_data: '${templatefile("assets/t/ABC/user_data.sh.tpl", {})}' } } } });
    fs.writeFileSync(file, text);
    fs.mkdirSync(path.join(dir, "assets", "t", "ABC"), { recursive: true });
    fs.writeFileSync(path.join(dir, "assets", "t", "ABC", "user_data.sh.tpl"), "#!/bin/bash\n");
    const assets = assetHashes(text, dir)!;
    expect(Object.keys(assets)).toEqual(["assets/t/ABC/user_data.sh.tpl"]);
    const sources = { digest: "d1", files: [] };
    const sha = createHash("sha256").update(text).digest("hex");
    fs.writeFileSync(path.join(dir, SYNTHESIS_RECORD), JSON.stringify({ stack: "production", output: { file: "cdk.tf.json", sha256: sha, assets }, sources }));
    expect(freshSynthesis(dir, "production", file, sources)).toBe(text);
    fs.writeFileSync(path.join(dir, "assets", "t", "ABC", "user_data.sh.tpl"), "#!/bin/bash\necho edited in place\n");
    expect(freshSynthesis(dir, "production", file, sources)).toBeUndefined();
    fs.rmSync(path.join(dir, "assets"), { recursive: true });
    expect(assetHashes(text, dir)).toBeUndefined();
    expect(freshSynthesis(dir, "production", file, sources)).toBeUndefined();
  });

  it("hashes every source file's content: an edit with the old modification time changes the digest", () => {
    const root = tmp("sources");
    fs.mkdirSync(path.join(root, "stacks"));
    fs.writeFileSync(path.join(root, "main.ts"), "main");
    fs.writeFileSync(path.join(root, "stacks", "a.ts"), "export const a = 1;");
    const before = synthesisSources(root);
    expect(before.files.map((f) => f.file)).toEqual(["main.ts", "stacks/a.ts"]);
    const old = fs.statSync(path.join(root, "stacks", "a.ts")).mtime;
    fs.writeFileSync(path.join(root, "stacks", "a.ts"), "export const a = 2;");
    fs.utimesSync(path.join(root, "stacks", "a.ts"), old, old);
    expect(synthesisSources(root).digest).not.toBe(before.digest);
  });
});

describe("the verdict", () => {
  const rc = (address: string, actions: string[], extra: Partial<ResourceChange> = {}, change: Partial<ResourceChange["change"]> = {}): ResourceChange => ({
    address,
    mode: "managed",
    type: address.split(".").slice(-2)[0],
    ...extra,
    change: { actions, before: {}, after: {}, after_unknown: {}, ...change },
  });
  const plan = {
    resource_changes: [
      rc("module.compute.aws_instance.host", ["delete", "create"], {}, { before: { ami: "a", id: "i" }, after: { ami: "b" }, after_unknown: { id: true }, replace_paths: [["ami"]] }),
      rc("aws_security_group.ec2_existing_vpc", ["delete"], { deposed: "b4a44223" }),
      rc("aws_iam_role.iam_ec2_role", ["no-op"], { previous_address: "module.iam.aws_iam_role.ec2_role" }),
      rc("module.ssm.aws_ssm_parameter.db_host", ["update"], {}, { before: { value: "h:5432" }, after: { value: "h" } }),
    ],
  };
  const rows = changeRows(plan);
  const base = {
    rows,
    errors: [],
    allow: [],
    moved: [{ from: "module.iam.aws_iam_role.ec2_role", to: "aws_iam_role.iam_ec2_role" }],
    stateAddresses: new Set(["module.iam.aws_iam_role.ec2_role", "module.compute.aws_instance.host"]),
    notJudged: new Set<string>(),
  };

  it("reads each instance's action, forcing attributes and changed attributes", () => {
    expect(rows).toEqual<ChangeRow[]>([
      {
        address: "module.compute.aws_instance.host",
        action: "replace",
        replacePaths: ["ami"],
        changedAttributes: ["ami"],
        unknownAttributes: ["id"],
        changes: [
          { path: "ami", change: "changed", before: "a", after: "b", forcesReplacement: true },
          { path: "id", change: "changed", before: "i", unknown: true },
        ],
      },
      { address: "aws_security_group.ec2_existing_vpc", deposed: "b4a44223", action: "delete", replacePaths: [], changedAttributes: [], unknownAttributes: [] },
      { address: "aws_iam_role.iam_ec2_role", action: "no-op", previousAddress: "module.iam.aws_iam_role.ec2_role", replacePaths: [], changedAttributes: [], unknownAttributes: [] },
      {
        address: "module.ssm.aws_ssm_parameter.db_host",
        action: "update",
        replacePaths: [],
        changedAttributes: ["value"],
        unknownAttributes: [],
        changes: [{ path: "value", change: "changed", before: "h:5432", after: "h" }],
      },
    ]);
  });

  it("fails every delete and replace outside the allow-list", () => {
    expect(judge(base)).toEqual([
      { kind: "destroy", address: "module.compute.aws_instance.host", action: "replace", replacePaths: ["ami"] },
      { kind: "destroy", address: "aws_security_group.ec2_existing_vpc", deposed: "b4a44223", action: "delete", replacePaths: [] },
    ]);
  });

  it("passes what the allow-list names (a deposed object only when the entry says so), and fails an entry the plan does not use", () => {
    const allow = [
      { address: "module.compute.aws_instance.host", reason: "AMI drift" },
      { address: "aws_security_group.ec2_existing_vpc", reason: "current object" },
      { address: "aws_iam_role.iam_ecs_task", reason: "stale" },
    ];
    expect(judge({ ...base, allow })).toEqual([
      { kind: "destroy", address: "aws_security_group.ec2_existing_vpc", deposed: "b4a44223", action: "delete", replacePaths: [] },
      { kind: "unused-allowance", address: "aws_security_group.ec2_existing_vpc" },
      { kind: "unused-allowance", address: "aws_iam_role.iam_ecs_task" },
    ]);
    expect(judge({ ...base, allow: [allow[0], { ...allow[1], deposed: true }] })).toEqual([]);
  });

  it("fails a moved block whose object is in the state but does not show as moved", () => {
    const notMoved = changeRows({ resource_changes: [rc("aws_iam_role.iam_ec2_role", ["create"])] });
    expect(judge({ ...base, rows: notMoved, allow: [] })).toEqual([
      { kind: "move", from: "module.iam.aws_iam_role.ec2_role", to: "aws_iam_role.iam_ec2_role" },
    ]);
    // Excluded targets are not judged; an object not in the state needs no move.
    expect(judge({ ...base, rows: notMoved, notJudged: new Set(["aws_iam_role.iam_ec2_role"]) })).toEqual([]);
    expect(judge({ ...base, rows: notMoved, stateAddresses: new Set() })).toEqual([]);
  });

  it("says what a plan error means without printing the value", () => {
    const script = "#!/bin/bash\n" + "echo secret-ish\n".repeat(1100);
    const d = { severity: "error" as const, summary: `expected length of user_data to be in the range (0 - 16384), got ${script}`, address: "module.compute.aws_instance.host" };
    expect(judge({ ...base, errors: [d], allow: [] })[0]).toEqual({
      kind: "error",
      address: "module.compute.aws_instance.host",
      message: "user_data is 17,612 bytes, over EC2's 16,384-byte user-data limit (the rendered value; the provider refuses it at plan time)",
    });
    expect(explain({ severity: "error", summary: "Invalid count argument", detail: "The count value depends on\nresource attributes.", range: { filename: "modules/ssm/main.tf", start: { line: 71 } }, snippet: { context: 'resource "aws_ssm_parameter" "ml_worker_queue_url"' } })).toBe(
      'Invalid count argument (modules/ssm/main.tf:71, resource "aws_ssm_parameter" "ml_worker_queue_url"): The count value depends on resource attributes.',
    );
  });

  it("matches an allow-list entry to the exact address, never a longer one that starts with it", () => {
    const rows = changeRows({
      resource_changes: [
        rc("aws_security_group.ec2_existing_vpc", ["delete"]),
        rc("module.route53.aws_route53_record.www_a[0]", ["delete"]),
      ],
    });
    const allow = [
      { address: "aws_security_group.ec2", reason: "a prefix of the deleted address" },
      { address: "module.route53.aws_route53_record.www_a", reason: "the resource, not its instance [0]" },
    ];
    expect(judge({ ...base, rows, allow, stateAddresses: new Set() })).toEqual([
      { kind: "destroy", address: "aws_security_group.ec2_existing_vpc", action: "delete", replacePaths: [] },
      { kind: "destroy", address: "module.route53.aws_route53_record.www_a[0]", action: "delete", replacePaths: [] },
      { kind: "unused-allowance", address: "aws_security_group.ec2" },
      { kind: "unused-allowance", address: "module.route53.aws_route53_record.www_a" },
    ]);
  });

  it("wires the environment's lists in as plan-check does: allowReplacement allows a replace, never a delete, and is never an unused entry", () => {
    const queue = "aws_sqs_queue.ml_worker_ml_worker";
    const config = { allowReplacement: [queue] };
    const facts = (changes: ResourceChange[]) => ({ ...base, rows: changeRows({ resource_changes: changes }), stateAddresses: new Set<string>() });
    expect(judge(verdictInput(config, facts([rc(queue, ["delete", "create"], {}, { replace_paths: [["name"]] })])))).toEqual([]);
    expect(judge(verdictInput(config, facts([rc(queue, ["delete"])])))).toEqual([{ kind: "destroy", address: queue, action: "delete", replacePaths: [] }]);
    expect(judge(verdictInput(config, facts([rc(queue, ["no-op"])])))).toEqual([]);
    // allowDestroy allows both, and its unused entries fail.
    expect(judge(verdictInput({ allowDestroy: [{ address: queue, reason: "r" }] }, facts([rc(queue, ["delete"])])))).toEqual([]);
    expect(judge(verdictInput({ allowDestroy: [{ address: queue, reason: "r" }] }, facts([rc(queue, ["no-op"])])))).toEqual([{ kind: "unused-allowance", address: queue }]);
  });

  it("fails a create at an address the environment's deployed list records: the state lacks a deployed object (a second API host)", () => {
    const host = "aws_instance.compute_host";
    const facts = (changes: ResourceChange[], notJudged = new Set<string>()) => ({ ...base, rows: changeRows({ resource_changes: changes }), stateAddresses: new Set<string>(), notJudged });
    const created = facts([rc(host, ["create"]), rc("aws_route53_record.api_a", ["update"]), rc("aws_sqs_queue.new_queue", ["create"])]);
    // production's deployed list, as configured: the host's HCL address comes from the one table, stacks/moves.ts.
    expect(judge(verdictInput(production, created))).toEqual([{ kind: "create-deployed", address: host, formerly: "module.compute.aws_instance.host" }]);
    // Not deployed: a create is a new resource, not judged; deployed but not created, or left out by --exclude: nothing.
    expect(judge(verdictInput({ ...production, deployed: {} }, created))).toEqual([]);
    expect(judge(verdictInput(production, facts([rc(host, ["no-op"])])))).toEqual([]);
    expect(judge(verdictInput(production, facts([rc(host, ["create"])], new Set([host]))))).toEqual([]);
    // An address with no HCL counterpart: named alone.
    const queue = "aws_sqs_queue.ml_worker_ml_worker_extra";
    expect(judge(verdictInput({ deployed: { [queue]: {} } }, facts([rc(queue, ["create"])])))).toEqual([{ kind: "create-deployed", address: queue }]);
  });

  it("fails a forget (a `removed` block) outside the allow-list, as a delete: the object would stay in AWS, unmanaged", () => {
    // As Terraform 1.11.4 plans a `removed { lifecycle { destroy = false } }` of the alarm the stack dropped.
    const alarm = "module.ml_worker.aws_cloudwatch_metric_alarm.dlq_messages";
    const forget = rc(alarm, ["forget"], { action_reason: "delete_because_no_resource_config" }, { after: null });
    const facts = { ...base, rows: changeRows({ resource_changes: [forget] }), stateAddresses: new Set([alarm]) };
    expect(judge(verdictInput(production, facts))).toEqual([{ kind: "destroy", address: alarm, action: "forget", replacePaths: [] }]);
    expect(failureText(judge(verdictInput(production, facts))[0])).toBe(
      "`module.ml_worker.aws_cloudwatch_metric_alarm.dlq_messages`: forget (a `removed` block: Terraform stops managing it and the object stays in AWS, unmanaged) — not in the environment's allowDestroy",
    );
    // allowDestroy allows it, by its exact address; allowReplacement (replaces only) does not.
    expect(judge(verdictInput({ allowDestroy: [{ address: alarm, reason: "handed to the monitoring stack" }] }, facts))).toEqual([]);
    expect(judge(verdictInput({ allowReplacement: [alarm] }, facts))).toEqual([{ kind: "destroy", address: alarm, action: "forget", replacePaths: [] }]);
  });

  it("fails an import of an object the state manages, and a plan it cannot read whole: errored part-way, incomplete (deferred), another format_version, a part it does not read", () => {
    const whole = { format_version: "1.2", terraform_version: "1.11.4", resource_changes: [], output_changes: {}, resource_drift: [], errored: false, complete: true, applyable: true };
    const facts = (plan: Record<string, unknown>) => ({ ...base, rows: changeRows(plan as PlanJson), stateAddresses: new Set<string>(), plan: plan as PlanJson });
    // adoptMlWorkerRepository's import block, where no state here holds that repository: an adoption, listed, not failed.
    const adopt = rc("aws_ecr_repository.ecr_ml_worker", ["update"], {}, { before: { scan: false }, after: { scan: true }, importing: { id: "zivohealth-production-ml-worker" } });
    const backend = { address: "aws_ecr_repository.ecr_backend", mode: "managed", type: "aws_ecr_repository", values: { id: "zivohealth-production-backend" } };
    const withState = (changes: ResourceChange[]) => ({ ...whole, resource_changes: changes, prior_state: { values: { root_module: { resources: [backend] } } } });
    expect(judge(verdictInput({}, facts(withState([adopt]))))).toEqual([]);
    expect(changeRows(withState([adopt]))[0].importId).toBe("zivohealth-production-ml-worker");
    // The same import block naming the repository the state manages as the backend's: two addresses, one object.
    const twice = rc("aws_ecr_repository.ecr_ml_worker", ["no-op"], {}, { importing: { id: "zivohealth-production-backend" } });
    expect(judge(verdictInput({}, facts(withState([twice]))))).toEqual([
      { kind: "import", address: "aws_ecr_repository.ecr_ml_worker", id: "zivohealth-production-backend", existing: "aws_ecr_repository.ecr_backend" },
    ]);
    expect(failureText(judge(verdictInput({}, facts(withState([twice]))))[0])).toBe(
      "`aws_ecr_repository.ecr_ml_worker`: import of `zivohealth-production-backend`, which the state already manages as `aws_ecr_repository.ecr_backend`: " +
        "two addresses would manage one object (what one destroys, the other loses). Move it instead (a moved block, stacks/moves.ts), or drop the import block",
    );
    expect(judge(verdictInput({}, facts(whole)))).toEqual([]);
    expect(judge(verdictInput({}, facts({ ...whole, format_version: "2.0", errored: true, complete: false, deferred_changes: [{ reason: "provider_config_unknown" }], action_invocations: [], checks: [] })))).toEqual([
      { kind: "unjudged", message: 'its JSON format_version is "2.0", not 1.x, the format the gate reads' },
      { kind: "unjudged", message: "Terraform stopped it on an error part-way (errored)" },
      { kind: "unjudged", message: "it is incomplete: Terraform left changes for a later plan (complete: false: deferred actions, or a -target plan)" },
      { kind: "unjudged", message: "it holds `deferred_changes`, which the gate does not read" },
    ]);
    expect(judge(verdictInput({}, facts({ resource_changes: [] }))).map(failureText)).toEqual(["the plan cannot be judged: its JSON format_version is null, not 1.x, the format the gate reads"]);
    // Terraform 1.11.4 marks a -target plan incomplete too: plan-check's --exclude, whose addresses it lists as not judged, is not refused for it.
    expect(judge(verdictInput({}, { ...facts({ ...whole, complete: false }), notJudged: new Set(["module.route53.aws_route53_zone.zone"]) }))).toEqual([]);
    // A condition found false at plan: a check block's assertion is only a warning to Terraform, the plan goes on. As 1.11.4 writes `checks`.
    const check = (to_display: string, status: string) => ({ address: { kind: "check", name: to_display.replace("check.", ""), to_display }, status, instances: [] });
    const checked = { ...whole, checks: [check("aws_instance.compute_host", "pass"), check("check.rds_reachable", "fail"), check("check.queue_url", "unknown"), check("check.ami", "error")] };
    expect(judge(verdictInput({}, facts(checked))).map(failureText)).toEqual([
      "`check.rds_reachable`: its conditions fail in this plan (a check block's assertion, a postcondition): Terraform's text says which",
      "`check.ami`: its conditions could not be evaluated (error) in this plan (a check block's assertion, a postcondition): Terraform's text says which",
    ]);
  });

  it("fails a create named as an object the state holds and the plan keeps (a second API host, a second queue): by type, name and scope", () => {
    // As Terraform 1.11.4 plans the post-fix state with the host and the queue declared a second time at new addresses.
    const prior = (...objects: [string, string, Record<string, unknown>][]) => ({
      values: { root_module: { resources: objects.map(([address, type, values]) => ({ address, mode: "managed", type, values })) } },
    });
    const host = { tags: { Name: "zivohealth-production-ec2-no-snapd" }, ami: "ami-0c398cb65a93047f2" };
    const queue = { name: "production-ml-worker" };
    const record = (zone: string) => ({ name: "api.zivohealth.ai", type: "A", zone_id: zone });
    const plan = (changes: ResourceChange[]) =>
      ({
        format_version: "1.2",
        resource_changes: changes,
        prior_state: prior(
          ["aws_instance.compute_host", "aws_instance", host],
          ["aws_sqs_queue.ml_worker_ml_worker", "aws_sqs_queue", queue],
          ["module.route53.aws_route53_record.api_a", "aws_route53_record", record("Z1")],
        ),
      }) as PlanJson;
    const facts = (p: PlanJson) => ({ ...base, rows: changeRows(p), stateAddresses: new Set<string>(), plan: p });
    const second = plan([
      rc("aws_instance.second_host", ["create"], {}, { after: host, after_unknown: { id: true } }),
      rc("aws_sqs_queue.ml_worker_second", ["create"], {}, { after: queue, after_unknown: { arn: true, url: true } }),
      // Another zone's record of the same name and type; a queue whose name is known only at apply.
      rc("aws_route53_record.api_b", ["create"], {}, { after: record("Z2") }),
      rc("aws_sqs_queue.later", ["create"], {}, { after: {}, after_unknown: { name: true } }),
    ]);
    expect(judge(verdictInput(production, facts(second)))).toEqual([
      { kind: "duplicate", address: "aws_instance.second_host", existing: "aws_instance.compute_host", type: "aws_instance", attribute: "tags.Name", name: "zivohealth-production-ec2-no-snapd" },
      { kind: "duplicate", address: "aws_sqs_queue.ml_worker_second", existing: "aws_sqs_queue.ml_worker_ml_worker", type: "aws_sqs_queue", attribute: "name", name: "production-ml-worker" },
    ]);
    expect(judge(verdictInput(production, facts(second))).map(failureText)).toEqual([
      "`aws_instance.second_host`: create of `tags.Name` `zivohealth-production-ec2-no-snapd`, as `aws_instance.compute_host`, which the state holds and this plan keeps: " +
        "AWS accepts it, but it is a second host of that Name, beside the one everything finds by it. Move the existing one to this address (a moved block, stacks/moves.ts) instead",
      "`aws_sqs_queue.ml_worker_second`: create of `name` `production-ml-worker`, as `aws_sqs_queue.ml_worker_ml_worker`, which the state holds and this plan keeps: " +
        "applying would make a second one (or fail on the name). Move the existing one to this address (a moved block, stacks/moves.ts) instead",
    ]);
    // A name Terraform marks sensitive: never compared, so never in the report.
    const secretName = plan([rc("aws_sqs_queue.ml_worker_second", ["create"], {}, { after: queue, after_sensitive: { name: true } })]);
    expect(judge(verdictInput(production, facts(secretName)))).toEqual([]);
    // The existing one deleted in the same plan (allowed here): a rename, judged by its delete alone.
    const renamed = plan([rc("aws_sqs_queue.ml_worker_ml_worker", ["delete"]), rc("aws_sqs_queue.ml_worker_second", ["create"], {}, { after: queue })]);
    expect(judge(verdictInput({ allowDestroy: [{ address: "aws_sqs_queue.ml_worker_ml_worker", reason: "renamed" }] }, facts(renamed)))).toEqual([]);
  });

  it("fails every state instance the plan cannot account for, unless keepUnplannable names it exactly (instance or resource address)", () => {
    const unplannable = [
      { address: "tls_private_key.deploy", resource: "tls_private_key.deploy", why: "provider tls is not installed here" },
      { address: "module.x.random_string.s[0]", resource: "module.x.random_string.s", why: "provider random is not installed here" },
      { address: "module.x.random_string.s[1]", resource: "module.x.random_string.s", why: "provider random is not installed here" },
      { address: "aws_made_up_thing.x", resource: "aws_made_up_thing.x", why: "no such type" },
    ];
    const keep = [
      { address: "tls_private_key.dep", reason: "a prefix: matches nothing" },
      { address: "module.x.random_string.s", reason: "every instance" },
      { address: "aws_made_up_thing.x", reason: "by its address" },
    ];
    const noChange = { ...base, rows: [], stateAddresses: new Set<string>() };
    expect(judge(verdictInput({ keepUnplannable: keep }, { ...noChange, unplannable }))).toEqual([
      { kind: "unplannable", address: "tls_private_key.deploy", why: "provider tls is not installed here" },
      { kind: "unused-keep", address: "tls_private_key.dep" },
    ]);
    expect(judge(verdictInput({ keepUnplannable: [{ address: "module.x.random_string.s[1]", reason: "one instance" }] }, { ...noChange, unplannable: unplannable.slice(1, 3) }))).toEqual([
      { kind: "unplannable", address: "module.x.random_string.s[0]", why: "provider random is not installed here" },
    ]);
    expect(judge(verdictInput({}, { ...noChange, unplannable: [] }))).toEqual([]);
  });
});

describe("the comparison with the HCL root", () => {
  const change = (address: string, actions: string[], after: object, extra: Partial<ResourceChange> = {}): ResourceChange => ({
    address,
    mode: "managed",
    type: "t",
    ...extra,
    change: { actions, after: after as any, after_unknown: {} },
  });

  it("matches addresses through the moved blocks and names every difference", () => {
    const result = comparePlans({
      hcl: [
        change("module.iam.aws_iam_role.ec2_role", ["no-op"], { name: "r" }),
        change("module.iam.aws_iam_role_policy.ssm_params_read", ["create"], { policy: '{"Resource":["a"]}' }),
        change("module.ssm.aws_ssm_parameter.db_host", ["update"], { value: "h" }),
      ],
      stack: [
        change("aws_iam_role.iam_ec2_role", ["no-op"], { name: "r" }, { previous_address: "module.iam.aws_iam_role.ec2_role" }),
        change("aws_iam_role_policy.iam_ssm_params_read", ["create"], { policy: '{"Resource":"a"}' }),
        change("module.ssm.aws_ssm_parameter.db_host", ["update"], { value: "h" }),
        change("aws_ssm_parameter.ssm_ml_worker_enabled", ["create"], { value: "true" }),
        change("aws_vpc.managed_existing", ["create"], {}),
      ],
      toStack: counterpart,
      notCompared: new Map([["aws_ssm_parameter.ssm_ml_worker_enabled", "the HCL root cannot plan it here"]]),
    });
    expect(result).toEqual({
      equal: 2,
      intended: [],
      differences: [
        { address: "aws_iam_role_policy.iam_ssm_params_read (HCL module.iam.aws_iam_role_policy.ssm_params_read)", message: "planned values differ: policy" },
        { address: "aws_vpc.managed_existing", message: "the stack plans create; the HCL root has no such instance" },
      ],
      notCompared: [{ address: "aws_ssm_parameter.ssm_ml_worker_enabled", why: "the HCL root cannot plan it here" }],
    });
  });
});

describe("the intended difference (stacks/moves.ts): the host's user-data encoding, there and nowhere else", () => {
  const change = (address: string, actions: string[], after: object, afterUnknown: object = {}, extra: Partial<ResourceChange> = {}): ResourceChange => ({
    address,
    mode: "managed",
    type: "t",
    ...extra,
    change: { actions, after: after as any, after_unknown: afterUnknown as any },
  });
  const compare = (hcl: ResourceChange[], stack: ResourceChange[], notCompared = new Map<string, string>()) =>
    comparePlans({ hcl, stack, toStack: counterpart, notCompared, intended: (a) => INTENDED_DIFFERENCES.find((d) => d.address === resourceOf(a)) });
  const HCL_HOST = "module.compute.aws_instance.host";
  const HOST = "aws_instance.compute_host";
  const LABEL = `${HOST} (HCL ${HCL_HOST})`;
  const REASON = INTENDED_DIFFERENCES[0].reason;

  it("accepts user_data and user_data_base64 differing at the host, and names them", () => {
    const r = compare(
      [change(HCL_HOST, ["update"], { ami: "ami-1", user_data: "hash-of-plain" })],
      [change(HOST, ["update"], { ami: "ami-1", user_data: "hash-before", user_data_base64: "H4sI..." }, {}, { previous_address: HCL_HOST })],
    );
    expect(r).toEqual({
      equal: 0,
      intended: [{ address: LABEL, compared: true, attributes: ["user_data", "user_data_base64"], differing: ["user_data", "user_data_base64"], reason: REASON }],
      differences: [],
      notCompared: [],
    });
  });

  it("still fails anything else at the host: another attribute, the action, the replace paths", () => {
    const replaced = change(HCL_HOST, ["delete", "create"], { ami: "ami-new", user_data: "x" });
    const r = compare([{ ...replaced, change: { ...replaced.change, replace_paths: [["ami"]] } }], [change(HOST, ["update"], { ami: "ami-1", user_data_base64: "y" })]);
    expect(r.differences).toEqual([
      { address: LABEL, message: "action: HCL replace, stack update; replace paths: HCL [ami], stack []; planned values differ: ami" },
    ]);
    expect(r.intended.map((d) => d.differing)).toEqual([["user_data", "user_data_base64"]]);
  });

  it("accepts nowhere else: the same attributes differing at another address fail", () => {
    const r = compare([change("aws_instance.other", ["update"], { user_data: "a" })], [change("aws_instance.other", ["update"], { user_data_base64: "b" })]);
    expect(r.differences).toEqual([{ address: "aws_instance.other", message: "planned values differ: user_data, user_data_base64" }]);
    expect(r.intended).toEqual([]);
  });

  it("says when both sides know the attributes only at apply (a replaced host), and when the host is not compared", () => {
    const unknown = { user_data: true, user_data_base64: true };
    const r = compare([change(HCL_HOST, ["create"], {}, unknown)], [change(HOST, ["create"], {}, unknown)]);
    expect(r.equal).toBe(1);
    expect(r.intended).toEqual([{ address: LABEL, compared: true, attributes: ["user_data", "user_data_base64"], differing: [], reason: REASON }]);
    const skipped = compare([], [change(HOST, ["update"], { user_data_base64: "y" })], new Map([[HOST, "the HCL root cannot plan it here"]]));
    expect(skipped.intended).toEqual([{ address: HOST, compared: false, attributes: ["user_data", "user_data_base64"], differing: [], reason: REASON }]);
    expect(skipped.differences).toEqual([]);
    // The count line counts what is declared, so it never reads "0" above a listed entry.
    const md = renderMarkdown({ ...EMPTY_REPORT, hcl: { dir: "/hcl", comparison: skipped, unplannable: [] } });
    expect(md).toContain(
      "0 address(es) equal (actions, replace paths and planned values, through the moved blocks); 1 intended difference(s) declared (0 differing here); 0 difference(s); 1 not compared.\n" +
        `- intended difference at \`${HOST}\` (stacks/moves.ts, INTENDED_DIFFERENCES): \`user_data\`, \`user_data_base64\`, not compared here; ${REASON}`,
    );
  });

  it("fails a stale entry: both sides know the attributes and they are equal", () => {
    const same = { user_data: null, user_data_base64: "H4sI..." };
    const r = compare([change(HCL_HOST, ["no-op"], same)], [change(HOST, ["no-op"], same)]);
    expect(r.differences).toEqual([
      { address: LABEL, message: "equal in user_data, user_data_base64, which stacks/moves.ts declares an intended difference here: a stale entry; remove it" },
    ]);
  });

  it("is reported by name in the plan-check report", () => {
    const r = compare(
      [change(HCL_HOST, ["update"], { user_data: "a" })],
      [change(HOST, ["update"], { user_data_base64: "b" })],
    );
    const md = renderMarkdown({ ...EMPTY_REPORT, hcl: { dir: "/hcl", comparison: r, unplannable: [] } });
    expect(md).toContain(
      "0 address(es) equal (actions, replace paths and planned values, through the moved blocks); 1 intended difference(s) declared (1 differing here); 0 difference(s); 0 not compared.\n" +
        `- intended difference at \`${LABEL}\` (stacks/moves.ts, INTENDED_DIFFERENCES): \`user_data\`, \`user_data_base64\` differ; ${REASON}`,
    );
  });
});

describe("what the HCL root cannot plan: planned around, named, not compared", () => {
  const modulePathOf = (file: string) => (file === "modules/ssm/main.tf" ? "module.ssm" : undefined);
  const length = { severity: "error" as const, summary: `expected length of user_data to be in the range (0 - 16384), got ${"x".repeat(17485)}`, address: "module.compute.aws_instance.host" };
  const count = {
    severity: "error" as const,
    summary: "Invalid count argument",
    range: { filename: "modules/ssm/main.tf", start: { line: 71 } },
    snippet: { context: 'resource "aws_ssm_parameter" "ml_worker_queue_url"' },
  };

  it("turns a resource's plan error and a count unknown at plan into addresses to plan around, each with why", () => {
    expect(unplannableResources([length, count], modulePathOf)).toEqual([
      { address: "module.compute.aws_instance.host", why: "user_data is 17,485 bytes, over EC2's 16,384-byte user-data limit (the rendered value; the provider refuses it at plan time)" },
      { address: "module.ssm.aws_ssm_parameter.ml_worker_queue_url", why: "Invalid count argument: its count depends on a value known only after apply (the ML worker queue URL)" },
    ]);
  });

  it("gives up on an error that belongs to no resource", () => {
    expect(unplannableResources([length, { severity: "error", summary: "Unsupported argument" }], modulePathOf)).toBeUndefined();
  });
});

describe("exclusion through Terraform's graph", () => {
  const dot = [
    "digraph G {",
    '  "module.compute.aws_instance.host" [label="aws_instance.host"];',
    '  "module.route53.aws_route53_record.api_a" [label="aws_route53_record.api_a"];',
    '  "module.compute.aws_instance.host" -> "aws_ecr_repository.ecr_backend";',
    '  "module.route53.aws_route53_record.api_a" -> "module.compute.aws_instance.host";',
    '  "output.x" -> "module.route53.aws_route53_record.api_a";',
    "}",
  ].join("\n");

  it("leaves out what depends on an excluded address, directly or not, and nothing it depends on", () => {
    const { edges } = parseGraph(dot);
    expect(dependentsOf("module.compute.aws_instance.host", edges)).toEqual(["module.route53.aws_route53_record.api_a", "output.x"]);
    expect(dependentsOf("aws_ecr_repository.ecr_backend", edges)).toEqual([
      "module.compute.aws_instance.host",
      "module.route53.aws_route53_record.api_a",
      "output.x",
    ]);
  });
});

describe("plan-check's bad input: exit 2, a clear message, nothing written", () => {
  // No TF_VAR_ from the caller's environment: what a variable needs is part of what is tested.
  const withoutVars = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("TF_VAR_")));
  const run = async (argv: string[], env: NodeJS.ProcessEnv = withoutVars, environments?: Record<string, typeof production>) => {
    const cwd = tmp("cli");
    const out = { stdout: "", stderr: "" };
    const code = await main(argv, { cwd, stdout: (t) => (out.stdout += t), stderr: (t) => (out.stderr += t) }, { env, environments });
    return { code, ...out, cwd, written: fs.readdirSync(cwd) };
  };
  const bad = (name: string, content: string) => {
    const f = path.join(tmp("in"), name);
    fs.writeFileSync(f, content);
    return f;
  };
  const hclRoot = (files: Record<string, string>) => {
    const dir = tmp("hcl");
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    return dir;
  };
  const io = (cwd: string) => ({ cwd, stdout: () => undefined, stderr: () => undefined });
  /** The post-fix state, edited through its host's resource entry. */
  const withHost = (edit: (s: RawState, host: RawState["resources"][number]) => void) => {
    const s = JSON.parse(fs.readFileSync(POST_FIX, "utf8")) as RawState;
    edit(s, s.resources.find((r) => r.type === "aws_instance")!);
    return s;
  };

  it.each([
    [["--stack", "nosuch"], /^error: unknown stack 'nosuch'; the stacks are: production/],
    [["--state", "/nonexistent/x.tfstate"], "error: state file not found: /nonexistent/x.tfstate"],
    [["--state", bad("a.tfstate", "{")], /^error: state file .*a\.tfstate is not JSON: /],
    [["--state", bad("b.tfstate", '{"version":3,"resources":[]}')], /^error: state file .*b\.tfstate: format version 3; plan-check reads version 4/],
    [["--state", bad("c.tfstate", '{"version":4}')], /^error: state file .*c\.tfstate has no "resources" list/],
    [["--offline", "--data", bad("d.json", "[]")], /^error: --data file .*d\.json must be an object of values by address/],
    [["--offline", "--modules", "/nonexistent/modules"], "error: no HCL modules at /nonexistent/modules (give --modules <dir>)"],
    [["--offline", "--modules", MODULES, "--against-hcl", "/nonexistent"], "error: --against-hcl /nonexistent: no such folder (/nonexistent)"],
    [["--exclude"], "error: --exclude needs a resource address"],
    [["--bogus"], "error: unknown option: --bogus"],
    [["--state", "a.tfstate", "--state", "b.tfstate"], "error: --state is given twice ('a.tfstate' and 'b.tfstate'): it takes one value"],
    [["--out=x", "--out", "y"], "error: --out is given twice ('x' and 'y'): it takes one value"],
    [
      ["--state", bad("dup.tfstate", JSON.stringify(withHost((s, host) => s.resources.push(host))))],
      /^error: state file .*dup\.tfstate lists an instance more than once: module\.compute\.aws_instance\.host \(resources\[11\] and resources\[67\]\)\. Terraform refuses to load such a state \("Duplicate resource instance in state"\); give the state Terraform wrote$/,
    ],
    [
      ["--state", bad("dup2.tfstate", JSON.stringify(withHost((_s, host) => host.instances.push(host.instances[0]))))],
      /^error: state file .*dup2\.tfstate lists an instance more than once: module\.compute\.aws_instance\.host \(resources\[11\] and resources\[11\]\)\. Terraform refuses/,
    ],
    [["--state", bad("e.tfstate", '{"version":4,"resources":[{"mode":"managed","name":"host","instances":[]}]}')], /^error: state file .*e\.tfstate: resources\[0\] is malformed \(no type or name\)$/],
    [["--offline", "--data", bad("f.json", '{"data.aws_vpc.existing":"vpc-04d23036cd269f2a6"}')], /^error: --data entry 'data\.aws_vpc\.existing' in .*f\.json must be an object of its attributes \(a list of them for a counted one\); got a string$/],
    [["--offline", "--data", bad("g.json", '{"aws vpc":{"id":"vpc-1"}}')], /^error: --data entry 'aws vpc' in .*g\.json is not a data source or resource address \(like data\.aws_vpc\.existing or module\.compute\.data\.aws_ami\.ubuntu\)$/],
    [["--offline", "--modules", MODULES], "error: refusing to plan stack 'production' against an empty state (offline without --state): Terraform would plan to create every resource again (a second EC2 host, a second zone) and the gate would judge nothing that exists. Give --state <a state that holds the stack's resources>, or, for an environment that was never deployed, set newEnvironment: true in its configuration"],
    [["--offline", "--modules", MODULES, "--state", bad("h.tfstate", '{"version":4,"resources":[{"mode":"data","type":"aws_vpc","name":"v","provider":"p","instances":[{}]}]}')], /^error: refusing to plan stack 'production' against the state .*h\.tfstate, which holds no managed resources: Terraform would plan/],
    [["--offline", "--modules", MODULES, "--state", POST_FIX, "--against-hcl", POST_FIX], `error: --against-hcl ${POST_FIX} is a file, not a folder: give the HCL root's folder (the one with main.tf)`],
    [["--offline", "--modules", MODULES, "--state", POST_FIX, "--against-hcl", hclRoot({ "main.tf": 'resource "aws_vpc" "x" {\n  cidr_block = \n}\n' })], /^error: --against-hcl .*: main\.tf is not valid HCL: main\.tf:2,16-3,1: Invalid expression; Expected the start of an expression, but found an invalid expression token\.$/],
    [["--offline", "--modules", MODULES, "--state", POST_FIX, "--against-hcl", hclRoot({ "variables.tf": 'variable "region" {}\nvariable "db_password_plain" {}\nvariable "zone" {}\n', "terraform.tfvars": 'zone = "z"\n' })], /^error: the HCL root .* needs a value for the Terraform variables db_password_plain, region \(no default\), and the environment gives none: export TF_VAR_db_password_plain=<value> TF_VAR_region=<value> and run again/],
  ])("%j", async (argv, message) => {
    const r = await run(argv as string[]);
    expect(r.code).toBe(2);
    const first = r.stderr.split("\n")[0];
    if (typeof message === "string") expect(first).toBe(message);
    else expect(first).toMatch(message);
    expect(r.stdout).toBe("");
    expect(r.written).toEqual([]);
  });

  it("--against-hcl compiles @cdktf/hcl2json's WebAssembly by V8's baseline compiler alone (lib/wasm.ts): --liftoff-only is set before", async () => {
    const r = await run(["--offline", "--modules", MODULES, "--state", POST_FIX, "--against-hcl", hclRoot({ "main.tf": "resource {\n" })]);
    expect(r.stderr).toMatch(/^error: --against-hcl .*: main\.tf is not valid HCL: /);
    // hcl2json is compiled once a process (at the first --against-hcl, above or here); the flag comes first.
    expect(wasm.events.filter((e) => e === "instantiate" || e === "compile")).toEqual(["instantiate"]);
    expect([...new Set(wasm.events.slice(0, wasm.events.indexOf("instantiate")))]).toEqual(["flags --liftoff-only"]);
  });

  it("an --out too deep for a temporary folder of its own, and a TMPDIR too long for a provider's socket: refused before anything is written", async () => {
    const long = path.join(tmp("lt"), "t".repeat(60));
    fs.mkdirSync(long);
    const cwd = tmp("cli");
    const out = path.join(cwd, "o".repeat(80));
    let stderr = "";
    const env = { ...withoutVars, TMPDIR: long };
    const code = await main(["--offline", "--modules", MODULES, "--state", POST_FIX, "--out", out], { cwd, stdout: () => undefined, stderr: (t) => (stderr += t) }, { env });
    expect(code).toBe(2);
    expect(stderr).toBe(
      `error: TMPDIR ${long} is ${Buffer.byteLength(long)} bytes, over the 90 a Terraform provider's socket leaves (<TMPDIR>/plugin<digits>, 107 bytes at most), ` +
        `and --out ${out} is too deep for a temporary folder of the run's own (${Buffer.byteLength(path.join(out, ".zivohealth-tmp"))} bytes): set TMPDIR to a shorter folder (TMPDIR=/tmp)\n`,
    );
    expect(fs.readdirSync(cwd)).toEqual([]);
    expect(fs.readdirSync(long)).toEqual([]);
  });

  describe("the stack's planCheck defaults (--modules, and --data offline)", () => {
    const ROOT = path.resolve(__dirname, "..");
    const withDefaults = (planCheck: { modules?: string; data?: string }) => ({ production: { ...production, planCheck } });
    const runWith = async (argv: string[], environments: Record<string, typeof production>) => {
      const cwd = tmp("cli");
      let stderr = "";
      const code = await main(argv, { cwd, stdout: () => undefined, stderr: (t) => (stderr += t) }, { env: withoutVars, environments });
      return { code, first: stderr.split("\n")[0], written: fs.readdirSync(cwd) };
    };

    it("a default folder that does not exist: exit 2, the setting named, before anything is written", async () => {
      const r = await runWith(["--offline", "--state", POST_FIX], withDefaults({ modules: "no/such/modules" }));
      expect(r).toEqual({
        code: 2,
        first: `error: planCheck.modules of stack 'production' (config/environments.ts) names a folder that does not exist: ${path.join(ROOT, "no/such/modules")}; correct it, or give --modules <dir>`,
        written: [],
      });
    });

    it("a default --data file that does not exist: exit 2 offline; online it is not read", async () => {
      const config = withDefaults({ modules: path.relative(ROOT, MODULES), data: "no/such/data.json" });
      expect((await runWith(["--offline", "--state", POST_FIX], config)).first).toBe(
        `error: planCheck.data of stack 'production' (config/environments.ts) names a file that does not exist: ${path.join(ROOT, "no/such/data.json")}; correct it, or give --data <file>`,
      );
      // Online the data sources are read by Terraform: the default is not used, and the next check speaks.
      expect((await runWith(["--state", "/nonexistent/x.tfstate"], config)).first).toBe("error: state file not found: /nonexistent/x.tfstate");
    });

    it("a flag wins: the default is not even looked at", async () => {
      const r = await runWith(["--offline", "--modules", MODULES, "--data", DATA], withDefaults({ modules: "no/such/modules", data: "no/such/data.json" }));
      expect(r.first).toMatch(/^error: refusing to plan stack 'production' against an empty state/);
    });

    it("the defaults a configured stack gives exist (paths from the project folder)", () => {
      const given = Object.entries({ ...configured.environments, ...configured.reviewEnvironments }).filter(([, c]) => c.planCheck);
      for (const [name, c] of given) {
        if (c.planCheck!.modules) expect([name, fs.statSync(path.resolve(ROOT, c.planCheck!.modules)).isDirectory()]).toEqual([name, true]);
        if (c.planCheck!.data) expect([name, fs.statSync(path.resolve(ROOT, c.planCheck!.data)).isFile()]).toEqual([name, true]);
      }
      // The examples: production's are the fixtures' modules and recorded values; staging's, its own values.
      expect(configured.production.planCheck).toEqual({ modules: "../shared/fixtures/existing-hcl/terraform/modules", data: "__tests__/fixtures/plan-check/production-data.json" });
      expect(configured.staging.planCheck).toEqual({ modules: "../shared/fixtures/existing-hcl/terraform/modules", data: "__tests__/fixtures/plan-check/staging-data.json" });
      expect(fs.realpathSync(path.resolve(ROOT, configured.production.planCheck!.modules!))).toBe(fs.realpathSync(MODULES));
    });
  });

  it("a stack marked newEnvironment whose state holds resources: refused, as diff and deploy do", async () => {
    let stderr = "";
    const cwd = tmp("cli");
    const code = await main(["--stack", "staging", "--offline", "--state", POST_FIX, "--modules", MODULES], { ...io(cwd), stderr: (t) => (stderr += t) }, { environments: { production, staging } });
    expect(code).toBe(2);
    expect(stderr).toBe(
      `error: stack 'staging' is marked newEnvironment, but the state ${POST_FIX} holds 56 managed resource instance(s): it has been deployed; ` +
        "remove newEnvironment from its configuration (and record its stateful resources in deployed)\n",
    );
    expect(fs.readdirSync(cwd)).toEqual([]);
  });

  describe("--out: a folder of its own, refused before anything is written", () => {
    const inputs = tmp("inputs");
    fs.copyFileSync(POST_FIX, path.join(inputs, "state.tfstate"));
    fs.copyFileSync(DATA, path.join(inputs, "data.json"));
    const modules = path.join(inputs, "modules");
    fs.cpSync(MODULES, modules, { recursive: true });
    fs.mkdirSync(path.join(inputs, "someone-elses"));
    fs.writeFileSync(path.join(inputs, "a-file"), "x");
    const before = fs.readdirSync(inputs, { recursive: true, encoding: "utf8" }).sort();
    const args = ["--offline", "--state", path.join(inputs, "state.tfstate"), "--data", path.join(inputs, "data.json"), "--modules", modules];

    it.each([
      [inputs, `error: --out ${inputs} holds the --state input ${path.join(inputs, "state.tfstate")}: plan-check would write where its input is; give another folder`],
      [path.join(modules, "compute", "out"), `error: --out ${path.join(modules, "compute", "out")} is inside the --modules folder ${modules}: plan-check would write among its input; give another folder`],
      [path.join(inputs, "a-file"), `error: --out ${path.join(inputs, "a-file")} is a file, not a folder: give a folder (plan-check creates it)`],
      [
        path.join(inputs, "someone-elses"),
        `error: --out ${path.join(inputs, "someone-elses")} exists and was not made by plan-check (no .zivohealth-workdir.json in it): give a folder that does not exist yet (plan-check creates it) or one it made before`,
      ],
    ])("--out %s", async (out, message) => {
      const r = await run([...args, "--out", out]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`${message}\n`);
      expect(r.written).toEqual([]);
      expect(fs.readdirSync(inputs, { recursive: true, encoding: "utf8" }).sort()).toEqual(before);
    });

    it("--out inside cdktf.out/stacks, where synth and Terraform write", async () => {
      const r = await run([...args, "--out", "cdktf.out/stacks/production/plan"]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        `error: --out cdktf.out/stacks/production/plan is inside ${path.join(r.cwd, "cdktf.out", "stacks")}: cdktf synth and Terraform write there (each stack's folder); give another folder\n`,
      );
      expect(r.written).toEqual([]);
    });
  });

  it("without terraform on the PATH", async () => {
    const r = await run(["--offline", "--state", POST_FIX, "--modules", MODULES], { PATH: "/nonexistent" });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("error: offline plan needs terraform and a provider mirror: no terraform on the PATH (searched: /nonexistent)\n");
    expect(r.written).toEqual([]);
  });

  (detectToolchain().ok ? it : it.skip)("refuses to exclude an address a moved block takes elsewhere, naming where to", async () => {
    const r = await run(["--offline", "--state", POST_FIX, "--modules", MODULES, "--data", DATA, "--exclude", "module.compute.aws_instance.host"], { ...process.env, TF_VAR_db_password_plain: "REDACTED" });
    expect(r.code).toBe(2);
    // Progress first (the synthesis, the one step that ran), then the error.
    expect(r.stderr.split("\n")[0]).toBe("plan-check: synthesis (cdktf synth of every stack) …");
    expect(r.stderr.split("\n")[1]).toMatch(/^plan-check: synthesis \(cdktf synth of every stack\) \d+\.\d s$/);
    expect(r.stderr.split("\n")[2]).toBe(
      "error: --exclude module.compute.aws_instance.host: a moved block takes it to aws_instance.compute_host, where Terraform plans it: exclude aws_instance.compute_host instead",
    );
    // Refused before anything is written: not even the synthesized stack (it was staged in a temporary folder).
    expect(r.written).toEqual([]);
    // --quiet: no progress, the error alone.
    const quiet = await run(["--offline", "--state", POST_FIX, "--modules", MODULES, "--data", DATA, "--exclude", "module.compute.aws_instance.host", "--quiet"], {
      ...process.env,
      TF_VAR_db_password_plain: "REDACTED",
    });
    expect(quiet.code).toBe(2);
    expect(quiet.stderr.split("\n")).toEqual([r.stderr.split("\n")[2], ""]);
    expect(quiet.written).toEqual([]);
  });

  (detectToolchain().ok ? it : it.skip)("stops before Terraform when a value to pin is missing, and removes what it began", async () => {
    // Production as the HCL root has it: no planCheck.data default to fill the values in.
    const r = await run(["--offline", "--state", POST_FIX, "--modules", MODULES], { ...process.env, TF_VAR_db_password_plain: "REDACTED" }, { production });
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n").filter((l) => !l.startsWith("plan-check: "))[0]).toBe(
      "error: no value recorded for 3 data source(s) or resource(s) to pin offline: data.aws_caller_identity.ml_worker_current, data.aws_route_tables.private, module.vpc_endpoints.data.aws_vpc.selected.",
    );
    // Refused before anything is written: no synthesized stack, no plan-check folder.
    expect(r.written).toEqual([]);
  });

  (detectToolchain().ok ? describe : describe.skip)("bad input found in the synthesized stack: refused before the output folder opens, the previous run's results untouched", () => {
    const withVar = { ...withoutVars, TF_VAR_db_password_plain: "REDACTED" };
    const data = (edit: (d: Record<string, unknown>) => void) => {
      const d = JSON.parse(fs.readFileSync(DATA, "utf8")) as Record<string, unknown>;
      edit(d);
      return bad("data.json", JSON.stringify(d));
    };
    const someModules = tmp("modules");
    for (const m of fs.readdirSync(MODULES).filter((m) => m !== "route53")) fs.cpSync(path.join(MODULES, m), path.join(someModules, m), { recursive: true });
    const contents = (dir: string) =>
      Object.fromEntries(
        fs
          .readdirSync(dir, { recursive: true, encoding: "utf8" })
          .sort()
          .map((f) => [f, fs.statSync(path.join(dir, f)).isDirectory() ? "(folder)" : fs.readFileSync(path.join(dir, f), "utf8")]),
      );

    it.each([
      ["a variable without a default the environment does not give", [], withoutVars, /^error: stack 'production' needs a value for the Terraform variable db_password_plain \(no default\)/],
      [
        "--exclude of a moved object's old address",
        ["--exclude", "module.compute.aws_instance.host"],
        withVar,
        /^error: --exclude module\.compute\.aws_instance\.host: a moved block takes it to aws_instance\.compute_host/,
      ],
      [
        "a --data file lacking values",
        ["--data", data((d) => delete d["data.aws_route_tables.private"])],
        withVar,
        /^error: no value recorded for 1 data source\(s\) or resource\(s\) to pin offline: data\.aws_route_tables\.private\.$/m,
      ],
      [
        "a --data entry that pins nothing",
        ["--data", data((d) => (d["data.aws_vpc.nothing"] = { id: "vpc-1" }))],
        withVar,
        /^error: --data .*data\.json: 1 entry matches nothing this run pins: data\.aws_vpc\.nothing \(pinned here: /,
      ],
      [
        "a --data entry of the wrong shape",
        ["--data", data((d) => (d["data.aws_route_tables.private"] = { id: "rtb-1" }))],
        withVar,
        /^error: --data entry 'data\.aws_route_tables\.private' has no attribute 'ids', which the stack reads/,
      ],
      ["--modules without a module the stack calls", ["--modules", someModules], withVar, `error: module route53: no HCL module at ${path.join(someModules, "route53")} (see --modules)`],
    ])("%s", async (_what, argv, env, message) => {
      const cwd = tmp("cli");
      const out = path.join(cwd, "out");
      // A previous run's folder, as plan-check leaves it: its marker, its reports and plan.
      const previous = openWorkdir({ tool: "plan-check", dir: out, checkout: PROJECT_ROOT, owned: ["stack", "hcl", "report.md", "report.json", SYNTHESIS_RECORD], stderr: () => undefined });
      fs.writeFileSync(path.join(out, "report.md"), "## plan-check: stack `production` — PASS\n");
      fs.writeFileSync(path.join(out, "report.json"), '{"pass":true}');
      fs.mkdirSync(path.join(out, "stack"));
      fs.writeFileSync(path.join(out, "stack", "plan.tfplan"), "a saved plan");
      previous.finish();
      const before = contents(out);
      let stderr = "";
      const given = Object.fromEntries([["--modules", MODULES], ["--data", DATA], ...(argv.length ? [argv as [string, string]] : [])]);
      const args = ["--offline", "--state", POST_FIX, ...Object.entries(given).flat(), "--out", out, "--quiet"];
      const code = await main(args, { cwd, stdout: () => undefined, stderr: (t) => (stderr += t) }, { env });
      expect(code).toBe(2);
      if (typeof message === "string") expect(stderr).toBe(`${message}\n`);
      else expect(stderr).toMatch(message);
      expect(stderr).not.toContain("note: removed");
      expect(contents(out)).toEqual(before);
      expect(fs.readdirSync(cwd)).toEqual(["out"]); // no cdktf.out either
    });
  });

});

describe("the synthesis's temporary folder, for every command that synthesizes", () => {
  // os.tmpdir() reads the process's own environment (not jest's copy of it): the compiled commands, in a process of their own.
  const ROOT = path.join(__dirname, "..");
  beforeAll(buildDist);
  const env = (tmpdir: string) => {
    const e: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmpdir, TF_VAR_db_password_plain: "REDACTED", CHECKPOINT_DISABLE: "1" };
    delete e.TMP;
    delete e.TEMP;
    return e;
  };
  const synth = (tmpdir: string) => {
    const cwd = tmp("tmpdir-synth");
    const script = `require(${JSON.stringify(path.join(ROOT, "dist/stacks/app.js"))}).runApp(require(${JSON.stringify(path.join(ROOT, "dist/config/environments.js"))}).environments);`;
    const r = spawnSync(process.execPath, ["-e", script], { cwd, env: env(tmpdir), encoding: "utf8" });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, written: fs.readdirSync(cwd) };
  };

  it("npm run synth: a TMPDIR that does not exist, or is a file: one message naming TMPDIR, exit 2, nothing written", () => {
    expect(synth("/nonexistent/tmp")).toEqual({
      status: 2,
      stdout: "",
      stderr: "cannot create a temporary folder for the synthesis in /nonexistent/tmp (TMPDIR): it does not exist (ENOENT); set TMPDIR to a writable folder\n",
      written: [],
    });
    const file = path.join(tmp("tmpdir"), "a-file");
    fs.writeFileSync(file, "x");
    expect(synth(file).stderr).toBe(`cannot create a temporary folder for the synthesis in ${file} (TMPDIR): it is not a folder (ENOTDIR); set TMPDIR to a writable folder\n`);
  });

  it("synth-diff, whose copy of the other commit goes there too: the same message after error:, exit 2", () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, "dist/commands/synth-diff/index.js"), "HEAD"], { cwd: ROOT, env: env("/nonexistent/tmp"), encoding: "utf8" });
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 2, stdout: "" });
    expect(r.stderr).toMatch(/^error: cannot create a temporary folder for the copy of HEAD \([0-9a-f]+\) in \/nonexistent\/tmp \(TMPDIR\): it does not exist \(ENOENT\); set TMPDIR to a writable folder\n$/);
  });

  (detectToolchain().ok ? it : it.skip)("plan-check: the same message after error:, exit 2, nothing written", () => {
    const cwd = tmp("tmpdir-plan-check");
    const r = spawnSync(process.execPath, [path.join(ROOT, "dist/commands/plan-check/index.js"), "--offline", "--state", POST_FIX, "--quiet"], { cwd, env: env("/nonexistent/tmp"), encoding: "utf8" });
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr, written: fs.readdirSync(cwd) }).toEqual({
      status: 2,
      stdout: "",
      stderr: "error: cannot create a temporary folder for the synthesis in /nonexistent/tmp (TMPDIR): it does not exist (ENOENT); set TMPDIR to a writable folder\n",
      written: [],
    });
  });
});
