// Policy checks over a synthesized Terraform JSON document
// (`{ resource: { <type>: { <name>: attrs } }, data, variable, module, ... }`),
// as `cdktf.out/stacks/<stack>/cdk.tf.json`, `Testing.synth` or
// `TerraformStack.toTerraform()` give it. Pure functions: no cdktf here.
// `//` metadata keys are ignored wherever they appear.
import { DEFAULT_POLICY_CONFIG, PolicyConfig, PolicyExemption, SEVERITIES, Severity, severityRank } from "./config";
import { decodeTemplateJson, isPureReference, maskTemplate, splitTemplate } from "./template";

/** One problem on one resource (or, for the secret scan, at one JSON path). */
export interface Finding {
  /** Rule id, e.g. `ZH-SQS-ENCRYPTION` (see RULES). */
  readonly id: RuleId;
  readonly severity: Severity;
  /**
   * Terraform address (`aws_sqs_queue.ml_worker_ml_worker`,
   * `data.aws_iam_policy_document.x`) or, for the whole-document secret scan,
   * the JSON path of the value (`variable.reminder_rabbitmq_url.default`).
   */
  readonly address: string;
  /** Where inside the resource, when it has several places (`ingress[0]`, `policy.Statement[1]`). */
  readonly path?: string;
  /** What is wrong, specifically. Never contains a secret value. */
  readonly message: string;
  /** One-line fix. */
  readonly fix: string;
  /** The corresponding checkov check, where one exists. */
  readonly checkov?: string;
}

/** A finding an exemption accepted, with the exemption's reason. */
export interface ExemptedFinding extends Finding {
  readonly reason: string;
}

export interface PolicyResult {
  /** Findings not exempted, sorted (most severe first). */
  readonly findings: Finding[];
  /** Findings an exemption matched. */
  readonly exempted: ExemptedFinding[];
  /** The findings whose severity the configuration marks as blocking. */
  readonly blocking: Finding[];
  /** Number of findings per severity (exempted ones excluded). */
  readonly counts: Record<Severity, number>;
  /** Exemptions that matched no finding (with their position in the list): an error at synth. */
  readonly unmatchedExemptions: { readonly index: number; readonly exemption: PolicyExemption }[];
}

interface RuleInfo {
  readonly severity: Severity;
  readonly title: string;
  readonly fix: string;
  readonly checkov?: string;
}

/**
 * Every rule: severity, what it checks, the one-line fix and the checkov check
 * it corresponds to. Severity reasoning: critical = a credential an attacker
 * can use as is, or full admin; high = direct exposure (world-open SSH, a
 * literal secret in a task definition, service-wide IAM grants); medium =
 * defence in depth missing on data or operations (encryption at rest,
 * scoping, alerting); low = hygiene.
 */
