// --against-hcl: the HCL root planned the same way as the stack, beside it, and compared
// address by address through the moved blocks.

import * as fs from "fs";
import * as path from "path";
import { INTENDED_DIFFERENCES, MOVES, counterpart } from "../../stacks/moves";
import { InputError } from "../../lib/cli";
import { ResourceChange, comparePlans, explain, resourceOf } from "../../lib/plan/judge";
import { PlanCheckReport } from "../../lib/plan/report";
import { Terraform, TerraformFailed, Timings, UnknownAddress, init } from "../../lib/plan/run";
import { PinSource, SchemaSummary, Workspace, adaptState } from "../../lib/plan/workspace";
import type { Options } from "./index";
import { stateInstances } from "./inputs";
import { Progress } from "./progress";
import { Planned, initOnce, planWorkspace, unplannableResources } from "./terraform";
import { baselineWasm } from "../../lib/wasm";

export interface HclRoot {
  readonly dir: string;
  /** Its variables without a default that no .tfvars file in it sets. */
  readonly required: string[];
}

/**
 * The --against-hcl folder, checked before anything is written: a folder of
 * .tf files that parse (a syntax error is bad input, not a difference); and
 * the variables Terraform would ask for.
 */
export async function readHclRoot(dir: string, shown: string): Promise<HclRoot> {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dir);
  } catch {
    throw new InputError(`--against-hcl ${shown}: no such folder (${dir})`);
  }
  if (!stat.isDirectory()) throw new InputError(`--against-hcl ${shown} is a file, not a folder: give the HCL root's folder (the one with main.tf)`);
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".tf")).sort();
  if (!files.length) throw new InputError(`--against-hcl ${shown}: no .tf files there`);
  baselineWasm();
  const { parse } = require("@cdktf/hcl2json") as { parse: (file: string, text: string) => Promise<Record<string, any>> };
  const variables = new Map<string, boolean>();
  const set = new Set<string>();
  for (const f of fs.readdirSync(dir).sort()) {
    const isTf = f.endsWith(".tf");
    const isVars = f === "terraform.tfvars" || f.endsWith(".auto.tfvars");
    if (!isTf && !isVars) continue;
    let parsed: Record<string, any>;
    try {
      parsed = await parse(f, fs.readFileSync(path.join(dir, f), "utf8"));
    } catch (e) {
      const detail = String((e as Error).message ?? e).replace(/^Error: /, "").replace(/^parse config: \[?/, "").replace(/\]$/, "");
      throw new InputError(`--against-hcl ${shown}: ${f} is not valid HCL: ${detail}`);
    }
    if (isVars) Object.keys(parsed).forEach((k) => set.add(k));
    for (const [name, blocks] of Object.entries<any[]>(parsed.variable ?? {})) variables.set(name, blocks.some((b) => Object.prototype.hasOwnProperty.call(b, "default")));
  }
  for (const f of fs.readdirSync(dir).filter((x) => x === "terraform.tfvars.json" || x.endsWith(".auto.tfvars.json"))) {
    try {
      Object.keys(JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"))).forEach((k) => set.add(k));
    } catch (e) {
      throw new InputError(`--against-hcl ${shown}: ${f} is not JSON: ${(e as Error).message}`);
    }
  }
  return { dir, required: [...variables].filter(([name, hasDefault]) => !hasDefault && !set.has(name)).map(([name]) => name).sort() };
}

export interface HclPlanned {
  readonly dir: string;
  readonly planned: Planned;
  readonly unplannable: { address: string; why: string }[];
  /** Why the HCL root could not be planned at all: the equivalence is not checked, and the gate fails. */
  readonly failure?: string;
}

