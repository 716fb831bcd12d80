// The policy's IAM checks: permission policies (admin, every action, a whole service, "*" resources)
// and trust policies (a role anyone may assume), in resources and policy document data sources.
import { Finding, UNSCOPABLE_ACTIONS, finding } from "./rules";
import { Json, blocks, entries, isObject, strings } from "./document";
import { jsonAttribute, statementPath } from "./checks";
import { dataSourcePolicy, openToAnyone } from "./resource-policy";

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
}

/** The checkov ids of the admin, star-action and star-resource cases: in a resource's policy, in a data source's. */
const RESOURCE_IDS = { admin: "CKV_AWS_62", star: "CKV_AWS_63", resource: "CKV_AWS_355" };
const DATA_IDS = { admin: "CKV_AWS_1", star: "CKV_AWS_49", resource: "CKV_AWS_356" };

/**
 * Checks one JSON policy document attribute (`policy`, an `aws_iam_role`'s `inline_policy[i].policy`, a data
 * source's `source_policy_documents[i]`): its Allow statements, or a finding when it is not JSON.
 */

function checkPolicyDocument(doc: Json, address: string, raw: unknown, at: string, ids = RESOURCE_IDS): Finding[] {
  const read = jsonAttribute(doc, address, raw, at);
  if ("findings" in read) return read.findings;
  const policy = read.value;
  const statements = (isObject(policy) ? blocks(policy.Statement) : [])
    .map((s, i) => ({ s, i }))
    .filter(({ s }) => s.Effect === "Allow")
    .map(({ s, i }) => ({
      path: statementPath(at, s, i),
      actions: strings(s.Action),
      resources: strings(s.Resource),
      notActions: strings(s.NotAction),
      notResources: strings(s.NotResource),
    }));
  return checkStatements(address, statements, ids);
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
    const statements = blocks(a.statement)
      .map((s, i) => ({ s, i }))
      .filter(({ s }) => (s.effect ?? "Allow") === "Allow")
      .map(({ s, i }) => ({
        path: `statement[${i}]${typeof s.sid === "string" && s.sid ? ` (${s.sid})` : ""}`,
        actions: strings(s.actions),
        resources: strings(s.resources),
        notActions: strings(s.not_actions),
        notResources: strings(s.not_resources),
      }));
    out.push(...checkStatements(`data.aws_iam_policy_document.${name}`, statements, DATA_IDS));
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
    const policy = read.value;
    (isObject(policy) ? blocks(policy.Statement) : []).forEach((s, i) => {
      const open = openToAnyone(s);
      if (open === undefined) return;
      out.push(finding("ZH-IAM-TRUST-ANYONE", address, `allows ${strings(s.Action).join(", ") || "its actions"} to any principal ("*") ${open}`, { path: statementPath("assume_role_policy", s, i) }));
    });
  }
  for (const [name, a] of entries(doc, "aws_iam_policy_document", "data")) {
    dataSourcePolicy(a).Statement.forEach((s, i) => {
      const assumes = strings(s.Action).filter((x) => /^(\*|sts:\*|sts:AssumeRole\w*)$/i.test(x));
      const open = openToAnyone(s, "condition");
      if (assumes.length === 0 || open === undefined) return;
      const path = `statement[${i}]${typeof s.Sid === "string" ? ` (${s.Sid})` : ""}`;
      out.push(finding("ZH-IAM-TRUST-ANYONE", `data.aws_iam_policy_document.${name}`, `allows ${assumes.join(", ")} to any principal ("*") ${open}`, { path }));
    });
  }
  return out;
}

function checkStatements(address: string, statements: Statement[], ids: { admin: string; star: string; resource: string }): Finding[] {
  const out: Finding[] = [];
  for (const s of statements) {
    // NotResource: every resource but those listed, as wide as "*".
    const starResource = s.resources.includes("*") || s.notResources.length > 0;
    const on = s.notResources.length > 0 ? `every resource but ${s.notResources.join(", ")} (NotResource)` : s.resources.length > 0 ? s.resources.join(", ") : "its resources";
    const onStar = s.notResources.length > 0 ? on : '"*"';
    // NotAction: every action but those listed (AWS's PowerUserAccess is one), as wide as "*" short of full administrator.
    if (s.notActions.length > 0) {
      out.push(finding("ZH-IAM-STAR-ACTION", address, `allows every action but ${s.notActions.join(", ")} (NotAction) on ${on}`, { path: s.path, checkov: ids.star }));
    }
    const starAction = s.actions.some((a) => a === "*" || a === "*:*");
    if (starAction) {
      out.push(
        starResource
          ? finding("ZH-IAM-ADMIN", address, `allows "*" on ${onStar}`, { path: s.path, checkov: ids.admin })
          : finding("ZH-IAM-STAR-ACTION", address, `allows "*" on ${on}`, { path: s.path, checkov: ids.star }),
      );
    }
    const serviceWide = s.actions.filter((a) => /^[a-z0-9-]+:\*$/i.test(a));
    if (serviceWide.length > 0) {
      out.push(finding("ZH-IAM-SERVICE-WILDCARD", address, `allows ${serviceWide.join(", ")} on ${on}`, { path: s.path }));
    }
    if (starResource && !starAction) {
      const scopable = s.actions.filter((a) => !UNSCOPABLE.has(a.toLowerCase()));
      if (scopable.length > 0) {
        out.push(finding("ZH-IAM-STAR-RESOURCE", address, `allows ${scopable.join(", ")} on ${onStar}`, { path: s.path, checkov: ids.resource }));
      }
    }
  }
  return out;
}
