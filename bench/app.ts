// Benchmark app: synthesizes N synthetic copies of the production stack, to
// show how synthesis time grows with the number of stacks (see bench/index.ts).
//   node dist/bench/app.js <stacks> <outdir>
// Stacks are named env01..envNN, each production under another environment
// name. Nothing here is deployed.
import { EnvironmentConfig } from "../config/environment";
import { production } from "../config/environments";
import { buildApp } from "../stacks/app";

/**
 * N copies of production, env01..envNN, each what the configuration calls a new environment
 * (docs/configuration.md, "Adding an environment"): nothing of it deployed, so no deployed list
 * (production's, copied, is refused).
 */
export function copiesOfProduction(count: number): Record<string, EnvironmentConfig> {
  const environments: Record<string, EnvironmentConfig> = {};
  for (let n = 1; n <= count; n++) {
    const name = `env${String(n).padStart(2, "0")}`;
    environments[name] = {
      ...production,
      environment: name,
      // Stacks of one app are isolated: each its own state, bucket, zone, VPC and parameters.
      backend: { type: "local", path: `../../../../terraform/${name}.tfstate` },
      existingVpcId: `vpc-${n.toString(16).padStart(17, "0")}`,
      storageBucketName: `zivohealth-${name}-data`,
      zoneName: `${name}.zivohealth.ai`,
      dbPasswordSsmName: `/zivohealth/${name}/db/password`,
      deployed: {},
      newEnvironment: true,
    };
  }
  return environments;
}

if (require.main === module) {
  const [countArg, outdir] = process.argv.slice(2);
  const count = Number(countArg);
  if (!Number.isInteger(count) || count < 1 || count > 999 || !outdir) {
    process.stderr.write("usage: node dist/bench/app.js <stacks 1..999> <outdir>\n");
    process.exit(2);
  }
  buildApp(copiesOfProduction(count), { outdir }).synth();
}
