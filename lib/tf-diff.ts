// synth-diff's comparison: two synthesized cdk.tf.json documents, block by
// block (keyed by Terraform address) and attribute by attribute. Pure: no
// file, no git, no Terraform. Rendering is in ./tf-diff-report.ts.

import { isSecretName } from "../policy/secret-names";
import { isPureReference } from "../policy/template";
import type { AssetChange } from "./tf-diff-assets";
import { MASK, maskValues, parseJsonString } from "./tf-diff-mask";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** The kinds of top-level blocks, in the order a report lists them. */
export const BLOCK_KINDS = ["terraform", "provider", "variable", "local", "data", "resource", "module", "output", "import", "check", "other"] as const;
export type BlockKind = (typeof BLOCK_KINDS)[number];

/** What replaces a sensitive variable's default, a literal under a secret-like name, or a secret inside a text, wherever it would be shown. */
export { MASK };

/** One step of an attribute path. */
export type PathStep =
  | { readonly key: string }
  | { readonly index: number }
  /** An element of a list of objects matched by a unique field (`name`, `Sid`) instead of its position. */
  | { readonly match: string; readonly value: string }
  /** The string so far holds JSON (a policy, container definitions), compared as JSON. */
  | { readonly json: true };

export interface AttributeChange {
  /** The attribute's path, readable: `jsondecode(container_definitions)[name="ml-worker"].cpu`. */
  readonly path: string;
  readonly steps: readonly PathStep[];
  /** `reordered`: the same keyed elements, in another order. */
  readonly change: "changed" | "added" | "removed" | "reordered";
  /** Absent for `added`; MASK when sensitive. */
  readonly before?: Json;
  /** Absent for `removed`; MASK when sensitive. */
  readonly after?: Json;
  readonly sensitive?: true;
  /** The values are shown with the secrets inside their text masked (a URL's password, a private key: lib/tf-diff-mask.ts). */
  readonly masked?: true;
  /** The content changes of the template assets the values name (lib/tf-diff-assets.ts). */
  readonly assets?: readonly AssetChange[];
}

export interface BlockChange {
  readonly address: string;
  readonly kind: BlockKind;
  /** `moved`: removed at `from`, added at `address`, paired by a moved block of the new document. */
  readonly change: "added" | "removed" | "changed" | "moved";
  /** For `moved`: the address it had before. */
  readonly from?: string;
  /**
   * For `added`: the `from` of each moved block of the new document that
   * targets it: Terraform moves an object here, rather than creating one,
   * when the state holds one there.
   */
  readonly movedFrom?: readonly string[];
  /** For `changed` and `moved`: what differs (a move may change nothing). */
  readonly attributes: readonly AttributeChange[];
  /** For `added`/`removed`: the block's body, sensitive defaults masked, `//` comments left out. */
  readonly body?: Json;
  /** For `added`/`removed`: the template assets its body names, with their content (lib/tf-diff-assets.ts). */
  readonly assets?: readonly AssetChange[];
}

export interface MoveChange {
  readonly from: string;
  /** The target in the new document (absent when the moved block was removed). */
  readonly to?: string;
  /** The target in the old document (absent when the moved block was added). */
  readonly previousTo?: string;
  readonly change: "added" | "removed" | "changed";
}

export interface StackDiff {
  readonly stack: string;
  /** `added`/`removed`: the stack exists on one side only. */
  readonly status: "added" | "removed" | "changed" | "unchanged";
  /** Sorted by kind (BLOCK_KINDS), then address. */
  readonly blocks: readonly BlockChange[];
  /** Moved-block changes, sorted by `from`. */
  readonly moves: readonly MoveChange[];
  /** Blocks identical on both sides (moved blocks not counted). */
  readonly unchanged: number;
}

interface Block {
  readonly address: string;
  readonly kind: BlockKind;
  readonly body: Json;
  /** A variable declared sensitive: its default is never shown. */
  readonly sensitive: boolean;
}

const isObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);

/** Terraform JSON comments (`"//"` keys, where cdktf puts construct paths) are not configuration. */
function withoutComments(v: Json): Json {
  if (Array.isArray(v)) return v.map(withoutComments);
  if (!isObject(v)) return v;
  return Object.fromEntries(
    Object.keys(v)
      .filter((k) => k !== "//")
      .map((k) => [k, withoutComments(v[k])]),
  );
}

const KIND_OF: Record<string, BlockKind> = { resource: "resource", data: "data", module: "module", output: "output", variable: "variable", check: "check" };
const PREFIX: Partial<Record<BlockKind, string>> = { data: "data.", module: "module.", output: "output.", variable: "var.", check: "check." };

