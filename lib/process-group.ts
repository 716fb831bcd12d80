// Terraform in a process group of its own, ended whole: a provider plugin Terraform started must not outlive it.
// A Terraform killed (a timeout's SIGKILL) or stopped while a provider was still starting leaves that provider
// running, reparented to init; so every Terraform our commands start leads a group (a session: Node's `detached`),
// and the moment it exits, the group left behind it gets SIGKILL. Providers ignore SIGINT (go-plugin's design);
// SIGTERM ends a serving one, but the orphan found after a CI run ignored it; nothing can ignore SIGKILL.
//
// Signals: a Ctrl-C at the terminal no longer reaches a Terraform in a group of its own, so the command passes
// SIGINT, SIGTERM and SIGHUP on to it. A command that handles them itself (plan-check's folder, migrate-state's
// abort) stops its Terraform its own way: then this passes nothing (one signal each, not two: a second interrupt
// makes Terraform quit at once, lock held or not). A command without a handler of its own: the signal goes to
// each Terraform; once they have all ended (their groups killed), the command dies of the signal, as it would have.
// When the command's process exits, every group still running is killed, but those marked `letFinish`
// (migrate-state's push, and the lock it is pushed under), which must end on their own.
import { ChildProcess, SpawnOptions, spawn } from "child_process";

export interface GroupSpawnOptions extends SpawnOptions {
  /**
   * Never stopped by this module but when the run ends: no signal passed on, not killed when the command exits.
   * @default false
   */
  readonly letFinish?: boolean;
}

const PASSED_ON = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/** The groups running, by their leader's pid (the group's id). */
const live = new Map<number, { readonly child: ChildProcess; readonly letFinish: boolean }>();

/** Sends `signal` to the process group `pgid`; false when no process is left in it. */
export function signalGroup(pgid: number | undefined, signal: NodeJS.Signals): boolean {
  if (pgid === undefined) return false;
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // ESRCH: the group is empty
  }
}

/**
 * Spawns `bin` as the leader of a new process group (options as `spawn`'s; `detached` is always on). When it
 * exits, the rest of its group is killed (SIGKILL), before any 'exit' or 'close' listener of the caller runs.
 */
export function spawnGroup(bin: string, args: readonly string[], options: GroupSpawnOptions): ChildProcess {
  const { letFinish, ...spawnOptions } = options;
  const child = spawn(bin, args, { ...spawnOptions, detached: true });
  const pgid = child.pid;
  if (pgid === undefined) return child; // not started: 'error' follows
  live.set(pgid, { child, letFinish: letFinish === true });
  listen();
  child.once("exit", () => {
    // The leader is reaped, but its pid cannot be reused as a group id while a process of its group lives.
    signalGroup(pgid, "SIGKILL");
    live.delete(pgid);
    listen();
  });
  return child;
}

let passing: Map<NodeJS.Signals, () => void> | undefined;
let onExit: (() => void) | undefined;

/** The signal listeners and the exit hook: on while a group runs, off after (a listener changes how the process dies). */
function listen(): void {
  if (live.size > 0 && !passing) {
    passing = new Map(PASSED_ON.map((s) => [s, () => passOn(s)]));
    for (const [s, f] of passing) process.on(s, f);
    onExit = () => {
      for (const [pgid, g] of live) if (!g.letFinish) signalGroup(pgid, "SIGKILL");
    };
    process.on("exit", onExit);
  } else if (live.size === 0 && passing) {
    for (const [s, f] of passing) process.removeListener(s, f);
    process.removeListener("exit", onExit!);
    passing = undefined;
    onExit = undefined;
  }
}

let dying: NodeJS.Signals | undefined;

function passOn(signal: NodeJS.Signals): void {
  const ours = passing?.get(signal);
  // The command handles it: it stops its Terraform itself.
  if (process.listeners(signal).some((l) => l !== ours)) return;
  const running = [...live.values()].filter((g) => !g.letFinish);
  // A second Ctrl-C goes on too: Terraform takes it as "stop now".
  for (const g of running) g.child.kill(signal);
  if (dying) return;
  dying = signal;
  const ended = running.map((g) => new Promise<void>((resolve) => (g.child.exitCode !== null || g.child.signalCode !== null ? resolve() : g.child.once("exit", () => resolve()))));
  void Promise.all(ended).then(() => {
    // Every Terraform has ended and its group is killed: die of the signal, as without a listener.
    for (const [s, f] of passing ?? []) process.removeListener(s, f);
    passing = undefined;
    process.kill(process.pid, signal);
  });
}
