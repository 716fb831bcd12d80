// A command's own output folder (plan-check's, migrate-state's): it writes
// only into a folder it created, or one that holds its marker; it refuses,
// before writing anything, any other folder (the checkout, a folder that holds
// or sits inside an input, a source folder, cdktf.out/stacks, a file). One run
// at a time per folder (a lock naming its holder); private permissions; and on
// a failure or an interrupt (SIGINT, SIGTERM) it removes only what this run
// made, stopping the child processes it started first. A reused folder's earlier
// results are set aside while the run makes its own: deleted when it finishes,
// put back when it fails, so a failed run never costs them and never calls them its own.
// Its child processes get a temporary folder of the run's own (TMPDIR), which goes with the run (one in the
// caller's TMPDIR, marked and swept as ./private-tmp.ts says, where the folder is too deep for a provider's socket;
// the caller's TMPDIR itself, with a note, where even that one would be too long; a TMPDIR too long for any is refused).
//
//   const w = openWorkdir({ tool: "plan-check", dir, checkout, inputs, owned, keep, stderr });
//   const r = await w.run("terraform", ["plan"], { cwd, env, timeoutMs });  // stopped on an interrupt; its process group killed as it ends
//   w.childEnv(env);      // env with TMPDIR, TMP, TEMP the run's own (what run gives its children)
//   w.adopt(child.pid);   // a child started with childEnv outside run: named in the fallback folder's marker
//   w.finish();           // success: files stay, private; the temporary folder and the lock go
//   w.abort();            // failure: what this run made goes (earlier results back); returns what was removed
//   await w.stopNested(); // an interrupt: stops another command's runs opened inside this folder
import * as fs from "fs";
import * as path from "path";
import { signalGroup, spawnGroup } from "../process-group";
import { acquireLock } from "./lock";
import { ChildResult, EARLIER, FORMAT, LOCK, MARKER, TMP, Workdir, WorkdirError, WorkdirOptions } from "./options";
import { alive, makePrivateTmp, withTmp, writeOwner } from "./private-tmp";
import { fileSystemMessage, isWithin, realPath, refusal, tmpPlace } from "./refusal";
import { OpenRun, openRuns, privateUmask, stopRuns, stoppedWithin, watchSignals } from "./signals";

export * from "./options";
export { fileSystemMessage, realPath, refusal } from "./refusal";
export { runInPrivateTmp } from "./private-tmp";

// ---------------------------------------------------------------- the folder

/**
 * Removes `p` (relative `rel`), or, with `to`, moves it there; but for the `keep` paths under it.
 * Returns the relative paths removed or moved, in order.
 */
function clearExcept(p: string, rel: string, keep: readonly string[], to?: string): string[] {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    return [];
  }
  if (keep.includes(rel)) return [];
  if (!st.isDirectory() || !keep.some((k) => k.startsWith(`${rel}/`))) {
    if (to) {
      fs.mkdirSync(path.dirname(to), { recursive: true, mode: 0o700 });
      fs.renameSync(p, to);
    } else fs.rmSync(p, { recursive: true, force: true });
    return [rel];
  }
  return fs
    .readdirSync(p)
    .sort()
    .flatMap((entry) => clearExcept(path.join(p, entry), `${rel}/${entry}`, keep, to && path.join(to, entry)));
}

/** Moves what `from` holds back into `into`, entry by entry (what is there already stays: a cache); returns the relative paths moved. */
function putBack(from: string, into: string, rel = ""): string[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(from).sort();
  } catch {
    return [];
  }
  const back: string[] = [];
  for (const entry of entries) {
    const src = path.join(from, entry);
    const dst = path.join(into, entry);
    const r = rel ? `${rel}/${entry}` : entry;
    const there = fs.lstatSync(dst, { throwIfNoEntry: false });
    if (!there) {
      fs.renameSync(src, dst);
      back.push(r);
    } else if (there.isDirectory() && fs.lstatSync(src).isDirectory()) back.push(...putBack(src, dst, r));
  }
  fs.rmSync(from, { recursive: true, force: true });
  return back;
}

/** Paths for a message: the first eight, then how many more. */
const listed = (paths: readonly string[]) => (paths.length > 8 ? `${paths.slice(0, 8).join(", ")} and ${paths.length - 8} more` : paths.join(", "));

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
 * its owned entries set aside but for `keep`), and returns the run's handle.
 * Throws WorkdirError (exit 2) before writing anything when the folder is refused.
 */
