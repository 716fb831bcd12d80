// bench/code-shape.js (the layout and the longest files and functions, as issue 17's closing note gives them),
// on a small repository made here: what it counts and what it leaves out.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const { codeShape } = require("../bench/code-shape") as {
  codeShape(commit?: string, cwd?: string): {
    folders: Record<string, { files: number; lines: number }>;
    files: { file: string; lines: number; test: boolean }[];
    functions: { file: string; line: number; name: string; lines: number }[];
  };
};

let repo: string;
beforeAll(() => {
  repo = fs.mkdtempSync(path.join(os.tmpdir(), "zh-code-shape-"));
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
    fs.writeFileSync(path.join(repo, file), text);
  };
  write("lib/a.ts", "export class A {\n  constructor() {\n    1;\n  }\n}\nexport function f() {\n  return () => 2;\n}\n");
  write("lib/b.js", "const g = function () {\n  return 3;\n};\n");
  write("__tests__/a.test.ts", "describe('x', () => {\n  it('y', () => {\n    expect(1).toBe(1);\n  });\n});\n");
  write("__tests__/fixtures/big.ts", "x\n".repeat(900));
  write("types/t.d.ts", "declare const t: number;\n");
  write("README.md", "not code\n");
  const git = (...args: string[]) => execFileSync("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@t", ...args]);
  git("init", "-q");
  git("add", ".");
  git("commit", "-qm", "one");
  fs.writeFileSync(path.join(repo, "lib", "a.ts"), "// changed after the commit: not read\n");
});
afterAll(() => fs.rmSync(repo, { recursive: true, force: true }));

it("counts each folder's .ts and .js files and lines at the commit, without fixtures, declarations or other files", () => {
  const shape = codeShape("HEAD", repo);
  expect(shape.folders).toEqual({ lib: { files: 2, lines: 11 }, __tests__: { files: 1, lines: 5 } });
  expect(shape.files).toEqual([
    { file: "lib/a.ts", lines: 8, test: false },
    { file: "__tests__/a.test.ts", lines: 5, test: true },
    { file: "lib/b.js", lines: 3, test: false },
  ]);
});

it("gives the functions by length, named (a constructor by its class, an expression by its variable), test files' callbacks apart", () => {
  expect(codeShape("HEAD", repo).functions).toEqual([
    { file: "lib/a.ts", line: 2, name: "A.constructor", lines: 3 },
    { file: "lib/a.ts", line: 6, name: "f", lines: 3 },
    { file: "lib/b.js", line: 1, name: "g", lines: 3 },
    { file: "lib/a.ts", line: 7, name: "(anonymous)", lines: 1 },
  ]);
});
