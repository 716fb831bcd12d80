// What a user without the rights meets, run for real: the app with a read-only cdktf.out, and the cdktf
// wrapper with a TMPDIR it cannot write. Permissions do not stop root, so where this tier runs as root (as CI
// does) each command runs as nobody (setpriv); otherwise as this user. The unit tests cover the same paths
// with a file or a folder in the way (app.test.ts, cdktf-tmp.test.ts); this is where EACCES itself is seen.
// Linux only (setpriv, /proc); said as a skip where it cannot run.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildDist } from "../__tests__/processes";
import { tempDir } from "../__tests__/tmp";

const ROOT = path.resolve(__dirname, "..");
const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;
const AS = asRoot ? ["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups"] : [];

/** `node <args>` as the unprivileged user, in `cwd`. */
function runNode(args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  const [bin, ...rest] = [...AS, process.execPath, ...args];
  return spawnSync(bin, rest, { cwd, env: { ...process.env, CHECKPOINT_DISABLE: "1", ...env }, encoding: "utf8", timeout: 60_000 });
}

// Why it cannot run here, if it cannot: no setpriv as root, or nobody cannot read this checkout (a private home).
const unavailable = ((): string | undefined => {
  if (process.platform !== "linux") return `not Linux (${process.platform})`;
  if (!asRoot) return undefined;
  const probe = spawnSync("setpriv", [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", process.execPath, "-e", `require("fs").accessSync(${JSON.stringify(path.join(ROOT, "package.json"))}, 4)`], { encoding: "utf8" });
  if (probe.error) return `setpriv cannot run: ${probe.error.message}`;
  if (probe.status !== 0) return `nobody (uid ${NOBODY}) cannot read ${ROOT}: ${probe.stderr.trim().split("\n").pop()}`;
  return undefined;
})();

const describeHere = unavailable ? describe.skip : describe;

describeHere(`as a user who cannot write (${asRoot ? `nobody, uid ${NOBODY}, via setpriv` : "this user"})${unavailable ? ` (SKIPPED: ${unavailable})` : ""}`, () => {
  // The run's temporary folder (tmpdir-setup.js) is mode 0700: nobody may pass through it while these run.
  const runDir = os.tmpdir();
  let mode = 0;
  beforeAll(() => {
    buildDist();
    mode = fs.statSync(runDir).mode & 0o7777;
    if (asRoot) fs.chmodSync(runDir, mode | 0o011);
  });
  afterAll(() => {
    if (asRoot) fs.chmodSync(runDir, mode);
  });

  /** A folder of the test's, which the unprivileged user may enter but not write. */
  const folder = () => {
    const dir = tempDir("zh-unprivileged-");
    fs.chmodSync(dir, 0o755);
    return dir;
  };

  it("the app (npm run synth) with a read-only cdktf.out: exit 2, the folder named in one line, nothing written", () => {
    const dir = folder();
    fs.mkdirSync(path.join(dir, "cdktf.out"), { mode: 0o555 });
    fs.chmodSync(path.join(dir, "cdktf.out"), 0o555);
    try {
      const r = runNode([path.join(ROOT, "dist", "main.js")], dir, {});
      expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
        status: 2,
        stdout: "",
        stderr: "cannot write cdktf.out: permission denied; make it writable (or remove it) and synthesize again\n",
      });
      expect(fs.readdirSync(path.join(dir, "cdktf.out"))).toEqual([]);
      expect(fs.readdirSync(dir)).toEqual(["cdktf.out"]);
    } finally {
      fs.chmodSync(path.join(dir, "cdktf.out"), 0o755);
    }
  });

  it("the cdktf wrapper with a TMPDIR it cannot write: exit 2 before the CLI starts, the TMPDIR named as set, nothing made there", () => {
    const dir = folder();
    const tmp = path.join(dir, "tmp");
    fs.mkdirSync(tmp);
    fs.chmodSync(tmp, 0o555);
    try {
      const r = runNode([path.join(ROOT, "dist", "commands", "cdktf", "index.js"), "--version"], ROOT, { TMPDIR: tmp });
      expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
        status: 2,
        stdout: "", // the CLI would print its version
        stderr: `error: cannot make a temporary folder in TMPDIR ${tmp}: permission denied (EACCES); set TMPDIR to a folder you can write\n`,
      });
      expect(fs.readdirSync(tmp)).toEqual([]);
    } finally {
      fs.chmodSync(tmp, 0o755);
    }
  });
});
