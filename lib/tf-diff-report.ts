// synth-diff's report: Markdown for a pull-request comment (summary first,
// long sections folded, cut to fit one comment with a pointer to the full
// report), and JSON that keeps every fact. Values are shown shortened; a
// sensitive variable's default, or a literal under a secret-like name, never;
// the secrets inside texts masked (lib/tf-diff-mask.ts).
import { AttributeChange, BlockChange, Json, MASK, MoveChange, StackDiff, countChanges } from "./tf-diff";
import type { AssetChange } from "./tf-diff-assets";

/** GitHub refuses a comment longer than this. */
export const GITHUB_COMMENT_LIMIT = 65_536;
/** The Markdown report's limit: a comment's, less room for what a workflow wraps it in (a marker, a link). */
export const MARKDOWN_LIMIT = 64_000;
/** A value longer than this (as JSON text) is shortened, with its size. */
export const VALUE_LIMIT = 100;
/** A section longer than this many lines is folded in <details>. */
export const FOLD_LINES = 12;

export interface ReportMeta {
  /** The ref as given (`HEAD~1`, `main`). */
  readonly ref: string;
  readonly baseCommit: string;
  /** HEAD of the working tree, and whether it has uncommitted changes. */
  readonly head: { readonly commit: string; readonly dirty: boolean };
  /** Facts a reader should know (development packages that differ, stacks left out). */
  readonly notes: readonly string[];
}

const short = (sha: string) => sha.slice(0, 7);
const plural = (n: number, word: string) => `${n.toLocaleString("en-US")} ${word}${n === 1 ? "" : "s"}`;