export const RULES = {
  "ZH-SQS-ENCRYPTION": {
    severity: "medium",
    title: "SQS queue without server-side encryption",
    fix: "Set sqs_managed_sse_enabled = true or kms_master_key_id (MlWorker prop queueEncryption)",
    checkov: "CKV_AWS_27",
  },
  "ZH-ECR-MUTABLE-TAGS": {
    severity: "medium",
    title: "ECR repository with mutable image tags",
    fix: 'Set image_tag_mutability = "IMMUTABLE" and deploy unique tags (git SHA) instead of moving "latest"',
    checkov: "CKV_AWS_51",
  },
  "ZH-ECR-SCAN-ON-PUSH": {
    severity: "medium",
    title: "ECR repository without scan on push",
    fix: "Set image_scanning_configuration { scan_on_push = true } (or enhanced registry scanning)",
    checkov: "CKV_AWS_163",
  },
  "ZH-LOG-RETENTION": {
    severity: "low",
    title: "CloudWatch log group retention under the floor",
    fix: "Raise retention_in_days to the floor or more (MlWorker prop logRetentionDays)",
    checkov: "CKV_AWS_338",
  },
  "ZH-LOG-KMS": {
    severity: "low",
    title: "CloudWatch log group not encrypted with a KMS key",
    fix: "Set kms_key_id to a customer-managed KMS key whose policy allows logs.<region>.amazonaws.com (MlWorker prop logKmsKeyArn)",
    checkov: "CKV_AWS_158",
  },
  "ZH-ECS-ENV-SECRET": {
    severity: "high",
    title: "Secret-named container environment variable with a literal value",
    fix: "Move it to the container's secrets[] with valueFrom an SSM parameter or Secrets Manager ARN (or drop it if unused)",
  },
  "ZH-ECS-ENV-SECRET-REF": {
    severity: "medium",
    title: "Secret-named container environment variable set from a Terraform expression",
    fix: "Use secrets[] with valueFrom instead: environment values are stored in plain text in the task definition and state",
  },
  "ZH-ECS-PUBLIC-IP": {
    severity: "medium",
    title: "ECS service assigns public IPs to its tasks",
    fix: "Run tasks in private subnets with assign_public_ip = false and egress through NAT or VPC endpoints",
    checkov: "CKV_AWS_333",
  },
  "ZH-SG-DESCRIPTION": {
    severity: "low",
    title: "Security group or rule without a description",
    fix: "Give the security group and every rule a description saying what the traffic is for",
    checkov: "CKV_AWS_23",
  },
  "ZH-SG-EGRESS-ALL": {
    severity: "low",
    title: "Security group allows all egress to the world",
    fix: "Limit egress to the ports and destinations needed (e.g. 443 to 0.0.0.0/0, 5432 to the database security group)",
    checkov: "CKV_AWS_382",
  },
  "ZH-SG-SSH-WORLD": {
    severity: "high",
    title: "SSH (22) open to the world",
    fix: "Remove the rule and use SSM Session Manager, or restrict it to known CIDRs",
    checkov: "CKV_AWS_24",
  },
  "ZH-SG-HTTP-WORLD": {
    severity: "low",
    title: "HTTP (80) open to the world",
    fix: "Serve HTTPS only, or keep 80 solely to redirect to HTTPS (then exempt it with that reason)",
    checkov: "CKV_AWS_260",
  },
  "ZH-IAM-ADMIN": {
    severity: "critical",
    title: 'IAM policy allows "*" on "*" (full administrator)',
    fix: "Grant the specific actions on the specific resources the role needs",
    checkov: "CKV_AWS_62",
  },
  "ZH-IAM-STAR-ACTION": {
    severity: "high",
    title: 'IAM policy allows every action ("*")',
    fix: "List the actions the role needs",
    checkov: "CKV_AWS_63",
  },
  "ZH-IAM-SERVICE-WILDCARD": {
    severity: "high",
    title: "IAM policy allows every action of a service (service:*)",
    fix: "List the actions used (for S3: s3:ListBucket, s3:GetObject, s3:PutObject, s3:DeleteObject; Iam prop scopedS3Actions)",
  },
  "ZH-IAM-STAR-RESOURCE": {
    severity: "medium",
    title: 'IAM policy allows scopable actions on Resource "*"',
    fix: "Name the resource ARNs; keep \"*\" only for actions without resource-level permissions (UNSCOPABLE_ACTIONS)",
    checkov: "CKV_AWS_355",
  },
  "ZH-ALARM-NO-ACTIONS": {
    severity: "medium",
    title: "CloudWatch alarm notifies nobody",
    fix: "Set alarm_actions to an SNS topic with a subscriber (MlWorker prop alarmNotifications)",
  },
  "ZH-UNPARSEABLE-JSON": {
    severity: "medium",
    title: "JSON attribute the checks cannot read",
    fix: "Make the attribute valid JSON (jsonencode / JSON.stringify) so it can be checked",
  },
  "ZH-SECRET-AWS-ACCESS-KEY": {
    severity: "critical",
    title: "AWS access key id in the configuration",
    fix: "Deactivate and rotate the key; use IAM roles or pass credentials through the environment, never the code",
    checkov: "CKV_SECRET_2",
  },
  "ZH-SECRET-PRIVATE-KEY": {
    severity: "critical",
    title: "Private key in the configuration",
    fix: "Rotate the key; store it in SSM Parameter Store (SecureString) or Secrets Manager and reference it",
    checkov: "CKV_SECRET_13",
  },
  "ZH-SECRET-URL-CREDENTIALS": {
    severity: "high",
    title: "URL with embedded credentials",
    fix: "Drop the credentials from the literal (no default for the variable, pass TF_VAR_… or read SSM) and rotate them if real",
    checkov: "CKV_SECRET_4",
  },
  "ZH-SECRET-HIGH-ENTROPY": {
    severity: "high",
    title: "High-entropy literal under a secret-like name",
    fix: "Move the value to SSM Parameter Store / Secrets Manager or a sensitive variable without default, and rotate it",
    checkov: "CKV_SECRET_6",
  },
} as const satisfies Record<string, RuleInfo>;

