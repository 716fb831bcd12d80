// Builds the app's own sources for one framework: follows the relative imports
// from the entries (no file list to keep up to date), rewrites each import
// specifier on the SWC syntax tree and transpiles as tools/build.js does.
import * as fs from "fs";
import { isBuiltin } from "module";
import * as path from "path";
import type { Options, Program } from "@swc/core";
import { Mapped, isRelative, splitSpecifier } from "./specifiers";

/** One framework's build of the same sources. */
export interface World {
  /** `cdktf` or `cdktn`: names the world in messages. */
  readonly name: string;
  /** Where the transpiled tree goes; Node resolves its packages from the nearest node_modules above it. */
  readonly outDir: string;
  /** The node_modules every package import must resolve into. */
  readonly nodeModules: string;
  /** What a bare import becomes; default: unchanged (a built-in or a package of `nodeModules`). */
  readonly map?: (specifier: string, file: string) => Mapped;
}

/** How the imports of one package were rewritten. */
export interface PackageRewrite {
  /** The package imported (`@cdktf/provider-aws`). */
  readonly from: string;
  /** What it became (`@cdktn/provider-aws`, or `generated`). */
  readonly to: string;
  /** Its modules imported, by subpath (`/lib/vpc`; "" for the package itself). */
  readonly modules: string[];
  /** Files that import it (project files and generated modules). */
  readonly files: number;
}

/** What a build did, for the report. */
export interface BuildResult {
  /** Source files transpiled, relative to the project root. */
  readonly sources: string[];
  /** The rewritten imports, by package: what it became, which of its modules, in how many files. */
  readonly rewrites: PackageRewrite[];
  /** Generated modules, relative to the world's outDir. */
  readonly generated: string[];
}

/** The string literal nodes of a syntax tree that name a module (import, export, require, import()). */
export function moduleSpecifierNodes(program: Program): { value: string; raw?: string }[] {
  const found: { value: string; raw?: string }[] = [];
  const literal = (n: any) => (n && n.type === "StringLiteral" ? n : undefined);
  const visit = (node: any): void => {
    if (!node || typeof node !== "object") return;
    if (Array.isArray(node)) return node.forEach(visit);
    switch (node.type) {
      case "ImportDeclaration":
      case "ExportAllDeclaration":
      case "ExportNamedDeclaration":
        if (node.source) found.push(node.source);
        break;
      case "TsImportEqualsDeclaration":
        if (node.moduleRef?.type === "TsExternalModuleReference") found.push(node.moduleRef.expression);
        break;
      case "TsImportType":
        found.push(node.argument);
        break;
      case "CallExpression": {
        const callee = node.callee;
        if (callee?.type === "Import" || (callee?.type === "Identifier" && callee.value === "require")) {
          const arg = literal(node.arguments?.[0]?.expression);
          if (!arg) throw new Error(`a ${callee.type === "Import" ? "import()" : "require()"} of a computed name cannot be mapped`);
          found.push(arg);
        }
        break;
      }
    }
    for (const key of Object.keys(node)) if (key !== "span") visit(node[key]);
  };
  visit(program);
  return found;
}

const SWC_OPTIONS: Options = {
  jsc: { parser: { syntax: "typescript" }, target: "es2022" },
  module: { type: "commonjs" },
  sourceMaps: false,
  swcrc: false,
};

/** The file a relative import names: `x.ts`, `x/index.ts`, `x.js`, `x/index.js`, or the exact file. */
function resolveRelative(fromFile: string, specifier: string): string {
  const base = path.resolve(path.dirname(fromFile), specifier);
  const candidates = fromFile.endsWith(".ts")
    ? [`${base}.ts`, path.join(base, "index.ts"), base]
    : [base, `${base}.js`, path.join(base, "index.js")];
  const hit = candidates.find((c) => fs.existsSync(c) && fs.statSync(c).isFile());
  if (!hit) throw new Error(`${fromFile}: cannot resolve '${specifier}' (tried ${candidates.join(", ")})`);
  return hit;
}

const toImport = (fromOut: string, toOut: string): string => {
  const rel = path.relative(path.dirname(fromOut), toOut).split(path.sep).join("/");
  return rel.startsWith(".") ? rel : `./${rel}`;
};

/** Every .js file of a package, its own node_modules left out. */
function jsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" ? [] : jsFiles(p);
    return e.name.endsWith(".js") ? [p] : [];
  });
}

/**
 * Transpiles `entries` (relative to `root`) and every project file they import
 * into `world.outDir`, mirroring the project layout. A generated package is
 * the cdktf binding's own JavaScript (every .js file, from root's
 * node_modules) with its imports mapped the same way, under `outDir/generated/<pkg>`.
 */