/** A code span that survives any backtick in the text. */
export function code(text: string): string {
  const runs = text.match(/`+/g) ?? [];
  const fence = "`".repeat(Math.max(0, ...runs.map((r) => r.length)) + 1);
  const pad = text.startsWith("`") || text.endsWith("`") ? " " : "";
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** A value as JSON text, shortened past VALUE_LIMIT characters with its size (a string's own length, not its JSON text's). */
export function showValue(v: Json | undefined): string {
  if (v === MASK) return MASK;
  const text = JSON.stringify(v) ?? "null";
  if (text.length <= VALUE_LIMIT) return code(text);
  const size = typeof v === "string" ? v.length : text.length;
  return `${code(`${text.slice(0, VALUE_LIMIT - 30)}…`)} (${size.toLocaleString("en-US")} chars)`;
}

/** For two long strings: their sizes and the first place they differ, with some context. */
function longStringChange(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const from = Math.max(0, i - 20);
  const around = (s: string) => code(`${from > 0 ? "…" : ""}${JSON.stringify(s.slice(from, i + 40)).slice(1, -1)}${i + 40 < s.length ? "…" : ""}`);
  return `${plural(a.length, "char")} → ${plural(b.length, "char")}, first difference at char ${(i + 1).toLocaleString("en-US")}: ${around(a)} → ${around(b)}`;
}

/** What joined and what left a list of plain values. */
function listDelta(a: Json[], b: Json[]): string {
  const key = (x: Json) => JSON.stringify(x);
  const left = a.filter((x) => !b.some((y) => key(y) === key(x)));
  const joined = b.filter((x) => !a.some((y) => key(y) === key(x)));
  if (left.length === 0 && joined.length === 0) return " (order only)";
  const list = (xs: Json[]) => xs.map((x) => showValue(x)).join(", ");
  return ` (${[joined.length ? `added ${list(joined)}` : "", left.length ? `removed ${list(left)}` : ""].filter(Boolean).join("; ")})`;
}

export function attributeLine(c: AttributeChange): string {
  const path = code(c.path || "(value)");
  if (c.sensitive) return `${path}: ${c.change === "changed" ? "changed" : c.change} (sensitive, not shown)`;
  switch (c.change) {
    case "added":
      return `${path}: added ${showValue(c.after)}`;
    case "removed":
      return `${path}: removed (was ${showValue(c.before)})`;
    case "reordered":
      return `${path}: order changed: ${showValue(c.before)} → ${showValue(c.after)}`;
    case "changed": {
      const { before: a, after: b } = c;
      // What changed is inside a masked secret only: both sides read the same.
      if (c.masked && JSON.stringify(a) === JSON.stringify(b)) return `${path}: changed in a masked secret (not shown): ${showValue(a)}`;
      if (typeof a === "string" && typeof b === "string" && Math.max(a.length, b.length) > VALUE_LIMIT - 2) return `${path}: ${longStringChange(a, b)}`;
      const delta = Array.isArray(a) && Array.isArray(b) && Math.max(a.length, b.length) > 1 ? listDelta(a, b) : "";
      return `${path}: ${showValue(a)} → ${showValue(b)}${delta}`;
    }
  }
}

/** A diff line in the Markdown is cut past this many characters (the JSON keeps it whole). */
export const MARKDOWN_DIFF_LINE = 300;

const hash8 = (h: string | undefined) => (h ?? "?").slice(0, 8);
const bytes = (n: number | undefined) => (n === undefined ? "?" : plural(n, "byte"));

/** An asset's content change, under its attribute: one line, and for an edit its diff in a fenced block. */
function assetLines(a: AssetChange, indent: string): string[] {
  const file = (p: string | undefined) => code(p ? p.slice(p.lastIndexOf("/") + 1) : "?");
  const head = `${indent}- asset ${code(a.id)}`;
  const versions = `${file(a.oldPath)} ${hash8(a.oldHash)} → ${a.newPath && a.oldPath && file(a.newPath) !== file(a.oldPath) ? `${file(a.newPath)} ` : ""}${hash8(a.newHash)}`;
  switch (a.change) {
    case "added":
    case "removed": {
      const [where, size] = a.change === "added" ? [a.newPath, a.newSize] : [a.oldPath, a.oldSize];
      const named = `${head} ${a.change}: ${code(where!)} (${bytes(size)})`;
      if (!a.diff) return [`${named}${a.notDiffed ? `: ${NOT_DIFFED[a.notDiffed]}, not shown` : ""}`];
      return [`${named}, ${plural(a.diff.length - 1, "line")}:`, ...fenced(a.diff, indent)];
    }
    case "unchanged":
      return [`${head}: ${versions}, the same content (${bytes(a.newSize)}): nothing changed in the file`];
    case "binary":
    case "too-large":
    case "unreadable":
      return [`${head}: ${versions}, ${bytes(a.oldSize)} → ${bytes(a.newSize)}: ${NOT_DIFFED[a.change]}, not diffed`];
    case "changed": {
      const diff = a.diff ?? [];
      const count = (c: string) => diff.filter((l) => l.startsWith(c)).length;
      return [`${head}: ${versions}, ${bytes(a.oldSize)} → ${bytes(a.newSize)}, ${plural(count("-"), "line")} removed, ${plural(count("+"), "line")} added:`, ...fenced(diff, indent)];
    }
  }
}

const NOT_DIFFED: Record<NonNullable<AssetChange["notDiffed"]>, string> = {
  binary: "binary (a NUL byte)",
  "too-large": "over 256 KiB or 4,000 lines",
  unreadable: "not found in a side's synthesized output",
};

/** Diff lines in a fenced `diff` block, each cut past MARKDOWN_DIFF_LINE, under a list item. */
function fenced(diff: readonly string[], indent: string): string[] {
  const shown = diff.map((l) => (l.length > MARKDOWN_DIFF_LINE ? `${l.slice(0, MARKDOWN_DIFF_LINE)}…` : l));
  const fence = "`".repeat(Math.max(2, ...shown.map((l) => Math.max(0, ...(l.match(/`+/g) ?? []).map((r) => r.length)))) + 1);
  return ["", `${indent}  ${fence}diff`, ...shown.map((l) => `${indent}  ${l}`), `${indent}  ${fence}`];
}

const attributeLines = (c: AttributeChange): string[] => [`  - ${attributeLine(c)}`, ...(c.assets ?? []).flatMap((a) => assetLines(a, "    "))];
/** The assets of a block added or removed whole, under it. */
const blockAssetLines = (b: BlockChange): string[] => (b.assets ?? []).flatMap((a) => assetLines(a, "  "));

/** The lines of one block change (a list item and its attributes). */
function blockLines(b: BlockChange): string[] {
  switch (b.change) {
    case "removed":
      return [`- ${code(b.address)}`, ...blockAssetLines(b)];
    case "added": {
      const body = b.body;
      const adopted = b.movedFrom ? ` (${b.movedFrom.length === 1 ? "a moved block brings" : "moved blocks bring"} ${b.movedFrom.map(code).join(", ")} here)` : "";
      if (body === null || typeof body !== "object" || Array.isArray(body)) return [`- ${code(b.address)}${adopted} = ${showValue(body)}`, ...blockAssetLines(b)];
      return [`- ${code(b.address)}${adopted}`, ...Object.keys(body).map((k) => `  - ${code(k)} = ${showValue(body[k])}`), ...blockAssetLines(b)];
    }
    case "changed":
      return [`- ${code(b.address)}`, ...b.attributes.flatMap(attributeLines)];
    case "moved":
      return [
        `- ${code(b.from!)} → ${code(b.address)}${b.attributes.length ? "" : ", no attribute changed"}`,
        ...b.attributes.flatMap(attributeLines),
      ];
  }
}

function moveLine(m: MoveChange): string {
  switch (m.change) {
    case "added":
      return `- added: ${code(m.from)} → ${code(m.to!)}`;
    case "removed":
      return `- removed: ${code(m.from)} → ${code(m.previousTo!)}`;
    case "changed":
      return `- ${code(m.from)}: target ${code(m.previousTo!)} → ${code(m.to!)}`;
  }
}

/** A section: plain when short, folded in <details> when longer than FOLD_LINES. */
function section(title: string, lines: string[]): string[] {
  if (lines.length === 0) return [];
  if (lines.length <= FOLD_LINES) return [`**${title}**`, "", ...lines, ""];
  return [`<details><summary>${title}</summary>`, "", ...lines, "", "</details>", ""];
}

function stackSummary(d: StackDiff): string {
  const c = countChanges(d);
  const parts = [
    c.changed && `${c.changed} changed`,
    c.added && `${c.added} added`,
    c.removed && `${c.removed} removed`,
    c.moved && `${c.moved} moved`,
    c.moves && plural(c.moves, "moved-block change"),
  ].filter(Boolean);
  if (d.status === "added") return `new stack, ${plural(c.added, "block")}`;
  if (d.status === "removed") return `stack removed, ${plural(c.removed, "block")}`;
  return parts.length ? parts.join(", ") : "no change";
}

export function firstLine(diffs: readonly StackDiff[], meta: ReportMeta): string {
  const changed = diffs.filter((d) => d.status !== "unchanged");
  const verdict =
    changed.length === 0
      ? "no change"
      : changed.length === 1 && diffs.length === 1
        ? stackSummary(changed[0])
        : changed.map((d) => `${d.stack}: ${stackSummary(d)}`).join("; ");
  return `### Synthesized Terraform: ${verdict} (${describeSides(meta)})`;
}

function describeSides(meta: ReportMeta): string {
  return `working tree at ${short(meta.head.commit)}${meta.head.dirty ? " with uncommitted changes" : ""} against ${short(meta.baseCommit)}${
    meta.ref !== meta.baseCommit && meta.ref !== short(meta.baseCommit) ? `, ${meta.ref}` : ""
  }`;
}

/** The full Markdown report, as lines. */
export function markdownLines(diffs: readonly StackDiff[], meta: ReportMeta): string[] {
  const lines = [firstLine(diffs, meta), ""];
  lines.push(
    "What `cdktf synth` writes (cdk.tf.json), compared block by block by Terraform address: no Terraform, no AWS. " +
      "It shows what the code asks for, not what a plan would do to what is deployed (plan-check shows that).",
    "",
  );
  for (const note of meta.notes) lines.push(`> ${note}`, "");
  lines.push("| stack | changed | added | removed | moved | moved blocks | unchanged |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const d of diffs) {
    const c = countChanges(d);
    const status = d.status === "added" ? " (new)" : d.status === "removed" ? " (removed)" : "";
    lines.push(`| ${code(d.stack)}${status} | ${c.changed} | ${c.added} | ${c.removed} | ${c.moved} | ${c.moves} | ${d.unchanged} |`);
  }
  lines.push("");
  for (const d of diffs) {
    if (d.status === "unchanged") continue;
    lines.push(`#### ${code(d.stack)}: ${stackSummary(d)}`, "");
    const of = (change: BlockChange["change"]) => d.blocks.filter((b) => b.change === change);
    const changed = of("changed");
    const attrs = changed.reduce((n, b) => n + b.attributes.length, 0);
    lines.push(...section(`Changed: ${plural(changed.length, "block")}, ${plural(attrs, "attribute")}`, changed.flatMap(blockLines)));
    lines.push(...section(`Moved (a moved block pairs the old address with the new): ${plural(of("moved").length, "block")}`, of("moved").flatMap(blockLines)));
    lines.push(...section(`Added: ${plural(of("added").length, "block")}`, of("added").flatMap(blockLines)));
    lines.push(...section(`Removed: ${plural(of("removed").length, "block")}`, of("removed").flatMap(blockLines)));
    lines.push(...section(`Moved blocks: ${plural(d.moves.length, "change")}`, d.moves.map(moveLine)));
  }
  lines.push("<!-- synth-diff report -->");
  return lines;
}

/**
 * The report as one pull-request comment: whole when it fits in `limit`
 * characters, otherwise cut at a line (open <details> closed), said at the top
 * and where it stops, with `pointer` (where the full report is).
 */
export function fitMarkdown(lines: readonly string[], limit: number, pointer: string): { text: string; truncated: boolean } {
  const whole = lines.join("\n") + "\n";
  if (whole.length <= limit) return { text: whole, truncated: false };
  const top = `> **Cut to fit one comment** (the full report is ${whole.length.toLocaleString("en-US")} characters): ${pointer}.`;
  const head = [lines[0], "", top, ""];
  let used = head.join("\n").length + 1;
  const kept: string[] = [];
  let open = 0;
  // A cut inside an asset's fenced diff closes the fence first, or the rest would read as code.
  let fence: string | undefined;
  const closing = (n: number, shown: number, inFence: string | undefined) =>
    [
      "",
      ...(inFence ? [inFence, ""] : []),
      ...Array<string>(n).fill("</details>"),
      "",
      `**… cut here: ${shown.toLocaleString("en-US")} of ${lines.length.toLocaleString("en-US")} lines shown.** ${pointer}.`,
      "<!-- synth-diff report -->",
    ].join("\n") + "\n";
  for (const line of lines.slice(1)) {
    const inFence = fence !== undefined;
    const nextOpen = inFence ? open : open + (line.startsWith("<details>") ? 1 : 0) - (line === "</details>" ? 1 : 0);
    const nextFence = inFence ? (line.trim() === fence ? undefined : fence) : /^\s*(`{3,})diff$/.exec(line)?.[1];
    if (used + line.length + 1 + closing(nextOpen, lines.length, nextFence).length > limit) break;
    kept.push(line);
    used += line.length + 1;
    open = nextOpen;
    fence = nextFence;
  }
  return { text: [...head, ...kept].join("\n") + closing(open, kept.length + 1, fence), truncated: true };
}

/** Every fact, values unshortened (sensitive defaults and secret-named literals masked). */
export function renderJson(diffs: readonly StackDiff[], meta: ReportMeta): string {
  return (
    JSON.stringify(
      {
        tool: "synth-diff",
        base: { ref: meta.ref, commit: meta.baseCommit },
        head: { commit: meta.head.commit, dirty: meta.head.dirty },
        noChange: diffs.every((d) => d.status === "unchanged"),
        summary: firstLine(diffs, meta).replace(/^### /, ""),
        notes: meta.notes,
        stacks: diffs.map((d) => ({
          stack: d.stack,
          status: d.status,
          counts: countChanges(d),
          unchanged: d.unchanged,
          blocks: d.blocks.map(({ attributes, ...b }) => ({ ...b, attributes: attributes.map(({ steps: _steps, ...a }) => a) })),
          moves: d.moves,
        })),
      },
      null,
      2,
    ) + "\n"
  );
}