export type RuleId = keyof typeof RULES;

/**
 * Actions AWS documents with no resource-level permissions (the Service
 * Authorization Reference lists no resource type for them), so `Resource: "*"`
 * is required for them and not a finding. Kept small and explicit; compare
 * case-insensitively. Not here on purpose: `logs:CreateLogGroup` (it takes a
 * log-group ARN) and every action with a resource type.
 */
export const UNSCOPABLE_ACTIONS: readonly string[] = [
  // Amazon Textract: synchronous analysis and the asynchronous job actions.
  "textract:AnalyzeDocument",
  "textract:AnalyzeExpense",
  "textract:AnalyzeID",
  "textract:DetectDocumentText",
  "textract:StartDocumentAnalysis",
  "textract:GetDocumentAnalysis",
  "textract:StartDocumentTextDetection",
  "textract:GetDocumentTextDetection",
  "textract:StartExpenseAnalysis",
  "textract:GetExpenseAnalysis",
  "textract:StartLendingAnalysis",
  "textract:GetLendingAnalysis",
  "textract:GetLendingAnalysisSummary",
  // Account-level calls.
  "ecr:GetAuthorizationToken",
  "sts:GetCallerIdentity",
  "cloudwatch:PutMetricData",
  "s3:ListAllMyBuckets",
  "ssm:DescribeParameters",
  "xray:PutTraceSegments",
  "xray:PutTelemetryRecords",
];
const UNSCOPABLE = new Set(UNSCOPABLE_ACTIONS.map((a) => a.toLowerCase()));

// ---------------------------------------------------------------------------
// Entry points

type Json = Record<string, unknown>;

/** Every finding on the document, sorted; exemptions are not applied. */
export function checkTerraform(doc: unknown, config: Pick<PolicyConfig, "logRetentionFloorDays"> = DEFAULT_POLICY_CONFIG): Finding[] {
  const d = isObject(doc) ? doc : {};
  const findings = [
    ...checkSqsEncryption(d),
    ...checkEcr(d),
    ...checkLogGroups(d, config.logRetentionFloorDays),
    ...checkTaskDefinitions(d),
    ...checkEcsServices(d),
    ...checkSecurityGroups(d),
    ...checkIamPolicies(d),
    ...checkAlarms(d),
    ...scanSecrets(d),
  ];
  return sortFindings(findings);
}

/** Findings, exempted findings and blocking findings under a configuration. */
export function evaluatePolicy(doc: unknown, config: PolicyConfig = DEFAULT_POLICY_CONFIG): PolicyResult {
  const all = checkTerraform(doc, config);
  const exemptions = config.exemptions ?? [];
  const findings: Finding[] = [];
  const exempted: ExemptedFinding[] = [];
  for (const f of all) {
    const e = exemptions.find((x: PolicyExemption) => x.id === f.id && x.address === f.address);
    if (e) exempted.push({ ...f, reason: e.reason });
    else findings.push(f);
  }
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, findings.filter((f) => f.severity === s).length])) as Record<Severity, number>;
  const blocking = findings.filter((f) => config.blockingSeverities.includes(f.severity));
  const unmatchedExemptions = exemptions
    .map((exemption, index) => ({ index, exemption }))
    .filter(({ exemption: e }) => !all.some((f) => f.id === e.id && f.address === e.address));
  return { findings, exempted, blocking, counts, unmatchedExemptions };
}

/**
 * What is wrong with each exemption that matched nothing, naming it by
 * `<field>[index]` (`field`, e.g. `policy.config.exemptions`): an unknown rule
 * id, a finding that is gone, or an address the rule does not report.
 */
export function unmatchedExemptionProblems(result: PolicyResult, field = "exemptions"): string[] {
  const all: Finding[] = [...result.findings, ...result.exempted];
  return result.unmatchedExemptions.map(({ index, exemption: e }) => {
    const name = `${field}[${index}] (${e.id} at ${e.address})`;
    if (!(e.id in RULES)) return `${name} matches no finding: ${e.id} is not a rule id (rules: ${Object.keys(RULES).join(", ")})`;
    const sameRule = [...new Set(all.filter((f) => f.id === e.id).map((f) => f.address))];
    if (sameRule.length === 0) return `${name} matches no finding: the stack has no ${e.id} finding any more; remove the exemption`;
    return `${name} matches no finding: ${e.id} is reported at ${sameRule.join(", ")}; correct the address or remove the exemption`;
  });
}

