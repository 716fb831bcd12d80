import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { EnvironmentConfig } from "../config/environment";
// Fidelity to the HCL root: production as the HCL root has it, frozen in the tests, not as configured
// (config/environments.ts, which a team changes); a configured variant keeps its own settings on it.
import * as configured from "../config/environments";
import { HCL_PRODUCTION as production, onHclProduction } from "./fixtures/hcl-production";
const staging = onHclProduction(configured.staging, configured.production);
import { main, parseInvocation } from "../commands/cdktf";
import { MIGRATED_MODULES, StateReader, awsCli } from "../commands/cdktf/state-check";
import { buildDist } from "./processes";
import { tempDir } from "./tmp";

const SHARED = path.resolve(__dirname, "../../shared");
const PRODUCTION_STATE = path.join(SHARED, "fixtures/existing-production.tfstate");
const HCL_ROOT = path.join(SHARED, "fixtures/existing-hcl/terraform");

/**
 * The README's layout in a temporary folder: <repo>/infra/terraform (the HCL
 * root, its state) and <repo>/infra/cdktf (this project, where npm runs).
 */
function layout(opts: { state?: string; hclMain?: string } = {}) {
  const repo = tempDir("zh-state-");
  const root = path.join(repo, "infra", "terraform");
  const project = path.join(repo, "infra", "cdktf");
  fs.mkdirSync(path.join(root, "modules"), { recursive: true });
  fs.mkdirSync(project, { recursive: true });
  if (opts.state !== undefined) fs.writeFileSync(path.join(root, "terraform.tfstate"), opts.state);
  if (opts.hclMain !== undefined) fs.writeFileSync(path.join(root, "main.tf"), opts.hclMain);
  return { repo, root, project, statePath: path.join(root, "terraform.tfstate") };
}

function run(argv: string[], cwd: string, environments: Record<string, EnvironmentConfig> = { production }, reader?: StateReader) {
  const out: string[] = [];
  const err: string[] = [];
  const calls: string[][] = [];
  const code = main(
    argv,
    { stdout: (t) => out.push(t), stderr: (t) => err.push(t), cwd },
    { cdktf: (a) => (calls.push([...a]), 7) },
    environments,
    reader ?? { readS3: () => { throw new Error("no S3 in this test"); } },
  );
  return { code, stderr: err.join(""), lines: err.join("").split("\n").filter(Boolean), calls };
}

const MISSING_HINT = (project: string, stack = "production") =>
  `Terraform would start from an empty state and plan to create every resource again (a second EC2 host, a second zone). ` +
  `backend.path '../../../../terraform/terraform.tfstate' is relative to ${path.join(project, "cdktf.out", "stacks", stack)}: ` +
  "put this project where that path expects the HCL root (README: Layout), or correct backend.path. " +
  "For an environment that was never deployed, set newEnvironment: true.";

