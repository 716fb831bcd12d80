// Long: the verdict on a plan in one place (the change rows, allowed deletes and forgets, moved blocks, errors in words, what the plan holds beside its rows: its shape, duplicates, imports, checks; the HCL comparison), so every command that plans judges alike.
// The verdict on a Terraform plan (`terraform show -json`): what each instance
// does, which deletes and replaces are allowed, whether every moved block
// shows as a move, and the plan's errors in words a reviewer can act on. Also
// the address-by-address comparison of two plans (the stack and the HCL root).
// Pure functions: commands/plan-check/index.ts runs Terraform and feeds them.

import type { AllowedDestroy, KeptUnplannable } from "../../config/environment";
import { MASK, diffJson, equal } from "../tf-diff";
import { duplicates } from "./names";

export type { AllowedDestroy, KeptUnplannable };

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface ResourceChange {
  readonly address: string;
  readonly previous_address?: string;
  readonly mode: "managed" | "data";
  readonly type: string;
  readonly deposed?: string;
  readonly action_reason?: string;
  readonly change: {
    readonly actions: readonly string[];
    readonly before?: Json;
    readonly after?: Json;
    readonly after_unknown?: Json;
    readonly replace_paths?: readonly (readonly (string | number)[])[];
    /** Where a value is sensitive (`true`), in the value's shape. */
    readonly before_sensitive?: Json;
    readonly after_sensitive?: Json;
    /** Set when an `import` block brings an existing object under this address. */
    readonly importing?: { readonly id?: string; readonly identity?: Json };
  };
}

export interface PlanJson {
  readonly format_version?: string;
  readonly resource_changes?: readonly ResourceChange[];
  /** What refresh found changed outside Terraform: not actions of the plan (the apply records them in the state). */
  readonly resource_drift?: readonly ResourceChange[];
  readonly errored?: boolean;
  /** False when Terraform left changes for a later plan (deferred actions). */
  readonly complete?: boolean;
  readonly [section: string]: Json | readonly ResourceChange[] | undefined;
}

/** A diagnostic of `terraform plan -json`. */
export interface Diagnostic {
  readonly severity: "error" | "warning";
  readonly summary: string;
  readonly detail?: string;
  readonly address?: string;
  readonly range?: { filename: string; start: { line: number } };
  readonly snippet?: { context?: string | null };
}

export type Action = "create" | "update" | "replace" | "delete" | "no-op" | "read" | "forget";

export interface ChangeRow {
  readonly address: string;
  /** Deposed object id, for the delete of a deposed object. */
  readonly deposed?: string;
  readonly action: Action;
  /** Set when a moved block takes the object from there. */
  readonly previousAddress?: string;
  /** For a replace: the attributes that force it (`ami`, `root_block_device[0].volume_size`). */
  readonly replacePaths: readonly string[];
  /** For an update or replace: the top-level attributes whose known value changes. */
  readonly changedAttributes: readonly string[];
  /** For an update or replace: the top-level attributes known only after apply. */
  readonly unknownAttributes: readonly string[];
  /** Terraform's action_reason, if any. */
  readonly reason?: string;
  /** Set when an `import` block brings an existing object here: its import ID (`""` when imported by identity). */
  readonly importId?: string;
  /**
   * For an update or replace: every attribute change by path, old and new
   * value (sensitive ones masked); for a replace, those that force it first.
   * @default - none listed (a report written before they were recorded)
   */
  readonly changes?: readonly PlanAttributeChange[];
}

/** One attribute's change in a plan. */
export interface PlanAttributeChange {
  /** `max_capacity`, `root_block_device[0].volume_size`, `jsondecode(policy).Statement[Sid="Read"].Action`. */
  readonly path: string;
  readonly change: "changed" | "added" | "removed" | "reordered";
  /** Absent for `added`; `(sensitive)` where Terraform marks the value sensitive. */
  readonly before?: Json;
  /** Absent for `removed` and when `unknown`; `(sensitive)` where Terraform marks the value sensitive. */
  readonly after?: Json;
  readonly sensitive?: true;
  /** The new value is known only after apply (in part, for a list or object: those parts read `(known after apply)`). */
  readonly unknown?: true;
  /** A path in Terraform's replace_paths: this change forces the replacement. */
  readonly forcesReplacement?: true;
}

