// Which instance keys a root resource keeps, by its `count` or `for_each`
// (Terraform's own rules, checked with terraform_data on 1.11.4): an instance
// whose key does not fit is destroyed ("because resource does not use count").
import type { StackConfig } from "./migration";

/** How a configuration resource expands: by `count`, by `for_each`, or not at all (absent). */
export type Expansion = "count" | "for_each";

/** `aws_x.y` for `aws_x.y["a"]`; null for addresses inside a module. */
export function rootResourceOf(address: string): string | null {
  if (address.startsWith("module.")) return null;
  const bracket = address.indexOf("[");
  return bracket === -1 ? address : address.slice(0, bracket);
}

/**
 * Why a root instance address does not fit its resource's `count` or `for_each`, or undefined when it is kept.
 * `held`: the state's current instance addresses (Terraform's implied move between `x` and `x[0]` needs the other free).
 */
export function droppedByExpansion(address: string, config: StackConfig, held: ReadonlySet<string> = new Set()): string | undefined {
  const root = rootResourceOf(address);
  if (root === null || !config.resources.has(root)) return undefined;
  const rest = address.slice(root.length);
  const numeric = /^\[(\d+)\]$/.exec(rest);
  const expansion = config.expansions?.get(root) ?? (config.counts?.has(root) ? "count" : undefined);
  if (expansion === "for_each") {
    if (rest !== "" && !numeric) return undefined; // a key: which keys the map holds is known at plan time only
    return "its resource uses for_each, so Terraform destroys this instance (not a for_each key)";
  }
  if (expansion === "count") {
    if (rest !== "" && !numeric) return "its resource uses count, so Terraform destroys this instance (a for_each key)";
    const count = config.counts?.get(root);
    if (rest === "" && held.has(`${root}[0]`)) return TAKEN("[0]");
    if (count === undefined) return undefined; // count known at plan time only
    if (numeric ? Number(numeric[1]) < count : count > 0) return undefined; // Terraform moves a no-key instance to [0]
    return `its resource has count = ${count}, so Terraform destroys this instance`;
  }
  // Neither: Terraform moves [0] to the no-key address (when that is free); any other key is destroyed.
  if (rest === "") return undefined;
  if (numeric && Number(numeric[1]) === 0) return held.has(root) ? TAKEN("no-key") : undefined;
  return "its resource uses neither count nor for_each, so Terraform destroys this instance";
}

const TAKEN = (other: string) => `Terraform would move it to the ${other} address, which the state holds already, so it destroys this instance`;
