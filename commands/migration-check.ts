// CLI of the migration check (logic in lib/migration.ts):
//   node dist/commands/migration-check.js [--state <path>] [--stack <name> | --stack-json <path>] [--json]
// --stack (the default) synthesizes the stack in memory from the current
// sources first, so a stale cdktf.out is never judged.
// The state, unless --state names one, is the stack's own local backend file (backend.path, relative
// to cdktf.out/stacks/<stack>, where Terraform runs); an S3 backend needs --state.
// Exit codes: 0 safe, 1 an instance is destroyed, a moved block targets nothing or is refused by Terraform, or a resource the
// configuration records as deployed would be created or has another name in the state, 2 bad input (an empty state is refused unless
// the stack is newEnvironment; a state that lists an instance twice).
import "../stacks/startup"; // first: the compile cache and deferred requires apply to what loads after it
import * as fs from "fs";
import * as path from "path";
import { CONFIGURED_STACKS, CliIo, InputError, StackCatalog, describeStacks, parseFlags, processIo, refuseStaleOutput, runCli, synthesizeFirst } from "../lib/cli";
import { StackConfig, classify, parseStack, parseState, renderJson, renderMarkdown } from "../lib/migration";
import { backendLocation } from "../stacks/isolation";

export { CliIo };

export const DEFAULT_STACK = "production";
export const USAGE =
  "usage: migration-check [--state <path>] [--stack <name> | --stack-json <path>] [--json]\n" +
  "  --state       Terraform state file, format v4 (default: the stack's local backend file, its backend.path\n" +
  "                relative to cdktf.out/stacks/<stack>; required when the backend is S3); one without managed\n" +
  "                resources is refused unless the stack is newEnvironment\n" +
  `  --stack       stack to synthesize from the current sources and check (default ${DEFAULT_STACK})\n` +
  "  --stack-json  check this synthesized stack JSON instead (inside cdktf.out, only what the sources give: npm run synth's record)\n" +
  "  --json        print the report as JSON instead of Markdown\n" +
  "exit codes: 0 safe, 1 an instance would be destroyed, a moved block has no target or is refused by Terraform\n" +
  "            (ambiguous, still declared, redundant, cyclic, across resource types: no plan at all), a resource the configuration\n" +
  "            records as deployed would be created or has another name in the state (another stack's state),\n" +
  "            2 bad input (an empty state for a stack that is not newEnvironment,\n" +
  "            a state that lists an instance twice, no --state for a backend that is not a local file)\n";

interface Options {
  /** Undefined: the stack's own local backend file. */
  state?: string;
  stack: string;
  stackJson?: string;
  json: boolean;
  help: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const { values, flags, help } = parseFlags(argv, ["--state", "--stack", "--stack-json"], ["--json"]);
  if (values["--stack"] !== undefined && values["--stack-json"] !== undefined) throw new InputError("give --stack or --stack-json, not both");
  return {
    state: values["--state"],
    stack: values["--stack"] ?? DEFAULT_STACK,
    stackJson: values["--stack-json"],
    json: flags.has("--json"),
    help,
  };
}

