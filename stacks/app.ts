// Long: synthesis end to end in one place (validation, staging, the signal guard, publishing into cdktf.out with its checks, the run's summary), so every command that synthesizes writes alike.
import * as fs from "fs";
import * as path from "path";
import type { App, AppConfig } from "cdktf";
import { EnvironmentConfig } from "../config/environment";
import { validateEnvironment } from "../config/validate";
import { ValidationError } from "../modules/validation";
import { isolationProblems, resolveOutdir } from "./isolation";
import { MoveTargetError } from "./moves";
import type { PolicyResult } from "../policy";
import { SEVERITIES } from "../policy/config";
import { SYNTHESIS_RECORD, SynthesisSources, synthesisSources, writeSynthesisRecord } from "./synthesis-record";
import { TemporaryFolderError, temporaryFolder } from "./temporary";
import type { ZivoHealthStack } from "./zivohealth-stack";

// Loaded once a configuration is accepted (or the guard must check one): a refused configuration
// is reported without cdktf and the provider bindings, ~0.4 s of CPU of every command's start.
const cdktf = (): typeof import("cdktf") => require("cdktf");
const stackModule = (): typeof import("./zivohealth-stack") => require("./zivohealth-stack");
const addressModule = (): typeof import("../modules/address") => require("../modules/address");

/** A stack's name: its construct id and its folder `cdktf.out/stacks/<name>`. */
const STACK_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;

/** Every problem of every environment, each prefixed with its stack name. */
export function validateEnvironments(environments: Readonly<Record<string, EnvironmentConfig>>): string[] {
  return Object.entries(environments).flatMap(([name, config]) => [
    ...(STACK_NAME.test(name)
      ? []
      : [
          `stack name ${JSON.stringify(name)}${name === "" ? " is empty" : ""}: each key of the environments names a stack and its folder ` +
            "cdktf.out/stacks/<name>; use letters, digits, '-' and '_', starting with a letter",
        ]),
    ...validateEnvironment(config).map((p) => `${name}: ${p}`),
  ]);
}

/**
 * The app with one stack per environment. Every configuration is validated
 * before the App exists, because the App creates its output folder: bad
 * input must leave nothing behind. `stateOutdir` is where Terraform will run
 * the stacks (`<stateOutdir>/stacks/<stack>`), which a local backend path is
 * relative to, for the isolation check: the App's own folder unless it only
 * stages the output.
 */
export function buildApp(environments: Readonly<Record<string, EnvironmentConfig>>, appConfig: AppConfig = {}, stateOutdir?: string): App {
  checkConfiguration(environments, stateOutdir ?? resolveOutdir(appConfig.outdir));
  const app = new (cdktf().App)({ ...APP_SETTINGS, ...appConfig });
  const { stacks, errors } = buildStacks(app, Object.entries(environments));
  // One stack's refusal alone keeps its own heading ("Invalid change to deployed stateful resources").
  if (errors.length === 1) throw errors[0].error;
  if (errors.length > 1) throw new ValidationError("environment configuration", errors.flatMap(prefixed));
  // Two elements pinned to one address would be merged into one block by cdktf, silently. (Each stack's own
  // validation refuses them too, in cdktf's words: first here, with every stack's in one message.)
  const duplicates = stacks.flatMap(addressModule().duplicateAddresses);
  if (duplicates.length > 0) throw new ValidationError("Terraform addresses", duplicates);
  // cdktf adds the App's `terraform version` check (below) to a resource with an import block (importFrom) too.
  for (const stack of stacks) withoutBinaryVersionChecks(() => stack.runAllValidations());
  return app;
}

/** Runs `f` with cdktf's binary version checks (ValidateBinaryVersion: `terraform version`, shelled out) passing, as the App skips its own. */
function withoutBinaryVersionChecks(f: () => void): void {
  const { prototype } = (require("cdktf/lib/validations/validate-binary-version") as { ValidateBinaryVersion: { prototype: { validate(): string[] } } }).ValidateBinaryVersion;
  const validate = prototype.validate;
  prototype.validate = () => [];
  try {
    f();
  } finally {
    prototype.validate = validate;
  }
}

// cdktf would add a check to every stack with moved blocks (and to every resource
// with an import block) that shells out to `terraform version` (>= 1.5) at each
// synth: ~80 ms, and synth fails where no terraform is installed. The stack's
// `required_version >= 1.5.0` already makes Terraform enforce that at init and
// plan, so the App skips its validation step and runs every construct's
// validations itself (buildApp), without those checks, instead.
const APP_SETTINGS = { stackTraces: false, skipValidation: true };

