// The React app API key as the stack synthesizes it and as the HCL root computed it, evaluated by
// `terraform console` (pure functions: no provider, no init) on the same env files: the migration
// must not change the value it writes to /<project>/<environment>/react_app/api_key. Keys with 0, 1
// and 2 `=`, surrounding spaces, CRLF, an empty key, and two key lines.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { rootStack } from "./lib/stacks";
import { toolchainPreamble } from "./lib/toolchain-preamble";
import { HCL_PRODUCTION as production } from "../__tests__/fixtures/hcl-production";
import { tempDir } from "../__tests__/tmp";

const { detection, describeTier } = toolchainPreamble("terraform");
const HCL_ROOT = path.resolve(__dirname, "../../shared/fixtures/existing-hcl/terraform/main.tf");
const CONTENT = "data.local_file.env_production.content";

describeTier("the React app API key: the stack's expression and the HCL root's give the same value", () => {
  let dir = "";
  let terraform = "";

  beforeAll(async () => {
    if (!detection.ok) return;
    terraform = detection.toolchain.terraform;
    // The HCL root's three locals, as written there; the file is read, not copied by hand.
    const { parse } = require("@cdktf/hcl2json") as { parse: (file: string, text: string) => Promise<Record<string, any>> };
    const hcl = await parse("main.tf", fs.readFileSync(HCL_ROOT, "utf8"));
    const locals = Object.assign({}, ...hcl.locals) as Record<string, string>;
    expect(Object.keys(locals).sort()).toEqual(["env_lines", "react_app_api_key", "react_app_api_key_line"]);
    const ours = (rootStack("production", production) as any).locals.react_app_api_key as string;
    expect(ours).toContain(CONTENT);
    const tf = {
      variable: { content: { type: "string" } },
      locals: {
        ...Object.fromEntries(Object.entries(locals).map(([k, v]) => [`hcl_${k}`, v.replace(/local\./g, "local.hcl_").split(CONTENT).join("var.content")])),
        ours: ours.split(CONTENT).join("var.content"),
      },
    };
    dir = tempDir("env-file-key-");
    fs.writeFileSync(path.join(dir, "main.tf.json"), JSON.stringify(tf, null, 2));
  });

  /** [hcl, ours] for one env file's content. */
  const evaluate = (content: string): [string, string] => {
    const r = spawnSync(terraform, ["console"], {
      cwd: dir,
      input: "jsonencode([local.hcl_react_app_api_key, local.ours])\n",
      env: { ...process.env, TF_VAR_content: content, CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1" },
      encoding: "utf8",
      timeout: 120000,
    });
    if (r.status !== 0) throw new Error(`terraform console exited ${r.status ?? r.signal}: ${r.stderr}`);
    return JSON.parse(JSON.parse(r.stdout.trim()));
  };

  it.each([
    ["no '='", "A=1\nREACT_APP_API_KEY=abc123\nB=2\n", "abc123"],
    ["one '=' (cut there, as in the HCL)", "REACT_APP_API_KEY=abc123=\n", "abc123"],
    ["two '=' (base64 padding, cut at the second '=')", "REACT_APP_API_KEY=abc123==\n", "abc123"],
    ["surrounding spaces", "REACT_APP_API_KEY=   spaced key \t\n", "spaced key"],
    ["spaces around an inner '='", "REACT_APP_API_KEY= a = b \n", "a"],
    ["a CRLF line end", "X=1\r\nREACT_APP_API_KEY=abc123\r\n", "abc123"],
    ["an empty key", "REACT_APP_API_KEY=\n", ""],
    ["two key lines (the first wins)", "REACT_APP_API_KEY=first\nREACT_APP_API_KEY=second\n", "first"],
  ])("%s", (_name, content, expected) => {
    expect(evaluate(content)).toEqual([expected, expected]);
  });
});
