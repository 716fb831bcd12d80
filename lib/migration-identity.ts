// The state given must be the deployed stack's: the configuration records what is deployed (`deployed`:
// a name per stateful resource). Another stack's state (staging's, with the same addresses) would read
// "kept" throughout, while a deploy would replace every one of them to take production's names. Only names:
// a recorded AMI that differs is a replacement of this stack's own host (the pre-fix state's), plan-check's to say.
import type { InstanceRow, StateInstance } from "./migration";

export interface IdentityMismatch {
  /** The configuration address recorded as deployed. */
  readonly address: string;
  /** The state instance at or moving to it. */
  readonly stateAddress: string;
  readonly field: string;
  /** The value in the state (null when absent). */
  readonly state: unknown;
  /** The value recorded as deployed. */
  readonly deployed: unknown;
}

/** The recorded fields compared: what names an object, and so tells whose it is. */
export const IDENTITY_FIELDS: readonly string[] = ["name"];

/** Each recorded name that differs in the state object kept at, or moved to, its address. */
export function identityMismatches(
  rows: readonly InstanceRow[],
  instances: readonly StateInstance[],
  identities: Readonly<Record<string, Readonly<Record<string, unknown>>>>,
): IdentityMismatch[] {
  const out: IdentityMismatch[] = [];
  for (const address of Object.keys(identities).sort()) {
    const row = rows.find((r) => r.deposed === null && (r.outcome === "kept" || r.outcome === "moved") && r.configAddress === address);
    if (!row) continue; // not in this state: a creation, judged as such
    const n = rows.indexOf(row);
    const attributes = instances[n]?.attributes ?? {};
    for (const [field, deployed] of Object.entries(identities[address]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (!IDENTITY_FIELDS.includes(field) || typeof deployed !== "string") continue;
      const state = attributes[field] ?? null;
      if (state !== deployed) out.push({ address, stateAddress: row.stateAddress, field, state, deployed });
    }
  }
  return out;
}
