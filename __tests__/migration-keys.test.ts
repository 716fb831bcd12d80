// Long: every instance-key rule migration-check follows (resources, module blocks, moved blocks' targets) against the same built states and CLI runner.
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

  it("destroys a no-key or numbered instance of a for_each resource, and a for_each key of a count resource; names a key an expression decides as not checked", () => {
    const stack = stackJson({ aws_sqs_queue: { each: { for_each: "${var.queues}" }, counted: { count: "${var.n}" } } });
    const report = outcomes(
      [
        { type: "aws_sqs_queue", name: "each", instances: [{}, { index_key: 0 }, { index_key: "a" }] },
        { type: "aws_sqs_queue", name: "counted", instances: [{ index_key: 3 }, { index_key: "b" }] },
      ],
      stack,
    );
    expect(report).toEqual([
      ["aws_sqs_queue.counted[3]", "kept", "key not checked: its resource's count = ${var.n} is known at plan time only: whether [3] is below it is not checked"],
      ['aws_sqs_queue.counted["b"]', "destroyed", "its resource uses count, so Terraform destroys this instance (a for_each key)"],
      ["aws_sqs_queue.each", "destroyed", "its resource uses for_each, so Terraform destroys this instance (not a for_each key)"],
      ["aws_sqs_queue.each[0]", "destroyed", "its resource uses for_each, so Terraform destroys this instance (not a for_each key)"],
      ['aws_sqs_queue.each["a"]', "kept", 'key not checked: its resource\'s for_each = ${var.queues} is known at plan time only: whether it holds the key "a" is not checked'],
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

  // [0] read "moved": Terraform makes its implied moves (no key ↔ [0]) from the state's addresses only, never after a moved block.
  it("a resource-level moved block into a resource without count: [0] and [2] of the source are destroyed, exit 1 from the CLI", () => {
    const state = [{ module: "module.ml_worker", type: "aws_sqs_queue", name: "q", instances: [{ index_key: 0 }, { index_key: 2 }] }];
    const stack = stackJson({ aws_sqs_queue: { ml_worker_q: {} } }, [{ from: "module.ml_worker.aws_sqs_queue.q", to: "aws_sqs_queue.ml_worker_q" }]);
    const via = "moved block from `module.ml_worker.aws_sqs_queue.q`; its resource uses neither count nor for_each, so Terraform destroys this instance";
    expect(outcomes(state, stack)).toEqual([
      ["module.ml_worker.aws_sqs_queue.q[0]", "destroyed", `${via} ([0]; it makes no implied move to \`aws_sqs_queue.ml_worker_q\` after a moved block)`],
      ["module.ml_worker.aws_sqs_queue.q[2]", "destroyed", via],
    ]);
    const out = run(state, stack);
    expect(out.code).toBe(1);
    expect(out.stdout).toContain("**Result: NOT SAFE**: 2 instance(s) destroyed: `module.ml_worker.aws_sqs_queue.q[0]`, `module.ml_worker.aws_sqs_queue.q[2]`.");
  });

  it("a no-key instance a moved block brings under count is destroyed, as is one it brings to [0] without count (no implied move)", () => {
    const state = [
      { type: "aws_sqs_queue", name: "old", instances: [{ index_key: 0 }] },
      { type: "aws_sqs_queue", name: "whole" },
      { type: "aws_sqs_queue", name: "single" },
    ];
    const stack = stackJson({ aws_sqs_queue: { counted: { count: 2 }, counted_too: { count: "${var.n}" }, plain: {} } }, [
      { from: "aws_sqs_queue.old[0]", to: "aws_sqs_queue.counted" },
      { from: "aws_sqs_queue.whole", to: "aws_sqs_queue.counted_too" },
      { from: "aws_sqs_queue.single", to: "aws_sqs_queue.plain[0]" },
    ]);
    const noKey = (block: string) => `its resource uses count, so Terraform destroys this instance (no key; it makes no implied move to \`${block}[0]\`: not after a moved block)`;
    expect(outcomes(state, stack)).toEqual([
      ["aws_sqs_queue.old[0]", "destroyed", `moved block from \`aws_sqs_queue.old[0]\`; ${noKey("aws_sqs_queue.counted")}`],
      [
        "aws_sqs_queue.single",
        "destroyed",
        "moved block from `aws_sqs_queue.single`; its resource uses neither count nor for_each, so Terraform destroys this instance ([0]; it makes no implied move to `aws_sqs_queue.plain` after a moved block)",
      ],
      // Whatever the count's value: no key is destroyed under any count.
      ["aws_sqs_queue.whole", "destroyed", `moved block from \`aws_sqs_queue.whole\`; ${noKey("aws_sqs_queue.counted_too")}`],
    ]);
  });
});

describe("a string key against a literal for_each map", () => {
  it("keeps a key the map holds, destroys one it does not (the map's keys named), and one of an empty map", () => {
    const stack = stackJson({ aws_sqs_queue: { each: { for_each: { a: { n: 1 }, c: {} } }, none: { for_each: {} } } });
    const state = [
      { type: "aws_sqs_queue", name: "each", instances: [{ index_key: "a" }, { index_key: "b" }] },
      { type: "aws_sqs_queue", name: "none", instances: [{ index_key: "a" }] },
    ];
    expect(outcomes(state, stack)).toEqual([
      ['aws_sqs_queue.each["a"]', "kept", ""],
      ['aws_sqs_queue.each["b"]', "destroyed", 'its resource\'s for_each map has no key "b" (its keys: "a", "c"), so Terraform destroys this instance'],
      ['aws_sqs_queue.none["a"]', "destroyed", 'its resource\'s for_each map has no key "a" (it is empty), so Terraform destroys this instance'],
    ]);
    const report = classify(parseState(stateJson(state), "state"), parseStack(stack, "stack"));
    expect([report.safe, report.totals.destroyed, report.keysNotChecked]).toEqual([false, 2, []]);
  });

  it("a map whose key is a template is known at plan time only: the key is named as not checked", () => {
    const stack = stackJson({ aws_sqs_queue: { each: { for_each: { "${var.prefix}-a": {} } } } });
    expect(outcomes([{ type: "aws_sqs_queue", name: "each", instances: [{ index_key: "x-a" }] }], stack)).toEqual([
      ['aws_sqs_queue.each["x-a"]', "kept", 'key not checked: its resource\'s for_each = {"${var.prefix}-a":{}} is known at plan time only: whether it holds the key "x-a" is not checked'],
    ]);
  });
});

describe("instance keys of a counted or for_each'd module block (Terraform makes no implied move for module instances)", () => {
  const modules = {
    counted: { source: "./modules/q", count: 2 },
    each: { source: "./modules/q", for_each: { a: "x" } },
    plain: { source: "./modules/q" },
    byvar: { source: "./modules/q", for_each: "${var.queues}" },
    bycount: { source: "./modules/q", count: "${var.n}" },
  };
  const inModule = (module: string): Res => ({ module, type: "aws_sqs_queue", name: "q" });
  const everything = (m: string) => `everything under \`${m}\``;
  const nestedWhy = (nested: string, block: string) =>
    `\`${nested}\` is a nested module instance: the HCL source of \`${block}\` decides whether it makes it (its module block's count or for_each, or neither), and migration-check does not read that source`;

  it("keeps the keys the block makes, destroys the others, names those an expression decides", () => {
    const state = [
      inModule("module.counted"),
      inModule("module.counted[1]"),
      inModule("module.counted[2]"),
      inModule('module.counted["z"]'),
      inModule('module.each["a"]'),
      inModule('module.each["a"].module.inner'),
      inModule('module.each["b"]'),
      inModule("module.each[0]"),
      inModule("module.plain"),
      inModule("module.plain[0]"),
      inModule('module.byvar["k"]'),
      inModule("module.bycount[3]"),
    ];
    const kept = "module block kept: address unchanged";
    expect(outcomes(state, stackJson({}, [], modules))).toEqual([
      ["module.bycount[3].aws_sqs_queue.q", "hcl-module", `${kept}; key not checked: its module block \`module.bycount\`'s count = \${var.n} is known at plan time only: whether [3] is below it is not checked`],
      [
        'module.byvar["k"].aws_sqs_queue.q',
        "hcl-module",
        `${kept}; key not checked: its module block \`module.byvar\`'s for_each = \${var.queues} is known at plan time only: whether it holds the key "k" is not checked`,
      ],
      [
        "module.counted.aws_sqs_queue.q",
        "destroyed",
        `its module block \`module.counted\` uses count, so Terraform destroys ${everything("module.counted")} (no key; it makes no implied move to \`module.counted[0]\`: a moved block would)`,
      ],
      ['module.counted["z"].aws_sqs_queue.q', "destroyed", `its module block \`module.counted\` uses count, so Terraform destroys ${everything('module.counted["z"]')} (a for_each key)`],
      ["module.counted[1].aws_sqs_queue.q", "hcl-module", kept],
      ["module.counted[2].aws_sqs_queue.q", "destroyed", `its module block \`module.counted\` has count = 2, so Terraform destroys ${everything("module.counted[2]")}`],
      ['module.each["a"].aws_sqs_queue.q', "hcl-module", kept],
      ['module.each["a"].module.inner.aws_sqs_queue.q', "hcl-module", `${kept}; key not checked: ${nestedWhy("module.inner", "module.each")}`],
      ['module.each["b"].aws_sqs_queue.q', "destroyed", `its module block \`module.each\`'s for_each map has no key "b" (its keys: "a"), so Terraform destroys ${everything('module.each["b"]')}`],
      ["module.each[0].aws_sqs_queue.q", "destroyed", `its module block \`module.each\` uses for_each, so Terraform destroys ${everything("module.each[0]")} (not a for_each key)`],
      ["module.plain.aws_sqs_queue.q", "hcl-module", kept],
      ["module.plain[0].aws_sqs_queue.q", "destroyed", `its module block \`module.plain\` uses neither count nor for_each, so Terraform destroys ${everything("module.plain[0]")}`],
    ]);
    const out = run(state, stackJson({}, [], modules));
    expect(out.code).toBe(1);
    expect(out.stdout).toContain(
      "**Result: NOT SAFE**: 6 instance(s) destroyed: `module.counted.aws_sqs_queue.q`, `module.counted[\"z\"].aws_sqs_queue.q`, `module.counted[2].aws_sqs_queue.q`, " +
        "`module.each[\"b\"].aws_sqs_queue.q`, `module.each[0].aws_sqs_queue.q`, `module.plain[0].aws_sqs_queue.q`.",
    );
  });

  // Measured on 1.11.4 (validate/migration-keys.test.ts): Terraform destroys `module.counted[0].module.b[0]` when the
  // HCL source's `module "b"` has neither count nor for_each, and `module.plain.module.b[7]` brought by a moved
  // block when it has count = 2; both read "in an HCL module" / "moved" with no word before.
  it("a nested module's key (or none) is the HCL source's to make: named as not checked, in place and moved; a parent key the block does not make still destroys", () => {
    const state = [
      inModule("module.counted[0].module.b[0]"),
      inModule('module.each["a"].module.b["x"].module.c'),
      inModule('module.byvar["k"].module.b'),
      inModule("module.counted.module.b[1]"),
      inModule("module.plain[0].module.b"),
      inModule("module.old.module.b[7]"),
      { type: "aws_sqs_queue", name: "r" },
      { type: "aws_sqs_queue", name: "r2" },
    ];
    const stack = stackJson({}, [
      { from: "module.old", to: "module.plain" },
      { from: "aws_sqs_queue.r", to: "module.counted[1].module.b[7].aws_sqs_queue.q" },
      { from: "aws_sqs_queue.r2", to: "module.counted.module.b.aws_sqs_queue.q" },
    ], modules);
    const kept = "module block kept: address unchanged; key not checked: ";
    const into = "; into an HCL module (its contents are not checked); key not checked: ";
    const report = classify(parseState(stateJson(state), "state"), parseStack(stack, "stack"));
    expect(report.instances.map((r) => [r.stateAddress, r.outcome, r.configAddress, r.note])).toEqual([
      ["aws_sqs_queue.r", "moved", "module.counted[1].module.b[7].aws_sqs_queue.q", `moved block from \`aws_sqs_queue.r\`${into}${nestedWhy("module.b[7]", "module.counted")}`],
      [
        "aws_sqs_queue.r2",
        "destroyed",
        "module.counted.module.b.aws_sqs_queue.q",
        `moved block from \`aws_sqs_queue.r2\`; its module block \`module.counted\` uses count, so Terraform destroys ${everything("module.counted")} (no key; it makes no implied move to \`module.counted[0]\`: a moved block would)`,
      ],
      [
        'module.byvar["k"].module.b.aws_sqs_queue.q',
        "hcl-module",
        "module.byvar",
        `${kept}its module block \`module.byvar\`'s for_each = \${var.queues} is known at plan time only: whether it holds the key "k" is not checked; ${nestedWhy("module.b", "module.byvar")}`,
      ],
      [
        "module.counted.module.b[1].aws_sqs_queue.q",
        "destroyed",
        "module.counted",
        `its module block \`module.counted\` uses count, so Terraform destroys ${everything("module.counted")} (no key; it makes no implied move to \`module.counted[0]\`: a moved block would)`,
      ],
      ["module.counted[0].module.b[0].aws_sqs_queue.q", "hcl-module", "module.counted", `${kept}${nestedWhy("module.b[0]", "module.counted")}`],
      ['module.each["a"].module.b["x"].module.c.aws_sqs_queue.q', "hcl-module", "module.each", `${kept}${nestedWhy('module.b["x"].module.c', "module.each")}`],
      ["module.old.module.b[7].aws_sqs_queue.q", "moved", "module.plain.module.b[7].aws_sqs_queue.q", `moved block from \`module.old\`${into}${nestedWhy("module.b[7]", "module.plain")}`],
      ["module.plain[0].module.b.aws_sqs_queue.q", "destroyed", "module.plain", `its module block \`module.plain\` uses neither count nor for_each, so Terraform destroys ${everything("module.plain[0]")}`],
    ]);
    // Listed where keys an expression decides are: the JSON, the Markdown section and the result line (not "safe" silently).
    expect(report.keysNotChecked.map((k) => [k.stateAddress, k.configAddress])).toEqual([
      ["aws_sqs_queue.r", "module.counted[1].module.b[7].aws_sqs_queue.q"],
      ['module.byvar["k"].module.b.aws_sqs_queue.q', "module.byvar"],
      ["module.counted[0].module.b[0].aws_sqs_queue.q", "module.counted"],
      ['module.each["a"].module.b["x"].module.c.aws_sqs_queue.q', "module.each"],
      ["module.old.module.b[7].aws_sqs_queue.q", "module.plain.module.b[7].aws_sqs_queue.q"],
    ]);
    // A nested key is no missing target (the HCL source may make it); the parent's missing key is.
    expect(report.movedProblems.map((m) => [m.to, m.problem])).toEqual([
      ["module.counted.module.b.aws_sqs_queue.q", "target is not in the configuration: module block `module.counted` makes no instance `module.counted` (count = 2: [0] to [1])"],
    ]);
    expect([report.safe, report.totals.destroyed, report.totals.keysNotChecked]).toEqual([false, 3, 5]);
  });

  it("a moved block into a module instance: a key the block makes moves, another is destroyed", () => {
    const state = [inModule("module.old_a"), inModule("module.old_b")];
    const stack = stackJson({}, [
      { from: "module.old_a", to: 'module.each["a"]' },
      { from: "module.old_b", to: 'module.each["b"]' },
    ], modules);
    expect(outcomes(state, stack)).toEqual([
      ["module.old_a.aws_sqs_queue.q", "moved", "moved block from `module.old_a`; into an HCL module (its contents are not checked)"],
      [
        "module.old_b.aws_sqs_queue.q",
        "destroyed",
        `moved block from \`module.old_b\`; its module block \`module.each\`'s for_each map has no key "b" (its keys: "a"), so Terraform destroys ${everything('module.each["b"]')}`,
      ],
    ]);
  });

  // Such a moved block read only as destroyed instances: "Moved blocks with a missing target" said None.
  it("a moved block to a module instance its block does not make is a missing target, its instances still destroyed (Markdown and JSON)", () => {
    const state = [inModule("module.old_a"), inModule("module.old_b"), inModule("module.old_c"), inModule("module.old_d"), inModule("module.old_e")];
    const moved = [
      { from: "module.old_a", to: 'module.each["a"]' },
      { from: "module.old_b", to: 'module.each["b"]' },
      { from: "module.old_c", to: "module.counted[2]" },
      { from: "module.old_d", to: "module.plain[0]" },
      // A key an expression decides is not judged: no problem, as for the instances.
      { from: "module.old_e", to: 'module.byvar["k"]' },
      // The block's target counts, not its source: one with no instance in the state too.
      // (A resource to a resource: a module call to a resource Terraform refuses, "Invalid "moved" addresses".)
      { from: "module.gone.aws_sqs_queue.q", to: 'module.each["z"].aws_sqs_queue.q' },
    ];
    const stack = stackJson({}, moved, modules);
    const missing = "target is not in the configuration: module block";
    const problems = [
      { from: "module.gone.aws_sqs_queue.q", to: 'module.each["z"].aws_sqs_queue.q', problem: `${missing} \`module.each\` makes no instance \`module.each["z"]\` (its for_each keys: "a")` },
      { from: "module.old_b", to: 'module.each["b"]', problem: `${missing} \`module.each\` makes no instance \`module.each["b"]\` (its for_each keys: "a")` },
      { from: "module.old_c", to: "module.counted[2]", problem: `${missing} \`module.counted\` makes no instance \`module.counted[2]\` (count = 2: [0] to [1])` },
      { from: "module.old_d", to: "module.plain[0]", problem: `${missing} \`module.plain\` makes no instance \`module.plain[0]\` (neither count nor for_each: \`module.plain\` alone, no key)` },
    ];
    const out = run(state, stack);
    expect(out.code).toBe(1);
    expect(out.stdout).toContain(
      "### Moved blocks with a missing target\n\n" + problems.map((p) => `- **error**: \`${p.from}\` → \`${p.to}\`: ${p.problem}`).join("\n") + "\n\n### No-op moved blocks",
    );
    expect(out.stdout).toContain(
      "**Result: NOT SAFE**: 3 instance(s) destroyed: `module.old_b.aws_sqs_queue.q`, `module.old_c.aws_sqs_queue.q`, `module.old_d.aws_sqs_queue.q`; " +
        '4 moved block(s) to a missing target: `module.each["z"].aws_sqs_queue.q`, `module.each["b"]`, `module.counted[2]`, `module.plain[0]`.',
    );
    const json = run(state, stack, ["--json"]);
    const report = JSON.parse(json.stdout);
    expect([json.code, report.safe, report.movedProblems, report.totals.destroyed]).toEqual([1, false, problems, 3]);
    expect(report.instances.map((r: { stateAddress: string; outcome: string; configAddress: string }) => [r.stateAddress, r.outcome, r.configAddress])).toEqual([
      ["module.old_a.aws_sqs_queue.q", "moved", 'module.each["a"].aws_sqs_queue.q'],
      ["module.old_b.aws_sqs_queue.q", "destroyed", 'module.each["b"].aws_sqs_queue.q'],
      ["module.old_c.aws_sqs_queue.q", "destroyed", "module.counted[2].aws_sqs_queue.q"],
      ["module.old_d.aws_sqs_queue.q", "destroyed", "module.plain[0].aws_sqs_queue.q"],
      ["module.old_e.aws_sqs_queue.q", "moved", 'module.byvar["k"].aws_sqs_queue.q'],
    ]);
    // The words for a block with count = 0, count 1 and an empty map.
    const words = (module: object, to: string) =>
      classify(parseState(stateJson([]), "state"), parseStack(stackJson({}, [{ from: "module.gone", to }], { m: { source: "./modules/q", ...module } }), "stack")).movedProblems.map((p) => p.problem);
    expect(words({ count: 0 }, "module.m[0]")).toEqual([`${missing} \`module.m\` makes no instance \`module.m[0]\` (count = 0: none)`]);
    expect(words({ count: 1 }, "module.m[1]")).toEqual([`${missing} \`module.m\` makes no instance \`module.m[1]\` (count = 1: [0])`]);
    expect(words({ for_each: {} }, 'module.m["a"]')).toEqual([`${missing} \`module.m\` makes no instance \`module.m["a"]\` (its for_each map is empty: none)`]);
    expect(words({ count: "${var.n}" }, 'module.m["a"]')).toEqual([`${missing} \`module.m\` makes no instance \`module.m["a"]\` (count = \${var.n}: numbered keys only, known at plan time)`]);
    expect(words({ count: "${var.n}" }, "module.m[5]")).toEqual([]);
  });

  it("a moved block of the whole module call (no key at either end) is no missing target: each instance is judged on its row", () => {
    const stack = stackJson({}, [{ from: "module.old", to: "module.counted" }], modules);
    const report = classify(parseState(stateJson([inModule("module.old")]), "state"), parseStack(stack, "stack"));
    expect([report.movedProblems, report.instances.map((r) => [r.outcome, r.configAddress])]).toEqual([[], [["destroyed", "module.counted.aws_sqs_queue.q"]]]);
  });

  it("a whole-call moved block catches a keyed instance (module.old[0], module.old[\"a\"]): moved when the new block makes the key, destroyed with why when not", () => {
    // Measured on 1.11.4: `module.old` → `module.new` takes each instance to the same key under `module.new`.
    // Each call to a block of its own: two calls moved to one block, Terraform refuses ("Ambiguous move statements").
    const count = { source: "./m", count: 2 };
    const each = { source: "./m", for_each: { a: "x" } };
    const calls = { c1: count, c2: count, e1: each, e2: each, p1: { source: "./m" }, p2: { source: "./m" } };
    const stack = stackJson(
      {},
      ["c", "e", "p"].flatMap((k) => [
        { from: `module.${k}_num`, to: `module.${k}1` },
        { from: `module.${k}_str`, to: `module.${k}2` },
      ]),
      calls,
    );
    const state = ["c", "e", "p"].flatMap((k) => [inModule(`module.${k}_num[0]`), inModule(`module.${k}_str["a"]`)]);
    const via = (from: string, key: string) => `moved block from \`module.${from}\` (the whole call: the instance keeps its key \`${key}\`)`;
    const report = classify(parseState(stateJson(state), "state"), parseStack(stack, "stack"));
    expect(report.instances.map((r) => [r.stateAddress, r.outcome, r.configAddress, r.note])).toEqual([
      ["module.c_num[0].aws_sqs_queue.q", "moved", "module.c1[0].aws_sqs_queue.q", `${via("c_num", "[0]")}; into an HCL module (its contents are not checked)`],
      ['module.c_str["a"].aws_sqs_queue.q', "destroyed", 'module.c2["a"].aws_sqs_queue.q', `${via("c_str", '["a"]')}; its module block \`module.c2\` uses count, so Terraform destroys ${everything('module.c2["a"]')} (a for_each key)`],
      ["module.e_num[0].aws_sqs_queue.q", "destroyed", "module.e1[0].aws_sqs_queue.q", `${via("e_num", "[0]")}; its module block \`module.e1\` uses for_each, so Terraform destroys ${everything("module.e1[0]")} (not a for_each key)`],
      ['module.e_str["a"].aws_sqs_queue.q', "moved", 'module.e2["a"].aws_sqs_queue.q', `${via("e_str", '["a"]')}; into an HCL module (its contents are not checked)`],
      ["module.p_num[0].aws_sqs_queue.q", "destroyed", "module.p1[0].aws_sqs_queue.q", `${via("p_num", "[0]")}; its module block \`module.p1\` uses neither count nor for_each, so Terraform destroys ${everything("module.p1[0]")}`],
      ['module.p_str["a"].aws_sqs_queue.q', "destroyed", 'module.p2["a"].aws_sqs_queue.q', `${via("p_str", '["a"]')}; its module block \`module.p2\` uses neither count nor for_each, so Terraform destroys ${everything('module.p2["a"]')}`],
    ]);
    // No missing target (no key at either end), and no block is a no-op: each caught its instance.
    expect([report.movedProblems, report.movedErrors, report.noopMoved, report.totals.moved, report.totals.destroyed]).toEqual([[], [], [], 2, 4]);
  });

  it("a whole-call moved block is blocked by the module instance it lands on only (measured: module.new[1] held does not stop module.old[0])", () => {
    const stack = stackJson({}, [{ from: "module.old", to: "module.counted" }], modules);
    const state = [inModule("module.old[0]"), inModule("module.old[1]"), { module: "module.counted[1]", type: "aws_sqs_queue", name: "r" }];
    expect(outcomes(state, stack)).toEqual([
      ["module.counted[1].aws_sqs_queue.r", "hcl-module", "module block kept: address unchanged"],
      ["module.old[0].aws_sqs_queue.q", "moved", "moved block from `module.old` (the whole call: the instance keeps its key `[0]`); into an HCL module (its contents are not checked)"],
      [
        "module.old[1].aws_sqs_queue.q",
        "destroyed",
        'moved block from `module.old` (the whole call: the instance keeps its key `[1]`), whose target the state holds already: Terraform does not move it there ("Unresolved resource instance address changes") and destroys it',
      ],
    ]);
  });

  it("only keys an expression decides: safe by addresses (exit 0), each named under the verdict and in the JSON", () => {
    const state = [inModule('module.byvar["k"]'), { type: "aws_sqs_queue", name: "each", instances: [{ index_key: "a" }] }];
    const stack = stackJson({ aws_sqs_queue: { each: { for_each: "${var.queues}" } } }, [], modules);
    const out = run(state, stack);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(
      "### Instance keys not checked\n\n" +
        '- `aws_sqs_queue.each["a"]` (to `aws_sqs_queue.each["a"]`): its resource\'s for_each = ${var.queues} is known at plan time only: whether it holds the key "a" is not checked; `npm run plan-check` asks Terraform\n' +
        '- `module.byvar["k"].aws_sqs_queue.q` (to `module.byvar`): its module block `module.byvar`\'s for_each = ${var.queues} is known at plan time only: whether it holds the key "k" is not checked; `npm run plan-check` asks Terraform\n',
    );
    expect(out.stdout).toContain(
      "**Result: safe**: no instance is destroyed by the migration; 2 instance key(s) not checked (known at plan time only, or made inside an HCL module): " +
        '`aws_sqs_queue.each["a"]`, `module.byvar["k"].aws_sqs_queue.q`.\n',
    );
    const json = run(state, stack, ["--json"]);
    const report = JSON.parse(json.stdout);
    expect([json.code, report.safe, report.safeBy, report.totals.keysNotChecked]).toEqual([0, true, "addresses", 2]);
    expect(report.keysNotChecked.map((k: { stateAddress: string; configAddress: string }) => [k.stateAddress, k.configAddress])).toEqual([
      ['aws_sqs_queue.each["a"]', 'aws_sqs_queue.each["a"]'],
      ['module.byvar["k"].aws_sqs_queue.q', "module.byvar"],
    ]);
  });
});

// Such a moved block read only as destroyed instances: "Moved blocks with a missing target" said None.
describe("a moved block to a resource instance its resource does not make (a missing target, as for a module block)", () => {
  const missing = "target is not in the configuration: resource";
  const resources = { aws_sqs_queue: { each: { for_each: { a: {} } }, counted: { count: 2 }, plain: {}, byvar: { for_each: "${var.queues}" } } };

  it("is listed under the missing targets naming the keys the resource makes, its instances still destroyed (Markdown and JSON)", () => {
    const state = ["old_a", "old_b", "old_c", "old_d", "old_f"].map((name) => ({ type: "aws_sqs_queue", name })) as Res[];
    state.push({ type: "aws_sqs_queue", name: "old_e", instances: [{ index_key: 0 }] });
    const moved = [
      { from: "aws_sqs_queue.old_a", to: 'aws_sqs_queue.each["a"]' },
      { from: "aws_sqs_queue.old_b", to: 'aws_sqs_queue.each["b"]' },
      { from: "aws_sqs_queue.old_c", to: "aws_sqs_queue.counted[2]" },
      { from: "aws_sqs_queue.old_d", to: "aws_sqs_queue.plain[0]" },
      // An instance-level block (a key at one end) to no key under count.
      { from: "aws_sqs_queue.old_e[0]", to: "aws_sqs_queue.counted" },
      // A key an expression decides is not judged: no problem, as for the instance.
      { from: "aws_sqs_queue.old_f", to: 'aws_sqs_queue.byvar["k"]' },
      // The block's target counts, not its source: one with no instance in the state too.
      { from: "aws_sqs_queue.gone", to: 'aws_sqs_queue.each["z"]' },
    ];
    const stack = stackJson(resources, moved);
    const problems = [
      { from: "aws_sqs_queue.gone", to: 'aws_sqs_queue.each["z"]', problem: `${missing} \`aws_sqs_queue.each\` makes no instance \`aws_sqs_queue.each["z"]\` (its for_each keys: "a")` },
      { from: "aws_sqs_queue.old_b", to: 'aws_sqs_queue.each["b"]', problem: `${missing} \`aws_sqs_queue.each\` makes no instance \`aws_sqs_queue.each["b"]\` (its for_each keys: "a")` },
      { from: "aws_sqs_queue.old_c", to: "aws_sqs_queue.counted[2]", problem: `${missing} \`aws_sqs_queue.counted\` makes no instance \`aws_sqs_queue.counted[2]\` (count = 2: [0] to [1])` },
      {
        from: "aws_sqs_queue.old_d",
        to: "aws_sqs_queue.plain[0]",
        problem: `${missing} \`aws_sqs_queue.plain\` makes no instance \`aws_sqs_queue.plain[0]\` (neither count nor for_each: \`aws_sqs_queue.plain\` alone, no key)`,
      },
      { from: "aws_sqs_queue.old_e[0]", to: "aws_sqs_queue.counted", problem: `${missing} \`aws_sqs_queue.counted\` makes no instance \`aws_sqs_queue.counted\` (count = 2: [0] to [1])` },
    ];
    const out = run(state, stack);
    expect(out.code).toBe(1);
    expect(out.stdout).toContain(
      "### Moved blocks with a missing target\n\n" + problems.map((p) => `- **error**: \`${p.from}\` → \`${p.to}\`: ${p.problem}`).join("\n") + "\n\n### No-op moved blocks",
    );
    expect(out.stdout).toContain(
      "**Result: NOT SAFE**: 4 instance(s) destroyed: `aws_sqs_queue.old_b`, `aws_sqs_queue.old_c`, `aws_sqs_queue.old_d`, `aws_sqs_queue.old_e[0]`; " +
        '5 moved block(s) to a missing target: `aws_sqs_queue.each["z"]`, `aws_sqs_queue.each["b"]`, `aws_sqs_queue.counted[2]`, `aws_sqs_queue.plain[0]`, `aws_sqs_queue.counted`.',
    );
    const json = run(state, stack, ["--json"]);
    const report = JSON.parse(json.stdout);
    expect([json.code, report.safe, report.movedProblems, report.totals.destroyed, report.totals.keysNotChecked]).toEqual([1, false, problems, 4, 1]);
    expect(report.instances.map((r: { stateAddress: string; outcome: string; configAddress: string }) => [r.stateAddress, r.outcome, r.configAddress])).toEqual([
      ["aws_sqs_queue.old_a", "moved", 'aws_sqs_queue.each["a"]'],
      ["aws_sqs_queue.old_b", "destroyed", 'aws_sqs_queue.each["b"]'],
      ["aws_sqs_queue.old_c", "destroyed", "aws_sqs_queue.counted[2]"],
      ["aws_sqs_queue.old_d", "destroyed", "aws_sqs_queue.plain[0]"],
      ["aws_sqs_queue.old_e[0]", "destroyed", "aws_sqs_queue.counted"],
      ["aws_sqs_queue.old_f", "moved", 'aws_sqs_queue.byvar["k"]'],
    ]);
  });

  it("the words for count = 0, an empty map and a count an expression decides; a whole-resource block is no missing target", () => {
    const words = (resource: object, moved: { from: string; to: string }) =>
      classify(parseState(stateJson([]), "state"), parseStack(stackJson({ aws_sqs_queue: { m: resource } }, [moved]), "stack")).movedProblems.map((p) => p.problem);
    const to = (to: string) => ({ from: "aws_sqs_queue.gone", to });
    expect(words({ count: 0 }, to("aws_sqs_queue.m[0]"))).toEqual([`${missing} \`aws_sqs_queue.m\` makes no instance \`aws_sqs_queue.m[0]\` (count = 0: none)`]);
    expect(words({ for_each: {} }, to('aws_sqs_queue.m["a"]'))).toEqual([`${missing} \`aws_sqs_queue.m\` makes no instance \`aws_sqs_queue.m["a"]\` (its for_each map is empty: none)`]);
    expect(words({ count: "${var.n}" }, to('aws_sqs_queue.m["a"]'))).toEqual([
      `${missing} \`aws_sqs_queue.m\` makes no instance \`aws_sqs_queue.m["a"]\` (count = \${var.n}: numbered keys only, known at plan time)`,
    ]);
    expect(words({ count: "${var.n}" }, to("aws_sqs_queue.m[5]"))).toEqual([]);
    // No key at either end: the whole resource moves, its instances keep their keys (each judged on its row).
    expect(words({ count: 2 }, to("aws_sqs_queue.m"))).toEqual([]);
    expect(words({ for_each: { a: {} } }, { from: 'aws_sqs_queue.gone["b"]', to: "aws_sqs_queue.m" })).toEqual([
      `${missing} \`aws_sqs_queue.m\` makes no instance \`aws_sqs_queue.m\` (its for_each keys: "a")`,
    ]);
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

function run(state: Res[], stack: string, extra: string[] = []) {
  const write = (name: string, text: string) => {
    fs.writeFileSync(path.join(tmp, name), text);
    return path.join(tmp, name);
  };
  let stdout = "";
  let stderr = "";
  const io: CliIo = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd: tmp };
  const code = main(["--state", write("state.json", stateJson(state)), "--stack-json", write("stack.json", stack), ...extra], io);
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
        "anything inside an HCL module, values known at plan time, a provider's validation: `npm run plan-check` asks Terraform for those.\n",
    )).toBe(true);
  });
});
