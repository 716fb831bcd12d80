// plan-check's report: Markdown for a pull request, JSON for machines. The
// same facts in both; values are never printed, only addresses, actions and
// attribute names (a plan holds secrets in clear).
import { BackendIdentity } from "./backend";
import { AllowedDestroy, Action, ChangeRow, Comparison, Failure, countByAction } from "./plan-judge";
import { Pin } from "./plan-workspace";

export interface PlanCheckReport {
  readonly stack: string;
  /** Whether the stack was synthesized now, or its output was newer than every source. */
  readonly synthesis: string;
  /** `offline` (no AWS, -refresh=false) or `online` (the user's credentials, refresh on). */
  readonly mode: "offline" | "online";
  /** What the plan started from. */
  readonly state: string;
  readonly terraformVersion: string;
  readonly provider: { readonly installed: string; readonly pinned: string | undefined };
  readonly pass: boolean;
  readonly failures: readonly Failure[];
  readonly excluded: readonly { readonly address: string; readonly dependents: readonly string[] }[];
  readonly rows: readonly ChangeRow[];
  readonly allowed: readonly (AllowedDestroy & { readonly used: boolean })[];
  readonly adaptations: readonly string[];
  readonly pins: readonly Pin[];
  /** State instances the plan cannot account for, left out of the state copy; `kept` is the environment's reason (keepUnplannable). */
  readonly stateNotPlanned?: readonly { readonly address: string; readonly why: string; readonly kept?: string }[];
  readonly hcl?: {
    readonly dir: string;
    readonly comparison?: Comparison;
    /** Addresses the HCL root cannot plan, with Terraform's reason. */
    readonly unplannable: readonly { readonly address: string; readonly why: string }[];
    readonly rows?: readonly ChangeRow[];
  };
  /** Terraform's own plan text (or its error output). */
  readonly planText: string;
  readonly timingsMs: Readonly<Record<string, number>>;
  readonly outDir: string;
  // The next four are what deploy --plan checks; a report of an older plan-check lacks them.
  /** SHA-256 of the synthesized stack (`cdk.tf.json`) that was planned. */
  readonly synthesized?: { readonly sha256: string };
  /** The backend the stack configures (a local path absolute). */
  readonly backend?: BackendIdentity;
  /** What the plan ran against: the stack's backend itself, a copy of a --state snapshot, or an empty state. */
  readonly plannedAgainst?: "backend" | "snapshot" | "empty state";
  /** The saved plan (absent when Terraform could not plan): its path relative to outDir, its SHA-256, and the folder Terraform planned in. */
  readonly planFile?: { readonly path: string; readonly sha256: string; readonly workingDir: string };
}

const ACTIONS: readonly (Action | "move")[] = ["create", "update", "replace", "delete", "move", "no-op", "read", "forget"];
const code = (s: string) => `\`${s}\``;
const rowLabel = (r: ChangeRow) => (r.deposed ? `${code(r.address)} (deposed object ${r.deposed})` : code(r.address));

export function failureText(f: Failure): string {
  switch (f.kind) {
    case "error":
      return `${f.address ? `${code(f.address)}: ` : ""}plan error: ${f.message}`;
    case "destroy":
      return (
        `${code(f.address)}${f.deposed ? ` (deposed object ${f.deposed})` : ""}: ${f.action}` +
        (f.replacePaths.length ? `, forced by ${f.replacePaths.map(code).join(", ")}` : "") +
        " — not in the environment's allowDestroy"
      );
    case "move":
      return `moved block ${code(f.from)} → ${code(f.to)}: the object is in the state but the plan does not move it (no previous_address)`;
    case "unused-allowance":
      return `allowDestroy names ${code(f.address)}, which this plan neither deletes nor replaces: remove the entry`;
    case "difference":
      return `${code(f.address)}: differs from the HCL root: ${f.message}`;
    case "unplannable":
      return `${code(f.address)}: in the state, but not planned here (${f.why}); not judged: list it in the environment's keepUnplannable with a reason, or plan with its provider`;
    case "unused-keep":
      return `keepUnplannable names ${code(f.address)}, which is no state instance this plan leaves out: remove the entry`;
    case "equivalence":
      return `the HCL root could not be planned, so the equivalence was not checked: ${f.message}`;
  }
}

