// The policy's rules: each rule's severity, title, fix and checkov counterpart (RULES),
// the Finding they produce, and their order. The checks are in ./checks.ts (per resource
// type) and ./secrets.ts (secret-like names and literals anywhere); ./evaluate.ts runs them
// over a synthesized Terraform JSON document and applies the exemptions. Pure functions: no cdktf here.
import { PolicyExemption, Severity, severityRank } from "./config";

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
  "ZH-SQS-PUBLIC-POLICY": {
    severity: "high",
    title: 'SQS queue policy allows any principal ("*") without a condition',
    fix: "Name the principals (the API role's ARN, a service) or add a Condition (aws:SourceArn, aws:PrincipalOrgID)",
    checkov: "CKV_AWS_168",
  },
  "ZH-ECR-PUBLIC-POLICY": {
    severity: "high",
    title: 'ECR repository or registry policy allows any principal ("*") without a condition',
    fix: "Name the accounts or roles that pull (and push), or add a Condition that narrows who (aws:PrincipalOrgID, aws:PrincipalAccount)",
    checkov: "CKV_AWS_32",
  },
  "ZH-SNS-PUBLIC-POLICY": {
    severity: "high",
    title: 'SNS topic policy allows any principal ("*") without a condition',
    fix: "Name the principals that publish or subscribe (a service with aws:SourceArn, an account or role ARN), or add a Condition that narrows who (aws:SourceOwner, aws:PrincipalOrgID)",
    checkov: "CKV_AWS_169",
  },
  "ZH-S3-PUBLIC-POLICY": {
    severity: "high",
    title: 'S3 bucket policy allows any principal ("*") without a condition',
    fix: "Name the principals that read or write the bucket, or add a Condition that narrows who (aws:PrincipalOrgID, aws:SourceVpce); keep the bucket's public access block on",
    checkov: "CKV_AWS_70",
  },
  "ZH-LAMBDA-PUBLIC-PERMISSION": {
    severity: "high",
    title: 'Lambda permission for any principal ("*") with nothing that narrows who',
    fix: "Set principal to the service or account that invokes the function, with source_arn or source_account (or principal_org_id)",
    checkov: "CKV_AWS_301",
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
  "ZH-SG-ADMIN-PORT-WORLD": {
    severity: "high",
    title: "Database, cache, broker or remote-administration port open to the world",
    fix: "Allow the port from the security groups or CIDRs that use it (source_security_group_id / referenced_security_group_id), never 0.0.0.0/0 or ::/0",
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
    title: 'IAM policy allows every action ("*", or all but some: NotAction)',
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
  "ZH-IAM-TRUST-ANYONE": {
    severity: "critical",
    title: "IAM role that anyone (any AWS account) may assume",
    fix: 'Name the principals that assume the role (a service such as ecs-tasks.amazonaws.com, an account or role ARN), or add a Condition that narrows "*"',
    checkov: "CKV_AWS_60",
  },
  "ZH-ALARM-NO-ACTIONS": {
    severity: "medium",
    title: "CloudWatch alarm notifies nobody",
    fix: "Set alarm_actions to an SNS topic with a subscriber (MlWorker prop alarmNotifications)",
  },
  "ZH-ALARM-TOPIC-NO-SUBSCRIBER": {
    severity: "low",
    title: "CloudWatch alarm notifies an SNS topic with no subscription in the configuration",
    fix: "Subscribe someone to the topic (MlWorker prop alarmNotifications.email), or exempt the finding naming where it is subscribed outside Terraform",
  },
  "ZH-UNPARSEABLE-JSON": {
    severity: "medium",
    title: "JSON attribute that is not JSON",
    fix: "Make the attribute valid JSON (Fn.jsonencode / JSON.stringify) so it can be checked",
  },
  "ZH-JSON-NOT-READ": {
    severity: "medium",
    title: "JSON attribute, or a value in a policy that decides its verdict, that is a Terraform expression the checks cannot read before apply",
    fix: "Write the document in the configuration (Fn.jsonencode of a literal, JSON.stringify, or an aws_iam_policy_document data source), or exempt the finding naming where it is checked",
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
  "ZH-SECRET-LITERAL": {
    severity: "high",
    title: "Literal value under a secret-like name (a module input, a parameter, a default)",
    fix: "Pass it as a sensitive variable without default (TF_VAR_…) or read it from SSM / Secrets Manager, and rotate it if it was real",
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

/** A finding of a rule, with the rule's severity, fix and checkov check (`checkov: null`: none corresponds to this case). */
export function finding(id: RuleId, address: string, message: string, extra: { path?: string; checkov?: string | null } = {}): Finding {
  const rule: RuleInfo = RULES[id];
  const checkov = extra.checkov === null ? undefined : (extra.checkov ?? rule.checkov);
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
