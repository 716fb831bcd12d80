// Secrets: which names are secret-like (the ECS environment check uses it too), and the
// scan of every string in the document for credentials and random-looking literals.
import { Finding, finding } from "./rules";
import { Json, isObject } from "./document";
import { isPureReference, maskTemplate, splitTemplate } from "./template";

// ---------------------------------------------------------------------------
// Secret-like names

/** Words that make a name secret-like: a whole name segment, or the end of one (`DBPASSWORD`). */
const SECRET_WORDS = ["SECRET", "SECRETS", "PASSWORD", "PASSWORDS", "PASSWD", "TOKEN", "TOKENS", "APIKEY", "APIKEYS", "CREDENTIAL", "CREDENTIALS"];
/** Two-segment secret words (`API_KEY`, `PRIVATE_KEY`, `ACCESS_KEY`). */
const SECRET_PAIRS: [string, string[]][] = [
  ["API", ["KEY", "KEYS"]],
  ["PRIVATE", ["KEY", "KEYS"]],
  ["ACCESS", ["KEY", "KEYS"]],
];
/**
 * Segments after the secret word that make the name describe a property of a
 * secret, not a secret: `ACCESS_TOKEN_EXPIRE_MINUTES`, `PASSWORD_RESET_APP_DIR`,
 * `db_password_ssm_key`, `AWS_ACCESS_KEY_ID`.
 */
export const NON_SECRET_QUALIFIERS: readonly string[] = [
  "EXPIRE", "EXPIRES", "EXPIRY", "EXPIRATION", "TTL", "LIFETIME", "AGE", "MINUTES", "SECONDS", "HOURS", "DAYS",
  "TIMEOUT", "INTERVAL", "LENGTH", "LEN", "SIZE", "MIN", "MAX", "COUNT", "DIR", "PATH", "FILE", "URL", "URI",
  "ENDPOINT", "HOST", "PORT", "HEADER", "ALGORITHM", "ALG", "TYPE", "NAME", "ID", "ARN", "SSM", "PARAM",
  "PARAMETER", "ENABLED", "DISABLED", "REQUIRED", "POLICY", "ROTATION", "VERSION", "REGION", "PREFIX", "FORMAT",
];
const QUALIFIERS = new Set(NON_SECRET_QUALIFIERS);

/**
 * Whether a variable/key name looks like it holds a secret: it contains
 * SECRET, PASSWORD, PASSWD, TOKEN, API_KEY, PRIVATE_KEY, ACCESS_KEY or
 * CREDENTIAL(S) (case-insensitive, any of `_ - .` or camelCase as separators),
 * and no non-secret qualifier (NON_SECRET_QUALIFIERS) follows the last one.
 */
export function isSecretName(name: string): boolean {
  let known = secretNames.get(name);
  if (known === undefined) secretNames.set(name, (known = judgeName(name)));
  return known;
}
/** isSecretName's answers: a document repeats the same few keys (name, value, type) thousands of times. */
const secretNames = new Map<string, boolean>();

function judgeName(name: string): boolean {
  const segments = name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .filter(Boolean);
  let end = -1; // index just past the last secret word
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i];
    if (SECRET_WORDS.some((w) => s === w || s.endsWith(w))) end = i + 1;
    for (const [first, seconds] of SECRET_PAIRS) {
      if ((s === first || s.endsWith(first)) && seconds.includes(segments[i + 1] ?? "")) end = i + 2;
    }
  }
  if (end < 0) return false;
  return !segments.slice(end).some((s) => QUALIFIERS.has(s));
}

// ---------------------------------------------------------------------------
// Secrets anywhere in the document

const AWS_ACCESS_KEY = /\b(AKIA|ASIA)[0-9A-Z]{16}\b/;
const PRIVATE_KEY = /-----BEGIN ((RSA|DSA|EC|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY( BLOCK)?-----/;
/** scheme://user:password@host, the password at least one character. */
const URL_CREDENTIALS = /\b[a-z][a-z0-9+.-]*:\/\/([^\s:/@"'?#]*):([^\s/@"'?#]+)@[^\s/"'?#]+/gi;
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
 * enclosing key (a variable's name) or the sibling `name` (`{name, value}` pairs).
 */
function valueName(segments: (string | number)[], parent: Json | undefined): string {
  const keys = segments.filter((s): s is string => typeof s === "string");
  const last = keys[keys.length - 1] ?? "";
  if (last === "value" && parent && typeof parent.name === "string") return parent.name;
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
  if (value === "" || isPureReference(value)) return;
  // The path is formatted only for a finding: most strings have none.
  const address = () => formatPath(segments);
  const literal = maskTemplate(value, REF);
  if (AWS_ACCESS_KEY.test(literal)) out.push(finding("ZH-SECRET-AWS-ACCESS-KEY", address(), "an AWS access key id (AKIA…/ASIA…) is written in the configuration"));
  if (PRIVATE_KEY.test(literal)) out.push(finding("ZH-SECRET-PRIVATE-KEY", address(), "a PEM private key is written in the configuration"));
  for (const m of literal.matchAll(URL_CREDENTIALS)) {
    if (m[2].includes(REF)) continue; // the password is a reference
    const scheme = m[0].slice(0, m[0].indexOf("://"));
    out.push(finding("ZH-SECRET-URL-CREDENTIALS", address(), `${scheme}:// URL with a literal user:password`));
    break;
  }
  const name = valueName(segments, parent);
  if (isSecretName(name)) {
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
