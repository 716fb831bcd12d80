// Long: one report's tests: every line of a failing and a passing report.
// The Markdown report reviewers read (renderMarkdown) and its JSON twin: every
// line of a failing report with each section, and of a passing one.
import { ResourceChange, changeRows, countByAction } from "../lib/plan/judge";
import { PlanCheckReport, renderJson, renderMarkdown } from "../lib/plan/report";
import { GITHUB_COMMENT_LIMIT } from "../lib/tf-diff-report";
import { planTextOf } from "../lib/plan/run";
import { PASSING_REPORT } from "./fixtures/plan-report";

const base: PlanCheckReport = PASSING_REPORT;

const failing: PlanCheckReport = {
  ...base,
  pass: false,
  failures: [
    { kind: "destroy", address: "module.compute.aws_instance.host", action: "replace", replacePaths: ["ami"] },
    { kind: "destroy", address: "aws_security_group.ec2_existing_vpc", deposed: "b4a44223", action: "delete", replacePaths: [] },
    { kind: "move", from: "module.iam.aws_iam_role.ec2_role", to: "aws_iam_role.iam_ec2_role" },
    { kind: "unused-allowance", address: "aws_iam_role.iam_ecs_task" },
    { kind: "unplannable", address: "tls_private_key.deploy", why: "provider tls is not installed here" },
    { kind: "unused-keep", address: "random_string.gone" },
    { kind: "difference", address: "aws_iam_role_policy.iam_ssm_params_read", message: "planned values differ: policy" },
    { kind: "equivalence", message: "Reference to undeclared input variable" },
    { kind: "create-deployed", address: "aws_instance.compute_host", formerly: "module.compute.aws_instance.host" },
  ],
  excluded: [{ address: "module.compute.aws_instance.host", dependents: ["module.route53.aws_route53_record.api_a"] }],
  rows: [
    {
      address: "module.compute.aws_instance.host",
      action: "replace",
      replacePaths: ["ami"],
      changedAttributes: ["ami"],
      unknownAttributes: ["id"],
      changes: [
        { path: "ami", change: "changed", before: "ami-07a3add10195338ad", after: "ami-0c398cb65a93047f2", forcesReplacement: true },
        { path: "id", change: "changed", before: "i-00a2e6c8030d494d6", unknown: true },
      ],
    },
    { address: "aws_security_group.ec2_existing_vpc", deposed: "b4a44223", action: "delete", replacePaths: [], changedAttributes: [], unknownAttributes: [] },
    {
      address: "module.ssm.aws_ssm_parameter.db_host",
      action: "update",
      replacePaths: [],
      changedAttributes: ["value"],
      unknownAttributes: [],
      changes: [{ path: "value", change: "changed", before: "(sensitive)", after: "(sensitive)", sensitive: true }],
    },
    { address: "module.ssm.aws_ssm_parameter.x", action: "update", replacePaths: [], changedAttributes: [], unknownAttributes: [], changes: [] },
    { address: "aws_iam_role.iam_ec2_role", action: "no-op", previousAddress: "module.iam.aws_iam_role.ec2_role", replacePaths: [], changedAttributes: [], unknownAttributes: [] },
    {
      address: "aws_iam_role.iam_ecs_task",
      action: "update",
      previousAddress: "module.iam.aws_iam_role.ecs_task",
      replacePaths: [],
      changedAttributes: ["tags"],
      unknownAttributes: [],
      changes: [{ path: "tags.Name", change: "changed", before: "ecs-task", after: "production-ecs-task" }],
    },
    { address: "aws_ecr_repository.ecr_backend", action: "create", replacePaths: [], changedAttributes: [], unknownAttributes: [] },
  ],
  allowed: [
    { address: "aws_security_group.ec2_existing_vpc", reason: "the current object only", used: false },
    { address: "module.compute.aws_instance.host", reason: "a newer AMI", used: true },
  ],
  adaptations: ["backend local replaced by a local copy of the snapshot"],
  pins: [{ address: "data.aws_vpc.existing", kind: "data source", from: "snapshot", recordedAs: "data.aws_vpc.existing" }],
  stateNotPlanned: [
    { address: "tls_private_key.deploy", why: "provider tls is not installed here" },
    { address: "aws_made_up_thing.x", why: "the installed aws provider has no resource type aws_made_up_thing", kept: "a newer provider's" },
  ],
  hcl: {
    dir: "/infra/terraform",
    unplannable: [{ address: "module.ssm.aws_ssm_parameter.ml_worker_enabled", why: "Invalid count argument" }],
    comparison: {
      equal: 52,
      intended: [
        { address: "aws_instance.compute_host", compared: true, attributes: ["user_data", "user_data_base64"], differing: ["user_data", "user_data_base64"], reason: "the same script, gzip-compressed" },
      ],
      differences: [{ address: "aws_iam_role_policy.iam_ssm_params_read", message: "planned values differ: policy" }],
      notCompared: [{ address: "aws_ssm_parameter.ssm_ml_worker_enabled", why: "the HCL root cannot plan it here" }],
    },
  },
  planText: "Terraform will perform the following actions:\n\nPlan: 1 to add, 3 to change, 2 to destroy.\n",
};

