// The HCL compute module's own rendering of its two templates, by Terraform
// itself (`terraform console`), offline, in a throw-away folder removed
// afterwards: the module's variables.tf and templates copied as they are, its
// `locals` block taken verbatim from its main.tf (the caller identity it reads
// pinned to a value), and the module's inputs given as terraform.tfvars.json.
// This is what the stack's user data must equal, byte for byte.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { replaceReference, topLevelBlocks } from "../../lib/hcl-text";
import { Toolchain, terraformEnv } from "../../lib/toolchain";

/** The module's input variables, by name (`ecr_repo_url`), as the HCL root passes them. */
export type HclComputeInputs = Readonly<Record<string, string | number | boolean | readonly string[] | null>>;

export interface HclRendering {
  /** `local.user_data_rendered`: the script the HCL host would receive. */
  readonly userData: Buffer;
  /** `local.rendered_compose`: the docker-compose.yml it puts in S3. */
  readonly compose: Buffer;
}

/** One expression through `terraform console` in `dir`; the value of a string expression. */
function consoleString(toolchain: Toolchain, dir: string, expression: string): string {
  const r = spawnSync(toolchain.terraform, ["console"], {
    cwd: dir,
    input: `${expression}\n`,
    env: terraformEnv({ TF_CLI_CONFIG_FILE: path.join(dir, "cli.tfrc") }),
    encoding: "utf8",
    timeout: 120_000,
  });
  const out = r.stdout.trim();
  if (r.status !== 0 || !/^"[A-Za-z0-9+/=]*"$/.test(out)) {
    throw new Error(`terraform console ${expression} failed (exit ${r.status}): ${r.stderr || out}`.slice(0, 2000));
  }
  return JSON.parse(out) as string;
}

/** Renders the HCL module's templates with `inputs`, as the module itself does. */
export function renderHclCompute(moduleDir: string, inputs: HclComputeInputs, accountId: string, toolchain: Toolchain): HclRendering {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zivo-hcl-render-"));
  try {
    for (const f of ["variables.tf", "docker-compose.yml.tpl", "user_data_minimal.sh.tpl"]) fs.copyFileSync(path.join(moduleDir, f), path.join(dir, f));
    const main = fs.readFileSync(path.join(moduleDir, "main.tf"), "utf8");
    const locals = topLevelBlocks(main).filter((b) => b.kind === "locals");
    if (locals.length !== 1) throw new Error(`${moduleDir}/main.tf: expected one locals block, found ${locals.length}`);
    const block = replaceReference(main.slice(locals[0].start, locals[0].end), "data.aws_caller_identity.current", "local.pinned_caller_identity");
    fs.writeFileSync(
      path.join(dir, "main.tf"),
      `${block}\n\nlocals {\n  pinned_caller_identity = { account_id = ${JSON.stringify(accountId)} }\n}\n`,
    );
    fs.writeFileSync(path.join(dir, "terraform.tfvars.json"), JSON.stringify(inputs, null, 2));
    fs.writeFileSync(path.join(dir, "cli.tfrc"), ""); // no provider is needed, none is installed
    // base64, so the console prints the bytes exactly; nonsensitive: the module marks the FCM credentials
    // sensitive (sensitive() first, as nonsensitive() refuses an unmarked value before Terraform 1.7).
    const b64 = (local: string) => Buffer.from(consoleString(toolchain, dir, `nonsensitive(sensitive(base64encode(local.${local})))`), "base64");
    return { userData: b64("user_data_rendered"), compose: b64("rendered_compose") };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
