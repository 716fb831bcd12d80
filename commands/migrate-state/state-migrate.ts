// migrate-state's judgement, without Terraform: which moved blocks apply to a
// state, whether a target is taken, and whether the copy Terraform moved is
// the same state at the new addresses (and its plan the same plan without
// the moves). Pure functions; commands/migrate-state/index.ts runs Terraform.
import { InputError } from "../../lib/cli";
import { MovedBlock, parseStack } from "../../lib/migration";
import { movedErrors } from "../../lib/migration-moved";
import { PlanJson, ResourceChange } from "../../lib/plan/judge";
import { Json, RawInstance, RawResource, RawState } from "../../lib/plan/workspace";

/** A moved block whose object is in the state: one `terraform state mv` call. */
export interface PlannedMove {
  readonly from: string;
  readonly to: string;
  /** The instances it takes, state address → new address (a resource move keeps the index key). */
  readonly instances: readonly { readonly from: string; readonly to: string }[];
}

export interface MovePlan {
  readonly moves: PlannedMove[];
  /** Moved blocks whose source is not in the state (already applied, or optional): Terraform's no-ops. */
  readonly absent: MovedBlock[];
  /** Of those, the ones whose target is in the state (applied already); the others hold neither (not created yet, or another state). */
  readonly applied: number;
}

// ---------------------------------------------------------------- addresses

/** `module.a.aws_x.y` or `module.a.data.aws_x.y` of a state resource. */
export function resourceAddressOf(r: Pick<RawResource, "module" | "mode" | "type" | "name">): string {
  return `${r.module ? `${r.module}.` : ""}${r.mode === "data" ? "data." : ""}${r.type}.${r.name}`;
}

const keySuffix = (key: RawInstance["index_key"]) => (key === undefined ? "" : typeof key === "number" ? `[${key}]` : `[${JSON.stringify(key)}]`);

/** The address Terraform prints for an instance (`aws_x.y[0]`, `aws_x.y["a"]`). */
export function instanceAddressOf(r: RawResource, i: RawInstance): string {
  return resourceAddressOf(r) + keySuffix(i.index_key);
}

