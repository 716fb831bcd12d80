// CLI of the migration check (logic in lib/migration.ts):
//   node dist/commands/migration-check.js [--state <path>] [--stack <name> | --stack-json <path>] [--json]
// --stack (the default) synthesizes the stack in memory from the current
// sources first, so a stale cdktf.out is never judged.
// Exit codes: 0 safe, 1 an instance is destroyed or a moved block targets nothing, 2 bad input
// (an empty state is refused unless the stack is newEnvironment).
import "../stacks/startup"; // first: the compile cache and deferred requires apply to what loads after it
import * as fs from "fs";
import * as path from "path";
import { CONFIGURED_STACKS, CliIo, InputError, StackCatalog, parseFlags, processIo, refuseStaleOutput, runCli, synthesizeFirst } from "../lib/cli";
import { classify, parseStack, parseState, renderJson, renderMarkdown } from "../lib/migration";

export { CliIo };

/** Beside infra/terraform, the HCL root's local state. */
export const DEFAULT_STATE = "../terraform/terraform.tfstate";
export const DEFAULT_STACK = "production";
export const USAGE =
  "usage: migration-check [--state <path>] [--stack <name> | --stack-json <path>] [--json]\n" +
  `  --state       Terraform state file, format v4 (default ${DEFAULT_STATE}); one without managed resources\n` +
  "                is refused unless the stack is newEnvironment\n" +
  `  --stack       stack to synthesize from the current sources and check (default ${DEFAULT_STACK})\n` +
  "  --stack-json  check this synthesized stack JSON instead (inside cdktf.out, only what the sources give: npm run synth's record)\n" +
  "  --json        print the report as JSON instead of Markdown\n" +
  "exit codes: 0 safe, 1 an instance would be destroyed or a moved block has no target, 2 bad input (an empty state\n" +
  "            for a stack that is not newEnvironment)\n";

interface Options {
  state: string;
  stack: string;
  stackJson?: string;
  json: boolean;
  help: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const { values, flags, help } = parseFlags(argv, ["--state", "--stack", "--stack-json"], ["--json"]);
  if (values["--stack"] !== undefined && values["--stack-json"] !== undefined) throw new InputError("give --stack or --stack-json, not both");
  return {
    state: values["--state"] ?? DEFAULT_STATE,
    stack: values["--stack"] ?? DEFAULT_STACK,
    stackJson: values["--stack-json"],
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

/**
 * An empty state (no managed resource) has nothing to migrate: against a
 * stack that is not new, it means the wrong file (a deploy would create
 * everything a second time), and "safe" would be a verdict on nothing.
 */
function refuseEmptyState(options: Options, catalog: StackCatalog, managed: number, statePath: string): void {
  const config = options.stackJson === undefined ? catalog.environments[options.stack] ?? catalog.reviewEnvironments[options.stack] : undefined;
  if (config?.newEnvironment === true) {
    if (managed > 0) {
      throw new InputError(
        `stack '${options.stack}' is marked newEnvironment, but the state ${statePath} holds ${managed} managed resource instance(s): ` +
          "it has been deployed; remove newEnvironment from its configuration",
      );
    }
    return;
  }
  if (managed > 0) return;
  const fix =
    options.stackJson === undefined
      ? `for an environment that was never deployed, set newEnvironment: true in stack '${options.stack}''s configuration`
      : "for an environment that was never deployed, check it by name (--stack <name>) with newEnvironment: true in its configuration";
  throw new InputError(
    `refusing to check against the state ${statePath}: it holds no managed resources, so there is nothing to migrate and a deploy would create ` +
      `every resource again (a second EC2 host, a second zone). Give the state that holds the stack's resources (--state), or, ${fix}`,
  );
}

/** Runs the check; returns the exit code. Writes only through `io`. */
export function main(argv: readonly string[], io: CliIo, catalog: StackCatalog = CONFIGURED_STACKS): number {
  return runCli(argv, io, USAGE, parseArgs, (options) => {
    const statePath = path.resolve(io.cwd, options.state);
    const state = parseState(readInput(statePath, "state file"), `state file ${statePath}`);
    let stack;
    if (options.stackJson === undefined) {
      const fresh = synthesizeFirst(options.stack, catalog);
      if (fresh.refused) throw new InputError(`stack '${options.stack}' cannot be checked:\n${fresh.refused}`);
      stack = parseStack(fresh.text, `stack '${options.stack}'`);
    } else {
      const stackPath = path.resolve(io.cwd, options.stackJson);
      refuseStaleOutput(stackPath, options.stackJson, io, "check the stack with --stack <name> (synthesized now), or run `npm run synth` first");
      stack = parseStack(readInput(stackPath, "stack JSON"), `stack JSON ${stackPath}`);
    }
    refuseEmptyState(options, catalog, state.instances.filter((i) => i.deposed === null).length, statePath);
    const report = classify(state, stack);
    io.stdout(options.json ? renderJson(report) : renderMarkdown(report));
    return report.safe ? 0 : 1;
  });
}

if (require.main === module) process.exitCode = main(process.argv.slice(2), processIo());
