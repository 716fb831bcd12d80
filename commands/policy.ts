// CLI of the policy checks (rules in ../policy/rules.ts) under each stack's own
// policy configuration (its environment's `policy` in config/environments.ts):
//   node dist/commands/policy.js [--stack <name> | --file <path>] [--json] [--blocking <severities>]
// --stack synthesizes the stack in memory from the current sources first, so
// a stale cdktf.out is never judged. Exit codes: 0 no blocking finding, 1 a
// finding of a blocking severity (or a failSynth refusal), 2 bad input.
import "../stacks/startup"; // first: the compile cache and deferred requires apply to what loads after it
import * as fs from "fs";
import * as path from "path";
import { PolicyConfig, SEVERITIES, Severity, isSeverity, resolvePolicyConfig } from "../policy/config";
import { evaluatePolicy, unmatchedExemptionProblems } from "../policy/evaluate";
import { Finding, PolicyResult } from "../policy/rules";
import {
  CONFIGURED_STACKS,
  CliIo,
  InputError,
  StackCatalog,
  describeStacks,
  parseFlags,
  processIo,
  refuseStaleOutput,
  runCli,
  synthesizeFirst,
} from "../lib/cli";

export { CliIo };

export const DEFAULT_STACK = "production";
export const USAGE =
  "usage: policy [--stack <name> | --file <path>] [--json] [--blocking <severities>]\n" +
  `  --stack     stack to synthesize from the current sources and check (default ${DEFAULT_STACK});\n` +
  "              review-only stacks (production-hardened) are synthesized in memory too\n" +
  "  --file      check this synthesized cdk.tf.json instead, under the policy configuration\n" +
  "              of the stack it was synthesized for (inside cdktf.out, only what the sources give: npm run synth's record)\n" +
  "  --json      print the findings as JSON instead of a table\n" +
  `  --blocking  severities (${SEVERITIES.join(", ")}, comma-separated) that fail the check in addition\n` +
  "              to those the stack's policy configuration blocks; it can only tighten\n" +
  "exit codes: 0 no blocking finding, 1 a finding of a blocking severity, 2 bad input\n";

interface Options {
  stack?: string;
  file?: string;
  json: boolean;
  blocking: Severity[];
  help: boolean;
}

function parseBlocking(value: string): Severity[] {
  const items = value.split(",").map((s) => s.trim().toLowerCase());
  if (items.includes("none")) {
    throw new InputError(
      "--blocking adds severities to those the stack's policy configuration blocks, it cannot remove them; " +
        "to block fewer, change policy.config.blockingSeverities in config/environments.ts",
    );
  }
  const bad = items.filter((s) => !isSeverity(s));
  if (bad.length > 0 || items.length === 0) {
    throw new InputError(`--blocking takes ${SEVERITIES.join(", ")} (comma-separated); got ${JSON.stringify(value)}`);
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
    blocking: values["--blocking"] === undefined ? [] : parseBlocking(values["--blocking"]),
    help,
  };
}

function readDocument(file: string, shown: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "ENOENT") throw new InputError(`${shown} not found`);
    throw new InputError(`cannot read ${shown}: ${err.message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${shown} is not JSON (${(e as Error).message})`);
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) throw new InputError(`${shown} is not a synthesized cdktf stack: not a JSON object`);
  return doc as Record<string, unknown>;
}

