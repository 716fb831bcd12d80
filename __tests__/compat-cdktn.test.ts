// The CDK Terrain compat command's own logic: the import mapping, the build,
// the comparison. Runs without compat/cdktn installed: a fake `cdktn` package
// (re-exporting cdktf) stands in for the real one where a build must run.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { compatApps } from "../compat/cdktn/app";
import { compareFile, compareOutdirs, diffJson, versionPath } from "../compat/cdktn/compare";
import { describeDifference, parseOptions } from "../compat/cdktn/run";
import { PACKAGE_MAPPINGS, mapSpecifier, packageDepsIn, splitSpecifier, typeCheckPaths } from "../compat/cdktn/specifiers";
import { buildWorld, moduleSpecifierNodes } from "../compat/cdktn/transpile";
import { production, productionFirstDeployment, productionHardened } from "../config/environments";

const ROOT = path.resolve(__dirname, "..");
const VERSIONS = { cdktf: "0.21.0", cdktn: "0.24.0" };

describe("import mapping", () => {
  it("maps cdktf and the aws and random bindings to their CDK Terrain packages, and generates local", () => {
    expect(PACKAGE_MAPPINGS).toEqual({
      cdktf: { kind: "package", to: "cdktn" },
      constructs: { kind: "package", to: "constructs" },
      "@cdktf/provider-aws": { kind: "package", to: "@cdktn/provider-aws" },
      "@cdktf/provider-random": { kind: "package", to: "@cdktn/provider-random" },
      "@cdktf/provider-local": { kind: "generated" },
    });
  });

  it.each([
    ["cdktf", { kind: "package", specifier: "cdktn" }],
    ["cdktf/lib/testing/adapters/jest", { kind: "package", specifier: "cdktn/lib/testing/adapters/jest" }],
    ["constructs", { kind: "package", specifier: "constructs" }],
    ["@cdktf/provider-aws/lib/sqs-queue", { kind: "package", specifier: "@cdktn/provider-aws/lib/sqs-queue" }],
    ["@cdktf/provider-aws", { kind: "package", specifier: "@cdktn/provider-aws" }],
    ["@cdktf/provider-random/lib/provider", { kind: "package", specifier: "@cdktn/provider-random/lib/provider" }],
    ["@cdktf/provider-local/lib/data-local-file", { kind: "generated", pkg: "@cdktf/provider-local", subpath: "/lib/data-local-file" }],
    ["fs", { kind: "unchanged", specifier: "fs" }],
    ["node:path", { kind: "unchanged", specifier: "node:path" }],
    ["../modules/ecr", { kind: "unchanged", specifier: "../modules/ecr" }],
    ["./moves", { kind: "unchanged", specifier: "./moves" }],
  ])("%s", (specifier, expected) => {
    expect(mapSpecifier(specifier, "stacks/x.ts")).toEqual(expected);
  });

  it("refuses a package it has no mapping for, naming the file, the import, why, and the mapped packages", () => {
    const depsOf = (pkg: string) => ({ "@cdktf/provider-null": ["cdktf", "constructs"], "cdk-nag-tf": ["@cdktf/provider-aws"] })[pkg];
    expect(() => mapSpecifier("@cdktf/provider-null/lib/resource", "stacks/zivohealth-stack.ts", depsOf)).toThrow(
      "stacks/zivohealth-stack.ts: import '@cdktf/provider-null/lib/resource' has no CDK Terrain mapping (it depends on cdktf, constructs); " +
        "mapped packages: cdktf, constructs, @cdktf/provider-aws, @cdktf/provider-random, @cdktf/provider-local " +
        "(add '@cdktf/provider-null' to PACKAGE_MAPPINGS in compat/cdktn/specifiers.ts)",
    );
    expect(() => mapSpecifier("cdk-nag-tf", "a.ts", depsOf)).toThrow(
      "a.ts: import 'cdk-nag-tf' has no CDK Terrain mapping (it depends on @cdktf/provider-aws)",
    );
    expect(() => mapSpecifier("yaml", "a.ts", depsOf)).toThrow("a.ts: import 'yaml' has no CDK Terrain mapping (it is not installed in the project)");
  });

  it("shares a package that depends on no framework package: the project's copy serves both builds", () => {
    expect(mapSpecifier("ajv/dist/2020", "config/validate.ts", () => ["fast-deep-equal", "json-schema-traverse"])).toEqual({
      kind: "shared",
      specifier: "ajv/dist/2020",
      pkg: "ajv",
    });
  });

  it("reads what an installed package depends on from its package.json", () => {
    const depsOf = packageDepsIn(path.join(ROOT, "node_modules"));
    expect(depsOf("@cdktf/provider-local")).toEqual(expect.arrayContaining(["cdktf", "constructs"]));
    expect(depsOf("no-such-package-here")).toBeUndefined();
  });

  it("splits scoped and unscoped specifiers into package and subpath", () => {
    expect(splitSpecifier("@cdktf/provider-aws/lib/vpc")).toEqual({ pkg: "@cdktf/provider-aws", subpath: "/lib/vpc" });
    expect(splitSpecifier("cdktf")).toEqual({ pkg: "cdktf", subpath: "" });
    expect(splitSpecifier("cdktf/lib/x")).toEqual({ pkg: "cdktf", subpath: "/lib/x" });
  });

  it("gives the type check the same mapping as tsconfig paths (generated packages keep their declarations)", () => {
    expect(typeCheckPaths("/c/node_modules")).toEqual({
      cdktf: ["/c/node_modules/cdktn"],
      "cdktf/*": ["/c/node_modules/cdktn/*"],
      constructs: ["/c/node_modules/constructs"],
      "constructs/*": ["/c/node_modules/constructs/*"],
      "@cdktf/provider-aws": ["/c/node_modules/@cdktn/provider-aws"],
      "@cdktf/provider-aws/*": ["/c/node_modules/@cdktn/provider-aws/*"],
      "@cdktf/provider-random": ["/c/node_modules/@cdktn/provider-random"],
      "@cdktf/provider-random/*": ["/c/node_modules/@cdktn/provider-random/*"],
    });
  });
});

