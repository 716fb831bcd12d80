// Long: three Terraform comparisons that share one setup: instance keys and chains of moved blocks (one plan of many cases each), and the moved blocks Terraform refuses (a plan per case).
// migration-check's verdict on instance keys against Terraform's own plan of the same configuration
// (a Terraform JSON file, read by both) and state: the keys of module instances under a block with or
// without count or for_each, string keys against a literal for_each map, and moved blocks to instances
// their resource does not make (no implied move after a moved block), and whole module calls moved
// from keyed instances (`module.old[0]`, `module.old["a"]`: the key is kept), and modules nested in a local
// module (`./n`, whose own module blocks decide their keys: named as not checked, while the first module's
// key, or its absence, is still judged). terraform_data and local modules only, so no provider is installed. What migration-check calls destroyed, Terraform deletes;
// what it keeps, Terraform keeps; a key a variable decides is named as not checked (and Terraform
// deletes one of those two: why it must not pass silently). And the moved blocks Terraform refuses to plan at all
// (ambiguous, still declared, redundant, cyclic, a resource moved to a module, across resource types): the same
// errors in migration-check, never safe. And chains of moved blocks (a → b, b → n; through module calls; mixing
// resource and instance ends; a target on the way the state holds): the same moves and deletes as Terraform's plan.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { classify, parseStack, parseState } from "../lib/migration";
import { ENV, describeDetection, detectToolchain, terraformEnv } from "../lib/toolchain";
import { tempDir } from "../__tests__/tmp";

const detection = detectToolchain();
const required = process.env[ENV.require] === "1";

test(`terraform toolchain: ${describeDetection(detection)}`, () => {
  if (!detection.ok && required) throw new Error(`${ENV.require}=1 but ${detection.reason}`);
  expect(describeDetection(detection)).toMatch(detection.ok ? /^terraform / : /^SKIPPED: /);
});

const describeTier = detection.ok ? describe : describe.skip;

const CONFIG = {
  variable: { keys: { type: "set(string)", default: ["k"] } },
  resource: {
    terraform_data: {
      lit: { for_each: { a: {} } },
      byvar: { for_each: "${var.keys}" },
      cnt: { count: 2 },
      cnt2: { count: 2 },
      cnt3: { count: 2 },
      plain: {},
      plain2: {},
    },
  },
  // Moved blocks to instances their resource does not make (missing targets), Terraform's implied moves
  // (no key ↔ [0]) not applying after a moved block, and one that moves.
  moved: [
    { from: "terraform_data.old1", to: 'terraform_data.lit["c"]' },
    { from: "terraform_data.old2", to: "terraform_data.cnt[2]" },
    { from: "terraform_data.old3", to: "terraform_data.plain[0]" },
    { from: "terraform_data.old4[0]", to: "terraform_data.cnt2" },
    { from: "terraform_data.old6", to: "terraform_data.cnt3" },
    { from: "terraform_data.old8", to: "terraform_data.plain2" },
    { from: "terraform_data.old9", to: "terraform_data.cnt[1]" },
    // Whole module calls from a keyed state instance: each keeps its key, which the new block makes or not.
    { from: "module.wc0", to: "module.wcount" },
    { from: "module.we0", to: "module.weach" },
    { from: "module.wp0", to: "module.wplain" },
    { from: "module.wca", to: "module.wcount2" },
    { from: "module.wea", to: "module.weach2" },
    { from: "module.wpa", to: "module.wplain2" },
    { from: "module.wb", to: "module.wblk" },
    // Nested modules: a nested call moved to a root block keeps its key; a whole call moved onto `./n` keeps
    // the nested keys, as does a resource moved into a nested instance: `./n` decides those.
    { from: "module.nold.module.b", to: "module.ncount" },
    { from: "module.nkeyed[0].module.b", to: "module.ncount2" },
    { from: "module.nunkeyed.module.b", to: "module.nplain" },
    { from: "module.nkeyless[0].module.b", to: "module.nplain2" },
    { from: "module.nwhole", to: "module.nsrc" },
    { from: "terraform_data.nr1", to: "module.nsrc.module.bc[1].terraform_data.a" },
    { from: "terraform_data.nr2", to: "module.nsrc.module.bc[7].terraform_data.a" },
    { from: "terraform_data.nr3", to: "module.ncounted.module.b.terraform_data.a" },
    { from: "terraform_data.nr4", to: "module.nsrc[0].module.b.terraform_data.a" },
  ],
  module: {
    plain: { source: "./m" },
    counted: { source: "./m", count: 2 },
    each: { source: "./m", for_each: { a: {} } },
    eachvar: { source: "./m", for_each: "${var.keys}" },
    wcount: { source: "./m", count: 2 },
    weach: { source: "./m", for_each: { a: {} } },
    wplain: { source: "./m" },
    wcount2: { source: "./m", count: 2 },
    weach2: { source: "./m", for_each: { a: {} } },
    wplain2: { source: "./m" },
    wblk: { source: "./m", count: 2 },
    nplain: { source: "./n" },
    ncounted: { source: "./n", count: 2 },
    neach: { source: "./n", for_each: { a: {} } },
    ncount: { source: "./m", count: 2 },
    ncount2: { source: "./m", count: 2 },
    nsrc: { source: "./n" },
    nplain2: { source: "./m" },
  },
};