/**
 * Refuses, with every problem it can know in one run, a configuration with problems: each
 * environment's validation, the isolation of the stacks, the review-only configurations'
 * validation and, for the stacks whose configuration is accepted, the replacement guard (run on
 * stacks built in a scratch App: an App creates its output folder, and bad input writes nothing).
 */
export function checkConfiguration(
  environments: Readonly<Record<string, EnvironmentConfig>>,
  stateOutdir: string,
  review: Readonly<Record<string, EnvironmentConfig>> = {},
): void {
  const problems = validateEnvironments(environments);
  const isolation = isolationProblems(environments, stateOutdir);
  problems.push(...isolation.map((p) => p.problem), ...validateReviewEnvironments(review));
  if (problems.length === 0) return;
  const refused = new Set([...Object.keys(environments).filter((n) => validateEnvironment(environments[n]).length > 0), ...isolation.map((p) => p.stack)]);
  const accepted = Object.entries(environments).filter(([name]) => !refused.has(name) && STACK_NAME.test(name));
  // No stack accepted, no guard to run: refused without cdktf loaded (nor a scratch folder).
  if (accepted.length > 0) {
    const scratch = stagingFolder("zivohealth-guard-", "the replacement guard's check");
    try {
      problems.push(...buildStacks(new (cdktf().App)({ ...APP_SETTINGS, outdir: scratch }), accepted).errors.flatMap(prefixed));
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  }
  throw new ValidationError("environment configuration", problems);
}

/** Builds each stack; a stack refused by its own checks (the replacement guard, a construct's props) is collected, not thrown. */
function buildStacks(app: App, entries: readonly [string, EnvironmentConfig][]): { stacks: ZivoHealthStack[]; errors: { name: string; error: ValidationError }[] } {
  const stacks: ZivoHealthStack[] = [];
  const errors: { name: string; error: ValidationError }[] = [];
  for (const [name, config] of entries) {
    try {
      stacks.push(new (stackModule().ZivoHealthStack)(app, name, config));
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      errors.push({ name, error: e });
    }
  }
  return { stacks, errors };
}

const prefixed = ({ name, error }: { name: string; error: ValidationError }): string[] => error.problems.map((p) => `${name}: ${p}`);

/**
 * The review-only configurations' problems (`reviewEnvironments`: `npm run policy` and
 * migration-check synthesize them on demand): validated at every synth so that a typo there is
 * not found only when someone reviews them; never synthesized nor written.
 */
export function validateReviewEnvironments(review: Readonly<Record<string, EnvironmentConfig>>): string[] {
  return Object.entries(review).flatMap(([name, config]) => validateEnvironment(config).map((p) => `${name} (review only, not synthesized): ${p}`));
}

/** The output folder cannot be written (a file in the way, no permission, read-only file system). */
export class OutputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OutputError";
  }
}

/** Error annotations (the policy's `failSynth`) stopped the synthesis; nothing was written. */
export class SynthRefusedError extends Error {
  constructor(
    message: string,
    /** The policy evaluation of each stack, as far as synthesis got. */
    readonly policies: ReadonlyMap<string, PolicyResult>,
    /** Every error is a policy finding (`failSynth`): the policy's verdict, not bad input. */
    readonly verdict = false,
  ) {
    super(message);
    this.name = "SynthRefusedError";
  }
}

/** Errors of the user's making: reported as their message, without a stack trace. */
export type UserError = ValidationError | MoveTargetError | OutputError | SynthRefusedError;
export const isUserError = (e: unknown): e is UserError =>
  e instanceof ValidationError || e instanceof MoveTargetError || e instanceof OutputError || e instanceof SynthRefusedError;

/** A user error's exit code: 1 for the policy's verdict (a `failSynth` refusal by findings only), 2 for bad input, an address the moves table and the stack disagree on, or an unwritable output folder. */
export const exitCodeOf = (e: UserError): 1 | 2 => (e instanceof SynthRefusedError && e.verdict ? 1 : 2);

