// Which package each cdktf-world import becomes in the CDK Terrain build. One
// table, used by the transpiler (runtime) and the type check (tsconfig paths).
import * as fs from "fs";
import { isBuiltin } from "module";
import * as path from "path";

/** What a package of the cdktf world becomes under CDK Terrain. */
export type PackageMapping =
  /** The same subpath of another package, installed in compat/cdktn. */
  | { readonly kind: "package"; readonly to: string }
  /** No CDK Terrain package exists: its modules are generated from the cdktf binding, retargeted. */
  | { readonly kind: "generated" };

export const PACKAGE_MAPPINGS: Readonly<Record<string, PackageMapping>> = {
  cdktf: { kind: "package", to: "cdktn" },
  // cdktn 0.24 needs constructs >=10.6.0 <10.8.0 (the app has 10.4.5).
  constructs: { kind: "package", to: "constructs" },
  "@cdktf/provider-aws": { kind: "package", to: "@cdktn/provider-aws" },
  "@cdktf/provider-random": { kind: "package", to: "@cdktn/provider-random" },
  // There is no @cdktn/provider-local; mixing the cdktf binding into a cdktn
  // stack crashes at synth.
  "@cdktf/provider-local": { kind: "generated" },
};

/** A bare import split into its package name and the rest (`/lib/provider`, or ""). */
export function splitSpecifier(specifier: string): { pkg: string; subpath: string } {
  const parts = specifier.split("/");
  const n = specifier.startsWith("@") ? 2 : 1;
  return { pkg: parts.slice(0, n).join("/"), subpath: parts.slice(n).map((p) => `/${p}`).join("") };
}

export const isRelative = (specifier: string): boolean => specifier.startsWith("./") || specifier.startsWith("../") || specifier === "." || specifier === "..";

/** What one import becomes in the CDK Terrain build. */
export type Mapped =
  | { readonly kind: "unchanged"; readonly specifier: string }
  /** A package that does not depend on the framework: the project's own copy serves both builds. */
  | { readonly kind: "shared"; readonly specifier: string; readonly pkg: string }
  | { readonly kind: "package"; readonly specifier: string }
  | { readonly kind: "generated"; readonly pkg: string; readonly subpath: string };

/**
 * What a package outside PACKAGE_MAPPINGS depends on, from its package.json in
 * the project's node_modules (`undefined`: not installed there).
 */
export type PackageDeps = (pkg: string) => string[] | undefined;

/**
 * Maps one import specifier of `file`: relative imports and Node built-ins stay,
 * packages of PACKAGE_MAPPINGS are renamed or generated, another package is
 * shared when it depends on none of them, and refused otherwise.
 */
export function mapSpecifier(specifier: string, file: string, depsOf: PackageDeps = () => undefined, mappings = PACKAGE_MAPPINGS): Mapped {
  if (isRelative(specifier) || isBuiltin(specifier)) return { kind: "unchanged", specifier };
  const { pkg, subpath } = splitSpecifier(specifier);
  const mapping = Object.prototype.hasOwnProperty.call(mappings, pkg) ? mappings[pkg] : undefined;
  if (!mapping) {
    const deps = depsOf(pkg);
    const framework = deps?.filter((d) => Object.prototype.hasOwnProperty.call(mappings, d) || d.startsWith("@cdktf/"));
    if (framework && framework.length === 0) return { kind: "shared", specifier, pkg };
    const why = !deps ? "it is not installed in the project" : `it depends on ${framework!.join(", ")}`;
    throw new Error(
      `${file}: import '${specifier}' has no CDK Terrain mapping (${why}); mapped packages: ${Object.keys(mappings).join(", ")} ` +
        `(add '${pkg}' to PACKAGE_MAPPINGS in compat/cdktn/specifiers.ts)`,
    );
  }
  if (mapping.kind === "generated") return { kind: "generated", pkg, subpath };
  return { kind: "package", specifier: mapping.to + subpath };
}

/**
 * tsconfig `paths` that type-check the cdktf-world sources against the CDK
 * Terrain packages in `nodeModules`. Generated packages keep the cdktf
 * binding's declarations, whose own `cdktf` imports these paths retarget.
 */
export function typeCheckPaths(nodeModules: string, mappings = PACKAGE_MAPPINGS): Record<string, string[]> {
  const paths: Record<string, string[]> = {};
  for (const [pkg, mapping] of Object.entries(mappings)) {
    if (mapping.kind !== "package") continue;
    paths[pkg] = [`${nodeModules}/${mapping.to}`];
    paths[`${pkg}/*`] = [`${nodeModules}/${mapping.to}/*`];
  }
  return paths;
}

/** PackageDeps read from `nodeModules/<pkg>/package.json`: dependencies and peer dependencies. */
export function packageDepsIn(nodeModules: string): PackageDeps {
  return (pkg) => {
    const file = path.join(nodeModules, pkg, "package.json");
    if (!fs.existsSync(file)) return undefined;
    const json = JSON.parse(fs.readFileSync(file, "utf8"));
    return [...Object.keys(json.dependencies ?? {}), ...Object.keys(json.peerDependencies ?? {})];
  };
}