describe("npm run diff / deploy refuse to plan against a state that is not there", () => {
  it("routes npm run diff, deploy and cdktf through the check", () => {
    const scripts = JSON.parse(fs.readFileSync(path.join(__dirname, "../package.json"), "utf8")).scripts;
    expect([scripts.diff, scripts.deploy, scripts.cdktf]).toEqual([
      "node tools/build.js && node dist/commands/cdktf/index.js diff production",
      "node tools/build.js && node dist/commands/cdktf/index.js deploy production",
      "node tools/build.js && node dist/commands/cdktf/index.js",
    ]);
  });

  it("refuses when the project does not sit where backend.path expects, naming the absolute path, and runs nothing", () => {
    const { project, statePath } = layout();
    const r = run(["diff", "production"], project);
    expect(r.code).toBe(2);
    expect(r.lines).toEqual([`error: refusing to plan stack 'production': there is no state file at ${statePath}. ${MISSING_HINT(project)}`]);
    expect(r.calls).toEqual([]);
  });

  it.each([
    ["no resources", JSON.stringify({ version: 4, resources: [] })],
    ["only data sources", JSON.stringify({ version: 4, resources: [{ mode: "data", type: "aws_vpc", name: "existing", instances: [{}] }] })],
  ])("refuses a state with %s", (_what, state) => {
    const { project, statePath } = layout({ state });
    const r = run(["deploy", "production"], project);
    expect(r.code).toBe(2);
    expect(r.lines).toEqual([`error: refusing to plan stack 'production': the state holds no resources at ${statePath}. ${MISSING_HINT(project)}`]);
    expect(r.calls).toEqual([]);
  });

  it("refuses a state file that is not JSON", () => {
    const { project, statePath } = layout({ state: "not json" });
    const r = run(["diff", "production"], project);
    expect(r.code).toBe(2);
    expect(r.lines[0]).toMatch(new RegExp(`^error: refusing to plan stack 'production': the state at ${statePath.replace(/[.]/g, "\\.")} is not JSON \\(`));
  });

  it("runs cdktf with the same arguments against the real production state, and returns its exit code", () => {
    const { project } = layout({ state: fs.readFileSync(PRODUCTION_STATE, "utf8") });
    const r = run(["diff", "production", "--var", "image_tag=v2"], project);
    expect(r).toMatchObject({ code: 7, stderr: "", calls: [["diff", "production", "--var", "image_tag=v2"]] });
  });

  it("does not check commands that do not plan (synth, output; destroy has its own check, cdktf-destroy.test.ts)", () => {
    const { project } = layout();
    for (const command of ["synth", "output", "get"]) expect(run([command], project).code).toBe(7);
  });

  it("looks under --output, and checks every stack a glob or an empty list selects", () => {
    const { repo, project } = layout({ state: fs.readFileSync(PRODUCTION_STATE, "utf8") });
    // --output two levels deeper: the relative backend.path now points elsewhere.
    const deeper = run(["diff", "production", "--output", "out/cdktf.out"], project);
    expect(deeper.code).toBe(2);
    expect(deeper.lines[0]).toContain(`there is no state file at ${path.join(repo, "infra", "cdktf", "terraform", "terraform.tfstate")}.`);
    const both = { production, staging };
    const all = run(["deploy"], project, both);
    expect(all.code).toBe(7);
    expect(all.lines[0]).toBe(`note: stack 'staging' is new (newEnvironment): no state yet at ${path.join(repo, "infra", "terraform", "staging.tfstate")}`);
    expect(run(["deploy", "stag*"], project, both).lines).toEqual([all.lines[0]]);
  });

  it("refuses a stack that is not in environments", () => {
    const { project } = layout();
    const r = run(["deploy", "staging"], project);
    expect(r.lines).toEqual(["error: no stack 'staging' in environments (config/environments.ts); stacks: production"]);
    expect(r.code).toBe(2);
  });

  it("lets a new environment plan without a state, and refuses once its state holds resources", () => {
    const { project, root } = layout();
    expect(run(["deploy", "staging"], project, { staging }).calls).toEqual([["deploy", "staging"]]);
    fs.copyFileSync(PRODUCTION_STATE, path.join(root, "staging.tfstate"));
    const r = run(["deploy", "staging"], project, { staging });
    expect(r.code).toBe(2);
    expect(r.lines).toEqual([
      `error: refusing to plan stack 'staging': it is marked newEnvironment, but its state at ${path.join(root, "staging.tfstate")} holds 25 resources. ` +
        "It has been deployed: remove newEnvironment from its configuration and record its stateful resources in deployed.",
    ]);
  });

  it("parses cdktf's command line as yargs does (--var and --var-file take every value up to the next option)", () => {
    expect(parseInvocation(["deploy", "production", "--auto-approve", "--var", "a=1", "b=2", "--output=x"])).toEqual({
      command: "deploy",
      stacks: ["production"],
      output: "x",
    });
    expect(parseInvocation(["--app", "node x.js", "diff", "-o", "y", "staging", "production"])).toEqual({
      command: "diff",
      stacks: ["staging", "production"],
      output: "y",
    });
  });
});