export interface SynthesizedStack {
  /** Stack name (the key in the environments map). */
  readonly name: string;
  readonly stack: ZivoHealthStack;
  /** The synthesized Terraform: `cdk.tf.json` text (or `cdk.tf` under `cdktf synth --hcl`). */
  readonly text: string;
  /** Where it was written (absolute), or undefined when synthesized in memory. */
  readonly file?: string;
  /** The policy checks' result under the stack's own policy configuration. */
  readonly policy: PolicyResult;
}

export interface SynthesizeOptions {
  /**
   * Folder to write `stacks/<stack>/cdk.tf.json` and `manifest.json` to; null
   * synthesizes in memory and writes nothing.
   * @default - $CDKTF_OUTDIR (set by the cdktf CLI), else "cdktf.out"
   */
  readonly outdir?: string | null;
  /**
   * The sources to record beside each stack's synthesized file as what made it
   * (`synthesis.json`, stacks/synthesis-record.ts: `synthesisSources()`): for the configured environments only.
   * @default - no record; one left there from an earlier synthesis is removed
   */
  readonly record?: SynthesisSources;
  /** Review-only configurations to validate with the others (not synthesized). @default - none */
  readonly review?: Readonly<Record<string, EnvironmentConfig>>;
}

/**
 * Synthesizes every environment into a private temporary folder and, only
 * when all of them succeed, moves the result into `outdir`: a refusal, a
 * validation error or an unwritable folder leaves `outdir` as it was. A stack
 * folder keeps only the format just written: JSON synthesis removes a
 * `cdk.tf` that `cdktf synth --hcl` left beside `cdk.tf.json` (Terraform would
 * load both), and HCL synthesis removes `cdk.tf.json`. Other files in the
 * stack folders (`.terraform`, plans) are kept. A SIGINT, SIGTERM or SIGHUP
 * that comes meanwhile ends the process once this returns (exit 128 + the
 * signal's number), the temporary folder removed, unless the process has its own handler for it.
 */
export function synthesize(environments: Readonly<Record<string, EnvironmentConfig>>, options: SynthesizeOptions = {}): SynthesizedStack[] {
  const staged = stage(environments, options);
  try {
    staged.publish();
    return staged.result;
  } finally {
    staged.discard();
  }
}

/**
 * synthesize(), for a process of its own (`npm run synth`): a signal that came
 * while the stacks were synthesized ends the process before `outdir` changes.
 */
export async function synthesizeInterruptibly(
  environments: Readonly<Record<string, EnvironmentConfig>>,
  options: SynthesizeOptions = {},
): Promise<SynthesizedStack[]> {
  const staged = stage(environments, options);
  try {
    // Node runs a signal's handler only between tasks: this is where one that came while staging runs.
    await new Promise((resolve) => setImmediate(resolve));
    staged.publish();
    return staged.result;
  } finally {
    staged.discard();
  }
}

/** The stacks synthesized into the temporary folder; `publish` moves them into `outdir` (when there is one). */
export interface StagedSynthesis {
  readonly result: SynthesizedStack[];
  publish(): void;
  /** Removes the temporary folder; call it in a `finally`. */
  discard(): void;
}

/**
 * The synthesis, staged and not yet written: a command that checks its input
 * against the synthesized stack (plan-check) refuses bad input before
 * `publish` writes anything.
 */
export function stageSynthesis(environments: Readonly<Record<string, EnvironmentConfig>>, options: SynthesizeOptions = {}): StagedSynthesis {
  return stage(environments, options);
}

