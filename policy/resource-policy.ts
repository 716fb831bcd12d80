// Policies that say who may use a resource (a queue's, a repository's, a role's trust policy): which of their
// Allow statements let anyone in, and the policy document data sources they are often written as.
import { Finding, RuleId, finding } from "./rules";
import { Json, blocks, entries, isObject, strings } from "./document";
import { jsonAttribute, statementPath } from "./checks";

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

/** The keys of a Condition, for a finding's message. */
function conditionKeys(condition: Json): string[] {
  return [...new Set(Object.values(condition).flatMap((block) => (isObject(block) ? Object.keys(block) : [])))];
}

/** A statement that lets anyone in, and how its Condition fails to narrow that ("with no Condition", or what it is on). */
export function openToAnyone(s: Json, conditionWord = "Condition"): string | undefined {
  if (s.Effect !== "Allow" || !anyPrincipal(s.Principal) || conditionNarrows(s.Condition)) return undefined;
  const keys = isObject(s.Condition) ? conditionKeys(s.Condition) : [];
  return keys.length === 0 ? `with no ${conditionWord}` : `with a ${conditionWord} on ${keys.join(", ")} only, which narrows no principal`;
}

/**
 * An `aws_iam_policy_document` data source as the JSON policy it renders (its `statement` blocks only): `effect`
 * (default Allow), `actions`, `resources`, `principals` (type "*" is `"Principal": "*"`), `condition`.
 */
export function dataSourcePolicy(a: Json): { Statement: Json[] } {
  return {
    Statement: blocks(a.statement).map((s) => {
      const principal: Json = {};
      let everyone = false;
      for (const p of blocks(s.principals)) {
        if (p.type === "*" && strings(p.identifiers).includes("*")) everyone = true;
        else if (typeof p.type === "string") principal[p.type] = [...strings(principal[p.type]), ...strings(p.identifiers)];
      }
      const condition: Json = {};
      for (const c of blocks(s.condition)) {
        if (typeof c.test !== "string" || typeof c.variable !== "string") continue;
        const block = (condition[c.test] ??= {}) as Json;
        block[c.variable] = strings(c.values);
      }
      return {
        ...(typeof s.sid === "string" && s.sid ? { Sid: s.sid } : {}),
        Effect: s.effect ?? "Allow",
        Action: strings(s.actions),
        Resource: strings(s.resources),
        ...(everyone ? { Principal: "*" } : Object.keys(principal).length > 0 ? { Principal: principal } : {}),
        ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
      };
    }),
  };
}

/** The resource policies per rule: the resource types and the attribute that holds the policy. */
const RESOURCE_POLICIES: readonly [id: RuleId, type: string][] = [
  ["ZH-SQS-PUBLIC-POLICY", "aws_sqs_queue_policy"],
  ["ZH-SQS-PUBLIC-POLICY", "aws_sqs_queue"],
  ["ZH-ECR-PUBLIC-POLICY", "aws_ecr_repository_policy"],
  ["ZH-ECR-PUBLIC-POLICY", "aws_ecr_registry_policy"],
];

/**
 * Queue and repository policies that let anyone in, with no condition that narrows who: written as JSON,
 * `Fn.jsonencode`, or a policy document data source (`${data.aws_iam_policy_document.<name>.json}`, read here:
 * its statements name no principal check of their own).
 */
export function checkResourcePolicies(doc: Json): Finding[] {
  return RESOURCE_POLICIES.flatMap(([id, type]) =>
    entries(doc, type).flatMap(([name, a]) => {
      const address = `${type}.${name}`;
      const source = typeof a.policy === "string" ? /^\$\{\s*data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.(?:minified_)?json\s*\}$/.exec(a.policy)?.[1] : undefined;
      const data = source === undefined ? undefined : entries(doc, "aws_iam_policy_document", "data").find(([n]) => n === source)?.[1];
      let policy: unknown;
      let at = (s: Json, i: number) => statementPath("policy", s, i);
      if (data) {
        policy = dataSourcePolicy(data);
        at = (s, i) => `data.aws_iam_policy_document.${source}.statement[${i}]${typeof s.Sid === "string" ? ` (${s.Sid})` : ""}`;
      } else {
        const read = jsonAttribute(doc, address, a.policy, "policy");
        if ("findings" in read) return read.findings;
        policy = read.value;
      }
      return (isObject(policy) ? blocks(policy.Statement) : []).flatMap((s, i) => {
        const open = openToAnyone(s);
        if (open === undefined) return [];
        const actions = strings(s.Action).join(", ") || "its actions";
        return [finding(id, address, `allows ${actions} to any principal ("*") ${open}`, { path: at(s, i) })];
      });
    }),
  );
}