export function buildWorld(root: string, entries: string[], world: World): BuildResult {
  const swc: typeof import("@swc/core") = require("@swc/core");
  const rootNodeModules = path.join(root, "node_modules");
  const map = world.map ?? ((specifier: string) => ({ kind: "unchanged", specifier }) as Mapped);
  const outFor = new Map<string, string>();
  const queue: string[] = [];
  const rewrites = new Map<string, { from: string; to: string; modules: Set<string>; files: Set<string> }>();
  const generated: string[] = [];
  const generatedPackages = new Set<string>();
  const outputs: [out: string, code: string][] = [];

  const enqueue = (source: string, out: string): void => {
    if (outFor.has(source)) return;
    outFor.set(source, out);
    queue.push(source);
  };
  const projectOut = (source: string) => path.join(world.outDir, path.relative(root, source).replace(/\.ts$/, ".js"));

  for (const entry of entries) enqueue(path.resolve(root, entry), projectOut(path.resolve(root, entry)));

  const inside = (file: string, dir: string) => file.startsWith(dir + path.sep);
  const sources: string[] = [];
  for (let i = 0; i < queue.length; i++) {
    const source = queue[i];
    const out = outFor.get(source)!;
    const rel = path.relative(root, source);
    const isTs = source.endsWith(".ts");
    const inGenerated = inside(source, rootNodeModules);
    if (source.endsWith(".json")) {
      outputs.push([out, fs.readFileSync(source, "utf8")]);
      continue;
    }
    const program = swc.parseSync(fs.readFileSync(source, "utf8"), { syntax: isTs ? "typescript" : "ecmascript" });
    let nodes: { value: string; raw?: string }[];
    try {
      nodes = moduleSpecifierNodes(program);
    } catch (e) {
      throw new Error(`${rel}: ${(e as Error).message}`);
    }
    for (const node of nodes) {
      const specifier = node.value;
      let target: string;
      if (isRelative(specifier)) {
        const file = resolveRelative(source, specifier);
        enqueue(file, inGenerated ? path.join(path.dirname(out), path.relative(path.dirname(source), file)) : projectOut(file));
        continue;
      }
      const mapped = map(specifier, rel);
      if (mapped.kind !== "generated") {
        target = mapped.specifier;
      } else {
        // The cdktf binding's module, generated beside the build.
        const pkgRoot = path.join(rootNodeModules, mapped.pkg);
        let original: string;
        try {
          original = require.resolve(mapped.pkg + mapped.subpath, { paths: [root] });
        } catch {
          throw new Error(`${rel}: '${specifier}' is not installed in ${rootNodeModules}: the binding to generate from is missing`);
        }
        if (!inside(original, pkgRoot)) throw new Error(`${rel}: '${specifier}' resolves to ${original}, outside ${pkgRoot}`);
        const genOut = (file: string) => path.join(world.outDir, "generated", mapped.pkg, path.relative(pkgRoot, file));
        if (!generatedPackages.has(mapped.pkg)) {
          // The whole package, once: any of its modules can be imported (the tests import by path too).
          generatedPackages.add(mapped.pkg);
          for (const name of ["LICENSE", "package.json"]) {
            const file = path.join(pkgRoot, name);
            if (fs.existsSync(file)) outputs.push([genOut(file), fs.readFileSync(file, "utf8")]);
          }
          for (const file of jsFiles(pkgRoot)) {
            generated.push(path.relative(world.outDir, genOut(file)));
            enqueue(file, genOut(file));
          }
        }
        target = toImport(out, genOut(original));
      }
      if (target !== specifier) {
        node.value = target;
        node.raw = JSON.stringify(target);
        const { pkg, subpath } = splitSpecifier(specifier);
        const to = mapped.kind === "generated" ? "generated" : splitSpecifier(target).pkg;
        const entry = rewrites.get(pkg) ?? { from: pkg, to, modules: new Set<string>(), files: new Set<string>() };
        entry.modules.add(subpath);
        entry.files.add(rel);
        rewrites.set(pkg, entry);
      }
      if (mapped.kind === "shared") {
        // Framework-neutral: the project's copy, in both builds.
        const resolved = require.resolve(target, { paths: [path.dirname(out)] });
        if (!inside(resolved, path.join(rootNodeModules, mapped.pkg))) {
          throw new Error(`${rel}: '${target}' resolves to ${resolved} in the ${world.name} build, not to the project's ${mapped.pkg}`);
        }
      } else if (mapped.kind !== "generated" && !isBuiltin(target)) {
        // The package must come from this world's node_modules, not from a fallback above it.
        let resolved: string;
        try {
          resolved = require.resolve(target, { paths: [path.dirname(out)] });
        } catch {
          throw new Error(`${rel}: '${target}' is not installed for the ${world.name} build (in ${world.nodeModules})`);
        }
        if (!inside(resolved, world.nodeModules)) {
          throw new Error(`${rel}: '${target}' resolves to ${resolved} in the ${world.name} build, outside ${world.nodeModules}`);
        }
      }
    }
    let code: string;
    if (isTs) {
      code = swc.transformSync(program, SWC_OPTIONS).code;
      sources.push(rel);
    } else {
      const header = `// Generated by compat/cdktn from ${rel}, its imports mapped for ${world.name} (compat/cdktn/specifiers.ts).\n// The package's license applies (LICENSE beside lib/).\n`;
      code = header + swc.printSync(program, {}).code;
    }
    outputs.push([out, code]);
  }
  // Written only once every import of every file is mapped and resolved.
  for (const [out, code] of outputs) {
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, code);
  }
  return {
    sources: sources.sort(),
    rewrites: [...rewrites.values()]
      .map((r) => ({ from: r.from, to: r.to, modules: [...r.modules].sort(), files: r.files.size }))
      .sort((a, b) => a.from.localeCompare(b.from)),
    generated: generated.sort(),
  };
}