/** How a value known only after apply reads inside a list or object. */
export const KNOWN_AFTER_APPLY = "(known after apply)";
const UNKNOWN = "\u0000unknown";
const SECRET_BEFORE = "\u0000sensitive:before";
const SECRET_AFTER = "\u0000sensitive:after";

/** `value` with UNKNOWN wherever `marks` (after_unknown) says true. */
function overlayUnknown(value: Json | undefined, marks: Json | undefined): Json | undefined {
  if (marks === true) return UNKNOWN;
  if (!containsTrue(marks)) return value;
  if (Array.isArray(marks)) {
    const out: Json[] = Array.isArray(value) ? [...value] : [];
    marks.forEach((m, n) => {
      if (containsTrue(m)) out[n] = overlayUnknown(out[n] ?? null, m) ?? null;
    });
    return Array.from(out, (x) => x ?? null);
  }
  const out: { [k: string]: Json } = isObject(value) ? { ...value } : {};
  for (const [k, m] of Object.entries(marks as { [k: string]: Json })) if (containsTrue(m)) out[k] = overlayUnknown(out[k], m) ?? null;
  return out;
}

/** Both sides with every sensitive part replaced by a marker: equal markers where the value did not change. */
function maskSensitive(b: Json | undefined, a: Json | undefined, bs: Json | undefined, as: Json | undefined): [Json | undefined, Json | undefined] {
  if (bs === true || as === true) {
    const after = a === undefined || a === UNKNOWN ? a : equal(b ?? null, a) ? SECRET_BEFORE : SECRET_AFTER;
    return [b === undefined ? undefined : SECRET_BEFORE, after];
  }
  if (Array.isArray(bs) || Array.isArray(as)) {
    if (!Array.isArray(b) && !Array.isArray(a)) return [b, a];
    const bl = Array.isArray(b) ? [...b] : undefined;
    const al = Array.isArray(a) ? [...a] : undefined;
    for (let n = 0; n < Math.max(bl?.length ?? 0, al?.length ?? 0); n++) {
      const [x, y] = maskSensitive(bl?.[n], al?.[n], Array.isArray(bs) ? bs[n] : undefined, Array.isArray(as) ? as[n] : undefined);
      if (bl && n < bl.length) bl[n] = x ?? null;
      if (al && n < al.length) al[n] = y ?? null;
    }
    return [bl ?? b, al ?? a];
  }
  if (isObject(bs) || isObject(as)) {
    if (!isObject(b) && !isObject(a)) return [b, a];
    const bo = isObject(b) ? { ...b } : undefined;
    const ao = isObject(a) ? { ...a } : undefined;
    for (const k of new Set([...Object.keys(bo ?? {}), ...Object.keys(ao ?? {})])) {
      const [x, y] = maskSensitive(bo?.[k], ao?.[k], isObject(bs) ? bs[k] : undefined, isObject(as) ? as[k] : undefined);
      if (bo && x !== undefined) bo[k] = x;
      if (ao && y !== undefined) ao[k] = y;
    }
    return [bo ?? b, ao ?? a];
  }
  return [b, a];
}

/** A value as a report shows it: markers become `(sensitive)` and `(known after apply)`. */
function shown(v: Json | undefined, seen: { sensitive: boolean; unknown: boolean }): Json | undefined {
  if (v === SECRET_BEFORE || v === SECRET_AFTER) return (seen.sensitive = true), MASK;
  if (v === UNKNOWN) return (seen.unknown = true), KNOWN_AFTER_APPLY;
  if (Array.isArray(v)) return v.map((x) => shown(x, seen) ?? null);
  if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shown(x, seen) ?? null]));
  return v;
}

