// Long: the migration check's model in one place: reading a state and a stack, classifying every address, rendering the verdict; pure functions its command and plan-check share.
// Migration check: does applying the synthesized cdktf configuration to the
// existing HCL state destroy anything? Pure functions only (no file or process
// access) so the tests drive them directly; commands/migration-check.ts is the CLI.
//
// Scope: the cdktf stack declares root resources, `moved` blocks and the
// module blocks that stay in HCL. What an HCL module declares inside is not
// visible in the stack JSON, so an instance inside a module that is still a
// module block counts as safe ("in HCL module") when the block still makes its
// module instance's key (migration-expansion.ts): its address does not change. The key of a module
// nested in it is the module's source's to make: named as not checked.
// Chains of moved blocks (A → B, B → N) are followed as Terraform 1.11.4 does (internal/refactoring/move_execute.go:
// a block runs after the blocks whose target its `from` catches, so an object goes on to the end of the chain,
// unless a target on the way is held already). Moved blocks Terraform refuses (migration-moved.ts) make it
// plan nothing: named, and never safe.

/** Bad input (unreadable or malformed files, bad arguments): exit code 2. */
import { InputError } from "./cli";
import { Expansion, KeyVerdict, keyVerdict, missingInstance, moduleKeyVerdict, movedKeyVerdict, rootResourceOf } from "./migration-expansion";
import { IdentityMismatch, identityMismatches } from "./migration-identity";
import { MovedError, movedErrors } from "./migration-moved";

export { InputError };
export type { MovedError };

export type IndexKey = number | string;

/** A managed resource instance from the state. */
export interface StateInstance {
  /** Module path as Terraform writes it (`module.iam`, `module.a["x"].module.b`); "" in the root. */
  readonly modulePath: string;
  readonly type: string;
  readonly name: string;
  /** `count` index (number), `for_each` key (string), or null. */
  readonly indexKey: IndexKey | null;
  /** Deposed object id, or null for the current object. */
  readonly deposed: string | null;
  /** The object's attributes, as the state has them (compared with what the configuration records as deployed). */
  readonly attributes?: Readonly<Record<string, unknown>>;
}

export interface ParsedState {
  readonly terraformVersion: string | null;
  readonly serial: number | null;
  readonly lineage: string | null;
  /** Managed instances, current and deposed. */
  readonly instances: StateInstance[];
  /** Data source instances: read on every plan, never destroyed, so only counted. */
  readonly dataInstanceCount: number;
}

export interface MovedBlock {
  readonly from: string;
  readonly to: string;
}

/** What the synthesized stack JSON declares, as far as this check needs. */
export interface StackConfig {
  /** Root resources, `<type>.<name>`. */
  readonly resources: ReadonlySet<string>;
  /** Module block names (`compute` for `module.compute`). */
  readonly modules: ReadonlySet<string>;
  readonly moved: readonly MovedBlock[];
  /**
   * Root resources (`<type>.<name>`) and module blocks (`module.<name>`) with a literal `count`
   * (`aws_security_group_rule.compute_allow_ssh`: 0 unless SSH is on): the instances they keep are [0] to [count - 1].
   * @default - none counted
   */
  readonly counts?: ReadonlyMap<string, number>;
  /**
   * Root resources and module blocks with a `count` or `for_each`, literal or not: they decide which instance keys are kept.
   * @default - none expanded
   */
  readonly expansions?: ReadonlyMap<string, Expansion>;
  /**
   * Root resources and module blocks whose `for_each` is a literal map: its keys, the only string keys they keep.
   * @default - none literal
   */
  readonly forEachKeys?: ReadonlyMap<string, readonly string[]>;
  /**
   * The `count` or `for_each` known at plan time only (`${var.queues}`), to name what is not checked.
   * @default - none named
   */
  readonly expressions?: ReadonlyMap<string, string>;
}

/**
 * Root resources whose creation is expected: the ML worker fixes create the
 * ecr and ml_worker constructs' resources and the iam construct's ECS roles
 * and policies (none of them are in the pre-fix state). Any other creation is a warning.
 */
export const EXPECTED_NEW_RESOURCE_NAME_PREFIXES: readonly string[] = ["ecr_", "ml_worker_", "iam_ecs_", "ssm_ml_worker_"];
export const EXPECTED_CREATION_NOTE = "expected: created by the ML worker fixes";
export const UNEXPECTED_CREATION_NOTE = "warning: not in the state and not a moved target; check that it is meant to be new";
export const DEPLOYED_CREATION_NOTE =
  "**error**: the configuration records it as deployed (`deployed`), but no instance of this state is at or moves to it: " +
  "this is not the deployed state, or the object was lost from it; a deploy would create a second one";
