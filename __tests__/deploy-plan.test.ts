// `npm run deploy -- --plan <folder>` without Terraform: every refusal, before
// terraform runs, through the command line (commands/cdktf/index.ts); and, on a
// report that passes every check, the exact command it runs where. The apply
// itself, Terraform's refusal of a stale plan, and a real plan-check folder
// are in validate/deploy-plan.test.ts.
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { zipSync } from "fflate";
import { EnvironmentConfig } from "../config/environment";
// Fidelity to the HCL root: production as the HCL root has it, frozen in the tests, not as configured
// (config/environments.ts, which a team changes); a configured variant keeps its own settings on it.
import { HCL_PRODUCTION as production } from "./fixtures/hcl-production";
import { main, planFolder } from "../commands/cdktf";
import { PLAN_COPY, deployPlan } from "../commands/cdktf/deploy-plan";
import { synthesizeFirst } from "../lib/cli";
import { plannedTargets } from "../lib/plan/plan-file";
// Its commands synthesize the same stacks again and again: each synthesis made once (helpers.ts, rememberingSyntheses).
jest.mock("../lib/cli", () => (require("./helpers") as typeof import("./helpers")).rememberingSyntheses(jest.requireActual("../lib/cli")));

const sha256 = (d: string | Buffer) => createHash("sha256").update(d).digest("hex");
const environments: Record<string, EnvironmentConfig> = { production };
const stackText = synthesizeFirst("production", { environments, reviewEnvironments: {} }).text;
const stackSha = sha256(stackText);

/** A zip archive, as a plan file is (deploy --plan reads the configuration it saved): stored, as deflating cost ~0.3 s; SAVED deflated, as Terraform writes it. */
const zip = (entries: Record<string, string | Buffer>, level: 0 | 6 = 0) => Buffer.from(zipSync(Object.fromEntries(Object.entries(entries).map(([name, data]) => [name, Buffer.from(data)])), { level }));
/** A length-delimited protobuf field: its key (field number, wire type 2), length and bytes (short ones only). */
const field = (n: number, data: string | Buffer) => Buffer.concat([Buffer.from([(n << 3) | 2, Buffer.byteLength(data)]), Buffer.from(data)]);
/** A planfile protobuf (format version 3) as Terraform writes it: these -target addresses (target_addrs, field 5), planned in `workspace` (backend, field 13). */
const tfplanIn = (workspace: string | undefined, ...targets: string[]) =>
  Buffer.concat([Buffer.from([0x08, 3]), ...targets.map((t) => field(5, t)), ...(workspace === undefined ? [] : [field(13, Buffer.concat([field(1, "local"), field(3, workspace)]))])]);
const tfplan = (...targets: string[]) => tfplanIn("default", ...targets);
/** The saved plan the fixture's report names: the stack as the sources synthesize it. */
const SAVED = zip({ tfplan: tfplan(), "tfconfig/m-/cdk.tf.json": stackText }, 6);

const temps: string[] = [];
afterAll(() => temps.forEach((t) => fs.rmSync(t, { recursive: true, force: true })));

/** A project folder with a plan-check folder in it: an online plan against the backend that passed, unless `edit` says otherwise. */
function folder(edit: (report: any) => void = () => undefined, plan: string | Buffer = SAVED) {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "zh-deploy-plan-unit-")));
  temps.push(root);
  // The README's layout: the project in infra/cdktf, the HCL root's state in infra/terraform.
  const cwd = path.join(root, "infra", "cdktf");
  const dir = path.join(cwd, "cdktf.out", "plan-check", "production");
  fs.mkdirSync(path.join(dir, "stack"), { recursive: true });
  fs.writeFileSync(path.join(dir, "stack", "plan.tfplan"), plan);
  const report: any = {
    stack: "production",
    mode: "online",
    state: "the stack's backend",
    pass: true,
    failures: [],
    failureTexts: [],
    synthesized: { sha256: stackSha },
    backend: { type: "local", path: path.resolve(cwd, "cdktf.out/stacks/production", production.backend.type === "local" ? production.backend.path : "") },
    plannedAgainst: "backend",
    planFile: { path: "stack/plan.tfplan", sha256: sha256(SAVED), workingDir: path.join(cwd, "cdktf.out", "stacks", "production") },
  };
  edit(report);
  fs.writeFileSync(path.join(dir, "report.json"), JSON.stringify(report));
  return { cwd, dir, report };
}