describe("module specifiers in the syntax tree", () => {
  const swc = require("@swc/core");
  const values = (code: string, syntax = "typescript") =>
    moduleSpecifierNodes(swc.parseSync(code, { syntax })).map((n) => n.value);

  it("finds imports, re-exports, require, import(), import = require and import types", () => {
    const code = [
      'import { App } from "cdktf";',
      'import type { Vpc } from "@cdktf/provider-aws/lib/vpc";',
      'export * from "./a";',
      'export { b } from "./b";',
      'const fs = require("fs");',
      'const later = () => import("./lazy");',
      'import x = require("constructs");',
      'let t: import("./types").T;',
      'const notAModule = "cdktf";',
      "export const local = 1;",
    ].join("\n");
    expect(values(code)).toEqual(["cdktf", "@cdktf/provider-aws/lib/vpc", "./a", "./b", "fs", "./lazy", "constructs", "./types"]);
  });

  it("refuses a require of a computed name, which cannot be mapped", () => {
    expect(() => values('const name = "cdktf"; require(name);', "ecmascript")).toThrow("a require() of a computed name cannot be mapped");
  });
});

describe("the build of one world", () => {
  let dir: string;
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  };
  const reexport = (rel: string, target: string) => write(rel, `module.exports = require(${JSON.stringify(target)});\n`);

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "compat-build-"));
    // The "compat" node_modules: packages re-exporting the project's own.
    write("compat/node_modules/cdktn/package.json", '{ "name": "cdktn", "version": "0.0.0-test" }');
    reexport("compat/node_modules/cdktn/index.js", path.join(ROOT, "node_modules/cdktf"));
    write("compat/node_modules/@cdktn/provider-aws/package.json", '{ "name": "@cdktn/provider-aws" }');
    reexport("compat/node_modules/@cdktn/provider-aws/lib/provider/index.js", path.join(ROOT, "node_modules/@cdktf/provider-aws/lib/provider"));
    write("compat/node_modules/constructs/package.json", '{ "name": "constructs" }');
    reexport("compat/node_modules/constructs/index.js", path.join(ROOT, "node_modules/constructs"));
    // The binding to generate from: the project's real @cdktf/provider-local files.
    for (const f of ["package.json", "LICENSE", "lib/provider/index.js", "lib/data-local-file/index.js"]) {
      write(`node_modules/@cdktf/provider-local/${f}`, fs.readFileSync(path.join(ROOT, "node_modules/@cdktf/provider-local", f), "utf8"));
    }
    write(
      "src/entry.ts",
      [
        'import * as fs from "fs";',
        'import { App, TerraformStack } from "cdktf";',
        'import { AwsProvider } from "@cdktf/provider-aws/lib/provider";',
        'import { LocalProvider } from "@cdktf/provider-local/lib/provider";',
        'import { outdir } from "./lib/outdir";',
        "const app = new App({ outdir: outdir() });",
        'const stack = new TerraformStack(app, "s");',
        'new AwsProvider(stack, "aws", { region: "us-east-1" });',
        'new LocalProvider(stack, "local");',
        "app.synth();",
        'process.stdout.write(fs.readFileSync(`${outdir()}/stacks/s/cdk.tf.json`, "utf8"));',
      ].join("\n"),
    );
    write("src/lib/outdir.ts", 'export const outdir = (): string => process.argv[2];\nexport type Unused = import("./types").T;\n');
    write("src/lib/types.ts", "export type T = string;\n");
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const world = () => ({
    name: "cdktn",
    outDir: path.join(dir, "compat/build"),
    nodeModules: path.join(dir, "compat/node_modules"),
    map: (s: string, f: string) => mapSpecifier(s, f, packageDepsIn(path.join(dir, "node_modules"))),
  });

  it("follows the relative imports, rewrites the packages and generates the whole local binding", () => {
    const result = buildWorld(dir, ["src/entry.ts"], world());
    expect(result).toEqual({
      sources: ["src/entry.ts", "src/lib/outdir.ts", "src/lib/types.ts"],
      rewrites: [
        { from: "@cdktf/provider-aws", to: "@cdktn/provider-aws", modules: ["/lib/provider"], files: 1 },
        { from: "@cdktf/provider-local", to: "generated", modules: ["/lib/provider"], files: 1 },
        { from: "cdktf", to: "cdktn", modules: [""], files: 3 },
      ],
      generated: ["generated/@cdktf/provider-local/lib/data-local-file/index.js", "generated/@cdktf/provider-local/lib/provider/index.js"],
    });
    const entry = fs.readFileSync(path.join(dir, "compat/build/src/entry.js"), "utf8");
    expect(entry).toContain('require("cdktn")');
    expect(entry).toContain('require("@cdktn/provider-aws/lib/provider")');
    expect(entry).toContain('require("../generated/@cdktf/provider-local/lib/provider/index.js")');
    expect(entry).toContain('require("./lib/outdir")');
    expect(entry).toContain('require("fs")');
    expect(entry).not.toMatch(/require\("(cdktf|@cdktf\/[^"]+)"\)/);

    const generated = fs.readFileSync(path.join(dir, "compat/build/generated/@cdktf/provider-local/lib/provider/index.js"), "utf8");
    expect(generated.split("\n").slice(0, 2)).toEqual([
      "// Generated by compat/cdktn from node_modules/@cdktf/provider-local/lib/provider/index.js, its imports mapped for cdktn (compat/cdktn/specifiers.ts).",
      "// The package's license applies (LICENSE beside lib/).",
    ]);
    expect(fs.readFileSync(path.join(dir, "compat/build/generated/@cdktf/provider-local/LICENSE"), "utf8")).toBe(
      fs.readFileSync(path.join(ROOT, "node_modules/@cdktf/provider-local/LICENSE"), "utf8"),
    );
    expect(generated).toContain('const cdktf = require("cdktn");');
    expect(generated).toContain("class LocalProvider extends cdktf.TerraformProvider");
    expect(generated).not.toContain('require("cdktf")');
  });

  it("builds code that runs: the generated binding synthesizes through the mapped framework", () => {
    buildWorld(dir, ["src/entry.ts"], world());
    const r = spawnSync(process.execPath, [path.join(dir, "compat/build/src/entry.js"), path.join(dir, "out")], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout).terraform.required_providers).toEqual({
      aws: { source: "aws", version: "6.17.0" },
      local: { source: "hashicorp/local", version: "2.5.3" },
    });
  });

  it("refuses a mapped package that the world has not installed", () => {
    write("src/entry.ts", 'import { RandomProvider } from "@cdktf/provider-random/lib/provider";\nexport const r = RandomProvider;\n');
    expect(() => buildWorld(dir, ["src/entry.ts"], world())).toThrow(
      `src/entry.ts: '@cdktn/provider-random/lib/provider' is not installed for the cdktn build (in ${path.join(dir, "compat/node_modules")})`,
    );
  });

  it("takes a framework-neutral package from the project's node_modules in the cdktn build", () => {
    write("node_modules/neutral/package.json", '{ "name": "neutral", "dependencies": { "tslib": "2" } }');
    write("node_modules/neutral/index.js", "module.exports = (s) => s.toUpperCase();\n");
    write("src/lib/outdir.ts", 'import up = require("neutral");\nexport const outdir = (): string => up(process.argv[2]).toLowerCase();\n');
    const result = buildWorld(dir, ["src/entry.ts"], world());
    expect(result.rewrites.map((r) => r.from)).toEqual(["@cdktf/provider-aws", "@cdktf/provider-local", "cdktf"]);
    expect(fs.readFileSync(path.join(dir, "compat/build/src/lib/outdir.js"), "utf8")).toContain('require("neutral")');
  });

  it("refuses an import without a mapping, and writes nothing", () => {
    write("node_modules/tf-helpers/package.json", '{ "name": "tf-helpers", "peerDependencies": { "cdktf": "0.21.0" } }');
    write("src/lib/outdir.ts", 'import * as h from "tf-helpers";\nexport const outdir = () => h;\n');
    expect(() => buildWorld(dir, ["src/entry.ts"], world())).toThrow(
      "src/lib/outdir.ts: import 'tf-helpers' has no CDK Terrain mapping (it depends on cdktf)",
    );
    expect(fs.existsSync(path.join(dir, "compat/build"))).toBe(false);
  });

  it("refuses a relative import that names no file", () => {
    write("src/lib/types.ts", 'export * from "./missing";\n');
    expect(() => buildWorld(dir, ["src/entry.ts"], world())).toThrow(`${path.join(dir, "src/lib/types.ts")}: cannot resolve './missing'`);
  });
});