/** [module path or "", resource name, index keys] of the state: one terraform_data instance each. */
const HELD: [string, string, (string | number | null)[]][] = [
  ["", "lit", ["a", "b"]],
  ["", "byvar", ["k", "z"]],
  ["", "old1", [null]],
  ["", "old2", [null]],
  ["", "old3", [null]],
  ["", "old4", [0]],
  ["", "old6", [null]],
  ["", "old8", [0]],
  ["", "old9", [null]],
  ["module.plain", "a", [null]],
  ["module.plain[0]", "a", [null]],
  ["module.counted", "a", [null]],
  ["module.counted[1]", "a", [null]],
  ["module.counted[2]", "a", [null]],
  ['module.counted["z"]', "a", [null]],
  ['module.each["a"]', "a", [null]],
  ['module.each["b"]', "a", [null]],
  ["module.each[0]", "a", [null]],
  ['module.eachvar["k"]', "a", [null]],
  ['module.eachvar["z"]', "a", [null]],
  ["module.wc0[0]", "a", [null]],
  ["module.we0[0]", "a", [null]],
  ["module.wp0[0]", "a", [null]],
  ['module.wca["a"]', "a", [null]],
  ['module.wea["a"]', "a", [null]],
  ['module.wpa["a"]', "a", [null]],
  // module.wcount[1] held: it does not block module.wc0[0] (the module instance it lands on is free).
  ["module.wcount[1]", "a", [null]],
  // module.wblk[1] held: module.wb[1] cannot move there ("Unresolved resource instance address changes"), module.wb[0] moves.
  ["module.wb[0]", "a", [null]],
  ["module.wb[1]", "a", [null]],
  ["module.wblk[1]", "a", [null]],
  // Nested in ./n (module "b": neither count nor for_each; "bc": count = 2; "be": for_each = { a = 1 }).
  ["module.nplain.module.b", "a", [null]],
  ["module.nplain.module.b[0]", "a", [null]],
  ["module.nplain.module.bc", "a", [null]],
  ["module.nplain.module.bc[1]", "a", [null]],
  ["module.nplain.module.bc[2]", "a", [null]],
  ['module.nplain.module.be["a"]', "a", [null]],
  ['module.nplain.module.be["z"]', "a", [null]],
  ["module.nplain[0].module.b", "a", [null]],
  ["module.ncounted.module.b", "a", [null]],
  ["module.ncounted[1].module.bc[1]", "a", [null]],
  ["module.ncounted[1].module.b[0]", "a", [null]],
  ['module.neach["a"].module.be', "a", [null]],
  ['module.neach["a"].module.be["a"]', "a", [null]],
  ["module.nold.module.b[1]", "a", [null]],
  ["module.nold.module.b[5]", "a", [null]],
  ["module.nkeyed[0].module.b[1]", "a", [null]],
  // A block's from without the parent's key catches no keyed parent: left where it is, in a module that is gone.
  ["module.nunkeyed[0].module.b", "a", [null]],
  // And the reverse: a from with the parent's key catches no unkeyed parent.
  ["module.nkeyless.module.b", "a", [null]],
  ["module.nwhole.module.bc[0]", "a", [null]],
  ["module.nwhole.module.bc[5]", "a", [null]],
  ["", "nr1", [null]],
  ["", "nr2", [null]],
  ["", "nr3", [null]],
  ["", "nr4", [null]],
];

/** ./n: a local module with modules of its own, with neither, `count` and `for_each`. */
const NESTED =
  'resource "terraform_data" "a" {}\n' +
  'module "b" {\n  source = "../m"\n}\n' +
  'module "bc" {\n  source = "../m"\n  count  = 2\n}\n' +
  'module "be" {\n  source   = "../m"\n  for_each = { a = 1 }\n}\n';

