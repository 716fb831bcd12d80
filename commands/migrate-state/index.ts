// Long: one command's steps in the order they run (read, copy, move, verify, push), each a function; its checks and the Terraform state work are its parts.
// migrate-state: the stack's moved blocks applied to its state by Terraform, on
// a local copy, verified, and (with --push) written back under the backend's
// lock. It never creates, changes or deletes a cloud resource.
//   npm run migrate-state -- [--stack <name>] [--state <snapshot>] [--out <dir>] [--push] [--backend-config <file>]
//                            [--online] [--modules <dir>] [--data <file>] [--exclude <address>]...
// Exit codes: 0 migrated (or nothing to migrate), 1 the verification (the gate's verdict on the copy's plan included) fails or a push
// changed the backend wrongly, 2 a refusal or bad input, 130/143 interrupted (SIGINT/SIGTERM) before the push, nothing of the run kept;
// the backend and the given files are untouched in all three.
import "../../stacks/startup"; // first: the compile cache and deferred requires apply to what loads after it
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EnvironmentConfig } from "../../config/environment";
import { environments as configuredEnvironments } from "../../config/environments";
import { ProbeInterrupted, findOnPath } from "../../lib/toolchain";
import { BackendIdentity, backendOf, checkBackendConfigFile, describeBackend } from "../../lib/backend";
import { Backend, Interrupted, Refusal, TerraformError, checkpoint, moveInPlace, openBackend, parseStateText, stateTerraform } from "./backend-ops";
import { CliIo, InputError, parseFlags, parseOrAnswer, processIo, synthesizeFirst, takeRepeated } from "../../lib/cli";
import { MovedBlock } from "../../lib/migration";
import { PlanCheckReport } from "../../lib/plan/report";
import { RawState } from "../../lib/plan/workspace";
import { PlanComparison, PlannedMove, StateCheck, checkMigratedState, comparePlansAfterMigration, planMoves, refuseMovesTerraformRefuses } from "./state-migrate";
import { gateFailures, gateRefusal } from "./gate";
import { SNAPSHOT, STEP_1, afterFailedPush, pushedProblems, refuseChangedBackend } from "./push-checks";
import { EARLIER, Workdir, WorkdirError, openWorkdir } from "../../lib/workdir";
import { main as planCheck } from "../plan-check";

export const USAGE =
  "usage: migrate-state [--stack <name>] [--state <snapshot>] [--out <dir>] [--push] [--backend-config <file>]\n" +
  "                     [--online] [--modules <dir>] [--data <file>] [--exclude <address>]...\n" +
  "  --stack           the stack whose moved blocks apply (default production)\n" +
  "  --state           a state snapshot (format 4) to migrate instead of the backend's state; read, never written\n" +
  "  --out             the folder for the migrated state, the original (backup) and the report\n" +
  "                    (default cdktf.out/migrate-state/<stack>/<UTC time>; an existing one only if migrate-state made it\n" +
  "                    and it holds no original.tfstate: a backup is never deleted or replaced)\n" +
  "  --push            write the migrated state to the stack's backend, under the backend's lock, only if the backend\n" +
  "                    still holds the serial and lineage read (never -force)\n" +
  "  --backend-config  an HCL file of S3 connection settings (endpoints, credentials) for terraform init; never which state\n" +
  "  --online          verify with plans that use your AWS credentials (refresh on) instead of offline plans\n" +
  "  --modules, --data, --exclude   passed to the verification plans (see plan-check; without --modules or --data,\n" +
  "                    the stack's planCheck defaults apply there)\n" +
  "exit codes: 0 migrated (or nothing to migrate), 1 the verification fails (the plan against the migrated copy failing\n" +
  "            plan-check's gate included: nothing written or pushed), or a push\n" +
  "            that failed or lost its lock and changed the backend (or may have: the backup is kept and named),\n" +
  "            2 a refusal or bad input, 130/143 interrupted by SIGINT/SIGTERM before the push (nothing of the run\n" +
  "            kept; in both, the backend and the given files untouched)\n";

interface Options {
  stack: string;
  state?: string;
  out?: string;
  push: boolean;
  backendConfig?: string;
  online: boolean;
  modules?: string;
  data?: string;
  exclude: string[];
  help: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const { values: exclude, rest } = takeRepeated(argv, "--exclude", "a resource address");
  const { values, flags, help } = parseFlags(rest, ["--stack", "--state", "--out", "--backend-config", "--modules", "--data"], ["--push", "--online"]);
  return {
    stack: values["--stack"] ?? "production",
    state: values["--state"],
    out: values["--out"],
    push: flags.has("--push"),
    backendConfig: values["--backend-config"],
    online: flags.has("--online"),
    modules: values["--modules"],
    data: values["--data"],
    exclude,
    help,
  };
}

