// Which backend a synthesized stack uses, as facts a report can record and a
// later command can compare (plan-check's report, deploy --plan,
// migrate-state), and the connection settings a `-backend-config` file may
// add without changing which state it is.
import * as fs from "fs";
import * as path from "path";
import { InputError } from "./cli";
import { baselineWasm } from "./wasm";

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

/**
 * The top-level setting names of a `-backend-config` file, read as Terraform reads it (HCL: block and line
 * comments, heredocs): by @cdktf/hcl2json, as plan-check's --against-hcl reads .tf files (a devDependency,
 * loaded only here). A file it cannot parse: InputError naming it (Terraform's init would refuse it too).
 */
export async function backendConfigSettings(file: string, text: string): Promise<string[]> {
  baselineWasm();
  const { parse } = require("@cdktf/hcl2json") as { parse: (file: string, text: string) => Promise<Record<string, unknown>> };
  try {
    return Object.keys(await parse(path.basename(file), text));
  } catch (e) {
    const detail = String((e as Error).message ?? e).replace(/^Error: /, "").replace(/^parse config: \[?/, "").replace(/\]$/, "");
    throw new InputError(`--backend-config ${file} is not valid HCL: ${detail}`);
  }
}

/**
 * Checks a `--backend-config` file for the stack's backend: S3 only, and only
 * connection settings, as Terraform parses it. Returns its absolute path. Terraform's record after init is
 * checked too (backend-ops.ts openBackend): what it set up must be the stack's.
 */
export async function checkBackendConfigFile(file: string, identity: BackendIdentity): Promise<string> {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new InputError(err.code === "ENOENT" ? `--backend-config file not found: ${file}` : `cannot read --backend-config ${file}: ${err.message}`);
  }
  if (identity.type !== "s3") throw new InputError(`--backend-config: the stack's backend is ${describeBackend(identity)}, which takes no connection settings`);
  const names = await backendConfigSettings(file, text);
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