describe("the deploy warns while the HCL root still declares the migrated modules", () => {
  const hclMain = fs.readFileSync(path.join(HCL_ROOT, "main.tf"), "utf8");
  const state = fs.readFileSync(PRODUCTION_STATE, "utf8");

  it("derives the migrated modules from the moved-block table", () => {
    expect(MIGRATED_MODULES).toEqual(["ecr", "iam", "ml_worker", "compute"]);
  });

  it("names each module block and its file, then deploys", () => {
    const { project, root } = layout({ state, hclMain });
    const r = run(["deploy", "production"], project);
    expect(r.lines).toEqual([
      `warning: the HCL root ${root} still declares module "iam", module "ecr", module "compute", module "ml_worker" and 7 other module and resource blocks (main.tf), on the state this stack uses. ` +
        "After this deploy, a terraform apply there would undo the moves and destroy what only this stack declares. " +
        'Complete the hand-over: docs/migration.md, "Handing over from the HCL root".',
    ]);
    expect(r.calls).toEqual([["deploy", "production"]]);
  });

  it("keeps warning while the HCL root is still a root, with the migrated modules gone", () => {
    const withoutMigrated = hclMain.replace(/^module "(ecr|iam|ml_worker|compute)" \{[\s\S]*?^\}\n/gm, "");
    expect(withoutMigrated).not.toMatch(/module "(ecr|iam|ml_worker|compute)"/);
    const { project, root } = layout({ state, hclMain: withoutMigrated });
    expect(run(["deploy", "production"], project).lines[0]).toBe(
      `warning: the HCL root ${root} still declares 7 other module and resource blocks (main.tf), on the state this stack uses. ` +
        "After this deploy, a terraform apply there would undo the moves and destroy what only this stack declares. " +
        'Complete the hand-over: docs/migration.md, "Handing over from the HCL root".',
    );
  });

  it("is quiet after the hand-over (no root blocks left, modules/ kept), and for diff", () => {
    const { project, root } = layout({ state });
    fs.copyFileSync(path.join(HCL_ROOT, "versions.tf"), path.join(root, "versions.tf"));
    expect(run(["deploy", "production"], project).stderr).toBe("");
    expect(run(["diff", "production"], layout({ state, hclMain }).project).stderr).toBe("");
  });

  it("reads a block after blank lines, a BOM or a tab, and 100 KB of blank lines in linear time", () => {
    const hclMain = `\ufeffmodule "iam" {\n}\n\n\n\t resource "a" "b" {\n${"\n".repeat(100_000)}}\n  module "ecr" {}\n`;
    const { project, root } = layout({ state, hclMain });
    // Not a speed goal: a bound on backtracking. Read from each line's start over every blank line after it,
    // these lines took 10 s here (quadratic); now a few ms. 5 s leaves a hundredfold for a loaded machine.
    const start = Date.now();
    expect(run(["deploy", "production"], project).lines[0]).toBe(
      `warning: the HCL root ${root} still declares module "iam", module "ecr" and 1 other module and resource blocks (main.tf), on the state this stack uses. ` +
        "After this deploy, a terraform apply there would undo the moves and destroy what only this stack declares. " +
        'Complete the hand-over: docs/migration.md, "Handing over from the HCL root".',
    );
    expect(Date.now() - start).toBeLessThan(5_000);
  });
});

