// Long: the report in one place (each failure in words, every section in the order a reviewer reads it, the fit to one pull-request comment), so both renderings stay the same facts.
// plan-check's report: Markdown for a pull request, JSON for machines. The
// same facts in both; the Markdown shortens long values, folds long sections
// and fits one pull-request comment, the JSON keeps every fact. Values are
// shown as Terraform plans them, sensitive ones masked (the plan JSON holds
// them in clear).
import { BackendIdentity } from "../backend";
import { AllowedDestroy, Action, ChangeRow, Comparison, Failure, PlanAttributeChange, countByAction } from "./judge";
import { FOLD_LINES, MARKDOWN_LIMIT, attributeLine, showValue } from "../tf-diff-report";
import { Pin } from "./workspace";
import { NAMING } from "./names";
import { OutputChange, outputLine } from "./outputs";

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
  /** What refresh found changed outside Terraform (online): not this plan's actions; the apply records it. @default - none */
  readonly drift?: readonly { readonly address: string; readonly action: Action }[];
  /** The outputs the plan creates, updates or deletes (lib/plan/outputs.ts), a sensitive one masked; not judged. @default - none */
  readonly outputs?: readonly OutputChange[];
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
  /** The file that holds planText whole (the Markdown may cut it). @default - none written */
  readonly planTextFile?: string;
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
/** 1,234 (what toLocaleString("en-US") gives, without making a formatter at each call). */
const NUMBER = new Intl.NumberFormat("en-US");
const count = (n: number, word: string) =>
  `${NUMBER.format(n)} ${n === 1 ? word : word.endsWith("y") ? `${word.slice(0, -1)}ies` : word.endsWith("s") ? `${word}es` : `${word}s`}`;

