// Configuration of the policy checks (policy/rules.ts), shared by the synth-time
// Aspect (policy/aspect.ts) and the `npm run policy` CLI (commands/policy.ts).
// A stack's configuration is its environment's `policy` (config/environments.ts).
import { ValidationError } from "../modules/validation";

/** Finding severities, most severe first. */
export const SEVERITIES = ["critical", "high", "medium", "low"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Position of a severity in SEVERITIES: 0 is critical. */
export const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);

export const isSeverity = (v: unknown): v is Severity => typeof v === "string" && (SEVERITIES as readonly string[]).includes(v);

/**
 * An accepted finding: it is reported as exempted (with its reason) instead
 * of as a finding, and never blocks. Both `id` and `address` must match
 * exactly (`address` as the finding prints it, e.g.
 * `aws_ecs_service.ml_worker_ml_worker` or `variable.reminder_rabbitmq_url.default`).
 * An exemption that matches no finding is an error at synth.
 */
export interface PolicyExemption {
  readonly id: string;
  readonly address: string;
  /** Why the risk is accepted; required, shown in every report. */
  readonly reason: string;
}

export interface PolicyConfig {
  /**
   * Severities that fail `npm run policy` (exit code 1), and fail synthesis
   * when the Aspect is attached with `failSynth: true`.
   * @default ["critical"]
   */
  readonly blockingSeverities: readonly Severity[];
  /**
   * Shortest acceptable CloudWatch log retention in days (ZH-LOG-RETENTION).
   * @default 365 - the year checkov CKV_AWS_338 requires
   */
  readonly logRetentionFloorDays: number;
  /** Accepted findings. @default [] */
  readonly exemptions?: readonly PolicyExemption[];
}

/** The project's policy: block only critical findings; keep logs a year; no exemptions. */
export const DEFAULT_POLICY_CONFIG: PolicyConfig = {
  blockingSeverities: ["critical"],
  logRetentionFloorDays: 365,
  exemptions: [],
};

/**
 * Every problem with a (partial) policy configuration, each naming its field
 * (with `prefix`, e.g. `policy.config.`).
 */
export function validatePolicyConfig(config: Partial<PolicyConfig>, prefix = ""): string[] {
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    return [`${prefix.replace(/\.$/, "") || "policy configuration"} must be an object (got ${JSON.stringify(config)})`];
  }
  const problems: string[] = [];
  const c = config as Record<string, unknown>;
  if (c.blockingSeverities !== undefined) {
    if (!Array.isArray(c.blockingSeverities)) problems.push(`${prefix}blockingSeverities must be a list of severities (${SEVERITIES.join(", ")})`);
    else
      c.blockingSeverities.forEach((s, i) => {
        if (!isSeverity(s)) problems.push(`${prefix}blockingSeverities[${i}] must be one of ${SEVERITIES.join(", ")} (got ${JSON.stringify(s)})`);
      });
  }
  if (c.logRetentionFloorDays !== undefined) {
    const d = c.logRetentionFloorDays;
    if (typeof d !== "number" || !Number.isInteger(d) || d < 0) {
      problems.push(`${prefix}logRetentionFloorDays must be a whole number of days, 0 or more (got ${JSON.stringify(d)})`);
    }
  }
  if (c.exemptions !== undefined) {
    if (!Array.isArray(c.exemptions)) problems.push(`${prefix}exemptions must be a list of { id, address, reason }`);
    else
      c.exemptions.forEach((e: Record<string, unknown> | null, i) => {
        for (const field of ["id", "address", "reason"]) {
          const v = e?.[field];
          if (typeof v !== "string" || v.trim() === "") problems.push(`${prefix}exemptions[${i}].${field} must be a non-empty string`);
        }
      });
  }
  return problems;
}

/** An environment's `policy` setting (config/environment.ts), as `policy.` fields. */
export function validatePolicySettings(policy: unknown): string[] {
  if (policy === undefined) return [];
  if (typeof policy !== "object" || policy === null || Array.isArray(policy)) return [`policy must be an object (got ${JSON.stringify(policy)})`];
  const p = policy as Record<string, unknown>;
  return [
    ...(p.config === undefined ? [] : validatePolicyConfig(p.config as Partial<PolicyConfig>, "policy.config.")),
    ...(p.failSynth === undefined || typeof p.failSynth === "boolean" ? [] : [`policy.failSynth must be true or false (got ${JSON.stringify(p.failSynth)})`]),
  ];
}

/** The defaults with `partial` on top; throws a ValidationError on an invalid configuration. */
export function resolvePolicyConfig(partial: Partial<PolicyConfig> = {}): PolicyConfig {
  const problems = validatePolicyConfig(partial);
  if (problems.length > 0) throw new ValidationError("policy configuration", problems);
  return {
    blockingSeverities: partial.blockingSeverities ?? DEFAULT_POLICY_CONFIG.blockingSeverities,
    logRetentionFloorDays: partial.logRetentionFloorDays ?? DEFAULT_POLICY_CONFIG.logRetentionFloorDays,
    exemptions: partial.exemptions ?? DEFAULT_POLICY_CONFIG.exemptions,
  };
}