/** Most severe first, then by id, address, path and message: the same input always gives the same order. */
export function sortFindings<T extends Finding>(findings: T[]): T[] {
  const key = (f: Finding) => [f.id, f.address, f.path ?? "", f.message];
  return [...findings].sort((a, b) => {
    const r = severityRank(a.severity) - severityRank(b.severity);
    if (r !== 0) return r;
    const ka = key(a);
    const kb = key(b);
    for (let i = 0; i < ka.length; i++) {
      if (ka[i] !== kb[i]) return ka[i] < kb[i] ? -1 : 1;
    }
    return 0;
  });
}

function finding(id: RuleId, address: string, message: string, extra: { path?: string; checkov?: string } = {}): Finding {
  const rule: RuleInfo = RULES[id];
  const checkov = extra.checkov ?? rule.checkov;
  return {
    id,
    severity: rule.severity,
    address,
    ...(extra.path !== undefined ? { path: extra.path } : {}),
    message,
    fix: rule.fix,
    ...(checkov !== undefined ? { checkov } : {}),
  };
}

// ---------------------------------------------------------------------------
// Helpers over the document

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** `[name, attrs]` of every resource (or data source, with kind "data") of a type, by name. */
function entries(doc: Json, type: string, kind: "resource" | "data" = "resource"): [string, Json][] {
  const byType = doc[kind];
  if (!isObject(byType)) return [];
  const byName = byType[type];
  if (!isObject(byName)) return [];
  return Object.keys(byName)
    .filter((name) => name !== "//" && isObject(byName[name]))
    .sort()
    .map((name) => [name, byName[name] as Json]);
}

/** A nested block as a list (cdktf writes single blocks as objects, repeated ones as arrays). */
function blocks(v: unknown): Json[] {
  if (Array.isArray(v)) return v.filter(isObject);
  return isObject(v) ? [v] : [];
}

const isTrue = (v: unknown): boolean => v === true || v === "true";
const isFalse = (v: unknown): boolean => v === false || v === "false";

function toNumber(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && /^-?\d+$/.test(v.trim())) return Number(v);
  return undefined;
}

/** A string that is set to something (a literal or a reference). */
const isSet = (v: unknown): boolean => typeof v === "string" && v.trim() !== "";