/** Where a run is; tests pause or interrupt a run at a step. */
export type Step = "read" | "move" | "verify" | "write" | "written" | "lock" | "push" | "pushing";

export interface Deps {
  /** The deployable stacks. @default config/environments.ts `environments` */
  readonly environments?: Readonly<Record<string, EnvironmentConfig>>;
  /** The environment of Terraform and of the verification plans. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Stops the run (the CLI aborts it on SIGINT and SIGTERM); a push under way is let finish. */
  readonly signal?: AbortSignal;
  /** Called as each step starts; awaited. */
  readonly onStep?: (step: Step) => void | Promise<void>;
}

/** A verification that did not hold: exit 1, nothing written or pushed. */
class VerificationFailed extends Error {}

const OWNED = ["migrated.tfstate", "original.tfstate", "report.md", "report.json", "work"];
const sha256 = (text: string | Buffer) => createHash("sha256").update(text).digest("hex");

/** Runs migrate-state; returns the exit code. */
export async function main(argv: readonly string[], io: CliIo, deps: Deps = {}): Promise<number> {
  const options = parseOrAnswer(argv, io, USAGE, parseArgs);
  if (typeof options === "number") return options;
  const run: RunState = {};
  try {
    const report = await migrate(options, io, deps, run);
    // Nothing to migrate: this run wrote nothing but its scratch folder (a reused folder's earlier files are put back).
    if (report.nothingToDo) run.workdir?.abort();
    else {
      run.workdir?.removeWork();
      run.workdir?.finish();
    }
    io.stdout(renderMarkdown(report));
    return 0;
  } catch (e) {
    if (run.pushStarted) {
      // The push started: the backend may have been written, so the backup of what it held before stays, whatever happened next.
      run.workdir?.removeWork();
      run.workdir?.finish();
      const ran = run.unchanged ? "The backend is unchanged" : run.pushed ? "The push ran" : "The push was started (check the backend with terraform state pull)";
      io.stderr(`error: ${(e as Error).message}\n${ran}: the state before it is kept in ${run.backup}.\n`);
      // 2 says the backend is untouched: only when it was read back so.
      return run.unchanged ? 2 : 1;
    }
    const removed = run.workdir?.abort();
    const after = removed ? ` Removed ${removed}.` : "";
    if (e instanceof Interrupted || e instanceof ProbeInterrupted || (deps.signal?.aborted && !run.pushStarted)) {
      const step = e instanceof Interrupted ? e.step : e instanceof ProbeInterrupted ? `the verification plans: terraform version -json stopped by ${e.signal}` : "a Terraform command";
      io.stderr(`error: interrupted (${step}), before the push: nothing was pushed; the backend and the given files are untouched.${after}\n`);
      return interruptedExitCode(deps.signal, e);
    }
    if (e instanceof VerificationFailed) {
      io.stderr(`error: the verification failed: nothing was written or pushed.${after}\n${e.message}\n`);
      return 1;
    }
    if (e instanceof InputError || e instanceof Refusal || e instanceof WorkdirError || e instanceof TerraformError) {
      io.stderr(`error: ${e.message}\n${e instanceof WorkdirError ? "" : `The backend and the given files are untouched.${after}\n`}`);
      return 2;
    }
    throw e;
  }
}

/**
 * An interrupted run exits as every command does: 128 + the signal's number (130 SIGINT, 143 SIGTERM), the
 * signal the CLI aborted with, else the one that stopped the toolchain probe; an abort without a signal
 * (a library caller) counts as SIGINT.
 */
function interruptedExitCode(signal: AbortSignal | undefined, e: unknown): number {
  const named = (s: unknown): s is NodeJS.Signals => typeof s === "string" && s in os.constants.signals;
  const name = signal?.aborted && named(signal.reason) ? signal.reason : e instanceof ProbeInterrupted && named(e.signal) ? e.signal : "SIGINT";
  return 128 + os.constants.signals[name];
}

interface RunState {
  workdir?: { removeWork(): void; finish(): void; abort(): string | undefined };
  /** The push command has started: an interrupt no longer stops the run. */
  pushStarted?: boolean;
  /** Terraform wrote the backend: the output folder (and its backup) is kept whatever happens. */
  pushed?: boolean;
  /** A push that failed, and the backend read back as it was before it. */
  unchanged?: boolean;
  /** The backup of the state as read. */
  backup?: string;
}

