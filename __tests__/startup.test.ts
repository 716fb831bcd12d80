// Long: one module's tests, its three parts (the compile cache, the deferred requires, the creation records) and where it applies.
// The app's startup (stacks/startup.ts). Most cases run a node process of their own, since each part
// changes how that process loads modules.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { COMPILE_CACHE_ENV, COMPILE_CACHE_MAX_BYTES, COMPILE_CACHE_SKIP_ENV, COMPILE_CACHE_TOUCH_AFTER_MS, DYNAMIC_IMPORT, compileCacheFolder, installCompileCache, pruneCompileCache } from "../stacks/compile-cache";
import { DEFERRED_REQUIRES } from "../stacks/deferred-requires";
import { buildDist } from "./processes";
import { tempDir } from "./tmp";

const ROOT = path.resolve(__dirname, "..");
const DIST = path.join(ROOT, "dist", "stacks");
/** V8's tag for a process's flags, as the cache names its folder (8 hexadecimal digits). */
const tagOf = (nodeArgs: string[], env: NodeJS.ProcessEnv = process.env) =>
  spawnSync(process.execPath, [...nodeArgs, "-p", 'require("v8").cachedDataVersionTag().toString(16).padStart(8, "0")'], { encoding: "utf8", env }).stdout.trim();
/** The cache's subfolder for a node process started without flags (the app as users run it). */
const VERSIONED = `${process.version}-${process.arch}-${tagOf([])}`;
const sha256 = (s: string) => require("crypto").createHash("sha256").update(s).digest("hex");
/** An entry's name: the sha256 of the module's absolute path, a NUL, and its source. */
const entryName = (file: string, source: string) => sha256(`${file}\0${source}`);

beforeAll(buildDist); // throws unless the build exits 0

/** Runs `code` in a node process with the compile cache in `folder` installed first; its stdout, and the cache's stats. */
function withCache(folder: string, code: string, env: NodeJS.ProcessEnv = process.env) {
  const script = [
    `const cache = require(${JSON.stringify(path.join(DIST, "compile-cache.js"))});`,
    `cache.installCompileCache(${JSON.stringify(path.join(folder, VERSIONED))});`,
    `process.on("exit", () => process.stderr.write(JSON.stringify(cache.compileCacheStats())));`,
    code,
  ].join("\n");
  const r = spawnSync(process.execPath, ["-e", script], { cwd: ROOT, encoding: "utf8", env });
  expect(r.status).toBe(0);
  const { fromCache, compiled, rejected, written } = JSON.parse(r.stderr);
  return { out: r.stdout, stats: { fromCache, compiled, rejected, written } };
}