/** Reads without ever writing: the state file must stay byte-for-byte as it is. */
function readInput(file: string, what: string, from = ""): string {
  try {
    return fs.readFileSync(file, { encoding: "utf8", flag: "r" });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "ENOENT") throw new InputError(`${what} not found: ${file}${from}`);
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

/**
 * The state a stack plans against when --state names none: its local backend file, where cdktf runs
 * Terraform (`<outdir>/stacks/<stack>`). Any other backend is bad input: migration-check reads files only.
 */
export function defaultState(stack: string, catalog: StackCatalog, cwd: string): string {
  const config = catalog.environments[stack] ?? catalog.reviewEnvironments[stack];
  if (!config) throw new InputError(`no stack named '${stack}' (${describeStacks(catalog)})`);
  const outdir = path.resolve(cwd, process.env.CDKTF_OUTDIR ?? "cdktf.out");
  const where = backendLocation(outdir, stack, config.backend);
  if (config.backend.type !== "local") {
    throw new InputError(
      `stack '${stack}' keeps its state in S3 (${where}), and migration-check reads a local file only: copy it ` +
        `(aws s3 cp ${where} <file>) and give it with --state <file>`,
    );
  }
  return where;
}

/** The state file of a stack JSON (parsed already) with no --state: its local backend, relative to the file's folder (where Terraform runs). */
function stateOfStackJson(text: string, stackPath: string): string {
  const backend = (JSON.parse(text) as { terraform?: { backend?: unknown } }).terraform?.backend;
  const local = (backend as { local?: { path?: unknown } } | undefined)?.local;
  if (local && typeof local.path === "string") return path.resolve(path.dirname(stackPath), local.path);
  const kind = backend && typeof backend === "object" ? Object.keys(backend)[0] : undefined;
  throw new InputError(
    `stack JSON ${stackPath} ${kind ? `keeps its state in a '${kind}' backend` : "declares no backend"}, and migration-check reads a local file only: give the state with --state <file>`,
  );
}

/** Runs the check; returns the exit code. Writes only through `io`. */
export function main(argv: readonly string[], io: CliIo, catalog: StackCatalog = CONFIGURED_STACKS): number {
  return runCli(argv, io, USAGE, parseArgs, (options) => {
    const config = options.stackJson === undefined ? (catalog.environments[options.stack] ?? catalog.reviewEnvironments[options.stack]) : undefined;
    // The stack JSON first when its backend says where the state is; else the state first (bad input before any synthesis).
    let stackText: string | undefined;
    let stackPath: string | undefined;
    let stack: StackConfig | undefined;
    if (options.stackJson !== undefined) {
      stackPath = path.resolve(io.cwd, options.stackJson);
      refuseStaleOutput(stackPath, options.stackJson, io, "check the stack with --stack <name> (synthesized now), or run `npm run synth` first");
      if (options.state === undefined) {
        stackText = readInput(stackPath, "stack JSON");
        stack = parseStack(stackText, `stack JSON ${stackPath}`);
      }
    }
    let statePath: string;
    let from = "";
    if (options.state !== undefined) statePath = path.resolve(io.cwd, options.state);
    else if (stackText !== undefined) {
      statePath = stateOfStackJson(stackText, stackPath!);
      from = " (the stack JSON's local backend; or give --state <file>)";
    } else {
      statePath = defaultState(options.stack, catalog, io.cwd);
      const backend = config!.backend;
      from = ` (stack '${options.stack}''s backend.path '${backend.type === "local" ? backend.path : ""}', relative to cdktf.out/stacks/${options.stack}; or give --state <file>)`;
    }
    // A new environment's own backend file does not exist before its first deploy: an empty state, said on stderr.
    // A --state that names a missing file stays an error (a typo must not pass as "nothing deployed").
    const firstDeploy = options.state === undefined && options.stackJson === undefined && config?.newEnvironment === true && !fs.existsSync(statePath);
    if (firstDeploy) {
      io.stderr(`note: no state file yet at ${statePath}: stack '${options.stack}' is newEnvironment, so it is checked against an empty state\n`);
    }
    const stateText = firstDeploy ? JSON.stringify({ version: 4, resources: [] }) : readInput(statePath, "state file", from);
    const state = parseState(stateText, `state file ${statePath}`);
    if (stackPath === undefined) {
      const fresh = synthesizeFirst(options.stack, catalog);
      if (fresh.refused) throw new InputError(`stack '${options.stack}' cannot be checked:\n${fresh.refused}`);
      stack = parseStack(fresh.text, `stack '${options.stack}'`);
    } else stack ??= parseStack(readInput(stackPath, "stack JSON"), `stack JSON ${stackPath}`);
    // What the configuration records as deployed (a stack JSON carries no configuration: nothing recorded).
    const deployed = Object.keys(config?.deployed ?? {});
    refuseEmptyState(options, catalog, state.instances.filter((i) => i.deposed === null).length, statePath);
    const report = classify(state, stack, deployed, config?.deployed ?? {});
    io.stdout(options.json ? renderJson(report) : renderMarkdown(report));
    return report.safe ? 0 : 1;
  });
}

if (require.main === module) process.exitCode = main(process.argv.slice(2), processIo());
