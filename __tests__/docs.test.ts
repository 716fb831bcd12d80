// `help` and the README say what the commands do: every command they show
// exists, with flags the command takes and stacks that exist, and machine
// output is piped without npm's banner.
import * as fs from "fs";
import * as path from "path";
import { environments, reviewEnvironments, staging } from "../config/environments";
import { USAGE as BENCH_USAGE } from "../bench";
import { USAGE as MIGRATE_STATE_USAGE } from "../commands/migrate-state";
import { USAGE as MIGRATION_USAGE } from "../commands/migration-check";
import { USAGE as PLAN_CHECK_USAGE } from "../commands/plan-check";
import { USAGE as POLICY_USAGE } from "../commands/policy";
import { USAGE as LINT_WORKFLOWS_USAGE } from "../commands/lint-workflows";
import { USAGE as SYNTH_DIFF_USAGE } from "../commands/synth-diff";
import { CHECKS, REQUESTS } from "../commands/verify/checks";
import { READ_OPERATIONS } from "../commands/verify/aws";
import { USAGE as VERIFY_USAGE } from "../commands/verify";

const ROOT = path.join(__dirname, "..");
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");
/** The pages under docs/, each tool's depth, linked from the README. */
const PAGES = fs.readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`);
// The README and its pages read as one document: what was checked in the README holds wherever it moved.
const README_AND_DOCS = [read("README.md"), ...PAGES.map(read)].join("\n");
const DOCS = {
  "README.md": README_AND_DOCS,
  help: fs.readFileSync(path.join(ROOT, "help"), "utf8"),
  "policy/README.md": fs.readFileSync(path.join(ROOT, "policy/README.md"), "utf8"),
  "bench/README.md": fs.readFileSync(path.join(ROOT, "bench/README.md"), "utf8"),
};
const scripts = Object.keys(JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts);
const USAGES: Record<string, string> = {
  policy: POLICY_USAGE,
  "migration-check": MIGRATION_USAGE,
  bench: BENCH_USAGE,
  "plan-check": PLAN_CHECK_USAGE,
  "synth-diff": SYNTH_DIFF_USAGE,
  "lint:workflows": LINT_WORKFLOWS_USAGE,
  verify: VERIFY_USAGE,
  "migrate-state": MIGRATE_STATE_USAGE,
};

/** `npm run [-s] <script> [-- <args>]` as written in a document (up to a comment, a pipe or a backquote). */
const commands = (text: string) =>
  [...text.matchAll(/npm run (-s )?([a-z][\w:-]*)(?: -- ([^`#|\n]*))?/g)].map((m) => ({ script: m[2], args: (m[3] ?? "").trim(), line: m[0] }));

