// Shared checks for construct props and the environment configuration.
// Each check returns problems as text naming the field, so a caller can
// collect every problem and report them together.
import { Token } from "cdktf";

/** Raised before anything is synthesized; lists every problem found. */
export class ValidationError extends Error {
  constructor(
    readonly subject: string,
    readonly problems: readonly string[],
  ) {
    super(`Invalid ${subject}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ValidationError";
  }
}

/** Throws a ValidationError when there are problems. */
export function throwIfProblems(subject: string, problems: readonly string[]): void {
  if (problems.length > 0) throw new ValidationError(subject, problems);
}

const show = (v: unknown): string => (typeof v === "string" ? `'${v}'` : JSON.stringify(v) ?? String(v));

/** A value that is unknown until apply (a cdktf token) is not checked. */
const unresolved = (v: unknown): boolean => (typeof v === "string" || typeof v === "number") && Token.isUnresolved(v);

export function checkOneOf(field: string, value: unknown, allowed: readonly string[]): string[] {
  if (unresolved(value)) return [];
  return typeof value === "string" && allowed.includes(value)
    ? []
    : [`${field} must be one of ${allowed.map((a) => `'${a}'`).join(", ")} (got ${show(value)})`];
}

export function checkString(field: string, value: unknown, pattern?: RegExp, what?: string): string[] {
  if (unresolved(value)) return [];
  if (typeof value !== "string") return [`${field} must be a string (got ${show(value)})`];
  if (value.trim() === "") return [`${field} must not be empty`];
  if (pattern && !pattern.test(value)) return [`${field} must be ${what ?? `a string matching ${pattern}`} (got ${show(value)})`];
  return [];
}

export function checkBoolean(field: string, value: unknown): string[] {
  return typeof value === "boolean" ? [] : [`${field} must be true or false (got ${show(value)})`];
}

export function checkNumber(
  field: string,
  value: unknown,
  opts: { integer?: boolean; min?: number; max?: number; positive?: boolean },
): string[] {
  if (unresolved(value)) return [];
  if (typeof value !== "number" || !Number.isFinite(value)) return [`${field} must be a number (got ${show(value)})`];
  if (opts.integer && !Number.isInteger(value)) return [`${field} must be a whole number (got ${value})`];
  if (opts.positive && value <= 0) return [`${field} must be greater than 0 (got ${value})`];
  if (opts.min !== undefined && value < opts.min) return [`${field} must be at least ${opts.min} (got ${value})`];
  if (opts.max !== undefined && value > opts.max) return [`${field} must be at most ${opts.max} (got ${value})`];
  return [];
}

export const CIDR = /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\/(3[0-2]|[12]?\d)$/;
export const ARN = /^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12})?:.+$/;
export const AWS_REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
/** Lower-case letters, digits and hyphens: what goes into AWS resource names here. */
export const NAME = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;

export function checkArn(field: string, value: unknown): string[] {
  return checkString(field, value, ARN, "an ARN like arn:aws:iam::123456789012:role/name");
}

export function checkCidrs(field: string, value: unknown): string[] {
  if (!Array.isArray(value)) return [`${field} must be a list of CIDR blocks (got ${show(value)})`];
  return value.flatMap((c, i) => checkString(`${field}[${i}]`, c, CIDR, "an IPv4 CIDR block like 203.0.113.0/24"));
}

/** Task CPU units → memory sizes (MiB) that Fargate accepts. */
export const FARGATE_CPU_MEMORY: Readonly<Record<number, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: range(1024, 4096, 1024),
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
  8192: range(16384, 61440, 4096),
  16384: range(32768, 122880, 8192),
};

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

export function checkFargateSize(cpuField: string, cpu: unknown, memoryField: string, memory: unknown): string[] {
  const cpus = Object.keys(FARGATE_CPU_MEMORY).map(Number);
  if (typeof cpu !== "number" || !FARGATE_CPU_MEMORY[cpu]) {
    return [`${cpuField} must be one of ${cpus.join(", ")} (got ${show(cpu)})`];
  }
  const allowed = FARGATE_CPU_MEMORY[cpu];
  if (typeof memory !== "number" || !allowed.includes(memory)) {
    const span = `${allowed[0]} to ${allowed[allowed.length - 1]} in steps of ${allowed[1] - allowed[0]}`;
    return [`${memoryField} must be a memory size Fargate accepts with ${cpuField} ${cpu}: ${span} (got ${show(memory)})`];
  }
  return [];
}

/** The ml_worker capacity rules, shared by the construct and the environment config. */
export function checkCapacities(
  names: { min: string; max: string; target: string },
  min: unknown,
  max: unknown,
  target: unknown,
): string[] {
  const problems = [
    ...checkNumber(names.min, min, { integer: true, min: 0 }),
    ...checkNumber(names.max, max, { integer: true, min: 0 }),
    ...checkNumber(names.target, target, { positive: true }),
  ];
  if (problems.length === 0 && typeof min === "number" && typeof max === "number" && min > max) {
    problems.push(`${names.min} (${min}) must not be greater than ${names.max} (${max})`);
  }
  return problems;
}

export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/**
 * The hardened-profile settings shared by MlWorker props and the environment
 * configuration's `hardening` (field names get `prefix`).
 */
export function checkHardening(prefix: string, h: Record<string, any>): string[] {
  const f = (name: string) => `${prefix}${name}`;
  const problems: string[] = [];
  if (h.onDemandWeight !== undefined) problems.push(...checkNumber(f("onDemandWeight"), h.onDemandWeight, { integer: true, min: 0, max: 1000 }));
  if (h.stopTimeoutSeconds !== undefined) {
    problems.push(...checkNumber(f("stopTimeoutSeconds"), h.stopTimeoutSeconds, { integer: true, min: 2, max: 120 }));
  }
  if (h.logRetentionDays !== undefined && !LOG_RETENTION_DAYS.includes(h.logRetentionDays)) {
    problems.push(`${f("logRetentionDays")} must be one of ${LOG_RETENTION_DAYS.join(", ")} (got ${show(h.logRetentionDays)})`);
  }
  if (h.logKmsKeyArn !== undefined) problems.push(...checkArn(f("logKmsKeyArn"), h.logKmsKeyArn));
  if (h.logKmsKeyArn !== undefined && h.createLogKmsKey) {
    problems.push(`${f("logKmsKeyArn")} and ${f("createLogKmsKey")} are exclusive: bring a key or create one`);
  }
  if (h.queueEncryption !== undefined) {
    problems.push(...checkOneOf(f("queueEncryption.type"), h.queueEncryption?.type, ["sse-sqs", "kms"]));
    if (h.queueEncryption?.type === "kms") problems.push(...checkString(f("queueEncryption.kmsKeyId"), h.queueEncryption.kmsKeyId));
  }
  if (h.alarmNotifications?.email !== undefined) {
    problems.push(...checkString(f("alarmNotifications.email"), h.alarmNotifications.email, EMAIL, "an e-mail address"));
  }
  for (const flag of ["backlogPerTaskScaling", "deploymentCircuitBreaker", "createLogKmsKey", "scopedS3Actions", "adoptMlWorkerRepository"]) {
    if (h[flag] !== undefined) problems.push(...checkBoolean(f(flag), h[flag]));
  }
  return problems;
}