/** A resource or resource-instance address: its resource part and, if any, its index (`[0]`, `["a"]`). */
export function splitAddress(address: string): { resource: string; index: string } | undefined {
  const m = /^((?:module\.[A-Za-z0-9_-]+(?:\[(?:\d+|"(?:[^"\\]|\\.)*")\])?\.)*(?!module\.)(?:data\.)?[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)((?:\[(?:\d+|"(?:[^"\\]|\\.)*")\])?)$/.exec(address);
  return m ? { resource: m[1], index: m[2] } : undefined;
}

/** `{ instance → its entry }` of every object in a state; a deposed object is `<address> (deposed <id>)`. */
export function stateObjects(state: RawState): Map<string, { resource: RawResource; instance: RawInstance }> {
  const out = new Map<string, { resource: RawResource; instance: RawInstance }>();
  for (const resource of state.resources) {
    for (const instance of resource.instances) {
      const address = instanceAddressOf(resource, instance);
      out.set(instance.deposed ? `${address} (deposed ${instance.deposed})` : address, { resource, instance });
    }
  }
  return out;
}

// ---------------------------------------------------------------- which moves

/**
 * Refuses (InputError, exit 2) a stack whose moved blocks Terraform refuses to plan (lib/migration-moved.ts: two
 * sources for one target, a source still declared, ...): the gate's plan would fail after the moves, and `state mv`
 * would have applied some of them first. A move across resource types is refused whatever the state holds.
 */
export function refuseMovesTerraformRefuses(stackText: string, stack: string): void {
  const config = parseStack(stackText, `stack '${stack}'`);
  const refused = movedErrors(config.moved, config);
  if (refused.length === 0) return;
  throw new InputError(
    `refusing to migrate: Terraform refuses the moved blocks of stack '${stack}' and plans nothing (${refused.length} error(s)):\n` +
      refused.map((e) => `  - ${e.error}: ${e.blocks.map((b) => `${b.from} → ${b.to}`).join(", ")}: ${e.detail}`).join("\n") +
      "\nNothing was written. Correct stacks/moves.ts (npm run migration-check names the same errors).",
  );
}

/**
 * The moves to apply: every moved block whose source is in the state, in the
 * configuration's order. Refuses (InputError, exit 2) a target already in the
 * state, a chain (a target another block's source catches), anything but
 * resource or resource-instance addresses, and an instance move out of a
 * resource whose other instances no block moves (they would stay behind).
 */
export function planMoves(state: RawState, given: readonly MovedBlock[]): MovePlan {
  // The same block written twice is one move, as Terraform plans it (`state mv` would run twice, and fail).
  const moved = given.filter((m, n) => given.findIndex((x) => x.from === m.from && x.to === m.to) === n);
  const managed = state.resources.filter((r) => r.mode === "managed");
  const byResource = new Map<string, RawResource>(managed.map((r) => [resourceAddressOf(r), r]));
  const sources = new Set(moved.map((m) => m.from));
  // A chain: another block catches what this one brings, as Terraform chains them (the same address; an instance of
  // a whole-resource target, `a` → `b` then `b[0]` → `c`; the resource of an instance target, `a[0]` → `b[0]` then `b` → `c`).
  const chained = (m: MovedBlock, to: { resource: string; index: string }) =>
    moved.some((n) => n !== m && (n.from === m.to || (to.index === "" ? splitAddress(n.from)?.resource === to.resource : n.from === to.resource)));
  const moves: PlannedMove[] = [];
  const absent: MovedBlock[] = [];
  const taken: string[] = [];
  const leftBehind: string[] = [];
  let applied = 0;
  for (const m of moved) {
    const from = splitAddress(m.from);
    const to = splitAddress(m.to);
    if (!from || !to) throw new InputError(`moved block ${m.from} → ${m.to}: migrate-state moves resources and resource instances, not modules`);
    if (chained(m, to)) throw new InputError(`moved blocks ${m.from} → ${m.to} → …: a chain of moves; migrate-state applies one move per object`);
    const resource = byResource.get(from.resource);
    const instances = (resource?.instances ?? []).filter((i) => !from.index || keySuffix(i.index_key) === from.index);
    const occupant = byResource.get(to.resource);
    if (!resource || instances.length === 0) {
      absent.push({ from: m.from, to: m.to });
      if (occupant?.instances.some((i) => !to.index || keySuffix(i.index_key) === to.index)) applied++;
      continue;
    }
    const occupied = occupant?.instances.filter((i) => !to.index || !from.index || keySuffix(i.index_key) === to.index) ?? [];
    if (occupied.length > 0) {
      taken.push(`moved block ${m.from} → ${m.to}: ${occupied.map((i) => instanceAddressOf(occupant!, i)).join(", ")} is already in the state`);
      continue;
    }
    // The table's instance moves take a counted resource's only instance (the HCL counts it 0 or 1): another one
    // would stay at the source, where the copy's check (a move keeps the rest of an address) could not place it.
    if (from.index) {
      const others = resource.instances.filter((i) => keySuffix(i.index_key) !== from.index && !sources.has(instanceAddressOf(resource, i)));
      if (others.length > 0) {
        const named = others.map((i) => `${instanceAddressOf(resource, i)}${i.deposed ? ` (deposed ${i.deposed})` : ""}`);
        leftBehind.push(`moved block ${m.from} → ${m.to} takes ${from.index} alone out of ${from.resource}; the state holds ${named.join(", ")} too, which no moved block takes`);
        continue;
      }
    }
    moves.push({
      from: m.from,
      to: m.to,
      instances: instances
        .filter((i) => !i.deposed)
        .map((i) => ({ from: instanceAddressOf(resource, i), to: from.index ? m.to : m.to + keySuffix(i.index_key) })),
    });
  }
  if (taken.length) {
    throw new InputError(
      `refusing to migrate: ${taken.length} move target(s) already taken, Terraform would refuse to move there and the state holds two objects for one address:\n` +
        taken.map((t) => `  - ${t}`).join("\n") +
        "\nNothing was written. Find out how the target got there (a partial earlier migration? an import?) before anything else.",
    );
  }
  if (leftBehind.length) {
    throw new InputError(
      `refusing to migrate: ${leftBehind.length} moved block(s) take one instance out of a resource whose other instances would stay behind:\n` +
        leftBehind.map((t) => `  - ${t}`).join("\n") +
        "\nThe stack moves one instance of a resource only where the HCL counts it 0 or 1, so [0] is its only instance: another one is not what that configuration makes, " +
        "and migrate-state cannot verify a copy where part of a resource moved. Nothing was written. Find out where it came from (terraform state show '<address>'); " +
        "npm run plan-check shows what Terraform would do to it.",
    );
  }
  return { moves, absent, applied };
}

// ---------------------------------------------------------------- the copy, checked

export interface StateCheck {
  readonly ok: boolean;
  readonly problems: string[];
  /** Instance moves, as found in the copy. */
  readonly moved: readonly { readonly from: string; readonly to: string }[];
  /** Managed instances at the same address (current objects). */
  readonly kept: number;
  /** Deposed objects (at the same or a moved address). */
  readonly deposed: number;
  /** Data source instances (never moved). */
  readonly dataSources: number;
  readonly serial: { readonly before: number; readonly after: number };
  readonly terraformVersion: { readonly before: string | undefined; readonly after: string | undefined };
  /** Instances whose dependency list Terraform emptied because it named a moved object. */
  readonly dependenciesCleared: readonly string[];
}

/** JSON with every object's keys sorted: equal values, equal text. */
export const canonical = (v: unknown): string => JSON.stringify(sortKeys(v));
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object") return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  return v;
}

