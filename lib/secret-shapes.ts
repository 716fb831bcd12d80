// Secrets known by their shape, not their name: a URL's password, a URL's user that is a token, the password
// of a `user:password@host` without a scheme, the well-known token formats (AWS access key ids, GitHub,
// GitLab, Slack, OpenAI and Stripe keys), and base64 that decodes to a secret, anywhere in a line. One
// table for synth-diff (lib/tf-diff-mask.ts) and verify (commands/verify/redact.ts), so the two never
// disagree on what is a secret; each passes its own replacement text. Pure.
import { isPureReference } from "../policy/template";

/**
 * A value that only refers to one elsewhere: a template placeholder, a shell variable (`$${X}` in a
 * template is `${X}` once rendered), a command substitution (`$(aws ssm get-parameter ...)`: code, not a
 * literal), or a Terraform reference (`var.x`, `module.a.b`, `aws_x.y.z`) as an HCL expression passes it
 * to templatefile.
 */
export const isReference = (v: string): boolean =>
  isPureReference(v) ||
  /^\$[A-Za-z_][A-Za-z0-9_]*$/.test(v) ||
  /^\$\$?\{[^}]*\}$/.test(v) ||
  v.startsWith("$(") ||
  /^(?:var|local|module|data|each|count|self)\.[A-Za-z_][A-Za-z0-9_.-]*$/.test(v) ||
  /^[a-z][a-z0-9]*_[a-z0-9_]+\.[a-z_][a-z0-9_-]*\.[a-z_][a-z0-9_.-]*$/.test(v);

/**
 * Well-known token formats, each with its issuer's fixed prefix and at least its documented length, so a
 * word that merely starts alike (`ghp_x`, `sk-learn`, `AKIA` + 15) stays visible. `\b` before each: a
 * prefix inside a longer word (`task-...`, `MYAKIA...`) is not one.
 * - AWS access key id: `AKIA` (long-term) or `ASIA` (temporary) + exactly 16 upper-case letters or digits;
 * - GitHub: `ghp_ gho_ ghu_ ghs_ ghr_` + 36 or more letters or digits; `github_pat_` + 22 or more;
 * - GitLab personal access token: `glpat-` + 20 or more;
 * - Slack: `xoxa- xoxb- xoxp- xoxr-` + 10 or more letters, digits or `-`;
 * - OpenAI: `sk-proj- sk-svcacct- sk-admin-` + 20 or more, or `sk-` + 32 or more letters or digits (legacy);
 * - Stripe secret and restricted keys: `sk_live_ sk_test_ rk_live_ rk_test_` + 16 or more.
 */
const TOKEN =
  /\b(?:(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])|gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,}|glpat-[A-Za-z0-9_-]{20,}|xox[abpr]-[A-Za-z0-9-]{10,}|sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}|sk-[A-Za-z0-9]{32,}(?![A-Za-z0-9_-])|[sr]k_(?:live|test)_[A-Za-z0-9]{16,})/g;

/** A URL's user that begins as an issuer's token does, whatever its length (a user is no place for a word). */
const TOKEN_PREFIX = /^(?:gh[pousr]_|github_pat_|glpat-|xox[abpr]-|sk-|[sr]k_(?:live|test)_|AKIA|ASIA)/;

/**
 * Whether a URL's user (`https://<user>@host`) is a token: a known token prefix, or 20 or more of
 * `[A-Za-z0-9_-]` with a digit among them. Why: git hosts take a token as the user alone (GitHub's classic
 * `https://<40 hex>@github.com`, an OAuth token), and tokens are long random strings, so they have digits;
 * user names are short words (`git`, `zivo`, `ec2-user`, `x-access-token`, 14) and a long one is words too
 * (`zivohealth-deploy-bot`, 21, no digit). A long user with a digit (`deploy-bot-2024-production`) is masked:
 * over-masking a name costs less than printing a token.
 */
export const isTokenLikeUser = (user: string): boolean =>
  TOKEN_PREFIX.test(user) || (/^[A-Za-z0-9_-]{20,}$/.test(user) && /[0-9]/.test(user));

/**
 * `scheme://user:password@` or `scheme://user@`: the password is what runs from the first `:` of the authority
 * to its last `@` (an unencoded `@` in a password stays inside it); the authority ends at whitespace, `/`, a
 * double quote or a backslash (a JSON escape), and the user also at `? # '`. An unencoded `?` or `#` is taken
 * into the password (verify always redacted those): a port then a query with an `@` (`http://h:80?to=a@b`) is
 * over-masked, a password printed would be worse. The scheme is at most 32 characters, so no line makes this slow.
 */
