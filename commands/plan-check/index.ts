// plan-check: Terraform's own plan as the gate (its steps in ./check.ts and the parts beside it; the plan machinery it shares in lib/plan/).
//   npm run plan-check -- [--stack <name>] [--state <snapshot>] [--offline] [--modules <dir>] [--data <file>]
//                         [--exclude <address>]... [--against-hcl <dir>] [--json] [--out <dir>] [--quiet]
// Exit codes: 0 pass, 1 the gate fails, 2 bad input or environment (one message; what the run made is removed).

import "../../stacks/startup"; // first: the compile cache and deferred requires apply to what loads after it
import { CliIo, InputError, parseFlags, parseOrAnswer, processIo, takeRepeated } from "../../lib/cli";
import { EnvironmentConfig } from "../../config/environment";
import { TerraformFailed, UnknownAddress } from "../../lib/plan/run";
import { Workdir, WorkdirError, fileSystemMessage } from "../../lib/workdir";
import { check } from "./check";

export const USAGE =
  "usage: plan-check [--stack <name>] [--state <snapshot>] [--offline] [--modules <dir>] [--data <file>]\n" +
  "                  [--exclude <address>]... [--against-hcl <dir>] [--json] [--out <dir>] [--quiet]\n" +
  "  --stack        the stack to plan (default production)\n" +
  "  --state        a state snapshot (format 4): planned against a copy, never written\n" +
  "  --offline      no AWS: -refresh=false, the provider makes no call, data sources pinned to recorded values\n" +
  "                 (without --state: an empty state, a new environment)\n" +
  "  --modules      the HCL modules' folder (default: the stack's planCheck.modules, else its hclModulesDir)\n" +
  "  --data         JSON file of values by address, for data sources the snapshot lacks (they win over the snapshot;\n" +
  "                 default with --offline: the stack's planCheck.data)\n" +
  "  --exclude      leave out this resource and what depends on it (repeatable); listed as not judged\n" +
  "  --against-hcl  also plan this HCL root the same way and compare address by address\n" +
  "  --json         print the report as JSON instead of Markdown\n" +
  "  --out          working files and report.md/report.json (default cdktf.out/plan-check/<stack>): a folder\n" +
  "                 plan-check creates, or one it made before (its marker in it); never the checkout, a folder\n" +
  "                 holding or inside an input, a source folder, cdktf.out/stacks; one run at a time per folder\n" +
  "  --quiet        no progress lines on stderr (each step as it starts, and its time when it ends)\n" +
  "exit codes: 0 pass, 1 the gate fails (a delete, replace or forget not allowed, a move not shown, a plan\n" +
  "            error, a state instance not planned and not kept, an unused allow-list entry, a create of an\n" +
  "            address deployed records or of a second object of an existing name, an import of a managed\n" +
  "            object, a failing check, a plan it cannot read whole, a difference from the HCL root or an HCL\n" +
  "            root that cannot be planned),\n" +
  "            2 bad input or environment\n";

export interface Options {
  stack: string;
  state?: string;
  offline: boolean;
  modules?: string;
  data?: string;
  exclude: string[];
  againstHcl?: string;
  json: boolean;
  out?: string;
  quiet: boolean;
  help: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const { values: exclude, rest } = takeRepeated(argv, "--exclude", "a resource address");
  const { values, flags, help } = parseFlags(rest, ["--stack", "--state", "--modules", "--data", "--against-hcl", "--out"], ["--offline", "--json", "--quiet"]);
  return {
    stack: values["--stack"] ?? "production",
    state: values["--state"],
    offline: flags.has("--offline"),
    modules: values["--modules"],
    data: values["--data"],
    exclude,
    againstHcl: values["--against-hcl"],
    json: flags.has("--json"),
    out: values["--out"],
    quiet: flags.has("--quiet"),
    help,
  };
}

export interface Deps {
  readonly environments?: Readonly<Record<string, EnvironmentConfig>>;
  readonly env?: NodeJS.ProcessEnv;
  /** Stop on SIGINT/SIGTERM, removing what the run made (the command's own process only). @default false */
  readonly handleSignals?: boolean;
}

/** The message of a failure of input or environment (exit 2), or undefined for a defect. */
function inputFailure(e: unknown, dir: string | undefined): string | undefined {
  if (e instanceof InputError || e instanceof WorkdirError || e instanceof UnknownAddress || e instanceof TerraformFailed) return e.message;
  return fileSystemMessage(e, dir);
}

/** Runs the check; returns the exit code. */
export async function main(argv: readonly string[], io: CliIo, deps: Deps = {}): Promise<number> {
  const options = parseOrAnswer(argv, io, USAGE, parseArgs);
  if (typeof options === "number") return options;
  let workdir: Workdir | undefined;
  try {
    return await check(options, io, deps, (w) => (workdir = w));
  } catch (e) {
    // Interrupted: the signal handler stops the children, removes what the run made and exits.
    if (workdir?.interrupted) return new Promise<number>(() => undefined);
    const message = inputFailure(e, workdir?.dir);
    const removed = workdir?.abort();
    if (message === undefined) throw e;
    io.stderr(`error: ${message}\n${removed ? `note: removed ${removed}\n` : ""}`);
    return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2), processIo(), { handleSignals: true }).then(
    (code) => (process.exitCode = code),
    (e) => {
      process.stderr.write(`${(e as Error).stack ?? e}\n`);
      process.exitCode = 3;
    },
  );
}