/**
 * Every attribute change of an update or replace, by path, with the old and
 * new values: sensitive values masked (the plan JSON holds them in clear),
 * values known only after apply marked; for a replace, the changes at its
 * replace_paths first, in Terraform's order.
 */
export function attributeChanges(change: ResourceChange["change"]): PlanAttributeChange[] {
  const after = overlayUnknown(change.after ?? null, change.after_unknown);
  const [b, a] = maskSensitive(change.before ?? null, after ?? null, change.before_sensitive, change.after_sensitive);
  const forcing = (change.replace_paths ?? []).map((p) => p.map((s) => (typeof s === "number" ? { index: s } : { key: s })));
  const rank = (steps: readonly object[]) =>
    forcing.findIndex((f) => f.every((step, n) => n >= steps.length || JSON.stringify(step) === JSON.stringify(steps[n])));
  const out = diffJson(b ?? null, a ?? null).map((c) => {
    const seen = { sensitive: false, unknown: false };
    const before = shown(c.before, seen);
    const afterSeen = { sensitive: false, unknown: false };
    const afterShown = shown(c.after, afterSeen);
    const unknown = c.after === UNKNOWN;
    const r = rank(c.steps);
    const item: PlanAttributeChange = {
      path: c.path || "(value)",
      change: c.change,
      ...(c.change !== "added" ? { before } : {}),
      ...(c.change !== "removed" && !unknown ? { after: afterShown } : {}),
      ...(seen.sensitive || afterSeen.sensitive ? { sensitive: true as const } : {}),
      ...(unknown || afterSeen.unknown ? { unknown: true as const } : {}),
      ...(r >= 0 ? { forcesReplacement: true as const } : {}),
    };
    return { item, r };
  });
  const order = (x: { item: PlanAttributeChange; r: number }) => (x.r >= 0 ? x.r : x.item.unknown ? forcing.length + 1 : forcing.length);
  return out
    .map((x, n) => ({ ...x, n }))
    .sort((x, y) => order(x) - order(y) || x.n - y.n)
    .map((x) => x.item);
}

function actionOf(actions: readonly string[]): Action {
  const a = actions.join(",");
  if (a === "delete,create" || a === "create,delete") return "replace";
  if (["create", "update", "delete", "no-op", "read", "forget"].includes(a)) return a as Action;
  throw new Error(`unknown plan action ${a}`);
}

const pathText = (p: readonly (string | number)[]) =>
  p.map((s, i) => (typeof s === "number" ? `[${s}]` : i === 0 ? s : `.${s}`)).join("");

const isObject = (v: Json | undefined): v is { [k: string]: Json } => typeof v === "object" && v !== null && !Array.isArray(v);

/** Top-level attributes whose planned value is known and differs from the prior one; and those unknown until apply. */
export function changedAttributes(
  before: Json | undefined,
  after: Json | undefined,
  afterUnknown: Json | undefined,
): { changed: string[]; unknown: string[] } {
  const b = isObject(before) ? before : {};
  const a = isObject(after) ? after : {};
  const u = isObject(afterUnknown) ? afterUnknown : {};
  const keys = [...new Set([...Object.keys(b), ...Object.keys(a), ...Object.keys(u)])].sort();
  const unknown = keys.filter((k) => containsTrue(u[k]));
  const changed = keys.filter((k) => !unknown.includes(k) && JSON.stringify(b[k] ?? null) !== JSON.stringify(a[k] ?? null));
  return { changed, unknown };
}

function containsTrue(v: Json | undefined): boolean {
  if (v === true) return true;
  if (Array.isArray(v)) return v.some(containsTrue);
  if (isObject(v)) return Object.values(v).some(containsTrue);
  return false;
}

