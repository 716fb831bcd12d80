// npm run compat:cdktn — builds the app against CDK Terrain from the same
// sources, synthesizes every stack with both frameworks and compares the
// output. Exit 0: identical apart from the framework version in the metadata;
// 1: a difference (named) or a failed step; 2: bad setup or option.
// --jest: also run the project's jest suite against cdktn.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { isDeepStrictEqual } from "util";
import { PROVIDER_PINS } from "../../stacks/providers";
import type { AppReport } from "./app";
import { Comparison, Difference, compareOutdirs } from "./compare";
import { PACKAGE_MAPPINGS, mapSpecifier, packageDepsIn, typeCheckPaths } from "./specifiers";
import { BuildResult, buildWorld } from "./transpile";

const compatDir = __dirname;
const root = path.resolve(compatDir, "../..");
const rel = (p: string) => path.relative(root, p) || ".";
const DIRS = {
  nodeModules: path.join(compatDir, "node_modules"),
  rootNodeModules: path.join(root, "node_modules"),
  cdktnBuild: path.join(compatDir, "build"),
  // Under the project's dist/, so its packages resolve from the project's node_modules.
  cdktfBuild: path.join(root, "dist", "compat-cdktf"),
  out: path.join(compatDir, "out"),
};
const ENTRIES = ["compat/cdktn/app.ts", "compat/cdktn/local-binding.test.ts"];
const APP = "compat/cdktn/app.js";
const BINDING_TEST = "compat/cdktn/local-binding.test.js";

/**
 * The child processes' temporary folder (TMPDIR): one of the run's own,
 * checked empty and removed at the end, so the run leaves nothing in the
 * machine's temporary directory and proves it.
 */