export interface MigrationReport {
  readonly tool: "migrate-state";
  readonly stack: string;
  readonly read: { readonly from: string; readonly serial: number; readonly lineage: string; readonly terraformVersion?: string; readonly sha256: string };
  readonly backend: BackendIdentity;
  readonly moves: readonly PlannedMove[];
  /** Moved blocks whose source is not in the state. */
  readonly absent: readonly MovedBlock[];
  /** Of those, how many have their target in the state (applied already). */
  readonly applied: number;
  readonly terraformCalls: number;
  readonly state?: StateCheck;
  readonly plan?: PlanComparison & { readonly mode: "offline" | "online"; readonly excluded: readonly string[]; readonly rows: number };
  readonly files?: { readonly dir: string; readonly migrated: { path: string; sha256: string }; readonly original: { path: string; sha256: string } };
  /** Recorded (on disk, synced) before `terraform state push` runs: a report that has it and no `pushed` is of a run that ended during the push. */
  readonly pushStarted?: { readonly at: string; readonly serial: number; readonly lineage: string };
  readonly pushed?: { readonly serial: number; readonly lineage: string; readonly note: string };
  readonly nothingToDo?: boolean;
}

async function migrate(o: Options, io: CliIo, deps: Deps, runState: RunState): Promise<MigrationReport> {
  const run = await prepare(o, io, deps, runState);
  const { w, work, tf, progress } = run;

  // 1. The state.
  const { text, original, read, store } = await readState(o, run);

  // 2. The moves, by Terraform, on a copy.
  const { moves, absent, applied } = planMoves(original, run.moved);
  const base = { tool: "migrate-state" as const, stack: o.stack, read, backend: run.backend.identity, moves, absent, applied, terraformCalls: 0 };
  if (moves.length === 0) return { ...base, nothingToDo: true };
  await progress("move", `moving ${moves.length} object(s) with terraform state mv on a copy`);
  const copyDir = path.join(work, "copy");
  fs.mkdirSync(copyDir, { mode: 0o700 });
  const originalCopy = path.join(copyDir, "original.tfstate");
  const migratedCopy = path.join(copyDir, "migrated.tfstate");
  fs.writeFileSync(originalCopy, text, { mode: 0o600 });
  fs.writeFileSync(migratedCopy, text, { mode: 0o600 });
  const calls = await moveInPlace(tf, migratedCopy, moves, copyDir);
  const migratedText = fs.readFileSync(migratedCopy, "utf8");
  const migrated = parseStateText(migratedText);
  if (!migrated) throw new VerificationFailed(`the copy Terraform wrote is not a state of format 4: ${migratedCopy}`);

  // 3. The verification: the state itself, then Terraform's plan against both.
  const state = checkMigratedState(original, migrated, moves, calls);
  if (!state.ok) throw new VerificationFailed(`the copy is not the same state at the new addresses:\n${state.problems.map((p) => `  - ${p}`).join("\n")}`);
  await progress("verify", `verifying: ${o.online ? "online" : "offline"} plans against the state as read and against the copy`);
  const plan = await verifyPlans(o, io, deps, run.env, w, work, originalCopy, migratedCopy, moves, state.dependenciesCleared);

  // 4. The files: the migrated state and the original, as a backup.
  await progress("write", `writing ${path.relative(io.cwd, w.dir) || w.dir}`);
  // From the checks to the end, an interrupt ends the run (130/143), never exit 0: nothing of it is kept (main's abort).
  checkpoint({ signal: deps.signal }, "the write (not started)");
  const migratedFile = path.join(w.dir, "migrated.tfstate");
  const originalFile = path.join(w.dir, "original.tfstate");
  writeDurably(originalFile, text);
  writeDurably(migratedFile, migratedText);
  const report: MigrationReport = {
    ...base,
    terraformCalls: calls,
    state,
    plan,
    files: { dir: w.dir, migrated: { path: migratedFile, sha256: sha256(migratedText) }, original: { path: originalFile, sha256: read.sha256 } },
  };
  writeReport(w.dir, report);
  // The writes are synchronous: a signal that came during them is handled (the abort) once the event loop turns.
  await new Promise((resolve) => setImmediate(resolve));
  await deps.onStep?.("written");
  checkpoint({ signal: deps.signal }, "after the write: the files it wrote are not kept");
  if (!o.push) return report;

  // 5. The push: under the backend's lock, only onto the state read in step 1.
  return push(run, store!, report, original, migrated, migratedFile, originalFile);
}

