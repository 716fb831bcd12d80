// The literal part of a Terraform (HCL) expression, for attributes written as one expression:
// `${jsonencode({"Version" = "2012-10-17", "Statement" = [...]})}`, as cdktf writes `Fn.jsonencode(...)`.
// Objects, tuples, strings, numbers, booleans and null are decoded; anything else (a reference,
// a function call, an operator) is kept as an opaque `${...}` string, as decodeTemplateJson keeps
// the interpolations of a JSON template, so the checks treat it as a reference.
import { splitTemplate } from "./template";

/** Thrown where the text is not an expression this reader understands; callers treat it as unread. */
class Unreadable extends Error {}

const IDENT = /[A-Za-z_][A-Za-z0-9_-]*/y;
const NUMBER = /-?\d+(\.\d+)?([eE][+-]?\d+)?/y;

/**
 * The value of `jsonencode(<literal>)` when the template is exactly one such call (`${jsonencode(...)}`),
 * with `local.<name>` read from `locals` when given; undefined when the argument is not a literal
 * (a variable, another function) or is not understood.
 */
export function decodeJsonencode(template: string, locals?: Record<string, unknown>): unknown {
  const m = /^\$\{\s*jsonencode\s*\(([\s\S]*)\)\s*\}$/.exec(template);
  if (!m) return undefined;
  const arg = m[1].trim();
  const local = /^local\.([A-Za-z_][A-Za-z0-9_-]*)$/.exec(arg);
  if (local) return locals && Object.prototype.hasOwnProperty.call(locals, local[1]) ? locals[local[1]] : undefined;
  try {
    const reader = new Reader(arg);
    const value = reader.value();
    reader.end();
    // The argument itself an expression (`var.policy`, `merge(...)`): nothing to read before apply.
    return reader.opaqueAt === 0 ? undefined : value;
  } catch (e) {
    if (e instanceof Unreadable) return undefined;
    throw e;
  }
}

/** The decoded contents of every HCL string literal in an expression, nested templates' included. */
export function stringLiterals(expression: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < expression.length) {
    if (expression[i] !== '"') {
      i++;
      continue;
    }
    try {
      const reader = new Reader(expression, i);
      out.push(reader.string());
      i = reader.at;
    } catch (e) {
      if (!(e instanceof Unreadable)) throw e;
      break;
    }
  }
  // A literal's own `${...}` sequences may hold literals too.
  return out.flatMap((s) => [s, ...splitTemplate(s).flatMap((p) => (p.kind === "interpolation" ? stringLiterals(p.text.slice(2, -1)) : []))]);
}

class Reader {
  /** Where the first expression kept whole began. */
  opaqueAt = -1;

  constructor(
    private readonly text: string,
    public at = 0,
  ) {}

  end(): void {
    this.space();
    if (this.at < this.text.length) throw new Unreadable(`unexpected ${JSON.stringify(this.text[this.at])}`);
  }

  value(): unknown {
    this.space();
    const start = this.at;
    const literal = this.literal();
    while (this.text[this.at] === " " || this.text[this.at] === "\t") this.at++;
    // A literal followed by anything but a separator is part of a larger expression (`"a" == x ? ...`).
    if (literal !== NOT_LITERAL && this.separated()) return literal;
    this.at = start;
    return this.opaque();
  }

  string(): string {
    if (this.text[this.at] !== '"') throw new Unreadable("expected a string");
    let out = "";
    this.at++;
    while (this.at < this.text.length) {
      const c = this.text[this.at];
      if (c === '"') {
        this.at++;
        return out;
      }
      if (c === "\\") {
        out += this.escape();
        continue;
      }
      if ((c === "$" || c === "%") && this.text[this.at + 1] === c && this.text[this.at + 2] === "{") {
        // `$${` is a literal `${`: kept as written, as decodeTemplateJson keeps a template's text.
        out += this.text.slice(this.at, this.at + 3);
        this.at += 3;
        continue;
      }
      if ((c === "$" || c === "%") && this.text[this.at + 1] === "{") {
        const end = this.sequenceEnd(this.at);
        out += this.text.slice(this.at, end);
        this.at = end;
        continue;
      }
      if (c === "\n") throw new Unreadable("a newline in a string");
      out += c;
      this.at++;
    }
    throw new Unreadable("an unterminated string");
  }

  private literal(): unknown {
    const c = this.text[this.at];
    if (c === '"') return this.string();
    if (c === "[") return this.forExpression() ? NOT_LITERAL : this.tuple();
    if (c === "{") return this.forExpression() ? NOT_LITERAL : this.object();
    NUMBER.lastIndex = this.at;
    const n = NUMBER.exec(this.text);
    if (n) {
      this.at += n[0].length;
      return Number(n[0]);
    }
    IDENT.lastIndex = this.at;
    const word = IDENT.exec(this.text)?.[0];
    if (word === "true" || word === "false" || word === "null") {
      this.at += word.length;
      return word === "null" ? null : word === "true";
    }
    return NOT_LITERAL;
  }