/** A state of terraform_data instances: [module path or "", resource name, index keys] each. */
const stateOf = (held: typeof HELD, lineage: string) => ({
  version: 4,
  terraform_version: "1.11.4",
  serial: 1,
  lineage,
  outputs: {},
  resources: held.map(([module, name, keys]) => ({
    mode: "managed",
    ...(module ? { module } : {}),
    type: "terraform_data",
    name,
    provider: 'provider["terraform.io/builtin/terraform"]',
    instances: keys.map((k) => ({
      ...(k === null ? {} : { index_key: k }),
      schema_version: 0,
      attributes: { id: `id-${module}-${name}-${k}`, input: null, output: null, triggers_replace: null },
    })),
  })),
});
const STATE = stateOf(HELD, "migration-keys");

/** Terraform's plan in `dir` (its configuration and state written): the instances it deletes, by state address, and its moves. */
function planOf(dir: string): { deleted: string[]; moves: [string, string][] } {
  if (!detection.ok) throw new Error(detection.reason);
  const { terraform } = detection.toolchain;
  const tf = (args: string[]) => {
    const r = spawnSync(terraform, args, {
      cwd: dir,
      env: terraformEnv({ TF_CLI_CONFIG_FILE: path.join(path.sep, "dev", "null") }),
      encoding: "utf8",
      timeout: 120000,
    });
    if (r.status !== 0) throw new Error(`terraform ${args.join(" ")} exited ${r.status ?? r.signal}: ${r.stderr}`);
    return r.stdout;
  };
  tf(["init", "-input=false", "-no-color"]);
  tf(["plan", "-refresh=false", "-input=false", "-lock=false", "-no-color", "-out=tfplan"]);
  type Change = { address: string; previous_address?: string; change: { actions: string[] } };
  const plan = JSON.parse(tf(["show", "-json", "tfplan"])) as { resource_changes: Change[] };
  return {
    // A moved instance is deleted at its new address: named by its state address, as migration-check does.
    deleted: plan.resource_changes.filter((c) => c.change.actions.includes("delete")).map((c) => c.previous_address ?? c.address).sort(),
    moves: plan.resource_changes
      .filter((c) => c.previous_address !== undefined && !c.change.actions.includes("delete"))
      .map((c): [string, string] => [c.previous_address!, c.address])
      .sort(),
  };
}

