// Shared checks for construct props and the environment configuration.
// Each check returns problems as text naming the field, so a caller can
// collect every problem and report them together.
// Token from its own file, not cdktf's index: the environment configuration is checked here before
// anything else loads, and a refused one is reported without loading cdktf (10 files instead of ~380).
import { Token } from "cdktf/lib/tokens/token";
import { closest, distance } from "fastest-levenshtein";

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

/** A value as the user wrote it: NaN stays NaN (JSON would say null), and nothing here throws. */
export function show(v: unknown): string {
  if (typeof v === "string") return `'${v}'`;
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "symbol" || v === undefined) return String(v);
  if (typeof v === "function") return "a function";
  try {
    return JSON.stringify(v, (_k, x) => (typeof x === "number" && !Number.isFinite(x) ? String(x) : typeof x === "bigint" ? `${x}` : x));
  } catch {
    return Object.prototype.toString.call(v);
  }
}

/**
 * Known keys of an object type, as a record: tsc fails when the type gains or
 * loses a field and this list does not, so it cannot drift. One line per key.
 */
export type KnownKeys<T> = { readonly [K in keyof T]-?: true };

/** `'a', 'b', 'c'` */
export const quoteAll = (names: readonly string[]): string => names.map((n) => `'${n}'`).join(", ");

/**
 * The closest of `names` to `given`, when it is close enough to be a typo:
 * case ignored, at most a third of the length (2 at least) in edits, or the
 * one name that starts with it (`fifo` for `fifo_queue`).
 */
export function nearest(given: string, names: readonly string[]): string | undefined {
  if (names.length === 0) return undefined;
  const g = given.toLowerCase();
  const lower = names.map((n) => n.toLowerCase());
  const near = closest(g, lower);
  if (distance(g, near) <= Math.max(2, Math.floor(g.length / 3))) return names[lower.indexOf(near)];
  const extending = lower.filter((n) => g.length >= 3 && n.startsWith(g));
  return extending.length === 1 ? names[lower.indexOf(extending[0])] : undefined;
}

/**
 * Keys of `value` that `known` does not list, each named with the closest
 * known key (or, when none is close, all of them). A misspelled optional
 * setting is otherwise ignored without a word, e.g. `createLogKMSKey`.
 */
export function checkKnownKeys(
  prefix: string,
  value: object,
  known: Readonly<Record<string, true>>,
  what = { one: "a known setting", all: "known settings" },
): string[] {
  const names = Object.keys(known);
  return Object.keys(value)
    .filter((k) => !Object.prototype.hasOwnProperty.call(known, k))
    .map((k) => {
      const near = nearest(k, names);
      return `${prefix}${k} is not ${what.one}; ${near ? `did you mean '${near}'?` : `${what.all}: ${quoteAll(names)}`}`;
    });
}

/** True for a plain object (not null, not an array). */
export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

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

/**
 * A literal that synthesis writes into the Terraform JSON as it is: there, `${` starts an interpolation and
 * `%{` a directive, so Terraform would read the value as an expression (and refuse it, or read something else).
 */
