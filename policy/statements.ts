// The values inside a read policy document (JSON, a JSON template, Fn.jsonencode of a literal): `local.<name>`
// and `var.<name>` read where the configuration holds their literal value, and the values the checks decide on
// (Effect, Action, Principal, Resource, Condition) that stay expressions the checks cannot read before apply.
import { Finding, finding } from "./rules";
import { Json, isObject } from "./document";
import { splitTemplate } from "./template";

/** The variables whose defaults were read inside each array or object `resolveValues` made (a statement's, say). */
const DEFAULTS_READ = new WeakMap<object, string[]>();

const WHOLE = /^\$\{\s*(local|var)\.([A-Za-z_][A-Za-z0-9_-]*)\s*\}$/;

/**
 * A decoded document with each value that is exactly `${local.<name>}` replaced by the local's value (in `locals`,
 * itself read the same way, a few levels deep) and each `${var.<name>}` by the variable's literal `default`, as
 * Terraform uses it when nothing is passed; inside a longer string (`arn:aws:s3:::${var.bucket}/*`) only a string,
 * number or boolean is put in. A local that is an expression, and a variable without a default, stay the `${...}`
 * they are. Which defaults were read is kept per statement (`defaultsRead`).
 */
export function resolveValues(value: unknown, doc: Json, depth = 0, used: Set<string> = new Set()): unknown {
  if (typeof value === "string") return resolveString(value, doc, depth, used);
  if (!Array.isArray(value) && !isObject(value)) return value;
  const mine = new Set<string>();
  const out = Array.isArray(value) ? value.map((v) => resolveValues(v, doc, depth, mine)) : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveValues(v, doc, depth, mine)]));
  if (mine.size > 0) DEFAULTS_READ.set(out, [...mine].sort());
  mine.forEach((v) => used.add(v));
  return out;
}

/** The value a local or variable holds in the configuration, and the variable's name when it is a default; undefined when not known. */
function lookUp(doc: Json, kind: string, name: string): { value: unknown; variable?: string } | undefined {
  const own = (o: unknown, k: string): o is Json => isObject(o) && Object.prototype.hasOwnProperty.call(o, k);
  if (kind === "local") return own(doc.locals, name) ? { value: doc.locals[name] } : undefined;
  const variable = own(doc.variable, name) ? doc.variable[name] : undefined;
  return own(variable, "default") && variable.default !== null ? { value: variable.default, variable: `var.${name}` } : undefined;
}

function resolveString(s: string, doc: Json, depth: number, used: Set<string>): unknown {
  if (depth >= 8 || !s.includes("${")) return s;
  const whole = WHOLE.exec(s);
  if (whole) {
    const found = lookUp(doc, whole[1], whole[2]);
    if (!found) return s;
    if (found.variable) used.add(found.variable);
    return resolveValues(found.value, doc, depth + 1, used);
  }
  const parts = splitTemplate(s);
  return parts
    .map((p) => {
      const m = p.kind === "interpolation" ? WHOLE.exec(p.text) : null;
      const found = m ? lookUp(doc, m[1], m[2]) : undefined;
      if (!found) return p.text;
      const value = typeof found.value === "string" ? resolveString(found.value, doc, depth + 1, used) : found.value;
      if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") return p.text;
      if (found.variable) used.add(found.variable);
      return String(value);
    })
    .join("");
}

/** The variables read at their default inside a statement, for its findings' messages. */
export function defaultsRead(s: unknown): string[] {
  return isObject(s) || Array.isArray(s) ? (DEFAULTS_READ.get(s) ?? []) : [];
}

/** A finding's message, saying which variables it judged at their default (a value passed at plan time is not seen). */
export function withDefaultsNote(message: string, s: unknown): string {
  const vars = defaultsRead(s);
  if (vars.length === 0) return message;
  return `${message} (${vars.join(", ")} read at ${vars.length > 1 ? "their defaults" : "its default"}; a value passed at plan time is not seen)`;
}

/**
 * A reference to what the configuration creates or reads, whose attribute names a thing, not a set of things:
 * `aws_sqs_queue.q.arn`, `data.aws_caller_identity.c.account_id`, `module.storage.bucket_arn` (indexes allowed).
 * Not `var.`, `local.`, `each.`, `count.`, a function call or an operator: those can be anything, "*" included.
 */
const IDENTITY = /^(?:data\.[A-Za-z_][\w-]*\.[A-Za-z_][\w-]*|module\.[A-Za-z_][\w-]*|[a-z][a-z0-9]*_[\w-]*\.[A-Za-z_][\w-]*)(?:\[[^\]]*\])?(?:\.[A-Za-z_][\w-]*(?:\[[^\]]*\])?)*$/;