const RUN_TMP = { dir: "" };
const childEnv = (base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv => ({ ...base, TMPDIR: RUN_TMP.dir });

/** What the children left in the run's temporary folder (a failure), the folder removed either way. */
function leftInTmp(): string[] {
  if (!RUN_TMP.dir) return [];
  const left = fs.existsSync(RUN_TMP.dir) ? fs.readdirSync(RUN_TMP.dir).sort() : [];
  fs.rmSync(RUN_TMP.dir, { recursive: true, force: true });
  RUN_TMP.dir = "";
  return left;
}

export class SetupError extends Error {}
class StepError extends Error {}

const readJson = (file: string): any => JSON.parse(fs.readFileSync(file, "utf8"));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const timed = <T>(f: () => T): [T, number] => {
  const t = Date.now();
  return [f(), Date.now() - t];
};

/** Exact pins only, and node_modules installed from the committed lockfile (npm ci when it is not). */
function install(): string {
  const pkg = readJson(path.join(compatDir, "package.json"));
  for (const [name, version] of Object.entries<string>(pkg.dependencies ?? {})) {
    if (!/^\d+\.\d+\.\d+$/.test(version)) {
      throw new SetupError(`compat/cdktn/package.json dependencies.${name} must be an exact version like 1.2.3 (got '${version}')`);
    }
  }
  if (pkg.devDependencies || pkg.optionalDependencies) {
    throw new SetupError("compat/cdktn/package.json may only have dependencies (runtime packages, exact pins)");
  }
  const lock = readJson(path.join(compatDir, "package-lock.json"));
  const stale = Object.entries<any>(lock.packages)
    .filter(([p, meta]) => p.startsWith("node_modules/") && !meta.inBundle)
    .filter(([p, meta]) => {
      const installed = path.join(compatDir, p, "package.json");
      return !fs.existsSync(installed) || readJson(installed).version !== meta.version;
    });
  if (stale.length === 0) return "compat/cdktn/node_modules matches package-lock.json";
  const [r, ms] = timed(() =>
    spawnSync("npm", ["ci", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: compatDir, encoding: "utf8", env: childEnv() }),
  );
  if (r.status !== 0) throw new StepError(`npm ci in compat/cdktn failed:\n${r.stdout}${r.stderr}`);
  return `npm ci in compat/cdktn (${stale.length} package(s) missing or stale): ${seconds(ms)}`;
}

function build(): { cdktf: BuildResult; cdktn: BuildResult } {
  for (const dir of [DIRS.cdktnBuild, DIRS.cdktfBuild, DIRS.out]) fs.rmSync(dir, { recursive: true, force: true });
  const cdktf = buildWorld(root, ENTRIES, { name: "cdktf", outDir: DIRS.cdktfBuild, nodeModules: DIRS.rootNodeModules });
  const cdktn = buildWorld(root, ENTRIES, {
    name: "cdktn",
    outDir: DIRS.cdktnBuild,
    nodeModules: DIRS.nodeModules,
    map: (specifier, file) => mapSpecifier(specifier, file, packageDepsIn(DIRS.rootNodeModules)),
  });
  return { cdktf, cdktn };
}

/** tsc over main.ts and the compat entries with every mapped package's declarations taken from CDK Terrain's. */
function typeCheck(): number {
  const tsconfig = path.join(DIRS.cdktnBuild, "tsconfig.json");
  fs.writeFileSync(
    tsconfig,
    JSON.stringify(
      {
        extends: path.join(root, "tsconfig.json"),
        compilerOptions: { noEmit: true, incremental: false, types: ["node"], paths: typeCheckPaths(DIRS.nodeModules) },
        include: [],
        files: ["main.ts", ...ENTRIES].map((f) => path.join(root, f)),
      },
      null,
      2,
    ),
  );
  const tsc = require.resolve("typescript/bin/tsc", { paths: [root] });
  const r = spawnSync(process.execPath, [tsc, "-p", tsconfig, "--listFiles"], { encoding: "utf8", env: childEnv() });
  const files = r.stdout.split("\n").filter((l) => l.startsWith("/"));
  const errors = r.stdout.split("\n").filter((l) => l && !l.startsWith("/"));
  if (r.status !== 0) throw new StepError(`type check against CDK Terrain failed:\n${errors.join("\n")}${r.stderr}`);
  // The mapped packages' own declarations must not be in the program.
  const leaked = Object.entries(PACKAGE_MAPPINGS)
    .filter(([, m]) => m.kind === "package")
    .flatMap(([pkg]) => files.filter((f) => f.startsWith(path.join(DIRS.rootNodeModules, pkg) + path.sep)));
  if (leaked.length > 0) throw new StepError(`type check against CDK Terrain read cdktf-world declarations:\n${leaked.join("\n")}`);
  return files.filter((f) => !f.includes(`${path.sep}node_modules${path.sep}`)).length;
}

function synth(world: "cdktf" | "cdktn"): [AppReport, number] {
  const buildDir = world === "cdktf" ? DIRS.cdktfBuild : DIRS.cdktnBuild;
  const outdir = path.join(DIRS.out, world);
  const reportFile = path.join(DIRS.out, `${world}.report.json`);
  fs.mkdirSync(DIRS.out, { recursive: true });
  const [r, ms] = timed(() =>
    spawnSync(process.execPath, [path.join(buildDir, APP), outdir, reportFile], { cwd: root, encoding: "utf8", env: childEnv(cleanEnv()) }),
  );
  if (r.status !== 0) throw new StepError(`synth with ${world} failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  const report: AppReport = readJson(reportFile);
  // Which framework the process really ran on: no module of the other world's framework packages.
  const cdktfPackages = Object.keys(PACKAGE_MAPPINGS).map((p) => path.join(DIRS.rootNodeModules, p) + path.sep);
  const foreign =
    world === "cdktn"
      ? report.loadedModules.filter((m) => cdktfPackages.some((dir) => m.startsWith(dir)))
      : report.loadedModules.filter((m) => m.startsWith(compatDir + path.sep));
  if (foreign.length > 0) throw new StepError(`the ${world} synth loaded modules of the other build:\n${foreign.join("\n")}`);
  return [report, ms];
}

/** Variables that would change what the App writes are not passed on. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith("CDKTF_") || k === "SYNTH_HCL_OUTPUT") delete env[k];
  return env;
}

function bindingTest(world: "cdktf" | "cdktn"): number {
  const buildDir = world === "cdktf" ? DIRS.cdktfBuild : DIRS.cdktnBuild;
  const r = spawnSync(process.execPath, ["--test", "--test-reporter=tap", path.join(buildDir, BINDING_TEST)], {
    cwd: root,
    encoding: "utf8",
    env: childEnv(),
  });
  const count = (what: string) => Number(r.stdout.match(new RegExp(`^# ${what} (\\d+)$`, "m"))?.[1] ?? 0);
  if (r.status !== 0 || count("fail") > 0 || count("pass") === 0) {
    throw new StepError(`the local binding test failed with ${world}:\n${r.stdout}${r.stderr}`);
  }
  return count("pass");
}

/**
 * The project's jest suite with every mapped package taken from CDK Terrain
 * (moduleNameMapper from the same table); a setup file refuses to run if
 * `cdktf` is not cdktn.
 */
function jestSuite(): { passed: number; skipped: number; total: number } {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  const mapper: Record<string, string> = {};
  for (const [pkg, m] of Object.entries(PACKAGE_MAPPINGS)) {
    const dir = m.kind === "package" ? path.join(DIRS.nodeModules, m.to) : path.join(DIRS.cdktnBuild, "generated", pkg);
    mapper[`^${escape(pkg)}$`] = dir;
    mapper[`^${escape(pkg)}/(.*)$`] = `${dir}/$1`;
  }
  const guard = path.join(DIRS.cdktnBuild, "jest.guard.js");
  fs.writeFileSync(
    guard,
    `const name = require("cdktf/package.json").name;\nif (name !== "cdktn") throw new Error("compat jest run: 'cdktf' resolves to " + name + ", not cdktn");\n`,
  );
  const config = path.join(DIRS.cdktnBuild, "jest.config.js");
  fs.writeFileSync(
    config,
    `const base = require(${JSON.stringify(path.join(root, "jest.config.js"))});\n` +
      `module.exports = { ...base, rootDir: ${JSON.stringify(root)}, setupFiles: [...(base.setupFiles ?? []), ${JSON.stringify(guard)}], ` +
      `moduleNameMapper: ${JSON.stringify(mapper)} };\n`,
  );
  const results = path.join(DIRS.out, "jest.json");
  const jest = path.join(DIRS.rootNodeModules, "jest/bin/jest.js");
  const r = spawnSync(process.execPath, [jest, "-c", config, "--ci", "--json", `--outputFile=${results}`], { cwd: root, encoding: "utf8", env: childEnv() });
  const summary = fs.existsSync(results) ? readJson(results) : undefined;
  if (r.status !== 0 || !summary || summary.numFailedTests > 0 || summary.numTotalTests === 0) {
    throw new StepError(`the jest suite failed with cdktn:\n${r.stderr.split("\n").slice(-80).join("\n")}`);
  }
  return { passed: summary.numPassedTests, skipped: summary.numPendingTests + summary.numTodoTests, total: summary.numTotalTests };
}

/** Does the cdktf binding still crash a cdktn App? Tells whether the generated binding is still needed. */
function mixingProbe(): string {
  const script = `
    const { App, TerraformStack } = require(${JSON.stringify(path.join(DIRS.nodeModules, "cdktn"))});
    const { LocalProvider } = require(${JSON.stringify(path.join(DIRS.rootNodeModules, "@cdktf/provider-local/lib/provider"))});
    const app = new App({ outdir: require("fs").mkdtempSync(require("path").join(require("os").tmpdir(), "compat-mix-")) });
    new LocalProvider(new TerraformStack(app, "t"), "local");
    try { app.synth(); console.log("synthesized"); } catch (e) { console.log(String(e.message)); } finally { require("fs").rmSync(app.outdir, { recursive: true }); }`;
  const r = spawnSync(process.execPath, ["-e", script], { cwd: compatDir, encoding: "utf8", env: childEnv() });
  const result = r.stdout.trim();
  return result === "synthesized"
    ? "the @cdktf binding now synthesizes in a cdktn App: the generated binding may no longer be needed"
    : `the @cdktf binding in a cdktn App still fails at synth (${result || r.stderr.trim().split("\n")[0]})`;
}

const showValue = (v: unknown): string => {
  if (v === undefined) return "(absent)";
  const s = JSON.stringify(v);
  return s.length > 160 ? `${s.slice(0, 157)}...` : s;
};
export const describeDifference = (d: Difference): string =>
  d.keyOrder
    ? `${d.file} ${d.path}: key order differs: cdktf ${showValue(d.cdktf)}, cdktn ${showValue(d.cdktn)}`
    : `${d.file} ${d.path}: cdktf ${showValue(d.cdktf)}, cdktn ${showValue(d.cdktn)}`;

/** Every stack's required_providers must be exactly the main stack's pins. */
function checkPins(comparison: Comparison): string[] {
  return comparison.files
    .filter((f) => f.file.endsWith("/cdk.tf.json"))
    .map((f) => [f.file, readJson(path.join(DIRS.out, "cdktn", f.file)).terraform?.required_providers] as const)
    .filter(([, pins]) => !isDeepStrictEqual(pins, PROVIDER_PINS))
    .map(([file, pins]) => `${file} terraform.required_providers: ${showValue(pins)}; the main stack pins ${showValue(PROVIDER_PINS)}`);
}

/** Command-line options. */
export interface Options {
  /** Also run the project's jest suite against cdktn (default: false; slow, so not in CI). */
  readonly jest: boolean;
}

export function parseOptions(args: string[]): Options {
  const unknown = args.filter((a) => a !== "--jest");
  if (unknown.length > 0) throw new SetupError(`unknown option '${unknown[0]}' (allowed: --jest)`);
  return { jest: args.includes("--jest") };
}

function main(options: Options): number {
  const start = Date.now();
  const versions = {
    cdktf: readJson(path.join(DIRS.rootNodeModules, "cdktf/package.json")).version as string,
    cdktn: "",
  };
  const lines: string[] = [];
  const say = (s: string) => {
    lines.push(s);
    console.log(s);
  };
  if (!fs.existsSync(path.join(DIRS.rootNodeModules, "@swc/core"))) throw new SetupError("the project is not installed: run npm ci first");
  RUN_TMP.dir = fs.mkdtempSync(path.join(os.tmpdir(), "compat-cdktn-run-"));

  say(`install      ${install()}`);
  const installed = (name: string) => readJson(path.join(DIRS.nodeModules, name, "package.json"));
  versions.cdktn = installed("cdktn").version;
  const deps = Object.keys(readJson(path.join(compatDir, "package.json")).dependencies);
  say(`packages     ${deps.map((d) => `${d} ${installed(d).version}`).join(", ")} (cdktf side: cdktf ${versions.cdktf})`);

  const [builds, buildMs] = timed(build);
  say(`build        ${builds.cdktn.sources.length} source files, twice (cdktf: ${rel(DIRS.cdktfBuild)}, cdktn: ${rel(DIRS.cdktnBuild)}): ${seconds(buildMs)}`);
  for (const r of builds.cdktn.rewrites) {
    const modules = r.modules.length === 1 ? r.modules[0] || "(package root)" : `${r.modules.length} modules by path`;
    say(`               ${r.from} → ${r.to === "generated" ? `a binding generated in ${rel(DIRS.cdktnBuild)}/generated` : r.to}: ${modules}, in ${r.files} file(s)`);
  }

  const [checked, tscMs] = timed(typeCheck);
  say(`type check   ${checked} project files against cdktn's declarations, none of cdktf's: ok (${seconds(tscMs)})`);

  const [, cdktfMs] = synth("cdktf");
  const [cdktnReport, cdktnMs] = synth("cdktn");
  say(`synth        ${cdktnReport.stacks.length} stacks (<app folder>/<stack>): ${cdktnReport.stacks.join(", ")}`);
  say(`               cdktf ${seconds(cdktfMs)}, cdktn ${seconds(cdktnMs)}; neither process loaded a module of the other build`);

  const passed = [bindingTest("cdktf"), bindingTest("cdktn")];
  say(`local binding ${passed[1]} tests pass with cdktn on the binding generated from @cdktf/provider-local (${builds.cdktn.generated.length} modules in ${rel(DIRS.cdktnBuild)}/generated), ${passed[0]} with cdktf on the original`);
  say(`               ${mixingProbe()}`);
  if (options.jest) {
    const [suite, jestMs] = timed(jestSuite);
    const skipped = suite.skipped > 0 ? `, ${suite.skipped} skipped as in npm test` : "";
    say(`jest         ${suite.passed} of ${suite.total} tests of the project's suite pass with cdktn${skipped} (${seconds(jestMs)})`);
  } else {
    say("jest         not run (--jest runs the project's whole jest suite once more, against cdktn)");
  }

  const comparison = compareOutdirs(path.join(DIRS.out, "cdktf"), path.join(DIRS.out, "cdktn"), versions);
  const differences = comparison.files.flatMap((f) => f.differences);
  say(`compare      ${comparison.files.length} files (${rel(path.join(DIRS.out, "cdktf"))} and ${rel(path.join(DIRS.out, "cdktn"))})`);
  const width = Math.max(0, ...comparison.files.map((f) => f.file.length));
  for (const f of comparison.files) {
    const status =
      f.differences.length > 0
        ? `${f.differences.length} difference(s)`
        : `identical${f.absorbed.length ? ` apart from ${f.absorbed.map((d) => `${d.path} ${d.cdktf} → ${d.cdktn}`).join(", ")}` : ""}${f.layout === "same" ? "" : f.layout === "empty-collections" ? " (empty [] and {} laid out differently)" : " (same JSON, laid out differently)"}`;
    say(`               ${f.file.padEnd(width)}  ${status}`);
  }
  const pinProblems = checkPins(comparison);
  const bindingPins = [...new Set(Object.values(cdktnReport.bindingVersions).flatMap((v) => Object.entries(v).map(([p, ver]) => `${p} ${ver}`)))];
  say(`pins         ${Object.entries(PROVIDER_PINS).map(([p, v]) => `${p} ${v.version}`).join(", ")} in every stack, as the main stack (cdktn bindings' schemas: ${bindingPins.join(", ")})`);

  const emptyLayout = comparison.files.filter((f) => f.differences.length === 0 && f.layout === "empty-collections").length;
  const otherLayout = comparison.files.filter((f) => f.differences.length === 0 && f.layout === "other").length;
  const absorbedVersion = comparison.files.filter((f) => f.absorbed.length > 0).length;
  const engines = deps.map((d) => installed(d).engines?.node).filter(Boolean);
  say("");
  say("Differences absorbed:");
  say(`  - imports of ${builds.cdktn.rewrites.map((r) => r.from).join(", ")} rewritten (above); constructs ${readJson(path.join(DIRS.rootNodeModules, "constructs/package.json")).version} → ${installed("constructs").version} (cdktn's peer range ${installed("cdktn").peerDependencies?.constructs})`);
  say(`  - no @cdktn/provider-local: ${builds.cdktn.generated.length} module(s) generated from @cdktf/provider-local ${readJson(path.join(DIRS.rootNodeModules, "@cdktf/provider-local/package.json")).version} with cdktf → cdktn`);
  say(`  - bindings generated from newer schemas (${bindingPins.filter((b) => !Object.entries(PROVIDER_PINS).some(([p, v]) => b === `${p} ${v.version}`)).join(", ")}): PROVIDER_PINS in stacks/providers.ts set the versions`);
  say(`  - framework version in the metadata: ${versions.cdktf} → ${versions.cdktn} (${absorbedVersion} files)`);
  if (emptyLayout > 0) say(`  - layout: ${emptyLayout} files write empty arrays and objects as [] and {} where cdktf breaks the line; the same JSON`);
  if (otherLayout > 0) say(`  - layout: ${otherLayout} files are the same JSON laid out differently`);
  if (engines.length > 0) say(`  - the cdktn packages declare node ${[...new Set(engines)].join(", ")}; synthesized here with node ${process.versions.node}`);

  const left = leftInTmp();
  say(`temp folder  ${left.length === 0 ? "the steps left nothing in the temporary directory" : `the steps left ${left.length} entr${left.length === 1 ? "y" : "ies"} there`}`);
  const failures = [
    ...comparison.onlyIn.cdktf.map((f) => `${f}: written by cdktf only`),
    ...comparison.onlyIn.cdktn.map((f) => `${f}: written by cdktn only`),
    ...differences.map(describeDifference),
    ...pinProblems,
  ];
  say("");
  if (left.length > 0) {
    console.error(`FAIL: the steps left ${left.length} entr${left.length === 1 ? "y" : "ies"} in the temporary directory (removed now): ${left.join(", ")}`);
    return 1;
  }
  if (failures.length > 0) {
    console.error(`FAIL: ${failures.length} difference(s) between the cdktf and the cdktn output:`);
    for (const f of failures.slice(0, 200)) console.error(`  ${f}`);
    if (failures.length > 200) console.error(`  ... and ${failures.length - 200} more`);
    return 1;
  }
  say(`OK: cdktn ${versions.cdktn} synthesizes the same Terraform as cdktf ${versions.cdktf} for ${cdktnReport.stacks.length} stacks (${seconds(Date.now() - start)})`);
  return 0;
}

if (require.main === module) {
  try {
    process.exitCode = main(parseOptions(process.argv.slice(2)));
  } catch (e) {
    leftInTmp();
    if (e instanceof SetupError) {
      console.error(`compat:cdktn: ${e.message}`);
      process.exitCode = 2;
    } else if (e instanceof StepError) {
      console.error(`FAIL: ${e.message}`);
      process.exitCode = 1;
    } else {
      throw e;
    }
  }
}
