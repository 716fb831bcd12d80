// The options and the handle of a command's own output folder (see ./index.ts).
import * as os from "os";
import * as path from "path";

/** The file that marks a folder as a tool's own: `{ tool, format, created, checkout }`. */
export const MARKER = ".zivohealth-workdir.json";
/** The lock file of a run in progress: `{ pid, host, started, command, processStart }`. */
export const LOCK = ".zivohealth-workdir.lock";
export const FORMAT = 1;
/**
 * Where a reused folder's earlier results wait while a run makes its own: deleted when the run
 * finishes, put back when it fails or is interrupted (a failed run never costs the earlier results).
 */
export const EARLIER = ".zivohealth-workdir.earlier";
/**
 * The run's own temporary folder: TMPDIR (and TMP, TEMP) of every child process it starts, so what they
 * leave there (a Terraform provider stopped by an interrupt leaves its plugin socket) goes with the run,
 * never into the user's TMPDIR. Made at the first child; removed when the run ends, however it ends.
 */
export const TMP = ".zivohealth-tmp";
/**
 * Longest TMPDIR a Terraform provider can start in: it listens on a Unix socket `<TMPDIR>/plugin<up to
 * 10 digits>` (go-plugin), and Linux takes a socket path of 107 bytes at most (108 with the NUL).
 */
export const MAX_TMP_BYTES = 107 - "/plugin4294967295".length;

/** The caller's TMPDIR, as os.tmpdir() reads it, from `env`: absolute (a relative one against this process's folder, as Node reads it). */
export const callerTmpOf = (env: NodeJS.ProcessEnv): string => path.resolve(env.TMPDIR || os.tmpdir());

/** The start of a private temporary folder's name in the caller's TMPDIR: `zivohealth-<tool>-`, then mkdtemp's six characters. */
export const privateTmpPrefix = (tool: string) => `zivohealth-${tool.replace(/[^\w-]+/g, "_")}-`;

/** A folder the tool may not use, or cannot: reported on stderr, exit code 2. */
export class WorkdirError extends Error {}

export interface WorkdirInput {
  /** The flag that named it (`--state`), for messages. */
  readonly flag: string;
  /** Its path (a file or a folder), absolute or relative to the process's folder. */
  readonly path: string;
}

export interface ReservedFolder {
  /** A folder refused with everything inside it, and every folder above it. */
  readonly path: string;
  /** Why, for the message (`cdktf synth replaces what is there`). */
  readonly why: string;
}

export interface WorkdirOptions {
  /** The tool that owns the folder: in the marker, the lock and every message (`plan-check`). */
  readonly tool: string;
  /** The folder (absolute). */
  readonly dir: string;
  /** How the user named it (`--out x`), for messages. @default - `dir` */
  readonly shown?: string;
  /** The project's checkout: refused itself, and, outside git, the only place inside it allowed is `cdktf.out/`. */
  readonly checkout: string;
  /** Inputs of the run: the folder may neither hold one nor sit inside a folder given as one. @default - none */
  readonly inputs?: readonly WorkdirInput[];
  /** Folders refused with what is inside and above them. @default - none */
  readonly reserved?: readonly ReservedFolder[];
  /**
   * The top-level names the tool writes in the folder. A reused folder's are
   * set aside when a run starts (but for `keep`): deleted when it finishes, put
   * back when it fails. Other entries are never touched.
   */
  readonly owned: readonly string[];
  /**
   * Top-level files that hold the only copy of something (migrate-state's
   * `original.tfstate`): never set aside or deleted; a reused folder holding one
   * is refused, `what` saying what it is. @default - none
   */
  readonly backups?: readonly { readonly name: string; readonly what: string }[];
  /** Paths (relative to the folder, under an owned name) kept from one run to the next: caches. @default - none */
  readonly keep?: readonly string[];
  /**
   * The environment whose TMPDIR (default os.tmpdir(), made absolute) the run's children get their temporary folder in
   * where the run's folder is too deep for one (see Workdir.childEnv). @default process.env
   */
  readonly env?: NodeJS.ProcessEnv;
  /** Where notes go (a stale lock removed, an interrupt). */
  readonly stderr: (text: string) => void;
  /**
   * Stop on SIGINT and SIGTERM: stop the child processes, remove what the
   * run made, say so on stderr, exit 130 or 143. For a command's own process,
   * not for a library caller (a test) that has its own handlers. @default false
   */
  readonly handleSignals?: boolean;
}

/** What a child process did (the same shape as lib/terraform.ts's RunResult). */
export interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly timeoutMs: number;
}

export interface Workdir {
  /** The folder (absolute, symbolic links resolved). */
  readonly dir: string;
  /** This run created it (or a reused folder: it held the marker). */
  readonly created: boolean;
  /** A signal stopped the run: its children are stopped and what it made is being removed. */
  readonly interrupted: boolean;
  /**
   * `env` with TMPDIR, TMP and TEMP set to the run's temporary folder (the environment `run` gives its children),
   * made at the first call: `<dir>/.zivohealth-tmp`; or, where that path is too long for a provider's socket
   * (MAX_TMP_BYTES), a folder of the run's own (`zivohealth-<tool>-XXXXXX`) in the caller's TMPDIR (the options'
   * `env`'s), with the marker of ./private-tmp.ts (this process's pid, and each child `run` or `adopt` names), made after
   * removing the ones killed runs left there (a note each, on `stderr`). Removed by finish and abort (an interrupt's
   * too). Where that one is too long as well, the caller's TMPDIR itself, after a note on `stderr` (a TMPDIR over
   * MAX_TMP_BYTES there is refused when the folder opens).
   */
  childEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /**
   * Names `pid`, a process this run started itself with childEnv's TMPDIR (one outside `run`: migrate-state's lock
   * holder and push), in the marker of a temporary folder in the caller's TMPDIR, so no other run removes it while
   * that process lives (it may outlive this one). Nothing to do for one in the run's folder.
   */
  adopt(pid: number | undefined): void;
  /** Runs a child process (in `childEnv(options.env)`) that an interrupt stops; after an interrupt, its promise never settles. */
  run(bin: string, args: readonly string[], options: RunOptions): Promise<ChildResult>;
  /** The run succeeded: permissions made private, the temporary folder removed, the lock released; the files stay. */
  finish(): void;
  /**
   * The run failed: removes what it made (the folder itself if it created it, the temporary folder), puts back a
   * reused folder's earlier results, and releases the lock. Returns what was removed (to follow
   * "removed"), or undefined when the run had written nothing.
   */
  abort(): string | undefined;
  /**
   * Stops the runs of another command opened inside this folder in this process (migrate-state's
   * verification plans, plan-check's runs): their child processes (SIGTERM, SIGKILL 10 s later),
   * then what each made; a run that opens there afterwards is refused. Returns a note per run stopped.
   */
  stopNested(): Promise<string[]>;
}
