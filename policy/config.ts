// Configuration of the policy checks (policy/rules.ts), shared by the synth-time
// Aspect (policy/aspect.ts) and the `npm run policy` CLI (scripts/policy.ts).

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

/** Every problem with a (partial) policy configuration, each naming its field. */
export function validatePolicyConfig(config: Partial<PolicyConfig>): string[] {
  const problems: string[] = [];
  const c = config as Record<string, unknown>;
  if (c.blockingSeverities !== undefined) {
    if (!Array.isArray(c.blockingSeverities)) problems.push("blockingSeverities must be a list of severities");
    else
      c.blockingSeverities.forEach((s, i) => {
        if (!isSeverity(s)) problems.push(`blockingSeverities[${i}] must be one of ${SEVERITIES.join(", ")} (got ${JSON.stringify(s)})`);
      });
  }
  if (c.logRetentionFloorDays !== undefined) {
    const d = c.logRetentionFloorDays;
    if (typeof d !== "number" || !Number.isInteger(d) || d < 0) {
      problems.push(`logRetentionFloorDays must be a whole number of days, 0 or more (got ${JSON.stringify(d)})`);
    }
  }
  if (c.exemptions !== undefined) {
    if (!Array.isArray(c.exemptions)) problems.push("exemptions must be a list");
    else
      c.exemptions.forEach((e: Record<string, unknown> | null, i) => {
        for (const field of ["id", "address", "reason"]) {
          const v = e?.[field];
          if (typeof v !== "string" || v.trim() === "") problems.push(`exemptions[${i}].${field} must be a non-empty string`);
        }
      });
  }
  return problems;
}

/** The defaults with `partial` on top; throws on an invalid configuration. */
export function resolvePolicyConfig(partial: Partial<PolicyConfig> = {}): PolicyConfig {
  const problems = validatePolicyConfig(partial);
  if (problems.length > 0) throw new Error(`Invalid policy configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  return {
    blockingSeverities: partial.blockingSeverities ?? DEFAULT_POLICY_CONFIG.blockingSeverities,
    logRetentionFloorDays: partial.logRetentionFloorDays ?? DEFAULT_POLICY_CONFIG.logRetentionFloorDays,
    exemptions: partial.exemptions ?? DEFAULT_POLICY_CONFIG.exemptions,
  };
}