/** Every block of a document by address, and its moved blocks by `from`. */
export function blocksOf(doc: JsonObject): { blocks: Map<string, Block>; moves: Map<string, string> } {
  const blocks = new Map<string, Block>();
  const moves = new Map<string, string>();
  const add = (address: string, kind: BlockKind, body: Json, sensitive = false) => blocks.set(address, { address, kind, body: withoutComments(body), sensitive });
  for (const key of Object.keys(doc)) {
    const value = doc[key];
    if (key === "//") continue; // cdktf's metadata: stack name, version, a summary of moves
    if (key === "terraform") add("terraform", "terraform", value);
    else if (key === "moved" && Array.isArray(value)) {
      for (const m of value) if (isObject(m)) moves.set(String(m.from), String(m.to));
    } else if (key === "import" && Array.isArray(value)) {
      for (const i of value) if (isObject(i)) add(`import.to(${String(i.to)})`, "import", i);
    } else if (key === "locals" && isObject(value)) {
      for (const name of Object.keys(value)) add(`local.${name}`, "local", value[name]);
    } else if (key === "provider" && isObject(value)) {
      for (const name of Object.keys(value)) {
        const configs = Array.isArray(value[name]) ? (value[name] as Json[]) : [value[name]];
        configs.forEach((c, n) => {
          const alias = isObject(c) && typeof c.alias === "string" ? c.alias : undefined;
          add(`provider.${name}${alias ? `.${alias}` : configs.length > 1 && n > 0 ? `[${n}]` : ""}`, "provider", c);
        });
      }
    } else if ((key === "resource" || key === "data") && isObject(value)) {
      for (const type of Object.keys(value)) {
        const byName = value[type];
        if (!isObject(byName)) continue;
        for (const name of Object.keys(byName)) add(`${PREFIX[KIND_OF[key]] ?? ""}${type}.${name}`, KIND_OF[key], byName[name]);
      }
    } else if (key in KIND_OF && isObject(value)) {
      for (const name of Object.keys(value)) {
        const body = value[name];
        add(`${PREFIX[KIND_OF[key]]}${name}`, KIND_OF[key], body, key === "variable" && isObject(body) && body.sensitive === true);
      }
    } else add(key, "other", value);
  }
  return { blocks, moves };
}

const byKindThenAddress = (a: { kind: BlockKind; address: string }, b: { kind: BlockKind; address: string }) =>
  BLOCK_KINDS.indexOf(a.kind) - BLOCK_KINDS.indexOf(b.kind) || compare(a.address, b.address);

/** Code-point order, the same on every machine (localeCompare is not). */
export const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Compares two synthesized documents (either may be absent: a stack on one side only). */
export function diffDocuments(stack: string, before: JsonObject | undefined, after: JsonObject | undefined): StackDiff {
  const old = blocksOf(before ?? {});
  const now = blocksOf(after ?? {});
  const changes: BlockChange[] = [];
  let unchanged = 0;

  // A moved block of the new document pairs a block that left `from` with the one that arrived at `to`.
  const pairedFrom = new Map<string, string>();
  for (const [from, to] of now.moves) {
    const a = old.blocks.get(from);
    const b = now.blocks.get(to);
    if (a && b && !now.blocks.has(from) && !old.blocks.has(to) && a.kind === b.kind) pairedFrom.set(to, from);
  }
  const pairedTo = new Set(pairedFrom.values());

  for (const [address, b] of now.blocks) {
    const from = pairedFrom.get(address);
    const a = old.blocks.get(from ?? address);
    if (!a) {
      const movedFrom = [...now.moves].filter(([, to]) => to === address).map(([from]) => from).sort(compare);
      changes.push({ address, kind: b.kind, change: "added", ...(movedFrom.length ? { movedFrom } : {}), attributes: [], body: masked(b) });
      continue;
    }
    const attributes = diffBodies(a, b).map((c) => maskSecretChange(c, b, a));
    if (from) changes.push({ address, kind: b.kind, change: "moved", from, attributes });
    else if (attributes.length > 0) changes.push({ address, kind: b.kind, change: "changed", attributes });
    else unchanged++;
  }
  for (const [address, a] of old.blocks) {
    if (!now.blocks.has(address) && !pairedTo.has(address)) changes.push({ address, kind: a.kind, change: "removed", attributes: [], body: masked(a) });
  }
  changes.sort(byKindThenAddress);

  const moves: MoveChange[] = [];
  for (const [from, to] of now.moves) {
    const previousTo = old.moves.get(from);
    if (previousTo === undefined) moves.push({ from, to, change: "added" });
    else if (previousTo !== to) moves.push({ from, to, previousTo, change: "changed" });
  }
  for (const [from, previousTo] of old.moves) if (!now.moves.has(from)) moves.push({ from, previousTo, change: "removed" });
  moves.sort((x, y) => compare(x.from, y.from));

  const status = !before ? "added" : !after ? "removed" : changes.length + moves.length > 0 ? "changed" : "unchanged";
  return { stack, status, blocks: changes, moves, unchanged };
}

