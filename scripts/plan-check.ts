// plan-check: Terraform's own plan as the gate (logic in ./lib/plan-*.ts).
//   npm run plan-check -- [--stack <name>] [--state <snapshot>] [--offline] [--modules <dir>] [--data <file>]
//                         [--exclude <address>]... [--against-hcl <dir>] [--json] [--out <dir>]
// Exit codes: 0 pass, 1 the gate fails, 2 bad input (nothing written).
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EnvironmentConfig, replacementAddress } from "../config/environment";
import { environments as defaultEnvironments } from "../config/environments";
import type * as App from "../stacks/app";
import { INTENDED_DIFFERENCES, MOVES, counterpart } from "../stacks/moves";
import { detectToolchain, findOnPath, optionsFromEnv } from "../validate/lib/toolchain";
import { backendOf } from "./lib/backend";
import { CliIo, InputError, newestSource, parseFlags, parseOrAnswer, processIo } from "./lib/cli";
import { instanceAddress, parseState } from "./lib/migration";
import {
  AllowedDestroy,
  ChangeRow,
  Diagnostic,
  Failure,
  MovedBlock,
  ResourceChange,
  changeRows,
  comparePlans,
  explain,
  judge,
  resourceOf,
} from "./lib/plan-judge";
import { PlanCheckReport, renderJson, renderMarkdown } from "./lib/plan-report";
import {
  Exclusion,
  PlanResult,
  Terraform,
  TerraformFailed,
  Timings,
  UnknownAddress,
  exclusion,
  init,
  offlineTerraform,
  onlineTerraform,
  plan,
  providersSchema,
  pullState,
} from "./lib/plan-run";
import {
  Json,
  PinSource,
  RawState,
  SchemaSummary,
  Workspace,
  adaptState,
  copyStackAssets,
  prepareHclWorkspace,
  prepareStackWorkspace,
  summarizeSchema,
} from "./lib/plan-workspace";

export const USAGE =
  "usage: plan-check [--stack <name>] [--state <snapshot>] [--offline] [--modules <dir>] [--data <file>]\n" +
  "                  [--exclude <address>]... [--against-hcl <dir>] [--json] [--out <dir>]\n" +
  "  --stack        the stack to plan (default production)\n" +
  "  --state        a state snapshot (format 4): planned against a copy, never written\n" +
  "  --offline      no AWS: -refresh=false, the provider makes no call, data sources pinned to recorded values\n" +
  "                 (without --state: an empty state, a new environment)\n" +
  "  --modules      the HCL modules' folder (default: the environment's hclModulesDir)\n" +
  "  --data         JSON file of values by address, for data sources the snapshot lacks (they win over the snapshot)\n" +
  "  --exclude      leave out this resource and what depends on it (repeatable); listed as not judged\n" +
  "  --against-hcl  also plan this HCL root the same way and compare address by address\n" +
  "  --json         print the report as JSON instead of Markdown\n" +
  "  --out          working files and report.md/report.json (default cdktf.out/plan-check/<stack>)\n" +
  "exit codes: 0 pass, 1 the gate fails (a delete or replace not allowed, a move not shown, a plan error,\n" +
  "            a difference from the HCL root), 2 bad input\n";

const AWS_SOURCE = "registry.terraform.io/hashicorp/aws";

