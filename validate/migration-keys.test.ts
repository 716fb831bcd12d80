// migration-check's verdict on instance keys against Terraform's own plan of the same configuration
// (a Terraform JSON file, read by both) and state: the keys of module instances under a block with or
// without count or for_each, string keys against a literal for_each map, and moved blocks to instances
// their resource does not make (no implied move after a moved block), and whole module calls moved
// from keyed instances (`module.old[0]`, `module.old["a"]`: the key is kept). terraform_data and a local
// module only, so no provider is installed. What migration-check calls destroyed, Terraform deletes;
// what it keeps, Terraform keeps; a key a variable decides is named as not checked (and Terraform
// deletes one of those two: why it must not pass silently).
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
];

const STATE = {
  version: 4,
  terraform_version: "1.11.4",
  serial: 1,
  lineage: "migration-keys",
  outputs: {},
  resources: HELD.map(([module, name, keys]) => ({
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
};

describeTier("instance keys: migration-check against Terraform's plan", () => {
  let deleted: string[] = [];
  let moves: [string, string][] = [];

  beforeAll(() => {
    if (!detection.ok) return;
    const dir = tempDir("migration-keys-");
    fs.mkdirSync(path.join(dir, "m"));
    fs.writeFileSync(path.join(dir, "m", "main.tf"), 'resource "terraform_data" "a" {}\n');
    fs.writeFileSync(path.join(dir, "main.tf.json"), JSON.stringify(CONFIG, null, 2));
    fs.writeFileSync(path.join(dir, "terraform.tfstate"), JSON.stringify(STATE, null, 2));
    const tf = (args: string[]) => {
      const r = spawnSync(detection.toolchain.terraform, args, {
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
    // A moved instance is deleted at its new address: named by its state address, as migration-check does.
    deleted = plan.resource_changes.filter((c) => c.change.actions.includes("delete")).map((c) => c.previous_address ?? c.address).sort();
    moves = plan.resource_changes
      .filter((c) => c.previous_address !== undefined && !c.change.actions.includes("delete"))
      .map((c): [string, string] => [c.previous_address!, c.address])
      .sort();
  });

  it("destroys exactly what Terraform deletes among the keys it judges, and names the keys a variable decides", () => {
    const report = classify(parseState(JSON.stringify(STATE), "state"), parseStack(JSON.stringify(CONFIG), "stack"));
    const destroyed = report.instances.filter((r) => r.outcome === "destroyed").map((r) => r.stateAddress).sort();
    const unchecked = report.keysNotChecked.map((k) => k.stateAddress).sort();
    expect(destroyed).toEqual([
      "module.counted.terraform_data.a",
      'module.counted["z"].terraform_data.a',
      "module.counted[2].terraform_data.a",
      'module.each["b"].terraform_data.a',
      "module.each[0].terraform_data.a",
      "module.plain[0].terraform_data.a",
      "module.wb[1].terraform_data.a",
      'module.wca["a"].terraform_data.a',
      "module.we0[0].terraform_data.a",
      "module.wp0[0].terraform_data.a",
      'module.wpa["a"].terraform_data.a',
      'terraform_data.lit["b"]',
      "terraform_data.old1",
      "terraform_data.old2",
      "terraform_data.old3",
      "terraform_data.old4[0]",
      "terraform_data.old6",
      "terraform_data.old8[0]",
    ]);
    expect(unchecked).toEqual(['module.eachvar["k"].terraform_data.a', 'module.eachvar["z"].terraform_data.a', 'terraform_data.byvar["k"]', 'terraform_data.byvar["z"]']);
    // Terraform: the same deletes, and of the keys not checked, the two the variable does not hold.
    expect(deleted).toEqual(
      [...destroyed, 'module.eachvar["z"].terraform_data.a', 'terraform_data.byvar["z"]'].sort(),
    );
    expect([report.safe, report.safeBy, report.totals.destroyed, report.totals.keysNotChecked, report.totals.moved]).toEqual([false, "addresses", 18, 4, 4]);
    // What it reads moved, Terraform moves to the same address (a whole module call keeps the instance's key).
    const moved = report.instances.filter((r) => r.outcome === "moved").map((r): [string, string] => [r.stateAddress, r.configAddress!]);
    expect(moved).toEqual([
      ["module.wb[0].terraform_data.a", "module.wblk[0].terraform_data.a"],
      ["module.wc0[0].terraform_data.a", "module.wcount[0].terraform_data.a"],
      ['module.wea["a"].terraform_data.a', 'module.weach2["a"].terraform_data.a'],
      ["terraform_data.old9", "terraform_data.cnt[1]"],
    ]);
    expect(moves).toEqual(moved);
    // The instance-level blocks among them are missing targets; the whole-resource ones (old6, old8) are not.
    expect(report.movedProblems.map((m) => m.to)).toEqual(['terraform_data.lit["c"]', "terraform_data.cnt[2]", "terraform_data.plain[0]", "terraform_data.cnt2"]);
  });
});
