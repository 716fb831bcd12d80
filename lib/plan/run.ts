// Runs Terraform for plan-check in a prepared working directory: init, the
// graph (only to leave out what --exclude names and what depends on it), plan
// -out, and show (JSON and text). Never apply, never take the state lock.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RunResult, cliConfig, run } from "../terraform";
import { terraformEnv } from "../toolchain";
import { Diagnostic, PlanJson, explain, resourceOf } from "./judge";
import { OFFLINE_CREDENTIALS, RawState } from "./workspace";

/** plan-check's cache (provider plugins, schema summaries), shared by every command that plans offline and the benchmark. */
export const cacheDirOf = (env: NodeJS.ProcessEnv) => env.PLAN_CHECK_CACHE_DIR || path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "zivohealth-plan-check");

/** Runs one process: lib/terraform.ts's `run`, or a workdir's (stopped on an interrupt). */
export type Runner = (bin: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number) => Promise<RunResult>;

export interface Terraform {
  readonly bin: string;
  /** The environment of every terraform process. */
  readonly env: NodeJS.ProcessEnv;
  readonly timeoutMs: number;
  /** How each terraform process is run. @default - lib/terraform.ts `run` */
  readonly run?: Runner;
}

const runTf = (tf: Terraform, args: string[], dir: string) => (tf.run ?? run)(tf.bin, args, dir, tf.env, tf.timeoutMs);

/** init's warning that the mirror gives no registry-signed checksums: noise here. */
const EXPECTED_INIT_WARNING = /Incomplete lock file information/;

/**
 * Offline: only the mirror, a plugin cache (so each init links the provider
 * instead of copying it), fake credentials, no profile or session of the
 * caller's, and the caller's TF_VAR_* values. Where the mirror holds the
 * provider unpacked, a dev_overrides entry loads that very binary directly:
 * Terraform then skips hashing the 700 MB file on every command (about 0.7 s
 * each for plan and show), and prints a warning that plan-check drops.
 */
export function offlineTerraform(
  toolchain: { terraform: string; mirrorDir: string; awsVersion: string; platform: string },
  cacheDir: string,
  base: NodeJS.ProcessEnv = process.env,
): Terraform & { readonly devOverride?: string } {
  const pluginCache = path.join(cacheDir, "plugins");
  fs.mkdirSync(pluginCache, { recursive: true });
  const unpacked = path.join(toolchain.mirrorDir, "registry.terraform.io", "hashicorp", "aws", toolchain.awsVersion, toolchain.platform);
  const devOverride = fs.existsSync(unpacked) ? unpacked : undefined;
  const tfrc = path.join(cacheDir, devOverride ? "cli-dev-override.tfrc" : "cli.tfrc");
  const text = offlineCliConfig(toolchain.mirrorDir, pluginCache, devOverride);
  if (!fs.existsSync(tfrc) || fs.readFileSync(tfrc, "utf8") !== text) fs.writeFileSync(tfrc, text);
  const vars = Object.fromEntries(Object.entries(base).filter(([k, v]) => k.startsWith("TF_VAR_") && v !== undefined)) as Record<string, string>;
  const withoutAws = Object.fromEntries(Object.entries(base).filter(([k]) => !k.startsWith("AWS_")));
  return { bin: toolchain.terraform, env: terraformEnv({ TF_CLI_CONFIG_FILE: tfrc, ...OFFLINE_CREDENTIALS, ...vars }, withoutAws), timeoutMs: 600_000, devOverride };
}

/** The CLI configuration of an offline plan: the mirror, the plugin cache, and the provider loaded in place if given. */
export function offlineCliConfig(mirrorDir: string, pluginCache: string, devOverride?: string): string {
  const mirror = cliConfig(mirrorDir);
  const config = devOverride
    ? mirror.replace("provider_installation {\n", `provider_installation {\n  dev_overrides {\n    "hashicorp/aws" = ${JSON.stringify(devOverride)}\n  }\n`)
    : mirror;
  return `${config}plugin_cache_dir = ${JSON.stringify(pluginCache)}\nplugin_cache_may_break_dependency_lock_file = true\n`;
}

/** The warning every command prints under dev_overrides: plan-check's own choice, not a finding. */
export const DEV_OVERRIDE_WARNING = "Provider development overrides are in effect";

