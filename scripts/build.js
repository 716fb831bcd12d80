#!/usr/bin/env node
// Fast build for synthesis: transpiles the app's TypeScript to dist/ with SWC,
// only the files whose source is newer than their output. It does not type
// check: `npm test` (tsc) and CI do. Plain JavaScript, so it needs no build itself.
"use strict";
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..");
const outDir = path.join(root, "dist");
const sources = ["main.ts", "config", "modules", "stacks", "policy", "scripts", "validate/lib"];

function* tsFiles(rel) {
  const abs = path.join(root, rel);
  if (!fs.existsSync(abs)) return;
  if (fs.statSync(abs).isFile()) {
    if (rel.endsWith(".ts") && !rel.endsWith(".d.ts")) yield rel;
    return;
  }
  for (const entry of fs.readdirSync(abs)) yield* tsFiles(path.join(rel, entry));
}

const stale = [];
for (const rel of sources.flatMap((s) => [...tsFiles(s)])) {
  const out = path.join(outDir, rel.replace(/\.ts$/, ".js"));
  const outTime = fs.existsSync(out) ? fs.statSync(out).mtimeMs : 0;
  if (fs.statSync(path.join(root, rel)).mtimeMs > outTime) stale.push([rel, out]);
}

if (stale.length > 0) {
  const swc = require("@swc/core");
  for (const [rel, out] of stale) {
    const { code } = swc.transformFileSync(path.join(root, rel), {
      jsc: { parser: { syntax: "typescript" }, target: "es2022" },
      module: { type: "commonjs" },
      sourceMaps: false,
      swcrc: false,
    });
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, code);
  }
}
if (process.argv.includes("--verbose")) console.error(`build: ${stale.length} file(s) transpiled`);