/** The first expression in a value (a string, or the strings inside a list or object) that is not an identity reference: `${var.x}`. */
export function unreadExpression(value: unknown, identitiesRead = true): string | undefined {
  if (typeof value === "string") {
    if (!value.includes("${")) return undefined;
    return splitTemplate(value).find((p) => p.kind === "interpolation" && (!identitiesRead || !IDENTITY.test(p.text.slice(2, -1).trim())))?.text;
  }
  const inner = Array.isArray(value) ? value : isObject(value) ? Object.values(value) : [];
  for (const v of inner) {
    const found = unreadExpression(v, identitiesRead);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** What an expression is, without its arguments (they may hold literals): `the expression var.policy`, `the expression file(...)`. */
export function expressionHead(raw: string): string {
  const inner = raw.slice(2, -1).trim();
  const call = /^([A-Za-z_][A-Za-z0-9_:]*)\s*\(/.exec(inner);
  if (call) return `the expression ${call[1]}(...)`;
  const reference = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$/.exec(inner);
  return reference && inner.length <= 80 ? `the expression ${inner}` : "a Terraform expression";
}

/** ZH-JSON-NOT-READ for a value at `path` that holds `expression` (`is` when the value is the expression itself). */
export function notRead(address: string, path: string, value: unknown, expression: string): Finding {
  return finding("ZH-JSON-NOT-READ", address, `${path} ${value === expression ? "is" : "holds"} ${expressionHead(expression)}, which the checks cannot read before apply`, { path });
}

/** A statement's elements the checks decide on: an identity policy's, or a resource or trust policy's (who it lets in). */
export type Decides = "identity" | "who";

/**
 * ZH-JSON-NOT-READ for each element of a statement that decides its verdict and holds an expression the checks
 * cannot read: Effect (any expression); for an identity policy Action, NotAction, Resource, NotResource; for a
 * resource or trust policy Principal, NotPrincipal, and the expression `condition` finds in its Condition (given
 * when the statement would let anyone in but for it). A reference to what the configuration creates
 * (`${aws_sqs_queue.q.arn}`) is read as naming that one thing.
 */
export function unreadElements(address: string, s: Json, path: string, decides: Decides, condition?: (c: unknown) => string | undefined): Finding[] {
  const out: Finding[] = [];
  const effect = unreadExpression(s.Effect, false);
  if (effect !== undefined) out.push(notRead(address, `${path}.Effect`, s.Effect, effect));
  for (const key of decides === "identity" ? ["Action", "NotAction", "Resource", "NotResource"] : ["Principal", "NotPrincipal"]) {
    const expression = unreadExpression(s[key]);
    if (expression !== undefined) out.push(notRead(address, `${path}.${key}`, s[key], expression));
  }
  const inCondition = condition?.(s.Condition);
  if (inCondition !== undefined) out.push(notRead(address, `${path}.Condition`, s.Condition, inCondition));
  return out;
}

/**
 * The statements of a read document, with their paths (`policy.Statement[0] (Sid)`), and ZH-JSON-NOT-READ where the
 * document, its Statement or one statement is an expression the checks cannot read (a local holding `merge(...)`).
 */
export function readStatements(address: string, policy: unknown, at: string): { statements: { s: Json; path: string }[]; findings: Finding[] } {
  const findings: Finding[] = [];
  const expressionAt = (value: unknown, path: string): boolean => {
    const expression = typeof value === "string" ? unreadExpression(value, false) : undefined;
    if (expression !== undefined) findings.push(notRead(address, path, value, expression));
    return expression !== undefined;
  };
  if (!isObject(policy)) {
    expressionAt(policy, at);
    return { statements: [], findings };
  }
  if (expressionAt(policy.Statement, `${at}.Statement`)) return { statements: [], findings };
  const list = Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement];
  const statements: { s: Json; path: string }[] = [];
  list.forEach((s, i) => {
    if (isObject(s)) statements.push({ s, path: statementPath(at, s, i) });
    else expressionAt(s, `${at}.Statement[${i}]`);
  });
  return { statements, findings };
}

/** A statement's path in a finding: `policy.Statement[0] (Sid)`. */
export const statementPath = (at: string, s: Record<string, unknown>, i: number) => `${at}.Statement[${i}]${typeof s.Sid === "string" && s.Sid ? ` (${s.Sid})` : ""}`;
