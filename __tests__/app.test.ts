// Long: npm run synth's behaviour as the user sees it: each refusal, the output folder's cases, interrupts of the compiled app, and synthesize's format rules.
import { spawn, spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { production, staging } from "../config/environments";
import { SynthRefusedError, buildApp, runApp, synthesize } from "../stacks/app";
import { synthesisSources } from "../stacks/synthesis-record";
import { ZivoHealthStack } from "../stacks/zivohealth-stack";
import { tempDir } from "./tmp";
import { buildDist, until } from "./processes";
import { DataAwsSubnets } from "@cdktf/provider-aws/lib/data-aws-subnets";
import { pinAddress } from "../modules/address";
import { TerraformElement } from "cdktf";
import { MOVES, Move } from "../stacks/moves";

const tmpOut = () => path.join(tempDir("zh-app-"), "cdktf.out");

describe("buildApp", () => {
  afterEach(() => jest.restoreAllMocks());

  it("builds one stack per environment and runs every stack's validations itself", () => {
    const validations = jest.spyOn(ZivoHealthStack.prototype, "runAllValidations");
    const outdir = tmpOut();
    buildApp({ production, staging }, { outdir }).synth();
    expect(validations).toHaveBeenCalledTimes(2);
    expect(fs.readdirSync(path.join(outdir, "stacks")).sort()).toEqual(["production", "staging"]);
  });

  it("synthesizes without a terraform binary on PATH (no `terraform version` check)", () => {
    const outdir = tmpOut();
    // cdktf's check shells out with the process's own environment, not the copy a test's process.env is: watched, not hidden.
    const execSync = jest.spyOn(require("child_process") as typeof import("child_process"), "execSync");
    buildApp({ production }, { outdir }).synth();
    expect(execSync).not.toHaveBeenCalled();
    const json = JSON.parse(fs.readFileSync(path.join(outdir, "stacks/production/cdk.tf.json"), "utf8"));
    expect(json.moved).toHaveLength(32);
    expect(json.terraform.required_version).toBe(">= 1.5.0");
  });
});

// ---------------------------------------------------------------------------
// npm run synth (runApp) and synthesize: one line per stack, user errors
// without a stack trace, nothing written unless every stack synthesizes.

describe("runApp (npm run synth)", () => {
  const savedCwd = process.cwd();
  let dir: string;
  let out: string;
  let err: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "zh-run-"));
    process.chdir(dir);
    out = "";
    err = "";
    jest.spyOn(process.stdout, "write").mockImplementation((t: string | Uint8Array) => ((out += String(t)), true));
    jest.spyOn(process.stderr, "write").mockImplementation((t: string | Uint8Array) => ((err += String(t)), true));
  });
  afterEach(() => {
    jest.restoreAllMocks();
    process.chdir(savedCwd);
    process.exitCode = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });
  /** Every path under `dir`, for "nothing was written". */
  const tree = (root = dir): string[] =>
    fs.readdirSync(root, { withFileTypes: true }).flatMap((e) => {
      const p = path.join(root, e.name);
      return [path.relative(dir, p), ...(e.isDirectory() ? tree(p) : [])];
    });
  /** Exit 2 for bad input or an unwritable folder, 1 only for the policy's verdict (failSynth). */
  const failsCleanly = (firstLine: string, code: 1 | 2) => {
    expect(process.exitCode).toBe(code);
    expect(out).toBe("");
    expect(err.split("\n")[0]).toBe(firstLine);
    expect(err).not.toMatch(/\n\s+at /); // no stack trace
  };

  it("says where it wrote each stack and how many policy findings it has, one line each", async () => {
    await runApp({ production, staging });
    expect(out).toBe(
      "production: wrote cdktf.out/stacks/production/cdk.tf.json; 18 policy findings (0 critical, 6 high, 6 medium, 6 low), none blocking\n" +
        "staging: wrote cdktf.out/stacks/staging/cdk.tf.json; 18 policy findings (0 critical, 6 high, 6 medium, 6 low), none blocking\n",
    );
    expect(err).toBe("");
    expect(process.exitCode).toBeUndefined();
    // The compute templates travel with each stack: templatefile reads them at plan.
    const assets = (stack: string) => [
      `cdktf.out/stacks/${stack}/assets`,
      `cdktf.out/stacks/${stack}/assets/compute_compose_template_14385AD0`,
      `cdktf.out/stacks/${stack}/assets/compute_compose_template_14385AD0/B784A75E3D84832B2139173A3381AC93`,
      `cdktf.out/stacks/${stack}/assets/compute_compose_template_14385AD0/B784A75E3D84832B2139173A3381AC93/docker-compose.yml.tpl`,
      `cdktf.out/stacks/${stack}/assets/compute_user_data_template_14C8B567`,
      `cdktf.out/stacks/${stack}/assets/compute_user_data_template_14C8B567/421C0F7653134BB2D634046C79FF04F9`,
      `cdktf.out/stacks/${stack}/assets/compute_user_data_template_14C8B567/421C0F7653134BB2D634046C79FF04F9/user_data_minimal.sh.tpl`,
    ];
    expect(tree().sort()).toEqual([
      "cdktf.out",
      "cdktf.out/manifest.json",
      "cdktf.out/stacks",
      "cdktf.out/stacks/production",
      ...assets("production"),
      "cdktf.out/stacks/production/cdk.tf.json",
      "cdktf.out/stacks/production/synthesis.json",
      "cdktf.out/stacks/staging",
      ...assets("staging"),
      "cdktf.out/stacks/staging/cdk.tf.json",
      "cdktf.out/stacks/staging/synthesis.json",
    ]);
    // Beside each stack, the record of what made it: these sources, this file and its templates, by content.
    const record = JSON.parse(fs.readFileSync(path.join(dir, "cdktf.out/stacks/production/synthesis.json"), "utf8"));
    const sha = (f: string) => createHash("sha256").update(fs.readFileSync(path.join(dir, "cdktf.out/stacks/production", f))).digest("hex");
    expect(record).toEqual({
      stack: "production",
      output: {
        file: "cdk.tf.json",
        sha256: sha("cdk.tf.json"),
        assets: Object.fromEntries(assets("production").filter((a) => a.endsWith(".tpl")).map((a) => [a.slice("cdktf.out/stacks/production/".length), sha(a.slice("cdktf.out/stacks/production/".length))])),
      },
      sources: synthesisSources(),
    });
    expect(record.sources.files.map((f: { file: string }) => f.file)).toContain("modules/compute/user_data_minimal.sh.tpl");
    const template = (stack: string) =>
      fs.readFileSync(path.join(dir, `cdktf.out/stacks/${stack}/assets/compute_user_data_template_14C8B567/421C0F7653134BB2D634046C79FF04F9/user_data_minimal.sh.tpl`));
    expect(template("production").equals(fs.readFileSync(path.join(savedCwd, "modules/compute/user_data_minimal.sh.tpl")))).toBe(true);
  });

  it("counts exempted and blocking findings under the stack's own policy configuration", async () => {
    await runApp({
      production: {
        ...production,
        policy: {
          config: {
            blockingSeverities: ["high"],
            exemptions: [{ id: "ZH-ECS-PUBLIC-IP", address: "aws_ecs_service.ml_worker_ml_worker", reason: "public subnets, no NAT" }],
          },
        },
      },
    });
    expect(out).toBe(
      "production: wrote cdktf.out/stacks/production/cdk.tf.json; 17 policy findings (0 critical, 6 high, 5 medium, 6 low), 1 exempted, 6 blocking\n",
    );
  });

  it("bad policy configuration: the field and the allowed values, no stack trace, nothing written", async () => {
    await runApp({ production: { ...production, policy: { config: { blockingSeverities: ["urgent" as never] } } } });
    failsCleanly("Invalid environment configuration:", 2);
    expect(err).toBe(
      "Invalid environment configuration:\n  - production: policy.config.blockingSeverities[0] must be one of critical, high, medium, low (got \"urgent\")\n",
    );
    expect(tree()).toEqual([]);
  });

  it("failSynth with blocking findings: the findings, no stack trace, nothing written (no empty stack folders)", async () => {
    await runApp({ production: { ...production, policy: { config: { blockingSeverities: ["high"] }, failSynth: true } } });
    failsCleanly("Synthesis refused by 6 errors; nothing was written:", 1);
    expect(err).toContain("  - [production/ec2_existing_vpc] [ZH-SG-SSH-WORLD] (high, CKV_AWS_24)");
    expect(err.trimEnd().split("\n").pop()).toBe(
      "policy.failSynth makes findings of a blocking severity errors: fix them, exempt them (policy.config.exemptions), or change policy.config.blockingSeverities.",
    );
    expect(tree()).toEqual([]);
  });

  it("an exemption that matches nothing is an error, naming it and where the rule does report", async () => {
    await runApp({
      production: {
        ...production,
        policy: {
          config: {
            exemptions: [
              { id: "ZH-ECS-PUBLIC-IP", address: "aws_ecs_service.ml_worker", reason: "typo in the address" },
              { id: "ZH-SQS-ENCRYPTION", address: "aws_sqs_queue.ml_worker_ml_worker", reason: "matches" },
              { id: "ZH-LOG-KMS", address: "aws_kms_key.gone", reason: "x" },
              { id: "ZH-NOPE", address: "aws_sqs_queue.ml_worker_ml_worker", reason: "x" },
              { id: "ZH-ECR-SCAN-ON-PUSH", address: "aws_ecr_repository.ecr_backend", reason: "accepted before it was fixed" },
            ],
          },
        },
      },
    });
    failsCleanly("Invalid policy exemptions of stack 'production':", 2);
    expect(err.trimEnd().split("\n").slice(1)).toEqual([
      "  - policy.config.exemptions[0] (ZH-ECS-PUBLIC-IP at aws_ecs_service.ml_worker) matches no finding: ZH-ECS-PUBLIC-IP is reported at aws_ecs_service.ml_worker_ml_worker; correct the address or remove the exemption",
      "  - policy.config.exemptions[2] (ZH-LOG-KMS at aws_kms_key.gone) matches no finding: ZH-LOG-KMS is reported at aws_cloudwatch_log_group.ml_worker_ml_worker; correct the address or remove the exemption",
      expect.stringMatching(/^ {2}- policy\.config\.exemptions\[3\] \(ZH-NOPE at aws_sqs_queue\.ml_worker_ml_worker\) matches no finding: ZH-NOPE is not a rule id \(rules: ZH-SQS-ENCRYPTION, .*ZH-SECRET-HIGH-ENTROPY\)$/),
      "  - policy.config.exemptions[4] (ZH-ECR-SCAN-ON-PUSH at aws_ecr_repository.ecr_backend) matches no finding: the stack has no ZH-ECR-SCAN-ON-PUSH finding any more; remove the exemption",
    ]);
    expect(tree()).toEqual([]);
  });

  it("a file where cdktf.out should be: refused before any work, the file left alone", async () => {
    fs.writeFileSync("cdktf.out", "not a folder");
    await runApp({ production });
    failsCleanly("cannot write cdktf.out: it is a file, not a folder; move it away and synthesize again", 2);
    expect(tree()).toEqual(["cdktf.out"]);
    expect(fs.readFileSync("cdktf.out", "utf8")).toBe("not a folder");
  });

  it("a file where a stack folder should be: refused, the rest of cdktf.out unchanged", async () => {
    fs.mkdirSync("cdktf.out/stacks", { recursive: true });
    fs.writeFileSync("cdktf.out/stacks/production", "blocked");
    await runApp({ production });
    failsCleanly("cannot write cdktf.out/stacks/production: it is a file, not a folder; move it away and synthesize again", 2);
    expect(tree().sort()).toEqual(["cdktf.out", "cdktf.out/stacks", "cdktf.out/stacks/production"]);
  });

  /** Every path under `dir` with each file's content, to compare before and after. */
  const snapshot = () => tree().map((p) => [p, fs.statSync(p).isDirectory() ? "<dir>" : fs.readFileSync(p, "utf8")]);

  it.each([
    ["cdk.tf.json", "cdktf.out/stacks/production/cdk.tf.json", "it is a folder, not a file"],
    ["synthesis.json", "cdktf.out/stacks/production/synthesis.json", "it is a folder, not a file"],
    ["manifest.json", "cdktf.out/manifest.json", "it is a folder, not a file"],
    ["assets", "cdktf.out/stacks/production/assets", "it is a file, not a folder"],
  ])("%s: a folder where a file goes, or a file where a folder goes: refused before the first rename, cdktf.out exactly as it was, no .tmp-* files", async (_name, blocked, what) => {
    await runApp({ production });
    fs.rmSync(blocked, { recursive: true });
    if (what.startsWith("it is a folder")) fs.mkdirSync(blocked);
    else fs.writeFileSync(blocked, "in the way");
    fs.writeFileSync("cdktf.out/stacks/production/cdk.tf.json.keep", "old");
    const before = snapshot();
    out = "";
    await runApp({ production });
    failsCleanly(`cannot write ${blocked}: ${what}; move it away and synthesize again`, 2);
    expect(snapshot()).toEqual(before);
    expect(tree().filter((p) => p.includes(".tmp-"))).toEqual([]);
  });

  // Permissions do not stop root: there the blocked cases above cover the same path, and validate/unprivileged.test.ts
  // runs the app on a read-only cdktf.out as nobody.
  const canMakeReadOnly = (() => {
    const probe = fs.mkdtempSync(path.join(os.tmpdir(), "zh-ro-probe-"));
    fs.chmodSync(probe, 0o555);
    try {
      fs.writeFileSync(path.join(probe, "x"), "");
      return false;
    } catch {
      return true;
    } finally {
      fs.chmodSync(probe, 0o755);
      fs.rmSync(probe, { recursive: true, force: true });
    }
  })();
  (canMakeReadOnly ? it : it.skip)("a read-only cdktf.out: refused with the folder named, no stack trace", async () => {
    fs.mkdirSync("cdktf.out");
    fs.chmodSync("cdktf.out", 0o555);
    try {
      await runApp({ production });
      failsCleanly("cannot write cdktf.out: permission denied; make it writable (or remove it) and synthesize again", 2);
    } finally {
      fs.chmodSync("cdktf.out", 0o755);
    }
  });

  it("two constructs pinned to one address: refused naming both paths and the address, no stack trace, nothing written", async () => {
    // A stack with a second subnet lookup pinned to the first one's name, as a mistyped pin in the stack would make it.
    type WithOutputs = { addOutputs(...args: unknown[]): void };
    const proto = ZivoHealthStack.prototype as unknown as WithOutputs;
    const addOutputs = proto.addOutputs;
    jest.spyOn(proto, "addOutputs").mockImplementation(function (this: ZivoHealthStack, ...args: unknown[]) {
      const lookup = new DataAwsSubnets(this, "second_private", { filter: [{ name: "map-public-ip-on-launch", values: ["false"] }] });
      pinAddress(lookup, "", "existing_public");
      addOutputs.apply(this, args);
    });
    await runApp({ production });
    failsCleanly("Invalid Terraform addresses:", 2);
    expect(err).toBe(
      "Invalid Terraform addresses:\n" +
        "  - data.aws_subnets.existing_public is the address of 2 constructs: production/existing_public, production/second_private; " +
        "cdktf would merge them into one block. Give each its own name (pinAddress, overrideLogicalId)\n",
    );
    expect(tree()).toEqual([]);
  });

  it("a mistyped pin that takes another element's address (the DLQ's as the queue's): named as the clash, not as the moved block it leaves without a target", async () => {
    const override = TerraformElement.prototype.overrideLogicalId;
    jest.spyOn(TerraformElement.prototype, "overrideLogicalId").mockImplementation(function (this: TerraformElement, id: string) {
      override.call(this, id === "ml_worker_ml_worker_dlq" ? "ml_worker_ml_worker" : id);
    });
    await runApp({ production });
    failsCleanly("Invalid Terraform addresses:", 2);
    expect(err).toBe(
      "Invalid Terraform addresses:\n" +
        "  - aws_sqs_queue.ml_worker_ml_worker is the address of 2 constructs: production/ml_worker/queue/ml_worker_dlq, production/ml_worker/queue/ml_worker; " +
        "cdktf would merge them into one block. Give each its own name (pinAddress, overrideLogicalId)\n",
    );
    expect(tree()).toEqual([]);
  });

  it("a moved block whose target the stack no longer synthesizes: the message, exit 2, no stack trace, nothing written", async () => {
    const gone: Move = { from: "module.ml_worker.aws_cloudwatch_metric_alarm.gone", to: "aws_cloudwatch_metric_alarm.ml_worker_gone" };
    (MOVES as Move[]).push(gone);
    try {
      await runApp({ production });
    } finally {
      (MOVES as Move[]).pop();
    }
    failsCleanly("moved blocks point at addresses this stack does not synthesize (a construct id or address changed?):", 2);
    expect(err).toBe(
      "moved blocks point at addresses this stack does not synthesize (a construct id or address changed?):\n" +
        "  - module.ml_worker.aws_cloudwatch_metric_alarm.gone -> aws_cloudwatch_metric_alarm.ml_worker_gone\n",
    );
    expect(tree()).toEqual([]);
  });

  it("a refusal leaves the previous output exactly as it was", async () => {
    await runApp({ production });
    const before = fs.readFileSync("cdktf.out/stacks/production/cdk.tf.json", "utf8");
    const manifest = fs.readFileSync("cdktf.out/manifest.json", "utf8");
    out = "";
    await runApp({ production: { ...production, policy: { config: { blockingSeverities: ["high"] }, failSynth: true } }, staging: production });
    // staging copies production's names and backend: a configuration error (2), refused before the policy runs.
    expect(process.exitCode).toBe(2);
    expect(err).toMatch(/^Invalid environment configuration:\n.*stacks 'production' and 'staging' share the backend/);
    expect(fs.readFileSync("cdktf.out/stacks/production/cdk.tf.json", "utf8")).toBe(before);
    expect(fs.readFileSync("cdktf.out/manifest.json", "utf8")).toBe(manifest);
    expect(fs.readdirSync("cdktf.out/stacks")).toEqual(["production"]);
  });
});

