// `npm run deploy -- --plan <plan-check output folder>`: applies the saved plan
// plan-check judged, with `terraform apply <plan file>`, after checking that it
// is that plan (its SHA-256), that it passed, that the sources still
// synthesize the stack it planned, that it was planned with credentials
// against the stack's own backend, and in the Terraform workspace it applies in. The stack's folder is synthesized and
// initialized first (the plan may come from another job). Terraform then
// refuses a stale plan itself.
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { EnvironmentConfig } from "../../config/environment";
import type * as App from "../../stacks/app";
import { detectToolchain, findOnPath, optionsFromEnv } from "../../lib/toolchain";
import { backendOf, describeBackend, sameBackend } from "../../lib/backend";
import { CliIo, InputError, synthesizeFirst } from "../../lib/cli";
import { PlanJson, changeRows, judge, priorObjects } from "../../lib/plan/judge";
import { PlanCheckReport, failureText } from "../../lib/plan/report";
import { verdictInput } from "../../lib/plan/verdict";
import { plannedRootFiles, plannedTargets, plannedWorkspace } from "../../lib/plan/plan-file";
import { selectedWorkspace } from "../../lib/plan/selected-workspace";
import { cacheDirOf, offlineTerraform } from "../../lib/plan/run";
import { runInPrivateTmp } from "../../lib/workdir/private-tmp";

export interface ApplyRunner {
  /** Runs terraform with the arguments in `cwd`; its output reaches the user whole; returns its exit code. */
  terraform(bin: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): number;
  /** `terraform show -json <plan file>` in `cwd`: its exit code and its stdout (the plan as JSON); its stderr reaches the user. */
  show(bin: string, planFile: string, cwd: string, env: NodeJS.ProcessEnv): { code: number; json: string };
}

/**
 * Terraform's output straight to the terminal; its TMPDIR (TMP, TEMP) a private folder `zivohealth-deploy-XXXXXX`
 * in the caller's, removed when it ends, however it ends (lib/workdir/private-tmp.ts). Once it has ended, the
 * `terraform-provider-*` it left orphaned in `cwd`, where it runs, are killed.
 */
export const inheritRunner: ApplyRunner = {
  terraform: (bin, args, cwd, env) => runInPrivateTmp("deploy", bin, args, { cwd, env, orphansIn: [cwd] }),
  // The plan's JSON holds secrets in clear: written only for this process (umask 077), read, removed.
  show: (bin, planFile, cwd, env) => {
    const out = path.join(cwd, `.deploy-plan-${process.pid}.json`);
    try {
      const code = runInPrivateTmp("deploy", "/bin/sh", ["-c", 'umask 077; o=$1; shift; exec "$@" > "$o"', "sh", out, bin, "show", "-json", planFile], { cwd, env, orphansIn: [cwd] });
      return { code, json: code === 0 ? fs.readFileSync(out, "utf8") : "" };
    } finally {
      fs.rmSync(out, { force: true });
    }
  },
};

/**
 * The copy of the judged plan that is shown and applied, in the folder it applies in: the bytes checked, whatever
 * the original becomes. This process's own (another deploy --plan of the same stack has its own copy).
 */
export const PLAN_COPY = `.deploy-plan-${process.pid}.tfplan`;

export interface DeployPlanDeps {
  readonly environments: Readonly<Record<string, EnvironmentConfig>>;
  readonly env?: NodeJS.ProcessEnv;
  readonly runner?: ApplyRunner;
  /**
   * TEST SEAM, never set by the CLI (no flag, no environment variable reaches
   * it): accept an offline plan and apply it where plan-check made it, to
   * plan-check's own state copy, never to the stack's backend. The tests use
   * it to apply a moves-only plan with no cloud call. @default false
   */
  readonly acceptOfflinePlanForTests?: boolean;
}

type Report = PlanCheckReport & { failureTexts?: string[] };

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

function readReport(folder: string, shown: string): Report {
  const file = path.join(folder, "report.json");
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new InputError(
      err.code === "ENOENT" ? `--plan ${shown}: no report.json there; give the folder plan-check wrote (its --out, default cdktf.out/plan-check/<stack>)` : `cannot read ${file}: ${err.message}`,
    );
  }
  try {
    return JSON.parse(text) as Report;
  } catch {
    throw new InputError(`--plan ${shown}: report.json is not JSON`);
  }
}