function attributes(x: ChangeRow): string {
  const parts = [
    ...(x.changedAttributes.length ? [`changes ${x.changedAttributes.map(code).join(", ")}`] : []),
    ...(x.unknownAttributes.length ? [`known after apply: ${x.unknownAttributes.map(code).join(", ")}`] : []),
  ];
  return parts.join("; ") || "no attribute change in the plan's values (the provider updates in place; Terraform's text below shows the same)";
}

export function renderMarkdown(r: PlanCheckReport): string {
  const out: string[] = [];
  out.push(`## plan-check: stack \`${r.stack}\` — ${r.pass ? "PASS" : "FAIL"}`, "");
  out.push(
    `Terraform ${r.terraformVersion}, ${r.mode === "offline" ? "offline (`-refresh=false`, no AWS call)" : "online (refresh on, the caller's credentials)"}, against ${r.state}. ` +
      `The stack: ${r.synthesis}.`,
  );
  if (r.provider.pinned && r.provider.pinned !== r.provider.installed) {
    out.push(
      "",
      `> **Provider:** planned with hashicorp/aws ${r.provider.installed}, the one installed here, not the pinned ${r.provider.pinned}. ` +
        `This proves the plan with ${r.provider.installed}'s schema and behaviour; an argument or default that differs in ${r.provider.pinned} is not proven.`,
    );
  }
  if (r.excluded.length) {
    out.push("", "### Not judged (excluded)", "");
    for (const e of r.excluded) out.push(`- ${code(e.address)}${e.dependents.length ? `, with what depends on it: ${e.dependents.map(code).join(", ")}` : ""}`);
  }
  if (r.stateNotPlanned?.length) {
    out.push("", "### In the state, not planned here (not judged)", "");
    for (const u of r.stateNotPlanned) out.push(`- ${code(u.address)}: ${u.why}; ${u.kept ? `kept by the environment: ${u.kept}` : "fails the gate"}`);
  }
  out.push("", `### Verdict: ${r.pass ? "PASS" : "FAIL"}`, "");
  if (r.failures.length === 0) {
    out.push("No delete or replace outside the allow-list, every moved block shows as a move, no plan error, every state instance planned or kept.");
  }
  for (const f of r.failures) out.push(`- ${failureText(f)}`);
  const blocked = [...new Set(r.failures.flatMap((f) => (f.kind === "error" && f.address ? [f.address] : [])))];
  if (blocked.length) {
    out.push("", `To review the rest of the plan until that is fixed: ${blocked.map((a) => `\`--exclude ${a}\``).join(" ")}.`);
  }

  const counts = countByAction(r.rows);
  out.push("", "### Summary", "", "| action | instances |", "|---|--:|");
  for (const a of ACTIONS) if (counts[a] || ["create", "update", "replace", "delete", "move", "no-op"].includes(a)) out.push(`| ${a} | ${counts[a]} |`);
  if (r.failures.some((f) => f.kind === "error")) out.push("", "The plan stopped on an error: Terraform planned nothing, so the table is empty.");

  const section = (title: string, rows: readonly ChangeRow[], line: (row: ChangeRow) => string) => {
    if (!rows.length) return;
    out.push("", `### ${title} (${rows.length})`, "");
    for (const row of rows) out.push(`- ${line(row)}`);
  };
  const allowedNote = (row: ChangeRow) => {
    const a = r.allowed.find((x) => x.address === row.address && (x.deposed ?? false) === (row.deposed !== undefined));
    return a ? ` — allowed: ${a.reason}` : "";
  };
  section("Deletes", r.rows.filter((x) => x.action === "delete"), (x) => `${rowLabel(x)}${x.reason ? ` (${x.reason})` : ""}${allowedNote(x)}`);
  section(
    "Replaces",
    r.rows.filter((x) => x.action === "replace"),
    (x) => `${rowLabel(x)}: forced by ${x.replacePaths.map(code).join(", ") || "?"}; ${attributes(x)}${allowedNote(x)}`,
  );
  section("Updates in place", r.rows.filter((x) => x.action === "update"), (x) => `${rowLabel(x)}: ${attributes(x)}`);
  section(
    "Moves",
    r.rows.filter((x) => x.previousAddress),
    (x) => `${code(x.previousAddress!)} → ${code(x.address)}${x.action === "no-op" ? "" : `, then ${x.action}`}`,
  );
  section("Creates", r.rows.filter((x) => x.action === "create"), (x) => rowLabel(x));
  section("Reads at apply", r.rows.filter((x) => x.action === "read"), (x) => rowLabel(x));

  if (r.hcl) {
    out.push("", "### Against the HCL root", "", `HCL root: ${code(r.hcl.dir)}, planned the same way against the same state.`);
    for (const u of r.hcl.unplannable) out.push(`- The HCL root cannot plan ${code(u.address)} here: ${u.why}`);
    const c = r.hcl.comparison;
    if (c) {
      out.push(
        "",
        `${c.equal} address(es) equal (actions, replace paths and planned values, through the moved blocks); ` +
          `${c.intended.filter((d) => d.differing.length).length} intended difference(s); ${c.differences.length} difference(s); ${c.notCompared.length} not compared.`,
      );
      for (const d of c.intended) {
        const seen = !d.compared
          ? `${d.attributes.map(code).join(", ")}, not compared here`
          : d.differing.length
            ? `${d.differing.map(code).join(", ")} differ`
            : `${d.attributes.map(code).join(", ")} known only at apply on both sides here`;
        out.push(`- intended difference at ${code(d.address)} (stacks/moves.ts, INTENDED_DIFFERENCES): ${seen}; ${d.reason}`);
      }
      for (const d of c.differences) out.push(`- difference at ${code(d.address)}: ${d.message}`);
      for (const n of c.notCompared) out.push(`- not compared: ${code(n.address)} (${n.why})`);
    } else {
      out.push("", "Nothing compared: the HCL root could not be planned (the verdict says why).");
    }
  }
  if (r.allowed.length) {
    out.push("", "### Allow-list (allowDestroy)", "");
    for (const a of r.allowed) out.push(`- ${code(a.address)}${a.deposed ? " (deposed object)" : ""}: ${a.reason}${a.used ? "" : " — not used by this plan"}`);
  }
  if (r.adaptations.length || r.pins.length) {
    out.push("", "### What the offline mode changed", "");
    for (const a of r.adaptations) out.push(`- ${a}`);
    if (r.pins.length) {
      out.push(`- pinned to recorded values (${r.pins.length}): ${r.pins.map((p) => `${code(p.address)} (${p.from})`).join(", ")}`);
    }
  }
  out.push("", "### Terraform's plan", "", "```text", r.planText.trim(), "```", "");
  if (r.planFile) out.push(`Plan file: ${code(r.planFile.path)} (sha256 ${r.planFile.sha256}), planned in ${code(r.planFile.workingDir)} against ${r.plannedAgainst === "backend" ? "the stack's backend" : `a ${r.plannedAgainst === "snapshot" ? "copy of the snapshot" : "empty state"}`}.`, "");
  out.push(`Files: ${code(r.outDir)} (the state copy and the plan hold secrets in clear: keep them out of a pull request).`, "");
  return out.join("\n");
}

export function renderJson(r: PlanCheckReport): string {
  const { planText, ...facts } = r;
  return `${JSON.stringify({ ...facts, counts: countByAction(r.rows), failureTexts: r.failures.map(failureText), planText }, null, 2)}\n`;
}