/** A run, once its inputs are checked and its output folder is open. */
interface Prepared {
  readonly env: NodeJS.ProcessEnv;
  readonly io: CliIo;
  readonly deps: Deps;
  readonly runState: RunState;
  /** The given --state, resolved. @default - none: the backend's state */
  readonly snapshotPath?: string;
  /** Its text, read before the output folder is opened. */
  readonly snapshotText?: string;
  readonly moved: readonly MovedBlock[];
  readonly backend: ReturnType<typeof backendOf>;
  readonly backendConfig?: string;
  readonly w: ReturnType<typeof openWorkdir>;
  /** The run's scratch folder in the output folder, removed at the end. */
  readonly work: string;
  readonly tf: ReturnType<typeof stateTerraform>;
  readonly progress: (step: Step, text: string) => Promise<void>;
}

/** Checks the inputs, synthesizes the stack (its moved blocks and backend) and opens the output folder: refused before anything is written. */
async function prepare(o: Options, io: CliIo, deps: Deps, runState: RunState): Promise<Prepared> {
  const env = deps.env ?? process.env;
  const environments = deps.environments ?? configuredEnvironments;
  const config = environments[o.stack];
  if (!config) throw new InputError(`unknown stack '${o.stack}'; the stacks are: ${Object.keys(environments).join(", ")}`);
  const resolve = (p: string) => path.resolve(io.cwd, p);
  const progress = async (step: Step, text: string) => {
    io.stderr(`migrate-state: ${text}\n`);
    await deps.onStep?.(step);
  };
  const snapshotPath = o.state ? resolve(o.state) : undefined;
  const snapshotText = snapshotPath ? readSnapshot(o.state!, snapshotPath) : undefined;
  for (const [flag, p] of [["--modules", o.modules], ["--data", o.data]] as const) {
    if (p && !fs.existsSync(resolve(p))) throw new InputError(`${flag} ${p}: not found`);
  }

  // The stack as the sources synthesize it now: its moved blocks and its backend.
  const fresh = synthesizeFirst(o.stack, { environments, reviewEnvironments: {} });
  if (fresh.refused) throw new InputError(`stack '${o.stack}' cannot be synthesized:\n${fresh.refused}`);
  const stackJson = JSON.parse(fresh.text) as { moved?: MovedBlock[]; terraform?: { backend?: Record<string, Record<string, unknown>> } };
  const moved = (stackJson.moved ?? []).map((m) => ({ from: m.from, to: m.to }));
  refuseMovesTerraformRefuses(fresh.text, o.stack);
  const backend = backendOf(stackJson, resolve(path.join("cdktf.out", "stacks", o.stack)));
  const backendConfig = o.backendConfig ? await checkBackendConfigFile(resolve(o.backendConfig), backend.identity) : undefined;

  // The output folder: refused before anything is written.
  const outDir = resolve(o.out ?? path.join("cdktf.out", "migrate-state", o.stack, new Date().toISOString().replace(/[-:]|\.\d+/g, "")));
  const w = openWorkdir({
    tool: "migrate-state",
    dir: outDir,
    shown: o.out ?? path.relative(io.cwd, outDir),
    checkout: io.cwd,
    inputs: [
      ...(snapshotPath ? [{ flag: "--state", path: snapshotPath }] : []),
      ...(backend.identity.type === "local" ? [{ flag: "backend.path", path: backend.identity.path }] : []),
      ...(o.modules ? [{ flag: "--modules", path: resolve(o.modules) }] : []),
      ...(o.data ? [{ flag: "--data", path: resolve(o.data) }] : []),
    ],
    reserved: [{ path: resolve(path.join("cdktf.out", "stacks")), why: "cdktf synth replaces what is there" }],
    owned: OWNED,
    backups: [{ name: "original.tfstate", what: backupOf(outDir) }],
    env,
    stderr: io.stderr,
  });
  const work = path.join(w.dir, "work");
  runState.workdir = { removeWork: () => fs.rmSync(work, { recursive: true, force: true }), finish: () => w.finish(), abort: () => w.abort() };
  fs.mkdirSync(work, { mode: 0o700 });
  const bin = findOnPath("terraform", env.PATH ?? "");
  if (!bin) throw new InputError("no terraform on the PATH");
  // Terraform's temporary files go to the run's own temporary folder (lib/workdir), which goes with the run.
  const tf = stateTerraform(bin, w.childEnv(env), deps.signal, w.adopt);
  return { env, io, deps, runState, snapshotPath, snapshotText, moved, backend, backendConfig, w, work, tf, progress };
}

