// `npm run cdktf -- <args>`, `npm run diff`, `npm run deploy`: the cdktf CLI,
// after a check that each stack it plans has its state (commands/cdktf/state-check.ts),
// and that no stack it destroys is protected (commands/cdktf/destroy-check.ts);
// after a successful deploy, `verify --wait` of each deployed stack (--no-verify: not).
//   node dist/commands/cdktf/index.js <cdktf arguments> [--no-verify]
// Exit codes: cdktf's own, or 2 when the check refuses (cdktf does not run), or
// verify's when the deploy succeeded and verify did not pass.
import "../../stacks/startup"; // first: the compile cache and deferred requires apply to what loads after it
import { spawnSync } from "child_process";
import * as os from "os";
import * as path from "path";
import { EnvironmentConfig } from "../../config/environment";
import { environments as configured } from "../../config/environments";
import { CliIo, processIo } from "../../lib/cli";
import { WorkdirError } from "../../lib/workdir/options";
import { runInPrivateTmp } from "../../lib/workdir/private-tmp";
import { ApplyRunner, deployPlan } from "./deploy-plan";
import { DESTROY, Synthesizer, destroyRefusal, synthesizeInMemory } from "./destroy-check";
import { StateReader, awsCli, checkState, hclRootWarning } from "./state-check";
import { skipsSynth, staleRefusal } from "./skip-synth";

/** cdktf commands that plan against the state; `apply` and `plan` are aliases. */
const PLANS = ["diff", "plan", "deploy", "apply", "watch"];
const DEPLOYS = ["deploy", "apply", "watch"];
/** cdktf options that take one value, and those that take every value up to the next option. */
const ONE_VALUE = ["-a", "--app", "-o", "--output", "--outputs-file", "--parallelism", "--terraform-parallelism", "--log-level", "--log-file-directory", "--experimental-provider-schema-cache-path"];
const MANY_VALUES = ["--var", "--var-file"];

interface Invocation {
  command?: string;
  stacks: string[];
  output?: string;
}

/** The command, the stack patterns and `--output` of a cdktf command line (yargs' rules). */
export function parseInvocation(argv: readonly string[]): Invocation {
  const positional: string[] = [];
  let output: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    if (ONE_VALUE.includes(flag)) {
      const value = inline ?? argv[++i];
      if (flag === "-o" || flag === "--output") output = value;
    } else if (MANY_VALUES.includes(flag)) {
      if (inline === undefined) while (i + 1 < argv.length && !argv[i + 1].startsWith("-")) i++;
    } else if (!arg.startsWith("-")) positional.push(arg);
  }
  return { command: positional[0], stacks: positional.slice(1), output };
}

