// The moved-block errors for which Terraform 1.11.4 refuses to plan at all (internal/configs/moved.go,
// internal/refactoring/move_validate.go, cross_provider_move.go; each measured with terraform_data:
// validate/migration-moved.test.ts): a set of moved blocks with one of these plans nothing, whatever the
// rows say. The blocks are the stack's own (the root module's); what an HCL module declares is not read,
// so a `from` inside a module block the stack keeps is not checked for still being declared.
import type { MovedBlock, StackConfig } from "./migration";
import { moduleKeyVerdict, movedKeyVerdict } from "./migration-expansion";

export interface MovedError {
  /** Terraform's error (its summary line), or "Move across resource types". */
  readonly error: string;
  /** The blocks involved, by from and to, in the configuration's order. */
  readonly blocks: MovedBlock[];
  /** Why, in Terraform's terms. */
  readonly detail: string;
}

const ANY = Symbol("any key");
type Key = null | number | string | typeof ANY;
interface Step {
  readonly name: string;
  readonly key: Key;
}
type Kind = "resource" | "resource instance" | "module call" | "module instance";
/** A moved block's end after Terraform unifies the two ends (UnifyMoveEndpoints): both resource-level, both instance-level, both calls. */
interface Endpoint {
  readonly kind: Kind;
  /** The module path; for a module kind it ends with the call itself (key ANY for a whole call). */
  readonly modules: readonly Step[];
  readonly resource?: { readonly type: string; readonly name: string; readonly key: Key };
}

const NAME = "[A-Za-z_][A-Za-z0-9_-]*";
const KEY = String.raw`\[(?:\d+|"(?:[^"\\]|\\.)*")\]`;
const MODULE_STEP = new RegExp(`^module\\.(${NAME})(${KEY})?(?:\\.|$)`);
const RESOURCE = new RegExp(`^((?:data\\.)?${NAME})\\.(${NAME})(${KEY})?$`);

function parseKey(text: string | undefined): Key {
  if (text === undefined) return null;
  const inner = text.slice(1, -1);
  return inner.startsWith('"') ? (JSON.parse(inner) as string) : Number(inner);
}

/** Module steps and an optional resource, as written; undefined when Terraform would not parse it as a moved block's end. */
function parse(address: string): { modules: Step[]; resource?: { type: string; name: string; key: Key } } | undefined {
  const modules: Step[] = [];
  let rest = address;
  for (let m = MODULE_STEP.exec(rest); m; m = MODULE_STEP.exec(rest)) {
    modules.push({ name: m[1], key: parseKey(m[2]) });
    rest = rest.slice(m[0].length);
  }
  if (rest === "") return modules.length > 0 && !address.endsWith(".") ? { modules } : undefined;
  const r = RESOURCE.exec(rest);
  return r ? { modules, resource: { type: r[1], name: r[2], key: parseKey(r[3]) } } : undefined;
}

const keyText = (k: Key) => (k === null || k === ANY ? "" : typeof k === "number" ? `[${k}]` : `[${JSON.stringify(k)}]`);
const render = (e: Endpoint) =>
  [...e.modules.map((s) => `module.${s.name}${keyText(s.key)}`), ...(e.resource ? [`${e.resource.type}.${e.resource.name}${keyText(e.resource.key)}`] : [])].join(".");
/** Terraform's equivalence of two unified ends: same kind, same address. */
const identity = (e: Endpoint) => `${e.kind}:${render(e)}`;

/** Both ends unified as Terraform does (instance-level when either end has a key); undefined when one is a resource and the other a module. */
function unify(block: MovedBlock): [Endpoint, Endpoint] | "kinds" | "address" {
  const from = parse(block.from);
  const to = parse(block.to);
  if (!from || !to) return "address";
  if ((from.resource === undefined) !== (to.resource === undefined)) return "kinds";
  if (from.resource && to.resource) {
    const instance = from.resource.key !== null || to.resource.key !== null;
    const end = (p: typeof from): Endpoint => ({
      kind: instance ? "resource instance" : "resource",
      modules: p.modules,
      resource: { ...p.resource!, key: instance ? p.resource!.key : ANY },
    });
    return [end(from), end(to)];
  }
  const last = (p: typeof from) => p.modules[p.modules.length - 1];
  const instance = last(from).key !== null || last(to).key !== null;
  const end = (p: typeof from): Endpoint => ({
    kind: instance ? "module instance" : "module call",
    modules: instance ? p.modules : [...p.modules.slice(0, -1), { name: last(p).name, key: ANY }],
  });
  return [end(from), end(to)];
}

