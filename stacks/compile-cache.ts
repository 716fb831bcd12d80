// The app's compile cache. Past `require("cdktf")`, most of the app's start is V8
// parsing and compiling the provider bindings (4.9 MB of JavaScript) and the
// functions that run. Node 22 keeps that code between runs
// (module.enableCompileCache); Node 20, which this project runs on, does not, so
// the app keeps it here: each module's code, taken after the run so it holds
// the functions that ran, not only the top level (why v8-compile-cache, which
// caches right after compiling, saved nothing here).
//
// An entry is named by the sha256 of the module's absolute path and source, so an
// edited file never gets stale code, and a checkout sharing node_modules (and so
// the cache) never gets another checkout's code for the same source: V8's code
// keeps the file name it was compiled under, and stack traces would name the
// other checkout's file. It is written whole by rename, so a run beside it never reads
// half of one. Anything that goes wrong (no folder, not writable, an entry V8
// refuses) means compiling as Node does; output never depends on the cache.
import * as crypto from "crypto";
import * as fs from "fs";
import Module from "module";
import * as path from "path";
import * as vm from "vm";

/** The environment variable that names the cache's folder, or `off`. */
export const COMPILE_CACHE_ENV = "ZIVOHEALTH_COMPILE_CACHE";
/**
 * The environment variable that names a folder whose modules are left to Node: no entry read or
 * written. synth-diff sets it to its export, a folder at a new path each run and removed after it:
 * an entry names its module's path, so its entries would never be read again, only fill the cache.
 */
export const COMPILE_CACHE_SKIP_ENV = "ZIVOHEALTH_COMPILE_CACHE_SKIP";
/**
 * Bytes kept, over all the cache's subfolders; past this the oldest entries go. The app's own are about 7.5 MB (450 modules); a
 * program that loads the whole AWS provider from its root (1,500 modules) would add about 180 MB.
 */
export const COMPILE_CACHE_MAX_BYTES = 64 * 2 ** 20;
/**
 * An entry used this long after it was written or last marked used is marked used again (its
 * modification time set to now), so pruning, oldest first, takes the entries no run uses any more
 * (those of a folder since removed: a synth-diff export, a test's copy) before those every run uses.
 */
export const COMPILE_CACHE_TOUCH_AFTER_MS = 10 * 60_000;

export interface CompileCacheStats {
  /** The folder in use, or null when the cache is off. */
  folder: string | null;
  /** Modules whose code came from the cache. */
  fromCache: number;
  /** Modules compiled (no entry, or V8 refused it). */
  compiled: number;
  /** Entries V8 refused (another Node version's, or damaged); compiled instead. */
  rejected: number;
  /** Entries written when the process ended. */
  written: number;
}

const stats: CompileCacheStats = { folder: null, fromCache: 0, compiled: 0, rejected: 0, written: 0 };
const ENTRY = /^[0-9a-f]{64}$/;
/**
 * A module whose text matches is left to Node (a dynamic import needs Node's own loader). A rough test:
 * it matches comments and strings too, which costs that module its entry, never its correctness.
 */
