// Secret-like names: which keys and variable names hold a secret. Plain data and string work, no imports:
// synth-diff's comparison (lib/tf-diff.ts) masks by them, and the cdktf wrapper that loads it must not
// load cdktf (through the policy's configuration) before its state check.

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