/**
 * The copy after Terraform's moves against the state as read: the same
 * objects (every field: attributes, sensitive paths, private data, schema
 * version, …) at their new addresses, nothing else added or lost, the same
 * lineage and outputs, the serial raised once per `state mv` call.
 * Dependencies: Terraform's `state mv` empties the list of every object that
 * named a moved address (hashicorp/terraform#23791: it is recomputed from the
 * configuration at the next plan); any other list must be unchanged.
 */
export function checkMigratedState(original: RawState, migrated: RawState, moves: readonly PlannedMove[], calls: number): StateCheck {
  const problems: string[] = [];
  if (migrated.lineage !== original.lineage) problems.push(`lineage changed: ${original.lineage} → ${migrated.lineage}`);
  const before = original.serial ?? 0;
  const after = migrated.serial ?? 0;
  if (after !== before + calls) problems.push(`serial ${before} → ${after}; expected ${before + calls} (one write per terraform state mv, ${calls} call(s))`);
  for (const key of ["version", "outputs", "check_results"]) {
    if (canonical(original[key] ?? null) !== canonical(migrated[key] ?? null)) problems.push(`${key} changed`);
  }
  const otherKeys = new Set([...Object.keys(original), ...Object.keys(migrated)]);
  for (const key of ["version", "terraform_version", "serial", "lineage", "outputs", "resources", "check_results"]) otherKeys.delete(key);
  for (const key of otherKeys) if (canonical(original[key] ?? null) !== canonical(migrated[key] ?? null)) problems.push(`${key} changed`);

  const target = new Map<string, string>();
  for (const m of moves) for (const i of m.instances) target.set(i.from, i.to);
  const movedResources = new Set(moves.map((m) => splitAddress(m.from)!.resource));
  const movedResourceOf = new Map(moves.map((m) => [splitAddress(m.from)!.resource, splitAddress(m.to)!.resource]));
  const newAddress = (resourceAddress: string, address: string) => {
    const exact = target.get(address);
    if (exact) return exact;
    const to = movedResourceOf.get(resourceAddress);
    return to ? to + address.slice(resourceAddress.length) : address;
  };

  const a = stateObjects(original);
  const b = stateObjects(migrated);
  const seen = new Set<string>();
  const moved: { from: string; to: string }[] = [];
  const cleared: string[] = [];
  let kept = 0;
  let deposed = 0;
  let dataSources = 0;
  for (const [key, { resource, instance }] of a) {
    const [address, deposedPart = ""] = key.split(" (deposed ");
    const to = newAddress(resourceAddressOf(resource), address);
    const toKey = deposedPart ? `${to} (deposed ${deposedPart}` : to;
    const found = b.get(toKey);
    if (!found) {
      problems.push(`${key}: not in the copy${to !== address ? ` at ${to}` : ""}`);
      continue;
    }
    seen.add(toKey);
    if (found.resource.provider !== resource.provider) problems.push(`${key}: provider ${resource.provider} → ${found.resource.provider}`);
    // A field of the resource Terraform 1.11 does not know (a newer Terraform's) is dropped when it writes: name it.
    // The address fields differ by design; `each` Terraform no longer writes (it comes from the configuration).
    for (const field of new Set([...Object.keys(resource), ...Object.keys(found.resource)])) {
      if (["instances", "module", "mode", "type", "name", "provider", "each"].includes(field)) continue;
      if (canonical(resource[field as keyof RawResource] ?? null) !== canonical(found.resource[field as keyof RawResource] ?? null)) {
        problems.push(`${key}: its resource's ${field} changed in the copy`);
      }
    }
    const { dependencies: depsBefore, index_key: _k1, ...restBefore } = instance;
    const { dependencies: depsAfter, index_key: _k2, ...restAfter } = found.instance;
    for (const field of new Set([...Object.keys(restBefore), ...Object.keys(restAfter)])) {
      if (canonical(restBefore[field] ?? null) !== canonical(restAfter[field] ?? null)) problems.push(`${key}: its ${field} changed in the copy`);
    }
    const namedMoved = (depsBefore as string[] | undefined)?.some((d) => movedResources.has(d)) ?? false;
    if (canonical(depsBefore ?? []) !== canonical(depsAfter ?? [])) {
      if (namedMoved && (depsAfter === undefined || (depsAfter as string[]).length === 0)) cleared.push(to);
      else problems.push(`${key}: dependencies changed in the copy (${JSON.stringify(depsBefore ?? [])} → ${JSON.stringify(depsAfter ?? [])})`);
    }
    const stale = ((depsAfter as string[] | undefined) ?? []).filter((d) => movedResources.has(d));
    if (stale.length) problems.push(`${to}: its dependencies still name ${stale.join(", ")}, which moved`);
    if (instance.deposed) deposed++;
    else if (resource.mode === "data") dataSources++;
    else if (to !== address) moved.push({ from: address, to });
    else kept++;
  }
  for (const key of b.keys()) if (!seen.has(key)) problems.push(`${key}: in the copy, not in the state as read`);
  const expected = moves.flatMap((m) => m.instances);
  for (const e of expected) if (!moved.some((x) => x.from === e.from && x.to === e.to)) problems.push(`${e.from} was to move to ${e.to}; the copy does not show it`);
  return {
    ok: problems.length === 0,
    problems,
    moved,
    kept,
    deposed,
    dataSources,
    serial: { before, after },
    terraformVersion: { before: original.terraform_version, after: migrated.terraform_version },
    dependenciesCleared: cleared.sort(),
  };
}

