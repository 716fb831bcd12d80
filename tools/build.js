#!/usr/bin/env node
// Fast build for synthesis: transpiles the app's TypeScript to dist/ with SWC,
// only the files whose content changed since they were last transpiled (a
// sha256 per source in dist/.build-sources.json; not the modification time,
// which an edit can leave older than the output). It does not type check:
// `npm test` (tsc) and CI do. It removes the outputs it wrote whose source is
// gone, and the half-written files of a build that was killed. Plain
// JavaScript, so it needs no build itself.
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..");
const outDir = path.join(root, "dist");
const sources = ["main.ts", "config", "modules", "stacks", "policy", "commands", "lib", "bench", "tools"];

function* tsFiles(rel) {
  const abs = path.join(root, rel);
  if (!fs.existsSync(abs)) return;
  if (fs.statSync(abs).isFile()) {
    if (rel.endsWith(".ts") && !rel.endsWith(".d.ts")) yield rel;
    return;
  }
  for (const entry of fs.readdirSync(abs)) yield* tsFiles(path.join(rel, entry));
}

// Each output is written whole under a name of this process's own, then renamed over the old one: a command
// started meanwhile (another npm run, or npm test's other worker building at the same moment) loads the old
// file or the new one, never half of one.
const writeWhole = (file, text) => {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
};

const manifestFile = path.join(outDir, ".build-sources.json");
/** A source's output in dist/. */
const outOf = (rel) => path.join(outDir, rel.replace(/\.ts$/, ".js"));
let built = {};
try {
  built = JSON.parse(fs.readFileSync(manifestFile, "utf8"));
} catch {
  built = {}; // first build, or an older dist/: everything is transpiled
}
if (built === null || typeof built !== "object" || Array.isArray(built)) built = {}; // not a manifest this build wrote
const stale = [];
const hashes = {};
for (const rel of sources.flatMap((s) => [...tsFiles(s)])) {
  const out = outOf(rel);
  hashes[rel] = crypto.createHash("sha256").update(fs.readFileSync(path.join(root, rel))).digest("hex");
  if (built[rel] !== hashes[rel] || !fs.existsSync(out)) stale.push([rel, out]);
}

// What a build killed between writing and renaming left: `<output>.<pid>.tmp` beside an output this build
// knows, of a process that has ended, a minute old (never loaded: no import names it). A live pid's file may be
// being written; so may a younger one, by a build whose pids are not this one's (another container's).
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === "EPERM"; // another user's process
  }
};
const known = new Map([[outDir, new Set([path.basename(manifestFile)])]]);
// A manifest's name that is absolute or climbs out of dist/ is not this build's (nor is anything beside it).
const inDist = (rel) => /\.ts$/.test(rel) && !path.isAbsolute(rel) && !rel.split(/[\\/]/).includes("..");
for (const rel of [...Object.keys(hashes), ...Object.keys(built).filter(inDist)]) {
  const out = outOf(rel);
  if (!known.has(path.dirname(out))) known.set(path.dirname(out), new Set());
  known.get(path.dirname(out)).add(path.basename(out));
}
for (const [dir, names] of known) {
  let entries = [];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    continue; // not built yet
  }
  for (const entry of entries) {
    const m = /^(.+)\.(\d+)\.tmp$/.exec(entry);
    if (!m || !names.has(m[1]) || Number(m[2]) === process.pid || alive(Number(m[2]))) continue;
    const file = path.join(dir, entry);
    try {
      if (Date.now() - fs.lstatSync(file).mtimeMs > 60_000) fs.rmSync(file, { force: true });
    } catch {
      // gone meanwhile
    }
  }
}

// Outputs this build wrote for a source that is gone (deleted, renamed): a stale
// dist/modules/x.js would still satisfy an import of ./x. Only what the manifest
// lists; anything else in dist/ is not the build's to remove.
const orphans = Object.keys(built)
  .filter((rel) => !(rel in hashes) && inDist(rel))
  .map(outOf);
for (const out of orphans) fs.rmSync(out, { force: true });

if (stale.length > 0) {
  const swc = require("@swc/core");
  for (const [rel, out] of stale) {
    let code;
    try {
      ({ code } = swc.transformFileSync(path.join(root, rel), {
        jsc: { parser: { syntax: "typescript" }, target: "es2022" },
        module: { type: "commonjs" },
        sourceMaps: false,
        swcrc: false,
      }));
    } catch (e) {
      // A syntax error is bad input (exit 2): SWC's own excerpt of the file, without its backtrace and ours.
      const excerpt = String((e && e.message) || e).split(/\n\s*\nCaused by:/)[0].trimEnd();
      process.stderr.write(`build: ${rel} does not compile:\n${excerpt}\n`);
      process.exit(2);
    }
    fs.mkdirSync(path.dirname(out), { recursive: true });
    writeWhole(out, code);
  }
}
// Written last: an interrupted build transpiles (and removes) the rest next time.
if (stale.length > 0 || orphans.length > 0) writeWhole(manifestFile, JSON.stringify(hashes, null, 1));
if (process.argv.includes("--verbose")) {
  console.error(`build: ${stale.length} file(s) transpiled${orphans.length ? `, ${orphans.length} removed (source gone)` : ""}`);
}
