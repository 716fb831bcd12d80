// The Terraform workspace a command will run in, decided as Terraform 1.11 decides it (internal/command/
// meta.go, WorkspaceOverridden): TF_WORKSPACE when set and not empty; else the `environment` file of the
// data folder (TF_DATA_DIR, else `.terraform`, from the folder Terraform runs in), trimmed; else `default`.
// `terraform apply <plan file>` applies in that workspace whatever the plan's was: it does not compare them.
import * as fs from "fs";
import * as path from "path";

export interface SelectedWorkspace {
  readonly name: string;
  /** Where the name comes from, in words: `TF_WORKSPACE`, the file, or why `default`. */
  readonly from: string;
}

export function selectedWorkspace(workingDir: string, env: NodeJS.ProcessEnv): SelectedWorkspace {
  if (env.TF_WORKSPACE) return { name: env.TF_WORKSPACE, from: "TF_WORKSPACE" };
  const file = path.resolve(workingDir, env.TF_DATA_DIR || ".terraform", "environment");
  let recorded = "";
  try {
    recorded = fs.readFileSync(file, "utf8").trim();
  } catch {
    // Terraform, too, takes `default` when it cannot read the file.
  }
  return recorded ? { name: recorded, from: file } : { name: "default", from: `no workspace selected in ${file}` };
}