// ---------------------------------------------------------------- the two plans

export interface PlanComparison {
  readonly ok: boolean;
  readonly problems: string[];
  /** Addresses planned the same way in both plans. */
  readonly equal: number;
  /** Moves the plan against the original shows (gone from the plan against the copy). */
  readonly movesBefore: number;
  /** Moves the plan against the copy still shows: must be none. */
  readonly movesLeft: readonly string[];
  /** Of the dependency lists `state mv` emptied: those the plan against the copy recomputed from the configuration, */
  readonly dependenciesRecomputed: readonly string[];
  /** those planned as no-ops whose configuration names no dependency, */
  readonly dependenciesNoneConfigured: readonly string[];
  /** those the plan changes (update, replace): their apply writes them, */
  readonly dependenciesAtApply: readonly string[];
  /** and those not planned (left out with --exclude): recomputed by the next plan that includes them. */
  readonly dependenciesNotPlanned: readonly string[];
}

type PriorResource = { address: string; depends_on?: string[]; deposed_key?: string };

function priorResources(plan: PlanJson & { prior_state?: any }): PriorResource[] {
  const out: PriorResource[] = [];
  const walk = (m: any) => {
    for (const r of m?.resources ?? []) out.push(r as PriorResource);
    for (const c of m?.child_modules ?? []) walk(c);
  };
  walk(plan.prior_state?.values?.root_module);
  return out;
}

