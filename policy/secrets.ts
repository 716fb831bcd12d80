// Secrets: the scan of every string in the document for credentials and literals under secret-like
// names; which names those are is ./secret-names.ts (re-exported here; the ECS environment check uses it too).
import { Finding, finding } from "./rules";
import { Json, isObject } from "./document";
import { isSecretName } from "./secret-names";
import { isPureReference, maskTemplate, splitTemplate } from "./template";
import { isConstantExpression, stringLiterals } from "./hcl-expression";

export { NON_SECRET_QUALIFIERS, isSecretName } from "./secret-names";

// ---------------------------------------------------------------------------
// Secrets anywhere in the document

const AWS_ACCESS_KEY = /\b(AKIA|ASIA)[0-9A-Z]{16}\b/;
const PRIVATE_KEY = /-----BEGIN ((RSA|DSA|EC|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY( BLOCK)?-----/;
/**
 * scheme://user:password@host, the password at least one character. A scheme is tried only at the first letter
 * of its run of scheme characters that a word starts at (the lookbehind, tried at such letters only): from a
 * later one it would end at the same place and fail or match alike, and each letter after a `.` or `-` read to
 * the run's end took a 20 KB `a.a.a...` string 0.3 s, 200 KB 32 s (quadratic).
 */
const URL_CREDENTIALS = /\b(?=[a-z])(?<!(?:^|[^_a-z0-9])[a-z][a-z0-9+.-]*?)[a-z][a-z0-9+.-]*:\/\/([^\s:/@"'?#]*):([^\s/@"'?#]+)@[^\s/"'?#]+/gi;
/** Stands in for a `${...}` sequence in the scans: a reference is not a literal secret. */
const REF = "\u0001";

/** Shannon entropy in bits per character. */
export function shannonEntropy(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/**
 * A random-looking literal: 16+ characters without whitespace, two or more
 * character classes, entropy of at least 3.5 bits per character, and not a
 * path, ARN or URL.
 */
export function looksRandom(s: string): boolean {
  if (s.length < 16 || /\s/.test(s)) return false;
  if (s.startsWith("/") || s.startsWith("arn:") || s.includes("://")) return false;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((r) => r.test(s)).length;
  return classes >= 2 && shannonEntropy(s) >= 3.5;
}

function formatPath(segments: (string | number)[]): string {
  return segments
    .map((s, i) =>
      typeof s === "number" ? `[${s}]` : /^[A-Za-z_][A-Za-z0-9_-]*$/.test(s) ? `${i === 0 ? "" : "."}${s}` : `[${JSON.stringify(s)}]`,
    )
    .join("");
}

/**
 * The name a value is known by: its key; for `default` / `value` keys the
 * enclosing key (a variable's name) or the sibling `name` (`{name, value}` pairs,
 * an SSM parameter's `value` or `insecure_value`).
 */
function valueName(segments: (string | number)[], parent: Json | undefined): string {
  const keys = segments.filter((s): s is string => typeof s === "string");
  const last = keys[keys.length - 1] ?? "";
  if ((last === "value" || last === "insecure_value") && parent && typeof parent.name === "string") return parent.name;
  if (last === "default" || last === "value") return keys[keys.length - 2] ?? last;
  return last;
}

export function scanSecrets(doc: Json): Finding[] {
  const out: Finding[] = [];
  const visit = (v: unknown, segments: (string | number)[], parent: Json | undefined): void => {
    if (typeof v === "string") {
      scanString(v, segments, parent, out);
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((x, i) => visit(x, [...segments, i], undefined));
      return;
    }
    if (isObject(v)) {
      for (const key of Object.keys(v).sort()) {
        if (key !== "//") visit(v[key], [...segments, key], v);
      }
    }
  };
  visit(doc, [], undefined);
  return out;
}

function scanString(value: string, segments: (string | number)[], parent: Json | undefined, out: Finding[]): void {
  if (value === "") return;
  // The path is formatted only for a finding: most strings have none.
  const address = () => formatPath(segments);
  // The string literals inside its expressions (`${base64encode("...")}`, `${jsonencode({...})}`) are
  // literals too: scanned for credentials' shapes, each on its own line (no name is known for them).
  const inExpressions = splitTemplate(value).flatMap((p) => (p.kind === "interpolation" ? stringLiterals(p.text.slice(2, -1)) : []));
  const literal = [maskTemplate(value, REF), ...inExpressions.map((l) => maskTemplate(l, REF))].join("\n");
  if (AWS_ACCESS_KEY.test(literal)) out.push(finding("ZH-SECRET-AWS-ACCESS-KEY", address(), "an AWS access key id (AKIA…/ASIA…) is written in the configuration"));
  if (PRIVATE_KEY.test(literal)) out.push(finding("ZH-SECRET-PRIVATE-KEY", address(), "a PEM private key is written in the configuration"));
  for (const m of literal.matchAll(URL_CREDENTIALS)) {
    if (m[2].includes(REF)) continue; // the password is a reference
    const scheme = m[0].slice(0, m[0].indexOf("://"));
    out.push(finding("ZH-SECRET-URL-CREDENTIALS", address(), `${scheme}:// URL with a literal user:password`));
    break;
  }
  const name = valueName(segments, parent);
  if (isSecretName(name) && isConstantExpression(value)) {
    out.push(finding("ZH-SECRET-LITERAL", address(), `"${name}" holds a constant expression (it refers to nothing) instead of a reference`));
  } else if (isSecretName(name) && !isPureReference(value)) {
    const parts = splitTemplate(value);
    const longest = parts
      .filter((p) => p.kind === "literal")
      .map((p) => p.text)
      .sort((a, b) => b.length - a.length)[0];
    if (longest !== undefined && looksRandom(longest)) {
      out.push(finding("ZH-SECRET-HIGH-ENTROPY", address(), `"${name}" holds a random-looking literal (${longest.length} characters)`));
    } else if (parts.every((p) => p.kind === "literal") && value.trim() !== "") {
      // Not random-looking is no proof of not secret: the HCL passed the database password as a literal.
      out.push(finding("ZH-SECRET-LITERAL", address(), `"${name}" holds a literal value (${value.length} characters) instead of a reference`));
    }
  }
}
