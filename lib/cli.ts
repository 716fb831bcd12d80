// What the commands share: their I/O seam (tests call main
// without spawning), flag parsing, exit code 2 for bad input, a quiet exit
// when the reader of a pipe goes away, and judging only fresh synthesis
// (synthesizeFirst, refuseStaleOutput).
import * as fs from "fs";
import * as path from "path";
import { EnvironmentConfig } from "../config/environment";
import { environments as configuredEnvironments, reviewEnvironments as configuredReviewEnvironments } from "../config/environments";
import type { PolicyResult } from "../policy";
import type * as App from "../stacks/app";
import { PROJECT_ROOT, synthesisFreshness, synthesisSources } from "../stacks/synthesis-record";

/** The app, loaded on first use: cdktf and the provider bindings take ~0.3 s, and not every command synthesizes. */
const app = (): typeof App => require("../stacks/app") as typeof App;

/** Where a command writes, and what relative paths are resolved against. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readonly cwd: string;
}

/** Bad input: reported on stderr with exit code 2, nothing written. */
export class InputError extends Error {}

export interface ParsedFlags {
  /** Flags that take a value, by flag (`--state`). */
  readonly values: Readonly<Record<string, string>>;
  /** Boolean flags that were given (`--json`). */
  readonly flags: ReadonlySet<string>;
  readonly help: boolean;
}

/** A flag that may be given many times (`--exclude a --exclude b`): its values, and the other arguments for parseFlags. */
export function takeRepeated(argv: readonly string[], flag: string, what: string): { values: string[]; rest: string[] } {
  const values: string[] = [];
  const rest: string[] = [];
  for (let n = 0; n < argv.length; n++) {
    const a = argv[n];
    if (a === flag || a.startsWith(`${flag}=`)) {
      const v = a === flag ? argv[++n] : a.slice(flag.length + 1);
      if (!v || v.startsWith("--")) throw new InputError(`${flag} needs ${what}`);
      values.push(v);
    } else rest.push(a);
  }
  return { values, rest };
}

/**
 * `--flag value`, `--flag=value` (a following `--flag` is not a value), boolean flags, `--help`/`-h`.
 * A flag that takes one value, given twice, is refused: which one counts would be a guess.
 */
export function parseFlags(argv: readonly string[], valueFlags: readonly string[], booleanFlags: readonly string[]): ParsedFlags {
  const values: Record<string, string> = {};
  const flags = new Set<string>();
  let help = false;
  for (let n = 0; n < argv.length; n++) {
    const arg = argv[n];
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    if (valueFlags.includes(flag)) {
      const v = eq === -1 ? argv[++n] : arg.slice(eq + 1);
      if (v === undefined || v === "" || (eq === -1 && v.startsWith("--"))) throw new InputError(`${flag} needs a value`);
      if (values[flag] !== undefined) throw new InputError(`${flag} is given twice ('${values[flag]}' and '${v}'): it takes one value`);
      values[flag] = v;
    } else if (booleanFlags.includes(arg)) flags.add(arg);
    else if (arg === "--help" || arg === "-h") help = true;
    else if (arg.startsWith("-")) throw new InputError(`unknown option: ${arg}`);
    else throw new InputError(`unexpected argument: ${arg}`);
  }
  return { values, flags, help };
}

/**
 * Runs a command: `parse` turns argv into options (an InputError prints the
 * usage), `run` does the work and returns the exit code (an InputError is
 * reported without the usage). Both exit 2 on bad input.
 */
export function runCli<T>(
  argv: readonly string[],
  io: CliIo,
  usage: string,
  parse: (argv: readonly string[]) => T & { help: boolean },
  run: (options: T) => number,
): number {
  const options = parseOrAnswer(argv, io, usage, parse);
  if (typeof options === "number") return options;
  try {
    return run(options);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    io.stderr(`error: ${e.message}\n`);
    return 2;
  }
}

/** The options, or the exit code when parsing answered itself: the usage for --help (0) or bad input (2). */
export function parseOrAnswer<T>(
  argv: readonly string[],
  io: CliIo,
  usage: string,
  parse: (argv: readonly string[]) => T & { help: boolean },
): (T & { help: boolean }) | number {
  let options: T & { help: boolean };
  try {
    options = parse(argv);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    io.stderr(`error: ${e.message}\n${usage}`);
    return 2;
  }
  if (options.help) {
    io.stdout(usage);
    return 0;
  }
  return options;
}

