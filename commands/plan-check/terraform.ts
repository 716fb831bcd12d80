// plan-check's Terraform steps: init once per set of providers and modules, the plan (again
// after an init when a reused folder no longer fits), the provider schema cached per version,
// and what a plan's errors stop at.

import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { ChangeRow, Diagnostic, changeRows, explain, resourceOf } from "../../lib/plan/judge";
import { Exclusion, PlanResult, Terraform, Timings, exclusion, init, plan, providersSchema } from "../../lib/plan/run";
import { SchemaSummary, Workspace, summarizeSchema } from "../../lib/plan/workspace";
import { Progress } from "./progress";

const AWS_SOURCE = "registry.terraform.io/hashicorp/aws";

/** The schema summary of the installed aws provider, cached per version (the schema dump takes seconds). */
export async function schemaSummary(tf: Terraform, dir: string, cacheDir: string, version: string, platform: string, timings: Timings): Promise<SchemaSummary> {
  const file = path.join(cacheDir, `aws-${version}-${platform}.schema-summary-v2.json`);
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as SchemaSummary;
  } catch {
    const summary = summarizeSchema((await providersSchema(tf, dir, timings)) as any, AWS_SOURCE);
    // Atomic: another run may be reading the cache at the same moment.
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(summary));
    fs.renameSync(tmp, file);
    return summary;
  }
}

/** Addresses the configuration's `Invalid count argument` errors point at (`module.ssm.aws_ssm_parameter.x`). */
export function countErrorAddresses(errors: readonly Diagnostic[], modulePathOfFile: (file: string) => string | undefined): string[] | undefined {
  const out: string[] = [];
  for (const d of errors) {
    if (d.summary !== "Invalid count argument") return undefined;
    const m = /^resource "([^"]+)" "([^"]+)"/.exec(d.snippet?.context ?? "");
    const modulePath = d.range ? modulePathOfFile(d.range.filename) : undefined;
    if (!m || modulePath === undefined) return undefined;
    out.push(`${modulePath ? `${modulePath}.` : ""}${m[1]}.${m[2]}`);
  }
  return [...new Set(out)].sort(); // Terraform reports them in no fixed order
}

const COUNT_WHY = "Invalid count argument: its count depends on a value known only after apply (the ML worker queue URL)";

/**
 * The resources a plan's errors stop at, each with why: a count unknown at
 * plan, or an error Terraform ties to one resource (the provider refusing a
 * value, e.g. the HCL host's user data over EC2's limit). Undefined when an
 * error belongs to no resource: then nothing can be planned around it.
 */
export function unplannableResources(
  errors: readonly Diagnostic[],
  modulePathOfFile: (file: string) => string | undefined,
): { address: string; why: string }[] | undefined {
  const out = new Map<string, string>();
  for (const d of errors) {
    const counted = d.summary === "Invalid count argument" ? countErrorAddresses([d], modulePathOfFile) : undefined;
    if (counted?.length) out.set(counted[0], COUNT_WHY);
    else if (d.address) out.set(resourceOf(d.address), explain(d));
    else return undefined;
  }
  return [...out].sort(([a], [b]) => a.localeCompare(b)).map(([address, why]) => ({ address, why }));
}

export interface Planned {
  readonly result: PlanResult;
  readonly exclusion?: Exclusion;
  readonly rows: ChangeRow[];
}

export async function planWorkspace(
  tf: Terraform,
  dir: string,
  offline: boolean,
  exclude: readonly string[],
  stateResources: readonly string[],
  timings: Timings,
  outDir = dir,
  humanText = true,
): Promise<Planned> {
  const ex = exclude.length ? await exclusion(tf, dir, exclude, stateResources, timings) : undefined;
  const args = [...(offline ? ["-refresh=false"] : []), ...(ex ? ex.targets.map((t) => `-target=${t}`) : [])];
  let result = await plan(tf, dir, args, timings, outDir, humanText);
  if (!result.ok && result.errors.some((d) => INIT_NEEDED.test(d.summary))) {
    // A reused .terraform that no longer fits: initialize, then plan again.
    fs.rmSync(path.join(dir, INIT_STAMP), { force: true });
    await init(tf, dir, timings);
    result = await plan(tf, dir, args, timings, outDir, humanText);
  }
  return { result, exclusion: ex, rows: result.plan ? changeRows(result.plan) : [] };
}

/** Where a working folder records what its last `terraform init` was for. */
export const INIT_STAMP = ".plan-check-init";
/** Plan errors that mean the working folder needs `terraform init`. */
const INIT_NEEDED = /Module not installed|Required plugins are not installed|Inconsistent dependency lock file|Backend initialization required|Module source has changed|missing or corrupted provider plugins/i;

/** `terraform init`, unless the folder was initialized for the same provider requirements and module calls. */
export async function initOnce(tf: Terraform, ws: Workspace, terraformVersion: string, timings: Timings, p?: Progress, side = "stack"): Promise<void> {
  const stamp = path.join(ws.dir, INIT_STAMP);
  const inputs = createHash("sha256").update(JSON.stringify([terraformVersion, tf.env.TF_CLI_CONFIG_FILE ?? "", ...ws.initInputs])).digest("hex");
  const previous = fs.existsSync(stamp) ? fs.readFileSync(stamp, "utf8") : "";
  if (previous === inputs && fs.existsSync(path.join(ws.dir, ".terraform"))) {
    timings["init (reused)"] = 0;
    p?.say(`terraform init (${side}) skipped: the folder was initialized for the same providers and modules`);
    return;
  }
  fs.rmSync(stamp, { force: true });
  await init(tf, ws.dir, timings);
  fs.writeFileSync(stamp, inputs);
}

/** A Terraform command as a progress line names it: `terraform plan (stack)`, `terraform show -json (HCL root)`. */
export function terraformStep(args: readonly string[], cwd: string, outDir: string): string {
  const words = args[0] === "show" || args[0] === "providers" || args[0] === "state" ? args.slice(0, 2) : args.slice(0, 1);
  if (args[0] === "plan" && args.includes("-json")) words.push("-json");
  const rel = path.relative(outDir, cwd);
  const side = rel === "hcl" || rel.startsWith(`hcl${path.sep}`) ? "HCL root" : "stack";
  return `terraform ${words.join(" ")} (${side})`;
}