describe("renderMarkdown", () => {
  it("a failing report: the verdict, every failure, the summary table, every section, the HCL comparison, the adaptations", () => {
    expect(renderMarkdown(failing).split("\n")).toEqual([
      "## plan-check: stack `production` — FAIL",
      "",
      "Terraform 1.11.4, offline (`-refresh=false`, no AWS call), against `pre-fix.tfstate` (serial 212). The stack: synthesized now from the sources.",
      "",
      "> **Provider:** planned with hashicorp/aws 5.100.0, the one installed here, not the pinned 6.17.0. This proves the plan with 5.100.0's schema and behaviour; an argument or default that differs in 6.17.0 is not proven.",
      "",
      "### Verdict: FAIL",
      "",
      "- `module.compute.aws_instance.host`: replace, forced by `ami` — not in the environment's allowDestroy",
      "- `aws_security_group.ec2_existing_vpc` (deposed object b4a44223): delete — not in the environment's allowDestroy",
      "- moved block `module.iam.aws_iam_role.ec2_role` → `aws_iam_role.iam_ec2_role`: the object is in the state but the plan does not move it (no previous_address)",
      "- allowDestroy names `aws_iam_role.iam_ecs_task`, which this plan neither deletes nor replaces: remove the entry",
      "- `tls_private_key.deploy`: in the state, but not planned here (provider tls is not installed here); not judged: list it in the environment's keepUnplannable with a reason, or plan with its provider",
      "- keepUnplannable names `random_string.gone`, which is no state instance this plan leaves out: remove the entry",
      "- `aws_iam_role_policy.iam_ssm_params_read`: differs from the HCL root: planned values differ: policy",
      "- the HCL root could not be planned, so the equivalence was not checked: Reference to undeclared input variable",
      "- `aws_instance.compute_host`: create — the environment's `deployed` (config/environments.ts) records it as deployed, but the state planned against holds neither it nor `module.compute.aws_instance.host`, its HCL address (stacks/moves.ts): applying would create a second one. Plan against a state that holds it (a recent `terraform state pull`)",
      "",
      "### Summary",
      "",
      "| action | instances |",
      "|---|--:|",
      "| create | 1 |",
      "| update | 3 |",
      "| replace | 1 |",
      "| delete | 1 |",
      "| move | 2 |",
      "| no-op | 1 |",
      "",
      "### Not judged (excluded): 1",
      "",
      "- `module.compute.aws_instance.host`, with what depends on it: `module.route53.aws_route53_record.api_a`",
      "",
      "### In the state, not planned here (not judged): 2",
      "",
      "- `tls_private_key.deploy`: provider tls is not installed here; fails the gate",
      "- `aws_made_up_thing.x`: the installed aws provider has no resource type aws_made_up_thing; kept by the environment: a newer provider's",
      "",
      "### Deletes (1)",
      "",
      "- `aws_security_group.ec2_existing_vpc` (deposed object b4a44223)",
      "",
      "### Replaces (1)",
      "",
      "- `module.compute.aws_instance.host`: forced by `ami` — allowed: a newer AMI",
      '  - `ami`: `"ami-07a3add10195338ad"` → `"ami-0c398cb65a93047f2"`',
      "  - and 1 attribute known after apply",
      "",
      "### Updates in place (3)",
      "",
      "- `module.ssm.aws_ssm_parameter.db_host`: `value`: changed (sensitive, not shown)",
      "- `module.ssm.aws_ssm_parameter.x`: no attribute change in the plan's values (the provider updates in place; Terraform's text shows the same)",
      '- `aws_iam_role.iam_ecs_task`: `tags.Name`: `"ecs-task"` → `"production-ecs-task"`',
      "",
      "### Moves (2)",
      "",
      "- `module.iam.aws_iam_role.ec2_role` → `aws_iam_role.iam_ec2_role`",
      "- `module.iam.aws_iam_role.ecs_task` → `aws_iam_role.iam_ecs_task`, then update",
      "",
      "### Creates (1)",
      "",
      "- `aws_ecr_repository.ecr_backend`",
      "",
      "### Against the HCL root",
      "",
      "HCL root: `/infra/terraform`, planned the same way against the same state.",
      "",
      "- The HCL root cannot plan `module.ssm.aws_ssm_parameter.ml_worker_enabled` here: Invalid count argument",
      "",
      "52 address(es) equal (actions, replace paths and planned values, through the moved blocks); 1 intended difference(s) declared (1 differing here); 1 difference(s); 1 not compared.",
      "- intended difference at `aws_instance.compute_host` (stacks/moves.ts, INTENDED_DIFFERENCES): `user_data`, `user_data_base64` differ; the same script, gzip-compressed",
      "- difference at `aws_iam_role_policy.iam_ssm_params_read`: planned values differ: policy",
      "- not compared: `aws_ssm_parameter.ssm_ml_worker_enabled` (the HCL root cannot plan it here)",
      "",
      "### Allow-list (allowDestroy)",
      "",
      "- `aws_security_group.ec2_existing_vpc`: the current object only — not used by this plan",
      "- `module.compute.aws_instance.host`: a newer AMI",
      "",
      "### What the offline mode changed",
      "",
      "- backend local replaced by a local copy of the snapshot",
      "- pinned to recorded values (1): `data.aws_vpc.existing` (snapshot)",
      "",
      "### Terraform's plan",
      "",
      "```text",
      "Terraform will perform the following actions:",
      "",
      "Plan: 1 to add, 3 to change, 2 to destroy.",
      "```",
      "",
      "Files: `/p/cdktf.out/plan-check/production` (the state copy and the plan hold secrets in clear: keep them out of a pull request).",
      "",
    ]);
  });

  it("a passing report, online, with the pinned provider: no provider note, the verdict in words, empty sections left out", () => {
    const online: PlanCheckReport = { ...base, mode: "online", state: "the stack's backend", provider: { installed: "as installed by terraform init", pinned: undefined } };
    expect(renderMarkdown(online).split("\n")).toEqual([
      "## plan-check: stack `production` — PASS",
      "",
      "Terraform 1.11.4, online (refresh on, the caller's credentials), against the stack's backend. The stack: synthesized now from the sources.",
      "",
      "### Verdict: PASS",
      "",
      "No delete, replace or forget outside the allow-list, no import of a managed object, every moved block shows as a move, no plan error, every state instance planned or kept.",
      "",
      "### Summary",
      "",
      "| action | instances |",
      "|---|--:|",
      "| create | 0 |",
      "| update | 0 |",
      "| replace | 0 |",
      "| delete | 0 |",
      "| move | 0 |",
      "| no-op | 0 |",
      "",
      "### Terraform's plan",
      "",
      "```text",
      "No changes. Your infrastructure matches the configuration.",
      "```",
      "",
      "Files: `/p/cdktf.out/plan-check/production` (the state copy and the plan hold secrets in clear: keep them out of a pull request).",
      "",
    ]);
  });

  it("online, what refresh found changed outside Terraform: its own section, and Terraform's note on it kept in the text", () => {
    // As Terraform 1.11.4 prints a plan whose refresh found the host's tags edited by hand and a record deleted.
    const stdout = [
      "aws_instance.compute_host: Refreshing state... [id=i-0b1c]",
      "",
      "Note: Objects have changed outside of Terraform",
      "",
      "Terraform detected the following changes made outside of Terraform since the last \"terraform apply\" which may have affected this plan:",
      "",
      "No changes. Your infrastructure matches the configuration.",
      "",
    ].join("\n");
    expect(planTextOf(stdout).split("\n").slice(0, 1)).toEqual(["Note: Objects have changed outside of Terraform"]);
    expect(planTextOf("x: Refreshing state...\nNo changes. Your infrastructure matches the configuration.\n")).toBe("No changes. Your infrastructure matches the configuration.\n");
    const drift = changeRows({
      resource_changes: [
        { address: "aws_instance.compute_host", mode: "managed", type: "aws_instance", change: { actions: ["update"], before: { tags: { a: "1" } }, after: { tags: { a: "2" } } } },
        { address: "module.route53.aws_route53_record.www_a[0]", mode: "managed", type: "aws_route53_record", change: { actions: ["delete"], before: {}, after: null } },
      ],
    }).map((d) => ({ address: d.address, action: d.action }));
    const online: PlanCheckReport = { ...base, mode: "online", state: "the stack's backend", provider: { installed: "as installed by terraform init", pinned: undefined }, drift, planText: planTextOf(stdout) };
    const lines = renderMarkdown(online).split("\n");
    expect(lines.slice(lines.indexOf("### Changed outside Terraform (2)"), lines.indexOf("### Terraform's plan"))).toEqual([
      "### Changed outside Terraform (2)",
      "",
      "Found by refresh: not actions of this plan (the actions above already start from them); the apply records them in the state. Terraform's text below says what changed.",
      "",
      "- `aws_instance.compute_host`: updated outside Terraform",
      "- `module.route53.aws_route53_record.www_a[0]`: deleted outside Terraform",
      "",
    ]);
    expect(lines).toContain("Note: Objects have changed outside of Terraform");
    expect(JSON.parse(renderJson(online)).drift).toEqual(drift);
  });

  it("an import (an adoption): its own section, the ID and the address, then what the plan does there", () => {
    const rows = changeRows({
      resource_changes: [
        {
          address: "aws_ecr_repository.ecr_ml_worker",
          mode: "managed",
          type: "aws_ecr_repository",
          change: { actions: ["update"], before: { scan_on_push: false }, after: { scan_on_push: true }, after_unknown: {}, importing: { id: "zivohealth-production-ml-worker" } },
        },
      ],
    });
    const lines = renderMarkdown({ ...base, rows }).split("\n");
    expect(lines.slice(lines.indexOf("### Imports (1)"), lines.indexOf("### Imports (1)") + 4)).toEqual([
      "### Imports (1)",
      "",
      "- `zivohealth-production-ml-worker` → `aws_ecr_repository.ecr_ml_worker`, then update",
      "",
    ]);
  });

  it("a plan error: how to review the rest, an empty table said to be empty", () => {
    const lines = renderMarkdown({
      ...base,
      pass: false,
      failures: [{ kind: "error", address: "module.compute.aws_instance.host", message: "user_data is 17,485 bytes, over EC2's 16,384-byte user-data limit" }],
    }).split("\n");
    const at = lines.indexOf("### Verdict: FAIL");
    expect(lines.slice(at, at + 19)).toEqual([
      "### Verdict: FAIL",
      "",
      "- `module.compute.aws_instance.host`: plan error: user_data is 17,485 bytes, over EC2's 16,384-byte user-data limit",
      "",
      "To review the rest of the plan until that is fixed: `--exclude module.compute.aws_instance.host`.",
      "",
      "### Summary",
      "",
      "| action | instances |",
      "|---|--:|",
      "| create | 0 |",
      "| update | 0 |",
      "| replace | 0 |",
      "| delete | 0 |",
      "| move | 0 |",
      "| no-op | 0 |",
      "",
      "The plan stopped on an error: Terraform planned nothing, so the table is empty.",
      "",
    ]);
  });

  it("an HCL root that could not be planned: nothing compared, said so", () => {
    const lines = renderMarkdown({ ...failing, hcl: { dir: "/infra/terraform", unplannable: [{ address: "(configuration)", why: "Reference to undeclared input variable" }] } }).split("\n");
    const at = lines.indexOf("### Against the HCL root");
    expect(lines.slice(at, at + 7)).toEqual([
      "### Against the HCL root",
      "",
      "HCL root: `/infra/terraform`, planned the same way against the same state.",
      "",
      "- The HCL root cannot plan `(configuration)` here: Reference to undeclared input variable",
      "",
      "Nothing compared: the HCL root could not be planned (the verdict says why).",
    ]);
  });
});

