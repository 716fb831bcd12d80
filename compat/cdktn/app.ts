// The compat app: built twice from these same sources, once against cdktf and
// once against CDK Terrain (compat/cdktn/run.ts), and run as
// `node app.js <outdir> <report.json>`. It synthesizes main.ts's stacks and
// every other configuration config/environments.ts exports, through the
// project's own buildApp, each App in a folder of its own.
import * as fs from "fs";
import * as path from "path";
import { TerraformProvider, TerraformStack } from "cdktf";
import { EnvironmentConfig } from "../../config/environment";
import * as environmentsModule from "../../config/environments";
import { buildApp } from "../../stacks/app";

const isEnvironmentConfig = (v: unknown): v is EnvironmentConfig =>
  typeof v === "object" && v !== null && "environment" in v && "backend" in v && "mlWorker" in v;

/** One App to synthesize: its output folder under the run's, and its stacks by name. */
export interface CompatApp {
  readonly dir: string;
  readonly stacks: Record<string, EnvironmentConfig>;
}

/**
 * What to compare: main.ts's App (the stacks of `environments`, together), then
 * each other exported configuration in an App of its own (they are
 * alternatives, not deployed side by side), then production with an S3
 * backend (the README's way off one laptop) so that code path is compared too.
 */
export function compatApps(module: Record<string, unknown> = environmentsModule): CompatApp[] {
  const deployed = (module.environments ?? {}) as Record<string, EnvironmentConfig>;
  const apps: CompatApp[] = [{ dir: "app", stacks: { ...deployed } }];
  const seen = new Set<unknown>(Object.values(deployed));
  for (const [name, value] of Object.entries(module)) {
    if (!isEnvironmentConfig(value) || seen.has(value)) continue;
    seen.add(value);
    apps.push({ dir: name, stacks: { [name]: value } });
  }
  const production = module.production;
  if (isEnvironmentConfig(production)) {
    const backend = { type: "s3", bucket: "zivohealth-terraform-state", key: "production/terraform.tfstate", region: production.awsRegion } as const;
    apps.push({ dir: "productionS3Backend", stacks: { productionS3Backend: { ...production, backend } } });
  }
  return apps;
}

/** What the run reports besides the synthesized files. */
export interface AppReport {
  /** `<app dir>/<stack>`, in synthesis order. */
  readonly stacks: string[];
  /** Per stack, each configured provider's binding schema version (what the binding would pin). */
  readonly bindingVersions: Record<string, Record<string, string | undefined>>;
  /** Every module file this process loaded: proves which framework it ran on. */
  readonly loadedModules: string[];
}

function main(): void {
  const [outdir, reportFile] = process.argv.slice(2);
  if (!outdir || !reportFile) throw new Error("usage: node app.js <outdir> <report.json>");
  fs.mkdirSync(outdir, { recursive: true }); // an App makes only its own folder
  const stacks: TerraformStack[] = [];
  const names: string[] = [];
  for (const { dir, stacks: configs } of compatApps()) {
    const app = buildApp(configs, { outdir: path.join(outdir, dir) });
    app.synth();
    for (const s of app.node.children.filter((c): c is TerraformStack => TerraformStack.isStack(c))) {
      stacks.push(s);
      names.push(`${dir}/${s.node.id}`);
    }
  }
  const report: AppReport = {
    stacks: names,
    bindingVersions: Object.fromEntries(
      stacks.map((s, i) => [
        names[i],
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
