// One plan-check run: its inputs, its folder, Terraform, the synthesis, the working folders,
// the plans (the stack's, and the HCL root's beside it), the verdict and the report.

import * as fs from "fs";
import * as path from "path";
import { EnvironmentConfig, replacementAddress } from "../../config/environment";
import { environments as defaultEnvironments } from "../../config/environments";
import { HCL_OUTPUTS, counterpart } from "../../stacks/moves";
import { backendOf } from "../../lib/backend";
import { CliIo, InputError, PROJECT_ROOT } from "../../lib/cli";
import { AllowedDestroy, Failure, MovedBlock, changeRows, judge, keptBy, resourceOf } from "../../lib/plan/judge";
import { verdictInput } from "../../lib/plan/verdict";
import { outputChanges } from "../../lib/plan/outputs";
import { PlanCheckReport, renderJson, renderMarkdown } from "../../lib/plan/report";
import { Terraform, Timings, cacheDirOf, offlineTerraform, onlineTerraform } from "../../lib/plan/run";
import { Json, PinSource, RawState, Unplannable, Workspace } from "../../lib/plan/workspace";
import { detectToolchain, findOnPath, optionsFromEnv } from "../../lib/toolchain";
import { Workdir, WorkdirError, WorkdirOptions, openWorkdir, refusal } from "../../lib/workdir";
import { compareWithHcl, planHcl, readHclRoot } from "./against-hcl";
import { checkModules, checkPins, prepareFromSnapshot, prepareOffline, prepareOnBackend } from "./prepare";
import type { Deps, Options } from "./index";
import { checkStateFits, missingVariables, planCheckDefaults, readData, readState, stateInstances } from "./inputs";
import { progress, seconds } from "./progress";
import { SYNTHESIS_RECORD, sha256, synthesisOf } from "./synthesis";
import { INIT_STAMP, Planned, planWorkspace, terraformStep } from "./terraform";

// Where plan-check's tests find it (lib/plan/verdict.ts, shared with deploy --plan).
export { verdictInput };

/** Files the run writes in its folder, and what stays from one run to the next (init's work, the synthesis record). */
const OWNED = ["stack", "hcl", "report.md", "report.json", SYNTHESIS_RECORD];
const KEEP = [
  ...["stack", "hcl"].flatMap((d) => [".terraform", ".terraform.lock.hcl", INIT_STAMP].map((f) => `${d}/${f}`)),
  SYNTHESIS_RECORD,
];

export async function check(o: Options, io: CliIo, deps: Deps, opened: (w: Workdir) => void): Promise<number> {
  const began = Date.now();
  const env = deps.env ?? process.env;
  const environments = deps.environments ?? defaultEnvironments;
  const config = environments[o.stack];
  if (!config) throw new InputError(`unknown stack '${o.stack}'; the stacks are: ${Object.keys(environments).join(", ")}`);

  const inputs = await readInputs(o, io, env, config);
  const { snapshot, data, hclRoot, stackOut, modulesDir } = inputs;
  const workdirOptions = workdirOptionsOf(o, io, deps, inputs);
  const refused = refusal(workdirOptions);
  if (refused) throw new WorkdirError(refused);
  const toolchain = terraformOf(o, env);
  const { awsVersion } = toolchain;
  let { tf } = toolchain;
  const p = progress("plan-check", o.quiet ? undefined : io.stderr);
  const installed = new Set(["aws"]);
  const source: PinSource = { snapshot, data, alias: counterpart, installed };

  // Every input is checked before the output folder opens: the stack is synthesized in a temporary folder (or found
  // fresh), what it declares is checked (variables, --exclude, the modules, the values to pin), and only then written.
  const synthesis = synthesisOf(o, io, deps, environments, stackOut, workdirOptions.dir, p);
  try {
    const { stackText, synthesisNote } = synthesis;
    const stackJson = JSON.parse(stackText) as Record<string, Json>;
    const moved = movedBlocksOf(o, stackJson, env);
    if (o.offline) checkPins({ o, io, stackJson, modulesDir }, { awsVersion, source, data, dataFile: inputs.dataFile, hclRoot });
    else if (snapshot) checkModules(stackJson, modulesDir);

    const workdir = openWorkdir(workdirOptions);
    opened(workdir);
    const outDirReal = workdir.dir;
    synthesis.publish(outDirReal);
    // Gone before the first await: an interrupt (the workdir's handler exits) never leaves it behind.
    synthesis.discard();
    tf = {
      ...tf,
      run: async (bin, args, cwd, runEnv, timeoutMs) => {
        const end = p.start(terraformStep(args, cwd, outDirReal));
        const r = await workdir.run(bin, args, { cwd, env: runEnv, timeoutMs });
        end(r.code === 0 ? undefined : r.code === null ? "did not run" : `exit ${r.code}`);
        return r;
      },
    };
    const pinned = ((((stackJson.terraform as any) ?? {}).required_providers ?? {}).aws ?? {}).version as string | undefined;
    return await planAndJudge({ o, io, config, began, tf, p, toolchain, inputs, source, workdir, stackText, stackJson, synthesisNote, moved, pinned });
  } finally {
    synthesis.discard();
  }
}

