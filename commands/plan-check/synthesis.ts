// Never a stale cdktf.out: plan-check records which sources gave which cdk.tf.json (by content,
// not modification time) and synthesizes again unless the record says the output is fresh.

import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { Json, assetPaths } from "../../lib/plan/workspace";

/** What plan-check records of a synthesis, in its folder: which sources gave which cdk.tf.json. */
export const SYNTHESIS_RECORD = "synthesis.json";

export interface SynthesisRecord {
  readonly stack: string;
  /** The synthesized file (relative to the checkout) and its sha256. */
  readonly output: { readonly file: string; readonly sha256: string; readonly assets?: Readonly<Record<string, string>> };
  /** The sources (relative to the project) hashed, and one digest of them all. */
  readonly sources: { readonly digest: string; readonly files: readonly { readonly file: string; readonly sha256: string }[] };
}

/**
 * The synthesized stack, if it is what the current sources give: the record
 * of the run that synthesized it names the same sources (by content, not
 * modification time) and the same output (by content).
 */
export function freshSynthesis(dir: string, stack: string, file: string, sources: SynthesisRecord["sources"]): string | undefined {
  let record: SynthesisRecord;
  let text: string;
  try {
    record = JSON.parse(fs.readFileSync(path.join(dir, SYNTHESIS_RECORD), "utf8")) as SynthesisRecord;
    text = fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  if (record.stack !== stack || record.sources?.digest !== sources.digest || record.output?.sha256 !== sha256(text)) return undefined;
  // The files the stack reads beside it (the compute templates), each as recorded.
  const assets = assetHashes(text, path.dirname(file));
  const recorded = record.output.assets ?? {};
  if (!assets || Object.keys(assets).length !== Object.keys(recorded).length) return undefined;
  return Object.entries(assets).every(([a, h]) => recorded[a] === h) ? text : undefined;
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
    out[rel] = createHash("sha256").update(fs.readFileSync(path.join(stackDir, rel))).digest("hex");
    return true;
  };
  let config: Json;
  try {
    config = JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
  return assetPaths(config).every(visit) ? out : undefined;
}

export const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
