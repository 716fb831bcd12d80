// Long: one command's tests (migration-check and its model), case by case against the fixtures.
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CliIo, DEFAULT_STACK, USAGE, defaultState, main } from "../commands/migration-check";
// Its commands synthesize the same stacks again and again: each synthesis made once (helpers.ts, rememberingSyntheses).
jest.mock("../lib/cli", () => (require("./helpers") as typeof import("./helpers")).rememberingSyntheses(jest.requireActual("../lib/cli")));
import { synthesisSources, writeSynthesisRecord } from "../stacks/synthesis-record";
import { EnvironmentConfig } from "../config/environment";
// Fidelity to the HCL root: production as the HCL root has it, frozen in the tests, not as configured
// (config/environments.ts, which a team changes); a configured variant keeps its own settings on it.
import * as configured from "../config/environments";
import { CONFIGURED_STACKS } from "./fixtures/hcl-production";
import { HCL_PRODUCTION as production, onHclProduction } from "./fixtures/hcl-production";
const staging = onHclProduction(configured.staging, configured.production);
import {
  DEPLOYED_CREATION_NOTE,
  DEPOSED_NOTE,
  EXPECTED_CREATION_NOTE,
  MigrationReport,
  UNEXPECTED_CREATION_NOTE,
  classify,
  isExpectedCreation,
  parseStack,
  parseState,
  renderMarkdown,
} from "../lib/migration";
import { movedErrors } from "../lib/migration-moved";

const PRODUCTION_STATE = path.join(__dirname, "../../shared/fixtures/existing-production.tfstate");
const POST_FIX_STATE = path.join(__dirname, "../../shared/fixtures/post-fix-production.tfstate");
const PLANNED_STACK = path.join(__dirname, "fixtures/migration/planned-stack.tf.json");

// ------------------------------------------------------------ builders

interface Res {
  mode?: "managed" | "data";
  module?: string;
  type: string;
  name: string;
  instances?: Array<{ index_key?: number | string; deposed?: string }>;
}

function stateJson(resources: Res[]): string {
  return JSON.stringify({
    version: 4,
    terraform_version: "1.5.7",
    serial: 7,
    lineage: "test-lineage",
    outputs: {},
    resources: resources.map((r) => ({
      mode: r.mode ?? "managed",
      ...(r.module ? { module: r.module } : {}),
      type: r.type,
      name: r.name,
      provider: 'provider["registry.terraform.io/hashicorp/aws"]',
      instances: (r.instances ?? [{}]).map((i) => ({ schema_version: 0, attributes: { id: "x" }, ...i })),
    })),
  });
}

interface Cfg {
  resources?: string[];
  modules?: string[];
  moved?: Array<{ from: string; to: string }>;
  /** A resource's body (`count`, `for_each`); `{}` otherwise. */
  bodies?: Record<string, object>;
}

function stackJson(c: Cfg): string {
  const resource: Record<string, Record<string, object>> = {};
  for (const a of c.resources ?? []) {
    const [type, name] = a.split(".");
    (resource[type] ??= {})[name] = c.bodies?.[a] ?? {};
  }
  const module = Object.fromEntries((c.modules ?? []).map((m) => [m, { source: `./modules/${m}` }]));
  return JSON.stringify({ terraform: {}, resource, module, ...(c.moved ? { moved: c.moved } : {}) });
}

const check = (resources: Res[], cfg: Cfg): MigrationReport =>
  classify(parseState(stateJson(resources), "state"), parseStack(stackJson(cfg), "stack"));

const row = (report: MigrationReport, stateAddress: string, deposed: string | null = null) =>
  report.instances.find((r) => r.stateAddress === stateAddress && r.deposed === deposed);

// ------------------------------------------------------------ CLI harness

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "migration-check-"));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

let fileCount = 0;
function tmpFile(content: string): string {
  const file = path.join(tmp, `file-${++fileCount}.json`);
  fs.writeFileSync(file, content);
  return file;
}

function run(argv: string[], cwd = tmp) {
  let stdout = "";
  let stderr = "";
  const io: CliIo = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd };
  const code = main(argv, io);
  return { code, stdout, stderr };
}

// ------------------------------------------------------------ classification