interface Options {
  stack: string;
  state?: string;
  offline: boolean;
  modules?: string;
  data?: string;
  exclude: string[];
  againstHcl?: string;
  json: boolean;
  out?: string;
  help: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const exclude: string[] = [];
  const rest: string[] = [];
  for (let n = 0; n < argv.length; n++) {
    const a = argv[n];
    if (a === "--exclude" || a.startsWith("--exclude=")) {
      const v = a === "--exclude" ? argv[++n] : a.slice("--exclude=".length);
      if (!v || v.startsWith("--")) throw new InputError("--exclude needs a resource address");
      exclude.push(v);
    } else rest.push(a);
  }
  const { values, flags, help } = parseFlags(rest, ["--stack", "--state", "--modules", "--data", "--against-hcl", "--out"], ["--offline", "--json"]);
  return {
    stack: values["--stack"] ?? "production",
    state: values["--state"],
    offline: flags.has("--offline"),
    modules: values["--modules"],
    data: values["--data"],
    exclude,
    againstHcl: values["--against-hcl"],
    json: flags.has("--json"),
    out: values["--out"],
    help,
  };
}

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new InputError(err.code === "ENOENT" ? `${what} not found: ${file}` : `cannot read ${what} ${file}: ${err.message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError(`${what} ${file} is not JSON: ${(e as Error).message}`);
  }
}

function readState(file: string): RawState {
  const s = readJson(file, "state file") as RawState;
  if (typeof s !== "object" || s === null || Array.isArray(s)) throw new InputError(`state file ${file} is not a Terraform state (not an object)`);
  if (s.version !== 4) throw new InputError(`state file ${file}: format version ${JSON.stringify(s.version)}; plan-check reads version 4`);
  if (!Array.isArray(s.resources)) throw new InputError(`state file ${file} has no "resources" list`);
  return s;
}

function readData(file: string): Record<string, Json> {
  const d = readJson(file, "--data file");
  if (typeof d !== "object" || d === null || Array.isArray(d)) throw new InputError(`--data file ${file} must be an object of values by address`);
  const { ["//"]: _comment, ...values } = d as Record<string, Json>;
  return values;
}

/** Instance addresses of the managed objects in a state (current objects only), as the migration check reads them. */
function stateInstances(state: RawState): string[] {
  return parseState(JSON.stringify(state), "the state copy")
    .instances.filter((i) => i.deposed === null)
    .map(instanceAddress);
}

/** The schema summary of the installed aws provider, cached per version (the schema dump takes seconds). */
async function schemaSummary(tf: Terraform, dir: string, cacheDir: string, version: string, platform: string, timings: Timings): Promise<SchemaSummary> {
  const file = path.join(cacheDir, `aws-${version}-${platform}.schema-summary-v2.json`);
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as SchemaSummary;
  } catch {
    const summary = summarizeSchema((await providersSchema(tf, dir, timings)) as any, AWS_SOURCE);
    // Atomic: another run may be reading the cache at the same moment.
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(summary));
    fs.renameSync(tmp, file);
    return summary;
  }
}

export const cacheDirOf = (env: NodeJS.ProcessEnv) => env.PLAN_CHECK_CACHE_DIR || path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "zivohealth-plan-check");

/** Addresses the configuration's `Invalid count argument` errors point at (`module.ssm.aws_ssm_parameter.x`). */
export function countErrorAddresses(errors: readonly Diagnostic[], modulePathOfFile: (file: string) => string | undefined): string[] | undefined {
  const out: string[] = [];
  for (const d of errors) {
    if (d.summary !== "Invalid count argument") return undefined;
    const m = /^resource "([^"]+)" "([^"]+)"/.exec(d.snippet?.context ?? "");
    const modulePath = d.range ? modulePathOfFile(d.range.filename) : undefined;
    if (!m || modulePath === undefined) return undefined;
    out.push(`${modulePath ? `${modulePath}.` : ""}${m[1]}.${m[2]}`);
  }
  return [...new Set(out)].sort(); // Terraform reports them in no fixed order
}

const COUNT_WHY = "Invalid count argument: its count depends on a value known only after apply (the ML worker queue URL)";

/**
 * The resources a plan's errors stop at, each with why: a count unknown at
 * plan, or an error Terraform ties to one resource (the provider refusing a
 * value, e.g. the HCL host's user data over EC2's limit). Undefined when an
 * error belongs to no resource: then nothing can be planned around it.
 */
export function unplannableResources(
  errors: readonly Diagnostic[],
  modulePathOfFile: (file: string) => string | undefined,
): { address: string; why: string }[] | undefined {
  const out = new Map<string, string>();
  for (const d of errors) {
    const counted = d.summary === "Invalid count argument" ? countErrorAddresses([d], modulePathOfFile) : undefined;
    if (counted?.length) out.set(counted[0], COUNT_WHY);
    else if (d.address) out.set(resourceOf(d.address), explain(d));
    else return undefined;
  }
  return [...out].sort(([a], [b]) => a.localeCompare(b)).map(([address, why]) => ({ address, why }));
}

interface Planned {
  readonly result: PlanResult;
  readonly exclusion?: Exclusion;
  readonly rows: ChangeRow[];
}

async function planWorkspace(
  tf: Terraform,
  dir: string,
  offline: boolean,
  exclude: readonly string[],
  stateResources: readonly string[],
  timings: Timings,
  outDir = dir,
  humanText = true,
): Promise<Planned> {
  const ex = exclude.length ? await exclusion(tf, dir, exclude, stateResources, timings) : undefined;
  const args = [...(offline ? ["-refresh=false"] : []), ...(ex ? ex.targets.map((t) => `-target=${t}`) : [])];
  let result = await plan(tf, dir, args, timings, outDir, humanText);
  if (!result.ok && result.errors.some((d) => INIT_NEEDED.test(d.summary))) {
    // A reused .terraform that no longer fits: initialize, then plan again.
    fs.rmSync(path.join(dir, INIT_STAMP), { force: true });
    await init(tf, dir, timings);
    result = await plan(tf, dir, args, timings, outDir, humanText);
  }
  return { result, exclusion: ex, rows: result.plan ? changeRows(result.plan) : [] };
}

/** The synthesized file exists and is newer than every source of the synthesized Terraform. */
function isFresh(file: string): boolean {
  let mtimeMs: number;
  try {
    mtimeMs = fs.statSync(file).mtimeMs;
  } catch {
    return false;
  }
  const newest = newestSource();
  return newest !== undefined && newest.mtimeMs < mtimeMs;
}

/** Where a working folder records what its last `terraform init` was for. */
const INIT_STAMP = ".plan-check-init";
/** Plan errors that mean the working folder needs `terraform init`. */
const INIT_NEEDED = /Module not installed|Required plugins are not installed|Inconsistent dependency lock file|Backend initialization required|Module source has changed|missing or corrupted provider plugins/i;

/**
 * Empties the output folder, but for what `terraform init` installed in the
 * working folders (providers linked from the plugin cache, the module
 * manifest, the lock file): the next run reuses it when its inputs are the same.
 */
function emptyOutDir(outDir: string): void {
  if (!fs.existsSync(outDir)) return;
  for (const entry of fs.readdirSync(outDir)) {
    const p = path.join(outDir, entry);
    if ((entry === "stack" || entry === "hcl") && fs.statSync(p).isDirectory()) {
      for (const e of fs.readdirSync(p)) if (![".terraform", ".terraform.lock.hcl", INIT_STAMP].includes(e)) fs.rmSync(path.join(p, e), { recursive: true, force: true });
    } else fs.rmSync(p, { recursive: true, force: true });
  }
}

/** `terraform init`, unless the folder was initialized for the same provider requirements and module calls. */
async function initOnce(tf: Terraform, ws: Workspace, terraformVersion: string, timings: Timings): Promise<void> {
  const stamp = path.join(ws.dir, INIT_STAMP);
  const inputs = createHash("sha256").update(JSON.stringify([terraformVersion, tf.env.TF_CLI_CONFIG_FILE ?? "", ...ws.initInputs])).digest("hex");
  const previous = fs.existsSync(stamp) ? fs.readFileSync(stamp, "utf8") : "";
  if (previous === inputs && fs.existsSync(path.join(ws.dir, ".terraform"))) {
    timings["init (reused)"] = 0;
    return;
  }
  fs.rmSync(stamp, { force: true });
  await init(tf, ws.dir, timings);
  fs.writeFileSync(stamp, inputs);
}

export interface Deps {
  readonly environments?: Readonly<Record<string, EnvironmentConfig>>;
  readonly env?: NodeJS.ProcessEnv;
}

/** Runs the check; returns the exit code. */
export async function main(argv: readonly string[], io: CliIo, deps: Deps = {}): Promise<number> {
  const options = parseOrAnswer(argv, io, USAGE, parseArgs);
  if (typeof options === "number") return options;
  let outDir: string | undefined;
  try {
    return await check(options, io, deps, (dir) => (outDir = dir));
  } catch (e) {
    if (e instanceof TerraformFailed) {
      // Terraform itself failed (not a plan error it reported): the gate fails.
      io.stderr(`error: ${e.message}\n`);
      return 1;
    }
    if (!(e instanceof InputError || e instanceof UnknownAddress)) throw e;
    if (outDir) fs.rmSync(outDir, { recursive: true, force: true });
    io.stderr(`error: ${e.message}\n`);
    return 2;
  }
}

async function check(o: Options, io: CliIo, deps: Deps, created: (dir: string) => void): Promise<number> {
  const env = deps.env ?? process.env;
  const environments = deps.environments ?? defaultEnvironments;
  const config = environments[o.stack];
  if (!config) throw new InputError(`unknown stack '${o.stack}'; the stacks are: ${Object.keys(environments).join(", ")}`);
  const resolve = (p: string) => path.resolve(io.cwd, p);
  const snapshot = o.state ? readState(resolve(o.state)) : null;
  const data = o.data ? readData(resolve(o.data)) : {};
  if (o.data && !o.offline) throw new InputError("--data goes with --offline (online, Terraform reads the data sources)");
  if (o.againstHcl) {
    const dir = resolve(o.againstHcl);
    if (!fs.existsSync(dir) || !fs.readdirSync(dir).some((f) => f.endsWith(".tf"))) throw new InputError(`--against-hcl ${dir}: no .tf files there`);
    if (!o.offline && !o.state) throw new InputError("--against-hcl needs --state or --offline: the HCL root is planned against the same snapshot");
  }
  const stackOut = resolve(path.join("cdktf.out", "stacks", o.stack));
  const modulesDir = o.modules ? resolve(o.modules) : path.resolve(stackOut, config.hclModulesDir);
  if (!fs.existsSync(modulesDir)) throw new InputError(`no HCL modules at ${modulesDir} (give --modules <dir>)`);

  // Terraform: offline needs the provider mirror too.
  let tf: Terraform;
  let awsVersion: string;
  let platform = "";
  let terraformVersion: string;
  let providerNote: string | undefined;
  const cacheDir = cacheDirOf(env);
  if (o.offline) {
    const found = detectToolchain(optionsFromEnv(env));
    if (!found.ok) throw new InputError(`offline plan needs terraform and a provider mirror: ${found.reason}`);
    fs.mkdirSync(cacheDir, { recursive: true });
    tf = offlineTerraform(found.toolchain, cacheDir, env);
    if ((tf as ReturnType<typeof offlineTerraform>).devOverride) {
      providerNote = `aws provider ${found.toolchain.awsVersion} loaded in place from the mirror (dev_overrides in plan-check's own CLI configuration): Terraform skips hashing the binary on every command`;
    }
    awsVersion = found.toolchain.awsVersion;
    platform = found.toolchain.platform;
    terraformVersion = found.toolchain.terraformVersion;
  } else {
    const bin = findOnPath("terraform", env.PATH ?? "");
    if (!bin) throw new InputError("no terraform on the PATH");
    tf = onlineTerraform(bin, env);
    awsVersion = "as installed by terraform init";
    terraformVersion = "(the PATH's)";
  }

  // Never a stale cdktf.out: synthesize (every stack, as npm run synth writes them), unless the
  // configured stacks' output is newer than every source it is made from.
  const synthesizedFile = path.join(stackOut, "cdk.tf.json");
  let stackText: string;
  let synthesisNote: string;
  const fresh = !deps.environments && isFresh(synthesizedFile);
  if (fresh) {
    stackText = fs.readFileSync(synthesizedFile, "utf8");
    synthesisNote = `${path.relative(io.cwd, synthesizedFile)} is newer than every source it is made from: used as it is`;
  } else {
    // Loaded here: cdktf and the provider bindings take ~0.3 s, not needed for fresh output.
    const { isUserError, synthesize } = require("../stacks/app") as typeof App;
    let synthesized: App.SynthesizedStack[];
    try {
      synthesized = synthesize(environments, { outdir: resolve("cdktf.out") });
    } catch (e) {
      if (isUserError(e)) throw new InputError(e.message);
      throw e;
    }
    stackText = synthesized.find((x) => x.name === o.stack)!.text;
    synthesisNote = "synthesized now from the sources";
  }
  const stackJson = JSON.parse(stackText) as Record<string, Json>;
  const pinned = ((((stackJson.terraform as any) ?? {}).required_providers ?? {}).aws ?? {}).version as string | undefined;
  const moved = ((stackJson.moved ?? []) as unknown as MovedBlock[]).map((m) => ({ from: m.from, to: m.to }));

  const outDir = resolve(o.out ?? path.join("cdktf.out", "plan-check", o.stack));
  emptyOutDir(outDir);
  // On bad input, everything this run created goes again (mkdirSync returns the first folder it made).
  created(fs.mkdirSync(outDir, { recursive: true, mode: 0o700 }) ?? outDir);
  const timings: Timings = {};
  const started = Date.now();
  const installed = new Set(["aws"]);
  const source: PinSource = { snapshot, data, alias: counterpart, installed };

  let stackDir: string;
  let adaptations: string[] = [];
  let pins: Workspace["pins"] = [];
  let stateUsed: RawState | null = snapshot;
  let schema: SchemaSummary | undefined;
  if (o.offline) {
    const ws = prepareStackWorkspace({ config: stackJson, modulesDir, dir: path.join(outDir, "stack"), awsVersion, source, stackDir: stackOut });
    if (ws.missing.length) throw new InputError(missingMessage(ws.missing, o));
    stackDir = ws.dir;
    await initOnce(tf, ws, terraformVersion, timings);
    schema = await schemaSummary(tf, stackDir, cacheDir, awsVersion, platform, timings);
    const adapted = adaptState(snapshot, ws.pins, installed, schema, terraformVersion);
    fs.writeFileSync(path.join(stackDir, "terraform.tfstate"), JSON.stringify(adapted.state, null, 1), { mode: 0o600 });
    stateUsed = adapted.state;
    adaptations = [...ws.adaptations, ...(providerNote ? [providerNote] : []), ...adapted.adaptations];
    pins = ws.pins;
    timings.prepare = Date.now() - started - (timings.init ?? 0) - (timings.schema ?? 0);
  } else if (snapshot) {
    stackDir = path.join(outDir, "stack");
    fs.mkdirSync(stackDir, { recursive: true, mode: 0o700 });
    const copy = structuredClone(stackJson) as any;
    delete copy.terraform.backend;
    for (const [name, block] of Object.entries<any>(copy.module ?? {})) block.source = path.join(modulesDir, path.basename(block.source ?? name));
    fs.writeFileSync(path.join(stackDir, "cdk.tf.json"), JSON.stringify(copy, null, 2));
    copyStackAssets(copy, stackOut, stackDir);
    fs.writeFileSync(path.join(stackDir, "terraform.tfstate"), JSON.stringify(snapshot), { mode: 0o600 });
    adaptations = ["backend replaced by a local copy of the snapshot"];
    await init(tf, stackDir, timings);
  } else {
    stackDir = stackOut; // the real backend, as cdktf diff uses it; plan -lock=false, never apply
    await init(tf, stackDir, timings);
    stateUsed = await pullState(tf, stackDir, timings); // read-only: which moved blocks must show as moves
  }

  const stateAddresses = stateUsed ? stateInstances(stateUsed) : [];
  // The plan files go to outDir even when Terraform runs in cdktf.out/stacks/<stack>.
  const planOut = path.join(outDir, "stack");
  fs.mkdirSync(planOut, { recursive: true, mode: 0o700 });
  // The HCL root, if asked, is planned at the same time (two cores; each waits on its own Terraform).
  const hclRun = o.againstHcl
    ? planHcl(o, resolve(o.againstHcl), outDir, tf, source, awsVersion, schema, terraformVersion, timings)
    : undefined;
  hclRun?.catch(() => undefined); // reported where it is awaited
  const stackPlan = await planWorkspace(tf, stackDir, o.offline, o.exclude, stateAddresses.map(resourceOf), timings, planOut);
  const notJudged = stackPlan.exclusion?.left ?? new Set<string>();
  const allow: AllowedDestroy[] = [
    ...(config.allowDestroy ?? []),
    ...(config.allowReplacement ?? []).map((e) => ({
      address: replacementAddress(e),
      reason: typeof e === "string" ? "listed in allowReplacement" : `allowReplacement: ${e.reason}`,
    })),
  ];
  const gate: Failure[] = judge({
    rows: stackPlan.rows,
    errors: stackPlan.result.errors,
    allow: config.allowDestroy ?? [],
    allowReplace: new Set((config.allowReplacement ?? []).map(replacementAddress)),
    moved,
    stateAddresses: new Set(stateAddresses),
    notJudged,
  });

  let hcl: PlanCheckReport["hcl"];
  if (hclRun) {
    hcl = compareWithHcl(await hclRun, stackPlan);
    for (const d of hcl.comparison?.differences ?? []) gate.push({ kind: "difference", address: d.address, message: d.message });
  }

  const report: PlanCheckReport = {
    stack: o.stack,
    synthesis: synthesisNote,
    mode: o.offline ? "offline" : "online",
    state: o.state ? `\`${o.state}\`${snapshot?.serial !== undefined ? ` (serial ${snapshot.serial})` : ""}` : o.offline ? "an empty state (a new environment)" : "the stack's backend",
    terraformVersion,
    provider: { installed: awsVersion, pinned },
    pass: gate.length === 0,
    failures: gate,
    excluded: stackPlan.exclusion?.excluded ?? [],
    rows: stackPlan.rows,
    allowed: allow.map((a) => ({
      ...a,
      used: stackPlan.rows.some((r) => r.address === a.address && (r.action === "delete" || r.action === "replace")),
    })),
    adaptations,
    pins,
    ...(hcl ? { hcl } : {}),
    planText: stackPlan.result.text,
    timingsMs: { ...timings, total: Date.now() - started },
    outDir,
    synthesized: { sha256: sha256(stackText) },
    backend: backendOf(stackJson as any, stackOut).identity,
    plannedAgainst: o.state ? "snapshot" : o.offline ? "empty state" : "backend",
    ...(stackPlan.result.ok
      ? { planFile: { path: path.join("stack", "plan.tfplan"), sha256: sha256(fs.readFileSync(path.join(planOut, "plan.tfplan"))), workingDir: stackDir } }
      : {}),
  };
  const markdown = renderMarkdown(report);
  const json = renderJson(report);
  fs.writeFileSync(path.join(outDir, "report.md"), markdown);
  fs.writeFileSync(path.join(outDir, "report.json"), json);
  io.stdout(o.json ? json : markdown);
  return report.pass ? 0 : 1;
}

