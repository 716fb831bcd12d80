// The root stack, minus what cannot be validated offline.
//
// `terraform validate` needs every provider and every module installed. Offline,
// with a mirror that holds hashicorp/aws only, the synthesized production stack
// has four things init cannot install or read. This file removes exactly those,
// and replaces each reference to them with a placeholder, so the rest (the aws
// provider block, the data sources, the root resources, the Ecr/Iam/MlWorker
// constructs, the moved blocks, the variables and the outputs that do not read
// a module) is validated as synthesized, byte for byte apart from the references.
//
// Removed, and why:
//   1. `terraform.backend`: state is not read by validate; `init -backend=false`
//      would ignore it anyway, removing it keeps the file free of a state path.
//   2. Every `module` block (the HCL modules storage, ssm, vpc_endpoints,
//      route53): their `source` is a folder beside the HCL root, not in this
//      repository, so init cannot install them.
//   3. The `local` and `random` providers (provider block and
//      required_providers entry): not in the mirror, and no registry is reachable.
//      `random` is used only inside the HCL modules.
//   4. The data sources and resources of a removed provider
//      (`data.local_file.env_production`: it reads backend/.env.production, a file
//      outside this repository, through the local provider).
//   5. Each local whose value reads a removed data source, resource or local
//      (`local.react_app_api_key`, which parses that env file), found to a fixed
//      point. A module output a local reads becomes a placeholder (below).
//   6. Each output whose value reads something removed (the ssm module's
//      output: ssm_image_tag_param_name).
// Replaced: every other reference to a removed module, data source, resource or
// local, inside the text it appears in:
//   - in a `depends_on` list, by a `terraform_data.offline_<...>` resource
//     (built into Terraform, needs no provider): `depends_on` takes no variable,
//     and keeping the entry keeps its exact form (e.g. `${...}` wrapping) under test;
//   - anywhere else, by `var.offline_<...>`, a variable with no type and no
//     default, which validate treats as an unknown value of any type.
// Left alone: `moved`, `import` and `removed` blocks (their addresses are not
// expressions to rewrite; `moved.from` names addresses of the old HCL modules).
// The files the configuration reads beside cdk.tf.json (the compute templates)
// are written with it by the tier (validate/lib/stacks.ts).
import { Json, TfConfig, isObject } from "../../lib/terraform";

/** Providers this variant may remove, and why. Any other provider missing from the mirror is an error. */
export const REMOVABLE_PROVIDERS: Readonly<Record<string, string>> = {
  local: "hashicorp/local is not in the provider mirror (it holds hashicorp/aws only) and no registry is reachable",
  random: "hashicorp/random is not in the provider mirror (it holds hashicorp/aws only) and no registry is reachable",
};

/** Prefix of every placeholder variable and resource this variant adds. */
export const PLACEHOLDER_PREFIX = "offline_";

export interface Removal {
  /** Terraform address: `module.ssm`, `provider.local`, `data.local_file.x`, `local.x`, `output.x`, `terraform.backend.local`. */
  readonly address: string;
  readonly reason: string;
}

export interface Placeholder {
  /** What was referenced: `module.storage.bucket_arn`. */
  readonly reference: string;
  /** What stands in for it: `var.offline_module_storage_bucket_arn`. */
  readonly replacement: string;
  /** Where, as block paths: `resource.aws_iam_role_policy.iam_ecs_task_s3.policy`. */
  readonly usedAt: readonly string[];
}

export interface OfflineVariant {
  readonly config: TfConfig;
  readonly removed: readonly Removal[];
  readonly placeholders: readonly Placeholder[];
}

/** Blocks whose strings are addresses, not expressions. */
const ADDRESS_BLOCKS = new Set(["moved", "import", "removed"]);

const entries = (v: Json | undefined): [string, Json][] => (isObject(v) ? Object.entries(v) : []);

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Matches `<root>` or `<root>.<attribute>` for any of `roots`, not inside a longer name. */
function referencePattern(roots: Iterable<string>): RegExp | undefined {
  const list = [...roots].sort((a, b) => b.length - a.length).map(escapeRegExp);
  if (list.length === 0) return undefined;
  return new RegExp(`(?<![\\w.-])(${list.join("|")})(?:\\.([A-Za-z_][\\w-]*))?(?![\\w-])`, "g");
}

