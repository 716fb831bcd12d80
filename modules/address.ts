import { TerraformElement } from "cdktf";

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