function stage(environments: Readonly<Record<string, EnvironmentConfig>>, options: SynthesizeOptions): StagedSynthesis {
  const outdir = options.outdir === undefined ? path.resolve(process.env.CDKTF_OUTDIR ?? "cdktf.out") : options.outdir && path.resolve(options.outdir);
  checkConfiguration(environments, outdir ?? resolveOutdir(), options.review);
  if (outdir) checkWritable(outdir, Object.keys(environments));

  const sources = outdir ? options.record : undefined;
  guardSignals();
  const staging = stagingFolder();
  liveStaging.add(staging);
  const discard = () => {
    fs.rmSync(staging, { recursive: true, force: true });
    liveStaging.delete(staging);
    // Node's signal watchers do not keep a process alive: one turn of the event loop, so a signal that came
    // meanwhile is handled even when the caller's work is all synchronous (npm run policy) and would end it first.
    setImmediate(() => undefined);
  };
  try {
    // Staged in a temporary folder, but a local backend path is relative to where Terraform will run: outdir's stacks.
    const app = buildApp(environments, { outdir: staging }, outdir ?? resolveOutdir());
    const { ZivoHealthStack } = stackModule();
    const stacks = app.node.children.filter((c): c is ZivoHealthStack => c instanceof ZivoHealthStack);
    const policies = () => new Map(stacks.flatMap((s) => (s.policy.resultFor(s) ? [[s.node.id, s.policy.resultFor(s)!] as const] : [])));
    try {
      app.synth();
    } catch (e) {
      if (errorAnnotations(stacks).length === 0) throw e;
    }
    // The cdktf CLI sets CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS, so synth() may not have thrown.
    const errors = errorAnnotations(stacks);
    if (errors.length > 0) throw new SynthRefusedError(refusalMessage(errors), policies(), errors.every(isPolicyFinding));

    const manifest = JSON.parse(fs.readFileSync(path.join(staging, "manifest.json"), "utf8")) as {
      stacks: Record<string, { synthesizedStackPath: string; workingDirectory: string }>;
    };
    const result = stacks.map((stack) => {
      const entry = manifest.stacks[stack.node.id];
      return {
        name: stack.node.id,
        stack,
        text: fs.readFileSync(path.join(staging, entry.synthesizedStackPath), "utf8"),
        file: outdir ? path.join(outdir, entry.synthesizedStackPath) : undefined,
        policy: stack.policy.resultFor(stack)!,
      };
    });
    const publishStaged = () => {
      if (!outdir) return;
      for (const [name, entry] of sources ? Object.entries(manifest.stacks) : []) {
        const file = path.join(staging, entry.synthesizedStackPath);
        writeSynthesisRecord(path.dirname(file), name, file, path.basename(file), sources!);
      }
      publish(staging, outdir, Object.values(manifest.stacks), sources !== undefined);
    };
    return { result, publish: publishStaged, discard };
  } catch (e) {
    discard();
    throw e;
  }
}

/** A folder for the synthesis (or the guard's check); one TMPDIR does not allow is an OutputError (exit 2 in every command). */
function stagingFolder(prefix = "zivohealth-synth-", purpose = "the synthesis"): string {
  try {
    return temporaryFolder(prefix, purpose);
  } catch (e) {
    if (e instanceof TemporaryFolderError) throw new OutputError(e.message);
    throw e;
  }
}

/** Temporary folders of synthesis under way in this process: a signal's handler removes them. */
const liveStaging = new Set<string>();
const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;
let signalsGuarded = false;

/**
 * Without a handler, a signal ends Node at once and the temporary folder stays
 * behind. With this one, Node runs it between tasks: it removes what
 * synthesis still has staged and, when no other handler wants the signal,
 * ends the process as a shell expects (128 + the signal's number). A command
 * with its own handler decides itself.
 */
function guardSignals(): void {
  if (signalsGuarded) return;
  signalsGuarded = true;
  for (const [signal, number] of Object.entries(SIGNALS)) {
    process.on(signal, function onSignal() {
      for (const dir of liveStaging) fs.rmSync(dir, { recursive: true, force: true });
      liveStaging.clear();
      if (process.listeners(signal as NodeJS.Signals).every((l) => l === onSignal)) process.exit(128 + number);
    });
  }
}

const SYNTHESIZED_FILES = ["cdk.tf.json", "cdk.tf"];
/** What `cdktf synth --hcl` writes beside `cdk.tf` (and JSON synthesis does not). */
const HCL_METADATA = "metadata.json";

function errorAnnotations(stacks: readonly ZivoHealthStack[]): string[] {
  return stacks.flatMap((stack) =>
    stack.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === cdktf().AnnotationMetadataEntryType.ERROR).map((m) => `[${c.node.path}] ${m.data}`)),
  );
}

