// Which instance keys a root resource or a module block keeps, by its `count` or `for_each`
// (Terraform's own rules, checked with terraform_data on 1.11.4): an instance whose key does not fit
// is destroyed ("because resource does not use count", "because key ["b"] is not in for_each map",
// "because module.x[2] is not in configuration"). A key the configuration decides only at plan time
// (a `count` or `for_each` over an expression) is named as not checked, never passed silently.
import type { StackConfig } from "./migration";

/** How a configuration resource or module block expands: by `count`, by `for_each`, or not at all (absent). */
export type Expansion = "count" | "for_each";

/** What the configuration says of one instance key: destroyed (why), not decidable offline (why), or undefined when it fits. */
export type KeyVerdict = { readonly destroyed: string } | { readonly notChecked: string } | undefined;

/** `aws_x.y` for `aws_x.y["a"]`; null for addresses inside a module. */
export function rootResourceOf(address: string): string | null {
  if (address.startsWith("module.")) return null;
  const bracket = address.indexOf("[");
  return bracket === -1 ? address : address.slice(0, bracket);
}

/** The key of `["a"]` or `[1]` ("a", 1); null for "" (no key); undefined when not a key Terraform writes. */
function parseKey(suffix: string): string | number | null | undefined {
  if (suffix === "") return null;
  const numeric = /^\[(\d+)\]$/.exec(suffix);
  if (numeric) return Number(numeric[1]);
  if (!/^\["(?:[^"\\]|\\.)*"\]$/.test(suffix)) return undefined;
  try {
    return JSON.parse(suffix.slice(1, -1)) as string;
  } catch {
    return undefined;
  }
}

/** Where an expansion key of `config` (a root resource `aws_x.y` or `module.<name>`) is decided. */
function describe(block: string, config: StackConfig): string {
  const expression = config.expressions?.get(block);
  return expression === undefined ? "" : ` = ${expression}`;
}

/**
 * Why an instance key does not fit the `count` or `for_each` of `block` (a root resource or `module.<name>`):
 * the shared rules, whatever the block. `what` names the instance in the messages. `implied`: whether Terraform
 * would move a no-key instance to [0] (a root resource's instance where the state holds it, not one a moved block brings).
 */
function verdictFor(block: string, suffix: string, config: StackConfig, what: string, implied: boolean): KeyVerdict {
  const key = parseKey(suffix);
  const expansion = config.expansions?.get(block) ?? (config.counts?.has(block) ? "count" : undefined);
  const kind = block.startsWith("module.") ? `module block \`${block}\`` : "resource";
  if (key === undefined) return { destroyed: `${suffix} is not an instance key Terraform writes` };
  if (expansion === "for_each") {
    if (typeof key !== "string") return { destroyed: `its ${kind} uses for_each, so Terraform destroys ${what} (not a for_each key)` };
    const keys = config.forEachKeys?.get(block);
    if (keys === undefined) {
      return { notChecked: `its ${kind}'s for_each${describe(block, config)} is known at plan time only: whether it holds the key ${JSON.stringify(key)} is not checked` };
    }
    if (keys.includes(key)) return undefined;
    const held = keys.length ? `its keys: ${keys.map((k) => JSON.stringify(k)).join(", ")}` : "it is empty";
    return { destroyed: `its ${kind}'s for_each map has no key ${JSON.stringify(key)} (${held}), so Terraform destroys ${what}` };
  }
  if (expansion === "count") {
    if (typeof key === "string") return { destroyed: `its ${kind} uses count, so Terraform destroys ${what} (a for_each key)` };
    // Terraform moves a no-key resource instance to [0] (keyVerdict), never a module instance nor one a moved block brings.
    if (key === null && !implied) {
      const why = block.startsWith("module.") ? "a moved block would" : "not after a moved block";
      return { destroyed: `its ${kind} uses count, so Terraform destroys ${what} (no key; it makes no implied move to \`${block}[0]\`: ${why})` };
    }
    const count = config.counts?.get(block);
    if (count === undefined) {
      const whether = key === null ? "whether it is at least 1 (Terraform moves this instance to [0])" : `whether [${key}] is below it`;
      return { notChecked: `its ${kind}'s count${describe(block, config)} is known at plan time only: ${whether} is not checked` };
    }
    if (key !== null ? key < count : count > 0) return undefined;
    return { destroyed: `its ${kind} has count = ${count}, so Terraform destroys ${what}` };
  }
  if (key === null) return undefined;
  // Measured: `x[0]` reached by a moved block is destroyed ("does not use count"), not moved on to `x`.
  const noMove = key === 0 && !implied && !block.startsWith("module.") ? ` ([0]; it makes no implied move to \`${block}\` after a moved block)` : "";
  return { destroyed: `its ${kind} uses neither count nor for_each, so Terraform destroys ${what}${noMove}` };
}

/**
 * What the configuration says of a root instance address's key. `held`: the state's current instance
 * addresses (Terraform's implied move between `x` and `x[0]` needs the other free; root resources only).
 */
export function keyVerdict(address: string, config: StackConfig, held: ReadonlySet<string> = new Set()): KeyVerdict {
  const root = rootResourceOf(address);
  if (root === null || !config.resources.has(root)) return undefined;
  const rest = address.slice(root.length);
  const expansion = config.expansions?.get(root) ?? (config.counts?.has(root) ? "count" : undefined);
  // Terraform's implied moves (resources only): no key ↔ [0] when count is added or removed, if the other address is free.
  if (expansion === "count" && rest === "" && held.has(`${root}[0]`)) return { destroyed: TAKEN("[0]") };
  if (expansion === undefined && rest === "[0]") return held.has(root) ? { destroyed: TAKEN("no-key") } : undefined;
  return verdictFor(root, rest, config, "this instance", true);
}

