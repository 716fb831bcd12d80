// Reading a synthesized Terraform JSON document (`{ resource: { <type>: { <name>: attrs } }, data, ... }`)
// for the policy checks. `//` metadata keys are ignored wherever they appear.

export type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** `[name, attrs]` of every resource (or data source, with kind "data") of a type, by name. */
export function entries(doc: Json, type: string, kind: "resource" | "data" = "resource"): [string, Json][] {
  const byType = doc[kind];
  if (!isObject(byType)) return [];
  const byName = byType[type];
  if (!isObject(byName)) return [];
  return Object.keys(byName)
    .filter((name) => name !== "//" && isObject(byName[name]))
    .sort()
    .map((name) => [name, byName[name] as Json]);
}

/** A nested block as a list (cdktf writes single blocks as objects, repeated ones as arrays). */
export function blocks(v: unknown): Json[] {
  if (Array.isArray(v)) return v.filter(isObject);
  return isObject(v) ? [v] : [];
}

export const isTrue = (v: unknown): boolean => v === true || v === "true";
export const isFalse = (v: unknown): boolean => v === false || v === "false";

export function toNumber(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && /^-?\d+$/.test(v.trim())) return Number(v);
  return undefined;
}

/** A string that is set to something (a literal or a reference). */
export const isSet = (v: unknown): boolean => typeof v === "string" && v.trim() !== "";

export function strings(v: unknown): string[] {
  if (typeof v === "string") return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}