/** One row per managed instance (data source reads too), in the plan's order. */
export function changeRows(plan: PlanJson): ChangeRow[] {
  return (plan.resource_changes ?? []).map((rc) => {
    const action = actionOf(rc.change.actions);
    const diff =
      action === "update" || action === "replace" ? changedAttributes(rc.change.before, rc.change.after, rc.change.after_unknown) : { changed: [], unknown: [] };
    return {
      address: rc.address,
      ...(rc.deposed ? { deposed: rc.deposed } : {}),
      action,
      ...(rc.previous_address ? { previousAddress: rc.previous_address } : {}),
      replacePaths: (rc.change.replace_paths ?? []).map(pathText),
      changedAttributes: diff.changed,
      unknownAttributes: diff.unknown,
      ...(rc.action_reason ? { reason: rc.action_reason } : {}),
      ...(rc.change.importing ? { importId: rc.change.importing.id ?? "" } : {}),
      ...(action === "update" || action === "replace" ? { changes: attributeChanges(rc.change) } : {}),
    };
  });
}

export interface MovedBlock {
  readonly from: string;
  readonly to: string;
}

export type Failure =
  | { readonly kind: "destroy"; readonly address: string; readonly deposed?: string; readonly action: Action; readonly replacePaths: readonly string[] }
  | { readonly kind: "move"; readonly from: string; readonly to: string }
  | { readonly kind: "error"; readonly address?: string; readonly message: string }
  | { readonly kind: "unused-allowance"; readonly address: string }
  | { readonly kind: "difference"; readonly address: string; readonly message: string }
  /** A state instance the plan cannot account for (provider not installed, type unknown), not kept by keepUnplannable. */
  | { readonly kind: "unplannable"; readonly address: string; readonly why: string }
  /** A keepUnplannable entry that names no such instance. */
  | { readonly kind: "unused-keep"; readonly address: string }
  /** The HCL root could not be planned: the equivalence was not checked. */
  | { readonly kind: "equivalence"; readonly message: string }
  /** A create at an address the environment's `deployed` list records: the state planned against lacks a deployed object. */
  | { readonly kind: "create-deployed"; readonly address: string; readonly formerly?: string }
  /** An `import` block of an object the state already manages at another address: two addresses would manage one object. */
  | { readonly kind: "import"; readonly address: string; readonly id: string; readonly existing: string }
  /** A part of the plan the gate does not read (a plan that errored or is incomplete, a format or section it does not know). */
  | { readonly kind: "unjudged"; readonly message: string }
  /** A condition Terraform found false (or could not evaluate) at plan: a check block's assertion (only a warning to Terraform), a postcondition. */
  | { readonly kind: "check"; readonly address: string; readonly status: string }
  /** A create of an object named as one the state holds and the plan keeps (the same type, name and scope, lib/plan/names.ts): a second one. */
  | { readonly kind: "duplicate"; readonly address: string; readonly existing: string; readonly type: string; readonly attribute: string; readonly name: string };

export interface JudgeInput {
  readonly rows: readonly ChangeRow[];
  readonly errors: readonly Diagnostic[];
  readonly allow: readonly AllowedDestroy[];
  /** Replaces the synth guard already accepts (`allowReplacement`): allowed, never reported unused. */
  readonly allowReplace?: ReadonlySet<string>;
  readonly moved: readonly MovedBlock[];
  /** Resource instance addresses in the state the plan started from. */
  readonly stateAddresses: ReadonlySet<string>;
  /** Resource addresses left out of the plan (--exclude and their dependents). */
  readonly notJudged: ReadonlySet<string>;
  /** State instances the plan cannot account for (left out of the state copy). @default - none */
  readonly unplannable?: readonly { readonly address: string; readonly resource: string; readonly why: string }[];
  /** The environment's keepUnplannable entries. @default - none */
  readonly keep?: readonly KeptUnplannable[];
  /** The plan itself (`terraform show -json`): what it holds beside the rows must be nothing the gate cannot judge. @default - not checked */
  readonly plan?: PlanJson;
  /**
   * Resource addresses the environment records as deployed (`deployed`), each with its HCL address
   * (stacks/moves.ts) if it has one: a plan that creates one was made against a state that lacks it.
   * @default - none
   */
  readonly deployed?: readonly { readonly address: string; readonly formerly?: string }[];
}