/**
 * The plan against the copy against the plan against the original: no move
 * left, and at every address the same actions, values (before, after,
 * unknown, sensitive) and replace paths; the same output changes. The
 * original's moves are the only thing allowed to differ (`previous_address`).
 */
export function comparePlansAfterMigration(
  original: PlanJson & Record<string, any>,
  migrated: PlanJson & Record<string, any>,
  moves: readonly PlannedMove[],
  cleared: readonly string[] = [],
): PlanComparison {
  const problems: string[] = [];
  const key = (c: ResourceChange) => (c.deposed ? `${c.address} (deposed ${c.deposed})` : c.address);
  const strip = (c: ResourceChange) => {
    const { previous_address: _p, ...rest } = c as ResourceChange & Record<string, Json>;
    return canonical(rest);
  };
  const a = new Map((original.resource_changes ?? []).map((c) => [key(c), c]));
  const b = new Map((migrated.resource_changes ?? []).map((c) => [key(c), c]));
  const movesLeft = [...b.values()].filter((c) => c.previous_address).map((c) => `${c.previous_address} → ${c.address}`);
  if (movesLeft.length) problems.push(`the plan against the copy still moves ${movesLeft.join(", ")}`);
  let equal = 0;
  for (const [k, c] of b) {
    const o = a.get(k);
    if (!o) problems.push(`${k}: planned against the copy (${c.change.actions.join(",")}), not against the original`);
    else if (strip(o) !== strip(c)) {
      const fields = ["actions", "before", "after", "after_unknown", "before_sensitive", "after_sensitive", "replace_paths"].filter(
        (f) => canonical((o.change as Record<string, unknown>)[f] ?? null) !== canonical((c.change as Record<string, unknown>)[f] ?? null),
      );
      problems.push(`${k}: planned differently against the copy (${fields.join(", ") || "action_reason or type"})`);
    } else equal++;
  }
  for (const k of a.keys()) if (!b.has(k)) problems.push(`${k}: planned against the original, not against the copy`);
  if (canonical(original.output_changes ?? {}) !== canonical(migrated.output_changes ?? {})) problems.push("the output changes differ");
  const movesBefore = [...a.values()].filter((c) => c.previous_address).length;
  if (movesBefore !== moves.flatMap((m) => m.instances).length) {
    problems.push(`the plan against the original shows ${movesBefore} move(s); migrate-state moved ${moves.flatMap((m) => m.instances).length}`);
  }
  const old = new Set(moves.map((m) => splitAddress(m.from)!.resource));
  const prior = priorResources(migrated);
  for (const r of prior) {
    const stale = (r.depends_on ?? []).filter((d) => old.has(d));
    if (stale.length) problems.push(`${r.address}: the plan against the copy still records dependencies on ${stale.join(", ")}`);
  }
  const recomputed: string[] = [];
  const noneConfigured: string[] = [];
  const atApply: string[] = [];
  for (const c of cleared.filter((x) => b.has(x))) {
    // Terraform writes a no-op's configured dependencies at plan time; a changed object's, when it is applied.
    if (b.get(c)!.change.actions.join(",") !== "no-op") atApply.push(c);
    else ((prior.find((p) => p.address === c && !p.deposed_key)?.depends_on ?? []).length > 0 ? recomputed : noneConfigured).push(c);
  }
  return {
    ok: problems.length === 0,
    problems,
    equal,
    movesBefore,
    movesLeft,
    dependenciesRecomputed: recomputed.sort(),
    dependenciesNoneConfigured: noneConfigured.sort(),
    dependenciesAtApply: atApply.sort(),
    dependenciesNotPlanned: cleared.filter((c) => !b.has(c)).sort(),
  };
}