export function openWorkdir(o: WorkdirOptions): Workdir {
  const why = refusal(o);
  if (why) throw new WorkdirError(why);
  const dir = realPath(o.dir);
  const shown = o.shown ?? o.dir;
  const stopped = [...stoppedWithin].find((d) => isWithin(dir, d));
  if (stopped) throw new WorkdirError(`${shown}: not opened: the run of ${stopped} that it belongs to was interrupted`);
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
  const earlier = path.join(dir, EARLIER);
  let open = true;
  // The children's temporary folder: in the run's folder, unless that path is too long for a provider's socket
  // (then one in the caller's TMPDIR, or that TMPDIR itself: refusal() has refused one too long for any).
  const tmpInFolder = path.join(dir, TMP);
  const place = tmpPlace(o, dir);
  let tmp: string | undefined;
  // A fallback folder's marker names this process and each process given the folder (`run`'s, `adopt`'s) while it lives.
  let tmpUsers: number[] = [];
  const makeTmp = (): string => {
    if (!open) throw new Error(`${shown}: the run is over: no temporary folder`);
    if (tmp) return tmp;
    if (typeof place === "string") throw new WorkdirError(place); // not reached: refusal() refused it
    if (place.in === "folder") {
      fs.mkdirSync(tmpInFolder, { mode: 0o700 });
      tmp = tmpInFolder;
    } else if (place.in === "own") {
      tmpUsers = [process.pid];
      tmp = makePrivateTmp(place.callerTmp, o.tool, o.stderr, tmpUsers); // marked: a next run removes it once these are gone
    } else {
      o.stderr(place.note);
      tmp = place.callerTmp; // the caller's: never removed
    }
    return tmp;
  };
  const childEnv = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv => withTmp(env, makeTmp());
  const adopt = (pid: number | undefined) => {
    if (!pid || !tmp || typeof place === "string" || place.in !== "own") return;
    // The processes that have ended leave it (this one stays): the marker stays short however many children a run starts.
    tmpUsers = [...tmpUsers.filter((p) => p === process.pid || alive(p)), pid];
    try {
      writeOwner(tmp, o.tool, tmpUsers);
    } catch {
      // Not written (a full disk): the marker keeps the pids it had.
    }
  };
  const removeTmp = () => {
    if (tmp && typeof place !== "string" && place.in !== "caller") fs.rmSync(tmp, { recursive: true, force: true });
    tmp = undefined;
  };
  const run: OpenRun & { finishRun(): void } = {
    tool: o.tool,
    dir,
    children: new Set(),
    interrupted: false,
    abort() {
      if (!open) return undefined;
      removeTmp();
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
        // Everything under the owned names but the caches found at the start is this run's: the earlier results are aside.
        const kept = keep.filter((k) => keptAtStart.has(k));
        const wrote = o.owned.flatMap((name) => clearExcept(path.join(dir, name), name, kept));
        const back = putBack(earlier, dir);
        fs.rmSync(path.join(dir, LOCK), { force: true });
        if (wrote.length) removed = `what this run wrote in ${shown} (${listed(wrote)})${back.length ? `, and put back the earlier run's results (${listed(back)})` : ""}`;
      }
      this.finishRun();
      return removed;
    },
    finishRun() {
      openRuns.delete(run);
      stoppedWithin.delete(dir);
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
      if (fs.lstatSync(tmpInFolder, { throwIfNoEntry: false })) {
        // A run killed (SIGKILL, a power loss) before it could remove its temporary folder: that run's, so ours to remove.
        fs.rmSync(tmpInFolder, { recursive: true, force: true });
        o.stderr(`note: ${shown}: removed the temporary folder ${TMP} of a run that did not finish\n`);
      }
      if (fs.existsSync(earlier)) {
        // A run set the earlier results aside and never finished (killed: its lock was stale): its files are incomplete.
        const left = o.owned.flatMap((name) => clearExcept(path.join(dir, name), name, keep));
        const back = putBack(earlier, dir);
        o.stderr(
          `note: ${shown}: a run that did not finish left its files there: removed them (${listed(left) || "none"}) and put back the results of the run before it (${listed(back) || "none"})\n`,
        );
      }
      for (const name of o.owned) clearExcept(path.join(dir, name), name, keep, path.join(earlier, name));
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
    childEnv,
    adopt,
    run(bin, args, options) {
      const started = Date.now();
      if (run.interrupted) return new Promise<ChildResult>(() => undefined);
      const env = childEnv(options.env);
      return new Promise<ChildResult>((resolve) => {
        // Its own process group, killed whole when it ends (../process-group.ts): no provider outlives it.
        const child = spawnGroup(bin, args, { cwd: options.cwd, env, stdio: ["ignore", "pipe", "pipe"] });
        run.children.add(child);
        adopt(child.pid);
        let stdout = "";
        let stderr = "";
        child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
        child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
        const timer = setTimeout(() => {
          stderr += `\n[killed after ${options.timeoutMs} ms]`;
          signalGroup(child.pid, "SIGKILL");
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
      removeTmp();
      open = false;
      fs.rmSync(earlier, { recursive: true, force: true });
      makePrivate(dir);
      fs.rmSync(path.join(dir, LOCK), { force: true });
      run.finishRun();
    },
    abort: () => run.abort(),
    stopNested() {
      stoppedWithin.add(dir);
      return stopRuns([...openRuns].filter((r) => r !== run && r.dir !== dir && isWithin(r.dir, dir)));
    },
  };
}
