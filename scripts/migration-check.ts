// CLI of the migration check (logic in ./lib/migration.ts):
//   node dist/scripts/migration-check.js [--state <path>] [--stack-json <path>] [--json]
// Exit codes: 0 safe, 1 an instance is destroyed or a moved block targets nothing, 2 bad input.
import * as fs from "fs";
import * as path from "path";
import { InputError, classify, parseStack, parseState, renderJson, renderMarkdown } from "./lib/migration";

/** Beside infra/terraform, the HCL root's local state. */
export const DEFAULT_STATE = "../terraform/terraform.tfstate";
export const DEFAULT_STACK_JSON = "cdktf.out/stacks/production/cdk.tf.json";
export const USAGE =
  "usage: migration-check [--state <path>] [--stack-json <path>] [--json]\n" +
  `  --state       Terraform state file, format v4 (default ${DEFAULT_STATE})\n` +
  `  --stack-json  synthesized stack (default ${DEFAULT_STACK_JSON})\n` +
  "  --json        print the report as JSON instead of Markdown\n" +
  "exit codes: 0 safe, 1 an instance would be destroyed or a moved block has no target, 2 bad input\n";
const SYNTH_HINT = "; run `npm run synth` first";

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Relative paths (and the defaults) are resolved against this directory. */
  readonly cwd: string;
}

interface Options {
  state: string;
  stackJson: string;
  json: boolean;
  help: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { state: DEFAULT_STATE, stackJson: DEFAULT_STACK_JSON, json: false, help: false };
  for (let n = 0; n < argv.length; n++) {
    const arg = argv[n];
    // `--state=<path>` or `--state <path>`; a following `--flag` is not a value.
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const value = (): string => {
      const v = eq === -1 ? argv[++n] : arg.slice(eq + 1);
      if (!v || (eq === -1 && v.startsWith("--"))) throw new InputError(`${flag} needs a value`);
      return v;
    };
    if (flag === "--state") options.state = value();
    else if (flag === "--stack-json") options.stackJson = value();
    else if (arg === "--json") options.json = true;
    else if (arg === "--help" || arg === "-h") options.help = true;
    else if (arg.startsWith("-")) throw new InputError(`unknown option: ${arg}`);
    else throw new InputError(`unexpected argument: ${arg}`);
  }
  return options;
}

/** Reads without ever writing: the state file must stay byte-for-byte as it is. */
function readInput(file: string, what: string): string {
  try {
    return fs.readFileSync(file, { encoding: "utf8", flag: "r" });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "ENOENT") throw new InputError(`${what} not found: ${file}`);
    throw new InputError(`cannot read ${what} ${file}: ${err.message}`);
  }
}

/** Runs the check; returns the exit code. Writes only through `io`. */
export function main(argv: readonly string[], io: CliIo): number {
  let options: Options;
  try {
    options = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    io.stderr(`error: ${e.message}\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    io.stdout(USAGE);
    return 0;
  }
  const statePath = path.resolve(io.cwd, options.state);
  const stackPath = path.resolve(io.cwd, options.stackJson);
  let report;
  try {
    const state = parseState(readInput(statePath, "state file"), `state file ${statePath}`);
    let stack;
    try {
      stack = parseStack(readInput(stackPath, "stack JSON"), `stack JSON ${stackPath}`);
    } catch (e) {
      if (e instanceof InputError) throw new InputError(e.message + SYNTH_HINT);
      throw e;
    }
    report = classify(state, stack);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    io.stderr(`error: ${e.message}\n`);
    return 2;
  }
  io.stdout(options.json ? renderJson(report) : renderMarkdown(report));
  return report.safe ? 0 : 1;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    cwd: process.cwd(),
  });
}
