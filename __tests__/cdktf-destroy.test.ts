// `npm run cdktf -- destroy <stack>` (commands/cdktf/destroy-check.ts): refused before cdktf or Terraform runs
// for a stack whose configuration protects what it holds (prevent_destroy, deployed records), naming the stack,
// what protects it and the supported way; any other stack goes to cdktf as typed. The cdktf CLI here is a fake
// (a node script run as the wrapper runs the real one) that records that it ran and with what.
import * as fs from "fs";
import * as path from "path";
import { EnvironmentConfig } from "../config/environment";
import * as configured from "../config/environments";
import { main, runCdktf } from "../commands/cdktf";
import { Synthesizer, preventDestroyAddresses } from "../commands/cdktf/destroy-check";
import { HCL_PRODUCTION as production, onHclProduction } from "./fixtures/hcl-production";
import { tempDir } from "./tmp";

const staging = onHclProduction(configured.staging, configured.production);

const GUARDED = [
  "aws_cloudwatch_log_group.ml_worker_ml_worker",
  "aws_ecr_repository.ecr_backend",
  "aws_ecs_cluster.ml_worker_ml_worker",
  "aws_sqs_queue.ml_worker_ml_worker",
  "aws_sqs_queue.ml_worker_ml_worker_dlq",
];
const DEPLOYED = [
  "aws_cloudwatch_log_group.ml_worker_ml_worker",
  "aws_ecr_repository.ecr_backend",
  "aws_ecs_cluster.ml_worker_ml_worker",
  "aws_ecs_service.ml_worker_ml_worker",
  "aws_instance.compute_host",
  "aws_sqs_queue.ml_worker_ml_worker",
  "aws_sqs_queue.ml_worker_ml_worker_dlq",
];
const WAY =
  "This wrapper destroys no protected stack. To remove resources from it, take them out of the configuration, " +
  "list each in allowDestroy with its reason, then review and apply the plan: npm run plan-check, then " +
  'npm run deploy -- --plan <plan-check folder> (docs/deploy.md, "cdktf destroy").';
const refusal = (stack: string, reasons: string) => `error: refusing to destroy stack '${stack}': its configuration protects it: ${reasons}. ${WAY}\n`;
const PRODUCTION_REFUSAL = refusal(
  "production",
  `prevent_destroy on 5 resources (${GUARDED.join(", ")}); and 7 resources recorded as deployed, in use (deployed: ${DEPLOYED.join(", ")})`,
);
const STAGING_REFUSAL = refusal("staging", `prevent_destroy on 5 resources (${GUARDED.join(", ")})`);

/** A fake cdktf CLI: writes its arguments to $RECORD, exits 0. */
function fakeCdktf(dir: string): string {
  const script = path.join(dir, "cdktf.js");
  fs.writeFileSync(script, 'require("fs").writeFileSync(process.env.RECORD, JSON.stringify(process.argv.slice(2)));\n');
  return script;
}

/** The wrapper with the fake cdktf, in an empty project folder: its exit code, its stderr, and the fake's arguments when it ran. */
function run(argv: string[], environments: Record<string, EnvironmentConfig>, synth?: Synthesizer) {
  const dir = tempDir("zh-cdktf-destroy-");
  const record = path.join(dir, "cdktf-ran.json");
  const script = fakeCdktf(dir);
  let stderr = "";
  const code = main(
    argv,
    { stdout: () => undefined, stderr: (t) => (stderr += t), cwd: dir },
    { cdktf: (a) => runCdktf(a, script, { ...process.env, RECORD: record }) },
    environments,
    { readS3: () => { throw new Error("no S3 in this test"); } },
    undefined,
    synth,
  );
  return { code, stderr, cdktf: fs.existsSync(record) ? (JSON.parse(fs.readFileSync(record, "utf8")) as string[]) : undefined };
}

/** A synthesis of one queue, with or without prevent_destroy. */
const oneQueue = (preventDestroy: boolean): Synthesizer => () =>
  JSON.stringify({ resource: { aws_sqs_queue: { jobs: preventDestroy ? { lifecycle: { prevent_destroy: true } } : { name: "jobs" } } } });
const unprotected: EnvironmentConfig = { ...staging, deployed: {} };

