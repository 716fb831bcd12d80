// Compares what the two builds synthesized: every file of the output folder,
// parsed, value by value and key order included. The framework version in the
// metadata is the one difference allowed; everything else is named.
import * as fs from "fs";
import * as path from "path";

/** One value that differs, at a path like `resource.aws_sqs_queue.ml_worker_ml_worker.name`. */
export interface Difference {
  readonly file: string;
  readonly path: string;
  /** What the cdktf build has (`undefined`: absent). */
  readonly cdktf: unknown;
  /** What the cdktn build has (`undefined`: absent). */
  readonly cdktn: unknown;
  /** Set when only the order of an object's keys differs. */
  readonly keyOrder?: boolean;
}

export interface FileComparison {
  readonly file: string;
  /** Differences that fail the comparison. */
  readonly differences: Difference[];
  /** The allowed ones: the framework version where the metadata records it. */
  readonly absorbed: Difference[];
  /**
   * How the texts compare, the version put aside: `same` bytes; or the same JSON
   * written differently, only in how empty arrays and objects are laid out
   * (`empty-collections`: `[\n]` and `[]`) or otherwise (`other`). Not a difference.
   */
  readonly layout: "same" | "empty-collections" | "other";
}

export interface Versions {
  /** cdktf's version, as the cdktf build records it (0.21.0). */
  readonly cdktf: string;
  /** cdktn's version, as the cdktn build records it (0.24.0). */
  readonly cdktn: string;
}

/** Where an output file records the framework version: `//.metadata.version` in a stack, `version` in an App's manifest. */
export function versionPath(file: string): string[] | undefined {
  if (/(^|\/)manifest\.json$/.test(file)) return ["version"];
  if (/(^|\/)stacks\/[^/]+\/cdk\.tf\.json$/.test(file)) return ["//", "metadata", "version"];
  return undefined;
}

const show = (segments: (string | number)[]): string =>
  segments
    .map((s, i) => (typeof s === "number" ? `[${s}]` : /^[A-Za-z0-9_/-]+$/.test(s) ? (i === 0 ? s : `.${s}`) : `[${JSON.stringify(s)}]`))
    .join("");

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Every difference between two parsed JSON values, depth first, in the cdktf value's key order. */
export function diffJson(file: string, a: unknown, b: unknown, at: (string | number)[] = []): Difference[] {
  if (Array.isArray(a) && Array.isArray(b)) {
    const out: Difference[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) out.push(...diffJson(file, a[i], b[i], [...at, i]));
    return out;
  }
  if (isObject(a) && isObject(b)) {
    const keysA = Object.keys(a);
    const keysB = Object.keys(b);
    const out: Difference[] = [];
    for (const k of [...keysA, ...keysB.filter((k) => !(k in a))]) out.push(...diffJson(file, a[k], b[k], [...at, k]));
    const common = keysA.filter((k) => k in b);
    if (out.length === 0 && common.join("\0") !== keysB.filter((k) => k in a).join("\0")) {
      out.push({ file, path: show(at) || "(root)", cdktf: keysA, cdktn: keysB, keyOrder: true });
    }
    return out;
  }
  return Object.is(a, b) ? [] : [{ file, path: show(at) || "(root)", cdktf: a, cdktn: b }];
}

/** Compares one output file of both builds. */
export function compareFile(file: string, cdktfText: string, cdktnText: string, versions: Versions): FileComparison {
  let a: unknown;
  let b: unknown;
  try {
    a = JSON.parse(cdktfText);
    b = JSON.parse(cdktnText);
  } catch {
    // Not JSON: compared as text.
    const differences = cdktfText === cdktnText ? [] : [{ file, path: "(text)", cdktf: cdktfText, cdktn: cdktnText }];
    return { file, differences, absorbed: [], layout: "same" };
  }
  const all = diffJson(file, a, b);
  const vp = versionPath(file);
  const absorbedPath = vp ? show(vp) : undefined;
  const absorbed = all.filter((d) => d.path === absorbedPath && d.cdktf === versions.cdktf && d.cdktn === versions.cdktn);
  const differences = all.filter((d) => !absorbed.includes(d));
  const swapped = absorbed.length > 0 ? cdktfText.split(JSON.stringify(versions.cdktf)).join(JSON.stringify(versions.cdktn)) : cdktfText;
  const compactEmpty = (t: string) => t.replace(/\[\s+\]/g, "[]").replace(/\{\s+\}/g, "{}");
  const layout = swapped === cdktnText ? "same" : compactEmpty(swapped) === compactEmpty(cdktnText) ? "empty-collections" : "other";
  return { file, differences, absorbed, layout };
}

/** Every file under `dir`, relative, `/`-separated, sorted. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(r);
      else out.push(r);
    }
  };
  walk("");
  return out.sort();
}

export interface Comparison {
  readonly files: FileComparison[];
  /** Files only one build wrote. */
  readonly onlyIn: { readonly cdktf: string[]; readonly cdktn: string[] };
  /** True when nothing but the absorbed differences remains. */
  readonly identical: boolean;
}

/** Compares two synth output folders file by file. */
export function compareOutdirs(cdktfDir: string, cdktnDir: string, versions: Versions): Comparison {
  const a = listFiles(cdktfDir);
  const b = listFiles(cdktnDir);
  const files = a
    .filter((f) => b.includes(f))
    .map((f) => compareFile(f, fs.readFileSync(path.join(cdktfDir, f), "utf8"), fs.readFileSync(path.join(cdktnDir, f), "utf8"), versions));
  const onlyIn = { cdktf: a.filter((f) => !b.includes(f)), cdktn: b.filter((f) => !a.includes(f)) };
  const identical = onlyIn.cdktf.length === 0 && onlyIn.cdktn.length === 0 && files.every((f) => f.differences.length === 0);
  return { files, onlyIn, identical };
}