describeTier("instance keys: migration-check against Terraform's plan", () => {
  let deleted: string[] = [];
  let moves: [string, string][] = [];

  beforeAll(() => {
    if (!detection.ok) return;
    const dir = tempDir("migration-keys-");
    fs.mkdirSync(path.join(dir, "m"));
    fs.writeFileSync(path.join(dir, "m", "main.tf"), 'resource "terraform_data" "a" {}\n');
    fs.mkdirSync(path.join(dir, "n"));
    fs.writeFileSync(path.join(dir, "n", "main.tf"), NESTED);
    fs.writeFileSync(path.join(dir, "main.tf.json"), JSON.stringify(CONFIG, null, 2));
    fs.writeFileSync(path.join(dir, "terraform.tfstate"), JSON.stringify(STATE, null, 2));
    ({ deleted, moves } = planOf(dir));
  });

  it("destroys exactly what Terraform deletes among the keys it judges, and names the keys a variable or a nested module's source decides", () => {
    const report = classify(parseState(JSON.stringify(STATE), "state"), parseStack(JSON.stringify(CONFIG), "stack"));
    const destroyed = report.instances.filter((r) => r.outcome === "destroyed").map((r) => r.stateAddress).sort();
    const unchecked = report.keysNotChecked.map((k) => k.stateAddress).sort();
    expect(destroyed).toEqual([
      "module.counted.terraform_data.a",
      'module.counted["z"].terraform_data.a',
      "module.counted[2].terraform_data.a",
      'module.each["b"].terraform_data.a',
      "module.each[0].terraform_data.a",
      "module.ncounted.module.b.terraform_data.a",
      "module.nkeyless.module.b.terraform_data.a",
      "module.nold.module.b[5].terraform_data.a",
      "module.nplain[0].module.b.terraform_data.a",
      "module.nunkeyed[0].module.b.terraform_data.a",
      "module.plain[0].terraform_data.a",
      "module.wb[1].terraform_data.a",
      'module.wca["a"].terraform_data.a',
      "module.we0[0].terraform_data.a",
      "module.wp0[0].terraform_data.a",
      'module.wpa["a"].terraform_data.a',
      'terraform_data.lit["b"]',
      "terraform_data.nr3",
      "terraform_data.nr4",
      "terraform_data.old1",
      "terraform_data.old2",
      "terraform_data.old3",
      "terraform_data.old4[0]",
      "terraform_data.old6",
      "terraform_data.old8[0]",
    ]);
    // Nested keys, or their absence, are ./n's to make: each named as not checked, kept in place or moved.
    const nested = [
      'module.neach["a"].module.be.terraform_data.a',
      'module.neach["a"].module.be["a"].terraform_data.a',
      "module.ncounted[1].module.b[0].terraform_data.a",
      "module.ncounted[1].module.bc[1].terraform_data.a",
      "module.nplain.module.b.terraform_data.a",
      "module.nplain.module.b[0].terraform_data.a",
      "module.nplain.module.bc.terraform_data.a",
      "module.nplain.module.bc[1].terraform_data.a",
      "module.nplain.module.bc[2].terraform_data.a",
      'module.nplain.module.be["a"].terraform_data.a',
      'module.nplain.module.be["z"].terraform_data.a',
      "module.nwhole.module.bc[0].terraform_data.a",
      "module.nwhole.module.bc[5].terraform_data.a",
      "terraform_data.nr1",
      "terraform_data.nr2",
    ];
    expect(unchecked).toEqual(
      ['module.eachvar["k"].terraform_data.a', 'module.eachvar["z"].terraform_data.a', ...nested, 'terraform_data.byvar["k"]', 'terraform_data.byvar["z"]'].sort(),
    );
    // Terraform: the same deletes, and of the keys not checked, the two the variable does not hold and the
    // nested instances ./n does not make (read "in an HCL module" or "moved" with no word before).
    const uncheckedDeleted = [
      'module.eachvar["z"].terraform_data.a',
      'module.neach["a"].module.be.terraform_data.a',
      "module.ncounted[1].module.b[0].terraform_data.a",
      "module.nplain.module.b[0].terraform_data.a",
      "module.nplain.module.bc.terraform_data.a",
      "module.nplain.module.bc[2].terraform_data.a",
      'module.nplain.module.be["z"].terraform_data.a',
      "module.nwhole.module.bc[5].terraform_data.a",
      "terraform_data.nr2",
      'terraform_data.byvar["z"]',
    ];
    expect(deleted).toEqual([...destroyed, ...uncheckedDeleted].sort());
    expect([report.safe, report.safeBy, report.totals.destroyed, report.totals.keysNotChecked, report.totals.moved]).toEqual([false, "addresses", 25, 19, 10]);
    // What it reads moved, Terraform moves to the same address (a whole module call keeps the instance's key).
    const moved = report.instances.filter((r) => r.outcome === "moved").map((r): [string, string] => [r.stateAddress, r.configAddress!]);
    expect(moved).toEqual([
      ["module.nkeyed[0].module.b[1].terraform_data.a", "module.ncount2[1].terraform_data.a"],
      ["module.nold.module.b[1].terraform_data.a", "module.ncount[1].terraform_data.a"],
      ["module.nwhole.module.bc[0].terraform_data.a", "module.nsrc.module.bc[0].terraform_data.a"],
      ["module.nwhole.module.bc[5].terraform_data.a", "module.nsrc.module.bc[5].terraform_data.a"],
      ["module.wb[0].terraform_data.a", "module.wblk[0].terraform_data.a"],
      ["module.wc0[0].terraform_data.a", "module.wcount[0].terraform_data.a"],
      ['module.wea["a"].terraform_data.a', 'module.weach2["a"].terraform_data.a'],
      ["terraform_data.nr1", "module.nsrc.module.bc[1].terraform_data.a"],
      ["terraform_data.nr2", "module.nsrc.module.bc[7].terraform_data.a"],
      ["terraform_data.old9", "terraform_data.cnt[1]"],
    ]);
    // Terraform moves the same, less the two whose nested key ./n does not make (deleted at the target, above).
    expect(moves).toEqual(moved.filter(([from]) => !uncheckedDeleted.includes(from)));
    // The instance-level blocks among them are missing targets; the whole-resource ones (old6, old8) are not,
    // nor a nested key (nr2: ./n may make it); a first module's key, or its absence, that the block does not make is.
    expect(report.movedProblems.map((m) => m.to)).toEqual([
      "module.ncounted.module.b.terraform_data.a",
      "module.nsrc[0].module.b.terraform_data.a",
      'terraform_data.lit["c"]',
      "terraform_data.cnt[2]",
      "terraform_data.plain[0]",
      "terraform_data.cnt2",
    ]);
    // A from without the parent's key catches no keyed parent, nor the reverse, in Terraform as here.
    expect(report.noopMoved.map((m) => m.from).filter((f) => f.includes(".module."))).toEqual(["module.nkeyless[0].module.b", "module.nunkeyed.module.b"]);
  });
});