/** A block's body with a sensitive variable's default, every literal under a secret-like name and the secrets inside texts masked. */
function masked(b: Block): Json {
  const body = maskValues(maskSecretLiterals(b.body, blockName(b)));
  if (!b.sensitive || !isObject(body) || !("default" in body)) return body;
  return { ...body, default: MASK };
}

/** The name a block's top-level `default` or `value` is known by: a variable's or local's own name. */
const blockName = (b: Block): string => b.address.slice(b.address.lastIndexOf(".") + 1);

/**
 * A literal under a secret-like name (the policy's isSecretName: `db_password_plain`, an SSM parameter
 * named `.../smtp/password`, `{ name: "SMTP_PASSWORD", value }`) is never shown, whether a variable
 * declares it sensitive or not: a report posted to a pull request must not carry a password a change
 * wrote as a literal. References (`${var.x}`) are shown. `name`: what the value is known by.
 */
export function maskSecretLiterals(v: Json, name?: string): Json {
  if (typeof v === "string") {
    if (name !== undefined && v !== "" && !isPureReference(v) && isSecretName(name)) return MASK;
    const inner = parseJsonString(v);
    if (inner === undefined) return v;
    const out = maskSecretLiterals(inner);
    return equal(out, inner) ? v : JSON.stringify(out);
  }
  if (Array.isArray(v)) return v.map((x) => maskSecretLiterals(x, isObject(x) ? undefined : name));
  if (!isObject(v)) return v;
  const sibling = typeof v.name === "string" ? v.name : undefined;
  return Object.fromEntries(Object.keys(v).map((k) => [k, maskSecretLiterals(v[k], k === "value" || k === "default" ? (sibling ?? name) : k)]));
}

/** What the value at `steps` is known by (as maskSecretLiterals names it), reading the block's body along the path. */
function nameAt(steps: readonly PathStep[], body: Json, block: string): string | undefined {
  let node: Json | undefined = body;
  let name: string | undefined = block;
  for (const step of steps) {
    if ("json" in step) node = parseJsonString(node ?? null);
    else if ("index" in step) node = Array.isArray(node) ? node[step.index] : undefined;
    else if ("match" in step) {
      node = Array.isArray(node) ? node.find((x) => isObject(x) && x[step.match] === step.value) : undefined;
      name = step.match === "name" ? step.value : undefined;
    } else {
      const sibling: string | undefined = isObject(node) && typeof node.name === "string" ? node.name : undefined;
      name = step.key === "value" || step.key === "default" ? (sibling ?? name) : step.key;
      node = isObject(node) ? node[step.key] : undefined;
    }
  }
  return name;
}

/**
 * An attribute change with the literals a secret-like name holds masked, and marked sensitive; otherwise
 * with the secrets inside its texts masked (maskValues), and marked masked.
 */
function maskSecretChange(c: AttributeChange, now: Block, old: Block): AttributeChange {
  if (c.sensitive) return c;
  const name = nameAt(c.steps, c.change === "removed" ? old.body : now.body, blockName(now));
  const values = (mask: (v: Json) => Json) => [c.before, c.after].map((v) => (v === undefined ? undefined : mask(v)));
  const [before, after] = values((v) => maskSecretLiterals(v, name));
  const changed = (a: Json | undefined, b: Json | undefined) => !equal(a ?? null, b ?? null);
  if (changed(before, c.before) || changed(after, c.after)) return { ...c, sensitive: true, ...(before !== undefined ? { before } : {}), ...(after !== undefined ? { after } : {}) };
  const [shownBefore, shownAfter] = values(maskValues);
  if (shownBefore === c.before && shownAfter === c.after) return c;
  return { ...c, masked: true, ...(shownBefore !== undefined ? { before: shownBefore } : {}), ...(shownAfter !== undefined ? { after: shownAfter } : {}) };
}

function diffBodies(a: Block, b: Block): AttributeChange[] {
  const out: AttributeChange[] = [];
  diffValue(a.body, b.body, [], out);
  if (!(a.sensitive || b.sensitive)) return out;
  // A sensitive variable's default: say that it changed, never what it was or is.
  return out.map((c) =>
    firstKey(c.steps) === "default" ? { path: c.path, steps: c.steps, change: c.change, sensitive: true, ...(c.change !== "added" ? { before: MASK } : {}), ...(c.change !== "removed" ? { after: MASK } : {}) } : c,
  );
}

