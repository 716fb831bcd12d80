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
import { InputError } from "./cli";
import { BlockHeader, dropRequiredProvider, removeBlocks, replaceReference, requiredProviderNames, topLevelBlocks } from "./hcl-text";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Data sources the provider computes from the configuration alone, with no AWS call: left to it. */
export const LOCAL_DATA_SOURCES: ReadonlySet<string> = new Set(["aws_iam_policy_document", "aws_partition", "aws_region", "aws_arn"]);

/** The local every pinned reference reads. */
export const PINNED_LOCAL = "plan_check_pinned";
const PINNED_FILE = "plan_check_pinned.json";

/** A raw Terraform state, format 4. */
export interface RawState {
  version: number;
  terraform_version?: string;
  serial?: number;
  lineage?: string;
  outputs?: JsonObject;
  resources: RawResource[];
  [key: string]: unknown;
}

export interface RawResource {
  module?: string;
  mode: "managed" | "data";
  type: string;
  name: string;
  provider: string;
  instances: RawInstance[];
}

export interface RawInstance {
  index_key?: number | string;
  schema_version?: number;
  attributes?: JsonObject;
  deposed?: string;
  [key: string]: unknown;
}

/** A block's shape in a provider schema: attribute names and nested blocks. */
export interface BlockShape {
  readonly a: readonly string[];
  readonly b: { readonly [name: string]: BlockShape };
}

/** What plan-check needs of the installed provider's schema, per resource type (`data.<type>` for data sources). */
export type SchemaSummary = { readonly [type: string]: { readonly version: number; readonly block: BlockShape } };

export interface PinSource {
  /** The snapshot's state, or null for an empty state. */
  readonly snapshot: RawState | null;
  /** Values given with --data, by address; they win over the snapshot's. */
  readonly data: Readonly<Record<string, Json>>;
  /** Another address under which a value may be recorded (the HCL address of a construct's data source). */
  readonly alias: (address: string) => string | undefined;
  /** Providers installed in the mirror, by local name (`aws`). */
  readonly installed: ReadonlySet<string>;
}

export interface Pin {
  readonly address: string;
  readonly kind: "data source" | "resource";
  /** Where the value came from. */
  readonly from: "snapshot" | "--data";
  /** The address the value is recorded under (the pin's, or its alias: the HCL address). */
  readonly recordedAs: string;
}

export interface Workspace {
  readonly dir: string;
  readonly pins: Pin[];
  /** Addresses pinned but recorded nowhere: plan-check refuses to run (exit 2). */
  readonly missing: string[];
  /** Pinned values the configuration cannot read as it does (an attribute missing, a string for an object): exit 2. */
  readonly problems: string[];
  /** What was changed in the configuration, one line each. */
  readonly adaptations: string[];
  /**
   * What `terraform init` depends on (provider requirements, module calls and
   * their sources): unchanged since the last run, init can be skipped.
   */
  readonly initInputs: string[];
}

/** The provider's local name of a resource type (`aws_instance` → `aws`). */
export const providerOf = (type: string) => type.split("_")[0];

// ---------------------------------------------------------------- values

function stateResource(state: RawState | null, address: string): RawResource | undefined {
  if (!state) return undefined;
  const m = /^((?:module\.[^.[\]]+(?:\[[^\]]+\])?\.)*)(data\.)?([^.]+)\.([^.[]+)$/.exec(address);
  if (!m) return undefined;
  const module = m[1].replace(/\.$/, "");
  const mode = m[2] ? "data" : "managed";
  return state.resources.find(
    (r) => (r.module ?? "") === module && r.mode === mode && r.type === m[3] && r.name === m[4],
  );
}

/** The value a reference to the resource evaluates to: an object, or a list (count) or map (for_each) of them. */
function valueOf(resource: RawResource): Json | undefined {
  const current = resource.instances.filter((i) => !i.deposed);
  if (current.length === 0) return undefined;
  if (current.length === 1 && current[0].index_key === undefined) return current[0].attributes ?? {};
  if (current.every((i) => typeof i.index_key === "number")) {
    return [...current].sort((x, y) => (x.index_key as number) - (y.index_key as number)).map((i) => i.attributes ?? {});
  }
  return Object.fromEntries(current.map((i) => [String(i.index_key), i.attributes ?? {}]));
}