describe("compile cache", () => {
  it("the app writes the same Terraform from a cold cache (every module compiled) and a warm one (every module from the cache)", () => {
    const dir = tempDir("zh-startup-");
    const run = (out: string, cache: string) => {
      const r = spawnSync(process.execPath, ["dist/main.js"], {
        cwd: ROOT,
        encoding: "utf8",
        env: { ...process.env, CDKTF_OUTDIR: path.join(dir, out), [COMPILE_CACHE_ENV]: cache, NODE_OPTIONS: `--require ${path.join(dir, "stats.js")}` },
      });
      expect(r.stderr).not.toContain("Error");
      expect(r.status).toBe(0);
      return {
        json: fs.readFileSync(path.join(dir, out, "stacks", "production", "cdk.tf.json"), "utf8"),
        stats: fs.existsSync(path.join(dir, `${out}.stats`)) ? JSON.parse(fs.readFileSync(path.join(dir, `${out}.stats`), "utf8")) : null,
      };
    };
    // Preloaded: the stats of the app's own cache module, read after its writes (an exit listener added after the
    // cache's own, once the app's work is done).
    fs.writeFileSync(
      path.join(dir, "stats.js"),
      `process.once("beforeExit", () => process.on("exit", () => { const c = require.cache[${JSON.stringify(path.join(DIST, "compile-cache.js"))}];` +
        ` if (c) require("fs").writeFileSync(process.env.CDKTF_OUTDIR + ".stats", JSON.stringify(c.exports.compileCacheStats())); }));`,
    );
    const cache = path.join(dir, "cache");
    const cold = run("cold", cache);
    const warm = run("warm", cache);

    expect(cold.stats).toMatchObject({ folder: path.join(cache, VERSIONED), fromCache: 0, rejected: 0 });
    expect(cold.stats.compiled).toBeGreaterThan(100);
    expect(cold.stats.written).toBe(cold.stats.compiled);
    expect(warm.stats).toEqual({ folder: path.join(cache, VERSIONED), fromCache: cold.stats.compiled, compiled: 0, rejected: 0, written: 0 });
    expect(warm.json).toBe(cold.json);
    // Each entry is named by the sha256 of its module's path and source: the app's configuration's among them.
    const names = fs.readdirSync(path.join(cache, VERSIONED));
    expect(names).toHaveLength(cold.stats.written);
    expect(names.every((n) => /^[0-9a-f]{64}$/.test(n))).toBe(true);
    const environments = path.join(DIST, "..", "config", "environments.js");
    expect(names).toContain(entryName(environments, fs.readFileSync(environments, "utf8")));
  });

  it("an edited module is compiled again, never given the code of its old source (same length, same name)", () => {
    const dir = tempDir("zh-startup-");
    const mod = path.join(dir, "m.js");
    const code = `console.log(require(${JSON.stringify(mod)}).value)`;
    fs.writeFileSync(mod, 'exports.value = "one";');
    expect(withCache(dir, code)).toEqual({ out: "one\n", stats: { fromCache: 0, compiled: 1, rejected: 0, written: 1 } });
    expect(withCache(dir, code)).toEqual({ out: "one\n", stats: { fromCache: 1, compiled: 0, rejected: 0, written: 0 } });
    fs.writeFileSync(mod, 'exports.value = "two";');
    expect(withCache(dir, code)).toEqual({ out: "two\n", stats: { fromCache: 0, compiled: 1, rejected: 0, written: 1 } });
    expect(fs.readdirSync(path.join(dir, VERSIONED)).sort()).toEqual(
      [entryName(mod, 'exports.value = "one";'), entryName(mod, 'exports.value = "two";')].sort(),
    );
  });

  it("the same source in two checkouts sharing the cache: each its own entry, and a stack trace names the file that ran", () => {
    const dir = tempDir("zh-startup-");
    const source = '"use strict";\nexports.fail = () => { throw new Error("boom"); };';
    const checkouts = ["one", "two with space"].map((c) => path.join(dir, c, "dist", "m.js"));
    for (const file of checkouts) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, source);
    }
    const trace = (file: string) => `try { require(${JSON.stringify(file)}).fail(); } catch (e) { console.log(e.stack.split("\\n")[1].trim()); }`;
    const cache = path.join(dir, "cache");
    expect(withCache(cache, trace(checkouts[0]))).toEqual({ out: `at exports.fail (${checkouts[0]}:2:30)\n`, stats: { fromCache: 0, compiled: 1, rejected: 0, written: 1 } });
    expect(withCache(cache, trace(checkouts[1]))).toEqual({ out: `at exports.fail (${checkouts[1]}:2:30)\n`, stats: { fromCache: 0, compiled: 1, rejected: 0, written: 1 } });
    expect(withCache(cache, trace(checkouts[1]))).toEqual({ out: `at exports.fail (${checkouts[1]}:2:30)\n`, stats: { fromCache: 1, compiled: 0, rejected: 0, written: 0 } });
    expect(fs.readdirSync(path.join(cache, VERSIONED)).sort()).toEqual(checkouts.map((f) => entryName(f, source)).sort());
  });

  it("a V8 flag the run sets (lib/wasm.ts's --liftoff-only): the next run takes every module from the cache, loaded before the flag or after", () => {
    const dir = tempDir("zh-startup-");
    const [before, after] = ["before.js", "after.js"].map((f) => path.join(dir, f));
    fs.writeFileSync(before, "exports.value = 1;");
    fs.writeFileSync(after, "exports.value = 2;");
    const code = `const a = require(${JSON.stringify(before)}).value; require("../lib/wasm").baselineWasm(); console.log(a + require(${JSON.stringify(after)}).value);`;
    const inDist = (c: string) => c.replace('"../lib/wasm"', JSON.stringify(path.join(DIST, "..", "lib", "wasm.js")));
    expect(withCache(dir, inDist(code))).toEqual({ out: "3\n", stats: { fromCache: 0, compiled: 3, rejected: 0, written: 3 } });
    // Without the flag's own entries and the code taken before it, the first module's entry (stamped at exit with the flag) was refused.
    expect(withCache(dir, inDist(code))).toEqual({ out: "3\n", stats: { fromCache: 3, compiled: 0, rejected: 0, written: 0 } });
    // The module loaded after the flag has its entry under the flags set so far; the one before it, the plain name.
    const names = fs.readdirSync(path.join(dir, VERSIONED));
    expect(names).toContain(entryName(before, "exports.value = 1;"));
    expect(names).toContain(sha256(`${after}\0exports.value = 2;\0--liftoff-only`));
    expect(names).not.toContain(entryName(after, "exports.value = 2;"));
  });

  it("an entry V8 refuses (damaged, or another build's) is compiled again and replaced", () => {
    const dir = tempDir("zh-startup-");
    const source = "exports.value = 41 + 1;";
    fs.writeFileSync(path.join(dir, "m.js"), source);
    const entry = path.join(dir, VERSIONED, entryName(path.join(dir, "m.js"), source));
    fs.mkdirSync(path.dirname(entry));
    fs.writeFileSync(entry, "not V8's code");
    const code = `console.log(require(${JSON.stringify(path.join(dir, "m.js"))}).value)`;
    expect(withCache(dir, code)).toEqual({ out: "42\n", stats: { fromCache: 0, compiled: 1, rejected: 1, written: 1 } });
    expect(fs.readFileSync(entry, "utf8")).not.toBe("not V8's code");
    expect(withCache(dir, code).stats).toEqual({ fromCache: 1, compiled: 0, rejected: 0, written: 0 });
  });

  it("a module under $ZIVOHEALTH_COMPILE_CACHE_SKIP (synth-diff's export) is left to Node: no entry read or written; others as before", () => {
    const dir = tempDir("zh-startup-");
    const source = "exports.value = __filename;";
    const [skipped, cached] = [path.join(dir, "export", "sub", "m.js"), path.join(dir, "m.js")];
    fs.mkdirSync(path.dirname(skipped), { recursive: true });
    for (const file of [skipped, cached]) fs.writeFileSync(file, source);
    // An entry for the skipped module that V8 would refuse: read, it would count as rejected.
    fs.mkdirSync(path.join(dir, VERSIONED));
    fs.writeFileSync(path.join(dir, VERSIONED, entryName(skipped, source)), "not V8's code");
    const code = `console.log(require(${JSON.stringify(skipped)}).value, require(${JSON.stringify(cached)}).value)`;
    expect(withCache(dir, code, { ...process.env, [COMPILE_CACHE_SKIP_ENV]: path.join(dir, "export") })).toEqual({
      out: `${skipped} ${cached}\n`,
      stats: { fromCache: 0, compiled: 1, rejected: 0, written: 1 },
    });
    expect(fs.readdirSync(path.join(dir, VERSIONED)).sort()).toEqual([entryName(skipped, source), entryName(cached, source)].sort());
    expect(fs.readFileSync(path.join(dir, VERSIONED, entryName(skipped, source)), "utf8")).toBe("not V8's code");
  });

  it("a folder it cannot make: modules load as Node compiles them, nothing is written, the process ends well", () => {
    const dir = tempDir("zh-startup-");
    fs.writeFileSync(path.join(dir, "file"), "");
    fs.writeFileSync(path.join(dir, "m.js"), "exports.value = __filename;");
    const r = withCache(path.join(dir, "file"), `console.log(require(${JSON.stringify(path.join(dir, "m.js"))}).value)`);
    expect(r).toEqual({ out: `${path.join(dir, "m.js")}\n`, stats: { fromCache: 0, compiled: 1, rejected: 0, written: 0 } });
    expect(fs.readdirSync(dir).sort()).toEqual(["file", "m.js"]);
  });

  it("a module keeps what Node gives it: require relative to it, require.resolve, module, __dirname; one with import() is left to Node", () => {
    const dir = tempDir("zh-startup-");
    fs.mkdirSync(path.join(dir, "sub"));
    fs.writeFileSync(path.join(dir, "sub", "dep.json"), '{"n": 7}');
    fs.writeFileSync(
      path.join(dir, "sub", "m.js"),
      [
        'exports.n = require("./dep.json").n;',
        'exports.resolved = require.resolve("./dep.json");',
        "exports.same = module.exports === exports && require.main === process.mainModule && module.filename === __filename;",
        "exports.dir = __dirname;",
      ].join("\n"),
    );
    fs.writeFileSync(path.join(dir, "sub", "esm.js"), 'exports.sep = import("node:path").then((p) => p.sep);');
    const code = `const m = require(${JSON.stringify(path.join(dir, "sub", "m.js"))});
      require(${JSON.stringify(path.join(dir, "sub", "esm.js"))}).sep.then((sep) => console.log(JSON.stringify({ ...m, sep })));`;
    const expected = { n: 7, resolved: path.join(dir, "sub", "dep.json"), same: true, dir: path.join(dir, "sub"), sep: "/" };
    for (const fromCache of [0, 1]) {
      const r = withCache(dir, code);
      expect(JSON.parse(r.out)).toEqual(expected);
      expect(r.stats).toEqual({ fromCache, compiled: 1 - fromCache, rejected: 0, written: 1 - fromCache });
    }
  });

  it("every module of dist/ can take an entry: none starts with #! or matches the dynamic-import test (a comment can)", () => {
    const DIST_ROOT = path.join(ROOT, "dist");
    const files = (fs.readdirSync(DIST_ROOT, { recursive: true }) as string[]).filter((f) => f.endsWith(".js"));
    expect(files).toContain(path.join("stacks", "compile-cache.js"));
    expect(files.length).toBeGreaterThan(50);
    const leftToNode = files.filter((f) => {
      const text = fs.readFileSync(path.join(DIST_ROOT, f), "utf8");
      return text.startsWith("#!") || DYNAMIC_IMPORT.test(text);
    });
    expect(leftToNode).toEqual([]);
  });

  it("an entry in use keeps its place: read 10 minutes or more after it was written or last marked, it is marked used (pruning takes the unused first)", () => {
    const dir = tempDir("zh-startup-");
    const modules = { recent: "exports.value = 1;", old: "exports.value = 2;" };
    for (const [name, source] of Object.entries(modules)) fs.writeFileSync(path.join(dir, `${name}.js`), source);
    const code = `console.log(${Object.keys(modules).map((m) => `require(${JSON.stringify(path.join(dir, `${m}.js`))}).value`).join(" + ")})`;
    expect(withCache(dir, code).stats.written).toBe(2);
    const folder = path.join(dir, VERSIONED);
    const entry = (m: keyof typeof modules) => path.join(folder, entryName(path.join(dir, `${m}.js`), modules[m]));
    const unused = path.join(folder, sha256("a module of a folder since removed"));
    fs.writeFileSync(unused, fs.readFileSync(entry("old")));
    const ago = (ms: number) => new Date(Date.now() - ms);
    const mtime = (f: string) => fs.statSync(f).mtimeMs;
    // Used a little while ago, written two hours ago; the unused one written an hour ago.
    fs.utimesSync(entry("recent"), ago(COMPILE_CACHE_TOUCH_AFTER_MS - 60_000), ago(COMPILE_CACHE_TOUCH_AFTER_MS - 60_000));
    fs.utimesSync(entry("old"), ago(2 * 3600_000), ago(2 * 3600_000));
    fs.utimesSync(unused, ago(3600_000), ago(3600_000));
    const recent = mtime(entry("recent"));
    const before = Date.now();

    expect(withCache(dir, code)).toEqual({ out: "3\n", stats: { fromCache: 2, compiled: 0, rejected: 0, written: 0 } });
    expect(mtime(entry("recent"))).toBe(recent); // left as it is: no write at every run
    expect(mtime(entry("old"))).toBeGreaterThanOrEqual(before - 1000);
    // Over the limit with the three, under three quarters of it without one: the unused one goes, the oldest now.
    const sizes = [entry("recent"), entry("old"), unused].map((f) => fs.statSync(f).size);
    expect(pruneCompileCache(folder, sizes[0] + sizes[1] + sizes[2] - 1)).toBe(1);
    expect(fs.readdirSync(folder).sort()).toEqual([path.basename(entry("recent")), path.basename(entry("old"))].sort());
    expect(COMPILE_CACHE_TOUCH_AFTER_MS).toBe(10 * 60_000);
  });

  it("its folder: $ZIVOHEALTH_COMPILE_CACHE, `off` for none, else node_modules/.cache/zivohealth-compile; one subfolder per Node version, architecture and V8 flags", () => {
    // This process is jest's worker, started with V8 flags of its own (tools/test.js): its tag, not a plain node's.
    const own = `${process.version}-${process.arch}-${require("v8").cachedDataVersionTag().toString(16).padStart(8, "0")}`;
    expect(own).toMatch(/^v\d+\.\d+\.\d+-[a-z0-9]+-[0-9a-f]{8}$/);
    expect(compileCacheFolder({ [COMPILE_CACHE_ENV]: "off" })).toBeNull();
    expect(installCompileCache(null)).toBe(false); // off: nothing installed
    expect(compileCacheFolder({ [COMPILE_CACHE_ENV]: "/some/where" })).toBe(path.join("/some/where", own));
    expect(compileCacheFolder({})).toBe(path.join(fs.realpathSync(path.join(ROOT, "node_modules")), ".cache", "zivohealth-compile", own));
  });

  it("a run with other V8 flags (cdktf synth's NODE_OPTIONS=--max-old-space-size=4096, or on the command line) has a folder of its own: alternating with plain runs, every module from the cache", () => {
    const dir = tempDir("zh-startup-");
    const mod = path.join(dir, "m.js");
    fs.writeFileSync(mod, "exports.value = 7;");
    const script = [
      `const cache = require(${JSON.stringify(path.join(DIST, "compile-cache.js"))});`,
      `cache.installCompileCache(cache.compileCacheFolder({ ${COMPILE_CACHE_ENV}: ${JSON.stringify(dir)} }));`,
      `process.on("exit", () => process.stderr.write(JSON.stringify(cache.compileCacheStats())));`,
      `console.log(require(${JSON.stringify(mod)}).value);`,
    ].join("\n");
    const heap = { ...process.env, NODE_OPTIONS: "--max-old-space-size=4096" };
    const run = (nodeArgs: string[], env: NodeJS.ProcessEnv = process.env) => {
      const r = spawnSync(process.execPath, [...nodeArgs, "-e", script], { cwd: ROOT, encoding: "utf8", env });
      expect(r.status).toBe(0);
      expect(r.stdout).toBe("7\n");
      const { folder, fromCache, compiled, rejected } = JSON.parse(r.stderr);
      return { folder: path.relative(dir, folder), fromCache, compiled, rejected };
    };
    const plain = VERSIONED;
    const flagged = `${process.version}-${process.arch}-${tagOf([], heap)}`;
    expect(flagged).not.toBe(plain);
    expect(tagOf(["--max-old-space-size=4096"])).toBe(tagOf([], heap)); // the same flags, either way given
    const cold = { fromCache: 0, compiled: 1, rejected: 0 };
    const warm = { fromCache: 1, compiled: 0, rejected: 0 };
    expect(run([])).toEqual({ folder: plain, ...cold });
    expect(run([], heap)).toEqual({ folder: flagged, ...cold });
    // Before, one folder: each switch had V8 refuse the entry (rejected 1) and write it again.
    expect(run([])).toEqual({ folder: plain, ...warm });
    expect(run(["--max-old-space-size=4096"])).toEqual({ folder: flagged, ...warm });
    expect(run([], heap)).toEqual({ folder: flagged, ...warm });
    expect(fs.readdirSync(dir).filter((f) => f !== "m.js").sort()).toEqual([plain, flagged].sort());
  });

  it("pruning: past the limit in bytes the oldest entries go, down to three quarters; others' files and a fresh half-written one stay", () => {
    const dir = tempDir("zh-startup-");
    const now = Date.now();
    const names = Array.from({ length: 10 }, (_, i) => sha256(String(i)));
    names.forEach((n, i) => {
      fs.writeFileSync(path.join(dir, n), "x".repeat(100));
      fs.utimesSync(path.join(dir, n), new Date(now - (10 - i) * 60_000), new Date(now - (10 - i) * 60_000));
    });
    fs.writeFileSync(path.join(dir, "README"), "someone else's".repeat(100));
    fs.writeFileSync(path.join(dir, `${names[0]}.123.tmp`), "half");
    fs.writeFileSync(path.join(dir, `${names[1]}.456.tmp`), "half, old");
    fs.utimesSync(path.join(dir, `${names[1]}.456.tmp`), new Date(now - 2 * 3600_000), new Date(now - 2 * 3600_000));

    expect(pruneCompileCache(dir, 1000, now)).toBe(1); // 1,000 bytes of entries: at the limit, kept; the old .tmp goes
    expect(pruneCompileCache(dir, 999, now)).toBe(3); // over it: the 3 oldest go (700 <= 3/4 of 999)
    expect(fs.readdirSync(dir).sort()).toEqual([...names.slice(3), "README", `${names[0]}.123.tmp`].sort());
    expect(pruneCompileCache(dir, 999, now)).toBe(0);
    expect(COMPILE_CACHE_MAX_BYTES).toBe(64 * 2 ** 20);
  });

  it("pruning holds the limit for the cache's subfolders together: another Node version's and another set of flags' oldest entries go first, a subfolder left empty goes; other folders are left alone", () => {
    const base = tempDir("zh-startup-");
    const now = Date.now();
    const entries = (folder: string, count: number, minutesAgo: number) => {
      fs.mkdirSync(path.join(base, folder));
      return Array.from({ length: count }, (_, i) => {
        const file = path.join(base, folder, sha256(`${folder}${i}`));
        fs.writeFileSync(file, "x".repeat(100));
        fs.utimesSync(file, new Date(now - (minutesAgo + i) * 60_000), new Date(now - (minutesAgo + i) * 60_000));
        return file;
      });
    };
    const current = entries("v20.20.2-x64-c3583e1f", 4, 1); // in use: the newest
    const flagged = entries("v20.20.2-x64-779d9603", 2, 30);
    const unflagged = entries("v20.20.2-x64", 2, 600); // as the cache named its folders before V8's flags
    const older = entries("v18.20.0-x64-0a1b2c3d", 2, 6000);
    const notOurs = entries("notes", 2, 9000);
    fs.mkdirSync(path.join(base, "v16.0.0-x64")); // empty, named like one, but no entry of it pruned: it stays
    // 10 entries of 100 bytes in the subfolders (the other folder not counted); over 999: down to 700.
    expect(pruneCompileCache(path.join(base, "v20.20.2-x64-c3583e1f"), 999, now)).toBe(3);
    expect(older.some((f) => fs.existsSync(f))).toBe(false);
    expect(fs.existsSync(path.join(base, "v18.20.0-x64-0a1b2c3d"))).toBe(false); // left empty: gone
    expect(unflagged.map((f) => fs.existsSync(f))).toEqual([true, false]); // the older of the two
    expect([...current, ...flagged].every((f) => fs.existsSync(f))).toBe(true);
    expect(notOurs.every((f) => fs.existsSync(f))).toBe(true);
    expect(fs.readdirSync(base).sort()).toEqual(["notes", "v16.0.0-x64", "v20.20.2-x64", "v20.20.2-x64-779d9603", "v20.20.2-x64-c3583e1f"]);
    // A folder not named as a subfolder prunes itself alone.
    expect(pruneCompileCache(path.join(base, "notes"), 0, now)).toBe(2);
    expect(fs.readdirSync(base).sort()).toEqual(["notes", "v16.0.0-x64", "v20.20.2-x64", "v20.20.2-x64-779d9603", "v20.20.2-x64-c3583e1f"]);
  });
});