const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");

function missingMessage(missing: readonly string[], o: Options): string {
  return (
    `no value recorded for ${missing.length} data source(s) or resource(s) to pin offline: ${missing.join(", ")}.\n` +
    `  ${o.state ? `The snapshot ${o.state} does not hold them` : "An empty state holds nothing"}; give their values in a --data file ` +
    `({ "<address>": { <attributes> } }, e.g. __tests__/fixtures/plan-check/production-data.json).`
  );
}

interface HclPlanned {
  readonly dir: string;
  readonly planned: Planned;
  readonly unplannable: { address: string; why: string }[];
}

/** Plans the HCL root the same way as the stack (run beside the stack's plan). */
async function planHcl(
  o: Options,
  hclDir: string,
  outDir: string,
  tf: Terraform,
  source: PinSource,
  awsVersion: string,
  schema: SchemaSummary | undefined,
  terraformVersion: string,
  timings: Timings,
): Promise<HclPlanned> {
  const dir = path.join(outDir, "hcl");
  const hclTimings: Timings = {};
  let stateAddresses: string[] = [];
  if (o.offline) {
    const ws = prepareHclWorkspace({ hclDir, dir, awsVersion, source });
    if (ws.missing.length) throw new InputError(missingMessage(ws.missing, o));
    await initOnce(tf, ws, terraformVersion, hclTimings);
    const adapted = adaptState(source.snapshot, ws.pins, source.installed, schema!, terraformVersion);
    fs.writeFileSync(path.join(dir, "terraform.tfstate"), JSON.stringify(adapted.state, null, 1), { mode: 0o600 });
    stateAddresses = stateInstances(adapted.state);
  } else {
    fs.cpSync(hclDir, dir, { recursive: true, filter: (s) => !/(^|\/)(\.terraform|terraform\.tfstate[^/]*)$/.test(s) });
    // Its own backend, if any, must not be used: the same snapshot, copied.
    fs.writeFileSync(path.join(dir, "plan_check_override.tf"), 'terraform {\n  backend "local" {\n    path = "terraform.tfstate"\n  }\n}\n');
    fs.writeFileSync(path.join(dir, "terraform.tfstate"), JSON.stringify(source.snapshot), { mode: 0o600 });
    await init(tf, dir, hclTimings);
    stateAddresses = source.snapshot ? stateInstances(source.snapshot) : [];
  }
  // The stack's exclusions, at their HCL addresses.
  const excluded = o.exclude.map((a) => counterpart(resourceOf(a)) ?? resourceOf(a));
  const stateResources = stateAddresses.map(resourceOf);
  let planned = await planWorkspace(tf, dir, o.offline, excluded, stateResources, hclTimings, dir, false);
  const unplannable: { address: string; why: string }[] = [];
  // Plan around what the HCL root cannot plan here (a count known only at apply,
  // a value the provider refuses), and compare the rest; a few rounds, as one
  // error can hide another.
  for (let round = 0; round < 3 && !planned.result.ok; round++) {
    const found = unplannableResources(planned.result.errors, (file) => modulePathOfFile(dir, file))?.filter(
      (u) => !unplannable.some((x) => x.address === u.address),
    );
    if (!found?.length) break;
    unplannable.push(...found);
    planned = await planWorkspace(tf, dir, o.offline, [...excluded, ...unplannable.map((u) => u.address)], stateResources, hclTimings, dir, false);
  }
  for (const [k, v] of Object.entries(hclTimings)) timings[`hcl ${k}`] = v;
  return { dir: hclDir, planned, unplannable };
}

