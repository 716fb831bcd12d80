// A command's own output folder (plan-check's, migrate-state's): it writes
// only into a folder it created, or one that holds its marker; it refuses,
// before writing anything, any other folder (the checkout, a folder that holds
// or sits inside an input, a source folder, cdktf.out/stacks, a file). One run
// at a time per folder (a lock naming its holder); private permissions; and on
// a failure or an interrupt (SIGINT, SIGTERM) it removes only what this run
// made, stopping the child processes it started first.
//
//   const w = openWorkdir({ tool: "plan-check", dir, checkout, inputs, owned, keep, stderr });
//   const r = await w.run("terraform", ["plan"], { cwd, env, timeoutMs });  // stopped on an interrupt
//   w.finish();           // success: files stay, private; the lock goes
//   w.abort();            // failure: what this run made goes; returns what was removed
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { acquireLock } from "./lock";
import { ChildResult, FORMAT, LOCK, MARKER, Workdir, WorkdirError, WorkdirOptions } from "./options";
import { fileSystemMessage, realPath, refusal } from "./refusal";
import { OpenRun, openRuns, privateUmask, watchSignals } from "./signals";

export * from "./options";
export { fileSystemMessage, realPath, refusal } from "./refusal";

// ---------------------------------------------------------------- the folder

/** Removes `p`, but for the `keep` paths under it (relative `rel`). */
function clearExcept(p: string, rel: string, keep: readonly string[]): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    return;
  }
  if (keep.includes(rel)) return;
  if (!st.isDirectory() || !keep.some((k) => k.startsWith(`${rel}/`))) {
    fs.rmSync(p, { recursive: true, force: true });
    return;
  }
  for (const entry of fs.readdirSync(p)) clearExcept(path.join(p, entry), `${rel}/${entry}`, keep);
}

/** Group and other permissions off, everywhere under `p` (symbolic links are not followed). */
function makePrivate(p: string): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    return;
  }
  if (st.isSymbolicLink()) return;
  if (st.mode & 0o077) fs.chmodSync(p, st.mode & 0o7700);
  if (st.isDirectory()) for (const entry of fs.readdirSync(p)) makePrivate(path.join(p, entry));
}

/**
 * Checks the folder, creates it (or takes a reused one: its lock first, then
 * its owned entries cleared but for `keep`), and returns the run's handle.
 * Throws WorkdirError (exit 2) before writing anything when the folder is refused.
 */
export function openWorkdir(o: WorkdirOptions): Workdir {
  const why = refusal(o);
  if (why) throw new WorkdirError(why);
  const dir = realPath(o.dir);
  const shown = o.shown ?? o.dir;
  const keep = o.keep ?? [];
  const createdParents: string[] = [];
  let created = false;
  try {
    if (!fs.existsSync(dir)) {
      const parents: string[] = [];
      for (let d = path.dirname(dir); !fs.existsSync(d); d = path.dirname(d)) parents.unshift(d);
      for (const d of parents) {
        fs.mkdirSync(d, { mode: 0o700 });
        createdParents.push(d);
      }
      try {
        fs.mkdirSync(dir, { mode: 0o700 });
        created = true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
        // Another run made it this instant: it must hold the marker (or that run's lock).
        const again = refusal(o);
        if (again) throw new WorkdirError(again);
      }
    }
    acquireLock(o, dir, shown);
  } catch (e) {
    if (created) fs.rmSync(dir, { recursive: true, force: true });
    for (const d of [...createdParents].reverse()) fs.rmSync(d, { recursive: true, force: true });
    if (e instanceof WorkdirError) throw e;
    throw new WorkdirError(fileSystemMessage(e, dir) ?? `cannot create ${shown}: ${(e as Error).message}`);
  }
  const keptAtStart = new Set(keep.filter((k) => fs.existsSync(path.join(dir, k))));
  let open = true;
  const run: OpenRun & { finishRun(): void } = {
    tool: o.tool,
    children: new Set(),
    interrupted: false,
    abort() {
      if (!open) return undefined;
      open = false;
      let removed: string | undefined;
      if (created) {
        fs.rmSync(dir, { recursive: true, force: true });
        let outermost = dir;
        for (const d of [...createdParents].reverse()) {
          try {
            fs.rmdirSync(d);
            outermost = d;
          } catch {
            break; // another run put something there since: not ours to remove
          }
        }
        removed = `${outermost}, which this run created`;
      } else {
        const made = keep.filter((k) => !keptAtStart.has(k));
        for (const name of o.owned) clearExcept(path.join(dir, name), name, keep.filter((k) => keptAtStart.has(k)));
        for (const k of made) fs.rmSync(path.join(dir, k), { recursive: true, force: true });
        fs.rmSync(path.join(dir, LOCK), { force: true });
        removed = `what this run wrote in ${shown} (${o.owned.join(", ")})`;
      }
      this.finishRun();
      return removed;
    },
    finishRun() {
      openRuns.delete(run);
      privateUmask(false);
      if (o.handleSignals) watchSignals(false, o.stderr);
    },
  };
  openRuns.add(run);
  privateUmask(true);
  if (o.handleSignals) watchSignals(true, o.stderr);
  try {
    if (created) {
      fs.writeFileSync(path.join(dir, MARKER), `${JSON.stringify({ tool: o.tool, format: FORMAT, created: new Date().toISOString(), checkout: realPath(o.checkout) }, null, 1)}\n`, { mode: 0o600 });
    } else {
      for (const name of o.owned) clearExcept(path.join(dir, name), name, keep);
    }
  } catch (e) {
    run.abort();
    throw new WorkdirError(fileSystemMessage(e, dir) ?? `cannot prepare ${shown}: ${(e as Error).message}`);
  }

  return {
    dir,
    created,
    get interrupted() {
      return run.interrupted;
    },
    run(bin, args, options) {
      const started = Date.now();
      if (run.interrupted) return new Promise<ChildResult>(() => undefined);
      return new Promise<ChildResult>((resolve) => {
        const child = spawn(bin, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
        run.children.add(child);
        let stdout = "";
        let stderr = "";
        child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
        child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
        const timer = setTimeout(() => {
          stderr += `\n[killed after ${options.timeoutMs} ms]`;
          child.kill("SIGKILL");
        }, options.timeoutMs);
        const settle = (r: ChildResult) => {
          clearTimeout(timer);
          run.children.delete(child);
          // Interrupted: the signal handler finishes the run; the caller must not go on.
          if (!run.interrupted) resolve(r);
        };
        child.on("error", (e) => settle({ code: null, stdout, stderr: `${stderr}\n${e.message}`, ms: Date.now() - started }));
        child.on("close", (code) => settle({ code, stdout, stderr, ms: Date.now() - started }));
      });
    },
    finish() {
      if (!open) return;
      open = false;
      makePrivate(dir);
      fs.rmSync(path.join(dir, LOCK), { force: true });
      run.finishRun();
    },
    abort: () => run.abort(),
  };
}
