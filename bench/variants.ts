// The benchmark's commands, in the order each round runs them.
import * as fs from "fs";
import * as path from "path";
import type { Options } from "./index";
import { preparePlanCheck } from "./plan-check";
import { buildTemplateVariant } from "./template-variant";
import { prepareTypeCheck } from "./type-check";
import { COMPILE_CACHE_ENV } from "../stacks/compile-cache";

export interface Variant {
  id: string;
  /** The command as a person types it. */
  display: string;
  note: string;
  argv: string[];
  cwd: string;
  /** Number of stacks, for the scale-N variants. */
  stacks?: number;
  /** The command's own environment. @default - the bench's */
  env?: NodeJS.ProcessEnv;
  /** Exit codes that are results, not failures. @default [0] */
  okExit?: number[];
  /** Run before each run of the command, untimed (tsc-edit's edit). @default - nothing */
  before?: () => void;
}

/** The stack counts of the scale-N variants. */
export const SCALE = [1, 4, 16];

export interface VariantPlan {
  variants: Variant[];
  /** The template variant's project, when it was built. */
  templateDir: string | null;
  /** Why plan-check and bare Terraform are not measured, when they are not. */
  planCheckSkipped: string | null;
  /** What stops the bench before it measures anything. */
  errors: string[];
}

/** Every command to measure; the template variant and plan-check's folder are prepared in `tmp`. */
export function variantsOf(root: string, tmp: string, env: NodeJS.ProcessEnv, opts: Options, log: (s: string) => void): VariantPlan {
  const errors: string[] = [];
  const node = process.execPath;
  const bin = (name: string): string => path.join(root, "node_modules", ".bin", name);
  const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const scripts: Record<string, string> = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).scripts ?? {};
  const script = (name: string): string => scripts[name] ?? "(missing)";

  const variants: Variant[] = [
    { id: "floor", display: `node -e "require('cdktf')"`, note: "the floor: node + cdktf", argv: [node, "-e", "require('cdktf')"], cwd: root },
    { id: "app", display: "node dist/main.js", note: "the app alone (compiled; its compile cache warm after the warm-up)", argv: [node, "dist/main.js"], cwd: root },
    {
      id: "app-uncached",
      display: `${COMPILE_CACHE_ENV}=off node dist/main.js`,
      note: "the app without its compile cache (what its first run after a change costs, less the cache's writes)",
      argv: [node, "dist/main.js"],
      cwd: root,
      env: { ...env, [COMPILE_CACHE_ENV]: "off" },
    },
    { id: "synth", display: "npm run synth", note: `\`${script("synth")}\`, warm`, argv: [npm, "run", "synth"], cwd: root },
  ];
  const typeCheck = prepareTypeCheck(root, tmp, log);
  if ("variant" in typeCheck) variants.push(typeCheck.variant);
  else errors.push(typeCheck.error);
  let templateDir: string | null = null;
  if (!opts.skipTemplate) {
    templateDir = path.join(tmp, "template");
    try {
      const built = buildTemplateVariant(root, templateDir);
      log(`template variant: ${built.files} files, ${built.imports} deep imports rewritten to root imports, in ${templateDir}`);
      variants.push({
        id: "template",
        display: "cdktf synth (app: npx ts-node main.ts, root imports)",
        note: "the template default",
        argv: [path.join(templateDir, "node_modules", ".bin", "cdktf"), "synth"],
        cwd: templateDir,
        // ts-node keeps a compile cache in TMPDIR (v8-compile-cache-<uid>): here, in the bench's folder, gone with it.
        env: { ...env, TMPDIR: fs.mkdtempSync(path.join(tmp, "template-tmp-")) },
      });
    } catch (e) {
      errors.push(`template variant: ${(e as Error).message}`);
      templateDir = null;
    }
  }
  variants.push(
    {
      id: "tsc-cold",
      display: "tsc --noEmit --incremental false",
      note: "cold type check of the whole project",
      argv: [node, tsc, "--noEmit", "--incremental", "false"],
      cwd: root,
    },
    { id: "test", display: "npm test", note: `\`${script("test")}\``, argv: [npm, "test"], cwd: root },
    ...SCALE.map((n) => ({
      id: `scale-${n}`,
      display: `node dist/bench/app.js ${n} <tmp>`,
      note: `${n} stack${n === 1 ? "" : "s"} in one app`,
      argv: [node, "dist/bench/app.js", String(n), path.join(tmp, `scale-${n}`)],
      cwd: root,
      stacks: n,
    })),
  );
  const planCheck = opts.skipPlanCheck ? { skipped: "--skip-plan-check" } : preparePlanCheck(root, tmp, env, log);
  if ("variants" in planCheck) variants.push(...planCheck.variants);
  else log(`plan-check: not measured (${planCheck.skipped})`);
  for (const b of [bin("cdktf"), tsc, path.join(root, "dist", "bench", "app.js")])
    if (!fs.existsSync(b)) errors.push(`${path.relative(root, b)} is missing (run npm ci, then tsc)`);
  return { variants, templateDir, planCheckSkipped: "variants" in planCheck ? null : planCheck.skipped, errors };
}