export const DYNAMIC_IMPORT = /\bimport\s*\(/;

/** What the cache did in this process so far. */
export function compileCacheStats(): CompileCacheStats {
  return { ...stats };
}

/**
 * The cache's folder: `$ZIVOHEALTH_COMPILE_CACHE` (`off`: none), else `.cache/zivohealth-compile`
 * in the node_modules that holds cdktf, as jest keeps its own cache there; one subfolder per
 * Node version, architecture and V8 flags, whose code V8 would refuse from another. The flags are
 * V8's own tag for them (`v8.cachedDataVersionTag()`): `cdktf synth` starts the app with
 * NODE_OPTIONS=--max-old-space-size=4096, `npm run synth` without; in one folder each switch
 * had every entry refused and rewritten.
 */
export function compileCacheFolder(env: NodeJS.ProcessEnv = process.env): string | null {
  const setting = env[COMPILE_CACHE_ENV];
  if (setting === "off") return null;
  let base: string;
  if (setting) {
    base = path.resolve(setting);
  } else {
    let dir: string;
    try {
      dir = path.dirname(require.resolve("cdktf"));
    } catch {
      return null;
    }
    while (path.basename(dir) !== "node_modules") {
      if (path.dirname(dir) === dir) return null;
      dir = path.dirname(dir);
    }
    base = path.join(dir, ".cache", "zivohealth-compile");
  }
  const tag = (require("v8") as typeof import("v8")).cachedDataVersionTag().toString(16).padStart(8, "0");
  return path.join(base, `${process.version}-${process.arch}-${tag}`);
}

interface CompilingModule {
  exports: unknown;
  require(id: string): unknown;
}
type Compile = (this: CompilingModule, content: string, filename: string) => unknown;
const ModuleInternals = Module as unknown as {
  prototype: { _compile: Compile };
  _resolveFilename(request: string, parent: unknown, isMain: boolean, options?: unknown): string;
  _resolveLookupPaths(request: string, parent: unknown): string[] | null;
  _extensions: unknown;
  _cache: unknown;
};

let installed = false;

/**
 * From now on, every CommonJS module this process loads compiles from the cache and, when it was
 * not there, is added to it when the process ends. Once per process; false when the cache is off.
 */
export function installCompileCache(folder: string | null = compileCacheFolder()): boolean {
  if (installed || folder === null) return false;
  installed = true;
  stats.folder = folder;
  const original = ModuleInternals.prototype._compile;
  const skip = skippedFolder(process.env[COMPILE_CACHE_SKIP_ENV]);
  const pending: Array<{ script: vm.Script; file: string; code?: Buffer }> = [];
  // V8 stamps its flags on the code it caches and refuses code stamped with others. A flag set during
  // the run (lib/wasm.ts) would stamp every entry written at exit, and the next run would refuse the
  // modules it loads before setting it. So their code is taken before the flag changes, and a module
  // loaded after it has its own entry, named with the flags set so far.
  let flags = "";
  const v8 = require("v8") as { setFlagsFromString(flags: string): void }; // the module itself, not a copy
  const setFlags = v8.setFlagsFromString;
  v8.setFlagsFromString = (set: string) => {
    for (const p of pending) p.code ??= p.script.createCachedData();
    flags += `\0${set}`;
    setFlags(set);
  };

  ModuleInternals.prototype._compile = function (this: CompilingModule, content: string, filename: string) {
    // Left to Node: a hashbang line is not valid inside the wrapper, and a dynamic import needs
    // the loader Node gives its own compiles (vm's stand-in for it warns, as experimental, on Node 20).
    if (content.startsWith("#!") || DYNAMIC_IMPORT.test(content) || (skip !== undefined && filename.startsWith(skip))) {
      return original.call(this, content, filename);
    }
    const file = path.join(folder, compileCacheKey(filename, content, flags));
    let cachedData: Buffer | undefined;
    try {
      cachedData = readEntry(file);
    } catch {
      cachedData = undefined;
    }
    const script = new vm.Script(Module.wrap(content), { filename, cachedData });
    if (cachedData && !script.cachedDataRejected) {
      stats.fromCache++;
    } else {
      if (cachedData) stats.rejected++;
      stats.compiled++;
      pending.push({ script, file });
    }
    const wrapper = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => unknown;
    return wrapper.call(this.exports, this.exports, requireFor(this), this, filename, path.dirname(filename));
  };

  process.once("exit", () => {
    if (pending.length === 0) return;
    try {
      fs.mkdirSync(folder, { recursive: true });
    } catch {
      return;
    }
    for (const { script, file, code } of pending) {
      const tmp = `${file}.${process.pid}.tmp`;
      try {
        fs.writeFileSync(tmp, code ?? script.createCachedData());
        fs.renameSync(tmp, file);
        stats.written++;
      } catch {
        fs.rmSync(tmp, { force: true });
      }
    }
    pruneCompileCache(folder);
  });
  return true;
}

/** `$ZIVOHEALTH_COMPILE_CACHE_SKIP` as a prefix of module file names (real paths, as Node gives them), or undefined. */
function skippedFolder(setting: string | undefined): string | undefined {
  if (!setting) return undefined;
  let dir = path.resolve(setting);
  try {
    dir = fs.realpathSync(dir);
  } catch {
    // not there (yet): its path as given
  }
  return dir.endsWith(path.sep) ? dir : dir + path.sep;
}

/** An entry's bytes; marked used when it was last COMPILE_CACHE_TOUCH_AFTER_MS ago or more (not ours to mark: left as it is). */
function readEntry(file: string, now: number = Date.now()): Buffer {
  const fd = fs.openSync(file, "r");
  try {
    const { size, mtimeMs } = fs.fstatSync(fd);
    const data = Buffer.allocUnsafe(size);
    let read = 0;
    while (read < size) {
      const n = fs.readSync(fd, data, read, size - read, read);
      if (n === 0) break; // shorter than it said: V8 refuses what is left
      read += n;
    }
    if (now - mtimeMs >= COMPILE_CACHE_TOUCH_AFTER_MS) {
      try {
        fs.futimesSync(fd, now / 1000, now / 1000);
      } catch {
        // another user's cache, or a read-only one: pruning order only
      }
    }
    return read === size ? data : data.subarray(0, read);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * An entry's name: the sha256 of the module's absolute file name and its source, and of the V8 flags the
 * process had set when it loaded the module (each after a NUL), if it had set any.
 */
export function compileCacheKey(filename: string, content: string, flags = ""): string {
  return crypto.createHash("sha256").update(filename).update("\0").update(content).update(flags).digest("hex");
}

/** The `require` Node gives a module (lib/internal/modules/helpers makeRequireFunction). */
function requireFor(mod: CompilingModule): NodeJS.Require {
  const req = ((id: string) => mod.require(id)) as NodeJS.Require;
  const resolve = ((request: string, options?: unknown) => ModuleInternals._resolveFilename(request, mod, false, options)) as NodeJS.RequireResolve;
  resolve.paths = (request: string) => ModuleInternals._resolveLookupPaths(request, mod);
  req.resolve = resolve;
  req.main = process.mainModule;
  req.extensions = ModuleInternals._extensions as NodeJS.Require["extensions"];
  req.cache = ModuleInternals._cache as NodeJS.Require["cache"];
  return req;
}

/** A subfolder of the cache: Node version, architecture and V8's flag tag (before the tag, without it). */
const SUBFOLDER = /^v\d+\.\d+\.\d+-[a-z0-9]+(?:-[0-9a-f]{8})?$/;

/**
 * Past `maxBytes` of entries, removes the oldest (by modification time) down to three quarters of
 * it, and any half-written file an interrupted run left over an hour ago. When `folder` is one of the
 * cache's subfolders, the limit holds for it and its sibling subfolders together (another Node
 * version's, another set of flags'): their unused entries are the oldest and go first, and a sibling
 * left empty goes too. Only this cache's own names (64 hexadecimal digits, or that plus
 * `.<pid>.tmp`, in folders named as above) are touched. Returns how many entries it removed.
 */
export function pruneCompileCache(folder: string, maxBytes: number = COMPILE_CACHE_MAX_BYTES, now: number = Date.now()): number {
  let siblings: string[] = [];
  if (SUBFOLDER.test(path.basename(folder))) {
    try {
      const base = path.dirname(folder);
      siblings = fs
        .readdirSync(base)
        .filter((n) => SUBFOLDER.test(n) && n !== path.basename(folder))
        .map((n) => path.join(base, n));
    } catch {
      // no base to read: this folder alone
    }
  }
  const doomed: string[] = [];
  const entries: Array<{ file: string; mtime: number; size: number }> = [];
  let total = 0;
  for (const dir of [folder, ...siblings]) {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const tmp = /^([0-9a-f]{64})\.\d+\.tmp$/.test(name);
      if (!tmp && !ENTRY.test(name)) continue;
      const file = path.join(dir, name);
      let stat: fs.Stats;
      try {
        stat = fs.statSync(file);
      } catch {
        continue;
      }
      if (tmp) {
        if (now - stat.mtimeMs > 3600_000) doomed.push(file);
      } else {
        entries.push({ file, mtime: stat.mtimeMs, size: stat.size });
        total += stat.size;
      }
    }
  }
  if (total > maxBytes) {
    entries.sort((a, b) => a.mtime - b.mtime || (a.file < b.file ? -1 : 1));
    for (const e of entries) {
      if (total <= (maxBytes * 3) / 4) break;
      doomed.push(e.file);
      total -= e.size;
    }
  }
  let removed = 0;
  const emptied = new Set<string>();
  for (const file of doomed) {
    try {
      fs.rmSync(file);
      removed++;
      emptied.add(path.dirname(file));
    } catch {
      // gone already (another run pruned it)
    }
  }
  // A sibling this pruning took entries from, if nothing is left in it; an empty folder it found stays.
  for (const dir of siblings.filter((d) => emptied.has(d))) {
    try {
      fs.rmdirSync(dir); // only when empty
    } catch {
      // entries left, or another file of someone's: kept
    }
  }
  return removed;
}