/** The keepUnplannable entry for an instance: its instance address or its resource address, exactly. */
export const keptBy = (keep: readonly KeptUnplannable[], u: { address: string; resource: string }) =>
  keep.find((k) => k.address === u.address || k.address === u.resource);

/** The resource address of an instance address (`a.b[0]` → `a.b`). */
export const resourceOf = (address: string) => address.replace(/\[[^\]]*\]$/, "");

const allowedBy = (allow: readonly AllowedDestroy[], row: ChangeRow) =>
  allow.find((a) => a.address === row.address && (a.deposed ?? false) === (row.deposed !== undefined));

/**
 * The plan's top-level parts the gate reads, or knows change nothing: any
 * other part that holds something (deferred changes, a newer Terraform's
 * action invocations) is a change no one judged.
 */
const READ_PARTS = new Set([
  "format_version", "terraform_version", "variables", "planned_values", "resource_changes", "resource_drift", "output_changes",
  "prior_state", "configuration", "relevant_attributes", "checks", "timestamp", "applyable", "complete", "errored",
]);

/**
 * What makes a plan unfit to judge at all: an error part-way, changes left for later, a format or a part the gate
 * does not read. `targeted`: made with -target (plan-check's --exclude, whose addresses it lists as not judged),
 * which Terraform marks incomplete too.
 */
export function unjudgedParts(plan: PlanJson, targeted = false): Failure[] {
  const out: string[] = [];
  const major = /^(\d+)\./.exec(plan.format_version ?? "")?.[1];
  if (major !== "1") out.push(`its JSON format_version is ${JSON.stringify(plan.format_version ?? null)}, not 1.x, the format the gate reads`);
  if (plan.errored === true) out.push("Terraform stopped it on an error part-way (errored)");
  if (plan.complete === false && !targeted) out.push("it is incomplete: Terraform left changes for a later plan (complete: false: deferred actions, or a -target plan)");
  for (const [part, value] of Object.entries(plan)) {
    const empty = value === null || value === undefined || (Array.isArray(value) && value.length === 0) || (isObject(value as Json) && Object.keys(value as object).length === 0);
    if (!READ_PARTS.has(part) && !empty) out.push(`it holds \`${part}\`, which the gate does not read`);
  }
  return out.map((message) => ({ kind: "unjudged" as const, message }));
}

/** The plan's conditions that fail or errored (`checks`): a check block's failure is only a warning to Terraform, its plan goes on. */
export function failedChecks(plan: PlanJson): Failure[] {
  const out: Failure[] = [];
  for (const c of Array.isArray(plan.checks) ? plan.checks : []) {
    if (!isObject(c) || (c.status !== "fail" && c.status !== "error")) continue;
    const address = isObject(c.address) && typeof c.address.to_display === "string" ? c.address.to_display : "(a check)";
    out.push({ kind: "check", address, status: c.status });
  }
  return out;
}

/** A managed object of the plan's prior state (after the plan's moves): its address, type and values. */
export interface PriorObject {
  readonly address: string;
  readonly type: string;
  readonly values: { [key: string]: Json };
  /** Where a value is sensitive (`true`), in the values' shape. */
  readonly sensitive?: Json;
}