/** The HCL root's plan against the stack's, address by address through the moved blocks. */
function compareWithHcl(h: HclPlanned, stackPlan: Planned): NonNullable<PlanCheckReport["hcl"]> {
  const { planned, unplannable } = h;
  if (!planned.result.ok) {
    return { dir: h.dir, unplannable: [...unplannable, ...planned.result.errors.map((d) => ({ address: d.address ?? "(configuration)", why: d.summary.slice(0, 300) }))] };
  }
  const notCompared = new Map<string, string>();
  for (const e of stackPlan.exclusion?.excluded ?? []) for (const a of [e.address, ...e.dependents]) notCompared.set(a, "excluded");
  for (const e of planned.exclusion?.excluded ?? []) {
    const unp = unplannable.some((u) => u.address === e.address);
    const mark = (a: string, why: string) => {
      const stackAddress = stackResourceOf(a);
      if (!notCompared.has(stackAddress)) notCompared.set(stackAddress, why);
    };
    mark(e.address, unp ? "the HCL root cannot plan it here" : "excluded");
    for (const a of e.dependents) mark(a, unp ? `depends on ${e.address}, which the HCL root cannot plan here` : "excluded");
  }
  const comparison = comparePlans({
    stack: (stackPlan.result.plan?.resource_changes ?? []) as ResourceChange[],
    hcl: (planned.result.plan?.resource_changes ?? []) as ResourceChange[],
    toStack: counterpart,
    notCompared,
    intended: (address) => INTENDED_DIFFERENCES.find((d) => d.address === resourceOf(address)),
  });
  return { dir: h.dir, comparison, unplannable, rows: planned.rows };
}

/** The stack's resource address of an HCL resource address (a moved block may name one of its instances). */
function stackResourceOf(hclResource: string): string {
  return counterpart(hclResource) ?? MOVES.find((m) => resourceOf(m.from) === hclResource)?.to ?? hclResource;
}

/** The module path of a file of the HCL root's copy (`modules/ssm/main.tf` → `module.ssm`), from its module blocks. */
function modulePathOfFile(rootDir: string, file: string): string | undefined {
  const dir = path.dirname(path.resolve(rootDir, file));
  if (dir === rootDir) return "";
  for (const f of fs.readdirSync(rootDir).filter((x) => x.endsWith(".tf"))) {
    const text = fs.readFileSync(path.join(rootDir, f), "utf8");
    for (const m of text.matchAll(/module\s+"([^"]+)"\s*\{[^}]*?source\s*=\s*"([^"]+)"/g)) {
      if (path.resolve(rootDir, m[2]) === dir) return `module.${m[1]}`;
    }
  }
  return undefined;
}

if (require.main === module) {
  main(process.argv.slice(2), processIo()).then(
    (code) => (process.exitCode = code),
    (e) => {
      process.stderr.write(`${(e as Error).stack ?? e}\n`);
      process.exitCode = 3;
    },
  );
}