/** What "safe" does not cover, whatever the state: the JSON's `notChecked`, and said under the verdict, so it is never read as Terraform's plan. */
export const NOT_CHECKED_ITEMS: readonly string[] = [
  "a replacement forced by a changed argument (a name, the VPC, the AMI, a subnet)",
  "anything inside an HCL module",
  "values known at plan time",
  "a provider's validation",
];
export const NOT_CHECKED = `By addresses alone. Not checked: ${NOT_CHECKED_ITEMS.join(", ")}: \`npm run plan-check\` asks Terraform for those.`;
export const DEPOSED_NOTE = "deposed (will be cleaned up by the next apply, as with the HCL)";

/** True for `<type>.<name>` addresses whose creation the ML worker fixes explain. */
export function isExpectedCreation(address: string): boolean {
  const name = address.slice(address.indexOf(".") + 1);
  return EXPECTED_NEW_RESOURCE_NAME_PREFIXES.some((prefix) => name.startsWith(prefix));
}

// ---------------------------------------------------------------- addresses

function indexSuffix(key: IndexKey | null): string {
  if (key === null) return "";
  return typeof key === "number" ? `[${key}]` : `[${JSON.stringify(key)}]`;
}

/** `module.iam.aws_iam_role.ec2_role`: the resource, without index. */
export function resourceAddress(i: StateInstance): string {
  return `${i.modulePath ? `${i.modulePath}.` : ""}${i.type}.${i.name}`;
}

/** `module.route53.aws_route53_record.www_a[0]`: the address Terraform prints. */
export function instanceAddress(i: StateInstance): string {
  return resourceAddress(i) + indexSuffix(i.indexKey);
}