/** --data first (what the snapshot lacks, or holds redacted), then the snapshot. */
function lookup(source: PinSource, address: string): { value: Json; from: Pin["from"]; recordedAs: string } | undefined {
  const addresses = [address, source.alias(address)].filter((a): a is string => a !== undefined);
  for (const a of addresses) {
    if (Object.prototype.hasOwnProperty.call(source.data, a)) return { value: source.data[a], from: "--data", recordedAs: a };
  }
  for (const a of addresses) {
    const r = stateResource(source.snapshot, a);
    const v = r && valueOf(r);
    if (v !== undefined) return { value: v, from: "snapshot", recordedAs: a };
  }
  return undefined;
}

// ---------------------------------------------------------------- what the configuration reads of a pinned value

const kindOf = (v: Json | undefined) => (v === null ? "null" : Array.isArray(v) ? "a list" : typeof v === "object" ? "an object" : `a ${typeof v}`);

/**
 * Checks each reference to a pinned value in `text` (`local.plan_check_pinned["data.aws_vpc.existing"].cidr_block`)
 * against the value: an attribute it lacks, or a value of another shape, would
 * be Terraform's error pointing into the copied configuration, naming neither
 * the entry nor its source. Literal steps only (`.name`, `[0]`, `["key"]`).
 */
export function pinnedReferenceProblems(text: string, values: Readonly<Record<string, Json>>, pins: readonly Pin[], where: string): string[] {
  const problems = new Set<string>();
  const ref = /local\.plan_check_pinned\["([^"]+)"\]((?:\.[A-Za-z_][\w-]*|\[\d+\]|\["[^"]*"\])*)/g;
  for (const m of text.matchAll(ref)) {
    const local = m[1];
    if (!Object.prototype.hasOwnProperty.call(values, local)) continue;
    const pin = pins.find((p) => p.address === local || p.address.endsWith(`.${local}`));
    const entry = pin?.from === "--data" ? `--data entry '${pin.recordedAs}'` : `the snapshot's value of '${pin?.recordedAs ?? local}'`;
    let v: Json | undefined = values[local];
    let read = local;
    for (const step of m[2].match(/\.[A-Za-z_][\w-]*|\[\d+\]|\["[^"]*"\]/g) ?? []) {
      const at = read === local ? "" : ` at ${read}`;
      if (step.startsWith("[") && !step.startsWith('["')) {
        if (!Array.isArray(v)) {
          problems.add(`${entry} is ${kindOf(v)}${at}, but ${where} reads ${read}${step}: give a list (one object per count index)`);
          break;
        }
        const n = Number(step.slice(1, -1));
        if (n >= v.length) {
          problems.add(`${entry} has ${v.length} item(s)${at}, but ${where} reads ${read}${step}`);
          break;
        }
        v = v[n];
      } else {
        const attribute = step.startsWith(".") ? step.slice(1) : step.slice(2, -2);
        if (v === null || typeof v !== "object" || Array.isArray(v)) {
          problems.add(`${entry} is ${kindOf(v)}${at}, but ${where} reads ${read}${step}: give the attributes as an object`);
          break;
        }
        if (!Object.prototype.hasOwnProperty.call(v, attribute)) {
          problems.add(`${entry} has no attribute '${attribute}'${at}, which ${where} reads (${read}${step})`);
          break;
        }
        v = v[attribute];
      }
      read += step;
    }
  }
  return [...problems];
}

/** Every string in a JSON value (the synthesized configuration's expressions). */
function strings(v: Json): string[] {
  if (typeof v === "string") return [v];
  if (Array.isArray(v)) return v.flatMap(strings);
  if (v && typeof v === "object") return Object.values(v).flatMap(strings);
  return [];
}

const full = (modulePath: string, local: string) => (modulePath ? `${modulePath}.${local}` : local);
const pinnedRef = (local: string) => `local.${PINNED_LOCAL}[${JSON.stringify(local)}]`;

interface UnitPins {
  /** Local address (`data.aws_ami.ubuntu`) → value. */
  readonly values: Record<string, Json>;
}

function pin(source: PinSource, ws: Workspace, unit: UnitPins, modulePath: string, local: string, kind: Pin["kind"]): void {
  const address = full(modulePath, local);
  const found = lookup(source, address);
  if (!found) {
    ws.missing.push(address);
    return;
  }
  unit.values[local] = found.value;
  ws.pins.push({ address, kind, from: found.from, recordedAs: found.recordedAs });
}

function needsPin(kind: "data" | "resource", type: string, installed: ReadonlySet<string>): boolean {
  if (!installed.has(providerOf(type))) return true;
  return kind === "data" && !LOCAL_DATA_SOURCES.has(type);
}

// ---------------------------------------------------------------- HCL directories

const isLocalSource = (s: string) => s.startsWith("./") || s.startsWith("../");