// The exit code as the process ends with it (npm run synth runs the compiled app): bad configuration is 2.
test("the compiled app, given a bad configuration: exit 2, the message, no stack trace, nothing written", () => {
  const root = path.join(__dirname, "..");
  buildDist();
  const cwd = tempDir("zh-app-exit-");
  // dist/main.js with another configuration: the startup first, as main.ts has it (a script of its own, not `node -e`, where it stays off).
  const script = path.join(tempDir("zh-app-exit-script-"), "main.js");
  fs.writeFileSync(
    script,
    `require(${JSON.stringify(path.join(root, "dist/stacks/startup.js"))});\n` +
      `const { runApp } = require(${JSON.stringify(path.join(root, "dist/stacks/app.js"))});\n` +
      `const { production } = require(${JSON.stringify(path.join(root, "dist/config/environments.js"))});\n` +
      `runApp({ production: { ...production, policy: { config: { blockingSeverities: ["urgent"] } } } });\n`,
  );
  const r = spawnSync(process.execPath, [script], { cwd, encoding: "utf8" });
  expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
    status: 2,
    stdout: "",
    stderr: 'Invalid environment configuration:\n  - production: policy.config.blockingSeverities[0] must be one of critical, high, medium, low (got "urgent")\n',
  });
  expect(fs.readdirSync(cwd)).toEqual([]);
});

