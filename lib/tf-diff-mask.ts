// synth-diff's masking of secrets inside text: what a report prints of a
// string (an attribute's value, a template asset's lines) with the secrets a
// reader could find in it replaced by MASK. Names are judged by the policy's
// isSecretName; shapes need no name: a PEM private key here, a URL's password or token,
// a user:password@host, base64 of a secret and the well-known token formats in
// lib/secret-shapes.ts (shared with verify). What a line alone cannot tell (a value
// continued over lines, YAML under a secret-like key) is read in maskLines.
// Pure: no file, no git.
import { isSecretName } from "../policy/secret-names";
import { PEM_PRIVATE_BEGIN, isReference, maskSecretShapes } from "./secret-shapes";

/** What replaces a secret wherever it would be shown. */
export const MASK = "(sensitive)";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * `NAME=value`, `NAME: value`, `"NAME": "value"` anywhere in a line: the value masked when NAME is secret-like.
 * A double-quoted value runs past `\"` (JSON, shell, YAML), a single-quoted one past `''` (YAML; in a shell,
 * `'a''b'` is `ab`); a quote not closed on the line runs to its end (the value goes on to the next line); a
 * flow list closed on its line (`tokens: [a, b]`, `"api_keys": ["a", "b"]`) is one value.
 * A name starts only where no earlier letter of the same run could (the lookbehind): the run's first
 * match is the only one there can be, and without it each of a long run's characters (a 20 KB base64 line)
 * began a match read to the run's end, 1.2 s for 20 KB, minutes for an asset of a few hundred.
 */
