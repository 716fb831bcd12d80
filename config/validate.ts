// Long: every field of the environment configuration checked in one place, one function per object or concern, so one run names every problem.
import {
  ALLOWED_REPLACEMENT_KEYS,
  ALLOW_DESTROY_KEYS,
  BACKEND_KEYS,
  COMPUTE_SETTINGS_KEYS,
  ENVIRONMENT_KEYS,
  HARDENING_KEYS,
  KEEP_UNPLANNABLE_KEYS,
  ML_WORKER_SETTINGS_KEYS,
  PLAN_CHECK_DEFAULTS_KEYS,
  POLICY_CONFIG_KEYS,
  POLICY_EXEMPTION_KEYS,
  POLICY_SETTINGS_KEYS,
  REMINDER_SETTINGS_KEYS,
} from "./environment";
// Pure checks and data only, no cdktf: a refused configuration is reported before cdktf loads (stacks/app.ts).
import { checkRoleNameLength } from "../modules/iam/role-names";
import { WORKER_MODES } from "../modules/ml-worker/defaults";
import { validatePolicySettings } from "../policy/config";
import {
  AMI_ID,
  NAME,
  checkBoolean,
  checkCapacities,
  checkCidrs,
  checkFargateSize,
  checkHardening,
  checkKnownKeys,
  checkLiteralText,
  checkNumber,
  checkOneOf,
  checkRegion,
  checkString,
  checkTemplateText,
  isObject,
  nearest,
  quoteAll,
  show,
} from "../modules/validation";
import { counterpart } from "../stacks/moves";
import { FORCE_NEW } from "../stacks/force-new";

/** The API host's synthesized address, from the one address table. */
const HOST = counterpart("module.compute.aws_instance.host")!;

/**
 * S3's naming rules: 3 to 63 lower-case letters, digits, dots and hyphens, a letter or digit at both ends, no
 * two dots together, not an IP address, none of the prefixes and suffixes S3 reserves.
 */