// The refusal comes before cdktf and the provider bindings load (~0.4 s of CPU of each refused run): every check of a
// configuration is plain data (config/validate.ts), and stacks/app.ts loads the synthesis once a configuration is accepted.
test("the compiled app refuses a bad configuration before cdktf and the provider bindings load", () => {
  const root = path.join(__dirname, "..");
  buildDist();
  const dir = tempDir("zh-app-early-");
  const cwd = path.join(dir, "cwd");
  fs.mkdirSync(cwd);
  const loaded = path.join(dir, "loaded.json");
  const script = path.join(dir, "main.js");
  // As main.ts: the startup, then the app; a name no stack may have, and an unknown ML worker mode.
  fs.writeFileSync(
    script,
    `require(${JSON.stringify(path.join(root, "dist/stacks/startup.js"))});\n` +
      `const { runApp } = require(${JSON.stringify(path.join(root, "dist/stacks/app.js"))});\n` +
      `const { production } = require(${JSON.stringify(path.join(root, "dist/config/environments.js"))});\n` +
      `process.on("exit", () => require("fs").writeFileSync(${JSON.stringify(loaded)}, JSON.stringify(Object.keys(require.cache))));\n` +
      `runApp({ production: { ...production, mlWorker: { ...production.mlWorker, workerMode: "batch" } } });\n`,
  );
  const r = spawnSync(process.execPath, [script], { cwd, encoding: "utf8" });
  expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
    status: 2,
    stdout: "",
    stderr: "Invalid environment configuration:\n  - production: mlWorker.workerMode must be one of 'sqs', 'aggregation', 'both' (got 'batch')\n",
  });
  expect(fs.readdirSync(cwd)).toEqual([]);
  // Each file loaded from node_modules, as <package>/<path>.
  const files = (JSON.parse(fs.readFileSync(loaded, "utf8")) as string[])
    .filter((f) => f.includes(`${path.sep}node_modules${path.sep}`))
    .map((f) => f.slice(f.lastIndexOf(`node_modules${path.sep}`) + "node_modules/".length).split(path.sep).join("/"));
  expect([...new Set(files.map((f) => f.split("/")[0]))].sort()).toEqual(["cdktf", "fastest-levenshtein"]);
  // Of cdktf, its token encoding alone (Token.isUnresolved, which the checks use): not its index, App and constructs.
  expect(files.filter((f) => f.startsWith("cdktf/") && !f.startsWith("cdktf/lib/tokens/"))).toEqual(["cdktf/lib/errors.js"]);
});

