import { TerraformElement, TerraformOutput, TerraformStack } from "cdktf";

/**
 * Pins an element's Terraform address to `<type>.<prefix>_<name>`, where
 * `name` is the resource's name in the HCL module. The address no longer
 * depends on construct ids or nesting, so renaming a construct id cannot
 * replace a resource; the address table test pins every address.
 */
export function pinAddress<T extends TerraformElement>(element: T, prefix: string, name: string): T {
  element.overrideLogicalId(prefix ? `${prefix}_${name}` : name);
  return element;
}

/**
 * The address an element synthesizes under (`aws_sqs_queue.ml_worker_dlq`,
 * `data.aws_subnets.existing_public`, `local.x`, `var.x`, `module.x`,
 * `output.x`), or undefined for blocks that have none of their own (providers,
 * backends: cdktf merges those into one `terraform`/`provider` block on purpose).
 */
export function addressOf(element: TerraformElement): string | undefined {
  if (TerraformOutput.isTerraformOutput(element)) return `output.${element.friendlyUniqueId}`;
  // The prefix cdktf gives the element's own references (`fqn`); not in its typings.
  const type = (element as unknown as { _elementType?: unknown })._elementType;
  return typeof type === "string" ? `${type}.${element.friendlyUniqueId}` : undefined;
}

/**
 * Each address that more than one of the stack's elements synthesize under, naming
 * their construct paths. cdktf would deep-merge their blocks into one without a word
 * (two subnet lookups pinned to one name: one lookup with both filters).
 */
export function duplicateAddresses(stack: TerraformStack): string[] {
  const paths = new Map<string, string[]>();
  for (const c of stack.node.findAll()) {
    if (!TerraformElement.isTerraformElement(c) || c.cdktfStack !== stack) continue;
    const address = addressOf(c);
    if (address !== undefined) paths.set(address, [...(paths.get(address) ?? []), c.node.path]);
  }
  return [...paths]
    .filter(([, p]) => p.length > 1)
    .map(
      ([address, p]) =>
        `${address} is the address of ${p.length} constructs: ${p.join(", ")}; cdktf would merge them into one block. ` +
        "Give each its own name (pinAddress, overrideLogicalId)",
    );
}
