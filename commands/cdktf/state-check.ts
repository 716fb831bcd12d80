// Before cdktf plans or applies a stack: is its state there? A local state
// path is relative to cdktf.out/stacks/<stack>, so a project that does not
// sit where the path expects makes Terraform start from an empty state,
// silently, and plan to create everything a second time.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { EnvironmentConfig } from "../../config/environment";
import { backendLocation } from "../../stacks/isolation";
import { MOVES } from "../../stacks/moves";
import { HCL_MODULES } from "../../stacks/hcl-modules";

/** What the check found: a refusal, or notes to print before cdktf runs. */
export interface StateCheck {
  readonly refusal?: string;
  readonly notes: readonly string[];
}

/** Reads the state of an S3 backend; stubbed in tests through PATH. */
export interface StateReader {
  /** The object's text, `null` when it does not exist; throws with the reason when it cannot tell. */
  readS3(bucket: string, key: string, region: string): string | null;
}

/** Managed resources in a state (data sources are re-read on every plan and do not count). */
function managedResources(text: string, where: string): number {
  let doc: any;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`the state at ${where} is not JSON (${(e as Error).message})`);
  }
  if (typeof doc !== "object" || doc === null || !Array.isArray(doc.resources)) {
    throw new Error(`the state at ${where} is not a Terraform state (no resources list)`);
  }
  return doc.resources.filter((r: { mode?: string }) => r?.mode === "managed").length;
}

/** The AWS CLI, as the README's diff step already uses it. */
export const awsCli: StateReader = {
  readS3(bucket, key, region) {
    const uri = `s3://${bucket}/${key}`;
    const run = spawnSync("aws", ["s3", "cp", uri, "-", "--region", region, "--only-show-errors"], {
      encoding: "utf8",
      env: process.env,
      maxBuffer: 512 * 1024 * 1024,
    });
    if (run.error) {
      const missing = (run.error as NodeJS.ErrnoException).code === "ENOENT";
      throw new Error(missing ? "the AWS CLI (aws) is not on PATH" : `the AWS CLI failed to start: ${run.error.message}`);
    }
    if (run.status === 0) return run.stdout;
    const reason = (run.stderr || "").trim();
    if (/\(404\)|Not Found|NoSuchKey|does not exist/i.test(reason)) return null;
    throw new Error(`the AWS CLI could not read ${uri}: ${reason.split("\n")[0] || `exit code ${run.status}`}`);
  },
};

/**
 * Checks the state `stack` would plan against. Refuses a missing or empty
 * state unless the environment is marked new, and a new environment whose
 * state already holds resources (the mark must go after the first deploy).
 */
export function checkState(stack: string, config: EnvironmentConfig, outdir: string, reader: StateReader = awsCli): StateCheck {
  const where = backendLocation(outdir, stack, config.backend);
  const isNew = config.newEnvironment === true;
  let text: string | null;
  try {
    if (config.backend.type === "local") text = fs.existsSync(where) ? fs.readFileSync(where, "utf8") : null;
    else text = reader.readS3(config.backend.bucket, config.backend.key, config.backend.region);
  } catch (e) {
    const reason = (e as Error).message;
    if (isNew) return { notes: [`note: stack '${stack}' is new (newEnvironment); its state at ${where} was not checked: ${reason}`] };
    return {
      refusal:
        `cannot check the state of stack '${stack}' at ${where}: ${reason}. ` +
        "Install and configure the AWS CLI (the README's diff step uses it too), then run this again.",
      notes: [],
    };
  }

  let resources = 0;
  if (text !== null) {
    try {
      resources = managedResources(text, where);
    } catch (e) {
      return { refusal: `refusing to plan stack '${stack}': ${(e as Error).message}.`, notes: [] };
    }
  }
  if (isNew) {
    if (resources > 0) {
      return {
        refusal:
          `refusing to plan stack '${stack}': it is marked newEnvironment, but its state at ${where} holds ${resources} resources. ` +
          "It has been deployed: remove newEnvironment from its configuration and record its stateful resources in deployed.",
        notes: [],
      };
    }
    return { notes: [`note: stack '${stack}' is new (newEnvironment): ${text === null ? "no state yet at" : "empty state at"} ${where}`] };
  }
  if (text === null || resources === 0) {
    const found = text === null ? "there is no state file at" : "the state holds no resources at";
    const fix =
      config.backend.type === "local"
        ? `backend.path '${config.backend.path}' is relative to ${path.join(outdir, "stacks", stack)}: ` +
          "put this project where that path expects the HCL root (README: Layout), or correct backend.path"
        : "correct backend.bucket and backend.key; if the backend was just switched, migrate the state first (docs/migration.md: Moving the state off one laptop)";
    return {
      refusal:
        `refusing to plan stack '${stack}': ${found} ${where}. Terraform would start from an empty state and plan to create ` +
        `every resource again (a second EC2 host, a second zone). ${fix}. For an environment that was never deployed, set newEnvironment: true.`,
      notes: [],
    };
  }
  return { notes: [] };
}

/** The HCL modules that became constructs (ecr, iam, ml_worker): in the moved-block table, no longer called as HCL. */
export const MIGRATED_MODULES: readonly string[] = [...new Set(MOVES.map((m) => m.from.split(".")[1]))].filter(
  (m) => !(HCL_MODULES as readonly string[]).includes(m),
);

/**
 * After the first deploy, the HCL root and this stack share the state. An
 * apply from the HCL root while it still declares the migrated modules moves
 * their resources back (and, as this stack's root addresses are not in the
 * HCL, destroys them); any other block it declares is this stack's too.
 * Returns the warning while the HCL root declares any module or resource.
 */
export function hclRootWarning(stack: string, config: EnvironmentConfig, outdir: string): string | undefined {
  const root = path.resolve(outdir, "stacks", stack, config.hclModulesDir, "..");
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) return undefined;
  const migrated: string[] = [];
  const files = new Set<string>();
  let others = 0;
  for (const file of fs.readdirSync(root).filter((f) => f.endsWith(".tf")).sort()) {
    const text = fs.readFileSync(path.join(root, file), "utf8");
    // The blanks before a block are its own line's: `^\s*` read on over every blank line after each line's start (quadratic: 100 KB of them took 10 s).
    for (const [, kind, name] of text.matchAll(/^[^\S\n\r\u2028\u2029]*(module|resource)\s+"([^"]+)"/gm)) {
      files.add(file);
      if (kind === "module" && MIGRATED_MODULES.includes(name)) migrated.push(`module "${name}"`);
      else others++;
    }
  }
  if (files.size === 0) return undefined;
  const blocks = [...migrated, ...(others > 0 ? [`${others} other module and resource blocks`] : [])];
  const listed = blocks.length > 1 ? `${blocks.slice(0, -1).join(", ")} and ${blocks[blocks.length - 1]}` : blocks[0];
  return (
    `warning: the HCL root ${root} still declares ${listed} (${[...files].join(", ")}), on the state this stack uses. ` +
    "After this deploy, a terraform apply there would undo the moves and destroy what only this stack declares. " +
    'Complete the hand-over: docs/migration.md, "Handing over from the HCL root".'
  );
}