export function checkLiteralText(field: string, value: unknown): string[] {
  if (typeof value !== "string" || unresolved(value) || !/[$%]\{/.test(value)) return [];
  return [`${field} must not contain '\${' or '%{' (got ${show(value)}): Terraform reads them as an interpolation or a directive there`];
}

/** Characters that the templates' values cannot hold: cdktf writes them between quotes in the `templatefile(...)` call, unescaped. */
const TEMPLATE_UNSAFE = /["\\\n]/;

/** A literal the host's templates receive (Compute): no double quote, backslash or line break. */
export function checkTemplateText(field: string, value: unknown): string[] {
  if (typeof value !== "string" || unresolved(value) || !TEMPLATE_UNSAFE.test(value)) return [];
  return [`${field} must not contain a double quote, a backslash or a line break (got ${show(value)}): it is written into the host's script`];
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
  if (typeof value !== "number" || Number.isNaN(value)) return [`${field} must be a number (got ${show(value)})`];
  if (!Number.isFinite(value)) return [`${field} must be a finite number (got ${show(value)})`];
  if (opts.integer && !Number.isInteger(value)) return [`${field} must be a whole number (got ${value})`];
  if (opts.positive && value <= 0) return [`${field} must be greater than 0 (got ${value})`];
  if (opts.min !== undefined && value < opts.min) return [`${field} must be at least ${opts.min} (got ${value})`];
  if (opts.max !== undefined && value > opts.max) return [`${field} must be at most ${opts.max} (got ${value})`];
  return [];
}

export const CIDR = /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\/(3[0-2]|[12]?\d)$/;
/** IAM role ARNs (role names may hold a path). */
export const IAM_ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
/** An AMI id (compute's `ami`, the configuration's `compute.ami`). */
export const AMI_ID = /^ami-[0-9a-f]{8,17}$/;
/** Lower-case letters, digits and hyphens: what goes into AWS resource names here. */
export const NAME = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;

/**
 * The AWS regions that exist (commercial, GovCloud, China), as of 2025-11.
 * A region AWS opens later is one line here.
 */
export const AWS_REGIONS: readonly string[] = [
  "us-east-1", "us-east-2", "us-west-1", "us-west-2",
  "af-south-1",
  "ap-east-1", "ap-east-2", "ap-south-1", "ap-south-2",
  "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
  "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
  "ca-central-1", "ca-west-1",
  "eu-central-1", "eu-central-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-south-1", "eu-south-2", "eu-north-1",
  "il-central-1", "me-south-1", "me-central-1", "mx-central-1", "sa-east-1",
  "us-gov-east-1", "us-gov-west-1",
  "cn-north-1", "cn-northwest-1",
];

export function checkRegion(field: string, value: unknown): string[] {
  const problems = checkString(field, value);
  if (problems.length > 0 || unresolved(value) || AWS_REGIONS.includes(value as string)) return problems;
  const near = nearest(value as string, AWS_REGIONS);
  return [
    `${field} must be an AWS region like us-east-1 (got ${show(value)}); ` +
      (near ? `did you mean '${near}'?` : "the regions are listed in modules/validation.ts (AWS_REGIONS)"),
  ];
}

export function checkRoleArn(field: string, value: unknown): string[] {
  return checkString(field, value, IAM_ROLE_ARN, "an IAM role ARN like arn:aws:iam::123456789012:role/name");
}

const KMS_KEY_ID = "([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})";
const KMS_ALIAS = "alias/[A-Za-z0-9/_-]{1,250}";
const KMS_KEY_ARN = new RegExp(`^arn:aws[a-z-]*:kms:([a-z0-9-]+):\\d{12}:key/${KMS_KEY_ID}$`);
const KMS_ANY = new RegExp(`^(${KMS_KEY_ID}|${KMS_ALIAS}|arn:aws[a-z-]*:kms:([a-z0-9-]+):\\d{12}:(key/${KMS_KEY_ID}|${KMS_ALIAS}))$`);
const kmsRegion = (arn: string): string | undefined => /^arn:aws[a-z-]*:kms:([a-z0-9-]+):/.exec(arn)?.[1];

/**
 * A KMS key in another region than its user cannot be used: SQS and
 * CloudWatch Logs need their own region's keys. `user`: "the queues are".
 */
function checkKmsRegion(field: string, value: string, region: unknown, user: string): string[] {
  const keyRegion = kmsRegion(value);
  return keyRegion && typeof region === "string" && keyRegion !== region
    ? [`${field} is a key in ${keyRegion}, but ${user} in ${region}: AWS needs a KMS key in the same region`]
    : [];
}

/** CloudWatch Logs takes a KMS key ARN only (no key id, no alias). */
export function checkKmsKeyArn(field: string, value: unknown, region: unknown, user: string): string[] {
  const problems = checkString(field, value, KMS_KEY_ARN, "a KMS key ARN like arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab");
  return problems.length > 0 || unresolved(value) ? problems : checkKmsRegion(field, value as string, region, user);
}

/** SQS takes a key id, key ARN, alias name or alias ARN. */
export function checkKmsKeyReference(field: string, value: unknown, region: unknown, user: string): string[] {
  const problems = checkString(field, value, KMS_ANY, "a KMS key id, key ARN, alias (alias/name) or alias ARN");
  return problems.length > 0 || unresolved(value) ? problems : checkKmsRegion(field, value as string, region, user);
}

export function checkCidrs(field: string, value: unknown): string[] {
  if (!Array.isArray(value)) return [`${field} must be a list of CIDR blocks (got ${show(value)})`];
  return value.flatMap((c, i) => {
    const problems = checkString(`${field}[${i}]`, c, CIDR, "an IPv4 CIDR block like 203.0.113.0/24");
    if (problems.length > 0 || unresolved(c)) return problems;
    // EC2 refuses a rule that lists one block twice ("The same permission must not appear multiple times").
    const first = value.indexOf(c);
    if (first < i) return [`${field}[${i}] repeats ${field}[${first}] ('${c}'): EC2 refuses a rule that lists one block twice`];
    return checkHostBits(`${field}[${i}]`, c as string);
  });
}

/** `10.0.0.1/24` is not a network: AWS refuses it (or keeps planning a change to it). */
function checkHostBits(field: string, cidr: string): string[] {
  const [ip, bits] = cidr.split("/");
  const octets = ip.split(".").map(Number);
  const address = octets.reduce((a, o) => a * 256 + o, 0);
  const size = 2 ** (32 - Number(bits));
  const network = address - (address % size);
  if (network === address) return [];
  const dotted = [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join(".");
  return [`${field} has host bits set (got '${cidr}'): the network is ${dotted}/${bits}; for the one host use ${ip}/32`];
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

/** ECS quota "Tasks per service": 5,000, not adjustable. */
export const MAX_TASKS_PER_SERVICE = 5000;

/** The ml_worker capacity rules, shared by the construct and the environment config. */
export function checkCapacities(
  names: { min: string; max: string; target: string },
  min: unknown,
  max: unknown,
  target: unknown,
): string[] {
  const problems = [
    ...checkNumber(names.min, min, { integer: true, min: 0, max: MAX_TASKS_PER_SERVICE }),
    ...checkNumber(names.max, max, { integer: true, min: 0, max: MAX_TASKS_PER_SERVICE }),
    // Application Auto Scaling's TargetValue maximum.
    ...checkNumber(names.target, target, { positive: true, max: 6.8056469e38 }),
  ];
  if (problems.length === 0 && typeof min === "number" && typeof max === "number" && min > max) {
    problems.push(`${names.min} (${min}) must not be greater than ${names.max} (${max})`);
  }
  return problems;
}

export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
/** An address SNS takes: an unquoted local part, a domain of two or more labels (no `,`, `;` or spaces: one address). */
const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** Known keys of the nested hardened settings (the types are in modules/ml-worker.ts). */
export const QUEUE_ENCRYPTION_KEYS: Readonly<Record<string, Readonly<Record<string, true>>>> = {
  "sse-sqs": { type: true },
  kms: { type: true, kmsKeyId: true },
};
export const ALARM_NOTIFICATION_KEYS: Readonly<Record<string, true>> = { email: true };

/**
 * The hardened-profile settings shared by MlWorker props and the environment
 * configuration's `hardening` (field names get `prefix`). `region` is where
 * the queues and the log group are, for the KMS keys' region.
 */
export function checkHardening(prefix: string, h: Record<string, any>, region: unknown): string[] {
  const f = (name: string) => `${prefix}${name}`;
  const problems: string[] = [];
  if (h.onDemandWeight !== undefined) problems.push(...checkNumber(f("onDemandWeight"), h.onDemandWeight, { integer: true, min: 0, max: 1000 }));
  if (h.stopTimeoutSeconds !== undefined) {
    problems.push(...checkNumber(f("stopTimeoutSeconds"), h.stopTimeoutSeconds, { integer: true, min: 2, max: 120 }));
  }
  if (h.logRetentionDays !== undefined && !LOG_RETENTION_DAYS.includes(h.logRetentionDays)) {
    problems.push(`${f("logRetentionDays")} must be one of ${LOG_RETENTION_DAYS.join(", ")} (got ${show(h.logRetentionDays)})`);
  }
  if (h.logKmsKeyArn !== undefined) problems.push(...checkKmsKeyArn(f("logKmsKeyArn"), h.logKmsKeyArn, region, "the log group is"));
  if (h.logKmsKeyArn !== undefined && h.createLogKmsKey) {
    problems.push(`${f("logKmsKeyArn")} and ${f("createLogKmsKey")} are exclusive: bring a key or create one`);
  }
  if (h.queueEncryption !== undefined) {
    const q = h.queueEncryption;
    if (!isObject(q)) problems.push(`${f("queueEncryption")} must be { type: "sse-sqs" } or { type: "kms", kmsKeyId } (got ${show(q)})`);
    else {
      problems.push(...checkOneOf(f("queueEncryption.type"), q.type, Object.keys(QUEUE_ENCRYPTION_KEYS)));
      const known = typeof q.type === "string" ? QUEUE_ENCRYPTION_KEYS[q.type] : undefined;
      if (q.type === "sse-sqs" && "kmsKeyId" in q) {
        problems.push(`${f("queueEncryption.kmsKeyId")} is for type 'kms' only: SSE-SQS encrypts with a key SQS owns, and SQS refuses both together`);
      } else if (known) problems.push(...checkKnownKeys(f("queueEncryption."), q, known));
      if (q.type === "kms") problems.push(...checkKmsKeyReference(f("queueEncryption.kmsKeyId"), q.kmsKeyId, region, "the queues are"));
    }
  }
  if (h.alarmNotifications !== undefined) {
    const a = h.alarmNotifications;
    if (!isObject(a)) problems.push(`${f("alarmNotifications")} must be an object, {} or { email } (got ${show(a)})`);
    else {
      problems.push(...checkKnownKeys(f("alarmNotifications."), a, ALARM_NOTIFICATION_KEYS));
      if (a.email !== undefined) problems.push(...checkString(f("alarmNotifications.email"), a.email, EMAIL, "an e-mail address"));
    }
  }
  for (const flag of ["backlogPerTaskScaling", "deploymentCircuitBreaker", "createLogKmsKey", "scopedS3Actions", "adoptMlWorkerRepository"]) {
    if (h[flag] !== undefined) problems.push(...checkBoolean(f(flag), h[flag]));
  }
  return problems;
}
