// Policies that say who may use a resource (a queue's, a repository's, a role's trust policy): which of their
// Allow statements let anyone in, and the policy document data sources they are often written as.
import { Finding, RuleId, finding } from "./rules";
import { Json, blocks, entries, isObject, strings } from "./document";
import { jsonAttribute } from "./checks";
import { notRead, readStatements, resolveValues, unreadElements, unreadExpression, withDefaultsNote } from "./statements";

/** Whether a statement's Principal is everyone: `"*"`, `{ AWS: "*" }` or a list holding `"*"`. */
export function anyPrincipal(principal: unknown): boolean {
  if (principal === "*") return true;
  return isObject(principal) && strings(principal.AWS).includes("*");
}

/**
 * Condition keys that narrow who may act (lower case): the caller's organization, account, ARN, user, tags, the
 * source resource or account a service acts for, the network it comes from, an external id.
 */
const NARROWING_KEYS = new Set([
  "aws:principalorgid", "aws:principalorgpaths", "aws:principalaccount", "aws:principalarn", "aws:principalservicename",
  "aws:sourcearn", "aws:sourceaccount", "aws:sourceowner", "aws:sourceorgid", "aws:sourceorgpaths",
  "aws:sourcevpc", "aws:sourcevpce", "aws:sourceip", "aws:vpcsourceip", "aws:userid", "aws:username",
  "sts:externalid", "kms:calleraccount",
]);

/**
 * Whether a statement's Condition narrows the principals it lets in: one of its keys is a NARROWING_KEYS key (or
 * `aws:PrincipalTag/...`) under an operator that requires it (not `...IfExists`, `Null` or a negated `...Not...`:
 * a caller without the key, or with any other value, passes) and with a value other than "*".
 */
export function conditionNarrows(condition: unknown): boolean {
  if (!isObject(condition)) return false;
  return Object.entries(condition).some(([operator, block]) => {
    const op = operator.replace(/^for(any|all)value:/i, "");
    if (!isObject(block) || /ifexists$/i.test(op) || /^null$/i.test(op) || /not/i.test(op)) return false;
    return Object.entries(block).some(([key, values]) => {
      const k = key.toLowerCase();
      const narrowing = NARROWING_KEYS.has(k) || k.startsWith("aws:principaltag/");
      return narrowing && strings(values).some((v) => v !== "*");
    });
  });
}

/**
 * The expression the checks cannot read that decides whether a Condition narrows who: the Condition or one of its
 * operator blocks as a whole, or a value under a narrowing key (`aws:SourceAccount = var.account`).
 */
