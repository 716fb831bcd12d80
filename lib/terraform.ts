// Writes one synthesized configuration to a temporary directory as
// cdk.tf.json, points Terraform at the provider mirror through a CLI config of
// its own, and runs `terraform init -backend=false` then `terraform validate
// -json`. Diagnostics come back parsed, and format into readable text.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { signalGroup, spawnGroup } from "./process-group";
import { AWS_PROVIDER, Toolchain, terraformEnv } from "./toolchain";

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** A Terraform JSON configuration (what `Testing.synth` returns, parsed). */
export type TfConfig = { [key: string]: Json };

export function isObject(v: Json | undefined): v is { [key: string]: Json } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The CLI configuration: providers come from the mirror only, never from a registry. */
export function cliConfig(mirrorDir: string): string {
  const p = AWS_PROVIDER;
  return [
    "provider_installation {",
    "  filesystem_mirror {",
    `    path    = ${JSON.stringify(mirrorDir)}`,
    `    include = [${JSON.stringify(`${p.hostname}/${p.namespace}/${p.type}`)}]`,
    "  }",
    "}",
    "",
  ].join("\n");
}

/**
 * A copy of `config` whose `terraform.required_providers.aws` is
 * `hashicorp/aws` at `version` (the mirror's), instead of the project's pin.
 * Any other required provider is an error here: the mirror has only aws.
 */
export function pinAwsToMirror(config: TfConfig, version: string): { config: TfConfig; pinned: string | undefined } {
  const copy = structuredClone(config);
  const terraform = isObject(copy.terraform) ? copy.terraform : {};
  copy.terraform = terraform;
  const required = isObject(terraform.required_providers) ? terraform.required_providers : {};
  terraform.required_providers = required;
  const others = Object.keys(required).filter((k) => k !== "aws");
  if (others.length > 0) {
    throw new Error(`only hashicorp/aws is in the provider mirror; the configuration also requires: ${others.join(", ")}`);
  }
  const aws = required.aws;
  const pinned = isObject(aws) && typeof aws.version === "string" ? aws.version : undefined;
  required.aws = { source: "hashicorp/aws", version };
  return { config: copy, pinned };
}

/** One diagnostic, as `terraform validate -json` and `terraform init -json` write it. */
export interface Diagnostic {
  readonly severity: "error" | "warning";
  readonly summary: string;
  readonly detail?: string;
  readonly address?: string;
  readonly range?: { filename: string; start: { line: number; column: number } };
  readonly snippet?: { context?: string | null; code?: string };
}

export interface ValidationResult {
  readonly name: string;
  /** The temporary directory holding cdk.tf.json (and cli.tfrc). */
  readonly dir: string;
  /** `aws` version the project pins (before the mirror override). */
  readonly pinnedAwsVersion: string | undefined;
  /** `aws` version validated against (the mirror's). */
  readonly awsVersion: string;
  /** Where it stopped: `init` when init failed (validate did not run). */
  readonly stage: "init" | "validate";
  /** validate's `valid` (false when init failed). */
  readonly valid: boolean;
  readonly errors: readonly Diagnostic[];
  readonly warnings: readonly Diagnostic[];
  /** Text of a failure that produced no diagnostic (crash, unparsable output). */
  readonly failure?: string;
  readonly initMs: number;
  readonly validateMs: number;
}

/**
 * init's expected warning: the mirror gives no registry-signed checksums, so
 * the lock file holds only this platform's. Noise for a throwaway directory.
 */
