// What the command-line scripts share: their I/O seam (tests call main
// without spawning), flag parsing, and exit code 2 for bad input.

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

/** `--flag value`, `--flag=value` (a following `--flag` is not a value), boolean flags, `--help`/`-h`. */
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
  try {
    return run(options);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    io.stderr(`error: ${e.message}\n`);
    return 2;
  }
}

/** The real process's I/O. */
export const processIo = (): CliIo => ({
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  cwd: process.cwd(),
});