/** The managed objects of the plan's prior state (`prior_state`, its addresses after the moves). */
export function priorObjects(plan: PlanJson): PriorObject[] {
  const out: PriorObject[] = [];
  const walk = (m: Json | undefined) => {
    if (!isObject(m)) return;
    for (const r of Array.isArray(m.resources) ? m.resources : []) {
      if (isObject(r) && r.mode === "managed" && typeof r.address === "string") out.push({ address: r.address, type: String(r.type), values: isObject(r.values) ? r.values : {}, sensitive: r.sensitive_values ?? {} });
    }
    for (const c of Array.isArray(m.child_modules) ? m.child_modules : []) walk(c);
  };
  const prior = plan.prior_state;
  walk(isObject(prior as Json) && isObject((prior as { [k: string]: Json }).values) ? ((prior as { [k: string]: Json }).values as { [k: string]: Json }).root_module : undefined);
  return out;
}

/**
 * Imports of an object the state already manages at another address (the same type and `id`): both
 * addresses would then manage it, and what one destroys the other loses. An import of an object no
 * Terraform state here holds (an adoption the configuration declares) is listed, not failed.
 */
export function importsOfManaged(plan: PlanJson): Failure[] {
  const managed = new Map<string, string>();
  for (const o of priorObjects(plan)) if (typeof o.values.id === "string") managed.set(JSON.stringify([o.type, o.values.id]), o.address);
  const out: Failure[] = [];
  for (const c of plan.resource_changes ?? []) {
    const id = c.change.importing?.id;
    const existing = id === undefined ? undefined : managed.get(JSON.stringify([c.type, id]));
    if (id !== undefined && existing && existing !== c.address) out.push({ kind: "import", address: c.address, id, existing });
  }
  return out;
}

/** Everything that fails the gate. */
export function judge(input: JudgeInput): Failure[] {
  const failures: Failure[] = input.errors.map((d) => ({ kind: "error" as const, ...(d.address ? { address: d.address } : {}), message: explain(d) }));
  if (input.plan) failures.push(...unjudgedParts(input.plan, input.notJudged.size > 0), ...failedChecks(input.plan), ...importsOfManaged(input.plan), ...duplicates(input.plan, priorObjects(input.plan)));
  const used = new Set<AllowedDestroy>();
  for (const row of input.rows) {
    // A forget (a `removed` block) leaves the object in AWS unmanaged: as final as a delete for this state.
    if (row.action !== "delete" && row.action !== "replace" && row.action !== "forget") continue;
    const allowance = allowedBy(input.allow, row);
    if (allowance) used.add(allowance);
    else if (row.action === "replace" && input.allowReplace?.has(row.address)) continue;
    else failures.push({ kind: "destroy", address: row.address, ...(row.deposed ? { deposed: row.deposed } : {}), action: row.action, replacePaths: row.replacePaths });
  }
  for (const row of input.rows) {
    const deployed = row.action === "create" ? input.deployed?.find((d) => d.address === resourceOf(row.address)) : undefined;
    if (deployed && !input.notJudged.has(deployed.address)) {
      failures.push({ kind: "create-deployed", address: row.address, ...(deployed.formerly ? { formerly: deployed.formerly } : {}) });
    }
  }
  if (input.errors.length === 0) {
    for (const m of input.moved) {
      const inState = [...input.stateAddresses].some((a) => a === m.from || resourceOf(a) === m.from);
      if (!inState || input.notJudged.has(resourceOf(m.to))) continue;
      if (!input.rows.some((r) => r.previousAddress === m.from || (r.previousAddress && resourceOf(r.previousAddress) === m.from))) {
        failures.push({ kind: "move", from: m.from, to: m.to });
      }
    }
    for (const a of input.allow) {
      if (!used.has(a) && !input.notJudged.has(resourceOf(a.address))) failures.push({ kind: "unused-allowance", address: a.address });
    }
  }
  const keep = input.keep ?? [];
  const kept = new Set<KeptUnplannable>();
  for (const u of input.unplannable ?? []) {
    const k = keptBy(keep, u);
    if (k) kept.add(k);
    else failures.push({ kind: "unplannable", address: u.address, why: u.why });
  }
  for (const k of keep) if (!kept.has(k)) failures.push({ kind: "unused-keep", address: k.address });
  return failures;
}

const LENGTH = /^expected length of (\S+) to be in the range \((\d+) - (\d+)\), got ([\s\S]*)$/;