const MODULE_SEGMENT = /module\.[^.[]+(?:\[(?:"(?:[^"\\]|\\.)*"|\d+)\])?/g;

/**
 * Addresses a moved block's `from` can use to catch this instance, most specific first. A module
 * instance (`module.old[0]`) is caught by its own address and by its whole call (`module.old`), which
 * moves every instance keeping its key (measured on 1.11.4: `module.old` → `module.new` takes
 * `module.old[0]` to `module.new[0]`).
 */
function moveSources(i: StateInstance): string[] {
  const sources = [instanceAddress(i), resourceAddress(i)];
  const segments = i.modulePath.match(MODULE_SEGMENT) ?? [];
  for (let n = segments.length; n > 0; n--) {
    const parent = segments.slice(0, n - 1);
    sources.push([...parent, segments[n - 1]].join("."));
    const call = segments[n - 1].replace(/\[.*\]$/, "");
    if (call !== segments[n - 1]) sources.push([...parent, call].join("."));
  }
  return sources;
}

/** The resource instance at an address (`module.a[0].aws_x.y["k"]`), as the state would hold it; undefined for any other address. */
function instanceAt(address: string): StateInstance | undefined {
  const modules = /^(?:module\.[^.[]+(?:\[(?:"(?:[^"\\]|\\.)*"|\d+)\])?\.)*/.exec(address)![0];
  const r = /^([^.[]+)\.([^.[]+)(\[(?:\d+|"(?:[^"\\]|\\.)*")\])?$/.exec(address.slice(modules.length));
  if (!r || r[1] === "module") return undefined;
  const key = r[3] === undefined ? null : r[3].startsWith('["') ? (JSON.parse(r[3].slice(1, -1)) as string) : Number(r[3].slice(1, -1));
  return { modulePath: modules.slice(0, -1), type: r[1], name: r[2], indexKey: key, deposed: null };
}

/**
 * The addresses a block's `from` can use to catch what lands at `to` (another block's target): its sources as an
 * instance's (moveSources), or, for a module end, the module instance and the calls it is in.
 */
function targetSources(to: string): string[] {
  const instance = instanceAt(to);
  if (instance) return moveSources(instance);
  const segments = to.match(MODULE_SEGMENT) ?? [];
  return segments.flatMap((segment, n) => {
    const parent = segments.slice(0, n);
    const call = segment.replace(/\[.*\]$/, "");
    return [[...parent, segment].join("."), ...(call !== segment ? [[...parent, call].join(".")] : [])];
  });
}

/** `[0]` or `["a"]` at the start of an address's rest, or "". */
const leadingKey = (rest: string) => /^\[(?:\d+|"(?:[^"\\]|\\.)*")\]/.exec(rest)?.[0] ?? "";

/** `compute` for `module.compute`, `module.compute[0]` or `module.compute.aws_x.y`. */
function topModuleName(address: string): string | null {
  return /^module\.([^.[]+)/.exec(address)?.[1] ?? null;
}

type TargetKind = "resource" | "hcl-module" | "missing";

/** Where a moved block's `to` lands in the configuration. */
function targetKind(to: string, config: StackConfig): TargetKind {
  const mod = topModuleName(to);
  if (mod !== null) return config.modules.has(mod) ? "hcl-module" : "missing";
  const root = /^([^.[]+\.[^.[]+)(\[.*\])?$/.exec(to);
  return root && config.resources.has(root[1]) ? "resource" : "missing";
}

// ---------------------------------------------------------------- parsing

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function parseJson(text: string, label: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new InputError(`${label} is not valid JSON`);
  }
}

/** Parses a Terraform state (format v4). `label` names the file in error messages. */
export function parseState(text: string, label: string): ParsedState {
  const state = parseJson(text, label);
  if (!isObject(state)) throw new InputError(`${label} is not a Terraform state (not a JSON object)`);
  if (state.version !== 4) {
    const found = state.version === undefined ? "missing" : JSON.stringify(state.version);
    throw new InputError(`${label} is not a version 4 Terraform state (version: ${found})`);
  }
  if (!Array.isArray(state.resources)) throw new InputError(`${label} has no "resources" array`);

  const instances: StateInstance[] = [];
  let dataInstanceCount = 0;
  // Terraform refuses a state that lists one instance twice ("Duplicate resource instance in state"): so does this check.
  const seen = new Map<string, number>();
  const duplicates: string[] = [];
  const once = (what: string, n: number) => {
    const first = seen.get(what);
    if (first === undefined) seen.set(what, n);
    else duplicates.push(`${what} (resources[${first}] and resources[${n}])`);
  };
  state.resources.forEach((r: unknown, n) => {
    const bad = (why: string) => new InputError(`${label}: resources[${n}] is malformed (${why})`);
    if (!isObject(r)) throw bad("not an object");
    if (r.mode !== "managed" && r.mode !== "data") throw bad(`mode ${JSON.stringify(r.mode)}`);
    if (typeof r.type !== "string" || typeof r.name !== "string") throw bad("no type or name");
    if (r.module !== undefined && typeof r.module !== "string") throw bad("module is not a string");
    if (!Array.isArray(r.instances)) throw bad("instances is not an array");
    for (const inst of r.instances as unknown[]) {
      if (!isObject(inst)) throw bad("an instance is not an object");
      const { index_key: key, deposed } = inst;
      if (key !== undefined && typeof key !== "number" && typeof key !== "string") throw bad("index_key");
      if (deposed !== undefined && typeof deposed !== "string") throw bad("deposed");
      const address = `${r.module ? `${r.module}.` : ""}${r.mode === "data" ? "data." : ""}${r.type}.${r.name}${indexSuffix(key ?? null)}`;
      once(deposed === undefined ? address : `${address} deposed object ${JSON.stringify(deposed)}`, n);
      if (r.mode === "data") {
        dataInstanceCount++;
        continue;
      }
      instances.push({
        modulePath: (r.module as string | undefined) ?? "",
        type: r.type,
        name: r.name,
        indexKey: key ?? null,
        deposed: deposed ?? null,
        ...(isObject(inst.attributes) ? { attributes: inst.attributes } : {}),
      });
    }
  });
  if (duplicates.length > 0) {
    throw new InputError(
      `${label} lists ${duplicates.length === 1 ? "an instance" : `${duplicates.length} instances`} more than once: ${duplicates.join("; ")}. ` +
        'Terraform refuses to load such a state ("Duplicate resource instance in state"); give the state Terraform wrote',
    );
  }
  return {
    terraformVersion: typeof state.terraform_version === "string" ? state.terraform_version : null,
    serial: typeof state.serial === "number" ? state.serial : null,
    lineage: typeof state.lineage === "string" ? state.lineage : null,
    instances,
    dataInstanceCount,
  };
}

/** Parses a synthesized cdktf stack (`cdk.tf.json`). `label` names the file in error messages. */
export function parseStack(text: string, label: string): StackConfig {
  const json = parseJson(text, label);
  const bad = (why: string) => new InputError(`${label} is not a Terraform JSON configuration (${why})`);
  if (!isObject(json)) throw bad("not a JSON object");
  if (json.resource === undefined && json.module === undefined) throw bad('no "resource" or "module" block');

  const resources = new Set<string>();
  const counts = new Map<string, number>();
  const expansions = new Map<string, Expansion>();
  const forEachKeys = new Map<string, readonly string[]>();
  const expressions = new Map<string, string>();
  /** `count` and `for_each` of a resource or module block: which keys are literal, which known at plan time only. */
  const expansionOf = (address: string, block: unknown) => {
    if (!isObject(block)) return;
    if (block.for_each !== undefined) {
      expansions.set(address, "for_each");
      // A literal map: its keys are the instance keys (a key with `${` is a template, known at plan time).
      if (isObject(block.for_each) && !Object.keys(block.for_each).some((k) => k.includes("${"))) forEachKeys.set(address, Object.keys(block.for_each));
      else expressions.set(address, typeof block.for_each === "string" ? block.for_each : JSON.stringify(block.for_each));
    } else if (block.count !== undefined) {
      expansions.set(address, "count");
      if (typeof block.count === "number") counts.set(address, block.count);
      else expressions.set(address, typeof block.count === "string" ? block.count : JSON.stringify(block.count));
    }
  };
  if (json.resource !== undefined) {
    if (!isObject(json.resource)) throw bad('"resource" is not an object');
    for (const [type, byName] of Object.entries(json.resource)) {
      if (!isObject(byName)) throw bad(`resource.${type} is not an object`);
      for (const [name, block] of Object.entries(byName)) {
        resources.add(`${type}.${name}`);
        expansionOf(`${type}.${name}`, block);
      }
    }
  }
  if (json.module !== undefined && !isObject(json.module)) throw bad('"module" is not an object');
  const modules = new Set(Object.keys((json.module as Record<string, unknown> | undefined) ?? {}));
  for (const name of modules) expansionOf(`module.${name}`, (json.module as Record<string, unknown>)[name]);

  const moved: MovedBlock[] = [];
  if (json.moved !== undefined) {
    if (!Array.isArray(json.moved)) throw bad('"moved" is not an array');
    json.moved.forEach((m: unknown, n) => {
      if (!isObject(m) || typeof m.from !== "string" || typeof m.to !== "string") {
        throw bad(`moved[${n}] needs string "from" and "to"`);
      }
      moved.push({ from: m.from, to: m.to });
    });
  }
  return { resources, modules, moved, counts, expansions, forEachKeys, expressions };
}

// ---------------------------------------------------------------- classification

export type Outcome = "kept" | "moved" | "hcl-module" | "deposed" | "destroyed";

export interface InstanceRow {
  /** The instance's address in the state (for a deposed object: the address it is deposed from). */
  readonly stateAddress: string;
  readonly deposed: string | null;
  readonly outcome: Outcome;
  /** Address in the configuration (kept, moved), `module.<name>` (hcl-module), or null. */
  readonly configAddress: string | null;
  readonly note: string;
}

export interface MovedProblem extends MovedBlock {
  readonly problem: string;
}

export interface Creation {
  readonly address: string;
  readonly expected: boolean;
  /** The configuration records it as deployed: its creation is an error. */
  readonly deployed: boolean;
  readonly note: string;
}

export interface Totals {
  readonly managedInstances: number;
  readonly kept: number;
  readonly moved: number;
  readonly inHclModule: number;
  readonly deposed: number;
  readonly destroyed: number;
  readonly dataSourcesSkipped: number;
  readonly toBeCreated: number;
  /** Creations neither expected nor recorded as deployed: warnings. */
  readonly unexpectedCreations: number;
  /** Creations of addresses the configuration records as deployed: errors. */
  readonly deployedCreations: number;
  /** Instances kept or moved whose key a `count` or `for_each` known at plan time only decides, or an HCL module's source (a nested module): named, not judged. */
  readonly keysNotChecked: number;
}

/** An instance kept or moved by its address whose key the configuration decides at plan time only, or an HCL module's source does (a nested module). */
export interface KeyNotChecked {
  readonly stateAddress: string;
  /** Where it is kept or moved to (`module.<name>` for an instance in an HCL module). */
  readonly configAddress: string;
  readonly why: string;
}

/**
 * The check's result. This is also the `--json` output, unchanged:
 * {
 *   safe: boolean,                      // no destroyed instance, no moved-block problem, no deployed address created: by addresses alone
 *   safeBy: "addresses",                // what `safe` is judged by (Terraform's plan is plan-check's)
 *   notChecked: string[],               // what `safe` does not cover (NOT_CHECKED_ITEMS), whatever the state
 *   keysNotChecked: [{ stateAddress, configAddress, why }], // instance keys decided at plan time only, or by a nested module's HCL source: not judged
 *   state: { terraformVersion, serial, lineage },   // null when absent
 *   instances: [{ stateAddress, deposed, outcome, configAddress, note }],
 *       // outcome: "kept" | "moved" | "hcl-module" | "deposed" | "destroyed"; sorted by address
 *   movedProblems: [{ from, to, problem }],   // errors (exit 1)
 *   movedErrors: [{ error, blocks: [{ from, to }], detail }], // errors (exit 1): Terraform refuses these blocks and plans nothing
 *   noopMoved: [{ from, to }],                // source not in state: harmless
 *   creations: [{ address, expected, deployed, note }], // in the configuration, not in the state
 *   identityMismatches: [{ address, stateAddress, field, state, deployed }], // errors (exit 1): not the deployed state
 *   totals: { managedInstances, kept, moved, inHclModule, deposed, destroyed,
 *             dataSourcesSkipped, toBeCreated, unexpectedCreations, deployedCreations, keysNotChecked }
 * }
 */
export interface MigrationReport {
  readonly safe: boolean;
  readonly safeBy: "addresses";
  readonly notChecked: readonly string[];
  readonly keysNotChecked: KeyNotChecked[];
  readonly state: { readonly terraformVersion: string | null; readonly serial: number | null; readonly lineage: string | null };
  readonly instances: InstanceRow[];
  readonly movedProblems: MovedProblem[];
  /** Moved blocks Terraform refuses: its plan fails, nothing moves. */
  readonly movedErrors: MovedError[];
  readonly noopMoved: MovedBlock[];
  readonly creations: Creation[];
  readonly identityMismatches: IdentityMismatch[];
  readonly totals: Totals;
}

/** Plain code-point order, the same on every machine (no locale). */
const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function compareInstances(a: StateInstance, b: StateInstance): number {
  const byResource = byString(resourceAddress(a), resourceAddress(b));
  if (byResource !== 0) return byResource;
  const ka = a.indexKey;
  const kb = b.indexKey;
  if (ka !== kb) {
    if (ka === null || kb === null) return ka === null ? -1 : 1;
    if (typeof ka === "number" && typeof kb === "number") return ka - kb;
    if (typeof ka !== typeof kb) return typeof ka === "number" ? -1 : 1;
    return byString(String(ka), String(kb));
  }
  if (a.deposed === b.deposed) return 0;
  if (a.deposed === null || b.deposed === null) return a.deposed === null ? -1 : 1;
  return byString(a.deposed, b.deposed);
}

/** What of the state a moved block's target can collide with: Terraform skips a move to an address the state holds already. */
interface Occupied {
  readonly instances: ReadonlySet<string>;
  readonly resources: ReadonlySet<string>;
  readonly modules: ReadonlySet<string>;
}

function occupiedBy(instances: readonly StateInstance[]): Occupied {
  const modules = new Set<string>();
  for (const i of instances) {
    const segments = i.modulePath.match(MODULE_SEGMENT) ?? [];
    for (let n = 1; n <= segments.length; n++) modules.add(segments.slice(0, n).join("."));
  }
  return {
    instances: new Set(instances.filter((i) => i.deposed === null).map(instanceAddress)),
    resources: new Set(instances.map(resourceAddress)),
    modules,
  };
}

/**
 * Whether the state holds the target already (Terraform's rule: an instance-level move needs the instance free,
 * a resource-level one the whole resource, a module-level one the module instance it lands on: measured, a whole
 * call `module.old` → `module.new` moves `module.old[0]` while the state holds `module.new[1]`, not while it holds `module.new[0]`).
 */
function blockedMove(i: StateInstance, source: string, block: MovedBlock, target: string, occupied: Occupied): boolean {
  if (source === instanceAddress(i)) return occupied.instances.has(target);
  if (source === resourceAddress(i)) return occupied.resources.has(block.to);
  return occupied.modules.has(block.to + leadingKey(target.slice(block.to.length)));
}

/** One moved block on an instance's way: the address of the instance it caught (`source`), and where it takes it. */
interface Hop {
  /** The instance as the block found it (the state's, or where the hop before took it). */
  readonly at: StateInstance;
  readonly block: MovedBlock;
  readonly source: string;
  readonly target: string;
}

/**
 * The moved blocks an instance goes through, in order, as Terraform 1.11.4 chains them (move_execute.go): the
 * most specific block catching it, then the block catching where that takes it, to the end of the chain (each
 * block once; the cycles Terraform refuses end there). `blocked`: the last hop's target is held by the state
 * already, so the instance stays where the hop before left it (measured: with `a` → `b` and `b` → `n`, a state
 * holding `a` and `b` has `b` moved to `n` and `a` destroyed; one holding `a` and `n` has `a` destroyed at `b`).
 */
function route(i: StateInstance, movedFrom: ReadonlyMap<string, MovedBlock>, occupied: Occupied): { hops: Hop[]; blocked: boolean } {
  const hops: Hop[] = [];
  for (let at: StateInstance | undefined = i; at !== undefined; ) {
    const here: StateInstance = at;
    const source = moveSources(here).find((s) => movedFrom.has(s));
    const block = source === undefined ? undefined : movedFrom.get(source)!;
    if (block === undefined || hops.some((h) => h.block === block)) break;
    // Resource- and module-level blocks keep the rest of the address (the index, or the path inside the module).
    const target = block.to + instanceAddress(here).slice(source!.length);
    hops.push({ at: here, block, source: source!, target });
    if (blockedMove(here, source!, block, target, occupied)) return { hops, blocked: true };
    at = instanceAt(target);
  }
  return { hops, blocked: false };
}

/** An instance's row, and why its key was not checked when the configuration decides it at plan time only. */
interface Classified {
  readonly row: InstanceRow;
  readonly keyNotChecked?: string;
}

function classifyInstance(
  i: StateInstance,
  config: StackConfig,
  way: ReturnType<typeof route>,
  occupied: Occupied,
  refused: ReadonlyMap<string, string>,
  chainedOn: (block: MovedBlock) => boolean,
): Classified {
  const stateAddress = instanceAddress(i);
  const row = (outcome: Outcome, configAddress: string | null, note: string): InstanceRow => ({
    stateAddress,
    deposed: i.deposed,
    outcome,
    configAddress,
    note,
  });
  // A key the configuration decides at plan time only: kept or moved by addresses, named in the note and in keysNotChecked.
  const judged = (outcome: Outcome, configAddress: string, note: string, verdict: KeyVerdict, prefix = ""): Classified => {
    if (verdict && "destroyed" in verdict) return { row: row("destroyed", configAddress, `${prefix}${verdict.destroyed}`) };
    if (!verdict) return { row: row(outcome, configAddress, note) };
    return { row: row(outcome, configAddress, `${note ? `${note}; ` : ""}key not checked: ${verdict.notChecked}`), keyNotChecked: verdict.notChecked };
  };
  if (i.deposed !== null) return { row: row("deposed", null, DEPOSED_NOTE) };
  if (!i.modulePath && config.resources.has(resourceAddress(i))) return judged("kept", stateAddress, "", keyVerdict(stateAddress, config, occupied.instances));

  if (way.hops.length > 0) {
    const { hops, blocked } = way;
    const { block, target } = hops[hops.length - 1];
    const kind = targetKind(block.to, config);
    const described = hops.map(({ at, block: b, source }) => {
      // A whole module call moves each instance under its own key: said, since that key decides its fate.
      const key = source !== resourceAddress(at) && source !== instanceAddress(at) ? leadingKey(instanceAddress(at).slice(source.length)) : "";
      const error = refused.get(b.from);
      return (
        `from \`${b.from}\`${hops.length > 1 ? ` to \`${b.to}\`` : ""}${key ? ` (the whole call: the instance keeps its key \`${key}\`)` : ""}` +
        (error === undefined ? "" : ` (refused by Terraform: ${error}; its plan fails, nothing moves)`)
      );
    });
    const via = hops.length === 1 ? `moved block ${described[0]}` : `a chain of moved blocks: ${described.join(", then ")}`;
    // A target the state holds is what stops a chain, also where it is no address of the configuration (the chain's middle).
    if (kind === "missing" && !(blocked && chainedOn(block))) return { row: row("destroyed", target, `${via}, whose target is not in the configuration`) };
    if (blocked) {
      const left = hops.length > 1 ? ` at \`${hops[hops.length - 2].target}\`, where the chain leaves it` : "";
      return { row: row("destroyed", target, `${via}, whose target the state holds already: Terraform does not move it there ("Unresolved resource instance address changes") and destroys it${left}`) };
    }
    if (kind === "hcl-module") return judged("moved", target, `${via}; into an HCL module (its contents are not checked)`, moduleKeyVerdict(target, config), `${via}; `);
    return judged("moved", target, via, movedKeyVerdict(target, config), `${via}; `);
  }

  const mod = topModuleName(i.modulePath);
  if (mod !== null && config.modules.has(mod)) return judged("hcl-module", `module.${mod}`, "module block kept: address unchanged", moduleKeyVerdict(stateAddress, config));
  const why = mod !== null ? `module \`module.${mod}\` is gone` : "not in the configuration";
  return { row: row("destroyed", null, `${why} and no moved block covers it`) };
}

/**
 * Classifies every managed instance of the state against the configuration.
 * `deployed`: the addresses the stack's configuration records as deployed (its `deployed`); a creation
 * of one is an error, except an expected creation (the ML worker fixes) against a state from before
 * the fixes (one that holds none of their resources).
 */
export function classify(
  state: ParsedState,
  config: StackConfig,
  deployed: readonly string[] = [],
  identities: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {},
): MigrationReport {
  // Terraform rejects two moved blocks with the same `from`; keep the first so the result stays deterministic.
  const movedFrom = new Map<string, MovedBlock>();
  for (const m of config.moved) if (!movedFrom.has(m.from)) movedFrom.set(m.from, m);

  const sorted = [...state.instances].sort(compareInstances);
  const occupied = occupiedBy(state.instances);
  // The moved blocks each current instance goes through (none for a root resource kept in place).
  const ways = sorted.map((i) => (i.deposed !== null || (!i.modulePath && config.resources.has(resourceAddress(i))) ? { hops: [], blocked: false } : route(i, movedFrom, occupied)));
  const sourcesInState = new Set(state.instances.flatMap(moveSources));
  // A block further down a chain moves what the block before brings it: no no-op, though its source is not in the state.
  const reached = new Set(ways.flatMap((w) => w.hops.map((h) => h.block.from)));
  const refusedBlocks = movedErrors(config.moved, config, (m) => sourcesInState.has(m.from) || reached.has(m.from));
  const refused = new Map<string, string>();
  for (const e of refusedBlocks) for (const b of e.blocks) if (!refused.has(b.from)) refused.set(b.from, e.error);

  // A block whose target another block's from catches whole is the middle of a chain.
  const chainedOn = (m: MovedBlock) => targetSources(m.to).some((s) => movedFrom.has(s) && movedFrom.get(s)!.from !== m.from);
  const classified = sorted.map((i, n) => classifyInstance(i, config, ways[n], occupied, refused, chainedOn));
  const instances = classified.map((c) => c.row);
  const keysNotChecked: KeyNotChecked[] = classified.flatMap(({ row, keyNotChecked }) =>
    keyNotChecked === undefined ? [] : [{ stateAddress: row.stateAddress, configAddress: row.configAddress!, why: keyNotChecked }],
  );
  const mismatches = identityMismatches(instances, sorted, identities);

  const sortedMoved = [...config.moved].sort((a, b) => byString(a.from, b.from) || byString(a.to, b.to));
  // A target instance its resource or module block does not make is missing too (its instances read destroyed).
  // The middle of a chain is no missing target: the target of the chain's last block is judged.
  const movedProblems: MovedProblem[] = sortedMoved.flatMap((m) => {
    if (chainedOn(m)) return [];
    const problem = targetKind(m.to, config) === "missing" ? "target is not in the configuration" : missingInstance(m, config);
    return problem === undefined ? [] : [{ ...m, problem }];
  });
  const noopMoved = sortedMoved.filter((m) => !sourcesInState.has(m.from) && !reached.has(m.from)).map(({ from, to }) => ({ from, to }));

  // A configuration resource is new unless a current state object is at its address or moves to it.
  const present = new Set<string>();
  for (const r of instances) {
    if (r.outcome !== "kept" && r.outcome !== "moved") continue;
    const root = r.configAddress === null ? null : rootResourceOf(r.configAddress);
    if (root !== null) present.add(root);
  }
  const beforeFixes = ![...present].some(isExpectedCreation);
  const creations: Creation[] = [...config.resources]
    .filter((a) => !present.has(a) && config.counts?.get(a) !== 0)
    .sort(byString)
    .map((address) => {
      const expected = isExpectedCreation(address) && (beforeFixes || !deployed.includes(address));
      if (!expected && deployed.includes(address)) return { address, expected, deployed: true, note: DEPLOYED_CREATION_NOTE };
      return { address, expected, deployed: false, note: expected ? EXPECTED_CREATION_NOTE : UNEXPECTED_CREATION_NOTE };
    });

  const count = (o: Outcome) => instances.filter((r) => r.outcome === o).length;
  const totals: Totals = {
    managedInstances: instances.length,
    kept: count("kept"),
    moved: count("moved"),
    inHclModule: count("hcl-module"),
    deposed: count("deposed"),
    destroyed: count("destroyed"),
    dataSourcesSkipped: state.dataInstanceCount,
    toBeCreated: creations.length,
    unexpectedCreations: creations.filter((c) => !c.expected && !c.deployed).length,
    deployedCreations: creations.filter((c) => c.deployed).length,
    keysNotChecked: keysNotChecked.length,
  };
  return {
    safe: totals.destroyed === 0 && movedProblems.length === 0 && refusedBlocks.length === 0 && totals.deployedCreations === 0 && mismatches.length === 0,
    safeBy: "addresses",
    notChecked: NOT_CHECKED_ITEMS,
    keysNotChecked,
    state: { terraformVersion: state.terraformVersion, serial: state.serial, lineage: state.lineage },
    instances,
    movedProblems,
    movedErrors: refusedBlocks,
    noopMoved,
    creations,
    identityMismatches: mismatches,
    totals,
  };
}

// ---------------------------------------------------------------- rendering

const OUTCOME_LABEL: Record<Outcome, string> = {
  kept: "kept",
  moved: "moved",
  "hcl-module": "in HCL module",
  deposed: "deposed",
  destroyed: "**DESTROYED**",
};

/** Inline code for a table cell; `|` would end the cell even inside backticks. */
const code = (s: string) => `\`${s.replace(/\|/g, "\\|")}\``;
const cell = (s: string) => s.replace(/\|/g, "\\|");

function displayAddress(r: Pick<InstanceRow, "stateAddress" | "deposed">): string {
  return r.deposed === null ? r.stateAddress : `${r.stateAddress} (deposed object ${r.deposed})`;
}

/** The report as Markdown, to paste in a pull request. */
export function renderMarkdown(report: MigrationReport): string {
  const { state, totals } = report;
  const lines: string[] = ["## Migration check: Terraform state → cdktf configuration", ""];
  const about = [
    state.serial !== null ? `serial ${state.serial}` : null,
    state.lineage !== null ? `lineage \`${state.lineage}\`` : null,
    state.terraformVersion !== null ? `written by Terraform ${state.terraformVersion}` : null,
  ].filter((s) => s !== null);
  lines.push(
    `State${about.length ? ` (${about.join(", ")})` : ""}: ${totals.managedInstances} managed resource instances; ` +
      `${totals.dataSourcesSkipped} data source instances skipped (data sources are read, never destroyed).`,
    "",
    "| state address | outcome | configuration address / module | note |",
    "|---|---|---|---|",
  );
  for (const r of report.instances) {
    const target = r.configAddress === null ? "—" : code(r.configAddress);
    lines.push(`| ${code(displayAddress(r))} | ${OUTCOME_LABEL[r.outcome]} | ${target} | ${cell(r.note)} |`);
  }

  lines.push("", "### Moved blocks with a missing target", "");
  if (report.movedProblems.length === 0) lines.push("None.");
  for (const m of report.movedProblems) lines.push(`- **error**: ${code(m.from)} → ${code(m.to)}: ${m.problem}`);

  if (report.movedErrors.length > 0) {
    lines.push("", "### Moved blocks Terraform refuses (its plan fails)", "");
    for (const e of report.movedErrors) lines.push(`- **error**: ${e.error}: ${e.blocks.map((b) => `${code(b.from)} → ${code(b.to)}`).join(", ")}: ${cell(e.detail)}`);
  }

  lines.push("", "### No-op moved blocks (source not in state)", "");
  if (report.noopMoved.length === 0) lines.push("None.");
  for (const m of report.noopMoved) lines.push(`- ${code(m.from)} → ${code(m.to)}: no-op: source not in state`);

  lines.push("", "### To be created", "");
  if (report.creations.length === 0) lines.push("None.");
  for (const c of report.creations) lines.push(`- ${code(c.address)}: ${c.note}`);

  if (report.identityMismatches.length > 0) {
    lines.push("", "### Not the deployed objects", "");
    for (const m of report.identityMismatches) {
      lines.push(`- **error**: ${code(m.stateAddress)} (to ${code(m.address)}): \`${m.field}\` is ${cell(JSON.stringify(m.state))} in the state, ${cell(JSON.stringify(m.deployed))} as recorded deployed`);
    }
  }

  if (report.keysNotChecked.length > 0) {
    lines.push("", "### Instance keys not checked", "");
    for (const k of report.keysNotChecked) lines.push(`- ${code(k.stateAddress)} (to ${code(k.configAddress)}): ${k.why}; \`npm run plan-check\` asks Terraform`);
  }

  const deposed = report.instances.filter((r) => r.outcome === "deposed");
  if (deposed.length > 0) {
    lines.push("", "### Deposed objects", "");
    for (const r of deposed) lines.push(`- ${code(displayAddress(r))}: ${DEPOSED_NOTE}`);
  }

  lines.push(
    "",
    "### Totals",
    "",
    "| kept | moved | in HCL module | deposed | destroyed | data sources skipped | to be created |",
    "|---|---|---|---|---|---|---|",
    `| ${totals.kept} | ${totals.moved} | ${totals.inHclModule} | ${totals.deposed} | ${totals.destroyed} | ` +
      `${totals.dataSourcesSkipped} | ${totals.toBeCreated} (${totals.unexpectedCreations} unexpected${totals.deployedCreations ? `, ${totals.deployedCreations} recorded as deployed` : ""}) |`,
    "",
    resultLine(report),
  );
  return lines.join("\n") + "\n";
}

function resultLine(report: MigrationReport): string {
  if (report.safe) {
    const warn = report.totals.unexpectedCreations;
    const keys = report.keysNotChecked.map((k) => code(k.stateAddress));
    const unjudged = keys.length ? `; ${keys.length} instance key(s) not checked (known at plan time only, or made inside an HCL module): ${keys.join(", ")}` : "";
    return `**Result: safe**: no instance is destroyed by the migration${warn ? `; ${warn} unexpected creation(s) to check` : ""}${unjudged}.\n\n${NOT_CHECKED}`;
  }
  const problems: string[] = [];
  if (report.movedErrors.length) {
    const named = report.movedErrors.map((e) => `${e.error} (${e.blocks.map((b) => `${code(b.from)} → ${code(b.to)}`).join(", ")})`);
    problems.push(`Terraform's plan would fail: it refuses the moved blocks (${report.movedErrors.length} error(s): ${named.join("; ")}), so it plans nothing`);
  }
  const destroyed = report.instances.filter((r) => r.outcome === "destroyed").map((r) => code(r.stateAddress));
  if (destroyed.length) problems.push(`${destroyed.length} instance(s) destroyed: ${destroyed.join(", ")}`);
  const missing = report.movedProblems.map((m) => code(m.to));
  if (missing.length) problems.push(`${missing.length} moved block(s) to a missing target: ${missing.join(", ")}`);
  const again = report.creations.filter((c) => c.deployed).map((c) => code(c.address));
  if (again.length) problems.push(`${again.length} resource(s) recorded as deployed but not in this state, to be created again: ${again.join(", ")}`);
  const other = [...new Set(report.identityMismatches.map((m) => code(m.address)))];
  if (other.length) {
    problems.push(
      `${other.length} resource(s) whose state object is not the one recorded as deployed (another name in the state: another stack's state, or \`deployed\` out of date; a deploy would replace them): ${other.join(", ")}`,
    );
  }
  return `**Result: NOT SAFE**: ${problems.join("; ")}.`;
}

/** The `--json` output (see MigrationReport for the shape). */
export function renderJson(report: MigrationReport): string {
  return JSON.stringify(report, null, 2) + "\n";
}
