#!/usr/bin/env node
// node bench/code-shape.js [<commit>]: the shape of the code at a commit (default HEAD), as issue 17 asked
// for it: each folder's .ts and .js files and lines, the longest files, and the longest functions (the
// TypeScript compiler's own parse: function, method, constructor, arrow and function-expression bodies,
// test files' own callbacks left out). Fixtures, declarations and dotted folders are left out. Read from
// git (one `git cat-file --batch`), so any commit, no checkout of it needed. Plain JavaScript: no build.
"use strict";
const { execFileSync } = require("child_process");
const path = require("path");

/** Folders, files and functions of the TypeScript and JavaScript sources at `commit` of the repository in `cwd`. */
function codeShape(commit = "HEAD", cwd = process.cwd()) {
  const ts = require(require.resolve("typescript", { paths: [cwd, __dirname] }));
  const git = (args, input) => execFileSync("git", ["-C", cwd, ...args], { input, maxBuffer: 1 << 28 });
  const entries = git(["ls-tree", "-r", commit])
    .toString("utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => ({ blob: l.split(/\s+/)[2], file: l.slice(l.indexOf("\t") + 1) }))
    .filter(({ file }) => /\.(ts|js)$/.test(file) && !file.endsWith(".d.ts") && !file.split("/").some((p) => p.startsWith(".") || p === "fixtures" || p === "node_modules"));
  // One process for every blob: "<sha> blob <size>\n<bytes>\n" each.
  const out = git(["cat-file", "--batch"], entries.map((e) => e.blob).join("\n") + "\n");
  let at = 0;
  const folders = {};
  const files = [];
  const functions = [];
  for (const { file } of entries) {
    const header = out.toString("utf8", at, out.indexOf(10, at));
    const size = Number(header.split(" ")[2]);
    const start = out.indexOf(10, at) + 1;
    const text = out.toString("utf8", start, start + size);
    at = start + size + 1;
    const lines = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
    const folder = path.posix.dirname(file);
    folders[folder] ??= { files: 0, lines: 0 };
    folders[folder].files++;
    folders[folder].lines += lines;
    const test = /\.test\.ts$/.test(file);
    files.push({ file, lines, test });
    if (test) continue;
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const visit = (node) => {
      const isFunction = ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isConstructorDeclaration(node) || ts.isArrowFunction(node) || ts.isFunctionExpression(node);
      if (isFunction && node.body) {
        const from = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
        const to = source.getLineAndCharacterOfPosition(node.end).line;
        let name = node.name ? node.name.getText(source) : "";
        if (ts.isConstructorDeclaration(node)) name = `${node.parent.name ? node.parent.name.getText(source) : "(class)"}.constructor`;
        else if (!name && ts.isVariableDeclaration(node.parent)) name = node.parent.name.getText(source);
        functions.push({ file, line: from + 1, name: name || "(anonymous)", lines: to - from + 1 });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  const longest = (a, b) => b.lines - a.lines || a.file.localeCompare(b.file) || (a.line ?? 0) - (b.line ?? 0);
  return { folders, files: files.sort(longest), functions: functions.sort(longest) };
}

module.exports = { codeShape };

if (require.main === module) {
  const commit = process.argv[2] ?? "HEAD";
  const shape = codeShape(commit);
  const sha = execFileSync("git", ["rev-parse", "--short", commit], { encoding: "utf8" }).trim();
  const line = (n, text) => `  ${String(n).padStart(5)}  ${text}`;
  console.log(`${sha}: each folder's .ts and .js files and lines`);
  for (const f of Object.keys(shape.folders).sort()) console.log(`  ${f.padEnd(28)} ${String(shape.folders[f].files).padStart(4)} files ${String(shape.folders[f].lines).padStart(7)} lines`);
  const own = shape.files.filter((f) => !f.test);
  console.log(`the longest files (tests apart; ${own.filter((f) => f.lines > 400).length} over 400 lines):`);
  for (const f of own.slice(0, 6)) console.log(line(f.lines, f.file));
  console.log("the longest test files:");
  for (const f of shape.files.filter((f) => f.test).slice(0, 3)) console.log(line(f.lines, f.file));
  console.log("the longest functions (tests apart):");
  for (const f of shape.functions.slice(0, 6)) console.log(line(f.lines, `${f.file}:${f.line} ${f.name}`));
}
