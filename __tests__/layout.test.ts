// The layout's rules (README, Layout), read from the sources' own imports:
// - the product (main.ts, config/, modules/, stacks/, policy/) imports only the product;
// - lib/ imports lib/ and the product; commands/, bench/ and tools/ import lib/, the product and
//   the top-level *.config.js;
// - no file outside the test tiers imports a test tier (__tests__/, validate/, compat/);
// - a command's parts (commands/<name>/*.ts) are its own: another command reaches a command only
//   through its entry (commands/<name>/index.ts or commands/<name>.ts), and only the edges listed here;
// - a file over 400 lines says why at its top (a line starting `// Long:` within its first 5 lines).
import * as fs from "fs";
import * as path from "path";

const ROOT = path.join(__dirname, "..");
const PRODUCT = ["main.ts", "config", "modules", "stacks", "policy"];
const TEST_TIERS = ["__tests__", "validate", "compat"];
/** Command → commands it runs through their entry, and why. */
const COMMAND_EDGES: Record<string, Record<string, string>> = {
  "migrate-state": { "plan-check": "migrate-state runs plan-check's gate on the migrated state before and after" },
};
const LONG_FILE = 400;
/** Folders of no source of ours: installed packages, fixtures, and what builds write (compat/cdktn's build and generated bindings). */
const SKIPPED = new Set(["node_modules", "fixtures", "build", "out", "generated", "dist", "cdktf.out"]);

function filesUnder(rel: string): string[] {
  const abs = path.join(ROOT, rel);
  if (!fs.existsSync(abs)) return [];
  if (fs.statSync(abs).isFile()) return /\.(ts|js)$/.test(rel) && !rel.endsWith(".d.ts") ? [rel] : [];
  return fs
    .readdirSync(abs)
    .filter((e) => !SKIPPED.has(e) && !e.startsWith("."))
    .flatMap((e) => filesUnder(path.posix.join(rel, e)));
}

/** The project files a file imports (relative specifiers, resolved as Node does), project-relative. */
function importsOf(rel: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, rel), "utf8");
  const out: string[] = [];
  // Regular expressions, not the compiler: loading typescript would cost this test file more than all it checks.
  for (const m of text.matchAll(/(?:\bfrom\s+|\bimport\s+|\brequire\(\s*|\bimport\(\s*)["'](\.{1,2}\/[^"']*)["']/g)) {
    const fileName = m[1];
    const base = path.posix.normalize(path.posix.join(path.posix.dirname(rel), fileName));
    const found = [base, `${base}.ts`, `${base}.js`, `${base}/index.ts`, `${base}/index.js`].find((c) => fs.existsSync(path.join(ROOT, c)) && fs.statSync(path.join(ROOT, c)).isFile());
    out.push(found ?? base);
  }
  return out;
}

const top = (rel: string) => rel.split("/")[0];
const isProduct = (rel: string) => PRODUCT.includes(top(rel));
const commandOf = (rel: string) => (rel.startsWith("commands/") ? rel.split("/")[1].replace(/\.ts$/, "") : undefined);
const isEntry = (rel: string) => /^commands\/[^/]+\.ts$/.test(rel) || /^commands\/[^/]+\/index\.ts$/.test(rel);

const CODE = [...PRODUCT, "commands", "lib", "bench", "tools"].flatMap(filesUnder);

describe("layout", () => {
  it("finds the code it judges in every folder", () => {
    for (const folder of [...PRODUCT, "commands", "lib", "bench", "tools"]) expect(CODE.some((f) => top(f) === folder)).toBe(true);
  });

  it("no file outside the test tiers imports one", () => {
    const bad = CODE.flatMap((f) => importsOf(f).filter((i) => TEST_TIERS.includes(top(i))).map((i) => `${f} imports ${i}`));
    expect(bad).toEqual([]);
  });

  it("the product imports only the product", () => {
    const bad = CODE.filter(isProduct).flatMap((f) => importsOf(f).filter((i) => !isProduct(i)).map((i) => `${f} imports ${i}`));
    expect(bad).toEqual([]);
  });

  it("lib/ imports only lib/ and the product", () => {
    const bad = CODE.filter((f) => top(f) === "lib").flatMap((f) => importsOf(f).filter((i) => !isProduct(i) && top(i) !== "lib").map((i) => `${f} imports ${i}`));
    expect(bad).toEqual([]);
  });

  it("commands, bench and tools import lib/ and the product; a command's parts only inside it; another command only through its entry, as listed", () => {
    const bad: string[] = [];
    for (const f of CODE.filter((x) => ["commands", "bench", "tools"].includes(top(x)))) {
      for (const i of importsOf(f)) {
        if (isProduct(i) || top(i) === "lib") continue;
        if (/^[^/]+\.config\.js$/.test(i)) continue; // the project's own configuration (bench's jest run extends jest.config.js)
        const from = commandOf(f);
        const to = commandOf(i);
        if (to !== undefined && to === from) continue; // a command's own parts
        if (to !== undefined && from !== undefined && isEntry(i) && COMMAND_EDGES[from]?.[to]) continue;
        if (top(i) === top(f) && top(f) !== "commands") continue; // bench's and tools' own files
        bad.push(`${f} imports ${i}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it("every listed edge between commands is used", () => {
    for (const [from, tos] of Object.entries(COMMAND_EDGES)) {
      for (const to of Object.keys(tos)) {
        const used = CODE.filter((f) => commandOf(f) === from).some((f) => importsOf(f).some((i) => commandOf(i) === to));
        expect(`${from} → ${to}: ${used}`).toBe(`${from} → ${to}: true`);
      }
    }
  });

  it(`a file over ${LONG_FILE} lines says why at its top`, () => {
    const all = [...CODE, ...TEST_TIERS.flatMap(filesUnder)];
    const unexplained = all.filter((f) => {
      const lines = fs.readFileSync(path.join(ROOT, f), "utf8").split("\n");
      return lines.length > LONG_FILE && !lines.slice(0, 5).some((l) => l.startsWith("// Long:"));
    });
    expect(unexplained).toEqual([]);
  });
});
