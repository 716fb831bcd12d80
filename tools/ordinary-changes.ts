// The two everyday changes keep CI green (issue 16): on a throw-away copy of
// this project, each change is made by a real edit of config/environments.ts
// and committed, then CI's own commands run there: `npm test`, the Terraform
// tier, the synth and the migration check. A test that pins a live value of
// the configuration (production's capacity, the list of stacks) turns this red.
//
//   npm run check:ordinary-changes [-- --only <change>] [--together] [--project <dir>] [--no-validate]
//
// --together makes every chosen change in one copy and runs CI's commands once
// (what .ci/run does: half the time; a failure names the tests, and --only
// then tells which change it was).
//
// The copy is made in a folder of its own under the temporary directory
// (mkdtemp), with this project's node_modules linked, not copied, and the
// shared fixtures beside it as they are beside this project; it is removed
// whatever happens (Ctrl-C included). Exit 0: every step of every change
// passed; 1: a step failed (named, with the failing tests); 2: bad input, or a
// change could not be applied to the configuration as it is written now.
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CopyError, copyProject, git, projectFiles } from "../lib/project-copy";
import * as ts from "typescript";
import { capacityEffect, stagingEffect } from "./ordinary-effects";

export interface Change {
  readonly name: string;
  /** What the change is, as the README tells a user to make it. */
  readonly description: string;
  /** The edited text of config/environments.ts; throws when the text is not as expected. */
  edit(text: string): string;
  /** After `npm run synth` in the copy (`repo`, edited by `edited`): why the edit is not in the synthesis, or undefined. */
  effect(repo: string, edited: string): string | undefined;
}

/** What the production-capacity change edits, as a refusal names it. */
export const CAPACITY_PLACE = "production's ML worker capacity: the number in 'export const production = { mlWorker: { maxCapacity: <number> } }'";

/**
 * The literal of production's mlWorker.maxCapacity, found by parsing the file: another `maxCapacity:` written
 * before it in production's block (another construct's, a comment) is not it. Throws, naming the place, when it
 * is missing or not the one that counts (written twice, a spread after it, not a number literal).
 */
export function capacityLiteral(text: string): { start: number; end: number; value: number } {
  const refuse = (why: string): never => {
    throw new Error(`config/environments.ts: ${why}; looked for ${CAPACITY_PLACE}`);
  };
  const source = ts.createSourceFile("environments.ts", text, ts.ScriptTarget.Latest, true);
  const declarations = source.statements
    .filter(ts.isVariableStatement)
    .filter((s) => s.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword))
    .flatMap((s) => s.declarationList.declarations)
    .filter((d) => ts.isIdentifier(d.name) && d.name.text === "production");
  if (declarations.length === 0) refuse("there is no 'export const production'");
  const production = objectLiteral(declarations[0].initializer);
  if (!production) return refuse("production's value is not an object literal '{ ... }'");
  const mlWorker = onlyProperty(production, "mlWorker", "production", refuse);
  const worker = objectLiteral(mlWorker.initializer);
  if (!worker) return refuse("production's mlWorker is not an object literal '{ ... }'");
  const capacity = onlyProperty(worker, "maxCapacity", "production's mlWorker", refuse).initializer;
  if (!ts.isNumericLiteral(capacity)) return refuse(`production's mlWorker.maxCapacity is '${capacity.getText(source)}', not a number literal`);
  return { start: capacity.getStart(source), end: capacity.end, value: Number(capacity.text) };
}

/** `e`, under parentheses, `as` and `satisfies`, when it is an object literal. */
function objectLiteral(e: ts.Expression | undefined): ts.ObjectLiteralExpression | undefined {
  while (e && (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e))) e = e.expression;
  return e && ts.isObjectLiteralExpression(e) ? e : undefined;
}

/** The one `name: <value>` of `object` (`where`), and no spread after it that could replace it. */
function onlyProperty(object: ts.ObjectLiteralExpression, name: string, where: string, refuse: (why: string) => never): ts.PropertyAssignment {
  const named = object.properties.filter((p) => p.name !== undefined && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) && p.name.text === name);
  if (named.length === 0) refuse(`${where} has no '${name}:'`);
  if (named.length > 1) refuse(`${where} has '${name}' ${named.length} times`);
  const [property] = named;
  if (!ts.isPropertyAssignment(property)) return refuse(`${where}'s '${name}' is not written '${name}: <value>'`);
  if (object.properties.slice(object.properties.indexOf(property) + 1).some(ts.isSpreadAssignment)) {
    refuse(`${where} has a spread ('...') after '${name}:', which may replace it`);
  }
  return property;
}