const S3_BUCKET =
  /^(?!xn--|sthree-|amzn-s3-demo-)(?!.*\.\.)(?!\d{1,3}(\.\d{1,3}){3}$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$(?<!-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)/;
const DOMAIN = /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const SSM_NAME = /^\/[a-zA-Z0-9_.\-/]+$/;
const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * Every problem with an environment configuration, each naming its field.
 * The configuration is typed, but the fast build does not type check and it
 * can come from JSON or plain JavaScript, so keys and types are checked too.
 */
export function validateEnvironment(config: unknown): string[] {
  if (!isObject(config)) return ["configuration must be an object"];
  const c = config as Record<string, any>;
  const problems: string[] = [
    ...checkKnownKeys("", c, ENVIRONMENT_KEYS),
    ...checkString("project", c.project, NAME, "lower-case letters, digits and hyphens"),
    ...checkString("environment", c.environment, NAME, "lower-case letters, digits and hyphens"),
    ...checkRoleNameLength(c.project, c.environment),
    ...checkRegion("awsRegion", c.awsRegion),
    ...checkString("imageTag", c.imageTag, IMAGE_TAG, "a Docker image tag"),
    ...checkString("existingVpcId", c.existingVpcId, /^vpc-[0-9a-f]{8,17}$/, "a VPC id like vpc-0123456789abcdef0"),
    ...checkString("dbInstanceIdentifier", c.dbInstanceIdentifier, /^[a-zA-Z][a-zA-Z0-9-]{0,62}$/, "an RDS instance identifier"),
    ...checkString("rdsSecurityGroupId", c.rdsSecurityGroupId, /^sg-[0-9a-f]{8,17}$/, "a security group id like sg-0123456789abcdef0"),
    ...checkString("dbUsername", c.dbUsername),
    ...checkString("dbPasswordSsmName", c.dbPasswordSsmName, SSM_NAME, "an SSM parameter name starting with /"),
    ...checkString("storageBucketName", c.storageBucketName, S3_BUCKET, "a valid S3 bucket name"),
    ...checkString("zoneName", c.zoneName, DOMAIN, "a DNS zone name like example.com"),
    ...(c.sshKeyName === null ? [] : checkString("sshKeyName", c.sshKeyName, /^[\x20-\x7e]{1,255}$/, "an EC2 key pair name: up to 255 ASCII characters")),
    ...checkBoolean("enableSshTunnel", c.enableSshTunnel),
    ...checkCidrs("sshAllowedCidrs", c.sshAllowedCidrs),
    ...validateModulesDir(c.hclModulesDir),
    ...checkString("envFilePath", c.envFilePath),
    ...validateSshTunnel(c.enableSshTunnel, c.sshAllowedCidrs),
    ...validateReminders(c.reminders),
    ...validateMlWorker(c.mlWorker),
    ...validateCompute(c.compute, c.deployed),
    ...validateBackend(c.backend),
    ...validateHardening(c.hardening, c.awsRegion),
    ...validatePolicyKeys(c.policy),
    ...validateDeployed(c.deployed),
    ...validateDeployedRegion(c.deployedRegion, c.deployed, c.awsRegion),
    ...validateAllowReplacement(c.allowReplacement, c.deployed),
    ...(c.newEnvironment === undefined ? [] : checkBoolean("newEnvironment", c.newEnvironment)),
    ...validateAllowDestroy(c.allowDestroy),
    ...validateKeepUnplannable(c.keepUnplannable),
    ...validatePolicySettings(c.policy),
    ...validatePlanCheckDefaults(c.planCheck),
    ...validateLiterals(c),
  ];
  // The ML worker reads the password there, and the ssm module overwrites (overwrite = true) whatever this names.
  const passwordName = `/${c.project}/${c.environment}/db/password`;
  const named = [c.project, c.environment].every((n) => typeof n === "string" && NAME.test(n));
  if (named && typeof c.dbPasswordSsmName === "string" && SSM_NAME.test(c.dbPasswordSsmName) && c.dbPasswordSsmName !== passwordName) {
    problems.push(
      `dbPasswordSsmName must be '${passwordName}' (got '${c.dbPasswordSsmName}'): the ML worker reads the password there, ` +
        "and the ssm module overwrites the parameter this names",
    );
  }
  if (c.newEnvironment === true && isObject(c.deployed) && Object.keys(c.deployed).length > 0) {
    problems.push("newEnvironment is set, but deployed records deployed resources: a new environment has none (deployed: {})");
  }
  return problems;
}

/**
 * The free-text fields synthesis writes into the Terraform JSON unchanged (the patterned ones, ids and
 * names, cannot hold `${`): there `${` and `%{` would be an expression. A field that is not a string is
 * reported by its own check.
 */
function validateLiterals(c: Record<string, any>): string[] {
  const b = isObject(c.backend) ? c.backend : {};
  const r = isObject(c.reminders) ? c.reminders : {};
  const email = isObject(c.hardening) && isObject(c.hardening.alarmNotifications) ? c.hardening.alarmNotifications.email : undefined;
  return [
    ...checkLiteralText("dbUsername", c.dbUsername),
    ...checkLiteralText("sshKeyName", c.sshKeyName),
    ...checkLiteralText("hclModulesDir", c.hclModulesDir),
    ...checkLiteralText("envFilePath", c.envFilePath),
    ...checkLiteralText("backend.path", b.path),
    ...checkLiteralText("backend.key", b.key),
    ...checkLiteralText("backend.dynamodbTable", b.dynamodbTable),
    ...checkLiteralText("hardening.alarmNotifications.email", email),
    ...checkLiteralText("reminders.remindersFcmProjectId", r.remindersFcmProjectId),
    // The reminder settings are the host's templates' values too (Compute): what the script cannot hold, named here by the configuration's field.
    ...Object.keys(REMINDER_SETTINGS_KEYS).flatMap((k) => checkTemplateText(`reminders.${k}`, r[k])),
  ];
}

/**
 * Terraform reads a module source as a local path only when it starts with `./` or `../`: an
 * absolute path is a package that `terraform init` copies into `.terraform/modules` (so the
 * modules would be copied, not referenced, and an edit unseen until the next init), and any
 * other relative path is read as a registry address.
 */
function validateModulesDir(dir: unknown): string[] {
  const problems = checkString("hclModulesDir", dir);
  if (problems.length > 0 || /^\.\.?\//.test(dir as string)) return problems;
  const why = (dir as string).startsWith("/")
    ? "Terraform treats an absolute module source as a package and copies it into .terraform/modules at init, instead of referencing it"
    : "Terraform reads any other module source as a registry address";
  return [`hclModulesDir must be a relative path starting with ./ or ../, from cdktf.out/stacks/<stack> (got '${dir}'): ${why}`];
}

/** The SSH rule exists only with both: the tunnel on and no one allowed is a rule silently not created (count 0). */
function validateSshTunnel(enabled: unknown, cidrs: unknown): string[] {
  if (enabled !== true || !Array.isArray(cidrs) || cidrs.length > 0) return [];
  return [
    "enableSshTunnel is true but sshAllowedCidrs is empty: no SSH rule would be created (its count is 0 without a CIDR block, as in the HCL); " +
      "list the CIDR blocks allowed to SSH in sshAllowedCidrs, or set enableSshTunnel to false",
  ];
}

/** plan-check's defaults: paths only; plan-check itself says when one does not exist (it may not, on a machine that never runs it). */
function validatePlanCheckDefaults(d: unknown): string[] {
  if (d === undefined) return [];
  if (!isObject(d)) return [`planCheck must be an object, { modules?, data? } (got ${show(d)})`];
  return [
    ...checkKnownKeys("planCheck.", d, PLAN_CHECK_DEFAULTS_KEYS),
    ...(d.modules === undefined ? [] : checkString("planCheck.modules", d.modules)),
    ...(d.data === undefined ? [] : checkString("planCheck.data", d.data)),
  ];
}

function validateReminders(r: unknown): string[] {
  if (!isObject(r)) return ["reminders must be an object"];
  const str = (k: string) => checkString(`reminders.${k}`, r[k]);
  return [
    ...checkKnownKeys("reminders.", r, REMINDER_SETTINGS_KEYS),
    ...(typeof r.remindersFcmProjectId === "string" ? [] : ["reminders.remindersFcmProjectId must be a string"]),
    ...str("reminderServiceHost"),
    ...checkNumber("reminders.reminderServicePort", r.reminderServicePort, { integer: true, min: 1, max: 65535 }),
    ...str("reminderRabbitmqExchange"),
    ...str("reminderRabbitmqInputQueue"),
    ...str("reminderRabbitmqOutputQueue"),
    ...str("reminderRabbitmqInputRoutingKey"),
    ...str("reminderRabbitmqOutputRoutingKey"),
    ...checkNumber("reminders.reminderSchedulerScanIntervalSeconds", r.reminderSchedulerScanIntervalSeconds, { integer: true, positive: true }),
    ...checkNumber("reminders.reminderSchedulerBatchSize", r.reminderSchedulerBatchSize, { integer: true, positive: true }),
    ...checkBoolean("reminders.reminderMetricsEnabled", r.reminderMetricsEnabled),
  ];
}

function validateMlWorker(m: unknown): string[] {
  if (!isObject(m)) return ["mlWorker must be an object"];
  const capacities = checkCapacities(
    { min: "mlWorker.minCapacity", max: "mlWorker.maxCapacity", target: "mlWorker.targetQueueDepth" },
    m.minCapacity,
    m.maxCapacity,
    m.targetQueueDepth,
  );
  return [
    ...checkKnownKeys("mlWorker.", m, ML_WORKER_SETTINGS_KEYS),
    ...checkOneOf("mlWorker.workerMode", m.workerMode, WORKER_MODES),
    ...capacities,
    ...(capacities.length === 0 ? checkWorkerRuns(m) : []),
    ...checkBoolean("mlWorker.enableScheduledScaling", m.enableScheduledScaling),
    ...checkFargateSize("mlWorker.cpu", m.cpu, "mlWorker.memoryMiB", m.memoryMiB),
  ];
}

/**
 * Capacities AWS accepts but under which the worker never does its work. (The construct takes them, as the
 * HCL module's variables do: its defaults are aggregation with 0 to 3 tasks.)
 */
function checkWorkerRuns(m: Record<string, unknown>): string[] {
  if (m.maxCapacity === 0) {
    return [
      "mlWorker.maxCapacity must be at least 1 (got 0): with 0 no task ever runs, and the queued jobs expire unprocessed after " +
        "the queue's 4 days of retention",
    ];
  }
  // As verify's verdict on a deployed worker: a mode with the aggregation loop needs one task always.
  if ((m.workerMode === "aggregation" || m.workerMode === "both") && m.minCapacity === 0) {
    return [
      `mlWorker.minCapacity must be at least 1 with mlWorker.workerMode '${m.workerMode}' (got 0): the aggregation loop runs only while a task ` +
        "runs, and the service scales on the queue's depth alone, so with an empty queue it never runs; use workerMode 'sqs' to scale to zero",
    ];
  }
  return [];
}

/**
 * A deployed host keeps its image: when `deployed` records the host's AMI,
 * `compute.ami` must name the image to run, or the lookup's newest image
 * would replace the host.
 */
function validateCompute(settings: unknown, deployed: unknown): string[] {
  if (settings !== undefined && !isObject(settings)) return [`compute must be an object, { ami?, elasticIp? } (got ${show(settings)})`];
  const s = settings ?? {};
  const problems = [
    ...checkKnownKeys("compute.", s, COMPUTE_SETTINGS_KEYS),
    ...(s.ami === undefined ? [] : checkString("compute.ami", s.ami, AMI_ID, "an AMI id like ami-0c398cb65a93047f2")),
    ...(s.elasticIp === undefined ? [] : checkBoolean("compute.elasticIp", s.elasticIp)),
  ];
  const recorded = isObject(deployed) && isObject(deployed[HOST]) ? deployed[HOST].ami : undefined;
  if (typeof recorded === "string" && s.ami === undefined) {
    problems.push(
      `compute.ami is not set, but deployed records the API host's image '${recorded}': without compute.ami the host takes the newest ` +
        `Ubuntu image the lookup finds, and a newer one would replace the host; set compute.ami to '${recorded}'`,
    );
  }
  return problems;
}

function validateBackend(b: unknown): string[] {
  if (!isObject(b)) return ["backend must be an object"];
  if (b.type === "local") return [...checkKnownKeys("backend.", b, BACKEND_KEYS.local), ...checkString("backend.path", b.path)];
  if (b.type === "s3") {
    const problems = [
      ...checkKnownKeys("backend.", b, BACKEND_KEYS.s3),
      ...checkString("backend.bucket", b.bucket, S3_BUCKET, "a valid S3 bucket name"),
      ...checkString("backend.key", b.key),
      ...checkRegion("backend.region", b.region),
      ...(b.encrypt === undefined ? [] : checkBoolean("backend.encrypt", b.encrypt)),
      ...(b.useLockfile === undefined ? [] : checkBoolean("backend.useLockfile", b.useLockfile)),
      ...(b.dynamodbTable === undefined ? [] : checkString("backend.dynamodbTable", b.dynamodbTable)),
    ];
    if (b.useLockfile === false && b.dynamodbTable === undefined) {
      problems.push("backend has no state locking: keep backend.useLockfile (Terraform 1.10 or later) or set backend.dynamodbTable");
    }
    return problems;
  }
  return checkOneOf("backend.type", b.type, Object.keys(BACKEND_KEYS));
}

function validateHardening(h: unknown, region: unknown): string[] {
  if (h === undefined) return [];
  if (!isObject(h)) return ["hardening must be an object"];
  return [...checkKnownKeys("hardening.", h, HARDENING_KEYS), ...checkHardening("hardening.", h, region)];
}

/** Unknown keys only; policy values are checked by policy/config.ts. */
function validatePolicyKeys(p: unknown): string[] {
  if (p === undefined) return [];
  if (!isObject(p)) return [`policy must be an object (got ${show(p)})`];
  const problems = checkKnownKeys("policy.", p, POLICY_SETTINGS_KEYS);
  if (isObject(p.config)) {
    problems.push(...checkKnownKeys("policy.config.", p.config, POLICY_CONFIG_KEYS));
    const exemptions = p.config.exemptions;
    if (Array.isArray(exemptions)) {
      exemptions.forEach((e, i) => {
        if (isObject(e)) problems.push(...checkKnownKeys(`policy.config.exemptions[${i}].`, e, POLICY_EXEMPTION_KEYS));
      });
    }
  }
  return problems;
}

/**
 * `deployed` records, per address, the replacement-forcing arguments the
 * guard compares (stacks/replacement-guard.ts). A misspelled type or argument
 * would make the guard compare nothing; that it names a resource the stack
 * synthesizes is checked by the guard.
 */
function validateDeployed(d: unknown): string[] {
  if (d === undefined) return [];
  if (!isObject(d)) return [`deployed must be an object of resource addresses to their deployed arguments (got ${show(d)})`];
  const types = Object.keys(FORCE_NEW);
  return Object.entries(d).flatMap(([address, identity]) => {
    const at = `deployed['${address}']`;
    const type = address.slice(0, address.indexOf("."));
    if (!/^[a-z0-9_]+\.[A-Za-z0-9_-]+$/.test(address)) return [`${at}: not a resource address like aws_sqs_queue.ml_worker_ml_worker`];
    const rule = FORCE_NEW[type];
    if (!rule) {
      const near = nearest(type, types);
      return [`${at}: the replacement guard checks ${quoteAll(types)} only${near ? `; did you mean '${near}'?` : ""}`];
    }
    if (!isObject(identity)) return [`${at} must be an object of the deployed arguments (got ${show(identity)})`];
    const attributes = Object.fromEntries(rule.attributes.map((a) => [a, true as const]));
    if (Object.keys(identity).length === 0) return [`${at} records nothing; record one or more of ${quoteAll(rule.attributes)}`];
    return checkKnownKeys(`${at}.`, identity, attributes, {
      one: `a replacement-forcing argument the guard checks for ${type}`,
      all: "it checks",
    });
  });
}

/** Where the deployed resources are: required with them, so that a change of awsRegion is seen (by the replacement guard). */
function validateDeployedRegion(region: unknown, deployed: unknown, awsRegion: unknown): string[] {
  if (region !== undefined) return checkRegion("deployedRegion", region);
  if (!isObject(deployed) || Object.keys(deployed).length === 0) return [];
  const hint = typeof awsRegion === "string" ? ` ('${awsRegion}' if they are in awsRegion)` : "";
  return [`deployedRegion is not set, but deployed records deployed resources: set it to the region they are in${hint}, so that a change of awsRegion is refused`];
}

/**
 * An entry that allows nothing is an error, not a silent no-op: it would only
 * lift that resource's prevent_destroy. Entries must name a deployed resource
 * (here) whose synthesized arguments differ from the deployed ones (the guard).
 */
function validateAllowReplacement(a: unknown, deployed: unknown): string[] {
  if (a === undefined) return [];
  if (!Array.isArray(a)) return ["allowReplacement must be a list of resource addresses, or of { address, reason }"];
  const recorded = isObject(deployed) ? Object.keys(deployed) : [];
  const addresses = a.map((entry) => (isObject(entry) ? entry.address : entry));
  return a.flatMap((entry, i) => {
    const at = `allowReplacement[${i}]`;
    if (isObject(entry)) {
      const shape = [
        ...checkKnownKeys(`${at}.`, entry, ALLOWED_REPLACEMENT_KEYS),
        ...(typeof entry.address === "string" ? [] : [`${at}.address must be a resource address (got ${show(entry.address)})`]),
        ...(typeof entry.reason === "string" && entry.reason.trim() !== "" ? [] : [`${at}.reason must say why the replacement is accepted`]),
      ];
      if (shape.length > 0) return shape;
    } else if (typeof entry !== "string") return [`${at} must be a resource address or { address, reason } (got ${show(entry)})`];
    const address = addresses[i] as string;
    if (addresses.indexOf(address) !== i) return [`allowReplacement lists '${address}' twice`];
    if (recorded.includes(address)) return [];
    const near = nearest(address, recorded);
    return [
      `allowReplacement names '${address}', which deployed does not record: there is nothing deployed to allow replacing` +
        (near ? `; did you mean '${near}'?` : ""),
    ];
  });
}

const ADDRESS = /^(module\.[A-Za-z_][\w-]*(\[[^\]]+\])?\.)*[a-z][a-z0-9_]*\.[A-Za-z_][\w-]*(\[[^\]]+\])?$/;