// An interrupt while the compiled app or a command synthesizes: the temporary folder goes, cdktf.out stays as it was.
describe("interrupted", () => {
  const root = path.join(__dirname, "..");
  beforeAll(buildDist);

  /** Starts `script` with a TMPDIR of its own; once its staging folder exists, sends `signal`; how it ended and what TMPDIR then holds. */
  async function interrupt(script: string, args: string[], signal: NodeJS.Signals, cwd: string) {
    const tmp = tempDir("zh-interrupt-tmp-");
    const child = spawn(process.execPath, [path.join(root, script), ...args], { cwd, env: { ...process.env, TMPDIR: tmp }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("close", (code, sig) => resolve({ code, signal: sig })));
    const staged = await until(() => fs.readdirSync(tmp).some((f) => f.startsWith("zivohealth-synth-")), 60_000);
    expect(staged).toBe(true);
    child.kill(signal);
    const end = await ended;
    return { ...end, stdout, stderr, tmp: fs.readdirSync(tmp) };
  }

  /** Every path under `dir` with each file's content. */
  const contents = (dir: string, rel = ""): [string, string][] =>
    fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e): [string, string][] => {
      const p = path.join(rel, e.name);
      return e.isDirectory() ? [[p, "<dir>"], ...contents(dir, p)] : [[p, fs.readFileSync(path.join(dir, p), "utf8")]];
    });

  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)("npm run synth (dist/main.js), %s while staging: exit %i, no temporary folder left, cdktf.out exactly as it was", async (signal, code) => {
    const cwd = tempDir("zh-interrupt-");
    fs.mkdirSync(path.join(cwd, "cdktf.out/stacks/production"), { recursive: true });
    fs.writeFileSync(path.join(cwd, "cdktf.out/manifest.json"), "an earlier synthesis");
    fs.writeFileSync(path.join(cwd, "cdktf.out/stacks/production/cdk.tf.json"), "an earlier synthesis");
    const before = contents(cwd);
    const r = await interrupt("dist/main.js", [], signal, cwd);
    expect({ code: r.code, signal: r.signal, stdout: r.stdout, stderr: r.stderr, tmp: r.tmp }).toEqual({ code, signal: null, stdout: "", stderr: "", tmp: [] });
    expect(contents(cwd)).toEqual(before);
  });

  it("npm run policy (in memory), SIGINT: exit 130, no temporary folder left", async () => {
    const cwd = tempDir("zh-interrupt-");
    const r = await interrupt("dist/commands/policy.js", ["--stack", "production"], "SIGINT", cwd);
    expect({ code: r.code, signal: r.signal, tmp: r.tmp }).toEqual({ code: 130, signal: null, tmp: [] });
    expect(fs.readdirSync(cwd)).toEqual([]);
  });
});

