// Builds plan-check's working directories: a copy of a configuration (the
// synthesized stack, or an HCL root) with its HCL modules, that Terraform can
// plan offline against a copy of a state snapshot. What it changes, and why:
// - data sources that call AWS, and resources of providers that are not
//   installed (random, local), become values recorded in the snapshot (or
//   given in --data): a local `plan_check_pinned` read from a JSON file;
// - the aws provider makes no call (static fake credentials, skip_* settings)
//   and is the installed version, not the pin;
// - the state copy loses what is pinned and what the installed provider's
//   schema does not know (attributes a newer provider added).
// Every such change is returned as a line for the report.
import * as fs from "fs";
import * as path from "path";
import { InputError } from "../../cli";
import { replaceReference } from "../../hcl-text";
import { assetPaths } from "../../../stacks/synthesis-record";
import { Json, JsonObject, PINNED_FILE, PINNED_LOCAL, PinSource, Workspace } from "./model";
import { UnitPins, copyDir, needsPin, pin, pinHclDir, pinnedRef, pinnedReferenceProblems, strings } from "./pins";

export * from "./model";
export { pinnedReferenceProblems } from "./pins";
export { assetPaths };
export { Unplannable, adaptState, summarizeSchema } from "./state";

// ---------------------------------------------------------------- the provider

/** What makes the aws provider plan without any AWS call. */
export const OFFLINE_PROVIDER_SETTINGS = {
  skip_credentials_validation: true,
  skip_requesting_account_id: true,
  skip_metadata_api_check: true,
  skip_region_validation: true,
} as const;

/** Static fake credentials, given only to the terraform processes of an offline plan. */
export const OFFLINE_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: "AKIAPLANCHECKOFFLINE0",
  AWS_SECRET_ACCESS_KEY: "plan-check-offline-not-a-secret",
  AWS_EC2_METADATA_DISABLED: "true",
} as const;

const providerAdaptation = (awsVersion: string, pinned: string | undefined) => [
  `aws provider: ${Object.keys(OFFLINE_PROVIDER_SETTINGS).join(", ")} set; static fake credentials in the environment: no AWS call`,
  ...(pinned && pinned !== awsVersion ? [`aws provider: the installed ${awsVersion} instead of the pinned ${pinned}`] : []),
];

// ---------------------------------------------------------------- the synthesized stack

export interface StackWorkspaceOptions {
  /** The synthesized cdk.tf.json. */
  readonly config: JsonObject;
  /** Where the stack's HCL modules are (by module name, `<dir>/<name>`). */
  readonly modulesDir: string;
  /**
   * The working directory to create.
   * @default - nothing written: only what would be pinned, what is missing and what does not fit (checked before the output folder opens)
   */
  readonly dir?: string;
  readonly awsVersion: string;
  readonly source: PinSource;
  /**
   * The synthesized stack's folder (`cdktf.out/stacks/<stack>`): its `assets/`
   * (files the configuration reads, such as the compute templates) are copied
   * beside cdk.tf.json.
   * @default - no assets: the configuration must read none
   */
  readonly stackDir?: string;
}

/**
 * Copies the synthesized stack's `assets/` into `dir`, refusing a
 * configuration that reads an asset the folder does not hold.
 */
export function copyStackAssets(config: Json, stackDir: string | undefined, dir: string): string[] {
  const wanted = assetPaths(config);
  const missing = wanted.filter((a) => !stackDir || !fs.existsSync(path.join(stackDir, a)));
  if (missing.length) {
    throw new InputError(
      `the synthesized stack reads ${missing.join(", ")}, which ${stackDir ? `${stackDir} does not hold` : "no stack folder was given for"}: synthesize again (npm run synth)`,
    );
  }
  if (wanted.length) copyDir(path.join(stackDir!, "assets"), path.join(dir, "assets"));
  return wanted;
}

