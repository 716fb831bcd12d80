// The compat app: built twice from these same sources, once against cdktf and
// once against CDK Terrain (compat/cdktn/run.ts), and run as
// `node app.js <outdir> <report.json>`. It synthesizes every stack of main.ts
// and every other configuration config/environments.ts exports, through the
// project's own buildApp.
import * as fs from "fs";
import { TerraformProvider, TerraformStack } from "cdktf";
import { EnvironmentConfig } from "../../config/environment";
import * as environmentsModule from "../../config/environments";
import { buildApp } from "../../stacks/app";

const isEnvironmentConfig = (v: unknown): v is EnvironmentConfig =>
  typeof v === "object" && v !== null && "environment" in v && "backend" in v && "mlWorker" in v;

/**
 * The stacks to compare, by stack name: `environments` (what main.ts deploys),
 * then each other exported configuration by its export name, then production
 * with an S3 backend (the README's way off one laptop) so that code path is
 * compared too.
 */
export function compatStacks(module: Record<string, unknown> = environmentsModule): Record<string, EnvironmentConfig> {
  const deployed = (module.environments ?? {}) as Record<string, EnvironmentConfig>;
  const stacks: Record<string, EnvironmentConfig> = { ...deployed };
  const seen = new Set<unknown>(Object.values(deployed));
  for (const [name, value] of Object.entries(module)) {
    if (!isEnvironmentConfig(value) || seen.has(value) || name in stacks) continue;
    seen.add(value);
    stacks[name] = value;
  }
  const production = module.production;
  if (isEnvironmentConfig(production)) {
    stacks.productionS3Backend = {
      ...production,
      backend: { type: "s3", bucket: "zivohealth-terraform-state", key: "production/terraform.tfstate", region: production.awsRegion },
    };
  }
  return stacks;
}

/** What the run reports besides the synthesized files. */
export interface AppReport {
  /** Stack names, in synthesis order. */
  readonly stacks: string[];
  /** Per stack, each configured provider's binding schema version (what the binding would pin). */
  readonly bindingVersions: Record<string, Record<string, string | undefined>>;
  /** Every module file this process loaded: proves which framework it ran on. */
  readonly loadedModules: string[];
}

function main(): void {
  const [outdir, reportFile] = process.argv.slice(2);
  if (!outdir || !reportFile) throw new Error("usage: node app.js <outdir> <report.json>");
  const app = buildApp(compatStacks(), { outdir });
  app.synth();
  const stacks = app.node.children.filter((c): c is TerraformStack => TerraformStack.isStack(c));
  const report: AppReport = {
    stacks: stacks.map((s) => s.node.id),
    bindingVersions: Object.fromEntries(
      stacks.map((s) => [
        s.node.id,
        Object.fromEntries(
          s.node
            .findAll()
            .filter(TerraformProvider.isTerraformProvider)
            .map((p) => [p.terraformResourceType, p.terraformGeneratorMetadata?.providerVersion]),
        ),
      ]),
    ),
    loadedModules: Object.keys(require.cache).sort(),
  };
  fs.writeFileSync(reportFile, JSON.stringify(report, null, 2));
}

if (require.main === module) main();