/**
 * A diagnostic in words: the provider's length check prints the whole value
 * (a rendered user-data script can hold credentials), so it becomes a size.
 */
export function explain(d: Diagnostic): string {
  const m = LENGTH.exec(d.summary);
  if (m) {
    const bytes = Buffer.byteLength(m[4], "utf8");
    const limit = Number(m[3]);
    const what = m[1] === "user_data" ? `EC2's ${limit.toLocaleString("en-US")}-byte user-data limit` : `the limit of ${limit.toLocaleString("en-US")}`;
    return `${m[1]} is ${bytes.toLocaleString("en-US")} bytes, over ${what} (the rendered value; the provider refuses it at plan time)`;
  }
  const where = d.range ? ` (${d.range.filename}:${d.range.start.line}${d.snippet?.context ? `, ${d.snippet.context}` : ""})` : "";
  const detail = d.detail ? `: ${d.detail.replace(/\s+/g, " ").trim()}` : "";
  return `${d.summary}${where}${detail}`.slice(0, 1200);
}

/** Rows counted by action. */
export function countByAction(rows: readonly ChangeRow[]): Record<Action | "move", number> {
  const counts: Record<Action | "move", number> = { create: 0, update: 0, replace: 0, delete: 0, "no-op": 0, read: 0, forget: 0, move: 0 };
  for (const r of rows) {
    counts[r.action]++;
    if (r.previousAddress) counts.move++;
  }
  return counts;
}

// ---------------------------------------------------------------- stack vs HCL root

export interface ComparisonInput {
  readonly stack: readonly ResourceChange[];
  readonly hcl: readonly ResourceChange[];
  /** The stack's address of an HCL address (through the moved blocks), or undefined when it is the same. */
  readonly toStack: (hclAddress: string) => string | undefined;
  /** Stack addresses not compared (excluded, or not plannable by the HCL root), with why. */
  readonly notCompared: ReadonlyMap<string, string>;
  /**
   * The attributes that may differ at a stack address, and why (the table in
   * stacks/moves.ts); nothing may differ anywhere else.
   * @default - none: every difference counts
   */
  readonly intended?: (stackAddress: string) => { readonly attributes: readonly string[]; readonly reason: string } | undefined;
}

export interface IntendedSeen {
  readonly address: string;
  /** False when the address is not compared (excluded, or the HCL root cannot plan it). */
  readonly compared: boolean;
  readonly attributes: readonly string[];
  readonly differing: readonly string[];
  readonly reason: string;
}

export interface Comparison {
  /** Address pairs compared and found equal. */
  readonly equal: number;
  /**
   * Every compared address the intended-difference table names: the
   * attributes it accepts there, those that differ in this plan (none when
   * both sides know them only at apply), and why.
   */
  readonly intended: readonly IntendedSeen[];
  readonly differences: readonly { readonly address: string; readonly message: string }[];
  readonly notCompared: readonly { readonly address: string; readonly why: string }[];
}

const key = (address: string, deposed?: string) => (deposed ? `${address} (deposed ${deposed})` : address);