/** What each check reads in a document; a check that finds nothing would assert nothing. */
const DOC_CHECKS = {
  "shows only npm scripts that exist": (text: string) => commands(text).map((c) => c.script),
  "shows only flags the command takes": (text: string) =>
    commands(text).flatMap(({ script, args }) => (USAGES[script] ? (args.match(/--[a-z][\w-]*/g) ?? []).map((flag) => `${script} ${flag}`) : [])),
  "names only stacks that exist (deployable or review only)": (text: string) => [...text.matchAll(/--stack[ =]([a-z][\w-]*)/g)].map((m) => m[1]),
  "runs machine output (--json, pipes) with npm run -s, so npm's banner does not reach the reader": (text: string) =>
    text.split("\n").filter((line) => /npm run [^`#]*(\||--json)/.test(line)),
} as const;
type Check = keyof typeof DOC_CHECKS;

/** The checks each document has something for; for the others, it must have nothing (so a new line cannot go unchecked). */
const APPLIES: Record<keyof typeof DOCS, readonly Check[]> = {
  "README.md": Object.keys(DOC_CHECKS) as Check[],
  help: Object.keys(DOC_CHECKS) as Check[],
  "policy/README.md": ["shows only npm scripts that exist"],
  "bench/README.md": ["shows only npm scripts that exist", "shows only flags the command takes"],
};

// staging: the example environment, named in the README's steps for adding it.
const KNOWN_STACKS = [...Object.keys(environments), ...Object.keys(reviewEnvironments), staging.environment];

const verify: Record<Check, (item: string) => void> = {
  "shows only npm scripts that exist": (script) => expect(scripts).toContain(script),
  "shows only flags the command takes": (item) => {
    const [script, flag] = item.split(" ");
    expect(`${script} ${USAGES[script]}`).toContain(flag);
  },
  "names only stacks that exist (deployable or review only)": (stack) => expect(KNOWN_STACKS).toContain(stack),
  "runs machine output (--json, pipes) with npm run -s, so npm's banner does not reach the reader": (line) => expect(line).toMatch(/npm run -s /),
};

describe.each(Object.entries(DOCS) as [keyof typeof DOCS, string][])("%s", (name, text) => {
  for (const check of Object.keys(DOC_CHECKS) as Check[]) {
    const items = DOC_CHECKS[check](text);
    if (APPLIES[name].includes(check)) {
      it(check, () => {
        // Nothing to check would pass without asserting anything: a document that has none must say so in APPLIES.
        expect(items.length).toBeGreaterThan(0);
        items.forEach(verify[check]);
      });
    } else {
      it(`has nothing to check for: ${check}`, () => {
        // Something new here must be checked: add the check to APPLIES for this document.
        expect(items).toEqual([]);
      });
    }
  }
});

it("help and the README agree on what the first diff shows", () => {
  const readme = DOCS["README.md"];
  const section = readme.slice(readme.indexOf("## What the first `cdktf diff` should show"), readme.indexOf("## Moving the state off one laptop"));
  expect(section.length).toBeGreaterThan(100);
  for (const expected of ["**moves**", "**in-place updates**", "**creations**", "the destruction of the deposed security group object"]) {
    expect(section).toContain(expected);
  }
  const diffLine = DOCS.help.slice(DOCS.help.indexOf("npm run diff"), DOCS.help.indexOf("npm run deploy")).replace(/\s+/g, " ");
  expect(diffLine).toContain("expect moves, in-place updates, the creations the migration check lists, and the deposed EC2 security group destroyed");
  expect(diffLine).toContain('docs/migration.md: "What the first cdktf diff should show"');
});

it("help and the README give synth-diff and the workflow linter the same form, and the README says what to configure", () => {
  const form = "npm run -s synth-diff -- <git ref> [--stack <name>] [--json] [--out <file>]";
  expect(DOCS.help).toContain(form);
  expect(DOCS["README.md"]).toContain(`| \`${form}\` |`);
  expect(DOCS.help).toContain("npm run lint:workflows");
  expect(DOCS["README.md"]).toContain("| `npm run lint:workflows` |");
  for (const setting of ["`AWS_PLAN_ROLE_ARN`", "`AWS_DEPLOY_ROLE_ARN`", "`PLAN_ARTIFACT_KEY`", "**Required reviewers**", "`id-token: write`", "`pull-requests: write`"]) {
    expect(DOCS["README.md"]).toContain(setting);
  }
});

it("help and the README give the hand-over as the same four steps", () => {
  const readme = DOCS["README.md"];
  const section = readme.slice(readme.indexOf("## Handing over from the HCL root"), readme.indexOf("### Step 0"));
  expect(section.length).toBeGreaterThan(100);
  const steps = ["npm run plan-check", "npm run migrate-state -- --push", "npm run plan-check", "npm run deploy -- --plan cdktf.out/plan-check/production"];
  const inHelp = DOCS.help.slice(DOCS.help.indexOf("The hand-over, in reviewed steps"));
  let at = 0;
  for (const step of steps) {
    at = inHelp.indexOf(step, at);
    expect(at).toBeGreaterThan(-1);
    at += step.length;
    expect(section).toContain(step);
  }
  for (const n of ["1. review", "2. migrate the state", "3. review again", "4. deploy the reviewed plan"]) expect(section).toContain(n);
});

it("the README shows help the template's way, and documents bench --quick", () => {
  expect(DOCS["README.md"]).toContain("`cat help` summarizes these");
  expect(DOCS["README.md"]).toContain("npm run bench -- --quick");
});