/** cdktf matches stack ids with globs (`prod*`). */
const matches = (pattern: string, id: string) =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`).test(id);

export interface Runner {
  /** Runs cdktf with the arguments; returns its exit code. `stackFolders`: where its Terraform runs (stackFolders). */
  cdktf(argv: readonly string[], stackFolders: readonly string[]): number;
  /** Runs `verify` with the arguments; returns its exit code. A Runner without it verifies nothing. */
  verify?(argv: readonly string[]): number;
}

const cdktfBin = () => path.join(path.dirname(require.resolve("cdktf-cli/package.json")), "bundle", "bin", "cdktf");

/**
 * Runs the cdktf CLI (`script`: the tests give a fake one) with the arguments, its output to the terminal; returns its
 * exit code. It, and the Terraform it runs, get TMPDIR (TMP, TEMP) a private folder `zivohealth-cdktf-XXXXXX` in the
 * caller's, removed when it ends, however it ends (lib/workdir/private-tmp.ts). Once it has ended, the
 * `terraform-provider-*` left orphaned in `stackFolders` (where its Terraform runs) are killed.
 */
export function runCdktf(argv: readonly string[], script = cdktfBin(), env: NodeJS.ProcessEnv = process.env, stackFolders: readonly string[] = []): number {
  return runInPrivateTmp("cdktf", process.execPath, [script, ...argv], { env: { ...env, CHECKPOINT_DISABLE: "1" }, orphansIn: stackFolders });
}

/** cdktf commands that run Terraform in a stack's folder: those that plan, destroy, and `output`. */
const RUN_TERRAFORM = [...PLANS, DESTROY, "output"];

/**
 * The folders the cdktf CLI runs Terraform in for `argv`: `<outdir>/stacks/<stack>` of each stack it selects (every
 * configured one when it names none); none for a command that runs no Terraform (synth, get).
 */
export function stackFolders(argv: readonly string[], cwd: string, names: readonly string[]): string[] {
  const { command, stacks, output } = parseInvocation(argv);
  if (command === undefined || !RUN_TERRAFORM.includes(command)) return [];
  const outdir = path.resolve(cwd, output ?? process.env.CDKTF_OUTDIR ?? "cdktf.out");
  return names.filter((n) => stacks.length === 0 || stacks.some((p) => matches(p, n))).map((n) => path.join(outdir, "stacks", n));
}

export const realRunner: Runner = {
  cdktf: (argv, folders) => runCdktf(argv, undefined, undefined, folders),
  verify(argv) {
    // verify, built beside this command in dist/commands (npm run deploy builds first): run, not imported.
    const run = spawnSync(process.execPath, [path.join(__dirname, "..", "verify", "index.js"), ...argv], { stdio: "inherit" });
    if (run.error) throw run.error;
    return run.status ?? 128 + (run.signal ? os.constants.signals[run.signal] : 0);
  },
};

/** `deploy <stack> --plan <folder>` (commands/cdktf/deploy-plan.ts): the folder, or undefined without --plan; throws on a bad use. */
export function planFolder(argv: readonly string[]): { folder: string; rest: string[] } | undefined {
  const at = argv.findIndex((a) => a === "--plan" || a.startsWith("--plan="));
  if (at === -1) return undefined;
  const folder = argv[at] === "--plan" ? argv[at + 1] : argv[at].slice("--plan=".length);
  if (!folder || folder.startsWith("-")) throw new Error("--plan needs the folder plan-check wrote");
  return { folder, rest: argv.filter((_a, n) => n !== at && !(argv[at] === "--plan" && n === at + 1)) };
}

/** Checks, then runs cdktf; returns the exit code. `synth`: the in-memory synthesis destroy's check reads (the tests give their own). */
export function main(
  argv: readonly string[],
  io: CliIo,
  runner: Runner = realRunner,
  environments: Readonly<Record<string, EnvironmentConfig>> = configured,
  reader: StateReader = awsCli,
  applyRunner?: ApplyRunner,
  synth: Synthesizer = synthesizeInMemory,
): number {
  const verifying = !argv.includes(NO_VERIFY);
  argv = argv.filter((a) => a !== NO_VERIFY);
  let plan: ReturnType<typeof planFolder>;
  try {
    plan = planFolder(argv);
  } catch (e) {
    io.stderr(`error: ${(e as Error).message}\n`);
    return 2;
  }
  if (plan) {
    const { command, stacks } = parseInvocation(plan.rest);
    const extra = plan.rest.filter((a) => a.startsWith("-"));
    if (command !== "deploy" || stacks.length !== 1 || extra.length > 0 || !(stacks[0] in environments)) {
      io.stderr(
        `error: --plan goes with deploy and one stack, alone: npm run deploy -- --plan <plan-check folder> ` +
          `(got: ${plan.rest.join(" ")}; stacks: ${Object.keys(environments).join(", ")})\n`,
      );
      return 2;
    }
    const warning = hclRootWarning(stacks[0], environments[stacks[0]], path.resolve(io.cwd, process.env.CDKTF_OUTDIR ?? "cdktf.out"));
    if (warning) io.stderr(`${warning}\n`);
    const code = refusingBadTmpdir(io, () => deployPlan(stacks[0], plan.folder, io, { environments, runner: applyRunner }));
    return verifying ? verifyAfterDeploy(code, "deploy", stacks, io, runner, environments) : code;
  }
  const { command, stacks, output } = parseInvocation(argv);
  if (command !== undefined && (PLANS.includes(command) || command === DESTROY)) {
    const outdir = path.resolve(io.cwd, output ?? process.env.CDKTF_OUTDIR ?? "cdktf.out");
    const names = Object.keys(environments);
    const selected = stacks.length === 0 ? names : names.filter((n) => stacks.some((p) => matches(p, n)));
    const unknown = stacks.filter((p) => !names.some((n) => matches(p, n)));
    if (unknown.length > 0) {
      io.stderr(`error: no stack ${unknown.map((s) => `'${s}'`).join(", ")} in environments (config/environments.ts); stacks: ${names.join(", ")}\n`);
      return 2;
    }
    const refusals: string[] = [];
    const skipping = skipsSynth(argv);
    for (const name of selected) {
      const stale = skipping ? staleRefusal(name, outdir) : undefined;
      if (stale) refusals.push(stale);
      if (command === DESTROY) {
        // No state check: a missing state is nothing to destroy, not a second copy to create.
        const refusal = destroyRefusal(name, environments[name], synth);
        if (refusal) refusals.push(refusal);
        continue;
      }
      const result = checkState(name, environments[name], outdir, reader);
      for (const note of result.notes) io.stderr(`${note}\n`);
      if (result.refusal) refusals.push(result.refusal);
      const warning = DEPLOYS.includes(command) ? hclRootWarning(name, environments[name], outdir) : undefined;
      if (warning && !result.refusal) io.stderr(`${warning}\n`);
    }
    if (refusals.length > 0) {
      io.stderr(refusals.map((r) => `error: ${r}\n`).join(""));
      return 2;
    }
  }
  const code = refusingBadTmpdir(io, () => runner.cdktf(argv, stackFolders(argv, io.cwd, Object.keys(environments))));
  return verifying ? verifyAfterDeploy(code, command, stacks, io, runner, environments) : code;
}

/** `run`'s exit code; 2, said on stderr, when a child's private temporary folder cannot be made (a TMPDIR that is missing or not writable). */
function refusingBadTmpdir(io: CliIo, run: () => number): number {
  try {
    return run();
  } catch (e) {
    if (!(e instanceof WorkdirError)) throw e;
    io.stderr(`error: ${e.message}\n`);
    return 2;
  }
}

/** Skips verify after a deploy; not passed to cdktf. */
export const NO_VERIFY = "--no-verify";
/** How long verify waits after a deploy for the service to settle. */
export const VERIFY_WAIT_SECONDS = 600;

/** After a successful deploy or apply: `verify --wait` of each stack it selected (README, "Verify"). */
function verifyAfterDeploy(
  code: number,
  command: string | undefined,
  stacks: readonly string[],
  io: CliIo,
  runner: Runner,
  environments: Readonly<Record<string, EnvironmentConfig>>,
): number {
  if (code !== 0 || !runner.verify || (command !== "deploy" && command !== "apply")) return code;
  const names = Object.keys(environments);
  let worst = 0;
  for (const name of stacks.length === 0 ? names : names.filter((n) => stacks.some((p) => matches(p, n)))) {
    io.stderr(`verify: checking ${name} after the deploy, waiting up to ${VERIFY_WAIT_SECONDS} s (${NO_VERIFY} skips this)\n`);
    const verified = runner.verify(["--stack", name, "--wait", String(VERIFY_WAIT_SECONDS)]);
    if (verified !== 0) io.stderr(`verify: ${name} was deployed, but verify exited ${verified}: the table above says what to do\n`);
    worst = Math.max(worst, verified);
  }
  return worst;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2), processIo());