/** Every `<root>[.<attribute>]` of `roots` referenced by a string in `value`. */
export function referencesIn(value: Json | undefined, roots: Iterable<string>): string[] {
  const pattern = referencePattern(roots);
  if (!pattern || value === undefined) return [];
  const found = new Set<string>();
  const visit = (v: Json) => {
    if (typeof v === "string") {
      for (const m of v.matchAll(pattern)) found.add(m[2] ? `${m[1]}.${m[2]}` : m[1]);
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (isObject(v)) Object.values(v).forEach(visit);
  };
  visit(value);
  return [...found].sort();
}

/** The provider of a resource or data block: its `provider` argument, else its type's prefix. */
function providerOf(type: string, block: Json): string {
  if (isObject(block) && typeof block.provider === "string") {
    return block.provider.replace(/^\$\{|\}$/g, "").split(".")[0];
  }
  return type.split("_")[0];
}

const placeholderName = (reference: string) => `${PLACEHOLDER_PREFIX}${reference.replace(/[^\w]+/g, "_")}`;

/**
 * The offline variant of a synthesized root stack: removes what cannot be
 * installed or read offline, replaces references to it by placeholders, and
 * says what it did. `mirrorProviders`: the providers the mirror has.
 */
export function offlineRootVariant(synthesized: TfConfig, mirrorProviders: readonly string[] = ["aws"]): OfflineVariant {
  const config = structuredClone(synthesized);
  const removed: Removal[] = [];
  /** Reference roots that no longer exist: `module.x`, `data.t.n`, `t.n`, `local.n`. */
  const gone = new Set<string>();

  // 1. Backend.
  const terraform = isObject(config.terraform) ? config.terraform : undefined;
  if (terraform && isObject(terraform.backend)) {
    for (const type of Object.keys(terraform.backend)) {
      removed.push({ address: `terraform.backend.${type}`, reason: "state is not read by validate (init runs with -backend=false)" });
    }
    delete terraform.backend;
  }

  // 2. Module calls.
  for (const [name, block] of entries(config.module)) {
    const source = isObject(block) && typeof block.source === "string" ? block.source : "?";
    removed.push({
      address: `module.${name}`,
      reason: `HCL module call; its source ${source} is not in this repository, so init cannot install it`,
    });
    gone.add(`module.${name}`);
  }
  delete config.module;

  // 3. Providers that are not in the mirror.
  const required = terraform && isObject(terraform.required_providers) ? terraform.required_providers : {};
  const providers = isObject(config.provider) ? config.provider : {};
  const removedProviders = new Set<string>();
  for (const name of new Set([...Object.keys(providers), ...Object.keys(required)])) {
    if (mirrorProviders.includes(name)) continue;
    const reason = REMOVABLE_PROVIDERS[name];
    if (!reason) {
      throw new Error(
        `provider '${name}' is not in the mirror (${mirrorProviders.join(", ")}) and the offline variant does not know it may ` +
          `remove it: add it to REMOVABLE_PROVIDERS in validate/lib/offline-root.ts with the reason, or put it in the mirror`,
      );
    }
    removed.push({ address: `provider.${name}`, reason });
    removedProviders.add(name);
    delete providers[name];
    delete required[name];
  }

  // 4. Data sources and resources of removed providers.
  for (const kind of ["data", "resource"] as const) {
    const byType = isObject(config[kind]) ? config[kind] : {};
    for (const [type, blocks] of Object.entries(byType)) {
      for (const [name, block] of entries(blocks)) {
        const provider = providerOf(type, block);
        if (!removedProviders.has(provider)) continue;
        const address = `${kind === "data" ? "data." : ""}${type}.${name}`;
        const file = isObject(block) && typeof block.filename === "string" ? `; it reads ${block.filename}` : "";
        removed.push({ address, reason: `uses the removed ${provider} provider${file}` });
        gone.add(address);
        if (isObject(blocks)) delete blocks[name];
      }
      if (entries(byType[type]).length === 0) delete byType[type];
    }
  }

  // 5. Locals that read a removed data source, resource or local, to a fixed point.
  // A module output they read becomes a placeholder instead (step 7), so the local
  // itself is validated (the compute templates' templatefile calls).
  const locals = isObject(config.locals) ? config.locals : {};
  for (let changed = true; changed; ) {
    changed = false;
    for (const [name, value] of Object.entries(locals)) {
      const refs = referencesIn(value, [...gone].filter((g) => !g.startsWith("module.")));
      if (refs.length === 0) continue;
      removed.push({ address: `local.${name}`, reason: `its value reads ${refs.join(", ")}` });
      gone.add(`local.${name}`);
      delete locals[name];
      changed = true;
    }
  }

  // 6. Outputs that read something removed.
  const outputs = isObject(config.output) ? config.output : {};
  for (const [name, block] of Object.entries(outputs)) {
    const refs = referencesIn(block, gone);
    if (refs.length === 0) continue;
    removed.push({ address: `output.${name}`, reason: `its value reads ${refs.join(", ")}` });
    delete outputs[name];
  }

  // 7. Every other reference: a placeholder in its place.
  const used = new Map<string, { reference: string; kind: "var" | "terraform_data"; usedAt: Set<string> }>();
  const pattern = referencePattern(gone);
  const rewrite = (value: Json, path: string[]): Json => {
    if (typeof value === "string") {
      if (!pattern) return value;
      const inDependsOn = path[path.length - 2] === "depends_on";
      return value.replace(pattern, (_match: string, root: string, attr: string | undefined) => {
        // depends_on names whole objects; elsewhere the attribute read gets its own variable.
        const reference = inDependsOn || !attr ? root : `${root}.${attr}`;
        const name = placeholderName(reference);
        const key = `${inDependsOn ? "terraform_data" : "var"}.${name}`;
        const entry = used.get(key) ?? { reference, kind: inDependsOn ? "terraform_data" : "var", usedAt: new Set<string>() };
        entry.usedAt.add(path.slice(0, inDependsOn ? -1 : undefined).join("."));
        used.set(key, entry);
        const rest = inDependsOn && attr ? `.${attr}` : "";
        return `${key}${rest}`;
      });
    }
    if (Array.isArray(value)) return value.map((v, i) => rewrite(v, [...path, String(i)]));
    if (isObject(value)) {
      const out: { [key: string]: Json } = {};
      for (const [k, v] of Object.entries(value)) out[k] = rewrite(v, [...path, k]);
      return out;
    }
    return value;
  };
  for (const [key, value] of Object.entries(config)) {
    if (!ADDRESS_BLOCKS.has(key)) config[key] = rewrite(value, [key]);
  }

  // 8. Nothing removed may still be referenced (checked before the placeholders,
  // whose descriptions name what they stand for).
  const expressions: TfConfig = Object.fromEntries(Object.entries(config).filter(([k]) => !ADDRESS_BLOCKS.has(k)));
  const left = referencesIn(expressions, gone);
  if (left.length > 0) throw new Error(`the offline variant still references removed objects: ${left.join(", ")}`);

  // 9. Declare the placeholders.
  const variables = isObject(config.variable) ? config.variable : {};
  const resources = isObject(config.resource) ? config.resource : {};
  const placeholders: Placeholder[] = [];
  for (const [key, { reference, kind, usedAt }] of [...used.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const name = key.slice(key.indexOf(".") + 1);
    if (kind === "var") {
      if (name in variables) throw new Error(`placeholder variable ${name} collides with a variable of the stack`);
      variables[name] = { description: `Offline validation placeholder for ${reference} (removed)` };
      config.variable = variables;
    } else {
      const td = isObject(resources.terraform_data) ? resources.terraform_data : {};
      if (name in td) throw new Error(`placeholder terraform_data.${name} collides with a resource of the stack`);
      td[name] = {};
      resources.terraform_data = td;
      config.resource = resources;
    }
    placeholders.push({ reference, replacement: key, usedAt: [...usedAt].sort() });
  }

  // Empty blocks out.
  for (const key of ["locals", "output", "data", "provider"]) {
    if (isObject(config[key]) && Object.keys(config[key] as object).length === 0) delete config[key];
  }

  return { config, removed, placeholders };
}

/** The variant's changes as text, one line each (for logs and docs). */
export function describeVariant(v: OfflineVariant): string {
  return [
    ...v.removed.map((r) => `removed ${r.address}: ${r.reason}`),
    ...v.placeholders.map((p) => `replaced ${p.reference} by ${p.replacement} in ${p.usedAt.join(", ")}`),
  ].join("\n");
}