/** The block of `export const <name>... = {` up to its closing `};` at the start of a line. */
function block(text: string, name: string): { start: number; end: number } {
  const start = text.search(new RegExp(`^export const ${name}\\b[^=]*=\\s*\\{`, "m"));
  if (start === -1) throw new Error(`config/environments.ts has no 'export const ${name} = {'`);
  const end = text.indexOf("\n};", start);
  if (end === -1) throw new Error(`config/environments.ts: the object '${name}' has no closing '};' at the start of a line`);
  return { start, end };
}

export const CHANGES: readonly Change[] = [
  {
    name: "production-capacity",
    description: "production's mlWorker.maxCapacity changed (5 -> 3, the deployment notes' direction for SQS mode)",
    edit(text) {
      const { start, end, value } = capacityLiteral(text);
      return text.slice(0, start) + String(value === 3 ? 4 : 3) + text.slice(end);
    },
    effect: (repo, edited) => capacityEffect(repo, capacityLiteral(edited).value),
  },
  {
    name: "add-staging",
    description: "staging added to environments, as README \"Adding an environment\" says",
    edit(text) {
      const { start, end } = block(text, "environments");
      const body = text.slice(start, end);
      if (/^\s*staging\b/m.test(body.slice(body.indexOf("{") + 1))) throw new Error("config/environments.ts: staging is in environments already");
      return text.slice(0, end) + "\n  staging," + text.slice(end);
    },
    effect: (repo) => stagingEffect(repo),
  },
];

/** Every change made one after the other on the same text: one copy, one run of CI's commands. */
export function combined(changes: readonly Change[]): Change {
  return {
    name: changes.map((c) => c.name).join("+"),
    description: changes.map((c) => c.description).join("; "),
    edit: (text) => changes.reduce((t, c) => c.edit(t), text),
    effect: (repo, edited) => changes.map((c) => c.effect(repo, edited)).find((why) => why !== undefined),
  };
}

const SYNTH_STEP = "npm run synth";