/** Plans the HCL root the same way as the stack (run beside the stack's plan). A root Terraform cannot plan is a finding, not bad input. */
export async function planHcl(
  o: Options,
  hclDir: string,
  ws: Workspace | undefined,
  dir: string,
  tf: Terraform,
  source: PinSource,
  schema: SchemaSummary | undefined,
  terraformVersion: string,
  timings: Timings,
  p?: Progress,
): Promise<HclPlanned> {
  const hclTimings: Timings = {};
  const empty: Planned = { result: { ok: false, errors: [], warnings: [], text: "" }, rows: [] };
  let stateAddresses: string[] = [];
  try {
    if (ws) {
      await initOnce(tf, ws, terraformVersion, hclTimings, p, "HCL root");
      const adapted = adaptState(source.snapshot, ws.pins, source.installed, schema!, terraformVersion);
      fs.writeFileSync(path.join(dir, "terraform.tfstate"), JSON.stringify(adapted.state, null, 1), { mode: 0o600 });
      stateAddresses = stateInstances(adapted.state);
    } else {
      fs.cpSync(hclDir, dir, { recursive: true, filter: (s) => !/(^|\/)(\.terraform|terraform\.tfstate[^/]*)$/.test(s) });
      // Its own backend, if any, must not be used: the same snapshot, copied.
      fs.writeFileSync(path.join(dir, "plan_check_override.tf"), 'terraform {\n  backend "local" {\n    path = "terraform.tfstate"\n  }\n}\n');
      fs.writeFileSync(path.join(dir, "terraform.tfstate"), JSON.stringify(source.snapshot), { mode: 0o600 });
      await init(tf, dir, hclTimings);
      stateAddresses = source.snapshot ? stateInstances(source.snapshot) : [];
    }
  } catch (e) {
    if (!(e instanceof TerraformFailed)) throw e;
    return { dir: hclDir, planned: empty, unplannable: [], failure: e.message };
  }
  // The stack's exclusions, at their HCL addresses.
  const excluded = o.exclude.map((a) => counterpart(resourceOf(a)) ?? resourceOf(a));
  const stateResources = stateAddresses.map(resourceOf);
  const unplannable: { address: string; why: string }[] = [];
  let planned: Planned;
  try {
    planned = await planWorkspace(tf, dir, o.offline, excluded, stateResources, hclTimings, dir, false);
    // Plan around what the HCL root cannot plan here (a count known only at apply,
    // a value the provider refuses), and compare the rest; a few rounds, as one
    // error can hide another. An error that belongs to no resource stops it: then it cannot be planned at all.
    for (let round = 0; round < 3 && !planned.result.ok; round++) {
      const found = unplannableResources(planned.result.errors, (file) => modulePathOfFile(dir, file))?.filter(
        (u) => !unplannable.some((x) => x.address === u.address),
      );
      if (!found?.length) break;
      unplannable.push(...found);
      planned = await planWorkspace(tf, dir, o.offline, [...excluded, ...unplannable.map((u) => u.address)], stateResources, hclTimings, dir, false);
    }
  } catch (e) {
    if (!(e instanceof TerraformFailed || e instanceof UnknownAddress)) throw e;
    return { dir: hclDir, planned: empty, unplannable, failure: e.message };
  }
  for (const [k, v] of Object.entries(hclTimings)) timings[`hcl ${k}`] = v;
  const failure = planned.result.ok ? undefined : planned.result.errors.map((d) => `${d.address ? `${d.address}: ` : ""}${explain(d)}`).join("; ");
  return { dir: hclDir, planned, unplannable, ...(failure !== undefined ? { failure: failure || "Terraform planned nothing and reported no error" } : {}) };
}

/** The HCL root's plan against the stack's, address by address through the moved blocks. */
export function compareWithHcl(h: HclPlanned, stackPlan: Planned): NonNullable<PlanCheckReport["hcl"]> {
  const { planned, unplannable } = h;
  if (h.failure !== undefined) {
    return { dir: h.dir, unplannable: [...unplannable, ...planned.result.errors.map((d) => ({ address: d.address ?? "(configuration)", why: d.summary.slice(0, 300) }))] };
  }
  const notCompared = new Map<string, string>();
  for (const e of stackPlan.exclusion?.excluded ?? []) for (const a of [e.address, ...e.dependents]) notCompared.set(a, "excluded");
  for (const e of planned.exclusion?.excluded ?? []) {
    const unp = unplannable.some((u) => u.address === e.address);
    const mark = (a: string, why: string) => {
      const stackAddress = stackResourceOf(a);
      if (!notCompared.has(stackAddress)) notCompared.set(stackAddress, why);
    };
    mark(e.address, unp ? "the HCL root cannot plan it here" : "excluded");
    for (const a of e.dependents) mark(a, unp ? `depends on ${e.address}, which the HCL root cannot plan here` : "excluded");
  }
  const comparison = comparePlans({
    stack: (stackPlan.result.plan?.resource_changes ?? []) as ResourceChange[],
    hcl: (planned.result.plan?.resource_changes ?? []) as ResourceChange[],
    toStack: counterpart,
    notCompared,
    intended: (address) => INTENDED_DIFFERENCES.find((d) => d.address === resourceOf(address)),
  });
  return { dir: h.dir, comparison, unplannable, rows: planned.rows };
}

/** The stack's resource address of an HCL resource address (a moved block may name one of its instances). */
function stackResourceOf(hclResource: string): string {
  return counterpart(hclResource) ?? MOVES.find((m) => resourceOf(m.from) === hclResource)?.to ?? hclResource;
}

/** The module path of a file of the HCL root's copy (`modules/ssm/main.tf` → `module.ssm`), from its module blocks. */
function modulePathOfFile(rootDir: string, file: string): string | undefined {
  const dir = path.dirname(path.resolve(rootDir, file));
  if (dir === rootDir) return "";
  for (const f of fs.readdirSync(rootDir).filter((x) => x.endsWith(".tf"))) {
    const text = fs.readFileSync(path.join(rootDir, f), "utf8");
    for (const m of text.matchAll(/module\s+"([^"]+)"\s*\{[^}]*?source\s*=\s*"([^"]+)"/g)) {
      if (path.resolve(rootDir, m[2]) === dir) return `module.${m[1]}`;
    }
  }
  return undefined;
}