/** Terraform's moduleInstanceCanMatch: `a` a prefix of `b`, a whole call's step matching any key. */
function canMatch(a: readonly Step[], b: readonly Step[]): boolean {
  return a.every((s, i) => s.name === b[i].name && (s.key === ANY || b[i].key === ANY || s.key === b[i].key));
}

/** Terraform's CanChainFrom: `e` (one block's from) could select what `o` (another's to) selects. */
function canChainFrom(e: Endpoint, o: Endpoint): boolean {
  if (e.modules.length !== o.modules.length || !canMatch(o.modules, e.modules)) return false;
  const isModule = (x: Endpoint) => x.resource === undefined;
  if (isModule(o) || isModule(e)) return isModule(o) && isModule(e);
  if (o.kind !== e.kind) return false;
  return o.resource!.type === e.resource!.type && o.resource!.name === e.resource!.name && (o.kind === "resource" || o.resource!.key === e.resource!.key);
}

/** Terraform's NestedWithin: `e` is inside what `o` selects. */
function nestedWithin(e: Endpoint, o: Endpoint): boolean {
  if (o.modules.length > e.modules.length || !canMatch(o.modules, e.modules)) return false;
  const longer = e.modules.length > o.modules.length;
  switch (o.kind) {
    case "module call":
    case "module instance":
      return e.resource === undefined ? longer : true;
    case "resource":
      return !longer && e.kind === "resource instance" && e.resource!.type === o.resource!.type && e.resource!.name === o.resource!.name;
    default:
      return false;
  }
}

/** Terraform's statementDependsOn for two root blocks: `a` must run after `b`. */
function dependsOn(a: [Endpoint, Endpoint], b: [Endpoint, Endpoint]): boolean {
  return canChainFrom(a[0], b[1]) || nestedWithin(a[0], b[1]) || nestedWithin(a[1], b[1]) || nestedWithin(b[0], a[0]) || nestedWithin(b[1], a[0]);
}

/** The strongly connected sets of more than one block (Tarjan's algorithm), each in the configuration's order. */
function cycles(edges: readonly number[][]): number[][] {
  const index: number[] = [];
  const low: number[] = [];
  const stack: number[] = [];
  const on = new Set<number>();
  const out: number[][] = [];
  let next = 0;
  const visit = (v: number) => {
    index[v] = low[v] = next++;
    stack.push(v);
    on.add(v);
    for (const w of edges[v]) {
      if (index[w] === undefined) {
        visit(w);
        low[v] = Math.min(low[v], low[w]);
      } else if (on.has(w)) low[v] = Math.min(low[v], index[w]);
    }
    if (low[v] !== index[v]) return;
    const set: number[] = [];
    for (let w = stack.pop()!; ; w = stack.pop()!) {
      on.delete(w);
      set.push(w);
      if (w === v) break;
    }
    if (set.length > 1) out.push(set.sort((x, y) => x - y));
  };
  edges.forEach((_, v) => index[v] === undefined && visit(v));
  return out.sort((x, y) => x[0] - y[0]);
}

/**
 * Whether the stack still declares a block's (unified) from: true, false, or undefined when it cannot tell
 * (inside a module block the stack keeps, whose HCL source it does not read; a key known at plan time only).
 */
function declared(from: Endpoint, config: StackConfig): boolean | undefined {
  const top = from.modules[0];
  if (from.resource) {
    if (top !== undefined) return config.modules.has(top.name) ? undefined : false;
    const root = `${from.resource.type}.${from.resource.name}`;
    if (!config.resources.has(root)) return false;
    if (from.kind === "resource") return true; // a declared resource, even with count = 0 (measured)
    const verdict = movedKeyVerdict(render(from), config);
    return verdict === undefined ? true : "destroyed" in verdict ? false : undefined;
  }
  if (from.modules.length > 1) return config.modules.has(top.name) ? undefined : false;
  if (!config.modules.has(top.name)) return false;
  if (from.kind === "module call") return true;
  const verdict = moduleKeyVerdict(render(from), config);
  return verdict === undefined ? true : "destroyed" in verdict ? false : undefined;
}

