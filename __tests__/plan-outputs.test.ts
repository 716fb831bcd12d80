// The report's Outputs section (lib/plan/outputs.ts): each output the plan changes, its action and
// old → new, a sensitive one never shown, a deleted output of the HCL root noted; and the HCL root's
// outputs as the address table has them. Real plans: validate/plan-check.test.ts.
import * as fs from "fs";
import * as path from "path";
import { PlanJson } from "../lib/plan/judge";
import { outputChanges, outputLine } from "../lib/plan/outputs";
import { PlanCheckReport, renderJson, renderMarkdown } from "../lib/plan/report";
import { HCL_OUTPUTS } from "../stacks/moves";
import { synthStack } from "./helpers";
import { PASSING_REPORT } from "./fixtures/plan-report";

const SECRET = "hunter2-db-password";

/** output_changes as Terraform 1.11.4 writes them (`terraform show -json`): the values in clear, sensitive or not. */
const plan = {
  format_version: "1.2",
  output_changes: {
    ec2_instance_id: { actions: ["no-op"], before: "i-01827911f0b2d78ec", after: "i-01827911f0b2d78ec", after_unknown: false, before_sensitive: false, after_sensitive: false },
    ec2_public_ip: { actions: ["update"], before: "44.211.75.34", after_unknown: true, before_sensitive: false, after_sensitive: false },
    ml_worker_cluster_name: { actions: ["update"], before: "production-ml-worker-cluster", after: "production-ml-worker", after_unknown: false, before_sensitive: false, after_sensitive: false },
    ml_worker_queue_url: { actions: ["delete"], before: "https://sqs.us-east-1.amazonaws.com/474221740916/production-ml-worker", after: null, after_unknown: false, before_sensitive: false, after_sensitive: false },
    db_password: { actions: ["update"], before: SECRET, after: `${SECRET}-2`, after_unknown: false, before_sensitive: true, after_sensitive: true },
    legacy: { actions: ["delete"], before: { user: "zivo", password: SECRET }, after: null, after_unknown: false, before_sensitive: { password: true }, after_sensitive: false },
    new_output: { actions: ["create"], before: null, after: ["a", "b"], after_unknown: false, before_sensitive: false, after_sensitive: false },
  },
} as unknown as PlanJson;

describe("the report's Outputs (lib/plan/outputs.ts)", () => {
  it("lists each output the plan creates, updates or deletes, by name: old → new, known after apply, a sensitive one masked whole", () => {
    expect(outputChanges(plan, HCL_OUTPUTS)).toEqual([
      { name: "db_password", action: "update", before: "(sensitive)", after: "(sensitive)", sensitive: true },
      { name: "ec2_public_ip", action: "update", before: "44.211.75.34", unknown: true },
      { name: "legacy", action: "delete", before: "(sensitive)", sensitive: true },
      { name: "ml_worker_cluster_name", action: "update", before: "production-ml-worker-cluster", after: "production-ml-worker" },
      { name: "ml_worker_queue_url", action: "delete", before: "https://sqs.us-east-1.amazonaws.com/474221740916/production-ml-worker", hclRoot: true },
      { name: "new_output", action: "create", after: ["a", "b"] },
    ]);
    expect(outputChanges({ format_version: "1.2" }, HCL_OUTPUTS)).toEqual([]);
  });

  it("renders each as a line; a deleted output the HCL root declares gets a note", () => {
    expect(outputChanges(plan, HCL_OUTPUTS).map(outputLine)).toEqual([
      "- `db_password`: update, (sensitive) → (sensitive)",
      '- `ec2_public_ip`: update, `"44.211.75.34"` → known after apply',
      "- `legacy`: delete (was (sensitive))",
      '- `ml_worker_cluster_name`: update, `"production-ml-worker-cluster"` → `"production-ml-worker"`',
      '- `ml_worker_queue_url`: delete (was `"https://sqs.us-east-1.amazonaws.com/474221740916/production-ml-worker"`) — the HCL root declares it ' +
        "(stacks/moves.ts, HCL_OUTPUTS): whatever reads `terraform output ml_worker_queue_url` gets nothing after this apply",
      '- `new_output`: create, `["a","b"]`',
    ]);
  });

  it("puts them in the Markdown and the JSON report, after the changes, never a sensitive value; they do not fail the gate", () => {
    const report: PlanCheckReport = {
      ...PASSING_REPORT,
      state: "`post-fix.tfstate` (serial 317)",
      outputs: outputChanges(plan, HCL_OUTPUTS),
      planText: "Changes to Outputs:\n  ~ db_password = (sensitive value)\n",
      timingsMs: { total: 1 },
    };
    const markdown = renderMarkdown(report).split("\n");
    const at = markdown.indexOf("### Outputs (6)");
    expect(markdown.slice(at, at + 11)).toEqual([
      "### Outputs (6)",
      "",
      "Not judged: an output changes nothing in AWS.",
      "",
      ...outputChanges(plan, HCL_OUTPUTS).map(outputLine),
      "",
    ]);
    expect(markdown).toContain("### Verdict: PASS");
    expect(markdown.join("\n")).not.toContain(SECRET);
    const json = renderJson(report);
    expect(JSON.parse(json).outputs).toEqual(outputChanges(plan, HCL_OUTPUTS));
    expect(json).not.toContain(SECRET);
    // No change to an output: no section.
    expect(renderMarkdown({ ...report, outputs: [] })).not.toContain("### Outputs");
  });

  it("HCL_OUTPUTS (stacks/moves.ts) is every output of the HCL root, and the stack keeps each by name", () => {
    const root = path.join(__dirname, "../../shared/fixtures/existing-hcl/terraform");
    const declared = fs
      .readdirSync(root)
      .filter((f) => f.endsWith(".tf"))
      .flatMap((f) => [...fs.readFileSync(path.join(root, f), "utf8").matchAll(/^output "([^"]+)"/gm)].map((m) => m[1]));
    expect([...HCL_OUTPUTS].sort()).toEqual(declared.sort());
    expect(Object.keys(synthStack().json.output ?? {}).sort()).toEqual([...HCL_OUTPUTS].sort());
  });
});
