import { Testing, TerraformProvider, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { PROVIDER_PINS, pinProviders } from "../stacks/providers";
import { synthStack } from "./helpers";

/** A binding generated from another schema version, as CDK Terrain's are. */
class NewerBinding extends TerraformProvider {
  constructor(scope: Construct, id: string, name: string, version: string, source: string) {
    super(scope, id, {
      terraformResourceType: name,
      terraformGeneratorMetadata: { providerName: name, providerVersion: version },
      terraformProviderSource: source,
    });
  }
}

const requiredProviders = (stack: TerraformStack) => JSON.parse(Testing.synth(stack)).terraform.required_providers;

describe("provider pins", () => {
  it("are aws 6.17.0, local 2.5.3 and random 3.7.2 from hashicorp", () => {
    expect(PROVIDER_PINS).toEqual({
      aws: { source: "hashicorp/aws", version: "6.17.0" },
      local: { source: "hashicorp/local", version: "2.5.3" },
      random: { source: "hashicorp/random", version: "3.7.2" },
    });
  });

  it("win over the version and source a binding writes", () => {
    const stack = new TerraformStack(Testing.app(), "t");
    new NewerBinding(stack, "aws", "aws", "6.66.0", "aws");
    new NewerBinding(stack, "random", "random", "3.9.1", "hashicorp/random");
    pinProviders(stack);
    expect(requiredProviders(stack)).toEqual({
      aws: { source: "hashicorp/aws", version: "6.17.0" },
      random: { source: "hashicorp/random", version: "3.7.2" },
    });
  });

  it("pin only the providers the stack configures", () => {
    const stack = new TerraformStack(Testing.app(), "t");
    new AwsProvider(stack, "aws", { region: "us-east-1" });
    pinProviders(stack);
    expect(requiredProviders(stack)).toEqual({ aws: { source: "hashicorp/aws", version: "6.17.0" } });
  });

  it("refuse a provider without a pin, naming it and the pinned ones", () => {
    const stack = new TerraformStack(Testing.app(), "t");
    new NewerBinding(stack, "null", "null", "3.2.4", "hashicorp/null");
    expect(() => pinProviders(stack)).toThrow(
      "provider 'null' has no pin: add it to PROVIDER_PINS in stacks/providers.ts (pinned: aws, local, random)",
    );
  });

  it("are exactly the production stack's required_providers", () => {
    expect(synthStack().json.terraform.required_providers).toEqual(PROVIDER_PINS);
  });
});