describe("deferred requires", () => {
  const load = (code: string) => {
    const script = `require(${JSON.stringify(path.join(DIST, "deferred-requires.js"))}).installDeferredRequires();\n${code}`;
    const r = spawnSync(process.execPath, ["-e", script], { cwd: ROOT, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    return JSON.parse(r.stdout);
  };
  const loaded = `Object.keys(require.cache).filter((f) => /[\\\\/]node_modules[\\\\/](archiver|semver)[\\\\/]/.test(f)).map((f) => f.match(/node_modules[\\\\/](archiver|semver)/)[1]).filter((v, i, a) => a.indexOf(v) === i).sort()`;

  it("are archiver from cdktf's file helpers and semver from its binary version check", () => {
    expect(DEFERRED_REQUIRES).toEqual([
      { request: "archiver", from: "cdktf/lib/private/fs.js" },
      { request: "semver", from: "cdktf/lib/validations/validate-binary-version.js" },
    ]);
  });

  it("require('cdktf') loads neither; an archive asset is zipped (in cdktf's own child process), a version check loads and uses the real semver", () => {
    const dir = tempDir("zh-startup-");
    fs.mkdirSync(path.join(dir, "files"));
    fs.writeFileSync(path.join(dir, "files", "a.txt"), "hello");
    const out = load(`
      const { App, TerraformStack, TerraformAsset, AssetType } = require("cdktf");
      const { ValidateBinaryVersion } = require("cdktf/lib/validations/validate-binary-version");
      const before = ${loaded};
      const app = new App({ outdir: ${JSON.stringify(path.join(dir, "out"))} });
      const stack = new TerraformStack(app, "s");
      const asset = new TerraformAsset(stack, "files", { path: ${JSON.stringify(path.join(dir, "files"))}, type: AssetType.ARCHIVE });
      app.synth();
      const zip = require("fs").readFileSync(require("path").join(${JSON.stringify(path.join(dir, "out", "stacks", "s"))}, asset.path));
      const ok = new ValidateBinaryVersion("node", ">=20", "node --version").validate();
      const low = new ValidateBinaryVersion("node", ">=999", "node --version").validate();
      console.log(JSON.stringify({ before, after: ${loaded}, zip: zip.subarray(0, 4).toString("hex"), zipHasFile: zip.includes("a.txt"), ok, low }));
    `);
    expect(out).toEqual({
      before: [],
      after: ["semver"],
      zip: "504b0304",
      zipHasFile: true,
      ok: [],
      low: [`node version ${process.version.slice(1)} is lower than the required version >=999 for this construct. `],
    });
  });

  it("without them installed, require('cdktf') loads both (what the floor of the benchmark pays)", () => {
    const r = spawnSync(process.execPath, ["-e", `require("cdktf"); console.log(JSON.stringify(${loaded}))`], { cwd: ROOT, encoding: "utf8" });
    expect(JSON.parse(r.stdout)).toEqual(["archiver", "semver"]);
  });
});

describe("creation records (stacks/creation-records.ts)", () => {
  it("cdktf's records of where a token was made are formatted at their first read, every frame, in cdktf's own lines", () => {
    const script = `
      require(${JSON.stringify(path.join(DIST, "creation-records.js"))}).installLazyCreationRecords();
      const { Lazy } = require("cdktf");
      let formatted = 0;
      const v8 = Error.prepareStackTrace;
      Error.prepareStackTrace = (target, frames) => (formatted++, ["Error", ...frames.map((f) => "    at " + f)].join("\\n"));
      const deep = (n) => (n === 0 ? Lazy.anyValue({ produce: () => "x" }) : deep(n - 1));
      const token = deep(40);
      const before = formatted;
      const lines = token.creationStack.slice();
      console.log(JSON.stringify({ before, after: formatted, frames: lines.length, first: lines[0], deep: lines.filter((l) => l.startsWith("deep ")).length, array: Array.isArray(token.creationStack), again: token.creationStack.join("|") === lines.join("|") && formatted === 1 }));
    `;
    const r = spawnSync(process.execPath, ["-e", script], { cwd: ROOT, encoding: "utf8" });
    expect(r.stderr).toBe("");
    const out = JSON.parse(r.stdout);
    expect(out).toEqual({ before: 0, after: 1, frames: expect.any(Number), first: expect.stringMatching(/^new LazyBase \(.*node_modules\/cdktf\/lib\/tokens\/lazy\.js:\d+:\d+\)$/), deep: 41, array: true, again: true });
    expect(out.frames).toBeGreaterThan(41); // every frame, as cdktf keeps them (V8's default limit is 10)
  });

  it("the app's startup installs it", () => {
    const dir = tempDir("zh-startup-");
    const script = path.join(dir, "app.js");
    fs.writeFileSync(script, `require(${JSON.stringify(path.join(DIST, "startup.js"))});\nconst token = require(${JSON.stringify(require.resolve("cdktf", { paths: [ROOT] }))}).Lazy.anyValue({ produce: () => "x" });\nconsole.log(require("util").types.isProxy(token.creationStack));\n`);
    const r = spawnSync(process.execPath, [script], { cwd: ROOT, encoding: "utf8", env: { ...process.env, ZIVOHEALTH_COMPILE_CACHE: "off" } });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("true\n");
  });
});

describe("where it applies", () => {
  const ENTRIES = [
    ["main.ts", "./stacks/startup"],
    ...["lint-workflows.ts", "migration-check.ts", "policy.ts"].map((f) => [`commands/${f}`, "../stacks/startup"]),
    ...["cdktf", "migrate-state", "plan-check", "synth-diff", "verify"].map((d) => [`commands/${d}/index.ts`, "../../stacks/startup"]),
  ];

  it.each(ENTRIES)("%s imports the startup before anything else", (file, startup) => {
    const first = fs
      .readFileSync(path.join(ROOT, file), "utf8")
      .split("\n")
      .find((l) => l.startsWith("import "));
    expect(first?.replace(/ *\/\/.*$/, "")).toBe(`import "${startup}";`);
  });

  it("every command's entry point is among them", () => {
    const entries = fs
      .readdirSync(path.join(ROOT, "commands"), { withFileTypes: true })
      .map((e) => (e.isDirectory() ? `commands/${e.name}/index.ts` : `commands/${e.name}`))
      .filter((f) => f.endsWith(".ts"))
      .sort();
    expect(ENTRIES.map(([f]) => f).filter((f) => f.startsWith("commands/")).sort()).toEqual(entries);
  });

  it("not in a process a tool started (here, jest's worker): importing it changes no module loading", () => {
    const Module = require("module");
    const [compile, load] = [Module.prototype._compile, Module._load];
    jest.isolateModules(() => require("../stacks/startup"));
    expect(Module.prototype._compile).toBe(compile);
    expect(Module._load).toBe(load);
    expect(path.resolve(process.argv[1]).split(path.sep)).toContain("node_modules");
  });
});