describe("comparison", () => {
  const stack = (over: Record<string, unknown> = {}, version = "0.21.0") =>
    JSON.stringify(
      {
        "//": { metadata: { backend: "local", stackName: "production", version } },
        resource: { aws_sqs_queue: { q: { name: "production-ml-worker", visibility_timeout_seconds: 300, tags: [] } } },
        ...over,
      },
      null,
      2,
    );
  const FILE = "stacks/production/cdk.tf.json";

  it("knows where each output file records the framework version", () => {
    expect(versionPath(FILE)).toEqual(["//", "metadata", "version"]);
    expect(versionPath("manifest.json")).toEqual(["version"]);
    expect(versionPath("productionHardened/manifest.json")).toEqual(["version"]);
    expect(versionPath("app/stacks/production/cdk.tf.json")).toEqual(["//", "metadata", "version"]);
    expect(versionPath("stacks/production/other.json")).toBeUndefined();
  });

  it("absorbs the framework version in the metadata, and only that", () => {
    const c = compareFile(FILE, stack(), stack({}, "0.24.0"), VERSIONS);
    expect(c.differences).toEqual([]);
    expect(c.absorbed).toEqual([{ file: FILE, path: "//.metadata.version", cdktf: "0.21.0", cdktn: "0.24.0" }]);
    expect(c.layout).toBe("same");
  });

  it("names a version other than the installed frameworks'", () => {
    const c = compareFile(FILE, stack(), stack({}, "0.25.0"), VERSIONS);
    expect(c.differences).toEqual([{ file: FILE, path: "//.metadata.version", cdktf: "0.21.0", cdktn: "0.25.0" }]);
    expect(c.absorbed).toEqual([]);
  });

  it("names a changed, a missing and an added value by path, with both values", () => {
    const cdktn = JSON.parse(stack({}, "0.24.0"));
    cdktn.resource.aws_sqs_queue.q.visibility_timeout_seconds = 30;
    delete cdktn.resource.aws_sqs_queue.q.name;
    cdktn.resource.aws_sqs_queue.q.tags.push("x");
    cdktn.terraform = { required_providers: { aws: { version: "6.66.0" } } };
    const c = compareFile(FILE, stack(), JSON.stringify(cdktn), VERSIONS);
    expect(c.differences).toEqual([
      { file: FILE, path: "resource.aws_sqs_queue.q.name", cdktf: "production-ml-worker", cdktn: undefined },
      { file: FILE, path: "resource.aws_sqs_queue.q.visibility_timeout_seconds", cdktf: 300, cdktn: 30 },
      { file: FILE, path: "resource.aws_sqs_queue.q.tags[0]", cdktf: undefined, cdktn: "x" },
      { file: FILE, path: "terraform", cdktf: undefined, cdktn: { required_providers: { aws: { version: "6.66.0" } } } },
    ]);
    expect(c.differences.map(describeDifference)).toEqual([
      `${FILE} resource.aws_sqs_queue.q.name: cdktf "production-ml-worker", cdktn (absent)`,
      `${FILE} resource.aws_sqs_queue.q.visibility_timeout_seconds: cdktf 300, cdktn 30`,
      `${FILE} resource.aws_sqs_queue.q.tags[0]: cdktf (absent), cdktn "x"`,
      `${FILE} terraform: cdktf (absent), cdktn {"required_providers":{"aws":{"version":"6.66.0"}}}`,
    ]);
  });

  it("tells a number from the same digits in a string, and null from absent", () => {
    expect(diffJson("f", { a: 1, b: null }, { a: "1" })).toEqual([
      { file: "f", path: "a", cdktf: 1, cdktn: "1" },
      { file: "f", path: "b", cdktf: null, cdktn: undefined },
    ]);
  });

  it("names a different key order", () => {
    expect(diffJson("f", { x: { a: 1, b: 2 } }, { x: { b: 2, a: 1 } })).toEqual([
      { file: "f", path: "x", cdktf: ["a", "b"], cdktn: ["b", "a"], keyOrder: true },
    ]);
  });

  it("quotes keys that are not plain names in a path", () => {
    expect(diffJson("f", { "a.b": { "x y": 1 } }, { "a.b": { "x y": 2 } })[0].path).toBe('["a.b"]["x y"]');
  });

  it("tells the same JSON laid out differently from a difference", () => {
    const cdktf = stack().replace('"tags": []', '"tags": [\n]');
    const c = compareFile(FILE, cdktf, stack({}, "0.24.0"), VERSIONS);
    expect(c.differences).toEqual([]);
    expect(c.layout).toBe("empty-collections");
    expect(compareFile(FILE, stack(), JSON.stringify(JSON.parse(stack({}, "0.24.0"))), VERSIONS).layout).toBe("other");
  });

  it("compares output folders file by file and names files only one side wrote", () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), "compat-compare-"));
    try {
      const put = (side: string, rel: string, text: string) => {
        fs.mkdirSync(path.dirname(path.join(base, side, rel)), { recursive: true });
        fs.writeFileSync(path.join(base, side, rel), text);
      };
      put("a", "manifest.json", '{"version":"0.21.0"}');
      put("b", "manifest.json", '{"version":"0.24.0"}');
      put("a", FILE, stack());
      put("b", FILE, stack({}, "0.24.0"));
      expect(compareOutdirs(path.join(base, "a"), path.join(base, "b"), VERSIONS).identical).toBe(true);

      put("a", "stacks/staging/cdk.tf.json", stack());
      put("b", "stacks/extra/cdk.tf.json", stack({}, "0.24.0"));
      const c = compareOutdirs(path.join(base, "a"), path.join(base, "b"), VERSIONS);
      expect(c.identical).toBe(false);
      expect(c.onlyIn).toEqual({ cdktf: ["stacks/staging/cdk.tf.json"], cdktn: ["stacks/extra/cdk.tf.json"] });
      expect(c.files.map((f) => f.file)).toEqual(["manifest.json", FILE]);
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });
});