function copyDir(from: string, to: string): void {
  fs.cpSync(from, to, {
    mode: fs.constants.COPYFILE_FICLONE,
    recursive: true,
    filter: (src) => {
      const base = path.basename(src);
      return base !== ".terraform" && !base.endsWith(".tfstate") && !base.endsWith(".tfstate.backup") && base !== ".terraform.lock.hcl";
    },
  });
  // The copy is edited and later removed: owner-writable, whatever the source's modes.
  const writable = (p: string) => {
    const st = fs.statSync(p);
    fs.chmodSync(p, st.mode | 0o200);
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) writable(path.join(p, e));
  };
  writable(to);
}

/**
 * Pins the data sources and uninstalled-provider resources of the HCL
 * module in `dir` (already a copy), and of the local modules it calls.
 */
function pinHclDir(dir: string, modulePath: string, source: PinSource, ws: Workspace, root: string): void {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".tf") && !f.startsWith("plan_check_"));
  if (fs.readdirSync(dir).some((f) => f.endsWith(".tf.json"))) {
    throw new InputError(`${dir}: .tf.json files in an HCL module are not supported by plan-check's offline mode`);
  }
  const unit: UnitPins = { values: {} };
  const texts = new Map<string, string>();
  const calls: { name: string; source: string }[] = [];
  const uninstalled = new Set<string>();
  for (const f of files) {
    const text = fs.readFileSync(path.join(dir, f), "utf8");
    const remove: BlockHeader[] = [];
    for (const b of topLevelBlocks(text)) {
      const [type, name] = b.labels;
      if (b.kind === "data" && needsPin("data", type, source.installed)) {
        pin(source, ws, unit, modulePath, `data.${type}.${name}`, "data source");
        remove.push(b);
      } else if (b.kind === "resource" && needsPin("resource", type, source.installed)) {
        pin(source, ws, unit, modulePath, `${type}.${name}`, "resource");
        uninstalled.add(providerOf(type));
        remove.push(b);
      } else if (b.kind === "provider" && !source.installed.has(type)) {
        uninstalled.add(type);
        remove.push(b);
      } else if (b.kind === "module") {
        const m = /\n[ \t]*source[ \t]*=[ \t]*"([^"]+)"/.exec(text.slice(b.start, b.end));
        if (m) calls.push({ name: type, source: m[1] });
        ws.initInputs.push(`${modulePath || "root"}: ${text.slice(b.start, b.end)}`);
      } else if (b.kind === "terraform") {
        ws.initInputs.push(`${modulePath || "root"}: ${text.slice(b.start, b.end)}`);
      }
    }
    let next = removeBlocks(text, remove, "pinned to a recorded value");
    for (const p of requiredProviderNames(next)) {
      if (source.installed.has(p)) continue;
      next = dropRequiredProvider(next, p);
      uninstalled.add(p);
    }
    texts.set(f, next);
  }
  const unitPins = ws.pins.filter((p) => Object.keys(unit.values).some((local) => p.address === full(modulePath, local)));
  for (const [f, text] of texts) {
    let next = text;
    for (const local of Object.keys(unit.values)) next = replaceReference(next, local, pinnedRef(local));
    ws.problems.push(...pinnedReferenceProblems(next, unit.values, unitPins, `${modulePath || "the HCL root"} (${f})`));
    if (next !== fs.readFileSync(path.join(dir, f), "utf8")) fs.writeFileSync(path.join(dir, f), next);
  }
  if (Object.keys(unit.values).length > 0) {
    fs.writeFileSync(path.join(dir, PINNED_FILE), JSON.stringify(unit.values, null, 1));
    fs.writeFileSync(
      path.join(dir, "plan_check_pinned.tf"),
      `# plan-check: values recorded in the snapshot (or --data), in place of data sources and uninstalled providers\n` +
        `locals {\n  ${PINNED_LOCAL} = jsondecode(file("\${path.module}/${PINNED_FILE}"))\n}\n`,
    );
  }
  for (const u of uninstalled) ws.adaptations.push(`${modulePath || "root"}: provider ${u} removed (not installed; its resources are pinned)`);
  for (const call of calls) {
    if (!isLocalSource(call.source)) throw new InputError(`${modulePath || "root"}: module ${call.name} has a non-local source (${call.source}); offline mode needs local modules`);
    const child = path.resolve(dir, call.source);
    if (!child.startsWith(root + path.sep)) {
      throw new InputError(`${modulePath || "root"}: module ${call.name}'s source ${call.source} leaves the copied directory`);
    }
    pinHclDir(child, full(modulePath, `module.${call.name}`), source, ws, root);
  }
}

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
  /** The working directory to create. */
  readonly dir: string;
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

