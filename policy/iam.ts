// The policy's IAM checks: permission policies (admin, every action, a whole service, "*" resources)
// and trust policies (a role anyone may assume), in resources and policy document data sources.
import { Finding, UNSCOPABLE_ACTIONS, finding } from "./rules";
import { Json, blocks, entries, strings } from "./document";
import { jsonAttribute } from "./checks";
import { dataSourcePolicy, dataSourceStatements, dataStatementPath, letsAnyoneIn, openToAnyone, unreadCondition, whoIsLetIn } from "./resource-policy";
import { readStatements, unreadElements, unreadExpression, withDefaultsNote } from "./statements";

const UNSCOPABLE = new Set(UNSCOPABLE_ACTIONS.map((a) => a.toLowerCase()));

const IAM_POLICY_TYPES = ["aws_iam_policy", "aws_iam_role_policy", "aws_iam_user_policy", "aws_iam_group_policy"];

interface Statement {
  readonly path: string;
  readonly actions: string[];
  readonly resources: string[];
  /** `NotAction`: the statement allows every action but these. */
  readonly notActions: string[];
  /** `NotResource`: the statement applies to every resource but these. */
  readonly notResources: string[];
  /** The statement as read, for the variables read at their default in it. */
  readonly source: Json;
}

/** The checkov ids of the admin, star-action and star-resource cases: in a resource's policy, in a data source's. */
const RESOURCE_IDS = { admin: "CKV_AWS_62", star: "CKV_AWS_63", resource: "CKV_AWS_355" };
const DATA_IDS = { admin: "CKV_AWS_1", star: "CKV_AWS_49", resource: "CKV_AWS_356" };

/**
 * The findings of an identity policy's statements (JSON form, `path` each): ZH-JSON-NOT-READ where what decides
 * is an expression the checks cannot read (statements.ts), and the checks of its Allow statements on what it can.
 */
function judgeIdentityStatements(address: string, statements: { s: Json; path: string }[], ids: typeof RESOURCE_IDS): Finding[] {
  const out: Finding[] = [];
  const read = (v: unknown) => strings(v).filter((x) => unreadExpression(x) === undefined);
  const allows: Statement[] = [];
  for (const { s, path } of statements) {
    out.push(...unreadElements(address, s, path, "identity"));
    if (s.Effect !== "Allow") continue;
    allows.push({ path, actions: read(s.Action), resources: read(s.Resource), notActions: read(s.NotAction), notResources: read(s.NotResource), source: s });
  }
  return [...out, ...checkStatements(address, allows, ids)];
}

/**
 * Checks one JSON policy document attribute (`policy`, an `aws_iam_role`'s `inline_policy[i].policy`, a data
 * source's `source_policy_documents[i]`): its statements, or a finding when it is not JSON.
 */
function checkPolicyDocument(doc: Json, address: string, raw: unknown, at: string, ids = RESOURCE_IDS): Finding[] {
  const read = jsonAttribute(doc, address, raw, at);
  if ("findings" in read) return read.findings;
  const { statements, findings } = readStatements(address, read.value, at);
  return [...findings, ...judgeIdentityStatements(address, statements, ids)];
}

export function checkIamPolicies(doc: Json): Finding[] {
  const out: Finding[] = [];
  for (const type of IAM_POLICY_TYPES) {
    for (const [name, a] of entries(doc, type)) out.push(...checkPolicyDocument(doc, `${type}.${name}`, a.policy, "policy"));
  }
  // A role's inline policies are the same documents, in another attribute.
  for (const [name, a] of entries(doc, "aws_iam_role")) {
    blocks(a.inline_policy).forEach((p, i) => out.push(...checkPolicyDocument(doc, `aws_iam_role.${name}`, p.policy, `inline_policy[${i}].policy`)));
  }
  out.push(...checkManagedPolicyAttachments(doc));
  for (const [name, a] of entries(doc, "aws_iam_policy_document", "data")) {
    const statements = dataSourcePolicy(doc, a).Statement.map((s, i) => ({ s, path: dataStatementPath(s, i) }));
    out.push(...judgeIdentityStatements(`data.aws_iam_policy_document.${name}`, statements, DATA_IDS));
    // The JSON documents it merges (a policy's JSON, Fn.jsonencode, another data source's json: checked there).
    for (const attribute of ["source_policy_documents", "override_policy_documents"]) {
      strings(a[attribute]).forEach((raw, i) => out.push(...checkPolicyDocument(doc, `data.aws_iam_policy_document.${name}`, raw, `${attribute}[${i}]`, DATA_IDS)));
    }
  }
  return out;
}

