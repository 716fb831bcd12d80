// The template default variant the benchmark compares with: the same sources with the
// provider bindings imported from the package root, run by `npx ts-node main.ts`.
import * as fs from "fs";
import * as path from "path";

// ---------------------------------------------------------------- template default variant

type Ts = any; // the TypeScript compiler API, loaded with require so tsc does not type-check against typescript.d.ts

/** `export * as <ns> from './<mod>'` of a provider package's lib/index.d.ts, by module. */
function rootNamespaces(root: string, pkg: string): Map<string, string> {
  const index = path.join(root, "node_modules", pkg, "lib", "index.d.ts");
  const map = new Map<string, string>();
  for (const m of fs.readFileSync(index, "utf8").matchAll(/^export \* as (\w+) from '\.\/([\w-]+)';$/gm)) map.set(m[2], m[1]);
  return map;
}

const DEEP = /^(@cdktf\/provider-[a-z0-9-]+)\/lib\/([a-z0-9-]+)$/;

/**
 * Rewrites `import { X } from "@cdktf/provider-aws/lib/<mod>"` to
 * `import { <ns> } from "@cdktf/provider-aws"` and every reference to X to
 * `<ns>.X` (the namespace is aliased when its name is taken in the file, e.g.
 * `provider` of provider-aws and of provider-local).
 */