/** A moved-block case: its root resources (a count when a number), module blocks, moved blocks and held state resources. */
interface MovedCase {
  readonly resources?: Record<string, number | null>;
  readonly modules?: Record<string, number | null>;
  readonly moved: [string, string][];
  /** [module path or "", resource type, resource name, keys]. */
  readonly held: [string, string, string, (string | number | null)[]][];
}

const MOVED_CASES: Record<string, MovedCase> = {
  "two module calls moved to one": { modules: { n: null }, moved: [["module.a", "module.n"], ["module.b", "module.n"]], held: [["module.a", "terraform_data", "a", [null]], ["module.b", "terraform_data", "a", [null]]] },
  "two resources moved to one": { resources: { n: null }, moved: [["terraform_data.a", "terraform_data.n"], ["terraform_data.b", "terraform_data.n"]], held: [["", "terraform_data", "a", [null]], ["", "terraform_data", "b", [null]]] },
  "one resource moved to two": { resources: { n: null, c: null }, moved: [["terraform_data.a", "terraform_data.n"], ["terraform_data.a", "terraform_data.c"]], held: [["", "terraform_data", "a", [null]]] },
  "two instances moved to one": { resources: { n: 2 }, moved: [["terraform_data.a[0]", "terraform_data.n[1]"], ["terraform_data.b", "terraform_data.n[1]"]], held: [["", "terraform_data", "a", [0]], ["", "terraform_data", "b", [null]]] },
  "a resource-level and an instance-level block to one resource": { resources: { n: null }, moved: [["terraform_data.a", "terraform_data.n"], ["terraform_data.b[0]", "terraform_data.n"]], held: [["", "terraform_data", "a", [null]], ["", "terraform_data", "b", [0]]] },
  "the same block twice": { resources: { n: null }, moved: [["terraform_data.a", "terraform_data.n"], ["terraform_data.a", "terraform_data.n"]], held: [["", "terraform_data", "a", [null]]] },
  "a chain": { resources: { n: null }, moved: [["terraform_data.a", "terraform_data.b"], ["terraform_data.b", "terraform_data.n"]], held: [["", "terraform_data", "a", [null]]] },
  "a chain whose middle is still declared": { resources: { n: null, b: null }, moved: [["terraform_data.a", "terraform_data.b"], ["terraform_data.b", "terraform_data.n"]], held: [["", "terraform_data", "a", [null]]] },
  "a chain of module calls whose middle is still declared": { modules: { b: null, c: null }, moved: [["module.a", "module.b"], ["module.b", "module.c"]], held: [["module.a", "terraform_data", "a", [null]]] },
  "a cycle of two": { resources: { n: null }, moved: [["terraform_data.a", "terraform_data.b"], ["terraform_data.b", "terraform_data.a"]], held: [["", "terraform_data", "a", [null]]] },
  "a cycle of three": { resources: { n: null }, moved: [["terraform_data.a", "terraform_data.b"], ["terraform_data.b", "terraform_data.c"], ["terraform_data.c", "terraform_data.a"]], held: [["", "terraform_data", "a", [null]]] },
  "a cycle of module calls": { modules: { n: null }, moved: [["module.a", "module.b"], ["module.b", "module.a"]], held: [["module.a", "terraform_data", "a", [null]]] },
  "a cycle through a module's contents": { modules: { n: null }, moved: [["module.a", "module.b"], ["module.b.terraform_data.x", "module.a.terraform_data.x"]], held: [["module.a", "terraform_data", "a", [null]]] },
  "a call and its contents moved on": { resources: { q: null }, modules: { n: null }, moved: [["module.a", "module.n"], ["module.n.terraform_data.x", "terraform_data.q"]], held: [["module.a", "terraform_data", "x", [null]]] },
  "a resource moved to a module": { modules: { n: null }, moved: [["terraform_data.a", "module.n"], ["terraform_data.b", "terraform_data.b"]], held: [["", "terraform_data", "a", [null]]] },
  "a resource still declared": { resources: { n: null, c: null }, moved: [["terraform_data.c", "terraform_data.n"]], held: [["", "terraform_data", "c", [null]]] },
  "a counted resource still declared, count 0": { resources: { n: null, z: 0 }, moved: [["terraform_data.z", "terraform_data.n"]], held: [["", "terraform_data", "z", [0]]] },
  "an instance beyond count 0": { resources: { n: null, z: 0 }, moved: [["terraform_data.z[0]", "terraform_data.n"]], held: [["", "terraform_data", "z", [0]]] },
  "an instance still declared": { resources: { n: null, c: 2 }, moved: [["terraform_data.c[1]", "terraform_data.n"]], held: [["", "terraform_data", "c", [0, 1]]] },
  "a module call still declared": { modules: { n: null, c: null }, moved: [["module.c", "module.n"]], held: [["module.c", "terraform_data", "a", [null]]] },
  "a module instance still declared": { modules: { n: null, c: 2 }, moved: [["module.c[0]", "module.n"]], held: [["module.c[0]", "terraform_data", "a", [null]]] },
  "a module call moved into itself": { modules: { a: null }, moved: [["module.a", "module.a.module.b"]], held: [["module.a", "terraform_data", "a", [null]]] },
  "a block to its own from": { resources: { n: null }, moved: [["terraform_data.n", "terraform_data.n"]], held: [["", "terraform_data", "n", [null]]] },
  "still declared and ambiguous": { resources: { n: null, a: null }, moved: [["terraform_data.a", "terraform_data.n"], ["terraform_data.b", "terraform_data.n"]], held: [["", "terraform_data", "b", [null]]] },
  "across resource types": { resources: { n: null }, moved: [["terraform_other.a", "terraform_data.n"]], held: [["", "terraform_other", "a", [null]]] },
  "across resource types, down a chain": {
    resources: { n: null },
    moved: [["terraform_other.a", "terraform_other.b"], ["terraform_other.b", "terraform_data.n"]],
    held: [["", "terraform_other", "a", [null]]],
  },
};

