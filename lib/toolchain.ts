// Finds what the validation tier needs: a `terraform` binary and a provider
// filesystem mirror holding hashicorp/aws for this platform. When either is
// missing the tier is skipped, and `reason` says why (never a silent pass).
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

/** Where the machines keep the provider mirror. */
export const DEFAULT_PLUGIN_MIRROR = "/opt/tf-plugins";
/** The provider every stack needs, as it sits in the mirror. */
export const AWS_PROVIDER = { hostname: "registry.terraform.io", namespace: "hashicorp", type: "aws" } as const;
/** Oldest Terraform that reads everything the stacks synthesize (`moved`, `terraform_data`, `required_version >= 1.5.0`). */
export const MIN_TERRAFORM_VERSION = "1.5.0";

/** Environment variables of this tier (not Terraform's own `TF_*`). */
export const ENV = {
  /** Path of the terraform binary; default: `terraform` on PATH. */
  terraform: "VALIDATE_TERRAFORM",
  /** Provider filesystem mirror; default: /opt/tf-plugins. */
  mirror: "VALIDATE_PLUGIN_MIRROR",
  /** `1`: a missing toolchain fails the tier instead of skipping it (for CI). */
  require: "VALIDATE_REQUIRE_TERRAFORM",
  /** `1`: keep every temporary directory, not only those of failed stacks. */
  keepDirs: "VALIDATE_KEEP_DIRS",
} as const;

export interface Toolchain {
  /** Absolute path of the terraform binary. */
  readonly terraform: string;
  /** `terraform version -json`'s `terraform_version`. */
  readonly terraformVersion: string;
  /** The provider filesystem mirror (`filesystem_mirror.path`). */
  readonly mirrorDir: string;
  /** Terraform's name of this platform, e.g. `linux_amd64`. */
  readonly platform: string;
  /** Highest hashicorp/aws version in the mirror for `platform`. */
  readonly awsVersion: string;
}

/**
 * The version probe's child was stopped by an interrupt (SIGINT, SIGTERM, SIGHUP; not the probe's
 * own timeout): Ctrl-C reaches the whole process group, and the synchronous probe returns before
 * the caller's signal listener has run. Thrown, so the caller reports an interrupt, not a toolchain
 * problem.
 */
export class ProbeInterrupted extends Error {
  constructor(
    readonly signal: NodeJS.Signals,
    readonly command: string,
  ) {
    super(`${command} was interrupted (${signal})`);
    this.name = "ProbeInterrupted";
  }
}

const INTERRUPTS: readonly string[] = ["SIGINT", "SIGTERM", "SIGHUP"];

export type Detection = { readonly ok: true; readonly toolchain: Toolchain } | { readonly ok: false; readonly reason: string };

export interface DetectOptions {
  /** PATH to search; default `process.env.PATH`. */
  readonly pathEnv?: string;
  /** Binary to use instead of searching PATH (VALIDATE_TERRAFORM). */
  readonly terraformBin?: string;
  /** Mirror directory (VALIDATE_PLUGIN_MIRROR); default /opt/tf-plugins. */
  readonly mirrorDir?: string;
  /** Terraform platform; default from process.platform and process.arch. */
  readonly platform?: string;
}

/** The options the environment asks for (VALIDATE_TERRAFORM, VALIDATE_PLUGIN_MIRROR). */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): DetectOptions {
  return {
    pathEnv: env.PATH ?? "",
    terraformBin: env[ENV.terraform] || undefined,
    mirrorDir: env[ENV.mirror] || DEFAULT_PLUGIN_MIRROR,
  };
}

/** Terraform's platform name (`<os>_<arch>`) for a Node platform and architecture. */
export function terraformPlatform(nodePlatform: string = process.platform, nodeArch: string = process.arch): string {
  const os = nodePlatform === "win32" ? "windows" : nodePlatform;
  const arch: Record<string, string> = { x64: "amd64", ia32: "386", arm64: "arm64", arm: "arm" };
  return `${os}_${arch[nodeArch] ?? nodeArch}`;
}