/** Where a principal is given managed policies by ARN: the attachments' `policy_arn`, the exclusive attachments' and a role's lists. */
const ATTACHMENTS: readonly [type: string, attribute: string][] = [
  ["aws_iam_role_policy_attachment", "policy_arn"],
  ["aws_iam_user_policy_attachment", "policy_arn"],
  ["aws_iam_group_policy_attachment", "policy_arn"],
  ["aws_iam_policy_attachment", "policy_arn"],
  ["aws_iam_role", "managed_policy_arns"],
  ["aws_iam_role_policy_attachments_exclusive", "policy_arns"],
  ["aws_iam_user_policy_attachments_exclusive", "policy_arns"],
  ["aws_iam_group_policy_attachments_exclusive", "policy_arns"],
];

/** An AWS managed policy's name (after its path) in its ARN, whatever the partition (a literal or `${...}`). */
const AWS_MANAGED_ARN = /^arn:(?:[a-z-]+|\$\{[^}]+\}):iam::aws:policy\/(?:[^/]+\/)*([^/]+)$/;

/**
 * The AWS managed policy an ARN names: the ARN itself, or an `aws_iam_policy` data source it is the `arn` of
 * (read from the data source's literal `arn` or `name`); undefined for the configuration's own policies
 * (checked at their source) and what is not known before apply.
 */
function awsManagedPolicy(doc: Json, arn: string): string | undefined {
  const viaData = /^\$\{\s*data\.aws_iam_policy\.([A-Za-z0-9_-]+)\.arn\s*\}$/.exec(arn);
  if (viaData) {
    const source = entries(doc, "aws_iam_policy", "data").find(([name]) => name === viaData[1])?.[1];
    if (typeof source?.arn === "string") return AWS_MANAGED_ARN.exec(source.arn)?.[1];
    return typeof source?.name === "string" && !source.name.includes("${") ? source.name : undefined;
  }
  return AWS_MANAGED_ARN.exec(arn)?.[1];
}

/**
 * AWS managed policies attached by ARN, judged by what they are known to allow: AdministratorAccess ("*" on "*",
 * ZH-IAM-ADMIN), PowerUserAccess (every action but iam:*, organizations:*, account:*; ZH-IAM-STAR-ACTION),
 * IAMFullAccess and every other `...FullAccess` (every action of a service; ZH-IAM-SERVICE-WILDCARD).
 */
function checkManagedPolicyAttachments(doc: Json): Finding[] {
  const out: Finding[] = [];
  for (const [type, attribute] of ATTACHMENTS) {
    for (const [name, a] of entries(doc, type)) {
      const arns = strings(a[attribute]);
      arns.forEach((arn, i) => {
        const policy = awsManagedPolicy(doc, arn);
        if (policy === undefined) return;
        const path = Array.isArray(a[attribute]) ? `${attribute}[${i}]` : attribute;
        const address = `${type}.${name}`;
        const what = `attaches the AWS managed policy ${policy}`;
        if (policy === "AdministratorAccess") out.push(finding("ZH-IAM-ADMIN", address, `${what}, which allows "*" on "*"`, { path, checkov: "CKV_AWS_274" }));
        else if (policy === "PowerUserAccess") out.push(finding("ZH-IAM-STAR-ACTION", address, `${what}, which allows every action but iam:*, organizations:*, account:* (NotAction) on "*"`, { path, checkov: null }));
        else if (/FullAccess$/.test(policy)) out.push(finding("ZH-IAM-SERVICE-WILDCARD", address, `${what}, which allows every action of its service on "*"`, { path }));
      });
    }
  }
  return out;
}

/**
 * Trust policies that let anyone assume a role: an `aws_iam_role`'s `assume_role_policy`, and a policy
 * document data source's statement that allows `sts:AssumeRole*` to the principal "*", with no condition that narrows who (resource-policy.ts, conditionNarrows).
 */
export function checkTrustPolicies(doc: Json): Finding[] {
  const out: Finding[] = [];
  for (const [name, a] of entries(doc, "aws_iam_role")) {
    const address = `aws_iam_role.${name}`;
    const read = jsonAttribute(doc, address, a.assume_role_policy, "assume_role_policy");
    if ("findings" in read) {
      out.push(...read.findings);
      continue;
    }
    const { statements, findings } = readStatements(address, read.value, "assume_role_policy");
    out.push(...findings);
    for (const { s, path } of statements) {
      const open = openToAnyone(s);
      out.push(...unreadElements(address, s, path, "who", letsAnyoneIn(s) ? unreadCondition : undefined));
      if (open === undefined) continue;
      out.push(finding("ZH-IAM-TRUST-ANYONE", address, withDefaultsNote(`allows ${strings(s.Action).join(", ") || "its actions"} to ${whoIsLetIn(s)} ${open}`, s), { path }));
    }
  }
  // A data source's statements, with those it merges (source_policy_documents, override_policy_documents).
  for (const [name, a] of entries(doc, "aws_iam_policy_document", "data")) {
    const address = `data.aws_iam_policy_document.${name}`;
    for (const { s, path } of dataSourceStatements(doc, name, a)) {
      const assumes = strings(s.Action).filter((x) => /^(\*|sts:\*|sts:AssumeRole\w*)$/i.test(x));
      if (assumes.length === 0) continue;
      const open = openToAnyone(s, "condition");
      out.push(...unreadElements(address, s, path, "who", letsAnyoneIn(s) ? unreadCondition : undefined));
      if (open !== undefined) out.push(finding("ZH-IAM-TRUST-ANYONE", address, withDefaultsNote(`allows ${assumes.join(", ")} to ${whoIsLetIn(s)} ${open}`, s), { path }));
    }
  }
  return out;
}

