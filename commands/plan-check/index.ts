// plan-check: Terraform's own plan as the gate (logic in ./lib/plan-*.ts).
//   npm run plan-check -- [--stack <name>] [--state <snapshot>] [--offline] [--modules <dir>] [--data <file>]
//                         [--exclude <address>]... [--against-hcl <dir>] [--json] [--out <dir>] [--quiet]
// Exit codes: 0 pass, 1 the gate fails, 2 bad input or environment (one message; what the run made is removed).
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { EnvironmentConfig, replacementAddress } from "../../config/environment";
import { environments as defaultEnvironments } from "../../config/environments";
import type * as App from "../../stacks/app";
import { backendLocation } from "../../stacks/isolation";
import { INTENDED_DIFFERENCES, MOVES, counterpart } from "../../stacks/moves";
import { detectToolchain, findOnPath, optionsFromEnv } from "../../lib/toolchain";
import { backendOf } from "../../lib/backend";
import { CliIo, InputError, PROJECT_ROOT, parseFlags, parseOrAnswer, processIo, synthesisSources } from "../../lib/cli";
import { instanceAddress, parseState } from "../../lib/migration";
import {
  AllowedDestroy,
  ChangeRow,
  Diagnostic,
  Failure,
  JudgeInput,
  MovedBlock,
  ResourceChange,
  changeRows,
  comparePlans,
  explain,
  judge,
  keptBy,
  resourceOf,
} from "../../lib/plan/judge";
import { PlanCheckReport, renderJson, renderMarkdown } from "../../lib/plan/report";
import {
  Exclusion,
  PlanResult,
  Terraform,
  TerraformFailed,
  Timings,
  UnknownAddress,
  cacheDirOf,
  exclusion,
  init,
  offlineTerraform,
  onlineTerraform,
  plan,
  providersSchema,
  pullState,
} from "../../lib/plan/run";
import {
  Json,
  PinSource,
  RawState,
  SchemaSummary,
  Unplannable,
  Workspace,
  adaptState,
  assetPaths,
  copyStackAssets,
  prepareHclWorkspace,
  prepareStackWorkspace,
  summarizeSchema,
} from "../../lib/plan/workspace";
import { Progress, progress, seconds } from "./progress";
import { Workdir, WorkdirError, WorkdirOptions, fileSystemMessage, openWorkdir, refusal } from "../../lib/workdir";

export const USAGE =
  "usage: plan-check [--stack <name>] [--state <snapshot>] [--offline] [--modules <dir>] [--data <file>]\n" +
  "                  [--exclude <address>]... [--against-hcl <dir>] [--json] [--out <dir>] [--quiet]\n" +
  "  --stack        the stack to plan (default production)\n" +
  "  --state        a state snapshot (format 4): planned against a copy, never written\n" +
  "  --offline      no AWS: -refresh=false, the provider makes no call, data sources pinned to recorded values\n" +
  "                 (without --state: an empty state, a new environment)\n" +
  "  --modules      the HCL modules' folder (default: the stack's planCheck.modules, else its hclModulesDir)\n" +
  "  --data         JSON file of values by address, for data sources the snapshot lacks (they win over the snapshot;\n" +
  "                 default with --offline: the stack's planCheck.data)\n" +
  "  --exclude      leave out this resource and what depends on it (repeatable); listed as not judged\n" +
  "  --against-hcl  also plan this HCL root the same way and compare address by address\n" +
  "  --json         print the report as JSON instead of Markdown\n" +
  "  --out          working files and report.md/report.json (default cdktf.out/plan-check/<stack>): a folder\n" +
  "                 plan-check creates, or one it made before (its marker in it); never the checkout, a folder\n" +
  "                 holding or inside an input, a source folder, cdktf.out/stacks; one run at a time per folder\n" +
  "  --quiet        no progress lines on stderr (each step as it starts, and its time when it ends)\n" +
  "exit codes: 0 pass, 1 the gate fails (a delete or replace not allowed, a move not shown, a plan error,\n" +
  "            a state instance not planned and not kept, an unused allow-list entry, a difference from\n" +
  "            the HCL root or an HCL root that cannot be planned), 2 bad input or environment\n";

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
  quiet: boolean;
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
  const { values, flags, help } = parseFlags(rest, ["--stack", "--state", "--modules", "--data", "--against-hcl", "--out"], ["--offline", "--json", "--quiet"]);
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
    quiet: flags.has("--quiet"),
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
  parseState(JSON.stringify(s), `state file ${file}`); // every entry: mode, type, name, instances
  return s;
}