describe("cdktf destroy is refused for a protected stack, before cdktf or Terraform runs", () => {
  it("refuses production (synthesized in memory): exit 2, the resources with prevent_destroy and the deployed ones named, cdktf not run", () => {
    expect(run(["destroy", "production", "--auto-approve"], { production })).toEqual({ code: 2, stderr: PRODUCTION_REFUSAL, cdktf: undefined });
  });

  it("refuses it however it is selected: no stack (every one), a glob", () => {
    expect(run(["destroy"], { production })).toEqual({ code: 2, stderr: PRODUCTION_REFUSAL, cdktf: undefined });
    expect(run(["destroy", "prod*"], { production, staging })).toEqual({ code: 2, stderr: PRODUCTION_REFUSAL, cdktf: undefined });
    expect(run(["destroy", "*"], { production, staging })).toEqual({ code: 2, stderr: PRODUCTION_REFUSAL + STAGING_REFUSAL, cdktf: undefined });
  });

  it("refuses staging as configured: it records nothing deployed, but keeps production's prevent_destroy defaults", () => {
    expect(run(["destroy", "staging"], { production, staging })).toEqual({ code: 2, stderr: STAGING_REFUSAL, cdktf: undefined });
  });

  it("refuses a stack that records deployed resources even with no prevent_destroy left (as when allowReplacement has lifted it)", () => {
    const r = run(["destroy", "production"], { production }, oneQueue(false));
    expect(r).toEqual({
      code: 2,
      stderr: refusal("production", `7 resources recorded as deployed, in use (deployed: ${DEPLOYED.join(", ")})`),
      cdktf: undefined,
    });
  });

  it("refuses a stack whose configuration does not synthesize, with the reason", () => {
    const broken: EnvironmentConfig = { ...unprotected, mlWorker: { ...unprotected.mlWorker, maxCapacity: 0 } };
    const r = run(["destroy", "staging"], { staging: broken });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "error: refusing to destroy stack 'staging': its configuration does not synthesize, so what it protects cannot be told: " +
        "Invalid environment configuration:\n  - staging: mlWorker.maxCapacity must be at least 1 (got 0): with 0 no task ever runs, " +
        "and the queued jobs expire unprocessed after the queue's 4 days of retention\n",
    );
    expect(r.cdktf).toBeUndefined();
  });

  it("refuses a stack that is not in environments", () => {
    expect(run(["destroy", "no-such-stack"], { production })).toEqual({
      code: 2,
      stderr: "error: no stack 'no-such-stack' in environments (config/environments.ts); stacks: production\n",
      cdktf: undefined,
    });
  });

  it("lets a stack with nothing protected go to cdktf as typed, with cdktf's exit code", () => {
    expect(run(["destroy", "staging", "--auto-approve"], { staging: unprotected }, oneQueue(false))).toEqual({
      code: 0,
      stderr: "",
      cdktf: ["destroy", "staging", "--auto-approve"],
    });
    expect(run(["destroy", "staging"], { staging: unprotected }, oneQueue(true))).toEqual({
      code: 2,
      stderr: refusal("staging", "prevent_destroy on 1 resource (aws_sqs_queue.jobs)"),
      cdktf: undefined,
    });
  });

  it("refuses --skip-synth of an output the sources did not make, as deploy does", () => {
    const r = run(["destroy", "staging", "--skip-synth"], { staging: unprotected }, oneQueue(false));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: refusing --skip-synth for stack 'staging': \/.*\/cdktf\.out\/stacks\/staging\/cdk\.tf\.json may not be what the sources synthesize now /);
    expect(r.cdktf).toBeUndefined();
  });

  it("reads prevent_destroy from the synthesized JSON: true only, every type", () => {
    const doc = {
      resource: {
        aws_sqs_queue: { a: { lifecycle: { prevent_destroy: true } }, b: { lifecycle: { prevent_destroy: false } }, c: {} },
        aws_ecr_repository: { r: { lifecycle: { prevent_destroy: true, ignore_changes: ["tags"] } } },
      },
    };
    expect(preventDestroyAddresses(JSON.stringify(doc))).toEqual(["aws_ecr_repository.r", "aws_sqs_queue.a"]);
    expect(preventDestroyAddresses("{}")).toEqual([]);
  });
});
