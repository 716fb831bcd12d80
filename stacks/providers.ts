// The provider versions this project deploys with. A prebuilt binding writes
// the version of the schema it was generated from (CDK Terrain's aws binding:
// 6.66.0); the pin is ours, so the stack states it instead of inheriting it.
import { TerraformProvider, TerraformStack } from "cdktf";

/** `terraform.required_providers`, exactly as every stack pins them. */
export const PROVIDER_PINS: Readonly<Record<string, { readonly source: string; readonly version: string }>> = {
  aws: { source: "hashicorp/aws", version: "6.17.0" },
  local: { source: "hashicorp/local", version: "2.5.3" },
  random: { source: "hashicorp/random", version: "3.7.2" },
};

/**
 * Pins every provider the stack configures to its entry in PROVIDER_PINS,
 * whatever its binding would write. A provider without an entry is refused.
 */
export function pinProviders(stack: TerraformStack): void {
  const names = new Set(
    stack.node
      .findAll()
      .filter(TerraformProvider.isTerraformProvider)
      .map((p) => p.terraformResourceType),
  );
  for (const name of [...names].sort()) {
    const pin = PROVIDER_PINS[name];
    if (!pin) {
      throw new Error(
        `provider '${name}' has no pin: add it to PROVIDER_PINS in stacks/providers.ts (pinned: ${Object.keys(PROVIDER_PINS).join(", ")})`,
      );
    }
    stack.addOverride(`terraform.required_providers.${name}.source`, pin.source);
    stack.addOverride(`terraform.required_providers.${name}.version`, pin.version);
  }
}