/** Relative `assets/...` paths the configuration reads (cdktf's TerraformAsset paths). */
export function assetPaths(config: Json): string[] {
  const found = new Set<string>();
  const visit = (v: Json) => {
    if (typeof v === "string") for (const m of v.matchAll(/(?<![\w./-])assets\/[\w.\-/]+/g)) found.add(m[0]);
    else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === "object") Object.values(v).forEach(visit);
  };
  visit(config);
  return [...found].sort();
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
  const ws: Workspace = { dir: o.dir, pins: [], missing: [], problems: [], adaptations: [], initInputs: [] };
  const config = structuredClone(o.config);
  fs.mkdirSync(o.dir, { recursive: true, mode: 0o700 });

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
    fs.writeFileSync(path.join(o.dir, PINNED_FILE), JSON.stringify(unit.values, null, 1));
  }

  const modules = (out.module ?? {}) as Record<string, JsonObject>;
  for (const [name, block] of Object.entries(modules)) {
    const from = path.join(o.modulesDir, path.basename(String(block.source)));
    if (!fs.existsSync(from)) throw new InputError(`module ${name}: no HCL module at ${from} (see --modules)`);
    const to = path.join(o.dir, "modules", name);
    copyDir(from, to);
    block.source = `./modules/${name}`;
    pinHclDir(to, `module.${name}`, o.source, ws, to);
  }
  fs.writeFileSync(path.join(o.dir, "cdk.tf.json"), JSON.stringify(out, null, 2));
  copyStackAssets(out, o.stackDir, o.dir);
  ws.initInputs.push(`root: ${JSON.stringify({ terraform: out.terraform, module: Object.fromEntries(Object.entries(modules).map(([n, b]) => [n, b.source])) })}`);
  return ws;
}

// ---------------------------------------------------------------- an HCL root

export interface HclWorkspaceOptions {
  /** The HCL root directory. */
  readonly hclDir: string;
  readonly dir: string;
  readonly awsVersion: string;
  readonly source: PinSource;
}