/**
 * Every check before the apply; throws InputError (exit 2) naming what does
 * not hold. Returns the plan file, the folder to apply in and Terraform's environment.
 */
export function checkReviewedPlan(
  stack: string,
  folderArg: string,
  io: CliIo,
  deps: DeployPlanDeps,
): { planFile: string; bytes: Buffer; workingDir: string; env: NodeJS.ProcessEnv; bin: string; report: Report; seam: boolean; stackSha: string; stackJson: StackJson } {
  const folder = path.resolve(io.cwd, folderArg);
  const report = readReport(folder, folderArg);
  const env = deps.env ?? process.env;
  if (report.stack !== stack) throw new InputError(`--plan ${folderArg} is plan-check's report on stack '${report.stack}', not '${stack}'`);
  if (!report.synthesized || !report.backend || !report.plannedAgainst) {
    throw new InputError(`--plan ${folderArg}: its report.json does not record the synthesized stack, the backend and the plan file (an older plan-check wrote it): run plan-check again`);
  }
  if (!report.pass) {
    const why = (report.failureTexts ?? []).map((t) => `  - ${t}`).join("\n");
    throw new InputError(`refusing to apply: plan-check's verdict on this plan was FAIL${why ? `:\n${why}` : ""}\nFix what it names, run plan-check again and review its report.`);
  }
  if (!report.planFile) throw new InputError(`refusing to apply: plan-check saved no plan in ${folderArg} (Terraform could not plan)`);
  if ((report.excluded ?? []).length) {
    // A -target plan: what it left out was not judged, and applying it leaves the rest of the stack as it is.
    throw new InputError(
      `refusing to apply: this plan leaves out ${report.excluded.map((e) => e.address).join(", ")} (plan-check --exclude, a -target plan), which the gate did not judge. ` +
        "Plan the whole stack (plan-check without --exclude) and deploy that plan.",
    );
  }
  let seam = false;
  if (report.mode !== "online") {
    if (!deps.acceptOfflinePlanForTests) {
      throw new InputError(
        `refusing to apply an offline plan (plan-check --offline): its configuration was adapted to run without AWS ` +
          "(fake credentials, data sources replaced by recorded values, the installed provider instead of the pinned one, " +
          "a copy of the state fitted to it), so applying it would write that copy's state, not production's. " +
          "Review it offline if you like, then plan with your credentials against the backend (npm run plan-check, without --offline and --state) and deploy that plan.",
      );
    }
    seam = true;
  } else if (report.plannedAgainst !== "backend") {
    throw new InputError(
      `refusing to apply: this plan was made against ${report.plannedAgainst === "snapshot" ? `a copy of a snapshot (${report.state})` : "an empty state"}, ` +
        "not against the stack's backend; applying it would write that copy. Plan with npm run plan-check without --state.",
    );
  }
  const planFile = path.join(folder, report.planFile.path);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(planFile);
  } catch {
    throw new InputError(`refusing to apply: the plan file ${planFile} that the report names is not there`);
  }
  const actual = sha256(bytes);
  if (actual !== report.planFile.sha256) {
    throw new InputError(`refusing to apply: ${planFile} is not the plan plan-check judged (sha256 ${actual}, the report names ${report.planFile.sha256})`);
  }
  const fresh = synthesizeFirst(stack, { environments: deps.environments, reviewEnvironments: {} });
  if (fresh.refused) throw new InputError(`stack '${stack}' cannot be synthesized:\n${fresh.refused}`);
  if (sha256(fresh.text) !== report.synthesized.sha256) {
    throw new InputError(
      `refusing to apply: the sources no longer synthesize the stack that was planned (sha256 ${sha256(fresh.text)}, planned ${report.synthesized.sha256}). ` +
        "Run plan-check again and review the new plan.",
    );
  }
  if (!seam) {
    // The configuration Terraform saved in the plan, and applies: the stack the sources synthesize, nothing else
    // in its root module. (An offline plan's is plan-check's adapted copy: the seam skips this.)
    let files: Map<string, Buffer>;
    let targets: string[];
    try {
      files = plannedRootFiles(bytes);
      targets = plannedTargets(bytes);
    } catch (e) {
      throw new InputError(`refusing to apply: ${planFile} is not a Terraform plan file (${(e as Error).message})`);
    }
    if (targets.length) {
      // Read from the plan itself: a report edited to list no --exclude does not hide it.
      throw new InputError(
        `refusing to apply: ${planFile} is a -target plan (${targets.length} target${targets.length > 1 ? "s" : ""}: ${targets.slice(0, 3).join(", ")}${targets.length > 3 ? ", …" : ""}): ` +
          "what it leaves out was not judged. Plan the whole stack (plan-check without --exclude) and deploy that plan.",
      );
    }
    const names = [...files.keys()].sort();
    const planned = files.get("cdk.tf.json");
    if (names.length !== 1 || !planned || sha256(planned) !== sha256(fresh.text)) {
      throw new InputError(
        `refusing to apply: ${planFile} was not planned from the stack the sources synthesize: its root module holds ` +
          `${names.length ? names.join(", ") : "no file"}${planned ? ` (cdk.tf.json sha256 ${sha256(planned)})` : ""}, the sources synthesize sha256 ${sha256(fresh.text)}. ` +
          "A plan of another stack or of other sources: run plan-check again and review the new plan.",
      );
    }
    const now = backendOf(JSON.parse(fresh.text), path.resolve(io.cwd, "cdktf.out", "stacks", stack)).identity;
    if (!sameBackend(now, report.backend)) {
      throw new InputError(`refusing to apply: the plan was made against ${describeBackend(report.backend)}; the stack's backend is now ${describeBackend(now)}`);
    }
  }
  let where: { workingDir: string; env: NodeJS.ProcessEnv; bin: string };
  if (seam) {
    const found = detectToolchain(optionsFromEnv(env));
    if (!found.ok) throw new InputError(`the offline plan needs terraform and the provider mirror it was made with: ${found.reason}`);
    const tf = offlineTerraform(found.toolchain, cacheDirOf(env), env);
    // Where plan-check made it: its own workspace, beside the plan file.
    where = { workingDir: path.join(folder, path.dirname(report.planFile.path)), env: tf.env, bin: tf.bin };
  } else {
    const bin = findOnPath("terraform", env.PATH ?? "");
    if (!bin) throw new InputError("no terraform on the PATH");
    // The stack's own folder in this project (the plan may come from another machine: a CI job's artifact).
    where = { workingDir: path.resolve(io.cwd, "cdktf.out", "stacks", stack), env: { ...env, CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1" }, bin };
  }
  refuseOtherWorkspace(planFile, bytes, where.workingDir, where.env);
  return { planFile, bytes, ...where, report, seam, stackSha: report.synthesized.sha256, stackJson: JSON.parse(fresh.text) };
}

/**
 * Terraform applies a saved plan in the workspace selected where it runs, not the plan's, and does not compare
 * them: a plan of one workspace would be applied to another's state (unrefused where their states share a lineage).
 */
function refuseOtherWorkspace(planFile: string, bytes: Buffer, workingDir: string, env: NodeJS.ProcessEnv): void {
  let planned: string;
  try {
    planned = plannedWorkspace(bytes);
  } catch (e) {
    throw new InputError(`refusing to apply: ${planFile} is not a Terraform plan file (${(e as Error).message})`);
  }
  const selected = selectedWorkspace(workingDir, env);
  if (planned !== selected.name) {
    throw new InputError(
      `refusing to apply: ${planFile} was planned in Terraform workspace '${planned}', but deploy would apply it in workspace '${selected.name}' ` +
        `(${selected.from}), whose state it was not planned against. Select '${planned}' (terraform workspace select, or TF_WORKSPACE) or plan again in '${selected.name}'.`,
    );
  }
}

type StackJson = { moved?: { from: string; to: string }[] };

/** Managed instance addresses of the plan's prior state, each where the state held it before the plan's moves. */
function priorInstances(plan: PlanJson): Set<string> {
  const moved = new Map((plan.resource_changes ?? []).filter((c) => c.previous_address).map((c) => [c.address, c.previous_address!]));
  return new Set(priorObjects(plan).map((o) => moved.get(o.address) ?? o.address));
}

/**
 * The saved plan judged again, now, as plan-check judges it (the environment's lists, the stack's moved
 * blocks): report.json is a file anyone can edit, and the environment may have changed since.
 * The failures in words; none when it passes.
 */
export function judgedAgain(json: string, config: EnvironmentConfig, stackJson: StackJson): string[] {
  let plan: PlanJson;
  let rows: ReturnType<typeof changeRows>;
  try {
    plan = JSON.parse(json) as PlanJson;
    rows = changeRows(plan);
  } catch (e) {
    return [`terraform show -json gave no plan the gate can read: ${(e as Error).message}`];
  }
  const moved = (stackJson.moved ?? []).map((m) => ({ from: m.from, to: m.to }));
  const facts = { rows, errors: [], moved, stateAddresses: priorInstances(plan), notJudged: new Set<string>(), plan };
  // keepUnplannable is about an offline state copy, judged by plan-check; the saved plan holds only what it plans.
  return judge({ ...verdictInput(config, facts), keep: [] }).map(failureText);
}

/** Checks, then `terraform apply <plan file>`; returns the apply's exit code, or 2 when a check refuses or init fails. */
export function deployPlan(stack: string, folderArg: string, io: CliIo, deps: DeployPlanDeps): number {
  let checked: ReturnType<typeof checkReviewedPlan>;
  try {
    checked = checkReviewedPlan(stack, folderArg, io, deps);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    io.stderr(`error: ${e.message}\n`);
    return 2;
  }
  const { report } = checked;
  const config = deps.environments[stack];
  if (checked.seam) {
    io.stderr(
      `TEST SEAM (acceptOfflinePlanForTests): applying an offline plan in ${checked.workingDir}, to plan-check's own state copy there; ` +
        "the stack's backend is not touched and nothing is deployed\n",
    );
  }
  io.stderr(
    `deploy --plan: the plan plan-check judged PASS (sha256 ${report.planFile!.sha256.slice(0, 12)}…), ` +
      `stack sha256 ${checked.stackSha.slice(0, 12)}… as the sources synthesize it now; terraform apply ${checked.planFile}\n`,
  );
  const runner = deps.runner ?? inheritRunner;
  if (!checked.seam) {
    // The folder the plan applies in: the stack as synthesized now (the same SHA-256, checked above) and
    // `terraform init` there, which installs the pinned providers and reads the backend (a no-op where plan-check ran).
    const { isUserError, synthesize } = require("../../stacks/app") as typeof App;
    try {
      synthesize(deps.environments, { outdir: path.resolve(io.cwd, "cdktf.out") });
    } catch (e) {
      if (!isUserError(e)) throw e;
      io.stderr(`error: ${(e as Error).message}\n`);
      return 2;
    }
    const written = sha256(fs.readFileSync(path.join(checked.workingDir, "cdk.tf.json")));
    if (written !== checked.stackSha) {
      io.stderr(`error: ${path.join(checked.workingDir, "cdk.tf.json")} was written with sha256 ${written}, not the planned ${checked.stackSha}\n`);
      return 2;
    }
    const init = runner.terraform(checked.bin, ["init", "-input=false"], checked.workingDir, checked.env);
    if (init !== 0) {
      // Not a verdict (exit 1 is a check's): the folder could not be made ready, so nothing was applied.
      io.stderr(
        `error: terraform init exited ${init} in ${checked.workingDir} (its output above): the stack's folder is not ready ` +
          "(providers, modules, the backend), so the plan was not applied; fix what Terraform says and run deploy --plan again\n",
      );
      return 2;
    }
  }
  // What Terraform shows and applies is a copy of the bytes checked above: the original may be swapped or
  // point elsewhere (a symbolic link) by then.
  const copy = path.join(checked.workingDir, PLAN_COPY);
  try {
    fs.rmSync(copy, { force: true });
    fs.writeFileSync(copy, checked.bytes, { flag: "wx", mode: 0o600 });
    const shown = runner.show(checked.bin, copy, checked.workingDir, checked.env);
    if (shown.code !== 0) {
      io.stderr(`error: terraform show -json exited ${shown.code} in ${checked.workingDir} (its output above): the plan could not be judged again, so it was not applied\n`);
      return 2;
    }
    const failures = judgedAgain(shown.json, config, checked.stackJson);
    if (failures.length) {
      io.stderr(
        `error: refusing to apply: judged again now (the plan file itself, the environment as configured now), the plan fails the gate:\n${failures.map((t) => `  - ${t}`).join("\n")}\n` +
          "Fix what it names, run plan-check again and review its report.\n",
      );
      return 2;
    }
    return runner.terraform(checked.bin, ["apply", "-input=false", copy], checked.workingDir, checked.env);
  } finally {
    fs.rmSync(copy, { force: true });
  }
}
