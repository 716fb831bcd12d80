// CLI of the migration check (logic in ./lib/migration.ts):
//   node dist/scripts/migration-check.js [--state <path>] [--stack-json <path>] [--json]
// Exit codes: 0 safe, 1 an instance is destroyed or a moved block targets nothing, 2 bad input.
import * as fs from "fs";
import * as path from "path";
import { CliIo, InputError, parseFlags, processIo, runCli } from "./lib/cli";
import { classify, parseStack, parseState, renderJson, renderMarkdown } from "./lib/migration";

export { CliIo };

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

interface Options {
  state: string;
  stackJson: string;
  json: boolean;
  help: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const { values, flags, help } = parseFlags(argv, ["--state", "--stack-json"], ["--json"]);
  return {
    state: values["--state"] ?? DEFAULT_STATE,
    stackJson: values["--stack-json"] ?? DEFAULT_STACK_JSON,
    json: flags.has("--json"),
    help,
  };
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
  return runCli(argv, io, USAGE, parseArgs, (options) => {
    const statePath = path.resolve(io.cwd, options.state);
    const stackPath = path.resolve(io.cwd, options.stackJson);
    const state = parseState(readInput(statePath, "state file"), `state file ${statePath}`);
    let stack;
    try {
      stack = parseStack(readInput(stackPath, "stack JSON"), `stack JSON ${stackPath}`);
    } catch (e) {
      if (e instanceof InputError) throw new InputError(e.message + SYNTH_HINT);
      throw e;
    }
    const report = classify(state, stack);
    io.stdout(options.json ? renderJson(report) : renderMarkdown(report));
    return report.safe ? 0 : 1;
  });
}

if (require.main === module) process.exitCode = main(process.argv.slice(2), processIo());