/** The stack name of a synthesized cdktf stack; refuses anything else, naming what is missing. */
function stackNameOf(doc: Record<string, unknown>, shown: string): string {
  const meta = (doc["//"] as { metadata?: { stackName?: unknown; version?: unknown } } | undefined)?.metadata;
  const missing = [
    ...(typeof meta?.stackName === "string" ? [] : ['"//".metadata.stackName']),
    ...(typeof meta?.version === "string" ? [] : ['"//".metadata.version']),
    ...(doc.terraform !== null && typeof doc.terraform === "object" ? [] : ['"terraform" block']),
  ];
  if (missing.length > 0) {
    throw new InputError(
      `${shown} is not a synthesized cdktf stack: it has no ${missing.join(", no ")} ` +
        "(cdktf.out/stacks/<stack>/cdk.tf.json has them); check a stack with --stack <name>",
    );
  }
  return meta!.stackName as string;
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

/** The severities that block: the stack's configuration, plus what --blocking adds. */
export interface Blocking {
  readonly configured: readonly Severity[];
  readonly added: readonly Severity[];
}

const effective = (b: Blocking): Severity[] => SEVERITIES.filter((s) => b.configured.includes(s) || b.added.includes(s));
const blockingFindings = (result: PolicyResult, b: Blocking): Finding[] => result.findings.filter((f) => effective(b).includes(f.severity));

/** What was checked, as the report's first line names it. */
export interface Subject {
  readonly stack: string;
  /** The file checked (--file), or undefined when synthesized in memory. */
  readonly file?: string;
  readonly reviewOnly: boolean;
  /** The failSynth refusal, when synthesis was refused. */
  readonly refused?: string;
}

function describeSubject(s: Subject): string {
  if (s.file) return `${s.file} (stack ${s.stack})`;
  return `stack ${s.stack} (synthesized now from the sources${s.reviewOnly ? "; review only, never written or deployed" : ""})`;
}

export function renderText(subject: Subject, result: PolicyResult, b: Blocking): string {
  const { findings, exempted, counts } = result;
  let out = `Policy check of ${describeSubject(subject)}: ${findings.length} finding${findings.length === 1 ? "" : "s"}\n\n`;
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
  const blocking = blockingFindings(result, b);
  const configured = b.configured.length ? b.configured.join(", ") : "none";
  const added = b.added.filter((s) => !b.configured.includes(s));
  out += `Blocking severities: ${configured} (stack configuration)${added.length ? ` + ${added.join(", ")} (--blocking)` : ""} -> ${
    blocking.length ? `${blocking.length} blocking finding${blocking.length === 1 ? "" : "s"}, FAIL` : "no blocking finding, PASS"
  }\n`;
  if (subject.refused) out += "Synthesis refused (policy.failSynth): nothing was written.\n";
  return out;
}

export function renderJson(subject: Subject, result: PolicyResult, b: Blocking): string {
  const blocking = blockingFindings(result, b);
  return (
    JSON.stringify(
      {
        stack: subject.stack,
        file: subject.file ?? null,
        reviewOnly: subject.reviewOnly,
        synthesisRefused: subject.refused !== undefined,
        blockingSeverities: effective(b),
        configuredBlockingSeverities: b.configured,
        addedBlockingSeverities: b.added.filter((s) => !b.configured.includes(s)),
        passed: blocking.length === 0 && subject.refused === undefined,
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

/** The policy configuration of a stack the catalog knows. */
function configOf(stack: string, catalog: StackCatalog, shown: string): PolicyConfig {
  const env = catalog.environments[stack] ?? catalog.reviewEnvironments[stack];
  if (!env) {
    throw new InputError(`${shown} was synthesized for stack '${stack}', whose policy configuration is unknown here (${describeStacks(catalog)})`);
  }
  try {
    return resolvePolicyConfig(env.policy?.config);
  } catch (e) {
    throw new InputError(`stack '${stack}': ${(e as Error).message}`);
  }
}

/** Runs the check; returns the exit code. Writes only through `io`. */
export function main(argv: readonly string[], io: CliIo, catalog: StackCatalog = CONFIGURED_STACKS): number {
  return runCli(argv, io, USAGE, parseArgs, (options) => {
    let subject: Subject;
    let result: PolicyResult;
    let config: PolicyConfig;
    if (options.file !== undefined) {
      const file = path.resolve(io.cwd, options.file);
      const doc = readDocument(file, options.file);
      const stack = stackNameOf(doc, options.file);
      refuseStaleOutput(file, options.file, io, `check the stack with --stack ${stack} (synthesized now), or run \`npm run synth\` first`);
      config = configOf(stack, catalog, options.file);
      result = evaluatePolicy(doc, config);
      const stale = unmatchedExemptionProblems(result, "policy.config.exemptions");
      if (stale.length > 0) throw new InputError(`policy exemptions of stack '${stack}':\n${stale.map((p) => `  - ${p}`).join("\n")}`);
      subject = { stack, file: options.file, reviewOnly: !(stack in catalog.environments) };
    } else {
      const fresh = synthesizeFirst(options.stack ?? DEFAULT_STACK, catalog);
      config = configOf(fresh.name, catalog, `stack ${fresh.name}`);
      result = fresh.policy;
      subject = { stack: fresh.name, reviewOnly: fresh.reviewOnly, refused: fresh.refused };
    }
    const b: Blocking = { configured: config.blockingSeverities, added: options.blocking };
    io.stdout(options.json ? renderJson(subject, result, b) : renderText(subject, result, b));
    return blockingFindings(result, b).length > 0 || subject.refused ? 1 : 0;
  });
}

if (require.main === module) process.exitCode = main(process.argv.slice(2), processIo());
