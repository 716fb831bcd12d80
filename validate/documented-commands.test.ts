// Every command line the README and docs/ show in a code block runs as written:
// each is run with bash in a throw-away copy of the project (its files as the
// working tree has them, node_modules linked, ../shared beside it), with no
// TF_VAR_ variable from the caller, so a command that needs one must say so
// itself. A line that cannot run here is skipped by a rule below that says why
// (AWS, a placeholder, the suites themselves); any other line is run. Its exit
// code must be 0 or 1 (a verdict), never 2 (bad input: the command as written
// is incomplete) or a crash. The copy is removed afterwards.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { copyProject, git, projectFiles } from "../lib/project-copy";
import { toolchainPreamble } from "./lib/toolchain-preamble";

const ROOT = path.resolve(__dirname, "..");

/** README.md and every page under docs/. */
export function documents(root = ROOT): Record<string, string> {
  const docs = path.join(root, "docs");
  const pages = fs.existsSync(docs) ? fs.readdirSync(docs).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`) : [];
  return Object.fromEntries(["README.md", ...pages].map((f) => [f, fs.readFileSync(path.join(root, f), "utf8")]));
}

/** The command lines in a document's fenced code blocks: `npm ...`/`npx ...`, maybe after VAR=value, continuations joined, comments cut. */
export function commandLines(text: string): string[] {
  const lines: string[] = [];
  for (const block of text.matchAll(/^```[^\n]*\n([\s\S]*?)^```/gm)) {
    const raw = block[1].split("\n");
    for (let n = 0; n < raw.length; n++) {
      let line = raw[n].trim();
      while (line.endsWith("\\") && n + 1 < raw.length) line = `${line.slice(0, -1).trim()} ${raw[++n].trim()}`;
      if (!/^([A-Za-z_][A-Za-z0-9_]*=\S* )*(npm|npx) /.test(line)) continue;
      lines.push(line.replace(/\s+#\s.*$/, "").replace(/\s+/g, " ").trim());
    }
  }
  return lines;
}

/** Why a documented line is not run here; the first rule that matches wins. */
export const SKIPS: readonly { readonly rule: RegExp; readonly why: string }[] = [
  { rule: /<[a-z][^>]*>|\[--|\.\.\./, why: "a synopsis with placeholders (<...>, [--...]), not a line to run" },
  { rule: /^npm ci\b/, why: "installs the dependencies: .ci/run runs npm ci itself on a fresh clone (the rest of such a line is shown on its own elsewhere)" },
  { rule: /^npm (test|run (-s )?test:validate)\b/, why: "the test suites themselves: .ci/run runs them" },
  { rule: /^npm run (-s )?(diff|deploy)\b/, why: "cdktf diff/deploy: Terraform against the real backend and AWS" },
  { rule: /^npm run (-s )?verify\b/, why: "verify: read-only calls to AWS with your credentials" },
  { rule: /^(\S+=\S* )*npm run (-s )?plan-check\b(?!.*--offline)/, why: "plan-check online: refresh against AWS and the real backend" },
  { rule: /^(\S+=\S* )*npm run (-s )?migrate-state\b.*(--online|--push)/, why: "migrate-state --online/--push: the real backend and AWS" },
  { rule: /^npm run (-s )?bench\b/, why: "the benchmark: minutes of repeated runs (npm run bench)" },
  { rule: /^npm run (-s )?compat:cdktn\b/, why: "its own npm ci in compat/cdktn; .ci/run runs it" },
  { rule: /^npm run (-s )?check:ordinary-changes\b/, why: "copies the project and runs both test tiers twice: .ci/run runs it" },
];

const skipOf = (line: string) => SKIPS.find((s) => s.rule.test(line));

const { describeTier: describeRun } = toolchainPreamble("documented commands");

const docs = documents();
const all = Object.entries(docs).flatMap(([doc, text]) => commandLines(text).map((line) => ({ doc, line })));
const unique = [...new Map(all.map((c) => [c.line, c])).values()];
const toRun = unique.filter((c) => !skipOf(c.line));
const skipped = unique.filter((c) => skipOf(c.line));

describe("the documented command lines", () => {
  it("are found, and each one not run has a stated reason", () => {
    expect(toRun.length).toBeGreaterThan(5);
    // Said out loud: what is not run here, and why.
    console.warn(`documented commands not run here:\n${skipped.map((c) => `  ${c.line}  (${c.doc}): ${skipOf(c.line)!.why}`).join("\n")}`);
  });

  it("parses a code block as a reader would", () => {
    const text = "x\n```\nnpm run -s policy -- --json | jq .passed   # for machines\nTF_VAR_a=1 npm run plan-check -- --offline \\\n  --state s\necho no\n```\n`npm run inline`\n";
    expect(commandLines(text)).toEqual(["npm run -s policy -- --json | jq .passed", "TF_VAR_a=1 npm run plan-check -- --offline --state s"]);
  });
});

describeRun("each documented command line runs as written, offline, in a copy of the project", () => {
  let dir: string;
  let repo: string;
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("TF_VAR_")));
  env.CHECKPOINT_DISABLE = "1";

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "zh-documented-commands-"));
    repo = copyProject(ROOT, projectFiles(ROOT), dir);
    // synth-diff's examples compare with HEAD~1 and main: a second commit, on main.
    git(repo, "commit", "-q", "--allow-empty", "-m", "a second commit, for HEAD~1");
  });
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it.each(toRun.map((c) => [c.line, c.doc]))("%s  (%s)", (line) => {
    const r = spawnSync("bash", ["-o", "pipefail", "-c", line], { cwd: repo, env, encoding: "utf8", timeout: 900_000, maxBuffer: 64 << 20 });
    const tail = (t: string) => t.trimEnd().split("\n").slice(-12).join("\n");
    // 0 or 1: the command ran and gave its verdict; 2 is bad input (the line as written is incomplete).
    const ran = r.status === 0 || r.status === 1;
    expect(ran ? { line, ran } : { line, status: r.status, signal: r.signal, stderr: tail(r.stderr), stdout: tail(r.stdout) }).toEqual({ line, ran: true });
  });
});