describe("classification", () => {
  it("keeps root resources at the same address and HCL module instances under a kept module block", () => {
    const report = check(
      [
        { type: "aws_security_group_rule", name: "ec2_to_rds" },
        { module: "module.compute", type: "aws_instance", name: "host" },
        { mode: "data", type: "aws_vpc", name: "existing" },
        { mode: "data", module: "module.compute", type: "aws_ami", name: "ubuntu" },
      ],
      { resources: ["aws_security_group_rule.ec2_to_rds"], modules: ["compute"] },
    );
    expect(report.instances).toEqual([
      {
        stateAddress: "aws_security_group_rule.ec2_to_rds",
        deposed: null,
        outcome: "kept",
        configAddress: "aws_security_group_rule.ec2_to_rds",
        note: "",
      },
      {
        stateAddress: "module.compute.aws_instance.host",
        deposed: null,
        outcome: "hcl-module",
        configAddress: "module.compute",
        note: "module block kept: address unchanged",
      },
    ]);
    expect(report.totals).toEqual({
      managedInstances: 2,
      kept: 1,
      moved: 0,
      inHclModule: 1,
      deposed: 0,
      destroyed: 0,
      dataSourcesSkipped: 2,
      toBeCreated: 0,
      unexpectedCreations: 0,
      deployedCreations: 0,
      keysNotChecked: 0,
    });
    expect(report.safe).toBe(true);
  });

  it("reports an extra managed resource at an unknown address as destroyed, and names it", () => {
    const resources: Res[] = [
      { type: "aws_security_group_rule", name: "ec2_to_rds" },
      { type: "aws_s3_bucket", name: "forgotten" },
      { module: "module.legacy", type: "aws_sqs_queue", name: "old" },
    ];
    const cfg: Cfg = { resources: ["aws_security_group_rule.ec2_to_rds"] };
    const report = check(resources, cfg);
    expect(row(report, "aws_s3_bucket.forgotten")).toEqual({
      stateAddress: "aws_s3_bucket.forgotten",
      deposed: null,
      outcome: "destroyed",
      configAddress: null,
      note: "not in the configuration and no moved block covers it",
    });
    expect(row(report, "module.legacy.aws_sqs_queue.old")?.note).toBe(
      "module `module.legacy` is gone and no moved block covers it",
    );
    expect(report.totals.destroyed).toBe(2);
    expect(report.safe).toBe(false);

    const out = run(["--state", tmpFile(stateJson(resources)), "--stack-json", tmpFile(stackJson(cfg))]);
    expect(out.code).toBe(1);
    expect(out.stderr).toBe("");
    expect(out.stdout).toContain(
      "| `aws_s3_bucket.forgotten` | **DESTROYED** | — | not in the configuration and no moved block covers it |",
    );
    expect(out.stdout).toContain(
      "**Result: NOT SAFE**: 2 instance(s) destroyed: `aws_s3_bucket.forgotten`, `module.legacy.aws_sqs_queue.old`.",
    );
  });

  it("reports a moved block to a missing target as an error, and the instance it moves as destroyed", () => {
    const resources: Res[] = [{ module: "module.iam", type: "aws_iam_role", name: "ec2_role" }];
    const cfg: Cfg = {
      resources: ["aws_iam_role.iam_ec2_role"],
      moved: [{ from: "module.iam.aws_iam_role.ec2_role", to: "aws_iam_role.iam_ec2_rol" }],
    };
    const report = check(resources, cfg);
    expect(report.movedProblems).toEqual([
      {
        from: "module.iam.aws_iam_role.ec2_role",
        to: "aws_iam_role.iam_ec2_rol",
        problem: "target is not in the configuration",
      },
    ]);
    expect(row(report, "module.iam.aws_iam_role.ec2_role")).toMatchObject({
      outcome: "destroyed",
      configAddress: "aws_iam_role.iam_ec2_rol",
      note: "moved block from `module.iam.aws_iam_role.ec2_role`, whose target is not in the configuration",
    });
    // The real target is then new, and not one the fixes explain.
    expect(report.creations).toEqual([
      { address: "aws_iam_role.iam_ec2_role", expected: false, deployed: false, note: UNEXPECTED_CREATION_NOTE },
    ]);

    const out = run(["--state", tmpFile(stateJson(resources)), "--stack-json", tmpFile(stackJson(cfg))]);
    expect(out.code).toBe(1);
    expect(out.stdout).toContain(
      "- **error**: `module.iam.aws_iam_role.ec2_role` → `aws_iam_role.iam_ec2_rol`: target is not in the configuration",
    );
    expect(out.stdout).toContain(
      "1 moved block(s) to a missing target: `aws_iam_role.iam_ec2_rol`",
    );
  });

  it("fails on a moved block to a missing target even when its source is not in the state", () => {
    const resources: Res[] = [{ type: "aws_vpc", name: "main" }];
    const cfg: Cfg = { resources: ["aws_vpc.main"], moved: [{ from: "module.x.aws_sqs_queue.q", to: "aws_sqs_queue.nowhere" }] };
    const report = check(resources, cfg);
    expect(report.movedProblems.map((m) => m.to)).toEqual(["aws_sqs_queue.nowhere"]);
    expect(report.noopMoved).toEqual([{ from: "module.x.aws_sqs_queue.q", to: "aws_sqs_queue.nowhere" }]);
    expect(report.totals.destroyed).toBe(0);
    expect(report.safe).toBe(false);
  });

  it("shows a moved block whose source is not in the state as a harmless no-op", () => {
    const resources: Res[] = [{ type: "aws_vpc", name: "main" }];
    const cfg: Cfg = {
      resources: ["aws_vpc.main", "aws_ecr_repository.ecr_backend"],
      moved: [{ from: "module.ecr.aws_ecr_repository.backend", to: "aws_ecr_repository.ecr_backend" }],
    };
    const report = check(resources, cfg);
    expect(report.noopMoved).toEqual([
      { from: "module.ecr.aws_ecr_repository.backend", to: "aws_ecr_repository.ecr_backend" },
    ]);
    expect(report.movedProblems).toEqual([]);
    expect(report.creations).toEqual([
      { address: "aws_ecr_repository.ecr_backend", expected: true, deployed: false, note: EXPECTED_CREATION_NOTE },
    ]);
    expect(report.safe).toBe(true);
    expect(renderMarkdown(report)).toContain(
      "- `module.ecr.aws_ecr_repository.backend` → `aws_ecr_repository.ecr_backend`: no-op: source not in state",
    );
  });

  it("classifies counted and for_each instances through a kept module block", () => {
    const report = check(
      [
        { module: "module.compute", type: "aws_security_group_rule", name: "allow_ssh", instances: [{ index_key: 0 }] },
        {
          module: "module.vpc_endpoints",
          type: "aws_vpc_endpoint_route_table_association",
          name: "s3",
          instances: [{ index_key: "rtb-b" }, { index_key: "rtb-a" }],
        },
      ],
      { modules: ["compute", "vpc_endpoints"] },
    );
    expect(report.instances.map((r) => [r.stateAddress, r.outcome, r.configAddress])).toEqual([
      ["module.compute.aws_security_group_rule.allow_ssh[0]", "hcl-module", "module.compute"],
      ['module.vpc_endpoints.aws_vpc_endpoint_route_table_association.s3["rtb-a"]', "hcl-module", "module.vpc_endpoints"],
      ['module.vpc_endpoints.aws_vpc_endpoint_route_table_association.s3["rtb-b"]', "hcl-module", "module.vpc_endpoints"],
    ]);
  });

  it("moves counted and for_each instances through a resource-level moved block, keeping the index", () => {
    const report = check(
      [
        {
          module: "module.ml_worker",
          type: "aws_appautoscaling_scheduled_action",
          name: "ml_worker_scale_down_night",
          instances: [{ index_key: 10 }, { index_key: 0 }, { index_key: 2 }],
        },
        { module: "module.iam", type: "aws_iam_role_policy", name: "by_key", instances: [{ index_key: "a" }] },
      ],
      {
        resources: [
          "aws_appautoscaling_scheduled_action.ml_worker_ml_worker_scale_down_night",
          "aws_iam_role_policy.iam_by_key",
        ],
        bodies: {
          "aws_appautoscaling_scheduled_action.ml_worker_ml_worker_scale_down_night": { count: "${var.n}" },
          "aws_iam_role_policy.iam_by_key": { for_each: "${var.m}" },
        },
        moved: [
          {
            from: "module.ml_worker.aws_appautoscaling_scheduled_action.ml_worker_scale_down_night",
            to: "aws_appautoscaling_scheduled_action.ml_worker_ml_worker_scale_down_night",
          },
          { from: "module.iam.aws_iam_role_policy.by_key", to: "aws_iam_role_policy.iam_by_key" },
        ],
      },
    );
    expect(report.instances.map((r) => [r.stateAddress, r.outcome, r.configAddress])).toEqual([
      ['module.iam.aws_iam_role_policy.by_key["a"]', "moved", 'aws_iam_role_policy.iam_by_key["a"]'],
      // Numeric order, not text order: [2] before [10].
      [
        "module.ml_worker.aws_appautoscaling_scheduled_action.ml_worker_scale_down_night[0]",
        "moved",
        "aws_appautoscaling_scheduled_action.ml_worker_ml_worker_scale_down_night[0]",
      ],
      [
        "module.ml_worker.aws_appautoscaling_scheduled_action.ml_worker_scale_down_night[2]",
        "moved",
        "aws_appautoscaling_scheduled_action.ml_worker_ml_worker_scale_down_night[2]",
      ],
      [
        "module.ml_worker.aws_appautoscaling_scheduled_action.ml_worker_scale_down_night[10]",
        "moved",
        "aws_appautoscaling_scheduled_action.ml_worker_ml_worker_scale_down_night[10]",
      ],
    ]);
    // Its for_each is a variable: the key is moved by its address and named as not checked.
    expect(report.instances[0].note).toBe(
      'moved block from `module.iam.aws_iam_role_policy.by_key`; key not checked: its resource\'s for_each = ${var.m} is known at plan time only: whether it holds the key "a" is not checked',
    );
    // So are the counted ones: their count is a variable too.
    const night = "aws_appautoscaling_scheduled_action.ml_worker_ml_worker_scale_down_night";
    expect(report.keysNotChecked).toEqual([
      {
        stateAddress: 'module.iam.aws_iam_role_policy.by_key["a"]',
        configAddress: 'aws_iam_role_policy.iam_by_key["a"]',
        why: 'its resource\'s for_each = ${var.m} is known at plan time only: whether it holds the key "a" is not checked',
      },
      ...[0, 2, 10].map((n) => ({
        stateAddress: `module.ml_worker.aws_appautoscaling_scheduled_action.ml_worker_scale_down_night[${n}]`,
        configAddress: `${night}[${n}]`,
        why: `its resource's count = \${var.n} is known at plan time only: whether [${n}] is below it is not checked`,
      })),
    ]);
    expect(report.creations).toEqual([]);
    expect(report.noopMoved).toEqual([]);
    expect(report.totals.moved).toBe(4);
  });

  it("follows a literal count: the compute SSH rule moves as a whole resource, and an instance its count drops is destroyed", () => {
    const sshState = [{ module: "module.compute", type: "aws_security_group_rule", name: "allow_ssh", instances: [{ index_key: 0 }] }];
    const moved = [{ from: "module.compute.aws_security_group_rule.allow_ssh", to: "aws_security_group_rule.compute_allow_ssh" }];
    const withCount = (count: number) =>
      classify(
        parseState(stateJson(sshState), "state"),
        parseStack(JSON.stringify({ resource: { aws_security_group_rule: { compute_allow_ssh: { count } } }, moved }), "stack"),
      );
    const on = withCount(1);
    expect(on.instances).toEqual([
      {
        stateAddress: "module.compute.aws_security_group_rule.allow_ssh[0]",
        deposed: null,
        outcome: "moved",
        configAddress: "aws_security_group_rule.compute_allow_ssh[0]",
        note: "moved block from `module.compute.aws_security_group_rule.allow_ssh`",
      },
    ]);
    expect(on.creations).toEqual([]);
    const off = withCount(0);
    expect(off.safe).toBe(false);
    expect(off.instances[0]).toMatchObject({
      outcome: "destroyed",
      configAddress: "aws_security_group_rule.compute_allow_ssh[0]",
      note: "moved block from `module.compute.aws_security_group_rule.allow_ssh`; its resource has count = 0, so Terraform destroys this instance",
    });
    // With nothing in the state, a count-0 resource is no creation either (production: SSH off).
    const none = classify(parseState(stateJson([]), "state"), parseStack(JSON.stringify({ resource: { aws_security_group_rule: { compute_allow_ssh: { count: 0 } } }, moved }), "stack"));
    expect(none.creations).toEqual([]);
    expect(none.noopMoved).toEqual(moved);
  });

  it("applies an instance-level moved block to exactly that instance, before a resource-level one", () => {
    const report = check(
      [
        {
          module: "module.ml_worker",
          type: "aws_appautoscaling_scheduled_action",
          name: "x",
          instances: [{ index_key: 0 }, { index_key: 1 }],
        },
        { module: "module.old", type: "aws_sqs_queue", name: "q", instances: [{ index_key: 0 }, { index_key: 1 }] },
      ],
      {
        resources: ["aws_appautoscaling_scheduled_action.ml_worker_x", "aws_sqs_queue.q", "aws_sqs_queue.q_first"],
        bodies: { "aws_appautoscaling_scheduled_action.ml_worker_x": { count: "${var.n}" }, "aws_sqs_queue.q": { count: "${var.n}" } },
        moved: [
          { from: "module.ml_worker.aws_appautoscaling_scheduled_action.x[0]", to: "aws_appautoscaling_scheduled_action.ml_worker_x[0]" },
          { from: "module.old.aws_sqs_queue.q", to: "aws_sqs_queue.q" },
          { from: "module.old.aws_sqs_queue.q[0]", to: "aws_sqs_queue.q_first" },
        ],
      },
    );
    expect(report.instances.map((r) => [r.stateAddress, r.outcome, r.configAddress])).toEqual([
      ["module.ml_worker.aws_appautoscaling_scheduled_action.x[0]", "moved", "aws_appautoscaling_scheduled_action.ml_worker_x[0]"],
      ["module.ml_worker.aws_appautoscaling_scheduled_action.x[1]", "destroyed", null],
      ["module.old.aws_sqs_queue.q[0]", "moved", "aws_sqs_queue.q_first"],
      ["module.old.aws_sqs_queue.q[1]", "moved", "aws_sqs_queue.q[1]"],
    ]);
    expect(report.noopMoved).toEqual([]);
  });

  it("moves a whole module with a module-level moved block", () => {
    const report = check(
      [{ module: "module.ecr", type: "aws_ecr_repository", name: "backend" }],
      { modules: ["registry"], moved: [{ from: "module.ecr", to: "module.registry" }] },
    );
    expect(report.instances[0]).toMatchObject({
      outcome: "moved",
      configAddress: "module.registry.aws_ecr_repository.backend",
      note: "moved block from `module.ecr`; into an HCL module (its contents are not checked)",
    });
  });

  it("lists a deposed instance separately and does not count it as destroyed", () => {
    const resources: Res[] = [
      { type: "aws_security_group", name: "ec2_existing_vpc", instances: [{ deposed: "b4a44223" }, {}] },
    ];
    const cfg: Cfg = { resources: ["aws_security_group.ec2_existing_vpc"] };
    const report = check(resources, cfg);
    expect(report.instances).toEqual([
      {
        stateAddress: "aws_security_group.ec2_existing_vpc",
        deposed: null,
        outcome: "kept",
        configAddress: "aws_security_group.ec2_existing_vpc",
        note: "",
      },
      {
        stateAddress: "aws_security_group.ec2_existing_vpc",
        deposed: "b4a44223",
        outcome: "deposed",
        configAddress: null,
        note: DEPOSED_NOTE,
      },
    ]);
    expect(DEPOSED_NOTE).toBe("deposed (will be cleaned up by the next apply, as with the HCL)");
    expect(report.totals).toMatchObject({ kept: 1, deposed: 1, destroyed: 0 });
    expect(report.safe).toBe(true);

    const out = run(["--state", tmpFile(stateJson(resources)), "--stack-json", tmpFile(stackJson(cfg))]);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(
      "| `aws_security_group.ec2_existing_vpc (deposed object b4a44223)` | deposed | — | " + DEPOSED_NOTE + " |",
    );
  });

  it("a deposed object alone does not make its resource present: the resource is created", () => {
    const report = check([{ type: "aws_instance", name: "x", instances: [{ deposed: "d1" }] }], {
      resources: ["aws_instance.x"],
    });
    expect(report.creations.map((c) => c.address)).toEqual(["aws_instance.x"]);
  });

  it("marks creations of the ecr, ml_worker and iam ECS resources as expected, others as warnings", () => {
    expect(isExpectedCreation("aws_ecr_repository.ecr_backend")).toBe(true);
    expect(isExpectedCreation("aws_sqs_queue.ml_worker_ml_worker")).toBe(true);
    expect(isExpectedCreation("aws_iam_role.iam_ecs_task_execution")).toBe(true);
    expect(isExpectedCreation("aws_iam_role_policy_attachment.iam_ecs_task_execution_policy")).toBe(true);
    expect(isExpectedCreation("aws_iam_role.iam_ec2_role")).toBe(false);
    expect(isExpectedCreation("aws_vpc.managed_existing")).toBe(false);
    // The prefix is on the name, not the type.
    expect(isExpectedCreation("aws_ecr_x.backend")).toBe(false);

    const report = check([], { resources: ["aws_vpc.managed_existing", "aws_sqs_queue.ml_worker_ml_worker"] });
    expect(report.creations).toEqual([
      { address: "aws_sqs_queue.ml_worker_ml_worker", expected: true, deployed: false, note: EXPECTED_CREATION_NOTE },
      { address: "aws_vpc.managed_existing", expected: false, deployed: false, note: UNEXPECTED_CREATION_NOTE },
    ]);
    expect(report.totals).toMatchObject({ toBeCreated: 2, unexpectedCreations: 1 });
    // Creations are warnings, not failures.
    expect(report.safe).toBe(true);
  });

  it("sorts the same whatever the order of the state", () => {
    const resources: Res[] = [
      { module: "module.b", type: "aws_s3_bucket", name: "z" },
      { type: "aws_vpc", name: "v", instances: [{ index_key: "b" }, { index_key: "a" }] },
      { module: "module.a", type: "aws_s3_bucket", name: "y" },
    ];
    const cfg: Cfg = { modules: ["a", "b"], resources: ["aws_vpc.v"] };
    const forward = renderMarkdown(check(resources, cfg));
    expect(renderMarkdown(check([...resources].reverse(), cfg))).toBe(forward);
    expect(check(resources, cfg).instances.map((r) => r.stateAddress)).toEqual([
      'aws_vpc.v["a"]',
      'aws_vpc.v["b"]',
      "module.a.aws_s3_bucket.y",
      "module.b.aws_s3_bucket.z",
    ]);
  });
});

