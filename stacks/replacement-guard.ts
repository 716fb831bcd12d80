// Refuses, at synth, a configuration that would make Terraform destroy and
// recreate a stateful resource that is deployed, unless the operator allows
// that replacement for that resource.
import { DefaultTokenResolver, StringConcat, TerraformResource, TerraformStack, Tokenization } from "cdktf";
import { AllowedReplacement, DeployedIdentity, replacementAddress } from "../config/environment";
import { ValidationError } from "../modules/validation";
import { FORCE_NEW } from "./force-new";

export { FORCE_NEW };

const show = (v: unknown) => (v === undefined ? "unset" : JSON.stringify(v));

/** What the guard knows of the environment beyond `deployed`. */
export interface GuardContext {
  /** The stack's environment name, which the resources' names carry. @default - names not compared as another environment's */
  readonly environment?: string;
  /** The provider's region (awsRegion), where a resource without its own `region` is. @default - region not compared */
  readonly region?: string;
  /** The region the deployed resources are in (deployedRegion). @default - region not compared */
  readonly deployedRegion?: string;
}

/** One replacement-forcing difference of one deployed resource. */
interface Change {
  readonly address: string;
  readonly attribute: string;
  readonly before: unknown;
  readonly after: unknown;
  readonly message: string;
}

/**
 * The other environment whose names `deployed` records, when every name change is exactly this
 * environment's name put in place of another's (`production-ml-worker` -> `staging-ml-worker`).
 */
function copiedFrom(changes: readonly Change[], environment: string | undefined): string | undefined {
  const names = changes.filter((c) => c.attribute === "name");
  if (!environment || names.length === 0) return undefined;
  let other: string | undefined;
  for (const { before, after } of names) {
    if (typeof before !== "string" || typeof after !== "string") return undefined;
    const at = after.indexOf(environment);
    if (at < 0) return undefined;
    const suffix = after.slice(at + environment.length);
    if (!before.startsWith(after.slice(0, at)) || !before.endsWith(suffix) || before.length < at + suffix.length) return undefined;
    const candidate = before.slice(at, before.length - suffix.length);
    if (candidate === "" || candidate === environment || (other !== undefined && candidate !== other)) return undefined;
    if (after.split(environment).join(candidate) !== before) return undefined;
    other = candidate;
  }
  return other;
}

/**
 * Compares the stack's stateful resources with what is deployed. Allowed
 * addresses lose their `prevent_destroy`, which would otherwise stop the plan.
 */
export function guardReplacements(
  stack: TerraformStack,
  deployed: DeployedIdentity | undefined,
  allowed: readonly AllowedReplacement[] = [],
  context: GuardContext = {},
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
  const refused: Change[] = [];
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
    // This resource's arguments the guard compares, as synthesized (tokens rendered as Terraform expressions): only
    // those are resolved (a value resolves alike alone or inside its block), not the whole block of every argument.
    const body = resource.toTerraform().resource[resource.terraformResourceType][resource.friendlyUniqueId];
    const wanted = [...rule.attributes, "region", "force_new_deployment"].filter((a) => a in body);
    const attrs = Tokenization.resolve(Object.fromEntries(wanted.map((a) => [a, body[a]])), { scope: stack, resolver, preparing: false });
    const replacing: Change[] = [];
    const compared: [string, unknown, unknown][] = rule.attributes.filter((a) => a in identity).map((a) => [a, identity[a], attrs[a]]);
    // AWS provider 6: a resource is in its own `region`, else the provider's; a change of region replaces it.
    if (context.deployedRegion !== undefined && context.region !== undefined) compared.push(["region", context.deployedRegion, attrs.region ?? context.region]);
    for (const [attribute, before, after] of compared) {
      if (JSON.stringify(before) === JSON.stringify(after)) continue;
      // AWS provider 6: a strategy change updates in place only with a forced new deployment.
      if (attribute === "capacity_provider_strategy" && attrs.force_new_deployment === true) continue;
      const fix =
        attribute === "capacity_provider_strategy" ? "set force_new_deployment (onDemandWeight does), or " : "";
      replacing.push({
        address,
        attribute,
        before,
        after,
        message:
          `${address}: ${attribute} changes from ${show(before)} to ${show(after)}, which makes Terraform destroy and ` +
          `recreate it (losing ${rule.loses}); ${fix}add '${address}' to allowReplacement if that is intended`,
      });
    }
    if (!allowReplacement.includes(address)) refused.push(...replacing);
    else if (replacing.length === 0) {
      // A stale entry (the replacement was applied, or never needed) would leave the resource without prevent_destroy.
      problems.push(
        `allowReplacement names '${address}', but none of its replacement-forcing arguments (${rule.attributes.join(", ")}) ` +
          `differs from deployed: there is nothing to allow; remove the entry (it lifts the resource's prevent_destroy)`,
      );
    }
  }
  problems.push(...explain(refused, context));
  if (problems.length > 0) throw new ValidationError("change to deployed stateful resources", problems);

  for (const address of allowReplacement) resources.get(address)?.addOverride("lifecycle.prevent_destroy", false);
}

/**
 * The refused changes, each on its own line, except two whose cause is one setting and whose
 * fix is not allowReplacement: a region change (awsRegion), and names that are another
 * environment's (a deployed list copied from it, for a new environment).
 */
function explain(refused: readonly Change[], context: GuardContext): string[] {
  const lines: string[] = [];
  let rest = refused;
  // Moved by awsRegion: a resource that names its own region keeps its own message.
  const byAwsRegion = (c: Change) => c.attribute === "region" && c.after === context.region && context.region !== context.deployedRegion;
  const moved = rest.filter(byAwsRegion);
  if (moved.length > 0) {
    rest = rest.filter((c) => !byAwsRegion(c));
    lines.push(
      `awsRegion is '${context.region}', but the deployed resources are in '${context.deployedRegion}' (deployedRegion): Terraform would create ` +
        `every resource of the stack anew in ${context.region} and destroy the deployed ones, among them ${moved.map((c) => c.address).join(", ")}, ` +
        `and the VPC (existingVpcId) and database (dbInstanceIdentifier) it reads would be looked up in ${context.region}. ` +
        `Set awsRegion back to '${context.deployedRegion}'; ` +
        `to run the environment in ${context.region}, add it as a new environment (its own environment name and backend, deployed: {}, ` +
        `newEnvironment: true); to move this one and lose what these resources hold, name each in allowReplacement`,
    );
  }
  const other = copiedFrom(rest, context.environment);
  if (other !== undefined) {
    const renamed = rest.filter((c) => c.attribute === "name");
    rest = rest.filter((c) => c.attribute !== "name");
    lines.push(
      `deployed records the resources of environment '${other}', not of '${context.environment}' (${renamed
        .map((c) => `${c.address} ${show(c.before)}`)
        .join(", ")}): it was copied from '${other}'. If '${context.environment}' is a new environment, nothing of it is deployed yet: ` +
        `set deployed to {} and newEnvironment to true (docs/configuration.md, "Adding an environment"). If these are this stack's resources, ` +
        `renaming the environment would destroy and recreate each: add them to allowReplacement only if that is intended`,
    );
  }
  return [...lines, ...rest.map((c) => c.message)];
}
