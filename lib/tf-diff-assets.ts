// synth-diff's view into template assets: an attribute whose old and new
// values name a version of the same asset (`assets/<id>/<hash>/<file>`, the
// compute templates) gets the change of the file's content, as a unified
// line diff, secrets masked (lib/tf-diff-mask.ts); an asset named on one side
// only (a block added or removed whole) gets its content. The files are read
// from each side's synthesized output (readAssetFiles); the comparison is pure.
import * as fs from "fs";
import * as path from "path";
import { structuredPatch } from "diff";
import { AttributeChange, BlockChange, Json, StackDiff, compare } from "./tf-diff";
import { maskLines } from "./tf-diff-mask";

export { maskSecretLine } from "./tf-diff-mask";

/** A file over this size is named with its sizes and hashes, not diffed (nor read whole). */
export const ASSET_DIFF_LIMIT = 256 * 1024;
/** Nor a file of more lines: jsdiff 4's time grows with lines × edits (4,000 lines all changed: ~5 s). */
export const ASSET_LINE_LIMIT = 4000;
/** Lines of context around each change. */
export const ASSET_CONTEXT = 3;

/** One asset file of a side's output: its size, and its bytes when not over ASSET_DIFF_LIMIT. */
export interface AssetFile {
  readonly size: number;
  readonly content?: Buffer;
}
/** A stack's asset files, by path relative to its folder (`assets/<id>/<hash>/<file>`, `/`-separated). */
export type AssetFiles = ReadonlyMap<string, AssetFile>;

export interface AssetChange {
  /** The asset's id (`compute_compose_template_14385AD0`). */
  readonly id: string;
  /**
   * `changed`: `diff` holds the line diff. `unchanged`: the same bytes under another hash or name.
   * `added`/`removed`: no version of this asset on the other side; `diff` holds its content as `+`/`-`
   * lines, or `notDiffed` says why not. `binary` (a NUL byte) and
   * `too-large` (over ASSET_DIFF_LIMIT bytes or ASSET_LINE_LIMIT lines): not diffed. `unreadable`: a side's output has no such file.
   */
  readonly change: "changed" | "unchanged" | "added" | "removed" | "binary" | "too-large" | "unreadable";
  /** `assets/<id>/<hash>/<file>` as the old value names it (absent for `added`). */
  readonly oldPath?: string;
  readonly newPath?: string;
  readonly oldHash?: string;
  readonly newHash?: string;
  /** Bytes; absent when the file could not be read. */
  readonly oldSize?: number;
  readonly newSize?: number;
  /** For `changed`, `added`, `removed`: unified diff lines (`@@ -a,b +c,d @@`, ` context`, `-old`, `+new`), secrets masked. */
  readonly diff?: readonly string[];
  /** For `added`/`removed`: why the content is not shown. */
  readonly notDiffed?: "binary" | "too-large" | "unreadable";
}

interface AssetRef {
  readonly path: string;
  readonly id: string;
  readonly hash: string;
  readonly file: string;
}