function rewriteToRootImports(ts: Ts, text: string, fileName: string, nsOf: (pkg: string) => Map<string, string>): { text: string; rewritten: number } {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const taken = new Set<string>();
  const collect = (node: any): void => {
    if (ts.isIdentifier(node)) taken.add(node.text);
    ts.forEachChild(node, collect);
  };
  collect(sf);
  const rename = new Map<string, string>(); // local name -> replacement expression
  const imports = new Map<string, Map<string, string>>(); // pkg -> ns -> local alias
  const removed: any[] = [];
  for (const stmt of sf.statements) {
    if (!ts.isImportDeclaration(stmt)) continue;
    const m = DEEP.exec(stmt.moduleSpecifier.text);
    if (!m) continue;
    const [, pkg, mod] = m;
    const ns = nsOf(pkg).get(mod);
    if (!ns) throw new Error(`${fileName}: ${pkg} exports no namespace for ./${mod}`);
    const clause = stmt.importClause;
    if (!clause || clause.name || !clause.namedBindings) throw new Error(`${fileName}: unsupported import of ${m[0]}`);
    const perPkg = imports.get(pkg) ?? new Map<string, string>();
    imports.set(pkg, perPkg);
    let alias = perPkg.get(ns);
    if (!alias) {
      const usedElsewhere = [...imports.entries()].some(([p, nss]) => p !== pkg && [...nss.values()].includes(ns));
      alias = usedElsewhere || taken.has(ns) ? `${pkg.replace("@cdktf/provider-", "").replace(/-(\w)/g, (_, c: string) => c.toUpperCase())}${ns[0].toUpperCase()}${ns.slice(1)}` : ns;
      perPkg.set(ns, alias);
    }
    const nb = clause.namedBindings;
    if (ts.isNamespaceImport(nb)) rename.set(nb.name.text, alias);
    else for (const el of nb.elements) rename.set(el.name.text, `${alias}.${(el.propertyName ?? el.name).text}`);
    removed.push(stmt);
  }
  if (removed.length === 0) return { text, rewritten: 0 };

  const edits: { start: number; end: number; text: string }[] = [];
  const lines = [...imports.entries()].map(
    ([pkg, nss]) => `import { ${[...nss.entries()].map(([ns, a]) => (ns === a ? ns : `${ns} as ${a}`)).join(", ")} } from "${pkg}";`,
  );
  // The first removed import becomes the new imports; the others go with their line break.
  removed.forEach((stmt, n) => {
    const end = stmt.getEnd();
    edits.push({ start: stmt.getStart(sf), end: n > 0 && text[end] === "\n" ? end + 1 : end, text: n === 0 ? lines.join("\n") : "" });
  });
  const visit = (node: any): void => {
    if (ts.isImportDeclaration(node)) return;
    if (ts.isIdentifier(node) && rename.has(node.text)) {
      const p = node.parent;
      const target = rename.get(node.text) as string;
      if (ts.isShorthandPropertyAssignment(p)) edits.push({ start: node.getStart(sf), end: node.getEnd(), text: `${node.text}: ${target}` });
      else if (ts.isExportSpecifier(p)) throw new Error(`${fileName}: re-export of ${node.text} is not supported`);
      else if (!(ts.isPropertyAccessExpression(p) && p.name === node) && !(ts.isQualifiedName(p) && p.right === node) && p.name !== node)
        edits.push({ start: node.getStart(sf), end: node.getEnd(), text: target });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  edits.sort((a, b) => b.start - a.start);
  let out = text;
  for (const e of edits) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return { text: out, rewritten: removed.length };
}

const TEMPLATE_SKIP = new Set(["node_modules", "dist", "cdktf.out", ".git", "coverage", "bench", "__tests__", "commands", "lib", "tools", ".ci"]);

/**
 * What the template variant does with a file of the project (a path relative to its root):
 * TypeScript sources are rewritten to root imports; every other file is copied as it is
 * (the app reads some at synthesis, e.g. modules/compute/*.tpl); skipped are the folders of
 * TEMPLATE_SKIP at the top, dot files there, and node_modules at any depth.
 */
export function templateFileAction(rel: string): "rewrite" | "copy" | "skip" {
  const parts = rel.split(/[\\/]/);
  if (TEMPLATE_SKIP.has(parts[0]) || parts[0].startsWith(".") || parts.includes("node_modules")) return "skip";
  return rel.endsWith(".ts") && !rel.endsWith(".d.ts") ? "rewrite" : "copy";
}

/** Copies the app's sources to dir, rewritten to root imports, with cdktf.json's app `npx ts-node main.ts`. */
export function buildTemplateVariant(root: string, dir: string): { files: number; imports: number } {
  const ts: Ts = require(require.resolve("typescript", { paths: [root] }));
  const cache = new Map<string, Map<string, string>>();
  const nsOf = (pkg: string): Map<string, string> => {
    if (!cache.has(pkg)) cache.set(pkg, rootNamespaces(root, pkg));
    return cache.get(pkg) as Map<string, string>;
  };
  let files = 0;
  let imports = 0;
  const copy = (rel: string): void => {
    const src = path.join(root, rel);
    const st = fs.lstatSync(src);
    if (st.isSymbolicLink()) return;
    if (rel !== "" && templateFileAction(rel) === "skip") return;
    if (st.isDirectory()) {
      fs.mkdirSync(path.join(dir, rel), { recursive: true });
      for (const e of fs.readdirSync(src)) copy(path.join(rel, e));
    } else if (templateFileAction(rel) === "rewrite") {
      const r = rewriteToRootImports(ts, fs.readFileSync(src, "utf8"), rel, nsOf);
      // The template's app has no startup of ours (compile cache, deferred requires).
      fs.writeFileSync(path.join(dir, rel), rel === "main.ts" ? withoutStartup(r.text) : r.text);
      files++;
      imports += r.rewritten;
    } else fs.copyFileSync(src, path.join(dir, rel));
  };
  copy("");
  fs.symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"), "dir");
  const cdktf = JSON.parse(fs.readFileSync(path.join(root, "cdktf.json"), "utf8"));
  cdktf.app = "npx ts-node main.ts";
  delete cdktf.output;
  fs.writeFileSync(path.join(dir, "cdktf.json"), JSON.stringify(cdktf, null, 2) + "\n");
  return { files, imports };
}

/** main.ts without its first import, the startup's (stacks/startup.ts). */
export function withoutStartup(main: string): string {
  const out = main.replace(/^import "\.\/stacks\/startup";.*\n/m, "");
  if (out === main) throw new Error('main.ts no longer imports "./stacks/startup": bench/template-variant.ts removes that line');
  return out;
}

/** Each stack's cdk.tf.json the template variant wrote (under b) must equal npm run synth's (under a). */
export function compareSynth(a: string, b: string): string[] {
  const stacks = path.join(b, "stacks");
  const names = fs.existsSync(stacks) ? fs.readdirSync(stacks) : [];
  if (names.length === 0) return [`the template variant wrote no stack under ${stacks}`];
  const problems: string[] = [];
  for (const s of names) {
    const rel = path.join("stacks", s, "cdk.tf.json");
    const fa = path.join(a, rel);
    if (!fs.existsSync(fa)) problems.push(`${rel} missing from npm run synth's output`);
    else if (fs.readFileSync(fa, "utf8") !== fs.readFileSync(path.join(b, rel), "utf8")) problems.push(`${rel} differs`);
  }
  return problems;
}
