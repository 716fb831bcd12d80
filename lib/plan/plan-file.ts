// What a saved Terraform plan file holds beside the plan: it is a zip archive, and Terraform keeps in it
// the configuration it planned (`tfconfig/m-/<file>` for the root module), which it applies as saved.
// deploy --plan reads the root module's files from there, so the plan is bound to the sources it applies
// by its own content, not by what report.json says; and, from the `tfplan` entry (Terraform's planfile
// protobuf, format version 3), the plan's -target addresses (`target_addrs`, field 5) and the workspace
// it was planned in (`backend`, field 13: `{ type = 1, config = 2, workspace = 3 }`).
import type * as Fflate from "fflate";

/** The files of a zip archive, by name (fflate's reader). Throws on what is not one. */
export function zipEntries(zip: Buffer): Map<string, Buffer> {
  // Loaded here: the cdktf wrapper imports this file and loads nothing from node_modules before its state check.
  const { unzipSync } = require("fflate") as typeof Fflate;
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip);
  } catch (e) {
    throw new Error(`not a zip archive: ${(e as Error).message}`);
  }
  return new Map(Object.entries(files).map(([name, data]) => [name, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

/** The root module's files in a saved plan, by file name (`cdk.tf.json`). */
export function plannedRootFiles(planFile: Buffer): Map<string, Buffer> {
  const root = "tfconfig/m-/";
  return new Map([...zipEntries(planFile)].filter(([name]) => name.startsWith(root)).map(([name, data]) => [name.slice(root.length), data]));
}

/** A protobuf message's top-level fields: number → values (a varint as a number, a length-delimited field as bytes). */
function protobufFields(b: Buffer): Map<number, (number | Buffer)[]> {
  const out = new Map<number, (number | Buffer)[]>();
  let i = 0;
  const varint = () => {
    let value = 0;
    let scale = 1;
    for (;;) {
      if (i >= b.length) throw new Error("a truncated protobuf message");
      const c = b[i++];
      value += (c & 0x7f) * scale;
      scale *= 128;
      if (c < 0x80) return value;
    }
  };
  while (i < b.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    let value: number | Buffer;
    if (wire === 0) value = varint();
    else if (wire === 2) {
      const length = varint();
      if (i + length > b.length) throw new Error("a truncated protobuf message");
      value = b.subarray(i, i + length);
      i += length;
    } else if (wire === 1 || wire === 5) {
      value = b.subarray(i, i + (wire === 1 ? 8 : 4));
      i += wire === 1 ? 8 : 4;
    } else throw new Error(`protobuf wire type ${wire}`);
    // Appended in place: a copy of the list for each value made a field repeated n times cost n² (a plan's
    // thousands of resource changes or relevant attributes; 40,000 values took 14 s).
    const values = out.get(field);
    if (values) values.push(value);
    else out.set(field, [value]);
  }
  return out;
}

/** The format version of a saved plan's `tfplan` entry this reads (Terraform 1.x's). */
export const PLANFILE_VERSION = 3;

/** The top-level fields of a saved plan's `tfplan` entry, in the format version read here. Throws on what it cannot read. */
function tfplanFields(planFile: Buffer): Map<number, (number | Buffer)[]> {
  const tfplan = zipEntries(planFile).get("tfplan");
  if (!tfplan) throw new Error("no tfplan entry");
  const fields = protobufFields(tfplan);
  const version = fields.get(1)?.[0];
  if (version !== PLANFILE_VERSION) throw new Error(`its tfplan format version is ${version ?? "missing"}, not ${PLANFILE_VERSION}, the one read here`);
  return fields;
}

const text = (v: number | Buffer) => (Buffer.isBuffer(v) ? v.toString("utf8") : String(v));

/** The -target addresses a saved plan was made with (none for a plan of everything). Throws on what it cannot read. */
export function plannedTargets(planFile: Buffer): string[] {
  return (tfplanFields(planFile).get(5) ?? []).map(text);
}

/** The Terraform workspace a saved plan was made in (its backend's `workspace`). Throws on what it cannot read. */
export function plannedWorkspace(planFile: Buffer): string {
  const backend = tfplanFields(planFile).get(13)?.[0];
  if (!Buffer.isBuffer(backend)) throw new Error("its tfplan records no backend");
  const workspace = protobufFields(backend).get(3)?.[0];
  // Terraform always writes it (`default` at least): an empty one is no plan of its.
  if (workspace === undefined || text(workspace) === "") throw new Error("its tfplan records no workspace");
  return text(workspace);
}