describe("synthesize", () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "zh-synth-"))));
  afterEach(() => {
    delete process.env.SYNTH_HCL_OUTPUT;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("removes a stale cdk.tf and its metadata.json (left by cdktf synth --hcl) beside cdk.tf.json, and keeps .terraform", () => {
    const stackDir = path.join(dir, "cdktf.out/stacks/production");
    fs.mkdirSync(path.join(stackDir, ".terraform"), { recursive: true });
    fs.writeFileSync(path.join(stackDir, "cdk.tf"), 'terraform {\n  0 = "required_version"\n}\n');
    fs.writeFileSync(path.join(stackDir, "metadata.json"), '{"//":{"metadata":{"stackName":"production"}}}');
    const [s] = synthesize({ production }, { outdir: path.join(dir, "cdktf.out") });
    expect(s.file).toBe(path.join(stackDir, "cdk.tf.json"));
    expect(fs.readdirSync(stackDir).sort()).toEqual([".terraform", "assets", "cdk.tf.json"]);
    expect(JSON.parse(fs.readFileSync(s.file!, "utf8"))).toEqual(JSON.parse(s.text));
  });

  it("keeps only the asset versions it wrote: an older template's copy goes, what is not an asset version stays", () => {
    const assets = path.join(dir, "cdktf.out/stacks/production/assets");
    const stale = path.join(assets, "compute_user_data_template_14C8B567/0123456789ABCDEF0123456789ABCDEF");
    const gone = path.join(assets, "compute_renamed_template_00000000/0123456789ABCDEF0123456789ABCDEF");
    for (const d of [stale, gone]) {
      fs.mkdirSync(d, { recursive: true });
      fs.writeFileSync(path.join(d, "user_data_minimal.sh.tpl"), "old");
    }
    fs.writeFileSync(path.join(assets, "notes.txt"), "not synthesized");
    synthesize({ production }, { outdir: path.join(dir, "cdktf.out") });
    expect(fs.readdirSync(assets).sort()).toEqual(["compute_compose_template_14385AD0", "compute_user_data_template_14C8B567", "notes.txt"]);
    expect(fs.readdirSync(path.join(assets, "compute_user_data_template_14C8B567"))).toEqual(["421C0F7653134BB2D634046C79FF04F9"]);
  });

  it("under cdktf synth --hcl, writes cdk.tf and removes cdk.tf.json, so one format is left", () => {
    const stackDir = path.join(dir, "cdktf.out/stacks/production");
    fs.mkdirSync(stackDir, { recursive: true });
    fs.writeFileSync(path.join(stackDir, "cdk.tf.json"), "{}");
    process.env.SYNTH_HCL_OUTPUT = "true";
    synthesize({ production }, { outdir: path.join(dir, "cdktf.out") });
    expect(fs.readdirSync(stackDir).sort()).toEqual(["assets", "cdk.tf", "metadata.json"]);
  });

  it("with outdir null, synthesizes in memory and writes nothing", () => {
    const [s] = synthesize({ production }, { outdir: null });
    expect(s.file).toBeUndefined();
    expect(JSON.parse(s.text)["//"].metadata.stackName).toBe("production");
    expect(s.policy.findings).toHaveLength(18);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("a failSynth refusal carries each stack's policy result", () => {
    let error: unknown;
    try {
      synthesize({ production: { ...production, policy: { config: { blockingSeverities: ["high"] }, failSynth: true } } }, { outdir: null });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SynthRefusedError);
    expect((error as SynthRefusedError).policies.get("production")?.blocking).toHaveLength(6);
  });
});