/** `terraform show -json` of a plan that moves nothing and changes nothing: what the fakes show unless a test says otherwise. */
const NO_CHANGES = { format_version: "1.2", terraform_version: "1.11.4", resource_changes: [], prior_state: { values: { root_module: {} } }, errored: false, complete: true };
const shows = (plan: object = NO_CHANGES) => () => ({ code: 0, json: JSON.stringify(plan) });

function deploy(cwd: string, argv: string[], envs = environments, show = shows()) {
  let stderr = "";
  const applied: { args: readonly string[]; cwd: string }[] = [];
  const code = main(
    argv,
    { cwd, stdout: () => undefined, stderr: (t) => (stderr += t) },
    { cdktf: () => 99 },
    envs,
    { readS3: () => null },
    { terraform: (_bin, args, dir) => (applied.push({ args, cwd: dir }), 0), show },
  );
  return { code, stderr, applied };
}

describe("deploy --plan: refused before Terraform runs, with why (exit 2)", () => {
  it.each<[string, (r: any) => void, string]>([
    [
      "a FAIL verdict",
      (r) => {
        r.pass = false;
        r.failureTexts = ["`module.compute.aws_instance.host`: replace, forced by `ami` — not in the environment's allowDestroy"];
      },
      "error: refusing to apply: plan-check's verdict on this plan was FAIL:\n  - `module.compute.aws_instance.host`: replace, forced by `ami` — not in the environment's allowDestroy\nFix what it names, run plan-check again and review its report.\n",
    ],
    [
      "an offline plan",
      (r) => (r.mode = "offline"),
      "error: refusing to apply an offline plan (plan-check --offline): its configuration was adapted to run without AWS (fake credentials, data sources replaced by recorded values, " +
        "the installed provider instead of the pinned one, a copy of the state fitted to it), so applying it would write that copy's state, not production's. " +
        "Review it offline if you like, then plan with your credentials against the backend (npm run plan-check, without --offline and --state) and deploy that plan.\n",
    ],
    [
      "an online plan against a copy of a snapshot",
      (r) => {
        r.plannedAgainst = "snapshot";
        r.state = "`pulled.tfstate` (serial 317)";
      },
      "error: refusing to apply: this plan was made against a copy of a snapshot (`pulled.tfstate` (serial 317)), not against the stack's backend; applying it would write that copy. Plan with npm run plan-check without --state.\n",
    ],
    [
      "a plan that leaves addresses out (--exclude: a -target plan)",
      (r) => (r.excluded = [{ address: "aws_instance.compute_host", dependents: ["module.route53.aws_route53_record.api_a"] }]),
      "error: refusing to apply: this plan leaves out aws_instance.compute_host (plan-check --exclude, a -target plan), which the gate did not judge. " +
        "Plan the whole stack (plan-check without --exclude) and deploy that plan.\n",
    ],
    ["no saved plan (Terraform could not plan)", (r) => delete r.planFile, ""],
    ["a report of an older plan-check", (r) => delete r.synthesized, ""],
    ["another stack's report", (r) => (r.stack = "staging"), ""],
  ])("%s", (_name, edit, message) => {
    const f = folder(edit);
    const r = deploy(f.cwd, ["deploy", "production", "--plan", f.dir]);
    expect(r.code).toBe(2);
    if (message) expect(r.stderr).toBe(message);
    else expect(r.stderr).toMatch(/^error: (refusing to apply: plan-check saved no plan in .*\(Terraform could not plan\)|--plan .*: its report\.json does not record the synthesized stack, the backend and the plan file \(an older plan-check wrote it\): run plan-check again|--plan .* is plan-check's report on stack 'staging', not 'production')\n$/);
    expect(r.applied).toEqual([]);
  });

  it("a plan file that is not the one judged", () => {
    const f = folder(undefined, "another plan");
    const r = deploy(f.cwd, ["deploy", "production", "--plan", f.dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `error: refusing to apply: ${path.join(f.dir, "stack/plan.tfplan")} is not the plan plan-check judged (sha256 ${sha256("another plan")}, the report names ${sha256(SAVED)})\n`,
    );
  });

  it("a plan file whose saved configuration is not the stack the sources synthesize (another stack's, a report edited to name it): read from the plan itself", () => {
    const other = stackText.replace('"production"', '"staging"');
    for (const [plan, holds] of [
      [zip({ tfplan: tfplan(), "tfconfig/m-/cdk.tf.json": other }), `cdk.tf.json (cdk.tf.json sha256 ${sha256(other)})`],
      [zip({ tfplan: tfplan(), "tfconfig/m-/cdk.tf.json": stackText, "tfconfig/m-/extra.tf": 'resource "aws_sqs_queue" "q" {}' }), `cdk.tf.json, extra.tf (cdk.tf.json sha256 ${stackSha})`],
      [zip({ tfplan: tfplan() }), "no file"],
    ] as const) {
      // The report names that file's SHA-256: edited by hand, or written for it.
      const f = folder((r) => (r.planFile.sha256 = sha256(plan)), plan);
      const r = deploy(f.cwd, ["deploy", "production", "--plan", f.dir]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        `error: refusing to apply: ${path.join(f.dir, "stack/plan.tfplan")} was not planned from the stack the sources synthesize: its root module holds ${holds}, ` +
          `the sources synthesize sha256 ${stackSha}. A plan of another stack or of other sources: run plan-check again and review the new plan.\n`,
      );
      expect(r.applied).toEqual([]);
    }
    // A -target plan (plan-check --exclude) whose report was edited to list nothing excluded: read from the plan itself.
    const targeted = zip({ tfplan: tfplan("aws_iam_role.iam_ec2_role", "module.iam.aws_iam_role.ec2_role"), "tfconfig/m-/cdk.tf.json": stackText });
    const t = folder((r) => (r.planFile.sha256 = sha256(targeted)), targeted);
    expect(deploy(t.cwd, ["deploy", "production", "--plan", t.dir])).toMatchObject({
      code: 2,
      applied: [],
      stderr:
        `error: refusing to apply: ${path.join(t.dir, "stack/plan.tfplan")} is a -target plan (2 targets: aws_iam_role.iam_ec2_role, module.iam.aws_iam_role.ec2_role): ` +
        "what it leaves out was not judged. Plan the whole stack (plan-check without --exclude) and deploy that plan.\n",
    });
    const v2 = zip({ tfplan: Buffer.from([0x08, 2]), "tfconfig/m-/cdk.tf.json": stackText });
    const old = folder((r) => (r.planFile.sha256 = sha256(v2)), v2);
    expect(deploy(old.cwd, ["deploy", "production", "--plan", old.dir]).stderr).toBe(
      `error: refusing to apply: ${path.join(old.dir, "stack/plan.tfplan")} is not a Terraform plan file (its tfplan format version is 2, not 3, the one read here)\n`,
    );
    const notZip = folder((r) => (r.planFile.sha256 = sha256("not a plan")), "not a plan");
    expect(deploy(notZip.cwd, ["deploy", "production", "--plan", notZip.dir]).stderr).toBe(
      `error: refusing to apply: ${path.join(notZip.dir, "stack/plan.tfplan")} is not a Terraform plan file (not a zip archive: invalid zip data)\n`,
    );
  });

  it("sources that synthesize another stack now", () => {
    const f = folder();
    const r = deploy(f.cwd, ["deploy", "production", "--plan", f.dir], { production: { ...production, imageTag: "v2" } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^error: refusing to apply: the sources no longer synthesize the stack that was planned \\(sha256 [0-9a-f]{64}, planned ${stackSha}\\)\\. Run plan-check again and review the new plan\\.\\n$`));
  });

  it("a plan made against another backend than the stack's now", () => {
    const f = folder((r) => (r.backend = { type: "s3", bucket: "b", key: "k", region: "us-east-1", dynamodbTable: "t" }));
    const r = deploy(f.cwd, ["deploy", "production", "--plan", f.dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `error: refusing to apply: the plan was made against s3://b/k (us-east-1; lock: DynamoDB table t); the stack's backend is now local state ${path.resolve(f.cwd, "../terraform/terraform.tfstate")}\n`,
    );
  });

  it("a plan made in another Terraform workspace than the one deploy applies in (TF_WORKSPACE, else .terraform/environment, else default): refused, naming both", () => {
    const planned = (workspace: string | undefined) => zip({ tfplan: tfplanIn(workspace), "tfconfig/m-/cdk.tf.json": stackText });
    const run = (plan: Buffer, env: NodeJS.ProcessEnv, environment?: { dir: string; text: string }) => {
      const f = folder((r) => (r.planFile.sha256 = sha256(plan)), plan);
      const stackDir = path.join(f.cwd, "cdktf.out", "stacks", "production");
      if (environment) {
        fs.mkdirSync(path.join(stackDir, environment.dir), { recursive: true });
        fs.writeFileSync(path.join(stackDir, environment.dir, "environment"), environment.text);
      }
      let stderr = "";
      const ran: string[] = [];
      const code = deployPlan(
        "production",
        f.dir,
        { cwd: f.cwd, stdout: () => undefined, stderr: (t) => (stderr += t) },
        { environments, env: { PATH: process.env.PATH, ...env }, runner: { terraform: (_bin, args) => (ran.push(args[0]), 0), show: shows() } },
      );
      return { code, stderr, ran, planFile: path.join(f.dir, "stack", "plan.tfplan"), stackDir };
    };
    const refusal = (r: ReturnType<typeof run>, plannedIn: string, appliedIn: string, from: string) =>
      `error: refusing to apply: ${r.planFile} was planned in Terraform workspace '${plannedIn}', but deploy would apply it in workspace '${appliedIn}' (${from}), ` +
      `whose state it was not planned against. Select '${plannedIn}' (terraform workspace select, or TF_WORKSPACE) or plan again in '${appliedIn}'.\n`;
    // Planned in staging; nothing selected where deploy applies: default.
    const none = run(planned("staging"), {});
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(refusal(none, "staging", "default", `no workspace selected in ${path.join(none.stackDir, ".terraform", "environment")}`));
    // Planned in default; TF_WORKSPACE, or the workspace `terraform workspace select` recorded, is another.
    const byEnv = run(planned("default"), { TF_WORKSPACE: "staging" });
    expect(byEnv.stderr).toBe(refusal(byEnv, "default", "staging", "TF_WORKSPACE"));
    const byFile = run(planned("default"), {}, { dir: ".terraform", text: "staging\n" });
    expect(byFile.stderr).toBe(refusal(byFile, "default", "staging", path.join(byFile.stackDir, ".terraform", "environment")));
    const byDataDir = run(planned("default"), { TF_DATA_DIR: "tf-data" }, { dir: "tf-data", text: "staging" });
    expect(byDataDir.stderr).toBe(refusal(byDataDir, "default", "staging", path.join(byDataDir.stackDir, "tf-data", "environment")));
    for (const r of [none, byEnv, byFile, byDataDir]) expect([r.code, r.ran]).toEqual([2, []]);
    // The same workspace: applied. TF_WORKSPACE wins over the file, as in Terraform; an empty one counts as unset.
    expect(run(planned("staging"), {}, { dir: ".terraform", text: "staging\n" }).ran).toEqual(["init", "apply"]);
    expect(run(planned("staging"), { TF_WORKSPACE: "staging" }, { dir: ".terraform", text: "default" }).ran).toEqual(["init", "apply"]);
    expect(run(planned("default"), { TF_WORKSPACE: "" }).ran).toEqual(["init", "apply"]);
    // A tfplan that records no backend or no workspace is no plan Terraform wrote.
    const noBackend = run(planned(undefined), {});
    expect(noBackend.stderr).toBe(`error: refusing to apply: ${noBackend.planFile} is not a Terraform plan file (its tfplan records no backend)\n`);
    const noWorkspace = run(planned(""), {});
    expect(noWorkspace.stderr).toBe(`error: refusing to apply: ${noWorkspace.planFile} is not a Terraform plan file (its tfplan records no workspace)\n`);
  });

  it("--plan with another command, more stacks or other options; a folder without report.json", () => {
    const f = folder();
    for (const argv of [["diff", "production", "--plan", f.dir], ["deploy", "production", "--auto-approve", "--plan", f.dir], ["deploy", "--plan", f.dir]]) {
      const r = deploy(f.cwd, argv);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("error: --plan goes with deploy and one stack, alone: npm run deploy -- --plan <plan-check folder>");
    }
    const empty = deploy(f.cwd, ["deploy", "production", "--plan", f.cwd]);
    expect(empty.stderr).toBe(`error: --plan ${f.cwd}: no report.json there; give the folder plan-check wrote (its --out, default cdktf.out/plan-check/<stack>)\n`);
    expect(planFolder(["deploy", "production"])).toBeUndefined();
    expect(() => planFolder(["deploy", "production", "--plan"])).toThrow("--plan needs the folder plan-check wrote");
  });
});

describe("a saved plan's protobuf", () => {
  it("is read in linear time: its -target addresses among 40,000 values of another field (a plan's resource changes)", () => {
    const bytes = zip({ tfplan: Buffer.concat([tfplan("aws_instance.a"), ...Array.from({ length: 40_000 }, () => field(3, "x")), field(5, "module.b")]) });
    // Not a speed goal: a bound on copying. Each value appended to a copy of its field's list, this took 14 s
    // here (quadratic); now a few ms. 5 s leaves a hundredfold for a loaded machine.
    const start = Date.now();
    expect(plannedTargets(bytes)).toEqual(["aws_instance.a", "module.b"]);
    expect(Date.now() - start).toBeLessThan(5_000);
  });
});

describe("deploy --plan: a reviewed plan that passes every check", () => {
  it("a plan from another machine (a CI job's artifact, another absolute path) applies in this project's stack folder; init failing stops it", () => {
    const f = folder((r) => (r.planFile.workingDir = "/home/runner/work/repo/repo/cdktf.out/stacks/production"));
    let stderr = "";
    const calls: string[][] = [];
    const code = main(
      ["deploy", "production", "--plan", f.dir],
      { cwd: f.cwd, stdout: () => undefined, stderr: (t) => (stderr += t) },
      { cdktf: () => 99 },
      environments,
      { readS3: () => null },
      { terraform: (_bin, args, dir) => (calls.push([dir, ...args]), args[0] === "init" ? 1 : 0), show: shows() },
    );
    // Init's failure is no verdict: exit 2, the reason, nothing applied.
    expect(code).toBe(2);
    expect(calls).toEqual([[path.join(f.cwd, "cdktf.out", "stacks", "production"), "init", "-input=false"]]);
    expect(stderr.split("\n").filter((l) => l.startsWith("error:"))).toEqual([
      `error: terraform init exited 1 in ${path.join(f.cwd, "cdktf.out", "stacks", "production")} (its output above): the stack's folder is not ready ` +
        "(providers, modules, the backend), so the plan was not applied; fix what Terraform says and run deploy --plan again",
    ]);
  });

  it("synthesizes the stack's folder, runs terraform init there, then terraform apply -input=false <the plan file>; returns Terraform's exit code", () => {
    const f = folder();
    const stackDir = path.join(f.cwd, "cdktf.out", "stacks", "production");
    const r = deploy(f.cwd, ["deploy", "production", "--plan", f.dir]);
    expect(r.code).toBe(0);
    expect(r.applied).toEqual([
      { args: ["init", "-input=false"], cwd: stackDir },
      { args: ["apply", "-input=false", path.join(stackDir, PLAN_COPY)], cwd: stackDir },
    ]);
    // The copy goes when the apply ends.
    expect(fs.existsSync(path.join(stackDir, PLAN_COPY))).toBe(false);
    expect(sha256(fs.readFileSync(path.join(stackDir, "cdk.tf.json")))).toBe(stackSha);
    expect(r.stderr).toContain(`deploy --plan: the plan plan-check judged PASS (sha256 ${sha256(SAVED).slice(0, 12)}…), stack sha256 ${stackSha.slice(0, 12)}…`);
  });

  it("the plan file swapped once checked (while init runs, or a symbolic link retargeted): Terraform shows and applies the bytes checked", () => {
    const f = folder();
    const original = path.join(f.dir, "stack", "plan.tfplan");
    const seen: string[][] = [];
    const code = main(
      ["deploy", "production", "--plan", f.dir, "--no-verify"],
      { cwd: f.cwd, stdout: () => undefined, stderr: () => undefined },
      { cdktf: () => 99 },
      environments,
      { readS3: () => null },
      {
        terraform: (_bin, args) => {
          if (args[0] === "init") fs.writeFileSync(original, "another plan");
          if (args[0] === "apply") seen.push(["apply", sha256(fs.readFileSync(args[2]))]);
          return 0;
        },
        show: (_bin, planFile) => (seen.push(["show", sha256(fs.readFileSync(planFile))]), { code: 0, json: JSON.stringify(NO_CHANGES) }),
      },
    );
    expect(code).toBe(0);
    expect(seen).toEqual([
      ["show", sha256(SAVED)],
      ["apply", sha256(SAVED)],
    ]);
  });

  it("a report edited by hand to PASS, or an environment changed since: the plan itself, judged again before the apply, fails; exit 2, nothing applied", () => {
    const host = "aws_instance.compute_host";
    const replaced = {
      ...NO_CHANGES,
      resource_changes: [
        { address: host, mode: "managed", type: "aws_instance", change: { actions: ["delete", "create"], before: { ami: "ami-1" }, after: { ami: "ami-2" }, after_unknown: {}, replace_paths: [["ami"]] } },
        {
          address: "aws_ecr_repository.ecr_backend",
          previous_address: "module.ecr.aws_ecr_repository.backend",
          mode: "managed",
          type: "aws_ecr_repository",
          change: { actions: ["no-op"], before: {}, after: {}, after_unknown: {} },
        },
      ],
      prior_state: { values: { root_module: { resources: [{ address: host, mode: "managed" }, { address: "aws_ecr_repository.ecr_backend", mode: "managed" }] } } },
    };
    const f = folder();
    const r = deploy(f.cwd, ["deploy", "production", "--plan", f.dir], environments, shows(replaced));
    expect(r.code).toBe(2);
    expect(r.applied.map((a) => a.args[0])).toEqual(["init"]);
    expect(r.stderr.split("\n").filter((l) => l.startsWith("error:") || l.startsWith("  - ") || l.startsWith("Fix"))).toEqual([
      "error: refusing to apply: judged again now (the plan file itself, the environment as configured now), the plan fails the gate:",
      "  - `aws_instance.compute_host`: replace, forced by `ami` — not in the environment's allowDestroy",
      "Fix what it names, run plan-check again and review its report.",
    ]);
    // The same plan, once the environment allows the replace: applied.
    const allowed = { production: { ...production, allowDestroy: [{ address: host, reason: "a new AMI" }] } };
    const stackDir = path.join(f.cwd, "cdktf.out", "stacks", "production");
    expect(deploy(f.cwd, ["deploy", "production", "--plan", f.dir, "--no-verify"], allowed, shows(replaced)).applied).toEqual([
      { args: ["init", "-input=false"], cwd: stackDir },
      { args: ["apply", "-input=false", path.join(stackDir, PLAN_COPY)], cwd: stackDir },
    ]);
    // terraform show failing: not judged, not applied.
    const failing = deploy(f.cwd, ["deploy", "production", "--plan", f.dir], environments, () => ({ code: 1, json: "" }));
    expect(failing.code).toBe(2);
    expect(failing.stderr).toContain(`error: terraform show -json exited 1 in ${stackDir} (its output above): the plan could not be judged again, so it was not applied\n`);
    expect(failing.applied.map((a) => a.args[0])).toEqual(["init"]);
  });

  it("verify --wait after a successful apply, as a deploy does; --no-verify skips it; not after a failed apply", () => {
    const f = folder();
    const run = (argv: string[], applied: number) => {
      const verified: string[][] = [];
      let stderr = "";
      const code = main(
        argv,
        { cwd: f.cwd, stdout: () => undefined, stderr: (t) => (stderr += t) },
        { cdktf: () => 99, verify: (a) => (verified.push([...a]), 3) },
        environments,
        { readS3: () => null },
        { terraform: (_bin, args) => (args[0] === "apply" ? applied : 0), show: shows() },
      );
      return { code, verified, stderr };
    };
    const ok = run(["deploy", "production", "--plan", f.dir], 0);
    expect(ok.verified).toEqual([["--stack", "production", "--wait", "600"]]);
    expect(ok.code).toBe(3); // verify's verdict
    const skipped = run(["deploy", "production", "--plan", f.dir, "--no-verify"], 0);
    expect(skipped).toMatchObject({ code: 0, verified: [] });
    const failed = run(["deploy", "production", "--plan", f.dir], 1);
    expect(failed).toMatchObject({ code: 1, verified: [] });
  });

  it("plain npm run deploy is unchanged: the state check, then cdktf deploy", () => {
    const f = folder();
    const refused = deploy(f.cwd, ["deploy", "production"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("error: refusing to plan stack 'production': there is no state file at");
    const state = path.resolve(f.cwd, "../terraform/terraform.tfstate");
    fs.mkdirSync(path.dirname(state), { recursive: true });
    fs.copyFileSync(path.join(__dirname, "../../shared/fixtures/post-fix-production.tfstate"), state);
    const r = deploy(f.cwd, ["deploy", "production"]);
    expect(r.code).toBe(99); // cdktf's own exit code
    expect(r.applied).toEqual([]);
  });
});
