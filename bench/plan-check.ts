// The benchmark's plan-check variants: plan-check itself and the bare terraform commands
// on the folder it prepares.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { cacheDirOf, offlineCliConfig } from "../lib/plan/run";
import { DEFAULT_PLUGIN_MIRROR, optionsFromEnv } from "../lib/toolchain";
import type { Variant } from "./variants";

// ---------------------------------------------------------------- plan-check

/**
 * plan-check against the pre-fix fixture, and the bare `terraform init` +
 * `terraform plan -refresh=false` on the very directory plan-check prepares
 * (same configuration, state, pinned values, CLI configuration and plugin
 * cache): what plan-check adds is synthesis, the workspace, the state copy and
 * `show -json`. One plan-check run first fills the schema cache (warm figures).
 */
export function preparePlanCheck(root: string, tmp: string, env: NodeJS.ProcessEnv, log: (s: string) => void): { variants: Variant[] } | { skipped: string } {
  const shared = path.resolve(root, "..", "shared", "fixtures");
  const state = path.join(shared, "existing-production.tfstate");
  const modules = path.join(shared, "existing-hcl", "terraform", "modules");
  const data = path.join(root, "__tests__", "fixtures", "plan-check", "production-data.json");
  if (!fs.existsSync(state) || !fs.existsSync(modules)) return { skipped: `no fixtures at ${shared}` };
  const terraform = spawnSync("terraform", ["version"], { encoding: "utf8" });
  if (terraform.status !== 0) return { skipped: "no terraform on the PATH" };
  const pcEnv = { ...env, TF_VAR_db_password_plain: "REDACTED" };
  const cli = path.join(root, "dist", "commands", "plan-check", "index.js");
  const args = (out: string) => [process.execPath, cli, "--offline", "--state", state, "--modules", modules, "--data", data, "--out", out];
  const prep = path.join(tmp, "plan-check-prep");
  const first = spawnSync(args(prep)[0], args(prep).slice(1), { cwd: root, env: pcEnv, encoding: "utf8" });
  if (first.status !== 0 && first.status !== 1) return { skipped: `plan-check exited ${first.status}: ${first.stderr.slice(-500)}` };
  const bare = path.join(tmp, "plan-check-bare");
  fs.cpSync(path.join(prep, "stack"), bare, { recursive: true, filter: (src) => !/(\.terraform|plan\.[a-z.]+)$/.test(src) });
  const cacheDir = cacheDirOf(process.env);
  // The bare commands as a user runs them against the mirror, with plan-check's plugin cache (so
  // init links the provider, as plan-check's does) but not its in-place provider loading.
  const bareTfrc = path.join(tmp, "bare.tfrc");
  fs.writeFileSync(bareTfrc, offlineCliConfig(optionsFromEnv(process.env).mirrorDir ?? DEFAULT_PLUGIN_MIRROR, path.join(cacheDir, "plugins")));
  const bareEnv = {
    ...pcEnv,
    TF_CLI_CONFIG_FILE: bareTfrc,
    AWS_ACCESS_KEY_ID: "AKIAPLANCHECKOFFLINE0",
    AWS_SECRET_ACCESS_KEY: "plan-check-offline-not-a-secret",
    AWS_EC2_METADATA_DISABLED: "true",
    TF_IN_AUTOMATION: "1",
  };
  log(`plan-check: prepared ${bare} (the stack against existing-production.tfstate, offline)`);
  const bareCommand = "rm -rf .terraform .terraform.lock.hcl && terraform init -input=false >/dev/null && terraform plan -refresh=false -input=false -lock=false -out=bare.tfplan >/dev/null";
  return {
    variants: [
      {
        id: "tf-bare",
        display: "terraform init && terraform plan -refresh=false -out",
        note: "bare Terraform on plan-check's prepared directory (pre-fix state)",
        argv: ["bash", "-c", bareCommand],
        cwd: bare,
        env: bareEnv,
      },
      {
        id: "plan-check",
        display: "node dist/commands/plan-check/index.js --offline --state <pre-fix> --data <...>",
        note: "the whole gate (exit 1 on that state is its verdict)",
        argv: args(path.join(tmp, "plan-check-run")),
        cwd: root,
        env: pcEnv,
        okExit: [1],
      },
    ],
  };
}