/** Services whose ARNs' resource part always starts with a resource type (`role/`, `parameter/`, `log-group:`, `function:`). */
const TYPED_SERVICES = new Set(["iam", "ssm", "logs", "lambda", "dynamodb", "kms", "secretsmanager", "ecr", "ecs", "rds", "ec2", "states", "events"]);

/**
 * What a resource names every one of: `"*"` (every resource of every service), a service's (`arn:aws:s3:::*`,
 * `arn:aws:sqs:*:*:*`, `arn:aws:*:*:*:*` is every service's), or a resource type's (`arn:aws:iam::*:role/*`, for a
 * service whose ARNs always start with their type). The partition, region and account may be anything, wildcards
 * included; the resource part names nothing but `*` (after the type). Undefined when it names fewer.
 */
export function everyResourceOf(resource: string): { service: string; type?: string } | undefined {
  if (resource === "*") return { service: "*" };
  const m = /^arn:[^:]*:([^:]+):[^:]*:[^:]*:(.+)$/.exec(resource);
  if (!m) return undefined;
  const service = m[1].includes("*") ? "*" : m[1].toLowerCase();
  const segments = m[2].split(/[/:]/);
  if (segments.every((x) => x === "*")) return { service };
  const typed = TYPED_SERVICES.has(service) && segments.length >= 2 && /^[A-Za-z][\w-]*$/.test(segments[0]) && segments.slice(1).every((x) => x === "*");
  return typed ? { service, type: segments[0] } : undefined;
}

function checkStatements(address: string, statements: Statement[], ids: { admin: string; star: string; resource: string }): Finding[] {
  const out: Finding[] = [];
  for (const s of statements) {
    const at = (id: Parameters<typeof finding>[0], message: string, checkov?: string) => out.push(finding(id, address, withDefaultsNote(message, s.source), { path: s.path, ...(checkov ? { checkov } : {}) }));
    const wide = s.resources.map((r) => ({ r, every: everyResourceOf(r) }));
    // NotResource: every resource but those listed, as wide as "*"; so is a resource of every service (`arn:aws:*:*:*:*`).
    const everything = wide.filter((w) => w.every?.service === "*").map((w) => (w.r === "*" ? '"*"' : w.r));
    const starResource = everything.length > 0 || s.notResources.length > 0;
    const on = s.notResources.length > 0 ? `every resource but ${s.notResources.join(", ")} (NotResource)` : s.resources.length > 0 ? s.resources.join(", ") : "its resources";
    const onStar = s.notResources.length > 0 ? on : everything.join(", ");
    // NotAction: every action but those listed (AWS's PowerUserAccess is one), as wide as "*" short of full administrator.
    if (s.notActions.length > 0) at("ZH-IAM-STAR-ACTION", `allows every action but ${s.notActions.join(", ")} (NotAction) on ${on}`, ids.star);
    const starAction = s.actions.some((a) => a === "*" || a === "*:*");
    if (starAction) {
      if (starResource) at("ZH-IAM-ADMIN", `allows "*" on ${onStar}`, ids.admin);
      else at("ZH-IAM-STAR-ACTION", `allows "*" on ${on}`, ids.star);
    }
    const serviceWide = s.actions.filter((a) => /^[a-z0-9-]+:\*$/i.test(a));
    if (serviceWide.length > 0) at("ZH-IAM-SERVICE-WILDCARD", `allows ${serviceWide.join(", ")} on ${on}`);
    if (starAction) continue;
    const scopable = s.actions.filter((a) => !UNSCOPABLE.has(a.toLowerCase()));
    if (starResource) {
      if (scopable.length > 0) at("ZH-IAM-STAR-RESOURCE", `allows ${scopable.join(", ")} on ${onStar}`, ids.resource);
      continue;
    }
    // Every resource of one service (or one type of it), for that service's actions.
    for (const { r, every } of wide) {
      if (!every) continue;
      const actions = scopable.filter((a) => a.split(":")[0].toLowerCase() === every.service);
      if (actions.length > 0) at("ZH-IAM-STAR-RESOURCE", `allows ${actions.join(", ")} on ${r}, every ${every.service} ${every.type ?? "resource"}`, ids.resource);
    }
  }
  return out;
}