/** `[<stack>/<construct>] [ZH-…] …`: an error annotation the policy made (failSynth), not a construct's validation. */
const isPolicyFinding = (error: string) => /^\[[^\]]+\] \[ZH-/.test(error);

function refusalMessage(errors: readonly string[]): string {
  const policy = errors.some(isPolicyFinding);
  return [
    `Synthesis refused by ${errors.length} error${errors.length === 1 ? "" : "s"}; nothing was written:`,
    ...errors.map((e) => `  - ${e}`),
    ...(policy
      ? ["policy.failSynth makes findings of a blocking severity errors: fix them, exempt them (policy.config.exemptions), or change policy.config.blockingSeverities."]
      : []),
  ].join("\n");
}

const shown = (p: string): string => path.relative(process.cwd(), p) || ".";

/** Refuses, before any work, an output folder that cannot take the stacks. */
function checkWritable(outdir: string, stackNames: readonly string[]): void {
  const dirs = [outdir, path.join(outdir, "stacks"), ...stackNames.map((n) => path.join(outdir, "stacks", n))];
  for (const dir of dirs) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(dir);
    } catch {
      continue; // created when the stacks are written
    }
    if (!stat.isDirectory()) throw new OutputError(`cannot write ${shown(dir)}: it is a file, not a folder; move it away and synthesize again`);
    try {
      fs.accessSync(dir, fs.constants.W_OK);
    } catch {
      throw new OutputError(`cannot write ${shown(dir)}: permission denied; make it writable (or remove it) and synthesize again`);
    }
  }
}

/**
 * Copies the staged stacks and manifest into `outdir`: every file first to a
 * temporary name beside its target, then all renamed into place, so a failure
 * while copying leaves `outdir` as it was.
 */
function publish(staging: string, outdir: string, stacks: readonly { workingDirectory: string; synthesizedStackPath: string }[], recorded: boolean): void {
  const files: string[] = ["manifest.json"];
  for (const stack of stacks) {
    for (const rel of listFiles(staging, stack.workingDirectory)) files.push(rel);
  }
  checkTargets(outdir, files);
  const created: string[] = [];
  const temporary: string[] = [];
  const suffix = `.tmp-${process.pid}`;
  const fail = (target: string, e: unknown, outcome = "nothing was written"): never => {
    const err = e as NodeJS.ErrnoException;
    throw new OutputError(`cannot write ${shown(target)}: ${err.code ?? ""}${err.code ? " " : ""}${describeCode(err)}; ${outcome}`);
  };
  let current = outdir; // what is being written, for the message
  try {
    for (const rel of files) {
      const target = path.join(outdir, rel);
      current = path.dirname(target);
      mkdirTracked(current, created);
      current = target;
      fs.copyFileSync(path.join(staging, rel), target + suffix);
      temporary.push(target + suffix);
    }
  } catch (e) {
    for (const t of temporary) fs.rmSync(t, { force: true });
    for (const d of created.reverse()) fs.rmSync(d, { recursive: true, force: true });
    fail(current, e);
  }
  temporary.forEach((t, i) => {
    try {
      fs.renameSync(t, t.slice(0, -suffix.length));
    } catch (e) {
      for (const rest of temporary.slice(i)) fs.rmSync(rest, { force: true });
      fail(t.slice(0, -suffix.length), e, `${shown(outdir)} may now mix old and new files: synthesize again`);
    }
  });
  // Each stack folder keeps only the format just synthesized, and no record of an earlier synthesis.
  for (const stack of stacks) {
    const written = path.basename(stack.synthesizedStackPath);
    for (const other of SYNTHESIZED_FILES.filter((f) => f !== written)) removeFile(path.join(outdir, stack.workingDirectory, other));
    // cdktf writes metadata.json beside cdk.tf only (--hcl): it describes that file.
    if (written !== "cdk.tf") removeFile(path.join(outdir, stack.workingDirectory, HCL_METADATA));
    if (!recorded) removeFile(path.join(outdir, stack.workingDirectory, SYNTHESIS_RECORD));
    removeStaleAssets(path.join(outdir, stack.workingDirectory), new Set(files.map((f) => path.relative(stack.workingDirectory, f))));
  }
}

/**
 * Asset versions (`assets/<asset>/<content hash>/`, the compute templates)
 * that this synthesis did not write: an older template's copy would
 * otherwise stay beside the one the stack reads.
 */
function removeStaleAssets(stackDir: string, written: ReadonlySet<string>): void {
  const assets = path.join(stackDir, "assets");
  if (!fs.existsSync(assets)) return;
  const kept = new Set([...written].filter((f) => f.startsWith(`assets${path.sep}`)).map((f) => f.split(path.sep).slice(0, 3).join(path.sep)));
  for (const asset of fs.readdirSync(assets)) {
    if (!fs.statSync(path.join(assets, asset)).isDirectory()) continue;
    for (const version of fs.readdirSync(path.join(assets, asset))) {
      if (!kept.has(path.join("assets", asset, version))) fs.rmSync(path.join(assets, asset, version), { recursive: true, force: true });
    }
    if (fs.readdirSync(path.join(assets, asset)).length === 0) fs.rmdirSync(path.join(assets, asset));
  }
  if (fs.readdirSync(assets).length === 0) fs.rmdirSync(assets);
}

