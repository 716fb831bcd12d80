// Piping a command's output into a reader that goes away (`| true`, `| head`)
// must not crash it with EPIPE: the real commands, compiled as npm runs them.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildDist } from "./processes";

const ROOT = path.join(__dirname, "..");
const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

let cwd: string;
beforeAll(() => {
  buildDist();
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), "zh-pipe-"));
});
afterAll(() => fs.rmSync(cwd, { recursive: true, force: true }));

/** Runs `node <args> | <reader>` in bash; the node process's exit code and stderr. */
function piped(args: string[], reader: string) {
  const command = `${quote(process.execPath)} ${args.map(quote).join(" ")} | ${reader}; exit "\${PIPESTATUS[0]}"`;
  const r = spawnSync("bash", ["-c", command], { cwd, encoding: "utf8" });
  return { status: r.status, stderr: r.stderr };
}

const dist = (rel: string) => path.join(ROOT, "dist", rel);

// The reader exits before the command writes (each one synthesizes first).
// policy stands for every command on processIo (migration-check too); the app writes on its own.
test.each([
  ["npm run policy -- --json --blocking high (its exit code 1 kept)", [dist("commands/policy.js"), "--json", "--blocking", "high"], 1],
  ["npm run synth", [dist("main.js")], 0],
])("%s | true: its own exit code, nothing on stderr", (_name, args, code) => {
  expect(piped(args as string[], "true")).toEqual({ status: code, stderr: "" });
});
