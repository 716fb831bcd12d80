// The state copy an offline plan reads: without what is pinned, and fitted to the installed
// provider's schema (attributes it does not know dropped, each change a line for the report).
import { BlockShape, JsonObject, Pin, RawResource, RawState, SchemaSummary, full, providerOf } from "./model";

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