/** An asset path as cdktf writes it into an expression (templatefile("assets/<id>/<hash>/<file>", ...)). */
const ASSET_REF = /(?:^|[^A-Za-z0-9_.-])(assets\/([A-Za-z0-9_.-]+)\/([A-Za-z0-9_-]+)\/([^"'\s,(){}\\]+))/g;

/** Every asset path in a value's strings, by asset id (the first path of each id). */
function refsOf(v: Json | undefined, out = new Map<string, AssetRef>()): Map<string, AssetRef> {
  if (typeof v === "string") {
    for (const m of v.matchAll(ASSET_REF)) if (!out.has(m[2])) out.set(m[2], { path: m[1], id: m[2], hash: m[3], file: m[4] });
  } else if (Array.isArray(v)) v.forEach((x) => refsOf(x, out));
  else if (v !== null && typeof v === "object") Object.values(v).forEach((x) => refsOf(x, out));
  return out;
}

/**
 * The unified diff of two texts, as lines, each changed or context line shown as maskLines gives it in its
 * whole file (a line inside a private key, or the value under a `password:` key, is masked whatever the
 * hunk shows of its file). The diff is of the texts themselves: a changed secret shows as a changed line.
 */
export function lineDiff(a: string, b: string, context = ASSET_CONTEXT): string[] {
  const { hunks } = structuredPatch("old", "new", a, b, undefined, undefined, { context });
  const [oldLines, newLines] = [maskLines(a), maskLines(b)];
  return hunks.flatMap((h) => {
    let [o, n] = [h.oldStart - 1, h.newStart - 1];
    return [
      `@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@`,
      ...h.lines.map((l) => {
        if (l[0] === "-") return `-${oldLines[o++]}`;
        if (l[0] === "+") return `+${newLines[n++]}`;
        if (l[0] !== " ") return l; // \ No newline at end of file
        // A context line: masked if either file's masking masks it.
        const [old, now] = [oldLines[o++], newLines[n++]];
        return ` ${old !== l.slice(1) ? old : now}`;
      }),
    ];
  });
}

/** A whole file as diff lines of one side (`+` added, `-` removed), masked as lineDiff masks. */
function wholeFile(text: string, sign: "+" | "-"): string[] {
  const lines = maskLines(text);
  if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop(); // the newline ending the last line
  const range = `${sign === "-" ? "-" : "+"}${lines.length === 0 ? 0 : 1},${lines.length}`;
  return [`@@ ${sign === "-" ? `${range} +0,0` : `-0,0 ${range}`} @@`, ...lines.map((l) => sign + l)];
}

const lineCount = (b: Buffer) => {
  let n = 1;
  for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) n++;
  return n;
};

/** The change of content between the versions of each asset the old and new values name. */
export function assetChanges(before: Json | undefined, after: Json | undefined, oldFiles: AssetFiles, newFiles: AssetFiles): AssetChange[] {
  const old = refsOf(before);
  const now = refsOf(after);
  const out: AssetChange[] = [];
  for (const id of [...new Set([...old.keys(), ...now.keys()])].sort(compare)) {
    const a = old.get(id);
    const b = now.get(id);
    if (a && b && a.path === b.path) continue; // the same version: the attribute changed elsewhere
    if (!a || !b) {
      const r = (a ?? b)!;
      const file = (a ? oldFiles : newFiles).get(r.path);
      const side = a ? { change: "removed" as const, oldPath: r.path, oldHash: r.hash, ...(file ? { oldSize: file.size } : {}) } : { change: "added" as const, newPath: r.path, newHash: r.hash, ...(file ? { newSize: file.size } : {}) };
      const why = !file ? "unreadable" : !file.content || lineCount(file.content) > ASSET_LINE_LIMIT ? "too-large" : file.content.includes(0) ? "binary" : undefined;
      out.push({ id, ...side, ...(why ? { notDiffed: why } : { diff: wholeFile(file!.content!.toString("utf8"), a ? "-" : "+") }) });
      continue;
    }
    const fa = oldFiles.get(a.path);
    const fb = newFiles.get(b.path);
    const base = { id, oldPath: a.path, newPath: b.path, oldHash: a.hash, newHash: b.hash, ...(fa ? { oldSize: fa.size } : {}), ...(fb ? { newSize: fb.size } : {}) };
    if (!fa || !fb) out.push({ ...base, change: "unreadable" });
    else if (!fa.content || !fb.content || [fa.content, fb.content].some((c) => lineCount(c) > ASSET_LINE_LIMIT)) out.push({ ...base, change: "too-large" });
    else if (fa.content.includes(0) || fb.content.includes(0)) out.push({ ...base, change: "binary" });
    else if (fa.content.equals(fb.content)) out.push({ ...base, change: "unchanged" });
    else out.push({ ...base, change: "changed", diff: lineDiff(fa.content.toString("utf8"), fb.content.toString("utf8")) });
  }
  return out;
}

/**
 * The stack diff with each (non-sensitive) attribute change that names another version of an asset given
 * its assets, and each block added or removed whole given the assets its (masked) body names.
 */
export function withAssetChanges(d: StackDiff, oldFiles: AssetFiles = new Map(), newFiles: AssetFiles = new Map()): StackDiff {
  const attribute = (c: AttributeChange): AttributeChange => {
    if (c.sensitive || c.change === "reordered") return c;
    const assets = assetChanges(c.before, c.after, oldFiles, newFiles);
    return assets.length ? { ...c, assets } : c;
  };
  const block = (b: BlockChange): BlockChange => {
    if (b.change === "added" || b.change === "removed") {
      const assets = b.change === "added" ? assetChanges(undefined, b.body, oldFiles, newFiles) : assetChanges(b.body, undefined, oldFiles, newFiles);
      return assets.length ? { ...b, assets } : b;
    }
    return b.attributes.length ? { ...b, attributes: b.attributes.map(attribute) } : b;
  };
  return { ...d, blocks: d.blocks.map(block) };
}

/** The asset files of a synthesized stack folder (`<outdir>/stacks/<stack>`); none when it has no assets/. */
export function readAssetFiles(stackDir: string): Map<string, AssetFile> {
  const files = new Map<string, AssetFile>();
  const walk = (rel: string) => {
    const full = path.join(stackDir, rel);
    const stat = fs.lstatSync(full);
    if (stat.isDirectory()) for (const name of fs.readdirSync(full).sort(compare)) walk(path.join(rel, name));
    else if (stat.isFile()) files.set(rel.split(path.sep).join("/"), { size: stat.size, ...(stat.size <= ASSET_DIFF_LIMIT ? { content: fs.readFileSync(full) } : {}) });
  };
  if (fs.existsSync(path.join(stackDir, "assets"))) walk("assets");
  return files;
}