describe("moved blocks Terraform refuses (measured on 1.11.4: validate/migration-keys.test.ts)", () => {
  it("two module calls moved to one: not safe, both blocks named, the plan said to fail, each row's move said refused", () => {
    const report = check(
      [
        { module: "module.a", type: "aws_s3_bucket", name: "x" },
        { module: "module.b", type: "aws_s3_bucket", name: "x" },
      ],
      { modules: ["n"], moved: [{ from: "module.a", to: "module.n" }, { from: "module.b", to: "module.n" }] },
    );
    const refused = [
      {
        error: "Ambiguous move statements",
        blocks: [{ from: "module.a", to: "module.n" }, { from: "module.b", to: "module.n" }],
        detail: "each module call can have moved from only one source call",
      },
    ];
    expect([report.safe, report.movedErrors, report.totals.destroyed]).toEqual([false, refused, 0]);
    expect(row(report, "module.a.aws_s3_bucket.x")?.note).toBe(
      "moved block from `module.a` (refused by Terraform: Ambiguous move statements; its plan fails, nothing moves); into an HCL module (its contents are not checked)",
    );
    const md = renderMarkdown(report);
    expect(md).toContain(
      "### Moved blocks Terraform refuses (its plan fails)\n\n- **error**: Ambiguous move statements: `module.a` → `module.n`, `module.b` → `module.n`: each module call can have moved from only one source call\n",
    );
    expect(md.trimEnd().split("\n").pop()).toBe(
      "**Result: NOT SAFE**: Terraform's plan would fail: it refuses the moved blocks (1 error(s): Ambiguous move statements (`module.a` → `module.n`, `module.b` → `module.n`)), so it plans nothing.",
    );
  });

  it("exits 1 from the CLI, the JSON naming the blocks", () => {
    const state = tmpFile(stateJson([{ type: "aws_s3_bucket", name: "a" }, { type: "aws_s3_bucket", name: "b" }]));
    const stack = tmpFile(stackJson({ resources: ["aws_s3_bucket.n"], moved: [{ from: "aws_s3_bucket.a", to: "aws_s3_bucket.n" }, { from: "aws_s3_bucket.b", to: "aws_s3_bucket.n" }] }));
    const out = run(["--json", "--state", state, "--stack-json", stack]);
    expect([out.code, JSON.parse(out.stdout).safe, JSON.parse(out.stdout).movedErrors]).toEqual([
      1,
      false,
      [
        {
          error: "Ambiguous move statements",
          blocks: [{ from: "aws_s3_bucket.a", to: "aws_s3_bucket.n" }, { from: "aws_s3_bucket.b", to: "aws_s3_bucket.n" }],
          detail: "each resource can have moved from only one source resource",
        },
      ],
    ]);
  });

  // [moved blocks, root resources (a count when a number), module blocks (the same), what Terraform 1.11.4 says: [error, blocks' froms, detail]]
  const cases: [string, [string, string][], Record<string, number | null>, Record<string, number | null>, [string, string[], string][]][] = [
    ["one source moved to two", [["aws_x.a", "aws_x.n"], ["aws_x.a", "aws_x.c"]], { "aws_x.n": null, "aws_x.c": null }, {}, [["Ambiguous move statements", ["aws_x.a", "aws_x.a"], "each resource can move to only one destination resource"]]],
    ["two instances to one (a no-key end unifies with a keyed one)", [["aws_x.a[0]", "aws_x.n[1]"], ["aws_x.b", "aws_x.n[1]"]], { "aws_x.n": 2 }, {}, [["Ambiguous move statements", ["aws_x.a[0]", "aws_x.b"], "each resource instance can have moved from only one source instance"]]],
    ["a resource-level and an instance-level block to one resource: no conflict", [["aws_x.a", "aws_x.n"], ["aws_x.b[0]", "aws_x.n"]], { "aws_x.n": null }, {}, []],
    ["the same block twice", [["aws_x.a", "aws_x.n"], ["aws_x.a", "aws_x.n"]], { "aws_x.n": null }, {}, []],
    ["a chain", [["aws_x.a", "aws_x.b"], ["aws_x.b", "aws_x.n"]], { "aws_x.n": null }, {}, []],
    ["a cycle of two", [["aws_x.a", "aws_x.b"], ["aws_x.b", "aws_x.a"]], {}, {}, [["Cyclic dependency in move statements", ["aws_x.a", "aws_x.b"], "the chained moves form a cycle, so there is no final location to move objects to"]]],
    ["a cycle of three, after an unrelated block", [["aws_x.q", "aws_x.n"], ["aws_x.a", "aws_x.b"], ["aws_x.b", "aws_x.c"], ["aws_x.c", "aws_x.a"]], { "aws_x.n": null }, {}, [["Cyclic dependency in move statements", ["aws_x.a", "aws_x.b", "aws_x.c"], "the chained moves form a cycle, so there is no final location to move objects to"]]],
    ["a cycle through a module's contents", [["module.a", "module.b"], ["module.b.aws_x.x", "module.a.aws_x.x"]], {}, {}, [["Cyclic dependency in move statements", ["module.a", "module.b.aws_x.x"], "the chained moves form a cycle, so there is no final location to move objects to"]]],
    ["a call and its contents moved on", [["module.a", "module.n"], ["module.n.aws_x.x", "aws_x.q"]], { "aws_x.q": null }, { n: null }, []],
    ["a resource moved to a module", [["aws_x.a", "module.n"], ["aws_x.b", "aws_x.b"]], {}, { n: null }, [['Invalid "moved" addresses', ["aws_x.a"], 'The "from" and "to" addresses must either both refer to resources or both refer to modules.']]],
    ["a resource still declared, even with count = 0", [["aws_x.z", "aws_x.n"]], { "aws_x.z": 0, "aws_x.n": null }, {}, [["Moved object still exists", ["aws_x.z"], "the resource aws_x.z is still declared in the configuration"]]],
    ["an instance count = 0 does not make", [["aws_x.z[0]", "aws_x.n"]], { "aws_x.z": 0, "aws_x.n": null }, {}, []],
    ["an instance still declared", [["aws_x.c[1]", "aws_x.n"]], { "aws_x.c": 2, "aws_x.n": null }, {}, [["Moved object still exists", ["aws_x.c[1]"], "the resource instance aws_x.c[1] is still declared in the configuration"]]],
    ["a module instance still declared", [["module.c[0]", "module.n"]], {}, { c: 2, n: null }, [["Moved object still exists", ["module.c[0]"], "the module instance module.c[0] is still declared in the configuration"]]],
    ["a module call moved into itself", [["module.a", "module.a.module.b"]], {}, { a: null }, [["Moved object still exists", ["module.a"], "the module call module.a is still declared in the configuration"]]],
    ["from inside a module block kept (its HCL source not read)", [["module.m.aws_x.a", "aws_x.n"]], { "aws_x.n": null }, { m: null }, []],
    ["a block to its own from", [["aws_x.n", "aws_x.n"]], { "aws_x.n": null }, {}, [["Redundant move statement", ["aws_x.n"], "a move from aws_x.n to the same address, the same as not declaring this move at all"]]],
    ["still declared, then ambiguous", [["aws_x.a", "aws_x.n"], ["aws_x.b", "aws_x.n"]], { "aws_x.a": null, "aws_x.n": null }, {}, [["Moved object still exists", ["aws_x.a"], "the resource aws_x.a is still declared in the configuration"], ["Ambiguous move statements", ["aws_x.a", "aws_x.b"], "each resource can have moved from only one source resource"]]],
    ["across resource types", [["aws_y.a", "aws_x.n"], ["null_resource.b", "terraform_data.b"]], { "aws_x.n": null, "terraform_data.b": null }, {}, [["Move across resource types", ["aws_y.a"], "Terraform moves a aws_y to a aws_x only if the provider of aws_x supports it, and fails the plan otherwise; migration-check cannot ask the provider: `npm run plan-check` asks Terraform"]]],
  ];
  it.each(cases)("%s", (_name, moved, resources, modules, says) => {
    const body = (count: number | null) => (count === null ? {} : { count });
    const resource: Record<string, Record<string, object>> = {};
    for (const [a, count] of Object.entries(resources)) (resource[a.split(".")[0]] ??= {})[a.split(".")[1]] = body(count);
    const module = Object.fromEntries(Object.entries(modules).map(([m, count]) => [m, { source: "./m", ...body(count) }]));
    const config = parseStack(JSON.stringify({ resource, module, moved: moved.map(([from, to]) => ({ from, to })) }), "stack");
    const errors = movedErrors(config.moved, config);
    expect(errors.map((e) => [e.error, e.blocks.map((b) => b.from), e.detail])).toEqual(says);
  });
});