/** The stack's working directory: cdk.tf.json rewritten for an offline plan, its modules copied and pinned. */
export function prepareStackWorkspace(o: StackWorkspaceOptions): Workspace {
  const ws: Workspace = { dir: o.dir ?? "", pins: [], missing: [], problems: [], adaptations: [], initInputs: [] };
  const config = structuredClone(o.config);
  if (o.dir) fs.mkdirSync(o.dir, { recursive: true, mode: 0o700 });

  const terraform = (config.terraform ?? {}) as JsonObject;
  if (terraform.backend) {
    ws.adaptations.push(`backend ${Object.keys(terraform.backend as JsonObject).join(", ")} replaced by a local copy of the snapshot`);
    delete terraform.backend;
  }
  const required = (terraform.required_providers ?? {}) as JsonObject;
  const pinnedAws = ((required.aws ?? {}) as JsonObject).version as string | undefined;
  for (const name of Object.keys(required)) {
    if (name === "aws") required.aws = { ...(required.aws as JsonObject), version: o.awsVersion };
    else if (!o.source.installed.has(name)) {
      ws.adaptations.push(`root: provider ${name} ${(required[name] as JsonObject).version ?? ""} removed (not installed; its resources and data sources are pinned)`.replace("  ", " "));
      delete required[name];
    }
  }
  ws.adaptations.push(...providerAdaptation(o.awsVersion, pinnedAws));
  const providers = (config.provider ?? {}) as Record<string, JsonObject[]>;
  for (const name of Object.keys(providers)) {
    if (!o.source.installed.has(name)) delete providers[name];
  }
  providers.aws = (providers.aws ?? [{}]).map((p) => ({ ...p, ...OFFLINE_PROVIDER_SETTINGS }));

  const unit: UnitPins = { values: {} };
  for (const kind of ["data", "resource"] as const) {
    const blocks = (config[kind] ?? {}) as Record<string, JsonObject>;
    for (const [type, byName] of Object.entries(blocks)) {
      if (!needsPin(kind, type, o.source.installed)) continue;
      for (const name of Object.keys(byName)) {
        pin(o.source, ws, unit, "", `${kind === "data" ? "data." : ""}${type}.${name}`, kind === "data" ? "data source" : "resource");
      }
      delete blocks[type];
    }
  }
  const pinnedLocals = Object.keys(unit.values);
  const rewrite = (v: Json, key?: string): Json => {
    if (typeof v === "string") return pinnedLocals.reduce((s, local) => replaceReference(s, local, pinnedRef(local)), v);
    if (Array.isArray(v)) {
      const items = key === "depends_on" ? v.filter((d) => !(typeof d === "string" && pinnedLocals.includes(d))) : v;
      return items.map((x) => rewrite(x));
    }
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === "//" ? x : rewrite(x, k)]));
    return v;
  };
  const out = rewrite(config) as JsonObject;
  ws.problems.push(...pinnedReferenceProblems(strings(out).join("\n"), unit.values, ws.pins, "the stack"));
  if (pinnedLocals.length > 0) {
    out.locals = { ...((out.locals ?? {}) as JsonObject), [PINNED_LOCAL]: `\${jsondecode(file("\${path.module}/${PINNED_FILE}"))}` };
    if (o.dir) fs.writeFileSync(path.join(o.dir, PINNED_FILE), JSON.stringify(unit.values, null, 1));
  }

  const modules = (out.module ?? {}) as Record<string, JsonObject>;
  for (const [name, block] of Object.entries(modules)) {
    const from = path.join(o.modulesDir, path.basename(String(block.source)));
    if (!fs.existsSync(from)) throw new InputError(`module ${name}: no HCL module at ${from} (see --modules)`);
    block.source = `./modules/${name}`;
    if (!o.dir) {
      pinHclDir(from, `module.${name}`, o.source, ws, from, false); // read in place
      continue;
    }
    const to = path.join(o.dir, "modules", name);
    copyDir(from, to);
    pinHclDir(to, `module.${name}`, o.source, ws, to);
  }
  // Checking only, the assets are not looked at: synthesis wrote them, or the freshness check found them as recorded.
  if (!o.dir) return ws;
  fs.writeFileSync(path.join(o.dir, "cdk.tf.json"), JSON.stringify(out, null, 2));
  copyStackAssets(out, o.stackDir, o.dir);
  ws.initInputs.push(`root: ${JSON.stringify({ terraform: out.terraform, module: Object.fromEntries(Object.entries(modules).map(([n, b]) => [n, b.source])) })}`);
  return ws;
}

// ---------------------------------------------------------------- an HCL root

export interface HclWorkspaceOptions {
  /** The HCL root directory. */
  readonly hclDir: string;
  /** The working directory to create. @default - nothing written: only the pins, what is missing and what does not fit */
  readonly dir?: string;
  readonly awsVersion: string;
  readonly source: PinSource;
}

/** A copy of an HCL root (and the modules under it), pinned the same way as the stack. */
export function prepareHclWorkspace(o: HclWorkspaceOptions): Workspace {
  const ws: Workspace = { dir: o.dir ?? "", pins: [], missing: [], problems: [], adaptations: [], initInputs: [] };
  if (!o.dir) {
    pinHclDir(o.hclDir, "", o.source, ws, o.hclDir, false); // read in place
    return ws;
  }
  fs.mkdirSync(path.dirname(o.dir), { recursive: true, mode: 0o700 });
  copyDir(o.hclDir, o.dir);
  if (fs.existsSync(path.join(o.hclDir, ".terraform.lock.hcl"))) {
    ws.adaptations.push("HCL root: .terraform.lock.hcl not copied (it locks the pinned provider, not the installed one)");
  }
  const pinnedAws = /version\s*=\s*"([^"]+)"/.exec(
    /provider\s+"registry\.terraform\.io\/hashicorp\/aws"\s*\{[^}]*\}/.exec(readIf(path.join(o.hclDir, ".terraform.lock.hcl")))?.[0] ?? "",
  )?.[1];
  pinHclDir(o.dir, "", o.source, ws, o.dir);
  ws.adaptations.push(...providerAdaptation(o.awsVersion, pinnedAws));
  const settings = Object.entries(OFFLINE_PROVIDER_SETTINGS).map(([k, v]) => `  ${k} = ${v}`).join("\n");
  ws.initInputs.push(`override: ${o.awsVersion}`);
  fs.writeFileSync(
    path.join(o.dir, "plan_check_override.tf"),
    `# plan-check: offline provider, installed version, local state copy\n` +
      `terraform {\n  backend "local" {\n    path = "terraform.tfstate"\n  }\n` +
      `  required_providers {\n    aws = {\n      source  = "hashicorp/aws"\n      version = "${o.awsVersion}"\n    }\n  }\n}\n` +
      `provider "aws" {\n${settings}\n}\n`,
  );
  return ws;
}

function readIf(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return "";
  }
}