export function unreadCondition(condition: unknown): string | undefined {
  if (typeof condition === "string") return unreadExpression(condition, false);
  if (!isObject(condition)) return undefined;
  for (const block of Object.values(condition)) {
    if (typeof block === "string") return unreadExpression(block, false);
    if (!isObject(block)) continue;
    for (const [key, values] of Object.entries(block)) {
      const k = key.toLowerCase();
      const found = NARROWING_KEYS.has(k) || k.startsWith("aws:principaltag/") ? unreadExpression(values) : undefined;
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** An Allow whose Principal is everyone, or that names who it does not let in (NotPrincipal): before any Condition. */
export const letsAnyoneIn = (s: Json): boolean => s.Effect === "Allow" && (anyPrincipal(s.Principal) || s.NotPrincipal !== undefined);

/** The keys of a Condition, for a finding's message. */
function conditionKeys(condition: Json): string[] {
  return [...new Set(Object.values(condition).flatMap((block) => (isObject(block) ? Object.keys(block) : [])))];
}

/** Who an open statement lets in: any principal, or any but those its NotPrincipal names. */
export const whoIsLetIn = (s: Json) => (anyPrincipal(s.Principal) ? 'any principal ("*")' : "any principal but those in NotPrincipal");

/** A statement that lets anyone in (Principal "*", or an Allow with NotPrincipal: everyone but those named), and how its Condition fails to narrow that ("with no Condition", or what it is on). */
export function openToAnyone(s: Json, conditionWord = "Condition"): string | undefined {
  if (!letsAnyoneIn(s) || conditionNarrows(s.Condition)) return undefined;
  const keys = isObject(s.Condition) ? conditionKeys(s.Condition) : [];
  return keys.length === 0 ? `with no ${conditionWord}` : `with a ${conditionWord} on ${keys.join(", ")} only, which narrows no principal`;
}

/**
 * An `aws_iam_policy_document` data source as the JSON policy it renders (its `statement` blocks only, with the
 * configuration's locals and variable defaults read, statements.ts): `effect` (default Allow), `actions`,
 * `not_actions`, `resources`, `not_resources`, `principals` (type "*" is `"Principal": "*"`), `not_principals`,
 * `condition`.
 */
export function dataSourcePolicy(doc: Json, raw: Json): { Statement: Json[] } {
  const a = resolveValues(raw, doc) as Json;
  const principalsOf = (v: unknown): unknown => {
    const principal: Json = {};
    let everyone = false;
    for (const p of blocks(v)) {
      if (p.type === "*" && strings(p.identifiers).includes("*")) everyone = true;
      else if (typeof p.type === "string") principal[p.type] = [...strings(principal[p.type]), ...(typeof p.identifiers === "string" ? [p.identifiers] : strings(p.identifiers))];
    }
    return everyone ? "*" : Object.keys(principal).length > 0 ? principal : undefined;
  };
  const statements = blocks(a.statement).map((s) => {
    const condition: Json = {};
    for (const c of blocks(s.condition)) {
      if (typeof c.test !== "string" || typeof c.variable !== "string") continue;
      const block = (condition[c.test] ??= {}) as Json;
      block[c.variable] = typeof c.values === "string" ? c.values : strings(c.values);
    }
    const principal = principalsOf(s.principals);
    const notPrincipal = principalsOf(s.not_principals);
    // A list attribute that is one expression (`actions = local.computed`) stays that `${...}` string.
    const list = (v: unknown) => (typeof v === "string" ? v : strings(v));
    const statement: Json = {
      ...(typeof s.sid === "string" && s.sid ? { Sid: s.sid } : {}),
      Effect: s.effect ?? "Allow",
      Action: list(s.actions),
      Resource: list(s.resources),
      ...(s.not_actions !== undefined ? { NotAction: list(s.not_actions) } : {}),
      ...(s.not_resources !== undefined ? { NotResource: list(s.not_resources) } : {}),
      ...(principal !== undefined ? { Principal: principal } : {}),
      ...(notPrincipal !== undefined ? { NotPrincipal: notPrincipal } : {}),
      ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
    };
    return resolveValues(statement, doc) as Json;
  });
  return { Statement: statements };
}

/** A data source statement's path in a finding: `statement[0] (Sid)`. */
export const dataStatementPath = (s: Json, i: number) => `statement[${i}]${typeof s.Sid === "string" && s.Sid ? ` (${s.Sid})` : ""}`;

const DATA_JSON = /^\$\{\s*data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.(?:minified_)?json\s*\}$/;

/**
 * The statements of the policy a data source renders, as Terraform merges them: those of its
 * `source_policy_documents`, then its own `statement` blocks, then its `override_policy_documents`, a later
 * statement replacing an earlier one with the same Sid. A merged document that is another data source's JSON is
 * read from that data source (a few levels deep); one that is not read is left out (ZH-JSON-NOT-READ is said
 * where the IAM checks read it). Paths: `statement[0]`, `source_policy_documents[1].Statement[0]`.
 */
export function dataSourceStatements(doc: Json, name: string, a: Json, depth = 0): { s: Json; path: string }[] {
  const merged: { s: Json; path: string }[] = [];
  const add = (s: Json, path: string) => {
    const same = typeof s.Sid === "string" && s.Sid ? merged.findIndex((m) => m.s.Sid === s.Sid) : -1;
    if (same >= 0) merged[same] = { s, path };
    else merged.push({ s, path });
  };
  const documents = (attribute: string) =>
    strings(a[attribute]).forEach((raw, i) => {
      const at = `${attribute}[${i}]`;
      const other = DATA_JSON.exec(raw)?.[1];
      if (other !== undefined) {
        const source = entries(doc, "aws_iam_policy_document", "data").find(([n]) => n === other)?.[1];
        if (source && other !== name && depth < 4) dataSourceStatements(doc, other, source, depth + 1).forEach(({ s, path }) => add(s, `${at}.${path}`));
        return;
      }
      const read = jsonAttribute(doc, `data.aws_iam_policy_document.${name}`, raw, at);
      if ("findings" in read) return;
      readStatements(`data.aws_iam_policy_document.${name}`, read.value, at).statements.forEach(({ s, path }) => add(s, path));
    });
  documents("source_policy_documents");
  dataSourcePolicy(doc, a).Statement.forEach((s, i) => add(s, dataStatementPath(s, i)));
  documents("override_policy_documents");
  return merged;
}

/** The resource policies per rule: the resource types and the attribute that holds the policy. */
const RESOURCE_POLICIES: readonly [id: RuleId, type: string][] = [
  ["ZH-SQS-PUBLIC-POLICY", "aws_sqs_queue_policy"],
  ["ZH-SQS-PUBLIC-POLICY", "aws_sqs_queue"],
  ["ZH-ECR-PUBLIC-POLICY", "aws_ecr_repository_policy"],
  ["ZH-ECR-PUBLIC-POLICY", "aws_ecr_registry_policy"],
  ["ZH-SNS-PUBLIC-POLICY", "aws_sns_topic_policy"],
  ["ZH-SNS-PUBLIC-POLICY", "aws_sns_topic"],
  ["ZH-S3-PUBLIC-POLICY", "aws_s3_bucket_policy"],
  ["ZH-S3-PUBLIC-POLICY", "aws_s3_bucket"],
];

/**
 * Queue, repository, topic and bucket policies that let anyone in, with no condition that narrows who: written as
 * JSON, `Fn.jsonencode`, or a policy document data source (`${data.aws_iam_policy_document.<name>.json}`, read
 * here with the documents it merges: its statements name no principal check of their own). ZH-JSON-NOT-READ where
 * an Effect, a Principal, or the Condition of a statement open to anyone is an expression the checks cannot read.
 */
export function checkResourcePolicies(doc: Json): Finding[] {
  return [
    ...RESOURCE_POLICIES.flatMap(([id, type]) =>
      entries(doc, type).flatMap(([name, a]) => {
        const address = `${type}.${name}`;
        const source = typeof a.policy === "string" ? DATA_JSON.exec(a.policy)?.[1] : undefined;
        const data = source === undefined ? undefined : entries(doc, "aws_iam_policy_document", "data").find(([n]) => n === source)?.[1];
        const out: Finding[] = [];
        let statements: { s: Json; path: string }[];
        if (data && source !== undefined) {
          statements = dataSourceStatements(doc, source, data).map(({ s, path }) => ({ s, path: `data.aws_iam_policy_document.${source}.${path}` }));
        } else {
          const read = jsonAttribute(doc, address, a.policy, "policy");
          if ("findings" in read) return read.findings;
          const got = readStatements(address, read.value, "policy");
          out.push(...got.findings);
          statements = got.statements;
        }
        for (const { s, path } of statements) {
          const open = openToAnyone(s);
          out.push(...unreadElements(address, s, path, "who", letsAnyoneIn(s) ? unreadCondition : undefined));
          if (open === undefined) continue;
          const actions = strings(s.Action).join(", ") || "its actions";
          out.push(finding(id, address, withDefaultsNote(`allows ${actions} to ${whoIsLetIn(s)} ${open}`, s), { path }));
        }
        return out;
      }),
    ),
    ...checkLambdaPermissions(doc),
  ];
}

/** Lambda permissions for any principal ("*") with no source_arn, source_account or principal_org_id to narrow who. */
function checkLambdaPermissions(doc: Json): Finding[] {
  return entries(doc, "aws_lambda_permission").flatMap(([name, raw]) => {
    const address = `aws_lambda_permission.${name}`;
    const a = resolveValues(raw, doc) as Json;
    const expression = unreadExpression(a.principal);
    if (expression !== undefined) return [notRead(address, "principal", a.principal, expression)];
    const narrowed = ["source_arn", "source_account", "principal_org_id"].filter((k) => typeof a[k] === "string" && a[k] !== "" && a[k] !== "*");
    if (a.principal !== "*" || narrowed.length > 0) return [];
    const action = typeof a.action === "string" ? a.action : "its action";
    return [finding("ZH-LAMBDA-PUBLIC-PERMISSION", address, withDefaultsNote(`allows ${action} to any principal ("*") with no source_arn, source_account or principal_org_id`, a), { path: "principal" })];
  });
}
