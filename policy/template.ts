// Terraform template strings inside synthesized JSON.
//
// Attributes such as `container_definitions` and IAM `policy` are JSON
// documents held in a string, and that string is itself a Terraform template:
// it may contain interpolations like `${element(split(":", data.x.endpoint), 0)}`
// whose quotes are not JSON-escaped, so `JSON.parse` fails on it. The decoder
// here replaces each interpolation by a JSON-safe placeholder, parses, and puts
// the interpolations back into the decoded strings.

/** A run of literal text, or one `${...}` / `%{...}` template sequence (verbatim). */
export interface TemplatePart {
  readonly kind: "literal" | "interpolation";
  readonly text: string;
}

/**
 * Splits a Terraform template into literal text and template sequences.
 * A sequence ends at its matching `}`: nested braces, HCL string literals
 * (with their escapes and own nested `${}`) inside it are skipped. `$${` and
 * `%%{` are escapes for a literal `${` / `%{` and stay literal. An unterminated
 * sequence is kept as literal text, with the rest of the text: Terraform rejects
 * the template there, and looking for a sequence's end from every later `${`
 * took seconds for a few thousand of them (each read to the end of the text).
 */
export function splitTemplate(text: string): TemplatePart[] {
  // Most strings hold no sequence: no walk character by character (the policy splits every string of a stack).
  if (!text.includes("{")) return text ? [{ kind: "literal", text }] : [];
  const parts: TemplatePart[] = [];
  let literal = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if ((c === "$" || c === "%") && text[i + 1] === c && text[i + 2] === "{") {
      literal += text.slice(i, i + 3);
      i += 3;
      continue;
    }
    if ((c === "$" || c === "%") && text[i + 1] === "{") {
      const end = sequenceEnd(text, i);
      if (end < 0) {
        literal += text.slice(i);
        break;
      }
      if (literal) parts.push({ kind: "literal", text: literal });
      literal = "";
      parts.push({ kind: "interpolation", text: text.slice(i, end) });
      i = end;
      continue;
    }
    literal += c;
    i++;
  }
  if (literal) parts.push({ kind: "literal", text: literal });
  return parts;
}

/** Index just past the `}` closing the sequence that opens at `start`, or -1. */
function sequenceEnd(text: string, start: number): number {
  let depth = 1;
  let i = start + 2;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      i = hclStringEnd(text, i);
      if (i < 0) return -1;
      continue;
    }
    if (c === "\\" && text[i + 1] === '"') {
      // A JSON-escaped string literal (`split(\":\", x)`): from JSON.stringify
      // of a literal template. Terraform would reject it; tolerate it here.
      i = escapedStringEnd(text, i);
      if (i < 0) return -1;
      continue;
    }
    if (c === "{") depth++;
    else if (c === "}" && --depth === 0) return i + 1;
    i++;
  }
  return -1;
}

/** Index just past the `\"` closing the escaped string literal that opens (`\"`) at `start`, or -1. */
function escapedStringEnd(text: string, start: number): number {
  let i = start + 2;
  while (i < text.length) {
    if (text[i] === "\\" && text[i + 1] === '"') return i + 2;
    i += text[i] === "\\" ? 2 : 1;
  }
  return -1;
}

/** Index just past the `"` closing the HCL string literal that opens at `start`, or -1. */
function hclStringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === "\\") {
      i += 2;
      continue;
    }
    if (c === '"') return i + 1;
    if ((c === "$" || c === "%") && text[i + 1] === c && text[i + 2] === "{") {
      i += 3;
      continue;
    }
    if ((c === "$" || c === "%") && text[i + 1] === "{") {
      const end = sequenceEnd(text, i);
      if (end < 0) return -1;
      i = end;
      continue;
    }
    i++;
  }
  return -1;
}

/** True when the value is exactly one `${...}` interpolation (a Terraform reference or expression). */
export function isPureReference(value: unknown): boolean {
  if (typeof value !== "string" || !value.startsWith("${")) return false;
  const parts = splitTemplate(value);
  return parts.length === 1 && parts[0].kind === "interpolation";
}

/** The string with each template sequence replaced by `mask` (for pattern scans of the literal text). */
export function maskTemplate(value: string, mask: string): string {
  return splitTemplate(value)
    .map((p) => (p.kind === "literal" ? p.text : mask))
    .join("");
}

/**
 * Parses a JSON document that is also a Terraform template. Each template
 * sequence comes back verbatim inside the decoded strings; one that stands
 * where a JSON value is expected (`"cpu": ${var.cpu}`) decodes as the string
 * `"${var.cpu}"`. Throws a SyntaxError when the text is not JSON once the
 * sequences are replaced.
 */
export function decodeTemplateJson(text: string): unknown {
  const parts = splitTemplate(text);
  const sequences: string[] = [];
  const inJsonString: boolean[] = [];
  // The first nonce whose `__tf<nonce>_` the text does not hold, from one reading of the text (looked for
  // one nonce after another, each read the whole text: 60,000 of them in 570 KB took 8 s).
  const taken = new Set(Array.from(text.matchAll(/__tf(\d+)(?=_)/g), (m) => m[1]));
  let nonce = 0;
  while (taken.has(String(nonce))) nonce++;
  const placeholder = (n: number) => `__tf${nonce}_${n}__`;
  let masked = "";
  let inString = false;
  for (const part of parts) {
    if (part.kind === "interpolation") {
      sequences.push(part.text);
      inJsonString.push(inString);
      const p = placeholder(sequences.length - 1);
      masked += inString ? p : `"${p}"`;
      continue;
    }
    // Track whether the text so far ends inside a JSON string.
    for (let i = 0; i < part.text.length; i++) {
      const c = part.text[i];
      if (inString && c === "\\") i++;
      else if (c === '"') inString = !inString;
    }
    masked += part.text;
  }
  const pattern = new RegExp(`__tf${nonce}_(\\d+)__`, "g");
  const restore = (v: unknown): unknown => {
    if (typeof v === "string") return v.replace(pattern, (_, n: string) => inJsonString[Number(n)] ? jsonUnescape(sequences[Number(n)]) : sequences[Number(n)]);
    if (Array.isArray(v)) return v.map(restore);
    if (v !== null && typeof v === "object") {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [restore(k) as string, restore(x)]));
    }
    return v;
  };
  return restore(JSON.parse(masked));
}

/**
 * A sequence found inside a JSON string is JSON string content when it was
 * escaped (`split(\":\", x)`); cdktf writes it raw (`split(":", x)`), which is
 * not valid JSON string content and stays as it is.
 */
function jsonUnescape(sequence: string): string {
  try {
    return JSON.parse(`"${sequence}"`) as string;
  } catch {
    return sequence;
  }
}
