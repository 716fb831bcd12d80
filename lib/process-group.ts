// Terraform in a process group of its own, ended whole: a provider plugin Terraform started must not outlive it.
// A Terraform killed (a timeout's SIGKILL) or stopped while a provider was still starting leaves that provider
// running, reparented to init; so every Terraform our commands start leads a group (a session: Node's `detached`),
// and the moment it exits, the group left behind it gets SIGKILL. Providers ignore SIGINT (go-plugin's design);
// SIGTERM ends a serving one, but the orphan found after a CI run ignored it; nothing can ignore SIGKILL.
//
// With a controlling terminal (a person at it), a session of its own would take the terminal from Terraform: a
// credential_process that asks for an MFA code on /dev/tty could not. There Terraform stays in the command's group
// (a Ctrl-C reaches it from the terminal, as before); a timeout or the command's exit kills its process tree (read
// from /proc), and when it exits, a `terraform-provider-*` it left orphaned in its folder is killed. The blocking
// runs (deploy --plan's Terraform, the cdktf CLI) use that last defence alone, once they return (private-tmp.ts).
//
// Signals: a Ctrl-C at the terminal no longer reaches a Terraform in a group of its own, so the command passes
// SIGINT, SIGTERM and SIGHUP on to it. A command that handles them itself (plan-check's folder, migrate-state's
// abort) stops its Terraform its own way: then this passes nothing (one signal each, not two: a second interrupt
// makes Terraform quit at once, lock held or not). A command without a handler of its own: the signal goes to
// each Terraform; once they have all ended (their groups killed), the command dies of the signal, as it would have.
// When the command's process exits, every group still running is killed, but those marked `letFinish`
// (migrate-state's push, and the lock it is pushed under), which must end on their own.
import { ChildProcess, SpawnOptions, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";

export interface GroupSpawnOptions extends SpawnOptions {
  /**
   * Never stopped by this module but when the run ends: no signal passed on, not killed when the command exits.
   * @default false
   */
  readonly letFinish?: boolean;
}

const PASSED_ON = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/** The runs not ended, by their leader's pid (the group's id when `grouped`). */
const live = new Map<number, { readonly child: ChildProcess; readonly letFinish: boolean; readonly grouped: boolean }>();

let terminal: boolean | undefined;
/** Whether this process has a controlling terminal (opening /dev/tty fails with ENXIO without one). */
export function hasControllingTerminal(): boolean {
  if (terminal === undefined) {
    try {
      fs.closeSync(fs.openSync("/dev/tty", "r"));
      terminal = true;
    } catch {
      terminal = false;
    }
  }
  return terminal;
}

/** What `ZIVOHEALTH_TERRAFORM_GROUP` may say: `auto` (the default) or `always`. */
export const TERRAFORM_GROUP_VALUES = ["auto", "always"] as const;

/**
 * Whether a Terraform gets a process group (a session) of its own: `ZIVOHEALTH_TERRAFORM_GROUP=always` gives it
 * one even at a terminal (nothing it starts can prompt then); `auto` (unset) only without a controlling terminal.
 */
export function terraformGetsGroup(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.ZIVOHEALTH_TERRAFORM_GROUP || "auto";
  if (!(TERRAFORM_GROUP_VALUES as readonly string[]).includes(value)) {
    throw new Error(`ZIVOHEALTH_TERRAFORM_GROUP must be one of ${TERRAFORM_GROUP_VALUES.join(", ")} (got ${JSON.stringify(value)})`);
  }
  return value === "always" || !hasControllingTerminal();
}

/** /proc/<pid>/stat's parent pid and short name (comm: 15 characters); undefined once gone. */
function stat(pid: number): { ppid: number; comm: string } | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = text.lastIndexOf(")");
    return { comm: text.slice(text.indexOf("(") + 1, close), ppid: Number(text.slice(close + 2).split(" ")[1]) };
  } catch {
    return undefined;
  }
}

const pids = (): number[] => fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p)).map(Number);

/** `pid` and every process below it, parents first. */
function tree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const p of pids()) {
    const s = stat(p);
    if (s) children.set(s.ppid, [...(children.get(s.ppid) ?? []), p]);
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]) ?? []));
  return out;
}

