// migrate-state with Terraform on a stack whose moves table has two IAM roles' destinations swapped: each
// role's object lands at the other's address, so the plan against the migrated copy replaces both (their
// names differ), and so does the plan against the state as read: the two plans agree, and only the gate's
// verdict tells. A file of its own: the table is replaced for the whole file (jest.mock), which the other
// migrate-state tests must not see.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EnvironmentConfig } from "../config/environment";
import { HCL_PRODUCTION as production } from "../__tests__/fixtures/hcl-production";
import { main } from "../commands/migrate-state";
import { toolchainPreamble } from "./lib/toolchain-preamble";

jest.mock("../stacks/moves", () => {
  // The two roles of the ML worker's task, each moved to the other's address (inside: jest.mock runs first).
  const SWAPPED: Record<string, string> = {
    "module.iam.aws_iam_role.ecs_task_execution": "aws_iam_role.iam_ecs_task",
    "module.iam.aws_iam_role.ecs_task": "aws_iam_role.iam_ecs_task_execution",
  };
  const actual = jest.requireActual("../stacks/moves") as typeof import("../stacks/moves");
  const MOVES = actual.MOVES.map((m) => (SWAPPED[m.from] ? { ...m, to: SWAPPED[m.from] } : m));
  // applyMoves' default is the module's own table: given the swapped one explicitly.
  return { ...actual, MOVES, applyMoves: (stack: Parameters<typeof actual.applyMoves>[0], table = MOVES) => actual.applyMoves(stack, table) };
});

const { describeTier } = toolchainPreamble("migrate-state gate");

const SHARED = path.join(__dirname, "../../shared/fixtures");
const MODULES = path.join(SHARED, "existing-hcl/terraform/modules");
const POST_FIX = path.join(SHARED, "post-fix-production.tfstate");
const DATA = path.join(__dirname, "../__tests__/fixtures/plan-check/production-data.json");

describeTier("migrate-state: a moves table with two roles swapped (offline, Terraform's own plans)", () => {
  let root = "";
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  test("post-fix, --push: the plans agree, but the copy's plan replaces both roles: refused by the gate, exit 1, each address and action named, nothing written or pushed", async () => {
    root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "zh-migrate-gate-")));
    const cwd = path.join(root, "infra", "cdktf");
    const backendFile = path.join(root, "infra", "terraform", "terraform.tfstate");
    fs.mkdirSync(cwd, { recursive: true });
    fs.mkdirSync(path.dirname(backendFile), { recursive: true });
    fs.copyFileSync(POST_FIX, backendFile);
    const bytes = fs.readFileSync(backendFile);
    const environments: Record<string, EnvironmentConfig> = { production: { ...production, backend: { type: "local", path: backendFile } } };
    let stdout = "";
    let stderr = "";
    const code = await main(
      ["--modules", MODULES, "--data", DATA, "--push"],
      { cwd, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) },
      { environments, env: { ...process.env, TF_VAR_db_password_plain: "REDACTED" } },
    );
    expect(stderr.slice(stderr.indexOf("error: "))).toBe(
      `error: the verification failed: nothing was written or pushed. Removed ${path.join(cwd, "cdktf.out", "migrate-state")}, which this run created.\n` +
        "the plan against the copy fails the gate (plan-check's judge, with the stack's allowDestroy, allowReplacement and keepUnplannable):\n" +
        "  - `aws_ecs_task_definition.ml_worker_ml_worker`: replace, forced by `task_role_arn`, `execution_role_arn` — not in the environment's allowDestroy\n" +
        "  - `aws_iam_role.iam_ecs_task`: replace, forced by `name` — not in the environment's allowDestroy\n" +
        "  - `aws_iam_role.iam_ecs_task_execution`: replace, forced by `name` — not in the environment's allowDestroy\n" +
        "  - `aws_iam_role_policy.iam_ecs_task_execution_ssm`: replace, forced by `role` — not in the environment's allowDestroy\n" +
        "  - `aws_iam_role_policy.iam_ecs_task_s3`: replace, forced by `role` — not in the environment's allowDestroy\n" +
        "  - `aws_iam_role_policy.iam_ecs_task_sqs`: replace, forced by `role` — not in the environment's allowDestroy\n" +
        "Applying the migrated state would do this, and once it is pushed the moved blocks no longer show the moves. " +
        "Check stacks/moves.ts (a move to the wrong address plans a replace or a delete), or run plan-check on the state to see the plan\n",
    );
    // Both plans were made and agreed (the comparison did not stop it): the gate alone refused.
    expect(stderr).toMatch(/migrate-state: plan against the state as read: terraform plan \(stack\) \d+\.\d s\n/);
    expect(stderr).toMatch(/migrate-state: plan against the copy: terraform plan \(stack\) \d+\.\d s\n/);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).not.toContain("migrate-state: writing");
    expect(fs.readFileSync(backendFile)).toEqual(bytes);
    expect(fs.readdirSync(path.dirname(backendFile))).toEqual(["terraform.tfstate"]);
    expect(fs.existsSync(path.join(cwd, "cdktf.out", "migrate-state"))).toBe(false);
  });
});