/**
 * When the reader of stdout goes away (`| head`, `| jq` failing), stop quietly
 * with the exit code already decided instead of crashing on EPIPE.
 */
export function exitQuietlyOnEpipe(stream: NodeJS.WriteStream = process.stdout): void {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
    process.exit(process.exitCode ?? 0);
  });
}

/** The real process's I/O. */
export const processIo = (): CliIo => {
  exitQuietlyOnEpipe();
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    cwd: process.cwd(),
  };
};

// ---------------------------------------------------------------- judging fresh synthesis only

export { PROJECT_ROOT, synthesisSources };

/**
 * Refuses a stack's cdk.tf.json inside `<cwd>/cdktf.out` that is not what the sources synthesize now, by
 * the record npm run synth writes beside it (stacks/synthesis-record.ts: sources and output by content).
 * Files elsewhere are judged as given.
 */
export function refuseStaleOutput(file: string, shown: string, io: CliIo, instead: string): void {
  const outdir = path.resolve(io.cwd, "cdktf.out") + path.sep;
  const abs = path.resolve(io.cwd, file);
  if (!abs.startsWith(outdir) || !fs.existsSync(abs)) return; // reading it reports a missing file
  const stackDir = path.dirname(abs);
  const judged = synthesisFreshness(stackDir, path.basename(stackDir), abs, synthesisSources());
  if (!judged.fresh) throw new InputError(`${shown} may not be what the sources synthesize now: ${judged.why}; ${instead}`);
}

/** The stacks a command can synthesize, by name. */
export interface StackCatalog {
  /** What main.ts synthesizes and cdktf can deploy. @default config/environments.ts `environments` */
  readonly environments: Readonly<Record<string, EnvironmentConfig>>;
  /** Review-only configurations, never written to cdktf.out. @default config/environments.ts `reviewEnvironments` */
  readonly reviewEnvironments: Readonly<Record<string, EnvironmentConfig>>;
}

export const CONFIGURED_STACKS: StackCatalog = { environments: configuredEnvironments, reviewEnvironments: configuredReviewEnvironments };

export interface FreshStack {
  readonly name: string;
  /** The synthesized Terraform JSON text. */
  readonly text: string;
  /** The policy result under the stack's own policy configuration. */
  readonly policy: PolicyResult;
  /** A review-only configuration (reviewEnvironments). */
  readonly reviewOnly: boolean;
  /** failSynth refused this synthesis (its findings are still reported). */
  readonly refused?: string;
}

/** The names a catalog knows, for messages. */
export function describeStacks(catalog: StackCatalog): string {
  const review = Object.keys(catalog.reviewEnvironments);
  return `stacks: ${Object.keys(catalog.environments).join(", ") || "none"}${review.length ? `; review only: ${review.join(", ")}` : ""}`;
}

/**
 * Synthesizes one stack in memory from the current sources (nothing is
 * written), so a command never judges a stale cdktf.out. Bad configuration
 * becomes an InputError; a failSynth refusal returns the stack's policy
 * result with `refused` set.
 */
export function synthesizeFirst(name: string, catalog: StackCatalog = CONFIGURED_STACKS): FreshStack {
  const { SynthRefusedError, isUserError, synthesize } = app();
  const reviewOnly = !(name in catalog.environments) && name in catalog.reviewEnvironments;
  const config = catalog.environments[name] ?? catalog.reviewEnvironments[name];
  if (!config) throw new InputError(`no stack named '${name}' (${describeStacks(catalog)})`);
  try {
    const [stack] = synthesize({ [name]: config }, { outdir: null });
    return { name, text: stack.text, policy: stack.policy, reviewOnly };
  } catch (e) {
    const policy = e instanceof SynthRefusedError ? e.policies.get(name) : undefined;
    if (e instanceof SynthRefusedError && policy) return { name, text: "", policy, reviewOnly, refused: e.message };
    if (isUserError(e)) throw new InputError(e.message);
    throw e;
  }
}