/** With credentials: the caller's environment as it is (CLI config, credentials, TF_VAR_*). */
export function onlineTerraform(bin: string, base: NodeJS.ProcessEnv = process.env): Terraform {
  return { bin, env: { ...base, CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1" }, timeoutMs: 1_800_000 };
}

/** Terraform itself failed (not a plan error it reported): an environment or input problem, exit 2, its own error whole. */
export class TerraformFailed extends Error {
  constructor(
    readonly step: string,
    readonly result: RunResult,
    readonly dir?: string,
  ) {
    const output = [result.stderr.trim(), result.stdout.trim()].filter(Boolean).join("\n");
    super(`terraform ${step} ${result.code === null ? "did not run" : `exited ${result.code}`}${dir ? ` in ${dir}` : ""}; Terraform said:\n${output || "(nothing)"}`);
  }
}

export interface Timings {
  [step: string]: number;
}

export async function init(tf: Terraform, dir: string, timings: Timings): Promise<void> {
  const r = await runTf(tf, ["init", "-input=false", "-no-color", "-lock=false"], dir);
  timings.init = (timings.init ?? 0) + r.ms;
  if (r.code !== 0) throw new TerraformFailed("init", r, dir);
}

/** `A -> B` edges of `terraform graph`: A depends on B. */
export function parseGraph(dot: string): { nodes: Set<string>; edges: [string, string][] } {
  const nodes = new Set<string>();
  const edges: [string, string][] = [];
  for (const line of dot.split("\n")) {
    const edge = /^\s*"([^"]+)"\s*->\s*"([^"]+)"/.exec(line);
    if (edge) {
      edges.push([edge[1], edge[2]]);
      continue;
    }
    const node = /^\s*"([^"]+)"\s*\[/.exec(line);
    if (node) nodes.add(node[1]);
  }
  return { nodes, edges };
}

/** What depends on `address`, directly or not. */
export function dependentsOf(address: string, edges: readonly [string, string][]): string[] {
  const found = new Set<string>();
  const queue = [address];
  while (queue.length) {
    const target = queue.pop()!;
    for (const [from, to] of edges) {
      if (to === target && !found.has(from) && from !== address) {
        found.add(from);
        queue.push(from);
      }
    }
  }
  return [...found].sort();
}

export interface Exclusion {
  /** The addresses given, each with what depends on it. */
  readonly excluded: { readonly address: string; readonly dependents: readonly string[] }[];
  /** Every resource address left out. */
  readonly left: ReadonlySet<string>;
  /** `-target` addresses: everything else, in the configuration or the state. */
  readonly targets: readonly string[];
}

const isManaged = (a: string) => !/(^|\.)data\./.test(a);

/** Plans everything but `addresses` and their dependents: -target over the rest (Terraform 1.11 has no exclude). */
export async function exclusion(
  tf: Terraform,
  dir: string,
  addresses: readonly string[],
  stateResources: readonly string[],
  timings: Timings,
): Promise<Exclusion> {
  const r = await runTf(tf, ["graph"], dir);
  timings.graph = (timings.graph ?? 0) + r.ms;
  if (r.code !== 0) throw new TerraformFailed("graph", r, dir);
  const { nodes, edges } = parseGraph(r.stdout);
  const all = new Set([...nodes].filter(isManaged).concat(stateResources.filter(isManaged)));
  const excluded = addresses.map((address) => {
    const resource = resourceOf(address);
    if (!all.has(resource)) throw new UnknownAddress(address, [...all].sort());
    return { address: resource, dependents: dependentsOf(resource, edges).filter(isManaged) };
  });
  const left = new Set(excluded.flatMap((e) => [e.address, ...e.dependents]));
  return { excluded, left, targets: [...all].filter((a) => !left.has(a)).sort() };
}

export class UnknownAddress extends Error {
  constructor(
    readonly address: string,
    readonly known: readonly string[],
  ) {
    super(`--exclude ${address}: no such resource in the configuration or the state`);
  }
}

export interface PlanResult {
  readonly ok: boolean;
  readonly errors: Diagnostic[];
  readonly warnings: Diagnostic[];
  readonly plan?: PlanJson;
  /** Terraform's own human-readable plan (`terraform show`), or its error output. */
  readonly text: string;
}