/** Managed instances (current objects) of a state. */
const managedInstances = (state: RawState | null) =>
  state ? parseState(JSON.stringify(state), "the state").instances.filter((i) => i.deposed === null).length : 0;

const DATA_ADDRESS = /^(module\.[A-Za-z_][\w-]*(\[[^\]]+\])?\.)*(data\.)?[a-z][a-z0-9_]*\.[A-Za-z_][\w-]*$/;

function readData(file: string): Record<string, Json> {
  const d = readJson(file, "--data file");
  if (typeof d !== "object" || d === null || Array.isArray(d)) throw new InputError(`--data file ${file} must be an object of values by address`);
  const { ["//"]: _comment, ...values } = d as Record<string, Json>;
  const isObject = (v: Json) => typeof v === "object" && v !== null && !Array.isArray(v);
  for (const [address, value] of Object.entries(values)) {
    if (!DATA_ADDRESS.test(address)) {
      throw new InputError(`--data entry '${address}' in ${file} is not a data source or resource address (like data.aws_vpc.existing or module.compute.data.aws_ami.ubuntu)`);
    }
    const ok = isObject(value) || (Array.isArray(value) && value.every(isObject));
    if (!ok) {
      const got = value === null ? "null" : Array.isArray(value) ? "a list that is not of objects" : `a ${typeof value}`;
      throw new InputError(`--data entry '${address}' in ${file} must be an object of its attributes (a list of them for a counted one); got ${got}`);
    }
  }
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

/** What plan-check records of a synthesis, in its folder: which sources gave which cdk.tf.json. */
export const SYNTHESIS_RECORD = "synthesis.json";

export interface SynthesisRecord {
  readonly stack: string;
  /** The synthesized file (relative to the checkout) and its sha256. */
  readonly output: { readonly file: string; readonly sha256: string; readonly assets?: Readonly<Record<string, string>> };
  /** The sources (relative to the project) hashed, and one digest of them all. */
  readonly sources: { readonly digest: string; readonly files: readonly { readonly file: string; readonly sha256: string }[] };
}


/**
 * The synthesized stack, if it is what the current sources give: the record
 * of the run that synthesized it names the same sources (by content, not
 * modification time) and the same output (by content).
 */
export function freshSynthesis(dir: string, stack: string, file: string, sources: SynthesisRecord["sources"]): string | undefined {
  let record: SynthesisRecord;
  let text: string;
  try {
    record = JSON.parse(fs.readFileSync(path.join(dir, SYNTHESIS_RECORD), "utf8")) as SynthesisRecord;
    text = fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  if (record.stack !== stack || record.sources?.digest !== sources.digest || record.output?.sha256 !== sha256(text)) return undefined;
  // The files the stack reads beside it (the compute templates), each as recorded.
  const assets = assetHashes(text, path.dirname(file));
  const recorded = record.output.assets ?? {};
  if (!assets || Object.keys(assets).length !== Object.keys(recorded).length) return undefined;
  return Object.entries(assets).every(([a, h]) => recorded[a] === h) ? text : undefined;
}

/** The sha256 of every asset the synthesized stack reads (relative paths under its folder), or undefined when one is missing. */
export function assetHashes(text: string, stackDir: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  const visit = (rel: string): boolean => {
    let st: fs.Stats;
    try {
      st = fs.statSync(path.join(stackDir, rel));
    } catch {
      return false;
    }
    if (st.isDirectory()) return fs.readdirSync(path.join(stackDir, rel)).sort().every((e) => visit(path.join(rel, e)));
    out[rel] = createHash("sha256").update(fs.readFileSync(path.join(stackDir, rel))).digest("hex");
    return true;
  };
  let config: Json;
  try {
    config = JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
  return assetPaths(config).every(visit) ? out : undefined;
}

/** Where a working folder records what its last `terraform init` was for. */
const INIT_STAMP = ".plan-check-init";
/** Plan errors that mean the working folder needs `terraform init`. */
const INIT_NEEDED = /Module not installed|Required plugins are not installed|Inconsistent dependency lock file|Backend initialization required|Module source has changed|missing or corrupted provider plugins/i;

/** `terraform init`, unless the folder was initialized for the same provider requirements and module calls. */
async function initOnce(tf: Terraform, ws: Workspace, terraformVersion: string, timings: Timings, p?: Progress, side = "stack"): Promise<void> {
  const stamp = path.join(ws.dir, INIT_STAMP);
  const inputs = createHash("sha256").update(JSON.stringify([terraformVersion, tf.env.TF_CLI_CONFIG_FILE ?? "", ...ws.initInputs])).digest("hex");
  const previous = fs.existsSync(stamp) ? fs.readFileSync(stamp, "utf8") : "";
  if (previous === inputs && fs.existsSync(path.join(ws.dir, ".terraform"))) {
    timings["init (reused)"] = 0;
    p?.say(`terraform init (${side}) skipped: the folder was initialized for the same providers and modules`);
    return;
  }
  fs.rmSync(stamp, { force: true });
  await init(tf, ws.dir, timings);
  fs.writeFileSync(stamp, inputs);
}

export interface Deps {
  readonly environments?: Readonly<Record<string, EnvironmentConfig>>;
  readonly env?: NodeJS.ProcessEnv;
  /** Stop on SIGINT/SIGTERM, removing what the run made (the command's own process only). @default false */
  readonly handleSignals?: boolean;
}

/** The message of a failure of input or environment (exit 2), or undefined for a defect. */
function inputFailure(e: unknown, dir: string | undefined): string | undefined {
  if (e instanceof InputError || e instanceof WorkdirError || e instanceof UnknownAddress || e instanceof TerraformFailed) return e.message;
  return fileSystemMessage(e, dir);
}

/** Runs the check; returns the exit code. */
export async function main(argv: readonly string[], io: CliIo, deps: Deps = {}): Promise<number> {
  const options = parseOrAnswer(argv, io, USAGE, parseArgs);
  if (typeof options === "number") return options;
  let workdir: Workdir | undefined;
  try {
    return await check(options, io, deps, (w) => (workdir = w));
  } catch (e) {
    // Interrupted: the signal handler stops the children, removes what the run made and exits.
    if (workdir?.interrupted) return new Promise<number>(() => undefined);
    const message = inputFailure(e, workdir?.dir);
    const removed = workdir?.abort();
    if (message === undefined) throw e;
    io.stderr(`error: ${message}\n${removed ? `note: removed ${removed}\n` : ""}`);
    return 2;
  }
}

/** Files the run writes in its folder, and what stays from one run to the next (init's work, the synthesis record). */
const OWNED = ["stack", "hcl", "report.md", "report.json", SYNTHESIS_RECORD];
const KEEP = [
  ...["stack", "hcl"].flatMap((d) => [".terraform", ".terraform.lock.hcl", INIT_STAMP].map((f) => `${d}/${f}`)),
  SYNTHESIS_RECORD,
];

/** The facts the verdict is drawn from, and the environment's lists: what `judge` gets. */
export function verdictInput(
  config: Pick<EnvironmentConfig, "allowDestroy" | "allowReplacement" | "keepUnplannable">,
  facts: Omit<JudgeInput, "allow" | "allowReplace" | "keep">,
): JudgeInput {
  return {
    ...facts,
    allow: config.allowDestroy ?? [],
    // allowReplacement allows replaces only (the synth guard has judged them), never a delete.
    allowReplace: new Set((config.allowReplacement ?? []).map(replacementAddress)),
    keep: config.keepUnplannable ?? [],
  };
}

/** Refuses an empty state for a stack that is not new, and a state with resources for one marked new. */
function checkStateFits(stack: string, config: EnvironmentConfig, state: RawState | null, where: string): void {
  const count = managedInstances(state);
  if (config.newEnvironment === true) {
    if (count > 0) {
      throw new InputError(
        `stack '${stack}' is marked newEnvironment, but ${where} holds ${count} managed resource instance(s): ` +
          "it has been deployed; remove newEnvironment from its configuration (and record its stateful resources in deployed)",
      );
    }
    return;
  }
  if (count === 0) {
    throw new InputError(
      `refusing to plan stack '${stack}' against ${state ? `${where}, which holds no managed resources` : where}: Terraform would plan to ` +
        "create every resource again (a second EC2 host, a second zone) and the gate would judge nothing that exists. " +
        `Give --state <a state that holds the stack's resources>, or, for an environment that was never deployed, set newEnvironment: true in its configuration`,
    );
  }
}

/** Terraform variables without a default that the environment gives no TF_VAR_ for. */
function missingVariables(what: string, names: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  const missing = names.filter((n) => env[`TF_VAR_${n}`] === undefined);
  if (!missing.length) return undefined;
  return (
    `${what} needs a value for the Terraform variable${missing.length > 1 ? "s" : ""} ${missing.join(", ")} (no default), and the environment gives none: ` +
    `export ${missing.map((n) => `TF_VAR_${n}=<value>`).join(" ")} and run again` +
    (missing.includes("db_password_plain") ? " (offline any value plans, the fixtures use REDACTED; with credentials, the real password: docs/migration.md, What the first cdktf diff should show)" : "")
  );
}

/**
 * The stack's own defaults for --modules and (offline) --data, from its
 * `planCheck` setting, resolved against the project folder; each must exist.
 * A flag given on the command line replaces its default unread.
 */
function planCheckDefaults(o: Options, config: EnvironmentConfig): { modules?: string; data?: string } {
  const d = config.planCheck ?? {};
  const found = (field: "modules" | "data", given: string | undefined, directory: boolean): string | undefined => {
    if (given === undefined) return undefined;
    const p = path.resolve(PROJECT_ROOT, given);
    const ok = fs.existsSync(p) && fs.statSync(p).isDirectory() === directory;
    if (!ok) {
      throw new InputError(
        `planCheck.${field} of stack '${o.stack}' (config/environments.ts) names ${directory ? "a folder" : "a file"} that does not exist: ${p}; ` +
          `correct it, or give --${field} <${directory ? "dir" : "file"}>`,
      );
    }
    return p;
  };
  return {
    modules: o.modules ? undefined : found("modules", d.modules, true),
    data: o.data || !o.offline ? undefined : found("data", d.data, false),
  };
}

async function check(o: Options, io: CliIo, deps: Deps, opened: (w: Workdir) => void): Promise<number> {
  const began = Date.now();
  const env = deps.env ?? process.env;
  const environments = deps.environments ?? defaultEnvironments;
  const config = environments[o.stack];
  if (!config) throw new InputError(`unknown stack '${o.stack}'; the stacks are: ${Object.keys(environments).join(", ")}`);
  const resolve = (p: string) => path.resolve(io.cwd, p);

  // Inputs, read and checked before anything is written.
  if (o.data && !o.offline) throw new InputError("--data goes with --offline (online, Terraform reads the data sources)");
  // The environment's defaults (planCheck in config/environments.ts), relative to the project; a flag wins.
  const defaults = planCheckDefaults(o, config);
  const snapshot = o.state ? readState(resolve(o.state)) : null;
  const dataFile = o.data ? resolve(o.data) : defaults.data;
  const data = dataFile ? readData(dataFile) : {};
  const hclRoot = o.againstHcl ? await readHclRoot(resolve(o.againstHcl), o.againstHcl) : undefined;
  if (o.againstHcl && !o.offline && !o.state) throw new InputError("--against-hcl needs --state or --offline: the HCL root is planned against the same snapshot");
  const stackOut = resolve(path.join("cdktf.out", "stacks", o.stack));
  const modulesDir = o.modules ? resolve(o.modules) : (defaults.modules ?? path.resolve(stackOut, config.hclModulesDir));
  if (!fs.existsSync(modulesDir) || !fs.statSync(modulesDir).isDirectory()) throw new InputError(`no HCL modules at ${modulesDir} (give --modules <dir>)`);
  if (o.offline || o.state) {
    checkStateFits(o.stack, config, snapshot, o.state ? `the state ${o.state}` : "an empty state (offline without --state)");
  }
  if (hclRoot) {
    const problem = missingVariables(`the HCL root ${o.againstHcl}`, hclRoot.required, env);
    if (problem) throw new InputError(problem);
  }

  // The output folder: refused before anything is written.
  const outDir = resolve(o.out ?? path.join("cdktf.out", "plan-check", o.stack));
  const workdirOptions: WorkdirOptions = {
    tool: "plan-check",
    dir: outDir,
    shown: o.out ? `--out ${o.out}` : path.relative(io.cwd, outDir),
    checkout: PROJECT_ROOT,
    inputs: [
      ...(o.state ? [{ flag: "--state", path: resolve(o.state) }] : []),
      ...(dataFile ? [{ flag: o.data ? "--data" : `planCheck.data of stack '${o.stack}'`, path: dataFile }] : []),
      { flag: o.modules ? "--modules" : defaults.modules ? `planCheck.modules of stack '${o.stack}'` : "modules (hclModulesDir)", path: modulesDir },
      ...(o.againstHcl ? [{ flag: "--against-hcl", path: resolve(o.againstHcl) }] : []),
    ],
    reserved: [{ path: resolve(path.join("cdktf.out", "stacks")), why: "cdktf synth and Terraform write there (each stack's folder)" }],
    owned: OWNED,
    keep: KEEP,
    stderr: io.stderr,
    handleSignals: deps.handleSignals,
  };
  const refused = refusal(workdirOptions);
  if (refused) throw new WorkdirError(refused);

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

  const workdir = openWorkdir(workdirOptions);
  opened(workdir);
  const outDirReal = workdir.dir;
  const p = progress("plan-check", o.quiet ? undefined : io.stderr);
  tf = {
    ...tf,
    run: async (bin, args, cwd, runEnv, timeoutMs) => {
      const end = p.start(terraformStep(args, cwd, outDirReal));
      const r = await workdir.run(bin, args, { cwd, env: runEnv, timeoutMs });
      end(r.code === 0 ? undefined : r.code === null ? "did not run" : `exit ${r.code}`);
      return r;
    },
  };

  // Never a stale cdktf.out: synthesize (every stack, as npm run synth writes them), unless the
  // record of the run that synthesized it says the same sources gave the same output (by content).
  const synthesizedFile = path.join(stackOut, "cdk.tf.json");
  let stackText: string;
  let synthesisNote: string;
  const sources = deps.environments ? undefined : synthesisSources();
  const fresh = sources && freshSynthesis(outDirReal, o.stack, synthesizedFile, sources);
  if (fresh) {
    p.say(`synthesis skipped: ${path.relative(io.cwd, synthesizedFile)} is what the sources give (their content matches ${SYNTHESIS_RECORD})`);
    stackText = fresh;
    synthesisNote =
      `${path.relative(io.cwd, synthesizedFile)} is what the sources synthesize (the sha256 of its ${sources.files.length} source files, of the file ` +
      `and of the templates beside it match the record of the run that synthesized it, ${SYNTHESIS_RECORD}): used as it is`;
  } else {
    // Loaded here: cdktf and the provider bindings take ~0.3 s, not needed for fresh output.
    const { isUserError, synthesize } = require("../../stacks/app") as typeof App;
    let synthesized: App.SynthesizedStack[];
    try {
      synthesized = p.stepSync("synthesis (cdktf synth of every stack)", () => synthesize(environments, { outdir: resolve("cdktf.out") }));
    } catch (e) {
      if (isUserError(e)) throw new InputError(e.message);
      throw e;
    }
    stackText = synthesized.find((x) => x.name === o.stack)!.text;
    synthesisNote = "synthesized now from the sources";
    if (sources) {
      const assets = assetHashes(stackText, stackOut) ?? {};
      const record: SynthesisRecord = { stack: o.stack, output: { file: path.relative(io.cwd, synthesizedFile), sha256: sha256(stackText), assets }, sources };
      const tmp = path.join(outDirReal, `${SYNTHESIS_RECORD}.${process.pid}.tmp`);
      fs.writeFileSync(tmp, JSON.stringify(record, null, 1));
      fs.renameSync(tmp, path.join(outDirReal, SYNTHESIS_RECORD));
    }
  }
  const stackJson = JSON.parse(stackText) as Record<string, Json>;
  const pinned = ((((stackJson.terraform as any) ?? {}).required_providers ?? {}).aws ?? {}).version as string | undefined;
  const moved = ((stackJson.moved ?? []) as unknown as MovedBlock[]).map((m) => ({ from: m.from, to: m.to }));
  // Terraform refuses -target over a moved object without its old address: exclude where it moves to.
  for (const x of o.exclude) {
    const m = moved.find((b) => resourceOf(b.from) === resourceOf(x));
    if (m) throw new InputError(`--exclude ${x}: a moved block takes it to ${resourceOf(m.to)}, where Terraform plans it: exclude ${resourceOf(m.to)} instead`);
  }
  const required = Object.entries((stackJson.variable ?? {}) as Record<string, Record<string, Json>>)
    .filter(([, v]) => !Object.prototype.hasOwnProperty.call(v ?? {}, "default"))
    .map(([name]) => name);
  const variablesProblem = missingVariables(`stack '${o.stack}'`, required, env);
  if (variablesProblem) throw new InputError(variablesProblem);

  const timings: Timings = {};
  const started = Date.now();
  const installed = new Set(["aws"]);
  const source: PinSource = { snapshot, data, alias: counterpart, installed };

  let stackDir: string;
  let adaptations: string[] = [];
  let pins: Workspace["pins"] = [];
  let stateUsed: RawState | null = snapshot;
  let schema: SchemaSummary | undefined;
  let unplannable: Unplannable[] = [];
  let hclWs: Workspace | undefined;
  if (o.offline) {
    // Both working folders first: every value to pin, and every --data entry, is checked before Terraform runs.
    const ws = p.stepSync("offline working folder of the stack (data sources pinned)", () =>
      prepareStackWorkspace({ config: stackJson, modulesDir, dir: path.join(outDirReal, "stack"), awsVersion, source, stackDir: stackOut }),
    );
    hclWs = hclRoot
      ? p.stepSync("offline working folder of the HCL root (data sources pinned)", () =>
          prepareHclWorkspace({ hclDir: hclRoot.dir, dir: path.join(outDirReal, "hcl"), awsVersion, source }),
        )
      : undefined;
    const missing = [...new Set([...ws.missing, ...(hclWs?.missing ?? [])])];
    if (missing.length) throw new InputError(missingMessage(missing, o));
    const problems = [...new Set([...ws.problems, ...(hclWs?.problems ?? [])])];
    if (problems.length === 1) throw new InputError(`${problems[0]}: the value does not fit what the configuration reads`);
    if (problems.length) throw new InputError(`the pinned values do not fit what the configuration reads:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    const used = new Set([...ws.pins, ...(hclWs?.pins ?? [])].filter((p) => p.from === "--data").map((p) => p.recordedAs));
    const unused = Object.keys(data).filter((k) => !used.has(k));
    if (unused.length) {
      throw new InputError(
        `${o.data ? `--data ${o.data}` : `planCheck.data of stack '${o.stack}' (${path.relative(io.cwd, dataFile!) || dataFile})`}: ${unused.length} entr${unused.length > 1 ? "ies match" : "y matches"} nothing this run pins: ${unused.join(", ")} ` +
          `(pinned here: ${[...new Set([...ws.pins, ...(hclWs?.pins ?? [])].map((p) => p.recordedAs))].sort().join(", ") || "nothing"}); remove ${unused.length > 1 ? "them" : "it"} or correct the address`,
      );
    }
    stackDir = ws.dir;
    await initOnce(tf, ws, terraformVersion, timings, p);
    schema = await schemaSummary(tf, stackDir, cacheDir, awsVersion, platform, timings);
    const adapted = adaptState(snapshot, ws.pins, installed, schema, terraformVersion);
    fs.writeFileSync(path.join(stackDir, "terraform.tfstate"), JSON.stringify(adapted.state, null, 1), { mode: 0o600 });
    stateUsed = adapted.state;
    unplannable = adapted.unplannable;
    adaptations = [...ws.adaptations, ...(providerNote ? [providerNote] : []), ...adapted.adaptations];
    pins = ws.pins;
    timings.prepare = Date.now() - started - (timings.init ?? 0) - (timings.schema ?? 0);
  } else if (snapshot) {
    stackDir = path.join(outDirReal, "stack");
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
    const where = backendLocation(resolve("cdktf.out"), o.stack, config.backend);
    checkStateFits(o.stack, config, stateUsed, stateUsed ? `the backend's state ${where}` : `the backend's state ${where}, which does not exist`);
  }

  const stateAddresses = stateUsed ? stateInstances(stateUsed) : [];
  // The plan files go to the run's folder even when Terraform runs in cdktf.out/stacks/<stack>.
  const planOut = path.join(outDirReal, "stack");
  fs.mkdirSync(planOut, { recursive: true, mode: 0o700 });
  // The HCL root, if asked, is planned at the same time (two cores; each waits on its own Terraform).
  const hclRun = hclRoot
    ? planHcl(o, hclRoot.dir, hclWs, path.join(outDirReal, "hcl"), tf, source, schema, terraformVersion, timings, p)
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
  // The HCL root's plan runs beside the stack's; the judgement starts when both are done.
  const h = hclRun ? await hclRun : undefined;
  const endJudgement = p.start(`judgement (the verdict${h ? ", the comparison with the HCL root" : ""}, the report)`);
  const gate: Failure[] = judge(
    verdictInput(config, {
      rows: stackPlan.rows,
      errors: stackPlan.result.errors,
      moved,
      stateAddresses: new Set(stateAddresses),
      notJudged,
      unplannable,
    }),
  );

  let hcl: PlanCheckReport["hcl"];
  if (h) {
    hcl = compareWithHcl(h, stackPlan);
    if (h.failure) gate.push({ kind: "equivalence", message: h.failure });
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
    stateNotPlanned: unplannable.map((u) => ({ address: u.address, why: u.why, ...(keptBy(config.keepUnplannable ?? [], u) ? { kept: keptBy(config.keepUnplannable ?? [], u)!.reason } : {}) })),
    ...(hcl ? { hcl } : {}),
    planText: stackPlan.result.text,
    ...(fs.existsSync(path.join(planOut, "plan.txt")) ? { planTextFile: path.join(planOut, "plan.txt") } : {}),
    timingsMs: { ...timings, total: Date.now() - started },
    outDir: outDirReal,
    synthesized: { sha256: sha256(stackText) },
    backend: backendOf(stackJson as any, stackOut).identity,
    plannedAgainst: o.state ? "snapshot" : o.offline ? "empty state" : "backend",
    ...(stackPlan.result.ok
      ? { planFile: { path: path.join("stack", "plan.tfplan"), sha256: sha256(fs.readFileSync(path.join(planOut, "plan.tfplan"))), workingDir: stackDir } }
      : {}),
  };
  const markdown = renderMarkdown(report);
  const json = renderJson(report);
  fs.writeFileSync(path.join(outDirReal, "report.md"), markdown);
  fs.writeFileSync(path.join(outDirReal, "report.json"), json);
  endJudgement();
  workdir.finish();
  p.say(`${report.pass ? "PASS" : "FAIL"} in ${seconds(Date.now() - began)}; the report: ${shownPath(io.cwd, path.join(outDirReal, "report.md"))} (and report.json)`);
  io.stdout(o.json ? json : markdown);
  return report.pass ? 0 : 1;
}

const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");

/** A path relative to the working directory when it is inside it, otherwise absolute. */
const shownPath = (cwd: string, file: string) => {
  const rel = path.relative(cwd, file);
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : file;
};

/** A Terraform command as a progress line names it: `terraform plan (stack)`, `terraform show -json (HCL root)`. */
export function terraformStep(args: readonly string[], cwd: string, outDir: string): string {
  const words = args[0] === "show" || args[0] === "providers" || args[0] === "state" ? args.slice(0, 2) : args.slice(0, 1);
  if (args[0] === "plan" && args.includes("-json")) words.push("-json");
  const rel = path.relative(outDir, cwd);
  const side = rel === "hcl" || rel.startsWith(`hcl${path.sep}`) ? "HCL root" : "stack";
  return `terraform ${words.join(" ")} (${side})`;
}

function missingMessage(missing: readonly string[], o: Options): string {
  return (
    `no value recorded for ${missing.length} data source(s) or resource(s) to pin offline: ${missing.join(", ")}.\n` +
    `  ${o.state ? `The snapshot ${o.state} does not hold them` : "An empty state holds nothing"}; give their values in a --data file ` +
    `({ "<address>": { <attributes> } }, e.g. __tests__/fixtures/plan-check/production-data.json).`
  );
}

interface HclRoot {
  readonly dir: string;
  /** Its variables without a default that no .tfvars file in it sets. */
  readonly required: string[];
}

/**
 * The --against-hcl folder, checked before anything is written: a folder of
 * .tf files that parse (a syntax error is bad input, not a difference); and
 * the variables Terraform would ask for.
 */
async function readHclRoot(dir: string, shown: string): Promise<HclRoot> {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dir);
  } catch {
    throw new InputError(`--against-hcl ${shown}: no such folder (${dir})`);
  }
  if (!stat.isDirectory()) throw new InputError(`--against-hcl ${shown} is a file, not a folder: give the HCL root's folder (the one with main.tf)`);
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".tf")).sort();
  if (!files.length) throw new InputError(`--against-hcl ${shown}: no .tf files there`);
  const { parse } = require("@cdktf/hcl2json") as { parse: (file: string, text: string) => Promise<Record<string, any>> };
  const variables = new Map<string, boolean>();
  const set = new Set<string>();
  for (const f of fs.readdirSync(dir).sort()) {
    const isTf = f.endsWith(".tf");
    const isVars = f === "terraform.tfvars" || f.endsWith(".auto.tfvars");
    if (!isTf && !isVars) continue;
    let parsed: Record<string, any>;
    try {
      parsed = await parse(f, fs.readFileSync(path.join(dir, f), "utf8"));
    } catch (e) {
      const detail = String((e as Error).message ?? e).replace(/^Error: /, "").replace(/^parse config: \[?/, "").replace(/\]$/, "");
      throw new InputError(`--against-hcl ${shown}: ${f} is not valid HCL: ${detail}`);
    }
    if (isVars) Object.keys(parsed).forEach((k) => set.add(k));
    for (const [name, blocks] of Object.entries<any[]>(parsed.variable ?? {})) variables.set(name, blocks.some((b) => Object.prototype.hasOwnProperty.call(b, "default")));
  }
  for (const f of fs.readdirSync(dir).filter((x) => x === "terraform.tfvars.json" || x.endsWith(".auto.tfvars.json"))) {
    try {
      Object.keys(JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"))).forEach((k) => set.add(k));
    } catch (e) {
      throw new InputError(`--against-hcl ${shown}: ${f} is not JSON: ${(e as Error).message}`);
    }
  }
  return { dir, required: [...variables].filter(([name, hasDefault]) => !hasDefault && !set.has(name)).map(([name]) => name).sort() };
}

interface HclPlanned {
  readonly dir: string;
  readonly planned: Planned;
  readonly unplannable: { address: string; why: string }[];
  /** Why the HCL root could not be planned at all: the equivalence is not checked, and the gate fails. */
  readonly failure?: string;
}

/** Plans the HCL root the same way as the stack (run beside the stack's plan). A root Terraform cannot plan is a finding, not bad input. */
async function planHcl(
  o: Options,
  hclDir: string,
  ws: Workspace | undefined,
  dir: string,
  tf: Terraform,
  source: PinSource,
  schema: SchemaSummary | undefined,
  terraformVersion: string,
  timings: Timings,
  p?: Progress,
): Promise<HclPlanned> {
  const hclTimings: Timings = {};
  const empty: Planned = { result: { ok: false, errors: [], warnings: [], text: "" }, rows: [] };
  let stateAddresses: string[] = [];
  try {
    if (ws) {
      await initOnce(tf, ws, terraformVersion, hclTimings, p, "HCL root");
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
  } catch (e) {
    if (!(e instanceof TerraformFailed)) throw e;
    return { dir: hclDir, planned: empty, unplannable: [], failure: e.message };
  }
  // The stack's exclusions, at their HCL addresses.
  const excluded = o.exclude.map((a) => counterpart(resourceOf(a)) ?? resourceOf(a));
  const stateResources = stateAddresses.map(resourceOf);
  const unplannable: { address: string; why: string }[] = [];
  let planned: Planned;
  try {
    planned = await planWorkspace(tf, dir, o.offline, excluded, stateResources, hclTimings, dir, false);
    // Plan around what the HCL root cannot plan here (a count known only at apply,
    // a value the provider refuses), and compare the rest; a few rounds, as one
    // error can hide another. An error that belongs to no resource stops it: then it cannot be planned at all.
    for (let round = 0; round < 3 && !planned.result.ok; round++) {
      const found = unplannableResources(planned.result.errors, (file) => modulePathOfFile(dir, file))?.filter(
        (u) => !unplannable.some((x) => x.address === u.address),
      );
      if (!found?.length) break;
      unplannable.push(...found);
      planned = await planWorkspace(tf, dir, o.offline, [...excluded, ...unplannable.map((u) => u.address)], stateResources, hclTimings, dir, false);
    }
  } catch (e) {
    if (!(e instanceof TerraformFailed || e instanceof UnknownAddress)) throw e;
    return { dir: hclDir, planned: empty, unplannable, failure: e.message };
  }
  for (const [k, v] of Object.entries(hclTimings)) timings[`hcl ${k}`] = v;
  const failure = planned.result.ok ? undefined : planned.result.errors.map((d) => `${d.address ? `${d.address}: ` : ""}${explain(d)}`).join("; ");
  return { dir: hclDir, planned, unplannable, ...(failure !== undefined ? { failure: failure || "Terraform planned nothing and reported no error" } : {}) };
}

/** The HCL root's plan against the stack's, address by address through the moved blocks. */
function compareWithHcl(h: HclPlanned, stackPlan: Planned): NonNullable<PlanCheckReport["hcl"]> {
  const { planned, unplannable } = h;
  if (h.failure !== undefined) {
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
  main(process.argv.slice(2), processIo(), { handleSignals: true }).then(
    (code) => (process.exitCode = code),
    (e) => {
      process.stderr.write(`${(e as Error).stack ?? e}\n`);
      process.exitCode = 3;
    },
  );
}
