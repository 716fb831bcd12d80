// The policy's checks per resource type (SQS, ECR, CloudWatch logs, ECS, security groups,
// alarms; IAM in ./iam.ts, who a queue, repository, topic, bucket or role lets in in ./resource-policy.ts): each gives the Findings of its rules (./rules.ts) on a document.
import { Finding, finding } from "./rules";
import { Json, blocks, entries, isFalse, isObject, isSet, isTrue, strings, toNumber } from "./document";
import { isSecretName } from "./secrets";
import { decodeTemplateJson, isPureReference } from "./template";
import { decodeJsonencode, isConstantExpression } from "./hcl-expression";
import { notRead, resolveValues } from "./statements";

// ---------------------------------------------------------------------------
// SQS

export function checkSqsEncryption(doc: Json): Finding[] {
  return entries(doc, "aws_sqs_queue").flatMap(([name, a]) => {
    const sse = a.sqs_managed_sse_enabled;
    const encrypted = isTrue(sse) || isPureReference(sse) || isSet(a.kms_master_key_id);
    return encrypted
      ? []
      : [finding("ZH-SQS-ENCRYPTION", `aws_sqs_queue.${name}`, "neither sqs_managed_sse_enabled = true nor kms_master_key_id is set")];
  });
}

/**
 * A JSON document attribute (a policy, container definitions) read before apply: its value, also when it is
 * `${jsonencode(<literal>)}` (cdktf's `Fn.jsonencode`; references inside stay `${...}` strings); nothing for
 * a policy document data source's JSON (checked at its source); a finding when it is not JSON, or one
 * expression the checks cannot read (a variable, a function of one, another resource's attribute).
 */
export function jsonAttribute(doc: Json, address: string, raw: unknown, at: string): { value: unknown } | { findings: Finding[] } {
  if (typeof raw !== "string") return { findings: [] };
  const locals = isObject(doc.locals) ? doc.locals : {};
  if (isPureReference(raw)) {
    const value = decodeJsonencode(raw, locals);
    if (value !== undefined) return { value: resolveValues(value, doc) };
    if (/^\$\{\s*data\.aws_iam_policy_document\.[A-Za-z0-9_-]+\.(minified_)?json\s*\}$/.test(raw)) return { findings: [] };
    return { findings: [notRead(address, at, raw, raw)] };
  }
  try {
    return { value: resolveValues(decodeTemplateJson(raw), doc) };
  } catch (e) {
    return { findings: [finding("ZH-UNPARSEABLE-JSON", address, `${at} is not JSON: ${(e as Error).message}`, { path: at })] };
  }
}

export { statementPath } from "./statements";

// ---------------------------------------------------------------------------
// ECR

export function checkEcr(doc: Json): Finding[] {
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
export function checkLogGroups(doc: Json, floorDays: number): Finding[] {
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

export function checkTaskDefinitions(doc: Json): Finding[] {
  return entries(doc, "aws_ecs_task_definition").flatMap(([name, a]) => {
    const address = `aws_ecs_task_definition.${name}`;
    const raw = a.container_definitions;
    const read = jsonAttribute(doc, address, raw, "container_definitions");
    if ("findings" in read) return read.findings;
    const containers = read.value;
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
        if (isPureReference(value) && !isConstantExpression(value)) {
          out.push(finding("ZH-ECS-ENV-SECRET-REF", address, `container "${container}": ${varName} is set from a Terraform expression in plain-text environment`, { path }));
        } else {
          out.push(finding("ZH-ECS-ENV-SECRET", address, `container "${container}": ${varName} holds a literal value (${value.length} characters) instead of a secrets[] reference`, { path }));
        }
      }
    });
    return out;
  });
}

export function checkEcsServices(doc: Json): Finding[] {
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
  // The VPC's default group takes the same inline rules (it has no description of its own to check).
  const inline = [...groups.map(([name, a]) => [`aws_security_group.${name}`, a] as const), ...entries(doc, "aws_default_security_group").map(([name, a]) => [`aws_default_security_group.${name}`, a] as const)];
  for (const [address, a] of inline) {
    for (const direction of ["ingress", "egress"] as const) {
      blocks(a[direction]).forEach((r, i) =>
        rules.push({
          address,
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

/**
 * Database, cache, message broker, remote-desktop and container-API ports that are never meant for the whole
 * internet (port: what listens there).
 */
const ADMIN_PORTS: readonly [number, string][] = [
  [3389, "RDP"], [5900, "VNC"], [2375, "Docker API"], [2376, "Docker API (TLS)"], [5432, "PostgreSQL"], [3306, "MySQL"],
  [1433, "SQL Server"], [1521, "Oracle"], [6379, "Redis"], [11211, "Memcached"], [27017, "MongoDB"], [9200, "Elasticsearch"],
  [5672, "AMQP (RabbitMQ)"], [15672, "RabbitMQ management"],
];

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

export function checkSecurityGroups(doc: Json): Finding[] {
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
    const admin = r.direction === "ingress" ? ADMIN_PORTS.filter(([port]) => coversTcpPort(r, port)) : [];
    if (admin.length > 0) {
      const ports = admin.map(([port, what]) => `${port} ${what}`).join(", ");
      out.push(finding("ZH-SG-ADMIN-PORT-WORLD", r.address, `${describeRule(r)}: ${ports}`, { ...at, ...(admin.some(([port]) => port === 3389) ? { checkov: "CKV_AWS_25" } : {}) }));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// CloudWatch alarms

export function checkAlarms(doc: Json): Finding[] {
  // The stack's topics that a subscription of the configuration reads (its topic_arn references the topic).
  const subscribed = new Set(
    entries(doc, "aws_sns_topic_subscription").flatMap(([, s]) => (typeof s.topic_arn === "string" ? [...s.topic_arn.matchAll(/\baws_sns_topic\.([A-Za-z0-9_-]+)\./g)].map((m) => m[1]) : [])),
  );
  const topics = new Set(entries(doc, "aws_sns_topic").map(([name]) => name));
  return ["aws_cloudwatch_metric_alarm", "aws_cloudwatch_composite_alarm"].flatMap((type) =>
    entries(doc, type).flatMap(([name, a]) => {
      const address = `${type}.${name}`;
      if (isFalse(a.actions_enabled)) {
        return [finding("ZH-ALARM-NO-ACTIONS", address, "actions_enabled is false", { checkov: "CKV_AWS_319" })];
      }
      const actions = a.alarm_actions;
      const configured = isPureReference(actions) || (Array.isArray(actions) && actions.some(isSet));
      if (!configured) return [finding("ZH-ALARM-NO-ACTIONS", address, "alarm_actions is empty")];
      // Each action a topic of this configuration that nothing here subscribes to: someone may subscribe outside
      // Terraform (so low, not "notifies nobody"), but nothing here says who is told.
      const targets = Array.isArray(actions) ? actions : [actions];
      const unsubscribed = targets.map((t) => (typeof t === "string" ? /^\$\{aws_sns_topic\.([A-Za-z0-9_-]+)\.arn\}$/.exec(t)?.[1] : undefined));
      if (unsubscribed.some((t) => t === undefined || !topics.has(t) || subscribed.has(t))) return [];
      const named = [...new Set(unsubscribed)].map((t) => `aws_sns_topic.${t}`).join(", ");
      return [finding("ZH-ALARM-TOPIC-NO-SUBSCRIBER", address, `alarm_actions notify only ${named}, which no aws_sns_topic_subscription here subscribes to`)];
    }),
  );
}

