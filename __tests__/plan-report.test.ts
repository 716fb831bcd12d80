// The Markdown report reviewers read (renderMarkdown) and its JSON twin: every
// line of a failing report with each section, and of a passing one.
import { PlanCheckReport, renderJson, renderMarkdown } from "../scripts/lib/plan-report";

const base: PlanCheckReport = {
  stack: "production",
  synthesis: "synthesized now from the sources",
  mode: "offline",
  state: "`pre-fix.tfstate` (serial 212)",
  terraformVersion: "1.11.4",
  provider: { installed: "5.100.0", pinned: "6.17.0" },
  pass: true,
  failures: [],
  excluded: [],
  rows: [],
  allowed: [],
  adaptations: [],
  pins: [],
  planText: "No changes. Your infrastructure matches the configuration.\n",
  timingsMs: { total: 1234 },
  outDir: "/p/cdktf.out/plan-check/production",
};

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
  ],
  excluded: [{ address: "module.compute.aws_instance.host", dependents: ["module.route53.aws_route53_record.api_a"] }],
  rows: [
    { address: "module.compute.aws_instance.host", action: "replace", replacePaths: ["ami"], changedAttributes: ["ami"], unknownAttributes: ["id"] },
    { address: "aws_security_group.ec2_existing_vpc", deposed: "b4a44223", action: "delete", replacePaths: [], changedAttributes: [], unknownAttributes: [] },
    { address: "module.ssm.aws_ssm_parameter.db_host", action: "update", replacePaths: [], changedAttributes: ["value"], unknownAttributes: [] },
    { address: "module.ssm.aws_ssm_parameter.x", action: "update", replacePaths: [], changedAttributes: [], unknownAttributes: [] },
    { address: "aws_iam_role.iam_ec2_role", action: "no-op", previousAddress: "module.iam.aws_iam_role.ec2_role", replacePaths: [], changedAttributes: [], unknownAttributes: [] },
    { address: "aws_iam_role.iam_ecs_task", action: "update", previousAddress: "module.iam.aws_iam_role.ecs_task", replacePaths: [], changedAttributes: ["tags"], unknownAttributes: [] },
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
      "### Not judged (excluded)",
      "",
      "- `module.compute.aws_instance.host`, with what depends on it: `module.route53.aws_route53_record.api_a`",
      "",
      "### In the state, not planned here (not judged)",
      "",
      "- `tls_private_key.deploy`: provider tls is not installed here; fails the gate",
      "- `aws_made_up_thing.x`: the installed aws provider has no resource type aws_made_up_thing; kept by the environment: a newer provider's",
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
      "### Deletes (1)",
      "",
      "- `aws_security_group.ec2_existing_vpc` (deposed object b4a44223)",
      "",
      "### Replaces (1)",
      "",
      "- `module.compute.aws_instance.host`: forced by `ami`; changes `ami`; known after apply: `id` — allowed: a newer AMI",
      "",
      "### Updates in place (3)",
      "",
      "- `module.ssm.aws_ssm_parameter.db_host`: changes `value`",
      "- `module.ssm.aws_ssm_parameter.x`: no attribute change in the plan's values (the provider updates in place; Terraform's text below shows the same)",
      "- `aws_iam_role.iam_ecs_task`: changes `tags`",
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
      "- The HCL root cannot plan `module.ssm.aws_ssm_parameter.ml_worker_enabled` here: Invalid count argument",
      "",
      "52 address(es) equal (actions, replace paths and planned values, through the moved blocks); 1 intended difference(s); 1 difference(s); 1 not compared.",
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
      "No delete or replace outside the allow-list, every moved block shows as a move, no plan error, every state instance planned or kept.",
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
    expect(lines.slice(at, at + 6)).toEqual([
      "### Against the HCL root",
      "",
      "HCL root: `/infra/terraform`, planned the same way against the same state.",
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