describe("renderJson", () => {
  it("the same facts, with the counts and the failures in words, and the plan text last", () => {
    const json = JSON.parse(renderJson(failing));
    expect(Object.keys(json)).toEqual([...Object.keys(failing).filter((k) => k !== "planText"), "counts", "failureTexts", "planText"]);
    expect(json.counts).toEqual({ create: 1, update: 3, replace: 1, delete: 1, "no-op": 1, read: 0, forget: 0, move: 2 });
    expect(json.failureTexts).toHaveLength(failing.failures.length);
    expect(json.failureTexts[4]).toBe(
      "`tls_private_key.deploy`: in the state, but not planned here (provider tls is not installed here); not judged: list it in the environment's keepUnplannable with a reason, or plan with its provider",
    );
    expect(json.stateNotPlanned).toEqual(failing.stateNotPlanned);
  });
});

/** A resource change as `terraform show -json` writes it. */
const rc = (address: string, actions: string[], change: Partial<ResourceChange["change"]>): ResourceChange => ({
  address,
  mode: "managed",
  type: address.split(".").slice(-2)[0],
  change: { actions, before: {}, after: {}, after_unknown: {}, before_sensitive: {}, after_sensitive: {}, ...change },
});

/** The report of a plan of these changes (PASS, nothing else in it). */
const reportOf = (changes: ResourceChange[], extra: Partial<PlanCheckReport> = {}): PlanCheckReport => ({ ...base, rows: changeRows({ resource_changes: changes }), ...extra });