function validateAllowDestroy(list: unknown): string[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) return ["allowDestroy must be a list of { address, reason, deposed? }"];
  return list.flatMap((entry: any, n: number) => {
    const at = `allowDestroy[${n}]`;
    if (typeof entry !== "object" || entry === null) return [`${at} must be an object { address, reason, deposed? }`];
    return [
      ...checkKnownKeys(`${at}.`, entry, ALLOW_DESTROY_KEYS),
      ...(typeof entry.address === "string" && ADDRESS.test(entry.address)
        ? []
        : [`${at}.address must be a resource instance address like module.ssm.aws_ssm_parameter.db_password (got ${JSON.stringify(entry.address)})`]),
      ...(typeof entry.reason === "string" && entry.reason.trim() !== "" ? [] : [`${at}.reason must say why the delete or replace is accepted`]),
      ...(entry.deposed === undefined || typeof entry.deposed === "boolean" ? [] : [`${at}.deposed must be true or false`]),
    ];
  });
}

function validateKeepUnplannable(list: unknown): string[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) return [`keepUnplannable must be a list of { address, reason } (got ${show(list)})`];
  const seen = new Set<string>();
  return list.flatMap((entry: any, n: number) => {
    const at = `keepUnplannable[${n}]`;
    if (!isObject(entry)) return [`${at} must be an object { address, reason } (got ${show(entry)})`];
    const problems = [
      ...checkKnownKeys(`${at}.`, entry, KEEP_UNPLANNABLE_KEYS),
      ...(typeof entry.address === "string" && ADDRESS.test(entry.address)
        ? []
        : [`${at}.address must be a resource or instance address like tls_private_key.deploy (got ${JSON.stringify(entry.address)})`]),
      ...(typeof entry.reason === "string" && entry.reason.trim() !== "" ? [] : [`${at}.reason must say why the environment keeps it`]),
    ];
    if (typeof entry.address === "string") {
      if (seen.has(entry.address)) problems.push(`keepUnplannable lists '${entry.address}' twice`);
      seen.add(entry.address);
    }
    return problems;
  });
}