describe("the Apps the compat app synthesizes", () => {
  it("are main.ts's stacks together, each other exported configuration alone, and production with an S3 backend", () => {
    const apps = compatApps({
      environments: { production },
      production,
      productionHardened,
      alsoProduction: production,
      productionFirstDeployment,
      notAConfig: { environment: "x" },
    });
    expect(apps.map((a) => [a.dir, Object.keys(a.stacks)])).toEqual([
      ["app", ["production"]],
      ["productionHardened", ["productionHardened"]],
      ["productionFirstDeployment", ["productionFirstDeployment"]],
      ["productionS3Backend", ["productionS3Backend"]],
    ]);
    expect(apps[0].stacks.production).toBe(production);
    expect(apps[1].stacks.productionHardened).toBe(productionHardened);
    expect(apps[3].stacks.productionS3Backend).toEqual({
      ...production,
      backend: { type: "s3", bucket: "zivohealth-terraform-state", key: "production/terraform.tfstate", region: "us-east-1" },
    });
  });
});

describe("command-line options", () => {
  it("runs without the jest suite by default, with it on --jest", () => {
    expect(parseOptions([])).toEqual({ jest: false });
    expect(parseOptions(["--jest"])).toEqual({ jest: true });
  });

  it("refuses an unknown option, naming the allowed one", () => {
    expect(() => parseOptions(["--json"])).toThrow("unknown option '--json' (allowed: --jest)");
  });
});
