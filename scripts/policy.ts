// CLI of the policy checks (rules in ../policy/rules.ts) on a synthesized stack:
//   node dist/scripts/policy.js [--stack <name> | --file <path>] [--json] [--blocking <severities>]
// Exit codes: 0 no blocking finding, 1 a finding of a blocking severity, 2 bad input.
import * as fs from "fs";
import * as path from "path";
import { DEFAULT_POLICY_CONFIG, PolicyConfig, SEVERITIES, Severity, isSeverity } from "../policy/config";
import { Finding, PolicyResult, evaluatePolicy } from "../policy/rules";
import { CliIo, InputError, parseFlags, processIo, runCli } from "./lib/cli";

export { CliIo };

export const DEFAULT_STACK = "production";
export const USAGE =
  "usage: policy [--stack <name> | --file <path>] [--json] [--blocking <severities>]\n" +
  `  --stack     synthesized stack to check, cdktf.out/stacks/<name>/cdk.tf.json (default ${DEFAULT_STACK})\n` +
  "  --file      a synthesized Terraform JSON file to check instead\n" +
  "  --json      print the findings as JSON instead of a table\n" +
  `  --blocking  comma-separated severities that fail the check (${SEVERITIES.join(", ")}), or none\n` +
  `              (default from the policy configuration: ${DEFAULT_POLICY_CONFIG.blockingSeverities.join(",")})\n` +
  "exit codes: 0 no blocking finding, 1 a finding of a blocking severity, 2 bad input\n";

interface Options {
  stack?: string;
  file?: string;
  json: boolean;
  blocking?: Severity[];
  help: boolean;
}

function parseBlocking(value: string): Severity[] {
  if (value.trim().toLowerCase() === "none") return [];
  const items = value.split(",").map((s) => s.trim().toLowerCase());
  const bad = items.filter((s) => !isSeverity(s));
  if (bad.length > 0 || items.length === 0) {
    throw new InputError(`--blocking takes ${SEVERITIES.join(", ")} (comma-separated) or none; got ${JSON.stringify(value)}`);
  }
  return [...new Set(items as Severity[])];
}

function parseArgs(argv: readonly string[]): Options {
  const { values, flags, help } = parseFlags(argv, ["--stack", "--file", "--blocking"], ["--json"]);
  const stack = values["--stack"];
  if (stack !== undefined && !/^[A-Za-z0-9_-]+$/.test(stack)) {
    throw new InputError(`--stack takes a stack name (letters, digits, _ and -); got ${JSON.stringify(stack)}`);
  }
  if (stack !== undefined && values["--file"] !== undefined) throw new InputError("give --stack or --file, not both");
  return {
    stack,
    file: values["--file"],
    json: flags.has("--json"),
    blocking: values["--blocking"] === undefined ? undefined : parseBlocking(values["--blocking"]),
    help,
  };
}

function readDocument(file: string, shown: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "ENOENT") throw new InputError(`${shown} not found; run \`npm run synth\` first`);
    throw new InputError(`cannot read ${shown}: ${err.message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${shown} is not JSON (${(e as Error).message}); run \`npm run synth\` again`);
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) throw new InputError(`${shown} is not a Terraform JSON document`);
  return doc;
}

const where = (f: Finding): string => (f.path ? `${f.address} (${f.path})` : f.address);

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n") + "\n";
}

export function renderText(file: string, result: PolicyResult, blocking: readonly Severity[]): string {
  const { findings, exempted, counts } = result;
  let out = `Policy check of ${file}: ${findings.length} finding${findings.length === 1 ? "" : "s"}\n\n`;
  if (findings.length > 0) {
    out += table(
      ["#", "SEVERITY", "ID", "CHECKOV", "ADDRESS", "FIX"],
      findings.map((f, i) => [String(i + 1), f.severity, f.id, f.checkov ?? "-", where(f), f.fix]),
    );
    out += "\nDetails:\n" + findings.map((f, i) => `${String(i + 1).padStart(3)}. ${f.message}\n`).join("");
  }
  if (exempted.length > 0) {
    out += `\nExempted (${exempted.length}):\n` + exempted.map((f) => `  ${f.id} ${where(f)}: ${f.reason}\n`).join("");
  }
  out += `\n${SEVERITIES.map((s) => `${s}: ${counts[s]}`).join(", ")} (total ${findings.length}${exempted.length ? `, ${exempted.length} exempted` : ""})\n`;
  const blockingFound = result.blocking.length;
  out += `Blocking severities: ${blocking.length ? blocking.join(", ") : "none"} -> ${
    blockingFound ? `${blockingFound} blocking finding${blockingFound === 1 ? "" : "s"}, FAIL` : "no blocking finding, PASS"
  }\n`;
  return out;
}

export function renderJson(file: string, result: PolicyResult, blocking: readonly Severity[]): string {
  return (
    JSON.stringify(
      {
        file,
        blockingSeverities: blocking,
        passed: result.blocking.length === 0,
        counts: result.counts,
        total: result.findings.length,
        findings: result.findings,
        exempted: result.exempted,
      },
      null,
      2,
    ) + "\n"
  );
}

/** Runs the check; returns the exit code. Writes only through `io`. */
export function main(argv: readonly string[], io: CliIo, config: PolicyConfig = DEFAULT_POLICY_CONFIG): number {
  return runCli(argv, io, USAGE, parseArgs, (options) => {
    const shown = options.file ?? path.join("cdktf.out", "stacks", options.stack ?? DEFAULT_STACK, "cdk.tf.json");
    const doc = readDocument(path.resolve(io.cwd, shown), shown);
    const blocking = options.blocking ?? config.blockingSeverities;
    const result = evaluatePolicy(doc, { ...config, blockingSeverities: blocking });
    io.stdout(options.json ? renderJson(shown, result, blocking) : renderText(shown, result, blocking));
    return result.blocking.length > 0 ? 1 : 0;
  });
}

if (require.main === module) process.exitCode = main(process.argv.slice(2), processIo());