const AMBIGUOUS = "Ambiguous move statements";
const CYCLE = "Cyclic dependency in move statements";
const EXISTS = "Moved object still exists";
/** What Terraform 1.11.4 says of each case (its errors, as migration-check names them; none: it plans). */
const TERRAFORM_SAYS: Record<string, string[]> = {
  "two module calls moved to one": [AMBIGUOUS],
  "two resources moved to one": [AMBIGUOUS],
  "one resource moved to two": [AMBIGUOUS],
  "two instances moved to one": [AMBIGUOUS],
  "a resource-level and an instance-level block to one resource": [],
  "the same block twice": [],
  "a chain": [],
  "a chain whose middle is still declared": [EXISTS],
  "a chain of module calls whose middle is still declared": [EXISTS],
  "a cycle of two": [CYCLE],
  "a cycle of three": [CYCLE],
  "a cycle of module calls": [CYCLE],
  "a cycle through a module's contents": [CYCLE],
  "a call and its contents moved on": [],
  "a resource moved to a module": ['Invalid "moved" addresses'],
  "a resource still declared": [EXISTS],
  "a counted resource still declared, count 0": [EXISTS],
  "an instance beyond count 0": [],
  "an instance still declared": [EXISTS],
  "a module call still declared": [EXISTS],
  "a module instance still declared": [EXISTS],
  "a module call moved into itself": [EXISTS],
  "a block to its own from": ["Redundant move statement"],
  "still declared and ambiguous": [EXISTS, AMBIGUOUS],
  "across resource types": ["Move across resource types"],
  "across resource types, down a chain": ["Move across resource types"],
};

/** The provider's own words for a move across types (the builtin provider's, for terraform_data), as migration-check names it. */
const AS_MIGRATION_CHECK: Record<string, string> = { "Unsupported source provider for move operation": "Move across resource types" };