/**
 * `terraform plan -out` (its text is the human-readable plan), then `show
 * -json` of the saved plan. Only when the plan fails does it run again with
 * `-json`, for the diagnostics: the success path costs one provider load more
 * than a bare plan, not two.
 */
export async function plan(
  tf: Terraform,
  dir: string,
  args: readonly string[],
  timings: Timings,
  outDir = dir,
  humanText = true,
): Promise<PlanResult> {
  const planFile = path.join(outDir, "plan.tfplan");
  const common = ["plan", "-input=false", "-lock=false", ...args];
  // Without the human text (the HCL root's plan), -json from the start: no second plan on an error.
  const r = await runTf(tf, [...common, humanText ? "-no-color" : "-json", `-out=${planFile}`], dir);
  timings.plan = (timings.plan ?? 0) + r.ms;
  if (r.code !== 0) {
    const j = humanText ? await runTf(tf, [...common, "-json"], dir) : r;
    if (humanText) timings["plan -json (errors)"] = j.ms;
    const diagnostics = parseDiagnostics(j.stdout).filter((d) => !EXPECTED_INIT_WARNING.test(d.summary) && d.summary !== DEV_OVERRIDE_WARNING);
    const errors = diagnostics.filter((d) => d.severity === "error");
    if (errors.length === 0) throw new TerraformFailed("plan", r, dir);
    // The errors in Terraform's layout, values summarized (its own text prints a whole user-data script).
    const text = errors
      .map((d) =>
        [
          `Error: ${explain(d)}`,
          ...(d.address ? [`  with ${d.address},`] : []),
          ...(d.range ? [`  on ${d.range.filename} line ${d.range.start.line}${d.snippet?.context ? `, in ${d.snippet.context}` : ""}`] : []),
        ].join("\n"),
      )
      .join("\n\n");
    if (humanText) fs.writeFileSync(path.join(outDir, "plan.txt"), text);
    return { ok: false, errors, warnings: diagnostics.filter((d) => d.severity === "warning"), text };
  }
  const json = await runTf(tf, ["show", "-json", planFile], dir);
  timings.show = (timings.show ?? 0) + json.ms;
  if (json.code !== 0) throw new TerraformFailed("show -json", json, dir);
  const text = humanText ? planTextOf(r.stdout) : "";
  fs.writeFileSync(path.join(outDir, "plan.json"), json.stdout);
  fs.writeFileSync(path.join(outDir, "plan.txt"), text);
  return { ok: true, errors: [], warnings: [], plan: JSON.parse(json.stdout) as PlanJson, text };
}

/**
 * Terraform's plan text without what comes before it (the refresh lines): from its drift note ("Objects
 * have changed outside of Terraform", printed before the actions) when there is one, else the actions.
 */
export function planTextOf(stdout: string): string {
  return stdout.slice(Math.max(0, stdout.search(/^(Note: Objects have changed outside of Terraform|Terraform used the selected providers|No changes\.|Terraform will perform)/m)));
}

/** The diagnostics among `-json` output lines. */
export function parseDiagnostics(stdout: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const line of stdout.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const msg = JSON.parse(line) as { type?: string; diagnostic?: Diagnostic };
      if (msg.type === "diagnostic" && msg.diagnostic) out.push(msg.diagnostic);
    } catch {
      // not a JSON line
    }
  }
  return out;
}

/** `terraform providers schema -json`, for the state adaptation. */
export async function providersSchema(tf: Terraform, dir: string, timings: Timings): Promise<unknown> {
  const r = await runTf(tf, ["providers", "schema", "-json"], dir);
  timings.schema = (timings.schema ?? 0) + r.ms;
  if (r.code !== 0) throw new TerraformFailed("providers schema", r, dir);
  return JSON.parse(r.stdout);
}

/** `terraform state pull`: the backend's state, read only. */
export async function pullState(tf: Terraform, dir: string, timings: Timings): Promise<RawState | null> {
  const r = await runTf(tf, ["state", "pull"], dir);
  timings["state pull"] = r.ms;
  if (r.code !== 0) throw new TerraformFailed("state pull", r, dir);
  return r.stdout.trim() ? (JSON.parse(r.stdout) as RawState) : null;
}
