// migration-check against what Terraform does to keys and occupied targets (each checked with terraform_data on
// Terraform 1.11.4): an instance whose key its resource no longer makes, and a moved block whose target the state
// holds already, are destroyed, never "kept" or "moved".
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CliIo, main } from "../commands/migration-check";
import { classify, parseStack, parseState } from "../lib/migration";

type Inst = { index_key?: number | string; deposed?: string };
type Res = { module?: string; type: string; name: string; instances?: Inst[] };

const stateJson = (resources: Res[]) =>
  JSON.stringify({
    version: 4,
    serial: 1,
    lineage: "keys",
    resources: resources.map((r) => ({
      mode: "managed",
      ...(r.module ? { module: r.module } : {}),
      type: r.type,
      name: r.name,
      instances: (r.instances ?? [{}]).map((i) => ({ attributes: { id: "x" }, ...i })),
    })),
  });
const stackJson = (resource: Record<string, Record<string, object>>, moved: { from: string; to: string }[] = [], module: Record<string, object> = {}) =>
  JSON.stringify({ terraform: {}, resource, module, moved });
const outcomes = (resources: Res[], stack: string) =>
  classify(parseState(stateJson(resources), "state"), parseStack(stack, "stack")).instances.map((r) => [r.stateAddress, r.outcome, r.note]);

let tmp: string;
beforeAll(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), "migration-keys-"))));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("an instance key its resource no longer makes", () => {
  it("destroys [1] and a for_each key of a resource without count or for_each; keeps [0] (Terraform moves it to the no-key address)", () => {
    const stack = stackJson({ aws_sqs_queue: { plain: {} } });
    expect(outcomes([{ type: "aws_sqs_queue", name: "plain", instances: [{ index_key: 0 }, { index_key: 1 }, { index_key: "a" }] }], stack)).toEqual([
      ["aws_sqs_queue.plain[0]", "kept", ""],
      ["aws_sqs_queue.plain[1]", "destroyed", "its resource uses neither count nor for_each, so Terraform destroys this instance"],
      ['aws_sqs_queue.plain["a"]', "destroyed", "its resource uses neither count nor for_each, so Terraform destroys this instance"],
    ]);
  });

  it("destroys a no-key or numbered instance of a for_each resource, and a for_each key of a count resource; keeps what fits", () => {
    const stack = stackJson({ aws_sqs_queue: { each: { for_each: "${var.queues}" }, counted: { count: "${var.n}" } } });
    const report = outcomes(
      [
        { type: "aws_sqs_queue", name: "each", instances: [{}, { index_key: 0 }, { index_key: "a" }] },
        { type: "aws_sqs_queue", name: "counted", instances: [{ index_key: 3 }, { index_key: "b" }] },
      ],
      stack,
    );
    expect(report).toEqual([
      ["aws_sqs_queue.counted[3]", "kept", ""],
      ['aws_sqs_queue.counted["b"]', "destroyed", "its resource uses count, so Terraform destroys this instance (a for_each key)"],
      ["aws_sqs_queue.each", "destroyed", "its resource uses for_each, so Terraform destroys this instance (not a for_each key)"],
      ["aws_sqs_queue.each[0]", "destroyed", "its resource uses for_each, so Terraform destroys this instance (not a for_each key)"],
      ['aws_sqs_queue.each["a"]', "kept", ""],
    ]);
  });

  it("destroys [0] when the no-key address it would move to is held already, and the no-key one of a count resource whose [0] is", () => {
    const stack = stackJson({ aws_sqs_queue: { plain: {}, counted: { count: 1 } } });
    const state = [
      { type: "aws_sqs_queue", name: "plain", instances: [{}, { index_key: 0 }] },
      { type: "aws_sqs_queue", name: "counted", instances: [{}, { index_key: 0 }] },
    ];
    expect(outcomes(state, stack)).toEqual([
      ["aws_sqs_queue.counted", "destroyed", "Terraform would move it to the [0] address, which the state holds already, so it destroys this instance"],
      ["aws_sqs_queue.counted[0]", "kept", ""],
      ["aws_sqs_queue.plain", "kept", ""],
      ["aws_sqs_queue.plain[0]", "destroyed", "Terraform would move it to the no-key address, which the state holds already, so it destroys this instance"],
    ]);
  });

  it("a resource-level moved block into a resource without count: [2] of the source is destroyed, exit 1 from the CLI", () => {
    const state = [{ module: "module.ml_worker", type: "aws_sqs_queue", name: "q", instances: [{ index_key: 0 }, { index_key: 2 }] }];
    const stack = stackJson({ aws_sqs_queue: { ml_worker_q: {} } }, [{ from: "module.ml_worker.aws_sqs_queue.q", to: "aws_sqs_queue.ml_worker_q" }]);
    expect(outcomes(state, stack)).toEqual([
      ["module.ml_worker.aws_sqs_queue.q[0]", "moved", "moved block from `module.ml_worker.aws_sqs_queue.q`"],
      [
        "module.ml_worker.aws_sqs_queue.q[2]",
        "destroyed",
        "moved block from `module.ml_worker.aws_sqs_queue.q`; its resource uses neither count nor for_each, so Terraform destroys this instance",
      ],
    ]);
    const out = run(state, stack);
    expect(out.code).toBe(1);
    expect(out.stdout).toContain("**Result: NOT SAFE**: 1 instance(s) destroyed: `module.ml_worker.aws_sqs_queue.q[2]`.");
  });
});

