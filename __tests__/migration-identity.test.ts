// migration-check against another stack's state: the same addresses, other names. Every instance reads "kept"
// or "moved", but a deploy would replace each named object to take the recorded names: NOT SAFE.
import * as fs from "fs";
import * as path from "path";
import { CliIo, main } from "../commands/migration-check";
jest.mock("../lib/cli", () => (require("./helpers") as typeof import("./helpers")).rememberingSyntheses(jest.requireActual("../lib/cli")));
import { identityMismatches } from "../lib/migration-identity";
import { HCL_PRODUCTION } from "./fixtures/hcl-production";
import { tempDir } from "./tmp";

const POST_FIX_STATE = path.resolve(__dirname, "../../shared/fixtures/post-fix-production.tfstate");

function run(state: string) {
  const dir = tempDir("migration-identity-");
  const file = path.join(dir, "other.tfstate");
  fs.writeFileSync(file, state);
  let stdout = "";
  let stderr = "";
  const io: CliIo = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd: dir };
  const code = main(["--json", "--state", file], io, { environments: { production: HCL_PRODUCTION }, reviewEnvironments: {} });
  return { code, json: stdout ? JSON.parse(stdout) : undefined, stderr };
}

describe("a state whose objects have other names than those recorded as deployed", () => {
  it("production against today's state with staging's names: NOT SAFE (exit 1), each named object listed", () => {
    const staging = fs.readFileSync(POST_FIX_STATE, "utf8").replace(/production-ml-worker/g, "staging-ml-worker");
    const r = run(staging);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(1);
    expect(r.json.safe).toBe(false);
    expect(r.json.totals.destroyed).toBe(0);
    expect(r.json.identityMismatches).toEqual([
      {
        address: "aws_cloudwatch_log_group.ml_worker_ml_worker",
        stateAddress: "module.ml_worker.aws_cloudwatch_log_group.ml_worker",
        field: "name",
        state: "/ecs/staging-ml-worker",
        deployed: "/ecs/production-ml-worker",
      },
      {
        address: "aws_ecs_cluster.ml_worker_ml_worker",
        stateAddress: "module.ml_worker.aws_ecs_cluster.ml_worker",
        field: "name",
        state: "staging-ml-worker-cluster",
        deployed: "production-ml-worker-cluster",
      },
      { address: "aws_ecs_service.ml_worker_ml_worker", stateAddress: "module.ml_worker.aws_ecs_service.ml_worker", field: "name", state: "staging-ml-worker", deployed: "production-ml-worker" },
      { address: "aws_sqs_queue.ml_worker_ml_worker", stateAddress: "module.ml_worker.aws_sqs_queue.ml_worker", field: "name", state: "staging-ml-worker", deployed: "production-ml-worker" },
      {
        address: "aws_sqs_queue.ml_worker_ml_worker_dlq",
        stateAddress: "module.ml_worker.aws_sqs_queue.ml_worker_dlq",
        field: "name",
        state: "staging-ml-worker-dlq",
        deployed: "production-ml-worker-dlq",
      },
    ]);
  });

  it("today's state itself: no mismatch, safe (exit 0)", () => {
    const r = run(fs.readFileSync(POST_FIX_STATE, "utf8"));
    expect([r.code, r.json.safe, r.json.identityMismatches]).toEqual([0, true, []]);
  });

  it("compares names only, and only of objects kept or moved to the recorded address", () => {
    const rows = [
      { stateAddress: "aws_instance.host", deposed: null, outcome: "kept" as const, configAddress: "aws_instance.host", note: "" },
      { stateAddress: "aws_sqs_queue.q", deposed: null, outcome: "destroyed" as const, configAddress: null, note: "" },
    ];
    const instances = [
      { modulePath: "", type: "aws_instance", name: "host", indexKey: null, deposed: null, attributes: { ami: "ami-old", name: "x" } },
      { modulePath: "", type: "aws_sqs_queue", name: "q", indexKey: null, deposed: null, attributes: { name: "other" } },
    ];
    expect(identityMismatches(rows, instances, { "aws_instance.host": { ami: "ami-new", name: "x" }, "aws_sqs_queue.q": { name: "q" } })).toEqual([]);
    expect(identityMismatches(rows, instances, { "aws_instance.host": { name: "y" } })).toEqual([
      { address: "aws_instance.host", stateAddress: "aws_instance.host", field: "name", state: "x", deployed: "y" },
    ]);
  });
});