/** With the output folder open: the working folders, the plans, the verdict and the report. */
async function planAndJudge(r: {
  o: Options;
  io: CliIo;
  config: EnvironmentConfig;
  began: number;
  tf: Terraform;
  p: ReturnType<typeof progress>;
  toolchain: ReturnType<typeof terraformOf>;
  inputs: Awaited<ReturnType<typeof readInputs>>;
  source: PinSource;
  workdir: Workdir;
  stackText: string;
  stackJson: Record<string, Json>;
  synthesisNote: string;
  moved: MovedBlock[];
  pinned: string | undefined;
}): Promise<number> {
  const { o, io, config, began, tf, p, toolchain, inputs, source, workdir, stackText, stackJson, synthesisNote, moved, pinned } = r;
  const { awsVersion, terraformVersion } = toolchain;
  const { snapshot, hclRoot, stackOut, modulesDir } = inputs;
  const outDirReal = workdir.dir;
  const timings: Timings = {};
  const started = Date.now();
  const where = { o, io, config, tf, timings, p, stackJson, stackOut, outDirReal, modulesDir };
  const prepared = o.offline
    ? await prepareOffline(where, { ...toolchain, ...inputs, source, started })
    : snapshot
      ? await prepareFromSnapshot(where, snapshot)
      : await prepareOnBackend(where);
  const { stackDir, adaptations, pins, stateUsed, schema, unplannable, hclWs } = prepared;

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
  // The HCL root's plan runs beside the stack's; the judgement starts when both are done.
  const h = hclRun ? await hclRun : undefined;
  const endJudgement = p.start(`judgement (the verdict${h ? ", the comparison with the HCL root" : ""}, the report)`);
  const { gate, allow, hcl } = verdictOf(config, stackPlan, { moved, stateAddresses, unplannable }, h);

  const report = reportOf({ o, config, snapshot, synthesisNote, terraformVersion, awsVersion, pinned, gate, stackPlan, allow, adaptations, pins, unplannable, hcl, planOut, timings, started, outDirReal, stackText, stackJson, stackOut, stackDir });
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

/** What the stack moves; refused first: an --exclude of a moved object's old address, a required variable unset. */
function movedBlocksOf(o: Options, stackJson: Record<string, Json>, env: NodeJS.ProcessEnv): MovedBlock[] {
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
  return moved;
}

/** The verdict: the gate's failures (judge, then the comparison with the HCL root), and the destroys the environment allows. */
function verdictOf(
  config: EnvironmentConfig,
  stackPlan: Planned,
  facts: { moved: MovedBlock[]; stateAddresses: string[]; unplannable: Unplannable[] },
  h: Awaited<ReturnType<typeof planHcl>> | undefined,
): { gate: Failure[]; allow: AllowedDestroy[]; hcl: PlanCheckReport["hcl"] } {
  const allow: AllowedDestroy[] = [
    ...(config.allowDestroy ?? []),
    ...(config.allowReplacement ?? []).map((e) => ({
      address: replacementAddress(e),
      reason: typeof e === "string" ? "listed in allowReplacement" : `allowReplacement: ${e.reason}`,
    })),
  ];
  const gate: Failure[] = judge(
    verdictInput(config, {
      rows: stackPlan.rows,
      errors: stackPlan.result.errors,
      ...(stackPlan.result.plan ? { plan: stackPlan.result.plan } : {}),
      moved: facts.moved,
      stateAddresses: new Set(facts.stateAddresses),
      notJudged: stackPlan.exclusion?.left ?? new Set<string>(),
      unplannable: facts.unplannable,
    }),
  );
  let hcl: PlanCheckReport["hcl"];
  if (h) {
    hcl = compareWithHcl(h, stackPlan);
    if (h.failure) gate.push({ kind: "equivalence", message: h.failure });
    for (const d of hcl.comparison?.differences ?? []) gate.push({ kind: "difference", address: d.address, message: d.message });
  }
  return { gate, allow, hcl };
}

/** A path relative to the working directory when it is inside it, otherwise absolute. */
const shownPath = (cwd: string, file: string) => {
  const rel = path.relative(cwd, file);
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : file;
};

/** The run's inputs, read and checked before anything is written. */
async function readInputs(o: Options, io: CliIo, env: NodeJS.ProcessEnv, config: EnvironmentConfig) {
  const resolve = (p: string) => path.resolve(io.cwd, p);
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

  return { defaults, snapshot, dataFile, data, hclRoot, stackOut, modulesDir };
}

/** The output folder's rules: what the run owns and keeps there, the inputs it must not hold. */
function workdirOptionsOf(o: Options, io: CliIo, deps: Deps, inputs: Awaited<ReturnType<typeof readInputs>>): WorkdirOptions {
  const resolve = (p: string) => path.resolve(io.cwd, p);
  const { defaults, dataFile, modulesDir } = inputs;
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
    env: deps.env ?? process.env,
    stderr: io.stderr,
    handleSignals: deps.handleSignals,
  };
  return workdirOptions;
}