/** The lines of one section of the Markdown report, its heading to the next. */
function sectionOf(markdown: string, heading: string): string[] {
  const lines = markdown.split("\n");
  const at = lines.findIndex((l) => l.startsWith(`### ${heading}`));
  if (at < 0) throw new Error(`no section ${heading}`);
  const end = lines.findIndex((l, n) => n > at && l.startsWith("### "));
  return lines.slice(at, end < 0 ? undefined : end);
}

describe("the review: every update and replace with its old and new values", () => {
  it("an update of numbers: each changed attribute as old → new, by path, on the instance's line", () => {
    const md = renderMarkdown(
      reportOf([
        rc("aws_appautoscaling_target.ml_worker_ml_worker", ["update"], {
          before: { max_capacity: 5, min_capacity: 0, resource_id: "service/production-ml-worker-cluster/production-ml-worker" },
          after: { max_capacity: 3, min_capacity: 0, resource_id: "service/production-ml-worker-cluster/production-ml-worker" },
        }),
        rc("aws_ecs_service.ml_worker_ml_worker", ["update"], {
          before: { desired_count: 2, capacity_provider_strategy: [{ capacity_provider: "FARGATE_SPOT", weight: 1 }], tags: { Name: "w" } },
          after: { desired_count: 1, capacity_provider_strategy: [{ capacity_provider: "FARGATE_SPOT", weight: 2 }], tags: { Name: "w" } },
          after_unknown: { tags_all: true },
        }),
      ]),
    );
    expect(sectionOf(md, "Updates in place")).toEqual([
      "### Updates in place (2)",
      "",
      "- `aws_appautoscaling_target.ml_worker_ml_worker`: `max_capacity`: `5` → `3`",
      "- `aws_ecs_service.ml_worker_ml_worker`",
      "  - `capacity_provider_strategy[0].weight`: `1` → `2`",
      "  - `desired_count`: `2` → `1`",
      "  - known after apply: `tags_all`",
      "",
    ]);
  });

  it("a sensitive value: said to change, never shown, in the Markdown and the JSON", () => {
    const r = reportOf([
      rc("module.ssm.aws_ssm_parameter.db_password", ["update"], {
        before: { name: "/zivohealth/production/db/password", value: "old-s3cret-pw" },
        after: { name: "/zivohealth/production/db/password", value: "new-s3cret-pw" },
        before_sensitive: { value: true },
        after_sensitive: { value: true },
      }),
      // Unchanged and sensitive: no line at all.
      rc("module.ssm.aws_ssm_parameter.db_user", ["update"], {
        before: { value: "same-s3cret", type: "String" },
        after: { value: "same-s3cret", type: "SecureString" },
        before_sensitive: { value: true },
        after_sensitive: { value: true },
      }),
    ]);
    expect(sectionOf(renderMarkdown(r), "Updates in place")).toEqual([
      "### Updates in place (2)",
      "",
      "- `module.ssm.aws_ssm_parameter.db_password`: `value`: changed (sensitive, not shown)",
      '- `module.ssm.aws_ssm_parameter.db_user`: `type`: `"String"` → `"SecureString"`',
      "",
    ]);
    const json = renderJson(r);
    expect(json).not.toContain("s3cret");
    expect(JSON.parse(json).rows[0].changes).toEqual([{ path: "value", change: "changed", before: "(sensitive)", after: "(sensitive)", sensitive: true }]);
  });

  it("a long value: shortened with its size in the Markdown, whole in the JSON", () => {
    const script = (n: number) => `#!/bin/bash\nset -euo pipefail\n${"echo configuring the host\n".repeat(n)}`;
    const before = script(660);
    const after = `${before}docker compose up -d\n`;
    const r = reportOf([
      rc("module.compute.aws_instance.host", ["update"], { before: { user_data: before, instance_type: "t3.small" }, after: { user_data: after, instance_type: "t3.small" } }),
      rc("aws_instance.worker", ["update"], { before: { user_data: null }, after: { user_data: after } }),
    ]);
    expect(before.length).toBe(17_190);
    expect(sectionOf(renderMarkdown(r), "Updates in place")).toEqual([
      "### Updates in place (2)",
      "",
      '- `module.compute.aws_instance.host`: `user_data`: 17,190 chars → 17,211 chars, first difference at char 17,191: `…onfiguring the host\\n` → `…onfiguring the host\\ndocker compose up -d\\n`',
      '- `aws_instance.worker`: `user_data`: `null` → `"#!/bin/bash\\nset -euo pipefail\\necho configuring the host\\necho confi…` (17,211 chars)',
      "",
    ]);
    expect(JSON.parse(renderJson(r)).rows[0].changes).toEqual([{ path: "user_data", change: "changed", before, after }]);
  });

  it("a replace: the forcing attribute first with its old → new, the other changes, the rest folded to a count", () => {
    const computed = Array.from({ length: 43 }, (_, n) => `computed_${String(n).padStart(2, "0")}`);
    const r = reportOf(
      [
        rc("aws_instance.compute_host", ["delete", "create"], {
          before: { ami: "ami-07a3add10195338ad", instance_type: "t3.small", tags: { Name: "zivohealth-dev-ec2" }, ...Object.fromEntries(computed.map((c) => [c, "x"])) },
          after: { ami: "ami-0c398cb65a93047f2", instance_type: "t3.small", tags: { Name: "zivohealth-production-ec2" } },
          after_unknown: Object.fromEntries(computed.map((c) => [c, true])),
          replace_paths: [["ami"]],
        }),
        rc("aws_ebs_volume.data", ["create", "delete"], {
          before: { root_block_device: [{ volume_size: 20, iops: 3000 }], id: "vol-1" },
          after: { root_block_device: [{ volume_size: 40, iops: 3000 }] },
          after_unknown: { id: true },
          replace_paths: [["root_block_device", 0, "volume_size"]],
        }),
      ],
      { allowed: [{ address: "aws_instance.compute_host", reason: "a newer Ubuntu image", used: true }] },
    );
    const md = renderMarkdown(r);
    expect(sectionOf(md, "Replaces")).toEqual([
      "### Replaces (2)",
      "",
      "- `aws_instance.compute_host`: forced by `ami` — allowed: a newer Ubuntu image",
      '  - `ami`: `"ami-07a3add10195338ad"` → `"ami-0c398cb65a93047f2"`',
      '  - `tags.Name`: `"zivohealth-dev-ec2"` → `"zivohealth-production-ec2"`',
      "  - and 43 attributes known after apply",
      "- `aws_ebs_volume.data`: forced by `root_block_device[0].volume_size`",
      "  - `root_block_device[0].volume_size`: `20` → `40`",
      "  - and 1 attribute known after apply",
      "",
    ]);
    // The JSON folds nothing: the 43 are there by name, each with its old value.
    const host = JSON.parse(renderJson(r)).rows[0];
    expect(host.changes.filter((c: any) => c.unknown).map((c: any) => c.path)).toEqual(computed);
    expect(host.changes[0]).toEqual({ path: "ami", change: "changed", before: "ami-07a3add10195338ad", after: "ami-0c398cb65a93047f2", forcesReplacement: true });
  });

  it("a plan of thousands of changes: one comment (at most 65,536 characters), the verdict and the summary first, every fact in the JSON", () => {
    const changes: ResourceChange[] = [];
    for (let n = 0; n < 3000; n++) {
      changes.push(
        rc(`module.fleet.aws_ssm_parameter.p[${n}]`, ["update"], {
          before: { value: `v${n}`, description: "x".repeat(300), tags: { Team: "a" } },
          after: { value: `w${n}`, description: "y".repeat(300), tags: { Team: "b" } },
        }),
      );
      changes.push(rc(`module.fleet.aws_sqs_queue.q[${n}]`, ["delete"], { before: { name: `q${n}` }, after: null }));
      changes.push(rc(`module.fleet.aws_sqs_queue.n[${n}]`, ["create"], { before: null, after: { name: `n${n}` } }));
    }
    const rows = changeRows({ resource_changes: changes });
    const planText = Array.from({ length: 40_000 }, (_, n) => `  # module.fleet.aws_ssm_parameter.p[${n % 3000}] will be updated in-place`).join("\n");
    const r: PlanCheckReport = {
      ...base,
      pass: false,
      failures: rows.filter((x) => x.action === "delete").map((x) => ({ kind: "destroy", address: x.address, action: "delete", replacePaths: [] })),
      rows,
      planText,
      planTextFile: "/p/cdktf.out/plan-check/production/stack/plan.txt",
    };
    const md = renderMarkdown(r);
    expect(md.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(md.length).toBeGreaterThan(GITHUB_COMMENT_LIMIT / 2); // filled, not emptied
    const lines = md.split("\n");
    expect(lines[0]).toBe("## plan-check: stack `production` — FAIL");
    expect(lines.indexOf("### Verdict: FAIL")).toBeLessThan(10);
    expect(sectionOf(md, "Summary")).toEqual(["### Summary", "", "| action | instances |", "|---|--:|", "| create | 3,000 |", "| update | 3,000 |", "| replace | 0 |", "| delete | 3,000 |", "| move | 0 |", "| no-op | 0 |", ""]);
    // Long lists folded, and cut with a count and where every one is.
    expect(md).toContain("<details><summary>");
    expect(md).toMatch(/- … and [\d,]+ more: `\/p\/cdktf\.out\/plan-check\/production\/report\.json` lists every one/);
    // Terraform's own text cut, with the path of the whole file.
    expect(md).toMatch(/\*\*Cut to fit one comment\*\*: [\d,]+ of 40,000 lines shown; the whole plan: `\/p\/cdktf\.out\/plan-check\/production\/stack\/plan\.txt`\./);
    // Fences and folds balanced: the comment renders.
    expect((md.match(/^```/gm) ?? []).length % 2).toBe(0);
    expect((md.match(/<details>/g) ?? []).length).toBe((md.match(/<\/details>/g) ?? []).length);
    // The JSON keeps every fact.
    const json = JSON.parse(renderJson(r));
    expect(json.rows).toHaveLength(9000);
    expect(json.failureTexts).toHaveLength(3000);
    expect(json.planText).toBe(planText);
    expect(json.counts).toEqual(countByAction(rows));
    expect(json.rows[2999 * 3].changes).toEqual([
      { path: "description", change: "changed", before: "x".repeat(300), after: "y".repeat(300) },
      { path: "tags.Team", change: "changed", before: "a", after: "b" },
      { path: "value", change: "changed", before: "v2999", after: "w2999" },
    ]);
  });

  it("Terraform's text that fits: whole, folded when long, with no cut note", () => {
    const planText = Array.from({ length: 30 }, (_, n) => `line ${n}`).join("\n");
    const md = renderMarkdown({ ...base, planText, planTextFile: "/p/stack/plan.txt" });
    expect(sectionOf(md, "Terraform's plan").slice(0, 5)).toEqual(["### Terraform's plan", "", "<details><summary>Terraform's plan text (30 lines)</summary>", "", "```text"]);
    expect(md).toContain("line 29\n```\n\n</details>");
    expect(md).not.toContain("Cut to fit");
  });
});