/**
 * What the configuration says of the key of a root instance a moved block brings (its target). Terraform
 * derives its implied moves (no key ↔ [0]) from the prior state's addresses only (measured on 1.11.4:
 * `x[0]` → `y` under `count`, and `x` → `y[0]` without it, are destroyed), so none applies here.
 */
export function movedKeyVerdict(target: string, config: StackConfig): KeyVerdict {
  const root = rootResourceOf(target);
  if (root === null || !config.resources.has(root)) return undefined;
  return verdictFor(root, target.slice(root.length), config, "this instance", false);
}

/** `module.x` and its key (`[1]`, `["a"]`, or "") of an address inside a module; null in the root. */
export function topModuleOf(address: string): { block: string; key: string } | null {
  const m = /^(module\.[^.[]+)((?:\[(?:\d+|"(?:[^"\\]|\\.)*")\])?)/.exec(address);
  return m ? { block: m[1], key: m[2] } : null;
}

/**
 * The module instances under the first of an address (`module.b[1].module.c` of
 * `module.a["x"].module.b[1].module.c.aws_x.y`), or "" when the address is in one module only or in the root.
 */
export function nestedModulesOf(address: string): string {
  const top = topModuleOf(address);
  if (top === null) return "";
  const rest = address.slice(top.block.length + top.key.length);
  const nested = /^(?:\.module\.[^.[]+(?:\[(?:\d+|"(?:[^"\\]|\\.)*")\])?)+/.exec(rest);
  return nested ? nested[0].slice(1) : "";
}

/**
 * What the stack's module block says of the key of the module instance an address is in (`module.x[1]`,
 * `module.x["a"]`, `module.x`). Terraform makes no implied move for module instances: a key the block does
 * not produce destroys everything under it (measured: `module.plain[0]` and, with count, `module.counted`
 * "is not in configuration"). Undefined when the address is not under a module block of the stack.
 * A module nested in it (`module.x.module.b[1]`) is declared by the HCL module's source, which this check does
 * not read: its key, or its lack of one, is named as not checked (measured on 1.11.4: `module.x.module.b[5]`
 * under `count = 2`, `module.x.module.b` under `count` or `for_each`, and `module.x.module.b[0]` under
 * neither are destroyed, also when a moved block brings them; "in an HCL module" would pass them silently).
 */
export function moduleKeyVerdict(address: string, config: StackConfig): KeyVerdict {
  const top = topModuleOf(address);
  if (top === null || !config.modules.has(top.block.slice("module.".length))) return undefined;
  const verdict = verdictFor(top.block, top.key, config, `everything under \`${top.block}${top.key}\``, false);
  const nested = nestedModulesOf(address);
  if (nested === "" || (verdict && "destroyed" in verdict)) return verdict;
  const inside =
    `\`${nested}\` is a nested module instance: the HCL source of \`${top.block}\` decides whether it makes it ` +
    "(its module block's count or for_each, or neither), and migration-check does not read that source";
  return { notChecked: verdict ? `${verdict.notChecked}; ${inside}` : inside };
}

const TAKEN = (other: string) => `Terraform would move it to the ${other} address, which the state holds already, so it destroys this instance`;

/** The instances `block` (`module.x` or `aws_x.y`) makes, in words: `its for_each keys: "a", "c"`, `count = 2: [0] to [1]`. */
function instancesMade(block: string, config: StackConfig): string {
  const expansion = config.expansions?.get(block) ?? (config.counts?.has(block) ? "count" : undefined);
  if (expansion === "for_each") {
    const keys = config.forEachKeys?.get(block);
    if (keys === undefined) return `for_each${describe(block, config)}: string keys only, known at plan time`;
    return keys.length ? `its for_each keys: ${keys.map((k) => JSON.stringify(k)).join(", ")}` : "its for_each map is empty: none";
  }
  if (expansion === "count") {
    const count = config.counts?.get(block);
    if (count === undefined) return `count${describe(block, config)}: numbered keys only, known at plan time`;
    return `count = ${count}: ${count === 0 ? "none" : count === 1 ? "[0]" : `[0] to [${count - 1}]`}`;
  }
  return `neither count nor for_each: \`${block}\` alone, no key`;
}

/**
 * Why a moved block's target is missing though its resource or module block is in the stack: the block
 * does not make the instance it names (`aws_x.y["b"]`, `aws_x.y[2]`, `module.x[2].aws_…`; `aws_x.y` or
 * `module.x` without key when the other end has one). Terraform moves the instances there without a
 * warning, then destroys them (movedKeyVerdict, moduleKeyVerdict). Undefined when the block makes it,
 * when a key is known at plan time only, and for a whole-resource or whole-module move (no key at either
 * end: the instances keep their keys, each judged on its own row).
 */
export function missingInstance(moved: { readonly from: string; readonly to: string }, config: StackConfig): string | undefined {
  const root = rootResourceOf(moved.to);
  const top = root === null ? topModuleOf(moved.to) : null;
  const block = root ?? top?.block;
  if (block === undefined || (moved.to === block && !moved.from.endsWith("]"))) return undefined;
  const verdict = root !== null ? movedKeyVerdict(moved.to, config) : moduleKeyVerdict(moved.to, config);
  if (!verdict || !("destroyed" in verdict)) return undefined;
  const what = root !== null ? `resource \`${block}\` makes no instance \`${moved.to}\`` : `module block \`${block}\` makes no instance \`${block}${top!.key}\``;
  return `target is not in the configuration: ${what} (${instancesMade(block, config)})`;
}
