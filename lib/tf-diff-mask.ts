// synth-diff's masking of secrets inside text: what a report prints of a
// string (an attribute's value, a template asset's lines) with the secrets a
// reader could find in it replaced by MASK. Names are judged by the policy's
// isSecretName; shapes need no name: a PEM private key here, a URL's password or token
// and the well-known token formats in lib/secret-shapes.ts (shared with verify).
// Pure: no file, no git.
import { isSecretName } from "../policy/secret-names";
import { isReference, maskSecretShapes } from "./secret-shapes";

/** What replaces a secret wherever it would be shown. */
export const MASK = "(sensitive)";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** `NAME=value`, `NAME: value`, `"NAME": "value"` anywhere in a line: the value masked when NAME is secret-like. */
const ASSIGNMENT = /(["']?)([A-Za-z_][A-Za-z0-9_.-]*)\1(\s*[:=]\s*)(\$\$?\{[^}]*\}|"[^"]*"|'[^']*'|[^\s"',;}]+)/g;
/** `?password=...`, `&api_key=...` in a URL's query: masked by the name (the URL as a whole is one ASSIGNMENT value). */
const QUERY_PARAMETER = /([?&;])([A-Za-z_][A-Za-z0-9_.-]*)=([^&#\s"'\\]*)/g;
/** A PEM block whose label says PRIVATE or SECRET (`RSA PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`, `OPENSSH PRIVATE KEY`). */
const PEM_BEGIN = /-----BEGIN ([A-Z0-9 ]*(?:PRIVATE|SECRET)[A-Z0-9 ]*)-----/;
const PEM_END = /-----END [A-Z0-9 ]*-----/;
/** A YAML key alone on its line (`password:`, `- "api_token": |`), the value on the lines after it; a comment may follow. */
const YAML_KEY = /^(\s*(?:-\s+)?)(["']?)([A-Za-z_][A-Za-z0-9_.-]*)\2\s*:[ \t]*([|>][-+0-9]*)?[ \t]*(?:#.*)?\r?$/;
/** A line that starts a YAML mapping entry or sequence item: not a scalar. */
const YAML_STRUCTURE = /^\s*(?:-(?:\s|$)|(["']?)[^\s"'#:][^"'#:]*\1\s*:(?:\s|$)|#)/;

const unquoted = (v: string) => (/^(["']).*\1$/.test(v) ? v.slice(1, -1) : v);

/**
 * A line with every literal under a secret-like name, and every secret known by its shape (maskSecretShapes),
 * replaced by MASK (placeholders, variables and references shown; a URL keeps its host, and its user unless a token).
 */
export function maskSecretLine(line: string): string {
  const named = line.replace(ASSIGNMENT, (whole, quote: string, name: string, sep: string, value: string) => {
    const bare = unquoted(value);
    if (!isSecretName(name) || bare === "" || isReference(bare)) return whole;
    const q = value === bare ? "" : value[0];
    return `${quote}${name}${quote}${sep}${q}${MASK}${q}`;
  });
  return maskSecretShapes(named, MASK).replace(QUERY_PARAMETER, (whole, sep: string, name: string, value: string) =>
    value === "" || value === MASK || !isSecretName(name) || isReference(value) ? whole : `${sep}${name}=${MASK}`,
  );
}

/** A line of a secret's value: its indentation kept, the rest MASK (a bare reference shown). */
const maskWhole = (line: string) => {
  const text = line.trim();
  if (text === "" || isReference(unquoted(text))) return line;
  return `${/^\s*/.exec(line)![0]}${MASK}`;
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

const indentOf = (line: string) => /^[ \t]*/.exec(line)![0].length;

/**
 * Each line of a text with its secrets masked (as many lines, in order): maskSecretLine, and what a line
 * alone cannot tell: every line of a PEM block whose label says PRIVATE or SECRET, between its BEGIN and END
 * lines (which are shown; a block never ended is masked to the end); and the value on the lines after a YAML
 * key that is secret-like and alone on its line: a `|` or `>` block scalar, or a scalar indented under it,
 * until a line no deeper than the key. A mapping or a list under such a key is shown (each entry masked by
 * its own name): compose's `secrets:` lists names.
 */
export function maskLines(text: string): string[] {
  const out: string[] = [];
  let pem = false;
  /** A secret-like YAML key's column, and whether its value has begun (a block scalar begins at once). */
  let yaml: { column: number; value: boolean } | undefined;
  for (const line of text.split("\n")) {
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
    if (yaml) {
      if (line.trim() === "" || (!yaml.value && /^\s*#/.test(line) && indentOf(line) > yaml.column)) {
        out.push(line);
        continue;
      }
      if (indentOf(line) > yaml.column && (yaml.value || !YAML_STRUCTURE.test(line))) {
        yaml.value = true;
        out.push(maskWhole(line));
        continue;
      }
      yaml = undefined;
    }
    const key = YAML_KEY.exec(line);
    if (key && isSecretName(key[3])) {
      yaml = { column: key[1].length, value: key[4] !== undefined };
      out.push(line);
      continue;
    }
    const inLine = maskPemInLine(line);
    pem = inLine.open;
    out.push(maskSecretLine(inLine.text));
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
