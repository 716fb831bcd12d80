// The runs open in this process: a SIGINT/SIGTERM stops their child processes and removes
// what they made; a private umask while any is open.
import { ChildProcess } from "child_process";

// ---------------------------------------------------------------- open runs, signals, umask

export interface OpenRun {
  readonly tool: string;
  /** Its folder (absolute, symbolic links resolved). */
  readonly dir: string;
  readonly children: Set<ChildProcess>;
  interrupted: boolean;
  abort(): string | undefined;
}

export const openRuns = new Set<OpenRun>();
/** Folders whose nested runs were stopped (Workdir.stopNested): a run opening inside one is refused. */
export const stoppedWithin = new Set<string>();
let signalRuns = 0;
let savedUmask: number | undefined;
let umaskUsers = 0;

export function privateUmask(on: boolean): void {
  if (on) {
    if (umaskUsers++ === 0) savedUmask = process.umask(0o077);
  } else if (--umaskUsers === 0 && savedUmask !== undefined) {
    process.umask(savedUmask);
    savedUmask = undefined;
  }
}

const exitCodes: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Stops runs: their children (SIGTERM; SIGKILL for those left after 10 s; each leads a process group, killed
 * whole as it exits: ../process-group.ts), then what each made.
 * Returns a note per run: `<tool>: stopped 1 child process(es) (pid 9204); removed ...`.
 */
export async function stopRuns(runs: readonly OpenRun[]): Promise<string[]> {
  for (const r of runs) r.interrupted = true;
  const own = new Map(runs.map((r) => [r, [...r.children]]));
  const children = [...own.values()].flat();
  const exited = children.map((c) => new Promise<void>((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : c.once("exit", () => resolve()))));
  for (const c of children) c.kill("SIGTERM");
  const all = Promise.all(exited);
  const within = (ms: number) => Promise.race([all.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
  if (!(await within(10_000))) {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await within(5_000);
  }
  return runs.map((r) => {
    const removed = r.abort();
    const mine = own.get(r)!;
    const stopped = mine.length ? `stopped ${mine.length} child process(es) (pid ${mine.map((c) => c.pid).join(", ")}); ` : "";
    return `${r.tool}: ${stopped}${removed ? `removed ${removed}` : "nothing of this run to remove"}`;
  });
}

async function onSignal(signal: NodeJS.Signals, stderr: (t: string) => void): Promise<void> {
  for (const note of await stopRuns([...openRuns])) stderr(note.replace(/^([^:]+): /, `$1: interrupted (${signal}): `) + "\n");
  process.exit(exitCodes[signal] ?? 1);
}

let listeners: { [s: string]: () => void } = {};

export function watchSignals(on: boolean, stderr: (t: string) => void): void {
  if (on) {
    if (signalRuns++ > 0) return;
    let handling = false;
    for (const s of ["SIGINT", "SIGTERM"] as const) {
      listeners[s] = () => {
        if (handling) return; // a second Ctrl-C while cleaning up
        handling = true;
        void onSignal(s, stderr);
      };
      process.on(s, listeners[s]);
    }
  } else if (--signalRuns === 0) {
    for (const [s, f] of Object.entries(listeners)) process.removeListener(s, f);
    listeners = {};
  }
}