/** Sends `signal` to the process group `pgid` (a run kept in the command's group: to its tree); false when no process is left in it. */
export function signalGroup(pgid: number | undefined, signal: NodeJS.Signals): boolean {
  if (pgid === undefined) return false;
  if (live.get(pgid)?.grouped === false) return tree(pgid).filter((p) => kill(p, signal)).length > 0;
  return kill(-pgid, signal); // false on ESRCH: the group is empty
}

function kill(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** This process's ancestors, init included: where an orphan of a process we started is reparented (init, or a subreaper above us). */
function ancestors(): Set<number> {
  const out = new Set<number>([1]);
  for (let p = process.ppid; p > 1 && !out.has(p); p = stat(p)?.ppid ?? 1) out.add(p);
  return out;
}

/**
 * Kills (SIGKILL) what a Terraform kept in the command's group left behind: the `terraform-provider-*` processes
 * working in `dir` (its real path) that are orphans (their parent init or one of this process's ancestors, a
 * subreaper). A provider whose parent lives (another run's Terraform, OpenTofu's `tofu`, whatever its name) and
 * those working elsewhere are left alone. Also after the blocking runs (lib/workdir/private-tmp.ts).
 */
export function killOrphanedProviders(dir: string): void {
  const cwd = fs.existsSync(dir) ? fs.realpathSync(dir) : path.resolve(dir);
  const adopters = ancestors();
  for (const p of pids()) {
    const s = stat(p);
    if (!s || !s.comm.startsWith("terraform-provi") || !adopters.has(s.ppid) || stat(s.ppid)?.comm === "terraform") continue;
    try {
      if (fs.readlinkSync(`/proc/${p}/cwd`).replace(/ \(deleted\)$/, "") === cwd) kill(p, "SIGKILL");
    } catch {
      // gone, or not ours to read
    }
  }
}

/**
 * Spawns `bin` as the leader of a new process group (options as `spawn`'s). When it exits, the rest of its group
 * is killed (SIGKILL), before any 'exit' or 'close' listener of the caller runs. With a controlling terminal it
 * stays in the command's group (unless `detached` is asked for): see the top of this file.
 */
export function spawnGroup(bin: string, args: readonly string[], options: GroupSpawnOptions): ChildProcess {
  const { letFinish, ...spawnOptions } = options;
  const grouped = options.detached === true || terraformGetsGroup();
  const child = spawn(bin, args, { ...spawnOptions, detached: grouped });
  const pgid = child.pid;
  if (pgid === undefined) return child; // not started: 'error' follows
  live.set(pgid, { child, letFinish: letFinish === true, grouped });
  listen();
  const cwd = path.resolve(String(options.cwd ?? process.cwd()));
  child.once("exit", () => {
    // The leader is reaped, but its pid cannot be reused as a group id while a process of its group lives.
    if (grouped) signalGroup(pgid, "SIGKILL");
    live.delete(pgid);
    if (!grouped) killOrphanedProviders(cwd);
    listen();
  });
  return child;
}

let passing: Map<NodeJS.Signals, () => void> | undefined;
let onExit: (() => void) | undefined;

/**
 * The signal listeners (while a run in a group of its own is not ended; one kept in the command's group gets its
 * signals from the terminal) and the exit hook (while any run is): on only then, as a listener changes how the process dies.
 */
function listen(): void {
  const grouped = [...live.values()].some((g) => g.grouped);
  if (grouped && !passing) {
    passing = new Map(PASSED_ON.map((s) => [s, () => passOn(s)]));
    for (const [s, f] of passing) process.on(s, f);
  } else if (!grouped && passing) {
    for (const [s, f] of passing) process.removeListener(s, f);
    passing = undefined;
  }
  if (live.size > 0 && !onExit) {
    onExit = () => {
      for (const [pgid, g] of live) if (!g.letFinish) signalGroup(pgid, "SIGKILL");
    };
    process.on("exit", onExit);
  } else if (live.size === 0 && onExit) {
    process.removeListener("exit", onExit);
    onExit = undefined;
  }
}

let dying: NodeJS.Signals | undefined;

function passOn(signal: NodeJS.Signals): void {
  const ours = passing?.get(signal);
  // The command handles it: it stops its Terraform itself.
  if (process.listeners(signal).some((l) => l !== ours)) return;
  const running = [...live.values()].filter((g) => g.grouped && !g.letFinish);
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