describe("chains of moved blocks (Terraform 1.11.4 follows them: measured in validate/migration-keys.test.ts)", () => {
  const rows = (report: MigrationReport) => report.instances.map((r) => [r.stateAddress, r.outcome, r.configAddress, r.note]);
  const CHAIN = [
    { from: "aws_x.a", to: "aws_x.b" },
    { from: "aws_x.b", to: "aws_x.n" },
  ];

  it("a → b, b → n: the state's a moved to n, the chain named; b is no missing target, b → n no no-op; safe", () => {
    const report = check([{ type: "aws_x", name: "a" }], { resources: ["aws_x.n"], moved: CHAIN });
    expect(rows(report)).toEqual([["aws_x.a", "moved", "aws_x.n", "a chain of moved blocks: from `aws_x.a` to `aws_x.b`, then from `aws_x.b` to `aws_x.n`"]]);
    expect([report.movedProblems, report.noopMoved, report.movedErrors, report.creations, report.safe]).toEqual([[], [], [], [], true]);
    const md = renderMarkdown(report);
    expect(md).toContain("| `aws_x.a` | moved | `aws_x.n` | a chain of moved blocks: from `aws_x.a` to `aws_x.b`, then from `aws_x.b` to `aws_x.n` |");
    expect(md).toContain("### Moved blocks with a missing target\n\nNone.");
  });

  it("through module calls, from an instance to a resource end and back, a call then its contents, a resource into a call then the call", () => {
    const report = check(
      [
        { module: "module.a", type: "aws_x", name: "x" },
        { module: "module.k[0]", type: "aws_x", name: "x" },
        { type: "aws_y", name: "a", instances: [{ index_key: 0 }] },
        { type: "aws_z", name: "a", instances: [{ index_key: 0 }, { index_key: 1 }] },
        { module: "module.q", type: "aws_x", name: "y" },
        { type: "aws_x", name: "r" },
      ],
      {
        resources: ["aws_y.c", "aws_z.c", "aws_x.yq"],
        modules: ["c", "kc", "qn", "rn"],
        bodies: {},
        moved: [
          { from: "module.a", to: "module.b" },
          { from: "module.b", to: "module.c" },
          { from: "module.k[0]", to: "module.kb" },
          { from: "module.kb", to: "module.kc" },
          { from: "aws_y.a[0]", to: "aws_y.b" },
          { from: "aws_y.b", to: "aws_y.c" },
          { from: "aws_z.a", to: "aws_z.b" },
          { from: "aws_z.b[0]", to: "aws_z.c" },
          { from: "module.q", to: "module.qn" },
          { from: "module.qn.aws_x.y", to: "aws_x.yq" },
          { from: "aws_x.r", to: "module.rb.aws_x.r" },
          { from: "module.rb", to: "module.rn" },
        ],
      },
    );
    const hcl = "; into an HCL module (its contents are not checked)";
    expect(rows(report)).toEqual([
      ["aws_x.r", "moved", "module.rn.aws_x.r", `a chain of moved blocks: from \`aws_x.r\` to \`module.rb.aws_x.r\`, then from \`module.rb\` to \`module.rn\`${hcl}`],
      ["aws_y.a[0]", "moved", "aws_y.c", "a chain of moved blocks: from `aws_y.a[0]` to `aws_y.b`, then from `aws_y.b` to `aws_y.c`"],
      ["aws_z.a[0]", "moved", "aws_z.c", "a chain of moved blocks: from `aws_z.a` to `aws_z.b`, then from `aws_z.b[0]` to `aws_z.c`"],
      // b[0] → c takes [0] only: [1] stays at aws_z.b[1], which nothing declares (Terraform deletes it there).
      ["aws_z.a[1]", "destroyed", "aws_z.b[1]", "moved block from `aws_z.a`, whose target is not in the configuration"],
      ["module.a.aws_x.x", "moved", "module.c.aws_x.x", `a chain of moved blocks: from \`module.a\` to \`module.b\`, then from \`module.b\` to \`module.c\`${hcl}`],
      ["module.k[0].aws_x.x", "moved", "module.kc.aws_x.x", `a chain of moved blocks: from \`module.k[0]\` to \`module.kb\`, then from \`module.kb\` to \`module.kc\`${hcl}`],
      ["module.q.aws_x.y", "moved", "aws_x.yq", "a chain of moved blocks: from `module.q` to `module.qn`, then from `module.qn.aws_x.y` to `aws_x.yq`"],
    ]);
    // aws_z.b[0] → aws_z.c does not take all of aws_z.b: aws_z.a → aws_z.b stays a missing target. No other.
    expect(report.movedProblems).toEqual([{ from: "aws_z.a", to: "aws_z.b", problem: "target is not in the configuration" }]);
    expect([report.noopMoved, report.movedErrors]).toEqual([[], []]);
  });

  it("a target on the way the state holds: a and b held, b goes on to n and a is destroyed; a and n held, a stops at b, destroyed", () => {
    const taken = '"Unresolved resource instance address changes"';
    const both = check([{ type: "aws_x", name: "a" }, { type: "aws_x", name: "b" }], { resources: ["aws_x.n"], moved: CHAIN });
    expect(rows(both)).toEqual([
      ["aws_x.a", "destroyed", "aws_x.b", `moved block from \`aws_x.a\`, whose target the state holds already: Terraform does not move it there (${taken}) and destroys it`],
      ["aws_x.b", "moved", "aws_x.n", "moved block from `aws_x.b`"],
    ]);
    expect([both.movedProblems, both.safe]).toEqual([[], false]);
    const end = check([{ type: "aws_x", name: "a" }, { type: "aws_x", name: "n" }], { resources: ["aws_x.n"], moved: CHAIN });
    expect(rows(end)).toEqual([
      [
        "aws_x.a",
        "destroyed",
        "aws_x.n",
        `a chain of moved blocks: from \`aws_x.a\` to \`aws_x.b\`, then from \`aws_x.b\` to \`aws_x.n\`, whose target the state holds already: Terraform does not move it there (${taken}) and destroys it at \`aws_x.b\`, where the chain leaves it`,
      ],
      ["aws_x.n", "kept", "aws_x.n", ""],
    ]);
    expect([end.movedProblems, end.safe]).toEqual([[], false]);
  });

  it("an end not declared is the one missing target; a middle still declared is refused; a chain the state does not reach is two no-ops; a move across types down a chain is asked", () => {
    const missing = check([{ type: "aws_x", name: "a" }], { resources: [], modules: ["m"], moved: CHAIN });
    expect(rows(missing)).toEqual([["aws_x.a", "destroyed", "aws_x.n", "a chain of moved blocks: from `aws_x.a` to `aws_x.b`, then from `aws_x.b` to `aws_x.n`, whose target is not in the configuration"]]);
    expect(missing.movedProblems).toEqual([{ from: "aws_x.b", to: "aws_x.n", problem: "target is not in the configuration" }]);
    const declared = check([{ type: "aws_x", name: "a" }], { resources: ["aws_x.b", "aws_x.n"], moved: CHAIN });
    expect(declared.movedErrors.map((e) => [e.error, e.blocks])).toEqual([["Moved object still exists", [CHAIN[1]]]]);
    expect([row(declared, "aws_x.a")?.note, declared.safe]).toEqual([
      "a chain of moved blocks: from `aws_x.a` to `aws_x.b`, then from `aws_x.b` to `aws_x.n` (refused by Terraform: Moved object still exists; its plan fails, nothing moves)",
      false,
    ]);
    const unreached = check([{ type: "aws_x", name: "n" }], { resources: ["aws_x.n"], moved: CHAIN });
    expect([unreached.noopMoved, unreached.movedProblems, unreached.safe]).toEqual([CHAIN, [], true]);
    // A move across resource types down the chain: the provider is asked (and refuses) though its from is not in the state.
    const across = check([{ type: "aws_y", name: "a" }], { resources: ["aws_x.n"], moved: [{ from: "aws_y.a", to: "aws_y.b" }, { from: "aws_y.b", to: "aws_x.n" }] });
    expect(across.movedErrors.map((e) => [e.error, e.blocks])).toEqual([["Move across resource types", [{ from: "aws_y.b", to: "aws_x.n" }]]]);
  });
});