describe("verify: the README, help and the command agree", () => {
  const section = read("docs/verify.md");

  it("documents every option of the usage", () => {
    for (const flag of VERIFY_USAGE.match(/--[a-z][\w-]*/g) ?? []) expect(section).toContain(`\`${flag}`);
  });

  it("has a row for every check, with the requests the check makes", () => {
    const rows = new Map(
      section
        .split("\n")
        .filter((l) => l.startsWith("| ") && !l.startsWith("| check") && !l.startsWith("| ---") && !l.startsWith("| option") && !l.startsWith("| `--"))
        .map((l) => l.split(" | "))
        .filter((cells) => cells.length === 3)
        .map((cells) => [cells[0].slice(2), cells[2].replace(/ \|$/, "")] as const),
    );
    const named = (check: string) => [...rows.keys()].find((k) => k.split(", ").includes(check));
    for (const check of CHECKS) {
      const row = named(check);
      expect(row).toBeDefined();
      const listed = [...rows.get(row!)!.matchAll(/`([a-z0-9]+:[A-Za-z]+)`/g)].map((m) => m[1]);
      expect(listed).toEqual([...REQUESTS[check]]);
    }
  });

  it("lists every action it calls in Permissions, and no other", () => {
    const permissions = section.slice(section.indexOf("**Permissions.**"), section.indexOf("**What it proves"));
    const actions = [...permissions.matchAll(/`([a-z0-9]+:[A-Za-z]+)`/g)].map((m) => m[1]);
    expect([...actions].sort()).toEqual([...READ_OPERATIONS].sort());
  });

  it("help names verify, its options and deploy's --no-verify", () => {
    const help = DOCS.help;
    expect(help).toContain("npm run verify ");
    expect(help).toContain("then verify --wait 600 (-- --no-verify skips it)");
    for (const flag of ["--wait", "--logs"]) expect(help).toContain(`-- ${flag}`);
  });
});

describe("the README and its pages under docs/", () => {
  const files = ["README.md", ...PAGES, "policy/README.md", "bench/README.md"];
  /** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
  const anchor = (heading: string) => heading.trim().toLowerCase().replace(/[^\w\- ]/g, "").replace(/ /g, "-");
  const anchorsOf = (text: string) => {
    const outside = text.replace(/^```[\s\S]*?^```/gm, "");
    return new Set([...outside.matchAll(/^#{1,6} (.*)$/gm)].map((m) => anchor(m[1])));
  };
  const links = (file: string) =>
    [...read(file).replace(/^```[\s\S]*?^```/gm, "").matchAll(/\[[^\]]+\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((t) => !/^[a-z]+:/.test(t));

  it("every relative link resolves: the file exists, and so does the heading it names", () => {
    const broken: string[] = [];
    let count = 0;
    for (const file of files) {
      for (const target of links(file)) {
        count++;
        const [rel, hash] = target.split("#");
        const dest = rel ? path.join(path.dirname(file), rel) : file;
        if (!fs.existsSync(path.join(ROOT, dest))) broken.push(`${file}: ${target} (no ${dest})`);
        else if (hash && dest.endsWith(".md") && !anchorsOf(read(dest)).has(hash)) broken.push(`${file}: ${target} (no heading #${hash} in ${dest})`);
      }
    }
    expect(count).toBeGreaterThan(50);
    expect(broken).toEqual([]);
  });

  it("the README links every page, and every page links back to it", () => {
    const readme = read("README.md");
    expect(PAGES.length).toBeGreaterThanOrEqual(10);
    for (const page of PAGES) {
      expect([page, readme.includes(`](${page})`)]).toEqual([page, true]);
      expect([page, read(page).includes("](../README.md")]).toEqual([page, true]);
    }
  });

  it("has a first screen that says what this is and gives the two commands, then a table of contents", () => {
    const first = read("README.md").split("\n").slice(0, 25).join("\n");
    expect(first).toMatch(/^# ZivoHealth infrastructure/);
    expect(first).toContain("synthesizes the Terraform of the ZivoHealth production deployment on AWS");
    expect(first).toContain("npm ci && npm run synth");
    expect(first).toContain("npm test ");
    expect(read("README.md")).toContain("## Contents");
  });

  it("documents every command help names", () => {
    const inHelp = [...new Set([...DOCS.help.matchAll(/npm run (?:-s )?([a-z][\w:-]*)/g)].map((m) => m[1]))];
    expect(inHelp.length).toBeGreaterThan(10);
    for (const script of inHelp) expect([script, new RegExp(`npm run (-s )?${script.replace(/[:-]/g, "\\$&")}\\b`).test(README_AND_DOCS)]).toEqual([script, true]);
  });

  it("names every fixture path the commands take, and each exists", () => {
    for (const fixture of [
      "../shared/fixtures/existing-production.tfstate",
      "../shared/fixtures/post-fix-production.tfstate",
      "../shared/fixtures/existing-hcl/terraform",
      "../shared/fixtures/existing-hcl/terraform/modules",
      "__tests__/fixtures/plan-check/production-data.json",
    ]) {
      expect([fixture, read("README.md").includes(`\`${fixture}\``), fs.existsSync(path.join(ROOT, fixture))]).toEqual([fixture, true, true]);
    }
  });
});