const NOUNS: Record<Kind, [string, string]> = {
  resource: ["resource", "resource"],
  "resource instance": ["resource instance", "instance"],
  "module call": ["module call", "call"],
  "module instance": ["module instance", "instance"],
};

/**
 * The errors Terraform raises on the stack's moved blocks, in its order: an invalid pair of ends first (it stops
 * at loading the configuration), then per block a redundant move, a `from` still declared, two destinations for
 * one source and two sources for one destination; a cycle only when none of those. `caught`: whether a block
 * moves an object of the state (a move across resource types fails only then: the provider is asked).
 */
export function movedErrors(moved: readonly MovedBlock[], config: StackConfig, caught: (block: MovedBlock) => boolean = () => true): MovedError[] {
  const pair = (m: MovedBlock): MovedBlock => ({ from: m.from, to: m.to });
  const unified = moved.map(unify);
  const invalid: MovedError[] = [];
  unified.forEach((u, n) => {
    if (u === "kinds") {
      invalid.push({
        error: 'Invalid "moved" addresses',
        blocks: [pair(moved[n])],
        detail: 'The "from" and "to" addresses must either both refer to resources or both refer to modules.',
      });
    } else if (u === "address") {
      invalid.push({ error: "Invalid address", blocks: [pair(moved[n])], detail: "An end is not a module or resource address Terraform parses." });
    }
  });
  if (invalid.length > 0) return invalid;
  const ends = unified as [Endpoint, Endpoint][];

  const errors: MovedError[] = [];
  const byFrom = new Map<string, number>();
  const byTo = new Map<string, number>();
  ends.forEach(([from, to], n) => {
    const block = pair(moved[n]);
    const [noun, short] = NOUNS[from.kind];
    if (identity(from) === identity(to)) {
      errors.push({ error: "Redundant move statement", blocks: [block], detail: `a move from ${render(from)} to the same address, the same as not declaring this move at all` });
      return;
    }
    if (declared(from, config) === true) {
      errors.push({ error: "Moved object still exists", blocks: [block], detail: `the ${noun} ${render(from)} is still declared in the configuration` });
    }
    const first = byFrom.get(identity(from));
    if (first === undefined) byFrom.set(identity(from), n);
    else if (identity(ends[first][1]) !== identity(to)) {
      errors.push({ error: "Ambiguous move statements", blocks: [pair(moved[first]), block], detail: `each ${noun} can move to only one destination ${short}` });
    }
    const firstTo = byTo.get(identity(to));
    if (firstTo === undefined) byTo.set(identity(to), n);
    else if (identity(ends[firstTo][0]) !== identity(from)) {
      errors.push({ error: "Ambiguous move statements", blocks: [pair(moved[firstTo]), block], detail: `each ${noun} can have moved from only one source ${short}` });
    }
  });
  if (errors.length === 0) {
    const edges = ends.map((a, i) => ends.flatMap((b, j) => (i !== j && dependsOn(a, b) ? [j] : [])));
    for (const set of cycles(edges)) {
      errors.push({
        error: "Cyclic dependency in move statements",
        blocks: set.map((n) => pair(moved[n])),
        detail: "the chained moves form a cycle, so there is no final location to move objects to",
      });
    }
  }
  // Across resource types: only where the provider of `to` supports moving from `from`'s type (the builtin terraform_data from null_resource).
  ends.forEach(([from, to], n) => {
    if (!from.resource || !to.resource || from.resource.type === to.resource.type || !caught(moved[n])) return;
    if (from.resource.type === "null_resource" && to.resource.type === "terraform_data") return;
    errors.push({
      error: "Move across resource types",
      blocks: [pair(moved[n])],
      detail:
        `Terraform moves a ${from.resource.type} to a ${to.resource.type} only if the provider of ${to.resource.type} supports it, ` +
        "and fails the plan otherwise; migration-check cannot ask the provider: `npm run plan-check` asks Terraform",
    });
  });
  return errors;
}