function strings(v: unknown): string[] {
  if (typeof v === "string") return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

// ---------------------------------------------------------------------------
// SQS

function checkSqsEncryption(doc: Json): Finding[] {
  return entries(doc, "aws_sqs_queue").flatMap(([name, a]) => {
    const sse = a.sqs_managed_sse_enabled;
    const encrypted = isTrue(sse) || isPureReference(sse) || isSet(a.kms_master_key_id);
    return encrypted
      ? []
      : [finding("ZH-SQS-ENCRYPTION", `aws_sqs_queue.${name}`, "neither sqs_managed_sse_enabled = true nor kms_master_key_id is set")];
  });
}

// ---------------------------------------------------------------------------
// ECR

function checkEcr(doc: Json): Finding[] {
  return entries(doc, "aws_ecr_repository").flatMap(([name, a]) => {
    const address = `aws_ecr_repository.${name}`;
    const out: Finding[] = [];
    const mutability = a.image_tag_mutability ?? "MUTABLE";
    if (typeof mutability === "string" && !isPureReference(mutability) && !mutability.toUpperCase().startsWith("IMMUTABLE")) {
      out.push(finding("ZH-ECR-MUTABLE-TAGS", address, `image_tag_mutability is ${mutability}${a.image_tag_mutability === undefined ? " (the default)" : ""}`));
    }
    const scan = blocks(a.image_scanning_configuration)[0]?.scan_on_push;
    if (!isTrue(scan) && !isPureReference(scan)) {
      out.push(finding("ZH-ECR-SCAN-ON-PUSH", address, "image_scanning_configuration.scan_on_push is not true"));
    }
    return out;
  });
}

// ---------------------------------------------------------------------------
// CloudWatch logs

/**
 * Retention under the floor, and no KMS key. An unset retention (or 0) keeps
 * logs forever, which meets any floor; checkov CKV_AWS_338 fails an unset
 * retention too, this rule does not.
 */
function checkLogGroups(doc: Json, floorDays: number): Finding[] {
  return entries(doc, "aws_cloudwatch_log_group").flatMap(([name, a]) => {
    const address = `aws_cloudwatch_log_group.${name}`;
    const out: Finding[] = [];
    const days = toNumber(a.retention_in_days);
    if (days !== undefined && days > 0 && days < floorDays) {
      out.push(finding("ZH-LOG-RETENTION", address, `retention_in_days is ${days}, under the floor of ${floorDays}`));
    }
    if (!isSet(a.kms_key_id)) out.push(finding("ZH-LOG-KMS", address, "kms_key_id is not set"));
    return out;
  });
}

// ---------------------------------------------------------------------------
// ECS

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

function checkTaskDefinitions(doc: Json): Finding[] {
  return entries(doc, "aws_ecs_task_definition").flatMap(([name, a]) => {
    const address = `aws_ecs_task_definition.${name}`;
    const raw = a.container_definitions;
    // A whole-expression value (jsonencode(...), a variable) cannot be read before apply.
    if (typeof raw !== "string" || isPureReference(raw)) return [];
    let containers: unknown;
    try {
      containers = decodeTemplateJson(raw);
    } catch (e) {
      return [finding("ZH-UNPARSEABLE-JSON", address, `container_definitions is not JSON: ${(e as Error).message}`, { path: "container_definitions" })];
    }
    if (!Array.isArray(containers)) {
      return [finding("ZH-UNPARSEABLE-JSON", address, "container_definitions is not a JSON array", { path: "container_definitions" })];
    }
    const out: Finding[] = [];
    containers.forEach((c, index) => {
      if (!isObject(c)) return;
      const container = typeof c.name === "string" ? c.name : String(index);
      for (const env of blocks(c.environment)) {
        const varName = env.name;
        const value = env.value;
        if (typeof varName !== "string" || !isSecretName(varName) || typeof value !== "string" || value === "") continue;
        const path = `container_definitions[${container}].environment.${varName}`;
        if (isPureReference(value)) {
          out.push(finding("ZH-ECS-ENV-SECRET-REF", address, `container "${container}": ${varName} is set from a Terraform expression in plain-text environment`, { path }));
        } else {
          out.push(finding("ZH-ECS-ENV-SECRET", address, `container "${container}": ${varName} holds a literal value (${value.length} characters) instead of a secrets[] reference`, { path }));
        }
      }
    });
    return out;
  });
}

function checkEcsServices(doc: Json): Finding[] {
  return entries(doc, "aws_ecs_service").flatMap(([name, a]) =>
    blocks(a.network_configuration).some((n) => isTrue(n.assign_public_ip))
      ? [finding("ZH-ECS-PUBLIC-IP", `aws_ecs_service.${name}`, "network_configuration.assign_public_ip is true")]
      : [],
  );
}

// ---------------------------------------------------------------------------
// Security groups

interface SgRule {
  readonly address: string;
  readonly path?: string;
  readonly direction: "ingress" | "egress";
  readonly protocol: unknown;
  readonly fromPort: unknown;
  readonly toPort: unknown;
  readonly ipv4: string[];
  readonly ipv6: string[];
  readonly description: unknown;
}

function securityGroupRules(doc: Json): { rules: SgRule[]; groups: [string, Json][] } {
  const rules: SgRule[] = [];
  const groups = entries(doc, "aws_security_group");
  for (const [name, a] of groups) {
    for (const direction of ["ingress", "egress"] as const) {
      blocks(a[direction]).forEach((r, i) =>
        rules.push({
          address: `aws_security_group.${name}`,
          path: `${direction}[${i}]`,
          direction,
          protocol: r.protocol,
          fromPort: r.from_port,
          toPort: r.to_port,
          ipv4: strings(r.cidr_blocks),
          ipv6: strings(r.ipv6_cidr_blocks),
          description: r.description,
        }),
      );
    }
  }
  for (const [name, r] of entries(doc, "aws_security_group_rule")) {
    rules.push({
      address: `aws_security_group_rule.${name}`,
      direction: r.type === "egress" ? "egress" : "ingress",
      protocol: r.protocol,
      fromPort: r.from_port,
      toPort: r.to_port,
      ipv4: strings(r.cidr_blocks),
      ipv6: strings(r.ipv6_cidr_blocks),
      description: r.description,
    });
  }
  for (const direction of ["ingress", "egress"] as const) {
    for (const [name, r] of entries(doc, `aws_vpc_security_group_${direction}_rule`)) {
      rules.push({
        address: `aws_vpc_security_group_${direction}_rule.${name}`,
        direction,
        protocol: r.ip_protocol,
        fromPort: r.from_port,
        toPort: r.to_port,
        ipv4: strings(r.cidr_ipv4),
        ipv6: strings(r.cidr_ipv6),
        description: r.description,
      });
    }
  }
  return { rules, groups };
}

const allProtocols = (p: unknown): boolean => p === "-1" || p === -1 || (typeof p === "string" && p.toLowerCase() === "all");

/** Whether a rule lets TCP traffic to `port` through. */
function coversTcpPort(r: SgRule, port: number): boolean {
  if (allProtocols(r.protocol)) return true;
  const p = typeof r.protocol === "string" ? r.protocol.toLowerCase() : r.protocol;
  if (p !== "tcp" && p !== "6" && p !== 6) return false;
  const from = toNumber(r.fromPort);
  const to = toNumber(r.toPort);
  return from !== undefined && to !== undefined && from <= port && port <= to;
}

function coversAllPorts(r: SgRule): boolean {
  if (allProtocols(r.protocol)) return true;
  return toNumber(r.fromPort) === 0 && toNumber(r.toPort) === 65535;
}

function describeRule(r: SgRule): string {
  const label = typeof r.description === "string" && r.description ? `"${r.description}" ` : "";
  const ports = allProtocols(r.protocol) ? "all traffic" : `${String(r.protocol)} ${String(r.fromPort)}-${String(r.toPort)}`;
  const world = [...r.ipv4.filter((c) => c === "0.0.0.0/0"), ...r.ipv6.filter((c) => c === "::/0")].join(", ");
  return `${label}${r.direction} rule allows ${ports} ${r.direction === "ingress" ? "from" : "to"} ${world}`;
}

function checkSecurityGroups(doc: Json): Finding[] {
  const { rules, groups } = securityGroupRules(doc);
  const out: Finding[] = [];
  for (const [name, a] of groups) {
    if (!isSet(a.description)) {
      out.push(finding("ZH-SG-DESCRIPTION", `aws_security_group.${name}`, "the security group has no description", { path: "description" }));
    }
  }
  for (const r of rules) {
    const at = r.path ? { path: r.path } : {};
    if (!isSet(r.description)) {
      out.push(finding("ZH-SG-DESCRIPTION", r.address, `${r.direction} rule has no description`, at));
    }
    const world = r.ipv4.includes("0.0.0.0/0") || r.ipv6.includes("::/0");
    if (!world) continue;
    if (r.direction === "egress" && coversAllPorts(r)) out.push(finding("ZH-SG-EGRESS-ALL", r.address, describeRule(r), at));
    if (r.direction === "ingress" && coversTcpPort(r, 22)) out.push(finding("ZH-SG-SSH-WORLD", r.address, describeRule(r), at));
    if (r.direction === "ingress" && coversTcpPort(r, 80)) out.push(finding("ZH-SG-HTTP-WORLD", r.address, describeRule(r), at));
  }
  return out;
}

// ---------------------------------------------------------------------------
// IAM

const IAM_POLICY_TYPES = ["aws_iam_policy", "aws_iam_role_policy", "aws_iam_user_policy", "aws_iam_group_policy"];

interface Statement {
  readonly path: string;
  readonly actions: string[];
  readonly resources: string[];
}

function checkIamPolicies(doc: Json): Finding[] {
  const out: Finding[] = [];
  for (const type of IAM_POLICY_TYPES) {
    for (const [name, a] of entries(doc, type)) {
      const address = `${type}.${name}`;
      const raw = a.policy;
      // `${data.aws_iam_policy_document.x.json}` and the like: checked at their source.
      if (typeof raw !== "string" || isPureReference(raw)) continue;
      let policy: unknown;
      try {
        policy = decodeTemplateJson(raw);
      } catch (e) {
        out.push(finding("ZH-UNPARSEABLE-JSON", address, `policy is not JSON: ${(e as Error).message}`, { path: "policy" }));
        continue;
      }
      const statements = (isObject(policy) ? blocks(policy.Statement) : [])
        .map((s, i) => ({ s, i }))
        .filter(({ s }) => s.Effect === "Allow")
        .map(({ s, i }) => ({
          path: `policy.Statement[${i}]${typeof s.Sid === "string" && s.Sid ? ` (${s.Sid})` : ""}`,
          actions: strings(s.Action),
          resources: strings(s.Resource),
        }));
      out.push(...checkStatements(address, statements, { admin: "CKV_AWS_62", star: "CKV_AWS_63", resource: "CKV_AWS_355" }));
    }
  }
  for (const [name, a] of entries(doc, "aws_iam_policy_document", "data")) {
    const statements = blocks(a.statement)
      .map((s, i) => ({ s, i }))
      .filter(({ s }) => (s.effect ?? "Allow") === "Allow")
      .map(({ s, i }) => ({
        path: `statement[${i}]${typeof s.sid === "string" && s.sid ? ` (${s.sid})` : ""}`,
        actions: strings(s.actions),
        resources: strings(s.resources),
      }));
    out.push(...checkStatements(`data.aws_iam_policy_document.${name}`, statements, { admin: "CKV_AWS_1", star: "CKV_AWS_49", resource: "CKV_AWS_356" }));
  }
  return out;
}

function checkStatements(address: string, statements: Statement[], ids: { admin: string; star: string; resource: string }): Finding[] {
  const out: Finding[] = [];
  for (const s of statements) {
    const starAction = s.actions.some((a) => a === "*" || a === "*:*");
    const starResource = s.resources.includes("*");
    if (starAction) {
      out.push(
        starResource
          ? finding("ZH-IAM-ADMIN", address, `allows "*" on "*"`, { path: s.path, checkov: ids.admin })
          : finding("ZH-IAM-STAR-ACTION", address, `allows "*" on ${s.resources.join(", ") || "its resources"}`, { path: s.path, checkov: ids.star }),
      );
    }
    const serviceWide = s.actions.filter((a) => /^[a-z0-9-]+:\*$/i.test(a));
    if (serviceWide.length > 0) {
      out.push(finding("ZH-IAM-SERVICE-WILDCARD", address, `allows ${serviceWide.join(", ")} on ${s.resources.join(", ") || "its resources"}`, { path: s.path }));
    }
    if (starResource && !starAction) {
      const scopable = s.actions.filter((a) => !UNSCOPABLE.has(a.toLowerCase()));
      if (scopable.length > 0) {
        out.push(finding("ZH-IAM-STAR-RESOURCE", address, `allows ${scopable.join(", ")} on "*"`, { path: s.path, checkov: ids.resource }));
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// CloudWatch alarms

function checkAlarms(doc: Json): Finding[] {
  return ["aws_cloudwatch_metric_alarm", "aws_cloudwatch_composite_alarm"].flatMap((type) =>
    entries(doc, type).flatMap(([name, a]) => {
      const address = `${type}.${name}`;
      if (isFalse(a.actions_enabled)) {
        return [finding("ZH-ALARM-NO-ACTIONS", address, "actions_enabled is false", { checkov: "CKV_AWS_319" })];
      }
      const actions = a.alarm_actions;
      const configured = isPureReference(actions) || (Array.isArray(actions) && actions.some(isSet));
      return configured ? [] : [finding("ZH-ALARM-NO-ACTIONS", address, "alarm_actions is empty")];
    }),
  );
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

function scanSecrets(doc: Json): Finding[] {
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
  const address = formatPath(segments);
  const literal = maskTemplate(value, REF);
  if (AWS_ACCESS_KEY.test(literal)) out.push(finding("ZH-SECRET-AWS-ACCESS-KEY", address, "an AWS access key id (AKIA…/ASIA…) is written in the configuration"));
  if (PRIVATE_KEY.test(literal)) out.push(finding("ZH-SECRET-PRIVATE-KEY", address, "a PEM private key is written in the configuration"));
  for (const m of literal.matchAll(URL_CREDENTIALS)) {
    if (m[2].includes(REF)) continue; // the password is a reference
    const scheme = m[0].slice(0, m[0].indexOf("://"));
    out.push(finding("ZH-SECRET-URL-CREDENTIALS", address, `${scheme}:// URL with a literal user:password`));
    break;
  }
  const name = valueName(segments, parent);
  if (isSecretName(name)) {
    const longest = splitTemplate(value)
      .filter((p) => p.kind === "literal")
      .map((p) => p.text)
      .sort((a, b) => b.length - a.length)[0];
    if (longest !== undefined && looksRandom(longest)) {
      out.push(finding("ZH-SECRET-HIGH-ENTROPY", address, `"${name}" holds a random-looking literal (${longest.length} characters)`));
    }
  }
}