/** Step 1: the state, from the snapshot or the backend; with --push and a snapshot, the backend must hold that same state. */
async function readState(o: Options, run: Prepared) {
  const { snapshotPath, backend, tf } = run;
  await run.progress("read", snapshotPath ? `reading ${o.state}` : `reading the state from ${describeBackend(backend.identity)}`);
  let store: Backend | undefined;
  const backendWork = path.join(run.work, "backend");
  if (!snapshotPath || o.push) store = await openBackend(tf, backendWork, backend, run.backendConfig);
  const text = run.snapshotText ?? (await store!.read());
  const source = snapshotPath ? o.state! : describeBackend(backend.identity);
  if (text === null || !text.trim()) throw new Refusal(`${source} holds no state: there is nothing to migrate (migrate-state never creates a state)`);
  const original = parseStateText(text);
  if (!original) throw new InputError(`${source} is not a Terraform state of format 4 with a lineage and a serial`);
  const read = { from: source, serial: original.serial!, lineage: original.lineage!, terraformVersion: original.terraform_version, sha256: sha256(text) };
  if (snapshotPath && o.push) {
    // Pushing a snapshot: it must be what the backend holds now.
    const current = await store!.pull();
    const backendState = current === null ? undefined : parseStateText(current);
    refuseChangedBackend(backendState, original, backend.identity, SNAPSHOT);
  }
  return { text, original, read, store };
}

/** Step 5: the push, under the backend's lock, only onto the state read in step 1; then what the backend holds, checked. */
async function push(run: Prepared, store: Backend, written: MigrationReport, original: RawState, migrated: RawState, migratedFile: string, originalFile: string): Promise<MigrationReport> {
  const { backend, tf, runState, io, deps, w } = run;
  await run.progress("lock", `taking the lock of ${describeBackend(backend.identity)}`);
  const hold = await store.lock();
  try {
    const current = await store.pull();
    refuseChangedBackend(current === null ? undefined : parseStateText(current), original, backend.identity, STEP_1);
    await run.progress("push", `pushing serial ${migrated.serial} (lineage ${migrated.lineage})`);
    checkpoint(tf, "the push (not started)");
    // Without the lock, another Terraform may write between the check above and the push, and the push would replace it.
    const lostBefore = hold.lost();
    if (lostBefore) {
      throw new Refusal(
        `the backend's lock was lost before the push: terraform console, which held it, ${lostBefore}. Nothing was pushed ` +
          "(without the lock, another Terraform could write the state between the check and the push). Run migrate-state again",
      );
    }
    // On disk before Terraform runs: a run that dies during the push leaves a report that says it started (and its backup is kept).
    writeReport(w.dir, { ...written, pushStarted: { at: new Date().toISOString(), serial: migrated.serial!, lineage: migrated.lineage! } });
    runState.pushStarted = true;
    runState.backup = originalFile;
    const pushing = store.push(migratedFile, hold);
    await deps.onStep?.("pushing");
    const pushed = await pushing;
    if (pushed.code !== 0) await refusedPush(run, store, (pushed.stderr || pushed.stdout).trim(), original, migrated, originalFile);
    runState.pushed = true;
    const after = await store.pull({ uninterruptible: true }).catch(() => null);
    const now = after === null ? undefined : parseStateText(after);
    const problems = now ? pushedProblems(now, migrated) : ["the backend returns no state after the push"];
    if (problems.length) {
      throw new VerificationFailed(`the push ran, but the backend does not hold the migrated state (the backup is ${originalFile}):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    }
    const lostDuring = hold.lost();
    if (lostDuring) {
      throw new VerificationFailed(
        `the push ran and ${describeBackend(backend.identity)} holds the migrated state (serial ${now!.serial}), but the backend's lock was lost while it ran: ` +
          `terraform console, which held it, ${lostDuring}. Another Terraform could have written the state in that time, and the push replaced what it wrote: ` +
          "check the backend's history (an S3 bucket's object versions) before the next apply",
      );
    }
    const note =
      now!.serial === migrated.serial
        ? `the backend holds serial ${now!.serial}, as pushed`
        : `the backend holds serial ${now!.serial} (\`terraform state push\` writes the pushed state once more, one serial higher)`;
    const report: MigrationReport = { ...written, pushed: { serial: now!.serial!, lineage: now!.lineage!, note } };
    writeReport(w.dir, report);
    if (deps.signal?.aborted) io.stderr("migrate-state: the interrupt came during the push; the push was let finish and is complete\n");
    return report;
  } finally {
    const warning = await hold.release();
    if (warning) io.stderr(`warning: ${warning}\n`);
  }
}

