// tools/build.js (the fast build before every npm run command) transpiles a
// source whose content changed, whatever its modification time says.
import { spawn, spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { tempDir } from "./tmp";

const ROOT = path.join(__dirname, "..");

/** A throw-away project: tools/build.js copied, node_modules linked, and `files` (path → content) written. */
function project(prefix: string, files: Record<string, string>): string {
  const dir = tempDir(prefix);
  fs.mkdirSync(path.join(dir, "tools"));
  fs.copyFileSync(path.join(ROOT, "tools", "build.js"), path.join(dir, "tools", "build.js"));
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

describe("the fast build", () => {
  it("rebuilds a source edited and given its old modification time back, and only what changed", () => {
    const dir = project("zh-build-", { "main.ts": "export const answer: number = 1;\n", "config/a.ts": "export const a = 1;\n" });
    const main = path.join(dir, "main.ts");
    const build = () => {
      const r = spawnSync(process.execPath, [path.join(dir, "tools", "build.js"), "--verbose"], { encoding: "utf8" });
      expect(r.status).toBe(0);
      return r.stderr;
    };
    const built = () => fs.readFileSync(path.join(dir, "dist", "main.js"), "utf8");

    expect(build()).toBe("build: 2 file(s) transpiled\n");
    expect(built()).toContain("answer = 1");
    expect(build()).toBe("build: 0 file(s) transpiled\n");

    // An edit that keeps the old modification time, the output newer than the source.
    const old = fs.statSync(main).mtime;
    fs.writeFileSync(main, "export const answer: number = 2;\n");
    fs.utimesSync(main, old, old);
    expect(fs.statSync(path.join(dir, "dist", "main.js")).mtimeMs).toBeGreaterThan(fs.statSync(main).mtimeMs);
    expect(build()).toBe("build: 1 file(s) transpiled\n");
    expect(built()).toContain("answer = 2");
    expect(Object.keys(JSON.parse(fs.readFileSync(path.join(dir, "dist", ".build-sources.json"), "utf8"))).sort()).toEqual(["config/a.ts", "main.ts"]);
  });

  it("replaces an output whole, never writing into it: a process that opened the old file reads it whole; two builds at once agree", async () => {
    const dir = project("zh-build-whole-", { "main.ts": "export const answer: number = 1;\n", "config/a.ts": "export const a = 1;\n" });
    const dist = (...p: string[]) => path.join(dir, "dist", ...p);
    const build = () =>
      new Promise<number | null>((resolve) => spawn(process.execPath, [path.join(dir, "tools", "build.js")], { stdio: "ignore" }).on("close", resolve));
    expect(await build()).toBe(0);
    // A second name for the old output and manifest: what a process that had them open still reads.
    const held = [dist("main.js"), dist(".build-sources.json")].map((f, n) => {
      const link = path.join(dir, `held-${n}`);
      fs.linkSync(f, link);
      return { file: f, link, text: fs.readFileSync(f, "utf8") };
    });
    fs.writeFileSync(path.join(dir, "main.ts"), `export const answer: number = 2;\n${"// a longer file\n".repeat(200)}`);
    // Two builds of the same edit at once (npm test's two workers, each first to need dist/).
    expect(await Promise.all([build(), build()])).toEqual([0, 0]);
    for (const { file, link, text } of held) {
      expect(fs.readFileSync(link, "utf8")).toBe(text); // written in place, the old file would hold the new text
      expect(fs.statSync(file).ino).not.toBe(fs.statSync(link).ino);
    }
    expect(fs.readFileSync(dist("main.js"), "utf8")).toContain("answer = 2");
    expect(JSON.parse(fs.readFileSync(dist(".build-sources.json"), "utf8"))["main.ts"]).toBe(
      createHash("sha256").update(fs.readFileSync(path.join(dir, "main.ts"))).digest("hex"),
    );
    // Nothing half-written left beside the outputs.
    expect(fs.readdirSync(dist(), { recursive: true }).map(String).sort()).toEqual([".build-sources.json", "config", path.join("config", "a.js"), "main.js"]);
  });

  it("removes what a killed build left (<output>.<pid>.tmp of an ended process, a minute old), nothing else", () => {
    const dir = project("zh-build-killed-", { "main.ts": "export const answer: number = 1;\n", "config/a.ts": "export const a = 1;\n" });
    const dist = (...p: string[]) => path.join(dir, "dist", ...p);
    const build = () => expect(spawnSync(process.execPath, [path.join(dir, "tools", "build.js")]).status).toBe(0);
    build();
    const ended = spawnSync(process.execPath, ["-e", "console.log(process.pid)"], { encoding: "utf8" });
    const dead = Number(ended.stdout.trim());
    expect(() => process.kill(dead, 0)).toThrow(expect.objectContaining({ code: "ESRCH" }));
    const left = [`main.js.${dead}.tmp`, `.build-sources.json.${dead}.tmp`, path.join("config", `a.js.${dead}.tmp`)];
    // Written now (this worker's pid: alive), or not a name the build writes (no such output, not a pid): kept.
    const kept = [`main.js.${process.pid}.tmp`, `other.js.${dead}.tmp`, `main.js.tmp`, `main.js.${dead}.tmp.bak`, path.join("config", `b.js.${dead}.tmp`)];
    for (const f of [...left, ...kept]) fs.writeFileSync(dist(f), "half a file");
    // Younger than a minute: maybe being written by a build whose pid means nothing here (another container's).
    build();
    for (const f of [...left, ...kept]) expect(fs.readFileSync(dist(f), "utf8")).toBe("half a file");
    const minuteAgo = new Date(Date.now() - 61_000);
    for (const f of [...left, ...kept]) fs.utimesSync(dist(f), minuteAgo, minuteAgo);
    build(); // nothing to transpile: the sweep does not wait for a change
    for (const f of left) expect(fs.existsSync(dist(f))).toBe(false);
    for (const f of kept) expect(fs.readFileSync(dist(f), "utf8")).toBe("half a file");
    expect(fs.readFileSync(dist("main.js"), "utf8")).toContain("answer = 1");
  });

  it("a manifest that is not an object (null, an array) is an older dist/: everything is transpiled again", () => {
    const dir = project("zh-build-manifest-", { "main.ts": "export const answer: number = 1;\n" });
    for (const manifest of ["null", "[]"]) {
      fs.mkdirSync(path.join(dir, "dist"), { recursive: true });
      fs.writeFileSync(path.join(dir, "dist", ".build-sources.json"), manifest);
      const r = spawnSync(process.execPath, [path.join(dir, "tools", "build.js"), "--verbose"], { encoding: "utf8" });
      expect([r.status, r.stderr]).toEqual([0, "build: 1 file(s) transpiled\n"]);
    }
  });

  it("a syntax error: SWC's excerpt of the file, no stack trace, exit 2, the manifest unchanged", () => {
    const dir = project("zh-build-syntax-", { "config/environment.ts": "export const ok = 1;\n" });
    const build = () => spawnSync(process.execPath, [path.join(dir, "tools", "build.js")], { encoding: "utf8" });
    expect(build().status).toBe(0);
    const manifest = fs.readFileSync(path.join(dir, "dist", ".build-sources.json"), "utf8");
    fs.writeFileSync(path.join(dir, "config", "environment.ts"), "export const ok = 1;\nexport const broken = {;\n");
    const r = build();
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.split("\n").slice(0, 2)).toEqual([
      "build: config/environment.ts does not compile:",
      "  x Unexpected token `;`. Expected identifier, string literal, numeric literal or [ for the computed key",
    ]);
    expect(r.stderr).toContain(" 2 | export const broken = {;");
    expect(r.stderr).not.toMatch(/\n\s+at |Stack backtrace|Caused by/);
    expect(fs.readFileSync(path.join(dir, "dist", ".build-sources.json"), "utf8")).toBe(manifest);
  });

  it("removes the output of a deleted or renamed source (an import of it must fail), and nothing it did not write", () => {
    const dir = project("zh-build-gone-", {
      "main.ts": 'import { ok } from "./modules/validation";\nconsole.log(ok);\n',
      "modules/validation.ts": "export const ok = 1;\n",
      "modules/kept.ts": "export const kept = 1;\n",
    });
    const build = () => {
      const r = spawnSync(process.execPath, [path.join(dir, "tools", "build.js"), "--verbose"], { encoding: "utf8" });
      expect(r.status).toBe(0);
      return r.stderr;
    };
    const dist = (...p: string[]) => path.join(dir, "dist", ...p);
    expect(build()).toBe("build: 3 file(s) transpiled\n");
    // Not the build's: a file it never wrote, in a folder it writes to.
    fs.writeFileSync(dist("modules", "hand-made.js"), "// not built\n");

    fs.renameSync(path.join(dir, "modules", "validation.ts"), path.join(dir, "modules", "checks.ts"));
    expect(build()).toBe("build: 1 file(s) transpiled, 1 removed (source gone)\n");
    expect(fs.readdirSync(dist("modules")).sort()).toEqual(["checks.js", "hand-made.js", "kept.js"]);
    expect(Object.keys(JSON.parse(fs.readFileSync(dist(".build-sources.json"), "utf8"))).sort()).toEqual(["main.ts", "modules/checks.ts", "modules/kept.ts"]);
    const r = spawnSync(process.execPath, [dist("main.js")], { encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("Cannot find module './modules/validation'");
    expect(build()).toBe("build: 0 file(s) transpiled\n");
  });
});