/** The same actions, replace paths and planned values at every address, through the moved blocks. */
export function comparePlans(input: ComparisonInput): Comparison {
  const mapAddress = (hclAddress: string) => {
    const exact = input.toStack(hclAddress);
    if (exact) return exact;
    const base = resourceOf(hclAddress);
    const viaResource = base !== hclAddress ? input.toStack(base) : undefined;
    return viaResource ? viaResource + hclAddress.slice(base.length) : hclAddress;
  };
  const skipped = (stackAddress: string) => input.notCompared.get(stackAddress) ?? input.notCompared.get(resourceOf(stackAddress));
  const stack = new Map(input.stack.filter((c) => c.mode === "managed").map((c) => [key(c.address, c.deposed), c]));
  const differences: { address: string; message: string }[] = [];
  const intended: IntendedSeen[] = [];
  const notCompared = new Map<string, string>();
  let equal = 0;
  const seen = new Set<string>();
  for (const h of input.hcl.filter((c) => c.mode === "managed")) {
    const address = mapAddress(h.address);
    const k = key(address, h.deposed);
    seen.add(k);
    const why = skipped(address);
    if (why) {
      notCompared.set(k, why);
      const intent = input.intended?.(address);
      if (intent) intended.push({ address: k, compared: false, attributes: intent.attributes, differing: [], reason: intent.reason });
      continue;
    }
    const s = stack.get(k);
    const label = address === h.address ? address : `${address} (HCL ${h.address})`;
    if (!s) {
      differences.push({ address: label, message: `the HCL root plans ${actionOf(h.change.actions)}; the stack has no such instance` });
      continue;
    }
    const problems: string[] = [];
    const ha = actionOf(h.change.actions);
    const sa = actionOf(s.change.actions);
    if (ha !== sa) problems.push(`action: HCL ${ha}, stack ${sa}`);
    const hp = (h.change.replace_paths ?? []).map(pathText).sort();
    const sp = (s.change.replace_paths ?? []).map(pathText).sort();
    if (JSON.stringify(hp) !== JSON.stringify(sp)) problems.push(`replace paths: HCL [${hp.join(", ")}], stack [${sp.join(", ")}]`);
    const intent = input.intended?.(address);
    const accepted = (a: string) => intent?.attributes.includes(a) ?? false;
    const values = differingAttributes(h.change.after, s.change.after);
    const unknown = differingAttributes(h.change.after_unknown, s.change.after_unknown);
    if (values.some((a) => !accepted(a))) problems.push(`planned values differ: ${values.filter((a) => !accepted(a)).join(", ")}`);
    if (unknown.some((a) => !accepted(a))) problems.push(`known only at apply in one of them: ${unknown.filter((a) => !accepted(a)).join(", ")}`);
    const differing = [...new Set([...values, ...unknown].filter(accepted))].sort();
    if (intent) {
      intended.push({ address: label, compared: true, attributes: intent.attributes, differing, reason: intent.reason });
      // Known on both sides and equal: the difference is gone, and so must the entry.
      const known = (c: ResourceChange) => intent.attributes.every((a) => !containsTrue(isObject(c.change.after_unknown) ? c.change.after_unknown[a] : undefined));
      if (differing.length === 0 && known(h) && known(s)) {
        problems.push(`equal in ${intent.attributes.join(", ")}, which stacks/moves.ts declares an intended difference here: a stale entry; remove it`);
      }
    }
    if (problems.length) differences.push({ address: label, message: problems.join("; ") });
    else if (differing.length === 0) equal++;
  }
  for (const [k, s] of stack) {
    if (seen.has(k)) continue;
    const why = skipped(s.address);
    const intent = input.intended?.(s.address);
    if (why && intent) intended.push({ address: k, compared: false, attributes: intent.attributes, differing: [], reason: intent.reason });
    if (why) notCompared.set(k, why);
    else differences.push({ address: k, message: `the stack plans ${actionOf(s.change.actions)}; the HCL root has no such instance` });
  }
  return { equal, intended, differences, notCompared: [...notCompared].map(([address, why]) => ({ address, why })).sort((a, b) => a.address.localeCompare(b.address)) };
}

function differingAttributes(a: Json | undefined, b: Json | undefined): string[] {
  const x = isObject(a) ? a : {};
  const y = isObject(b) ? b : {};
  return [...new Set([...Object.keys(x), ...Object.keys(y)])]
    .filter((k) => JSON.stringify(normalize(x[k])) !== JSON.stringify(normalize(y[k])))
    .sort();
}

/** Key order is not a difference. */
function normalize(v: Json | undefined): Json {
  if (Array.isArray(v)) return v.map(normalize);
  if (isObject(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, normalize(v[k])]));
  return v ?? null;
}