/** Terraform, as found: offline needs the provider mirror too. */
function terraformOf(o: Options, env: NodeJS.ProcessEnv) {
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
  return { tf, awsVersion, platform, terraformVersion, providerNote, cacheDir };
}

/** The report, from the plan, the verdict and how the run was made. */
function reportOf(r: {
  o: Options;
  config: EnvironmentConfig;
  snapshot: RawState | null;
  synthesisNote: string;
  terraformVersion: string;
  awsVersion: string;
  pinned: string | undefined;
  gate: Failure[];
  stackPlan: Planned;
  allow: AllowedDestroy[];
  adaptations: string[];
  pins: Workspace["pins"];
  unplannable: Unplannable[];
  hcl: PlanCheckReport["hcl"];
  planOut: string;
  timings: Timings;
  started: number;
  outDirReal: string;
  stackText: string;
  stackJson: Record<string, Json>;
  stackOut: string;
  stackDir: string;
}): PlanCheckReport {
  const { o, config, snapshot, synthesisNote, terraformVersion, awsVersion, pinned, gate, stackPlan, allow, adaptations, pins, unplannable, hcl, planOut, timings, started, outDirReal, stackText, stackJson, stackOut, stackDir } = r;
  const outputs = stackPlan.result.plan ? outputChanges(stackPlan.result.plan, HCL_OUTPUTS) : [];
  return {
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
    ...(stackPlan.result.plan?.resource_drift?.length
      ? { drift: changeRows({ resource_changes: stackPlan.result.plan.resource_drift }).map((d) => ({ address: d.address, action: d.action })) }
      : {}),
    ...(outputs.length ? { outputs } : {}),
    allowed: allow.map((a) => ({
      ...a,
      used: stackPlan.rows.some((r) => r.address === a.address && (r.action === "delete" || r.action === "replace" || r.action === "forget")),
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
}