/** A push Terraform reported as failed: what the backend holds now, read back, says what the run reports (never a guess). */
async function refusedPush(run: Prepared, store: Backend, said: string, original: RawState, migrated: RawState, originalFile: string): Promise<never> {
  const where = describeBackend(run.backend.identity);
  const found = afterFailedPush(await store.pull({ uninterruptible: true }).catch((e: Error) => e), original, migrated);
  if (found.holds === "read") {
    run.runState.unchanged = true;
    throw new Refusal(`Terraform refused the push; ${where} still holds the state step 1 read (${found.what}, read back with terraform state pull). Terraform said:\n${said}`);
  }
  if (found.holds === "migrated") {
    run.runState.pushed = true;
    throw new VerificationFailed(`Terraform reported the push as failed, but ${where} holds the migrated state (${found.what}): the push landed. Terraform said:\n${said}`);
  }
  throw new VerificationFailed(
    `Terraform reported the push as failed, and ${where} holds neither the state step 1 read nor the migrated state (${found.what}). ` +
      `If it lost the state, restore it from ${originalFile} with terraform state push. Terraform said:\n${said}`,
  );
}

/** The --state snapshot's text, read before anything is written: one message for a missing, unreadable or non-state file. */
function readSnapshot(given: string, file: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "ENOENT") throw new InputError(`state file not found: ${file}`);
    if (err.code === "EISDIR") throw new InputError(`--state ${given}: ${file} is a folder; give a state file (a snapshot of format 4, as terraform state pull writes it)`);
    throw new InputError(`--state ${given}: cannot read ${file}: ${err.message}`);
  }
  if (text.trim() && !parseStateText(text)) throw new InputError(`${given} is not a Terraform state of format 4 with a lineage and a serial`);
  return text;
}

/** What an earlier run's original.tfstate in `dir` is, from its report.json: for the refusal to reuse the folder. */
function backupOf(dir: string): string {
  let earlier: Partial<MigrationReport> | undefined;
  for (const file of [path.join(dir, "report.json"), path.join(dir, EARLIER, "report.json")]) {
    try {
      earlier = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<MigrationReport>;
      break;
    } catch {
      earlier = undefined;
    }
  }
  const serial = earlier?.read?.serial;
  if (earlier?.tool !== "migrate-state" || serial === undefined) return "the backup of the state an earlier run read (its report.json is missing or unreadable)";
  if (earlier.pushed) return `the backup of the state before an earlier push (serial ${serial}, pushed as ${earlier.pushed.serial})`;
  if (earlier.pushStarted) {
    return (
      `the backup of the state before a push that started at ${earlier.pushStarted.at} (serial ${serial}, pushing ${earlier.pushStarted.serial}) ` +
      "and did not report its end (terraform state pull shows what the backend holds now)"
    );
  }
  return `the backup of serial ${serial} as an earlier run read it (not pushed)`;
}

async function verifyPlans(
  o: Options,
  io: CliIo,
  deps: Deps,
  env: NodeJS.ProcessEnv,
  w: Workdir,
  work: string,
  originalCopy: string,
  migratedCopy: string,
  moves: readonly PlannedMove[],
  cleared: readonly string[],
): Promise<NonNullable<MigrationReport["plan"]>> {
  const args = (state: string, out: string) => [
    "--stack",
    o.stack,
    "--state",
    state,
    "--out",
    out,
    "--json",
    ...(o.online ? [] : ["--offline"]),
    ...(o.modules ? ["--modules", o.modules] : []),
    ...(o.data ? ["--data", o.data] : []),
    ...o.exclude.flatMap((a) => ["--exclude", a]),
  ];
  const one = async (label: string, state: string, out: string) => {
    let stdout = "";
    let stderr = "";
    // plan-check's progress goes on, named by plan; the rest of its stderr is its message, for an error below.
    // (Not its verdict line: the gate's verdict is read from its JSON report below.)
    const stepOrText = (t: string) => {
      if (!t.startsWith("plan-check: ")) stderr += t;
      else if (!/^plan-check: (PASS|FAIL) in /.test(t)) io.stderr(`migrate-state: plan against ${label}: ${t.slice("plan-check: ".length)}`);
    };
    const code = await planCheck(args(state, out), { cwd: io.cwd, stdout: (t) => (stdout += t), stderr: stepOrText }, { environments: deps.environments, env });
    checkpoint({ signal: deps.signal }, "the verification plans");
    if (code === 2) throw new InputError(`the verification plan against ${label} could not run:\n${stderr.trim()}`);
    if (!stdout) throw new VerificationFailed(`the verification plan against ${label} failed:\n${stderr.trim()}`);
    const report = JSON.parse(stdout) as PlanCheckReport & { failureTexts: string[] };
    const errors = report.failures.filter((f) => f.kind === "error");
    if (errors.length) {
      const texts = report.failureTexts.filter((_t, n) => report.failures[n].kind === "error");
      throw new VerificationFailed(
        `the plan against ${label} stopped on an error, so the plans cannot be compared:\n${texts.map((t) => `  - ${t}`).join("\n")}\n` +
          `Leave the object out of both plans with --exclude <address> (plan-check's report names it), then run again.`,
      );
    }
    const planJson = JSON.parse(fs.readFileSync(path.join(out, "stack", "plan.json"), "utf8"));
    return { report, planJson };
  };
  const plans = Promise.all([one("the state as read", originalCopy, path.join(work, "plan-original")), one("the copy", migratedCopy, path.join(work, "plan-migrated"))]);
  const [before, after] = await stoppedOnAbort(plans, w, deps.signal);
  // Agreeing plans are not enough: a wrong moves entry plans the same replace before and after (gate.ts).
  const failing = gateFailures(after.report);
  if (failing.length) throw new VerificationFailed(gateRefusal(failing));
  const comparison = comparePlansAfterMigration(before.planJson, after.planJson, moves, cleared);
  if (!comparison.ok) {
    throw new VerificationFailed(`the plan against the copy is not the plan against the original without its moves:\n${comparison.problems.map((p) => `  - ${p}`).join("\n")}`);
  }
  return { ...comparison, mode: o.online ? "online" : "offline", excluded: after.report.excluded.map((e) => e.address), rows: after.report.rows.length };
}