describeTier("moved blocks Terraform refuses: migration-check against Terraform", () => {
  const cases = Object.entries(MOVED_CASES);
  const root = detection.ok ? tempDir("migration-moved-") : "";
  test.each(cases)("%s", (name, c) => {
    if (!detection.ok) return;
    const block = (count: number | null) => (count === null ? {} : { count });
    const config = {
      ...(c.resources ? { resource: { terraform_data: Object.fromEntries(Object.entries(c.resources).map(([n, k]) => [n, block(k)])) } } : {}),
      ...(c.modules ? { module: Object.fromEntries(Object.entries(c.modules).map(([n, k]) => [n, { source: "./m", ...block(k) }])) } : {}),
      moved: c.moved.map(([from, to]) => ({ from, to })),
    };
    const state = {
      version: 4,
      terraform_version: "1.11.4",
      serial: 1,
      lineage: "migration-moved",
      outputs: {},
      resources: c.held.map(([module, type, rname, keys]) => ({
        mode: "managed",
        ...(module ? { module } : {}),
        type,
        name: rname,
        provider: 'provider["terraform.io/builtin/terraform"]',
        instances: keys.map((k) => ({ ...(k === null ? {} : { index_key: k }), schema_version: 0, attributes: { id: `${rname}-${k}`, input: null, output: null, triggers_replace: null } })),
      })),
    };
    const dir = path.join(root, name.replace(/\W+/g, "-"));
    fs.mkdirSync(path.join(dir, "m"), { recursive: true });
    fs.writeFileSync(path.join(dir, "m", "main.tf"), 'resource "terraform_data" "a" {}\n');
    fs.writeFileSync(path.join(dir, "main.tf.json"), JSON.stringify(config, null, 2));
    fs.writeFileSync(path.join(dir, "terraform.tfstate"), JSON.stringify(state, null, 2));
    const tf = (args: string[]) =>
      spawnSync(detection.toolchain.terraform, [...args, "-input=false", "-no-color"], {
        cwd: dir,
        env: terraformEnv({ TF_CLI_CONFIG_FILE: path.join(path.sep, "dev", "null") }),
        encoding: "utf8",
        timeout: 120000,
      });
    let run = tf(["init"]);
    if (run.status === 0) run = tf(["plan", "-refresh=false", "-lock=false"]);
    const terraform = [...`${run.stdout}${run.stderr}`.matchAll(/^Error: (.+)$/gm)].map((m) => AS_MIGRATION_CHECK[m[1]] ?? m[1]);
    const report = classify(parseState(JSON.stringify(state), "state"), parseStack(JSON.stringify(config), "stack"));
    // The same errors, in Terraform's order; a configuration Terraform refuses is never safe.
    expect([terraform, run.status === 0]).toEqual([TERRAFORM_SAYS[name], TERRAFORM_SAYS[name].length === 0]);
    expect(report.movedErrors.map((e) => e.error)).toEqual(terraform);
    if (terraform.length > 0) expect(report.safe).toBe(false);
  });
});

// Chains of moved blocks, one case per group of names in one configuration (the blocks of one case touch no other
// case's addresses, so Terraform orders and applies each chain on its own): Terraform 1.11.4 takes an object
// through every block of a chain (internal/refactoring/move_execute.go), and stops at a target the state holds.
const td = (name: string) => `terraform_data.${name}`;
const CHAINS = {
  resource: { terraform_data: { c1n: {}, c2n: {}, c3c: {}, c4c: {}, c5n: {}, c6n: {}, c8q: {}, c9c: { count: 1 }, z3: {} } },
  module: { mc: { source: "./m" }, nc: { source: "./m" }, kc: { source: "./m", count: 2 }, qn: { source: "./m" }, rn: { source: "./m" } },
  moved: (
    [
      // a → b → n; and a chain of three written out of order.
      [td("c1a"), td("c1b")],
      [td("c1b"), td("c1n")],
      [td("c2b"), td("c2c")],
      [td("c2c"), td("c2n")],
      [td("c2a"), td("c2b")],
      // An instance end, then a resource end (a[0] → b → c; a[0] → b[0], b → c keeps [0]), and the reverse (a → b, b[0] → c: a[1] stays at b[1]).
      [td("c3a[0]"), td("c3b")],
      [td("c3b"), td("c3c")],
      [td("c4a"), td("c4b")],
      [td("c4b[0]"), td("c4c")],
      [td("c9a[0]"), td("c9b[0]")],
      [td("c9b"), td("c9c")],
      // The state holds a and b: a stays (b's place is taken), b goes on to n.
      [td("c5a"), td("c5b")],
      [td("c5b"), td("c5n")],
      // The state holds a and n: a goes to b and stops there.
      [td("c6a"), td("c6b")],
      [td("c6b"), td("c6n")],
      // The end of the chain is not declared.
      [td("c7a"), td("c7b")],
      [td("c7b"), td("c7n")],
      // Module calls: module.a → module.b → module.c; with module.a and module.b held; from a module instance.
      ["module.ma", "module.mb"],
      ["module.mb", "module.mc"],
      ["module.na", "module.nb"],
      ["module.nb", "module.nc"],
      ["module.ka[0]", "module.kb"],
      ["module.kb", "module.kc[1]"],
      // A call, then one resource of it moved on; a resource into a call, then the call moved.
      ["module.qa", "module.qn"],
      ["module.qn.terraform_data.y", td("c8q")],
      [td("r"), "module.rb.terraform_data.a"],
      ["module.rb", "module.rn"],
      // Nothing in the state: both no-ops.
      [td("z1"), td("z2")],
      [td("z2"), td("z3")],
    ] as [string, string][]
  ).map(([from, to]) => ({ from, to })),
};
const CHAIN_HELD: typeof HELD = [
  ["", "c1a", [null]],
  ["", "c2a", [null]],
  ["", "c3a", [0]],
  ["", "c4a", [0, 1]],
  ["", "c9a", [0]],
  ["", "c5a", [null]],
  ["", "c5b", [null]],
  ["", "c6a", [null]],
  ["", "c6n", [null]],
  ["", "c7a", [null]],
  ["module.ma", "a", [null]],
  ["module.na", "a", [null]],
  ["module.nb", "a", [null]],
  ["module.ka[0]", "a", [null]],
  ["module.qa", "a", [null]],
  ["module.qa", "y", [null]],
  ["", "r", [null]],
];