function describeCode(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EROFS":
      return "read-only file system";
    case "ENOTDIR":
      return "a file is in the way of a folder";
    case "ENOSPC":
      return "no space left on the device";
    default:
      return err.message;
  }
}

/**
 * Refuses, before the first file is copied, a target that a folder stands in
 * the place of, or whose folder a file stands in the place of: the renames
 * would fail halfway, after some files were replaced.
 */
function checkTargets(outdir: string, files: readonly string[]): void {
  const folders = new Set<string>();
  for (const rel of files) {
    const parts = rel.split(path.sep);
    for (let i = 1; i < parts.length; i++) folders.add(path.join(outdir, ...parts.slice(0, i)));
  }
  for (const dir of [...folders].sort()) {
    if (fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory() === false) {
      throw new OutputError(`cannot write ${shown(dir)}: it is a file, not a folder; move it away and synthesize again`);
    }
  }
  for (const rel of files) {
    const target = path.join(outdir, rel);
    if (fs.lstatSync(target, { throwIfNoEntry: false })?.isDirectory()) {
      throw new OutputError(`cannot write ${shown(target)}: it is a folder, not a file; move it away and synthesize again`);
    }
  }
}

/** Removes a file the synthesis wrote earlier; a folder of that name is not ours to remove. */
function removeFile(file: string): void {
  if (fs.lstatSync(file, { throwIfNoEntry: false })?.isDirectory() === false) fs.rmSync(file, { force: true });
}

/** Creates `dir` and its missing parents, recording those it created (outermost first). */
function mkdirTracked(dir: string, created: string[]): void {
  if (fs.existsSync(dir)) return;
  mkdirTracked(path.dirname(dir), created);
  fs.mkdirSync(dir);
  created.push(dir);
}

/** Files under `root/rel`, as paths relative to `root`. */
function listFiles(root: string, rel: string): string[] {
  return fs.readdirSync(path.join(root, rel), { withFileTypes: true }).flatMap((entry) => {
    const child = path.join(rel, entry.name);
    return entry.isDirectory() ? listFiles(root, child) : [child];
  });
}

/** One line per stack: where it went and what the policy found. */
export function summaryLine(s: SynthesizedStack): string {
  const { findings, exempted, blocking, counts } = s.policy;
  const where = s.file ? `wrote ${shown(s.file)}` : "synthesized in memory";
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  return (
    `${s.name}: ${where}; ${plural(findings.length, "policy finding")} (${SEVERITIES.map((sev) => `${counts[sev]} ${sev}`).join(", ")})` +
    `${exempted.length ? `, ${exempted.length} exempted` : ""}, ${blocking.length ? `${blocking.length} blocking` : "none blocking"}`
  );
}

function ignoreEpipe(e: NodeJS.ErrnoException): void {
  if (e.code !== "EPIPE") throw e;
}

/**
 * `npm run synth` and the cdktf CLI's app: synthesizes every stack, prints one
 * line per stack, or prints a user error without a stack trace and sets exit
 * code 2 (bad configuration, an unwritable output folder) or 1 (a failSynth
 * refusal by policy findings: the policy's verdict). Nothing is written unless
 * every stack synthesizes; an interrupt (SIGINT, SIGTERM) before then leaves
 * cdktf.out as it was and exits 130 or 143. The review-only configurations are validated, not synthesized.
 */
export async function runApp(environments: Readonly<Record<string, EnvironmentConfig>>, review: Readonly<Record<string, EnvironmentConfig>> = {}): Promise<void> {
  // A closed pipe (`npm run -s synth | head -0`) is not a failure of the synth.
  if (!process.stdout.listeners("error").includes(ignoreEpipe)) process.stdout.on("error", ignoreEpipe);
  try {
    for (const s of await synthesizeInterruptibly(environments, { record: synthesisSources(), review })) process.stdout.write(summaryLine(s) + "\n");
  } catch (e) {
    if (!isUserError(e)) throw e;
    process.stderr.write(`${e.message}\n`);
    process.exitCode = exitCodeOf(e);
  }
}