describe("a moved block whose target the state holds already", () => {
  const note = (from: string) =>
    `moved block from \`${from}\`, whose target the state holds already: Terraform does not move it there ("Unresolved resource instance address changes") and destroys it`;

  it("resource-level: the source is destroyed, the target kept; NOT SAFE, exit 1", () => {
    const state = [
      { type: "aws_sqs_queue", name: "old" },
      { type: "aws_sqs_queue", name: "jobs" },
    ];
    const stack = stackJson({ aws_sqs_queue: { jobs: {} } }, [{ from: "aws_sqs_queue.old", to: "aws_sqs_queue.jobs" }]);
    expect(outcomes(state, stack)).toEqual([
      ["aws_sqs_queue.jobs", "kept", ""],
      ["aws_sqs_queue.old", "destroyed", note("aws_sqs_queue.old")],
    ]);
    const out = run(state, stack);
    expect(out.code).toBe(1);
    expect(out.stdout).toContain("**Result: NOT SAFE**: 1 instance(s) destroyed: `aws_sqs_queue.old`.");
  });

  it("instance-level and module-level blocks too; a free target still moves", () => {
    const state = [
      { module: "module.old", type: "aws_sqs_queue", name: "q", instances: [{ index_key: 0 }, { index_key: 1 }] },
      { type: "aws_sqs_queue", name: "first" },
      { module: "module.a", type: "aws_s3_bucket", name: "b" },
      { module: "module.b", type: "aws_s3_bucket", name: "c" },
    ];
    const stack = stackJson(
      { aws_sqs_queue: { first: {}, second: {} } },
      [
        { from: "module.old.aws_sqs_queue.q[0]", to: "aws_sqs_queue.first" },
        { from: "module.old.aws_sqs_queue.q[1]", to: "aws_sqs_queue.second" },
        { from: "module.a", to: "module.b" },
      ],
      { b: { source: "./modules/b" } },
    );
    expect(outcomes(state, stack)).toEqual([
      ["aws_sqs_queue.first", "kept", ""],
      ["module.a.aws_s3_bucket.b", "destroyed", note("module.a")],
      ["module.b.aws_s3_bucket.c", "hcl-module", "module block kept: address unchanged"],
      ["module.old.aws_sqs_queue.q[0]", "destroyed", note("module.old.aws_sqs_queue.q[0]")],
      ["module.old.aws_sqs_queue.q[1]", "moved", "moved block from `module.old.aws_sqs_queue.q[1]`"],
    ]);
  });
});

function run(state: Res[], stack: string) {
  const write = (name: string, text: string) => {
    fs.writeFileSync(path.join(tmp, name), text);
    return path.join(tmp, name);
  };
  let stdout = "";
  let stderr = "";
  const io: CliIo = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd: tmp };
  const code = main(["--state", write("state.json", stateJson(state)), "--stack-json", write("stack.json", stack)], io);
  return { code, stdout, stderr };
}

describe("what 'safe' covers", () => {
  it("a changed VPC id (Terraform replaces the security group) reads safe by addresses, with what was not checked and plan-check named", () => {
    const state = [{ type: "aws_security_group", name: "ec2_sg" }];
    const out = run(state, stackJson({ aws_security_group: { ec2_sg: { vpc_id: "vpc-0aaaaaaaaaaaaaaaa" } } }));
    expect(out.code).toBe(0);
    expect(out.stdout.endsWith(
      "**Result: safe**: no instance is destroyed by the migration.\n\n" +
        "By addresses alone. Not checked: a replacement forced by a changed argument (a name, the VPC, the AMI, a subnet), " +
        "anything inside an HCL module, values known at plan time: `npm run plan-check` asks Terraform for those.\n",
    )).toBe(true);
  });
});