/** A copy of an HCL root (and the modules under it), pinned the same way as the stack. */
export function prepareHclWorkspace(o: HclWorkspaceOptions): Workspace {
  const ws: Workspace = { dir: o.dir, pins: [], missing: [], problems: [], adaptations: [], initInputs: [] };
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

// ---------------------------------------------------------------- the state copy

const stateAddress = (r: RawResource) => full(r.module ?? "", `${r.mode === "data" ? "data." : ""}${r.type}.${r.name}`);

/** Drops what the shape does not know, recursively; returns the dropped paths. */
function fitToShape(attrs: JsonObject, shape: BlockShape, prefix = ""): string[] {
  const dropped: string[] = [];
  for (const key of Object.keys(attrs)) {
    if (shape.a.includes(key)) continue;
    const nested = shape.b[key];
    if (!nested) {
      dropped.push(prefix + key);
      delete attrs[key];
      continue;
    }
    const v = attrs[key];
    const items = Array.isArray(v) ? v : v && typeof v === "object" ? [v] : [];
    for (const item of items) if (item && typeof item === "object" && !Array.isArray(item)) dropped.push(...fitToShape(item, nested, `${prefix}${key}.`));
  }
  return [...new Set(dropped)];
}

/** A managed instance of the snapshot the offline plan cannot account for: left out of the copy, never planned. */
export interface Unplannable {
  /** Its instance address (`tls_private_key.deploy`, `module.x.random_string.s[0]`; a deposed object: `... (deposed object <id>)`). */
  readonly address: string;
  /** Its resource address, which an entry of keepUnplannable may name for all its instances. */
  readonly resource: string;
  readonly why: string;
}

const indexText = (k: unknown) => (k === undefined ? "" : typeof k === "number" ? `[${k}]` : `[${JSON.stringify(k)}]`);

/**
 * The state copy Terraform plans against: the snapshot (or an empty state)
 * without what is pinned, fitted to the installed provider's schema. Managed
 * instances the plan cannot account for (their provider is not installed and
 * the configuration does not declare them, or the installed provider does not
 * know their type) are left out and returned: real Terraform would plan them
 * (a delete, if nothing declares them), so they are not judged.
 */
export function adaptState(
  snapshot: RawState | null,
  pins: readonly Pin[],
  installed: ReadonlySet<string>,
  schema: SchemaSummary,
  terraformVersion: string,
): { state: RawState; adaptations: string[]; unplannable: Unplannable[] } {
  const adaptations: string[] = [];
  const unplannable: Unplannable[] = [];
  if (!snapshot) {
    return {
      state: { version: 4, terraform_version: terraformVersion, serial: 1, lineage: "plan-check-empty-state", outputs: {}, resources: [] },
      adaptations: ["state: empty (a new environment): every resource is planned from nothing"],
      unplannable,
    };
  }
  const state = structuredClone(snapshot);
  const pinned = new Set(pins.map((p) => p.address));
  const kept: RawResource[] = [];
  const droppedData: string[] = [];
  const leaveOut = (r: RawResource, why: string) => {
    for (const i of r.instances) {
      const address = `${stateAddress(r)}${indexText(i.index_key)}${i.deposed ? ` (deposed object ${i.deposed})` : ""}`;
      unplannable.push({ address, resource: stateAddress(r), why });
    }
  };
  for (const r of state.resources) {
    const address = stateAddress(r);
    const provider = /provider\["[^"]*\/([^/"]+)"\]/.exec(r.provider)?.[1] ?? providerOf(r.type);
    if (r.mode === "data" && pinned.has(address)) {
      droppedData.push(address);
      continue;
    }
    if (!installed.has(provider)) {
      if (r.mode === "managed" && !pinned.has(address)) {
        leaveOut(r, `provider ${provider} is not installed here and the configuration does not declare it: Terraform would plan it with that provider (a delete, if nothing declares it)`);
      } else {
        adaptations.push(`state: ${address} removed from the copy (provider ${provider} not installed${pinned.has(address) ? "; its value is pinned" : ""})`);
      }
      continue;
    }
    const type = r.mode === "data" ? `data.${r.type}` : r.type;
    if (!schema[type]) {
      if (r.mode === "managed") leaveOut(r, `the installed ${provider} provider has no resource type ${r.type}`);
      else adaptations.push(`state: ${address} removed from the copy (the installed ${provider} provider has no data source ${r.type}; data sources are read again, never destroyed)`);
      continue;
    }
    kept.push(r);
  }
  if (droppedData.length) adaptations.push(`state: ${droppedData.length} pinned data source(s) removed from the copy (their values are pinned)`);
  if (unplannable.length) adaptations.push(`state: ${unplannable.length} instance(s) the plan cannot account for removed from the copy (listed as not judged)`);
  const byType = new Map<string, { from: Set<number>; to: number; dropped: Set<string>; count: number }>();
  for (const r of kept) {
    const type = r.mode === "data" ? `data.${r.type}` : r.type;
    const s = schema[type];
    for (const i of r.instances) {
      const dropped = i.attributes ? fitToShape(i.attributes, s.block) : [];
      for (const key of ["identity", "identity_schema_version"]) delete i[key];
      const newer = (i.schema_version ?? 0) > s.version;
      if (!newer && dropped.length === 0) continue;
      const entry = byType.get(type) ?? { from: new Set<number>(), to: s.version, dropped: new Set<string>(), count: 0 };
      if (newer) entry.from.add(i.schema_version ?? 0);
      dropped.forEach((d) => entry.dropped.add(d));
      entry.count++;
      byType.set(type, entry);
      if (newer) i.schema_version = s.version;
    }
  }
  for (const [type, e] of [...byType].sort(([a], [b]) => a.localeCompare(b))) {
    const parts = [
      ...(e.from.size ? [`schema version ${[...e.from].join("/")} → ${e.to}`] : []),
      ...(e.dropped.size ? [`attributes the installed provider does not have dropped: ${[...e.dropped].sort().join(", ")}`] : []),
    ];
    adaptations.push(`state: ${type} (${e.count} instance${e.count > 1 ? "s" : ""}): ${parts.join("; ")}`);
  }
  state.resources = kept;
  return { state, adaptations, unplannable };
}

/** The summary of `terraform providers schema -json` for one provider. */
export function summarizeSchema(
  schemaJson: { provider_schemas?: Record<string, { resource_schemas?: Record<string, any>; data_source_schemas?: Record<string, any> }> },
  providerSource: string,
): SchemaSummary {
  const p = schemaJson.provider_schemas?.[providerSource];
  if (!p) throw new Error(`no schema for ${providerSource}`);
  const shape = (block: any): BlockShape => ({
    a: Object.keys(block?.attributes ?? {}),
    b: Object.fromEntries(Object.entries(block?.block_types ?? {}).map(([k, v]: [string, any]) => [k, shape(v.block)])),
  });
  const entries = (schemas: Record<string, any> | undefined, prefix: string) =>
    Object.entries(schemas ?? {}).map(([type, s]) => [prefix + type, { version: s.version ?? 0, block: shape(s.block) }]);
  return Object.fromEntries([...entries(p.resource_schemas, ""), ...entries(p.data_source_schemas, "data.")]);
}