const URL_AUTHORITY = /([A-Za-z][A-Za-z0-9+.-]{0,31}:\/\/)([^\s:/?#@"'\\]*)(?::([^\s/"\\]*))?@/g;
/** The same in a raw string (verify's values, not JSON text): a `"` or `\\` is part of the password there. */
const URL_AUTHORITY_RAW = /([A-Za-z][A-Za-z0-9+.-]{0,31}:\/\/)([^\s:/?#@"'\\]*)(?::([^\s/]*))?@/g;

/**
 * `user:password@host` with no scheme (`DATABASE=zivo:pa55w0rd@db:5432/app`, `https_proxy=bot:pw@proxy:3128`):
 * the user starts a word (after whitespace, `=`, a quote, `(` `,` `[` `{` `;` `|` `>`, or the line's start; not after
 * `/`, so a URL's authority is left to URL_AUTHORITY), is made of `[A-Za-z0-9._~%+${}-]`, and the password
 * runs from its `:` to the last `@` before whitespace, `/`, a quote or a backslash (raw: whitespace or `/`)
 * that a host's first character follows. Not one: `mailto:`, `sip:`, `xmpp:`, `npm:`, `jsr:` (a scheme without `//`) and an
 * image digest (`redis:7@sha256:...`).
 */
const BARE_CREDENTIALS = /(?<![^\s="'(,[{;|>])(?!(?:mailto|sips?|xmpp|npm|jsr):)([A-Za-z0-9._~%+${}-]+):([^\s/"'\\]*)@(?=[A-Za-z0-9[])(?!sha(?:256|384|512):)/g;
const BARE_CREDENTIALS_RAW = /(?<![^\s="'(,[{;|>])(?!(?:mailto|sips?|xmpp|npm|jsr):)([A-Za-z0-9._~%+${}-]+):([^\s/]*)@(?=[A-Za-z0-9[])(?!sha(?:256|384|512):)/g;

/**
 * Standard base64 of 12 or more characters (a multiple of 4, `=` padding allowed), not inside a longer run of
 * base64 characters: what BASE64_SECRET decodes. URL-safe base64 (`-` `_`) is not read.
 */
const BASE64 = /(?<![A-Za-z0-9+/=])(?:[A-Za-z0-9+/]{4}){3,}(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?(?![A-Za-z0-9+/=])/g;
/**
 * A PEM block's BEGIN whose label says PRIVATE or SECRET. The label is read once (the lookaheads, which are
 * not backtracked into): read to its end again after each PRIVATE in it, a line of 20 KB took 70 ms, 400 KB 19 s.
 */
export const PEM_PRIVATE_BEGIN = /-----BEGIN (?=[A-Z0-9 ]*?(?:PRIVATE|SECRET))(?=([A-Z0-9 ]*))\1-----/;

/**
 * Whether base64 text decodes to a secret: a PEM private key's BEGIN line (whole or the start of one), or
 * printable text that is `user:password` (HTTP Basic, a docker config's `auth`: no whitespace, a `:` with
 * something on each side, no quote, bracket, brace, `(`, `)`, `,`, `;`, `<` or `>` before it, so JSON is not one) or that holds a secret known by its shape (a URL's password, a token).
 */
export function decodesToSecret(base64: string): boolean {
  const text = Buffer.from(base64, "base64").toString("latin1");
  if (PEM_PRIVATE_BEGIN.test(text)) return true;
  if (!/^[\x20-\x7e\t\r\n]+$/.test(text)) return false;
  return /^[^\s:"'{}[\](),;<>]+:\S+$/.test(text.trim()) || maskSecretShapes(text, "\u0000", true) !== text;
}

/**
 * A line with every secret known by its shape replaced by `mask`: a URL's password (unless empty, already
 * `mask`, or a reference), a URL's user when isTokenLikeUser (the password with it too, if any), the password
 * of a `user:password@host` without a scheme (BARE_CREDENTIALS, same exceptions), every TOKEN, and base64
 * that decodes to a secret (decodesToSecret), whole. User names and hosts stay visible. `raw`: the line is a
 * value as it is, not JSON text (verify).
 */
export function maskSecretShapes(line: string, mask: string, raw = false): string {
  const shown = (password: string) => password === "" || password === mask || isReference(password);
  // Most lines hold no `@`: neither credentials' pattern is tried on them (the URL's scheme is tried at every letter).
  const credentials = line.includes("@")
    ? line
        .replace(raw ? URL_AUTHORITY_RAW : URL_AUTHORITY, (_whole, scheme: string, user: string, password: string | undefined) => {
          const shownUser = user !== mask && isTokenLikeUser(user) ? mask : user;
          if (password === undefined) return `${scheme}${shownUser}@`;
          return `${scheme}${shownUser}:${shown(password) ? password : mask}@`;
        })
        .replace(raw ? BARE_CREDENTIALS_RAW : BARE_CREDENTIALS, (whole, user: string, password: string) => (shown(password) ? whole : `${user}:${mask}@`))
    : line;
  return credentials
    .replace(TOKEN, mask)
    .replace(BASE64, (run) => (decodesToSecret(run) ? mask : run));
}
