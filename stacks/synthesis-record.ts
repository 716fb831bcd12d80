// Which sources gave which cdk.tf.json, by content (not modification time): `npm run synth` writes the
// record beside each stack's cdk.tf.json (synthesis.json), plan-check in its own folder, and a command
// that is given a file inside cdktf.out judges it only when its record matches the sources as they are.
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

/** The project folder (where package.json is), from this file in stacks/ or dist/stacks/. */
export const PROJECT_ROOT = (() => {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "package.json"))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(__dirname, "..");
  }
})();

/** What the synthesized Terraform is made from. */
const SYNTH_SOURCES = ["main.ts", "cdktf.json", "package-lock.json", "config", "modules", "stacks", "policy"];

/** The record's file name: beside cdk.tf.json (npm run synth) or in plan-check's folder. */
export const SYNTHESIS_RECORD = "synthesis.json";

export interface SynthesisSources {
  /** One digest of them all. */
  readonly digest: string;
  /** Each file (relative to the project, sorted) and its sha256. */
  readonly files: readonly { readonly file: string; readonly sha256: string }[];
}

export interface SynthesisRecord {
  readonly stack: string;
  /** The synthesized file and its sha256, and the sha256 of each asset it reads (relative to its folder). */
  readonly output: { readonly file: string; readonly sha256: string; readonly assets?: Readonly<Record<string, string>> };
  /** The sources hashed. */
  readonly sources: SynthesisSources;
}

export const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");

/** Every file the synthesized Terraform is made from (the compute templates included), with its sha256, and one digest of them all. */
export function synthesisSources(root = PROJECT_ROOT): SynthesisSources {
  const files: { file: string; sha256: string }[] = [];
  const visit = (rel: string): void => {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(path.join(root, rel));
    } catch {
      return;
    }
    if (stat.isDirectory()) for (const entry of fs.readdirSync(path.join(root, rel)).sort()) visit(path.join(rel, entry));
    else files.push({ file: rel.split(path.sep).join("/"), sha256: sha256(fs.readFileSync(path.join(root, rel))) });
  };
  for (const source of [...SYNTH_SOURCES].sort()) visit(source);
  return { files, digest: sha256(files.map((f) => `${f.sha256}  ${f.file}\n`).join("")) };
}

/** The `assets/...` paths a synthesized stack reads (cdktf assets: the compute templates), sorted. */
export function assetPaths(config: unknown): string[] {
  const found = new Set<string>();
  const visit = (v: unknown) => {
    if (typeof v === "string") for (const m of v.matchAll(/(?<![\w./-])assets\/[\w.\-/]+/g)) found.add(m[0]);
    else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === "object") Object.values(v).forEach(visit);
  };
  visit(config);
  return [...found].sort();
}

/** The sha256 of every asset the synthesized stack reads (relative paths under its folder), or undefined when one is missing. */
export function assetHashes(text: string, stackDir: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  const visit = (rel: string): boolean => {
    let st: fs.Stats;
    try {
      st = fs.statSync(path.join(stackDir, rel));
    } catch {
      return false;
    }
    if (st.isDirectory()) return fs.readdirSync(path.join(stackDir, rel)).sort().every((e) => visit(path.join(rel, e)));
    out[rel] = sha256(fs.readFileSync(path.join(stackDir, rel)));
    return true;
  };
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch {
    return undefined;
  }
  return assetPaths(config).every(visit) ? out : undefined;
}

/** Writes the record of `stack`'s synthesized `file` (its assets beside it) into `dir`, atomically. */
export function writeSynthesisRecord(dir: string, stack: string, file: string, shownFile: string, sources: SynthesisSources): void {
  const text = fs.readFileSync(file, "utf8");
  const record: SynthesisRecord = { stack, output: { file: shownFile, sha256: sha256(text), assets: assetHashes(text, path.dirname(file)) ?? {} }, sources };
  const tmp = path.join(dir, `${SYNTHESIS_RECORD}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, JSON.stringify(record, null, 1));
  fs.renameSync(tmp, path.join(dir, SYNTHESIS_RECORD));
}

/**
 * Whether `file` (a stack's synthesized cdk.tf.json) is what the sources give now, by the record in `dir`:
 * the same stack, the same sources, the same output and assets, all by content. Otherwise why not.
 */
export function synthesisFreshness(dir: string, stack: string, file: string, sources: SynthesisSources): { fresh: true; text: string } | { fresh: false; why: string } {
  let record: SynthesisRecord;
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return { fresh: false, why: "it cannot be read" };
  }
  try {
    record = JSON.parse(fs.readFileSync(path.join(dir, SYNTHESIS_RECORD), "utf8")) as SynthesisRecord;
  } catch {
    return { fresh: false, why: `no record of the sources that made it (${SYNTHESIS_RECORD} beside it, which npm run synth writes)` };
  }
  if (record.stack !== stack) return { fresh: false, why: `its record is of the stack '${record.stack}'` };
  if (record.output?.sha256 !== sha256(text)) return { fresh: false, why: "it was changed after it was synthesized" };
  if (record.sources?.digest !== sources.digest) {
    const before = new Map((record.sources?.files ?? []).map((f) => [f.file, f.sha256]));
    const now = new Map(sources.files.map((f) => [f.file, f.sha256]));
    const changed = [...new Set([...before.keys(), ...now.keys()])].filter((f) => before.get(f) !== now.get(f)).sort();
    return { fresh: false, why: `the sources changed since it was synthesized (${changed.slice(0, 3).join(", ")}${changed.length > 3 ? `, and ${changed.length - 3} more` : ""})` };
  }
  // The files the stack reads beside it (the compute templates), each as recorded.
  const assets = assetHashes(text, path.dirname(file));
  const recorded = record.output.assets ?? {};
  const same = assets !== undefined && Object.keys(assets).length === Object.keys(recorded).length && Object.entries(assets).every(([a, h]) => recorded[a] === h);
  return same ? { fresh: true, text } : { fresh: false, why: "the assets beside it are not the ones synthesized with it" };
}