describe("an S3 backend's state is read with the AWS CLI", () => {
  const s3Production: EnvironmentConfig = {
    ...production,
    backend: { type: "s3", bucket: "zivohealth-tfstate", key: "production/terraform.tfstate", region: "us-east-1" },
  };
  const reader = (result: string | null | Error): StateReader => ({
    readS3: () => {
      if (result instanceof Error) throw result;
      return result;
    },
  });

  it("refuses a missing object, naming it", () => {
    const r = run(["deploy", "production"], layout().project, { production: s3Production }, reader(null));
    expect(r.code).toBe(2);
    expect(r.lines[0]).toBe(
      "error: refusing to plan stack 'production': there is no state file at s3://zivohealth-tfstate/production/terraform.tfstate. " +
        "Terraform would start from an empty state and plan to create every resource again (a second EC2 host, a second zone). " +
        "correct backend.bucket and backend.key; if the backend was just switched, migrate the state first (docs/migration.md: Moving the state off one laptop). " +
        "For an environment that was never deployed, set newEnvironment: true.",
    );
  });

  it("refuses when it cannot tell, saying why", () => {
    const r = run(["diff", "production"], layout().project, { production: s3Production }, reader(new Error("the AWS CLI (aws) is not on PATH")));
    expect(r.lines).toEqual([
      "error: cannot check the state of stack 'production' at s3://zivohealth-tfstate/production/terraform.tfstate: the AWS CLI (aws) is not on PATH. " +
        "Install and configure the AWS CLI (the README's diff step uses it too), then run this again.",
    ]);
  });

  it("runs cdktf when the object holds resources", () => {
    expect(run(["diff", "production"], layout().project, { production: s3Production }, reader(fs.readFileSync(PRODUCTION_STATE, "utf8"))).calls).toEqual([
      ["diff", "production"],
    ]);
  });

  describe("the AWS CLI invocation (a stub aws on PATH)", () => {
    const savedPath = process.env.PATH;
    afterEach(() => (process.env.PATH = savedPath));
    const stub = (script: string) => {
      const bin = tempDir("zh-aws-");
      fs.writeFileSync(path.join(bin, "aws"), `#!/bin/sh\necho "$@" > "${bin}/args"\n${script}\n`, { mode: 0o755 });
      process.env.PATH = `${bin}:/usr/bin:/bin`;
      return bin;
    };

    it("copies the object to stdout, in the bucket's region", () => {
      const bin = stub(`cat "${PRODUCTION_STATE}"`);
      expect(awsCli.readS3("zivohealth-tfstate", "production/terraform.tfstate", "eu-west-1")).toBe(fs.readFileSync(PRODUCTION_STATE, "utf8"));
      expect(fs.readFileSync(path.join(bin, "args"), "utf8")).toBe("s3 cp s3://zivohealth-tfstate/production/terraform.tfstate - --region eu-west-1 --only-show-errors\n");
    });

    it("reads a 404 as no state, and any other failure as a reason", () => {
      stub(`echo "fatal error: An error occurred (404) when calling the HeadObject operation: Key \\"k\\" does not exist" >&2; exit 1`);
      expect(awsCli.readS3("b", "k", "us-east-1")).toBeNull();
      stub(`echo "Unable to locate credentials. You can configure credentials by running \\"aws configure\\"." >&2; exit 255`);
      expect(() => awsCli.readS3("b", "k", "us-east-1")).toThrow(
        'the AWS CLI could not read s3://b/k: Unable to locate credentials. You can configure credentials by running "aws configure".',
      );
    });

    it("says when there is no AWS CLI", () => {
      process.env.PATH = tempDir("zh-empty-");
      expect(() => awsCli.readS3("b", "k", "us-east-1")).toThrow("the AWS CLI (aws) is not on PATH");
    });
  });
});

// The check is plain data and files (the HCL modules' names from stacks/hcl-modules.ts, not the stack): a refused
// run, and the start of every run, load no cdktf and no provider bindings (~0.2 s of CPU less a run).
test("the compiled wrapper refuses a stack without its state before cdktf and the provider bindings load", () => {
  buildDist();
  const { repo, project, statePath } = layout();
  const loaded = path.join(repo, "loaded.json");
  const preload = path.join(repo, "record-loaded.js");
  fs.writeFileSync(preload, `process.on("exit", () => require("fs").writeFileSync(${JSON.stringify(loaded)}, JSON.stringify(Object.keys(require.cache))));\n`);
  const r = spawnSync(process.execPath, ["-r", preload, path.join(__dirname, "..", "dist", "commands", "cdktf", "index.js"), "diff", "production"], {
    cwd: project,
    encoding: "utf8",
    env: { ...process.env, CHECKPOINT_DISABLE: "1" },
  });
  expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 2, stdout: "" });
  expect(r.stderr).toMatch(new RegExp(`^error: refusing to plan stack 'production': there is no state file at ${statePath.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\. `));
  const files = JSON.parse(fs.readFileSync(loaded, "utf8")) as string[];
  expect(files.filter((f) => f.includes(`${path.sep}node_modules${path.sep}`))).toEqual([]);
  expect(files).toContain(path.join(__dirname, "..", "dist", "stacks", "hcl-modules.js"));
});