export interface Step {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

/** CI's commands (.ci/run), as they run on a clean clone, apart from npm ci (node_modules is linked) and compat:cdktn (its own install). */
export function steps(validate: boolean, cacheDir: string): Step[] {
  return [
    { name: "npm test", command: "npm", args: ["test", "--", "--cacheDirectory", cacheDir] },
    ...(validate
      ? [{ name: "npm run test:validate", command: "npm", args: ["run", "test:validate", "--", "--cacheDirectory", cacheDir], env: { VALIDATE_REQUIRE_TERRAFORM: "1" } }]
      : []),
    { name: SYNTH_STEP, command: "npm", args: ["run", "synth"] },
    { name: "npm run migration-check", command: "npm", args: ["run", "migration-check", "--", "--state", "../shared/fixtures/existing-production.tfstate"] },
  ];
}

let running: ChildProcess | undefined;

/** Runs one step in its own process group; its output goes to `log`. */
function run(step: Step, cwd: string, log: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const out = fs.openSync(log, "w");
    const child = spawn(step.command, step.args as string[], {
      cwd,
      env: { ...process.env, CHECKPOINT_DISABLE: "1", ...step.env },
      stdio: ["ignore", out, out],
      detached: true,
    });
    running = child;
    child.on("error", (e) => {
      fs.closeSync(out);
      reject(e);
    });
    child.on("close", (code, signal) => {
      running = undefined;
      fs.closeSync(out);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

/** The names of the failing tests (jest's `●` lines), or the output's last lines when there are none. */
export function failures(output: string): string[] {
  const names = [...new Set(output.split("\n").filter((l) => /^\s+● /.test(l) && !/● Console/.test(l)).map((l) => l.trim().slice(2)))];
  if (names.length > 0) return names;
  return output.trimEnd().split("\n").slice(-15);
}

const USAGE =
  "usage: check:ordinary-changes [--only <change>] [--together] [--project <dir>] [--no-validate]\n" +
  `  --only          one change: ${CHANGES.map((c) => c.name).join(", ")} (default: each, one after the other)\n` +
  "  --together      every chosen change in one copy, CI's commands run once (what .ci/run does)\n" +
  "  --project       the project to copy (default: this one; its working tree, uncommitted edits included)\n" +
  "  --no-validate   leave out the Terraform tier (test:validate): faster, and then not what CI runs\n";

/** `ciSteps`: CI's commands; the tests give quick ones. */
export async function main(argv: readonly string[], say: (t: string) => void = (t) => process.stderr.write(t), ciSteps = steps): Promise<number> {
  let only: string | undefined;
  let project = path.resolve(__dirname, "../..");
  let validate = true;
  let together = false;
  for (let n = 0; n < argv.length; n++) {
    const a = argv[n];
    if (a === "--only" || a === "--project") {
      const v = argv[++n];
      if (!v) return bad(`${a} needs a value`);
      if (a === "--only") only = v;
      else project = path.resolve(v);
    } else if (a === "--no-validate") validate = false;
    else if (a === "--together") together = true;
    else if (a === "--help" || a === "-h") {
      process.stdout.write(USAGE);
      return 0;
    } else return bad(`unknown option: ${a}`);
  }
  const picked = only ? CHANGES.filter((c) => c.name === only) : CHANGES;
  if (picked.length === 0) return bad(`--only must be one of ${CHANGES.map((c) => `'${c.name}'`).join(", ")} (got '${only}')`);
  const chosen = together && picked.length > 1 ? [combined(picked)] : picked;
  if (!fs.existsSync(path.join(project, "node_modules"))) return bad(`${project} has no node_modules: run npm ci there first`);

  const config = path.join(project, "config/environments.ts");
  let files: string[];
  const edited = new Map<string, string>();
  try {
    files = projectFiles(project);
    const text = fs.readFileSync(config, "utf8");
    for (const c of chosen) edited.set(c.name, c.edit(text));
  } catch (e) {
    return bad((e as CopyError).message);
  }

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zh-ordinary-changes-"));
  const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
  const interrupt = (signal: NodeJS.Signals) => {
    if (running?.pid) {
      try {
        process.kill(-running.pid, "SIGTERM");
      } catch {
        // gone already
      }
    }
    cleanup();
    say(`check:ordinary-changes: interrupted (${signal}); removed ${dir}\n`);
    process.exit(130);
  };
  process.once("SIGINT", interrupt);
  process.once("SIGTERM", interrupt);
  let failed = 0;
  try {
    for (const c of chosen) {
      say(`${c.name}: ${c.description}\n`);
      const cdir = path.join(dir, c.name);
      fs.mkdirSync(cdir);
      const repo = copyProject(project, files, cdir);
      fs.writeFileSync(path.join(repo, "config/environments.ts"), edited.get(c.name)!);
      const diff = git(repo, "diff", "--unified=0", "--no-color", "--", "config/environments.ts").toString();
      say(diff.split("\n").filter((l) => /^[+-](?![+-])/.test(l)).map((l) => `  ${l}\n`).join(""));
      git(repo, "commit", "-qam", c.description);
      for (const step of ciSteps(validate, path.join(cdir, "jest-cache"))) {
        const log = path.join(cdir, `${step.name.replace(/\W+/g, "-")}.log`);
        const started = Date.now();
        const code = await run(step, repo, log);
        const secs = ((Date.now() - started) / 1000).toFixed(1);
        // The synthesis passed: the edit must be in it, or CI was green about nothing.
        const missed = code === 0 && step.name === SYNTH_STEP ? c.effect(repo, edited.get(c.name)!) : undefined;
        if (missed) {
          failed++;
          say(`  FAIL  ${step.name} (${secs} s): ${missed}\n`);
          continue;
        }
        if (code === 0) {
          say(`  PASS  ${step.name} (${secs} s)\n`);
          continue;
        }
        failed++;
        say(`  FAIL  ${step.name} (exit ${code}, ${secs} s)\n`);
        for (const f of failures(fs.readFileSync(log, "utf8"))) say(`          ${f}\n`);
      }
    }
  } finally {
    process.removeListener("SIGINT", interrupt);
    process.removeListener("SIGTERM", interrupt);
    cleanup();
  }
  if (!validate) say("note: the Terraform tier (test:validate) was left out (--no-validate)\n");
  say("note: compat:cdktn is not run here (its own npm ci in compat/cdktn); .ci/run runs it on the unchanged sources\n");
  say(failed === 0 ? `OK: ${chosen.map((c) => c.name).join(", ")} keep CI green\n` : `FAIL: ${failed} step(s) failed\n`);
  return failed === 0 ? 0 : 1;

  function bad(message: string): number {
    say(`error: ${message}\n${USAGE}`);
    return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`error: ${(e as Error).stack ?? e}\n`);
      process.exit(2);
    },
  );
}