  private tuple(): unknown[] {
    this.at++;
    const out: unknown[] = [];
    for (;;) {
      this.space();
      if (this.text[this.at] === "]") {
        this.at++;
        return out;
      }
      out.push(this.value());
      this.space();
      if (this.text[this.at] === ",") this.at++;
      else if (this.text[this.at] !== "]") throw new Unreadable("expected , or ] in a tuple");
    }
  }

  private object(): Record<string, unknown> {
    this.at++;
    const out: Record<string, unknown> = {};
    for (;;) {
      this.space();
      if (this.text[this.at] === "}") {
        this.at++;
        return out;
      }
      const key = this.key();
      this.space();
      if (this.text[this.at] !== "=" && this.text[this.at] !== ":") throw new Unreadable("expected = after an object key");
      this.at++;
      out[key] = this.value();
      this.space();
      if (this.text[this.at] === ",") this.at++;
    }
  }

  private key(): string {
    if (this.text[this.at] === '"') return this.string();
    IDENT.lastIndex = this.at;
    const word = IDENT.exec(this.text)?.[0];
    if (!word) throw new Unreadable("an object key that is an expression");
    this.at += word.length;
    return word;
  }

  /** An expression kept whole: up to the next `,`, `]`, `}` (or newline in an object) outside brackets and strings. */
  private opaque(): string {
    const start = this.at;
    let depth = 0;
    while (this.at < this.text.length) {
      const c = this.text[this.at];
      if (c === '"') {
        this.string();
        continue;
      }
      if (c === "<" && this.text[this.at + 1] === "<") throw new Unreadable("a heredoc");
      if (c === "#" || (c === "/" && (this.text[this.at + 1] === "/" || this.text[this.at + 1] === "*"))) throw new Unreadable("a comment");
      if (c === "(" || c === "[" || c === "{") depth++;
      else if (c === ")" || c === "]" || c === "}") {
        if (depth === 0) break;
        depth--;
      } else if (depth === 0 && (c === "," || c === "\n")) break;
      this.at++;
    }
    const expression = this.text.slice(start, this.at).trim();
    if (!expression || depth !== 0) throw new Unreadable("an empty or unbalanced expression");
    if (this.opaqueAt < 0) this.opaqueAt = start;
    return `\${${expression}}`;
  }

  /** A `[for ...]` or `{for ...}` expression starts here. */
  private forExpression(): boolean {
    return /^[[{]\s*for\s/.test(this.text.slice(this.at, this.at + 8));
  }

  private separated(): boolean {
    const c = this.text[this.at];
    return c === undefined || c === "," || c === "]" || c === "}" || c === ")" || c === "\n";
  }

  private space(): void {
    while (this.at < this.text.length && /\s/.test(this.text[this.at])) this.at++;
  }

  private escape(): string {
    const next = this.text[this.at + 1];
    const simple: Record<string, string> = { n: "\n", r: "\r", t: "\t", '"': '"', "\\": "\\" };
    if (next in simple) {
      this.at += 2;
      return simple[next];
    }
    const hex = next === "u" ? 4 : next === "U" ? 8 : 0;
    const digits = this.text.slice(this.at + 2, this.at + 2 + hex);
    if (!hex || !/^[0-9a-fA-F]+$/.test(digits) || digits.length !== hex) throw new Unreadable("an unknown escape");
    this.at += 2 + hex;
    return String.fromCodePoint(parseInt(digits, 16));
  }

  private sequenceEnd(start: number): number {
    let depth = 0;
    let i = start + 1;
    while (i < this.text.length) {
      const c = this.text[i];
      if (c === '"') {
        const inner = new Reader(this.text, i);
        inner.string();
        i = inner.at;
        continue;
      }
      if (c === "{") depth++;
      else if (c === "}" && --depth === 0) return i + 1;
      i++;
    }
    throw new Unreadable("an unterminated template sequence");
  }
}

const NOT_LITERAL = Symbol("not a literal");

/**
 * True when a template (`${...}`) is one expression that refers to nothing (no variable, local, resource, data
 * source, module or iterator): a constant written as an expression (`${base64decode("aHVudGVyMg==")}`).
 */
export function isConstantExpression(template: string): boolean {
  const parts = splitTemplate(template);
  if (parts.length !== 1 || parts[0].kind !== "interpolation") return false;
  const expression = parts[0].text.slice(2, -1);
  if (stringLiterals(expression).some((l) => splitTemplate(l).some((p) => p.kind === "interpolation"))) return false;
  const bare = expression.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  if (bare.includes("<<")) return false; // a heredoc: not read
  const names = [...bare.matchAll(/(?<![A-Za-z0-9_.-])([A-Za-z_][A-Za-z0-9_-]*)\b(?!\s*\()/g)].map((m) => m[1]);
  return names.every((n) => n === "true" || n === "false" || n === "null");
}