// ------------------------------------------------------------ the real production state

describe("the production state against the planned stack", () => {
  const report = classify(
    parseState(fs.readFileSync(PRODUCTION_STATE, "utf8"), "state"),
    parseStack(fs.readFileSync(PLANNED_STACK, "utf8"), "stack"),
  );

  it("destroys nothing: every managed instance is kept, moved, in an HCL module or deposed", () => {
    expect(report.safe).toBe(true);
    expect(report.state).toEqual({
      terraformVersion: "1.5.7",
      serial: 316,
      lineage: "3e8af382-6ed1-2e06-5e29-1a5665d2e053",
    });
    expect(report.totals).toEqual({
      managedInstances: 26,
      kept: 2,
      moved: 6,
      inHclModule: 17,
      deposed: 1,
      destroyed: 0,
      dataSourcesSkipped: 11,
      toBeCreated: 21,
      unexpectedCreations: 1,
      deployedCreations: 0,
      keysNotChecked: 0,
    });
  });

  it("moves the six iam instances in the state to their iam_ root addresses", () => {
    expect(report.instances.filter((r) => r.outcome === "moved").map((r) => [r.stateAddress, r.configAddress])).toEqual([
      ["module.iam.aws_iam_instance_profile.ec2_profile", "aws_iam_instance_profile.iam_ec2_profile"],
      ["module.iam.aws_iam_role.ec2_role", "aws_iam_role.iam_ec2_role"],
      ["module.iam.aws_iam_role_policy.s3_textract_inline", "aws_iam_role_policy.iam_s3_textract_inline"],
      ["module.iam.aws_iam_role_policy.ssm_params_read", "aws_iam_role_policy.iam_ssm_params_read"],
      ["module.iam.aws_iam_role_policy_attachment.ecr_read", "aws_iam_role_policy_attachment.iam_ecr_read"],
      ["module.iam.aws_iam_role_policy_attachment.ssm_core", "aws_iam_role_policy_attachment.iam_ssm_core"],
    ]);
  });

  it("keeps the root security group and rule, and lists the deposed security group", () => {
    expect(report.instances.filter((r) => r.outcome === "kept").map((r) => r.stateAddress)).toEqual([
      "aws_security_group.ec2_existing_vpc",
      "aws_security_group_rule.ec2_to_rds",
    ]);
    expect(row(report, "aws_security_group.ec2_existing_vpc", "b4a44223")?.outcome).toBe("deposed");
  });

  it("leaves the counted route53 record and the other HCL modules' instances in place", () => {
    expect(row(report, "module.route53.aws_route53_record.www_a[0]")).toMatchObject({
      outcome: "hcl-module",
      configAddress: "module.route53",
    });
    const byModule: Record<string, number> = {};
    for (const r of report.instances.filter((i) => i.outcome === "hcl-module")) {
      byModule[r.configAddress!] = (byModule[r.configAddress!] ?? 0) + 1;
    }
    expect(byModule).toEqual({ "module.compute": 3, "module.route53": 4, "module.ssm": 7, "module.storage": 3 });
  });

  it("treats the moved blocks of the not-yet-created ECS roles and ECR repository as no-ops", () => {
    expect(report.noopMoved.map((m) => m.from)).toEqual([
      "module.ecr.aws_ecr_repository.backend",
      "module.iam.aws_iam_role.ecs_task",
      "module.iam.aws_iam_role.ecs_task_execution",
      "module.iam.aws_iam_role_policy.ecs_task_execution_ssm",
      "module.iam.aws_iam_role_policy.ecs_task_s3",
      "module.iam.aws_iam_role_policy.ecs_task_sqs",
      "module.iam.aws_iam_role_policy_attachment.ecs_task_execution_policy",
    ]);
    expect(report.movedProblems).toEqual([]);
  });

  it("expects every creation but aws_vpc.managed_existing, which the state does not hold", () => {
    expect(report.creations.filter((c) => !c.expected).map((c) => c.address)).toEqual(["aws_vpc.managed_existing"]);
    expect(report.creations.filter((c) => c.expected).map((c) => c.address)).toEqual(
      expect.arrayContaining(["aws_ecr_repository.ecr_backend", "aws_iam_role.iam_ecs_task", "aws_sqs_queue.ml_worker_ml_worker"]),
    );
  });

  it("exits 0 from the CLI and prints the table", () => {
    const out = run(["--state", PRODUCTION_STATE, "--stack-json", PLANNED_STACK]);
    expect(out.code).toBe(0);
    expect(out.stderr).toBe("");
    expect(out.stdout).toContain(
      "| `module.iam.aws_iam_role.ec2_role` | moved | `aws_iam_role.iam_ec2_role` | moved block from `module.iam.aws_iam_role.ec2_role` |",
    );
    expect(out.stdout).toContain("| 2 | 6 | 17 | 1 | 0 | 11 | 21 (1 unexpected) |");
    expect(out.stdout).toContain("**Result: safe**: no instance is destroyed by the migration; 1 unexpected creation(s) to check.");
  });
});