export function failureText(f: Failure): string {
  switch (f.kind) {
    case "error":
      return `${f.address ? `${code(f.address)}: ` : ""}plan error: ${f.message}`;
    case "destroy":
      return (
        `${code(f.address)}${f.deposed ? ` (deposed object ${f.deposed})` : ""}: ${f.action}` +
        (f.action === "forget" ? " (a `removed` block: Terraform stops managing it and the object stays in AWS, unmanaged)" : "") +
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
    case "import":
      return (
        `${code(f.address)}: import of ${code(f.id)}, which the state already manages as ${code(f.existing)}: two addresses would manage one object ` +
        "(what one destroys, the other loses). Move it instead (a moved block, stacks/moves.ts), or drop the import block"
      );
    case "check":
      return `${code(f.address)}: its conditions ${f.status === "fail" ? "fail" : "could not be evaluated (error)"} in this plan (a check block's assertion, a postcondition): Terraform's text says which`;
    case "duplicate":
      return duplicateText(f);
    case "unjudged":
      return `the plan cannot be judged: ${f.message}`;
    case "create-deployed":
      return (
        `${code(f.address)}: create — the environment's \`deployed\` (config/environments.ts) records it as deployed, but the state planned against ` +
        `holds ${f.formerly ? `neither it nor ${code(f.formerly)}, its HCL address (stacks/moves.ts)` : "no such object"}: applying would create a second one. ` +
        "Plan against a state that holds it (a recent `terraform state pull`)"
      );
  }
}

/** A create named as an object the state keeps: the name, its attribute and scope (lib/plan/names.ts), and why a second one is a fault. */
function duplicateText(f: Extract<Failure, { kind: "duplicate" }>): string {
  const naming = NAMING[f.type];
  const scope = naming?.scope?.length ? `, in the same ${listed(naming.scope.map(code))}` : "";
  return (
    `${code(f.address)}: create of ${code(f.attribute)} ${code(f.name)}${scope}, as ${code(f.existing)}, which the state holds and this plan keeps: ` +
    `${naming?.note ?? "applying would make a second one (or fail on the name)"}. Move the existing one to this address (a moved block, stacks/moves.ts) instead`
  );
}

/** `a`, `a and b`, `a, b and c`. */
const listed = (items: readonly string[]) => (items.length > 1 ? `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}` : items.join(""));

/** One attribute change: `` `max_capacity`: `5` → `3` ``, a sensitive one masked, a long value shortened with its size. */
export function changeText(c: PlanAttributeChange): string {
  if (c.unknown && c.change !== "removed") {
    const before = c.change === "added" ? "" : `${showValue(c.before)} → `;
    return `${code(c.path)}: ${before}known after apply`;
  }
  return attributeLine({ path: c.path, steps: [], change: c.change, before: c.before, after: c.after, ...(c.sensitive ? { sensitive: true } : {}) });
}

const topLevel = (path: string) => path.replace(/^jsondecode\(([^)]*)\).*$/, "$1").replace(/[.[].*$/, "");

/** What an update or replace changes, as list items: known changes with old → new, then what is known only after apply (folded). */
function changeItems(row: ChangeRow, maxItems: number): string[] {
  const changes = row.changes;
  if (!changes) {
    // A report of an older plan-check: names only.
    const parts = [
      ...(row.changedAttributes.length ? [`changes ${row.changedAttributes.map(code).join(", ")}`] : []),
      ...(row.unknownAttributes.length ? [`known after apply: ${row.unknownAttributes.map(code).join(", ")}`] : []),
    ];
    return parts.length ? [parts.join("; ")] : [];
  }
  const forcing = changes.filter((c) => c.forcesReplacement);
  const known = changes.filter((c) => !c.forcesReplacement && !c.unknown);
  const unknown = [...new Set(changes.filter((c) => !c.forcesReplacement && c.unknown).map((c) => topLevel(c.path)))];
  const items = [...forcing, ...known].map(changeText);
  const shownItems = items.slice(0, maxItems);
  if (items.length > shownItems.length) shownItems.push(`and ${count(items.length - shownItems.length, "more change")} (report.json lists every one)`);
  if (unknown.length) {
    // A replace makes most attributes unknown: counted, not listed (report.json lists them).
    shownItems.push(
      row.action === "replace" || unknown.length > 5
        ? `${known.length + forcing.length ? "and " : ""}${count(unknown.length, "attribute")} known after apply`
        : `known after apply: ${unknown.map(code).join(", ")}`,
    );
  }
  return shownItems;
}

/** A row with its change items: on its line when there is one, nested below when more. */
function rowWithItems(head: string, items: readonly string[], tail = ""): string[] {
  if (items.length === 0) return [`${head}${tail}`];
  if (items.length === 1) return [`${head}: ${items[0]}${tail}`];
  return [`${head}${tail}`, ...items.map((i) => `  - ${i}`)];
}

const NO_CHANGE = "no attribute change in the plan's values (the provider updates in place; Terraform's text shows the same)";

/** What a reviewer reads first (failures, deletes, replaces, updates) is folded only past this many lines; the rest past FOLD_LINES. */
const FOLD_REVIEW = 60;

interface Layout {
  /** At most this many entries per list; the rest counted, with where to find them. */
  readonly maxEntries: number;
  /** At most this many attribute changes per instance. */
  readonly maxChanges: number;
}

/** The Markdown report. It fits one pull-request comment (`limit` characters), whatever the plan's size. */
export function renderMarkdown(r: PlanCheckReport, limit = MARKDOWN_LIMIT): string {
  const layouts: Layout[] = [
    { maxEntries: Infinity, maxChanges: Infinity },
    { maxEntries: 200, maxChanges: 40 },
    { maxEntries: 50, maxChanges: 10 },
    { maxEntries: 10, maxChanges: 3 },
    { maxEntries: 0, maxChanges: 0 },
  ];
  for (const layout of layouts) {
    const text = render(r, layout, limit);
    if (text.length <= limit) return text;
  }
  // Unreachable with the lists cut to nothing but for a pathological line: cut at a line.
  const text = render(r, layouts[layouts.length - 1], limit);
  const note = `\n\n**Cut to fit one comment**: the whole report is ${code(`${r.outDir}/report.json`)}.\n`;
  return text.slice(0, text.lastIndexOf("\n", limit - note.length)) + note;
}

/** A list's entries, each one or more lines. */
type Entries = { readonly length: number; slice(start: number, end?: number): readonly (string | readonly string[])[] };
/** Entries formatted when shown: a layout that shows 50 of 9,000 rows formats 50, not 9,000. */
const shown = <T>(items: readonly T[], format: (item: T) => string | readonly string[]): Entries => ({
  length: items.length,
  slice: (start, end) => items.slice(start, end).map(format),
});

/** A Markdown report being written: its lines, and the lists and sections cut to one layout. */
class Doc {
  readonly out: string[] = [];
  constructor(
    private readonly reportJson: string,
    readonly layout: Layout,
  ) {}

  /** Entries (each one or more lines) cut to the layout; folded in <details> when longer than `foldAt` lines. */
  list(entries: Entries, summary: string, foldAt = FOLD_LINES): string[] {
    const kept = entries.slice(0, this.layout.maxEntries).flatMap((e) => (typeof e === "string" ? [e] : e));
    if (entries.length > this.layout.maxEntries) {
      kept.push(`- … and ${NUMBER.format(entries.length - this.layout.maxEntries)} more: ${code(this.reportJson)} lists every one`);
    }
    if (kept.length <= foldAt) return kept;
    return [`<details><summary>${summary}</summary>`, "", ...kept, "", "</details>"];
  }

  /** A section: a heading, what introduces it, its entries (`noun`: what the folded list's summary counts). */
  section(title: string, entries: Entries, noun: string, intro: string[] = [], foldAt = FOLD_LINES): void {
    if (!entries.length && !intro.length) return;
    this.out.push("", `### ${title}`, "", ...intro, ...(intro.length && entries.length ? [""] : []), ...this.list(entries, count(entries.length, noun), foldAt));
  }
}

/** The report in one layout, in the order a reviewer reads it (renderMarkdown tries the layouts from the fullest down). */
function render(r: PlanCheckReport, layout: Layout, limit: number): string {
  const doc = new Doc(`${r.outDir}/report.json`, layout);
  verdictAndSummary(doc, r);
  notJudged(doc, r);
  changes(doc, r);
  if (r.hcl) againstHcl(doc, r.hcl);
  allowListAndAdaptations(doc, r);
  const tail = filesLine(r);
  // Terraform's own text last, cut to the room left, with where it is whole.
  const before = doc.out.join("\n");
  doc.out.push("", "### Terraform's plan", "", ...planText(r, limit - before.length - tail.join("\n").length - 400), ...tail);
  return doc.out.join("\n");
}

/** The title, how the plan was made, the verdict with its failures, and the count of each action. */
function verdictAndSummary(doc: Doc, r: PlanCheckReport): void {
  const out = doc.out;
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
  out.push("", `### Verdict: ${r.pass ? "PASS" : "FAIL"}`, "");
  if (r.failures.length === 0) {
    out.push("No delete, replace or forget outside the allow-list, no import of a managed object, every moved block shows as a move, no plan error, every state instance planned or kept.");
  }
  out.push(...doc.list(shown(r.failures, (f) => `- ${failureText(f)}`), count(r.failures.length, "failure"), FOLD_REVIEW));
  const blocked = [...new Set(r.failures.flatMap((f) => (f.kind === "error" && f.address ? [f.address] : [])))];
  if (blocked.length) {
    out.push("", `To review the rest of the plan until that is fixed: ${blocked.slice(0, Math.max(doc.layout.maxEntries, 3)).map((a) => `\`--exclude ${a}\``).join(" ")}.`);
  }

  const counts = countByAction(r.rows);
  out.push("", "### Summary", "", "| action | instances |", "|---|--:|");
  for (const a of ACTIONS) if (counts[a] || ["create", "update", "replace", "delete", "move", "no-op"].includes(a)) out.push(`| ${a} | ${NUMBER.format(counts[a])} |`);
  if (r.failures.some((f) => f.kind === "error")) out.push("", "The plan stopped on an error: Terraform planned nothing, so the table is empty.");
}

/** What the plan left out: the addresses excluded, and state instances it could not plan. */
function notJudged(doc: Doc, r: PlanCheckReport): void {
  doc.section(
    `Not judged (excluded): ${r.excluded.length}`,
    shown(r.excluded, (e) => `- ${code(e.address)}${e.dependents.length ? `, with what depends on it: ${e.dependents.map(code).join(", ")}` : ""}`),
    "address",
  );
  doc.section(
    `In the state, not planned here (not judged): ${(r.stateNotPlanned ?? []).length}`,
    shown(r.stateNotPlanned ?? [], (u) => `- ${code(u.address)}: ${u.why}; ${u.kept ? `kept by the environment: ${u.kept}` : "fails the gate"}`),
    "instance",
  );
}

/** The planned changes, what a reviewer weighs first: deletes, replaces, updates; then moves, creates, reads. */
function changes(doc: Doc, r: PlanCheckReport): void {
  const allowedNote = (row: ChangeRow) => {
    const a = r.allowed.find((x) => x.address === row.address && (x.deposed ?? false) === (row.deposed !== undefined));
    return a ? ` — allowed: ${a.reason}` : "";
  };
  const rows = (action: Action) => r.rows.filter((x) => x.action === action);
  const maxChanges = doc.layout.maxChanges;
  doc.section(`Deletes (${rows("delete").length})`, shown(rows("delete"), (x) => `- ${rowLabel(x)}${x.reason ? ` (${x.reason})` : ""}${allowedNote(x)}`), "delete", [], FOLD_REVIEW);
  doc.section(`Forgets (${rows("forget").length})`, shown(rows("forget"), (x) => `- ${rowLabel(x)}${x.reason ? ` (${x.reason})` : ""}${allowedNote(x)}`), "forget", [], FOLD_REVIEW);
  doc.section(
    `Replaces (${rows("replace").length})`,
    shown(rows("replace"), (x) => rowWithItems(`- ${rowLabel(x)}: forced by ${x.replacePaths.map(code).join(", ") || "?"}`, changeItems(x, maxChanges), allowedNote(x))),
    "replace",
    [],
    FOLD_REVIEW,
  );
  doc.section(
    `Updates in place (${rows("update").length})`,
    shown(rows("update"), (x) => {
      const items = changeItems(x, maxChanges);
      return rowWithItems(`- ${rowLabel(x)}`, items.length ? items : [NO_CHANGE]);
    }),
    "update",
    [],
    FOLD_REVIEW,
  );
  const moved = r.rows.filter((x) => x.previousAddress);
  doc.section(`Moves (${moved.length})`, shown(moved, (x) => `- ${code(x.previousAddress!)} → ${code(x.address)}${x.action === "no-op" ? "" : `, then ${x.action}`}`), "move");
  const imported = r.rows.filter((x) => x.importId !== undefined);
  doc.section(`Imports (${imported.length})`, shown(imported, (x) => `- ${code(x.importId || "(by identity)")} → ${rowLabel(x)}${x.action === "no-op" ? "" : `, then ${x.action}`}`), "import");
  doc.section(`Creates (${rows("create").length})`, shown(rows("create"), (x) => `- ${rowLabel(x)}`), "create");
  doc.section(`Reads at apply (${rows("read").length})`, shown(rows("read"), (x) => `- ${rowLabel(x)}`), "read");
  const drift = r.drift ?? [];
  if (drift.length) doc.section(
    `Changed outside Terraform (${drift.length})`,
    shown(drift, (d) => `- ${code(d.address)}: ${d.action === "delete" ? "deleted" : d.action === "update" ? "updated" : d.action} outside Terraform`),
    "object",
    ["Found by refresh: not actions of this plan (the actions above already start from them); the apply records them in the state. Terraform's text below says what changed."],
  );
  const outputs = r.outputs ?? [];
  doc.section(`Outputs (${outputs.length})`, shown(outputs, outputLine), "output", outputs.length ? ["Not judged: an output changes nothing in AWS."] : []);
}

/** The HCL root planned against the same state, and how its plan compares. */
function againstHcl(doc: Doc, hcl: NonNullable<PlanCheckReport["hcl"]>): void {
  const intro = [`HCL root: ${code(hcl.dir)}, planned the same way against the same state.`];
  const entries = hcl.unplannable.map((u) => `- The HCL root cannot plan ${code(u.address)} here: ${u.why}`);
  doc.section("Against the HCL root", entries, "address", intro);
  const c = hcl.comparison;
  if (!c) {
    doc.out.push("", "Nothing compared: the HCL root could not be planned (the verdict says why).");
    return;
  }
  const findings = [
    ...c.intended.map((d) => {
      const seen = !d.compared
        ? `${d.attributes.map(code).join(", ")}, not compared here`
        : d.differing.length
          ? `${d.differing.map(code).join(", ")} differ`
          : `${d.attributes.map(code).join(", ")} known only at apply on both sides here`;
      return `- intended difference at ${code(d.address)} (stacks/moves.ts, INTENDED_DIFFERENCES): ${seen}; ${d.reason}`;
    }),
    ...c.differences.map((d) => `- difference at ${code(d.address)}: ${d.message}`),
    ...c.notCompared.map((n) => `- not compared: ${code(n.address)} (${n.why})`),
  ];
  doc.out.push(
    "",
    `${c.equal} address(es) equal (actions, replace paths and planned values, through the moved blocks); ` +
      `${c.intended.length} intended difference(s) declared (${c.intended.filter((d) => d.differing.length).length} differing here); ${c.differences.length} difference(s); ${c.notCompared.length} not compared.`,
  );
  if (findings.length) doc.out.push(...doc.list(findings, count(findings.length, "finding")));
}

/** The allow-list and whether this plan used each entry; what the offline mode changed and pinned. */
function allowListAndAdaptations(doc: Doc, r: PlanCheckReport): void {
  doc.section(
    "Allow-list (allowDestroy)",
    r.allowed.map((a) => `- ${code(a.address)}${a.deposed ? " (deposed object)" : ""}: ${a.reason}${a.used ? "" : " — not used by this plan"}`),
    "entry",
  );
  const pins = r.pins.slice(0, doc.layout.maxEntries === Infinity ? r.pins.length : doc.layout.maxEntries);
  doc.section("What the offline mode changed", [
    ...r.adaptations.map((a) => `- ${a}`),
    ...(r.pins.length
      ? [`- pinned to recorded values (${r.pins.length}): ${pins.map((p) => `${code(p.address)} (${p.from})`).join(", ")}${pins.length < r.pins.length ? `, and ${r.pins.length - pins.length} more` : ""}`]
      : []),
  ], "adaptation");
}

/** The report's last lines: the saved plan file and where the report's files are. */
function filesLine(r: PlanCheckReport): string[] {
  const tail: string[] = [""];
  if (r.planFile) {
    tail.push(
      `Plan file: ${code(r.planFile.path)} (sha256 ${r.planFile.sha256}), planned in ${code(r.planFile.workingDir)} against ${r.plannedAgainst === "backend" ? "the stack's backend" : `a ${r.plannedAgainst === "snapshot" ? "copy of the snapshot" : "empty state"}`}.`,
      "",
    );
  }
  tail.push(`Files: ${code(r.outDir)} (the state copy and the plan hold secrets in clear: keep them out of a pull request).`, "");
  return tail;
}

/** Terraform's text in a fenced block, folded when long and cut to `room` characters with a pointer to the whole file. */
function planText(r: PlanCheckReport, room: number): string[] {
  const lines = r.planText.trim().split("\n");
  const where = r.planTextFile ? code(r.planTextFile) : `${code(`${r.outDir}/report.json`)} (planText)`;
  const fence = "`".repeat(Math.max(3, ...(r.planText.match(/`+/g) ?? []).map((x) => x.length + 1)));
  const kept: string[] = [];
  let size = 0;
  for (const line of lines) {
    if (size + line.length + 1 > room) break;
    kept.push(line);
    size += line.length + 1;
  }
  const cut = kept.length < lines.length;
  const block = kept.length ? [`${fence}text`, ...kept, fence] : [];
  const note = cut
    ? [`**Cut to fit one comment**: ${NUMBER.format(kept.length)} of ${NUMBER.format(lines.length)} lines shown; the whole plan: ${where}.`]
    : [];
  if (!cut && lines.length <= FOLD_LINES) return block;
  return [`<details><summary>Terraform's plan text (${count(lines.length, "line")})</summary>`, "", ...block, "", "</details>", ...(note.length ? ["", ...note] : [])];
}

export function renderJson(r: PlanCheckReport): string {
  const { planText, ...facts } = r;
  return `${JSON.stringify({ ...facts, counts: countByAction(r.rows), failureTexts: r.failures.map(failureText), planText }, null, 2)}\n`;
}