const ASSIGNMENT = /(["']?)(?<![A-Za-z_][A-Za-z0-9_.-]*?)([A-Za-z_][A-Za-z0-9_.-]*)\1(\s*[:=]\s*)(\$\$?\{[^}]*\}|\[[^\]]*\]|"(?:[^"\\]|\\.)*(?:"|\\?$)|'(?:[^']|'')*(?:'|$)|[^\s"',;}]+)/g;
const CLOSED = { '"': /^"(?:[^"\\]|\\.)*"$/, "'": /^'(?:[^']|'')*'$/ };
/** The rest of a quoted value that went on from an earlier line, to its closing quote. */
const CLOSING = { '"': /^(?:[^"\\]|\\.)*"/, "'": /^(?:[^']|'')*'(?!')/ };
/** `?password=...`, `&api_key=...` in a URL's query: masked by the name (the URL as a whole is one ASSIGNMENT value). */
const QUERY_PARAMETER = /([?&;])([A-Za-z_][A-Za-z0-9_.-]*)=([^&#\s"'\\]*)/g;
/** A PEM block whose label says PRIVATE or SECRET (`RSA PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`, `OPENSSH PRIVATE KEY`). */
const PEM_BEGIN = PEM_PRIVATE_BEGIN;
const PEM_END = /-----END [A-Z0-9 ]*-----/;
/**
 * A YAML key alone on its line (`password:`, `- "api_token": |`), the value on the lines after it; a comment may follow.
 * The blanks after the indicator are read only with it: two optional runs of blanks side by side (`[ \t]*x?[ \t]*`)
 * split a long run every way before failing (quadratic: `a:` and 20 KB of spaces took 0.8 s, 200 KB over a minute).
 */
const YAML_KEY = /^(\s*(?:-\s+)?)(["']?)([A-Za-z_][A-Za-z0-9_.-]*)\2\s*:[ \t]*(?:([|>][-+0-9]*)[ \t]*)?(?:#.*)?\r?$/;
/**
 * A YAML entry with a plain or quoted value on its line (`password: hunter2`, `- DB_PASSWORD=hunter2`): the
 * lines deeper than it go on with the value (a YAML scalar continued). Not a flow collection, an anchor,
 * alias or tag, a block scalar (YAML_KEY) or a comment.
 */
const YAML_ENTRY = /^(\s*(?:-\s+)?)(["']?)([A-Za-z_][A-Za-z0-9_.-]*)\2\s*:[ \t]+[^\s#|>{[&*!]|^(\s*)-\s+([A-Za-z_][A-Za-z0-9_.-]*)=\S/;
/**
 * A line that starts a YAML mapping entry or sequence item: not a scalar. The blanks before a key's `:` are read
 * apart only after a quoted key (the lookbehind): after a plain one the key's own characters take them, and the two
 * runs side by side split a long run of spaces every way before failing (quadratic: 20 KB took 0.4 s, 200 KB 39 s).
 */
const YAML_STRUCTURE = /^\s*(?:-(?:\s|$)|(["']?)[^\s"'#:][^"'#:]*\1(?:(?<=["'])\s*)?:(?:\s|$)|#)/;
/** A YAML line's structure (indentation, `- `, `key:`) and what follows it (the blanks before `:` as in YAML_STRUCTURE). */
const YAML_PARTS = /^(\s*(?:-\s+)*(?:(["']?)[^\s"'#:][^"'#:]*\2(?:(?<=["'])\s*)?:(?:[ \t]+|$))?)(.*)$/;
/** A line of base64 alone (a long blob wrapped over lines). */
const BASE64_LINE = /^\s*[A-Za-z0-9+/]+={0,2}\s*$/;

const unquoted = (v: string) => (/^(["']).*\1$/.test(v) ? v.slice(1, -1) : v);

/**
 * A value under a secret-like name that is plainly not a secret, so shown: `true` or `false`, and a whole
 * number under a name with a MAX, MIN, NUM or LIMIT segment (`VISION_MAX_TOKENS=4000` counts tokens).
 */
function plainlyNotSecret(name: string, value: string): boolean {
  if (/^(?:true|false)$/i.test(value)) return true;
  if (!/^[0-9]+$/.test(value)) return false;
  const segments = name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase().split(/[^A-Z0-9]+/);
  return segments.some((s) => s === "MAX" || s === "MIN" || s === "NUM" || s === "LIMIT");
}

/** How a line's masked value goes on to the next: its quote not closed, or a `\` ending the line. */
type Open = '"' | "'" | "\\" | undefined;

/** maskSecretLine, and whether the last secret-named value goes on to the next line (Open). */
function maskLine(line: string): { text: string; open: Open } {
  let open: Open;
  const named = line.replace(ASSIGNMENT, (whole, quote: string, name: string, sep: string, value: string, at: number) => {
    const q = value[0] === '"' || value[0] === "'" ? (value[0] as '"' | "'") : "";
    const closed = q === "" || CLOSED[q].test(value);
    // An odd number of such quotes before the name: it is inside a string (`grep "^API_TOKEN=" .env`) and the quote after it closes that string.
    if (!closed && (line.slice(0, at).match(q === '"' ? /(?<!\\)"/g : /'/g) ?? []).length % 2 === 1) return whole;
    const bare = closed ? unquoted(value) : value.slice(1);
    if (!isSecretName(name) || (closed && bare === "") || isReference(bare) || plainlyNotSecret(name, bare)) return whole;
    if (q !== "") {
      if (!closed) {
        open = q;
        return `${quote}${name}${quote}${sep}${q}${MASK}`;
      }
    } else if (value.endsWith("\\") && at + whole.length === line.trimEnd().length) open = "\\";
    return `${quote}${name}${quote}${sep}${q}${MASK}${q}`;
  });
  const text = maskSecretShapes(named, MASK).replace(QUERY_PARAMETER, (whole, sep: string, name: string, value: string) =>
    value === "" || value === MASK || !isSecretName(name) || isReference(value) ? whole : `${sep}${name}=${MASK}`,
  );
  return { text, open };
}

/**
 * A line with every literal under a secret-like name, and every secret known by its shape (maskSecretShapes),
 * replaced by MASK (placeholders, variables and references shown; a URL keeps its host, and its user unless a token).
 */
export const maskSecretLine = (line: string): string => maskLine(line).text;

/** A line of a secret's value: its indentation kept, the rest MASK (a bare reference shown). */
const maskWhole = (line: string) => {
  const text = line.trim();
  if (text === "" || isReference(unquoted(text))) return line;
  return `${/^\s*/.exec(line)![0]}${MASK}`;
};

/** A block scalar's indicator (`|`, `>-`), a comment may follow: its text is on the lines after. */
const BLOCK_SCALAR = /^[|>][-+0-9]*\s*(?:#.*)?$/;

/** A YAML line under a secret-like key that holds a collection: its structure kept, its scalar MASK (a reference, a comment, a block scalar's indicator shown). */
const maskEntry = (line: string) => {
  const [, structure, , rest] = YAML_PARTS.exec(line)!;
  const text = rest.trim();
  if (text === "" || text.startsWith("#") || BLOCK_SCALAR.test(text) || isReference(unquoted(text))) return line;
  return `${structure}${MASK}`;
};

/** The rest of a line after a PEM block's BEGIN: the block masked up to its END on the same line, if any. */
function maskPemInLine(line: string): { text: string; open: boolean } {
  let rest = line;
  let text = "";
  for (;;) {
    const begin = PEM_BEGIN.exec(rest);
    if (!begin) return { text: text + rest, open: false };
    const after = rest.slice(begin.index + begin[0].length);
    const end = PEM_END.exec(after);
    text += rest.slice(0, begin.index + begin[0].length);
    if (!end) return { text: text + (after.trim() === "" ? after : MASK), open: true };
    text += (end.index > 0 ? MASK : "") + end[0];
    rest = after.slice(end.index + end[0].length);
  }
}

const decoded = (base64: string) => Buffer.from(base64, "base64").toString("latin1");
/** The base64 in a line that decodes to a PEM private key's BEGIN and not to its END (a blob wrapped over lines), if any. */
const opensBase64Key = (line: string): string | undefined =>
  (line.match(/[A-Za-z0-9+/]{12,}={0,2}/g) ?? []).find((run) => PEM_BEGIN.test(decoded(run)) && !PEM_END.test(decoded(run)));

const indentOf = (line: string) => /^[ \t]*/.exec(line)![0].length;

/**
 * Each line of a text with its secrets masked (as many lines, in order): maskSecretLine, and what a line
 * alone cannot tell:
 * - every line of a PEM block whose label says PRIVATE or SECRET, between its BEGIN and END lines (which are
 *   shown; a block never ended is masked to the end), and the lines of base64 after one whose base64 decodes
 *   to such a BEGIN (a key encoded and wrapped: each a multiple of 4 characters), up to the one that decodes to
 *   its END or ends in `=`;
 * - a secret-named value continued on the next lines: a quote not closed on its line (masked to the closing
 *   quote), a `\` ending the line (the next line masked; the one after too while a line is one word ending in `\`);
 * - under a YAML key that is secret-like and alone on its line: a `|` or `>` block scalar, or a scalar indented
 *   under it; and a list or mapping under it, each item's or entry's scalar masked, its `- ` and `key:` shown,
 *   except under `secrets:` (compose's `secrets:` lists or maps secret names), where each entry is judged by its
 *   own name; until a line no deeper than the key;
 * - the lines deeper than a secret-like YAML entry with its value on its line (`password: x`, `- TOKEN=x`):
 *   a plain or quoted scalar continued.
 */
export function maskLines(text: string): string[] {
  const out: string[] = [];
  let pem = false;
  /** The base64 of a key wrapped over lines, so far. */
  let base64Key: string | undefined;
  let open: Open;
  /** A secret-like YAML key's column, whether its value has begun, whether a collection under it is masked. */
  let yaml: { column: number; value: boolean; collection: boolean } | undefined;
  /** The column of a `secrets:` key while inside it. */
  let secrets: number | undefined;
  const masked = (line: string): string => {
    if (open === '"' || open === "'") {
      const q: '"' | "'" = open;
      const close = CLOSING[q].exec(line);
      if (!close) return maskWhole(line);
      const body = close[0].slice(0, -1);
      open = undefined;
      const rest = maskLine(line.slice(close[0].length));
      open = rest.open;
      return `${body.trim() === "" ? body : `${/^\s*/.exec(body)![0]}${MASK}`}${q}${rest.text}`;
    }
    const inLine = maskPemInLine(line);
    pem = inLine.open;
    const done = maskLine(inLine.text);
    open = done.open;
    return done.text;
  };
  for (const line of text.split("\n")) {
    if (secrets !== undefined && line.trim() !== "" && !/^\s*#/.test(line) && indentOf(line) <= secrets) secrets = undefined;
    if (pem) {
      const end = PEM_END.exec(line);
      if (!end) {
        out.push(maskWhole(line));
        continue;
      }
      pem = false;
      const before = line.slice(0, end.index);
      out.push((before.trim() === "" ? before : `${/^\s*/.exec(before)![0]}${MASK}`) + maskSecretLine(line.slice(end.index)));
      continue;
    }
    if (base64Key !== undefined) {
      const run = line.trim();
      if (BASE64_LINE.test(line) && run.length % 4 === 0) {
        // The key's next line: masked, up to the one that decodes to its END or ends in padding.
        base64Key += run;
        if (PEM_END.test(decoded(base64Key)) || run.endsWith("=")) base64Key = undefined;
        out.push(maskWhole(line));
        continue;
      }
      base64Key = undefined;
    }
    if (open === "\\") {
      open = /^\s*\S*\\\s*$/.test(line) ? "\\" : undefined;
      out.push(maskWhole(line));
      continue;
    }
    if (open) {
      out.push(masked(line));
      continue;
    }
    if (yaml) {
      if (line.trim() === "" || (!yaml.value && /^\s*#/.test(line) && indentOf(line) > yaml.column)) {
        out.push(line);
        continue;
      }
      if (indentOf(line) > yaml.column) {
        if (yaml.value || !YAML_STRUCTURE.test(line)) {
          yaml.value = true;
          out.push(maskWhole(line));
          continue;
        }
        if (yaml.collection) {
          // A block scalar as an item or entry: what is deeper is its text, masked whole.
          if (BLOCK_SCALAR.test(YAML_PARTS.exec(line)![3].trim())) yaml.value = true;
          out.push(maskEntry(line));
          continue;
        }
      }
      yaml = undefined;
    }
    const key = YAML_KEY.exec(line);
    if (key && isSecretName(key[3])) {
      const compose = key[3].toLowerCase() === "secrets";
      const collection = !compose && secrets === undefined;
      if (compose && secrets === undefined) secrets = indentOf(line);
      yaml = { column: key[1].length, value: key[4] !== undefined, collection };
      out.push(line);
      continue;
    }
    const shown = masked(line);
    out.push(shown);
    const entry = YAML_ENTRY.exec(line);
    const name = entry?.[3] ?? entry?.[5];
    if (entry && !open && shown !== line && isSecretName(name!) && !/[({[]\s*$/.test(line)) yaml = { column: (entry[1] ?? entry[4]).length, value: true, collection: false };
    if (!pem) base64Key = opensBase64Key(line);
  }
  return out;
}

/** A text with its secrets masked (maskLines). */
export const maskText = (text: string): string => maskLines(text).join("\n");

/**
 * A value with the secrets inside its strings masked (maskText; JSON held in a string is masked leaf by
 * leaf, so it stays JSON). Returns the value itself when nothing was masked.
 */
export function maskValues<T extends Json>(v: T): T {
  if (typeof v === "string") {
    const inner = parseJsonString(v);
    if (inner !== undefined) {
      const out = maskValues(inner);
      return (out === inner ? v : JSON.stringify(out)) as T;
    }
    const out = maskText(v);
    return (out === v ? v : out) as T;
  }
  if (Array.isArray(v)) {
    const out = v.map((x) => maskValues(x));
    return (out.some((x, n) => x !== v[n]) ? out : v) as T;
  }
  if (v === null || typeof v !== "object") return v;
  const o = v as { [key: string]: Json };
  const entries = Object.keys(o).map((k) => [k, maskValues(o[k])] as const);
  return (entries.some(([k, x]) => x !== o[k]) ? Object.fromEntries(entries) : v) as T;
}

/** A string holding a JSON object or list (IAM policies, container definitions), parsed; undefined otherwise. */
export function parseJsonString(v: Json): Json | undefined {
  if (typeof v !== "string") return undefined;
  const t = v.trim();
  if (!((t.startsWith("{") && t.endsWith("}")) || (t.startsWith("[") && t.endsWith("]")))) return undefined;
  try {
    return JSON.parse(t) as Json;
  } catch {
    return undefined;
  }
}
