// Minimal edits to HCL source text, for plan-check's throw-away copies of the
// HCL modules: find and remove a top-level block, rewrite references, drop a
// required_providers entry. Not a parser: it scans only far enough to match
// the braces of one block, skipping strings, comments and heredocs.

/** A top-level block header, e.g. `data "aws_ami" "ubuntu" {`. */
export interface BlockHeader {
  readonly kind: string;
  readonly labels: readonly string[];
  /** Offset of the block's first character. */
  readonly start: number;
  /** Offset just past its closing brace. */
  readonly end: number;
}

const HEADER = /^[ \t]*(resource|data|provider|module|terraform|locals|variable|output|moved|import|removed|check)((?:[ \t]+"[^"\n]*")*)[ \t]*\{/gm;

/** Offset just past the brace that closes the one opening at `open`. */
export function matchBrace(text: string, open: number): number {
  let depth = 0;
  let i = open;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      i = skipString(text, i);
      continue;
    }
    if (c === "#" || (c === "/" && text[i + 1] === "/")) {
      const nl = text.indexOf("\n", i);
      i = nl === -1 ? text.length : nl;
      continue;
    }
    if (c === "/" && text[i + 1] === "*") {
      const close = text.indexOf("*/", i + 2);
      i = close === -1 ? text.length : close + 2;
      continue;
    }
    if (c === "<" && text[i + 1] === "<") {
      const m = /^<<-?([A-Za-z_][A-Za-z0-9_]*)[ \t]*\n/.exec(text.slice(i));
      if (m) {
        const end = new RegExp(`^[ \\t]*${m[1]}[ \\t]*$`, "m");
        const rest = text.slice(i + m[0].length);
        const e = end.exec(rest);
        i = e ? i + m[0].length + e.index + e[0].length : text.length;
        continue;
      }
    }
    if (c === "{") depth++;
    if (c === "}") {
      depth--;
      if (depth === 0) return i + 1;
    }
    i++;
  }
  throw new Error(`unbalanced braces from offset ${open}`);
}

/** Past the closing quote of the string opening at `i`, with `${ ... }` templates nested. */
function skipString(text: string, i: number): number {
  i++;
  while (i < text.length) {
    const c = text[i];
    if (c === "\\") {
      i += 2;
      continue;
    }
    if (c === '"') return i + 1;
    if ((c === "$" || c === "%") && text[i + 1] === "{" && text[i - 1] !== c) {
      i = matchBrace(text, i + 1);
      continue;
    }
    if (c === "\n") return i; // unterminated: stop at the line end
    i++;
  }
  return i;
}

/** Every top-level block of a file. */
export function topLevelBlocks(text: string): BlockHeader[] {
  const blocks: BlockHeader[] = [];
  HEADER.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = HEADER.exec(text))) {
    const open = m.index + m[0].length - 1;
    const end = matchBrace(text, open);
    const labels = [...m[2].matchAll(/"([^"\n]*)"/g)].map((l) => l[1]);
    blocks.push({ kind: m[1], labels, start: m.index, end });
    HEADER.lastIndex = end;
  }
  return blocks;
}

/** The text without the given blocks (each replaced by a one-line comment saying why). */
export function removeBlocks(text: string, blocks: readonly BlockHeader[], why: string): string {
  let out = text;
  for (const b of [...blocks].sort((x, y) => y.start - x.start)) {
    out = `${out.slice(0, b.start)}# plan-check: ${b.kind} ${b.labels.map((l) => `"${l}"`).join(" ")} ${why}${out.slice(b.end)}`;
  }
  return out;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Replaces every reference to `address` (`data.aws_ami.ubuntu`,
 * `random_id.suffix`) that is not part of a longer traversal or name.
 */
export function replaceReference(text: string, address: string, replacement: string): string {
  return text.replace(new RegExp(`(?<![\\w.-])${escapeRe(address)}(?![\\w-])`, "g"), replacement);
}

/** Removes `name = { ... }` (or `name = "..."`) from every `required_providers` block. */
export function dropRequiredProvider(text: string, name: string): string {
  let out = text;
  const re = /required_providers[ \t]*\{/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(out))) {
    const open = m.index + m[0].length - 1;
    const end = matchBrace(out, open);
    const body = out.slice(open, end);
    const entry = new RegExp(`\\n[ \\t]*${escapeRe(name)}[ \\t]*=[ \\t]*(\\{[^{}]*\\}|"[^"\\n]*")`, "g");
    const next = body.replace(entry, `\n    # plan-check: ${name} removed (not installed)`);
    out = out.slice(0, open) + next + out.slice(end);
    re.lastIndex = open + next.length;
  }
  return out;
}

/** The provider names declared in the file's `required_providers` blocks (keys at the block's top level only). */
export function requiredProviderNames(text: string): string[] {
  const names = new Set<string>();
  const re = /required_providers[ \t]*\{/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    const open = m.index + m[0].length - 1;
    const end = matchBrace(text, open);
    let depth = 0;
    for (let i = open + 1; i < end - 1; i++) {
      const c = text[i];
      if (c === '"') {
        i = skipString(text, i) - 1;
        continue;
      }
      if (c === "{") depth++;
      else if (c === "}") depth--;
      else if (depth === 0 && /[A-Za-z]/.test(c) && /[\s{]/.test(text[i - 1])) {
        const key = /^([A-Za-z][\w-]*)[ \t]*=/.exec(text.slice(i));
        if (key) names.add(key[1]);
        const nl = text.indexOf("\n", i);
        const brace = text.indexOf("{", i);
        // Skip to the value: a nested object is walked by the depth count.
        i = brace !== -1 && (nl === -1 || brace < nl) ? brace - 1 : (nl === -1 ? end : nl) - 1;
      }
    }
  }
  return [...names];
}