/** Written and synced (the file, then its folder): a crash or power loss right after leaves it whole. */
function writeDurably(file: string, text: string): void {
  const fd = fs.openSync(file, "w", 0o600);
  try {
    fs.writeFileSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  const dir = fs.openSync(path.dirname(file), "r");
  try {
    fs.fsyncSync(dir);
  } finally {
    fs.closeSync(dir);
  }
}

/**
 * The verification plans, stopped by an interrupt: plan-check runs in this process without its own
 * signal handling, so the abort stops its runs' Terraform processes and removes their folders
 * (lib/workdir), and the run goes on to its refusal at once. An interrupted plan-check never returns.
 */
async function stoppedOnAbort<T>(plans: Promise<T>, w: Workdir, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return plans;
  let onAbort: () => void = () => undefined;
  const stopped = new Promise<never>((_resolve, reject) => {
    onAbort = () => {
      void w.stopNested().then((notes) => {
        const pids = notes.flatMap((n) => /\(pid ([\d, ]+)\)/.exec(n)?.[1].split(", ") ?? []);
        reject(new Interrupted(`the verification plans${pids.length ? `: stopped their Terraform, pid ${pids.join(", ")}` : ""}`));
      });
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  plans.catch(() => undefined); // after an interrupt, its outcome no longer matters
  stopped.catch(() => undefined); // an interrupt that comes as the plans end: the run goes on to its next checkpoint
  try {
    return await Promise.race([plans, stopped]);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

function writeReport(dir: string, report: MigrationReport): void {
  writeDurably(path.join(dir, "report.json"), `${JSON.stringify(report, null, 2)}\n`);
  writeDurably(path.join(dir, "report.md"), renderMarkdown(report));
}

const code = (s: string) => `\`${s}\``;

function dependencyNote(p: PlanComparison): string {
  const parts = [`the plan against the copy recomputes ${p.dependenciesRecomputed.length}, at the new addresses (no dependency in it names an old address)`];
  if (p.dependenciesNoneConfigured.length) parts.push(`${p.dependenciesNoneConfigured.length} have none in the configuration (${p.dependenciesNoneConfigured.map(code).join(", ")})`);
  if (p.dependenciesAtApply.length) parts.push(`${p.dependenciesAtApply.length} belong to objects the plan changes, whose apply writes them (${p.dependenciesAtApply.map(code).join(", ")})`);
  if (p.dependenciesNotPlanned.length) parts.push(`${p.dependenciesNotPlanned.length} are left out of the plan (${p.dependenciesNotPlanned.map(code).join(", ")}): the next plan that includes them recomputes them`);
  return parts.join("; ");
}

/** Moved blocks without a source, as the state shows them: a target there is a move applied; neither is not proof of one. */
const absentNote = (r: MigrationReport) =>
  [
    ...(r.applied ? [`${r.applied} applied already, the target in the state`] : []),
    ...(r.absent.length > r.applied ? [`${r.absent.length - r.applied} with neither source nor target in it: not created yet, optional, or not this stack's state`] : []),
  ].join("; ");

export function renderMarkdown(r: MigrationReport): string {
  const out: string[] = [];
  out.push(`## migrate-state: stack ${code(r.stack)}`, "");
  out.push(`Read ${r.read.from}: serial ${r.read.serial}, lineage ${code(r.read.lineage)}${r.read.terraformVersion ? `, written by Terraform ${r.read.terraformVersion}` : ""}.`);
  if (r.nothingToDo) {
    out.push("", `Nothing to migrate: no moved block of the stack has its source in this state (${r.absent.length} moved block(s): ${absentNote(r)}). Nothing was written.`, "");
    return out.join("\n");
  }
  const instances = r.moves.flatMap((m) => m.instances);
  out.push("", `### Moved by Terraform (${instances.length} instance(s), ${r.terraformCalls} \`terraform state mv\` call(s) on a copy)`, "");
  for (const i of instances) out.push(`- ${code(i.from)} → ${code(i.to)}`);
  if (r.absent.length) out.push("", `${r.absent.length} moved block(s) have no source in this state (${absentNote(r)}): nothing to do for them.`);
  if (r.state) {
    const s = r.state;
    out.push(
      "",
      "### Verification",
      "",
      `- **the state**: ${s.moved.length} object(s) at their new address and ${s.kept} kept at theirs (plus ${s.dataSources} data source instance(s)${s.deposed ? ` and ${s.deposed} deposed object(s)` : ""}), ` +
        "each identical to the state as read: attributes, sensitive paths, private data, schema version; nothing added or lost; the same lineage, outputs and check results.",
      `- **the serial**: ${s.serial.before} → ${s.serial.after}: Terraform writes the state once per \`state mv\` (${r.terraformCalls} call(s)).` +
        (s.terraformVersion.before !== s.terraformVersion.after ? ` It records itself as the writer: terraform_version ${s.terraformVersion.before} → ${s.terraformVersion.after}.` : ""),
      `- **dependencies**: \`state mv\` keeps a moved object's own list and empties the list of every object that named a moved address ` +
        `(${s.dependenciesCleared.length} here); Terraform recomputes them from the configuration at the next plan` +
        (r.plan ? `: ${dependencyNote(r.plan)}` : "") +
        ". The next apply writes them.",
    );
  }
  if (r.plan) {
    const p = r.plan;
    out.push(
      `- **the plan** (${p.mode}, plan-check's workspace): against the copy, no move left; at every one of ${p.equal} address(es) the same actions and values as the plan against the state as read, which showed the ${p.movesBefore} move(s); ` +
        "and it passes the gate (plan-check's judge, with the stack's allowDestroy, allowReplacement and keepUnplannable)." +
        (p.excluded.length ? ` Left out of both plans: ${p.excluded.map(code).join(", ")} and what depends on it.` : ""),
    );
  }
  if (r.files) {
    out.push("", "### Files", "", `- migrated state: ${code(r.files.migrated.path)} (sha256 ${r.files.migrated.sha256.slice(0, 12)}…)`, `- original, as read (the backup): ${code(r.files.original.path)} (sha256 ${r.files.original.sha256.slice(0, 12)}…)`);
    out.push("", "Both hold secrets in clear, as the state does: keep them out of a repository.");
  }
  out.push("", "### Backend", "");
  if (r.pushed) out.push(`Pushed to ${describeBackend(r.backend)} under its lock: ${r.pushed.note}, lineage ${code(r.pushed.lineage)}.`);
  else if (r.pushStarted) {
    out.push(
      `A push of serial ${r.pushStarted.serial} to ${describeBackend(r.backend)} started at ${r.pushStarted.at}, under its lock, and this report was not rewritten after it: ` +
        "the run ended during the push, or the push failed. `terraform state pull` shows what the backend holds; `original.tfstate` is the state before the push.",
    );
  } else out.push(`Not pushed (${describeBackend(r.backend)} is unchanged). With --push, migrate-state does the same again and writes the result there under the backend's lock.`);
  out.push("");
  return out.join("\n");
}

/** The command as a process of its own: its arguments and I/O, SIGINT and SIGTERM aborting the run. */
export function runAsProcess(deps: Omit<Deps, "signal"> = {}): void {
  const controller = new AbortController();
  for (const s of ["SIGINT", "SIGTERM"] as const) process.on(s, () => controller.abort(s));
  main(process.argv.slice(2), processIo(), { ...deps, signal: controller.signal }).then(
    (code) => (process.exitCode = code),
    (e) => {
      process.stderr.write(`${(e as Error).stack ?? e}\n`);
      process.exitCode = 3;
    },
  );
}

if (require.main === module) runAsProcess();