const firstKey = (steps: readonly PathStep[]): string | undefined => {
  const s = steps[0];
  return s && "key" in s ? s.key : undefined;
};

/** Whether two JSON values are equal (object key order ignored, list order kept). */
export function equal(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, n) => equal(x, b[n]));
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && equal(a[k], b[k]));
  }
  return false;
}


const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `a.b[0][name="x"]`, with `jsondecode(...)` around what holds JSON. */
export function renderPath(steps: readonly PathStep[]): string {
  let s = "";
  for (const step of steps) {
    if ("json" in step) s = `jsondecode(${s})`;
    else if ("index" in step) s += `[${step.index}]`;
    else if ("match" in step) s += `[${step.match}=${JSON.stringify(step.value)}]`;
    else if (IDENTIFIER.test(step.key)) s += s ? `.${step.key}` : step.key;
    else s += `[${JSON.stringify(step.key)}]`;
  }
  return s;
}

/** Fields that identify an element of a list of objects (container definitions and their environment, policy statements). */
const MATCH_FIELDS = ["name", "Sid"];

/** The field by which both lists' elements can be matched: every element an object with a unique string value of it. */
function matchField(a: Json[], b: Json[]): string | undefined {
  if (a.length === 0 || b.length === 0) return undefined;
  return MATCH_FIELDS.find((f) =>
    [a, b].every((list) => {
      const values = list.map((x) => (isObject(x) && typeof x[f] === "string" ? x[f] : undefined));
      return values.every((v) => v !== undefined) && new Set(values).size === values.length;
    }),
  );
}

const isScalar = (v: Json): boolean => v === null || typeof v !== "object";

/** Every difference between two values, by attribute path (JSON in strings compared as JSON, named list elements matched by name). */
export function diffJson(a: Json, b: Json): AttributeChange[] {
  const out: AttributeChange[] = [];
  diffValue(a, b, [], out);
  return out;
}

function diffValue(a: Json, b: Json, steps: PathStep[], out: AttributeChange[]): void {
  if (equal(a, b)) return;
  const push = (change: AttributeChange["change"], at: PathStep[], before?: Json, after?: Json) =>
    out.push({ path: renderPath(at), steps: at, change, ...(change !== "added" ? { before } : {}), ...(change !== "removed" ? { after } : {}) });

  const ja = parseJsonString(a);
  const jb = parseJsonString(b);
  if (ja !== undefined && jb !== undefined) return diffValue(ja, jb, [...steps, { json: true }], out);

  if (isObject(a) && isObject(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort(compare)) {
      const at = [...steps, { key: k }];
      if (!(k in b)) push("removed", at, a[k]);
      else if (!(k in a)) push("added", at, undefined, b[k]);
      else diffValue(a[k], b[k], at, out);
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const field = matchField(a, b);
    if (field) {
      const key = (x: Json) => (x as JsonObject)[field] as string;
      const inA = new Map(a.map((x) => [key(x), x]));
      const inB = new Map(b.map((x) => [key(x), x]));
      const common = [...inA.keys()].filter((k) => inB.has(k));
      const orderB = [...inB.keys()].filter((k) => inA.has(k));
      if (common.some((k, n) => orderB[n] !== k)) push("reordered", steps, common, orderB);
      for (const k of [...new Set([...inA.keys(), ...inB.keys()])].sort(compare)) {
        const at = [...steps, { match: field, value: k }];
        if (!inB.has(k)) push("removed", at, inA.get(k));
        else if (!inA.has(k)) push("added", at, undefined, inB.get(k));
        else diffValue(inA.get(k)!, inB.get(k)!, at, out);
      }
      return;
    }
    // A list of plain values (actions, CIDRs, ids) is one value: shown whole, with what joined and left.
    if (a.every(isScalar) && b.every(isScalar)) return void push("changed", steps, a, b);
    for (let n = 0; n < Math.max(a.length, b.length); n++) {
      const at = [...steps, { index: n }];
      if (n >= b.length) push("removed", at, a[n]);
      else if (n >= a.length) push("added", at, undefined, b[n]);
      else diffValue(a[n], b[n], at, out);
    }
    return;
  }
  push("changed", steps, a, b);
}

/** Counts for a summary line. */
export function countChanges(d: StackDiff): Record<"added" | "removed" | "changed" | "moved" | "moves", number> {
  const n = (c: BlockChange["change"]) => d.blocks.filter((b) => b.change === c).length;
  return { added: n("added"), removed: n("removed"), changed: n("changed"), moved: n("moved"), moves: d.moves.length };
}