/** First executable file called `name` in a PATH string, or undefined. */
export function findOnPath(name: string, pathEnv: string): string | undefined {
  for (const dir of pathEnv.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function isExecutableFile(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Numeric comparison of dotted versions (`5.100.0` > `5.99.1`); pre-release suffixes sort before the release. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const [core, pre] = v.split("-", 2);
    return { nums: core.split(".").map((n) => Number.parseInt(n, 10) || 0), pre };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < Math.max(x.nums.length, y.nums.length); i++) {
    const d = (x.nums[i] ?? 0) - (y.nums[i] ?? 0);
    if (d !== 0) return d;
  }
  if (x.pre === y.pre) return 0;
  if (x.pre === undefined) return 1;
  if (y.pre === undefined) return -1;
  return x.pre < y.pre ? -1 : 1;
}

const VERSION = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;

/**
 * Versions of a provider in a filesystem mirror for one platform, highest
 * first. Reads both layouts Terraform accepts: unpacked
 * (`<host>/<ns>/<type>/<version>/<platform>/`) and packed
 * (`<host>/<ns>/<type>/terraform-provider-<type>_<version>_<platform>.zip`).
 */
export function mirrorProviderVersions(
  mirrorDir: string,
  platform: string,
  provider: { hostname: string; namespace: string; type: string } = AWS_PROVIDER,
): string[] {
  const dir = path.join(mirrorDir, provider.hostname, provider.namespace, provider.type);
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const versions = new Set<string>();
  const packed = new RegExp(`^terraform-provider-${provider.type}_(.+)_${platform}\\.zip$`);
  for (const e of entries) {
    const packedMatch = packed.exec(e.name);
    if (packedMatch && VERSION.test(packedMatch[1]) && e.isFile()) versions.add(packedMatch[1]);
    else if (VERSION.test(e.name) && isDirectory(path.join(dir, e.name, platform))) {
      const platformDir = path.join(dir, e.name, platform);
      if (fs.readdirSync(platformDir).some((f) => f.startsWith(`terraform-provider-${provider.type}`))) versions.add(e.name);
    }
  }
  return [...versions].sort((a, b) => compareVersions(b, a));
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory(); // follows symlinks
  } catch {
    return false;
  }
}

/**
 * Environment for running terraform here: every `TF_*` variable of the caller
 * removed (TF_CLI_CONFIG_FILE, TF_PLUGIN_CACHE_DIR, TF_DATA_DIR, TF_CLI_ARGS*,
 * TF_WORKSPACE, TF_VAR_* … would change what init and validate do), then
 * `extra` added.
 */
export function terraformEnv(extra: Record<string, string>, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) if (!k.startsWith("TF_") && v !== undefined) env[k] = v;
  return { ...env, CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1", ...extra };
}

/** Finds terraform and the mirror; `reason` names what is missing. Throws only ProbeInterrupted. */
export function detectToolchain(options: DetectOptions = optionsFromEnv()): Detection {
  const pathEnv = options.pathEnv ?? process.env.PATH ?? "";
  const mirrorDir = options.mirrorDir ?? DEFAULT_PLUGIN_MIRROR;
  const platform = options.platform ?? terraformPlatform();

  let terraform: string | undefined;
  if (options.terraformBin) {
    if (!isExecutableFile(options.terraformBin)) {
      return { ok: false, reason: `${ENV.terraform}=${options.terraformBin} is not an executable file` };
    }
    terraform = path.resolve(options.terraformBin);
  } else {
    terraform = findOnPath(process.platform === "win32" ? "terraform.exe" : "terraform", pathEnv);
    if (!terraform) return { ok: false, reason: `no terraform on the PATH (searched: ${pathEnv || "<empty PATH>"})` };
  }

  let terraformVersion: string;
  try {
    const out = execFileSync(terraform, ["version", "-json"], {
      encoding: "utf8",
      timeout: 30_000,
      stdio: ["ignore", "pipe", "pipe"],
      env: terraformEnv({ TF_CLI_CONFIG_FILE: path.join(path.sep, "dev", "null") }),
    });
    const parsed = JSON.parse(out) as { terraform_version?: unknown };
    if (typeof parsed.terraform_version !== "string") throw new Error("no terraform_version in its output");
    terraformVersion = parsed.terraform_version;
  } catch (e) {
    const { signal, code } = e as { signal?: NodeJS.Signals | null; code?: string };
    if (signal && INTERRUPTS.includes(signal) && code !== "ETIMEDOUT") throw new ProbeInterrupted(signal, `${terraform} version -json`);
    return { ok: false, reason: `${terraform} version -json failed: ${(e as Error).message.split("\n")[0]}` };
  }
  if (compareVersions(terraformVersion, MIN_TERRAFORM_VERSION) < 0) {
    return { ok: false, reason: `${terraform} is Terraform ${terraformVersion}; the tier needs >= ${MIN_TERRAFORM_VERSION}` };
  }

  if (!isDirectory(mirrorDir)) return { ok: false, reason: `no provider mirror at ${mirrorDir}` };
  const versions = mirrorProviderVersions(mirrorDir, platform);
  if (versions.length === 0) {
    const p = AWS_PROVIDER;
    return {
      ok: false,
      reason: `the provider mirror ${mirrorDir} has no ${p.hostname}/${p.namespace}/${p.type} for ${platform}`,
    };
  }
  return { ok: true, toolchain: { terraform, terraformVersion, mirrorDir, platform, awsVersion: versions[0] } };
}

/** One line for the test log: what the tier runs with, or why it is skipped. */
export function describeDetection(d: Detection): string {
  return d.ok
    ? `terraform ${d.toolchain.terraformVersion} (${d.toolchain.terraform}), hashicorp/aws ${d.toolchain.awsVersion} ` +
        `from the mirror ${d.toolchain.mirrorDir} (${d.toolchain.platform})`
    : `SKIPPED: terraform validate tier not run: ${d.reason}`;
}