// ------------------------------------------------------------ CLI

describe("CLI", () => {
  const goodState = () => tmpFile(stateJson([{ type: "aws_vpc", name: "main" }]));
  const goodStack = () => tmpFile(stackJson({ resources: ["aws_vpc.main"] }));

  it("prints JSON with a stable shape with --json", () => {
    const out = run(["--json", "--state", goodState(), "--stack-json", goodStack()]);
    expect(out.code).toBe(0);
    const json = JSON.parse(out.stdout);
    expect(Object.keys(json)).toEqual([
      "safe",
      "safeBy",
      "notChecked",
      "keysNotChecked",
      "state",
      "instances",
      "movedProblems",
      "movedErrors",
      "noopMoved",
      "creations",
      "identityMismatches",
      "totals",
    ]);
    expect(json).toEqual({
      safe: true,
      safeBy: "addresses",
      notChecked: [
        "a replacement forced by a changed argument (a name, the VPC, the AMI, a subnet)",
        "anything inside an HCL module",
        "values known at plan time",
        "a provider's validation",
      ],
      keysNotChecked: [],
      state: { terraformVersion: "1.5.7", serial: 7, lineage: "test-lineage" },
      instances: [{ stateAddress: "aws_vpc.main", deposed: null, outcome: "kept", configAddress: "aws_vpc.main", note: "" }],
      movedProblems: [],
      movedErrors: [],
      noopMoved: [],
      creations: [],
      identityMismatches: [],
      totals: {
        managedInstances: 1,
        kept: 1,
        moved: 0,
        inHclModule: 0,
        deposed: 0,
        destroyed: 0,
        dataSourcesSkipped: 0,
        toBeCreated: 0,
        unexpectedCreations: 0,
        deployedCreations: 0,
        keysNotChecked: 0,
      },
    });
  });

  it("accepts --flag=value and resolves relative paths against the working directory", () => {
    const dir = fs.mkdtempSync(path.join(tmp, "rel-"));
    fs.writeFileSync(path.join(dir, "s.tfstate"), stateJson([{ type: "aws_vpc", name: "main" }]));
    fs.writeFileSync(path.join(dir, "c.json"), stackJson({ resources: ["aws_vpc.main"] }));
    const out = run(["--state=s.tfstate", "--stack-json=c.json"], dir);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain("| `aws_vpc.main` | kept | `aws_vpc.main` |  |");
  });

  describe("by default: production's own local backend file (../terraform/terraform.tfstate from the project) against production synthesized now", () => {
    let project: string;
    let root: string;
    beforeAll(() => {
      root = fs.mkdtempSync(path.join(tmp, "infra-"));
      project = path.join(root, "cdktf");
      fs.mkdirSync(path.join(project, "cdktf.out/stacks/production"), { recursive: true });
      fs.mkdirSync(path.join(root, "terraform"));
      fs.copyFileSync(PRODUCTION_STATE, path.join(root, "terraform/terraform.tfstate"));
      // A stale synthesis that would destroy everything: never judged by default. Its backend is the stack's.
      const stale = { ...JSON.parse(stackJson({ resources: [] })), terraform: { backend: { local: { path: "../../../../terraform/terraform.tfstate" } } } };
      fs.writeFileSync(path.join(project, "cdktf.out/stacks/production/cdk.tf.json"), JSON.stringify(stale));
    });

    it("classifies the real state as safe, whatever cdktf.out holds, and writes nothing", () => {
      // backend.path '../../../../terraform/terraform.tfstate', from cdktf.out/stacks/production.
      expect(defaultState("production", { environments: { production }, reviewEnvironments: {} }, project)).toBe(path.join(root, "terraform/terraform.tfstate"));
      expect(DEFAULT_STACK).toBe("production");
      const before = fs.readFileSync(path.join(project, "cdktf.out/stacks/production/cdk.tf.json"), "utf8");
      const out = run([], project);
      expect(out.stderr).toBe("");
      expect(out.code).toBe(0);
      expect(out.stdout).toContain("| 2 | 9 | 14 | 1 | 0 |");
      expect(out.stdout).toContain("**Result: safe**: no instance is destroyed by the migration");
      expect(fs.readFileSync(path.join(project, "cdktf.out/stacks/production/cdk.tf.json"), "utf8")).toBe(before);
      expect(fs.readdirSync(path.join(project, "cdktf.out"))).toEqual(["stacks"]);
    });

    it("synthesizes the configuration as it is now: a rename the replacement guard refuses is bad input", () => {
      let stderrText = "";
      const out = main([], { stdout: () => undefined, stderr: (t) => void (stderrText += t), cwd: project }, {
        environments: { production: { ...production, environment: "prod", dbPasswordSsmName: "/zivohealth/prod/db/password" } },
        reviewEnvironments: {},
      });
      expect(out).toBe(2);
      expect(stderrText.split("\n")[0]).toBe("error: Invalid change to deployed stateful resources:");
    });

    it("reviews a review-only stack (production-hardened) the same way, in memory", () => {
      const out = run(["--stack", "production-hardened", "--json"], project);
      expect(out.code).toBe(0);
      expect(JSON.parse(out.stdout).totals.destroyed).toBe(0);
    });

    it("refuses an unknown stack, listing the configured ones", () => {
      expect(run(["--stack", "no-such-stack"], project)).toEqual({
        code: 2,
        stdout: "",
        stderr: `error: no stack named 'no-such-stack' (${CONFIGURED_STACKS})\n`,
      });
    });

    it("refuses a --stack-json inside cdktf.out that the sources did not give as it is (by the record beside it), and judges a fresh one", () => {
      const rel = "cdktf.out/stacks/production/cdk.tf.json";
      const file = path.join(project, rel);
      const dir = path.dirname(file);
      const refused = (why: string) => ({
        code: 2,
        stdout: "",
        stderr: `error: ${rel} may not be what the sources synthesize now: ${why}; check the stack with --stack <name> (synthesized now), or run \`npm run synth\` first\n`,
      });
      try {
        expect(run(["--stack-json", rel], project)).toEqual(refused("no record of the sources that made it (synthesis.json beside it, which npm run synth writes)"));
        // A record of these sources and this file, as npm run synth writes it: judged as it is (this one would destroy everything).
        writeSynthesisRecord(dir, "production", file, "cdk.tf.json", synthesisSources());
        const old = new Date("2001-01-01T00:00:00Z");
        fs.utimesSync(file, old, old); // its age says nothing: its content does
        expect(run(["--stack-json", rel], project).code).toBe(1);
        // The file changed after it was recorded.
        const text = fs.readFileSync(file, "utf8");
        fs.writeFileSync(file, text.replace("{", '{"//": "edited",'));
        expect(run(["--stack-json", rel], project)).toEqual(refused("it was changed after it was synthesized"));
        fs.writeFileSync(file, text);
        // The sources changed since (one file's content in the record differs from the checkout's).
        const record = JSON.parse(fs.readFileSync(path.join(dir, "synthesis.json"), "utf8"));
        const edited = record.sources.files.find((f: { file: string }) => f.file === "modules/compute.ts");
        edited.sha256 = "0".repeat(64);
        record.sources.digest = "0".repeat(64);
        fs.writeFileSync(path.join(dir, "synthesis.json"), JSON.stringify(record));
        expect(run(["--stack-json", rel], project)).toEqual(refused("the sources changed since it was synthesized (modules/compute.ts)"));
      } finally {
        fs.rmSync(path.join(dir, "synthesis.json"), { force: true });
      }
    });

    it("refuses --stack with --stack-json", () => {
      expect(run(["--stack", "production", "--stack-json", "x.json"], project)).toEqual({
        code: 2,
        stdout: "",
        stderr: `error: give --stack or --stack-json, not both\n${USAGE}`,
      });
    });
  });

  describe("the default state: the stack's own backend; --state when it is not a local file", () => {
    const runIn = (argv: string[], cwd: string, environments: Record<string, EnvironmentConfig>) => {
      let stdout = "";
      let stderr = "";
      const code = main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd }, { environments, reviewEnvironments: {} });
      return { code, stdout, stderr };
    };
    /** <root>/cdktf (the project) and <root>/terraform/<file> for each file given. */
    const layout = (files: Record<string, string>) => {
      const root = fs.mkdtempSync(path.join(tmp, "layout-"));
      fs.mkdirSync(path.join(root, "cdktf"));
      fs.mkdirSync(path.join(root, "terraform"));
      for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(root, "terraform", name), text);
      return { root, project: path.join(root, "cdktf") };
    };

    it("a changed backend.path: that file, or a miss that names the field", () => {
      const { root, project } = layout({ "moved.tfstate": fs.readFileSync(PRODUCTION_STATE, "utf8") });
      const moved = { ...production, backend: { type: "local" as const, path: "../../../../terraform/moved.tfstate" } };
      const ok = runIn([], project, { production: moved });
      expect([ok.code, ok.stderr]).toEqual([0, ""]);
      expect(ok.stdout).toContain("| 2 | 9 | 14 | 1 | 0 |");
      const absent = { ...production, backend: { type: "local" as const, path: "../../../../terraform/absent.tfstate" } };
      expect(runIn([], project, { production: absent })).toEqual({
        code: 2,
        stdout: "",
        stderr:
          `error: state file not found: ${path.join(root, "terraform/absent.tfstate")} (stack 'production''s backend.path '../../../../terraform/absent.tfstate', ` +
          "relative to cdktf.out/stacks/production; or give --state <file>)\n",
      });
    });

    it("another --stack: its own state file, not production's", () => {
      // terraform.tfstate holds production's resources: read for staging, it would be refused (newEnvironment with resources).
      const { project } = layout({ "terraform.tfstate": fs.readFileSync(PRODUCTION_STATE, "utf8"), "staging.tfstate": JSON.stringify({ version: 4, serial: 1, resources: [] }) });
      expect(staging.backend).toEqual({ type: "local", path: "../../../../terraform/staging.tfstate" });
      const r = runIn(["--stack", "staging", "--json"], project, { production, staging });
      expect([r.code, r.stderr]).toEqual([0, ""]);
      expect(JSON.parse(r.stdout).totals).toMatchObject({ managedInstances: 0, destroyed: 0, toBeCreated: 34 });
    });

    it("a newEnvironment stack before its first deploy (no state file yet): checked against an empty state, said on stderr; a missing --state stays an error", () => {
      const { root, project } = layout({});
      const stateFile = path.join(root, "terraform/staging.tfstate");
      const r = runIn(["--stack", "staging", "--json"], project, { production, staging });
      expect(r.code).toBe(0);
      expect(r.stderr).toBe(`note: no state file yet at ${stateFile}: stack 'staging' is newEnvironment, so it is checked against an empty state\n`);
      expect(JSON.parse(r.stdout).totals).toMatchObject({ managedInstances: 0, destroyed: 0, toBeCreated: 34 });
      expect(fs.existsSync(stateFile)).toBe(false);
      expect(runIn(["--stack", "staging", "--state", stateFile], project, { production, staging })).toEqual({
        code: 2,
        stdout: "",
        stderr: `error: state file not found: ${stateFile}\n`,
      });
    });

    it("an S3 backend: --state is required, said before anything is read; with it, checked", () => {
      const { project } = layout({});
      const s3 = { ...production, backend: { type: "s3" as const, bucket: "zh-state", key: "production/terraform.tfstate", region: "us-east-1" } };
      expect(runIn([], project, { production: s3 })).toEqual({
        code: 2,
        stdout: "",
        stderr:
          "error: stack 'production' keeps its state in S3 (s3://zh-state/production/terraform.tfstate), and migration-check reads a local file only: " +
          "copy it (aws s3 cp s3://zh-state/production/terraform.tfstate <file>) and give it with --state <file>\n",
      });
      const given = runIn(["--state", PRODUCTION_STATE], project, { production: s3 });
      expect([given.code, given.stderr]).toEqual([0, ""]);
      expect(given.stdout).toContain("| 2 | 9 | 14 | 1 | 0 |");
    });

    it("--stack-json: the file's local backend, relative to its folder; any other backend, or none, needs --state", () => {
      const dir = fs.mkdtempSync(path.join(tmp, "stack-json-"));
      fs.mkdirSync(path.join(dir, "stacks/x"), { recursive: true });
      fs.writeFileSync(path.join(dir, "s.tfstate"), stateJson([{ type: "aws_vpc", name: "main" }]));
      const write = (terraform: object) => {
        const file = path.join(dir, "stacks/x/cdk.tf.json");
        fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(stackJson({ resources: ["aws_vpc.main"] })), terraform }));
        return file;
      };
      const local = run(["--stack-json", write({ backend: { local: { path: "../../s.tfstate" } } })], dir);
      expect([local.code, local.stderr]).toEqual([0, ""]);
      expect(local.stdout).toContain("| `aws_vpc.main` | kept | `aws_vpc.main` |  |");
      const file = path.join(dir, "stacks/x/cdk.tf.json");
      expect(run(["--stack-json", write({ backend: { s3: { bucket: "b", key: "k" } } })], dir)).toEqual({
        code: 2,
        stdout: "",
        stderr: `error: stack JSON ${file} keeps its state in a 's3' backend, and migration-check reads a local file only: give the state with --state <file>\n`,
      });
      expect(run(["--stack-json", write({})], dir)).toEqual({
        code: 2,
        stdout: "",
        stderr: `error: stack JSON ${file} declares no backend, and migration-check reads a local file only: give the state with --state <file>\n`,
      });
      expect(run(["--stack-json", write({}), "--state", "s.tfstate"], dir).code).toBe(0);
    });
  });

  describe("a resource the configuration records as deployed, to be created: the state is not the deployed one (exit 1)", () => {
    const without = (file: string, ...gone: string[]) => {
      const state = JSON.parse(fs.readFileSync(file, "utf8"));
      state.resources = state.resources.filter((r: { module?: string; type: string; name: string }) => !gone.includes(`${r.module ? `${r.module}.` : ""}${r.type}.${r.name}`));
      return tmpFile(JSON.stringify(state));
    };
    const runProduction = (argv: string[]) => {
      let stdout = "";
      let stderr = "";
      const code = main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd: tmp }, { environments: { production }, reviewEnvironments: {} });
      return { code, stdout, stderr };
    };

    it("today's state without the API host: NOT SAFE, the host named", () => {
      expect(Object.keys(production.deployed ?? {})).toContain("aws_instance.compute_host");
      const r = runProduction(["--state", without(POST_FIX_STATE, "module.compute.aws_instance.host")]);
      expect([r.code, r.stderr]).toEqual([1, ""]);
      expect(r.stdout).toContain(`- \`aws_instance.compute_host\`: ${DEPLOYED_CREATION_NOTE}`);
      expect(r.stdout).toContain("| 3 | 30 | 22 | 0 | 0 | 11 | 1 (0 unexpected, 1 recorded as deployed) |");
      expect(r.stdout.trimEnd().split("\n").pop()).toBe(
        "**Result: NOT SAFE**: 1 resource(s) recorded as deployed but not in this state, to be created again: `aws_instance.compute_host`.",
      );
      const json = JSON.parse(runProduction(["--state", without(POST_FIX_STATE, "module.compute.aws_instance.host"), "--json"]).stdout);
      expect(json.safe).toBe(false);
      expect(json.creations).toEqual([{ address: "aws_instance.compute_host", expected: false, deployed: true, note: DEPLOYED_CREATION_NOTE }]);
      expect(json.totals).toMatchObject({ toBeCreated: 1, unexpectedCreations: 0, deployedCreations: 1 });
    });

    it("the pre-fix state without the host: NOT SAFE too; intact, the ML worker's creations stay expected", () => {
      const r = runProduction(["--state", without(PRODUCTION_STATE, "module.compute.aws_instance.host"), "--json"]);
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout).creations.filter((c: { deployed: boolean }) => c.deployed).map((c: { address: string }) => c.address)).toEqual(["aws_instance.compute_host"]);
      const intact = JSON.parse(runProduction(["--state", PRODUCTION_STATE, "--json"]).stdout);
      expect(intact.safe).toBe(true);
      // Recorded as deployed, but the state predates the fixes that create them.
      expect(intact.creations.find((c: { address: string }) => c.address === "aws_sqs_queue.ml_worker_ml_worker")).toEqual({
        address: "aws_sqs_queue.ml_worker_ml_worker",
        expected: true,
        deployed: false,
        note: EXPECTED_CREATION_NOTE,
      });
    });

    it("today's state without the ML worker's queue: past the fixes, its creation is an error", () => {
      const r = runProduction(["--state", without(POST_FIX_STATE, "module.ml_worker.aws_sqs_queue.ml_worker"), "--json"]);
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout).creations.filter((c: { deployed: boolean }) => c.deployed).map((c: { address: string }) => c.address)).toEqual(["aws_sqs_queue.ml_worker_ml_worker"]);
    });

    it("a stack JSON carries no configuration: nothing is recorded as deployed, the creation is a warning", () => {
      const r = run(["--state", without(PRODUCTION_STATE, "module.compute.aws_instance.host"), "--stack-json", PLANNED_STACK, "--json"]);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).totals.deployedCreations).toBe(0);
    });
  });

  it("a state that lists an instance twice: exit 2, as Terraform refuses to load it", () => {
    const state = JSON.parse(fs.readFileSync(PRODUCTION_STATE, "utf8"));
    const at = state.resources.findIndex((r: { module?: string; type: string }) => !r.module && r.type === "aws_security_group");
    const group = state.resources[at];
    const deposed = group.instances.find((i: { deposed?: string }) => i.deposed).deposed;
    state.resources.push(group);
    const file = tmpFile(JSON.stringify(state));
    const last = state.resources.length - 1;
    expect(run(["--state", file, "--stack-json", PLANNED_STACK])).toEqual({
      code: 2,
      stdout: "",
      stderr:
        `error: state file ${file} lists 2 instances more than once: aws_security_group.ec2_existing_vpc (resources[${at}] and resources[${last}]); ` +
        `aws_security_group.ec2_existing_vpc deposed object "${deposed}" (resources[${at}] and resources[${last}]). ` +
        'Terraform refuses to load such a state ("Duplicate resource instance in state"); give the state Terraform wrote\n',
    });
    // Within one resource, and a data source in a module, alike.
    expect(() => parseState(stateJson([{ type: "aws_vpc", name: "v", instances: [{ index_key: "a" }, { index_key: "a" }] }]), "state")).toThrow(
      'state lists an instance more than once: aws_vpc.v["a"] (resources[0] and resources[0])',
    );
    expect(() =>
      parseState(stateJson([{ mode: "data", module: "module.compute", type: "aws_ami", name: "u" }, { mode: "data", module: "module.compute", type: "aws_ami", name: "u" }]), "state"),
    ).toThrow("state lists an instance more than once: module.compute.data.aws_ami.u (resources[0] and resources[1])");
    // The same name as a resource and as a data source is two instances.
    expect(parseState(stateJson([{ type: "aws_vpc", name: "v" }, { mode: "data", type: "aws_vpc", name: "v" }]), "state").instances).toHaveLength(1);
  });

  it("counts the compute templates among the sources of the synthesis", () => {
    const root = fs.mkdtempSync(path.join(tmp, "sources-"));
    fs.mkdirSync(path.join(root, "modules/compute"), { recursive: true });
    fs.writeFileSync(path.join(root, "modules/compute.ts"), "");
    fs.writeFileSync(path.join(root, "modules/compute/user_data_minimal.sh.tpl"), "#!/bin/bash\n");
    expect(synthesisSources(root).files).toEqual([
      { file: "modules/compute/user_data_minimal.sh.tpl", sha256: createHash("sha256").update("#!/bin/bash\n").digest("hex") },
      { file: "modules/compute.ts", sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
    ]);
  });

  describe("an empty state: refused unless the stack is newEnvironment", () => {
    const empty = () => tmpFile(JSON.stringify({ version: 4, serial: 1, resources: [] }));
    const runWith = (argv: string[], environments: Record<string, EnvironmentConfig>) => {
      let stdout = "";
      let stderr = "";
      const code = main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd: tmp }, { environments, reviewEnvironments: {} });
      return { code, stdout, stderr };
    };

    it("production (deployed): exit 2, naming the state and the newEnvironment option", () => {
      const file = empty();
      expect(runWith(["--state", file], { production })).toEqual({
        code: 2,
        stdout: "",
        stderr:
          `error: refusing to check against the state ${file}: it holds no managed resources, so there is nothing to migrate and a deploy would create ` +
          "every resource again (a second EC2 host, a second zone). Give the state that holds the stack's resources (--state), or, " +
          "for an environment that was never deployed, set newEnvironment: true in stack 'production''s configuration\n",
      });
    });

    it("staging (newEnvironment): checked, everything to be created, safe", () => {
      const r = runWith(["--state", empty(), "--stack", "staging", "--json"], { staging });
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).totals).toMatchObject({ managedInstances: 0, destroyed: 0, toBeCreated: 34 });
    });

    it("staging with a state that holds resources: it has been deployed, the mark must go", () => {
      const r = runWith(["--state", PRODUCTION_STATE, "--stack", "staging"], { staging });
      expect(r).toEqual({
        code: 2,
        stdout: "",
        stderr: `error: stack 'staging' is marked newEnvironment, but the state ${PRODUCTION_STATE} holds 25 managed resource instance(s): it has been deployed; remove newEnvironment from its configuration\n`,
      });
    });
  });

  it("prints the usage with --help", () => {
    expect(run(["--help"])).toEqual({ code: 0, stdout: USAGE, stderr: "" });
  });

  it("never modifies the state file", () => {
    const state = goodState();
    const old = new Date("2020-01-02T03:04:05Z");
    fs.utimesSync(state, old, old);
    const bytes = fs.readFileSync(state);
    expect(run(["--state", state, "--stack-json", goodStack()]).code).toBe(0);
    expect(run(["--state", state, "--stack-json", tmpFile("{")]).code).toBe(2);
    expect(fs.readFileSync(state).equals(bytes)).toBe(true);
    expect(fs.statSync(state).mtime.getTime()).toBe(old.getTime());
  });

  describe("bad input: exit 2, a message on stderr, nothing on stdout", () => {
    const cases: Array<[string, () => { argv: string[]; message: string }]> = [
      ["missing state file", () => {
        const file = path.join(tmp, "absent.tfstate");
        return { argv: ["--state", file, "--stack-json", goodStack()], message: `error: state file not found: ${file}\n` };
      }],
      ["state not JSON", () => {
        const file = tmpFile("not json {");
        return { argv: ["--state", file, "--stack-json", goodStack()], message: `error: state file ${file} is not valid JSON\n` };
      }],
      ["state version 3", () => {
        const file = tmpFile(JSON.stringify({ version: 3, resources: [] }));
        return {
          argv: ["--state", file, "--stack-json", goodStack()],
          message: `error: state file ${file} is not a version 4 Terraform state (version: 3)\n`,
        };
      }],
      ["state without version", () => {
        const file = tmpFile(JSON.stringify({ resources: [] }));
        return {
          argv: ["--state", file, "--stack-json", goodStack()],
          message: `error: state file ${file} is not a version 4 Terraform state (version: missing)\n`,
        };
      }],
      ["state without resources array", () => {
        const file = tmpFile(JSON.stringify({ version: 4, resources: {} }));
        return {
          argv: ["--state", file, "--stack-json", goodStack()],
          message: `error: state file ${file} has no "resources" array\n`,
        };
      }],
      ["state with a malformed resource", () => {
        const file = tmpFile(JSON.stringify({ version: 4, resources: [{ mode: "managed", type: "aws_vpc", name: "v" }] }));
        return {
          argv: ["--state", file, "--stack-json", goodStack()],
          message: `error: state file ${file}: resources[0] is malformed (instances is not an array)\n`,
        };
      }],
      ["missing stack JSON", () => {
        const file = path.join(tmp, "no-synth", "cdk.tf.json");
        return { argv: ["--state", goodState(), "--stack-json", file], message: `error: stack JSON not found: ${file}\n` };
      }],
      ["stack JSON not JSON", () => {
        const file = tmpFile("{ truncated");
        return { argv: ["--state", goodState(), "--stack-json", file], message: `error: stack JSON ${file} is not valid JSON\n` };
      }],
      ["stack JSON that is not a configuration", () => {
        const file = tmpFile("[]");
        return {
          argv: ["--state", goodState(), "--stack-json", file],
          message: `error: stack JSON ${file} is not a Terraform JSON configuration (not a JSON object)\n`,
        };
      }],
      ["stack JSON with a malformed moved block", () => {
        const file = tmpFile(JSON.stringify({ resource: {}, moved: [{ from: "a.b" }] }));
        return {
          argv: ["--state", goodState(), "--stack-json", file],
          message: `error: stack JSON ${file} is not a Terraform JSON configuration (moved[0] needs string "from" and "to")\n`,
        };
      }],
      ["unknown flag", () => ({ argv: ["--stat", "x"], message: `error: unknown option: --stat\n${USAGE}` })],
      ["--state without a value", () => ({ argv: ["--state"], message: `error: --state needs a value\n${USAGE}` })],
      ["--state followed by a flag", () => ({ argv: ["--state", "--json"], message: `error: --state needs a value\n${USAGE}` })],
      ["--stack-json= empty", () => ({ argv: ["--stack-json="], message: `error: --stack-json needs a value\n${USAGE}` })],
      ["stray argument", () => ({ argv: ["state.tfstate"], message: `error: unexpected argument: state.tfstate\n${USAGE}` })],
      ["--state given twice", () => ({ argv: ["--state", "a", "--state=b"], message: `error: --state is given twice ('a' and 'b'): it takes one value\n${USAGE}` })],
      ["a state without managed resources, against a stack JSON", () => {
        const file = tmpFile(JSON.stringify({ version: 4, resources: [{ mode: "data", type: "aws_vpc", name: "v", instances: [{}] }] }));
        return {
          argv: ["--state", file, "--stack-json", goodStack()],
          message:
            `error: refusing to check against the state ${file}: it holds no managed resources, so there is nothing to migrate and a deploy would create ` +
            "every resource again (a second EC2 host, a second zone). Give the state that holds the stack's resources (--state), or, " +
            "for an environment that was never deployed, check it by name (--stack <name>) with newEnvironment: true in its configuration\n",
        };
      }],
    ];

    it.each(cases)("%s", (_name, make) => {
      const { argv, message } = make();
      expect(run(argv)).toEqual({ code: 2, stdout: "", stderr: message });
    });
  });
});