describeTier("chains of moved blocks: migration-check against Terraform's plan", () => {
  let deleted: string[] = [];
  let moves: [string, string][] = [];
  const state = stateOf(CHAIN_HELD, "migration-chains");

  beforeAll(() => {
    if (!detection.ok) return;
    const dir = tempDir("migration-chains-");
    fs.mkdirSync(path.join(dir, "m"));
    fs.writeFileSync(path.join(dir, "m", "main.tf"), 'resource "terraform_data" "a" {}\n');
    fs.writeFileSync(path.join(dir, "main.tf.json"), JSON.stringify(CHAINS, null, 2));
    fs.writeFileSync(path.join(dir, "terraform.tfstate"), JSON.stringify(state, null, 2));
    ({ deleted, moves } = planOf(dir));
  });

  it("moves each object to the end of its chain and destroys what Terraform deletes; the middles are no missing targets, no no-ops", () => {
    const report = classify(parseState(JSON.stringify(state), "state"), parseStack(JSON.stringify(CHAINS), "stack"));
    const moved = report.instances.filter((r) => r.outcome === "moved").map((r): [string, string] => [r.stateAddress, r.configAddress!]);
    expect(moved).toEqual([
      ["module.ka[0].terraform_data.a", "module.kc[1].terraform_data.a"],
      ["module.ma.terraform_data.a", "module.mc.terraform_data.a"],
      ["module.nb.terraform_data.a", "module.nc.terraform_data.a"],
      ["module.qa.terraform_data.a", "module.qn.terraform_data.a"],
      ["module.qa.terraform_data.y", td("c8q")],
      [td("c1a"), td("c1n")],
      [td("c2a"), td("c2n")],
      [td("c3a[0]"), td("c3c")],
      [td("c4a[0]"), td("c4c")],
      [td("c5b"), td("c5n")],
      [td("c9a[0]"), td("c9c[0]")],
      [td("r"), "module.rn.terraform_data.a"],
    ]);
    expect(moves).toEqual(moved);
    const destroyed = report.instances.filter((r) => r.outcome === "destroyed").map((r) => r.stateAddress);
    expect(destroyed).toEqual(["module.na.terraform_data.a", td("c4a[1]"), td("c5a"), td("c6a"), td("c7a")]);
    expect(deleted).toEqual([...destroyed].sort());
    expect(report.instances.filter((r) => r.outcome === "kept").map((r) => r.stateAddress)).toEqual([td("c6n")]);
    // Missing: c4a → c4b (its [1] stays at c4b[1]) and the end c7b → c7n; no middle of a chain.
    expect(report.movedProblems.map((m) => `${m.from} -> ${m.to}`)).toEqual([`${td("c4a")} -> ${td("c4b")}`, `${td("c7b")} -> ${td("c7n")}`]);
    expect(report.noopMoved).toEqual([
      { from: td("z1"), to: td("z2") },
      { from: td("z2"), to: td("z3") },
    ]);
    expect([report.movedErrors, report.safe]).toEqual([[], false]);
  });
});
