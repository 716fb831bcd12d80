// `cdktf destroy <stack>` is refused, before cdktf or Terraform runs, for a stack whose configuration protects
// what it holds: resources with prevent_destroy (Terraform would refuse the plan too, but only after cdktf's
// prompt and a refresh against AWS, and an allowReplacement entry lifts it for its address), or objects it
// records in `deployed` (in use, whatever prevent_destroy says). Other stacks go to cdktf as before.
import { EnvironmentConfig } from "../../config/environment";
import type * as App from "../../stacks/app";

/** The cdktf command this check is for. */
export const DESTROY = "destroy";

/** The stack's synthesized Terraform (`cdk.tf.json` text); throws when the sources do not synthesize it. */
export type Synthesizer = (stack: string, config: EnvironmentConfig) => string;

/** The synthesis cdktf destroy would make first, in memory: nothing is written to cdktf.out. */
export const synthesizeInMemory: Synthesizer = (stack, config) => {
  // Loaded here: cdktf and the provider bindings take ~0.3 s, which the other commands do not need.
  const { synthesize } = require("../../stacks/app") as typeof App;
  return synthesize({ [stack]: config }, { outdir: null })[0].text;
};

/** The addresses of the synthesized resources with `lifecycle.prevent_destroy`, sorted. */
export function preventDestroyAddresses(cdkTfJson: string): string[] {
  const doc = JSON.parse(cdkTfJson) as { resource?: Record<string, Record<string, { lifecycle?: { prevent_destroy?: unknown } }>> };
  const found: string[] = [];
  for (const [type, byName] of Object.entries(doc.resource ?? {})) {
    for (const [name, resource] of Object.entries(byName)) if (resource?.lifecycle?.prevent_destroy === true) found.push(`${type}.${name}`);
  }
  return found.sort();
}

/** Why `cdktf destroy` may not run for `stack`; undefined when nothing in its configuration protects it. */
export function destroyRefusal(stack: string, config: EnvironmentConfig, synth: Synthesizer = synthesizeInMemory): string | undefined {
  let text: string;
  try {
    text = synth(stack, config);
  } catch (e) {
    const { isUserError } = require("../../stacks/app") as typeof App;
    if (!isUserError(e)) throw e;
    return `refusing to destroy stack '${stack}': its configuration does not synthesize, so what it protects cannot be told: ${e.message}`;
  }
  const guarded = preventDestroyAddresses(text);
  const deployed = Object.keys(config.deployed ?? {}).sort();
  if (guarded.length === 0 && deployed.length === 0) return undefined;
  const resources = (n: number) => `${n} resource${n === 1 ? "" : "s"}`;
  const reasons = [
    ...(guarded.length > 0 ? [`prevent_destroy on ${resources(guarded.length)} (${guarded.join(", ")})`] : []),
    ...(deployed.length > 0 ? [`${resources(deployed.length)} recorded as deployed, in use (deployed: ${deployed.join(", ")})`] : []),
  ];
  return (
    `refusing to destroy stack '${stack}': its configuration protects it: ${reasons.join("; and ")}. ` +
    "This wrapper destroys no protected stack. To remove resources from it, take them out of the configuration, " +
    "list each in allowDestroy with its reason, then review and apply the plan: npm run plan-check, then " +
    'npm run deploy -- --plan <plan-check folder> (docs/deploy.md, "cdktf destroy").'
  );
}