const EXPECTED_INIT_WARNINGS = ["Incomplete lock file information for providers"];

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `bin` in a process group of its own (lib/process-group.ts): on its timeout, or once it has exited, the whole group is killed. */
export function run(bin: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawnGroup(bin, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${timeoutMs} ms]`;
      signalGroup(child.pid, "SIGKILL");
    }, timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: `${stderr}\n${e.message}`, ms: Date.now() - started });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** Diagnostics from `init -json`'s JSON lines. */
export function parseInitDiagnostics(stdout: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const line of stdout.split("\n")) {
    if (!line.trim().startsWith("{")) continue;
    try {
      const msg = JSON.parse(line) as { type?: string; diagnostic?: Diagnostic };
      if (msg.type === "diagnostic" && msg.diagnostic) out.push(msg.diagnostic);
    } catch {
      // not a JSON line
    }
  }
  return out;
}

export interface ValidateOptions {
  /** Where temporary directories go; default the OS temp dir. */
  readonly tmpRoot?: string;
  /** Files the configuration reads beside cdk.tf.json (the compute templates), by relative path. */
  readonly files?: Readonly<Record<string, Buffer>>;
  /** Per terraform command; default 5 minutes. */
  readonly timeoutMs?: number;
}

/**
 * Validates one configuration: pins aws to the mirror's version, writes
 * `<tmp>/cdk.tf.json` and `<tmp>/cli.tfrc`, runs `terraform init -json
 * -backend=false -input=false` and `terraform validate -json`.
 */
export async function validateConfig(
  name: string,
  config: TfConfig,
  toolchain: Toolchain,
  options: ValidateOptions = {},
): Promise<ValidationResult> {
  const { config: pinnedConfig, pinned } = pinAwsToMirror(config, toolchain.awsVersion);
  const dir = fs.mkdtempSync(path.join(options.tmpRoot ?? os.tmpdir(), `zivo-tf-validate-${name.replace(/[^\w-]+/g, "_")}-`));
  const cliConfigPath = path.join(dir, "cli.tfrc");
  fs.writeFileSync(cliConfigPath, cliConfig(toolchain.mirrorDir));
  fs.writeFileSync(path.join(dir, "cdk.tf.json"), JSON.stringify(pinnedConfig, null, 2) + "\n");
  for (const [rel, content] of Object.entries(options.files ?? {})) {
    const file = path.join(dir, rel);
    if (!file.startsWith(dir + path.sep)) throw new Error(`${rel} leaves the validation directory`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
  const env = terraformEnv({ TF_CLI_CONFIG_FILE: cliConfigPath });
  const timeoutMs = options.timeoutMs ?? 300_000;
  const base = { name, dir, pinnedAwsVersion: pinned, awsVersion: toolchain.awsVersion };

  const init = await run(toolchain.terraform, ["init", "-json", "-backend=false", "-input=false"], dir, env, timeoutMs);
  const initDiagnostics = parseInitDiagnostics(init.stdout).filter(
    (d) => !(d.severity === "warning" && EXPECTED_INIT_WARNINGS.includes(d.summary)),
  );
  if (init.code !== 0) {
    const errors = initDiagnostics.filter((d) => d.severity === "error");
    return {
      ...base,
      stage: "init",
      valid: false,
      errors,
      warnings: initDiagnostics.filter((d) => d.severity === "warning"),
      failure: errors.length ? undefined : `terraform init exited ${init.code}:\n${init.stderr || init.stdout}`,
      initMs: init.ms,
      validateMs: 0,
    };
  }

  const validate = await run(toolchain.terraform, ["validate", "-json"], dir, env, timeoutMs);
  let parsed: { valid?: boolean; diagnostics?: Diagnostic[] } | undefined;
  try {
    parsed = JSON.parse(validate.stdout) as { valid?: boolean; diagnostics?: Diagnostic[] };
  } catch {
    parsed = undefined;
  }
  const diagnostics = [...initDiagnostics, ...(parsed?.diagnostics ?? [])];
  return {
    ...base,
    stage: "validate",
    valid: parsed?.valid === true,
    errors: diagnostics.filter((d) => d.severity === "error"),
    warnings: diagnostics.filter((d) => d.severity === "warning"),
    failure: parsed
      ? undefined
      : `terraform validate exited ${validate.code} without JSON output:\n${validate.stderr || validate.stdout}`,
    initMs: init.ms,
    validateMs: validate.ms,
  };
}

/** Where a diagnostic points: `cdk.tf.json:12:11 (resource.x.y.depends_on)`, or its address. */
function location(d: Diagnostic): string | undefined {
  if (d.range) {
    const where = `${d.range.filename}:${d.range.start.line}:${d.range.start.column}`;
    return d.snippet?.context ? `${where} (${d.snippet.context})` : where;
  }
  return d.address;
}

const codeLine = (d: Diagnostic) => (d.snippet?.code ? d.snippet.code.trim().slice(0, 400) : undefined);

/** One diagnostic as text: severity and summary, where, the code line, the detail. (No line starts with "at ", which jest would take for a stack frame.) */
export function formatDiagnostic(d: Diagnostic): string {
  const lines = [`${d.severity}: ${d.summary}`];
  const where = location(d);
  if (where) lines.push(`  in ${where}`);
  const code = codeLine(d);
  if (code) lines.push(`  | ${code}`);
  if (d.detail) lines.push(...d.detail.split("\n").map((l) => `  ${l}`));
  return lines.join("\n");
}

/** Diagnostics as text, those with the same severity, summary and detail together with each place they occur. */
export function formatDiagnostics(diagnostics: readonly Diagnostic[]): string {
  const groups = new Map<string, Diagnostic[]>();
  for (const d of diagnostics) {
    const key = JSON.stringify([d.severity, d.summary, d.detail ?? ""]);
    groups.set(key, [...(groups.get(key) ?? []), d]);
  }
  return [...groups.values()]
    .map((group) => {
      const [first] = group;
      if (group.length === 1) return formatDiagnostic(first);
      const lines = [`${first.severity}: ${first.summary} (${group.length} places)`];
      if (first.detail) lines.push(...first.detail.split("\n").map((l) => `  ${l}`));
      for (const d of group) lines.push(`  in ${location(d) ?? "?"}${codeLine(d) ? `: ${codeLine(d)}` : ""}`);
      return lines.join("\n");
    })
    .join("\n\n");
}

/** init's closing error that only says the configuration has the errors listed with it. */
const INIT_SUMMARY = /^Terraform encountered problems during initiali[sz]ation/;

/** Everything wrong with a result, readable in a test failure. */
export function formatResult(r: ValidationResult): string {
  const errors = r.errors.length > 1 ? r.errors.filter((d) => !INIT_SUMMARY.test(d.summary)) : r.errors;
  const head =
    `${r.name}: terraform ${r.stage} ${r.valid ? "passed" : "failed"}, ${errors.length} error(s), ${r.warnings.length} warning(s)\n` +
    `(hashicorp/aws ${r.awsVersion} from the mirror; the project pins ${r.pinnedAwsVersion ?? "nothing"}; ` +
    `the files are kept in ${r.dir})`;
  const parts = [head];
  if (errors.length) parts.push(formatDiagnostics(errors));
  if (r.warnings.length) parts.push(formatDiagnostics(r.warnings));
  if (r.failure) parts.push(r.failure);
  return parts.join("\n\n");
}
