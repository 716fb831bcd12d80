// Which backend a synthesized stack uses, as facts a report can record and a
// later command can compare (plan-check's report, deploy --plan,
// migrate-state), and the connection settings a `-backend-config` file may
// add without changing which state it is.
import * as fs from "fs";
import * as path from "path";
import { InputError } from "./cli";

/** Where a stack's state is: what must be equal for two commands to work on the same state. */
export type BackendIdentity =
  | { readonly type: "local"; readonly path: string }
  | {
      readonly type: "s3";
      readonly bucket: string;
      readonly key: string;
      readonly region: string;
      /** `workspace_key_prefix`, when set. */
      readonly workspaceKeyPrefix?: string;
      /** The DynamoDB lock table, when set. */
      readonly dynamodbTable?: string;
      /** S3-native locking (`use_lockfile`). */
      readonly useLockfile?: boolean;
    };

export interface StackBackend {
  readonly identity: BackendIdentity;
  /** The `terraform.backend` block as synthesized (`{ s3: { … } }`), a local path made absolute. */
  readonly block: { readonly [type: string]: Record<string, unknown> };
}

/**
 * The backend of a synthesized stack (`cdk.tf.json`), a local path resolved
 * against `stackDir` (where cdktf runs Terraform). No backend block: the local
 * default, `terraform.tfstate` in that folder.
 */
export function backendOf(stackJson: { terraform?: { backend?: Record<string, Record<string, unknown>> } }, stackDir: string): StackBackend {
  const blocks = stackJson.terraform?.backend ?? {};
  const types = Object.keys(blocks);
  if (types.length > 1) throw new InputError(`the stack configures ${types.length} backends (${types.join(", ")})`);
  const type = types[0] ?? "local";
  const settings = blocks[type] ?? {};
  if (type === "local") {
    const p = path.resolve(stackDir, typeof settings.path === "string" ? settings.path : "terraform.tfstate");
    return { identity: { type: "local", path: p }, block: { local: { ...settings, path: p } } };
  }
  if (type === "s3") {
    const str = (k: string) => (typeof settings[k] === "string" ? (settings[k] as string) : undefined);
    const bucket = str("bucket");
    const key = str("key");
    const region = str("region");
    if (!bucket || !key || !region) throw new InputError("the stack's s3 backend lacks bucket, key or region");
    const identity: BackendIdentity = {
      type: "s3",
      bucket,
      key,
      region,
      ...(str("workspace_key_prefix") ? { workspaceKeyPrefix: str("workspace_key_prefix") } : {}),
      ...(str("dynamodb_table") ? { dynamodbTable: str("dynamodb_table") } : {}),
      ...(settings.use_lockfile === true ? { useLockfile: true } : {}),
    };
    return { identity, block: { s3: { ...settings } } };
  }
  throw new InputError(`the stack's backend is "${type}"; the state commands know local and s3`);
}

/** One line: `local state /x/terraform.tfstate`, `s3://bucket/key (us-east-1; lock: DynamoDB table t)`. */
export function describeBackend(b: BackendIdentity): string {
  if (b.type === "local") return `local state ${b.path}`;
  const locks = [...(b.dynamodbTable ? [`DynamoDB table ${b.dynamodbTable}`] : []), ...(b.useLockfile ? ["S3 lock file"] : [])];
  return `s3://${b.bucket}/${b.key} (${b.region}; lock: ${locks.join(" and ") || "none"})`;
}

export function sameBackend(a: BackendIdentity, b: BackendIdentity): boolean {
  const norm = (x: BackendIdentity) => JSON.stringify(Object.entries(x).sort(([p], [q]) => p.localeCompare(q)));
  return norm(a) === norm(b);
}

/**
 * Settings a `-backend-config` file may give the S3 backend: how to reach it
 * and with which credentials, never which state (bucket, key, region, the
 * lock and encryption settings stay the stack's own).
 */
export const S3_CONNECTION_SETTINGS: readonly string[] = [
  "endpoints",
  "use_path_style",
  "skip_credentials_validation",
  "skip_requesting_account_id",
  "skip_metadata_api_check",
  "skip_region_validation",
  "skip_s3_checksum",
  "access_key",
  "secret_key",
  "token",
  "profile",
  "shared_credentials_files",
  "shared_config_files",
  "assume_role",
  "assume_role_with_web_identity",
  "custom_ca_bundle",
  "ec2_metadata_service_endpoint",
  "ec2_metadata_service_endpoint_mode",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "insecure",
  "max_retries",
  "retry_mode",
  "sts_region",
  "allowed_account_ids",
  "forbidden_account_ids",
];

/** The top-level attribute names of an HCL attributes file (`name = value`, values may span lines in braces or brackets). */
export function topLevelAttributes(text: string): string[] {
  const names: string[] = [];
  let depth = 0;
  let inString = false;
  let lineStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === "#" || (c === "/" && text[i + 1] === "/")) {
      while (i < text.length && text[i] !== "\n") i++;
      lineStart = true;
      continue;
    }
    if (c === "\n") {
      lineStart = true;
      continue;
    }
    if (lineStart && depth === 0 && /[A-Za-z_]/.test(c)) {
      const m = /^([A-Za-z_][A-Za-z0-9_-]*)\s*=/.exec(text.slice(i));
      if (m) names.push(m[1]);
    }
    if (!/\s/.test(c)) lineStart = false;
    if (c === '"') inString = true;
    else if (c === "{" || c === "[" || c === "(") depth++;
    else if (c === "}" || c === "]" || c === ")") depth--;
  }
  return names;
}

/**
 * Checks a `--backend-config` file for the stack's backend: S3 only, and only
 * connection settings. Returns its absolute path.
 */
export function checkBackendConfigFile(file: string, identity: BackendIdentity): string {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new InputError(err.code === "ENOENT" ? `--backend-config file not found: ${file}` : `cannot read --backend-config ${file}: ${err.message}`);
  }
  if (identity.type !== "s3") throw new InputError(`--backend-config: the stack's backend is ${describeBackend(identity)}, which takes no connection settings`);
  const names = topLevelAttributes(text);
  if (names.length === 0) throw new InputError(`--backend-config ${file}: no settings found (expected HCL lines such as use_path_style = true)`);
  const refused = names.filter((n) => !S3_CONNECTION_SETTINGS.includes(n));
  if (refused.length) {
    throw new InputError(
      `--backend-config ${file}: ${refused.join(", ")} ${refused.length > 1 ? "are" : "is"} not a connection setting; ` +
        `which state to use (bucket, key, region, lock, encryption) comes from the stack's configuration only. Allowed: ${S3_CONNECTION_SETTINGS.join(", ")}`,
    );
  }
  return path.resolve(file);
}
