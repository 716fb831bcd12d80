// plan-check's inputs, read and checked before anything is written: the state snapshot,
// the --data values, the stack's planCheck defaults, and whether the state fits the stack.

import * as fs from "fs";
import * as path from "path";
import { EnvironmentConfig } from "../../config/environment";
import { InputError, PROJECT_ROOT } from "../../lib/cli";
import { instanceAddress, parseState } from "../../lib/migration";
import { Json, RawState } from "../../lib/plan/workspace";
import type { Options } from "./index";

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new InputError(err.code === "ENOENT" ? `${what} not found: ${file}` : `cannot read ${what} ${file}: ${err.message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError(`${what} ${file} is not JSON: ${(e as Error).message}`);
  }
}

export function readState(file: string): RawState {
  const s = readJson(file, "state file") as RawState;
  if (typeof s !== "object" || s === null || Array.isArray(s)) throw new InputError(`state file ${file} is not a Terraform state (not an object)`);
  if (s.version !== 4) throw new InputError(`state file ${file}: format version ${JSON.stringify(s.version)}; plan-check reads version 4`);
  if (!Array.isArray(s.resources)) throw new InputError(`state file ${file} has no "resources" list`);
  // Every entry (mode, type, name, instances), and no instance listed twice (Terraform would not load it).
  parseState(JSON.stringify(s), `state file ${file}`);
  return s;
}


/** Managed instances (current objects) of a state. */
const managedInstances = (state: RawState | null) =>
  state ? parseState(JSON.stringify(state), "the state").instances.filter((i) => i.deposed === null).length : 0;

const DATA_ADDRESS = /^(module\.[A-Za-z_][\w-]*(\[[^\]]+\])?\.)*(data\.)?[a-z][a-z0-9_]*\.[A-Za-z_][\w-]*$/;

export function readData(file: string): Record<string, Json> {
  const d = readJson(file, "--data file");
  if (typeof d !== "object" || d === null || Array.isArray(d)) throw new InputError(`--data file ${file} must be an object of values by address`);
  const { ["//"]: _comment, ...values } = d as Record<string, Json>;
  const isObject = (v: Json) => typeof v === "object" && v !== null && !Array.isArray(v);
  for (const [address, value] of Object.entries(values)) {
    if (!DATA_ADDRESS.test(address)) {
      throw new InputError(`--data entry '${address}' in ${file} is not a data source or resource address (like data.aws_vpc.existing or module.compute.data.aws_ami.ubuntu)`);
    }
    const ok = isObject(value) || (Array.isArray(value) && value.every(isObject));
    if (!ok) {
      const got = value === null ? "null" : Array.isArray(value) ? "a list that is not of objects" : `a ${typeof value}`;
      throw new InputError(`--data entry '${address}' in ${file} must be an object of its attributes (a list of them for a counted one); got ${got}`);
    }
  }
  return values;
}

/** Instance addresses of the managed objects in a state (current objects only), as the migration check reads them. */
export function stateInstances(state: RawState): string[] {
  return parseState(JSON.stringify(state), "the state copy")
    .instances.filter((i) => i.deposed === null)
    .map(instanceAddress);
}

/** Refuses an empty state for a stack that is not new, and a state with resources for one marked new. */
export function checkStateFits(stack: string, config: EnvironmentConfig, state: RawState | null, where: string): void {
  const count = managedInstances(state);
  if (config.newEnvironment === true) {
    if (count > 0) {
      throw new InputError(
        `stack '${stack}' is marked newEnvironment, but ${where} holds ${count} managed resource instance(s): ` +
          "it has been deployed; remove newEnvironment from its configuration (and record its stateful resources in deployed)",
      );
    }
    return;
  }
  if (count === 0) {
    throw new InputError(
      `refusing to plan stack '${stack}' against ${state ? `${where}, which holds no managed resources` : where}: Terraform would plan to ` +
        "create every resource again (a second EC2 host, a second zone) and the gate would judge nothing that exists. " +
        `Give --state <a state that holds the stack's resources>, or, for an environment that was never deployed, set newEnvironment: true in its configuration`,
    );
  }
}

/** Terraform variables without a default that the environment gives no TF_VAR_ for. */
export function missingVariables(what: string, names: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  const missing = names.filter((n) => env[`TF_VAR_${n}`] === undefined);
  if (!missing.length) return undefined;
  return (
    `${what} needs a value for the Terraform variable${missing.length > 1 ? "s" : ""} ${missing.join(", ")} (no default), and the environment gives none: ` +
    `export ${missing.map((n) => `TF_VAR_${n}=<value>`).join(" ")} and run again` +
    (missing.includes("db_password_plain") ? " (offline any value plans, the fixtures use REDACTED; with credentials, the real password: docs/migration.md, What the first cdktf diff should show)" : "")
  );
}

/**
 * The stack's own defaults for --modules and (offline) --data, from its
 * `planCheck` setting, resolved against the project folder; each must exist.
 * A flag given on the command line replaces its default unread.
 */
export function planCheckDefaults(o: Options, config: EnvironmentConfig): { modules?: string; data?: string } {
  const d = config.planCheck ?? {};
  const found = (field: "modules" | "data", given: string | undefined, directory: boolean): string | undefined => {
    if (given === undefined) return undefined;
    const p = path.resolve(PROJECT_ROOT, given);
    const ok = fs.existsSync(p) && fs.statSync(p).isDirectory() === directory;
    if (!ok) {
      throw new InputError(
        `planCheck.${field} of stack '${o.stack}' (config/environments.ts) names ${directory ? "a folder" : "a file"} that does not exist: ${p}; ` +
          `correct it, or give --${field} <${directory ? "dir" : "file"}>`,
      );
    }
    return p;
  };
  return {
    modules: o.modules ? undefined : found("modules", d.modules, true),
    data: o.data || !o.offline ? undefined : found("data", d.data, false),
  };
}

export function missingMessage(missing: readonly string[], o: Options): string {
  return (
    `no value recorded for ${missing.length} data source(s) or resource(s) to pin offline: ${missing.join(", ")}.\n` +
    `  ${o.state ? `The snapshot ${o.state} does not hold them` : "An empty state holds nothing"}; give their values in a --data file ` +
    `({ "<address>": { <attributes> } }, e.g. __tests__/fixtures/plan-check/production-data.json).`
  );
}
