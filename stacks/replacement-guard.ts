// Refuses, at synth, a configuration that would make Terraform destroy and
// recreate a stateful resource that is deployed, unless the operator allows
// that replacement for that resource.
import { DefaultTokenResolver, StringConcat, TerraformResource, TerraformStack, Tokenization } from "cdktf";
import { AllowedReplacement, DeployedIdentity, replacementAddress } from "../config/environment";
import { ValidationError } from "../modules/validation";

/** Per type: the arguments whose change forces a replacement, and what is lost. */
export const FORCE_NEW: Readonly<Record<string, { readonly attributes: readonly string[]; readonly loses: string }>> = {
  aws_sqs_queue: { attributes: ["name", "fifo_queue"], loses: "the queue and the messages in it" },
  aws_ecr_repository: { attributes: ["name", "encryption_configuration"], loses: "the repository and its images" },
  aws_cloudwatch_log_group: { attributes: ["name"], loses: "the log group and its logs" },
  aws_ecs_cluster: { attributes: ["name"], loses: "the cluster and the service running in it" },
  aws_ecs_service: { attributes: ["name", "capacity_provider_strategy"], loses: "the service and its running tasks" },
  aws_instance: {
    attributes: ["ami", "key_name"],
    loses: "the API host: a new instance boots from the image, with a new public IP unless it has an Elastic IP, and what lived only on its disk is gone",
  },
};

const show = (v: unknown) => (v === undefined ? "unset" : JSON.stringify(v));

/**
 * Compares the stack's stateful resources with what is deployed. Allowed
 * addresses lose their `prevent_destroy`, which would otherwise stop the plan.
 */
export function guardReplacements(
  stack: TerraformStack,
  deployed: DeployedIdentity | undefined,
  allowed: readonly AllowedReplacement[] = [],
): void {
  const allowReplacement = allowed.map(replacementAddress);
  const resources = new Map<string, TerraformResource>();
  for (const c of stack.node.findAll()) {
    if (c instanceof TerraformResource) resources.set(`${c.terraformResourceType}.${c.friendlyUniqueId}`, c);
  }
  const problems = allowReplacement
    .filter((a) => !resources.has(a))
    .map((a) => `allowReplacement names '${a}', which this stack does not synthesize`);

  const resolver = new DefaultTokenResolver(new StringConcat());
  for (const [address, identity] of Object.entries(deployed ?? {})) {
    const resource = resources.get(address);
    if (!resource) {
      // Whatever it is, a deployed object the configuration no longer has is destroyed by the next apply.
      problems.push(
        `deployed records '${address}', which this stack does not synthesize: Terraform would destroy the deployed object; ` +
          `correct the address, or remove the entry if destroying it is intended`,
      );
      continue;
    }
    const rule = FORCE_NEW[resource.terraformResourceType];
    if (!rule) continue; // config/validate.ts refuses types the guard does not know
    // This resource's arguments as synthesized (tokens rendered as Terraform expressions).
    const block = Tokenization.resolve(resource.toTerraform(), { scope: stack, resolver, preparing: false });
    const attrs = block.resource[resource.terraformResourceType][resource.friendlyUniqueId];
    const replacing: string[] = [];
    for (const attribute of rule.attributes) {
      if (!(attribute in identity)) continue;
      const before = identity[attribute];
      const after = attrs[attribute];
      if (JSON.stringify(before) === JSON.stringify(after)) continue;
      // AWS provider 6: a strategy change updates in place only with a forced new deployment.
      if (attribute === "capacity_provider_strategy" && attrs.force_new_deployment === true) continue;
      const fix =
        attribute === "capacity_provider_strategy" ? "set force_new_deployment (onDemandWeight does), or " : "";
      replacing.push(
        `${address}: ${attribute} changes from ${show(before)} to ${show(after)}, which makes Terraform destroy and ` +
          `recreate it (losing ${rule.loses}); ${fix}add '${address}' to allowReplacement if that is intended`,
      );
    }
    if (!allowReplacement.includes(address)) problems.push(...replacing);
    else if (replacing.length === 0) {
      // A stale entry (the replacement was applied, or never needed) would leave the resource without prevent_destroy.
      problems.push(
        `allowReplacement names '${address}', but none of its replacement-forcing arguments (${rule.attributes.join(", ")}) ` +
          `differs from deployed: there is nothing to allow; remove the entry (it lifts the resource's prevent_destroy)`,
      );
    }
  }
  if (problems.length > 0) throw new ValidationError("change to deployed stateful resources", problems);

  for (const address of allowReplacement) resources.get(address)?.addOverride("lifecycle.prevent_destroy", false);
}
