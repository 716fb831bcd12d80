// The plan's output changes (`output_changes`), for the report: each changed output's action and old → new,
// a sensitive one never shown. Not judged: an output changes nothing in AWS; a deleted output the HCL root
// declares is noted (a script reading `terraform output <name>` gets nothing after the apply).
import type { Json, PlanJson } from "./judge";
import { MASK } from "../tf-diff";
import { showValue } from "../tf-diff-report";

export interface OutputChange {
  readonly name: string;
  readonly action: "create" | "update" | "delete";
  /** Absent for a create; `(sensitive)` where Terraform marks the output sensitive. */
  readonly before?: Json;
  /** Absent for a delete and when known only after apply; `(sensitive)` where Terraform marks the output sensitive. */
  readonly after?: Json;
  readonly sensitive?: true;
  readonly unknown?: true;
  /** A delete of an output the HCL root declares (stacks/moves.ts, HCL_OUTPUTS). */
  readonly hclRoot?: true;
}

const isObject = (v: unknown): v is { [k: string]: Json } => typeof v === "object" && v !== null && !Array.isArray(v);
const containsTrue = (v: Json | undefined): boolean =>
  v === true || (Array.isArray(v) ? v.some(containsTrue) : isObject(v) ? Object.values(v).some(containsTrue) : false);

/** Every output the plan creates, updates or deletes, by name; `hclOutputs`: the HCL root's output names. */
export function outputChanges(plan: PlanJson, hclOutputs: readonly string[]): OutputChange[] {
  const changes = isObject(plan.output_changes) ? plan.output_changes : {};
  const out: OutputChange[] = [];
  for (const [name, c] of Object.entries(changes).sort(([a], [b]) => a.localeCompare(b))) {
    if (!isObject(c) || !Array.isArray(c.actions)) continue;
    const action = c.actions.join(",");
    if (action !== "create" && action !== "update" && action !== "delete") continue;
    // The plan JSON holds a sensitive output's value in clear: masked whole, whichever part is marked.
    const sensitive = containsTrue(c.before_sensitive) || containsTrue(c.after_sensitive);
    const unknown = action !== "delete" && containsTrue(c.after_unknown);
    const value = (v: Json | undefined) => (sensitive ? MASK : (v ?? null));
    out.push({
      name,
      action,
      ...(action !== "create" ? { before: value(c.before) } : {}),
      ...(action !== "delete" && !unknown ? { after: value(c.after) } : {}),
      ...(sensitive ? { sensitive: true as const } : {}),
      ...(unknown ? { unknown: true as const } : {}),
      ...(action === "delete" && hclOutputs.includes(name) ? { hclRoot: true as const } : {}),
    });
  }
  return out;
}

/** An output change as a Markdown list item. */
export function outputLine(o: OutputChange): string {
  const after = o.unknown ? "known after apply" : showValue(o.after);
  const change = o.action === "create" ? `create, ${after}` : o.action === "delete" ? `delete (was ${showValue(o.before)})` : `update, ${showValue(o.before)} → ${after}`;
  const note = o.hclRoot ? ` — the HCL root declares it (stacks/moves.ts, HCL_OUTPUTS): whatever reads \`terraform output ${o.name}\` gets nothing after this apply` : "";
  return `- \`${o.name}\`: ${change}${note}`;
}
